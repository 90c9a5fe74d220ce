#include "io/publish.h"

#include <fcntl.h>
#include <stdio.h>

#include "anpr/anpr.h"

int anpr_publish_begin(anpr_publish *p, const anpr_vfs *vfs, const char *dir, const char *name,
                       anpr_errmsg_buf *err)
{
    p->vfs = vfs;
    p->sink.vfs = vfs;
    p->sink.fd = -1;
    p->sink.off = 0;
    p->sink.started = 0;
    if ((size_t)snprintf(p->tmp_path, sizeof p->tmp_path, "%s/" ANPR_TMP_PREFIX "%s", dir, name) >=
            sizeof p->tmp_path ||
        (size_t)snprintf(p->final_path, sizeof p->final_path, "%s/%s", dir, name) >= sizeof p->final_path)
        return anpr_fail(err, ANPR_EINVAL, "%s: path too long", dir);
    int fd = vfs->open(vfs, p->tmp_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) return anpr_fail(err, fd, "%s: create: %s", p->tmp_path, anpr_strerror(fd));
    p->sink.fd = fd;
    return ANPR_OK;
}

int anpr_publish_commit(anpr_publish *p, anpr_errmsg_buf *err)
{
    const anpr_vfs *vfs = p->vfs;
    int rc = vfs->fsync(vfs, p->sink.fd);
    if (rc < 0) {
        anpr_fail(err, rc, "%s: fsync: %s", p->tmp_path, anpr_strerror(rc));
        anpr_publish_abort(p);
        return rc;
    }
    rc = vfs->close(vfs, p->sink.fd);
    p->sink.fd = -1;
    if (rc < 0) {
        anpr_fail(err, rc, "%s: close: %s", p->tmp_path, anpr_strerror(rc));
        anpr_publish_abort(p);
        return rc;
    }
    rc = vfs->rename(vfs, p->tmp_path, p->final_path);
    if (rc < 0) {
        anpr_fail(err, rc, "rename %s to %s: %s", p->tmp_path, p->final_path, anpr_strerror(rc));
        anpr_publish_abort(p);
        return rc;
    }
    return ANPR_OK;
}

void anpr_publish_abort(anpr_publish *p)
{
    if (p->sink.fd >= 0) p->vfs->close(p->vfs, p->sink.fd);
    p->sink.fd = -1;
    p->vfs->unlink(p->vfs, p->tmp_path);
}
