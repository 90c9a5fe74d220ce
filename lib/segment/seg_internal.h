/* What the segment writer and reader share beyond the byte layout. */
#ifndef ANPR_SEGMENT_SEG_INTERNAL_H
#define ANPR_SEGMENT_SEG_INTERNAL_H

#include <stdint.h>

#include "anpr/segment.h"

/* The index key of a plate: the top 32 bits of the xxh3 of its folded form. */
uint32_t seg_plate_key(const char *plate);
/* The same for a plate of len characters zero-padded to ANPR_PLATE_MAX + 1 bytes, as a row holds it. */
uint32_t seg_plate_key_padded(const char *plate, size_t len);

/* The bucket of a key for a table of 2^bits buckets. */
static inline uint32_t seg_bucket(uint32_t key, unsigned bits)
{
    return bits ? key >> (32 - bits) : 0;
}

/* Widen column `col` of rows into values (integer columns only). */
void seg_column_values(int64_t *v, const anpr_row *rows, size_t n, unsigned col);

#endif
