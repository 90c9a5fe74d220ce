/*
 * Segment files (daily segments and the parts they are merged from): the
 * writer that lays out version 1 of the format and the reader that checks
 * and decodes it. docs/format.md is the specification; this is its code.
 *
 * Rows are anpr_row, sorted by (camera, ts_ms, plate) and free of
 * duplicates before they reach the writer; the writer checks the order and
 * refuses rows out of it (ANPR_EINVAL).
 */
#ifndef ANPR_SEGMENT_SEGMENT_H
#define ANPR_SEGMENT_SEGMENT_H

#include <stddef.h>
#include <stdint.h>

#include "anpr/segment.h"
#include "common/errmsg.h"
#include "io/vfs.h"

typedef struct enc_plate_target enc_plate_target; /* encode/encode.h */

/*
 * Writers write version 9; readers read 1 to 9. Version 2 added encodings
 * (plate-split, delta-rice-ck), version 3 two more (huffman-ck,
 * delta-rice-ck2), version 4 one (plate-shapes) and version 5 one
 * (plate-age); version 6 stores the block directory and the index's page
 * directory as zstd frames; version 7 Rice-codes the index's postings;
 * version 8 adds plate-age-radix and version 9 plate-rrr; version 10 sizes
 * the index to the rows exactly instead of to a power of two; version 11
 * adds plate-part, whose table's checksum the plate column's entry keeps.
 * One reader serves them all.
 */
#define SEG_FORMAT_VERSION 11
#define SEG_FORMAT_OLDEST 1
#define SEG_FORMAT_ZSTD_DIRS 6  /* the first version whose directories are zstd frames */
#define SEG_FORMAT_RICE_PAGES 7 /* the first version whose index pages are Rice-coded */
#define SEG_FORMAT_AGE_RADIX 8  /* the first version whose writers use plate-age-radix */
#define SEG_FORMAT_RRR 9        /* the first version whose writers use plate-rrr */
#define SEG_FORMAT_EXACT_INDEX 10 /* the first version whose index has any number of buckets */
#define SEG_FORMAT_PARTS 11       /* the first version whose writers use plate-part */
#define SEG_BLOCK_ROWS_DEFAULT 4096u
#define SEG_BLOCK_ROWS_MAX 65536u

/* Column order in every block, and so on disk. */
enum seg_column {
    SEG_COL_TS = 0,
    SEG_COL_PLATE,
    SEG_COL_CAMERA,
    SEG_COL_LANE,
    SEG_COL_DIRECTION,
    SEG_COL_CONFIDENCE,
    SEG_COL_LAT,
    SEG_COL_LON,
    SEG_NCOLUMNS
};

const char *seg_column_name(unsigned col);

/* ---- Writing ------------------------------------------------------------ */

typedef struct seg_writer seg_writer;

typedef struct seg_write_summary {
    uint64_t rows;
    uint32_t blocks;
    uint64_t bytes;      /* the whole file */
    int64_t min_ts_ms, max_ts_ms;
} seg_write_summary;

/*
 * The writer's bytes go to the sink in pieces of this size, at offsets that
 * are multiples of it, rather than a write per chunk (many of them under a
 * page). Besides sparing system calls, a write this large lets the kernel
 * keep the new file in large page-cache folios where it can, and a query
 * then reads the segment through fewer page lookups (docs/performance.md).
 * A failed write is reported by whichever call filled the piece, or by
 * finish for the last one.
 */
#define SEG_WRITE_PIECE ((size_t)4 << 20)

/*
 * Start a segment of UTC day `day`, written to sink from its current offset
 * (which must be 0). block_rows 0 means SEG_BLOCK_ROWS_DEFAULT.
 * Memory held until finish: the current block, SEG_WRITE_PIECE bytes not yet
 * written, plus about 4.3 bytes a row for the plate-hash index (index_build.h).
 */
