/*
 * Little-endian loads and stores for on-disk structures. Every format in
 * docs/format.md is little-endian; these keep the code independent of the
 * host's byte order and of alignment.
 */
#ifndef ANPR_COMMON_BYTES_H
#define ANPR_COMMON_BYTES_H

#include <stdint.h>
#include <string.h>

/* memcpy compiles to one unaligned move; a swap only on a big-endian host. */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#define ANPR_LE16(x) __builtin_bswap16(x)
#define ANPR_LE32(x) __builtin_bswap32(x)
#define ANPR_LE64(x) __builtin_bswap64(x)
#else
#define ANPR_LE16(x) (x)
#define ANPR_LE32(x) (x)
#define ANPR_LE64(x) (x)
#endif

static inline void put_u16(uint8_t *p, uint16_t v)
{
    v = ANPR_LE16(v);
    memcpy(p, &v, sizeof v);
}
static inline void put_u32(uint8_t *p, uint32_t v)
{
    v = ANPR_LE32(v);
    memcpy(p, &v, sizeof v);
}
static inline void put_u64(uint8_t *p, uint64_t v)
{
    v = ANPR_LE64(v);
    memcpy(p, &v, sizeof v);
}
static inline uint16_t get_u16(const uint8_t *p)
{
    uint16_t v;
    memcpy(&v, p, sizeof v);
    return ANPR_LE16(v);
}
static inline uint32_t get_u32(const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, sizeof v);
    return ANPR_LE32(v);
}
static inline uint64_t get_u64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, sizeof v);
    return ANPR_LE64(v);
}
static inline void put_i32(uint8_t *p, int32_t v) { put_u32(p, (uint32_t)v); }
static inline void put_i64(uint8_t *p, int64_t v) { put_u64(p, (uint64_t)v); }
static inline int32_t get_i32(const uint8_t *p) { return (int32_t)get_u32(p); }
static inline int64_t get_i64(const uint8_t *p) { return (int64_t)get_u64(p); }

#endif
