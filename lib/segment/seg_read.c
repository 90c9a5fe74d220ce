/*
 * Reading a segment: every length, offset and count is checked against the
 * file and the format before it is used, and every chunk's checksum before
 * its bytes are decoded. Anything wrong is ANPR_ECORRUPT with a message that
 * names the part of the file.
 */
#include <errno.h>
#include <stdio.h>
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

typedef struct chunk_ref {
    uint64_t offset;
    uint32_t stored, encoded;
    uint8_t encoding, compression;
    uint32_t table_sum; /* plate-part: the xxh3 of its table, low 32 bits (0 for other encodings) */
    uint64_t checksum;
} chunk_ref;

typedef struct block_meta {
    anpr_block_info info;
    chunk_ref col[SEG_NCOLUMNS];
    uint64_t span_off; /* the bytes from its first chunk to the end of its last, worked out at open */
    uint32_t span_len;
} block_meta;

struct seg_reader {
    const anpr_source *src;
    anpr_errmsg_buf *err;
    anpr_segment_info info;
    block_meta *blocks;
    uint64_t nbuckets;        /* of the index: 1 to 2^32 (before format 10, 2^bucket_bits) */
    uint32_t page_buckets, npages;
    chunk_ref *pages;          /* loaded on the first probe */
    uint64_t pagedir_off;
    uint32_t pagedir_len;      /* as stored; its layout's bytes are npages * SEG_PAGE_ENTRY */
    uint64_t pagedir_sum;
    uint8_t *stored, *encoded; /* scratch */
    const uint8_t *chunk;      /* the last checked chunk's encoded bytes (check_chunk) */
    size_t stored_cap, encoded_cap;
    uint64_t *page_counts, *page_post; /* the last page decoded */
    size_t page_post_cap;
    int64_t *values;
    int64_t *picked; /* the values of the rows a lookup picked out (block_rows of them) */
    ZSTD_DCtx *dctx;
};

static int corrupt(seg_reader *r, const char *what, long long which, const char *why)
{
    return anpr_fail(r->err, ANPR_ECORRUPT, "%s %lld: %s", what, which, why);
}

static int grow(uint8_t **p, size_t *cap, size_t need)
{
    if (*cap >= need) return 0;
    uint8_t *np = realloc(*p, need ? need : 1);
    if (!np) return -ENOMEM;
    *p = np;
    *cap = need;
    return 0;
}

static void chunk_decode(chunk_ref *c, const uint8_t *e)
{
    c->offset = get_u64(e + CE_OFFSET);
    c->stored = get_u32(e + CE_STORED);
    c->encoded = get_u32(e + CE_ENCODED);
    c->encoding = e[CE_ENCODING];
    c->compression = e[CE_COMPRESSION];
    c->table_sum = get_u32(e + CE_TABLE_SUM);
    c->checksum = get_u64(e + CE_CHECKSUM);
}

/* A chunk must lie between the header and `limit`, and be as large as its compression says. */
static int chunk_sane(const chunk_ref *c, uint64_t limit, uint64_t max_encoded, const uint8_t *e)
{
    if (c->offset < SEG_HEADER_SIZE || c->offset > limit || c->stored > limit - c->offset) return 0;
    if (c->compression > SEG_ZSTD || c->encoded > max_encoded) return 0;
    if (c->compression == SEG_STORED && c->stored != c->encoded) return 0;
    for (int i = CE_RESERVED; i < CE_TABLE_SUM; i++)
        if (e[i] != 0) return 0;
    /* Only plate-part has a table to keep the sum of. */
    return c->encoding == ENC_PLATE_PART || c->table_sum == 0;
}

/*
 * Check a chunk's stored bytes against its checksum; r->chunk then points at
 * its encoded bytes: the stored bytes themselves when they are not
 * compressed (valid as long as they are), else r->encoded. Errors name it
 * "what which", or "column NAME, block which" when column is given.
 */
static int check_named_chunk(seg_reader *r, const chunk_ref *c, const uint8_t *stored, const char *what,
                             const char *column, long long which)
{
    if (!what) what = "chunk"; /* callers name one or the other */
    if (anpr_checksum(stored, c->stored) != c->checksum)
        return column ? anpr_fail(r->err, ANPR_ECORRUPT, "column %s, block %lld: checksum mismatch", column, which)
                      : anpr_fail(r->err, ANPR_ECORRUPT, "%s %lld: checksum mismatch", what, which);
    if (c->compression == SEG_STORED) {
        r->chunk = stored;
        return 0;
    }
    int rc = grow(&r->encoded, &r->encoded_cap, c->encoded);
    if (rc < 0) return rc;
    r->chunk = r->encoded;
    if (!r->dctx && !(r->dctx = ZSTD_createDCtx())) {
        /* Made on the first compressed chunk: many probes never meet one, and a context costs. */
        return -ENOMEM;
    } else if (enc_zstd_decompress(r->encoded, c->encoded, r->dctx, stored, c->stored) < 0) {
        return column ? anpr_fail(r->err, ANPR_ECORRUPT, "column %s, block %lld: zstd frame does not decode to %u bytes",
                                  column, which, c->encoded)
                      : anpr_fail(r->err, ANPR_ECORRUPT, "%s %lld: zstd frame does not decode to %u bytes", what, which,
                                  c->encoded);
    }
    return 0;
}

static int check_chunk(seg_reader *r, const chunk_ref *c, const uint8_t *stored, const char *what, long long which)
{
    return check_named_chunk(r, c, stored, what, NULL, which);
}

/* Read a chunk and check it (check_chunk: r->chunk). */
static int load_chunk(seg_reader *r, const chunk_ref *c, const char *what, long long which)
{
    int rc = grow(&r->stored, &r->stored_cap, c->stored);
    if (rc < 0) return rc;
    rc = anpr_source_read(r->src, r->stored, c->stored, c->offset);
    if (rc < 0) return anpr_fail(r->err, rc, "%s %lld: read: %s", what, which, anpr_strerror(rc));
    return check_chunk(r, c, r->stored, what, which);
}

static int read_footer(seg_reader *r, uint8_t *f)
{
    uint64_t size = r->src->size;
    if (size < SEG_HEADER_SIZE + SEG_FOOTER_SIZE)
        return anpr_fail(r->err, ANPR_ECORRUPT, "file of %llu bytes is too short for a segment",
                         (unsigned long long)size);
    uint8_t h[SEG_HEADER_SIZE];
    int rc = anpr_source_read(r->src, h, sizeof h, 0);
    if (rc == 0) rc = anpr_source_read(r->src, f, SEG_FOOTER_SIZE, size - SEG_FOOTER_SIZE);
    if (rc < 0) return anpr_fail(r->err, rc, "read: %s", anpr_strerror(rc));
    if (memcmp(h, SEG_MAGIC, 8) != 0 || memcmp(f + FT_MAGIC, SEG_FOOTER_MAGIC, 8) != 0)
        return anpr_fail(r->err, ANPR_ECORRUPT, "not a segment file (bad magic)");
    if (get_u64(f + FT_SUM) != anpr_checksum(f, FT_SUM))
        return anpr_fail(r->err, ANPR_ECORRUPT, "footer: checksum mismatch");
    unsigned version = get_u16(f + FT_VERSION);
    if (get_u16(h + 8) != version || version < SEG_FORMAT_OLDEST || version > SEG_FORMAT_VERSION)
        return anpr_fail(r->err, ANPR_EVERSION, "segment format version %u (header %u), this library reads %u to %u",
                         version, get_u16(h + 8), SEG_FORMAT_OLDEST, SEG_FORMAT_VERSION);
    if (get_u16(h + 10) != 0 || get_u32(h + 12) != 0 || get_u16(f + FT_FLAGS) != 0 ||
        get_u64(f + FT_RESERVED) != 0)
        return anpr_fail(r->err, ANPR_ECORRUPT, "header or footer: reserved fields are not zero");
    return 0;
}

