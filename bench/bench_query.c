/*
 * bench_query: query latencies on a year of daily segments.
 *
 *   bench_query --dir DIR [--build] [--reads-per-day N] [--days D]
 *               [--samples N] [--cold] [--drop-days N] [--only SHAPE]
 *
 * --build generates D days (default 365) of N reads (default 600,000: 1/100
 * of national volume, with the vehicle population scaled down too, so each
 * vehicle keeps a realistic number of reads a year) into DIR, merged into
 * daily segments. Then each query shape runs --samples times (default 200)
 * with random parameters and its p50, p99 and mean latency (ms, from
 * anpr_query_open to the last batch) and mean reads returned are printed:
 *
 *   plate        one vehicle's history over the whole store (random vehicle)
 *   plate_fuzzy  the same, misread-tolerant
 *   camera_hour  one camera, one hour
 *   area_hour    a box of about 5 km around a camera, one hour
 *   partial_day  a plate with two characters unknown ('?'), one day
 *
 * Warm cache by default (every sample after one warm-up pass). --cold drops
 * the page cache before each sample (needs root; says so when refused) and
 * takes fewer samples. The I/O path follows ANPR_IO (uring or pread).
 * --drop-days N then times anpr_writer_expire dropping the N oldest days, one
 * at a time.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "anpr/anpr.h"
#include "anpr/segment.h"
#include "plates.h"
#include "synth.h"

#define DAY_MS INT64_C(86400000)

static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec * 1e-6;
}

static int die(const char *what, int rc, anpr_store *s)
{
    fprintf(stderr, "bench_query: %s: %s%s%s\n", what, anpr_strerror(rc), s ? ": " : "", s ? anpr_errmsg(s) : "");
    exit(1);
}

static uint64_t rng = 0x853c49e6748fea9bull;
static uint64_t next(void)
{
    rng = synth_mix(rng);
    return rng;
}

static int build(const char *dir, uint64_t per_day, uint32_t days)
{
    synth_config cfg;
    synth_config_default(&cfg, per_day);
    cfg.days = days;
    /* End yesterday: reads stamped later than the wall clock allows are refused. */
    cfg.start_ms = ((int64_t)time(NULL) * 1000 / DAY_MS - days) * DAY_MS;
    synth *g;
    if (synth_new(&g, &cfg) != 0) return 1;
    anpr_store_options o = ANPR_STORE_OPTIONS_INIT;
    o.flags = ANPR_OPEN_CREATE;
    anpr_store *s;
    int rc = anpr_store_open(&s, dir, &o);
    if (rc) die("open", rc, NULL);
    anpr_writer *w;
    if ((rc = anpr_writer_open(&w, s))) die("writer", rc, s);
    anpr_read batch[10000];
    size_t n;
    uint64_t total = 0, since = 0;
    double t0 = now_ms();
    while ((n = synth_next(g, batch, 10000)) > 0) {
        rc = anpr_writer_append(w, batch, n, NULL, NULL);
        if (rc && rc != ANPR_EBADREAD) die("append", rc, s);
        total += n;
        since += n;
        if (since >= 100000) {
            if ((rc = anpr_writer_commit(w))) die("commit", rc, s);
            since = 0;
        }
    }
    double t1 = now_ms();
    if ((rc = anpr_writer_merge(w, ANPR_ALL_DAYS))) die("merge", rc, s);
    double t2 = now_ms();
    anpr_stats st;
    anpr_store_stats(s, &st);
    printf("build: %llu reads over %u days in %.1f s (ingest %.1f s, merge %.1f s); %llu segments, %.2f bytes/read\n",
           (unsigned long long)total, days, (t2 - t0) / 1e3, (t1 - t0) / 1e3, (t2 - t1) / 1e3,
           (unsigned long long)st.segments, (double)st.bytes / (double)st.reads);
    anpr_writer_close(w);
    anpr_store_close(s);
    synth_free(g);
    return 0;
}

