/*
 * Fuzz target: a segment file whose checksums are made right again after
 * mutation. Mutated bytes of a segment almost always fail a checksum before
 * any decoder sees them; here every chunk's, index page's, directory's and
 * the footer's checksum is recomputed over whatever the bytes now are (where
 * the entries point inside the file), so that the mutations reach the
 * header, footer and directory checks and the column and index decoders.
 * Then the same checks as fuzz_segment (segment_check.c).
 */
#include <stdlib.h>
#include <string.h>

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
};

/* Re-sign a 32-byte chunk entry if its chunk lies inside the file. */
static void sign_entry(uint8_t *f, size_t size, uint8_t *e)
{
    uint64_t off = get_u64(e);
    uint32_t stored = get_u32(e + 8);
    if (off <= size && stored <= size - off) put_u64(e + 24, anpr_checksum(f + off, stored));
}

/* Where a region named by the footer lies inside the file before the footer; else NULL. */
static uint8_t *region(uint8_t *f, size_t size, uint64_t off, uint64_t len)
{
    return off <= size - FOOTER && len <= size - FOOTER - off ? f + off : NULL;
}

static void resign(uint8_t *f, size_t size)
{
    if (size < 16 + FOOTER) return;
    uint8_t *foot = f + size - FOOTER;
    uint64_t dir_off = get_u64(foot + 48), pagedir_off = get_u64(foot + 72);
    uint32_t dir_len = get_u32(foot + 56), pagedir_len = get_u32(foot + 80);
    uint8_t *dir = region(f, size, dir_off, dir_len);
    if (dir) {
        for (uint32_t b = 0; b + BLOCK_ENTRY <= dir_len; b += BLOCK_ENTRY)
            for (int c = 0; c < COLUMNS; c++) sign_entry(f, size, dir + b + BLOCK_FIXED + c * COLUMN_ENTRY);
        put_u64(foot + 64, anpr_checksum(dir, dir_len));
    }
    uint8_t *pagedir = region(f, size, pagedir_off, pagedir_len);
    if (pagedir) {
        for (uint32_t p = 0; p + COLUMN_ENTRY <= pagedir_len; p += COLUMN_ENTRY) sign_entry(f, size, pagedir + p);
        put_u64(foot + 88, anpr_checksum(pagedir, pagedir_len));
    }
    put_u64(foot + 120, anpr_checksum(foot, 120));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *copy = malloc(size ? size : 1);
    if (!copy) return 0;
    memcpy(copy, data, size);
    resign(copy, size);
    segment_check_bytes(copy, size);
    free(copy);
    return 0;
}
