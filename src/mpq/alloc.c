/*
 * alloc: the bit-width integer program (see alloc.h for the model, the
 * exactness argument and the tie-breaking rules): input checks, tie
 * groups, the choice of search (alloc_lin.c for linear costs, alloc_mck.c
 * for any), the canonical choice among equal optima and the result.
 */
#include "config.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mpq/alloc.h"
#include "mpq/alloc_work.h"
#include "util/units.h"
#include "util/err.h"
#include "util/mem.h"

/* Sums stay far below 2^63: 2^50 elements x 16 bits x 16 bits = 2^58. */
#define MAX_TOTAL ((int64_t)1 << 50)

typedef struct csq_alloc_work work_t;

/* cost of layer l at b bits */
#define COST(p, l, b) ((p)->cost[(size_t)(l) * CSQ_ALLOC_MAXBITS + (size_t)(b) - 1])

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

/* --- helpers shared with the searches (alloc_work.h) --- */

int csq_alloc_fits(const work_t *w, const int *wid)
{
    int64_t s = 0, b = 0;
    int j;

    for (j = 0; j < w->nf; j++) {
        s += CSQ_ALLOC_FREE(w, j)->p * wid[j];
        b += CSQ_ALLOC_FREE(w, j)->q * wid[j];
    }
    return s <= w->size_cap && b <= w->bops_cap;
}

int csq_alloc_stop(void *work, long long nodes)
{
    const work_t *w = work;
    return (w->deadline > 0 && now() > w->deadline)
           || (w->node_limit > 0 && nodes > w->node_limit);
}

/* Largest allowed candidate <= x; the smallest candidate is always allowed. */
static int round_one(const work_t *w, int j, double x, double slack,
                     int (*ok)(const work_t *w, int j, int k))
{
    int k, best = 0;

    for (k = 1; k < w->nc && w->cand[k] <= x + slack; k++)
        if (!ok || ok(w, j, k))
            best = k;
    return w->cand[best];
}

void csq_alloc_round_down(const work_t *w, const double *x,
                          int (*ok)(const work_t *w, int j, int k), int *wid)
{
    static const double slack[] = {1e-9, 0};
    int j, t;

    for (t = 0; t < 2; t++) {
        for (j = 0; j < w->nf; j++)
            wid[j] = round_one(w, j, x[j], slack[t], ok);
        if (csq_alloc_fits(w, wid))
            return;
    }
    for (j = 0; j < w->nf; j++)
        wid[j] = w->cand[0];
}

/* --- validation and groups --- */

