/*
 * The flush's sort: rows of several days and cameras, arriving nearly in
 * time order with late rows, reversed stretches and resent copies, come out
 * in segment order (day, camera, ts_ms, plate) with each read once, exactly
 * as a plain comparison sort and dedupe would give.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "anpr/anpr.h"
#include "common/bigmem.h"
#include "read/read.h"
#include "store/store.h"
#include "testutil.h"

static uint64_t rng = 0x2545f4914f6cdd1dull;
static uint64_t next(void)
{
    return tu_rand(&rng);
}

static int ref_cmp(const void *pa, const void *pb)
{
    const anpr_row *a = pa, *b = pb;
    int32_t da = anpr_day_of(a->ts_ms), db = anpr_day_of(b->ts_ms);
    if (da != db) return da < db ? -1 : 1;
    return row_key_cmp(a, b);
}

/* Sort a copy with the library, and another with qsort + dedupe; compare keys. */
static void check_sort(const anpr_row *in, size_t n)
{
    /* The sort swaps the buffer with its spare, so both come from the same allocator. */
    size_t cap = n + 7;
    anpr_row *rows = big_alloc(cap * sizeof *rows), *ref = malloc((n ? n : 1) * sizeof *ref);
    memcpy(rows, in, n * sizeof *rows);
    memcpy(ref, in, n * sizeof *ref);
    qsort(ref, n, sizeof *ref, ref_cmp);
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (m == 0 || ref_cmp(&ref[m - 1], &ref[i]) != 0) ref[m++] = ref[i];

    sort_scratch sc = {0};
    size_t got = n;
    ck_assert_int_eq(rows_sort_dedup(&rows, &got, &cap, &sc), 0);
    ck_assert_uint_eq(got, m);
    ck_assert_uint_ge(cap, got);
    for (size_t i = 0; i < m; i++) ck_assert_msg(ref_cmp(&rows[i], &ref[i]) == 0, "row %zu of %zu differs", i, m);
    /* Run again on the sorted output with the same scratch: nothing changes. */
    ck_assert_int_eq(rows_sort_dedup(&rows, &got, &cap, &sc), 0);
    ck_assert_uint_eq(got, m);
    for (size_t i = 0; i < m; i++) ck_assert(ref_cmp(&rows[i], &ref[i]) == 0);
    sort_scratch_free(&sc);
    big_free(rows, cap * sizeof *rows);
    free(ref);
}

static void fill_row(anpr_row *r, int64_t ts, uint32_t camera)
{
    memset(r, 0, sizeof *r);
    r->ts_ms = ts;
    r->camera = camera;
    snprintf(r->plate, sizeof r->plate, "P%llu", (unsigned long long)(next() % 50));
}

START_TEST(traffic_with_late_and_resent_reads)
{
    enum { N = 200000 };
    anpr_row *in = malloc(N * sizeof *in);
    static const uint32_t cams[] = {1, 2, 3, 77, 4095, 4096, 65536, 4000000000u, UINT32_MAX};
    int64_t t0 = INT64_C(20759) * 86400000;
    for (size_t i = 0; i < N; i++) {
        /* Mostly in time order over three days. */
        int64_t ts = t0 + (int64_t)i * (3 * 86400000 / N) + (int64_t)(next() % 5);
        uint32_t cam = cams[next() % (sizeof cams / sizeof cams[0])];
        if (next() % 50 == 0) ts -= (int64_t)(next() % (2 * 86400000)); /* late, up to two days */
        if (ts < t0) ts = t0;
        fill_row(&in[i], ts, cam);
        if (i > 0 && next() % 30 == 0) in[i] = in[next() % i]; /* a resend of an earlier read */
    }
    /* A camera that sent an hour of buffered reads newest first. */
    for (size_t i = 0; i < 5000; i++) fill_row(&in[N - 5000 + i], t0 + 3600000 - (int64_t)i * 700, 42);
    check_sort(in, N);
    free(in);
}
END_TEST

START_TEST(small_and_degenerate)
{
    anpr_row r[64];
    memset(r, 0, sizeof r);
    check_sort(r, 0);
    fill_row(&r[0], 1000, 5);
    check_sort(r, 1);
    /* All copies of one read. */
    for (int i = 1; i < 64; i++) r[i] = r[0];
    check_sort(r, 64);
    /* Equal times, plates deciding the order; one camera, strictly descending. */
    for (int i = 0; i < 64; i++) {
        fill_row(&r[i], 1000 - (i % 8), 9);
        snprintf(r[i].plate, sizeof r[i].plate, "Z%02d", 63 - i);
    }
    check_sort(r, 64);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("sort");
    TCase *tc = tcase_create("sort");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, traffic_with_late_and_resent_reads);
    tcase_add_test(tc, small_and_degenerate);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
