/*
 * Readers in another process while a writer ingests, flushes, merges and
 * expires: every answer is in time order with each read once, no query
 * fails because a file vanished under it, committed reads become visible
 * within the refresh interval, and at the end the reader sees exactly what
 * the writer committed and kept.
 */
#define _GNU_SOURCE
#include <check.h>
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
 * just expired a day) and waits for the reader's go-ahead on ack.
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
        if (write(fd, round == 150 ? "e" : "c", 1) != 1 || read(ack, &go, 1) != 1) _exit(10);
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
    anpr_store_options o = ANPR_STORE_OPTIONS_INIT;
    o.flags = ANPR_OPEN_CREATE;
    anpr_store *s;
    ck_assert_int_eq(anpr_store_open(&s, dir, &o), ANPR_OK);
    anpr_store_close(s);

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

    o.flags = ANPR_OPEN_READONLY;
    o.refresh_ms = 1;
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

int main(void)
{
    Suite *s = suite_create("concurrent");
    TCase *tc = tcase_create("concurrent");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, reader_process_during_ingest_merge_expire);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
