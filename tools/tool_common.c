/* Store opening, listing and formatting shared by anpr and anpr-dump. */
#define _GNU_SOURCE
#include "tool_common.h"

#include <stdio.h>
#include <time.h>

void tool_format_time(char *buf, size_t size, int64_t ms)
{
    time_t secs = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    size_t n = strftime(buf, size, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf + n, size - n, ".%03dZ", (int)(ms % 1000));
}

void tool_print_degrees(int32_t e7)
{
    int64_t x = e7;
    if (x < 0) {
        putchar('-');
        x = -x;
    }
    printf("%lld.%07lld", (long long)(x / 10000000), (long long)(x % 10000000));
}

int tool_open_store(anpr_store **out, const char *who, const char *path, unsigned flags)
{
    char err[512] = "";
    anpr_store_options o = ANPR_STORE_OPTIONS_INIT;
    o.flags = flags;
    o.errbuf = err;
    o.errbuf_size = sizeof err;
    int rc = anpr_store_open(out, path, &o);
    if (rc != ANPR_OK) fprintf(stderr, "%s: %s\n", who, err[0] ? err : anpr_strerror(rc));
    return rc;
}

int tool_list_store(anpr_store *s, const char *who, const char *path, anpr_stats *st,
                    anpr_file_info **files, size_t *n)
{
    *files = NULL;
    *n = 0;
    int rc = anpr_store_stats(s, st);
    if (rc == ANPR_OK) rc = anpr_store_files(s, files, n);
    if (rc != ANPR_OK) fprintf(stderr, "%s: %s: %s\n", who, path, anpr_errmsg(s));
    return rc;
}
