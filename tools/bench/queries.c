/*
 * anpr-bench's query phase: every query shape with random parameters drawn
 * from the store itself (cameras, positions and times of reads picked from
 * random blocks; plates of the generator's vehicles), timed from
 * anpr_query_open to the last batch.
 *
 * Warm: each shape's parameters run once untimed, then the same parameters
 * timed. Cold: other parameters, the page cache emptied before each one:
 * with /proc/sys/vm/drop_caches where the process may write it, else with
 * posix_fadvise(DONTNEED) on every file of the store (which any reader may
 * ask); when neither works the cold figures are left out and the report
 * says why.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "anpr/segment.h"
#include "phases.h"
#include "plates.h"
#include "progress.h"

#define DAY_MS INT64_C(86400000)
#define HOUR_MS INT64_C(3600000)
#define SAMPLE_READS 1000
#define MAX_CAMERAS 10

const char *const bench_shape_names[BENCH_SHAPES] = {
    "plate", "plate_fuzzy", "partial_day", "camera_hour", "cameras_hour", "area_hour", "window_minute",
};
const char *const bench_shape_titles[BENCH_SHAPES] = {
    "plate history, whole store",
    "the same, misread-tolerant",
    "partial plate (two ?), one day",
    "one camera, one hour",
    "ten cameras, one hour",
    "an area of about 5 km, one hour",
    "every camera, one minute",
};

typedef struct params {
    char plate[32];
    uint32_t cameras[MAX_CAMERAS];
    anpr_query q;
} params;

typedef struct ctx {
    const bench_query_opts *o;
    uint64_t rng;
    anpr_row *reads; /* reads sampled from the store */
    size_t nreads;
    anpr_store *s;
    const char *dir;
    anpr_file_info *files;
    size_t nfiles;
} ctx;

static uint64_t next(ctx *x)
{
    x->rng = synth_mix(x->rng);
    return x->rng;
}

static const anpr_row *some_read(ctx *x)
{
    return &x->reads[next(x) % x->nreads];
}

/* A vehicle of the population, each equally likely (not weighted by how often it is read). */
static void some_plate(ctx *x, char out[32])
{
    char p[16];
    synth_plate(p, x->o->workload.seed, next(x) % x->o->workload.vehicles);
    snprintf(out, 32, "%s", p);
}

static void make_params(ctx *x, int shape, params *p)
{
    memset(p, 0, sizeof *p);
    p->q = (anpr_query)ANPR_QUERY_INIT;
    const anpr_row *r = some_read(x);
    switch (shape) {
    case SHAPE_PLATE:
    case SHAPE_PLATE_FUZZY:
        some_plate(x, p->plate);
        p->q.fuzzy = shape == SHAPE_PLATE_FUZZY;
        break;
    case SHAPE_PARTIAL_DAY: {
        some_plate(x, p->plate);
        size_t len = strlen(p->plate);
        p->plate[next(x) % len] = '?';
        p->plate[next(x) % len] = '?';
        p->q.from_ms = r->ts_ms / DAY_MS * DAY_MS;
        p->q.to_ms = p->q.from_ms + DAY_MS;
        break;
    }
    case SHAPE_CAMERA_HOUR:
    case SHAPE_CAMERAS_HOUR:
        p->q.ncameras = shape == SHAPE_CAMERA_HOUR ? 1 : MAX_CAMERAS;
        p->cameras[0] = r->camera;
        for (size_t i = 1; i < p->q.ncameras; i++) p->cameras[i] = some_read(x)->camera;
        p->q.from_ms = r->ts_ms - HOUR_MS / 2;
        p->q.to_ms = r->ts_ms + HOUR_MS / 2;
        break;
    case SHAPE_AREA_HOUR:
        p->q.area = 1;
        /* 0.05 degrees of latitude by 0.08 of longitude: about 5.5 km square in Britain. */
        p->q.lat_min_e7 = r->lat_e7 == ANPR_POS_UNKNOWN ? 515000000 : r->lat_e7 - 250000;
        p->q.lon_min_e7 = r->lon_e7 == ANPR_POS_UNKNOWN ? -1000000 : r->lon_e7 - 400000;
        p->q.lat_max_e7 = p->q.lat_min_e7 + 500000;
        p->q.lon_max_e7 = p->q.lon_min_e7 + 800000;
        p->q.from_ms = r->ts_ms - HOUR_MS / 2;
        p->q.to_ms = r->ts_ms + HOUR_MS / 2;
        break;
    case SHAPE_WINDOW_MINUTE:
        p->q.from_ms = r->ts_ms - 30000;
        p->q.to_ms = r->ts_ms + 30000;
        break;
    }
}

