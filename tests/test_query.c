/*
 * Queries through the public API against a plain reference: three days of
 * generated traffic (late reads, resent duplicates and misreads included)
 * are kept in memory as well as stored, and every query shape (all reads,
 * a window, an exact plate, a misread-tolerant plate, partial plates, one
 * camera, a set of cameras, an area, a limit) is answered by both and
 * compared read for read: while reads are only buffered, once they sit in
 * several unmerged parts, and after the merge into daily segments.
 */
#include <check.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "anpr/anpr.h"
#include "anpr/segment.h"
#include "store/store.h"
#include "synth.h"
#include "testutil.h"

#define DAY_MS INT64_C(86400000)

typedef struct ref {
    anpr_row *rows;
    size_t n, cap;
} ref;

static int cmp_key(const void *pa, const void *pb)
{
    const anpr_row *a = pa, *b = pb;
    if (a->ts_ms != b->ts_ms) return a->ts_ms < b->ts_ms ? -1 : 1;
    if (a->camera != b->camera) return a->camera < b->camera ? -1 : 1;
    return strcmp(a->plate, b->plate);
}

/* Glob with '?' and '*', as the library defines partial plates. */
static int glob(const char *p, const char *s)
{
    if (*p == '\0') return *s == '\0';
    if (*p == '*') return glob(p + 1, s) || (*s && glob(p, s + 1));
    return *s && (*p == '?' || *p == *s) && glob(p + 1, s + 1);
}

/* The reference answer: filter, sort, one copy of each read. */
static anpr_row *answer(const ref *r, const anpr_query *q, size_t *n)
{
    anpr_row *out = malloc((r->n + 1) * sizeof *out);
    size_t k = 0;
    char want[64] = "";
    int partial = 0;
    if (q->plate) {
        /* Normalise the query like the library: drop spaces and dashes, upper-case; fold if fuzzy. */
        size_t m = 0;
        for (const char *p = q->plate; *p; p++) {
            char c = *p;
            if (c == ' ' || c == '-') continue;
            if (c >= 'a' && c <= 'z') c = (char)(c - 32);
            partial |= c == '?' || c == '*';
            want[m++] = c;
        }
        want[m] = '\0';
        if (q->fuzzy)
            for (char *p = want; *p; p++) {
                char one[2] = {*p, 0}, f[ANPR_PLATE_MAX + 1];
                if (*p != '?' && *p != '*' && anpr_plate_fold(f, one) == 1) *p = f[0];
            }
    }
    for (size_t i = 0; i < r->n; i++) {
        const anpr_row *x = &r->rows[i];
        if (x->ts_ms < q->from_ms || x->ts_ms >= q->to_ms) continue;
        if (q->ncameras) {
            int hit = 0;
            for (size_t c = 0; c < q->ncameras; c++) hit |= q->cameras[c] == x->camera;
            if (!hit) continue;
        }
        if (q->area && (x->lat_e7 == ANPR_POS_UNKNOWN || x->lat_e7 < q->lat_min_e7 || x->lat_e7 > q->lat_max_e7 ||
                        x->lon_e7 < q->lon_min_e7 || x->lon_e7 > q->lon_max_e7))
            continue;
        if (q->plate) {
            char f[ANPR_PLATE_MAX + 1];
            const char *p = x->plate;
            if (q->fuzzy) {
                anpr_plate_fold(f, x->plate);
                p = f;
            }
            if (partial ? !glob(want, p) : strcmp(want, p) != 0) continue;
        }
        out[k++] = *x;
    }
    qsort(out, k, sizeof *out, cmp_key);
    size_t m = 0;
    for (size_t i = 0; i < k; i++)
        if (m == 0 || cmp_key(&out[m - 1], &out[i]) != 0) out[m++] = out[i];
    if (q->limit && m > q->limit) m = (size_t)q->limit;
    *n = m;
    return out;
}

