/*
 * analyze: score and allocate in one run, the main job: the score pipeline
 * over the images, then the integer program under the budgets.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/budget.h"
#include "cli/cli.h"
#include "cli/input.h"
#include "cli/progress.h"
#include "mpq/bitcfg.h"
#include "mpq/score.h"
#include "mpq/scoretab.h"
#include "nn/ops.h"
#include "onnx/onnx.h"
#include "util/err.h"

enum { OPT_SCORES_OUT = 600, OPT_MODEL = 'm' };

static const char usage[] =
    "usage: csmpq analyze -m MODEL [DIR | --list FILE] [data options] [preprocess options]\n"
    "                     [--docs classes|samples] [--coe N] [--criterion NAME]\n"
    "                     [--quantizer rtn|gptq] [--act-order] [--hessian-samples N]\n"
    "                     [--sqnr-images N] BUDGET... [allocate options]\n"
    "                     [--scores-out FILE]\n\n"
    "Score the model's layers on the images and allocate bit-widths under the\n"
    "budgets in one run: csmpq score followed by csmpq allocate.";


static const struct cli_opt options[] = {
    { OPT_MODEL, "model", 1, "MODEL", "ONNX model file" },
    CLI_INPUT_OPTIONS,
    CLI_SCORE_OPTIONS,
    CLI_BUDGET_OPTIONS,
    { OPT_SCORES_OUT, "scores-out", 1, "FILE", "also write the score table to FILE" },
    { 0, NULL, 0, NULL, NULL }
};


int cmd_analyze(int argc, char **argv)
{
    struct cli_parser p;
    struct cli_input in;
    struct cli_scoreopt so;
    struct cli_budget b;
    struct cli_progress pb;
    struct csq_score_request r;
    struct csq_scoretab t;
    struct csq_graph *g = NULL;
    const char *model = NULL, *scores_out = NULL;
    struct csq_bitcfg cfg;
    int c, h, rc = -1;

    memset(&t, 0, sizeof t);
    memset(&cfg, 0, sizeof cfg);
    cli_input_init(&in, "analyze");
    cli_scoreopt_init(&so);
    cli_budget_init(&b, "analyze");
    cli_opt_init(&p, "analyze", usage, options, argc, argv);
    while (rc < 0 && (c = cli_opt_next(&p)) != CLI_OPT_END) {
        if ((h = cli_input_option(&in, c, p.optarg)) != 0 ||
            (h = cli_scoreopt_option(&so, "analyze", c, p.optarg)) != 0 ||
            (h = cli_budget_option(&b, c, p.optarg)) != 0) {
            if (h < 0)
                rc = EXIT_USAGE;
        } else if (c == OPT_MODEL) {
            model = p.optarg;
        } else if (c == OPT_SCORES_OUT) {
            scores_out = p.optarg;
        } else {
            rc = cli_input_rest(&in, c, p.optarg);
        }
    }
    if (rc >= 0)
        goto done;
    if ((rc = cli_input_check(&in, model)) != 0 ||
        (rc = cli_scoreopt_check(&so, "analyze")) != 0)
        goto done;
    if (!b.have_budget) {
        rc = cli_usage_error("analyze", "no budget given (--size, --bops or --avg-bits)");
        goto done;
    }
    if (cli_check_output("analyze", b.out) != 0 || cli_check_output("analyze", scores_out) != 0) {
        rc = EXIT_ERROR;
        goto done;
    }
    csq_ops_set_threads((int)in.threads);
    cli_scoreopt_request(&so, &r);
    r.progress = cli_progress_init(&pb, "analyze");
    if (so.criterion == CSQ_CRIT_CLADO) {
        struct csq_clado_request cr;
        struct csq_pairtab pt;
        cli_scoreopt_clado(&so, &b.req, &cr);
        cr.progress = r.progress;
        memset(&pt, 0, sizeof pt);
        if ((rc = csq_onnx_load(model, &g)) == 0 &&
            (rc = cli_input_open(&in, g, so.docs == CSQ_TFIDF_CLASSES)) == 0 &&
            (rc = csq_clado_analyze(g, model, &in.src, &cr, &b.req, &pt, &cfg)) == 0 &&
            (!scores_out || (rc = csq_pairtab_write(&pt, scores_out)) == 0))
            rc = cli_budget_write(&b, &cfg, NULL, NULL);
        csq_pairtab_release(&pt);
    } else if ((rc = csq_onnx_load(model, &g)) == 0 &&
        (rc = cli_input_open(&in, g, so.docs == CSQ_TFIDF_CLASSES)) == 0 &&
        (rc = csq_score_analyze(g, model, &in.src, &r, &b.req, &t, &cfg)) == 0) {
        cli_input_skipped(&in, in.src.ds.n - (size_t)t.images);
        rc = cli_budget_write(&b, &cfg, &t, scores_out);
    }
    rc = cli_fail("analyze", rc);
done:
    csq_bitcfg_release(&cfg);
    csq_scoretab_release(&t);
    cli_input_release(&in);
    cli_budget_release(&b);
    csq_graph_free(g);
    return rc;
}
