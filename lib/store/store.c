/* Opening a store directory, its options, and what it holds. */
#define _GNU_SOURCE
#include "store/store.h"

#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

int64_t anpr_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int row_key_cmp(const anpr_row *a, const anpr_row *b)
{
    if (a->camera != b->camera) return a->camera < b->camera ? -1 : 1;
    if (a->ts_ms != b->ts_ms) return a->ts_ms < b->ts_ms ? -1 : 1;
    return memcmp(a->plate, b->plate, sizeof a->plate);
}

int store_set_error(anpr_store *s, int status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->err.text, sizeof s->err.text, fmt, ap);
    va_end(ap);
    return status;
}

void store_path(const anpr_store *s, char *buf, size_t size, const char *name)
{
    snprintf(buf, size, "%s/%s", s->dir, name);
}

void store_unlink_file(anpr_store *s, const manifest_file *f)
{
    char name[64], path[4096];
    manifest_file_name(name, sizeof name, f);
    store_path(s, path, sizeof path, name);
    /* A file no manifest names is garbage; if this fails, the next writer's cleanup removes it. */
    s->vfs->unlink(s->vfs, path);
}

void store_unlink_journal(anpr_store *s, uint64_t gen)
{
    char name[64], path[4096];
    journal_file_name(name, sizeof name, gen);
    store_path(s, path, sizeof path, name);
    s->vfs->unlink(s->vfs, path);
}

/* Can this process use io_uring? Containers and the io_uring_disabled sysctl often say no. */
static int uring_available(void)
{
    struct io_uring ring;
    if (io_uring_queue_init(4, &ring, 0) < 0) return 0;
    io_uring_queue_exit(&ring);
    return 1;
}

static int resolve_io_mode(int asked, int *mode)
{
    const char *env = getenv("ANPR_IO");
    if (asked == ANPR_IO_AUTO && env && *env) {
        if (strcmp(env, "uring") == 0) asked = ANPR_IO_URING;
        else if (strcmp(env, "pread") == 0) asked = ANPR_IO_PREAD;
        else return ANPR_EINVAL;
    }
    if (asked == ANPR_IO_PREAD) {
        *mode = ANPR_IO_PREAD;
        return ANPR_OK;
    }
    int ok = uring_available();
    if (asked == ANPR_IO_URING && !ok) return -ENOSYS;
    *mode = ok ? ANPR_IO_URING : ANPR_IO_PREAD;
    return ANPR_OK;
}

static int check_options(anpr_store_options *o, const anpr_store_options *in, anpr_errmsg_buf *err)
{
    anpr_store_options defaults = ANPR_STORE_OPTIONS_INIT;
    *o = defaults;
    if (in && in->version >= 1 && in->version < ANPR_STORE_OPTIONS_VERSION) {
        /* A caller built against an older header: its struct ends before the first field it lacks. */
        static const size_t ends[] = {offsetof(anpr_store_options, block_rows),
                                      offsetof(anpr_store_options, query_threads),
                                      offsetof(anpr_store_options, index_density)};
        memcpy(o, in, ends[in->version - 1]);
        o->version = ANPR_STORE_OPTIONS_VERSION;
    } else if (in) {
        *o = *in;
    }
    if (o->version != ANPR_STORE_OPTIONS_VERSION)
        return anpr_fail(err, ANPR_EINVAL, "options: version %u, expected 1 to %u (use ANPR_STORE_OPTIONS_INIT)",
                         o->version, ANPR_STORE_OPTIONS_VERSION);
    if (o->flags & ~(unsigned)(ANPR_OPEN_CREATE | ANPR_OPEN_READONLY | ANPR_OPEN_MAP))
        return anpr_fail(err, ANPR_EINVAL, "options: unknown flags 0x%x", o->flags);
    const char *map = getenv("ANPR_MAP");
    if (map && *map) {
        if (strcmp(map, "1") != 0 && strcmp(map, "0") != 0)
            return anpr_fail(err, ANPR_EINVAL, "ANPR_MAP=%s: expected 1 (map segment files) or 0", map);
        if (map[0] == '1') o->flags |= ANPR_OPEN_MAP;
    }
    if (o->memory_budget == 0) o->memory_budget = ANPR_DEFAULT_MEMORY_BUDGET;
    if (o->memory_budget < ((size_t)1 << 20))
        return anpr_fail(err, ANPR_EINVAL, "options: memory_budget %zu is under the 1 MiB minimum",
                         o->memory_budget);
    if (o->compression_level == 0) o->compression_level = ANPR_DEFAULT_LEVEL;
    if (o->compression_level < 1 || o->compression_level > 19)
        return anpr_fail(err, ANPR_EINVAL, "options: compression_level %d is outside 1..19",
                         o->compression_level);
    if (o->io_mode < ANPR_IO_AUTO || o->io_mode > ANPR_IO_PREAD)
        return anpr_fail(err, ANPR_EINVAL, "options: io_mode %d is not an anpr_io_mode", o->io_mode);
    if (o->max_future_ms == 0) o->max_future_ms = ANPR_DEFAULT_MAX_FUTURE_MS;
    if (o->refresh_ms == 0) o->refresh_ms = 1000;
    if (o->max_future_ms < 0)
        return anpr_fail(err, ANPR_EINVAL, "options: max_future_ms is negative");
    if (o->block_rows == 0) o->block_rows = SEG_BLOCK_ROWS_DEFAULT;
    if (o->block_rows < ANPR_MIN_BLOCK_ROWS || o->block_rows > SEG_BLOCK_ROWS_MAX)
        return anpr_fail(err, ANPR_EINVAL, "options: block_rows %u is outside %u..%u", o->block_rows,
                         ANPR_MIN_BLOCK_ROWS, SEG_BLOCK_ROWS_MAX);
    const char *env = getenv("ANPR_QUERY_THREADS");
    if (o->query_threads == 0 && env && *env) {
        char *end;
        unsigned long n = strtoul(env, &end, 10);
        if (*end || n == 0 || n > ANPR_QUERY_THREADS_MAX)
            return anpr_fail(err, ANPR_EINVAL, "ANPR_QUERY_THREADS=%s: expected a number of threads, 1..%d", env,
                             ANPR_QUERY_THREADS_MAX);
        o->query_threads = (unsigned)n;
    }
    if (o->query_threads == 0) o->query_threads = 1;
    if (o->query_threads > ANPR_QUERY_THREADS_MAX)
        return anpr_fail(err, ANPR_EINVAL, "options: query_threads %u is outside 1..%d", o->query_threads,
                         ANPR_QUERY_THREADS_MAX);
    if (o->index_density == 0) o->index_density = 1;
    if (o->index_density > 8 || (o->index_density & (o->index_density - 1)))
        return anpr_fail(err, ANPR_EINVAL, "options: index_density %u is not 1, 2, 4 or 8", o->index_density);
    if (o->retention_days > 100000)
        return anpr_fail(err, ANPR_EINVAL, "options: retention_days %u is absurd", o->retention_days);
    o->errbuf = NULL;
    o->errbuf_size = 0;
    return ANPR_OK;
}

