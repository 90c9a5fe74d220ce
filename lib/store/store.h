/*
 * The store handle and its writer, as the store layer's files share them.
 * store.c: open, close, stats; writer.c: lock, replay, append, group commit;
 * flush.c: buffered reads to part files; merge.c: parts to daily segments
 * and retention.
 */
#ifndef ANPR_STORE_STORE_H
#define ANPR_STORE_STORE_H

#include <pthread.h>
#include <stdint.h>

#include "anpr/anpr.h"
#include "anpr/segment.h"
#include "common/errmsg.h"
#include "io/publish.h"
#include "io/vfs.h"
#include "segment/segment.h"
#include "journal/journal.h"
#include "store/manifest.h"

#define ANPR_DEFAULT_MEMORY_BUDGET ((size_t)512 << 20)
#define ANPR_DEFAULT_LEVEL 3
/* The smallest block_rows accepted: below it a block's directory entry (about 300 bytes) costs over a byte a read. */
#define ANPR_MIN_BLOCK_ROWS 256u
#define ANPR_DEFAULT_MAX_FUTURE_MS (INT64_C(24) * 3600 * 1000)
#define ANPR_LOCK_NAME "LOCK"

/* An open segment reader, cached on the store between queries (readers.c). */
typedef struct store_reader {
    uint64_t id;               /* the file's manifest id */
    int32_t day;               /* and its day: the two find it in a manifest */
    anpr_source src;
    seg_reader *r;
    const uint8_t *map;        /* the whole file mapped (ANPR_OPEN_MAP), or NULL: queries read it */
    anpr_errmsg_buf err;       /* the reader's messages */
    /* While idle in the cache: its chain of readers of ids with the same hash, and its place in use order. */
    struct store_reader *chain, *newer, *older;
} store_reader;

#define STORE_READERS_MAX 1024   /* idle readers the cache keeps at most (readers.c) */
#define STORE_READER_CHAINS 2048 /* twice as many chains */

/* A query's matches held at once before it answers a day in time slices (query.c). */
#define STORE_QUERY_SLICE_ROWS ((uint64_t)2 << 20)

struct anpr_store {
    char *dir;
    const anpr_vfs *vfs;
    anpr_store_options opts;   /* with defaults filled in; errbuf cleared */
    int io_mode;               /* ANPR_IO_URING or ANPR_IO_PREAD */
    uint64_t query_slice_rows; /* a query holds at most about this many matches at once (tests lower it) */
    /*
     * One lock for the manifest, the writer's buffer and journal, and the
     * error message: every operation on them is short except flush, which
     * must stop appends anyway while it empties the buffer.
     */
    pthread_mutex_t mu;
    manifest man;
    anpr_errmsg_buf err;
    anpr_writer *writer;
    /*
     * Idle segment readers, found by file id in chains and dropped least
     * recently used first; their own lock, never held with mu.
     */
    pthread_mutex_t readers_mu;
    store_reader *reader_chains[STORE_READER_CHAINS];
    store_reader *newest_reader, *oldest_reader;
    size_t nreaders;
    size_t readers_max;        /* STORE_READERS_MAX (tests lower it) */
    uint64_t readers_gen;      /* manifest generation the cache was last pruned at (under mu) */
    /* Under readers_mu too: queries' batchers (their io_uring rings) kept for the next ones, query_threads at most, */
    struct io_batcher *idle_io[ANPR_QUERY_THREADS_MAX];
    size_t nidle_io;
    /* and the threads that take a share of a query's blocks: idle ones, and how many exist (query_threads - 1). */
    struct worker *idle_workers[ANPR_QUERY_THREADS_MAX];
    size_t nidle_workers, nworkers;
    /* Index probes and slices that queries shared among threads (atomic): tests see the path ran. */
    uint64_t probes_shared, slices_shared;
    /* Groups of block reads of mapped files taken from the mappings, and read instead (atomic; tests see both). */
    uint64_t groups_mapped, groups_unmapped;
    /* The same for index pages: taken from the mappings, and read (atomic). */
    uint64_t pages_mapped, pages_unmapped;
    /* Blocks whose plate chunk a plate search probed before reading them, and those it then left unread (atomic). */
    uint64_t blocks_probed, blocks_ruled_out;
    int map_cold; /* tests: take every mapped file's blocks and index pages as not in memory (read them) */
    int sections_cold; /* tests: take every plate chunk's sections a search reads first as not in memory */
    /* Without the writer: the store as last read from disk (refresh.c; under mu). */
    int64_t refreshed_at;      /* monotonic ms; 0 = never */
    uint64_t tail_gen, tail_off;
    anpr_row *tail;            /* the live journal's reads up to tail_off */
    size_t ntail, tail_cap;
};

/*
 * What a flush's sort keeps between flushes, so that steady ingest does not
 * fault in fresh pages for every flush: the second array the radix sort
 * moves rows into (whichever array ends up sorted becomes the buffer, the
 * other the spare), and its digit counters.
 */
typedef struct sort_scratch {
    anpr_row *spare;
    size_t spare_cap;
    size_t *count;
} sort_scratch;

