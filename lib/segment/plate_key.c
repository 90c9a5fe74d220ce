/* The plate-hash index key, and the columns as integer arrays. */
#include <string.h>

#include "common/hash.h"
#include "segment/seg_internal.h"
#include "segment/segment.h"

uint32_t seg_plate_key(const char *plate)
{
    /* Keyed on the folded plate, so an exact and a misread-tolerant lookup are the same probe. */
    char folded[ANPR_PLATE_MAX + 1];
    size_t len = anpr_plate_fold(folded, plate);
    return (uint32_t)(anpr_checksum(folded, len) >> 32);
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
    for (size_t i = 0; i < n; i++) {
        const anpr_row *r = &rows[i];
        switch (col) {
        case SEG_COL_TS: v[i] = r->ts_ms; break;
        case SEG_COL_CAMERA: v[i] = r->camera; break;
        case SEG_COL_LANE: v[i] = r->lane; break;
        case SEG_COL_DIRECTION: v[i] = r->direction; break;
        case SEG_COL_CONFIDENCE: v[i] = r->confidence; break;
        case SEG_COL_LAT: v[i] = r->lat_e7; break;
        case SEG_COL_LON: v[i] = r->lon_e7; break;
        default: v[i] = 0; break;
        }
    }
}
