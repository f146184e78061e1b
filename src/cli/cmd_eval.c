/*
 * eval: top-1 / top-5 of the model on a labeled image folder.
 */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/input.h"
#include "cli/progress.h"
#include "mpq/crit.h"
#include "mpq/bitcfg.h"
#include "mpq/eval.h"
#include "util/units.h"
#include "nn/ops.h"
#include "onnx/onnx.h"
#include "util/err.h"
#include "util/file.h"
#include "util/json.h"

static const char usage[] =
    "usage: csmpq eval -m MODEL [-b BITCFG | --wbits-all N] [--abits N] [--calib DIR]\n"
    "                  [--quantizer rtn|gptq] [--act-order] [--hessian-samples N]\n"
    "                  [DIR | --list FILE] [data options] [preprocess options]\n"
    "                  [--predictions FILE] [--json] [-v]\n\n"
    "Top-1 and top-5 accuracy of the model on labeled images (DIR has one subfolder\n"
    "per class; class k in byte order is output k of the model): in float32, and\n"
    "with -b or --wbits-all also with simulated quantization of the weights and\n"
    "of every quantized layer's input.";

/* The measured choice (docs/RESULTS.md, "rtn against gptq"). */
#define DEFAULT_QUANTIZER CSQ_WERR_GPTQ

enum {
    OPT_MODEL = 'm', OPT_BITCFG = 'b', OPT_VERBOSE = 'v', OPT_PRED = 400, OPT_JSON,
    OPT_WBITS_ALL, OPT_EABITS, OPT_CALIB, OPT_QUANTIZER, OPT_ACT_ORDER, OPT_HSAMPLES
};

static const struct cli_opt options[] = {
    { OPT_MODEL, "model", 1, "MODEL", "ONNX model file" },
    { OPT_BITCFG, "bits", 1, "BITCFG", "bit config to simulate (csmpq allocate output)" },
    { OPT_WBITS_ALL, "wbits-all", 1, "N", "quantize every layer's weights to N bits" },
    { OPT_EABITS, "abits", 1, "N", "activation bits (default: the config's, else 8)" },
    { OPT_CALIB, "calib", 1, "DIR", "calibration images (default: the first 256 evaluated)" },
    { OPT_QUANTIZER, "quantizer", 1, "Q", "weight quantizer: rtn or gptq (default: gptq)" },
    { OPT_ACT_ORDER, "act-order", 0, NULL, "gptq: quantize columns by decreasing diag(H)" },
    { OPT_HSAMPLES, "hessian-samples", 1, "N",
      "layer statistics: N output positions per image (default: all)" },
    CLI_INPUT_OPTIONS,
    { OPT_PRED, "predictions", 1, "FILE", "write path<TAB>label<TAB>predicted per image" },
    { OPT_JSON, "json", 0, NULL, "print one JSON object" },
    { OPT_VERBOSE, "verbose", 0, NULL,
      "one line per layer: bits, weight SQNR, output error E, range" },
    { 0, NULL, 0, NULL, NULL }
};

static int write_predictions(const char *path, const struct csq_dataset *ds, const int *pred)
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
    return csq_out_commit(&o);
}

static void print_layers(const struct csq_graph *g, const struct csq_eval_result *res)
{
    int l;

    for (l = 0; l < g->nlayers; l++) {
        const struct csq_eval_layer *y = &res->layers[l];
        printf("layer %s: w%s%d a%s%d", g->layers[l].name, y->wbits ? "" : "float",
               y->wbits ? y->wbits : 32, y->abits ? "" : "float", y->abits ? y->abits : 32);
        if (y->wbits)
            printf(" weight_sqnr=%.2fdB", y->weight_sqnr);
        if (y->wbits && !isnan(y->werr))
            printf(" E=%.4g", y->werr);
        if (y->have_range)
            printf(" input_range=[%.6g, %.6g]%s", y->lo, y->hi,
                   y->lo >= 0 ? " unsigned" : " signed");
        putchar('\n');
    }
}

/* A double for JSON: null when not a finite number. */
static void json_num(const char *fmt, double v)
{
    if (isfinite(v))
        printf(fmt, v);
    else
        fputs("null", stdout);
}

