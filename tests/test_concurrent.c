/*
 * Readers in other processes while a writer ingests, flushes, merges and
 * expires: every answer is in time order with each read once, no query
 * fails because a file vanished under it, committed reads become visible
 * within the refresh interval, and at the end the reader sees exactly what
 * the writer committed and kept. With the writer running free, three
 * reader processes check every answer against the snapshot it must come
 * from: exactly the reads of one commit, less the expired day.
 */
#define _GNU_SOURCE
#include <check.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "anpr/anpr.h"
#include "synth.h"
#include "testutil.h"

#define DAY_MS INT64_C(86400000)

/*
 * The writer: ingest three days, committing often; flush, merge and expire
 * along the way. After each commit it says so on fd ('c', or 'e' when it has
 * just expired a day) and waits for the reader's go-ahead on ack (unless ack
 * is -1: then it runs free).
 */
static void writer_child(const char *dir, int fd, int ack)
{
    synth_config cfg;
    synth_config_default(&cfg, 30000);
    cfg.days = 3;
    synth *g;
    if (synth_new(&g, &cfg) != 0) _exit(3);
    anpr_store_options o = ANPR_STORE_OPTIONS_INIT;
    o.memory_budget = 1 << 20;
    anpr_store *s;
    anpr_writer *w;
    if (anpr_store_open(&s, dir, &o) != ANPR_OK || anpr_writer_open(&w, s) != ANPR_OK) _exit(4);
    anpr_read batch[500];
    size_t n;
    unsigned round = 0;
    while ((n = synth_next(g, batch, 500)) > 0) {
        int rc = anpr_writer_append(w, batch, n, NULL, NULL);
        if (rc != ANPR_OK && rc != ANPR_EBADREAD) _exit(5);
        if (anpr_writer_commit(w) != ANPR_OK) _exit(6);
        round++;
        if (round % 40 == 0 && anpr_writer_maintain(w) != ANPR_OK) _exit(7);
        if (round % 55 == 0 && anpr_writer_merge(w, ANPR_ALL_DAYS) != ANPR_OK) _exit(8);
        if (round == 150 && anpr_writer_expire(w, cfg.start_ms + DAY_MS) != ANPR_OK) _exit(9);
        char go;
        if (ack >= 0 && (write(fd, round == 150 ? "e" : "c", 1) != 1 || read(ack, &go, 1) != 1)) _exit(10);
    }
    if (anpr_writer_merge(w, ANPR_ALL_DAYS) != ANPR_OK) _exit(11);
    anpr_stats st;
    anpr_store_stats(s, &st);
    anpr_writer_close(w);
    anpr_store_close(s);
    synth_free(g);
    /* The last word: how many reads the store holds. */
    char msg[32];
    int len = snprintf(msg, sizeof msg, "=%llu\n", (unsigned long long)st.reads);
    if (write(fd, msg, (size_t)len) != len) _exit(12);
    _exit(0);
}

/* Query everything; check order and uniqueness; return the count. */
static uint64_t query_all(anpr_store *s)
{
    uint64_t n;
    char why[256];
    ck_assert_msg(tu_query_all(s, &n, why, sizeof why) == 0, "%s (%s)", why, anpr_errmsg(s));
    return n;
}

