/*
 * Integer column encodings. Values are int64; arithmetic on them is done in
 * uint64 so that deltas of extreme values wrap instead of overflowing.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "anpr/anpr.h"
#include "common/bytes.h"
#include "encode/bitpack.h"
#include "encode/encode.h"
#include "encode/huff_codec.h"
#include "encode/varint.h"

#define MINIBLOCK 128

static const char *const enc_names[ENC_COUNT] = {
    [ENC_RAW] = "raw",
    [ENC_DELTA_BP] = "delta-bitpack",
    [ENC_RLE] = "rle",
    [ENC_FOR_BP] = "for-bitpack",
    [ENC_PLATE6] = "plate6",
    [ENC_PLATE_UK] = "plate-uk",
    [ENC_PLATE_SPLIT] = "plate-split",
    [ENC_PLATE_SHAPES] = "plate-shapes",
    [ENC_PLATE_AGE] = "plate-age",
    [ENC_PLATE_AGE_RADIX] = "plate-age-radix",
    [ENC_PLATE_RRR] = "plate-rrr",
    [ENC_PLATE_PART] = "plate-part",
    [ENC_FOR_BYTES] = "for-bytes",
    [ENC_DELTA_RICE] = "delta-rice",
    [ENC_DELTA_RICE_CK] = "delta-rice-ck",
    [ENC_HUFF_CK] = "huffman-ck",
    [ENC_DELTA_RICE_CK2] = "delta-rice-ck2",
};

const char *enc_name(unsigned id)
{
    return id < ENC_COUNT ? enc_names[id] : "unknown";
}

static inline uint64_t zigzag(uint64_t d)
{
    return (d << 1) ^ (uint64_t)-(int64_t)(d >> 63);
}

static inline uint64_t unzigzag(uint64_t z)
{
    return (z >> 1) ^ (uint64_t)-(int64_t)(z & 1);
}

/* Miniblocks of up to 128 values: a width byte, then the values packed at that width. */
static int put_miniblocks(enc_buf *out, const uint64_t *u, size_t n)
{
    for (size_t i = 0; i < n; i += MINIBLOCK) {
        size_t cnt = n - i < MINIBLOCK ? n - i : MINIBLOCK;
        uint64_t all = 0;
        for (size_t k = 0; k < cnt; k++) all |= u[i + k];
        uint8_t w = (uint8_t)bp_width(all);
        int rc = enc_buf_append(out, &w, 1);
        if (rc == 0) rc = bp_pack(out, u + i, cnt, w);
        if (rc < 0) return rc;
    }
    return 0;
}

/* The head of a miniblock of cnt values at *pos: its width, and its packed bytes' length; *pos moves past the width. */
static int miniblock_head(const uint8_t *src, size_t len, size_t *pos, size_t cnt, unsigned *w, size_t *nb)
{
    if (*pos >= len) return ANPR_ECORRUPT;
    *w = src[(*pos)++];
    if (*w > 64) return ANPR_ECORRUPT;
    *nb = bp_bytes(cnt, *w);
    return len - *pos < *nb ? ANPR_ECORRUPT : 0;
}

static int get_miniblocks(uint64_t *u, size_t n, const uint8_t *src, size_t len, size_t pos)
{
    for (size_t i = 0; i < n; i += MINIBLOCK) {
        size_t cnt = n - i < MINIBLOCK ? n - i : MINIBLOCK, nb;
        unsigned w;
        if (miniblock_head(src, len, &pos, cnt, &w, &nb) < 0) return ANPR_ECORRUPT;
        int rc = bp_unpack(u + i, cnt, w, src + pos);
        if (rc < 0) return rc;
        /* The width byte must be the smallest that holds the values, as the encoder writes it. */
        uint64_t all = 0;
        for (size_t k = 0; k < cnt; k++) all |= u[i + k];
        if (bp_width(all) != w) return ANPR_ECORRUPT;
        pos += nb;
    }
    return pos == len ? 0 : ANPR_ECORRUPT;
}

static int scratch(uint64_t **u, size_t n)
{
    *u = malloc((n ? n : 1) * sizeof **u);
    return *u ? 0 : -ENOMEM;
}

static int encode_raw(enc_buf *out, const int64_t *v, size_t n)
{
    int rc = enc_buf_reserve(out, n * 8);
    if (rc < 0) return rc;
    for (size_t i = 0; i < n; i++) put_i64(out->data + out->len + 8 * i, v[i]);
    out->len += n * 8;
    return 0;
}

static int encode_delta(enc_buf *out, const int64_t *v, size_t n)
{
    if (n == 0) return 0;
    uint8_t first[8];
    put_i64(first, v[0]);
    int rc = enc_buf_append(out, first, 8);
    if (rc < 0) return rc;
    uint64_t *u;
    if ((rc = scratch(&u, n - 1)) < 0) return rc;
    for (size_t i = 1; i < n; i++) u[i - 1] = zigzag((uint64_t)v[i] - (uint64_t)v[i - 1]);
    rc = put_miniblocks(out, u, n - 1);
    free(u);
    return rc;
}

static int encode_for(enc_buf *out, const int64_t *v, size_t n)
{
    if (n == 0) return 0;
    int64_t min = v[0];
    for (size_t i = 1; i < n; i++)
        if (v[i] < min) min = v[i];
    uint8_t first[8];
    put_i64(first, min);
    int rc = enc_buf_append(out, first, 8);
    if (rc < 0) return rc;
    uint64_t *u;
    if ((rc = scratch(&u, n)) < 0) return rc;
    for (size_t i = 0; i < n; i++) u[i] = (uint64_t)v[i] - (uint64_t)min;
    rc = put_miniblocks(out, u, n);
    free(u);
    return rc;
}

