/* The store and writer end to end through the public API. */
#define _GNU_SOURCE
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "anpr/anpr.h"
#include "anpr/segment.h"
#include "io/vfs.h"
#include "store/store.h"
#include "testutil.h"

#define DAY_MS INT64_C(86400000)
#define DAY0 INT64_C(20759) /* 2026-11-02 */

typedef struct plate_buf {
    char text[32];
} plate_buf;

/* Deterministic reads spread over `days` days from DAY0; plate texts live in plates[]. */
static void make_reads(anpr_read *r, plate_buf *plates, size_t n, unsigned days, unsigned seed)
{
    for (size_t i = 0; i < n; i++) {
        unsigned k = (unsigned)i * 2654435761u + seed;
        snprintf(plates[i].text, sizeof plates[i].text, "%c%c%02u %c%c%c", 'A' + k % 26, 'A' + (k >> 5) % 26,
                 (k >> 10) % 100, 'A' + (k >> 3) % 26, 'A' + (k >> 7) % 26, 'A' + (k >> 13) % 26);
        r[i] = (anpr_read){
            .ts_ms = (DAY0 + (int64_t)(i % days)) * DAY_MS + (int64_t)((k >> 4) % 86400000u),
            .plate = plates[i].text,
            .camera = (k >> 8) % 50,
            .lane = (uint8_t)(k % 4 + 1),
            .direction = (uint8_t)(k % 2),
            .confidence = (uint8_t)(k % 101),
            .lat_e7 = (k % 10) ? 500000000 + (int32_t)(k % 80000000) : ANPR_POS_UNKNOWN,
            .lon_e7 = (k % 10) ? -60000000 + (int32_t)(k % 70000000) : ANPR_POS_UNKNOWN,
        };
    }
}

/* Every row of every file the store lists, sorted by (camera, ts, plate). */
static anpr_row *all_rows(const char *dir, size_t *count)
{
    anpr_store *s;
    anpr_store_options o = ANPR_STORE_OPTIONS_INIT;
    o.flags = ANPR_OPEN_READONLY;
    ck_assert_int_eq(anpr_store_open(&s, dir, &o), ANPR_OK);
    anpr_file_info *files;
    size_t nfiles;
    ck_assert_int_eq(anpr_store_files(s, &files, &nfiles), ANPR_OK);
    anpr_row *rows = NULL;
    size_t n = 0;
    for (size_t i = 0; i < nfiles; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, files[i].name);
        anpr_segment *seg;
        char err[256];
        ck_assert_msg(anpr_segment_open(&seg, path, err, sizeof err) == ANPR_OK, "%s", err);
        anpr_segment_info info;
        ck_assert_int_eq(anpr_segment_info_get(seg, &info), ANPR_OK);
        ck_assert_uint_eq(info.rows, files[i].rows);
        rows = realloc(rows, (n + info.rows + info.block_rows) * sizeof *rows);
        for (uint32_t b = 0; b < info.blocks; b++) {
            size_t got;
            ck_assert_int_eq(anpr_segment_rows(seg, b, rows + n, &got), ANPR_OK);
            for (size_t k = 0; k < got; k++) ck_assert_int_eq(rows[n + k].ts_ms / DAY_MS, files[i].day);
            n += got;
        }
        anpr_segment_close(seg);
    }
    free(files);
    anpr_store_close(s);
    *count = n;
    return rows;
}

static int key_cmp(const void *pa, const void *pb)
{
    const anpr_row *a = pa, *b = pb;
    if (a->camera != b->camera) return a->camera < b->camera ? -1 : 1;
    if (a->ts_ms != b->ts_ms) return a->ts_ms < b->ts_ms ? -1 : 1;
    return strcmp(a->plate, b->plate);
}

/* The reads as the store should hold them: normalised, sorted, de-duplicated. */
static anpr_row *expected_rows(const anpr_read *r, size_t n, size_t *count)
{
    anpr_row *rows = calloc(n ? n : 1, sizeof *rows);
    for (size_t i = 0; i < n; i++) {
        ck_assert_int_eq(anpr_plate_normalise(rows[i].plate, r[i].plate), ANPR_READ_OK);
        rows[i].ts_ms = r[i].ts_ms;
        rows[i].camera = r[i].camera;
        rows[i].lane = r[i].lane;
        rows[i].direction = r[i].direction;
        rows[i].confidence = r[i].confidence;
        rows[i].lat_e7 = r[i].lat_e7;
        rows[i].lon_e7 = r[i].lon_e7;
    }
    qsort(rows, n, sizeof *rows, key_cmp);
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (k == 0 || key_cmp(&rows[k - 1], &rows[i]) != 0) rows[k++] = rows[i];
    *count = k;
    return rows;
}

static void assert_store_holds(const char *dir, const anpr_read *r, size_t n)
{
    size_t ne, ng;
    anpr_row *want = expected_rows(r, n, &ne);
    anpr_row *got = all_rows(dir, &ng);
    qsort(got, ng, sizeof *got, key_cmp);
    ck_assert_uint_eq(ng, ne);
    for (size_t i = 0; i < ne; i++) {
        ck_assert_int_eq(key_cmp(&got[i], &want[i]), 0);
        ck_assert_uint_eq(got[i].lane, want[i].lane);
        ck_assert_uint_eq(got[i].direction, want[i].direction);
        ck_assert_uint_eq(got[i].confidence, want[i].confidence);
        ck_assert_int_eq(got[i].lat_e7, want[i].lat_e7);
        ck_assert_int_eq(got[i].lon_e7, want[i].lon_e7);
    }
    free(want);
    free(got);
}

