/*
 * Micro-benchmarks of the storage hot paths on one synthetic day's rows, in
 * segment order (camera, then time), cut into blocks of 4,096 rows as the
 * writer cuts them:
 *
 *   column/<name>/encode|decode   each column's light encoding (the one the
 *                                 writer picks for it) over every block
 *   column/<name>/decode_at       one row of each block picked out
 *   plate/<enc>/encode|decode     plate-uk, plate-split and plate-shapes
 *   plate/<enc>/find[_fuzzy]      a plate's rows in each block, by code (with
 *                                 fuzzy, misread-tolerant: the long-form
 *                                 plates a misreading could be are looked at)
 *   zstd/confidence               level-3 compression and decompression of the
 *                                 confidence bytes (format version 2's form)
 *   segment/write                 a day into a segment file (index included)
 *   segment/probe                 one plate-hash index probe
 *   segment/decode_block          one block, all columns, checked
 *   segment/lookup                a plate's rows in a block: find, then those rows
 *
 * Items are rows (a probe or lookup: one). `--rows N` (first argument)
 * sets the day's size; default 600,000 (1/100 of national volume).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "anpr/anpr.h"
#include "anpr/segment.h"
#include "encode/encode.h"
#include "gbench.h"
#include "read/read.h"
#include "segment/segment.h"
#include "synth.h"

#define BLOCK 4096

static anpr_row *rows;
static size_t nrows, nblocks;
static int64_t *values; /* one column of every row, in block order */
static char seg_path[256];

static int cmp_rows(const void *pa, const void *pb)
{
    const anpr_row *a = pa, *b = pb;
    if (a->camera != b->camera) return a->camera < b->camera ? -1 : 1;
    if (a->ts_ms != b->ts_ms) return a->ts_ms < b->ts_ms ? -1 : 1;
    return strcmp(a->plate, b->plate);
}

static void die(const char *what, int rc)
{
    fprintf(stderr, "bench_codec: %s: %s\n", what, anpr_strerror(rc));
    exit(1);
}

/* The first day's reads of the generator, validated and sorted as a segment holds them. */
static void make_rows(size_t want)
{
    synth_config cfg;
    synth_config_default(&cfg, want);
    cfg.late_rate = cfg.duplicate_rate = 0; /* one day, each read once */
    synth *g;
    int rc = synth_new(&g, &cfg);
    if (rc) die("synth", rc);
    rows = malloc(want * sizeof *rows);
    anpr_read buf[4096];
    read_limits lim = {.max_ts_ms = INT64_MAX, .min_kept_ms = 0};
    int32_t day = anpr_day_of(cfg.start_ms);
    size_t n;
    while (nrows < want && (n = synth_next(g, buf, 4096)) > 0)
        for (size_t i = 0; i < n && nrows < want; i++)
            if (read_validate(&rows[nrows], &buf[i], &lim) == ANPR_OK && anpr_day_of(rows[nrows].ts_ms) == day)
                nrows++;
    synth_free(g);
    qsort(rows, nrows, sizeof *rows, cmp_rows);
    for (size_t i = 1; i < nrows; i++) /* a segment never holds one read twice */
        if (cmp_rows(&rows[i - 1], &rows[i]) == 0) rows[i].ts_ms++;
    qsort(rows, nrows, sizeof *rows, cmp_rows);
    nblocks = (nrows + BLOCK - 1) / BLOCK;
    values = malloc(nrows * sizeof *values);
}

static size_t block_len(size_t b)
{
    return nrows - b * BLOCK < BLOCK ? nrows - b * BLOCK : BLOCK;
}

/* ---- Integer columns --------------------------------------------------- */

typedef struct column {
    const char *name;
    int64_t (*get)(const anpr_row *r);
    unsigned id; /* chosen by enc_int_encode_best on the first block */
    enc_buf *enc; /* per block */
} column;

static int64_t get_ts(const anpr_row *r) { return r->ts_ms; }
static int64_t get_camera(const anpr_row *r) { return r->camera; }
static int64_t get_lane(const anpr_row *r) { return r->lane; }
static int64_t get_confidence(const anpr_row *r) { return r->confidence; }
static int64_t get_lat(const anpr_row *r) { return r->lat_e7; }

