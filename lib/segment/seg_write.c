/*
 * Writing a segment: rows in, blocks of column chunks out, then the
 * plate-hash index pages, the block directory and the footer.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "anpr/anpr.h"
#include "common/bytes.h"
#include "common/hash.h"
#include "encode/bitpack.h"
#include "encode/encode.h"
#include "read/read.h"
#include "segment/seg_internal.h"
#include "segment/seg_layout.h"
#include "segment/segment.h"

struct seg_writer {
    anpr_sink *sink;
    anpr_errmsg_buf *err;
    int32_t day;
    int level;
    uint32_t block_rows;
    anpr_row *block;          /* rows of the block being filled */
    size_t nblock;
    anpr_row last;            /* the last row added, for the order check */
    uint64_t rows;
    int64_t min_ts, max_ts;
    uint32_t *keys;           /* plate key of every row, for the index */
    size_t keys_cap;
    enc_buf dir;              /* block directory, built as blocks are written */
    uint32_t blocks;
    enc_buf enc, comp;        /* scratch for one chunk */
    enc_buf alt_enc, alt_comp; /* scratch for a second candidate form of it */
    int64_t *values;          /* scratch: one column widened */
    ZSTD_CCtx *cctx;
    int failed;
};

static int row_order(const anpr_row *a, const anpr_row *b)
{
    if (a->camera != b->camera) return a->camera < b->camera ? -1 : 1;
    if (a->ts_ms != b->ts_ms) return a->ts_ms < b->ts_ms ? -1 : 1;
    return strncmp(a->plate, b->plate, sizeof a->plate);
}

int seg_writer_new(seg_writer **out, anpr_sink *sink, int32_t day, int zstd_level, uint32_t block_rows,
                   anpr_errmsg_buf *err)
{
    *out = NULL;
    if (block_rows == 0) block_rows = SEG_BLOCK_ROWS_DEFAULT;
    if (block_rows > SEG_BLOCK_ROWS_MAX || sink->off != 0 || day < 0)
        return anpr_fail(err, ANPR_EINVAL, "segment writer: bad arguments");
    seg_writer *w = calloc(1, sizeof *w);
    if (!w) return -ENOMEM;
    w->sink = sink;
    w->err = err;
    w->day = day;
    w->level = zstd_level;
    w->block_rows = block_rows;
    w->min_ts = INT64_MAX;
    w->max_ts = INT64_MIN;
    w->block = malloc(block_rows * sizeof *w->block);
    w->values = malloc(block_rows * sizeof *w->values);
    w->cctx = ZSTD_createCCtx();
    if (!w->block || !w->values || !w->cctx) {
        seg_writer_free(w);
        return -ENOMEM;
    }
    uint8_t h[SEG_HEADER_SIZE] = {0};
    memcpy(h, SEG_MAGIC, 8);
    put_u16(h + 8, SEG_FORMAT_VERSION);
    int rc = anpr_sink_write(sink, h, sizeof h);
    if (rc < 0) {
        seg_writer_free(w);
        return anpr_fail(err, rc, "segment: write: %s", anpr_strerror(rc));
    }
    *out = w;
    return ANPR_OK;
}

/* zstd-compress w->enc into w->comp; return the bytes the chunk will take (the smaller form). */
static int compress_chunk(seg_writer *w, size_t *stored)
{
    w->comp.len = 0;
    *stored = w->enc.len;
    if (w->enc.len == 0) return 0;
    int rc = enc_zstd_compress(&w->comp, w->cctx, w->level, w->enc.data, w->enc.len);
    if (rc < 0) return rc;
    if (w->comp.len < *stored) *stored = w->comp.len;
    return 0;
}

/*
 * Write the chunk in w->enc (compressed in w->comp already if compressed is
 * set) and record it in the directory entry at e: zstd's form when smaller.
 */