/* Run q on the store and compare with the reference; returns the number of reads. */
static size_t check_query(anpr_store *s, const ref *r, const anpr_query *q, const char *what)
{
    size_t want_n;
    anpr_row *want = answer(r, q, &want_n);
    anpr_cursor *c;
    ck_assert_msg(anpr_query_open(&c, s, q) == ANPR_OK, "%s: %s", what, anpr_errmsg(s));
    size_t got = 0;
    anpr_batch b;
    int rc;
    while ((rc = anpr_cursor_next(c, &b)) == 1) {
        ck_assert_uint_gt(b.n, 0);
        for (size_t i = 0; i < b.n; i++, got++) {
            ck_assert_msg(got < want_n, "%s: more reads than the reference (%zu)", what, want_n);
            const anpr_row *w = &want[got];
            ck_assert_msg(b.ts_ms[i] == w->ts_ms && b.camera[i] == w->camera && strcmp(b.plate[i], w->plate) == 0,
                          "%s: read %zu: got %lld %u %s, want %lld %u %s", what, got, (long long)b.ts_ms[i],
                          b.camera[i], b.plate[i], (long long)w->ts_ms, w->camera, w->plate);
            ck_assert(b.lane[i] == w->lane && b.direction[i] == w->direction && b.confidence[i] == w->confidence);
            ck_assert(b.lat_e7[i] == w->lat_e7 && b.lon_e7[i] == w->lon_e7);
        }
    }
    ck_assert_msg(rc == 0, "%s: cursor: %s", what, anpr_cursor_errmsg(c));
    ck_assert_msg(got == want_n, "%s: %zu reads, the reference has %zu", what, got, want_n);
    ck_assert_int_eq(anpr_cursor_next(c, &b), 0); /* stays finished */
    anpr_cursor_close(c);
    free(want);
    return got;
}

/* Every query shape, with parameters taken from reads the reference holds. */
static void check_all_shapes(anpr_store *s, const ref *r)
{
    anpr_query q = ANPR_QUERY_INIT;
    check_query(s, r, &q, "every read");

    const anpr_row *a = &r->rows[r->n / 3], *b = &r->rows[r->n / 2], *c = &r->rows[(r->n * 4) / 5];
    q.from_ms = b->ts_ms - 3600000;
    q.to_ms = b->ts_ms + 3600000;
    ck_assert_uint_gt(check_query(s, r, &q, "two hours"), 0);
    q = (anpr_query)ANPR_QUERY_INIT;
    q.from_ms = c->ts_ms;
    check_query(s, r, &q, "open end");
    q = (anpr_query)ANPR_QUERY_INIT;
    q.to_ms = a->ts_ms;
    check_query(s, r, &q, "open start");

    q = (anpr_query)ANPR_QUERY_INIT;
    q.plate = a->plate;
    ck_assert_uint_gt(check_query(s, r, &q, "exact plate"), 0);
    q.fuzzy = 1;
    ck_assert_uint_gt(check_query(s, r, &q, "fuzzy plate"), 0);
    /* A misreading of the plate finds the same reads when fuzzy. */
    char mis[ANPR_PLATE_MAX + 1];
    strcpy(mis, b->plate);
    for (char *p = mis; *p; p++) {
        if (*p == '0') *p = 'O';
        else if (*p == '8') *p = 'B';
        else if (*p == '1') *p = 'I';
    }
    q.plate = mis;
    ck_assert_uint_gt(check_query(s, r, &q, "fuzzy misread"), 0);
    q.fuzzy = 0;
    check_query(s, r, &q, "exact misread");
    q.plate = "ab 12-cde"; /* written as people write plates */
    check_query(s, r, &q, "spaced plate");

    /* Partial plates: one unknown character, and a known start. */
    char part[ANPR_PLATE_MAX + 2];
    strcpy(part, c->plate);
    part[1] = '?';
    q.plate = part;
    ck_assert_uint_gt(check_query(s, r, &q, "partial ?"), 0);
    /* Two unknown characters, exact and folded (found by codes); three unknown letters (too many codes: decoded). */
    strcpy(part, c->plate);
    part[1] = '?';
    if (strlen(part) > 5) part[5] = '?';
    ck_assert_uint_gt(check_query(s, r, &q, "partial ??"), 0);
    q.fuzzy = 1;
    ck_assert_uint_gt(check_query(s, r, &q, "fuzzy partial ??"), 0);
    q.fuzzy = 0;
    strcpy(part, "AB12???");
    check_query(s, r, &q, "partial ???");
    /* A plate outside the current format, with an unknown character. */
    for (size_t i = 0; i < r->n; i++) {
        size_t len = strlen(r->rows[i].plate);
        if (len == 7 && isdigit((unsigned char)r->rows[i].plate[2])) continue;
        strcpy(part, r->rows[i].plate);
        part[len - 1] = '?';
        ck_assert_uint_gt(check_query(s, r, &q, "partial ? of another format"), 0);
        break;
    }
    snprintf(part, sizeof part, "%.3s*", c->plate);
    ck_assert_uint_gt(check_query(s, r, &q, "partial *"), 0);
    q.fuzzy = 1;
    check_query(s, r, &q, "fuzzy partial");
    q.fuzzy = 0;
    q.from_ms = c->ts_ms - DAY_MS / 2;
    q.to_ms = c->ts_ms + DAY_MS / 2;
    check_query(s, r, &q, "partial in a day");

    q = (anpr_query)ANPR_QUERY_INIT;
    uint32_t cams[3] = {a->camera, b->camera, c->camera};
    q.cameras = cams;
    q.ncameras = 1;
    ck_assert_uint_gt(check_query(s, r, &q, "one camera"), 0);
    q.from_ms = a->ts_ms - 1800000;
    q.to_ms = a->ts_ms + 1800000;
    ck_assert_uint_gt(check_query(s, r, &q, "one camera, one hour"), 0);
    q = (anpr_query)ANPR_QUERY_INIT;
    q.cameras = cams;
    q.ncameras = 3;
    check_query(s, r, &q, "three cameras");

    q = (anpr_query)ANPR_QUERY_INIT;
    const anpr_row *pos = a;
    for (size_t i = r->n / 3; i < r->n && pos->lat_e7 == ANPR_POS_UNKNOWN; i++) pos = &r->rows[i];
    q.area = 1;
    q.lat_min_e7 = pos->lat_e7 - 500000;
    q.lat_max_e7 = pos->lat_e7 + 500000;
    q.lon_min_e7 = pos->lon_e7 - 500000;
    q.lon_max_e7 = pos->lon_e7 + 500000;
    ck_assert_uint_gt(check_query(s, r, &q, "area"), 0);
    q.from_ms = pos->ts_ms - 1800000;
    q.to_ms = pos->ts_ms + 1800000;
    ck_assert_uint_gt(check_query(s, r, &q, "area, one hour"), 0);

    q = (anpr_query)ANPR_QUERY_INIT;
    q.limit = 1000;
    ck_assert_uint_eq(check_query(s, r, &q, "limit"), r->n < 1000 ? r->n : 1000);
}

