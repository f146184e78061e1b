/*
 * sweep: the integer program for a list or range of budgets from one
 * score pass, with the simulated top-1 of every row (--eval) and a
 * picture of it against size (--plot).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/budget.h"
#include "cli/cli.h"
#include "cli/input.h"
#include "cli/progress.h"
#include "mpq/sweep.h"
#include "mpq/sweepout.h"
#include "mpq/werr.h"
#include "nn/ops.h"
#include "onnx/onnx.h"
#include "util/err.h"
#include "util/range.h"
#include "util/units.h"

static const char usage[] =
    "usage: csmpq sweep -m MODEL [DIR | --list FILE] [data options] [preprocess options]\n"
    "                   [criterion options] BUDGETS... [allocate options] [--eval DIR]\n"
    "                   [--calib-per-row] [--uniform] [--plot FILE.svg] [-o FILE]\n\n"
    "Score the model's layers on the images once, then solve the integer program\n"
    "for every budget of the lists (--avg-bits 2:4:0.25, --size 1MiB,2MiB, --bops\n"
    "LIST; each value is one row, START:STOP:STEP a range), one TSV row per budget.\n"
    "--eval DIR adds each row's simulated top-1 / top-5 (as eval -b ROW --calib DIR\n"
    "on the scored images); --plot draws top-1 (or the objective) against size.";

enum {
    OPT_MODEL = 'm', OPT_EVAL = 700, OPT_PER_ROW, OPT_UNIFORM, OPT_PLOT
};

static const struct cli_opt options[] = {
    { OPT_MODEL, "model", 1, "MODEL", "ONNX model file" },
    CLI_INPUT_OPTIONS,
    CLI_SCORE_OPTIONS,
    { OPT_AVG_BITS, "avg-bits", 1, "LIST", "mean-bits budgets: B,B,... or START:STOP:STEP" },
    { OPT_SIZE, "size", 1, "LIST", "size budgets, e.g. 1MiB,2MiB or 1MiB:4MiB:512KiB" },
    { OPT_BOPS, "bops", 1, "LIST", "BOPs budgets per image, e.g. 50M:200M:50M" },
    CLI_ALLOC_OPTIONS,
    { OPT_EVAL, "eval", 1, "DIR", "simulate every row on these labeled images" },
    { OPT_PER_ROW, "calib-per-row", 0, NULL,
      "calibrate activation ranges per row with its weights, as eval -b (default: once)" },
    { OPT_UNIFORM, "uniform", 0, NULL, "add a row per candidate width, every layer at it" },
    { OPT_PLOT, "plot", 1, "FILE.svg", "draw top-1 (or the objective) against size (implies --uniform)" },
    { OPT_OUT, "output", 1, "FILE", "write the table to FILE (default stdout)" },
    { 0, NULL, 0, NULL, NULL }
};

struct lists {
    double *v[3];           /* avg-bits, size, bops values */
    int n[3];
    enum csq_sweep_kind order[3];
    int norder;
};

/* A budget list option into l; -1 after a usage message. */
static int list_option(struct lists *l, int id, const char *arg)
{
    static const struct { int id; const char *name; csq_range_value_fn fn; } tab[3] = {
        { OPT_AVG_BITS, "--avg-bits", csq_units_parse_real },
        { OPT_SIZE, "--size", csq_units_parse_size },
        { OPT_BOPS, "--bops", csq_units_parse_bops },
    };
    int k, i, rc;

    for (k = 0; k < 3 && tab[k].id != id; k++)
        ;
    if (k == 3)
        return 0;
    if ((rc = csq_range_parse(tab[k].name, arg, tab[k].fn, &l->v[k], &l->n[k])) != 0) {
        cli_fail("sweep", rc);
        return -1;
    }
    /* rows come in the order the kinds were first given */
    for (i = 0; i < l->norder && l->order[i] != (enum csq_sweep_kind)k; i++)
        ;
    if (i == l->norder)
        l->order[l->norder++] = (enum csq_sweep_kind)k;
    return 1;
}

static int budgets_of(const struct lists *l, struct csq_sweep_budget **out, int *n)
{
    static const enum csq_sweep_kind kind[3] = {
        CSQ_SWEEP_AVG_BITS, CSQ_SWEEP_SIZE, CSQ_SWEEP_BOPS
    };
    int i, j, k = 0;

    *n = l->n[0] + l->n[1] + l->n[2];
    if (!(*out = calloc((size_t)*n + 1, sizeof **out)))
        return CSQ_ENOMEM;
    for (i = 0; i < l->norder; i++)
        for (j = 0; j < l->n[l->order[i]]; j++) {
            (*out)[k].kind = kind[l->order[i]];
            (*out)[k++].value = l->v[l->order[i]][j];
        }
    return CSQ_OK;
}

static void warn_rows(const struct csq_sweep_result *res)
{
    char b[64], s[32], o[32];
    int i;

    for (i = 0; i < res->nrows; i++) {
        const struct csq_sweep_row *w = &res->rows[i];
        if (w->feasible)
            continue;
        fprintf(stderr, "csmpq: sweep: warning: %s: no bit assignment fits; the smallest the "
                "candidate widths, pins and ties allow is size %s, bops %s\n",
                csq_sweep_budget_text(&w->budget, b, sizeof b),
                csq_units_fmt_bytes((double)((w->o.min_size_bits + 7) / 8), s, sizeof s),
                csq_units_fmt_count((double)w->o.min_bops, o, sizeof o));
    }
}

