/* Writing one new segment or part file of the store, published by temp name and rename. */
#include <string.h>

#include "store/store.h"

int store_file_begin(anpr_store *s, store_file_out *fo, int32_t day, uint8_t kind, uint64_t id,
                     anpr_errmsg_buf *err)
{
    memset(fo, 0, sizeof *fo);
    fo->f.id = id;
    fo->f.day = day;
    fo->f.kind = kind;
    fo->pub.sink.fd = -1;
    char name[64];
    manifest_file_name(name, sizeof name, &fo->f);
    int rc = anpr_publish_begin(&fo->pub, s->vfs, s->dir, name, err);
    if (rc < 0) return rc;
    rc = seg_writer_new(&fo->sw, &fo->pub.sink, day, s->opts.compression_level, s->opts.block_rows, err);
    if (rc == 0) rc = seg_writer_set_index_density(fo->sw, s->opts.index_density);
    if (rc < 0) {
        seg_writer_free(fo->sw);
        fo->sw = NULL;
        anpr_publish_abort(&fo->pub);
        fo->pub.sink.fd = -1;
    }
    return rc;
}

int store_file_add(store_file_out *fo, const anpr_row *rows, size_t n, anpr_errmsg_buf *err)
{
    int rc = seg_writer_add(fo->sw, rows, n);
    if (rc < 0) anpr_fail(err, rc, "%s: writing: %s", fo->pub.final_path, anpr_strerror(rc));
    return rc;
}

int store_file_finish(store_file_out *fo, anpr_errmsg_buf *err)
{
    seg_write_summary sum;
    int rc = seg_writer_finish(fo->sw, &sum);
    seg_writer_free(fo->sw);
    fo->sw = NULL;
    if (rc < 0) {
        anpr_fail(err, rc, "%s: writing: %s", fo->pub.final_path, anpr_strerror(rc));
        anpr_publish_abort(&fo->pub);
        return rc;
    }
    fo->f.rows = sum.rows;
    fo->f.bytes = sum.bytes;
    fo->f.min_ts_ms = sum.min_ts_ms;
    fo->f.max_ts_ms = sum.max_ts_ms;
    return anpr_publish_commit(&fo->pub, err);
}

void store_file_abort(store_file_out *fo)
{
    seg_writer_free(fo->sw);
    fo->sw = NULL;
    if (fo->pub.vfs) anpr_publish_abort(&fo->pub);
}