static int cmp_int(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

static int check_cost(const struct csq_alloc_problem *p, int l, int b)
{
    char b1[32];

    if (!isfinite(COST(p, l, b)))
        return csq_fail(CSQ_EINVAL, "alloc: layer '%s': cost at %d bits is not finite",
                        lname(p, l, b1, sizeof b1), b);
    return CSQ_OK;
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

static int build_groups(work_t *w)
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
        struct csq_alloc_grp *g;

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

static int is_slope(const work_t *w, int l, double m)
{
    int k;

    for (k = 0; k < w->nc; k++)
        if (COST(w->pb, l, w->cand[k]) != m * w->cand[k])
            return 0;
    return 1;
}

/* 1 when free layer l costs m x b at every candidate b.  A power-of-two
 * width is tried first, as cost / b is exact there: -score x b gives back
 * -score to the bit.  Otherwise cost / b at each candidate and its two
 * neighbours, as a quotient by 3, 5, 6, 7... may be off by one unit. */
static int layer_slope(const work_t *w, int l, double *m)
{
    int k, t, order[CSQ_ALLOC_MAXBITS], n = 0;

    for (k = 0; k < w->nc; k++)
        if ((w->cand[k] & (w->cand[k] - 1)) == 0)
            order[n++] = k;
    for (k = 0; k < w->nc; k++)
        if ((w->cand[k] & (w->cand[k] - 1)) != 0)
            order[n++] = k;
    for (k = 0; k < n; k++) {
        double q = COST(w->pb, l, w->cand[order[k]]) / w->cand[order[k]];
        double tries[3] = {q, nextafter(q, -INFINITY), nextafter(q, INFINITY)};
        for (t = 0; t < 3; t++)
            if (is_slope(w, l, tries[t])) {
                *m = tries[t];
                return 1;
            }
    }
    return 0;
}

/* Check the costs read (the candidates for a free layer, its group's pin
 * for a pinned one), choose the linear search when every free layer's
 * cost is slope x width, and sum each free group's scores and costs. */
static int group_costs(work_t *w)
{
    const struct csq_alloc_problem *p = w->pb;
    int l, k, rc;

    w->gcost = csq_mem_zarray((size_t)w->ng * (size_t)w->nc + 1, sizeof *w->gcost);
    if (!w->gcost)
        return CSQ_ENOMEM;
    for (k = 0; k < w->ng; k++)
        w->g[k].c = w->gcost + (size_t)k * (size_t)w->nc;
    for (l = 0; l < p->nlayers; l++) {
        int pin = w->g[w->layer_grp[l]].pin;
        if (pin && (rc = check_cost(p, l, pin)) != 0)
            return rc;
        for (k = 0; k < w->nc && !pin; k++)
            if ((rc = check_cost(p, l, w->cand[k])) != 0)
                return rc;
    }
    w->linear = !p->general && w->nc > 0;
    for (l = 0; l < p->nlayers; l++) {
        struct csq_alloc_grp *g = &w->g[w->layer_grp[l]];
        double *c = w->gcost + (size_t)w->layer_grp[l] * (size_t)w->nc, m;
        if (g->pin)
            continue;
        if (w->linear && layer_slope(w, l, &m))
            g->s += -m;
        else
            w->linear = 0;
        for (k = 0; k < w->nc; k++)
            c[k] += COST(p, l, w->cand[k]);
    }
    return CSQ_OK;
}

/* --- canonical choice among equal optima (see alloc.h) --- */

/* Order of free groups by everything the program sees of them. */
static int cmp_key(const work_t *w, const struct csq_alloc_grp *x, const struct csq_alloc_grp *y)
{
    int k;

    if (w->linear) {
        if (x->s != y->s)
            return x->s < y->s ? -1 : 1;
    } else {
        for (k = 0; k < w->nc; k++)
            if (x->c[k] != y->c[k])
                return x->c[k] < y->c[k] ? -1 : 1;
    }
    if (x->p != y->p)
        return x->p < y->p ? -1 : 1;
    return (x->q > y->q) - (x->q < y->q);
}

static const work_t *sort_ctx;

static int cmp_free(const void *a, const void *b)
{
    const struct csq_alloc_grp *x = CSQ_ALLOC_FREE(sort_ctx, *(const int *)a);
    const struct csq_alloc_grp *y = CSQ_ALLOC_FREE(sort_ctx, *(const int *)b);
    int c = cmp_key(sort_ctx, x, y);

    return c ? c : (x->first > y->first) - (x->first < y->first);
}

/* A smaller candidate that costs no more is as good and frees budget. */
static int cheapest_smaller(const work_t *w, int j, int b)
{
    const struct csq_alloc_grp *g = CSQ_ALLOC_FREE(w, j);
    int k, kb = 0;

    if (w->linear)
        return g->s <= 0 ? w->cand[0] : b;
    while (w->cand[kb] != b)
        kb++;
    for (k = 0; k < kb; k++)
        if (g->c[k] <= g->c[kb])
            return w->cand[k];
    return b;
}

static int canon_ties(work_t *w, int *wid)
{
    int nf = w->nf, i, j, k, *ord = csq_mem_array((size_t)nf + 1, sizeof *ord);
    int *ws = csq_mem_array((size_t)nf + 1, sizeof *ws);

    if (!ord || !ws) {
        free(ord);
        free(ws);
        return CSQ_ENOMEM;
    }
    for (j = 0; j < nf; j++) {
        wid[j] = cheapest_smaller(w, j, wid[j]);
        ord[j] = j;
    }
    sort_ctx = w;
    qsort(ord, (size_t)nf, sizeof *ord, cmp_free);
    for (i = 0; i < nf; i = k) {
        for (k = i + 1; k < nf; k++)
            if (cmp_key(w, CSQ_ALLOC_FREE(w, ord[i]), CSQ_ALLOC_FREE(w, ord[k])) != 0)
                break;
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

static int infeasible(const work_t *w, const struct csq_alloc_result *r)
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

/* Objective and relaxed objective.  Linear costs are summed as scores
 * (-cost = s x b, the sums the TF-IDF search always reported) and then
 * negated, so negating back gives those sums to the bit. */
static void objectives(const work_t *w, double lpobj, struct csq_alloc_result *r)
{
    const struct csq_alloc_problem *p = w->pb;
    double obj = 0, rel = lpobj, sign = w->linear ? -1 : 1;
    int l;

    for (l = 0; l < p->nlayers; l++) {
        int pin = w->g[w->layer_grp[l]].pin;
        obj += sign * COST(p, l, r->wbits[l]);
        if (pin)
            rel += sign * COST(p, l, pin);
    }
    r->objective = sign * obj;
    r->relaxed_objective = sign * rel;
}

int csq_alloc_solve(const struct csq_alloc_problem *p, struct csq_alloc_result *r)
{
    work_t w;
    int rc, j, k, l, *wid = NULL, proven = 0;
    double lpobj = 0;
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
    if ((rc = build_groups(&w)) != 0 || (rc = group_costs(&w)) != 0)
        goto out;
    if (w.nf > 0 && w.nc == 0) {
        rc = csq_fail(CSQ_EINVAL, "alloc: no candidate widths for the unpinned layers");
        goto out;
    }

    for (k = 0; k < w.ng; k++) {
        const struct csq_alloc_grp *g = &w.g[k];
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
    if (!wid) {
        rc = CSQ_ENOMEM;
        goto out;
    }
    if (w.nf > 0) {
        rc = w.linear ? csq_alloc_lin_solve(&w, wid, &proven, &lpobj)
                      : csq_alloc_mck_solve(&w, wid, &proven, &lpobj);
        if (rc != 0 || (rc = canon_ties(&w, wid)) != 0)
            goto out;
    } else {
        proven = !p->relax;
    }
    for (j = 0; j < w.nf; j++)
        CSQ_ALLOC_FREE(&w, j)->w = wid[j];

    r->wbits = csq_mem_array((size_t)p->nlayers, sizeof *r->wbits);
    if (!r->wbits) {
        rc = CSQ_ENOMEM;
        goto out;
    }
    for (l = 0; l < p->nlayers; l++) {
        int b = w.g[w.layer_grp[l]].w;
        r->wbits[l] = b;
        r->size_bits += p->params[l] * b;
        r->bops += p->macs[l] * b * p->abits;
        tp += p->params[l];
    }
    objectives(&w, lpobj, r);
    r->mean_wbits = tp > 0 ? (double)r->size_bits / (double)tp : 0;
    r->proven_optimal = proven && !p->relax;
out:
    free(w.g);
    free(w.layer_grp);
    free(w.free_idx);
    free(w.gcost);
    free(wid);
    return rc;
}

void csq_alloc_result_release(struct csq_alloc_result *r)
{
    if (!r)
        return;
    free(r->wbits);
    r->wbits = NULL;
}

void csq_alloc_cost_linear(const double *score, int nlayers, double *cost)
{
    int l, b;

    for (l = 0; l < nlayers; l++)
        for (b = 1; b <= CSQ_ALLOC_MAXBITS; b++)
            cost[(size_t)l * CSQ_ALLOC_MAXBITS + (size_t)b - 1] = -score[l] * b;
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
    return csq_fail(CSQ_EUSAGE, "unknown mode '%s': expected ptq or qat", mode);
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
