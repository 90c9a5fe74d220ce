/*
 * Open segment readers kept on the store handle between queries. Opening a
 * segment means a descriptor, its footer and its block directory read and
 * checksummed: on a year of daily segments, that was most of a plate
 * query's time when every query did it again. Files never change once
 * published, so a reader stays right for as long as its file is live.
 *
 * A reader serves one query at a time (it has scratch buffers): a query
 * takes readers out of the cache and puts them back when it ends; two
 * queries on one file at once simply open it twice. The cache finds a
 * reader by its file's id (chains over a hash of the id), so the order in
 * which queries take and return readers does not matter; it holds at most
 * STORE_READERS_MAX of them, drops the least recently returned first, and
 * drops the readers of files that the manifest no longer names, so that an
 * expired or merged file's space is given back.
 *
 * With ANPR_OPEN_MAP a reader also keeps its file mapped, so that queries
 * take its blocks from the page cache without a copy; the mapping goes with
 * the reader.
 *
 * The same goes for a query's read batchers: setting up an io_uring ring is
 * a system call and a mapping, a noticeable part of a sub-millisecond query;
 * and for the threads that take a share of a query's blocks.
 */
#define _GNU_SOURCE /* O_NOATIME */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "common/worker.h"
#include "io/batch.h"
#include "store/store.h"

static void slot_free(anpr_store *s, store_reader *slot)
{
    if (!slot) return;
    seg_reader_free(slot->r);
    if (slot->map) s->vfs->unmap(s->vfs, slot->map, slot->src.size);
    if (slot->src.fd >= 0) s->vfs->close(s->vfs, slot->src.fd);
    free(slot);
}

static size_t chain_of(uint64_t id)
{
    return (size_t)((id * UINT64_C(0x9E3779B97F4A7C15)) >> 32) % STORE_READER_CHAINS;
}

/* Take an idle reader out of the cache (under readers_mu): out of its chain and out of the use order. */
static void unlink_reader(anpr_store *s, store_reader **in_chain)
{
    store_reader *slot = *in_chain;
    *in_chain = slot->chain;
    if (slot->newer) slot->newer->older = slot->older;
    else s->newest_reader = slot->older;
    if (slot->older) slot->older->newer = slot->newer;
    else s->oldest_reader = slot->newer;
    slot->chain = slot->newer = slot->older = NULL;
    s->nreaders--;
}

/* The same for a reader known to be idle in the cache: its chain walked to it. */
static void unlink_idle(anpr_store *s, store_reader *slot)
{
    store_reader **pp = &s->reader_chains[chain_of(slot->id)];
    while (*pp != slot) pp = &(*pp)->chain;
    unlink_reader(s, pp);
}

int store_reader_get(anpr_store *s, const manifest_file *f, store_reader **out)
{
    *out = NULL;
    pthread_mutex_lock(&s->readers_mu);
    store_reader **pp = &s->reader_chains[chain_of(f->id)];
    while (*pp && (*pp)->id != f->id) pp = &(*pp)->chain;
    store_reader *slot = *pp;
    if (slot) unlink_reader(s, pp);
    pthread_mutex_unlock(&s->readers_mu);
    if (slot) {
        slot->err.text[0] = '\0';
        *out = slot;
        return ANPR_OK;
    }
    slot = calloc(1, sizeof *slot);
    if (!slot) return -ENOMEM;
    slot->id = f->id;
    slot->day = f->day;
    slot->src.fd = -1;
    char name[64], path[4096];
    manifest_file_name(name, sizeof name, f);
    store_path(s, path, sizeof path, name);
    /*
     * Without access-time updates: every read of a file otherwise passes the
     * kernel's atime check (1 % of a plate history's samples). Only the file's
     * owner may ask for that, so anyone else opens it plainly.
     */
    int fd = s->vfs->open(s->vfs, path, O_RDONLY | O_NOATIME, 0);
    if (fd == -EPERM) fd = s->vfs->open(s->vfs, path, O_RDONLY, 0);
    int rc = fd;
    if (fd >= 0) {
        slot->src = (anpr_source){s->vfs, fd, 0};
        rc = s->vfs->fsize(s->vfs, fd, &slot->src.size);
        if (rc < 0) anpr_fail(&slot->err, rc, "%s: stat: %s", name, anpr_strerror(rc));
        /* The reader keeps pointers to src and err: both live in the slot. */
        if (rc == 0) rc = seg_reader_open(&slot->r, &slot->src, &slot->err);
        if (rc < 0 && rc != -ENOENT) anpr_fail_prefix(&slot->err, rc, name);
        /* Mapped only once its footer has checked the size: a map that fails leaves the file read. */
        const void *map;
        if (rc == 0 && (s->opts.flags & ANPR_OPEN_MAP) && s->vfs->map && s->vfs->unmap &&
            s->vfs->map(s->vfs, fd, slot->src.size, &map) == 0)
            slot->map = map;
    } else if (fd != -ENOENT) {
        anpr_fail(&slot->err, fd, "%s: open: %s", name, anpr_strerror(fd));
    }
    if (rc < 0) {
        *out = slot; /* for its message; the caller frees it with store_reader_put(s, slot, 0) */
        return rc;
    }
    *out = slot;
    return ANPR_OK;
}

