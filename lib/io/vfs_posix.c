/* The real file system behind the I/O seam, and the loops over short transfers. */
#define _GNU_SOURCE /* sync_file_range */
#include "io/vfs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static int px_open(const anpr_vfs *vfs, const char *path, int flags, unsigned mode)
{
    (void)vfs;
    int fd = open(path, flags | O_CLOEXEC, (mode_t)mode);
    return fd < 0 ? -errno : fd;
}

static int px_close(const anpr_vfs *vfs, int fd)
{
    (void)vfs;
    /* Linux closes the descriptor even when close() reports EINTR or EIO: never retry. */
    return close(fd) < 0 ? -errno : 0;
}

static ssize_t px_pread(const anpr_vfs *vfs, int fd, void *buf, size_t n, uint64_t off)
{
    (void)vfs;
    ssize_t r;
    do r = pread(fd, buf, n, (off_t)off); while (r < 0 && errno == EINTR);
    return r < 0 ? -errno : r;
}

static ssize_t px_pwrite(const anpr_vfs *vfs, int fd, const void *buf, size_t n, uint64_t off)
{
    (void)vfs;
    ssize_t r;
    do r = pwrite(fd, buf, n, (off_t)off); while (r < 0 && errno == EINTR);
    return r < 0 ? -errno : r;
}

static int px_fsync(const anpr_vfs *vfs, int fd)
{
    (void)vfs;
    return fdatasync(fd) < 0 ? -errno : 0;
}

static int px_ftruncate(const anpr_vfs *vfs, int fd, uint64_t size)
{
    (void)vfs;
    return ftruncate(fd, (off_t)size) < 0 ? -errno : 0;
}

static int px_fsize(const anpr_vfs *vfs, int fd, uint64_t *size)
{
    (void)vfs;
    struct stat st;
    if (fstat(fd, &st) < 0) return -errno;
    *size = (uint64_t)st.st_size;
    return 0;
}

static int px_rename(const anpr_vfs *vfs, const char *from, const char *to)
{
    (void)vfs;
    return rename(from, to) < 0 ? -errno : 0;
}

static int px_unlink(const anpr_vfs *vfs, const char *path)
{
    (void)vfs;
    return unlink(path) < 0 ? -errno : 0;
}

static int px_fsync_dir(const anpr_vfs *vfs, const char *dir)
{
    (void)vfs;
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return -errno;
    int rc = fsync(fd) < 0 ? -errno : 0;
    close(fd);
    return rc;
}

static int px_writeback(const anpr_vfs *vfs, int fd, uint64_t off, uint64_t len)
{
    (void)vfs;
    /* SYNC_FILE_RANGE_WRITE alone starts the writes and returns; it makes nothing durable. */
    return sync_file_range(fd, (off_t)off, (off_t)len, SYNC_FILE_RANGE_WRITE) < 0 ? -errno : 0;
}

static int px_map(const anpr_vfs *vfs, int fd, uint64_t size, const void **out)
{
    (void)vfs;
    if (size == 0 || size > SIZE_MAX) return -EINVAL;
    void *p = mmap(NULL, (size_t)size, PROT_READ, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED) return -errno;
    *out = p;
    return 0;
}

static void px_unmap(const anpr_vfs *vfs, const void *addr, uint64_t size)
{
    (void)vfs;
    munmap((void *)(uintptr_t)addr, (size_t)size);
}

static const anpr_vfs posix_vfs = {
    .open = px_open,
    .close = px_close,
    .pread = px_pread,
    .pwrite = px_pwrite,
    .fsync = px_fsync,
    .ftruncate = px_ftruncate,
    .fsize = px_fsize,
    .rename = px_rename,
    .unlink = px_unlink,
    .fsync_dir = px_fsync_dir,
    .ctx = NULL,
    .uring_result = NULL,
    .writeback = px_writeback,
    .map = px_map,
    .unmap = px_unmap,
};

const anpr_vfs *anpr_vfs_posix(void)
{
    return &posix_vfs;
}

int anpr_vfs_read_full(const anpr_vfs *vfs, int fd, void *buf, size_t n, uint64_t off)
{
    uint8_t *p = buf;
    while (n > 0) {
        ssize_t r = vfs->pread(vfs, fd, p, n, off);
        if (r < 0) return (int)r;
        if (r == 0) return -EIO; /* the file ended before the bytes its structure promised */
        p += r;
        n -= (size_t)r;
        off += (uint64_t)r;
    }
    return 0;
}

int anpr_vfs_write_full(const anpr_vfs *vfs, int fd, const void *buf, size_t n, uint64_t off)
{
    const uint8_t *p = buf;
    while (n > 0) {
        ssize_t r = vfs->pwrite(vfs, fd, p, n, off);
        if (r < 0) return (int)r;
        if (r == 0) return -EIO;
        p += r;
        n -= (size_t)r;
        off += (uint64_t)r;
    }
    return 0;
}

void anpr_vfs_writeback(const anpr_vfs *vfs, int fd, uint64_t off, uint64_t len)
{
    /* A hint: whatever it returns, the fsync that follows decides. */
    if (vfs->writeback && len > 0) (void)vfs->writeback(vfs, fd, off, len);
}

int anpr_sink_write(anpr_sink *sink, const void *buf, size_t n)
{
    int rc = anpr_vfs_write_full(sink->vfs, sink->fd, buf, n, sink->off);
    if (rc < 0) return rc;
    sink->off += n;
    if (sink->off - sink->started >= ANPR_SINK_WRITEBACK) {
        anpr_vfs_writeback(sink->vfs, sink->fd, sink->started, sink->off - sink->started);
        sink->started = sink->off;
    }
    return 0;
}

int anpr_source_read(const anpr_source *src, void *buf, size_t n, uint64_t off)
{
    if (off > src->size || n > src->size - off) return -EIO;
    return anpr_vfs_read_full(src->vfs, src->fd, buf, n, off);
}