int cmd_sweep(int argc, char **argv)
{
    struct cli_parser p;
    struct cli_input in, ein;
    struct cli_scoreopt so;
    struct cli_budget b;
    struct cli_progress pb;
    struct csq_sweep_request r;
    struct csq_sweep_result res;
    struct csq_sweep_budget *budgets = NULL;
    struct lists lists;
    struct csq_graph *g = NULL;
    const char *model = NULL, *plot = NULL, *out = "-";
    int64_t k;
    int c, h, i, nbudgets = 0, per_row = 0, uniform = 0;
    int rc = -1;

    memset(&res, 0, sizeof res);
    memset(&lists, 0, sizeof lists);
    cli_input_init(&in, "sweep");
    cli_input_init(&ein, "sweep");
    cli_scoreopt_init(&so);
    cli_budget_init(&b, "sweep");
    cli_opt_init(&p, "sweep", usage, options, argc, argv);
    while (rc < 0 && (c = cli_opt_next(&p)) != CLI_OPT_END) {
        if ((h = list_option(&lists, c, p.optarg)) != 0 ||
            (h = cli_input_option(&in, c, p.optarg)) != 0 ||
            (h = cli_scoreopt_option(&so, "sweep", c, p.optarg)) != 0 ||
            (c != OPT_OUT && (h = cli_budget_option(&b, c, p.optarg)) != 0)) {
            if (h < 0)
                rc = EXIT_USAGE;
            continue;
        }
        switch (c) {
        case OPT_MODEL: model = p.optarg; break;
        case OPT_OUT: out = p.optarg; break;
        case OPT_EVAL: ein.o.dir = p.optarg; break;
        case OPT_PLOT: plot = p.optarg; uniform = 1; break;
        case OPT_UNIFORM: uniform = 1; break;
        case OPT_PER_ROW: per_row = 1; break;
        default:
            rc = cli_input_rest(&in, c, p.optarg);
        }
    }
    if (rc >= 0)
        goto done;
    if ((rc = cli_input_check(&in, model)) != 0)
        goto done;
    if (lists.norder == 0) {
        rc = cli_usage_error("sweep", "no budget given (--avg-bits, --size or --bops LIST)");
        goto done;
    }
    /* One quantizer serves the criterion and --eval's simulation; with
     * tfidf it is --eval's alone. */
    if (so.criterion == CSQ_CRIT_TFIDF &&
        (so.quantizer >= 0 || so.act_order || so.hessian_samples || per_row) && !ein.o.dir) {
        rc = cli_usage_error("sweep", "with --criterion tfidf, --quantizer, --act-order, "
                             "--hessian-samples and --calib-per-row need --eval DIR");
        goto done;
    }
    if (so.criterion != CSQ_CRIT_TFIDF && (rc = cli_scoreopt_check(&so, "sweep")) != 0)
        goto done;
    if (so.act_order && so.quantizer == CSQ_WERR_RTN) {
        rc = cli_usage_error("sweep", "--act-order needs --quantizer gptq");
        goto done;
    }
    if (cli_check_output("sweep", out) != 0 || cli_check_output("sweep", plot) != 0) {
        rc = EXIT_ERROR;
        goto done;
    }
    if ((rc = budgets_of(&lists, &budgets, &nbudgets)) != 0) {
        rc = cli_fail("sweep", rc);
        goto done;
    }
    csq_ops_set_threads((int)in.threads);
    /* The evaluated images are read as the scored ones are. */
    cli_input_like(&ein, &in);
    memset(&r, 0, sizeof r);
    r.model = model;
    cli_scoreopt_request(&so, &r.score);
    r.plan = &b.req;
    r.budgets = budgets;
    r.nbudgets = nbudgets;
    r.uniform = uniform;
    /* eval's measured default (docs/RESULTS.md, "rtn against gptq") */
    r.quantizer = r.score.quantizer;
    r.act_order = so.act_order;
    r.hessian_samples = so.hessian_samples;
    r.recalibrate = per_row;
    r.progress = cli_progress_init(&pb, "sweep");
    if ((rc = csq_onnx_load(model, &g)) != 0 ||
        (rc = cli_input_open(&in, g, so.docs == CSQ_TFIDF_CLASSES)) != 0 ||
        (ein.o.dir && (rc = cli_input_open(&ein, g, 1)) != 0))
        goto fail;
    r.eval = ein.o.dir ? &ein.src : NULL;
    if (r.eval && (k = csq_eval_class_mismatch(g, r.eval)) != 0)
        fprintf(stderr, "csmpq: sweep: warning: '%s' has %d classes but the model has %lld "
                "outputs; without --labels, class k in byte order is output k, so top-1 is "
                "probably meaningless\n", r.eval->name, r.eval->ds.nclass, (long long)k);
    if ((rc = csq_sweep_run(g, &in.src, &r, &res)) != 0)
        goto fail;
    cli_input_skipped(&in, in.src.ds.n - (size_t)res.table.images);
    warn_rows(&res);
    /* the picture first: a table on stdout is the last thing written */
    if (plot && (rc = csq_sweepout_plot(&r, &res, plot)) != 0)
        goto fail;
    rc = csq_sweepout_table(&r, &res, out);
fail:
    rc = cli_fail("sweep", rc);
done:
    csq_sweep_result_release(&res);
    for (i = 0; i < 3; i++)
        free(lists.v[i]);
    free(budgets);
    cli_input_release(&ein);
    cli_input_release(&in);
    cli_budget_release(&b);
    csq_graph_free(g);
    return rc;
}
