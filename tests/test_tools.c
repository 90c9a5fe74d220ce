/* The tools end to end: anpr gen | ingest | stats, anpr-dump --verify, anpr-bench, and their errors. */
#define _GNU_SOURCE
#include <check.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "testutil.h"

static char tools[4096];
static char *dir;

/* Run a shell command line; returns the exit status, stdout and stderr in files under dir. */
static int run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int run(const char *fmt, ...)
{
    char cmd[16384], line[8192];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    snprintf(cmd, sizeof cmd, "cd '%s' && %s >out.txt 2>err.txt", dir, line);
    int st = system(cmd);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static char *slurp(const char *name)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    size_t len;
    uint8_t *b = tu_read_file(path, &len);
    ck_assert_ptr_nonnull(b);
    char *s = realloc(b, len + 1);
    s[len] = '\0';
    return s;
}

/* The file `name` in the directory `data` (tests/data, or a folder of it): malloc'd, its length in *len. */
static char *read_data(const char *data, const char *name, size_t *len)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", data, name);
    char *b = (char *)tu_read_file(path, len);
    ck_assert_msg(b != NULL, "cannot read %s", path);
    return b;
}

/* The command's output file name (out.txt, err.txt) holds needle. */
static void assert_file_has(const char *name, const char *needle)
{
    char *text = slurp(name);
    ck_assert_msg(strstr(text, needle) != NULL, "%s lacks \"%s\": %s", name, needle, text);
    free(text);
}

static void setup(void)
{
    const char *t = getenv("ANPR_TOOLS_DIR");
    snprintf(tools, sizeof tools, "%s", t ? t : "../tools");
    dir = tu_tmpdir("tools");
}

static void teardown(void)
{
    tu_rmrf(dir);
    free(dir);
}

START_TEST(gen_ingest_stats_dump)
{
    ck_assert_int_eq(run("%s/anpr gen --reads-per-day 20000 --days 2 --seed 9 -o reads.csv", tools), 0);
    ck_assert_int_eq(run("%s/anpr ingest store reads.csv", tools), 0);
    char *out = slurp("out.txt");
    ck_assert_ptr_nonnull(strstr(out, "accepted "));
    ck_assert_ptr_nonnull(strstr(out, ", rejected 0"));
    free(out);
    ck_assert_int_eq(run("%s/anpr stats store", tools), 0);
    out = slurp("out.txt");
    ck_assert_ptr_nonnull(strstr(out, "days: 2\n"));
    ck_assert_ptr_nonnull(strstr(out, "segments: 2\n"));
    ck_assert_ptr_nonnull(strstr(out, "parts: 0\n"));
    ck_assert_ptr_nonnull(strstr(out, "reads: 40000\n")); /* resends stored once */
    ck_assert_ptr_nonnull(strstr(out, "bytes_per_read: "));
    ck_assert_ptr_nonnull(strstr(out, "oldest: 2026-11-02T"));
    ck_assert_ptr_nonnull(strstr(out, "newest: 2026-11-03T"));
    free(out);
    ck_assert_int_eq(run("%s/anpr-dump --verify --rows 2 store", tools), 0);
    out = slurp("out.txt");
    ck_assert_ptr_nonnull(strstr(out, "verify: ok"));
    ck_assert_ptr_nonnull(strstr(out, "ts_ms,plate,camera,lane,direction,confidence,lat,lon\n"));
    ck_assert_ptr_nonnull(strstr(out, "plate-part"));
    free(out);
    /* Ingesting the same file again stores nothing new: every read is a duplicate. */
    ck_assert_int_eq(run("cat reads.csv | %s/anpr ingest store -", tools), 0);
    ck_assert_int_eq(run("%s/anpr stats store", tools), 0);
    assert_file_has("out.txt", "reads: 40000\n");
}
END_TEST

