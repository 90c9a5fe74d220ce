/*
 * The synthetic national workload: a deterministic stream of plate reads
 * built from the facts in the design's workload notes (UK plate formats,
 * skewed camera and vehicle popularity, a diurnal curve, OCR misreads, late
 * reads, resent duplicates, mobile cameras with their own GPS positions).
 * Used by the tests, the demo and the benchmarks. Not part of libanpr.
 */
#ifndef ANPR_SYNTH_H
#define ANPR_SYNTH_H

#include <stdint.h>
#include <stdio.h>

#include "anpr/anpr.h"

typedef struct synth_config {
    uint64_t seed;
    uint64_t reads_per_day;   /* national: 60,000,000 */
    uint32_t days;            /* consecutive UTC days from start_ms */
    int64_t start_ms;         /* midnight UTC of the first day */
    uint32_t cameras;         /* fixed and mobile cameras together */
    uint64_t vehicles;        /* vehicle population */
    double misread_rate;      /* reads with one OCR confusion */
    double late_rate;         /* reads that arrive up to 48 h after capture */
    double duplicate_rate;    /* reads resent again later */
    double mobile_share;      /* reads from vehicle-mounted cameras */
} synth_config;

/*
 * Defaults for a given daily volume: cameras and vehicles scale with it from
 * the national figures (11,000 cameras, 41.2 M vehicles at 60 M reads a
 * day), so reads per vehicle stay realistic at any scale. Starts 2026-11-02.
 */
void synth_config_default(synth_config *c, uint64_t reads_per_day);

typedef struct synth synth;

/* 0, -EINVAL for a config that cannot work, -ENOMEM. */
int synth_new(synth **out, const synth_config *c);

/*
 * The next reads in arrival order (capture order, with late reads and
 * resends arriving later); 0 at the end. Plate pointers in out point into
 * the generator and stay valid until the next call.
 */
size_t synth_next(synth *s, anpr_read *out, size_t cap);

/*
 * Reads the stream captures: each distinct read once. The stream yields a
 * little more than this (about duplicate_rate more), as resends come again.
 */
uint64_t synth_total(const synth *s);

void synth_free(synth *s);

/* CSV in the format `anpr ingest` reads: ts_ms,plate,camera,lane,direction,confidence,lat,lon. */
int synth_csv_header(FILE *f);
int synth_csv_write(FILE *f, const anpr_read *r, size_t n);

#endif
