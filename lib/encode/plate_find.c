/*
 * Finding one plate in a block's plate column without building every
 * plate's text (encode.h, enc_plate_find): a target worked out once a
 * query, then per block a scan of the current-format values for its codes
 * and a look at the long forms a match could be among.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "anpr/anpr.h"
#include "encode/encode.h"
#include "encode/huff_codec.h"
#include "encode/plate_split.h"
#include "encode/plate_uk.h"
#include "read/read.h"

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
            if (uk_current_allows(i, *c)) opts[i][nopt[i]++] = *c;
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
        if (!plate_is_digit(plate[k])) *want_shape |= UINT32_C(1) << k;
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
    uint32_t *letters;            /* plate-age: the codes' letters (plate_uk.h), sorted, each once */
    code_set cs_letters;
    /* plate-part: the letters again, by part (letters mod PART_COUNT), each as its value in the part, sorted */
    uint32_t *part_lows;
    code_set part_cs[PART_COUNT];
    size_t nspell;                /* SIZE_MAX: not spelt out; a long-form plate is decoded to be compared */
    uint64_t spell[SPELL_MAX];    /* sorted */
    uint64_t heads[4096 / 64];    /* the first 12 bits of each spelling */
    uint64_t shape_heads[4096 / 64]; /* plate-shapes: each spelling's length and shape */
    /* plate-shapes: each spelling as head << SPELL_CHUNK_SHIFT | its chunks, sorted, so a head's are together */
    uint64_t by_head[SPELL_MAX];
};

/* A spelling's chunks take at most 39 bits (plate_other_bits.h: 8 characters), its head at most 12. */
#define SPELL_CHUNK_SHIFT 47

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
            t->by_head[n - 1] = head << SPELL_CHUNK_SHIFT | bits >> (4 + t->len);
        }
        for (size_t i = t->len; i-- > 0;) {
            if (++idx[i] < nopt[i]) break;
            idx[i] = 0;
        }
    }
    qsort(t->spell, n, sizeof *t->spell, cmp_u64);
    qsort(t->by_head, n, sizeof *t->by_head, cmp_u64);
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
    /* Sorted codes with the same letters lie apart (the age sits above the random letters): sort theirs again. */
    t->letters = malloc((ncodes + 1) * sizeof *t->letters);
    if (!t->letters) {
        enc_plate_target_free(t);
        return -ENOMEM;
    }
    size_t nletters = 0;
    for (size_t k = 0; k < ncodes; k++) t->letters[k] = uk_value_letters(t->codes[k]);
    qsort(t->letters, ncodes, sizeof *t->letters, cmp_u32);
    for (size_t k = 0; k < ncodes; k++)
        if (k == 0 || t->letters[k] != t->letters[k - 1]) t->letters[nletters++] = t->letters[k];
    code_set_init(&t->cs_letters, t->letters, nletters);
    t->part_lows = malloc((nletters + 1) * sizeof *t->part_lows);
    if (!t->part_lows) {
        enc_plate_target_free(t);
        return -ENOMEM;
    }
    /* Counted into place by part: each part's letters stay in increasing order, as the letters were. */
    size_t part_at[PART_COUNT + 1] = {0};
    for (size_t k = 0; k < nletters; k++) part_at[(t->letters[k] & (PART_COUNT - 1)) + 1]++;
    for (unsigned p = 0; p < PART_COUNT; p++) part_at[p + 1] += part_at[p];
    size_t fill[PART_COUNT];
    memcpy(fill, part_at, sizeof fill);
    for (size_t k = 0; k < nletters; k++)
        t->part_lows[fill[t->letters[k] & (PART_COUNT - 1)]++] = t->letters[k] >> PART_SHIFT;
    for (unsigned p = 0; p < PART_COUNT; p++)
        code_set_init(&t->part_cs[p], t->part_lows + part_at[p], part_at[p + 1] - part_at[p]);
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
    free(t->letters);
    free(t->part_lows);
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
    size_t bits = uk_other_size(w);
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
 * The scan with AVX2 for up to SCAN_AVX2_CODES codes (or none: the range
 * check alone), eight values a step: two 16-byte loads (at the group's
 * byte 0 and a later one, a half of four values each) put each value's
 * first four bytes and, where it needs one, its fifth into a 32-bit lane by
 * two byte shuffles; the lane is shifted right by the value's offset
 * within its first byte, the fifth byte's bits added above it, and the
 * whole masked to the width, compared with each code and kept for the
 * range check. Returns the values scanned (whole groups of eight while the
 * loads fit); the caller does the rest.
 */
