/* Plate normalisation and misread folding, shared by ingest and queries. */
#include <stddef.h>

#include "anpr/anpr.h"

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

size_t anpr_plate_fold(char out[ANPR_PLATE_MAX + 1], const char *normalised)
{
    size_t n = 0;
    for (; normalised[n] && n < ANPR_PLATE_MAX; n++) {
        char c = normalised[n];
        switch (c) {
        case 'O': case 'D': case 'Q': c = '0'; break;
        case 'I': c = '1'; break;
        case 'Z': c = '2'; break;
        case 'S': c = '5'; break;
        case 'B': c = '8'; break;
        case 'G': c = '6'; break;
        default: break;
        }
        out[n] = c;
    }
    out[n] = '\0';
    return n;
}
