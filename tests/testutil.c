#define _GNU_SOURCE
#include "testutil.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "read/read.h"

static int tmp_counter;

static void mkdir_p(const char *path)
{
    char buf[4096];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *p = buf + 1; *p; p++) {
        if (*p == '/') {
            *p = '\0';
            mkdir(buf, 0755);
            *p = '/';
        }
    }
    mkdir(buf, 0755);
}

char *tu_tmpdir(const char *name)
{
    const char *base = getenv("ANPR_TEST_TMP");
    if (!base || !*base) base = "/tmp/anpr-tests";
    mkdir_p(base);
    size_t n = strlen(base) + strlen(name) + 64;
    char *path = malloc(n);
    if (!path) abort();
    snprintf(path, n, "%s/%s-%ld-%d", base, name, (long)getpid(), tmp_counter++);
    tu_rmrf(path);
    if (mkdir(path, 0755) != 0) {
        fprintf(stderr, "tu_tmpdir: mkdir %s: %s\n", path, strerror(errno));
        abort();
    }
    return path;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st; (void)flag; (void)ftw;
    remove(path);
    return 0;
}

void tu_rmrf(const char *path)
{
    nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

uint8_t *tu_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *buf = malloc(n > 0 ? (size_t)n : 1);
    if (buf && n > 0 && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    if (buf && len) *len = (size_t)n;
    return buf;
}

int tu_write_file(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    int ok = fwrite(data, 1, len, f) == len;
    return (fclose(f) == 0 && ok) ? 0 : -1;
}

int tu_flip_byte(const char *path, uint64_t offset, uint8_t mask)
{
    int fd = open(path, O_RDWR);
    if (fd < 0) return -1;
    uint8_t b;
    int rc = -1;
    if (pread(fd, &b, 1, (off_t)offset) == 1) {
        b ^= mask ? mask : 0x01;
        if (pwrite(fd, &b, 1, (off_t)offset) == 1) rc = 0;
    }
    close(fd);
    return rc;
}

long long tu_file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (long long)st.st_size : -1;
}

int tu_run_suite(Suite *s)
{
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

int tu_query_all(anpr_store *s, uint64_t *n, char *why, size_t why_len)
{
    anpr_query q = ANPR_QUERY_INIT;
    anpr_cursor *c;
    if (anpr_query_open(&c, s, &q) != ANPR_OK) {
        snprintf(why, why_len, "query open failed");
        return -1;
    }
    anpr_batch b;
    int rc;
    *n = 0;
    int64_t last_ts = INT64_MIN;
    uint32_t last_cam = 0;
    char last_plate[ANPR_PLATE_MAX + 1] = "";
    while ((rc = anpr_cursor_next(c, &b)) == 1) {
        for (size_t i = 0; i < b.n; i++, ++*n) {
            int order = b.ts_ms[i] > last_ts ? 1 : b.ts_ms[i] < last_ts ? -1
                      : b.camera[i] != last_cam ? (b.camera[i] > last_cam ? 1 : -1)
                      : strcmp(b.plate[i], last_plate);
            if (*n > 0 && order <= 0) {
                snprintf(why, why_len, "read %llu out of order or repeated", (unsigned long long)*n);
                anpr_cursor_close(c);
                return -1;
            }
            last_ts = b.ts_ms[i];
            last_cam = b.camera[i];
            memcpy(last_plate, b.plate[i], sizeof last_plate);
        }
    }
    if (rc != 0) snprintf(why, why_len, "cursor: %s", anpr_cursor_errmsg(c));
    anpr_cursor_close(c);
    return rc;
}

int tu_row_cmp(const void *pa, const void *pb)
{
    const anpr_row *a = pa, *b = pb;
    if (a->camera != b->camera) return a->camera < b->camera ? -1 : 1;
    if (a->ts_ms != b->ts_ms) return a->ts_ms < b->ts_ms ? -1 : 1;
    return strcmp(a->plate, b->plate);
}

int tu_row_same(const anpr_row *a, const anpr_row *b)
{
    return tu_row_cmp(a, b) == 0 && a->lane == b->lane && a->direction == b->direction &&
           a->confidence == b->confidence && a->lat_e7 == b->lat_e7 && a->lon_e7 == b->lon_e7;
}

int tu_row_from_read(anpr_row *out, const anpr_read *r)
{
    /* The writer's own conversion, with no time limits: any valid read, however old or new. */
    static const read_limits any_time = {INT64_MAX, 0};
    memset(out, 0, sizeof *out);
    return read_validate(out, r, &any_time);
}

int tu_has_temp_file(const char *dir, char *name, size_t name_len)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int found = 0;
    while (d && !found && (e = readdir(d)) != NULL)
        if (strncmp(e->d_name, ".tmp-", 5) == 0) {
            snprintf(name, name_len, "%s", e->d_name);
            found = 1;
        }
    if (d) closedir(d);
    return found;
}

anpr_store *tu_store_create_retained(const char *dir, size_t memory_budget, unsigned retention_days)
{
    anpr_store_options o = ANPR_STORE_OPTIONS_INIT;
    char err[512] = "";
    o.flags = ANPR_OPEN_CREATE;
    o.memory_budget = memory_budget;
    o.retention_days = retention_days;
    o.errbuf = err;
    o.errbuf_size = sizeof err;
    anpr_store *s = NULL;
    ck_assert_msg(anpr_store_open(&s, dir, &o) == ANPR_OK, "open %s: %s", dir, err);
    return s;
}

anpr_store *tu_store_create(const char *dir, size_t memory_budget)
{
    return tu_store_create_retained(dir, memory_budget, 0);
}

void tu_segment_open(tu_segment *t, const char *path)
{
    memset(t, 0, sizeof *t);
    t->fd = open(path, O_RDONLY);
    ck_assert_msg(t->fd >= 0, "%s: %s", path, strerror(errno));
    t->src = (anpr_source){anpr_vfs_posix(), t->fd, (uint64_t)tu_file_size(path)};
    int rc = seg_reader_open(&t->r, &t->src, &t->err);
    ck_assert_msg(rc == ANPR_OK, "%s: %s", path, t->err.text);
}

void tu_segment_close(tu_segment *t)
{
    seg_reader_free(t->r);
    close(t->fd);
    t->r = NULL;
    t->fd = -1;
}
