/*
 * Soak test: a week of scaled national traffic (the synthetic generator:
 * late reads, resends, misreads, mobile cameras) ingested by a child process
 * that appends, commits, flushes, merges, runs maintenance and expires old
 * days as a service would, and is killed with SIGKILL at random moments and
 * restarted from its last commit until the week is in. Then:
 * - every committed read of a day the store still keeps is there exactly once;
 * - nothing is there that was never appended, and no read of an expired day;
 * - no temporary file is left behind.
 * It prints how many kills landed in each kind of call.
 *
 * Its length is a parameter: ANPR_SOAK_READS_PER_DAY (default 20,000; a
 * national day is 60,000,000), ANPR_SOAK_DAYS (7), ANPR_SOAK_KEEP_DAYS (days
 * kept by the child's expiry, 3), ANPR_SOAK_KILL_MS (longest life of a child
 * before its kill, 40).
 */
#define _GNU_SOURCE
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "anpr/anpr.h"
#include "plates.h"
#include "synth.h"
#include "batch_row.h"
#include "testutil.h"

#define DAY_MS INT64_C(86400000)
#define BATCH 1024

/* What the child is doing, for the tally of where kills landed. */
enum soak_op { OP_OPEN, OP_GENERATE, OP_APPEND, OP_COMMIT, OP_FLUSH, OP_MERGE, OP_MAINTAIN, OP_EXPIRE, OP_CLOSE, NOPS };
static const char *const op_names[NOPS] = {"open", "generate", "append", "commit", "flush",
                                           "merge", "maintain", "expire", "close"};

/* Shared with the child across fork. */
typedef struct soak_progress {
    volatile uint64_t committed;   /* reads [0, committed) of the stream are durable */
    volatile uint64_t appended_hi; /* no read at or past this index was ever appended */
    volatile int32_t floor_done;   /* the highest expiry cutoff (a day) that returned */
    volatile int32_t floor_tried;  /* the highest expiry cutoff asked for */
    volatile int op;
    volatile uint64_t ready;       /* the last child to have caught up with its stream (its round) */
} soak_progress;

typedef struct soak_params {
    synth_config cfg;
    uint64_t total;  /* reads in the stream */
    int keep_days;
    long kill_ms;
} soak_params;

static long env_long(const char *name, long dflt)
{
    const char *v = getenv(name);
    return v && *v ? atol(v) : dflt;
}

static anpr_store *open_store(const char *dir)
{
    anpr_store *s;
    anpr_store_options o = ANPR_STORE_OPTIONS_INIT;
    o.flags = ANPR_OPEN_CREATE;
    o.memory_budget = 4u << 20; /* small, so flushes happen on their own mid-append */
    return anpr_store_open(&s, dir, &o) == ANPR_OK ? s : NULL;
}

/* Keep the last keep_days days up to newest_day, saying which cutoff was asked for and which returned. */
static void expire_old_days(anpr_writer *w, soak_progress *pg, const soak_params *p, int32_t newest_day)
{
    int32_t cutoff = newest_day - p->keep_days + 1;
    if (cutoff > pg->floor_tried) pg->floor_tried = cutoff;
    pg->op = OP_EXPIRE;
    if (anpr_writer_expire(w, (int64_t)cutoff * DAY_MS) != ANPR_OK) _exit(9);
    if (cutoff > pg->floor_done) pg->floor_done = cutoff;
}

/*
 * The child of round `round`: the stream from what is committed to its end,
 * then a last expiry and merge; exits 0 when all is in. It first generates
 * again the part of the stream already committed (the generator has no
 * seek) and only then says it is ready: the parent's kill delay starts
 * there, so that regenerating a long stream does not eat every child's life.
 */
