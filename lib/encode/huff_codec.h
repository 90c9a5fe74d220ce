/*
 * huffman-ck (encoding 10): values spanning at most 256 (OCR confidence,
 * lane) Huffman-coded per chunk, with the bit offset of every 128th value
 * kept in a table so that one row is decoded without the rows before its
 * group. Called through enc_int_encode / enc_int_decode / enc_int_decode_at,
 * whose contracts these share; docs/format.md has the bytes.
 */
#ifndef ANPR_ENCODE_HUFF_CODEC_H
#define ANPR_ENCODE_HUFF_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include "encode/encode.h"

/* ANPR_EINVAL when the values span more than 256. */
int huff_encode(enc_buf *out, const int64_t *v, size_t n);
/*
 * huff_encode only if the chunk comes out under limit bytes: 0 when
 * written, 1 when it would not be smaller (nothing written; its size
 * follows from the counts, so nothing is encoded to find out).
 */
int huff_encode_within(enc_buf *out, const int64_t *v, size_t n, size_t limit);
int huff_decode(int64_t *v, size_t n, const uint8_t *src, size_t len);
int huff_decode_at(int64_t *v, const uint32_t *at, size_t nat, size_t n, const uint8_t *src, size_t len);
/*
 * The first count (at most n) of the n values, checked as huff_decode_at
 * checks them (bounds, not that the lengths are the encoder's): for a
 * reader that wants the values in order without the cost of the full check.
 */
int huff_decode_first(int64_t *v, size_t count, size_t n, const uint8_t *src, size_t len);

#endif
