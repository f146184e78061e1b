/*
 * sweep: one statistics pass, many budgets, and their evaluation with the
 * work rows share done once (see sweep.h).
 */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mpq/alloc.h"
#include "mpq/qsim.h"
#include "mpq/stats.h"
#include "mpq/sweep.h"
#include "nn/engine.h"
#include "util/err.h"
#include "util/limits.h"
#include "util/mem.h"
#include "util/units.h"

char *csq_sweep_budget_text(const struct csq_sweep_budget *b, char *buf, size_t n)
{
    char a[32];

    switch (b->kind) {
    case CSQ_SWEEP_AVG_BITS: snprintf(buf, n, "mean_wbits<=%g", b->value); break;
    case CSQ_SWEEP_SIZE:
        snprintf(buf, n, "size<=%s", csq_units_fmt_bytes(b->value, a, sizeof a));
        break;
    case CSQ_SWEEP_BOPS:
        snprintf(buf, n, "bops<=%s", csq_units_fmt_count(b->value, a, sizeof a));
        break;
    case CSQ_SWEEP_UNIFORM: snprintf(buf, n, "uniform %g", b->value); break;
    }
    return buf;
}

/* The cost table every row is solved from: one pass of the model over
 * src.  TF-IDF's score table becomes the cost -score x b in
 * csq_plan_solve, exactly as allocate does; another criterion's table
 * carries a cost column for each candidate and pinned width, as analyze's
 * does (uniform rows take the candidates, so they are columns too). */
static int sweep_table(const struct csq_graph *g, const struct csq_source *src,
                       const struct csq_sweep_request *r, struct csq_scoretab *t)
{
    struct csq_score_request sr = r->score;
    int rc;

    if (sr.criterion != CSQ_CRIT_TFIDF && sr.nwidths == 0 &&
        (rc = csq_plan_widths(r->plan, sr.widths, &sr.nwidths)) != 0)
        return rc;
    return csq_score_model(g, r->model, src, &sr, t);
}

/* Row i's plan request: the shared options with the row's budget alone.
 * A uniform row is the program with one candidate and nothing pinned. */
static void row_request(const struct csq_sweep_request *r, const struct csq_sweep_budget *b,
                        const char *const *nodes, struct csq_plan_request *pr)
{
    *pr = *r->plan;
    pr->size_bytes = pr->bops = pr->avg_bits = 0;
    pr->nodes = nodes;
    switch (b->kind) {
    case CSQ_SWEEP_AVG_BITS: pr->avg_bits = b->value; break;
    case CSQ_SWEEP_SIZE: pr->size_bytes = b->value; break;
    case CSQ_SWEEP_BOPS: pr->bops = b->value; break;
    case CSQ_SWEEP_UNIFORM:
        pr->avg_bits = b->value;
        pr->wbits[0] = (int)b->value;
        pr->nwbits = 1;
        pr->npins = pr->nties = 0;
        pr->pin_first_last = 0;
        pr->relax = 0;
        break;
    }
}

static int solve_rows(const struct csq_graph *g, const struct csq_sweep_request *r,
                      const struct csq_sweep_budget *budgets, struct csq_sweep_result *res)
{
    const char **nodes;
    int i, l, rc = CSQ_OK;

    if (!(nodes = csq_mem_array((size_t)g->nlayers + 1, sizeof *nodes)))
        return CSQ_ENOMEM;
    for (l = 0; l < g->nlayers; l++)
        nodes[l] = g->nodes[g->layers[l].node].name;
    for (i = 0; i < res->nrows && rc == CSQ_OK; i++) {
        struct csq_sweep_row *row = &res->rows[i];
        struct csq_plan_request pr;
        row->budget = budgets[i];
        row_request(r, &row->budget, nodes, &pr);
        rc = csq_plan_solve_outcome(&res->table, &pr, &row->cfg, &row->o);
        if (rc == CSQ_EINFEASIBLE) {
            /* a row saying so, not the end of the sweep */
            csq_errclear();
            rc = CSQ_OK;
        } else if (rc == CSQ_OK) {
            row->feasible = 1;
        }
    }
    free(nodes);
    return rc;
}

