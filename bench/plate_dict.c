/*
 * What a per-day plate dictionary with exact postings would store: a
 * measurement for docs/performance.md, not a benchmark of code that exists.
 *
 * Today a daily segment keeps each read's plate packed in its block (about
 * 30 bits) and a plate-hash index whose buckets list blocks (a posting a
 * read plus unary counts). Suppose instead that a segment kept a dictionary
 * of the day's distinct plates, sorted, with each plate's list of blocks
 * (exact postings, so no block is read that only shares a bucket), and
 * each read carried its plate's index in the dictionary at a fixed width.
 *
 *   plate_dict [READS_PER_DAY] [SEED]
 *
 * generates the first day of the synthetic traffic (as `anpr-bench
 * national` does, 60,000,000 by default), sorts it as a segment is sorted
 * (camera, then time; blocks of 4,096 rows) and prints the parts of that
 * layout in bytes a read: the dictionary (current-format values Rice-coded
 * as gaps between sorted values, other plates at their long-form size),
 * the codes, the postings and each plate's count of them (Elias gamma).
 * Plates are told apart by the XXH3-64 of their text (two of 25 M plates
 * collide with odds of about 1 in 60,000). Resent duplicates are counted,
 * as the store would not; they are under 0.5 % of reads.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "anpr/anpr.h"
#include "encode/plate_uk.h"
#include "measure.h"
#include "synth.h"

#define BLOCK_ROWS 4096

typedef struct row {
    uint32_t camera;
    int64_t ts_ms;
    uint64_t plate; /* XXH3-64 of the normalised plate */
    int64_t value;  /* its current-format value, or -1 */
    uint32_t long_bits; /* its long form's size, when it is not in the current format */
} row;

/* A plate and a number: one of its blocks, or (for the dictionary's other plates) its long-form size. */
typedef struct pair {
    uint64_t plate;
    uint32_t aux;
} pair;

static int by_camera_time(const void *a, const void *b)
{
    const row *x = a, *y = b;
    if (x->camera != y->camera) return x->camera < y->camera ? -1 : 1;
    return (x->ts_ms > y->ts_ms) - (x->ts_ms < y->ts_ms);
}

static int by_pair(const void *a, const void *b)
{
    const pair *x = a, *y = b;
    if (x->plate != y->plate) return x->plate < y->plate ? -1 : 1;
    return (x->aux > y->aux) - (x->aux < y->aux);
}

static int by_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* Bits of the gaps between n sorted distinct values, Rice-coded with the best k near their mean. */
static double rice_gap_bits(const uint64_t *v, size_t n)
{
    if (n < 2) return 64.0 * (double)n;
    unsigned c = measure_width((v[n - 1] - v[0]) / (n - 1) + 1);
    double best = 0;
    for (unsigned k = c > 2 ? c - 2 : 0; k <= c + 1; k++) {
        double bits = 64;
        for (size_t i = 1; i < n; i++) bits += (double)((v[i] - v[i - 1]) >> k) + 1 + k;
        if (k == (c > 2 ? c - 2 : 0) || bits < best) best = bits;
    }
    return best;
}

