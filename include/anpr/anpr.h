/*
 * libanpr: a storage engine for number-plate reads.
 *
 * Reads are appended through a writer, made durable by a journal on commit,
 * buffered per UTC day and written out as immutable, compressed column
 * segments with a plate-hash index. See docs/api.md for a tour and
 * docs/format.md for the bytes on disk.
 *
 * Conventions used by every function declared here:
 *  - A function that can fail returns int: ANPR_OK (0) on success, a negated
 *    errno value (-ENOSPC, -EIO, ...) passed through from the system, or one of
 *    the library's own ANPR_E* codes below. anpr_strerror() describes both.
 *  - Constructors take the out-parameter first. On failure *out is set to NULL.
 *  - Destructors accept NULL.
 *  - No function prints, exits, or keeps global state.
 *  - A handle may be used by one thread at a time unless its functions say
 *    otherwise (the writer is safe to share; see anpr_writer_open).
 */
#ifndef ANPR_ANPR_H
#define ANPR_ANPR_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(ANPR_BUILDING_LIBRARY) && defined(__GNUC__)
#define ANPR_API __attribute__((visibility("default")))
#else
#define ANPR_API
#endif

/* ---- Version ------------------------------------------------------------ */

#define ANPR_VERSION_MAJOR 0
#define ANPR_VERSION_MINOR 1
#define ANPR_VERSION_PATCH 0
#define ANPR_VERSION_NUMBER \
    (ANPR_VERSION_MAJOR * 10000 + ANPR_VERSION_MINOR * 100 + ANPR_VERSION_PATCH)

/* The version of the library actually linked, as ANPR_VERSION_NUMBER. */
ANPR_API unsigned anpr_version_number(void);
/* The same as a static string, "MAJOR.MINOR.PATCH". Never NULL. */
ANPR_API const char *anpr_version_string(void);

/* ---- Status codes ------------------------------------------------------- */

/* The library's own codes sit in a negative band that no errno reaches. */
enum anpr_status {
    ANPR_OK = 0,
    ANPR_EINVAL = -30900,   /* a bad argument to an API call */
    ANPR_EBADREAD = -30901, /* some reads of a batch failed validation */
    ANPR_ECORRUPT = -30902, /* a file failed a checksum or bounds check */
    ANPR_ELOCKED = -30903,  /* another writer holds the store's lock */
    ANPR_EVERSION = -30904, /* a file has a format version this library lacks */
    ANPR_EREADONLY = -30905,/* a write to a store opened read-only */
    ANPR_EBUSY = -30906,    /* the store already has a writer in this process */
    ANPR_EEXPIRED = -30907, /* the day was dropped by retention */
    ANPR_ENOTSTORE = -30908 /* the directory exists but holds no store */
};

/*
 * A static, human-readable description of any status this library returns:
 * its own codes and negated errno values. Never NULL; unknown codes get a
 * generic text.
 */
ANPR_API const char *anpr_strerror(int status);

/* ---- Reads -------------------------------------------------------------- */

/* Longest normalised plate, in characters (not counting the NUL). */
#define ANPR_PLATE_MAX 15
/* Latitude and longitude are in units of 1e-7 degree; this means unknown. */
#define ANPR_POS_UNKNOWN INT32_MIN

/*
 * One plate read, as an ingest service hands it to the library.
 *
 * plate is the text as the camera read it ("ab12 cde"); the library
 * normalises it (upper case; spaces and hyphens removed) and refuses it if
 * what remains is empty, longer than ANPR_PLATE_MAX, or holds anything but
 * the letters A-Z and the digits 0-9. The pointer is borrowed for the call.
 *
 * lat_e7 and lon_e7 must both be known or both be ANPR_POS_UNKNOWN.
 */
typedef struct anpr_read {
    int64_t ts_ms;       /* capture time, ms since the Unix epoch, UTC */
    const char *plate;   /* NUL-terminated plate text as read */
    uint32_t camera;     /* camera or source id */
    uint8_t lane;
    uint8_t direction;
    uint8_t confidence;  /* OCR confidence, 0..100 */
    int32_t lat_e7;      /* -900000000..900000000, or ANPR_POS_UNKNOWN */
    int32_t lon_e7;      /* -1800000000..1800000000, or ANPR_POS_UNKNOWN */
} anpr_read;

