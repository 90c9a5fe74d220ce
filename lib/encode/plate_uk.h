/*
 * The UK plate packing that plate-uk, plate-split and plate-shapes share
 * (docs/format.md, "plate-uk"), and that the finder compares against: a
 * plate in the current GB format as one 30-bit value; any other as its
 * long form, a length, a shape (which characters are letters) and its
 * characters in mixed-radix chunks.
 */
#ifndef ANPR_ENCODE_PLATE_UK_H
#define ANPR_ENCODE_PLATE_UK_H

#include <stddef.h>
#include <stdint.h>

#include "encode/bitpack.h"

/*
 * The current GB format, AB12CDE: a memory tag of two letters other than
 * I, Q and Z, a two-digit age identifier, and three random letters other
 * than I and Q. Mixed radix 23 * 23 * 100 * 24 * 24 * 24 = 731,289,600
 * values, so 30 bits. The alphabets are DVLA rules, not guesses.
 */
#define UK_CURRENT_BITS 30
#define UK_CURRENT_VALUES UINT32_C(731289600)

/*
 * plate-age keeps a current-format value in two parts: its letters, the
 * value without the age identifier (23 * 23 * 24 * 24 * 24 = 7,312,896
 * values, so 23 bits), and its age (0..99) apart. A block's plates have a
 * few dozen ages between them (two a year of registrations on the road),
 * which fit fewer bits than the radix 100's 6.6; the letters are uniformly
 * random and need their 22.8 bits.
 */
#define UK_AGES 100
#define UK_AGE_BITMAP_BYTES 13 /* a bit an age, 0..99 */
#define UK_LETTERS_BITS 23
#define UK_LETTERS_VALUES UINT32_C(7312896)
#define UK_RAND_VALUES 13824u /* 24 * 24 * 24: the three random letters */

/* The letters and the age of a current-format value v. */
static inline uint32_t uk_value_letters(uint32_t v)
{
    return v / (100 * UK_RAND_VALUES) * UK_RAND_VALUES + v % UK_RAND_VALUES;
}

static inline uint32_t uk_value_age(uint32_t v)
{
    return v / UK_RAND_VALUES % 100;
}

/* The current-format value of letters u (below UK_LETTERS_VALUES) and an age below 100. */
static inline uint32_t uk_value_join(uint32_t u, uint32_t age)
{
    return (u / UK_RAND_VALUES * 100 + age) * UK_RAND_VALUES + u % UK_RAND_VALUES;
}

/* '0'-'9' are 0..9, 'A'-'Z' are 10..35; -1 for anything else. */
static inline int plate_char_code(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'Z') return c - 'A' + 10;
    return -1;
}

static inline int plate_is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* The 30-bit value of a current-format plate, or -1 if the plate is not one. */
int64_t uk_current_value(const char *p, size_t len);
/* The plate of value v (below UK_CURRENT_VALUES) into p[0..7). */
void uk_current_plate(char *p, uint32_t v);
/* The same from plate-age's parts: letters u (below UK_LETTERS_VALUES) and an age below 100. */
void uk_letters_plate(char *p, uint32_t u, uint32_t age);
/* May character c stand at position pos (0..6) of a current-format plate? */
int uk_current_allows(size_t pos, char c);

/* The shape of a plate (bit k set when character k is a letter), or -1 for a character that is neither. */
int64_t uk_plate_shape(const char *p, size_t len);
/* Bits of a long form after plate-uk's kind bit, from its length and shape: 4 + len, then each chunk's width. */
size_t uk_other_bits(uint32_t len, uint32_t shape);

/*
 * uk_other_bits for every plate of up to 8 characters, indexed by its
 * first 12 bits (plate_other_bits.h): a finder walking long forms looks
 * each one's size up in one step.
 */
extern const uint8_t uk_other_bits_short[4096];

/*
 * The same from the stream's next bits (a plate's length, then its shape):
 * one table lookup for a plate of up to 8 characters, the walk of its
 * chunks for a longer one; 0 for length 0, which no plate has.
 */
static inline size_t uk_other_size(uint64_t head)
{
    size_t bits = uk_other_bits_short[head & 0xFFF];
    uint32_t len = (uint32_t)(head & 15);
    if (bits || len == 0) return bits;
    return uk_other_bits(len, (uint32_t)(head >> 4) & ((UINT32_C(1) << len) - 1));
}

/* A long form's characters (its chunks), for its length and shape. */
int uk_encode_chunks(bit_writer *bw, const char *p, size_t len, uint32_t shape);
/*
 * The chunks of a long form of length len and shape shape, into p (zeroed
 * first); ANPR_ECORRUPT for a chunk past its radixes or a plate in the
 * current format. With want, decoding stops at the first character (last
 * first) that differs from want's ('?' in want matching any, and the
 * plate's character folded first with fold): 0 then, with the reader
 * inside the plate; 1 for a plate decoded whole.
 */
int uk_decode_chunks(bit_reader *br, uint32_t len, uint32_t shape, char *p, const char *want, int fold);

/* plate-uk's long form after its kind bit: 4-bit length, shape, chunks. ANPR_EINVAL for a bad character. */
int uk_encode_other(bit_writer *bw, const char *p, size_t len);
/* uk_decode_chunks for a long form whose length and shape the reader holds first. */
int uk_decode_other_as(bit_reader *br, char *p, const char *want, int fold);
int uk_decode_other(bit_reader *br, char *p);

/* One plate of plate-uk's stream: its kind bit, then its value or its long form. */
int uk_encode_one(bit_writer *bw, const char *p, size_t len);
int uk_decode_one(bit_reader *br, char *p);

#endif
