/*
 * compare_anpr: libanpr's side of the side-by-side comparison
 * (bench/compare/compare.sh). Opens a store read-only, runs every query of
 * a query file several times, and prints one JSON line a query:
 *
 *   compare_anpr STORE QUERIES.tsv [REPEATS]
 *   {"id":3,"shape":"plate","ms":0.412,"count":57,"digest":"9f0c..."}
 *
 * ms is the median over REPEATS runs (default 5), after one run that is not
 * timed (warm cache); a timed run copies every read of the answer into the
 * program's own array, as the peers' clients build their rows, and must
 * return as many as the untimed one. count and digest identify the answer,
 * taken from the untimed run (bench/compare/compare_anpr_check.sh checks
 * them against `anpr query`): the digest is
 * the sum, mod 2^64, of the 64-bit FNV-1a hash of each read's line
 * "ts_ms,plate,camera,lane,direction,confidence,lat_e7,lon_e7" (empty
 * lat_e7 and lon_e7 for a read without a position), so that any peer that
 * returns the same reads, in any order, has the same digest.
 *
 * A query line is tab-separated: id, shape, plate ("-" for none), fuzzy
 * (0/1), cameras (comma-separated, "-" for none), area
 * (lat_min_e7,lon_min_e7,lat_max_e7,lon_max_e7 or "-"), from_ms, to_ms.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "anpr/anpr.h"

typedef struct answer {
    uint64_t count, digest;
} answer;

static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec * 1e-6;
}

static uint64_t fnv1a(const char *s, size_t n)
{
    uint64_t h = 0xcbf29ce484222325u;
    for (size_t i = 0; i < n; i++) h = (h ^ (uint8_t)s[i]) * 0x100000001b3u;
    return h;
}

/* The reads of an answer, kept as an application keeps them: one struct a read, in an array it owns. */
typedef struct kept_read {
    int64_t ts_ms;
    char plate[ANPR_PLATE_MAX + 1];
    uint32_t camera;
    uint8_t lane, direction, confidence;
    int32_t lat_e7, lon_e7;
} kept_read;

typedef struct kept {
    kept_read *r;
    size_t n, cap;
} kept;

/* The answer's count and digest (a's digest: the lines of every read, formatted and hashed). */
static void digest_reads(const kept *k, answer *a)
{
    a->count = k->n;
    a->digest = 0;
    for (size_t i = 0; i < k->n; i++) {
        const kept_read *x = &k->r[i];
        char line[128], lat[16] = "", lon[16] = "";
        if (x->lat_e7 != ANPR_POS_UNKNOWN) {
            snprintf(lat, sizeof lat, "%" PRId32, x->lat_e7);
            snprintf(lon, sizeof lon, "%" PRId32, x->lon_e7);
        }
        int n = snprintf(line, sizeof line, "%" PRId64 ",%s,%" PRIu32 ",%u,%u,%u,%s,%s", x->ts_ms, x->plate,
                         x->camera, x->lane, x->direction, x->confidence, lat, lon);
        a->digest += fnv1a(line, (size_t)n);
    }
}

/*
 * Run the query and copy every read it returns into k. The timing is of
 * this: the peers' timed runs likewise hand back every read as the host
 * language's rows (getRows, all()) and hash nothing; the digest is taken
 * once, from the untimed run (formatting each read as text for it took
 * most of a camera hour's time when it was inside the timing).
 */
