/* Every column encoding round-trips on edge cases, and refuses bytes it did not write. */
#include <check.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "anpr/anpr.h"
#include "encode/bitmap_rrr.h"
#include "encode/bitpack.h"
#include "encode/encode.h"
#include "testutil.h"

static const unsigned int_ids[] = {ENC_RAW, ENC_DELTA_BP, ENC_RLE, ENC_FOR_BP, ENC_FOR_BYTES, ENC_DELTA_RICE,
                                    ENC_DELTA_RICE_CK, ENC_HUFF_CK, ENC_DELTA_RICE_CK2};

/* Whether values span at most 256 (what ENC_FOR_BYTES and ENC_HUFF_CK accept). */
static int byte_range(const int64_t *v, size_t n)
{
    int64_t min = n ? v[0] : 0, max = min;
    for (size_t i = 1; i < n; i++) {
        if (v[i] < min) min = v[i];
        if (v[i] > max) max = v[i];
    }
    return (uint64_t)max - (uint64_t)min <= 255;
}

static uint64_t rng = 88172645463325252ull;
static uint64_t next(void)
{
    return tu_rand(&rng);
}

/* Picking rows out (a few, every one, the first, the last) gives what decoding them all gives. */
static void decode_at_agrees(unsigned id, const int64_t *v, size_t n, const enc_buf *b)
{
    if (n == 0) return;
    uint32_t *at = malloc(n * sizeof *at);
    int64_t *got = malloc(n * sizeof *got);
    for (int pattern = 0; pattern < 4; pattern++) {
        size_t nat = 0;
        for (size_t i = 0; i < n; i++) {
            int take = pattern == 0 ? next() % 7 == 0 : pattern == 1 ? 1 : pattern == 2 ? i == 0 : i == n - 1;
            if (take) at[nat++] = (uint32_t)i;
        }
        ck_assert_int_eq(enc_int_decode_at(got, at, nat, n, id, b->data, b->len), 0);
        for (size_t j = 0; j < nat; j++)
            ck_assert_msg(got[j] == v[at[j]], "%s n=%zu row %u", enc_name(id), n, (unsigned)at[j]);
    }
    /* A row past the end is the caller's mistake; a truncated column is refused. */
    at[0] = (uint32_t)n;
    ck_assert_int_eq(enc_int_decode_at(got, at, 1, n, id, b->data, b->len), ANPR_EINVAL);
    at[0] = (uint32_t)n - 1;
    ck_assert_int_ne(enc_int_decode_at(got, at, 1, n, id, b->data, b->len / 2), 0);
    free(at);
    free(got);
}

static void round_trip(const int64_t *v, size_t n)
{
    for (size_t c = 0; c < sizeof int_ids / sizeof int_ids[0]; c++) {
        enc_buf b = {0};
        if ((int_ids[c] == ENC_FOR_BYTES || int_ids[c] == ENC_HUFF_CK) && !byte_range(v, n)) {
            ck_assert_int_eq(enc_int_encode(&b, int_ids[c], v, n), ANPR_EINVAL);
            continue;
        }
        ck_assert_int_eq(enc_int_encode(&b, int_ids[c], v, n), 0);
        /* The sizes the chooser works out without encoding are exactly what the encoders write. */
        size_t size = enc_int_size(int_ids[c], v, n);
        if (int_ids[c] == ENC_DELTA_BP || int_ids[c] == ENC_FOR_BP || int_ids[c] == ENC_RLE)
            ck_assert_msg(size == b.len, "%s n=%zu: size %zu, wrote %zu", enc_name(int_ids[c]), n, size, b.len);
        else
            ck_assert(size == SIZE_MAX);
        int64_t *back = malloc((n + 1) * sizeof *back);
        ck_assert_int_eq(enc_int_decode(back, n, int_ids[c], b.data, b.len), 0);
        for (size_t i = 0; i < n; i++) ck_assert_msg(back[i] == v[i], "%s n=%zu i=%zu", enc_name(int_ids[c]), n, i);
        decode_at_agrees(int_ids[c], v, n, &b);
        /* One byte more or less is refused. */
        if (b.len > 0) ck_assert_int_eq(enc_int_decode(back, n, int_ids[c], b.data, b.len - 1), ANPR_ECORRUPT);
        ck_assert_int_eq(enc_buf_reserve(&b, 1), 0);
        b.data[b.len] = 0;
        ck_assert_int_eq(enc_int_decode(back, n, int_ids[c], b.data, b.len + 1), ANPR_ECORRUPT);
        free(back);
        enc_buf_free(&b);
    }
    enc_buf b = {0};
    unsigned id = 99;
    ck_assert_int_eq(enc_int_encode_best(&b, &id, v, n), 0);
    int64_t *back = malloc((n + 1) * sizeof *back);
    ck_assert_int_eq(enc_int_decode(back, n, id, b.data, b.len), 0);
    for (size_t i = 0; i < n; i++) ck_assert(back[i] == v[i]);
    free(back);
    /* The choice is never larger than the bit-packings, which are always candidates, and is what its id encodes. */
    ck_assert_uint_le(b.len, enc_int_size(ENC_DELTA_BP, v, n));
    ck_assert_uint_le(b.len, enc_int_size(ENC_FOR_BP, v, n));
    enc_buf again = {0};
    ck_assert_int_eq(enc_int_encode(&again, id, v, n), 0);
    ck_assert(again.len == b.len && (b.len == 0 || memcmp(again.data, b.data, b.len) == 0));
    enc_buf_free(&again);
    enc_buf_free(&b);
}

START_TEST(int_edges)
{
    static const size_t sizes[] = {0, 1, 2, 127, 128, 129, 130, 255, 256, 257, 4096};
    int64_t *v = malloc(4096 * sizeof *v);
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        size_t n = sizes[s];
        for (size_t i = 0; i < n; i++) v[i] = 7; /* constant */
        round_trip(v, n);
        for (size_t i = 0; i < n; i++) v[i] = (int64_t)i * 1000 - 5; /* increasing */
        round_trip(v, n);
        for (size_t i = 0; i < n; i++) v[i] = (int64_t)next(); /* random 64-bit */
        round_trip(v, n);
        for (size_t i = 0; i < n; i++) v[i] = (i % 2) ? INT64_MAX : INT64_MIN; /* extreme deltas */
        round_trip(v, n);
        for (size_t i = 0; i < n; i++) v[i] = (int64_t)(next() % 5) - 2; /* small, signed */
        round_trip(v, n);
        for (size_t i = 0; i < n; i++) v[i] = (int64_t)(i / 300); /* long runs */
        round_trip(v, n);
        /* OCR confidence */
        for (size_t i = 0; i < n; i++) v[i] = 99 - (int64_t)(pow((double)(next() % 1000) / 1000, 3) * 60);
        round_trip(v, n);
        for (size_t i = 0; i < n; i++) v[i] = INT64_MAX - (int64_t)(next() % 256); /* a byte's span at the top */
        round_trip(v, n);
        for (size_t i = 0; i < n; i++) v[i] = INT64_MIN + (int64_t)(i % 256); /* every symbol of a byte */
        round_trip(v, n);
        /* Counts that halve from one value to the next: the longest codes, cut to 11 bits. */
        for (size_t i = 0; i < n; i++) v[i] = (int64_t)__builtin_ctzll(next() | 1ull << 40);
        round_trip(v, n);
    }
    free(v);
}
END_TEST

START_TEST(best_picks_small)
{
    int64_t v[4096];
    for (int i = 0; i < 4096; i++) v[i] = i / 1000; /* 5 runs */
    enc_buf b = {0};
    unsigned id;
    ck_assert_int_eq(enc_int_encode_best(&b, &id, v, 4096), 0);
    ck_assert_uint_eq(id, ENC_RLE);
    ck_assert_uint_lt(b.len, 32);
    /* A camera's reads come at roughly exponential gaps (mean 15 s here). */
    v[0] = INT64_C(1762071330000);
    for (int i = 1; i < 4096; i++) v[i] = v[i - 1] + (int64_t)(-log((double)(next() % 1000000 + 1) / 1e6) * 15000);
    b.len = 0;
    ck_assert_int_eq(enc_int_encode_best(&b, &id, v, 4096), 0);
    ck_assert_uint_eq(id, ENC_DELTA_RICE_CK2); /* sorted times: Rice beats bit-packing */
    ck_assert_uint_lt(b.len, 4096 * 2 + 64); /* ~15 bits a delta: within a bit of the gaps' entropy */
    /* Skewed small values (OCR confidence: 99 a quarter of the time): Huffman, near their entropy. */
    double entropy = 0;
    for (int k = 0; k < 60; k++) {
        double p = pow((k + 1) / 60.0, 1 / 3.0) - pow(k / 60.0, 1 / 3.0);
        entropy -= p * log2(p);
    }
    for (int i = 0; i < 4096; i++) v[i] = 99 - (int64_t)(pow((double)(next() % 1000000) / 1e6, 3) * 60);
    b.len = 0;
    ck_assert_int_eq(enc_int_encode_best(&b, &id, v, 4096), 0);
    ck_assert_uint_eq(id, ENC_HUFF_CK);
    ck_assert_uint_lt(b.len * 8, (size_t)(4096 * (entropy + 0.25))); /* codes, table and checkpoints */
    /* Three lanes: 1.67 bits a value against bit-packing's 2. */
    for (int i = 0; i < 4096; i++) v[i] = 1 + (int64_t)(next() % 3);
    b.len = 0;
    ck_assert_int_eq(enc_int_encode_best(&b, &id, v, 4096), 0);
    ck_assert_uint_eq(id, ENC_HUFF_CK);
    /* Uniform over a byte, or over a power of two: nothing for Huffman to gain over bit-packing. */
    for (int i = 0; i < 4096; i++) v[i] = (int64_t)(next() % 256);
    b.len = 0;
    ck_assert_int_eq(enc_int_encode_best(&b, &id, v, 4096), 0);
    ck_assert_uint_eq(id, ENC_FOR_BP);
    for (int i = 0; i < 4096; i++) v[i] = 1 + (int64_t)(next() % 2);
    b.len = 0;
    ck_assert_int_eq(enc_int_encode_best(&b, &id, v, 4096), 0);
    ck_assert_uint_eq(id, ENC_FOR_BP);
    enc_buf_free(&b);
}
END_TEST

/* delta-rice-ck2's table: widths, then offsets and values read directly; the whole decode checks every one. */
START_TEST(rice_dense_checkpoints)
{
    enum { N = 1000 }; /* 999 deltas: 8 groups, checkpoints before groups 2, 4 and 6 */
    int64_t v[N], back[N];
    v[0] = INT64_C(1762071330000);
    for (int i = 1; i < N; i++) v[i] = v[i - 1] + 1000 + (int64_t)(next() % 30000);
    enc_buf sparse = {0}, dense = {0};
    ck_assert_int_eq(enc_int_encode(&sparse, ENC_DELTA_RICE_CK, v, N), 0);
    ck_assert_int_eq(enc_int_encode(&dense, ENC_DELTA_RICE_CK2, v, N), 0);
    /* The same stream after each table: delta-rice-ck has none at 8 groups, delta-rice-ck2 three. */
    uint8_t wb = dense.data[8], wv = dense.data[9];
    size_t table = 2 + (3 * wb + 7) / 8 + (3 * wv + 7) / 8;
    ck_assert_uint_eq(dense.len, sparse.len + table);
    ck_assert(memcmp(dense.data + 8 + table, sparse.data + 8, sparse.len - 8) == 0);
    ck_assert_int_eq(enc_int_decode(back, N, ENC_DELTA_RICE_CK2, dense.data, dense.len), 0);
    ck_assert(memcmp(back, v, sizeof v) == 0);
    /* The last offset and the largest value need exactly those widths; a wider one is refused. */
    ck_assert_uint_gt(wb, 0);
    ck_assert_uint_gt(wv, 0);
    dense.data[9] = (uint8_t)(wv + 8); /* the stream then starts 3 bytes later: pad it so only the width is wrong */
    ck_assert_int_eq(enc_buf_reserve(&dense, 3), 0);
    size_t vals = 10 + (3 * wb + 7) / 8;
    memmove(dense.data + vals + (3 * (wv + 8) + 7) / 8, dense.data + vals + (3 * wv + 7) / 8,
            dense.len - vals - (3 * wv + 7) / 8);
    dense.len += (3 * (wv + 8) + 7) / 8 - (3 * wv + 7) / 8;
    enc_buf again = {0};
    ck_assert_int_eq(enc_int_encode(&again, ENC_DELTA_RICE_CK2, v, N), 0);
    ck_assert_int_eq(enc_int_decode(back, N, ENC_DELTA_RICE_CK2, dense.data, dense.len), ANPR_ECORRUPT);
    /* A checkpoint offset one bit off: the whole decode sees it disagree with the stream. */
    again.data[10] ^= 1;
    ck_assert_int_eq(enc_int_decode(back, N, ENC_DELTA_RICE_CK2, again.data, again.len), ANPR_ECORRUPT);
    /* Widths over 64, and a table longer than the chunk. */
    again.data[10] ^= 1;
    again.data[8] = 65;
    ck_assert_int_eq(enc_int_decode(back, N, ENC_DELTA_RICE_CK2, again.data, again.len), ANPR_ECORRUPT);
    uint32_t row = N - 1;
    ck_assert_int_eq(enc_int_decode_at(back, &row, 1, N, ENC_DELTA_RICE_CK2, again.data, again.len),
                     ANPR_ECORRUPT);
    again.data[8] = wb;
    ck_assert_int_eq(enc_int_decode_at(back, &row, 1, N, ENC_DELTA_RICE_CK2, again.data, 12), ANPR_ECORRUPT);
    enc_buf_free(&sparse);
    enc_buf_free(&dense);
    enc_buf_free(&again);
}
END_TEST

