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
#include "mpq/bitcfg.h"
#include "mpq/cost.h"
#include "mpq/feed.h"
#include "mpq/qsim.h"
#include "mpq/topk.h"
#include "mpq/units.h"
#include "nn/engine.h"
#include "onnx/onnx.h"
#include "util/err.h"
#include "util/file.h"
#include "util/json.h"
#include "util/mem.h"
#include "util/sha256.h"

static const char usage[] =
    "usage: csmpq eval -m MODEL [-b BITCFG | --wbits-all N] [--abits N] [--calib DIR]\n"
    "                  [DIR | --list FILE] [data options] [preprocess options]\n"
    "                  [--predictions FILE] [--json] [-v]\n\n"
    "Top-1 and top-5 accuracy of the model on labeled images (DIR has one subfolder\n"
    "per class; class k in byte order is output k of the model): in float32, and\n"
    "with -b or --wbits-all also with simulated quantization of the weights and\n"
    "of every quantized layer's input.";

enum {
    OPT_MODEL = 'm', OPT_BITCFG = 'b', OPT_VERBOSE = 'v', OPT_PRED = 400, OPT_JSON,
    OPT_WBITS_ALL, OPT_EABITS, OPT_CALIB
};

static const struct cli_opt options[] = {
    { OPT_MODEL, "model", 1, "MODEL", "ONNX model file" },
    { OPT_BITCFG, "bits", 1, "BITCFG", "bit config to simulate (csmpq allocate output)" },
    { OPT_WBITS_ALL, "wbits-all", 1, "N", "quantize every layer's weights to N bits" },
    { OPT_EABITS, "abits", 1, "N", "activation bits (default: the config's, else 8)" },
    { OPT_CALIB, "calib", 1, "DIR", "calibration images (default: the first 256 evaluated)" },
    CLI_INPUT_OPTIONS,
    { OPT_PRED, "predictions", 1, "FILE", "write path<TAB>label<TAB>predicted per image" },
    { OPT_JSON, "json", 0, NULL, "print one JSON object" },
    { OPT_VERBOSE, "verbose", 0, NULL, "one line per layer: bits, weight SQNR, range" },
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

/* Per-layer widths from a bit config: names must be the model's; a bare
 * list goes by position. */
static int widths_from_bitcfg(const struct csq_graph *g, const char *path, const char *model,
                              int abits_opt, int *wbits, int *abits)
{
    struct csq_bitcfg *c = NULL;
    char hex[65];
    int i, l, rc;

    if ((rc = csq_bitcfg_read(path, &c)) != 0)
        return rc;
    if (c->nlayers > 0 && !c->layers[0].name && c->nlayers != g->nlayers) {
        rc = csq_fail(CSQ_EINVAL, "'%s': a list of %d widths for a model of %d layers",
                      path, c->nlayers, g->nlayers);
        goto out;
    }
    for (i = 0; i < c->nlayers; i++) {
        const struct csq_bitcfg_layer *y = &c->layers[i];
        if (!y->name) {
            l = i;
        } else {
            for (l = 0; l < g->nlayers; l++)
                if (strcmp(g->layers[l].name, y->name) == 0)
                    break;
            if (l == g->nlayers) {
                rc = csq_fail(CSQ_EINVAL, "'%s': layer '%s' is not in the model '%s' "
                              "(see csmpq info)", path, y->name, model);
                goto out;
            }
        }
        if (y->wbits < 1 || y->wbits > 16) {
            rc = csq_fail(CSQ_EINVAL, "'%s': layer '%s': %d weight bits (1 to 16 allowed)",
                          path, y->name ? y->name : "?", y->wbits);
            goto out;
        }
        wbits[l] = y->wbits;
        abits[l] = abits_opt > 0 ? abits_opt : (y->abits > 0 ? y->abits : 8);
    }
    /* Same layer names but another file: likely a re-export; say so. */
    if (c->sha256 && csq_sha256_file(model, hex) == CSQ_OK && strcmp(hex, c->sha256) != 0)
        fprintf(stderr, "csmpq: eval: warning: '%s' was made for a model with another "
                "sha256 than '%s'\n", path, model);
out:
    csq_bitcfg_free(c);
    return rc;
}

struct eval_run {
    struct csq_engine *e;
    struct cli_input *in;
    struct eval_state st;
    double secs;
    size_t images;
};

static int eval_pass(struct eval_run *r)
{
    struct csq_feed feed;
    struct timespec t0, t1;
    size_t i;
    int rc;

    for (i = 0; i < r->in->ds.n; i++)
        r->st.pred[i] = -1;
    memset(&r->st.acc, 0, sizeof r->st.acc);
    if ((rc = cli_input_open_loader(r->in)) != 0)
        return rc;
    memset(&feed, 0, sizeof feed);
    feed.engine = r->e;
    feed.loader = r->in->loader;
    feed.after = after_batch;
    feed.user = &r->st;
    feed.progress = cli_input_progress;
    feed.pu = r->in;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    rc = csq_feed_run(&feed);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    cli_input_progress_end(r->in);
    cli_input_close_loader(r->in);
    r->secs = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
    r->images = feed.images;
    if (rc == CSQ_OK && r->st.acc.images == 0)
        rc = csq_fail(CSQ_EINVAL, "no labeled image could be evaluated");
    return rc;
}

/* Calibrate on --calib DIR, or on the first 256 evaluated images. */
static int calibrate(struct csq_qsim *q, struct csq_engine *e, struct cli_input *in,
                     const char *calib, const struct csq_graph *g)
{
    struct cli_input cin;
    struct csq_dataset saved;
    int rc;

    if (calib) {
        cli_input_init(&cin, "eval");
        cin.dir = calib;
        cin.prep = in->prep;
        cin.batch = in->batch;
        cin.threads = in->threads;
        cin.skip_bad = in->skip_bad;
        if ((rc = cli_input_scan(&cin, g, 0)) == 0 && (rc = cli_input_open_loader(&cin)) == 0)
            rc = csq_qsim_calibrate(q, e, cin.loader, cli_input_progress, &cin);
        cli_input_progress_end(&cin);
        cli_input_release(&cin);
        return rc;
    }
    /* The loader borrows the dataset: show it only the first 256. */
    saved = in->ds;
    if (in->ds.n > 256)
        in->ds.n = 256;
    rc = cli_input_open_loader(in);
    if (rc == CSQ_OK)
        rc = csq_qsim_calibrate(q, e, in->loader, cli_input_progress, in);
    cli_input_progress_end(in);
    cli_input_close_loader(in);
    in->ds = saved;
    return rc;
}

static void print_layers(const struct csq_graph *g, const struct csq_qsim *q,
                         const int *wbits, const int *abits)
{
    int l;

    for (l = 0; l < g->nlayers; l++) {
        const struct csq_actq *aq = csq_qsim_actq(q, l);
        printf("layer %s: w%s%d a%s%d", g->layers[l].name, wbits[l] ? "" : "float",
               wbits[l] ? wbits[l] : 32, abits[l] ? "" : "float", abits[l] ? abits[l] : 32);
        if (wbits[l])
            printf(" weight_sqnr=%.2fdB", csq_qsim_sqnr(q, l));
        if (aq)
            printf(" input_range=[%.6g, %.6g]%s", aq->lo, aq->hi,
                   aq->lo >= 0 ? " unsigned" : " signed");
        putchar('\n');
    }
}

int cmd_eval(int argc, char **argv)
{
    struct cli_parser p;
    struct cli_input in;
    struct eval_run fp, qr;
    struct csq_graph *g = NULL;
    struct csq_qsim *q = NULL;
    const char *model = NULL, *predictions = NULL, *bitcfg = NULL, *calib = NULL;
    int *wbits = NULL, *abits = NULL;
    long wall = 0, abits_opt = 0;
    int json = 0, verbose = 0, quant, c, h, l, rc = CSQ_OK;
    double size_bits = 0, bops = 0, params = 0;

    memset(&fp, 0, sizeof fp);
    memset(&qr, 0, sizeof qr);
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
        case OPT_BITCFG: bitcfg = p.optarg; break;
        case OPT_CALIB: calib = p.optarg; break;
        case OPT_WBITS_ALL:
            if (cli_parse_int("eval", "--wbits-all", p.optarg, 1, 16, &wall) != 0)
                return EXIT_USAGE;
            break;
        case OPT_EABITS:
            if (cli_parse_int("eval", "--abits", p.optarg, 1, 16, &abits_opt) != 0)
                return EXIT_USAGE;
            break;
        case OPT_PRED: predictions = p.optarg; break;
        case OPT_JSON: json = 1; break;
        case OPT_VERBOSE: verbose = 1; break;
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
    if (bitcfg && wall)
        return cli_usage_error("eval", "give -b BITCFG or --wbits-all, not both");
    if ((abits_opt || calib) && !bitcfg && !wall)
        return cli_usage_error("eval", "--abits and --calib need -b BITCFG or --wbits-all");
    quant = bitcfg || wall;
    if ((rc = csq_onnx_load(model, &g)) != 0 ||
        (rc = cli_input_scan(&in, g, 1)) != 0 ||
        (rc = csq_engine_new(g, &fp.e)) != 0)
        goto out;
    wbits = csq_mem_zarray((size_t)g->nlayers + 1, sizeof(int));
    abits = csq_mem_zarray((size_t)g->nlayers + 1, sizeof(int));
    fp.st.pred = csq_mem_array(in.ds.n, sizeof(int));
    fp.st.scratch = csq_mem_array((size_t)in.batch, sizeof(int));
    if (!wbits || !abits || !fp.st.pred || !fp.st.scratch) {
        rc = CSQ_ENOMEM;
        goto out;
    }
    if (bitcfg && (rc = widths_from_bitcfg(g, bitcfg, model, (int)abits_opt, wbits, abits)) != 0)
        goto out;
    for (l = 0; wall && l < g->nlayers; l++) {
        wbits[l] = (int)wall;
        abits[l] = abits_opt ? (int)abits_opt : 8;
    }
    if (quant) {
        /* Weights are quantized before any image is read, so a bad
         * config fails fast. */
        if ((rc = csq_qsim_new(g, wbits, abits, &q)) != 0)
            goto out;
        qr.st.pred = csq_mem_array(in.ds.n, sizeof(int));
        qr.st.scratch = csq_mem_array((size_t)in.batch, sizeof(int));
        if (!qr.st.pred || !qr.st.scratch) {
            rc = CSQ_ENOMEM;
            goto out;
        }
        for (l = 0; l < g->nlayers; l++) {
            struct csq_cost cc;
            csq_cost_layer(g, l, &cc);
            size_bits += (double)cc.params * (wbits[l] ? wbits[l] : 32);
            bops += (double)cc.macs * (wbits[l] ? wbits[l] : 32) * (abits[l] ? abits[l] : 32);
            params += (double)cc.params;
        }
    }
    fp.in = &in;
    if ((rc = eval_pass(&fp)) != 0)
        goto out;
    if (quant) {
        qr.e = fp.e;
        qr.in = &in;
        if ((rc = calibrate(q, fp.e, &in, calib, g)) != 0 ||
            (rc = csq_qsim_attach(q, fp.e)) != 0)
            goto out;
        rc = eval_pass(&qr);
        csq_qsim_detach(q, fp.e);
        if (rc != CSQ_OK)
            goto out;
    }
    if (predictions &&
        (rc = write_predictions(predictions, &in.ds, quant ? qr.st.pred : fp.st.pred)) != 0)
        goto out;
    if (json) {
        fputs("{\"model\": ", stdout);
        csq_json_string(stdout, model);
        printf(", \"images\": %zu, \"classes\": %d, \"fp32\": {\"top1\": %.6f, \"top5\": %.6f}",
               fp.st.acc.images, in.ds.nclass, (double)fp.st.acc.top1 / fp.st.acc.images,
               (double)fp.st.acc.top5 / fp.st.acc.images);
        if (quant)
            printf(", \"quantized\": {\"top1\": %.6f, \"top5\": %.6f}, \"size_bytes\": %.0f, "
                   "\"bops\": %.0f, \"mean_wbits\": %.4f", (double)qr.st.acc.top1 /
                   qr.st.acc.images, (double)qr.st.acc.top5 / qr.st.acc.images,
                   size_bits / 8, bops, size_bits / params);
        printf(", \"images_per_s\": %.1f}\n", (double)fp.images / fp.secs);
    } else {
        char a[32], b[32];
        printf("model: %s\nimages: %zu (%d classes)\nfp32: top1 %.2f%% top5 %.2f%%\n", model,
               fp.st.acc.images, in.ds.nclass, 100.0 * fp.st.acc.top1 / fp.st.acc.images,
               100.0 * fp.st.acc.top5 / fp.st.acc.images);
        if (quant)
            printf("quantized: top1 %.2f%% top5 %.2f%%\nconfig: size=%s bops=%s "
                   "mean_wbits=%.2f\n", 100.0 * qr.st.acc.top1 / qr.st.acc.images,
                   100.0 * qr.st.acc.top5 / qr.st.acc.images,
                   csq_units_fmt_bytes(size_bits / 8, a, sizeof a),
                   csq_units_fmt_count(bops, b, sizeof b), size_bits / params);
        printf("speed: %.1f images/s\n", (double)fp.images / fp.secs);
        if (verbose && quant)
            print_layers(g, q, wbits, abits);
    }
out:
    free(fp.st.pred);
    free(fp.st.scratch);
    free(qr.st.pred);
    free(qr.st.scratch);
    free(wbits);
    free(abits);
    csq_qsim_free(q);
    cli_input_release(&in);
    csq_engine_free(fp.e);
    csq_graph_free(g);
    return cli_fail("eval", rc);
}
