/*
 * allocate and analyze: bit-widths from a score table (allocate), or from
 * a model and images in one run (analyze = score + allocate).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/budget.h"
#include "cli/cli.h"
#include "cli/input.h"
#include "mpq/bitcfg.h"
#include "mpq/plan.h"
#include "mpq/scores.h"
#include "onnx/onnx.h"
#include "util/err.h"
#include "util/mem.h"

static const char allocate_usage[] =
    "usage: csmpq allocate [--scores FILE|-] BUDGET... [--mode ptq|qat] [--wbits LIST]\n"
    "                      [--abits N] [--pin NAME=BITS]... [--pin-first-last BITS]\n"
    "                      [--tie A,B[,C...]]... [--time-limit S] [--relax]\n"
    "                      [--format tsv|json|list] [-o FILE]\n\n"
    "Choose a weight bit-width per layer from a score table (csmpq score) that\n"
    "maximizes sum score x bits under the budgets, solved exactly by lp_solve.\n"
    "BUDGET: --size SIZE | --bops N | --avg-bits B (any combination).";

static const char analyze_usage[] =
    "usage: csmpq analyze -m MODEL [DIR | --list FILE] [data options] [preprocess options]\n"
    "                     [--docs classes|samples] [--coe N] BUDGET... [allocate options]\n"
    "                     [--scores-out FILE]\n\n"
    "Score the model's layers on the images and allocate bit-widths under the\n"
    "budgets in one run: csmpq score followed by csmpq allocate.";

enum { OPT_SCORES = 600, OPT_SCORES_OUT, OPT_MODEL = 'm' };

static const struct cli_opt allocate_options[] = {
    { OPT_SCORES, "scores", 1, "FILE", "score table to read (default - = stdin)" },
    CLI_BUDGET_OPTIONS,
    { 0, NULL, 0, NULL, NULL }
};

static const struct cli_opt analyze_options[] = {
    { OPT_MODEL, "model", 1, "MODEL", "ONNX model file" },
    CLI_INPUT_OPTIONS,
    CLI_SCORE_OPTIONS,
    CLI_BUDGET_OPTIONS,
    { OPT_SCORES_OUT, "scores-out", 1, "FILE", "also write the score table to FILE" },
    { 0, NULL, 0, NULL, NULL }
};

/* Solve first and write the files only then, so a failed run (no
 * assignment fits, an unwritable -o) leaves neither file behind. */
static int plan_and_write(struct cli_budget *b, const struct csq_scores *t,
                          const char *const *nodes, const char *scores_out)
{
    struct csq_bitcfg cfg;
    int rc;

    b->req.nodes = nodes;
    if ((rc = csq_plan_solve(t, &b->req, &cfg)) != 0)
        return rc;
    if (!scores_out || (rc = csq_scores_write(t, scores_out)) == 0) {
        rc = csq_bitcfg_write(&cfg, b->out, b->format);
        if (rc != 0 && scores_out && strcmp(scores_out, "-") != 0)
            unlink(scores_out);
    }
    csq_bitcfg_release(&cfg);
    return rc;
}

int cmd_allocate(int argc, char **argv)
{
    struct cli_parser p;
    struct cli_budget b;
    struct csq_scores *t = NULL;
    const char *scores = "-";
    int c, h, rc = -1;

    cli_budget_init(&b, "allocate");
    cli_opt_init(&p, "allocate", allocate_usage, allocate_options, argc, argv);
    while (rc < 0 && (c = cli_opt_next(&p)) != CLI_OPT_END) {
        if ((h = cli_budget_option(&b, c, p.optarg)) != 0) {
            if (h < 0)
                rc = EXIT_USAGE;
        } else if (c == OPT_SCORES) {
            scores = p.optarg;
        } else if (c == CLI_OPT_ARG) {
            rc = cli_usage_error("allocate", "unexpected argument '%s' (the table is read "
                                 "with --scores FILE)", p.optarg);
        } else {
            rc = c == CLI_OPT_HELP ? EXIT_OK : EXIT_USAGE;
        }
    }
    if (rc < 0 && !b.have_budget)
        rc = cli_usage_error("allocate", "no budget given (--size, --bops or --avg-bits)");
    if (rc < 0) {
        if ((rc = csq_scores_read(scores, &t)) == 0)
            rc = plan_and_write(&b, t, NULL, NULL);
        csq_scores_free(t);
        rc = cli_fail("allocate", rc);
    }
    cli_budget_release(&b);
    return rc;
}

int cmd_analyze(int argc, char **argv)
{
    struct cli_parser p;
    struct cli_input in;
    struct cli_scoreopt so;
    struct cli_budget b;
    struct csq_scores t;
    struct csq_graph *g = NULL;
    const char *model = NULL, *scores_out = NULL;
    const char **nodes = NULL;
    int c, h, l, rc = -1;

    memset(&t, 0, sizeof t);
    cli_input_init(&in, "analyze");
    cli_scoreopt_init(&so);
    cli_budget_init(&b, "analyze");
    cli_opt_init(&p, "analyze", analyze_usage, analyze_options, argc, argv);
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
        } else if (c == CLI_OPT_ARG) {
            if (cli_input_arg(&in, p.optarg) != 0)
                rc = EXIT_USAGE;
        } else {
            rc = c == CLI_OPT_HELP ? EXIT_OK : EXIT_USAGE;
        }
    }
    if (rc >= 0)
        goto done;
    if ((rc = cli_input_check(&in, model)) != 0)
        goto done;
    if (!b.have_budget) {
        rc = cli_usage_error("analyze", "no budget given (--size, --bops or --avg-bits)");
        goto done;
    }
    if ((rc = csq_onnx_load(model, &g)) != 0 ||
        (rc = cli_score_model(&in, &so, model, g, &t)) != 0)
        goto out;
    nodes = csq_mem_array((size_t)g->nlayers + 1, sizeof *nodes);
    if (!nodes) {
        rc = CSQ_ENOMEM;
        goto out;
    }
    for (l = 0; l < g->nlayers; l++)
        nodes[l] = g->nodes[g->layers[l].node].name;
    rc = plan_and_write(&b, &t, nodes, scores_out);
out:
    rc = cli_fail("analyze", rc);
done:
    free(nodes);
    csq_scores_release(&t);
    cli_input_release(&in);
    cli_budget_release(&b);
    csq_graph_free(g);
    return rc;
}