#define SCAN_AVX2_CODES 8

typedef struct avx2_group {
    int8_t first4[32], fifth[32]; /* the shuffles, from the first load, then from the second */
    int32_t right[8], left[8];    /* left 32: the lane needs no fifth byte */
    unsigned bytes, second, need; /* a group's bytes, the second load's offset, the bytes the loads need */
} avx2_group;

/* plate-split's 30-bit values: in each half, value k starts at bit 30k, bytes 0, 3, 7 and 11 of it. */
static const avx2_group avx2_values = {
    {0, 1, 2, 3, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 0, 1, 2, 3, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14},
    {4, -128, -128, -128, 7, -128, -128, -128, 11, -128, -128, -128, 15, -128, -128, -128,
     4, -128, -128, -128, 7, -128, -128, -128, 11, -128, -128, -128, 15, -128, -128, -128},
    {0, 6, 4, 2, 0, 6, 4, 2},
    {32, 26, 28, 30, 32, 26, 28, 30},
    30, 15, 31};

/* plate-age's 23-bit letters: bytes 0, 2, 5 and 8 of the group, then 0, 3, 6 and 9 of its byte 11; four hold each. */
static const avx2_group avx2_letters = {
    {0, 1, 2, 3, 2, 3, 4, 5, 5, 6, 7, 8, 8, 9, 10, 11, 0, 1, 2, 3, 3, 4, 5, 6, 6, 7, 8, 9, 9, 10, 11, 12},
    {-128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128,
     -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128},
    {0, 7, 6, 5, 4, 3, 2, 1},
    {32, 32, 32, 32, 32, 32, 32, 32},
    23, 11, 27};

/* plate-part's 20-bit letters: bytes 0, 2, 5 and 7 of each half (the second at byte 10), every other one shifted 4. */
static const avx2_group avx2_parts = {
    {0, 1, 2, 3, 2, 3, 4, 5, 5, 6, 7, 8, 7, 8, 9, 10, 0, 1, 2, 3, 2, 3, 4, 5, 5, 6, 7, 8, 7, 8, 9, 10},
    {-128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128,
     -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128},
    {0, 4, 0, 4, 0, 4, 0, 4},
    {32, 32, 32, 32, 32, 32, 32, 32},
    20, 10, 26};

/*
 * One kind of value: inlined once for each, so that plate-age's letters,
 * which never need a fifth byte, leave out its shuffle, shift and join (3
 * of the 13 instructions a step).
 */
