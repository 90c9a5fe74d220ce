/*
 * Small helpers shared by the measurement programs of bench/ (plate_dict,
 * plate_registry): their arguments, and the width of a fixed-width code.
 */
#ifndef ANPR_BENCH_MEASURE_H
#define ANPR_BENCH_MEASURE_H

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

/* Bits a fixed-width code needs to tell n values apart: the smallest w with 2^w >= n. */
static inline unsigned measure_width(uint64_t n)
{
    unsigned w = 0;
    while (w < 64 && (UINT64_C(1) << w) < n) w++;
    return w;
}

/* A whole decimal number from s into *v: 0, or -1 when s is not one. */
static inline int measure_whole(const char *s, uint64_t *v)
{
    char *end;
    if (*s < '0' || *s > '9') return -1;
    errno = 0;
    *v = strtoull(s, &end, 10);
    return *end || errno ? -1 : 0;
}

#endif
