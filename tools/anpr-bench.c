/*
 * anpr-bench: the capacity planner's benchmark. Builds a store from the
 * synthetic national workload in process (deterministic for a seed),
 * measures ingest, bytes on disk, memory, merge, every query shape warm and
 * cold, and expiry, and projects the figures onto a deployment.
 *
 *   anpr-bench national|year|custom [options]   (anpr-bench --help)
 *
 * Prints a table (with a progress bar on stderr when it is a terminal) and,
 * with --json, the same figures as JSON; bench/perfdoc.mjs turns the JSON of
 * the national and year runs into docs/performance.md.
 *
 * Exit status: 0 success; 1 a phase failed (the message says which and
 * why); 2 usage.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "anpr/anpr.h"
#include "bench/phases.h"
#include "bench/report.h"

#define DAY_MS INT64_C(86400000)
#define NATIONAL_READS_PER_DAY 60000000.0

static const char usage_text[] =
    "usage: anpr-bench SCENARIO [options]\n"
    "\n"
    "scenarios:\n"
    "  national   one national day: 60,000,000 reads, then queries over that day\n"
    "  year       365 daily segments at --fraction of national volume (vehicles scaled with it,\n"
    "             so each keeps a realistic number of reads a year)\n"
    "  custom     --reads-per-day and --days, and any of the workload options below\n"
    "\n"
    "workload:\n"
    "  --seed S                 generator seed (1)\n"
    "  --fraction F             year: share of national volume (0.01)\n"
    "  --reads-per-day N        reads a day (national 60,000,000; year 60,000,000 x F)\n"
    "  --days D                 consecutive days ending yesterday (national 1, year 365)\n"
    "  --cameras N  --vehicles N  --misread-rate R  --late-rate R  --duplicate-rate R  --mobile-share R\n"
    "                           the mix (defaults scale with reads a day; rates are 0..1)\n"
    "  --csv FILE               also write the generated reads as CSV (bench/compare reads it)\n"
    "\n"
    "store:\n"
    "  --dir DIR                build the store in DIR and keep it (default: a temporary directory,\n"
    "                           removed at the end)\n"
    "  --reuse                  DIR already holds this scenario's store: measure without ingesting\n"
    "  --commit-every N         reads between commits (100,000)\n"
    "  --budget MB              the store's memory budget (the library's default, 512)\n"
    "  --level L                zstd level (the library's default)\n"
    "  --block-rows N           rows a segment block holds, 256..65536 (the library's default, 4096)\n"
    "  --index-density N        index buckets for every two reads, 1, 2, 4 or 8 (the library's default, 1)\n"
    "  --query-threads N        threads a query may use, 1..16 (the library's default: 1, or the env\n"
    "                           ANPR_QUERY_THREADS)\n"
    "  --map                    open the store with ANPR_OPEN_MAP: queries take blocks from mappings of\n"
    "                           the files (as does the env ANPR_MAP=1)\n"
    "\n"
    "measure:\n"
    "  --samples N              warm queries of each shape (200; national 30, where a partial plate\n"
    "                           or a network-wide minute reads the whole day; 0 for no queries)\n"
    "  --cold-samples N         cold queries of each shape (10; national 5; 0 for none)\n"
    "  --expire-days N          drop the N oldest days at the end and time it (1 in a temporary\n"
    "                           store; 0 with --dir, which would lose them)\n"
    "  --deploy-reads-per-day N the deployment to project onto (60,000,000)\n"
    "  --deploy-retention-days D                    (365)\n"
    "  --json FILE              the figures as JSON (- for standard output)\n"
    "  --no-progress            no progress bar\n";

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int usage_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("anpr-bench: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputs("\n(anpr-bench --help for the options)\n", stderr);
    va_end(ap);
    return 2;
}

/* A whole number >= min from an option's text, or -1 after printing why not. */
static int parse_u64(const char *opt, const char *text, uint64_t min, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(text, &end, 10);
    if (errno || end == text || *end || text[0] == '-' || v < min)
        return usage_error("--%s: '%s' is not a whole number of at least %llu", opt, text, (unsigned long long)min),
               -1;
    *out = v;
    return 0;
}

