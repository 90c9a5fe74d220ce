/*
 * huffman-ck. Before it, OCR confidence was stored a byte a value and left
 * to zstd, whose Huffman stage coded it near its entropy; but a plate
 * lookup then decompressed a block's whole column for one value, a fifth of
 * a plate history's time. Coding the values here keeps the size (the code
 * is built per chunk from the chunk's own counts) and lets a lookup start
 * at the checkpoint of its row's group: at most 127 codes before it.
 *
 * Layout (docs/format.md, "huffman-ck"): the minimum (int64 LE); the span
 * r = max - min in a byte; the code length of each symbol 0..r (value -
 * minimum) in four bits, low nibble first, 0 for a symbol that does not
 * occur; a byte w and the bit offsets of groups 1, 2, ... of 128 values at
 * width w; then the codes, least significant bit first, each code's first
 * bit first. Codes are canonical (shorter codes first, then by symbol), so
 * the lengths alone define them.
 */
#include "encode/huff_codec.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "anpr/anpr.h"
#include "common/bytes.h"
#include "encode/bitpack.h"

#define HUFF_GROUP 128u
#define HUFF_MAX_BITS 11u
#define HUFF_SYMBOLS 256u
/*
 * huff_decode_at of at most this many rows decodes canonically, without a
 * table (huff_next_few): a plate lookup takes one value from a block, 64
 * codes after its checkpoint on average, and making the codes and a table
 * of 256 entries for them cost more than decoding them (5,000 of the 7,400
 * instructions a lookup took, callgrind over the generator's confidence;
 * 3,500 in all now).
 */
#define HUFF_FEW_VALUES 8u

/* x's low 16 bits in reverse order. */
static inline unsigned rev16(unsigned x)
{
    x = ((x & 0x5555u) << 1) | ((x >> 1) & 0x5555u);
    x = ((x & 0x3333u) << 2) | ((x >> 2) & 0x3333u);
    x = ((x & 0x0F0Fu) << 4) | ((x >> 4) & 0x0F0Fu);
    return ((x & 0x00FFu) << 8) | ((x >> 8) & 0x00FFu);
}

/*
 * The code lengths for counts h[0..ns) into len[] (0 where a count is 0):
 * Huffman's merge of the two lightest nodes, taken from two queues (leaves
 * sorted by count then symbol, and merged nodes in the order made), a leaf
 * first on a tie. A lone symbol gets length 1. While the longest code is
 * over HUFF_MAX_BITS, every count c becomes (c + 1) / 2 and the merge runs
 * again: the decoder's table stays at most 2^11 entries. Decoders run this
 * too, to refuse lengths the encoder would not have written.
 */
static void huff_lengths(const uint32_t *h, unsigned ns, uint8_t *len)
{
    uint32_t c[HUFF_SYMBOLS];
    unsigned leaf[HUFF_SYMBOLS], parent[2 * HUFF_SYMBOLS];
    uint64_t weight[2 * HUFF_SYMBOLS];
    uint8_t depth[2 * HUFF_SYMBOLS];
    memcpy(c, h, ns * sizeof *c);
    for (;;) {
        memset(len, 0, ns);
        unsigned nl = 0;
        for (unsigned s = 0; s < ns; s++) {
            if (!c[s]) continue;
            /* Insertion by count; equal counts keep symbol order. */
            unsigned k = nl++;
            while (k > 0 && c[leaf[k - 1]] > c[s]) {
                leaf[k] = leaf[k - 1];
                k--;
            }
            leaf[k] = s;
        }
        if (nl <= 1) {
            if (nl == 1) len[leaf[0]] = 1;
            return;
        }
        for (unsigned i = 0; i < nl; i++) weight[i] = c[leaf[i]];
        unsigned li = 0, ii = nl, next = nl, root = 2 * nl - 2;
        while (next <= root) {
            unsigned pick[2];
            for (unsigned k = 0; k < 2; k++)
                pick[k] = li < nl && (ii == next || weight[li] <= weight[ii]) ? li++ : ii++;
            weight[next] = weight[pick[0]] + weight[pick[1]];
            parent[pick[0]] = parent[pick[1]] = next;
            next++;
        }
        /* A node's parent was made after it, so depths fill from the root down. */
        depth[root] = 0;
        unsigned longest = 0;
        for (unsigned i = root; i-- > 0;) {
            depth[i] = (uint8_t)(depth[parent[i]] + 1);
            if (i < nl && depth[i] > longest) longest = depth[i];
        }
        for (unsigned i = 0; i < nl; i++) len[leaf[i]] = depth[i];
        if (longest <= HUFF_MAX_BITS) return;
        for (unsigned s = 0; s < ns; s++) c[s] = (c[s] + 1) / 2;
    }
}