/* Append a batch to the store, and the reads it accepts to the reference. */
static void append_to_both(anpr_writer *w, ref *r, const anpr_read *batch, size_t n, int *verdicts)
{
    size_t ok;
    int rc = anpr_writer_append(w, batch, n, &ok, verdicts);
    ck_assert(rc == ANPR_OK || rc == ANPR_EBADREAD);
    for (size_t i = 0; i < n; i++) {
        if (verdicts[i] != ANPR_READ_OK) continue;
        if (r->n == r->cap) {
            r->cap = r->cap ? 2 * r->cap : 4096;
            r->rows = realloc(r->rows, r->cap * sizeof *r->rows);
        }
        ck_assert_int_eq(tu_row_from_read(&r->rows[r->n++], &batch[i]), ANPR_READ_OK);
    }
}

/*
 * A generator of `days` days of traffic at reads_per_day: ending where the
 * generator's default ends them, or with `past`, before yesterday, so that
 * no read is refused as in the future whatever the days.
 */
static synth *new_traffic(size_t reads_per_day, int days, int past)
{
    synth_config cfg;
    synth_config_default(&cfg, reads_per_day);
    cfg.days = days;
    if (past) cfg.start_ms = ((int64_t)time(NULL) * 1000 / DAY_MS - days - 1) * DAY_MS;
    synth *g;
    ck_assert_int_eq(synth_new(&g, &cfg), 0);
    return g;
}

