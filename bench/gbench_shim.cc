// The C++ side of bench/gbench.h: wraps benchmark::State for C callers.
#include "gbench.h"

#include <benchmark/benchmark.h>

struct gbench_state {
    benchmark::State *st;
};

extern "C" {

void gbench_register(const char *name, gbench_fn fn, void *arg)
{
    benchmark::RegisterBenchmark(name, [fn, arg](benchmark::State &st) {
        gbench_state s{&st};
        fn(&s, arg);
    });
}

int gbench_main(int argc, char **argv)
{
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}

int gbench_keep_running(gbench_state *s)
{
    // KeepRunning() is the loop protocol a C caller can drive (the range-for
    // iterator cannot be stored); each of our iterations does thousands of
    // items, so its small extra cost per iteration does not show.
    return s->st->KeepRunning();
}

int64_t gbench_iterations(const gbench_state *s) { return static_cast<int64_t>(s->st->iterations()); }
void gbench_set_items_processed(gbench_state *s, int64_t items) { s->st->SetItemsProcessed(items); }
void gbench_set_bytes_processed(gbench_state *s, int64_t bytes) { s->st->SetBytesProcessed(bytes); }
void gbench_counter(gbench_state *s, const char *name, double value) { s->st->counters[name] = value; }
void gbench_pause(gbench_state *s) { s->st->PauseTiming(); }
void gbench_resume(gbench_state *s) { s->st->ResumeTiming(); }

}  // extern "C"
