/*
 * bench-alloc: time csq_alloc_solve on random cost tables, in process (no
 * table to read, so the solver alone).  Not a test: built on demand with
 * `make tests/bench/bench-alloc`.
 *
 * usage: tests/bench/bench-alloc [--layers N] [--wbits LIST] [--instances K]
 *            [--costs linear|convex|random|bowl] [--general] [--seed S]
 *
 * Instances as scripts/bench-allocate makes them: log-uniform params and
 * MACs, a size and a BOPs budget each at a random point between the
 * all-smallest and the all-largest assignment.  linear is -score x b with
 * scores in [0.001, 0.1] (TF-IDF); convex is a x 2^(-r b) (a quantizer's
 * error); random draws every cost uniformly in [-1, 1] (neither convex nor
 * monotone); bowl rises again past a random width.  --general forces the
 * general search on linear costs.
 */
#include "config.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mpq/alloc.h"
#include "util/err.h"

#define NB CSQ_ALLOC_MAXBITS

static uint64_t rng = 88172645463325252ULL;

static double drand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (double)(rng >> 11) / 9007199254740992.0;
}

static double now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int main(int argc, char **argv)
{
    int n = 300, k, inst = 10, general = 0, cand[NB], nc = 0, i, l, b;
    const char *costs = "random", *wbits = "2,3,4,5,6,7,8";
    double worst = 0;

    for (i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--layers") && i + 1 < argc)
            n = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--wbits") && i + 1 < argc)
            wbits = argv[++i];
        else if (!strcmp(argv[i], "--instances") && i + 1 < argc)
            inst = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--costs") && i + 1 < argc)
            costs = argv[++i];
        else if (!strcmp(argv[i], "--seed") && i + 1 < argc)
            rng += (uint64_t)atoll(argv[++i]) * 0x9E3779B97F4A7C15ULL;
        else if (!strcmp(argv[i], "--general"))
            general = 1;
        else {
            fprintf(stderr, "usage: bench-alloc [--layers N] [--wbits LIST] [--instances K] "
                    "[--costs linear|convex|random|bowl] [--general] [--seed S]\n");
            return 2;
        }
    }
    for (const char *s = wbits; *s && nc < NB; s++) {
        cand[nc++] = (int)strtol(s, (char **)&s, 10);
        if (!*s)
            break;
    }
    if (n <= 0 || inst <= 0 || nc == 0) {
        fprintf(stderr, "bench-alloc: bad --layers, --instances or --wbits\n");
        return 2;
    }
    printf("# tests/bench/bench-alloc --layers %d --wbits %s --instances %d --costs %s%s\n", n,
           wbits, inst, costs, general ? " --general" : "");
    printf("instance\tseconds\tsolver\n");
    for (k = 0; k < inst; k++) {
        double *cost = malloc((size_t)n * NB * sizeof *cost), t0, dt, tp = 0, tm = 0;
        int64_t *params = malloc((size_t)n * sizeof *params);
        int64_t *macs = malloc((size_t)n * sizeof *macs);
        int cmin = 99, cmax = 0;
        struct csq_alloc_problem p;
        struct csq_alloc_result r;
        int rc;

        if (!cost || !params || !macs)
            return 1;
        for (i = 0; i < nc; i++) {
            cmin = cand[i] < cmin ? cand[i] : cmin;
            cmax = cand[i] > cmax ? cand[i] : cmax;
        }
        for (l = 0; l < n; l++) {
            double a = 0.1 + 10 * drand(), rr = 0.3 + drand(), b0 = 2 + 6 * drand();
            double s = 0.001 + 0.099 * drand();
            params[l] = (int64_t)pow(10, 2 + 4.5 * drand());
            macs[l] = (int64_t)((double)params[l] * pow(10, 3 * drand()));
            tp += (double)params[l];
            tm += (double)macs[l];
            for (b = 1; b <= NB; b++) {
                double *c = &cost[l * NB + b - 1];
                if (!strcmp(costs, "linear"))
                    *c = -s * b;
                else if (!strcmp(costs, "convex"))
                    *c = a * exp2(-rr * b);
                else if (!strcmp(costs, "bowl"))
                    *c = 0.05 * a * (b - b0) * (b - b0);
                else
                    *c = 2 * drand() - 1;
            }
        }
        memset(&p, 0, sizeof p);
        p.nlayers = n;
        p.cost = cost;
        p.params = params;
        p.macs = macs;
        p.cand = cand;
        p.ncand = nc;
        p.abits = 8;
        p.size_bits = cmin * tp + (0.2 + 0.6 * drand()) * (cmax - cmin) * tp;
        p.bops = 8 * (cmin * tm + (0.2 + 0.6 * drand()) * (cmax - cmin) * tm);
        p.general = general;
        t0 = now();
        rc = csq_alloc_solve(&p, &r);
        dt = now() - t0;
        if (rc != 0) {
            fprintf(stderr, "bench-alloc: %s\n", csq_errmsg());
            return 1;
        }
        worst = dt > worst ? dt : worst;
        printf("%d\t%.4f\t%s, objective %.6g\n", k, dt,
               r.proven_optimal ? "proven optimal" : "NOT proven", r.objective);
        csq_alloc_result_release(&r);
        free(cost);
        free(params);
        free(macs);
    }
    printf("max\t%.4f\n", worst);
    return 0;
}