static void child(const char *dir, soak_progress *pg, const soak_params *p, uint64_t seed, uint64_t round)
{
    synth *g;
    if (synth_new(&g, &p->cfg) != 0) _exit(3);
    anpr_read *batch = malloc(BATCH * sizeof *batch);
    if (!batch) _exit(3);
    uint64_t next = 0, rnd = seed;
    int32_t newest_day = 0;
    while (next < pg->committed) { /* skip what is already durable */
        size_t n = synth_next(g, batch, BATCH < pg->committed - next ? BATCH : pg->committed - next);
        for (size_t i = 0; i < n; i++)
            if ((int32_t)(batch[i].ts_ms / DAY_MS) > newest_day) newest_day = (int32_t)(batch[i].ts_ms / DAY_MS);
        next += n;
    }
    pg->op = OP_OPEN;
    pg->ready = round;
    anpr_store *s = open_store(dir);
    anpr_writer *w;
    if (!s || anpr_writer_open(&w, s) != ANPR_OK) _exit(3);
    for (;;) {
        rnd = synth_mix(rnd);
        pg->op = OP_GENERATE;
        size_t n = synth_next(g, batch, 1 + rnd % BATCH);
        if (n == 0) break;
        for (size_t i = 0; i < n; i++)
            if ((int32_t)(batch[i].ts_ms / DAY_MS) > newest_day) newest_day = (int32_t)(batch[i].ts_ms / DAY_MS);
        /* Set before appending: once the call starts, any of these may reach the disk. */
        if (next + n > pg->appended_hi) pg->appended_hi = next + n;
        pg->op = OP_APPEND;
        int rc = anpr_writer_append(w, batch, n, NULL, NULL);
        if (rc != ANPR_OK && rc != ANPR_EBADREAD) _exit(4); /* late reads of expired days are refused */
        next += n;
        unsigned op = (unsigned)(rnd >> 20) % 100;
        if (op < 40) {
            pg->op = OP_COMMIT;
            if (anpr_writer_commit(w) != ANPR_OK) _exit(5);
            pg->committed = next;
        } else if (op < 46) {
            pg->op = OP_FLUSH;
            if (anpr_writer_flush(w) != ANPR_OK) _exit(6);
            pg->committed = next;
        } else if (op < 50) {
            pg->op = OP_MERGE;
            if (anpr_writer_merge(w, newest_day - (int32_t)((rnd >> 40) % 3)) != ANPR_OK) _exit(7);
            pg->committed = next;
        } else if (op < 53) {
            pg->op = OP_MAINTAIN;
            if (anpr_writer_maintain(w) != ANPR_OK) _exit(8);
        } else if (op < 58) {
            expire_old_days(w, pg, p, newest_day);
        }
    }
    /* The end of the week: everything committed, the last expiry, every day merged. */
    pg->op = OP_COMMIT;
    if (anpr_writer_commit(w) != ANPR_OK) _exit(5);
    pg->committed = next;
    expire_old_days(w, pg, p, newest_day);
    pg->op = OP_MERGE;
    if (anpr_writer_merge(w, ANPR_ALL_DAYS) != ANPR_OK) _exit(7);
    pg->op = OP_CLOSE;
    if (anpr_writer_close(w) != ANPR_OK) _exit(10);
    anpr_store_close(s);
    synth_free(g);
    free(batch);
    _exit(0);
}

/* The first n reads of the stream, normalised as stored, sorted by key, each key once. */
static anpr_row *stream_rows(const soak_params *p, uint64_t n, size_t *count)
{
    synth *g;
    ck_assert_int_eq(synth_new(&g, &p->cfg), 0);
    anpr_row *rows = malloc((n ? n : 1) * sizeof *rows);
    anpr_read *batch = malloc(BATCH * sizeof *batch);
    ck_assert(rows && batch);
    uint64_t got = 0;
    while (got < n) {
        size_t k = synth_next(g, batch, BATCH < n - got ? BATCH : n - got);
        ck_assert_uint_gt(k, 0);
        for (size_t i = 0; i < k; i++) ck_assert_int_eq(tu_row_from_read(&rows[got + i], &batch[i]), ANPR_READ_OK);
        got += k;
    }
    synth_free(g);
    free(batch);
    qsort(rows, n, sizeof *rows, tu_row_cmp);
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (k == 0 || tu_row_cmp(&rows[k - 1], &rows[i]) != 0) rows[k++] = rows[i];
    *count = k;
    return rows;
}

/* Every read of the store, through a query, sorted by key. */
static anpr_row *store_rows(anpr_store *s, size_t *count)
{
    anpr_query q = ANPR_QUERY_INIT;
    anpr_cursor *c;
    ck_assert_int_eq(anpr_query_open(&c, s, &q), ANPR_OK);
    anpr_row *rows = NULL;
    size_t n = 0;
    anpr_batch b;
    int rc;
    while ((rc = anpr_cursor_next(c, &b)) == 1) {
        rows = realloc(rows, (n + b.n) * sizeof *rows);
        ck_assert_ptr_nonnull(rows);
        for (size_t i = 0; i < b.n; i++) batch_row(&rows[n++], &b, i);
    }
    ck_assert_msg(rc == 0, "query: %s", anpr_cursor_errmsg(c));
    anpr_cursor_close(c);
    if (n) qsort(rows, n, sizeof *rows, tu_row_cmp);
    *count = n;
    return rows;
}