int seg_writer_new(seg_writer **out, anpr_sink *sink, int32_t day, int zstd_level,
                   uint32_t block_rows, anpr_errmsg_buf *err);

/*
 * Write format `version` instead of the current one: SEG_FORMAT_ZSTD_DIRS
 * (whose index pages are laid out the old way), SEG_FORMAT_RICE_PAGES
 * (plate-age's ranks at a fixed width), SEG_FORMAT_AGE_RADIX (a plain
 * bitmap of the plates outside the current format), SEG_FORMAT_RRR (a
 * power of two of index buckets), SEG_FORMAT_EXACT_INDEX (plate-rrr) or
 * SEG_FORMAT_VERSION.
 * For tests of the reader's older versions; call before the first add.
 */
int seg_writer_set_version(seg_writer *w, unsigned version);

/*
 * Index buckets for every two rows, 1 (the default), 2, 4 or 8: each
 * doubling halves the blocks a probe lists only because they share its
 * bucket, for about a bit a posting. Pages and groups grow with it, so that
 * they hold as many postings. Call before finish; another value is
 * ANPR_EINVAL.
 */
int seg_writer_set_index_density(seg_writer *w, unsigned density);

/* Add rows in order; any number per call. Rows of another day: ANPR_EINVAL. */
int seg_writer_add(seg_writer *w, const anpr_row *rows, size_t n);

/* Write the last block, the index, the directory and the footer. Does not fsync. */
int seg_writer_finish(seg_writer *w, seg_write_summary *out);

void seg_writer_free(seg_writer *w);

/* ---- Reading ------------------------------------------------------------ */

typedef struct seg_reader seg_reader;

/*
 * Check the header, the footer and the block directory (bounds, checksums)
 * and keep the directory in memory. The index is loaded on the first probe.
 * src and err are borrowed and must outlive the reader: every later error
 * is described in err.
 */
int seg_reader_open(seg_reader **out, const anpr_source *src, anpr_errmsg_buf *err);
void seg_reader_free(seg_reader *r);

void seg_reader_info(const seg_reader *r, anpr_segment_info *out);
int seg_reader_block_info(const seg_reader *r, uint32_t block, anpr_block_info *out);
int seg_reader_column_info(seg_reader *r, unsigned col, anpr_column_info *out);

/*
 * Decode one block (out holds at least block_rows rows). Checks each
 * chunk's checksum before decoding it.
 */
int seg_reader_read_block(seg_reader *r, uint32_t block, anpr_row *out, size_t *n);

/*
 * The blocks that may hold reads whose folded plate is `folded` (the one
 * probe of the plate-hash index). Blocks come in increasing order; a block
 * may hold no such read (another plate shares the bucket), so callers filter
 * rows by plate. *blocks is allocated with malloc and owned by the caller.
 */
int seg_reader_plate_blocks(seg_reader *r, const char *folded, uint32_t **blocks, size_t *n);

/*
 * The same, in steps, for callers that batch their reads (the query planner
 * with io_uring): say which bytes a step needs, read them however, then
 * hand them over. Each checks its bytes exactly as the one-call forms do.
 */

/* Where all of a block's chunks lie: one read of [off, off + len). */
int seg_reader_block_span(const seg_reader *r, uint32_t block, uint64_t *off, uint32_t *len);
/* Decode a block from the bytes of its span. */
int seg_reader_decode_block(seg_reader *r, uint32_t block, const uint8_t *span, anpr_row *out, size_t *n);
/* Only its plates (out[i].plate), to rule a block out before decoding the rest. */
int seg_reader_decode_plates(seg_reader *r, uint32_t block, const uint8_t *span, anpr_row *out, size_t *n);
/*
 * List the rows whose plate matches the target (enc_plate_target_new),
 * comparing codes and bits rather than decoding text: their indexes in
 * at[], their plates in out[].plate, *nhit of them (both arrays hold the
 * block's rows). ANPR_EINVAL when the block's plates are in neither
 * plate-uk nor plate-split (decode them instead).
 */
