/*
 * alloc: the bit-width integer program (see alloc.h for the model, the
 * exactness argument and the tie-breaking rules).  The only file that
 * includes lp_lib.h, whose unprefixed names (REAL, TRUE, OPTIMAL...) stay
 * here.
 */
#include "config.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <lp_lib.h>

#include "mpq/alloc.h"
#include "util/units.h"
#include "util/err.h"
#include "util/mem.h"

/* Sums stay far below 2^63: 2^50 elements x 16 bits x 16 bits = 2^58. */
#define MAX_TOTAL ((int64_t)1 << 50)

/* One tie group (or untied layer): the unit the program chooses for. */
struct grp {
    double s;     /* summed score */
    int64_t p;    /* summed params */
    int64_t q;    /* summed macs * abits */
    int first;    /* first member layer, for order and messages */
    int pin;      /* 0 = free */
    int w;        /* chosen width */
};

struct work {
    const struct csq_alloc_problem *pb;
    int ng, nf;
    struct grp *g;
    int *layer_grp;   /* [nlayers] */
    int *free_idx;    /* [nf] group index of each free group */
    int cand[CSQ_ALLOC_MAXBITS];
    int nc;
    int64_t size_cap; /* residual budgets for free groups; INT64_MAX: none */
    int64_t bops_cap;
    double deadline;  /* monotonic seconds, 0 = none */
    long long node_limit; /* branch-and-bound nodes, 0 = none */
};

static double now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static const char *lname(const struct csq_alloc_problem *p, int l, char *buf, size_t n)
{
    if (p->names && p->names[l])
        return p->names[l];
    snprintf(buf, n, "#%d", l);
    return buf;
}

/* --- validation and groups --- */

