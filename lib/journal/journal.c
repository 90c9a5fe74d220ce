/* The journal file: create, replay with torn-tail detection, append, sync. */
#include "journal/journal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "anpr/anpr.h"
#include "common/bytes.h"
#include "common/hash.h"
#include "io/publish.h"

static const uint8_t journal_magic[8] = {'A', 'N', 'P', 'R', 'J', 'N', 'L', '1'};
#define RECORD_MAGIC 0x4345524Au /* "JREC" little-endian */

struct journal {
    const anpr_vfs *vfs;
    int fd;
    uint64_t gen;
    uint64_t end;       /* file offset where the next write goes */
    char path[4096];
    uint8_t *pend;      /* encoded records not yet written */
    size_t pend_len, pend_cap;
};

void journal_file_name(char *buf, size_t size, uint64_t gen)
{
    snprintf(buf, size, "journal-%06llu.log", (unsigned long long)gen);
}

void journal_row_encode(uint8_t *p, const anpr_row *r)
{
    size_t len = strnlen(r->plate, ANPR_PLATE_MAX);
    put_i64(p, r->ts_ms);
    put_u32(p + 8, r->camera);
    put_i32(p + 12, r->lat_e7);
    put_i32(p + 16, r->lon_e7);
    p[20] = r->lane;
    p[21] = r->direction;
    p[22] = r->confidence;
    p[23] = (uint8_t)len;
    memset(p + 24, 0, 16);
    memcpy(p + 24, r->plate, len);
}

