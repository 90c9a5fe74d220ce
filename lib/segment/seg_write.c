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
#include "segment/index_build.h"
#include "segment/seg_internal.h"
#include "segment/seg_layout.h"
#include "segment/segment.h"

struct seg_writer {
    anpr_sink *sink;
    enc_buf pending;          /* bytes not yet written; they start at sink->off */
    anpr_errmsg_buf *err;
    int32_t day;
    int level;
    uint32_t block_rows;
    anpr_row *block;          /* rows of the block being filled */
    size_t nblock;
    anpr_row last;            /* the last row added, for the order check */
    uint64_t rows;
    int64_t min_ts, max_ts;
    index_build *index;       /* plate keys of the rows so far */
    unsigned version;         /* the format written: SEG_FORMAT_VERSION but in tests */
    unsigned index_density;   /* index buckets for every two rows */
    enc_buf dir;              /* block directory, built as blocks are written */
    uint32_t blocks;
    enc_buf enc, comp;        /* scratch for one chunk */
    int64_t *values;          /* scratch: one column widened */
    ZSTD_CCtx *cctx;
    int failed;
};

/* Where the next byte goes in the file. */
static uint64_t position(const seg_writer *w)
{
    return w->sink->off + w->pending.len;
}

/* Write out what is pending. Returns 0 or -errno. */
static int flush_pending(seg_writer *w)
{
    int rc = anpr_sink_write(w->sink, w->pending.data, w->pending.len);
    if (rc == 0) w->pending.len = 0;
    return rc;
}

/* Append n bytes to the file, writing each piece as it fills. Returns 0 or -errno. */
static int put_bytes(seg_writer *w, const void *p, size_t n)
{
    const uint8_t *b = p;
    if (w->pending.cap < SEG_WRITE_PIECE && enc_buf_reserve(&w->pending, SEG_WRITE_PIECE - w->pending.len) < 0)
        return -ENOMEM;
    while (n > 0) {
        size_t take = SEG_WRITE_PIECE - w->pending.len;
        if (take > n) take = n;
        memcpy(w->pending.data + w->pending.len, b, take);
        w->pending.len += take;
        b += take;
        n -= take;
        if (w->pending.len == SEG_WRITE_PIECE) {
            int rc = flush_pending(w);
            if (rc < 0) return rc;
        }
    }
    return 0;
}

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
    w->version = SEG_FORMAT_VERSION;
    w->index_density = 1;
    w->block_rows = block_rows;
    w->min_ts = INT64_MAX;
    w->max_ts = INT64_MIN;
    w->block = malloc(block_rows * sizeof *w->block);
    w->values = malloc(block_rows * sizeof *w->values);
    w->cctx = ZSTD_createCCtx();
    if (!w->block || !w->values || !w->cctx || index_build_new(&w->index) < 0) {
        seg_writer_free(w);
        return -ENOMEM;
    }
    uint8_t h[SEG_HEADER_SIZE] = {0};
    memcpy(h, SEG_MAGIC, 8);
    put_u16(h + 8, SEG_FORMAT_VERSION);
    int rc = put_bytes(w, h, sizeof h);
    if (rc < 0) {
        seg_writer_free(w);
        return rc;
    }
    *out = w;
    return ANPR_OK;
}

/*
 * Is a zstd frame of comp bytes worth keeping over len encoded bytes? Only
 * if it saves an eighth: every query that reads the chunk pays for the
 * decompression (a plate lookup decompresses each column of every block it
 * reads), and on the lane and position columns zstd saved 5 %. Columns that
 * zstd's Huffman stage used to shrink (confidence) are Huffman-coded by
 * huffman-ck, which a lookup decodes from a checkpoint.
 */
static int zstd_worth(size_t comp, size_t len)
{
    return len > 0 && comp <= len - len / 8;
}

/*
 * Should a chunk of len bytes be tried under zstd whole? 1 if so, 0 if not,
 * or an error. The entropy-coded chunks (times, plates, confidence: three
 * quarters of a block's bytes) never shrank by an eighth on the traffic, and
 * compressing them only to throw the frame away was most of the zstd work of
 * a flush and of a merge. So such a chunk, when longer than ZSTD_PROBE bytes,
 * is tried whole only if its first ZSTD_PROBE bytes shrink: the repeats zstd
 * could use show there as well (one plate read over and over, a test's
 * constant values). The other chunks (run lengths, bit-packed values, index
 * pages) are always tried: zstd does pay on some of them, and on some only
 * past their first kilobytes (the positions of mobile cameras).
 */
#define ZSTD_PROBE 2048

static int zstd_probe(seg_writer *w, const uint8_t *data, size_t len, int entropy_coded)
{
    if (len == 0) return 0;
    if (!entropy_coded || len <= ZSTD_PROBE) return 1;
    int rc = enc_zstd_compress(&w->comp, w->cctx, w->level, data, ZSTD_PROBE);
    if (rc < 0) return rc;
    int worth = zstd_worth(w->comp.len, ZSTD_PROBE);
    w->comp.len = 0;
    return worth;
}