/*
 * Why a read was refused. Each verdict names one field; anpr_verdict_str()
 * gives the text ("plate: empty after normalisation") and
 * anpr_verdict_field() the field name alone ("plate").
 */
enum anpr_verdict {
    ANPR_READ_OK = 0,
    ANPR_READ_PLATE_MISSING,  /* plate pointer is NULL */
    ANPR_READ_PLATE_EMPTY,    /* nothing left after normalisation */
    ANPR_READ_PLATE_TOO_LONG, /* more than ANPR_PLATE_MAX characters */
    ANPR_READ_PLATE_BAD_CHAR, /* a character other than A-Z, 0-9 */
    ANPR_READ_TS_BEFORE_EPOCH,/* ts_ms < 0 */
    ANPR_READ_TS_FUTURE,      /* later than now + max_future_ms */
    ANPR_READ_TS_EXPIRED,     /* its day was already dropped by retention */
    ANPR_READ_CONFIDENCE_RANGE, /* confidence > 100 */
    ANPR_READ_LAT_RANGE,      /* latitude outside -90..90 degrees */
    ANPR_READ_LON_RANGE,      /* longitude outside -180..180 degrees */
    ANPR_READ_POS_PARTIAL,    /* one of lat/lon known, the other not */
    ANPR_READ_VERDICT_COUNT
};

/* Static text for a verdict, naming the field. Never NULL. */
ANPR_API const char *anpr_verdict_str(int verdict);
/* The name of the field a verdict is about ("plate", "ts_ms", ...). */
ANPR_API const char *anpr_verdict_field(int verdict);

/*
 * Normalise a plate as the store does: upper case, spaces and hyphens
 * removed. Writes at most ANPR_PLATE_MAX + 1 bytes (with the NUL) to out.
 * Returns ANPR_READ_OK or the plate verdict that explains the refusal.
 */
ANPR_API int anpr_plate_normalise(char out[ANPR_PLATE_MAX + 1], const char *plate);

/*
 * Fold a normalised plate for misread-tolerant matching: O, D, Q -> 0;
 * I -> 1; Z -> 2; S -> 5; B -> 8; G -> 6; every other character unchanged.
 * in and out may be the same buffer. Returns the length.
 */
ANPR_API size_t anpr_plate_fold(char out[ANPR_PLATE_MAX + 1], const char *normalised);

/* ---- Store -------------------------------------------------------------- */

typedef struct anpr_store anpr_store;

enum anpr_open_flags {
    ANPR_OPEN_CREATE = 1u << 0,   /* create the store if the directory has none */
    ANPR_OPEN_READONLY = 1u << 1, /* never write; anpr_writer_open is refused */
    /*
     * Queries take the blocks and index pages of segment files that are in
     * memory from a read-only memory mapping of each file rather than
     * copying them out of the page cache: a warm plate history over a year
     * in about three quarters of the time (docs/performance.md); what is
     * not in memory is read as without the flag. The price, as with SQLite's
     * mmap_size: a block or page taken from a mapping whose pages the kernel has
     * just dropped is faulted in, and an I/O error met that way, or a
     * segment file cut short by another program, raises SIGBUS in the
     * querying thread instead of returning an error (docs/reliability.md).
     * Mapped pages count in the process's resident size. The env ANPR_MAP=1
     * sets this flag too.
     */
    ANPR_OPEN_MAP = 1u << 2
};

enum anpr_io_mode {
    ANPR_IO_AUTO = 0,   /* io_uring when the kernel allows it, else pread */
    ANPR_IO_URING = 1,  /* io_uring or fail with the kernel's refusal */
    ANPR_IO_PREAD = 2   /* plain pread/pwrite */
};

/* Version 1 lacked block_rows, 2 query_threads, 3 index_density; all still accepted. */
#define ANPR_STORE_OPTIONS_VERSION 4
#define ANPR_QUERY_THREADS_MAX 16

/*
 * Options for anpr_store_open. Start from ANPR_STORE_OPTIONS_INIT and set
 * what you need: a zero field means "the default" so that a newer library
 * can serve an older caller.
 */
