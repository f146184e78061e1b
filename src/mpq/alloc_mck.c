/*
 * alloc_mck: the exact search for any cost table, a multiple-choice
 * knapsack with two budgets (see alloc.h for the exactness argument).
 * Groups choose a candidate index; sizes and BOPs of candidate k of group
 * j are p_j x cand[k] and q_j x cand[k].
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

#define CORE_GROUPS 24
#define CORE_NODES 20000

struct mck {
    work_t *w;
    int nf, nc;
    double *d;           /* [nf][nc] cost - cost at cand[0], scaled by a power of 2 */
    unsigned char *use;  /* [nf][nc] costs less than every smaller candidate */
    double *loss;        /* [nf][nc] Lagrangian loss (reduced cost above the best) */
    double lam, mu;      /* dual prices of a size bit and a BOP, in units of d */
    double lbound;       /* Lagrangian lower bound on sum d */
    double tol;          /* round-off allowance on sums of d */
};

#define D(m, j, k) ((m)->d[(size_t)(j) * (size_t)(m)->nc + (size_t)(k)])
#define USE(m, j, k) ((m)->use[(size_t)(j) * (size_t)(m)->nc + (size_t)(k)])
#define LOSS(m, j, k) ((m)->loss[(size_t)(j) * (size_t)(m)->nc + (size_t)(k)])
#define GRP(m, j) CSQ_ALLOC_FREE((m)->w, j)

static int use_ok(const work_t *w, int j, int k)
{
    const struct csq_alloc_grp *g = CSQ_ALLOC_FREE(w, j);
    int i;

    for (i = 0; i < k; i++)
        if (g->c[i] <= g->c[k])
            return 0;
    return 1;
}

/* Dominance and scaling.  Shifting each group by its cost at the smallest
 * candidate changes the objective by a constant; a power-of-two scale that
 * brings the largest difference near 1 is exact and keeps lp_solve's
 * absolute tolerances meaningful for costs of any magnitude.  Returns the
 * number of groups with a choice left. */
static int prepare(struct mck *m)
{
    int j, k, nchoice = 0, e;
    double big = 0;

    for (j = 0; j < m->nf; j++) {
        const struct csq_alloc_grp *g = GRP(m, j);
        int more = 0;
        for (k = 0; k < m->nc; k++) {
            USE(m, j, k) = (unsigned char)use_ok(m->w, j, k);
            D(m, j, k) = g->c[k] - g->c[0];
            if (USE(m, j, k)) {
                big = fmax(big, fabs(D(m, j, k)));
                more += k > 0;
            }
        }
        nchoice += more > 0;
    }
    if (big > 0) {
        frexp(big, &e);
        for (j = 0; j < m->nf * m->nc; j++)
            m->d[j] = ldexp(m->d[j], -e);
    }
    return nchoice;
}

static int64_t size_of(const struct mck *m, int j, int k)
{
    return GRP(m, j)->p * m->w->cand[k];
}

static int64_t bops_of(const struct mck *m, int j, int k)
{
    return GRP(m, j)->q * m->w->cand[k];
}

static double value(const struct mck *m, const int *ki)
{
    double v = 0;
    int j;

    for (j = 0; j < m->nf; j++)
        v += D(m, j, ki[j]);
    return v;
}

static int fits_idx(const struct mck *m, const int *ki)
{
    int64_t s = 0, b = 0;
    int j;

    for (j = 0; j < m->nf; j++) {
        s += size_of(m, j, ki[j]);
        b += bops_of(m, j, ki[j]);
    }
    return s <= m->w->size_cap && b <= m->w->bops_cap;
}

/* --- the continuous relaxation --- */

/* Candidates of group j on the lower convex hull of (width, d) over the
 * useful ones: the only ones an LP optimum needs (others are mixtures). */
