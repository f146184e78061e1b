/*
 * clado: the cross-layer criterion (CLADO, Deng et al., arXiv 2307.05657).
 * On N calibration images (evenly spaced over the source, default 64) the
 * loss L of the model with the weights of one layer i quantized to b bits
 * (everything else float) and of two layers i, j at b, b':
 *
 *   dL(i,b)       = L(W_i -> Q_b(W_i)) - L(float)
 *   dL(i,b; j,b') = L(W_i -> Q_b(W_i), W_j -> Q_b'(W_j)) - L(float)
 *   cross         = dL(i,b; j,b') - dL(i,b) - dL(j,b')
 *
 * L is the mean over the images of the cross-entropy with the labels
 * (loss "ce"), or of KL(p_float || p_quantized) of the softmax outputs
 * (loss "kl": unlabeled images, --docs samples).  Per-image losses are
 * double; the sum over images runs in image order.  Weights are quantized
 * once per (layer, width) with the chosen quantizer (gptq from the layer
 * statistics of the same images, or rtn).
 *
 * Only what changes is recomputed: the float pass keeps the values live
 * at each layer's node (nn/engine.h, partial passes); a layer-i pass
 * starts there and keeps the values live at every later layer j, from
 * which each (i,b; j,b') pass starts.  Under MPI the units (i, b) -- a
 * single pass and its pairs -- go round-robin to the ranks and the table
 * is combined entry by entry from each entry's rank (util/dist.h), so any
 * rank count gives the same bits.
 *
 * Ownership: everything is borrowed; *out is caller storage released with
 * csq_pairtab_release (empty after a failure).
 *
 *     struct csq_clado_request r;  csq_clado_request_init(&r);
 *     rc = csq_clado_measure(g, "m.onnx", &src, &r, &table);
 *     rc = csq_clado_plan(&table, &plan_request, &cfg);   the quadratic program
 */
#ifndef CSQ_CLADO_H
#define CSQ_CLADO_H

#include <stdint.h>

#include "data/source.h"
#include "mpq/bitcfg.h"
#include "mpq/pairtab.h"
#include "mpq/plan.h"
#include "nn/graph.h"
#include "util/progress.h"

#define CSQ_CLADO_IMAGES 64

enum csq_clado_loss { CSQ_CLADO_CE, CSQ_CLADO_KL };

struct csq_clado_request {
    int widths[16];                 /* measured widths; nwidths 0 = 2, 3, 4 */
    int nwidths;
    long images;                    /* <= 0: CSQ_CLADO_IMAGES */
    enum csq_clado_loss loss;
    int quantizer;                  /* CSQ_WERR_GPTQ (default) or CSQ_WERR_RTN */
    int act_order;
    int64_t hessian_samples;        /* 0 = all output positions */
    struct csq_progress progress;
};

void csq_clado_request_init(struct csq_clado_request *r);
int csq_clado_measure(const struct csq_graph *g, const char *model, const struct csq_source *src,
                      const struct csq_clado_request *r, struct csq_pairtab *out);
/* The quadratic program (mpq/alloc_qp.h) on the table under r's budgets,
 * pins and ties: cost dL(l, b), cross terms as measured.  A pin or
 * candidate width that was not measured counts as lossless (dL 0, no
 * cross terms).  The config's score column holds dL at the chosen width;
 * the solver line the objective (the predicted sum) and, when the time
 * limit stopped the search, the proven gap. */
int csq_clado_plan(const struct csq_pairtab *t, const struct csq_plan_request *r,
                   struct csq_bitcfg *out);
/* measure, then plan; *t and *cfg as above. */
int csq_clado_analyze(const struct csq_graph *g, const char *model,
                      const struct csq_source *src, const struct csq_clado_request *cr,
                      const struct csq_plan_request *r, struct csq_pairtab *t,
                      struct csq_bitcfg *cfg);

#endif
