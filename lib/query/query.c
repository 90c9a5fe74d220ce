/*
 * Queries: a snapshot of the store, a plan over its days and blocks, and a
 * cursor that hands out the matching reads in time order.
 *
 * Snapshot. Under the store's lock the cursor copies the manifest's files
 * that overlap the window and, on the writer's handle, the buffered reads
 * that match; it then opens the files. A file that a merge removed in
 * between (ENOENT) means the manifest moved on: the snapshot is taken again.
 * Open descriptors keep files readable after they are unlinked, so nothing
 * that happens later changes the answer.
 *
 * Plan. Days are answered in order, in groups: as many days together as
 * their chosen blocks' rows allow (plan_days), so that a group's blocks
 * are read in one batch. In a day, each file's blocks are chosen from its
 * block directory (time range, camera range, bounding box) and, for a
 * plate, from one probe of its plate-hash index; only those blocks are
 * read, and each decoded no further than the query needs: for a plate (or
 * a partial plate of '?' wildcards), its plate column searched by codes,
 * then the other columns of the matching rows alone; for a window that
 * cuts the block, its times first, then the rows inside the window alone.
 * A day whose chosen blocks alone pass the store's query_slice_rows
 * (STORE_QUERY_SLICE_ROWS) is a group of its own, answered whole first; if
 * its matches pass that number too, the answer is dropped and the day
 * answered again in time slices (as many as its blocks' rows call for), so
 * the cursor's memory stays bounded whatever the window. (Slicing at once
 * by the blocks' rows instead made a minute of a national day, or a
 * partial plate over it, decode each of the day's blocks some thirty
 * times: blocks sorted by camera span hours.) A
 * slice's blocks are read in groups of at most SPAN_BYTES. Rows are sorted
 * by (ts, camera, plate) and copies of one read (a resend stored in two
 * unmerged parts) dropped.
 *
 * Threads. With the store's query_threads above 1, the index probes and
 * each slice with enough blocks are shared among parts (qpart), part 0 on
 * the cursor's thread and the others on threads the store keeps: each
 * part claims files to probe, or a file's run of blocks, until none is
 * left, reads them with its own batcher and keeps its own matches, which
 * are merged before the sort. A segment reader is used by one part at a time.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/worker.h"
#include "encode/encode.h"
#include "io/batch.h"
#include "query/match.h"
#include "read/read.h"
#include "store/store.h"

#define BATCH_ROWS 4096
/*
 * A batch of block reads: small enough that its blocks are still in the
 * CPU's cache when they are searched and decoded after the batch. In
 * batches of 32 MB the kernel's copies had pushed the first blocks out by
 * then: 200 plate histories on the year store took 4.4 s of CPU against
 * 5.4-6.1, and cold ones were no faster for the deeper queue.
 */
#define SPAN_BYTES ((size_t)1 << 20)
/*
 * A slice shared among threads ends when the last part's last batch does:
 * batches of a quarter the size cut the wait at the end of each slice (0.4
 * ms of a year's plate history with 1 MB batches).
 */
#define SHARED_SPAN_BYTES (SPAN_BYTES / 4)
#define SLICE_OVERFLOW 1 /* run_slice's answer when a group answered whole found too many matches */
#define SNAPSHOT_TRIES 8
/*
 * A block's bytes land at the same offset within a 64-byte line as they
 * have in the file, so that the kernel's copy from the page cache moves
 * whole lines: 200 plate histories took 5 % less CPU than with the blocks
 * packed end to end.
 */
#define SPAN_ALIGN 64
#define GROUP_DAYS_MAX 4096 /* plan_days: beyond any retention, so a long window ends up in few groups */
/*
 * A slice is shared among threads (query_threads) only when it has at
 * least this many blocks: handing a share over and waiting for it costs
 * tens of microseconds, a few blocks' worth.
 */
#define SHARE_MIN_BLOCKS 16
#define PROBE_CHUNK_MIN 16 /* the same for index probes: a part claims files this many at least at a time */

typedef struct qfile {
    manifest_file f;
    store_reader *slot;     /* from the store's cache; back to it at the end */
    seg_reader *r;          /* slot->r */
    int fd;                 /* slot->src.fd */
    const uint8_t *map;     /* slot->map: the file mapped (ANPR_OPEN_MAP), or NULL */
    anpr_segment_info info;
    uint32_t *probe;        /* for a plate: the blocks its index probe named */
    size_t nprobe;
} qfile;

/* A block chosen for the current group of days. */
typedef struct qblock {
    uint32_t file, block;
    int64_t min_ts, max_ts;
    uint32_t rows;
} qblock;

/* A file's blocks of the current group of days: c->blocks[first, end). */
typedef struct qrun {
    size_t first, end;
} qrun;

/*
 * One thread's share of a query's work: the index probes of the files it
 * claims, then in each slice the blocks of the files it claims (a file's
 * reader serves one thread at a time, so a file's blocks go to one part),
 * read with its own batcher, decoded into its own scratch, their matches
 * kept in its own results. Part 0 runs on the cursor's thread, and the
 * slice's answer ends up in its results.
 */
typedef struct qpart {
    anpr_cursor *c;
    io_batcher *io;
    worker *w;              /* the thread; NULL for part 0 */
    io_req *reqs;
    size_t *which;          /* per request: its block in c->blocks, or its file */
    size_t reqs_cap;
    /*
     * rule_out_blocks' reads: plate tables, then sections, then the rest of
     * the blocks kept. probe_of: a table's block request in the group, a
     * section's table, a rest's block request once the group is compacted.
     */
    io_req *probe;
    size_t *probe_of;
    uint64_t *probe_rest;   /* per table: where its chunk's parts end, in the file */
    size_t probe_cap;
    uint32_t *hit;          /* the rows of a block whose plate matches */
    anpr_row *scratch;      /* one decoded block */
    size_t scratch_cap;
    anpr_row *res;
    size_t nres, res_cap;
    anpr_errmsg_buf *err;   /* where its failure is told: the cursor's for part 0, else own_err */
    anpr_errmsg_buf own_err;
    /* Its task: the slice, and the matches it may hold before the slice must be cut finer. */
    int64_t t0, t1;
    int whole;
    uint64_t limit;
    size_t span_bytes;      /* SPAN_BYTES, or SHARED_SPAN_BYTES when the slice is shared */
    int rc;                 /* the task's answer: 0, SLICE_OVERFLOW or an error */
} qpart;

