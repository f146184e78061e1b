/*
 * plan: score table + budget request -> bit config (see plan.h).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mpq/alloc.h"
#include "mpq/alloc_qp.h"
#include "mpq/plan.h"
#include "util/units.h"
#include "util/err.h"
#include "util/mem.h"

/* Row of layer name, or -1 after recording a usage error that says what
 * the request wanted of it ("pin", "tie"). */
static int find_layer(const struct csq_scoretab *t, const char *name, const char *what)
{
    int i = csq_scoretab_find(t, name);

    if (i < 0)
        csq_fail(CSQ_EUSAGE, "no layer named '%s' to %s: the score table has no such row",
                 name, what);
    return i;
}

/* The cost table the allocator minimizes, from the score table: its
 * cost@ columns when it has them, else TF-IDF's -score x b (minimizing the
 * cost maximizes sum score x b). */
static double *plan_costs(const struct csq_scoretab *t)
{
    double *score = csq_mem_array((size_t)t->n, sizeof *score);
    double *cost = csq_mem_array((size_t)t->n * CSQ_ALLOC_MAXBITS, sizeof *cost);
    int i;

    if (score && cost && t->nwidths > 0) {
        for (i = 0; i < t->n; i++)
            memcpy(cost + (size_t)i * CSQ_ALLOC_MAXBITS, t->rows[i].cost,
                   CSQ_ALLOC_MAXBITS * sizeof *cost);
    } else if (score && cost) {
        for (i = 0; i < t->n; i++)
            score[i] = t->rows[i].score;
        csq_alloc_cost_linear(score, t->n, cost);
    } else {
        free(cost);
        cost = NULL;
    }
    free(score);
    return cost;
}

static int has_width(const struct csq_scoretab *t, int b)
{
    int j;

    for (j = 0; j < t->nwidths; j++)
        if (t->widths[j] == b)
            return 1;
    return 0;
}

/* "2,3,4" */
static void widths_text(const int *w, int n, char *buf, size_t len)
{
    size_t k = 0;
    int j;

    buf[0] = '\0';
    for (j = 0; j < n && k < len; j++)
        k += (size_t)snprintf(buf + k, len - k, "%s%d", j ? "," : "", w[j]);
}

/* A cost table must price every candidate and every pinned width. */
static int check_widths(const struct csq_scoretab *t, const int *cand, int ncand,
                        const int *pin)
{
    char have[64];
    int j;

    if (t->nwidths == 0)
        return CSQ_OK;
    widths_text(t->widths, t->nwidths, have, sizeof have);
    for (j = 0; j < ncand; j++)
        if (!has_width(t, cand[j]))
            return csq_fail(CSQ_EINVAL, "the score table's costs are for widths %s, not for "
                            "the candidate width %d (--wbits / --mode)", have, cand[j]);
    for (j = 0; j < t->n; j++)
        if (pin[j] && !has_width(t, pin[j]))
            return csq_fail(CSQ_EINVAL, "the score table's costs are for widths %s, not for "
                            "layer '%s' pinned to %d bits", have, t->rows[j].layer, pin[j]);
    return CSQ_OK;
}

/* The candidate widths and the first-and-last pin: the mode's, unless
 * the request gives them. */
static int candidates(const struct csq_plan_request *r, int *cand, int *ncand, int *pfl)
{
    int rc;

    if ((rc = csq_alloc_preset(r->mode ? r->mode : "ptq", cand, ncand, pfl)) != 0)
        return rc;
    if (r->nwbits > 0) {
        memcpy(cand, r->wbits, (size_t)r->nwbits * sizeof(int));
        *ncand = r->nwbits;
    }
    if (r->pin_first_last >= 0)
        *pfl = r->pin_first_last;
    return CSQ_OK;
}

/* "size<=4.50MiB bops<=60G" for the header. */
static char *budget_text(const struct csq_plan_request *r)
{
    char buf[256], a[32];
    size_t k = 0;

    buf[0] = '\0';
    if (r->avg_bits > 0)
        k += (size_t)snprintf(buf + k, sizeof buf - k, "mean_wbits<=%g", r->avg_bits);
    if (r->size_bytes > 0)
        k += (size_t)snprintf(buf + k, sizeof buf - k, "%ssize<=%s", k ? " " : "",
                              csq_units_fmt_bytes(r->size_bytes, a, sizeof a));
    if (r->bops > 0)
        k += (size_t)snprintf(buf + k, sizeof buf - k, "%sbops<=%s", k ? " " : "",
                              csq_units_fmt_count(r->bops, a, sizeof a));
    return k ? csq_mem_strdup(buf) : NULL;
}

