/*
 * Sorting buffered reads into segment order, (day, camera, ts_ms, plate),
 * and dropping resent duplicates. A comparison sort spent most of the
 * ingest time here; instead rows are grouped by day with a counting pass,
 * then each day is radix-sorted on a 64-bit key (camera << 27 | ms of the
 * day; a day has fewer than 2^27 ms), and the rare rows that share camera
 * and millisecond are ordered by plate afterwards.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "read/read.h"
#include "store/store.h"

typedef struct keyed {
    uint64_t key;
    uint64_t idx;
} keyed;

#define RADIX_BITS 16
#define RADIX_PASSES 4 /* 59 key bits in 16-bit digits */

#define RADIX_BUCKETS ((size_t)1 << RADIX_BITS)

static void radix_sort(keyed *a, keyed *tmp, size_t n, size_t *count)
{
    const size_t buckets = RADIX_BUCKETS;
    for (unsigned pass = 0; pass < RADIX_PASSES; pass++) {
        unsigned shift = pass * RADIX_BITS;
        memset(count, 0, buckets * sizeof *count);
        for (size_t i = 0; i < n; i++) count[(a[i].key >> shift) & (buckets - 1)]++;
        size_t sum = 0;
        for (size_t b = 0; b < buckets; b++) {
            size_t c = count[b];
            count[b] = sum;
            sum += c;
        }
        for (size_t i = 0; i < n; i++) tmp[count[(a[i].key >> shift) & (buckets - 1)]++] = a[i];
        keyed *t = a;
        a = tmp;
        tmp = t;
    }
    /* An even number of passes leaves the result where it started. */
}

int rows_sort_dedup(anpr_row **rows_io, size_t *n_io)
{
    anpr_row *rows = *rows_io;
    size_t n = *n_io;
    if (n == 0) return 0;
    keyed *a = malloc(n * sizeof *a), *tmp = malloc(n * sizeof *tmp);
    anpr_row *out = malloc(n * sizeof *out);
    size_t *count = malloc(RADIX_BUCKETS * sizeof *count);
    if (!a || !tmp || !out || !count) {
        free(a);
        free(tmp);
        free(out);
        free(count);
        return -ENOMEM;
    }
    /* Days: the buffer rarely spans more than three, so find them by scanning. */
    int32_t lo = INT32_MAX, hi = INT32_MIN;
    for (size_t i = 0; i < n; i++) {
        int32_t d = anpr_day_of(rows[i].ts_ms);
        if (d < lo) lo = d;
        if (d > hi) hi = d;
    }
    size_t k = 0;
    for (int64_t day = lo; day <= hi; day++) {
        size_t m = 0;
        int64_t base = day * ANPR_DAY_MS;
        for (size_t i = 0; i < n; i++) {
            if (anpr_day_of(rows[i].ts_ms) != day) continue;
            a[m].key = ((uint64_t)rows[i].camera << 27) | (uint64_t)(rows[i].ts_ms - base);
            a[m].idx = i;
            m++;
        }
        if (m == 0) continue;
        radix_sort(a, tmp, m, count);
        size_t day_start = k;
        for (size_t i = 0; i < m; i++) {
            const anpr_row *r = &rows[a[i].idx];
            /* Same camera and millisecond: insert by plate (runs are tiny). */
            size_t j = k;
            while (j > day_start && out[j - 1].camera == r->camera && out[j - 1].ts_ms == r->ts_ms &&
                   memcmp(out[j - 1].plate, r->plate, sizeof r->plate) > 0) {
                out[j] = out[j - 1];
                j--;
            }
            /* A resend of a read already placed: keep the first copy. */
            if (j > day_start && row_key_cmp(&out[j - 1], r) == 0) {
                memmove(&out[j], &out[j + 1], (k - j) * sizeof *out);
                continue;
            }
            out[j] = *r;
            k++;
        }
        if (day == hi) break;
    }
    free(a);
    free(tmp);
    free(count);
    free(rows);
    *rows_io = out;
    *n_io = k;
    return 0;
}
