/*
 * crit: the sensitivity criteria of DESIGN.md section 8, each turning a
 * model and its calibration images into a cost table cost[layer][width]
 * that the allocator (alloc.h) minimizes the sum of:
 *   tfidf        -score_l x b (the paper: maximize sum score x b);
 *   noise        E_l(b), the layer's relative output error with the chosen
 *                quantizer on its own input statistics (werr.h);
 *   tfidf-noise  (score_l / mean score) x E_l(b);
 *   sqnr         AIMET's phase 1: layer l alone at b bits (weights only),
 *                sum ||z_q - z||^2 / sum ||z||^2 of the logits on the first
 *                sqnr_images images;
 *   kl           the same perturbation, mean KL(softmax z || softmax z_q).
 * sqnr and kl run each perturbed layer from the float activations cut just
 * before it (csq_engine_resume): one float forward per batch plus, per
 * layer and width, the part of the network from that layer on.
 *
 * Ownership: everything is borrowed; cost is caller storage of
 * nlayers x CSQ_ALLOC_MAXBITS doubles.
 *
 *     enum csq_crit c;
 *     if (csq_crit_parse("noise", &c) != 0) ... usage error ...
 *     struct csq_crit_request r = { .criterion = c, .quantizer = CSQ_WERR_GPTQ,
 *                                   .scores = tfidf_scores };
 *     int w[] = {2, 3, 4};
 *     rc = csq_crit_costs(g, &src, &r, w, 3, cost);
 *     ... cost[l * CSQ_ALLOC_MAXBITS + b - 1] ...
 */
#ifndef CSQ_CRIT_H
#define CSQ_CRIT_H

#include <stdint.h>

#include "data/source.h"
#include "nn/graph.h"
#include "util/progress.h"

enum csq_crit {
    CSQ_CRIT_TFIDF = 0,
    CSQ_CRIT_NOISE,
    CSQ_CRIT_TFIDF_NOISE,
    CSQ_CRIT_SQNR,
    CSQ_CRIT_KL,
    /* CLADO's pairwise losses: a pair table (mpq/clado.h), not a cost
     * table; csq_crit_costs refuses it. */
    CSQ_CRIT_CLADO,
    CSQ_CRIT_COUNT
};

/* The criterion score and analyze use without --criterion, chosen by the
 * measurement in docs/RESULTS.md. */
#define CSQ_CRIT_DEFAULT CSQ_CRIT_KL
/* Images sqnr and kl measure on without --sqnr-images. */
#define CSQ_CRIT_SQNR_IMAGES 128

/* "tfidf", "noise", "tfidf-noise", "sqnr", "kl"; CSQ_EUSAGE (one message
 * listing the names) for anything else. */
int csq_crit_parse(const char *name, enum csq_crit *out);
const char *csq_crit_name(enum csq_crit c);
/* "rtn" / "gptq" (CSQ_WERR_RTN / CSQ_WERR_GPTQ of werr.h), NULL for others. */
const char *csq_crit_quantizer_name(int quantizer);
/* Whether c needs the TF-IDF scores (request.scores). */
int csq_crit_uses_scores(enum csq_crit c);

struct csq_crit_request {
    enum csq_crit criterion;
    int quantizer;              /* CSQ_WERR_RTN or CSQ_WERR_GPTQ */
    int act_order;              /* gptq's --act-order */
    int64_t hessian_samples;    /* statistics: output positions per image, 0 = all */
    long sqnr_images;           /* sqnr / kl: images measured, 0 = CSQ_CRIT_SQNR_IMAGES */
    const double *scores;       /* [nlayers] TF-IDF scores (tfidf, tfidf-noise) */
    struct csq_progress progress;
};

/*
 * The table of r's criterion over src's images (statistics: all of them;
 * sqnr / kl: sqnr_images evenly spaced, csq_source_spread) at the nwidths widths (1..16,
 * distinct): cost[l * CSQ_ALLOC_MAXBITS + b - 1] for b in widths, NAN at
 * every other width (tfidf fills all 16).  Statistics and weights of a
 * layer that cannot be quantized per channel are refused with the layer's
 * name; so is a non-finite cost.
 */
int csq_crit_costs(const struct csq_graph *g, const struct csq_source *src,
                   const struct csq_crit_request *r, const int *widths, int nwidths,
                   double *cost);

#endif
