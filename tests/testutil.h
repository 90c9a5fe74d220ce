/* Helpers shared by the test programs: scratch directories and file pokes. */
#ifndef ANPR_TESTS_TESTUTIL_H
#define ANPR_TESTS_TESTUTIL_H

#include <stddef.h>
#include <stdint.h>

#include <check.h>

#include "anpr/anpr.h"
#include "anpr/segment.h"
#include "segment/segment.h"

/*
 * A fresh, empty directory for one test: $ANPR_TEST_TMP (or /tmp) /
 * name-<pid>-<counter>. Returns a malloc'd path; aborts the test on failure.
 */
char *tu_tmpdir(const char *name);

/* Remove a directory tree (best effort). */
void tu_rmrf(const char *path);

/* Read a whole file into a malloc'd buffer; returns NULL on failure. */
uint8_t *tu_read_file(const char *path, size_t *len);

/* Overwrite a whole file. Returns 0 or -1. */
int tu_write_file(const char *path, const void *data, size_t len);

/* XOR one byte of a file with mask (default 0x01 if 0). Returns 0 or -1. */
int tu_flip_byte(const char *path, uint64_t offset, uint8_t mask);

/*
 * Open a store in dir, creating it, with the given memory budget (0 for the
 * default); the test fails, with the store's message, if it cannot. The
 * caller closes it.
 */
anpr_store *tu_store_create(const char *dir, size_t memory_budget);

/* The same, keeping retention_days days (0: keep everything). */
anpr_store *tu_store_create_retained(const char *dir, size_t memory_budget, unsigned retention_days);

/* Size of a file, or -1. */
long long tu_file_size(const char *path);

/*
 * A segment file open for the library's internal reader. The reader keeps a
 * pointer to src, so the struct stays where it is until tu_segment_close,
 * which frees the reader and closes the file.
 */
typedef struct tu_segment {
    int fd;
    anpr_source src;
    anpr_errmsg_buf err; /* the reader's messages */
    seg_reader *r;
} tu_segment;

/* Open path; the test fails if it cannot be opened or its reader refuses it. */
void tu_segment_open(tu_segment *t, const char *path);
void tu_segment_close(tu_segment *t);

/*
 * Query the whole store and check the answer is in time order (then camera,
 * then plate) with each read once. 0 with the count in *n, or -1 with why.
 * No Check assertions inside, so threads may call it.
 */
int tu_query_all(anpr_store *s, uint64_t *n, char *why, size_t why_len);

/*
 * Stored reads as the crash and soak tests compare them: ordered by their
 * identity (camera, time, plate), and equal when every field is.
 */
int tu_row_cmp(const void *a, const void *b);
int tu_row_same(const anpr_row *a, const anpr_row *b);

/* A read as the store keeps it (plate normalised); its verdict, ANPR_READ_OK if every field is valid. */
int tu_row_from_read(anpr_row *out, const anpr_read *r);

/* Whether dir holds a temporary file (".tmp-*") that a publish left behind; its name in *name. */
int tu_has_temp_file(const char *dir, char *name, size_t name_len);

/* Run every test of s and print Check's summary; EXIT_SUCCESS if none failed. */
int tu_run_suite(Suite *s);

/* xorshift64: a fast, fixed-sequence generator for test data (*state must not be 0). */
static inline uint64_t tu_rand(uint64_t *state)
{
    uint64_t x = *state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return *state = x;
}

#endif
