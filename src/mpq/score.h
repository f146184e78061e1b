/*
 * score: the score pipeline.  One forward pass of a model over a source's
 * images gives every quantizable layer its TF-IDF class separability
 * (DESIGN.md section 5); with each layer's params and MACs (cost.h) that is
 * the score table allocate reads.  Taps on each layer's output pool relu
 * per channel per image and feed one TF-IDF accumulator per layer; no
 * feature map outlives its batch.
 *
 * The graph and source are borrowed; *out is caller storage filled with
 * memory it releases with csq_scoretab_release (also on failure: then empty).
 *
 *     struct csq_score_request r = { .docs = CSQ_TFIDF_CLASSES };
 *     struct csq_scoretab t;
 *     if ((rc = csq_score_model(g, "m.onnx", &src, &r, &t)) != 0) return rc;
 *     csq_scoretab_write(&t, "-");  csq_scoretab_release(&t);
 */
#ifndef CSQ_SCORE_H
#define CSQ_SCORE_H

#include <stddef.h>

#include "data/source.h"
#include "mpq/crit.h"
#include "mpq/scoretab.h"
#include "mpq/tfidf.h"
#include "nn/graph.h"
#include "util/progress.h"

struct csq_score_request {
    enum csq_tfidf_docs docs;
    double coe;                     /* <= 0: beta = 1 */
    /* The criterion (mpq/crit.h; CSQ_CRIT_TFIDF = 0: the score column
     * alone, today's table).  The others add cost@B columns for the
     * widths (nwidths 0: 2, 3, 4; analyze adds its candidates and pins). */
    enum csq_crit criterion;
    int quantizer;                  /* CSQ_WERR_RTN or CSQ_WERR_GPTQ */
    int act_order;
    int64_t hessian_samples;        /* 0 = all output positions */
    long sqnr_images;               /* 0 = CSQ_CRIT_SQNR_IMAGES */
    int widths[16];
    int nwidths;
    struct csq_progress progress;
};

/* model is the file g was loaded from (its sha256 goes into the table).
 * Every criterion's table keeps the TF-IDF score column. */
int csq_score_model(const struct csq_graph *g, const char *model, const struct csq_source *src,
                    const struct csq_score_request *r, struct csq_scoretab *out);

/* The analyze pipeline: csq_score_model (the cost columns at r's
 * candidates and pinned widths), then the integer program of plan.h
 * under r (its node names filled from g) on the table.  *t and *cfg
 * are caller storage, released with csq_scoretab_release /
 * csq_bitcfg_release (both empty after a failure). */
struct csq_plan_request;
struct csq_bitcfg;
int csq_score_analyze(const struct csq_graph *g, const char *model,
                      const struct csq_source *src, const struct csq_score_request *sr,
                      const struct csq_plan_request *r, struct csq_scoretab *t,
                      struct csq_bitcfg *cfg);

#endif
