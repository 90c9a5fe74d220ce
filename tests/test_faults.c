/*
 * Fault injection through the library's one I/O seam (io/vfs.h): a store's
 * whole life (create, appends and commits, a flush, a merge, an expiry,
 * close) runs once to count its file operations, then once more for every
 * operation, with that one operation failing (ENOSPC, then EIO), and once
 * with every write cut short. After each run the store must open cleanly
 * with the real file system and hold every read whose commit succeeded,
 * exactly once, and nothing that was never appended; once a commit has
 * failed, no later commit on that writer may succeed (after a failed fsync
 * the data may be gone, so success would be a lie).
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "anpr/anpr.h"
#include "io/vfs.h"
#include "store/store.h"
#include "testutil.h"

#define DAY_MS INT64_C(86400000)
#define BATCHES 6
#define PER_BATCH 400
#define NREADS (BATCHES * PER_BATCH)

enum mode { COUNT, FAIL_ONE, SHORT_WRITES };

typedef struct faulty {
    anpr_vfs vfs;
    enum mode mode;
    long calls;   /* failable operations so far */
    long fail_at; /* FAIL_ONE: this one fails */
    int err;      /* with this errno */
    long failed;  /* operations that failed (0 or 1) */
} faulty;

static const anpr_vfs *real(void)
{
    return anpr_vfs_posix();
}

static faulty *F(const anpr_vfs *v)
{
    return (faulty *)v->ctx;
}

/* Does this operation fail? Counts it either way. */
static int trip(const anpr_vfs *v)
{
    faulty *f = F(v);
    f->calls++;
    if (f->mode == FAIL_ONE && f->calls == f->fail_at) {
        f->failed++;
        return 1;
    }
    return 0;
}

static int f_open(const anpr_vfs *v, const char *path, int flags, unsigned mode)
{
    return trip(v) ? -F(v)->err : real()->open(real(), path, flags, mode);
}
static int f_close(const anpr_vfs *v, int fd)
{
    (void)v;
    return real()->close(real(), fd);
}
static ssize_t f_pread(const anpr_vfs *v, int fd, void *buf, size_t n, uint64_t off)
{
    return trip(v) ? -EIO : real()->pread(real(), fd, buf, n, off);
}
static ssize_t f_pwrite(const anpr_vfs *v, int fd, const void *buf, size_t n, uint64_t off)
{
    if (trip(v)) return -F(v)->err;
    /* A short write is not an error: callers must loop. */
    if (F(v)->mode == SHORT_WRITES && n > 1) n /= 2;
    return real()->pwrite(real(), fd, buf, n, off);
}
static int f_fsync(const anpr_vfs *v, int fd)
{
    return trip(v) ? -EIO : real()->fsync(real(), fd);
}
static int f_ftruncate(const anpr_vfs *v, int fd, uint64_t size)
{
    return trip(v) ? -F(v)->err : real()->ftruncate(real(), fd, size);
}
static int f_fsize(const anpr_vfs *v, int fd, uint64_t *size)
{
    (void)v;
    return real()->fsize(real(), fd, size);
}
static int f_rename(const anpr_vfs *v, const char *from, const char *to)
{
    return trip(v) ? -F(v)->err : real()->rename(real(), from, to);
}
static int f_unlink(const anpr_vfs *v, const char *path)
{
    return trip(v) ? -EIO : real()->unlink(real(), path);
}
static int f_fsync_dir(const anpr_vfs *v, const char *dir)
{
    return trip(v) ? -EIO : real()->fsync_dir(real(), dir);
}

static void faulty_init(faulty *f, enum mode mode, long fail_at, int err)
{
    memset(f, 0, sizeof *f);
    f->vfs = (anpr_vfs){f_open, f_close, f_pread, f_pwrite, f_fsync, f_ftruncate, f_fsize, f_rename, f_unlink,
                        f_fsync_dir, f};
    f->mode = mode;
    f->fail_at = fail_at;
    f->err = err;
}

/* ---- The scenario ------------------------------------------------------- */

static int64_t day0_ms; /* midnight UTC three days ago: days 0, 1 and 2 are in the past */

