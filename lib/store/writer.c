/* The writer: the store's lock, journal replay, append, and group commit. */
#define _GNU_SOURCE
#include "common/bigmem.h"
#include "store/store.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "io/publish.h"
#include "read/read.h"

/*
 * Journal bytes held in memory before they are written (not synced) to the
 * file and their writeback started: a commit's fsync then waits for about
 * this much at most, where it waited for a whole commit's worth (4 MB for
 * 100,000 reads, about 4 ms on this project's disk, a tenth of ingest).
 */
#define JOURNAL_WRITE_THRESHOLD ((size_t)1 << 20)

void writer_release_buffers(anpr_writer *w)
{
    big_free(w->rows, w->cap * sizeof *w->rows);
    w->rows = NULL;
    w->cap = 0;
    sort_scratch_free(&w->sort);
}

/* The buffer's size in steady use: the flush threshold plus room for the batch that crosses it. */
size_t writer_buffer_rows(const anpr_writer *w)
{
    return w->flush_rows + w->flush_rows / 8;
}

static int buffer_reserve(anpr_writer *w, size_t more)
{
    size_t need = w->nrows + more;
    if (w->cap >= need) return ANPR_OK;
    size_t ncap = w->cap ? w->cap : 4096;
    while (ncap < need) ncap *= 2;
    /* One buffer serves flush after flush: grow to its steady size, no further unless a batch needs it. */
    size_t steady = writer_buffer_rows(w);
    if (ncap > steady && need <= steady) ncap = steady;
    anpr_row *nr = big_realloc(w->rows, w->cap * sizeof *nr, ncap * sizeof *nr);
    if (!nr) return -ENOMEM;
    w->rows = nr;
    w->cap = ncap;
    return ANPR_OK;
}

static int replay_rows(void *ctx, const anpr_row *rows, size_t n)
{
    anpr_writer *w = ctx;
    int rc = buffer_reserve(w, n);
    if (rc < 0) return rc;
    for (size_t i = 0; i < n; i++)
        if (manifest_keeps_day(&w->s->man, anpr_day_of(rows[i].ts_ms))) w->rows[w->nrows++] = rows[i];
    return ANPR_OK;
}

static int is_tmp_or_data_name(const char *name)
{
    size_t n = strlen(name);
    if (strncmp(name, ANPR_TMP_PREFIX, strlen(ANPR_TMP_PREFIX)) == 0) return 1;
    if (n > 5 && strcmp(name + n - 5, ".part") == 0) return 1;
    if (n > 4 && strcmp(name + n - 4, ".seg") == 0) return 1;
    if (strncmp(name, "journal-", 8) == 0 && n > 4 && strcmp(name + n - 4, ".log") == 0) return 1;
    return 0;
}

/*
 * Remove what a crash left behind: temporary files, and data files or
 * journals that the manifest does not name (written by a flush or merge
 * that died before its manifest was published, or dropped and not yet
 * unlinked). Only the lock holder may do this.
 */
static void remove_orphans(anpr_store *s)
{
    DIR *d = opendir(s->dir);
    if (!d) return;
    char live_journal[64];
    journal_file_name(live_journal, sizeof live_journal, s->man.journal_gen);
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (!is_tmp_or_data_name(e->d_name)) continue;
        int live = strcmp(e->d_name, live_journal) == 0 && s->man.journal_gen != 0;
        for (size_t i = 0; !live && i < s->man.nfiles; i++) {
            char name[64];
            manifest_file_name(name, sizeof name, &s->man.files[i]);
            live = strcmp(name, e->d_name) == 0;
        }
        if (!live) {
            char path[4096];
            store_path(s, path, sizeof path, e->d_name);
            s->vfs->unlink(s->vfs, path);
        }
    }
    closedir(d);
}

static size_t flush_threshold(size_t budget)
{
    /*
     * A buffered row costs sizeof(anpr_row) in the buffer and as much again
     * in the sort's spare array, both an eighth larger than the threshold
     * (writer_buffer_rows), and 4 bytes of index key in the part writer.
     * Fixed costs: the journal's unwritten bytes (at most
     * JOURNAL_WRITE_THRESHOLD) and the part writer's blocks and index
     * scratch (under 16 MiB). All of it stays inside the budget.
     */
    size_t fixed = JOURNAL_WRITE_THRESHOLD + ((size_t)16 << 20), per_row = 2 * sizeof(anpr_row) * 9 / 8 + 4;
    size_t n = budget > 2 * fixed ? (budget - fixed) / per_row : budget / (2 * per_row);
    return n < 1024 ? 1024 : n;
}