/* Minimum, then value - minimum as one byte each: byte-aligned, so zstd's Huffman stage codes them at their entropy. */
static int encode_for_bytes(enc_buf *out, const int64_t *v, size_t n)
{
    if (n == 0) return 0;
    int64_t min = v[0], max = v[0];
    for (size_t i = 1; i < n; i++) {
        if (v[i] < min) min = v[i];
        if (v[i] > max) max = v[i];
    }
    if ((uint64_t)max - (uint64_t)min > 255) return ANPR_EINVAL;
    int rc = enc_buf_reserve(out, 8 + n);
    if (rc < 0) return rc;
    uint8_t *p = out->data + out->len;
    put_i64(p, min);
    for (size_t i = 0; i < n; i++) p[8 + i] = (uint8_t)((uint64_t)v[i] - (uint64_t)min);
    out->len += 8 + n;
    return 0;
}

/*
 * Rice-coded deltas, for sorted times: a camera's reads come at roughly
 * exponential gaps, which a Rice code with the right parameter stores within
 * a few hundredths of a bit of their entropy, where bit-packing pays the
 * width of the largest gap in each miniblock plus zigzag's sign bit. Per
 * group of 128 deltas: k in 6 bits, then each delta d as (d >> k) in unary
 * (that many one bits, then a zero) and its low k bits; a delta that is
 * negative (a new camera starts) or whose quotient reaches RICE_ESCAPE is
 * RICE_ESCAPE one bits and then its 64 bits.
 */
#define RICE_ESCAPE 32u
#define RICE_MAX_K 62u

static int rice_escaped(uint64_t d, unsigned k)
{
    return (int64_t)d < 0 || (d >> k) >= RICE_ESCAPE;
}

/*
 * The parameter for a group: near log2 of the mean of its ordinary deltas,
 * the cheapest of four; ties to the smaller. Every time column a flush or a
 * merge writes comes through here, and a decoder of a whole column checks
 * each group's parameter so (a camera hour's query spent more time here
 * than in decoding). So the sums run over every delta in loops the compiler
 * vectorises, and the few deltas they must not count (a negative one where
 * a new camera starts, a gap long enough to escape) are taken out again
 * afterwards, one by one: the sums wrap modulo 2^64, so what is taken out
 * leaves exactly the sum of the rest.
 */
static unsigned rice_choose_k(const uint64_t *d, size_t n)
{
    const uint64_t ordinary = UINT64_C(1) << 56; /* below it, and so not negative either */
    uint64_t sum = 0, cnt = n, any = 0;
    for (size_t i = 0; i < n; i++) {
        sum += d[i];
        any |= d[i];
    }
    if (any >= ordinary)
        for (size_t i = 0; i < n; i++)
            if (d[i] >= ordinary) {
                sum -= d[i];
                cnt--;
            }
    unsigned mid = cnt && sum / cnt ? bp_width(sum / cnt) - 1 : 0;
    /* The candidates k0 + j for j < ks (ks is 4 but near RICE_MAX_K); an ordinary code costs (d >> k) + 1 + k. */
    unsigned k0 = mid > 2 ? mid - 2 : 0, ks = (mid + 1 < RICE_MAX_K ? mid + 1 : RICE_MAX_K) - k0 + 1;
    uint64_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    for (size_t i = 0; i < n; i++) {
        uint64_t q = d[i] >> k0;
        s0 += q;
        s1 += q >> 1;
        s2 += q >> 2;
        s3 += q >> 3;
    }
    uint64_t cost[4] = {s0, s1, s2, s3}, nordinary = n;
    if ((any >> k0) >= RICE_ESCAPE)
        for (size_t i = 0; i < n; i++) {
            uint64_t q = d[i] >> k0;
            if (q < RICE_ESCAPE) continue; /* ordinary under k0, so under the larger three too */
            nordinary--;
            for (unsigned j = 0; j < 4; j++)
                cost[j] += (rice_escaped(d[i], k0 + j) ? RICE_ESCAPE + 64 : (q >> j) + 1 + k0 + j) - (q >> j);
        }
    for (unsigned j = 0; j < 4; j++) cost[j] += nordinary * (1 + (uint64_t)k0 + j);
    unsigned best = 0;
    for (unsigned j = 1; j < ks; j++)
        if (cost[j] < cost[best]) best = j;
    return k0 + best;
}

/*
 * Checkpoints: where every so many groups start, and the value before, so
 * a reader can start there: every 8th group in delta-rice-ck, every 2nd in
 * delta-rice-ck2 (a lookup of one row then decodes 128 deltas on average,
 * not 512: a plate history takes a time from every block it hits); none in
 * delta-rice (id 7).
 */
static unsigned rice_interval(unsigned id)
{
    return id == ENC_DELTA_RICE_CK ? 8u : id == ENC_DELTA_RICE_CK2 ? 2u : 0u;
}

/* The checkpoints of n values: groups I, 2I, ... of their ceil((n - 1) / MINIBLOCK) groups of deltas. */
static size_t rice_checkpoints(size_t n, unsigned id)
{
    unsigned every = rice_interval(id);
    size_t groups = n > 1 ? (n - 1 + MINIBLOCK - 1) / MINIBLOCK : 0;
    return every && groups > 0 ? (groups - 1) / every : 0;
}