static int check_directory(seg_reader *r, const uint8_t *dir, uint64_t data_end)
{
    const anpr_segment_info *in = &r->info;
    uint64_t next_row = 0;
    for (uint32_t b = 0; b < in->blocks; b++) {
        const uint8_t *e = dir + (size_t)b * SEG_BLOCK_ENTRY;
        block_meta *m = &r->blocks[b];
        anpr_block_info *bi = &m->info;
        bi->first_row = get_u64(e + BD_FIRST_ROW);
        bi->rows = get_u32(e + BD_ROWS);
        bi->min_ts_ms = get_i64(e + BD_MIN_TS);
        bi->max_ts_ms = get_i64(e + BD_MAX_TS);
        bi->camera_min = get_u32(e + BD_CAM_MIN);
        bi->camera_max = get_u32(e + BD_CAM_MAX);
        bi->lat_min = get_i32(e + BD_LAT_MIN);
        bi->lat_max = get_i32(e + BD_LAT_MAX);
        bi->lon_min = get_i32(e + BD_LON_MIN);
        bi->lon_max = get_i32(e + BD_LON_MAX);
        int ok = bi->first_row == next_row && bi->rows > 0 && bi->rows <= in->block_rows &&
                 (b + 1 == in->blocks || bi->rows == in->block_rows) && get_u32(e + BD_RESERVED) == 0 &&
                 bi->min_ts_ms <= bi->max_ts_ms && bi->camera_min <= bi->camera_max &&
                 bi->min_ts_ms >= in->min_ts_ms && bi->max_ts_ms <= in->max_ts_ms;
        if (!ok) return corrupt(r, "block directory: block", b, "inconsistent entry");
        next_row += bi->rows;
        bi->stored_bytes = 0;
        /* Even zero bits a value leaves a width byte per miniblock; 24 bytes a row bounds every codec. */
        uint64_t max_encoded = (uint64_t)bi->rows * 24 + 64;
        uint64_t lo = UINT64_MAX, hi = 0;
        for (unsigned c = 0; c < SEG_NCOLUMNS; c++) {
            const uint8_t *ce = e + BD_COLUMNS + c * SEG_COLUMN_ENTRY;
            chunk_ref *cr = &m->col[c];
            chunk_decode(cr, ce);
            if (!chunk_sane(cr, data_end, max_encoded, ce))
                return corrupt(r, "block", b, "chunk lies outside the data or has a bad size");
            /* Versions 8 and 9 each add one encoding: a file labelled before it that uses it is refused, not read. */
            if (cr->encoding == ENC_PLATE_AGE_RADIX && in->format_version < SEG_FORMAT_AGE_RADIX)
                return corrupt(r, "block", b, "uses plate-age-radix, which its format version predates");
            if (cr->encoding == ENC_PLATE_RRR && in->format_version < SEG_FORMAT_RRR)
                return corrupt(r, "block", b, "uses plate-rrr, which its format version predates");
            if (cr->encoding == ENC_PLATE_PART && in->format_version < SEG_FORMAT_PARTS)
                return corrupt(r, "block", b, "uses plate-part, which its format version predates");
            bi->stored_bytes += cr->stored;
            if (cr->offset < lo) lo = cr->offset;
            if (cr->offset + cr->stored > hi) hi = cr->offset + cr->stored;
        }
        /* One read takes a block's chunks, so they must lie within 4 GB of each other. */
        if (hi - lo > UINT32_MAX) return corrupt(r, "block", b, "chunks spread too far");
        m->span_off = lo;
        m->span_len = (uint32_t)(hi - lo);
    }
    if (next_row != in->rows) return anpr_fail(r->err, ANPR_ECORRUPT, "block directory: rows do not add up");
    return 0;
}

/* From format 6 both directories are stored as zstd frames. */
static int zstd_dirs(const seg_reader *r)
{
    return r->info.format_version >= SEG_FORMAT_ZSTD_DIRS;
}

/*
 * Does a directory of raw bytes fit in `stored` bytes as this version keeps
 * it: exactly, before format 6; from it, as a zstd frame, which is never
 * longer than zstd's bound (and never empty).
 */
static int stored_size_ok(const seg_reader *r, uint64_t stored, uint64_t raw)
{
    if (!zstd_dirs(r)) return stored == raw;
    return raw <= UINT32_MAX && stored >= 1 && stored <= ZSTD_compressBound((size_t)raw);
}

/*
 * A directory's bytes as stored (checksummed by the caller) to its raw
 * layout: the stored bytes themselves before format 6, else a new buffer
 * (the caller frees it when it is not `stored`). ANPR_ECORRUPT, naming
 * `what`, for a frame that does not hold exactly `raw` bytes. A reader
 * inflates each directory once, so it borrows its chunks' zstd context if
 * it has one and otherwise makes one for the call: a context kept for this
 * alone would cost every cached reader about 96 KB.
 */
static int inflate_directory(seg_reader *r, const uint8_t *stored, uint32_t stored_len, uint32_t raw, uint8_t **out,
                             const char *what)
{
    *out = (uint8_t *)stored;
    if (!zstd_dirs(r)) return 0;
    uint8_t *buf = malloc(raw ? raw : 1);
    ZSTD_DCtx *dctx = r->dctx ? r->dctx : ZSTD_createDCtx();
    int rc = buf && dctx ? enc_zstd_decompress(buf, raw, dctx, stored, stored_len) : -ENOMEM;
    if (dctx != r->dctx) ZSTD_freeDCtx(dctx);
    if (rc < 0) {
        free(buf);
        if (rc == -ENOMEM) return rc;
        return anpr_fail(r->err, ANPR_ECORRUPT, "%s: zstd frame does not decode to %u bytes", what, raw);
    }
    *out = buf;
    return 0;
}

