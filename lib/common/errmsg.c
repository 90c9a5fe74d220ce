#include "common/errmsg.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "anpr/anpr.h"

int anpr_fail(anpr_errmsg_buf *e, int status, const char *fmt, ...)
{
    if (e) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(e->text, sizeof e->text, fmt, ap);
        va_end(ap);
    }
    return status;
}

void anpr_errmsg_copy(char *dst, size_t dst_size, const char *msg)
{
    if (!dst || dst_size == 0) return;
    snprintf(dst, dst_size, "%s", msg ? msg : "");
}

int anpr_fail_prefix(anpr_errmsg_buf *e, int status, const char *prefix)
{
    if (!e) return status;
    char detail[ANPR_ERRMSG_SIZE];
    memcpy(detail, e->text, sizeof detail);
    detail[sizeof detail - 1] = '\0';
    int n = snprintf(e->text, sizeof e->text, "%s: %s", prefix, detail[0] ? detail : anpr_strerror(status));
    /* A message longer than the buffer is cut; the start names what failed, which matters most. */
    (void)(n >= (int)sizeof e->text);
    return status;
}
