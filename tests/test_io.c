/*
 * The batched reader (lib/io/batch.c), on both paths: many requests of any
 * size and offset come back byte for byte, more of them than the ring holds;
 * a read past the end of the file or on a bad descriptor fails with the
 * request's index; the buffer a batcher lends for reads is aligned, kept
 * while it is big enough, and grown when it is not; reads of what the page
 * cache holds leave the rest unread.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "io/batch.h"
#include "io/vfs.h"
#include "testutil.h"

#define FILE_BYTES (3u << 20)

static uint8_t *content;
static char *dir, path[4096];
static int fd = -1;

/* A file of FILE_BYTES with a byte pattern that differs at every offset within 256 and between pages. */
static void setup(void)
{
    dir = tu_tmpdir("io");
    ck_assert_ptr_nonnull(dir);
    snprintf(path, sizeof path, "%s/data", dir);
    content = malloc(FILE_BYTES);
    ck_assert_ptr_nonnull(content);
    for (uint32_t i = 0; i < FILE_BYTES; i++) content[i] = (uint8_t)(i ^ (i >> 8) ^ (i >> 16));
    ck_assert_int_eq(tu_write_file(path, content, FILE_BYTES), 0);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    ck_assert_int_ge(fd, 0);
}

static void teardown(void)
{
    close(fd);
    free(content);
    tu_rmrf(dir);
    free(dir);
}

/* Each request's bytes are the file's at its offset. */
static void check_read(int use_uring)
{
    io_batcher *b;
    ck_assert_int_eq(io_batcher_new(&b, anpr_vfs_posix(), use_uring), 0);
    if (!use_uring) ck_assert_int_eq(io_batcher_uses_uring(b), 0);
    uint64_t rng = 0x9e3779b97f4a7c15ull;
    /* 1,000 requests: past any ring's depth, so they go in several submissions. */
    enum { N = 1000 };
    io_req reqs[N];
    size_t total = 0;
    for (size_t i = 0; i < N; i++) {
        uint32_t len = i % 97 == 0 ? 0 : (uint32_t)(tu_rand(&rng) % 40000);
        uint64_t off = tu_rand(&rng) % (FILE_BYTES - len + 1);
        reqs[i] = (io_req){fd, (void *)(uintptr_t)total, len, off};
        total += len;
    }
    uint8_t *buf = io_batcher_buffer(b, total);
    ck_assert_ptr_nonnull(buf);
    memset(buf, 0xAA, total);
    for (size_t i = 0; i < N; i++) reqs[i].buf = buf + (uintptr_t)reqs[i].buf;
    size_t failed = 99;
    ck_assert_int_eq(io_batcher_read(b, reqs, N, &failed), 0);
    for (size_t i = 0; i < N; i++)
        ck_assert_msg(memcmp(reqs[i].buf, content + reqs[i].off, reqs[i].len) == 0, "request %zu (uring %d)", i,
                      use_uring);
    ck_assert(io_batcher_reusable(b));
    io_batcher_free(b);
}

START_TEST(reads_come_back_whole)
{
    check_read(0);
    check_read(1);
}
END_TEST

/* A request that runs past the end of the file, or names a bad descriptor, fails and is named. */
START_TEST(failures_name_their_request)
{
    for (int use_uring = 0; use_uring < 2; use_uring++) {
        io_batcher *b;
        ck_assert_int_eq(io_batcher_new(&b, anpr_vfs_posix(), use_uring), 0);
        uint8_t *buf = io_batcher_buffer(b, 3 * 4096);
        ck_assert_ptr_nonnull(buf);
        io_req reqs[3] = {
            {fd, buf, 4096, 0},
            {fd, buf + 4096, 4096, FILE_BYTES - 100}, /* 100 bytes, then the end */
            {fd, buf + 8192, 4096, 4096},
        };
        size_t failed = 99;
        ck_assert_int_eq(io_batcher_read(b, reqs, 3, &failed), -EIO);
        ck_assert_uint_eq(failed, 1);
        int bad = open(path, O_RDONLY | O_CLOEXEC);
        ck_assert_int_ge(bad, 0);
        close(bad); /* a descriptor that is no longer open */
        reqs[1] = (io_req){bad, buf + 4096, 4096, 0};
        failed = 99;
        ck_assert_int_eq(io_batcher_read(b, reqs, 3, &failed), -EBADF);
        ck_assert_uint_eq(failed, 1);
        /* Neither leaves reads in flight: the batcher serves the next query. */
        ck_assert(io_batcher_reusable(b));
        reqs[1] = (io_req){fd, buf + 4096, 4096, 8192};
        ck_assert_int_eq(io_batcher_read(b, reqs, 3, &failed), 0);
        ck_assert(memcmp(buf + 4096, content + 8192, 4096) == 0);
        io_batcher_free(b);
    }
}
END_TEST