void store_reader_put(anpr_store *s, store_reader *slot, int keep)
{
    if (!slot) return;
    if (!keep || !slot->r) {
        slot_free(s, slot);
        return;
    }
    pthread_mutex_lock(&s->readers_mu);
    store_reader **chain = &s->reader_chains[chain_of(slot->id)];
    slot->chain = *chain;
    *chain = slot;
    slot->newer = NULL;
    slot->older = s->newest_reader;
    if (s->newest_reader) s->newest_reader->newer = slot;
    else s->oldest_reader = slot;
    s->newest_reader = slot;
    s->nreaders++;
    store_reader *evict = NULL;
    if (s->nreaders > s->readers_max) {
        evict = s->oldest_reader;
        unlink_idle(s, evict);
    }
    pthread_mutex_unlock(&s->readers_mu);
    slot_free(s, evict);
}

void store_readers_prune(anpr_store *s, const manifest *m)
{
    store_reader *dead = NULL;
    pthread_mutex_lock(&s->readers_mu);
    for (size_t c = 0; c < STORE_READER_CHAINS; c++) {
        for (store_reader **pp = &s->reader_chains[c]; *pp;) {
            if (manifest_has(m, (*pp)->day, (*pp)->id)) {
                pp = &(*pp)->chain;
                continue;
            }
            store_reader *slot = *pp;
            unlink_reader(s, pp);
            slot->chain = dead;
            dead = slot;
        }
    }
    pthread_mutex_unlock(&s->readers_mu);
    while (dead) {
        store_reader *n = dead->chain;
        slot_free(s, dead);
        dead = n;
    }
}

int store_io_get(anpr_store *s, io_batcher **out)
{
    pthread_mutex_lock(&s->readers_mu);
    *out = s->nidle_io ? s->idle_io[--s->nidle_io] : NULL;
    pthread_mutex_unlock(&s->readers_mu);
    if (*out) return 0;
    /*
     * io_uring when the store found the kernel allows it, and its I/O is the
     * real file system's or a vfs that watches io_uring's results (the tests'
     * faulty one): reads through the ring bypass vfs->pread.
     */
    int uring = s->vfs == anpr_vfs_posix() || s->vfs->uring_result;
    return io_batcher_new(out, s->vfs, s->io_mode == ANPR_IO_URING && uring);
}

void store_io_put(anpr_store *s, io_batcher *b)
{
    if (!b) return;
    if (!io_batcher_reusable(b)) {
        io_batcher_free(b);
        return;
    }
    pthread_mutex_lock(&s->readers_mu);
    io_batcher *spare = s->nidle_io < s->opts.query_threads ? NULL : b;
    if (!spare) s->idle_io[s->nidle_io++] = b;
    pthread_mutex_unlock(&s->readers_mu);
    io_batcher_free(spare);
}

void store_worker_get(anpr_store *s, worker **out)
{
    pthread_mutex_lock(&s->readers_mu);
    *out = s->nidle_workers ? s->idle_workers[--s->nidle_workers] : NULL;
    int start = !*out && s->nworkers + 1 < s->opts.query_threads;
    if (start) s->nworkers++; /* counted now, so that two queries never start more than the option allows */
    pthread_mutex_unlock(&s->readers_mu);
    if (start && worker_new(out) < 0) {
        pthread_mutex_lock(&s->readers_mu);
        s->nworkers--;
        pthread_mutex_unlock(&s->readers_mu);
    }
}

void store_worker_put(anpr_store *s, worker *w)
{
    if (!w) return;
    pthread_mutex_lock(&s->readers_mu);
    s->idle_workers[s->nidle_workers++] = w;
    pthread_mutex_unlock(&s->readers_mu);
}

void store_readers_free(anpr_store *s)
{
    while (s->nidle_io) io_batcher_free(s->idle_io[--s->nidle_io]);
    while (s->nidle_workers) worker_free(s->idle_workers[--s->nidle_workers]);
    s->nworkers = 0;
    while (s->oldest_reader) {
        store_reader *slot = s->oldest_reader;
        unlink_idle(s, slot);
        slot_free(s, slot);
    }
}

void store_readers_release(anpr_store *s)
{
    pthread_mutex_lock(&s->readers_mu);
    /*
     * MADV_DONTNEED on a shared read-only file mapping only takes its pages
     * out of this process (they are clean: nothing is lost); the mapping
     * stays, and a later touch maps them again, from the page cache or the
     * disk. Mapped pages are what the kernel's cache drops leave alone.
     */
    for (store_reader *slot = s->newest_reader; slot; slot = slot->older)
        if (slot->map) madvise((void *)(uintptr_t)slot->map, slot->src.size, MADV_DONTNEED);
    pthread_mutex_unlock(&s->readers_mu);
}
