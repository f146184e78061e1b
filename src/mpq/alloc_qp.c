/*
 * alloc_qp: the bit-width program with pairwise cross terms, linearized
 * for lp_solve (see alloc_qp.h for the model and what is proven).
 * Free groups choose a candidate index k; x[f][k] is binary, y[pair][k][k2]
 * continuous in [0, 1] and pinned to x[f][k] x[h][k2] by the choice rows.
 */
#include "config.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mpq/alloc_qp.h"
#include "mpq/lpsolve.h"
#include "util/err.h"
#include "util/mem.h"

#define COST(p, l, b) ((p)->cost[(size_t)(l) * CSQ_ALLOC_MAXBITS + (size_t)(b) - 1])

struct qp {
    const struct csq_alloc_problem *p;
    int nl, ng, nf, nc;
    int cand[CSQ_ALLOC_MAXBITS];   /* ascending */
    int kof[CSQ_ALLOC_MAXBITS + 1]; /* candidate index of a width, -1 */
    int *grp;                      /* [nl] group of each layer */
    int *gpin;                     /* [ng] 0 = free */
    int *fof;                      /* [ng] free index, -1 when pinned */
    int64_t *fp, *fq;              /* [nf] summed params, macs x abits */
    double *c;                     /* [nf][nc] linear cost */
    int *pidx;                     /* [nf][nf] block of a free pair, -1 */
    int npair;
    int *pf, *ph;                  /* [npair] f < h */
    double *q;                     /* [npair][nc][nc] cross, (k of f, k2 of h) */
    double konst;                  /* pinned costs and pinned-pinned cross */
    int64_t scap, bcap;            /* residual budgets of the free groups */
    double deadline;
};

#define C(s, f, k) ((s)->c[(size_t)(f) * (size_t)(s)->nc + (size_t)(k)])
#define QB(s, b) (&(s)->q[(size_t)(b) * (size_t)(s)->nc * (size_t)(s)->nc])

static double now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int stop_cb(void *user, long long nodes)
{
    const struct qp *s = user;

    (void)nodes;
    return s->deadline > 0 && now() > s->deadline;
}