struct anpr_cursor {
    anpr_store *s;
    anpr_query q;
    uint32_t *cameras;      /* sorted copy */
    plate_match pm;
    enc_plate_target *target; /* the plate (or partial plate) sought, as blocks' plates are searched for it */
    int find;               /* blocks' plates are searched by codes, not decoded */
    qfile *files;           /* in the manifest's order: by day, then file id */
    size_t nfiles;
    anpr_row *mem;          /* matching buffered reads, sorted by time */
    size_t nmem;
    int32_t *days;          /* days to answer, ascending */
    size_t ndays, day_at;
    size_t group_days;      /* how many days the next group may take (plan_days) */
    /* The slices of the current group of days still to answer. */
    qblock *blocks;
    size_t nblocks, blocks_cap;
    int64_t slice_from, slice_step, group_end;
    int64_t group_from, sliced_step; /* where the group's slices start, and their width if it must be sliced */
    int whole;                     /* the group is being answered in one go, to be sliced if it overflows */
    /* The threads' shares of a slice: part[0..nparts) hold a batcher (and but for part 0 a thread). */
    qpart part[ANPR_QUERY_THREADS_MAX];
    size_t nparts;
    /*
     * The parts' shared work: files to probe, claimed PROBE_CHUNK files at a
     * time from next_file; then each slice's runs (a file's blocks in a row
     * of c->blocks), claimed one at a time from next_run, so that a part
     * whose thread started late or ran slower simply takes fewer.
     */
    int probing;
    size_t probe_chunk;
    atomic_size_t next_file;
    qrun *runs;
    size_t nruns, runs_cap;
    atomic_size_t next_run;
    atomic_int stop;        /* a part failed or overflowed: the others may stop */
    size_t res_at;          /* part[0].res[0..res_at) are handed out */
    uint64_t emitted;
    int done;               /* 1 at the end, or the status that ended the cursor */
    anpr_errmsg_buf err;
    /* The batch's arrays, last: anpr_query_open zeroes what comes before them, not their 160 KB. */
    int64_t ts[BATCH_ROWS];
    char plate[BATCH_ROWS][ANPR_PLATE_MAX + 1];
    uint32_t camera[BATCH_ROWS];
    uint8_t lane[BATCH_ROWS], direction[BATCH_ROWS], confidence[BATCH_ROWS];
    int32_t lat[BATCH_ROWS], lon[BATCH_ROWS];
};

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

/* Result order: time, then camera, then plate; equal keys are copies of one read. */
static int cmp_result(const void *pa, const void *pb)
{
    const anpr_row *a = pa, *b = pb;
    if (a->ts_ms != b->ts_ms) return a->ts_ms < b->ts_ms ? -1 : 1;
    if (a->camera != b->camera) return a->camera < b->camera ? -1 : 1;
    /* strncmp: a buffered read's plate slot may hold bytes after its NUL. */
    return strncmp(a->plate, b->plate, sizeof a->plate);
}

static int camera_wanted(const anpr_cursor *c, uint32_t cam)
{
    if (!c->cameras) return 1;
    size_t lo = 0, hi = c->q.ncameras;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (c->cameras[mid] < cam) lo = mid + 1;
        else hi = mid;
    }
    return lo < c->q.ncameras && c->cameras[lo] == cam;
}

/* Whether some wanted camera lies in [lo, hi]. */
static int camera_range_wanted(const anpr_cursor *c, uint32_t lo, uint32_t hi)
{
    if (!c->cameras) return 1;
    size_t a = 0, b = c->q.ncameras;
    while (a < b) {
        size_t mid = (a + b) / 2;
        if (c->cameras[mid] < lo) a = mid + 1;
        else b = mid;
    }
    return a < c->q.ncameras && c->cameras[a] <= hi;
}

/* Every condition but the plate. */
static int row_matches_but_plate(const anpr_cursor *c, const anpr_row *r, int64_t from, int64_t to)
{
    if (r->ts_ms < from || r->ts_ms >= to) return 0;
    if (!camera_wanted(c, r->camera)) return 0;
    if (c->q.area) {
        if (r->lat_e7 == ANPR_POS_UNKNOWN) return 0;
        if (r->lat_e7 < c->q.lat_min_e7 || r->lat_e7 > c->q.lat_max_e7) return 0;
        if (r->lon_e7 < c->q.lon_min_e7 || r->lon_e7 > c->q.lon_max_e7) return 0;
    }
    return 1;
}

static int row_matches(const anpr_cursor *c, const anpr_row *r, int64_t from, int64_t to)
{
    return row_matches_but_plate(c, r, from, to) && plate_match_row(&c->pm, r->plate);
}

static void close_files(anpr_cursor *c)
{
    for (size_t i = 0; i < c->nfiles; i++) {
        free(c->files[i].probe);
        /* A reader that failed is closed; the others serve the next query. */
        store_reader_put(c->s, c->files[i].slot, c->done >= 0);
    }
    free(c->files);
    c->files = NULL;
    c->nfiles = 0;
    free(c->mem);
    c->mem = NULL;
    c->nmem = 0;
}

/*
 * Copy, under the store's lock, the files overlapping the window and the
 * matching buffered reads; then open the files. Returns -ENOENT if a file
 * vanished before it could be opened (try again).
 */
static int take_snapshot(anpr_cursor *c)
{
    anpr_store *s = c->s;
    pthread_mutex_lock(&s->mu);
    size_t n = 0;
    for (size_t i = 0; i < s->man.nfiles; i++) {
        const manifest_file *f = &s->man.files[i];
        if (f->rows && f->max_ts_ms >= c->q.from_ms && f->min_ts_ms < c->q.to_ms) n++;
    }
    c->files = calloc(n ? n : 1, sizeof *c->files);
    int rc = c->files ? 0 : -ENOMEM;
    for (size_t i = 0; rc == 0 && i < s->man.nfiles; i++) {
        const manifest_file *f = &s->man.files[i];
        if (!(f->rows && f->max_ts_ms >= c->q.from_ms && f->min_ts_ms < c->q.to_ms)) continue;
        qfile *qf = &c->files[c->nfiles++];
        qf->f = *f;
    }
    /* Readers of files that left the manifest are closed, once per manifest generation. */
    if (rc == 0 && s->readers_gen != s->man.generation) {
        store_readers_prune(s, &s->man);
        s->readers_gen = s->man.generation;
    }
    /* Reads not in a file yet: the writer's buffer, or (another process's handle) the journal's tail. */
    const anpr_row *pending = s->writer ? s->writer->rows : s->tail;
    size_t npending = s->writer ? s->writer->nrows : s->ntail;
    if (rc == 0 && npending) {
        size_t m = 0;
        for (size_t i = 0; i < npending; i++) m += row_matches(c, &pending[i], c->q.from_ms, c->q.to_ms);
        c->mem = malloc((m ? m : 1) * sizeof *c->mem);
        if (!c->mem) rc = -ENOMEM;
        for (size_t i = 0; rc == 0 && i < npending; i++)
            if (row_matches(c, &pending[i], c->q.from_ms, c->q.to_ms)) c->mem[c->nmem++] = pending[i];
    }
    pthread_mutex_unlock(&s->mu);
    if (rc < 0) return rc;
    if (c->nmem) qsort(c->mem, c->nmem, sizeof *c->mem, cmp_result);

    for (size_t i = 0; i < c->nfiles; i++) {
        qfile *qf = &c->files[i];
        rc = store_reader_get(s, &qf->f, &qf->slot);
        if (rc == -ENOENT) return rc; /* removed since the manifest was copied: look again */
        if (rc < 0) {
            anpr_fail(&c->err, rc, "%s", qf->slot ? qf->slot->err.text : anpr_strerror(rc));
            c->done = rc;
            return rc;
        }
        qf->r = qf->slot->r;
        qf->fd = qf->slot->src.fd;
        qf->map = qf->slot->map;
        seg_reader_info(qf->r, &qf->info);
    }
    return 0;
}

/*
 * Whether rows are in result order already. A block gives its rows in
 * (camera, time, plate) order, which is result order when they are of one
 * camera, as a camera hour's are: one pass of compares instead of a sort.
 */
