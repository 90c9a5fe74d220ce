/* Plate encodings: fixed 16-byte slots, or 4-bit length plus 6 bits a character. */
#include <string.h>

#include "anpr/anpr.h"
#include "encode/bitpack.h"
#include "encode/encode.h"

/* '0'-'9' are 0..9, 'A'-'Z' are 10..35; 36..63 never occur. */
static int char_code(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'Z') return c - 'A' + 10;
    return -1;
}

static const char code_char[36] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";

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
    if (id != ENC_PLATE6) return ANPR_EINVAL;
    bit_writer bw = {out, 0, 0};
    for (size_t i = 0; i < n; i++) {
        size_t len = strnlen(rows[i].plate, ANPR_PLATE_MAX);
        if (len == 0) return ANPR_EINVAL;
        int rc = bw_put(&bw, len, 4);
        for (size_t k = 0; rc == 0 && k < len; k++) {
            int c = char_code(rows[i].plate[k]);
            if (c < 0) return ANPR_EINVAL;
            rc = bw_put(&bw, (uint64_t)c, 6);
        }
        if (rc < 0) return rc;
    }
    return bw_finish(&bw);
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
                if (k < l && char_code((char)p[k]) < 0) return ANPR_ECORRUPT;
                if (k >= l && p[k] != 0) return ANPR_ECORRUPT;
            }
            memcpy(rows[i].plate, p, 16);
        }
        return 0;
    }
    if (id != ENC_PLATE6) return ANPR_ECORRUPT;
    bit_reader br = {src, len, 0};
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
