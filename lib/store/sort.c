/*
 * Sorting buffered reads into segment order, (day, camera, ts_ms, plate),
 * and dropping resent duplicates.
 *
 * Reads arrive nearly in capture order, so only (day, camera) needs a real
 * sort: the rows themselves are radix-sorted on it, least significant digit
 * first (stable, and every pass streams memory in order; sorting indexes and
 * gathering the rows afterwards cost a cache miss a row). Each run of one
 * camera's day is then put in time order by lifting out the few rows that
 * arrived late, sorting those and merging them back: linear on the usual
 * input, and never worse than a merge sort.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/bigmem.h"
#include "read/read.h"
#include "store/store.h"

/* 11-bit digits: the 2048 counters and scatter streams stay in L1 and the TLB. */
#define RADIX_BITS 11
#define RADIX_BUCKETS ((size_t)1 << RADIX_BITS)

void sort_scratch_free(sort_scratch *sc)
{
    big_free(sc->spare, sc->spare_cap * sizeof *sc->spare);
    free(sc->count);
    memset(sc, 0, sizeof *sc);
}

static unsigned width(uint64_t v)
{
    return v ? 64u - (unsigned)__builtin_clzll(v) : 0u;
}

/* The order within one camera's day. */
static int ts_plate_cmp(const anpr_row *a, const anpr_row *b)
{
    if (a->ts_ms != b->ts_ms) return a->ts_ms < b->ts_ms ? -1 : 1;
    return memcmp(a->plate, b->plate, sizeof a->plate);
}

/* Stable bottom-up merge sort of r[0..n) by (ts_ms, plate), with tmp of n rows. */
static void merge_sort(anpr_row *r, anpr_row *tmp, size_t n)
{
    anpr_row *src = r, *dst = tmp;
    for (size_t w = 1; w < n; w *= 2) {
        for (size_t lo = 0; lo < n; lo += 2 * w) {
            size_t mid = lo + w < n ? lo + w : n, hi = lo + 2 * w < n ? lo + 2 * w : n;
            size_t i = lo, j = mid, k = lo;
            while (i < mid && j < hi) dst[k++] = ts_plate_cmp(&src[j], &src[i]) < 0 ? src[j++] : src[i++];
            while (i < mid) dst[k++] = src[i++];
            while (j < hi) dst[k++] = src[j++];
        }
        anpr_row *t = src;
        src = dst;
        dst = t;
    }
    if (src != r) memcpy(r, src, n * sizeof *r);
}

/*
 * Put one run in (ts_ms, plate) order. Reads come nearly in capture order,
 * with a few late ones: rows that keep the order stay where they are
 * (compacted), the others are lifted out to tmp, sorted, and merged back
 * from the end. O(n + k log k) for k late rows. Copies of one read end up
 * adjacent, which is all the dedupe after it needs.
 */
static void sort_run(anpr_row *r, size_t n, anpr_row *tmp)
{
    size_t kept = 0, late = 0;
    for (size_t i = 0; i < n; i++) {
        if (kept == 0 || ts_plate_cmp(&r[kept - 1], &r[i]) <= 0)
            r[kept++] = r[i];
        else
            tmp[late++] = r[i];
    }
    if (late == 0) return;
    /* The late rows' old places, r[kept..n), are free: the merge sort's scratch. */
    merge_sort(tmp, r + kept, late);
    /* Merge the two sorted sequences into r from the back. */
    size_t i = kept, j = late, k = n;
    while (j > 0) {
        if (i > 0 && ts_plate_cmp(&r[i - 1], &tmp[j - 1]) > 0)
            r[--k] = r[--i];
        else
            r[--k] = tmp[--j];
    }
}

int rows_sort_dedup(anpr_row **rows_io, size_t *n_io, size_t *cap_io, sort_scratch *sc)
{
    anpr_row *rows = *rows_io;
    size_t n = *n_io;
    if (n == 0) return 0;
    /* Sized to the buffer's capacity, not n, so the next flush finds it big enough. */
    size_t want = *cap_io > n ? *cap_io : n;
    if (sc->spare_cap < want) {
        big_free(sc->spare, sc->spare_cap * sizeof *sc->spare);
        sc->spare = big_alloc(want * sizeof *sc->spare);
        sc->spare_cap = sc->spare ? want : 0;
    }
    if (!sc->count) sc->count = malloc(RADIX_BUCKETS * sizeof *sc->count);
    if (!sc->spare || !sc->count) {
        sort_scratch_free(sc);
        return -ENOMEM;
    }

    /* The key is (day - first day) above the camera id, in as few bits as the buffer needs. */
    int32_t lo = INT32_MAX, hi = INT32_MIN;
    uint32_t cam_max = 0;
    for (size_t i = 0; i < n; i++) {
        int32_t d = anpr_day_of(rows[i].ts_ms);
        if (d < lo) lo = d;
        if (d > hi) hi = d;
        if (rows[i].camera > cam_max) cam_max = rows[i].camera;
    }
    unsigned cam_bits = width(cam_max), key_bits = cam_bits + width((uint64_t)(hi - lo));
    anpr_row *src = rows, *dst = sc->spare;
    size_t *count = sc->count;
    for (unsigned shift = 0; shift < key_bits; shift += RADIX_BITS) {
        memset(count, 0, RADIX_BUCKETS * sizeof *count);
#define DIGIT(r) (((((uint64_t)(anpr_day_of((r)->ts_ms) - lo) << cam_bits) | (r)->camera) >> shift) & (RADIX_BUCKETS - 1))
        for (size_t i = 0; i < n; i++) count[DIGIT(&src[i])]++;
        size_t sum = 0;
        for (size_t b = 0; b < RADIX_BUCKETS; b++) {
            size_t c = count[b];
            count[b] = sum;
            sum += c;
        }
        for (size_t i = 0; i < n; i++) dst[count[DIGIT(&src[i])]++] = src[i];
#undef DIGIT
        anpr_row *t = src;
        src = dst;
        dst = t;
    }

    /* Each camera's day in time order; then drop resends (adjacent now), keeping the first copy. */
    size_t k = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i + 1;
        int32_t day = anpr_day_of(src[i].ts_ms);
        while (j < n && src[j].camera == src[i].camera && anpr_day_of(src[j].ts_ms) == day) j++;
        sort_run(src + i, j - i, dst);
        for (size_t m = i; m < j; m++)
            if (k == 0 || row_key_cmp(&src[k - 1], &src[m]) != 0) src[k++] = src[m];
        i = j;
    }

    /* The sorted rows become the buffer; the other array the next spare. */
    if (src != rows) {
        sc->spare = rows;
        size_t spare_cap = sc->spare_cap;
        sc->spare_cap = *cap_io;
        *cap_io = spare_cap;
        *rows_io = src;
    }
    *n_io = k;
    return 0;
}