/* Every read of g into s and into r, then each day merged into its segment. */
static void ingest_and_merge(anpr_store *s, synth *g, ref *r)
{
    anpr_writer *w;
    ck_assert_int_eq(anpr_writer_open(&w, s), ANPR_OK);
    anpr_read batch[1000];
    int verdicts[1000];
    size_t n;
    while ((n = synth_next(g, batch, 1000)) > 0) append_to_both(w, r, batch, n, verdicts);
    ck_assert_int_eq(anpr_writer_merge(w, ANPR_ALL_DAYS), ANPR_OK);
    ck_assert_int_eq(anpr_writer_close(w), ANPR_OK);
}

/* Close the store and free what a test over new_traffic's reads made, its directory removed. */
static void end_traffic(anpr_store *s, synth *g, ref *r, char *dir)
{
    anpr_store_close(s);
    synth_free(g);
    free(r->rows);
    tu_rmrf(dir);
    free(dir);
}

START_TEST(every_shape_against_reference)
{
    char *dir = tu_tmpdir("query");
    synth *g = new_traffic(40000, 3, 0);
    ref r = {0};

    anpr_store_options o = ANPR_STORE_OPTIONS_INIT;
    o.flags = ANPR_OPEN_CREATE;
    o.memory_budget = 2 << 20; /* a few thousand reads: many parts */
    anpr_store *s;
    ck_assert_int_eq(anpr_store_open(&s, dir, &o), ANPR_OK);
    anpr_writer *w;
    ck_assert_int_eq(anpr_writer_open(&w, s), ANPR_OK);

    anpr_read batch[1000];
    int verdicts[1000];
    size_t n, total = synth_total(g), seen = 0;
    int phase = 0;
    while ((n = synth_next(g, batch, 1000)) > 0) {
        append_to_both(w, &r, batch, n, verdicts);
        seen += n;
        if (phase == 0 && seen > total / 2) {
            /* Half in: some in parts, the rest only buffered (visible on this handle at once). */
            ck_assert_int_eq(anpr_writer_commit(w), ANPR_OK);
            check_all_shapes(s, &r);
            phase = 1;
        }
    }
    ck_assert_int_eq(anpr_writer_flush(w), ANPR_OK);
    anpr_stats st;
    ck_assert_int_eq(anpr_store_stats(s, &st), ANPR_OK);
    ck_assert_uint_gt(st.parts, 3);
    check_all_shapes(s, &r);
    ck_assert_int_eq(anpr_writer_merge(w, ANPR_ALL_DAYS), ANPR_OK);
    ck_assert_int_eq(anpr_store_stats(s, &st), ANPR_OK);
    ck_assert_uint_eq(st.parts, 0);
    check_all_shapes(s, &r);
    /*
     * The same answers when a day's matches overflow what a query holds at
     * once and the day is answered again in time slices (the national-day
     * case, here with a few thousand reads a day).
     */
    s->query_slice_rows = 700;
    check_all_shapes(s, &r);
    s->query_slice_rows = 60;
    check_all_shapes(s, &r);
    s->query_slice_rows = STORE_QUERY_SLICE_ROWS;

    /* Expiry while a query is in flight: the cursor finishes from its snapshot. */
    anpr_query all = ANPR_QUERY_INIT;
    size_t before_n;
    free(answer(&r, &all, &before_n));
    anpr_cursor *inflight;
    ck_assert_int_eq(anpr_query_open(&inflight, s, &all), ANPR_OK);
    anpr_batch b;
    ck_assert_int_eq(anpr_cursor_next(inflight, &b), 1);
    size_t seen_n = b.n;
    int64_t oldest = INT64_MAX;
    for (size_t i = 0; i < r.n; i++)
        if (r.rows[i].ts_ms < oldest) oldest = r.rows[i].ts_ms;
    int64_t first_day_end = (oldest / DAY_MS + 1) * DAY_MS;
    ck_assert_int_eq(anpr_writer_expire(w, first_day_end), ANPR_OK);
    int rc;
    while ((rc = anpr_cursor_next(inflight, &b)) == 1) seen_n += b.n;
    ck_assert_int_eq(rc, 0);
    ck_assert_uint_eq(seen_n, before_n);
    anpr_cursor_close(inflight);
    /* Afterwards nothing of the day is left, and a late read for it is refused. */
    size_t kept = 0;
    for (size_t i = 0; i < r.n; i++)
        if (r.rows[i].ts_ms >= first_day_end) r.rows[kept++] = r.rows[i];
    ck_assert_uint_lt(kept, r.n);
    r.n = kept;
    check_all_shapes(s, &r);
    anpr_read late = {first_day_end - 1000, "AB12CDE", 7, 1, 0, 90, ANPR_POS_UNKNOWN, ANPR_POS_UNKNOWN};
    int verdict;
    ck_assert_int_eq(anpr_writer_append(w, &late, 1, NULL, &verdict), ANPR_EBADREAD);
    ck_assert_int_eq(verdict, ANPR_READ_TS_EXPIRED);
    ck_assert_int_eq(anpr_writer_expire(w, first_day_end), ANPR_OK); /* nothing more to drop */
    ck_assert_int_eq(anpr_writer_close(w), ANPR_OK);
    anpr_store_close(s);

    /* Another handle, read-only, sees the same. */
    o.flags = ANPR_OPEN_READONLY;
    ck_assert_int_eq(anpr_store_open(&s, dir, &o), ANPR_OK);
    check_all_shapes(s, &r);
    end_traffic(s, g, &r, dir);
}
END_TEST

