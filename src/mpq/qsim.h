/*
 * qsim: simulated ("fake") quantization of a model for evaluation
 * (DESIGN.md section 10).  Weights of the chosen layers are quantized
 * once into private copies; activation quantizers on each quantized
 * layer's input are calibrated on images; attaching substitutes the
 * quantized weights in the engine (csq_engine_set_weight: the graph is
 * never changed) and installs engine pre-hooks that quantize the layer
 * inputs; detaching restores the float model.
 *
 * The simulator borrows the graph (which must outlive it) and owns its
 * weight copies and calibrators.
 *
 *     csq_qsim_new(g, wbits, abits, &q);          0 bits = stays float
 *     csq_qsim_calibrate(q, engine, calib_loader);
 *     csq_qsim_attach(q, engine);  ... forward passes ...  csq_qsim_detach(q, engine);
 *     csq_qsim_free(q);
 */
#ifndef CSQ_QSIM_H
#define CSQ_QSIM_H

#include <stddef.h>

#include "data/loader.h"
#include "mpq/quant.h"
#include "nn/engine.h"
#include "nn/graph.h"
#include "util/progress.h"

struct csq_qsim;

/* wbits[l], abits[l] per layer of g (0 = keep float). */
int csq_qsim_new(const struct csq_graph *g, const int *wbits, const int *abits,
                 struct csq_qsim **out);
/* Weight SQNR in dB of layer l (0 when float), and its activation
 * quantizer (NULL when float or not calibrated yet). */
double csq_qsim_sqnr(const struct csq_qsim *q, int l);
const struct csq_actq *csq_qsim_actq(const struct csq_qsim *q, int l);
/* Observe each quantized layer's input over the loader's images, with
 * quantized weights and float activations; then fix the ranges. */
int csq_qsim_calibrate(struct csq_qsim *q, struct csq_engine *e, struct csq_loader *ld,
                       const struct csq_progress *progress);
int csq_qsim_attach(struct csq_qsim *q, struct csq_engine *e);
void csq_qsim_detach(struct csq_qsim *q, struct csq_engine *e);
void csq_qsim_free(struct csq_qsim *q);

#endif
