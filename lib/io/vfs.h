/*
 * The one seam every byte of file I/O goes through.
 *
 * The store, journal and segment code never call open/pread/pwrite/fsync/
 * rename directly: they call these function pointers, so tests can fail any
 * call on purpose (ENOSPC, EIO, short reads and writes, failed fsync, failed
 * rename) and check the library's answer; reads submitted through io_uring
 * pass their results through uring_result for the same purpose.
 * anpr_vfs_posix() is the real one.
 *
 * Every function returns >= 0 on success or a negated errno.
 */
#ifndef ANPR_IO_VFS_H
#define ANPR_IO_VFS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

typedef struct anpr_vfs anpr_vfs;

struct anpr_vfs {
    int (*open)(const anpr_vfs *vfs, const char *path, int flags, unsigned mode);
    int (*close)(const anpr_vfs *vfs, int fd);
    /* May return fewer bytes than asked (short read/write); callers loop. */
    ssize_t (*pread)(const anpr_vfs *vfs, int fd, void *buf, size_t n, uint64_t off);
    ssize_t (*pwrite)(const anpr_vfs *vfs, int fd, const void *buf, size_t n, uint64_t off);
    int (*fsync)(const anpr_vfs *vfs, int fd);        /* fdatasync is enough */
    int (*ftruncate)(const anpr_vfs *vfs, int fd, uint64_t size);
    int (*fsize)(const anpr_vfs *vfs, int fd, uint64_t *size);
    int (*rename)(const anpr_vfs *vfs, const char *from, const char *to);
    int (*unlink)(const anpr_vfs *vfs, const char *path);
    int (*fsync_dir)(const anpr_vfs *vfs, const char *dir);
    void *ctx;  /* for a test's own state */
    /*
     * Reads through io_uring bypass pread; each of their completions is shown
     * here (the file, where the unread part of the request starts, its length
     * and the kernel's result) and the hook's return value is used instead,
     * so that tests can fail or shorten those reads too. NULL: results are
     * taken as they come (the real file system).
     */
    int (*uring_result)(const anpr_vfs *vfs, int fd, uint64_t off, uint32_t len, int res);
    /*
     * A hint, and may be NULL: start writing [off, off + len) of fd to the
     * device without waiting for it, so that the fsync which must follow
     * finds less left to do. Its failures are the fsync's to report: a write
     * that does not reach the device fails the fsync after it.
     */
    int (*writeback)(const anpr_vfs *vfs, int fd, uint64_t off, uint64_t len);
    /*
     * May be NULL, and then files are always read: map [0, size) of fd
     * read-only and shared (a store opened with ANPR_OPEN_MAP maps its
     * segment files so that queries take blocks from the page cache without
     * a copy), and undo that. A failed map is no error: the file is read.
     * What map returns must be an mmap of the file: anpr_store_release_memory
     * hands its pages back with madvise.
     */
    int (*map)(const anpr_vfs *vfs, int fd, uint64_t size, const void **out);
    void (*unmap)(const anpr_vfs *vfs, const void *addr, uint64_t size);
};

/* The real file system. Static storage; never freed. */
const anpr_vfs *anpr_vfs_posix(void);

/* vfs->writeback where the vfs has one; nothing otherwise. */
void anpr_vfs_writeback(const anpr_vfs *vfs, int fd, uint64_t off, uint64_t len);

/* Loops over short transfers. Return 0, or -errno (-EIO for an unexpected EOF on read). */
int anpr_vfs_read_full(const anpr_vfs *vfs, int fd, void *buf, size_t n, uint64_t off);
int anpr_vfs_write_full(const anpr_vfs *vfs, int fd, const void *buf, size_t n, uint64_t off);

/*
 * Where a segment writer sends its bytes: a file written front to back
 * through the vfs. The writer only appends, so it keeps the offset here.
 * Every ANPR_SINK_WRITEBACK bytes, their writeback is started (the file is
 * fsynced when it is published: a part's 30 MB or a national day's 500 MB
 * would otherwise all wait for that fsync).
 */
#define ANPR_SINK_WRITEBACK ((uint64_t)8 << 20)

typedef struct anpr_sink {
    const anpr_vfs *vfs;
    int fd;
    uint64_t off;   /* bytes written so far */
    uint64_t started; /* bytes whose writeback has been started */
} anpr_sink;

int anpr_sink_write(anpr_sink *sink, const void *buf, size_t n);

/* Where a segment reader gets its bytes: an open file of known size. */
typedef struct anpr_source {
    const anpr_vfs *vfs;
    int fd;
    uint64_t size;
} anpr_source;

/* Reads exactly n bytes at off; -EIO past the end. Bounds are the caller's job. */
int anpr_source_read(const anpr_source *src, void *buf, size_t n, uint64_t off);

#endif
