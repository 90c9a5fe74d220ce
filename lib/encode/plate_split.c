/*
 * plate-split and plate-shapes (plate_split.h): opening their parts,
 * encoding and decoding them whole or row by row.
 */
#include "encode/plate_split.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "encode/bitmap_rrr.h"
#include "encode/huff_codec.h"
#include "encode/plate_uk.h"
#include "encode/varint.h"

__extension__ typedef unsigned __int128 u128;

/*
 * floor(x / A) for x below 2^AGE_RADIX_BITS and magic = floor(2^64 / A) + 1,
 * 2 <= A <= 100: magic exceeds 2^64 / A by e < 1, so x * magic / 2^64 exceeds
 * x / A by under 2^56 / 2^64 < 1 / A, which never carries it past the next
 * whole number. (magic 0 serves A = 1, whose numbers are all 0.)
 */
static inline uint64_t ages_div(uint64_t x, uint64_t magic)
{
    return (uint64_t)(((u128)x * magic) >> 64);
}

/*
 * plate-age-radix's groups for n0 ranks among A ages: as many ranks a group
 * as keep its number within 2^AGE_RADIX_BITS (A = 1: one, each number 0 in
 * no bits), the last group the ranks left over.
 */
static void radix_plan(radix_layout *l, unsigned nages, size_t n0)
{
    uint64_t p = 1;
    unsigned k = 0;
    if (nages == 1) {
        k = 1;
    } else {
        while (p <= (UINT64_C(1) << AGE_RADIX_BITS) / nages) {
            p *= nages;
            k++;
        }
    }
    l->k = k;
    l->full_limit = p;
    l->group_bits = bp_width(p - 1);
    l->full_groups = n0 / k;
    uint64_t last = 1;
    for (size_t i = 0; i < n0 % k; i++) last *= nages;
    l->last_limit = last;
    l->last_bits = bp_width(last - 1);
}

int split_radix_group(split_parts *sp, size_t g)
{
    const radix_layout *l = &sp->layout;
    int full = g < l->full_groups;
    size_t cnt = full ? l->k : sp->n0 % l->k;
    if (g > l->full_groups || cnt == 0) return ANPR_ECORRUPT; /* past the last rank */
    uint64_t x = bp_get_bits(sp->ranks, sp->ranks_len, g * l->group_bits, full ? l->group_bits : l->last_bits);
    if (x >= (full ? l->full_limit : l->last_limit)) return ANPR_ECORRUPT;
    for (size_t i = 0; i < cnt; i++) {
        uint64_t q = ages_div(x, sp->div_magic);
        sp->group_ranks[i] = (uint8_t)(x - q * sp->nages);
        x = q;
    }
    sp->group_at = g;
    return 0;
}

