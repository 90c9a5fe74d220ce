/*
 * What anpr-bench measures with: a monotonic clock, the process's memory,
 * latency percentiles, and a description of the machine for the report.
 */
#ifndef ANPR_BENCH_MEASURE_H
#define ANPR_BENCH_MEASURE_H

#include <stddef.h>

/* Milliseconds on the monotonic clock. */
double bench_now_ms(void);

/* Resident set now, and the process's peak so far, in MiB. */
double bench_rss_mb(void);
double bench_rss_peak_mb(void);

/* Latency summary of n samples (ms). */
typedef struct bench_latency {
    size_t samples;
    double p50, p95, p99, mean, max;
    double mean_reads;  /* reads a query returned, on average */
} bench_latency;

/* Sorts ms in place; reads_total is the sum of the reads the samples returned. */
void bench_latency_of(bench_latency *out, double *ms, size_t n, double reads_total);

/* The machine, for the report: "2 CPUs (AMD EPYC ...), 23 GiB, Linux 6.1". */
typedef struct bench_machine {
    char cpu[128];
    long cpus;
    double memory_gib;
    char kernel[160];
} bench_machine;

void bench_machine_get(bench_machine *m);

#endif
