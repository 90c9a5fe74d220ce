/*
 * libanpr inspection API: open one segment or part file on its own, list
 * its columns and blocks, verify every checksum, and decode its rows.
 * This is what anpr-dump is built on; ingest services do not need it.
 *
 * Conventions are those of <anpr/anpr.h>.
 */
#ifndef ANPR_SEGMENT_H
#define ANPR_SEGMENT_H

#include <anpr/anpr.h>

#ifdef __cplusplus
extern "C" {
#endif

/* One decoded read as stored: the plate is normalised and NUL-terminated. */
typedef struct anpr_row {
    int64_t ts_ms;
    char plate[ANPR_PLATE_MAX + 1];
    uint32_t camera;
    uint8_t lane;
    uint8_t direction;
    uint8_t confidence;
    int32_t lat_e7;   /* or ANPR_POS_UNKNOWN */
    int32_t lon_e7;   /* or ANPR_POS_UNKNOWN */
} anpr_row;

typedef struct anpr_segment anpr_segment;

/*
 * Open a segment or part file read-only and check its header, footer and
 * block directory (bounds and checksums). Column chunks are checked when
 * they are read, or all at once by anpr_segment_verify().
 *
 * errbuf (optional) receives a detailed message if the open fails.
 * Errors: -errno, ANPR_ECORRUPT, ANPR_EVERSION.
 * The caller owns *out and frees it with anpr_segment_close().
 */
ANPR_API int anpr_segment_open(anpr_segment **out, const char *path,
                               char *errbuf, size_t errbuf_size);

/* Accepts NULL. */
ANPR_API void anpr_segment_close(anpr_segment *seg);

/* Detail of the last error on this handle; never NULL. */
ANPR_API const char *anpr_segment_errmsg(const anpr_segment *seg);

typedef struct anpr_segment_info {
    unsigned format_version;
    int32_t day;              /* UTC day number of every row */
    uint64_t rows;
    uint32_t blocks;
    uint32_t block_rows;      /* rows per block (the last may hold fewer) */
    uint32_t columns;
    uint64_t file_bytes;
    int64_t min_ts_ms;
    int64_t max_ts_ms;
    uint64_t index_bytes;     /* bytes of the plate-hash index on disk */
    uint32_t index_buckets;
    uint64_t index_postings;  /* (bucket, block) pairs */
    uint64_t directory_bytes; /* block directory plus footer */
} anpr_segment_info;

ANPR_API int anpr_segment_info_get(anpr_segment *seg, anpr_segment_info *out);

/* One column, summed over all blocks. */
typedef struct anpr_column_info {
    const char *name;          /* "ts_ms", "plate", ... (static) */
    const char *encoding;      /* encoding of the first block, e.g. "delta-bitpack" (static) */
    uint64_t raw_bytes;        /* the values at their in-memory width */
    uint64_t encoded_bytes;    /* after the light encoding */
    uint64_t stored_bytes;     /* after zstd, as on disk */
    uint32_t zstd_chunks;      /* chunks stored zstd-compressed (the rest are stored as encoded) */
} anpr_column_info;

/* col is 0 .. info.columns-1. */
ANPR_API int anpr_segment_column(anpr_segment *seg, unsigned col, anpr_column_info *out);

typedef struct anpr_block_info {
    uint64_t first_row;
    uint32_t rows;
    int64_t min_ts_ms, max_ts_ms;
    uint32_t camera_min, camera_max;
    int32_t lat_min, lat_max, lon_min, lon_max; /* ANPR_POS_UNKNOWN if no row has a position */
    uint64_t stored_bytes;
} anpr_block_info;

ANPR_API int anpr_segment_block(anpr_segment *seg, uint32_t block, anpr_block_info *out);

/*
 * Read and check every chunk's checksum and decode every block.
 * ANPR_ECORRUPT with anpr_segment_errmsg() naming the first bad chunk
 * ("block 12 column plate: checksum mismatch").
 */
ANPR_API int anpr_segment_verify(anpr_segment *seg);

/*
 * Decode the rows of one block into out, which must hold at least
 * info.block_rows rows; *n receives the count. Rows come in stored order
 * (camera, then time, then plate).
 */
ANPR_API int anpr_segment_rows(anpr_segment *seg, uint32_t block, anpr_row *out, size_t *n);

#ifdef __cplusplus
}
#endif

#endif /* ANPR_SEGMENT_H */
