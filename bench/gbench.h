/*
 * A C face for Google Benchmark: the benchmarks are C, the library is C++,
 * and this shim (gbench_shim.cc) is the only C++ in the project.
 *
 *   static void bench_fold(gbench_state *st, void *arg) {
 *       while (gbench_keep_running(st)) { ... }
 *       gbench_set_items_processed(st, gbench_iterations(st) * n);
 *   }
 *   int main(int argc, char **argv) {
 *       gbench_register("fold", bench_fold, NULL);
 *       return gbench_main(argc, argv);
 *   }
 */
#ifndef ANPR_BENCH_GBENCH_H
#define ANPR_BENCH_GBENCH_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct gbench_state gbench_state;
typedef void (*gbench_fn)(gbench_state *st, void *arg);

/* Register a benchmark; name is copied. arg is passed to fn on every run. */
void gbench_register(const char *name, gbench_fn fn, void *arg);
/* Run the registered benchmarks with Google Benchmark's command line; returns the exit status. */
int gbench_main(int argc, char **argv);

/* The timing loop: true while Google Benchmark wants another iteration. */
int gbench_keep_running(gbench_state *st);
int64_t gbench_iterations(const gbench_state *st);
void gbench_set_items_processed(gbench_state *st, int64_t items);
void gbench_set_bytes_processed(gbench_state *st, int64_t bytes);
/* A named counter shown next to the timings (e.g. "bytes_per_read"). */
void gbench_counter(gbench_state *st, const char *name, double value);
/* Exclude set-up work inside the loop from the timing. */
void gbench_pause(gbench_state *st);
void gbench_resume(gbench_state *st);

#ifdef __cplusplus
}
#endif

#endif
