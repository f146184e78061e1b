/*
 * alloc_lin: the exact search for costs linear in the width, cost = -s x b
 * per group (the TF-IDF case; see alloc.h for the exactness argument).
 * Every step uses that linearity: the relaxation in mean widths, greedy
 * keys s / priced size, the Lagrangian bound and contiguous candidates as
 * one integer column.
 */
#include "config.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mpq/alloc_work.h"
#include "mpq/lpsolve.h"
#include "util/err.h"
#include "util/mem.h"

typedef struct csq_alloc_work work_t;
#define FREE_G(w, j) CSQ_ALLOC_FREE(w, j)

/* The continuous relaxation in mean widths: one column per free group in
 * [cmin, cmax].  It equals the paper's LP over x[l][b] in [0,1], because
 * every cost and the objective depend on x only through sum_b b x[l][b].
 * wout gets the LP widths, *lam / *mu the dual prices of the two budgets
 * (0 when absent), *obj the LP optimum. */
static int solve_relaxation(work_t *w, double *wout, double *lam, double *mu, double *obj)
{
    int nf = w->nf, j, ret, rc, row = 0;
    int *col = NULL;
    double *val = NULL, duals[2];
    struct csq_lp *lp = NULL;
    int srow = 0, brow = 0;
    /* rows scaled to a right-hand side near 1: the dual prices of raw
     * bit counts are ~1e-11 and lp_solve rounds such values to zero */
    double sscale = w->size_cap > 0 && w->size_cap != INT64_MAX ? (double)w->size_cap : 1;
    double bscale = w->bops_cap > 0 && w->bops_cap != INT64_MAX ? (double)w->bops_cap : 1;

    col = csq_mem_array((size_t)nf + 1, sizeof *col);
    val = csq_mem_array((size_t)nf + 1, sizeof *val);
    if (!col || !val) {
        rc = CSQ_ENOMEM;
        goto out;
    }
    if ((rc = csq_lp_new(nf, CSQ_LP_MAX, &lp)) != 0)
        goto out;
    if (w->size_cap != INT64_MAX) {
        for (j = 0; j < nf; j++) {
            col[j] = j;
            val[j] = (double)FREE_G(w, j)->p / sscale;
        }
        if ((rc = csq_lp_add_row(lp, nf, val, col, CSQ_LP_LE, (double)w->size_cap / sscale)))
            goto out;
        srow = ++row;
    }
    if (w->bops_cap != INT64_MAX) {
        for (j = 0; j < nf; j++) {
            col[j] = j;
            val[j] = (double)FREE_G(w, j)->q / bscale;
        }
        if ((rc = csq_lp_add_row(lp, nf, val, col, CSQ_LP_LE, (double)w->bops_cap / bscale)))
            goto out;
        brow = ++row;
    }
    for (j = 0; j < nf; j++) {
        col[j] = j;
        val[j] = FREE_G(w, j)->s;
        csq_lp_set_bounds(lp, j, w->cand[0], w->cand[w->nc - 1]);
    }
    csq_lp_set_objective(lp, nf, val, col);
    csq_lp_want_duals(lp);
    if (csq_lp_solve(lp, &ret) != CSQ_LP_OPTIMAL) {
        rc = csq_fail(CSQ_EINVAL, "alloc: lp_solve: relaxation failed (status %d)", ret);
        goto out;
    }
    *obj = csq_lp_objective(lp);
    csq_lp_variables(lp, wout);
    *lam = *mu = 0;
    if (row > 0 && csq_lp_duals(lp, duals, row)) {
        /* any non-negative prices give a valid bound: take magnitudes */
        if (srow)
            *lam = fabs(duals[srow - 1]) / sscale;
        if (brow)
            *mu = fabs(duals[brow - 1]) / bscale;
    }
out:
    csq_lp_free(lp);
    free(col);
    free(val);
    return rc;
}

