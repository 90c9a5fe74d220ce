/*
 * What an anpr-bench run found, printed as a table for people and written as
 * JSON for docs/performance.md (bench/perfdoc.mjs renders it), with the
 * projection onto a deployment.
 */
#ifndef ANPR_BENCH_REPORT_H
#define ANPR_BENCH_REPORT_H

#include <stdio.h>

#include "phases.h"

typedef struct bench_deployment {
    double reads_per_day;    /* national: 60,000,000 */
    double retention_days;   /* 365 */
} bench_deployment;

typedef struct bench_projection {
    double bytes_per_read;
    double disk_bytes;          /* every read of the retention period */
    double merge_space_bytes;   /* one day's parts held next to its segment while it merges */
    double ingest_headroom;     /* measured rate / the deployment's mean rate */
    double ingest_headroom_peak;/* measured rate / the busiest hour's rate */
    double queries_per_s[BENCH_SHAPES]; /* one core, warm, 1000 / mean ms */
} bench_projection;

typedef struct bench_report {
    const char *scenario;
    char command[1024];
    const char *version;
    bench_machine machine;
    synth_config workload;
    uint64_t commit_every;
    const char *dir;
    int has_ingest, has_queries, has_expire;
    bench_ingest_result ingest;
    bench_bytes bytes;
    bench_query_result queries;
    bench_expire_result expire;
    bench_deployment deploy;
    bench_projection projection;
} bench_report;

void bench_project(bench_report *r);
void bench_print_table(FILE *f, const bench_report *r);
void bench_write_json(FILE *f, const bench_report *r);

#endif
