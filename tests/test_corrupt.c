/*
 * A flipped byte anywhere in a segment is reported, never returned as
 * data: every byte of a small segment is damaged in turn, and each time
 * either opening, verifying or decoding fails with ANPR_ECORRUPT (or
 * ANPR_EVERSION for the version field), or every row decodes exactly as
 * written. Plate probes are checked the same way.
 */
#define _GNU_SOURCE /* memmem */
#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "anpr/anpr.h"
#include "anpr/segment.h"
#include "common/bytes.h"
#include "encode/encode.h"
#include "segment/segment.h"
#include "store/store.h"
#include "testutil.h"

#define DAY 20759

static size_t make_rows(anpr_row *rows, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        memset(&rows[i], 0, sizeof rows[i]);
        rows[i].camera = (uint32_t)(i / 40);
        rows[i].ts_ms = (int64_t)DAY * 86400000 + (int64_t)(i % 40) * 60000 + (int64_t)i;
        snprintf(rows[i].plate, sizeof rows[i].plate, "K%zuX%zu", i % 13, i % 7);
        rows[i].lane = (uint8_t)(i % 3);
        rows[i].direction = (uint8_t)(i % 2);
        rows[i].confidence = (uint8_t)(60 + i % 40);
        rows[i].lat_e7 = i % 5 ? 520000000 + (int32_t)(i / 40) : ANPR_POS_UNKNOWN;
        rows[i].lon_e7 = i % 5 ? -20000000 - (int32_t)(i / 40) : ANPR_POS_UNKNOWN;
    }
    return n;
}

static void write_segment(const char *path, const anpr_row *rows, size_t n, uint32_t block_rows)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ck_assert_int_ge(fd, 0);
    anpr_sink sink = {anpr_vfs_posix(), fd, 0, 0};
    seg_writer *w;
    ck_assert_int_eq(seg_writer_new(&w, &sink, DAY, 3, block_rows, NULL), ANPR_OK);
    ck_assert_int_eq(seg_writer_add(w, rows, n), ANPR_OK);
    ck_assert_int_eq(seg_writer_finish(w, NULL), ANPR_OK);
    seg_writer_free(w);
    close(fd);
}

static int same(const anpr_row *a, const anpr_row *b)
{
    return a->ts_ms == b->ts_ms && strcmp(a->plate, b->plate) == 0 && a->camera == b->camera &&
           a->lane == b->lane && a->direction == b->direction && a->confidence == b->confidence &&
           a->lat_e7 == b->lat_e7 && a->lon_e7 == b->lon_e7;
}

/* 0 if the damage was reported, 1 if everything read back exactly; fails the test otherwise. */
static int read_back(const char *path, const anpr_row *rows, size_t n, size_t off)
{
    anpr_segment *g;
    int rc = anpr_segment_open(&g, path, NULL, 0);
    if (rc != ANPR_OK) {
        ck_assert_msg(rc == ANPR_ECORRUPT || rc == ANPR_EVERSION, "offset %zu: open returned %d", off, rc);
        return 0;
    }
    anpr_segment_info info;
    anpr_segment_info_get(g, &info);
    anpr_row *got = malloc(info.block_rows * sizeof *got);
    size_t at = 0;
    int reported = 0;
    for (uint32_t b = 0; b < info.blocks && !reported; b++) {
        size_t k;
        rc = anpr_segment_rows(g, b, got, &k);
        if (rc != ANPR_OK) {
            ck_assert_msg(rc == ANPR_ECORRUPT, "offset %zu: rows returned %d", off, rc);
            ck_assert_msg(strlen(anpr_segment_errmsg(g)) > 0, "offset %zu: no message", off);
            reported = 1;
            break;
        }
        for (size_t i = 0; i < k; i++)
            ck_assert_msg(at + i < n && same(&got[i], &rows[at + i]), "offset %zu: wrong data returned", off);
        at += k;
    }
    if (!reported) ck_assert_msg(at == n, "offset %zu: %zu rows instead of %zu", off, at, n);
    int verify = anpr_segment_verify(g);
    if (!reported && verify != ANPR_OK) {
        ck_assert_int_eq(verify, ANPR_ECORRUPT);
        reported = 1;
    }
    free(got);
    anpr_segment_close(g);
    return !reported;
}