/*
 * Days are answered in groups whose blocks are read together (1, 2, 4, 8
 * days, while their blocks' rows stay under query_slice_rows; a plate's
 * without a limit as many days as those rows allow from the first group):
 * the same answers across the groups' edges, when the row limit ends a
 * group early and when each day is a group of its own; a limit that ends
 * inside a later group, for every read and for a plate.
 */
START_TEST(days_answered_in_groups)
{
    char *dir = tu_tmpdir("groups");
    synth *g = new_traffic(3000, 12, 0);
    ref r = {0};
    anpr_store *s = tu_store_create(dir, 0);
    ingest_and_merge(s, g, &r);
    anpr_stats st;
    ck_assert_int_eq(anpr_store_stats(s, &st), ANPR_OK);
    ck_assert_uint_ge(st.days, 12);

    /* A vehicle seen on many days: its history crosses several groups. */
    qsort(r.rows, r.n, sizeof *r.rows, cmp_key);
    const anpr_row *often = NULL;
    for (size_t i = 0; i < r.n && !often; i += 97) {
        anpr_query q = ANPR_QUERY_INIT;
        q.plate = r.rows[i].plate;
        size_t k;
        anpr_row *want = answer(&r, &q, &k);
        if (k > 1 && want[k - 1].ts_ms - want[0].ts_ms >= 8 * DAY_MS) often = &r.rows[i];
        free(want);
    }
    ck_assert_msg(often != NULL, "no vehicle seen eight days apart");
    uint64_t limits[] = {STORE_QUERY_SLICE_ROWS, 9000, 2000, 50};
    for (size_t i = 0; i < sizeof limits / sizeof *limits; i++) {
        s->query_slice_rows = limits[i];
        check_all_shapes(s, &r);
        anpr_query q = ANPR_QUERY_INIT;
        q.plate = often->plate;
        size_t seen = check_query(s, &r, &q, "plate over the days");
        ck_assert_uint_gt(seen, 1);
        q.limit = seen / 2;
        ck_assert_uint_eq(check_query(s, &r, &q, "plate with a limit"), seen / 2);
        q = (anpr_query)ANPR_QUERY_INIT;
        q.limit = r.n / 2; /* ends in the third group (days 4-7), or a later one at a low row limit */
        ck_assert_uint_eq(check_query(s, &r, &q, "limit across groups"), r.n / 2);
    }
    end_traffic(s, g, &r, dir);
}
END_TEST

/*
 * query_threads: a query that reads enough blocks of several files shares
 * them among threads, a file's blocks to one thread, and a plate's index
 * probes of many files too. Small blocks (256 rows) so that 1,500 reads a
 * day make six blocks; 40 days, enough files for the probes to be shared;
 * three threads, so that shares are uneven. The same answers as the reference
 * for every shape, with the day answered whole and in slices (each thread
 * holding its share of the matches), over several queries on one handle
 * (the threads kept between them), and on a second cursor open at the same
 * time, which finds the threads taken and answers alone.
 */