START_TEST(reader_process_during_ingest_merge_expire)
{
    char *dir = tu_tmpdir("concurrent");
    anpr_store_close(tu_store_create(dir, 0));

    int p[2], a[2];
    ck_assert_int_eq(pipe(p), 0);
    ck_assert_int_eq(pipe(a), 0);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        close(p[0]);
        close(a[1]);
        writer_child(dir, p[1], a[0]);
    }
    close(p[1]);
    close(a[0]);

    anpr_store_options o = ANPR_STORE_OPTIONS_INIT;
    o.flags = ANPR_OPEN_READONLY;
    o.refresh_ms = 1;
    anpr_store *s;
    ck_assert_int_eq(anpr_store_open(&s, dir, &o), ANPR_OK);
    unsigned rounds = 0;
    uint64_t last = 0, final = UINT64_MAX;
    char buf[64];
    for (;;) {
        ssize_t r = read(p[0], buf, 1);
        if (r != 1) break;
        if (buf[0] == '=') {
            size_t k = 0;
            while (k < sizeof buf - 1 && read(p[0], buf + k, 1) == 1 && buf[k] != '\n') k++;
            buf[k] = '\0';
            final = strtoull(buf, NULL, 10);
            break;
        }
        /* The writer has just committed and waits: its reads must be visible here, in another process. */
        usleep(2000); /* past the refresh interval */
        uint64_t n = query_all(s);
        if (buf[0] == 'c') ck_assert_msg(n > last, "round %u: %llu reads, %llu before", rounds, (unsigned long long)n,
                                         (unsigned long long)last);
        else ck_assert_msg(n < last, "round %u: an expired day still answers", rounds);
        last = n;
        rounds++;
        ck_assert_int_eq(write(a[1], "g", 1), 1);
        /* And once more while it flushes, merges and expires. */
        query_all(s);
    }
    int status;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "writer exit %d", WEXITSTATUS(status));
    ck_assert_uint_ne(final, UINT64_MAX);
    ck_assert_uint_gt(rounds, 100);
    usleep(5000);
    ck_assert_uint_eq(query_all(s), final); /* exactly what the writer kept */
    anpr_store_close(s);
    close(p[0]);
    close(a[1]);
    tu_rmrf(dir);
    free(dir);
}
END_TEST

/* ---- Several reader processes, each answer checked against its snapshot -- */

#define STREAM_BATCH 500 /* the writer commits after every batch of this many reads */

typedef struct stream_index {
    synth_config cfg;
    size_t n;              /* reads in the stream */
    uint64_t *keys;        /* hash of (camera, ts, plate) of each read, by stream index */
    uint64_t *sorted;      /* (key, first index) pairs sorted by key, as 2 words each */
    size_t nsorted;
    uint64_t *distinct;    /* distinct[c]: distinct reads among the first c */
    uint64_t *distinct_d0; /* the same, of the first day only */
} stream_index;

static uint64_t read_key(int64_t ts, uint32_t camera, const char *plate)
{
    uint64_t h = (uint64_t)ts * 0x9e3779b97f4a7c15ull ^ camera;
    for (const char *p = plate; *p; p++) h = (h ^ (unsigned char)*p) * 0x100000001b3ull;
    return h;
}

static int cmp_pair(const void *a, const void *b)
{
    const uint64_t *x = a, *y = b;
    if (x[0] != y[0]) return x[0] < y[0] ? -1 : 1;
    return x[1] < y[1] ? -1 : x[1] > y[1];
}

static void build_index(stream_index *x)
{
    synth_config_default(&x->cfg, 30000);
    x->cfg.days = 3;
    synth *g;
    ck_assert_int_eq(synth_new(&g, &x->cfg), 0);
    size_t cap = 0;
    x->keys = NULL;
    int64_t *day = NULL;
    anpr_read batch[STREAM_BATCH];
    size_t k;
    x->n = 0;
    while ((k = synth_next(g, batch, STREAM_BATCH)) > 0)
        for (size_t i = 0; i < k; i++) {
            if (x->n == cap) { /* resends make the stream a little longer than synth_total */
                cap = cap ? 2 * cap : 65536;
                x->keys = realloc(x->keys, cap * sizeof *x->keys);
                day = realloc(day, cap * sizeof *day);
                ck_assert(x->keys && day);
            }
            char norm[ANPR_PLATE_MAX + 1];
            ck_assert_int_eq(anpr_plate_normalise(norm, batch[i].plate), ANPR_READ_OK);
            day[x->n] = batch[i].ts_ms / DAY_MS;
            x->keys[x->n++] = read_key(batch[i].ts_ms, batch[i].camera, norm);
        }
    synth_free(g);
    x->sorted = malloc(2 * x->n * sizeof *x->sorted);
    for (size_t i = 0; i < x->n; i++) x->sorted[2 * i] = x->keys[i], x->sorted[2 * i + 1] = i;
    qsort(x->sorted, x->n, 2 * sizeof *x->sorted, cmp_pair);
    /* Keep each key's first index; mark which indexes are first sightings. */
    unsigned char *first = calloc(x->n, 1);
    size_t m = 0;
    for (size_t i = 0; i < x->n; i++)
        if (m == 0 || x->sorted[2 * (m - 1)] != x->sorted[2 * i]) {
            x->sorted[2 * m] = x->sorted[2 * i];
            x->sorted[2 * m + 1] = x->sorted[2 * i + 1];
            first[x->sorted[2 * m + 1]] = 1;
            m++;
        }
    x->nsorted = m;
    x->distinct = calloc(x->n + 1, sizeof *x->distinct);
    x->distinct_d0 = calloc(x->n + 1, sizeof *x->distinct_d0);
    int64_t day0 = x->cfg.start_ms / DAY_MS;
    for (size_t i = 0; i < x->n; i++) {
        x->distinct[i + 1] = x->distinct[i] + first[i];
        x->distinct_d0[i + 1] = x->distinct_d0[i] + (first[i] && day[i] == day0);
    }
    free(first);
    free(day);
}