/*
 * The checkpoint table of delta-rice-ck: per checkpoint, varint bit offset
 * and varint zigzag(value - first value). Of delta-rice-ck2: a width byte
 * for the offsets and one for the values, then the offsets bit-packed, then
 * the values (each padded to a byte), so that any one is read directly.
 */
static int rice_table_put(enc_buf *table, unsigned id, const uint64_t *bit, const uint64_t *zz, size_t count)
{
    int rc = 0;
    if (id == ENC_DELTA_RICE_CK) {
        for (size_t k = 0; rc == 0 && k < count; k++) {
            rc = put_varint(table, bit[k]);
            if (rc == 0) rc = put_varint(table, zz[k]);
        }
        return rc;
    }
    if (id != ENC_DELTA_RICE_CK2) return 0;
    uint64_t all = 0;
    for (size_t k = 0; k < count; k++) all |= zz[k];
    uint8_t w[2] = {(uint8_t)bp_width(count ? bit[count - 1] : 0), (uint8_t)bp_width(all)};
    rc = enc_buf_append(table, w, 2);
    if (rc == 0) rc = bp_pack(table, bit, count, w[0]);
    if (rc == 0) rc = bp_pack(table, zz, count, w[1]);
    return rc;
}

static int encode_delta_rice(enc_buf *out, unsigned id, const int64_t *v, size_t n)
{
    if (n == 0) return 0;
    uint8_t first[8];
    put_i64(first, v[0]);
    int rc = enc_buf_append(out, first, 8);
    if (rc < 0) return rc;
    /* The stream goes first; the checkpoint table is built beside it and slid in before it at the end. */
    size_t stream_at = out->len, count = rice_checkpoints(n, id), taken = 0;
    unsigned every = rice_interval(id);
    uint64_t *ck_bit = malloc((count ? count : 1) * sizeof *ck_bit);
    uint64_t *ck_zz = malloc((count ? count : 1) * sizeof *ck_zz);
    if (!ck_bit || !ck_zz) rc = -ENOMEM;
    enc_buf table = {0};
    uint64_t d[MINIBLOCK];
    bit_writer bw = {out, 0, 0};
    for (size_t i = 1, g = 0; rc == 0 && i < n; i += MINIBLOCK, g++) {
        if (every && g > 0 && g % every == 0 && taken < count) {
            ck_bit[taken] = (out->len - stream_at) * 8 + bw.bits;
            ck_zz[taken++] = zigzag((uint64_t)v[i - 1] - (uint64_t)v[0]);
        }
        size_t cnt = n - i < MINIBLOCK ? n - i : MINIBLOCK;
        for (size_t j = 0; j < cnt; j++) d[j] = (uint64_t)v[i + j] - (uint64_t)v[i + j - 1];
        unsigned k = rice_choose_k(d, cnt);
        rc = bw_put(&bw, k, 6);
        for (size_t j = 0; rc == 0 && j < cnt; j++) {
            if (rice_escaped(d[j], k)) {
                rc = bw_put(&bw, (UINT64_C(1) << RICE_ESCAPE) - 1, RICE_ESCAPE);
                if (rc == 0) rc = bw_put(&bw, d[j] & 0xffffffffu, 32);
                if (rc == 0) rc = bw_put(&bw, d[j] >> 32, 32);
                continue;
            }
            uint64_t q = d[j] >> k;
            /* q ones then a zero (q < 32, so one put), then the low bits in at most two puts. */
            rc = bw_put(&bw, (UINT64_C(1) << q) - 1, (unsigned)q + 1);
            uint64_t low = k ? d[j] & ((UINT64_C(1) << k) - 1) : 0;
            if (rc == 0 && k > 32) {
                rc = bw_put(&bw, low & 0xffffffffu, 32);
                if (rc == 0) rc = bw_put(&bw, low >> 32, k - 32);
            } else if (rc == 0) {
                rc = bw_put(&bw, low, k);
            }
        }
    }
    if (rc == 0) rc = bw_finish(&bw);
    if (rc == 0) rc = rice_table_put(&table, id, ck_bit, ck_zz, count);
    if (rc == 0 && table.len > 0 && (rc = enc_buf_reserve(out, table.len)) == 0) {
        size_t stream_len = out->len - stream_at;
        memmove(out->data + stream_at + table.len, out->data + stream_at, stream_len);
        memcpy(out->data + stream_at, table.data, table.len);
        out->len += table.len;
    }
    enc_buf_free(&table);
    free(ck_bit);
    free(ck_zz);
    return rc;
}

/* The checkpoint table of a delta-rice chunk, open for reading. */
typedef struct rice_table {
    unsigned id;
    size_t count;              /* checkpoints */
    uint64_t first;
    const uint8_t *src;        /* delta-rice-ck: the varints, read in order */
    size_t len, pos, taken;    /* the next entry, entries read */
    unsigned wb, wv;           /* delta-rice-ck2: widths, and the two packed arrays */
    const uint8_t *bits, *vals;
    size_t bits_bytes, vals_bytes;
} rice_table;

/*
 * Checkpoint k (0-based; it starts group (k + 1) * interval): the bit
 * offset of its group and the value before it. delta-rice-ck's entries are
 * read in order, so k may not go back there.
 */
