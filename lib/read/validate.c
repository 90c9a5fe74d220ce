/* Field checks for one read, and the text of every verdict. */
#include <string.h>

#include "read/read.h"

#define LAT_LIMIT 900000000
#define LON_LIMIT 1800000000

static const struct {
    const char *field;
    const char *text;
} verdicts[ANPR_READ_VERDICT_COUNT] = {
    [ANPR_READ_OK] = {"", "accepted"},
    [ANPR_READ_PLATE_MISSING] = {"plate", "plate: missing"},
    [ANPR_READ_PLATE_EMPTY] = {"plate", "plate: empty after normalisation"},
    [ANPR_READ_PLATE_TOO_LONG] = {"plate", "plate: longer than 15 characters"},
    [ANPR_READ_PLATE_BAD_CHAR] = {"plate", "plate: character other than A-Z or 0-9"},
    [ANPR_READ_TS_BEFORE_EPOCH] = {"ts_ms", "ts_ms: before 1970-01-01"},
    [ANPR_READ_TS_FUTURE] = {"ts_ms", "ts_ms: too far in the future"},
    [ANPR_READ_TS_EXPIRED] = {"ts_ms", "ts_ms: day already dropped by retention"},
    [ANPR_READ_CONFIDENCE_RANGE] = {"confidence", "confidence: over 100"},
    [ANPR_READ_LAT_RANGE] = {"lat", "lat: outside -90..90 degrees"},
    [ANPR_READ_LON_RANGE] = {"lon", "lon: outside -180..180 degrees"},
    [ANPR_READ_POS_PARTIAL] = {"lat/lon", "lat/lon: one known and the other unknown"},
};

const char *anpr_verdict_str(int verdict)
{
    if (verdict < 0 || verdict >= ANPR_READ_VERDICT_COUNT) return "unknown verdict";
    return verdicts[verdict].text;
}

const char *anpr_verdict_field(int verdict)
{
    if (verdict < 0 || verdict >= ANPR_READ_VERDICT_COUNT) return "";
    return verdicts[verdict].field;
}

int read_validate(anpr_row *out, const anpr_read *in, const read_limits *lim)
{
    /* Zero the padding after the NUL: rows are compared and hashed over all 16 bytes. */
    memset(out->plate, 0, sizeof out->plate);
    int v = anpr_plate_normalise(out->plate, in->plate);
    if (v != ANPR_READ_OK) return v;
    if (in->ts_ms < 0) return ANPR_READ_TS_BEFORE_EPOCH;
    if (in->ts_ms > lim->max_ts_ms) return ANPR_READ_TS_FUTURE;
    if (in->ts_ms < lim->min_kept_ms) return ANPR_READ_TS_EXPIRED;
    if (in->confidence > 100) return ANPR_READ_CONFIDENCE_RANGE;
    int lat_known = in->lat_e7 != ANPR_POS_UNKNOWN;
    int lon_known = in->lon_e7 != ANPR_POS_UNKNOWN;
    if (lat_known != lon_known) return ANPR_READ_POS_PARTIAL;
    if (lat_known && (in->lat_e7 < -LAT_LIMIT || in->lat_e7 > LAT_LIMIT)) return ANPR_READ_LAT_RANGE;
    if (lon_known && (in->lon_e7 < -LON_LIMIT || in->lon_e7 > LON_LIMIT)) return ANPR_READ_LON_RANGE;
    out->ts_ms = in->ts_ms;
    out->camera = in->camera;
    out->lane = in->lane;
    out->direction = in->direction;
    out->confidence = in->confidence;
    out->lat_e7 = in->lat_e7;
    out->lon_e7 = in->lon_e7;
    return ANPR_READ_OK;
}
