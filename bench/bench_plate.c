/* Micro-benchmarks of the per-read hot path at the door: normalisation, folding, validation. */
#include <stdio.h>
#include <string.h>

#include "anpr/anpr.h"
#include "gbench.h"
#include "read/read.h"

enum { NPLATES = 4096 };

static char raw[NPLATES][16];

static void make_plates(void)
{
    uint32_t x = 2463534242u;
    for (int i = 0; i < NPLATES; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        snprintf(raw[i], sizeof raw[i], "%c%c%02u %c%c%c", 'A' + x % 26, 'A' + (x >> 5) % 26, (x >> 10) % 100,
                 'a' + (x >> 3) % 26, 'A' + (x >> 7) % 26, 'A' + (x >> 13) % 26);
    }
}

static void bench_normalise(gbench_state *st, void *arg)
{
    (void)arg;
    char out[ANPR_PLATE_MAX + 1];
    while (gbench_keep_running(st))
        for (int i = 0; i < NPLATES; i++) anpr_plate_normalise(out, raw[i]);
    gbench_set_items_processed(st, gbench_iterations(st) * NPLATES);
}

static void bench_fold(gbench_state *st, void *arg)
{
    (void)arg;
    static char norm[NPLATES][ANPR_PLATE_MAX + 1];
    for (int i = 0; i < NPLATES; i++) anpr_plate_normalise(norm[i], raw[i]);
    char out[ANPR_PLATE_MAX + 1];
    while (gbench_keep_running(st))
        for (int i = 0; i < NPLATES; i++) anpr_plate_fold(out, norm[i]);
    gbench_set_items_processed(st, gbench_iterations(st) * NPLATES);
}

static void bench_validate(gbench_state *st, void *arg)
{
    (void)arg;
    read_limits lim = {.max_ts_ms = INT64_MAX, .min_kept_ms = 0};
    anpr_row row;
    while (gbench_keep_running(st)) {
        for (int i = 0; i < NPLATES; i++) {
            anpr_read r = {.ts_ms = 1762071330123 + i, .plate = raw[i], .camera = (uint32_t)i,
                           .lane = 1, .direction = 0, .confidence = 90,
                           .lat_e7 = 515074000, .lon_e7 = -1278000};
            read_validate(&row, &r, &lim);
        }
    }
    gbench_set_items_processed(st, gbench_iterations(st) * NPLATES);
}

int main(int argc, char **argv)
{
    make_plates();
    gbench_register("plate/normalise", bench_normalise, NULL);
    gbench_register("plate/fold", bench_fold, NULL);
    gbench_register("read/validate", bench_validate, NULL);
    return gbench_main(argc, argv);
}
