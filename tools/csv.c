/* A strict CSV reader for plate reads, and the time and coordinate parsers it uses. */
#include "csv.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

enum col { COL_TS_MS, COL_TS, COL_PLATE, COL_CAMERA, COL_LANE, COL_DIRECTION, COL_CONFIDENCE, COL_LAT, COL_LON, NCOLS };

static const char *const col_names[NCOLS] = {"ts_ms", "ts", "plate", "camera", "lane",
                                             "direction", "confidence", "lat", "lon"};

#define MAX_FIELDS 256

struct csv_reader {
    FILE *f;
    unsigned long line;
    int index[NCOLS];       /* field position of each column, -1 if absent */
    int nfields;           /* fields in the header */
    char *buf;             /* the current line */
    char *fields[MAX_FIELDS];
};

static void say(char *err, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void say(char *err, size_t size, const char *fmt, ...)
{
    if (!err || !size) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, size, fmt, ap);
    va_end(ap);
}

/*
 * Read one line into r->buf. Returns 1, 0 at EOF, or -1 for a line over
 * CSV_LINE_MAX (the rest of it is skipped so the next line reads cleanly).
 */
static int read_line(csv_reader *r)
{
    if (!fgets(r->buf, CSV_LINE_MAX + 2, r->f)) return 0;
    r->line++;
    size_t len = strlen(r->buf);
    if (len > 0 && r->buf[len - 1] == '\n') {
        r->buf[--len] = '\0';
    } else if (!feof(r->f)) {
        int c;
        while ((c = fgetc(r->f)) != EOF && c != '\n') {
        }
        return -1;
    }
    if (len > CSV_LINE_MAX) return -1;
    if (len > 0 && r->buf[len - 1] == '\r') r->buf[--len] = '\0';
    return 1;
}

/* Split r->buf into fields in place; quotes may wrap a field, "" inside is a quote. -1 on a bad quote. */
static int split(csv_reader *r, int *n)
{
    char *p = r->buf, *w;
    *n = 0;
    for (;;) {
        if (*n == MAX_FIELDS) return -1;
        if (*p == '"') {
            r->fields[(*n)++] = w = ++p;
            for (;;) {
                if (*p == '\0') return -1;
                if (*p == '"') {
                    if (p[1] == '"') {
                        *w++ = '"';
                        p += 2;
                        continue;
                    }
                    p++;
                    break;
                }
                *w++ = *p++;
            }
            if (*p != ',' && *p != '\0') return -1;
            *w = '\0';
        } else {
            r->fields[(*n)++] = p;
            while (*p && *p != ',') {
                if (*p == '"') return -1;
                p++;
            }
        }
        if (*p == '\0') return 0;
        *p++ = '\0';
    }
}

int csv_open(csv_reader **out, FILE *f, char *err, size_t err_size)
{
    *out = NULL;
    csv_reader *r = calloc(1, sizeof *r);
    if (!r || !(r->buf = malloc(CSV_LINE_MAX + 2))) {
        free(r);
        say(err, err_size, "out of memory");
        return -ENOMEM;
    }
    r->f = f;
    int rc = read_line(r);
    int n = 0;
    if (rc <= 0 || split(r, &n) < 0) {
        say(err, err_size, rc == 0 ? "empty input: expected a header row" : "line 1: the header row cannot be read");
        csv_close(r);
        return -EINVAL;
    }
    for (int c = 0; c < NCOLS; c++) r->index[c] = -1;
    for (int i = 0; i < n; i++) {
        for (int c = 0; c < NCOLS; c++) {
            if (strcmp(r->fields[i], col_names[c]) != 0) continue;
            if (r->index[c] >= 0) {
                say(err, err_size, "line 1: column %s appears twice", col_names[c]);
                csv_close(r);
                return -EINVAL;
            }
            r->index[c] = i;
        }
    }
    r->nfields = n;
    const char *missing = NULL;
    if (r->index[COL_TS_MS] < 0 && r->index[COL_TS] < 0) missing = "ts_ms (or ts)";
    for (int c = COL_PLATE; !missing && c <= COL_CONFIDENCE; c++)
        if (r->index[c] < 0) missing = col_names[c];
    if (!missing && (r->index[COL_LAT] < 0) != (r->index[COL_LON] < 0))
        missing = r->index[COL_LAT] < 0 ? "lat" : "lon";
    if (missing) {
        say(err, err_size, "line 1: the header has no column %s", missing);
        csv_close(r);
        return -EINVAL;
    }
    *out = r;
    return 0;
}

static int parse_uint(const char *s, uint64_t max, uint64_t *v)
{
    if (!*s) return -1;
    uint64_t x = 0;
    for (; *s; s++) {
        if (*s < '0' || *s > '9') return -1;
        if (x > (max - (uint64_t)(*s - '0')) / 10) return -1;
        x = x * 10 + (uint64_t)(*s - '0');
    }
    *v = x;
    return 0;
}

int csv_parse_degrees(const char *s, int32_t *e7)
{
    int neg = *s == '-';
    if (*s == '-' || *s == '+') s++;
    int64_t whole = 0, frac = 0;
    int digits = 0, places = 0;
    for (; *s >= '0' && *s <= '9'; s++, digits++) {
        whole = whole * 10 + (*s - '0');
        if (whole > 214) return -1; /* beyond what 1e-7 degree units in an int32 hold */
    }
    if (*s == '.') {
        for (s++; *s >= '0' && *s <= '9'; s++, places++) {
            if (places == 7) return -1; /* finer than the store keeps: refuse rather than round */
            frac = frac * 10 + (*s - '0');
        }
    }
    if (*s || digits + places == 0) return -1;
    for (int i = places; i < 7; i++) frac *= 10;
    int64_t v = whole * 10000000 + frac;
    if (v > INT32_MAX) return -1;
    *e7 = (int32_t)(neg ? -v : v);
    return 0;
}

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static int digits_at(const char *s, int n, int *v)
{
    *v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return -1;
        *v = *v * 10 + (s[i] - '0');
    }
    return 0;
}

