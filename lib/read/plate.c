/* Plate normalisation and misread folding, shared by ingest and queries. */
#include <stddef.h>

#include "anpr/anpr.h"
#include "read/read.h"

int anpr_plate_normalise(char out[ANPR_PLATE_MAX + 1], const char *plate)
{
    if (!plate) {
        out[0] = '\0';
        return ANPR_READ_PLATE_MISSING;
    }
    size_t n = 0;
    int bad = 0;
    for (const unsigned char *p = (const unsigned char *)plate; *p; p++) {
        unsigned c = *p;
        /* Cameras and people separate plate groups with spaces or hyphens; neither is part of the plate. */
        if (c == ' ' || c == '-') continue;
        if (c >= 'a' && c <= 'z') c -= 'a' - 'A';
        if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))) {
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