static int hull(const struct mck *m, int j, int *out)
{
    int n = 0, k;

    for (k = 0; k < m->nc; k++) {
        if (!USE(m, j, k))
            continue;
        while (n >= 2) {
            int a = out[n - 2], b = out[n - 1];
            double ba = m->w->cand[b] - m->w->cand[a], ka = m->w->cand[k] - m->w->cand[a];
            /* b stays when strictly below the chord from a to k */
            if ((D(m, j, b) - D(m, j, a)) * ka < (D(m, j, k) - D(m, j, a)) * ba)
                break;
            n--;
        }
        out[n++] = k;
    }
    return n;
}

/* LP over x[j][k] in [0,1] with sum_k x = 1, written in increments: from
 * the smallest candidate, y[j][i] in [0,1] of the step between hull
 * points i-1 and i.  The hull's steps have rising cost per bit, so an
 * optimum takes them in order and the two forms agree; this one has only
 * the two budget rows.  Mean widths into t[nf], the dual prices into
 * m->lam / m->mu, the optimum in the original costs into *lpobj. */
static int relaxation(struct mck *m, double *t, double *lpobj)
{
    work_t *w = m->w;
    int nf = m->nf, nc = m->nc, j, k, n, ncol = 0, rc, raw, row = 0, srow = -1, brow = -1;
    int *first = NULL, *kof = NULL, *col = NULL, hk[CSQ_ALLOC_MAXBITS];
    double *sv = NULL, *bv = NULL, *val = NULL, *x = NULL, duals[2];
    int64_t s0 = 0, b0 = 0;
    struct csq_lp *lp = NULL;
    double sscale = w->size_cap > 0 && w->size_cap != INT64_MAX ? (double)w->size_cap : 1;
    double bscale = w->bops_cap > 0 && w->bops_cap != INT64_MAX ? (double)w->bops_cap : 1;

    first = csq_mem_array((size_t)nf + 1, sizeof *first);
    kof = csq_mem_array((size_t)nf * (size_t)nc + 1, sizeof *kof);
    col = csq_mem_array((size_t)nf * (size_t)nc + 1, sizeof *col);
    sv = csq_mem_array((size_t)nf * (size_t)nc + 1, sizeof *sv);
    bv = csq_mem_array((size_t)nf * (size_t)nc + 1, sizeof *bv);
    val = csq_mem_array((size_t)nf * (size_t)nc + 1, sizeof *val);
    x = csq_mem_array((size_t)nf * (size_t)nc + 1, sizeof *x);
    if (!first || !kof || !col || !sv || !bv || !val || !x) {
        rc = CSQ_ENOMEM;
        goto out;
    }
    for (j = 0; j < nf; j++) {
        first[j] = ncol;
        n = hull(m, j, hk);
        for (k = 1; k < n; k++) {
            int a = hk[k - 1], c = hk[k];
            kof[ncol] = c;
            col[ncol] = ncol;
            sv[ncol] = (double)(size_of(m, j, c) - size_of(m, j, a)) / sscale;
            bv[ncol] = (double)(bops_of(m, j, c) - bops_of(m, j, a)) / bscale;
            val[ncol++] = D(m, j, c) - D(m, j, a);
        }
        s0 += size_of(m, j, 0);
        b0 += bops_of(m, j, 0);
    }
    first[nf] = ncol;
    if ((rc = csq_lp_new(ncol, CSQ_LP_MIN, &lp)) != 0)
        goto out;
    /* budget rows scaled to a right-hand side near 1: the dual prices of
     * raw bit counts are tiny and lp_solve rounds such values to zero */
    if (w->size_cap != INT64_MAX) {
        if ((rc = csq_lp_add_row(lp, ncol, sv, col, CSQ_LP_LE,
                                 (double)(w->size_cap - s0) / sscale)) != 0)
            goto out;
        srow = row++;
    }
    if (w->bops_cap != INT64_MAX) {
        if ((rc = csq_lp_add_row(lp, ncol, bv, col, CSQ_LP_LE,
                                 (double)(w->bops_cap - b0) / bscale)) != 0)
            goto out;
        brow = row++;
    }
    csq_lp_set_objective(lp, ncol, val, col);
    for (k = 0; k < ncol; k++)
        csq_lp_set_bounds(lp, k, 0, 1);
    csq_lp_want_duals(lp);
    if (csq_lp_solve(lp, &raw) != CSQ_LP_OPTIMAL) {
        rc = csq_fail(CSQ_EINVAL, "alloc: lp_solve: relaxation failed (status %d)", raw);
        goto out;
    }
    csq_lp_variables(lp, x);
    *lpobj = 0;
    for (j = 0; j < nf; j++) {
        const struct csq_alloc_grp *g = GRP(m, j);
        int prev = 0;
        t[j] = w->cand[0];
        *lpobj += g->c[0];
        for (k = first[j]; k < first[j + 1]; k++) {
            t[j] += x[k] * (w->cand[kof[k]] - w->cand[prev]);
            *lpobj += x[k] * (g->c[kof[k]] - g->c[prev]);
            prev = kof[k];
        }
    }
    m->lam = m->mu = 0;
    if (row > 0 && csq_lp_duals(lp, duals, row)) {
        /* any non-negative prices give a valid bound: take magnitudes */
        if (srow >= 0)
            m->lam = fabs(duals[srow]) / sscale;
        if (brow >= 0)
            m->mu = fabs(duals[brow]) / bscale;
    }
out:
    csq_lp_free(lp);
    free(first);
    free(kof);
    free(col);
    free(sv);
    free(bv);
    free(val);
    free(x);
    return rc;
}