int split_open(split_parts *sp, const uint8_t *src, size_t len, size_t n, int aged)
{
    size_t nb, others = 0, part_n0 = 0, lf_len = 0;
    sp->n = n;
    sp->parts = 0;
    sp->expanded = NULL;
    if ((aged & SPLIT_PARTS) && n > 0) {
        /* plate-part: the table, the parts and their ids first, then plate-rrr's bitmap (no rows: no bytes). */
        size_t at;
        if (part_open(sp, src, len, &at, &part_n0, &lf_len) < 0) return ANPR_ECORRUPT;
        src += at;
        len -= at;
    }
    if (aged & SPLIT_RRR) {
        rrr_parts rp;
        if (rrr_open(&rp, sp->word_class, src, len, n) < 0) return ANPR_ECORRUPT;
        sp->bitmap = NULL;
        sp->offsets = rp.offsets;
        sp->offsets_len = rp.offsets_len;
        others = rp.ones;
        nb = rp.len;
    } else {
        nb = (n + 7) / 8;
        if (len < nb) return ANPR_ECORRUPT;
        if (!bp_tail_zero(src, n, 1)) return ANPR_ECORRUPT;
        for (size_t k = 0; k < (n + 63) / 64; k++) others += ones64(bitmap_word(src, n, k));
        sp->bitmap = src;
    }
    sp->n0 = n - others;
    sp->width = aged ? UK_LETTERS_BITS : UK_CURRENT_BITS;
    sp->limit = aged ? UK_LETTERS_VALUES : UK_CURRENT_VALUES;
    sp->values = sp->parts ? NULL : src + nb;
    sp->values_len = sp->parts ? 0 : (sp->n0 * sp->width + 7) / 8;
    if (sp->parts && part_n0 != sp->n0) return ANPR_ECORRUPT; /* the table's counts and the bitmap disagree */
    sp->ranks = NULL;
    sp->ranks_len = 0;
    sp->nages = sp->age_width = 0;
    sp->radix = (aged & AGES_KIND) == AGES_RADIX;
    sp->group_at = SIZE_MAX;
    size_t at = nb + sp->values_len;
    if (len - nb < sp->values_len) return ANPR_ECORRUPT;
    if (aged && sp->n0) {
        /* The bitmap of the block's ages (0..99, the padding bits zero), then each value's rank among them. */
        if (len - at < UK_AGE_BITMAP_BYTES) return ANPR_ECORRUPT;
        const uint8_t *ages = src + at;
        if (ages[UK_AGE_BITMAP_BYTES - 1] >> (UK_AGES % 8)) return ANPR_ECORRUPT;
        uint64_t word[2] = {get_u64(ages), 0};
        for (unsigned b = 8; b < UK_AGE_BITMAP_BYTES; b++) word[1] |= (uint64_t)ages[b] << (8 * (b - 8));
        for (unsigned k = 0; k < 2; k++)
            for (uint64_t w = word[k]; w; w &= w - 1) sp->age_at[sp->nages++] = (uint8_t)(64 * k + __builtin_ctzll(w));
        if (sp->nages == 0) return ANPR_ECORRUPT;
        sp->age_width = bp_width(sp->nages - 1);
        at += UK_AGE_BITMAP_BYTES;
        sp->ranks = src + at;
        if (sp->radix) {
            radix_plan(&sp->layout, sp->nages, sp->n0);
            sp->div_magic = sp->nages > 1 ? UINT64_MAX / sp->nages + 1 : 0;
            size_t bits = sp->layout.full_groups * sp->layout.group_bits + sp->layout.last_bits;
            sp->ranks_len = (bits + 7) / 8;
            if (len - at < sp->ranks_len || !bp_tail_zero(sp->ranks, bits, 1)) return ANPR_ECORRUPT;
        } else {
            sp->ranks_len = bp_bytes(sp->n0, sp->age_width);
            if (len - at < sp->ranks_len || !bp_tail_zero(sp->ranks, sp->n0, sp->age_width)) return ANPR_ECORRUPT;
        }
        at += sp->ranks_len;
    }
    sp->others = (bit_reader){src + at, len - at, 0};
    /* plate-part: the long forms are the chunk's last bytes, as many as the table says. */
    if (sp->parts && len - at != lf_len) return ANPR_ECORRUPT;
    return 0;
}

/* Value j of the array (j < n0), checked. */
int split_value(split_parts *sp, size_t j, uint32_t *v)
{
    if (sp->expanded) {
        if (j >= sp->n0) return ANPR_ECORRUPT;
        *v = sp->expanded[j];
        return 0;
    }
    if (sp->parts) return part_value(sp, j, v);
    *v = (uint32_t)bp_get(sp->values, sp->values_len, j, sp->width);
    return *v < sp->limit ? 0 : ANPR_ECORRUPT;
}

int split_plate(split_parts *sp, size_t j, char *p, uint8_t *ages_seen)
{
    uint32_t v, age;
    if (split_value(sp, j, &v) < 0) return ANPR_ECORRUPT;
    if (!sp->ranks) {
        uk_current_plate(p, v);
        return 0;
    }
    if (split_age(sp, j, &age) < 0) return ANPR_ECORRUPT;
    if (ages_seen) ages_seen[age] = 1;
    uk_letters_plate(p, v, age); /* from the parts, without joining them into a value first */
    return 0;
}

/* plate-rrr: the class of the word the walk is at. */
static inline unsigned walk_class(const bit_select *s)
{
    return s->sp->word_class[s->word];
}

/*
 * The bits equal to set in the word the walk is at: as many as the word's
 * ones, or 64 less them (the bits past n count as zeros, as the plain
 * bitmap's padding does).
 */
static inline unsigned walk_count(const bit_select *s)
{
    unsigned ones = s->sp->bitmap ? ones64(bitmap_word(s->sp->bitmap, s->sp->n, s->word)) : walk_class(s);
    return s->set ? ones : 64 - ones;
}