static int rice_table_get(rice_table *t, size_t k, uint64_t *bit, uint64_t *value)
{
    if (k >= t->count) return ANPR_ECORRUPT;
    uint64_t zz = 0;
    if (t->id == ENC_DELTA_RICE_CK2) {
        *bit = bp_get(t->bits, t->bits_bytes, k, t->wb);
        zz = bp_get(t->vals, t->vals_bytes, k, t->wv);
    } else {
        if (t->taken > k) return ANPR_ECORRUPT;
        while (t->taken <= k) {
            if (get_varint(t->src, t->len, &t->pos, bit) < 0 || get_varint(t->src, t->len, &t->pos, &zz) < 0)
                return ANPR_ECORRUPT;
            t->taken++;
        }
    }
    *value = t->first + unzigzag(zz);
    return 0;
}

/* Open the table (empty for id 7) of n values in src; *stream_at is where the bit stream starts. */
static int rice_table_open(rice_table *t, unsigned id, const uint8_t *src, size_t len, size_t n, size_t *stream_at)
{
    if (len < 8) return ANPR_ECORRUPT; /* the first value */
    *t = (rice_table){
        .id = id, .count = rice_checkpoints(n, id), .first = get_u64(src), .src = src, .len = len, .pos = 8};
    if (id == ENC_DELTA_RICE_CK2) {
        if (len < 10 || src[8] > 64 || src[9] > 64) return ANPR_ECORRUPT;
        t->wb = src[8];
        t->wv = src[9];
        t->bits_bytes = bp_bytes(t->count, t->wb);
        t->vals_bytes = bp_bytes(t->count, t->wv);
        if (len - 10 < t->bits_bytes || len - 10 - t->bits_bytes < t->vals_bytes) return ANPR_ECORRUPT;
        t->bits = src + 10;
        t->vals = t->bits + t->bits_bytes;
        if (!bp_tail_zero(t->bits, t->count, t->wb) || !bp_tail_zero(t->vals, t->count, t->wv)) return ANPR_ECORRUPT;
        *stream_at = 10 + t->bits_bytes + t->vals_bytes;
        return 0;
    }
    rice_table skip = *t;
    uint64_t bit, value;
    if (t->count > 0 && rice_table_get(&skip, t->count - 1, &bit, &value) < 0) return ANPR_ECORRUPT;
    *stream_at = skip.pos;
    return 0;
}

static int encode_rle(enc_buf *out, const int64_t *v, size_t n)
{
    for (size_t i = 0; i < n;) {
        size_t j = i + 1;
        while (j < n && v[j] == v[i]) j++;
        int rc = put_varint(out, zigzag((uint64_t)v[i]));
        if (rc == 0) rc = put_varint(out, j - i);
        if (rc < 0) return rc;
        i = j;
    }
    return 0;
}

static size_t varint_len(uint64_t v)
{
    size_t n = 1;
    while (v >>= 7) n++;
    return n;
}

/* What put_miniblocks writes for u(0) .. u(n - 1), where u(i) is value i less base, or delta i when delta. */
static size_t miniblocks_size(const int64_t *v, size_t n, int64_t base, int delta)
{
    size_t size = 0;
    for (size_t i = 0; i < n; i += MINIBLOCK) {
        size_t cnt = n - i < MINIBLOCK ? n - i : MINIBLOCK;
        uint64_t all = 0;
        if (delta)
            for (size_t k = i; k < i + cnt; k++) all |= zigzag((uint64_t)v[k + 1] - (uint64_t)v[k]);
        else
            for (size_t k = i; k < i + cnt; k++) all |= (uint64_t)v[k] - (uint64_t)base;
        size += 1 + bp_bytes(cnt, bp_width(all));
    }
    return size;
}

/* enc_int_size, with the values' minimum already known (what for-bitpack subtracts). */
static size_t int_size(unsigned id, const int64_t *v, size_t n, int64_t min)
{
    switch (id) {
    case ENC_DELTA_BP: return n == 0 ? 0 : 8 + miniblocks_size(v, n - 1, 0, 1);
    case ENC_FOR_BP: return n == 0 ? 0 : 8 + miniblocks_size(v, n, min, 0);
    case ENC_RLE: {
        size_t size = 0;
        for (size_t i = 0; i < n;) {
            size_t j = i + 1;
            while (j < n && v[j] == v[i]) j++;
            size += varint_len(zigzag((uint64_t)v[i])) + varint_len(j - i);
            i = j;
        }
        return size;
    }
    default: return SIZE_MAX;
    }
}

size_t enc_int_size(unsigned id, const int64_t *v, size_t n)
{
    int64_t min = n ? v[0] : 0;
    for (size_t i = 1; i < n; i++)
        if (v[i] < min) min = v[i];
    return int_size(id, v, n, min);
}

int enc_int_encode(enc_buf *out, unsigned id, const int64_t *v, size_t n)
{
    switch (id) {
    case ENC_RAW: return encode_raw(out, v, n);
    case ENC_DELTA_BP: return encode_delta(out, v, n);
    case ENC_FOR_BP: return encode_for(out, v, n);
    case ENC_RLE: return encode_rle(out, v, n);
    case ENC_FOR_BYTES: return encode_for_bytes(out, v, n);
    case ENC_DELTA_RICE:
    case ENC_DELTA_RICE_CK:
    case ENC_DELTA_RICE_CK2: return encode_delta_rice(out, id, v, n);
    case ENC_HUFF_CK: return huff_encode(out, v, n);
    default: return ANPR_EINVAL;
    }
}

static int decode_raw(int64_t *v, size_t n, const uint8_t *src, size_t len)
{
    if (len != n * 8) return ANPR_ECORRUPT;
    for (size_t i = 0; i < n; i++) v[i] = get_i64(src + 8 * i);
    return 0;
}