static column columns[] = {
    {"ts_ms", get_ts, 0, NULL},     {"camera", get_camera, 0, NULL},
    {"lane", get_lane, 0, NULL},    {"confidence", get_confidence, 0, NULL},
    {"lat", get_lat, 0, NULL},
};
#define NCOLUMNS (sizeof columns / sizeof columns[0])

static void fill_values(const column *c)
{
    for (size_t i = 0; i < nrows; i++) values[i] = c->get(&rows[i]);
}

static void prepare_column(column *c)
{
    fill_values(c);
    c->enc = calloc(nblocks, sizeof *c->enc);
    for (size_t b = 0; b < nblocks; b++) {
        unsigned id;
        int rc = enc_int_encode_best(&c->enc[b], &id, values + b * BLOCK, block_len(b));
        if (rc) die("encode", rc);
        if (b == 0) c->id = id;
    }
    /* Every block in the first block's encoding, so that one encoding is measured. */
    for (size_t b = 0; b < nblocks; b++) {
        c->enc[b].len = 0;
        int rc = enc_int_encode(&c->enc[b], c->id, values + b * BLOCK, block_len(b));
        if (rc) die("encode", rc);
    }
}

static void bench_column_encode(gbench_state *st, void *arg)
{
    column *c = arg;
    fill_values(c);
    enc_buf out = {0};
    while (gbench_keep_running(st))
        for (size_t b = 0; b < nblocks; b++) {
            out.len = 0;
            enc_int_encode(&out, c->id, values + b * BLOCK, block_len(b));
        }
    enc_buf_free(&out);
    gbench_set_items_processed(st, gbench_iterations(st) * (int64_t)nrows);
}

static void bench_column_decode(gbench_state *st, void *arg)
{
    column *c = arg;
    int64_t *v = malloc(BLOCK * sizeof *v);
    size_t bytes = 0;
    for (size_t b = 0; b < nblocks; b++) bytes += c->enc[b].len;
    while (gbench_keep_running(st))
        for (size_t b = 0; b < nblocks; b++)
            if (enc_int_decode(v, block_len(b), c->id, c->enc[b].data, c->enc[b].len) != 0) die("decode", ANPR_ECORRUPT);
    free(v);
    gbench_set_items_processed(st, gbench_iterations(st) * (int64_t)nrows);
    gbench_counter(st, "bytes_per_row", (double)bytes / (double)nrows);
}

static void bench_column_decode_at(gbench_state *st, void *arg)
{
    column *c = arg;
    int64_t v;
    uint32_t at;
    uint64_t x = 1;
    while (gbench_keep_running(st))
        for (size_t b = 0; b < nblocks; b++) {
            x = x * 6364136223846793005u + 1442695040888963407u;
            at = (uint32_t)((x >> 33) % block_len(b));
            if (enc_int_decode_at(&v, &at, 1, block_len(b), c->id, c->enc[b].data, c->enc[b].len))
                die("decode_at", ANPR_ECORRUPT);
        }
    gbench_set_items_processed(st, gbench_iterations(st) * (int64_t)nblocks);
}

/* ---- Plates ------------------------------------------------------------ */

typedef struct plate_enc {
    const char *name;
    unsigned id;
    enc_buf *enc;
} plate_enc;

static plate_enc plate_encs[] = {
    {"plate-uk", ENC_PLATE_UK, NULL},
    {"plate-split", ENC_PLATE_SPLIT, NULL},
    {"plate-shapes", ENC_PLATE_SHAPES, NULL},
    {"plate-age", ENC_PLATE_AGE, NULL},
    {"plate-age-radix", ENC_PLATE_AGE_RADIX, NULL},
    {"plate-rrr", ENC_PLATE_RRR, NULL},
    {"plate-part", ENC_PLATE_PART, NULL}};
#define NPLATE_ENCS (sizeof plate_encs / sizeof plate_encs[0])

