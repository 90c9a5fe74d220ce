/*
 * The plate-hash index builder. Keys go into one of 256 groups by their top
 * 8 bits, each group a list of fixed-size chunks (no reallocation, no
 * copying as a day grows), and for every block the number of keys each
 * group received from it. Buckets follow keys in order (seg_bucket), so at
 * the finish a run of about 1/256 of the buckets draws its keys from one
 * group or two, and those keys, walked block by block, come in row order:
 * the counting sort that lays out the postings touches that run's counters
 * alone, which stay in cache, where a pass over all buckets at once missed
 * it on nearly every row.
 */
#include "segment/index_build.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "anpr/anpr.h"
#include "common/bytes.h"
#include "encode/bitpack.h"
#include "segment/seg_internal.h"
#include "segment/seg_layout.h"

#define GROUP_BITS 8
#define GROUPS (1u << GROUP_BITS)
#define CHUNK_KEYS 16384u
/* Up to 2^18 buckets (4 MiB of counters) are laid out in one go; larger tables about 1/256 of them at a time. */
#define SINGLE_UNIT_BITS 18

typedef struct key_group {
    uint32_t *tail, *end; /* the next free slot of the last chunk, and that chunk's end (both NULL at first) */
    uint32_t **chunks;
    size_t nchunks, chunks_cap;
} key_group;

struct index_build {
    key_group groups[GROUPS];
    uint32_t *per_block; /* [block][group]: keys the group received from the block */
    size_t blocks, blocks_cap;
};

int index_build_new(index_build **out)
{
    *out = calloc(1, sizeof **out);
    return *out ? 0 : -ENOMEM;
}

void index_build_free(index_build *ib)
{
    if (!ib) return;
    for (unsigned g = 0; g < GROUPS; g++) {
        for (size_t c = 0; c < ib->groups[g].nchunks; c++) free(ib->groups[g].chunks[c]);
        free(ib->groups[g].chunks);
    }
    free(ib->per_block);
    free(ib);
}

uint64_t index_buckets(uint64_t rows, unsigned density, int power_of_two)
{
    /* About one or two (plate, block) pairs a bucket at density 1. */
    uint64_t want = (rows + 1) / 2 * density;
    if (power_of_two) {
        unsigned bits = 0;
        while (bits < 32 && (UINT64_C(1) << bits) < want) bits++;
        return UINT64_C(1) << bits;
    }
    return want < 1 ? 1 : want > UINT32_MAX ? UINT32_MAX : want;
}

/* A new chunk at the end of a full group. */
static int group_grow(key_group *g)
{
    if (g->nchunks == g->chunks_cap) {
        size_t ncap = g->chunks_cap ? g->chunks_cap * 2 : 8;
        uint32_t **nc = realloc(g->chunks, ncap * sizeof *nc);
        if (!nc) return -ENOMEM;
        g->chunks = nc;
        g->chunks_cap = ncap;
    }
    uint32_t *c = malloc(CHUNK_KEYS * sizeof *c);
    if (!c) return -ENOMEM;
    g->chunks[g->nchunks++] = c;
    g->tail = c;
    g->end = c + CHUNK_KEYS;
    return 0;
}

int index_build_add(index_build *ib, uint32_t key, uint32_t block)
{
    if (block >= ib->blocks) {
        if (block >= ib->blocks_cap) {
            size_t ncap = ib->blocks_cap ? ib->blocks_cap * 2 : 64;
            while (ncap <= block) ncap *= 2;
            uint32_t *np = realloc(ib->per_block, ncap * GROUPS * sizeof *np);
            if (!np) return -ENOMEM;
            ib->per_block = np;
            ib->blocks_cap = ncap;
        }
        memset(ib->per_block + ib->blocks * GROUPS, 0, (block + 1 - ib->blocks) * GROUPS * sizeof *ib->per_block);
        ib->blocks = block + 1;
    }
    unsigned group = key >> (32 - GROUP_BITS);
    key_group *g = &ib->groups[group];
    if (g->tail == g->end) {
        int rc = group_grow(g);
        if (rc < 0) return rc;
    }
    *g->tail++ = key;
    ib->per_block[(size_t)block * GROUPS + group]++;
    return 0;
}

