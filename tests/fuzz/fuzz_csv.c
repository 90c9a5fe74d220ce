/*
 * Fuzz target: any bytes as `anpr ingest` input. The header is accepted or
 * refused with a message; every line gives a read, the end, or an error
 * that names its line; a read the reader returns has a plate within bounds.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "anpr/anpr.h"
#include "csv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    FILE *f = fmemopen((void *)data, size, "r");
    if (!f) return 0;
    char err[256];
    csv_reader *r = NULL;
    if (csv_open(&r, f, err, sizeof err) == 0) {
        anpr_read rd;
        char plate[CSV_PLATE_MAX];
        int rc;
        unsigned long last = csv_line(r);
        while ((rc = csv_next(r, &rd, plate, err, sizeof err)) != 0) {
            if (rc == 1 && strnlen(rd.plate, CSV_PLATE_MAX) >= CSV_PLATE_MAX) abort();
            if (rc == -1 && strncmp(err, "line ", 5) != 0) abort();
            if (csv_line(r) <= last) abort(); /* always moves on */
            last = csv_line(r);
        }
        csv_close(r);
    } else if (err[0] == '\0') {
        abort();
    }
    fclose(f);
    return 0;
}
