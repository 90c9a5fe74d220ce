/*
 * anpr: the command-line face of libanpr.
 *
 *   anpr ingest STORE [FILE|-]      CSV reads into the store
 *   anpr stats  STORE               what the store holds
 *   anpr query  STORE [conditions]  matching reads, in time order
 *   anpr expire STORE --before T | --keep-days N   drop whole days
 *   anpr gen    [options]           synthetic national traffic as CSV
 *
 * Exit status: 0 success; 1 some input lines were refused (the rest were
 * stored); 2 usage, input or store errors.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "anpr/anpr.h"
#include "csv.h"
#include "tool_common.h"
#include "synth.h"

#define BATCH 65536
#define COMMIT_EVERY 100000

static const char usage_text[] =
    "usage: anpr COMMAND [ARGS]\n"
    "\n"
    "commands:\n"
    "  ingest STORE [FILE|-] [--no-merge]   add CSV reads to STORE (created if missing)\n"
    "  stats  STORE                         days, files, reads, bytes of STORE\n"
    "  query  STORE [--plate P [--fuzzy]] [--camera ID[,ID...]] [--area LAT1,LON1,LAT2,LON2]\n"
    "               [--from T] [--to T] [--limit N] [--format csv|json]\n"
    "                                       reads matching every condition, in time order\n"
    "  expire STORE --before T | --keep-days N\n"
    "                                       drop whole days\n"
    "  gen    [--reads-per-day N] [--days D] [--seed S] [--start YYYY-MM-DD] [-o FILE]\n"
    "                                       synthetic national traffic as CSV\n"
    "\n"
    "  anpr COMMAND --help   details of one command\n"
    "  anpr --version        the library version\n";

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int usage_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "anpr: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n\n%s", usage_text);
    va_end(ap);
    return 2;
}

/* A UTC day alone (YYYY-MM-DD) as its first ms: -1 for anything else. */
static int arg_day(const char *s, int64_t *ms)
{
    char iso[40];
    if (strlen(s) != 10) return -1;
    snprintf(iso, sizeof iso, "%sT00:00:00Z", s);
    return csv_parse_time(iso, ms);
}

/*
 * A time given on the command line: what a CSV's ts column takes (ms since
 * the epoch, ISO-8601 UTC), or a day alone, as gen --start takes it.
 */
static int arg_time(const char *s, int64_t *ms)
{
    return strlen(s) == 10 ? arg_day(s, ms) : csv_parse_time(s, ms);
}

#define TIME_FORMS "ms since the epoch, YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS[.mmm]Z"

/* ---- ingest ---------------------------------------------------------------- */

typedef struct pending_batch {
    anpr_read reads[BATCH];
    char plates[BATCH][CSV_PLATE_MAX];
    unsigned long lines[BATCH];
    int verdicts[BATCH];
    size_t n;
} pending_batch;

static int flush_batch(anpr_store *s, anpr_writer *w, pending_batch *b, unsigned long *accepted,
                       unsigned long *rejected)
{
    if (b->n == 0) return 0;
    size_t ok;
    int rc = anpr_writer_append(w, b->reads, b->n, &ok, b->verdicts);
    if (rc != ANPR_OK && rc != ANPR_EBADREAD) {
        fprintf(stderr, "anpr: ingest: %s\n", anpr_errmsg(s)[0] ? anpr_errmsg(s) : anpr_strerror(rc));
        return -1;
    }
    for (size_t i = 0; i < b->n; i++)
        if (b->verdicts[i] != ANPR_READ_OK)
            fprintf(stderr, "line %lu: %s\n", b->lines[i], anpr_verdict_str(b->verdicts[i]));
    *accepted += ok;
    *rejected += b->n - ok;
    b->n = 0;
    return 0;
}