static int results_sorted(const anpr_row *r, size_t n)
{
    for (size_t i = 1; i < n; i++)
        if (cmp_result(&r[i - 1], &r[i]) > 0) return 0;
    return 1;
}

static int cmp_i32(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return x < y ? -1 : x > y;
}

/* The days that files or buffered reads hold, ascending and unique. */
static int list_days(anpr_cursor *c)
{
    c->days = malloc((c->nfiles + c->nmem + 1) * sizeof *c->days);
    if (!c->days) return -ENOMEM;
    size_t n = 0;
    for (size_t i = 0; i < c->nfiles; i++) c->days[n++] = c->files[i].f.day;
    for (size_t i = 0; i < c->nmem; i++)
        if (n == 0 || c->days[n - 1] != anpr_day_of(c->mem[i].ts_ms)) c->days[n++] = anpr_day_of(c->mem[i].ts_ms);
    qsort(c->days, n, sizeof *c->days, cmp_i32);
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (k == 0 || c->days[k - 1] != c->days[i]) c->days[k++] = c->days[i];
    c->ndays = k;
    return 0;
}

static int validate(const anpr_query *q, const char **why)
{
    *why = "";
    if (q->version != ANPR_QUERY_VERSION) *why = "query: unknown version (start from ANPR_QUERY_INIT)";
    else if (q->from_ms > q->to_ms) *why = "query: the window starts after it ends";
    else if (q->ncameras && !q->cameras) *why = "query: ncameras without cameras";
    else if (q->area && (q->lat_min_e7 > q->lat_max_e7 || q->lon_min_e7 > q->lon_max_e7))
        *why = "query: area: the south-west corner lies north or east of the north-east one";
    else if (q->area && (q->lat_min_e7 < -900000000 || q->lat_max_e7 > 900000000 || q->lon_min_e7 < -1800000000 ||
                         q->lon_max_e7 > 1800000000))
        *why = "query: area: latitude or longitude out of range";
    return **why ? ANPR_EINVAL : ANPR_OK;
}

static int grow_reqs(qpart *p, size_t n)
{
    if (p->reqs_cap >= n) return 0;
    io_req *r = realloc(p->reqs, n * sizeof *r);
    if (r) p->reqs = r;
    size_t *w = r ? realloc(p->which, n * sizeof *w) : NULL;
    if (!w) return -ENOMEM;
    p->which = w;
    p->reqs_cap = n;
    return 0;
}

/* A reader's call failed: its message (kept in its slot) becomes the part's, with the file's name. */
static int reader_failed(qpart *p, qfile *qf, int rc)
{
    anpr_fail(p->err, rc, "%s", qf->slot->err.text[0] ? qf->slot->err.text : anpr_strerror(rc));
    char name[64]; /* made here, not for every file a query takes: formatting 365 names cost 1 % of a plate history */
    manifest_file_name(name, sizeof name, &qf->f);
    return anpr_fail_prefix(p->err, rc, name);
}

/* Name the file a failed batched read belonged to. */
static int batch_failed(qpart *p, int rc, const qfile *qf, const char *what)
{
    char name[64];
    manifest_file_name(name, sizeof name, &qf->f);
    return anpr_fail(p->err, rc, "%s: %s: read: %s", name, what, anpr_strerror(rc));
}

static int part_blocks(qpart *p);
static int part_probe(qpart *p);

/* What a part's thread runs (and the cursor's, for part 0). */
static void part_run(void *arg)
{
    qpart *p = arg;
    p->rc = p->c->probing ? part_probe(p) : part_blocks(p);
    if (p->rc != 0) atomic_store_explicit(&p->c->stop, 1, memory_order_relaxed);
}

/* One more part, with a thread and a batcher from the store: 0 when none is free. */
static int add_part(anpr_cursor *c)
{
    worker *w;
    store_worker_get(c->s, &w);
    if (!w) return 0;
    io_batcher *io;
    if (store_io_get(c->s, &io) < 0) {
        store_worker_put(c->s, w);
        return 0;
    }
    qpart *p = &c->part[c->nparts];
    *p = (qpart){.c = c, .io = io, .w = w};
    p->err = &p->own_err;
    c->nparts++;
    return 1;
}

/* Up to `want` parts (never more than query_threads): how many the store could give. */
static size_t take_parts(anpr_cursor *c, size_t want)
{
    if (want > c->s->opts.query_threads) want = c->s->opts.query_threads;
    while (c->nparts < want && add_part(c)) {
    }
    return want < c->nparts ? want : c->nparts;
}

/*
 * Run part_run on parts 0..nparts, each but the cursor's own on its thread,
 * and wait for all. Returns the first part's error that failed (its
 * message made the cursor's), else SLICE_OVERFLOW if a part overflowed, else 0.
 */
static int run_parts(anpr_cursor *c, size_t nparts)
{
    atomic_store_explicit(&c->stop, 0, memory_order_relaxed);
    for (size_t k = 1; k < nparts; k++) worker_start(c->part[k].w, part_run, &c->part[k]);
    part_run(&c->part[0]);
    for (size_t k = 1; k < nparts; k++) worker_wait(c->part[k].w);
    int overflow = 0;
    for (size_t k = 0; k < nparts; k++) {
        qpart *p = &c->part[k];
        if (p->rc < 0) {
            if (k > 0) c->err = p->own_err;
            return p->rc;
        }
        overflow |= p->rc == SLICE_OVERFLOW;
    }
    return overflow ? SLICE_OVERFLOW : 0;
}

/*
 * Read a batch built as reqs[0..n): each request's buf an offset into a
 * buffer of `bytes` (made a pointer here), or, marked IO_MAPPED (blocks
 * only, map_resident below), a pointer into its file's mapping already.
 * Returns 0, or an error: with *failed the index of the request that
 * failed, or left as it was when no read did (no memory for the buffer).
 */
static int read_reqs(qpart *p, io_req *reqs, size_t n, size_t bytes, size_t *failed, int cached)
{
    uint8_t *buf = NULL;
    if (bytes > 0 && !(buf = io_batcher_buffer(p->io, bytes))) return -ENOMEM;
    for (size_t k = 0; k < n; k++)
        if (reqs[k].fd != IO_MAPPED) reqs[k].buf = buf + (uintptr_t)reqs[k].buf;
    size_t at;
    int rc = cached ? io_batcher_read_cached(p->io, reqs, n, &at) : io_batcher_read(p->io, reqs, n, &at);
    if (rc < 0) *failed = at;
    return rc;
}

/*
 * Is a mapped file's index page in memory, to be taken from the mapping
 * without a read? A history probes a page of every day's file: reading
 * them through io_uring was 8 % of a mapped history's time on the Intel
 * host, and a look (mincore) a page instead took 0.96 times the time there
 * (1.028 on the AMD host: docs/performance.md, Mapped files). A page not in
 * memory is read with the others, in the one batch, as before.
 */
static int page_mapped(anpr_cursor *c, const qfile *qf, uint64_t off, uint32_t len)
{
    int mapped = qf->map && !c->s->map_cold && io_mapped_resident(qf->map + off, len);
    if (qf->map) __atomic_fetch_add(mapped ? &c->s->pages_mapped : &c->s->pages_unmapped, 1, __ATOMIC_RELAXED);
    return mapped;
}