int seg_reader_open(seg_reader **out, const anpr_source *src, anpr_errmsg_buf *err)
{
    *out = NULL;
    seg_reader *r = calloc(1, sizeof *r);
    if (!r) return -ENOMEM;
    r->src = src;
    r->err = err;
    uint8_t f[SEG_FOOTER_SIZE];
    uint8_t *dir = NULL, *dir_stored = NULL;
    uint32_t dir_raw = 0;
    int rc = read_footer(r, f);
    if (rc < 0) goto fail;
    anpr_segment_info *in = &r->info;
    in->format_version = get_u16(f + FT_VERSION); /* checked by read_footer */
    in->day = get_i32(f + FT_DAY);
    in->rows = get_u64(f + FT_ROWS);
    in->blocks = get_u32(f + FT_BLOCKS);
    in->block_rows = get_u32(f + FT_BLOCK_ROWS);
    in->columns = SEG_NCOLUMNS;
    in->file_bytes = src->size;
    in->min_ts_ms = get_i64(f + FT_MIN_TS);
    in->max_ts_ms = get_i64(f + FT_MAX_TS);
    in->index_postings = get_u64(f + FT_POSTINGS);
    in->index_bytes = get_u64(f + FT_INDEX_BYTES);
    uint64_t dir_off = get_u64(f + FT_DIR_OFF);
    uint32_t dir_len = get_u32(f + FT_DIR_LEN);
    r->page_buckets = get_u32(f + FT_PAGE_BUCKETS);
    uint32_t buckets = get_u32(f + FT_BUCKETS); /* from format 10; before, bucket_bits */
    r->nbuckets = in->format_version >= SEG_FORMAT_EXACT_INDEX ? buckets
                  : buckets <= 32                              ? UINT64_C(1) << buckets
                                                               : 0;
    r->pagedir_off = get_u64(f + FT_PAGEDIR_OFF);
    r->pagedir_len = get_u32(f + FT_PAGEDIR_LEN);
    r->pagedir_sum = get_u64(f + FT_PAGEDIR_SUM);
    uint64_t footer_off = src->size - SEG_FOOTER_SIZE;
    /* Layout: data chunks, index pages, page directory, block directory, footer; each ends where the next starts. */
    int ok = in->day >= 0 && in->block_rows >= 1 && in->block_rows <= SEG_BLOCK_ROWS_MAX &&
             in->blocks <= SEG_MAX_BLOCKS && in->rows <= (uint64_t)in->blocks * in->block_rows &&
             (in->rows == 0) == (in->blocks == 0) &&
             dir_off + dir_len == footer_off &&
             r->pagedir_off + r->pagedir_len == dir_off && r->pagedir_off >= SEG_HEADER_SIZE &&
             r->nbuckets >= 1 && r->page_buckets >= 1 && r->page_buckets <= (1u << 20);
    if (ok) {
        uint64_t npages = (r->nbuckets + r->page_buckets - 1) / r->page_buckets;
        r->npages = npages > UINT32_MAX ? 0 : (uint32_t)npages;
        /*
         * Before format 6 the directories are stored as they are; from it, as
         * zstd frames of them. A frame can stand for far more bytes than it
         * takes, so the counts that size them are held to the data: every
         * block and every index page has at least a byte of it.
         */
        uint64_t body = r->pagedir_off - SEG_HEADER_SIZE;
        uint64_t pagedir_raw = npages * SEG_PAGE_ENTRY;
        dir_raw = in->blocks * SEG_BLOCK_ENTRY; /* in->blocks <= SEG_MAX_BLOCKS: no overflow */
        ok = npages <= UINT32_MAX && (!zstd_dirs(r) || (in->blocks <= body && npages <= body)) &&
             stored_size_ok(r, r->pagedir_len, pagedir_raw) && stored_size_ok(r, dir_len, dir_raw) &&
             (in->rows == 0 || (in->min_ts_ms <= in->max_ts_ms && anpr_day_of(in->min_ts_ms) == in->day &&
                                anpr_day_of(in->max_ts_ms) == in->day && in->min_ts_ms >= 0));
    }
    if (!ok) {
        rc = anpr_fail(err, ANPR_ECORRUPT, "footer: fields are inconsistent with each other or the file size");
        goto fail;
    }
    in->index_buckets = r->nbuckets > UINT32_MAX ? UINT32_MAX : (uint32_t)r->nbuckets;
    in->directory_bytes = dir_len + SEG_FOOTER_SIZE + SEG_HEADER_SIZE; /* the page directory counts as index */
    dir_stored = malloc(dir_len ? dir_len : 1);
    r->blocks = calloc(in->blocks ? in->blocks : 1, sizeof *r->blocks);
    r->values = malloc((in->block_rows ? in->block_rows : 1) * sizeof *r->values);
    r->picked = malloc((in->block_rows ? in->block_rows : 1) * sizeof *r->picked);
    if (!dir_stored || !r->blocks || !r->values || !r->picked) {
        rc = -ENOMEM;
        goto fail;
    }
    rc = anpr_source_read(src, dir_stored, dir_len, dir_off);
    if (rc < 0) {
        anpr_fail(err, rc, "block directory: read: %s", anpr_strerror(rc));
        goto fail;
    }
    if (anpr_checksum(dir_stored, dir_len) != get_u64(f + FT_DIR_SUM)) {
        rc = anpr_fail(err, ANPR_ECORRUPT, "block directory: checksum mismatch");
        goto fail;
    }
    rc = inflate_directory(r, dir_stored, dir_len, dir_raw, &dir, "block directory");
    if (rc < 0) goto fail;
    rc = check_directory(r, dir, r->pagedir_off);
    if (rc < 0) goto fail;
    if (dir != dir_stored) free(dir);
    free(dir_stored);
    *out = r;
    return 0;
fail:
    if (dir != dir_stored) free(dir);
    free(dir_stored);
    seg_reader_free(r);
    return rc;
}

void seg_reader_free(seg_reader *r)
{
    if (!r) return;
    free(r->blocks);
    free(r->pages);
    free(r->stored);
    free(r->encoded);
    free(r->page_counts);
    free(r->page_post);
    free(r->values);
    free(r->picked);
    ZSTD_freeDCtx(r->dctx);
    free(r);
}

void seg_reader_info(const seg_reader *r, anpr_segment_info *out)
{
    *out = r->info;
}

int seg_reader_block_info(const seg_reader *r, uint32_t block, anpr_block_info *out)
{
    if (block >= r->info.blocks) return ANPR_EINVAL;
    *out = r->blocks[block].info;
    return 0;
}

int seg_reader_column_info(seg_reader *r, unsigned col, anpr_column_info *out)
{
    if (col >= SEG_NCOLUMNS) return ANPR_EINVAL;
    memset(out, 0, sizeof *out);
    out->name = seg_column_name(col);
    out->encoding = r->info.blocks ? enc_name(r->blocks[0].col[col].encoding) : "none";
    static const unsigned raw_width[SEG_NCOLUMNS] = {8, ANPR_PLATE_MAX + 1, 4, 1, 1, 1, 4, 4};
    for (uint32_t b = 0; b < r->info.blocks; b++) {
        const chunk_ref *c = &r->blocks[b].col[col];
        out->raw_bytes += (uint64_t)r->blocks[b].info.rows * raw_width[col];
        out->encoded_bytes += c->encoded;
        out->stored_bytes += c->stored;
        out->zstd_chunks += c->compression == SEG_ZSTD;
    }
    return 0;
}