static int cmd_ingest(int argc, char **argv)
{
    int merge = 1;
    const char *store_path = NULL, *file = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            printf("usage: anpr ingest STORE [FILE|-] [--no-merge]\n\n"
                   "Read CSV with a header row (ts_ms or ts, plate, camera, lane, direction, confidence,\n"
                   "lat, lon; lat/lon may be empty) from FILE or standard input, append every valid read to\n"
                   "STORE, commit every %d reads and at the end, then flush and merge each day into its\n"
                   "daily segment (--no-merge leaves the parts). Each refused line goes to standard error\n"
                   "with its number and reason. Exit 0 if every line was accepted, 1 if some were refused,\n"
                   "2 on an error.\n", COMMIT_EVERY);
            return 0;
        }
        if (strcmp(argv[i], "--no-merge") == 0) merge = 0;
        else if (argv[i][0] == '-' && argv[i][1] != '\0') return usage_error("ingest: unknown option %s", argv[i]);
        else if (!store_path) store_path = argv[i];
        else if (!file) file = argv[i];
        else return usage_error("ingest: unexpected argument %s", argv[i]);
    }
    if (!store_path) return usage_error("ingest: %s", "missing STORE");
    FILE *in = stdin;
    if (file && strcmp(file, "-") != 0 && !(in = fopen(file, "r"))) {
        fprintf(stderr, "anpr: ingest: %s: %s\n", file, strerror(errno));
        return 2;
    }
    anpr_store *s;
    int rc = tool_open_store(&s, "anpr: ingest", store_path, ANPR_OPEN_CREATE);
    if (rc != ANPR_OK) {
        if (in != stdin) fclose(in);
        return 2;
    }
    anpr_writer *w;
    rc = anpr_writer_open(&w, s);
    if (rc != ANPR_OK) {
        fprintf(stderr, "anpr: ingest: %s\n", anpr_errmsg(s));
        anpr_store_close(s);
        if (in != stdin) fclose(in);
        return 2;
    }
    csv_reader *csv;
    char err[512] = "";
    if (csv_open(&csv, in, err, sizeof err) < 0) {
        fprintf(stderr, "anpr: ingest: %s: %s\n", file ? file : "stdin", err);
        anpr_writer_close(w);
        anpr_store_close(s);
        if (in != stdin) fclose(in);
        return 2;
    }
    pending_batch *b = calloc(1, sizeof *b);
    unsigned long accepted = 0, rejected = 0, since_commit = 0;
    int status = b ? 0 : 2;
    while (status == 0) {
        int got = csv_next(csv, &b->reads[b->n], b->plates[b->n], err, sizeof err);
        if (got == 0) break;
        if (got < 0) {
            fprintf(stderr, "%s\n", err);
            rejected++;
            continue;
        }
        b->lines[b->n++] = csv_line(csv);
        if (b->n == BATCH) {
            if (flush_batch(s, w, b, &accepted, &rejected) < 0) status = 2;
            since_commit += BATCH;
        }
        if (status == 0 && since_commit >= COMMIT_EVERY) {
            since_commit = 0;
            if ((rc = anpr_writer_commit(w)) != ANPR_OK) {
                fprintf(stderr, "anpr: ingest: commit: %s\n", anpr_errmsg(s));
                status = 2;
            }
        }
    }
    if (status == 0 && flush_batch(s, w, b, &accepted, &rejected) < 0) status = 2;
    if (status == 0 && (rc = anpr_writer_commit(w)) != ANPR_OK) {
        fprintf(stderr, "anpr: ingest: commit: %s\n", anpr_errmsg(s));
        status = 2;
    }
    if (status == 0) {
        rc = merge ? anpr_writer_merge(w, ANPR_ALL_DAYS) : anpr_writer_flush(w);
        if (rc != ANPR_OK) {
            fprintf(stderr, "anpr: ingest: %s: %s\n", merge ? "merge" : "flush", anpr_errmsg(s));
            status = 2;
        }
    }
    printf("accepted %lu, rejected %lu\n", accepted, rejected);
    free(b);
    csv_close(csv);
    if (anpr_writer_close(w) != ANPR_OK && status == 0) status = 2;
    anpr_store_close(s);
    if (in != stdin) fclose(in);
    return status ? status : rejected ? 1 : 0;
}

/* ---- stats ----------------------------------------------------------------- */