static double value(const work_t *w, const int *wid)
{
    double v = 0;
    int j;

    for (j = 0; j < w->nf; j++)
        v += FREE_G(w, j)->s * wid[j];
    return v;
}

static int cand_index(const work_t *w, int b)
{
    int k;

    for (k = 0; k < w->nc; k++)
        if (w->cand[k] == b)
            return k;
    return -1;
}

/* Running totals of an assignment during the incumbent search. */
struct heur {
    const work_t *w;
    int *wid;
    int64_t s, b;
    double lam, mu;
};

static int step_fits(const struct heur *h, int j, int nb)
{
    const struct csq_alloc_grp *g = FREE_G(h->w, j);
    int d = nb - h->wid[j];

    return h->s + g->p * d <= h->w->size_cap && h->b + g->q * d <= h->w->bops_cap;
}

static void step(struct heur *h, int j, int nb)
{
    const struct csq_alloc_grp *g = FREE_G(h->w, j);

    h->s += g->p * (nb - h->wid[j]);
    h->b += g->q * (nb - h->wid[j]);
    h->wid[j] = nb;
}

/* Greedy completion: raise, one candidate at a time, the group with the
 * best gain per dual-priced cost that still fits.  Ties: lower index. */
static void greedy_fill(struct heur *h)
{
    const work_t *w = h->w;
    int j;

    for (;;) {
        int best = -1, bw = 0;
        double bk = 0;
        for (j = 0; j < w->nf; j++) {
            const struct csq_alloc_grp *g = FREE_G(w, j);
            int k = cand_index(w, h->wid[j]), nb, d;
            double key;
            if (k + 1 >= w->nc || g->s <= 0)
                continue;
            nb = w->cand[k + 1];
            if (!step_fits(h, j, nb))
                continue;
            d = nb - h->wid[j];
            key = g->s * d / (h->lam * (double)g->p * d + h->mu * (double)g->q * d + 1e-300);
            if (key > bk) {
                bk = key;
                best = j;
                bw = nb;
            }
        }
        if (best < 0)
            break;
        step(h, best, bw);
    }
}

/* Incumbent: greedy completion, then exchanges (one group one candidate
 * down, another one up) while they gain, each followed by a greedy
 * completion.  Bounded passes keep it O(passes * groups^2). */
static void improve(struct heur *h)
{
    const work_t *w = h->w;
    int pass, i, j, moved = 1;

    greedy_fill(h);
    for (pass = 0; moved && pass < 4 * w->nf + 8; pass++) {
        moved = 0;
        for (i = 0; i < w->nf && !moved; i++) {
            const struct csq_alloc_grp *gi = FREE_G(w, i);
            int ki = cand_index(w, h->wid[i]), oi = h->wid[i], di;
            if (ki <= 0)
                continue;
            di = w->cand[ki - 1];
            step(h, i, di);
            for (j = 0; j < w->nf; j++) {
                const struct csq_alloc_grp *gj = FREE_G(w, j);
                int kj = cand_index(w, h->wid[j]), nj;
                if (j == i || kj + 1 >= w->nc)
                    continue;
                nj = w->cand[kj + 1];
                if (gj->s * (nj - h->wid[j]) - gi->s * (oi - di) <= 1e-12 * fabs(gi->s * oi))
                    continue;
                if (!step_fits(h, j, nj))
                    continue;
                step(h, j, nj);
                greedy_fill(h);
                moved = 1;
                break;
            }
            if (!moved)
                step(h, i, oi);
        }
    }
}

/* --- exact branch and bound on the reduced program --- */

