/*
 * Fuzz target: any bytes given to any column decoder, for any row count,
 * decode within bounds or are refused; whatever decodes re-encodes to the
 * same bytes (each value list has exactly one encoding). Picking rows out
 * (enc_int_decode_at, every third row and one row, enc_plate_find and
 * plate-part's probe, enc_plate_part_absent, also in steps from the
 * sections enc_plate_part_sections names) and
 * a window's rows (enc_int_decode_window) stay in bounds too, and agree
 * with the full decode wherever that succeeds (the window's when the
 * values do not go down). Values that decode also go
 * through the encoder's chooser, whose sizes must be exact.
 *
 * Input layout: byte 0 picks the encoding, bytes 1-2 the row count
 * (little-endian, at most 4096), the rest is the encoded chunk.
 */
#include <stdlib.h>
#include <string.h>

#include "anpr/anpr.h"
#include "encode/encode.h"
#include "part_steps.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A plate found by its codes is the plate decoding gives, at the row decoding gives (when it decodes). */
static void find_agrees(unsigned id, const anpr_row *rows, size_t n, const uint8_t *src, size_t len, int decoded)
{
    static const char *const targets[] = {"AB12CDE", "A812CDE", "1A"};
    uint32_t *at = malloc((n ? n : 1) * sizeof *at);
    anpr_row *found = calloc(n ? n : 1, sizeof *found);
    if (!at || !found) abort();
    for (int t = 0; t < 3; t++) {
        for (int fold = 0; fold < 2; fold++) {
            char want[ANPR_PLATE_MAX + 1];
            if (fold) anpr_plate_fold(want, targets[t]);
            else strcpy(want, targets[t]);
            enc_plate_target *target;
            size_t nhit = 0;
            if (enc_plate_target_new(&target, want, fold) != 0) abort();
            size_t j = 0;
            if (enc_plate_find(id, src, len, n, target, at, found, &nhit) == ANPR_OK && decoded) {
                for (size_t i = 0; i < n; i++) {
                    char f[ANPR_PLATE_MAX + 1];
                    anpr_plate_fold(f, rows[i].plate);
                    if (strcmp(fold ? f : rows[i].plate, want) != 0) continue;
                    if (j >= nhit || at[j] != i || strcmp(found[j].plate, rows[i].plate) != 0) abort();
                    j++;
                }
                if (j != nhit) abort();
            }
            /*
             * plate-part's probe from its table and parts alone, the table
             * checked against its own sum: within bounds on any bytes, and
             * where they decode (every sum then holds) it never calls a plate
             * absent that decoding finds.
             */
            if (id == ENC_PLATE_PART && len >= ENC_PART_TABLE_BYTES) {
                const char *what;
                int absent = enc_plate_part_absent(src, len, n, target, enc_part_sum(src, ENC_PART_TABLE_BYTES), at,
                                                   &what);
                if (decoded && (absent < 0 || (absent == 1 && j > 0))) abort();
                part_steps_check(src, len, n, target, absent);
            }
            enc_plate_target_free(target);
        }
    }
    free(at);
    free(found);
}

/*
 * For values that decoded: the size enc_int_size works out is what the
 * encoder wrote (len), and the chooser's pick decodes to the same values and
 * is no larger than either bit-packing, which it always weighs.
 */
