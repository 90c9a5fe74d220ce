/* Plate normalisation and misread folding, shared by ingest and queries. */
#include <stddef.h>

#include "anpr/anpr.h"
#include "read/read.h"

/*
 * What normalising does to each byte: a letter or digit becomes its upper
 * case, a separator (space, hyphen: cameras and people put them between a
 * plate's groups) NORM_SKIP, anything else NORM_BAD. A table rather than
 * tests and branches: every read appended passes through it.
 */
enum { NORM_BAD = 0, NORM_SKIP = 1 };
static const unsigned char norm_table[256] = {
    [' '] = NORM_SKIP, ['-'] = NORM_SKIP,
    ['0'] = '0', ['1'] = '1', ['2'] = '2', ['3'] = '3', ['4'] = '4', ['5'] = '5', ['6'] = '6', ['7'] = '7',
    ['8'] = '8', ['9'] = '9',
    ['A'] = 'A', ['B'] = 'B', ['C'] = 'C', ['D'] = 'D', ['E'] = 'E', ['F'] = 'F', ['G'] = 'G', ['H'] = 'H',
    ['I'] = 'I', ['J'] = 'J', ['K'] = 'K', ['L'] = 'L', ['M'] = 'M', ['N'] = 'N', ['O'] = 'O', ['P'] = 'P',
    ['Q'] = 'Q', ['R'] = 'R', ['S'] = 'S', ['T'] = 'T', ['U'] = 'U', ['V'] = 'V', ['W'] = 'W', ['X'] = 'X',
    ['Y'] = 'Y', ['Z'] = 'Z',
    ['a'] = 'A', ['b'] = 'B', ['c'] = 'C', ['d'] = 'D', ['e'] = 'E', ['f'] = 'F', ['g'] = 'G', ['h'] = 'H',
    ['i'] = 'I', ['j'] = 'J', ['k'] = 'K', ['l'] = 'L', ['m'] = 'M', ['n'] = 'N', ['o'] = 'O', ['p'] = 'P',
    ['q'] = 'Q', ['r'] = 'R', ['s'] = 'S', ['t'] = 'T', ['u'] = 'U', ['v'] = 'V', ['w'] = 'W', ['x'] = 'X',
    ['y'] = 'Y', ['z'] = 'Z',
};

int anpr_plate_normalise(char out[ANPR_PLATE_MAX + 1], const char *plate)
{
    if (!plate) {
        out[0] = '\0';
        return ANPR_READ_PLATE_MISSING;
    }
    size_t n = 0;
    int bad = 0;
    for (const unsigned char *p = (const unsigned char *)plate; *p; p++) {
        unsigned char c = norm_table[*p];
        if (c == NORM_SKIP) continue;
        if (c == NORM_BAD) {
            bad = 1;
            continue;
        }
        if (n == ANPR_PLATE_MAX) {
            out[0] = '\0';
            return ANPR_READ_PLATE_TOO_LONG;
        }
        out[n++] = (char)c;
    }
    out[n] = '\0';
    /* A bad character is reported before length so the caller learns what to fix. */
    if (bad) {
        out[0] = '\0';
        return ANPR_READ_PLATE_BAD_CHAR;
    }
    return n == 0 ? ANPR_READ_PLATE_EMPTY : ANPR_READ_OK;
}

/*
 * The OCR confusion classes of a widely deployed matcher, each mapped to one
 * representative: O, D, Q -> 0; I -> 1; Z -> 2; S -> 5; B -> 8; G -> 6.
 * A table rather than a switch: folding runs for every read and every probe.
 */
const char plate_fold_table[256] = {
    ['0'] = '0', ['1'] = '1', ['2'] = '2', ['3'] = '3', ['4'] = '4',
    ['5'] = '5', ['6'] = '6', ['7'] = '7', ['8'] = '8', ['9'] = '9',
    ['A'] = 'A', ['B'] = '8', ['C'] = 'C', ['D'] = '0', ['E'] = 'E', ['F'] = 'F', ['G'] = '6',
    ['H'] = 'H', ['I'] = '1', ['J'] = 'J', ['K'] = 'K', ['L'] = 'L', ['M'] = 'M', ['N'] = 'N',
    ['O'] = '0', ['P'] = 'P', ['Q'] = '0', ['R'] = 'R', ['S'] = '5', ['T'] = 'T', ['U'] = 'U',
    ['V'] = 'V', ['W'] = 'W', ['X'] = 'X', ['Y'] = 'Y', ['Z'] = '2',
};

size_t anpr_plate_fold(char out[ANPR_PLATE_MAX + 1], const char *normalised)
{
    size_t n = 0;
    for (; normalised[n] && n < ANPR_PLATE_MAX; n++) {
        unsigned char c = (unsigned char)normalised[n];
        /* Anything outside A-Z 0-9 (not a normalised plate) passes through unchanged. */
        out[n] = plate_fold_char((char)c);
    }
    out[n] = '\0';
    return n;
}