/* A group's Rice parameter as docs/format.md fixes it, computed the plain way. */
static unsigned spec_rice_k(const uint64_t *d, size_t n)
{
    uint64_t sum = 0, cnt = 0;
    for (size_t i = 0; i < n; i++)
        if ((int64_t)d[i] >= 0 && d[i] < (UINT64_C(1) << 56)) sum += d[i], cnt++;
    uint64_t m = cnt ? sum / cnt : 0;
    unsigned c = 0;
    while (m >> (c + 1)) c++;
    unsigned lo = c > 2 ? c - 2 : 0, hi = c + 1 < 62 ? c + 1 : 62, best = lo;
    uint64_t best_cost = UINT64_MAX;
    for (unsigned k = lo; k <= hi; k++) {
        uint64_t cost = 0;
        for (size_t i = 0; i < n; i++)
            cost += (int64_t)d[i] < 0 || (d[i] >> k) >= 32 ? 32 + 64 : (d[i] >> k) + 1 + k;
        if (cost < best_cost) best_cost = cost, best = k;
    }
    return best;
}

/*
 * delta-rice's parameter for one group is the one the format fixes (the
 * cheapest of four near log2 of the mean), over groups of every size and
 * scale, with zeros, escapes (negative or large deltas) and deltas at the
 * 2^56 bound of the mean; and the stream decodes (its decoder checks k).
 */
START_TEST(rice_k_as_specified)
{
    uint64_t d[128];
    int64_t v[129], back[129];
    for (int t = 0; t < 20000; t++) {
        size_t n = 1 + (size_t)(next() % 128);
        unsigned scale = (unsigned)(next() % 64);
        uint64_t span = scale == 63 ? UINT64_MAX : (UINT64_C(2) << scale) - 1;
        int kind = (int)(next() % 6);
        for (size_t i = 0; i < n; i++) {
            d[i] = span == UINT64_MAX ? next() : next() % (span + 1);
            if (kind == 1 && next() % 16 == 0) d[i] = (uint64_t)-(int64_t)(1 + next() % 1000); /* a new camera */
            if (kind == 2 && next() % 16 == 0) d[i] = d[i] << 8 | 0xff;                        /* escapes */
            if (kind == 3) d[i] = 0;
            if (kind == 4 && next() % 8 == 0) d[i] = (UINT64_C(1) << 56) - (next() % 2);     /* the mean's bound */
        }
        v[0] = (int64_t)next();
        for (size_t i = 0; i < n; i++) v[i + 1] = (int64_t)((uint64_t)v[i] + d[i]);
        enc_buf b = {0};
        ck_assert_int_eq(enc_int_encode(&b, ENC_DELTA_RICE, v, n + 1), 0);
        /* The stream starts after the first value, with the group's k in its low 6 bits. */
        ck_assert_uint_ge(b.len, 9);
        ck_assert_msg((unsigned)(b.data[8] & 63) == spec_rice_k(d, n), "trial %d: k %u, the format's %u", t,
                      b.data[8] & 63, spec_rice_k(d, n));
        ck_assert_int_eq(enc_int_decode(back, n + 1, ENC_DELTA_RICE, b.data, b.len), 0);
        ck_assert(memcmp(back, v, (n + 1) * sizeof *v) == 0);
        enc_buf_free(&b);
    }
}
END_TEST

/*
 * The rows of a non-decreasing column in a window, found from the
 * checkpoints, are exactly those a whole decode finds: columns of every
 * length (one group, a checkpoint's edge, a block), with runs of equal
 * values across checkpoints, escapes, and windows before, after, inside and
 * on the values. Another encoding is ANPR_EINVAL; a column that goes down
 * within the window is corrupt.
 */
START_TEST(rice_window_matches_scan)
{
    static const size_t lengths[] = {1, 2, 128, 129, 130, 256, 257, 385, 1000, 4096};
    int64_t v[4096], back[4096], got[4096];
    for (size_t li = 0; li < sizeof lengths / sizeof *lengths; li++) {
        size_t n = lengths[li];
        for (int t = 0; t < 60; t++) {
            v[0] = INT64_C(1764000000000) + (int64_t)(next() % 1000);
            for (size_t i = 1; i < n; i++) {
                uint64_t r = next() % 100;
                /* equal runs, short gaps, and now and then a gap that escapes */
                int64_t gap = r < 20 ? 0 : r < 97 ? (int64_t)(next() % 30000) : (int64_t)(next() % 100000000);
                v[i] = v[i - 1] + gap;
            }
            enc_buf b = {0};
            ck_assert_int_eq(enc_int_encode(&b, ENC_DELTA_RICE_CK2, v, n), 0);
            ck_assert_int_eq(enc_int_decode(back, n, ENC_DELTA_RICE_CK2, b.data, b.len), 0);
            for (int w = 0; w < 40; w++) {
                int64_t lo, hi;
                if (w % 4 == 0) lo = v[next() % n]; /* on a value */
                else lo = v[0] - 5000 + (int64_t)(next() % (uint64_t)(v[n - 1] - v[0] + 10001));
                hi = w % 5 == 0 ? lo : lo + (int64_t)(next() % (w % 3 ? 60000 : 5000000));
                if (w == 1) lo = INT64_MIN, hi = INT64_MAX;
                size_t first = 0, count = 0, want_first = 0, want = 0;
                for (size_t i = 0; i < n; i++)
                    if (back[i] >= lo && back[i] < hi && want++ == 0) want_first = i;
                ck_assert_int_eq(enc_int_decode_window(got, n, ENC_DELTA_RICE_CK2, b.data, b.len, lo, hi, &first,
                                                       &count), 0);
                ck_assert_uint_eq(count, want);
                if (want) ck_assert_uint_eq(first, want_first);
                for (size_t i = 0; i < count; i++) ck_assert_int_eq(got[i], back[first + i]);
            }
            enc_buf_free(&b);
        }
    }
    /* Not delta-rice-ck2: the caller decodes whole. */
    enc_buf b = {0};
    size_t first, count;
    ck_assert_int_eq(enc_int_encode(&b, ENC_DELTA_RICE_CK, v, 1000), 0);
    ck_assert_int_eq(enc_int_decode_window(got, 1000, ENC_DELTA_RICE_CK, b.data, b.len, v[0], v[999], &first, &count),
                     ANPR_EINVAL);
    enc_buf_free(&b);
    /* A column that goes down inside the window. */
    for (size_t i = 0; i < 300; i++) v[i] = 1000 + (int64_t)i * 10;
    v[200] = 5;
    ck_assert_int_eq(enc_int_encode(&b, ENC_DELTA_RICE_CK2, v, 300), 0);
    ck_assert_int_eq(enc_int_decode_window(got, 300, ENC_DELTA_RICE_CK2, b.data, b.len, 0, 100000, &first, &count),
                     ANPR_ECORRUPT);
    /*
     * Values across the whole int64 range go up by deltas of 2^63 and more
     * (from near INT64_MIN to near INT64_MAX): in order, as the whole decode
     * says (fuzz_encode found the window refusing them).
     */
    const int64_t wide[4] = {INT64_MIN + 5, INT64_MAX - 4, INT64_MAX - 4, INT64_MAX};
    enc_buf_free(&b);
    ck_assert_int_eq(enc_int_encode(&b, ENC_DELTA_RICE_CK2, wide, 4), 0);
    ck_assert_int_eq(enc_int_decode_window(got, 4, ENC_DELTA_RICE_CK2, b.data, b.len, INT64_MIN, INT64_MAX, &first,
                                           &count), 0);
    ck_assert_uint_eq(first, 0);
    ck_assert_uint_eq(count, 3);
    for (size_t i = 0; i < 3; i++) ck_assert_int_eq(got[i], wide[i]);
    ck_assert_int_eq(enc_int_decode_window(got, 4, ENC_DELTA_RICE_CK2, b.data, b.len, 0, INT64_MAX, &first, &count),
                     0);
    ck_assert_uint_eq(first, 1);
    ck_assert_uint_eq(count, 2);
    /* A stream cut short. */
    for (size_t i = 0; i < 300; i++) v[i] = 1000 + (int64_t)i * 10;
    enc_buf_free(&b);
    ck_assert_int_eq(enc_int_encode(&b, ENC_DELTA_RICE_CK2, v, 300), 0);
    ck_assert_int_eq(enc_int_decode_window(got, 300, ENC_DELTA_RICE_CK2, b.data, b.len - 3, 0, 100000, &first,
                                           &count), ANPR_ECORRUPT);
    enc_buf_free(&b);
}
END_TEST

/* huffman-ck's bytes for four values, as docs/format.md lays them out; and the byte strings it did not write. */
START_TEST(huffman_bytes)
{
    const int64_t v[4] = {5, 5, 6, 7};
    /* Counts 2, 1, 1: lengths 1, 2, 2, codes 0, 10, 11 (first bit first in the stream: 0 0 10 11 -> 0x34). */
    uint8_t want[] = {5, 0, 0, 0, 0, 0, 0, 0, 2, 0x21, 0x02, 0, 0x34};
    enc_buf b = {0};
    ck_assert_int_eq(enc_int_encode(&b, ENC_HUFF_CK, v, 4), 0);
    ck_assert_uint_eq(b.len, sizeof want);
    ck_assert(memcmp(b.data, want, sizeof want) == 0);
    enc_buf_free(&b);
    int64_t got[4];
    const uint32_t all[4] = {0, 1, 2, 3};
    uint8_t c[sizeof want];
    /* A complete code, but not the one Huffman gives these counts (lengths 2, 1, 2): one form per value list. */
    memcpy(c, want, sizeof c);
    c[9] = 0x12;
    c[12] = 0x65; /* 10 10 0 11 */
    ck_assert_int_eq(enc_int_decode(got, 4, ENC_HUFF_CK, c, sizeof c), ANPR_ECORRUPT);
    ck_assert_int_eq(enc_int_decode_at(got, all, 4, 4, ENC_HUFF_CK, c, sizeof c), 0);
    ck_assert(got[0] == 5 && got[1] == 5 && got[2] == 6 && got[3] == 7);
    /* Codes that leave bit strings unused (2, 2, 2) or claim too many (1, 1, 2); a length over 11. */
    static const uint8_t bad_lengths[][2] = {{0x22, 0x02}, {0x11, 0x02}, {0xc1, 0x02}};
    for (size_t k = 0; k < 3; k++) {
        memcpy(c, want, sizeof c);
        c[9] = bad_lengths[k][0];
        c[10] = bad_lengths[k][1];
        ck_assert_int_eq(enc_int_decode(got, 4, ENC_HUFF_CK, c, sizeof c), ANPR_ECORRUPT);
        ck_assert_int_eq(enc_int_decode_at(got, all, 4, 4, ENC_HUFF_CK, c, sizeof c), ANPR_ECORRUPT);
    }
    /* The unused nibble set; a padding bit set; the span naming a symbol that never occurs (the maximum must). */
    memcpy(c, want, sizeof c);
    c[10] = 0x12;
    ck_assert_int_eq(enc_int_decode(got, 4, ENC_HUFF_CK, c, sizeof c), ANPR_ECORRUPT);
    memcpy(c, want, sizeof c);
    c[12] = 0xb4;
    ck_assert_int_eq(enc_int_decode(got, 4, ENC_HUFF_CK, c, sizeof c), ANPR_ECORRUPT);
    memcpy(c, want, sizeof c);
    c[8] = 3;
    ck_assert_int_eq(enc_int_decode(got, 4, ENC_HUFF_CK, c, sizeof c), ANPR_ECORRUPT);
    /* A minimum whose span passes INT64_MAX; a checkpoint width past the chunk. */
    memcpy(c, want, sizeof c);
    put_i64(c, INT64_MAX - 1);
    ck_assert_int_eq(enc_int_decode(got, 4, ENC_HUFF_CK, c, sizeof c), ANPR_ECORRUPT);
    ck_assert_int_eq(enc_int_decode_at(got, all, 4, 4, ENC_HUFF_CK, c, sizeof c), ANPR_ECORRUPT);
    int64_t many[300], back[300];
    for (int i = 0; i < 300; i++) many[i] = i % 3;
    ck_assert_int_eq(enc_int_encode(&b, ENC_HUFF_CK, many, 300), 0);
    ck_assert_uint_eq(b.data[11], 9); /* checkpoints at bits 214 and 427: 9 bits each */
    uint32_t row = 299;
    b.data[11] = 56;
    ck_assert_int_eq(enc_int_decode(back, 300, ENC_HUFF_CK, b.data, b.len), ANPR_ECORRUPT);
    ck_assert_int_eq(enc_int_decode_at(back, &row, 1, 300, ENC_HUFF_CK, b.data, b.len), ANPR_ECORRUPT);
    /* A checkpoint one bit off: the whole decode sees it does not meet the stream. */
    b.data[11] = 9;
    b.data[12] ^= 1;
    ck_assert_int_eq(enc_int_decode(back, 300, ENC_HUFF_CK, b.data, b.len), ANPR_ECORRUPT);
    enc_buf_free(&b);
    /* Counts that halve from one value to the next would take codes of 12 bits and more: they stop at 11. */
    int64_t geo[4096];
    for (int i = 0; i < 4096; i++) geo[i] = (int64_t)__builtin_ctzll(next() | 1ull << 20);
    ck_assert_int_eq(enc_int_encode(&b, ENC_HUFF_CK, geo, 4096), 0);
    unsigned longest = 0, span = b.data[8] + 1u;
    for (unsigned sym = 0; sym < span; sym++) {
        unsigned l = (b.data[9 + sym / 2] >> (4 * (sym % 2))) & 15u;
        if (l > longest) longest = l;
    }
    ck_assert_uint_ge(span, 13);
    ck_assert_uint_eq(longest, 11);
    int64_t geo_back[4096];
    ck_assert_int_eq(enc_int_decode(geo_back, 4096, ENC_HUFF_CK, b.data, b.len), 0);
    ck_assert(memcmp(geo, geo_back, sizeof geo) == 0);
    /* A row at a time (a lookup's canonical decode, without a table), codes of every length to 11 bits. */
    for (uint32_t r = 0; r < 4096; r++) {
        int64_t one;
        ck_assert_int_eq(enc_int_decode_at(&one, &r, 1, 4096, ENC_HUFF_CK, b.data, b.len), 0);
        ck_assert_msg(one == geo[r], "row %u", (unsigned)r);
    }
    enc_buf_free(&b);
    /* Beyond a byte's span. */
    int64_t wide[2] = {0, 256};
    ck_assert_int_eq(enc_int_encode(&b, ENC_HUFF_CK, wide, 2), ANPR_EINVAL);
    enc_buf_free(&b);
}
END_TEST