__attribute__((target("avx2"), always_inline)) static inline size_t scan_avx2(const avx2_group *g, int fifth_byte,
                                                                               const uint8_t *p, size_t n0, size_t len,
                                                                               unsigned width, const uint32_t *codes,
                                                                               size_t ncodes, uint32_t *hit,
                                                                               size_t *found, uint32_t *top)
{
    const __m256i first4 = _mm256_loadu_si256((const void *)g->first4);
    const __m256i fifth = _mm256_loadu_si256((const void *)g->fifth);
    const __m256i right = _mm256_loadu_si256((const void *)g->right), left = _mm256_loadu_si256((const void *)g->left);
    const __m256i mask = _mm256_set1_epi32((int)((UINT32_C(1) << width) - 1));
    __m256i want[SCAN_AVX2_CODES];
    want[0] = _mm256_set1_epi32(-1); /* no code: all ones, which no value is */
    for (size_t c = 0; c < ncodes; c++) want[c] = _mm256_set1_epi32((int)codes[c]);
    __m256i hi = _mm256_setzero_si256();
    size_t j = 0, f = *found;
    for (; j + 8 <= n0 && g->bytes * (j / 8) + g->need <= len; j += 8, p += g->bytes) {
        __m256i x = _mm256_inserti128_si256(_mm256_castsi128_si256(_mm_loadu_si128((const void *)p)),
                                            _mm_loadu_si128((const void *)(p + g->second)), 1);
        __m256i v = _mm256_srlv_epi32(_mm256_shuffle_epi8(x, first4), right);
        if (fifth_byte) v = _mm256_or_si256(v, _mm256_sllv_epi32(_mm256_shuffle_epi8(x, fifth), left));
        v = _mm256_and_si256(v, mask);
        hi = _mm256_max_epu32(hi, v);
        __m256i eq = _mm256_cmpeq_epi32(v, want[0]);
        for (size_t c = 1; c < ncodes; c++) eq = _mm256_or_si256(eq, _mm256_cmpeq_epi32(v, want[c]));
        int m = _mm256_movemask_ps(_mm256_castsi256_ps(eq));
        for (; m; m &= m - 1) hit[f++] = (uint32_t)(j + (size_t)__builtin_ctz((unsigned)m));
    }
    uint32_t lanes[8];
    _mm256_storeu_si256((void *)lanes, hi);
    for (int k = 0; k < 8; k++) *top = *top > lanes[k] ? *top : lanes[k];
    *found = f;
    return j;
}

__attribute__((target("avx2"))) static size_t split_scan_avx2(const uint8_t *p, size_t n0, size_t len, unsigned width,
                                                              const uint32_t *codes, size_t ncodes, uint32_t *hit,
                                                              size_t *found, uint32_t *top)
{
    if (width == UK_CURRENT_BITS)
        return scan_avx2(&avx2_values, 1, p, n0, len, UK_CURRENT_BITS, codes, ncodes, hit, found, top);
    return scan_avx2(&avx2_letters, 0, p, n0, len, UK_LETTERS_BITS, codes, ncodes, hit, found, top);
}

__attribute__((target("avx2"))) static size_t part_scan_avx2(const uint8_t *p, size_t cnt, size_t len,
                                                             const uint32_t *codes, size_t ncodes, uint32_t *hit,
                                                             size_t *found, uint32_t *top)
{
    return scan_avx2(&avx2_parts, 0, p, cnt, len, PART_BITS, codes, ncodes, hit, found, top);
}

#endif

/*
 * The portable scan's group of values at p: plate-split's 30-bit values
 * four from 15 bytes with two overlapping 8-byte loads, plate-age's 23-bit
 * letters eight from 23 bytes with a 4-byte load each.
 */
static inline void scan_group(const uint8_t *p, unsigned width, uint32_t *v)
{
    if (width == UK_CURRENT_BITS) {
        const uint32_t mask = (UINT32_C(1) << UK_CURRENT_BITS) - 1;
        uint64_t a = get_u64(p), b = get_u64(p + 7);
        v[0] = (uint32_t)a & mask, v[1] = (uint32_t)(a >> 30) & mask;
        v[2] = (uint32_t)(b >> 4) & mask, v[3] = (uint32_t)(b >> 34) & mask;
        return;
    }
    static const uint8_t byte[8] = {0, 2, 5, 8, 11, 14, 17, 20}, shift[8] = {0, 7, 6, 5, 4, 3, 2, 1};
    const uint32_t mask = (UINT32_C(1) << UK_LETTERS_BITS) - 1;
    for (unsigned k = 0; k < 8; k++) v[k] = (get_u32(p + byte[k]) >> shift[k]) & mask;
}

