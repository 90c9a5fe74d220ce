/*
 * Publishing a file so that a crash leaves either the old state or the new,
 * never a torn file under the final name: write it under a temporary name,
 * fsync it, rename it into place, fsync the directory.
 */
#ifndef ANPR_IO_PUBLISH_H
#define ANPR_IO_PUBLISH_H

#include "common/errmsg.h"
#include "io/vfs.h"

/* Prefix of every temporary file; a writer deletes leftovers when it opens. */
#define ANPR_TMP_PREFIX ".tmp-"

typedef struct anpr_publish {
    const anpr_vfs *vfs;
    char tmp_path[4096];
    char final_path[4096];
    anpr_sink sink;  /* write the file's bytes through this */
} anpr_publish;

/* Create dir/.tmp-name for writing. */
int anpr_publish_begin(anpr_publish *p, const anpr_vfs *vfs, const char *dir, const char *name,
                       anpr_errmsg_buf *err);

/*
 * fsync the temporary file, close it and rename it to dir/name. The
 * directory itself is not synced here (callers publishing several files sync
 * it once, with anpr_vfs->fsync_dir, before anything refers to them).
 * On failure the temporary file is removed.
 */
int anpr_publish_commit(anpr_publish *p, anpr_errmsg_buf *err);

/* Give up: close and remove the temporary file. Safe after a failed commit. */
void anpr_publish_abort(anpr_publish *p);

#endif