START_TEST(threads_share_a_query)
{
    char *dir = tu_tmpdir("threads");
    synth *g = new_traffic(1500, 40, 1);
    ref r = {0};
    anpr_store_options o = ANPR_STORE_OPTIONS_INIT;
    o.flags = ANPR_OPEN_CREATE;
    o.block_rows = 256;
    o.query_threads = 3;
    anpr_store *s;
    ck_assert_int_eq(anpr_store_open(&s, dir, &o), ANPR_OK);
    ingest_and_merge(s, g, &r);

    uint64_t limits[] = {STORE_QUERY_SLICE_ROWS, 2000, 50};
    for (size_t i = 0; i < sizeof limits / sizeof *limits; i++) {
        s->query_slice_rows = limits[i];
        check_all_shapes(s, &r);
    }
    s->query_slice_rows = STORE_QUERY_SLICE_ROWS;
    ck_assert_uint_gt(s->slices_shared, 0);
    ck_assert_uint_gt(s->probes_shared, 0);
    ck_assert_uint_eq(s->nworkers, 2);

    /* Two cursors at once: the first holds both threads, the second answers on its own thread. */
    anpr_query all = ANPR_QUERY_INIT;
    anpr_cursor *c1, *c2;
    ck_assert_int_eq(anpr_query_open(&c1, s, &all), ANPR_OK);
    ck_assert_int_eq(anpr_query_open(&c2, s, &all), ANPR_OK);
    anpr_batch b;
    size_t n1 = 0, n2 = 0;
    int rc1 = 1, rc2 = 1;
    while (rc1 == 1 || rc2 == 1) {
        if (rc1 == 1 && (rc1 = anpr_cursor_next(c1, &b)) == 1) n1 += b.n;
        if (rc2 == 1 && (rc2 = anpr_cursor_next(c2, &b)) == 1) n2 += b.n;
    }
    ck_assert_int_eq(rc1, 0);
    ck_assert_int_eq(rc2, 0);
    size_t want;
    free(answer(&r, &all, &want));
    ck_assert_uint_eq(n1, want);
    ck_assert_uint_eq(n2, want);
    anpr_cursor_close(c1);
    anpr_cursor_close(c2);
    ck_assert_uint_eq(s->nworkers, 2); /* never more than query_threads - 1 */
    end_traffic(s, g, &r, dir);
}
END_TEST

/* Idle readers in the store's cache, and how many of them hold a mapping of their file. */
static void count_mapped(anpr_store *s, size_t *mapped, size_t *all)
{
    *mapped = *all = 0;
    for (store_reader *slot = s->newest_reader; slot; slot = slot->older) {
        (*all)++;
        *mapped += slot->map != NULL;
    }
}

static int refuse_map(const anpr_vfs *v, int fd, uint64_t size, const void **out)
{
    (void)v, (void)fd, (void)size, (void)out;
    return -ENOMEM;
}

/* Drop every file of the store directory from the page cache (on a file system that keeps a page cache). */
static void evict_store(const char *dir)
{
    DIR *d = opendir(dir);
    ck_assert_ptr_nonnull(d);
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') continue;
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0) continue;
        (void)posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
        close(fd);
    }
    closedir(d);
}

/*
 * Plate searches read a block's plate table and the sections their search
 * reads before its span (rule_out_blocks in query.c), when the batcher can
 * tell that the table is in memory (io_uring): many plates, exact and
 * misread-tolerant, answer read for read as the reference does, with blocks
 * ruled out unread; again with the sections taken as not in memory and
 * with the files dropped from the page cache (the blocks then read whole);
 * with pread (nothing probed) and mapped (nothing copied, nothing probed).
 */
