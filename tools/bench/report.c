/* anpr-bench's table, JSON and projection (see report.h). */
#include "report.h"

#include <string.h>

#include "json.h"

#define DAY_S 86400.0

void bench_project(bench_report *r)
{
    bench_projection *p = &r->projection;
    memset(p, 0, sizeof *p);
    if (r->bytes.reads) p->bytes_per_read = (double)r->bytes.total / (double)r->bytes.reads;
    p->disk_bytes = p->bytes_per_read * r->deploy.reads_per_day * r->deploy.retention_days;
    if (r->has_ingest && r->ingest.stored && r->ingest.days) {
        /* Parts of one day, at the deployment's daily volume. */
        double parts_per_read = (double)r->ingest.parts_bytes / (double)r->ingest.stored;
        p->merge_space_bytes = parts_per_read * r->deploy.reads_per_day;
        double mean_rate = r->deploy.reads_per_day / DAY_S;
        p->ingest_headroom = r->ingest.reads_per_s / mean_rate;
        if (r->ingest.peak_hour_factor > 0)
            p->ingest_headroom_peak = p->ingest_headroom / r->ingest.peak_hour_factor;
    }
    /* A query on one thread: a core answers 1 / (mean latency) of them a second. With more, no such figure. */
    if (r->has_queries && r->queries.query_threads <= 1)
        for (int k = 0; k < BENCH_SHAPES; k++)
            if (r->queries.warm[k].samples && r->queries.warm[k].mean > 0)
                p->queries_per_s[k] = 1000.0 / r->queries.warm[k].mean;
}

static void line(FILE *f)
{
    fputs("----------------------------------------------------------------------------------\n", f);
}

static void print_latency_row(FILE *f, const char *title, const bench_latency *l)
{
    if (!l->samples) return;
    fprintf(f, "  %-34s %8.3f %8.3f %8.3f %8.3f %9.1f %6zu\n", title, l->p50, l->p95, l->p99, l->mean, l->mean_reads,
            l->samples);
}

