/* anpr-bench's bytes on disk: every file of the store, by column, index and directory. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "anpr/segment.h"
#include "phases.h"

int bench_bytes_measure(anpr_store *s, const char *dir, bench_bytes *b)
{
    memset(b, 0, sizeof *b);
    anpr_file_info *files = NULL;
    size_t nfiles = 0;
    int rc = anpr_store_files(s, &files, &nfiles);
    if (rc) return bench_fail("files", rc, s);
    for (size_t i = 0; i < nfiles; i++) {
        char path[4096], err[256];
        snprintf(path, sizeof path, "%s/%s", dir, files[i].name);
        anpr_segment *seg;
        if ((rc = anpr_segment_open(&seg, path, err, sizeof err))) {
            fprintf(stderr, "anpr-bench: %s: %s\n", path, err);
            free(files);
            return 1;
        }
        anpr_segment_info info;
        anpr_segment_info_get(seg, &info);
        b->reads += info.rows;
        b->total += info.file_bytes;
        b->index += info.index_bytes;
        b->directory += info.directory_bytes;
        unsigned n = info.columns < BENCH_MAX_COLUMNS ? info.columns : BENCH_MAX_COLUMNS;
        for (unsigned c = 0; c < n; c++) {
            anpr_column_info ci;
            if (anpr_segment_column(seg, c, &ci) != 0) continue;
            snprintf(b->names[c], sizeof b->names[c], "%s", ci.name);
            b->column[c] += ci.stored_bytes;
            b->data += ci.stored_bytes;
        }
        if (n > b->columns) b->columns = n;
        anpr_segment_close(seg);
    }
    b->files = nfiles;
    free(files);
    return 0;
}