/*
 * The index probes of files [first, end), batched: first the page
 * directories not yet loaded, all in one submission, then the one page each
 * file needs.
 */
static int probe_files(qpart *p, size_t first, size_t end)
{
    anpr_cursor *c = p->c;
    int rc = grow_reqs(p, end - first);
    if (rc < 0) return rc;
    uint32_t *pages = malloc((end - first) * sizeof *pages);
    if (!pages) return -ENOMEM;
    for (int round = 0; rc == 0 && round < 2; round++) {
        size_t n = 0, bytes = 0;
        for (size_t i = first; rc == 0 && i < end; i++) {
            qfile *qf = &c->files[i];
            uint64_t off;
            uint32_t len;
            if (round == 0) rc = seg_reader_pagedir_span(qf->r, &off, &len);
            else rc = seg_reader_page_span(qf->r, c->pm.text, &pages[n], &off, &len);
            if (rc < 0) {
                rc = reader_failed(p, qf, rc);
                break;
            }
            if (round == 0 && len == 0) continue;
            p->which[n] = i;
            if (round == 1 && page_mapped(c, qf, off, len)) {
                p->reqs[n++] = (io_req){IO_MAPPED, (void *)(uintptr_t)(qf->map + off), len, off};
                continue;
            }
            p->reqs[n++] = (io_req){qf->fd, (void *)(uintptr_t)bytes, len, off};
            bytes += len;
        }
        size_t failed = SIZE_MAX;
        if (rc == 0) rc = read_reqs(p, p->reqs, n, bytes, &failed, 0);
        if (rc < 0 && failed != SIZE_MAX)
            rc = batch_failed(p, rc, &c->files[p->which[failed]], round ? "index page" : "index directory");
        for (size_t k = 0; rc == 0 && k < n; k++) {
            qfile *qf = &c->files[p->which[k]];
            rc = round == 0 ? seg_reader_load_pagedir(qf->r, p->reqs[k].buf)
                            : seg_reader_probe_page(qf->r, pages[k], p->reqs[k].buf, c->pm.text, &qf->probe,
                                                    &qf->nprobe);
            if (rc < 0) rc = reader_failed(p, qf, rc);
        }
    }
    free(pages);
    return rc;
}

/* A part's index probes: chunks of files claimed until none is left. */
static int part_probe(qpart *p)
{
    anpr_cursor *c = p->c;
    for (;;) {
        size_t first = atomic_fetch_add_explicit(&c->next_file, c->probe_chunk, memory_order_relaxed);
        if (first >= c->nfiles || atomic_load_explicit(&c->stop, memory_order_relaxed)) return 0;
        size_t end = c->nfiles - first > c->probe_chunk ? first + c->probe_chunk : c->nfiles;
        int rc = probe_files(p, first, end);
        if (rc < 0) return rc;
    }
}

/*
 * The index probes of every file. On one thread, in one batch: a query over
 * a year costs two round trips to the device, not 730. Shared among
 * threads, in chunks of a few dozen files that each part claims in turn.
 */
static int probe_all(anpr_cursor *c)
{
    size_t nparts = c->nfiles >= 2 * PROBE_CHUNK_MIN ? take_parts(c, c->s->opts.query_threads) : 1;
    c->probe_chunk = c->nfiles ? c->nfiles : 1;
    if (nparts > 1) {
        c->probe_chunk = (c->nfiles + 4 * nparts - 1) / (4 * nparts);
        if (c->probe_chunk < PROBE_CHUNK_MIN) c->probe_chunk = PROBE_CHUNK_MIN;
        __atomic_fetch_add(&c->s->probes_shared, 1, __ATOMIC_RELAXED);
    }
    atomic_store_explicit(&c->next_file, 0, memory_order_relaxed);
    c->probing = 1;
    int rc = run_parts(c, nparts);
    c->probing = 0;
    return rc;
}

int anpr_query_open(anpr_cursor **out, anpr_store *s, const anpr_query *q)
{
    if (!out) return ANPR_EINVAL;
    *out = NULL;
    if (!s || !q) return ANPR_EINVAL;
    const char *why;
    int rc = validate(q, &why);
    anpr_cursor *c = malloc(sizeof *c);
    if (!c) return -ENOMEM;
    memset(c, 0, offsetof(anpr_cursor, ts)); /* each batch array is written before a batch hands it out */
    c->s = s;
    c->q = *q;
    c->q.plate = NULL;
    c->part[0] = (qpart){.c = c, .err = &c->err};
    c->nparts = 1;
    if (rc == 0) rc = plate_match_compile(&c->pm, q->plate, q->fuzzy, &why);
    if (rc < 0) {
        pthread_mutex_lock(&s->mu);
        store_set_error(s, rc, "%s", why);
        pthread_mutex_unlock(&s->mu);
        free(c);
        return rc;
    }
    if (q->ncameras) {
        c->cameras = malloc(q->ncameras * sizeof *c->cameras);
        if (!c->cameras) {
            free(c);
            return -ENOMEM;
        }
        memcpy(c->cameras, q->cameras, q->ncameras * sizeof *c->cameras);
        qsort(c->cameras, q->ncameras, sizeof *c->cameras, cmp_u32);
    }
    c->q.cameras = NULL;
    /* A handle without the writer first catches up with the store on disk. */
    rc = store_refresh(s, 0);
    if (rc < 0) anpr_fail(&c->err, rc, "%s", s->err.text);
    for (int tries = 0; rc == 0; tries++) {
        rc = take_snapshot(c);
        if (rc != -ENOENT || tries == SNAPSHOT_TRIES) break;
        close_files(c); /* a merge or expiry replaced files meanwhile: look again */
        rc = store_refresh(s, 1); /* and, without the writer, read the manifest again too */
    }
    if (rc == -ENOENT) anpr_fail(&c->err, rc, "files kept vanishing while the snapshot was taken");
    if (rc == 0) rc = list_days(c);
    if (rc == 0) rc = store_io_get(s, &c->part[0].io);
    /*
     * A whole plate, or a partial one of single-character wildcards only, is
     * found in a block by its codes (for a partial plate, if they are not too many).
     */
    if (rc == 0 && (c->pm.kind == MATCH_EXACT || (c->pm.kind == MATCH_PATTERN && !strchr(c->pm.text, '*')))) {
        rc = enc_plate_target_new(&c->target, c->pm.text, c->pm.fold);
        c->find = rc == 0;
        if (rc == -E2BIG) rc = 0;
    }
    if (rc == 0 && c->pm.kind == MATCH_EXACT) rc = probe_all(c);
    if (rc < 0) {
        pthread_mutex_lock(&s->mu);
        store_set_error(s, rc, "%s", c->err.text[0] ? c->err.text : anpr_strerror(rc));
        pthread_mutex_unlock(&s->mu);
        c->done = rc; /* a reader may have failed: none of them goes back to the cache */
        anpr_cursor_close(c);
        return rc;
    }
    c->day_at = 0;
    /*
     * Groups of days grow from one, so that a query stopped early by its
     * limit has read at most about twice what it needed. A plate's blocks are
     * known from the probes and few: without a limit they go in groups of
     * query_slice_rows' worth whatever their days, each group a barrier
     * fewer for the query's threads (a year's history on two threads: 0.94
     * times the time, docs/performance.md, query threads).
     */
    c->group_days = c->pm.kind == MATCH_EXACT && c->q.limit == 0 ? GROUP_DAYS_MAX : 1;
    c->slice_step = 0;
    *out = c;
    return ANPR_OK;
}