/* --- the quantized weights, once per (layer, width) --- */

struct wcache {
    float **w;              /* [nlayers * CSQ_ALLOC_MAXBITS], NULL where unused */
    int nlayers;
};

static float *wcache_get(const struct wcache *c, int l, int b)
{
    return c->w[l * CSQ_ALLOC_MAXBITS + b - 1];
}

static void wcache_release(struct wcache *c)
{
    int i;

    for (i = 0; c->w && i < c->nlayers * CSQ_ALLOC_MAXBITS; i++)
        free(c->w[i]);
    free(c->w);
    c->w = NULL;
}

/* Which widths each layer takes in some evaluated row: need[l] bit b-1. */
static void widths_needed(const struct csq_graph *g, const struct csq_sweep_result *res,
                          unsigned *need)
{
    int i, l;

    for (i = 0; i < res->nrows; i++)
        for (l = 0; res->rows[i].feasible && l < g->nlayers; l++)
            need[l] |= 1u << (res->rows[i].cfg.layers[l].wbits - 1);
}

/* Quantize every needed (layer, width): the layer statistics first when
 * the quantizer needs them (one float pass over src, only the layers some
 * row quantizes), then each weight copy.  The copies are all held at
 * once, so their bytes are checked against the memory limit first. */
static int wcache_fill(const struct csq_graph *g, struct csq_engine *e,
                       const struct csq_source *src, const struct csq_sweep_request *r,
                       const unsigned *need, struct wcache *c, struct csq_sweep_result *res)
{
    struct csq_qsim_wopts o = { .quantizer = r->quantizer, .act_order = r->act_order };
    struct csq_stats *st = NULL;
    struct csq_loader *ld = NULL;
    int *want = NULL, l, b, rc = CSQ_OK;
    double bytes = 0;

    for (l = 0; l < g->nlayers; l++)
        for (b = 1; b <= CSQ_ALLOC_MAXBITS; b++)
            if (need[l] >> (b - 1) & 1) {
                bytes += 4.0 * (double)csq_tensor_numel(&g->vals[g->layers[l].weight].t);
                res->quantized_widths++;
            }
    if (bytes > (double)csq_limit_memory())
        return csq_fail(CSQ_ELIMIT, "'%s': the %d quantized weight copies the rows use need "
                        "%.1f MiB, over the memory limit of %.1f MiB", r->model,
                        res->quantized_widths, bytes / 1048576,
                        (double)csq_limit_memory() / 1048576);
    res->cache_bytes = (size_t)bytes;
    c->nlayers = g->nlayers;
    if (!(c->w = csq_mem_zarray((size_t)g->nlayers * CSQ_ALLOC_MAXBITS + 1, sizeof *c->w)))
        return CSQ_ENOMEM;
    if (r->quantizer == CSQ_WERR_GPTQ) {
        if (!(want = csq_mem_zarray((size_t)g->nlayers + 1, sizeof *want)))
            return CSQ_ENOMEM;
        for (l = 0; l < g->nlayers; l++)
            want[l] = need[l] != 0;
        if ((rc = csq_source_loader(src, 0, &ld)) == 0)
            rc = csq_stats_collect(g, e, want, ld, r->hessian_samples, &r->progress, &st);
        csq_loader_close(ld);
        free(want);
        if (rc != CSQ_OK)
            return rc;
        o.stats = st;
    }
    for (l = 0; l < g->nlayers && rc == CSQ_OK; l++)
        for (b = 1; b <= CSQ_ALLOC_MAXBITS && rc == CSQ_OK; b++) {
            float **slot = &c->w[l * CSQ_ALLOC_MAXBITS + b - 1];
            if (!(need[l] >> (b - 1) & 1))
                continue;
            *slot = csq_mem_array((size_t)csq_tensor_numel(&g->vals[g->layers[l].weight].t),
                                  sizeof(float));
            if (!*slot)
                rc = CSQ_ENOMEM;
            else if ((rc = csq_qsim_quantize_weight(g, l, b, &o, *slot)) != 0)
                csq_err_context("layer '%s' at %d bits", g->layers[l].name, b);
        }
    csq_stats_free(st);
    return rc;
}