typedef struct anpr_store_options {
    unsigned version;          /* ANPR_STORE_OPTIONS_VERSION */
    unsigned flags;            /* enum anpr_open_flags */
    unsigned retention_days;   /* keep this many UTC days; 0 keeps all */
    size_t memory_budget;      /* bytes of buffered reads before a flush; default 512 MiB */
    int compression_level;     /* zstd level for segments, 1..19; default 3 */
    int io_mode;               /* enum anpr_io_mode; the env ANPR_IO=uring|pread overrides AUTO */
    int64_t max_future_ms;     /* how far past the wall clock a read may be; default 24 h */
    /*
     * Optional: where anpr_store_open writes a detailed, NUL-terminated
     * message when it fails (the handle that would carry it does not exist).
     */
    char *errbuf;
    size_t errbuf_size;
    /*
     * A handle that does not hold the writer (another process's reader)
     * looks at the store on disk again before a query at most this often:
     * reads committed by the writer are seen within this many ms. Default 1000.
     */
    unsigned refresh_ms;
    /*
     * Rows in each block of the segment and part files written from now on,
     * 256..65536; default 4096. Files already written keep theirs. A plate
     * lookup reads every block that may hold the plate, so smaller blocks
     * make it read and search less, and cost more bytes a read (postings
     * wider by a bit at each halving, and a directory entry a block): see
     * docs/performance.md for the measured trade.
     */
    unsigned block_rows;
    /*
     * Threads a query may use to read and search its blocks, 1..
     * ANPR_QUERY_THREADS_MAX; default 1, or the env ANPR_QUERY_THREADS.
     * With more than one, a query that reads many blocks (a plate over
     * months, a wide window) hands whole files' shares of them to threads
     * that the store starts at its first such query and keeps until
     * anpr_store_close; the answer is the same. Every signal is blocked in
     * those threads. Queries that read few blocks stay on the caller's thread.
     */
    unsigned query_threads;
    /*
     * Buckets of each file's plate index for every two rows: 1, 2, 4 or 8;
     * default 1. Files already written keep theirs. A plate lookup also
     * reads the blocks of other plates that share its bucket (more than its
     * own at 1): each doubling halves those, making a vehicle's history
     * faster, and costs about a bit a read on disk (0.13 byte on a national
     * day). See docs/performance.md for the measured trade.
     */
    unsigned index_density;
} anpr_store_options;

#define ANPR_STORE_OPTIONS_INIT {ANPR_STORE_OPTIONS_VERSION, 0, 0, 0, 0, 0, 0, NULL, 0, 0, 0, 0, 0}

/*
 * Open the store in directory path (created with ANPR_OPEN_CREATE).
 * opts may be NULL for all defaults. Opening never blocks on, and is never
 * refused because of, a writer in another process.
 *
 * Errors: ANPR_EINVAL (bad options), -ENOENT (no such directory, or no
 * store there without ANPR_OPEN_CREATE), ANPR_ENOTSTORE, ANPR_ECORRUPT and
 * ANPR_EVERSION (the manifest), -errno from the file system.
 * The caller owns *out and frees it with anpr_store_close().
 */
ANPR_API int anpr_store_open(anpr_store **out, const char *path,
                             const anpr_store_options *opts);

/*
 * Close the store. Its writer, if still open, must have been closed first;
 * otherwise it is closed here (committing, as anpr_writer_close does).
 * Accepts NULL.
 */
ANPR_API void anpr_store_close(anpr_store *store);

/*
 * The detail of the last error on this store or its writer, for people
 * ("journal-3.log: record at offset 4096 fails its checksum"). Valid until
 * the next call on the store; never NULL ("" when there was none).
 */
ANPR_API const char *anpr_errmsg(const anpr_store *store);

/* The I/O mode in use (ANPR_IO_URING or ANPR_IO_PREAD), after AUTO chose. */
ANPR_API int anpr_store_io_mode(const anpr_store *store);

/* The open flags in effect: the options', with ANPR_OPEN_MAP if the env ANPR_MAP=1 added it. 0 for NULL. */
ANPR_API unsigned anpr_store_flags(const anpr_store *store);

/*
 * Give back memory the store holds between queries and can do without:
 * with ANPR_OPEN_MAP, the pages of the segment files it keeps mapped leave
 * the process (its resident size falls; they stay in the page cache, which
 * may now evict them, and the next queries fault in what they touch). Files
 * that queries on other threads are reading keep theirs. Without the flag
 * there is nothing of the kind and this does nothing. Accepts NULL.
 */
ANPR_API void anpr_store_release_memory(anpr_store *store);

