/* Large buffers straight from mmap, with a transparent huge page hint. */
#define _GNU_SOURCE
#include "common/bigmem.h"

#include <sys/mman.h>

static void hint_huge(void *p, size_t bytes)
{
#ifdef MADV_HUGEPAGE
    /* Only a hint: refused (no THP in the kernel, or "never") it changes nothing. */
    (void)madvise(p, bytes, MADV_HUGEPAGE);
#else
    (void)p;
    (void)bytes;
#endif
}

void *big_alloc(size_t bytes)
{
    if (bytes == 0) bytes = 1;
    void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return NULL;
    hint_huge(p, bytes);
    return p;
}

void *big_realloc(void *p, size_t old_bytes, size_t new_bytes)
{
    if (!p) return big_alloc(new_bytes);
    if (new_bytes == 0) new_bytes = 1;
    /* mremap moves the pages, not their contents: no copy, whatever the size. */
    void *q = mremap(p, old_bytes ? old_bytes : 1, new_bytes, MREMAP_MAYMOVE);
    if (q == MAP_FAILED) return NULL;
    hint_huge(q, new_bytes);
    return q;
}

void big_free(void *p, size_t bytes)
{
    if (p) munmap(p, bytes ? bytes : 1);
}
