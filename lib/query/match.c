/* Plate conditions: normalising the query's plate and matching rows against it. */
#include "query/match.h"

#include <string.h>

#include "read/read.h"

static int is_alnum(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

int plate_match_compile(plate_match *m, const char *plate, int fuzzy, const char **why)
{
    memset(m, 0, sizeof *m);
    *why = "";
    if (!plate) return ANPR_OK;
    /* Keep letters (upper-cased), digits and wildcards; spaces and dashes are how plates are written. */
    char norm[PLATE_PATTERN_MAX + 1];
    size_t n = 0, chars = 0;
    int wild = 0;
    for (const char *p = plate; *p; p++) {
        char c = *p;
        if (c == ' ' || c == '-') continue;
        if (!is_alnum(c) && c != '?' && c != '*') {
            *why = "plate: only letters, digits, '?', '*', spaces and '-' are allowed";
            return ANPR_EINVAL;
        }
        if (c == '*' && n > 0 && norm[n - 1] == '*') continue; /* "**" is "*" */
        if (n == PLATE_PATTERN_MAX) {
            *why = "plate: too long";
            return ANPR_EINVAL;
        }
        if (c >= 'a' && c <= 'z') c = (char)(c - 'a' + 'A');
        norm[n++] = c;
        chars += c != '*';
        wild |= c == '?' || c == '*';
    }
    norm[n] = '\0';
    if (chars == 0 && !wild) {
        *why = "plate: no letter or digit";
        return ANPR_EINVAL;
    }
    if (chars > ANPR_PLATE_MAX) {
        *why = "plate: more than 15 characters";
        return ANPR_EINVAL;
    }
    m->kind = wild ? MATCH_PATTERN : MATCH_EXACT;
    m->fold = fuzzy != 0;
    if (m->fold) {
        /* Fold the literal characters; the wildcards have no class and pass through unchanged. */
        for (size_t i = 0; i < n; i++) norm[i] = plate_fold_char(norm[i]);
    }
    memcpy(m->text, norm, n + 1);
    return ANPR_OK;
}

/* Glob match of s against p ('?' one character, '*' any run), iterative with one backtrack point. */
static int glob(const char *p, const char *s)
{
    const char *star = NULL, *resume = NULL;
    while (*s) {
        if (*p == '?' || (*p && *p != '*' && *p == *s)) {
            p++;
            s++;
        } else if (*p == '*') {
            star = p++;
            resume = s;
        } else if (star) {
            p = star + 1;
            s = ++resume;
        } else {
            return 0;
        }
    }
    while (*p == '*') p++;
    return *p == '\0';
}

int plate_match_row(const plate_match *m, const char *plate)
{
    if (m->kind == MATCH_ANY) return 1;
    char folded[ANPR_PLATE_MAX + 1];
    const char *s = plate;
    if (m->fold) {
        anpr_plate_fold(folded, plate);
        s = folded;
    }
    return m->kind == MATCH_EXACT ? strcmp(s, m->text) == 0 : glob(m->text, s);
}