/*
 * How many codes of each length len[0..ns) has (count[0] left 0), and the
 * first code of each length, canonically (shorter codes first, then by
 * symbol). ANPR_ECORRUPT unless the lengths make a complete code, or a lone
 * symbol of length 1.
 */
static int huff_count(const uint8_t *len, unsigned ns, uint16_t count[HUFF_MAX_BITS + 1],
                      uint16_t first[HUFF_MAX_BITS + 1])
{
    unsigned all[16] = {0}; /* lengths are nibbles */
    for (unsigned s = 0; s < ns; s++) all[len[s] & 15u]++;
    for (unsigned b = HUFF_MAX_BITS + 1; b < 16; b++)
        if (all[b]) return ANPR_ECORRUPT;
    unsigned present = 0;
    uint32_t kraft = 0;
    for (unsigned b = 1; b <= HUFF_MAX_BITS; b++) {
        count[b] = (uint16_t)all[b];
        present += all[b];
        kraft += all[b] << (HUFF_MAX_BITS - b);
    }
    if (present == 1 ? kraft != UINT32_C(1) << (HUFF_MAX_BITS - 1) : kraft != UINT32_C(1) << HUFF_MAX_BITS)
        return ANPR_ECORRUPT;
    unsigned code = 0;
    count[0] = 0;
    for (unsigned b = 1; b <= HUFF_MAX_BITS; b++) {
        code = (code + count[b - 1]) << 1;
        first[b] = (uint16_t)code;
    }
    return 0;
}

/*
 * The canonical codes of lengths len[0..ns) whose first codes huff_count
 * gave, as stored: bit-reversed, so that the code's first bit is the
 * stream's next.
 */
static void huff_codes(const uint8_t *len, unsigned ns, const uint16_t first[HUFF_MAX_BITS + 1], uint16_t *rev)
{
    uint16_t next[HUFF_MAX_BITS + 1];
    memcpy(next, first, sizeof next);
    for (unsigned s = 0; s < ns; s++)
        if (len[s]) rev[s] = (uint16_t)(rev16(next[len[s]]++) >> (16 - len[s]));
}

/* What an encoder needs to know before writing: the code, the chunk's size, where each group starts. */
typedef struct huff_plan {
    uint64_t min;
    unsigned ns, w;
    uint8_t len[HUFF_SYMBOLS];
    uint16_t rev[HUFF_SYMBOLS];
    size_t groups, size;
} huff_plan;

/*
 * The plan for n >= 1 values; ck (groups - 1 entries) gets the group
 * offsets when not NULL. ANPR_EINVAL when the values span more than 256.
 */
static int huff_plan_make(huff_plan *p, const int64_t *v, size_t n, uint64_t *ck)
{
    int64_t min = v[0], max = v[0];
    for (size_t i = 1; i < n; i++) {
        if (v[i] < min) min = v[i];
        if (v[i] > max) max = v[i];
    }
    if ((uint64_t)max - (uint64_t)min >= HUFF_SYMBOLS) return ANPR_EINVAL;
    p->min = (uint64_t)min;
    p->ns = (unsigned)((uint64_t)max - p->min) + 1;
    uint32_t h[HUFF_SYMBOLS] = {0};
    for (size_t i = 0; i < n; i++) h[(uint64_t)v[i] - p->min]++;
    huff_lengths(h, p->ns, p->len);
    uint16_t count[HUFF_MAX_BITS + 1], first[HUFF_MAX_BITS + 1];
    if (huff_count(p->len, p->ns, count, first) < 0) return ANPR_EINVAL; /* cannot happen: the lengths are Huffman's */
    huff_codes(p->len, p->ns, first, p->rev);
    /* Where each group starts: the lengths of the codes before it. */
    p->groups = (n + HUFF_GROUP - 1) / HUFF_GROUP;
    uint64_t bits = 0, last = 0;
    for (size_t i = 0; i < n; i++) {
        if (i % HUFF_GROUP == 0 && i > 0) {
            last = bits;
            if (ck) ck[i / HUFF_GROUP - 1] = bits;
        }
        bits += p->len[(uint64_t)v[i] - p->min];
    }
    p->w = bp_width(last);
    p->size = 9 + (p->ns + 1) / 2 + 1 + bp_bytes(p->groups - 1, p->w) + (size_t)((bits + 7) / 8);
    return 0;
}