static int cmd_stats(int argc, char **argv)
{
    if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        printf("usage: anpr stats STORE\n\nPrint the days, segments, parts, reads, bytes and bytes per read\n"
               "of STORE, its oldest and newest read, and one line per file.\n");
        return 0;
    }
    if (argc != 2) return usage_error("stats: %s", argc < 2 ? "missing STORE" : "too many arguments");
    anpr_store *s;
    if (tool_open_store(&s, "anpr: stats", argv[1], ANPR_OPEN_READONLY) != ANPR_OK) return 2;
    anpr_stats st;
    anpr_file_info *files;
    size_t nfiles;
    if (tool_list_store(s, "anpr: stats", argv[1], &st, &files, &nfiles) != ANPR_OK) {
        anpr_store_close(s);
        return 2;
    }
    char oldest[40] = "-", newest[40] = "-";
    if (st.reads) {
        tool_format_time(oldest, sizeof oldest, st.oldest_ms);
        tool_format_time(newest, sizeof newest, st.newest_ms);
    }
    printf("store: %s\n", argv[1]);
    printf("days: %llu\n", (unsigned long long)st.days);
    printf("segments: %llu\n", (unsigned long long)st.segments);
    printf("parts: %llu\n", (unsigned long long)st.parts);
    printf("reads: %llu\n", (unsigned long long)st.reads);
    printf("bytes: %llu\n", (unsigned long long)st.bytes);
    printf("bytes_per_read: %.2f\n", st.reads ? (double)st.bytes / (double)st.reads : 0.0);
    printf("oldest: %s\n", oldest);
    printf("newest: %s\n", newest);
    printf("io_mode: %s\n", anpr_store_io_mode(s) == ANPR_IO_URING ? "io_uring" : "pread");
    if (nfiles) printf("\n%-10s  %-22s  %-7s  %12s  %12s  %9s\n", "day", "file", "kind", "reads", "bytes", "bytes/read");
    for (size_t i = 0; i < nfiles; i++) {
        char day[40];
        tool_format_time(day, sizeof day, (int64_t)files[i].day * 86400000);
        day[10] = '\0';
        printf("%-10s  %-22s  %-7s  %12llu  %12llu  %9.2f\n", day, files[i].name,
               files[i].is_part ? "part" : "segment", (unsigned long long)files[i].rows,
               (unsigned long long)files[i].bytes,
               files[i].rows ? (double)files[i].bytes / (double)files[i].rows : 0.0);
    }
    free(files);
    anpr_store_close(s);
    return 0;
}

/* A decimal count: digits only. */
static int parse_count(const char *s, uint64_t *v)
{
    char *end;
    errno = 0;
    unsigned long long x = strtoull(s, &end, 10);
    if (errno || end == s || *end || s[0] == '-') return -1;
    *v = x;
    return 0;
}

/* ---- query ----------------------------------------------------------------- */

#define MAX_CAMERAS 4096

static const char query_usage[] =
    "usage: anpr query STORE [--plate P [--fuzzy]] [--camera ID[,ID...]] [--area LAT1,LON1,LAT2,LON2]\n"
    "                  [--from T] [--to T] [--limit N] [--format csv|json]\n"
    "\n"
    "Print the reads of STORE that match every condition given, in time order.\n"
    "  --plate P     reads of plate P; with --fuzzy, of any plate that folds to P folded\n"
    "                (O/D/Q=0, I=1, Z=2, S=5, B=8, G=6); '?' (one character) and '*' (any run)\n"
    "                make P a partial plate\n"
    "  --camera IDS  reads of these cameras (comma-separated ids)\n"
    "  --area BOX    reads with a position in the box: south-west corner, then north-east,\n"
    "                decimal degrees, bounds included\n"
    "  --from T      reads at or after T; --to T: before T. T is ms since the epoch,\n"
    "                ISO-8601 UTC (2026-11-02T08:00:00Z) or a UTC day (2026-11-02, its start)\n"
    "  --limit N     at most N reads\n"
    "  --format F    csv (default: header ts_ms,plate,camera,lane,direction,confidence,lat,lon;\n"
    "                lat/lon with 7 decimals) or json (an array of objects)\n";

static int parse_cameras(char *list, uint32_t *out, size_t *n)
{
    *n = 0;
    for (char *tok = strtok(list, ","); tok; tok = strtok(NULL, ",")) {
        uint64_t v;
        if (parse_count(tok, &v) < 0 || v > UINT32_MAX || *n == MAX_CAMERAS) return -1;
        out[(*n)++] = (uint32_t)v;
    }
    return *n ? 0 : -1;
}

