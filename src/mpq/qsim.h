/*
 * qsim: simulated ("fake") quantization of a model for evaluation
 * (DESIGN.md section 10).  Weights of the chosen layers are quantized
 * once into private copies; activation quantizers on each quantized
 * layer's input are calibrated on images; attaching substitutes the
 * quantized weights in the engine (csq_engine_set_weight: the graph is
 * never changed) and installs engine pre-hooks that quantize the layer
 * inputs; detaching restores the float model.
 *
 * Biases: once a layer's input range is known, the bias of every Conv /
 * Gemm layer with quantized weights and a quantized input (scale s_x > 0)
 * is rounded to its integer grid, as an integer runtime stores it (ONNX
 * Runtime's QLinearConv adds an int32 bias at scale s_x s_w to the int32
 * accumulator): per output channel c, with t_c = float32(s_x) x
 * float32(s_w[c]), level_c = clamp(rint(b_c / t_c), -2^31, 2^31 - 1)
 * (the division in double, half to even) and the simulated bias
 * float32(level_c) x t_c, what DequantizeLinear of the int32 level
 * computes.  A channel whose weights are all zero (s_w = 0) gets the
 * weight scale |b_c| / s_x instead (its weights stay 0), so its bias is
 * level +-1 of a grid t_c ~ |b_c|.  Calibration itself runs with the
 * float biases (no input is quantized yet).
 *
 * The simulator borrows the graph (which must outlive it) and owns its
 * weight copies and calibrators.
 *
 *     csq_qsim_new(g, wbits, abits, &q);          0 bits = stays float, rtn weights
 *     or csq_qsim_new_opts(g, wbits, abits, &(struct csq_qsim_wopts){
 *             .quantizer = CSQ_WERR_GPTQ, .stats = s }, &q);   H from mpq/stats
 *     csq_qsim_calibrate(q, engine, calib_loader);
 *     csq_qsim_attach(q, engine);  ... forward passes ...  csq_qsim_detach(q, engine);
 *     csq_qsim_free(q);
 */
#ifndef CSQ_QSIM_H
#define CSQ_QSIM_H

#include <stddef.h>
#include <stdint.h>

#include "data/loader.h"
#include "mpq/gptq.h"
#include "mpq/quant.h"
#include "mpq/stats.h"
#include "mpq/werr.h"
#include "nn/engine.h"
#include "nn/graph.h"
#include "util/progress.h"

struct csq_qsim;

/* How weights are quantized. */
struct csq_qsim_wopts {
    int quantizer;                  /* CSQ_WERR_RTN or CSQ_WERR_GPTQ (mpq/werr.h) */
    int act_order;                  /* gptq: columns in decreasing diag(H) order */
    /* Layer statistics (borrowed, only read during csq_qsim_new_opts):
     * needed by gptq for every quantized layer. */
    const struct csq_stats *stats;
    /* With stats, also each layer's output error E_l(b) (csq_qsim_werr),
     * which costs about what GPTQ's column updates cost. */
    int werr;
    /* [nlayers] weights already quantized at wbits[l] (borrowed; they must
     * outlive the simulator), NULL entries quantized here; or NULL.  Sweep
     * quantizes each (layer, width) once and simulates many configs. */
    const float *const *weights;
};

/* wbits[l], abits[l] per layer of g (0 = keep float); rtn weights. */
int csq_qsim_new(const struct csq_graph *g, const int *wbits, const int *abits,
                 struct csq_qsim **out);
/* The same with a quantizer choice (o NULL: rtn).  CSQ_EINVAL when gptq
 * lacks a quantized layer's statistics. */
int csq_qsim_new_opts(const struct csq_graph *g, const int *wbits, const int *abits,
                      const struct csq_qsim_wopts *o, struct csq_qsim **out);
/* Layer l's weight quantized to bits as csq_qsim_new_opts would do it,
 * into wq (as many floats as the weight has); the criteria's and clado's
 * passes quantize each (layer, width) with it. */
int csq_qsim_quantize_weight(const struct csq_graph *g, int l, int bits,
                             const struct csq_qsim_wopts *o, float *wq);
/* Take src's calibrated activation quantizers for dst's quantized inputs
 * (same graph; CSQ_EINVAL when src lacks one at the same width), so
 * dst needs no calibration pass of its own. */
int csq_qsim_copy_ranges(struct csq_qsim *dst, const struct csq_qsim *src);
/* Layer l's E_l(b) at its width (mpq/werr.h), or NAN when float or not
 * computed (no statistics, or werr not asked). */
double csq_qsim_werr(const struct csq_qsim *q, int l);
/* What gptq did to layer l (groups that fell back to rtn, ...), or NULL
 * when the layer is float or was quantized by rtn. */
const struct csq_gptq_info *csq_qsim_gptq_info(const struct csq_qsim *q, int l);
/* Weight SQNR in dB of layer l (0 when float), and its activation
 * quantizer (NULL when float or not calibrated yet). */
double csq_qsim_sqnr(const struct csq_qsim *q, int l);
const struct csq_actq *csq_qsim_actq(const struct csq_qsim *q, int l);
/* Layer l's quantized weight (the graph's layout), NULL when float. */
const float *csq_qsim_weight(const struct csq_qsim *q, int l);
/* Layer l's rounded bias (see above), NULL when its bias stays float
 * (no bias, float weights or input, input scale 0, or a bias that is not
 * a 1-D initializer of the layer alone).  Valid while q lives; set by
 * csq_qsim_calibrate and csq_qsim_copy_ranges. */
struct csq_qbias {
    int value;                  /* the graph's bias value it replaces */
    int64_t channels;
    const float *wscale;        /* [channels] weight scale s_w (zero channels: see above) */
    const float *grid;          /* [channels] t_c */
    const int32_t *level;       /* [channels] */
    const float *bias;          /* [channels] float32(level) x t_c */
};
const struct csq_qbias *csq_qsim_bias(const struct csq_qsim *q, int l);
/* Observe each quantized layer's input over the loader's images, with
 * quantized weights and float activations; then fix the ranges. */
int csq_qsim_calibrate(struct csq_qsim *q, struct csq_engine *e, struct csq_loader *ld,
                       const struct csq_progress *progress);
int csq_qsim_attach(struct csq_qsim *q, struct csq_engine *e);
void csq_qsim_detach(struct csq_qsim *q, struct csq_engine *e);
void csq_qsim_free(struct csq_qsim *q);

#endif
