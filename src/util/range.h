/*
 * range: a list of budget values as the command line gives it: values
 * separated by commas ("2.5,3", "1MiB,2MiB"), ranges START:STOP:STEP
 * ("2:4:0.25" = 2, 2.25, ..., 4), or both ("1MiB,2MiB:4MiB:1MiB").  Each
 * number goes through a units.h parser, so a range of sizes takes the
 * size suffixes.  A range holds START + i x STEP for i = 0, 1, ... up to
 * STOP (included when a whole number of steps reaches it, within 1e-9 of
 * a step): values are computed, not accumulated, so 2:3:0.1 ends at 3.
 *
 * Values are appended to *vals (a heap array the caller frees; NULL and
 * *n = 0 to start), so repeated options add up.  A bad list is CSQ_EUSAGE
 * with one message naming the option; *vals and *n are then unchanged.
 *
 *     double *v = NULL; int n = 0;
 *     rc = csq_range_parse("--avg-bits", "2:4:0.25", csq_units_parse_real, &v, &n);
 */
#ifndef CSQ_RANGE_H
#define CSQ_RANGE_H

/* At most this many values from one list: a typo such as 2:4:0.0001
 * should be refused, not solved 20000 times. */
#define CSQ_RANGE_MAX 1000

typedef int (*csq_range_value_fn)(const char *opt, const char *s, double *v);

int csq_range_parse(const char *opt, const char *s, csq_range_value_fn one, double **vals,
                    int *n);

#endif