static int plan_run(const struct csq_scoretab *t, const double *cost_in,
                    const struct csq_alloc_cross *x, const struct csq_plan_request *r,
                    struct csq_bitcfg *out, struct csq_plan_outcome *o);

int csq_plan_solve(const struct csq_scoretab *t, const struct csq_plan_request *r,
                   struct csq_bitcfg *out)
{
    struct csq_plan_outcome o;

    return plan_run(t, NULL, NULL, r, out, &o);
}

int csq_plan_solve_outcome(const struct csq_scoretab *t, const struct csq_plan_request *r,
                           struct csq_bitcfg *out, struct csq_plan_outcome *o)
{
    return plan_run(t, NULL, NULL, r, out, o);
}

int csq_plan_solve_cross(const struct csq_scoretab *t, const double *cost,
                         const struct csq_alloc_cross *x, const struct csq_plan_request *r,
                         struct csq_bitcfg *out)
{
    struct csq_plan_outcome o;

    return plan_run(t, cost, x, r, out, &o);
}

static int plan_run(const struct csq_scoretab *t, const double *cost_in,
                    const struct csq_alloc_cross *x, const struct csq_plan_request *r,
                    struct csq_bitcfg *out, struct csq_plan_outcome *o)
{
    double gap = 0;
    struct csq_alloc_problem p;
    struct csq_alloc_result res;
    double *cost = NULL, size_bits = 0, sign;
    int64_t *params = NULL, *macs = NULL, total = 0;
    int *pin = NULL, *tie = NULL, cand[16], ncand = 0, pfl = 0, i, j, rc = CSQ_OK;
    const char **names = NULL;
    char solver[128];