static int run(anpr_store *s, const anpr_query *q, kept *k)
{
    anpr_cursor *c;
    int rc = anpr_query_open(&c, s, q);
    if (rc) return rc;
    anpr_batch b;
    k->n = 0;
    while ((rc = anpr_cursor_next(c, &b)) == 1) {
        if (k->n + b.n > k->cap) {
            size_t cap = 2 * (k->n + b.n);
            kept_read *r = realloc(k->r, cap * sizeof *r);
            if (!r) {
                rc = -ENOMEM;
                break;
            }
            k->r = r;
            k->cap = cap;
        }
        for (size_t i = 0; i < b.n; i++) {
            kept_read *x = &k->r[k->n++];
            x->ts_ms = b.ts_ms[i];
            memcpy(x->plate, b.plate[i], sizeof x->plate);
            x->camera = b.camera[i];
            x->lane = b.lane[i];
            x->direction = b.direction[i];
            x->confidence = b.confidence[i];
            x->lat_e7 = b.lat_e7[i];
            x->lon_e7 = b.lon_e7[i];
        }
    }
    if (rc < 0) fprintf(stderr, "compare_anpr: %s\n", rc == -ENOMEM ? "out of memory" : anpr_cursor_errmsg(c));
    anpr_cursor_close(c);
    return rc < 0 ? rc : 0;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: compare_anpr STORE QUERIES.tsv [REPEATS]\n");
        return 2;
    }
    int repeats = argc > 3 ? atoi(argv[3]) : 5;
    if (repeats < 1 || repeats > 1000) {
        fprintf(stderr, "compare_anpr: REPEATS must be 1..1000\n");
        return 2;
    }
    FILE *f = fopen(argv[2], "r");
    if (!f) {
        perror(argv[2]);
        return 1;
    }
    anpr_store *s;
    anpr_store_options o = ANPR_STORE_OPTIONS_INIT;
    o.flags = ANPR_OPEN_READONLY;
    int rc = anpr_store_open(&s, argv[1], &o);
    if (rc) {
        fprintf(stderr, "compare_anpr: %s: %s\n", argv[1], anpr_strerror(rc));
        return 1;
    }
    char line[4096];
    double *ms = malloc((size_t)repeats * sizeof *ms);
    kept reads = {0};
    while (fgets(line, sizeof line, f)) {
        char shape[32], plate[64], cams[2048], area[128];
        long long id, from, to;
        int fuzzy;
        if (sscanf(line, "%lld\t%31s\t%63s\t%d\t%2047s\t%127s\t%lld\t%lld", &id, shape, plate, &fuzzy, cams, area,
                   &from, &to) != 8) {
            fprintf(stderr, "compare_anpr: bad query line: %s", line);
            return 1;
        }
        anpr_query q = ANPR_QUERY_INIT;
        q.from_ms = from;
        q.to_ms = to;
        if (strcmp(plate, "-") != 0) q.plate = plate;
        q.fuzzy = fuzzy;
        uint32_t cameras[512];
        if (strcmp(cams, "-") != 0) {
            for (char *t = strtok(cams, ","); t && q.ncameras < 512; t = strtok(NULL, ","))
                cameras[q.ncameras++] = (uint32_t)strtoul(t, NULL, 10);
            q.cameras = cameras;
        }
        if (strcmp(area, "-") != 0) {
            q.area = 1;
            if (sscanf(area, "%" SCNd32 ",%" SCNd32 ",%" SCNd32 ",%" SCNd32, &q.lat_min_e7, &q.lon_min_e7,
                       &q.lat_max_e7, &q.lon_max_e7) != 4) {
                fprintf(stderr, "compare_anpr: bad area: %s\n", area);
                return 1;
            }
        }
        answer a;
        if ((rc = run(s, &q, &reads)) != 0) { /* the untimed run warms the cache, and gives the answer */
            fprintf(stderr, "compare_anpr: query %lld: %s: %s\n", id, anpr_strerror(rc), anpr_errmsg(s));
            return 1;
        }
        digest_reads(&reads, &a);
        for (int r = 0; r < repeats; r++) {
            double t0 = now_ms();
            rc = run(s, &q, &reads);
            ms[r] = now_ms() - t0;
            if (rc != 0 || reads.n != a.count) {
                fprintf(stderr, "compare_anpr: query %lld: a timed run failed or gave another answer\n", id);
                return 1;
            }
        }
        qsort(ms, (size_t)repeats, sizeof *ms, cmp_double);
        printf("{\"id\":%lld,\"shape\":\"%s\",\"ms\":%.4f,\"count\":%" PRIu64 ",\"digest\":\"%016" PRIx64 "\"}\n", id,
               shape, ms[repeats / 2], a.count, a.digest);
    }
    free(ms);
    free(reads.r);
    fclose(f);
    anpr_store_close(s);
    return 0;
}
