/*
 * The UK plate packing (plate_uk.h): the current GB format's 30-bit values
 * and the long form of any other plate.
 */
#include "encode/plate_uk.h"

#include <string.h>

#include "anpr/anpr.h"
#include "encode/encode.h"
#include "encode/plate_other_bits.h"
#include "read/read.h"

#define UK_TAG_SET "ABCDEFGHJKLMNOPRSTUVWXY"
#define UK_RAND_SET "ABCDEFGHJKLMNOPRSTUVWXYZ"
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

/* The 30-bit value of a current-format plate, or -1 if the plate is not one. */
int64_t uk_current_value(const char *p, size_t len)
{
    if (len != 7 || !plate_is_digit(p[2]) || !plate_is_digit(p[3])) return -1;
    int t0 = set_index(tag_index, p[0]), t1 = set_index(tag_index, p[1]);
    int r0 = set_index(rand_index, p[4]), r1 = set_index(rand_index, p[5]), r2 = set_index(rand_index, p[6]);
    if (t0 < 0 || t1 < 0 || r0 < 0 || r1 < 0 || r2 < 0) return -1;
    int64_t v = t0;
    v = v * 23 + t1;
    v = v * 100 + (p[2] - '0') * 10 + (p[3] - '0');
    v = ((v * 24 + r0) * 24 + r1) * 24 + r2;
    return v;
}

void uk_current_plate(char *p, uint32_t v)
{
    p[6] = UK_RAND_SET[v % 24], v /= 24;
    p[5] = UK_RAND_SET[v % 24], v /= 24;
    p[4] = UK_RAND_SET[v % 24], v /= 24;
    p[3] = (char)('0' + v % 10), v /= 10;
    p[2] = (char)('0' + v % 10), v /= 10;
    p[1] = UK_TAG_SET[v % 23], v /= 23;
    p[0] = UK_TAG_SET[v];
}

void uk_letters_plate(char *p, uint32_t u, uint32_t age)
{
    p[6] = UK_RAND_SET[u % 24], u /= 24;
    p[5] = UK_RAND_SET[u % 24], u /= 24;
    p[4] = UK_RAND_SET[u % 24], u /= 24;
    p[3] = (char)('0' + age % 10);
    p[2] = (char)('0' + age / 10);
    p[1] = UK_TAG_SET[u % 23];
    p[0] = UK_TAG_SET[u / 23];
}

int uk_current_allows(size_t pos, char c)
{
    if (pos == 2 || pos == 3) return plate_is_digit(c);
    return pos < 7 && set_index(pos < 2 ? tag_index : rand_index, c) >= 0;
}

/* The letters in a chunk: the bits set in its 6-bit piece of the shape (no popcount instruction is assumed). */
static const uint8_t chunk_letters[64] = {0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4, 1, 2, 2, 3, 2, 3,
                                          3, 4, 2, 3, 3, 4, 3, 4, 4, 5, 1, 2, 2, 3, 2, 3, 3, 4, 2, 3, 3,
                                          4, 3, 4, 4, 5, 2, 3, 3, 4, 3, 4, 4, 5, 3, 4, 4, 5, 4, 5, 5, 6};

/*
 * Product of the radixes of a chunk (26 a letter, 10 a digit) and its width
 * in bits, from tables: skipping a plate asks for it once a chunk.
 */
static unsigned chunk_width(uint32_t shape, size_t from, size_t n, uint64_t *values)
{
    static const uint32_t pow26[UK_CHUNK + 1] = {1, 26, 676, 17576, 456976, 11881376, 308915776};
    static const uint32_t pow10[UK_CHUNK + 1] = {1, 10, 100, 1000, 10000, 100000, 1000000};
    unsigned a = chunk_letters[(shape >> from) & ((UINT32_C(1) << n) - 1)];
    *values = (uint64_t)pow26[a] * pow10[n - a];
    return bp_width(*values - 1);
}

/*
 * Bits of a plate in the long form after its kind bit, from its length and
 * shape alone (4 + len, then each chunk's width). A table, not chunk_width:
 * a finder asks it for every such plate of every block it scans.
 */
size_t uk_other_bits(uint32_t len, uint32_t shape)
{
    /* Bits of a chunk of n characters of which a are letters: bp_width(26^a * 10^(n-a) - 1). */
    static const uint8_t chunk_bits[UK_CHUNK + 1][UK_CHUNK + 1] = {
        {0},
        {4, 5},
        {7, 9, 10},
        {10, 12, 13, 15},
        {14, 15, 17, 18, 19},
        {17, 18, 20, 21, 23, 24},
        {20, 22, 23, 25, 26, 27, 29},
    };
    size_t bits = 4 + len;
    for (uint32_t from = 0; from < len; from += UK_CHUNK) {
        uint32_t n = len - from < UK_CHUNK ? len - from : UK_CHUNK;
        bits += chunk_bits[n][chunk_letters[(shape >> from) & ((UINT32_C(1) << n) - 1)]];
    }
    return bits;
}