static int write_chunk_prepared(seg_writer *w, uint8_t *e, unsigned encoding, int compressed)
{
    size_t stored;
    if (!compressed) {
        int rc = compress_chunk(w, &stored);
        if (rc < 0) return rc;
    }
    const uint8_t *data = w->enc.data;
    size_t len = w->enc.len;
    uint8_t compression = SEG_STORED;
    if (len > 0 && w->comp.len < len) {
        data = w->comp.data;
        len = w->comp.len;
        compression = SEG_ZSTD;
    }
    put_u64(e + CE_OFFSET, w->sink->off);
    put_u32(e + CE_STORED, (uint32_t)len);
    put_u32(e + CE_ENCODED, (uint32_t)w->enc.len);
    e[CE_ENCODING] = (uint8_t)encoding;
    e[CE_COMPRESSION] = compression;
    /* The checksum lives here, in the parent, so a misdirected write cannot vouch for itself. */
    put_u64(e + CE_CHECKSUM, anpr_checksum(data, len));
    int rc = anpr_sink_write(w->sink, data, len);
    if (rc < 0) return anpr_fail(w->err, rc, "segment: write: %s", anpr_strerror(rc));
    return 0;
}

static int write_chunk(seg_writer *w, uint8_t *e, unsigned encoding)
{
    return write_chunk_prepared(w, e, encoding, 0);
}

/*
 * An integer column: the light encoding that comes out smallest, and when
 * the values fit a byte each, the byte form too if it is smaller after zstd
 * (its Huffman stage codes skewed bytes such as OCR confidence near their
 * entropy, which bit-packed values straddling bytes defeat). Only measuring
 * tells which wins, so both are compressed when the byte form is a contender.
 */
static int write_int_column(seg_writer *w, uint8_t *e, size_t n)
{
    unsigned encoding;
    w->enc.len = 0;
    int rc = enc_int_encode_best(&w->enc, &encoding, w->values, n);
    if (rc < 0) return rc;
    if (encoding == ENC_RLE || !enc_for_bytes_contender(w->values, n, w->enc.len)) return write_chunk(w, e, encoding);
    size_t best;
    rc = compress_chunk(w, &best);
    enc_buf keep_enc = w->enc, keep_comp = w->comp;
    w->enc = w->alt_enc;
    w->comp = w->alt_comp;
    w->enc.len = 0;
    size_t alt = SIZE_MAX;
    if (rc == 0) rc = enc_int_encode(&w->enc, ENC_FOR_BYTES, w->values, n);
    if (rc == 0) rc = compress_chunk(w, &alt);
    if (rc == 0 && alt < best) {
        /* Keep the byte form in w->enc; the other pair becomes the spare. */
        w->alt_enc = keep_enc;
        w->alt_comp = keep_comp;
        return write_chunk_prepared(w, e, ENC_FOR_BYTES, 1);
    }
    w->alt_enc = w->enc;
    w->alt_comp = w->comp;
    w->enc = keep_enc;
    w->comp = keep_comp;
    return rc < 0 ? rc : write_chunk_prepared(w, e, encoding, 1);
}

static int write_block(seg_writer *w)
{
    size_t n = w->nblock;
    if (n == 0) return 0;
    if (w->blocks == SEG_MAX_BLOCKS)
        return anpr_fail(w->err, ANPR_EINVAL, "segment: more than %u blocks", SEG_MAX_BLOCKS);
    int rc = enc_buf_reserve(&w->dir, SEG_BLOCK_ENTRY);
    if (rc < 0) return rc;
    uint8_t *e = w->dir.data + w->dir.len;
    memset(e, 0, SEG_BLOCK_ENTRY);
    int64_t tmin = INT64_MAX, tmax = INT64_MIN;
    uint32_t cmin = UINT32_MAX, cmax = 0;
    int32_t lat_min = INT32_MAX, lat_max = INT32_MIN, lon_min = INT32_MAX, lon_max = INT32_MIN;
    int any_pos = 0;
    for (size_t i = 0; i < n; i++) {
        const anpr_row *r = &w->block[i];
        if (r->ts_ms < tmin) tmin = r->ts_ms;
        if (r->ts_ms > tmax) tmax = r->ts_ms;
        if (r->camera < cmin) cmin = r->camera;
        if (r->camera > cmax) cmax = r->camera;
        if (r->lat_e7 != ANPR_POS_UNKNOWN) {
            any_pos = 1;
            if (r->lat_e7 < lat_min) lat_min = r->lat_e7;
            if (r->lat_e7 > lat_max) lat_max = r->lat_e7;
            if (r->lon_e7 < lon_min) lon_min = r->lon_e7;
            if (r->lon_e7 > lon_max) lon_max = r->lon_e7;
        }
    }
    if (!any_pos) lat_min = lat_max = lon_min = lon_max = ANPR_POS_UNKNOWN;
    put_u64(e + BD_FIRST_ROW, w->rows - n);
    put_u32(e + BD_ROWS, (uint32_t)n);
    put_i64(e + BD_MIN_TS, tmin);
    put_i64(e + BD_MAX_TS, tmax);
    put_u32(e + BD_CAM_MIN, cmin);
    put_u32(e + BD_CAM_MAX, cmax);
    put_i32(e + BD_LAT_MIN, lat_min);
    put_i32(e + BD_LAT_MAX, lat_max);
    put_i32(e + BD_LON_MIN, lon_min);
    put_i32(e + BD_LON_MAX, lon_max);
    for (unsigned col = 0; col < SEG_NCOLUMNS; col++) {
        uint8_t *ce = e + BD_COLUMNS + col * SEG_COLUMN_ENTRY;
        if (col == SEG_COL_PLATE) {
            w->enc.len = 0;
            rc = enc_plate_encode(&w->enc, ENC_PLATE_UK, w->block, n);
            if (rc == 0) rc = write_chunk(w, ce, ENC_PLATE_UK);
        } else {
            seg_column_values(w->values, w->block, n, col);
            rc = write_int_column(w, ce, n);
        }
        if (rc < 0) return rc;
    }
    w->dir.len += SEG_BLOCK_ENTRY;
    w->blocks++;
    w->nblock = 0;
    return 0;
}