START_TEST(open_errors)
{
    char *dir = tu_tmpdir("store-open");
    anpr_store *s = (anpr_store *)1;
    char missing[4096];
    snprintf(missing, sizeof missing, "%s/nothing-here", dir);
    ck_assert_int_eq(anpr_store_open(&s, missing, NULL), -ENOENT);
    ck_assert_ptr_null(s);
    char err[512] = "";
    anpr_store_options o = ANPR_STORE_OPTIONS_INIT;
    o.errbuf = err;
    o.errbuf_size = sizeof err;
    ck_assert_int_eq(anpr_store_open(&s, dir, &o), ANPR_ENOTSTORE);
    ck_assert_ptr_nonnull(strstr(err, "no store"));
    o.flags = ANPR_OPEN_CREATE;
    o.compression_level = 40;
    ck_assert_int_eq(anpr_store_open(&s, dir, &o), ANPR_EINVAL);
    ck_assert_ptr_nonnull(strstr(err, "compression_level"));
    o.compression_level = 0;
    o.version = 99;
    ck_assert_int_eq(anpr_store_open(&s, dir, &o), ANPR_EINVAL);
    ck_assert_int_eq(anpr_store_open(NULL, dir, NULL), ANPR_EINVAL);
    anpr_store_close(NULL);
    ck_assert_int_eq(anpr_writer_close(NULL), ANPR_OK);
    tu_rmrf(dir);
    free(dir);
}
END_TEST

/* Open dir with o as a caller built against options struct `version` passes it: a struct of `size` bytes. */
static int open_older(anpr_store **s, const char *dir, anpr_store_options o, unsigned version, size_t size)
{
    anpr_store_options *old = malloc(size);
    ck_assert_ptr_nonnull(old);
    o.version = version;
    memcpy(old, &o, size);
    int rc = anpr_store_open(s, dir, old);
    free(old);
    return rc;
}

/* Options that create the store and report open's refusals into err. */
static anpr_store_options reporting_options(char *err, size_t size)
{
    anpr_store_options o = ANPR_STORE_OPTIONS_INIT;
    o.flags = ANPR_OPEN_CREATE;
    o.errbuf = err;
    o.errbuf_size = size;
    return o;
}

/* The env variable `name` taken out for a test (its value, to put back, or NULL), and put back. */
static char *env_take(const char *name)
{
    const char *env = getenv(name);
    char *saved = env ? strdup(env) : NULL;
    unsetenv(name);
    return saved;
}

static void env_put_back(const char *name, char *saved)
{
    if (saved) setenv(name, saved, 1);
    else unsetenv(name);
    free(saved);
}

/*
 * ANPR_OPEN_MAP is a flag like the others, and the env ANPR_MAP=1 adds it
 * (0 leaves the flags as they are; any other value makes open fail, naming
 * the variable); a flag the library does not know is refused.
 */
START_TEST(map_flag_and_env)
{
    char *dir = tu_tmpdir("store-map");
    char err[512] = "";
    anpr_store *s = NULL;
    anpr_store_options o = reporting_options(err, sizeof err);
    char *saved = env_take("ANPR_MAP");

    ck_assert_msg(anpr_store_open(&s, dir, &o) == ANPR_OK, "open: %s", err);
    ck_assert_uint_eq(anpr_store_flags(s), ANPR_OPEN_CREATE);
    anpr_store_close(s);
    o.flags = ANPR_OPEN_MAP | ANPR_OPEN_READONLY;
    ck_assert_msg(anpr_store_open(&s, dir, &o) == ANPR_OK, "open: %s", err);
    ck_assert_uint_eq(anpr_store_flags(s), ANPR_OPEN_MAP | ANPR_OPEN_READONLY);
    anpr_store_close(s);
    o.flags = ANPR_OPEN_MAP << 1;
    ck_assert_int_eq(anpr_store_open(&s, dir, &o), ANPR_EINVAL);
    ck_assert_msg(strstr(err, "unknown flags") != NULL, "message: %s", err);

    o.flags = 0;
    setenv("ANPR_MAP", "1", 1);
    ck_assert_msg(anpr_store_open(&s, dir, &o) == ANPR_OK, "open: %s", err);
    ck_assert_uint_eq(anpr_store_flags(s), ANPR_OPEN_MAP);
    anpr_store_close(s);
    setenv("ANPR_MAP", "0", 1);
    ck_assert_msg(anpr_store_open(&s, dir, &o) == ANPR_OK, "open: %s", err);
    ck_assert_uint_eq(anpr_store_flags(s), 0);
    anpr_store_close(s);
    const char *bad_env[] = {"yes", "2", "1 "};
    for (size_t i = 0; i < sizeof bad_env / sizeof *bad_env; i++) {
        setenv("ANPR_MAP", bad_env[i], 1);
        ck_assert_int_eq(anpr_store_open(&s, dir, &o), ANPR_EINVAL);
        ck_assert_msg(strstr(err, "ANPR_MAP") != NULL, "message: %s", err);
    }
    env_put_back("ANPR_MAP", saved);
    tu_rmrf(dir);
    free(dir);
}
END_TEST

/*
 * query_threads: 1..ANPR_QUERY_THREADS_MAX, 0 for the default (1, or the
 * env ANPR_QUERY_THREADS, which a bad value makes open fail); a caller of
 * version 2's header, whose struct ends before it, gets the default.
 */
START_TEST(query_threads_option)
{
    char *dir = tu_tmpdir("store-threads");
    char err[512] = "";
    anpr_store *s = NULL;
    anpr_store_options o = reporting_options(err, sizeof err);
    char *saved = env_take("ANPR_QUERY_THREADS");

    o.query_threads = ANPR_QUERY_THREADS_MAX + 1;
    ck_assert_int_eq(anpr_store_open(&s, dir, &o), ANPR_EINVAL);
    ck_assert_msg(strstr(err, "query_threads") != NULL, "message: %s", err);
    o.query_threads = 0;
    ck_assert_msg(anpr_store_open(&s, dir, &o) == ANPR_OK, "open: %s", err);
    ck_assert_uint_eq(s->opts.query_threads, 1);
    anpr_store_close(s);

    const char *bad_env[] = {"0", "17", "two", "2x"};
    for (size_t i = 0; i < sizeof bad_env / sizeof *bad_env; i++) {
        setenv("ANPR_QUERY_THREADS", bad_env[i], 1);
        ck_assert_int_eq(anpr_store_open(&s, dir, &o), ANPR_EINVAL);
        ck_assert_msg(strstr(err, "ANPR_QUERY_THREADS") != NULL, "message: %s", err);
    }
    setenv("ANPR_QUERY_THREADS", "4", 1);
    ck_assert_msg(anpr_store_open(&s, dir, &o) == ANPR_OK, "open: %s", err);
    ck_assert_uint_eq(s->opts.query_threads, 4);
    anpr_store_close(s);
    o.query_threads = 2; /* the option wins over the env */
    ck_assert_msg(anpr_store_open(&s, dir, &o) == ANPR_OK, "open: %s", err);
    ck_assert_uint_eq(s->opts.query_threads, 2);
    anpr_store_close(s);
    unsetenv("ANPR_QUERY_THREADS");

    o.block_rows = 512;
    ck_assert_msg(open_older(&s, dir, o, 2, offsetof(anpr_store_options, query_threads)) == ANPR_OK,
                  "version 2: %s", err);
    ck_assert_uint_eq(s->opts.query_threads, 1);
    ck_assert_uint_eq(s->opts.block_rows, 512);
    anpr_store_close(s);

    env_put_back("ANPR_QUERY_THREADS", saved);
    tu_rmrf(dir);
    free(dir);
}
END_TEST

