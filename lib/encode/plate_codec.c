/*
 * Plate encodings: fixed 16-byte slots; 4-bit length plus 6 bits a
 * character; or the UK packing, which spends 31 bits on a plate in the
 * current GB format and a shape plus mixed-radix characters on any other.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "anpr/anpr.h"
#include "common/bytes.h"
#include "encode/bitpack.h"
#include "encode/encode.h"
#include "encode/huff_codec.h"
#include "encode/plate_other_bits.h"
#include "encode/varint.h"
#include "read/read.h"

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
static inline size_t other_bits(uint32_t len, uint32_t shape)
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

/*
 * The same from the stream's next bits (a plate's length, then its shape):
 * one table lookup for a plate of up to 8 characters, the walk of its
 * chunks for a longer one; 0 for length 0, which no plate has.
 */
static inline size_t other_size(uint64_t head)
{
    size_t bits = plate_other_bits_short[head & 0xFFF];
    uint32_t len = (uint32_t)(head & 15);
    if (bits || len == 0) return bits;
    return other_bits(len, (uint32_t)(head >> 4) & ((UINT32_C(1) << len) - 1));
}

int enc_plate_other_bits_check(void)
{
    for (uint32_t i = 0; i < 4096; i++) {
        uint32_t len = i & 15;
        size_t want = len == 0 ? 0 : other_bits(len, (i >> 4) & ((UINT32_C(1) << len) - 1));
        if (other_size(i) != want) return -1;
    }
    return 0;
}

/* The shape of a plate (bit k set when character k is a letter), or -1 for a character that is neither. */
static int64_t plate_shape(const char *p, size_t len)
{
    uint32_t shape = 0;
    for (size_t k = 0; k < len; k++) {
        int c = char_code(p[k]);
        if (c < 0) return -1;
        if (c >= 10) shape |= UINT32_C(1) << k;
    }
    return shape;
}

