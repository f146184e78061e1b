/*
 * json: the few helpers csmpq needs to write JSON by hand, and a small
 * reader (RFC 8259 values; numbers as doubles, nesting at most 64 deep)
 * for the files csmpq reads back.  A parsed value owns its strings and
 * children; csq_json_release frees them.
 */
#ifndef CSQ_JSON_H
#define CSQ_JSON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* s as a JSON string literal, quotes included. */
void csq_json_string(FILE *fp, const char *s);
/* [d0, d1, ...] */
void csq_json_dims(FILE *fp, const int64_t *dims, int n);

enum csq_json_type {
    CSQ_JSON_NULL, CSQ_JSON_BOOL, CSQ_JSON_NUM, CSQ_JSON_STR, CSQ_JSON_ARR, CSQ_JSON_OBJ
};

struct csq_json {
    int type;                   /* enum csq_json_type */
    int line;                   /* where the value starts, from 1 */
    double num;                 /* CSQ_JSON_NUM; CSQ_JSON_BOOL: 0 or 1 */
    char *str;                  /* CSQ_JSON_STR */
    int n;                      /* CSQ_JSON_ARR, CSQ_JSON_OBJ */
    struct csq_json *items;     /* [n] */
    char **keys;                /* [n] for CSQ_JSON_OBJ */
};

/* Parse all of text[0..len) as one value into *root; *lines gets the line
 * count reached.  Errors read "WHAT: 'PATH' line N: problem". */
int csq_json_parse(const char *what, const char *path, const char *text, size_t len,
                   struct csq_json *root, int *lines);
void csq_json_release(struct csq_json *v);
/* The member named key of an object, or NULL. */
const struct csq_json *csq_json_get(const struct csq_json *o, const char *key);

#endif