/* The first stream index of a read, or -1 if the stream never had it. */
static long index_of(const stream_index *x, uint64_t key)
{
    size_t lo = 0, hi = x->nsorted;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (x->sorted[2 * mid] < key) lo = mid + 1;
        else hi = mid;
    }
    return lo < x->nsorted && x->sorted[2 * lo] == key ? (long)x->sorted[2 * lo + 1] : -1;
}

/*
 * One answer to "everything", checked against the snapshot it must come
 * from: the writer's reads up to some commit (a whole batch), less the
 * first day once it has been expired. Returns NULL or what is wrong.
 */
static const char *check_snapshot(anpr_store *s, const stream_index *x, uint64_t *count)
{
    anpr_query q = ANPR_QUERY_INIT;
    anpr_cursor *c;
    if (anpr_query_open(&c, s, &q) != ANPR_OK) return "query_open failed";
    anpr_batch b;
    int rc;
    long max_index = -1;
    uint64_t n = 0, day0_reads = 0;
    int64_t day0 = x->cfg.start_ms / DAY_MS, last_ts = INT64_MIN;
    const char *bad = NULL;
    while ((rc = anpr_cursor_next(c, &b)) == 1)
        for (size_t i = 0; i < b.n && !bad; i++) {
            long at = index_of(x, read_key(b.ts_ms[i], b.camera[i], b.plate[i]));
            if (at < 0) bad = "a read the writer never appended";
            else if (b.ts_ms[i] < last_ts) bad = "reads out of time order";
            if (at > max_index) max_index = at;
            last_ts = b.ts_ms[i];
            day0_reads += b.ts_ms[i] / DAY_MS == day0;
            n++;
        }
    anpr_cursor_close(c);
    if (rc < 0) return "cursor failed";
    if (bad) return bad;
    *count = n;
    if (n == 0) return NULL;
    /* The commit that made the newest read visible ends its batch. */
    size_t end = ((size_t)max_index / STREAM_BATCH + 1) * STREAM_BATCH;
    if (end > x->n) end = x->n;
    uint64_t all = x->distinct[end], kept = all - x->distinct_d0[end];
    if (day0_reads ? n == all : n == kept) return NULL; /* as many as the snapshot, all from it, none twice */
    static char why[200];
    snprintf(why, sizeof why, "not the reads of any one commit: %llu reads (%llu of day 0), newest index %ld; that "
             "commit holds %llu, %llu after day 0", (unsigned long long)n, (unsigned long long)day0_reads, max_index,
             (unsigned long long)all, (unsigned long long)kept);
    return why;
}

/* A reader process: query everything continuously until the writer is done; exit 0 if every answer checked. */
static void reader_child(const char *dir, const stream_index *x, int stop_fd)
{
    anpr_store_options o = ANPR_STORE_OPTIONS_INIT;
    o.flags = ANPR_OPEN_READONLY;
    o.refresh_ms = 1;
    anpr_store *s;
    if (anpr_store_open(&s, dir, &o) != ANPR_OK) _exit(20);
    unsigned queries = 0;
    for (;;) {
        uint64_t n = 0;
        const char *bad = check_snapshot(s, x, &n);
        if (bad) {
            fprintf(stderr, "reader %d, query %u: %s (%s)\n", (int)getpid(), queries, bad, anpr_errmsg(s));
            _exit(21);
        }
        queries++;
        char c;
        if (read(stop_fd, &c, 1) == 0) break; /* the writer finished: the pipe is closed */
    }
    anpr_store_close(s);
    printf("reader %d: %u queries, each the reads of one commit\n", (int)getpid(), queries);
    fflush(stdout);
    _exit(queries >= 2 ? 0 : 22); /* at least one answer while the writer ran, and one after */
}

