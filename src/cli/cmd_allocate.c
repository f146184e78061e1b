/*
 * allocate: bit-widths from a score table under budgets.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/budget.h"
#include "cli/cli.h"
#include "mpq/scoretab.h"
#include "util/err.h"

static const char allocate_usage[] =
    "usage: csmpq allocate [--scores FILE|-] BUDGET... [--mode ptq|qat] [--wbits LIST]\n"
    "                      [--abits N] [--pin NAME=BITS]... [--pin-first-last BITS]\n"
    "                      [--tie A,B[,C...]]... [--time-limit S] [--relax]\n"
    "                      [--format tsv|json|list] [-o FILE]\n\n"
    "Choose a weight bit-width per layer from a score table (csmpq score) that\n"
    "maximizes sum score x bits, or with cost@ columns minimizes the sum of the\n"
    "costs, under the budgets, solved exactly by lp_solve; from a CLADO pair\n"
    "table (csmpq score --criterion clado -o FILE), the widths of least predicted\n"
    "loss change, cross terms included (a quadratic program).\n"
    "BUDGET: --size SIZE | --bops N | --avg-bits B (any combination).";

enum { OPT_SCORES = 600 };

static const struct cli_opt allocate_options[] = {
    { OPT_SCORES, "scores", 1, "FILE", "score or pair table to read (default - = stdin)" },
    CLI_BUDGET_OPTIONS,
    { 0, NULL, 0, NULL, NULL }
};

int cmd_allocate(int argc, char **argv)
{
    struct cli_parser p;
    struct cli_budget b;
    struct csq_scoretab *t = NULL;
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
    if (rc < 0 && cli_check_output("allocate", b.out) != 0)
        rc = EXIT_ERROR;
    if (rc < 0) {
        struct csq_bitcfg cfg;
        memset(&cfg, 0, sizeof cfg);
        struct csq_pairtab *pt = NULL;
        if (csq_pairtab_sniff(scores)) {
            if ((rc = csq_pairtab_read(scores, &pt)) == 0 &&
                (rc = csq_clado_plan(pt, &b.req, &cfg)) == 0)
                rc = cli_budget_write(&b, &cfg, NULL, NULL);
            csq_pairtab_free(pt);
        } else if ((rc = csq_scoretab_read(scores, &t)) == 0 &&
            (rc = csq_plan_solve(t, &b.req, &cfg)) == 0)
            rc = cli_budget_write(&b, &cfg, NULL, NULL);
        csq_bitcfg_release(&cfg);
        csq_scoretab_free(t);
        rc = cli_fail("allocate", rc);
    }
    cli_budget_release(&b);
    return rc;
}
