/*
 * What a plate registry spanning days would store: a measurement for
 * docs/performance.md, not a benchmark of code that exists.
 *
 * Today each read's plate is packed in its daily segment (3.83 bytes a read
 * on the synthetic national day), and a day pays again for every plate that
 * came the day before. Suppose instead that the store kept one registry of
 * every plate it holds, each with a number given when the plate is first
 * seen (so, in order of first sighting), and that a segment stored each
 * read's number in place of its plate. Then a day pays for its reads'
 * numbers and for the plates new to the registry that day.
 *
 *   plate_registry [READS_PER_DAY] [DAYS] [SEED]
 *
 * generates DAYS consecutive days of the synthetic traffic (60,000,000
 * reads a day and 7 days by default; the vehicle population scales with the
 * volume, as in anpr-bench) and prints, for each day: its reads, the plates
 * new to the registry and the registry's size after it, and in bits a read
 * the number at a fixed width (enough for the registry), the number coded
 * as its bit length (entropy-coded over the day's reads, as a Huffman code
 * would nearly do) followed by the bits under its leading one, and the
 * day's new registry entries (31 bits for a current-format plate, 1 + its
 * long-form size for another). Plates are told apart by the XXH3-64 of
 * their normalised text. Resent duplicates are counted, as the store would
 * not; they are under 0.5 % of reads.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "anpr/anpr.h"
#include "encode/plate_uk.h"
#include "measure.h"
#include "synth.h"

#define MAX_LEN 64

/* The registry: open addressing on the plate's hash, numbers in order of first sighting. */
typedef struct slot {
    uint64_t key; /* 0: empty (a plate whose hash is 0 is kept as 1) */
    uint64_t id;
} slot;

typedef struct registry {
    slot *s;
    size_t cap, n;
} registry;

static int reg_grow(registry *r)
{
    size_t ncap = r->cap ? 2 * r->cap : (size_t)1 << 20;
    slot *ns = calloc(ncap, sizeof *ns);
    if (!ns) return -ENOMEM;
    for (size_t i = 0; i < r->cap; i++) {
        if (!r->s[i].key) continue;
        size_t j = (size_t)r->s[i].key & (ncap - 1);
        while (ns[j].key) j = (j + 1) & (ncap - 1);
        ns[j] = r->s[i];
    }
    free(r->s);
    r->s = ns;
    r->cap = ncap;
    return 0;
}

/* The plate's number, *fresh set when it is new (and numbered now); -ENOMEM. */
static int reg_number(registry *r, uint64_t key, uint64_t *id, int *fresh)
{
    if (2 * (r->n + 1) > r->cap && reg_grow(r) < 0) return -ENOMEM;
    key = key ? key : 1;
    size_t j = (size_t)key & (r->cap - 1);
    while (r->s[j].key && r->s[j].key != key) j = (j + 1) & (r->cap - 1);
    *fresh = !r->s[j].key;
    if (*fresh) r->s[j] = (slot){key, r->n++};
    *id = r->s[j].id;
    return 0;
}

/* Per day: reads, new plates and their registry bits, and how many reads' numbers have each bit length. */
typedef struct day_stats {
    uint64_t reads, fresh, size_after;
    double fresh_bits;
    uint64_t by_len[MAX_LEN + 1];
} day_stats;

int main(int argc, char **argv)
{
    uint64_t reads = 60000000, days = 7, seed = 1;
    int bad = argc > 4 || (argc > 1 && (measure_whole(argv[1], &reads) < 0 || reads == 0)) ||
              (argc > 2 && (measure_whole(argv[2], &days) < 0 || days == 0 || days > 3650)) ||
              (argc > 3 && measure_whole(argv[3], &seed) < 0);
    if (bad) {
        fprintf(stderr, "usage: plate_registry [READS_PER_DAY] [DAYS] [SEED]: READS_PER_DAY at least 1, DAYS 1 to "
                        "3650, SEED a whole number\n");
        return 2;
    }
    synth_config cfg;
    synth_config_default(&cfg, reads);
    cfg.seed = seed;
    cfg.days = (uint32_t)days;
    synth *s;
    day_stats *st = calloc(days, sizeof *st);
    registry reg = {0};
    if (!st || synth_new(&s, &cfg) != 0) return 1;
    const int64_t day0 = cfg.start_ms / 86400000;
    anpr_read batch[4096];
    int64_t next_day = 0;
    for (size_t got; (got = synth_next(s, batch, 4096)) > 0;) {
        for (size_t i = 0; i < got; i++) {
            char p[ANPR_PLATE_MAX + 1];
            int64_t d = batch[i].ts_ms / 86400000 - day0;
            if (d < 0 || (uint64_t)d >= days || anpr_plate_normalise(p, batch[i].plate) != ANPR_OK) continue;
            /* A day's registry size is taken when its first read of a later day arrives (late reads add a little). */
            for (; next_day < d; next_day++) st[next_day].size_after = reg.n;
            size_t len = strlen(p);
            uint64_t id;
            int fresh;
            if (reg_number(&reg, XXH3_64bits(p, len), &id, &fresh) < 0) return 1;
            day_stats *ds = &st[d];
            ds->reads++;
            ds->by_len[measure_width(id + 2) > MAX_LEN ? MAX_LEN : measure_width(id + 2)]++;
            if (fresh) {
                ds->fresh++;
                int64_t v = uk_current_value(p, len);
                ds->fresh_bits += v >= 0 ? 31.0 : 1.0 + uk_other_bits((uint32_t)len, (uint32_t)uk_plate_shape(p, len));
            }
        }
    }
    synth_free(s);
    printf("%llu reads a day for %llu days, %llu vehicles, seed %llu\n", (unsigned long long)reads,
           (unsigned long long)days, (unsigned long long)cfg.vehicles, (unsigned long long)seed);
    printf("%5s %12s %12s %12s %12s %12s %12s %12s\n", "day", "reads", "new plates", "registry", "fixed bits",
           "length-coded", "new entries", "bytes a read");
    for (uint64_t d = 0; d < days; d++) {
        day_stats *ds = &st[d];
        if (!ds->reads) continue;
        if (d + 1 == days) ds->size_after = reg.n;
        /* The length of each number, entropy-coded over the day, then the bits under its leading one. */
        double coded = 0;
        for (unsigned l = 1; l <= MAX_LEN; l++) {
            if (!ds->by_len[l]) continue;
            double share = (double)ds->by_len[l] / (double)ds->reads;
            coded += (double)ds->by_len[l] * ((double)(l - 1) - log2(share));
        }
        double per = (double)ds->reads, fixed = measure_width(ds->size_after), entries = ds->fresh_bits / per;
        printf("%5llu %12llu %12llu %12llu %12.2f %12.2f %12.2f %12.3f\n", (unsigned long long)d + 1,
               (unsigned long long)ds->reads, (unsigned long long)ds->fresh, (unsigned long long)ds->size_after,
               fixed, coded / per, entries, (coded / per + entries) / 8);
    }
    printf("bits a read; bytes a read = (length-coded + new entries) / 8, in place of the plate column\n");
    free(reg.s);
    free(st);
    return 0;
}
