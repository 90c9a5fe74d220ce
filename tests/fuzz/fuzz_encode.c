/*
 * Fuzz target: any bytes given to any column decoder, for any row count,
 * decode within bounds or are refused; whatever decodes re-encodes to the
 * same bytes (each value list has exactly one encoding).
 *
 * Input layout: byte 0 picks the encoding, bytes 1-2 the row count
 * (little-endian, at most 4096), the rest is the encoded chunk.
 */
#include <stdlib.h>
#include <string.h>

#include "anpr/anpr.h"
#include "encode/encode.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 3) return 0;
    unsigned id = data[0] % (ENC_COUNT + 1); /* one id past the last: unknown */
    size_t n = (size_t)(data[1] | data[2] << 8) % 4097;
    const uint8_t *src = data + 3;
    size_t len = size - 3;
    enc_buf again = {0};
    if (id == ENC_PLATE6 || id == ENC_PLATE_UK || (id == ENC_RAW && data[0] & 0x80)) {
        anpr_row *rows = calloc(n ? n : 1, sizeof *rows);
        if (!rows) abort();
        if (enc_plate_decode(rows, n, id, src, len) == ANPR_OK) {
            for (size_t i = 0; i < n; i++) {
                size_t l = strnlen(rows[i].plate, sizeof rows[i].plate);
                if (l == 0 || l > ANPR_PLATE_MAX) abort();
            }
            if (enc_plate_encode(&again, id, rows, n) != ANPR_OK) abort();
            if (again.len != len || memcmp(again.data, src, len) != 0) abort();
        }
        free(rows);
    } else {
        int64_t *v = malloc((n ? n : 1) * sizeof *v);
        if (!v) abort();
        if (enc_int_decode(v, n, id, src, len) == ANPR_OK) {
            if (enc_int_encode(&again, id, v, n) != ANPR_OK) abort();
            if (again.len != len || memcmp(again.data, src, len) != 0) abort();
        }
        free(v);
    }
    enc_buf_free(&again);
    return 0;
}
