/*
 * anpr-dump: inspect and verify a store or a single segment file.
 *
 *   anpr-dump [--verify] [--rows N] [--blocks] PATH
 *
 * PATH is a store directory (every file its manifest lists) or one .seg or
 * .part file. Exit 0 when all is well, 1 when --verify found damage (the
 * first bad chunk is named), 2 on a usage or open error.
 */
#define _GNU_SOURCE
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "anpr/anpr.h"
#include "anpr/segment.h"
#include "tool_common.h"

typedef struct dump_opts {
    int verify;
    int all_blocks;
    unsigned long rows;
} dump_opts;

static void print_row(const anpr_row *r)
{
    printf("%lld,%s,%u,%u,%u,%u,", (long long)r->ts_ms, r->plate, r->camera, r->lane, r->direction,
           r->confidence);
    if (r->lat_e7 != ANPR_POS_UNKNOWN) {
        tool_print_degrees(r->lat_e7);
        putchar(',');
        tool_print_degrees(r->lon_e7);
    } else {
        putchar(',');
    }
    putchar('\n');
}

/* Dump one file; returns 0, 1 for damage found by --verify, 2 if it cannot be opened. */
static int dump_file(const char *path, const dump_opts *o, uint64_t *total_rows, uint64_t *total_bytes)
{
    char err[512] = "";
    anpr_segment *g;
    int rc = anpr_segment_open(&g, path, err, sizeof err);
    if (rc != ANPR_OK) {
        fprintf(stderr, "anpr-dump: %s\n", err[0] ? err : anpr_strerror(rc));
        return rc == ANPR_ECORRUPT || rc == ANPR_EVERSION ? 1 : 2;
    }
    anpr_segment_info in;
    anpr_segment_info_get(g, &in);
    char t0[40] = "-", t1[40] = "-", day[40];
    if (in.rows) {
        tool_format_time(t0, sizeof t0, in.min_ts_ms);
        tool_format_time(t1, sizeof t1, in.max_ts_ms);
    }
    tool_format_time(day, sizeof day, (int64_t)in.day * 86400000);
    day[10] = '\0';
    double per = in.rows ? 1.0 / (double)in.rows : 0;
    printf("file: %s\n", path);
    printf("  format version %u, day %s, %llu rows in %u blocks of up to %u rows\n", in.format_version, day,
           (unsigned long long)in.rows, in.blocks, in.block_rows);
    printf("  time %s .. %s\n", t0, t1);
    printf("  %llu bytes, %.2f bytes per read\n", (unsigned long long)in.file_bytes, (double)in.file_bytes * per);
    printf("\n  %-11s %-14s %12s %12s %12s %7s %10s\n", "column", "encoding", "raw", "encoded", "stored", "ratio",
           "bytes/read");
    for (unsigned c = 0; c < in.columns; c++) {
        anpr_column_info ci;
        anpr_segment_column(g, c, &ci);
        printf("  %-11s %-14s %12llu %12llu %12llu %6.1fx %10.3f\n", ci.name, ci.encoding,
               (unsigned long long)ci.raw_bytes, (unsigned long long)ci.encoded_bytes,
               (unsigned long long)ci.stored_bytes, ci.stored_bytes ? (double)ci.raw_bytes / (double)ci.stored_bytes : 0.0,
               (double)ci.stored_bytes * per);
    }
    printf("  %-11s %-14s %12s %12s %12llu %7s %10.3f\n", "index", "plate-hash", "", "",
           (unsigned long long)in.index_bytes, "", (double)in.index_bytes * per);
    printf("  %-11s %-14s %12s %12s %12llu %7s %10.3f\n", "directory", "", "", "",
           (unsigned long long)in.directory_bytes, "", (double)in.directory_bytes * per);
    /* Postings a bucket: about how many blocks a lookup reads only because they share its bucket. */
    printf("\n  index: %u buckets, %llu postings (%.2f a read, %.2f a bucket), %llu bytes\n",
           in.index_buckets, (unsigned long long)in.index_postings, (double)in.index_postings * per,
           in.index_buckets ? (double)in.index_postings / in.index_buckets : 0.0,
           (unsigned long long)in.index_bytes);
    uint32_t show = o->all_blocks ? in.blocks : (in.blocks < 4 ? in.blocks : 4);
    printf("\n  %-6s %10s %6s  %-24s %-24s %-21s %s\n", "block", "first_row", "rows", "min_ts", "max_ts",
           "cameras", "bytes");
    for (uint32_t b = 0; b < show; b++) {
        anpr_block_info bi;
        anpr_segment_block(g, b, &bi);
        tool_format_time(t0, sizeof t0, bi.min_ts_ms);
        tool_format_time(t1, sizeof t1, bi.max_ts_ms);
        char cams[32];
        snprintf(cams, sizeof cams, "%u..%u", bi.camera_min, bi.camera_max);
        printf("  %-6u %10llu %6u  %-24s %-24s %-21s %llu\n", b, (unsigned long long)bi.first_row, bi.rows, t0, t1,
               cams, (unsigned long long)bi.stored_bytes);
    }
    if (show < in.blocks) printf("  ... %u more blocks (--blocks lists all)\n", in.blocks - show);
    int status = 0;
    if (o->verify) {
        rc = anpr_segment_verify(g);
        if (rc == ANPR_OK) {
            printf("\n  verify: ok\n");
        } else {
            printf("\n  verify: FAILED: %s\n", anpr_segment_errmsg(g));
            fprintf(stderr, "anpr-dump: %s: %s\n", path, anpr_segment_errmsg(g));
            status = 1;
        }
    }
    if (o->rows && status == 0) {
        printf("\nts_ms,plate,camera,lane,direction,confidence,lat,lon\n");
        anpr_row *rows = malloc((in.block_rows ? in.block_rows : 1) * sizeof *rows);
        unsigned long left = o->rows;
        for (uint32_t b = 0; rows && b < in.blocks && left; b++) {
            size_t n;
            if ((rc = anpr_segment_rows(g, b, rows, &n)) != ANPR_OK) {
                fprintf(stderr, "anpr-dump: %s: %s\n", path, anpr_segment_errmsg(g));
                status = 1;
                break;
            }
            for (size_t i = 0; i < n && left; i++, left--) print_row(&rows[i]);
        }
        free(rows);
    }
    printf("\n");
    *total_rows += in.rows;
    *total_bytes += in.file_bytes;
    anpr_segment_close(g);
    return status;
}

