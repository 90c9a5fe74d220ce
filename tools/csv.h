/*
 * The CSV reader behind `anpr ingest`: a header row names the columns
 * (ts_ms or ts, plate, camera, lane, direction, confidence, lat, lon; any
 * order, extra columns ignored), then one read a line. A bad line is
 * reported with its number, column and reason, and reading goes on.
 */
#ifndef ANPR_TOOLS_CSV_H
#define ANPR_TOOLS_CSV_H

#include <stdint.h>
#include <stdio.h>

#include "anpr/anpr.h"

#define CSV_LINE_MAX 65536
#define CSV_PLATE_MAX 64

typedef struct csv_reader csv_reader;

/* Read the header from f (borrowed). On failure err says why (missing column, empty input, ...). */
int csv_open(csv_reader **out, FILE *f, char *err, size_t err_size);

/*
 * The next read. Returns 1 with *out filled (out->plate points into plate,
 * which must hold CSV_PLATE_MAX bytes), 0 at the end of the input, or -1 for
 * a bad line, with err naming it ("line 17: camera: \"12x\" is not an
 * unsigned integer"). Blank lines are skipped.
 */
int csv_next(csv_reader *r, anpr_read *out, char *plate, char *err, size_t err_size);

/* The number of the line csv_next last returned (the header is line 1). */
unsigned long csv_line(const csv_reader *r);

void csv_close(csv_reader *r);

/* A time as ms since the epoch ("1762071330123") or ISO-8601 UTC ("2026-11-02T08:15:30.123Z"). 0 or -1. */
int csv_parse_time(const char *s, int64_t *ms);

/* Decimal degrees with up to 7 places, exactly, in units of 1e-7 degree. 0 or -1. */
int csv_parse_degrees(const char *s, int32_t *e7);

#endif
