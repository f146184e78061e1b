/*
 * run: one float32 batch from a .npy file through the model, first output
 * to a .npy file, for checking an export against another runtime.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "cli/cli.h"
#include "nn/engine.h"
#include "nn/graph.h"
#include "nn/ops.h"
#include "onnx/onnx.h"
#include "util/err.h"
#include "util/npy.h"

static const char usage[] =
    "usage: csmpq run -m MODEL --input X.npy --output Y.npy [-j N] [--repeat N]\n\n"
    "Feed the float32 array X (shape N x C x H x W, any N) through the model in\n"
    "float32 and write the model's first output to Y (\"-\" for stdout).";

enum { OPT_MODEL = 'm', OPT_INPUT = 256, OPT_OUTPUT, OPT_REPEAT, OPT_THREADS = 'j' };

static const struct cli_opt options[] = {
    { OPT_MODEL, "model", 1, "MODEL", "ONNX model file" },
    { OPT_INPUT, "input", 1, "X.npy", "input array (.npy, float32, C order)" },
    { OPT_OUTPUT, "output", 1, "Y.npy", "where to write the first output (.npy)" },
    { OPT_THREADS, "threads", 1, "N", "threads (default: all cores)" },
    { OPT_REPEAT, "repeat", 1, "N", "time N more forward passes after the first; "
      "print images/s on stderr" },
    { 0, NULL, 0, NULL, NULL }
};

int cmd_run(int argc, char **argv)
{
    struct cli_parser p;
    const char *model = NULL, *input = NULL, *output = NULL;
    struct csq_graph *g = NULL;
    struct csq_engine *e = NULL;
    struct csq_tensor x = { 0 };
    long threads = 0, repeat = 0, i;
    int c, rc = CSQ_OK;

    cli_opt_init(&p, "run", usage, options, argc, argv);
    while ((c = cli_opt_next(&p)) != CLI_OPT_END) {
        switch (c) {
        case OPT_MODEL: model = p.optarg; break;
        case OPT_INPUT: input = p.optarg; break;
        case OPT_OUTPUT: output = p.optarg; break;
        case OPT_THREADS:
            if (cli_parse_int("run", "-j", p.optarg, 1, 1024, &threads) != 0)
                return EXIT_USAGE;
            break;
        case OPT_REPEAT:
            if (cli_parse_int("run", "--repeat", p.optarg, 1, 1000000, &repeat) != 0)
                return EXIT_USAGE;
            break;
        case CLI_OPT_ARG:
            return cli_usage_error("run", "unexpected argument '%s'", p.optarg);
        case CLI_OPT_HELP:
            return EXIT_OK;
        default:
            return EXIT_USAGE;
        }
    }
    if (!model || !input || !output)
        return cli_usage_error("run", "-m MODEL, --input and --output are required");
    csq_ops_set_threads((int)threads);
    if ((rc = csq_onnx_load(model, &g)) != 0)
        goto out;
    if (g->ninputs != 1) {
        rc = csq_fail(CSQ_EUNSUPPORTED, "'%s': the model has %d inputs; run feeds one",
                      model, g->ninputs);
        goto out;
    }
    if ((rc = csq_npy_read(input, &x)) != 0)
        goto out;
    if ((rc = csq_engine_new(g, &e)) != 0 ||
        (rc = csq_engine_forward(e, &x)) != 0) {
        if (rc == CSQ_ESHAPE)   /* the array does not fit: name its file too */
            csq_err_context("'%s'", input);
        goto out;
    }
    if (repeat > 0) {
        /* The first pass above planned memory and warmed caches. */
        struct timespec t0, t1;
        long looks0, shared0, looks, shared;
        double s;

        csq_ops_threads_shared(&looks0, &shared0);
        clock_gettime(CLOCK_MONOTONIC, &t0);
        for (i = 0; i < repeat && rc == CSQ_OK; i++)
            rc = csq_engine_forward(e, &x);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        if (rc != CSQ_OK)
            goto out;
        csq_ops_threads_shared(&looks, &shared);
        looks -= looks0;
        shared -= shared0;
        s = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
        fprintf(stderr, "csmpq: run: %ld passes of %lld images in %.3f s: %.1f images/s",
                repeat, (long long)x.dims[0], s, (double)repeat * (double)x.dims[0] / s);
        if (shared > 0)
            fprintf(stderr, " (on one thread %.0f%% of the time: other processes kept the "
                    "other cores busy)", 100.0 * (double)shared / (double)looks);
        fputc('\n', stderr);
    }
    rc = csq_npy_write(output, csq_engine_output(e, 0));
out:
    free(x.data);
    csq_engine_free(e);
    csq_graph_free(g);
    return cli_fail("run", rc);
}
