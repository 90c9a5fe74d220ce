/*
 * Fuzz target: any bytes as a MANIFEST must decode cleanly or be refused,
 * never crash. Each input is tried as it is and again with its trailing
 * checksum made right, so that mutations reach the checks behind it.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "anpr/anpr.h"
#include "common/bytes.h"
#include "common/hash.h"
#include "store/manifest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void decode_one(const uint8_t *data, size_t size)
{
    manifest m;
    if (manifest_decode(&m, data, size, NULL) != ANPR_OK) return;
    /* What decodes must encode back to the same bytes. */
    uint8_t *again;
    size_t len;
    if (manifest_encode(&m, &again, &len) == ANPR_OK) {
        if (len != size || memcmp(again, data, len) != 0) abort();
        free(again);
    }
    manifest_free(&m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    decode_one(data, size);
    if (size >= 8) {
        uint8_t *fixed = malloc(size);
        if (!fixed) return 0;
        memcpy(fixed, data, size);
        put_u64(fixed + size - 8, anpr_checksum(fixed, size - 8));
        decode_one(fixed, size);
        free(fixed);
    }
    return 0;
}
