/* The synthetic workload: deterministic, at the volume asked, with the realism it promises. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "anpr/anpr.h"
#include "synth.h"
#include "testutil.h"

#define DAY_MS INT64_C(86400000)

typedef struct summary {
    size_t n, late, mobile, hour3, hour8, misfits;
    uint64_t hash;
} summary;

static summary run(uint64_t seed, uint64_t per_day, uint32_t days)
{
    synth_config c;
    synth_config_default(&c, per_day);
    c.seed = seed;
    c.days = days;
    synth *s;
    ck_assert_int_eq(synth_new(&s, &c), 0);
    summary sum = {0};
    anpr_read r[1000];
    size_t n;
    int64_t newest = 0;
    while ((n = synth_next(s, r, 1000)) > 0) {
        for (size_t i = 0; i < n; i++) {
            sum.n++;
            char norm[ANPR_PLATE_MAX + 1];
            if (anpr_plate_normalise(norm, r[i].plate) != ANPR_READ_OK) sum.misfits++;
            if (r[i].confidence > 100 || r[i].lat_e7 < 490000000 || r[i].lat_e7 > 600000000 ||
                r[i].lon_e7 < -80000000 || r[i].lon_e7 > 30000000)
                sum.misfits++;
            if (r[i].ts_ms < c.start_ms || r[i].ts_ms >= c.start_ms + (int64_t)days * DAY_MS) sum.misfits++;
            /* Arrival after a read captured more than a minute later means this one came late. */
            if (r[i].ts_ms + 60000 < newest) sum.late++;
            if (r[i].ts_ms > newest) newest = r[i].ts_ms;
            int hour = (int)((r[i].ts_ms % DAY_MS) / 3600000);
            sum.hour3 += hour == 3;
            sum.hour8 += hour == 8;
            sum.mobile += r[i].lat_e7 % 1000 != 0; /* fixed sites sit on the camera's own position */
            for (const char *p = r[i].plate; *p; p++) sum.hash = sum.hash * 31 + (uint8_t)*p;
            sum.hash = sum.hash * 31 + (uint64_t)r[i].ts_ms + r[i].camera;
        }
    }
    synth_free(s);
    return sum;
}

START_TEST(deterministic_and_sized)
{
    summary a = run(7, 100000, 2), b = run(7, 100000, 2), c = run(8, 100000, 2);
    ck_assert_uint_eq(a.hash, b.hash);
    ck_assert_uint_ne(a.hash, c.hash);
    /* 2 days of 100k capture reads, plus about 0.2% resent. */
    ck_assert_uint_ge(a.n, 200000);
    ck_assert_uint_le(a.n, 201000);
    ck_assert_uint_eq(a.misfits, 0);
}
END_TEST

START_TEST(realistic_shape)
{
    summary a = run(3, 200000, 1);
    /* About 0.5% late, up to 48 h. */
    ck_assert_uint_gt(a.late, 200000 / 1000);
    ck_assert_uint_lt(a.late, 200000 / 50);
    /* 03:00 is a small fraction of 08:00. */
    ck_assert_uint_lt(a.hour3 * 4, a.hour8);
    ck_assert_uint_gt(a.hour3, 0);
}
END_TEST

START_TEST(plates_follow_uk_rules)
{
    synth_config c;
    synth_config_default(&c, 50000);
    synth *s;
    ck_assert_int_eq(synth_new(&s, &c), 0);
    anpr_read r[1000];
    size_t n, current = 0, total = 0, misreads_possible = 0, tag_violations = 0;
    while ((n = synth_next(s, r, 1000)) > 0) {
        for (size_t i = 0; i < n; i++) {
            char p[ANPR_PLATE_MAX + 1];
            ck_assert_int_eq(anpr_plate_normalise(p, r[i].plate), ANPR_READ_OK);
            total++;
            /*
             * Current format AB12CDE: no I, Q, Z in the memory tag. Misreads (O/D -> Q) and the
             * odd foreign plate of that shape break the rule now and then; rarely.
             */
            if (strlen(p) == 7 && p[0] >= 'A' && p[1] >= 'A' && p[2] <= '9' && p[3] <= '9' && p[4] >= 'A' &&
                p[5] >= 'A' && p[6] >= 'A') {
                current++;
                tag_violations += strchr("IQZ", p[0]) != NULL || strchr("IQZ", p[1]) != NULL;
            }
            misreads_possible += strpbrk(p, "0ODQ1I2Z5S8B6G") != NULL;
        }
    }
    synth_free(s);
    ck_assert_uint_gt(current * 100, total * 70); /* most plates are the current format */
    ck_assert_uint_lt(tag_violations * 100, current);
    ck_assert_uint_gt(misreads_possible, total / 2);
}
END_TEST

START_TEST(csv_lines)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    anpr_read r[2] = {
        {.ts_ms = 1762071330123, .plate = "AB12 CDE", .camera = 7, .lane = 1, .direction = 0,
         .confidence = 93, .lat_e7 = 515074000, .lon_e7 = -1278000},
        {.ts_ms = 5, .plate = "X1", .camera = 0, .lane = 2, .direction = 1, .confidence = 0,
         .lat_e7 = ANPR_POS_UNKNOWN, .lon_e7 = ANPR_POS_UNKNOWN},
    };
    ck_assert_int_eq(synth_csv_header(f), 0);
    ck_assert_int_eq(synth_csv_write(f, r, 2), 0);
    fclose(f);
    ck_assert_str_eq(buf, "ts_ms,plate,camera,lane,direction,confidence,lat,lon\n"
                          "1762071330123,AB12 CDE,7,1,0,93,51.5074000,-0.1278000\n"
                          "5,X1,0,2,1,0,,\n");
    free(buf);
    synth_config c;
    synth_config_default(&c, 1000);
    c.start_ms = 5; /* not midnight */
    synth *s;
    ck_assert_int_eq(synth_new(&s, &c), -22);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("synth");
    TCase *tc = tcase_create("synth");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, deterministic_and_sized);
    tcase_add_test(tc, realistic_shape);
    tcase_add_test(tc, plates_follow_uk_rules);
    tcase_add_test(tc, csv_lines);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
