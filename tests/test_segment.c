/*
 * Segment files: rows written and read back field for field (edge values,
 * every plate shape, unknown positions, block boundaries), the directory's
 * per-block summaries, the writer's order and day checks, its writes in whole pieces, and the
 * plate-hash index: every block holding a plate is found by one probe, and
 * a misread of the plate finds the same blocks.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "anpr/anpr.h"
#include "anpr/segment.h"
#include "common/bytes.h"
#include "common/hash.h"
#include "encode/encode.h"
#include "segment/index_build.h"
#include "segment/seg_internal.h"
#include "segment/seg_layout.h"
#include "segment/segment.h"
#include "testutil.h"

#define DAY 20759
#define DAY_MS (INT64_C(86400000))

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint64_t next(void)
{
    return tu_rand(&rng);
}

static const char *const plates[] = {
    "AB12CDE", "YY99ZZZ", "AA00AAA", "LB07SEO", /* current format, alphabet edges */
    "A123BCD", "ABC123D", "1A", "Z", "AIZ1234", /* prefix, suffix, dateless, Northern Ireland */
    "ABCDEFGHIJKLMNO", "123456789012345", "D0QO8B", /* longest; all digits; folds heavily */
};
#define NPLATES (sizeof plates / sizeof plates[0])

static int cmp_rows(const void *pa, const void *pb)
{
    const anpr_row *a = pa, *b = pb;
    if (a->camera != b->camera) return a->camera < b->camera ? -1 : 1;
    if (a->ts_ms != b->ts_ms) return a->ts_ms < b->ts_ms ? -1 : 1;
    return strcmp(a->plate, b->plate);
}

/* n rows of day DAY in segment order, with edge values sprinkled in. */
static anpr_row *make_rows(size_t n)
{
    anpr_row *rows = calloc(n ? n : 1, sizeof *rows);
    for (size_t i = 0; i < n; i++) {
        anpr_row *r = &rows[i];
        uint64_t x = next();
        r->camera = (uint32_t)(x % 37);
        if (i % 101 == 0) r->camera = UINT32_MAX;
        r->ts_ms = DAY * DAY_MS + (int64_t)(next() % DAY_MS);
        if (i == 1) r->ts_ms = DAY * DAY_MS;              /* first ms of the day */
        if (i == 2) r->ts_ms = DAY * DAY_MS + DAY_MS - 1; /* last ms of the day */
        if (i % 7 == 0)
            strcpy(r->plate, plates[(i / 7) % NPLATES]);
        else
            snprintf(r->plate, sizeof r->plate, "%c%c%02u%c%c%c", 'A' + (int)((x >> 8) % 26),
                     'A' + (int)((x >> 16) % 26), (unsigned)((x >> 24) % 100), 'A' + (int)((x >> 32) % 26),
                     'A' + (int)((x >> 40) % 26), 'A' + (int)((x >> 48) % 26));
        r->lane = (uint8_t)(i % 13 == 0 ? 255 : x % 4);
        r->direction = (uint8_t)((x >> 5) % 2);
        r->confidence = (uint8_t)(i % 17 == 0 ? (i % 2 ? 0 : 100) : 99 - (x >> 3) % 30);
        if (i % 5 == 0) {
            r->lat_e7 = r->lon_e7 = ANPR_POS_UNKNOWN;
        } else if (i % 11 == 0) {
            r->lat_e7 = i % 2 ? 900000000 : -900000000;
            r->lon_e7 = i % 2 ? 1800000000 : -1800000000;
        } else {
            r->lat_e7 = 510000000 + (int32_t)(x % 1000000);
            r->lon_e7 = -1000000 - (int32_t)(x % 999999);
        }
    }
    qsort(rows, n, sizeof *rows, cmp_rows);
    /* Equal (camera, ts, plate) never reaches a segment: nudge any such row. */
    for (size_t i = 1; i < n; i++)
        if (cmp_rows(&rows[i - 1], &rows[i]) >= 0) {
            rows[i] = rows[i - 1];
            rows[i].plate[0] = rows[i].plate[0] == 'Z' ? '9' : 'Z';
            if (cmp_rows(&rows[i - 1], &rows[i]) >= 0) rows[i].ts_ms = rows[i - 1].ts_ms + 1;
        }
    return rows;
}

/* Write a segment through vfs; the writer's message, if it fails, goes to err (which may be NULL). */
static int write_segment_as(const anpr_vfs *vfs, const char *path, const anpr_row *rows, size_t n,
                            uint32_t block_rows, unsigned version, unsigned density, anpr_errmsg_buf *err)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ck_assert_int_ge(fd, 0);
    anpr_sink sink = {vfs, fd, 0, 0};
    seg_writer *w;
    ck_assert_int_eq(seg_writer_new(&w, &sink, DAY, 3, block_rows, err), ANPR_OK);
    ck_assert_int_eq(seg_writer_set_version(w, version), ANPR_OK);
    ck_assert_int_eq(seg_writer_set_index_density(w, density), ANPR_OK);
    /* In uneven pieces, as the merge feeds it. */
    int rc = ANPR_OK;
    for (size_t at = 0; rc == ANPR_OK && at < n;) {
        size_t k = 1 + next() % 3000;
        if (k > n - at) k = n - at;
        rc = seg_writer_add(w, rows + at, k);
        at += k;
    }
    seg_write_summary sum;
    if (rc == ANPR_OK) rc = seg_writer_finish(w, &sum);
    if (rc == ANPR_OK) {
        ck_assert_uint_eq(sum.rows, n);
        ck_assert_uint_eq(sum.bytes, (uint64_t)tu_file_size(path));
    }
    seg_writer_free(w);
    close(fd);
    return rc;
}

static int write_segment_version(const anpr_vfs *vfs, const char *path, const anpr_row *rows, size_t n,
                                 uint32_t block_rows, unsigned version, anpr_errmsg_buf *err)
{
    return write_segment_as(vfs, path, rows, n, block_rows, version, 1, err);
}

static int write_segment_via(const anpr_vfs *vfs, const char *path, const anpr_row *rows, size_t n,
                             uint32_t block_rows, anpr_errmsg_buf *err)
{
    return write_segment_version(vfs, path, rows, n, block_rows, SEG_FORMAT_VERSION, err);
}

static int write_segment(const char *path, const anpr_row *rows, size_t n, uint32_t block_rows)
{
    return write_segment_via(anpr_vfs_posix(), path, rows, n, block_rows, NULL);
}

static void assert_same(const anpr_row *a, const anpr_row *b, size_t i)
{
    ck_assert_msg(a->ts_ms == b->ts_ms, "row %zu ts", i);
    ck_assert_msg(strcmp(a->plate, b->plate) == 0, "row %zu plate %s != %s", i, a->plate, b->plate);
    ck_assert_msg(a->camera == b->camera, "row %zu camera", i);
    ck_assert_msg(a->lane == b->lane, "row %zu lane", i);
    ck_assert_msg(a->direction == b->direction, "row %zu direction", i);
    ck_assert_msg(a->confidence == b->confidence, "row %zu confidence", i);
    ck_assert_msg(a->lat_e7 == b->lat_e7, "row %zu lat", i);
    ck_assert_msg(a->lon_e7 == b->lon_e7, "row %zu lon", i);
}