static int decode_delta(int64_t *v, size_t n, const uint8_t *src, size_t len)
{
    if (n == 0) return len == 0 ? 0 : ANPR_ECORRUPT;
    if (len < 8) return ANPR_ECORRUPT;
    uint64_t *u;
    int rc = scratch(&u, n - 1);
    if (rc < 0) return rc;
    rc = get_miniblocks(u, n - 1, src, len, 8);
    if (rc == 0) {
        uint64_t x = get_u64(src);
        v[0] = (int64_t)x;
        for (size_t i = 1; i < n; i++) {
            x += unzigzag(u[i - 1]);
            v[i] = (int64_t)x;
        }
    }
    free(u);
    return rc;
}

static int decode_for(int64_t *v, size_t n, const uint8_t *src, size_t len)
{
    if (n == 0) return len == 0 ? 0 : ANPR_ECORRUPT;
    if (len < 8) return ANPR_ECORRUPT;
    uint64_t *u;
    int rc = scratch(&u, n);
    if (rc < 0) return rc;
    rc = get_miniblocks(u, n, src, len, 8);
    if (rc == 0) {
        uint64_t min = get_u64(src);
        uint64_t lowest = UINT64_MAX;
        for (size_t i = 0; i < n; i++) {
            v[i] = (int64_t)(min + u[i]);
            if (u[i] < lowest) lowest = u[i];
            /* Values below the stored minimum would mean the sum wrapped: not what an encoder writes. */
            if (v[i] < (int64_t)min) rc = ANPR_ECORRUPT;
        }
        if (lowest != 0) rc = ANPR_ECORRUPT; /* the minimum must occur */
    }
    free(u);
    return rc;
}

static int decode_for_bytes(int64_t *v, size_t n, const uint8_t *src, size_t len)
{
    if (n == 0) return len == 0 ? 0 : ANPR_ECORRUPT;
    if (len != 8 + n) return ANPR_ECORRUPT;
    uint64_t min = get_u64(src);
    uint8_t lowest = 255;
    for (size_t i = 0; i < n; i++) {
        uint8_t d = src[8 + i];
        if (d < lowest) lowest = d;
        v[i] = (int64_t)(min + d);
        if (v[i] < (int64_t)min) return ANPR_ECORRUPT; /* the sum wrapped: no encoder writes that */
    }
    return lowest == 0 ? 0 : ANPR_ECORRUPT; /* the minimum must occur */
}

/* Read w <= 64 bits. */
static int get_bits(bit_reader *br, unsigned w, uint64_t *x)
{
    uint32_t lo = 0, hi = 0;
    if (br_get(br, w < 32 ? w : 32, &lo) < 0) return ANPR_ECORRUPT;
    if (w > 32 && br_get(br, w - 32, &hi) < 0) return ANPR_ECORRUPT;
    *x = (uint64_t)hi << 32 | lo;
    return 0;
}

/*
 * The next Rice-coded delta with parameter k into *d; 1 if it was escaped,
 * 0 if not, ANPR_ECORRUPT past the end. One look at the bits serves a value
 * whose code fits in it, as nearly all do.
 */
static inline int rice_next(bit_reader *br, unsigned k, uint64_t *d)
{
    uint64_t w = br_peek(br);
    uint64_t q = (uint64_t)__builtin_ctzll(~w | (UINT64_C(1) << RICE_ESCAPE));
    if (q < RICE_ESCAPE && q + 1 + k <= 57) {
        if (br_left(br) < q + 1 + k) return ANPR_ECORRUPT;
        *d = q << k | ((w >> (q + 1)) & ((UINT64_C(1) << k) - 1));
        br->pos += q + 1 + k;
        return 0;
    }
    if (br_left(br) < q + (q < RICE_ESCAPE)) return ANPR_ECORRUPT;
    br->pos += q + (q < RICE_ESCAPE); /* the ones, and the zero that ends them */
    if (q == RICE_ESCAPE) return get_bits(br, 64, d) < 0 ? ANPR_ECORRUPT : 1;
    uint64_t low;
    if (get_bits(br, k, &low) < 0) return ANPR_ECORRUPT;
    *d = q << k | low;
    return 0;
}

/* rice_next for a decoder that checks the form: a code escaped only when it had to be (one encoding per value list). */
static inline int rice_next_checked(bit_reader *br, unsigned k, uint64_t *d)
{
    int esc = rice_next(br, k, d);
    return esc < 0 || (esc && !rice_escaped(*d, k)) ? ANPR_ECORRUPT : 0;
}

/* To checkpoint k of an open table: the stream at its group, *x the value before it. */
static int rice_seek(rice_table *t, size_t k, bit_reader *br, uint64_t *x)
{
    uint64_t bit, value;
    if (rice_table_get(t, k, &bit, &value) < 0 || bit > br->len * 8) return ANPR_ECORRUPT;
    br->pos = bit;
    *x = value;
    return 0;
}

/*
 * The next cnt Rice-coded deltas (parameter k) added to *x: what a lookup
 * needs of the deltas before its row. Codes are taken several from one look
 * at the bits while they lie within it and within the stream, where
 * rice_next looks again for each (its load was on the path from one code to
 * the next); an escaped code, and the stream's last bits, go through
 * rice_next.
 */