START_TEST(every_byte_flipped)
{
    enum { N = 700 };
    char *dir = tu_tmpdir("corrupt");
    char path[4096];
    snprintf(path, sizeof path, "%s/seg", dir);
    anpr_row rows[N];
    make_rows(rows, N);
    write_segment(path, rows, N, 256);
    size_t len;
    uint8_t *orig = tu_read_file(path, &len);
    ck_assert_int_eq(read_back(path, rows, N, 0), 1);
    size_t silent = 0;
    for (size_t off = 0; off < len; off++) {
        ck_assert_int_eq(tu_write_file(path, orig, len), 0);
        ck_assert_int_eq(tu_flip_byte(path, off, 0x04), 0);
        silent += (size_t)read_back(path, rows, N, off);
    }
    /* Every byte is covered by a checksum: no flip can go unnoticed. */
    ck_assert_uint_eq(silent, 0);
    /* Truncation at any length is refused. */
    for (size_t keep = 0; keep < len; keep += 7) {
        ck_assert_int_eq(tu_write_file(path, orig, keep), 0);
        anpr_segment *g;
        ck_assert_int_eq(anpr_segment_open(&g, path, NULL, 0), ANPR_ECORRUPT);
    }
    free(orig);
    tu_rmrf(dir);
    free(dir);
}
END_TEST

START_TEST(probe_finds_every_block)
{
    enum { N = 3000 };
    char *dir = tu_tmpdir("probe");
    char path[4096];
    snprintf(path, sizeof path, "%s/seg", dir);
    static anpr_row rows[N];
    make_rows(rows, N);
    write_segment(path, rows, N, 128);
    tu_segment t;
    tu_segment_open(&t, path);
    seg_reader *r = t.r;
    ck_assert_int_eq(seg_reader_verify(r), ANPR_OK);
    for (size_t i = 0; i < N; i += 17) {
        uint32_t *blocks;
        size_t nb;
        ck_assert_int_eq(seg_reader_plate_blocks(r, rows[i].plate, &blocks, &nb), ANPR_OK);
        uint32_t want = (uint32_t)(i / 128);
        int found = 0;
        for (size_t k = 0; k < nb; k++) {
            if (k) ck_assert_uint_lt(blocks[k - 1], blocks[k]);
            found |= blocks[k] == want;
        }
        ck_assert_msg(found, "row %zu: block %u not in the probe", i, want);
        free(blocks);
        /* A misread of the plate probes the same bucket. */
        char misread[ANPR_PLATE_MAX + 1];
        strcpy(misread, rows[i].plate);
        misread[0] = 'K';
        for (char *c = misread; *c; c++)
            if (*c == '0') *c = 'O';
        uint32_t *b2;
        size_t n2;
        ck_assert_int_eq(seg_reader_plate_blocks(r, misread, &b2, &n2), ANPR_OK);
        ck_assert_uint_eq(n2, nb);
        free(b2);
    }
    tu_segment_close(&t);
    tu_rmrf(dir);
    free(dir);
}
END_TEST

START_TEST(writer_refuses_bad_rows)
{
    anpr_row rows[3];
    make_rows(rows, 3);
    int fd = open("/dev/null", O_WRONLY);
    anpr_sink sink = {anpr_vfs_posix(), fd, 0, 0};
    seg_writer *w;
    ck_assert_int_eq(seg_writer_new(&w, &sink, DAY, 3, 0, NULL), ANPR_OK);
    anpr_row swapped[2] = {rows[1], rows[0]};
    ck_assert_int_eq(seg_writer_add(w, swapped, 2), ANPR_EINVAL);
    seg_writer_free(w);
    sink.off = 0;
    ck_assert_int_eq(seg_writer_new(&w, &sink, DAY + 1, 3, 0, NULL), ANPR_OK);
    ck_assert_int_eq(seg_writer_add(w, rows, 1), ANPR_EINVAL); /* another day */
    seg_writer_free(w);
    close(fd);
}
END_TEST

/* ---- A damaged segment in a store ---------------------------------------- */

#define STORE_DAYS 4
#define PER_DAY 3000

static int64_t store_day0; /* midnight UTC four days ago */