/* Write n rows in blocks of block_rows, read them back through the public inspection API. */
static void round_trip(size_t n, uint32_t block_rows)
{
    char *dir = tu_tmpdir("segment");
    char path[512];
    snprintf(path, sizeof path, "%s/s.seg", dir);
    anpr_row *rows = make_rows(n);
    ck_assert_int_eq(write_segment(path, rows, n, block_rows), ANPR_OK);

    anpr_segment *g;
    char err[256];
    ck_assert_int_eq(anpr_segment_open(&g, path, err, sizeof err), ANPR_OK);
    anpr_segment_info info;
    ck_assert_int_eq(anpr_segment_info_get(g, &info), ANPR_OK);
    ck_assert_uint_eq(info.format_version, SEG_FORMAT_VERSION);
    ck_assert_int_eq(info.day, DAY);
    ck_assert_uint_eq(info.rows, n);
    ck_assert_uint_eq(info.block_rows, block_rows);
    ck_assert_uint_eq(info.blocks, (n + block_rows - 1) / block_rows);
    ck_assert_uint_eq(info.columns, SEG_NCOLUMNS);
    ck_assert_uint_eq(info.file_bytes, (uint64_t)tu_file_size(path));
    ck_assert_int_eq(anpr_segment_verify(g), ANPR_OK);

    int64_t tmin = INT64_MAX, tmax = INT64_MIN;
    for (size_t i = 0; i < n; i++) {
        if (rows[i].ts_ms < tmin) tmin = rows[i].ts_ms;
        if (rows[i].ts_ms > tmax) tmax = rows[i].ts_ms;
    }
    if (n) {
        ck_assert_int_eq(info.min_ts_ms, tmin);
        ck_assert_int_eq(info.max_ts_ms, tmax);
    }

    anpr_row *got = malloc(block_rows * sizeof *got);
    size_t at = 0;
    for (uint32_t b = 0; b < info.blocks; b++) {
        anpr_block_info bi;
        ck_assert_int_eq(anpr_segment_block(g, b, &bi), ANPR_OK);
        ck_assert_uint_eq(bi.first_row, at);
        size_t k = 0;
        ck_assert_int_eq(anpr_segment_rows(g, b, got, &k), ANPR_OK);
        ck_assert_uint_eq(k, bi.rows);
        /* The directory's summaries are exactly those of the rows. */
        int64_t bmin = INT64_MAX, bmax = INT64_MIN;
        uint32_t cmin = UINT32_MAX, cmax = 0;
        int32_t la0 = INT32_MAX, la1 = INT32_MIN, lo0 = INT32_MAX, lo1 = INT32_MIN;
        for (size_t i = 0; i < k; i++) {
            assert_same(&got[i], &rows[at + i], at + i);
            const anpr_row *r = &got[i];
            if (r->ts_ms < bmin) bmin = r->ts_ms;
            if (r->ts_ms > bmax) bmax = r->ts_ms;
            if (r->camera < cmin) cmin = r->camera;
            if (r->camera > cmax) cmax = r->camera;
            if (r->lat_e7 == ANPR_POS_UNKNOWN) continue;
            if (r->lat_e7 < la0) la0 = r->lat_e7;
            if (r->lat_e7 > la1) la1 = r->lat_e7;
            if (r->lon_e7 < lo0) lo0 = r->lon_e7;
            if (r->lon_e7 > lo1) lo1 = r->lon_e7;
        }
        ck_assert_int_eq(bi.min_ts_ms, bmin);
        ck_assert_int_eq(bi.max_ts_ms, bmax);
        ck_assert_uint_eq(bi.camera_min, cmin);
        ck_assert_uint_eq(bi.camera_max, cmax);
        if (la0 != INT32_MAX) {
            ck_assert_int_eq(bi.lat_min, la0);
            ck_assert_int_eq(bi.lat_max, la1);
            ck_assert_int_eq(bi.lon_min, lo0);
            ck_assert_int_eq(bi.lon_max, lo1);
        } else {
            ck_assert_int_eq(bi.lat_min, ANPR_POS_UNKNOWN);
        }
        at += k;
    }
    ck_assert_uint_eq(at, n);
    ck_assert_int_ne(anpr_segment_rows(g, info.blocks, got, &at), ANPR_OK);

    /* Column summaries name every column and add up to no more than the file. */
    uint64_t stored = 0;
    for (unsigned c = 0; c < info.columns; c++) {
        anpr_column_info ci;
        ck_assert_int_eq(anpr_segment_column(g, c, &ci), ANPR_OK);
        ck_assert_str_eq(ci.name, seg_column_name(c));
        ck_assert_str_ne(ci.encoding, "unknown");
        stored += ci.stored_bytes;
    }
    ck_assert_uint_le(stored + info.index_bytes + info.directory_bytes, info.file_bytes);
    ck_assert_int_ne(anpr_segment_column(g, info.columns, &(anpr_column_info){0}), ANPR_OK);
    anpr_segment_close(g);
    free(got);
    free(rows);
    tu_rmrf(dir);
    free(dir);
}

START_TEST(round_trip_sizes)
{
    static const struct {
        size_t n;
        uint32_t block_rows;
    } cases[] = {{1, 4096}, {2, 1}, {100, 100}, {101, 100}, {4096, 4096}, {4097, 4096}, {20000, 4096},
                 {3000, 65536}, {400000, 4096} /* a file of two SEG_WRITE_PIECEs */};
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) round_trip(cases[c].n, cases[c].block_rows);
}
END_TEST

/* The real file system, with every write recorded, and failed with ENOSPC from fail_at on. */
static struct {
    anpr_vfs vfs;
    uint64_t fail_at;
    size_t nwrites;
    uint64_t off[64];
    size_t len[64];
} piece_fs;

static ssize_t piece_pwrite(const anpr_vfs *v, int fd, const void *buf, size_t n, uint64_t off)
{
    (void)v;
    if (off + n > piece_fs.fail_at) return -ENOSPC;
    if (piece_fs.nwrites < 64) {
        piece_fs.off[piece_fs.nwrites] = off;
        piece_fs.len[piece_fs.nwrites] = n;
    }
    piece_fs.nwrites++;
    return anpr_vfs_posix()->pwrite(anpr_vfs_posix(), fd, buf, n, off);
}

