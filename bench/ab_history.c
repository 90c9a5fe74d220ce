/*
 * Two builds of libanpr timed against each other on plate histories, in
 * one process: each build's shared library is loaded on its own (dlopen),
 * both open the same store, and every vehicle's history is run on one and
 * then the other, the order alternating. On a shared host whose speed
 * drifts by a fifth within the hour, runs of one build after the other
 * compare the host as much as the code; taking turns query by query makes
 * the drift fall on both alike (a build against itself gives 1.00).
 *
 *   ab_history OLD.so NEW.so STORE [--new-store STORE2] [--vehicles V] [--seed S] [--samples N] [--fuzzy]
 *              [--old-io uring|pread] [--new-io uring|pread] [--old-map] [--new-map]
 *
 * Vehicles are drawn from the generator's population of V (default: the
 * year store's, 600,000 reads a day) as anpr-bench draws them, with the
 * draw's own seed S. Each history runs once on both builds untimed (and
 * must return as many reads on both), then once each timed. Prints the
 * p50, p99 and mean of each build and the median of the per-vehicle ratio
 * NEW / OLD (docs/performance.md, plate history). With --new-store, NEW
 * queries STORE2 (the same reads written in another format, say) and OLD
 * queries STORE. --old-io and --new-io open a build's store with that I/O
 * mode (default: as the library chooses), and --old-map and --new-map with
 * ANPR_OPEN_MAP (builds before it refuse the flag), so that one build
 * against itself compares the two paths.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "anpr/anpr.h"
#include "plates.h"
#include "synth.h"

typedef struct build {
    const char *path;
    int (*store_open)(anpr_store **, const char *, const anpr_store_options *);
    void (*store_close)(anpr_store *);
    int (*query_open)(anpr_cursor **, anpr_store *, const anpr_query *);
    int (*cursor_next)(anpr_cursor *, anpr_batch *);
    const char *(*cursor_errmsg)(const anpr_cursor *);
    void (*cursor_close)(anpr_cursor *);
    int io_mode; /* ANPR_IO_AUTO unless --old-io / --new-io */
    int map;     /* --old-map / --new-map: ANPR_OPEN_MAP */
    anpr_store *store;
} build;

static void usage(void)
{
    fprintf(stderr, "usage: ab_history OLD.so NEW.so STORE [--new-store STORE2] [--vehicles V] [--seed S] "
                    "[--samples N] [--fuzzy] [--old-io uring|pread] [--new-io uring|pread] [--old-map] "
                    "[--new-map]\n");
    exit(2);
}

static uint64_t number(const char *what, const char *s)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || *end || s[0] == '-' || v == 0) {
        fprintf(stderr, "ab_history: %s: not a positive whole number: '%s'\n", what, s);
        usage();
    }
    return v;
}

static void *symbol(void *h, const build *b, const char *name)
{
    void *p = dlsym(h, name);
    if (!p) {
        fprintf(stderr, "ab_history: %s: no %s\n", b->path, name);
        exit(1);
    }
    return p;
}

static void load(build *b, const char *store)
{
    /* Each library stays apart from the other (RTLD_LOCAL), although both export the same names. */
    void *h = dlopen(b->path, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        fprintf(stderr, "ab_history: %s\n", dlerror());
        exit(1);
    }
    *(void **)&b->store_open = symbol(h, b, "anpr_store_open");
    *(void **)&b->store_close = symbol(h, b, "anpr_store_close");
    *(void **)&b->query_open = symbol(h, b, "anpr_query_open");
    *(void **)&b->cursor_next = symbol(h, b, "anpr_cursor_next");
    *(void **)&b->cursor_errmsg = symbol(h, b, "anpr_cursor_errmsg");
    *(void **)&b->cursor_close = symbol(h, b, "anpr_cursor_close");
    char err[256] = "";
    anpr_store_options o = ANPR_STORE_OPTIONS_INIT;
    /* Version 2's fields only, which every build since block_rows accepts (query_threads: the env's). */
    o.version = 2;
    o.flags = ANPR_OPEN_READONLY | (b->map ? ANPR_OPEN_MAP : 0);
    o.io_mode = b->io_mode;
    o.errbuf = err;
    o.errbuf_size = sizeof err;
    if (b->store_open(&b->store, store, &o) != 0) {
        fprintf(stderr, "ab_history: %s\n", err[0] ? err : store);
        exit(1);
    }
}

static int io_mode(const char *s)
{
    if (strcmp(s, "uring") == 0) return ANPR_IO_URING;
    if (strcmp(s, "pread") == 0) return ANPR_IO_PREAD;
    fprintf(stderr, "ab_history: I/O mode '%s' is not uring or pread\n", s);
    usage();
    return ANPR_IO_AUTO;
}

static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

