/*
 * score: the TF-IDF class separability of every quantizable layer, as the
 * score table that allocate reads.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/budget.h"
#include "cli/cli.h"
#include "cli/input.h"
#include "mpq/cost.h"
#include "mpq/score.h"
#include "mpq/scores.h"
#include "nn/engine.h"
#include "onnx/onnx.h"
#include "util/err.h"
#include "util/mem.h"
#include "util/sha256.h"

static const char usage[] =
    "usage: csmpq score -m MODEL [DIR | --list FILE] [data options] [preprocess options]\n"
    "                   [--docs classes|samples] [--coe N] [-o FILE]\n\n"
    "Run the model once over the images and write, for every quantizable layer, how\n"
    "well its feature maps separate the classes (TF-IDF, CSMPQ), as a TSV table:\n"
    "#layer op params macs score.";

enum { OPT_MODEL = 'm' };

static const struct cli_opt options[] = {
    { OPT_MODEL, "model", 1, "MODEL", "ONNX model file" },
    CLI_INPUT_OPTIONS,
    CLI_SCORE_OPTIONS,
    { OPT_OUT, "output", 1, "FILE", "write the table to FILE (default stdout)" },
    { 0, NULL, 0, NULL, NULL }
};


int cli_score_model(struct cli_input *in, const struct cli_scoreopt *so, const char *model,
                    const struct csq_graph *g, struct csq_scores *t)
{
    struct csq_engine *e = NULL;
    struct csq_score_opts o;
    double *s = NULL;
    size_t images = 0;
    char hex[65];
    int l, rc;

    memset(t, 0, sizeof *t);
    if ((rc = csq_sha256_file(model, hex)) != 0)
        return rc;
    if ((rc = cli_input_scan(in, g, so->docs == CSQ_TFIDF_CLASSES)) != 0)
        return rc;
    if (g->nlayers == 0)
        return csq_fail(CSQ_EUNSUPPORTED, "'%s': no quantizable layer (Conv, or Gemm / "
                        "MatMul with a constant weight) found", model);
    if ((rc = csq_engine_new(g, &e)) != 0)
        return rc;
    s = csq_mem_zarray((size_t)g->nlayers, sizeof *s);
    if (!s) {
        rc = CSQ_ENOMEM;
        goto out;
    }
    if ((rc = cli_input_open_loader(in)) != 0)
        goto out;
    memset(&o, 0, sizeof o);
    o.docs = so->docs;
    o.nclasses = in->ds.nclass;
    o.coe = so->coe;
    o.progress = cli_input_progress;
    o.pu = in;
    rc = csq_score_run(g, e, in->loader, &o, s, &images);
    cli_input_progress_end(in);
    cli_input_close_loader(in);
    if (rc != CSQ_OK)
        goto out;
    t->model = csq_mem_strdup(model);
    t->sha256 = csq_mem_strdup(hex);
    t->docs = csq_mem_strdup(so->docs == CSQ_TFIDF_CLASSES ? "classes" : "samples");
    t->images = (long)images;
    t->classes = so->docs == CSQ_TFIDF_CLASSES ? in->ds.nclass : -1;
    t->coe = so->coe;
    t->rows = csq_mem_zarray((size_t)g->nlayers, sizeof *t->rows);
    if (!t->model || !t->sha256 || !t->docs || !t->rows) {
        rc = CSQ_ENOMEM;
        goto out;
    }
    t->n = g->nlayers;
    for (l = 0; l < g->nlayers; l++) {
        struct csq_cost c;
        csq_cost_layer(g, l, &c);
        t->rows[l].layer = csq_mem_strdup(g->layers[l].name);
        t->rows[l].op = csq_mem_strdup(g->nodes[g->layers[l].node].op_type);
        t->rows[l].params = c.params;
        t->rows[l].macs = c.macs;
        t->rows[l].score = s[l];
        if (!t->rows[l].layer || !t->rows[l].op) {
            rc = CSQ_ENOMEM;
            goto out;
        }
    }
out:
    if (rc != CSQ_OK)
        csq_scores_release(t);
    free(s);
    csq_engine_free(e);
    return rc;
}

int cmd_score(int argc, char **argv)
{
    struct cli_parser p;
    struct cli_input in;
    struct cli_scoreopt so;
    struct csq_scores t;
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
            continue;
        }
        switch (c) {
        case OPT_MODEL: model = p.optarg; break;
        case OPT_OUT: out = p.optarg; break;
        case CLI_OPT_ARG:
            if (cli_input_arg(&in, p.optarg) != 0)
                return EXIT_USAGE;
            break;
        case CLI_OPT_HELP:
            return EXIT_OK;
        default:
            return EXIT_USAGE;
        }
    }
    if (cli_input_check(&in, model) != 0)
        return EXIT_USAGE;
    if ((rc = csq_onnx_load(model, &g)) == 0 &&
        (rc = cli_score_model(&in, &so, model, g, &t)) == 0)
        rc = csq_scores_write(&t, out);
    csq_scores_release(&t);
    cli_input_release(&in);
    csq_graph_free(g);
    return cli_fail("score", rc);
}