START_TEST(writer_writes_whole_pieces)
{
    char *dir = tu_tmpdir("segment");
    char path[4096];
    snprintf(path, sizeof path, "%s/pieces.seg", dir);
    size_t n = 400000; /* about 5.4 MB: a whole piece, then the rest */
    anpr_row *rows = make_rows(n);
    piece_fs.vfs = *anpr_vfs_posix();
    piece_fs.vfs.pwrite = piece_pwrite;
    piece_fs.fail_at = UINT64_MAX;
    piece_fs.nwrites = 0;
    ck_assert_int_eq(write_segment_via(&piece_fs.vfs, path, rows, n, 4096, NULL), ANPR_OK);

    /* Every write but the last is one whole piece at a multiple of its size; together they are the file. */
    long long size = tu_file_size(path);
    ck_assert_int_gt(size, (long long)SEG_WRITE_PIECE);
    ck_assert_uint_eq(piece_fs.nwrites, (size + SEG_WRITE_PIECE - 1) / SEG_WRITE_PIECE);
    for (size_t i = 0; i < piece_fs.nwrites; i++) {
        ck_assert_uint_eq(piece_fs.off[i], i * SEG_WRITE_PIECE);
        if (i + 1 < piece_fs.nwrites) ck_assert_uint_eq(piece_fs.len[i], SEG_WRITE_PIECE);
    }
    ck_assert_uint_eq(piece_fs.off[piece_fs.nwrites - 1] + piece_fs.len[piece_fs.nwrites - 1], (uint64_t)size);

    /*
     * A failed write is the writer's error, with its message: the first piece's
     * (while rows are added), and the last one's (in finish).
     */
    uint64_t fail_at[] = {1, (uint64_t)size - 1};
    for (size_t k = 0; k < 2; k++) {
        piece_fs.fail_at = fail_at[k];
        piece_fs.nwrites = 0;
        anpr_errmsg_buf err = {{0}};
        ck_assert_int_eq(write_segment_via(&piece_fs.vfs, path, rows, n, 4096, &err), -ENOSPC);
        ck_assert_msg(strstr(err.text, "segment: write") != NULL, "message: %s", err.text);
        ck_assert_uint_eq(piece_fs.nwrites, fail_at[k] / SEG_WRITE_PIECE);
    }
    free(rows);
    tu_rmrf(dir);
    free(dir);
}
END_TEST

/*
 * The index key is the top half of the XXH3 of the folded plate, however the
 * fast path puts the folded bytes together: for every length, padded or not.
 */
START_TEST(plate_key_is_the_folded_hash)
{
    static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    for (int round = 0; round < 2000; round++) {
        char plate[ANPR_PLATE_MAX + 1] = {0}, folded[ANPR_PLATE_MAX + 1];
        size_t len = 1 + (size_t)round % ANPR_PLATE_MAX;
        for (size_t i = 0; i < len; i++) plate[i] = alphabet[next() % 36];
        ck_assert_uint_eq(anpr_plate_fold(folded, plate), len);
        uint32_t want = (uint32_t)(XXH3_64bits(folded, len) >> 32);
        ck_assert_uint_eq(seg_plate_key(plate), want);
        ck_assert_uint_eq(seg_plate_key_padded(plate, len), want);
        ck_assert_uint_eq(seg_plate_key(folded), want); /* a plate and its folded form share the key */
    }
    /* Every character at every place of a plate of every length, against the fold's table. */
    for (size_t len = 1; len <= ANPR_PLATE_MAX; len++)
        for (size_t at = 0; at < len; at++)
            for (const char *c = alphabet; *c; c++) {
                char plate[ANPR_PLATE_MAX + 1] = {0}, folded[ANPR_PLATE_MAX + 1];
                memset(plate, 'A', len);
                plate[at] = *c;
                anpr_plate_fold(folded, plate);
                ck_assert_uint_eq(seg_plate_key_padded(plate, len), (uint32_t)(XXH3_64bits(folded, len) >> 32));
            }
}
END_TEST

START_TEST(writer_refuses_disorder)
{
    char *dir = tu_tmpdir("segment");
    char path[512];
    snprintf(path, sizeof path, "%s/s.seg", dir);
    anpr_row *rows = make_rows(50);
    anpr_row t = rows[10];
    rows[10] = rows[11];
    rows[11] = t;
    ck_assert_int_eq(write_segment(path, rows, 50, 16), ANPR_EINVAL);
    free(rows);

    rows = make_rows(50);
    rows[20] = rows[19]; /* a duplicate */
    ck_assert_int_eq(write_segment(path, rows, 50, 16), ANPR_EINVAL);
    free(rows);

    rows = make_rows(50);
    rows[49].ts_ms += DAY_MS; /* the next day */
    ck_assert_int_eq(write_segment(path, rows, 50, 16), ANPR_EINVAL);
    free(rows);

    /* Bad arguments. */
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    anpr_sink sink = {anpr_vfs_posix(), fd, 0, 0};
    seg_writer *w;
    ck_assert_int_eq(seg_writer_new(&w, &sink, DAY, 3, SEG_BLOCK_ROWS_MAX + 1, NULL), ANPR_EINVAL);
    ck_assert_int_eq(seg_writer_new(&w, &sink, -1, 3, 0, NULL), ANPR_EINVAL);
    close(fd);
    tu_rmrf(dir);
    free(dir);
}
END_TEST

/* A segment of n made-up rows in blocks of block_rows, in a directory of its own, open for the internal reader. */
typedef struct opened {
    char *dir;
    int fd;
    anpr_source src;
    anpr_errmsg_buf err;
    seg_reader *r;
} opened;

static anpr_row *segment_fixture(opened *o, size_t n, uint32_t block_rows)
{
    o->dir = tu_tmpdir("segment");
    char path[512];
    snprintf(path, sizeof path, "%s/s.seg", o->dir);
    anpr_row *rows = make_rows(n);
    ck_assert_int_eq(write_segment(path, rows, n, block_rows), ANPR_OK);
    o->fd = open(path, O_RDONLY);
    ck_assert_int_ge(o->fd, 0);
    o->src = (anpr_source){anpr_vfs_posix(), o->fd, (uint64_t)tu_file_size(path)};
    memset(&o->err, 0, sizeof o->err);
    ck_assert_int_eq(seg_reader_open(&o->r, &o->src, &o->err), ANPR_OK);
    return rows;
}

static void close_segment(opened *o)
{
    seg_reader_free(o->r);
    close(o->fd);
    tu_rmrf(o->dir);
    free(o->dir);
}

static int has_block(const uint32_t *blocks, size_t n, uint32_t b)
{
    for (size_t i = 0; i < n; i++)
        if (blocks[i] == b) return 1;
    return 0;
}