START_TEST(int_garbage_refused)
{
    int64_t v[300];
    uint8_t junk[64];
    /* A width over 64. */
    memset(junk, 0, sizeof junk);
    junk[8] = 65;
    ck_assert_int_eq(enc_int_decode(v, 2, ENC_DELTA_BP, junk, 9 + 16), ANPR_ECORRUPT);
    /* A width larger than the values need. */
    junk[8] = 3;
    ck_assert_int_eq(enc_int_decode(v, 2, ENC_DELTA_BP, junk, 10), ANPR_ECORRUPT);
    /* RLE: a run past n, a zero run, an overlong varint, two runs of one value. */
    uint8_t r1[] = {0x02, 0x05};
    ck_assert_int_eq(enc_int_decode(v, 4, ENC_RLE, r1, 2), ANPR_ECORRUPT);
    uint8_t r2[] = {0x02, 0x00};
    ck_assert_int_eq(enc_int_decode(v, 0, ENC_RLE, r2, 2), ANPR_ECORRUPT);
    uint8_t r3[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, 0x01};
    ck_assert_int_eq(enc_int_decode(v, 1, ENC_RLE, r3, sizeof r3), ANPR_ECORRUPT);
    uint8_t r4[] = {0x02, 0x01, 0x02, 0x01};
    ck_assert_int_eq(enc_int_decode(v, 2, ENC_RLE, r4, 4), ANPR_ECORRUPT);
    uint8_t r5[] = {0x82, 0x00, 0x01};
    ck_assert_int_eq(enc_int_decode(v, 1, ENC_RLE, r5, 3), ANPR_ECORRUPT);
    ck_assert_int_eq(enc_int_decode(v, 1, 77, r1, 2), ANPR_ECORRUPT);
    /* for-bytes: the minimum must occur, the length must be exact, the sum must not wrap. */
    uint8_t fb[8 + 3] = {5, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3};
    ck_assert_int_eq(enc_int_decode(v, 3, ENC_FOR_BYTES, fb, sizeof fb), ANPR_ECORRUPT);
    fb[9] = 0;
    ck_assert_int_eq(enc_int_decode(v, 3, ENC_FOR_BYTES, fb, sizeof fb), 0);
    ck_assert(v[0] == 6 && v[1] == 5 && v[2] == 8);
    ck_assert_int_eq(enc_int_decode(v, 2, ENC_FOR_BYTES, fb, sizeof fb), ANPR_ECORRUPT);
    uint8_t wrap[8 + 2] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, 0, 1};
    ck_assert_int_eq(enc_int_decode(v, 2, ENC_FOR_BYTES, wrap, sizeof wrap), ANPR_ECORRUPT);
    ck_assert_int_eq(enc_int_encode(&(enc_buf){0}, 77, v, 1), ANPR_EINVAL);
    /* Random bytes never crash any decoder (ASan watches the bounds). */
    uint8_t buf[512];
    for (int round = 0; round < 20000; round++) {
        size_t len = next() % sizeof buf;
        for (size_t i = 0; i < len; i++) buf[i] = (uint8_t)next();
        size_t n = next() % 300;
        enc_int_decode(v, n, int_ids[next() % (sizeof int_ids / sizeof int_ids[0])], buf, len);
        anpr_row rows[300];
        static const unsigned plate_ids[] = {ENC_RAW,          ENC_PLATE6,    ENC_PLATE_UK,        ENC_PLATE_SPLIT,
                                             ENC_PLATE_SHAPES, ENC_PLATE_AGE, ENC_PLATE_AGE_RADIX, ENC_PLATE_RRR,
                                             ENC_PLATE_PART};
        enc_plate_decode(rows, n, plate_ids[next() % 9], buf, len);
    }
    ck_assert_str_eq(enc_name(ENC_DELTA_BP), "delta-bitpack");
    ck_assert_str_eq(enc_name(99), "unknown");
}
END_TEST