/* Lagrangian bound: for lam, mu >= 0 and any feasible choice k_j,
 * sum d(k_j) >= L + sum_j loss_j(k_j), with
 * r_j(k) = d_j(k) + lam size_j(k) + mu bops_j(k), loss_j(k) = r_j(k) - min r_j. */
static void lagrange(struct mck *m)
{
    const work_t *w = m->w;
    double mag = 0;
    int j, k;

    m->lbound = 0;
    if (w->size_cap != INT64_MAX) {
        m->lbound -= m->lam * (double)w->size_cap;
        mag += m->lam * (double)w->size_cap;
    }
    if (w->bops_cap != INT64_MAX) {
        m->lbound -= m->mu * (double)w->bops_cap;
        mag += m->mu * (double)w->bops_cap;
    }
    for (j = 0; j < m->nf; j++) {
        double best = INFINITY;
        for (k = 0; k < m->nc; k++) {
            double r = D(m, j, k) + m->lam * (double)size_of(m, j, k)
                       + m->mu * (double)bops_of(m, j, k);
            LOSS(m, j, k) = r;
            if (USE(m, j, k) && r < best)
                best = r;
        }
        for (k = 0; k < m->nc; k++)
            LOSS(m, j, k) -= best;
        m->lbound += best;
        mag += fabs(best) + fabs(D(m, j, 0)) + 1;
    }
    /* the sums above and lp_solve's relative gap both err by far less */
    m->tol = 1e-9 * mag;
}

/* --- incumbents --- */

struct state {
    const struct mck *m;
    int *ki;
    int64_t s, b;
};

static void state_init(struct state *h, const struct mck *m, int *ki)
{
    int j;

    h->m = m;
    h->ki = ki;
    h->s = h->b = 0;
    for (j = 0; j < m->nf; j++) {
        h->s += size_of(m, j, ki[j]);
        h->b += bops_of(m, j, ki[j]);
    }
}

static void move(struct state *h, int j, int k)
{
    h->s += size_of(h->m, j, k) - size_of(h->m, j, h->ki[j]);
    h->b += bops_of(h->m, j, k) - bops_of(h->m, j, h->ki[j]);
    h->ki[j] = k;
}