/* Per bucket of the unit being laid out. */
typedef struct bucket_fill {
    uint32_t n;     /* postings so far (counting), or the next free slot (filling) */
    uint32_t last;  /* the last block added, or UINT32_MAX */
} bucket_fill;

/* A run of buckets laid out together, and the key groups that hold their keys. */
typedef struct unit {
    const index_build *ib;
    uint64_t nb;        /* buckets in the whole table */
    unsigned g0, g1;    /* key groups [g0, g1) */
    uint64_t first;     /* first bucket of the unit */
    size_t n;           /* buckets in the unit */
    bucket_fill *fill;
    uint16_t *post;     /* NULL while counting */
} unit;

/*
 * Walk the unit's keys in row order (block by block, then group by group)
 * and count or place postings. The groups at the ends of the unit also
 * hold keys of the units beside it, which are passed over.
 */
static size_t walk(unit *u)
{
    size_t np = 0;
    uint64_t pos[GROUPS];
    memset(pos, 0, sizeof pos);
    for (uint32_t blk = 0; blk < u->ib->blocks; blk++) {
        const uint32_t *cnt = u->ib->per_block + (size_t)blk * GROUPS;
        for (unsigned g = u->g0; g < u->g1; g++) {
            const key_group *kg = &u->ib->groups[g];
            for (uint32_t k = 0; k < cnt[g]; k++, pos[g]++) {
                uint32_t key = kg->chunks[pos[g] / CHUNK_KEYS][pos[g] % CHUNK_KEYS];
                uint64_t b = seg_bucket(key, u->nb) - u->first; /* wraps above the unit when below it */
                if (b >= u->n) continue;
                bucket_fill *f = &u->fill[b];
                if (f->last == blk) continue;
                f->last = blk;
                if (u->post) u->post[f->n] = (uint16_t)blk;
                f->n++;
                np++;
            }
        }
    }
    return np;
}

/* The smallest key in bucket b or after it, of a table of nb buckets (b < nb). */
static uint64_t first_key(uint64_t b, uint64_t nb)
{
    /* b < nb <= 2^32, so neither the shift nor the sum overflows. */
    return ((b << 32) + nb - 1) / nb;
}

/*
 * Encode buckets [from, from + pb) of the unit as one page into out, as
 * formats 1 to 6 lay it out: the counts in unary (a bucket with c postings
 * is c one bits and a zero bit: about 2.2 bits a bucket where a fixed width
 * took 3 or 4), then the postings at the width of the largest block number.
 */
static int encode_page_unary(enc_buf *out, const uint32_t *count, const uint32_t *start, const uint16_t *post,
                             size_t from, size_t pb, uint32_t blocks, uint64_t *tmp, size_t *np_out)
{
    unsigned post_width = bp_width(blocks ? blocks - 1 : 0);
    size_t pp = 0;
    for (size_t b = from; b < from + pb; b++) pp += count[b];
    out->len = 0;
    uint8_t h[SEG_PAGE_HEADER] = {0};
    put_u32(h, (uint32_t)pb);
    put_u32(h + 4, (uint32_t)pp);
    h[9] = (uint8_t)post_width;
    int rc = enc_buf_append(out, h, sizeof h);
    bit_writer bw = {out, 0, 0};
    for (size_t b = from; rc == 0 && b < from + pb; b++) {
        uint32_t c = count[b];
        while (rc == 0 && c >= 31) {
            rc = bw_put(&bw, UINT32_C(0x7fffffff), 31);
            c -= 31;
        }
        /* c ones, then the zero that ends the bucket. */
        if (rc == 0) rc = bw_put(&bw, (UINT64_C(1) << c) - 1, c + 1);
    }
    if (rc == 0) rc = bw_finish(&bw);
    size_t k = 0;
    for (size_t b = from; b < from + pb; b++)
        for (uint32_t j = 0; j < count[b]; j++) tmp[k++] = post[start[b] + j];
    if (rc == 0) rc = bp_pack(out, tmp, pp, post_width);
    *np_out = pp;
    return rc;
}

