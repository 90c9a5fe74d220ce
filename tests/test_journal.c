/*
 * The journal: round trip, torn tails cut, damage reported, never misread;
 * recycled files, whose older records and out-of-order unsynced writes are
 * cut, never taken; version 1 journals still replayed and appended to.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "anpr/anpr.h"
#include "common/bytes.h"
#include "common/hash.h"
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

/*
 * Append `batches` records of `per` rows (numbered from first), each one
 * committed as a writer commits: written, synced, and the sync marked, so
 * that the next record vouches for it.
 */
static void append_committed(journal *j, unsigned batches, unsigned per, unsigned first)
{
    for (unsigned b = 0; b < batches; b++) {
        anpr_row rows[64];
        for (unsigned i = 0; i < per; i++) rows[i] = make_row(first + b * per + i);
        ck_assert_int_eq(journal_append(j, rows, per), ANPR_OK);
        uint64_t end;
        ck_assert_int_eq(journal_write(j, &end, NULL), ANPR_OK);
        ck_assert_int_eq(journal_sync(j, NULL), ANPR_OK);
        journal_mark_synced(j, end);
    }
}

/* A journal of gen 1 with `batches` records of `per` rows each, each committed. */
static char *write_journal(unsigned batches, unsigned per, char *path_out, size_t path_size)
{
    char *dir = tu_tmpdir("journal");
    journal *j;
    ck_assert_int_eq(journal_create(&j, anpr_vfs_posix(), dir, 1, NULL), ANPR_OK);
    append_committed(j, batches, per, 0);
    journal_close(j);
    journal_path(path_out, path_size, dir, 1);
    return dir;
}

/* Replay journal gen of dir: its status, the rows in *c, the bytes cut in *cut. */
static int replay(const char *dir, uint64_t gen, collected *c, uint64_t *cut)
{
    journal *j = NULL;
    c->n = 0;
    int rc = journal_open(&j, anpr_vfs_posix(), dir, gen, collect, c, cut, NULL);
    journal_close(j);
    return rc;
}

