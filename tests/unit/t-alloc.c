/* alloc: exact optimum against brute-force enumeration (linear costs, the
 * TF-IDF case, and cost tables that are not linear in the width),
 * infeasibility minima, the relaxation against the fractional-knapsack
 * closed forms, determinism and the time-limit flag. */
#include "config.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mpq/alloc.h"
#include "tap.h"
#include "util/err.h"

static uint64_t rng = 88172645463325252ULL;

static uint64_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static int irand(int n) { return (int)(next() % (uint64_t)n); }
static double drand(void) { return (double)(next() >> 11) / 9007199254740992.0; }

#define MAXL 8
#define NB CSQ_ALLOC_MAXBITS

/* -score x b for every width, written out here rather than taken from
 * csq_alloc_cost_linear (which errors_and_presets checks against this) */
static void linear_costs(const double *score, int n, double *cost)
{
    int l, b;

    for (l = 0; l < n; l++)
        for (b = 1; b <= NB; b++)
            cost[l * NB + b - 1] = -(score[l] * b);
}

struct inst {
    int n, nc, abits;
    double score[MAXL], cost[MAXL * NB];
    int64_t params[MAXL], macs[MAXL];
    int cand[4], pin[MAXL], tie[MAXL];
    double size, bops;
};

struct brute {
    int found;
    double best;
    int64_t min_size, min_bops;
};

/* every assignment of candidates (or pins) to layers honouring ties */
static void enumerate(const struct inst *in, struct brute *b)
{
    int idx[MAXL] = {0}, l, m, wb[MAXL], pin[MAXL];
    long total = 1;
    long it;

    /* a pin holds for the whole tie group */
    for (l = 0; l < in->n; l++) {
        pin[l] = in->pin[l];
        for (m = 0; m < in->n; m++)
            if (in->tie[l] >= 0 && in->tie[m] == in->tie[l] && in->pin[m])
                pin[l] = in->pin[m];
    }

    b->found = 0;
    b->best = -INFINITY;
    b->min_size = b->min_bops = INT64_MAX;
    for (l = 0; l < in->n; l++)
        total *= in->nc;
    for (it = 0; it < total; it++) {
        long t = it;
        int ok_ties = 1;
        int64_t s = 0, bo = 0;
        double obj = 0;
        for (l = 0; l < in->n; l++) {
            idx[l] = (int)(t % in->nc);
            t /= in->nc;
            wb[l] = pin[l] ? pin[l] : in->cand[idx[l]];
        }
        /* a pinned layer's index must be 0 so each assignment counts once */
        for (l = 0; l < in->n; l++)
            if (pin[l] && idx[l] != 0)
                ok_ties = 0;
        for (l = 0; l < in->n && ok_ties; l++)
            for (m = 0; m < l; m++)
                if (in->tie[l] >= 0 && in->tie[l] == in->tie[m] && wb[l] != wb[m])
                    ok_ties = 0;
        if (!ok_ties)
            continue;
        for (l = 0; l < in->n; l++) {
            s += in->params[l] * wb[l];
            bo += in->macs[l] * wb[l] * in->abits;
            obj += in->score[l] * wb[l];
        }
        if (s < b->min_size)
            b->min_size = s;
        if (bo < b->min_bops)
            b->min_bops = bo;
        if ((in->size > 0 && (double)s > in->size) || (in->bops > 0 && (double)bo > in->bops))
            continue;
        if (!b->found || obj > b->best)
            b->best = obj;
        b->found = 1;
    }
}

static void make_instance(struct inst *in)
{
    int l, k, used[17] = {0}, ntie;
    int64_t maxs = 0, mins = 0, maxb = 0, minb = 0;

    memset(in, 0, sizeof *in);
    in->n = 1 + irand(MAXL);
    in->nc = 3 + irand(2);
    in->abits = irand(2) ? 8 : 4;
    for (k = 0; k < in->nc;) {
        int c = 2 + irand(7);
        if (!used[c]) {
            used[c] = 1;
            in->cand[k++] = c;
        }
    }
    ntie = irand(3);
    for (l = 0; l < in->n; l++) {
        in->score[l] = irand(10) == 0 ? 0.0 : (irand(12) == 0 ? -0.01 : 0.001 + 0.02 * drand());
        if (l > 0 && irand(6) == 0)
            in->score[l] = in->score[l - 1];
        in->params[l] = 1 + irand(5000);
        in->macs[l] = 1 + irand(100000);
        in->tie[l] = ntie > 0 && irand(3) == 0 ? irand(ntie) : -1;
        in->pin[l] = irand(7) == 0 ? 1 + irand(10) : 0;
    }
    /* no conflicting pins inside one tie group (tested separately) */
    for (l = 0; l < in->n; l++)
        for (k = 0; k < l; k++)
            if (in->tie[l] >= 0 && in->tie[l] == in->tie[k] && in->pin[k])
                in->pin[l] = 0;
    for (l = 0; l < in->n; l++) {
        mins += in->params[l] * 2;
        maxs += in->params[l] * 10;
        minb += in->macs[l] * 2 * in->abits;
        maxb += in->macs[l] * 10 * in->abits;
    }
    k = irand(4); /* 0 none, 1 size, 2 bops, 3 both */
    if (k & 1)
        in->size = (double)mins + (double)(maxs - mins) * (drand() * 1.1 - 0.1);
    if (k & 2)
        in->bops = (double)minb + (double)(maxb - minb) * (drand() * 1.1 - 0.1);
    if (in->size == 0 && k & 1)
        in->size = 1;
}