/* The word the walk is at, with its bits equal to set as ones. */
static uint64_t walk_word(bit_select *s)
{
    const split_parts *sp = s->sp;
    if (sp->bitmap) {
        uint64_t w = bitmap_word(sp->bitmap, sp->n, s->word);
        return s->set ? w : ~w;
    }
    if (!s->have) {
        unsigned t = rrr_word_rows(sp->n, s->word), c = walk_class(s);
        uint64_t x = bp_get_bits(sp->offsets, sp->offsets_len, s->off_bit, rrr_word_bits(sp->n, s->word, c));
        if (rrr_unrank(t, c, x, &s->bits) < 0) {
            /* Damaged: a word of the same class keeps the walk within the rows; the caller sees bad. */
            s->bad = 1;
            s->bits = c == 64 ? UINT64_MAX : (UINT64_C(1) << c) - 1;
        }
        s->have = 1;
    }
    return s->set ? s->bits : ~s->bits;
}

/* On to the next word, past count bits equal to set. */
static inline void walk_on(bit_select *s, unsigned count)
{
    const split_parts *sp = s->sp;
    s->before += count;
    if (!sp->bitmap) s->off_bit += rrr_word_bits(sp->n, s->word, walk_class(s));
    s->word++;
    s->have = 0;
}

/* The row of the rank-th (from 0) bit equal to set; rank at least the last one asked for. */
size_t select_next(bit_select *s, size_t rank)
{
    for (;;) {
        unsigned c = walk_count(s);
        size_t r = rank - s->before;
        if (r >= c) {
            walk_on(s, c);
            continue;
        }
        uint64_t w = walk_word(s);
        for (;; r--) {
            unsigned at = (unsigned)__builtin_ctzll(w);
            if (r == 0) return 64 * s->word + at;
            w &= w - 1;
        }
    }
}

size_t rank_next(bit_select *s, size_t i, int *bit)
{
    while (s->word < i / 64) walk_on(s, walk_count(s));
    uint64_t w = walk_word(s);
    *bit = (int)((w >> (i % 64)) & 1);
    return s->before + ones64(w & ((UINT64_C(1) << (i % 64)) - 1));
}

/* plate-split's bitmap and values (aged: plate-age's letters and ages); with long_forms, its long forms after them. */
int split_encode(enc_buf *out, const anpr_row *rows, size_t n, int long_forms, int aged)
{
    if (n == 0) return 0; /* no plates, no bytes */
    size_t nb = (n + 7) / 8;
    int rc = enc_buf_reserve(out, nb);
    if (rc < 0) return rc;
    /* The bitmap's place, as an offset: the buffer may move as the values are appended. */
    size_t bitmap_at = out->len;
    memset(out->data + bitmap_at, 0, nb);
    out->len += nb;
    uint8_t *ages = aged ? malloc(n) : NULL;
    if (aged && !ages) return -ENOMEM;
    size_t n0 = 0;
    bit_writer bw = {out, 0, 0};
    for (size_t i = 0; rc == 0 && i < n; i++) {
        size_t len = strnlen(rows[i].plate, ANPR_PLATE_MAX);
        int64_t cur = len ? uk_current_value(rows[i].plate, len) : -1;
        if (len == 0) rc = ANPR_EINVAL;
        else if (cur < 0) out->data[bitmap_at + i / 8] |= (uint8_t)(1u << (i % 8));
        else if (!aged) rc = bw_put(&bw, (uint64_t)cur, UK_CURRENT_BITS);
        else {
            ages[n0++] = (uint8_t)uk_value_age((uint32_t)cur);
            rc = bw_put(&bw, uk_value_letters((uint32_t)cur), UK_LETTERS_BITS);
        }
    }
    if (rc == 0) rc = bw_finish(&bw);
    if (rc == 0 && n0) {
        /* plate-age: the bitmap of the ages, then each value's age as its rank among them. */
        uint8_t bitmap[UK_AGE_BITMAP_BYTES] = {0}, rank[UK_AGES];
        for (size_t j = 0; j < n0; j++) bitmap[ages[j] / 8] |= (uint8_t)(1u << (ages[j] % 8));
        unsigned nages = 0;
        for (unsigned a = 0; a < UK_AGES; a++)
            if ((bitmap[a / 8] >> (a % 8)) & 1) rank[a] = (uint8_t)nages++;
        unsigned w = bp_width(nages - 1);
        rc = enc_buf_append(out, bitmap, sizeof bitmap);
        bw = (bit_writer){out, 0, 0};
        if ((aged & AGES_KIND) == AGES_RADIX) {
            /* k ranks a number, the first the least significant digit. */
            radix_layout plan;
            radix_plan(&plan, nages, n0);
            for (size_t g = 0; rc == 0 && g < n0; g += plan.k) {
                size_t cnt = n0 - g < plan.k ? n0 - g : plan.k;
                uint64_t x = 0;
                for (size_t i = cnt; i-- > 0;) x = x * nages + rank[ages[g + i]];
                rc = bw_put(&bw, x, cnt == plan.k ? plan.group_bits : plan.last_bits);
            }
        } else {
            for (size_t j = 0; rc == 0 && w && j < n0; j++) rc = bw_put(&bw, rank[ages[j]], w);
        }
        if (rc == 0) rc = bw_finish(&bw);
    }
    free(ages);
    if (rc < 0 || !long_forms) return rc;
    bw = (bit_writer){out, 0, 0};
    for (size_t i = 0; i < n; i++)
        if ((out->data[bitmap_at + i / 8] >> (i % 8)) & 1 &&
            (rc = uk_encode_other(&bw, rows[i].plate, strnlen(rows[i].plate, ANPR_PLATE_MAX))) < 0)
            return rc;
    return bw_finish(&bw);
}

