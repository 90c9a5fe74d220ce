/* The tools end to end: anpr gen | ingest | stats, anpr-dump --verify, and their errors. */
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
    ck_assert_ptr_nonnull(strstr(out, "plate-uk"));
    free(out);
    /* Ingesting the same file again stores nothing new: every read is a duplicate. */
    ck_assert_int_eq(run("cat reads.csv | %s/anpr ingest store -", tools), 0);
    ck_assert_int_eq(run("%s/anpr stats store", tools), 0);
    out = slurp("out.txt");
    ck_assert_ptr_nonnull(strstr(out, "reads: 40000\n"));
    free(out);
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

START_TEST(usage_errors)
{
    ck_assert_int_eq(run("%s/anpr", tools), 2);
    ck_assert_int_eq(run("%s/anpr frobnicate", tools), 2);
    char *err = slurp("err.txt");
    ck_assert_ptr_nonnull(strstr(err, "unknown command 'frobnicate'"));
    free(err);
    ck_assert_int_eq(run("%s/anpr query store", tools), 2);
    ck_assert_int_eq(run("%s/anpr --help", tools), 0);
    ck_assert_int_eq(run("%s/anpr ingest --help", tools), 0);
    ck_assert_int_eq(run("%s/anpr gen --days -1", tools), 2);
    ck_assert_int_eq(run("%s/anpr stats", tools), 2);
    ck_assert_int_eq(run("%s/anpr stats nowhere", tools), 2);
    err = slurp("err.txt");
    ck_assert_ptr_nonnull(strstr(err, "nowhere"));
    free(err);
    ck_assert_int_eq(run("%s/anpr ingest store missing.csv", tools), 2);
    ck_assert_int_eq(run("%s/anpr-dump", tools), 2);
    ck_assert_int_eq(run("%s/anpr-dump --rows x store", tools), 2);
    ck_assert_int_eq(run("%s/anpr-dump --help", tools), 0);
    ck_assert_int_eq(run("printf 'plate\\n' | %s/anpr ingest store -", tools), 2);
    err = slurp("err.txt");
    ck_assert_ptr_nonnull(strstr(err, "no column ts_ms"));
    free(err);
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
    tcase_add_test(tc, usage_errors);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