START_TEST(bad_lines_reported_good_kept)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/bad.csv", dir);
    const char *csv = "ts_ms,plate,camera,lane,direction,confidence,lat,lon\n"
                      "1793577600000,AB12 CDE,1,1,0,90,51.5,-0.1\n"
                      "1793577600000,AB12*CDE,1,1,0,90,51.5,-0.1\n"
                      "1793577601000,CD34EFG,1,1,0,190,,\n"
                      "1793577602000,EF56GHJ,x,1,0,90,,\n"
                      "1793577603000,GH78JKL,2,1,0,101,,\n"
                      "1793577604000,JK90LMN,2,1,0,99,95.0,1.0\n"
                      "1793577605000,LM01NOP,3,1,0,50,,\n";
    ck_assert_int_eq(tu_write_file(path, csv, strlen(csv)), 0);
    ck_assert_int_eq(run("%s/anpr ingest store bad.csv", tools), 1);
    char *out = slurp("out.txt"), *err = slurp("err.txt");
    ck_assert_str_eq(out, "accepted 2, rejected 5\n");
    ck_assert_ptr_nonnull(strstr(err, "line 5: camera: \"x\" is not an integer"));
    ck_assert_ptr_nonnull(strstr(err, "line 3: plate: character other than A-Z or 0-9"));
    ck_assert_ptr_nonnull(strstr(err, "line 6: confidence: over 100"));
    ck_assert_ptr_nonnull(strstr(err, "line 7: lat: outside -90..90 degrees"));
    free(out);
    free(err);
    ck_assert_int_eq(run("%s/anpr-dump --rows 10 store", tools), 0);
    out = slurp("out.txt");
    ck_assert_ptr_nonnull(strstr(out, "1793577600000,AB12CDE,1,1,0,90,51.5000000,-0.1000000\n"));
    ck_assert_ptr_nonnull(strstr(out, "1793577605000,LM01NOP,3,1,0,50,,\n"));
    free(out);
}
END_TEST

START_TEST(verify_names_the_damage)
{
    ck_assert_int_eq(run("%s/anpr gen --reads-per-day 5000 -o r.csv && %s/anpr ingest store r.csv", tools, tools), 0);
    ck_assert_int_eq(run("ls store/*.seg"), 0);
    char *name = slurp("out.txt");
    name[strcspn(name, "\n")] = '\0';
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    /* A byte in the middle of the first block's data. */
    ck_assert_int_eq(tu_flip_byte(path, 100, 0x08), 0);
    ck_assert_int_eq(run("%s/anpr-dump --verify store", tools), 1);
    char *err = slurp("err.txt");
    ck_assert_ptr_nonnull(strstr(err, "checksum mismatch"));
    ck_assert_ptr_nonnull(strstr(err, name));
    free(err);
    ck_assert_int_eq(run("%s/anpr-dump --verify %s", tools, name), 1);
    free(name);
}
END_TEST

/* Lines of a CSV answer after its header, each checked for time order and (if plate) its plate. */
static size_t check_csv_answer(const char *out, const char *plate)
{
    ck_assert_msg(strncmp(out, "ts_ms,plate,camera,lane,direction,confidence,lat,lon\n", 52) == 0, "header: %.60s", out);
    size_t n = 0;
    long long last = -1;
    for (const char *p = strchr(out, '\n') + 1; *p; p = strchr(p, '\n') + 1, n++) {
        long long ts = atoll(p);
        ck_assert_msg(ts >= last, "line %zu out of time order", n + 2);
        last = ts;
        const char *pl = strchr(p, ',') + 1;
        if (plate) ck_assert_msg(strncmp(pl, plate, strlen(plate)) == 0 && pl[strlen(plate)] == ',', "line %zu: %.40s", n + 2, p);
    }
    return n;
}

/* A segment written in format 2 (tests/data/README.md) still verifies and prints the rows it printed then. */
START_TEST(dump_reads_format_2)
{
    const char *data = getenv("ANPR_TEST_DATA");
    ck_assert_msg(data != NULL, "ANPR_TEST_DATA is not set (meson test sets it)");
    ck_assert_int_eq(run("%s/anpr-dump --verify --rows 1000 '%s/format2.seg'", tools, data), 0);
    char *out = slurp("out.txt");
    ck_assert_ptr_nonnull(strstr(out, "format version 2,"));
    ck_assert_ptr_nonnull(strstr(out, "verify: ok"));
    size_t len;
    char *want = read_data(data, "format2-rows.csv", &len);
    const char *rows = strstr(out, "ts_ms,plate,");
    ck_assert_ptr_nonnull(rows);
    /* The rows, up to the blank line the dump ends them with. */
    size_t n = strlen(rows);
    while (n > 0 && rows[n - 1] == '\n') n--;
    while (len > 0 && want[len - 1] == '\n') len--;
    ck_assert_uint_eq(n, len);
    ck_assert(memcmp(rows, want, len) == 0);
    free(want);
    free(out);
}
END_TEST

