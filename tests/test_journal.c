/* The journal: round trip, torn tails cut, damage reported, never misread. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "anpr/anpr.h"
#include "journal/journal.h"
#include "testutil.h"

typedef struct collected {
    anpr_row *rows;
    size_t n, cap;
} collected;

static int collect(void *ctx, const anpr_row *rows, size_t n)
{
    collected *c = ctx;
    if (c->n + n > c->cap) {
        c->cap = (c->n + n) * 2;
        c->rows = realloc(c->rows, c->cap * sizeof *c->rows);
    }
    memcpy(c->rows + c->n, rows, n * sizeof *rows);
    c->n += n;
    return 0;
}

static anpr_row make_row(unsigned i)
{
    anpr_row r;
    memset(&r, 0, sizeof r);
    r.ts_ms = INT64_C(1764547200000) + i * 1000;
    snprintf(r.plate, sizeof r.plate, "AB%02uCDE", i % 100);
    r.camera = i % 7;
    r.lane = (uint8_t)(i % 4);
    r.direction = (uint8_t)(i % 2);
    r.confidence = (uint8_t)(i % 101);
    r.lat_e7 = i % 3 ? 515000000 + (int32_t)i : ANPR_POS_UNKNOWN;
    r.lon_e7 = i % 3 ? -1000000 - (int32_t)i : ANPR_POS_UNKNOWN;
    return r;
}

static int rows_equal(const anpr_row *a, const anpr_row *b)
{
    return a->ts_ms == b->ts_ms && strcmp(a->plate, b->plate) == 0 && a->camera == b->camera &&
           a->lane == b->lane && a->direction == b->direction && a->confidence == b->confidence &&
           a->lat_e7 == b->lat_e7 && a->lon_e7 == b->lon_e7;
}

/* A journal of gen 1 with `batches` records of `per` rows each, written and synced. */
static char *write_journal(unsigned batches, unsigned per, char *path_out, size_t path_size)
{
    char *dir = tu_tmpdir("journal");
    journal *j;
    ck_assert_int_eq(journal_create(&j, anpr_vfs_posix(), dir, 1, NULL), ANPR_OK);
    for (unsigned b = 0; b < batches; b++) {
        anpr_row rows[64];
        for (unsigned i = 0; i < per; i++) rows[i] = make_row(b * per + i);
        ck_assert_int_eq(journal_append(j, rows, per), ANPR_OK);
        ck_assert_int_eq(journal_write(j, NULL, NULL), ANPR_OK);
    }
    ck_assert_int_eq(journal_sync(j, NULL), ANPR_OK);
    journal_close(j);
    snprintf(path_out, path_size, "%s/journal-000001.log", dir);
    return dir;
}

START_TEST(round_trip)
{
    char path[4096];
    char *dir = write_journal(5, 10, path, sizeof path);
    collected c = {0};
    journal *j;
    uint64_t cut = 99;
    ck_assert_int_eq(journal_open(&j, anpr_vfs_posix(), dir, 1, collect, &c, &cut, NULL), ANPR_OK);
    ck_assert_uint_eq(cut, 0);
    ck_assert_uint_eq(c.n, 50);
    for (unsigned i = 0; i < 50; i++) {
        anpr_row want = make_row(i);
        ck_assert(rows_equal(&c.rows[i], &want));
    }
    /* Appending after a replay continues the same file. */
    anpr_row extra = make_row(1000);
    ck_assert_int_eq(journal_append(j, &extra, 1), ANPR_OK);
    ck_assert_int_eq(journal_write(j, NULL, NULL), ANPR_OK);
    journal_close(j);
    c.n = 0;
    ck_assert_int_eq(journal_open(&j, anpr_vfs_posix(), dir, 1, collect, &c, &cut, NULL), ANPR_OK);
    ck_assert_uint_eq(c.n, 51);
    ck_assert(rows_equal(&c.rows[50], &extra));
    journal_close(j);
    free(c.rows);
    tu_rmrf(dir);
    free(dir);
}
END_TEST

