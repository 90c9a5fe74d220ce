/*
 * plate-split, plate-shapes, plate-age and plate-rrr (docs/format.md): the
 * plates of a block in parts, the current-format plates' 30-bit values as
 * one array (plate-age: their letters' 23 bits, and their ages apart) and
 * the others (long forms) after them, in a stream (plate-split) or grouped
 * by length and shape (plate-shapes, plate-age); plate-rrr codes the bitmap
 * that tells them apart in fewer bits. The layouts, their encoders and
 * decoders; the finder (plate_find.c) searches the same parts.
 */
#ifndef ANPR_ENCODE_PLATE_SPLIT_H
#define ANPR_ENCODE_PLATE_SPLIT_H

#include <stddef.h>
#include <stdint.h>

#include "anpr/anpr.h"
#include "common/bytes.h"
#include "encode/bitmap_rrr.h"
#include "encode/bitpack.h"
#include "encode/encode.h"
#include "encode/plate_uk.h"

/*
 * How plate-age keeps each current-format value's age (the `aged` argument
 * below): not apart (plate-split, plate-shapes), as a rank of fixed width
 * (plate-age), or ranks packed in mixed radix (plate-age-radix: a block of
 * the traffic holds 38 ages, whose ranks take 6 bits at a fixed width and
 * 5.3 in groups of ten, 53 bits each).
 */
enum { AGES_NONE = 0, AGES_FIXED = 1, AGES_RADIX = 2, AGES_KIND = 3 };
/*
 * Added to AGES_RADIX for plate-rrr: the bitmap of the plates outside the
 * current format as each 64-row word's number of ones (its class) and its
 * rank among the words of that class, 0.65 bit a row where the bitmap
 * takes 1 (a block of the traffic has 14 % of its rows set).
 */
#define SPLIT_RRR 4
/*
 * Added to AGES_RADIX | SPLIT_RRR for plate-part (format 11): the letters
 * of the current-format plates kept in PART_COUNT parts by their value mod
 * PART_COUNT (the last letter's place in the alphabet, in effect), each
 * part in PART_BITS a value, with a part id a plate giving back the row
 * order (the same 23 bits a plate), and a table at the chunk's start of the
 * parts' sizes and checksums: a search reads and checks only the part its
 * code falls in, an eighth of the letters (plate_part.c).
 */
#define SPLIT_PARTS 8
#define PART_COUNT 8
#define PART_SHIFT 3                                 /* log2(PART_COUNT): a part id's bits */
#define PART_BITS (UK_LETTERS_BITS - PART_SHIFT)     /* 20 */
#define PART_LIMIT (UK_LETTERS_VALUES / PART_COUNT)  /* 914,112: UK_LETTERS_VALUES is a multiple of 8 */
#define PART_COUNT_MAX 65535u                        /* a part's letters, as its u16 in the table */

/*
 * The ages of plate encoding id, and how its bitmap is kept: AGES_FIXED for
 * plate-age, AGES_RADIX for plate-age-radix, AGES_RADIX | SPLIT_RRR for
 * plate-rrr, that and SPLIT_PARTS for plate-part, else AGES_NONE. Zero or not, it says whether the values are
 * letters with their ages apart.
 */
static inline int split_ages(unsigned id)
{
    return id == ENC_PLATE_AGE         ? AGES_FIXED
           : id == ENC_PLATE_AGE_RADIX ? AGES_RADIX
           : id == ENC_PLATE_RRR       ? AGES_RADIX | SPLIT_RRR
           : id == ENC_PLATE_PART      ? AGES_RADIX | SPLIT_RRR | SPLIT_PARTS
                                       : AGES_NONE;
}

/*
 * A group of ranks is a number below 2^AGE_RADIX_BITS: read in one look,
 * and with A ages at most 100 its quotient by A comes exactly from a
 * multiplication (ages_div).
 */
#define AGE_RADIX_BITS 56
#define AGE_RADIX_MAX_K 56 /* ranks a group holds with A = 2 */

/* plate-age-radix's groups of n0 ranks among A ages (docs/format.md): what the encoder and the reader share. */
typedef struct radix_layout {
    unsigned k;                      /* ranks a full group */
    unsigned group_bits, last_bits;  /* bits of a full group's number, and of the last group's (0 when none) */
    size_t full_groups;              /* n0 / k */
    uint64_t full_limit, last_limit; /* A^k and A^(n0 % k): each group's number is below its own */
} radix_layout;