/* d as a Rice code: d >> k one bits, a zero bit, then the low k bits of d. */
static int rice_put(bit_writer *bw, uint64_t d, unsigned k)
{
    int rc = 0;
    uint64_t q = d >> k;
    while (rc == 0 && q >= 31) {
        rc = bw_put(bw, UINT32_C(0x7fffffff), 31);
        q -= 31;
    }
    if (rc == 0) rc = bw_put(bw, (UINT64_C(1) << q) - 1, (unsigned)q + 1);
    if (rc == 0 && k) rc = bw_put(bw, d & ((UINT64_C(1) << k) - 1), k);
    return rc;
}

/*
 * The same page as format 7 lays it out (docs/format.md): each posting is
 * the value bucket-in-page * blocks + block, and the values, in increasing
 * order, are Rice-coded as gaps, the gaps restarting at each group of
 * `group` buckets so that a probe decodes one group. Gaps between
 * uniformly hashed keys are near-geometric, so this stores a posting in
 * about log2(buckets * blocks / postings) + 1.5 bits, against the unary
 * layout's block width plus 1.5 bits of counts: a bit a posting less on a
 * national day.
 */
static int encode_page_rice(enc_buf *out, const uint32_t *count, const uint32_t *start, const uint16_t *post,
                            size_t from, size_t pb, size_t group, uint32_t blocks, uint64_t *gap, size_t *np_out)
{
    size_t ngroups = (pb + group - 1) / group, pp = 0;
    uint64_t sum = 0;
    for (size_t g = 0; g < ngroups; g++) {
        /* The smallest value the group's next posting can take. */
        uint64_t next = (uint64_t)g * group * blocks;
        size_t b1 = (g + 1) * group < pb ? (g + 1) * group : pb;
        for (size_t b = g * group; b < b1; b++) {
            for (uint32_t j = 0; j < count[from + b]; j++) {
                uint64_t v = (uint64_t)b * blocks + post[start[from + b] + j];
                gap[pp++] = v - next;
                sum += v - next;
                next = v + 1;
            }
        }
    }
    /* k near log2 of the mean gap: the cheapest of four (one pass), never over SEG_RICE_MAX_K. */
    unsigned mid = pp && sum / pp ? bp_width(sum / pp) - 1 : 0, k0 = mid > 2 ? mid - 2 : 0, k = k0;
    uint64_t quot[4] = {0, 0, 0, 0};
    for (size_t i = 0; i < pp; i++)
        for (unsigned c = 0; c < 4; c++) quot[c] += gap[i] >> (k0 + c);
    uint64_t best = UINT64_MAX;
    for (unsigned c = 0; c < 4 && k0 + c <= SEG_RICE_MAX_K; c++) {
        uint64_t bits = quot[c] + (uint64_t)pp * (k0 + c + 1);
        if (bits < best) {
            best = bits;
            k = k0 + c;
        }
    }
    unsigned ob = best < 65536 ? 2 : 4;
    out->len = 0;
    uint8_t h[SEG_PAGE_HEADER] = {0};
    put_u32(h, (uint32_t)pb);
    put_u32(h + 4, (uint32_t)pp);
    h[8] = (uint8_t)k;
    h[9] = (uint8_t)ob;
    put_u16(h + 10, (uint16_t)group);
    int rc = enc_buf_append(out, h, sizeof h);
    /* Each group's end, a bit position in the codes: room now, filled in as the codes are written. */
    size_t ends_at = out->len, codes_at = ends_at + ngroups * ob, at = 0;
    if (rc == 0) rc = enc_buf_reserve(out, ngroups * ob);
    if (rc == 0) out->len = codes_at;
    bit_writer bw = {out, 0, 0};
    for (size_t g = 0; rc == 0 && g < ngroups; g++) {
        size_t b1 = (g + 1) * group < pb ? (g + 1) * group : pb, n = 0;
        for (size_t b = g * group; b < b1; b++) n += count[from + b];
        for (size_t i = at; rc == 0 && i < at + n; i++) rc = rice_put(&bw, gap[i], k);
        at += n;
        uint8_t e[4];
        put_u32(e, (uint32_t)(8 * (out->len - codes_at) + bw.bits));
        memcpy(out->data + ends_at + g * ob, e, ob);
    }
    if (rc == 0) rc = bw_finish(&bw);
    *np_out = pp;
    return rc;
}

