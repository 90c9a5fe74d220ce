/*
 * Byte layout of segment format version 1, shared by the writer and the
 * reader. docs/format.md ("Segment files") is the specification; the
 * offsets here are its tables in code.
 */
#ifndef ANPR_SEGMENT_SEG_LAYOUT_H
#define ANPR_SEGMENT_SEG_LAYOUT_H

#include <stdint.h>

#define SEG_MAGIC "ANPRSEG1"
#define SEG_FOOTER_MAGIC "ANPRSEGF"
#define SEG_HEADER_SIZE 16
#define SEG_FOOTER_SIZE 128

/* Per block in the directory: a fixed part, then one entry per column. */
#define SEG_BLOCK_FIXED 56
#define SEG_COLUMN_ENTRY 32
#define SEG_BLOCK_ENTRY (SEG_BLOCK_FIXED + SEG_NCOLUMNS * SEG_COLUMN_ENTRY)

/* Plate-hash index pages: a page holds the postings of this many consecutive buckets. */
#define SEG_PAGE_BUCKETS 1024u
#define SEG_PAGE_ENTRY 32
/* u32 buckets, u32 postings; then in formats 1-6 u8 0, u8 posting width, u16 0; in 7 u8 k, u8 end bytes, u16 group */
#define SEG_PAGE_HEADER 12
/* Format 7 pages: gaps restart every this many buckets; Rice parameters up to this. */
#define SEG_GROUP_BUCKETS 128u
#define SEG_RICE_MAX_K 32u
/* A page directory entry's encoding byte: the page's layout. */
enum seg_page_layout { SEG_PAGE_UNARY = 0, SEG_PAGE_RICE = 1 };

/* Block ids in postings are 16 bits, so a segment holds at most this many blocks. */
#define SEG_MAX_BLOCKS 65535u

enum seg_compression { SEG_STORED = 0, SEG_ZSTD = 1 };

/* Footer field offsets. */
enum {
    FT_MAGIC = 0, FT_VERSION = 8, FT_FLAGS = 10, FT_DAY = 12, FT_ROWS = 16, FT_BLOCKS = 24,
    FT_BLOCK_ROWS = 28, FT_MIN_TS = 32, FT_MAX_TS = 40, FT_DIR_OFF = 48, FT_DIR_LEN = 56,
    FT_PAGE_BUCKETS = 60, FT_DIR_SUM = 64, FT_PAGEDIR_OFF = 72, FT_PAGEDIR_LEN = 80,
    FT_BUCKETS = 84, FT_PAGEDIR_SUM = 88, FT_POSTINGS = 96, FT_INDEX_BYTES = 104,
    FT_RESERVED = 112, FT_SUM = 120
};

/* Block directory entry field offsets. */
enum {
    BD_FIRST_ROW = 0, BD_ROWS = 8, BD_RESERVED = 12, BD_MIN_TS = 16, BD_MAX_TS = 24, BD_CAM_MIN = 32,
    BD_CAM_MAX = 36, BD_LAT_MIN = 40, BD_LAT_MAX = 44, BD_LON_MIN = 48, BD_LON_MAX = 52,
    BD_COLUMNS = 56
};

/* Column (chunk) entry, and index page entry, field offsets. */
enum {
    CE_OFFSET = 0, CE_STORED = 8, CE_ENCODED = 12, CE_ENCODING = 16, CE_COMPRESSION = 17,
    CE_RESERVED = 18, CE_TABLE_SUM = 20, CE_CHECKSUM = 24
};

#endif
