/*
 * score: the class separability of every quantizable layer of a model,
 * from one forward pass over a dataset (DESIGN.md section 5).  Taps on
 * each layer's output pool relu per channel per image and feed one TF-IDF
 * accumulator per layer; no feature map outlives its batch.
 *
 *     double *s = calloc(g->nlayers, sizeof *s);
 *     struct csq_score_opts o = { .docs = CSQ_TFIDF_CLASSES, .nclasses = ds.nclass };
 *     rc = csq_score_run(g, engine, loader, &o, s);
 */
#ifndef CSQ_SCORE_H
#define CSQ_SCORE_H

#include <stddef.h>

#include "data/loader.h"
#include "mpq/tfidf.h"
#include "nn/engine.h"
#include "nn/graph.h"

struct csq_score_opts {
    enum csq_tfidf_docs docs;
    int nclasses;                   /* classes mode: label names in the dataset */
    double coe;                     /* --coe, <= 0: beta = 1 */
    void (*progress)(void *pu, size_t done);
    void *pu;
};

/* scores[g->nlayers] gets each layer's score; *images (may be NULL) the
 * number of images that went through. */
int csq_score_run(const struct csq_graph *g, struct csq_engine *e, struct csq_loader *ld,
                  const struct csq_score_opts *o, double *scores, size_t *images);

#endif