START_TEST(plate_index_finds_every_block)
{
    enum { N = 30000, BLOCK = 512 };
    opened o;
    anpr_row *rows = segment_fixture(&o, N, BLOCK);
    seg_reader *r = o.r;
    size_t total_hits = 0, wanted = 0;
    for (size_t i = 0; i < N; i += 37) {
        char folded[ANPR_PLATE_MAX + 1];
        anpr_plate_fold(folded, rows[i].plate);
        uint32_t *blocks = NULL;
        size_t nb = 0;
        ck_assert_int_eq(seg_reader_plate_blocks(r, folded, &blocks, &nb), ANPR_OK);
        for (size_t k = 1; k < nb; k++) ck_assert_uint_lt(blocks[k - 1], blocks[k]);
        /* Every row whose folded plate matches lies in a listed block. */
        for (size_t j = 0; j < N; j++) {
            char f2[ANPR_PLATE_MAX + 1];
            anpr_plate_fold(f2, rows[j].plate);
            if (strcmp(f2, folded) == 0) {
                ck_assert_msg(has_block(blocks, nb, (uint32_t)(j / BLOCK)), "plate %s row %zu not found",
                              rows[j].plate, j);
                wanted++;
            }
        }
        total_hits += nb;
        free(blocks);
    }
    /* The probe is selective: random plates rarely share a bucket. */
    ck_assert_uint_le(total_hits, 3 * wanted + 100);

    /* A misread (O for 0, B for 8, ...) folds to the same key: the same blocks. */
    const char *pairs[][2] = {{"D0QO8B", "O0DQB8"}, {"AB12CDE", "A812CDE"}, {"AIZ1234", "A121234"}};
    for (size_t p = 0; p < 3; p++) {
        char f0[ANPR_PLATE_MAX + 1], f1[ANPR_PLATE_MAX + 1];
        anpr_plate_fold(f0, pairs[p][0]);
        anpr_plate_fold(f1, pairs[p][1]);
        ck_assert_str_eq(f0, f1);
        uint32_t *b0, *b1;
        size_t n0, n1;
        ck_assert_int_eq(seg_reader_plate_blocks(r, f0, &b0, &n0), ANPR_OK);
        ck_assert_int_eq(seg_reader_plate_blocks(r, f1, &b1, &n1), ANPR_OK);
        ck_assert_uint_eq(n0, n1);
        ck_assert(n0 == 0 || memcmp(b0, b1, n0 * sizeof *b0) == 0);
        free(b0);
        free(b1);
    }
    /* A plate that is not there finds nothing, or only blocks of plates sharing its bucket. */
    uint32_t *none;
    size_t nn;
    ck_assert_int_eq(seg_reader_plate_blocks(r, "QQ00QQQ", &none, &nn), ANPR_OK);
    ck_assert_uint_le(nn, 3);
    free(none);
    ck_assert_int_eq(seg_reader_verify(r), ANPR_OK);
    close_segment(&o);
    free(rows);
}
END_TEST

/* A plate's rows picked out of a block (find, then decode those rows) are the rows a full decode holds. */
START_TEST(plate_rows_picked_out)
{
    enum { N = 20000, BLOCK = 1024 };
    opened o;
    anpr_row *rows = segment_fixture(&o, N, BLOCK);
    seg_reader *r = o.r;
    int fd = o.fd;
    static anpr_row whole[BLOCK], picked[BLOCK];
    static uint32_t at[BLOCK];
    uint8_t *span = malloc(1 << 20);
    size_t checked = 0;
    for (size_t i = 0; i < N; i += 53) {
        for (int fold = 0; fold < 2; fold++) {
            char want[ANPR_PLATE_MAX + 1];
            if (fold) anpr_plate_fold(want, rows[i].plate);
            else strcpy(want, rows[i].plate);
            char key[ANPR_PLATE_MAX + 1];
            anpr_plate_fold(key, rows[i].plate);
            uint32_t *blocks;
            size_t nb;
            enc_plate_target *tg;
            ck_assert_int_eq(enc_plate_target_new(&tg, want, fold), 0);
            ck_assert_int_eq(seg_reader_plate_blocks(r, key, &blocks, &nb), ANPR_OK);
            for (size_t k = 0; k < nb; k++) {
                uint64_t off;
                uint32_t len;
                size_t n, nhit;
                ck_assert_int_eq(seg_reader_block_span(r, blocks[k], &off, &len), ANPR_OK);
                ck_assert_int_eq(pread(fd, span, len, (off_t)off), (ssize_t)len);
                ck_assert_int_eq(seg_reader_decode_block(r, blocks[k], span, whole, &n), ANPR_OK);
                ck_assert_int_eq(seg_reader_find_plate(r, blocks[k], span, tg, at, picked, &nhit), ANPR_OK);
                ck_assert_int_eq(seg_reader_decode_rows(r, blocks[k], span, at, nhit, picked, 0), ANPR_OK);
                size_t j = 0;
                for (size_t row = 0; row < n; row++) {
                    char f[ANPR_PLATE_MAX + 1];
                    anpr_plate_fold(f, whole[row].plate);
                    if (strcmp(fold ? f : whole[row].plate, want) != 0) continue;
                    ck_assert_msg(j < nhit, "%s fold %d row %zu (%s)", want, fold, row, whole[row].plate);
                    ck_assert_uint_eq(at[j], row);
                    assert_same(&picked[j], &whole[row], row);
                    j++;
                }
                ck_assert_uint_eq(j, nhit);
                checked += nhit;
            }
            enc_plate_target_free(tg);
            free(blocks);
        }
    }
    ck_assert_uint_gt(checked, N / 53);
    free(span);
    close_segment(&o);
    free(rows);
}
END_TEST

/* Set the header's and the footer's version fields (the footer re-signed), then open and verify. */
static int open_as_version(const char *path, unsigned header, unsigned footer, anpr_segment_info *info)
{
    size_t len;
    uint8_t *b = tu_read_file(path, &len);
    ck_assert_ptr_nonnull(b);
    uint8_t *f = b + len - SEG_FOOTER_SIZE;
    put_u16(b + 8, (uint16_t)header);
    put_u16(f + FT_VERSION, (uint16_t)footer);
    put_u64(f + FT_SUM, anpr_checksum(f, FT_SUM));
    ck_assert_int_eq(tu_write_file(path, b, len), 0);
    free(b);
    anpr_segment *g;
    int rc = anpr_segment_open(&g, path, NULL, 0);
    if (rc == ANPR_OK) {
        ck_assert_int_eq(anpr_segment_info_get(g, info), ANPR_OK);
        rc = anpr_segment_verify(g);
        anpr_segment_close(g);
    }
    return rc;
}

/* The name of the plate column's encoding in the file's first block. */
static const char *plate_encoding(const char *path)
{
    anpr_segment *g;
    anpr_column_info ci;
    ck_assert_int_eq(anpr_segment_open(&g, path, NULL, 0), ANPR_OK);
    ck_assert_int_eq(anpr_segment_column(g, SEG_COL_PLATE, &ci), ANPR_OK);
    anpr_segment_close(g);
    return ci.encoding; /* a static name */
}