int huff_encode_within(enc_buf *out, const int64_t *v, size_t n, size_t limit)
{
    if (n == 0) return limit > 0 ? 0 : 1;
    huff_plan p;
    size_t groups = (n + HUFF_GROUP - 1) / HUFF_GROUP;
    uint64_t *ck = malloc(groups * sizeof *ck);
    if (!ck) return -ENOMEM;
    int rc = huff_plan_make(&p, v, n, ck);
    if (rc == 0 && p.size >= limit) {
        free(ck);
        return 1;
    }
    /* Eight bytes of slack: the stream is stored a word at a time. */
    if (rc == 0) rc = enc_buf_reserve(out, p.size + 8);
    if (rc < 0) {
        free(ck);
        return rc;
    }
    size_t start = out->len;
    uint8_t *d = out->data + start;
    memset(d, 0, 9 + (p.ns + 1) / 2);
    put_u64(d, p.min);
    d[8] = (uint8_t)(p.ns - 1);
    for (unsigned s = 0; s < p.ns; s++) d[9 + s / 2] |= (uint8_t)(p.len[s] << (4 * (s % 2)));
    d[9 + (p.ns + 1) / 2] = (uint8_t)p.w;
    out->len += 9 + (p.ns + 1) / 2 + 1;
    rc = bp_pack(out, ck, groups - 1, p.w);
    free(ck);
    if (rc < 0) return rc;
    /* The codes, 32 bits at a time from an accumulator that never holds more than 31 + 11. */
    d = out->data + out->len;
    uint64_t acc = 0;
    unsigned bits = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned s = (unsigned)((uint64_t)v[i] - p.min);
        acc |= (uint64_t)p.rev[s] << bits;
        bits += p.len[s];
        if (bits >= 32) {
            put_u32(d, (uint32_t)acc);
            d += 4;
            acc >>= 32;
            bits -= 32;
        }
    }
    put_u64(d, acc);
    d += (bits + 7) / 8;
    out->len = (size_t)(d - out->data);
    return out->len - start == p.size ? 0 : ANPR_EINVAL; /* cannot differ: the plan counted these bits */
}

int huff_encode(enc_buf *out, const int64_t *v, size_t n)
{
    return huff_encode_within(out, v, n, SIZE_MAX);
}

/* A parsed chunk: its minimum, lengths, checkpoint table, stream, and a table or the canonical code's parts. */
typedef struct huff_chunk {
    uint64_t min;
    unsigned ns, maxbits;
    uint8_t len[HUFF_SYMBOLS];
    unsigned w;           /* checkpoint width */
    const uint8_t *ck;    /* groups - 1 checkpoints */
    size_t ck_bytes, groups;
    bit_reader br;        /* the stream */
    int lone;             /* one symbol: the stream is all zero bits */
    /*
     * For huff_next: indexed by the next maxbits bits of the stream, the
     * symbol in the low byte and the code length above.
     */
    uint16_t tab[1u << HUFF_MAX_BITS];
    /*
     * For huff_next_few: per length, the first code and how many, where its
     * symbols start in sorted[] (by code length, then symbol), and lim[b],
     * the smallest 16-bit window (the stream's next bits, first bit highest)
     * that starts a code longer than b bits (2^16 for b >= maxbits).
     */
    uint16_t first[HUFF_MAX_BITS + 1], count[HUFF_MAX_BITS + 1], start[HUFF_MAX_BITS + 1];
    uint32_t lim[HUFF_MAX_BITS]; /* lim[1 .. HUFF_MAX_BITS - 1]; a code is never shorter than 1 bit */
    uint8_t sorted[HUFF_SYMBOLS];
} huff_chunk;