static int parse_area(char *box, anpr_query *q)
{
    int32_t v[4];
    int k = 0;
    for (char *tok = strtok(box, ","); tok; tok = strtok(NULL, ",")) {
        if (k == 4 || csv_parse_degrees(tok, &v[k]) < 0) return -1;
        k++;
    }
    if (k != 4) return -1;
    q->area = 1;
    q->lat_min_e7 = v[0];
    q->lon_min_e7 = v[1];
    q->lat_max_e7 = v[2];
    q->lon_max_e7 = v[3];
    return 0;
}

static void print_position(int32_t lat, int32_t lon, int json)
{
    if (lat == ANPR_POS_UNKNOWN) {
        fputs(json ? "null,\"lon\":null" : ",", stdout);
        return;
    }
    tool_print_degrees(lat);
    fputs(json ? ",\"lon\":" : ",", stdout);
    tool_print_degrees(lon);
}

static int cmd_query(int argc, char **argv)
{
    anpr_query q = ANPR_QUERY_INIT;
    static uint32_t cameras[MAX_CAMERAS];
    int json = 0;
    static const struct option opts[] = {
        {"plate", required_argument, 0, 'p'}, {"fuzzy", no_argument, 0, 'z'},
        {"camera", required_argument, 0, 'c'}, {"area", required_argument, 0, 'a'},
        {"from", required_argument, 0, 'f'},  {"to", required_argument, 0, 't'},
        {"limit", required_argument, 0, 'l'}, {"format", required_argument, 0, 'o'},
        {"help", no_argument, 0, 'h'},        {0, 0, 0, 0},
    };
    optind = 1;
    int opt;
    while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (opt) {
        case 'p': q.plate = optarg; break;
        case 'z': q.fuzzy = 1; break;
        case 'c':
            if (parse_cameras(optarg, cameras, &q.ncameras) < 0) return usage_error("query: bad --camera list");
            q.cameras = cameras;
            break;
        case 'a':
            if (parse_area(optarg, &q) < 0) return usage_error("query: --area wants LAT1,LON1,LAT2,LON2");
            break;
        case 'f':
            if (arg_time(optarg, &q.from_ms) < 0)
                return usage_error("query: bad --from time %s (" TIME_FORMS ")", optarg);
            break;
        case 't':
            if (arg_time(optarg, &q.to_ms) < 0) return usage_error("query: bad --to time %s (" TIME_FORMS ")", optarg);
            break;
        case 'l':
            if (parse_count(optarg, &q.limit) < 0 || q.limit == 0) return usage_error("query: bad --limit %s", optarg);
            break;
        case 'o':
            if (strcmp(optarg, "json") == 0) json = 1;
            else if (strcmp(optarg, "csv") != 0) return usage_error("query: --format is csv or json, not %s", optarg);
            break;
        case 'h': fputs(query_usage, stdout); return 0;
        default: return usage_error("query: unknown or incomplete option %s", argv[optind - 1]);
        }
    }
    if (q.fuzzy && !q.plate) return usage_error("query: --fuzzy needs --plate");
    if (optind != argc - 1) return usage_error("query: %s", optind >= argc ? "missing STORE" : "too many arguments");
    const char *path = argv[optind];
    anpr_store *s;
    if (tool_open_store(&s, "anpr: query", path, ANPR_OPEN_READONLY) != ANPR_OK) return 2;
    anpr_cursor *c;
    int rc = anpr_query_open(&c, s, &q);
    if (rc != ANPR_OK) {
        fprintf(stderr, "anpr: query: %s\n", anpr_errmsg(s));
        anpr_store_close(s);
        return 2;
    }
    fputs(json ? "[" : "ts_ms,plate,camera,lane,direction,confidence,lat,lon\n", stdout);
    anpr_batch b;
    uint64_t printed = 0;
    while ((rc = anpr_cursor_next(c, &b)) == 1) {
        for (size_t i = 0; i < b.n; i++, printed++) {
            if (json)
                printf("%s\n{\"ts_ms\":%lld,\"plate\":\"%s\",\"camera\":%u,\"lane\":%u,\"direction\":%u,"
                       "\"confidence\":%u,\"lat\":",
                       printed ? "," : "", (long long)b.ts_ms[i], b.plate[i], b.camera[i], b.lane[i], b.direction[i],
                       b.confidence[i]);
            else
                printf("%lld,%s,%u,%u,%u,%u,", (long long)b.ts_ms[i], b.plate[i], b.camera[i], b.lane[i],
                       b.direction[i], b.confidence[i]);
            print_position(b.lat_e7[i], b.lon_e7[i], json);
            fputs(json ? "}" : "\n", stdout);
        }
    }
    if (json) fputs(printed ? "\n]\n" : "]\n", stdout);
    int status = 0;
    if (rc < 0) {
        fprintf(stderr, "anpr: query: %s\n", anpr_cursor_errmsg(c));
        status = 2;
    }
    anpr_cursor_close(c);
    anpr_store_close(s);
    if (fflush(stdout) != 0) {
        fprintf(stderr, "anpr: query: write: %s\n", strerror(errno));
        status = 2;
    }
    return status;
}

