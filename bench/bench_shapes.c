/*
 * Micro-benchmarks of each query shape through the public API, on a small
 * store built first (7 days of 100,000 generated reads, merged into daily
 * segments, in a temporary directory removed at the end):
 *
 *   query/plate          one vehicle's reads over the whole store
 *   query/plate_fuzzy    the same, misread-tolerant
 *   query/camera_hour    one camera, one hour
 *   query/area_hour      a box of about 11 km around a read's position, one hour
 *   query/partial_day    a plate with two characters unknown, one day
 *   query/window_minute  every read of one minute
 *
 * Each iteration is one whole query (open, every batch, close) with the
 * parameters of the next of 256 reads drawn from the store; items are the
 * reads returned. For year-scale latencies see tools/anpr-bench.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "anpr/anpr.h"
#include "gbench.h"
#include "synth.h"

#define DAY_MS INT64_C(86400000)
#define HOUR_MS INT64_C(3600000)
#define NSAMPLES 256

static anpr_store *store;

typedef struct sample {
    int64_t ts;
    char plate[ANPR_PLATE_MAX + 1];
    uint32_t camera;
    int32_t lat, lon;
} sample;

static sample samples[NSAMPLES];

static void die(const char *what, int rc)
{
    fprintf(stderr, "bench_shapes: %s: %s: %s\n", what, anpr_strerror(rc), store ? anpr_errmsg(store) : "");
    exit(1);
}

static void build(const char *dir, uint64_t reads_per_day, uint32_t days)
{
    anpr_store_options o = ANPR_STORE_OPTIONS_INIT;
    o.flags = ANPR_OPEN_CREATE;
    int rc = anpr_store_open(&store, dir, &o);
    if (rc) die("open", rc);
    synth_config cfg;
    synth_config_default(&cfg, reads_per_day);
    cfg.days = days;
    cfg.start_ms = ((int64_t)time(NULL) * 1000 / DAY_MS - days - 1) * DAY_MS; /* ending before today */
    synth *g;
    if ((rc = synth_new(&g, &cfg))) die("synth", rc);
    anpr_writer *w;
    if ((rc = anpr_writer_open(&w, store))) die("writer", rc);
    anpr_read buf[10000];
    size_t n;
    while ((n = synth_next(g, buf, 10000)) > 0) {
        rc = anpr_writer_append(w, buf, n, NULL, NULL);
        if (rc && rc != ANPR_EBADREAD) die("append", rc);
    }
    if ((rc = anpr_writer_commit(w)) || (rc = anpr_writer_merge(w, ANPR_ALL_DAYS))) die("commit/merge", rc);
    anpr_writer_close(w);
    synth_free(g);
}

/* Every k-th read of the store with a position, NSAMPLES of them. */
static void draw_samples(void)
{
    anpr_stats st;
    anpr_store_stats(store, &st);
    uint64_t step = st.reads / NSAMPLES / 2 + 1, i = 0;
    size_t got = 0;
    anpr_query q = ANPR_QUERY_INIT;
    anpr_cursor *c;
    int rc = anpr_query_open(&c, store, &q);
    if (rc) die("query", rc);
    anpr_batch b;
    while (got < NSAMPLES && anpr_cursor_next(c, &b) == 1)
        for (size_t k = 0; k < b.n && got < NSAMPLES; k++, i++)
            if (i % step == 0 && b.lat_e7[k] != ANPR_POS_UNKNOWN) {
                sample *s = &samples[got++];
                s->ts = b.ts_ms[k];
                memcpy(s->plate, b.plate[k], sizeof s->plate);
                s->camera = b.camera[k];
                s->lat = b.lat_e7[k];
                s->lon = b.lon_e7[k];
            }
    anpr_cursor_close(c);
    if (got < NSAMPLES) die("too few reads to sample", ANPR_EINVAL);
}

typedef enum shape { PLATE, PLATE_FUZZY, CAMERA_HOUR, AREA_HOUR, PARTIAL_DAY, WINDOW_MINUTE } shape;

static uint64_t run(const anpr_query *q)
{
    anpr_cursor *c;
    int rc = anpr_query_open(&c, store, q);
    if (rc) die("query", rc);
    anpr_batch b;
    uint64_t n = 0;
    while ((rc = anpr_cursor_next(c, &b)) == 1) n += b.n;
    if (rc < 0) die("cursor", rc);
    anpr_cursor_close(c);
    return n;
}

static void bench_shape(gbench_state *st, void *arg)
{
    shape sh = (shape)(uintptr_t)arg;
    uint64_t reads = 0, i = 0;
    while (gbench_keep_running(st)) {
        const sample *s = &samples[i++ % NSAMPLES];
        anpr_query q = ANPR_QUERY_INIT;
        char partial[ANPR_PLATE_MAX + 1];
        int64_t hour = s->ts - s->ts % HOUR_MS, day = s->ts - s->ts % DAY_MS;
        switch (sh) {
        case PLATE_FUZZY: q.fuzzy = 1; /* fall through */
        case PLATE: q.plate = s->plate; break;
        case CAMERA_HOUR:
            q.cameras = &s->camera;
            q.ncameras = 1;
            q.from_ms = hour;
            q.to_ms = hour + HOUR_MS;
            break;
        case AREA_HOUR:
            q.area = 1;
            q.lat_min_e7 = s->lat - 500000, q.lat_max_e7 = s->lat + 500000;
            q.lon_min_e7 = s->lon - 800000, q.lon_max_e7 = s->lon + 800000;
            q.from_ms = hour;
            q.to_ms = hour + HOUR_MS;
            break;
        case PARTIAL_DAY:
            memcpy(partial, s->plate, sizeof partial);
            if (strlen(partial) >= 4) partial[2] = partial[3] = '?';
            q.plate = partial;
            q.from_ms = day;
            q.to_ms = day + DAY_MS;
            break;
        case WINDOW_MINUTE:
            q.from_ms = s->ts - s->ts % 60000;
            q.to_ms = q.from_ms + 60000;
            break;
        }
        reads += run(&q);
    }
    gbench_set_items_processed(st, (int64_t)reads);
    gbench_counter(st, "reads_per_query", (double)reads / (double)gbench_iterations(st));
}

int main(int argc, char **argv)
{
    char dir[] = "/tmp/anpr-bench-shapes-XXXXXX";
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    char store_dir[64];
    snprintf(store_dir, sizeof store_dir, "%s/store", dir);
    build(store_dir, 100000, 7);
    draw_samples();
    static const char *const names[] = {"query/plate",     "query/plate_fuzzy", "query/camera_hour",
                                        "query/area_hour", "query/partial_day", "query/window_minute"};
    for (uintptr_t k = 0; k < sizeof names / sizeof names[0]; k++) gbench_register(names[k], bench_shape, (void *)k);
    int rc = gbench_main(argc, argv);
    anpr_store_close(store);
    /* The store's files, then its directory and ours. */
    char cmd[160];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) fprintf(stderr, "bench_shapes: could not remove %s\n", dir);
    return rc;
}
