/* What the segment fuzz targets check of any bytes given as a segment file (segment_check.c). */
#ifndef ANPR_TESTS_FUZZ_SEGMENT_CHECK_H
#define ANPR_TESTS_FUZZ_SEGMENT_CHECK_H

#include <stddef.h>
#include <stdint.h>

/* Aborts if the bytes crash a reader or decode to an invalid row; refusals are fine. */
void segment_check_bytes(const uint8_t *data, size_t size);

#endif
