/*
 * lpsolve: the lp_solve adapter (see lpsolve.h).  The only file that
 * includes lp_lib.h.
 */
#include "config.h"

#include <stdlib.h>

#include <lp_lib.h>

#include "mpq/lpsolve.h"
#include "util/err.h"
#include "util/mem.h"

struct csq_lp {
    lprec *lp;
    int ncol;
    int rowmode;  /* still adding rows */
    int *idx;     /* [ncol] 1-based column numbers for lp_solve */
    int (*stop)(void *user, long long nodes);
    void *user;
};

int csq_lp_new(int ncol, enum csq_lp_sense sense, struct csq_lp **out)
{
    struct csq_lp *m = calloc(1, sizeof *m);

    *out = NULL;
    if (!m)
        return CSQ_ENOMEM;
    m->ncol = ncol;
    m->idx = csq_mem_array((size_t)ncol + 1, sizeof *m->idx);
    if (!m->idx) {
        free(m);
        return CSQ_ENOMEM;
    }
    m->lp = make_lp(0, ncol);
    if (!m->lp) {
        free(m->idx);
        free(m);
        return csq_fail(CSQ_ENOMEM, "lp_solve: cannot create a model of %d columns", ncol);
    }
    set_verbose(m->lp, NEUTRAL);
    if (sense == CSQ_LP_MAX)
        set_maxim(m->lp);
    set_add_rowmode(m->lp, TRUE);
    m->rowmode = 1;
    *out = m;
    return CSQ_OK;
}

void csq_lp_free(struct csq_lp *m)
{
    if (!m)
        return;
    delete_lp(m->lp);
    free(m->idx);
    free(m);
}

static void end_rows(struct csq_lp *m)
{
    if (m->rowmode) {
        set_add_rowmode(m->lp, FALSE);
        m->rowmode = 0;
    }
}

/* lp_solve numbers columns from 1 and takes non-const arrays. */
static int *columns(struct csq_lp *m, int n, const int *col)
{
    int i;

    for (i = 0; i < n; i++)
        m->idx[i] = col[i] + 1;
    return m->idx;
}

int csq_lp_add_row(struct csq_lp *m, int n, const double *val, const int *col,
                   enum csq_lp_rowtype type, double rhs)
{
    static const int kind[] = {LE, GE, EQ};

    if (!add_constraintex(m->lp, n, (REAL *)val, columns(m, n, col), kind[type], rhs))
        return csq_fail(CSQ_ENOMEM, "lp_solve: cannot add a row");
    return CSQ_OK;
}

void csq_lp_set_objective(struct csq_lp *m, int n, const double *val, const int *col)
{
    end_rows(m);
    set_obj_fnex(m->lp, n, (REAL *)val, columns(m, n, col));
}

void csq_lp_set_bounds(struct csq_lp *m, int col, double lo, double hi)
{
    end_rows(m);
    set_bounds(m->lp, col + 1, lo, hi);
}

void csq_lp_set_int(struct csq_lp *m, int col)
{
    end_rows(m);
    set_int(m->lp, col + 1, TRUE);
}

void csq_lp_set_binary(struct csq_lp *m, int col)
{
    end_rows(m);
    set_binary(m->lp, col + 1, TRUE);
}

void csq_lp_want_duals(struct csq_lp *m)
{
    end_rows(m);
    set_presolve(m->lp, PRESOLVE_DUALS | PRESOLVE_SENSDUALS, get_presolveloops(m->lp));
}

void csq_lp_set_mip(struct csq_lp *m, double abs_gap, double rel_gap, enum csq_lp_branch rule)
{
    end_rows(m);
    set_mip_gap(m->lp, TRUE, abs_gap);
    set_mip_gap(m->lp, FALSE, rel_gap);
    set_bb_rule(m->lp, (rule == CSQ_LP_BRANCH_GREEDY ? NODE_GREEDYMODE : NODE_FRACTIONSELECT)
                           | NODE_RCOSTFIXING);
    set_bb_floorfirst(m->lp, BRANCH_CEILING);
}

static int __WINAPI abort_cb(lprec *lp, void *user)
{
    const struct csq_lp *m = user;

    return m->stop(m->user, (long long)get_total_nodes(lp));
}

void csq_lp_set_stop(struct csq_lp *m, int (*stop)(void *user, long long nodes), void *user)
{
    end_rows(m);
    m->stop = stop;
    m->user = user;
    put_abortfunc(m->lp, abort_cb, m);
}

enum csq_lp_status csq_lp_solve(struct csq_lp *m, int *raw)
{
    int ret;

    end_rows(m);
    ret = solve(m->lp);
    if (raw)
        *raw = ret;
    if (ret == OPTIMAL)
        return CSQ_LP_OPTIMAL;
    return ret == SUBOPTIMAL ? CSQ_LP_SUBOPTIMAL : CSQ_LP_NOSOLUTION;
}

double csq_lp_objective(struct csq_lp *m)
{
    return get_objective(m->lp);
}

void csq_lp_variables(struct csq_lp *m, double *x)
{
    get_variables(m->lp, x);
}

int csq_lp_duals(struct csq_lp *m, double *duals, int nrow)
{
    REAL *d = NULL, *from, *till;
    int i;

    if (!get_ptr_sensitivity_rhs(m->lp, &d, &from, &till) || !d) {
        for (i = 0; i < nrow; i++)
            duals[i] = 0;
        return 0;
    }
    for (i = 0; i < nrow; i++)
        duals[i] = d[i];
    return 1;
}
