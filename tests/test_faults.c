/*
 * Fault injection through the library's one I/O seam (io/vfs.h): a store's
 * whole life (create, appends and commits, a flush, a merge, an expiry,
 * close) runs once to count its file operations, then once more for every
 * operation, with that one operation failing (ENOSPC, then EIO; writeback
 * hints among them, whose failure must change nothing), and once with every
 * write cut short. After each run the store must open cleanly with the real
 * file system and hold every read whose commit succeeded,
 * exactly once, and nothing that was never appended; once a commit has
 * failed, no later commit on that writer may succeed (after a failed fsync
 * the data may be gone, so success would be a lie).
 */
#include <check.h>
#include <errno.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
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

enum mode { COUNT, FAIL_ONE, SHORT_WRITES, FAIL_READ, SHORT_READS, CRASH_AT };

typedef struct faulty {
    anpr_vfs vfs;
    enum mode mode;
    long calls;   /* failable operations so far */
    long fail_at; /* FAIL_ONE: this one fails; FAIL_READ: this read (pread or io_uring) fails;
                     CRASH_AT: the process dies here (a write of this operation lands half) */
    int err;      /* with this errno */
    long failed;  /* operations that failed (0 or 1) */
    long reads;   /* reads so far, by pread and through io_uring */
    long uring_results; /* of which through io_uring */
} faulty;
/* The counters are updated atomically: a query's threads read through the same vfs. */

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
    long call = __atomic_add_fetch(&f->calls, 1, __ATOMIC_RELAXED);
    if (f->mode == CRASH_AT && call == f->fail_at) _exit(77);
    if (f->mode == FAIL_ONE && call == f->fail_at) {
        __atomic_add_fetch(&f->failed, 1, __ATOMIC_RELAXED);
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
/* Does this read fail? Counts it either way (FAIL_READ counts reads only). */
static int trip_read(const anpr_vfs *v)
{
    faulty *f = F(v);
    long read = __atomic_add_fetch(&f->reads, 1, __ATOMIC_RELAXED);
    if (f->mode == FAIL_READ && read == f->fail_at) {
        __atomic_add_fetch(&f->failed, 1, __ATOMIC_RELAXED);
        return 1;
    }
    return 0;
}

static ssize_t f_pread(const anpr_vfs *v, int fd, void *buf, size_t n, uint64_t off)
{
    if (trip(v) || trip_read(v)) return -EIO;
    /* Short reads happen (signals, some file systems): callers must loop. */
    if (F(v)->mode == SHORT_READS && n > 1) n /= 2;
    return real()->pread(real(), fd, buf, n, off);
}

/* The same faults for reads that went through io_uring. */
static int f_uring_result(const anpr_vfs *v, int fd, uint64_t off, uint32_t len, int res)
{
    (void)fd, (void)off, (void)len;
    __atomic_add_fetch(&F(v)->uring_results, 1, __ATOMIC_RELAXED);
    if (trip_read(v)) return -EIO;
    if (F(v)->mode == SHORT_READS && res > 1) return res / 2;
    return res;
}
static ssize_t f_pwrite(const anpr_vfs *v, int fd, const void *buf, size_t n, uint64_t off)
{
    faulty *f = F(v);
    if (f->mode == CRASH_AT && f->calls + 1 == f->fail_at) { /* torn: half the write, then the crash */
        real()->pwrite(real(), fd, buf, n / 2, off);
        _exit(77);
    }
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
/* A failed writeback hint must change nothing: the fsync after it decides. */
static int f_writeback(const anpr_vfs *v, int fd, uint64_t off, uint64_t len)
{
    return trip(v) ? -EIO : real()->writeback(real(), fd, off, len);
}

static void faulty_init(faulty *f, enum mode mode, long fail_at, int err)
{
    memset(f, 0, sizeof *f);
    f->vfs = (anpr_vfs){f_open,   f_close,  f_pread,     f_pwrite, f_fsync, f_ftruncate, f_fsize,
                        f_rename, f_unlink, f_fsync_dir, f,        f_uring_result, f_writeback, NULL, NULL};
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

/* The store's life; *o is filled as it goes, so that a crash leaves what had returned. */
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
        if (b == 1 || b == 2) anpr_writer_flush(w); /* part files; the second recycles the first's journal */
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

/*
 * The process dies at each file operation of the store's life in turn (a
 * write it dies in lands half): in a child, whose outcome (which commits
 * returned, whether the expiry did) is shared with the parent. The store
 * must then open and hold what a failure at that point would leave: every
 * committed read once, an expired day whole or gone.
 */
START_TEST(a_crash_at_every_operation)
{
    setup_days();
    long total = run_clean(COUNT, "no fault");
    outcome *shared = mmap(NULL, sizeof *shared, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    ck_assert_ptr_ne(shared, MAP_FAILED);
    long crashed = 0;
    for (long k = 1; k <= total; k++) {
        char *dir = tu_tmpdir("faults");
        memset(shared, 0, sizeof *shared);
        pid_t pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0) {
            faulty f;
            faulty_init(&f, CRASH_AT, k, 0);
            scenario(dir, &f.vfs, shared);
            _exit(0);
        }
        int status;
        ck_assert_int_eq(waitpid(pid, &status, 0), pid);
        ck_assert_msg(WIFEXITED(status) && (WEXITSTATUS(status) == 77 || WEXITSTATUS(status) == 0),
                      "operation %ld: the child ended with status %d", k, status);
        crashed += WEXITSTATUS(status) == 77;
        char what[96];
        snprintf(what, sizeof what, "a crash at operation %ld of %ld", k, total);
        check_after(dir, shared, what);
        tu_rmrf(dir);
        free(dir);
    }
    ck_assert_int_eq(crashed, total);
    printf("faults: a crash at each of %ld operations in turn (writes torn in half): the store opened with every "
           "committed read each time\n", total);
    munmap(shared, sizeof *shared);
}
END_TEST

/* ---- Faults in the reads of queries, on both I/O paths ------------------ */

typedef struct answer {
    int rc;          /* 0, or the failure of query_open or cursor_next */
    uint64_t n, sum; /* reads returned, and a digest of them in order */
    char msg[256];
} answer;

static void ask(anpr_store *s, const anpr_query *q, answer *a)
{
    memset(a, 0, sizeof *a);
    anpr_cursor *c;
    a->rc = anpr_query_open(&c, s, q);
    if (a->rc != ANPR_OK) {
        snprintf(a->msg, sizeof a->msg, "%s", anpr_errmsg(s));
        return;
    }
    anpr_batch b;
    int rc;
    while ((rc = anpr_cursor_next(c, &b)) == 1)
        for (size_t i = 0; i < b.n; i++) {
            uint64_t h = (uint64_t)b.ts_ms[i] * 31 + b.camera[i];
            for (const char *p = b.plate[i]; *p; p++) h = h * 131 + (unsigned char)*p;
            a->sum = a->sum * 1000003 + h;
            a->n++;
        }
    if (rc < 0) {
        a->rc = rc;
        snprintf(a->msg, sizeof a->msg, "%s", anpr_cursor_errmsg(c));
    }
    anpr_cursor_close(c);
}

#define NQUERIES 4
static uint32_t query_camera = 3;

static anpr_query make_query(int k)
{
    anpr_query q = ANPR_QUERY_INIT;
    switch (k) {
    case 1: q.plate = "F0000124"; break;                    /* one read, by the index */
    case 2: q.plate = "FOOOO125", q.fuzzy = 1; break;       /* misread-tolerant */
    case 3:                                                 /* one camera over a day */
        q.cameras = &query_camera, q.ncameras = 1;
        q.from_ms = day0_ms + DAY_MS, q.to_ms = day0_ms + 2 * DAY_MS;
        break;
    default: break;                                         /* everything */
    }
    return q;
}

static anpr_store *open_faulty(const char *dir, faulty *f, const char *io, unsigned query_threads)
{
    setenv("ANPR_IO", io, 1);
    anpr_store *s;
    anpr_store_options opts = ANPR_STORE_OPTIONS_INIT;
    opts.query_threads = query_threads;
    int rc = store_open_vfs(&s, dir, &opts, &f->vfs);
    unsetenv("ANPR_IO");
    ck_assert_msg(rc == ANPR_OK, "open with ANPR_IO=%s: %s", io, anpr_strerror(rc));
    return s;
}

/*
 * A store of segments and parts is queried four ways, once cleanly to count
 * the reads (index pages, blocks, directories) and learn the answers, then
 * once for every read failing with EIO in turn, and once with every read cut
 * short; through io_uring and through pread. A failed read fails its query
 * with a status and a message, never a wrong answer; the same query asked
 * again on the same handle answers right (no ring, cache or reader is left
 * poisoned); short reads are completed.
 */
START_TEST(query_reads_fail_in_turn)
{
    setup_days();
    char *dir = tu_tmpdir("faults");
    faulty build;
    faulty_init(&build, COUNT, 0, 0);
    outcome o;
    scenario(dir, &build.vfs, &o);
    static const char *const paths[] = {"uring", "pread"};
    for (int p = 0; p < 2; p++) {
        faulty f;
        faulty_init(&f, COUNT, 0, 0);
        anpr_store *s = open_faulty(dir, &f, paths[p], 1);
        long before = f.reads;
        answer want[NQUERIES];
        for (int k = 0; k < NQUERIES; k++) {
            anpr_query q = make_query(k);
            ask(s, &q, &want[k]);
            ck_assert_msg(want[k].rc == 0, "%s: clean query %d: %s", paths[p], k, want[k].msg);
        }
        ck_assert_uint_gt(want[0].n, 1000);
        ck_assert_uint_eq(want[1].n, 1);
        ck_assert_uint_ge(want[2].n, 1);
        long total = f.reads - before;
        /* Where the kernel refuses io_uring (a sandbox), the store falls back to pread: say which ran. */
        const char *used = anpr_store_io_mode(s) == ANPR_IO_URING ? "io_uring" : "pread";
        /* And the reads did go through the ring when the store says it uses one. */
        ck_assert_uint_eq(f.uring_results > 0, anpr_store_io_mode(s) == ANPR_IO_URING);
        ck_assert_int_gt(total, 4);
        anpr_store_close(s);

        long failed_queries = 0;
        for (long r = 1; r <= total; r++) {
            faulty_init(&f, COUNT, 0, 0);
            s = open_faulty(dir, &f, paths[p], 1);
            /* Reads from here on are the queries': fail the r-th of them. */
            f.mode = FAIL_READ;
            f.fail_at = f.reads + r;
            int failed = -1;
            for (int k = 0; k < NQUERIES; k++) {
                anpr_query q = make_query(k);
                answer a;
                ask(s, &q, &a);
                if (a.rc == 0) {
                    ck_assert_msg(a.n == want[k].n && a.sum == want[k].sum, "%s: read %ld failing: query %d answered wrong",
                                  paths[p], r, k);
                    continue;
                }
                ck_assert_msg(failed < 0, "%s: read %ld failing: two queries failed", paths[p], r);
                ck_assert_msg(a.msg[0] != '\0', "%s: read %ld failing: query %d failed with no message", paths[p], r, k);
                failed = k;
                /* Asked again on the same handle, now that the fault is past, it answers right. */
                ask(s, &q, &a);
                ck_assert_msg(a.rc == 0 && a.n == want[k].n && a.sum == want[k].sum,
                              "%s: read %ld failing: query %d wrong when asked again (%s)", paths[p], r, k, a.msg);
            }
            ck_assert_msg(f.failed == 1 && failed >= 0, "%s: read %ld of %ld: the fault was not felt", paths[p], r,
                          total);
            failed_queries++;
            anpr_store_close(s);
        }

        faulty_init(&f, SHORT_READS, 0, 0);
        s = open_faulty(dir, &f, paths[p], 1);
        for (int k = 0; k < NQUERIES; k++) {
            anpr_query q = make_query(k);
            answer a;
            ask(s, &q, &a);
            ck_assert_msg(a.rc == 0 && a.n == want[k].n && a.sum == want[k].sum, "%s: short reads: query %d: %s",
                          paths[p], k, a.msg);
        }
        anpr_store_close(s);
        printf("faults: queries with ANPR_IO=%s (%s): %ld reads, each failed in turn: %ld queries failed cleanly "
               "and answered right when asked again; short reads completed\n",
               paths[p], used, total, failed_queries);
    }
    tu_rmrf(dir);
    free(dir);
}
END_TEST

/*
 * The same with a query's blocks shared between two threads: a store of six
 * days of 256-row blocks, so that the later groups of days have enough
 * blocks to share, queried whole; every read failing in turn (the
 * manifest's, or a segment's in whichever thread made it) fails the query
 * with a message naming the file, and the query asked again on the same
 * handle answers right.
 */
START_TEST(shared_query_reads_fail_in_turn)
{
    enum { DAYS = 6, PER_DAY = 1500 };
    int64_t now = (int64_t)time(NULL) * 1000;
    int64_t start = (now / DAY_MS - DAYS - 1) * DAY_MS;
    char *dir = tu_tmpdir("faults-shared");
    anpr_store_options o = ANPR_STORE_OPTIONS_INIT;
    o.flags = ANPR_OPEN_CREATE;
    o.block_rows = 256;
    anpr_store *s;
    ck_assert_int_eq(anpr_store_open(&s, dir, &o), ANPR_OK);
    anpr_writer *w;
    ck_assert_int_eq(anpr_writer_open(&w, s), ANPR_OK);
    static anpr_read reads[DAYS * PER_DAY];
    static char plates[DAYS * PER_DAY][16];
    for (size_t i = 0; i < DAYS * PER_DAY; i++) {
        make_read(&reads[i], plates[i], i);
        reads[i].ts_ms = start + (int64_t)(i / PER_DAY) * DAY_MS + (int64_t)(i % PER_DAY) * 50000;
    }
    ck_assert_int_eq(anpr_writer_append(w, reads, DAYS * PER_DAY, NULL, NULL), ANPR_OK);
    ck_assert_int_eq(anpr_writer_merge(w, ANPR_ALL_DAYS), ANPR_OK);
    ck_assert_int_eq(anpr_writer_close(w), ANPR_OK);
    anpr_store_close(s);

    static const char *const paths[] = {"uring", "pread"};
    anpr_query all = ANPR_QUERY_INIT;
    for (int p = 0; p < 2; p++) {
        faulty f;
        faulty_init(&f, COUNT, 0, 0);
        s = open_faulty(dir, &f, paths[p], 2);
        long before = f.reads;
        answer want;
        ask(s, &all, &want);
        ck_assert_msg(want.rc == 0, "%s: clean query: %s", paths[p], want.msg);
        ck_assert_uint_eq(want.n, DAYS * PER_DAY);
        ck_assert_uint_gt(s->slices_shared, 0);
        long total = f.reads - before, segment_failures = 0;
        anpr_store_close(s);
        for (long r = 1; r <= total; r++) {
            faulty_init(&f, COUNT, 0, 0);
            s = open_faulty(dir, &f, paths[p], 2);
            f.mode = FAIL_READ;
            f.fail_at = f.reads + r;
            answer a;
            ask(s, &all, &a);
            ck_assert_msg(a.rc < 0 && a.msg[0] != '\0', "%s: read %ld of %ld failing: %d (%s)", paths[p], r, total,
                          a.rc, a.msg);
            segment_failures += strstr(a.msg, ".seg") != NULL;
            ask(s, &all, &a);
            ck_assert_msg(a.rc == 0 && a.n == want.n && a.sum == want.sum, "%s: read %ld failing: wrong when asked "
                          "again (%s)", paths[p], r, a.msg);
            anpr_store_close(s);
        }
        ck_assert_int_gt(segment_failures, total / 2); /* most reads are the segments' blocks */
        printf("faults: a query shared between two threads, ANPR_IO=%s: %ld reads, each failed in turn, each "
               "failure the query's (%ld naming a segment)\n", paths[p], total, segment_failures);
    }
    tu_rmrf(dir);
    free(dir);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("faults");
    TCase *tc = tcase_create("faults");
    tcase_set_timeout(tc, 900);
    tcase_add_test(tc, every_operation_fails_in_turn);
    tcase_add_test(tc, short_writes_are_completed);
    tcase_add_test(tc, query_reads_fail_in_turn);
    tcase_add_test(tc, shared_query_reads_fail_in_turn);
    tcase_add_test(tc, a_crash_at_every_operation);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