START_TEST(reader_processes_see_whole_commits)
{
    char *dir = tu_tmpdir("concurrent");
    anpr_store_close(tu_store_create(dir, 0));
    stream_index x;
    build_index(&x);

    /* The readers stop when this pipe closes; reading it never blocks. */
    int stop[2];
    ck_assert_int_eq(pipe2(stop, O_NONBLOCK), 0);
    enum { READERS = 3 };
    pid_t readers[READERS];
    for (int r = 0; r < READERS; r++) {
        readers[r] = fork();
        ck_assert_int_ge(readers[r], 0);
        if (readers[r] == 0) {
            close(stop[1]);
            reader_child(dir, &x, stop[0]);
        }
    }
    close(stop[0]);
    int sink[2];
    ck_assert_int_eq(pipe(sink), 0);
    pid_t w = fork();
    ck_assert_int_ge(w, 0);
    if (w == 0) {
        close(sink[0]);
        close(stop[1]);
        writer_child(dir, sink[1], -1);
    }
    close(sink[1]);
    int status;
    ck_assert_int_eq(waitpid(w, &status, 0), w);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "writer exit %d", WEXITSTATUS(status));
    close(stop[1]);
    for (int r = 0; r < READERS; r++) {
        ck_assert_int_eq(waitpid(readers[r], &status, 0), readers[r]);
        ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "reader %d exit %d", r, WEXITSTATUS(status));
    }
    close(sink[0]);
    free(x.keys);
    free(x.sorted);
    free(x.distinct);
    free(x.distinct_d0);
    tu_rmrf(dir);
    free(dir);
}
END_TEST

/*
 * A reader that follows the journal keeps the reads it has seen there; an
 * expiry raises the floor without starting a new journal, and those reads
 * of the dropped day must go from the reader's answers too. (They once
 * stayed: found by the test above.)
 */
START_TEST(expiry_reaches_a_reader_following_the_journal)
{
    char *dir = tu_tmpdir("concurrent");
    int64_t day0 = ((int64_t)time(NULL) * 1000 / DAY_MS - 3) * DAY_MS;
    anpr_store_options o = ANPR_STORE_OPTIONS_INIT;
    o.flags = ANPR_OPEN_CREATE;
    anpr_store *ws, *rs;
    ck_assert_int_eq(anpr_store_open(&ws, dir, &o), ANPR_OK);
    anpr_writer *w;
    ck_assert_int_eq(anpr_writer_open(&w, ws), ANPR_OK);
    o.flags = ANPR_OPEN_READONLY;
    o.refresh_ms = 1;
    ck_assert_int_eq(anpr_store_open(&rs, dir, &o), ANPR_OK);

    anpr_read r[4];
    char plates[4][16];
    for (int i = 0; i < 4; i++) {
        snprintf(plates[i], 16, "EX%02d ABC", i);
        r[i] = (anpr_read){.ts_ms = day0 + (i % 2) * DAY_MS + 1000 * i, .plate = plates[i], .camera = 7, .lane = 1,
                           .confidence = 90, .lat_e7 = ANPR_POS_UNKNOWN, .lon_e7 = ANPR_POS_UNKNOWN};
    }
    ck_assert_int_eq(anpr_writer_append(w, r, 4, NULL, NULL), ANPR_OK);
    ck_assert_int_eq(anpr_writer_commit(w), ANPR_OK); /* in the journal only: no flush */
    usleep(3000);
    uint64_t n;
    char why[256];
    ck_assert_msg(tu_query_all(rs, &n, why, sizeof why) == 0, "%s", why);
    ck_assert_uint_eq(n, 4);
    ck_assert_int_eq(anpr_writer_expire(w, day0 + DAY_MS), ANPR_OK);
    usleep(3000);
    ck_assert_msg(tu_query_all(rs, &n, why, sizeof why) == 0, "%s", why);
    ck_assert_uint_eq(n, 2); /* day 0's two reads are gone here too */

    anpr_store_close(rs);
    ck_assert_int_eq(anpr_writer_close(w), ANPR_OK);
    anpr_store_close(ws);
    tu_rmrf(dir);
    free(dir);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("concurrent");
    TCase *tc = tcase_create("concurrent");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, reader_process_during_ingest_merge_expire);
    tcase_add_test(tc, reader_processes_see_whole_commits);
    tcase_add_test(tc, expiry_reaches_a_reader_following_the_journal);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