/* What the store holds, as anpr stats prints it. */
typedef struct anpr_stats {
    uint64_t days;        /* UTC days with at least one file */
    uint64_t segments;    /* merged daily segment files */
    uint64_t parts;       /* part files not yet merged */
    uint64_t reads;       /* rows in all files (duplicates across unmerged parts count twice) */
    uint64_t bytes;       /* bytes of all segment and part files */
    int64_t oldest_ms;    /* earliest capture time stored, or INT64_MAX if empty */
    int64_t newest_ms;    /* latest capture time stored, or INT64_MIN if empty */
    uint64_t buffered;    /* reads appended through this handle's writer, not yet in a file */
} anpr_stats;

ANPR_API int anpr_store_stats(anpr_store *store, anpr_stats *out);

/* One file the store lists in its manifest. */
typedef struct anpr_file_info {
    int32_t day;          /* UTC day number: ts_ms / 86400000 */
    int is_part;          /* 1 for an unmerged part, 0 for a daily segment */
    uint64_t rows;
    uint64_t bytes;
    char name[64];        /* file name inside the store directory */
} anpr_file_info;

/*
 * The files of the store's current manifest, in day order. *out is
 * allocated by the library and freed by the caller with free(); *count is
 * set to the number of entries.
 */
ANPR_API int anpr_store_files(anpr_store *store, anpr_file_info **out, size_t *count);

/* ---- Writer ------------------------------------------------------------- */

typedef struct anpr_writer anpr_writer;

/*
 * Take the store's write lock and open its writer. The journal left by a
 * previous writer is replayed first: its committed reads become buffered
 * reads again, and a torn tail is cut off.
 *
 * A writer may be shared by threads: append, commit, flush and merge lock
 * internally, and commits that overlap share one fsync (group commit).
 *
 * Errors: ANPR_ELOCKED (another process, or another handle in this one,
 * holds the lock), ANPR_EBUSY (this store handle already has a writer),
 * ANPR_EREADONLY, ANPR_ECORRUPT (the journal fails its checksums in a way a
 * torn write cannot explain), -errno.
 * The caller owns *out and closes it with anpr_writer_close().
 */
ANPR_API int anpr_writer_open(anpr_writer **out, anpr_store *store);

/*
 * Validate and append n reads. Each valid read is accepted; each invalid
 * one is refused without affecting the others. If verdicts is not NULL it
 * must hold n ints and receives each read's verdict (ANPR_READ_OK or the
 * reason). If accepted is not NULL it receives the number accepted.
 *
 * Accepted reads are visible to this store handle at once but durable only
 * after anpr_writer_commit() returns. A read with the same camera, capture
 * time and plate as a stored one is accepted and stored once.
 *
 * Returns ANPR_OK when all were accepted, ANPR_EBADREAD when some were
 * refused (the rest are accepted), or another status when the append as a
 * whole failed (then none of the batch is accepted).
 */
ANPR_API int anpr_writer_append(anpr_writer *w, const anpr_read *reads, size_t n,
                                size_t *accepted, int *verdicts);

/*
 * Make every read appended so far durable: when this returns ANPR_OK, the
 * reads survive kill -9 and power loss. Overlapping commits from several
 * threads share one fsync.
 *
 * If the journal cannot be written or synced, the writer is poisoned: the
 * reads appended since the last successful commit are not durable and every
 * later call returns the same error; close the writer and open a new one
 * (which replays what was durable).
 */
ANPR_API int anpr_writer_commit(anpr_writer *w);

/*
 * Commit, then write every buffered read to part files (one per UTC day)
 * and start a new journal. Happens by itself when the memory budget fills.
 */
ANPR_API int anpr_writer_flush(anpr_writer *w);

/* Pass as day to merge every day that has more than one file, or a part. */
#define ANPR_ALL_DAYS INT32_MIN

/*
 * Flush, then merge the files of a UTC day (day = ts_ms / 86400000) into one
 * daily segment, removing duplicate reads. ANPR_ALL_DAYS merges every day.
 */
ANPR_API int anpr_writer_merge(anpr_writer *w, int32_t day);

/*
 * The maintenance step a service runs from its own thread now and then:
 * merge the days, other than the newest, that have more than one file or
 * an unmerged part, and drop the days that retention no longer keeps
 * (measured against the earlier of the wall clock and the newest read).
 */
ANPR_API int anpr_writer_maintain(anpr_writer *w);

