/*
 * The checks of the segment fuzz targets: any bytes as a segment file must
 * be refused at open, or verify and decode only to valid rows, with every
 * probe answering in bounds. Never a crash, never a read outside the file.
 */
#define _GNU_SOURCE
#include "segment_check.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "anpr/anpr.h"
#include "anpr/segment.h"
#include "encode/encode.h"
#include "segment/segment.h"

static void check_row(const anpr_row *r, const anpr_segment_info *info)
{
    size_t len = strnlen(r->plate, sizeof r->plate);
    if (len == 0 || len > ANPR_PLATE_MAX || r->confidence > 100) abort();
    if (r->ts_ms / 86400000 != info->day) abort();
}

/* The lookup path of a plate query: find the plate's rows in a block, then decode those rows only. */
static void pick_rows(seg_reader *r, const anpr_segment_info *info, int fd, uint32_t block, const char *plate)
{
    uint64_t off;
    uint32_t len;
    if (seg_reader_block_span(r, block, &off, &len) != ANPR_OK) return;
    uint8_t *span = malloc(len ? len : 1);
    uint32_t *at = malloc((info->block_rows ? info->block_rows : 1) * sizeof *at);
    anpr_row *rows = calloc(info->block_rows ? info->block_rows : 1, sizeof *rows);
    enc_plate_target *target = NULL;
    size_t nhit = 0;
    if (!span || !at || !rows || enc_plate_target_new(&target, plate, 1) != 0) abort();
    if (pread(fd, span, len, (off_t)off) == (ssize_t)len &&
        seg_reader_find_plate(r, block, span, target, at, rows, &nhit) == ANPR_OK) {
        if (nhit > info->block_rows) abort();
        if (seg_reader_decode_rows(r, block, span, at, nhit, rows, 0) == ANPR_OK)
            for (size_t i = 0; i < nhit; i++) check_row(&rows[i], info);
    }
    enc_plate_target_free(target);
    free(span);
    free(at);
    free(rows);
}

void segment_check_bytes(const uint8_t *data, size_t size)
{
    char path[] = "/tmp/anpr-fuzz-segment-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0) return;
    if (write(fd, data, size) != (ssize_t)size) {
        close(fd);
        unlink(path);
        return;
    }
    anpr_source src = {anpr_vfs_posix(), fd, size};
    anpr_errmsg_buf err = {{0}};
    seg_reader *r = NULL;
    if (seg_reader_open(&r, &src, &err) == ANPR_OK) {
        anpr_segment_info info;
        seg_reader_info(r, &info);
        anpr_row *rows = malloc((info.block_rows ? info.block_rows : 1) * sizeof *rows);
        if (!rows) abort();
        /* Decoding block by block must give valid rows or a clean refusal. */
        for (uint32_t b = 0; b < info.blocks; b++) {
            size_t n = 0;
            if (seg_reader_read_block(r, b, rows, &n) != ANPR_OK) continue;
            if (n > info.block_rows) abort();
            for (size_t i = 0; i < n; i++) check_row(&rows[i], &info);
        }
        const char *probes[] = {"AB12CDE", "0", "K1X1"};
        for (size_t p = 0; p < 3; p++) {
            uint32_t *blocks = NULL;
            size_t nb = 0;
            if (seg_reader_plate_blocks(r, probes[p], &blocks, &nb) == ANPR_OK)
                for (size_t k = 0; k < nb; k++) {
                    if (blocks[k] >= info.blocks) abort();
                    pick_rows(r, &info, fd, blocks[k], probes[p]);
                }
            free(blocks);
        }
        seg_reader_verify(r);
        free(rows);
        seg_reader_free(r);
    }
    close(fd);
    unlink(path);
}
