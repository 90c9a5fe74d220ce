/*
 * The phases of an anpr-bench run and what each measures. Every phase works
 * through the public API only (anpr/anpr.h, anpr/segment.h), as a service
 * linking the library would.
 */
#ifndef ANPR_BENCH_PHASES_H
#define ANPR_BENCH_PHASES_H

#include <stdint.h>
#include <stdio.h>

#include "anpr/anpr.h"
#include "measure.h"
#include "synth.h"

#define BENCH_MAX_COLUMNS 16

/* ---- ingest: generate, append, commit, flush, merge ------------------------ */

typedef struct bench_ingest_opts {
    synth_config workload;
    uint64_t commit_every;   /* reads between commits */
    size_t budget_mb;        /* the store's memory budget; 0 for the default */
    int compression_level;   /* 0 for the default */
    unsigned block_rows;     /* rows a segment block holds; 0 for the default */
    unsigned index_density;  /* index buckets for every two rows; 0 for the default */
    FILE *csv;               /* if set, the same reads as CSV (written outside the timed calls) */
    int progress;
} bench_ingest_opts;

typedef struct bench_ingest_result {
    uint64_t generated, accepted, stored, days, segments, files;
    double ingest_s;          /* inside append and commit (and the flushes they trigger), and the final flush */
    double reads_per_s;
    double flush_s, merge_s, wall_s;
    double peak_hour_factor;  /* reads in the busiest hour of the day / the mean hour */
    double rss_base_mb;       /* before the store was opened: the generator's tables */
    double rss_peak_ingest_mb, rss_peak_mb;
    uint64_t parts_bytes;     /* on disk before the merge: what a day needs in flight */
} bench_ingest_result;

/* Creates the store at dir (which must not hold one) and fills it. */
int bench_ingest_run(const char *dir, const bench_ingest_opts *o, bench_ingest_result *r);

/* ---- bytes on disk, by column, index and directory ------------------------ */

typedef struct bench_bytes {
    uint64_t reads, total, index, directory, files;
    unsigned columns;
    char names[BENCH_MAX_COLUMNS][16];
    uint64_t column[BENCH_MAX_COLUMNS];
    uint64_t data;            /* the columns together */
} bench_bytes;

int bench_bytes_measure(anpr_store *s, const char *dir, bench_bytes *b);

/* ---- queries: every shape, warm and cold ----------------------------------- */

enum bench_shape {
    SHAPE_PLATE,         /* one vehicle's history, whole store */
    SHAPE_PLATE_FUZZY,   /* the same, misread-tolerant */
    SHAPE_PARTIAL_DAY,   /* a plate with two characters unknown, one day */
    SHAPE_CAMERA_HOUR,   /* one camera, one hour */
    SHAPE_CAMERAS_HOUR,  /* ten cameras, one hour */
    SHAPE_AREA_HOUR,     /* a box of about 5 km, one hour */
    SHAPE_WINDOW_MINUTE, /* every read of one minute, every camera */
    BENCH_SHAPES
};

extern const char *const bench_shape_names[BENCH_SHAPES];
extern const char *const bench_shape_titles[BENCH_SHAPES];

typedef struct bench_query_opts {
    synth_config workload;   /* the generator the store was built with (plates of its vehicles) */
    uint64_t samples;        /* warm samples a shape */
    uint64_t cold_samples;   /* cold samples a shape; 0 for none */
    uint64_t seed;
    int progress;
    unsigned query_threads;  /* the store's query_threads, as opened (for the report) */
} bench_query_opts;

typedef struct bench_query_result {
    bench_latency warm[BENCH_SHAPES];
    bench_latency cold[BENCH_SHAPES];
    const char *io_mode;      /* "io_uring" or "pread" */
    int mapped;               /* the store maps its files (ANPR_OPEN_MAP) */
    unsigned query_threads;   /* threads a query may use */
    const char *cold_method;  /* "drop_caches", "fadvise" or NULL when cold was not measured */
    char cold_note[160];      /* why cold was not measured, if it was asked for */
} bench_query_result;

int bench_query_run(anpr_store *s, const char *dir, const bench_query_opts *o, bench_query_result *r);

/* ---- expiry: drop the oldest days one at a time ---------------------------- */

typedef struct bench_expire_result {
    uint64_t days;
    double mean_ms, worst_ms;
} bench_expire_result;

int bench_expire_run(anpr_store *s, uint64_t days, bench_expire_result *r);

/* Print "anpr-bench: what: status: message" to stderr; returns 1. */
int bench_fail(const char *what, int rc, const anpr_store *s);

#endif
