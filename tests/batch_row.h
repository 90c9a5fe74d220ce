/*
 * Read i of a query's column batch as one row: shared by the Check tests
 * (testutil.c) and the fuzz targets, which do not link Check.
 */
#ifndef ANPR_TESTS_BATCH_ROW_H
#define ANPR_TESTS_BATCH_ROW_H

#include <string.h>

#include "anpr/anpr.h"
#include "anpr/segment.h"

static inline void batch_row(anpr_row *out, const anpr_batch *b, size_t i)
{
    memset(out, 0, sizeof *out);
    out->ts_ms = b->ts_ms[i];
    memcpy(out->plate, b->plate[i], sizeof out->plate);
    out->camera = b->camera[i];
    out->lane = b->lane[i];
    out->direction = b->direction[i];
    out->confidence = b->confidence[i];
    out->lat_e7 = b->lat_e7[i];
    out->lon_e7 = b->lon_e7[i];
}

#endif
