/*
 * eval: the eval pipeline.  Top-1 / top-5 of a model on a labeled source
 * in float32 and, with a config, with simulated quantization of the chosen
 * layers' weights and inputs (DESIGN.md section 10): the config is mapped
 * onto the graph by layer name (a bare list by position) before any image
 * is read (a bad config fails fast); with gptq (or when E_l(b) is asked
 * for) the layer statistics of the quantized layers are collected first
 * (mpq/stats.h, refused over --max-memory before allocating); weights are
 * quantized once, then activation ranges are calibrated with the weights
 * quantized.  Statistics and activation ranges come from the calibration
 * source or, without one, the first CSQ_EVAL_CALIB_DEFAULT images of the
 * evaluated source; what the config costs comes from the cost model
 * (cost.h).
 *
 * Everything is borrowed; *res is caller storage released with
 * csq_eval_result_release (also after a failure).
 *
 *     struct csq_eval_request r = { .model = "m.onnx", .cfg = cfg, .cfg_path = "b.tsv" };
 *     struct csq_eval_result res;
 *     rc = csq_eval_run(g, &val, &r, &res);  ... res.quant.top1 ...
 *     csq_eval_result_release(&res);
 */
#ifndef CSQ_EVAL_H
#define CSQ_EVAL_H

#include <stddef.h>

#include "data/source.h"
#include "mpq/bitcfg.h"
#include "mpq/cost.h"
#include "mpq/werr.h"
#include "nn/graph.h"
#include "util/progress.h"

/* Images of the evaluated set that calibrate when no calibration set is given. */
#define CSQ_EVAL_CALIB_DEFAULT 256

struct csq_eval_request {
    const char *model;              /* the file g was loaded from (sha256 check) */
    const struct csq_bitcfg *cfg;   /* widths to simulate, or NULL */
    const char *cfg_path;           /* cfg's file, for messages */
    int wbits_all;                  /* > 0: every layer at this width (no cfg) */
    int abits;                      /* > 0: every quantized layer's input width */
    const struct csq_source *calib; /* NULL: the first images of the evaluated set */
    int quantizer;                  /* CSQ_WERR_RTN or CSQ_WERR_GPTQ (mpq/werr.h) */
    int act_order;                  /* gptq's --act-order */
    int64_t hessian_samples;        /* output positions per image in the statistics, 0 = all */
    int werr;                       /* also report E_l(b) (collects statistics for rtn;
                                     * with gptq it costs about what GPTQ costs) */
    struct csq_progress progress;
};

struct csq_eval_topk {
    size_t images;                  /* labeled images scored */
    size_t top1, top5;              /* correct counts */
};

struct csq_eval_layer {
    int wbits, abits;               /* 0 = float */
    double weight_sqnr;             /* dB; 0 when float */
    double werr;                    /* E_l(b) at wbits; NAN when float or not asked */
    int64_t groups;                 /* gptq: the layer's groups, and those whose */
    int64_t rtn_groups;             /* factorization failed, quantized by rtn */
    int have_range;                 /* the input quantizer's calibrated range: */
    double lo, hi;
};

struct csq_eval_result {
    int quantized;                  /* a config or uniform width was simulated */
    int sha256_differs;             /* the config names the same layers of another file */
    struct csq_eval_topk fp32, quant;
    int *pred;                      /* [ds.n] quantized (else float) class; -1 = skipped */
    size_t images;                  /* images through the float pass */
    double images_per_s;            /* float pass speed */
    struct csq_cost_config cost;    /* of the simulated config */
    int64_t stats_images;           /* images of the statistics pass, 0 without one */
    int nlayers;
    struct csq_eval_layer *layers;  /* [nlayers] when quantized */
};

/* The quantized model eval simulates and export writes: the config's
 * widths mapped onto g, weights quantized (after a statistics pass for
 * gptq or E_l(b)), activation ranges calibrated with the weights quantized
 * (on r->calib, else the first images of data).  Released with
 * csq_eval_quant_release (also after a failure). */
struct csq_eval_quant {
    int *wbits, *abits;             /* [g->nlayers]; 0 = float */
    struct csq_qsim *q;
    int sha256_differs;             /* the config names the same layers of another file */
    int64_t stats_images;
    struct csq_cost_config cost;
};

struct csq_engine;
int csq_eval_quantize(const struct csq_graph *g, struct csq_engine *e,
                      const struct csq_source *data, const struct csq_eval_request *r,
                      struct csq_eval_quant *m);
void csq_eval_quant_release(struct csq_eval_quant *m);

/* One accuracy pass of e as it is set up (a simulator attached or not)
 * over data: top-1 / top-5 into *acc, each image's argmax into pred[ds.n]
 * (-1: skipped), the images through the pass and its wall time. */
struct csq_engine;
int csq_eval_pass(struct csq_engine *e, const struct csq_source *data,
                  const struct csq_progress *pr, const char *what, struct csq_eval_topk *acc,
                  int *pred, size_t *images, double *secs);

int csq_eval_run(const struct csq_graph *g, const struct csq_source *data,
                 const struct csq_eval_request *r, struct csq_eval_result *res);
void csq_eval_result_release(struct csq_eval_result *res);

/* The model's output count when it is not the source's class count and no
 * labels file fixed the mapping (class k in byte order is output k, so
 * top-1 is then probably meaningless); else 0. */
int64_t csq_eval_class_mismatch(const struct csq_graph *g, const struct csq_source *data);

/* Per-layer widths of g from a config (abits > 0 overrides the config's
 * activation widths; unknown ones become 8); layers the config leaves out
 * stay 0 (float).  *sha256_differs tells a config made for another file
 * with the same layer names. */
int csq_eval_widths(const struct csq_graph *g, const char *model, const struct csq_bitcfg *c,
                    const char *cfg_path, int abits, int *wbits, int *abitv,
                    int *sha256_differs);

#endif