static void best_agrees(unsigned id, const int64_t *v, size_t n, size_t len)
{
    size_t size = enc_int_size(id, v, n);
    if (size != SIZE_MAX && size != len) abort();
    enc_buf best = {0};
    unsigned pick;
    if (enc_int_encode_best(&best, &pick, v, n) != ANPR_OK) abort();
    if (best.len > enc_int_size(ENC_DELTA_BP, v, n) || best.len > enc_int_size(ENC_FOR_BP, v, n)) abort();
    int64_t *back = malloc((n ? n : 1) * sizeof *back);
    if (!back) abort();
    if (enc_int_decode(back, n, pick, best.data, best.len) != ANPR_OK) abort();
    if (n && memcmp(back, v, n * sizeof *v) != 0) abort();
    free(back);
    enc_buf_free(&best);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 3) return 0;
    unsigned id = data[0] % (ENC_COUNT + 1); /* one id past the last: unknown */
    size_t n = (size_t)(data[1] | data[2] << 8) % 4097;
    const uint8_t *src = data + 3;
    size_t len = size - 3;
    enc_buf again = {0};
    if (id == ENC_PLATE6 || id == ENC_PLATE_UK || enc_plate_ranked(id) || (id == ENC_RAW && data[0] & 0x80)) {
        anpr_row *rows = calloc(n ? n : 1, sizeof *rows);
        if (!rows) abort();
        int decoded = enc_plate_decode(rows, n, id, src, len) == ANPR_OK;
        if (decoded) {
            for (size_t i = 0; i < n; i++) {
                size_t l = strnlen(rows[i].plate, sizeof rows[i].plate);
                if (l == 0 || l > ANPR_PLATE_MAX) abort();
            }
            if (enc_plate_encode(&again, id, rows, n) != ANPR_OK) abort();
            if (again.len != len || (len && memcmp(again.data, src, len) != 0)) abort();
        }
        if (id == ENC_PLATE_UK || enc_plate_ranked(id)) find_agrees(id, rows, n, src, len, decoded);
        /* Every third row's plate picked out: what decoding them all gave, when that worked. */
        uint32_t *at = malloc((n ? n : 1) * sizeof *at);
        anpr_row *got = calloc(n ? n : 1, sizeof *got), *scratch = calloc(n ? n : 1, sizeof *scratch);
        if (!at || !got || !scratch) abort();
        size_t nat = 0;
        for (size_t i = data[1] % 3; i < n; i += 3) at[nat++] = (uint32_t)i;
        int picked = enc_plate_decode_at(got, at, nat, scratch, n, id, src, len) == ANPR_OK;
        if (decoded && !picked) abort(); /* it checks less than the whole decode */
        for (size_t j = 0; decoded && j < nat; j++)
            if (strcmp(got[j].plate, rows[at[j]].plate) != 0) abort();
        free(at);
        free(got);
        free(scratch);
        free(rows);
    } else {
        int64_t *v = malloc((n ? n : 1) * sizeof *v);
        if (!v) abort();
        int whole = enc_int_decode(v, n, id, src, len) == ANPR_OK;
        if (whole) {
            if (enc_int_encode(&again, id, v, n) != ANPR_OK) abort();
            if (again.len != len || (len && memcmp(again.data, src, len) != 0)) abort();
            best_agrees(id, v, n, len);
        }
        /* Every third row picked out. */
        uint32_t *at = malloc((n ? n : 1) * sizeof *at);
        int64_t *got = malloc((n ? n : 1) * sizeof *got);
        if (!at || !got) abort();
        size_t nat = 0;
        for (size_t i = data[1] % 3; i < n; i += 3) at[nat++] = (uint32_t)i;
        if (enc_int_decode_at(got, at, nat, n, id, src, len) == ANPR_OK && whole)
            for (size_t j = 0; j < nat; j++)
                if (got[j] != v[at[j]]) abort();
        /* One row, as a plate lookup takes it (huffman-ck decodes a few rows without its table). */
        uint32_t one = n ? (uint32_t)(((size_t)data[1] * 131 + (size_t)data[2] * 7) % n) : 0;
        int64_t val;
        if (n && enc_int_decode_at(&val, &one, 1, n, id, src, len) == ANPR_OK && whole && val != v[one]) abort();
        /*
         * A window of a column that does not go down, from the checkpoints: the rows a scan of the whole
         * decode finds (its ends from the input's second and third bytes, scaled to the values' span).
         */
        if (n) {
            int sorted = whole;
            for (size_t i = 1; sorted && i < n; i++) sorted = v[i] >= v[i - 1];
            uint64_t span = whole ? (uint64_t)v[n - 1] - (uint64_t)v[0] : 0; /* v holds values only then */
            int64_t lo = whole ? (int64_t)((uint64_t)v[0] + span / 256 * data[1]) : INT64_MIN;
            int64_t hi = whole ? (int64_t)((uint64_t)lo + span / 256 * data[2] + 1) : INT64_MAX;
            if (hi < lo) hi = INT64_MAX;
            size_t first, count;
            int rc = enc_int_decode_window(got, n, id, src, len, lo, hi, &first, &count);
            if (id != ENC_DELTA_RICE_CK2 ? rc != ANPR_EINVAL : sorted && rc != ANPR_OK) abort();
            if (rc == ANPR_OK && sorted) {
                size_t want = 0, want_first = 0;
                for (size_t i = 0; i < n; i++)
                    if (v[i] >= lo && v[i] < hi && want++ == 0) want_first = i;
                if (count != want || (want && first != want_first)) abort();
                for (size_t j = 0; j < count; j++)
                    if (got[j] != v[first + j]) abort();
            }
        }
        free(at);
        free(got);
        free(v);
    }
    enc_buf_free(&again);
    return 0;
}