/*
 * Write the chunk in w->enc and record it in the directory entry at e:
 * zstd's form when worth it, else the encoded bytes.
 */
static int write_chunk(seg_writer *w, uint8_t *e, unsigned encoding, int entropy_coded)
{
    const uint8_t *data = w->enc.data;
    size_t len = w->enc.len;
    uint8_t compression = SEG_STORED;
    w->comp.len = 0;
    int rc = zstd_probe(w, data, len, entropy_coded);
    if (rc == 1) rc = enc_zstd_compress(&w->comp, w->cctx, w->level, data, len);
    if (rc < 0) return rc;
    if (w->comp.len > 0 && zstd_worth(w->comp.len, len)) {
        data = w->comp.data;
        len = w->comp.len;
        compression = SEG_ZSTD;
    }
    put_u64(e + CE_OFFSET, position(w));
    put_u32(e + CE_STORED, (uint32_t)len);
    put_u32(e + CE_ENCODED, (uint32_t)w->enc.len);
    e[CE_ENCODING] = (uint8_t)encoding;
    e[CE_COMPRESSION] = compression;
    /* The checksum lives here, in the parent, so a misdirected write cannot vouch for itself. */
    put_u64(e + CE_CHECKSUM, anpr_checksum(data, len));
    rc = put_bytes(w, data, len);
    if (rc < 0) return anpr_fail(w->err, rc, "segment: write: %s", anpr_strerror(rc));
    return 0;
}

