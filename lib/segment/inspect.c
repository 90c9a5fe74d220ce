/* The public inspection API: one segment file opened on its own, over the real file system. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>

#include "anpr/segment.h"
#include "common/errmsg.h"
#include "segment/segment.h"

struct anpr_segment {
    anpr_source src;
    seg_reader *r;
    anpr_errmsg_buf err;
    char *path;
};

int anpr_segment_open(anpr_segment **out, const char *path, char *errbuf, size_t errbuf_size)
{
    if (!out) return ANPR_EINVAL;
    *out = NULL;
    anpr_errmsg_buf err = {{0}};
    if (!path) {
        anpr_errmsg_copy(errbuf, errbuf_size, "segment path is NULL");
        return ANPR_EINVAL;
    }
    anpr_segment *g = calloc(1, sizeof *g);
    if (!g) return -ENOMEM;
    g->src.vfs = anpr_vfs_posix();
    g->src.fd = g->src.vfs->open(g->src.vfs, path, O_RDONLY, 0);
    int rc = g->src.fd;
    if (rc >= 0) rc = g->src.vfs->fsize(g->src.vfs, g->src.fd, &g->src.size);
    if (rc < 0) {
        anpr_fail(&err, rc, "%s: %s", path, anpr_strerror(rc));
    } else {
        /* The reader keeps this handle's buffer for every later error it reports. */
        rc = seg_reader_open(&g->r, &g->src, &g->err);
        if (rc < 0) {
            anpr_fail_prefix(&g->err, rc, path);
            err = g->err;
        }
    }
    if (rc < 0) {
        anpr_errmsg_copy(errbuf, errbuf_size, err.text);
        anpr_segment_close(g);
        return rc;
    }
    *out = g;
    return ANPR_OK;
}

void anpr_segment_close(anpr_segment *g)
{
    if (!g) return;
    seg_reader_free(g->r);
    if (g->src.fd >= 0) g->src.vfs->close(g->src.vfs, g->src.fd);
    free(g);
}

const char *anpr_segment_errmsg(const anpr_segment *g)
{
    return g ? g->err.text : "no segment";
}

int anpr_segment_info_get(anpr_segment *g, anpr_segment_info *out)
{
    if (!g || !out) return ANPR_EINVAL;
    seg_reader_info(g->r, out);
    return ANPR_OK;
}

int anpr_segment_column(anpr_segment *g, unsigned col, anpr_column_info *out)
{
    if (!g || !out) return ANPR_EINVAL;
    return seg_reader_column_info(g->r, col, out);
}

int anpr_segment_block(anpr_segment *g, uint32_t block, anpr_block_info *out)
{
    if (!g || !out) return ANPR_EINVAL;
    return seg_reader_block_info(g->r, block, out);
}

int anpr_segment_verify(anpr_segment *g)
{
    if (!g) return ANPR_EINVAL;
    g->err.text[0] = '\0';
    return seg_reader_verify(g->r);
}

int anpr_segment_rows(anpr_segment *g, uint32_t block, anpr_row *out, size_t *n)
{
    if (!g || !out || !n) return ANPR_EINVAL;
    g->err.text[0] = '\0';
    return seg_reader_read_block(g->r, block, out, n);
}
