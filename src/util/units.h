/*
 * units: command-line budget values and their human-readable forms.
 *
 * Parsers fill their out-parameters and return 0, or return CSQ_EUSAGE
 * with one message naming the option and its value.  Names returned by
 * csq_units_parse_pin / _tie are heap strings the caller frees (free() /
 * csq_units_free_names).  Formatters write into a caller buffer and
 * return it.
 *
 *     double bytes;
 *     if ((rc = csq_units_parse_size("--size", "4.5MiB", &bytes)) != 0) return rc;
 *     char buf[32]; csq_units_fmt_bytes(bytes, buf, sizeof buf);   "4.50MiB"
 */
#ifndef CSQ_UNITS_H
#define CSQ_UNITS_H

#include <stddef.h>

#define CSQ_UNITS_MAXBITS 16

/* Bytes: a non-negative decimal with an optional suffix B, KB MB GB TB
 * (powers of 1000), KiB MiB GiB TiB (powers of 1024); must be > 0. */
int csq_units_parse_size(const char *opt, const char *s, double *bytes);
/* Bit operations: a decimal with an optional suffix K M G T (powers of
 * 1000); must be > 0. */
int csq_units_parse_bops(const char *opt, const char *s, double *bops);
/* A positive real, e.g. the mean weight width of --avg-bits. */
int csq_units_parse_real(const char *opt, const char *s, double *v);
/* "2,3,4": widths 1..16, no duplicates; written sorted ascending into
 * bits[CSQ_UNITS_MAXBITS], count in *n. */
int csq_units_parse_wbits(const char *opt, const char *s, int *bits, int *n);
/* One width 1..16. */
int csq_units_parse_bits(const char *opt, const char *s, int *bits);
/* "NAME=BITS"; *name is a heap copy of NAME. */
int csq_units_parse_pin(const char *opt, const char *s, char **name, int *bits);
/* "A,B[,C...]": at least two distinct names; *names is a heap array of
 * heap strings, free with csq_units_free_names. */
int csq_units_parse_tie(const char *opt, const char *s, char ***names, int *n);
void csq_units_free_names(char **names, int n);

/* 4718592 -> "4.50MiB", 512 -> "512B" (binary units, two decimals). */
char *csq_units_fmt_bytes(double bytes, char *buf, size_t n);
/* 58123456789 -> "58.1G", 1234 -> "1.23K", 12 -> "12" (three digits). */
char *csq_units_fmt_count(double v, char *buf, size_t n);
/* The shortest "%.*g" form of v that reads back as exactly v, so tables
 * written and read again give the same allocation (buf >= 32 bytes). */
char *csq_units_fmt_double(double v, char *buf);

#endif