static void prepare_plates(plate_enc *p)
{
    p->enc = calloc(nblocks, sizeof *p->enc);
    for (size_t b = 0; b < nblocks; b++) {
        int rc = enc_plate_encode(&p->enc[b], p->id, rows + b * BLOCK, block_len(b));
        if (rc) die("plate encode", rc);
    }
}

static void bench_plate_encode(gbench_state *st, void *arg)
{
    plate_enc *p = arg;
    enc_buf out = {0};
    while (gbench_keep_running(st))
        for (size_t b = 0; b < nblocks; b++) {
            out.len = 0;
            enc_plate_encode(&out, p->id, rows + b * BLOCK, block_len(b));
        }
    enc_buf_free(&out);
    size_t bytes = 0;
    for (size_t b = 0; b < nblocks; b++) bytes += p->enc[b].len;
    gbench_set_items_processed(st, gbench_iterations(st) * (int64_t)nrows);
    gbench_counter(st, "bytes_per_row", (double)bytes / (double)nrows);
}

static void bench_plate_decode(gbench_state *st, void *arg)
{
    plate_enc *p = arg;
    anpr_row *out = malloc(BLOCK * sizeof *out);
    while (gbench_keep_running(st))
        for (size_t b = 0; b < nblocks; b++)
            if (enc_plate_decode(out, block_len(b), p->id, p->enc[b].data, p->enc[b].len)) die("decode", ANPR_ECORRUPT);
    free(out);
    gbench_set_items_processed(st, gbench_iterations(st) * (int64_t)nrows);
}

/*
 * Each block searched for the plate of its middle row (outside the current
 * format in about one block of seven), exactly or, with fold, misread-tolerant.
 */
static void plate_find(gbench_state *st, const plate_enc *p, int fold)
{
    uint32_t *at = malloc(BLOCK * sizeof *at);
    anpr_row *out = malloc(BLOCK * sizeof *out);
    enc_plate_target **targets = malloc(nblocks * sizeof *targets);
    for (size_t b = 0; b < nblocks; b++) {
        char want[ANPR_PLATE_MAX + 1];
        const char *plate = rows[b * BLOCK + block_len(b) / 2].plate;
        if (fold) anpr_plate_fold(want, plate);
        else strcpy(want, plate);
        if (enc_plate_target_new(&targets[b], want, fold)) die("target", -ENOMEM);
    }
    size_t hits = 0;
    while (gbench_keep_running(st))
        for (size_t b = 0; b < nblocks; b++) {
            size_t nhit;
            if (enc_plate_find(p->id, p->enc[b].data, p->enc[b].len, block_len(b), targets[b], at, out, &nhit))
                die("find", ANPR_ECORRUPT);
            hits += nhit;
        }
    for (size_t b = 0; b < nblocks; b++) enc_plate_target_free(targets[b]);
    free(targets);
    free(at);
    free(out);
    gbench_set_items_processed(st, gbench_iterations(st) * (int64_t)nrows);
    gbench_counter(st, "hits_per_block", (double)hits / (double)(gbench_iterations(st) * (int64_t)nblocks));
}

static void bench_plate_find(gbench_state *st, void *arg)
{
    plate_find(st, arg, 0);
}

static void bench_plate_find_fuzzy(gbench_state *st, void *arg)
{
    plate_find(st, arg, 1);
}

/* ---- zstd -------------------------------------------------------------- */

static void bench_zstd(gbench_state *st, void *arg)
{
    int decompress = arg != NULL;
    column *c = &columns[3]; /* confidence as version 2 stored it (bytes under zstd), beside huffman-ck */
    uint8_t *raw = malloc(nrows);
    for (size_t i = 0; i < nrows; i++) raw[i] = (uint8_t)c->get(&rows[i]);
    ZSTD_CCtx *cctx = ZSTD_createCCtx();
    ZSTD_DCtx *dctx = ZSTD_createDCtx();
    enc_buf *z = calloc(nblocks, sizeof *z);
    for (size_t b = 0; b < nblocks; b++) enc_zstd_compress(&z[b], cctx, 3, raw + b * BLOCK, block_len(b));
    uint8_t out[BLOCK];
    while (gbench_keep_running(st))
        for (size_t b = 0; b < nblocks; b++) {
            if (decompress) {
                if (enc_zstd_decompress(out, block_len(b), dctx, z[b].data, z[b].len)) die("zstd", ANPR_ECORRUPT);
            } else {
                z[b].len = 0;
                enc_zstd_compress(&z[b], cctx, 3, raw + b * BLOCK, block_len(b));
            }
        }
    for (size_t b = 0; b < nblocks; b++) enc_buf_free(&z[b]);
    free(z);
    ZSTD_freeCCtx(cctx);
    ZSTD_freeDCtx(dctx);
    free(raw);
    gbench_set_bytes_processed(st, gbench_iterations(st) * (int64_t)nrows);
}

