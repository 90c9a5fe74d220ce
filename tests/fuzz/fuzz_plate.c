/*
 * Fuzz target: plates and plate conditions as users send them.
 *
 * Input: byte 0's low bit is the fuzzy flag; the rest up to the first
 * newline is a plate as a camera sends it, the rest after it a query's plate
 * (exact or a partial pattern with '?' and '*'). Checked:
 * - anpr_plate_normalise either refuses the text or gives 1..15 of A-Z0-9,
 *   and normalising or folding twice changes nothing; a folded plate holds
 *   no character a fold replaces;
 * - a normalised plate and its folding survive the plate encodings
 *   (plate-uk, plate-split, plate-shapes and the later ones) unchanged, and
 *   enc_plate_find finds exactly the rows that equal it (or fold to it),
 *   and plate-part's probe never calls it absent;
 * - plate_match_compile refuses a condition with a reason, or compiles it
 *   so that plate_match_row agrees with a plain reference matcher here; a
 *   partial plate of '?' only is found by codes on the rows it matches.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "anpr/anpr.h"
#include "anpr/segment.h"
#include "encode/encode.h"
#include "part_steps.h"
#include "query/match.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int ok)
{
    if (!ok) abort();
}

static int plain_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* '?' is one character, '*' any run: the reference, by plain recursion over short strings. */
static int glob(const char *p, const char *s)
{
    if (*p == '\0') return *s == '\0';
    if (*p == '*') return glob(p + 1, s) || (*s && glob(p, s + 1));
    if (*s == '\0') return 0;
    return (*p == '?' || *p == *s) && glob(p + 1, s + 1);
}

static void check_normalised(const char *norm)
{
    size_t len = strlen(norm);
    check(len >= 1 && len <= ANPR_PLATE_MAX);
    for (size_t i = 0; i < len; i++) check(plain_char(norm[i]));
    char again[ANPR_PLATE_MAX + 1], folded[ANPR_PLATE_MAX + 1], twice[ANPR_PLATE_MAX + 1];
    check(anpr_plate_normalise(again, norm) == ANPR_READ_OK && strcmp(again, norm) == 0);
    check(anpr_plate_fold(folded, norm) == len);
    check(strpbrk(folded, "ODQIZSBG") == NULL);
    anpr_plate_fold(twice, folded);
    check(strcmp(twice, folded) == 0);
}

/*
 * plate-part's probe from its table and parts alone: no error, and never
 * absent where the search found nhit; the same in steps.
 */
static void check_probe(unsigned id, const enc_buf *b, size_t n, const enc_plate_target *target, size_t nhit)
{
    if (id != ENC_PLATE_PART) return;
    const char *what;
    uint32_t scratch[3];
    if (n > 3) abort();
    int absent = enc_plate_part_absent(b->data, b->len, n, target, enc_part_sum(b->data, ENC_PART_TABLE_BYTES),
                                       scratch, &what);
    check(absent == 0 || (absent == 1 && nhit == 0));
    part_steps_check(b->data, b->len, n, target, absent);
}

/* The plate and its folding, in the plate encodings that can be searched: decode gives them back, find finds them. */
static void check_codecs(const char *norm)
{
    anpr_row rows[3];
    memset(rows, 0, sizeof rows);
    strcpy(rows[0].plate, norm);
    anpr_plate_fold(rows[1].plate, norm);
    strcpy(rows[2].plate, "AB12CDE");
    static const unsigned ids[] = {ENC_PLATE_UK,        ENC_PLATE_SPLIT, ENC_PLATE_SHAPES, ENC_PLATE_AGE,
                                   ENC_PLATE_AGE_RADIX, ENC_PLATE_RRR,   ENC_PLATE_PART};
    for (size_t k = 0; k < sizeof ids / sizeof ids[0]; k++) {
        enc_buf b = {0};
        check(enc_plate_encode(&b, ids[k], rows, 3) == ANPR_OK);
        anpr_row back[3];
        memset(back, 0, sizeof back);
        check(enc_plate_decode(back, 3, ids[k], b.data, b.len) == ANPR_OK);
        for (int i = 0; i < 3; i++) check(strcmp(back[i].plate, rows[i].plate) == 0);
        for (int fold = 0; fold < 2; fold++) {
            char want[ANPR_PLATE_MAX + 1];
            if (fold) anpr_plate_fold(want, norm);
            else strcpy(want, norm);
            uint32_t at[3];
            size_t nhit = 0, expect = 0;
            anpr_row found[3];
            enc_plate_target *target;
            check(enc_plate_target_new(&target, want, fold) == ANPR_OK);
            check(enc_plate_find(ids[k], b.data, b.len, 3, target, at, found, &nhit) == ANPR_OK);
            for (uint32_t i = 0; i < 3; i++) {
                char f[ANPR_PLATE_MAX + 1];
                anpr_plate_fold(f, rows[i].plate);
                if (strcmp(fold ? f : rows[i].plate, want) != 0) continue;
                check(expect < nhit && at[expect] == i && strcmp(found[expect].plate, rows[i].plate) == 0);
                expect++;
            }
            check(expect == nhit);
            check_probe(ids[k], &b, 3, target, nhit);
            enc_plate_target_free(target);
        }
        enc_buf_free(&b);
    }
}