/* The file `name` in the directory `data` is what the last command printed. */
static void assert_out_is(const char *data, const char *name)
{
    size_t len;
    char *want = read_data(data, name, &len);
    char *out = slurp("out.txt");
    ck_assert_msg(strlen(out) == len && memcmp(out, want, len) == 0, "%s differs: %s", name, out);
    free(want);
    free(out);
}

/*
 * A store written by the format-9 library (tests/data/README.md) answers
 * today's queries as that library did, takes new reads, and merges the day
 * they land in into a format-10 segment beside the other day's format-9 one.
 */
START_TEST(store_of_format_9_upgrades)
{
    const char *data = getenv("ANPR_TEST_DATA");
    ck_assert_msg(data != NULL, "ANPR_TEST_DATA is not set (meson test sets it)");
    char f9[2048];
    ck_assert_uint_lt(strlen(data), sizeof f9 - 16);
    snprintf(f9, sizeof f9, "%s/format9", data);
    /* A copy: opening a store takes its lock and may recycle its journal. */
    ck_assert_int_eq(run("cp -r '%s/store' store", f9), 0);
    enum { QUERIES = 4, CAMERA = 2 };
    const char *queries[QUERIES][2] = {
        {"--plate XA06BTG", "plate.csv"},
        {"--plate XA06BTG --fuzzy", "fuzzy.csv"},
        {"--camera 4 --from 2026-03-02T08:00:00Z --to 2026-03-02T10:00:00Z", "camera.csv"},
        {"--limit 100", "first100.csv"}};
    for (size_t q = 0; q < QUERIES; q++) {
        ck_assert_int_eq(run("%s/anpr query store %s", tools, queries[q][0]), 0);
        assert_out_is(f9, queries[q][1]);
    }
    ck_assert_int_eq(run("%s/anpr-dump --verify store", tools), 0);
    assert_file_has("out.txt", "format version 9, day 2026-03-01");
    assert_file_has("out.txt", "format version 9, day 2026-03-02");
    /* A new read of the plate on the first day, and a resend of one it has (stored once); then a merge. */
    ck_assert_int_eq(run("printf 'ts_ms,plate,camera,lane,direction,confidence,lat,lon\\n"
                         "1772323200001,XA06BTG,9,1,0,80,,\\n"
                         "1772353570531,XA06BTG,13,2,1,93,53.2570131,-3.2000154\\n' >more.csv && "
                         "%s/anpr ingest store more.csv",
                         tools),
                     0);
    assert_file_has("out.txt", "accepted 2, rejected 0");
    /* Every query still answers; the second day's (the camera's) as before. */
    for (size_t q = 0; q < QUERIES; q++) {
        ck_assert_int_eq(run("%s/anpr query store %s", tools, queries[q][0]), 0);
        if (q == CAMERA) assert_out_is(f9, queries[q][1]);
    }
    ck_assert_int_eq(run("%s/anpr-dump --verify store", tools), 0);
    assert_file_has("out.txt", "format version 11, day 2026-03-01");
    assert_file_has("out.txt", "format version 9, day 2026-03-02");
    ck_assert_int_eq(run("%s/anpr stats store", tools), 0);
    assert_file_has("out.txt", "reads: 5001\n");
    /* The plate's history: the new read first, then every read it had, the resent one once. */
    ck_assert_int_eq(run("%s/anpr query store --plate XA06BTG", tools), 0);
    char *out = slurp("out.txt");
    size_t len;
    char *had = read_data(f9, "plate.csv", &len);
    const char *header = "ts_ms,plate,camera,lane,direction,confidence,lat,lon\n";
    const char *added = "1772323200001,XA06BTG,9,1,0,80,,\n";
    size_t hl = strlen(header), al = strlen(added);
    ck_assert_uint_ge(len, hl);
    ck_assert_msg(strlen(out) == len + al && memcmp(out, header, hl) == 0 && memcmp(out + hl, added, al) == 0 &&
                      memcmp(out + hl + al, had + hl, len - hl) == 0,
                  "%s", out);
    free(had);
    free(out);
}
END_TEST

