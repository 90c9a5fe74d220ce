/*
 * plate-part (format 11, docs/format.md): plate-rrr with the current-format
 * plates' letters kept in eight parts by their value mod 8, and a table of
 * the parts' sizes and checksums at the chunk's start. A search for a plate
 * reads the table and the one part its letters fall in (an eighth of the
 * letters), checks them against their sums, and needs nothing else of a
 * block that does not hold the plate: most of the blocks a plate history
 * reads only share the plate's index bucket. Here: the table, turning a
 * plate-rrr chunk into a plate-part one, opening the parts, reading a value
 * by its rank and checking the sums.
 */
#include "encode/plate_split.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/hash.h"

/*
 * The table: each part's count (u16) and sum (u32), then the sums of what
 * lies between the parts and the long forms (the part ids, plate-rrr's
 * bitmap, the ages and ranks) and of the long forms, and the long forms'
 * bytes (u32 each).
 */
#define TABLE_COUNTS 0
#define TABLE_SUMS (2 * PART_COUNT)
#define TABLE_MID_SUM (6 * PART_COUNT)
#define TABLE_LF_SUM (6 * PART_COUNT + 4)
#define TABLE_LF_LEN (6 * PART_COUNT + 8)
_Static_assert(TABLE_LF_LEN + 4 == ENC_PART_TABLE_BYTES, "the table's layout and its size agree");

uint32_t enc_part_sum(const uint8_t *p, size_t n)
{
    return (uint32_t)anpr_checksum(p, n);
}

int part_open(split_parts *sp, const uint8_t *src, size_t len, size_t *at, size_t *n0, size_t *lf_len)
{
    if (len < ENC_PART_TABLE_BYTES) return ANPR_ECORRUPT;
    size_t off = ENC_PART_TABLE_BYTES, total = 0;
    for (unsigned p = 0; p < PART_COUNT; p++) {
        sp->part_n[p] = get_u16(src + TABLE_COUNTS + 2 * p);
        sp->part_len[p] = bp_bytes(sp->part_n[p], PART_BITS);
        sp->part[p] = src + off;
        if (len - off < sp->part_len[p]) return ANPR_ECORRUPT;
        off += sp->part_len[p];
        total += sp->part_n[p];
    }
    sp->pids = src + off;
    sp->pids_len = bp_bytes(total, PART_SHIFT);
    if (len - off < sp->pids_len) return ANPR_ECORRUPT;
    sp->parts = 1;
    sp->expanded = NULL;
    sp->pid_at = 0;
    sp->pid_at_read = 0;
    memset(sp->pid_seen, 0, sizeof sp->pid_seen);
    *at = off + sp->pids_len;
    *n0 = total;
    *lf_len = get_u32(src + TABLE_LF_LEN);
    return 0;
}

int part_value(split_parts *sp, size_t j, uint32_t *v)
{
    if (j >= sp->n0) return ANPR_ECORRUPT;
    if (j < sp->pid_at || !sp->pid_at_read) {
        sp->pid_at = 0;
        memset(sp->pid_seen, 0, sizeof sp->pid_seen);
        sp->pid_at_id = (unsigned)bp_get(sp->pids, sp->pids_len, 0, PART_SHIFT);
        sp->pid_at_read = 1;
    }
    /* A whole block's decode asks for every value in turn: one id read a value. */
    while (sp->pid_at < j) {
        sp->pid_seen[sp->pid_at_id]++;
        sp->pid_at_id = (unsigned)bp_get(sp->pids, sp->pids_len, ++sp->pid_at, PART_SHIFT);
    }
    unsigned p = sp->pid_at_id;
    size_t q = sp->pid_seen[p];
    if (q >= sp->part_n[p]) return ANPR_ECORRUPT; /* more ids name the part than it has letters */
    uint32_t low = (uint32_t)bp_get(sp->part[p], sp->part_len[p], q, PART_BITS);
    if (low >= PART_LIMIT) return ANPR_ECORRUPT;
    *v = low << PART_SHIFT | p;
    return 0;
}

