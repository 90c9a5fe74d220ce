/*
 * Flush: the buffered reads become one part file per UTC day, the journal
 * that held them is replaced by an empty one, and one manifest publish
 * makes both changes at once. A crash before that publish leaves the old
 * manifest, whose journal still holds every read; after it, the parts do.
 * The replaced journal is kept as the spare that the next flush recycles
 * into its new journal (journal_recycle: rewriting pages the page cache
 * holds instead of filling new ones).
 */
#include "store/store.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "read/read.h"

int writer_flush_locked(anpr_writer *w)
{
    anpr_store *s = w->s;
    int rc = writer_commit_locked(w);
    /*
     * Our reads may be durable while another thread's fsync of this journal
     * (for reads appended after ours) is still in flight, the lock released:
     * the journal must not be closed and replaced under it, nor its
     * offsets mixed with the new journal's. Wait for it to land.
     */
    while (rc == 0 && w->syncing) pthread_cond_wait(&w->synced_cv, &s->mu);
    if (rc == 0 && w->poisoned < 0) rc = w->poisoned;
    if (rc < 0) return rc;
    s->err.text[0] = '\0';

    rc = rows_sort_dedup(&w->rows, &w->nrows, &w->cap, &w->sort);
    if (rc < 0) return rc;
    size_t n = w->nrows;

    manifest next;
    rc = manifest_copy(&next, &s->man);
    if (rc < 0) return rc;
    uint64_t first_new_id = next.next_id;
    journal *nj = NULL;

    for (size_t i = 0; i < n;) {
        int32_t day = anpr_day_of(w->rows[i].ts_ms);
        size_t j = i;
        while (j < n && anpr_day_of(w->rows[j].ts_ms) == day) j++;
        /* Retention may have dropped the day after these reads were accepted: they stay dropped. */
        if (manifest_keeps_day(&next, day)) {
            store_file_out fo;
            rc = store_file_begin(s, &fo, day, MANIFEST_PART, next.next_id++, &s->err);
            if (rc == 0) {
                rc = store_file_add(&fo, w->rows + i, j - i, &s->err);
                if (rc == 0) rc = store_file_finish(&fo, &s->err);
                else store_file_abort(&fo);
            }
            if (rc == 0) rc = manifest_add(&next, &fo.f);
            if (rc < 0) goto undo;
        }
        i = j;
    }
    uint64_t old_gen = s->man.journal_gen;
    next.journal_gen = old_gen + 1;
    if (w->spare_gen) {
        /* On failure the spare is gone, not the flush: a new file serves as well. */
        rc = journal_recycle(&nj, s->vfs, s->dir, next.journal_gen, w->spare_gen, &s->err);
        w->spare_gen = 0;
    }
    if (!nj) {
        rc = journal_create(&nj, s->vfs, s->dir, next.journal_gen, &s->err);
        if (rc == 0) s->err.text[0] = '\0';
    }
    if (rc < 0) goto undo;
    rc = manifest_publish(&next, s->vfs, s->dir, &s->err);
    if (rc < 0) {
        if (next.generation != s->man.generation) {
            /* Renamed but not known durable: the store's state is unsure until a reopen. */
            w->poisoned = rc;
            manifest_free(&s->man);
            s->man = next;
            journal_close(w->j);
            w->j = nj;
            w->nrows = 0;
            return rc;
        }
        goto undo;
    }
    manifest_free(&s->man);
    s->man = next;
    journal_close(w->j);
    w->spare_gen = old_gen;
    w->j = nj;
    w->nrows = 0;
    w->written_end = w->synced_end = JOURNAL_HEADER_SIZE;
    /* Give back a buffer that one huge batch grew past its steady size. */
    if (w->cap > writer_buffer_rows(w)) writer_release_buffers(w);
    return ANPR_OK;
undo:
    /* Nothing refers to the new files yet; remove them so the directory holds only live ones. */
    for (size_t i = 0; i < next.nfiles; i++)
        if (next.files[i].id >= first_new_id) store_unlink_file(s, &next.files[i]);
    if (nj) {
        journal_close(nj);
        store_unlink_journal(s, next.journal_gen);
    }
    manifest_free(&next);
    return rc;
}