/* few: set up huff_next_few instead of the table of huff_next. */
static int huff_open(huff_chunk *c, const uint8_t *src, size_t len, size_t n, int few)
{
    if (len < 9) return ANPR_ECORRUPT;
    c->min = get_u64(src);
    c->ns = src[8] + 1u;
    /* min + r must not pass INT64_MAX: no encoder's values do. */
    if ((int64_t)(c->min + c->ns - 1) < (int64_t)c->min) return ANPR_ECORRUPT;
    size_t pos = 9, nib = (c->ns + 1) / 2;
    if (len - pos < nib + 1) return ANPR_ECORRUPT;
    if (c->ns % 2 && src[pos + nib - 1] >> 4) return ANPR_ECORRUPT; /* the unused nibble */
    for (size_t k = 0; k < nib; k++) {
        c->len[2 * k] = src[pos + k] & 15u;
        c->len[2 * k + 1] = src[pos + k] >> 4;
    }
    pos += nib;
    c->w = src[pos++];
    if (c->w > 56) return ANPR_ECORRUPT;
    c->groups = (n + HUFF_GROUP - 1) / HUFF_GROUP;
    c->ck_bytes = bp_bytes(c->groups - 1, c->w);
    if (len - pos < c->ck_bytes) return ANPR_ECORRUPT;
    c->ck = src + pos;
    if (!bp_tail_zero(c->ck, c->groups - 1, c->w)) return ANPR_ECORRUPT;
    pos += c->ck_bytes;
    c->br = (bit_reader){src + pos, len - pos, 0};

    if (huff_count(c->len, c->ns, c->count, c->first) < 0) return ANPR_ECORRUPT;
    unsigned nsym = 0;
    c->maxbits = 0;
    for (unsigned b = 1; b <= HUFF_MAX_BITS; b++) {
        c->start[b] = (uint16_t)nsym;
        nsym += c->count[b];
        if (c->count[b]) c->maxbits = b;
    }
    c->lone = nsym == 1;
    if (few) {
        uint16_t fill[HUFF_MAX_BITS + 1];
        memcpy(fill, c->start, sizeof fill);
        for (unsigned s = 0; s < c->ns; s++)
            if (c->len[s]) c->sorted[fill[c->len[s]]++] = (uint8_t)s;
        for (unsigned b = 1; b < HUFF_MAX_BITS; b++)
            c->lim[b] = b < c->maxbits ? (uint32_t)(c->first[b] + c->count[b]) << (16 - b) : UINT32_C(1) << 16;
        return 0;
    }
    uint16_t rev[HUFF_SYMBOLS];
    huff_codes(c->len, c->ns, c->first, rev);
    /*
     * Every entry whose low bits are a symbol's code is that symbol. The
     * code is complete, so every entry is some symbol's; a lone symbol's
     * code 0 takes the 1 too (huff_decode refuses a one bit there).
     */
    size_t size = (size_t)1 << c->maxbits;
    for (unsigned s = 0; s < c->ns; s++)
        if (c->len[s])
            for (size_t j = rev[s]; j < size; j += (size_t)1 << c->len[s])
                c->tab[j] = (uint16_t)(s | (unsigned)c->len[s] << 8);
    if (c->lone) c->tab[1] = c->tab[0];
    return 0;
}

/* Where group g's codes start, checked to lie within the stream. */
static int huff_seek(huff_chunk *c, size_t g)
{
    uint64_t bit = g ? bp_get(c->ck, c->ck_bytes, g - 1, c->w) : 0;
    if (bit > c->br.len * 8) return ANPR_ECORRUPT;
    c->br.pos = bit;
    return 0;
}

/* The next cnt symbols into sym[], through the table; ANPR_ECORRUPT when they run past the stream. */
static int huff_next(huff_chunk *c, uint8_t *sym, size_t cnt)
{
    const unsigned mask = (1u << c->maxbits) - 1;
    /* br_peek gives at least 57 bits: that many codes of maxbits each are decoded from one look. */
    const size_t per_peek = 57 / c->maxbits;
    for (size_t i = 0; i < cnt;) {
        uint64_t x = br_peek(&c->br);
        unsigned used = 0;
        size_t stop = cnt - i < per_peek ? cnt : i + per_peek;
        for (; i < stop; i++) {
            unsigned e = c->tab[(x >> used) & mask];
            sym[i] = (uint8_t)e;
            used += e >> 8;
        }
        c->br.pos += used;
    }
    return c->br.pos > c->br.len * 8 ? ANPR_ECORRUPT : 0;
}

/* x with its 64 bits in reverse order. */
static inline uint64_t rev64(uint64_t x)
{
    x = ((x >> 1) & UINT64_C(0x5555555555555555)) | ((x & UINT64_C(0x5555555555555555)) << 1);
    x = ((x >> 2) & UINT64_C(0x3333333333333333)) | ((x & UINT64_C(0x3333333333333333)) << 2);
    x = ((x >> 4) & UINT64_C(0x0F0F0F0F0F0F0F0F)) | ((x & UINT64_C(0x0F0F0F0F0F0F0F0F)) << 4);
    return __builtin_bswap64(x);
}

/*
 * huff_next canonically: a code's length is one more than the number of
 * lengths whose limit its window reaches, compared without a branch, and
 * its symbol follows from its place among the codes of that length. The
 * stream's bits are reversed once a look, so that each window is a shift.
 */
