/*
 * json: the few helpers csmpq needs to write JSON by hand.
 */
#ifndef CSQ_JSON_H
#define CSQ_JSON_H

#include <stdint.h>
#include <stdio.h>

/* s as a JSON string literal, quotes included. */
void csq_json_string(FILE *fp, const char *s);
/* [d0, d1, ...] */
void csq_json_dims(FILE *fp, const int64_t *dims, int n);

#endif