/* An integer column: the light encoding that comes out smallest (zstd over it where that pays). */
static int write_int_column(seg_writer *w, uint8_t *e, size_t n)
{
    unsigned encoding;
    w->enc.len = 0;
    int rc = enc_int_encode_best(&w->enc, &encoding, w->values, n);
    if (rc < 0) return rc;
    /* Of enc_int_encode_best's candidates, the two entropy codes. */
    return write_chunk(w, e, encoding, encoding == ENC_DELTA_RICE_CK2 || encoding == ENC_HUFF_CK);
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
            unsigned id;
            w->enc.len = 0;
            unsigned aged = w->version >= SEG_FORMAT_PARTS       ? ENC_PLATE_PART
                            : w->version >= SEG_FORMAT_RRR       ? ENC_PLATE_RRR
                            : w->version >= SEG_FORMAT_AGE_RADIX ? ENC_PLATE_AGE_RADIX
                                                                 : ENC_PLATE_AGE;
            rc = enc_plate_encode_best(&w->enc, aged, &id, w->block, n);
            if (rc == 0) rc = write_chunk(w, ce, id, 1);
            /* plate-part's table, which a search checks without the rest of the chunk: its sum kept here too. */
            if (rc == 0 && id == ENC_PLATE_PART)
                put_u32(ce + CE_TABLE_SUM, enc_part_sum(w->enc.data, ENC_PART_TABLE_BYTES));
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

int seg_writer_set_version(seg_writer *w, unsigned version)
{
    /* Only the header is out so far, still in pending: the version is patched there. */
    if (version < SEG_FORMAT_ZSTD_DIRS || version > SEG_FORMAT_VERSION || w->rows || w->nblock ||
        w->sink->off != 0 || w->pending.len != SEG_HEADER_SIZE)
        return ANPR_EINVAL;
    w->version = version;
    put_u16(w->pending.data + 8, (uint16_t)version);
    return ANPR_OK;
}

int seg_writer_set_index_density(seg_writer *w, unsigned density)
{
    if (density == 0 || density > 8 || (density & (density - 1))) return ANPR_EINVAL;
    w->index_density = density;
    return ANPR_OK;
}

int seg_writer_add(seg_writer *w, const anpr_row *rows, size_t n)
{
    if (w->failed) return w->failed;
    for (size_t i = 0; i < n; i++) {
        const anpr_row *r = &rows[i];
        if (r->ts_ms < 0 || anpr_day_of(r->ts_ms) != w->day)
            return w->failed = anpr_fail(w->err, ANPR_EINVAL, "segment: row of another day");
        if (w->rows > 0 && row_order(&w->last, r) >= 0)
            return w->failed = anpr_fail(w->err, ANPR_EINVAL, "segment: rows out of order or repeated");
        anpr_row *b = &w->block[w->nblock];
        *b = *r;
        /* Zero the plate's padding so chunks depend only on the plate text. */
        size_t len = strnlen(r->plate, sizeof r->plate);
        memset(b->plate + len, 0, sizeof r->plate - len);
        w->nblock++;
        w->last = *r;
        int rc = index_build_add(w->index, seg_plate_key_padded(b->plate, len), w->blocks);
        if (rc < 0) return w->failed = rc;
        w->rows++;
        if (r->ts_ms < w->min_ts) w->min_ts = r->ts_ms;
        if (r->ts_ms > w->max_ts) w->max_ts = r->ts_ms;
        if (w->nblock == w->block_rows) {
            rc = write_block(w);
            if (rc < 0) return w->failed = rc;
        }
    }
    return 0;
}

/* Where the index builder's pages go: one chunk each, and an entry in the page directory. */
typedef struct page_out {
    seg_writer *w;
    enc_buf *pagedir;
} page_out;

static int emit_page(void *ctx, enc_buf *page)
{
    page_out *po = ctx;
    seg_writer *w = po->w;
    int rc = enc_buf_reserve(po->pagedir, SEG_PAGE_ENTRY);
    if (rc < 0) return rc;
    uint8_t *e = po->pagedir->data + po->pagedir->len;
    memset(e, 0, SEG_PAGE_ENTRY);
    /* Write the page from w->enc without copying it: swap the buffers for the call. */
    enc_buf keep = w->enc;
    w->enc = *page;
    /* A page entry has the layout of a column entry; its encoding byte names the page's layout. */
    rc = write_chunk(w, e, w->version >= SEG_FORMAT_RICE_PAGES ? SEG_PAGE_RICE : SEG_PAGE_UNARY, 0);
    *page = w->enc;
    w->enc = keep;
    po->pagedir->len += SEG_PAGE_ENTRY;
    return rc;
}

static int write_index(seg_writer *w, enc_buf *pagedir, uint64_t *nb_out, uint64_t *postings_out,
                       uint64_t *index_bytes)
{
    uint64_t nb = index_buckets(w->rows, w->index_density, w->version < SEG_FORMAT_EXACT_INDEX);
    uint64_t start_off = position(w);
    page_out po = {w, pagedir};
    index_layout lay = {SEG_PAGE_BUCKETS * w->index_density,
                        w->version >= SEG_FORMAT_RICE_PAGES ? SEG_GROUP_BUCKETS * w->index_density : 0};
    int rc = index_build_finish(w->index, w->blocks, nb, &lay, emit_page, &po, postings_out);
    *index_bytes = position(w) - start_off;
    *nb_out = nb;
    return rc;
}

int seg_writer_finish(seg_writer *w, seg_write_summary *out)
{
    if (w->failed) return w->failed;
    int rc = write_block(w);
    enc_buf pagedir = {0};
    uint64_t nb = 1, postings = 0, index_bytes = 0;
    if (rc == 0) rc = write_index(w, &pagedir, &nb, &postings, &index_bytes);
    /* The two directories as zstd frames (format 6): a reader inflates each once, when it opens the file. */
    enc_buf pagedir_z = {0}, dir_z = {0};
    if (rc == 0) rc = enc_zstd_compress(&pagedir_z, w->cctx, w->level, pagedir.data, pagedir.len);
    if (rc == 0) rc = enc_zstd_compress(&dir_z, w->cctx, w->level, w->dir.data, w->dir.len);
    uint64_t pagedir_off = position(w);
    if (rc == 0) rc = put_bytes(w, pagedir_z.data, pagedir_z.len);
    uint64_t dir_off = position(w);
    if (rc == 0) rc = put_bytes(w, dir_z.data, dir_z.len);
    if (rc == 0) {
        uint8_t f[SEG_FOOTER_SIZE] = {0};
        memcpy(f + FT_MAGIC, SEG_FOOTER_MAGIC, 8);
        put_u16(f + FT_VERSION, (uint16_t)w->version);
        put_i32(f + FT_DAY, w->day);
        put_u64(f + FT_ROWS, w->rows);
        put_u32(f + FT_BLOCKS, w->blocks);
        put_u32(f + FT_BLOCK_ROWS, w->block_rows);
        put_i64(f + FT_MIN_TS, w->rows ? w->min_ts : 0);
        put_i64(f + FT_MAX_TS, w->rows ? w->max_ts : 0);
        put_u64(f + FT_DIR_OFF, dir_off);
        put_u32(f + FT_DIR_LEN, (uint32_t)dir_z.len);
        put_u32(f + FT_PAGE_BUCKETS, SEG_PAGE_BUCKETS * w->index_density);
        put_u64(f + FT_DIR_SUM, anpr_checksum(dir_z.data, dir_z.len));
        put_u64(f + FT_PAGEDIR_OFF, pagedir_off);
        put_u32(f + FT_PAGEDIR_LEN, (uint32_t)pagedir_z.len);
        /* The number of buckets from format 10; before, its base 2 logarithm. */
        put_u32(f + FT_BUCKETS, w->version >= SEG_FORMAT_EXACT_INDEX ? (uint32_t)nb : (uint32_t)__builtin_ctzll(nb));
        put_u64(f + FT_PAGEDIR_SUM, anpr_checksum(pagedir_z.data, pagedir_z.len));
        put_u64(f + FT_POSTINGS, postings);
        put_u64(f + FT_INDEX_BYTES, index_bytes + pagedir_z.len);
        put_u64(f + FT_SUM, anpr_checksum(f, FT_SUM));
        rc = put_bytes(w, f, sizeof f);
    }
    if (rc == 0) rc = flush_pending(w);
    enc_buf_free(&pagedir);
    enc_buf_free(&pagedir_z);
    enc_buf_free(&dir_z);
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
    index_build_free(w->index);
    enc_buf_free(&w->pending);
    enc_buf_free(&w->dir);
    enc_buf_free(&w->enc);
    enc_buf_free(&w->comp);
    ZSTD_freeCCtx(w->cctx);
    free(w);
}
