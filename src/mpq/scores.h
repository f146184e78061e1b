/*
 * scores: the score table `csmpq score` writes and `csmpq allocate` reads
 * (DESIGN.md section 8): TSV with optional "# key: value" comment lines,
 * the header "#layer\top\tparams\tmacs\tscore", then one row per
 * quantizable layer in model order.  Scores are written in the shortest
 * form that reads back as the same double, so `score | allocate` decides
 * exactly as `analyze` does.
 *
 * A struct csq_scores owns its strings and rows; csq_scores_read returns
 * one the caller frees with csq_scores_free.  For writing, fill one
 * yourself (only read).
 *
 *     struct csq_scores *t;
 *     if ((rc = csq_scores_read("-", &t)) != 0) return rc;
 *     ... t->rows[i].score ...; csq_scores_free(t);
 */
#ifndef CSQ_SCORES_H
#define CSQ_SCORES_H

#include <stdint.h>

struct csq_scores_row {
    char *layer;     /* unique, no tabs or newlines */
    char *op;        /* ONNX op type: Conv, Gemm, MatMul */
    int64_t params;  /* weight elements, >= 0 */
    int64_t macs;    /* per image, >= 0 */
    double score;    /* finite */
};

struct csq_scores {
    char *model;     /* "# model: NAME sha256=HEX", both NULL when absent */
    char *sha256;
    char *docs;      /* "classes" or "samples", or NULL */
    long images;     /* -1 when unknown */
    long classes;    /* -1 when unknown */
    double coe;      /* --coe used (0 = none) */
    int n;
    struct csq_scores_row *rows;
};

int csq_scores_write(const struct csq_scores *t, const char *path);
int csq_scores_read(const char *path, struct csq_scores **out);
void csq_scores_free(struct csq_scores *t);
/* Free what a caller-owned table points to (all owned) and zero it. */
void csq_scores_release(struct csq_scores *t);
/* Index of the row named layer, or -1. */
int csq_scores_find(const struct csq_scores *t, const char *layer);

#endif