/* Greedy completion: take, one move at a time, the wider useful width
 * that gains most per dual-priced budget and still fits (moves that use
 * no priced budget first, by gain).  Ties: lower group, lower width. */
static void greedy_fill(struct state *h)
{
    const struct mck *m = h->m;
    const work_t *w = m->w;
    int j, k;

    for (;;) {
        int bj = -1, bk = 0;
        double bg = 0, bp = 0;
        for (j = 0; j < m->nf; j++) {
            int cur = h->ki[j];
            for (k = cur + 1; k < m->nc; k++) {
                int64_t ds = size_of(m, j, k) - size_of(m, j, cur);
                int64_t db = bops_of(m, j, k) - bops_of(m, j, cur);
                double gain = D(m, j, cur) - D(m, j, k), price;
                if (!USE(m, j, k) || gain <= 0 || h->s + ds > w->size_cap
                    || h->b + db > w->bops_cap)
                    continue;
                price = m->lam * (double)ds + m->mu * (double)db;
                if (bj < 0 || (price == 0 && (bp > 0 || gain > bg))
                    || (price > 0 && bp > 0 && gain * bp > bg * price)) {
                    bj = j;
                    bk = k;
                    bg = gain;
                    bp = price;
                }
            }
        }
        if (bj < 0)
            break;
        move(h, bj, bk);
    }
}

/* Exchanges: one group to a narrower useful width, then a greedy
 * completion, kept when the sum falls.  Bounded passes. */
static int improve(const struct mck *m, int *ki)
{
    struct state h;
    int *save = csq_mem_array((size_t)m->nf + 1, sizeof *save), pass, j, k, moved = 1;
    double v;

    if (!save)
        return CSQ_ENOMEM;
    state_init(&h, m, ki);
    greedy_fill(&h);
    v = value(m, ki);
    for (pass = 0; moved && pass < 3; pass++) {
        moved = 0;
        for (j = 0; j < m->nf; j++)
            for (k = 0; k < ki[j]; k++) {
                double nv;
                if (!USE(m, j, k))
                    continue;
                memcpy(save, ki, (size_t)m->nf * sizeof *ki);
                state_init(&h, m, ki);
                move(&h, j, k);
                greedy_fill(&h);
                nv = value(m, ki);
                if (nv < v - 1e-15 * fabs(v)) {
                    v = nv;
                    moved = 1;
                } else {
                    memcpy(ki, save, (size_t)m->nf * sizeof *ki);
                }
            }
    }
    free(save);
    return CSQ_OK;
}

/* --- branch and bound --- */

/* Group j may take candidates lo..hi, consecutive integers with costs
 * convex along them: then one integer width z and increments y_i in
 * [0,1] with z = cand[lo] + sum y_i, cost = d(lo) + sum y_i (d(lo+i) -
 * d(lo+i-1)) model it exactly (sizes and BOPs depend on z alone, so at an
 * integer z the steps are taken in order, cheapest first), and lp_solve
 * branches on z as on the linear search's integer columns: far fewer
 * nodes than one binary per width. */
static int convex_run(const struct mck *m, const unsigned char *allow, int j, int *lo)
{
    int nc = m->nc, k, hi;

    for (k = 0; k < nc && !allow[j * nc + k]; k++)
        ;
    *lo = k;
    for (hi = k; hi + 1 < nc && allow[j * nc + hi + 1]; hi++)
        ;
    for (k = hi + 1; k < nc; k++)
        if (allow[j * nc + k])
            return 0;
    if (m->w->cand[hi] - m->w->cand[*lo] != hi - *lo)
        return 0;
    for (k = *lo + 2; k <= hi; k++)
        if (D(m, j, k) - D(m, j, k - 1) < D(m, j, k - 1) - D(m, j, k - 2))
            return 0;
    return 1;
}

