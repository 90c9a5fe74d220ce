/*
 * Large working buffers (the writer's buffer of reads and the flush's sort
 * array, hundreds of MiB): mapped directly, so that freeing one gives it
 * back to the system and growing one (mremap) copies nothing.
 *
 * They are not marked for transparent huge pages any more. On this
 * project's virtual machines the guest reports free memory to the host in
 * blocks of 2 MiB (virtio-balloon free page reporting) and the host takes
 * it back, so a huge page is often such a block, and its first touch then
 * costs the host's faults: about 4 s a GiB, where 4 KiB pages (mostly
 * memory the guest had kept) cost 0.6 to 0.9 s (bench/first_touch;
 * docs/performance.md, "What a fresh writer pays once").
 *
 * Sizes are in bytes and the caller keeps them: free and realloc need the
 * size the block has now. All return NULL on failure (realloc leaves p as it was).
 */
#ifndef ANPR_COMMON_BIGMEM_H
#define ANPR_COMMON_BIGMEM_H

#include <stddef.h>

void *big_alloc(size_t bytes);
void *big_realloc(void *p, size_t old_bytes, size_t new_bytes);
void big_free(void *p, size_t bytes);

#endif