/* First open of an empty directory: publish an empty manifest under the lock. */
static int create_store(anpr_store *s, anpr_errmsg_buf *err)
{
    char path[4096];
    store_path(s, path, sizeof path, ANPR_LOCK_NAME);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) return anpr_fail(err, -errno, "%s: create: %s", path, strerror(errno));
    /* Blocking: two processes creating the same store must not both write a first manifest. */
    if (flock(fd, LOCK_EX) < 0) {
        int e = -errno;
        close(fd);
        return anpr_fail(err, e, "%s: lock: %s", path, anpr_strerror(e));
    }
    int rc = manifest_load(&s->man, s->vfs, s->dir, err);
    if (rc == -ENOENT) {
        memset(&s->man, 0, sizeof s->man);
        s->man.next_id = 1;
        s->man.floor_day = MANIFEST_NO_FLOOR;
        rc = manifest_publish(&s->man, s->vfs, s->dir, err);
    }
    close(fd);
    return rc;
}

int anpr_store_open(anpr_store **out, const char *path, const anpr_store_options *opts)
{
    return store_open_vfs(out, path, opts, anpr_vfs_posix());
}

int store_open_vfs(anpr_store **out, const char *path, const anpr_store_options *opts, const anpr_vfs *vfs)
{
    anpr_errmsg_buf err = {{0}};
    int rc;
    anpr_store *s = NULL;
    if (!out) return ANPR_EINVAL;
    *out = NULL;
    if (!path || !*path) {
        rc = anpr_fail(&err, ANPR_EINVAL, "store path is empty");
        goto fail;
    }
    s = calloc(1, sizeof *s);
    if (!s || !(s->dir = strdup(path))) {
        rc = -ENOMEM;
        goto fail;
    }
    s->vfs = vfs;
    pthread_mutex_init(&s->mu, NULL);
    pthread_mutex_init(&s->readers_mu, NULL);
    rc = check_options(&s->opts, opts, &err);
    if (rc < 0) goto fail;
    s->query_slice_rows = STORE_QUERY_SLICE_ROWS;
    s->readers_max = STORE_READERS_MAX;
    rc = resolve_io_mode(s->opts.io_mode, &s->io_mode);
    if (rc < 0) {
        anpr_fail(&err, rc, rc == ANPR_EINVAL ? "ANPR_IO must be 'uring' or 'pread'"
                                              : "io_uring was asked for but the kernel refuses it");
        goto fail;
    }
    int create = (s->opts.flags & ANPR_OPEN_CREATE) && !(s->opts.flags & ANPR_OPEN_READONLY);
    if (create && mkdir(path, 0755) < 0 && errno != EEXIST) {
        rc = anpr_fail(&err, -errno, "%s: mkdir: %s", path, strerror(errno));
        goto fail;
    }
    struct stat st;
    if (stat(path, &st) < 0) {
        rc = anpr_fail(&err, -errno, "%s: %s", path, strerror(errno));
        goto fail;
    }
    if (!S_ISDIR(st.st_mode)) {
        rc = anpr_fail(&err, ANPR_ENOTSTORE, "%s: not a directory", path);
        goto fail;
    }
    rc = manifest_load(&s->man, s->vfs, path, &err);
    if (rc == -ENOENT) {
        if (!create) {
            rc = anpr_fail(&err, ANPR_ENOTSTORE, "%s: no store here (no MANIFEST); open with ANPR_OPEN_CREATE to make one", path);
            goto fail;
        }
        rc = create_store(s, &err);
    }
    if (rc < 0) goto fail;
    *out = s;
    return ANPR_OK;
fail:
    if (opts && opts->errbuf) anpr_errmsg_copy(opts->errbuf, opts->errbuf_size, err.text[0] ? err.text : anpr_strerror(rc));
    if (s) {
        manifest_free(&s->man);
        if (s->dir) {
            pthread_mutex_destroy(&s->mu);
            pthread_mutex_destroy(&s->readers_mu);
        }
        free(s->dir);
        free(s);
    }
    return rc;
}

