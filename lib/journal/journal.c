/* The journal file: create or recycle, replay with torn-tail detection, append, sync. */
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
    unsigned version;   /* of the file's header: records are appended in its layout */
    uint64_t gen;
    uint64_t end;       /* file offset where the next write goes */
    uint64_t synced;    /* every byte before it is durable: version 2 records say so */
    char path[4096];
    uint8_t *pend;      /* encoded records not yet written */
    size_t pend_len, pend_cap;
};

void journal_file_name(char *buf, size_t size, uint64_t gen)
{
    snprintf(buf, size, "journal-%06llu.log", (unsigned long long)gen);
}

void journal_path(char *buf, size_t size, const char *dir, uint64_t gen)
{
    char name[64];
    journal_file_name(name, sizeof name, gen);
    snprintf(buf, size, "%s/%s", dir, name);
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

/* A record's header: its size, and where its checksum sits (the bytes before it seed the checksum). */
static size_t record_header_size(unsigned version)
{
    return version == 1 ? JOURNAL_RECORD_HEADER_SIZE_V1 : JOURNAL_RECORD_HEADER_SIZE;
}

static uint64_t record_checksum(unsigned version, const uint8_t *hdr, const uint8_t *payload, size_t len)
{
    /* Seeding the payload hash with the header's binds the two: neither can be swapped alone. */
    size_t at = record_header_size(version) - 8;
    return (uint64_t)XXH3_64bits_withSeed(payload, len, anpr_checksum(hdr, at));
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

/* header_check: a whole header of a known version that names another generation than the one asked for. */
#define HEADER_OTHER_GEN 1

/* ANPR_OK, HEADER_OTHER_GEN, ANPR_ECORRUPT (magic or checksum) or ANPR_EVERSION. */
static int header_check(const uint8_t *h, uint64_t gen)
{
    if (memcmp(h, journal_magic, 8) != 0 || get_u64(h + 24) != anpr_checksum(h, 24)) return ANPR_ECORRUPT;
    unsigned version = get_u16(h + 8);
    if (version < 1 || version > JOURNAL_FORMAT_VERSION) return ANPR_EVERSION;
    return get_u64(h + 16) == gen ? ANPR_OK : HEADER_OTHER_GEN;
}

static journal *journal_alloc(const anpr_vfs *vfs, const char *dir, uint64_t gen)
{
    journal *j = calloc(1, sizeof *j);
    if (!j) return NULL;
    j->vfs = vfs;
    j->fd = -1;
    j->version = JOURNAL_FORMAT_VERSION;
    j->gen = gen;
    journal_path(j->path, sizeof j->path, dir, gen);
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
    j->end = j->synced = JOURNAL_HEADER_SIZE;
    *out = j;
    return ANPR_OK;
fail:
    journal_close(j);
    return rc;
}

int journal_recycle(journal **out, const anpr_vfs *vfs, const char *dir, uint64_t gen, uint64_t from_gen,
                    anpr_errmsg_buf *err)
{
    *out = NULL;
    journal *j = journal_alloc(vfs, dir, gen);
    if (!j) return -ENOMEM;
    char from[4096];
    journal_path(from, sizeof from, dir, from_gen);
    uint8_t h[JOURNAL_HEADER_SIZE];
    header_encode(h, gen);
    int rc;
    const char *what = "open";
    j->fd = vfs->open(vfs, from, O_RDWR, 0);
    if ((rc = j->fd < 0 ? j->fd : 0) < 0) goto fail;
    what = "write";
    if ((rc = anpr_vfs_write_full(vfs, j->fd, h, sizeof h, 0)) < 0) goto fail;
    /* The new header is durable before the name is: a crash leaves an orphan of either name, never a mix. */
    what = "fsync";
    if ((rc = vfs->fsync(vfs, j->fd)) < 0) goto fail;
    what = "rename";
    if ((rc = vfs->rename(vfs, from, j->path)) < 0) goto fail;
    j->end = j->synced = JOURNAL_HEADER_SIZE;
    *out = j;
    return ANPR_OK;
fail:
    anpr_fail(err, rc, "%s: recycling as %s: %s: %s", from, j->path, what, anpr_strerror(rc));
    journal_close(j);
    vfs->unlink(vfs, from);
    return rc;
}

/*
 * Does a complete, checksum-valid record of this generation start at off?
 * *rows gets its row count and *synced the offset it says was durable
 * (version 1 records say nothing: 0). Version 2 allows a record of no rows.
 */
static int record_valid_at(const journal *j, uint64_t off, uint64_t size, uint8_t **buf, size_t *cap,
                           uint32_t *rows, uint64_t *synced, int *io_err)
{
    uint8_t h[JOURNAL_RECORD_HEADER_SIZE];
    size_t hsize = record_header_size(j->version);
    *io_err = 0;
    if (size - off < hsize) return 0;
    int rc = anpr_vfs_read_full(j->vfs, j->fd, h, hsize, off);
    if (rc < 0) {
        *io_err = rc;
        return 0;
    }
    uint32_t n = get_u32(h + 4);
    uint32_t min_rows = j->version == 1 ? 1 : 0;
    if (get_u32(h) != RECORD_MAGIC || n < min_rows || n > JOURNAL_RECORD_MAX_ROWS || get_u64(h + 8) != j->gen)
        return 0;
    size_t len = (size_t)n * JOURNAL_ROW_SIZE;
    if (size - off - hsize < len) return 0;
    if (*cap < len) {
        uint8_t *nb = realloc(*buf, len);
        if (!nb) {
            *io_err = -ENOMEM;
            return 0;
        }
        *buf = nb;
        *cap = len;
    }
    rc = len ? anpr_vfs_read_full(j->vfs, j->fd, *buf, len, off + hsize) : 0;
    if (rc < 0) {
        *io_err = rc;
        return 0;
    }
    if (record_checksum(j->version, h, *buf, len) != get_u64(h + hsize - 8)) return 0;
    *rows = n;
    *synced = j->version == 1 ? 0 : get_u64(h + 16);
    return 1;
}

/*
 * After a bad record at bad_off: does a valid record later on show that it
 * had been durable? In version 1, any valid record does: a journal was
 * only ever appended to, and a torn append leaves nothing valid after it.
 * A version 2 file may be recycled, where writes not yet synced can reach
 * the disk in any order, so only a record that says the bytes at bad_off
 * were durable when it was written does.
 */
static int valid_record_after(const journal *j, uint64_t bad_off, uint64_t size, uint8_t **buf,
                              size_t *cap, uint64_t *found, int *io_err)
{
    uint8_t win[65536];
    uint8_t magic[4];
    put_u32(magic, RECORD_MAGIC);
    uint64_t off = bad_off + 1;
    while (off + record_header_size(j->version) <= size) {
        size_t want = (size_t)(size - off < sizeof win ? size - off : sizeof win);
        int rc = anpr_vfs_read_full(j->vfs, j->fd, win, want, off);
        if (rc < 0) {
            *io_err = rc;
            return 0;
        }
        for (size_t i = 0; i + 4 <= want; i++) {
            if (memcmp(win + i, magic, 4) != 0) continue;
            uint32_t rows;
            uint64_t synced;
            if (record_valid_at(j, off + i, size, buf, cap, &rows, &synced, io_err) &&
                (j->version == 1 || synced > bad_off)) {
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

/* A record's rows into *rows (grown as needed); ANPR_ECORRUPT names the first bad one in *bad_row. */
static int decode_rows(anpr_row **rows, size_t *rows_cap, const uint8_t *buf, uint32_t n, uint32_t *bad_row)
{
    if (*rows_cap < n) {
        anpr_row *nr = realloc(*rows, (size_t)n * sizeof **rows);
        if (!nr) return -ENOMEM;
        *rows = nr;
        *rows_cap = n;
    }
    for (uint32_t i = 0; i < n; i++) {
        if (journal_row_decode(&(*rows)[i], buf + (size_t)i * JOURNAL_ROW_SIZE) != ANPR_OK) {
            *bad_row = i;
            return ANPR_ECORRUPT;
        }
    }
    return ANPR_OK;
}

int journal_read_tail(const anpr_vfs *vfs, const char *dir, uint64_t gen, uint64_t *off_io,
                      journal_replay_fn fn, void *ctx, anpr_errmsg_buf *err)
{
    journal *j = journal_alloc(vfs, dir, gen);
    if (!j) return -ENOMEM;
    uint8_t *buf = NULL;
    size_t cap = 0, rows_cap = 0;
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
    /*
     * The header is read at every call: the version gives the records'
     * layout. A flush may recycle the file between our open and this read
     * (journal_recycle rewrites the header): a header of a later generation
     * means the journal was replaced, like -ENOENT; one that fails its
     * checksum is read once more, in case we caught its rewrite half done.
     */
    uint8_t h[JOURNAL_HEADER_SIZE];
    rc = ANPR_ECORRUPT;
    for (int tries = 0; tries < 2 && rc == ANPR_ECORRUPT && size >= JOURNAL_HEADER_SIZE; tries++) {
        rc = anpr_vfs_read_full(vfs, j->fd, h, sizeof h, 0);
        if (rc == 0) rc = header_check(h, gen);
        if (rc == HEADER_OTHER_GEN) {
            /* A later one: replaced. An earlier one: not the journal the name says. */
            rc = get_u64(h + 16) > gen ? -ENOENT : ANPR_ECORRUPT;
            if (rc == -ENOENT) goto out;
        }
    }
    if (rc < 0) {
        anpr_fail(err, rc, "%s: header: %s", j->path, anpr_strerror(rc));
        goto out;
    }
    j->version = get_u16(h + 8);
    if (off < JOURNAL_HEADER_SIZE) off = JOURNAL_HEADER_SIZE;
    /* Every complete record from off on; the first incomplete one is being written (or torn): stop there. */
    while (off < size) {
        uint32_t n;
        uint64_t synced;
        int io_err;
        if (!record_valid_at(j, off, size, &buf, &cap, &n, &synced, &io_err)) {
            rc = io_err;
            if (rc < 0) anpr_fail(err, rc, "%s: read: %s", j->path, anpr_strerror(rc));
            break;
        }
        uint32_t bad_row;
        rc = decode_rows(&rows, &rows_cap, buf, n, &bad_row);
        if (rc == ANPR_ECORRUPT)
            anpr_fail(err, rc, "%s: record at offset %llu: row %u is not a valid read", j->path,
                      (unsigned long long)off, bad_row);
        if (rc == 0 && n > 0) rc = fn(ctx, rows, n);
        if (rc < 0) break;
        off += record_header_size(j->version) + (uint64_t)n * JOURNAL_ROW_SIZE;
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
    rc = header_check(h, gen);
    if (rc == ANPR_EVERSION) {
        anpr_fail(err, rc, "%s: journal format version %u, this library reads 1 to %u", j->path,
                  get_u16(h + 8), JOURNAL_FORMAT_VERSION);
        goto fail;
    }
    if (rc == HEADER_OTHER_GEN) {
        rc = anpr_fail(err, ANPR_ECORRUPT, "%s: header names generation %llu", j->path,
                       (unsigned long long)get_u64(h + 16));
        goto fail;
    }
    if (rc < 0) {
        anpr_fail(err, rc, "%s: header fails its magic or checksum", j->path);
        goto fail;
    }
    j->version = get_u16(h + 8);

    uint64_t off = JOURNAL_HEADER_SIZE;
    const char *sync_what = "fsync";
    while (off < size) {
        uint32_t n, bad_row;
        uint64_t synced;
        int io_err;
        if (!record_valid_at(j, off, size, &buf, &cap, &n, &synced, &io_err)) {
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
            /* A torn tail (or a recycled file's older records): cut it so new records follow the last intact one. */
            sync_what = "cutting torn tail";
            rc = vfs->ftruncate(vfs, j->fd, off);
            if (rc < 0) {
                anpr_fail(err, rc, "%s: %s: %s", j->path, sync_what, anpr_strerror(rc));
                goto fail;
            }
            if (cut_bytes) *cut_bytes = size - off;
            size = off;
            break;
        }
        if (j->version >= 2 && (synced < JOURNAL_HEADER_SIZE || synced > off)) {
            rc = anpr_fail(err, ANPR_ECORRUPT, "%s: record at offset %llu says %llu bytes were durable before it",
                           j->path, (unsigned long long)off, (unsigned long long)synced);
            goto fail;
        }
        rc = decode_rows(&rows, &rows_cap, buf, n, &bad_row);
        if (rc == ANPR_ECORRUPT)
            anpr_fail(err, rc, "%s: record at offset %llu: row %u is not a valid read", j->path,
                      (unsigned long long)off, bad_row);
        if (rc < 0) goto fail;
        if (fn && n > 0) {
            rc = fn(ctx, rows, n);
            if (rc != 0) goto fail;
        }
        off += record_header_size(j->version) + (uint64_t)n * JOURNAL_ROW_SIZE;
    }
    /* Durable before new records say so (a writer killed before its commit left these in the page cache). */
    rc = vfs->fsync(vfs, j->fd);
    if (rc < 0) {
        anpr_fail(err, rc, "%s: %s: %s", j->path, sync_what, anpr_strerror(rc));
        goto fail;
    }
    j->end = j->synced = size;
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

/* One record of n rows (none: a version 2 mark) at the end of the pending bytes. */
static int append_record(journal *j, const anpr_row *rows, size_t n)
{
    size_t hsize = record_header_size(j->version), need = hsize + n * JOURNAL_ROW_SIZE;
    if (j->pend_cap - j->pend_len < need) {
        size_t ncap = j->pend_cap ? j->pend_cap : 65536;
        while (ncap - j->pend_len < need) ncap *= 2;
        uint8_t *nb = realloc(j->pend, ncap);
        if (!nb) return -ENOMEM;
        j->pend = nb;
        j->pend_cap = ncap;
    }
    uint8_t *h = j->pend + j->pend_len;
    uint8_t *payload = h + hsize;
    for (size_t i = 0; i < n; i++) journal_row_encode(payload + i * JOURNAL_ROW_SIZE, &rows[i]);
    put_u32(h, RECORD_MAGIC);
    put_u32(h + 4, (uint32_t)n);
    put_u64(h + 8, j->gen);
    if (j->version >= 2) put_u64(h + 16, j->synced);
    put_u64(h + hsize - 8, record_checksum(j->version, h, payload, n * JOURNAL_ROW_SIZE));
    j->pend_len += need;
    return ANPR_OK;
}

int journal_append(journal *j, const anpr_row *rows, size_t n)
{
    while (n > 0) {
        size_t take = n < JOURNAL_RECORD_MAX_ROWS ? n : JOURNAL_RECORD_MAX_ROWS;
        int rc = append_record(j, rows, take);
        if (rc < 0) return rc;
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

void journal_mark_synced(journal *j, uint64_t end)
{
    if (end > j->synced) j->synced = end;
}

int journal_finish(journal *j, anpr_errmsg_buf *err)
{
    /* Whatever is still unsynced first (nothing after a commit: a cheap fsync), then the mark. */
    int rc = journal_write(j, NULL, err);
    if (rc == 0) rc = journal_sync(j, err);
    if (rc < 0 || j->version < 2) return rc;
    journal_mark_synced(j, j->end);
    rc = append_record(j, NULL, 0);
    if (rc == 0) rc = journal_write(j, NULL, err);
    if (rc < 0) return rc;
    rc = j->vfs->ftruncate(j->vfs, j->fd, j->end);
    if (rc == 0) rc = j->vfs->fsync(j->vfs, j->fd);
    if (rc < 0) return anpr_fail(err, rc, "%s: closing: %s", j->path, anpr_strerror(rc));
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