/* ---- expire ---------------------------------------------------------------- */

static int cmd_expire(int argc, char **argv)
{
    static const char usage[] =
        "usage: anpr expire STORE --before T | --keep-days N\n\n"
        "Drop whole UTC days from STORE: with --before, every day that ends at or before T (ms since\n"
        "the epoch, ISO-8601 UTC, or a UTC day for its start); with --keep-days, every day but the\n"
        "newest N, counted back from the earlier of now and the newest read stored (a read stamped in\n"
        "the future moves nothing).\n"
        "Reads for dropped days are refused afterwards.\n";
    const char *before = NULL, *keep = NULL, *path = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            fputs(usage, stdout);
            return 0;
        }
        if (strcmp(argv[i], "--before") == 0 && i + 1 < argc) before = argv[++i];
        else if (strcmp(argv[i], "--keep-days") == 0 && i + 1 < argc) keep = argv[++i];
        else if (argv[i][0] == '-') return usage_error("expire: unknown or incomplete option %s", argv[i]);
        else if (!path) path = argv[i];
        else return usage_error("expire: unexpected argument %s", argv[i]);
    }
    if (!path) return usage_error("expire: %s", "missing STORE");
    if (!before == !keep) return usage_error("expire: %s", "give exactly one of --before T and --keep-days N");
    int64_t before_ms = 0;
    uint64_t days = 0;
    if (before && arg_time(before, &before_ms) < 0)
        return usage_error("expire: bad --before time %s (" TIME_FORMS ")", before);
    if (keep && (parse_count(keep, &days) < 0 || days == 0 || days > 100000))
        return usage_error("expire: bad --keep-days %s", keep);
    anpr_store *s;
    if (tool_open_store(&s, "anpr: expire", path, 0) != ANPR_OK) return 2;
    anpr_stats st;
    int rc = anpr_store_stats(s, &st);
    anpr_writer *w = NULL;
    if (rc == ANPR_OK) rc = anpr_writer_open(&w, s);
    if (rc == ANPR_OK && keep) {
        /* Count back from the earlier of now and the newest read. */
        int64_t now = (int64_t)time(NULL) * 1000, ref = st.reads && st.newest_ms < now ? st.newest_ms : now;
        before_ms = (ref / 86400000 - (int64_t)days + 1) * 86400000;
    }
    uint64_t days_before = st.days;
    if (rc == ANPR_OK) rc = anpr_writer_expire(w, before_ms);
    if (rc == ANPR_OK) rc = anpr_store_stats(s, &st);
    if (rc != ANPR_OK) {
        fprintf(stderr, "anpr: expire: %s\n", anpr_errmsg(s));
        anpr_writer_close(w);
        anpr_store_close(s);
        return 2;
    }
    char t[40];
    tool_format_time(t, sizeof t, before_ms);
    printf("dropped %llu days ending at or before %s; %llu days, %llu reads left\n",
           (unsigned long long)(days_before - st.days), t, (unsigned long long)st.days,
           (unsigned long long)st.reads);
    rc = anpr_writer_close(w);
    anpr_store_close(s);
    return rc == ANPR_OK ? 0 : 2;
}

