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

typedef struct sort_keyed {
    uint64_t key;
    uint64_t idx;
} keyed;

/*
 * 11-bit digits: the 2048 counters and scatter targets stay in L1 and the
 * TLB (16-bit digits were slower: 65536 scatter streams). Only the digits
 * the largest key reaches are sorted on: camera ids are small, so a
 * national day's keys have about 41 bits, four passes.
 */
#define RADIX_BITS 11
#define RADIX_BUCKETS ((size_t)1 << RADIX_BITS)

/* Sort a[0..n) by key, stably; the result is in a (tmp is scratch of n). */
static void radix_sort(keyed *a, keyed *tmp, size_t n, size_t *count)
{
    const size_t buckets = RADIX_BUCKETS;
    uint64_t all = 0;
    for (size_t i = 0; i < n; i++) all |= a[i].key;
    unsigned passes = 0;
    while (passes * RADIX_BITS < 64 && (all >> (passes * RADIX_BITS)) != 0) passes++;
    keyed *src = a;
    for (unsigned pass = 0; pass < passes; pass++) {
        unsigned shift = pass * RADIX_BITS;
        memset(count, 0, buckets * sizeof *count);
        for (size_t i = 0; i < n; i++) count[(src[i].key >> shift) & (buckets - 1)]++;
        size_t sum = 0;
        for (size_t b = 0; b < buckets; b++) {
            size_t c = count[b];
            count[b] = sum;
            sum += c;
        }
        for (size_t i = 0; i < n; i++) tmp[count[(src[i].key >> shift) & (buckets - 1)]++] = src[i];
        keyed *t = src;
        src = tmp;
        tmp = t;
    }
    if (src != a) memcpy(a, src, n * sizeof *a);
}

void sort_scratch_free(sort_scratch *sc)
{
    free(sc->a);
    free(sc->tmp);
    free(sc->spare);
    free(sc->count);
    memset(sc, 0, sizeof *sc);
}

/* Grow an array to hold n items of size sz (contents not kept). */
static int ensure(void **p, size_t *cap, size_t n, size_t sz)
{
    if (*cap >= n && *p) return 0;
    free(*p);
    *p = malloc((n ? n : 1) * sz);
    *cap = *p ? n : 0;
    return *p ? 0 : -ENOMEM;
}

int rows_sort_dedup(anpr_row **rows_io, size_t *n_io, size_t *cap_io, sort_scratch *sc)
{
    anpr_row *rows = *rows_io;
    size_t n = *n_io;
    if (n == 0) return 0;
    /* Sized to the buffer's capacity, not n, so the next flush finds them big enough. */
    size_t want = *cap_io > n ? *cap_io : n;
    size_t kcap = sc->keyed_cap;
    int rc = ensure((void **)&sc->a, &kcap, want, sizeof *sc->a);
    size_t kcap2 = sc->keyed_cap;
    if (rc == 0) rc = ensure((void **)&sc->tmp, &kcap2, want, sizeof *sc->tmp);
    if (rc == 0) sc->keyed_cap = kcap < kcap2 ? kcap : kcap2;
    if (rc == 0) rc = ensure((void **)&sc->spare, &sc->spare_cap, want, sizeof *sc->spare);
    size_t ccap = sc->count ? RADIX_BUCKETS : 0;
    if (rc == 0) rc = ensure((void **)&sc->count, &ccap, RADIX_BUCKETS, sizeof *sc->count);
    if (rc < 0) {
        sort_scratch_free(sc);
        return rc;
    }
    keyed *a = sc->a, *tmp = sc->tmp;
    anpr_row *out = sc->spare;
    size_t *count = sc->count;
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
            /* The gather is random access: ask for rows a few iterations ahead. */
            if (i + 8 < m) __builtin_prefetch(&rows[a[i + 8].idx]);
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
    /* The sorted array becomes the buffer; the unsorted one the next spare. */
    sc->spare = rows;
    size_t spare_cap = sc->spare_cap;
    sc->spare_cap = *cap_io;
    *rows_io = out;
    *cap_io = spare_cap;
    *n_io = k;
    return 0;
}