int part_expand(split_parts *sp)
{
    uint32_t *v = malloc((sp->n0 ? sp->n0 : 1) * sizeof *v);
    if (!v) return -ENOMEM;
    const uint32_t mask = (UINT32_C(1) << PART_BITS) - 1;
    size_t seen[PART_COUNT] = {0}, j = 0;
    for (; j < sp->n0; j++) {
        unsigned p = (unsigned)bp_get(sp->pids, sp->pids_len, j, PART_SHIFT);
        size_t q = seen[p]++, bit = PART_BITS * q;
        if (q >= sp->part_n[p]) break; /* more ids name the part than it has letters */
        uint32_t low = bit / 8 + 8 <= sp->part_len[p] ? (uint32_t)(get_u64(sp->part[p] + bit / 8) >> (bit % 8)) & mask
                                                       : (uint32_t)bp_get(sp->part[p], sp->part_len[p], q, PART_BITS);
        if (low >= PART_LIMIT) break;
        v[j] = low << PART_SHIFT | p;
    }
    if (j < sp->n0) {
        free(v);
        return ANPR_ECORRUPT;
    }
    sp->expanded = v;
    return 0;
}

int part_tails_zero(const split_parts *sp)
{
    for (unsigned p = 0; p < PART_COUNT; p++)
        if (!bp_tail_zero(sp->part[p], sp->part_n[p], PART_BITS)) return 0;
    return bp_tail_zero(sp->pids, sp->n0, PART_SHIFT);
}

const char *part_section_name(unsigned section)
{
    static const char *const names[PART_SECTIONS] = {
        "letters part 0", "letters part 1", "letters part 2", "letters part 3",           "letters part 4",
        "letters part 5", "letters part 6", "letters part 7", "part ids, bitmap and ages", "long forms"};
    return section < PART_SECTIONS ? names[section] : "table";
}

int part_section_ok(const split_parts *sp, const uint8_t *src, size_t len, unsigned section)
{
    if (section < PART_COUNT)
        return enc_part_sum(sp->part[section], sp->part_len[section]) == get_u32(src + TABLE_SUMS + 4 * section);
    size_t lf_len = get_u32(src + TABLE_LF_LEN), mid = (size_t)(sp->pids - src);
    if (lf_len > len - mid) return 0;
    if (section == PART_MID) return enc_part_sum(sp->pids, len - lf_len - mid) == get_u32(src + TABLE_MID_SUM);
    return enc_part_sum(src + len - lf_len, lf_len) == get_u32(src + TABLE_LF_SUM);
}

int part_check_sums(const split_parts *sp, const uint8_t *src, size_t len, const char **what)
{
    for (unsigned section = 0; section < PART_SECTIONS; section++) {
        if (!part_section_ok(sp, src, len, section)) {
            *what = part_section_name(section);
            return ANPR_ECORRUPT;
        }
    }
    return 0;
}

/*
 * Part ids come 16 to a 48-bit group (6 bytes): a group's ids equal to p
 * are the zero fields of the group xor'ed with p in every field, each
 * field's three bits or'ed down into its lowest.
 */
#define ID_GROUP 16
#define ID_LOWS UINT64_C(0x249249249249) /* the lowest bit of each of 16 fields of 3 bits */

static inline uint64_t ids_equal(uint64_t ids, unsigned p)
{
    uint64_t x = ids ^ (ID_LOWS * p);
    return ~(x | x >> 1 | x >> 2) & ID_LOWS;
}

size_t part_select(part_walk *w, size_t q)
{
    const split_parts *sp = w->sp;
    for (; (w->group + 1) * ID_GROUP <= sp->n0 && 6 * w->group + 8 <= sp->pids_len; w->group++) {
        uint64_t z = ids_equal(get_u64(sp->pids + 6 * w->group) & ((UINT64_C(1) << 48) - 1), w->p);
        size_t c = ones64(z);
        if (w->seen + c > q) {
            for (size_t k = q - w->seen; k > 0; k--) z &= z - 1;
            return w->group * ID_GROUP + (size_t)__builtin_ctzll(z) / PART_SHIFT;
        }
        w->seen += c;
    }
    /* The last ids, one at a time (the walk stays at the group, for a later q). */
    for (size_t j = w->group * ID_GROUP, seen = w->seen; j < sp->n0; j++) {
        if (bp_get(sp->pids, sp->pids_len, j, PART_SHIFT) != w->p) continue;
        if (seen++ == q) return j;
    }
    return SIZE_MAX;
}

/*
 * n values (each v[k] & mask, below 2^w) packed from dst, least significant
 * bit first, zero padding to a byte; dst has 8 bytes of room past them.
 * Returns the bytes they take.
 */