/* Minimize over the widths allow[j][k] leaves, with sum d <= zcut as a cut
 * (lp_solve takes no starting solution; this prunes what cannot beat the
 * incumbent).  Columns of group j from first[j]: for a convex run the
 * width z and its increments, else one binary per width and a choice
 * row.  ki gets the result, ki[0] = -1 when lp_solve found none. */
static int branch_and_bound(const struct mck *m, const unsigned char *allow, double zcut,
                            int *ki, int *proven)
{
    work_t *w = m->w;
    int nf = m->nf, nc = m->nc, j, k, ncol = 0, rc = CSQ_OK, n;
    int *first = NULL, *kof = NULL, *run = NULL, *col = NULL;
    double *val = NULL, *sv = NULL, *bv = NULL, *x = NULL, objfix = 0;
    int64_t size_cap = w->size_cap, bops_cap = w->bops_cap;
    struct csq_lp *lp = NULL;
    enum csq_lp_status st;

    first = csq_mem_array((size_t)nf + 1, sizeof *first);
    run = csq_mem_array((size_t)nf + 1, sizeof *run);
    kof = csq_mem_array((size_t)nf * (size_t)nc + 1, sizeof *kof);
    if (!first || !run || !kof) {
        rc = CSQ_ENOMEM;
        goto out;
    }
    for (j = 0; j < nf; j++) {
        int last = -1, lo;
        first[j] = ncol;
        for (k = n = 0; k < nc; k++)
            if (allow[j * nc + k]) {
                kof[ncol + n++] = k;
                last = k;
            }
        if (n == 1) { /* fixed */
            ki[j] = last;
            objfix += D(m, j, last);
            if (size_cap != INT64_MAX)
                size_cap -= size_of(m, j, last);
            if (bops_cap != INT64_MAX)
                bops_cap -= bops_of(m, j, last);
            continue;
        }
        run[j] = convex_run(m, allow, j, &lo);
        if (run[j])
            objfix += D(m, j, lo);
        ncol += n;
    }
    first[nf] = ncol;
    *proven = 1;
    if (ncol == 0)
        goto out;
    col = csq_mem_array((size_t)ncol + 1, sizeof *col);
    val = csq_mem_array((size_t)ncol + 1, sizeof *val);
    sv = csq_mem_array((size_t)ncol + 1, sizeof *sv);
    bv = csq_mem_array((size_t)ncol + 1, sizeof *bv);
    x = csq_mem_array((size_t)ncol + 1, sizeof *x);
    if (!col || !val || !sv || !bv || !x) {
        rc = CSQ_ENOMEM;
        goto out;
    }
    if ((rc = csq_lp_new(ncol, CSQ_LP_MIN, &lp)) != 0)
        goto out;
    for (k = 0; k < ncol; k++)
        col[k] = k;
    for (j = 0; j < nf; j++) {
        int f = first[j], e = first[j + 1];
        if (e == f)
            continue;
        if (run[j]) {
            sv[f] = (double)GRP(m, j)->p;
            bv[f] = (double)GRP(m, j)->q;
            val[f] = 0;
            x[f] = 1;
            for (k = f + 1; k < e; k++) {
                sv[k] = bv[k] = 0;
                val[k] = D(m, j, kof[k]) - D(m, j, kof[k - 1]);
                x[k] = -1;
            }
            rc = csq_lp_add_row(lp, e - f, x + f, col + f, CSQ_LP_EQ, w->cand[kof[f]]);
        } else {
            for (k = f; k < e; k++) {
                sv[k] = (double)size_of(m, j, kof[k]);
                bv[k] = (double)bops_of(m, j, kof[k]);
                val[k] = D(m, j, kof[k]);
                x[k] = 1;
            }
            rc = csq_lp_add_row(lp, e - f, x + f, col + f, CSQ_LP_EQ, 1);
        }
        if (rc != 0)
            goto out;
    }
    if (size_cap != INT64_MAX
        && (rc = csq_lp_add_row(lp, ncol, sv, col, CSQ_LP_LE, (double)size_cap)) != 0)
        goto out;
    if (bops_cap != INT64_MAX
        && (rc = csq_lp_add_row(lp, ncol, bv, col, CSQ_LP_LE, (double)bops_cap)) != 0)
        goto out;
    if ((rc = csq_lp_add_row(lp, ncol, val, col, CSQ_LP_LE, zcut - objfix)) != 0)
        goto out;
    csq_lp_set_objective(lp, ncol, val, col);
    for (j = 0; j < nf; j++) {
        int f = first[j], e = first[j + 1];
        if (e > f && run[j]) {
            csq_lp_set_bounds(lp, f, w->cand[kof[f]], w->cand[kof[e - 1]]);
            csq_lp_set_int(lp, f);
            for (k = f + 1; k < e; k++)
                csq_lp_set_bounds(lp, k, 0, 1);
        } else {
            for (k = f; k < e; k++)
                csq_lp_set_binary(lp, k);
        }
    }
    /* measured on 200 x 7 convex, random and bowl costs: the fastest */
    csq_lp_set_mip(lp, 1e-11, 1e-9, CSQ_LP_BRANCH_FRACTION);
    csq_lp_set_stop(lp, csq_alloc_stop, w);
    st = csq_lp_solve(lp, NULL);
    *proven = st == CSQ_LP_OPTIMAL;
    if (st == CSQ_LP_NOSOLUTION) {
        ki[0] = -1;
        *proven = 0;
        goto out;
    }
    csq_lp_variables(lp, x);
    for (j = 0; j < nf; j++) {
        int f = first[j], e = first[j + 1], bk = f;
        if (e == f)
            continue;
        if (run[j]) {
            ki[j] = kof[f] + (int)lround(x[f]) - w->cand[kof[f]];
            continue;
        }
        for (k = f; k < e; k++)
            if (x[k] > x[bk])
                bk = k;
        ki[j] = kof[bk];
    }
out:
    csq_lp_free(lp);
    free(first);
    free(run);
    free(kof);
    free(col);
    free(val);
    free(sv);
    free(bv);
    free(x);
    return rc;
}