/*
 * plate-split: a bitmap of the plates not in the current format, then the
 * others' 30-bit values, then the others in plate-uk's long form without
 * the kind bit; each part padded to a byte. A finder compares the values
 * as one fixed-width array.
 */
typedef struct split_parts {
    size_t n;              /* rows */
    const uint8_t *bitmap; /* n bits: 1 = not in the current format; NULL for plate-rrr's */
    /*
     * plate-rrr's bitmap: word k's class (the ones among its rows 64k ..),
     * read out at open, and the offsets (each word's rank among the words of
     * its rows and class), in the bits its class gives (bitmap_rrr.h).
     */
    const uint8_t *offsets;
    size_t offsets_len;
    uint8_t word_class[RRR_MAX_WORDS];
    const uint8_t *values; /* n0 values of width bits, each below limit */
    size_t values_len;
    unsigned width;        /* UK_CURRENT_BITS; plate-age: UK_LETTERS_BITS, the values without their age */
    uint32_t limit;
    /*
     * plate-age (n0 > 0): each value's age identifier as its rank among the
     * block's, in age_width bits; plate-age-radix: in the groups of radix,
     * each group the number sum of rank * nages^i (i its place in the group).
     */
    const uint8_t *ranks;  /* NULL otherwise */
    size_t ranks_len;
    unsigned nages, age_width;
    uint8_t age_at[UK_AGES]; /* the block's ages by rank, from its bitmap of them */
    int radix;
    radix_layout layout;
    uint64_t div_magic; /* floor(2^64 / nages) + 1, for ages_div */
    /* The last group read, its ranks in order: readers mostly ask for ranks in increasing order. */
    size_t group_at;                 /* SIZE_MAX: none yet */
    uint8_t group_ranks[AGE_RADIX_MAX_K];
    bit_reader others;     /* plate-split: the long forms; plate-shapes, plate-age: what follows */
    size_t n0;
    /*
     * plate-part (values NULL): each part's letters (the value >> PART_SHIFT,
     * PART_BITS each, row order) and how many; each current-format plate's
     * part, in row order. split_value walks the part ids forward from the
     * value it was last asked for (pid_at, whose id is pid_at_id once
     * pid_at_read), counting the values of each part passed.
     */
    int parts;
    const uint8_t *part[PART_COUNT];
    size_t part_n[PART_COUNT], part_len[PART_COUNT];
    const uint8_t *pids;
    size_t pids_len;
    size_t pid_at;
    unsigned pid_at_id;
    int pid_at_read;
    size_t pid_seen[PART_COUNT];
    uint32_t *expanded; /* part_expand's: every value in row order (the caller frees it), or NULL */
} split_parts;

/*
 * Bits set in x. Written out, not __builtin_popcountll: without a popcnt
 * target gcc calls libgcc for it, and every block searched counts its
 * bitmap's 64 words.
 */
static inline unsigned ones64(uint64_t x)
{
    x -= (x >> 1) & UINT64_C(0x5555555555555555);
    x = (x & UINT64_C(0x3333333333333333)) + ((x >> 2) & UINT64_C(0x3333333333333333));
    x = (x + (x >> 4)) & UINT64_C(0x0f0f0f0f0f0f0f0f);
    return (unsigned)((x * UINT64_C(0x0101010101010101)) >> 56);
}

/* The bitmap's word k (the bits of rows 64k ..), zero past n. */
static inline uint64_t bitmap_word(const uint8_t *bitmap, size_t n, size_t k)
{
    size_t nbytes = (n + 7) / 8;
    if (8 * k + 8 <= nbytes) return get_u64(bitmap + 8 * k);
    uint64_t w = 0;
    for (size_t b = 0; b < 8 && 8 * k + b < nbytes; b++) w |= (uint64_t)bitmap[8 * k + b] << (8 * b);
    return w;
}

/*
 * Opens plate-split's parts for n rows, or with aged plate-age's (its
 * values of 23 bits and the ages after them; with SPLIT_RRR, plate-rrr's
 * bitmap): ANPR_ECORRUPT when the sizes do not fit len.
 */
