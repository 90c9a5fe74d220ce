/*
 * What the command-line tools share: opening a store with its error printed
 * the same way everywhere, listing it, and printing times and positions.
 */
#ifndef ANPR_TOOLS_TOOL_COMMON_H
#define ANPR_TOOLS_TOOL_COMMON_H

#include <stddef.h>
#include <stdint.h>

#include "anpr/anpr.h"

/* "2026-11-02T08:15:30.123Z". */
void tool_format_time(char *buf, size_t size, int64_t ms);

/* Degrees from 1e-7 units, 7 decimals, to stdout: "-0.1277580". */
void tool_print_degrees(int32_t e7);

/*
 * Open the store at path with flags (enum anpr_open_flags); on failure print
 * "who: message" to stderr and return the status.
 */
int tool_open_store(anpr_store **out, const char *who, const char *path, unsigned flags);

/*
 * Stats and file list of an open store (files from malloc, the caller frees
 * them); on failure print "who: path: message" and return the status.
 */
int tool_list_store(anpr_store *s, const char *who, const char *path, anpr_stats *st,
                    anpr_file_info **files, size_t *n);

#endif
