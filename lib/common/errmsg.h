/*
 * A detailed error message kept on a handle (the store, a segment), so that
 * callers get "journal-3.log: record at offset 4096 fails its checksum"
 * besides the status code. Formatting never allocates.
 */
#ifndef ANPR_COMMON_ERRMSG_H
#define ANPR_COMMON_ERRMSG_H

#include <stddef.h>

#define ANPR_ERRMSG_SIZE 512

typedef struct anpr_errmsg_buf {
    char text[ANPR_ERRMSG_SIZE];
} anpr_errmsg_buf;

/* Sets the message and returns status, so that `return anpr_fail(e, st, ...)` reads naturally. */
int anpr_fail(anpr_errmsg_buf *e, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Put "prefix: " before the message already in e (or the status text if it is empty). */
int anpr_fail_prefix(anpr_errmsg_buf *e, int status, const char *prefix);

/* Copy a message into a caller's buffer (which may be NULL or of size 0). */
void anpr_errmsg_copy(char *dst, size_t dst_size, const char *msg);

#endif