/* ---- gen ------------------------------------------------------------------- */


static int cmd_gen(int argc, char **argv)
{
    static const struct option opts[] = {
        {"reads-per-day", required_argument, NULL, 'r'}, {"days", required_argument, NULL, 'd'},
        {"seed", required_argument, NULL, 's'},          {"start", required_argument, NULL, 't'},
        {"output", required_argument, NULL, 'o'},        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    uint64_t per_day = 600000, days = 1, seed = 1;
    const char *start = NULL, *output = NULL;
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "ho:", opts, NULL)) != -1) {
        switch (c) {
        case 'r': if (parse_count(optarg, &per_day) < 0 || per_day == 0) return usage_error("gen: bad --reads-per-day %s", optarg); break;
        case 'd': if (parse_count(optarg, &days) < 0 || days == 0 || days > 100000) return usage_error("gen: bad --days %s", optarg); break;
        case 's': if (parse_count(optarg, &seed) < 0) return usage_error("gen: bad --seed %s", optarg); break;
        case 't': start = optarg; break;
        case 'o': output = optarg; break;
        case 'h':
            printf("usage: anpr gen [--reads-per-day N] [--days D] [--seed S] [--start YYYY-MM-DD] [-o FILE]\n\n"
                   "Write synthetic national ANPR traffic as CSV (ts_ms,plate,camera,lane,direction,\n"
                   "confidence,lat,lon): UK plate formats, skewed cameras and vehicles, a diurnal curve,\n"
                   "misreads, late reads and resent duplicates. Cameras and vehicles scale with N from\n"
                   "the national figures (60 M reads, 11,000 cameras, 41.2 M vehicles a day).\n"
                   "Defaults: N = 600000 (1/100 national), D = 1, S = 1, start 2026-11-02.\n");
            return 0;
        default: return usage_error("gen: unknown or incomplete option %s", argv[optind - 1]);
        }
    }
    if (optind < argc) return usage_error("gen: unexpected argument %s", argv[optind]);
    synth_config cfg;
    synth_config_default(&cfg, per_day);
    cfg.days = (uint32_t)days;
    cfg.seed = seed;
    if (start && arg_day(start, &cfg.start_ms) < 0) return usage_error("gen: --start wants YYYY-MM-DD, not %s", start);
    FILE *out = stdout;
    if (output && !(out = fopen(output, "w"))) {
        fprintf(stderr, "anpr: gen: %s: %s\n", output, strerror(errno));
        return 2;
    }
    synth *g;
    if (synth_new(&g, &cfg) < 0) {
        fprintf(stderr, "anpr: gen: cannot set up the generator\n");
        if (out != stdout) fclose(out);
        return 2;
    }
    enum { CHUNK = 8192 };
    anpr_read *r = malloc(CHUNK * sizeof *r);
    int rc = r ? synth_csv_header(out) : -ENOMEM;
    size_t n;
    while (rc == 0 && (n = synth_next(g, r, CHUNK)) > 0) rc = synth_csv_write(out, r, n);
    free(r);
    synth_free(g);
    if (fflush(out) != 0 || rc < 0) {
        fprintf(stderr, "anpr: gen: write failed: %s\n", strerror(errno));
        rc = -1;
    }
    if (out != stdout) fclose(out);
    return rc < 0 ? 2 : 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) return usage_error("%s", "missing COMMAND");
    const char *cmd = argv[1];
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
        fputs(usage_text, stdout);
        return 0;
    }
    if (strcmp(cmd, "--version") == 0) {
        printf("anpr %s\n", anpr_version_string());
        return 0;
    }
    if (strcmp(cmd, "ingest") == 0) return cmd_ingest(argc - 1, argv + 1);
    if (strcmp(cmd, "stats") == 0) return cmd_stats(argc - 1, argv + 1);
    if (strcmp(cmd, "gen") == 0) return cmd_gen(argc - 1, argv + 1);
    if (strcmp(cmd, "query") == 0) return cmd_query(argc - 1, argv + 1);
    if (strcmp(cmd, "expire") == 0) return cmd_expire(argc - 1, argv + 1);
    return usage_error("unknown command '%s'", cmd);
}