/* The plate's reads in the store (every read for NULL), by query. */
static size_t count_reads(anpr_store *s, const char *plate)
{
    anpr_query q = ANPR_QUERY_INIT;
    q.plate = plate;
    anpr_cursor *c;
    anpr_batch b;
    int rc;
    size_t got = 0;
    ck_assert_int_eq(anpr_query_open(&c, s, &q), ANPR_OK);
    while ((rc = anpr_cursor_next(c, &b)) > 0) got += b.n;
    ck_assert_int_eq(rc, 0);
    anpr_cursor_close(c);
    return got;
}

/*
 * index_density: 1, 2, 4 or 8 (0 the default, 1), else a clear EINVAL; a
 * version-3 struct, which ends before it, gets the default. Files written
 * with it have that many more buckets, and a plate history across days of
 * both densities finds every read.
 */
START_TEST(index_density_option)
{
    enum { N = 3000 };
    char *dir = tu_tmpdir("store-density");
    char err[512] = "";
    anpr_store *s = NULL;
    anpr_store_options o = ANPR_STORE_OPTIONS_INIT;
    o.flags = ANPR_OPEN_CREATE;
    o.errbuf = err;
    o.errbuf_size = sizeof err;
    unsigned bad[] = {3, 6, 16, 1024};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        o.index_density = bad[i];
        ck_assert_int_eq(anpr_store_open(&s, dir, &o), ANPR_EINVAL);
        ck_assert_msg(strstr(err, "index_density") != NULL, "message: %s", err);
    }
    o.query_threads = 2;
    ck_assert_msg(open_older(&s, dir, o, 3, offsetof(anpr_store_options, index_density)) == ANPR_OK,
                  "version 3: %s", err);
    ck_assert_uint_eq(s->opts.index_density, 1);
    ck_assert_uint_eq(s->opts.query_threads, 2);
    anpr_store_close(s);
    o.query_threads = 0;

    anpr_read *r = malloc(2 * N * sizeof *r);
    plate_buf *p = malloc(2 * N * sizeof *p);
    make_reads(r, p, N, 1, 3);
    make_reads(r + N, p + N, N, 1, 5);
    for (size_t i = N; i < 2 * N; i++) r[i].ts_ms += DAY_MS;
    r[N + N / 2].plate = r[0].plate;
    const unsigned density[2] = {8, 0};
    for (int day = 0; day < 2; day++) {
        o.index_density = density[day];
        ck_assert_msg(anpr_store_open(&s, dir, &o) == ANPR_OK, "open: %s", err);
        ck_assert_uint_eq(s->opts.index_density, density[day] ? density[day] : 1);
        anpr_writer *w;
        ck_assert_int_eq(anpr_writer_open(&w, s), ANPR_OK);
        ck_assert_int_eq(anpr_writer_append(w, r + day * N, N, NULL, NULL), ANPR_OK);
        ck_assert_int_eq(anpr_writer_merge(w, ANPR_ALL_DAYS), ANPR_OK);
        ck_assert_int_eq(anpr_writer_close(w), ANPR_OK);
        anpr_store_close(s);
    }
    ck_assert_msg(anpr_store_open(&s, dir, &o) == ANPR_OK, "open: %s", err);
    anpr_file_info *files;
    size_t nfiles;
    ck_assert_int_eq(anpr_store_files(s, &files, &nfiles), ANPR_OK);
    ck_assert_uint_eq(nfiles, 2);
    for (size_t f = 0; f < nfiles; f++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, files[f].name);
        anpr_segment *g;
        anpr_segment_info info;
        ck_assert_int_eq(anpr_segment_open(&g, path, NULL, 0), ANPR_OK);
        ck_assert_int_eq(anpr_segment_info_get(g, &info), ANPR_OK);
        ck_assert_int_eq(anpr_segment_verify(g), ANPR_OK);
        /* (rows + 1) / 2 buckets, times the density. */
        ck_assert_uint_eq(info.index_buckets, (info.rows + 1) / 2 * (f == 0 ? 8 : 1));
        anpr_segment_close(g);
    }
    free(files);
    size_t want = 0;
    for (size_t i = 0; i < 2 * N; i++) want += strcmp(r[i].plate, r[0].plate) == 0;
    ck_assert_uint_ge(want, 2);
    ck_assert_uint_eq(count_reads(s, r[0].plate), want);
    anpr_store_close(s);
    free(r);
    free(p);
    tu_rmrf(dir);
    free(dir);
}
END_TEST

