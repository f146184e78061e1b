/*
 * score: the TF-IDF class separability of every quantizable layer, and a
 * criterion's cost per candidate width, as the score table that allocate
 * reads.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "cli/budget.h"
#include "cli/cli.h"
#include "cli/input.h"
#include "cli/progress.h"
#include "mpq/score.h"
#include "mpq/scoretab.h"
#include "nn/ops.h"
#include "onnx/onnx.h"
#include "util/err.h"

static const char usage[] =
    "usage: csmpq score -m MODEL [DIR | --list FILE] [data options] [preprocess options]\n"
    "                   [--docs classes|samples] [--coe N] [--criterion NAME]\n"
    "                   [--quantizer rtn|gptq] [--act-order] [--hessian-samples N]\n"
    "                   [--sqnr-images N] [--clado-images N] [--wbits LIST] [-o FILE]\n\n"
    "Run the model over the images and write, for every quantizable layer, how\n"
    "well its feature maps separate the classes (TF-IDF, CSMPQ) and what a\n"
    "criterion measures quantizing it to each candidate width costs, as a TSV\n"
    "table: #layer op params macs score cost@2 cost@3 cost@4 (--wbits), the\n"
    "costs allocate minimizes.  --criterion tfidf writes the score column alone;\n"
    "--criterion clado writes CLADO's pair table instead (the loss change of\n"
    "every layer and pair of layers at each width).";

enum { OPT_MODEL = 'm' };

static const struct cli_opt options[] = {
    { OPT_MODEL, "model", 1, "MODEL", "ONNX model file" },
    CLI_INPUT_OPTIONS,
    CLI_SCORE_OPTIONS,
    { OPT_SCORE_WBITS, "wbits", 1, "LIST", "widths of the cost columns (default 2,3,4)" },
    { OPT_OUT, "output", 1, "FILE", "write the table to FILE (default stdout)" },
    { 0, NULL, 0, NULL, NULL }
};


int cmd_score(int argc, char **argv)
{
    struct cli_parser p;
    struct cli_input in;
    struct cli_scoreopt so;
    struct cli_progress pb;
    struct csq_score_request r;
    struct csq_scoretab t;
    struct csq_graph *g = NULL;
    const char *model = NULL, *out = "-";
    int c, h, rc;

    memset(&t, 0, sizeof t);
    cli_input_init(&in, "score");
    cli_scoreopt_init(&so);
    cli_opt_init(&p, "score", usage, options, argc, argv);
    while ((c = cli_opt_next(&p)) != CLI_OPT_END) {
        if ((h = cli_input_option(&in, c, p.optarg)) != 0 ||
            (h = cli_scoreopt_option(&so, "score", c, p.optarg)) != 0) {
            if (h < 0)
                return EXIT_USAGE;
        } else if (c == OPT_MODEL) {
            model = p.optarg;
        } else if (c == OPT_OUT) {
            out = p.optarg;
        } else if ((h = cli_input_rest(&in, c, p.optarg)) >= 0) {
            return h;
        }
    }
    if (cli_input_check(&in, model) != 0 || cli_scoreopt_check(&so, "score") != 0)
        return EXIT_USAGE;
    if (cli_check_output("score", out) != 0)
        return EXIT_ERROR;
    csq_ops_set_threads((int)in.threads);
    cli_scoreopt_request(&so, &r);
    r.progress = cli_progress_init(&pb, "score");
    if (so.criterion == CSQ_CRIT_CLADO) {
        struct csq_clado_request cr;
        struct csq_pairtab pt;
        cli_scoreopt_clado(&so, NULL, &cr);
        cr.progress = r.progress;
        memset(&pt, 0, sizeof pt);
        if ((rc = csq_onnx_load(model, &g)) == 0 &&
            (rc = cli_input_open(&in, g, so.docs == CSQ_TFIDF_CLASSES)) == 0 &&
            (rc = csq_clado_measure(g, model, &in.src, &cr, &pt)) == 0)
            rc = csq_pairtab_write(&pt, out);
        csq_pairtab_release(&pt);
    } else if ((rc = csq_onnx_load(model, &g)) == 0 &&
        (rc = cli_input_open(&in, g, so.docs == CSQ_TFIDF_CLASSES)) == 0 &&
        (rc = csq_score_model(g, model, &in.src, &r, &t)) == 0) {
        cli_input_skipped(&in, in.src.ds.n - (size_t)t.images);
        rc = csq_scoretab_write(&t, out);
    }
    csq_scoretab_release(&t);
    cli_input_release(&in);
    csq_graph_free(g);
    return cli_fail("score", rc);
}
