/* The progress bar of anpr-bench (see progress.h). */
#include "progress.h"

#include <stdio.h>
#include <unistd.h>

#include "measure.h"

#define WIDTH 30

void bench_progress_start(bench_progress *p, const char *label, uint64_t total, int enabled)
{
    p->label = label;
    p->total = total;
    p->started_ms = bench_now_ms();
    p->drawn_ms = 0;
    p->enabled = enabled && isatty(STDERR_FILENO);
    bench_progress_update(p, 0);
}

void bench_progress_update(bench_progress *p, uint64_t done)
{
    if (!p->enabled) return;
    double now = bench_now_ms();
    if (done != 0 && done < p->total && now - p->drawn_ms < 100) return;
    p->drawn_ms = now;
    double elapsed = (now - p->started_ms) / 1e3;
    if (p->total == 0) {
        fprintf(stderr, "\r%-24s %8.1f s", p->label, elapsed);
    } else {
        double f = done >= p->total ? 1.0 : (double)done / (double)p->total;
        char bar[WIDTH + 1];
        int full = (int)(f * WIDTH);
        for (int i = 0; i < WIDTH; i++) bar[i] = i < full ? '#' : '.';
        bar[WIDTH] = '\0';
        double eta = f > 0.01 ? elapsed * (1 - f) / f : 0;
        fprintf(stderr, "\r%-24s [%s] %5.1f%%  %6.1f s  eta %6.1f s", p->label, bar, f * 100, elapsed, eta);
    }
    fflush(stderr);
}

void bench_progress_end(bench_progress *p)
{
    if (!p->enabled) return;
    fprintf(stderr, "\r%-80s\r", "");
    fflush(stderr);
}