/* Reads of `days` whole days, one camera a read modulo 5, plates S<day><n>. */
static void fill_store(const char *dir)
{
    anpr_store *s;
    anpr_store_options o = ANPR_STORE_OPTIONS_INIT;
    o.flags = ANPR_OPEN_CREATE;
    o.block_rows = 256; /* 12 blocks a day: enough for a query of two days to be shared among threads */
    ck_assert_int_eq(anpr_store_open(&s, dir, &o), ANPR_OK);
    anpr_writer *w;
    ck_assert_int_eq(anpr_writer_open(&w, s), ANPR_OK);
    static anpr_read reads[PER_DAY];
    static char plates[PER_DAY][16];
    for (int d = 0; d < STORE_DAYS; d++) {
        for (int i = 0; i < PER_DAY; i++) {
            snprintf(plates[i], 16, "S%d%05d", d, i);
            reads[i] = (anpr_read){.ts_ms = store_day0 + d * INT64_C(86400000) + i * INT64_C(20000),
                                   .plate = plates[i], .camera = (uint32_t)(i % 5), .lane = 1, .confidence = 80,
                                   .lat_e7 = ANPR_POS_UNKNOWN, .lon_e7 = ANPR_POS_UNKNOWN};
        }
        ck_assert_int_eq(anpr_writer_append(w, reads, PER_DAY, NULL, NULL), ANPR_OK);
    }
    ck_assert_int_eq(anpr_writer_commit(w), ANPR_OK);
    ck_assert_int_eq(anpr_writer_merge(w, ANPR_ALL_DAYS), ANPR_OK);
    ck_assert_int_eq(anpr_writer_close(w), ANPR_OK);
    anpr_store_close(s);
}

/* The segment file of day d (0-based from store_day0), from the store's own list. */
static void day_file(anpr_store *s, const char *dir, int d, char *path, size_t size, char *name, size_t name_size)
{
    anpr_file_info *files;
    size_t n;
    ck_assert_int_eq(anpr_store_files(s, &files, &n), ANPR_OK);
    ck_assert_uint_eq(n, STORE_DAYS);
    for (size_t i = 0; i < n; i++)
        if (files[i].day == (int32_t)(store_day0 / 86400000) + d) {
            snprintf(path, size, "%s/%s", dir, files[i].name);
            snprintf(name, name_size, "%s", files[i].name);
        }
    free(files);
}

/* Reads the query returns, or a negative status with the message in msg. */
static long long count_query(anpr_store *s, int64_t from, int64_t to, const char *plate, char *msg, size_t msg_size)
{
    anpr_query q = ANPR_QUERY_INIT;
    q.from_ms = from;
    q.to_ms = to;
    q.plate = plate;
    anpr_cursor *c;
    int rc = anpr_query_open(&c, s, &q);
    if (rc != ANPR_OK) {
        snprintf(msg, msg_size, "%s", anpr_errmsg(s));
        return rc;
    }
    anpr_batch b;
    long long n = 0;
    while ((rc = anpr_cursor_next(c, &b)) == 1) n += (long long)b.n;
    if (rc < 0) snprintf(msg, msg_size, "%s", anpr_cursor_errmsg(c));
    anpr_cursor_close(c);
    return rc < 0 ? rc : n;
}

/*
 * One day's segment with a flipped byte in its data (day 2), another cut
 * short (day 3): a query that needs either fails with ANPR_ECORRUPT and a
 * message naming the file, never with wrong reads; a query of an intact day
 * answers in full. The same with the blocks of a query shared among
 * threads: a query of days 0 to 2 answers day 0 alone, then days 1 and 2
 * together, enough blocks to share; whichever thread claims the damaged
 * day 2, its failure must be the query's.
 */