START_TEST(plate_searches_probe_blocks_first)
{
    const size_t days = 4;
    char *dir = tu_tmpdir("probe");
    synth *g = new_traffic(6000, days, 1);
    ref r = {0};
    anpr_store_options o = ANPR_STORE_OPTIONS_INIT;
    o.flags = ANPR_OPEN_CREATE;
    o.block_rows = 256; /* many blocks, so that many only share a plate's index bucket */
    anpr_store *s;
    ck_assert_int_eq(anpr_store_open(&s, dir, &o), ANPR_OK);
    ingest_and_merge(s, g, &r);
    anpr_store_close(s);

    static const int modes[] = {ANPR_IO_AUTO, ANPR_IO_PREAD, ANPR_IO_AUTO};
    for (size_t m = 0; m < 3; m++) {
        o.flags = m == 2 ? ANPR_OPEN_MAP : 0;
        o.io_mode = modes[m];
        ck_assert_int_eq(anpr_store_open(&s, dir, &o), ANPR_OK);
        /* Warm; with every section a search reads first taken as not in memory; with the files evicted. */
        for (int phase = 0; phase < 3; phase++) {
            uint64_t probed = s->blocks_probed, ruled_out = s->blocks_ruled_out;
            s->sections_cold = phase == 1;
            if (phase == 2) evict_store(dir);
            for (size_t k = 0; k < 60; k++) {
                anpr_query q = ANPR_QUERY_INIT;
                q.plate = r.rows[(k * 7919) % r.n].plate;
                q.fuzzy = k % 3 == 0;
                check_query(s, &r, &q, q.fuzzy ? "probed plate, misread-tolerant" : "probed plate");
            }
            if (phase == 1) {
                /* Tables read, and every block then read whole: none probed, none left out. */
                ck_assert_uint_eq(s->blocks_probed, probed);
                ck_assert_uint_eq(s->blocks_ruled_out, ruled_out);
                s->sections_cold = 0;
            }
            if (phase != 0) continue;
            /* (ANPR_MAP=1, test_query_mapped, maps the files whatever the flags say: nothing probed then.) */
            int probing = anpr_store_io_mode(s) == ANPR_IO_URING && !(anpr_store_flags(s) & ANPR_OPEN_MAP);
            ck_assert_msg((s->blocks_probed > 0) == probing, "mode %zu: %llu blocks probed", m,
                          (unsigned long long)s->blocks_probed);
            ck_assert_uint_eq(s->blocks_ruled_out > 0, probing);
            ck_assert_uint_le(s->blocks_ruled_out, s->blocks_probed);
        }
        anpr_store_close(s);
    }
    o.flags = 0;
    o.io_mode = ANPR_IO_AUTO;
    ck_assert_int_eq(anpr_store_open(&s, dir, &o), ANPR_OK);
    end_traffic(s, g, &r, dir);
}
END_TEST

/*
 * ANPR_OPEN_MAP: queries take blocks from mappings of the files, on one
 * thread and shared among two, and answer read for read as the reference
 * does; again after anpr_store_release_memory has taken the pages out of the
 * process; again with every group taken as not in memory, and so read; and
 * with a vfs whose maps fail, the files read.
 */