int enc_plate_other_bits_check(void)
{
    for (uint32_t i = 0; i < 4096; i++) {
        uint32_t len = i & 15;
        size_t want = len == 0 ? 0 : uk_other_bits(len, (i >> 4) & ((UINT32_C(1) << len) - 1));
        if (uk_other_size(i) != want) return -1;
    }
    return 0;
}

/* The shape of a plate (bit k set when character k is a letter), or -1 for a character that is neither. */
int64_t uk_plate_shape(const char *p, size_t len)
{
    uint32_t shape = 0;
    for (size_t k = 0; k < len; k++) {
        int c = plate_char_code(p[k]);
        if (c < 0) return -1;
        if (c >= 10) shape |= UINT32_C(1) << k;
    }
    return shape;
}

/* A long form's chunks: its characters in chunks of up to UK_CHUNK, each in the fewest bits that hold its radixes. */
int uk_encode_chunks(bit_writer *bw, const char *p, size_t len, uint32_t shape)
{
    int rc = 0;
    for (size_t from = 0; rc == 0 && from < len; from += UK_CHUNK) {
        size_t n = len - from < UK_CHUNK ? len - from : UK_CHUNK;
        uint64_t values, v = 0;
        unsigned w = chunk_width(shape, from, n, &values);
        for (size_t k = from; k < from + n; k++) {
            int c = plate_char_code(p[k]);
            v = (shape >> k) & 1 ? v * 26 + (uint64_t)(c - 10) : v * 10 + (uint64_t)c;
        }
        rc = bw_put(bw, v, w);
    }
    return rc;
}

/* A plate not in the current format, after its kind bit: 4-bit length, shape, chunks. */
int uk_encode_other(bit_writer *bw, const char *p, size_t len)
{
    int64_t shape = uk_plate_shape(p, len);
    if (shape < 0) return ANPR_EINVAL;
    int rc = bw_put(bw, len, 4);
    if (rc == 0) rc = bw_put(bw, (uint64_t)shape, (unsigned)len);
    return rc == 0 ? uk_encode_chunks(bw, p, len, (uint32_t)shape) : rc;
}

int uk_encode_one(bit_writer *bw, const char *p, size_t len)
{
    int64_t cur = uk_current_value(p, len);
    if (cur >= 0) return bw_put(bw, (uint64_t)cur << 1, 1 + UK_CURRENT_BITS);
    int rc = bw_put(bw, 1, 1);
    return rc == 0 ? uk_encode_other(bw, p, len) : rc;
}

/*
 * The chunks of a long form of length len and shape shape, into p (zeroed
 * first); refused if the plate is in the current format. With want,
 * decoding stops at the first character (last first) that differs from
 * want's ('?' in want matching any, and the plate's character folded first
 * with fold): 0 then, with the reader inside the plate; 1 for a plate
 * decoded whole.
 */
int uk_decode_chunks(bit_reader *br, uint32_t len, uint32_t shape, char *p, const char *want, int fold)
{
    memset(p, 0, ANPR_PLATE_MAX + 1);
    for (size_t from = 0; from < len; from += UK_CHUNK) {
        size_t n = len - from < UK_CHUNK ? len - from : UK_CHUNK;
        uint64_t values;
        unsigned w = chunk_width(shape, from, n, &values);
        uint32_t x;
        if (br_get(br, w, &x) < 0 || x >= values) return ANPR_ECORRUPT;
        for (size_t k = from + n; k-- > from;) {
            /* Each radix spelt out, so that the compiler divides by constants. */
            if ((shape >> k) & 1) {
                p[k] = (char)('A' + x % 26);
                x /= 26;
            } else {
                p[k] = (char)('0' + x % 10);
                x /= 10;
            }
            if (!want || want[k] == '?') continue;
            if ((fold ? plate_fold_char(p[k]) : p[k]) != want[k]) return 0;
        }
    }
    /* One encoding a plate: a current-format plate written the long way is not ours. */
    if (uk_current_value(p, len) >= 0) return ANPR_ECORRUPT;
    return 1;
}

/* The same for plate-uk's long form, its length and shape read first (after the kind bit). */
int uk_decode_other_as(bit_reader *br, char *p, const char *want, int fold)
{
    uint32_t len, shape;
    if (br_get(br, 4, &len) < 0 || len == 0 || len > ANPR_PLATE_MAX) return ANPR_ECORRUPT;
    if (br_get(br, len, &shape) < 0) return ANPR_ECORRUPT;
    return uk_decode_chunks(br, len, shape, p, want, fold);
}

int uk_decode_other(bit_reader *br, char *p)
{
    int rc = uk_decode_other_as(br, p, NULL, 0);
    return rc < 0 ? rc : 0;
}

int uk_decode_one(bit_reader *br, char *p)
{
    uint32_t kind, v;
    if (br_get(br, 1, &kind) < 0) return ANPR_ECORRUPT;
    if (kind == 1) return uk_decode_other(br, p);
    if (br_get(br, UK_CURRENT_BITS, &v) < 0 || v >= UK_CURRENT_VALUES) return ANPR_ECORRUPT;
    uk_current_plate(p, v);
    return 0;
}