int anpr_writer_open(anpr_writer **out, anpr_store *s)
{
    if (!out) return ANPR_EINVAL;
    *out = NULL;
    if (!s) return ANPR_EINVAL;
    pthread_mutex_lock(&s->mu);
    int rc;
    anpr_writer *w = NULL;
    if (s->opts.flags & ANPR_OPEN_READONLY) {
        rc = store_set_error(s, ANPR_EREADONLY, "%s: opened read-only", s->dir);
        goto fail;
    }
    if (s->writer) {
        rc = store_set_error(s, ANPR_EBUSY, "%s: this handle already has a writer", s->dir);
        goto fail;
    }
    w = calloc(1, sizeof *w);
    if (!w) {
        rc = -ENOMEM;
        goto fail;
    }
    w->s = s;
    w->lock_fd = -1;
    pthread_cond_init(&w->synced_cv, NULL);
    pthread_mutex_init(&w->maint_mu, NULL);
    w->flush_rows = flush_threshold(s->opts.memory_budget);

    char path[4096];
    store_path(s, path, sizeof path, ANPR_LOCK_NAME);
    w->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (w->lock_fd < 0) {
        rc = store_set_error(s, -errno, "%s: open: %s", path, strerror(errno));
        goto fail;
    }
    /* flock belongs to this open file: a second writer, here or elsewhere, is refused. */
    if (flock(w->lock_fd, LOCK_EX | LOCK_NB) < 0) {
        rc = errno == EWOULDBLOCK
                 ? store_set_error(s, ANPR_ELOCKED, "%s: locked by another writer", s->dir)
                 : store_set_error(s, -errno, "%s: lock: %s", path, strerror(errno));
        goto fail;
    }
    /* Another process may have written since this handle read the manifest. */
    manifest fresh;
    rc = manifest_load(&fresh, s->vfs, s->dir, &s->err);
    if (rc < 0) goto fail;
    manifest_free(&s->man);
    s->man = fresh;
    remove_orphans(s);

    if (s->man.journal_gen == 0) {
        manifest next;
        rc = manifest_copy(&next, &s->man);
        if (rc < 0) goto fail;
        next.journal_gen = 1;
        rc = journal_create(&w->j, s->vfs, s->dir, 1, &s->err);
        if (rc == 0) rc = manifest_publish(&next, s->vfs, s->dir, &s->err);
        if (rc < 0) {
            manifest_free(&next);
            goto fail;
        }
        manifest_free(&s->man);
        s->man = next;
    } else {
        rc = journal_open(&w->j, s->vfs, s->dir, s->man.journal_gen, replay_rows, w, &w->journal_cut,
                          &s->err);
        if (rc < 0) goto fail;
    }
    journal_write(w->j, &w->written_end, NULL);
    w->synced_end = w->written_end;
    s->writer = w;
    pthread_mutex_unlock(&s->mu);
    *out = w;
    return ANPR_OK;
fail:
    if (w) {
        journal_close(w->j);
        if (w->lock_fd >= 0) close(w->lock_fd);
        pthread_cond_destroy(&w->synced_cv);
        pthread_mutex_destroy(&w->maint_mu);
        writer_release_buffers(w);
        free(w);
    }
    pthread_mutex_unlock(&s->mu);
    return rc;
}

int anpr_writer_append(anpr_writer *w, const anpr_read *reads, size_t n, size_t *accepted,
                       int *verdicts)
{
    if (accepted) *accepted = 0;
    if (!w || (!reads && n > 0)) return ANPR_EINVAL;
    anpr_store *s = w->s;
    pthread_mutex_lock(&s->mu);
    int rc = w->poisoned;
    if (rc < 0) goto out;
    rc = buffer_reserve(w, n);
    if (rc < 0) goto out;
    read_limits lim = {
        .max_ts_ms = anpr_now_ms() + s->opts.max_future_ms,
        .min_kept_ms = s->man.floor_day == MANIFEST_NO_FLOOR ? 0 : (int64_t)s->man.floor_day * ANPR_DAY_MS,
    };
    anpr_row *dst = w->rows + w->nrows;
    size_t good = 0, first_bad = n;
    for (size_t i = 0; i < n; i++) {
        int v = read_validate(&dst[good], &reads[i], &lim);
        if (verdicts) verdicts[i] = v;
        if (v == ANPR_READ_OK) good++;
        else if (first_bad == n) first_bad = i;
    }
    rc = journal_append(w->j, dst, good);
    if (rc < 0) goto out;
    w->nrows += good;
    if (accepted) *accepted = good;
    if (journal_pending(w->j) >= JOURNAL_WRITE_THRESHOLD) {
        /* Bound the memory a long run without commit holds; durability still waits for commit. */
        rc = journal_write(w->j, &w->written_end, &s->err);
        if (rc < 0) {
            w->poisoned = rc;
            goto out;
        }
    }
    if (w->nrows >= w->flush_rows) {
        rc = writer_flush_locked(w);
        if (rc < 0) goto out;
    }
    rc = ANPR_OK;
    if (first_bad < n) {
        int v = verdicts ? verdicts[first_bad] : ANPR_READ_OK;
        rc = store_set_error(s, ANPR_EBADREAD, "%zu of %zu reads refused; first at index %zu%s%s", n - good,
                             n, first_bad, verdicts ? ": " : "", verdicts ? anpr_verdict_str(v) : "");
    }
out:
    pthread_mutex_unlock(&s->mu);
    return rc;
}