/* Narrow decoded values into the rows, refusing any that do not fit the column's type. */
static int store_column(anpr_row *rows, size_t n, unsigned col, const int64_t *v)
{
    for (size_t i = 0; i < n; i++) {
        int64_t x = v[i];
        switch (col) {
        case SEG_COL_TS: rows[i].ts_ms = x; break;
        case SEG_COL_CAMERA:
            if (x < 0 || x > UINT32_MAX) return ANPR_ECORRUPT;
            rows[i].camera = (uint32_t)x;
            break;
        case SEG_COL_LANE: case SEG_COL_DIRECTION: case SEG_COL_CONFIDENCE:
            if (x < 0 || x > (col == SEG_COL_CONFIDENCE ? 100 : 255)) return ANPR_ECORRUPT;
            if (col == SEG_COL_LANE) rows[i].lane = (uint8_t)x;
            else if (col == SEG_COL_DIRECTION) rows[i].direction = (uint8_t)x;
            else rows[i].confidence = (uint8_t)x;
            break;
        case SEG_COL_LAT: case SEG_COL_LON:
            if (x < INT32_MIN || x > INT32_MAX) return ANPR_ECORRUPT;
            if (col == SEG_COL_LAT) rows[i].lat_e7 = (int32_t)x;
            else rows[i].lon_e7 = (int32_t)x;
            break;
        default: return ANPR_ECORRUPT;
        }
    }
    return 0;
}

/* The sort order of rows: camera, time, then plate. */
static int row_order(const anpr_row *p, const anpr_row *x)
{
    if (p->camera != x->camera) return p->camera < x->camera ? -1 : 1;
    if (p->ts_ms != x->ts_ms) return p->ts_ms < x->ts_ms ? -1 : 1;
    return strncmp(p->plate, x->plate, sizeof x->plate);
}

/* The decoded rows must be what the directory says: in order, in the day, within its ranges. */
static int check_block_rows(const seg_reader *r, const anpr_block_info *bi, const anpr_row *rows, size_t n)
{
    int64_t tmin = INT64_MAX, tmax = INT64_MIN;
    uint32_t cmin = UINT32_MAX, cmax = 0;
    int32_t la0 = INT32_MAX, la1 = INT32_MIN, lo0 = INT32_MAX, lo1 = INT32_MIN;
    int any = 0;
    for (size_t i = 0; i < n; i++) {
        const anpr_row *x = &rows[i];
        if (x->ts_ms < 0 || anpr_day_of(x->ts_ms) != r->info.day) return 0;
        if (i > 0 && row_order(&rows[i - 1], x) >= 0) return 0;
        if ((x->lat_e7 == ANPR_POS_UNKNOWN) != (x->lon_e7 == ANPR_POS_UNKNOWN)) return 0;
        if (x->ts_ms < tmin) tmin = x->ts_ms;
        if (x->ts_ms > tmax) tmax = x->ts_ms;
        if (x->camera < cmin) cmin = x->camera;
        if (x->camera > cmax) cmax = x->camera;
        if (x->lat_e7 != ANPR_POS_UNKNOWN) {
            any = 1;
            if (x->lat_e7 < la0) la0 = x->lat_e7;
            if (x->lat_e7 > la1) la1 = x->lat_e7;
            if (x->lon_e7 < lo0) lo0 = x->lon_e7;
            if (x->lon_e7 > lo1) lo1 = x->lon_e7;
        }
    }
    if (!any) la0 = la1 = lo0 = lo1 = ANPR_POS_UNKNOWN;
    return tmin == bi->min_ts_ms && tmax == bi->max_ts_ms && cmin == bi->camera_min && cmax == bi->camera_max &&
           la0 == bi->lat_min && la1 == bi->lat_max && lo0 == bi->lon_min && lo1 == bi->lon_max;
}

int seg_reader_block_span(const seg_reader *r, uint32_t block, uint64_t *off, uint32_t *len)
{
    if (block >= r->info.blocks) return ANPR_EINVAL;
    /* Worked out and checked with the directory at open: every chunk lies inside the data, so the span does too. */
    *off = r->blocks[block].span_off;
    *len = r->blocks[block].span_len;
    return 0;
}

/* check_chunk for a block's column, named in its errors (the name is put together only for an error). */
static int check_column(seg_reader *r, const chunk_ref *c, unsigned col, const uint8_t *stored, uint32_t block)
{
    int rc = check_named_chunk(r, c, stored, NULL, seg_column_name(col), block);
    /* plate-part: the table that a search trusts on its own sum must agree with it here too. */
    if (rc == 0 && c->encoding == ENC_PLATE_PART &&
        (c->encoded < ENC_PART_TABLE_BYTES || enc_part_sum(r->chunk, ENC_PART_TABLE_BYTES) != c->table_sum))
        rc = anpr_fail(r->err, ANPR_ECORRUPT, "column %s, block %u: table checksum mismatch", seg_column_name(col),
                       block);
    return rc;
}

/* Decode a block from its span. */
int seg_reader_decode_block(seg_reader *r, uint32_t block, const uint8_t *span, anpr_row *out, size_t *n)
{
    uint64_t base = 0; /* set by seg_reader_block_span */
    uint32_t len;
    int rc = seg_reader_block_span(r, block, &base, &len);
    if (rc < 0) return rc;
    const block_meta *m = &r->blocks[block];
    size_t rows = m->info.rows;
    for (unsigned col = 0; col < SEG_NCOLUMNS; col++) {
        const chunk_ref *c = &m->col[col];
        rc = check_column(r, c, col, span + (c->offset - base), block);
        if (rc < 0) return rc;
        if (col == SEG_COL_PLATE) {
            rc = enc_plate_decode(out, rows, c->encoding, r->chunk, c->encoded);
        } else {
            rc = enc_int_decode(r->values, rows, c->encoding, r->chunk, c->encoded);
            if (rc == 0) rc = store_column(out, rows, col, r->values);
        }
        if (rc == ANPR_ECORRUPT)
            return anpr_fail(r->err, rc, "block %u column %s: does not decode", block, seg_column_name(col));
        if (rc < 0) return rc;
    }
    if (!check_block_rows(r, &m->info, out, rows))
        return anpr_fail(r->err, ANPR_ECORRUPT, "block %u: rows disagree with the block directory", block);
    *n = rows;
    return 0;
}

/*
 * Rows picked out of a block must still agree with its directory entry:
 * in its day, within its ranges, and in the order of the sort.
 */
static int check_some_rows(const seg_reader *r, const anpr_block_info *bi, const anpr_row *rows, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const anpr_row *x = &rows[i];
        if (x->ts_ms < bi->min_ts_ms || x->ts_ms > bi->max_ts_ms || anpr_day_of(x->ts_ms) != r->info.day) return 0;
        if (x->camera < bi->camera_min || x->camera > bi->camera_max) return 0;
        if ((x->lat_e7 == ANPR_POS_UNKNOWN) != (x->lon_e7 == ANPR_POS_UNKNOWN)) return 0;
        if (x->lat_e7 != ANPR_POS_UNKNOWN && (x->lat_e7 < bi->lat_min || x->lat_e7 > bi->lat_max ||
                                              x->lon_e7 < bi->lon_min || x->lon_e7 > bi->lon_max))
            return 0;
        if (i > 0 && row_order(&rows[i - 1], x) >= 0) return 0;
    }
    return 1;
}

/* One column of a block, from its span: checked, and its encoded bytes in r->chunk. */
static int block_column(seg_reader *r, uint32_t block, const uint8_t *span, unsigned col, const chunk_ref **c)
{
    uint64_t base = 0; /* set by seg_reader_block_span */
    uint32_t len;
    int rc = seg_reader_block_span(r, block, &base, &len);
    if (rc < 0) return rc;
    *c = &r->blocks[block].col[col];
    return check_column(r, *c, col, span + ((*c)->offset - base), block);
}