START_TEST(block_rows_option)
{
    enum { N = 2500, ROWS = 1000 };
    char *dir = tu_tmpdir("store-blocks");
    char err[512] = "";
    anpr_store *s = NULL;
    anpr_store_options o = ANPR_STORE_OPTIONS_INIT;
    o.flags = ANPR_OPEN_CREATE;
    o.errbuf = err;
    o.errbuf_size = sizeof err;
    unsigned bad[] = {1, 255, 65537};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        o.block_rows = bad[i];
        ck_assert_int_eq(anpr_store_open(&s, dir, &o), ANPR_EINVAL);
        ck_assert_msg(strstr(err, "block_rows") != NULL, "message: %s", err);
    }

    /* A caller built against version 1's header passes a struct that ends before block_rows. */
    ck_assert_msg(open_older(&s, dir, o, 1, offsetof(anpr_store_options, block_rows)) == ANPR_OK, "version 1: %s",
                  err);
    anpr_store_close(s);

    /* Files written with block_rows hold blocks of that many rows, and every read. */
    o.block_rows = ROWS;
    ck_assert_msg(anpr_store_open(&s, dir, &o) == ANPR_OK, "open: %s", err);
    anpr_writer *w;
    ck_assert_int_eq(anpr_writer_open(&w, s), ANPR_OK);
    anpr_read *r = malloc(N * sizeof *r);
    plate_buf *p = malloc(N * sizeof *p);
    make_reads(r, p, N, 1, 3);
    ck_assert_int_eq(anpr_writer_append(w, r, N, NULL, NULL), ANPR_OK);
    ck_assert_int_eq(anpr_writer_merge(w, ANPR_ALL_DAYS), ANPR_OK);
    ck_assert_int_eq(anpr_writer_close(w), ANPR_OK);
    anpr_file_info *files;
    size_t nfiles;
    ck_assert_int_eq(anpr_store_files(s, &files, &nfiles), ANPR_OK);
    ck_assert_uint_eq(nfiles, 1);
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, files[0].name);
    anpr_segment *g;
    anpr_segment_info info;
    ck_assert_int_eq(anpr_segment_open(&g, path, NULL, 0), ANPR_OK);
    ck_assert_int_eq(anpr_segment_info_get(g, &info), ANPR_OK);
    ck_assert_uint_eq(info.block_rows, ROWS);
    ck_assert_uint_eq(info.blocks, (N + ROWS - 1) / ROWS);
    anpr_segment_close(g);
    free(files);
    anpr_store_close(s);

    /* A next day written with the default blocks: a plate history spans both block sizes. */
    o.block_rows = 0;
    ck_assert_msg(anpr_store_open(&s, dir, &o) == ANPR_OK, "open: %s", err);
    ck_assert_int_eq(anpr_writer_open(&w, s), ANPR_OK);
    anpr_read *r2 = malloc(N * sizeof *r2);
    plate_buf *p2 = malloc(N * sizeof *p2);
    make_reads(r2, p2, N, 1, 5);
    for (size_t i = 0; i < N; i++) r2[i].ts_ms += DAY_MS;
    r2[N / 2].plate = r[0].plate;
    ck_assert_int_eq(anpr_writer_append(w, r2, N, NULL, NULL), ANPR_OK);
    ck_assert_int_eq(anpr_writer_merge(w, ANPR_ALL_DAYS), ANPR_OK);
    ck_assert_int_eq(anpr_writer_close(w), ANPR_OK);
    size_t want = 0;
    for (size_t i = 0; i < N; i++)
        want += (strcmp(r[i].plate, r[0].plate) == 0) + (strcmp(r2[i].plate, r[0].plate) == 0);
    ck_assert_uint_ge(want, 2);
    ck_assert_uint_eq(count_reads(s, r[0].plate), want);
    anpr_store_close(s);
    free(r2);
    free(p2);
    free(r);
    free(p);
    tu_rmrf(dir);
    free(dir);
}
END_TEST

START_TEST(append_validates_each_read)
{
    char *dir = tu_tmpdir("store-validate");
    anpr_store *s = tu_store_create(dir, 0);
    anpr_writer *w;
    ck_assert_int_eq(anpr_writer_open(&w, s), ANPR_OK);
    anpr_read r[5];
    plate_buf p[5];
    make_reads(r, p, 5, 1, 1);
    r[1].plate = "AB*12";
    r[3].confidence = 150;
    int verdicts[5];
    size_t accepted;
    ck_assert_int_eq(anpr_writer_append(w, r, 5, &accepted, verdicts), ANPR_EBADREAD);
    ck_assert_uint_eq(accepted, 3);
    ck_assert_int_eq(verdicts[0], ANPR_READ_OK);
    ck_assert_int_eq(verdicts[1], ANPR_READ_PLATE_BAD_CHAR);
    ck_assert_int_eq(verdicts[3], ANPR_READ_CONFIDENCE_RANGE);
    ck_assert_ptr_nonnull(strstr(anpr_errmsg(s), "2 of 5 reads refused"));
    ck_assert_int_eq(anpr_writer_commit(w), ANPR_OK);
    anpr_stats st;
    ck_assert_int_eq(anpr_store_stats(s, &st), ANPR_OK);
    ck_assert_uint_eq(st.buffered, 3);
    ck_assert_int_eq(anpr_writer_close(w), ANPR_OK);
    anpr_store_close(s);

    /* The three good reads were committed: a new writer replays them and flushes. */
    s = tu_store_create(dir, 0);
    ck_assert_int_eq(anpr_writer_open(&w, s), ANPR_OK);
    ck_assert_int_eq(anpr_writer_flush(w), ANPR_OK);
    ck_assert_int_eq(anpr_writer_close(w), ANPR_OK);
    anpr_store_close(s);
    anpr_read good[3] = {r[0], r[2], r[4]};
    assert_store_holds(dir, good, 3);
    tu_rmrf(dir);
    free(dir);
}
END_TEST

