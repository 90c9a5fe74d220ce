/*
 * Standalone driver for the fuzz targets: feeds every file of the corpus
 * directories named on the command line to LLVMFuzzerTestOneInput, and with
 * --random N also N mutations of each file (flipped bits, overwritten bytes,
 * truncations) and N purely random inputs, all from a fixed seed. This is how the
 * corpus runs as an ordinary test without clang's libFuzzer; with
 * -Dfuzz=true the same targets are also built as real libFuzzer programs.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint64_t next_random(uint64_t *s);
static long mutations;
static uint64_t mut_seed = 7;

/* Variations on a valid input reach much deeper into a parser than random bytes do. */
static void run_mutations(const uint8_t *data, size_t len)
{
    if (len == 0) return;
    uint8_t *m = malloc(len);
    if (!m) abort();
    for (long k = 0; k < mutations; k++) {
        memcpy(m, data, len);
        size_t n = len;
        unsigned edits = 1 + (unsigned)(next_random(&mut_seed) % 4);
        for (unsigned e = 0; e < edits; e++) {
            uint64_t r = next_random(&mut_seed);
            size_t at = (size_t)(r % len);
            switch ((r >> 32) % 4) {
            case 0: m[at] ^= (uint8_t)(1u << ((r >> 40) % 8)); break;
            case 1: m[at] = (uint8_t)(r >> 48); break;
            case 2: if (at < n) n = at; break;
            default: m[at] = (r >> 47) & 1 ? 0xff : 0x00; break;
            }
        }
        LLVMFuzzerTestOneInput(m, n);
    }
    free(m);
}

static int run_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) return 0;
    uint8_t *buf = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (len == cap) {
            cap = cap ? cap * 2 : 4096;
            buf = realloc(buf, cap);
            if (!buf) abort();
        }
        size_t got = fread(buf + len, 1, cap - len, f);
        if (got == 0) break;
        len += got;
    }
    fclose(f);
    LLVMFuzzerTestOneInput(buf, len);
    run_mutations(buf, len);
    free(buf);
    return 1;
}

static uint64_t next_random(uint64_t *s)
{
    uint64_t x = (*s += 0x9e3779b97f4a7c15ull);
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

int main(int argc, char **argv)
{
    size_t files = 0;
    long randoms = 0;
    /* Options first: the mutation count applies to every corpus file. */
    for (int i = 1; i + 1 < argc; i++)
        if (strcmp(argv[i], "--random") == 0) randoms = mutations = atol(argv[i + 1]);
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--random") == 0) {
            i++;
            continue;
        }
        struct stat st;
        if (stat(argv[i], &st) != 0) continue;
        if (S_ISDIR(st.st_mode)) {
            DIR *d = opendir(argv[i]);
            struct dirent *e;
            while (d && (e = readdir(d)) != NULL) {
                if (e->d_name[0] == '.') continue;
                char path[4096];
                snprintf(path, sizeof path, "%s/%s", argv[i], e->d_name);
                files += (size_t)run_file(path);
            }
            if (d) closedir(d);
        } else {
            files += (size_t)run_file(argv[i]);
        }
    }
    uint64_t seed = 42;
    uint8_t buf[4096];
    for (long r = 0; r < randoms; r++) {
        size_t len = next_random(&seed) % sizeof buf;
        for (size_t i = 0; i < len; i++) buf[i] = (uint8_t)next_random(&seed);
        LLVMFuzzerTestOneInput(buf, len);
    }
    /* Check-style summary so the suite's output says what ran. */
    size_t inputs = files * (size_t)(1 + mutations) + (size_t)randoms;
    printf("100%%: Checks: %zu, Failures: 0, Errors: 0\n", inputs);
    return 0;
}
