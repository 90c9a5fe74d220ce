/* The manifest: encode/decode, publish, and every kind of damage refused. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "anpr/anpr.h"
#include "store/manifest.h"
#include "testutil.h"

static manifest sample(void)
{
    manifest m;
    memset(&m, 0, sizeof m);
    m.generation = 7;
    m.journal_gen = 3;
    m.next_id = 10;
    m.floor_day = 20400;
    manifest_file a = {.id = 4, .day = 20424, .kind = MANIFEST_SEGMENT, .rows = 100, .bytes = 5000,
                       .min_ts_ms = INT64_C(20424) * 86400000, .max_ts_ms = INT64_C(20424) * 86400000 + 5};
    manifest_file b = {.id = 9, .day = 20425, .kind = MANIFEST_PART, .rows = 1, .bytes = 300,
                       .min_ts_ms = INT64_C(20425) * 86400000 + 7, .max_ts_ms = INT64_C(20425) * 86400000 + 7};
    manifest_file c = {.id = 8, .day = 20424, .kind = MANIFEST_PART, .rows = 2, .bytes = 400,
                       .min_ts_ms = INT64_C(20424) * 86400000 + 1, .max_ts_ms = INT64_C(20424) * 86400000 + 9};
    ck_assert_int_eq(manifest_add(&m, &b), 0);
    ck_assert_int_eq(manifest_add(&m, &a), 0);
    ck_assert_int_eq(manifest_add(&m, &c), 0);
    return m;
}

START_TEST(encode_decode)
{
    manifest m = sample();
    /* Kept in (day, id) order whatever the order of adding. */
    ck_assert_uint_eq(m.files[0].id, 4);
    ck_assert_uint_eq(m.files[1].id, 8);
    ck_assert_uint_eq(m.files[2].id, 9);
    uint8_t *buf;
    size_t len;
    ck_assert_int_eq(manifest_encode(&m, &buf, &len), 0);
    ck_assert_uint_eq(len, MANIFEST_HEADER_SIZE + 3 * MANIFEST_ENTRY_SIZE + 8);
    manifest back;
    ck_assert_int_eq(manifest_decode(&back, buf, len, NULL), 0);
    ck_assert_uint_eq(back.generation, 7);
    ck_assert_uint_eq(back.journal_gen, 3);
    ck_assert_uint_eq(back.next_id, 10);
    ck_assert_int_eq(back.floor_day, 20400);
    ck_assert_uint_eq(back.nfiles, 3);
    for (size_t i = 0; i < 3; i++) {
        /* Field by field: struct padding is not part of the format. */
        ck_assert_uint_eq(back.files[i].id, m.files[i].id);
        ck_assert_int_eq(back.files[i].day, m.files[i].day);
        ck_assert_uint_eq(back.files[i].kind, m.files[i].kind);
        ck_assert_uint_eq(back.files[i].rows, m.files[i].rows);
        ck_assert_uint_eq(back.files[i].bytes, m.files[i].bytes);
        ck_assert_int_eq(back.files[i].min_ts_ms, m.files[i].min_ts_ms);
        ck_assert_int_eq(back.files[i].max_ts_ms, m.files[i].max_ts_ms);
    }
    manifest_free(&back);
    free(buf);
    /* Found by day and id, each at its place in the order; not by the wrong day or an absent id. */
    ck_assert(manifest_has(&m, 20424, 4) && manifest_has(&m, 20424, 8) && manifest_has(&m, 20425, 9));
    ck_assert(!manifest_has(&m, 20425, 8) && !manifest_has(&m, 20424, 5) && !manifest_has(&m, 20426, 9));
    ck_assert_int_eq(manifest_remove(&m, 8), 1);
    ck_assert_int_eq(manifest_remove(&m, 8), 0);
    ck_assert(!manifest_has(&m, 20424, 8) && manifest_has(&m, 20424, 4));
    ck_assert_uint_eq(m.nfiles, 2);
    manifest_free(&m);
}
END_TEST

START_TEST(every_flip_and_truncation_refused)
{
    manifest m = sample();
    uint8_t *buf;
    size_t len;
    ck_assert_int_eq(manifest_encode(&m, &buf, &len), 0);
    for (size_t off = 0; off < len; off++) {
        for (int bit = 0; bit < 8; bit++) {
            buf[off] ^= (uint8_t)(1u << bit);
            manifest back;
            int rc = manifest_decode(&back, buf, len, NULL);
            ck_assert_msg(rc == ANPR_ECORRUPT, "flip at %zu bit %d: %d", off, bit, rc);
            buf[off] ^= (uint8_t)(1u << bit);
        }
    }
    for (size_t keep = 0; keep < len; keep++) {
        manifest back;
        ck_assert_int_eq(manifest_decode(&back, buf, keep, NULL), ANPR_ECORRUPT);
    }
    free(buf);
    manifest_free(&m);
}
END_TEST

START_TEST(publish_and_load)
{
    char *dir = tu_tmpdir("manifest");
    manifest m = sample(), back;
    ck_assert_int_eq(manifest_load(&back, anpr_vfs_posix(), dir, NULL), -ENOENT);
    ck_assert_int_eq(manifest_publish(&m, anpr_vfs_posix(), dir, NULL), 0);
    ck_assert_uint_eq(m.generation, 8);
    ck_assert_int_eq(manifest_load(&back, anpr_vfs_posix(), dir, NULL), 0);
    ck_assert_uint_eq(back.generation, 8);
    ck_assert_uint_eq(back.nfiles, 3);
    manifest_free(&back);
    char path[4096];
    snprintf(path, sizeof path, "%s/MANIFEST", dir);
    ck_assert_int_eq(tu_flip_byte(path, 20, 0x40), 0);
    anpr_errmsg_buf err = {{0}};
    ck_assert_int_eq(manifest_load(&back, anpr_vfs_posix(), dir, &err), ANPR_ECORRUPT);
    ck_assert_ptr_nonnull(strstr(err.text, "MANIFEST"));
    manifest_free(&m);
    tu_rmrf(dir);
    free(dir);
}
END_TEST

START_TEST(file_names)
{
    char name[64];
    manifest_file f = {.id = 12, .day = 20759, .kind = MANIFEST_SEGMENT};
    manifest_file_name(name, sizeof name, &f);
    ck_assert_str_eq(name, "20261102-000012.seg"); /* day 20759 is 2026-11-02 */
    f.kind = MANIFEST_PART;
    f.day = 0;
    manifest_file_name(name, sizeof name, &f);
    ck_assert_str_eq(name, "19700101-000012.part");
    int y;
    unsigned mo, d;
    anpr_civil_from_day(11016, &y, &mo, &d); /* 2000-02-29 */
    ck_assert_int_eq(y, 2000);
    ck_assert_uint_eq(mo, 2);
    ck_assert_uint_eq(d, 29);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("manifest");
    TCase *tc = tcase_create("manifest");
    tcase_add_test(tc, encode_decode);
    tcase_add_test(tc, every_flip_and_truncation_refused);
    tcase_add_test(tc, publish_and_load);
    tcase_add_test(tc, file_names);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