/* --- evaluation --- */

struct evalstate {
    struct csq_engine *e;
    struct wcache cache;
    struct csq_qsim *ranges;        /* activation ranges from the float model, or NULL */
    const float **weights;          /* [nlayers] one row's cached weights */
    int *wbits, *abits;             /* [nlayers] */
    int *pred;                      /* [eval ds.n] */
};

static int calibrate(struct csq_qsim *q, struct csq_engine *e, const struct csq_source *src,
                     const struct csq_progress *pr)
{
    struct csq_loader *ld = NULL;
    int rc;

    if ((rc = csq_source_loader(src, 0, &ld)) == 0)
        rc = csq_qsim_calibrate(q, e, ld, pr);
    csq_loader_close(ld);
    return rc;
}

/* The float model's activation ranges at the rows' activation width:
 * every layer's input observed once over src. */
static int float_ranges(const struct csq_graph *g, struct evalstate *s,
                        const struct csq_source *src, const struct csq_sweep_request *r)
{
    int l, abits = r->plan->abits > 0 ? r->plan->abits : 8;

    for (l = 0; l < g->nlayers; l++) {
        s->wbits[l] = 0;
        s->abits[l] = abits;
    }
    if (csq_qsim_new(g, s->wbits, s->abits, &s->ranges) != 0)
        return CSQ_ENOMEM;
    return calibrate(s->ranges, s->e, src, &r->progress);
}

static int eval_row(const struct csq_graph *g, struct evalstate *s,
                    const struct csq_source *src, const struct csq_sweep_request *r,
                    struct csq_sweep_row *row, char *what, size_t *images)
{
    struct csq_qsim_wopts o = { .quantizer = r->quantizer, .weights = s->weights };
    struct csq_qsim *q = NULL;
    double secs;
    int l, rc;

    for (l = 0; l < g->nlayers; l++) {
        s->wbits[l] = row->cfg.layers[l].wbits;
        s->abits[l] = row->cfg.layers[l].abits;
        s->weights[l] = wcache_get(&s->cache, l, s->wbits[l]);
    }
    if ((rc = csq_qsim_new_opts(g, s->wbits, s->abits, &o, &q)) != 0)
        return rc;
    rc = r->recalibrate ? calibrate(q, s->e, src, &r->progress)
                        : csq_qsim_copy_ranges(q, s->ranges);
    if (rc == CSQ_OK && (rc = csq_qsim_attach(q, s->e)) == CSQ_OK) {
        rc = csq_eval_pass(s->e, r->eval, &r->progress, what, &row->top, s->pred, images,
                           &secs);
        csq_qsim_detach(q, s->e);
        row->evaluated = rc == CSQ_OK;
    }
    csq_qsim_free(q);
    return rc;
}

