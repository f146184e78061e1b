/*
 * info: the model's input, opset and quantizable layers with their cost.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "mpq/cost.h"
#include "nn/graph.h"
#include "onnx/onnx.h"
#include "util/err.h"
#include "util/json.h"

static const char usage[] =
    "usage: csmpq info MODEL [--json]\n\n"
    "List the input, operator set and quantizable layers (Conv, and Gemm / MatMul\n"
    "with a constant weight) of an ONNX model, after BatchNormalization folding,\n"
    "with kernel, groups, shapes, parameters and MACs per image.  A symbolic\n"
    "batch dimension counts as 1.";

enum { OPT_JSON = 'j' };

static const struct cli_opt options[] = {
    { OPT_JSON, "json", 0, NULL, "write one JSON object instead of a table" },
    { 0, NULL, 0, NULL, NULL }
};

struct layer_view {
    const char *name, *node, *op;
    int64_t kernel[CSQ_MAX_RANK];
    int nkernel;
    int64_t groups;
    const struct csq_tensor *in, *out;
    struct csq_cost cost;
};

static void view(const struct csq_graph *g, int l, struct layer_view *v)
{
    const struct csq_layer *ly = &g->layers[l];
    const struct csq_node *n = &g->nodes[ly->node];
    const struct csq_tensor *w = &g->vals[ly->weight].t;
    int i;

    v->name = ly->name;
    v->node = n->name;
    v->op = n->op_type;
    v->nkernel = 0;
    v->groups = 1;
    if (strcmp(n->op_type, "Conv") == 0) {
        for (i = 2; i < w->rank; i++)
            v->kernel[v->nkernel++] = w->dims[i];
        v->groups = csq_node_int(n, "group", 1);
    }
    v->in = &g->vals[ly->input].t;
    v->out = &g->vals[n->out[0]].t;
    csq_cost_layer(g, l, &v->cost);
}

static void shape_str(char *buf, size_t len, const int64_t *d, int n, const char *sep)
{
    size_t k = 0;
    int i;

    buf[0] = '\0';
    for (i = 0; i < n && k < len; i++)
        k += (size_t)snprintf(buf + k, len - k, "%s%lld", i ? sep : "", (long long)d[i]);
}

static void print_json(const struct csq_graph *g, FILE *fp)
{
    const struct csq_value *in = &g->vals[g->inputs[0]];   /* checked by cmd_info */
    struct layer_view v;
    int64_t params, macs;
    int l;

    fputs("{\n  \"model\": ", fp);
    csq_json_string(fp, g->path);
    fprintf(fp, ",\n  \"opset\": %lld,\n  \"input\": {\"name\": ", (long long)g->opset);
    csq_json_string(fp, in->name);
    fputs(", \"shape\": ", fp);
    csq_json_dims(fp, in->t.dims, in->t.rank);
    fputs("},\n  \"layers\": [", fp);
    for (l = 0; l < g->nlayers; l++) {
        view(g, l, &v);
        fputs(l ? ",\n    {\"name\": " : "\n    {\"name\": ", fp);
        csq_json_string(fp, v.name);
        fputs(", \"node\": ", fp);
        csq_json_string(fp, v.node);
        fputs(", \"op\": ", fp);
        csq_json_string(fp, v.op);
        fputs(", \"kernel\": ", fp);
        csq_json_dims(fp, v.kernel, v.nkernel);
        fprintf(fp, ", \"groups\": %lld, \"in_shape\": ", (long long)v.groups);
        csq_json_dims(fp, v.in->dims, v.in->rank);
        fputs(", \"out_shape\": ", fp);
        csq_json_dims(fp, v.out->dims, v.out->rank);
        fprintf(fp, ", \"params\": %lld, \"macs\": %lld}", (long long)v.cost.params,
                (long long)v.cost.macs);
    }
    csq_cost_totals(g, &params, &macs);
    fprintf(fp, "\n  ],\n  \"totals\": {\"layers\": %d, \"params\": %lld, \"macs\": %lld, "
            "\"fp32_bytes\": %lld, \"int8_bytes\": %lld}\n}\n", g->nlayers,
            (long long)params, (long long)macs, (long long)params * 4, (long long)params);
}

static void print_table(const struct csq_graph *g, FILE *fp)
{
    const struct csq_value *in = &g->vals[g->inputs[0]];
    struct layer_view v;
    int64_t params, macs;
    char k[64], a[96], b[96];
    int l;

    shape_str(a, sizeof a, in->t.dims, in->t.rank, "x");
    fprintf(fp, "# model: %s\n# opset: %lld\n# input: %s %s%s\n", g->path,
            (long long)g->opset, in->name, a,
            in->decl_dims[0] < 0 ? " (symbolic batch counted as 1)" : "");
    fputs("#layer\top\tkernel\tgroups\tin_shape\tout_shape\tparams\tmacs\n", fp);
    for (l = 0; l < g->nlayers; l++) {
        view(g, l, &v);
        shape_str(k, sizeof k, v.kernel, v.nkernel, "x");
        shape_str(a, sizeof a, v.in->dims, v.in->rank, "x");
        shape_str(b, sizeof b, v.out->dims, v.out->rank, "x");
        fprintf(fp, "%s\t%s\t%s\t%lld\t%s\t%s\t%lld\t%lld\n", v.name, v.op, *k ? k : "-",
                (long long)v.groups, a, b, (long long)v.cost.params, (long long)v.cost.macs);
    }
    csq_cost_totals(g, &params, &macs);
    fprintf(fp, "# totals: layers=%d params=%lld macs=%lld fp32=%.2fMiB int8=%.2fMiB\n",
            g->nlayers, (long long)params, (long long)macs,
            (double)params * 4 / 1048576.0, (double)params / 1048576.0);
}

int cmd_info(int argc, char **argv)
{
    struct cli_parser p;
    const char *model = NULL;
    struct csq_graph *g = NULL;
    int json = 0, c, rc;

    cli_opt_init(&p, "info", usage, options, argc, argv);
    while ((c = cli_opt_next(&p)) != CLI_OPT_END) {
        switch (c) {
        case OPT_JSON:
            json = 1;
            break;
        case CLI_OPT_ARG:
            if (model)
                return cli_usage_error("info", "more than one model given");
            model = p.optarg;
            break;
        case CLI_OPT_HELP:
            return EXIT_OK;
        default:
            return EXIT_USAGE;
        }
    }
    if (!model)
        return cli_usage_error("info", "no model given (usage: csmpq info MODEL [--json])");
    if ((rc = csq_onnx_load(model, &g)) != 0)
        return cli_fail("info", rc);
    if (g->ninputs == 0) {
        csq_graph_free(g);
        return cli_fail("info", csq_fail(CSQ_EUNSUPPORTED, "'%s': the graph has no input",
                                         model));
    }
    if (json)
        print_json(g, stdout);
    else
        print_table(g, stdout);
    csq_graph_free(g);
    return EXIT_OK;
}
