/*
 * tsv: what the readers and writers of csmpq's tab-separated files (score
 * tables, bit configs) share: lines read in place, fields split at tabs,
 * integer cells, the "# model: NAME sha256=HEX" line, and the check that
 * no layer name is listed twice.
 */
#ifndef CSQ_TSV_H
#define CSQ_TSV_H

#include <stdint.h>

/* The next line of a NUL-terminated text read in place: cut at '\n', a
 * trailing '\r' removed; NULL at the end.  *lineno counts lines read. */
char *csq_tsv_line(char **cursor, int *lineno);
/* Split s at tabs in place into f[max]; returns the field count, which
 * may exceed max (the extra fields are not stored). */
int csq_tsv_split(char *s, char **f, int max);
/* A whole cell as a decimal integer: 0, or -1 when it is not one. */
int csq_tsv_int(const char *s, int64_t *v);
/* 1 when s (may be NULL) holds a tab or line break, which no cell may. */
int csq_tsv_unsafe(const char *s);
/* The value of a "# model: " line, "NAME[ sha256=HEX]", cut in place into
 * heap copies *model and *sha256 (NULL when absent); frees what they held. */
int csq_tsv_model(char *value, char **model, char **sha256);
/* *dup = the first index i (in order) whose names[i] equals an earlier
 * non-NULL name, or -1.  Sorted, not pairwise: a table of a million layers
 * must not take a million squared comparisons. */
int csq_tsv_duplicate(const char *const *names, int n, int *dup);

#endif