START_TEST(torn_tail_is_cut_at_every_length)
{
    char path[4096];
    char *dir = write_journal(3, 4, path, sizeof path);
    size_t len;
    uint8_t *full = tu_read_file(path, &len);
    ck_assert_ptr_nonnull(full);
    size_t rec = JOURNAL_RECORD_HEADER_SIZE + 4 * JOURNAL_ROW_SIZE;
    ck_assert_uint_eq(len, JOURNAL_HEADER_SIZE + 3 * rec);
    /* Every truncation point inside the records: only whole records come back, the rest is cut. */
    for (size_t keep = JOURNAL_HEADER_SIZE; keep <= len; keep++) {
        ck_assert_int_eq(tu_write_file(path, full, keep), 0);
        collected c = {0};
        journal *j;
        uint64_t cut;
        ck_assert_int_eq(journal_open(&j, anpr_vfs_posix(), dir, 1, collect, &c, &cut, NULL), ANPR_OK);
        size_t whole = (keep - JOURNAL_HEADER_SIZE) / rec;
        ck_assert_uint_eq(c.n, whole * 4);
        ck_assert_uint_eq(cut, keep - JOURNAL_HEADER_SIZE - whole * rec);
        ck_assert_int_eq(tu_file_size(path), (long long)(JOURNAL_HEADER_SIZE + whole * rec));
        journal_close(j);
        free(c.rows);
    }
    free(full);
    tu_rmrf(dir);
    free(dir);
}
END_TEST

START_TEST(flipped_byte_never_returns_data)
{
    char path[4096];
    char *dir = write_journal(3, 4, path, sizeof path);
    size_t len;
    uint8_t *full = tu_read_file(path, &len);
    size_t rec = JOURNAL_RECORD_HEADER_SIZE + 4 * JOURNAL_ROW_SIZE;
    for (size_t off = 0; off < len; off++) {
        ck_assert_int_eq(tu_write_file(path, full, len), 0);
        ck_assert_int_eq(tu_flip_byte(path, off, 0x10), 0);
        collected c = {0};
        journal *j = NULL;
        anpr_errmsg_buf err = {{0}};
        int rc = journal_open(&j, anpr_vfs_posix(), dir, 1, collect, &c, NULL, &err);
        if (off < JOURNAL_HEADER_SIZE) {
            ck_assert_int_eq(rc, ANPR_ECORRUPT);
        } else if (off < JOURNAL_HEADER_SIZE + 2 * rec) {
            /* A damaged record with valid ones after it is damage, not a torn write. */
            ck_assert_msg(rc == ANPR_ECORRUPT, "flip at %zu: rc %d", off, rc);
            ck_assert_ptr_nonnull(strstr(err.text, "journal-000001.log"));
        } else {
            /* The last record: indistinguishable from a torn write, so it is cut, never misread. */
            ck_assert_int_eq(rc, ANPR_OK);
            ck_assert_uint_eq(c.n, 8);
            journal_close(j);
        }
        for (size_t i = 0; i < c.n; i++) {
            anpr_row want = make_row((unsigned)i);
            ck_assert(rows_equal(&c.rows[i], &want));
        }
        free(c.rows);
    }
    free(full);
    tu_rmrf(dir);
    free(dir);
}
END_TEST

START_TEST(wrong_generation_or_version)
{
    char path[4096];
    char *dir = write_journal(1, 1, path, sizeof path);
    char other[4096];
    snprintf(other, sizeof other, "%s/journal-000002.log", dir);
    ck_assert_int_eq(rename(path, other), 0);
    journal *j;
    /* A file renamed to another generation is not taken for it. */
    ck_assert_int_eq(journal_open(&j, anpr_vfs_posix(), dir, 2, NULL, NULL, NULL, NULL), ANPR_ECORRUPT);
    ck_assert_int_eq(journal_open(&j, anpr_vfs_posix(), dir, 3, NULL, NULL, NULL, NULL), -ENOENT);
    ck_assert_ptr_null(j);
    tu_rmrf(dir);
    free(dir);
}
END_TEST

START_TEST(row_codec_rejects_bad_rows)
{
    anpr_row r = make_row(3), back;
    uint8_t b[JOURNAL_ROW_SIZE];
    journal_row_encode(b, &r);
    ck_assert_int_eq(journal_row_decode(&back, b), ANPR_OK);
    ck_assert(rows_equal(&r, &back));
    uint8_t bad[JOURNAL_ROW_SIZE];
    memcpy(bad, b, sizeof b);
    bad[23] = 0; /* plate length 0 */
    ck_assert_int_eq(journal_row_decode(&back, bad), ANPR_ECORRUPT);
    memcpy(bad, b, sizeof b);
    bad[24] = '*';
    ck_assert_int_eq(journal_row_decode(&back, bad), ANPR_ECORRUPT);
    memcpy(bad, b, sizeof b);
    bad[22] = 101;
    ck_assert_int_eq(journal_row_decode(&back, bad), ANPR_ECORRUPT);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("journal");
    TCase *tc = tcase_create("journal");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, round_trip);
    tcase_add_test(tc, torn_tail_is_cut_at_every_length);
    tcase_add_test(tc, flipped_byte_never_returns_data);
    tcase_add_test(tc, wrong_generation_or_version);
    tcase_add_test(tc, row_codec_rejects_bad_rows);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
