/*
 * What the first touch of a large anonymous buffer costs on this machine,
 * with and without the transparent huge page hint (lib/common/bigmem.h):
 * the writer's buffer of reads and the flush's sort array are such buffers,
 * and a fresh writer touches about half a GiB of them.
 *
 *   first_touch [MIB [ROUNDS]]
 *
 * Each round maps MIB MiB twice, once marked MADV_HUGEPAGE and once
 * MADV_NOHUGEPAGE (the order alternating), writes a byte in every 4 KiB
 * page, and prints the time of that first pass and of a memset of the
 * same memory after it (the pages already there). The defaults: 600 MiB,
 * 6 rounds.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* Map, hint, touch, memset, unmap: 0, or -1 when the memory cannot be had. */
static int one(size_t bytes, int huge, double *touch_s, double *memset_s)
{
    char *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return -1;
    (void)madvise(p, bytes, huge ? MADV_HUGEPAGE : MADV_NOHUGEPAGE);
    double t0 = now_s();
    for (size_t i = 0; i < bytes; i += 4096) ((volatile char *)p)[i] = 1;
    double t1 = now_s();
    memset(p, 2, bytes);
    double t2 = now_s();
    munmap(p, bytes);
    *touch_s = t1 - t0;
    *memset_s = t2 - t1;
    return 0;
}

static int parse(const char *s, long lo, long hi, long *out)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (*s == '\0' || *end != '\0' || v < lo || v > hi) return -1;
    *out = v;
    return 0;
}

int main(int argc, char **argv)
{
    long mib = 600, rounds = 6;
    if (argc > 3 || (argc > 1 && parse(argv[1], 1, 1 << 20, &mib) < 0) ||
        (argc > 2 && parse(argv[2], 1, 1000, &rounds) < 0)) {
        fprintf(stderr, "usage: first_touch [MIB (1..1048576, 600)] [ROUNDS (1..1000, 6)]\n");
        return 2;
    }
    size_t bytes = (size_t)mib << 20;
    printf("%ld MiB, %ld rounds: seconds a GiB to touch first, then to memset (pages present)\n", mib, rounds);
    for (long r = 0; r < rounds; r++) {
        for (int k = 0; k < 2; k++) {
            int huge = (int)((r + k) % 2 == 0);
            double t, m;
            if (one(bytes, huge, &t, &m) < 0) {
                fprintf(stderr, "first_touch: cannot map %ld MiB\n", mib);
                return 1;
            }
            double gib = (double)bytes / (double)(1u << 30);
            printf("round %ld  %-10s first touch %6.3f s/GiB   memset %6.3f s/GiB\n", r + 1,
                   huge ? "huge pages" : "4 KiB", t / gib, m / gib);
        }
    }
    return 0;
}