/* One of a format-6 file's directories (a zstd frame at off, len bytes) inflated; its size in *raw. */
static uint8_t *inflate_dir(const uint8_t *b, uint64_t off, uint32_t len, size_t *raw)
{
    unsigned long long n = ZSTD_getFrameContentSize(b + off, len);
    ck_assert(n != ZSTD_CONTENTSIZE_ERROR && n != ZSTD_CONTENTSIZE_UNKNOWN);
    uint8_t *out = malloc(n ? n : 1);
    ck_assert_uint_eq(ZSTD_decompress(out, n, b + off, len), n);
    *raw = n;
    return out;
}

/*
 * Rewrite a format-6 file as format 5 lays it out: the same data and index
 * pages, then both directories stored as they are instead of as zstd frames,
 * and the footer moved after them.
 */
static void store_directories_raw(const char *path)
{
    size_t len, pd_len, dir_len;
    uint8_t *b = tu_read_file(path, &len);
    ck_assert_ptr_nonnull(b);
    uint8_t f[SEG_FOOTER_SIZE];
    memcpy(f, b + len - SEG_FOOTER_SIZE, SEG_FOOTER_SIZE);
    uint64_t pd_off = get_u64(f + FT_PAGEDIR_OFF);
    uint8_t *pd = inflate_dir(b, pd_off, get_u32(f + FT_PAGEDIR_LEN), &pd_len);
    uint8_t *dir = inflate_dir(b, get_u64(f + FT_DIR_OFF), get_u32(f + FT_DIR_LEN), &dir_len);
    size_t out_len = pd_off + pd_len + dir_len + SEG_FOOTER_SIZE;
    uint8_t *out = malloc(out_len);
    memcpy(out, b, pd_off);
    memcpy(out + pd_off, pd, pd_len);
    memcpy(out + pd_off + pd_len, dir, dir_len);
    uint32_t pd_stored = get_u32(f + FT_PAGEDIR_LEN);
    put_u16(out + 8, 5);
    put_u16(f + FT_VERSION, 5);
    put_u32(f + FT_PAGEDIR_LEN, (uint32_t)pd_len);
    put_u64(f + FT_PAGEDIR_SUM, anpr_checksum(pd, pd_len));
    put_u64(f + FT_DIR_OFF, pd_off + pd_len);
    put_u32(f + FT_DIR_LEN, (uint32_t)dir_len);
    put_u64(f + FT_DIR_SUM, anpr_checksum(dir, dir_len));
    put_u64(f + FT_INDEX_BYTES, get_u64(f + FT_INDEX_BYTES) - pd_stored + pd_len);
    put_u64(f + FT_SUM, anpr_checksum(f, FT_SUM));
    memcpy(out + out_len - SEG_FOOTER_SIZE, f, SEG_FOOTER_SIZE);
    ck_assert_int_eq(tu_write_file(path, out, out_len), 0);
    free(out);
    free(dir);
    free(pd);
    free(b);
}

/*
 * Files of versions 1 to 10 still read (10 differs from 11 only in not
 * using plate-part, 9 from 10 only in the
 * footer's count of index buckets, a power of two given as its logarithm,
 * 8 from 9 only in not using plate-rrr, 7 from 8 only in not using
 * plate-age-radix, 6 from 7 only in the layout of the index pages, 1 to 5
 * from 6 only in the directories, which 6 stores as zstd frames; versions 2
 * to 5 only added encodings); unknown or mixed versions are refused, and a
 * file labelled with the version before or after its own is corrupt, not
 * misread (a version 8 file is a version 9 file that does not use
 * plate-rrr, so it may be labelled either, and a version 7 file any of 7, 8
 * and 9; likewise a version 10 file may be labelled 11).
 */
START_TEST(format_versions)
{
    char *dir = tu_tmpdir("segment");
    char path[512];
    snprintf(path, sizeof path, "%s/s.seg", dir);
    anpr_row *rows = make_rows(3000);
    anpr_segment_info info;
    /*
     * Versions 11 to 7, each written by its writer: read under its own label
     * and every later one up to 9, not before; and from 10 on, where the
     * footer counts the index's buckets, only under 10 and later (a version
     * 11 file only under 11: its plates are plate-part).
     */
    static const struct {
        unsigned version;
        const char *plates;
    } written[] = {{SEG_FORMAT_VERSION, "plate-part"}, {SEG_FORMAT_EXACT_INDEX, "plate-rrr"}, {9, "plate-rrr"},
                   {8, "plate-age-radix"}, {7, "plate-age"}};
    for (size_t w = 0; w < sizeof written / sizeof written[0]; w++) {
        unsigned v = written[w].version;
        ck_assert_int_eq(write_segment_version(anpr_vfs_posix(), path, rows, 3000, 1024, v, NULL), ANPR_OK);
        ck_assert_str_eq(plate_encoding(path), written[w].plates);
        for (unsigned label = 6; label <= SEG_FORMAT_VERSION; label++) {
            int rc = open_as_version(path, label, label, &info);
            int misread = label < v || (v < SEG_FORMAT_EXACT_INDEX) != (label < SEG_FORMAT_EXACT_INDEX);
            ck_assert_msg(rc == (misread ? ANPR_ECORRUPT : ANPR_OK), "v%u labelled %u: %d", v, label, rc);
            if (rc == ANPR_OK) ck_assert_uint_eq(info.format_version, label);
        }
        ck_assert_int_eq(open_as_version(path, SEG_FORMAT_VERSION + 1, SEG_FORMAT_VERSION + 1, &info), ANPR_EVERSION);
    }

    ck_assert_int_eq(write_segment_version(anpr_vfs_posix(), path, rows, 3000, 1024, 6, NULL), ANPR_OK);
    ck_assert_int_eq(open_as_version(path, 6, 6, &info), ANPR_OK);
    ck_assert_uint_eq(info.format_version, 6);
    ck_assert_int_eq(open_as_version(path, 7, 7, &info), ANPR_ECORRUPT);
    ck_assert_int_eq(open_as_version(path, 5, 5, &info), ANPR_ECORRUPT);
    ck_assert_int_eq(open_as_version(path, 6, 6, &info), ANPR_OK);
    store_directories_raw(path);
    for (unsigned v = 5; v >= 3; v--) {
        ck_assert_int_eq(open_as_version(path, v, v, &info), ANPR_OK);
        ck_assert_uint_eq(info.format_version, v);
    }
    ck_assert_int_eq(open_as_version(path, 6, 6, &info), ANPR_ECORRUPT);
    ck_assert_int_eq(open_as_version(path, 1, 1, &info), ANPR_OK);
    ck_assert_uint_eq(info.format_version, 1);
    ck_assert_int_eq(open_as_version(path, 2, 2, &info), ANPR_OK);
    ck_assert_uint_eq(info.format_version, 2);
    ck_assert_int_eq(open_as_version(path, 0, 0, &info), ANPR_EVERSION);
    ck_assert_int_eq(open_as_version(path, 2, 1, &info), ANPR_EVERSION);
    free(rows);
    tu_rmrf(dir);
    free(dir);
}
END_TEST