START_TEST(plates_round_trip)
{
    enum { N = 300 };
    anpr_row rows[N], back[N];
    memset(rows, 0, sizeof rows);
    const char alphabet[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    for (int i = 0; i < N; i++) {
        size_t len = 1 + (size_t)i % ANPR_PLATE_MAX;
        for (size_t k = 0; k < len; k++) rows[i].plate[k] = alphabet[(i * 7 + k * 13) % 36];
    }
    strcpy(rows[0].plate, "ABCDEFGHIJKLMNO");
    strcpy(rows[1].plate, "Z");
    /* The current GB format at the edges of its alphabets, and near misses that are not it. */
    const char *uk[] = {"AA00AAA", "YY99ZZZ", "AB12CDE", "LB07SEO", "AZ12CDE", "AB12CDQ", "IB12CDE",
                        "AB1CDEF", "AB123CD", "AB12CD",  "AB12CDEF", "9999999", "ZZZZZZZZZZZZZZZ"};
    for (size_t k = 0; k < sizeof uk / sizeof uk[0]; k++) strcpy(rows[2 + k].plate, uk[k]);
    unsigned ids[] = {ENC_RAW,          ENC_PLATE6,    ENC_PLATE_UK,        ENC_PLATE_SPLIT,
                      ENC_PLATE_SHAPES, ENC_PLATE_AGE, ENC_PLATE_AGE_RADIX, ENC_PLATE_RRR, ENC_PLATE_PART};
    for (int c = 0; c < 9; c++) {
        enc_buf b = {0};
        ck_assert_int_eq(enc_plate_encode(&b, ids[c], rows, N), 0);
        memset(back, 0x55, sizeof back);
        ck_assert_int_eq(enc_plate_decode(back, N, ids[c], b.data, b.len), 0);
        for (int i = 0; i < N; i++) ck_assert_str_eq(back[i].plate, rows[i].plate);
        ck_assert_int_eq(enc_plate_decode(back, N, ids[c], b.data, b.len - 1), ANPR_ECORRUPT);
        ck_assert_int_eq(enc_buf_reserve(&b, 1), 0);
        b.data[b.len] = 0;
        ck_assert_int_eq(enc_plate_decode(back, N, ids[c], b.data, b.len + 1), ANPR_ECORRUPT);
        if (ids[c] == ENC_PLATE6) ck_assert_uint_lt(b.len, N * 12); /* 6 bits a character */
        enc_buf_free(&b);
    }
    /* A current-format plate costs 31 bits; 8 of them fit in 31 bytes. */
    for (int i = 0; i < 8; i++) strcpy(rows[i].plate, "AB12CDE");
    enc_buf b = {0};
    ck_assert_int_eq(enc_plate_encode(&b, ENC_PLATE_UK, rows, 8), 0);
    ck_assert_uint_eq(b.len, 31);
    /* Split: a byte of bitmap, then 8 values of 30 bits, no others. */
    b.len = 0;
    ck_assert_int_eq(enc_plate_encode(&b, ENC_PLATE_SPLIT, rows, 8), 0);
    ck_assert_uint_eq(b.len, 1 + 30);
    /* The bitmap's padding bits must be zero; a value past the last plate is refused. */
    ck_assert_int_eq(enc_plate_decode(back, 7, ENC_PLATE_SPLIT, b.data, b.len), ANPR_ECORRUPT);
    b.data[1] |= 0xff, b.data[2] |= 0xff, b.data[3] |= 0xff, b.data[4] |= 0x3f;
    ck_assert_int_eq(enc_plate_decode(back, 8, ENC_PLATE_SPLIT, b.data, b.len), ANPR_ECORRUPT);
    enc_buf_free(&b);
    /* A current-format value past the last plate is refused. */
    uint8_t past[4];
    uint32_t v = UINT32_C(731289600) << 1;
    for (int k = 0; k < 4; k++) past[k] = (uint8_t)(v >> (8 * k));
    ck_assert_int_eq(enc_plate_decode(back, 1, ENC_PLATE_UK, past, 4), ANPR_ECORRUPT);
    /* A current-format plate written the long way (kind 1) is refused: one encoding a plate. */
    {
        enc_buf lb = {0};
        bit_writer bw = {&lb, 0, 0};
        bw_put(&bw, 1 | 7u << 1, 5);
        bw_put(&bw, 0x73, 7); /* letter letter digit digit letter letter letter */
        /* "AB12CD" as one chunk: A=0 B=1 1 2 C=2 D=3, then "E" = 4. */
        uint64_t x = ((((0 * 26 + 1) * 10 + 1) * 10 + 2) * 26 + 2) * 26 + 3;
        bw_put(&bw, x, bp_width(26ull * 26 * 10 * 10 * 26 * 26 - 1));
        bw_put(&bw, 4, bp_width(25));
        bw_finish(&bw);
        ck_assert_int_eq(enc_plate_decode(back, 1, ENC_PLATE_UK, lb.data, lb.len), ANPR_ECORRUPT);
        enc_buf_free(&lb);
    }
    /* A code of 36 or more, and a length of 0, are refused. */
    uint8_t bad[] = {0x81, 0x02}; /* length 1, then code 40 */
    ck_assert_int_eq(enc_plate_decode(back, 1, ENC_PLATE6, bad, 2), ANPR_ECORRUPT);
    uint8_t zero[] = {0x00};
    ck_assert_int_eq(enc_plate_decode(back, 1, ENC_PLATE6, zero, 1), ANPR_ECORRUPT);
    strcpy(rows[0].plate, "a1");
    ck_assert_int_eq(enc_plate_encode(&(enc_buf){0}, ENC_PLATE6, rows, 1), ANPR_EINVAL);
}
END_TEST

/* A plate against a target in which '?' stands for any one character. */
static int same_plate(const char *p, const char *target)
{
    for (; *p && *target; p++, target++)
        if (*target != '?' && *target != *p) return 0;
    return *p == *target;
}

/* Finding each target by its codes marks exactly the rows that decoding and comparing would, in both encodings. */
static void check_find(const anpr_row *rows, size_t n, const char *const *targets, size_t ntargets)
{
    anpr_row *back = calloc(n, sizeof *back), *found = calloc(n, sizeof *found), *found2 = calloc(n, sizeof *found2);
    uint32_t *at = calloc(n, sizeof *at), *at2 = calloc(n, sizeof *at2);
    ck_assert(back && found && found2 && at && at2);
    static const unsigned ids[] = {ENC_PLATE_UK,        ENC_PLATE_SPLIT, ENC_PLATE_SHAPES, ENC_PLATE_AGE,
                                   ENC_PLATE_AGE_RADIX, ENC_PLATE_RRR,   ENC_PLATE_PART};
    for (int c = 0; c < 7; c++) {
        unsigned id = ids[c];
        enc_buf b = {0};
        ck_assert_int_eq(enc_plate_encode(&b, id, rows, n), 0);
        ck_assert_int_eq(enc_plate_decode(back, n, id, b.data, b.len), 0);
        for (size_t t = 0; t < ntargets * 2; t++) {
            /* Each target with the vector scan where the CPU has one, then with the portable scan. */
            int vector = t < ntargets;
            for (int fold = 0; fold < 2; fold++) {
                char target[ANPR_PLATE_MAX + 1];
                if (fold) anpr_plate_fold(target, targets[t % ntargets]);
                else strcpy(target, targets[t % ntargets]);
                enc_plate_target *tg;
                size_t nhit, want = 0;
                int crc = enc_plate_target_new(&tg, target, fold);
                if (crc == -E2BIG) {
                    /* Too many current-format plates fit the partial plate: callers decode instead. */
                    ck_assert_ptr_nonnull(strchr(target, '?'));
                    continue;
                }
                ck_assert_int_eq(crc, 0);
                ck_assert_int_eq(enc_plate_find_with(id, b.data, b.len, n, tg, at, found, &nhit, vector), 0);
                for (size_t i = 0; i < n; i++) {
                    char f[ANPR_PLATE_MAX + 1];
                    const char *p = back[i].plate;
                    if (fold) {
                        anpr_plate_fold(f, back[i].plate);
                        p = f;
                    }
                    if (!same_plate(p, target)) continue;
                    /* Listed in row order, with the row's own plate. */
                    ck_assert_msg(want < nhit && at[want] == (uint32_t)i, "%s fold %d row %zu (%s) of %zu", target,
                                  fold, i, back[i].plate, n);
                    ck_assert_str_eq(found[want].plate, back[i].plate);
                    want++;
                }
                ck_assert_uint_eq(nhit, want);
                /*
                 * plate-part's probe from its table and parts alone never
                 * calls a plate absent that is there, and its search on the
                 * sections' sums finds what the search of the whole finds.
                 */
                if (id == ENC_PLATE_PART) {
                    const char *what = NULL;
                    uint32_t sum = enc_part_sum(b.data, ENC_PART_TABLE_BYTES);
                    int absent = enc_plate_part_absent(b.data, b.len, n, tg, sum, at2, &what);
                    ck_assert_msg(absent == 0 || absent == 1, "%s fold %d: %d (%s)", target, fold, absent, what);
                    if (nhit) ck_assert_int_eq(absent, 0);
                    size_t nhit2;
                    ck_assert_int_eq(enc_plate_part_find(b.data, b.len, n, tg, sum, at2, found2, &nhit2, &what), 0);
                    ck_assert_uint_eq(nhit2, nhit);
                    for (size_t h = 0; h < nhit; h++) {
                        ck_assert_uint_eq(at2[h], at[h]);
                        ck_assert_str_eq(found2[h].plate, found[h].plate);
                    }
                }
                enc_plate_target_free(tg);
            }
        }
        /* A damaged stream is refused, not misread (by a search that walks the long-form plates). */
        enc_plate_target *tg;
        ck_assert_int_eq(enc_plate_target_new(&tg, "A812C0E", 1), 0);
        ck_assert_int_eq(enc_plate_find(id, b.data, b.len - 1, n, tg, at, found, &(size_t){0}), ANPR_ECORRUPT);
        enc_plate_target_free(tg);
        enc_buf_free(&b);
    }
    free(back);
    free(found);
    free(found2);
    free(at);
    free(at2);
}

START_TEST(plate_find_matches_decoding)
{
    ck_assert_int_eq(enc_plate_other_bits_check(), 0); /* the finder's table of long-form sizes */
    enum { N = 2000 };
    static anpr_row rows[N];
    memset(rows, 0, sizeof rows);
    static const char *const pool[] = {"AB12CDE", "A812CDE", "AB1ZCDE", "O00OOOO", "D00DDQD", "LB07SEO",
                                       "AIZ1234", "A121234", "ZZ99ZZZ", "XY51ABC", "1A",      "B8G6S5Z",
                                       /* not the current format, shaped like a folded AB12CDE: matched
                                          by their bits (each spelling of the target listed), or where
                                          the spellings are too many (O00OOOO) or the plate longer than
                                          8, a character at a time, last first */
                                       "A123BCD", "X812C0E", "A8I2CDE", "A812C0F", "A8I2C0E8", "AB12CDE8B",
                                       "S05OS5O5", "ZZ9B", "ABC123", "B0B0B0B0B0B0B0B", "ABCDEFGH1", "A23456789",
                                       /* AB12CDE's letters with other ages: plate-age finds them by
                                          their letters, then tells them apart by their ages */
                                       "AB13CDE", "AB62CDE", "AB02CDE",
                                       /* under 12 bits, so followed by the next plate's within the 12
                                          bits the finder looks up */
                                       "Z", "7", "B"};
    size_t npool = sizeof pool / sizeof pool[0];
    for (int i = 0; i < N; i++) strcpy(rows[i].plate, pool[next() % npool]);
    check_find(rows, N, pool, npool);
    /* Partial plates of single-character wildcards, found by codes the same way. */
    static const char *const partial[] = {"AB1?CDE", "A??2CDE", "?B12CD?", "AIZ12?4",
                                          "?A",      "A8?2C0E", "???????", "AB??CDE"};
    check_find(rows, N, partial, sizeof partial / sizeof partial[0]);
}
END_TEST

/*
 * Small blocks where nearly every row is a hit: a vehicle read in the current
 * format and misread outside it, in every arrangement of up to 8 rows. (The
 * merge of plate-split's two lists of hits once overwrote one with the other
 * here; found by fuzz_plate.)
 */
START_TEST(plate_find_small_blocks_of_hits)
{
    static const char *const family[] = {"AB12CDE", "A812C0E"}; /* current format; the same folded, not */
    static const char *const targets[] = {"AB12CDE", "A812C0E", "XY51ABC"};
    anpr_row rows[9];
    for (size_t n = 1; n <= 8; n++)
        for (unsigned mask = 0; mask < (1u << n); mask++) {
            memset(rows, 0, sizeof rows);
            for (size_t i = 0; i < n; i++) strcpy(rows[i].plate, family[(mask >> i) & 1]);
            check_find(rows, n, targets, 3);
            strcpy(rows[n].plate, "XY51ABC"); /* and with one row that is not a hit */
            check_find(rows, n + 1, targets, 3);
        }
}
END_TEST

/* Decoding the plates of some rows gives what decoding them all gives there, in every plate encoding. */
START_TEST(plate_decode_at_matches_decoding)
{
    enum { N = 1000 };
    static anpr_row rows[N], back[N], picked[N], scratch[N];
    static uint32_t at[N];
    memset(rows, 0, sizeof rows);
    static const char *const pool[] = {"AB12CDE", "A812CDE",   "LB07SEO",   "AIZ1234", "A123BCD", "1A",
                                       "XY51ABC", "B8G6S5Z",   "Q1",        "ZZZZZZZZZZZZZZZ",
                                       /* over 8 characters, with no letter past the eighth */
                                       "ABCDEFGH1", "A23456789", "1111111111"};
    for (int i = 0; i < N; i++) strcpy(rows[i].plate, pool[next() % (sizeof pool / sizeof pool[0])]);
    static const unsigned ids[] = {ENC_RAW,          ENC_PLATE6,    ENC_PLATE_UK,        ENC_PLATE_SPLIT,
                                   ENC_PLATE_SHAPES, ENC_PLATE_AGE, ENC_PLATE_AGE_RADIX, ENC_PLATE_RRR,
                                   ENC_PLATE_PART};
    for (int c = 0; c < 9; c++) {
        enc_buf b = {0};
        ck_assert_int_eq(enc_plate_encode(&b, ids[c], rows, N), 0);
        ck_assert_int_eq(enc_plate_decode(back, N, ids[c], b.data, b.len), 0);
        /* Every row, none, the last alone, and random subsets of several densities. */
        for (int round = 0; round < 40; round++) {
            size_t nat = 0;
            for (uint32_t i = 0; i < N; i++) {
                int take = round == 0 ? 1 : round == 1 ? 0 : round == 2 ? i == N - 1 : next() % (size_t)round == 0;
                if (take) at[nat++] = i;
            }
            memset(picked, 0x55, sizeof picked);
            ck_assert_int_eq(enc_plate_decode_at(picked, at, nat, scratch, N, ids[c], b.data, b.len), 0);
            for (size_t k = 0; k < nat; k++) ck_assert_str_eq(picked[k].plate, back[at[k]].plate);
        }
        /* Rows out of order or past the end are the caller's mistake. */
        uint32_t bad[2] = {5, 5};
        ck_assert_int_eq(enc_plate_decode_at(picked, bad, 2, scratch, N, ids[c], b.data, b.len), ANPR_EINVAL);
        bad[0] = N;
        ck_assert_int_eq(enc_plate_decode_at(picked, bad, 1, scratch, N, ids[c], b.data, b.len), ANPR_EINVAL);
        /* A short stream is refused when a picked row lies past its end. */
        at[0] = N - 1;
        ck_assert_int_eq(enc_plate_decode_at(picked, at, 1, scratch, N, ids[c], b.data, b.len / 2), ANPR_ECORRUPT);
        enc_buf_free(&b);
    }
}
END_TEST

/*
 * plate-shapes byte for byte (the example in docs/format.md), read back
 * whole, by row and by search; each field damaged is refused; a block with
 * more heads than the table holds is written as plate-split.
 */
START_TEST(plate_shapes_bytes)
{
    static const char *const plates[] = {"A1", "AB12CDE", "Z9", "7"};
    static const uint8_t want[] = {0x0d, 0xcc, 0xa4, 0x17, 0x00, 0x01, 0x01, 0x10, 0x00, 0x01,
                                   0x0c, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
                                   0x00, 0x00, 0x01, 0x11, 0x00, 0x03, 0x17, 0x60, 0x20};
    anpr_row rows[4], back[4];
    uint32_t at[4];
    size_t nhit;
    memset(rows, 0, sizeof rows);
    for (int i = 0; i < 4; i++) strcpy(rows[i].plate, plates[i]);
    enc_buf b = {0};
    ck_assert_int_eq(enc_plate_encode(&b, ENC_PLATE_SHAPES, rows, 4), 0);
    ck_assert_uint_eq(b.len, sizeof want);
    ck_assert_mem_eq(b.data, want, sizeof want);
    ck_assert_int_eq(enc_plate_decode(back, 4, ENC_PLATE_SHAPES, b.data, b.len), 0);
    for (int i = 0; i < 4; i++) ck_assert_str_eq(back[i].plate, plates[i]);
    uint32_t pick[2] = {2, 3};
    ck_assert_int_eq(enc_plate_decode_at(back, pick, 2, NULL, 4, ENC_PLATE_SHAPES, b.data, b.len), 0);
    ck_assert_str_eq(back[0].plate, "Z9");
    ck_assert_str_eq(back[1].plate, "7");
    /* Z9 exactly, and misread-tolerant (folded 29: Z9 and 29 are its spellings). */
    for (int fold = 0; fold < 2; fold++) {
        enc_plate_target *tg;
        ck_assert_int_eq(enc_plate_target_new(&tg, fold ? "29" : "Z9", fold), 0);
        ck_assert_int_eq(enc_plate_find(ENC_PLATE_SHAPES, b.data, b.len, 4, tg, at, back, &nhit), 0);
        ck_assert_uint_eq(nhit, 1);
        ck_assert_uint_eq(at[0], 2);
        ck_assert_str_eq(back[0].plate, "Z9");
        enc_plate_target_free(tg);
    }
    /* Each damage (byte, new value) is refused by the decoder and by a search that reads the long forms. */
    static const struct {
        size_t at;
        uint8_t to;
    } damage[] = {
        {5, 0x02},  /* three heads: the varints run into the counts */
        {6, 0x00},  /* a head of length 0 */
        {7, 0x7f},  /* the second head 129: length 1 with a shape bit past it */
        {9, 0x02},  /* counts adding up to more than the long forms */
        {10, 0x0b}, /* the groups' chunk a byte short */
        {14, 0x01}, /* the groups' minimum not 0 */
        {25, 0x07}, /* the groups 1, 1, 1: more of group 1 than its count */
        {26, 0x1f}, /* the digit 7 as 15 */
        {28, 0xa0}, /* a padding bit set */
    };
    enc_plate_target *tg;
    ck_assert_int_eq(enc_plate_target_new(&tg, "A1", 1), 0); /* A1 or AI: walks the long forms, finds row 0 */
    ck_assert_int_eq(enc_plate_find(ENC_PLATE_SHAPES, want, sizeof want, 4, tg, at, back, &nhit), 0);
    ck_assert(nhit == 1 && at[0] == 0);
    for (size_t d = 0; d < sizeof damage / sizeof damage[0]; d++) {
        uint8_t bad[sizeof want];
        memcpy(bad, want, sizeof want);
        bad[damage[d].at] = damage[d].to;
        ck_assert_msg(enc_plate_decode(back, 4, ENC_PLATE_SHAPES, bad, sizeof bad) == ANPR_ECORRUPT, "damage %zu", d);
        int frc = enc_plate_find(ENC_PLATE_SHAPES, bad, sizeof bad, 4, tg, at, back, &nhit);
        /* The search reads the table and, for a hit, every plate's group; the characters of its own group only. */
        if (damage[d].at != 26) ck_assert_msg(frc == ANPR_ECORRUPT, "damage %zu: find %d", d, frc);
        else ck_assert_int_eq(frc, 0);
    }
    ck_assert_int_eq(enc_plate_decode(back, 4, ENC_PLATE_SHAPES, want, sizeof want - 1), ANPR_ECORRUPT);
    ck_assert_int_eq(enc_plate_find(ENC_PLATE_SHAPES, want, sizeof want - 1, 4, tg, at, back, &nhit), ANPR_ECORRUPT);
    enc_plate_target_free(tg);
    /* 256 heads fit the table; 257 do not, and plate-split is written instead. */
    static anpr_row many[257];
    memset(many, 0, sizeof many);
    for (unsigned s = 0; s < 257; s++)
        for (unsigned k = 0; k < 9; k++) many[s].plate[k] = (s >> k) & 1 ? 'A' : '1';
    for (size_t n = 256; n <= 257; n++) {
        static anpr_row got[257];
        unsigned id;
        b.len = 0;
        ck_assert_int_eq(enc_plate_encode(&b, ENC_PLATE_SHAPES, many, n), n == 256 ? 0 : -E2BIG);
        if (n == 257) ck_assert_uint_eq(b.len, 0);
        b.len = 0;
        ck_assert_int_eq(enc_plate_encode_best(&b, ENC_PLATE_RRR, &id, many, n), 0);
        ck_assert_uint_eq(id, n == 256 ? ENC_PLATE_RRR : ENC_PLATE_SPLIT);
        ck_assert_int_eq(enc_plate_decode(got, n, id, b.data, b.len), 0);
        for (size_t i = 0; i < n; i++) ck_assert_str_eq(got[i].plate, many[i].plate);
    }
    enc_buf_free(&b);
}
END_TEST

/*
 * The n plates (into rows[]) encoded with id into b are exactly want, and
 * decode back to themselves.
 */
static void check_plate_bytes(unsigned id, const char *const *plates, size_t n, const uint8_t *want, size_t want_len,
                              anpr_row *rows, enc_buf *b)
{
    memset(rows, 0, n * sizeof *rows);
    for (size_t i = 0; i < n; i++) strcpy(rows[i].plate, plates[i]);
    b->len = 0;
    ck_assert_int_eq(enc_plate_encode(b, id, rows, n), 0);
    ck_assert_uint_eq(b->len, want_len);
    ck_assert_mem_eq(b->data, want, want_len);
    anpr_row *back = calloc(n, sizeof *back);
    ck_assert_ptr_nonnull(back);
    ck_assert_int_eq(enc_plate_decode(back, n, id, b->data, b->len), 0);
    for (size_t i = 0; i < n; i++) ck_assert_str_eq(back[i].plate, plates[i]);
    free(back);
}

/* A search of a byte-for-byte example and what it must find: hits, the first at row. */
typedef struct find_case {
    const char *plate;
    int fold;
    size_t hits;
    uint32_t row;
} find_case;

/* Each case found in the n plates encoded with id in b, with the vector scan and without. */
static void check_finds(unsigned id, const enc_buf *b, const char *const *plates, size_t n, const find_case *finds,
                        size_t nfinds)
{
    anpr_row *back = calloc(n, sizeof *back);
    uint32_t *at = calloc(n, sizeof *at);
    ck_assert(back && at);
    for (size_t f = 0; f < nfinds; f++) {
        enc_plate_target *tg;
        size_t nhit;
        ck_assert_int_eq(enc_plate_target_new(&tg, finds[f].plate, finds[f].fold), 0);
        for (int vector = 0; vector < 2; vector++) {
            ck_assert_int_eq(enc_plate_find_with(id, b->data, b->len, n, tg, at, back, &nhit, vector), 0);
            ck_assert_msg(nhit == finds[f].hits, "%s: %zu hits", finds[f].plate, nhit);
            if (nhit) ck_assert(at[0] == finds[f].row && strcmp(back[0].plate, plates[finds[f].row]) == 0);
        }
        enc_plate_target_free(tg);
    }
    free(back);
    free(at);
}

/*
 * plate-age byte for byte (the example in docs/format.md): plate-shapes'
 * bytes but for the current-format values, now their letters in 23 bits,
 * then the bitmap of their ages and each one's rank among those. Read
 * back whole, by row and by search; damage is refused; a plate with the
 * same letters and another age is not a hit.
 */
START_TEST(plate_age_bytes)
{
    static const char *const plates[] = {"A1", "AB12CDE", "Z9", "7", "XY51ABC"};
    static const uint8_t want[] = {0x0d,                                     /* bitmap */
                                   0xcc, 0x3a, 0x00, 0x0d, 0x43, 0x35,       /* letters 15,052 and 6,981,146 */
                                   0x00, 0x10, 0x00, 0x00, 0x00, 0x00, 0x08, /* ages 12 and 51 */
                                   0x00, 0x00, 0x00, 0x00, 0x00, 0x00,       /* */
                                   0x02,                                     /* ranks 0, 1 */
                                   0x01, 0x01, 0x10, 0x00, 0x01, 0x0c, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
                                   0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x11, 0x00, 0x03, 0x17, 0x60, 0x20};
    enum { N = 5 };
    anpr_row rows[N], back[N];
    uint32_t at[N];
    size_t nhit;
    enc_buf b = {0};
    check_plate_bytes(ENC_PLATE_AGE, plates, N, want, sizeof want, rows, &b);
    uint32_t pick[2] = {1, 4};
    ck_assert_int_eq(enc_plate_decode_at(back, pick, 2, NULL, N, ENC_PLATE_AGE, b.data, b.len), 0);
    ck_assert_str_eq(back[0].plate, "AB12CDE");
    ck_assert_str_eq(back[1].plate, "XY51ABC");
    /* AB12CDE exactly and misread-tolerant; AB51CDE, its letters with the block's other age, is not there. */
    static const find_case finds[] = {{"AB12CDE", 0, 1, 1}, {"A812CDE", 1, 1, 1}, {"AB51CDE", 0, 0, 0},
                                      {"AB?1CDE", 0, 0, 0}, {"AB1?CDE", 1, 1, 1}, {"XY5?ABC", 0, 1, 4}};
    check_finds(ENC_PLATE_AGE, &b, plates, N, finds, sizeof finds / sizeof finds[0]);
    /* Each damage is refused by the decoder, and by a search for XY51ABC (which reads its age) where it reads it. */
    static const struct {
        size_t at;
        uint8_t to;
        int find; /* -1: the search refuses too; else the hits it finds, not reading where the damage is */
    } damage[] = {
        {6, 0x75, -1},  /* a padding bit of the letters */
        {19, 0x10, -1}, /* an age past 99 in the bitmap */
        {20, 0x06, -1}, /* a padding bit of the ranks */
        {8, 0x00, 1},   /* no age 12: one age (51), ranks of no bits, plate-shapes' table read from the ranks */
        {20, 0x00, 0},  /* both plates of age 12: age 51 listed but unused; XY51ABC reads as XY12ABC */
    };
    enc_plate_target *tg;
    ck_assert_int_eq(enc_plate_target_new(&tg, "XY51ABC", 0), 0);
    for (size_t d = 0; d < sizeof damage / sizeof damage[0]; d++) {
        uint8_t bad[sizeof want];
        memcpy(bad, want, sizeof want);
        bad[damage[d].at] = damage[d].to;
        ck_assert_msg(enc_plate_decode(back, N, ENC_PLATE_AGE, bad, sizeof bad) == ANPR_ECORRUPT, "damage %zu", d);
        int frc = enc_plate_find(ENC_PLATE_AGE, bad, sizeof bad, N, tg, at, back, &nhit);
        if (damage[d].find < 0) ck_assert_msg(frc == ANPR_ECORRUPT, "damage %zu: find %d", d, frc);
        else ck_assert_msg(frc == 0 && nhit == (size_t)damage[d].find, "damage %zu: find %d, %zu", d, frc, nhit);
    }
    enc_plate_target_free(tg);
    /* No current-format plate: no ages, and nothing between the bitmap and plate-shapes' table. */
    b.len = 0;
    strcpy(rows[1].plate, "B2");
    strcpy(rows[4].plate, "B3");
    ck_assert_int_eq(enc_plate_encode(&b, ENC_PLATE_AGE, rows, N), 0);
    ck_assert_uint_eq(b.data[0], 0x1f);
    ck_assert_uint_eq(b.data[1], 0x01); /* G - 1: heads 1 and 18 */
    ck_assert_int_eq(enc_plate_decode(back, N, ENC_PLATE_AGE, b.data, b.len), 0);
    ck_assert_str_eq(back[4].plate, "B3");
    /* One age: ranks of no bits. */
    b.len = 0;
    strcpy(rows[1].plate, "AB12CDE");
    strcpy(rows[4].plate, "XY12ABC");
    ck_assert_int_eq(enc_plate_encode(&b, ENC_PLATE_AGE, rows, N), 0);
    ck_assert_uint_eq(b.len, sizeof want - 1);
    ck_assert_int_eq(enc_plate_decode(back, N, ENC_PLATE_AGE, b.data, b.len), 0);
    ck_assert_str_eq(back[4].plate, "XY12ABC");
    enc_buf_free(&b);
}
END_TEST

/*
 * plate-age-radix byte for byte (the example in docs/format.md): plate-age's
 * bytes but for the ranks, three among three ages in one number of 5 bits
 * where plate-age spends 6. A number at or past its limit, or a padding bit
 * set, is refused by the decoder and by a search that reads it.
 */
START_TEST(plate_age_radix_bytes)
{
    static const char *const plates[] = {"AB12CDE", "XY51ABC", "AB07CDE"};
    static const uint8_t want[] = {0x00,                                     /* bitmap: all current */
                                   0xcc, 0x3a, 0x00, 0x0d, 0x43, 0x35, 0xb3, /* letters 15,052, 6,981,146 */
                                   0x0e, 0x00,                               /* and 15,052, 23 bits each */
                                   0x80, 0x10, 0x00, 0x00, 0x00, 0x00, 0x08, /* ages 7, 12 and 51 */
                                   0x00, 0x00, 0x00, 0x00, 0x00, 0x00,       /* */
                                   0x07};                                    /* 1 + 2 * 3 + 0 * 9 */
    enum { N = 3 };
    anpr_row rows[N], back[N];
    uint32_t at[N];
    size_t nhit;
    enc_buf b = {0};
    check_plate_bytes(ENC_PLATE_AGE_RADIX, plates, N, want, sizeof want, rows, &b);
    uint32_t pick[1] = {2};
    ck_assert_int_eq(enc_plate_decode_at(back, pick, 1, NULL, N, ENC_PLATE_AGE_RADIX, b.data, b.len), 0);
    ck_assert_str_eq(back[0].plate, "AB07CDE");
    enc_plate_target *tg;
    ck_assert_int_eq(enc_plate_target_new(&tg, "XY51ABC", 0), 0);
    ck_assert_int_eq(enc_plate_find(ENC_PLATE_AGE_RADIX, b.data, b.len, N, tg, at, back, &nhit), 0);
    ck_assert(nhit == 1 && at[0] == 1 && strcmp(back[0].plate, "XY51ABC") == 0);
    enc_plate_target_free(tg);
    ck_assert_int_eq(enc_plate_target_new(&tg, "AB12CDE", 0), 0);
    ck_assert_int_eq(enc_plate_find(ENC_PLATE_AGE_RADIX, b.data, b.len, N, tg, at, back, &nhit), 0);
    ck_assert(nhit == 1 && at[0] == 0 && strcmp(back[0].plate, "AB12CDE") == 0);
    static const uint8_t bad_last[] = {0x1b, 0x1f, 0x27}; /* 27 = 3^3, 31, and 7 with a padding bit */
    for (size_t d = 0; d < sizeof bad_last; d++) {
        uint8_t bad[sizeof want];
        memcpy(bad, want, sizeof want);
        bad[sizeof want - 1] = bad_last[d];
        ck_assert_int_eq(enc_plate_decode(back, N, ENC_PLATE_AGE_RADIX, bad, sizeof bad), ANPR_ECORRUPT);
        ck_assert_int_eq(enc_plate_find(ENC_PLATE_AGE_RADIX, bad, sizeof bad, N, tg, at, back, &nhit), ANPR_ECORRUPT);
    }
    enc_plate_target_free(tg);
    enc_buf_free(&b);
}
END_TEST

/* A current-format plate of age a whose letters follow from i. */
static void aged_plate(char *p, uint32_t i, unsigned age)
{
    static const char tag[] = "ABCDEFGHJKLMNOPRSTUVWXY", rand[] = "ABCDEFGHJKLMNOPRSTUVWXYZ";
    snprintf(p, ANPR_PLATE_MAX + 1, "%c%c%02u%c%c%c", tag[i % 23], tag[i / 23 % 23], age, rand[i / 529 % 24],
             rand[i / 12696 % 24], rand[i / 7 % 24]);
}

/*
 * The n rows encoded with id in b read back: whole, a row in every few by
 * decode_at, and every few rows' plates found at their rows by a search.
 * back and at are scratch of n.
 */
static void check_reads_back(unsigned id, const enc_buf *b, const anpr_row *rows, size_t n, anpr_row *back,
                             uint32_t *at)
{
    ck_assert_int_eq(enc_plate_decode(back, n, id, b->data, b->len), 0);
    for (size_t i = 0; i < n; i++) ck_assert_str_eq(back[i].plate, rows[i].plate);
    size_t nat = 0;
    for (uint32_t i = 0; i < n; i += 1 + i % 5) at[nat++] = i;
    ck_assert_int_eq(enc_plate_decode_at(back, at, nat, NULL, n, id, b->data, b->len), 0);
    for (size_t t = 0; t < nat; t++) ck_assert_str_eq(back[t].plate, rows[at[t]].plate);
    for (size_t i = 0; i < n; i += 1 + n / 40) {
        enc_plate_target *tg;
        size_t nhit;
        ck_assert_int_eq(enc_plate_target_new(&tg, rows[i].plate, 0), 0);
        ck_assert_int_eq(enc_plate_find(id, b->data, b->len, n, tg, at, back, &nhit), 0);
        int seen = 0;
        for (size_t h = 0; h < nhit; h++) {
            ck_assert_str_eq(back[h].plate, rows[i].plate);
            seen |= at[h] == i;
        }
        ck_assert_msg(seen, "%s, %zu rows: row %zu not found", enc_name(id), n, i);
        enc_plate_target_free(tg);
    }
}

/*
 * plate-age-radix's groups at every size that matters: blocks of 1, 2, 3,
 * 38 and 100 ages with as many current-format plates as fill whole groups
 * (enough for every age), a rank less, a rank more, a group more, and 4,096
 * (a block), some long forms among them. The ranks take exactly the bytes the format gives (full
 * groups of k ranks in the bits of A^k - 1, the last of q in those of
 * A^q - 1), everything reads back whole and row by row, and each plate is
 * found by its search.
 */
START_TEST(plate_age_radix_groups)
{
    static const unsigned ages[] = {1, 2, 3, 38, 100};
    anpr_row *rows = calloc(5000, sizeof *rows), *back = calloc(5000, sizeof *back);
    uint32_t *at = calloc(5000, sizeof *at);
    ck_assert(rows && back && at);
    for (size_t a = 0; a < sizeof ages / sizeof ages[0]; a++) {
        unsigned A = ages[a], k = 0;
        uint64_t p = 1;
        while (A > 1 && p * A <= UINT64_C(1) << 56) {
            p *= A;
            k++;
        }
        if (A == 1) k = 1;
        /* Whole groups enough to hold every age at least once, and one rank less or more. */
        const size_t whole = k * ((A + k - 1) / k + 1), counts[] = {whole - 1, whole, whole + 1, whole + k, 4096};
        for (size_t c = 0; c < sizeof counts / sizeof counts[0]; c++) {
            size_t n0 = counts[c];
            /* Every eighth row a long form; the ages spread over 0..99, each of the A at least once. */
            size_t n = 0;
            for (size_t j = 0; j < n0; n++) {
                memset(rows[n].plate, 0, sizeof rows[n].plate);
                if (n % 8 == 7) {
                    snprintf(rows[n].plate, sizeof rows[n].plate, "Q%u", (unsigned)n);
                    continue;
                }
                size_t r = j < A ? j : (j * 37 + j / 3) % A;
                aged_plate(rows[n].plate, (uint32_t)(j * 7919 + a), A > 1 ? (unsigned)(r * 99 / (A - 1)) : 12);
                j++;
            }
            enc_buf fixed = {0}, radix = {0};
            ck_assert_int_eq(enc_plate_encode(&fixed, ENC_PLATE_AGE, rows, n), 0);
            ck_assert_int_eq(enc_plate_encode(&radix, ENC_PLATE_AGE_RADIX, rows, n), 0);
            /* The same bytes but for the ranks. */
            unsigned w = 0;
            while ((A - 1) >> w) w++;
            uint64_t last = 1;
            for (size_t q = 0; q < n0 % k; q++) last *= A;
            unsigned wk = 0, wl = 0;
            while (wk < 64 && (p - 1) >> wk) wk++;
            while (wl < 64 && (last - 1) >> wl) wl++;
            size_t radix_bytes = (n0 / k * wk + wl + 7) / 8, fixed_bytes = (n0 * w + 7) / 8;
            ck_assert_uint_eq(radix.len + fixed_bytes, fixed.len + radix_bytes);
            check_reads_back(ENC_PLATE_AGE_RADIX, &radix, rows, n, back, at);
            enc_buf_free(&fixed);
            enc_buf_free(&radix);
        }
    }
    free(rows);
    free(back);
    free(at);
}
END_TEST

/*
 * The word code's numbers: the table of binomials is Pascal's triangle;
 * every word of up to 12 rows, and random words of 64 at every class, rank
 * below C(t, c) and unrank back to themselves; C(t, c) itself is refused.
 */
START_TEST(rrr_words)
{
    for (unsigned i = 0; i <= 64; i++) {
        ck_assert_uint_eq(binomial(i, 0), 1);
        ck_assert_uint_eq(binomial(i, i), 1);
        for (unsigned j = 1; j < i; j++) ck_assert_uint_eq(binomial(i, j), binomial(i - 1, j - 1) + binomial(i - 1, j));
    }
    ck_assert_uint_eq(binomial(64, 32), UINT64_C(1832624140942590534));
    ck_assert_uint_eq(rrr_offset_bits(64, 9), 35);
    ck_assert_uint_eq(rrr_offset_bits(64, 0), 0);
    ck_assert_uint_eq(rrr_offset_bits(64, 64), 0);
    ck_assert_uint_eq(rrr_offset_bits(64, 32), 61);
    for (unsigned c = 0; c <= 64; c++) ck_assert_uint_eq(rrr_full_word_bits[c], rrr_offset_bits(64, c));
    for (unsigned t = 1; t <= 12; t++) {
        size_t seen[13] = {0};
        for (uint64_t w = 0; w < (UINT64_C(1) << t); w++) {
            unsigned c = (unsigned)__builtin_popcountll(w);
            uint64_t x = rrr_rank(w), back;
            ck_assert_uint_lt(x, binomial(t, c));
            ck_assert_int_eq(rrr_unrank(t, c, x, &back), 0);
            ck_assert_uint_eq(back, w);
            seen[c]++;
        }
        /* Each class's ranks are all taken: as many words as C(t, c), each its own rank. */
        for (unsigned c = 0; c <= t; c++) ck_assert_uint_eq(seen[c], binomial(t, c));
        uint64_t w;
        ck_assert_int_eq(rrr_unrank(t, t / 2, binomial(t, t / 2), &w), -1);
    }
    for (unsigned c = 0; c <= 64; c++) {
        for (int round = 0; round < 50; round++) {
            uint64_t w = 0;
            while ((unsigned)__builtin_popcountll(w) < c) w |= UINT64_C(1) << (next() % 64);
            uint64_t back, x = rrr_rank(w);
            ck_assert_uint_lt(x, c == 64 ? 2 : binomial(64, c));
            ck_assert_int_eq(rrr_unrank(64, c, x, &back), 0);
            ck_assert_uint_eq(back, w);
        }
        uint64_t w;
        ck_assert_int_eq(rrr_unrank(64, c, binomial(64, c), &w), -1);
        ck_assert_int_eq(rrr_unrank(64, c, UINT64_MAX, &w), -1);
    }
}
END_TEST

/*
 * A whole bitmap in the word code, at every size that ends a word
 * differently and at densities from none to all: the class width is the
 * largest class's, the parts take exactly the bytes the format gives, and
 * rrr_open finds them, reads out the classes and counts the ones; one byte
 * short, a set padding bit, a class past its word's rows or a width other
 * than the largest class's is refused, and so are more rows than a block
 * holds.
 */
START_TEST(rrr_bitmaps)
{
    static const size_t sizes[] = {1, 5, 63, 64, 65, 127, 128, 129, 4096, 4100};
    static const unsigned per_mille[] = {0, 1, 140, 500, 999, 1000};
    static uint8_t classes[RRR_MAX_WORDS];
    uint8_t *bitmap = calloc(4100 / 8 + 1, 1);
    ck_assert_ptr_nonnull(bitmap);
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        for (size_t d = 0; d < sizeof per_mille / sizeof per_mille[0]; d++) {
            size_t n = sizes[s], words = (n + 63) / 64, ones = 0, bits = 0;
            unsigned top = 0;
            uint8_t want_class[4100 / 64 + 1];
            memset(bitmap, 0, (n + 7) / 8);
            for (size_t i = 0; i < n; i++)
                if (next() % 1000 < per_mille[d]) {
                    bitmap[i / 8] |= (uint8_t)(1u << (i % 8));
                    ones++;
                }
            for (size_t k = 0; k < words; k++) {
                unsigned c = 0, t = rrr_word_rows(n, k);
                for (size_t i = 64 * k; i < 64 * k + t; i++) c += (bitmap[i / 8] >> (i % 8)) & 1;
                if (c > top) top = c;
                want_class[k] = (uint8_t)c;
                bits += rrr_offset_bits(t, c);
            }
            enc_buf b = {0};
            ck_assert_int_eq(rrr_encode(&b, bitmap, n), 0);
            unsigned cw = bp_width(top);
            ck_assert_uint_eq(b.data[0], cw);
            ck_assert_uint_eq(b.len, 1 + (words * cw + 7) / 8 + (bits + 7) / 8);
            rrr_parts p;
            ck_assert_int_eq(rrr_open(&p, classes, b.data, b.len, n), 0);
            ck_assert_uint_eq(p.ones, ones);
            ck_assert_uint_eq(p.len, b.len);
            ck_assert_mem_eq(classes, want_class, words);
            if (b.len > 1) ck_assert_int_eq(rrr_open(&p, classes, b.data, b.len - 1, n), -1);
            if (bits % 8) {
                b.data[b.len - 1] |= 0x80;
                ck_assert_int_eq(rrr_open(&p, classes, b.data, b.len, n), -1);
                b.data[b.len - 1] &= 0x7f;
            }
            b.data[0] = 8;
            ck_assert_int_eq(rrr_open(&p, classes, b.data, b.len, n), -1);
            enc_buf_free(&b);
        }
    }
    /* One word of 5 rows whose class, in 3 bits, says 6; a class of 3 in 3 bits, where 2 hold it. */
    static const uint8_t six_of_five[] = {0x03, 0x06, 0x00}, wide[] = {0x03, 0x03, 0x02};
    static const uint8_t canonical[] = {0x02, 0x03, 0x02};
    rrr_parts p;
    ck_assert_int_eq(rrr_open(&p, classes, six_of_five, sizeof six_of_five, 5), -1);
    ck_assert_int_eq(rrr_open(&p, classes, wide, sizeof wide, 5), -1);
    ck_assert_int_eq(rrr_open(&p, classes, canonical, sizeof canonical, 5), 0);
    /* No rows: no bytes, not even the class width. */
    enc_buf none = {0};
    ck_assert_int_eq(rrr_encode(&none, canonical, 0), 0);
    ck_assert_uint_eq(none.len, 0);
    ck_assert_int_eq(rrr_open(&p, classes, canonical, 0, 0), 0);
    ck_assert_uint_eq(p.len, 0);
    ck_assert_uint_eq(p.ones, 0);
    /* Past a block's most rows: refused both ways. */
    ck_assert_int_eq(rrr_encode(&none, canonical, RRR_MAX_ROWS + 1), ANPR_EINVAL);
    ck_assert_int_eq(rrr_open(&p, classes, canonical, sizeof canonical, RRR_MAX_ROWS + 1), -1);
    free(bitmap);
}
END_TEST

