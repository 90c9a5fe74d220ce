/*
 * Plate encodings: fixed 16-byte slots; 4-bit length plus 6 bits a
 * character; or the UK packing, which spends 31 bits on a plate in the
 * current GB format and a shape plus mixed-radix characters on any other.
 */
#include <errno.h>
#include <stdlib.h>
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

/*
 * The current GB format, AB12CDE: a memory tag of two letters other than
 * I, Q and Z, a two-digit age identifier, and three random letters other
 * than I and Q. Mixed radix 23 * 23 * 100 * 24 * 24 * 24 = 731,289,600
 * values, so 30 bits. The alphabets are DVLA rules, not guesses.
 */
#define UK_TAG_SET "ABCDEFGHJKLMNOPRSTUVWXY"
#define UK_RAND_SET "ABCDEFGHJKLMNOPRSTUVWXYZ"
#define UK_CURRENT_BITS 30
#define UK_CURRENT_VALUES UINT32_C(731289600)
/* Other plates: characters in chunks of up to 6 (26^6 < 2^29, within bw_put's 32 bits). */
#define UK_CHUNK 6

/* Position of each letter A..Z in UK_TAG_SET and UK_RAND_SET, -1 where absent. */
static const int8_t tag_index[26] = {0,  1,  2,  3,  4,  5,  6,  7,  -1, 8,  9,  10, 11,
                                     12, 13, 14, -1, 15, 16, 17, 18, 19, 20, 21, 22, -1};
static const int8_t rand_index[26] = {0,  1,  2,  3,  4,  5,  6,  7,  -1, 8,  9,  10, 11,
                                      12, 13, 14, -1, 15, 16, 17, 18, 19, 20, 21, 22, 23};

static int set_index(const int8_t *index, char c)
{
    return c >= 'A' && c <= 'Z' ? index[c - 'A'] : -1;
}

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* The 30-bit value of a current-format plate, or -1 if the plate is not one. */
static int64_t uk_current_value(const char *p, size_t len)
{
    if (len != 7 || !is_digit(p[2]) || !is_digit(p[3])) return -1;
    int t0 = set_index(tag_index, p[0]), t1 = set_index(tag_index, p[1]);
    int r0 = set_index(rand_index, p[4]), r1 = set_index(rand_index, p[5]), r2 = set_index(rand_index, p[6]);
    if (t0 < 0 || t1 < 0 || r0 < 0 || r1 < 0 || r2 < 0) return -1;
    int64_t v = t0;
    v = v * 23 + t1;
    v = v * 100 + (p[2] - '0') * 10 + (p[3] - '0');
    v = ((v * 24 + r0) * 24 + r1) * 24 + r2;
    return v;
}

static void uk_current_plate(char *p, uint32_t v)
{
    p[6] = UK_RAND_SET[v % 24], v /= 24;
    p[5] = UK_RAND_SET[v % 24], v /= 24;
    p[4] = UK_RAND_SET[v % 24], v /= 24;
    p[3] = (char)('0' + v % 10), v /= 10;
    p[2] = (char)('0' + v % 10), v /= 10;
    p[1] = UK_TAG_SET[v % 23], v /= 23;
    p[0] = UK_TAG_SET[v];
}

/* Product of the radixes of a chunk (26 a letter, 10 a digit) and its width in bits. */
static unsigned chunk_width(uint32_t shape, size_t from, size_t n, uint64_t *values)
{
    uint64_t prod = 1;
    for (size_t k = from; k < from + n; k++) prod *= (shape >> k) & 1 ? 26 : 10;
    *values = prod;
    return bp_width(prod - 1);
}

static int uk_encode_one(bit_writer *bw, const char *p, size_t len)
{
    int64_t cur = uk_current_value(p, len);
    if (cur >= 0) return bw_put(bw, (uint64_t)cur << 1, 1 + UK_CURRENT_BITS);
    /* Kind bit 1, 4-bit length, a shape bit a character (1 = letter), then the chunks. */
    uint32_t shape = 0;
    for (size_t k = 0; k < len; k++) {
        int c = char_code(p[k]);
        if (c < 0) return ANPR_EINVAL;
        if (c >= 10) shape |= UINT32_C(1) << k;
    }
    int rc = bw_put(bw, 1 | (uint64_t)len << 1, 5);
    if (rc == 0) rc = bw_put(bw, shape, (unsigned)len);
    for (size_t from = 0; rc == 0 && from < len; from += UK_CHUNK) {
        size_t n = len - from < UK_CHUNK ? len - from : UK_CHUNK;
        uint64_t values, v = 0;
        unsigned w = chunk_width(shape, from, n, &values);
        for (size_t k = from; k < from + n; k++) {
            int c = char_code(p[k]);
            v = (shape >> k) & 1 ? v * 26 + (uint64_t)(c - 10) : v * 10 + (uint64_t)c;
        }
        rc = bw_put(bw, v, w);
    }
    return rc;
}

