/*
 * Merging a day's files into its daily segment.
 *
 * A merge reads immutable files, so it runs without the store's lock and
 * appends go on meanwhile; only the manifest swap at the end takes it.
 * Inputs are merged block by block (k-way), so memory stays at a block per
 * input plus the output writer's index, whatever the size of the day.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include "read/read.h"
#include "store/store.h"

typedef struct merge_input {
    char name[64];            /* file name, for messages */
    anpr_source src;
    seg_reader *r;
    uint32_t block, nblocks;
    anpr_row *rows;
    size_t pos, n;
} merge_input;

static void input_close(anpr_store *s, merge_input *in)
{
    seg_reader_free(in->r);
    if (in->src.fd >= 0) s->vfs->close(s->vfs, in->src.fd);
    free(in->rows);
}

static int input_open(anpr_store *s, merge_input *in, const manifest_file *f, anpr_errmsg_buf *err)
{
    memset(in, 0, sizeof *in);
    in->src.fd = -1;
    char path[4096];
    manifest_file_name(in->name, sizeof in->name, f);
    store_path(s, path, sizeof path, in->name);
    in->src.vfs = s->vfs;
    int fd = s->vfs->open(s->vfs, path, O_RDONLY, 0);
    if (fd < 0) return anpr_fail(err, fd, "%s: open: %s", path, anpr_strerror(fd));
    in->src.fd = fd;
    int rc = s->vfs->fsize(s->vfs, fd, &in->src.size);
    if (rc < 0) return anpr_fail(err, rc, "%s: stat: %s", path, anpr_strerror(rc));
    /* err outlives the reader: it belongs to the whole merge. */
    rc = seg_reader_open(&in->r, &in->src, err);
    if (rc < 0) return anpr_fail_prefix(err, rc, in->name);
    anpr_segment_info info;
    seg_reader_info(in->r, &info);
    in->nblocks = info.blocks;
    in->rows = malloc((info.block_rows ? info.block_rows : 1) * sizeof *in->rows);
    if (!in->rows) return -ENOMEM;
    return ANPR_OK;
}

/* Make in->rows[in->pos] the next row, reading the next block when needed; *has = 0 at the end. */
static int input_next(merge_input *in, anpr_errmsg_buf *err, int *has)
{
    while (in->pos >= in->n) {
        if (in->block >= in->nblocks) {
            *has = 0;
            return ANPR_OK;
        }
        int rc = seg_reader_read_block(in->r, in->block, in->rows, &in->n);
        if (rc < 0) return anpr_fail_prefix(err, rc, in->name);
        in->block++;
        in->pos = 0;
    }
    *has = 1;
    return ANPR_OK;
}

static const anpr_row *head(const merge_input *in)
{
    return &in->rows[in->pos];
}

/* Restore the min-heap of inputs (by their current row) below slot i. */
static void sift_down(merge_input **heap, size_t n, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, m = i;
        if (l < n && row_key_cmp(head(heap[l]), head(heap[m])) < 0) m = l;
        if (l + 1 < n && row_key_cmp(head(heap[l + 1]), head(heap[m])) < 0) m = l + 1;
        if (m == i) return;
        merge_input *t = heap[i];
        heap[i] = heap[m];
        heap[m] = t;
        i = m;
    }
}

/*
 * Write the merged, de-duplicated rows of the k inputs into fo. A binary
 * heap keyed on each input's current row picks the next row in O(log k).
 */
static int merge_rows(merge_input *in, size_t k, store_file_out *fo, anpr_errmsg_buf *err)
{
    enum { OUT_BATCH = 4096 };
    anpr_row *out = malloc(OUT_BATCH * sizeof *out);
    merge_input **heap = malloc((k ? k : 1) * sizeof *heap);
    int rc = out && heap ? ANPR_OK : -ENOMEM;
    size_t n = 0, nout = 0;
    for (size_t i = 0; rc == 0 && i < k; i++) {
        int has = 0;
        rc = input_next(&in[i], err, &has);
        if (has) heap[n++] = &in[i];
    }
    for (size_t i = n / 2; rc == 0 && i-- > 0;) sift_down(heap, n, i);
    while (rc == 0 && n > 0) {
        merge_input *top = heap[0];
        const anpr_row *r = head(top);
        /* A read resent after its first copy reached another file: keep one. */
        if (nout == 0 || row_key_cmp(&out[nout - 1], r) != 0) {
            if (nout == OUT_BATCH) {
                /* Keep the last row written for the duplicate check above. */
                rc = store_file_add(fo, out, nout - 1, err);
                if (rc < 0) break;
                out[0] = out[nout - 1];
                nout = 1;
            }
            out[nout++] = *r;
        }
        top->pos++;
        int has = 0;
        rc = input_next(top, err, &has);
        if (!has) heap[0] = heap[--n];
        sift_down(heap, n, 0);
    }
    if (rc == 0 && nout) rc = store_file_add(fo, out, nout, err);
    free(heap);
    free(out);
    return rc;
}