/* One history on build b: its time in ms, its reads in *reads. */
static double history(const build *b, const char *plate, int fuzzy, uint64_t *reads)
{
    anpr_query q = ANPR_QUERY_INIT;
    q.plate = plate;
    q.fuzzy = fuzzy;
    double t0 = now_ms();
    anpr_cursor *c;
    if (b->query_open(&c, b->store, &q) != 0) {
        fprintf(stderr, "ab_history: %s: query of %s failed\n", b->path, plate);
        exit(1);
    }
    anpr_batch batch;
    int rc;
    *reads = 0;
    while ((rc = b->cursor_next(c, &batch)) == 1) *reads += batch.n;
    double ms = now_ms() - t0;
    if (rc < 0) {
        fprintf(stderr, "ab_history: %s: %s: %s\n", b->path, plate, b->cursor_errmsg(c));
        exit(1);
    }
    b->cursor_close(c);
    return ms;
}

static int cmp_double(const void *pa, const void *pb)
{
    double a = *(const double *)pa, b = *(const double *)pb;
    return (a > b) - (a < b);
}

int main(int argc, char **argv)
{
    if (argc < 4) usage();
    build b[2] = {{.path = argv[1]}, {.path = argv[2]}};
    const char *store = argv[3], *new_store = argv[3];
    synth_config cfg;
    synth_config_default(&cfg, 600000);
    uint64_t vehicles = cfg.vehicles, seed = 7, samples = 400;
    int fuzzy = 0;
    for (int i = 4; i < argc; i++) {
        if (strcmp(argv[i], "--fuzzy") == 0) fuzzy = 1;
        else if (strcmp(argv[i], "--old-map") == 0) b[0].map = 1;
        else if (strcmp(argv[i], "--new-map") == 0) b[1].map = 1;
        else if (i + 1 < argc && strcmp(argv[i], "--new-store") == 0) new_store = argv[++i];
        else if (i + 1 < argc && strcmp(argv[i], "--vehicles") == 0) vehicles = number("--vehicles", argv[++i]);
        else if (i + 1 < argc && strcmp(argv[i], "--seed") == 0) seed = number("--seed", argv[++i]);
        else if (i + 1 < argc && strcmp(argv[i], "--samples") == 0) samples = number("--samples", argv[++i]);
        else if (i + 1 < argc && strcmp(argv[i], "--old-io") == 0) b[0].io_mode = io_mode(argv[++i]);
        else if (i + 1 < argc && strcmp(argv[i], "--new-io") == 0) b[1].io_mode = io_mode(argv[++i]);
        else {
            fprintf(stderr, "ab_history: unknown or incomplete option '%s'\n", argv[i]);
            usage();
        }
    }
    load(&b[0], store);
    load(&b[1], new_store);

    size_t n = (size_t)samples;
    char(*plates)[16] = malloc(n * sizeof *plates);
    double *t[2] = {malloc(n * sizeof(double)), malloc(n * sizeof(double))}, *ratio = malloc(n * sizeof(double));
    if (!plates || !t[0] || !t[1] || !ratio) {
        fprintf(stderr, "ab_history: out of memory\n");
        return 1;
    }
    /* The population's seed is the generator's (1), as anpr-bench's; the draw has its own. */
    for (size_t i = 0; i < n; i++) {
        seed = synth_mix(seed);
        synth_plate(plates[i], 1, seed % vehicles);
    }
    for (size_t i = 0; i < n; i++) {
        uint64_t r0, r1;
        history(&b[0], plates[i], fuzzy, &r0);
        history(&b[1], plates[i], fuzzy, &r1);
        if (r0 != r1) {
            fprintf(stderr, "ab_history: %s: %llu reads from %s, %llu from %s\n", plates[i], (unsigned long long)r0,
                    b[0].path, (unsigned long long)r1, b[1].path);
            return 1;
        }
    }
    double sum[2] = {0, 0};
    for (size_t i = 0; i < n; i++) {
        uint64_t reads;
        int first = (int)(i & 1);
        t[first][i] = history(&b[first], plates[i], fuzzy, &reads);
        t[!first][i] = history(&b[!first], plates[i], fuzzy, &reads);
        ratio[i] = t[1][i] / t[0][i];
        sum[0] += t[0][i];
        sum[1] += t[1][i];
    }
    for (int k = 0; k < 2; k++) qsort(t[k], n, sizeof(double), cmp_double);
    qsort(ratio, n, sizeof(double), cmp_double);
    printf("%zu %s histories, each on both builds in turn\n", n, fuzzy ? "misread-tolerant" : "exact");
    size_t p99 = (size_t)(0.99 * (double)n + 0.999999); /* nearest rank, as anpr-bench takes it */
    p99 = p99 ? p99 - 1 : 0;
    printf("  OLD %s: p50 %.3f ms, p99 %.3f, mean %.3f\n", b[0].path, t[0][n / 2], t[0][p99], sum[0] / (double)n);
    printf("  NEW %s: p50 %.3f ms, p99 %.3f, mean %.3f\n", b[1].path, t[1][n / 2], t[1][p99], sum[1] / (double)n);
    printf("  NEW / OLD: median of the per-vehicle ratios %.3f, ratio of the means %.3f\n", ratio[n / 2],
           sum[1] / sum[0]);
    b[0].store_close(b[0].store);
    b[1].store_close(b[1].store);
    free(plates);
    free(t[0]);
    free(t[1]);
    free(ratio);
    return 0;
}
