/*
 * export: the quantized model eval simulates, as an ONNX QDQ model.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/input.h"
#include "cli/progress.h"
#include "mpq/crit.h"
#include "mpq/bitcfg.h"
#include "mpq/export.h"
#include "nn/ops.h"
#include "onnx/onnx.h"
#include "util/err.h"
#include "util/units.h"

static const char usage[] =
    "usage: csmpq export -m MODEL -b BITCFG --calib DIR [preprocess options]\n"
    "                    [--quantizer rtn|gptq] [--act-order] [--hessian-samples N]\n"
    "                    [--abits N] [--int4] [--encodings FILE] -o OUT.onnx\n\n"
    "Write the quantized model 'csmpq eval -b BITCFG --calib DIR' simulates (the same\n"
    "weights and activation ranges) as an ONNX QDQ model: integer weights with a\n"
    "float scale per output channel into DequantizeLinear, QuantizeLinear ->\n"
    "DequantizeLinear on the input of every quantized layer.  ONNX Runtime runs it.";

/* As eval's default (docs/RESULTS.md, "rtn against gptq"). */
#define DEFAULT_QUANTIZER CSQ_WERR_GPTQ

enum {
    OPT_MODEL = 'm', OPT_BITCFG = 'b', OPT_OUT = 'o', OPT_CALIB = 400, OPT_QUANTIZER,
    OPT_ACT_ORDER, OPT_HSAMPLES, OPT_EABITS, OPT_INT4, OPT_ENCODINGS
};

static const struct cli_opt options[] = {
    { OPT_MODEL, "model", 1, "MODEL", "ONNX model file" },
    { OPT_BITCFG, "bits", 1, "BITCFG", "bit config (csmpq allocate / analyze output)" },
    { OPT_CALIB, "calib", 1, "DIR", "calibration images (or --list FILE)" },
    { OPT_QUANTIZER, "quantizer", 1, "Q", "weight quantizer: rtn or gptq (default: gptq)" },
    { OPT_ACT_ORDER, "act-order", 0, NULL, "gptq: quantize columns by decreasing diag(H)" },
    { OPT_HSAMPLES, "hessian-samples", 1, "N",
      "layer statistics: N output positions per image (default: all)" },
    { OPT_EABITS, "abits", 1, "N", "activation bits (default: the config's, else 8)" },
    { OPT_INT4, "int4", 0, NULL, "store widths <= 4 as int4 (opset 21)" },
    { OPT_ENCODINGS, "encodings", 1, "FILE", "also write AIMET's encodings JSON" },
    { OPT_OUT, "output", 1, "OUT.onnx", "the QDQ model to write" },
    CLI_INPUT_OPTIONS,
    { 0, NULL, 0, NULL, NULL }
};

int cmd_export(int argc, char **argv)
{
    struct cli_parser p;
    struct cli_input in;
    struct cli_progress pb;
    struct csq_export_request r;
    struct csq_export_result res;
    struct csq_graph *g = NULL;
    struct csq_bitcfg *cfg = NULL;
    const char *model = NULL, *bitcfg = NULL;
    long abits = 0, hsamples = 0;
    int quantizer = DEFAULT_QUANTIZER, act_order = 0, c, h, rc = CSQ_OK;
    char sz[32];

    memset(&r, 0, sizeof r);
    cli_input_init(&in, "export");
    cli_opt_init(&p, "export", usage, options, argc, argv);
    while ((c = cli_opt_next(&p)) != CLI_OPT_END) {
        if ((h = cli_input_option(&in, c, p.optarg)) != 0) {
            if (h < 0)
                return EXIT_USAGE;
            continue;
        }
        switch (c) {
        case OPT_MODEL: model = p.optarg; break;
        case OPT_BITCFG: bitcfg = p.optarg; break;
        case OPT_CALIB: in.o.dir = p.optarg; break;
        case OPT_OUT: r.out = p.optarg; break;
        case OPT_INT4: r.int4 = 1; break;
        case OPT_ENCODINGS: r.encodings = p.optarg; break;
        case OPT_ACT_ORDER: act_order = 1; break;
        case OPT_EABITS:
            if (cli_parse_int("export", "--abits", p.optarg, 1, 16, &abits) != 0)
                return EXIT_USAGE;
            break;
        case OPT_HSAMPLES:
            if (cli_parse_int("export", "--hessian-samples", p.optarg, 1, 1L << 30, &hsamples))
                return EXIT_USAGE;
            break;
        case OPT_QUANTIZER:
            if (cli_parse_quantizer("export", p.optarg, &quantizer) != 0)
                return EXIT_USAGE;
            break;
        case CLI_OPT_ARG:
            return cli_usage_error("export", "unexpected argument '%s' (calibration images "
                                   "go with --calib DIR)", p.optarg);
        default:
            if ((h = cli_input_rest(&in, c, p.optarg)) >= 0)
                return h;
        }
    }
    if (!model)
        return cli_usage_error("export", "no model given (-m MODEL)");
    if (!bitcfg)
        return cli_usage_error("export", "no bit config given (-b BITCFG)");
    if (!in.o.dir && !in.o.list)
        return cli_usage_error("export", "no calibration images given (--calib DIR)");
    if (cli_input_check(&in, model) != 0)
        return EXIT_USAGE;
    if (!r.out)
        return cli_usage_error("export", "no output given (-o OUT.onnx)");
    if (act_order && quantizer == CSQ_WERR_RTN)
        return cli_usage_error("export", "--act-order needs --quantizer gptq");
    if (cli_check_output("export", r.out) != 0 || cli_check_output("export", r.encodings) != 0)
        return EXIT_ERROR;
    csq_ops_set_threads((int)in.threads);
    if ((rc = csq_onnx_load(model, &g)) != 0 ||
        (rc = csq_bitcfg_read(bitcfg, &cfg)) != 0 ||
        (rc = cli_input_open(&in, g, 0)) != 0)
        goto out;
    r.q.model = model;
    r.q.cfg = cfg;
    r.q.cfg_path = bitcfg;
    r.q.abits = (int)abits;
    r.q.calib = &in.src;
    r.q.quantizer = quantizer;
    r.q.act_order = act_order;
    r.q.hessian_samples = hsamples;
    r.q.progress = cli_progress_init(&pb, "export");
    if ((rc = csq_export_run(g, &r, &res)) != 0)
        goto out;
    if (res.rtn_layers)
        fprintf(stderr, "csmpq: export: warning: in %d layer(s) the Cholesky factorization "
                "failed for some groups, which use rtn (see csmpq eval -v)\n", res.rtn_layers);
    printf("wrote %s: opset %lld, %d quantized weights, %d quantized inputs, weights %s "
           "(mean %.2f bits), quantizer %s\n", r.out, (long long)res.opset, res.weight_layers,
           res.act_layers, csq_units_fmt_bytes((double)res.cost.size_bits / 8, sz, sizeof sz),
           res.cost.mean_wbits, csq_crit_quantizer_name(quantizer));
    if (r.encodings)
        printf("wrote %s\n", r.encodings);
out:
    csq_bitcfg_free(cfg);
    cli_input_release(&in);
    csq_graph_free(g);
    return cli_fail("export", rc);
}