int split_open(split_parts *sp, const uint8_t *src, size_t len, size_t n, int aged);
/*
 * Value j of the array (j < n0), checked: the whole 30-bit value, or
 * plate-age's letters (plate-part: from its part, fastest asked for in
 * increasing j).
 */
int split_value(split_parts *sp, size_t j, uint32_t *v);

/*
 * plate-part (plate_part.c). part_open reads the table and finds the parts
 * and part ids at src (the chunk's start), leaving the offset where
 * plate-rrr's bitmap follows in *at, the letters in *n0 and the long forms'
 * bytes (the chunk's last) in *lf_len. part_value is split_value's for it.
 * part_encode turns the plate-rrr chunk of n rows at out's byte start into
 * plate-part (-E2BIG, with the chunk left as it was, when a part would
 * hold more than PART_COUNT_MAX). part_check_sums checks every part and
 * the long forms against their sums in the table; the table's own sum is
 * the caller's (it is kept outside the chunk).
 */
int part_open(split_parts *sp, const uint8_t *src, size_t len, size_t *at, size_t *n0, size_t *lf_len);
/*
 * The sections of a plate-part chunk that the table sums: 0 to 7 its
 * parts, PART_MID what lies between them and the long forms (the part ids,
 * plate-rrr's bitmap, the ages and ranks), PART_LONG_FORMS the long forms.
 * Whether one matches its sum (with the parts open), and its name for an
 * error ("letters part 3").
 */
#define PART_MID PART_COUNT
#define PART_LONG_FORMS (PART_COUNT + 1)
#define PART_SECTIONS (PART_COUNT + 2)
int part_section_ok(const split_parts *sp, const uint8_t *src, size_t len, unsigned section);
const char *part_section_name(unsigned section);
/* The rank among the current-format plates of part p's letters q, asked for in increasing q: SIZE_MAX if none. */
typedef struct part_walk {
    const split_parts *sp;
    unsigned p;
    size_t group, seen; /* the ids' group the walk is at, and p's ids before it */
} part_walk;
size_t part_select(part_walk *w, size_t q);
int part_value(split_parts *sp, size_t j, uint32_t *v);
/*
 * A whole decode's values all at once, in one pass over the part ids, into
 * sp->expanded (split_value then reads them there): ANPR_ECORRUPT as
 * part_value would find, -ENOMEM.
 */
int part_expand(split_parts *sp);
int part_encode(enc_buf *out, size_t start, size_t n);
int part_check_sums(const split_parts *sp, const uint8_t *src, size_t len, const char **what);
/* The part's values' bits after the last value and the part ids' are zero (a whole decode's check). */
int part_tails_zero(const split_parts *sp);

/* plate-age-radix: group g's ranks into sp->group_ranks, its number checked against its limit. */
int split_radix_group(split_parts *sp, size_t g);

/* plate-age: value j's age identifier (0..99), checked. */
static inline int split_age(split_parts *sp, size_t j, uint32_t *age)
{
    uint64_t r;
    if (sp->radix) {
        size_t g = j / sp->layout.k;
        if (g != sp->group_at && split_radix_group(sp, g) < 0) return ANPR_ECORRUPT;
        r = sp->group_ranks[j % sp->layout.k];
    } else {
        r = bp_get(sp->ranks, sp->ranks_len, j, sp->age_width);
    }
    if (r >= sp->nages) return ANPR_ECORRUPT;
    *age = sp->age_at[r];
    return 0;
}

/*
 * The current-format plate of value j (j < n0) into p[0..7), checked:
 * plate-split's value, or plate-age's letters and age. With ages_seen (100
 * entries, plate-age's whole decode), its age is marked there.
 */
int split_plate(split_parts *sp, size_t j, char *p, uint8_t *ages_seen);

/*
 * Rows by rank among the bitmap's bits equal to `set`, asked for in
 * increasing rank (select_next), or ranks by row, asked for in increasing
 * row (rank_next): one walk of the bitmap serves all the rows of a block.
 * A walk asks one of the two. plate-rrr's words are counted by their class
 * and decoded only where the walk stops; a word whose offset is past its
 * bound (only a damaged chunk has one) is read as its class's first word
 * and sets bad, which the caller must check when the walk is done.
 */
