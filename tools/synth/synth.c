/*
 * The generator: capture times follow a diurnal curve (drawn in order by
 * inverting its distribution), cameras and vehicles are drawn from skewed
 * distributions, and a queue holds reads that will arrive late or again.
 */
#include "synth.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "plates.h"

#define DAY_MS INT64_C(86400000)
#define MINUTES 1440
#define UK_LAT_MIN 500000000
#define UK_LAT_SPAN 86000000   /* 50.0 .. 58.6 N */
#define UK_LON_MIN (-60000000)
#define UK_LON_SPAN 78000000   /* 6.0 W .. 1.8 E */

typedef struct camera {
    int32_t lat, lon;
    uint8_t lanes, direction, mobile;
} camera;

typedef struct pending {
    uint64_t release;    /* stream position at which it arrives */
    anpr_read read;
    char plate[20];
} pending;

struct synth {
    synth_config c;
    uint64_t rng;
    camera *cams;
    double *cam_cdf;         /* cumulative popularity, last = 1 */
    double minute_cdf[MINUTES + 1];
    uint64_t seq;            /* capture reads generated so far */
    uint64_t total;          /* capture reads in the whole stream */
    pending *heap;           /* min-heap on release */
    size_t nheap, heap_cap;
    char (*plates)[20];      /* plate texts of the last batch handed out */
    size_t plates_cap;
};

static uint64_t next_u64(synth *s)
{
    return s->rng = synth_mix(s->rng);
}

static double next_unit(synth *s)
{
    return (double)(next_u64(s) >> 11) * (1.0 / 9007199254740992.0);
}

void synth_config_default(synth_config *c, uint64_t reads_per_day)
{
    memset(c, 0, sizeof *c);
    c->seed = 1;
    c->reads_per_day = reads_per_day;
    c->days = 1;
    c->start_ms = INT64_C(20759) * DAY_MS; /* 2026-11-02 */
    double scale = (double)reads_per_day / 60e6;
    c->cameras = (uint32_t)(11000 * scale);
    if (c->cameras < 20) c->cameras = 20;
    c->vehicles = (uint64_t)(41.2e6 * scale);
    if (c->vehicles < 100) c->vehicles = 100;
    c->misread_rate = 0.015;
    c->late_rate = 0.005;
    c->duplicate_rate = 0.002;
    c->mobile_share = 0.03;
}

/* Reads per minute of the day: 10% of daytime at 03:00, peaks near 08:00 and 17:00. */
static double diurnal(double hour)
{
    double night = 0.08;
    double day = 0.55 / (1 + exp(-(hour - 6.0) * 2.0)) - 0.55 / (1 + exp(-(hour - 21.0) * 1.5));
    double am = 0.45 * exp(-(hour - 8.0) * (hour - 8.0) / (2 * 1.2 * 1.2));
    double pm = 0.40 * exp(-(hour - 17.0) * (hour - 17.0) / (2 * 1.5 * 1.5));
    return night + day + am + pm;
}

int synth_new(synth **out, const synth_config *c)
{
    *out = NULL;
    if (c->reads_per_day == 0 || c->days == 0 || c->cameras == 0 || c->vehicles == 0 || c->start_ms < 0 ||
        c->start_ms % DAY_MS != 0)
        return -EINVAL;
    synth *s = calloc(1, sizeof *s);
    if (!s) return -ENOMEM;
    s->c = *c;
    s->rng = synth_mix(c->seed ^ 0x5eed);
    s->total = c->reads_per_day * c->days;
    s->cams = calloc(c->cameras, sizeof *s->cams);
    s->cam_cdf = malloc(c->cameras * sizeof *s->cam_cdf);
    if (!s->cams || !s->cam_cdf) {
        synth_free(s);
        return -ENOMEM;
    }
    /* Camera popularity follows a power law: a few motorway sites see tens of thousands a day. */
    double sum = 0;
    for (uint32_t i = 0; i < c->cameras; i++) {
        sum += 1.0 / pow(i + 1.0, 0.9);
        s->cam_cdf[i] = sum;
    }
    uint64_t mobile_every = c->mobile_share > 0 ? (uint64_t)(1.0 / c->mobile_share) : 0;
    for (uint32_t i = 0; i < c->cameras; i++) {
        s->cam_cdf[i] /= sum;
        uint64_t r = synth_mix(c->seed * 31 + i);
        camera *cam = &s->cams[i];
        cam->lat = UK_LAT_MIN + (int32_t)(r % UK_LAT_SPAN);
        cam->lon = UK_LON_MIN + (int32_t)((r >> 32) % UK_LON_SPAN);
        cam->lanes = (uint8_t)(1 + (r >> 20) % 4);
        cam->direction = (uint8_t)((r >> 24) % 2);
        /* Spread mobile units over the popularity ranks so they carry about their share of reads. */
        cam->mobile = mobile_every && i % mobile_every == mobile_every / 2;
    }
    s->cam_cdf[c->cameras - 1] = 1.0;
    double acc = 0;
    s->minute_cdf[0] = 0;
    for (int m = 0; m < MINUTES; m++) {
        acc += diurnal((m + 0.5) / 60.0);
        s->minute_cdf[m + 1] = acc;
    }
    for (int m = 0; m <= MINUTES; m++) s->minute_cdf[m] /= acc;
    *out = s;
    return 0;
}