static int rice_sum(bit_reader *br, unsigned k, size_t cnt, uint64_t *x)
{
    const uint64_t low = (UINT64_C(1) << k) - 1;
    uint64_t sum = *x;
    while (cnt > 0) {
        unsigned used = 0;
        if (br_left(br) >= 57) {
            uint64_t w = br_peek(br); /* 57 bits at least, all of them the stream's */
            for (; cnt > 0; cnt--) {
                uint64_t y = w >> used;
                unsigned q = (unsigned)__builtin_ctzll(~y | (UINT64_C(1) << RICE_ESCAPE));
                if (q == RICE_ESCAPE || used + q + 1 + k > 57) break;
                sum += (uint64_t)q << k | ((y >> (q + 1)) & low);
                used += q + 1 + k;
            }
            br->pos += used;
        }
        if (cnt > 0 && used == 0) {
            uint64_t d;
            if (rice_next(br, k, &d) < 0) return ANPR_ECORRUPT;
            sum += d;
            cnt--;
        }
    }
    *x = sum;
    return 0;
}

static int decode_delta_rice(int64_t *v, size_t n, unsigned id, const uint8_t *src, size_t len)
{
    if (n == 0) return len == 0 ? 0 : ANPR_ECORRUPT;
    rice_table t;
    size_t stream_at;
    if (rice_table_open(&t, id, src, len, n, &stream_at) < 0) return ANPR_ECORRUPT;
    uint64_t x = t.first;
    v[0] = (int64_t)x;
    bit_reader br = {src + stream_at, len - stream_at, 0};
    uint64_t d[MINIBLOCK];
    unsigned every = rice_interval(id);
    uint64_t last_bit = 0, all_zz = 0;
    for (size_t i = 1, g = 0; i < n; i += MINIBLOCK, g++) {
        if (every && g > 0 && g % every == 0) {
            /* The table must say exactly where this group starts and what comes before it. */
            uint64_t bit, value;
            if (rice_table_get(&t, g / every - 1, &bit, &value) < 0 || bit != br.pos || value != x)
                return ANPR_ECORRUPT;
            last_bit = bit;
            all_zz |= zigzag(value - t.first);
        }
        size_t cnt = n - i < MINIBLOCK ? n - i : MINIBLOCK;
        uint64_t k;
        if (get_bits(&br, 6, &k) < 0 || k > RICE_MAX_K) return ANPR_ECORRUPT;
        for (size_t j = 0; j < cnt; j++) {
            if (rice_next_checked(&br, (unsigned)k, &d[j]) < 0) return ANPR_ECORRUPT;
            x += d[j];
            v[i + j] = (int64_t)x;
        }
        if (rice_choose_k(d, cnt) != k) return ANPR_ECORRUPT;
    }
    /* delta-rice-ck2's widths are the smallest that hold its checkpoints. */
    if (id == ENC_DELTA_RICE_CK2 && (t.wb != bp_width(last_bit) || t.wv != bp_width(all_zz))) return ANPR_ECORRUPT;
    return br_finish(&br);
}

static int decode_rle(int64_t *v, size_t n, const uint8_t *src, size_t len)
{
    size_t pos = 0, filled = 0;
    int have_prev = 0;
    int64_t prev = 0;
    while (pos < len) {
        uint64_t z, run;
        if (get_varint(src, len, &pos, &z) < 0 || get_varint(src, len, &pos, &run) < 0) return ANPR_ECORRUPT;
        if (run == 0 || run > n - filled) return ANPR_ECORRUPT;
        int64_t x = (int64_t)unzigzag(z);
        /* Two runs of the same value would have been one run. */
        if (have_prev && x == prev) return ANPR_ECORRUPT;
        for (uint64_t k = 0; k < run; k++) v[filled++] = x;
        prev = x;
        have_prev = 1;
    }
    return filled == n ? 0 : ANPR_ECORRUPT;
}

int enc_int_decode(int64_t *v, size_t n, unsigned id, const uint8_t *src, size_t len)
{
    switch (id) {
    case ENC_RAW: return decode_raw(v, n, src, len);
    case ENC_DELTA_BP: return decode_delta(v, n, src, len);
    case ENC_FOR_BP: return decode_for(v, n, src, len);
    case ENC_RLE: return decode_rle(v, n, src, len);
    case ENC_FOR_BYTES: return decode_for_bytes(v, n, src, len);
    case ENC_DELTA_RICE:
    case ENC_DELTA_RICE_CK:
    case ENC_DELTA_RICE_CK2: return decode_delta_rice(v, n, id, src, len);
    case ENC_HUFF_CK: return huff_decode(v, n, src, len);
    default: return ANPR_ECORRUPT;
    }
}

/*
 * Rice-coded deltas up to the last wanted row only, starting each time from
 * the last checkpoint at or before the next wanted row; no check that k is
 * the encoder's.
 */