/* lo[j]..hi[j]: indices into cand of the widths group j may still take. */
static int branch_and_bound(work_t *w, const int *lo, const int *hi, double zcut, int *wid,
                            int *proven)
{
    int nf = w->nf, j, k, ncol = 0, rc = CSQ_OK;
    int *first = NULL, *isint = NULL, *col = NULL;
    double *val = NULL, *x = NULL, *sv = NULL, *bv = NULL;
    int64_t size_cap = w->size_cap, bops_cap = w->bops_cap;
    struct csq_lp *lp = NULL;
    enum csq_lp_status st;
    double objfix = 0;

    /* columns: a contiguous range of integer candidates is one integer
     * column; any other set is one binary per candidate plus a choice row */
    first = csq_mem_array((size_t)nf + 1, sizeof *first);
    isint = csq_mem_array((size_t)nf, sizeof *isint);
    if (!first || !isint) {
        rc = CSQ_ENOMEM;
        goto out;
    }
    for (j = 0; j < nf; j++) {
        const struct csq_alloc_grp *g = FREE_G(w, j);
        first[j] = ncol;
        if (lo[j] == hi[j]) {
            isint[j] = -1; /* fixed */
            objfix += g->s * w->cand[lo[j]];
            if (size_cap != INT64_MAX)
                size_cap -= g->p * w->cand[lo[j]];
            if (bops_cap != INT64_MAX)
                bops_cap -= g->q * w->cand[lo[j]];
            continue;
        }
        isint[j] = w->cand[hi[j]] - w->cand[lo[j]] == hi[j] - lo[j];
        ncol += isint[j] ? 1 : hi[j] - lo[j] + 1;
    }
    first[nf] = ncol;
    if (ncol == 0) {
        for (j = 0; j < nf; j++)
            wid[j] = w->cand[lo[j]];
        *proven = 1;
        goto out;
    }
    col = csq_mem_array((size_t)ncol + 1, sizeof *col);
    val = csq_mem_array((size_t)ncol + 1, sizeof *val);
    sv = csq_mem_array((size_t)ncol + 1, sizeof *sv);
    bv = csq_mem_array((size_t)ncol + 1, sizeof *bv);
    x = csq_mem_array((size_t)ncol + 1, sizeof *x);
    if (!col || !val || !sv || !bv || !x) {
        rc = CSQ_ENOMEM;
        goto out;
    }
    if ((rc = csq_lp_new(ncol, CSQ_LP_MAX, &lp)) != 0)
        goto out;
    for (j = 0; j < nf; j++) {
        const struct csq_alloc_grp *g = FREE_G(w, j);
        if (isint[j] < 0)
            continue;
        if (isint[j]) {
            int c = first[j];
            sv[c] = (double)g->p;
            bv[c] = (double)g->q;
            val[c] = g->s;
            continue;
        }
        for (k = lo[j]; k <= hi[j]; k++) {
            int c = first[j] + k - lo[j];
            sv[c] = (double)(g->p * w->cand[k]);
            bv[c] = (double)(g->q * w->cand[k]);
            val[c] = g->s * w->cand[k];
            col[k - lo[j]] = c;
            x[k - lo[j]] = 1;
        }
        if ((rc = csq_lp_add_row(lp, hi[j] - lo[j] + 1, x, col, CSQ_LP_EQ, 1)) != 0)
            goto out;
    }
    for (k = 0; k < ncol; k++)
        col[k] = k;
    if (size_cap != INT64_MAX && (rc = csq_lp_add_row(lp, ncol, sv, col, CSQ_LP_LE,
                                                      (double)size_cap)) != 0)
        goto out;
    if (bops_cap != INT64_MAX && (rc = csq_lp_add_row(lp, ncol, bv, col, CSQ_LP_LE,
                                                      (double)bops_cap)) != 0)
        goto out;
    /* the incumbent's value as a cut: nodes that cannot beat it become
     * infeasible at once (lp_solve does not take a starting solution) */
    if ((rc = csq_lp_add_row(lp, ncol, val, col, CSQ_LP_GE, zcut - objfix)) != 0)
        goto out;
    csq_lp_set_objective(lp, ncol, val, col);
    for (j = 0; j < nf; j++) {
        if (isint[j] < 0)
            continue;
        if (isint[j]) {
            csq_lp_set_bounds(lp, first[j], w->cand[lo[j]], w->cand[hi[j]]);
            csq_lp_set_int(lp, first[j]);
        } else {
            for (k = first[j]; k < first[j + 1]; k++)
                csq_lp_set_binary(lp, k);
        }
    }
    /* measured on 300 x 7 instances with both budgets: the fastest */
    csq_lp_set_mip(lp, 1e-11, 1e-9, CSQ_LP_BRANCH_GREEDY);
    csq_lp_set_stop(lp, csq_alloc_stop, w);
    st = csq_lp_solve(lp, NULL);
    *proven = st == CSQ_LP_OPTIMAL;
    if (st == CSQ_LP_NOSOLUTION) {
        /* no solution from lp_solve (time limit, numerical trouble):
         * the caller keeps its incumbent */
        wid[0] = 0;
        *proven = 0;
        goto out;
    }
    csq_lp_variables(lp, x);
    for (j = 0; j < nf; j++) {
        if (isint[j] < 0) {
            wid[j] = w->cand[lo[j]];
        } else if (isint[j]) {
            wid[j] = (int)lround(x[first[j]]);
        } else {
            int bk = lo[j];
            for (k = lo[j]; k <= hi[j]; k++)
                if (x[first[j] + k - lo[j]] > x[first[j] + bk - lo[j]])
                    bk = k;
            wid[j] = w->cand[bk];
        }
    }
out:
    csq_lp_free(lp);
    free(first);
    free(isint);
    free(col);
    free(val);
    free(sv);
    free(bv);
    free(x);
    return rc;
}

