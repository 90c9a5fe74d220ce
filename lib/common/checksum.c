/*
 * XXH3 over long inputs (chunks, directories), with AVX2 where the CPU has
 * it. The library is built for any x86-64, where XXH3 is compiled for
 * SSE2: 19 GB/s on the benchmark machine against 58 with AVX2, and a plate
 * history checksums every block it reads (a tenth of its time with SSE2).
 * Both give the same value; checksum_avx2.c holds the AVX2 copy.
 */
#include "common/hash.h"

#if defined(__x86_64__) && defined(__GNUC__)
uint64_t anpr_checksum_avx2(const void *p, size_t n); /* checksum_avx2.c */
#define HAVE_AVX2_COPY 1
#endif

uint64_t anpr_checksum_long(const void *p, size_t n)
{
#ifdef HAVE_AVX2_COPY
    if (__builtin_cpu_supports("avx2")) return anpr_checksum_avx2(p, n);
#endif
    return (uint64_t)XXH3_64bits(p, n);
}