int seg_reader_decode_times(seg_reader *r, uint32_t block, const uint8_t *span, const int64_t **ts, size_t *n)
{
    const chunk_ref *c;
    int rc = block_column(r, block, span, SEG_COL_TS, &c);
    if (rc < 0) return rc; /* named by the check */
    rc = enc_int_decode(r->values, r->blocks[block].info.rows, c->encoding, r->chunk, c->encoded);
    if (rc == ANPR_ECORRUPT) return anpr_fail(r->err, rc, "block %u column ts_ms: does not decode", block);
    if (rc < 0) return rc;
    *ts = r->values;
    *n = r->blocks[block].info.rows;
    return 0;
}

int seg_reader_times_in(seg_reader *r, uint32_t block, const uint8_t *span, int64_t t0, int64_t t1, size_t *first,
                        size_t *count)
{
    *first = *count = 0;
    if (block >= r->info.blocks) return ANPR_EINVAL;
    const block_meta *m = &r->blocks[block];
    /* Refused before the chunk is checked: the caller's fallback, seg_reader_decode_times, checks it again. */
    if (m->info.camera_min != m->info.camera_max || m->col[SEG_COL_TS].encoding != ENC_DELTA_RICE_CK2)
        return ANPR_EINVAL;
    const chunk_ref *c;
    int rc = block_column(r, block, span, SEG_COL_TS, &c);
    if (rc < 0) return rc; /* named by the check */
    rc = enc_int_decode_window(r->values, m->info.rows, c->encoding, r->chunk, c->encoded, t0, t1, first, count);
    if (rc == ANPR_ECORRUPT) return anpr_fail(r->err, rc, "block %u column ts_ms: does not decode", block);
    return rc;
}

int seg_reader_decode_rows(seg_reader *r, uint32_t block, const uint8_t *span, const uint32_t *at, size_t nat,
                           anpr_row *out, int plates)
{
    uint64_t base = 0; /* set by seg_reader_block_span */
    uint32_t len;
    int rc = seg_reader_block_span(r, block, &base, &len);
    if (rc < 0) return rc;
    const block_meta *m = &r->blocks[block];
    if (nat > 0 && at[nat - 1] >= m->info.rows) return ANPR_EINVAL;
    for (unsigned col = 0; col < SEG_NCOLUMNS; col++) {
        if (col == SEG_COL_PLATE && !plates) continue;
        const chunk_ref *c = &m->col[col];
        rc = check_column(r, c, col, span + (c->offset - base), block);
        if (rc < 0) return rc;
        if (col == SEG_COL_PLATE) {
            /* Only an encoding without positions (version 1's) needs a whole block of rows to decode into. */
            int positions = enc_plate_ranked(c->encoding);
            anpr_row *all = positions ? NULL : malloc(m->info.rows * sizeof *all);
            if (!positions && !all) return -ENOMEM;
            rc = enc_plate_decode_at(out, at, nat, all, m->info.rows, c->encoding, r->chunk, c->encoded);
            free(all);
        } else {
            /* The picked rows' values, in r->picked. */
            rc = enc_int_decode_at(r->picked, at, nat, m->info.rows, c->encoding, r->chunk, c->encoded);
            if (rc == 0) rc = store_column(out, nat, col, r->picked);
        }
        if (rc == ANPR_ECORRUPT)
            return anpr_fail(r->err, rc, "block %u column %s: does not decode", block, seg_column_name(col));
        if (rc < 0) return rc;
    }
    if (!check_some_rows(r, &m->info, out, nat))
        return anpr_fail(r->err, ANPR_ECORRUPT, "block %u: rows disagree with the block directory", block);
    return 0;
}

int seg_reader_decode_plates(seg_reader *r, uint32_t block, const uint8_t *span, anpr_row *out, size_t *n)
{
    const chunk_ref *c;
    int rc = block_column(r, block, span, SEG_COL_PLATE, &c);
    if (rc < 0) return rc; /* named by the check */
    rc = enc_plate_decode(out, r->blocks[block].info.rows, c->encoding, r->chunk, c->encoded);
    if (rc == ANPR_ECORRUPT) return anpr_fail(r->err, rc, "block %u column plate: does not decode", block);
    if (rc < 0) return rc;
    *n = r->blocks[block].info.rows;
    return 0;
}

/* The block's plate chunk when it is plate-part, stored as it is (searched by its sections, alone); else NULL. */
static const chunk_ref *probed_chunk(const seg_reader *r, uint32_t block)
{
    if (block >= r->info.blocks) return NULL;
    const chunk_ref *c = &r->blocks[block].col[SEG_COL_PLATE];
    return c->encoding == ENC_PLATE_PART && c->compression == SEG_STORED ? c : NULL;
}

/* A plate-part chunk's table or section failed its sum, or its bytes do not decode: `what` names which. */
static int part_failed(seg_reader *r, uint32_t block, const char *what)
{
    return anpr_fail(r->err, ANPR_ECORRUPT, "column plate, block %u: %s: checksum mismatch or does not decode", block,
                     what);
}

int seg_reader_find_plate(seg_reader *r, uint32_t block, const uint8_t *span, const enc_plate_target *t, uint32_t *at,
                          anpr_row *out, size_t *nhit)
{
    if (block >= r->info.blocks) return ANPR_EINVAL;
    const block_meta *m = &r->blocks[block];
    const chunk_ref *c = &m->col[SEG_COL_PLATE];
    if (!enc_plate_findable(c->encoding)) return ANPR_EINVAL; /* the caller decodes */
    if (probed_chunk(r, block)) {
        /*
         * Most blocks a plate's probe reads only share its index bucket: the
         * table and the part its letters fall in, each checked against its
         * own sum, show that without the rest of the chunk. A block that
         * holds the plate is searched on the sums of the sections the search
         * reads, not the whole chunk's.
         */
        const char *what = NULL;
        int rc = enc_plate_part_find(span + (c->offset - m->span_off), c->stored, m->info.rows, t, c->table_sum, at,
                                     out, nhit, &what);
        return rc == ANPR_ECORRUPT ? part_failed(r, block, what) : rc;
    }
    int rc = block_column(r, block, span, SEG_COL_PLATE, &c);
    if (rc < 0) return rc; /* named by the check */
    rc = enc_plate_find(c->encoding, r->chunk, c->encoded, m->info.rows, t, at, out, nhit);
    if (rc == ANPR_ECORRUPT) return anpr_fail(r->err, rc, "block %u column plate: does not decode", block);
    return rc;
}

int seg_reader_plate_table(const seg_reader *r, uint32_t block, uint64_t *off, uint32_t *len)
{
    if (block >= r->info.blocks) return ANPR_EINVAL;
    const chunk_ref *c = probed_chunk(r, block);
    *off = c ? c->offset : 0;
    /* A chunk too short for its table is read whole: the probe then names the table. */
    *len = !c ? 0 : c->stored < ENC_PART_TABLE_BYTES ? c->stored : ENC_PART_TABLE_BYTES;
    return 0;
}

