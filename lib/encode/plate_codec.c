/*
 * Plate encodings (encode.h): fixed 16-byte slots; plate6, a 4-bit length
 * plus 6 bits a character; plate-uk, the UK packing as one stream
 * (plate_uk.h); plate-split, plate-shapes and plate-age, the same packing
 * in parts (plate_split.h). Here each call goes to its encoding.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "anpr/anpr.h"
#include "encode/bitpack.h"
#include "encode/encode.h"
#include "encode/plate_split.h"
#include "encode/plate_uk.h"

static const char code_char[36] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";

int enc_plate_decode_at(anpr_row *out, const uint32_t *at, size_t nat, anpr_row *scratch, size_t n, unsigned id,
                        const uint8_t *src, size_t len)
{
    for (size_t k = 0; k < nat; k++)
        if (at[k] >= n || (k > 0 && at[k] <= at[k - 1])) return ANPR_EINVAL;
    if (id == ENC_PLATE_SPLIT) return split_decode_at(out, at, nat, src, len, n);
    if (id == ENC_PLATE_SHAPES || split_ages(id)) return shapes_decode_at(out, at, nat, src, len, n, split_ages(id));
    /* The other encodings are walked whole: written only by version 1, or never by the writer. */
    int rc = enc_plate_decode(scratch, n, id, src, len);
    for (size_t k = 0; rc == 0 && k < nat; k++) memcpy(out[k].plate, scratch[at[k]].plate, sizeof out[k].plate);
    return rc;
}

int enc_plate_encode(enc_buf *out, unsigned id, const anpr_row *rows, size_t n)
{
    if (id == ENC_RAW) {
        int rc = enc_buf_reserve(out, n * 16);
        if (rc < 0) return rc;
        for (size_t i = 0; i < n; i++) {
            uint8_t *p = out->data + out->len + 16 * i;
            size_t len = strnlen(rows[i].plate, ANPR_PLATE_MAX);
            memset(p, 0, 16);
            memcpy(p, rows[i].plate, len);
        }
        out->len += n * 16;
        return 0;
    }
    if (id == ENC_PLATE_SPLIT) return split_encode(out, rows, n, 1, 0);
    if (id == ENC_PLATE_SHAPES || split_ages(id)) return shapes_encode(out, rows, n, split_ages(id));
    if (id != ENC_PLATE6 && id != ENC_PLATE_UK) return ANPR_EINVAL;
    bit_writer bw = {out, 0, 0};
    if (id == ENC_PLATE_UK) {
        for (size_t i = 0; i < n; i++) {
            size_t len = strnlen(rows[i].plate, ANPR_PLATE_MAX);
            if (len == 0) return ANPR_EINVAL;
            int rc = uk_encode_one(&bw, rows[i].plate, len);
            if (rc < 0) return rc;
        }
        return bw_finish(&bw);
    }
    for (size_t i = 0; i < n; i++) {
        size_t len = strnlen(rows[i].plate, ANPR_PLATE_MAX);
        if (len == 0) return ANPR_EINVAL;
        int rc = bw_put(&bw, len, 4);
        for (size_t k = 0; rc == 0 && k < len; k++) {
            int c = plate_char_code(rows[i].plate[k]);
            if (c < 0) return ANPR_EINVAL;
            rc = bw_put(&bw, (uint64_t)c, 6);
        }
        if (rc < 0) return rc;
    }
    return bw_finish(&bw);
}

int enc_plate_encode_best(enc_buf *out, unsigned aged, unsigned *id, const anpr_row *rows, size_t n)
{
    if (!split_ages(aged)) return ANPR_EINVAL;
    *id = aged;
    int rc = shapes_encode(out, rows, n, split_ages(aged));
    if (rc != -E2BIG) return rc;
    *id = ENC_PLATE_SPLIT;
    return split_encode(out, rows, n, 1, 0);
}

int enc_plate_decode(anpr_row *rows, size_t n, unsigned id, const uint8_t *src, size_t len)
{
    if (id == ENC_RAW) {
        if (len != n * 16) return ANPR_ECORRUPT;
        for (size_t i = 0; i < n; i++) {
            const uint8_t *p = src + 16 * i;
            size_t l = 0;
            while (l < 16 && p[l]) l++;
            if (l == 0 || l > ANPR_PLATE_MAX) return ANPR_ECORRUPT;
            for (size_t k = 0; k < 16; k++) {
                if (k < l && plate_char_code((char)p[k]) < 0) return ANPR_ECORRUPT;
                if (k >= l && p[k] != 0) return ANPR_ECORRUPT;
            }
            memcpy(rows[i].plate, p, 16);
        }
        return 0;
    }
    if (id == ENC_PLATE_SPLIT) return split_decode(rows, n, src, len);
    if (id == ENC_PLATE_SHAPES || split_ages(id)) return shapes_decode(rows, n, src, len, split_ages(id));
    if (id != ENC_PLATE6 && id != ENC_PLATE_UK) return ANPR_ECORRUPT;
    bit_reader br = {src, len, 0};
    if (id == ENC_PLATE_UK) {
        for (size_t i = 0; i < n; i++) {
            memset(rows[i].plate, 0, sizeof rows[i].plate);
            if (uk_decode_one(&br, rows[i].plate) < 0) return ANPR_ECORRUPT;
        }
        return br_finish(&br);
    }
    for (size_t i = 0; i < n; i++) {
        uint32_t l;
        if (br_get(&br, 4, &l) < 0 || l == 0 || l > ANPR_PLATE_MAX) return ANPR_ECORRUPT;
        memset(rows[i].plate, 0, sizeof rows[i].plate);
        for (uint32_t k = 0; k < l; k++) {
            uint32_t c;
            if (br_get(&br, 6, &c) < 0 || c >= 36) return ANPR_ECORRUPT;
            rows[i].plate[k] = code_char[c];
        }
    }
    return br_finish(&br);
}
