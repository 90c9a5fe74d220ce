/*
 * Expiry: whole UTC days leave the store at once. One manifest publish
 * raises the floor below which days are refused and drops their files; the
 * files are then unlinked (queries that opened them keep reading them), and
 * the buffered reads of those days are dropped (the journal's copies are
 * skipped on replay, as they are below the floor).
 */
#include "store/store.h"

#include "read/read.h"

/* Drop every day before `cutoff` (mu held). ANPR_OK if there was nothing to drop. */
static int drop_days_before(anpr_writer *w, int32_t cutoff)
{
    anpr_store *s = w->s;
    if (s->man.floor_day != MANIFEST_NO_FLOOR && cutoff <= s->man.floor_day) return ANPR_OK;
    manifest next;
    int rc = manifest_copy(&next, &s->man);
    if (rc < 0) return rc;
    next.floor_day = cutoff;
    size_t kept = 0;
    for (size_t i = 0; i < next.nfiles; i++)
        if (next.files[i].day >= cutoff) next.files[kept++] = next.files[i];
    next.nfiles = kept;
    rc = manifest_publish(&next, s->vfs, s->dir, &s->err);
    if (rc < 0 && next.generation == s->man.generation) {
        manifest_free(&next);
        return rc;
    }
    if (rc < 0) w->poisoned = rc; /* renamed, not known durable */
    for (size_t i = 0; i < s->man.nfiles; i++)
        if (s->man.files[i].day < cutoff) store_unlink_file(s, &s->man.files[i]);
    manifest_free(&s->man);
    s->man = next;
    writer_drop_buffered_before(w, cutoff);
    return rc;
}

int retention_apply(anpr_writer *w, int64_t now_ms)
{
    anpr_store *s = w->s;
    if (s->opts.retention_days == 0) return ANPR_OK;
    pthread_mutex_lock(&s->mu);
    /* A read stamped in the future must not make the store look older than it is. */
    int64_t newest = INT64_MIN;
    for (size_t i = 0; i < s->man.nfiles; i++)
        if (s->man.files[i].rows && s->man.files[i].max_ts_ms > newest) newest = s->man.files[i].max_ts_ms;
    for (size_t i = 0; i < w->nrows; i++)
        if (w->rows[i].ts_ms > newest) newest = w->rows[i].ts_ms;
    int rc = ANPR_OK;
    if (newest != INT64_MIN) {
        int64_t ref = newest < now_ms ? newest : now_ms;
        rc = drop_days_before(w, anpr_day_of(ref) - (int32_t)s->opts.retention_days + 1);
    }
    pthread_mutex_unlock(&s->mu);
    return rc;
}

int anpr_writer_expire(anpr_writer *w, int64_t before_ms)
{
    if (!w) return ANPR_EINVAL;
    anpr_store *s = w->s;
    pthread_mutex_lock(&s->mu);
    int rc = w->poisoned;
    /* Day d ends at (d + 1) * 86400000: it goes when that is at or before before_ms. */
    if (rc == 0 && before_ms >= ANPR_DAY_MS) rc = drop_days_before(w, anpr_day_of(before_ms));
    pthread_mutex_unlock(&s->mu);
    return rc;
}
