/*
 * stats: the layer statistics pass (DESIGN §7).  One pass of the float
 * model over a loader's images, with an input tap on every chosen layer
 * feeding its csq_hessian: a Conv's im2col patches (the engine's own
 * geometry, nn/im2col.h), a Gemm's or MatMul's input rows.  What the pass
 * needs is checked against --max-memory (csq_hessian_plan_layers) before
 * anything is allocated or any image is read.
 *
 * Ownership: the graph, engine and loader are borrowed; the engine's taps
 * are cleared when the pass ends.  The result is freed with
 * csq_stats_free (NULL is fine); its matrices belong to it.
 *
 *     rc = csq_stats_collect(g, e, want, ld, samples, &progress, &s);
 *     H of layer l (groups k x k, in order) = csq_stats_matrix(s, l);
 *     csq_stats_free(s);
 */
#ifndef CSQ_STATS_H
#define CSQ_STATS_H

#include <stdint.h>

#include "data/loader.h"
#include "mpq/hessian.h"
#include "nn/engine.h"
#include "nn/graph.h"
#include "util/progress.h"

struct csq_stats;

/* Statistics of the layers l with want[l] != 0 (NULL: all) over the
 * loader's images, samples output positions per image and group
 * (csq_hessian_new; 0 = all).  CSQ_ENOMEM in one line when over the
 * memory limit, CSQ_EUNSUPPORTED for a layer whose input rows are not the
 * weight's contraction (Gemm transA = 1, MatMul W @ x), CSQ_EINVAL when no
 * image arrived. */
int csq_stats_collect(const struct csq_graph *g, struct csq_engine *e, const int *want,
                      struct csq_loader *ld, int64_t samples,
                      const struct csq_progress *progress, struct csq_stats **out);
/* Layer l's finished statistics, or NULL when it was not collected. */
const struct csq_hessian *csq_stats_layer(const struct csq_stats *s, int l);
/* Its groups full k x k matrices in group order (what csq_gptq_quantize and
 * csq_werr_* take), or NULL. */
const double *csq_stats_matrix(const struct csq_stats *s, int l);
/* Images the pass saw. */
int64_t csq_stats_images(const struct csq_stats *s);
void csq_stats_free(struct csq_stats *s);

#endif
