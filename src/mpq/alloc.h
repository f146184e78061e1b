/*
 * alloc: per-layer weight bit-widths that minimize the sum of a cost table
 * under size and BOPs budgets (DESIGN.md section 8), solved exactly with
 * lp_solve.
 *
 * The problem is borrowed; csq_alloc_solve fills a result whose wbits array
 * the caller releases with csq_alloc_result_release.  On CSQ_EINFEASIBLE the
 * result still holds min_size_bits / min_bops (and no wbits).
 *
 *     csq_alloc_cost_linear(score, n, cost);   (TF-IDF: cost = -score x b)
 *     struct csq_alloc_problem p = {.nlayers = n, .cost = cost, .params = pa,
 *         .macs = ma, .cand = c, .ncand = 3, .abits = 8, .size_bits = 8 * bytes};
 *     struct csq_alloc_result r;
 *     if ((rc = csq_alloc_solve(&p, &r)) != 0) return rc;
 *     ... r.wbits[l] ...; csq_alloc_result_release(&r);
 *
 * Costs.  The table is indexed by width, cost[l * CSQ_ALLOC_MAXBITS + b - 1]
 * for layer l at b bits, so that a pin outside the candidates has its cost
 * too.  Only the entries the program can use are read and must be finite:
 * a free layer's at every candidate, a pinned layer's (or a layer tied to a
 * pinned one) at that pin.  Any real numbers: the costs need not grow or
 * fall with b, be convex, or have any sign.
 *
 * Model.  Layers tied together form one group that shares a width and
 * whose costs add; a group with a pinned member takes that width (any of
 * 1..16, in the candidate set or not) and leaves the program as a
 * constant.  Each free group g picks one candidate b: minimize sum
 * cost_g(b) subject to sum params_g * b <= size budget and sum macs_g *
 * abits * b <= BOPs budget.  Because size and BOPs grow with b whatever the
 * costs, all groups at their smallest width give both the smallest size and
 * the smallest BOPs at once, so feasibility is decided before any solving.
 * objective is the sum of every layer's cost at its width, pins included.
 *
 * Exactness.  A group never needs a width whose cost is not below that of
 * every smaller candidate (a smaller one is as good and frees budget), so
 * those are dropped first.  The continuous relaxation (x[g][b] in [0,1],
 * sum_b x = 1; only the lower convex hull of each group's (b, cost)
 * points matters to it) is solved next; its two dual prices give a
 * Lagrangian bound, and a greedy rounding of it, improved by exchanges
 * and by a node-limited branch and bound on the most undecided groups,
 * gives an incumbent.  Any width whose reduced-cost loss alone exceeds the
 * gap between the two cannot be in an assignment better than the
 * incumbent and is dropped (reduced-cost fixing, exact); lp_solve's branch
 * and bound then runs on what remains: one binary per (group, width) with
 * one choice row per group, or, where a group's widths left are
 * consecutive integers with convex costs, one integer width and its
 * increments.  When every free layer's cost is exactly slope x b (TF-IDF:
 * -score x b) a faster search of the same design runs (alloc_lin.c): the
 * relaxation in mean widths and contiguous candidates as one integer
 * variable per group.  lp_solve's relative gap is 1e-9.  Budgets compare
 * exact 64-bit integer sums: sizes and BOPs are integers, so a budget is
 * its floor.  Objective and relaxed_objective of linear costs are summed
 * as s x b and negated, so negating them gives sum score x b to the bit.
 *
 * relax.  The continuous relaxation above; each group's mean width sum_b
 * b x[g][b] is rounded down to the largest candidate not above it that
 * costs less than every smaller one (linear costs: to a candidate), which
 * keeps both budgets.  relaxed_objective is the LP optimum plus the pinned
 * costs, a lower bound on objective.
 *
 * Determinism.  lp_solve runs single-threaded with fixed settings and no
 * randomized pricing on a model built in layer order, so the same input
 * gives the same output.  Among equally good assignments two rules apply
 * afterwards, both changing neither objective nor feasibility: a free
 * group takes the smallest candidate that costs no more than its chosen
 * width (linear costs: a group of score <= 0 takes the smallest candidate;
 * for a negative score the optimum does so already), and free groups
 * identical in costs, params and MACs
 * are given their widths in descending order of first layer index (the
 * earlier layer gets the wider width).  Otherwise the choice among equal
 * optima is lp_solve's, fixed by the input.  With a time limit the result
 * may depend on machine speed; then proven_optimal is 0.
 */
#ifndef CSQ_ALLOC_H
#define CSQ_ALLOC_H

#include <stdint.h>

#define CSQ_ALLOC_MAXBITS 16

struct csq_alloc_problem {
    int nlayers;
    const char *const *names; /* [nlayers] for messages, or NULL */
    const double *cost;       /* [nlayers][CSQ_ALLOC_MAXBITS] by width, see above */
    const int64_t *params;    /* [nlayers] weight elements, >= 0 */
    const int64_t *macs;      /* [nlayers] multiply-accumulates per image, >= 0 */
    const int *cand;          /* [ncand] candidate widths 1..16, distinct, any order */
    int ncand;
    int abits;                /* activation width for BOPs, 1..16 */
    double size_bits;         /* size budget in bits; <= 0: none */
    double bops;              /* BOPs budget; <= 0: none */
    const int *pin;           /* [nlayers] 0 = free, else 1..16; or NULL */
    const int *tie_group;     /* [nlayers] -1 = untied, else group id >= 0; or NULL */
    double time_limit;        /* seconds of branch and bound; <= 0: none */
    int relax;                /* 1: continuous LP, rounded down per layer */
    int general;              /* 1: the general search even for linear costs
                               * (tests and benchmarks) */
};

struct csq_alloc_result {
    int *wbits;               /* [nlayers] chosen widths, owned */
    double objective;         /* sum_l cost of layer l at wbits_l (minimized) */
    double relaxed_objective; /* continuous LP optimum + pinned costs (a lower bound) */
    int64_t size_bits;        /* sum params_l * wbits_l */
    int64_t bops;             /* sum macs_l * wbits_l * abits */
    double mean_wbits;        /* params-weighted: size_bits / sum params */
    int proven_optimal;       /* 1: exact optimum (never in relax mode) */
    int64_t min_size_bits;    /* smallest size any allowed assignment has */
    int64_t min_bops;         /* smallest BOPs (same assignment) */
};

int csq_alloc_solve(const struct csq_alloc_problem *p, struct csq_alloc_result *r);
void csq_alloc_result_release(struct csq_alloc_result *r);

/* cost[nlayers][CSQ_ALLOC_MAXBITS] = -score_l x b for every width b: the
 * TF-IDF objective (maximize sum score x b) as a cost table. */
void csq_alloc_cost_linear(const double *score, int nlayers, double *cost);

/* Presets of DESIGN.md section 8: "ptq" = {2,3,4}, no pins; "qat" =
 * {4,...,8}, first and last layer pinned to 8.  cand needs 16 slots;
 * *pin_first_last is 0 for none.  Unknown mode: CSQ_EUSAGE. */
int csq_alloc_preset(const char *mode, int *cand, int *ncand, int *pin_first_last);
/* pin[0] and pin[nlayers-1] = bits where not pinned already. */
void csq_alloc_pin_first_last(int *pin, int nlayers, int bits);

#endif