/*
 * The portable scan from value j, a group at a time while the group's
 * loads fit (the rest is the caller's); returns where it stopped. Called
 * with a constant width, so that each array gets a loop of its own group.
 */
static inline __attribute__((always_inline)) size_t scan_groups(const split_parts *sp, const code_set *cs, size_t j,
                                                               unsigned width, uint32_t *hit, size_t *found,
                                                               uint32_t *top)
{
    /* A group: its values, its bytes, and the bytes its loads need. */
    const size_t per = width == UK_CURRENT_BITS ? 4 : 8, bytes = width == UK_CURRENT_BITS ? 15 : 23,
                 need = width == UK_CURRENT_BITS ? 15 : 24;
    const uint32_t one = cs->n == 1 ? cs->codes[0] : UINT32_MAX; /* UINT32_MAX is never a value */
    const uint8_t *p = sp->values + bytes * (j / per);
    size_t f = *found;
    uint32_t hi = *top;
    for (; j + per <= sp->n0 && bytes * (j / per) + need <= sp->values_len; j += per, p += bytes) {
        uint32_t v[8], m = 0;
        scan_group(p, width, v);
        /* The common case, one code, without a branch a value; a set of codes through its filter. */
        unsigned any = cs->n > 1;
        for (size_t k = 0; k < per; k++) {
            m = m > v[k] ? m : v[k];
            any |= v[k] == one;
        }
        hi = hi > m ? hi : m;
        if (!any) continue;
        for (size_t k = 0; k < per; k++)
            if (code_wanted(cs, v[k])) hit[f++] = (uint32_t)(j + k);
    }
    *found = f;
    *top = hi;
    return j;
}

/*
 * The current-format values (or plate-age's letters) a finder wants, as
 * indexes into the array (ascending) in hit[]; their count is returned, or
 * ANPR_ECORRUPT for a value out of range. A group of values at a time
 * (scan_group), or with vector and at most a few codes on a CPU with AVX2,
 * eight in a vector: this loop is most of a plate history's work. A search
 * with no current-format code still scans, for the range check.
 */
