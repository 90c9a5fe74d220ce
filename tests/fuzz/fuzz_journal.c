/*
 * Fuzz target: any bytes as a journal file must replay cleanly, be cut as a
 * torn tail, or be refused as corrupt; never crash, and whatever replays
 * must be valid reads.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "anpr/anpr.h"
#include "journal/journal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int check_rows(void *ctx, const anpr_row *rows, size_t n)
{
    (void)ctx;
    for (size_t i = 0; i < n; i++) {
        size_t len = strnlen(rows[i].plate, sizeof rows[i].plate);
        if (len == 0 || len > ANPR_PLATE_MAX || rows[i].confidence > 100 || rows[i].ts_ms < 0) abort();
    }
    return 0;
}

/* The real file system without fsync: durability is not what this target tests, and a sync an input is slow. */
static int no_fsync(const anpr_vfs *vfs, int fd)
{
    (void)vfs;
    (void)fd;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static anpr_vfs vfs;
    if (!vfs.open) {
        vfs = *anpr_vfs_posix();
        vfs.fsync = no_fsync;
    }
    char dir[] = "/tmp/anpr-fuzz-journal-XXXXXX";
    if (!mkdtemp(dir)) return 0;
    char path[4096];
    snprintf(path, sizeof path, "%s/journal-000001.log", dir);
    FILE *f = fopen(path, "wb");
    if (f) {
        fwrite(data, 1, size, f);
        fclose(f);
        journal *j = NULL;
        if (journal_open(&j, &vfs, dir, 1, check_rows, NULL, NULL, NULL) == ANPR_OK)
            journal_close(j);
    }
    unlink(path);
    rmdir(dir);
    return 0;
}