START_TEST(damaged_segments_fail_their_queries_only)
{
    store_day0 = ((int64_t)time(NULL) * 1000 / 86400000 - 4) * 86400000;
    char *dir = tu_tmpdir("corrupt-store");
    fill_store(dir);
    anpr_store *s;
    anpr_store_options o = ANPR_STORE_OPTIONS_INIT;
    ck_assert_int_eq(anpr_store_open(&s, dir, &o), ANPR_OK);
    char flipped[4096], cut[4096], flipped_name[256], cut_name[256], msg[512];
    day_file(s, dir, 2, flipped, sizeof flipped, flipped_name, sizeof flipped_name);
    day_file(s, dir, 3, cut, sizeof cut, cut_name, sizeof cut_name);
    anpr_store_close(s);
    ck_assert_int_eq(tu_flip_byte(flipped, 100, 0x10), 0); /* inside the first block's chunks */
    ck_assert_int_eq(truncate(cut, tu_file_size(cut) - 7), 0);

    for (unsigned threads = 1; threads <= 2; threads++) {
        o.query_threads = threads;
        ck_assert_int_eq(anpr_store_open(&s, dir, &o), ANPR_OK);
        const int64_t D = INT64_C(86400000);
        long long n = count_query(s, store_day0, store_day0 + D, NULL, msg, sizeof msg);
        ck_assert_msg(n == PER_DAY, "the intact day: %lld reads (%s)", n, msg);
        n = count_query(s, store_day0, store_day0 + D, "S000042", msg, sizeof msg);
        ck_assert_msg(n == 1, "a plate of the intact day: %lld (%s)", n, msg);

        n = count_query(s, store_day0 + 2 * D, store_day0 + 3 * D, NULL, msg, sizeof msg);
        ck_assert_int_eq(n, ANPR_ECORRUPT);
        ck_assert_msg(strstr(msg, flipped_name) != NULL, "the message does not name %s: %s", flipped_name, msg);
        n = count_query(s, store_day0, store_day0 + 3 * D, NULL, msg, sizeof msg);
        ck_assert_int_eq(n, ANPR_ECORRUPT);
        ck_assert_msg(strstr(msg, flipped_name) != NULL, "the message does not name %s: %s", flipped_name, msg);
        ck_assert_uint_eq(s->slices_shared > 0, threads > 1);
        n = count_query(s, store_day0 + 3 * D, store_day0 + 4 * D, NULL, msg, sizeof msg);
        ck_assert_int_eq(n, ANPR_ECORRUPT);
        ck_assert_msg(strstr(msg, cut_name) != NULL, "the message does not name %s: %s", cut_name, msg);
        n = count_query(s, INT64_MIN, INT64_MAX, NULL, msg, sizeof msg);
        ck_assert_int_eq(n, ANPR_ECORRUPT);

        /* Still answering the intact day afterwards, on the same handle. */
        n = count_query(s, store_day0, store_day0 + D, NULL, msg, sizeof msg);
        ck_assert_msg(n == PER_DAY, "the intact day after the failures: %lld reads (%s)", n, msg);
        anpr_store_close(s);
    }
    tu_rmrf(dir);
    free(dir);
}
END_TEST

/*
 * Block 0's plate search in steps, as a query that copies blocks makes it
 * (rule_out_blocks in query.c): its plate table, then the sections the
 * table places, then (when the block may hold the plate) the rest of its
 * span but the chunk's parts, each copied from `span` into a buffer whose
 * other bytes are poisoned. It must answer as seg_reader_find_plate does on
 * the whole span, which gave want_rc and want_hits (ECORRUPT naming the
 * same section), and the rows it finds decode as they do from the span.
 */
static void check_steps(tu_segment *t, const uint8_t *span, uint64_t span_off, uint32_t span_len,
                        const enc_plate_target *target, int want_rc, size_t want_hits, const char *where)
{
    static uint32_t at[4096];
    static anpr_row out[4096], rows[4096], whole[4096];
    uint8_t *part = malloc(span_len);
    ck_assert_ptr_nonnull(part);
    memset(part, 0xA5, span_len);
    uint64_t off, rest = 0;
    uint32_t len;
    ck_assert_int_eq(seg_reader_plate_table(t->r, 0, &off, &len), 0);
    ck_assert_uint_eq(len, ENC_PART_TABLE_BYTES);
    ck_assert(off >= span_off && off - span_off < span_len);
    uint8_t *chunk = part + (off - span_off);
    memcpy(chunk, span + (off - span_off), len);
    seg_range sec[ENC_PART_PROBE_SECTIONS];
    size_t n = 0, nhit = 0;
    int rc = seg_reader_plate_sections(t->r, 0, chunk, target, sec, &n, &rest);
    if (rc == 0) {
        ck_assert(n >= 1 && n <= ENC_PART_PROBE_SECTIONS);
        ck_assert(rest > off && rest <= span_off + span_len);
        for (size_t k = 0; k < n; k++) {
            ck_assert(sec[k].off >= off + len && sec[k].len > 0 && sec[k].off + sec[k].len <= span_off + span_len);
            memcpy(part + (sec[k].off - span_off), span + (sec[k].off - span_off), sec[k].len);
        }
        rc = seg_reader_plate_absent(t->r, 0, chunk, target, at);
    }
    if (rc == 0) {
        memcpy(part, span, off - span_off);
        memcpy(part + (rest - span_off), span + (rest - span_off), span_off + span_len - rest);
        rc = seg_reader_find_plate(t->r, 0, part, target, at, out, &nhit);
        ck_assert(rc != 0 || nhit > 0 || want_hits == 0);
    } else if (rc == 1) {
        rc = 0;
    }
    ck_assert_msg(rc == want_rc && nhit == want_hits, "%s: in steps %d, %zu hits; whole %d, %zu", where, rc, nhit,
                  want_rc, want_hits);
    if (rc == 0 && nhit > 0) {
        ck_assert_int_eq(seg_reader_decode_rows(t->r, 0, part, at, nhit, rows, 0), 0);
        ck_assert_int_eq(seg_reader_decode_rows(t->r, 0, span, at, nhit, whole, 0), 0);
        for (size_t h = 0; h < nhit; h++) {
            ck_assert(rows[h].ts_ms == whole[h].ts_ms && rows[h].camera == whole[h].camera);
            ck_assert(rows[h].confidence == whole[h].confidence && rows[h].lat_e7 == whole[h].lat_e7);
        }
    }
    free(part);
}

