/*
 * anpr-bench's expiry phase: drop the store's oldest days one at a time with
 * anpr_writer_expire, as a retention job would, and time each drop.
 */
#include <string.h>

#include "phases.h"

#define DAY_MS INT64_C(86400000)

int bench_expire_run(anpr_store *s, uint64_t days, bench_expire_result *r)
{
    memset(r, 0, sizeof *r);
    anpr_writer *w;
    int rc = anpr_writer_open(&w, s);
    if (rc) return bench_fail("writer", rc, s);
    double sum = 0;
    for (uint64_t i = 0; i < days; i++) {
        anpr_stats st;
        if ((rc = anpr_store_stats(s, &st))) break;
        if (st.days == 0) break;
        int64_t end = (st.oldest_ms / DAY_MS + 1) * DAY_MS; /* the end of the oldest day */
        double t0 = bench_now_ms();
        if ((rc = anpr_writer_expire(w, end))) break;
        double t = bench_now_ms() - t0;
        sum += t;
        if (t > r->worst_ms) r->worst_ms = t;
        r->days++;
    }
    if (rc) {
        bench_fail("expire", rc, s);
        anpr_writer_close(w);
        return 1;
    }
    r->mean_ms = r->days ? sum / (double)r->days : 0;
    rc = anpr_writer_close(w);
    return rc ? bench_fail("close", rc, s) : 0;
}