/* The blocks each probe of a file lists, for every plate of rows[] (one in `step`), and the file's index bytes. */
static uint64_t probe_all(const char *path, const anpr_row *rows, size_t n, size_t step, uint32_t **lists,
                          size_t *lens)
{
    tu_segment t;
    tu_segment_open(&t, path);
    ck_assert_msg(seg_reader_verify(t.r) == ANPR_OK, "%s", t.err.text);
    for (size_t i = 0, k = 0; i < n; i += step, k++) {
        char folded[ANPR_PLATE_MAX + 1];
        anpr_plate_fold(folded, rows[i].plate);
        ck_assert_int_eq(seg_reader_plate_blocks(t.r, folded, &lists[k], &lens[k]), ANPR_OK);
    }
    anpr_segment_info info;
    seg_reader_info(t.r, &info);
    tu_segment_close(&t);
    return info.index_bytes;
}

/*
 * Format 7's Rice-coded index pages list exactly the blocks format 6's
 * unary pages list, for every plate, in fewer bytes; with few blocks, many,
 * one plate in every block, and a page whose codes outgrow 16-bit group
 * ends.
 */
START_TEST(index_layouts_agree)
{
    char *dir = tu_tmpdir("segment");
    char p6[512], p7[512];
    snprintf(p6, sizeof p6, "%s/6.seg", dir);
    snprintf(p7, sizeof p7, "%s/7.seg", dir);
    enum { CASES = 6 };
    const size_t nrows[CASES] = {30000, 30000, 1, 4000, 100000, 1700};
    const uint32_t block_rows[CASES] = {512, 16, 4096, 16, 16, 16};
    for (int c = 0; c < CASES; c++) {
        size_t n = nrows[c];
        anpr_row *rows = make_rows(n);
        if (c == 3) {
            /* One plate in every block: a bucket of 250 postings, gaps of zero. */
            for (size_t i = 0; i < n; i += 16) strcpy(rows[i].plate, "ONE1PLT");
            qsort(rows, n, sizeof *rows, cmp_rows);
        }
        if (c == 4) {
            /* Every plate in the first of the 64 pages: 100,000 postings over 6,250 blocks in one page. */
            uint64_t x = 12345;
            for (size_t i = 0; i < n; i++) {
                for (;;) {
                    x = x * 6364136223846793005u + 1442695040888963407u;
                    snprintf(rows[i].plate, sizeof rows[i].plate, "P%010llu", (unsigned long long)(x >> 30));
                    char folded[ANPR_PLATE_MAX + 1];
                    anpr_plate_fold(folded, rows[i].plate);
                    if (seg_plate_key(folded) >> 26 == 0) break;
                }
            }
            qsort(rows, n, sizeof *rows, cmp_rows);
        }
        if (c == 5) {
            /*
             * One plate in every block and another at the far end of its
             * group: that gap's code is longer than the reader's 57-bit look.
             */
            uint64_t nb = index_buckets(n, 1, 1); /* formats 6 and 7: a power of two */
            char x[16] = "", y[16] = "";
            for (unsigned i = 0; !*x || !*y; i++) {
                char p[16], folded[ANPR_PLATE_MAX + 1];
                snprintf(p, sizeof p, "XY%05u", i);
                anpr_plate_fold(folded, p);
                uint32_t b = seg_bucket(seg_plate_key(folded), nb);
                if (b % SEG_GROUP_BUCKETS < 4 && !*x) strcpy(x, p);
                if (*x) {
                    anpr_plate_fold(folded, x);
                    uint32_t bx = seg_bucket(seg_plate_key(folded), nb);
                    if (b / SEG_GROUP_BUCKETS == bx / SEG_GROUP_BUCKETS && b % SEG_GROUP_BUCKETS > 120) strcpy(y, p);
                }
            }
            for (size_t i = 0; i < n; i++) {
                rows[i].camera = 1;
                rows[i].ts_ms = DAY * DAY_MS + (int64_t)i;
                strcpy(rows[i].plate, i < 10 ? y : x);
            }
        }
        ck_assert_int_eq(write_segment_version(anpr_vfs_posix(), p6, rows, n, block_rows[c], 6, NULL), ANPR_OK);
        ck_assert_int_eq(write_segment_version(anpr_vfs_posix(), p7, rows, n, block_rows[c], 7, NULL), ANPR_OK);
        size_t step = n > 10000 ? 7 : 1, nprobe = (n + step - 1) / step;
        uint32_t **l6 = calloc(nprobe, sizeof *l6), **l7 = calloc(nprobe, sizeof *l7);
        size_t *n6 = calloc(nprobe, sizeof *n6), *n7 = calloc(nprobe, sizeof *n7);
        uint64_t b6 = probe_all(p6, rows, n, step, l6, n6), b7 = probe_all(p7, rows, n, step, l7, n7);
        size_t found = 0;
        for (size_t k = 0; k < nprobe; k++) {
            ck_assert_msg(n6[k] == n7[k], "case %d plate %zu: %zu blocks, %zu", c, k, n6[k], n7[k]);
            ck_assert(n6[k] == 0 || memcmp(l6[k], l7[k], n6[k] * sizeof **l6) == 0);
            /* The plate's own block is among them. */
            ck_assert(has_block(l7[k], n7[k], (uint32_t)(k * step / block_rows[c])));
            found += n7[k];
            free(l6[k]);
            free(l7[k]);
        }
        ck_assert_uint_ge(found, nprobe);
        ck_assert_msg(b7 < b6 || n == 1, "case %d: index %llu bytes in format 7, %llu in 6", c,
                      (unsigned long long)b7, (unsigned long long)b6);
        free(l6);
        free(l7);
        free(n6);
        free(n7);
        free(rows);
    }
    tu_rmrf(dir);
    free(dir);
}
END_TEST

/*
 * The writer writes only the current format and the one before it, and
 * only before its first row; an index density only of 1, 2, 4 or 8.
 */