/*
 * plate-part: a search of a block trusts the plate chunk's table on the sum
 * the block directory keeps, and each section it reads on the table's sum,
 * in place of the whole chunk's checksum. A byte changed in the table, in
 * the part that the plate's letters fall in, or (for a plate that is there)
 * in the part ids, bitmap and ages, is reported naming it; a byte changed in
 * another part leaves the search's answer whole and right, and the block's
 * decode (every read of it, anpr-dump --verify) refuses it.
 */
START_TEST(plate_search_checks_what_it_reads)
{
    enum { N = 2000 };
    char *dir = tu_tmpdir("corrupt-part");
    char path[4096];
    snprintf(path, sizeof path, "%s/seg", dir);
    static anpr_row rows[N], out[N];
    static uint32_t at[N];
    make_rows(rows, N);
    /*
     * Current-format plates whose last letters, A to H, put them in parts 0
     * to 7; the other letters scattered, as a camera's are, so that the
     * chunk is stored as it is (zstd does not shrink it).
     */
    static const char letters[] = "ABCDEFGHJKLMNOPRSTUVWXY";
    for (size_t i = 0; i < N; i++) {
        uint32_t h = (uint32_t)i * UINT32_C(2654435761);
        snprintf(rows[i].plate, sizeof rows[i].plate, "%c%c%02zu%c%c%c", letters[h % 23], letters[h / 23 % 23],
                 i % 50, letters[h / 529 % 23], letters[h / 12167 % 23], "ABCDEFGH"[i % 8]);
    }
    write_segment(path, rows, N, 4096);
    /* The plate chunk, found in the file by its bytes. */
    enc_buf chunk = {0};
    ck_assert_int_eq(enc_plate_encode(&chunk, ENC_PLATE_PART, rows, N), 0);
    size_t flen;
    uint8_t *file = tu_read_file(path, &flen);
    const uint8_t *found = memmem(file, flen, chunk.data, chunk.len);
    ck_assert_ptr_nonnull(found);
    tu_segment t;
    tu_segment_open(&t, path);
    uint64_t span_off;
    uint32_t span_len;
    ck_assert_int_eq(seg_reader_block_span(t.r, 0, &span_off, &span_len), 0);
    size_t table = (size_t)(found - file) - span_off, part_at[9];
    part_at[0] = table + ENC_PART_TABLE_BYTES;
    for (unsigned p = 0; p < 8; p++) part_at[p + 1] = part_at[p] + (get_u16(chunk.data + 2 * p) * 20 + 7) / 8;
    uint8_t *span = malloc(span_len);
    ck_assert_ptr_nonnull(span);
    /* Row 57's plate (part 1) is in the block; AB99CDF (part 5) is not. */
    enc_plate_target *here, *absent;
    ck_assert_int_eq(enc_plate_target_new(&here, rows[57].plate, 0), 0);
    ck_assert_int_eq(enc_plate_target_new(&absent, "AB99CDF", 0), 0);
    size_t want = 0;
    for (size_t i = 0; i < N; i++) want += strcmp(rows[i].plate, rows[57].plate) == 0;
    static const struct {
        int where;  /* -1: no change; 0: the table; 1 + p: part p; 10: the part ids */
        int here;   /* what the search for the plate that is there gives: 1 its rows, 0 ECORRUPT */
        int absent; /* the same for the plate that is not */
        const char *named;
    } cases[] = {{-1, 1, 1, NULL},          {0, 0, 0, "table"},        {1 + 1, 0, 1, "letters part 1"},
                 {1 + 5, 1, 0, "letters part 5"}, {10, 0, 1, "part ids, bitmap and ages"}};
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        memcpy(span, file + span_off, span_len);
        int w = cases[k].where;
        size_t off = w < 0 ? 0 : w == 0 ? table + 20 : w == 10 ? part_at[8] : part_at[w - 1] + 1;
        if (w >= 0) span[off] ^= 0x10;
        size_t nhit = 0;
        int rc = seg_reader_find_plate(t.r, 0, span, here, at, out, &nhit);
        check_steps(&t, span, span_off, span_len, here, rc, nhit, "here");
        if (cases[k].here) {
            ck_assert_msg(rc == 0 && nhit == want, "case %zu: %d, %zu of %zu", k, rc, nhit, want);
            for (size_t h = 0; h < nhit; h++) ck_assert_str_eq(out[h].plate, rows[57].plate);
        } else {
            ck_assert_msg(rc == ANPR_ECORRUPT, "case %zu: %d", k, rc);
            ck_assert_msg(strstr(t.err.text, cases[k].named) != NULL, "case %zu: %s", k, t.err.text);
        }
        rc = seg_reader_find_plate(t.r, 0, span, absent, at, out, &nhit);
        check_steps(&t, span, span_off, span_len, absent, rc, nhit, "absent");
        if (cases[k].absent) {
            ck_assert_msg(rc == 0 && nhit == 0, "case %zu: %d, %zu", k, rc, nhit);
        } else {
            ck_assert_msg(rc == ANPR_ECORRUPT, "case %zu: %d", k, rc);
            ck_assert_msg(strstr(t.err.text, cases[k].named) != NULL, "case %zu: %s", k, t.err.text);
        }
        size_t n;
        rc = seg_reader_decode_block(t.r, 0, span, out, &n);
        ck_assert_int_eq(rc, w < 0 ? 0 : ANPR_ECORRUPT);
    }
    /*
     * Row 59's plate ends in D (part 3); misread-tolerant, it may end in O
     * too (the 14th letter of the alphabet without I and Q: part 5): found
     * in part 3, the search still checks part 5 before it reads it.
     */
    char folded[ANPR_PLATE_MAX + 1];
    anpr_plate_fold(folded, rows[59].plate);
    enc_plate_target *fuzzy;
    ck_assert_int_eq(enc_plate_target_new(&fuzzy, folded, 1), 0);
    for (int damaged = 0; damaged < 2; damaged++) {
        memcpy(span, file + span_off, span_len);
        if (damaged) span[part_at[5] + 1] ^= 0x10;
        size_t nhit = 0;
        int rc = seg_reader_find_plate(t.r, 0, span, fuzzy, at, out, &nhit);
        check_steps(&t, span, span_off, span_len, fuzzy, rc, nhit, "fuzzy");
        if (damaged) {
            ck_assert_int_eq(rc, ANPR_ECORRUPT);
            ck_assert_msg(strstr(t.err.text, "letters part 5") != NULL, "%s", t.err.text);
        } else {
            ck_assert_msg(rc == 0 && nhit >= 1, "%d, %zu", rc, nhit);
        }
    }
    enc_plate_target_free(fuzzy);
    enc_plate_target_free(here);
    enc_plate_target_free(absent);
    free(span);
    free(file);
    enc_buf_free(&chunk);
    tu_segment_close(&t);
    tu_rmrf(dir);
    free(dir);
}
END_TEST