static long split_scan(split_parts *sp, const code_set *cs, uint32_t *hit, int vector)
{
    const int wide = sp->width == UK_CURRENT_BITS;
    size_t j = 0, found = 0;
    uint32_t top = 0; /* the largest value seen: past the array's limit means corrupt */
#ifdef SPLIT_SCAN_AVX2
    if (vector && cs->n <= SCAN_AVX2_CODES && __builtin_cpu_supports("avx2"))
        j = split_scan_avx2(sp->values, sp->n0, sp->values_len, sp->width, cs->codes, cs->n, hit, &found, &top);
#else
    (void)vector;
#endif
    if (wide) j = scan_groups(sp, cs, j, UK_CURRENT_BITS, hit, &found, &top);
    else j = scan_groups(sp, cs, j, UK_LETTERS_BITS, hit, &found, &top);
    if (top >= sp->limit) return ANPR_ECORRUPT;
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
    bit_select other = bit_select_start(sp, 1); /* a plain bitmap: never bad */
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
    /* Without huffman-ck's canonical check (a whole decode makes it); the table's counts are checked here. */
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
    for (size_t k = 0; rc == 0 && k < gp->m; k++) {
        size_t g = (size_t)ids[k], j = seen[g]++, h = next[g];
        if (h == none || (at[n - 1 - h] & 0xFFFF) != j) continue;
        ranked[2 * (f1 - left)] = (uint32_t)k;
        ranked[2 * (f1 - left) + 1] = (uint32_t)h;
        left--;
        next[g] = h + 1 < f1 && at[n - 2 - h] >> 16 == g ? h + 1 : none;
    }
    /* Each group's plates as many as the table says, as the decoder requires: else a hit's row could be another's. */
    for (size_t g = 0; rc == 0 && g < gp->ngroups; g++)
        if (seen[g] != gp->groups[g].count) rc = ANPR_ECORRUPT;
    if (rc == 0 && left) rc = ANPR_ECORRUPT;
    if (rc == 0) {
        qsort(ranked, f1, 2 * sizeof *ranked, split_cmp_u32_pair);
        for (size_t h = 0; h < f1; h++) plates[h] = out[n - 1 - h];
        bit_select other = bit_select_start(&gp->sp, 1);
        for (size_t r = 0; r < f1; r++) {
            out[n - f1 + r] = plates[ranked[2 * r + 1]];
            at[n - f1 + r] = (uint32_t)select_next(&other, ranked[2 * r]);
        }
        rc = other.bad ? ANPR_ECORRUPT : (long)f1;
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
 * With at NULL, 1 at the first hit instead (out unused).
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
        /*
         * Spelt out: the spellings with this head, found once a query in
         * by_head (a few: a misread-tolerant AB12CDE has 32 spellings over 16
         * shapes), which each plate of the group is compared with, without a
         * branch. A spelt head is of at most 8 characters, so its chunks fit
         * a word (a longer plate's may not).
         */
        size_t lo = 0, hi = 0;
        uint64_t key = (uint64_t)head << SPELL_CHUNK_SHIFT, chunk_mask = 0;
        if (spelt) {
            for (size_t span = t->nspell; span > 0;) {
                size_t half = span / 2;
                if (t->by_head[lo + half] < key) {
                    lo += half + 1;
                    span -= half + 1;
                } else {
                    span = half;
                }
            }
            for (hi = lo; hi < t->nspell && t->by_head[hi] >> SPELL_CHUNK_SHIFT == head;) hi++;
            chunk_mask = (UINT64_C(1) << sg->width) - 1;
        }
        for (size_t j = 0; j < sg->count; j++) {
            if (spelt) {
                /* Up to 8 characters: head and chunks, 51 bits at most, within one peek. */
                bit_reader br = {gp->chunks, gp->chunks_len, sg->base + j * sg->width};
                uint64_t c = key | (br_peek(&br) & chunk_mask);
                int hit = 0;
                for (size_t k = lo; k < hi; k++) hit |= c == t->by_head[k];
                if (!hit) continue;
            }
            char p[ANPR_PLATE_MAX + 1];
            int rc = shapes_plate(gp, g, j, p, spelt ? NULL : t->plate, t->fold && !spelt);
            if (rc < 0) return rc;
            if (rc == 0) continue;
            if (!at) return 1; /* only whether any matches */
            f1++;
            memcpy(out[n - f1].plate, p, sizeof out[n - f1].plate);
            at[n - f1] = (uint32_t)(g << 16 | j); /* for now: which plate of which group */
        }
    }
    if (f1 == 0) return 0;
    return shapes_rank_hits(gp, n, f1, at, out);
}

/*
 * plate-part: the letters among a part's cnt values (PART_BITS each, in
 * plen bytes at p) that cs holds, as their places in the part into hit[]
 * (room for cnt); the largest value seen in *top, for the range check.
 * Eight values a step with AVX2 (scan_avx2) while its loads fit, then two
 * a 5-byte step while an 8-byte load does.
 */
static size_t part_scan(const uint8_t *p, size_t cnt, size_t plen, const code_set *cs, uint32_t *hit, uint32_t *top,
                        int vector)
{
    const uint32_t mask = (UINT32_C(1) << PART_BITS) - 1;
    size_t q = 0, f = 0;
    uint32_t hi = 0;
#ifdef SPLIT_SCAN_AVX2
    if (vector && cs->n <= SCAN_AVX2_CODES && __builtin_cpu_supports("avx2"))
        q = part_scan_avx2(p, cnt, plen, cs->codes, cs->n, hit, &f, &hi);
#else
    (void)vector;
#endif
    for (; q + 2 <= cnt && 5 * (q / 2) + 8 <= plen; q += 2) {
        uint64_t x = get_u64(p + 5 * (q / 2));
        uint32_t v[2] = {(uint32_t)x & mask, (uint32_t)(x >> PART_BITS) & mask};
        for (unsigned k = 0; k < 2; k++) {
            hi = hi > v[k] ? hi : v[k];
            if (code_wanted(cs, v[k])) hit[f++] = (uint32_t)(q + k);
        }
    }
    for (; q < cnt; q++) {
        uint32_t v = (uint32_t)bp_get(p, plen, q, PART_BITS);
        hi = hi > v ? hi : v;
        if (code_wanted(cs, v)) hit[f++] = (uint32_t)q;
    }
    *top = hi;
    return f;
}

