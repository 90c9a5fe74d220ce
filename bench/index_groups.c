/*
 * What grouped postings would save a plate history: a measurement for
 * docs/performance.md, not a benchmark of code that exists.
 *
 * Today a bucket of the plate-hash index lists the blocks that hold any of
 * its plates, so a plate history reads, besides the blocks that hold the
 * vehicle, every block of the other plates that share its bucket in each
 * daily segment. Suppose instead that each bucket listed its postings in
 * groups, one group per distinct folded plate, without saying which plate:
 * a query would read the first block of each group that has more than one
 * (only its plate column, to learn whose group it is) and then only the
 * blocks of its own group, and read a group of one block whole.
 *
 *   index_groups STORE [--vehicles V] [--seed S] [--samples N]
 *
 * For N vehicles of the generator's population (V vehicles, seed S, as
 * anpr-bench draws them) this reads every segment of STORE, finds in each
 * the rows that share a vehicle's bucket, and prints per vehicle: the
 * blocks read now, those of them that hold the vehicle, and with groups the
 * blocks read whole plus the plate columns read to tell groups apart, in
 * blocks' worth of bytes. It also prints what the groups would cost: one
 * bit a group (a distinct folded plate of a day), as bytes a read.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "anpr/anpr.h"
#include "anpr/segment.h"
#include "common/hash.h"
#include "segment/seg_internal.h"
#include "plates.h"

typedef struct entry {
    uint32_t vehicle, block;
    char folded[ANPR_PLATE_MAX + 1];
} entry;

typedef struct tally {
    double now, own, whole, checks, groups;
} tally;

static int cmp_entry(const void *pa, const void *pb)
{
    const entry *a = pa, *b = pb;
    if (a->vehicle != b->vehicle) return a->vehicle < b->vehicle ? -1 : 1;
    int c = strcmp(a->folded, b->folded);
    if (c) return c;
    return (a->block > b->block) - (a->block < b->block);
}

static int cmp_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int cmp_u64(const void *pa, const void *pb)
{
    uint64_t a = *(const uint64_t *)pa, b = *(const uint64_t *)pb;
    return (a > b) - (a < b);
}

static int add_block(uint32_t *set, size_t *n, uint32_t b)
{
    for (size_t i = 0; i < *n; i++)
        if (set[i] == b) return 0;
    set[(*n)++] = b;
    return 1;
}

/* One vehicle's entries in one segment (sorted by folded plate, then block): what it reads now and with groups. */
static void count_vehicle(const entry *e, size_t n, const char *own, tally *t)
{
    static uint32_t now[1 << 16], grouped[1 << 16];
    size_t nnow = 0, ngrouped = 0;
    for (size_t i = 0; i < n; i++) add_block(now, &nnow, e[i].block);
    t->now += (double)nnow;
    for (size_t g = 0; g < n;) {
        size_t h = g, blocks = 0;
        uint32_t last = UINT32_MAX;
        for (; h < n && strcmp(e[h].folded, e[g].folded) == 0; h++)
            if (e[h].block != last) blocks++, last = e[h].block;
        int mine = strcmp(e[g].folded, own) == 0;
        if (mine) t->own += (double)blocks;
        if (blocks == 1) {
            add_block(grouped, &ngrouped, e[g].block); /* a group of one block is read whole */
        } else {
            t->checks += 1; /* its first block's plates, to tell whose group it is */
            if (mine)
                for (size_t k = g; k < h; k++) add_block(grouped, &ngrouped, e[k].block);
        }
        g = h;
    }
    t->whole += (double)ngrouped;
}

