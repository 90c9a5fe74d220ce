/*
 * The public headers compile on their own as strict ISO C99 (-pedantic-errors
 * in tests/meson.build), and the version macros agree with the library.
 */
#include <anpr/anpr.h>
#include <anpr/segment.h>
#include <stdio.h>

int main(void)
{
    anpr_store_options opts = ANPR_STORE_OPTIONS_INIT;
    if (opts.version != ANPR_STORE_OPTIONS_VERSION) return 1;
    if (anpr_version_number() != ANPR_VERSION_NUMBER) {
        printf("header says %u, library says %u\n", (unsigned)ANPR_VERSION_NUMBER, anpr_version_number());
        return 1;
    }
    printf("1 passed, 0 failed (C99 headers, library %s)\n", anpr_version_string());
    return 0;
}
