/*
 * A progress bar for anpr-bench's long phases, drawn on stderr only when it
 * is a terminal (so logs and pipes stay clean), at most ten times a second.
 */
#ifndef ANPR_BENCH_PROGRESS_H
#define ANPR_BENCH_PROGRESS_H

#include <stdint.h>

typedef struct bench_progress {
    const char *label;
    uint64_t total;
    double started_ms, drawn_ms;
    int enabled;
} bench_progress;

/* enabled: draw at all (0 for --no-progress); total may be 0 for "unknown". */
void bench_progress_start(bench_progress *p, const char *label, uint64_t total, int enabled);
void bench_progress_update(bench_progress *p, uint64_t done);
/* Clear the bar's line. */
void bench_progress_end(bench_progress *p);

#endif