static void print_json_layers(const struct csq_graph *g, const struct csq_eval_result *r)
{
    int l;

    fputs(", \"layers\": [", stdout);
    for (l = 0; l < g->nlayers; l++) {
        const struct csq_eval_layer *y = &r->layers[l];
        fputs(l ? ", {\"name\": " : "{\"name\": ", stdout);
        csq_json_string(stdout, g->layers[l].name);
        printf(", \"wbits\": %d, \"abits\": %d, \"weight_sqnr_db\": ", y->wbits, y->abits);
        if (y->wbits)
            json_num("%.4f", y->weight_sqnr);
        else
            fputs("null", stdout);
        fputs(", \"e\": ", stdout);
        json_num("%.9g", y->wbits ? y->werr : NAN);
        printf(", \"rtn_groups\": %lld, \"input_range\": ", (long long)y->rtn_groups);
        if (y->have_range)
            printf("[%.9g, %.9g]}", y->lo, y->hi);
        else
            fputs("null}", stdout);
    }
    fputs("]", stdout);
}

static void print_json(const char *model, const struct csq_graph *g,
                       const struct csq_eval_request *rq, const struct csq_eval_result *r,
                       int nclass)
{
    const struct csq_eval_topk *f = &r->fp32, *q = &r->quant;

    fputs("{\"model\": ", stdout);
    csq_json_string(stdout, model);
    printf(", \"images\": %zu, \"classes\": %d, \"fp32\": {\"top1\": %.6f, \"top5\": %.6f}",
           f->images, nclass, (double)f->top1 / f->images, (double)f->top5 / f->images);
    if (r->quantized) {
        printf(", \"quantized\": {\"top1\": %.6f, \"top5\": %.6f}, \"size_bytes\": %.0f, "
               "\"bops\": %.0f, \"mean_wbits\": %.4f", (double)q->top1 / q->images,
               (double)q->top5 / q->images, (double)r->cost.size_bits / 8, (double)r->cost.bops,
               r->cost.mean_wbits);
        printf(", \"quantizer\": \"%s\", \"act_order\": %s, \"hessian_samples\": ",
               csq_crit_quantizer_name(rq->quantizer), rq->act_order ? "true" : "false");
        if (rq->hessian_samples > 0)
            printf("%lld", (long long)rq->hessian_samples);
        else
            fputs("null", stdout);
        printf(", \"stats_images\": %lld", (long long)r->stats_images);
        print_json_layers(g, r);
    }
    printf(", \"images_per_s\": %.1f}\n", r->images_per_s);
}

static void print_text(const char *model, const struct csq_eval_result *r, int nclass)
{
    const struct csq_eval_topk *f = &r->fp32, *q = &r->quant;
    char a[32], b[32];

    printf("model: %s\nimages: %zu (%d classes)\nfp32: top1 %.2f%% top5 %.2f%%\n", model,
           f->images, nclass, 100.0 * f->top1 / f->images, 100.0 * f->top5 / f->images);
    if (r->quantized)
        printf("quantized: top1 %.2f%% top5 %.2f%%\nconfig: size=%s bops=%s "
               "mean_wbits=%.2f\n", 100.0 * q->top1 / q->images, 100.0 * q->top5 / q->images,
               csq_units_fmt_bytes((double)r->cost.size_bits / 8, a, sizeof a),
               csq_units_fmt_count((double)r->cost.bops, b, sizeof b), r->cost.mean_wbits);
    printf("speed: %.1f images/s\n", r->images_per_s);
}