int seg_writer_add(seg_writer *w, const anpr_row *rows, size_t n)
{
    if (w->failed) return w->failed;
    if (w->keys_cap - w->rows < n) {
        size_t ncap = w->keys_cap ? w->keys_cap : 4096;
        while (ncap - w->rows < n) ncap *= 2;
        uint32_t *nk = realloc(w->keys, ncap * sizeof *nk);
        if (!nk) return -ENOMEM;
        w->keys = nk;
        w->keys_cap = ncap;
    }
    for (size_t i = 0; i < n; i++) {
        const anpr_row *r = &rows[i];
        if (r->ts_ms < 0 || anpr_day_of(r->ts_ms) != w->day)
            return w->failed = anpr_fail(w->err, ANPR_EINVAL, "segment: row of another day");
        if (w->rows > 0 && row_order(&w->last, r) >= 0)
            return w->failed = anpr_fail(w->err, ANPR_EINVAL, "segment: rows out of order or repeated");
        w->block[w->nblock] = *r;
        /* Zero the plate's padding so chunks depend only on the plate text. */
        size_t len = strnlen(r->plate, sizeof r->plate);
        memset(w->block[w->nblock].plate + len, 0, sizeof r->plate - len);
        w->nblock++;
        w->last = *r;
        w->keys[w->rows++] = seg_plate_key(r->plate);
        if (r->ts_ms < w->min_ts) w->min_ts = r->ts_ms;
        if (r->ts_ms > w->max_ts) w->max_ts = r->ts_ms;
        if (w->nblock == w->block_rows) {
            int rc = write_block(w);
            if (rc < 0) return w->failed = rc;
        }
    }
    return 0;
}

/*
 * The plate-hash index: 2^bits buckets, about one (plate, block) pair a
 * bucket; each bucket lists, in increasing order, the distinct blocks
 * holding a row whose key falls in it. Stored in pages of SEG_PAGE_BUCKETS
 * buckets so a probe reads one small page: the bucket counts, then the
 * postings, each bit-packed at the width its largest value needs
 * (docs/format.md, "Index pages").
 */
static unsigned index_bits(uint64_t rows)
{
    unsigned bits = 0;
    while (bits < 32 && (UINT64_C(1) << bits) < (rows + 1) / 2) bits++;
    return bits;
}

/* Buckets handled in one pass over the keys: bounds the index build's memory whatever the day's size. */
typedef struct bucket_fill {
    uint32_t n;     /* postings so far (counting), or the next free slot (filling) */
    uint16_t last;  /* the last block added; 0xffff before any (block ids stop at 65534) */
} bucket_fill;

#define INDEX_PASS_BUCKETS (UINT32_C(1) << 20)

