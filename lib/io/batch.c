/* Batched reads through io_uring, or pread when io_uring is not available. */
#include "io/batch.h"

#include <errno.h>
#include <liburing.h>
#include <stdlib.h>
#include <sys/mman.h>

#define RING_DEPTH 128

struct io_batcher {
    const anpr_vfs *vfs;
    int uring;
    struct io_uring ring;
    uint32_t *done; /* bytes read so far, per request of the current batch */
    size_t done_cap;
    int broken; /* the ring failed with reads in flight: never reuse it */
    void *buf;  /* io_batcher_buffer's */
    size_t buf_cap;
};

int io_batcher_new(io_batcher **out, const anpr_vfs *vfs, int use_uring)
{
    io_batcher *b = calloc(1, sizeof *b);
    if (!b) return -ENOMEM;
    b->vfs = vfs;
    /*
     * Completions of reads that had to wait are handed to this task when it
     * next enters the kernel (it waits for them anyway) rather than by
     * interrupting it; kernels before 5.19 refuse the flag and get a plain ring.
     * A ring that cannot be had now (memlock limits, a sandbox) leaves pread:
     * slower, still right.
     */
    b->uring = use_uring && (io_uring_queue_init(RING_DEPTH, &b->ring, IORING_SETUP_COOP_TASKRUN) == 0 ||
                             io_uring_queue_init(RING_DEPTH, &b->ring, 0) == 0);
    *out = b;
    return 0;
}

void io_batcher_free(io_batcher *b)
{
    if (!b) return;
    /* The ring goes first: no read may still be headed for the buffer when it is freed. */
    if (b->uring) io_uring_queue_exit(&b->ring);
    free(b->done);
    free(b->buf);
    free(b);
}

void *io_batcher_buffer(io_batcher *b, size_t bytes)
{
    if (b->buf && b->buf_cap >= bytes) return b->buf;
    void *p = NULL;
    if (posix_memalign(&p, 64, bytes ? bytes : 1) != 0) return NULL;
    free(b->buf);
    b->buf = p;
    b->buf_cap = bytes;
    return p;
}

int io_batcher_uses_uring(const io_batcher *b)
{
    return b->uring;
}

int io_batcher_reusable(const io_batcher *b)
{
    return !b->broken;
}

int io_mapped_resident(const void *addr, size_t len)
{
    uintptr_t at = (uintptr_t)addr, start = at & ~(uintptr_t)4095;
    unsigned char vec[64];
    size_t pages = (at - start + len + 4095) / 4096;
    if (pages > sizeof vec || mincore((void *)start, at - start + len, vec) != 0) return 0;
    for (size_t i = 0; i < pages; i++)
        if (!(vec[i] & 1)) return 0;
    return 1;
}

static int read_pread(io_batcher *b, io_req *reqs, size_t n, size_t *failed)
{
    for (size_t i = 0; i < n; i++) {
        if (reqs[i].fd == IO_MAPPED) continue;
        int rc = anpr_vfs_read_full(b->vfs, reqs[i].fd, reqs[i].buf, reqs[i].len, reqs[i].off);
        if (rc < 0) {
            *failed = i;
            return rc;
        }
    }
    return 0;
}

/* Queue the unread part of request i; the request's index rides in the user data. */
static void queue(io_batcher *b, io_req *reqs, size_t i, int cached)
{
    struct io_uring_sqe *sqe = io_uring_get_sqe(&b->ring);
    io_uring_prep_read(sqe, reqs[i].fd, (char *)reqs[i].buf + b->done[i], reqs[i].len - b->done[i],
                       reqs[i].off + b->done[i]);
    if (cached) sqe->rw_flags = RWF_NOWAIT; /* -EAGAIN at once, rather than a wait for the device */
    io_uring_sqe_set_data64(sqe, i);
}

static int read_uring(io_batcher *b, io_req *reqs, size_t n, size_t *failed, int cached)
{
    if (b->done_cap < n) {
        free(b->done);
        b->done = malloc(n * sizeof *b->done);
        b->done_cap = b->done ? n : 0;
        if (!b->done) return -ENOMEM;
    }
    size_t next = 0, inflight = 0, left = n;
    for (size_t i = 0; i < n; i++) b->done[i] = 0;
    /* Requests of length 0, and those in a mapping, are complete already. */
    for (size_t i = 0; i < n; i++) left -= reqs[i].len == 0 || reqs[i].fd == IO_MAPPED;
    int err = 0;
    while (left > 0) {
        while (!err && next < n && inflight < RING_DEPTH) {
            if (reqs[next].len > 0 && reqs[next].fd != IO_MAPPED) {
                queue(b, reqs, next, cached);
                inflight++;
            }
            next++;
        }
        int rc = io_uring_submit_and_wait(&b->ring, 1);
        if (rc < 0 && rc != -EINTR) {
            /* Completions may still arrive for this batch: the ring must not serve another. */
            b->broken = inflight > 0;
            return rc;
        }
        struct io_uring_cqe *cqe;
        unsigned head, seen = 0;
        io_uring_for_each_cqe(&b->ring, head, cqe)
        {
            seen++;
            size_t i = (size_t)io_uring_cqe_get_data64(cqe);
            inflight--;
            int res = cqe->res;
            if (b->vfs->uring_result)
                res = b->vfs->uring_result(b->vfs, reqs[i].fd, reqs[i].off + b->done[i], reqs[i].len - b->done[i], res);
            if (res > (int)(reqs[i].len - b->done[i])) res = -EIO; /* more than was asked: never trust it */
            if (cached && res == -EAGAIN) {
                reqs[i].len = 0; /* not all in the page cache: left to the caller */
                left--;
                continue;
            }
            if (res < 0 || (res == 0 && b->done[i] < reqs[i].len)) {
                /* An error, or end of file before the request was filled. */
                if (!err) {
                    err = res < 0 ? res : -EIO;
                    *failed = i;
                }
                left--;
                continue;
            }
            b->done[i] += (uint32_t)res;
            if (b->done[i] == reqs[i].len) {
                left--;
            } else {
                /* A short read: ask for the rest. */
                queue(b, reqs, i, cached);
                inflight++;
            }
        }
        io_uring_cq_advance(&b->ring, seen);
        if (err && inflight == 0) break;
    }
    return err;
}

int io_batcher_read(io_batcher *b, io_req *reqs, size_t n, size_t *failed)
{
    *failed = 0;
    if (n == 0) return 0;
    return b->uring ? read_uring(b, reqs, n, failed, 0) : read_pread(b, reqs, n, failed);
}

int io_batcher_read_cached(io_batcher *b, io_req *reqs, size_t n, size_t *failed)
{
    *failed = 0;
    if (b->uring) return n ? read_uring(b, reqs, n, failed, 1) : 0;
    for (size_t i = 0; i < n; i++) reqs[i].len = 0; /* pread cannot tell: left to the caller */
    return 0;
}