/* Time one query; its reads go to *reads. 0, or 1 after printing why it failed. */
static int run_one(ctx *x, params *p, double *ms, uint64_t *reads)
{
    /* The pointers are set here, not in make_params, so the params array may move. */
    p->q.plate = p->plate[0] ? p->plate : NULL;
    p->q.cameras = p->q.ncameras ? p->cameras : NULL;
    double t0 = bench_now_ms();
    anpr_cursor *c;
    int rc = anpr_query_open(&c, x->s, &p->q);
    if (rc) return bench_fail("query", rc, x->s);
    anpr_batch b;
    *reads = 0;
    while ((rc = anpr_cursor_next(c, &b)) == 1) *reads += b.n;
    *ms = bench_now_ms() - t0;
    if (rc < 0) fprintf(stderr, "anpr-bench: query: %s\n", anpr_cursor_errmsg(c));
    anpr_cursor_close(c);
    return rc < 0;
}

/* Reads from random blocks of random segments, for cameras, positions and times. */
static int sample_reads(ctx *x)
{
    x->reads = malloc(SAMPLE_READS * sizeof *x->reads);
    anpr_row *rows = NULL;
    size_t cap = 0;
    if (!x->reads) return bench_fail("queries", -ENOMEM, NULL);
    for (int tries = 0; x->nreads < SAMPLE_READS && tries < 100000; tries++) {
        char path[4096], err[256];
        snprintf(path, sizeof path, "%s/%s", x->dir, x->files[next(x) % x->nfiles].name);
        anpr_segment *g;
        if (anpr_segment_open(&g, path, err, sizeof err) != 0) {
            fprintf(stderr, "anpr-bench: %s: %s\n", path, err);
            free(rows);
            return 1;
        }
        anpr_segment_info info;
        anpr_segment_info_get(g, &info);
        if (info.block_rows > cap) {
            free(rows);
            cap = info.block_rows;
            rows = malloc(cap * sizeof *rows);
            if (!rows) {
                anpr_segment_close(g);
                return bench_fail("queries", -ENOMEM, NULL);
            }
        }
        size_t n = 0;
        if (info.blocks && anpr_segment_rows(g, (uint32_t)(next(x) % info.blocks), rows, &n) == 0)
            for (int k = 0; k < 10 && n && x->nreads < SAMPLE_READS; k++) x->reads[x->nreads++] = rows[next(x) % n];
        anpr_segment_close(g);
    }
    free(rows);
    return x->nreads ? 0 : bench_fail("queries: no reads in the store", ANPR_EINVAL, NULL);
}

static int drop_caches(void)
{
    sync();
    int fd = open("/proc/sys/vm/drop_caches", O_WRONLY);
    if (fd < 0) return -errno;
    ssize_t w = write(fd, "3\n", 2);
    int err = errno;
    close(fd);
    return w == 2 ? 0 : -err;
}

/* Evict the store's files from the page cache; the error of the first file that refused. */
static int fadvise_store(ctx *x)
{
    for (size_t i = 0; i < x->nfiles; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", x->dir, x->files[i].name);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0) return -errno;
        int rc = posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
        close(fd);
        if (rc) return -rc;
    }
    return 0;
}

static int make_cold(ctx *x, const char *method)
{
    /* A mapped store's pages leave the process first: the cache drops leave mapped pages alone. */
    anpr_store_release_memory(x->s);
    return strcmp(method, "drop_caches") == 0 ? drop_caches() : fadvise_store(x);
}