void anpr_store_close(anpr_store *s)
{
    if (!s) return;
    if (s->writer) anpr_writer_close(s->writer);
    store_readers_free(s);
    free(s->tail);
    manifest_free(&s->man);
    pthread_mutex_destroy(&s->mu);
    pthread_mutex_destroy(&s->readers_mu);
    free(s->dir);
    free(s);
}

const char *anpr_errmsg(const anpr_store *s)
{
    return s ? s->err.text : "no store";
}

int anpr_store_io_mode(const anpr_store *s)
{
    return s ? s->io_mode : ANPR_EINVAL;
}

unsigned anpr_store_flags(const anpr_store *s)
{
    return s ? s->opts.flags : 0;
}

void anpr_store_release_memory(anpr_store *s)
{
    if (s) store_readers_release(s);
}

/* A handle without a writer sees what other processes publish: reread the manifest. */
static int refresh_locked(anpr_store *s)
{
    if (s->writer) return ANPR_OK;
    manifest fresh;
    int rc = manifest_load(&fresh, s->vfs, s->dir, &s->err);
    if (rc < 0) return rc;
    manifest_free(&s->man);
    s->man = fresh;
    return ANPR_OK;
}

int anpr_store_stats(anpr_store *s, anpr_stats *out)
{
    if (!s || !out) return ANPR_EINVAL;
    pthread_mutex_lock(&s->mu);
    int rc = refresh_locked(s);
    if (rc == 0) {
        memset(out, 0, sizeof *out);
        out->oldest_ms = INT64_MAX;
        out->newest_ms = INT64_MIN;
        int32_t last_day = INT32_MIN;
        for (size_t i = 0; i < s->man.nfiles; i++) {
            const manifest_file *f = &s->man.files[i];
            if (f->day != last_day) out->days++;
            last_day = f->day;
            if (f->kind == MANIFEST_PART) out->parts++;
            else out->segments++;
            out->reads += f->rows;
            out->bytes += f->bytes;
            if (f->rows && f->min_ts_ms < out->oldest_ms) out->oldest_ms = f->min_ts_ms;
            if (f->rows && f->max_ts_ms > out->newest_ms) out->newest_ms = f->max_ts_ms;
        }
        if (s->writer) out->buffered = s->writer->nrows;
    }
    pthread_mutex_unlock(&s->mu);
    return rc;
}

int anpr_store_files(anpr_store *s, anpr_file_info **out, size_t *count)
{
    if (!s || !out || !count) return ANPR_EINVAL;
    *out = NULL;
    *count = 0;
    pthread_mutex_lock(&s->mu);
    int rc = refresh_locked(s);
    if (rc == 0) {
        size_t n = s->man.nfiles;
        anpr_file_info *fi = calloc(n ? n : 1, sizeof *fi);
        if (!fi) {
            rc = -ENOMEM;
        } else {
            for (size_t i = 0; i < n; i++) {
                const manifest_file *f = &s->man.files[i];
                fi[i].day = f->day;
                fi[i].is_part = f->kind == MANIFEST_PART;
                fi[i].rows = f->rows;
                fi[i].bytes = f->bytes;
                manifest_file_name(fi[i].name, sizeof fi[i].name, f);
            }
            *out = fi;
            *count = n;
        }
    }
    pthread_mutex_unlock(&s->mu);
    return rc;
}
