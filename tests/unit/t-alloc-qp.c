/*
 * t-alloc-qp: the bit-width program with cross terms against brute force
 * (every assignment of every layer enumerated, written here from the
 * model of alloc_qp.h, not from the solver), on 200 random small
 * instances with positive and negative cross terms, pins, ties, size and
 * BOPs budgets; a hand-worked case; and a 53-layer, 3-width instance with
 * dense cross terms under a time limit, which must end with a status and
 * a proven gap (no wall-clock assertion).
 */
#include "config.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mpq/alloc_qp.h"
#include "util/err.h"
#include "rng.h"
#include "tap.h"

#define MAXL 53
#define MAXE 12500

struct inst {
    int nl, nc, cand[4], abits;
    double cost[MAXL * CSQ_ALLOC_MAXBITS];
    int64_t params[MAXL], macs[MAXL];
    int pin[MAXL], tie[MAXL];
    int ne, li[MAXE], bi[MAXE], lj[MAXE], bj[MAXE];
    double val[MAXE];
    double size_bits, bops;
};

static double eval(const struct inst *t, const int *w)
{
    double o = 0;
    int l, e;

    for (l = 0; l < t->nl; l++)
        o += t->cost[l * CSQ_ALLOC_MAXBITS + w[l] - 1];
    for (e = 0; e < t->ne; e++)
        if (w[t->li[e]] == t->bi[e] && w[t->lj[e]] == t->bj[e])
            o += t->val[e];
    return o;
}

static int allowed(const struct inst *t, const int *w)
{
    int64_t s = 0, b = 0;
    int l, m;

    for (l = 0; l < t->nl; l++) {
        if (t->pin[l] && w[l] != t->pin[l])
            return 0;
        for (m = 0; m < l; m++)
            if (t->tie[l] >= 0 && t->tie[l] == t->tie[m] && w[l] != w[m])
                return 0;
        s += t->params[l] * w[l];
        b += t->macs[l] * w[l] * t->abits;
    }
    return (t->size_bits <= 0 || s <= (int64_t)floor(t->size_bits)) &&
           (t->bops <= 0 || b <= (int64_t)floor(t->bops));
}

/* The pin of layer l or of a layer tied to it (alloc.h: a tie group with a
 * pinned member takes that width), else 0. */
static int pin_of(const struct inst *t, int l)
{
    int m;

    for (m = 0; m < t->nl; m++)
        if (t->pin[m] && (m == l || (t->tie[l] >= 0 && t->tie[m] == t->tie[l])))
            return t->pin[m];
    return 0;
}

/* Minimum over all assignments (a free layer: any candidate; a pinned
 * one: its pin, possibly no candidate), or INFINITY. */
static double brute(const struct inst *t)
{
    int w[MAXL], idx[MAXL], l;
    double best = INFINITY;

    memset(idx, 0, sizeof idx);
    for (;;) {
        for (l = 0; l < t->nl; l++)
            w[l] = pin_of(t, l) ? pin_of(t, l) : t->cand[idx[l]];
        if (allowed(t, w) && eval(t, w) < best)
            best = eval(t, w);
        for (l = 0; l < t->nl; l++) {
            if (!pin_of(t, l) && ++idx[l] < t->nc)
                break;
            idx[l] = 0;
        }
        if (l == t->nl)
            return best;
    }
}

static void problem(const struct inst *t, struct csq_alloc_problem *p, struct csq_alloc_cross *x)
{
    memset(p, 0, sizeof *p);
    p->nlayers = t->nl;
    p->cost = t->cost;
    p->params = t->params;
    p->macs = t->macs;
    p->cand = t->cand;
    p->ncand = t->nc;
    p->abits = t->abits;
    p->size_bits = t->size_bits;
    p->bops = t->bops;
    p->pin = t->pin;
    p->tie_group = t->tie;
    x->n = t->ne;
    x->li = t->li;
    x->bi = t->bi;
    x->lj = t->lj;
    x->bj = t->bj;
    x->val = t->val;
}