/* The problem of an instance whose cost table is already filled. */
static void fill_general(const struct inst *in, struct csq_alloc_problem *p)
{
    memset(p, 0, sizeof *p);
    p->nlayers = in->n;
    p->cost = in->cost;
    p->params = in->params;
    p->macs = in->macs;
    p->cand = in->cand;
    p->ncand = in->nc;
    p->abits = in->abits;
    p->size_bits = in->size;
    p->bops = in->bops;
    p->pin = in->pin;
    p->tie_group = in->tie;
}

/* The problem of an instance, costs from its scores. */
static void fill_problem(struct inst *in, struct csq_alloc_problem *p)
{
    linear_costs(in->score, in->n, in->cost);
    fill_general(in, p);
}

static void random_vs_brute(void)
{
    int t, bad_obj = 0, bad_budget = 0, bad_feas = 0, bad_min = 0, bad_shape = 0, ninf = 0;
    int bad_msg = 0, not_proven = 0;

    for (t = 0; t < 400; t++) {
        struct inst in;
        struct brute b;
        struct csq_alloc_problem p;
        struct csq_alloc_result r;
        int rc, l, m;

        make_instance(&in);
        enumerate(&in, &b);
        fill_problem(&in, &p);
        csq_errclear();
        rc = csq_alloc_solve(&p, &r);
        if ((rc == 0) != b.found) {
            bad_feas++;
            diag("instance %d: rc %d, brute force found %d (%s)", t, rc, b.found, csq_errmsg());
            csq_alloc_result_release(&r);
            continue;
        }
        if (r.min_size_bits != b.min_size || r.min_bops != b.min_bops)
            bad_min++;
        if (rc != 0) {
            char want[64];
            ninf++;
            snprintf(want, sizeof want, "size %lld bytes", (long long)((b.min_size + 7) / 8));
            if (rc != CSQ_EINFEASIBLE || !strstr(csq_errmsg(), want))
                bad_msg++;
            continue;
        }
        if (fabs(-r.objective - b.best) > 1e-9 * fmax(1e-3, fabs(b.best))) {
            bad_obj++;
            diag("instance %d: objective %.12g, brute force %.12g", t, -r.objective, b.best);
        }
        if ((in.size > 0 && (double)r.size_bits > in.size)
            || (in.bops > 0 && (double)r.bops > in.bops))
            bad_budget++;
        not_proven += !r.proven_optimal;
        for (l = 0; l < in.n; l++) {
            int inset = 0;
            for (m = 0; m < in.nc; m++)
                inset |= r.wbits[l] == in.cand[m];
            if (in.pin[l] ? r.wbits[l] != in.pin[l] : !inset) {
                int tied_pin = 0;
                for (m = 0; m < in.n; m++)
                    if (in.tie[l] >= 0 && in.tie[m] == in.tie[l] && in.pin[m] == r.wbits[l])
                        tied_pin = 1;
                if (!tied_pin)
                    bad_shape++;
            }
            for (m = 0; m < l; m++)
                if (in.tie[l] >= 0 && in.tie[l] == in.tie[m] && r.wbits[l] != r.wbits[m])
                    bad_shape++;
        }
        csq_alloc_result_release(&r);
    }
    diag("400 random instances, %d infeasible", ninf);
    ok(ninf >= 20 && ninf <= 200, "a fair share of instances is infeasible");
    is_int(bad_feas, 0, "feasible exactly when enumeration finds an assignment");
    is_int(bad_obj, 0, "optimal objective equals the enumerated optimum");
    is_int(bad_budget, 0, "budgets respected");
    is_int(bad_shape, 0, "widths are candidates or pins, ties share one width");
    is_int(bad_min, 0, "reported minima equal the enumerated minima");
    is_int(bad_msg, 0, "infeasible message names the smallest size in bytes");
    is_int(not_proven, 0, "every result proven optimal");
}

/* --- cost tables that are not linear in the width --- */

/* Width of each layer's group pin (0: free), from the instance alone. */
static void group_pins(const struct inst *in, int *gpin)
{
    int l, m;

    for (l = 0; l < in->n; l++) {
        gpin[l] = in->pin[l];
        for (m = 0; m < in->n; m++)
            if (in->tie[l] >= 0 && in->tie[m] == in->tie[l] && in->pin[m])
                gpin[l] = in->pin[m];
    }
}