void bench_print_table(FILE *f, const bench_report *r)
{
    const bench_machine *m = &r->machine;
    line(f);
    fprintf(f, "anpr-bench %s: libanpr %s\n", r->scenario, r->version);
    fprintf(f, "machine: %ld CPUs (%s), %.1f GiB, %s\n", m->cpus, m->cpu, m->memory_gib, m->kernel);
    fprintf(f, "workload: %llu reads a day for %u days, %u cameras, %llu vehicles, seed %llu\n",
            (unsigned long long)r->workload.reads_per_day, r->workload.days, r->workload.cameras,
            (unsigned long long)r->workload.vehicles, (unsigned long long)r->workload.seed);
    line(f);
    if (r->has_ingest) {
        const bench_ingest_result *g = &r->ingest;
        fprintf(f, "ingest (one core, commit every %llu reads)\n", (unsigned long long)r->commit_every);
        fprintf(f, "  reads generated / accepted / stored  %llu / %llu / %llu\n", (unsigned long long)g->generated,
                (unsigned long long)g->accepted, (unsigned long long)g->stored);
        fprintf(f, "  ingest rate                          %.2f M reads/s (%.1f s in the API, final flush included)\n",
                g->reads_per_s / 1e6, g->ingest_s);
        fprintf(f, "  final flush, merge                   %.2f s, %.2f s (%llu days)\n", g->flush_s, g->merge_s,
                (unsigned long long)g->days);
        fprintf(f, "  peak memory (RSS)                    %.0f MB ingest, %.0f MB whole run (%.0f MB before the store)\n",
                g->rss_peak_ingest_mb, g->rss_peak_mb, g->rss_base_mb);
        line(f);
    }
    const bench_bytes *b = &r->bytes;
    if (b->reads) {
        double n = (double)b->reads;
        fprintf(f, "bytes on disk: %llu reads in %llu files, %.3f bytes a read all in\n", (unsigned long long)b->reads,
                (unsigned long long)b->files, (double)b->total / n);
        fprintf(f, "  data %.3f, index %.3f, directory %.3f\n", (double)b->data / n, (double)b->index / n,
                (double)b->directory / n);
        fputs("  by column:", f);
        for (unsigned c = 0; c < b->columns; c++) fprintf(f, " %s %.3f", b->names[c], (double)b->column[c] / n);
        fputc('\n', f);
        line(f);
    }
    if (r->has_queries) {
        const bench_query_result *q = &r->queries;
        char head[64];
        snprintf(head, sizeof head, "queries (I/O: %s%s, %u thread%s), ms", q->io_mode, q->mapped ? ", mapped" : "",
                 q->query_threads, q->query_threads == 1 ? "" : "s");
        fprintf(f, "%-36s %8s %8s %8s %8s %9s %6s\n", head, "p50", "p95", "p99", "mean", "reads", "n");
        fputs(" warm\n", f);
        for (int k = 0; k < BENCH_SHAPES; k++) print_latency_row(f, bench_shape_titles[k], &q->warm[k]);
        if (q->cold_method) {
            fprintf(f, " cold (page cache emptied with %s before each query)\n", q->cold_method);
            for (int k = 0; k < BENCH_SHAPES; k++) print_latency_row(f, bench_shape_titles[k], &q->cold[k]);
        } else if (q->cold_note[0]) {
            fprintf(f, " cold: not measured: %s\n", q->cold_note);
        }
        line(f);
    }
    if (r->has_expire) {
        fprintf(f, "expiry: dropped the %llu oldest days, %.3f ms a day on average, %.3f ms at worst\n",
                (unsigned long long)r->expire.days, r->expire.mean_ms, r->expire.worst_ms);
        line(f);
    }
    const bench_projection *p = &r->projection;
    fprintf(f, "projection onto %.0f M reads a day kept %.0f days (from the figures above)\n",
            r->deploy.reads_per_day / 1e6, r->deploy.retention_days);
    fprintf(f, "  disk for the retention period        %.2f %s (%.3f bytes a read)\n",
            p->disk_bytes >= 1e12 ? p->disk_bytes / 1e12 : p->disk_bytes / 1e9, p->disk_bytes >= 1e12 ? "TB" : "GB",
            p->bytes_per_read);
    if (r->has_ingest) {
        fprintf(f, "  plus room for a day's merge          %.1f GB\n", p->merge_space_bytes / 1e9);
        fprintf(f, "  ingest headroom, one core            %.0fx the mean rate, %.0fx the busiest hour's\n",
                p->ingest_headroom, p->ingest_headroom_peak);
    }
    if (r->has_queries && r->queries.query_threads <= 1) {
        fputs("  queries a second, one core, warm:\n", f);
        for (int k = 0; k < BENCH_SHAPES; k++)
            if (p->queries_per_s[k] > 0) fprintf(f, "    %-34s %10.0f\n", bench_shape_titles[k], p->queries_per_s[k]);
    }
    line(f);
}

static void json_latency(bench_json *j, const char *key, const bench_latency *l)
{
    bench_json_begin(j, key);
    bench_json_uint(j, "samples", l->samples);
    bench_json_num(j, "p50_ms", l->p50);
    bench_json_num(j, "p95_ms", l->p95);
    bench_json_num(j, "p99_ms", l->p99);
    bench_json_num(j, "mean_ms", l->mean);
    bench_json_num(j, "max_ms", l->max);
    bench_json_num(j, "mean_reads", l->mean_reads);
    bench_json_end(j);
}

