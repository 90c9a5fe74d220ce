/*
 * The journal: an append-only, checksummed log of accepted reads that makes
 * a commit durable before the reads reach a segment. docs/format.md
 * ("Journal") gives its bytes.
 *
 * Appends are encoded into memory; journal_write puts them in the file and
 * journal_sync makes them durable. The writer drives group commit on top:
 * one sync covers every record written before it started.
 */
#ifndef ANPR_JOURNAL_JOURNAL_H
#define ANPR_JOURNAL_JOURNAL_H

#include <stddef.h>
#include <stdint.h>

#include "anpr/segment.h"
#include "common/errmsg.h"
#include "io/vfs.h"

/* Journals are written in version 2; version 1's are still replayed and appended to. */
#define JOURNAL_FORMAT_VERSION 2
#define JOURNAL_HEADER_SIZE 32
#define JOURNAL_RECORD_HEADER_SIZE 32    /* version 2: with the durable offset */
#define JOURNAL_RECORD_HEADER_SIZE_V1 24
#define JOURNAL_ROW_SIZE 40
/* A record holds at most this many rows, so a reader never allocates more than ~40 MiB for one. */
#define JOURNAL_RECORD_MAX_ROWS (1u << 20)

typedef struct journal journal;

/* "journal-000007.log" for generation 7. buf must hold 32 bytes. */
void journal_file_name(char *buf, size_t size, uint64_t gen);
/* The same joined to dir: the journal file's path. */
void journal_path(char *buf, size_t size, const char *dir, uint64_t gen);

/* Create and publish an empty journal of generation gen in dir (temp, fsync, rename; no dir fsync). */
int journal_create(journal **out, const anpr_vfs *vfs, const char *dir, uint64_t gen,
                   anpr_errmsg_buf *err);

/*
 * Make generation gen out of the file of generation from_gen, a journal
 * whose reads are already in parts: its header is rewritten for gen and
 * fsynced, and it is renamed (no dir fsync). Its old records stay after the
 * header until new ones overwrite them; they name an older generation, so
 * no reader takes them. Overwriting pages the page cache already holds
 * costs a third of writing a new file's (docs/performance.md). On failure
 * the file of from_gen is removed.
 */
int journal_recycle(journal **out, const anpr_vfs *vfs, const char *dir, uint64_t gen, uint64_t from_gen,
                    anpr_errmsg_buf *err);

/* Called with each replayed record's rows; a non-zero return stops the replay with that status. */
typedef int (*journal_replay_fn)(void *ctx, const anpr_row *rows, size_t n);

/*
 * Open generation gen for appending after replaying every intact record
 * through fn, then fsync it (new records vouch for what precedes them). A
 * torn tail (from the first bad record on, when nothing after it shows that
 * record had been made durable) is cut off and its length reported in
 * *cut_bytes. A bad record that was durable is damage: ANPR_ECORRUPT, and
 * the file is left untouched. docs/format.md gives the rule of each version.
 */
int journal_open(journal **out, const anpr_vfs *vfs, const char *dir, uint64_t gen,
                 journal_replay_fn fn, void *ctx, uint64_t *cut_bytes, anpr_errmsg_buf *err);

/*
 * For readers in other processes: pass the complete records of journal gen
 * from *off_io on (0: from the start, checking the header) to fn, without
 * writing anything; *off_io is left after the last one passed, for the next
 * call. The first incomplete or bad record ends the read without an error:
 * it is being written, is a torn tail the writer will cut, or is an older
 * generation's record in a recycled file. -ENOENT: the journal is gone, or
 * its header names a later generation (a flush replaced it, or recycled the
 * file since the manifest was read: read the manifest again).
 */
int journal_read_tail(const anpr_vfs *vfs, const char *dir, uint64_t gen, uint64_t *off_io,
                      journal_replay_fn fn, void *ctx, anpr_errmsg_buf *err);

/* Encode rows as records in memory. -ENOMEM is the only failure. */
int journal_append(journal *j, const anpr_row *rows, size_t n);

/* Write what was appended to the file. Returns 0 or -errno; the offset after it in *end. */
int journal_write(journal *j, uint64_t *end, anpr_errmsg_buf *err);

/* fdatasync the file. */
int journal_sync(journal *j, anpr_errmsg_buf *err);

/*
 * Every byte before end is durable (an fdatasync that covered it returned):
 * records appended from now on say so. The caller serialises this with
 * journal_append.
 */
void journal_mark_synced(journal *j, uint64_t end);

/*
 * At a clean close: what is appended written and fsynced, then (version 2)
 * a record of no rows that vouches for every byte before it, the file cut
 * after it (a recycled file's older records) and fsynced again.
 */
int journal_finish(journal *j, anpr_errmsg_buf *err);

/* Bytes appended but not yet written. */
size_t journal_pending(const journal *j);

uint64_t journal_gen(const journal *j);

/* Close without syncing. Accepts NULL. */
void journal_close(journal *j);

/* Encode/decode one row in the journal's 40-byte layout (also used by tests). */
void journal_row_encode(uint8_t *p, const anpr_row *r);
int journal_row_decode(anpr_row *r, const uint8_t *p);

#endif