/* allow[j][k]: useful, and its loss fits in the gap to the incumbent. */
static void eliminate(const struct mck *m, double zh, unsigned char *allow)
{
    double gap = zh - m->lbound + m->tol;
    int j, k;

    for (j = 0; j < m->nf; j++)
        for (k = 0; k < m->nc; k++)
            allow[j * m->nc + k] = (unsigned char)(USE(m, j, k) && LOSS(m, j, k) <= gap);
}

/* Take cand as the incumbent when it fits and is better. */
static void adopt(const struct mck *m, const int *cand, int *ki, double *zh)
{
    if (cand[0] >= 0 && fits_idx(m, cand) && value(m, cand) < *zh) {
        memcpy(ki, cand, (size_t)m->nf * sizeof *ki);
        *zh = value(m, ki);
    }
}

static const struct mck *sort_m;

/* Groups by how little a second width costs them in the bound: the
 * undecided ones first.  Ties: lower index. */
static double second_loss(const struct mck *m, int j)
{
    double s = INFINITY;
    int k;

    for (k = 0; k < m->nc; k++)
        if (USE(m, j, k) && LOSS(m, j, k) > 0 && LOSS(m, j, k) < s)
            s = LOSS(m, j, k);
    return s;
}

static int cmp_undecided(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    double sx = second_loss(sort_m, x), sy = second_loss(sort_m, y);

    if (sx != sy)
        return sx < sy ? -1 : 1;
    return (x > y) - (x < y);
}