int seg_reader_find_plate(seg_reader *r, uint32_t block, const uint8_t *span, const enc_plate_target *t, uint32_t *at,
                          anpr_row *out, size_t *nhit);
/*
 * A plate search in steps for a caller that copies a block's bytes (reads,
 * not a mapping): a block whose plates are in plate-part (format 11) can
 * be shown not to hold the plate from its plate chunk's table and the
 * sections the search reads, some 1.5 KB of a 20 KB span, before the span
 * is read. seg_reader_plate_table: where the table lies, or *len 0 for a
 * block whose plates are kept otherwise (read its span). Then, the table's
 * bytes read to `chunk` (a buffer of the chunk's length, standing for the
 * chunk), seg_reader_plate_sections: the ranges of the file the probe reads
 * (at most ENC_PART_PROBE_SECTIONS, *n of them), to read to the same
 * places in `chunk`, and in *rest where the chunk's parts end. Then
 * seg_reader_plate_absent: 1 when the block does not hold the plate, 0
 * when it may: read the rest of its span but the parts (the table and the
 * sections read are all seg_reader_find_plate reads of them) and search
 * it. Or an error. scratch holds the block's rows.
 * Each checks the bytes it trusts: the table against its sum in the block
 * directory, and each section against its sum in the table.
 */
int seg_reader_plate_table(const seg_reader *r, uint32_t block, uint64_t *off, uint32_t *len);
typedef struct seg_range {
    uint64_t off;
    uint32_t len;
} seg_range;
int seg_reader_plate_sections(seg_reader *r, uint32_t block, const uint8_t *chunk, const enc_plate_target *t,
                              seg_range *out, size_t *n, uint64_t *rest);
int seg_reader_plate_absent(seg_reader *r, uint32_t block, const uint8_t *chunk, const enc_plate_target *t,
                            uint32_t *scratch);
/*
 * Then every other column of those rows only, into out[0..nat), and their
 * plates too with plates (a caller that found them by plate has them): a
 * lookup of a few rows need not decode the whole block. The rows are
 * checked against the block's directory entry (day, ranges, order).
 */
int seg_reader_decode_rows(seg_reader *r, uint32_t block, const uint8_t *span, const uint32_t *at, size_t nat,
                           anpr_row *out, int plates);
/*
 * A block's times alone, to pick the rows of a time window before decoding
 * the rest: *ts points at the reader's *n values, valid until its next call.
 */
int seg_reader_decode_times(seg_reader *r, uint32_t block, const uint8_t *span, const int64_t **ts, size_t *n);
/*
 * The rows of a block of one camera whose time lies in [t0, t1): rows
 * *first .. *first + *count - 1 (its rows are in time order), found from
 * the time column's checkpoints without decoding the rest of it
 * (enc_int_decode_window). ANPR_EINVAL when the block holds more than one
 * camera or its times are in another encoding: use seg_reader_decode_times.
 */
int seg_reader_times_in(seg_reader *r, uint32_t block, const uint8_t *span, int64_t t0, int64_t t1, size_t *first,
                        size_t *count);

/* The index page directory's bytes; *len is 0 once it is loaded. */
int seg_reader_pagedir_span(const seg_reader *r, uint64_t *off, uint32_t *len);
/* Load the page directory from its bytes (NULL: read them). */
int seg_reader_load_pagedir(seg_reader *r, const uint8_t *bytes);
/* The page a plate's bucket lies in, and its stored bytes' place (page directory loaded). */
int seg_reader_page_span(seg_reader *r, const char *plate, uint32_t *page, uint64_t *off, uint32_t *len);
/* The probe of seg_reader_plate_blocks, from the page's stored bytes. */
int seg_reader_probe_page(seg_reader *r, uint32_t page, const uint8_t *stored, const char *plate,
                          uint32_t **blocks, size_t *n);

/* Check every checksum and decode every block and the index. */
int seg_reader_verify(seg_reader *r);

#endif