/* One layer's cost at every width: convex decreasing, random (not
 * convex, not monotone), a bowl (rising past its bottom), small integers
 * (many equal optima), or flat. */
static void cost_row(double *c, int kind)
{
    double a = 0.1 + 10 * drand(), r = 0.2 + drand(), b0 = 1 + 8 * drand(), off = drand() - 0.5;
    int b;

    for (b = 1; b <= NB; b++) {
        switch (kind) {
        case 0: c[b - 1] = off + a * exp(-r * b); break;
        case 1: c[b - 1] = 2 * drand() - 1; break;
        case 2: c[b - 1] = 0.05 * a * (b - b0) * (b - b0) + 0.01 * drand(); break;
        case 3: c[b - 1] = (double)irand(4); break;
        default: c[b - 1] = off; break;
        }
    }
}

/* plain: no pins, no ties */
static void make_general(struct inst *in, int plain)
{
    int l, b, k, gpin[MAXL], mix = irand(6);

    make_instance(in);
    for (l = 0; l < in->n && plain; l++) {
        in->pin[l] = 0;
        in->tie[l] = -1;
    }
    if (in->nc == 4 && in->n == MAXL)
        in->n--; /* keeps the enumeration small */
    for (l = 0; l < in->n; l++) {
        cost_row(&in->cost[l * NB], mix < 5 ? mix : irand(5));
        if (l > 0 && irand(6) == 0) { /* a twin of the previous layer */
            memcpy(&in->cost[l * NB], &in->cost[(l - 1) * NB], NB * sizeof(double));
            in->params[l] = in->params[l - 1];
            in->macs[l] = in->macs[l - 1];
        }
    }
    /* entries the program must not read are NaN in half the instances */
    group_pins(in, gpin);
    if (irand(2))
        for (l = 0; l < in->n; l++)
            for (b = 1; b <= NB; b++) {
                int read = gpin[l] ? b == gpin[l] : 0;
                for (k = 0; k < in->nc && !gpin[l]; k++)
                    read |= in->cand[k] == b;
                if (!read)
                    in->cost[l * NB + b - 1] = NAN;
            }
}

struct gbrute {
    int found, wb[MAXL];
    double best, second;
    int64_t min_size, min_bops;
};

/* Every assignment: one width per group (tie group or untied layer),
 * the group's pin if it has one, else any candidate. */
static void enumerate_general(const struct inst *in, struct gbrute *b)
{
    int grp[MAXL], gp[MAXL], ng = 0, idx[MAXL] = {0}, l, m, g, gpin[MAXL], wb[MAXL];
    long total = 1, it;

    group_pins(in, gpin);
    for (l = 0; l < in->n; l++) {
        grp[l] = -1;
        for (m = 0; m < l; m++)
            if (in->tie[l] >= 0 && in->tie[m] == in->tie[l])
                grp[l] = grp[m];
        if (grp[l] < 0) {
            gp[ng] = gpin[l];
            grp[l] = ng++;
        }
    }
    for (g = 0; g < ng; g++)
        total *= gp[g] ? 1 : in->nc;
    b->found = 0;
    b->best = b->second = INFINITY;
    b->min_size = b->min_bops = INT64_MAX;
    for (it = 0; it < total; it++) {
        long t = it;
        int64_t s = 0, bo = 0;
        double obj = 0;
        for (g = 0; g < ng; g++) {
            if (gp[g])
                continue;
            idx[g] = (int)(t % in->nc);
            t /= in->nc;
        }
        for (l = 0; l < in->n; l++) {
            g = grp[l];
            wb[l] = gp[g] ? gp[g] : in->cand[idx[g]];
            s += in->params[l] * wb[l];
            bo += in->macs[l] * wb[l] * in->abits;
            obj += in->cost[l * NB + wb[l] - 1];
        }
        if (s < b->min_size)
            b->min_size = s;
        if (bo < b->min_bops)
            b->min_bops = bo;
        if ((in->size > 0 && (double)s > in->size) || (in->bops > 0 && (double)bo > in->bops))
            continue;
        b->found = 1;
        if (obj < b->best) {
            b->second = b->best;
            b->best = obj;
            memcpy(b->wb, wb, sizeof wb);
        } else if (obj < b->second) {
            b->second = obj;
        }
    }
}

struct tally {
    int runs, ninf, unique, bad_feas, bad_obj, bad_budget, bad_min, bad_msg, bad_unique;
    int bad_bound, not_proven;
};

