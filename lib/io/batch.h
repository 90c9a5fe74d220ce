/*
 * Batched reads: a query hands over all the reads one step of it needs (an
 * index page of every segment, then every block it will decode) and gets
 * them back together. With io_uring they go to the kernel in one submission
 * and complete in parallel on the device; otherwise they are done one by one
 * with pread through the store's vfs (the path tests can make fail).
 *
 * A batcher is not thread-safe: one cursor uses it at a time (the store keeps
 * an idle one for the next query).
 */
#ifndef ANPR_IO_BATCH_H
#define ANPR_IO_BATCH_H

#include <stddef.h>
#include <stdint.h>

#include "io/vfs.h"

/* A request whose bytes are in memory already (a mapping of its file): buf points at them; never read. */
#define IO_MAPPED (-1)

typedef struct io_req {
    int fd; /* or IO_MAPPED */
    void *buf;
    uint32_t len;
    uint64_t off;
} io_req;

typedef struct io_batcher io_batcher;

/*
 * use_uring: 1 to submit through io_uring (the store decided, at open, that
 * the kernel allows it), 0 to use vfs->pread. With io_uring, a ring that
 * cannot be set up falls back to pread and io_batcher_uses_uring says so.
 */
int io_batcher_new(io_batcher **out, const anpr_vfs *vfs, int use_uring);
void io_batcher_free(io_batcher *b);
int io_batcher_uses_uring(const io_batcher *b);

/*
 * A buffer of at least `bytes` (aligned to 64) for the caller's reads, owned
 * by the batcher and kept with it from query to query: a query reads up to a
 * megabyte at a time, and a fresh buffer for each one took a page fault
 * every 4 KiB as the kernel first copied into it. Its contents are not kept
 * when it grows. NULL when out of memory.
 */
void *io_batcher_buffer(io_batcher *b, size_t bytes);

/* 0 when a failed read left the batcher unfit to serve another query. */
int io_batcher_reusable(const io_batcher *b);

/*
 * Is every page of [addr, addr + len) of a file's mapping in memory now?
 * (mincore: a system call.) 0 when not, or when the kernel will not say.
 */
int io_mapped_resident(const void *addr, size_t len);

/*
 * Read every request in full (but those marked IO_MAPPED). Returns 0, or
 * the first error (-errno; -EIO for a read past the end of a file), with
 * *failed set to its index.
 */
int io_batcher_read(io_batcher *b, io_req *reqs, size_t n, size_t *failed);
/*
 * The same for bytes the page cache holds, never waiting for the device: a
 * request whose bytes are not all in memory is left unread (its buf may
 * hold part of them), with its len set to 0 for the caller to read it
 * another way. With io_uring, reads with RWF_NOWAIT; with pread, which
 * cannot tell without a wait, every request is left so. A plate search
 * probes a block's table this way: a table that is on disk only says the
 * block is, and one dependent read after another there doubled a cold
 * history's time.
 */
int io_batcher_read_cached(io_batcher *b, io_req *reqs, size_t n, size_t *failed);

#endif