static void check_store(const char *dir, const soak_progress *pg, const soak_params *p)
{
    anpr_store *s = open_store(dir);
    ck_assert_ptr_nonnull(s);
    anpr_writer *w; /* opening as writer replays the journal and clears what crashed writes left */
    int rc = anpr_writer_open(&w, s);
    ck_assert_msg(rc == ANPR_OK, "writer open: %s: %s", anpr_strerror(rc), anpr_errmsg(s));
    ck_assert_int_eq(anpr_writer_close(w), ANPR_OK);
    size_t ng, nc, na;
    anpr_row *got = store_rows(s, &ng);
    anpr_store_close(s);
    anpr_row *must = stream_rows(p, pg->committed, &nc);
    anpr_row *may = stream_rows(p, pg->appended_hi, &na);
    int32_t floor = pg->floor_done;
    ck_assert_int_eq(pg->floor_done, pg->floor_tried); /* the last child's expiry returned */

    for (size_t i = 1; i < ng; i++) ck_assert_msg(tu_row_cmp(&got[i - 1], &got[i]) != 0, "a read is stored twice");
    for (size_t i = 0; i < ng; i++) {
        ck_assert_msg(got[i].ts_ms / DAY_MS >= floor, "a read of expired day %lld is stored",
                      (long long)(got[i].ts_ms / DAY_MS));
        anpr_row *m = bsearch(&got[i], may, na, sizeof *may, tu_row_cmp);
        ck_assert_msg(m && tu_row_same(m, &got[i]), "a stored read was never appended");
    }
    size_t kept = 0;
    for (size_t i = 0; i < nc; i++) {
        if (must[i].ts_ms / DAY_MS < floor) continue;
        anpr_row *g = bsearch(&must[i], got, ng, sizeof *got, tu_row_cmp);
        ck_assert_msg(g && tu_row_same(g, &must[i]), "committed read %zu of %zu is missing", i, nc);
        kept++;
    }
    ck_assert_uint_eq(kept, ng); /* all appended reads are committed at the end, so nothing else */
    printf("soak: %zu distinct reads committed, %zu of them in the kept days (from day %d), all there once\n", nc,
           kept, (int)floor);
    free(must);
    free(may);
    free(got);

    char left[256];
    ck_assert_msg(!tu_has_temp_file(dir, left, sizeof left), "left behind: %s", left);
}

/* Has the child exited (left to reap)? */
static int child_ended(pid_t pid)
{
    siginfo_t info;
    memset(&info, 0, sizeof info);
    return waitid(P_PID, (id_t)pid, &info, WEXITED | WNOHANG | WNOWAIT) != 0 || info.si_pid == pid;
}

START_TEST(a_week_killed_at_random_moments)
{
    soak_params p;
    uint64_t per_day = (uint64_t)env_long("ANPR_SOAK_READS_PER_DAY", 20000);
    synth_config_default(&p.cfg, per_day);
    p.cfg.seed = 5;
    p.cfg.days = (uint32_t)env_long("ANPR_SOAK_DAYS", 7);
    p.cfg.start_ms = ((int64_t)time(NULL) * 1000 / DAY_MS - p.cfg.days - 1) * DAY_MS; /* ends before today */
    p.keep_days = (int)env_long("ANPR_SOAK_KEEP_DAYS", 3);
    p.kill_ms = env_long("ANPR_SOAK_KILL_MS", 40);
    ck_assert(per_day > 0 && p.cfg.days > 0 && p.keep_days > 0 && p.kill_ms > 0);
    synth *g;
    ck_assert_int_eq(synth_new(&g, &p.cfg), 0);
    p.total = synth_total(g);
    synth_free(g);

    char *dir = tu_tmpdir("soak");
    soak_progress *pg = mmap(NULL, sizeof *pg, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    ck_assert_ptr_ne(pg, MAP_FAILED);
    memset((void *)pg, 0, sizeof *pg);
    pg->floor_done = pg->floor_tried = INT32_MIN;
    unsigned kills[NOPS] = {0}, nkills = 0, stalls = 0;
    uint64_t rnd = 777, last_committed = 0;
    for (uint64_t round = 1;; round++) {
        rnd = synth_mix(rnd);
        pid_t pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0) child(dir, pg, &p, rnd, round);
        /* The delay counts from when the child has caught up with its stream (or has ended). */
        while (pg->ready != round && !child_ended(pid)) {
            struct timespec poll = {0, 200000L};
            nanosleep(&poll, NULL);
        }
        /*
         * A child killed before it commits anything makes no progress (under a
         * sanitizer, opening and replaying alone can outlast the delay): after
         * each such kill the longest delay doubles, until one commits.
         */
        long limit = p.kill_ms << (stalls < 10 ? stalls : 10);
        struct timespec ts = {0, (long)(1 + rnd % (uint64_t)limit) * 1000000L};
        ts.tv_sec = ts.tv_nsec / 1000000000L;
        ts.tv_nsec %= 1000000000L;
        nanosleep(&ts, NULL);
        kill(pid, SIGKILL);
        int status;
        ck_assert_int_eq(waitpid(pid, &status, 0), pid);
        if (WIFEXITED(status)) {
            ck_assert_msg(WEXITSTATUS(status) == 0, "child failed with %d in %s", WEXITSTATUS(status),
                          op_names[pg->op]);
            break; /* the week is in */
        }
        ck_assert(WIFSIGNALED(status));
        kills[pg->op < NOPS ? pg->op : OP_OPEN]++;
        nkills++;
        stalls = pg->committed == last_committed ? stalls + 1 : 0;
        last_committed = pg->committed;
    }
    printf("soak: %llu reads a day for %u days (%llu reads), %u kills:", (unsigned long long)per_day, p.cfg.days,
           (unsigned long long)p.total, nkills);
    for (int i = 0; i < NOPS; i++) printf(" %s %u%s", op_names[i], kills[i], i + 1 < NOPS ? "," : "\n");
    check_store(dir, pg, &p);
    munmap((void *)pg, sizeof *pg);
    tu_rmrf(dir);
    free(dir);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("soak");
    TCase *tc = tcase_create("soak");
    tcase_set_timeout(tc, 3600);
    tcase_add_test(tc, a_week_killed_at_random_moments);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
