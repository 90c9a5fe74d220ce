/* Fixed-width and mixed-width bit packing, least significant bit first. */
#include "encode/bitpack.h"

#include <string.h>

#include "anpr/anpr.h"
#include "common/bytes.h"

int bp_pack(enc_buf *out, const uint64_t *v, size_t n, unsigned w)
{
    size_t nbytes = bp_bytes(n, w);
    /* Whole 8-byte words are stored; reserve a word of slack and trim to nbytes after. */
    int rc = enc_buf_reserve(out, nbytes + 8);
    if (rc < 0) return rc;
    uint8_t *p = out->data + out->len;
    if (w == 64) {
        for (size_t i = 0; i < n; i++) put_u64(p + 8 * i, v[i]);
    } else if (w > 0) {
        uint64_t acc = 0;
        unsigned bits = 0;
        uint8_t *q = p;
        for (size_t i = 0; i < n; i++) {
            acc |= v[i] << bits;
            if (bits + w >= 64) {
                put_u64(q, acc);
                q += 8;
                /* bits > 0 here because w < 64, so the shift is in 1..63. */
                acc = v[i] >> (64 - bits);
                bits = bits + w - 64;
            } else {
                bits += w;
            }
        }
        uint8_t tail[8];
        put_u64(tail, acc);
        memcpy(q, tail, (bits + 7) / 8);
    }
    out->len += nbytes;
    return 0;
}

int bp_unpack(uint64_t *v, size_t n, unsigned w, const uint8_t *src)
{
    size_t nbytes = bp_bytes(n, w);
    for (size_t i = 0; i < n; i++) v[i] = bp_get(src, nbytes, i, w);
    return bp_tail_zero(src, n, w) ? 0 : ANPR_ECORRUPT;
}

int bw_grow(bit_writer *bw)
{
    return enc_buf_reserve(bw->out, 8);
}

int bw_finish(bit_writer *bw)
{
    if (bw->bits == 0) return 0;
    uint8_t b = (uint8_t)bw->acc;
    bw->acc = 0;
    bw->bits = 0;
    return enc_buf_append(bw->out, &b, 1);
}

int br_finish(const bit_reader *br)
{
    size_t total = br->len * 8;
    if (total - br->pos >= 8) return ANPR_ECORRUPT;
    if (br->pos % 8 && (br->p[br->pos / 8] >> (br->pos % 8)) != 0) return ANPR_ECORRUPT;
    return 0;
}
