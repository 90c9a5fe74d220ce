/*
 * bench_ingest: the write path's numbers for a synthetic national day.
 *
 *   bench_ingest [--reads N] [--commit-every N] [--budget MB] [--level L]
 *                [--dir DIR] [--keep] [--no-merge]
 *
 * Generates reads in process (tools/synth, seed 1), appends them through the
 * public API in batches of 10,000 with a commit every --commit-every reads
 * (default 100,000), flushes, merges each day into its segment, and prints:
 * the ingest rate through the API (time inside append, commit and the
 * automatic flushes they trigger; generating the reads is not counted), the
 * merge time, bytes on disk per read by column and for the index, and peak
 * memory. Defaults to a national day: 60,000,000 reads. Prints one
 * "key value" line per figure so scripts can read them.
 *
 * Peak memory is reported two ways: the process's peak RSS, and that peak
 * less the RSS before the store was opened (the generator's tables), which
 * is what the library itself held at its worst.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "anpr/anpr.h"
#include "anpr/segment.h"
#include "synth.h"

#define BATCH 10000

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* Resident set now, in bytes, from /proc/self/statm. */
static long long rss_now(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    long long pages = 0, resident = 0;
    if (f) {
        if (fscanf(f, "%lld %lld", &pages, &resident) != 2) resident = 0;
        fclose(f);
    }
    return resident * sysconf(_SC_PAGESIZE);
}

static long long rss_peak(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (long long)ru.ru_maxrss * 1024;
}

static void usage(FILE *f)
{
    fputs("usage: bench_ingest [--reads N] [--commit-every N] [--budget MB] [--level L] [--dir DIR] [--keep]\n"
          "                    [--no-merge]\n",
          f);
}

static int die(const char *what, int rc, anpr_store *s)
{
    fprintf(stderr, "bench_ingest: %s: %s%s%s\n", what, anpr_strerror(rc), s ? ": " : "", s ? anpr_errmsg(s) : "");
    return 1;
}

/* Sum the columns and index of every file in the store and print bytes per read for each. */
static int report_bytes(anpr_store *s, const char *dir, uint64_t reads)
{
    anpr_file_info *files = NULL;
    size_t nfiles = 0;
    int rc = anpr_store_files(s, &files, &nfiles);
    if (rc) return die("files", rc, s);
    uint64_t col_bytes[16] = {0}, index = 0, directory = 0, total = 0;
    const char *names[16] = {0};
    unsigned ncols = 0;
    for (size_t i = 0; i < nfiles; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, files[i].name);
        anpr_segment *seg;
        char err[256];
        rc = anpr_segment_open(&seg, path, err, sizeof err);
        if (rc) {
            fprintf(stderr, "bench_ingest: %s: %s\n", path, err);
            free(files);
            return 1;
        }
        anpr_segment_info info;
        anpr_segment_info_get(seg, &info);
        total += info.file_bytes;
        index += info.index_bytes;
        directory += info.directory_bytes;
        ncols = info.columns < 16 ? info.columns : 16;
        for (unsigned c = 0; c < ncols; c++) {
            anpr_column_info ci;
            if (anpr_segment_column(seg, c, &ci) == 0) {
                names[c] = ci.name;
                col_bytes[c] += ci.stored_bytes;
            }
        }
        anpr_segment_close(seg);
    }
    free(files);
    double r = reads ? (double)reads : 1.0;
    printf("files %zu\n", nfiles);
    printf("bytes_total %llu\n", (unsigned long long)total);
    printf("bytes_per_read %.3f\n", (double)total / r);
    for (unsigned c = 0; c < ncols; c++) printf("bytes_per_read.%s %.3f\n", names[c], (double)col_bytes[c] / r);
    printf("bytes_per_read.index %.3f\n", (double)index / r);
    printf("bytes_per_read.directory %.3f\n", (double)directory / r);
    return 0;
}