static void check_general(const char *what, struct inst *in, int general, struct tally *y)
{
    struct gbrute b;
    struct csq_alloc_problem p;
    struct csq_alloc_result r;
    int rc, l;
    double scale;

    enumerate_general(in, &b);
    fill_general(in, &p);
    p.general = general;
    csq_errclear();
    rc = csq_alloc_solve(&p, &r);
    y->runs++;
    if ((rc == 0) != b.found) {
        y->bad_feas++;
        diag("%s %d: rc %d, enumeration found %d (%s)", what, y->runs, rc, b.found,
             csq_errmsg());
        csq_alloc_result_release(&r);
        return;
    }
    if (r.min_size_bits != b.min_size || r.min_bops != b.min_bops)
        y->bad_min++;
    if (rc != 0) {
        char want[64];
        y->ninf++;
        snprintf(want, sizeof want, "size %lld bytes", (long long)((b.min_size + 7) / 8));
        if (rc != CSQ_EINFEASIBLE || !strstr(csq_errmsg(), want))
            y->bad_msg++;
        return;
    }
    scale = 1e-9 * fmax(1, fabs(b.best));
    if (fabs(r.objective - b.best) > scale) {
        y->bad_obj++;
        diag("%s %d: objective %.12g, enumeration %.12g", what, y->runs, r.objective, b.best);
    }
    if ((in->size > 0 && (double)r.size_bits > in->size)
        || (in->bops > 0 && (double)r.bops > in->bops))
        y->bad_budget++;
    if (r.relaxed_objective > r.objective + scale)
        y->bad_bound++;
    y->not_proven += !r.proven_optimal;
    if (b.second - b.best > 1e-6 * fmax(1, fabs(b.best))) {
        int same = 1;
        y->unique++;
        for (l = 0; l < in->n; l++)
            same &= r.wbits[l] == b.wb[l];
        if (!same) {
            y->bad_unique++;
            diag("%s %d: unique optimum differs at some layer", what, y->runs);
        }
    }
    csq_alloc_result_release(&r);
}

static void report(const char *what, const struct tally *y, int min_inf)
{
    diag("%s: %d instances, %d infeasible, %d with a unique optimum", what, y->runs, y->ninf,
         y->unique);
    ok(y->ninf >= min_inf && y->ninf <= y->runs / 2, "%s: a fair share is infeasible", what);
    is_int(y->bad_feas, 0, "%s: feasible exactly when enumeration finds an assignment", what);
    is_int(y->bad_obj, 0, "%s: optimal cost equals the enumerated optimum", what);
    is_int(y->bad_unique, 0, "%s: a unique optimum is the enumerated assignment", what);
    is_int(y->bad_budget, 0, "%s: budgets respected", what);
    is_int(y->bad_min, 0, "%s: reported minima equal the enumerated minima", what);
    is_int(y->bad_msg, 0, "%s: infeasible message names the smallest size in bytes", what);
    is_int(y->bad_bound, 0, "%s: relaxed objective is a lower bound", what);
    is_int(y->not_proven, 0, "%s: every result proven optimal", what);
}

static void general_vs_brute(void)
{
    struct tally y, z;
    struct inst in;
    int t;

    memset(&y, 0, sizeof y);
    for (t = 0; t < 600; t++) {
        make_general(&in, 0);
        check_general("general costs", &in, 0, &y);
    }
    report("general costs", &y, 30);
    ok(y.unique >= 200, "general costs: %d instances have a unique optimum", y.unique);

    /* the general search on linear costs (degenerate: every hull point
     * collinear), forced past the linear one */
    memset(&z, 0, sizeof z);
    for (t = 0; t < 200; t++) {
        make_instance(&in);
        linear_costs(in.score, in.n, in.cost);
        check_general("linear costs, general search", &in, 1, &z);
    }
    report("linear costs, general search", &z, 10);
}

/* Continuous knapsack with one size budget: every layer starts at the
 * smallest candidate cmin; the remaining budget buys width for layers in
 * decreasing score / params order, each up to cmax, the last one
 * fractionally.  Layers with score <= 0 stay at cmin.  Sizes are whole
 * bits, so the budget counts as its floor. */
static double greedy_fractional(const struct inst *in, double cmin, double cmax)
{
    int order[MAXL], l, m, n = in->n;
    double left = floor(in->size), obj = 0;

    for (l = 0; l < n; l++) {
        order[l] = l;
        left -= (double)in->params[l] * cmin;
        obj += in->score[l] * cmin;
    }
    for (l = 0; l < n; l++)
        for (m = l + 1; m < n; m++)
            if (in->score[order[m]] / in->params[order[m]]
                > in->score[order[l]] / in->params[order[l]]) {
                int t = order[l];
                order[l] = order[m];
                order[m] = t;
            }
    for (l = 0; l < n && left > 0; l++) {
        int j = order[l];
        double add = fmin(cmax - cmin, left / (double)in->params[j]);
        if (in->score[j] <= 0)
            break;
        obj += in->score[j] * add;
        left -= add * (double)in->params[j];
    }
    return obj;
}

