/* What the segment writer and reader share beyond the byte layout. */
#ifndef ANPR_SEGMENT_SEG_INTERNAL_H
#define ANPR_SEGMENT_SEG_INTERNAL_H

#include <stdint.h>

#include "anpr/segment.h"

/* The index key of a plate: the top 32 bits of the xxh3 of its folded form. */
uint32_t seg_plate_key(const char *plate);
/* The same for a plate of len characters zero-padded to ANPR_PLATE_MAX + 1 bytes, as a row holds it. */
uint32_t seg_plate_key_padded(const char *plate, size_t len);

/*
 * The bucket of a key in a table of nb buckets (1 to 2^32): the key scaled
 * to the table, so that buckets follow keys in order. For nb = 2^bits, the
 * only sizes before format 10, that is the key's top bits.
 */
static inline uint32_t seg_bucket(uint32_t key, uint64_t nb)
{
    return (uint32_t)(((uint64_t)key * nb) >> 32);
}

/* Widen column `col` of rows into values (integer columns only). */
void seg_column_values(int64_t *v, const anpr_row *rows, size_t n, unsigned col);

#endif