/*
 * plate-part's split_scan: the letters t wants, from the parts its letters
 * fall in, as their ranks among the current-format plates (ascending) in
 * hit[] and their letters in *vals (a new array the caller frees, NULL when
 * none is found). Returns how many, ANPR_ECORRUPT or -ENOMEM.
 */
static long part_find_letters(const split_parts *sp, const enc_plate_target *t, uint32_t *hit, uint32_t **vals,
                              int vector)
{
    *vals = NULL;
    size_t f = 0, first[PART_COUNT + 1];
    for (unsigned p = 0; p < PART_COUNT; p++) {
        first[p] = f;
        if (t->part_cs[p].n == 0) continue;
        uint32_t top;
        f += part_scan(sp->part[p], sp->part_n[p], sp->part_len[p], &t->part_cs[p], hit + f, &top, vector);
        if (top >= PART_LIMIT) return ANPR_ECORRUPT;
    }
    first[PART_COUNT] = f;
    if (f == 0) return 0;
    /* Each hit's rank from the part ids, part by part; then all of them in rank order. */
    uint64_t *ranked = malloc(f * sizeof *ranked); /* rank << 32 | letters */
    if (!ranked) return -ENOMEM;
    for (unsigned p = 0; p < PART_COUNT; p++) {
        part_walk w = {sp, p, 0, 0};
        for (size_t h = first[p]; h < first[p + 1]; h++) {
            size_t j = part_select(&w, hit[h]);
            if (j == SIZE_MAX) {
                free(ranked);
                return ANPR_ECORRUPT; /* a part holds more letters than the ids give it */
            }
            uint32_t low = (uint32_t)bp_get(sp->part[p], sp->part_len[p], hit[h], PART_BITS);
            ranked[h] = (uint64_t)j << 32 | (low << PART_SHIFT | p);
        }
    }
    qsort(ranked, f, sizeof *ranked, cmp_u64);
    uint32_t *v = malloc(f * sizeof *v);
    if (!v) {
        free(ranked);
        return -ENOMEM;
    }
    for (size_t h = 0; h < f; h++) {
        hit[h] = (uint32_t)(ranked[h] >> 32);
        v[h] = (uint32_t)ranked[h];
    }
    free(ranked);
    *vals = v;
    return (long)f;
}