static void relax_closed_form(void)
{
    int t, bad_lp = 0, bad_budget = 0, bad_round = 0, runs = 0;

    for (t = 0; t < 200; t++) {
        struct inst in;
        struct csq_alloc_problem p;
        struct csq_alloc_result r;
        int l, k, cmin = 99, cmax = 0;
        int64_t mins = 0;

        make_instance(&in);
        for (l = 0; l < in.n; l++) {
            in.pin[l] = 0;
            in.tie[l] = -1;
        }
        for (k = 0; k < in.nc; k++) {
            cmin = in.cand[k] < cmin ? in.cand[k] : cmin;
            cmax = in.cand[k] > cmax ? in.cand[k] : cmax;
        }
        for (l = 0; l < in.n; l++)
            mins += in.params[l] * cmin;
        in.bops = 0;
        in.size = (double)mins + drand() * (double)mins * 3;
        fill_problem(&in, &p);
        p.relax = 1;
        if (csq_alloc_solve(&p, &r) != 0) {
            bad_lp++;
            continue;
        }
        runs++;
        if (fabs(-r.relaxed_objective - greedy_fractional(&in, cmin, cmax))
            > 1e-9 * fmax(1e-3, fabs(r.relaxed_objective)))
            bad_lp++;
        if ((double)r.size_bits > in.size)
            bad_budget++;
        for (l = 0; l < in.n; l++) {
            int inset = 0;
            for (k = 0; k < in.nc; k++)
                inset |= r.wbits[l] == in.cand[k];
            bad_round += !inset;
        }
        if (r.objective < r.relaxed_objective - 1e-12 || r.proven_optimal)
            bad_round++;
        csq_alloc_result_release(&r);
    }
    is_int(runs, 200, "relax: every single-budget instance solves");
    is_int(bad_lp, 0, "relax: LP optimum equals the greedy fractional knapsack");
    is_int(bad_budget, 0, "relax: rounding down never exceeds the budget");
    is_int(bad_round, 0, "relax: widths are candidates, objective below the LP bound");
}

/* Larger instances than enumeration reaches, against dynamic programming
 * over the size budget: 40 layers of 1..12 weights, one size budget, 5
 * consecutive candidates (so the integer-width columns of convex runs are
 * used) or 4 scattered ones, any of the cost kinds. */
static void dp_vs_general(void)
{
    enum { L = 40, C = 5, SMAX = L * 12 * 10 };
    static double cost[L * NB], dp[SMAX + 1], nx[SMAX + 1];
    int64_t params[L], macs[L];
    int t, l, k, s, bad = 0, bad_proven = 0, runs = 0;

    for (t = 0; t < 60; t++) {
        int cand[C], nc = t % 2 ? 4 : 5, c0 = 2 + irand(3), smin = 0, cap;
        struct csq_alloc_problem p = {0};
        struct csq_alloc_result r;
        double best = INFINITY;

        for (k = 0; k < nc; k++)
            cand[k] = nc == 5 ? c0 + k : 2 + 2 * k + (k == 3);
        for (l = 0; l < L; l++) {
            cost_row(&cost[l * NB], t % 5 == 4 ? irand(4) : t % 4);
            params[l] = 1 + irand(12);
            macs[l] = 1;
            smin += (int)params[l] * cand[0];
        }
        cap = smin + irand(smin);
        for (s = 0; s <= SMAX; s++)
            dp[s] = s == 0 ? 0 : INFINITY;
        for (l = 0; l < L; l++) { /* dp[s]: least cost of layers < l at size exactly s */
            for (s = 0; s <= SMAX; s++)
                nx[s] = INFINITY;
            for (s = 0; s <= SMAX; s++)
                for (k = 0; k < nc && dp[s] < INFINITY; k++) {
                    int ns = s + (int)params[l] * cand[k];
                    double v = dp[s] + cost[l * NB + cand[k] - 1];
                    if (ns <= SMAX && v < nx[ns])
                        nx[ns] = v;
                }
            memcpy(dp, nx, sizeof dp);
        }
        for (s = 0; s <= cap; s++)
            best = fmin(best, dp[s]);
        p.nlayers = L;
        p.cost = cost;
        p.params = params;
        p.macs = macs;
        p.cand = cand;
        p.ncand = nc;
        p.abits = 1;
        p.size_bits = cap;
        if (csq_alloc_solve(&p, &r) != 0) {
            bad++;
            continue;
        }
        runs++;
        if (fabs(r.objective - best) > 1e-9 * fmax(1, fabs(best))) {
            bad++;
            diag("dp %d: objective %.12g, dynamic programming %.12g", t, r.objective, best);
        }
        bad_proven += !r.proven_optimal || r.size_bits > cap;
        csq_alloc_result_release(&r);
    }
    is_int(runs, 60, "40 layers, general costs: every instance solves");
    is_int(bad, 0, "40 layers, general costs: optimum equals dynamic programming");
    is_int(bad_proven, 0, "40 layers, general costs: proven, within the budget");
}