int split_decode(anpr_row *rows, size_t n, const uint8_t *src, size_t len)
{
    split_parts sp;
    if (split_open(&sp, src, len, n, 0) < 0) return ANPR_ECORRUPT;
    size_t j = 0;
    for (size_t i = 0; i < n; i++) {
        memset(rows[i].plate, 0, sizeof rows[i].plate);
        if ((sp.bitmap[i / 8] >> (i % 8)) & 1) {
            if (uk_decode_other(&sp.others, rows[i].plate) < 0) return ANPR_ECORRUPT;
        } else if (split_plate(&sp, j++, rows[i].plate, NULL) < 0) {
            return ANPR_ECORRUPT;
        }
    }
    return bp_tail_zero(sp.values, sp.n0, UK_CURRENT_BITS) ? br_finish(&sp.others) : ANPR_ECORRUPT;
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
int shapes_open_rest(shapes_parts *gp, size_t n)
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
    gp->ngroups = h;
    /* The heads, strictly increasing: the first, then each one's distance from the one before less one. */
    uint64_t head = 0; /* the last one, kept here: read back from the array, it was the loop's slowest step */
    for (size_t g = 0; g < h; g++) {
        uint32_t d;
        if (get_varint21(p, left, &at, &d) < 0) return ANPR_ECORRUPT;
        head = g ? head + d + 1 : d;
        uint32_t l = (uint32_t)(head & 15);
        /* Each a length of 1 .. 15 and a shape of that many bits. */
        if (l == 0 || head >> (4 + l)) return ANPR_ECORRUPT;
        gp->groups[g].head = (uint32_t)head;
        size_t all = l <= 8 ? uk_other_bits_short[head] : uk_other_bits(l, (uint32_t)(head >> 4));
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

int shapes_open(shapes_parts *gp, const uint8_t *src, size_t len, size_t n, int aged)
{
    gp->ngroups = 0;
    if (split_open(&gp->sp, src, len, n, aged) < 0) return ANPR_ECORRUPT;
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
int shapes_plate(const shapes_parts *gp, size_t g, size_t j, char *p, const char *want, int fold)
{
    const shape_group *sg = &gp->groups[g];
    if (j >= sg->count) return ANPR_ECORRUPT;
    bit_reader br = {gp->chunks, gp->chunks_len, sg->base + j * sg->width};
    return uk_decode_chunks(&br, sg->head & 15, sg->head >> 4, p, want, fold);
}

int split_cmp_u32_pair(const void *a, const void *b)
{
    const uint32_t *x = a, *y = b;
    if (x[0] != y[0]) return (x[0] > y[0]) - (x[0] < y[0]);
    return (x[1] > y[1]) - (x[1] < y[1]);
}

/*
 * Sort m (head, rank) pairs, given in rank order, by head: a stable radix
 * sort of the head in two 10-bit digits (a head is below 2^19), so the
 * result is the (head, rank) order a comparison sort would give, at a
 * fraction of qsort's cost on every block a segment writes. tmp holds 2m.
 */
static void sort_pairs_by_head(uint32_t *pairs, uint32_t *tmp, size_t m)
{
    enum { DIGIT_BITS = 10, DIGITS = 1 << DIGIT_BITS };
    size_t count[DIGITS];
    uint32_t *src = pairs, *dst = tmp;
    for (unsigned shift = 0; shift < 2 * DIGIT_BITS; shift += DIGIT_BITS) {
        memset(count, 0, sizeof count);
        for (size_t i = 0; i < m; i++) count[(src[2 * i] >> shift) & (DIGITS - 1)]++;
        size_t sum = 0;
        for (size_t d = 0; d < DIGITS; d++) {
            size_t c = count[d];
            count[d] = sum;
            sum += c;
        }
        for (size_t i = 0; i < m; i++) {
            size_t at = count[(src[2 * i] >> shift) & (DIGITS - 1)]++;
            dst[2 * at] = src[2 * i];
            dst[2 * at + 1] = src[2 * i + 1];
        }
        uint32_t *t = src;
        src = dst;
        dst = t;
    }
    /* An even number of passes: the result is back in pairs. */
}

/*
 * The bytes after plate-split's values, for the m long forms among rows
 * (bit i of out's bytes from bitmap_at set for each): -E2BIG when they have
 * more than SHAPES_MAX heads. The bitmap is read before anything is
 * appended, which may move the buffer.
 */
static int shapes_encode_long_forms(enc_buf *out, size_t bitmap_at, const anpr_row *rows, size_t n, size_t m)
{
    if (m == 0) return 0;
    /* (head, rank) of each long form, sorted: the groups, each with its long forms in row order. */
    uint32_t *pairs = malloc(4 * m * sizeof *pairs), *row = malloc(m * sizeof *row);
    int64_t *group = malloc(m * sizeof *group);
    int rc = pairs && row && group ? 0 : -ENOMEM;
    for (size_t i = 0, k = 0; rc == 0 && i < n; i++) {
        if (!((out->data[bitmap_at + i / 8] >> (i % 8)) & 1)) continue;
        size_t len = strnlen(rows[i].plate, ANPR_PLATE_MAX);
        int64_t shape = uk_plate_shape(rows[i].plate, len);
        if (shape < 0) rc = ANPR_EINVAL;
        pairs[2 * k] = (uint32_t)len | (uint32_t)shape << 4;
        pairs[2 * k + 1] = (uint32_t)k;
        row[k++] = (uint32_t)i;
    }
    if (rc == 0) sort_pairs_by_head(pairs, pairs + 2 * m, m);
    size_t h = 0;
    for (size_t a = 0; rc == 0 && a < m; a++) h += a == 0 || pairs[2 * a] != pairs[2 * a - 2];
    if (rc == 0 && h > SHAPES_MAX) rc = -E2BIG;
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
        rc = uk_encode_chunks(&bw, p, pairs[2 * a] & 15, pairs[2 * a] >> 4);
    }
    if (rc == 0) rc = bw_finish(&bw);
    free(pairs);
    free(row);
    free(group);
    return rc;
}

/*
 * plate-rrr: the plain bitmap of n rows at out's byte start, which the
 * encoders before wrote and read, replaced by its word code, the bytes after
 * it moved to follow.
 */
static int bitmap_to_rrr(enc_buf *out, size_t start, size_t n)
{
    size_t nb = (n + 7) / 8;
    enc_buf code = {0};
    int rc = rrr_encode(&code, out->data + start, n);
    if (rc == 0 && code.len > nb) rc = enc_buf_reserve(out, code.len - nb);
    if (rc == 0) {
        memmove(out->data + start + code.len, out->data + start + nb, out->len - start - nb);
        memcpy(out->data + start, code.data, code.len);
        out->len = out->len - nb + code.len;
    }
    enc_buf_free(&code);
    return rc;
}

/* -E2BIG, with nothing written, for rows whose long forms have more than SHAPES_MAX heads. */
int shapes_encode(enc_buf *out, const anpr_row *rows, size_t n, int aged)
{
    if (n == 0) return 0;
    size_t start = out->len;
    int rc = split_encode(out, rows, n, 0, aged);
    if (rc < 0) return rc;
    size_t m = 0;
    for (size_t i = 0; i < n; i++) m += (out->data[start + i / 8] >> (i % 8)) & 1;
    rc = shapes_encode_long_forms(out, start, rows, n, m);
    if (rc == 0 && (aged & SPLIT_RRR)) rc = bitmap_to_rrr(out, start, n);
    if (rc == 0 && (aged & SPLIT_PARTS)) rc = part_encode(out, start, n);
    if (rc == -E2BIG) out->len = start;
    return rc;
}

/*
 * The plates of rows at[0..nat) (strictly increasing; every row when at is
 * NULL) into out[]: a current-format row's value by its rank among such
 * rows (with plate-age, its age by the same rank, marked in ages_seen when
 * given), a long form through its group, whose indexes are decoded (and
 * checked whole) for the first long form asked for.
 */
static int shapes_rows(shapes_parts *gp, anpr_row *out, const uint32_t *at, size_t nat, size_t n, uint8_t *ages_seen)
{
    int64_t *ids = NULL;
    size_t *seen = NULL; /* each group's long forms before the reader's */
    size_t done = 0;
    bit_select others = bit_select_start(&gp->sp, 1);
    int rc = 0;
    for (size_t k = 0; rc == 0 && k < nat; k++) {
        size_t i = at ? at[k] : k;
        int other;
        size_t rank1 = rank_next(&others, i, &other);
        memset(out[k].plate, 0, sizeof out[k].plate);
        if (other) {
            if (!ids && (rc = shapes_ids(gp, &ids)) == 0 && !(seen = calloc(gp->ngroups, sizeof *seen))) rc = -ENOMEM;
            for (; rc == 0 && done < rank1; done++) seen[ids[done]]++;
            if (rc < 0) break;
            size_t g = (size_t)ids[done++];
            if ((rc = shapes_plate(gp, g, seen[g]++, out[k].plate, NULL, 0)) > 0) rc = 0;
        } else {
            rc = split_plate(&gp->sp, i - rank1, out[k].plate, ages_seen);
        }
    }
    free(ids);
    free(seen);
    if (rc == 0 && others.bad) rc = ANPR_ECORRUPT;
    return rc == -ENOMEM ? rc : rc < 0 ? ANPR_ECORRUPT : 0;
}

int shapes_decode(anpr_row *rows, size_t n, const uint8_t *src, size_t len, int aged)
{
    shapes_parts gp;
    uint8_t ages_seen[UK_AGES] = {0};
    int rc = shapes_open(&gp, src, len, n, aged);
    if (rc == 0 && gp.sp.parts) rc = part_expand(&gp.sp);
    if (rc == 0) rc = shapes_rows(&gp, rows, NULL, n, n, ages_seen);
    if (rc == 0 && !(gp.sp.parts ? part_tails_zero(&gp.sp) : bp_tail_zero(gp.sp.values, gp.sp.n0, gp.sp.width)))
        rc = ANPR_ECORRUPT;
    /* plate-part: the sums in its table are part of its one byte string (a search trusts them). */
    const char *what;
    if (rc == 0 && gp.sp.parts && part_check_sums(&gp.sp, src, len, &what) < 0) rc = ANPR_ECORRUPT;
    /* plate-age: every age of the bitmap is some plate's (one encoding a block). */
    for (unsigned r = 0; rc == 0 && r < gp.sp.nages; r++)
        if (!ages_seen[gp.sp.age_at[r]]) rc = ANPR_ECORRUPT;
    free(gp.sp.expanded);
    return rc;
}

int shapes_decode_at(anpr_row *out, const uint32_t *at, size_t nat, const uint8_t *src, size_t len, size_t n,
                     int aged)
{
    shapes_parts gp;
    int rc = shapes_open(&gp, src, len, n, aged);
    if (rc == 0) rc = shapes_rows(&gp, out, at, nat, n, NULL);
    return rc;
}

/*
 * plate-split's plates of rows at[0..nat) alone: a current-format row's
 * value is found by its rank among such rows (the bitmap's zero bits before
 * it), another's by skipping the long forms before it. The values and
 * plates decoded are checked as split_decode checks them; the rest are not.
 */
int split_decode_at(anpr_row *out, const uint32_t *at, size_t nat, const uint8_t *src, size_t len, size_t n)
{
    split_parts sp;
    if (split_open(&sp, src, len, n, 0) < 0) return ANPR_ECORRUPT;
    bit_select others = bit_select_start(&sp, 1); /* a plain bitmap: never bad */
    size_t others_done = 0; /* long forms the reader has passed */
    for (size_t k = 0; k < nat; k++) {
        size_t i = at[k];
        int other;
        size_t rank1 = rank_next(&others, i, &other);
        memset(out[k].plate, 0, sizeof out[k].plate);
        if (other) {
            for (; others_done < rank1; others_done++) {
                size_t bits = uk_other_size(br_peek(&sp.others));
                if (bits == 0 || br_left(&sp.others) < bits) return ANPR_ECORRUPT;
                sp.others.pos += bits;
            }
            if (uk_decode_other(&sp.others, out[k].plate) < 0) return ANPR_ECORRUPT;
            others_done++;
        } else if (split_plate(&sp, i - rank1, out[k].plate, NULL) < 0) {
            return ANPR_ECORRUPT;
        }
    }
    return 0;
}
