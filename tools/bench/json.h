/*
 * A small streaming JSON writer for anpr-bench's report: objects nest, keys
 * and commas are placed for the caller, strings are escaped, numbers that
 * are not finite become null. Errors of the stream are left to ferror().
 */
#ifndef ANPR_BENCH_JSON_H
#define ANPR_BENCH_JSON_H

#include <stdint.h>
#include <stdio.h>

#define BENCH_JSON_DEPTH 16

typedef struct bench_json {
    FILE *f;
    int depth;
    int count[BENCH_JSON_DEPTH]; /* members written at each level, for the commas */
} bench_json;

void bench_json_init(bench_json *j, FILE *f);
/* key is NULL for the top-level object. */
void bench_json_begin(bench_json *j, const char *key);
void bench_json_end(bench_json *j);
void bench_json_str(bench_json *j, const char *key, const char *value);
void bench_json_num(bench_json *j, const char *key, double value);
void bench_json_uint(bench_json *j, const char *key, uint64_t value);

#endif
