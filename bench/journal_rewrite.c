/*
 * What writing a journal costs in a new file, against the same bytes
 * written over a file whose pages the page cache already holds: a flush
 * used to start each journal as a new file (and remove the old one), and now
 * recycles the journal the flush before retired (lib/journal/journal.h,
 * journal_recycle).
 *
 *   journal_rewrite [DIR [MIB [ROUNDS]]]
 *
 * Each round writes MIB MiB into DIR in 1 MiB pwrites with an fdatasync
 * every 4 MiB (a commit's worth of journal at 100,000 reads), once as a new
 * file that replaces the round before's, once over the file of the round
 * before (the order alternating), and prints both times. The first round
 * of each way has no file before it. Defaults: the current directory,
 * 200 MiB (about a journal's size between two flushes at the default memory
 * budget), 6 rounds.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define CHUNK (1u << 20)
#define SYNC_EVERY (4u << 20)

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* Write bytes into path (created if absent, overwritten from its start if not): seconds, or -1 with errno set. */
static double write_journal(const char *path, const char *buf, size_t bytes)
{
    double t0 = now_s();
    int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) return -1;
    for (size_t off = 0; off < bytes; off += CHUNK) {
        ssize_t w = pwrite(fd, buf, CHUNK, (off_t)off);
        if (w != (ssize_t)CHUNK) {
            if (w >= 0) errno = ENOSPC; /* short: the disk took no more */
            goto fail;
        }
        if ((off + CHUNK) % SYNC_EVERY == 0 && fdatasync(fd) < 0) goto fail;
    }
    if (fdatasync(fd) < 0) goto fail;
    if (close(fd) < 0) return -1;
    return now_s() - t0;
fail:;
    int e = errno; /* what failed, not what close says */
    close(fd);
    errno = e;
    return -1;
}

static long arg(const char *s, const char *what)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < 1 || v > 1 << 20) {
        fprintf(stderr, "journal_rewrite: %s must be a whole number from 1 to 1048576, not '%s'\n", what, s);
        exit(2);
    }
    return v;
}

int main(int argc, char **argv)
{
    if (argc > 4) {
        fprintf(stderr, "usage: journal_rewrite [DIR [MIB [ROUNDS]]]\n");
        return 2;
    }
    const char *dir = argc > 1 ? argv[1] : ".";
    size_t bytes = (size_t)(argc > 2 ? arg(argv[2], "MIB") : 200) << 20;
    long rounds = argc > 3 ? arg(argv[3], "ROUNDS") : 6;
    char *buf = malloc(CHUNK);
    if (!buf) return 1;
    memset(buf, 'j', CHUNK);
    char fresh[2][4096], reused[4096];
    snprintf(fresh[0], sizeof fresh[0], "%s/journal_rewrite-new-0.tmp", dir);
    snprintf(fresh[1], sizeof fresh[1], "%s/journal_rewrite-new-1.tmp", dir);
    snprintf(reused, sizeof reused, "%s/journal_rewrite-same.tmp", dir);
    double sum_new = 0, sum_same = 0;
    int rc = 0;
    printf("%zu MiB a round, an fdatasync every %u MiB\n", bytes >> 20, SYNC_EVERY >> 20);
    for (long r = 0; r < rounds && rc == 0; r++) {
        double t_new = 0, t_same = 0;
        for (int k = 0; k < 2; k++) {
            if ((k == 0) == (r % 2 == 0)) {
                /* A new file; the one before goes after it, as a flush removed the old journal. */
                t_new = write_journal(fresh[r % 2], buf, bytes);
                unlink(fresh[(r + 1) % 2]);
            } else {
                t_same = write_journal(reused, buf, bytes);
            }
        }
        if (t_new < 0 || t_same < 0) {
            fprintf(stderr, "journal_rewrite: writing in %s: %s\n", dir, strerror(errno));
            rc = 1;
            break;
        }
        printf("round %ld: new file %.3f s, over the last one %.3f s%s\n", r, t_new, t_same,
               r == 0 ? " (no file before)" : "");
        if (r > 0) {
            sum_new += t_new;
            sum_same += t_same;
        }
    }
    if (rc == 0 && rounds > 1)
        printf("rounds 1-%ld: new files %.3f s a GiB, over the last one %.3f s a GiB\n", rounds - 1,
               sum_new / (double)(rounds - 1) / ((double)bytes / (1 << 30)),
               sum_same / (double)(rounds - 1) / ((double)bytes / (1 << 30)));
    unlink(fresh[0]);
    unlink(fresh[1]);
    unlink(reused);
    free(buf);
    return rc;
}
