/*
 * xxHash, inlined: plates are short and hashed on every append, where a call
 * into the shared library costs as much as the hash. The symbols are
 * namespaced so that a program linking its own xxHash does not collide.
 */
#ifndef ANPR_COMMON_HASH_H
#define ANPR_COMMON_HASH_H

#define XXH_INLINE_ALL
#define XXH_NAMESPACE anpr_
#include <xxhash.h>

#include <stddef.h>
#include <stdint.h>

/* The checksum of every chunk, directory, footer, journal record and manifest. */
static inline uint64_t anpr_checksum(const void *p, size_t n)
{
    return (uint64_t)XXH3_64bits(p, n);
}

#endif
