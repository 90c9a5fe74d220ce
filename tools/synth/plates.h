/* Plate texts for the generator: a vehicle's plate from its id, and OCR confusions. */
#ifndef ANPR_SYNTH_PLATES_H
#define ANPR_SYNTH_PLATES_H

#include <stdint.h>

/* Write the normalised plate of vehicle `id` (deterministic for seed) into out[16]. */
void synth_plate(char out[16], uint64_t seed, uint64_t id);

/* Replace one character with another of its OCR confusion class, if it has one. */
void synth_misread(char plate[16], uint64_t r);

/* The plate as a camera might send it: a space between groups, sometimes lower case. */
void synth_as_sent(char out[20], const char plate[16], uint64_t r);

static inline uint64_t synth_mix(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

#endif