/* Add the blocks of day `day` that may hold matches to c->blocks, and their rows to *rows. */
static int plan_day(anpr_cursor *c, int32_t day, uint64_t *rows)
{
    int64_t from = c->q.from_ms, to = c->q.to_ms;
    /* The files are in the manifest's order, by day: the day's come together, found by bisection. */
    size_t lo = 0, hi = c->nfiles;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (c->files[mid].f.day < day) lo = mid + 1;
        else hi = mid;
    }
    for (size_t i = lo; i < c->nfiles && c->files[i].f.day == day; i++) {
        qfile *qf = &c->files[i];
        /* A plate's blocks come from the index probe done at open; otherwise every block is a candidate. */
        const uint32_t *probe = c->pm.kind == MATCH_EXACT ? qf->probe : NULL;
        size_t nprobe = c->pm.kind == MATCH_EXACT ? qf->nprobe : qf->info.blocks;
        for (size_t k = 0; k < nprobe; k++) {
            uint32_t b = probe ? probe[k] : (uint32_t)k;
            anpr_block_info bi;
            seg_reader_block_info(qf->r, b, &bi);
            if (bi.max_ts_ms < from || bi.min_ts_ms >= to) continue;
            if (!camera_range_wanted(c, bi.camera_min, bi.camera_max)) continue;
            if (c->q.area && (bi.lat_min == ANPR_POS_UNKNOWN || bi.lat_max < c->q.lat_min_e7 ||
                              bi.lat_min > c->q.lat_max_e7 || bi.lon_max < c->q.lon_min_e7 ||
                              bi.lon_min > c->q.lon_max_e7))
                continue;
            if (c->nblocks == c->blocks_cap) {
                size_t ncap = c->blocks_cap ? 2 * c->blocks_cap : 64;
                qblock *nb = realloc(c->blocks, ncap * sizeof *nb);
                if (!nb) return -ENOMEM;
                c->blocks = nb;
                c->blocks_cap = ncap;
            }
            c->blocks[c->nblocks++] = (qblock){(uint32_t)i, b, bi.min_ts_ms, bi.max_ts_ms, bi.rows};
            *rows += bi.rows;
        }
    }
    return 0;
}

/*
 * Choose the next group of days to answer together, and their blocks: up
 * to c->group_days days (which doubles with each group, so that a query
 * stopped early by its limit has read at most about twice what it needed),
 * while their chosen blocks' rows stay under query_slice_rows. A group's
 * blocks are read in one batch, so a plate history over a year waits for
 * its reads a few times, not once a day. A single day over the limit is a
 * group alone, answered whole first and cut into slices should its matches
 * overflow: enough slices that their blocks' rows stay under
 * query_slice_rows each.
 */
static int plan_days(anpr_cursor *c)
{
    c->nblocks = 0;
    size_t first = c->day_at, d = first;
    uint64_t rows = 0;
    while (d < c->ndays && d - first < c->group_days) {
        size_t had_blocks = c->nblocks;
        uint64_t had_rows = rows;
        int rc = plan_day(c, c->days[d], &rows);
        if (rc < 0) return rc;
        if (d > first && rows > c->s->query_slice_rows) {
            c->nblocks = had_blocks; /* the day starts the next group */
            rows = had_rows;
            break;
        }
        d++;
    }
    c->day_at = d;
    if (c->group_days < GROUP_DAYS_MAX) c->group_days *= 2;
    int64_t from = c->q.from_ms, to = c->q.to_ms;
    int64_t d0 = (int64_t)c->days[first] * ANPR_DAY_MS, d1 = ((int64_t)c->days[d - 1] + 1) * ANPR_DAY_MS;
    int64_t lo = from > d0 ? from : d0, hi = to < d1 ? to : d1;
    uint64_t slices = rows / c->s->query_slice_rows + 1;
    c->group_from = c->slice_from = lo;
    c->group_end = hi;
    c->sliced_step = (int64_t)(((uint64_t)(hi - lo) + slices - 1) / slices);
    if (c->sliced_step <= 0) c->sliced_step = 1;
    c->whole = slices > 1;
    c->slice_step = c->whole ? hi - lo : c->sliced_step;
    if (c->slice_step <= 0) c->slice_step = 1;
    return 0;
}

static int add_result(qpart *p, const anpr_row *r)
{
    int rc = rows_reserve(&p->res, &p->res_cap, p->nres, 1);
    if (rc < 0) return rc;
    p->res[p->nres++] = *r;
    return 0;
}

static int in_slice(const qblock *qb, int64_t t0, int64_t t1)
{
    return !(qb->max_ts < t0 || qb->min_ts >= t1);
}

#define DECODE_WHOLE 1 /* decode_window's answer when the window holds too many of the block's rows */

/*
 * A block that the window cuts (its rows are sorted by camera, so a block
 * spans hours): its times first (for a block of one camera, only those from
 * the checkpoint before the window to its end), then only the rows inside
 * the window, if they are fewer than half the block. DECODE_WHOLE otherwise.
 */
static int decode_window(qpart *p, qfile *qf, const qblock *qb, const uint8_t *span)
{
    const anpr_cursor *c = p->c;
    const int64_t *ts;
    size_t n = qb->rows, nat = 0, first;
    /* A block of one camera is in time order: its window is a run of rows, found from the checkpoints. */
    int drc = seg_reader_times_in(qf->r, qb->block, span, p->t0, p->t1, &first, &nat);
    if (drc == 0)
        for (size_t i = 0; i < nat; i++) p->hit[i] = (uint32_t)(first + i);
    else if (drc == ANPR_EINVAL) {
        drc = seg_reader_decode_times(qf->r, qb->block, span, &ts, &n);
        for (size_t i = 0; drc == 0 && i < n; i++)
            if (ts[i] >= p->t0 && ts[i] < p->t1) p->hit[nat++] = (uint32_t)i;
    }
    if (drc < 0) return reader_failed(p, qf, drc);
    if (2 * nat >= n) return DECODE_WHOLE;
    if (nat == 0) return 0;
    drc = seg_reader_decode_rows(qf->r, qb->block, span, p->hit, nat, p->scratch, 1);
    if (drc < 0) return reader_failed(p, qf, drc);
    for (size_t i = 0; i < nat; i++)
        if (row_matches(c, &p->scratch[i], p->t0, p->t1) && (drc = add_result(p, &p->scratch[i])) < 0) return drc;
    return 0;
}

/* Room for a block of `rows` in p->scratch and p->hit. */
static int grow_scratch(qpart *p, size_t rows)
{
    if (p->scratch_cap >= rows) return 0;
    free(p->scratch);
    free(p->hit);
    p->scratch = malloc(rows * sizeof *p->scratch);
    p->hit = malloc(rows * sizeof *p->hit);
    p->scratch_cap = p->scratch && p->hit ? rows : 0;
    return p->scratch_cap ? 0 : -ENOMEM;
}

