/*
 * Light column encodings, applied to a block's column before zstd.
 *
 * Every integer column (whatever its width in memory) is encoded from and
 * decoded to int64_t values: the segment code widens and narrows, checking
 * on decode that each value fits its column's type. Plates have their own
 * packing. Encoders append to a growable buffer; decoders read exactly n
 * values and return ANPR_ECORRUPT for any byte string they did not produce
 * (too short, trailing bytes, a width over 64, a run past n ...). Decoders
 * never read outside [src, src + len).
 *
 * The numeric ids are stored on disk (docs/format.md, "Encodings") and never
 * change meaning.
 */
#ifndef ANPR_ENCODE_ENCODE_H
#define ANPR_ENCODE_ENCODE_H

#include <stddef.h>
#include <stdint.h>

#include <zstd.h>

#include "anpr/segment.h"

typedef struct enc_buf {
    uint8_t *data;
    size_t len;
    size_t cap;
} enc_buf;

/* Return 0 or -ENOMEM. A zeroed enc_buf is empty and valid. */
int enc_buf_reserve(enc_buf *b, size_t more);
int enc_buf_append(enc_buf *b, const void *p, size_t n);
void enc_buf_free(enc_buf *b);

enum enc_id {
    ENC_RAW = 0,       /* int64 as 8 bytes LE each; plates as 16 bytes each */
    ENC_DELTA_BP = 1,  /* first value, then zigzag deltas bit-packed per 128-value miniblock */
    ENC_RLE = 2,       /* (zigzag varint value, varint run length) pairs */
    ENC_FOR_BP = 3,    /* minimum, then (value - minimum) bit-packed per 128-value miniblock */
    ENC_PLATE6 = 4,    /* plates: 4-bit length, then 6 bits a character */
    ENC_PLATE_UK = 5,  /* plates: 31 bits for the current GB format, shape + mixed radix otherwise */
    ENC_FOR_BYTES = 6, /* minimum, then (value - minimum) a byte each; range under 256 */
    ENC_DELTA_RICE = 7, /* first value, then deltas Rice-coded per 128, with escapes (written by format 1) */
    ENC_PLATE_SPLIT = 8, /* plates: plate-uk with the current-format values apart, as one 30-bit array */
    ENC_DELTA_RICE_CK = 9, /* delta-rice with a table of checkpoints, so one row is found without the rest */
    ENC_HUFF_CK = 10,  /* minimum, then (value - minimum) Huffman-coded, with checkpoints; range under 256 */
    ENC_DELTA_RICE_CK2 = 11, /* delta-rice-ck with a checkpoint every 2 groups, in a table read directly */
    ENC_PLATE_SHAPES = 12, /* plates: plate-split with the long forms grouped by length and shape */
    ENC_PLATE_AGE = 13, /* plates: plate-shapes with each current-format value's age apart, as its rank in the block */
    ENC_PLATE_AGE_RADIX = 14, /* plates: plate-age with its ranks packed several to a number, in mixed radix */
    ENC_PLATE_RRR = 15, /* plates: plate-age-radix with its bitmap as each word's count of ones and rank */
    ENC_PLATE_PART = 16, /* plates: plate-rrr with the letters in eight parts, each with its checksum in a table */
    ENC_COUNT
};

/* "raw", "delta-bitpack", ... for anpr-dump; "unknown" for a bad id. */
const char *enc_name(unsigned id);

/* Integer encodings: ENC_RAW, ENC_DELTA_BP, ENC_RLE, ENC_FOR_BP, ENC_FOR_BYTES, ENC_DELTA_RICE[_CK[2]], ENC_HUFF_CK. */
int enc_int_encode(enc_buf *out, unsigned id, const int64_t *v, size_t n);
int enc_int_decode(int64_t *v, size_t n, unsigned id, const uint8_t *src, size_t len);
/*
 * Only the values of rows at[0..nat) (strictly increasing, each below n)
 * into v[0..nat): what a lookup of a few rows needs, without decoding the
 * rest (every encoding stops after the last wanted row, and most start near
 * each row). Bounds are checked as in enc_int_decode, but not that the bytes
 * are the encoder's one form of the values, which needs every value.
 */
int enc_int_decode_at(int64_t *v, const uint32_t *at, size_t nat, size_t n, unsigned id, const uint8_t *src,
                      size_t len);
/*
 * The rows of a column whose values do not go down (one camera's times in
 * a block) that lie in [lo, hi): they are rows *first .. *first + *count -
 * 1, their values into v[0..*count). delta-rice-ck2 only: it starts at the
 * last checkpoint below lo and stops at the first value at or past hi, so
 * a window of minutes in a block of hours decodes a few hundred deltas, not
 * the block's. ANPR_EINVAL for another encoding (decode it whole instead);
 * ANPR_ECORRUPT for bytes out of bounds or a value that goes down. As with
 * enc_int_decode_at, the bytes are not checked to be the encoder's one form.
 */
