// The public headers compile as C++ (extern "C", no C-only constructs) and link.
#include <anpr/anpr.h>
#include <anpr/segment.h>

#include <cstdio>

int main()
{
    anpr_store_options opts = ANPR_STORE_OPTIONS_INIT;
    if (opts.version != ANPR_STORE_OPTIONS_VERSION) return 1;
    std::printf("1 passed, 0 failed (C++ headers, %s)\n", anpr_strerror(ANPR_ECORRUPT));
    return 0;
}