START_TEST(days_duplicates_and_merge)
{
    enum { N = 20000 };
    char *dir = tu_tmpdir("store-days");
    /* A 1 MiB budget forces many flushes, so each day gets several parts. */
    anpr_store *s = tu_store_create(dir, 1u << 20);
    anpr_writer *w;
    ck_assert_int_eq(anpr_writer_open(&w, s), ANPR_OK);
    anpr_read *r = malloc((N + N / 10) * sizeof *r);
    plate_buf *p = malloc(N * sizeof *p);
    make_reads(r, p, N, 3, 7);
    /* Resends: copies of earlier reads arriving again later, after their first copy was flushed. */
    for (size_t i = 0; i < N / 10; i++) r[N + i] = r[i * 7];
    size_t total = N + N / 10;
    for (size_t i = 0; i < total; i += 1000) {
        size_t n = total - i < 1000 ? total - i : 1000;
        ck_assert_int_eq(anpr_writer_append(w, r + i, n, NULL, NULL), ANPR_OK);
        if (i % 5000 == 0) ck_assert_int_eq(anpr_writer_commit(w), ANPR_OK);
    }
    ck_assert_int_eq(anpr_writer_flush(w), ANPR_OK);
    anpr_stats st;
    ck_assert_int_eq(anpr_store_stats(s, &st), ANPR_OK);
    ck_assert_uint_eq(st.days, 3);
    ck_assert_uint_gt(st.parts, 3);
    ck_assert_int_eq(anpr_writer_merge(w, ANPR_ALL_DAYS), ANPR_OK);
    ck_assert_int_eq(anpr_store_stats(s, &st), ANPR_OK);
    ck_assert_uint_eq(st.days, 3);
    ck_assert_uint_eq(st.segments, 3);
    ck_assert_uint_eq(st.parts, 0);
    ck_assert_uint_eq(st.reads, N);
    ck_assert_int_eq(st.oldest_ms / DAY_MS, DAY0);
    ck_assert_int_eq(st.newest_ms / DAY_MS, DAY0 + 2);
    ck_assert_int_eq(anpr_writer_close(w), ANPR_OK);
    anpr_store_close(s);
    assert_store_holds(dir, r, total);
    free(r);
    free(p);
    tu_rmrf(dir);
    free(dir);
}
END_TEST

START_TEST(late_reads_land_in_their_day)
{
    char *dir = tu_tmpdir("store-late");
    anpr_store *s = tu_store_create(dir, 0);
    anpr_writer *w;
    ck_assert_int_eq(anpr_writer_open(&w, s), ANPR_OK);
    anpr_read r[200];
    plate_buf p[200];
    make_reads(r, p, 200, 1, 3);
    for (int i = 0; i < 100; i++) r[i].ts_ms += 2 * DAY_MS; /* day 2 first */
    ck_assert_int_eq(anpr_writer_append(w, r, 100, NULL, NULL), ANPR_OK);
    ck_assert_int_eq(anpr_writer_merge(w, ANPR_ALL_DAYS), ANPR_OK);
    /* Two days late: they still go to day 0, not to the newest day. */
    ck_assert_int_eq(anpr_writer_append(w, r + 100, 100, NULL, NULL), ANPR_OK);
    ck_assert_int_eq(anpr_writer_flush(w), ANPR_OK);
    anpr_file_info *files;
    size_t n;
    ck_assert_int_eq(anpr_store_files(s, &files, &n), ANPR_OK);
    ck_assert_uint_eq(n, 2);
    ck_assert_int_eq(files[0].day, DAY0);
    ck_assert_int_eq(files[0].is_part, 1);
    ck_assert_uint_eq(files[0].rows, 100);
    ck_assert_int_eq(files[1].day, DAY0 + 2);
    ck_assert_int_eq(files[1].is_part, 0);
    free(files);
    ck_assert_int_eq(anpr_writer_close(w), ANPR_OK);
    anpr_store_close(s);
    assert_store_holds(dir, r, 200);
    tu_rmrf(dir);
    free(dir);
}
END_TEST

START_TEST(one_writer_at_a_time)
{
    char *dir = tu_tmpdir("store-lock");
    anpr_store *s = tu_store_create(dir, 0), *s2 = tu_store_create(dir, 0);
    anpr_writer *w, *w2;
    ck_assert_int_eq(anpr_writer_open(&w, s), ANPR_OK);
    ck_assert_int_eq(anpr_writer_open(&w2, s), ANPR_EBUSY);
    ck_assert_ptr_null(w2);
    ck_assert_int_eq(anpr_writer_open(&w2, s2), ANPR_ELOCKED);
    ck_assert_ptr_nonnull(strstr(anpr_errmsg(s2), "locked"));
    /* Another process is refused too. */
    pid_t pid = fork();
    if (pid == 0) {
        anpr_store *cs;
        anpr_writer *cw;
        if (anpr_store_open(&cs, dir, NULL) != ANPR_OK) _exit(3);
        int rc = anpr_writer_open(&cw, cs);
        _exit(rc == ANPR_ELOCKED ? 0 : 1);
    }
    int status;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    /* Readers are never blocked. */
    anpr_store *ro;
    anpr_store_options o = ANPR_STORE_OPTIONS_INIT;
    o.flags = ANPR_OPEN_READONLY;
    ck_assert_int_eq(anpr_store_open(&ro, dir, &o), ANPR_OK);
    anpr_stats st;
    ck_assert_int_eq(anpr_store_stats(ro, &st), ANPR_OK);
    ck_assert_int_eq(anpr_writer_open(&w2, ro), ANPR_EREADONLY);
    anpr_store_close(ro);
    /* Once released, the lock can be taken. */
    ck_assert_int_eq(anpr_writer_close(w), ANPR_OK);
    ck_assert_int_eq(anpr_writer_open(&w2, s2), ANPR_OK);
    ck_assert_int_eq(anpr_writer_close(w2), ANPR_OK);
    anpr_store_close(s);
    anpr_store_close(s2);
    tu_rmrf(dir);
    free(dir);
}
END_TEST

