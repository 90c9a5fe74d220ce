/*
 * Readers in other threads of the same process, on the same store handle,
 * while a writer thread ingests, flushes, merges and expires: every answer
 * is in time order with each read once, no query fails, an answer never
 * shrinks unless a day was expired in between, and at the end the readers
 * see exactly what the store holds. The store lets a query share its
 * blocks among two threads, and its blocks are small (256 rows), so that
 * the readers' queries do, and contend for the store's one spare thread.
 * Built to run under ThreadSanitizer too (tools/test.sh does), which
 * watches every access the threads share.
 */
#include <check.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "anpr/anpr.h"
#include "store/store.h"
#include "synth.h"
#include "testutil.h"

#define DAY_MS INT64_C(86400000)
#define READERS 2

typedef struct shared {
    anpr_store *s;
    int64_t start_ms;
    atomic_int done;       /* the writer has finished */
    atomic_uint expiries;  /* days dropped so far */
    atomic_int writer_rc;  /* 0, or the step that failed */
    uint64_t queries[READERS];
} shared;

static void *writer_thread(void *p)
{
    shared *sh = p;
    synth_config cfg;
    synth_config_default(&cfg, 20000);
    cfg.days = 3;
    cfg.start_ms = sh->start_ms;
    synth *g;
    anpr_writer *w;
    int fail = 0;
    if (synth_new(&g, &cfg) != 0) fail = 1;
    else if (anpr_writer_open(&w, sh->s) != ANPR_OK) fail = 2;
    anpr_read batch[500];
    size_t n;
    unsigned round = 0;
    while (!fail && (n = synth_next(g, batch, 500)) > 0) {
        int rc = anpr_writer_append(w, batch, n, NULL, NULL);
        if (rc != ANPR_OK && rc != ANPR_EBADREAD) fail = 3;
        else if (anpr_writer_commit(w) != ANPR_OK) fail = 4;
        round++;
        if (!fail && round % 30 == 0 && anpr_writer_maintain(w) != ANPR_OK) fail = 5;
        if (!fail && round % 45 == 0 && anpr_writer_merge(w, ANPR_ALL_DAYS) != ANPR_OK) fail = 6;
        if (!fail && round == 100) {
            /* The count may drop from here: say so before the drop. */
            atomic_fetch_add(&sh->expiries, 1);
            if (anpr_writer_expire(w, cfg.start_ms + DAY_MS) != ANPR_OK) fail = 7;
        }
    }
    if (!fail && anpr_writer_merge(w, ANPR_ALL_DAYS) != ANPR_OK) fail = 8;
    if (fail != 1) synth_free(g);
    if (fail != 1 && fail != 2) anpr_writer_close(w);
    atomic_store(&sh->writer_rc, fail);
    atomic_store(&sh->done, 1);
    return NULL;
}

typedef struct reader_arg {
    shared *sh;
    int id;
    char why[256];
    int failed;
} reader_arg;

static void *reader_thread(void *p)
{
    reader_arg *a = p;
    uint64_t prev = 0;
    unsigned prev_expiries = 0;
    while (!atomic_load(&a->sh->done)) {
        unsigned expiries = atomic_load(&a->sh->expiries);
        uint64_t n;
        if (tu_query_all(a->sh->s, &n, a->why, sizeof a->why) != 0) {
            a->failed = 1;
            return NULL;
        }
        /* Committed reads stay visible: an answer shrinks only across an expiry. */
        if (n < prev && expiries == prev_expiries && atomic_load(&a->sh->expiries) == expiries) {
            snprintf(a->why, sizeof a->why, "answer shrank from %llu to %llu reads with no expiry",
                     (unsigned long long)prev, (unsigned long long)n);
            a->failed = 1;
            return NULL;
        }
        prev = n;
        prev_expiries = expiries;
        a->sh->queries[a->id]++;
    }
    return NULL;
}

START_TEST(readers_while_writer_ingests_merges_expires)
{
    char *dir = tu_tmpdir("threads");
    shared sh;
    memset(&sh, 0, sizeof sh);
    anpr_store_options o = ANPR_STORE_OPTIONS_INIT;
    o.flags = ANPR_OPEN_CREATE;
    o.memory_budget = 1 << 20; /* a small budget: flushes along the way */
    o.block_rows = 256;
    o.query_threads = 2;
    ck_assert_int_eq(anpr_store_open(&sh.s, dir, &o), ANPR_OK);
    int64_t now = (int64_t)time(NULL) * 1000;
    sh.start_ms = (now / DAY_MS - 4) * DAY_MS;

    pthread_t wt, rt[READERS];
    reader_arg ra[READERS];
    ck_assert_int_eq(pthread_create(&wt, NULL, writer_thread, &sh), 0);
    for (int i = 0; i < READERS; i++) {
        ra[i] = (reader_arg){.sh = &sh, .id = i};
        ck_assert_int_eq(pthread_create(&rt[i], NULL, reader_thread, &ra[i]), 0);
    }
    pthread_join(wt, NULL);
    for (int i = 0; i < READERS; i++) pthread_join(rt[i], NULL);
    ck_assert_msg(atomic_load(&sh.writer_rc) == 0, "writer failed at step %d: %s", atomic_load(&sh.writer_rc),
                  anpr_errmsg(sh.s));
    for (int i = 0; i < READERS; i++) {
        ck_assert_msg(!ra[i].failed, "reader %d: %s", i, ra[i].why);
        ck_assert_uint_gt(sh.queries[i], 0);
    }
    /* At the end the readers see what the store holds. */
    anpr_stats st;
    ck_assert_int_eq(anpr_store_stats(sh.s, &st), ANPR_OK);
    uint64_t n;
    char why[256];
    ck_assert_msg(tu_query_all(sh.s, &n, why, sizeof why) == 0, "%s", why);
    ck_assert_uint_eq(n, st.reads);
    ck_assert_uint_gt(n, 0);
    uint64_t shared_slices = __atomic_load_n(&sh.s->slices_shared, __ATOMIC_RELAXED);
    ck_assert_uint_gt(shared_slices, 0);
    printf("threads: %llu + %llu queries during ingest, merges and an expiry (%llu slices shared between two "
           "threads); %llu reads at the end\n",
           (unsigned long long)sh.queries[0], (unsigned long long)sh.queries[1], (unsigned long long)shared_slices,
           (unsigned long long)n);
    anpr_store_close(sh.s);
    tu_rmrf(dir);
    free(dir);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("threads");
    TCase *tc = tcase_create("threads");
    tcase_set_timeout(tc, 900);
    tcase_add_test(tc, readers_while_writer_ingests_merges_expires);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