START_TEST(query_shapes)
{
    ck_assert_int_eq(run("%s/anpr gen --reads-per-day 20000 --days 2 --seed 5 -o reads.csv", tools), 0);
    ck_assert_int_eq(run("%s/anpr ingest store reads.csv", tools), 0);
    ck_assert_int_eq(run("%s/anpr query store --limit 500", tools), 0);
    char *out = slurp("out.txt");
    ck_assert_uint_eq(check_csv_answer(out, NULL), 500);
    /* A plate seen in the answer: its history holds it, and only it. */
    char plate[32];
    const char *second = strchr(out, '\n') + 1;
    sscanf(strchr(second, ',') + 1, "%31[^,]", plate);
    free(out);
    ck_assert_int_eq(run("%s/anpr query store --plate %s", tools, plate), 0);
    out = slurp("out.txt");
    size_t exact = check_csv_answer(out, plate);
    ck_assert_uint_ge(exact, 1);
    free(out);
    /* Lower case and a space are how people type plates; fuzzy finds at least as much. */
    ck_assert_int_eq(run("%s/anpr query store --plate %s --fuzzy --format json", tools, plate), 0);
    out = slurp("out.txt");
    ck_assert_msg(out[0] == '[' && strstr(out, "\"plate\":") && out[strlen(out) - 2] == ']', "json: %.80s", out);
    free(out);
    ck_assert_int_eq(run("%s/anpr query store --plate '%.2s?%s' --from 2026-11-02T00:00:00Z --to 2026-11-04T00:00:00Z", tools,
                         plate, plate + 3),
                     0);
    out = slurp("out.txt");
    ck_assert_uint_ge(check_csv_answer(out, NULL), exact);
    free(out);
    ck_assert_int_eq(run("%s/anpr query store --camera 1,2 --from 1793606400000 --to 1793610000000", tools), 0);
    out = slurp("out.txt");
    for (const char *p = strchr(out, '\n') + 1; *p; p = strchr(p, '\n') + 1) {
        long long ts;
        unsigned cam;
        char pl[32];
        ck_assert_int_eq(sscanf(p, "%lld,%31[^,],%u", &ts, pl, &cam), 3);
        ck_assert(cam == 1 || cam == 2);
        ck_assert(ts >= 1793606400000LL && ts < 1793610000000LL);
    }
    free(out);
    ck_assert_int_eq(run("%s/anpr query store --area -90,-180,90,180 --limit 3 --format csv", tools), 0);
    out = slurp("out.txt");
    ck_assert_uint_eq(check_csv_answer(out, NULL), 3);
    free(out);
    /* Errors name what is wrong. */
    ck_assert_int_eq(run("%s/anpr query store --from yesterday", tools), 2);
    assert_file_has("err.txt", "bad --from time yesterday (ms since the epoch, YYYY-MM-DD or");
    ck_assert_int_eq(run("%s/anpr query store --to 2026-11-31", tools), 2);
    ck_assert_int_eq(run("%s/anpr query store --area 1,2,3", tools), 2);
    ck_assert_int_eq(run("%s/anpr query store --fuzzy", tools), 2);
    ck_assert_int_eq(run("%s/anpr query store --plate 'AB#1'", tools), 2);
    assert_file_has("err.txt", "plate");
    ck_assert_int_eq(run("%s/anpr query nowhere", tools), 2);
    ck_assert_int_eq(run("%s/anpr query --help", tools), 0);
    /* The library's environment: two query threads answer the same; a bad count is named. */
    ck_assert_int_eq(run("ANPR_QUERY_THREADS=2 %s/anpr query store --plate %s", tools, plate), 0);
    out = slurp("out.txt");
    ck_assert_uint_eq(check_csv_answer(out, plate), exact);
    free(out);
    ck_assert_int_eq(run("ANPR_QUERY_THREADS=lots %s/anpr query store --plate %s", tools, plate), 2);
    assert_file_has("err.txt", "ANPR_QUERY_THREADS=lots");

    /* Expire the first day: its reads are gone from every answer. */
    ck_assert_int_eq(run("%s/anpr expire store --before 2026-11-03T00:00:00Z", tools), 0);
    assert_file_has("out.txt", "dropped 1 days");
    ck_assert_int_eq(run("%s/anpr query store --to 2026-11-03T00:00:00Z", tools), 0);
    out = slurp("out.txt");
    ck_assert_uint_eq(check_csv_answer(out, NULL), 0);
    free(out);
    /*
     * A day alone is its first ms: the day left (2026-11-03) is all before 2026-11-04 and none of it from
     * then on, and the day just dropped, dropped again, is no day at all.
     */
    ck_assert_int_eq(run("%s/anpr query store --to 2026-11-04 --limit 5", tools), 0);
    out = slurp("out.txt");
    ck_assert_uint_eq(check_csv_answer(out, NULL), 5);
    free(out);
    ck_assert_int_eq(run("%s/anpr query store --from 2026-11-04", tools), 0);
    out = slurp("out.txt");
    ck_assert_uint_eq(check_csv_answer(out, NULL), 0);
    free(out);
    ck_assert_int_eq(run("%s/anpr expire store --before 2026-11-03", tools), 0);
    assert_file_has("out.txt", "dropped 0 days");
    ck_assert_int_eq(run("%s/anpr query store --limit 5", tools), 0);
    out = slurp("out.txt");
    ck_assert_uint_eq(check_csv_answer(out, NULL), 5);
    free(out);
    ck_assert_int_eq(run("%s/anpr expire store --keep-days 0", tools), 2);
    ck_assert_int_eq(run("%s/anpr expire store", tools), 2);
    ck_assert_int_eq(run("%s/anpr expire --help", tools), 0);
}
END_TEST

