/* The growable byte buffer every encoder appends to. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "encode/encode.h"

int enc_buf_reserve(enc_buf *b, size_t more)
{
    if (b->cap - b->len >= more) return 0;
    size_t ncap = b->cap ? b->cap : 256;
    while (ncap - b->len < more) {
        if (ncap > SIZE_MAX / 2) return -ENOMEM;
        ncap *= 2;
    }
    uint8_t *p = realloc(b->data, ncap);
    if (!p) return -ENOMEM;
    b->data = p;
    b->cap = ncap;
    return 0;
}

int enc_buf_append(enc_buf *b, const void *p, size_t n)
{
    int rc = enc_buf_reserve(b, n);
    if (rc < 0) return rc;
    if (n) memcpy(b->data + b->len, p, n);
    b->len += n;
    return 0;
}

void enc_buf_free(enc_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}
