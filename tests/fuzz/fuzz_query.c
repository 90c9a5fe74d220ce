/*
 * Fuzz target: query arguments. A small store is built once (three days of
 * the synthetic workload, merged, then a few more reads in part files); each
 * input becomes an anpr_query (window, cameras, area, plate condition,
 * fuzzy flag, limit, version), and the answer is checked against a brute
 * force over every read of the store: an argument the header rules out is
 * refused with ANPR_EINVAL and a message, anything else returns exactly the
 * matching reads, in order, up to the limit.
 *
 * Input layout (little-endian; missing bytes read as zero):
 *   0      flags: 1 fuzzy, 2 plate, 4 area, 8 from, 16 to, 32 cameras, 64 limit, 128 bad version
 *   1..4   from: seconds from the store's first midnight (signed)
 *   5..8   to:   the same
 *   9      ncameras (0..15, the low 4 bits; bit 7: ask a second handle on the store, opened with
 *          ANPR_OPEN_MAP); 10..39 camera ids, 2 bytes each
 *   40..55 the area: lat_min, lon_min, lat_max, lon_max as 32-bit offsets (1e-7 deg) from 53 N, 2 W,
 *          wrapping
 *   56..57 limit
 *   58..   the plate condition (up to a NUL)
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "anpr/anpr.h"
#include "anpr/segment.h"
#include "../batch_row.h"
#include "query/match.h"
#include "synth.h"

#define DAY_MS INT64_C(86400000)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static anpr_store *store;
static anpr_store *mapped; /* the same store, opened with ANPR_OPEN_MAP: blocks taken from mappings */
static anpr_row *all;   /* every read of the store, in query order */
static size_t nall;
static int64_t first_midnight;
static char dir[64];

static void check(int ok)
{
    if (!ok) abort();
}

static void remove_store(void)
{
    anpr_store_close(mapped);
    anpr_store_close(store);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) fprintf(stderr, "fuzz_query: could not remove %s\n", dir);
}

static void ingest(anpr_writer *w, uint64_t seed, uint64_t per_day, uint32_t days, int merge)
{
    synth_config cfg;
    synth_config_default(&cfg, per_day);
    cfg.seed = seed;
    cfg.days = days;
    cfg.start_ms = first_midnight;
    synth *g;
    check(synth_new(&g, &cfg) == 0);
    anpr_read batch[512];
    size_t n;
    while ((n = synth_next(g, batch, 512)) > 0) {
        int rc = anpr_writer_append(w, batch, n, NULL, NULL);
        check(rc == ANPR_OK || rc == ANPR_EBADREAD);
    }
    synth_free(g);
    check(anpr_writer_commit(w) == ANPR_OK && anpr_writer_flush(w) == ANPR_OK);
    if (merge) check(anpr_writer_merge(w, ANPR_ALL_DAYS) == ANPR_OK);
}

static void build_store(void)
{
    snprintf(dir, sizeof dir, "/tmp/anpr-fuzz-query-XXXXXX");
    check(mkdtemp(dir) != NULL);
    rmdir(dir);
    first_midnight = ((int64_t)time(NULL) * 1000 / DAY_MS - 4) * DAY_MS;
    anpr_store_options o = ANPR_STORE_OPTIONS_INIT;
    o.flags = ANPR_OPEN_CREATE;
    check(anpr_store_open(&store, dir, &o) == ANPR_OK);
    atexit(remove_store);
    anpr_writer *w;
    check(anpr_writer_open(&w, store) == ANPR_OK);
    ingest(w, 11, 1500, 3, 1);
    ingest(w, 12, 200, 3, 0); /* part files next to the segments */
    check(anpr_writer_close(w) == ANPR_OK);

    anpr_query q = ANPR_QUERY_INIT;
    anpr_cursor *c;
    check(anpr_query_open(&c, store, &q) == ANPR_OK);
    anpr_batch b;
    int rc;
    while ((rc = anpr_cursor_next(c, &b)) == 1) {
        all = realloc(all, (nall + b.n) * sizeof *all);
        check(all != NULL);
        for (size_t i = 0; i < b.n; i++) batch_row(&all[nall++], &b, i);
    }
    check(rc == 0);
    anpr_cursor_close(c);
    check(nall > 1000);
    o.flags = ANPR_OPEN_MAP | ANPR_OPEN_READONLY;
    check(anpr_store_open(&mapped, dir, &o) == ANPR_OK);
}

static uint64_t get(const uint8_t *d, size_t size, size_t at, size_t len)
{
    uint64_t v = 0;
    for (size_t i = 0; i < len; i++) v |= (uint64_t)(at + i < size ? d[at + i] : 0) << (8 * i);
    return v;
}