static int cmp_int(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

static int check_problem(const struct csq_alloc_problem *p)
{
    int l, i;
    int64_t tp = 0, tm = 0;
    char b1[32];

    if (p->nlayers <= 0)
        return csq_fail(CSQ_EINVAL, "alloc: no layers");
    if (p->abits < 1 || p->abits > CSQ_ALLOC_MAXBITS)
        return csq_fail(CSQ_EINVAL, "alloc: activation width %d is not in 1..%d", p->abits,
                        CSQ_ALLOC_MAXBITS);
    if (p->ncand < 0 || p->ncand > CSQ_ALLOC_MAXBITS)
        return csq_fail(CSQ_EINVAL, "alloc: %d candidate widths", p->ncand);
    for (i = 0; i < p->ncand; i++)
        if (p->cand[i] < 1 || p->cand[i] > CSQ_ALLOC_MAXBITS)
            return csq_fail(CSQ_EINVAL, "alloc: candidate width %d is not in 1..%d",
                            p->cand[i], CSQ_ALLOC_MAXBITS);
    if (isnan(p->size_bits) || isnan(p->bops) || isnan(p->time_limit))
        return csq_fail(CSQ_EINVAL, "alloc: budget is not a number");
    for (l = 0; l < p->nlayers; l++) {
        if (!isfinite(p->score[l]))
            return csq_fail(CSQ_EINVAL, "alloc: layer '%s': score is not finite",
                            lname(p, l, b1, sizeof b1));
        if (p->params[l] < 0 || p->macs[l] < 0)
            return csq_fail(CSQ_EINVAL, "alloc: layer '%s': negative params or MACs",
                            lname(p, l, b1, sizeof b1));
        if (p->pin && (p->pin[l] < 0 || p->pin[l] > CSQ_ALLOC_MAXBITS))
            return csq_fail(CSQ_EINVAL, "alloc: layer '%s': pinned width %d is not in 1..%d",
                            lname(p, l, b1, sizeof b1), p->pin[l], CSQ_ALLOC_MAXBITS);
        tp += p->params[l];
        tm += p->macs[l];
        if (tp > MAX_TOTAL || tm > MAX_TOTAL)
            return csq_fail(CSQ_EINVAL, "alloc: parameter or MAC total too large");
    }
    return CSQ_OK;
}

static int build_groups(struct work *w)
{
    const struct csq_alloc_problem *p = w->pb;
    int *tie_ids = NULL, l, k, i;
    char b1[32], b2[32];

    w->g = csq_mem_zarray((size_t)p->nlayers, sizeof *w->g);
    w->layer_grp = csq_mem_array((size_t)p->nlayers, sizeof *w->layer_grp);
    w->free_idx = csq_mem_array((size_t)p->nlayers, sizeof *w->free_idx);
    tie_ids = csq_mem_array((size_t)p->nlayers, sizeof *tie_ids);
    if (!w->g || !w->layer_grp || !w->free_idx || !tie_ids) {
        free(tie_ids);
        return CSQ_ENOMEM;
    }
    w->ng = 0;
    for (l = 0; l < p->nlayers; l++) {
        int t = p->tie_group ? p->tie_group[l] : -1, pin = p->pin ? p->pin[l] : 0;
        struct grp *g;

        k = -1;
        if (t >= 0)
            for (i = 0; i < w->ng; i++)
                if (tie_ids[i] == t) {
                    k = i;
                    break;
                }
        if (k < 0) {
            k = w->ng++;
            tie_ids[k] = t;
            w->g[k].first = l;
        }
        g = &w->g[k];
        w->layer_grp[l] = k;
        g->s += p->score[l];
        g->p += p->params[l];
        g->q += p->macs[l] * p->abits;
        if (pin && g->pin && g->pin != pin) {
            int other;
            for (other = g->first; other < l; other++)
                if (w->layer_grp[other] == k && p->pin[other])
                    break;
            free(tie_ids);
            return csq_fail(CSQ_EINVAL, "alloc: layers '%s' and '%s' are tied but pinned to %d "
                            "and %d bits", lname(p, other, b1, sizeof b1),
                            lname(p, l, b2, sizeof b2), g->pin, pin);
        }
        if (pin)
            g->pin = pin;
    }
    free(tie_ids);
    w->nf = 0;
    for (k = 0; k < w->ng; k++) {
        w->g[k].w = w->g[k].pin;
        if (!w->g[k].pin)
            w->free_idx[w->nf++] = k;
    }
    return CSQ_OK;
}

/* --- lp_solve adapter --- */

static int __WINAPI abort_cb(lprec *lp, void *user)
{
    const struct work *w = user;
    return (w->deadline > 0 && now() > w->deadline)
           || (w->node_limit > 0 && (long long)get_total_nodes(lp) > w->node_limit);
}

static lprec *new_lp(int ncol)
{
    lprec *lp = make_lp(0, ncol);

    if (!lp)
        return NULL;
    set_verbose(lp, NEUTRAL);
    set_maxim(lp);
    return lp;
}

/* The continuous relaxation in mean widths: one column per free group in
 * [cmin, cmax].  It equals the paper's LP over x[l][b] in [0,1], because
 * every cost and the objective depend on x only through sum_b b x[l][b].
 * wout gets the LP widths, *lam / *mu the dual prices of the two budgets
 * (0 when absent), *obj the LP optimum. */
static int solve_relaxation(struct work *w, double *wout, double *lam, double *mu, double *obj)
{
    int nf = w->nf, j, ret, rc = CSQ_OK, row = 0;
    int *col = NULL;
    REAL *val = NULL, *duals = NULL, *dfrom, *dtill;
    lprec *lp = new_lp(nf);
    int srow = 0, brow = 0;
    /* rows scaled to a right-hand side near 1: the dual prices of raw
     * bit counts are ~1e-11 and lp_solve rounds such values to zero */
    double sscale = w->size_cap > 0 && w->size_cap != INT64_MAX ? (double)w->size_cap : 1;
    double bscale = w->bops_cap > 0 && w->bops_cap != INT64_MAX ? (double)w->bops_cap : 1;

    col = csq_mem_array((size_t)nf + 1, sizeof *col);
    val = csq_mem_array((size_t)nf + 1, sizeof *val);
    if (!lp || !col || !val) {
        rc = lp ? CSQ_ENOMEM : csq_fail(CSQ_ENOMEM, "alloc: lp_solve: cannot create model");
        goto out;
    }
    set_add_rowmode(lp, TRUE);
    if (w->size_cap != INT64_MAX) {
        for (j = 0; j < nf; j++) {
            col[j] = j + 1;
            val[j] = (REAL)w->g[w->free_idx[j]].p / sscale;
        }
        add_constraintex(lp, nf, val, col, LE, (REAL)w->size_cap / sscale);
        srow = ++row;
    }
    if (w->bops_cap != INT64_MAX) {
        for (j = 0; j < nf; j++) {
            col[j] = j + 1;
            val[j] = (REAL)w->g[w->free_idx[j]].q / bscale;
        }
        add_constraintex(lp, nf, val, col, LE, (REAL)w->bops_cap / bscale);
        brow = ++row;
    }
    set_add_rowmode(lp, FALSE);
    for (j = 0; j < nf; j++) {
        col[j] = j + 1;
        val[j] = w->g[w->free_idx[j]].s;
        set_bounds(lp, j + 1, w->cand[0], w->cand[w->nc - 1]);
    }
    set_obj_fnex(lp, nf, val, col);
    set_presolve(lp, PRESOLVE_DUALS | PRESOLVE_SENSDUALS, get_presolveloops(lp));
    ret = solve(lp);
    if (ret != OPTIMAL) {
        rc = csq_fail(CSQ_EINVAL, "alloc: lp_solve: relaxation failed (status %d)", ret);
        goto out;
    }
    *obj = get_objective(lp);
    get_variables(lp, wout);
    *lam = *mu = 0;
    if (row > 0 && get_ptr_sensitivity_rhs(lp, &duals, &dfrom, &dtill)) {
        /* any non-negative prices give a valid bound: take magnitudes */
        if (srow)
            *lam = fabs(duals[srow - 1]) / sscale;
        if (brow)
            *mu = fabs(duals[brow - 1]) / bscale;
    }
out:
    if (lp)
        delete_lp(lp);
    free(col);
    free(val);
    return rc;
}

/* --- assignments --- */

static int fits(const struct work *w, const int *wid)
{
    int64_t s = 0, b = 0;
    int j;

    for (j = 0; j < w->nf; j++) {
        s += w->g[w->free_idx[j]].p * wid[j];
        b += w->g[w->free_idx[j]].q * wid[j];
    }
    return s <= w->size_cap && b <= w->bops_cap;
}

static double value(const struct work *w, const int *wid)
{
    double v = 0;
    int j;

    for (j = 0; j < w->nf; j++)
        v += w->g[w->free_idx[j]].s * wid[j];
    return v;
}

/* Largest candidate <= x (x is never below cand[0] by more than slack). */
static int round_down(const struct work *w, double x, double slack)
{
    int k = 0;

    while (k + 1 < w->nc && w->cand[k + 1] <= x + slack)
        k++;
    return w->cand[k];
}

/* Round the LP widths down; tolerate LP round-off first, then without it,
 * then fall back to all-minimum (feasible by the initial check). */
static void round_relaxation(const struct work *w, const double *x, int *wid)
{
    static const double slack[] = {1e-9, 0};
    int j, t;

    for (t = 0; t < 2; t++) {
        for (j = 0; j < w->nf; j++)
            wid[j] = round_down(w, x[j], slack[t]);
        if (fits(w, wid))
            return;
    }
    for (j = 0; j < w->nf; j++)
        wid[j] = w->cand[0];
}

static int cand_index(const struct work *w, int b)
{
    int k;

    for (k = 0; k < w->nc; k++)
        if (w->cand[k] == b)
            return k;
    return -1;
}

/* Running totals of an assignment during the incumbent search. */
struct heur {
    const struct work *w;
    int *wid;
    int64_t s, b;
    double lam, mu;
};

static int step_fits(const struct heur *h, int j, int nb)
{
    const struct grp *g = &h->w->g[h->w->free_idx[j]];
    int d = nb - h->wid[j];

    return h->s + g->p * d <= h->w->size_cap && h->b + g->q * d <= h->w->bops_cap;
}

static void step(struct heur *h, int j, int nb)
{
    const struct grp *g = &h->w->g[h->w->free_idx[j]];

    h->s += g->p * (nb - h->wid[j]);
    h->b += g->q * (nb - h->wid[j]);
    h->wid[j] = nb;
}

/* Greedy completion: raise, one candidate at a time, the group with the
 * best gain per dual-priced cost that still fits.  Ties: lower index. */
static void greedy_fill(struct heur *h)
{
    const struct work *w = h->w;
    int j;

    for (;;) {
        int best = -1, bw = 0;
        double bk = 0;
        for (j = 0; j < w->nf; j++) {
            const struct grp *g = &w->g[w->free_idx[j]];
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
    const struct work *w = h->w;
    int pass, i, j, moved = 1;

    greedy_fill(h);
    for (pass = 0; moved && pass < 4 * w->nf + 8; pass++) {
        moved = 0;
        for (i = 0; i < w->nf && !moved; i++) {
            const struct grp *gi = &w->g[w->free_idx[i]];
            int ki = cand_index(w, h->wid[i]), oi = h->wid[i], di;
            if (ki <= 0)
                continue;
            di = w->cand[ki - 1];
            step(h, i, di);
            for (j = 0; j < w->nf; j++) {
                const struct grp *gj = &w->g[w->free_idx[j]];
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
static int branch_and_bound(struct work *w, const int *lo, const int *hi, double zcut, int *wid,
                            int *proven)
{
    int nf = w->nf, j, k, ncol = 0, ret, rc = CSQ_OK;
    int *first = NULL, *isint = NULL, *col = NULL;
    REAL *val = NULL, *x = NULL, *sv = NULL, *bv = NULL;
    int64_t size_cap = w->size_cap, bops_cap = w->bops_cap;
    lprec *lp = NULL;
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
        const struct grp *g = &w->g[w->free_idx[j]];
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
    lp = new_lp(ncol);
    if (!col || !val || !sv || !bv || !x || !lp) {
        rc = lp ? CSQ_ENOMEM : csq_fail(CSQ_ENOMEM, "alloc: lp_solve: cannot create model");
        goto out;
    }
    set_add_rowmode(lp, TRUE);
    for (j = 0; j < nf; j++) {
        const struct grp *g = &w->g[w->free_idx[j]];
        if (isint[j] < 0)
            continue;
        if (isint[j]) {
            int c = first[j];
            sv[c] = (REAL)g->p;
            bv[c] = (REAL)g->q;
            val[c] = g->s;
            continue;
        }
        for (k = lo[j]; k <= hi[j]; k++) {
            int c = first[j] + k - lo[j];
            sv[c] = (REAL)(g->p * w->cand[k]);
            bv[c] = (REAL)(g->q * w->cand[k]);
            val[c] = g->s * w->cand[k];
            col[k - lo[j]] = c + 1;
            x[k - lo[j]] = 1;
        }
        add_constraintex(lp, hi[j] - lo[j] + 1, x, col, EQ, 1);
    }
    for (k = 0; k < ncol; k++)
        col[k] = k + 1;
    if (size_cap != INT64_MAX)
        add_constraintex(lp, ncol, sv, col, LE, (REAL)size_cap);
    if (bops_cap != INT64_MAX)
        add_constraintex(lp, ncol, bv, col, LE, (REAL)bops_cap);
    /* the incumbent's value as a cut: nodes that cannot beat it become
     * infeasible at once (lp_solve does not take a starting solution) */
    add_constraintex(lp, ncol, val, col, GE, zcut - objfix);
    set_add_rowmode(lp, FALSE);
    set_obj_fnex(lp, ncol, val, col);
    for (j = 0; j < nf; j++) {
        if (isint[j] < 0)
            continue;
        if (isint[j]) {
            set_bounds(lp, first[j] + 1, w->cand[lo[j]], w->cand[hi[j]]);
            set_int(lp, first[j] + 1, TRUE);
        } else {
            for (k = first[j]; k < first[j + 1]; k++)
                set_binary(lp, k + 1, TRUE);
        }
    }
    set_mip_gap(lp, TRUE, 1e-11);
    set_mip_gap(lp, FALSE, 1e-9);
    /* measured on 300 x 7 instances with both budgets: the fastest */
    set_bb_rule(lp, NODE_GREEDYMODE | NODE_RCOSTFIXING);
    set_bb_floorfirst(lp, BRANCH_CEILING);
    put_abortfunc(lp, abort_cb, w);
    ret = solve(lp);
    *proven = ret == OPTIMAL;
    if (ret != OPTIMAL && ret != SUBOPTIMAL) {
        /* no solution from lp_solve (time limit, numerical trouble):
         * the caller keeps its incumbent */
        wid[0] = 0;
        *proven = 0;
        goto out;
    }
    get_variables(lp, x);
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
    if (lp)
        delete_lp(lp);
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
static void eliminate(const struct work *w, const double *d, const double *best, double gap,
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
static void adopt(const struct work *w, const int *cand_w, int *wid, double *zh)
{
    if (cand_w[0] != 0 && fits(w, cand_w) && value(w, cand_w) > *zh) {
        memcpy(wid, cand_w, (size_t)w->nf * sizeof *wid);
        *zh = value(w, wid);
    }
}

static void heur_init(struct heur *h, const struct work *w, int *wid, double lam, double mu)
{
    int j;

    h->w = w;
    h->wid = wid;
    h->s = h->b = 0;
    h->lam = lam;
    h->mu = mu;
    for (j = 0; j < w->nf; j++) {
        h->s += w->g[w->free_idx[j]].p * wid[j];
        h->b += w->g[w->free_idx[j]].q * wid[j];
    }
}

#define CORE_GROUPS 24
#define CORE_NODES 20000

static int solve_exact(struct work *w, const double *xlp, double lam, double mu, int *wid,
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
    round_relaxation(w, xlp, wid);
    heur_init(&hs, w, wid, lam, mu);
    improve(&hs);
    zh = value(w, wid);

    /* Lagrangian bound: for lam, mu >= 0 and any feasible widths b,
     * sum s b <= L - sum_g loss_g(b_g), loss_g(b) = best_g - d_g b >= 0 */
    L = lam * (w->size_cap == INT64_MAX ? 0 : (double)w->size_cap)
        + mu * (w->bops_cap == INT64_MAX ? 0 : (double)w->bops_cap);
    for (j = 0; j < nf; j++) {
        const struct grp *g = &w->g[w->free_idx[j]];
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
    round_relaxation(w, xlp, cand_w);
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
    if (cand_w[0] != 0 && fits(w, cand_w)) {
        heur_init(&hs, w, cand_w, lam, mu);
        improve(&hs);
        adopt(w, cand_w, wid, &zh);
    }

    /* the exact program over what the gap leaves */
    eliminate(w, d, best, L - zh + tol, lo, hi);
    rc = branch_and_bound(w, lo, hi, zh - tol, cand_w, proven);
    if (rc != 0)
        goto out;
    if (cand_w[0] != 0 && !fits(w, cand_w))
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

/* --- canonical choice among equal optima (see alloc.h) --- */

static const struct work *sort_ctx;

static int cmp_free(const void *a, const void *b)
{
    const struct grp *x = &sort_ctx->g[sort_ctx->free_idx[*(const int *)a]];
    const struct grp *y = &sort_ctx->g[sort_ctx->free_idx[*(const int *)b]];

    if (x->s != y->s)
        return x->s < y->s ? -1 : 1;
    if (x->p != y->p)
        return x->p < y->p ? -1 : 1;
    if (x->q != y->q)
        return x->q < y->q ? -1 : 1;
    return (x->first > y->first) - (x->first < y->first);
}

static int canon_ties(struct work *w, int *wid)
{
    int nf = w->nf, i, j, k, *ord = csq_mem_array((size_t)nf + 1, sizeof *ord);
    int *ws = csq_mem_array((size_t)nf + 1, sizeof *ws);

    if (!ord || !ws) {
        free(ord);
        free(ws);
        return CSQ_ENOMEM;
    }
    for (j = 0; j < nf; j++) {
        if (w->g[w->free_idx[j]].s == 0)
            wid[j] = w->cand[0];
        ord[j] = j;
    }
    sort_ctx = w;
    qsort(ord, (size_t)nf, sizeof *ord, cmp_free);
    for (i = 0; i < nf; i = k) {
        const struct grp *gi = &w->g[w->free_idx[ord[i]]];
        for (k = i + 1; k < nf; k++) {
            const struct grp *gk = &w->g[w->free_idx[ord[k]]];
            if (gk->s != gi->s || gk->p != gi->p || gk->q != gi->q)
                break;
        }
        if (k - i < 2)
            continue;
        for (j = i; j < k; j++)
            ws[j - i] = -wid[ord[j]];
        qsort(ws, (size_t)(k - i), sizeof *ws, cmp_int);
        for (j = i; j < k; j++) /* ord is in first-layer order within a run */
            wid[ord[j]] = -ws[j - i];
    }
    free(ord);
    free(ws);
    return CSQ_OK;
}

/* --- entry points --- */

static int64_t cap_of(double budget)
{
    if (!(budget > 0))
        return INT64_MAX;
    if (budget >= 9.0e18)
        return INT64_MAX - 1;
    return (int64_t)floor(budget);
}

static int infeasible(const struct work *w, const struct csq_alloc_result *r)
{
    const struct csq_alloc_problem *p = w->pb;
    char a[32], b[32], c[32], d[32];
    char need[160], have[160];

    snprintf(need, sizeof need, "size %lld bytes (%s), bops %lld (%s)",
             (long long)((r->min_size_bits + 7) / 8),
             csq_units_fmt_bytes((double)((r->min_size_bits + 7) / 8), a, sizeof a),
             (long long)r->min_bops, csq_units_fmt_count((double)r->min_bops, b, sizeof b));
    have[0] = '\0';
    if (p->size_bits > 0)
        snprintf(have, sizeof have, "size %.0f bytes (%s)", floor(p->size_bits / 8),
                 csq_units_fmt_bytes(floor(p->size_bits / 8), c, sizeof c));
    if (p->bops > 0)
        snprintf(have + strlen(have), sizeof have - strlen(have), "%sbops %.0f (%s)",
                 have[0] ? ", " : "", floor(p->bops),
                 csq_units_fmt_count(floor(p->bops), d, sizeof d));
    return csq_fail(CSQ_EINFEASIBLE, "alloc: no bit assignment fits the budget (%s); "
                    "the smallest the candidate widths, pins and ties allow is %s",
                    have, need);
}

int csq_alloc_solve(const struct csq_alloc_problem *p, struct csq_alloc_result *r)
{
    struct work w;
    int rc, j, k, l, *wid = NULL, proven = 0;
    double *xlp = NULL, lam = 0, mu = 0, lpobj = 0;
    int64_t fix_s = 0, fix_b = 0, min_s = 0, min_b = 0, tp = 0;

    memset(r, 0, sizeof *r);
    memset(&w, 0, sizeof w);
    w.pb = p;
    if ((rc = check_problem(p)) != 0)
        return rc;
    for (j = 0; j < p->ncand; j++)
        w.cand[j] = p->cand[j];
    w.nc = p->ncand;
    qsort(w.cand, (size_t)w.nc, sizeof w.cand[0], cmp_int);
    for (j = 1; j < w.nc; j++)
        if (w.cand[j] == w.cand[j - 1])
            return csq_fail(CSQ_EINVAL, "alloc: candidate width %d listed twice", w.cand[j]);
    if ((rc = build_groups(&w)) != 0)
        goto out;
    if (w.nf > 0 && w.nc == 0) {
        rc = csq_fail(CSQ_EINVAL, "alloc: no candidate widths for the unpinned layers");
        goto out;
    }

    for (k = 0; k < w.ng; k++) {
        const struct grp *g = &w.g[k];
        int b = g->pin ? g->pin : w.cand[0];
        min_s += g->p * b;
        min_b += g->q * b;
        if (g->pin) {
            fix_s += g->p * g->pin;
            fix_b += g->q * g->pin;
        }
    }
    r->min_size_bits = min_s;
    r->min_bops = min_b;
    w.size_cap = cap_of(p->size_bits);
    w.bops_cap = cap_of(p->bops);
    if (min_s > w.size_cap || min_b > w.bops_cap) {
        rc = infeasible(&w, r);
        goto out;
    }
    if (w.size_cap != INT64_MAX)
        w.size_cap -= fix_s;
    if (w.bops_cap != INT64_MAX)
        w.bops_cap -= fix_b;
    w.deadline = p->time_limit > 0 ? now() + p->time_limit : 0;

    wid = csq_mem_array((size_t)w.nf + 1, sizeof *wid);
    xlp = csq_mem_array((size_t)w.nf + 1, sizeof *xlp);
    if (!wid || !xlp) {
        rc = CSQ_ENOMEM;
        goto out;
    }
    if (w.nf > 0) {
        if ((rc = solve_relaxation(&w, xlp, &lam, &mu, &lpobj)) != 0)
            goto out;
        if (p->relax) {
            round_relaxation(&w, xlp, wid);
        } else if ((rc = solve_exact(&w, xlp, lam, mu, wid, &proven)) != 0) {
            goto out;
        }
        if ((rc = canon_ties(&w, wid)) != 0)
            goto out;
    } else {
        proven = !p->relax;
    }
    for (j = 0; j < w.nf; j++)
        w.g[w.free_idx[j]].w = wid[j];

    r->wbits = csq_mem_array((size_t)p->nlayers, sizeof *r->wbits);
    if (!r->wbits) {
        rc = CSQ_ENOMEM;
        goto out;
    }
    r->relaxed_objective = lpobj;
    for (k = 0; k < w.ng; k++)
        if (w.g[k].pin)
            r->relaxed_objective += w.g[k].s * w.g[k].pin;
    for (l = 0; l < p->nlayers; l++) {
        int b = w.g[w.layer_grp[l]].w;
        r->wbits[l] = b;
        r->objective += p->score[l] * b;
        r->size_bits += p->params[l] * b;
        r->bops += p->macs[l] * b * p->abits;
        tp += p->params[l];
    }
    r->mean_wbits = tp > 0 ? (double)r->size_bits / (double)tp : 0;
    r->proven_optimal = proven && !p->relax;
out:
    free(w.g);
    free(w.layer_grp);
    free(w.free_idx);
    free(wid);
    free(xlp);
    return rc;
}

void csq_alloc_result_release(struct csq_alloc_result *r)
{
    if (!r)
        return;
    free(r->wbits);
    r->wbits = NULL;
}

int csq_alloc_preset(const char *mode, int *cand, int *ncand, int *pin_first_last)
{
    int i;

    if (strcmp(mode, "ptq") == 0) {
        for (i = 0; i < 3; i++)
            cand[i] = 2 + i;
        *ncand = 3;
        *pin_first_last = 0;
        return CSQ_OK;
    }
    if (strcmp(mode, "qat") == 0) {
        for (i = 0; i < 5; i++)
            cand[i] = 4 + i;
        *ncand = 5;
        *pin_first_last = 8;
        return CSQ_OK;
    }
    return csq_fail(CSQ_EUSAGE, "--mode '%s': expected ptq or qat", mode);
}

void csq_alloc_pin_first_last(int *pin, int nlayers, int bits)
{
    if (nlayers <= 0 || bits <= 0)
        return;
    if (!pin[0])
        pin[0] = bits;
    if (!pin[nlayers - 1])
        pin[nlayers - 1] = bits;
}
