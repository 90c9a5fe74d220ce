/* What the plate fuzz targets check of a plate-part chunk probed in steps (part_steps.c). */
#ifndef ANPR_TESTS_FUZZ_PART_STEPS_H
#define ANPR_TESTS_FUZZ_PART_STEPS_H

#include <stddef.h>
#include <stdint.h>

#include "encode/encode.h"

/*
 * plate-part in steps, as a query that copies blocks probes them: the
 * sections enc_plate_part_sections names lie inside the chunk, and from the
 * table and those alone (every other byte poisoned) the probe answers as it
 * does on the whole chunk (`absent`, enc_plate_part_absent's answer there);
 * with the bytes from the parts' end on as well, so does the search, row
 * for row. Aborts where they do not. len is at least ENC_PART_TABLE_BYTES.
 */
void part_steps_check(const uint8_t *src, size_t len, size_t n, const enc_plate_target *target, int absent);

#endif