START_TEST(retention_drops_days_and_refuses_them)
{
    char *dir = tu_tmpdir("store-retention");
    anpr_store *s = tu_store_create_retained(dir, 0, 2);
    anpr_writer *w;
    ck_assert_int_eq(anpr_writer_open(&w, s), ANPR_OK);
    enum { N = 500 };
    anpr_read r[N];
    plate_buf p[N];
    make_reads(r, p, N, 5, 11);
    ck_assert_int_eq(anpr_writer_append(w, r, N, NULL, NULL), ANPR_OK);
    ck_assert_int_eq(anpr_writer_flush(w), ANPR_OK);
    ck_assert_int_eq(anpr_writer_maintain(w), ANPR_OK);
    anpr_stats st;
    ck_assert_int_eq(anpr_store_stats(s, &st), ANPR_OK);
    ck_assert_uint_eq(st.days, 2); /* the newest two of five */
    ck_assert_int_eq(st.oldest_ms / DAY_MS, DAY0 + 3);
    /* A late read for a dropped day is refused, never stored. */
    int v;
    size_t acc;
    ck_assert_int_eq(anpr_writer_append(w, &r[0], 1, &acc, &v), ANPR_EBADREAD);
    ck_assert_int_eq(v, ANPR_READ_TS_EXPIRED);
    ck_assert_uint_eq(acc, 0);
    ck_assert_int_eq(anpr_writer_close(w), ANPR_OK);
    anpr_store_close(s);
    /* The floor survives a reopen. */
    s = tu_store_create(dir, 0);
    ck_assert_int_eq(anpr_writer_open(&w, s), ANPR_OK);
    ck_assert_int_eq(anpr_writer_append(w, &r[0], 1, &acc, &v), ANPR_EBADREAD);
    ck_assert_int_eq(v, ANPR_READ_TS_EXPIRED);
    ck_assert_int_eq(anpr_writer_close(w), ANPR_OK);
    anpr_store_close(s);
    anpr_read kept[N];
    size_t nk = 0;
    for (size_t i = 0; i < N; i++)
        if (r[i].ts_ms / DAY_MS >= DAY0 + 3) kept[nk++] = r[i];
    assert_store_holds(dir, kept, nk);
    tu_rmrf(dir);
    free(dir);
}
END_TEST

/*
 * The store's cache of open segment readers: found by file id whatever the
 * order queries return them in, never more than its limit (lowered here to
 * 3 of 6 segments), and without the readers of files an expiry removed.
 */
static void assert_cache_sane(anpr_store *s, size_t max)
{
    size_t n = 0, newer = 0;
    for (const store_reader *r = s->oldest_reader; r; r = r->newer, n++) {
        ck_assert_ptr_eq(r->newer ? r->newer->older : s->newest_reader, r);
        int found = 0, live = 0;
        for (size_t k = 0; !found && k < STORE_READER_CHAINS; k++)
            for (const store_reader *c = s->reader_chains[k]; c && !found; c = c->chain) found = c == r;
        ck_assert(found);
        for (size_t i = 0; i < s->man.nfiles; i++) live |= s->man.files[i].id == r->id;
        ck_assert(live);
        newer += r->newer != NULL;
    }
    ck_assert_uint_eq(n, s->nreaders);
    ck_assert_uint_le(n, max);
    ck_assert_uint_eq(newer, n ? n - 1 : 0);
}

START_TEST(reader_cache_by_id_and_limit)
{
    enum { N = 6000, DAYS = 6 };
    char *dir = tu_tmpdir("store-readers");
    anpr_store *s = tu_store_create(dir, 64u << 20);
    s->readers_max = 3;
    anpr_writer *w;
    ck_assert_int_eq(anpr_writer_open(&w, s), ANPR_OK);
    anpr_read *r = malloc(N * sizeof *r);
    plate_buf *p = malloc(N * sizeof *p);
    make_reads(r, p, N, DAYS, 11);
    ck_assert_int_eq(anpr_writer_append(w, r, N, NULL, NULL), ANPR_OK);
    ck_assert_int_eq(anpr_writer_commit(w), ANPR_OK);
    ck_assert_int_eq(anpr_writer_flush(w), ANPR_OK);
    ck_assert_int_eq(anpr_writer_merge(w, ANPR_ALL_DAYS), ANPR_OK);
    /* Whole-store queries, and single days taken in an order of their own: the same reads each time. */
    for (int round = 0; round < 3; round++) {
        uint64_t n;
        char why[256];
        ck_assert_int_eq(tu_query_all(s, &n, why, sizeof why), ANPR_OK);
        ck_assert_uint_eq(n, N);
        uint64_t sum = 0;
        static const int order[DAYS] = {4, 0, 5, 2, 1, 3};
        for (int d = 0; d < DAYS; d++) {
            anpr_query q = ANPR_QUERY_INIT;
            q.from_ms = (int64_t)(DAY0 + order[d]) * DAY_MS;
            q.to_ms = q.from_ms + DAY_MS;
            anpr_cursor *c;
            ck_assert_int_eq(anpr_query_open(&c, s, &q), ANPR_OK);
            anpr_batch b;
            int rc;
            while ((rc = anpr_cursor_next(c, &b)) > 0) sum += b.n;
            ck_assert_int_eq(rc, 0);
            anpr_cursor_close(c);
            assert_cache_sane(s, 3);
        }
        ck_assert_uint_eq(sum, N);
        ck_assert_uint_eq(s->nreaders, 3);
    }
    /* Expire four days: the next query drops their readers. */
    ck_assert_int_eq(anpr_writer_expire(w, (int64_t)(DAY0 + 4) * DAY_MS), ANPR_OK);
    uint64_t n;
    char why[256];
    ck_assert_int_eq(tu_query_all(s, &n, why, sizeof why), ANPR_OK);
    ck_assert_uint_lt(n, N);
    assert_cache_sane(s, 2);
    ck_assert_int_eq(anpr_writer_close(w), ANPR_OK);
    anpr_store_close(s);
    free(r);
    free(p);
    tu_rmrf(dir);
    free(dir);
}
END_TEST

typedef struct thread_arg {
    anpr_writer *w;
    anpr_read *r;
    size_t n;
    int rc;
} thread_arg;

static void *ingest_thread(void *p)
{
    thread_arg *a = p;
    for (size_t i = 0; i < a->n; i += 50) {
        size_t k = a->n - i < 50 ? a->n - i : 50;
        a->rc = anpr_writer_append(a->w, a->r + i, k, NULL, NULL);
        if (a->rc == 0) a->rc = anpr_writer_commit(a->w);
        if (a->rc) break;
    }
    return NULL;
}