int seg_reader_plate_sections(seg_reader *r, uint32_t block, const uint8_t *chunk, const enc_plate_target *t,
                              seg_range *out, size_t *n, uint64_t *rest)
{
    const chunk_ref *c = probed_chunk(r, block);
    if (!c) return ANPR_EINVAL;
    enc_section sec[ENC_PART_PROBE_SECTIONS];
    const char *what = NULL;
    uint32_t parts_end = 0;
    int rc = enc_plate_part_sections(chunk, c->stored, r->blocks[block].info.rows, t, c->table_sum, sec, n,
                                     &parts_end, &what);
    if (rc == ANPR_ECORRUPT) return part_failed(r, block, what);
    for (size_t k = 0; k < *n; k++) out[k] = (seg_range){c->offset + sec[k].off, sec[k].len};
    *rest = c->offset + parts_end;
    return rc;
}

int seg_reader_plate_absent(seg_reader *r, uint32_t block, const uint8_t *chunk, const enc_plate_target *t,
                            uint32_t *scratch)
{
    const chunk_ref *c = probed_chunk(r, block);
    if (!c) return ANPR_EINVAL;
    const char *what = NULL;
    int rc = enc_plate_part_absent(chunk, c->stored, r->blocks[block].info.rows, t, c->table_sum, scratch, &what);
    return rc == ANPR_ECORRUPT ? part_failed(r, block, what) : rc;
}

int seg_reader_read_block(seg_reader *r, uint32_t block, anpr_row *out, size_t *n)
{
    uint64_t off = 0;
    uint32_t len = 0;
    int rc = seg_reader_block_span(r, block, &off, &len);
    if (rc == 0) rc = grow(&r->stored, &r->stored_cap, len);
    if (rc < 0) return rc;
    /* All the block's chunks in one read. */
    rc = anpr_source_read(r->src, r->stored, len, off);
    if (rc < 0) return anpr_fail(r->err, rc, "block %u: read: %s", block, anpr_strerror(rc));
    return seg_reader_decode_block(r, block, r->stored, out, n);
}

int seg_reader_pagedir_span(const seg_reader *r, uint64_t *off, uint32_t *len)
{
    *off = r->pagedir_off;
    *len = r->pages ? 0 : r->pagedir_len;
    return 0;
}

int seg_reader_load_pagedir(seg_reader *r, const uint8_t *bytes)
{
    if (r->pages) return 0;
    uint8_t *own = NULL;
    chunk_ref *pages = calloc(r->npages ? r->npages : 1, sizeof *pages);
    int rc = pages ? 0 : -ENOMEM;
    if (rc == 0 && !bytes) {
        own = malloc(r->pagedir_len ? r->pagedir_len : 1);
        rc = own ? anpr_source_read(r->src, own, r->pagedir_len, r->pagedir_off) : -ENOMEM;
        if (rc < 0 && rc != -ENOMEM) anpr_fail(r->err, rc, "index page directory: read: %s", anpr_strerror(rc));
        bytes = own;
    }
    if (rc == 0 && anpr_checksum(bytes, r->pagedir_len) != r->pagedir_sum)
        rc = anpr_fail(r->err, ANPR_ECORRUPT, "index page directory: checksum mismatch");
    const uint8_t *stored = bytes;
    uint8_t *raw = NULL;
    /* npages * SEG_PAGE_ENTRY fits: stored_size_ok held it to 32 bits at open. */
    if (rc == 0)
        rc = inflate_directory(r, stored, r->pagedir_len, r->npages * SEG_PAGE_ENTRY, &raw, "index page directory");
    if (rc == 0) bytes = raw;
    /*
     * A unary page holds a count per bucket and at most a posting per
     * (bucket, block), 16 bits or less each. A Rice page's codes take
     * k + 1 <= 33 bits a posting plus at most one bit per 2^k of the values'
     * range, and a group end takes 4 bytes or less.
     */
    int rice = r->info.format_version >= SEG_FORMAT_RICE_PAGES;
    uint64_t range = (uint64_t)r->page_buckets * r->info.blocks;
    uint64_t max_raw = rice ? SEG_PAGE_HEADER + 4 * (uint64_t)r->page_buckets + (34 * range + 7) / 8
                            : SEG_PAGE_HEADER + (uint64_t)r->page_buckets * 2 * (1 + (uint64_t)r->info.blocks) + 2;
    for (uint32_t p = 0; rc == 0 && p < r->npages; p++) {
        const uint8_t *e = bytes + (size_t)p * SEG_PAGE_ENTRY;
        chunk_decode(&pages[p], e);
        if (!chunk_sane(&pages[p], r->pagedir_off, max_raw, e) ||
            pages[p].encoding != (rice ? SEG_PAGE_RICE : SEG_PAGE_UNARY))
            rc = corrupt(r, "index page", p, "lies outside the index or has a bad size");
    }
    if (raw != stored) free(raw);
    free(own);
    if (rc < 0) {
        free(pages);
        return rc;
    }
    r->pages = pages;
    return 0;
}

static int load_pages(seg_reader *r)
{
    return seg_reader_load_pagedir(r, NULL);
}

/*
 * One bucket's count in the unary counts of an index page: the ones before
 * the next zero, which is consumed too. ANPR_ECORRUPT if they run past the
 * reader's bytes.
 */
static int read_unary(bit_reader *br, uint64_t *count)
{
    *count = 0;
    for (;;) {
        /* A run of ones longer than 56 bits takes more than one look. */
        unsigned run = (unsigned)__builtin_ctzll(~br_peek(br) | (UINT64_C(1) << 56));
        if (br_left(br) < run + (run < 56)) return ANPR_ECORRUPT;
        *count += run;
        br->pos += run;
        if (run < 56) {
            br->pos++; /* the zero that ends the bucket */
            return 0;
        }
    }
}

/* The buckets a page holds: page_buckets, or fewer in the last page. */
static uint32_t page_nbuckets(const seg_reader *r, uint32_t p)
{
    uint64_t from = (uint64_t)p * r->page_buckets;
    return r->nbuckets - from < r->page_buckets ? (uint32_t)(r->nbuckets - from) : r->page_buckets;
}

/* Load index page p's chunk (from its stored bytes, or NULL to read them) and check its header. */
static int page_header(seg_reader *r, uint32_t p, const uint8_t *stored, uint32_t *nb, uint32_t *np, unsigned *pw)
{
    int rc = stored ? check_chunk(r, &r->pages[p], stored, "index page", p) : load_chunk(r, &r->pages[p], "index page", p);
    if (rc < 0) return rc;
    const uint8_t *raw = r->chunk;
    uint32_t len = r->pages[p].encoded;
    uint32_t expect_nb = page_nbuckets(r, p);
    if (len < SEG_PAGE_HEADER) return corrupt(r, "index page", p, "too short");
    *nb = get_u32(raw);
    *np = get_u32(raw + 4);
    *pw = raw[9];
    unsigned want_pw = bp_width(r->info.blocks ? r->info.blocks - 1 : 0);
    uint64_t count_bytes = ((uint64_t)*nb + *np + 7) / 8;
    if (*nb != expect_nb || raw[8] != 0 || *pw != want_pw || get_u16(raw + 10) != 0 ||
        (uint64_t)*np > (uint64_t)*nb * r->info.blocks ||
        (uint64_t)SEG_PAGE_HEADER + count_bytes + bp_bytes(*np, *pw) != len)
        return corrupt(r, "index page", p, "sizes disagree");
    return 0;
}