typedef struct bit_select {
    const split_parts *sp;
    int set;
    int bad;
    size_t word;    /* the word the walk is at */
    size_t before;  /* bits equal to set in the words before it */
    size_t off_bit; /* plate-rrr: the offsets' bits before the word */
    int have;       /* plate-rrr: bits holds the word */
    uint64_t bits;
} bit_select;

static inline bit_select bit_select_start(const split_parts *sp, int set)
{
    return (bit_select){.sp = sp, .set = set};
}

/* The row of the rank-th (from 0) bit equal to set; rank at least the last one asked for. */
size_t select_next(bit_select *s, size_t rank);
/* The bits equal to set before row i, and in *bit row i's own; i at least the last one asked for. */
size_t rank_next(bit_select *s, size_t i, int *bit);

/*
 * plate-split's bitmap and values (aged: plate-age's letters and ages);
 * with long_forms, plate-split's long forms after them. The bitmap is
 * always plain here: shapes_encode turns it into plate-rrr's at the end.
 */
int split_encode(enc_buf *out, const anpr_row *rows, size_t n, int long_forms, int aged);
int split_decode(anpr_row *rows, size_t n, const uint8_t *src, size_t len);
int split_decode_at(anpr_row *out, const uint32_t *at, size_t nat, const uint8_t *src, size_t len, size_t n);

/*
 * plate-shapes (format 4): plate-split with the long forms grouped by their
 * head, the length and shape that fix how many bits a plate's chunks take.
 * A block holds a few dozen heads: a table lists them with their counts,
 * each long form carries its head's index in the table (Huffman-coded),
 * and the chunks come head by head, in arrays of one width. A
 * misread-tolerant search looks only at the arrays of the heads its
 * spellings have, where plate-split made it pass over every long form of
 * the block, one dependent load after another. A block with more than
 * SHAPES_MAX heads is written as plate-split.
 */
#define SHAPES_MAX 256  /* heads a chunk may list: the indexes go through huffman-ck, whose symbols span 256 */

typedef struct shape_group {
    uint32_t head;  /* length | shape << 4 */
    uint32_t width; /* bits of each of its plates' chunks */
    size_t count;   /* its long forms */
    size_t base;    /* the bit of the chunks where its array starts */
} shape_group;

typedef struct shapes_parts {
    split_parts sp;
    size_t m;            /* long forms */
    size_t ngroups;
    /*
     * By head. A byte counts them, so they always fit: an array allocated
     * when a block had more than 48 cost a malloc and its page faults in
     * most blocks a misread-tolerant search opened (75 heads on average).
     */
    shape_group groups[SHAPES_MAX];
    const uint8_t *ids;  /* a huffman-ck chunk of the m group indexes, in row order */
    size_t ids_len;
    const uint8_t *chunks;
    size_t chunks_len;
} shapes_parts;

/* The parts after the values, with gp->sp open. */
int shapes_open_rest(shapes_parts *gp, size_t n);
/* plate-shapes' parts, or with aged plate-age's. */
int shapes_open(shapes_parts *gp, const uint8_t *src, size_t len, size_t n, int aged);
/* Plate j of group g, whole and checked, into p; with want, 0 for a plate that does not match (as uk_decode_chunks). */
int shapes_plate(const shapes_parts *gp, size_t g, size_t j, char *p, const char *want, int fold);
/*
 * plate-shapes, or with aged plate-age (format 5): the same but for the
 * current-format values, whose age identifiers come apart from their
 * letters (plate_uk.h, UK_LETTERS_BITS), each as its rank among the ages
 * the block holds (a bitmap of them): a block of the traffic holds 38, so
 * an age costs 6 bits where the radix 100 took 6.6, and a finder reads it
 * as directly as the letters. -E2BIG, with nothing written, for rows whose
 * long forms have more than SHAPES_MAX heads.
 */
int shapes_encode(enc_buf *out, const anpr_row *rows, size_t n, int aged);
int shapes_decode(anpr_row *rows, size_t n, const uint8_t *src, size_t len, int aged);
int shapes_decode_at(anpr_row *out, const uint32_t *at, size_t nat, const uint8_t *src, size_t len, size_t n,
                     int aged);

/* qsort's order for pairs of uint32_t: by the first, then the second. */
int split_cmp_u32_pair(const void *a, const void *b);

#endif
