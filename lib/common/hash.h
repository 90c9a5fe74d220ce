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

/* Inputs longer than this take XXH3's long path (XXH3_MIDSIZE_MAX). */
#define ANPR_CHECKSUM_SHORT 240

/* anpr_checksum of more than ANPR_CHECKSUM_SHORT bytes: checksum.c. */
uint64_t anpr_checksum_long(const void *p, size_t n);

/*
 * The checksum of every chunk, directory, footer, journal record and
 * manifest: XXH3, 64 bits. Short inputs are hashed inline; long ones by
 * anpr_checksum_long, which uses AVX2 where the CPU has it (the same value).
 */
static inline uint64_t anpr_checksum(const void *p, size_t n)
{
    if (n > ANPR_CHECKSUM_SHORT) return anpr_checksum_long(p, n);
    return (uint64_t)XXH3_64bits(p, n);
}

#endif