/* A format-7 index page (docs/format.md), its header checked, open for decoding a group at a time. */
typedef struct rice_page {
    uint32_t nb, np;      /* buckets, postings */
    unsigned k, ob;       /* the Rice parameter; bytes a group's end takes */
    uint32_t group, ngroups;
    const uint8_t *ends;  /* each group's end, a bit position in the codes */
    const uint8_t *codes;
    size_t code_bytes;
} rice_page;

static uint64_t rice_end(const rice_page *pg, uint32_t g)
{
    return pg->ob == 2 ? get_u16(pg->ends + 2 * (size_t)g) : get_u32(pg->ends + 4 * (size_t)g);
}

/* Load index page p (from its stored bytes, or NULL to read them) and check its format-7 header. */
static int rice_page_open(seg_reader *r, uint32_t p, const uint8_t *stored, rice_page *pg)
{
    int rc = stored ? check_chunk(r, &r->pages[p], stored, "index page", p)
                    : load_chunk(r, &r->pages[p], "index page", p);
    if (rc < 0) return rc;
    const uint8_t *raw = r->chunk;
    uint32_t len = r->pages[p].encoded;
    if (len < SEG_PAGE_HEADER) return corrupt(r, "index page", p, "too short");
    pg->nb = get_u32(raw);
    pg->np = get_u32(raw + 4);
    pg->k = raw[8];
    pg->ob = raw[9];
    pg->group = get_u16(raw + 10);
    if (pg->nb != page_nbuckets(r, p) || (uint64_t)pg->np > (uint64_t)pg->nb * r->info.blocks ||
        pg->k > SEG_RICE_MAX_K || (pg->ob != 2 && pg->ob != 4) || pg->group == 0)
        return corrupt(r, "index page", p, "bad header");
    pg->ngroups = (pg->nb + pg->group - 1) / pg->group;
    uint64_t ends_bytes = (uint64_t)pg->ngroups * pg->ob;
    if (SEG_PAGE_HEADER + ends_bytes > len) return corrupt(r, "index page", p, "sizes disagree");
    pg->ends = raw + SEG_PAGE_HEADER;
    pg->codes = pg->ends + ends_bytes;
    pg->code_bytes = len - SEG_PAGE_HEADER - (size_t)ends_bytes;
    uint64_t prev = 0;
    for (uint32_t g = 0; g < pg->ngroups; g++) {
        uint64_t e = rice_end(pg, g);
        if (e < prev) return corrupt(r, "index page", p, "groups out of order");
        prev = e;
    }
    /* The codes end in the last byte, followed by fewer than 8 bits of padding. */
    if ((prev + 7) / 8 != pg->code_bytes) return corrupt(r, "index page", p, "sizes disagree");
    return 0;
}

/* Decoding one group of a Rice page: the codes' reader, the group's end, the next value's least and bound. */
typedef struct rice_cursor {
    bit_reader br;
    uint64_t end, next, limit;
} rice_cursor;

static void rice_group(const rice_page *pg, uint32_t g, uint32_t blocks, rice_cursor *c)
{
    c->br = (bit_reader){pg->codes, pg->code_bytes, g ? rice_end(pg, g - 1) : 0};
    c->end = rice_end(pg, g);
    uint64_t b1 = (uint64_t)(g + 1) * pg->group < pg->nb ? (uint64_t)(g + 1) * pg->group : pg->nb;
    c->next = (uint64_t)g * pg->group * blocks;
    c->limit = b1 * blocks;
}

/*
 * The group's next value (bucket in page * blocks + block) into *v: 1, or 0
 * at the group's end. ANPR_ECORRUPT for a code that runs past the group or a
 * value past its buckets.
 */
static int rice_next(const rice_page *pg, rice_cursor *c, uint64_t *v)
{
    if (c->br.pos >= c->end) return c->br.pos == c->end ? 0 : ANPR_ECORRUPT;
    unsigned k = pg->k;
    uint64_t mask = (UINT64_C(1) << k) - 1, w = br_peek(&c->br), q, d;
    unsigned run = (unsigned)__builtin_ctzll(~w | (UINT64_C(1) << 56));
    if (run < 56 && run + 1 + k <= 57) {
        /* The usual case: the whole code lies in the look's 57 bits. */
        q = run;
        d = (q << k) | ((w >> (run + 1)) & mask);
        c->br.pos += run + 1 + k;
    } else {
        uint32_t low = 0;
        if (read_unary(&c->br, &q) < 0 || (k && br_get(&c->br, k, &low) < 0) || q > (c->limit >> k))
            return ANPR_ECORRUPT;
        d = (q << k) | low;
    }
    if (c->br.pos > c->end || d >= c->limit - c->next) return ANPR_ECORRUPT;
    *v = c->next + d;
    c->next = *v + 1;
    return 1;
}

/* Check all of Rice page p: every group decodes to its end, within its buckets; the postings add up. */
static int load_rice_page(seg_reader *r, uint32_t p, uint32_t *np)
{
    rice_page pg;
    int rc = rice_page_open(r, p, NULL, &pg);
    if (rc < 0) return rc;
    uint64_t n = 0, v;
    for (uint32_t g = 0; g < pg.ngroups; g++) {
        rice_cursor c;
        rice_group(&pg, g, r->info.blocks, &c);
        while ((rc = rice_next(&pg, &c, &v)) == 1) n++;
        if (rc < 0) return corrupt(r, "index page", p, "a posting runs past its group");
    }
    if (n != pg.np) return corrupt(r, "index page", p, "postings do not add up");
    uint64_t used = pg.ngroups ? rice_end(&pg, pg.ngroups - 1) : 0;
    if (used % 8 && (pg.codes[used / 8] >> (used % 8)) != 0) return corrupt(r, "index page", p, "bad padding");
    *np = pg.np;
    return 0;
}

/* The probe of a Rice page: decode the bucket's group up to the bucket's last posting. */
static int probe_rice_page(seg_reader *r, uint32_t page, const uint8_t *stored, uint32_t in_page,
                           uint32_t **blocks, size_t *n)
{
    rice_page pg;
    int rc = rice_page_open(r, page, stored, &pg);
    if (rc < 0) return rc;
    rice_cursor c;
    rice_group(&pg, in_page / pg.group, r->info.blocks, &c);
    uint64_t lo = (uint64_t)in_page * r->info.blocks, hi = lo + r->info.blocks, v;
    uint32_t *out = NULL;
    size_t cnt = 0, cap = 0;
    while ((rc = rice_next(&pg, &c, &v)) == 1 && v < hi) {
        if (v < lo) continue;
        if (cnt == cap) {
            cap = cap ? 2 * cap : 8;
            uint32_t *no = realloc(out, cap * sizeof *no);
            if (!no) {
                free(out);
                return -ENOMEM;
            }
            out = no;
        }
        out[cnt++] = (uint32_t)(v - lo);
    }
    if (rc < 0) {
        free(out);
        return corrupt(r, "index page", page, "a posting runs past its group");
    }
    if (!out && !(out = malloc(sizeof *out))) return -ENOMEM;
    *blocks = out;
    *n = cnt;
    return 0;
}