/*
 * plate-rrr byte for byte (the example in docs/format.md): plate-age-radix's
 * bytes with the bitmap 0x0d (rows 0, 2 and 3 outside the current format)
 * in the word code: a class width of 2, the one word's class 3, and its
 * offset, C(0, 1) + C(2, 2) + C(3, 3) = 2, in the 4 bits of C(5, 3) - 1.
 * An offset at or past C(5, 3), or a padding bit set, is refused by the
 * decoder and by a search that reads the word.
 */
START_TEST(plate_rrr_bytes)
{
    static const char *const plates[] = {"A1", "AB12CDE", "Z9", "7", "XY51ABC"};
    static const uint8_t want[] = {0x02, 0x03, 0x02,                         /* class width, class 3, offset 2 */
                                   0xcc, 0x3a, 0x00, 0x0d, 0x43, 0x35,       /* letters 15,052 and 6,981,146 */
                                   0x00, 0x10, 0x00, 0x00, 0x00, 0x00, 0x08, /* ages 12 and 51 */
                                   0x00, 0x00, 0x00, 0x00, 0x00, 0x00,       /* */
                                   0x02,                                     /* ranks: 0 + 1 * 2 */
                                   0x01, 0x01, 0x10, 0x00, 0x01, 0x0c, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
                                   0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x11, 0x00, 0x03, 0x17, 0x60, 0x20};
    enum { N = 5 };
    anpr_row rows[N], back[N];
    uint32_t at[N];
    size_t nhit;
    enc_buf b = {0};
    check_plate_bytes(ENC_PLATE_RRR, plates, N, want, sizeof want, rows, &b);
    uint32_t pick[3] = {0, 3, 4};
    ck_assert_int_eq(enc_plate_decode_at(back, pick, 3, NULL, N, ENC_PLATE_RRR, b.data, b.len), 0);
    ck_assert_str_eq(back[0].plate, "A1");
    ck_assert_str_eq(back[1].plate, "7");
    ck_assert_str_eq(back[2].plate, "XY51ABC");
    static const find_case finds[] = {
        {"XY51ABC", 0, 1, 4}, {"A812CDE", 1, 1, 1}, {"Z9", 0, 1, 2}, {"7", 0, 1, 3}, {"Z8", 0, 0, 0}};
    check_finds(ENC_PLATE_RRR, &b, plates, N, finds, sizeof finds / sizeof finds[0]);
    /* Offsets 10 (= C(5, 3)) and 15, a padding bit after the offset, a class width of 8: all refused. */
    static const struct {
        size_t at;
        uint8_t to;
    } damage[] = {{2, 0x0a}, {2, 0x0f}, {2, 0x12}, {0, 0x08}};
    static const char *const targets[] = {"XY51ABC", "Z9"};
    for (size_t d = 0; d < sizeof damage / sizeof damage[0]; d++) {
        uint8_t bad[sizeof want];
        memcpy(bad, want, sizeof want);
        bad[damage[d].at] = damage[d].to;
        ck_assert_msg(enc_plate_decode(back, N, ENC_PLATE_RRR, bad, sizeof bad) == ANPR_ECORRUPT, "damage %zu", d);
        ck_assert_int_eq(enc_plate_decode_at(back, pick, 3, NULL, N, ENC_PLATE_RRR, bad, sizeof bad), ANPR_ECORRUPT);
        for (size_t t = 0; t < 2; t++) {
            enc_plate_target *tg;
            ck_assert_int_eq(enc_plate_target_new(&tg, targets[t], 0), 0);
            ck_assert_msg(enc_plate_find(ENC_PLATE_RRR, bad, sizeof bad, N, tg, at, back, &nhit) == ANPR_ECORRUPT,
                          "damage %zu, %s", d, targets[t]);
            enc_plate_target_free(tg);
        }
    }
    enc_buf_free(&b);
}
END_TEST