/* Decode and filter one block read into span; matches go to p->res. */
static int decode_block(qpart *p, const qblock *qb, const uint8_t *span)
{
    const anpr_cursor *c = p->c;
    qfile *qf = &c->files[qb->file];
    int64_t t0 = p->t0, t1 = p->t1;
    if (grow_scratch(p, qf->info.block_rows) < 0) return -ENOMEM;
    /* A plate found by its codes is sought below; any other query on a block the window cuts, by time first. */
    if (!c->find && (qb->min_ts < t0 || qb->max_ts >= t1)) {
        int wrc = decode_window(p, qf, qb, span);
        if (wrc != DECODE_WHOLE) return wrc;
    }
    size_t nrows, nhit = 1;
    int drc, found = 0; /* p->hit lists the plate's rows */
    if (c->pm.kind != MATCH_ANY) {
        /*
         * Plates first: a block without the plate (one that only shares an index
         * bucket with it, say) is dropped without decoding the rest; by comparing
         * codes, not text, where the plate allows.
         */
        drc = c->find ? seg_reader_find_plate(qf->r, qb->block, span, c->target, p->hit, p->scratch, &nhit)
                      : ANPR_EINVAL;
        found = drc == 0;
        if (drc == ANPR_EINVAL) {
            drc = seg_reader_decode_plates(qf->r, qb->block, span, p->scratch, &nrows);
            for (nhit = 0; drc == 0 && nhit < nrows && !plate_match_row(&c->pm, p->scratch[nhit].plate);) nhit++;
            if (drc == 0) nhit = nhit < nrows;
        }
        if (drc < 0) return reader_failed(p, qf, drc);
        if (nhit == 0) return 0;
    }
    /* With the plate's rows known, only those rows are decoded, and checked without their text. */
    nrows = nhit;
    drc = found ? seg_reader_decode_rows(qf->r, qb->block, span, p->hit, nhit, p->scratch, 0)
                : seg_reader_decode_block(qf->r, qb->block, span, p->scratch, &nrows);
    if (drc < 0) return reader_failed(p, qf, drc);
    for (size_t i = 0; i < nrows; i++) {
        if (found ? !row_matches_but_plate(c, &p->scratch[i], t0, t1) : !row_matches(c, &p->scratch[i], t0, t1))
            continue;
        if ((drc = add_result(p, &p->scratch[i])) < 0) return drc;
    }
    return 0;
}

/* Where request k of the batch lies in its file's mapping, or NULL for a file not mapped. */
static const uint8_t *mapped_at(const qpart *p, size_t k)
{
    const uint8_t *map = p->c->files[p->c->blocks[p->which[k]].file].map;
    return map ? map + p->reqs[k].off : NULL;
}

/*
 * A group of block reads whose files are mapped (ANPR_OPEN_MAP) is taken
 * from the mappings, without a copy, when its first and last such blocks
 * are in memory; otherwise it is read as any other (through io_uring, in
 * one batch), and the page cache then holds it for the next queries. A
 * mapped block that is not in memory would come in by page faults, one
 * block after another (on this VM a cold history took 57 times as long).
 * Two looks at the page cache a group, since a look a block costs most of
 * what the mapping saves; the last block too, because the readahead of the
 * group before often brings in the first of a group that is otherwise
 * cold. A block that the looks let through cold is faulted in: slower,
 * still right.
 */
static void map_resident(qpart *p, size_t n)
{
    anpr_cursor *c = p->c;
    if (!(c->s->opts.flags & ANPR_OPEN_MAP)) return; /* no file is mapped: no batch's requests to look through */
    size_t k = 0, last = n;
    while (k < n && !mapped_at(p, k)) k++;
    if (k == n) return;
    while (!mapped_at(p, last - 1)) last--;
    if (c->s->map_cold || !io_mapped_resident(mapped_at(p, k), p->reqs[k].len) ||
        (last - 1 > k && !io_mapped_resident(mapped_at(p, last - 1), p->reqs[last - 1].len))) {
        __atomic_fetch_add(&c->s->groups_unmapped, 1, __ATOMIC_RELAXED);
        return;
    }
    __atomic_fetch_add(&c->s->groups_mapped, 1, __ATOMIC_RELAXED);
    for (; k < last; k++) {
        const uint8_t *at = mapped_at(p, k);
        if (at) p->reqs[k] = (io_req){IO_MAPPED, (void *)(uintptr_t)at, p->reqs[k].len, p->reqs[k].off};
    }
}

/* Is block c->blocks[k]'s plate chunk plate-part, searched by its table and sections rather than whole? */
static int plate_by_parts(const anpr_cursor *c, size_t k)
{
    const qblock *qb = &c->blocks[k];
    uint64_t off;
    uint32_t len;
    return seg_reader_plate_table(c->files[qb->file].r, qb->block, &off, &len) == 0 && len > 0;
}

static int grow_probe(qpart *p, size_t n)
{
    if (p->probe_cap >= n) return 0;
    io_req *r = realloc(p->probe, n * sizeof *r);
    if (r) p->probe = r;
    size_t *of = r ? realloc(p->probe_of, n * sizeof *of) : NULL;
    if (of) p->probe_of = of;
    uint64_t *rest = of ? realloc(p->probe_rest, n * sizeof *rest) : NULL;
    if (!rest) return -ENOMEM;
    p->probe_rest = rest;
    p->probe_cap = n;
    return 0;
}

/* A range of a block's span, read to its place in the buffer (at: where the span's first byte goes). */
static size_t add_range(io_req *reqs, size_t n, int fd, uint8_t *at, uint64_t span_off, uint64_t from, uint64_t to)
{
    if (to > from) reqs[n++] = (io_req){fd, at + (from - span_off), (uint32_t)(to - from), from};
    return n;
}

/*
 * A plate's history reads every block the index names for it, and most
 * only share its bucket. A block whose plates are in plate-part (format 11)
 * is ruled out on its plate chunk's table and the sections the search
 * reads (some 1.5 KB of a 20 KB span), read first in two batches: the
 * tables, each to where its chunk lies in its block's place in the buffer,
 * then the sections each table places. A block that may hold the plate is
 * then read but for its chunk's other parts, which its search does not
 * read: copying whole spans out of the page cache was a third of a read
 * history's time. Only when every table is in the page cache (read with
 * io_uring's RWF_NOWAIT; pread cannot tell, and reads every group whole),
 * and for a block whose sections are too; not for blocks taken from a
 * mapping, which cost no copy.
 * The group's requests p->reqs[0..*n) (offsets into a buffer of `bytes`)
 * become the blocks still to decode: those read here marked IO_MAPPED
 * (in memory already, buf their span's first byte), the others to read.
 */