/* nthreads threads append and commit slices of per reads each on one writer, the odd ones running odd_body. */
static void ingest_in_threads(anpr_writer *w, anpr_read *r, int nthreads, size_t per, void *(*odd_body)(void *))
{
    pthread_t th[8];
    thread_arg args[8];
    ck_assert_int_le(nthreads, 8);
    for (int t = 0; t < nthreads; t++) {
        args[t] = (thread_arg){w, r + (size_t)t * per, per, 0};
        pthread_create(&th[t], NULL, t % 2 ? odd_body : ingest_thread, &args[t]);
    }
    for (int t = 0; t < nthreads; t++) {
        pthread_join(th[t], NULL);
        ck_assert_int_eq(args[t].rc, ANPR_OK);
    }
}

START_TEST(threads_share_a_writer)
{
    enum { T = 4, PER = 2000 };
    char *dir = tu_tmpdir("store-threads");
    anpr_store *s = tu_store_create(dir, 1u << 20);
    anpr_writer *w;
    ck_assert_int_eq(anpr_writer_open(&w, s), ANPR_OK);
    anpr_read *r = malloc(T * PER * sizeof *r);
    plate_buf *p = malloc(T * PER * sizeof *p);
    make_reads(r, p, T * PER, 2, 5);
    ingest_in_threads(w, r, T, PER, ingest_thread);
    ck_assert_int_eq(anpr_writer_merge(w, ANPR_ALL_DAYS), ANPR_OK);
    ck_assert_int_eq(anpr_writer_close(w), ANPR_OK);
    anpr_store_close(s);
    assert_store_holds(dir, r, T * PER);
    free(r);
    free(p);
    tu_rmrf(dir);
    free(dir);
}
END_TEST

/*
 * A file system that notes when a journal is created or closed while an
 * fsync of a journal is in flight: a writer's threads commit (one fsyncs,
 * the lock released, while the others wait or go on) and flush (which
 * creates the next journal and closes the old) all at once, and a flush
 * must wait for such an fsync to land. Before it did, a thread woken after
 * a flush could fsync the new, still empty journal while a flush with
 * nothing to commit went ahead under it.
 */
typedef struct slow_sync {
    anpr_vfs vfs;
    pthread_mutex_t mu;
    int journal[64];    /* descriptors of journal files */
    int syncing;        /* journal fsyncs in flight */
    int overlaps;       /* journals created or closed while one was */
    long fsyncs;
} slow_sync;

static int is_journal_fd(const slow_sync *f, int fd)
{
    return fd >= 0 && fd < 64 && f->journal[fd];
}

static int journal_open_noted(const anpr_vfs *v, const char *path, int flags, unsigned mode)
{
    slow_sync *f = v->ctx;
    int journal_file = strstr(path, "journal-") != NULL;
    pthread_mutex_lock(&f->mu);
    if (journal_file && (flags & O_CREAT) && f->syncing) f->overlaps++;
    pthread_mutex_unlock(&f->mu);
    int fd = anpr_vfs_posix()->open(anpr_vfs_posix(), path, flags, mode);
    pthread_mutex_lock(&f->mu);
    if (fd >= 0 && fd < 64) f->journal[fd] = journal_file;
    pthread_mutex_unlock(&f->mu);
    return fd;
}

static int slow_fsync(const anpr_vfs *v, int fd)
{
    slow_sync *f = v->ctx;
    pthread_mutex_lock(&f->mu);
    int slow = is_journal_fd(f, fd);
    f->syncing += slow;
    f->fsyncs += slow;
    pthread_mutex_unlock(&f->mu);
    if (slow) usleep(300);
    int rc = anpr_vfs_posix()->fsync(anpr_vfs_posix(), fd);
    pthread_mutex_lock(&f->mu);
    f->syncing -= slow;
    pthread_mutex_unlock(&f->mu);
    return rc;
}

static int watched_close(const anpr_vfs *v, int fd)
{
    slow_sync *f = v->ctx;
    pthread_mutex_lock(&f->mu);
    if (is_journal_fd(f, fd) && f->syncing) f->overlaps++;
    pthread_mutex_unlock(&f->mu);
    return anpr_vfs_posix()->close(anpr_vfs_posix(), fd);
}

static void *flush_thread(void *p)
{
    thread_arg *a = p;
    for (size_t i = 0; i < a->n; i += 25) {
        size_t k = a->n - i < 25 ? a->n - i : 25;
        a->rc = anpr_writer_append(a->w, a->r + i, k, NULL, NULL);
        /* Commit, or flush at once (which commits first): both race the other threads' fsyncs. */
        if (a->rc == 0) a->rc = (i / 25) % 2 ? anpr_writer_flush(a->w) : anpr_writer_commit(a->w);
        if (a->rc) break;
    }
    return NULL;
}

typedef struct flusher_arg {
    anpr_writer *w;
    _Atomic int stop;
    int rc;
    long flushes;
} flusher_arg;

/* Flushes with nothing of its own to commit: its commit returns at once, whoever is fsyncing. */
static void *idle_flush_thread(void *p)
{
    flusher_arg *a = p;
    while (!a->stop && a->rc == 0) {
        a->rc = anpr_writer_flush(a->w);
        a->flushes++;
    }
    return NULL;
}

START_TEST(flush_waits_for_fsyncs_in_flight)
{
    enum { T = 4, PER = 1500 };
    char *dir = tu_tmpdir("store-flush-race");
    slow_sync f = {.vfs = *anpr_vfs_posix()};
    f.vfs.open = journal_open_noted;
    f.vfs.fsync = slow_fsync;
    f.vfs.close = watched_close;
    f.vfs.ctx = &f;
    pthread_mutex_init(&f.mu, NULL);
    anpr_store *s;
    anpr_store_options o = ANPR_STORE_OPTIONS_INIT;
    o.flags = ANPR_OPEN_CREATE;
    ck_assert_int_eq(store_open_vfs(&s, dir, &o, &f.vfs), ANPR_OK);
    anpr_writer *w;
    ck_assert_int_eq(anpr_writer_open(&w, s), ANPR_OK);
    anpr_read *r = malloc(T * PER * sizeof *r);
    plate_buf *p = malloc(T * PER * sizeof *p);
    make_reads(r, p, T * PER, 2, 9);
    flusher_arg fa = {w, 0, 0, 0};
    pthread_t ft;
    pthread_create(&ft, NULL, idle_flush_thread, &fa);
    /* Half the threads flush every other batch; the rest only commit. */
    ingest_in_threads(w, r, T, PER, flush_thread);
    fa.stop = 1;
    pthread_join(ft, NULL);
    ck_assert_int_eq(fa.rc, ANPR_OK);
    ck_assert_int_eq(anpr_writer_close(w), ANPR_OK);
    anpr_store_close(s);
    ck_assert_int_eq(f.overlaps, 0);
    ck_assert_int_gt(f.fsyncs, 100);
    assert_store_holds(dir, r, T * PER);
    pthread_mutex_destroy(&f.mu);
    free(r);
    free(p);
    tu_rmrf(dir);
    free(dir);
}
END_TEST

