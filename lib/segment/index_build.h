/*
 * Building a segment's plate-hash index (docs/format.md, "Plate-hash
 * index"): the writer hands over each row's key as rows are added, in block
 * order, and at the end the index pages come out one by one, in bucket order.
 *
 * Keys are kept grouped by their top 8 bits as they arrive, so that the
 * finish works on about 1/256 of the buckets at a time (the keys of one
 * group or two) with its counters in cache, scanning every key two to four
 * times. Memory: 4 bytes a row, 1 KiB a block, and a few MiB of working
 * space at the finish.
 */
#ifndef ANPR_SEGMENT_INDEX_BUILD_H
#define ANPR_SEGMENT_INDEX_BUILD_H

#include <stddef.h>
#include <stdint.h>

#include "encode/encode.h"

typedef struct index_build index_build;

int index_build_new(index_build **out);
void index_build_free(index_build *ib);

/* The key of the next row, which lies in block `block` (blocks in increasing order, from 0). */
int index_build_add(index_build *ib, uint32_t key, uint32_t block);

/*
 * Buckets of the index of a segment of `rows` rows, with `density` (1, 2, 4
 * or 8) buckets for every two rows: exactly that many (at least one, at
 * most 2^32 - 1), as format 10 has them, or with power_of_two the smallest
 * power of two at least that, as formats 1 to 9 had them.
 */
uint64_t index_buckets(uint64_t rows, unsigned density, int power_of_two);

/* How pages are cut: buckets a page, and buckets a group of a format-7 page (0: the unary layout of 1 to 6). */
typedef struct index_layout {
    size_t page_buckets;
    size_t group_buckets;
} index_layout;

/*
 * Encode the index of all keys added, for a segment of `blocks` blocks, in
 * nb buckets (seg_bucket): each page is passed to emit (page holds its
 * encoded bytes; emit may use it as scratch), in bucket order, cut and laid
 * out as lay says: format 7's Rice-coded postings, or formats 1 to 6's
 * unary counts and fixed-width postings. *postings receives the (bucket,
 * block) pairs in all pages.
 */
int index_build_finish(index_build *ib, uint32_t blocks, uint64_t nb, const index_layout *lay,
                       int (*emit)(void *ctx, enc_buf *page), void *ctx, uint64_t *postings);

#endif