int writer_commit_locked(anpr_writer *w)
{
    anpr_store *s = w->s;
    if (w->poisoned < 0) return w->poisoned;
    int rc = journal_write(w->j, &w->written_end, &s->err);
    if (rc < 0) {
        w->poisoned = rc;
        return rc;
    }
    uint64_t target = w->written_end;
    for (;;) {
        if (w->poisoned < 0) return w->poisoned;
        if (w->synced_end >= target) return ANPR_OK;
        if (!w->syncing) break;
        /* Another thread's fsync is under way; the next one will cover us too. */
        pthread_cond_wait(&w->synced_cv, &s->mu);
    }
    w->syncing = 1;
    uint64_t covering = w->written_end;
    journal *j = w->j;
    pthread_mutex_unlock(&s->mu);
    anpr_errmsg_buf err;
    rc = journal_sync(j, &err);
    pthread_mutex_lock(&s->mu);
    w->syncing = 0;
    if (rc < 0) {
        /*
         * After a failed fsync the kernel may have dropped the dirty pages:
         * retrying could report success for data that is gone. Poison the
         * writer; reopening replays only what reached the disk.
         */
        w->poisoned = rc;
        memcpy(s->err.text, err.text, sizeof err.text);
    } else if (covering > w->synced_end) {
        w->synced_end = covering;
        journal_mark_synced(w->j, covering);
    }
    pthread_cond_broadcast(&w->synced_cv);
    return rc < 0 ? rc : ANPR_OK;
}

int anpr_writer_commit(anpr_writer *w)
{
    if (!w) return ANPR_EINVAL;
    pthread_mutex_lock(&w->s->mu);
    int rc = writer_commit_locked(w);
    pthread_mutex_unlock(&w->s->mu);
    return rc;
}

int anpr_writer_flush(anpr_writer *w)
{
    if (!w) return ANPR_EINVAL;
    pthread_mutex_lock(&w->s->mu);
    int rc = writer_flush_locked(w);
    pthread_mutex_unlock(&w->s->mu);
    return rc;
}

void writer_drop_buffered_before(anpr_writer *w, int32_t day)
{
    size_t k = 0;
    for (size_t i = 0; i < w->nrows; i++)
        if (anpr_day_of(w->rows[i].ts_ms) >= day) w->rows[k++] = w->rows[i];
    w->nrows = k;
}

int anpr_writer_close(anpr_writer *w)
{
    if (!w) return ANPR_OK;
    anpr_store *s = w->s;
    pthread_mutex_lock(&s->mu);
    int rc = writer_commit_locked(w);
    while (w->syncing) pthread_cond_wait(&w->synced_cv, &s->mu);
    /*
     * The journal stays for the next writer to replay: sealed by a record
     * that vouches for all of it, with a recycled file's older records cut
     * off, so that the next open reads no further than its own. The spare
     * goes (a reopen would remove it as an orphan anyway).
     */
    if (rc == 0) rc = journal_finish(w->j, &s->err);
    if (w->spare_gen) store_unlink_journal(s, w->spare_gen);
    s->writer = NULL;
    pthread_mutex_unlock(&s->mu);
    /* The lock goes with the descriptor. */
    journal_close(w->j);
    close(w->lock_fd);
    pthread_cond_destroy(&w->synced_cv);
    pthread_mutex_destroy(&w->maint_mu);
    writer_release_buffers(w);
    free(w);
    return rc;
}