/*
 * plate-rrr against plate-age-radix on blocks of every size that ends a
 * word differently, from no long form to all long forms: the same bytes but
 * for the bitmap, the same plates whole and row by row, and each plate
 * found where it is. A block's most rows are written, one more refused.
 */
START_TEST(plate_rrr_blocks)
{
    static const size_t sizes[] = {1, 63, 64, 65, 200, 4096, 8192};
    static const unsigned per_mille[] = {0, 140, 500, 1000};
    anpr_row *rows = calloc(8192, sizeof *rows), *back = calloc(8192, sizeof *back);
    uint32_t *at = calloc(8192, sizeof *at);
    uint8_t *bitmap = calloc(8192 / 8, 1);
    ck_assert(rows && back && at && bitmap);
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        for (size_t d = 0; d < sizeof per_mille / sizeof per_mille[0]; d++) {
            size_t n = sizes[s];
            memset(bitmap, 0, (n + 7) / 8);
            for (size_t i = 0; i < n; i++) {
                memset(rows[i].plate, 0, sizeof rows[i].plate);
                if (next() % 1000 < per_mille[d]) {
                    snprintf(rows[i].plate, sizeof rows[i].plate, "Q%zu", i % 997);
                    bitmap[i / 8] |= (uint8_t)(1u << (i % 8));
                } else {
                    aged_plate(rows[i].plate, (uint32_t)(next() % 300000), (unsigned)(next() % 40) + 51 * (i % 2));
                }
            }
            enc_buf radix = {0}, rrr = {0}, code = {0};
            ck_assert_int_eq(enc_plate_encode(&radix, ENC_PLATE_AGE_RADIX, rows, n), 0);
            ck_assert_int_eq(enc_plate_encode(&rrr, ENC_PLATE_RRR, rows, n), 0);
            ck_assert_int_eq(rrr_encode(&code, bitmap, n), 0);
            size_t nb = (n + 7) / 8;
            ck_assert_uint_eq(rrr.len, radix.len - nb + code.len);
            ck_assert_mem_eq(rrr.data, code.data, code.len);
            ck_assert_mem_eq(rrr.data + code.len, radix.data + nb, radix.len - nb);
            check_reads_back(ENC_PLATE_RRR, &rrr, rows, n, back, at);
            enc_buf_free(&radix);
            enc_buf_free(&rrr);
            enc_buf_free(&code);
        }
    }
    free(rows);
    free(back);
    free(at);
    free(bitmap);
    /* A block's most rows, 65,536, and one more, which plate-rrr refuses to write. */
    anpr_row *big = calloc(RRR_MAX_ROWS + 1, sizeof *big);
    ck_assert_ptr_nonnull(big);
    for (size_t i = 0; i <= RRR_MAX_ROWS; i++) strcpy(big[i].plate, i % 7 ? "AB12CDE" : "Q7");
    enc_buf b = {0};
    ck_assert_int_eq(enc_plate_encode(&b, ENC_PLATE_RRR, big, RRR_MAX_ROWS), 0);
    ck_assert_int_eq(enc_plate_decode(big, RRR_MAX_ROWS, ENC_PLATE_RRR, b.data, b.len), 0);
    ck_assert_str_eq(big[RRR_MAX_ROWS - 1].plate, (RRR_MAX_ROWS - 1) % 7 ? "AB12CDE" : "Q7");
    b.len = 0;
    ck_assert_int_eq(enc_plate_encode(&b, ENC_PLATE_RRR, big, RRR_MAX_ROWS + 1), ANPR_EINVAL);
    enc_buf_free(&b);
    free(big);
}
END_TEST