static int split_find(const uint8_t *src, size_t len, size_t n, const enc_plate_target *t, uint32_t *at,
                      anpr_row *out, size_t *nhit, int vector, unsigned id)
{
    shapes_parts gp;
    split_parts *sp = &gp.sp;
    const int aged = split_ages(id), grouped = id == ENC_PLATE_SHAPES || aged;
    int rc = split_open(sp, src, len, n, aged);
    /* plate-shapes' parts after the values are only opened for a search that looks at the long forms. */
    if (rc == 0 && grouped && t->walk_others) rc = shapes_open_rest(&gp, n);
    if (rc < 0) goto done;
    /*
     * Current-format plates: one pass over the array, no text; the row
     * comes from the bitmap. plate-age's array holds the letters alone:
     * each value found is joined to its age, and kept if that is a code.
     */
    uint32_t *vals = NULL; /* plate-part: the letters found, from their parts */
    long f0 = sp->parts ? part_find_letters(sp, t, at, &vals, vector)
                        : split_scan(sp, aged ? &t->cs_letters : &t->cs, at, vector);
    if (f0 < 0) rc = (int)f0;
    else if (!sp->parts && !bp_tail_zero(sp->values, sp->n0, sp->width)) rc = ANPR_ECORRUPT;
    bit_select current = bit_select_start(sp, 0);
    long kept = 0;
    for (long k = 0; rc == 0 && k < f0; k++) {
        uint32_t v, age = 0;
        if (vals) v = vals[k];
        else if ((rc = split_value(sp, at[k], &v)) < 0) break;
        if (aged && (rc = split_age(sp, at[k], &age)) < 0) break;
        if (aged && !code_wanted(&t->cs, uk_value_join(v, age))) continue;
        memset(out[kept].plate, 0, sizeof out[kept].plate);
        if (aged) uk_letters_plate(out[kept].plate, v, age);
        else uk_current_plate(out[kept].plate, v);
        at[kept++] = (uint32_t)select_next(&current, at[k]);
    }
    free(vals);
    f0 = kept;
    if (rc == 0 && current.bad) rc = ANPR_ECORRUPT;
    /*
     * The others can only match a plate outside the current format, or one
     * that folding or a '?' may reach from outside it. Their hits go to the
     * arrays' end, in row order, then the two lists are merged from the back.
     */
    size_t f1 = 0;
    if (rc == 0 && t->walk_others) {
        long w = grouped ? shapes_walk(&gp, n, t, at, out) : split_walk(sp, n, t, at, out);
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
    return rc == -ENOMEM ? rc : rc < 0 ? ANPR_ECORRUPT : 0;
}

int enc_plate_find_with(unsigned id, const uint8_t *src, size_t len, size_t n, const enc_plate_target *t, uint32_t *at,
                        anpr_row *out, size_t *nhit, int vector)
{
    *nhit = 0;
    if (id == ENC_PLATE_UK) return uk_find(src, len, n, t, at, out, nhit);
    if (enc_plate_ranked(id)) return split_find(src, len, n, t, at, out, nhit, vector, id);
    return ANPR_EINVAL;
}

int enc_plate_find(unsigned id, const uint8_t *src, size_t len, size_t n, const enc_plate_target *t, uint32_t *at,
                   anpr_row *out, size_t *nhit)
{
    return enc_plate_find_with(id, src, len, n, t, at, out, nhit, 1);
}

/* The table checked against its sum and opened, with n0 and the long forms taken from it alone. */
static int part_table_open(shapes_parts *gp, const uint8_t *src, size_t len, size_t n, uint32_t table_sum,
                           const char **what)
{
    size_t at, n0, lf_len;
    *what = "table";
    if (len < ENC_PART_TABLE_BYTES || enc_part_sum(src, ENC_PART_TABLE_BYTES) != table_sum) return ANPR_ECORRUPT;
    if (part_open(&gp->sp, src, len, &at, &n0, &lf_len) < 0 || n0 > n || lf_len > len - at) return ANPR_ECORRUPT;
    gp->sp.n0 = n0;
    gp->sp.others = (bit_reader){src + len - lf_len, lf_len, 0};
    return 0;
}

/* enc_plate_part_absent with gp opened on the table, and the sections it checked as bits in *checked. */
static int part_probe(shapes_parts *gp, const uint8_t *src, size_t len, size_t n, const enc_plate_target *t,
                      uint32_t table_sum, uint32_t *scratch, const char **what, unsigned *checked)
{
    *checked = 0;
    if (part_table_open(gp, src, len, n, table_sum, what) < 0) return ANPR_ECORRUPT;
    for (unsigned p = 0; p < PART_COUNT; p++) {
        if (t->part_cs[p].n == 0) continue;
        *what = part_section_name(p);
        if (!part_section_ok(&gp->sp, src, len, p)) return ANPR_ECORRUPT;
        *checked |= 1u << p;
        uint32_t top;
        size_t found = part_scan(gp->sp.part[p], gp->sp.part_n[p], gp->sp.part_len[p], &t->part_cs[p], scratch, &top,
                                 1);
        if (top >= PART_LIMIT) return ANPR_ECORRUPT;
        if (found) return 0;
    }
    if (t->walk_others) {
        *what = part_section_name(PART_LONG_FORMS);
        if (!part_section_ok(&gp->sp, src, len, PART_LONG_FORMS) || shapes_open_rest(gp, n) < 0) return ANPR_ECORRUPT;
        *checked |= 1u << PART_LONG_FORMS;
        long any = shapes_walk(gp, n, t, NULL, NULL);
        if (any != 0) return any < 0 ? ANPR_ECORRUPT : 0;
    }
    return 1;
}

int enc_plate_part_absent(const uint8_t *src, size_t len, size_t n, const enc_plate_target *t, uint32_t table_sum,
                          uint32_t *scratch, const char **what)
{
    shapes_parts gp;
    unsigned checked;
    return part_probe(&gp, src, len, n, t, table_sum, scratch, what, &checked);
}

int enc_plate_part_sections(const uint8_t *src, size_t len, size_t n, const enc_plate_target *t, uint32_t table_sum,
                            enc_section *out, size_t *nout, uint32_t *parts_end, const char **what)
{
    *nout = 0;
    shapes_parts gp;
    if (part_table_open(&gp, src, len, n, table_sum, what) < 0) return ANPR_ECORRUPT;
    *parts_end = (uint32_t)(gp.sp.pids - src);
    size_t k = 0;
    for (unsigned section = 0; section < PART_SECTIONS; section++) {
        enc_section s = {0, 0};
        if (section < PART_COUNT && t->part_cs[section].n)
            s = (enc_section){(uint32_t)(gp.sp.part[section] - src), (uint32_t)gp.sp.part_len[section]};
        else if (section == PART_LONG_FORMS && t->walk_others)
            s = (enc_section){(uint32_t)(len - gp.sp.others.len), (uint32_t)gp.sp.others.len};
        if (s.len == 0) continue;
        if (k > 0 && out[k - 1].off + out[k - 1].len == s.off) out[k - 1].len += s.len;
        else out[k++] = s;
    }
    *nout = k;
    return 0;
}

int enc_plate_part_find(const uint8_t *src, size_t len, size_t n, const enc_plate_target *t, uint32_t table_sum,
                        uint32_t *at, anpr_row *out, size_t *nhit, const char **what)
{
    *nhit = 0;
    shapes_parts gp;
    unsigned checked;
    int rc = part_probe(&gp, src, len, n, t, table_sum, at, what, &checked);
    if (rc != 0) return rc < 0 ? rc : 0;
    /*
     * The search reads every part its letters fall in (the probe stopped at
     * the first that holds one), the part ids, the bitmap and the ranks, and
     * the long forms when the plate may be one: each checked first, unless
     * the probe did.
     */
    for (unsigned section = 0; section < PART_SECTIONS; section++) {
        if (section < PART_COUNT && t->part_cs[section].n == 0) continue;
        if ((section == PART_LONG_FORMS && !t->walk_others) || (checked >> section & 1)) continue;
        *what = part_section_name(section);
        if (!part_section_ok(&gp.sp, src, len, section)) return ANPR_ECORRUPT;
    }
    *what = "search";
    return split_find(src, len, n, t, at, out, nhit, 1, ENC_PLATE_PART);
}

int enc_plate_part_check(const uint8_t *src, size_t len, size_t n, uint32_t table_sum, const char **what)
{
    shapes_parts gp;
    if (part_table_open(&gp, src, len, n, table_sum, what) < 0) return ANPR_ECORRUPT;
    return part_check_sums(&gp.sp, src, len, what);
}