/*
 * io_batcher_read_cached: with io_uring, a file just written (in the page
 * cache) is read whole; once dropped from the cache, each request comes back
 * whole and right or is left unread with its len 0, never waiting for the
 * disk and never wrong. With pread, which cannot tell, every request is
 * left unread. A bad descriptor still fails, named.
 */
START_TEST(cached_reads_leave_what_is_on_disk)
{
    enum { N = 64 };
    for (int use_uring = 0; use_uring < 2; use_uring++) {
        io_batcher *b;
        ck_assert_int_eq(io_batcher_new(&b, anpr_vfs_posix(), use_uring), 0);
        int uring = io_batcher_uses_uring(b);
        uint8_t *buf = io_batcher_buffer(b, N * 5000);
        ck_assert_ptr_nonnull(buf);
        for (int dropped = 0; dropped < 2; dropped++) {
            if (dropped) {
                ck_assert_int_eq(fdatasync(fd), 0);
                ck_assert_int_eq(posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED), 0);
            } else {
                /* Every page in the cache: read the file once. */
                uint8_t *all = malloc(FILE_BYTES);
                ck_assert_ptr_nonnull(all);
                ck_assert_int_eq(pread(fd, all, FILE_BYTES, 0), FILE_BYTES);
                free(all);
            }
            io_req reqs[N];
            for (size_t i = 0; i < N; i++)
                reqs[i] = (io_req){fd, buf + i * 5000, (uint32_t)(60 + i * 70), (FILE_BYTES / N) * i + i * 13};
            memset(buf, 0xAA, N * 5000);
            size_t failed = 99;
            ck_assert_int_eq(io_batcher_read_cached(b, reqs, N, &failed), 0);
            for (size_t i = 0; i < N; i++) {
                if (!uring || !dropped) ck_assert_msg((reqs[i].len == 0) == !uring, "request %zu", i);
                if (reqs[i].len)
                    ck_assert_msg(memcmp(reqs[i].buf, content + reqs[i].off, reqs[i].len) == 0, "request %zu", i);
            }
        }
        if (uring) {
            int bad = open(path, O_RDONLY | O_CLOEXEC);
            ck_assert_int_ge(bad, 0);
            close(bad);
            io_req reqs[2] = {{fd, buf, 100, 0}, {bad, buf + 100, 100, 0}};
            size_t failed = 99;
            ck_assert_int_eq(io_batcher_read_cached(b, reqs, 2, &failed), -EBADF);
            ck_assert_uint_eq(failed, 1);
            ck_assert(io_batcher_reusable(b));
        }
        io_batcher_free(b);
    }
}
END_TEST

START_TEST(buffer_is_kept_and_grown)
{
    io_batcher *b;
    ck_assert_int_eq(io_batcher_new(&b, anpr_vfs_posix(), 0), 0);
    uint8_t *p = io_batcher_buffer(b, 0);
    ck_assert_ptr_nonnull(p);
    ck_assert_uint_eq((uintptr_t)p % 64, 0);
    uint8_t *q = io_batcher_buffer(b, 1 << 20);
    ck_assert_ptr_nonnull(q);
    ck_assert_uint_eq((uintptr_t)q % 64, 0);
    memset(q, 7, 1 << 20); /* all of it is the caller's */
    ck_assert_ptr_eq(io_batcher_buffer(b, 4096), q);
    ck_assert_ptr_eq(io_batcher_buffer(b, 1 << 20), q);
    uint8_t *r = io_batcher_buffer(b, (1 << 20) + 1);
    ck_assert_ptr_nonnull(r);
    ck_assert_uint_eq((uintptr_t)r % 64, 0);
    r[1 << 20] = 1;
    io_batcher_free(b);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("io");
    TCase *tc = tcase_create("batch");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, reads_come_back_whole);
    tcase_add_test(tc, failures_name_their_request);
    tcase_add_test(tc, buffer_is_kept_and_grown);
    tcase_add_test(tc, cached_reads_leave_what_is_on_disk);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
