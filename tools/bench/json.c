/* The JSON writer of anpr-bench (see json.h). */
#include "json.h"

#include <math.h>

void bench_json_init(bench_json *j, FILE *f)
{
    j->f = f;
    j->depth = 0;
    j->count[0] = 0;
}

static void put_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(f, "\\%c", *p);
        else if (*p < 0x20)
            fprintf(f, "\\u%04x", *p);
        else
            fputc(*p, f);
    }
    fputc('"', f);
}

/* The comma, newline and indent before a member, then its key. */
static void member(bench_json *j, const char *key)
{
    if (j->depth > 0) {
        fputs(j->count[j->depth]++ ? ",\n" : "\n", j->f);
        for (int i = 0; i < j->depth; i++) fputs("  ", j->f);
    }
    if (key) {
        put_string(j->f, key);
        fputs(": ", j->f);
    }
}

void bench_json_begin(bench_json *j, const char *key)
{
    member(j, key);
    fputc('{', j->f);
    if (j->depth + 1 < BENCH_JSON_DEPTH) j->count[++j->depth] = 0;
}

void bench_json_end(bench_json *j)
{
    int had = j->count[j->depth] > 0;
    if (j->depth > 0) j->depth--;
    if (had) {
        fputc('\n', j->f);
        for (int i = 0; i < j->depth; i++) fputs("  ", j->f);
    }
    fputc('}', j->f);
    if (j->depth == 0) fputc('\n', j->f);
}

void bench_json_str(bench_json *j, const char *key, const char *value)
{
    member(j, key);
    put_string(j->f, value);
}

void bench_json_num(bench_json *j, const char *key, double value)
{
    member(j, key);
    if (isfinite(value))
        fprintf(j->f, "%.6g", value);
    else
        fputs("null", j->f);
}

void bench_json_uint(bench_json *j, const char *key, uint64_t value)
{
    member(j, key);
    fprintf(j->f, "%llu", (unsigned long long)value);
}