/* Continuous relaxation of one size budget over any costs: each layer
 * starts at the smallest candidate; its next step is the wider candidate
 * of steepest cost descent (gift wrapping of the lower hull), and the
 * budget buys steps across layers in order of cost decrease per bit,
 * the last one fractionally. */
static double hull_fractional(const struct inst *in)
{
    double dc[MAXL * 5], used[MAXL * 5], left = floor(in->size), obj = 0;
    int n = 0, l, i, j, k, done[MAXL * 5] = {0};
    int sorted[5];

    for (k = 0; k < in->nc; k++)
        sorted[k] = in->cand[k];
    for (i = 0; i < in->nc; i++)
        for (j = i + 1; j < in->nc; j++)
            if (sorted[j] < sorted[i]) {
                k = sorted[i];
                sorted[i] = sorted[j];
                sorted[j] = k;
            }
    for (l = 0; l < in->n; l++) {
        const double *c = &in->cost[l * NB];
        int at = sorted[0];
        obj += c[at - 1];
        left -= (double)in->params[l] * at;
        for (;;) {
            int nb = 0;
            double best = 0;
            for (k = 0; k < in->nc; k++) {
                int b = sorted[k];
                double slope = (c[b - 1] - c[at - 1]) / (b - at);
                if (b > at && slope < best) {
                    best = slope;
                    nb = b;
                }
            }
            if (!nb)
                break;
            dc[n] = c[nb - 1] - c[at - 1];
            used[n++] = (double)in->params[l] * (nb - at);
            at = nb;
        }
    }
    for (;;) { /* steps of one layer come out in order: their ratios fall */
        int b = -1;
        for (i = 0; i < n; i++)
            if (!done[i] && (b < 0 || dc[i] / used[i] < dc[b] / used[b]))
                b = i;
        if (b < 0 || left <= 0)
            break;
        done[b] = 1;
        obj += dc[b] * fmin(1, left / used[b]);
        left -= used[b];
    }
    return obj;
}

static void relax_general(void)
{
    int t, bad_lp = 0, bad_budget = 0, bad_round = 0, runs = 0;

    for (t = 0; t < 200; t++) {
        struct inst in;
        struct csq_alloc_problem p;
        struct csq_alloc_result r;
        int l, k, cmin = 99;
        int64_t mins = 0;

        make_general(&in, 1);
        for (k = 0; k < in.nc; k++)
            cmin = in.cand[k] < cmin ? in.cand[k] : cmin;
        for (l = 0; l < in.n; l++)
            mins += in.params[l] * cmin;
        in.bops = 0;
        in.size = (double)mins + drand() * (double)mins * 3;
        fill_general(&in, &p);
        p.relax = 1;
        if (csq_alloc_solve(&p, &r) != 0) {
            bad_lp++;
            continue;
        }
        runs++;
        if (fabs(r.relaxed_objective - hull_fractional(&in))
            > 1e-9 * fmax(1, fabs(r.relaxed_objective))) {
            bad_lp++;
            diag("relax %d: LP %.12g, closed form %.12g", t, r.relaxed_objective,
                 hull_fractional(&in));
        }
        if ((double)r.size_bits > in.size)
            bad_budget++;
        for (l = 0; l < in.n; l++) {
            int inset = 0;
            for (k = 0; k < in.nc; k++)
                inset |= r.wbits[l] == in.cand[k];
            bad_round += !inset;
        }
        if (r.objective < r.relaxed_objective - 1e-9 * fmax(1, fabs(r.objective))
            || r.proven_optimal)
            bad_round++;
        csq_alloc_result_release(&r);
    }
    is_int(runs, 200, "relax, general costs: every single-budget instance solves");
    is_int(bad_lp, 0, "relax, general costs: LP optimum equals the fractional hull knapsack");
    is_int(bad_budget, 0, "relax, general costs: rounding down never exceeds the budget");
    is_int(bad_round, 0, "relax, general costs: widths are candidates, cost above the LP bound");
}

/* Solve twice with candidates {4, 2, 3} and a size budget of 180 bits:
 * the same assignment both times, the canonical one (want), objective
 * want_obj, mean width 3. */
static void canon_case(const char *what, const double *cost, const int64_t *params,
                       const int64_t *macs, int n, const int *want, double want_obj)
{
    int cand[3] = {4, 2, 3}, l, same = 1, canon = 1;
    struct csq_alloc_problem p = {0};
    struct csq_alloc_result a, b;

    p.nlayers = n;
    p.cost = cost;
    p.params = params;
    p.macs = macs;
    p.cand = cand;
    p.ncand = 3;
    p.abits = 8;
    p.size_bits = 10 * (3 * 4 + 3 * 2);
    if (!ok(csq_alloc_solve(&p, &a) == 0 && csq_alloc_solve(&p, &b) == 0, "%s: solves", what))
        return;
    for (l = 0; l < n; l++) {
        same &= a.wbits[l] == b.wbits[l];
        canon &= a.wbits[l] == want[l];
    }
    ok(same, "%s: two solves give the same assignment", what);
    ok(canon, "%s: the canonical optimum (%d %d %d %d %d %d ...)", what, a.wbits[0], a.wbits[1],
       a.wbits[2], a.wbits[3], a.wbits[4], a.wbits[5]);
    is_near(a.objective, want_obj, 1e-12, "%s: objective", what);
    is_near(a.mean_wbits, 3.0, 1e-12, "%s: mean_wbits is size / params", what);
    csq_alloc_result_release(&a);
    csq_alloc_result_release(&b);
}