/* A byte in the middle of the index page that a probe for plate reads in segment file path. */
static uint64_t index_page_of(const char *path, const char *plate)
{
    tu_segment t;
    tu_segment_open(&t, path);
    ck_assert_int_eq(seg_reader_load_pagedir(t.r, NULL), ANPR_OK);
    char folded[ANPR_PLATE_MAX + 1];
    anpr_plate_fold(folded, plate);
    uint32_t page, len;
    uint64_t off;
    ck_assert_int_eq(seg_reader_page_span(t.r, folded, &page, &off, &len), ANPR_OK);
    tu_segment_close(&t);
    return off + len / 2;
}

/*
 * ANPR_OPEN_MAP: a byte flipped in a segment's first block after the store
 * mapped the file (a query has read the day through the mapping) is seen by
 * the next queries, through that mapping, as ANPR_ECORRUPT naming the file,
 * for the day and for a plate in that block, on one thread and on two; with
 * the byte put back, the same handle answers in full again. The same for a
 * byte of the index page that the plate's probe takes from the mapping.
 */
START_TEST(damage_seen_through_a_mapping)
{
    store_day0 = ((int64_t)time(NULL) * 1000 / 86400000 - 4) * 86400000;
    char *dir = tu_tmpdir("corrupt-mapped");
    fill_store(dir);
    const int64_t D = INT64_C(86400000);
    char path[4096], name[256], msg[512];
    for (unsigned threads = 1; threads <= 2; threads++) {
        anpr_store *s;
        anpr_store_options o = ANPR_STORE_OPTIONS_INIT;
        o.flags = ANPR_OPEN_MAP;
        o.query_threads = threads;
        ck_assert_int_eq(anpr_store_open(&s, dir, &o), ANPR_OK);
        day_file(s, dir, 2, path, sizeof path, name, sizeof name);
        long long n = count_query(s, store_day0 + D, store_day0 + 3 * D, NULL, msg, sizeof msg);
        ck_assert_msg(n == 2 * PER_DAY, "days 1 and 2 intact: %lld reads (%s)", n, msg);
        ck_assert_ptr_nonnull(s->newest_reader);
        ck_assert_ptr_nonnull(s->newest_reader->map);

        ck_assert_int_eq(tu_flip_byte(path, 100, 0x10), 0); /* inside the first block's chunks */
        uint64_t mapped = s->groups_mapped;
        n = count_query(s, store_day0 + D, store_day0 + 3 * D, NULL, msg, sizeof msg);
        ck_assert_int_eq(n, ANPR_ECORRUPT);
        ck_assert_uint_gt(s->groups_mapped, mapped); /* the file's pages are in memory: its blocks were mapped */
        ck_assert_msg(strstr(msg, name) != NULL, "the message does not name %s: %s", name, msg);
        n = count_query(s, store_day0 + 2 * D, store_day0 + 3 * D, "S200000", msg, sizeof msg);
        ck_assert_int_eq(n, ANPR_ECORRUPT);
        n = count_query(s, store_day0 + D, store_day0 + 2 * D, NULL, msg, sizeof msg);
        ck_assert_msg(n == PER_DAY, "the intact day 1: %lld reads (%s)", n, msg);

        ck_assert_int_eq(tu_flip_byte(path, 100, 0x10), 0); /* put back */
        n = count_query(s, store_day0 + D, store_day0 + 3 * D, NULL, msg, sizeof msg);
        ck_assert_msg(n == 2 * PER_DAY, "days 1 and 2 mended: %lld reads (%s)", n, msg);
        n = count_query(s, store_day0 + 2 * D, store_day0 + 3 * D, "S200000", msg, sizeof msg);
        ck_assert_msg(n == 1, "the plate of the mended block: %lld (%s)", n, msg);

        /* The same for the index page the plate's probe takes from the mapping. */
        uint64_t off = index_page_of(path, "S200000");
        ck_assert_int_eq(tu_flip_byte(path, off, 0x10), 0);
        uint64_t pages = s->pages_mapped;
        n = count_query(s, store_day0 + 2 * D, store_day0 + 3 * D, "S200000", msg, sizeof msg);
        ck_assert_int_eq(n, ANPR_ECORRUPT);
        ck_assert_uint_gt(s->pages_mapped, pages); /* taken from the mapping, and its checksum still checked */
        ck_assert_msg(strstr(msg, name) != NULL, "the message does not name %s: %s", name, msg);
        ck_assert_int_eq(tu_flip_byte(path, off, 0x10), 0);
        n = count_query(s, store_day0 + 2 * D, store_day0 + 3 * D, "S200000", msg, sizeof msg);
        ck_assert_msg(n == 1, "the plate of the mended index page: %lld (%s)", n, msg);
        anpr_store_close(s);
    }
    tu_rmrf(dir);
    free(dir);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("corrupt");
    TCase *tc = tcase_create("segment");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, every_byte_flipped);
    tcase_add_test(tc, probe_finds_every_block);
    tcase_add_test(tc, plate_search_checks_what_it_reads);
    tcase_add_test(tc, writer_refuses_bad_rows);
    tcase_add_test(tc, damaged_segments_fail_their_queries_only);
    tcase_add_test(tc, damage_seen_through_a_mapping);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