/* Which way of emptying the cache works here, or NULL with the reason in r->cold_note. */
static const char *cold_method(ctx *x, bench_query_result *r)
{
    int a = drop_caches();
    if (a == 0) return "drop_caches";
    int b = fadvise_store(x);
    if (b == 0) return "fadvise";
    snprintf(r->cold_note, sizeof r->cold_note, "cannot empty the page cache: drop_caches: %s; posix_fadvise: %s",
             strerror(-a), strerror(-b));
    return NULL;
}

/* n queries of the shape; latencies summarised into *out. */
static int time_shape(ctx *x, int shape, uint64_t n, const char *cold, bench_latency *out, bench_progress *bar,
                      uint64_t *done)
{
    params *ps = malloc(n * sizeof *ps);
    double *ms = malloc(n * sizeof *ms);
    int bad = 0;
    if (!ps || !ms) {
        bad = bench_fail("queries", -ENOMEM, NULL);
        goto out;
    }
    /*
     * Each shape draws from its own stream of the seed (warm and cold apart),
     * the misread-tolerant plate history from the exact one's: the same
     * vehicles, so that the two costs compare query for query.
     */
    int stream = shape == SHAPE_PLATE_FUZZY ? SHAPE_PLATE : shape;
    x->rng = x->o->seed ^ 0x853c49e6748fea9bull ^ synth_mix((uint64_t)stream * 2 + (cold != NULL) + 1);
    for (uint64_t i = 0; i < n; i++) make_params(x, shape, &ps[i]);
    uint64_t reads;
    double total_reads = 0;
    if (!cold) /* the warm-up pass: the same queries, untimed */
        for (uint64_t i = 0; i < n && !bad; i++) bad = run_one(x, &ps[i], &ms[i], &reads);
    for (uint64_t i = 0; i < n && !bad; i++) {
        if (cold && make_cold(x, cold) != 0) {
            fprintf(stderr, "anpr-bench: emptying the page cache (%s) failed\n", cold);
            bad = 1;
            break;
        }
        bad = run_one(x, &ps[i], &ms[i], &reads);
        total_reads += (double)reads;
        bench_progress_update(bar, ++*done);
    }
    if (!bad) bench_latency_of(out, ms, n, total_reads);
out:
    free(ps);
    free(ms);
    return bad;
}

int bench_query_run(anpr_store *s, const char *dir, const bench_query_opts *o, bench_query_result *r)
{
    memset(r, 0, sizeof *r);
    ctx x = {.o = o, .rng = o->seed ^ 0x853c49e6748fea9bull, .s = s, .dir = dir};
    int rc = anpr_store_files(s, &x.files, &x.nfiles);
    if (rc) return bench_fail("files", rc, s);
    if (x.nfiles == 0) {
        free(x.files);
        return bench_fail("queries: the store is empty", ANPR_EINVAL, NULL);
    }
    int bad = sample_reads(&x);
    r->io_mode = anpr_store_io_mode(s) == ANPR_IO_URING ? "io_uring" : "pread";
    r->mapped = (anpr_store_flags(s) & ANPR_OPEN_MAP) != 0;
    r->query_threads = o->query_threads;
    if (!bad && o->cold_samples) r->cold_method = cold_method(&x, r);

    bench_progress bar;
    uint64_t done = 0;
    bench_progress_start(&bar, "queries, warm", o->samples * BENCH_SHAPES, o->progress);
    for (int k = 0; k < BENCH_SHAPES && !bad; k++) bad = time_shape(&x, k, o->samples, NULL, &r->warm[k], &bar, &done);
    bench_progress_end(&bar);
    if (r->cold_method) {
        done = 0;
        bench_progress_start(&bar, "queries, cold", o->cold_samples * BENCH_SHAPES, o->progress);
        for (int k = 0; k < BENCH_SHAPES && !bad; k++)
            bad = time_shape(&x, k, o->cold_samples, r->cold_method, &r->cold[k], &bar, &done);
        bench_progress_end(&bar);
    }
    free(x.reads);
    free(x.files);
    return bad;
}
