/*
 * Fuzz target: a segment file whose checksums are made right again after
 * mutation. Mutated bytes of a segment almost always fail a checksum before
 * any decoder sees them; here every chunk's, index page's, directory's and
 * the footer's checksum is recomputed over whatever the bytes now are (where
 * the entries point inside the file), so that the mutations reach the
 * header, footer and directory checks and the column and index decoders.
 * From format 6 the directories are zstd frames: they are inflated,
 * re-signed inside and deflated again; from format 11 a plate-part chunk's
 * table of sums and the sum of the table are made right too. Then the same
 * checks as fuzz_segment (segment_check.c).
 */
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#include "common/bytes.h"
#include "common/hash.h"
#include "segment_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum {
    FOOTER = 128,
    BLOCK_ENTRY = 312,
    BLOCK_FIXED = 56,
    COLUMN_ENTRY = 32,
    COLUMNS = 8,
    ZSTD_DIRS_VERSION = 6, /* from this format version both directories are zstd frames */
};

/*
 * A plate-part chunk (format 11) stored as it is: the sums in its table
 * (each part's, then the part ids to the ranks, then the long forms) made
 * right for its bytes where the table's sizes fit them, and the table's
 * own sum in its entry (bytes 20 to 23).
 */
static void sign_plate_part(uint8_t *c, size_t len, uint8_t *e)
{
    enum { PARTS = 8, TABLE = 60 };
    if (len < TABLE) return;
    size_t at = TABLE, n0 = 0;
    for (int p = 0; p < PARTS; p++) {
        size_t count = get_u16(c + 2 * p), bytes = (count * 20 + 7) / 8;
        if (bytes > len - at) return;
        put_u32(c + 16 + 4 * p, (uint32_t)anpr_checksum(c + at, bytes));
        at += bytes;
        n0 += count;
    }
    size_t lf = get_u32(c + 56);
    if ((n0 * 3 + 7) / 8 > len - at || lf > len - at) return;
    put_u32(c + 48, (uint32_t)anpr_checksum(c + at, len - lf - at));
    put_u32(c + 52, (uint32_t)anpr_checksum(c + len - lf, lf));
    put_u32(e + 20, (uint32_t)anpr_checksum(c, TABLE));
}

/* Re-sign a 32-byte chunk entry if its chunk lies inside the file. */
static void sign_entry(uint8_t *f, size_t size, uint8_t *e)
{
    uint64_t off = get_u64(e);
    uint32_t stored = get_u32(e + 8);
    if (off > size || stored > size - off) return;
    if (e[16] == 16 && e[17] == 0) sign_plate_part(f + off, stored, e);
    put_u64(e + 24, anpr_checksum(f + off, stored));
}

/* Where a region named by the footer lies inside the file before the footer; else NULL. */
static uint8_t *region(uint8_t *f, size_t size, uint64_t off, uint64_t len)
{
    return off <= size - FOOTER && len <= size - FOOTER - off ? f + off : NULL;
}

/* Re-sign the chunk entries of a block directory (len bytes) and of a page directory. */
static void sign_dir(uint8_t *f, size_t size, uint8_t *dir, size_t len)
{
    for (size_t b = 0; b + BLOCK_ENTRY <= len; b += BLOCK_ENTRY)
        for (int c = 0; c < COLUMNS; c++) sign_entry(f, size, dir + b + BLOCK_FIXED + c * COLUMN_ENTRY);
}

static void sign_pagedir(uint8_t *f, size_t size, uint8_t *pagedir, size_t len)
{
    for (size_t p = 0; p + COLUMN_ENTRY <= len; p += COLUMN_ENTRY) sign_entry(f, size, pagedir + p);
}

/* Directories stored as they are (formats 1 to 5): re-signed in place. */
static void resign_raw(uint8_t *f, size_t size)
{
    uint8_t *foot = f + size - FOOTER;
    uint64_t dir_off = get_u64(foot + 48), pagedir_off = get_u64(foot + 72);
    uint32_t dir_len = get_u32(foot + 56), pagedir_len = get_u32(foot + 80);
    uint8_t *dir = region(f, size, dir_off, dir_len);
    if (dir) {
        sign_dir(f, size, dir, dir_len);
        put_u64(foot + 64, anpr_checksum(dir, dir_len));
    }
    uint8_t *pagedir = region(f, size, pagedir_off, pagedir_len);
    if (pagedir) {
        sign_pagedir(f, size, pagedir, pagedir_len);
        put_u64(foot + 88, anpr_checksum(pagedir, pagedir_len));
    }
    put_u64(foot + 120, anpr_checksum(foot, 120));
}