int cmd_eval(int argc, char **argv)
{
    struct cli_parser p;
    struct cli_input in, cin;
    struct cli_progress pb;
    struct csq_eval_request r;
    struct csq_eval_result res;
    struct csq_graph *g = NULL;
    struct csq_bitcfg *cfg = NULL;
    const char *model = NULL, *predictions = NULL, *bitcfg = NULL;
    long wall = 0, abits_opt = 0, hsamples = 0;
    int64_t k;
    int json = 0, verbose = 0, quantizer = -1, act_order = 0, c, h, l, rc = CSQ_OK;

    memset(&res, 0, sizeof res);
    cli_input_init(&in, "eval");
    cli_input_init(&cin, "eval");
    cli_opt_init(&p, "eval", usage, options, argc, argv);
    while ((c = cli_opt_next(&p)) != CLI_OPT_END) {
        if ((h = cli_input_option(&in, c, p.optarg)) != 0) {
            if (h < 0)
                return EXIT_USAGE;
            continue;
        }
        switch (c) {
        case OPT_MODEL: model = p.optarg; break;
        case OPT_BITCFG: bitcfg = p.optarg; break;
        case OPT_CALIB: cin.o.dir = p.optarg; break;
        case OPT_WBITS_ALL:
            if (cli_parse_int("eval", "--wbits-all", p.optarg, 1, 16, &wall) != 0)
                return EXIT_USAGE;
            break;
        case OPT_EABITS:
            if (cli_parse_int("eval", "--abits", p.optarg, 1, 16, &abits_opt) != 0)
                return EXIT_USAGE;
            break;
        case OPT_QUANTIZER:
            if (cli_parse_quantizer("eval", p.optarg, &quantizer) != 0)
                return EXIT_USAGE;
            break;
        case OPT_ACT_ORDER: act_order = 1; break;
        case OPT_HSAMPLES:
            if (cli_parse_int("eval", "--hessian-samples", p.optarg, 1, 1L << 30, &hsamples))
                return EXIT_USAGE;
            break;
        case OPT_PRED: predictions = p.optarg; break;
        case OPT_JSON: json = 1; break;
        case OPT_VERBOSE: verbose = 1; break;
        default:
            if ((h = cli_input_rest(&in, c, p.optarg)) >= 0)
                return h;
        }
    }
    if (cli_input_check(&in, model) != 0)
        return EXIT_USAGE;
    if (bitcfg && wall)
        return cli_usage_error("eval", "give -b BITCFG or --wbits-all, not both");
    if ((abits_opt || cin.o.dir || quantizer >= 0 || act_order || hsamples) && !bitcfg && !wall)
        return cli_usage_error("eval", "--abits, --calib, --quantizer, --act-order and "
                               "--hessian-samples need -b BITCFG or --wbits-all");
    if (act_order && quantizer == CSQ_WERR_RTN)
        return cli_usage_error("eval", "--act-order needs --quantizer gptq");
    if (cli_check_output("eval", predictions) != 0)
        return EXIT_ERROR;
    csq_ops_set_threads((int)in.threads);
    /* The calibration images are read as the evaluated ones are. */
    cli_input_like(&cin, &in);
    memset(&r, 0, sizeof r);
    r.model = model;
    r.cfg_path = bitcfg;
    r.wbits_all = (int)wall;
    r.abits = (int)abits_opt;
    r.quantizer = quantizer >= 0 ? quantizer : DEFAULT_QUANTIZER;
    r.act_order = act_order;
    r.hessian_samples = hsamples;
    /* E is printed by -v, and written by --json whenever gptq's statistics
     * are there anyway; otherwise nothing shows it, so it is not computed */
    r.werr = verbose || (json && r.quantizer == CSQ_WERR_GPTQ);
    r.progress = cli_progress_init(&pb, "eval");
    if ((rc = csq_onnx_load(model, &g)) != 0 ||
        (bitcfg && (rc = csq_bitcfg_read(bitcfg, &cfg)) != 0) ||
        (rc = cli_input_open(&in, g, 1)) != 0 ||
        (cin.o.dir && (rc = cli_input_open(&cin, g, 0)) != 0))
        goto out;
    r.cfg = cfg;
    r.calib = cin.o.dir ? &cin.src : NULL;
    if ((k = csq_eval_class_mismatch(g, &in.src)) != 0)
        fprintf(stderr, "csmpq: eval: warning: '%s' has %d classes but the model has %lld "
                "outputs; without --labels, class k in byte order is output k, so top-1 is "
                "probably meaningless\n", in.src.name, in.src.ds.nclass, (long long)k);
    if ((rc = csq_eval_run(g, &in.src, &r, &res)) != 0)
        goto out;
    if (res.sha256_differs)
        fprintf(stderr, "csmpq: eval: warning: '%s' was made for a model with another "
                "sha256 than '%s'\n", bitcfg, model);
    cli_input_skipped(&in, in.src.ds.n - res.images);
    for (l = 0; res.layers && l < res.nlayers; l++)
        if (res.layers[l].rtn_groups > 0)
            fprintf(stderr, "csmpq: eval: warning: layer '%s': the Cholesky factorization of "
                    "its statistics failed in %lld of %lld groups, which use rtn\n",
                    g->layers[l].name, (long long)res.layers[l].rtn_groups,
                    (long long)res.layers[l].groups);
    if (predictions && (rc = write_predictions(predictions, &in.src.ds, res.pred)) != 0)
        goto out;
    if (json) {
        print_json(model, g, &r, &res, in.src.ds.nclass);
    } else {
        print_text(model, &res, in.src.ds.nclass);
        if (verbose && res.quantized)
            print_layers(g, &res);
    }
out:
    csq_eval_result_release(&res);
    csq_bitcfg_free(cfg);
    cli_input_release(&cin);
    cli_input_release(&in);
    csq_graph_free(g);
    return cli_fail("eval", rc);
}