static int uk_decode_one(bit_reader *br, char *p)
{
    uint32_t kind, v;
    if (br_get(br, 1, &kind) < 0) return ANPR_ECORRUPT;
    if (kind == 0) {
        if (br_get(br, UK_CURRENT_BITS, &v) < 0 || v >= UK_CURRENT_VALUES) return ANPR_ECORRUPT;
        uk_current_plate(p, v);
        return 0;
    }
    uint32_t len, shape;
    if (br_get(br, 4, &len) < 0 || len == 0 || len > ANPR_PLATE_MAX) return ANPR_ECORRUPT;
    if (br_get(br, len, &shape) < 0) return ANPR_ECORRUPT;
    for (size_t from = 0; from < len; from += UK_CHUNK) {
        size_t n = len - from < UK_CHUNK ? len - from : UK_CHUNK;
        uint64_t values;
        unsigned w = chunk_width(shape, from, n, &values);
        uint32_t x;
        if (br_get(br, w, &x) < 0 || x >= values) return ANPR_ECORRUPT;
        for (size_t k = from + n; k-- > from;) {
            if ((shape >> k) & 1) {
                p[k] = (char)('A' + x % 26);
                x /= 26;
            } else {
                p[k] = (char)('0' + x % 10);
                x /= 10;
            }
        }
    }
    /* One encoding a plate: a current-format plate written the long way is not ours. */
    if (uk_current_value(p, len) >= 0) return ANPR_ECORRUPT;
    return 0;
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

/* ---- Finding a plate without decoding the column ------------------------ */

/* The characters that fold to f (the fold classes), as one string. */
static const char *fold_class(char f)
{
    switch (f) {
    case '0': return "0ODQ";
    case '1': return "1I";
    case '2': return "2Z";
    case '5': return "5S";
    case '8': return "8B";
    case '6': return "6G";
    default: return NULL;
    }
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

int enc_plate_uk_codes(const char *plate, int fold, uint32_t **codes, size_t *n)
{
    *codes = NULL;
    *n = 0;
    size_t len = strlen(plate);
    if (len != 7) return 0;
    /* For each position, the characters the current format allows there that match plate's. */
    char opts[7][8];
    size_t nopt[7];
    size_t total = 1;
    for (size_t i = 0; i < 7; i++) {
        const char *cls = fold ? fold_class(plate[i]) : NULL;
        char single[2] = {plate[i], 0};
        if (!cls) cls = single;
        nopt[i] = 0;
        for (const char *c = cls; *c; c++) {
            int ok = i == 2 || i == 3 ? is_digit(*c) : set_index(i < 2 ? tag_index : rand_index, *c) >= 0;
            if (ok) opts[i][nopt[i]++] = *c;
        }
        total *= nopt[i];
    }
    if (total == 0) return 0;
    uint32_t *out = malloc(total * sizeof *out);
    if (!out) return -ENOMEM;
    /* Every combination, as a mixed-radix counter over the positions. */
    size_t idx[7] = {0};
    for (size_t k = 0; k < total; k++) {
        char p[8];
        for (size_t i = 0; i < 7; i++) p[i] = opts[i][idx[i]];
        p[7] = '\0';
        out[k] = (uint32_t)uk_current_value(p, 7);
        for (size_t i = 7; i-- > 0;) {
            if (++idx[i] < nopt[i]) break;
            idx[i] = 0;
        }
    }
    qsort(out, total, sizeof *out, cmp_u32);
    *codes = out;
    *n = total;
    return 0;
}

/*
 * Skip a kind-1 plate (the reader at its kind bit) without building its
 * text: its length says how many bits follow. *len receives the length.
 * The skipped bits are not checked; rows that matter are decoded in full.
 */
static int uk_skip_other(bit_reader *br, uint32_t *len, uint32_t *shape)
{
    /* The width of a chunk of a letters and b digits is that of 26^a * 10^b - 1 (chunk_width). */
    static const uint32_t pow26[UK_CHUNK + 1] = {1, 26, 676, 17576, 456976, 11881376, 308915776};
    static const uint32_t pow10[UK_CHUNK + 1] = {1, 10, 100, 1000, 10000, 100000, 1000000};
    /* Bits set in each 6-bit shape chunk: the letters in it (no popcount instruction is assumed). */
    static const uint8_t letters[64] = {0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4, 1, 2, 2, 3, 2, 3,
                                        3, 4, 2, 3, 3, 4, 3, 4, 4, 5, 1, 2, 2, 3, 2, 3, 3, 4, 2, 3, 3,
                                        4, 3, 4, 4, 5, 2, 3, 3, 4, 3, 4, 4, 5, 3, 4, 4, 5, 4, 5, 5, 6};
    uint32_t kind;
    if (br_get(br, 1, &kind) < 0 || kind != 1 || br_get(br, 4, len) < 0 || *len == 0 || *len > ANPR_PLATE_MAX ||
        br_get(br, *len, shape) < 0)
        return ANPR_ECORRUPT;
    size_t bits = 0;
    for (uint32_t from = 0; from < *len; from += UK_CHUNK) {
        uint32_t n = *len - from < UK_CHUNK ? *len - from : UK_CHUNK;
        unsigned a = letters[(*shape >> from) & ((UINT32_C(1) << n) - 1)];
        bits += bp_width((uint64_t)pow26[a] * pow10[n - a] - 1);
    }
    if (br_left(br) < bits) return ANPR_ECORRUPT;
    br->pos += bits;
    return 0;
}

/* codes is sorted: a fuzzy search may carry a few hundred of them. */
static int has_code(const uint32_t *codes, size_t n, uint32_t v)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (codes[mid] == v) return 1;
        if (codes[mid] < v) lo = mid + 1;
        else hi = mid;
    }
    return 0;
}