/* General costs: the same canonical rules as for scores. */
static void determinism_general(void)
{
    /* six identical layers with 2 -> 1, 3 -> 0.9, 4 -> 0 (not convex), a
     * budget for three at 4 bits and three at 2: the optimum splits them
     * and the earlier twins get the wider width; a seventh layer without
     * weights costs the same at 2 and 4 bits and takes 2 */
    double cost[7 * NB];
    int64_t params[7] = {10, 10, 10, 10, 10, 10, 0}, macs[7] = {7, 7, 7, 7, 7, 7, 0};
    int want[7] = {4, 4, 4, 2, 2, 2, 2}, l;

    for (l = 0; l < 7 * NB; l++)
        cost[l] = NAN;
    for (l = 0; l < 6; l++) {
        cost[l * NB + 1] = 1;
        cost[l * NB + 2] = 0.9;
        cost[l * NB + 3] = 0;
    }
    cost[6 * NB + 1] = 0.5;
    cost[6 * NB + 2] = 0.7;
    cost[6 * NB + 3] = 0.5;
    canon_case("general costs", cost, params, macs, 7, want, 3 * 1 + 3 * 0 + 0.5);
}

/* 200 layers, 7 candidates, both budgets: convex and non-convex costs,
 * and the general search on linear costs against the linear search. */
static void large_general(void)
{
    enum { N = 200 };
    static double cost[N * NB], score[N];
    static int64_t params[N], macs[N];
    int cand[7] = {2, 3, 4, 5, 6, 7, 8}, l, kind;
    double tp = 0, tm = 0;
    struct csq_alloc_problem p = {0};
    struct csq_alloc_result r, q;

    for (l = 0; l < N; l++) {
        params[l] = (int64_t)exp(log(1e3) + drand() * log(1e3));
        macs[l] = (int64_t)exp(log(1e6) + drand() * log(1e2));
        tp += (double)params[l];
        tm += (double)macs[l];
    }
    p.nlayers = N;
    p.cost = cost;
    p.params = params;
    p.macs = macs;
    p.cand = cand;
    p.ncand = 7;
    p.abits = 8;
    p.size_bits = tp * 4.5;
    p.bops = tm * 8 * 5.0;
    for (kind = 0; kind < 2; kind++) {
        for (l = 0; l < N; l++)
            cost_row(&cost[l * NB], kind);
        ok(csq_alloc_solve(&p, &r) == 0 && r.proven_optimal, "200 x 7, %s costs: proven",
           kind ? "random" : "convex");
        ok((double)r.size_bits <= p.size_bits && (double)r.bops <= p.bops,
           "200 x 7: within budget");
        p.time_limit = 1e-9;
        ok(csq_alloc_solve(&p, &q) == 0 && !q.proven_optimal
           && (double)q.size_bits <= p.size_bits && (double)q.bops <= p.bops
           && q.objective >= r.objective - 1e-9 * fabs(r.objective),
           "200 x 7: tiny time limit gives a feasible, unproven assignment");
        p.time_limit = 0;
        csq_alloc_result_release(&r);
        csq_alloc_result_release(&q);
    }
    for (l = 0; l < N; l++)
        score[l] = 0.005 + 0.015 * drand();
    linear_costs(score, N, cost);
    ok(csq_alloc_solve(&p, &r) == 0, "200 x 7 linear: linear search");
    p.general = 1;
    ok(csq_alloc_solve(&p, &q) == 0 && q.proven_optimal, "200 x 7 linear: general search");
    is_near(q.objective, r.objective, 1e-9 * fabs(r.objective),
            "200 x 7 linear: both searches reach the same optimum");
    csq_alloc_result_release(&r);
    csq_alloc_result_release(&q);
}

static void canon_case(const char *what, const double *cost, const int64_t *params,
                       const int64_t *macs, int n, const int *want, double want_obj);

static void determinism(void)
{
    /* six identical layers, budget for three at 4 bits and three at 2:
     * any split is optimal; the canonical one gives the earlier layers
     * the wider width */
    double score[6] = {0.5, 0.5, 0.5, 0.5, 0.5, 0.5}, cost[6 * NB];
    int64_t params[6] = {10, 10, 10, 10, 10, 10}, macs[6] = {7, 7, 7, 7, 7, 7};
    int want[6] = {4, 4, 4, 2, 2, 2};

    linear_costs(score, 6, cost);
    canon_case("equal scores", cost, params, macs, 6, want, -0.5 * 18);
}