/* Decode all of index page p into r->page_counts and r->page_post, checking every value. */
static int load_page(seg_reader *r, uint32_t p, const uint8_t *stored, uint32_t *nb, uint32_t *np)
{
    unsigned pw;
    int rc = page_header(r, p, stored, nb, np, &pw);
    if (rc < 0) return rc;
    const uint8_t *raw = r->chunk;
    uint64_t count_bytes = ((uint64_t)*nb + *np + 7) / 8;
    if (!r->page_counts) {
        r->page_counts = malloc(r->page_buckets * sizeof *r->page_counts);
        if (!r->page_counts) return -ENOMEM;
    }
    if (*np > r->page_post_cap) {
        free(r->page_post);
        r->page_post = malloc(*np * sizeof *r->page_post);
        r->page_post_cap = r->page_post ? *np : 0;
        if (!r->page_post) return -ENOMEM;
    }
    /* Unary counts: exactly nb zero bits and np one bits, then zero padding. */
    const uint8_t *q = raw + SEG_PAGE_HEADER;
    bit_reader br = {q, (size_t)count_bytes, 0};
    uint64_t ones = 0;
    for (uint32_t b = 0; b < *nb; b++) {
        if (read_unary(&br, &r->page_counts[b]) < 0) return corrupt(r, "index page", p, "counts run past their bytes");
        ones += r->page_counts[b];
    }
    uint64_t bit = br.pos;
    if (ones != *np || bit + 7 < 8 * count_bytes) return corrupt(r, "index page", p, "counts do not add up");
    for (uint64_t k = bit; k < 8 * count_bytes; k++)
        if ((q[k / 8] >> (k % 8)) & 1) return corrupt(r, "index page", p, "bad padding");
    if (bp_unpack(r->page_post, *np, pw, q + count_bytes) < 0)
        return corrupt(r, "index page", p, "bad padding");
    uint64_t sum = 0;
    for (uint32_t b = 0; b < *nb; b++) {
        uint64_t cnt = r->page_counts[b];
        for (uint64_t k = 0; k < cnt; k++) {
            uint64_t blk = r->page_post[sum + k];
            if (blk >= r->info.blocks || (k > 0 && blk <= r->page_post[sum + k - 1]))
                return corrupt(r, "index page", p, "postings out of order or range");
        }
        sum += cnt;
    }
    if (sum != *np) return corrupt(r, "index page", p, "counts do not add up");
    return 0;
}

int seg_reader_page_span(seg_reader *r, const char *plate, uint32_t *page, uint64_t *off, uint32_t *len)
{
    if (!r->pages) return ANPR_EINVAL;
    uint32_t bucket = seg_bucket(seg_plate_key(plate), r->nbuckets);
    *page = bucket / r->page_buckets;
    *off = r->pages[*page].offset;
    *len = r->pages[*page].stored;
    return 0;
}

int seg_reader_probe_page(seg_reader *r, uint32_t page, const uint8_t *stored, const char *plate,
                          uint32_t **blocks, size_t *n)
{
    *blocks = NULL;
    *n = 0;
    uint32_t bucket = seg_bucket(seg_plate_key(plate), r->nbuckets);
    if (!r->pages || bucket / r->page_buckets != page) return ANPR_EINVAL;
    uint32_t in_page = bucket % r->page_buckets;
    if (r->info.format_version >= SEG_FORMAT_RICE_PAGES) return probe_rice_page(r, page, stored, in_page, blocks, n);
    uint32_t nb, np;
    unsigned pw;
    int rc = page_header(r, page, stored, &nb, &np, &pw);
    if (rc < 0) return rc;
    /*
     * Only this bucket is decoded (seg_reader_verify checks whole pages): its
     * postings start after as many ones as precede its in_page-th zero.
     */
    const uint8_t *q = r->chunk + SEG_PAGE_HEADER;
    uint64_t count_bytes = ((uint64_t)nb + np + 7) / 8;
    bit_reader br = {q, (size_t)count_bytes, 0};
    uint64_t start = 0;
    uint32_t zeros = 0;
    while (zeros < in_page) {
        size_t left = br_left(&br);
        if (left == 0) return corrupt(r, "index page", page, "counts run past their bytes");
        unsigned take = left < 56 ? (unsigned)left : 56;
        uint64_t w = br_peek(&br) & ((UINT64_C(1) << take) - 1);
        unsigned z = take - (unsigned)__builtin_popcountll(w);
        if (zeros + z < in_page) {
            /* The whole look lies before the bucket. */
            zeros += z;
            start += take - z;
            br.pos += take;
            continue;
        }
        /* The bucket starts within it: step over zeros one at a time. */
        while (zeros < in_page) {
            unsigned run = (unsigned)__builtin_ctzll(~w);
            start += run;
            w >>= run + 1;
            br.pos += run + 1;
            zeros++;
        }
    }
    uint64_t cnt;
    if (read_unary(&br, &cnt) < 0) return corrupt(r, "index page", page, "counts run past their bytes");
    if (start + cnt > np) return corrupt(r, "index page", page, "counts do not add up");
    uint32_t *out = malloc((cnt ? cnt : 1) * sizeof *out);
    if (!out) return -ENOMEM;
    const uint8_t *post = q + count_bytes;
    for (uint64_t k = 0; k < cnt; k++) {
        uint64_t v = bp_get(post, bp_bytes(np, pw), start + k, pw);
        if (v >= r->info.blocks || (k > 0 && v <= out[k - 1])) {
            free(out);
            return corrupt(r, "index page", page, "postings out of order or range");
        }
        out[k] = (uint32_t)v;
    }
    *blocks = out;
    *n = cnt;
    return 0;
}

int seg_reader_plate_blocks(seg_reader *r, const char *plate, uint32_t **blocks, size_t *n)
{
    *blocks = NULL;
    *n = 0;
    int rc = load_pages(r);
    uint32_t page = 0;
    uint64_t off;
    uint32_t len;
    if (rc == 0) rc = seg_reader_page_span(r, plate, &page, &off, &len);
    if (rc < 0) return rc;
    return seg_reader_probe_page(r, page, NULL, plate, blocks, n);
}

int seg_reader_verify(seg_reader *r)
{
    anpr_row *rows = malloc((r->info.block_rows ? r->info.block_rows : 1) * sizeof *rows);
    if (!rows) return -ENOMEM;
    int rc = 0;
    for (uint32_t b = 0; rc == 0 && b < r->info.blocks; b++) {
        size_t n;
        /* A plate-part chunk's table and sections are checked by their sums too (check_column, shapes_decode). */
        rc = seg_reader_read_block(r, b, rows, &n);
    }
    free(rows);
    if (rc == 0) rc = load_pages(r);
    uint64_t postings = 0;
    for (uint32_t p = 0; rc == 0 && p < r->npages; p++) {
        uint32_t nb, np = 0;
        rc = r->info.format_version >= SEG_FORMAT_RICE_PAGES ? load_rice_page(r, p, &np)
                                                              : load_page(r, p, NULL, &nb, &np);
        postings += np;
    }
    if (rc == 0 && postings != r->info.index_postings)
        rc = anpr_fail(r->err, ANPR_ECORRUPT, "index: %llu postings, the footer says %llu",
                       (unsigned long long)postings, (unsigned long long)r->info.index_postings);
    return rc;
}
