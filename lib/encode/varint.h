/*
 * LEB128 varints (7 bits a byte, least significant group first, the top
 * bit set on every byte but the last), as the rle encoding, delta-rice-ck's
 * checkpoints and plate-shapes' table write them. A reader takes only the
 * minimal encoding of a value, so that each value has one.
 */
#ifndef ANPR_ENCODE_VARINT_H
#define ANPR_ENCODE_VARINT_H

#include <stddef.h>
#include <stdint.h>

#include "anpr/anpr.h"
#include "encode/encode.h"

#define VARINT_MAX 10 /* bytes of a 64-bit value */

static inline int put_varint(enc_buf *out, uint64_t v)
{
    uint8_t b[VARINT_MAX];
    size_t n = 0;
    do {
        b[n] = (uint8_t)(v & 0x7f);
        v >>= 7;
        if (v) b[n] |= 0x80;
        n++;
    } while (v);
    return enc_buf_append(out, b, n);
}

/* The varint at src[*pos], *pos moved past it; ANPR_ECORRUPT if it runs past len or is not minimal. */
static inline int get_varint(const uint8_t *src, size_t len, size_t *pos, uint64_t *v)
{
    uint64_t x = 0;
    for (unsigned i = 0; i < VARINT_MAX; i++) {
        if (*pos >= len) return ANPR_ECORRUPT;
        uint8_t b = src[(*pos)++];
        /* The tenth byte may only carry the top bit of a 64-bit value. */
        if (i == VARINT_MAX - 1 && b > 1) return ANPR_ECORRUPT;
        x |= (uint64_t)(b & 0x7f) << (7 * i);
        if (!(b & 0x80)) {
            /* A varint must be minimal (no trailing zero groups), so each value has one encoding. */
            if (i > 0 && b == 0) return ANPR_ECORRUPT;
            *v = x;
            return 0;
        }
    }
    return ANPR_ECORRUPT;
}

#endif