int main(int argc, char **argv)
{
    uint64_t reads = 60000000, seed = 1;
    int bad = argc > 3 || (argc > 1 && (measure_whole(argv[1], &reads) < 0 || reads == 0));
    if (bad || (argc > 2 && measure_whole(argv[2], &seed) < 0)) {
        fprintf(stderr, "usage: plate_dict [READS_PER_DAY] [SEED]: READS_PER_DAY a whole number of at least 1, "
                        "SEED a whole number\n");
        return 2;
    }
    synth_config cfg;
    synth_config_default(&cfg, reads);
    cfg.seed = seed;
    cfg.days = 1;
    synth *s;
    if (synth_new(&s, &cfg) != 0) return 1;
    size_t cap = cfg.reads_per_day + cfg.reads_per_day / 8 + 4096, n = 0;
    row *rows = malloc(cap * sizeof *rows);
    anpr_read batch[4096];
    if (!rows) return 1;
    const int64_t day = cfg.start_ms / 86400000;
    for (size_t got; (got = synth_next(s, batch, 4096)) > 0;) {
        for (size_t i = 0; i < got && n < cap; i++) {
            char p[ANPR_PLATE_MAX + 1];
            if (batch[i].ts_ms / 86400000 != day || anpr_plate_normalise(p, batch[i].plate) != ANPR_OK) continue;
            size_t len = strlen(p);
            row *r = &rows[n++];
            r->camera = batch[i].camera;
            r->ts_ms = batch[i].ts_ms;
            r->plate = XXH3_64bits(p, len);
            r->value = uk_current_value(p, len);
            r->long_bits = r->value < 0 ? (uint32_t)uk_other_bits((uint32_t)len, (uint32_t)uk_plate_shape(p, len)) : 0;
        }
    }
    synth_free(s);
    qsort(rows, n, sizeof *rows, by_camera_time);
    size_t blocks = (n + BLOCK_ROWS - 1) / BLOCK_ROWS;

    /* Each plate's blocks: the distinct (plate, block) pairs, in plate order. */
    pair *pairs = malloc(n * sizeof *pairs);
    uint64_t *values = malloc(n * sizeof *values);
    if (!pairs || !values) return 1;
    for (size_t i = 0; i < n; i++) pairs[i] = (pair){rows[i].plate, (uint32_t)(i / BLOCK_ROWS)};
    qsort(pairs, n, sizeof *pairs, by_pair);
    size_t npairs = 0, plates = 0;
    double count_bits = 0;
    for (size_t i = 0, run = 0; i < n; i++) {
        if (i > 0 && pairs[i].plate == pairs[i - 1].plate && pairs[i].aux == pairs[i - 1].aux) continue;
        npairs++;
        run++;
        /* The plate's last pair: its count of blocks, Elias gamma. */
        size_t next = i + 1;
        while (next < n && pairs[next].plate == pairs[i].plate && pairs[next].aux == pairs[i].aux) next++;
        if (next == n || pairs[next].plate != pairs[i].plate) {
            count_bits += 2.0 * (double)(measure_width(run + 1) - 1) + 1;
            plates++;
            run = 0;
        }
    }

    /* The dictionary: distinct current-format values as sorted gaps; the other plates at their long-form size. */
    size_t nvalues = 0;
    for (size_t i = 0; i < n; i++)
        if (rows[i].value >= 0) values[nvalues++] = (uint64_t)rows[i].value;
    qsort(values, nvalues, sizeof *values, by_u64);
    size_t distinct = 0;
    for (size_t i = 0; i < nvalues; i++)
        if (i == 0 || values[i] != values[i - 1]) values[distinct++] = values[i];
    double current_bits = rice_gap_bits(values, distinct), long_bits = 0;
    /* Each other plate once: (plate, its long-form size) pairs, sorted. */
    for (size_t i = 0; i < n; i++) pairs[i] = (pair){rows[i].plate, rows[i].long_bits};
    qsort(pairs, n, sizeof *pairs, by_pair);
    size_t longs = 0;
    for (size_t i = 0; i < n; i++)
        if (pairs[i].aux && (i == 0 || pairs[i].plate != pairs[i - 1].plate)) long_bits += pairs[i].aux, longs++;

    double per = (double)n, dict = (current_bits + long_bits) / 8 / per;
    double codes = measure_width(plates) / 8.0, postings = (double)npairs * measure_width(blocks) / 8 / per;
    double counts = count_bits / 8 / per;
    printf("reads %zu in %zu blocks of %d; distinct plates %zu (%zu current-format, %zu other); "
           "%zu (plate, block) pairs\n",
           n, blocks, BLOCK_ROWS, plates, distinct, longs, npairs);
    printf("bytes a read: dictionary %.3f (current-format %.2f bits a plate, others %.1f), codes %.3f (%u bits),\n"
           "  postings %.3f (%u bits each), counts %.3f; plate column and index together %.3f\n",
           dict, current_bits / (double)distinct, longs ? long_bits / (double)longs : 0, codes, measure_width(plates),
           postings, measure_width(blocks), counts, dict + codes + postings + counts);
    free(rows);
    free(pairs);
    free(values);
    return 0;
}