/* The compiled condition against the reference matcher, on the plate (if any) and two fixed ones. */
static void check_condition(const char *cond, int fuzzy, const char *norm)
{
    plate_match m;
    const char *why = NULL;
    if (plate_match_compile(&m, cond, fuzzy, &why) != ANPR_OK) {
        check(why != NULL && why[0] != '\0');
        return;
    }
    check(m.kind == MATCH_EXACT || m.kind == MATCH_PATTERN);
    check(strlen(m.text) >= 1 && strlen(m.text) <= PLATE_PATTERN_MAX);
    const char *plates[] = {norm, "AB12CDE", "A1"};
    for (int i = 0; i < 3; i++) {
        if (!plates[i]) continue;
        char f[ANPR_PLATE_MAX + 1];
        if (m.fold) anpr_plate_fold(f, plates[i]);
        else strcpy(f, plates[i]);
        int want = m.kind == MATCH_EXACT ? strcmp(m.text, f) == 0 : glob(m.text, f);
        check(!!plate_match_row(&m, plates[i]) == want);
    }
    /* A partial plate of '?' only is found by codes in a block as the matcher would choose its rows. */
    if (m.kind != MATCH_PATTERN || strchr(m.text, '*') || strlen(m.text) > ANPR_PLATE_MAX) return;
    anpr_row rows[3];
    memset(rows, 0, sizeof rows);
    for (int i = 0; i < 3; i++) strcpy(rows[i].plate, plates[i] ? plates[i] : "Z9");
    uint32_t at[3];
    size_t nhit;
    enc_plate_target *target;
    int crc = enc_plate_target_new(&target, m.text, m.fold);
    check(crc == 0 || crc == -E2BIG);
    if (crc < 0) return;
    static const unsigned ids[] = {ENC_PLATE_UK,        ENC_PLATE_SPLIT, ENC_PLATE_SHAPES, ENC_PLATE_AGE,
                                   ENC_PLATE_AGE_RADIX, ENC_PLATE_RRR,   ENC_PLATE_PART};
    for (size_t k = 0; k < sizeof ids / sizeof ids[0]; k++) {
        enc_buf b = {0};
        check(enc_plate_encode(&b, ids[k], rows, 3) == ANPR_OK);
        anpr_row found[3];
        check(enc_plate_find(ids[k], b.data, b.len, 3, target, at, found, &nhit) == ANPR_OK);
        size_t expect = 0;
        for (uint32_t i = 0; i < 3; i++) {
            if (!plate_match_row(&m, rows[i].plate)) continue;
            check(expect < nhit && at[expect] == i && strcmp(found[expect].plate, rows[i].plate) == 0);
            expect++;
        }
        check(expect == nhit);
        check_probe(ids[k], &b, 3, target, nhit);
        enc_buf_free(&b);
    }
    enc_plate_target_free(target);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0 || size > 256) return 0;
    int fuzzy = data[0] & 1;
    char text[257];
    memcpy(text, data + 1, size - 1);
    text[size - 1] = '\0';
    char *cond = strchr(text, '\n');
    if (cond) *cond++ = '\0';

    char norm[ANPR_PLATE_MAX + 1];
    int verdict = anpr_plate_normalise(norm, text);
    if (verdict == ANPR_READ_OK) {
        check_normalised(norm);
        check_codecs(norm);
    } else {
        check(anpr_verdict_str(verdict) != NULL && anpr_verdict_str(verdict)[0] != '\0');
    }
    if (cond && strlen(cond) == (size_t)(text + size - 1 - cond)) /* no NUL inside: as a C string arrives */
        check_condition(cond, fuzzy, verdict == ANPR_READ_OK ? norm : NULL);
    return 0;
}