int enc_int_decode_window(int64_t *v, size_t n, unsigned id, const uint8_t *src, size_t len, int64_t lo, int64_t hi,
                          size_t *first, size_t *count);

/*
 * The integer encoding of ENC_DELTA_BP, ENC_RLE, ENC_FOR_BP,
 * ENC_DELTA_RICE_CK2 and ENC_HUFF_CK that comes out smallest for these values
 * (written to out, id in *id). A block's column is small, so trying each is
 * cheap against zstd's cost.
 */
int enc_int_encode_best(enc_buf *out, unsigned *id, const int64_t *v, size_t n);

/*
 * The exact number of bytes enc_int_encode would write for ENC_DELTA_BP,
 * ENC_FOR_BP or ENC_RLE, worked out without writing them (what lets
 * enc_int_encode_best encode only its choice); SIZE_MAX for other ids.
 */
size_t enc_int_size(unsigned id, const int64_t *v, size_t n);

/*
 * Plate encodings (ENC_RAW, ENC_PLATE6, ENC_PLATE_UK, ENC_PLATE_SPLIT,
 * ENC_PLATE_SHAPES, ENC_PLATE_AGE, ENC_PLATE_AGE_RADIX, ENC_PLATE_RRR,
 * ENC_PLATE_PART) over normalised plates in anpr_row. ENC_PLATE_SHAPES, the
 * two plate-ages, plate-rrr and plate-part fail with -E2BIG, writing
 * nothing, when the plates outside the current format have more than 256
 * lengths and shapes between them (plate-part also when a part would hold
 * more than 65,535 letters); enc_plate_encode_best writes aged
 * (ENC_PLATE_PART, or ENC_PLATE_RRR, ENC_PLATE_AGE_RADIX or ENC_PLATE_AGE
 * for a file of an older format), or then ENC_PLATE_SPLIT instead, and says
 * which in *id. plate-rrr and plate-part take at most 65,536 rows (a
 * block's most; ANPR_EINVAL past it).
 */
int enc_plate_encode(enc_buf *out, unsigned id, const anpr_row *rows, size_t n);
int enc_plate_encode_best(enc_buf *out, unsigned aged, unsigned *id, const anpr_row *rows, size_t n);
/* Writes rows[i].plate (NUL-terminated) only; other fields are untouched. */
int enc_plate_decode(anpr_row *rows, size_t n, unsigned id, const uint8_t *src, size_t len);
/*
 * Only the plates of rows at[0..nat) (strictly increasing, each below n)
 * into out[0..nat).plate, as enc_int_decode_at for integers: plate-split,
 * plate-shapes and the plate-ages find each by its rank (scratch unused, may be NULL); the
 * other encodings decode all n into scratch. Checks what it decodes, not the
 * plates it passes over.
 */
int enc_plate_decode_at(anpr_row *out, const uint32_t *at, size_t nat, anpr_row *scratch, size_t n, unsigned id,
                        const uint8_t *src, size_t len);

/* The plate encodings that find a row by its rank (decode_at needs no scratch): split, shapes, the ages, rrr, part. */
static inline int enc_plate_ranked(unsigned id)
{
    return id == ENC_PLATE_SPLIT || id == ENC_PLATE_SHAPES || id == ENC_PLATE_AGE || id == ENC_PLATE_AGE_RADIX ||
           id == ENC_PLATE_RRR || id == ENC_PLATE_PART;
}

/*
 * Finding one plate in a plate-uk, plate-split, plate-shapes or plate-age chunk without building
 * every plate's text. A target is what a finder looks for, worked out once
 * for many chunks: the sorted 30-bit codes of the current-format plates
 * equal to plate (or, with fold, folding to it; plate is then folded),
 * where a '?' in plate stands for any one character, and the bits of its
 * other spellings in the long form. enc_plate_target_new fails with -E2BIG
 * when more than ENC_PLATE_CODES_MAX current-format plates fit a partial
 * plate (decode the plates instead), ANPR_EINVAL for a plate over
 * ANPR_PLATE_MAX, -ENOMEM; the caller frees the target with
 * enc_plate_target_free (NULL is accepted). enc_plate_find then lists the
 * rows of the n in the chunk whose plate matches, comparing codes for
 * current-format rows and bits or text for the others: their indexes in
 * at[] and their plates in out[].plate, *nhit of them, in row order (both
 * arrays hold n). ANPR_ECORRUPT as the decoder; ANPR_EINVAL for another
 * encoding; -ENOMEM.
 */
