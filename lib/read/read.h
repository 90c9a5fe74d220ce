/*
 * Reads at the door: validation of an anpr_read into the stored form
 * (anpr_row: normalised plate, fields checked), and the growable arrays of
 * stored rows that queries and journal tails collect. Plate normalisation
 * and folding themselves are public (anpr_plate_normalise, anpr_plate_fold).
 */
#ifndef ANPR_READ_READ_H
#define ANPR_READ_READ_H

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "anpr/anpr.h"
#include "anpr/segment.h"

#define ANPR_DAY_MS INT64_C(86400000)

/* The UTC day of a capture time (floor division; times are never negative here). */
static inline int32_t anpr_day_of(int64_t ts_ms)
{
    return (int32_t)(ts_ms / ANPR_DAY_MS);
}

/* plate.c's misread classes: a character's class, or 0 for one without (anything but A-Z 0-9). */
extern const char plate_fold_table[256];

/* One character folded, as anpr_plate_fold folds each (inline for the finders' inner loops). */
static inline char plate_fold_char(char c)
{
    char f = plate_fold_table[(unsigned char)c];
    return f ? f : c;
}

typedef struct read_limits {
    int64_t max_ts_ms;      /* latest capture time accepted (now + max_future) */
    int64_t min_kept_ms;    /* first ms of the oldest day retention still keeps; 0 if none dropped */
} read_limits;

/*
 * Check every field of in and, when it passes, fill out with the stored
 * form. Returns ANPR_READ_OK or the verdict of the first field that fails,
 * in the order plate, ts_ms, confidence, position.
 */
int read_validate(anpr_row *out, const anpr_read *in, const read_limits *lim);

/*
 * Room in *rows (capacity *cap, `used` of it taken) for `more` rows: the
 * capacity doubles from 4,096 until they fit. 0 or -ENOMEM (*rows kept).
 */
static inline int rows_reserve(anpr_row **rows, size_t *cap, size_t used, size_t more)
{
    if (*cap - used >= more) return 0;
    size_t ncap = *cap ? *cap : 4096;
    while (ncap - used < more) ncap *= 2;
    anpr_row *nr = realloc(*rows, ncap * sizeof *nr);
    if (!nr) return -ENOMEM;
    *rows = nr;
    *cap = ncap;
    return 0;
}

#endif
