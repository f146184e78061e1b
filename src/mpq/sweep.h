/*
 * sweep: the sweep pipeline (DESIGN.md sections 8 and 11).  One pass over
 * a source's images gives the cost table (sweep_table in sweep.c: today
 * the TF-IDF score table), then the integer program of plan.h is solved
 * for every budget of a list, each exactly as `csmpq allocate` would solve
 * it on that table; an infeasible budget is a row saying so.  Uniform
 * widths can be added as rows for comparison.
 *
 * With an evaluation source every feasible row is simulated as
 * `csmpq eval -b ROW --calib SRC EVAL` does (mpq/eval.h), but the work
 * rows share is done once: the layer statistics (gptq) are collected in
 * one pass over the source, each (layer, width) any row uses is quantized
 * once into a cache checked against the memory limit, and the float
 * pass runs once.  Activation ranges (--calib-per-row aside) are
 * calibrated once, from the float model's layer inputs over the source,
 * so a row costs one forward pass over the evaluated images; eval -b
 * calibrates them with the row's quantized weights, which recalibrate = 1
 * does too (then a row's top-1 is eval -b's exactly, for one more pass
 * over the source per row).
 *
 * Everything is borrowed; *res is caller storage released with
 * csq_sweep_result_release (also after a failure).
 *
 *     struct csq_sweep_budget b[] = {{CSQ_SWEEP_AVG_BITS, 2.5}, {CSQ_SWEEP_AVG_BITS, 3}};
 *     struct csq_sweep_request r = {.model = "m.onnx", .plan = &plan, .budgets = b,
 *                                   .nbudgets = 2, .eval = &val};
 *     rc = csq_sweep_run(g, &calib, &r, &res);  ... res.rows[i].top ...
 *     csq_sweep_result_release(&res);
 */
#ifndef CSQ_SWEEP_H
#define CSQ_SWEEP_H

#include <stddef.h>
#include <stdint.h>

#include "data/source.h"
#include "mpq/bitcfg.h"
#include "mpq/eval.h"
#include "mpq/plan.h"
#include "mpq/score.h"
#include "mpq/scoretab.h"
#include "nn/graph.h"
#include "util/progress.h"

enum csq_sweep_kind {
    CSQ_SWEEP_AVG_BITS,     /* value: mean bits per weight */
    CSQ_SWEEP_SIZE,         /* value: bytes */
    CSQ_SWEEP_BOPS,         /* value: bit operations per image */
    CSQ_SWEEP_UNIFORM       /* value: the one width of every layer */
};

struct csq_sweep_budget {
    enum csq_sweep_kind kind;
    double value;
};

struct csq_sweep_request {
    const char *model;                  /* the file g was loaded from */
    struct csq_score_request score;
    /* Candidates, pins, ties, abits, time limit, relax of every row; its
     * own budgets are ignored. */
    const struct csq_plan_request *plan;
    const struct csq_sweep_budget *budgets;  /* [nbudgets], rows in this order */
    int nbudgets;
    int uniform;                        /* 1: then one row per candidate width, every
                                         * layer at it */
    const struct csq_source *eval;      /* labeled images to evaluate on, or NULL */
    int quantizer;                      /* CSQ_WERR_RTN or CSQ_WERR_GPTQ */
    int act_order;
    int64_t hessian_samples;            /* 0 = all output positions */
    int recalibrate;                    /* activation ranges per row, as eval -b */
    struct csq_progress progress;
};

struct csq_sweep_row {
    struct csq_sweep_budget budget;
    int feasible;
    struct csq_plan_outcome o;          /* objective, achieved size / BOPs, minimum */
    struct csq_bitcfg cfg;              /* the row's config (empty when infeasible) */
    int evaluated;
    struct csq_eval_topk top;           /* simulated top-1 / top-5 */
};

struct csq_sweep_result {
    struct csq_scoretab table;          /* what the rows were solved from */
    int nrows;
    struct csq_sweep_row *rows;         /* [nrows], the request's order */
    int evaluated;
    struct csq_eval_topk fp32;          /* the float model on the evaluated images */
    size_t eval_images;                 /* images through each evaluation pass */
    size_t calib_images;                /* images calibrating activations */
    size_t cache_bytes;                 /* the quantized weights held for the rows */
    int quantized_widths;               /* (layer, width) pairs quantized */
};

/* The budget's text as a config's header gives it ("mean_wbits<=2.5",
 * "size<=1.00MiB", "bops<=60M"; "uniform 3"). */
char *csq_sweep_budget_text(const struct csq_sweep_budget *b, char *buf, size_t n);

int csq_sweep_run(const struct csq_graph *g, const struct csq_source *src,
                  const struct csq_sweep_request *r, struct csq_sweep_result *res);
void csq_sweep_result_release(struct csq_sweep_result *res);

#endif