int merge_day(anpr_writer *w, int32_t day)
{
    anpr_store *s = w->s;
    anpr_errmsg_buf err = {{0}};
    /* Snapshot the day's files and reserve an id under the lock. */
    pthread_mutex_lock(&s->mu);
    size_t k = 0;
    for (size_t i = 0; i < s->man.nfiles; i++) k += s->man.files[i].day == day;
    manifest_file *files = malloc((k ? k : 1) * sizeof *files);
    if (!files) {
        pthread_mutex_unlock(&s->mu);
        return -ENOMEM;
    }
    k = 0;
    for (size_t i = 0; i < s->man.nfiles; i++)
        if (s->man.files[i].day == day) files[k++] = s->man.files[i];
    int nothing = k == 0 || (k == 1 && files[0].kind == MANIFEST_SEGMENT);
    uint64_t id = s->man.next_id;
    if (!nothing) s->man.next_id++; /* in memory only: it reaches disk with the next publish */
    pthread_mutex_unlock(&s->mu);
    if (nothing) {
        free(files);
        return ANPR_OK;
    }

    merge_input *in = calloc(k, sizeof *in);
    int rc = in ? ANPR_OK : -ENOMEM;
    for (size_t i = 0; rc == 0 && i < k; i++) in[i].src.fd = -1;
    for (size_t i = 0; rc == 0 && i < k; i++) rc = input_open(s, &in[i], &files[i], &err);
    store_file_out fo;
    int begun = 0;
    if (rc == 0) {
        rc = store_file_begin(s, &fo, day, MANIFEST_SEGMENT, id, &err);
        begun = rc == 0;
    }
    if (rc == 0) rc = merge_rows(in, k, &fo, &err);
    for (size_t i = 0; in && i < k; i++) input_close(s, &in[i]);
    free(in);
    if (rc == 0) {
        begun = 0;
        rc = store_file_finish(&fo, &err);
    }
    if (begun) store_file_abort(&fo);

    pthread_mutex_lock(&s->mu);
    if (rc == 0) rc = s->vfs->fsync_dir(s->vfs, s->dir);
    manifest next;
    int swapped = 0;
    if (rc == 0) rc = manifest_copy(&next, &s->man);
    if (rc == 0) {
        if (!manifest_keeps_day(&s->man, day)) {
            /* Retention dropped the day while we merged it: the result must not bring it back. */
            manifest_free(&next);
            store_unlink_file(s, &fo.f);
        } else {
            for (size_t i = 0; i < k; i++) manifest_remove(&next, files[i].id);
            if (next.next_id <= id) next.next_id = id + 1;
            rc = manifest_add(&next, &fo.f);
            if (rc == 0) rc = manifest_publish(&next, s->vfs, s->dir, &s->err);
            if (rc == 0 || next.generation != s->man.generation) {
                if (rc < 0) w->poisoned = rc; /* renamed, not known durable */
                manifest_free(&s->man);
                s->man = next;
                swapped = 1;
            } else {
                manifest_free(&next);
                store_unlink_file(s, &fo.f);
            }
        }
    } else if (err.text[0]) {
        memcpy(s->err.text, err.text, sizeof err.text);
    }
    pthread_mutex_unlock(&s->mu);
    if (swapped && rc == 0)
        for (size_t i = 0; i < k; i++) store_unlink_file(s, &files[i]);
    free(files);
    return rc;
}


int anpr_writer_merge(anpr_writer *w, int32_t day)
{
    if (!w) return ANPR_EINVAL;
    anpr_store *s = w->s;
    int rc = anpr_writer_flush(w);
    if (rc < 0) return rc;
    /* The merge needs memory of its own (4 bytes a row for the index): give back the empty buffer's. */
    pthread_mutex_lock(&s->mu);
    if (w->nrows == 0) writer_release_buffers(w);
    pthread_mutex_unlock(&s->mu);
    pthread_mutex_lock(&w->maint_mu);
    if (day != ANPR_ALL_DAYS) {
        rc = merge_day(w, day);
    } else {
        /* Walk the days in order; the list is re-read each time as merges change it. */
        int32_t next_day = INT32_MIN;
        for (;;) {
            pthread_mutex_lock(&s->mu);
            int32_t d = INT32_MAX;
            for (size_t i = 0; i < s->man.nfiles; i++)
                if (s->man.files[i].day >= next_day && s->man.files[i].day < d) d = s->man.files[i].day;
            pthread_mutex_unlock(&s->mu);
            if (d == INT32_MAX) break;
            rc = merge_day(w, d);
            if (rc < 0) break;
            next_day = d + 1;
        }
    }
    pthread_mutex_unlock(&w->maint_mu);
    return rc;
}

int anpr_writer_maintain(anpr_writer *w)
{
    if (!w) return ANPR_EINVAL;
    anpr_store *s = w->s;
    pthread_mutex_lock(&w->maint_mu);
    int rc = retention_apply(w, anpr_now_ms());
    int32_t next_day = INT32_MIN;
    while (rc == 0) {
        /* The next day, other than the newest, that has a part or more than one file. */
        pthread_mutex_lock(&s->mu);
        int32_t newest = s->man.nfiles ? s->man.files[s->man.nfiles - 1].day : INT32_MIN;
        int32_t d = INT32_MAX;
        for (size_t i = 0; i < s->man.nfiles; i++) {
            const manifest_file *f = &s->man.files[i];
            if (f->day < next_day || f->day >= newest || f->day >= d) continue;
            int several = (i > 0 && s->man.files[i - 1].day == f->day) ||
                          (i + 1 < s->man.nfiles && s->man.files[i + 1].day == f->day);
            if (several || f->kind == MANIFEST_PART) d = f->day;
        }
        pthread_mutex_unlock(&s->mu);
        if (d == INT32_MAX) break;
        rc = merge_day(w, d);
        next_day = d + 1;
    }
    pthread_mutex_unlock(&w->maint_mu);
    return rc;
}