/* ---- Segments ---------------------------------------------------------- */

static void write_segment(void)
{
    int fd = open(seg_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) die("open", -errno);
    anpr_sink sink = {anpr_vfs_posix(), fd, 0, 0};
    seg_writer *w;
    int rc = seg_writer_new(&w, &sink, anpr_day_of(rows[0].ts_ms), 3, BLOCK, NULL);
    if (rc == 0) rc = seg_writer_add(w, rows, nrows);
    seg_write_summary sum;
    if (rc == 0) rc = seg_writer_finish(w, &sum);
    if (rc) die("segment write", rc);
    seg_writer_free(w);
    close(fd);
}

static void bench_segment_write(gbench_state *st, void *arg)
{
    (void)arg;
    while (gbench_keep_running(st)) write_segment();
    gbench_set_items_processed(st, gbench_iterations(st) * (int64_t)nrows);
}

typedef struct opened {
    int fd;
    anpr_source src;
    anpr_errmsg_buf err;
    seg_reader *r;
} opened;

static void open_segment(opened *o)
{
    o->fd = open(seg_path, O_RDONLY);
    if (o->fd < 0) die("open", -errno);
    o->src = (anpr_source){anpr_vfs_posix(), o->fd, (uint64_t)lseek(o->fd, 0, SEEK_END)};
    memset(&o->err, 0, sizeof o->err);
    int rc = seg_reader_open(&o->r, &o->src, &o->err);
    if (rc) die("segment open", rc);
}

static void close_segment(opened *o)
{
    seg_reader_free(o->r);
    close(o->fd);
}

static void bench_segment_probe(gbench_state *st, void *arg)
{
    (void)arg;
    opened o;
    open_segment(&o);
    size_t i = 0;
    while (gbench_keep_running(st)) {
        char folded[ANPR_PLATE_MAX + 1];
        anpr_plate_fold(folded, rows[i].plate);
        i = (i + 7919) % nrows;
        uint32_t *blocks;
        size_t nb;
        if (seg_reader_plate_blocks(o.r, folded, &blocks, &nb)) die("probe", ANPR_ECORRUPT);
        free(blocks);
    }
    close_segment(&o);
    gbench_set_items_processed(st, gbench_iterations(st));
}

/* The block spans, read once: the benchmarks below measure decoding, not the page cache. */
static uint8_t **load_spans(opened *o)
{
    uint8_t **spans = calloc(nblocks, sizeof *spans);
    for (uint32_t b = 0; b < nblocks; b++) {
        uint64_t off;
        uint32_t len;
        if (seg_reader_block_span(o->r, b, &off, &len)) die("span", ANPR_ECORRUPT);
        spans[b] = malloc(len);
        if (pread(o->fd, spans[b], len, (off_t)off) != (ssize_t)len) die("pread", -EIO);
    }
    return spans;
}

static void free_spans(uint8_t **spans)
{
    for (size_t b = 0; b < nblocks; b++) free(spans[b]);
    free(spans);
}

static void bench_segment_decode_block(gbench_state *st, void *arg)
{
    (void)arg;
    opened o;
    open_segment(&o);
    uint8_t **spans = load_spans(&o);
    anpr_row *out = malloc(BLOCK * sizeof *out);
    uint32_t b = 0;
    while (gbench_keep_running(st)) {
        size_t n;
        if (seg_reader_decode_block(o.r, b, spans[b], out, &n)) die("decode block", ANPR_ECORRUPT);
        b = (b + 1) % (uint32_t)nblocks;
    }
    free(out);
    free_spans(spans);
    close_segment(&o);
    gbench_set_items_processed(st, gbench_iterations(st) * BLOCK);
}