    memset(out, 0, sizeof *out);
    memset(o, 0, sizeof *o);
    memset(&res, 0, sizeof res);
    if (t->n == 0)
        return csq_fail(CSQ_EINVAL, "the score table has no layers");
    if ((rc = candidates(r, cand, &ncand, &pfl)) != 0)
        return rc;
    if (r->size_bytes <= 0 && r->bops <= 0 && r->avg_bits <= 0)
        return csq_fail(CSQ_EUSAGE, "no budget given (size, BOPs or mean bits)");
    if (cost_in) {
        cost = csq_mem_array((size_t)t->n * CSQ_ALLOC_MAXBITS, sizeof *cost);
        if (cost)
            memcpy(cost, cost_in, (size_t)t->n * CSQ_ALLOC_MAXBITS * sizeof *cost);
    } else {
        cost = plan_costs(t);
    }
    params = csq_mem_array((size_t)t->n, sizeof *params);
    macs = csq_mem_array((size_t)t->n, sizeof *macs);
    pin = csq_mem_zarray((size_t)t->n, sizeof *pin);
    tie = csq_mem_array((size_t)t->n, sizeof *tie);
    names = csq_mem_array((size_t)t->n, sizeof *names);
    if (!cost || !params || !macs || !pin || !tie || !names) {
        rc = CSQ_ENOMEM;
        goto out;
    }
    for (i = 0; i < t->n; i++) {
        params[i] = t->rows[i].params;
        macs[i] = t->rows[i].macs;
        names[i] = t->rows[i].layer;
        tie[i] = -1;
        total += params[i];
    }
    if (pfl > 0)
        csq_alloc_pin_first_last(pin, t->n, pfl);
    /* Explicit pins come after the first-and-last pin, so they win. */
    for (j = 0; j < r->npins; j++) {
        if ((i = find_layer(t, r->pin_names[j], "pin")) < 0) {
            rc = CSQ_EUSAGE;
            goto out;
        }
        pin[i] = r->pin_bits[j];
    }
    for (j = 0; j < r->nties; j++) {
        int k;
        for (k = 0; k < r->tie_counts[j]; k++) {
            if ((i = find_layer(t, r->tie_names[j][k], "tie")) < 0) {
                rc = CSQ_EUSAGE;
                goto out;
            }
            if (tie[i] >= 0 && tie[i] != j) {
                /* A layer in two tie groups joins them. */
                int old = tie[i], q;
                for (q = 0; q < t->n; q++)
                    if (tie[q] == old)
                        tie[q] = j;
            }
            tie[i] = j;
        }
    }
    if ((rc = check_widths(t, cand, ncand, pin)) != 0)
        goto out;
    if (r->size_bytes > 0)
        size_bits = r->size_bytes * 8;
    if (r->avg_bits > 0 && (size_bits <= 0 || r->avg_bits * (double)total < size_bits))
        size_bits = r->avg_bits * (double)total;
    memset(&p, 0, sizeof p);
    p.nlayers = t->n;
    p.names = names;
    p.cost = cost;
    p.params = params;
    p.macs = macs;
    p.cand = cand;
    p.ncand = ncand;
    p.abits = r->abits > 0 ? r->abits : 8;
    p.size_bits = size_bits;
    p.bops = r->bops;
    p.pin = pin;
    p.tie_group = tie;
    p.time_limit = r->time_limit;
    p.relax = r->relax;
    rc = x ? csq_alloc_qp_solve(&p, x, &res, &gap) : csq_alloc_solve(&p, &res);
    o->min_size_bits = res.min_size_bits;
    o->min_bops = res.min_bops;
    if (rc != 0)
        goto out;
    o->size_bits = res.size_bits;
    o->bops = res.bops;
    o->mean_wbits = res.mean_wbits;
    o->proven_optimal = res.proven_optimal;
    out->nlayers = t->n;
    out->layers = csq_mem_zarray((size_t)t->n, sizeof *out->layers);
    if (!out->layers) {
        rc = CSQ_ENOMEM;
        goto out;
    }
    for (i = 0; i < t->n; i++) {
        struct csq_bitcfg_layer *y = &out->layers[i];
        y->name = csq_mem_strdup(t->rows[i].layer);
        y->node = r->nodes && r->nodes[i] ? csq_mem_strdup(r->nodes[i]) : NULL;
        y->wbits = res.wbits[i];
        y->abits = p.abits;
        y->params = params[i];
        y->macs = macs[i];
        y->score = t->rows[i].score;
        if (!y->name || (r->nodes && r->nodes[i] && !y->node)) {
            rc = CSQ_ENOMEM;
            goto out;
        }
    }
    out->model = t->model ? csq_mem_strdup(t->model) : NULL;
    out->sha256 = t->sha256 ? csq_mem_strdup(t->sha256) : NULL;
    out->budget = budget_text(r);
    /* TF-IDF reports sum score x b, the negated cost (exactly: alloc.h);
     * a cost table (or a pair table's costs) its minimized sum. */
    sign = x || t->nwidths > 0 ? 1 : -1;
    /* the achieved config's objective (relax: the rounded one) */
    o->objective = sign * res.objective;
    if (x && res.proven_optimal)
        snprintf(solver, sizeof solver, "proven optimal, objective %.6g (predicted loss "
                 "change)", res.objective);
    else if (x)
        snprintf(solver, sizeof solver, "time limit reached, best found, objective %.6g, "
                 "proven gap %.3g (bound %.6g)", res.objective, gap, res.relaxed_objective);
    else if (r->relax)
        snprintf(solver, sizeof solver, "continuous LP rounded down (relaxed objective %.6g, "
                 "rounded %.6g)", sign * res.relaxed_objective, sign * res.objective);
    else
        snprintf(solver, sizeof solver, "%s, objective %.6g",
                 res.proven_optimal ? "proven optimal" : "time limit reached, best found",
                 sign * res.objective);
    out->solver = csq_mem_strdup(solver);
out:
    csq_alloc_result_release(&res);
    free(cost);
    free(params);
    free(macs);
    free(pin);
    free(tie);
    free(names);
    if (rc != CSQ_OK)
        csq_bitcfg_release(out);
    return rc;
}

int csq_plan_widths(const struct csq_plan_request *r, int *widths, int *n)
{
    int cand[16], ncand = 0, pfl = 0, seen = 0, j, rc;

    if ((rc = candidates(r, cand, &ncand, &pfl)) != 0)
        return rc;
    for (j = 0; j < ncand; j++)
        seen |= 1 << cand[j];
    if (pfl > 0)
        seen |= 1 << pfl;
    for (j = 0; j < r->npins; j++)
        seen |= 1 << r->pin_bits[j];
    *n = 0;
    for (j = 1; j <= CSQ_ALLOC_MAXBITS; j++)
        if (seen >> j & 1)
            widths[(*n)++] = j;
    return CSQ_OK;
}
