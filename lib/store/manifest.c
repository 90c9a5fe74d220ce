/* Encoding, checking and publishing the manifest. */
#include "store/manifest.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "anpr/anpr.h"
#include "common/bytes.h"
#include "common/hash.h"
#include "io/publish.h"

static const uint8_t manifest_magic[8] = {'A', 'N', 'P', 'R', 'M', 'A', 'N', '1'};

void anpr_civil_from_day(int32_t day, int *y, unsigned *m, unsigned *d)
{
    /* Howard Hinnant's days-to-civil algorithm: exact for the proleptic Gregorian calendar. */
    int64_t z = (int64_t)day + 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t yy = (int64_t)yoe + era * 400;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int)(yy + (*m <= 2));
}

void manifest_file_name(char *buf, size_t size, const manifest_file *f)
{
    int y;
    unsigned mo, d;
    anpr_civil_from_day(f->day, &y, &mo, &d);
    snprintf(buf, size, "%04d%02u%02u-%06llu.%s", y, mo, d, (unsigned long long)f->id,
             f->kind == MANIFEST_PART ? "part" : "seg");
}

int manifest_encode(const manifest *m, uint8_t **out, size_t *len)
{
    size_t n = MANIFEST_HEADER_SIZE + m->nfiles * MANIFEST_ENTRY_SIZE + 8;
    uint8_t *p = calloc(1, n);
    if (!p) return -ENOMEM;
    memcpy(p, manifest_magic, 8);
    put_u16(p + 8, MANIFEST_FORMAT_VERSION);
    put_u16(p + 10, 0);
    put_u32(p + 12, (uint32_t)m->nfiles);
    put_u64(p + 16, m->generation);
    put_u64(p + 24, m->journal_gen);
    put_u64(p + 32, m->next_id);
    put_i32(p + 40, m->floor_day);
    put_u32(p + 44, 0);
    for (size_t i = 0; i < m->nfiles; i++) {
        uint8_t *e = p + MANIFEST_HEADER_SIZE + i * MANIFEST_ENTRY_SIZE;
        const manifest_file *f = &m->files[i];
        put_u64(e, f->id);
        put_i32(e + 8, f->day);
        e[12] = f->kind;
        put_u64(e + 16, f->rows);
        put_u64(e + 24, f->bytes);
        put_i64(e + 32, f->min_ts_ms);
        put_i64(e + 40, f->max_ts_ms);
    }
    put_u64(p + n - 8, anpr_checksum(p, n - 8));
    *out = p;
    *len = n;
    return ANPR_OK;
}

static int file_order(const manifest_file *a, const manifest_file *b)
{
    if (a->day != b->day) return a->day < b->day ? -1 : 1;
    return a->id < b->id ? -1 : (a->id > b->id);
}

int manifest_decode(manifest *m, const uint8_t *p, size_t len, anpr_errmsg_buf *err)
{
    memset(m, 0, sizeof *m);
    if (len < MANIFEST_HEADER_SIZE + 8 || memcmp(p, manifest_magic, 8) != 0)
        return anpr_fail(err, ANPR_ECORRUPT, "MANIFEST: not a manifest (bad magic or too short)");
    if (get_u64(p + len - 8) != anpr_checksum(p, len - 8))
        return anpr_fail(err, ANPR_ECORRUPT, "MANIFEST: checksum mismatch");
    if (get_u16(p + 8) != MANIFEST_FORMAT_VERSION)
        return anpr_fail(err, ANPR_EVERSION, "MANIFEST: format version %u, this library reads %u",
                         get_u16(p + 8), MANIFEST_FORMAT_VERSION);
    if (get_u16(p + 10) != 0 || get_u32(p + 44) != 0)
        return anpr_fail(err, ANPR_ECORRUPT, "MANIFEST: reserved header fields are not zero");
    uint32_t n = get_u32(p + 12);
    if (n > MANIFEST_MAX_FILES || len != MANIFEST_HEADER_SIZE + (size_t)n * MANIFEST_ENTRY_SIZE + 8)
        return anpr_fail(err, ANPR_ECORRUPT, "MANIFEST: file count %u does not match its size", n);
    m->generation = get_u64(p + 16);
    m->journal_gen = get_u64(p + 24);
    m->next_id = get_u64(p + 32);
    m->floor_day = get_i32(p + 40);
    m->files = calloc(n ? n : 1, sizeof *m->files);
    if (!m->files) return -ENOMEM;
    m->nfiles = n;
    for (uint32_t i = 0; i < n; i++) {
        const uint8_t *e = p + MANIFEST_HEADER_SIZE + (size_t)i * MANIFEST_ENTRY_SIZE;
        manifest_file *f = &m->files[i];
        f->id = get_u64(e);
        f->day = get_i32(e + 8);
        f->kind = e[12];
        f->rows = get_u64(e + 16);
        f->bytes = get_u64(e + 24);
        f->min_ts_ms = get_i64(e + 32);
        f->max_ts_ms = get_i64(e + 40);
        int bad = (f->kind != MANIFEST_PART && f->kind != MANIFEST_SEGMENT) || f->id >= m->next_id ||
                  e[13] != 0 || e[14] != 0 || e[15] != 0 ||
                  f->day < 0 || (i > 0 && file_order(&m->files[i - 1], f) >= 0) ||
                  (f->rows > 0 && (f->min_ts_ms > f->max_ts_ms || f->min_ts_ms / 86400000 != f->day ||
                                   f->max_ts_ms / 86400000 != f->day));
        if (bad) {
            manifest_free(m);
            return anpr_fail(err, ANPR_ECORRUPT, "MANIFEST: entry %u is inconsistent", i);
        }
    }
    return ANPR_OK;
}