#define ENC_PLATE_CODES_MAX 1024
typedef struct enc_plate_target enc_plate_target;
int enc_plate_target_new(enc_plate_target **out, const char *plate, int fold);
void enc_plate_target_free(enc_plate_target *t);
int enc_plate_find(unsigned id, const uint8_t *src, size_t len, size_t n, const enc_plate_target *t, uint32_t *at,
                   anpr_row *out, size_t *nhit);
/* The plate encodings enc_plate_find searches: plate-uk and the ranked ones. */
static inline int enc_plate_findable(unsigned id)
{
    return id == ENC_PLATE_UK || enc_plate_ranked(id);
}
/*
 * plate-part (format 11): the bytes at the start of a chunk that its table
 * takes, and the low 32 bits of the xxh3 a segment keeps of them (of any
 * bytes: the parts' sums are the same function).
 */
#define ENC_PART_TABLE_BYTES 60
uint32_t enc_part_sum(const uint8_t *p, size_t n);
/*
 * Can a plate-part chunk of n rows be shown not to hold t's plate, from its
 * table and the parts its codes fall in alone? The table is checked first
 * against table_sum (kept by the chunk's parent, the segment's block
 * directory), then each part read against its sum in the table, before
 * anything in them is trusted: the rest of the chunk is not read, and its
 * own checksum is not needed. 1: the plate is not in the chunk; 0: it may
 * be (a long form that matches, or a part that holds the letters of one of
 * its codes; search the chunk whole with enc_plate_find); ANPR_ECORRUPT
 * with *what naming the table or section that failed its sum or does not
 * decode. scratch holds n values (the finder's at[] will do).
 */
int enc_plate_part_absent(const uint8_t *src, size_t len, size_t n, const enc_plate_target *t, uint32_t table_sum,
                          uint32_t *scratch, const char **what);
/*
 * The sections enc_plate_part_absent reads for t, besides the table, as
 * byte ranges of the chunk (adjacent ones joined, none empty), so that a
 * reader that copies bytes can fetch the table, then these, and probe
 * without the rest: src holds the chunk's first ENC_PART_TABLE_BYTES bytes
 * (or len of them, when fewer), checked against table_sum; len is the
 * chunk's whole length. At most ENC_PART_PROBE_SECTIONS in out[], their
 * count in *n; in *parts_end, where the parts end: enc_plate_part_find
 * reads the table, these sections and the bytes from there on, never the
 * other parts. 0, or ANPR_ECORRUPT with *what naming the table.
 */
#define ENC_PART_PROBE_SECTIONS 9 /* the eight parts and the long forms */
typedef struct enc_section {
    uint32_t off, len;
} enc_section;
int enc_plate_part_sections(const uint8_t *src, size_t len, size_t n, const enc_plate_target *t, uint32_t table_sum,
                            enc_section *out, size_t *nout, uint32_t *parts_end, const char **what);
/*
 * enc_plate_find for a plate-part chunk that trusts, in place of the
 * chunk's own checksum, the table on table_sum and each section it reads
 * on the table's sums: enc_plate_part_absent, then (unless that shows the
 * plate absent) the part ids, bitmap and ages, then the search. A block
 * that holds the plate is searched without the other parts' bytes, or the
 * long forms' unless the plate may be one. ANPR_ECORRUPT with *what naming
 * the table, the section, or "search" (the bytes do not decode).
 */
int enc_plate_part_find(const uint8_t *src, size_t len, size_t n, const enc_plate_target *t, uint32_t table_sum,
                        uint32_t *at, anpr_row *out, size_t *nhit, const char **what);
/*
 * Do a plate-part chunk's table and every section it lists match their
 * sums (table_sum for the table)? 0, or ANPR_ECORRUPT with *what naming
 * the first that does not. A whole decode checks the same sections (and
 * the segment reader the table); this says which one failed, for tests.
 */
int enc_plate_part_check(const uint8_t *src, size_t len, size_t n, uint32_t table_sum, const char **what);
/* 0 if the table of long-form plate sizes (plate_other_bits.h) agrees with their computation; for tests. */
int enc_plate_other_bits_check(void);
/* The same, with vector = 0 keeping to the portable scan where the CPU has a vector one (tests run both). */
int enc_plate_find_with(unsigned id, const uint8_t *src, size_t len, size_t n, const enc_plate_target *t, uint32_t *at,
                        anpr_row *out, size_t *nhit, int vector);

/*
 * zstd, with the context kept by the caller (one per writer or reader).
 * compress appends to out. decompress needs the exact decompressed size
 * (the segment stores it) and fails with ANPR_ECORRUPT on any mismatch.
 */
int enc_zstd_compress(enc_buf *out, ZSTD_CCtx *cctx, int level, const void *src, size_t len);
int enc_zstd_decompress(void *dst, size_t dst_len, ZSTD_DCtx *dctx, const void *src, size_t len);

#endif