static int rule_out_blocks(qpart *p, size_t *n, size_t bytes)
{
    anpr_cursor *c = p->c;
    size_t group = *n, ntables = 0;
    int rc = grow_probe(p, group * (3 + ENC_PART_PROBE_SECTIONS));
    if (rc < 0) return rc;
    for (size_t k = 0; k < group; k++) {
        if (p->reqs[k].fd == IO_MAPPED) continue;
        const qblock *qb = &c->blocks[p->which[k]];
        qfile *qf = &c->files[qb->file];
        uint64_t off;
        uint32_t len;
        rc = seg_reader_plate_table(qf->r, qb->block, &off, &len);
        if (rc < 0) return reader_failed(p, qf, rc);
        if (len == 0) continue;
        p->probe[ntables] = (io_req){qf->fd, (void *)((uintptr_t)p->reqs[k].buf + (off - p->reqs[k].off)), len, off};
        p->probe_of[ntables++] = k;
    }
    if (ntables == 0) return 0;
    size_t failed = SIZE_MAX;
    rc = read_reqs(p, p->probe, ntables, bytes, &failed, 1);
    if (rc < 0)
        return failed == SIZE_MAX ? rc
                                  : batch_failed(p, rc, &c->files[c->blocks[p->which[p->probe_of[failed]]].file],
                                                 "plate table");
    /*
     * A table not in memory says the group is (partly) cold: one round of
     * whole spans then, not three rounds each waiting on the device (a cold
     * history took twice as long).
     */
    for (size_t i = 0; i < ntables; i++)
        if (p->probe[i].len == 0) return 0;
    uint8_t *buf = io_batcher_buffer(p->io, bytes); /* the tables' buffer: it is as large as asked already */
    /* Each table's sections, after the tables. */
    size_t nreqs = ntables;
    for (size_t i = 0; i < ntables; i++) {
        const qblock *qb = &c->blocks[p->which[p->probe_of[i]]];
        qfile *qf = &c->files[qb->file];
        uint8_t *chunk = p->probe[i].buf;
        seg_range sec[ENC_PART_PROBE_SECTIONS];
        size_t m;
        rc = seg_reader_plate_sections(qf->r, qb->block, chunk, c->target, sec, &m, &p->probe_rest[i]);
        if (rc < 0) return reader_failed(p, qf, rc);
        for (size_t j = 0; j < m; j++) {
            p->probe[nreqs] = (io_req){qf->fd, chunk + (sec[j].off - p->probe[i].off), sec[j].len, sec[j].off};
            p->probe_of[nreqs++] = i;
        }
    }
    size_t at;
    rc = io_batcher_read_cached(p->io, p->probe + ntables, nreqs - ntables, &at);
    if (rc < 0)
        return batch_failed(p, rc, &c->files[c->blocks[p->which[p->probe_of[p->probe_of[ntables + at]]]].file],
                            "plate part");
    /* A block whose sections are not all in memory is read whole in one round, as a cold one is. */
    for (size_t j = ntables; j < nreqs; j++)
        if (p->probe[j].len == 0 || c->s->sections_cold) p->probe_rest[p->probe_of[j]] = 0;
    /* The blocks kept: those not probed, and those whose chunk may hold the plate, read now but for the parts. */
    size_t kept = 0, t = 0, first_rest = nreqs, probed = 0;
    for (size_t k = 0; k < group; k++) {
        size_t i = t < ntables && p->probe_of[t] == k ? t++ : SIZE_MAX; /* its table's request */
        if (i != SIZE_MAX && p->probe_rest[i] != 0) {
            probed++;
            const qblock *qb = &c->blocks[p->which[k]];
            qfile *qf = &c->files[qb->file];
            if (grow_scratch(p, qf->info.block_rows) < 0) return -ENOMEM;
            int absent = seg_reader_plate_absent(qf->r, qb->block, p->probe[i].buf, c->target, p->hit);
            if (absent < 0) return reader_failed(p, qf, absent);
            if (absent) continue;
            io_req span = p->reqs[k];
            uint8_t *to = buf + (uintptr_t)span.buf;
            size_t from = nreqs;
            nreqs = add_range(p->probe, nreqs, span.fd, to, span.off, span.off, p->probe[i].off);
            nreqs = add_range(p->probe, nreqs, span.fd, to, span.off, p->probe_rest[i], span.off + span.len);
            for (size_t j = from; j < nreqs; j++) p->probe_of[j] = kept;
            p->reqs[k] = (io_req){IO_MAPPED, to, span.len, span.off};
        }
        p->reqs[kept] = p->reqs[k];
        p->which[kept++] = p->which[k];
    }
    __atomic_fetch_add(&c->s->blocks_probed, probed, __ATOMIC_RELAXED);
    __atomic_fetch_add(&c->s->blocks_ruled_out, group - kept, __ATOMIC_RELAXED);
    *n = kept;
    rc = io_batcher_read(p->io, p->probe + first_rest, nreqs - first_rest, &at);
    if (rc < 0) return batch_failed(p, rc, &c->files[c->blocks[p->which[p->probe_of[first_rest + at]]].file], "block");
    return 0;
}

/*
 * A part's blocks of the slice: runs claimed one at a time, their blocks
 * read in groups of at most span_bytes (one batch each), decoded and filtered.
 */
static int part_blocks(qpart *p)
{
    anpr_cursor *c = p->c;
    p->nres = 0;
    int rc = grow_reqs(p, c->nblocks);
    if (rc < 0) return rc;
    size_t at_block = 0, end_block = 0; /* what is left of the run claimed last */
    for (;;) {
        /* The next group: blocks until their bytes would pass the part's span_bytes. */
        size_t n = 0, bytes = 0;
        for (;;) {
            if (at_block == end_block) {
                size_t r = atomic_fetch_add_explicit(&c->next_run, 1, memory_order_relaxed);
                if (r >= c->nruns) break;
                at_block = c->runs[r].first;
                end_block = c->runs[r].end;
                continue;
            }
            qblock *qb = &c->blocks[at_block];
            if (!in_slice(qb, p->t0, p->t1)) {
                at_block++;
                continue;
            }
            qfile *qf = &c->files[qb->file];
            uint64_t off;
            uint32_t len;
            rc = seg_reader_block_span(qf->r, qb->block, &off, &len);
            if (rc < 0) return reader_failed(p, qf, rc);
            size_t at = bytes + ((off - bytes) & (SPAN_ALIGN - 1));
            if (n > 0 && at + len > p->span_bytes) break; /* the block starts the next group */
            /* The request's buffer is an offset until the buffer is sized. */
            p->reqs[n] = (io_req){qf->fd, (void *)(uintptr_t)at, len, off};
            p->which[n++] = at_block++;
            bytes = at + len;
        }
        if (n == 0) return 0;
        map_resident(p, n);
        if (c->find && (rc = rule_out_blocks(p, &n, bytes)) < 0) return rc;
        size_t failed = SIZE_MAX;
        rc = read_reqs(p, p->reqs, n, bytes, &failed, 0);
        if (rc < 0)
            return failed == SIZE_MAX ? rc : batch_failed(p, rc, &c->files[c->blocks[p->which[failed]].file], "block");
        for (size_t k = 0; k < n; k++) {
            /* Another part failed, or found too many: this slice's answer will not be used. */
            if (atomic_load_explicit(&c->stop, memory_order_relaxed)) return 0;
            /*
             * A mapped block's bytes are not in the CPU's caches (a read had
             * just copied them there): a line of each page of the next block
             * asked for now arrives while this one is decoded, and the
             * hardware's prefetch goes on from it within the page (0.96 times
             * a history's time; a line a KiB: 1.02 times that). Not for a
             * plate found by its codes in a plate-part chunk (format 11): in a
             * block that only shares its bucket the search reads the chunk's
             * table and one part, some 1.4 KB (without the prefetch 0.98 of a
             * mapped history's time on one thread, 0.995 on two, Intel host).
             */
            if (k + 1 < n && p->reqs[k + 1].fd == IO_MAPPED && !(c->find && plate_by_parts(c, p->which[k + 1]))) {
                const char *next = p->reqs[k + 1].buf;
                for (uint32_t at = 0; at < p->reqs[k + 1].len; at += 4096) __builtin_prefetch(next + at);
            }
            int drc = decode_block(p, &c->blocks[p->which[k]], p->reqs[k].buf);
            if (drc < 0) return drc;
            /* Checked a block at a time, so the matches held pass the limit by one block's at most. */
            if (p->whole && p->nres > p->limit) return SLICE_OVERFLOW;
        }
    }
}

