/*
 * eval: top-1 / top-5 of the model on a labeled image folder.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "cli/input.h"
#include "mpq/feed.h"
#include "mpq/topk.h"
#include "nn/engine.h"
#include "onnx/onnx.h"
#include "util/err.h"
#include "util/file.h"
#include "util/json.h"
#include "util/mem.h"

static const char usage[] =
    "usage: csmpq eval -m MODEL [DIR | --list FILE] [--labels FILE] [--per-class N]\n"
    "                  [--seed N] [--batch N] [-j N] [--skip-bad] [--resize N]\n"
    "                  [--crop H[xW]] [--mean a,b,c] [--std a,b,c]\n"
    "                  [--predictions FILE] [--json]\n\n"
    "Top-1 and top-5 accuracy of the float32 model on labeled images (DIR has one\n"
    "subfolder per class; class k in byte order is output k of the model).";

enum { OPT_MODEL = 'm', OPT_PRED = 400, OPT_JSON };

static const struct cli_opt options[] = {
    { OPT_MODEL, "model", 1, "MODEL", "ONNX model file" },
    CLI_INPUT_OPTIONS,
    { OPT_PRED, "predictions", 1, "FILE", "write path<TAB>label<TAB>predicted per image" },
    { OPT_JSON, "json", 0, NULL, "print one JSON object" },
    { 0, NULL, 0, NULL, NULL }
};

struct eval_state {
    struct csq_topk acc;
    int *pred;              /* (dataset size) predicted class, -1 = not run */
    int *scratch;           /* (batch) */
};

static int after_batch(void *user, const struct csq_batch *b, const struct csq_tensor *y)
{
    struct eval_state *s = user;
    int rc, i;

    if ((rc = csq_topk_add(&s->acc, y, b->labels, s->scratch)) != 0)
        return rc;
    for (i = 0; i < b->n; i++)
        s->pred[b->index[i]] = s->scratch[i];
    return CSQ_OK;
}

static int write_predictions(const char *path, const struct csq_dataset *ds, const int *pred,
                             int noutputs)
{
    struct csq_out o;
    size_t i;
    int rc;

    if ((rc = csq_out_open(&o, path)) != 0)
        return rc;
    for (i = 0; i < ds->n; i++) {
        const char *lab = ds->labels[i] >= 0 ? ds->classes[ds->labels[i]] : "-";
        char num[32];
        const char *pr;
        if (pred[i] < 0)
            continue;       /* skipped as unreadable */
        if (pred[i] < ds->nclass) {
            pr = ds->classes[pred[i]];
        } else {
            /* The model has more outputs than we have names for. */
            snprintf(num, sizeof num, "%d", pred[i]);
            pr = num;
        }
        fprintf(o.fp, "%s\t%s\t%s\n", ds->paths[i], lab, pr);
    }
    (void)noutputs;
    return csq_out_commit(&o);
}

int cmd_eval(int argc, char **argv)
{
    struct cli_parser p;
    struct cli_input in;
    struct eval_state st;
    struct csq_feed feed;
    struct csq_graph *g = NULL;
    struct csq_engine *e = NULL;
    const char *model = NULL, *predictions = NULL;
    struct timespec t0, t1;
    double secs, top1, top5;
    int json = 0, c, h, rc = CSQ_OK;
    size_t i;

    memset(&st, 0, sizeof st);
    cli_input_init(&in, "eval");
    cli_opt_init(&p, "eval", usage, options, argc, argv);
    while ((c = cli_opt_next(&p)) != CLI_OPT_END) {
        if ((h = cli_input_option(&in, c, p.optarg)) != 0) {
            if (h < 0)
                return EXIT_USAGE;
            continue;
        }
        switch (c) {
        case OPT_MODEL: model = p.optarg; break;
        case OPT_PRED: predictions = p.optarg; break;
        case OPT_JSON: json = 1; break;
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
    if (!model)
        return cli_usage_error("eval", "no model given (-m MODEL)");
    if (!in.dir && !in.list)
        return cli_usage_error("eval", "no images given (an image folder or --list FILE)");
    if ((rc = csq_onnx_load(model, &g)) != 0 ||
        (rc = cli_input_scan(&in, g, 1)) != 0 ||
        (rc = csq_engine_new(g, &e)) != 0)
        goto out;
    st.pred = csq_mem_array(in.ds.n, sizeof(int));
    st.scratch = csq_mem_array((size_t)in.batch, sizeof(int));
    if (!st.pred || !st.scratch) {
        rc = CSQ_ENOMEM;
        goto out;
    }
    for (i = 0; i < in.ds.n; i++)
        st.pred[i] = -1;
    if ((rc = cli_input_open_loader(&in)) != 0)
        goto out;
    memset(&feed, 0, sizeof feed);
    feed.engine = e;
    feed.loader = in.loader;
    feed.after = after_batch;
    feed.user = &st;
    feed.progress = cli_input_progress;
    feed.pu = &in;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    rc = csq_feed_run(&feed);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    cli_input_progress_end(&in);
    cli_input_close_loader(&in);
    if (rc != CSQ_OK)
        goto out;
    if (st.acc.images == 0) {
        rc = csq_fail(CSQ_EINVAL, "no labeled image could be evaluated");
        goto out;
    }
    if (predictions && (rc = write_predictions(predictions, &in.ds, st.pred, 0)) != 0)
        goto out;
    secs = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
    top1 = (double)st.acc.top1 / (double)st.acc.images;
    top5 = (double)st.acc.top5 / (double)st.acc.images;
    if (json) {
        fputs("{\"model\": ", stdout);
        csq_json_string(stdout, model);
        printf(", \"images\": %zu, \"classes\": %d, \"fp32\": {\"top1\": %.6f, "
               "\"top5\": %.6f}, \"images_per_s\": %.1f}\n", st.acc.images, in.ds.nclass,
               top1, top5, (double)feed.images / secs);
    } else {
        printf("model: %s\nimages: %zu (%d classes)\nfp32: top1 %.2f%% top5 %.2f%%\n"
               "speed: %.1f images/s\n", model, st.acc.images, in.ds.nclass, 100 * top1,
               100 * top5, (double)feed.images / secs);
    }
out:
    free(st.pred);
    free(st.scratch);
    cli_input_release(&in);
    csq_engine_free(e);
    csq_graph_free(g);
    return cli_fail("eval", rc);
}