static int dump_store(const char *dir, const dump_opts *o)
{
    anpr_store *s;
    int rc = tool_open_store(&s, "anpr-dump", dir, ANPR_OPEN_READONLY);
    if (rc != ANPR_OK) return 2;
    anpr_stats st;
    anpr_file_info *files;
    size_t n;
    rc = tool_list_store(s, "anpr-dump", dir, &st, &files, &n);
    if (rc != ANPR_OK) {
        anpr_store_close(s);
        return rc == ANPR_ECORRUPT ? 1 : 2;
    }
    printf("store: %s\n  %llu days, %llu segments, %llu parts, %llu reads, %llu bytes\n\n", dir,
           (unsigned long long)st.days, (unsigned long long)st.segments, (unsigned long long)st.parts,
           (unsigned long long)st.reads, (unsigned long long)st.bytes);
    int status = 0;
    uint64_t rows = 0, bytes = 0;
    for (size_t i = 0; i < n; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, files[i].name);
        int r = dump_file(path, o, &rows, &bytes);
        if (r > status) status = r;
    }
    printf("total: %llu reads, %llu bytes, %.2f bytes per read\n", (unsigned long long)rows,
           (unsigned long long)bytes, rows ? (double)bytes / (double)rows : 0.0);
    if (o->verify) printf("verify: %s\n", status == 0 ? "ok" : "FAILED");
    free(files);
    anpr_store_close(s);
    return status;
}

static const char usage_text[] =
    "usage: anpr-dump [--verify] [--rows N] [--blocks] PATH\n"
    "\n"
    "PATH is a store directory or a single segment (.seg) or part (.part) file.\n"
    "  --verify   check every checksum; exit 1 naming the first bad chunk\n"
    "  --rows N   print the first N reads of each file as CSV\n"
    "  --blocks   list every block (default: the first four)\n";

int main(int argc, char **argv)
{
    static const struct option opts[] = {{"verify", no_argument, NULL, 'v'}, {"rows", required_argument, NULL, 'r'},
                                         {"blocks", no_argument, NULL, 'b'}, {"help", no_argument, NULL, 'h'},
                                         {"version", no_argument, NULL, 'V'}, {NULL, 0, NULL, 0}};
    dump_opts o = {0, 0, 0};
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'v': o.verify = 1; break;
        case 'b': o.all_blocks = 1; break;
        case 'r': {
            char *end;
            o.rows = strtoul(optarg, &end, 10);
            if (*end || optarg[0] == '-' || end == optarg) {
                fprintf(stderr, "anpr-dump: --rows wants a count, not %s\n\n%s", optarg, usage_text);
                return 2;
            }
            break;
        }
        case 'h': fputs(usage_text, stdout); return 0;
        case 'V': printf("anpr-dump %s\n", anpr_version_string()); return 0;
        default: fprintf(stderr, "anpr-dump: unknown or incomplete option %s\n\n%s", argv[optind - 1], usage_text); return 2;
        }
    }
    if (optind != argc - 1) {
        fprintf(stderr, "anpr-dump: %s\n\n%s", optind == argc ? "missing PATH" : "one PATH only", usage_text);
        return 2;
    }
    const char *path = argv[optind];
    struct stat st;
    if (stat(path, &st) != 0) {
        fprintf(stderr, "anpr-dump: %s: no such file or directory\n", path);
        return 2;
    }
    if (S_ISDIR(st.st_mode)) return dump_store(path, &o);
    uint64_t rows = 0, bytes = 0;
    return dump_file(path, &o, &rows, &bytes);
}