static int cmp_dbl(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Keep for group j the candidates whose loss fits in the gap. */
static void eliminate(const work_t *w, const double *d, const double *best, double gap,
                      int *lo, int *hi)
{
    int j, k;

    for (j = 0; j < w->nf; j++) {
        lo[j] = w->nc;
        hi[j] = -1;
        for (k = 0; k < w->nc; k++)
            if (best[j] - d[j] * w->cand[k] <= gap) {
                if (k < lo[j])
                    lo[j] = k;
                hi[j] = k;
            }
        if (hi[j] < 0) { /* cannot happen in exact arithmetic: keep all */
            lo[j] = 0;
            hi[j] = w->nc - 1;
        }
    }
}

/* Take cand_w as the incumbent when it fits and is better. */
static void adopt(const work_t *w, const int *cand_w, int *wid, double *zh)
{
    if (cand_w[0] != 0 && csq_alloc_fits(w, cand_w) && value(w, cand_w) > *zh) {
        memcpy(wid, cand_w, (size_t)w->nf * sizeof *wid);
        *zh = value(w, wid);
    }
}

static void heur_init(struct heur *h, const work_t *w, int *wid, double lam, double mu)
{
    int j;

    h->w = w;
    h->wid = wid;
    h->s = h->b = 0;
    h->lam = lam;
    h->mu = mu;
    for (j = 0; j < w->nf; j++) {
        h->s += FREE_G(w, j)->p * wid[j];
        h->b += FREE_G(w, j)->q * wid[j];
    }
}

#define CORE_GROUPS 24
#define CORE_NODES 20000

static int solve_exact(work_t *w, const double *xlp, double lam, double mu, int *wid,
                       int *proven)
{
    int nf = w->nf, j, rc = CSQ_OK, ncore, core_proven;
    int *lo = NULL, *hi = NULL, *cand_w = NULL;
    double L, zh, tol, thr;
    double *d = NULL, *best = NULL, *ad = NULL;
    struct heur hs;

    lo = csq_mem_array((size_t)nf, sizeof *lo);
    hi = csq_mem_array((size_t)nf, sizeof *hi);
    cand_w = csq_mem_array((size_t)nf, sizeof *cand_w);
    d = csq_mem_array((size_t)nf, sizeof *d);
    best = csq_mem_array((size_t)nf, sizeof *best);
    ad = csq_mem_array((size_t)nf, sizeof *ad);
    if (!lo || !hi || !cand_w || !d || !best || !ad) {
        rc = CSQ_ENOMEM;
        goto out;
    }
    /* first incumbent: the rounded relaxation, greedily completed */
    csq_alloc_round_down(w, xlp, NULL, wid);
    heur_init(&hs, w, wid, lam, mu);
    improve(&hs);
    zh = value(w, wid);

    /* Lagrangian bound: for lam, mu >= 0 and any feasible widths b,
     * sum s b <= L - sum_g loss_g(b_g), loss_g(b) = best_g - d_g b >= 0 */
    L = lam * (w->size_cap == INT64_MAX ? 0 : (double)w->size_cap)
        + mu * (w->bops_cap == INT64_MAX ? 0 : (double)w->bops_cap);
    for (j = 0; j < nf; j++) {
        const struct csq_alloc_grp *g = FREE_G(w, j);
        d[j] = g->s - lam * (double)g->p - mu * (double)g->q;
        best[j] = fmax(d[j] * w->cand[0], d[j] * w->cand[w->nc - 1]);
        L += best[j];
        ad[j] = fabs(d[j]);
    }
    tol = 1e-9 * (fabs(L) + fabs(zh) + 1e-3);

    /* Second incumbent: the core problem (the groups with the smallest
     * reduced costs free, the rest at their rounded LP widths) solved by
     * branch and bound with a node limit; a knapsack's optimum rarely
     * differs from the LP outside its core. */
    qsort(ad, (size_t)nf, sizeof *ad, cmp_dbl);
    thr = ad[nf < CORE_GROUPS ? nf - 1 : CORE_GROUPS - 1];
    csq_alloc_round_down(w, xlp, NULL, cand_w);
    eliminate(w, d, best, L - zh + tol, lo, hi);
    for (j = 0, ncore = 0; j < nf; j++) {
        if (fabs(d[j]) <= thr && ncore < CORE_GROUPS) {
            ncore++;
            continue;
        }
        lo[j] = hi[j] = cand_index(w, cand_w[j]);
    }
    w->node_limit = CORE_NODES;
    rc = branch_and_bound(w, lo, hi, zh - tol, cand_w, &core_proven);
    w->node_limit = 0;
    if (rc != 0)
        goto out;
    if (cand_w[0] != 0 && csq_alloc_fits(w, cand_w)) {
        heur_init(&hs, w, cand_w, lam, mu);
        improve(&hs);
        adopt(w, cand_w, wid, &zh);
    }

    /* the exact program over what the gap leaves */
    eliminate(w, d, best, L - zh + tol, lo, hi);
    rc = branch_and_bound(w, lo, hi, zh - tol, cand_w, proven);
    if (rc != 0)
        goto out;
    if (cand_w[0] != 0 && !csq_alloc_fits(w, cand_w))
        *proven = 0; /* lp_solve's tolerance let a budget slip: keep ours */
    adopt(w, cand_w, wid, &zh);
out:
    free(lo);
    free(hi);
    free(cand_w);
    free(d);
    free(best);
    free(ad);
    return rc;
}


int csq_alloc_lin_solve(work_t *w, int *wid, int *proven, double *lpobj)
{
    double *xlp = csq_mem_array((size_t)w->nf + 1, sizeof *xlp), lam = 0, mu = 0;
    int rc;

    *proven = 0;
    if (!xlp)
        return CSQ_ENOMEM;
    if ((rc = solve_relaxation(w, xlp, &lam, &mu, lpobj)) == 0) {
        if (w->pb->relax)
            csq_alloc_round_down(w, xlp, NULL, wid);
        else
            rc = solve_exact(w, xlp, lam, mu, wid, proven);
    }
    free(xlp);
    return rc;
}
