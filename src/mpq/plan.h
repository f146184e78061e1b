/*
 * plan: from a score table and a user's budget request to a bit config.
 * Resolves layer names (pins, ties), presets (the mode) and the mean-bits
 * budget, builds the cost table (the table's cost@B columns, or TF-IDF's
 * -score x bits when it has none: mpq/crit.h) and the integer
 * program (alloc.h), solves it and fills a struct csq_bitcfg with the
 * per-layer widths, the budget text and the solver's verdict.
 *
 * The request is borrowed; *out is filled with memory the caller frees
 * with csq_bitcfg_release().  CSQ_EINFEASIBLE names the smallest size and
 * BOPs the candidates, pins and ties allow.
 */
#ifndef CSQ_PLAN_H
#define CSQ_PLAN_H

#include <stdint.h>

#include "mpq/bitcfg.h"
#include "mpq/scoretab.h"

struct csq_plan_request {
    double size_bytes;          /* <= 0: no size budget */
    double bops;                /* <= 0: no BOPs budget */
    double avg_bits;            /* <= 0: none; else size <= avg_bits x params */
    const char *mode;           /* "ptq" (default when NULL) or "qat" */
    int wbits[16];              /* candidates; nwbits 0 = the mode's */
    int nwbits;
    int abits;                  /* activation width (0 = 8) */
    char **pin_names;           /* [npins] */
    int *pin_bits;
    int npins;
    int pin_first_last;         /* -1 = the mode's default, 0 = none, else bits */
    char ***tie_names;          /* [nties][tie_counts[i]] */
    int *tie_counts;
    int nties;
    double time_limit;          /* seconds, <= 0: none */
    int relax;
    const char *const *nodes;   /* [t->n] ONNX node per layer, or NULL */
};

/* Fill out from t under r.  out->model / sha256 come from the table.  A
 * table with cost columns must have one for every candidate and pinned
 * width (else CSQ_EINVAL naming both); the solver line then reports the
 * minimized sum of costs, without them sum score x b. */
int csq_plan_solve(const struct csq_scoretab *t, const struct csq_plan_request *r,
                   struct csq_bitcfg *out);

/* The widths a cost table needs for r: the candidates (the mode's unless
 * given) and every pinned width, ascending, into widths[16]. */
int csq_plan_widths(const struct csq_plan_request *r, int *widths, int *n);

/* What the solver said beside the config, for callers that tabulate
 * many solves (sweep). */
struct csq_plan_outcome {
    double objective;           /* as the config's solver line reports it */
    int proven_optimal;         /* 0 with --relax or after the time limit */
    int64_t size_bits, bops;    /* achieved */
    double mean_wbits;
    int64_t min_size_bits;      /* on CSQ_EINFEASIBLE: the smallest size and */
    int64_t min_bops;           /* BOPs the candidates, pins and ties allow */
};

/* csq_plan_solve that also fills *o (also on CSQ_EINFEASIBLE). */
int csq_plan_solve_outcome(const struct csq_scoretab *t, const struct csq_plan_request *r,
                           struct csq_bitcfg *out, struct csq_plan_outcome *o);
/* The same with a cost table of its own (cost[t->n][CSQ_ALLOC_MAXBITS], by
 * width, instead of TF-IDF's -score x b) and cross terms (mpq/alloc_qp.h):
 * the quadratic program; the solver line reports the objective as it is
 * (a predicted loss change) and, when stopped, the proven gap. */
struct csq_alloc_cross;
int csq_plan_solve_cross(const struct csq_scoretab *t, const double *cost,
                         const struct csq_alloc_cross *x, const struct csq_plan_request *r,
                         struct csq_bitcfg *out);

#endif