START_TEST(mapped_files_answer_alike)
{
    const size_t days = 12;
    char *dir = tu_tmpdir("mapped");
    synth *g = new_traffic(1500, days, 1);
    ref r = {0};
    anpr_store_options o = ANPR_STORE_OPTIONS_INIT;
    o.flags = ANPR_OPEN_CREATE | ANPR_OPEN_MAP;
    o.block_rows = 256;
    anpr_store *s;
    ck_assert_int_eq(anpr_store_open(&s, dir, &o), ANPR_OK);
    ck_assert_uint_eq(anpr_store_flags(s), ANPR_OPEN_CREATE | ANPR_OPEN_MAP);
    ingest_and_merge(s, g, &r);
    anpr_store_close(s);

    size_t mapped, all;
    for (unsigned threads = 1; threads <= 2; threads++) {
        o.flags = ANPR_OPEN_MAP;
        o.query_threads = threads;
        ck_assert_int_eq(anpr_store_open(&s, dir, &o), ANPR_OK);
        check_all_shapes(s, &r);
        count_mapped(s, &mapped, &all);
        ck_assert_uint_eq(all, days);
        ck_assert_uint_eq(mapped, all);
        ck_assert_uint_eq(s->slices_shared > 0, threads > 1);
        ck_assert_uint_gt(s->groups_mapped, 0); /* files just written: in the page cache */
        ck_assert_uint_gt(s->pages_mapped, 0);  /* and so are the index pages the plates' probes took */
        anpr_store_release_memory(s);
        check_all_shapes(s, &r);
        /* Groups whose blocks are not in memory are read, mapped or not, and so are such index pages. */
        uint64_t taken = s->groups_mapped, pages = s->pages_mapped, pages_read = s->pages_unmapped;
        s->map_cold = 1;
        check_all_shapes(s, &r);
        ck_assert_uint_eq(s->groups_mapped, taken);
        ck_assert_uint_gt(s->groups_unmapped, 0);
        ck_assert_uint_eq(s->pages_mapped, pages);
        ck_assert_uint_gt(s->pages_unmapped, pages_read);
        anpr_store_close(s);
    }

    anpr_vfs refusing = *anpr_vfs_posix();
    refusing.map = refuse_map;
    o.query_threads = 1;
    ck_assert_int_eq(store_open_vfs(&s, dir, &o, &refusing), ANPR_OK);
    check_all_shapes(s, &r);
    count_mapped(s, &mapped, &all);
    ck_assert_uint_eq(all, days);
    ck_assert_uint_eq(mapped, 0);
    ck_assert_uint_eq(s->groups_mapped + s->groups_unmapped, 0);
    ck_assert_uint_eq(s->pages_mapped + s->pages_unmapped, 0);
    anpr_store_release_memory(s); /* nothing mapped: nothing to do */
    anpr_store_release_memory(NULL);
    ck_assert_uint_eq(anpr_store_flags(NULL), 0);
    end_traffic(s, g, &r, dir);
}
END_TEST

START_TEST(bad_queries_refused)
{
    char *dir = tu_tmpdir("query");
    anpr_store *s = tu_store_create(dir, 0);
    anpr_cursor *c = (anpr_cursor *)1;
    anpr_query q = ANPR_QUERY_INIT;
    q.from_ms = 10;
    q.to_ms = 5;
    ck_assert_int_eq(anpr_query_open(&c, s, &q), ANPR_EINVAL);
    ck_assert_ptr_null(c);
    ck_assert_ptr_nonnull(strstr(anpr_errmsg(s), "window"));
    q = (anpr_query)ANPR_QUERY_INIT;
    q.plate = "--";
    ck_assert_int_eq(anpr_query_open(&c, s, &q), ANPR_EINVAL);
    q.plate = "AB12#CD";
    ck_assert_int_eq(anpr_query_open(&c, s, &q), ANPR_EINVAL);
    q.plate = "ABCDEFGHIJKLMNOP";
    ck_assert_int_eq(anpr_query_open(&c, s, &q), ANPR_EINVAL);
    q = (anpr_query)ANPR_QUERY_INIT;
    q.area = 1;
    q.lat_min_e7 = 10;
    q.lat_max_e7 = 5;
    ck_assert_int_eq(anpr_query_open(&c, s, &q), ANPR_EINVAL);
    q = (anpr_query)ANPR_QUERY_INIT;
    q.ncameras = 2;
    ck_assert_int_eq(anpr_query_open(&c, s, &q), ANPR_EINVAL);
    q = (anpr_query)ANPR_QUERY_INIT;
    q.version = 99;
    ck_assert_int_eq(anpr_query_open(&c, s, &q), ANPR_EINVAL);
    /* An empty store answers nothing. */
    q = (anpr_query)ANPR_QUERY_INIT;
    ck_assert_int_eq(anpr_query_open(&c, s, &q), ANPR_OK);
    anpr_batch b;
    ck_assert_int_eq(anpr_cursor_next(c, &b), 0);
    ck_assert_uint_eq(b.n, 0);
    anpr_cursor_close(c);
    anpr_cursor_close(NULL);
    anpr_store_close(s);
    tu_rmrf(dir);
    free(dir);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("query");
    TCase *tc = tcase_create("query");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, every_shape_against_reference);
    tcase_add_test(tc, days_answered_in_groups);
    tcase_add_test(tc, threads_share_a_query);
    tcase_add_test(tc, mapped_files_answer_alike);
    tcase_add_test(tc, plate_searches_probe_blocks_first);
    tcase_add_test(tc, bad_queries_refused);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