static void make_read(anpr_read *r, char *plate, size_t i)
{
    snprintf(plate, 16, "F%07zu", i);
    *r = (anpr_read){.ts_ms = day0_ms + (int64_t)(i % 3) * DAY_MS + (int64_t)i * 1000,
                     .plate = plate,
                     .camera = (uint32_t)(i % 7),
                     .lane = 1,
                     .direction = 0,
                     .confidence = 90,
                     .lat_e7 = 515000000,
                     .lon_e7 = -1000000};
}

typedef struct outcome {
    int opened;                  /* the store opened under the faults */
    int committed[BATCHES];      /* the batch's commit returned ANPR_OK */
    int expire_tried, expire_ok; /* day 0 dropped */
    int late_commit_ok;          /* a commit succeeded after an earlier one failed */
} outcome;

static void scenario(const char *dir, const anpr_vfs *vfs, outcome *o)
{
    memset(o, 0, sizeof *o);
    anpr_store *s;
    anpr_store_options opts = ANPR_STORE_OPTIONS_INIT;
    opts.flags = ANPR_OPEN_CREATE;
    if (store_open_vfs(&s, dir, &opts, vfs) != ANPR_OK) return;
    o->opened = 1;
    anpr_writer *w;
    if (anpr_writer_open(&w, s) != ANPR_OK) {
        anpr_store_close(s);
        return;
    }
    int failed_commit = 0;
    static anpr_read reads[PER_BATCH];
    static char plates[PER_BATCH][16];
    for (int b = 0; b < BATCHES; b++) {
        for (size_t k = 0; k < PER_BATCH; k++) make_read(&reads[k], plates[k], (size_t)b * PER_BATCH + k);
        size_t accepted;
        anpr_writer_append(w, reads, PER_BATCH, &accepted, NULL);
        int rc = anpr_writer_commit(w);
        if (rc == ANPR_OK) {
            o->committed[b] = 1;
            if (failed_commit) o->late_commit_ok = 1;
        } else {
            failed_commit = 1;
        }
        if (b == 1) anpr_writer_flush(w);    /* part files */
        if (b == 3) anpr_writer_maintain(w); /* merges into daily segments */
        if (b == 4) {
            o->expire_tried = 1;
            o->expire_ok = anpr_writer_expire(w, day0_ms + DAY_MS) == ANPR_OK;
        }
    }
    anpr_writer_close(w);
    anpr_store_close(s);
}

/* Reopen with the real file system; every committed read once, nothing never appended. */
static void check_after(const char *dir, const outcome *o, const char *what)
{
    anpr_store *s;
    anpr_store_options opts = ANPR_STORE_OPTIONS_INIT;
    char msg[256] = "";
    opts.errbuf = msg;
    opts.errbuf_size = sizeof msg;
    if (!o->opened) {
        /* It may never have come into being; if it did, it must open. */
        if (anpr_store_open(&s, dir, &opts) == ANPR_ENOTSTORE) return;
        ck_assert_msg(s != NULL, "%s: store does not open: %s", what, msg);
    } else {
        ck_assert_msg(anpr_store_open(&s, dir, &opts) == ANPR_OK, "%s: store does not open: %s", what, msg);
    }
    /* The writer replays the journal: it must accept what the faults left. */
    anpr_writer *w;
    ck_assert_msg(anpr_writer_open(&w, s) == ANPR_OK, "%s: writer does not open: %s", what, anpr_errmsg(s));
    ck_assert_int_eq(anpr_writer_close(w), ANPR_OK);

    static unsigned char seen[NREADS];
    memset(seen, 0, sizeof seen);
    anpr_query q = ANPR_QUERY_INIT;
    anpr_cursor *c;
    ck_assert_msg(anpr_query_open(&c, s, &q) == ANPR_OK, "%s: query: %s", what, anpr_errmsg(s));
    anpr_batch bt;
    int rc;
    while ((rc = anpr_cursor_next(c, &bt)) == 1) {
        for (size_t i = 0; i < bt.n; i++) {
            unsigned long id;
            ck_assert_msg(sscanf(bt.plate[i], "F%lu", &id) == 1 && id < NREADS, "%s: a read never appended: %s",
                          what, bt.plate[i]);
            anpr_read r;
            char p[16];
            make_read(&r, p, id);
            ck_assert_msg(bt.ts_ms[i] == r.ts_ms && bt.camera[i] == r.camera, "%s: read %lu altered", what, id);
            ck_assert_msg(!seen[id], "%s: read %lu twice", what, id);
            seen[id] = 1;
        }
    }
    ck_assert_msg(rc == 0, "%s: cursor: %s", what, anpr_cursor_errmsg(c));
    anpr_cursor_close(c);
    anpr_store_close(s);

    /*
     * Day 0 may be gone as a whole, if an expiry was attempted; otherwise
     * committed means present. The last batch comes after the expiry: its
     * day-0 reads are refused if the expiry succeeded.
     */
    int day0_any = 0, day0_all = 1;
    for (size_t id = 0; id < NREADS; id++) {
        size_t b = id / PER_BATCH;
        if (id % 3 != 0) {
            if (o->committed[b]) ck_assert_msg(seen[id], "%s: committed read %zu lost", what, id);
        } else if (b == BATCHES - 1) {
            if (o->expire_ok) ck_assert_msg(!seen[id], "%s: read %zu of an expired day stored", what, id);
        } else if (o->committed[b]) {
            day0_any |= seen[id];
            day0_all &= seen[id];
        }
    }
    if (o->expire_ok) ck_assert_msg(!day0_any, "%s: day 0 expired but read back", what);
    else if (!o->expire_tried) ck_assert_msg(day0_all, "%s: committed reads of day 0 lost", what);
    else ck_assert_msg(day0_all || !day0_any, "%s: day 0 partly there after a failed expiry", what);
    ck_assert_msg(!o->late_commit_ok, "%s: a commit succeeded after one had failed", what);
}