static size_t pack(uint8_t *dst, const uint32_t *v, size_t n, unsigned w, uint32_t mask)
{
    uint8_t *at = dst;
    uint64_t acc = 0;
    unsigned bits = 0;
    for (size_t k = 0; k < n; k++) {
        acc |= (uint64_t)(v[k] & mask) << bits;
        bits += w;
        if (bits >= 32) {
            put_u64(at, acc);
            at += 4;
            acc >>= 32;
            bits -= 32;
        }
    }
    put_u64(at, acc);
    return (size_t)(at - dst) + (bits + 7) / 8;
}

int part_encode(enc_buf *out, size_t start, size_t n)
{
    split_parts sp;
    const uint8_t *src = out->data + start;
    size_t len = out->len - start;
    /* The plate-rrr chunk just written: its bitmap, letters, ages and ranks, and long forms, in that order. */
    if (split_open(&sp, src, len, n, AGES_RADIX | SPLIT_RRR) < 0) return ANPR_EINVAL;
    size_t rrr_len = (size_t)(sp.values - src), letters_end = rrr_len + sp.values_len;
    size_t lf_at = (size_t)(sp.others.p - src), lf_len = len - lf_at, n0 = sp.n0;
    /* The letters, and the same counted into place by part (each part's in row order). */
    uint32_t *v = malloc(2 * (n0 ? n0 : 1) * sizeof *v), *by_part = v + n0;
    if (!v) return -ENOMEM;
    const uint32_t letters_mask = (UINT32_C(1) << UK_LETTERS_BITS) - 1;
    size_t count[PART_COUNT] = {0}, fill[PART_COUNT], j = 0;
    for (; j < n0 && UK_LETTERS_BITS * j / 8 + 8 <= sp.values_len; j++) {
        size_t bit = UK_LETTERS_BITS * j;
        v[j] = (uint32_t)(get_u64(sp.values + bit / 8) >> (bit % 8)) & letters_mask;
        count[v[j] & (PART_COUNT - 1)]++;
    }
    for (; j < n0; j++) {
        v[j] = (uint32_t)bp_get(sp.values, sp.values_len, j, UK_LETTERS_BITS);
        count[v[j] & (PART_COUNT - 1)]++;
    }
    size_t size = ENC_PART_TABLE_BYTES + bp_bytes(n0, PART_SHIFT) + len - sp.values_len;
    for (unsigned p = 0, at = 0; p < PART_COUNT; at += (unsigned)count[p++]) {
        fill[p] = at;
        size += bp_bytes(count[p], PART_BITS);
        if (count[p] > PART_COUNT_MAX) {
            free(v);
            return -E2BIG;
        }
    }
    for (j = 0; j < n0; j++) by_part[fill[v[j] & (PART_COUNT - 1)]++] = v[j] >> PART_SHIFT;
    enc_buf b = {0};
    int rc = enc_buf_reserve(&b, size + 8);
    if (rc == 0) {
        uint8_t *d = b.data;
        memset(d, 0, ENC_PART_TABLE_BYTES);
        size_t at = ENC_PART_TABLE_BYTES, part_at[PART_COUNT + 1];
        for (unsigned p = 0, k = 0; p < PART_COUNT; k += (unsigned)count[p++]) {
            part_at[p] = at;
            at += pack(d + at, by_part + k, count[p], PART_BITS, UINT32_MAX);
        }
        part_at[PART_COUNT] = at;
        at += pack(d + at, v, n0, PART_SHIFT, PART_COUNT - 1);
        /* plate-rrr's bitmap, then its ages and ranks, then the long forms: the chunk's last bytes. */
        memcpy(d + at, src, rrr_len);
        at += rrr_len;
        memcpy(d + at, src + letters_end, lf_at - letters_end);
        at += lf_at - letters_end;
        memcpy(d + at, src + lf_at, lf_len);
        at += lf_len;
        for (unsigned p = 0; p < PART_COUNT; p++) {
            put_u16(d + TABLE_COUNTS + 2 * p, (uint16_t)count[p]);
            put_u32(d + TABLE_SUMS + 4 * p, enc_part_sum(d + part_at[p], part_at[p + 1] - part_at[p]));
        }
        size_t mid = part_at[PART_COUNT];
        put_u32(d + TABLE_MID_SUM, enc_part_sum(d + mid, at - lf_len - mid));
        put_u32(d + TABLE_LF_SUM, enc_part_sum(d + at - lf_len, lf_len));
        put_u32(d + TABLE_LF_LEN, (uint32_t)lf_len);
        out->len = start;
        rc = enc_buf_append(out, d, at);
    }
    free(v);
    enc_buf_free(&b);
    return rc;
}
