/*
 * alloc_qp: the bit-width program with pairwise costs (CLADO, Deng et al.,
 * arXiv 2307.05657): the problem of alloc.h plus a cross term for pairs of
 * layers at pairs of widths,
 *
 *   minimize  sum_l cost[l][b_l] + sum_pairs cross(i, b_i; j, b_j)
 *
 * under the same budgets, pins and ties.  Solved exactly with lp_solve on
 * the linearization with one product variable y per pair of chosen widths
 * of two free groups, tightened by the one-width-per-group rows
 * (sum_b' y[g,b; h,b'] = x[g,b] and sum_b y[g,b; h,b'] = x[h,b']), which
 * make y = x[g,b] x[h,b'] at every integer x whatever the sign of the
 * cross term (no convexity is needed: negative eigenvalues are fine).
 *
 * Pins and ties reduce the problem first: a cross term inside one tie
 * group counts when both widths are the group's width; one with a pinned
 * layer becomes a cost of the other layer's group.  The incumbent of a
 * local search (single and paired width changes from the per-layer
 * optimum) stands when lp_solve finds nothing better before the deadline.
 *
 * Ownership: everything is borrowed; r is filled as csq_alloc_solve fills
 * it (release with csq_alloc_result_release).  relaxed_objective is a
 * proven lower bound (the linearization's LP optimum, or, when the
 * deadline ended that LP, each group's cost and pairs with later groups
 * at their best), and
 * *gap = objective - that bound (0 when proven optimal).  relax is refused.
 * Without a time limit the same input gives the same output.
 *
 *     struct csq_alloc_cross x = { .n = np, .li = li, .bi = bi, .lj = lj,
 *                                  .bj = bj, .val = v };
 *     rc = csq_alloc_qp_solve(&p, &x, &r, &gap);
 */
#ifndef CSQ_ALLOC_QP_H
#define CSQ_ALLOC_QP_H

#include "mpq/alloc.h"

struct csq_alloc_cross {
    int n;                   /* entries */
    const int *li, *bi;      /* [n] layer and width of one end */
    const int *lj, *bj;      /* [n] layer (!= li) and width of the other */
    const double *val;       /* [n] finite; repeated entries add up */
};

int csq_alloc_qp_solve(const struct csq_alloc_problem *p, const struct csq_alloc_cross *x,
                       struct csq_alloc_result *r, double *gap);

#endif