/* A run whose faults are all survivable (none, or short writes): everything commits. Returns the operations. */
static long run_clean(enum mode mode, const char *what)
{
    char *dir = tu_tmpdir("faults");
    faulty f;
    faulty_init(&f, mode, 0, 0);
    outcome o;
    scenario(dir, &f.vfs, &o);
    for (int b = 0; b < BATCHES; b++) ck_assert_msg(o.committed[b], "%s: batch %d not committed", what, b);
    ck_assert(o.expire_ok);
    check_after(dir, &o, what);
    tu_rmrf(dir);
    free(dir);
    return f.calls;
}

static void setup_days(void)
{
    int64_t now = (int64_t)time(NULL) * 1000;
    day0_ms = (now / DAY_MS - 3) * DAY_MS;
}

START_TEST(every_operation_fails_in_turn)
{
    setup_days();
    long total = run_clean(COUNT, "no fault");
    ck_assert_int_gt(total, 20);
    static const int errs[] = {ENOSPC, EIO};
    long injected = 0, lost_commits = 0, refused_open = 0;
    for (size_t e = 0; e < 2; e++) {
        for (long k = 1; k <= total; k++) {
            char *dir = tu_tmpdir("faults");
            faulty f;
            faulty_init(&f, FAIL_ONE, k, errs[e]);
            outcome o;
            scenario(dir, &f.vfs, &o);
            char what[160];
            snprintf(what, sizeof what, "operation %ld of %ld failing with %s", k, total, strerror(errs[e]));
            check_after(dir, &o, what);
            injected += f.failed;
            refused_open += !o.opened;
            for (int b = 0; b < BATCHES; b++)
                if (!o.committed[b]) {
                    lost_commits++;
                    break;
                }
            tu_rmrf(dir);
            free(dir);
        }
    }
    /* Every operation of the count was reached and failed once, and the faults were felt. */
    ck_assert_int_eq(injected, 2 * total);
    ck_assert_int_gt(lost_commits, 0);
    ck_assert_int_gt(refused_open, 0);
    printf("faults: %ld operations, each failed with ENOSPC and with EIO: %ld runs (%ld refused the open, %ld failed "
           "a commit), nothing committed lost\n",
           total, injected, refused_open, lost_commits);
}
END_TEST

START_TEST(short_writes_are_completed)
{
    setup_days();
    run_clean(SHORT_WRITES, "short writes");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("faults");
    TCase *tc = tcase_create("faults");
    tcase_set_timeout(tc, 900);
    tcase_add_test(tc, every_operation_fails_in_turn);
    tcase_add_test(tc, short_writes_are_completed);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