/* Rows 0 .. n-1 of make_row, in order? */
static int rows_are_first(const collected *c, size_t n)
{
    if (c->n != n) return 0;
    for (size_t i = 0; i < n; i++) {
        anpr_row want = make_row((unsigned)i);
        if (!rows_equal(&c->rows[i], &want)) return 0;
    }
    return 1;
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
    journal_path(other, sizeof other, dir, 2);
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

/* Version 1's bytes, as docs/format.md gives them: records with a 24-byte header and no durable offset. */
static size_t v1_journal(uint8_t *out, uint64_t gen, unsigned records, unsigned per)
{
    memcpy(out, "ANPRJNL1", 8);
    put_u16(out + 8, 1);
    put_u16(out + 10, 0);
    put_u32(out + 12, 0);
    put_u64(out + 16, gen);
    put_u64(out + 24, anpr_checksum(out, 24));
    size_t len = JOURNAL_HEADER_SIZE;
    for (unsigned r = 0; r < records; r++) {
        uint8_t *h = out + len, *payload = h + JOURNAL_RECORD_HEADER_SIZE_V1;
        for (unsigned i = 0; i < per; i++) {
            anpr_row row = make_row(r * per + i);
            journal_row_encode(payload + i * JOURNAL_ROW_SIZE, &row);
        }
        put_u32(h, 0x4345524Au);
        put_u32(h + 4, per);
        put_u64(h + 8, gen);
        put_u64(h + 16, XXH3_64bits_withSeed(payload, per * JOURNAL_ROW_SIZE, anpr_checksum(h, 16)));
        len += JOURNAL_RECORD_HEADER_SIZE_V1 + per * JOURNAL_ROW_SIZE;
    }
    return len;
}

START_TEST(version_1_is_replayed_and_appended_to)
{
    char *dir = tu_tmpdir("journal");
    char path[4096];
    journal_path(path, sizeof path, dir, 1);
    static uint8_t bytes[4096];
    size_t len = v1_journal(bytes, 1, 3, 4);
    ck_assert_int_eq(tu_write_file(path, bytes, len), 0);
    collected c = {0};
    uint64_t cut;
    journal *j;
    ck_assert_int_eq(journal_open(&j, anpr_vfs_posix(), dir, 1, collect, &c, &cut, NULL), ANPR_OK);
    ck_assert(rows_are_first(&c, 12));
    ck_assert_uint_eq(cut, 0);
    /* Appends continue in version 1's layout, and the finish adds no mark. */
    anpr_row extra = make_row(12);
    ck_assert_int_eq(journal_append(j, &extra, 1), ANPR_OK);
    ck_assert_int_eq(journal_finish(j, NULL), ANPR_OK);
    journal_close(j);
    ck_assert_int_eq(tu_file_size(path), (long long)(len + JOURNAL_RECORD_HEADER_SIZE_V1 + JOURNAL_ROW_SIZE));
    ck_assert_int_eq(replay(dir, 1, &c, &cut), ANPR_OK);
    ck_assert(rows_are_first(&c, 13));
    uint64_t off = 0;
    c.n = 0;
    ck_assert_int_eq(journal_read_tail(anpr_vfs_posix(), dir, 1, &off, collect, &c, NULL), ANPR_OK);
    ck_assert(rows_are_first(&c, 13));
    /* Version 1's rule: a bad record with a valid one after it is damage. */
    ck_assert_int_eq(tu_write_file(path, bytes, len), 0);
    ck_assert_int_eq(tu_flip_byte(path, JOURNAL_HEADER_SIZE + JOURNAL_RECORD_HEADER_SIZE_V1 + 3, 0x10), 0);
    ck_assert_int_eq(replay(dir, 1, &c, &cut), ANPR_ECORRUPT);
    free(c.rows);
    tu_rmrf(dir);
    free(dir);
}
END_TEST

START_TEST(recycled_file_replays_only_its_own)
{
    char path[4096], path3[4096];
    char *dir = write_journal(3, 4, path, sizeof path);
    journal_path(path3, sizeof path3, dir, 3);
    struct stat before, after;
    ck_assert_int_eq(stat(path, &before), 0);
    journal *j;
    ck_assert_int_eq(journal_recycle(&j, anpr_vfs_posix(), dir, 3, 1, NULL), ANPR_OK);
    ck_assert_int_eq(access(path, F_OK), -1);
    ck_assert_int_eq(stat(path3, &after), 0);
    ck_assert_uint_eq(after.st_ino, before.st_ino); /* the same file: its pages are reused */
    ck_assert_int_eq(after.st_size, before.st_size);
    /* One new record over the first older one; the older ones after it are never taken. */
    anpr_row r = make_row(0);
    ck_assert_int_eq(journal_append(j, &r, 1), ANPR_OK);
    uint64_t end;
    ck_assert_int_eq(journal_write(j, &end, NULL), ANPR_OK);
    ck_assert_int_eq(journal_sync(j, NULL), ANPR_OK);
    journal_close(j);
    collected c = {0};
    uint64_t off = 0, cut;
    ck_assert_int_eq(journal_read_tail(anpr_vfs_posix(), dir, 3, &off, collect, &c, NULL), ANPR_OK);
    ck_assert(rows_are_first(&c, 1));
    ck_assert_uint_eq(off, end);
    /* A reader that still names generation 1 finds it gone, as when a flush removed it. */
    off = 0;
    ck_assert_int_eq(journal_read_tail(anpr_vfs_posix(), dir, 1, &off, collect, &c, NULL), -ENOENT);
    /* The same if it opened the file just before the recycling: the header names a later generation. */
    size_t len;
    uint8_t *bytes = tu_read_file(path3, &len);
    ck_assert_int_eq(tu_write_file(path, bytes, len), 0);
    ck_assert_int_eq(journal_read_tail(anpr_vfs_posix(), dir, 1, &off, collect, &c, NULL), -ENOENT);
    /* An earlier one is no replacement: that file is not the journal it is named for. */
    char path5[4096];
    journal_path(path5, sizeof path5, dir, 5);
    ck_assert_int_eq(tu_write_file(path5, bytes, len), 0);
    off = 0;
    ck_assert_int_eq(journal_read_tail(anpr_vfs_posix(), dir, 5, &off, collect, &c, NULL), ANPR_ECORRUPT);
    /* The writer's replay cuts the older records off. */
    ck_assert_int_eq(replay(dir, 3, &c, &cut), ANPR_OK);
    ck_assert(rows_are_first(&c, 1));
    ck_assert_uint_eq(cut, (uint64_t)before.st_size - end);
    ck_assert_int_eq(tu_file_size(path3), (long long)end);
    free(bytes);
    free(c.rows);
    tu_rmrf(dir);
    free(dir);
}
END_TEST

START_TEST(unsynced_writes_in_any_order_are_cut)
{
    char path[4096], path2[4096];
    char *dir = write_journal(4, 4, path, sizeof path);
    journal_path(path2, sizeof path2, dir, 2);
    size_t old_len, len;
    uint8_t *old = tu_read_file(path, &old_len);
    journal *j;
    ck_assert_int_eq(journal_recycle(&j, anpr_vfs_posix(), dir, 2, 1, NULL), ANPR_OK);
    /* Record A committed; B and C written together and not yet synced. */
    append_committed(j, 1, 4, 0);
    anpr_row rows[8];
    for (unsigned i = 0; i < 8; i++) rows[i] = make_row(4 + i);
    ck_assert_int_eq(journal_append(j, rows, 4), ANPR_OK);
    ck_assert_int_eq(journal_append(j, rows + 4, 4), ANPR_OK);
    ck_assert_int_eq(journal_write(j, NULL, NULL), ANPR_OK);
    journal_close(j);
    /*
     * Power lost with C on the disk and B not: B's bytes are still the
     * older record's. C vouches only for A, so B and C are a torn write,
     * cut; in a file only ever appended to this was damage (version 1).
     */
    uint8_t *now = tu_read_file(path2, &len);
    size_t rec = JOURNAL_RECORD_HEADER_SIZE + 4 * JOURNAL_ROW_SIZE, b_off = JOURNAL_HEADER_SIZE + rec;
    ck_assert_uint_eq(len, old_len);
    memcpy(now + b_off, old + b_off, rec);
    ck_assert_int_eq(tu_write_file(path2, now, len), 0);
    collected c = {0};
    uint64_t cut;
    ck_assert_int_eq(replay(dir, 2, &c, &cut), ANPR_OK);
    ck_assert(rows_are_first(&c, 4));
    ck_assert_uint_eq(cut, len - b_off);
    free(old);
    free(now);
    free(c.rows);
    tu_rmrf(dir);
    free(dir);
}
END_TEST

/* Give the record at off of a version 2 file another durable offset, its checksum made again. */
static void set_durable_offset(uint8_t *bytes, size_t off, uint64_t synced)
{
    uint8_t *h = bytes + off;
    size_t len = (size_t)get_u32(h + 4) * JOURNAL_ROW_SIZE;
    put_u64(h + 16, synced);
    put_u64(h + 24, XXH3_64bits_withSeed(h + JOURNAL_RECORD_HEADER_SIZE, len, anpr_checksum(h, 24)));
}

START_TEST(impossible_durable_offset_is_refused)
{
    char path[4096];
    char *dir = write_journal(2, 4, path, sizeof path);
    size_t len;
    uint8_t *good = tu_read_file(path, &len);
    size_t off1 = JOURNAL_HEADER_SIZE + JOURNAL_RECORD_HEADER_SIZE + 4 * JOURNAL_ROW_SIZE;
    /* Past the record's own start, or before the header's end: no writer says that. */
    const uint64_t claims[] = {off1 + 1, UINT64_MAX, JOURNAL_HEADER_SIZE - 1, 0};
    collected c = {0};
    uint64_t cut;
    for (size_t k = 0; k < sizeof claims / sizeof claims[0]; k++) {
        uint8_t *bytes = malloc(len);
        memcpy(bytes, good, len);
        set_durable_offset(bytes, off1, claims[k]);
        ck_assert_int_eq(tu_write_file(path, bytes, len), 0);
        ck_assert_msg(replay(dir, 1, &c, &cut) == ANPR_ECORRUPT, "claim %llu", (unsigned long long)claims[k]);
        free(bytes);
    }
    /* The largest true claim is taken. */
    set_durable_offset(good, off1, off1);
    ck_assert_int_eq(tu_write_file(path, good, len), 0);
    ck_assert_int_eq(replay(dir, 1, &c, &cut), ANPR_OK);
    ck_assert(rows_are_first(&c, 8));
    free(good);
    free(c.rows);
    tu_rmrf(dir);
    free(dir);
}
END_TEST

START_TEST(finish_vouches_for_all_and_cuts_older_records)
{
    char path[4096], path2[4096];
    char *dir = write_journal(3, 4, path, sizeof path);
    journal_path(path2, sizeof path2, dir, 2);
    journal *j;
    ck_assert_int_eq(journal_recycle(&j, anpr_vfs_posix(), dir, 2, 1, NULL), ANPR_OK);
    /* Two records written without a commit between: only the finish's mark vouches for the first. */
    anpr_row rows[8];
    for (unsigned i = 0; i < 8; i++) rows[i] = make_row(i);
    ck_assert_int_eq(journal_append(j, rows, 4), ANPR_OK);
    ck_assert_int_eq(journal_append(j, rows + 4, 4), ANPR_OK);
    ck_assert_int_eq(journal_finish(j, NULL), ANPR_OK);
    journal_close(j);
    size_t rec = JOURNAL_RECORD_HEADER_SIZE + 4 * JOURNAL_ROW_SIZE;
    size_t end = JOURNAL_HEADER_SIZE + 2 * rec + JOURNAL_RECORD_HEADER_SIZE;
    ck_assert_int_eq(tu_file_size(path2), (long long)end);
    collected c = {0};
    uint64_t cut;
    ck_assert_int_eq(replay(dir, 2, &c, &cut), ANPR_OK);
    ck_assert_uint_eq(cut, 0);
    ck_assert(rows_are_first(&c, 8));
    ck_assert_int_eq(tu_flip_byte(path2, JOURNAL_HEADER_SIZE + JOURNAL_RECORD_HEADER_SIZE + 5, 0x10), 0);
    ck_assert_int_eq(replay(dir, 2, &c, &cut), ANPR_ECORRUPT);
    free(c.rows);
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
    tcase_add_test(tc, version_1_is_replayed_and_appended_to);
    tcase_add_test(tc, recycled_file_replays_only_its_own);
    tcase_add_test(tc, unsynced_writes_in_any_order_are_cut);
    tcase_add_test(tc, impossible_durable_offset_is_refused);
    tcase_add_test(tc, finish_vouches_for_all_and_cuts_older_records);
    tcase_add_test(tc, row_codec_rejects_bad_rows);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
