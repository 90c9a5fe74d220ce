/*
 * XXH3 compiled for AVX2, for anpr_checksum_long (checksum.c) to call on
 * CPUs that have it. A translation unit of its own, so that no other code
 * is compiled for AVX2, and xxHash under a namespace of its own, so that
 * its inlined functions cannot be mistaken for checksum.c's SSE2 ones.
 * Built on x86-64 only (lib/common/meson.build).
 */
#include <stddef.h>
#include <stdint.h>

#ifdef __clang__
#pragma clang attribute push(__attribute__((target("avx2"))), apply_to = function)
#else
#pragma GCC push_options
#pragma GCC target("avx2")
#endif

#include <immintrin.h> /* clang does not define __AVX2__ for the pragma, so xxhash.h would not include it */
#define XXH_INLINE_ALL
#define XXH_NAMESPACE anpr_avx2_
#define XXH_VECTOR XXH_AVX2
#include <xxhash.h>

uint64_t anpr_checksum_avx2(const void *p, size_t n);

uint64_t anpr_checksum_avx2(const void *p, size_t n)
{
    return (uint64_t)XXH3_64bits(p, n);
}

#ifdef __clang__
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif
