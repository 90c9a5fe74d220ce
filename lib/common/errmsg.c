#include "common/errmsg.h"

#include <stdarg.h>
#include <stdio.h>

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
