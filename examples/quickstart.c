/*
 * quickstart: the write path in one page. Opens (or creates) a store,
 * appends a batch in which one read is bad, shows the per-read verdicts,
 * commits, merges the day into its segment and prints the store's stats.
 *
 *   quickstart STORE_DIR
 */
#include <stdio.h>
#include <stdlib.h>

#include <anpr/anpr.h>

static int fail(const char *what, int rc, anpr_store *store)
{
    fprintf(stderr, "quickstart: %s: %s", what, anpr_strerror(rc));
    if (store) fprintf(stderr, " (%s)", anpr_errmsg(store));
    fputc('\n', stderr);
    return 1;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: quickstart STORE_DIR\n");
        return 2;
    }
    char errbuf[256] = "";
    anpr_store_options opts = ANPR_STORE_OPTIONS_INIT;
    opts.flags = ANPR_OPEN_CREATE;
    opts.retention_days = 365;
    opts.errbuf = errbuf;
    opts.errbuf_size = sizeof errbuf;
    anpr_store *store;
    int rc = anpr_store_open(&store, argv[1], &opts);
    if (rc != ANPR_OK) {
        fprintf(stderr, "quickstart: %s: %s\n", argv[1], errbuf);
        return 1;
    }
    anpr_writer *w;
    rc = anpr_writer_open(&w, store); /* takes the store's write lock, replays the journal */
    if (rc != ANPR_OK) return fail("writer", rc, store);

    /* 2026-11-02 08:15:30 UTC and a few seconds later. Plates are normalised on the way in. */
    const anpr_read reads[] = {
        {1762071330123, "AB12 CDE", 4711, 1, 0, 93, 515074000, -1278000},
        {1762071331500, "ab12cde", 4712, 2, 0, 88, 515080000, -1279000},
        {1762071332000, "AB12-C?E", 4713, 1, 1, 97, ANPR_POS_UNKNOWN, ANPR_POS_UNKNOWN}, /* bad plate */
        {1762071333000, "LB07SEO", 4711, 1, 0, 101, 515074000, -1278000},                 /* bad confidence */
        {1762071330123, "AB12CDE", 4711, 1, 0, 93, 515074000, -1278000},                  /* a resend */
    };
    size_t n = sizeof reads / sizeof reads[0], accepted = 0;
    int verdicts[sizeof reads / sizeof reads[0]];
    rc = anpr_writer_append(w, reads, n, &accepted, verdicts);
    if (rc != ANPR_OK && rc != ANPR_EBADREAD) return fail("append", rc, store);
    for (size_t i = 0; i < n; i++)
        printf("read %zu: %s\n", i, verdicts[i] == ANPR_READ_OK ? "accepted" : anpr_verdict_str(verdicts[i]));
    printf("accepted %zu of %zu\n", accepted, n);

    rc = anpr_writer_commit(w); /* durable from here on, even through kill -9 or power loss */
    if (rc != ANPR_OK) return fail("commit", rc, store);
    rc = anpr_writer_merge(w, ANPR_ALL_DAYS); /* flush, then one segment a day (resends kept once) */
    if (rc != ANPR_OK) return fail("merge", rc, store);

    anpr_stats st;
    rc = anpr_store_stats(store, &st);
    if (rc != ANPR_OK) return fail("stats", rc, store);
    printf("days %llu, segments %llu, reads %llu, bytes %llu\n", (unsigned long long)st.days,
           (unsigned long long)st.segments, (unsigned long long)st.reads, (unsigned long long)st.bytes);
    rc = anpr_writer_close(w);
    anpr_store_close(store);
    return rc == ANPR_OK ? 0 : 1;
}
