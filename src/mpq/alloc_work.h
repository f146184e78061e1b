/*
 * alloc_work: the allocator's working state, shared by alloc.c (input,
 * groups, canonical choice, result) and its two exact searches:
 * alloc_lin.c for costs linear in the width (the TF-IDF case) and
 * alloc_mck.c for any cost table.  Internal to the allocator.
 */
#ifndef CSQ_ALLOC_WORK_H
#define CSQ_ALLOC_WORK_H

#include <stdint.h>

#include "mpq/alloc.h"

/* One tie group (or untied layer): the unit the program chooses for. */
struct csq_alloc_grp {
    double s;        /* linear costs: summed score, cost = -s x width */
    const double *c; /* [nc] summed cost at each candidate (any costs) */
    int64_t p;       /* summed params */
    int64_t q;       /* summed macs * abits */
    int first;       /* first member layer, for order and messages */
    int pin;         /* 0 = free */
    int w;           /* chosen width */
};

struct csq_alloc_work {
    const struct csq_alloc_problem *pb;
    int ng, nf;
    struct csq_alloc_grp *g;
    int *layer_grp;       /* [nlayers] */
    int *free_idx;        /* [nf] group index of each free group */
    double *gcost;        /* [ng][nc] storage behind grp.c */
    int cand[CSQ_ALLOC_MAXBITS]; /* ascending */
    int nc;
    int linear;           /* every layer's cost is slope x width */
    int64_t size_cap;     /* residual budgets for free groups; INT64_MAX: none */
    int64_t bops_cap;
    double deadline;      /* monotonic seconds, 0 = none */
    long long node_limit; /* branch-and-bound nodes, 0 = none */
};

/* The free group j (0..nf-1). */
#define CSQ_ALLOC_FREE(w, j) (&(w)->g[(w)->free_idx[j]])

/* Both budgets hold for widths wid[nf] of the free groups. */
int csq_alloc_fits(const struct csq_alloc_work *w, const int *wid);
/* csq_lp_set_stop callback: the deadline or the node limit passed. */
int csq_alloc_stop(void *work, long long nodes);
/* Round mean widths x[nf] down to allowed candidates: ok(w, j, k) says
 * whether candidate k may be taken by free group j (NULL: all).  LP
 * round-off is tolerated first, then not; all-smallest is the fallback,
 * feasible by the initial check. */
void csq_alloc_round_down(const struct csq_alloc_work *w, const double *x,
                          int (*ok)(const struct csq_alloc_work *w, int j, int k), int *wid);

/* The searches.  Widths of the free groups into wid[nf]; *proven = 1 for a
 * proven optimum (never with relax); *lpobj = the continuous relaxation's
 * optimum over the free groups: sum s x width for alloc_lin (maximized),
 * sum cost for alloc_mck (minimized). */
int csq_alloc_lin_solve(struct csq_alloc_work *w, int *wid, int *proven, double *lpobj);
int csq_alloc_mck_solve(struct csq_alloc_work *w, int *wid, int *proven, double *lpobj);

#endif
