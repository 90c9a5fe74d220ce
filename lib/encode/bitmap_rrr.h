/*
 * A bitmap coded by words (docs/format.md, plate-rrr): each 64-bit word of
 * it as its class, the number of ones, and its offset, its rank among the
 * words of as many rows and that class (the combinatorial number system:
 * ones at positions p1 < p2 < ... < pc have the rank C(p1, 1) + C(p2, 2) +
 * ... + C(pc, c)). A word of t rows and class c has C(t, c) ranks, and its
 * offset takes the bits of C(t, c) - 1: nothing for an empty or a full word,
 * 35 bits for 9 ones in 64. Classes are counted without decoding a word,
 * and a word is decoded alone once the offsets' bits before it are known.
 */
#ifndef ANPR_ENCODE_BITMAP_RRR_H
#define ANPR_ENCODE_BITMAP_RRR_H

#include <stddef.h>
#include <stdint.h>

#include "encode/binomial_table.h"
#include "encode/bitpack.h"

#define RRR_MAX_CLASS_WIDTH 7 /* a class is 0 .. 64 */
#define RRR_MAX_ROWS 65536    /* a segment block's most: a reader keeps a byte a word (rrr_open) */
#define RRR_MAX_WORDS (RRR_MAX_ROWS / 64)

/* Rows in word k of an n-row bitmap (64 but for the last). */
static inline unsigned rrr_word_rows(size_t n, size_t k)
{
    size_t t = n - 64 * k;
    return t < 64 ? (unsigned)t : 64u;
}

/* Bits of the offset of a word of t rows and class c (c <= t <= 64). */
static inline unsigned rrr_offset_bits(unsigned t, unsigned c)
{
    return bp_width(binomial(t, c) - 1);
}

/*
 * rrr_offset_bits(64, c) for every class of a full word, written out: a
 * block's opening sums them over its words (test_encode checks the table).
 */
static const uint8_t rrr_full_word_bits[65] = {
    0, 6, 11, 16, 20, 23, 27, 30, 33, 35, 38, 40, 42, 44, 46, 48, 49, 51, 52, 53, 55, 56, 57, 58, 58, 59, 60,
    60, 60, 61, 61, 61, 61, 61, 61, 61, 60, 60, 60, 59, 58, 58, 57, 56, 55, 53, 52, 51, 49, 48, 46, 44, 42, 40,
    38, 35, 33, 30, 27, 23, 20, 16, 11, 6, 0
};

/* Bits of the offset of word k of an n-row bitmap, of class c. */
static inline unsigned rrr_word_bits(size_t n, size_t k, unsigned c)
{
    unsigned t = rrr_word_rows(n, k);
    return t == 64 ? rrr_full_word_bits[c] : rrr_offset_bits(t, c);
}

/* The rank of word w among the words of its rows and class (its ones below bit 64). */
uint64_t rrr_rank(uint64_t w);

/*
 * The word of t rows and class c (c <= t <= 64) whose rank is x: 0, or -1
 * when x is past the last rank, C(t, c) - 1.
 */
int rrr_unrank(unsigned t, unsigned c, uint64_t x, uint64_t *w);

/*
 * Append n bits of a plain bitmap (bit i of byte i / 8 is row i's; bits
 * past n zero) in the word code: a byte of class width, the classes, the
 * offsets, each part padded to a byte; nothing at all when n is 0.
 * ANPR_EINVAL past RRR_MAX_ROWS rows.
 */
int rrr_encode(enc_buf *out, const uint8_t *bitmap, size_t n);

/* A word-coded bitmap's parts, checked to fit, with its ones counted. */
typedef struct rrr_parts {
    const uint8_t *offsets;
    size_t offsets_len;
    size_t ones;
    size_t len; /* bytes of all three parts */
} rrr_parts;

/*
 * Open an n-row word-coded bitmap at the start of src[0..len), each word's
 * class into classes[] (a byte each, ceil(n / 64) of them): -1 when n is
 * past RRR_MAX_ROWS, the class width is not the largest class's, a class
 * exceeds its word's rows, the parts do not fit len, or a padding bit is
 * set. The offsets themselves are checked as words are decoded.
 */
int rrr_open(rrr_parts *p, uint8_t *classes, const uint8_t *src, size_t len, size_t n);

#endif
