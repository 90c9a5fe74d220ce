/*
 * Fuzz target: any bytes as a segment file must be refused at open, or
 * verify and decode only to valid rows, with every probe answering in
 * bounds (segment_check.c). Most mutations stop at a checksum; the
 * fuzz_segment_signed target re-signs them to reach the decoders.
 */
#include "segment_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    segment_check_bytes(data, size);
    return 0;
}