/* Encode one page (buckets [first, first + pb) of the pass that starts at pass_first) into w->enc. */
static int encode_page(seg_writer *w, const uint32_t *count, const uint32_t *start, const uint16_t *post,
                       size_t first, size_t pb, unsigned post_width, size_t *np_out)
{
    size_t pp = 0;
    uint32_t maxc = 0;
    for (size_t b = first; b < first + pb; b++) {
        pp += count[b];
        if (count[b] > maxc) maxc = count[b];
    }
    unsigned cw = bp_width(maxc);
    w->enc.len = 0;
    uint8_t h[SEG_PAGE_HEADER] = {0};
    put_u32(h, (uint32_t)pb);
    put_u32(h + 4, (uint32_t)pp);
    h[8] = (uint8_t)cw;
    h[9] = (uint8_t)post_width;
    int rc = enc_buf_append(&w->enc, h, sizeof h);
    uint64_t *tmp = malloc((pb > pp ? pb : pp ? pp : 1) * sizeof *tmp);
    if (!tmp) return -ENOMEM;
    for (size_t b = 0; b < pb; b++) tmp[b] = count[first + b];
    if (rc == 0) rc = bp_pack(&w->enc, tmp, pb, cw);
    size_t k = 0;
    for (size_t b = first; b < first + pb; b++)
        for (uint32_t j = 0; j < count[b]; j++) tmp[k++] = post[start[b] + j];
    if (rc == 0) rc = bp_pack(&w->enc, tmp, pp, post_width);
    free(tmp);
    *np_out = pp;
    return rc;
}

static int write_index(seg_writer *w, enc_buf *pagedir, unsigned *bits_out, uint64_t *postings_out,
                       uint64_t *index_bytes)
{
    unsigned bits = index_bits(w->rows);
    size_t nb = (size_t)1 << bits;
    size_t pass = nb < INDEX_PASS_BUCKETS ? nb : INDEX_PASS_BUCKETS;
    unsigned post_width = bp_width(w->blocks ? w->blocks - 1 : 0);
    /*
     * Per pass, for each of its buckets: where its postings start, how many
     * it has so far and the last block added (one cache line serves all
     * three), and the pass's postings.
     */
    bucket_fill *fill = malloc(pass * sizeof *fill);
    uint32_t *count = malloc(pass * sizeof *count), *start = malloc(pass * sizeof *start);
    uint16_t *post = NULL;
    size_t post_cap = 0;
    int rc = (fill && count && start) ? 0 : -ENOMEM;
    uint64_t np_total = 0, start_off = w->sink->off;
    unsigned shift = 32 - bits;
    for (size_t lo = 0; rc == 0 && lo < nb; lo += pass) {
        /* Count, deduplicating against the last block seen: rows arrive in block order. */
        for (size_t b = 0; b < pass; b++) fill[b] = (bucket_fill){0, 0xffff};
        size_t np = 0;
        for (uint64_t first = 0, blk = 0; first < w->rows; first += w->block_rows, blk++) {
            uint64_t end = first + w->block_rows < w->rows ? first + w->block_rows : w->rows;
            for (uint64_t i = first; i < end; i++) {
                size_t b = (bits ? w->keys[i] >> shift : 0) - lo;
                if (b < pass && fill[b].last != blk) {
                    fill[b].last = (uint16_t)blk;
                    fill[b].n++;
                    np++;
                }
            }
        }
        if (np > post_cap) {
            free(post);
            post_cap = np;
            post = malloc(post_cap * sizeof *post);
            if (!post) {
                rc = -ENOMEM;
                break;
            }
        }
        size_t off = 0;
        for (size_t b = 0; b < pass; b++) {
            start[b] = (uint32_t)off;
            count[b] = fill[b].n;
            off += fill[b].n;
            fill[b] = (bucket_fill){(uint32_t)start[b], 0xffff};
        }
        /* Fill: fill[b].n is now the next free slot of bucket b. */
        for (uint64_t first = 0, blk = 0; first < w->rows; first += w->block_rows, blk++) {
            uint64_t end = first + w->block_rows < w->rows ? first + w->block_rows : w->rows;
            for (uint64_t i = first; i < end; i++) {
                size_t b = (bits ? w->keys[i] >> shift : 0) - lo;
                if (b < pass && fill[b].last != blk) {
                    fill[b].last = (uint16_t)blk;
                    post[fill[b].n++] = (uint16_t)blk;
                }
            }
        }
        for (size_t first = 0; rc == 0 && first < pass; first += SEG_PAGE_BUCKETS) {
            size_t pb = pass - first < SEG_PAGE_BUCKETS ? pass - first : SEG_PAGE_BUCKETS, pp;
            rc = encode_page(w, count, start, post, first, pb, post_width, &pp);
            if (rc == 0) rc = enc_buf_reserve(pagedir, SEG_PAGE_ENTRY);
            if (rc < 0) break;
            uint8_t *e = pagedir->data + pagedir->len;
            memset(e, 0, SEG_PAGE_ENTRY);
            /* A page entry has the layout of a column entry; its encoding byte is always 0. */
            rc = write_chunk(w, e, 0);
            pagedir->len += SEG_PAGE_ENTRY;
            np_total += pp;
        }
    }
    *index_bytes = w->sink->off - start_off;
    free(fill);
    free(count);
    free(start);
    free(post);
    *bits_out = bits;
    *postings_out = np_total;
    return rc;
}