/*
 * plate-part's probe of b (n rows) for plate, its table checked against
 * table_sum (0: the table's own): 1 absent, 0 maybe there, or the error,
 * with *what.
 */
static int part_absent(const enc_buf *b, size_t n, const char *plate, int fold, uint32_t table_sum, const char **what)
{
    enc_plate_target *tg;
    ck_assert_int_eq(enc_plate_target_new(&tg, plate, fold), 0);
    *what = NULL;
    if (!table_sum) table_sum = enc_part_sum(b->data, ENC_PART_TABLE_BYTES);
    uint32_t *scratch = malloc((n ? n : 1) * sizeof *scratch);
    ck_assert_ptr_nonnull(scratch);
    int rc = enc_plate_part_absent(b->data, b->len, n, tg, table_sum, scratch, what);
    free(scratch);
    enc_plate_target_free(tg);
    return rc;
}

/*
 * plate-part byte for byte (the example in docs/format.md): the table (the
 * parts' counts, their sums and the long forms' sum and length), the letters
 * of AB12CDE (15,052 = 8 * 1,881 + 4) in part 4 and of XY51ABC (6,981,146 =
 * 8 * 872,643 + 2) in part 2, their part ids 4 and 2 in row order, then
 * plate-rrr's bytes without its letters. The probe from the table and the
 * parts alone: absent when the plate's part lacks its letters, or when no
 * long form matches one that may be a long form; a damaged table, or a
 * damaged part that it reads, is refused; one that it does not read is
 * left to the decoder and to enc_plate_part_check. The search on the
 * sections' sums refuses damage in what it reads, and finds the plate
 * through damage in what it does not.
 */
START_TEST(plate_part_bytes)
{
    static const char *const plates[] = {"A1", "AB12CDE", "Z9", "7", "XY51ABC"};
    static const uint8_t want[] = {
        0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* counts */
        0xc2, 0x94, 0xd3, 0x38, 0xc2, 0x94, 0xd3, 0x38, 0x39, 0x95, 0x93, 0x34, 0xc2, 0x94, 0xd3, 0x38, /* sums */
        0x02, 0x3d, 0xa2, 0x22, 0xc2, 0x94, 0xd3, 0x38, 0xc2, 0x94, 0xd3, 0x38, 0xc2, 0x94, 0xd3, 0x38, /* */
        0x63, 0xa2, 0x56, 0x9c,                                                 /* part ids to ranks: sum */
        0x43, 0x2a, 0x95, 0xa0, 0x18, 0x00, 0x00, 0x00,                         /* long forms: sum, 24 bytes */
        0xc3, 0x50, 0x0d, 0x59, 0x07, 0x00,                                     /* parts 2 and 4 */
        0x14,                                                                   /* part ids 4, 2 */
        0x02, 0x03, 0x02,                                                       /* plate-rrr's bitmap */
        0x00, 0x10, 0x00, 0x00, 0x00, 0x00, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, /* ages, ranks */
        0x01, 0x01, 0x10, 0x00, 0x01, 0x0c, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* long forms */
        0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x11, 0x00, 0x03, 0x17, 0x60, 0x20};
    enum { N = 5, PART2 = 60, PART4 = 63, MID = 66, LONG_FORMS = 84 };
    anpr_row rows[N], back[N];
    enc_buf b = {0};
    check_plate_bytes(ENC_PLATE_PART, plates, N, want, sizeof want, rows, &b);
    /* The sums are the sections' own: an empty part's, parts 2 and 4, the long forms. */
    ck_assert_uint_eq(get_u32(want + 16), enc_part_sum(want, 0));
    ck_assert_uint_eq(get_u32(want + 16 + 4 * 2), enc_part_sum(want + PART2, 3));
    ck_assert_uint_eq(get_u32(want + 16 + 4 * 4), enc_part_sum(want + PART4, 3));
    ck_assert_uint_eq(get_u32(want + 48), enc_part_sum(want + MID, LONG_FORMS - MID));
    ck_assert_uint_eq(get_u32(want + 52), enc_part_sum(want + LONG_FORMS, 24));
    uint32_t pick[3] = {0, 3, 4};
    ck_assert_int_eq(enc_plate_decode_at(back, pick, 3, NULL, N, ENC_PLATE_PART, b.data, b.len), 0);
    ck_assert_str_eq(back[0].plate, "A1");
    ck_assert_str_eq(back[1].plate, "7");
    ck_assert_str_eq(back[2].plate, "XY51ABC");
    static const find_case finds[] = {{"XY51ABC", 0, 1, 4}, {"A812CDE", 1, 1, 1}, {"AB12CDE", 0, 1, 1},
                                      {"Z9", 0, 1, 2},      {"7", 0, 1, 3},       {"Z8", 0, 0, 0},
                                      {"XY52ABC", 0, 0, 0}};
    check_finds(ENC_PLATE_PART, &b, plates, N, finds, sizeof finds / sizeof finds[0]);
    static const struct {
        const char *plate;
        int fold, absent;
    } probes[] = {{"XY51ABC", 0, 0}, {"XY52ABC", 0, 0}, /* part 2 holds the letters; the age is the search's */
                  {"AB12CDF", 0, 1}, {"Z8", 0, 1},      {"Z9", 0, 0}, {"A812C0E", 1, 0}, {"XY51A8C", 1, 0}};
    const char *what;
    for (size_t k = 0; k < sizeof probes / sizeof probes[0]; k++)
        ck_assert_msg(part_absent(&b, N, probes[k].plate, probes[k].fold, 0, &what) == probes[k].absent, "%s",
                      probes[k].plate);
    ck_assert_int_eq(enc_plate_part_check(b.data, b.len, N, enc_part_sum(want, ENC_PART_TABLE_BYTES), &what), 0);
    ck_assert_int_eq(enc_plate_part_check(b.data, b.len, N, 0, &what), ANPR_ECORRUPT);
    ck_assert_str_eq(what, "table");
    /* Every byte changed in turn. */
    const uint32_t table_sum = enc_part_sum(want, ENC_PART_TABLE_BYTES);
    enc_plate_target *tg51;
    ck_assert_int_eq(enc_plate_target_new(&tg51, "XY51ABC", 0), 0);
    uint32_t hit[N];
    for (size_t at = 0; at < sizeof want; at++) {
        memcpy(b.data, want, sizeof want);
        b.data[at] ^= 0x10;
        int in_table = at < ENC_PART_TABLE_BYTES, in_part2 = at >= PART2 && at < PART2 + 3;
        int in_part4 = at >= PART4 && at < PART4 + 3, in_mid = at >= MID && at < LONG_FORMS, in_lf = at >= LONG_FORMS;
        /* The table is checked against its sum, kept outside the chunk: a changed table is refused. */
        int rc = part_absent(&b, N, "XY51ABC", 0, table_sum, &what);
        if (in_table || in_part2) {
            ck_assert_msg(rc == ANPR_ECORRUPT, "byte %zu: %d", at, rc);
            ck_assert_str_eq(what, in_table ? "table" : "letters part 2");
        } else {
            ck_assert_msg(rc == 0, "byte %zu: %d", at, rc);
        }
        /* The search for it reads the part ids, the bitmap and the ages too. */
        size_t nhit = 0;
        rc = enc_plate_part_find(b.data, b.len, N, tg51, table_sum, hit, back, &nhit, &what);
        if (in_table || in_part2 || in_mid) {
            ck_assert_msg(rc == ANPR_ECORRUPT, "byte %zu: %d", at, rc);
        } else {
            ck_assert_msg(rc == 0 && nhit == 1 && hit[0] == 4, "byte %zu: %d", at, rc);
            ck_assert_str_eq(back[0].plate, "XY51ABC");
        }
        /* A search that may meet a long form reads them, checked. */
        rc = part_absent(&b, N, "Z8", 0, table_sum, &what);
        if (in_table || in_lf) ck_assert_msg(rc == ANPR_ECORRUPT, "byte %zu: %d", at, rc);
        else ck_assert_msg(rc == 1, "byte %zu: %d", at, rc);
        /* Each section by its sum; the decoder refuses any change. */
        rc = enc_plate_part_check(b.data, b.len, N, table_sum, &what);
        ck_assert_int_eq(rc, in_table || in_part2 || in_part4 || in_mid || in_lf ? ANPR_ECORRUPT : 0);
        ck_assert_msg(enc_plate_decode(back, N, ENC_PLATE_PART, b.data, b.len) == ANPR_ECORRUPT, "byte %zu", at);
    }
    enc_plate_target_free(tg51);
    enc_buf_free(&b);
}
END_TEST