static int drop_caches(void)
{
    sync();
    int fd = open("/proc/sys/vm/drop_caches", O_WRONLY);
    if (fd < 0) return -errno;
    ssize_t w = write(fd, "3\n", 2);
    close(fd);
    return w == 2 ? 0 : -EIO;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

typedef struct shape_ctx {
    synth_config cfg;
    int64_t first_ms, last_ms; /* of the store */
    anpr_row *sample_reads;    /* reads to take cameras and positions from */
    size_t nsample;
    char plate[32];
    uint32_t camera;
} shape_ctx;

enum shape { PLATE, PLATE_FUZZY, CAMERA_HOUR, AREA_HOUR, PARTIAL_DAY, NSHAPES };
static const char *const shape_names[NSHAPES] = {"plate", "plate_fuzzy", "camera_hour", "area_hour", "partial_day"};

/* A random query of the shape; text buffers live in ctx. */
static void make_query(shape_ctx *x, int shape, anpr_query *q)
{
    *q = (anpr_query)ANPR_QUERY_INIT;
    const anpr_row *r = &x->sample_reads[next() % x->nsample];
    switch (shape) {
    case PLATE:
    case PLATE_FUZZY:
        /* A typical vehicle: any vehicle of the population, not a read-weighted one. */
        synth_plate(x->plate, x->cfg.seed, next() % x->cfg.vehicles);
        q->plate = x->plate;
        q->fuzzy = shape == PLATE_FUZZY;
        break;
    case CAMERA_HOUR:
        x->camera = r->camera;
        q->cameras = &x->camera;
        q->ncameras = 1;
        q->from_ms = r->ts_ms - 1800000;
        q->to_ms = r->ts_ms + 1800000;
        break;
    case AREA_HOUR:
        q->area = 1;
        q->lat_min_e7 = r->lat_e7 == ANPR_POS_UNKNOWN ? 515000000 : r->lat_e7 - 250000;
        q->lon_min_e7 = r->lon_e7 == ANPR_POS_UNKNOWN ? -1000000 : r->lon_e7 - 400000;
        q->lat_max_e7 = q->lat_min_e7 + 500000;
        q->lon_max_e7 = q->lon_min_e7 + 800000;
        q->from_ms = r->ts_ms - 1800000;
        q->to_ms = r->ts_ms + 1800000;
        break;
    case PARTIAL_DAY: {
        synth_plate(x->plate, x->cfg.seed, next() % x->cfg.vehicles);
        size_t len = strlen(x->plate);
        x->plate[next() % len] = '?';
        x->plate[next() % len] = '?';
        q->plate = x->plate;
        int64_t day = r->ts_ms / DAY_MS;
        q->from_ms = day * DAY_MS;
        q->to_ms = q->from_ms + DAY_MS;
        break;
    }
    }
}

static double run_query(anpr_store *s, const anpr_query *q, uint64_t *reads)
{
    double t0 = now_ms();
    anpr_cursor *c;
    int rc = anpr_query_open(&c, s, q);
    if (rc) die("query", rc, s);
    anpr_batch b;
    *reads = 0;
    while ((rc = anpr_cursor_next(c, &b)) == 1) *reads += b.n;
    if (rc < 0) {
        fprintf(stderr, "bench_query: %s\n", anpr_cursor_errmsg(c));
        exit(1);
    }
    anpr_cursor_close(c);
    return now_ms() - t0;
}

int main(int argc, char **argv)
{
    const char *dir = NULL;
    int do_build = 0, cold = 0;
    const char *only = NULL;
    uint64_t per_day = 600000, samples = 200, drop = 0;
    uint32_t days = 365;
    static const struct option opts[] = {
        {"dir", required_argument, 0, 'd'},   {"build", no_argument, 0, 'b'},
        {"reads-per-day", required_argument, 0, 'r'}, {"days", required_argument, 0, 'n'},
        {"samples", required_argument, 0, 's'}, {"cold", no_argument, 0, 'c'},
        {"drop-days", required_argument, 0, 'x'}, {"only", required_argument, 0, 'o'},
        {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0},
    };
    int opt;
    while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (opt) {
        case 'd': dir = optarg; break;
        case 'b': do_build = 1; break;
        case 'r': per_day = strtoull(optarg, NULL, 10); break;
        case 'n': days = (uint32_t)strtoul(optarg, NULL, 10); break;
        case 's': samples = strtoull(optarg, NULL, 10); break;
        case 'c': cold = 1; break;
        case 'x': drop = strtoull(optarg, NULL, 10); break;
        case 'o': only = optarg; break;
        case 'h':
            puts("usage: bench_query --dir DIR [--build] [--reads-per-day N] [--days D] [--samples N] [--cold] "
                 "[--drop-days N] [--only SHAPE]");
            return 0;
        default: return 2;
        }
    }
    if (!dir || per_day == 0 || days == 0 || samples == 0) {
        fputs("bench_query: --dir is needed (see --help)\n", stderr);
        return 2;
    }
    if (do_build && build(dir, per_day, days)) return 1;

    anpr_store_options o = ANPR_STORE_OPTIONS_INIT;
    anpr_store *s;
    int rc = anpr_store_open(&s, dir, &o);
    if (rc) die("open", rc, NULL);
    anpr_stats st;
    anpr_store_stats(s, &st);
    shape_ctx x = {0};
    synth_config_default(&x.cfg, per_day);
    x.first_ms = st.oldest_ms;
    x.last_ms = st.newest_ms;
    /* Cameras, positions and times to query: reads from random blocks of random segments. */
    anpr_file_info *files;
    size_t nfiles;
    if ((rc = anpr_store_files(s, &files, &nfiles)) || nfiles == 0) die("files", rc ? rc : ANPR_EINVAL, s);
    x.sample_reads = malloc(1000 * sizeof *x.sample_reads);
    anpr_row *rows = malloc(65536 * sizeof *rows);
    while (x.nsample < 1000) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, files[next() % nfiles].name);
        anpr_segment *g;
        anpr_segment_info info;
        size_t n = 0;
        if (anpr_segment_open(&g, path, NULL, 0) != 0) die(path, ANPR_ECORRUPT, NULL);
        anpr_segment_info_get(g, &info);
        if (info.blocks && anpr_segment_rows(g, (uint32_t)(next() % info.blocks), rows, &n) == 0)
            for (int k = 0; k < 10 && n && x.nsample < 1000; k++) x.sample_reads[x.nsample++] = rows[next() % n];
        anpr_segment_close(g);
    }
    free(rows);
    free(files);
    const char *io = getenv("ANPR_IO");
    printf("store: %llu reads, %llu segments, %.2f bytes/read; io %s%s; %s cache\n", (unsigned long long)st.reads,
           (unsigned long long)st.segments, (double)st.bytes / (double)st.reads,
           anpr_store_io_mode(s) == ANPR_IO_URING ? "io_uring" : "pread", io && *io ? " (ANPR_IO)" : "",
           cold ? "cold" : "warm");
    if (cold && drop_caches() < 0) {
        printf("cold: cannot drop the page cache here (%s); figures below are warm\n", strerror(errno));
        cold = 0;
    }
    if (cold && samples > 30) samples = 30;
    double *lat = malloc(samples * sizeof *lat);
    printf("%-12s %9s %9s %9s %11s\n", "shape", "p50_ms", "p99_ms", "mean_ms", "mean_reads");
    for (int shape = 0; shape < NSHAPES; shape++) {
        if (only && strcmp(only, shape_names[shape]) != 0) continue;
        uint64_t reads = 0, total_reads = 0;
        anpr_query q;
        if (!cold)
            for (uint64_t i = 0; i < samples; i++) { /* warm-up pass over the same parameters */
                make_query(&x, shape, &q);
                run_query(s, &q, &reads);
            }
        double sum = 0;
        for (uint64_t i = 0; i < samples; i++) {
            make_query(&x, shape, &q);
            if (cold) drop_caches();
            lat[i] = run_query(s, &q, &reads);
            sum += lat[i];
            total_reads += reads;
        }
        qsort(lat, samples, sizeof *lat, cmp_double);
        printf("%-12s %9.3f %9.3f %9.3f %11.1f\n", shape_names[shape], lat[samples / 2],
               lat[(samples * 99) / 100 < samples ? (samples * 99) / 100 : samples - 1], sum / (double)samples,
               (double)total_reads / (double)samples);
    }
    if (drop) {
        anpr_writer *w;
        if ((rc = anpr_writer_open(&w, s))) die("writer", rc, s);
        double worst = 0, sum = 0;
        for (uint64_t i = 0; i < drop; i++) {
            anpr_store_stats(s, &st);
            int64_t end = (st.oldest_ms / DAY_MS + 1) * DAY_MS;
            double t0 = now_ms();
            if ((rc = anpr_writer_expire(w, end))) die("expire", rc, s);
            double t = now_ms() - t0;
            sum += t;
            if (t > worst) worst = t;
        }
        printf("drop_day: mean %.3f ms, worst %.3f ms over %llu days\n", sum / (double)drop, worst,
               (unsigned long long)drop);
        anpr_writer_close(w);
    }
    free(lat);
    free(x.sample_reads);
    anpr_store_close(s);
    return 0;
}