static void large_and_time_limit(void)
{
    enum { N = 300 };
    static double score[N], cost[N * NB];
    static int64_t params[N], macs[N];
    int cand[7] = {2, 3, 4, 5, 6, 7, 8}, l;
    double tp = 0, tm = 0;
    struct csq_alloc_problem p = {0};
    struct csq_alloc_result r, q;

    for (l = 0; l < N; l++) {
        score[l] = 0.005 + 0.015 * drand();
        params[l] = (int64_t)exp(log(1e3) + drand() * log(1e3));
        macs[l] = (int64_t)exp(log(1e6) + drand() * log(1e2));
        tp += (double)params[l];
        tm += (double)macs[l];
    }
    linear_costs(score, N, cost);
    p.nlayers = N;
    p.cost = cost;
    p.params = params;
    p.macs = macs;
    p.cand = cand;
    p.ncand = 7;
    p.abits = 8;
    p.size_bits = tp * 4.5;
    p.bops = tm * 8 * 5.0;
    ok(csq_alloc_solve(&p, &r) == 0 && r.proven_optimal, "300 x 7, both budgets: proven");
    ok((double)r.size_bits <= p.size_bits && (double)r.bops <= p.bops, "300 x 7: within budget");
    p.time_limit = 1e-9;
    ok(csq_alloc_solve(&p, &q) == 0, "tiny time limit still returns an assignment");
    ok(!q.proven_optimal, "tiny time limit: not proven optimal");
    ok((double)q.size_bits <= p.size_bits && (double)q.bops <= p.bops, "time limit: within budget");
    ok(q.objective >= r.objective - 1e-12, "time limit: cost not below the optimum");
    csq_alloc_result_release(&r);
    csq_alloc_result_release(&q);
}

static void errors_and_presets(void)
{
    double score[2] = {1, 1}, cost[2 * NB], lin[2 * NB];
    int64_t params[2] = {100, 100}, macs[2] = {1000, 1000};
    int cand[3] = {2, 3, 4}, pin[2] = {4, 8}, tie[2] = {0, 0}, n, pfl;
    const char *names[2] = {"conv1", "fc"};
    struct csq_alloc_problem p = {0};
    struct csq_alloc_result r;
    int c[16], pins[5] = {0, 0, 3, 0, 0};

    linear_costs(score, 2, cost);
    csq_alloc_cost_linear(score, 2, lin);
    ok(memcmp(cost, lin, sizeof cost) == 0, "csq_alloc_cost_linear: -score x b at every width");
    p.nlayers = 2;
    p.names = names;
    p.cost = cost;
    p.params = params;
    p.macs = macs;
    p.cand = cand;
    p.ncand = 3;
    p.abits = 8;
    p.pin = pin;
    p.tie_group = tie;
    csq_errclear();
    is_int(csq_alloc_solve(&p, &r), CSQ_EINVAL, "conflicting pins in a tie: EINVAL");
    ok(strstr(csq_errmsg(), "'conv1'") && strstr(csq_errmsg(), "'fc'"), "message names both: %s",
       csq_errmsg());
    p.pin = NULL;
    p.tie_group = NULL;
    p.size_bits = 100 * 2 * 2 - 1; /* one bit short of all at 2 bits */
    csq_errclear();
    is_int(csq_alloc_solve(&p, &r), CSQ_EINFEASIBLE, "budget below the minimum: EINFEASIBLE");
    is_int(r.min_size_bits, 400, "min size bits");
    is_int(r.min_bops, 2 * 1000 * 2 * 8, "min BOPs");
    ok(strstr(csq_errmsg(), "50 bytes") != NULL, "message gives 50 bytes: %s", csq_errmsg());
    p.size_bits = 400;
    ok(csq_alloc_solve(&p, &r) == 0 && r.wbits[0] == 2 && r.wbits[1] == 2, "exact budget fits");
    csq_alloc_result_release(&r);

    ok(csq_alloc_preset("ptq", c, &n, &pfl) == 0 && n == 3 && c[0] == 2 && c[2] == 4 && pfl == 0,
       "preset ptq");
    ok(csq_alloc_preset("qat", c, &n, &pfl) == 0 && n == 5 && c[0] == 4 && c[4] == 8 && pfl == 8,
       "preset qat");
    csq_errclear();
    is_int(csq_alloc_preset("fp8", c, &n, &pfl), CSQ_EUSAGE, "unknown preset");
    csq_alloc_pin_first_last(pins, 5, 8);
    ok(pins[0] == 8 && pins[4] == 8 && pins[2] == 3 && pins[1] == 0, "pin first and last");
}

int main(void)
{
    random_vs_brute();
    general_vs_brute();
    dp_vs_general();
    relax_closed_form();
    relax_general();
    determinism();
    determinism_general();
    large_and_time_limit();
    large_general();
    errors_and_presets();
    return tap_done();
}