static int cmp_int(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

/* Cross term between free groups f and h at candidates kf, kh. */
static double qval(const struct qp *s, int f, int kf, int h, int kh)
{
    int b = s->pidx[(size_t)f * (size_t)s->nf + (size_t)h];

    if (b < 0)
        return 0;
    return f < h ? QB(s, b)[kf * s->nc + kh] : QB(s, b)[kh * s->nc + kf];
}

/* --- reduction: groups, pins, ties --- */

static int block_of(struct qp *s, int f, int h)
{
    size_t a = (size_t)f * (size_t)s->nf + (size_t)h, z = (size_t)h * (size_t)s->nf + (size_t)f;

    if (s->pidx[a] < 0) {
        s->pidx[a] = s->pidx[z] = s->npair;
        s->pf[s->npair] = f < h ? f : h;
        s->ph[s->npair] = f < h ? h : f;
        s->npair++;
    }
    return s->pidx[a];
}

static int reduce(struct qp *s, const struct csq_alloc_cross *x)
{
    const struct csq_alloc_problem *p = s->p;
    int *tie = csq_mem_array((size_t)s->nl + 1, sizeof *tie);
    int l, g, e, k, nalloc;

    s->grp = csq_mem_array((size_t)s->nl + 1, sizeof *s->grp);
    s->gpin = csq_mem_zarray((size_t)s->nl + 1, sizeof *s->gpin);
    s->fof = csq_mem_array((size_t)s->nl + 1, sizeof *s->fof);
    if (!tie || !s->grp || !s->gpin || !s->fof) {
        free(tie);
        return CSQ_ENOMEM;
    }
    for (l = 0; l < s->nl; l++) {
        int t = p->tie_group ? p->tie_group[l] : -1;
        for (g = 0; g < s->ng && !(t >= 0 && tie[g] == t); g++)
            ;
        if (g == s->ng)
            tie[s->ng++] = t;
        s->grp[l] = g;
        if (p->pin && p->pin[l])
            s->gpin[g] = p->pin[l];
    }
    free(tie);
    for (g = 0; g < s->ng; g++)
        s->fof[g] = s->gpin[g] ? -1 : s->nf++;
    nalloc = x->n < s->nf * (s->nf - 1) / 2 ? x->n : s->nf * (s->nf - 1) / 2;
    s->fp = csq_mem_zarray((size_t)s->nf + 1, sizeof *s->fp);
    s->fq = csq_mem_zarray((size_t)s->nf + 1, sizeof *s->fq);
    s->c = csq_mem_zarray((size_t)s->nf * (size_t)s->nc + 1, sizeof *s->c);
    s->pidx = csq_mem_array((size_t)s->nf * (size_t)s->nf + 1, sizeof *s->pidx);
    s->pf = csq_mem_array((size_t)nalloc + 1, sizeof *s->pf);
    s->ph = csq_mem_array((size_t)nalloc + 1, sizeof *s->ph);
    s->q = csq_mem_zarray(((size_t)nalloc + 1) * (size_t)s->nc * (size_t)s->nc, sizeof *s->q);
    if (!s->fp || !s->fq || !s->c || !s->pidx || !s->pf || !s->ph || !s->q)
        return CSQ_ENOMEM;
    for (e = 0; e < s->nf * s->nf; e++)
        s->pidx[e] = -1;
    for (l = 0; l < s->nl; l++) {
        int f = s->fof[s->grp[l]];
        if (f < 0) {
            s->konst += COST(p, l, s->gpin[s->grp[l]]);
            continue;
        }
        s->fp[f] += p->params[l];
        s->fq[f] += p->macs[l] * p->abits;
        for (k = 0; k < s->nc; k++)
            C(s, f, k) += COST(p, l, s->cand[k]);
    }
    for (e = 0; e < x->n; e++) {
        int gi = s->grp[x->li[e]], gj = s->grp[x->lj[e]];
        int fi = s->fof[gi], fj = s->fof[gj], bi = x->bi[e], bj = x->bj[e];
        int ki = s->kof[bi], kj = s->kof[bj];
        double v = x->val[e];

        if (fi < 0 && fj < 0) {
            if (s->gpin[gi] == bi && s->gpin[gj] == bj)
                s->konst += v;
        } else if (fi < 0) {
            if (s->gpin[gi] == bi && kj >= 0)
                C(s, fj, kj) += v;
        } else if (fj < 0) {
            if (s->gpin[gj] == bj && ki >= 0)
                C(s, fi, ki) += v;
        } else if (fi == fj) {
            if (bi == bj && ki >= 0)
                C(s, fi, ki) += v;
        } else if (ki >= 0 && kj >= 0) {
            int b = block_of(s, fi, fj);
            if (fi < fj)
                QB(s, b)[ki * s->nc + kj] += v;
            else
                QB(s, b)[kj * s->nc + ki] += v;
        }
    }
    return CSQ_OK;
}

/* --- incumbent: local search from the per-layer optimum --- */

static double objective(const struct qp *s, const int *kk)
{
    double o = 0;
    int f, b;

    for (f = 0; f < s->nf; f++)
        o += C(s, f, kk[f]);
    for (b = 0; b < s->npair; b++)
        o += QB(s, b)[kk[s->pf[b]] * s->nc + kk[s->ph[b]]];
    return o;
}

/* Objective change when group f moves to k (others as in kk, skip h). */
static double delta_one(const struct qp *s, const int *kk, int f, int k, int skip)
{
    double d = C(s, f, k) - C(s, f, kk[f]);
    int h;

    for (h = 0; h < s->nf; h++)
        if (h != f && h != skip)
            d += qval(s, f, k, h, kk[h]) - qval(s, f, kk[f], h, kk[h]);
    return d;
}

static int fits(const struct qp *s, int64_t size, int64_t bops)
{
    return size <= s->scap && bops <= s->bcap;
}

/* First-improvement descent over single and paired moves, in index order,
 * so the incumbent is deterministic.  An improvement must beat round-off. */
static void descend(const struct qp *s, int *kk)
{
    int64_t size = 0, bops = 0;
    int f, h, k, k2, better = 1;
    double tol;

    for (f = 0; f < s->nf; f++) {
        size += s->fp[f] * s->cand[kk[f]];
        bops += s->fq[f] * s->cand[kk[f]];
    }
    while (better && !stop_cb((void *)s, 0)) {
        better = 0;
        tol = 1e-12 * (1 + fabs(objective(s, kk)));
        for (f = 0; f < s->nf; f++)
            for (k = 0; k < s->nc; k++) {
                int64_t ds = s->fp[f] * (s->cand[k] - s->cand[kk[f]]);
                int64_t db = s->fq[f] * (s->cand[k] - s->cand[kk[f]]);
                if (k == kk[f] || !fits(s, size + ds, bops + db) ||
                    !(delta_one(s, kk, f, k, -1) < -tol))
                    continue;
                kk[f] = k;
                size += ds;
                bops += db;
                better = 1;
            }
        for (f = 0; f < s->nf && !better; f++)
            for (h = f + 1; h < s->nf && !better; h++)
                for (k = 0; k < s->nc && !better; k++)
                    for (k2 = 0; k2 < s->nc && !better; k2++) {
                        int64_t ds = s->fp[f] * (s->cand[k] - s->cand[kk[f]]) +
                                     s->fp[h] * (s->cand[k2] - s->cand[kk[h]]);
                        int64_t db = s->fq[f] * (s->cand[k] - s->cand[kk[f]]) +
                                     s->fq[h] * (s->cand[k2] - s->cand[kk[h]]);
                        double d;
                        if (k == kk[f] || k2 == kk[h] || !fits(s, size + ds, bops + db))
                            continue;
                        d = delta_one(s, kk, f, k, h) + delta_one(s, kk, h, k2, f)
                            + qval(s, f, k, h, k2) - qval(s, f, kk[f], h, kk[h]);
                        if (d < -tol) {
                            kk[f] = k;
                            kk[h] = k2;
                            size += ds;
                            bops += db;
                            better = 1;
                        }
                    }
    }
}

/* A bound without any LP: each group's cost plus its pairs with later
 * groups, each pair at its best width of the later group, at the group's
 * best width (every assignment costs at least that; budgets ignored). */
static double trivial_bound(const struct qp *s)
{
    double o = 0, m = 0;
    int f, h, k, k2;

    for (f = 0; f < s->nf; f++) {
        for (k = 0; k < s->nc; k++) {
            double v = C(s, f, k);
            for (h = f + 1; h < s->nf; h++) {
                double best = qval(s, f, k, h, 0);
                for (k2 = 1; k2 < s->nc; k2++)
                    best = fmin(best, qval(s, f, k, h, k2));
                v += best;
            }
            m = k == 0 ? v : fmin(m, v);
        }
        o += m;
    }
    return o;
}

/* --- the linearized program --- */

/*
 * Columns: x[f][k] at f nc + k, then y of block b at nx + b nc^2 + k nc + k2.
 * Costs are scaled by a power of two (exact) so that the largest is near 1
 * and lp_solve's absolute tolerances mean the same for any magnitude.
 * First the LP relaxation (a proven bound), then x binary.
 */
static int solve_lp(struct qp *s, int *kk, int *proven, double *bound)
{
    int nc = s->nc, nx = s->nf * nc, ncol = nx + s->npair * nc * nc;
    int *col = csq_mem_array((size_t)ncol + 1, sizeof *col), rc = CSQ_OK, f, k, k2, b, n, e;
    double *val = csq_mem_array((size_t)ncol + 1, sizeof *val), big = 0, sc;
    double *xv = csq_mem_array((size_t)ncol + 1, sizeof *xv);
    struct csq_lp *lp = NULL;
    enum csq_lp_status st;

    if (!col || !val || !xv) {
        rc = CSQ_ENOMEM;
        goto out;
    }
    for (e = 0; e < nx; e++)
        big = fmax(big, fabs(s->c[e]));
    for (e = 0; e < s->npair * nc * nc; e++)
        big = fmax(big, fabs(s->q[e]));
    frexp(big > 0 ? big : 1, &e);
    sc = ldexp(1, -e);
    if ((rc = csq_lp_new(ncol, CSQ_LP_MIN, &lp)) != 0)
        goto out;
    for (f = 0; f < s->nf && rc == CSQ_OK; f++) {
        for (k = 0; k < nc; k++) {
            col[k] = f * nc + k;
            val[k] = 1;
        }
        rc = csq_lp_add_row(lp, nc, val, col, CSQ_LP_EQ, 1);
    }
    for (n = 0; n < 2 && rc == CSQ_OK; n++) {
        int64_t cap = n == 0 ? s->scap : s->bcap;
        if (cap == INT64_MAX)
            continue;
        for (e = 0; e < nx; e++) {
            col[e] = e;
            val[e] = (double)((n == 0 ? s->fp : s->fq)[e / nc] * s->cand[e % nc]);
        }
        rc = csq_lp_add_row(lp, nx, val, col, CSQ_LP_LE, (double)cap);
    }
    for (b = 0; b < s->npair && rc == CSQ_OK; b++) {
        int y0 = nx + b * nc * nc;
        for (k = 0; k < nc && rc == CSQ_OK; k++) {  /* sum_k2 y[k][k2] = x[f][k] */
            for (k2 = 0; k2 < nc; k2++) {
                col[k2] = y0 + k * nc + k2;
                val[k2] = 1;
            }
            col[nc] = s->pf[b] * nc + k;
            val[nc] = -1;
            rc = csq_lp_add_row(lp, nc + 1, val, col, CSQ_LP_EQ, 0);
        }
        for (k2 = 0; k2 < nc && rc == CSQ_OK; k2++) { /* sum_k y[k][k2] = x[h][k2] */
            for (k = 0; k < nc; k++) {
                col[k] = y0 + k * nc + k2;
                val[k] = 1;
            }
            col[nc] = s->ph[b] * nc + k2;
            val[nc] = -1;
            rc = csq_lp_add_row(lp, nc + 1, val, col, CSQ_LP_EQ, 0);
        }
    }
    if (rc != CSQ_OK)
        goto out;
    for (e = 0; e < ncol; e++) {
        col[e] = e;
        val[e] = sc * (e < nx ? s->c[e] : s->q[e - nx]);
    }
    csq_lp_set_objective(lp, ncol, val, col);
    for (e = 0; e < ncol; e++)
        csq_lp_set_bounds(lp, e, 0, 1);
    csq_lp_set_stop(lp, stop_cb, s);
    if (csq_lp_solve(lp, NULL) == CSQ_LP_OPTIMAL)
        *bound = fmax(*bound, csq_lp_objective(lp) / sc);
    if (stop_cb(s, 0))
        goto out;
    for (e = 0; e < nx; e++)
        csq_lp_set_binary(lp, e);
    csq_lp_set_mip(lp, 1e-11, 1e-9, CSQ_LP_BRANCH_FRACTION);
    st = csq_lp_solve(lp, NULL);
    if (st == CSQ_LP_NOSOLUTION)
        goto out;
    csq_lp_variables(lp, xv);
    {
        int *cand = csq_mem_array((size_t)s->nf + 1, sizeof *cand);
        int64_t size = 0, bops = 0;
        if (!cand) {
            rc = CSQ_ENOMEM;
            goto out;
        }
        for (f = 0; f < s->nf; f++) {
            cand[f] = 0;
            for (k = 1; k < nc; k++)
                if (xv[f * nc + k] > xv[f * nc + cand[f]])
                    cand[f] = k;
            size += s->fp[f] * s->cand[cand[f]];
            bops += s->fq[f] * s->cand[cand[f]];
        }
        /* The MIP's answer replaces the incumbent unless it is worse. */
        if (fits(s, size, bops) && objective(s, cand) <= objective(s, kk))
            memcpy(kk, cand, (size_t)s->nf * sizeof *kk);
        /* A finished search proves whichever of the two is kept. */
        *proven = st == CSQ_LP_OPTIMAL;
        free(cand);
    }
out:
    csq_lp_free(lp);
    free(col);
    free(val);
    free(xv);
    return rc;
}

/* --- entry point --- */

static int check_cross(const struct csq_alloc_problem *p, const struct csq_alloc_cross *x)
{
    int e;

    for (e = 0; e < x->n; e++) {
        if (x->li[e] < 0 || x->li[e] >= p->nlayers || x->lj[e] < 0 ||
            x->lj[e] >= p->nlayers || x->li[e] == x->lj[e])
            return csq_fail(CSQ_EINVAL, "alloc: cross term %d joins layers %d and %d", e,
                            x->li[e], x->lj[e]);
        if (x->bi[e] < 1 || x->bi[e] > CSQ_ALLOC_MAXBITS || x->bj[e] < 1 ||
            x->bj[e] > CSQ_ALLOC_MAXBITS)
            return csq_fail(CSQ_EINVAL, "alloc: cross term %d has a width outside 1..%d", e,
                            CSQ_ALLOC_MAXBITS);
        if (!isfinite(x->val[e]))
            return csq_fail(CSQ_EINVAL, "alloc: cross term %d is not finite", e);
    }
    return CSQ_OK;
}

static void free_qp(struct qp *s)
{
    free(s->grp);
    free(s->gpin);
    free(s->fof);
    free(s->fp);
    free(s->fq);
    free(s->c);
    free(s->pidx);
    free(s->pf);
    free(s->ph);
    free(s->q);
}

int csq_alloc_qp_solve(const struct csq_alloc_problem *p, const struct csq_alloc_cross *x,
                       struct csq_alloc_result *r, double *gap)
{
    struct csq_alloc_problem lin = *p;
    struct qp s;
    int *kk = NULL, rc, l, e, proven = 0;
    int64_t fix_s = 0, fix_b = 0;
    double bound, obj = 0;

    memset(&s, 0, sizeof s);
    *gap = 0;
    if (p->relax)
        return csq_fail(CSQ_EUSAGE, "alloc: the continuous relaxation is not offered with "
                        "cross terms");
    /* The per-layer program checks the input (pins, ties, costs, budgets,
     * infeasibility with its message) and gives the starting point. */
    s.deadline = p->time_limit > 0 ? now() + p->time_limit : 0;
    lin.general = 1;
    if ((rc = csq_alloc_solve(&lin, r)) != 0)
        return rc;
    if ((rc = check_cross(p, x)) != 0)
        goto out;
    s.p = p;
    s.nl = p->nlayers;
    memcpy(s.cand, p->cand, (size_t)p->ncand * sizeof(int));
    s.nc = p->ncand;
    qsort(s.cand, (size_t)s.nc, sizeof(int), cmp_int);
    for (e = 0; e <= CSQ_ALLOC_MAXBITS; e++)
        s.kof[e] = -1;
    for (e = 0; e < s.nc; e++)
        s.kof[s.cand[e]] = e;
    if ((rc = reduce(&s, x)) != 0)
        goto out;
    s.scap = p->size_bits > 0 ? (int64_t)floor(fmin(p->size_bits, 9.0e18)) : INT64_MAX;
    s.bcap = p->bops > 0 ? (int64_t)floor(fmin(p->bops, 9.0e18)) : INT64_MAX;
    for (l = 0; l < s.nl; l++)
        if (s.gpin[s.grp[l]]) {
            fix_s += p->params[l] * s.gpin[s.grp[l]];
            fix_b += p->macs[l] * p->abits * s.gpin[s.grp[l]];
        }
    if (s.scap != INT64_MAX)
        s.scap -= fix_s;
    if (s.bcap != INT64_MAX)
        s.bcap -= fix_b;
    kk = csq_mem_array((size_t)s.nf + 1, sizeof *kk);
    if (!kk) {
        rc = CSQ_ENOMEM;
        goto out;
    }
    for (l = 0; l < s.nl; l++)
        if (s.fof[s.grp[l]] >= 0)
            kk[s.fof[s.grp[l]]] = s.kof[r->wbits[l]];
    descend(&s, kk);
    bound = trivial_bound(&s);
    if (s.nf > 0 && (rc = solve_lp(&s, kk, &proven, &bound)) != 0)
        goto out;
    if (s.nf == 0)
        proven = 1;
    r->size_bits = r->bops = 0;
    for (l = 0; l < s.nl; l++) {
        int g = s.grp[l];
        r->wbits[l] = s.gpin[g] ? s.gpin[g] : s.cand[kk[s.fof[g]]];
        r->size_bits += p->params[l] * r->wbits[l];
        r->bops += p->macs[l] * r->wbits[l] * p->abits;
        obj += COST(p, l, r->wbits[l]);
    }
    /* Objective from the layers' widths and every entry, not the reduction. */
    for (e = 0; e < x->n; e++)
        if (r->wbits[x->li[e]] == x->bi[e] && r->wbits[x->lj[e]] == x->bj[e])
            obj += x->val[e];
    {
        int64_t tp = 0;
        for (l = 0; l < s.nl; l++)
            tp += p->params[l];
        r->mean_wbits = tp > 0 ? (double)r->size_bits / (double)tp : 0;
    }
    r->objective = obj;
    r->proven_optimal = proven;
    r->relaxed_objective = proven ? obj : fmin(obj, bound + s.konst);
    *gap = obj - r->relaxed_objective;
out:
    if (rc != CSQ_OK)
        csq_alloc_result_release(r);
    free(kk);
    free_qp(&s);
    return rc;
}
