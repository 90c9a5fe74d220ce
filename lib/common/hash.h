/*
 * xxHash, inlined: plates are short and hashed on every append, where a call
 * into the shared library costs as much as the hash. The symbols are
 * namespaced so that a program linking its own xxHash does not collide.
 */
#ifndef ANPR_COMMON_HASH_H
#define ANPR_COMMON_HASH_H

#define XXH_INLINE_ALL
#define XXH_NAMESPACE anpr_
/*
 * GCC 12 cannot see that XXH3's short-input paths read only within the
 * length they were given, and warns about reads past a 16-byte plate.
 */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Warray-bounds"
#ifndef __clang__ /* clang has no such warning, and would warn about the name */
#pragma GCC diagnostic ignored "-Wstringop-overread"
#endif
#include <xxhash.h>
#pragma GCC diagnostic pop

#include <stddef.h>
#include <stdint.h>

/* The checksum of every chunk, directory, footer, journal record and manifest. */
static inline uint64_t anpr_checksum(const void *p, size_t n)
{
    return (uint64_t)XXH3_64bits(p, n);
}

#endif
