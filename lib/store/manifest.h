/*
 * The manifest: the list of live segment and part files, the journal
 * generation to replay, and the retention floor. It is the store's one
 * point of truth: a file the manifest does not name is not part of the
 * store. Replaced whole, by publishing a new MANIFEST (docs/format.md).
 */
#ifndef ANPR_STORE_MANIFEST_H
#define ANPR_STORE_MANIFEST_H

#include <stddef.h>
#include <stdint.h>

#include "common/errmsg.h"
#include "io/vfs.h"

#define MANIFEST_FORMAT_VERSION 1
#define MANIFEST_NAME "MANIFEST"
#define MANIFEST_HEADER_SIZE 48
#define MANIFEST_ENTRY_SIZE 48
/* Far above 365 days of a few parts each; bounds what a damaged count can make us allocate. */
#define MANIFEST_MAX_FILES (1u << 20)
/* floor_day before anything was ever dropped. */
#define MANIFEST_NO_FLOOR INT32_MIN

enum manifest_kind { MANIFEST_PART = 1, MANIFEST_SEGMENT = 2 };

typedef struct manifest_file {
    uint64_t id;        /* unique in the store, never reused */
    int32_t day;        /* UTC day of every row */
    uint8_t kind;       /* enum manifest_kind */
    uint64_t rows;
    uint64_t bytes;
    int64_t min_ts_ms, max_ts_ms;
} manifest_file;

typedef struct manifest {
    uint64_t generation;   /* +1 on every publish */
    uint64_t journal_gen;  /* the journal holding reads not yet in a file */
    uint64_t next_id;      /* for the next file */
    int32_t floor_day;     /* days before this were dropped by expiry; reads for them are refused */
    size_t nfiles;
    manifest_file *files;  /* sorted by (day, id) */
} manifest;

/* Whether retention still keeps `day` (MANIFEST_NO_FLOOR lies below every day). */
static inline int manifest_keeps_day(const manifest *m, int32_t day)
{
    return day >= m->floor_day;
}

/* "20261102-000012.seg" / ".part". buf must hold 64 bytes. */
void manifest_file_name(char *buf, size_t size, const manifest_file *f);

/* Read and check dir/MANIFEST. -ENOENT when there is none. */
int manifest_load(manifest *m, const anpr_vfs *vfs, const char *dir, anpr_errmsg_buf *err);

/* Check and decode a manifest held in memory (the fuzz target's entry point). */
int manifest_decode(manifest *m, const uint8_t *p, size_t len, anpr_errmsg_buf *err);

/* Encode into a malloc'd buffer. */
int manifest_encode(const manifest *m, uint8_t **out, size_t *len);

/*
 * Publish m as dir/MANIFEST (temp, fsync, rename, fsync dir), with
 * generation set to one more than it had. On failure m is unchanged and the
 * old MANIFEST stays in force.
 */
int manifest_publish(manifest *m, const anpr_vfs *vfs, const char *dir, anpr_errmsg_buf *err);

/* Deep copy; -ENOMEM. */
int manifest_copy(manifest *dst, const manifest *src);

/* Add a file (keeps the order). -ENOMEM. */
int manifest_add(manifest *m, const manifest_file *f);

/* Remove the file with this id; returns 1 if it was there. */
int manifest_remove(manifest *m, uint64_t id);

/* Does the manifest name the file of this day and id? By bisection: the files are in (day, id) order. */
int manifest_has(const manifest *m, int32_t day, uint64_t id);

void manifest_free(manifest *m);

/* Civil date of a UTC day number, for file names and printing. */
void anpr_civil_from_day(int32_t day, int *y, unsigned *m, unsigned *d);

#endif