/*
 * The slice's runs (c->blocks lists a file's blocks together), and how
 * many parts share them: no more than the files it reads, and one when its
 * blocks are too few to be worth the hand-over or the store has no thread free.
 */
static int plan_runs(anpr_cursor *c, int64_t t0, int64_t t1, size_t *nparts)
{
    size_t nblocks = 0;
    c->nruns = 0;
    for (size_t k = 0; k < c->nblocks; k++) {
        const qblock *qb = &c->blocks[k];
        if (!in_slice(qb, t0, t1)) continue;
        nblocks++;
        if (c->nruns && c->blocks[c->runs[c->nruns - 1].first].file == qb->file) {
            c->runs[c->nruns - 1].end = k + 1;
            continue;
        }
        if (c->nruns == c->runs_cap) {
            size_t ncap = c->runs_cap ? 2 * c->runs_cap : 64;
            qrun *nr = realloc(c->runs, ncap * sizeof *nr);
            if (!nr) return -ENOMEM;
            c->runs = nr;
            c->runs_cap = ncap;
        }
        c->runs[c->nruns++] = (qrun){k, k + 1};
    }
    atomic_store_explicit(&c->next_run, 0, memory_order_relaxed);
    *nparts = nblocks >= SHARE_MIN_BLOCKS && c->nruns > 1 ? take_parts(c, c->nruns) : 1;
    return 0;
}

/*
 * Answer [t0, t1) of the current group of days into part[0].res: its
 * files' blocks claimed by the parts, each part on its own thread, then
 * the matches brought together. With `whole`, SLICE_OVERFLOW as soon as a
 * part's matches pass its share of query_slice_rows.
 */
static int run_slice(anpr_cursor *c, int64_t t0, int64_t t1, int whole)
{
    c->res_at = 0;
    size_t nparts;
    int rc = plan_runs(c, t0, t1, &nparts);
    if (rc < 0) return rc;
    if (nparts > 1) __atomic_fetch_add(&c->s->slices_shared, 1, __ATOMIC_RELAXED);
    for (size_t k = 0; k < nparts; k++) {
        qpart *p = &c->part[k];
        p->t0 = t0;
        p->t1 = t1;
        p->whole = whole;
        p->limit = c->s->query_slice_rows / nparts;
        p->span_bytes = nparts > 1 ? SHARED_SPAN_BYTES : SPAN_BYTES;
    }
    for (size_t k = nparts; k < c->nparts; k++) c->part[k].nres = 0;
    rc = run_parts(c, nparts);
    if (rc != 0) return rc;
    qpart *out = &c->part[0];
    for (size_t k = 1; k < nparts; k++) {
        const qpart *p = &c->part[k];
        rc = rows_reserve(&out->res, &out->res_cap, out->nres, p->nres);
        if (rc < 0) return rc;
        if (p->nres) memcpy(out->res + out->nres, p->res, p->nres * sizeof *p->res);
        out->nres += p->nres;
    }
    /* Buffered reads of the slice (c->mem is sorted by time). */
    for (size_t i = 0; i < c->nmem; i++) {
        if (c->mem[i].ts_ms < t0) continue;
        if (c->mem[i].ts_ms >= t1) break;
        int arc = add_result(out, &c->mem[i]);
        if (arc < 0) return arc;
    }
    if (!results_sorted(out->res, out->nres)) qsort(out->res, out->nres, sizeof *out->res, cmp_result);
    size_t k = 0;
    for (size_t i = 0; i < out->nres; i++)
        if (k == 0 || cmp_result(&out->res[k - 1], &out->res[i]) != 0) out->res[k++] = out->res[i];
    out->nres = k;
    return 0;
}

/* Make part[0].res hold unreturned results; 0 when the query is exhausted. */
static int refill(anpr_cursor *c)
{
    while (c->res_at >= c->part[0].nres) {
        if (c->slice_step > 0 && c->slice_from < c->group_end) {
            int64_t t0 = c->slice_from;
            int64_t t1 = c->group_end - t0 > c->slice_step ? t0 + c->slice_step : c->group_end;
            c->slice_from = t1;
            int rc = run_slice(c, t0, t1, c->whole);
            if (rc == SLICE_OVERFLOW) {
                /* Too many matches for one go: drop them, answer the day again in slices. */
                c->whole = 0;
                c->part[0].nres = c->res_at = 0;
                c->slice_from = c->group_from;
                c->slice_step = c->sliced_step;
                continue;
            }
            if (rc < 0) return rc;
            continue;
        }
        if (c->day_at == c->ndays) return 0;
        int rc = plan_days(c);
        if (rc < 0) return rc;
    }
    return 1;
}

int anpr_cursor_next(anpr_cursor *c, anpr_batch *out)
{
    if (!c || !out) return ANPR_EINVAL;
    memset(out, 0, sizeof *out);
    if (c->done) return c->done < 0 ? c->done : 0; /* an error stays the answer */
    size_t n = 0;
    while (n < BATCH_ROWS && (c->q.limit == 0 || c->emitted < c->q.limit)) {
        int rc = refill(c);
        if (rc < 0) {
            if (!c->err.text[0]) anpr_fail(&c->err, rc, "query: %s", anpr_strerror(rc));
            c->done = rc;
            return rc;
        }
        if (rc == 0) break;
        const anpr_row *r = &c->part[0].res[c->res_at++];
        c->ts[n] = r->ts_ms;
        memcpy(c->plate[n], r->plate, sizeof c->plate[n]);
        c->camera[n] = r->camera;
        c->lane[n] = r->lane;
        c->direction[n] = r->direction;
        c->confidence[n] = r->confidence;
        c->lat[n] = r->lat_e7;
        c->lon[n] = r->lon_e7;
        n++;
        c->emitted++;
    }
    if (n == 0) {
        c->done = 1;
        return 0;
    }
    *out = (anpr_batch){n, c->ts, (const char(*)[ANPR_PLATE_MAX + 1])c->plate, c->camera, c->lane,
                        c->direction, c->confidence, c->lat, c->lon};
    return 1;
}

const char *anpr_cursor_errmsg(const anpr_cursor *c)
{
    return c ? c->err.text : "no cursor";
}

void anpr_cursor_close(anpr_cursor *c)
{
    if (!c) return;
    close_files(c);
    for (size_t k = 0; k < c->nparts; k++) {
        qpart *p = &c->part[k];
        store_worker_put(c->s, p->w); /* idle: run_slice waits for every part it starts */
        store_io_put(c->s, p->io);
        free(p->reqs);
        free(p->which);
        free(p->probe);
        free(p->probe_of);
        free(p->probe_rest);
        free(p->hit);
        free(p->res);
        free(p->scratch);
    }
    free(c->runs);
    free(c->cameras);
    enc_plate_target_free(c->target);
    free(c->days);
    free(c->blocks);
    free(c);
}