static int delta_rice_at(int64_t *v, const uint32_t *at, size_t nat, size_t n, unsigned id, const uint8_t *src,
                         size_t len)
{
    rice_table t;
    size_t stream_at;
    if (rice_table_open(&t, id, src, len, n, &stream_at) < 0) return ANPR_ECORRUPT;
    uint64_t x = t.first;
    size_t want = 0;
    unsigned every = rice_interval(id);
    if (at[0] == 0) v[want++] = (int64_t)x;
    bit_reader br = {src + stream_at, len - stream_at, 0};
    size_t last = at[nat - 1];
    for (size_t g = 0; want < nat && 1 + g * MINIBLOCK <= last;) {
        /* The checkpoint nearest below the next wanted row, if it lies ahead. */
        size_t target = every ? (at[want] - 1) / MINIBLOCK / every : 0;
        if (target > t.count) target = t.count;
        if (target > 0 && target * every > g) {
            if (rice_seek(&t, target - 1, &br, &x) < 0) return ANPR_ECORRUPT;
            g = target * every;
        }
        size_t i = 1 + g * MINIBLOCK, cnt = n - i < MINIBLOCK ? n - i : MINIBLOCK;
        uint64_t k;
        if (get_bits(&br, 6, &k) < 0 || k > RICE_MAX_K) return ANPR_ECORRUPT;
        /* Row i + j follows the group's first j + 1 deltas: take them through the next wanted row or the group. */
        for (size_t j = 0; want < nat && j < cnt;) {
            size_t upto = at[want] < i + cnt ? at[want] - i + 1 : cnt;
            if (rice_sum(&br, (unsigned)k, upto - j, &x) < 0) return ANPR_ECORRUPT;
            j = upto;
            if (at[want] == i + j - 1) v[want++] = (int64_t)x;
        }
        g++;
    }
    return 0;
}

static int rle_at(int64_t *v, const uint32_t *at, size_t nat, size_t n, const uint8_t *src, size_t len)
{
    size_t pos = 0, filled = 0, want = 0;
    while (want < nat) {
        uint64_t z, run;
        if (pos >= len || get_varint(src, len, &pos, &z) < 0 || get_varint(src, len, &pos, &run) < 0)
            return ANPR_ECORRUPT;
        if (run == 0 || run > n - filled) return ANPR_ECORRUPT;
        filled += run;
        while (want < nat && at[want] < filled) v[want++] = (int64_t)unzigzag(z);
    }
    return 0;
}

/* Frame of reference: walk the miniblocks' width bytes to each wanted row's miniblock, then unpack that value alone. */
static int for_at(int64_t *v, const uint32_t *at, size_t nat, size_t n, const uint8_t *src, size_t len)
{
    if (len < 8) return ANPR_ECORRUPT;
    uint64_t min = get_u64(src);
    size_t pos = 8, want = 0;
    for (size_t i = 0; i < n && want < nat; i += MINIBLOCK) {
        size_t cnt = n - i < MINIBLOCK ? n - i : MINIBLOCK, nb;
        unsigned w;
        if (miniblock_head(src, len, &pos, cnt, &w, &nb) < 0) return ANPR_ECORRUPT;
        for (; want < nat && at[want] < i + cnt; want++) {
            uint64_t u = bp_get(src + pos, nb, at[want] - i, w);
            v[want] = (int64_t)(min + u);
            if (v[want] < (int64_t)min) return ANPR_ECORRUPT;
        }
        pos += nb;
    }
    return 0;
}

/*
 * Bit-packed deltas: the miniblocks up to the last wanted row, summed as
 * they come; the rest of the column is not read (a plate lookup takes one
 * row of a mobile camera's positions, whose deltas this encoding holds).
 * No check that the widths are the smallest, as the whole decode makes.
 */
static int delta_bp_at(int64_t *v, const uint32_t *at, size_t nat, size_t n, const uint8_t *src, size_t len)
{
    if (len < 8) return ANPR_ECORRUPT;
    uint64_t x = get_u64(src), u[MINIBLOCK];
    size_t pos = 8, want = 0;
    if (at[0] == 0) v[want++] = (int64_t)x;
    /* Delta i leads from row i to row i + 1. */
    for (size_t i = 0; i + 1 < n && want < nat; i += MINIBLOCK) {
        size_t cnt = n - 1 - i < MINIBLOCK ? n - 1 - i : MINIBLOCK, nb;
        unsigned w;
        if (miniblock_head(src, len, &pos, cnt, &w, &nb) < 0 || bp_unpack(u, cnt, w, src + pos) < 0)
            return ANPR_ECORRUPT;
        for (size_t k = 0; k < cnt && want < nat; k++) {
            x += unzigzag(u[k]);
            if (at[want] == i + k + 1) v[want++] = (int64_t)x;
        }
        pos += nb;
    }
    return want == nat ? 0 : ANPR_ECORRUPT;
}

int enc_int_decode_window(int64_t *v, size_t n, unsigned id, const uint8_t *src, size_t len, int64_t lo, int64_t hi,
                          size_t *first, size_t *count)
{
    *first = *count = 0;
    if (id != ENC_DELTA_RICE_CK2) return ANPR_EINVAL; /* the caller decodes the column whole */
    if (n == 0) return len == 0 ? 0 : ANPR_ECORRUPT;
    rice_table t;
    size_t stream_at;
    if (rice_table_open(&t, id, src, len, n, &stream_at) < 0) return ANPR_ECORRUPT;
    bit_reader br = {src + stream_at, len - stream_at, 0};
    uint64_t x = t.first, k = 0;
    size_t row = 0, every = rice_interval(id);
    /* The last checkpoint whose value is below lo: every row up to it is below lo too. */
    size_t a = 0, b = t.count; /* checkpoints [0, a) are below lo, [b, count) are not */
    while (a < b) {
        size_t mid = a + (b - a) / 2;
        uint64_t bit, value;
        if (rice_table_get(&t, mid, &bit, &value) < 0) return ANPR_ECORRUPT;
        if ((int64_t)value < lo) a = mid + 1;
        else b = mid;
    }
    if (a > 0) {
        if (rice_seek(&t, a - 1, &br, &x) < 0) return ANPR_ECORRUPT;
        row = a * every * MINIBLOCK; /* the row before group a * every's first delta */
    }
    size_t nout = 0;
    for (;;) {
        if ((int64_t)x >= hi) break;
        if ((int64_t)x >= lo) {
            if (nout == 0) *first = row;
            v[nout++] = (int64_t)x;
        }
        if (++row >= n) break;
        /* The delta that makes this row is a group's first: the group's parameter comes before it. */
        if ((row - 1) % MINIBLOCK == 0 && (get_bits(&br, 6, &k) < 0 || k > RICE_MAX_K)) return ANPR_ECORRUPT;
        uint64_t d;
        if (rice_next_checked(&br, (unsigned)k, &d) < 0) return ANPR_ECORRUPT;
        /*
         * Times of one camera do not go down: a value below the one before is
         * a column out of order. Compared as the whole decode's values are
         * (a delta of 2^63 or more can still go up, from near INT64_MIN).
         */
        if ((int64_t)(x + d) < (int64_t)x) return ANPR_ECORRUPT;
        x += d;
    }
    *count = nout;
    return 0;
}

