/*
 * Bit packing shared by the integer and plate codecs: values of a fixed
 * width written least-significant bit first into a byte stream (bit k of
 * the stream is bit k%8 of byte k/8), with the unused bits of the last byte
 * zero.
 */
#ifndef ANPR_ENCODE_BITPACK_H
#define ANPR_ENCODE_BITPACK_H

#include <stddef.h>
#include <stdint.h>

#include "encode/encode.h"

/* Bytes that n values of width w take. */
static inline size_t bp_bytes(size_t n, unsigned w)
{
    return (n * w + 7) / 8;
}

/* Smallest width that holds v (0 for 0). */
static inline unsigned bp_width(uint64_t v)
{
    return v ? 64u - (unsigned)__builtin_clzll(v) : 0u;
}

/* Append n values of width w (each must fit). */
int bp_pack(enc_buf *out, const uint64_t *v, size_t n, unsigned w);

/*
 * Read n values of width w from src, which must hold exactly bp_bytes(n, w)
 * bytes. Returns ANPR_ECORRUPT if the padding bits of the last byte are not zero.
 */
int bp_unpack(uint64_t *v, size_t n, unsigned w, const uint8_t *src);

/* A bit reader/writer for mixed widths (plates: 4-bit length, 6-bit characters). */
typedef struct bit_writer {
    enc_buf *out;
    uint64_t acc;
    unsigned bits;
} bit_writer;

int bw_put(bit_writer *bw, uint64_t v, unsigned w); /* w <= 32 */
int bw_finish(bit_writer *bw);

typedef struct bit_reader {
    const uint8_t *p;
    size_t len;      /* bytes */
    size_t pos;      /* bit position */
} bit_reader;

/* Returns 0, or ANPR_ECORRUPT when fewer than w bits remain. w <= 32. */
int br_get(bit_reader *br, unsigned w, uint32_t *v);
/* ANPR_ECORRUPT unless only zero padding bits (fewer than 8) remain. */
int br_finish(const bit_reader *br);

#endif