/* A long form's chunks: its characters in chunks of up to UK_CHUNK, each in the fewest bits that hold its radixes. */
static int encode_chunks(bit_writer *bw, const char *p, size_t len, uint32_t shape)
{
    int rc = 0;
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

/* A plate not in the current format, after its kind bit: 4-bit length, shape, chunks. */
static int uk_encode_other(bit_writer *bw, const char *p, size_t len)
{
    int64_t shape = plate_shape(p, len);
    if (shape < 0) return ANPR_EINVAL;
    int rc = bw_put(bw, len, 4);
    if (rc == 0) rc = bw_put(bw, (uint64_t)shape, (unsigned)len);
    return rc == 0 ? encode_chunks(bw, p, len, (uint32_t)shape) : rc;
}

static int uk_encode_one(bit_writer *bw, const char *p, size_t len)
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
static int decode_chunks(bit_reader *br, uint32_t len, uint32_t shape, char *p, const char *want, int fold)
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
static int uk_decode_other_as(bit_reader *br, char *p, const char *want, int fold)
{
    uint32_t len, shape;
    if (br_get(br, 4, &len) < 0 || len == 0 || len > ANPR_PLATE_MAX) return ANPR_ECORRUPT;
    if (br_get(br, len, &shape) < 0) return ANPR_ECORRUPT;
    return decode_chunks(br, len, shape, p, want, fold);
}

static int uk_decode_other(bit_reader *br, char *p)
{
    int rc = uk_decode_other_as(br, p, NULL, 0);
    return rc < 0 ? rc : 0;
}

static int uk_decode_one(bit_reader *br, char *p)
{
    uint32_t kind, v;
    if (br_get(br, 1, &kind) < 0) return ANPR_ECORRUPT;
    if (kind == 1) return uk_decode_other(br, p);
    if (br_get(br, UK_CURRENT_BITS, &v) < 0 || v >= UK_CURRENT_VALUES) return ANPR_ECORRUPT;
    uk_current_plate(p, v);
    return 0;
}

/*
 * plate-split: a bitmap of the plates not in the current format, then the
 * others' 30-bit values, then the others in plate-uk's long form without
 * the kind bit; each part padded to a byte. A finder compares the values
 * as one fixed-width array.
 */
typedef struct split_parts {
    const uint8_t *bitmap; /* n bits: 1 = not in the current format */
    const uint8_t *values; /* n0 values of 30 bits */
    size_t values_len;
    bit_reader others;     /* plate-split: the long forms; plate-shapes: what follows the values */
    size_t n0;
} split_parts;

/*
 * Bits set in x. Written out, not __builtin_popcountll: without a popcnt
 * target gcc calls libgcc for it, and every block searched counts its
 * bitmap's 64 words.
 */
static inline unsigned ones64(uint64_t x)
{
    x -= (x >> 1) & UINT64_C(0x5555555555555555);
    x = (x & UINT64_C(0x3333333333333333)) + ((x >> 2) & UINT64_C(0x3333333333333333));
    x = (x + (x >> 4)) & UINT64_C(0x0f0f0f0f0f0f0f0f);
    return (unsigned)((x * UINT64_C(0x0101010101010101)) >> 56);
}

/* The bitmap's word k (the bits of rows 64k ..), zero past n. */
static inline uint64_t bitmap_word(const uint8_t *bitmap, size_t n, size_t k)
{
    size_t nbytes = (n + 7) / 8;
    if (8 * k + 8 <= nbytes) return get_u64(bitmap + 8 * k);
    uint64_t w = 0;
    for (size_t b = 0; b < 8 && 8 * k + b < nbytes; b++) w |= (uint64_t)bitmap[8 * k + b] << (8 * b);
    return w;
}

static int split_open(split_parts *sp, const uint8_t *src, size_t len, size_t n)
{
    size_t nb = (n + 7) / 8;
    if (len < nb) return ANPR_ECORRUPT;
    if (!bp_tail_zero(src, n, 1)) return ANPR_ECORRUPT;
    size_t others = 0;
    for (size_t k = 0; k < (n + 63) / 64; k++) others += ones64(bitmap_word(src, n, k));
    sp->bitmap = src;
    sp->n0 = n - others;
    sp->values = src + nb;
    sp->values_len = (sp->n0 * UK_CURRENT_BITS + 7) / 8;
    if (len - nb < sp->values_len) return ANPR_ECORRUPT;
    sp->others = (bit_reader){src + nb + sp->values_len, len - nb - sp->values_len, 0};
    return 0;
}

/* Value j of the array (j < n0), checked. */
static int split_value(const split_parts *sp, size_t j, uint32_t *v)
{
    *v = (uint32_t)bp_get(sp->values, sp->values_len, j, UK_CURRENT_BITS);
    return *v < UK_CURRENT_VALUES ? 0 : ANPR_ECORRUPT;
}

/*
 * Rows by rank among the bitmap's bits equal to `set`, asked for in
 * increasing rank: one walk of the bitmap serves all the hits of a block.
 */
typedef struct bit_select {
    const uint8_t *bitmap;
    size_t n;
    int set;
    size_t word;   /* the word the walk is at */
    size_t before; /* bits equal to set in the words before it */
} bit_select;

/* The row of the rank-th (from 0) bit equal to set; rank at least the last one asked for. */
static size_t select_next(bit_select *s, size_t rank)
{
    for (;; s->word++) {
        uint64_t w = bitmap_word(s->bitmap, s->n, s->word);
        if (!s->set) w = ~w;
        unsigned c = ones64(w);
        size_t r = rank - s->before;
        if (r >= c) {
            s->before += c;
            continue;
        }
        for (;; r--) {
            unsigned at = (unsigned)__builtin_ctzll(w);
            if (r == 0) return 64 * s->word + at;
            w &= w - 1;
        }
    }
}

/* plate-split's bitmap and values; with long_forms, its long forms after them. */
static int split_encode(enc_buf *out, const anpr_row *rows, size_t n, int long_forms)
{
    if (n == 0) return 0; /* no plates, no bytes */
    size_t nb = (n + 7) / 8;
    int rc = enc_buf_reserve(out, nb);
    if (rc < 0) return rc;
    /* The bitmap's place, as an offset: the buffer may move as the values are appended. */
    size_t bitmap_at = out->len;
    memset(out->data + bitmap_at, 0, nb);
    out->len += nb;
    bit_writer bw = {out, 0, 0};
    for (size_t i = 0; i < n; i++) {
        size_t len = strnlen(rows[i].plate, ANPR_PLATE_MAX);
        if (len == 0) return ANPR_EINVAL;
        int64_t cur = uk_current_value(rows[i].plate, len);
        if (cur < 0) out->data[bitmap_at + i / 8] |= (uint8_t)(1u << (i % 8));
        else if ((rc = bw_put(&bw, (uint64_t)cur, UK_CURRENT_BITS)) < 0) return rc;
    }
    if ((rc = bw_finish(&bw)) < 0 || !long_forms) return rc;
    bw = (bit_writer){out, 0, 0};
    for (size_t i = 0; i < n; i++)
        if ((out->data[bitmap_at + i / 8] >> (i % 8)) & 1 &&
            (rc = uk_encode_other(&bw, rows[i].plate, strnlen(rows[i].plate, ANPR_PLATE_MAX))) < 0)
            return rc;
    return bw_finish(&bw);
}

static int split_decode(anpr_row *rows, size_t n, const uint8_t *src, size_t len)
{
    split_parts sp;
    if (split_open(&sp, src, len, n) < 0) return ANPR_ECORRUPT;
    size_t j = 0;
    for (size_t i = 0; i < n; i++) {
        memset(rows[i].plate, 0, sizeof rows[i].plate);
        if ((sp.bitmap[i / 8] >> (i % 8)) & 1) {
            if (uk_decode_other(&sp.others, rows[i].plate) < 0) return ANPR_ECORRUPT;
        } else {
            uint32_t v;
            if (split_value(&sp, j++, &v) < 0) return ANPR_ECORRUPT;
            uk_current_plate(rows[i].plate, v);
        }
    }
    return bp_tail_zero(sp.values, sp.n0, UK_CURRENT_BITS) ? br_finish(&sp.others) : ANPR_ECORRUPT;
}

/*
 * plate-shapes (format 4): plate-split with the long forms grouped by their
 * head, the length and shape that fix how many bits a plate's chunks take.
 * A block holds a few dozen heads: a table lists them with their counts,
 * each long form carries its head's index in the table (Huffman-coded),
 * and the chunks come head by head, in arrays of one width. A
 * misread-tolerant search looks only at the arrays of the heads its
 * spellings have, where plate-split made it pass over every long form of
 * the block, one dependent load after another. A block with more than
 * SHAPES_MAX heads is written as plate-split.
 */
#define SHAPES_MAX 256  /* heads a chunk may list: the indexes go through huffman-ck, whose symbols span 256 */
#define SHAPES_ROOM 48  /* groups held without an allocation */

typedef struct shape_group {
    uint32_t head;  /* length | shape << 4 */
    uint32_t width; /* bits of each of its plates' chunks */
    size_t count;   /* its long forms */
    size_t base;    /* the bit of the chunks where its array starts */
} shape_group;

typedef struct shapes_parts {
    split_parts sp;
    size_t m;            /* long forms */
    size_t ngroups;
    shape_group *groups; /* by head; room when they fit it */
    shape_group room[SHAPES_ROOM];
    const uint8_t *ids;  /* a huffman-ck chunk of the m group indexes, in row order */
    size_t ids_len;
    const uint8_t *chunks;
    size_t chunks_len;
} shapes_parts;

static void shapes_close(shapes_parts *gp)
{
    if (gp->groups != gp->room) free(gp->groups);
    gp->groups = NULL;
}

/*
 * A varint of at most 21 bits (a head, or a count less one), as
 * get_varint reads it but without its loop for the common short ones: a
 * misread-tolerant search reads a block's whole table.
 */
static inline int get_varint21(const uint8_t *p, size_t len, size_t *at, uint32_t *v)
{
    size_t i = *at;
    if (i < len && p[i] < 0x80) {
        *v = p[i];
        *at = i + 1;
        return 0;
    }
    if (i + 1 < len && p[i + 1] < 0x80 && p[i + 1]) {
        *v = (uint32_t)(p[i] & 0x7f) | (uint32_t)p[i + 1] << 7;
        *at = i + 2;
        return 0;
    }
    uint64_t x;
    if (get_varint(p, len, at, &x) < 0 || x >= (UINT64_C(1) << 21)) return ANPR_ECORRUPT;
    *v = (uint32_t)x;
    return 0;
}

/* The parts after the values, with gp->sp open. */
static int shapes_open_rest(shapes_parts *gp, size_t n)
{
    gp->m = n - gp->sp.n0;
    gp->ngroups = gp->ids_len = gp->chunks_len = 0;
    gp->ids = gp->chunks = NULL;
    const uint8_t *p = gp->sp.others.p;
    size_t left = gp->sp.others.len, at = 0;
    if (gp->m == 0) return left == 0 ? 0 : ANPR_ECORRUPT; /* no long forms, nothing after the values */
    if (left < 1) return ANPR_ECORRUPT;
    size_t h = (size_t)p[at++] + 1;
    if (h > gp->m) return ANPR_ECORRUPT;
    if (h > SHAPES_ROOM && !(gp->groups = malloc(h * sizeof *gp->groups))) return -ENOMEM;
    gp->ngroups = h;
    /* The heads, strictly increasing: the first, then each one's distance from the one before less one. */
    for (size_t g = 0; g < h; g++) {
        uint32_t d;
        if (get_varint21(p, left, &at, &d) < 0) return ANPR_ECORRUPT;
        uint64_t head = g ? (uint64_t)gp->groups[g - 1].head + d + 1 : d;
        uint32_t l = (uint32_t)(head & 15);
        /* Each a length of 1 .. 15 and a shape of that many bits. */
        if (l == 0 || head >> (4 + l)) return ANPR_ECORRUPT;
        gp->groups[g].head = (uint32_t)head;
        size_t all = l <= 8 ? plate_other_bits_short[head] : other_bits(l, (uint32_t)(head >> 4));
        gp->groups[g].width = (uint32_t)(all - 4 - l);
    }
    /* Their counts less one; they add up to the long forms. */
    size_t bits = 0, total = 0;
    for (size_t g = 0; g < h; g++) {
        uint32_t c;
        if (get_varint21(p, left, &at, &c) < 0 || c >= gp->m - total) return ANPR_ECORRUPT;
        shape_group *sg = &gp->groups[g];
        sg->count = (size_t)c + 1;
        sg->base = bits;
        bits += sg->count * sg->width;
        total += sg->count;
    }
    if (total != gp->m || left - at < 4) return ANPR_ECORRUPT;
    gp->ids_len = get_u32(p + at);
    at += 4;
    if (left - at < gp->ids_len) return ANPR_ECORRUPT;
    gp->ids = p + at;
    /* huffman-ck's minimum (8 bytes) and span: the indexes run from 0 to h - 1. */
    if (gp->ids_len < 9 || get_u64(gp->ids) != 0 || (size_t)gp->ids[8] + 1 != h) return ANPR_ECORRUPT;
    at += gp->ids_len;
    gp->chunks = p + at;
    gp->chunks_len = left - at;
    /* The chunks fill their bytes exactly, with zero padding. */
    if (gp->chunks_len != (bits + 7) / 8 || (bits % 8 && gp->chunks[bits / 8] >> (bits % 8))) return ANPR_ECORRUPT;
    return 0;
}

static int shapes_open(shapes_parts *gp, const uint8_t *src, size_t len, size_t n)
{
    gp->groups = gp->room;
    gp->ngroups = 0;
    if (split_open(&gp->sp, src, len, n) < 0) return ANPR_ECORRUPT;
    return shapes_open_rest(gp, n);
}

/*
 * The m group indexes, decoded and checked (huffman-ck refuses all but the
 * encoder's bytes), into a new array the caller frees; each below ngroups,
 * and each group's as many as its count says.
 */
static int shapes_ids(const shapes_parts *gp, int64_t **out)
{
    *out = NULL;
    int64_t *v = malloc((gp->m + 1) * sizeof *v);
    size_t *count = calloc(gp->ngroups, sizeof *count);
    int rc = v && count ? huff_decode(v, gp->m, gp->ids, gp->ids_len) : -ENOMEM;
    for (size_t k = 0; rc == 0 && k < gp->m; k++) {
        if (v[k] < 0 || (uint64_t)v[k] >= gp->ngroups) rc = ANPR_ECORRUPT;
        else count[v[k]]++;
    }
    for (size_t g = 0; rc == 0 && g < gp->ngroups; g++)
        if (count[g] != gp->groups[g].count) rc = ANPR_ECORRUPT;
    free(count);
    if (rc < 0) free(v);
    else *out = v;
    return rc == -ENOMEM ? rc : rc < 0 ? ANPR_ECORRUPT : 0;
}

/* Plate j of group g, whole and checked, into p; with want, 0 for a plate that does not match (as decode_chunks). */
static int shapes_plate(const shapes_parts *gp, size_t g, size_t j, char *p, const char *want, int fold)
{
    const shape_group *sg = &gp->groups[g];
    if (j >= sg->count) return ANPR_ECORRUPT;
    bit_reader br = {gp->chunks, gp->chunks_len, sg->base + j * sg->width};
    return decode_chunks(&br, sg->head & 15, sg->head >> 4, p, want, fold);
}

static int cmp_u32_pair(const void *a, const void *b)
{
    const uint32_t *x = a, *y = b;
    if (x[0] != y[0]) return (x[0] > y[0]) - (x[0] < y[0]);
    return (x[1] > y[1]) - (x[1] < y[1]);
}

/*
 * The bytes after plate-split's values, for the m long forms among rows:
 * 1 when they have more than SHAPES_MAX heads (nothing written).
 */
static int shapes_encode_long_forms(enc_buf *out, const anpr_row *rows, size_t n, const uint8_t *bitmap, size_t m)
{
    if (m == 0) return 0;
    /* (head, rank) of each long form, sorted: the groups, each with its long forms in row order. */
    uint32_t *pairs = malloc(2 * m * sizeof *pairs), *row = malloc(m * sizeof *row);
    int64_t *group = malloc(m * sizeof *group);
    int rc = pairs && row && group ? 0 : -ENOMEM;
    for (size_t i = 0, k = 0; rc == 0 && i < n; i++) {
        if (!((bitmap[i / 8] >> (i % 8)) & 1)) continue;
        size_t len = strnlen(rows[i].plate, ANPR_PLATE_MAX);
        int64_t shape = plate_shape(rows[i].plate, len);
        if (shape < 0) rc = ANPR_EINVAL;
        pairs[2 * k] = (uint32_t)len | (uint32_t)shape << 4;
        pairs[2 * k + 1] = (uint32_t)k;
        row[k++] = (uint32_t)i;
    }
    if (rc == 0) qsort(pairs, m, 2 * sizeof *pairs, cmp_u32_pair);
    size_t h = 0;
    for (size_t a = 0; rc == 0 && a < m; a++) h += a == 0 || pairs[2 * a] != pairs[2 * a - 2];
    if (rc == 0 && h > SHAPES_MAX) rc = 1;
    /* The table: the number of heads less one, the heads as distances, their counts less one. */
    uint8_t nh = (uint8_t)(h - 1);
    if (rc == 0) rc = enc_buf_append(out, &nh, 1);
    for (size_t a = 0, g = 0; rc == 0 && a < m; g++) {
        size_t b = a;
        while (b < m && pairs[2 * b] == pairs[2 * a]) group[pairs[2 * b++ + 1]] = (int64_t)g;
        rc = put_varint(out, g ? pairs[2 * a] - pairs[2 * a - 2] - 1 : pairs[2 * a]);
        a = b;
    }
    for (size_t a = 0; rc == 0 && a < m;) {
        size_t b = a;
        while (b < m && pairs[2 * b] == pairs[2 * a]) b++;
        rc = put_varint(out, b - a - 1);
        a = b;
    }
    /* Each long form's group in row order, as a huffman-ck chunk after its length; then the chunks, group by group. */
    size_t len_at = out->len;
    uint8_t four[4] = {0};
    if (rc == 0) rc = enc_buf_append(out, four, sizeof four);
    if (rc == 0) rc = huff_encode(out, group, m);
    if (rc == 0) put_u32(out->data + len_at, (uint32_t)(out->len - len_at - 4));
    bit_writer bw = {out, 0, 0};
    for (size_t a = 0; rc == 0 && a < m; a++) {
        const char *p = rows[row[pairs[2 * a + 1]]].plate;
        rc = encode_chunks(&bw, p, pairs[2 * a] & 15, pairs[2 * a] >> 4);
    }
    if (rc == 0) rc = bw_finish(&bw);
    free(pairs);
    free(row);
    free(group);
    return rc;
}

/* -E2BIG, with nothing written, for rows whose long forms have more than SHAPES_MAX heads. */
static int shapes_encode(enc_buf *out, const anpr_row *rows, size_t n)
{
    if (n == 0) return 0;
    size_t start = out->len;
    int rc = split_encode(out, rows, n, 0);
    if (rc < 0) return rc;
    size_t m = 0;
    for (size_t i = 0; i < n; i++) m += (out->data[start + i / 8] >> (i % 8)) & 1;
    /* The bitmap is copied: the buffer may move as the rest is appended. */
    uint8_t *bitmap = malloc((n + 7) / 8);
    if (!bitmap) return -ENOMEM;
    memcpy(bitmap, out->data + start, (n + 7) / 8);
    rc = shapes_encode_long_forms(out, rows, n, bitmap, m);
    free(bitmap);
    if (rc != 1) return rc;
    out->len = start;
    return -E2BIG;
}

/*
 * The plates of rows at[0..nat) (strictly increasing; every row when at is
 * NULL) into out[]: a current-format row's value by its rank among such
 * rows, a long form through its group, whose indexes are decoded (and
 * checked whole) for the first long form asked for.
 */
static int shapes_rows(shapes_parts *gp, anpr_row *out, const uint32_t *at, size_t nat, size_t n)
{
    int64_t *ids = NULL;
    size_t *seen = NULL; /* each group's long forms before the reader's */
    size_t word = 0, others_before = 0, done = 0;
    int rc = 0;
    for (size_t k = 0; rc == 0 && k < nat; k++) {
        size_t i = at ? at[k] : k;
        for (; word < i / 64; word++) others_before += ones64(bitmap_word(gp->sp.bitmap, n, word));
        uint64_t w = bitmap_word(gp->sp.bitmap, n, word);
        size_t rank1 = others_before + ones64(w & ((UINT64_C(1) << (i % 64)) - 1));
        memset(out[k].plate, 0, sizeof out[k].plate);
        if ((w >> (i % 64)) & 1) {
            if (!ids && (rc = shapes_ids(gp, &ids)) == 0 && !(seen = calloc(gp->ngroups, sizeof *seen))) rc = -ENOMEM;
            for (; rc == 0 && done < rank1; done++) seen[ids[done]]++;
            if (rc < 0) break;
            size_t g = (size_t)ids[done++];
            if ((rc = shapes_plate(gp, g, seen[g]++, out[k].plate, NULL, 0)) > 0) rc = 0;
        } else {
            uint32_t v;
            if ((rc = split_value(&gp->sp, i - rank1, &v)) == 0) uk_current_plate(out[k].plate, v);
        }
    }
    free(ids);
    free(seen);
    return rc == -ENOMEM ? rc : rc < 0 ? ANPR_ECORRUPT : 0;
}

static int shapes_decode(anpr_row *rows, size_t n, const uint8_t *src, size_t len)
{
    shapes_parts gp;
    int rc = shapes_open(&gp, src, len, n);
    if (rc == 0) rc = shapes_rows(&gp, rows, NULL, n, n);
    if (rc == 0 && !bp_tail_zero(gp.sp.values, gp.sp.n0, UK_CURRENT_BITS)) rc = ANPR_ECORRUPT;
    shapes_close(&gp);
    return rc;
}

static int shapes_decode_at(anpr_row *out, const uint32_t *at, size_t nat, const uint8_t *src, size_t len, size_t n)
{
    shapes_parts gp;
    int rc = shapes_open(&gp, src, len, n);
    if (rc == 0) rc = shapes_rows(&gp, out, at, nat, n);
    shapes_close(&gp);
    return rc;
}

/*
 * plate-split's plates of rows at[0..nat) alone: a current-format row's
 * value is found by its rank among such rows (the bitmap's zero bits before
 * it), another's by skipping the long forms before it. The values and
 * plates decoded are checked as split_decode checks them; the rest are not.
 */
static int split_decode_at(anpr_row *out, const uint32_t *at, size_t nat, const uint8_t *src, size_t len, size_t n)
{
    split_parts sp;
    if (split_open(&sp, src, len, n) < 0) return ANPR_ECORRUPT;
    size_t word = 0, others_before = 0; /* others in the bitmap's words before `word` */
    size_t others_done = 0;             /* long forms the reader has passed */
    for (size_t k = 0; k < nat; k++) {
        size_t i = at[k];
        for (; word < i / 64; word++) others_before += ones64(bitmap_word(sp.bitmap, n, word));
        uint64_t w = bitmap_word(sp.bitmap, n, word);
        size_t rank1 = others_before + ones64(w & ((UINT64_C(1) << (i % 64)) - 1));
        memset(out[k].plate, 0, sizeof out[k].plate);
        if ((w >> (i % 64)) & 1) {
            for (; others_done < rank1; others_done++) {
                size_t bits = other_size(br_peek(&sp.others));
                if (bits == 0 || br_left(&sp.others) < bits) return ANPR_ECORRUPT;
                sp.others.pos += bits;
            }
            if (uk_decode_other(&sp.others, out[k].plate) < 0) return ANPR_ECORRUPT;
            others_done++;
        } else {
            uint32_t v;
            if (split_value(&sp, i - rank1, &v) < 0) return ANPR_ECORRUPT;
            uk_current_plate(out[k].plate, v);
        }
    }
    return 0;
}

int enc_plate_decode_at(anpr_row *out, const uint32_t *at, size_t nat, anpr_row *scratch, size_t n, unsigned id,
                        const uint8_t *src, size_t len)
{
    for (size_t k = 0; k < nat; k++)
        if (at[k] >= n || (k > 0 && at[k] <= at[k - 1])) return ANPR_EINVAL;
    if (id == ENC_PLATE_SPLIT) return split_decode_at(out, at, nat, src, len, n);
    if (id == ENC_PLATE_SHAPES) return shapes_decode_at(out, at, nat, src, len, n);
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
    if (id == ENC_PLATE_SPLIT) return split_encode(out, rows, n, 1);
    if (id == ENC_PLATE_SHAPES) return shapes_encode(out, rows, n);
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

int enc_plate_encode_best(enc_buf *out, unsigned *id, const anpr_row *rows, size_t n)
{
    *id = ENC_PLATE_SHAPES;
    int rc = shapes_encode(out, rows, n);
    if (rc != -E2BIG) return rc;
    *id = ENC_PLATE_SPLIT;
    return split_encode(out, rows, n, 1);
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
    if (id == ENC_PLATE_SPLIT) return split_decode(rows, n, src, len);
    if (id == ENC_PLATE_SHAPES) return shapes_decode(rows, n, src, len);
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

/* The current-format codes of a target (encode.h), sorted; none if no such plate exists. */
static int uk_codes(const char *plate, int fold, uint32_t **codes, size_t *n)
{
    *codes = NULL;
    *n = 0;
    size_t len = strlen(plate);
    if (len != 7) return 0;
    /* For each position, the characters the current format allows there that match plate's. */
    char opts[7][40];
    size_t nopt[7];
    size_t total = 1;
    for (size_t i = 0; i < 7; i++) {
        const char *cls = fold ? fold_class(plate[i]) : NULL;
        char single[2] = {plate[i], 0};
        if (!cls) cls = plate[i] == '?' ? "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ" : single;
        nopt[i] = 0;
        for (const char *c = cls; *c; c++) {
            int ok = i == 2 || i == 3 ? is_digit(*c) : set_index(i < 2 ? tag_index : rand_index, *c) >= 0;
            if (ok) opts[i][nopt[i]++] = *c;
        }
        total *= nopt[i];
    }
    if (total == 0) return 0;
    if (total > ENC_PLATE_CODES_MAX) return -E2BIG;
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

/*
 * Another plate of the same length can only match if its letters and digits
 * sit where plate's do, except, when folding, where plate holds a digit that
 * a letter folds to (0 for O, 8 for B ...): the shape bits in fixed must be
 * want_shape's.
 */
static void shape_filter(const char *plate, int fold, uint32_t *want_shape, uint32_t *fixed)
{
    *want_shape = *fixed = 0;
    for (size_t k = 0; plate[k]; k++) {
        if (plate[k] == '?') continue; /* a letter or a digit */
        if (!is_digit(plate[k])) *want_shape |= UINT32_C(1) << k;
        if (!fold || !fold_class(plate[k])) *fixed |= UINT32_C(1) << k;
    }
}

/*
 * The codes a finder looks for. With more than one (a misread-tolerant
 * search), a bit set over a hash of each code rules out nearly every other
 * value before the binary search does.
 */
#define CODE_FILTER_BITS 14
typedef struct code_set {
    const uint32_t *codes;
    size_t n;
    uint64_t filter[(1u << CODE_FILTER_BITS) / 64];
} code_set;

static unsigned code_slot(uint32_t v)
{
    return (unsigned)((v * UINT32_C(0x9E3779B1)) >> (32 - CODE_FILTER_BITS));
}

static void code_set_init(code_set *cs, const uint32_t *codes, size_t n)
{
    cs->codes = codes;
    cs->n = n;
    if (n <= 1) return;
    memset(cs->filter, 0, sizeof cs->filter);
    for (size_t k = 0; k < n; k++) cs->filter[code_slot(codes[k]) / 64] |= UINT64_C(1) << (code_slot(codes[k]) % 64);
}

static int code_wanted(const code_set *cs, uint32_t v)
{
    if (cs->n == 1) return v == cs->codes[0];
    if (cs->n == 0 || !((cs->filter[code_slot(v) / 64] >> (code_slot(v) % 64)) & 1)) return 0;
    return has_code(cs->codes, cs->n, v);
}

/*
 * A plate sought, worked out once a query rather than once a block: the
 * codes of its current-format spellings and, for a plate of up to
 * SPELL_LEN_MAX characters without '?', the long-form bits of every other
 * spelling that matches it (one, or for a misread-tolerant search each
 * character's fold class: 32 for AB12CDE). A long-form plate in a block
 * then matches if and only if its bits are one of those: a table lookup
 * on its first 12 bits and a compare, where decoding it character by
 * character took 8 % of a misread-tolerant plate history.
 */
#define SPELL_LEN_MAX 8 /* the whole long form fits the 57 bits br_peek gives */
#define SPELL_FILTER_BITS 14

static unsigned spell_slot(uint64_t v)
{
    return (unsigned)((v * UINT64_C(0x9E3779B97F4A7C15)) >> (64 - SPELL_FILTER_BITS));
}
#define SPELL_MAX 256
struct enc_plate_target {
    char plate[ANPR_PLATE_MAX + 1];
    int fold;
    size_t len;
    /* A long form's first 4 + 15 bits that a match must have: its length and the shape bits shape_filter fixes. */
    uint64_t head_mask, head_want;
    int walk_others;              /* a long-form plate may match: folding, no current-format spelling, or a '?' */
    uint32_t *codes;
    code_set cs;
    size_t nspell;                /* SIZE_MAX: not spelt out; a long-form plate is decoded to be compared */
    uint64_t spell[SPELL_MAX];    /* sorted */
    uint64_t heads[4096 / 64];    /* the first 12 bits of each spelling */
    uint64_t shape_heads[4096 / 64];                        /* plate-shapes: each spelling's length and shape */
    uint64_t spell_filter[(1u << SPELL_FILTER_BITS) / 64]; /* plate-shapes: a bit a spelling, at spell_slot */
};

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/*
 * The long form of p (not in the current format, up to SPELL_LEN_MAX
 * characters) as the bits uk_encode_other writes, least significant first.
 */
static int other_form(const char *p, size_t len, uint64_t *bits)
{
    enc_buf b = {0};
    bit_writer bw = {&b, 0, 0};
    int rc = uk_encode_other(&bw, p, len);
    if (rc == 0) rc = bw_finish(&bw);
    if (rc == 0) {
        uint8_t w[8] = {0};
        memcpy(w, b.data, b.len < 8 ? b.len : 8);
        *bits = get_u64(w);
    }
    enc_buf_free(&b);
    return rc;
}

/* Every spelling of t->plate that is not in the current format, into t->spell (nspell stays SIZE_MAX if too many). */
static void spell_others(enc_plate_target *t)
{
    const char *opts[SPELL_LEN_MAX];
    size_t nopt[SPELL_LEN_MAX], total = 1;
    if (t->len == 0 || t->len > SPELL_LEN_MAX || strchr(t->plate, '?')) return;
    for (size_t i = 0; i < t->len; i++) {
        const char *cls = t->fold ? fold_class(t->plate[i]) : NULL;
        opts[i] = cls ? cls : &t->plate[i];
        nopt[i] = cls ? strlen(cls) : 1;
        total *= nopt[i];
        if (total > SPELL_MAX) return;
    }
    size_t idx[SPELL_LEN_MAX] = {0}, n = 0;
    for (size_t k = 0; k < total; k++) {
        char p[SPELL_LEN_MAX + 1] = {0};
        for (size_t i = 0; i < t->len; i++) p[i] = opts[i][idx[i]];
        uint64_t bits;
        if (uk_current_value(p, t->len) < 0 && other_form(p, t->len, &bits) == 0) {
            t->spell[n++] = bits;
            t->heads[(bits & 0xFFF) / 64] |= UINT64_C(1) << (bits & 63);
            uint64_t head = bits & ((UINT64_C(1) << (4 + t->len)) - 1);
            t->shape_heads[head / 64] |= UINT64_C(1) << (head % 64);
            t->spell_filter[spell_slot(bits) / 64] |= UINT64_C(1) << (spell_slot(bits) % 64);
        }
        for (size_t i = t->len; i-- > 0;) {
            if (++idx[i] < nopt[i]) break;
            idx[i] = 0;
        }
    }
    qsort(t->spell, n, sizeof *t->spell, cmp_u64);
    t->nspell = n;
}

int enc_plate_target_new(enc_plate_target **out, const char *plate, int fold)
{
    *out = NULL;
    size_t len = strlen(plate);
    if (len > ANPR_PLATE_MAX) return ANPR_EINVAL;
    enc_plate_target *t = calloc(1, sizeof *t);
    if (!t) return -ENOMEM;
    memcpy(t->plate, plate, len);
    t->fold = fold;
    t->len = len;
    uint32_t want_shape, fixed;
    shape_filter(plate, fold, &want_shape, &fixed);
    t->head_mask = 15 | (uint64_t)fixed << 4;
    t->head_want = len | (uint64_t)(want_shape & fixed) << 4;
    size_t ncodes;
    int rc = uk_codes(plate, fold, &t->codes, &ncodes);
    if (rc < 0) {
        free(t);
        return rc;
    }
    code_set_init(&t->cs, t->codes, ncodes);
    t->walk_others = fold || ncodes == 0 || strchr(plate, '?');
    t->nspell = SIZE_MAX;
    spell_others(t);
    *out = t;
    return 0;
}

void enc_plate_target_free(enc_plate_target *t)
{
    if (!t) return;
    free(t->codes);
    free(t);
}

/*
 * Does a long-form plate (the reader after its kind bit) match the target?
 * The reader moves past it either way. On a match its text is in p and its
 * chunks have been checked. Spelt out: its bits looked up. Otherwise a plate
 * of another length or shape is passed over unread, and one that might
 * match is decoded a character at a time, last first, and dropped at the
 * first that differs.
 */
static inline int other_matches(bit_reader *br, const enc_plate_target *t, char *p)
{
    uint64_t w = br_peek(br);
    size_t bits = other_size(w);
    if (bits == 0 || br_left(br) < bits) return ANPR_ECORRUPT;
    size_t end = br->pos + bits;
    int m;
    if (t->nspell != SIZE_MAX) {
        /* Its own bits only: a plate shorter than 12 bits is followed by the next one's. */
        uint64_t v = bits <= 57 ? w & ((UINT64_C(1) << bits) - 1) : 0;
        m = 0;
        if (v && (t->heads[(v & 0xFFF) / 64] >> (v & 63)) & 1 &&
            bsearch(&v, t->spell, t->nspell, sizeof v, cmp_u64))
            m = uk_decode_other_as(br, p, NULL, 0);
    } else {
        /* Its length and the shape bits that must agree, as the stream holds them. */
        m = (w & t->head_mask) == t->head_want ? uk_decode_other_as(br, p, t->plate, t->fold) : 0;
    }
    br->pos = end; /* a plate that stopped matching leaves the reader inside it */
    return m;
}

static int uk_find(const uint8_t *src, size_t len, size_t n, const enc_plate_target *t, uint32_t *at, anpr_row *out,
                   size_t *nhit)
{
    bit_reader br = {src, len, 0};
    const code_set *cs = &t->cs;
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
            if (code_wanted(cs, v)) {
                memset(out[found].plate, 0, sizeof out[found].plate);
                uk_current_plate(out[found].plate, v);
                at[found++] = (uint32_t)i;
            }
            continue;
        }
        bit_reader other = {src, len, pos + 1}; /* after the kind bit */
        char p[ANPR_PLATE_MAX + 1];
        int m = other_matches(&other, t, p);
        if (m < 0) return m;
        if (m) {
            memcpy(out[found].plate, p, sizeof out[found].plate);
            at[found++] = (uint32_t)i;
        }
        pos = other.pos;
    }
    *nhit = found;
    br.pos = pos;
    return br_finish(&br);
}

/*
 * Merge the row-ordered hits at[0..f0) with bat[0..f1) into at[0..f0+f1)
 * (and their plates alike), from the back; bat must not lie where the
 * merged list is written ahead of its reading.
 */
static void merge_back(uint32_t *at, anpr_row *out, size_t f0, const uint32_t *bat, const anpr_row *bout, size_t f1)
{
    size_t w = f0 + f1, i = f0, k = f1;
    while (k > 0) {
        w--;
        if (i > 0 && at[i - 1] > bat[k - 1]) {
            i--;
            at[w] = at[i];
            out[w] = out[i];
        } else {
            k--;
            at[w] = bat[k];
            out[w] = bout[k];
        }
    }
}

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define SPLIT_SCAN_AVX2 1

/*
 * The scan with AVX2 for up to SCAN_AVX2_CODES codes, four values a step:
 * two 16-byte loads (at the group's byte 0 and 7) spread into four 64-bit
 * lanes by a byte shuffle, each lane shifted right by its own amount and
 * masked to 30 bits, compared with each code and kept for the range check.
 * About three times the scalar loop's speed. Returns the values scanned
 * (whole groups of four while 23 bytes remain); the caller does the rest.
 */
#define SCAN_AVX2_CODES 8
__attribute__((target("avx2"))) static size_t split_scan_avx2(const uint8_t *p, size_t n0, size_t len,
                                                              const uint32_t *codes, size_t ncodes, uint32_t *hit,
                                                              size_t *found, uint32_t *top)
{
    /* Value k of a group starts at bit 30k: bytes 0, 3, 7, 11, shifted by 0, 6, 4, 2. */
    const __m256i spread = _mm256_setr_epi8(0, 1, 2, 3, 4, 5, 6, 7, 3, 4, 5, 6, 7, 8, 9, 10, /* from p */
                                            0, 1, 2, 3, 4, 5, 6, 7, 4, 5, 6, 7, 8, 9, 10, 11 /* from p + 7 */);
    const __m256i shifts = _mm256_setr_epi64x(0, 6, 4, 2);
    const __m256i mask = _mm256_set1_epi64x((INT64_C(1) << UK_CURRENT_BITS) - 1);
    __m256i want[SCAN_AVX2_CODES];
    for (size_t c = 0; c < ncodes; c++) want[c] = _mm256_set1_epi64x(codes[c]);
    __m256i hi = _mm256_setzero_si256();
    size_t j = 0, f = *found;
    for (; j + 4 <= n0 && 15 * (j / 4) + 23 <= len; j += 4, p += 15) {
        __m256i x = _mm256_inserti128_si256(_mm256_castsi128_si256(_mm_loadu_si128((const void *)p)),
                                            _mm_loadu_si128((const void *)(p + 7)), 1);
        __m256i v = _mm256_and_si256(_mm256_srlv_epi64(_mm256_shuffle_epi8(x, spread), shifts), mask);
        hi = _mm256_max_epu32(hi, v);
        __m256i eq = _mm256_cmpeq_epi64(v, want[0]);
        for (size_t c = 1; c < ncodes; c++) eq = _mm256_or_si256(eq, _mm256_cmpeq_epi64(v, want[c]));
        int m = _mm256_movemask_pd(_mm256_castsi256_pd(eq));
        for (; m; m &= m - 1) hit[f++] = (uint32_t)(j + (size_t)__builtin_ctz((unsigned)m));
    }
    uint32_t lanes[8];
    _mm256_storeu_si256((void *)lanes, hi);
    for (int k = 0; k < 8; k++) *top = *top > lanes[k] ? *top : lanes[k];
    *found = f;
    return j;
}
#endif

/*
 * The current-format values a finder wants, as indexes into the array
 * (ascending) in hit[]; their count is returned, or ANPR_ECORRUPT for a
 * value out of range. Four values at a time come out of 15 bytes with two
 * overlapping 8-byte loads (or, with vector and a few codes on a CPU with
 * AVX2, a vector of them): this loop is most of a plate history's work.
 */
static long split_scan(const split_parts *sp, const code_set *cs, uint32_t *hit, int vector)
{
    const uint32_t mask = (UINT32_C(1) << UK_CURRENT_BITS) - 1;
    const uint32_t one = cs->n == 1 ? cs->codes[0] : UINT32_MAX; /* UINT32_MAX is never a value */
    const uint8_t *p = sp->values;
    size_t j = 0, found = 0;
    uint32_t top = 0; /* the largest value seen: past UK_CURRENT_VALUES means corrupt */
#ifdef SPLIT_SCAN_AVX2
    if (vector && cs->n >= 1 && cs->n <= SCAN_AVX2_CODES && __builtin_cpu_supports("avx2")) {
        j = split_scan_avx2(p, sp->n0, sp->values_len, cs->codes, cs->n, hit, &found, &top);
        p += 15 * (j / 4);
    }
#else
    (void)vector;
#endif
    for (; j + 4 <= sp->n0 && 15 * (j / 4) + 15 <= sp->values_len; j += 4, p += 15) {
        uint64_t a = get_u64(p), b = get_u64(p + 7);
        uint32_t v0 = (uint32_t)a & mask, v1 = (uint32_t)(a >> 30) & mask, v2 = (uint32_t)(b >> 4) & mask,
                 v3 = (uint32_t)(b >> 34) & mask;
        uint32_t m01 = v0 > v1 ? v0 : v1, m23 = v2 > v3 ? v2 : v3, m = m01 > m23 ? m01 : m23;
        top = top > m ? top : m;
        /* The common case, one code, without a branch a value; a set of codes through its filter. */
        unsigned any = cs->n == 1 ? (v0 == one) | (v1 == one) | (v2 == one) | (v3 == one) : cs->n > 1;
        if (!any) continue;
        uint32_t v[4] = {v0, v1, v2, v3};
        for (unsigned k = 0; k < 4; k++)
            if (code_wanted(cs, v[k])) hit[found++] = (uint32_t)(j + k);
    }
    if (top >= UK_CURRENT_VALUES) return ANPR_ECORRUPT;
    for (; j < sp->n0; j++) {
        uint32_t v;
        if (split_value(sp, j, &v) < 0) return ANPR_ECORRUPT;
        if (code_wanted(cs, v)) hit[found++] = (uint32_t)j;
    }
    return (long)found;
}

/*
 * plate-split's long forms that match t, in the arrays' tail [n - f1, n) in
 * row order (their rows in at[], their plates in out[]): f1, or ANPR_ECORRUPT.
 */
static long split_walk(split_parts *sp, size_t n, const enc_plate_target *t, uint32_t *at, anpr_row *out)
{
    bit_select other = {sp->bitmap, n, 1, 0, 0};
    size_t f1 = 0;
    for (size_t k = 0; k < n - sp->n0; k++) {
        char p[ANPR_PLATE_MAX + 1];
        int m = other_matches(&sp->others, t, p);
        if (m < 0) return m;
        if (m) {
            f1++;
            memcpy(out[n - f1].plate, p, sizeof out[n - f1].plate);
            at[n - f1] = (uint32_t)select_next(&other, k);
        }
    }
    if (br_finish(&sp->others) < 0) return ANPR_ECORRUPT;
    /* They were found in row order, so stored in reverse: turn them round. */
    for (size_t a = n - f1, b = n - 1; f1 > 1 && a < b; a++, b--) {
        uint32_t swap = at[a];
        at[a] = at[b];
        at[b] = swap;
        anpr_row r = out[a];
        out[a] = out[b];
        out[b] = r;
    }
    return (long)f1;
}

/*
 * shapes_walk's f1 hits, stored from the arrays' end backwards as
 * (group << 16 | plate of the group), in the order it found them (by group,
 * then plate), turned into rows: the long forms' group indexes give each
 * hit its rank among them, and then the tail is rewritten in row order.
 * Returns f1, ANPR_ECORRUPT or -ENOMEM.
 */
static long shapes_rank_hits(const shapes_parts *gp, size_t n, size_t f1, uint32_t *at, anpr_row *out)
{
    const size_t none = SIZE_MAX;
    /* Without huffman-ck's full check (a whole decode makes it): the table's counts are checked as the hits are ranked. */
    int64_t *ids = malloc((gp->m + 1) * sizeof *ids);
    long rc = ids ? huff_decode_first(ids, gp->m, gp->m, gp->ids, gp->ids_len) : -ENOMEM;
    size_t *seen = calloc(gp->ngroups, sizeof *seen), *next = malloc(gp->ngroups * sizeof *next);
    uint32_t *ranked = malloc(2 * f1 * sizeof *ranked); /* (rank, hit) pairs */
    anpr_row *plates = malloc(f1 * sizeof *plates);
    if (rc == 0 && !(seen && next && ranked && plates)) rc = -ENOMEM;
    for (size_t g = 0; rc == 0 && g < gp->ngroups; g++) next[g] = none;
    /* Hit h sits at n - 1 - h; next[g] is group g's first hit not yet ranked. */
    for (size_t h = f1; rc == 0 && h-- > 0;) next[at[n - 1 - h] >> 16] = h;
    size_t left = f1;
    for (size_t k = 0; rc == 0 && left && k < gp->m; k++) {
        size_t g = (size_t)ids[k], j = seen[g]++, h = next[g];
        if (h == none || (at[n - 1 - h] & 0xFFFF) != j) continue;
        ranked[2 * (f1 - left)] = (uint32_t)k;
        ranked[2 * (f1 - left) + 1] = (uint32_t)h;
        left--;
        next[g] = h + 1 < f1 && at[n - 2 - h] >> 16 == g ? h + 1 : none;
    }
    /* Every hit lies within its group's count: the indexes hold fewer plates of a group than the table says. */
    if (rc == 0 && left) rc = ANPR_ECORRUPT;
    if (rc == 0) {
        qsort(ranked, f1, 2 * sizeof *ranked, cmp_u32_pair);
        for (size_t h = 0; h < f1; h++) plates[h] = out[n - 1 - h];
        bit_select other = {gp->sp.bitmap, n, 1, 0, 0};
        for (size_t r = 0; r < f1; r++) {
            out[n - f1 + r] = plates[ranked[2 * r + 1]];
            at[n - f1 + r] = (uint32_t)select_next(&other, ranked[2 * r]);
        }
        rc = (long)f1;
    }
    free(ids);
    free(seen);
    free(next);
    free(ranked);
    free(plates);
    return rc;
}

/*
 * plate-shapes' long forms that match t, into the arrays' tail as
 * split_walk leaves them. Only the groups whose head a match could have are
 * looked at: with the target spelt out, each plate's bits (its head, then
 * its chunks from the group's array) go through the spellings' filter and
 * are looked up; otherwise each plate of such a group is decoded and
 * compared. The hits come group by group; one pass over the groups'
 * indexes then gives each its rank among the long forms, and so its row.
 */
static long shapes_walk(shapes_parts *gp, size_t n, const enc_plate_target *t, uint32_t *at, anpr_row *out)
{
    const int spelt = t->nspell != SIZE_MAX;
    size_t f1 = 0;
    for (size_t g = 0; g < gp->ngroups; g++) {
        const shape_group *sg = &gp->groups[g];
        uint32_t head = sg->head, len = head & 15;
        if (spelt ? len != t->len || !((t->shape_heads[head / 64] >> (head % 64)) & 1)
                  : (head & t->head_mask) != t->head_want)
            continue;
        for (size_t j = 0; j < sg->count; j++) {
            if (spelt) {
                /* Up to 8 characters: head and chunks, 51 bits at most, within one peek. */
                bit_reader br = {gp->chunks, gp->chunks_len, sg->base + j * sg->width};
                uint64_t v = head | (br_peek(&br) & ((UINT64_C(1) << sg->width) - 1)) << (4 + len);
                unsigned slot = spell_slot(v);
                if (!((t->spell_filter[slot / 64] >> (slot % 64)) & 1) ||
                    !bsearch(&v, t->spell, t->nspell, sizeof v, cmp_u64))
                    continue;
            }
            char p[ANPR_PLATE_MAX + 1];
            int rc = shapes_plate(gp, g, j, p, spelt ? NULL : t->plate, t->fold && !spelt);
            if (rc < 0) return rc;
            if (rc == 0) continue;
            f1++;
            memcpy(out[n - f1].plate, p, sizeof out[n - f1].plate);
            at[n - f1] = (uint32_t)(g << 16 | j); /* for now: which plate of which group */
        }
    }
    if (f1 == 0) return 0;
    return shapes_rank_hits(gp, n, f1, at, out);
}

static int split_find(const uint8_t *src, size_t len, size_t n, const enc_plate_target *t, uint32_t *at,
                      anpr_row *out, size_t *nhit, int vector, unsigned id)
{
    shapes_parts gp;
    split_parts *sp = &gp.sp;
    gp.groups = gp.room;
    int rc = split_open(sp, src, len, n);
    /* plate-shapes' parts after the values are only opened for a search that looks at the long forms. */
    if (rc == 0 && id == ENC_PLATE_SHAPES && t->walk_others) rc = shapes_open_rest(&gp, n);
    if (rc < 0) goto done;
    /* Current-format plates: one pass over the array, no text; the row comes from the bitmap. */
    long f0 = split_scan(sp, &t->cs, at, vector);
    rc = f0 < 0 || !bp_tail_zero(sp->values, sp->n0, UK_CURRENT_BITS) ? ANPR_ECORRUPT : 0;
    bit_select current = {sp->bitmap, n, 0, 0, 0};
    for (long k = 0; rc == 0 && k < f0; k++) {
        uint32_t v;
        if ((rc = split_value(sp, at[k], &v)) < 0) break;
        memset(out[k].plate, 0, sizeof out[k].plate);
        uk_current_plate(out[k].plate, v);
        at[k] = (uint32_t)select_next(&current, at[k]);
    }
    /*
     * The others can only match a plate outside the current format, or one
     * that folding or a '?' may reach from outside it. Their hits go to the
     * arrays' end, in row order, then the two lists are merged from the back.
     */
    size_t f1 = 0;
    if (rc == 0 && t->walk_others) {
        long w = id == ENC_PLATE_SHAPES ? shapes_walk(&gp, n, t, at, out) : split_walk(sp, n, t, at, out);
        if (w < 0) rc = (int)w;
        else f1 = (size_t)w;
    }
    /*
     * Merge from the back into [0, f0 + f1). The second list's entries are
     * read from [n - f1, n): when the merged list would reach into them (a
     * block where nearly every row is a hit), they are copied out first.
     */
    if (rc == 0 && f1) {
        uint32_t *bat = at + (n - f1);
        anpr_row *bout = out + (n - f1);
        uint32_t *copy_at = NULL;
        anpr_row *copy_out = NULL;
        if (f0 + 2 * f1 > n) {
            copy_at = malloc(f1 * sizeof *copy_at);
            copy_out = malloc(f1 * sizeof *copy_out);
            if (copy_at && copy_out) {
                memcpy(copy_at, bat, f1 * sizeof *bat);
                memcpy(copy_out, bout, f1 * sizeof *bout);
            }
            bat = copy_at;
            bout = copy_out;
        }
        if (bat && bout) merge_back(at, out, (size_t)f0, bat, bout, f1);
        else rc = -ENOMEM;
        free(copy_at);
        free(copy_out);
    }
    if (rc == 0) *nhit = (size_t)f0 + f1;
done:
    if (id == ENC_PLATE_SHAPES) shapes_close(&gp);
    return rc == -ENOMEM ? rc : rc < 0 ? ANPR_ECORRUPT : 0;
}

int enc_plate_find_with(unsigned id, const uint8_t *src, size_t len, size_t n, const enc_plate_target *t, uint32_t *at,
                        anpr_row *out, size_t *nhit, int vector)
{
    *nhit = 0;
    if (id == ENC_PLATE_UK) return uk_find(src, len, n, t, at, out, nhit);
    if (id == ENC_PLATE_SPLIT || id == ENC_PLATE_SHAPES) return split_find(src, len, n, t, at, out, nhit, vector, id);
    return ANPR_EINVAL;
}

int enc_plate_find(unsigned id, const uint8_t *src, size_t len, size_t n, const enc_plate_target *t, uint32_t *at,
                   anpr_row *out, size_t *nhit)
{
    return enc_plate_find_with(id, src, len, n, t, at, out, nhit, 1);
}
