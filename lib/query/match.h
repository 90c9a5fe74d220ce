/*
 * The plate condition of a query: none, an exact plate, a misread-tolerant
 * (folded) plate, or a partial plate with '?' for one character and '*' for
 * any run, matched exactly or folded.
 */
#ifndef ANPR_QUERY_MATCH_H
#define ANPR_QUERY_MATCH_H

#include "anpr/anpr.h"

/* Partial patterns keep their wildcards: up to 15 characters and as many '*'. */
#define PLATE_PATTERN_MAX (2 * ANPR_PLATE_MAX)

enum plate_match_kind { MATCH_ANY = 0, MATCH_EXACT, MATCH_PATTERN };

typedef struct plate_match {
    int kind;
    int fold;                            /* compare folded plates */
    char text[PLATE_PATTERN_MAX + 1];    /* normalised (and folded if fold) plate or pattern */
} plate_match;

/*
 * From a query's plate (NULL: any) and fuzzy flag. ANPR_EINVAL, with why in
 * *why, for a plate with no letter or digit, more than 15 of them, or a
 * character other than letters, digits, '?', '*', spaces and '-'.
 */
int plate_match_compile(plate_match *m, const char *plate, int fuzzy, const char **why);

/* Whether a stored (normalised) plate satisfies the condition. */
int plate_match_row(const plate_match *m, const char *plate);

#endif