void bench_write_json(FILE *f, const bench_report *r)
{
    bench_json j;
    bench_json_init(&j, f);
    bench_json_begin(&j, NULL);
    bench_json_str(&j, "scenario", r->scenario);
    bench_json_str(&j, "command", r->command);
    bench_json_str(&j, "libanpr", r->version);
    bench_json_begin(&j, "machine");
    bench_json_str(&j, "cpu", r->machine.cpu);
    bench_json_uint(&j, "cpus", (uint64_t)r->machine.cpus);
    bench_json_num(&j, "memory_gib", r->machine.memory_gib);
    bench_json_str(&j, "kernel", r->machine.kernel);
    bench_json_end(&j);
    bench_json_begin(&j, "workload");
    bench_json_uint(&j, "seed", r->workload.seed);
    bench_json_uint(&j, "reads_per_day", r->workload.reads_per_day);
    bench_json_uint(&j, "days", r->workload.days);
    bench_json_uint(&j, "cameras", r->workload.cameras);
    bench_json_uint(&j, "vehicles", r->workload.vehicles);
    bench_json_num(&j, "misread_rate", r->workload.misread_rate);
    bench_json_num(&j, "late_rate", r->workload.late_rate);
    bench_json_num(&j, "duplicate_rate", r->workload.duplicate_rate);
    bench_json_num(&j, "mobile_share", r->workload.mobile_share);
    bench_json_end(&j);
    if (r->has_ingest) {
        const bench_ingest_result *g = &r->ingest;
        bench_json_begin(&j, "ingest");
        bench_json_uint(&j, "commit_every", r->commit_every);
        bench_json_uint(&j, "reads_generated", g->generated);
        bench_json_uint(&j, "reads_accepted", g->accepted);
        bench_json_uint(&j, "reads_stored", g->stored);
        bench_json_uint(&j, "days", g->days);
        bench_json_num(&j, "ingest_seconds", g->ingest_s);
        bench_json_num(&j, "reads_per_second", g->reads_per_s);
        bench_json_num(&j, "final_flush_seconds", g->flush_s);
        bench_json_num(&j, "merge_seconds", g->merge_s);
        bench_json_num(&j, "wall_seconds", g->wall_s);
        bench_json_num(&j, "rss_before_store_mb", g->rss_base_mb);
        bench_json_num(&j, "rss_peak_ingest_mb", g->rss_peak_ingest_mb);
        bench_json_num(&j, "rss_peak_mb", g->rss_peak_mb);
        bench_json_uint(&j, "parts_bytes", g->parts_bytes);
        bench_json_num(&j, "peak_hour_factor", g->peak_hour_factor);
        bench_json_end(&j);
    }
    const bench_bytes *b = &r->bytes;
    bench_json_begin(&j, "bytes");
    bench_json_uint(&j, "reads", b->reads);
    bench_json_uint(&j, "files", b->files);
    bench_json_uint(&j, "total", b->total);
    bench_json_uint(&j, "data", b->data);
    bench_json_uint(&j, "index", b->index);
    bench_json_uint(&j, "directory", b->directory);
    bench_json_begin(&j, "columns");
    for (unsigned c = 0; c < b->columns; c++) bench_json_uint(&j, b->names[c], b->column[c]);
    bench_json_end(&j);
    bench_json_end(&j);
    if (r->has_queries) {
        const bench_query_result *q = &r->queries;
        bench_json_begin(&j, "queries");
        bench_json_str(&j, "io", q->io_mode);
        bench_json_uint(&j, "query_threads", q->query_threads);
        bench_json_uint(&j, "mapped", (uint64_t)q->mapped);
        bench_json_str(&j, "cold_method", q->cold_method ? q->cold_method : "");
        bench_json_str(&j, "cold_note", q->cold_note);
        for (int k = 0; k < BENCH_SHAPES; k++) {
            bench_json_begin(&j, bench_shape_names[k]);
            bench_json_str(&j, "title", bench_shape_titles[k]);
            json_latency(&j, "warm", &q->warm[k]);
            if (q->cold_method) json_latency(&j, "cold", &q->cold[k]);
            bench_json_end(&j);
        }
        bench_json_end(&j);
    }
    if (r->has_expire) {
        bench_json_begin(&j, "expire");
        bench_json_uint(&j, "days", r->expire.days);
        bench_json_num(&j, "mean_ms", r->expire.mean_ms);
        bench_json_num(&j, "worst_ms", r->expire.worst_ms);
        bench_json_end(&j);
    }
    const bench_projection *p = &r->projection;
    bench_json_begin(&j, "projection");
    bench_json_num(&j, "reads_per_day", r->deploy.reads_per_day);
    bench_json_num(&j, "retention_days", r->deploy.retention_days);
    bench_json_num(&j, "bytes_per_read", p->bytes_per_read);
    bench_json_num(&j, "disk_bytes", p->disk_bytes);
    if (r->has_ingest) {
        bench_json_num(&j, "merge_space_bytes", p->merge_space_bytes);
        bench_json_num(&j, "ingest_headroom", p->ingest_headroom);
        bench_json_num(&j, "ingest_headroom_peak_hour", p->ingest_headroom_peak);
    }
    if (r->has_queries && r->queries.query_threads <= 1) {
        bench_json_begin(&j, "queries_per_second");
        for (int k = 0; k < BENCH_SHAPES; k++) bench_json_num(&j, bench_shape_names[k], p->queries_per_s[k]);
        bench_json_end(&j);
    }
    bench_json_end(&j);
    bench_json_end(&j);
}