int enc_int_decode_at(int64_t *v, const uint32_t *at, size_t nat, size_t n, unsigned id, const uint8_t *src,
                      size_t len)
{
    if (nat == 0) return 0;
    if (at[nat - 1] >= n) return ANPR_EINVAL;
    switch (id) {
    case ENC_RAW:
        if (len != n * 8) return ANPR_ECORRUPT;
        for (size_t j = 0; j < nat; j++) v[j] = get_i64(src + 8 * (size_t)at[j]);
        return 0;
    case ENC_FOR_BYTES: {
        if (len != 8 + n) return ANPR_ECORRUPT;
        uint64_t min = get_u64(src);
        for (size_t j = 0; j < nat; j++) {
            v[j] = (int64_t)(min + src[8 + at[j]]);
            if (v[j] < (int64_t)min) return ANPR_ECORRUPT;
        }
        return 0;
    }
    case ENC_RLE: return rle_at(v, at, nat, n, src, len);
    case ENC_DELTA_RICE:
    case ENC_DELTA_RICE_CK:
    case ENC_DELTA_RICE_CK2: return delta_rice_at(v, at, nat, n, id, src, len);
    case ENC_DELTA_BP: return delta_bp_at(v, at, nat, n, src, len);
    case ENC_FOR_BP: return for_at(v, at, nat, n, src, len);
    case ENC_HUFF_CK: return huff_decode_at(v, at, nat, n, src, len);
    default: return ANPR_ECORRUPT;
    }
}

int enc_int_encode_best(enc_buf *out, unsigned *id, const int64_t *v, size_t n)
{
    /*
     * Keep the smallest candidate. The bit-packed ones and RLE have sizes that
     * follow from the values, so they are measured and only the winner is
     * encoded; the others are encoded after what out already holds. RLE is
     * tried only when runs are long enough to have a chance.
     */
    static const unsigned candidates[] = {ENC_DELTA_BP, ENC_FOR_BP, ENC_RLE, ENC_DELTA_RICE_CK2, ENC_HUFF_CK};
    size_t runs = n ? 1 : 0, descents = 0;
    int64_t min = n ? v[0] : 0, max = min;
    for (size_t i = 1; i < n; i++) {
        runs += v[i] != v[i - 1];
        descents += v[i] < v[i - 1];
        if (v[i] < min) min = v[i];
        if (v[i] > max) max = v[i];
    }
    size_t base = out->len, best_len = SIZE_MAX;
    unsigned best = ENC_RAW;
    int best_in_out = 0; /* out holds the best candidate's bytes (else it is encoded at the end) */
    enc_buf tmp = {0};
    for (size_t c = 0; c < sizeof candidates / sizeof candidates[0]; c++) {
        unsigned cand = candidates[c];
        if (cand == ENC_RLE && runs * 2 > n / 2 + 1) continue;
        /* Rice pays on nearly sorted values (times within cameras); elsewhere it only costs time. */
        if (cand == ENC_DELTA_RICE_CK2 && (descents > n / 64 || runs * 2 <= n)) continue;
        /* Huffman codes small-span values (confidence, lane) near their entropy; bit-packing pays whole bits. */
        if (cand == ENC_HUFF_CK && (n == 0 || (uint64_t)max - (uint64_t)min > 255)) continue;
        /* At least a bit a value: no chance when that already loses. */
        if (cand == ENC_HUFF_CK && 11 + n / 8 >= best_len) continue;
        size_t size = int_size(cand, v, n, min);
        if (size != SIZE_MAX) {
            if (size < best_len) {
                best_len = size;
                best = cand;
                best_in_out = 0;
            }
            continue;
        }
        tmp.len = 0;
        /* Huffman's size follows from the counts: it is written only when it wins. */
        int rc = cand == ENC_HUFF_CK ? huff_encode_within(&tmp, v, n, best_len) : enc_int_encode(&tmp, cand, v, n);
        if (rc == 1) continue;
        if (rc < 0) {
            enc_buf_free(&tmp);
            return rc;
        }
        if (tmp.len < best_len) {
            out->len = base;
            rc = enc_buf_append(out, tmp.data, tmp.len);
            if (rc < 0) {
                enc_buf_free(&tmp);
                return rc;
            }
            best_len = tmp.len;
            best = cand;
            best_in_out = 1;
        }
    }
    enc_buf_free(&tmp);
    if (best != ENC_RAW && !best_in_out) {
        out->len = base;
        int rc = enc_int_encode(out, best, v, n);
        if (rc < 0) return rc;
    }
    *id = best;
    return 0;
}
