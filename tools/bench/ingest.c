/*
 * anpr-bench's ingest phase: the generator's reads appended through the
 * public API in batches of 10,000, a commit every commit_every reads, then a
 * final flush and the merge of every day into its segment. The time inside
 * the library's calls up to the final flush (included) counts as ingest;
 * generating the reads and writing them as CSV does not.
 */
#include <stdlib.h>
#include <string.h>

#include "phases.h"
#include "progress.h"

#define BATCH 10000
#define HOUR_MS INT64_C(3600000)

int bench_fail(const char *what, int rc, const anpr_store *s)
{
    const char *msg = s ? anpr_errmsg(s) : "";
    fprintf(stderr, "anpr-bench: %s: %s%s%s\n", what, anpr_strerror(rc), *msg ? ": " : "", msg);
    return 1;
}

/* The busiest hour of the day against the mean hour, from the reads' capture times. */
static double peak_factor(const uint64_t hours[24])
{
    uint64_t sum = 0, max = 0;
    for (int h = 0; h < 24; h++) {
        sum += hours[h];
        if (hours[h] > max) max = hours[h];
    }
    return sum ? (double)max * 24.0 / (double)sum : 0.0;
}

int bench_ingest_run(const char *dir, const bench_ingest_opts *o, bench_ingest_result *r)
{
    memset(r, 0, sizeof *r);
    synth *gen;
    if (synth_new(&gen, &o->workload) != 0) {
        fprintf(stderr, "anpr-bench: the workload's settings cannot work (see --help)\n");
        return 1;
    }
    anpr_read *batch = malloc(BATCH * sizeof *batch);
    if (!batch) {
        synth_free(gen);
        return bench_fail("ingest", -12, NULL);
    }
    r->rss_base_mb = bench_rss_mb();

    anpr_store_options so = ANPR_STORE_OPTIONS_INIT;
    so.flags = ANPR_OPEN_CREATE;
    so.memory_budget = o->budget_mb << 20;
    so.compression_level = o->compression_level;
    so.block_rows = o->block_rows;
    so.index_density = o->index_density;
    anpr_store *s = NULL;
    anpr_writer *w = NULL;
    int bad = 0, rc = anpr_store_open(&s, dir, &so);
    if (rc) {
        bad = bench_fail(dir, rc, NULL);
        goto out;
    }
    if ((rc = anpr_writer_open(&w, s))) {
        bad = bench_fail("writer", rc, s);
        goto out;
    }
    if (o->csv && synth_csv_header(o->csv) != 0) {
        bad = bench_fail("csv", -5, NULL);
        goto out;
    }

    bench_progress bar;
    bench_progress_start(&bar, "ingest", synth_total(gen), o->progress);
    uint64_t hours[24] = {0}, since_commit = 0;
    double t_start = bench_now_ms(), t_api = 0;
    size_t n;
    while ((n = synth_next(gen, batch, BATCH)) > 0) {
        for (size_t i = 0; i < n; i++) {
            int64_t ms = batch[i].ts_ms % (24 * HOUR_MS);
            hours[(ms < 0 ? ms + 24 * HOUR_MS : ms) / HOUR_MS]++;
        }
        if (o->csv && synth_csv_write(o->csv, batch, n) != 0) {
            bad = bench_fail("csv", -5, NULL);
            goto out;
        }
        double t = bench_now_ms();
        size_t ok = 0;
        rc = anpr_writer_append(w, batch, n, &ok, NULL);
        if (rc && rc != ANPR_EBADREAD) {
            bad = bench_fail("append", rc, s);
            goto out;
        }
        r->accepted += ok;
        r->generated += n;
        since_commit += n;
        if (since_commit >= o->commit_every) {
            if ((rc = anpr_writer_commit(w))) {
                bad = bench_fail("commit", rc, s);
                goto out;
            }
            since_commit = 0;
        }
        t_api += bench_now_ms() - t;
        bench_progress_update(&bar, r->generated);
    }
    bench_progress_end(&bar);
    double t = bench_now_ms();
    rc = anpr_writer_commit(w);
    if (rc == 0) rc = anpr_writer_flush(w);
    if (rc) {
        bad = bench_fail("flush", rc, s);
        goto out;
    }
    r->flush_s = (bench_now_ms() - t) / 1e3;
    r->rss_peak_ingest_mb = bench_rss_peak_mb();
    anpr_stats st;
    if ((rc = anpr_store_stats(s, &st))) {
        bad = bench_fail("stats", rc, s);
        goto out;
    }
    r->parts_bytes = st.bytes;

    bench_progress_start(&bar, "merge", 0, o->progress);
    t = bench_now_ms();
    rc = anpr_writer_merge(w, ANPR_ALL_DAYS);
    bench_progress_end(&bar);
    if (rc) {
        bad = bench_fail("merge", rc, s);
        goto out;
    }
    r->merge_s = (bench_now_ms() - t) / 1e3;
    r->wall_s = (bench_now_ms() - t_start) / 1e3;
    /*
     * The final commit and flush count too: every read is written to a part
     * once, by a flush the budget triggers or by this one, and leaving this
     * one out made the rate depend on where the last budget flush fell (a
     * national day's last part held 0.2 % or 8 % of the reads as the
     * budget's arithmetic moved, which moved the rate by some 6 %).
     */
    r->ingest_s = t_api / 1e3 + r->flush_s;
    r->reads_per_s = r->ingest_s > 0 ? (double)r->generated / r->ingest_s : 0;
    r->rss_peak_mb = bench_rss_peak_mb();
    r->peak_hour_factor = peak_factor(hours);
    if ((rc = anpr_store_stats(s, &st))) {
        bad = bench_fail("stats", rc, s);
        goto out;
    }
    r->stored = st.reads;
    r->days = st.days;
    r->segments = st.segments;
out:
    if (w && (rc = anpr_writer_close(w)) && !bad) bad = bench_fail("close", rc, s);
    anpr_store_close(s);
    synth_free(gen);
    free(batch);
    return bad;
}
