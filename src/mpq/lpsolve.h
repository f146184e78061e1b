/*
 * lpsolve: the small part of lp_solve the allocator uses, behind csq_lp_*
 * names, so lp_lib.h (whose REAL, TRUE, OPTIMAL... are unprefixed) is
 * included by lpsolve.c alone.
 *
 * Columns and rows are numbered from 0.  All rows are added first; the
 * first call of any other setter ends the row phase.  lp_solve runs
 * single-threaded, silent and with fixed settings, so a model built in the
 * same order gives the same answer.
 *
 *     struct csq_lp *lp;
 *     if ((rc = csq_lp_new(ncol, CSQ_LP_MIN, &lp)) != 0) return rc;
 *     csq_lp_add_row(lp, n, val, col, CSQ_LP_LE, rhs);    ... more rows
 *     csq_lp_set_objective(lp, n, val, col);
 *     st = csq_lp_solve(lp);  ... csq_lp_variables(lp, x);
 *     csq_lp_free(lp);
 */
#ifndef CSQ_LPSOLVE_H
#define CSQ_LPSOLVE_H

struct csq_lp;

enum csq_lp_sense { CSQ_LP_MIN, CSQ_LP_MAX };
enum csq_lp_rowtype { CSQ_LP_LE, CSQ_LP_GE, CSQ_LP_EQ };

enum csq_lp_status {
    CSQ_LP_OPTIMAL,    /* proven (a MIP: within its gaps) */
    CSQ_LP_SUBOPTIMAL, /* a MIP stopped early with a solution */
    CSQ_LP_NOSOLUTION  /* infeasible, stopped without a solution, or failed */
};

/* CSQ_ENOMEM (with a message) when lp_solve cannot make the model. */
int csq_lp_new(int ncol, enum csq_lp_sense sense, struct csq_lp **out);
void csq_lp_free(struct csq_lp *lp);

/* Row sum_i val[i] x[col[i]] (type) rhs.  CSQ_ENOMEM on failure. */
int csq_lp_add_row(struct csq_lp *lp, int n, const double *val, const int *col,
                   enum csq_lp_rowtype type, double rhs);
void csq_lp_set_objective(struct csq_lp *lp, int n, const double *val, const int *col);
void csq_lp_set_bounds(struct csq_lp *lp, int col, double lo, double hi);
void csq_lp_set_int(struct csq_lp *lp, int col);
void csq_lp_set_binary(struct csq_lp *lp, int col);

/* Keep the dual prices of the rows for csq_lp_duals (the LP solve pays
 * for a sensitivity analysis). */
void csq_lp_want_duals(struct csq_lp *lp);
/* Branching rules the allocator measured fastest, each depth first
 * toward the ceiling branch with reduced-cost fixing: on the greedy
 * choice of variable (integer widths, linear costs) or on the most
 * fractional one (one binary per width, any costs). */
enum csq_lp_branch { CSQ_LP_BRANCH_GREEDY, CSQ_LP_BRANCH_FRACTION };

/* Branch and bound stops at an absolute / relative gap between the
 * incumbent and the bound. */
void csq_lp_set_mip(struct csq_lp *lp, double abs_gap, double rel_gap, enum csq_lp_branch rule);
/* stop(user, nodes) is asked during branch and bound; nonzero ends it. */
void csq_lp_set_stop(struct csq_lp *lp, int (*stop)(void *user, long long nodes), void *user);

/* raw, when not NULL, gets lp_solve's own status code for messages. */
enum csq_lp_status csq_lp_solve(struct csq_lp *lp, int *raw);
double csq_lp_objective(struct csq_lp *lp);
/* x[ncol] gets the solution. */
void csq_lp_variables(struct csq_lp *lp, double *x);
/* duals[nrow] gets the dual prices (after csq_lp_want_duals); 0 when
 * lp_solve has none. */
int csq_lp_duals(struct csq_lp *lp, double *duals, int nrow);

#endif
