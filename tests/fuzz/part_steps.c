/* plate-part's probe and search in steps, checked against the whole chunk (part_steps.h). */
#include <stdlib.h>
#include <string.h>

#include "anpr/anpr.h"
#include "encode/encode.h"
#include "part_steps.h"

void part_steps_check(const uint8_t *src, size_t len, size_t n, const enc_plate_target *target, int absent)
{
    uint32_t sum = enc_part_sum(src, ENC_PART_TABLE_BYTES), parts_end;
    enc_section sec[ENC_PART_PROBE_SECTIONS];
    size_t ns;
    const char *what;
    if (enc_plate_part_sections(src, len, n, target, sum, sec, &ns, &parts_end, &what) != ANPR_OK) {
        if (absent >= 0) abort(); /* only a table that fails makes it fail, and the probe then too */
        return;
    }
    if (ns > ENC_PART_PROBE_SECTIONS || parts_end < ENC_PART_TABLE_BYTES || parts_end > len) abort();
    uint8_t *copy = malloc(len);
    uint32_t *at = malloc(2 * (n ? n : 1) * sizeof *at);
    anpr_row *found = calloc(2 * (n ? n : 1), sizeof *found);
    if (!copy || !at || !found) abort();
    memset(copy, 0xA5, len);
    memcpy(copy, src, ENC_PART_TABLE_BYTES);
    for (size_t k = 0; k < ns; k++) {
        if (sec[k].len == 0 || sec[k].off < ENC_PART_TABLE_BYTES || sec[k].off > len || sec[k].len > len - sec[k].off)
            abort();
        if (sec[k].off < parts_end && sec[k].off + sec[k].len > parts_end) abort(); /* a part, or after the parts */
        memcpy(copy + sec[k].off, src + sec[k].off, sec[k].len);
    }
    if (enc_plate_part_absent(copy, len, n, target, sum, at, &what) != absent) abort();
    memcpy(copy + parts_end, src + parts_end, len - parts_end);
    size_t h0 = 0, h1 = 0;
    int r0 = enc_plate_part_find(src, len, n, target, sum, at, found, &h0, &what);
    int r1 = enc_plate_part_find(copy, len, n, target, sum, at + n, found + n, &h1, &what);
    if (r0 != r1 || (r0 == ANPR_OK && h0 != h1)) abort();
    for (size_t h = 0; r0 == ANPR_OK && h < h0; h++)
        if (at[h] != at[n + h] || strcmp(found[h].plate, found[n + h].plate) != 0) abort();
    free(found);
    free(at);
    free(copy);
}
