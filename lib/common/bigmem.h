/*
 * Large working buffers (the writer's buffer of reads and the flush's sort
 * array, hundreds of MiB): mapped directly and marked for transparent huge
 * pages where the system allows, so that filling one takes a page fault
 * every 2 MiB instead of every 4 KiB. On a virtual machine a fault costs
 * microseconds, and 4 KiB faults were a tenth of the ingest time.
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