static void random_inst(struct inst *t, int nl)
{
    static const int sets[3][3] = {{2, 3, 4}, {2, 4, 8}, {3, 5, 6}};
    int l, k, e, s = (int)(uniform() * 3);
    int64_t tp = 0, tm = 0;

    memset(t, 0, sizeof *t);
    t->nl = nl;
    t->nc = 2 + (uniform() < 0.6);
    for (k = 0; k < t->nc; k++)
        t->cand[k] = sets[s][t->nc == 2 ? 2 * k : k];
    t->abits = uniform() < 0.5 ? 8 : 4;
    for (l = 0; l < nl; l++) {
        double a = gauss();
        for (k = 1; k <= CSQ_ALLOC_MAXBITS; k++)
            t->cost[l * CSQ_ALLOC_MAXBITS + k - 1] =
                uniform() < 0.5 ? a / k + 0.1 * gauss() : gauss();
        t->params[l] = 1 + (int64_t)(uniform() * 1000);
        t->macs[l] = (int64_t)(uniform() * 5000);
        t->tie[l] = uniform() < 0.2 ? (int)(uniform() * 2) : -1;
        tp += t->params[l];
        tm += t->macs[l];
    }
    for (l = 0; l < nl; l++)
        if (uniform() < 0.12) {
            int pin = uniform() < 0.7 ? t->cand[(int)(uniform() * t->nc)] : 8;
            int m, clash = 0;
            for (m = 0; m < nl; m++)
                if (t->pin[m] && t->tie[l] >= 0 && t->tie[m] == t->tie[l] && t->pin[m] != pin)
                    clash = 1;
            if (!clash)
                t->pin[l] = pin;
        }
    t->ne = (int)(uniform() * 3 * nl * nl);
    for (e = 0; e < t->ne; e++) {
        t->li[e] = (int)(uniform() * nl);
        do
            t->lj[e] = (int)(uniform() * nl);
        while (t->lj[e] == t->li[e]);
        t->bi[e] = t->cand[(int)(uniform() * t->nc)];
        t->bj[e] = uniform() < 0.9 ? t->cand[(int)(uniform() * t->nc)] : 8;
        t->val[e] = (uniform() < 0.5 ? 0.3 : 2) * gauss();
    }
    t->size_bits = uniform() < 0.85 ? (double)tp * (t->cand[0] + uniform() *
                                                    (t->cand[t->nc - 1] - t->cand[0] + 1))
                                    : 0;
    t->bops = uniform() < 0.4 ? (double)tm * t->abits * (t->cand[0] + uniform() *
                                                          (t->cand[t->nc - 1] - t->cand[0]))
                              : 0;
    if (t->size_bits <= 0 && t->bops <= 0)
        t->size_bits = (double)tp * t->cand[t->nc - 1];
}

static void random_cases(void)
{
    struct inst *t = calloc(1, sizeof *t);
    int i, bad = 0, infeasible = 0, proven = 0, negative = 0;

    for (i = 0; i < 200; i++) {
        struct csq_alloc_problem p;
        struct csq_alloc_cross x;
        struct csq_alloc_result r;
        double want, gap, tol;
        int rc, e;

        random_inst(t, 2 + i % 6);
        for (e = 0; e < t->ne; e++)
            negative += t->val[e] < 0;
        problem(t, &p, &x);
        want = brute(t);
        rc = csq_alloc_qp_solve(&p, &x, &r, &gap);
        csq_errclear();
        if (isinf(want)) {
            infeasible++;
            if (rc != CSQ_EINFEASIBLE) {
                bad++;
                diag("case %d: no assignment fits, solver says %d", i, rc);
            }
            continue;
        }
        tol = 1e-9 * (1 + fabs(want));
        if (rc != 0 || !allowed(t, r.wbits) || fabs(eval(t, r.wbits) - want) > tol ||
            fabs(r.objective - want) > tol || !r.proven_optimal || gap != 0) {
            bad++;
            diag("case %d (%d layers, %d widths): rc %d, objective %.17g, brute force %.17g",
                 i, t->nl, t->nc, rc, rc ? NAN : r.objective, want);
        }
        proven += rc == 0 && r.proven_optimal;
        if (rc == 0)
            csq_alloc_result_release(&r);
    }
    is_int(bad, 0, "200 random instances: optimum equals brute force (%d infeasible, "
           "%d proven)", infeasible, proven);
    ok(negative > 1000, "the instances have negative cross terms (%d)", negative);
    free(t);
}