/*
 * Drop every UTC day that ends at or before before_ms (day d ends at
 * (d + 1) * 86400000), whatever its size, in one manifest publish: its
 * files and its buffered reads. Reads for those days are refused from then
 * on (ANPR_READ_TS_EXPIRED). Queries already running still complete from their
 * snapshot. ANPR_OK also when there was nothing to drop.
 */
ANPR_API int anpr_writer_expire(anpr_writer *w, int64_t before_ms);

/*
 * Commit, seal the journal for the next writer (a closing record, fsynced),
 * remove the spare journal of the last flush, and release the lock. Returns
 * the commit's status, or the seal's; the writer is freed whatever
 * happened. Accepts NULL (and returns ANPR_OK).
 */
ANPR_API int anpr_writer_close(anpr_writer *w);

/* ---- Queries ------------------------------------------------------------ */

#define ANPR_QUERY_VERSION 1

/*
 * What to find. Start from ANPR_QUERY_INIT (every read, no limit) and set
 * the conditions you need; every condition set must hold.
 *
 * plate: NULL for any plate. Normalised like a read's plate (case, spaces
 * and punctuation do not matter). With fuzzy set, a read matches when its
 * misread-folded plate equals the folded query (O/D/Q = 0, I = 1, Z = 2,
 * S = 5, B = 8, G = 6), and that costs the same single index probe as an
 * exact match. '?' (exactly one character) and '*' (any run, also empty)
 * make it a partial plate, matched against every read in the window.
 */
typedef struct anpr_query {
    unsigned version;          /* ANPR_QUERY_VERSION */
    int64_t from_ms;           /* window [from_ms, to_ms); INT64_MIN for no start */
    int64_t to_ms;             /* INT64_MAX for no end */
    const char *plate;         /* borrowed for the call */
    int fuzzy;
    const uint32_t *cameras;   /* NULL or ncameras ids (borrowed for the call): any of them */
    size_t ncameras;
    int area;                  /* non-zero: only reads with a position inside the box */
    int32_t lat_min_e7, lon_min_e7;  /* south-west corner, inclusive */
    int32_t lat_max_e7, lon_max_e7;  /* north-east corner, inclusive */
    uint64_t limit;            /* at most this many reads; 0 for no limit */
} anpr_query;

#define ANPR_QUERY_INIT {ANPR_QUERY_VERSION, INT64_MIN, INT64_MAX, NULL, 0, NULL, 0, 0, 0, 0, 0, 0, 0}

/*
 * Reads in column form: n reads, field i of read k at array[k]. Plates are
 * normalised and NUL-terminated in slots of ANPR_PLATE_MAX + 1 bytes. The
 * arrays belong to the cursor and stay valid until its next call.
 */
typedef struct anpr_batch {
    size_t n;
    const int64_t *ts_ms;
    const char (*plate)[ANPR_PLATE_MAX + 1];
    const uint32_t *camera;
    const uint8_t *lane;
    const uint8_t *direction;
    const uint8_t *confidence;
    const int32_t *lat_e7;     /* ANPR_POS_UNKNOWN where the read has no position */
    const int32_t *lon_e7;
} anpr_batch;

typedef struct anpr_cursor anpr_cursor;

/*
 * Start a query on a consistent snapshot of the store: the files the
 * manifest names at this moment and, on the handle that holds the writer,
 * every read appended so far. Merges, flushes and expiry that happen later
 * do not change what the cursor returns; each read comes once, and reads
 * come in time order (then camera, then plate).
 *
 * Errors: ANPR_EINVAL (a bad query: empty plate, a window with from > to,
 * a box with min > max, ...), ANPR_ECORRUPT (a file the query needs failed
 * its checks; anpr_errmsg() names it), -errno.
 * The caller owns *out and frees it with anpr_cursor_close().
 */
ANPR_API int anpr_query_open(anpr_cursor **out, anpr_store *store, const anpr_query *q);

/*
 * The next batch of results (at most a few thousand reads). Returns 1 with
 * *out filled, 0 when there are no more, or a negative status (the cursor
 * is then finished; anpr_cursor_errmsg() says why).
 */
ANPR_API int anpr_cursor_next(anpr_cursor *c, anpr_batch *out);

/* Detail of the cursor's last error; never NULL. */
ANPR_API const char *anpr_cursor_errmsg(const anpr_cursor *c);

/* Accepts NULL. */
ANPR_API void anpr_cursor_close(anpr_cursor *c);

#ifdef __cplusplus
}
#endif

#endif /* ANPR_ANPR_H */