int main(int argc, char **argv)
{
    uint64_t reads = 60000000, commit_every = 100000;
    size_t budget_mb = 0;
    int level = 0, keep = 0, merge = 1;
    const char *dir = NULL;
    static const struct option opts[] = {
        {"reads", required_argument, 0, 'n'}, {"commit-every", required_argument, 0, 'c'},
        {"budget", required_argument, 0, 'b'}, {"level", required_argument, 0, 'l'},
        {"dir", required_argument, 0, 'd'},   {"keep", no_argument, 0, 'k'},
        {"no-merge", no_argument, 0, 'm'},    {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0},
    };
    int opt;
    while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (opt) {
        case 'n': reads = strtoull(optarg, NULL, 10); break;
        case 'c': commit_every = strtoull(optarg, NULL, 10); break;
        case 'b': budget_mb = strtoull(optarg, NULL, 10); break;
        case 'l': level = atoi(optarg); break;
        case 'd': dir = optarg; break;
        case 'k': keep = 1; break;
        case 'm': merge = 0; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (reads == 0 || commit_every == 0) {
        usage(stderr);
        return 2;
    }
    char tmpl[] = "/tmp/anpr-bench-XXXXXX";
    if (!dir) {
        dir = mkdtemp(tmpl);
        if (!dir) {
            perror("bench_ingest: mkdtemp");
            return 1;
        }
        rmdir(dir); /* the store creates it */
    }

    synth_config cfg;
    synth_config_default(&cfg, reads);
    synth *gen;
    if (synth_new(&gen, &cfg) != 0) {
        fprintf(stderr, "bench_ingest: cannot build the generator\n");
        return 1;
    }
    anpr_read *batch = malloc(BATCH * sizeof *batch);
    if (!batch) return 1;
    long long rss_base = rss_now();

    anpr_store_options o = ANPR_STORE_OPTIONS_INIT;
    o.flags = ANPR_OPEN_CREATE;
    o.memory_budget = budget_mb << 20;
    o.compression_level = level;
    anpr_store *s;
    int rc = anpr_store_open(&s, dir, &o);
    if (rc) return die(dir, rc, NULL);
    anpr_writer *w;
    rc = anpr_writer_open(&w, s);
    if (rc) return die("writer", rc, s);

    double t_api = 0, t_start = now();
    uint64_t total = 0, accepted = 0, since_commit = 0;
    size_t n;
    while ((n = synth_next(gen, batch, BATCH)) > 0) {
        double t = now();
        size_t ok = 0;
        rc = anpr_writer_append(w, batch, n, &ok, NULL);
        if (rc && rc != ANPR_EBADREAD) return die("append", rc, s);
        accepted += ok;
        total += n;
        since_commit += n;
        if (since_commit >= commit_every) {
            rc = anpr_writer_commit(w);
            if (rc) return die("commit", rc, s);
            since_commit = 0;
        }
        t_api += now() - t;
    }
    double t = now();
    rc = anpr_writer_commit(w);
    if (rc == 0) rc = anpr_writer_flush(w);
    if (rc) return die("flush", rc, s);
    double t_flush = now() - t;
    long long peak_ingest = rss_peak();
    t = now();
    rc = merge ? anpr_writer_merge(w, ANPR_ALL_DAYS) : ANPR_OK;
    if (rc) return die("merge", rc, s);
    double t_merge = now() - t;
    double t_all = now() - t_start;

    anpr_stats st;
    anpr_store_stats(s, &st);
    printf("reads_generated %llu\n", (unsigned long long)total);
    printf("reads_accepted %llu\n", (unsigned long long)accepted);
    printf("reads_stored %llu\n", (unsigned long long)st.reads);
    printf("days %llu\n", (unsigned long long)st.days);
    printf("commit_every %llu\n", (unsigned long long)commit_every);
    printf("ingest_seconds %.3f\n", t_api);
    printf("ingest_reads_per_second %.0f\n", (double)total / t_api);
    printf("final_flush_seconds %.3f\n", t_flush);
    printf("merge_seconds %.3f\n", t_merge);
    printf("wall_seconds %.3f\n", t_all);
    printf("rss_before_store_mb %.1f\n", (double)rss_base / 1048576.0);
    printf("rss_peak_ingest_mb %.1f\n", (double)peak_ingest / 1048576.0);
    printf("rss_peak_mb %.1f\n", (double)rss_peak() / 1048576.0);
    printf("library_peak_mb %.1f\n", (double)(rss_peak() - rss_base) / 1048576.0);
    int bad = report_bytes(s, dir, st.reads);

    anpr_writer_close(w);
    anpr_store_close(s);
    synth_free(gen);
    free(batch);
    if (!keep) {
        char cmd[4200];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
        if (system(cmd) != 0) fprintf(stderr, "bench_ingest: could not remove %s\n", dir);
    }
    return bad;
}