void synth_free(synth *s)
{
    if (!s) return;
    free(s->cams);
    free(s->cam_cdf);
    free(s->heap);
    free(s->plates);
    free(s);
}

uint64_t synth_total(const synth *s)
{
    return s->total;
}

/* Millisecond of the day for quantile p, by inverting the diurnal distribution. */
static int64_t time_of_day(const synth *s, double p)
{
    size_t lo = 0, hi = MINUTES;
    while (hi - lo > 1) {
        size_t mid = (lo + hi) / 2;
        if (s->minute_cdf[mid] <= p) lo = mid;
        else hi = mid;
    }
    double span = s->minute_cdf[lo + 1] - s->minute_cdf[lo];
    double frac = span > 0 ? (p - s->minute_cdf[lo]) / span : 0;
    int64_t ms = (int64_t)((lo + frac) * 60000.0);
    return ms < DAY_MS ? ms : DAY_MS - 1;
}

static uint32_t pick_camera(synth *s)
{
    double u = next_unit(s);
    size_t lo = 0, hi = s->c.cameras - 1;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (s->cam_cdf[mid] < u) lo = mid + 1;
        else hi = mid;
    }
    return (uint32_t)lo;
}

static int heap_push(synth *s, const pending *p)
{
    if (s->nheap == s->heap_cap) {
        size_t ncap = s->heap_cap ? s->heap_cap * 2 : 1024;
        pending *nh = realloc(s->heap, ncap * sizeof *nh);
        if (!nh) return -ENOMEM;
        s->heap = nh;
        s->heap_cap = ncap;
    }
    size_t i = s->nheap++;
    while (i > 0 && s->heap[(i - 1) / 2].release > p->release) {
        s->heap[i] = s->heap[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    s->heap[i] = *p;
    return 0;
}

static void heap_pop(synth *s, pending *out)
{
    *out = s->heap[0];
    pending last = s->heap[--s->nheap];
    size_t i = 0;
    for (;;) {
        size_t l = 2 * i + 1, m = i;
        if (l < s->nheap && s->heap[l].release < last.release) m = l;
        if (l + 1 < s->nheap && s->heap[l + 1].release < (m == i ? last.release : s->heap[m].release)) m = l + 1;
        if (m == i) break;
        s->heap[i] = s->heap[m];
        i = m;
    }
    if (s->nheap) s->heap[i] = last;
}

/* One capture read at stream position seq, with its plate text in p->plate. */
static void make_read(synth *s, uint64_t seq, pending *p)
{
    const synth_config *c = &s->c;
    uint64_t day = seq / c->reads_per_day, j = seq % c->reads_per_day;
    double q = ((double)j + next_unit(s)) / (double)c->reads_per_day;
    uint32_t cam = pick_camera(s);
    const camera *k = &s->cams[cam];
    /* Vehicle frequency is skewed: u^2.5 sends a sixth of the fleet half the reads. */
    double u = next_unit(s);
    uint64_t vid = (uint64_t)(pow(u, 2.5) * (double)c->vehicles);
    char plate[16];
    synth_plate(plate, c->seed, vid);
    uint64_t r = next_u64(s);
    if (next_unit(s) < c->misread_rate) synth_misread(plate, r);
    synth_as_sent(p->plate, plate, r >> 16);
    anpr_read *rd = &p->read;
    rd->ts_ms = c->start_ms + (int64_t)day * DAY_MS + time_of_day(s, q);
    rd->camera = cam + 1;
    rd->lane = (uint8_t)(1 + (r >> 24) % k->lanes);
    rd->direction = k->direction;
    /* OCR confidence is mostly high, with a tail of poor reads. */
    unsigned conf = 99 - (unsigned)(pow(next_unit(s), 3.0) * 60.0);
    rd->confidence = (uint8_t)conf;
    if (k->mobile) {
        /* A mobile unit moves: each read carries its own GPS fix near the unit's patrol area. */
        rd->lat_e7 = k->lat + (int32_t)((r >> 32) % 2000000) - 1000000;
        rd->lon_e7 = k->lon + (int32_t)((r >> 40) % 2000000) - 1000000;
    } else {
        rd->lat_e7 = k->lat;
        rd->lon_e7 = k->lon;
    }
}

size_t synth_next(synth *s, anpr_read *out, size_t cap)
{
    if (s->plates_cap < cap) {
        char(*np)[20] = realloc(s->plates, cap * sizeof *np);
        if (!np) return 0;
        s->plates = np;
        s->plates_cap = cap;
    }
    size_t n = 0;
    double reads_per_ms = (double)s->c.reads_per_day / (double)DAY_MS;
    while (n < cap) {
        pending p;
        if (s->nheap && (s->heap[0].release <= s->seq || s->seq >= s->total)) {
            /* A late read or a resend whose time has come (or the stream has ended). */
            heap_pop(s, &p);
        } else if (s->seq < s->total) {
            make_read(s, s->seq, &p);
            uint64_t seq = s->seq++;
            double roll = next_unit(s);
            if (roll < s->c.late_rate) {
                /* Buffered while the camera was offline: mostly minutes, some up to 48 hours. */
                double delay_ms = 48.0 * 3600e3 * pow(next_unit(s), 3.0) + 60e3;
                p.release = seq + 1 + (uint64_t)(delay_ms * reads_per_ms);
                if (heap_push(s, &p) < 0) return n;
                continue;
            }
            if (roll < s->c.late_rate + s->c.duplicate_rate) {
                /* Sent now and again after a reconnect a few minutes later. */
                pending again = p;
                again.release = seq + 1 + (uint64_t)(600e3 * next_unit(s) * reads_per_ms);
                if (heap_push(s, &again) < 0) return n;
            }
        } else {
            break;
        }
        memcpy(s->plates[n], p.plate, sizeof p.plate);
        out[n] = p.read;
        out[n].plate = s->plates[n];
        n++;
    }
    return n;
}

int synth_csv_header(FILE *f)
{
    return fputs("ts_ms,plate,camera,lane,direction,confidence,lat,lon\n", f) < 0 ? -EIO : 0;
}

static void put_coord(char **p, int32_t v)
{
    /* Exact decimal degrees with 7 places, from integer units of 1e-7 degree. */
    int64_t x = v;
    if (x < 0) {
        *(*p)++ = '-';
        x = -x;
    }
    *p += sprintf(*p, "%lld.%07lld", (long long)(x / 10000000), (long long)(x % 10000000));
}

int synth_csv_write(FILE *f, const anpr_read *r, size_t n)
{
    char line[160];
    for (size_t i = 0; i < n; i++) {
        char *p = line;
        p += sprintf(p, "%lld,%s,%u,%u,%u,%u,", (long long)r[i].ts_ms, r[i].plate, r[i].camera, r[i].lane,
                     r[i].direction, r[i].confidence);
        if (r[i].lat_e7 != ANPR_POS_UNKNOWN) {
            put_coord(&p, r[i].lat_e7);
            *p++ = ',';
            put_coord(&p, r[i].lon_e7);
        } else {
            *p++ = ',';
        }
        *p++ = '\n';
        if (fwrite(line, 1, (size_t)(p - line), f) != (size_t)(p - line)) return -EIO;
    }
    return 0;
}
