/* Large buffers straight from mmap, grown with mremap. */
#define _GNU_SOURCE
#include "common/bigmem.h"

#include <sys/mman.h>

void *big_alloc(size_t bytes)
{
    if (bytes == 0) bytes = 1;
    void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

void *big_realloc(void *p, size_t old_bytes, size_t new_bytes)
{
    if (!p) return big_alloc(new_bytes);
    if (new_bytes == 0) new_bytes = 1;
    /* mremap moves the pages, not their contents: no copy, whatever the size. */
    void *q = mremap(p, old_bytes ? old_bytes : 1, new_bytes, MREMAP_MAYMOVE);
    return q == MAP_FAILED ? NULL : q;
}

void big_free(void *p, size_t bytes)
{
    if (p) munmap(p, bytes ? bytes : 1);
}