int csv_parse_time(const char *s, int64_t *ms)
{
    uint64_t v;
    if (parse_uint(s, INT64_MAX, &v) == 0) {
        *ms = (int64_t)v;
        return 0;
    }
    int y, mo, d, h, mi, se, frac = 0;
    if (strlen(s) < 19 || digits_at(s, 4, &y) || s[4] != '-' || digits_at(s + 5, 2, &mo) || s[7] != '-' ||
        digits_at(s + 8, 2, &d) || (s[10] != 'T' && s[10] != ' ') || digits_at(s + 11, 2, &h) || s[13] != ':' ||
        digits_at(s + 14, 2, &mi) || s[16] != ':' || digits_at(s + 17, 2, &se))
        return -1;
    const char *p = s + 19;
    if (*p == '.') {
        int places = 0;
        for (p++; *p >= '0' && *p <= '9'; p++, places++) {
            if (places < 3) frac = frac * 10 + (*p - '0');
        }
        if (places == 0) return -1;
        for (; places < 3; places++) frac *= 10;
    }
    if (strcmp(p, "Z") != 0 && strcmp(p, "+00:00") != 0 && *p != '\0') return -1;
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || h > 23 || mi > 59 || se > 60) return -1;
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (mo == 2 && d == 29 && !leap) return -1;
    int64_t days = days_from_civil(y, (unsigned)mo, (unsigned)d);
    *ms = ((days * 24 + h) * 60 + mi) * INT64_C(60000) + se * INT64_C(1000) + frac;
    return 0;
}

static const char *field(const csv_reader *r, int c, int n)
{
    int i = r->index[c];
    return i >= 0 && i < n ? r->fields[i] : NULL;
}

int csv_next(csv_reader *r, anpr_read *out, char *plate, char *err, size_t err_size)
{
    int rc;
    do {
        rc = read_line(r);
        if (rc == 0) return 0;
        if (rc < 0) {
            say(err, err_size, "line %lu: longer than %d bytes", r->line, CSV_LINE_MAX);
            return -1;
        }
    } while (r->buf[0] == '\0');
    int n;
    if (split(r, &n) < 0) {
        say(err, err_size, "line %lu: a quoted field is not closed properly", r->line);
        return -1;
    }
    if (n != r->nfields) {
        say(err, err_size, "line %lu: %d fields, the header has %d", r->line, n, r->nfields);
        return -1;
    }
    memset(out, 0, sizeof *out);
    const char *s;
    uint64_t v;
    if ((s = field(r, COL_TS_MS, n)) != NULL) {
        if (parse_uint(s, INT64_MAX, &v) < 0) {
            say(err, err_size, "line %lu: ts_ms: \"%.40s\" is not a whole number of ms", r->line, s);
            return -1;
        }
        out->ts_ms = (int64_t)v;
    } else {
        s = field(r, COL_TS, n);
        if (csv_parse_time(s, &out->ts_ms) < 0) {
            say(err, err_size, "line %lu: ts: \"%.40s\" is not an ISO-8601 UTC time", r->line, s);
            return -1;
        }
    }
    s = field(r, COL_PLATE, n);
    if (strlen(s) >= CSV_PLATE_MAX) {
        say(err, err_size, "line %lu: plate: longer than %d characters", r->line, CSV_PLATE_MAX - 1);
        return -1;
    }
    strcpy(plate, s);
    out->plate = plate;
    static const struct { int col; uint64_t max; } ints[] = {
        {COL_CAMERA, UINT32_MAX}, {COL_LANE, 255}, {COL_DIRECTION, 255}, {COL_CONFIDENCE, 255}};
    for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++) {
        s = field(r, ints[i].col, n);
        if (parse_uint(s, ints[i].max, &v) < 0) {
            say(err, err_size, "line %lu: %s: \"%.40s\" is not an integer from 0 to %llu", r->line,
                col_names[ints[i].col], s, (unsigned long long)ints[i].max);
            return -1;
        }
        switch (ints[i].col) {
        case COL_CAMERA: out->camera = (uint32_t)v; break;
        case COL_LANE: out->lane = (uint8_t)v; break;
        case COL_DIRECTION: out->direction = (uint8_t)v; break;
        default: out->confidence = (uint8_t)v; break;
        }
    }
    out->lat_e7 = out->lon_e7 = ANPR_POS_UNKNOWN;
    const char *lat = field(r, COL_LAT, n), *lon = field(r, COL_LON, n);
    if (lat && lon && (*lat || *lon)) {
        /* Both or neither: the library names a half-known position, but an empty one is CSV's business. */
        if (!*lat || !*lon) {
            say(err, err_size, "line %lu: %s: empty while %s is given", r->line, *lat ? "lon" : "lat",
                *lat ? "lat" : "lon");
            return -1;
        }
        if (csv_parse_degrees(lat, &out->lat_e7) < 0 || csv_parse_degrees(lon, &out->lon_e7) < 0) {
            int bad_lat = csv_parse_degrees(lat, &out->lat_e7) < 0;
            say(err, err_size, "line %lu: %s: \"%.40s\" is not decimal degrees with at most 7 places", r->line,
                bad_lat ? "lat" : "lon", bad_lat ? lat : lon);
            return -1;
        }
    }
    return 1;
}

unsigned long csv_line(const csv_reader *r)
{
    return r->line;
}

void csv_close(csv_reader *r)
{
    if (!r) return;
    free(r->buf);
    free(r);
}