/* What a plate history does in each block it touches: find the vehicle's rows, decode those rows only. */
static void bench_segment_lookup(gbench_state *st, void *arg)
{
    (void)arg;
    opened o;
    open_segment(&o);
    uint8_t **spans = load_spans(&o);
    anpr_row *out = malloc(BLOCK * sizeof *out);
    uint32_t *at = malloc(BLOCK * sizeof *at);
    uint32_t b = 0;
    while (gbench_keep_running(st)) {
        gbench_pause(st);
        const char *plate = rows[(size_t)b * BLOCK + block_len(b) / 3].plate;
        enc_plate_target *target;
        size_t nhit;
        if (enc_plate_target_new(&target, plate, 0)) die("target", -ENOMEM);
        gbench_resume(st);
        if (seg_reader_find_plate(o.r, b, spans[b], target, at, out, &nhit) ||
            seg_reader_decode_rows(o.r, b, spans[b], at, nhit, out, 0))
            die("lookup", ANPR_ECORRUPT);
        enc_plate_target_free(target);
        b = (b + 1) % (uint32_t)nblocks;
    }
    free(out);
    free(at);
    free_spans(spans);
    close_segment(&o);
    gbench_set_items_processed(st, gbench_iterations(st));
}

int main(int argc, char **argv)
{
    size_t want = 600000;
    if (argc > 2 && strcmp(argv[1], "--rows") == 0) {
        want = strtoull(argv[2], NULL, 10);
        argv[2] = argv[0];
        argc -= 2;
        argv += 2;
    }
    make_rows(want);
    snprintf(seg_path, sizeof seg_path, "/tmp/anpr-bench-codec-%d.seg", (int)getpid());
    write_segment();

    static char names[64][64];
    int k = 0;
    for (size_t c = 0; c < NCOLUMNS; c++) {
        prepare_column(&columns[c]);
        snprintf(names[k], 64, "column/%s/%s/encode", columns[c].name, enc_name(columns[c].id));
        gbench_register(names[k++], bench_column_encode, &columns[c]);
        snprintf(names[k], 64, "column/%s/%s/decode", columns[c].name, enc_name(columns[c].id));
        gbench_register(names[k++], bench_column_decode, &columns[c]);
        snprintf(names[k], 64, "column/%s/%s/decode_at", columns[c].name, enc_name(columns[c].id));
        gbench_register(names[k++], bench_column_decode_at, &columns[c]);
    }
    for (size_t p = 0; p < NPLATE_ENCS; p++) {
        prepare_plates(&plate_encs[p]);
        snprintf(names[k], 64, "plate/%s/encode", plate_encs[p].name);
        gbench_register(names[k++], bench_plate_encode, &plate_encs[p]);
        snprintf(names[k], 64, "plate/%s/decode", plate_encs[p].name);
        gbench_register(names[k++], bench_plate_decode, &plate_encs[p]);
        snprintf(names[k], 64, "plate/%s/find", plate_encs[p].name);
        gbench_register(names[k++], bench_plate_find, &plate_encs[p]);
        snprintf(names[k], 64, "plate/%s/find_fuzzy", plate_encs[p].name);
        gbench_register(names[k++], bench_plate_find_fuzzy, &plate_encs[p]);
    }
    gbench_register("zstd/confidence/compress", bench_zstd, NULL);
    gbench_register("zstd/confidence/decompress", bench_zstd, (void *)1);
    gbench_register("segment/write", bench_segment_write, NULL);
    gbench_register("segment/probe", bench_segment_probe, NULL);
    gbench_register("segment/decode_block", bench_segment_decode_block, NULL);
    gbench_register("segment/lookup", bench_segment_lookup, NULL);
    int rc = gbench_main(argc, argv);
    unlink(seg_path);
    return rc;
}