static int huff_next_few(huff_chunk *c, uint8_t *sym, size_t cnt)
{
    if (c->lone) {
        memset(sym, c->sorted[0], cnt);
        c->br.pos += cnt;
        return c->br.pos > c->br.len * 8 ? ANPR_ECORRUPT : 0;
    }
    const size_t per_peek = 57 / c->maxbits;
    for (size_t i = 0; i < cnt;) {
        /* Only a code's first maxbits bits decide it, and each look holds at least maxbits more. */
        uint64_t x = rev64(br_peek(&c->br));
        unsigned used = 0;
        size_t stop = cnt - i < per_peek ? cnt : i + per_peek;
        for (; i < stop; i++) {
            uint32_t win = (uint32_t)((x << used) >> 48);
            unsigned b = 1;
            for (unsigned k = 1; k < HUFF_MAX_BITS; k++) b += win >= c->lim[k];
            sym[i] = c->sorted[c->start[b] + (win >> (16 - b)) - c->first[b]];
            used += b;
        }
        c->br.pos += used;
    }
    return c->br.pos > c->br.len * 8 ? ANPR_ECORRUPT : 0;
}

int huff_decode(int64_t *v, size_t n, const uint8_t *src, size_t len)
{
    if (n == 0) return len == 0 ? 0 : ANPR_ECORRUPT;
    huff_chunk chunk, *c = &chunk;
    int rc = huff_open(c, src, len, n, 0);
    uint32_t h[HUFF_SYMBOLS] = {0};
    uint8_t sym[HUFF_GROUP];
    uint64_t last_ck = 0;
    for (size_t g = 0; rc == 0 && g < c->groups; g++) {
        /* The table must say exactly where each group starts. */
        if (g > 0 && (last_ck = bp_get(c->ck, c->ck_bytes, g - 1, c->w)) != c->br.pos) {
            rc = ANPR_ECORRUPT;
            break;
        }
        size_t i = g * HUFF_GROUP, cnt = n - i < HUFF_GROUP ? n - i : HUFF_GROUP;
        if ((rc = huff_next(c, sym, cnt)) < 0) break;
        for (size_t k = 0; k < cnt; k++) {
            h[sym[k]]++;
            v[i + k] = (int64_t)(c->min + sym[k]);
        }
    }
    if (rc == 0) rc = br_finish(&c->br);
    for (size_t i = 0; rc == 0 && c->lone && i < c->br.len; i++)
        if (c->br.p[i]) rc = ANPR_ECORRUPT;
    if (rc == 0) {
        /* One encoding per value list: the encoder's lengths, span and checkpoint width, nothing else. */
        uint8_t want[HUFF_SYMBOLS];
        huff_lengths(h, c->ns, want);
        if (memcmp(want, c->len, c->ns) != 0 || !h[0] || !h[c->ns - 1] || c->w != bp_width(last_ck))
            rc = ANPR_ECORRUPT;
    }
    return rc;
}

int huff_decode_at(int64_t *v, const uint32_t *at, size_t nat, size_t n, const uint8_t *src, size_t len)
{
    huff_chunk chunk, *c = &chunk;
    const int few = nat <= HUFF_FEW_VALUES;
    int rc = huff_open(c, src, len, n, few);
    uint8_t sym[HUFF_GROUP];
    size_t next_row = SIZE_MAX; /* the row whose code the stream is at, when it is in the current group */
    for (size_t j = 0; rc == 0 && j < nat; j++) {
        size_t row = at[j], g = row / HUFF_GROUP;
        if (next_row == SIZE_MAX || next_row / HUFF_GROUP != g) {
            if ((rc = huff_seek(c, g)) < 0) break;
            next_row = g * HUFF_GROUP;
        }
        size_t cnt = row - next_row + 1;
        if ((rc = few ? huff_next_few(c, sym, cnt) : huff_next(c, sym, cnt)) < 0) break;
        v[j] = (int64_t)(c->min + sym[cnt - 1]);
        next_row = row + 1;
    }
    return rc;
}

int huff_decode_first(int64_t *v, size_t count, size_t n, const uint8_t *src, size_t len)
{
    if (count > n) return ANPR_EINVAL;
    huff_chunk chunk, *c = &chunk;
    int rc = huff_open(c, src, len, n, 0);
    uint8_t sym[HUFF_GROUP];
    for (size_t i = 0; rc == 0 && i < count; i += HUFF_GROUP) {
        size_t cnt = count - i < HUFF_GROUP ? count - i : HUFF_GROUP;
        if ((rc = huff_next(c, sym, cnt)) < 0) break;
        for (size_t k = 0; k < cnt; k++) v[i + k] = (int64_t)(c->min + sym[k]);
    }
    return rc;
}
