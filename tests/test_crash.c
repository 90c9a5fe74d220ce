/*
 * Crash test: a child process ingests (append, commit, flush, merge,
 * maintain) and is killed with SIGKILL at random moments, many times. After
 * every kill the store must reopen, and at the end every committed read is
 * there exactly once and nothing is there that was never appended.
 *
 * ANPR_CRASH_ROUNDS sets the number of kills (default 40).
 */
#define _GNU_SOURCE
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "anpr/anpr.h"
#include "anpr/segment.h"
#include "testutil.h"

#define DAY_MS INT64_C(86400000)
#define DAY0 INT64_C(20759)

/* Progress the child publishes to the parent, in memory shared across fork. */
typedef struct progress {
    volatile uint64_t committed;   /* reads [0, committed) are durable */
    volatile uint64_t appended_hi; /* no read at or past this index was ever appended */
} progress;

static uint64_t mix(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

/* Read i of the endless deterministic stream: three days, resends of earlier reads now and then. */
static void stream_read(uint64_t i, anpr_read *r, char *plate)
{
    if (i % 23 == 22) i -= 11; /* a resend: same camera, time and plate as an earlier read */
    uint64_t k = mix(i);
    snprintf(plate, 16, "%c%c%02u%c%c%c", 'A' + (int)(k % 26), 'A' + (int)((k >> 5) % 26),
             (unsigned)((k >> 10) % 100), 'A' + (int)((k >> 17) % 26), 'A' + (int)((k >> 22) % 26),
             'A' + (int)((k >> 27) % 26));
    *r = (anpr_read){
        .ts_ms = (DAY0 + (int64_t)(k % 3)) * DAY_MS + (int64_t)((k >> 32) % DAY_MS),
        .plate = plate,
        .camera = (uint32_t)((k >> 40) % 300),
        .lane = (uint8_t)(k >> 50) % 4,
        .direction = (uint8_t)((k >> 52) % 2),
        .confidence = (uint8_t)((k >> 53) % 101),
        .lat_e7 = 510000000 + (int32_t)((k >> 20) % 1000000),
        .lon_e7 = -1000000 + (int32_t)((k >> 24) % 1000000),
    };
}

static void stream_row(uint64_t i, anpr_row *row)
{
    anpr_read r;
    char plate[16];
    stream_read(i, &r, plate);
    ck_assert_int_eq(tu_row_from_read(row, &r), ANPR_READ_OK);
}

static anpr_store *open_store(const char *dir)
{
    anpr_store *s;
    anpr_store_options o = ANPR_STORE_OPTIONS_INIT;
    o.flags = ANPR_OPEN_CREATE;
    o.memory_budget = 1u << 20; /* small, so flushes happen on their own mid-append */
    if (anpr_store_open(&s, dir, &o) != ANPR_OK) return NULL;
    return s;
}

/* The child: ingest from `start` for ever, doing every kind of write, until killed. */
static void child(const char *dir, progress *pg, uint64_t start, uint64_t seed)
{
    anpr_store *s = open_store(dir);
    anpr_writer *w;
    if (!s || anpr_writer_open(&w, s) != ANPR_OK) _exit(3);
    uint64_t next = start, rnd = seed;
    anpr_read batch[2000];
    char plates[2000][16];
    for (;;) {
        rnd = mix(rnd);
        size_t n = 1 + rnd % 2000;
        for (size_t i = 0; i < n; i++) stream_read(next + i, &batch[i], plates[i]);
        /* Set before appending: once the call starts, any of these may reach the disk. */
        if (next + n > pg->appended_hi) pg->appended_hi = next + n;
        if (anpr_writer_append(w, batch, n, NULL, NULL) != ANPR_OK) _exit(4);
        next += n;
        unsigned op = (unsigned)(rnd >> 20) % 100;
        if (op < 50) {
            if (anpr_writer_commit(w) != ANPR_OK) _exit(5);
            pg->committed = next;
        } else if (op < 56) {
            if (anpr_writer_flush(w) != ANPR_OK) _exit(6);
            pg->committed = next;
        } else if (op < 59) {
            if (anpr_writer_merge(w, (int32_t)(DAY0 + (rnd >> 40) % 3)) != ANPR_OK) _exit(7);
            pg->committed = next;
        } else if (op < 61) {
            if (anpr_writer_maintain(w) != ANPR_OK) _exit(8);
        }
    }
}

static anpr_row *stream_rows(uint64_t n, size_t *count)
{
    anpr_row *rows = malloc((n ? n : 1) * sizeof *rows);
    for (uint64_t i = 0; i < n; i++) stream_row(i, &rows[i]);
    qsort(rows, n, sizeof *rows, tu_row_cmp);
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (k == 0 || tu_row_cmp(&rows[k - 1], &rows[i]) != 0) rows[k++] = rows[i];
    *count = k;
    return rows;
}

static void check_store(const char *dir, uint64_t committed, uint64_t appended_hi)
{
    /* Reopening as writer replays the journal and removes what crashed writes left behind. */
    anpr_store *s = open_store(dir);
    ck_assert_ptr_nonnull(s);
    anpr_writer *w;
    int rc = anpr_writer_open(&w, s);
    ck_assert_msg(rc == ANPR_OK, "writer open: %s: %s", anpr_strerror(rc), anpr_errmsg(s));
    ck_assert_int_eq(anpr_writer_merge(w, ANPR_ALL_DAYS), ANPR_OK);
    ck_assert_int_eq(anpr_writer_close(w), ANPR_OK);

    anpr_file_info *files;
    size_t nfiles;
    ck_assert_int_eq(anpr_store_files(s, &files, &nfiles), ANPR_OK);
    anpr_row *got = NULL;
    size_t ng = 0;
    for (size_t i = 0; i < nfiles; i++) {
        char path[4096], err[256];
        snprintf(path, sizeof path, "%s/%s", dir, files[i].name);
        anpr_segment *seg;
        ck_assert_msg(anpr_segment_open(&seg, path, err, sizeof err) == ANPR_OK, "%s", err);
        ck_assert_int_eq(anpr_segment_verify(seg), ANPR_OK);
        anpr_segment_info info;
        anpr_segment_info_get(seg, &info);
        got = realloc(got, (ng + info.rows + info.block_rows) * sizeof *got);
        for (uint32_t b = 0; b < info.blocks; b++) {
            size_t n;
            ck_assert_int_eq(anpr_segment_rows(seg, b, got + ng, &n), ANPR_OK);
            ng += n;
        }
        anpr_segment_close(seg);
    }
    free(files);
    anpr_store_close(s);
    qsort(got, ng, sizeof *got, tu_row_cmp);

    size_t nc, na;
    anpr_row *must = stream_rows(committed, &nc);
    anpr_row *may = stream_rows(appended_hi, &na);
    for (size_t i = 1; i < ng; i++)
        ck_assert_msg(tu_row_cmp(&got[i - 1], &got[i]) != 0, "a read is stored twice");
    for (size_t i = 0; i < ng; i++) {
        anpr_row *m = bsearch(&got[i], may, na, sizeof *may, tu_row_cmp);
        ck_assert_msg(m && tu_row_same(m, &got[i]), "a stored read was never appended");
    }
    for (size_t i = 0; i < nc; i++) {
        anpr_row *g = bsearch(&must[i], got, ng, sizeof *got, tu_row_cmp);
        ck_assert_msg(g && tu_row_same(g, &must[i]), "committed read %zu of %zu is missing", i, nc);
    }
    free(must);
    free(may);
    free(got);

    /* Nothing temporary is left in the directory. */
    char left[256];
    ck_assert_msg(!tu_has_temp_file(dir, left, sizeof left), "left behind: %s", left);
}

START_TEST(kill_nine_at_random_moments)
{
    const char *env = getenv("ANPR_CRASH_ROUNDS");
    int rounds = env ? atoi(env) : 40;
    char *dir = tu_tmpdir("crash");
    progress *pg = mmap(NULL, sizeof *pg, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    ck_assert_ptr_ne(pg, MAP_FAILED);
    pg->committed = pg->appended_hi = 0;
    uint64_t rnd = 12345;
    for (int round = 0; round < rounds; round++) {
        rnd = mix(rnd);
        uint64_t start = pg->committed;
        pid_t pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0) child(dir, pg, start, rnd);
        /* Between 2 and 120 ms: long enough to flush and merge, short enough to die mid-way. */
        struct timespec ts = {0, (long)(2 + rnd % 118) * 1000000L};
        nanosleep(&ts, NULL);
        kill(pid, SIGKILL);
        int status;
        ck_assert_int_eq(waitpid(pid, &status, 0), pid);
        ck_assert_msg(WIFSIGNALED(status), "child exited by itself with %d", WEXITSTATUS(status));
    }
    printf("crash: %d kills; %llu reads committed, up to %llu appended\n", rounds,
           (unsigned long long)pg->committed, (unsigned long long)pg->appended_hi);
    check_store(dir, pg->committed, pg->appended_hi);
    munmap(pg, sizeof *pg);
    tu_rmrf(dir);
    free(dir);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("crash");
    TCase *tc = tcase_create("crash");
    tcase_set_timeout(tc, 900);
    tcase_add_test(tc, kill_nine_at_random_moments);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