static int evaluate(const struct csq_graph *g, const struct csq_source *src,
                    const struct csq_sweep_request *r, struct csq_sweep_result *res)
{
    struct evalstate s;
    unsigned *need = NULL;
    char what[64];
    double secs;
    int i, k, n, rc;

    memset(&s, 0, sizeof s);
    need = csq_mem_zarray((size_t)g->nlayers + 1, sizeof *need);
    s.weights = csq_mem_zarray((size_t)g->nlayers + 1, sizeof *s.weights);
    s.wbits = csq_mem_zarray((size_t)g->nlayers + 1, sizeof *s.wbits);
    s.abits = csq_mem_zarray((size_t)g->nlayers + 1, sizeof *s.abits);
    s.pred = csq_mem_array(r->eval->ds.n + 1, sizeof *s.pred);
    if (!need || !s.weights || !s.wbits || !s.abits || !s.pred) {
        rc = CSQ_ENOMEM;
        goto out;
    }
    widths_needed(g, res, need);
    if ((rc = csq_engine_new(g, &s.e)) != 0 ||
        (rc = wcache_fill(g, s.e, src, r, need, &s.cache, res)) != 0)
        goto out;
    if ((rc = csq_eval_pass(s.e, r->eval, &r->progress, "eval fp32", &res->fp32, s.pred,
                            &res->eval_images, &secs)) != 0)
        goto out;
    res->evaluated = 1;
    res->calib_images = src->ds.n;
    if (!r->recalibrate && (rc = float_ranges(g, &s, src, r)) != 0)
        goto out;
    for (n = 0, i = 0; i < res->nrows; i++)
        n += res->rows[i].feasible;
    for (k = 0, i = 0; i < res->nrows && rc == CSQ_OK; i++) {
        size_t images;
        if (!res->rows[i].feasible)
            continue;
        snprintf(what, sizeof what, "eval row %d/%d", ++k, n);
        rc = eval_row(g, &s, src, r, &res->rows[i], what, &images);
    }
out:
    csq_qsim_free(s.ranges);
    wcache_release(&s.cache);
    csq_engine_free(s.e);
    free(need);
    free(s.weights);
    free(s.wbits);
    free(s.abits);
    free(s.pred);
    return rc;
}

/* The request's budgets, then with r->uniform one per candidate width
 * (the mode's or --wbits, ascending). */
static int all_budgets(const struct csq_sweep_request *r, struct csq_sweep_budget **out,
                       int *n)
{
    int cand[16], ncand = 0, pfl, i, j, t, rc;

    if ((rc = csq_alloc_preset(r->plan->mode ? r->plan->mode : "ptq", cand, &ncand, &pfl)) != 0)
        return rc;
    if (r->plan->nwbits > 0) {
        memcpy(cand, r->plan->wbits, (size_t)r->plan->nwbits * sizeof *cand);
        ncand = r->plan->nwbits;
    }
    for (i = 1; i < ncand; i++)
        for (j = i; j > 0 && cand[j] < cand[j - 1]; j--) {
            t = cand[j];
            cand[j] = cand[j - 1];
            cand[j - 1] = t;
        }
    if (!r->uniform)
        ncand = 0;
    *n = r->nbudgets + ncand;
    if (!(*out = csq_mem_array((size_t)*n, sizeof **out)))
        return CSQ_ENOMEM;
    memcpy(*out, r->budgets, (size_t)r->nbudgets * sizeof **out);
    for (i = 0; i < ncand; i++) {
        (*out)[r->nbudgets + i].kind = CSQ_SWEEP_UNIFORM;
        (*out)[r->nbudgets + i].value = cand[i];
    }
    return CSQ_OK;
}

int csq_sweep_run(const struct csq_graph *g, const struct csq_source *src,
                  const struct csq_sweep_request *r, struct csq_sweep_result *res)
{
    struct csq_sweep_budget *budgets = NULL;
    int n, rc;

    memset(res, 0, sizeof *res);
    if (r->nbudgets <= 0)
        return csq_fail(CSQ_EUSAGE, "no budget to sweep");
    if ((rc = all_budgets(r, &budgets, &n)) != 0)
        return rc;
    if (!(res->rows = csq_mem_zarray((size_t)n, sizeof *res->rows))) {
        free(budgets);
        return CSQ_ENOMEM;
    }
    res->nrows = n;
    if ((rc = sweep_table(g, src, r, &res->table)) == 0 &&
        (rc = solve_rows(g, r, budgets, res)) == 0 && r->eval)
        rc = evaluate(g, src, r, res);
    free(budgets);
    if (rc != CSQ_OK)
        csq_sweep_result_release(res);
    return rc;
}

void csq_sweep_result_release(struct csq_sweep_result *res)
{
    int i;

    for (i = 0; res->rows && i < res->nrows; i++)
        csq_bitcfg_release(&res->rows[i].cfg);
    free(res->rows);
    csq_scoretab_release(&res->table);
    memset(res, 0, sizeof *res);
}