/* A zstd frame's content (at most 64 MiB), or NULL; its size in *n. */
static uint8_t *inflate(const uint8_t *src, size_t len, size_t *n)
{
    unsigned long long size = ZSTD_getFrameContentSize(src, len);
    if (size == ZSTD_CONTENTSIZE_ERROR || size == ZSTD_CONTENTSIZE_UNKNOWN || size > ((size_t)64 << 20)) return NULL;
    uint8_t *out = malloc(size ? size : 1);
    if (out && ZSTD_decompress(out, size, src, len) != size) {
        free(out);
        return NULL;
    }
    *n = size;
    return out;
}

/*
 * Directories stored as zstd frames (format 6): where both inflate, their
 * entries are re-signed and the file is rebuilt with them deflated again
 * (their sizes change, so the footer moves); otherwise the frames' own
 * checksums are made right, so that the mutated frames reach the reader.
 * Returns the new file (the caller frees it) and its size, or NULL.
 */
static uint8_t *resign_zstd(uint8_t *f, size_t size, size_t *out_size)
{
    uint8_t *foot = f + size - FOOTER;
    uint64_t dir_off = get_u64(foot + 48), pagedir_off = get_u64(foot + 72);
    uint32_t dir_len = get_u32(foot + 56), pagedir_len = get_u32(foot + 80);
    uint8_t *dir = region(f, size, dir_off, dir_len), *pagedir = region(f, size, pagedir_off, pagedir_len);
    size_t n_dir = 0, n_pagedir = 0;
    uint8_t *raw_dir = dir ? inflate(dir, dir_len, &n_dir) : NULL;
    uint8_t *raw_pagedir = pagedir ? inflate(pagedir, pagedir_len, &n_pagedir) : NULL;
    uint8_t *out = NULL;
    if (raw_dir && raw_pagedir) {
        sign_dir(f, size, raw_dir, n_dir);
        sign_pagedir(f, size, raw_pagedir, n_pagedir);
        size_t bound = ZSTD_compressBound(n_dir) + ZSTD_compressBound(n_pagedir);
        out = malloc(pagedir_off + bound + FOOTER);
        if (out) {
            memcpy(out, f, pagedir_off);
            size_t zp = ZSTD_compress(out + pagedir_off, bound, raw_pagedir, n_pagedir, 1);
            size_t zd = ZSTD_isError(zp) ? zp : ZSTD_compress(out + pagedir_off + zp, bound - zp, raw_dir, n_dir, 1);
            if (ZSTD_isError(zp) || ZSTD_isError(zd)) {
                free(out);
                out = NULL;
            } else {
                uint8_t *nf = out + pagedir_off + zp + zd;
                memcpy(nf, foot, FOOTER);
                put_u64(nf + 72, pagedir_off);
                put_u32(nf + 80, (uint32_t)zp);
                put_u64(nf + 88, anpr_checksum(out + pagedir_off, zp));
                put_u64(nf + 48, pagedir_off + zp);
                put_u32(nf + 56, (uint32_t)zd);
                put_u64(nf + 64, anpr_checksum(out + pagedir_off + zp, zd));
                put_u64(nf + 120, anpr_checksum(nf, 120));
                *out_size = pagedir_off + zp + zd + FOOTER;
            }
        }
    }
    free(raw_dir);
    free(raw_pagedir);
    if (!out) {
        if (dir) put_u64(foot + 64, anpr_checksum(dir, dir_len));
        if (pagedir) put_u64(foot + 88, anpr_checksum(pagedir, pagedir_len));
        put_u64(foot + 120, anpr_checksum(foot, 120));
    }
    return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *copy = malloc(size ? size : 1);
    if (!copy) return 0;
    memcpy(copy, data, size);
    uint8_t *rebuilt = NULL;
    size_t rebuilt_size = 0;
    if (size >= 16 + FOOTER) {
        if (get_u16(copy + size - FOOTER + 8) >= ZSTD_DIRS_VERSION)
            rebuilt = resign_zstd(copy, size, &rebuilt_size);
        else
            resign_raw(copy, size);
    }
    if (rebuilt) segment_check_bytes(rebuilt, rebuilt_size);
    else segment_check_bytes(copy, size);
    free(rebuilt);
    free(copy);
    return 0;
}
