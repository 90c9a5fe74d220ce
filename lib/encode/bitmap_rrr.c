/* A bitmap coded by words, each as its class and offset (bitmap_rrr.h). */
#include "encode/bitmap_rrr.h"

#include "anpr/anpr.h"

/* C(i, j), with C(i, j) = 0 for i < j as the number system has it. */
static inline uint64_t choose(unsigned i, unsigned j)
{
    return j > i ? 0 : binomial(i, j);
}

uint64_t rrr_rank(uint64_t w)
{
    uint64_t x = 0;
    for (unsigned j = 1; w; j++, w &= w - 1) x += choose((unsigned)__builtin_ctzll(w), j);
    return x;
}

int rrr_unrank(unsigned t, unsigned c, uint64_t x, uint64_t *w)
{
    *w = 0;
    if (x >= binomial(t, c)) return -1;
    /*
     * The c-th one is at the highest p with C(p, c) <= x, and so on down:
     * each one lies below the one before, and never below j - 1 (C(j - 1, j)
     * is 0), so the walk down from t visits each row once. x < C(t, c)
     * keeps every step in range. (Written without branches on the bits it
     * took 1.5 times as long: each row's step then waits for the one
     * before, where here the loads of a run of zeros go ahead together.)
     */
    uint64_t bits = 0;
    unsigned p = t;
    for (unsigned j = c; j > 0; j--) {
        do p--;
        while (p >= j && binomial(p, j) > x);
        x -= choose(p, j);
        bits |= UINT64_C(1) << p;
    }
    *w = bits;
    return 0;
}

/* Word k of a plain n-bit bitmap, zero past n. */
static uint64_t plain_word(const uint8_t *bitmap, size_t n, size_t k)
{
    uint64_t w = 0;
    for (size_t b = 0; b < 8 && 64 * k + 8 * b < n; b++) w |= (uint64_t)bitmap[8 * k + b] << (8 * b);
    return w;
}

int rrr_encode(enc_buf *out, const uint8_t *bitmap, size_t n)
{
    if (n == 0) return 0; /* no rows, no bytes: not even the class width */
    if (n > RRR_MAX_ROWS) return ANPR_EINVAL;
    size_t words = (n + 63) / 64;
    unsigned top = 0;
    for (size_t k = 0; k < words; k++) {
        unsigned c = (unsigned)__builtin_popcountll(plain_word(bitmap, n, k));
        if (c > top) top = c;
    }
    uint8_t width = (uint8_t)bp_width(top);
    int rc = enc_buf_append(out, &width, 1);
    bit_writer bw = {out, 0, 0};
    for (size_t k = 0; rc == 0 && k < words; k++)
        rc = bw_put(&bw, (uint64_t)__builtin_popcountll(plain_word(bitmap, n, k)), width);
    if (rc == 0) rc = bw_finish(&bw);
    bw = (bit_writer){out, 0, 0};
    for (size_t k = 0; rc == 0 && k < words; k++) {
        uint64_t w = plain_word(bitmap, n, k);
        unsigned bits = rrr_word_bits(n, k, (unsigned)__builtin_popcountll(w));
        uint64_t x = rrr_rank(w);
        /* Up to 61 bits, where bw_put takes 57: in two pieces. */
        rc = bw_put(&bw, x & 0xFFFFFFFFu, bits < 32 ? bits : 32);
        if (rc == 0 && bits > 32) rc = bw_put(&bw, x >> 32, bits - 32);
    }
    return rc == 0 ? bw_finish(&bw) : rc;
}

int rrr_open(rrr_parts *p, uint8_t *classes, const uint8_t *src, size_t len, size_t n)
{
    if (n == 0) {
        *p = (rrr_parts){0};
        return 0;
    }
    if (n > RRR_MAX_ROWS || len < 1 || src[0] > RRR_MAX_CLASS_WIDTH) return -1;
    unsigned width = src[0];
    size_t words = (n + 63) / 64, at = 1, classes_len = bp_bytes(words, width);
    if (len - at < classes_len || !bp_tail_zero(src + at, words, width)) return -1;
    /* The classes in order, a byte of the chunk at a time (a class is at most 7 bits). */
    const uint8_t *next = src + at;
    uint64_t acc = 0;
    unsigned have = 0, top = 0;
    size_t ones = 0, bits = 0;
    for (size_t k = 0; k < words; k++) {
        if (have < width) {
            acc |= (uint64_t)*next++ << have;
            have += 8;
        }
        unsigned t = rrr_word_rows(n, k), c = (unsigned)(acc & ((1u << width) - 1));
        acc >>= width;
        have -= width;
        if (c > t) return -1;
        if (c > top) top = c;
        classes[k] = (uint8_t)c;
        ones += c;
        bits += rrr_word_bits(n, k, c);
    }
    at += classes_len;
    /* One coding of each bitmap: the width is the largest class's, as the writer makes it. */
    if (bp_width(top) != width) return -1;
    p->offsets = src + at;
    p->offsets_len = (bits + 7) / 8;
    if (len - at < p->offsets_len || !bp_tail_zero(p->offsets, bits, 1)) return -1;
    p->ones = ones;
    p->len = at + p->offsets_len;
    return 0;
}
