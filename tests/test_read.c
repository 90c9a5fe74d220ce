/* Plate normalisation, misread folding and the validation of every field. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "anpr/anpr.h"
#include "read/read.h"
#include "testutil.h"

static const read_limits lim = {
    .max_ts_ms = INT64_C(1800000000000), /* 2027-01-15 */
    .min_kept_ms = 0,
};

static anpr_read good_read(void)
{
    anpr_read r = {
        .ts_ms = INT64_C(1764547200000), .plate = "AB12 CDE", .camera = 42, .lane = 2,
        .direction = 1, .confidence = 91, .lat_e7 = 515074000, .lon_e7 = -1278000,
    };
    return r;
}

START_TEST(normalise_strips_and_upcases)
{
    char out[ANPR_PLATE_MAX + 1];
    ck_assert_int_eq(anpr_plate_normalise(out, "ab12 cde"), ANPR_READ_OK);
    ck_assert_str_eq(out, "AB12CDE");
    ck_assert_int_eq(anpr_plate_normalise(out, "  AB-12-CDE "), ANPR_READ_OK);
    ck_assert_str_eq(out, "AB12CDE");
    ck_assert_int_eq(anpr_plate_normalise(out, "X"), ANPR_READ_OK);
    ck_assert_str_eq(out, "X");
    ck_assert_int_eq(anpr_plate_normalise(out, "ABCDEFGHIJKLMNO"), ANPR_READ_OK);
    ck_assert_str_eq(out, "ABCDEFGHIJKLMNO");
    /* 15 characters once the separators are gone is still fine. */
    ck_assert_int_eq(anpr_plate_normalise(out, "ABCDE FGHIJ KLMNO"), ANPR_READ_OK);
    ck_assert_str_eq(out, "ABCDEFGHIJKLMNO");
}
END_TEST

START_TEST(normalise_refuses)
{
    char out[ANPR_PLATE_MAX + 1];
    ck_assert_int_eq(anpr_plate_normalise(out, NULL), ANPR_READ_PLATE_MISSING);
    ck_assert_int_eq(anpr_plate_normalise(out, ""), ANPR_READ_PLATE_EMPTY);
    ck_assert_int_eq(anpr_plate_normalise(out, " - -"), ANPR_READ_PLATE_EMPTY);
    ck_assert_int_eq(anpr_plate_normalise(out, "ABCDEFGHIJKLMNOP"), ANPR_READ_PLATE_TOO_LONG);
    ck_assert_int_eq(anpr_plate_normalise(out, "AB12*CDE"), ANPR_READ_PLATE_BAD_CHAR);
    ck_assert_int_eq(anpr_plate_normalise(out, "AB12\tCDE"), ANPR_READ_PLATE_BAD_CHAR);
    ck_assert_int_eq(anpr_plate_normalise(out, "\xc3\x84""B12"), ANPR_READ_PLATE_BAD_CHAR);
    ck_assert_str_eq(out, "");
}
END_TEST

/*
 * Every byte value, between letters: ASCII letters and digits are kept (upper
 * case), space and hyphen dropped, anything else refused as a bad character.
 */
START_TEST(normalise_every_byte)
{
    for (unsigned b = 1; b < 256; b++) {
        char in[4] = {'A', (char)b, '1', 0}, out[ANPR_PLATE_MAX + 1];
        int rc = anpr_plate_normalise(out, in);
        if ((b >= 'A' && b <= 'Z') || (b >= '0' && b <= '9')) {
            ck_assert_int_eq(rc, ANPR_READ_OK);
            ck_assert_str_eq(out, in);
        } else if (b >= 'a' && b <= 'z') {
            ck_assert_int_eq(rc, ANPR_READ_OK);
            ck_assert_int_eq(out[1], (char)(b - 'a' + 'A'));
            ck_assert_uint_eq(strlen(out), 3);
        } else if (b == ' ' || b == '-') {
            ck_assert_int_eq(rc, ANPR_READ_OK);
            ck_assert_str_eq(out, "A1");
        } else {
            ck_assert_msg(rc == ANPR_READ_PLATE_BAD_CHAR, "byte %u: %d", b, rc);
            ck_assert_str_eq(out, "");
        }
    }
}
END_TEST

START_TEST(fold_classes)
{
    char out[ANPR_PLATE_MAX + 1];
    ck_assert_uint_eq(anpr_plate_fold(out, "ODQIZSBG"), 8);
    ck_assert_str_eq(out, "00012586");
    /* Everything outside the classes passes through unchanged. */
    anpr_plate_fold(out, "ACEFHJKLMNPRTUV");
    ck_assert_str_eq(out, "ACEFHJKLMNPRTUV");
    anpr_plate_fold(out, "WXY0123456789");
    ck_assert_str_eq(out, "WXY0123456789");
    /* A misread and its true plate fold to the same key. */
    char a[ANPR_PLATE_MAX + 1], b[ANPR_PLATE_MAX + 1];
    anpr_plate_fold(a, "AB12CDE");
    anpr_plate_fold(b, "A812C0E");
    ck_assert_str_eq(a, b);
    /* In place. */
    strcpy(out, "BOB");
    anpr_plate_fold(out, out);
    ck_assert_str_eq(out, "808");
}
END_TEST

