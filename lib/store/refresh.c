/*
 * A store handle without the writer (another process's reader, or a
 * read-only tool) follows the store from disk: before a query, at most once
 * per refresh interval, it reads the manifest again and the part of the
 * live journal it has not seen yet. So a read the writer has committed is
 * seen by other processes within the interval (and one written but not yet
 * committed may be seen too). The journal is only read, never cut: a torn
 * tail is the writer's to deal with.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "read/read.h"
#include "store/store.h"

static int64_t monotonic_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static int keep_tail_rows(void *ctx, const anpr_row *rows, size_t n)
{
    anpr_store *s = ctx;
    int rc = rows_reserve(&s->tail, &s->tail_cap, s->ntail, n);
    if (rc < 0) return rc;
    for (size_t i = 0; i < n; i++)
        if (manifest_keeps_day(&s->man, anpr_day_of(rows[i].ts_ms))) s->tail[s->ntail++] = rows[i];
    return 0;
}

/*
 * Tail rows below the floor go (mu held): an expiry raises the floor without
 * starting a new journal, so rows kept from it before the expiry would
 * otherwise still answer for a day the store has dropped.
 */
static void drop_tail_below_floor(anpr_store *s)
{
    size_t kept = 0;
    for (size_t i = 0; i < s->ntail; i++)
        if (manifest_keeps_day(&s->man, anpr_day_of(s->tail[i].ts_ms))) s->tail[kept++] = s->tail[i];
    s->ntail = kept;
}

/* Read the manifest again; swap it in if it moved on (mu held). */
static int reload_manifest(anpr_store *s)
{
    manifest m;
    int rc = manifest_load(&m, s->vfs, s->dir, &s->err);
    if (rc < 0) return rc;
    if (m.generation == s->man.generation) {
        manifest_free(&m);
        return 0;
    }
    manifest_free(&s->man);
    s->man = m;
    drop_tail_below_floor(s);
    return 0;
}

int store_refresh(anpr_store *s, int force)
{
    pthread_mutex_lock(&s->mu);
    int rc = 0;
    int64_t now = monotonic_ms();
    if (s->writer || (!force && s->refreshed_at && now - s->refreshed_at < (int64_t)s->opts.refresh_ms)) goto out;
    for (int tries = 0; tries < 8; tries++) {
        rc = reload_manifest(s);
        if (rc < 0) break;
        if (s->man.journal_gen != s->tail_gen) {
            /* A flush started a new journal: the old one's reads are in the parts the manifest names now. */
            s->ntail = 0;
            s->tail_off = 0;
            s->tail_gen = s->man.journal_gen;
        }
        if (s->tail_gen == 0) break;
        rc = journal_read_tail(s->vfs, s->dir, s->tail_gen, &s->tail_off, keep_tail_rows, s, &s->err);
        if (rc != -ENOENT) break;
        /* The journal went between reading the manifest and opening it: read the manifest again. */
    }
    if (rc == 0) s->refreshed_at = now;
out:
    pthread_mutex_unlock(&s->mu);
    return rc;
}