void sort_scratch_free(sort_scratch *sc);

struct anpr_writer {
    anpr_store *s;
    int lock_fd;
    journal *j;
    anpr_row *rows;            /* buffered reads, in arrival order */
    size_t nrows, cap;
    size_t flush_rows;         /* flush when nrows reaches this (from the memory budget) */
    sort_scratch sort;
    /* Group commit: bytes written to the journal, and how many of them are synced. */
    pthread_cond_t synced_cv;
    int syncing;
    uint64_t written_end, synced_end;
    int poisoned;              /* a status that every later call returns */
    uint64_t journal_cut;      /* bytes of torn tail cut at open */
    uint64_t spare_gen;        /* a journal retired by the last flush, for the next to recycle; 0: none */
    /* Serialises merges and retention among themselves; appends go on meanwhile. */
    pthread_mutex_t maint_mu;
};

/*
 * A reader for file f: an idle one from the cache, or a new one. On failure
 * *out may still be set for its message (slot->err); pass it back to
 * store_reader_put with keep = 0. -ENOENT: the file is gone (a merge or an
 * expiry removed it).
 */
int store_reader_get(anpr_store *s, const manifest_file *f, store_reader **out);
/* Give a reader back: kept for the next query if keep, else closed. */
void store_reader_put(anpr_store *s, store_reader *slot, int keep);
/* Close the idle readers of files m does not name. */
void store_readers_prune(anpr_store *s, const manifest *m);
/* The pages of idle readers' mappings out of the process (anpr_store_release_memory). */
void store_readers_release(anpr_store *s);
void store_readers_free(anpr_store *s);

/*
 * anpr_store_open with every file operation through vfs (static storage,
 * or outliving the store): how tests fail the library's I/O on purpose.
 */
int store_open_vfs(anpr_store **out, const char *path, const anpr_store_options *opts, const anpr_vfs *vfs);

/* A batcher for a query: an idle one, or a new one. Give it back with store_io_put. */
int store_io_get(anpr_store *s, struct io_batcher **out);
void store_io_put(anpr_store *s, struct io_batcher *b);

/*
 * A thread for a share of a query's blocks: an idle one, or a new one while
 * the store has fewer than query_threads - 1. *out is NULL when none is
 * free (other queries hold them) or one cannot be started: the query does
 * that share itself. Give it back, idle, with store_worker_put.
 */
void store_worker_get(anpr_store *s, struct worker **out);
void store_worker_put(anpr_store *s, struct worker *w);

/*
 * On a handle without the writer, at most once per opts.refresh_ms (or now,
 * if force): read the manifest again and the live journal's new records
 * into s->tail. Takes mu.
 */
int store_refresh(anpr_store *s, int force);

/* Rows the writer's buffer holds in steady use (the flush threshold and a batch's room). */
size_t writer_buffer_rows(const anpr_writer *w);

/* Free the buffer of reads and the sort's arrays (the buffer must be empty, or be dropped). */
void writer_release_buffers(anpr_writer *w);

/* Store helpers used across the layer (mu held unless said otherwise). */
int store_set_error(anpr_store *s, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void store_path(const anpr_store *s, char *buf, size_t size, const char *name);
void store_unlink_file(anpr_store *s, const manifest_file *f);
void store_unlink_journal(anpr_store *s, uint64_t gen);

/*
 * A new segment or part file being written: published under its final name
 * by store_file_finish (not yet named by any manifest), removed by
 * store_file_abort.
 */
typedef struct store_file_out {
    anpr_publish pub;
    seg_writer *sw;
    manifest_file f;
} store_file_out;

/* err receives the detail: a merge runs without the store's lock and keeps its own. */
int store_file_begin(anpr_store *s, store_file_out *fo, int32_t day, uint8_t kind, uint64_t id,
                     anpr_errmsg_buf *err);
int store_file_add(store_file_out *fo, const anpr_row *rows, size_t n, anpr_errmsg_buf *err);
int store_file_finish(store_file_out *fo, anpr_errmsg_buf *err);
void store_file_abort(store_file_out *fo);

/* Writer internals: with s->mu held. */
int writer_commit_locked(anpr_writer *w);
int writer_flush_locked(anpr_writer *w);
void writer_drop_buffered_before(anpr_writer *w, int32_t day);

/* merge.c */
int merge_day(anpr_writer *w, int32_t day);
int retention_apply(anpr_writer *w, int64_t now_ms);

/*
 * Sort rows into segment order (day, camera, ts_ms, plate) and drop resent
 * duplicates, keeping the first copy. *rows (of capacity *cap, from
 * big_alloc) may be swapped with sc's spare array; *n and *cap are
 * updated. Needs a spare row for every row, kept in sc for the next call.
 */
int rows_sort_dedup(anpr_row **rows, size_t *n, size_t *cap, sort_scratch *sc);

/* Wall clock in ms since the epoch. */
int64_t anpr_now_ms(void);

/* Sort order of rows in every segment: (camera, ts_ms, plate). */
int row_key_cmp(const anpr_row *a, const anpr_row *b);

#endif