START_TEST(usage_errors)
{
    ck_assert_int_eq(run("%s/anpr", tools), 2);
    ck_assert_int_eq(run("%s/anpr frobnicate", tools), 2);
    assert_file_has("err.txt", "unknown command 'frobnicate'");
    ck_assert_int_eq(run("%s/anpr query", tools), 2);
    ck_assert_int_eq(run("%s/anpr --help", tools), 0);
    ck_assert_int_eq(run("%s/anpr ingest --help", tools), 0);
    ck_assert_int_eq(run("%s/anpr gen --days -1", tools), 2);
    ck_assert_int_eq(run("%s/anpr stats", tools), 2);
    ck_assert_int_eq(run("%s/anpr stats nowhere", tools), 2);
    assert_file_has("err.txt", "nowhere");
    ck_assert_int_eq(run("%s/anpr ingest store missing.csv", tools), 2);
    ck_assert_int_eq(run("%s/anpr-dump", tools), 2);
    ck_assert_int_eq(run("%s/anpr-dump --rows x store", tools), 2);
    ck_assert_int_eq(run("%s/anpr-dump --help", tools), 0);
    ck_assert_int_eq(run("printf 'plate\\n' | %s/anpr ingest store -", tools), 2);
    assert_file_has("err.txt", "no column ts_ms");
}
END_TEST

/* A number that follows `"key": ` in the JSON text (the first such key), or -1. */
static double json_number(const char *json, const char *key)
{
    char pat[128];
    snprintf(pat, sizeof pat, "\"%s\": ", key);
    const char *p = strstr(json, pat);
    return p ? strtod(p + strlen(pat), NULL) : -1;
}