int main(int argc, char **argv)
{
    uint64_t vehicles = 412000, seed = 1;
    size_t samples = 200;
    const char *dir = NULL;
    for (int i = 1; i < argc; i++) {
        if (i + 1 < argc && strcmp(argv[i], "--vehicles") == 0) vehicles = strtoull(argv[++i], NULL, 10);
        else if (i + 1 < argc && strcmp(argv[i], "--seed") == 0) seed = strtoull(argv[++i], NULL, 10);
        else if (i + 1 < argc && strcmp(argv[i], "--samples") == 0) samples = strtoull(argv[++i], NULL, 10);
        else if (!dir && argv[i][0] != '-') dir = argv[i];
        else dir = NULL, i = argc;
    }
    if (!dir || vehicles == 0 || samples == 0) {
        fprintf(stderr, "usage: index_groups STORE [--vehicles V] [--seed S] [--samples N]\n");
        return 2;
    }
    char(*folded)[ANPR_PLATE_MAX + 1] = calloc(samples, sizeof *folded);
    uint32_t *key = calloc(samples, sizeof *key);
    if (!folded || !key) return 1;
    for (size_t v = 0; v < samples; v++) {
        char p[16];
        synth_plate(p, seed, synth_mix(v + 12345) % vehicles);
        anpr_plate_fold(folded[v], p);
        key[v] = seg_plate_key(p);
    }
    DIR *d = opendir(dir);
    if (!d) {
        fprintf(stderr, "index_groups: %s: %s\n", dir, strerror(errno));
        return 1;
    }
    char **names = NULL;
    size_t nnames = 0;
    for (struct dirent *de; (de = readdir(d));) {
        size_t len = strlen(de->d_name);
        if (len < 4 || strcmp(de->d_name + len - 4, ".seg") != 0) continue;
        names = realloc(names, (nnames + 1) * sizeof *names);
        if (!names || !(names[nnames++] = strdup(de->d_name))) return 1;
    }
    closedir(d);
    qsort(names, nnames, sizeof *names, cmp_name);

    tally t = {0};
    uint64_t rows_all = 0, groups_all = 0, plate_bytes = 0, all_bytes = 0;
    size_t cap = 1 << 20, ne = 0;
    entry *e = malloc(cap * sizeof *e);
    anpr_row *rows = malloc(65536 * sizeof *rows);
    uint64_t *day_plates = NULL;
    if (!e || !rows) return 1;
    for (size_t s = 0; s < nnames; s++) {
        char path[4096], err[256];
        snprintf(path, sizeof path, "%s/%s", dir, names[s]);
        anpr_segment *seg;
        if (anpr_segment_open(&seg, path, err, sizeof err) != ANPR_OK) {
            fprintf(stderr, "index_groups: %s\n", err);
            return 1;
        }
        anpr_segment_info in;
        anpr_segment_info_get(seg, &in);
        uint64_t nb = in.index_buckets;
        for (unsigned c = 0; c < in.columns; c++) {
            anpr_column_info ci;
            anpr_segment_column(seg, c, &ci);
            all_bytes += ci.stored_bytes;
            if (strcmp(ci.name, "plate") == 0) plate_bytes += ci.stored_bytes;
        }
        day_plates = realloc(day_plates, (in.rows ? in.rows : 1) * sizeof *day_plates);
        if (!day_plates) return 1;
        size_t nday = 0;
        ne = 0;
        for (uint32_t b = 0; b < in.blocks; b++) {
            size_t n;
            if (anpr_segment_rows(seg, b, rows, &n) != ANPR_OK) {
                fprintf(stderr, "index_groups: %s: %s\n", names[s], anpr_segment_errmsg(seg));
                return 1;
            }
            for (size_t r = 0; r < n; r++) {
                char f[ANPR_PLATE_MAX + 1];
                size_t len = anpr_plate_fold(f, rows[r].plate);
                day_plates[nday++] = anpr_checksum(f, len); /* XXH3-64 of the folded plate: distinct enough to count */
                uint32_t bucket = seg_bucket(seg_plate_key(rows[r].plate), nb);
                for (size_t v = 0; v < samples; v++) {
                    if (seg_bucket(key[v], nb) != bucket) continue;
                    if (ne == cap && !(e = realloc(e, (cap *= 2) * sizeof *e))) return 1;
                    e[ne].vehicle = (uint32_t)v;
                    e[ne].block = b;
                    memcpy(e[ne].folded, f, sizeof f);
                    ne++;
                }
            }
        }
        qsort(day_plates, nday, sizeof *day_plates, cmp_u64);
        for (size_t i = 0; i < nday; i++) groups_all += i == 0 || day_plates[i] != day_plates[i - 1];
        rows_all += nday;
        qsort(e, ne, sizeof *e, cmp_entry);
        for (size_t a = 0; a < ne;) {
            size_t z = a;
            while (z < ne && e[z].vehicle == e[a].vehicle) z++;
            count_vehicle(e + a, z - a, folded[e[a].vehicle], &t);
            a = z;
        }
        anpr_segment_close(seg);
    }
    double share = all_bytes ? (double)plate_bytes / (double)all_bytes : 0, k = (double)samples;
    printf("%zu segments, %llu reads; %zu vehicles of %llu (seed %llu)\n", nnames, (unsigned long long)rows_all,
           samples, (unsigned long long)vehicles, (unsigned long long)seed);
    printf("blocks a plate history reads now:            %.1f (%.1f hold the vehicle)\n", t.now / k, t.own / k);
    printf("with groups: blocks read whole               %.1f\n", t.whole / k);
    printf("             plate columns read to tell      %.1f (a plate column is %.2f of a block's bytes)\n",
           t.checks / k, share);
    printf("             in blocks' worth of bytes       %.1f (%.0f %% of now)\n", t.whole / k + share * t.checks / k,
           100 * (t.whole / k + share * t.checks / k) / (t.now / k));
    printf("cost: %llu groups a year, one bit each: %.4f bytes a read\n", (unsigned long long)groups_all,
           rows_all ? (double)groups_all / 8 / (double)rows_all : 0);
    free(day_plates);
    free(rows);
    free(e);
    for (size_t i = 0; i < nnames; i++) free(names[i]);
    free(names);
    free(folded);
    free(key);
    return 0;
}
