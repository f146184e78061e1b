/*
 * scoretab: the score table `csmpq score` writes and `csmpq allocate` reads
 * (DESIGN.md section 9): TSV with optional "# key: value" comment lines,
 * the header "#layer\top\tparams\tmacs\tscore", then one row per
 * quantizable layer in model order.  A table from a criterion other than
 * tfidf (mpq/crit.h) adds one "cost@B" column per width B to the header
 * and the rows, and a "# criterion: NAME quantizer: NAME" line; the
 * allocator then minimizes those costs instead of maximizing score x b.
 * Numbers are written in the shortest form that reads back as the same
 * double, so `score | allocate` decides exactly as `analyze` does.
 *
 * A struct csq_scoretab owns its strings and rows; csq_scoretab_read returns
 * one the caller frees with csq_scoretab_free.  For writing, fill one
 * yourself (only read).
 *
 *     struct csq_scoretab *t;
 *     if ((rc = csq_scoretab_read("-", &t)) != 0) return rc;
 *     ... t->rows[i].score ...; csq_scoretab_free(t);
 */
#ifndef CSQ_SCORETAB_H
#define CSQ_SCORETAB_H

#include <stdint.h>

#define CSQ_SCORETAB_MAXBITS 16

struct csq_scoretab_row {
    char *layer;     /* unique, no tabs or newlines */
    char *op;        /* ONNX op type: Conv, Gemm, MatMul */
    int64_t params;  /* weight elements, >= 0 */
    int64_t macs;    /* per image, >= 0 */
    double score;    /* finite */
    double cost[CSQ_SCORETAB_MAXBITS];  /* cost at b bits in [b - 1]: finite at
                                         * the table's widths, else NAN */
};

struct csq_scoretab {
    char *model;     /* "# model: NAME sha256=HEX", both NULL when absent */
    char *sha256;
    char *docs;      /* "classes" or "samples", or NULL */
    long images;     /* -1 when unknown */
    long classes;    /* -1 when unknown */
    double coe;      /* --coe used (0 = none) */
    char *criterion; /* "# criterion: NAME quantizer: NAME", both NULL when absent */
    char *quantizer;
    int nwidths;     /* cost columns, 0 = none (a TF-IDF table) */
    int widths[CSQ_SCORETAB_MAXBITS];   /* their widths, in column order */
    int n;
    struct csq_scoretab_row *rows;
};

int csq_scoretab_write(const struct csq_scoretab *t, const char *path);
int csq_scoretab_read(const char *path, struct csq_scoretab **out);
void csq_scoretab_free(struct csq_scoretab *t);
/* Free what a caller-owned table points to (all owned) and zero it. */
void csq_scoretab_release(struct csq_scoretab *t);
/* Index of the row named layer, or -1. */
int csq_scoretab_find(const struct csq_scoretab *t, const char *layer);

#endif