int seg_writer_finish(seg_writer *w, seg_write_summary *out)
{
    if (w->failed) return w->failed;
    int rc = write_block(w);
    enc_buf pagedir = {0};
    unsigned bits = 0;
    uint64_t postings = 0, index_bytes = 0;
    if (rc == 0) rc = write_index(w, &pagedir, &bits, &postings, &index_bytes);
    uint64_t pagedir_off = w->sink->off;
    if (rc == 0) rc = anpr_sink_write(w->sink, pagedir.data, pagedir.len);
    uint64_t dir_off = w->sink->off;
    if (rc == 0) rc = anpr_sink_write(w->sink, w->dir.data, w->dir.len);
    if (rc == 0) {
        uint8_t f[SEG_FOOTER_SIZE] = {0};
        memcpy(f + FT_MAGIC, SEG_FOOTER_MAGIC, 8);
        put_u16(f + FT_VERSION, SEG_FORMAT_VERSION);
        put_i32(f + FT_DAY, w->day);
        put_u64(f + FT_ROWS, w->rows);
        put_u32(f + FT_BLOCKS, w->blocks);
        put_u32(f + FT_BLOCK_ROWS, w->block_rows);
        put_i64(f + FT_MIN_TS, w->rows ? w->min_ts : 0);
        put_i64(f + FT_MAX_TS, w->rows ? w->max_ts : 0);
        put_u64(f + FT_DIR_OFF, dir_off);
        put_u32(f + FT_DIR_LEN, (uint32_t)w->dir.len);
        put_u32(f + FT_PAGE_BUCKETS, SEG_PAGE_BUCKETS);
        put_u64(f + FT_DIR_SUM, anpr_checksum(w->dir.data, w->dir.len));
        put_u64(f + FT_PAGEDIR_OFF, pagedir_off);
        put_u32(f + FT_PAGEDIR_LEN, (uint32_t)pagedir.len);
        put_u32(f + FT_BUCKET_BITS, bits);
        put_u64(f + FT_PAGEDIR_SUM, anpr_checksum(pagedir.data, pagedir.len));
        put_u64(f + FT_POSTINGS, postings);
        put_u64(f + FT_INDEX_BYTES, index_bytes + pagedir.len);
        put_u64(f + FT_SUM, anpr_checksum(f, FT_SUM));
        rc = anpr_sink_write(w->sink, f, sizeof f);
    }
    enc_buf_free(&pagedir);
    if (rc < 0) {
        w->failed = rc;
        if (rc != -ENOMEM && rc != ANPR_EINVAL) anpr_fail(w->err, rc, "segment: write: %s", anpr_strerror(rc));
        return rc;
    }
    if (out) {
        out->rows = w->rows;
        out->blocks = w->blocks;
        out->bytes = w->sink->off;
        out->min_ts_ms = w->rows ? w->min_ts : 0;
        out->max_ts_ms = w->rows ? w->max_ts : 0;
    }
    return 0;
}

void seg_writer_free(seg_writer *w)
{
    if (!w) return;
    free(w->block);
    free(w->values);
    free(w->keys);
    enc_buf_free(&w->dir);
    enc_buf_free(&w->enc);
    enc_buf_free(&w->comp);
    enc_buf_free(&w->alt_enc);
    enc_buf_free(&w->alt_comp);
    ZSTD_freeCCtx(w->cctx);
    free(w);
}