int index_build_finish(index_build *ib, uint32_t blocks, uint64_t nb, const index_layout *lay,
                       int (*emit)(void *ctx, enc_buf *page), void *ctx, uint64_t *postings)
{
    *postings = 0;
    if (ib->blocks > blocks || nb < 1 || nb > UINT64_C(1) << 32) return ANPR_EINVAL;
    /*
     * A unit is a run of buckets: all of them up to 2^SINGLE_UNIT_BITS, else
     * about 1/256 of them, in whole pages (pages never straddle units).
     */
    size_t unit_nb = (size_t)nb;
    if (nb > UINT64_C(1) << SINGLE_UNIT_BITS) {
        uint64_t per = (nb + GROUPS - 1) / GROUPS;
        unit_nb = (size_t)((per + lay->page_buckets - 1) / lay->page_buckets * lay->page_buckets);
    }
    bucket_fill *fill = malloc(unit_nb * sizeof *fill);
    uint32_t *count = malloc(unit_nb * sizeof *count), *start = malloc(unit_nb * sizeof *start);
    uint64_t *tmp = NULL;
    uint16_t *post = NULL;
    size_t post_cap = 0, tmp_cap = 0;
    enc_buf page = {0};
    int rc = fill && count && start ? 0 : -ENOMEM;
    for (uint64_t first = 0; rc == 0 && first < nb; first += unit_nb) {
        size_t n = nb - first < unit_nb ? (size_t)(nb - first) : unit_nb;
        uint64_t end_key = first + n < nb ? first_key(first + n, nb) : UINT64_C(1) << 32;
        unit u = {ib, nb, (unsigned)(first_key(first, nb) >> (32 - GROUP_BITS)),
                  (unsigned)((end_key - 1) >> (32 - GROUP_BITS)) + 1, first, n, fill, NULL};
        for (size_t b = 0; b < n; b++) fill[b] = (bucket_fill){0, UINT32_MAX};
        size_t np = walk(&u);
        if (np > post_cap) {
            free(post);
            post = malloc(np * sizeof *post);
            post_cap = post ? np : 0;
            if (!post) {
                rc = -ENOMEM;
                break;
            }
        }
        size_t off = 0;
        for (size_t b = 0; b < n; b++) {
            start[b] = (uint32_t)off;
            count[b] = fill[b].n;
            off += fill[b].n;
            fill[b] = (bucket_fill){start[b], UINT32_MAX};
        }
        u.post = post;
        walk(&u);
        for (size_t from = 0; rc == 0 && from < n; from += lay->page_buckets) {
            size_t pb = n - from < lay->page_buckets ? n - from : lay->page_buckets;
            size_t pp = 0;
            for (size_t b = from; b < from + pb; b++) pp += count[b];
            size_t need = pb > pp ? pb : pp;
            if (need > tmp_cap) {
                free(tmp);
                tmp = malloc((need ? need : 1) * sizeof *tmp);
                tmp_cap = tmp ? need : 0;
                if (!tmp) {
                    rc = -ENOMEM;
                    break;
                }
            }
            rc = lay->group_buckets
                     ? encode_page_rice(&page, count, start, post, from, pb, lay->group_buckets, blocks, tmp, &pp)
                     : encode_page_unary(&page, count, start, post, from, pb, blocks, tmp, &pp);
            if (rc == 0) rc = emit(ctx, &page);
            *postings += pp;
        }
    }
    enc_buf_free(&page);
    free(fill);
    free(count);
    free(start);
    free(post);
    free(tmp);
    return rc;
}