int enc_plate_uk_find(const uint8_t *src, size_t len, size_t n, const char *plate, int fold, const uint32_t *codes,
                      size_t ncodes, uint32_t *at, anpr_row *out, size_t *nhit)
{
    bit_reader br = {src, len, 0};
    size_t want_len = strlen(plate);
    /*
     * Another plate of the same length can only match if its letters and
     * digits sit where plate's do, except, when folding, where plate holds a
     * digit that a letter folds to (0 for O, 8 for B ...).
     */
    uint32_t want_shape = 0, fixed = 0;
    for (size_t k = 0; k < want_len; k++) {
        if (!is_digit(plate[k])) want_shape |= UINT32_C(1) << k;
        if (!fold || !fold_class(plate[k])) fixed |= UINT32_C(1) << k;
    }
    /* The position lives in a register for the common case, a current-format plate; others use a reader. */
    size_t pos = 0, found = 0;
    const size_t nbits = len * 8;
    for (size_t i = 0; i < n; i++) {
        br.pos = pos;
        uint64_t w = br_peek(&br);
        if ((w & 1) == 0) {
            /* Current format: compare codes, no text. */
            if (nbits - pos < 1 + UK_CURRENT_BITS) return ANPR_ECORRUPT;
            uint32_t v = (uint32_t)((w >> 1) & ((UINT32_C(1) << UK_CURRENT_BITS) - 1));
            if (v >= UK_CURRENT_VALUES) return ANPR_ECORRUPT;
            pos += 1 + UK_CURRENT_BITS;
            if (ncodes == 1 ? v == codes[0] : has_code(codes, ncodes, v)) {
                memset(out[found].plate, 0, sizeof out[found].plate);
                uk_current_plate(out[found].plate, v);
                at[found++] = (uint32_t)i;
            }
            continue;
        }
        bit_reader other = {src, len, pos};
        if (((w >> 1) & 15) != want_len || ((w >> 5) & fixed) != (want_shape & fixed)) {
            /* Another length or shape: it cannot match, so skip it without building its text. */
            uint32_t l, shape;
            if (uk_skip_other(&other, &l, &shape) < 0) return ANPR_ECORRUPT;
        } else {
            char p[ANPR_PLATE_MAX + 1] = {0}, f[ANPR_PLATE_MAX + 1];
            if (uk_decode_one(&other, p) < 0) return ANPR_ECORRUPT;
            const char *cmp = p;
            if (fold) {
                anpr_plate_fold(f, p);
                cmp = f;
            }
            if (strcmp(cmp, plate) == 0) {
                memcpy(out[found].plate, p, sizeof out[found].plate);
                at[found++] = (uint32_t)i;
            }
        }
        pos = other.pos;
    }
    *nhit = found;
    br.pos = pos;
    return br_finish(&br);
}