START_TEST(validate_good)
{
    anpr_read in = good_read();
    anpr_row row;
    ck_assert_int_eq(read_validate(&row, &in, &lim), ANPR_READ_OK);
    ck_assert_str_eq(row.plate, "AB12CDE");
    ck_assert_int_eq(row.ts_ms, in.ts_ms);
    ck_assert_uint_eq(row.camera, 42);
    ck_assert_uint_eq(row.lane, 2);
    ck_assert_uint_eq(row.direction, 1);
    ck_assert_uint_eq(row.confidence, 91);
    ck_assert_int_eq(row.lat_e7, 515074000);
    ck_assert_int_eq(row.lon_e7, -1278000);
    /* Unknown position and the range limits themselves are fine. */
    in.lat_e7 = in.lon_e7 = ANPR_POS_UNKNOWN;
    ck_assert_int_eq(read_validate(&row, &in, &lim), ANPR_READ_OK);
    in.lat_e7 = 900000000;
    in.lon_e7 = -1800000000;
    in.confidence = 100;
    in.ts_ms = 0;
    ck_assert_int_eq(read_validate(&row, &in, &lim), ANPR_READ_OK);
    in.ts_ms = lim.max_ts_ms;
    ck_assert_int_eq(read_validate(&row, &in, &lim), ANPR_READ_OK);
}
END_TEST

START_TEST(validate_each_field)
{
    anpr_row row;
    anpr_read in;
    in = good_read(); in.plate = "";
    ck_assert_int_eq(read_validate(&row, &in, &lim), ANPR_READ_PLATE_EMPTY);
    in = good_read(); in.ts_ms = -1;
    ck_assert_int_eq(read_validate(&row, &in, &lim), ANPR_READ_TS_BEFORE_EPOCH);
    in = good_read(); in.ts_ms = lim.max_ts_ms + 1;
    ck_assert_int_eq(read_validate(&row, &in, &lim), ANPR_READ_TS_FUTURE);
    in = good_read(); in.confidence = 101;
    ck_assert_int_eq(read_validate(&row, &in, &lim), ANPR_READ_CONFIDENCE_RANGE);
    in = good_read(); in.lat_e7 = 900000001;
    ck_assert_int_eq(read_validate(&row, &in, &lim), ANPR_READ_LAT_RANGE);
    in = good_read(); in.lon_e7 = -1800000001;
    ck_assert_int_eq(read_validate(&row, &in, &lim), ANPR_READ_LON_RANGE);
    in = good_read(); in.lat_e7 = ANPR_POS_UNKNOWN;
    ck_assert_int_eq(read_validate(&row, &in, &lim), ANPR_READ_POS_PARTIAL);
    read_limits kept = lim;
    kept.min_kept_ms = good_read().ts_ms + 1;
    in = good_read();
    ck_assert_int_eq(read_validate(&row, &in, &kept), ANPR_READ_TS_EXPIRED);
}
END_TEST

START_TEST(verdict_texts_name_their_field)
{
    for (int v = 1; v < ANPR_READ_VERDICT_COUNT; v++) {
        const char *field = anpr_verdict_field(v);
        const char *text = anpr_verdict_str(v);
        ck_assert_ptr_nonnull(field);
        ck_assert_int_gt((int)strlen(field), 0);
        /* The text starts with the field's name, so one line tells a person what to fix. */
        ck_assert_int_eq(strncmp(text, field, strlen(field)), 0);
    }
    ck_assert_str_eq(anpr_verdict_str(-1), "unknown verdict");
    ck_assert_str_eq(anpr_verdict_str(ANPR_READ_VERDICT_COUNT), "unknown verdict");
}
END_TEST

START_TEST(strerror_covers_codes)
{
    int codes[] = {ANPR_OK, ANPR_EINVAL, ANPR_EBADREAD, ANPR_ECORRUPT, ANPR_ELOCKED,
                   ANPR_EVERSION, ANPR_EREADONLY, ANPR_EBUSY, ANPR_EEXPIRED, ANPR_ENOTSTORE};
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++)
        ck_assert_str_ne(anpr_strerror(codes[i]), "unknown status");
    ck_assert_str_eq(anpr_strerror(-28), "No space left on device");
    ck_assert_str_eq(anpr_strerror(-99999), "unknown status");
    ck_assert_uint_eq(anpr_version_number(), ANPR_VERSION_NUMBER);
    ck_assert_str_eq(anpr_version_string(), "0.1.0");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("read");
    TCase *tc = tcase_create("plate");
    tcase_add_test(tc, normalise_strips_and_upcases);
    tcase_add_test(tc, normalise_refuses);
    tcase_add_test(tc, normalise_every_byte);
    tcase_add_test(tc, fold_classes);
    suite_add_tcase(s, tc);
    tc = tcase_create("validate");
    tcase_add_test(tc, validate_good);
    tcase_add_test(tc, validate_each_field);
    tcase_add_test(tc, verdict_texts_name_their_field);
    tcase_add_test(tc, strerror_covers_codes);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