/* Two layers at {2,4}, 100 params each, mean 3 bits: alone, (4,2) costs
 * 0 + 1 = 1, (2,4) costs 1 + 0 = 1, (2,2) costs 2; a cross term of -1.5
 * at (2,2) makes (2,2) cost 0.5, the optimum; +3 at (4,2) leaves (2,4). */
static void hand_case(void)
{
    struct inst *t = calloc(1, sizeof *t);
    struct csq_alloc_problem p;
    struct csq_alloc_cross x;
    struct csq_alloc_result r;
    double gap;
    int l;

    t->nl = 2;
    t->nc = 2;
    t->cand[0] = 2;
    t->cand[1] = 4;
    t->abits = 8;
    for (l = 0; l < 2; l++) {
        t->cost[l * CSQ_ALLOC_MAXBITS + 1] = 1;
        t->cost[l * CSQ_ALLOC_MAXBITS + 3] = 0;
        t->params[l] = 100;
        t->tie[l] = -1;
    }
    t->size_bits = 600;
    t->ne = 1;
    t->li[0] = 0, t->bi[0] = 2, t->lj[0] = 1, t->bj[0] = 2, t->val[0] = -1.5;
    problem(t, &p, &x);
    ok(csq_alloc_qp_solve(&p, &x, &r, &gap) == 0 && r.wbits[0] == 2 && r.wbits[1] == 2 &&
       r.objective == 0.5, "a negative cross term makes (2,2) the optimum");
    csq_alloc_result_release(&r);
    t->bi[0] = 4, t->val[0] = 3;
    problem(t, &p, &x);
    ok(csq_alloc_qp_solve(&p, &x, &r, &gap) == 0 && r.wbits[0] == 2 && r.wbits[1] == 4 &&
       r.objective == 1, "a positive one at (4,2) leaves (2,4)");
    csq_alloc_result_release(&r);
    free(t);
}

static void large_case(void)
{
    struct inst *t = calloc(1, sizeof *t);
    struct csq_alloc_problem p;
    struct csq_alloc_cross x;
    struct csq_alloc_result r;
    int64_t tp = 0;
    double gap = -1;
    int l, m, a, b, rc;

    t->nl = 53;
    t->nc = 3;
    t->abits = 8;
    for (a = 0; a < 3; a++)
        t->cand[a] = 2 + a;
    for (l = 0; l < t->nl; l++) {
        double s = uniform();
        for (a = 1; a <= CSQ_ALLOC_MAXBITS; a++)
            t->cost[l * CSQ_ALLOC_MAXBITS + a - 1] = s * pow(2, -2.0 * a) * 100;
        t->params[l] = 100 + (int64_t)(uniform() * 100000);
        t->tie[l] = -1;
        tp += t->params[l];
    }
    for (l = 0; l < t->nl; l++)
        for (m = l + 1; m < t->nl; m++)
            for (a = 2; a <= 4; a++)
                for (b = 2; b <= 4; b++) {
                    t->li[t->ne] = l, t->lj[t->ne] = m, t->bi[t->ne] = a, t->bj[t->ne] = b;
                    t->val[t->ne++] = 0.05 * gauss() * pow(2, -(double)(a + b));
                    if (t->ne == MAXE)
                        goto full;
                }
full:
    t->size_bits = 3.0 * (double)tp;
    problem(t, &p, &x);
    p.time_limit = 3;
    rc = csq_alloc_qp_solve(&p, &x, &r, &gap);
    is_int(rc, 0, "53 layers, 3 widths, %d cross terms, --time-limit 3: a status", t->ne);
    if (rc == 0) {
        ok(isfinite(gap) && gap >= 0 && r.relaxed_objective <= r.objective,
           "with a proven gap %.3g (bound %.6g, objective %.6g, %s)", gap,
           r.relaxed_objective, r.objective, r.proven_optimal ? "optimal" : "stopped");
        ok(allowed(t, r.wbits) && fabs(eval(t, r.wbits) - r.objective) < 1e-9,
           "and an assignment that fits, of the objective reported");
        ok(!r.proven_optimal || gap == 0, "proven optimal means a gap of 0");
        csq_alloc_result_release(&r);
    }
    free(t);
}

int main(void)
{
    hand_case();
    random_cases();
    large_case();
    return tap_done();
}