/* The rules anpr.h states for a query, apart from the plate condition. */
static int valid(const anpr_query *q)
{
    if (q->version != ANPR_QUERY_VERSION || q->from_ms > q->to_ms) return 0;
    if (q->area && (q->lat_min_e7 > q->lat_max_e7 || q->lon_min_e7 > q->lon_max_e7)) return 0;
    if (q->area && (q->lat_min_e7 < -900000000 || q->lat_max_e7 > 900000000 || q->lon_min_e7 < -1800000000 ||
                    q->lon_max_e7 > 1800000000))
        return 0;
    return 1;
}

static int matches(const anpr_query *q, const plate_match *m, const anpr_row *r)
{
    if (r->ts_ms < q->from_ms || r->ts_ms >= q->to_ms) return 0;
    if (q->ncameras) {
        size_t i = 0;
        while (i < q->ncameras && q->cameras[i] != r->camera) i++;
        if (i == q->ncameras) return 0;
    }
    if (q->area && (r->lat_e7 == ANPR_POS_UNKNOWN || r->lat_e7 < q->lat_min_e7 || r->lat_e7 > q->lat_max_e7 ||
                    r->lon_e7 < q->lon_min_e7 || r->lon_e7 > q->lon_max_e7))
        return 0;
    return m ? plate_match_row(m, r->plate) : 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!store) build_store();
    if (size > 200) return 0;
    unsigned flags = (unsigned)get(data, size, 0, 1);
    anpr_query q = ANPR_QUERY_INIT;
    uint32_t cameras[15];
    char plate[160] = "";
    q.fuzzy = flags & 1;
    if (flags & 8) q.from_ms = first_midnight + (int64_t)(int32_t)get(data, size, 1, 4) * 1000;
    if (flags & 16) q.to_ms = first_midnight + (int64_t)(int32_t)get(data, size, 5, 4) * 1000;
    if (flags & 32) {
        q.ncameras = get(data, size, 9, 1) % 16;
        for (size_t i = 0; i < q.ncameras; i++) cameras[i] = (uint32_t)get(data, size, 10 + 2 * i, 2) % 64;
        q.cameras = q.ncameras ? cameras : NULL;
    }
    if (flags & 4) {
        q.area = 1;
        q.lat_min_e7 = (int32_t)(530000000u + (uint32_t)get(data, size, 40, 4));
        q.lon_min_e7 = (int32_t)((uint32_t)-20000000 + (uint32_t)get(data, size, 44, 4));
        q.lat_max_e7 = (int32_t)(530000000u + (uint32_t)get(data, size, 48, 4));
        q.lon_max_e7 = (int32_t)((uint32_t)-20000000 + (uint32_t)get(data, size, 52, 4));
    }
    if (flags & 64) q.limit = get(data, size, 56, 2);
    if (flags & 128) q.version = (unsigned)get(data, size, 1, 1) + 2;
    if (flags & 2) {
        size_t n = size > 58 ? size - 58 : 0;
        if (n >= sizeof plate) n = sizeof plate - 1;
        memcpy(plate, data + 58, n);
        plate[n] = '\0';
        q.plate = plate;
    }

    plate_match m;
    const char *why;
    int plate_ok = plate_match_compile(&m, q.plate, q.fuzzy, &why) == ANPR_OK;
    anpr_cursor *c;
    anpr_store *s = get(data, size, 9, 1) & 0x80 ? mapped : store;
    int rc = anpr_query_open(&c, s, &q);
    if (!valid(&q) || !plate_ok) {
        check(rc == ANPR_EINVAL && anpr_errmsg(s)[0] != '\0');
        return 0;
    }
    check(rc == ANPR_OK);
    size_t at = 0; /* the next read of `all` that might match */
    uint64_t got = 0;
    anpr_batch b;
    while ((rc = anpr_cursor_next(c, &b)) == 1) {
        for (size_t i = 0; i < b.n; i++) {
            while (at < nall && !matches(&q, &m, &all[at])) at++;
            check(at < nall);
            const anpr_row *r = &all[at++];
            check(b.ts_ms[i] == r->ts_ms && b.camera[i] == r->camera && strcmp(b.plate[i], r->plate) == 0 &&
                  b.lane[i] == r->lane && b.lat_e7[i] == r->lat_e7 && b.lon_e7[i] == r->lon_e7);
            got++;
        }
    }
    check(rc == 0);
    anpr_cursor_close(c);
    if (q.limit == 0 || got < q.limit) /* nothing was left out */
        while (at < nall) check(!matches(&q, &m, &all[at++]));
    else
        check(got == q.limit);
    return 0;
}
