/* The CSV reader of `anpr ingest`: columns by name, exact numbers, every bad line named. */
#define _GNU_SOURCE
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "anpr/anpr.h"
#include "csv.h"
#include "testutil.h"

static FILE *mem(const char *text)
{
    return fmemopen((void *)text, strlen(text), "r");
}

START_TEST(good_file_any_column_order)
{
    FILE *f = mem("lon,plate,extra,camera,lane,direction,confidence,lat,ts_ms\r\n"
                  "-0.1278,ab12 cde,x,7,1,0,93,51.5074,1762071330123\r\n"
                  "\r\n"
                  ",\"X \"\"1\"\"\",y,0,2,1,0,,5\n");
    csv_reader *r;
    char err[256], plate[CSV_PLATE_MAX];
    ck_assert_int_eq(csv_open(&r, f, err, sizeof err), 0);
    anpr_read rd;
    ck_assert_int_eq(csv_next(r, &rd, plate, err, sizeof err), 1);
    ck_assert_int_eq(rd.ts_ms, 1762071330123);
    ck_assert_str_eq(rd.plate, "ab12 cde");
    ck_assert_uint_eq(rd.camera, 7);
    ck_assert_uint_eq(rd.confidence, 93);
    ck_assert_int_eq(rd.lat_e7, 515074000);
    ck_assert_int_eq(rd.lon_e7, -1278000);
    ck_assert_uint_eq(csv_line(r), 2);
    ck_assert_int_eq(csv_next(r, &rd, plate, err, sizeof err), 1);
    ck_assert_str_eq(rd.plate, "X \"1\"");
    ck_assert_int_eq(rd.lat_e7, ANPR_POS_UNKNOWN);
    ck_assert_int_eq(rd.lon_e7, ANPR_POS_UNKNOWN);
    ck_assert_uint_eq(csv_line(r), 4);
    ck_assert_int_eq(csv_next(r, &rd, plate, err, sizeof err), 0);
    csv_close(r);
    fclose(f);
}
END_TEST

START_TEST(iso_times)
{
    int64_t ms;
    ck_assert_int_eq(csv_parse_time("2026-11-02T08:15:30Z", &ms), 0);
    ck_assert_int_eq(ms, INT64_C(1793607330000));
    ck_assert_int_eq(csv_parse_time("2026-11-02T08:15:30.123Z", &ms), 0);
    ck_assert_int_eq(ms, INT64_C(1793607330123));
    ck_assert_int_eq(csv_parse_time("2026-11-02 08:15:30.1+00:00", &ms), 0);
    ck_assert_int_eq(ms, INT64_C(1793607330100));
    ck_assert_int_eq(csv_parse_time("1970-01-01T00:00:00Z", &ms), 0);
    ck_assert_int_eq(ms, 0);
    ck_assert_int_eq(csv_parse_time("2024-02-29T00:00:00Z", &ms), 0);
    ck_assert_int_eq(csv_parse_time("2023-02-29T00:00:00Z", &ms), -1);
    ck_assert_int_eq(csv_parse_time("2026-13-02T08:15:30Z", &ms), -1);
    ck_assert_int_eq(csv_parse_time("2026-11-02T08:15:30+01:00", &ms), -1);
    ck_assert_int_eq(csv_parse_time("yesterday", &ms), -1);
    ck_assert_int_eq(csv_parse_time("", &ms), -1);
}
END_TEST

START_TEST(exact_degrees)
{
    int32_t v;
    ck_assert_int_eq(csv_parse_degrees("51.5074000", &v), 0);
    ck_assert_int_eq(v, 515074000);
    ck_assert_int_eq(csv_parse_degrees("-0.1278", &v), 0);
    ck_assert_int_eq(v, -1278000);
    ck_assert_int_eq(csv_parse_degrees("-180", &v), 0);
    ck_assert_int_eq(v, -1800000000);
    ck_assert_int_eq(csv_parse_degrees("0.0000001", &v), 0);
    ck_assert_int_eq(v, 1);
    ck_assert_int_eq(csv_parse_degrees("1e5", &v), -1);
    ck_assert_int_eq(csv_parse_degrees("0.00000001", &v), -1);
    ck_assert_int_eq(csv_parse_degrees("300", &v), -1);
    ck_assert_int_eq(csv_parse_degrees("", &v), -1);
    ck_assert_int_eq(csv_parse_degrees("-", &v), -1);
}
END_TEST

