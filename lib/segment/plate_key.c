/* The plate-hash index key, and the columns as integer arrays. */
#include <string.h>

#include "common/bytes.h"
#include "common/hash.h"
#include "read/read.h"
#include "segment/seg_internal.h"
#include "segment/segment.h"

#if defined(__SSE2__)
#include <emmintrin.h>

/*
 * The sixteen bytes at p folded at once: where a byte is one of the
 * confusable letters, it is xor'ed into its class's digit (the classes of
 * plate_fold_table; test_segment checks the two agree for every character
 * at every position). Three instructions a letter for all sixteen bytes,
 * where the table took a load, a test and a select for each byte: this runs
 * for every row a flush or a merge writes.
 */
static inline void fold16(uint8_t out[16], const char *p)
{
    static const char from[8] = {'B', 'D', 'G', 'I', 'O', 'Q', 'S', 'Z'};
    static const char to[8] = {'8', '0', '6', '1', '0', '0', '5', '2'};
    __m128i v = _mm_loadu_si128((const __m128i *)(const void *)p), f = v;
    for (unsigned i = 0; i < 8; i++) {
        __m128i hit = _mm_cmpeq_epi8(v, _mm_set1_epi8(from[i]));
        f = _mm_xor_si128(f, _mm_and_si128(hit, _mm_set1_epi8((char)(from[i] ^ to[i]))));
    }
    _mm_storeu_si128((__m128i *)(void *)out, f);
}
#else
/* Eight plate bytes folded into one little-endian word, without a branch on the plate's length. */
static inline uint64_t fold_word(const char *p)
{
    uint64_t w = 0;
    for (unsigned i = 0; i < 8; i++) w |= (uint64_t)(unsigned char)plate_fold_char(p[i]) << (8 * i);
    return w;
}

static inline void fold16(uint8_t out[16], const char *p)
{
    put_u64(out, fold_word(p));
    put_u64(out + 8, fold_word(p + 8));
}
#endif

uint32_t seg_plate_key_padded(const char *plate, size_t len)
{
    /*
     * Keyed on the folded plate, so an exact and a misread-tolerant lookup are
     * the same probe. Every row a segment writes is keyed, so this is written
     * for speed: all 16 bytes are folded (the padding folds to itself) and
     * stored whole. A loop up to the plate's end mispredicted its exit on
     * every plate of another length, and bytes stored one at a time reached
     * XXH3's wider loads only after a store-forwarding stall; each took longer
     * than the hash.
     */
    /* Sixteen bytes without a terminator key as their first ANPR_PLATE_MAX, as seg_plate_key reads them. */
    if (len > ANPR_PLATE_MAX) len = ANPR_PLATE_MAX;
    uint8_t folded[16];
    fold16(folded, plate);
    return (uint32_t)(anpr_checksum(folded, len) >> 32);
}

uint32_t seg_plate_key(const char *plate)
{
    char padded[ANPR_PLATE_MAX + 1] = {0};
    size_t len = strnlen(plate, ANPR_PLATE_MAX);
    memcpy(padded, plate, len);
    return seg_plate_key_padded(padded, len);
}

static const char *const column_names[SEG_NCOLUMNS] = {
    [SEG_COL_TS] = "ts_ms", [SEG_COL_PLATE] = "plate", [SEG_COL_CAMERA] = "camera",
    [SEG_COL_LANE] = "lane", [SEG_COL_DIRECTION] = "direction", [SEG_COL_CONFIDENCE] = "confidence",
    [SEG_COL_LAT] = "lat", [SEG_COL_LON] = "lon",
};

const char *seg_column_name(unsigned col)
{
    return col < SEG_NCOLUMNS ? column_names[col] : "unknown";
}

void seg_column_values(int64_t *v, const anpr_row *rows, size_t n, unsigned col)
{
    /* One loop a column rather than a switch a row: this runs for every value a segment writes. */
#define COPY_FIELD(field)                                                                                            \
    for (size_t i = 0; i < n; i++) v[i] = rows[i].field;                                                              \
    break
    switch (col) {
    case SEG_COL_TS: COPY_FIELD(ts_ms);
    case SEG_COL_CAMERA: COPY_FIELD(camera);
    case SEG_COL_LANE: COPY_FIELD(lane);
    case SEG_COL_DIRECTION: COPY_FIELD(direction);
    case SEG_COL_CONFIDENCE: COPY_FIELD(confidence);
    case SEG_COL_LAT: COPY_FIELD(lat_e7);
    case SEG_COL_LON: COPY_FIELD(lon_e7);
    default: memset(v, 0, n * sizeof *v); break;
    }
#undef COPY_FIELD
}