static int parse_rate(const char *opt, const char *text, double lo, double hi, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(text, &end);
    if (errno || end == text || *end || !(v >= lo && v <= hi))
        return usage_error("--%s: '%s' is not a number from %g to %g", opt, text, lo, hi), -1;
    *out = v;
    return 0;
}

static int remove_tree(const char *dir)
{
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "rm -rf -- '%s'", dir);
    return system(cmd);
}

int main(int argc, char **argv)
{
    enum {
        O_SEED = 256, O_FRACTION, O_RPD, O_DAYS, O_CAMERAS, O_VEHICLES, O_MISREAD, O_LATE, O_DUP, O_MOBILE,
        O_CSV, O_DIR, O_REUSE, O_COMMIT, O_BUDGET, O_LEVEL, O_BLOCK_ROWS, O_INDEX_DENSITY, O_QUERY_THREADS,
        O_MAP, O_SAMPLES, O_COLD,
        O_EXPIRE, O_DEPLOY_RPD, O_DEPLOY_DAYS, O_JSON, O_NO_PROGRESS, O_HELP, O_VERSION,
    };
    static const struct option opts[] = {
        {"seed", required_argument, 0, O_SEED},
        {"fraction", required_argument, 0, O_FRACTION},
        {"reads-per-day", required_argument, 0, O_RPD},
        {"days", required_argument, 0, O_DAYS},
        {"cameras", required_argument, 0, O_CAMERAS},
        {"vehicles", required_argument, 0, O_VEHICLES},
        {"misread-rate", required_argument, 0, O_MISREAD},
        {"late-rate", required_argument, 0, O_LATE},
        {"duplicate-rate", required_argument, 0, O_DUP},
        {"mobile-share", required_argument, 0, O_MOBILE},
        {"csv", required_argument, 0, O_CSV},
        {"dir", required_argument, 0, O_DIR},
        {"reuse", no_argument, 0, O_REUSE},
        {"commit-every", required_argument, 0, O_COMMIT},
        {"budget", required_argument, 0, O_BUDGET},
        {"level", required_argument, 0, O_LEVEL},
        {"block-rows", required_argument, 0, O_BLOCK_ROWS},
        {"index-density", required_argument, 0, O_INDEX_DENSITY},
        {"query-threads", required_argument, 0, O_QUERY_THREADS},
        {"map", no_argument, 0, O_MAP},
        {"samples", required_argument, 0, O_SAMPLES},
        {"cold-samples", required_argument, 0, O_COLD},
        {"expire-days", required_argument, 0, O_EXPIRE},
        {"deploy-reads-per-day", required_argument, 0, O_DEPLOY_RPD},
        {"deploy-retention-days", required_argument, 0, O_DEPLOY_DAYS},
        {"json", required_argument, 0, O_JSON},
        {"no-progress", no_argument, 0, O_NO_PROGRESS},
        {"help", no_argument, 0, O_HELP},
        {"version", no_argument, 0, O_VERSION},
        {0, 0, 0, 0},
    };
    uint64_t seed = 1, rpd = 0, days = 0, cameras = 0, vehicles = 0, commit_every = 100000, budget = 0, level = 0,
             block_rows = 0, index_density = 0, query_threads = 0;
    uint64_t samples = UINT64_MAX, cold_samples = UINT64_MAX, expire_days = UINT64_MAX, deploy_rpd = 60000000, deploy_days = 365;
    double fraction = 0.01, misread = -1, late = -1, dup = -1, mobile = -1;
    const char *csv_path = NULL, *dir = NULL, *json_path = NULL;
    int reuse = 0, progress = 1, map = 0, opt;
    /* The command as typed, for the report: getopt_long reorders argv. */
    char command[1024] = "anpr-bench";
    for (int i = 1, used = (int)strlen(command); i < argc && used < (int)sizeof command - 1; i++)
        used += snprintf(command + used, sizeof command - (size_t)used, " %s", argv[i]);
    while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        int bad = 0;
        const char *name = opt >= O_SEED && opt <= O_VERSION ? opts[opt - O_SEED].name : "";
        switch (opt) {
        case O_SEED: bad = parse_u64(name, optarg, 0, &seed); break;
        case O_FRACTION: bad = parse_rate(name, optarg, 1e-6, 10, &fraction); break;
        case O_RPD: bad = parse_u64(name, optarg, 1, &rpd); break;
        case O_DAYS: bad = parse_u64(name, optarg, 1, &days); break;
        case O_CAMERAS: bad = parse_u64(name, optarg, 1, &cameras); break;
        case O_VEHICLES: bad = parse_u64(name, optarg, 1, &vehicles); break;
        case O_MISREAD: bad = parse_rate(name, optarg, 0, 1, &misread); break;
        case O_LATE: bad = parse_rate(name, optarg, 0, 1, &late); break;
        case O_DUP: bad = parse_rate(name, optarg, 0, 1, &dup); break;
        case O_MOBILE: bad = parse_rate(name, optarg, 0, 1, &mobile); break;
        case O_CSV: csv_path = optarg; break;
        case O_DIR: dir = optarg; break;
        case O_REUSE: reuse = 1; break;
        case O_COMMIT: bad = parse_u64(name, optarg, 1, &commit_every); break;
        case O_BUDGET: bad = parse_u64(name, optarg, 1, &budget); break;
        case O_LEVEL: bad = parse_u64(name, optarg, 1, &level); break;
        case O_BLOCK_ROWS:
            bad = parse_u64(name, optarg, 256, &block_rows);
            if (!bad && block_rows > 65536) bad = usage_error("--block-rows: %s is over 65536", optarg);
            break;
        case O_INDEX_DENSITY:
            bad = parse_u64(name, optarg, 1, &index_density);
            if (!bad && (index_density > 8 || (index_density & (index_density - 1))))
                bad = usage_error("--index-density: %s is not 1, 2, 4 or 8", optarg);
            break;
        case O_QUERY_THREADS:
            bad = parse_u64(name, optarg, 1, &query_threads);
            if (!bad && query_threads > ANPR_QUERY_THREADS_MAX)
                bad = usage_error("--query-threads: %s is over %d", optarg, ANPR_QUERY_THREADS_MAX);
            break;
        case O_MAP: map = 1; break;
        case O_SAMPLES: bad = parse_u64(name, optarg, 0, &samples); break;
        case O_COLD: bad = parse_u64(name, optarg, 0, &cold_samples); break;
        case O_EXPIRE: bad = parse_u64(name, optarg, 0, &expire_days); break;
        case O_DEPLOY_RPD: bad = parse_u64(name, optarg, 1, &deploy_rpd); break;
        case O_DEPLOY_DAYS: bad = parse_u64(name, optarg, 1, &deploy_days); break;
        case O_JSON: json_path = optarg; break;
        case O_NO_PROGRESS: progress = 0; break;
        case O_HELP: fputs(usage_text, stdout); return 0;
        case O_VERSION: printf("anpr-bench (libanpr %s)\n", anpr_version_string()); return 0;
        default: return usage_error("unknown option");
        }
        if (bad) return 2;
    }
    if (optind != argc - 1) return usage_error(optind >= argc ? "which scenario? national, year or custom" :
                                                                "one scenario only");
    const char *scenario = argv[optind];
    int national = strcmp(scenario, "national") == 0;
    if (samples == UINT64_MAX) samples = national ? 30 : 200;
    if (cold_samples == UINT64_MAX) cold_samples = national ? 5 : 10;
    if (national) {
        if (!rpd) rpd = (uint64_t)NATIONAL_READS_PER_DAY;
        if (!days) days = 1;
    } else if (strcmp(scenario, "year") == 0) {
        if (!rpd) rpd = (uint64_t)(NATIONAL_READS_PER_DAY * fraction + 0.5);
        if (!days) days = 365;
    } else if (strcmp(scenario, "custom") == 0) {
        if (!rpd || !days) return usage_error("custom needs --reads-per-day and --days");
    } else {
        return usage_error("unknown scenario '%s': national, year or custom", scenario);
    }
    if (reuse && !dir) return usage_error("--reuse needs --dir");
    if (reuse && csv_path) return usage_error("--csv needs a run that generates the reads (not --reuse)");
    if (expire_days == UINT64_MAX) expire_days = dir ? 0 : 1;

    bench_report r;
    memset(&r, 0, sizeof r);
    r.scenario = scenario;
    snprintf(r.command, sizeof r.command, "%s", command);
    r.version = anpr_version_string();
    r.commit_every = commit_every;
    r.deploy.reads_per_day = (double)deploy_rpd;
    r.deploy.retention_days = (double)deploy_days;
    bench_machine_get(&r.machine);

    synth_config *w = &r.workload;
    synth_config_default(w, rpd);
    w->seed = seed;
    w->days = (uint32_t)days;
    /* End yesterday: reads stamped later than the wall clock allows are refused. */
    w->start_ms = ((int64_t)time(NULL) * 1000 / DAY_MS - (int64_t)days) * DAY_MS;
    if (cameras) w->cameras = (uint32_t)cameras;
    if (vehicles) w->vehicles = vehicles;
    if (misread >= 0) w->misread_rate = misread;
    if (late >= 0) w->late_rate = late;
    if (dup >= 0) w->duplicate_rate = dup;
    if (mobile >= 0) w->mobile_share = mobile;

    char tmpl[] = "/var/tmp/anpr-bench-XXXXXX";
    int temporary = !dir;
    if (temporary) {
        if (!mkdtemp(tmpl)) {
            fprintf(stderr, "anpr-bench: cannot make a directory under /var/tmp: %s\n", strerror(errno));
            return 1;
        }
        dir = tmpl;
        rmdir(dir); /* the store creates it */
    } else if (!reuse) {
        struct stat sb;
        if (stat(dir, &sb) == 0) return usage_error("%s exists: remove it, or measure it with --reuse", dir);
    }
    r.dir = dir;

    int bad = 0;
    if (!reuse) {
        bench_ingest_opts io = {.workload = *w, .commit_every = commit_every, .budget_mb = budget,
                                .compression_level = (int)level, .block_rows = (unsigned)block_rows,
                                .index_density = (unsigned)index_density, .progress = progress};
        FILE *csv = NULL;
        if (csv_path && !(csv = io.csv = fopen(csv_path, "w"))) {
            fprintf(stderr, "anpr-bench: %s: %s\n", csv_path, strerror(errno));
            bad = 1;
        }
        if (!bad) bad = bench_ingest_run(dir, &io, &r.ingest);
        if (csv && fclose(csv) != 0 && !bad) {
            fprintf(stderr, "anpr-bench: %s: %s\n", csv_path, strerror(errno));
            bad = 1;
        }
        r.has_ingest = !bad;
    }

    anpr_store *s = NULL;
    if (!bad) {
        anpr_store_options so = ANPR_STORE_OPTIONS_INIT;
        so.query_threads = (unsigned)query_threads;
        if (map) so.flags |= ANPR_OPEN_MAP;
        int rc = anpr_store_open(&s, dir, &so);
        if (rc) bad = bench_fail(dir, rc, NULL);
    }
    if (!bad) bad = bench_bytes_measure(s, dir, &r.bytes);
    if (!bad && samples) {
        /* The threads the store took: the option, else the env (which open checked), else 1. */
        const char *env = getenv("ANPR_QUERY_THREADS");
        unsigned threads = query_threads ? (unsigned)query_threads : env && *env ? (unsigned)atoi(env) : 1;
        bench_query_opts qo = {.workload = *w, .samples = samples, .cold_samples = cold_samples, .seed = seed,
                               .progress = progress, .query_threads = threads};
        bad = bench_query_run(s, dir, &qo, &r.queries);
        r.has_queries = !bad;
    }
    if (!bad && expire_days) {
        bad = bench_expire_run(s, expire_days, &r.expire);
        r.has_expire = !bad;
    }
    anpr_store_close(s);

    if (!bad) {
        bench_project(&r);
        bench_print_table(stdout, &r);
        if (json_path) {
            FILE *f = strcmp(json_path, "-") == 0 ? stdout : fopen(json_path, "w");
            if (!f) {
                fprintf(stderr, "anpr-bench: %s: %s\n", json_path, strerror(errno));
                bad = 1;
            } else {
                bench_write_json(f, &r);
                if ((f == stdout ? fflush(f) : fclose(f)) != 0) {
                    fprintf(stderr, "anpr-bench: %s: %s\n", json_path, strerror(errno));
                    bad = 1;
                }
            }
        }
    }
    if (temporary && remove_tree(dir) != 0) fprintf(stderr, "anpr-bench: could not remove %s\n", dir);
    return bad;
}