static int solve_exact(struct mck *m, int *ki, int *proven)
{
    int nf = m->nf, nc = m->nc, j, k, rc, core_proven;
    int *cand = NULL, *ord = NULL;
    unsigned char *allow = NULL;
    double zh;

    cand = csq_mem_array((size_t)nf + 1, sizeof *cand);
    ord = csq_mem_array((size_t)nf + 1, sizeof *ord);
    allow = csq_mem_array((size_t)nf * (size_t)nc + 1, sizeof *allow);
    if (!cand || !ord || !allow) {
        rc = CSQ_ENOMEM;
        goto out;
    }
    lagrange(m);
    if ((rc = improve(m, ki)) != 0)
        goto out;
    zh = value(m, ki);

    /* second incumbent: the most undecided groups free, the rest at the
     * first incumbent's widths, by branch and bound with a node limit */
    for (j = 0; j < nf; j++)
        ord[j] = j;
    sort_m = m;
    qsort(ord, (size_t)nf, sizeof *ord, cmp_undecided);
    eliminate(m, zh, allow);
    for (j = CORE_GROUPS; j < nf; j++)
        for (k = 0; k < nc; k++)
            allow[ord[j] * nc + k] = (unsigned char)(k == ki[ord[j]]);
    memcpy(cand, ki, (size_t)nf * sizeof *ki);
    m->w->node_limit = CORE_NODES;
    rc = branch_and_bound(m, allow, zh + m->tol, cand, &core_proven);
    m->w->node_limit = 0;
    if (rc != 0)
        goto out;
    if (cand[0] >= 0 && fits_idx(m, cand)) {
        if ((rc = improve(m, cand)) != 0)
            goto out;
        adopt(m, cand, ki, &zh);
    }

    /* the exact program over what the gap leaves */
    eliminate(m, zh, allow);
    memcpy(cand, ki, (size_t)nf * sizeof *ki);
    if ((rc = branch_and_bound(m, allow, zh + m->tol, cand, proven)) != 0)
        goto out;
    if (cand[0] >= 0 && !fits_idx(m, cand))
        *proven = 0; /* lp_solve's tolerance let a budget slip: keep ours */
    adopt(m, cand, ki, &zh);
out:
    free(cand);
    free(ord);
    free(allow);
    return rc;
}

int csq_alloc_mck_solve(work_t *w, int *wid, int *proven, double *lpobj)
{
    struct mck m;
    int j, k, rc = CSQ_OK, *ki = NULL;
    double *t = NULL;

    memset(&m, 0, sizeof m);
    m.w = w;
    m.nf = w->nf;
    m.nc = w->nc;
    *proven = 0;
    m.d = csq_mem_array((size_t)m.nf * (size_t)m.nc + 1, sizeof *m.d);
    m.use = csq_mem_array((size_t)m.nf * (size_t)m.nc + 1, sizeof *m.use);
    m.loss = csq_mem_array((size_t)m.nf * (size_t)m.nc + 1, sizeof *m.loss);
    ki = csq_mem_array((size_t)m.nf + 1, sizeof *ki);
    t = csq_mem_array((size_t)m.nf + 1, sizeof *t);
    if (!m.d || !m.use || !m.loss || !ki || !t) {
        rc = CSQ_ENOMEM;
        goto out;
    }
    if (prepare(&m) == 0) {
        /* nothing to choose: every group's smallest width is its best */
        *lpobj = 0;
        for (j = 0; j < m.nf; j++) {
            ki[j] = 0;
            *lpobj += GRP(&m, j)->c[0];
        }
        *proven = 1;
    } else {
        if ((rc = relaxation(&m, t, lpobj)) != 0)
            goto out;
        csq_alloc_round_down(w, t, use_ok, wid);
        for (j = 0; j < m.nf; j++) {
            for (k = 0; w->cand[k] != wid[j]; k++)
                ;
            ki[j] = k;
        }
        if (!w->pb->relax && (rc = solve_exact(&m, ki, proven)) != 0)
            goto out;
    }
    for (j = 0; j < m.nf; j++)
        wid[j] = w->cand[ki[j]];
out:
    free(m.d);
    free(m.use);
    free(m.loss);
    free(ki);
    free(t);
    return rc;
}
