/*
 * UK plate formats (workload notes): current AB12CDE (since 2001; no I, Q,
 * Z in the memory tag, no I or Q in the random letters; age identifier YY
 * in March, YY+50 in September), prefix A123BCD, suffix ABC123D, dateless,
 * Northern Ireland ABZ1234, and a few foreign plates.
 */
#include "plates.h"

#include <string.h>

static const char tag_letters[] = "ABCDEFGHJKLMNOPRSTUVWXY";     /* no I, Q, Z */
static const char rand_letters[] = "ABCDEFGHJKLMNOPRSTUVWXYZ";   /* no I, Q */
static const char any_letters[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";

static char pick(const char *set, uint64_t *r)
{
    size_t n = strlen(set);
    *r = synth_mix(*r);
    return set[*r % n];
}

static char digit(uint64_t *r)
{
    *r = synth_mix(*r);
    return (char)('0' + *r % 10);
}

void synth_plate(char out[16], uint64_t seed, uint64_t id)
{
    uint64_t r = synth_mix(seed ^ synth_mix(id));
    memset(out, 0, 16);
    unsigned kind = (unsigned)(r % 1000);
    r = synth_mix(r);
    size_t n = 0;
    if (kind < 860) {
        /* Current format: registrations 2001-2026, the later years more common on the road. */
        out[n++] = pick(tag_letters, &r);
        out[n++] = pick(tag_letters, &r);
        r = synth_mix(r);
        unsigned year = 26 - (unsigned)((r % 26) * (r % 26) / 26);
        unsigned age = (r >> 20) & 1 ? year : year + 50;
        if (age == 1) age = 51; /* the format began in September 2001: there is no "01" */
        out[n++] = (char)('0' + age / 10);
        out[n++] = (char)('0' + age % 10);
        for (int i = 0; i < 3; i++) out[n++] = pick(rand_letters, &r);
    } else if (kind < 930) {
        out[n++] = pick(any_letters, &r);
        int digits = 1 + (int)(r % 3);
        for (int i = 0; i < digits; i++) out[n++] = digit(&r);
        for (int i = 0; i < 3; i++) out[n++] = pick(any_letters, &r);
    } else if (kind < 960) {
        for (int i = 0; i < 3; i++) out[n++] = pick(any_letters, &r);
        int digits = 1 + (int)(r % 3);
        for (int i = 0; i < digits; i++) out[n++] = digit(&r);
        out[n++] = pick(any_letters, &r);
    } else if (kind < 975) {
        int letters = 1 + (int)(r % 3), digits = 1 + (int)((r >> 8) % 4);
        if ((r >> 16) & 1) {
            for (int i = 0; i < letters; i++) out[n++] = pick(any_letters, &r);
            for (int i = 0; i < digits; i++) out[n++] = digit(&r);
        } else {
            for (int i = 0; i < digits; i++) out[n++] = digit(&r);
            for (int i = 0; i < letters; i++) out[n++] = pick(any_letters, &r);
        }
        if (out[0] == '0') out[0] = '1';
    } else if (kind < 990) {
        /* Northern Ireland: three letters containing I or Z, then up to four digits. */
        out[n++] = pick(any_letters, &r);
        out[n++] = (r >> 9) & 1 ? 'I' : 'Z';
        out[n++] = pick(any_letters, &r);
        int digits = 1 + (int)(r % 4);
        for (int i = 0; i < digits; i++) out[n++] = digit(&r);
    } else {
        /* Foreign: 5 to 10 letters and digits. */
        int len = 5 + (int)(r % 6);
        for (int i = 0; i < len; i++) out[n++] = (r >> (i + 3)) & 1 ? digit(&r) : pick(any_letters, &r);
    }
}

/* The OCR confusion classes: {0,O,D,Q} {1,I} {2,Z} {5,S} {8,B} {6,G}. */
static const char *const classes[] = {"0ODQ", "1I", "2Z", "5S", "8B", "6G"};

void synth_misread(char plate[16], uint64_t r)
{
    size_t len = strlen(plate);
    for (size_t tries = 0; tries < len; tries++) {
        size_t at = (size_t)((r + tries) % len);
        for (size_t c = 0; c < sizeof classes / sizeof classes[0]; c++) {
            const char *cls = classes[c];
            const char *hit = strchr(cls, plate[at]);
            if (!hit) continue;
            size_t n = strlen(cls), k = (size_t)(hit - cls);
            plate[at] = cls[(k + 1 + (r >> 8) % (n - 1)) % n];
            return;
        }
    }
}

void synth_as_sent(char out[20], const char plate[16], uint64_t r)
{
    size_t len = strlen(plate), n = 0;
    int lower = r % 20 == 0, spaced = (r >> 8) % 3 == 0;
    for (size_t i = 0; i < len; i++) {
        /* Current-format plates are written "AB12 CDE". */
        if (spaced && len == 7 && i == 4) out[n++] = ' ';
        char c = plate[i];
        out[n++] = lower && c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
    }
    out[n] = '\0';
}
