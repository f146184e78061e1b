/*
 * sweepout: the sweep's table and picture (see sweepout.h).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mpq/sweepout.h"
#include "mpq/werr.h"
#include "util/err.h"
#include "util/file.h"
#include "util/mem.h"
#include "util/plot.h"
#include "util/units.h"

static double pct(const struct csq_eval_topk *t, int top5)
{
    return t->images ? 100.0 * (double)(top5 ? t->top5 : t->top1) / (double)t->images : 0;
}

static const char *status_of(const struct csq_sweep_request *r, const struct csq_sweep_row *w)
{
    if (!w->feasible)
        return "infeasible";
    if (r->plan->relax && w->budget.kind != CSQ_SWEEP_UNIFORM)
        return "relaxed";
    return w->o.proven_optimal ? "proven" : "time-limit";
}

static void header(FILE *fp, const struct csq_sweep_request *r,
                   const struct csq_sweep_result *res)
{
    const struct csq_scoretab *t = &res->table;

    fputs("# csmpq sweep 1\n", fp);
    if (t->model)
        fprintf(fp, "# model: %s sha256=%s\n", t->model, t->sha256 ? t->sha256 : "-");
    if (r->score.criterion == CSQ_CRIT_TFIDF)
        fprintf(fp, "# scores: tfidf, docs %s, %ld images\n", t->docs ? t->docs : "-",
                t->images);
    else
        fprintf(fp, "# scores: %s, quantizer %s, docs %s, %ld images\n",
                csq_crit_name(r->score.criterion),
                csq_crit_quantizer_name(r->score.quantizer), t->docs ? t->docs : "-",
                t->images);
    if (res->evaluated)
        fprintf(fp, "# eval: %s, %zu images, quantizer %s, activation ranges %s over %zu "
                "images; fp32 top1 %.2f%% top5 %.2f%%\n", r->eval->name, res->eval_images,
                csq_crit_quantizer_name(r->quantizer),
                r->recalibrate ? "per row (as eval -b)" : "once from the float model",
                res->calib_images, pct(&res->fp32, 0), pct(&res->fp32, 1));
}

int csq_sweepout_table(const struct csq_sweep_request *r, const struct csq_sweep_result *res,
                       const char *path)
{
    struct csq_out o;
    char buf[64], num[32];
    int i, l, rc;

    if ((rc = csq_out_open(&o, path)) != 0)
        return rc;
    header(o.fp, r, res);
    fputs("#budget\tsize\tbops\tmean_wbits\tobjective\tstatus\ttop1\ttop5\twbits\n", o.fp);
    for (i = 0; i < res->nrows; i++) {
        const struct csq_sweep_row *w = &res->rows[i];
        fprintf(o.fp, "%s\t", csq_sweep_budget_text(&w->budget, buf, sizeof buf));
        if (w->feasible)
            fprintf(o.fp, "%.15g\t%lld\t%.4f\t%s\t", (double)w->o.size_bits / 8,
                    (long long)w->o.bops, w->o.mean_wbits,
                    csq_units_fmt_double(w->o.objective, num));
        else
            fputs("-\t-\t-\t-\t", o.fp);
        fprintf(o.fp, "%s\t", status_of(r, w));
        if (w->evaluated)
            fprintf(o.fp, "%.2f\t%.2f\t", pct(&w->top, 0), pct(&w->top, 1));
        else
            fputs("-\t-\t", o.fp);
        for (l = 0; l < w->cfg.nlayers; l++)
            fprintf(o.fp, "%s%d", l ? "," : "", w->cfg.layers[l].wbits);
        fputs(w->feasible ? "\n" : "-\n", o.fp);
    }
    return csq_out_commit(&o);
}

/* The basename of a path, for the title. */
static const char *base(const char *p)
{
    const char *s = strrchr(p, '/');

    return s ? s + 1 : p;
}

int csq_sweepout_plot(const struct csq_sweep_request *r, const struct csq_sweep_result *res,
                      const char *path)
{
    struct csq_plot_series s[2];
    struct csq_plot p;
    double *x = csq_mem_array((size_t)res->nrows + 1, sizeof *x);
    double *y = csq_mem_array((size_t)res->nrows + 1, sizeof *y);
    char **tips = csq_mem_zarray((size_t)res->nrows + 1, sizeof *tips);
    double most = 0, unit;
    char title[256], xlabel[64], buf[64];
    int i, k, n[2] = { 0, 0 }, rc = CSQ_OK;

    if (!x || !y || !tips) {
        rc = CSQ_ENOMEM;
        goto out;
    }
    for (i = 0; i < res->nrows; i++)
        if (res->rows[i].feasible && (double)res->rows[i].o.size_bits / 8 > most)
            most = (double)res->rows[i].o.size_bits / 8;
    unit = most >= 4 << 20 ? 1 << 20 : most >= 4 << 10 ? 1 << 10 : 1;
    memset(s, 0, sizeof s);
    /* budget rows first, uniform rows after them: two series over one array */
    for (k = 0, i = 0; i < 2 * res->nrows; i++) {
        const struct csq_sweep_row *w = &res->rows[i % res->nrows];
        int uni = w->budget.kind == CSQ_SWEEP_UNIFORM;
        if (!w->feasible || uni != (i >= res->nrows))
            continue;
        x[k] = (double)w->o.size_bits / 8 / unit;
        y[k] = res->evaluated ? pct(&w->top, 0) : w->o.objective;
        snprintf(buf, sizeof buf, "%s: ", csq_sweep_budget_text(&w->budget, title, 64));
        snprintf(title, sizeof title, "%s%.4g %s", buf, y[k], res->evaluated ? "%" : "");
        if (!(tips[k] = csq_mem_strdup(title))) {
            rc = CSQ_ENOMEM;
            goto out;
        }
        n[uni]++;
        k++;
    }
    s[0].name = r->plan->relax ? "sweep (relaxed)" : "sweep";
    s[0].cls = "sweep";
    s[0].color = "#1f5fa8";
    s[1].name = "uniform widths";
    s[1].cls = "uniform";
    s[1].color = "#d9661f";
    s[1].square = 1;
    for (i = 0; i < 2; i++) {
        s[i].x = x + (i ? n[0] : 0);
        s[i].y = y + (i ? n[0] : 0);
        s[i].labels = (const char *const *)tips + (i ? n[0] : 0);
        s[i].n = n[i];
    }
    memset(&p, 0, sizeof p);
    snprintf(title, sizeof title, "%s: %s against weight size", base(r->model),
             res->evaluated ? "simulated top-1" : "objective");
    snprintf(xlabel, sizeof xlabel, "weight size (%s)",
             unit == 1 << 20 ? "MiB" : unit == 1 << 10 ? "KiB" : "bytes");
    p.title = title;
    p.xlabel = xlabel;
    p.ylabel = res->evaluated ? "top-1 (%)"
               : r->score.criterion == CSQ_CRIT_TFIDF ? "objective (sum score x bits)"
                                                      : "objective (sum of costs)";
    /* a series with no point is left out of the legend */
    p.series = n[0] ? s : s + 1;
    p.nseries = (n[0] > 0) + (n[1] > 0);
    if (res->evaluated) {
        p.have_ref = 1;
        p.ref = pct(&res->fp32, 0);
        p.ref_label = "float32";
    }
    rc = csq_plot_write(&p, path);
out:
    for (i = 0; tips && i < res->nrows; i++)
        free(tips[i]);
    free(tips);
    free(x);
    free(y);
    return rc;
}