int manifest_load(manifest *m, const anpr_vfs *vfs, const char *dir, anpr_errmsg_buf *err)
{
    char path[4096];
    memset(m, 0, sizeof *m);
    snprintf(path, sizeof path, "%s/" MANIFEST_NAME, dir);
    int fd = vfs->open(vfs, path, O_RDONLY, 0);
    if (fd < 0) return fd == -ENOENT ? fd : anpr_fail(err, fd, "%s: open: %s", path, anpr_strerror(fd));
    uint64_t size;
    int rc = vfs->fsize(vfs, fd, &size);
    if (rc == 0 && size > MANIFEST_HEADER_SIZE + (uint64_t)MANIFEST_MAX_FILES * MANIFEST_ENTRY_SIZE + 8)
        rc = anpr_fail(err, ANPR_ECORRUPT, "%s: %llu bytes is more than any manifest", path,
                       (unsigned long long)size);
    uint8_t *buf = NULL;
    if (rc == 0) {
        buf = malloc(size ? size : 1);
        if (!buf) rc = -ENOMEM;
    }
    if (rc == 0) {
        rc = anpr_vfs_read_full(vfs, fd, buf, size, 0);
        if (rc < 0) anpr_fail(err, rc, "%s: read: %s", path, anpr_strerror(rc));
    }
    vfs->close(vfs, fd);
    if (rc == 0) rc = manifest_decode(m, buf, size, err);
    free(buf);
    return rc;
}

int manifest_publish(manifest *m, const anpr_vfs *vfs, const char *dir, anpr_errmsg_buf *err)
{
    manifest next = *m;
    next.generation = m->generation + 1;
    uint8_t *buf;
    size_t len;
    int rc = manifest_encode(&next, &buf, &len);
    if (rc < 0) return rc;
    anpr_publish pub;
    rc = anpr_publish_begin(&pub, vfs, dir, MANIFEST_NAME, err);
    if (rc == 0) {
        rc = anpr_sink_write(&pub.sink, buf, len);
        if (rc < 0) {
            anpr_fail(err, rc, "%s: write: %s", pub.tmp_path, anpr_strerror(rc));
            anpr_publish_abort(&pub);
        } else {
            rc = anpr_publish_commit(&pub, err);
        }
    }
    free(buf);
    if (rc < 0) return rc; /* the old MANIFEST is still the one in force */
    m->generation = next.generation;
    rc = vfs->fsync_dir(vfs, dir);
    /*
     * The rename happened but may not be durable yet. The new manifest is
     * in force for this process; callers treat the failure as fatal for the
     * writer, which on reopen reloads whichever manifest survived.
     */
    if (rc < 0) return anpr_fail(err, rc, "%s: fsync directory: %s", dir, anpr_strerror(rc));
    return ANPR_OK;
}

int manifest_copy(manifest *dst, const manifest *src)
{
    *dst = *src;
    dst->files = malloc((src->nfiles ? src->nfiles : 1) * sizeof *dst->files);
    if (!dst->files) return -ENOMEM;
    if (src->nfiles) memcpy(dst->files, src->files, src->nfiles * sizeof *dst->files);
    return ANPR_OK;
}

int manifest_add(manifest *m, const manifest_file *f)
{
    manifest_file *nf = realloc(m->files, (m->nfiles + 1) * sizeof *nf);
    if (!nf) return -ENOMEM;
    m->files = nf;
    size_t i = m->nfiles;
    while (i > 0 && file_order(&nf[i - 1], f) > 0) {
        nf[i] = nf[i - 1];
        i--;
    }
    nf[i] = *f;
    m->nfiles++;
    return ANPR_OK;
}

int manifest_remove(manifest *m, uint64_t id)
{
    for (size_t i = 0; i < m->nfiles; i++) {
        if (m->files[i].id == id) {
            memmove(&m->files[i], &m->files[i + 1], (m->nfiles - i - 1) * sizeof *m->files);
            m->nfiles--;
            return 1;
        }
    }
    return 0;
}

int manifest_has(const manifest *m, int32_t day, uint64_t id)
{
    const manifest_file want = {.id = id, .day = day};
    size_t lo = 0, hi = m->nfiles;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = file_order(&m->files[mid], &want);
        if (c == 0) return 1;
        if (c < 0) lo = mid + 1;
        else hi = mid;
    }
    return 0;
}

void manifest_free(manifest *m)
{
    free(m->files);
    m->files = NULL;
    m->nfiles = 0;
}