START_TEST(writer_versions)
{
    char *dir = tu_tmpdir("segment");
    char path[512];
    snprintf(path, sizeof path, "%s/s.seg", dir);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    anpr_sink sink = {anpr_vfs_posix(), fd, 0, 0};
    seg_writer *w;
    ck_assert_int_eq(seg_writer_new(&w, &sink, DAY, 3, 0, NULL), ANPR_OK);
    ck_assert_int_eq(seg_writer_set_version(w, 5), ANPR_EINVAL);
    ck_assert_int_eq(seg_writer_set_version(w, SEG_FORMAT_VERSION + 1), ANPR_EINVAL);
    ck_assert_int_eq(seg_writer_set_version(w, 6), ANPR_OK);
    ck_assert_int_eq(seg_writer_set_index_density(w, 0), ANPR_EINVAL);
    ck_assert_int_eq(seg_writer_set_index_density(w, 3), ANPR_EINVAL);
    ck_assert_int_eq(seg_writer_set_index_density(w, 16), ANPR_EINVAL);
    anpr_row *rows = make_rows(10);
    ck_assert_int_eq(seg_writer_add(w, rows, 10), ANPR_OK);
    ck_assert_int_eq(seg_writer_set_version(w, 7), ANPR_EINVAL);
    seg_write_summary sum;
    ck_assert_int_eq(seg_writer_finish(w, &sum), ANPR_OK);
    seg_writer_free(w);
    close(fd);
    anpr_segment_info info;
    ck_assert_int_eq(open_as_version(path, 6, 6, &info), ANPR_OK);
    free(rows);
    tu_rmrf(dir);
    free(dir);
}
END_TEST

/* Is every block of a (sorted) among those of b? */
static int subset(const uint32_t *a, size_t na, const uint32_t *b, size_t nb)
{
    size_t j = 0;
    for (size_t i = 0; i < na; i++) {
        while (j < nb && b[j] < a[i]) j++;
        if (j == nb || b[j] != a[i]) return 0;
    }
    return 1;
}

/*
 * Denser indexes list, for every plate, a subset of the blocks a sparser
 * one lists, still with the plate's own block, fewer in all, for more index
 * bytes; in one unit of buckets and in groups of units, with pages and
 * groups grown to match.
 */
START_TEST(index_density_narrows_probes)
{
    char *dir = tu_tmpdir("segment");
    char path[2][512];
    enum { CASES = 2, STEP = 11 };
    const size_t nrows[CASES] = {100000, 300000};
    const uint32_t block_rows[CASES] = {256, 4096};
    const unsigned top[CASES] = {8, 2};
    for (int c = 0; c < CASES; c++) {
        size_t n = nrows[c], nprobe = (n + STEP - 1) / STEP;
        anpr_row *rows = make_rows(n);
        uint32_t **lists[2] = {calloc(nprobe, sizeof(uint32_t *)), calloc(nprobe, sizeof(uint32_t *))};
        size_t *lens[2] = {calloc(nprobe, sizeof(size_t)), calloc(nprobe, sizeof(size_t))};
        uint64_t bytes[2] = {0, 0}, total[2] = {0, 0};
        for (unsigned d = 1, k = 0; d <= top[c]; d *= 2, k ^= 1) {
            snprintf(path[k], sizeof path[k], "%s/d%u.seg", dir, d);
            ck_assert_int_eq(write_segment_as(anpr_vfs_posix(), path[k], rows, n, block_rows[c], SEG_FORMAT_VERSION,
                                              d, NULL), ANPR_OK);
            bytes[k] = probe_all(path[k], rows, n, STEP, lists[k], lens[k]);
            total[k] = 0;
            for (size_t i = 0; i < nprobe; i++) {
                ck_assert(has_block(lists[k][i], lens[k][i], (uint32_t)(i * STEP / block_rows[c])));
                total[k] += lens[k][i];
                if (d > 1) {
                    ck_assert_msg(subset(lists[k][i], lens[k][i], lists[k ^ 1][i], lens[k ^ 1][i]),
                                  "density %u, plate %zu: a block the sparser index did not list", d, i);
                    free(lists[k ^ 1][i]);
                }
            }
            if (d > 1) {
                ck_assert_uint_lt(total[k], total[k ^ 1]);
                ck_assert_uint_gt(bytes[k], bytes[k ^ 1]);
            }
        }
        /* The densest file's lists are the last ones left. */
        unsigned last = 0;
        for (unsigned d = 1; d < top[c]; d *= 2) last ^= 1;
        for (size_t i = 0; i < nprobe; i++) free(lists[last][i]);
        for (int k = 0; k < 2; k++) {
            free(lists[k]);
            free(lens[k]);
        }
        free(rows);
    }
    tu_rmrf(dir);
    free(dir);
}
END_TEST

static int cmp_u64(const void *pa, const void *pb)
{
    uint64_t a = *(const uint64_t *)pa, b = *(const uint64_t *)pb;
    return (a > b) - (a < b);
}

/*
 * Format 10 sizes the index to its rows, (rows + 1) / 2 buckets times the
 * density, whatever that comes to; a probe then lists exactly the blocks
 * holding a row whose key falls in the probed bucket, in one unit of
 * buckets laid out or many (a table over 2^18 buckets is laid out in runs
 * of whole pages that share key groups with the runs beside them).
 */
START_TEST(index_sized_to_rows)
{
    char *dir = tu_tmpdir("segment");
    char path[512];
    snprintf(path, sizeof path, "%s/x.seg", dir);
    enum { CASES = 4, STEP = 13 };
    const size_t nrows[CASES] = {1, 30001, 70001, 530001};
    const uint32_t block_rows[CASES] = {4096, 512, 256, 4096};
    const unsigned density[CASES] = {1, 1, 8, 1};
    for (int c = 0; c < CASES; c++) {
        size_t n = nrows[c], nprobe = (n + STEP - 1) / STEP;
        anpr_row *rows = make_rows(n);
        ck_assert_int_eq(write_segment_as(anpr_vfs_posix(), path, rows, n, block_rows[c], SEG_FORMAT_VERSION,
                                          density[c], NULL), ANPR_OK);
        anpr_segment *g;
        anpr_segment_info info;
        ck_assert_int_eq(anpr_segment_open(&g, path, NULL, 0), ANPR_OK);
        ck_assert_int_eq(anpr_segment_info_get(g, &info), ANPR_OK);
        anpr_segment_close(g);
        uint64_t nb = (n + 1) / 2 * density[c];
        ck_assert_uint_eq(info.index_buckets, nb);
        /* Every row's (bucket, block), sorted and without repeats: what the index must hold. */
        uint64_t *pair = malloc(n * sizeof *pair);
        for (size_t i = 0; i < n; i++) {
            char folded[ANPR_PLATE_MAX + 1];
            anpr_plate_fold(folded, rows[i].plate);
            pair[i] = (uint64_t)seg_bucket(seg_plate_key(folded), nb) << 32 | (i / block_rows[c]);
        }
        qsort(pair, n, sizeof *pair, cmp_u64);
        size_t npair = 0;
        for (size_t i = 0; i < n; i++)
            if (npair == 0 || pair[npair - 1] != pair[i]) pair[npair++] = pair[i];
        ck_assert_uint_eq(info.index_postings, npair);
        uint32_t **lists = calloc(nprobe, sizeof *lists);
        size_t *lens = calloc(nprobe, sizeof *lens);
        probe_all(path, rows, n, STEP, lists, lens);
        for (size_t k = 0; k < nprobe; k++) {
            char folded[ANPR_PLATE_MAX + 1];
            anpr_plate_fold(folded, rows[k * STEP].plate);
            uint64_t bucket = seg_bucket(seg_plate_key(folded), nb);
            size_t lo = 0, hi = npair;
            while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                if (pair[mid] >> 32 < bucket) lo = mid + 1;
                else hi = mid;
            }
            size_t want = 0;
            for (size_t j = lo; j < npair && pair[j] >> 32 == bucket; j++, want++)
                ck_assert_msg(want < lens[k] && lists[k][want] == (uint32_t)pair[j],
                              "case %d, plate %zu: bucket %llu lists another block", c, k, (unsigned long long)bucket);
            ck_assert_msg(lens[k] == want, "case %d, plate %zu: %zu blocks, %zu wanted", c, k, lens[k], want);
            free(lists[k]);
        }
        free(lists);
        free(lens);
        free(pair);
        free(rows);
    }
    tu_rmrf(dir);
    free(dir);
}
END_TEST