int journal_row_decode(anpr_row *r, const uint8_t *p)
{
    /* The checksum already matched; these checks catch a writer bug or a forged file. */
    unsigned len = p[23];
    if (len == 0 || len > ANPR_PLATE_MAX) return ANPR_ECORRUPT;
    for (unsigned i = 0; i < 16; i++) {
        uint8_t c = p[24 + i];
        int ok = i < len ? ((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) : c == 0;
        if (!ok) return ANPR_ECORRUPT;
    }
    r->ts_ms = get_i64(p);
    r->camera = get_u32(p + 8);
    r->lat_e7 = get_i32(p + 12);
    r->lon_e7 = get_i32(p + 16);
    r->lane = p[20];
    r->direction = p[21];
    r->confidence = p[22];
    if (r->ts_ms < 0 || r->confidence > 100) return ANPR_ECORRUPT;
    memcpy(r->plate, p + 24, 16);
    return ANPR_OK;
}

static uint64_t record_checksum(const uint8_t *hdr, const uint8_t *payload, size_t len)
{
    /* Seeding the payload hash with the header's binds the two: neither can be swapped alone. */
    return (uint64_t)XXH3_64bits_withSeed(payload, len, anpr_checksum(hdr, 16));
}

static void header_encode(uint8_t *h, uint64_t gen)
{
    memcpy(h, journal_magic, 8);
    put_u16(h + 8, JOURNAL_FORMAT_VERSION);
    put_u16(h + 10, 0);
    put_u32(h + 12, 0);
    put_u64(h + 16, gen);
    put_u64(h + 24, anpr_checksum(h, 24));
}

static journal *journal_alloc(const anpr_vfs *vfs, const char *dir, uint64_t gen)
{
    journal *j = calloc(1, sizeof *j);
    if (!j) return NULL;
    j->vfs = vfs;
    j->fd = -1;
    j->gen = gen;
    char name[64];
    journal_file_name(name, sizeof name, gen);
    snprintf(j->path, sizeof j->path, "%s/%s", dir, name);
    return j;
}

int journal_create(journal **out, const anpr_vfs *vfs, const char *dir, uint64_t gen,
                   anpr_errmsg_buf *err)
{
    *out = NULL;
    journal *j = journal_alloc(vfs, dir, gen);
    if (!j) return -ENOMEM;
    char name[64];
    journal_file_name(name, sizeof name, gen);
    anpr_publish pub;
    int rc = anpr_publish_begin(&pub, vfs, dir, name, err);
    if (rc < 0) goto fail;
    uint8_t h[JOURNAL_HEADER_SIZE];
    header_encode(h, gen);
    rc = anpr_sink_write(&pub.sink, h, sizeof h);
    if (rc < 0) {
        anpr_fail(err, rc, "%s: write: %s", pub.tmp_path, anpr_strerror(rc));
        anpr_publish_abort(&pub);
        goto fail;
    }
    rc = anpr_publish_commit(&pub, err);
    if (rc < 0) goto fail;
    j->fd = vfs->open(vfs, j->path, O_RDWR, 0);
    if (j->fd < 0) {
        rc = anpr_fail(err, j->fd, "%s: open: %s", j->path, anpr_strerror(j->fd));
        goto fail;
    }
    j->end = JOURNAL_HEADER_SIZE;
    *out = j;
    return ANPR_OK;
fail:
    journal_close(j);
    return rc;
}

/* Does a complete, checksum-valid record start at off? (*rows gets its row count.) */
static int record_valid_at(const journal *j, uint64_t off, uint64_t size, uint8_t **buf, size_t *cap,
                           uint32_t *rows, int *io_err)
{
    uint8_t h[JOURNAL_RECORD_HEADER_SIZE];
    *io_err = 0;
    if (size - off < JOURNAL_RECORD_HEADER_SIZE) return 0;
    int rc = anpr_vfs_read_full(j->vfs, j->fd, h, sizeof h, off);
    if (rc < 0) {
        *io_err = rc;
        return 0;
    }
    uint32_t n = get_u32(h + 4);
    if (get_u32(h) != RECORD_MAGIC || n == 0 || n > JOURNAL_RECORD_MAX_ROWS || get_u64(h + 8) != j->gen)
        return 0;
    size_t len = (size_t)n * JOURNAL_ROW_SIZE;
    if (size - off - JOURNAL_RECORD_HEADER_SIZE < len) return 0;
    if (*cap < len) {
        uint8_t *nb = realloc(*buf, len);
        if (!nb) {
            *io_err = -ENOMEM;
            return 0;
        }
        *buf = nb;
        *cap = len;
    }
    rc = anpr_vfs_read_full(j->vfs, j->fd, *buf, len, off + JOURNAL_RECORD_HEADER_SIZE);
    if (rc < 0) {
        *io_err = rc;
        return 0;
    }
    if (record_checksum(h, *buf, len) != get_u64(h + 16)) return 0;
    *rows = n;
    return 1;
}

/*
 * After a bad record at bad_off: is there any valid record later on? Only a
 * torn write may end the journal, and a torn write leaves nothing valid after it.
 */
static int valid_record_after(const journal *j, uint64_t bad_off, uint64_t size, uint8_t **buf,
                              size_t *cap, uint64_t *found, int *io_err)
{
    uint8_t win[65536];
    uint8_t magic[4];
    put_u32(magic, RECORD_MAGIC);
    uint64_t off = bad_off + 1;
    while (off + JOURNAL_RECORD_HEADER_SIZE <= size) {
        size_t want = (size_t)(size - off < sizeof win ? size - off : sizeof win);
        int rc = anpr_vfs_read_full(j->vfs, j->fd, win, want, off);
        if (rc < 0) {
            *io_err = rc;
            return 0;
        }
        for (size_t i = 0; i + 4 <= want; i++) {
            if (memcmp(win + i, magic, 4) != 0) continue;
            uint32_t rows;
            if (record_valid_at(j, off + i, size, buf, cap, &rows, io_err)) {
                *found = off + i;
                return 1;
            }
            if (*io_err) return 0;
        }
        if (want < 4) break;
        off += want - 3; /* overlap so a magic straddling two windows is seen */
    }
    return 0;
}

int journal_read_tail(const anpr_vfs *vfs, const char *dir, uint64_t gen, uint64_t *off_io,
                      journal_replay_fn fn, void *ctx, anpr_errmsg_buf *err)
{
    journal *j = journal_alloc(vfs, dir, gen);
    if (!j) return -ENOMEM;
    uint8_t *buf = NULL;
    size_t cap = 0;
    anpr_row *rows = NULL;
    int rc = 0;
    j->fd = vfs->open(vfs, j->path, O_RDONLY, 0);
    if (j->fd < 0) {
        rc = j->fd == -ENOENT ? j->fd : anpr_fail(err, j->fd, "%s: open: %s", j->path, anpr_strerror(j->fd));
        goto out;
    }
    uint64_t size, off = *off_io;
    rc = vfs->fsize(vfs, j->fd, &size);
    if (rc < 0) {
        anpr_fail(err, rc, "%s: stat: %s", j->path, anpr_strerror(rc));
        goto out;
    }
    if (off < JOURNAL_HEADER_SIZE) {
        uint8_t h[JOURNAL_HEADER_SIZE];
        rc = size < JOURNAL_HEADER_SIZE ? ANPR_ECORRUPT : anpr_vfs_read_full(vfs, j->fd, h, sizeof h, 0);
        if (rc == 0 && (memcmp(h, journal_magic, 8) != 0 || get_u64(h + 24) != anpr_checksum(h, 24) ||
                        get_u16(h + 8) != JOURNAL_FORMAT_VERSION || get_u64(h + 16) != gen))
            rc = ANPR_ECORRUPT;
        if (rc < 0) {
            anpr_fail(err, rc, "%s: header: %s", j->path, anpr_strerror(rc));
            goto out;
        }
        off = JOURNAL_HEADER_SIZE;
    }
    /* Every complete record from off on; the first incomplete one is being written (or torn): stop there. */
    while (off < size) {
        uint32_t n;
        int io_err;
        if (!record_valid_at(j, off, size, &buf, &cap, &n, &io_err)) {
            rc = io_err;
            if (rc < 0) anpr_fail(err, rc, "%s: read: %s", j->path, anpr_strerror(rc));
            break;
        }
        anpr_row *nr = realloc(rows, (size_t)n * sizeof *rows);
        if (!nr) {
            rc = -ENOMEM;
            break;
        }
        rows = nr;
        for (uint32_t i = 0; i < n && rc == 0; i++)
            if (journal_row_decode(&rows[i], buf + (size_t)i * JOURNAL_ROW_SIZE) < 0)
                rc = anpr_fail(err, ANPR_ECORRUPT, "%s: record at %llu holds an invalid row", j->path,
                               (unsigned long long)off);
        if (rc == 0) rc = fn(ctx, rows, n);
        if (rc < 0) break;
        off += JOURNAL_RECORD_HEADER_SIZE + (uint64_t)n * JOURNAL_ROW_SIZE;
    }
    if (rc == 0) *off_io = off;
out:
    free(buf);
    free(rows);
    journal_close(j);
    return rc;
}

int journal_open(journal **out, const anpr_vfs *vfs, const char *dir, uint64_t gen,
                 journal_replay_fn fn, void *ctx, uint64_t *cut_bytes, anpr_errmsg_buf *err)
{
    *out = NULL;
    if (cut_bytes) *cut_bytes = 0;
    journal *j = journal_alloc(vfs, dir, gen);
    if (!j) return -ENOMEM;
    uint8_t *buf = NULL;
    size_t cap = 0;
    anpr_row *rows = NULL;
    size_t rows_cap = 0;
    int rc;

    j->fd = vfs->open(vfs, j->path, O_RDWR, 0);
    if (j->fd < 0) {
        rc = anpr_fail(err, j->fd, "%s: open: %s", j->path, anpr_strerror(j->fd));
        goto fail;
    }
    uint64_t size;
    rc = vfs->fsize(vfs, j->fd, &size);
    if (rc < 0) {
        anpr_fail(err, rc, "%s: stat: %s", j->path, anpr_strerror(rc));
        goto fail;
    }
    uint8_t h[JOURNAL_HEADER_SIZE];
    if (size < JOURNAL_HEADER_SIZE) {
        /* The header is published before the manifest names the file, so a short one is damage. */
        rc = anpr_fail(err, ANPR_ECORRUPT, "%s: %llu bytes, shorter than its header", j->path,
                       (unsigned long long)size);
        goto fail;
    }
    rc = anpr_vfs_read_full(vfs, j->fd, h, sizeof h, 0);
    if (rc < 0) {
        anpr_fail(err, rc, "%s: read: %s", j->path, anpr_strerror(rc));
        goto fail;
    }
    if (memcmp(h, journal_magic, 8) != 0 || get_u64(h + 24) != anpr_checksum(h, 24)) {
        rc = anpr_fail(err, ANPR_ECORRUPT, "%s: header fails its magic or checksum", j->path);
        goto fail;
    }
    if (get_u16(h + 8) != JOURNAL_FORMAT_VERSION) {
        rc = anpr_fail(err, ANPR_EVERSION, "%s: journal format version %u, this library reads %u",
                       j->path, get_u16(h + 8), JOURNAL_FORMAT_VERSION);
        goto fail;
    }
    if (get_u64(h + 16) != gen) {
        rc = anpr_fail(err, ANPR_ECORRUPT, "%s: header names generation %llu", j->path,
                       (unsigned long long)get_u64(h + 16));
        goto fail;
    }

    uint64_t off = JOURNAL_HEADER_SIZE;
    while (off < size) {
        uint32_t n;
        int io_err;
        if (!record_valid_at(j, off, size, &buf, &cap, &n, &io_err)) {
            if (io_err) {
                rc = anpr_fail(err, io_err, "%s: read at %llu: %s", j->path, (unsigned long long)off,
                               anpr_strerror(io_err));
                goto fail;
            }
            uint64_t found;
            if (valid_record_after(j, off, size, &buf, &cap, &found, &io_err)) {
                rc = anpr_fail(err, ANPR_ECORRUPT,
                               "%s: record at offset %llu fails its checksum, but a valid record "
                               "follows at %llu: damage, not a torn write",
                               j->path, (unsigned long long)off, (unsigned long long)found);
                goto fail;
            }
            if (io_err) {
                rc = anpr_fail(err, io_err, "%s: read: %s", j->path, anpr_strerror(io_err));
                goto fail;
            }
            /* A torn tail: cut it so new records follow the last intact one. */
            rc = vfs->ftruncate(vfs, j->fd, off);
            if (rc == 0) rc = vfs->fsync(vfs, j->fd);
            if (rc < 0) {
                anpr_fail(err, rc, "%s: cutting torn tail: %s", j->path, anpr_strerror(rc));
                goto fail;
            }
            if (cut_bytes) *cut_bytes = size - off;
            size = off;
            break;
        }
        if (rows_cap < n) {
            anpr_row *nr = realloc(rows, (size_t)n * sizeof *rows);
            if (!nr) {
                rc = -ENOMEM;
                goto fail;
            }
            rows = nr;
            rows_cap = n;
        }
        for (uint32_t i = 0; i < n; i++) {
            if (journal_row_decode(&rows[i], buf + (size_t)i * JOURNAL_ROW_SIZE) != ANPR_OK) {
                rc = anpr_fail(err, ANPR_ECORRUPT, "%s: record at offset %llu: row %u is not a valid read",
                               j->path, (unsigned long long)off, i);
                goto fail;
            }
        }
        if (fn) {
            rc = fn(ctx, rows, n);
            if (rc != 0) goto fail;
        }
        off += JOURNAL_RECORD_HEADER_SIZE + (uint64_t)n * JOURNAL_ROW_SIZE;
    }
    j->end = size;
    free(buf);
    free(rows);
    *out = j;
    return ANPR_OK;
fail:
    free(buf);
    free(rows);
    journal_close(j);
    return rc;
}

int journal_append(journal *j, const anpr_row *rows, size_t n)
{
    while (n > 0) {
        size_t take = n < JOURNAL_RECORD_MAX_ROWS ? n : JOURNAL_RECORD_MAX_ROWS;
        size_t need = JOURNAL_RECORD_HEADER_SIZE + take * JOURNAL_ROW_SIZE;
        if (j->pend_cap - j->pend_len < need) {
            size_t ncap = j->pend_cap ? j->pend_cap : 65536;
            while (ncap - j->pend_len < need) ncap *= 2;
            uint8_t *nb = realloc(j->pend, ncap);
            if (!nb) return -ENOMEM;
            j->pend = nb;
            j->pend_cap = ncap;
        }
        uint8_t *h = j->pend + j->pend_len;
        uint8_t *payload = h + JOURNAL_RECORD_HEADER_SIZE;
        for (size_t i = 0; i < take; i++) journal_row_encode(payload + i * JOURNAL_ROW_SIZE, &rows[i]);
        put_u32(h, RECORD_MAGIC);
        put_u32(h + 4, (uint32_t)take);
        put_u64(h + 8, j->gen);
        put_u64(h + 16, record_checksum(h, payload, take * JOURNAL_ROW_SIZE));
        j->pend_len += need;
        rows += take;
        n -= take;
    }
    return ANPR_OK;
}

int journal_write(journal *j, uint64_t *end, anpr_errmsg_buf *err)
{
    if (j->pend_len > 0) {
        int rc = anpr_vfs_write_full(j->vfs, j->fd, j->pend, j->pend_len, j->end);
        if (rc < 0) return anpr_fail(err, rc, "%s: write: %s", j->path, anpr_strerror(rc));
        /* The commit's fsync then waits for what was written since, not for everything since the last. */
        anpr_vfs_writeback(j->vfs, j->fd, j->end, j->pend_len);
        j->end += j->pend_len;
        j->pend_len = 0;
        /* Keep a modest buffer; a burst should not pin its peak for the journal's life. */
        if (j->pend_cap > (64u << 20)) {
            free(j->pend);
            j->pend = NULL;
            j->pend_cap = 0;
        }
    }
    if (end) *end = j->end;
    return ANPR_OK;
}

int journal_sync(journal *j, anpr_errmsg_buf *err)
{
    int rc = j->vfs->fsync(j->vfs, j->fd);
    if (rc < 0) return anpr_fail(err, rc, "%s: fsync: %s", j->path, anpr_strerror(rc));
    return ANPR_OK;
}

size_t journal_pending(const journal *j)
{
    return j->pend_len;
}

uint64_t journal_gen(const journal *j)
{
    return j->gen;
}

void journal_close(journal *j)
{
    if (!j) return;
    if (j->fd >= 0) j->vfs->close(j->vfs, j->fd);
    free(j->pend);
    free(j);
}
