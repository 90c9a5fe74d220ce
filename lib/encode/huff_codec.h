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
/* The bytes huff_encode would write, without writing them; SIZE_MAX when it would refuse. */
size_t huff_encoded_size(const int64_t *v, size_t n);
int huff_decode(int64_t *v, size_t n, const uint8_t *src, size_t len);
int huff_decode_at(int64_t *v, const uint32_t *at, size_t nat, size_t n, const uint8_t *src, size_t len);

#endif
