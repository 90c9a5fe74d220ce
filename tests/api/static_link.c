/*
 * A program linked with the static libanpr.a that defines, with other
 * types, names libanpr uses inside (big_alloc, read_validate,
 * journal_open). The archive's internal symbols are local (lib/
 * prelink_static.sh), so this links, each side calls its own, and the
 * library works: a store is created, written, merged and queried.
 */
#define _GNU_SOURCE
#include <anpr/anpr.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int big_alloc(int x);
int read_validate(const char *s);
double journal_open(double v);

int big_alloc(int x) { return x + 1; }
int read_validate(const char *s) { return (int)strlen(s); }
double journal_open(double v) { return v * 2; }

int main(void)
{
    if (big_alloc(41) != 42 || read_validate("abc") != 3 || journal_open(1.5) != 3.0) {
        printf("0 passed, 1 failed (a program's own functions were not called)\n");
        return 1;
    }
    const char *tmp = getenv("ANPR_TEST_TMP");
    if (!tmp) tmp = "/tmp";
    mkdir(tmp, 0755); /* the test runner's scratch directory, if no test made it yet */
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/static-link-XXXXXX", tmp);
    if (!mkdtemp(dir)) {
        perror(dir);
        return 1;
    }
    anpr_store_options opts = ANPR_STORE_OPTIONS_INIT;
    opts.flags = ANPR_OPEN_CREATE;
    anpr_store *s;
    anpr_writer *w;
    int rc = anpr_store_open(&s, dir, &opts);
    if (rc == ANPR_OK) rc = anpr_writer_open(&w, s);
    const anpr_read reads[] = {
        {1762071330123, "AB12 CDE", 4711, 1, 0, 93, 515074000, -1278000},
        {1762071331500, "XY51ABC", 4712, 2, 0, 88, ANPR_POS_UNKNOWN, ANPR_POS_UNKNOWN},
    };
    size_t accepted = 0;
    if (rc == ANPR_OK) rc = anpr_writer_append(w, reads, 2, &accepted, NULL);
    if (rc == ANPR_OK) rc = anpr_writer_commit(w);
    if (rc == ANPR_OK) rc = anpr_writer_merge(w, ANPR_ALL_DAYS);
    anpr_query q = ANPR_QUERY_INIT;
    q.plate = "AB12CDE";
    anpr_cursor *c = NULL;
    anpr_batch b;
    size_t found = 0;
    if (rc == ANPR_OK) rc = anpr_query_open(&c, s, &q);
    while (rc == ANPR_OK && (rc = anpr_cursor_next(c, &b)) > 0) found += b.n;
    anpr_cursor_close(c);
    if (rc > 0) rc = ANPR_OK;
    if (rc == ANPR_OK) rc = anpr_writer_close(w);
    anpr_store_close(s);
    if (rc != ANPR_OK || accepted != 2 || found != 1) {
        printf("0 passed, 1 failed (%s, %zu accepted, %zu found)\n", anpr_strerror(rc), accepted, found);
        return 1;
    }
    printf("1 passed, 0 failed (linked statically beside its own big_alloc, read_validate, journal_open)\n");
    return 0;
}