/* anpr-bench end to end: a small custom run, its table, its JSON, its CSV, a rerun on the kept store. */
START_TEST(bench_measures_and_reports)
{
    ck_assert_int_eq(run("%s/anpr-bench custom --reads-per-day 4000 --days 3 --samples 5 --cold-samples 2 "
                         "--expire-days 1 --block-rows 1000 --index-density 4 --json r.json --csv reads.csv "
                         "--no-progress --dir kept",
                         tools),
                     0);
    char *out = slurp("out.txt");
    ck_assert_ptr_nonnull(strstr(out, "ingest rate"));
    ck_assert_ptr_nonnull(strstr(out, "plate history, whole store"));
    ck_assert_ptr_nonnull(strstr(out, "projection onto 60 M reads a day kept 365 days"));
    free(out);
    char *json = slurp("r.json");
    double stored = json_number(json, "reads_stored"), generated = json_number(json, "reads_generated");
    ck_assert(stored > 10000 && generated >= stored);
    ck_assert(json_number(json, "reads") == stored); /* bytes.reads: every stored read is in a file */
    ck_assert(json_number(json, "total") > 0 && json_number(json, "index") > 0);
    ck_assert(json_number(json, "reads_per_second") > 0 && json_number(json, "merge_seconds") >= 0);
    ck_assert(json_number(json, "samples") == 5); /* the first shape's warm run */
    ck_assert(json_number(json, "p50_ms") > 0 && json_number(json, "p99_ms") >= json_number(json, "p50_ms"));
    ck_assert_ptr_nonnull(strstr(json, "\"expire\": {\n    \"days\": 1"));
    ck_assert(json_number(json, "disk_bytes") > 0);
    free(json);

    /* The store's segments have blocks of --block-rows rows, and four buckets for every two of their 4,000 reads. */
    ck_assert_int_eq(run("%s/anpr-dump kept", tools), 0);
    assert_file_has("out.txt", "4000 rows in 4 blocks of up to 1000 rows");
    assert_file_has("out.txt", "index: 8000 buckets, 2657 postings (0.66 a read, 0.33 a bucket)");

    /* The CSV holds the same reads: ingested by `anpr`, they make a store of as many reads. */
    ck_assert_int_eq(run("%s/anpr ingest from-csv reads.csv && %s/anpr stats from-csv", tools, tools), 0);
    out = slurp("out.txt");
    char want[64];
    snprintf(want, sizeof want, "reads: %.0f", stored);
    ck_assert_msg(strstr(out, want) != NULL, "want '%s' in: %s", want, out);
    free(out);

    /* The kept store measured again without ingesting (one day fewer: the expiry dropped it), its files mapped. */
    ck_assert_int_eq(run("%s/anpr-bench custom --reads-per-day 4000 --days 3 --samples 3 --cold-samples 1 "
                         "--dir kept --reuse --map --json again.json --no-progress",
                         tools),
                     0);
    assert_file_has("out.txt", ", mapped, 1 thread), ms");
    json = slurp("again.json");
    ck_assert_ptr_null(strstr(json, "\"ingest\""));
    ck_assert(json_number(json, "reads") > 0 && json_number(json, "reads") < stored);
    ck_assert(json_number(json, "mapped") == 1);
    free(json);

    /* Usage errors: status 2 and a message that says what is wrong. */
    ck_assert_int_eq(run("%s/anpr-bench", tools), 2);
    ck_assert_int_eq(run("%s/anpr-bench weekly", tools), 2);
    assert_file_has("err.txt", "unknown scenario 'weekly'");
    ck_assert_int_eq(run("%s/anpr-bench custom --days 2", tools), 2);
    ck_assert_int_eq(run("%s/anpr-bench year --samples many", tools), 2);
    assert_file_has("err.txt", "--samples: 'many'");
    ck_assert_int_eq(run("%s/anpr-bench year --block-rows 100", tools), 2);
    assert_file_has("err.txt", "--block-rows: '100' is not a whole number of at least 256");
    ck_assert_int_eq(run("%s/anpr-bench year --block-rows 70000", tools), 2);
    assert_file_has("err.txt", "--block-rows: 70000 is over 65536");
    ck_assert_int_eq(run("%s/anpr-bench year --index-density 3", tools), 2);
    assert_file_has("err.txt", "--index-density: 3 is not 1, 2, 4 or 8");
    ck_assert_int_eq(run("%s/anpr-bench year --reuse", tools), 2);
    ck_assert_int_eq(run("%s/anpr-bench custom --reads-per-day 10 --days 1 --dir kept", tools), 2);
    assert_file_has("err.txt", "kept exists");
    ck_assert_int_eq(run("%s/anpr-bench --help", tools), 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("tools");
    TCase *tc = tcase_create("tools");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, gen_ingest_stats_dump);
    tcase_add_test(tc, bad_lines_reported_good_kept);
    tcase_add_test(tc, verify_names_the_damage);
    tcase_add_test(tc, dump_reads_format_2);
    tcase_add_test(tc, store_of_format_9_upgrades);
    tcase_add_test(tc, query_shapes);
    tcase_add_test(tc, usage_errors);
    tcase_add_test(tc, bench_measures_and_reports);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