/*
 * plate-part against plate-rrr on blocks of every size that ends a group of
 * part ids or a word differently, from no long form to all, and with the
 * letters spread over the parts or all in one: the same plates whole and
 * row by row, each found where it is, and the probe never calls a plate of
 * the block absent. A part of more than 65,535 letters cannot be written:
 * enc_plate_encode_best then writes plate-split.
 */
START_TEST(plate_part_blocks)
{
    static const size_t sizes[] = {1, 15, 16, 17, 63, 64, 65, 200, 4096, 8192};
    static const unsigned per_mille[] = {0, 140, 1000};
    anpr_row *rows = calloc(8192, sizeof *rows), *back = calloc(8192, sizeof *back);
    uint32_t *at = calloc(8192, sizeof *at);
    ck_assert(rows && back && at);
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        for (size_t d = 0; d < sizeof per_mille / sizeof per_mille[0]; d++) {
            for (int one_part = 0; one_part < 2; one_part++) {
                size_t n = sizes[s];
                for (size_t i = 0; i < n; i++) {
                    memset(rows[i].plate, 0, sizeof rows[i].plate);
                    if (next() % 1000 < per_mille[d])
                        snprintf(rows[i].plate, sizeof rows[i].plate, "Q%zu", i % 997);
                    else
                        aged_plate(rows[i].plate, (uint32_t)(next() % 300000), (unsigned)(next() % 40));
                    /* Last letter A: every letters value a multiple of 8, so all in part 0. */
                    if (one_part && rows[i].plate[0] != 'Q') rows[i].plate[6] = 'A';
                }
                enc_buf rrr = {0}, part = {0};
                ck_assert_int_eq(enc_plate_encode(&rrr, ENC_PLATE_RRR, rows, n), 0);
                ck_assert_int_eq(enc_plate_encode(&part, ENC_PLATE_PART, rows, n), 0);
                /* The same 23 bits a plate: only the table and the padding of nine arrays added. */
                ck_assert_uint_le(part.len, rrr.len + ENC_PART_TABLE_BYTES + 9);
                check_reads_back(ENC_PLATE_PART, &part, rows, n, back, at);
                const char *what;
                for (size_t i = 0; i < n; i += 1 + n / 40)
                    ck_assert_int_eq(part_absent(&part, n, rows[i].plate, 0, 0, &what), 0);
                enc_buf_free(&rrr);
                enc_buf_free(&part);
            }
        }
    }
    free(rows);
    free(back);
    free(at);
    /* No rows: no bytes, as in every plate encoding. */
    enc_buf none = {0};
    ck_assert_int_eq(enc_plate_encode(&none, ENC_PLATE_PART, NULL, 0), 0);
    ck_assert_uint_eq(none.len, 0);
    ck_assert_int_eq(enc_plate_decode(NULL, 0, ENC_PLATE_PART, (const uint8_t *)"", 0), 0);
    ck_assert_int_eq(enc_plate_decode(NULL, 0, ENC_PLATE_PART, (const uint8_t *)"x", 1), ANPR_ECORRUPT);
    /* 65,536 rows whose letters all fall in one part: too many for its count. */
    anpr_row *big = calloc(RRR_MAX_ROWS, sizeof *big);
    ck_assert_ptr_nonnull(big);
    for (size_t i = 0; i < RRR_MAX_ROWS; i++) strcpy(big[i].plate, "AB12CDE");
    enc_buf b = {0};
    unsigned id;
    ck_assert_int_eq(enc_plate_encode(&b, ENC_PLATE_PART, big, RRR_MAX_ROWS), -E2BIG);
    ck_assert_uint_eq(b.len, 0);
    ck_assert_int_eq(enc_plate_encode_best(&b, ENC_PLATE_PART, &id, big, RRR_MAX_ROWS), 0);
    ck_assert_uint_eq(id, ENC_PLATE_SPLIT);
    /* One letters fewer in that part, and one row elsewhere: plate-part. */
    strcpy(big[0].plate, "AB12CDF");
    b.len = 0;
    ck_assert_int_eq(enc_plate_encode_best(&b, ENC_PLATE_PART, &id, big, RRR_MAX_ROWS), 0);
    ck_assert_uint_eq(id, ENC_PLATE_PART);
    ck_assert_int_eq(enc_plate_decode(big, RRR_MAX_ROWS, ENC_PLATE_PART, b.data, b.len), 0);
    ck_assert_str_eq(big[0].plate, "AB12CDF");
    ck_assert_str_eq(big[RRR_MAX_ROWS - 1].plate, "AB12CDE");
    enc_buf_free(&b);
    free(big);
}
END_TEST

/*
 * A current-format value past the last plate is refused by the finder as by
 * the decoder, wherever it sits: in the four-at-a-time part of the scan or
 * in its tail.
 */
START_TEST(plate_find_refuses_out_of_range_values)
{
    enum { N = 103 };
    static anpr_row rows[N], back[N];
    uint32_t at[N];
    memset(rows, 0, sizeof rows);
    for (int i = 0; i < N; i++) strcpy(rows[i].plate, i % 2 ? "AB12CDE" : "XY51ABC");
    /* A current-format target, and one without a current-format code (the scan then only checks the range). */
    enc_plate_target *tg, *tg_other;
    size_t nhit;
    ck_assert_int_eq(enc_plate_target_new(&tg, "AB12CDE", 0), 0);
    ck_assert_int_eq(enc_plate_target_new(&tg_other, "A1", 0), 0);
    /* plate-split's 30-bit values, and plate-age's 23-bit letters (7,312,896 of them) */
    static const struct {
        unsigned id, width;
    } encs[] = {{ENC_PLATE_SPLIT, 30}, {ENC_PLATE_AGE, 23}};
    for (size_t e = 0; e < 2; e++)
        for (size_t j = 0; j < N; j += 17) {
            unsigned id = encs[e].id, w = encs[e].width;
            enc_buf b = {0};
            ck_assert_int_eq(enc_plate_encode(&b, id, rows, N), 0);
            /* Value j (all rows are current-format) starts at bit w j after the bitmap's (N + 7) / 8 bytes. */
            for (unsigned k = 0; k < w; k++) {
                size_t bit = 8 * ((N + 7) / 8) + w * j + k;
                b.data[bit / 8] |= (uint8_t)(1u << (bit % 8)); /* all ones: 2^w - 1, past the last value */
            }
            ck_assert_int_eq(enc_plate_decode(back, N, id, b.data, b.len), ANPR_ECORRUPT);
            for (int vector = 0; vector < 2; vector++) {
                ck_assert_int_eq(enc_plate_find_with(id, b.data, b.len, N, tg, at, back, &nhit, vector),
                                 ANPR_ECORRUPT);
                ck_assert_int_eq(enc_plate_find_with(id, b.data, b.len, N, tg_other, at, back, &nhit, vector),
                                 ANPR_ECORRUPT);
            }
            enc_buf_free(&b);
        }
    enc_plate_target_free(tg);
    enc_plate_target_free(tg_other);
}
END_TEST

START_TEST(bitpack_all_widths)
{
    uint64_t v[130], back[130];
    for (unsigned w = 0; w <= 64; w++) {
        uint64_t mask = w == 64 ? UINT64_MAX : (UINT64_C(1) << w) - 1;
        for (int i = 0; i < 130; i++) v[i] = next() & mask;
        enc_buf b = {0};
        ck_assert_int_eq(bp_pack(&b, v, 130, w), 0);
        ck_assert_uint_eq(b.len, bp_bytes(130, w));
        ck_assert_int_eq(bp_unpack(back, 130, w, b.data), 0);
        ck_assert_mem_eq(back, v, sizeof v);
        enc_buf_free(&b);
    }
}
END_TEST

START_TEST(zstd_round_trip)
{
    ZSTD_CCtx *cc = ZSTD_createCCtx();
    ZSTD_DCtx *dc = ZSTD_createDCtx();
    uint8_t src[10000], back[10000];
    for (size_t i = 0; i < sizeof src; i++) src[i] = (uint8_t)(i % 17);
    enc_buf b = {0};
    ck_assert_int_eq(enc_zstd_compress(&b, cc, 3, src, sizeof src), 0);
    ck_assert_uint_lt(b.len, sizeof src / 10);
    ck_assert_int_eq(enc_zstd_decompress(back, sizeof back, dc, b.data, b.len), 0);
    ck_assert_mem_eq(back, src, sizeof src);
    ck_assert_int_eq(enc_zstd_decompress(back, sizeof back - 1, dc, b.data, b.len), ANPR_ECORRUPT);
    b.data[b.len / 2] ^= 0x20;
    /* A damaged frame is refused or, at worst, caught by the chunk checksum before this. */
    enc_zstd_decompress(back, sizeof back, dc, b.data, b.len);
    ck_assert_int_eq(enc_zstd_decompress(back, sizeof back, dc, b.data, 3), ANPR_ECORRUPT);
    enc_buf_free(&b);
    ZSTD_freeCCtx(cc);
    ZSTD_freeDCtx(dc);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("encode");
    TCase *tc = tcase_create("encode");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, int_edges);
    tcase_add_test(tc, best_picks_small);
    tcase_add_test(tc, int_garbage_refused);
    tcase_add_test(tc, huffman_bytes);
    tcase_add_test(tc, rice_dense_checkpoints);
    tcase_add_test(tc, rice_k_as_specified);
    tcase_add_test(tc, rice_window_matches_scan);
    tcase_add_test(tc, plates_round_trip);
    tcase_add_test(tc, plate_find_matches_decoding);
    tcase_add_test(tc, plate_find_small_blocks_of_hits);
    tcase_add_test(tc, plate_find_refuses_out_of_range_values);
    tcase_add_test(tc, plate_shapes_bytes);
    tcase_add_test(tc, plate_age_bytes);
    tcase_add_test(tc, plate_age_radix_bytes);
    tcase_add_test(tc, plate_age_radix_groups);
    tcase_add_test(tc, rrr_words);
    tcase_add_test(tc, rrr_bitmaps);
    tcase_add_test(tc, plate_rrr_bytes);
    tcase_add_test(tc, plate_rrr_blocks);
    tcase_add_test(tc, plate_part_bytes);
    tcase_add_test(tc, plate_part_blocks);
    tcase_add_test(tc, plate_decode_at_matches_decoding);
    tcase_add_test(tc, bitpack_all_widths);
    tcase_add_test(tc, zstd_round_trip);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
