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

#include "anpr/anpr.h"
#include "common/bytes.h"
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

/*
 * The w bits (w <= 64) at bit `bit` of a run of nbytes bytes (they must lie
 * within it); never reads past the run.
 */
static inline uint64_t bp_get_bits(const uint8_t *src, size_t nbytes, size_t bit, unsigned w)
{
    if (w == 0) return 0;
    size_t byte = bit / 8;
    unsigned shift = (unsigned)(bit % 8);
    uint8_t win[16];
    const uint8_t *at = src + byte;
    if (byte + 9 > nbytes) {
        /* Near the end: the bytes that are left, in a zeroed window. */
        __builtin_memset(win, 0, sizeof win);
        __builtin_memcpy(win, at, nbytes - byte);
        at = win;
    }
    uint64_t x = get_u64(at) >> shift;
    if (shift + w > 64) x |= (uint64_t)at[8] << (64 - shift);
    return w == 64 ? x : x & ((UINT64_C(1) << w) - 1);
}

/* Value k alone of a packed run of nbytes bytes (k must lie within it); never reads past the run. */
static inline uint64_t bp_get(const uint8_t *src, size_t nbytes, size_t k, unsigned w)
{
    return bp_get_bits(src, nbytes, k * w, w);
}

/* Are the bits after n values of width w, up to the end of their last byte, zero (as writers leave them)? */
static inline int bp_tail_zero(const uint8_t *src, size_t n, unsigned w)
{
    size_t used = n * w;
    return used % 8 == 0 || (src[used / 8] >> (used % 8)) == 0;
}

/* A bit reader/writer for mixed widths (plates: 4-bit length, 6-bit characters). */
typedef struct bit_writer {
    enc_buf *out;
    uint64_t acc;
    unsigned bits;
} bit_writer;

/* bw_put's slow path: room for another word in the output. */
int bw_grow(bit_writer *bw);

/*
 * Append v in w bits (w <= 57, as at most 7 bits wait in acc). Inline: the
 * Huffman, Rice and plate encoders call it for every value.
 */
static inline int bw_put(bit_writer *bw, uint64_t v, unsigned w)
{
    /* At most 7 bits wait in acc, so it holds the new value whole. */
    bw->acc |= v << bw->bits;
    bw->bits += w;
    if (bw->bits >= 8) {
        /* Store a whole word and advance by the complete bytes; the rest is overwritten later. */
        enc_buf *out = bw->out;
        if (out->cap - out->len < 8) {
            int rc = bw_grow(bw);
            if (rc < 0) return rc;
        }
        put_u64(out->data + out->len, bw->acc);
        unsigned nbytes = bw->bits / 8;
        out->len += nbytes;
        bw->acc >>= 8 * nbytes;
        bw->bits -= 8 * nbytes;
    }
    return 0;
}
int bw_finish(bit_writer *bw);

typedef struct bit_reader {
    const uint8_t *p;
    size_t len;      /* bytes */
    size_t pos;      /* bit position */
} bit_reader;

/*
 * The next 57 or more bits from the reader's position, least significant
 * first, without moving it; bits past the end read as zero. Inline: decoders
 * call it for every value.
 */
static inline uint64_t br_peek(const bit_reader *br)
{
    size_t byte = br->pos / 8;
    uint64_t x = 0;
    if (byte + 8 <= br->len) {
        __builtin_memcpy(&x, br->p + byte, 8);
#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
        x = __builtin_bswap64(x);
#endif
    } else {
        for (size_t i = byte; i < br->len; i++) x |= (uint64_t)br->p[i] << (8 * (i - byte));
    }
    return x >> (br->pos % 8);
}

/* Returns 0, or ANPR_ECORRUPT when fewer than w bits remain. w <= 32. */
static inline int br_get(bit_reader *br, unsigned w, uint32_t *v)
{
    if (br->pos + w > br->len * 8) return ANPR_ECORRUPT;
    *v = (uint32_t)(br_peek(br) & ((UINT64_C(1) << w) - 1));
    br->pos += w;
    return 0;
}

/* Bits left to read. */
static inline size_t br_left(const bit_reader *br)
{
    return br->len * 8 - br->pos;
}
/* ANPR_ECORRUPT unless only zero padding bits (fewer than 8) remain. */
int br_finish(const bit_reader *br);

#endif