/* The path of journal gen in dir. */
/* The journal files in dir, and the size of the one of generation gen (-1 when absent). */
static int journal_files(const char *dir, uint64_t gen, long long *size)
{
    char path[4096];
    journal_path(path, sizeof path, dir, gen);
    *size = tu_file_size(path);
    DIR *d = opendir(dir);
    ck_assert_ptr_nonnull(d);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) n += strncmp(e->d_name, "journal-", 8) == 0;
    closedir(d);
    return n;
}

static unsigned long journal_inode(const char *dir, uint64_t gen)
{
    char path[4096];
    journal_path(path, sizeof path, dir, gen);
    struct stat st;
    ck_assert_int_eq(stat(path, &st), 0);
    return (unsigned long)st.st_ino;
}

/*
 * Each flush after the first recycles the journal the flush before it
 * retired (the same file, renamed, its pages overwritten): a reader in
 * another handle sees every committed read throughout, a clean close
 * leaves the live journal alone, without older records after its own, and
 * a reopen replays exactly what was committed.
 */
START_TEST(flushes_recycle_journals)
{
    enum { N = 2000, ROUNDS = 4 };
    char *dir = tu_tmpdir("store-recycle");
    anpr_store *s = tu_store_create(dir, 0);
    anpr_store *reader;
    anpr_store_options ro = ANPR_STORE_OPTIONS_INIT;
    ro.flags = ANPR_OPEN_READONLY;
    ro.refresh_ms = 1;
    ck_assert_int_eq(anpr_store_open(&reader, dir, &ro), ANPR_OK);
    anpr_writer *w;
    ck_assert_int_eq(anpr_writer_open(&w, s), ANPR_OK);
    anpr_read *r = malloc((ROUNDS * N + 10) * sizeof *r);
    plate_buf *p = malloc((ROUNDS * N + 10) * sizeof *p);
    make_reads(r, p, ROUNDS * N + 10, 3, 11);
    long long size;
    unsigned long retired = 0;
    for (unsigned k = 0; k < ROUNDS; k++) {
        ck_assert_int_eq(anpr_writer_append(w, r + (size_t)k * N, N, NULL, NULL), ANPR_OK);
        ck_assert_int_eq(anpr_writer_commit(w), ANPR_OK);
        usleep(2000);
        ck_assert_uint_eq(count_reads(reader, NULL), (size_t)(k + 1) * N);
        /* Generation k + 1 is live; after the flush, k + 2 is, and k + 1 is the spare. */
        unsigned long live = journal_inode(dir, k + 1);
        ck_assert_int_eq(anpr_writer_flush(w), ANPR_OK);
        ck_assert_int_eq(journal_files(dir, k + 2, &size), 2);
        ck_assert_uint_eq(journal_inode(dir, k + 1), live);
        if (k > 0) ck_assert_uint_eq(journal_inode(dir, k + 2), retired);
        ck_assert_int_eq(size, k == 0 ? JOURNAL_HEADER_SIZE
                                      : JOURNAL_HEADER_SIZE + JOURNAL_RECORD_HEADER_SIZE + N * JOURNAL_ROW_SIZE);
        retired = live;
        usleep(2000);
        ck_assert_uint_eq(count_reads(reader, NULL), (size_t)(k + 1) * N);
    }
    ck_assert_int_eq(anpr_writer_append(w, r + (size_t)ROUNDS * N, 10, NULL, NULL), ANPR_OK);
    ck_assert_int_eq(anpr_writer_close(w), ANPR_OK);
    /* The spare is gone; the live journal holds its header, the record of 10 reads and the closing mark. */
    ck_assert_int_eq(journal_files(dir, ROUNDS + 1, &size), 1);
    ck_assert_int_eq(size, JOURNAL_HEADER_SIZE + 2 * JOURNAL_RECORD_HEADER_SIZE + 10 * JOURNAL_ROW_SIZE);
    usleep(2000);
    ck_assert_uint_eq(count_reads(reader, NULL), (size_t)ROUNDS * N + 10);
    anpr_store_close(reader);
    ck_assert_int_eq(anpr_writer_open(&w, s), ANPR_OK);
    ck_assert_int_eq(anpr_writer_flush(w), ANPR_OK);
    ck_assert_int_eq(anpr_writer_close(w), ANPR_OK);
    anpr_store_close(s);
    assert_store_holds(dir, r, (size_t)ROUNDS * N + 10);
    free(r);
    free(p);
    tu_rmrf(dir);
    free(dir);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("store");
    TCase *tc = tcase_create("store");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, open_errors);
    tcase_add_test(tc, block_rows_option);
    tcase_add_test(tc, query_threads_option);
    tcase_add_test(tc, map_flag_and_env);
    tcase_add_test(tc, index_density_option);
    tcase_add_test(tc, append_validates_each_read);
    tcase_add_test(tc, days_duplicates_and_merge);
    tcase_add_test(tc, late_reads_land_in_their_day);
    tcase_add_test(tc, one_writer_at_a_time);
    tcase_add_test(tc, retention_drops_days_and_refuses_them);
    tcase_add_test(tc, reader_cache_by_id_and_limit);
    tcase_add_test(tc, threads_share_a_writer);
    tcase_add_test(tc, flush_waits_for_fsyncs_in_flight);
    tcase_add_test(tc, flushes_recycle_journals);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