START_TEST(bad_lines_named_and_skipped)
{
    static char text[200000];
    strcpy(text, "ts,plate,camera,lane,direction,confidence,lat,lon\n"
                 "2026-11-02T08:00:00Z,AB12CDE,12x,1,0,90,,\n"
                 "2026-11-02T08:00:00Z,AB12CDE,1,256,0,90,,\n"
                 "not-a-time,AB12CDE,1,1,0,90,,\n"
                 "2026-11-02T08:00:00Z,AB12CDE,1,1,0,90,51.5,\n"
                 "2026-11-02T08:00:00Z,AB12CDE,1,1,0,90,51.5,abc\n"
                 "2026-11-02T08:00:00Z,AB12CDE,1,1\n"
                 "2026-11-02T08:00:00Z,\"AB12CDE,1,1,0,90,,\n");
    size_t len = strlen(text);
    memset(text + len, 'x', 70000);
    strcpy(text + len + 70000, "\n2026-11-02T08:00:00Z,GOOD1,1,1,0,90,,\n");
    FILE *f = mem(text);
    csv_reader *r;
    char err[256], plate[CSV_PLATE_MAX];
    ck_assert_int_eq(csv_open(&r, f, err, sizeof err), 0);
    anpr_read rd;
    const char *expect[] = {
        "line 2: camera: \"12x\" is not an integer from 0 to 4294967295",
        "line 3: lane: \"256\" is not an integer from 0 to 255",
        "line 4: ts: \"not-a-time\" is not an ISO-8601 UTC time",
        "line 5: lon: empty while lat is given",
        "line 6: lon: \"abc\" is not decimal degrees with at most 7 places",
        "line 7: 4 fields, the header has 8",
        "line 8: a quoted field is not closed properly",
        "line 9: longer than 65536 bytes",
    };
    for (size_t i = 0; i < sizeof expect / sizeof expect[0]; i++) {
        ck_assert_int_eq(csv_next(r, &rd, plate, err, sizeof err), -1);
        ck_assert_str_eq(err, expect[i]);
    }
    ck_assert_int_eq(csv_next(r, &rd, plate, err, sizeof err), 1);
    ck_assert_str_eq(rd.plate, "GOOD1");
    ck_assert_uint_eq(csv_line(r), 10);
    csv_close(r);
    fclose(f);
}
END_TEST

START_TEST(headers_refused)
{
    const char *bad[][2] = {
        {"", "empty input: expected a header row"},
        {"plate,camera,lane,direction,confidence\n", "line 1: the header has no column ts_ms (or ts)"},
        {"ts_ms,plate,lane,direction,confidence\n", "line 1: the header has no column camera"},
        {"ts_ms,plate,camera,lane,direction,confidence,lat\n", "line 1: the header has no column lon"},
        {"ts_ms,plate,plate,camera,lane,direction,confidence\n", "line 1: column plate appears twice"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        FILE *f = bad[i][0][0] ? mem(bad[i][0]) : fopen("/dev/null", "r");
        csv_reader *r;
        char err[256] = "";
        ck_assert_int_lt(csv_open(&r, f, err, sizeof err), 0);
        ck_assert_ptr_null(r);
        ck_assert_str_eq(err, bad[i][1]);
        fclose(f);
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("csv");
    TCase *tc = tcase_create("csv");
    tcase_add_test(tc, good_file_any_column_order);
    tcase_add_test(tc, iso_times);
    tcase_add_test(tc, exact_degrees);
    tcase_add_test(tc, bad_lines_named_and_skipped);
    tcase_add_test(tc, headers_refused);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