/* Each column's zstd_chunks in the segment at path, after checking its rows are rows[0..n). */
static void zstd_chunks(const char *path, const anpr_row *rows, size_t n, uint32_t out[SEG_NCOLUMNS])
{
    anpr_segment *g;
    ck_assert_int_eq(anpr_segment_open(&g, path, NULL, 0), ANPR_OK);
    ck_assert_int_eq(anpr_segment_verify(g), ANPR_OK);
    anpr_segment_info info;
    ck_assert_int_eq(anpr_segment_info_get(g, &info), ANPR_OK);
    anpr_row *got = malloc(info.block_rows * sizeof *got);
    size_t at = 0;
    for (uint32_t b = 0; b < info.blocks; b++) {
        size_t k = 0;
        ck_assert_int_eq(anpr_segment_rows(g, b, got, &k), ANPR_OK);
        for (size_t i = 0; i < k; i++) assert_same(&got[i], &rows[at + i], at + i);
        at += k;
    }
    ck_assert_uint_eq(at, n);
    for (unsigned col = 0; col < SEG_NCOLUMNS; col++) {
        anpr_column_info ci;
        ck_assert_int_eq(anpr_segment_column(g, col, &ci), ANPR_OK);
        out[col] = ci.zstd_chunks;
    }
    free(got);
    anpr_segment_close(g);
}

/*
 * The writer tries zstd on a chunk longer than its probe only when the
 * chunk's first bytes shrink: entropy-coded columns of traffic-like rows
 * are stored as encoded, while a block of one plate read over and over
 * (chunks of tens of KiB that repeat) is still compressed, block by block.
 */
START_TEST(zstd_only_where_it_pays)
{
    char *dir = tu_tmpdir("segment");
    char path[512];
    snprintf(path, sizeof path, "%s/s.seg", dir);
    size_t n = 20000;
    anpr_row *rows = make_rows(n);
    ck_assert_int_eq(write_segment(path, rows, n, 4096), ANPR_OK);
    uint32_t z[SEG_NCOLUMNS];
    zstd_chunks(path, rows, n, z);
    ck_assert_uint_eq(z[SEG_COL_TS], 0);
    ck_assert_uint_eq(z[SEG_COL_PLATE], 0);
    ck_assert_uint_eq(z[SEG_COL_CONFIDENCE], 0);

    /* One camera reading one long plate (12 letters: 58 bits of chunks a read) for two blocks. */
    n = 8192;
    int64_t t = DAY * DAY_MS;
    for (size_t i = 0; i < n; i++) {
        memset(&rows[i], 0, sizeof rows[i]);
        strcpy(rows[i].plate, "QWERTYUIOPAS");
        rows[i].camera = 5;
        rows[i].ts_ms = t += 1 + (int64_t)(next() % 5000);
        rows[i].confidence = 90;
        rows[i].lat_e7 = rows[i].lon_e7 = ANPR_POS_UNKNOWN;
    }
    ck_assert_int_eq(write_segment(path, rows, n, 4096), ANPR_OK);
    zstd_chunks(path, rows, n, z);
    ck_assert_uint_eq(z[SEG_COL_PLATE], 2);
    ck_assert_uint_eq(z[SEG_COL_TS], 0);
    free(rows);
    tu_rmrf(dir);
    free(dir);
}
END_TEST

START_TEST(empty_segment)
{
    char *dir = tu_tmpdir("segment");
    char path[512];
    snprintf(path, sizeof path, "%s/s.seg", dir);
    ck_assert_int_eq(write_segment(path, NULL, 0, 0), ANPR_OK);
    anpr_segment *g;
    ck_assert_int_eq(anpr_segment_open(&g, path, NULL, 0), ANPR_OK);
    anpr_segment_info info;
    anpr_segment_info_get(g, &info);
    ck_assert_uint_eq(info.rows, 0);
    ck_assert_uint_eq(info.blocks, 0);
    ck_assert_int_eq(anpr_segment_verify(g), ANPR_OK);
    anpr_segment_close(g);
    tu_rmrf(dir);
    free(dir);
}
END_TEST

/*
 * The checksum is XXH3 (64 bits) whichever copy computes it: the inline
 * one for short inputs, the AVX2 one where the CPU has it, SSE2 otherwise.
 * Known answers from the system's libxxhash (independent of this build),
 * and every length up to a few stripes at odd addresses against the inline copy.
 */
START_TEST(checksum_is_xxh3)
{
    static uint8_t b[100001];
    for (size_t i = 0; i < sizeof b; i++) b[i] = (uint8_t)(i * 7 + 3);
    ck_assert_uint_eq(anpr_checksum(b, 0), UINT64_C(0x2d06800538d394c2));
    ck_assert_uint_eq(anpr_checksum(b, 1000), UINT64_C(0x6c4f14bd97bd9e82));
    ck_assert_uint_eq(anpr_checksum(b, 100000), UINT64_C(0x0c056f6fcc340974));
    for (size_t n = 0; n < 3000; n++) {
        const uint8_t *p = b + 1 + n % 31;
        ck_assert_uint_eq(anpr_checksum_long(p, n), (uint64_t)XXH3_64bits(p, n));
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("segment");
    TCase *tc = tcase_create("segment");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, round_trip_sizes);
    tcase_add_test(tc, writer_writes_whole_pieces);
    tcase_add_test(tc, plate_key_is_the_folded_hash);
    tcase_add_test(tc, writer_refuses_disorder);
    tcase_add_test(tc, plate_index_finds_every_block);
    tcase_add_test(tc, index_layouts_agree);
    tcase_add_test(tc, writer_versions);
    tcase_add_test(tc, index_density_narrows_probes);
    tcase_add_test(tc, index_sized_to_rows);
    tcase_add_test(tc, plate_rows_picked_out);
    tcase_add_test(tc, format_versions);
    tcase_add_test(tc, zstd_only_where_it_pays);
    tcase_add_test(tc, empty_segment);
    tcase_add_test(tc, checksum_is_xxh3);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
