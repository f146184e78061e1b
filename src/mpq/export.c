/*
 * export: the quantized model eval simulates as an ONNX QDQ model (see
 * export.h).
 */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mpq/crit.h"
#include "mpq/export.h"
#include "mpq/qsim.h"
#include "mpq/quant.h"
#include "nn/engine.h"
#include "onnx/onnx.h"
#include "util/err.h"
#include "util/file.h"
#include "util/json.h"
#include "util/mem.h"
#include "util/sha256.h"

/* Per-axis DequantizeLinear needs opset 13; int4 needs 21. */
#define OPSET_QDQ 13
#define OPSET_INT4 21

/* Everything written for one layer; tensors own their data. */
struct xlayer {
    struct csq_tensor wl, ws, wz;       /* levels, scales, zero points */
    struct csq_tensor as, az, amin, amax;
    struct csq_tensor bl, bs;           /* int32 bias levels and their grid (qsim.h) */
    int bias;                           /* the bias value they replace, or -1 */
    int64_t waxis;
    int act_zero;                       /* scale 0: the input is multiplied by 0 */
    int abits_container;                /* CSQ_DT_UINT8 or CSQ_DT_UINT4 */
    char *nm[16];
};

enum { N_WL, N_WS, N_WZ, N_AS, N_AZ, N_AQ, N_ADQ, N_AMIN, N_AMAX, N_ACLIP, N_BL, N_BS,
       N_COUNT };

struct xstate {
    const struct csq_graph *g;
    const struct csq_export_request *r;
    struct csq_eval_quant m;
    struct xlayer *x;                   /* [g->nlayers] */
    int64_t opset;
    int use_int4;
};

static int xname(struct xlayer *x, int k, const char *base, const char *suffix)
{
    size_t n = strlen(base) + strlen(suffix) + 1;

    if (!(x->nm[k] = malloc(n)))
        return CSQ_ENOMEM;
    snprintf(x->nm[k], n, "%s%s", base, suffix);
    return CSQ_OK;
}

static int scalar(struct csq_tensor *t, int dtype, double v)
{
    memset(t, 0, sizeof *t);
    t->dtype = dtype;
    t->rank = 0;
    if (!(t->data = csq_mem_zarray(1, 8)))
        return CSQ_ENOMEM;
    if (dtype == CSQ_DT_FLOAT)
        *(float *)t->data = (float)v;
    else
        *(uint8_t *)t->data = (uint8_t)v;
    return CSQ_OK;
}

/* Opset-21 forms of operators whose inputs or attributes moved after
 * the model's opset: refuse rather than write a model that means
 * something else. */
static int check_opset_raise(const struct csq_graph *g, int64_t to)
{
    int i;

    for (i = 0; i < g->nnodes; i++) {
        const struct csq_node *n = &g->nodes[i];
        const char *why = NULL;
        if (n->dead)
            continue;
        if (g->opset < 18 && strcmp(n->op_type, "ReduceMean") == 0 && csq_node_attr(n, "axes"))
            why = "takes axes as an input from opset 18";
        if (g->opset < 18 && strcmp(n->op_type, "Split") == 0 && (n->nin < 2 || n->in[1] < 0))
            why = "needs num_outputs from opset 18";
        if (why)
            return csq_fail(CSQ_EUNSUPPORTED, "'%s': node '%s' (%s) %s, and --int4 needs "
                            "opset %lld; export without --int4", g->path, n->name,
                            n->op_type, why, (long long)to);
    }
    return CSQ_OK;
}

/* Everything that can be refused before an image is read. */
static int check_request(struct xstate *S)
{
    const struct csq_graph *g = S->g;
    const struct csq_export_request *r = S->r;
    int *wb = NULL, *ab = NULL, l, rc, differs = 0;

    if (!r->q.cfg || !r->q.calib)
        return csq_fail(CSQ_EINVAL, "export needs a bit config and calibration images");
    if (g->opset < OPSET_QDQ)
        return csq_fail(CSQ_EUNSUPPORTED, "'%s': operator set %lld: export writes per-channel "
                        "DequantizeLinear, which needs opset %d (re-export the model at "
                        "opset >= %d)", g->path, (long long)g->opset, OPSET_QDQ, OPSET_QDQ);
    wb = csq_mem_zarray((size_t)g->nlayers + 1, sizeof(int));
    ab = csq_mem_zarray((size_t)g->nlayers + 1, sizeof(int));
    if (!wb || !ab) {
        rc = CSQ_ENOMEM;
        goto out;
    }
    if ((rc = csq_eval_widths(g, r->q.model, r->q.cfg, r->q.cfg_path, r->q.abits, wb, ab,
                              &differs)) != 0)
        goto out;
    if (differs) {
        rc = csq_fail(CSQ_EINVAL, "'%s' was made for a model with another sha256 than '%s'",
                      r->q.cfg_path, r->q.model);
        goto out;
    }
    S->use_int4 = 0;
    for (l = 0; l < g->nlayers; l++) {
        if (wb[l] > CSQ_EXPORT_MAXBITS || ab[l] > CSQ_EXPORT_MAXBITS) {
            rc = csq_fail(CSQ_EUNSUPPORTED, "'%s': layer '%s': %d-bit %s do not fit the int8 "
                          "container export writes (at most %d bits)", r->q.cfg_path,
                          g->layers[l].name, wb[l] > CSQ_EXPORT_MAXBITS ? wb[l] : ab[l],
                          wb[l] > CSQ_EXPORT_MAXBITS ? "weights" : "activations",
                          CSQ_EXPORT_MAXBITS);
            goto out;
        }
        if (r->int4 && wb[l] && wb[l] <= 4)
            S->use_int4 = 1;
    }
    S->opset = S->use_int4 && g->opset < OPSET_INT4 ? OPSET_INT4 : g->opset;
    if (S->opset != g->opset)
        rc = check_opset_raise(g, S->opset);
out:
    free(wb);
    free(ab);
    return rc;
}

/* Layer l's levels and per-channel scales: the scale of each channel is
 * the one both quantizers use (rtn's choice on the float weights, mpq/gptq.h
 * step 1), the level of each weight its simulated value over that scale;
 * every simulated value must be exactly level x scale in float32, which is
 * what DequantizeLinear computes. */
static int weight_levels(struct xstate *S, int l, struct xlayer *x)
{
    const struct csq_graph *g = S->g;
    const struct csq_layer *ly = &g->layers[l];
    const struct csq_tensor *wt = &g->vals[ly->weight].t;
    const float *w = wt->data, *wq = csq_qsim_weight(S->m.q, l);
    const struct csq_qbias *qb = csq_qsim_bias(S->m.q, l);
    int b = S->m.wbits[l];
    int qmax = b == 1 ? 1 : (1 << (b - 1)) - 1;
    /* 8-bit levels go in uint8 around zero point 128: ONNX Runtime's u8s8
     * kernels on x86 without VNNI add two uint8 x int8 products in 16 bits
     * (vpmaddubsw), which saturates once |level| > 64 (measured on an AVX2
     * EPYC: W8A8 logits 0.069 of the largest off the simulation, 0.0035 with
     * uint8); its u8u8 kernels do not saturate, and 7-bit levels never do */
    int dt = S->r->int4 && b <= 4 ? CSQ_DT_INT4 : b == 8 ? CSQ_DT_UINT8 : CSQ_DT_INT8;
    int zp = dt == CSQ_DT_UINT8 ? 128 : 0;
    struct csq_layout lay;
    uint8_t *lv;
    float *sc;
    int64_t o, i;
    int rc;

    csq_layer_layout(g, l, &lay);
    if (!wq || !lay.strided)
        return csq_fail(CSQ_EINVAL, "layer '%s': no per-channel quantized weight", ly->name);
    x->wl = *wt;
    x->wl.dtype = dt;
    x->wl.data = csq_mem_zarray((size_t)csq_tensor_numel(wt) + 1, 1);
    memset(&x->ws, 0, sizeof x->ws);
    x->ws.dtype = CSQ_DT_FLOAT;
    x->ws.rank = 1;
    x->ws.dims[0] = lay.channels;
    x->ws.data = csq_mem_zarray((size_t)lay.channels + 1, sizeof(float));
    x->wz = x->ws;
    x->wz.dtype = dt;
    x->wz.data = csq_mem_zarray((size_t)lay.channels + 1, 1);
    if (!x->wl.data || !x->ws.data || !x->wz.data)
        return CSQ_ENOMEM;
    memset(x->wz.data, zp, (size_t)lay.channels);
    /* (K, N) weights of Gemm transB = 0 / MatMul keep channels on axis 1 */
    x->waxis = wt->rank == 2 && lay.ch_stride == 1 && lay.channels > 1 ? 1 : 0;
    lv = x->wl.data;
    sc = x->ws.data;
    for (o = 0; o < lay.channels; o++) {
        struct csq_wquant info;
        float s;
        if ((rc = csq_quant_choose(w + o * lay.ch_stride, lay.per_channel, lay.el_stride, b,
                                   &info)) != 0)
            return rc;
        /* a rounded bias fixes the scale of a zero channel too (qsim.h) */
        s = qb ? qb->wscale[o] : (float)info.scale;
        sc[o] = s;
        for (i = 0; i < lay.per_channel; i++) {
            int64_t k = o * lay.ch_stride + i * lay.el_stride;
            float v = wq[k];
            float q = s > 0 ? rintf(v / s) : 0.0f;
            if (!(fabsf(q) <= (float)qmax) || q * s != v)
                return csq_fail(CSQ_EINVAL, "layer '%s': weight %lld of channel %lld "
                                "(%.9g) is not a %d-bit level times the channel's scale "
                                "%.9g", ly->name, (long long)i, (long long)o, (double)v, b,
                                (double)s);
            lv[k] = (uint8_t)((int)q + zp);
        }
    }
    return CSQ_OK;
}

static int act_params(struct xstate *S, int l, struct xlayer *x)
{
    const struct csq_actq *aq = csq_qsim_actq(S->m.q, l);
    int b = S->m.abits[l], L = (1 << b) - 1, rc;
    float s;

    if (!aq)
        return csq_fail(CSQ_EINVAL, "layer '%s': activations are not calibrated",
                        S->g->layers[l].name);
    s = (float)aq->scale;
    x->act_zero = !(s > 0);
    /* uint8 also below 8 bits, with --int4 too: measured, ONNX Runtime at
     * full optimization runs uint4 QuantizeLinear -> DequantizeLinear ->
     * Conv off the simulation (97.8% of the predictions at 4 bits on the
     * shipped ResNet) and uint8 + Clip exactly */
    x->abits_container = CSQ_DT_UINT8;
    if (x->act_zero)
        return scalar(&x->as, CSQ_DT_FLOAT, 0);
    if ((rc = scalar(&x->as, CSQ_DT_FLOAT, s)) != 0 ||
        (rc = scalar(&x->az, x->abits_container, aq->zp)) != 0)
        return rc;
    /* DequantizeLinear's values at levels 0 and 2^b - 1: the Clip between
     * them is exactly a b-bit saturation */
    if ((rc = scalar(&x->amin, CSQ_DT_FLOAT, (float)(0 - aq->zp) * s)) != 0 ||
        (rc = scalar(&x->amax, CSQ_DT_FLOAT, (float)(L - aq->zp) * s)) != 0)
        return rc;
    return CSQ_OK;
}

/* The rounded bias as int32 levels and a per-channel grid scale: the
 * DequantizeLinear (axis 0, zero point 0) ONNX Runtime's QDQ rules fold
 * into QLinearConv's int32 bias, and what the simulation adds. */
static int bias_params(struct xstate *S, int l, struct xlayer *x)
{
    const struct csq_qbias *qb = csq_qsim_bias(S->m.q, l);

    x->bias = -1;
    if (!qb)
        return CSQ_OK;
    memset(&x->bl, 0, sizeof x->bl);
    x->bl.dtype = CSQ_DT_INT32;
    x->bl.rank = 1;
    x->bl.dims[0] = qb->channels;
    x->bs = x->bl;
    x->bs.dtype = CSQ_DT_FLOAT;
    x->bl.data = csq_mem_array((size_t)qb->channels + 1, sizeof(int32_t));
    x->bs.data = csq_mem_array((size_t)qb->channels + 1, sizeof(float));
    if (!x->bl.data || !x->bs.data)
        return CSQ_ENOMEM;
    memcpy(x->bl.data, qb->level, (size_t)qb->channels * sizeof(int32_t));
    memcpy(x->bs.data, qb->grid, (size_t)qb->channels * sizeof(float));
    x->bias = qb->value;
    return CSQ_OK;
}

static int layer_names(struct xstate *S, int l, struct xlayer *x)
{
    const char *wn = S->g->vals[S->g->layers[l].weight].name;
    const char *ln = S->g->layers[l].name;
    static const char *const suf[N_COUNT] = {
        "_quantized", "_scale", "_zero_point", ".input_scale", ".input_zero_point",
        ".input_quantized", ".input_dequantized", ".input_clip_min", ".input_clip_max",
        ".input_clipped", ".bias_quantized", ".bias_scale"
    };
    int k, rc;

    for (k = 0; k < N_COUNT; k++)
        if ((rc = xname(x, k, k < N_AS ? wn : ln, suf[k])) != 0)
            return rc;
    return CSQ_OK;
}

/* The node input of layer l that reads its data input. */
static int data_input(const struct csq_graph *g, int l)
{
    const struct csq_node *n = &g->nodes[g->layers[l].node];
    int i;

    for (i = 0; i < n->nin; i++)
        if (n->in[i] == g->layers[l].input)
            return i;
    return 0;
}

/* The first live node reading value v (DequantizeLinear goes before it). */
static int first_reader(const struct csq_graph *g, int v)
{
    int i, k;

    for (i = 0; i < g->nnodes; i++)
        for (k = 0; !g->nodes[i].dead && k < g->nodes[i].nin; k++)
            if (g->nodes[i].in[k] == v)
                return i;
    return g->nnodes;
}

static char *bits_json(const struct xstate *S)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *fp = open_memstream(&buf, &len);
    const char *sep = "";
    int l;

    if (!fp)
        return NULL;
    fprintf(fp, "{\"quantizer\": \"%s\", \"layers\": [",
            csq_crit_quantizer_name(S->r->q.quantizer));
    for (l = 0; l < S->g->nlayers; l++) {
        if (!S->m.wbits[l] && !S->m.abits[l])
            continue;
        fprintf(fp, "%s{\"name\": ", sep);
        csq_json_string(fp, S->g->layers[l].name);
        fprintf(fp, ", \"wbits\": %d, \"abits\": %d}", S->m.wbits[l], S->m.abits[l]);
        sep = ", ";
    }
    fputs("]}", fp);
    if (fclose(fp) != 0) {
        free(buf);
        return NULL;
    }
    return buf;
}

static void enc_entry(FILE *fp, int bits, double scale, int64_t offset, double mn, double mx,
                      int sym)
{
    fprintf(fp, "{\"bitwidth\": %d, \"dtype\": \"int\", \"is_symmetric\": \"%s\", "
            "\"max\": %.9g, \"min\": %.9g, \"offset\": %lld, \"scale\": %.9g}", bits,
            sym ? "True" : "False", mx, mn, (long long)offset, scale);
}

/* AIMET's encodings (its 0.6 JSON layout): activations by the tensor
 * quantized, offset = -zero point; weights per channel, symmetric, offset
 * -2^(b-1) as AIMET writes signed symmetric encodings. */
static int write_encodings(const struct xstate *S, const char *path)
{
    const struct csq_graph *g = S->g;
    struct csq_out o;
    const char *sep = "";
    int l, k, rc;
    int64_t c;

    if ((rc = csq_out_open(&o, path)) != 0)
        return rc;
    fputs("{\n  \"version\": \"0.6.1\",\n  \"activation_encodings\": {", o.fp);
    for (l = 0; l < g->nlayers; l++) {
        const struct csq_actq *aq = csq_qsim_actq(S->m.q, l);
        int seen = 0;
        float s;
        if (!S->m.abits[l] || !aq)
            continue;
        for (k = 0; k < l; k++)    /* one entry per tensor */
            if (S->m.abits[k] && g->layers[k].input == g->layers[l].input)
                seen = 1;
        if (seen)
            continue;
        s = (float)aq->scale;
        fprintf(o.fp, "%s\n    ", sep);
        csq_json_string(o.fp, g->vals[g->layers[l].input].name);
        fputs(": [", o.fp);
        enc_entry(o.fp, aq->bits, s, -aq->zp, (double)((float)(0 - aq->zp) * s),
                  (double)((float)((1 << aq->bits) - 1 - aq->zp) * s), 0);
        fputs("]", o.fp);
        sep = ",";
    }
    fputs("\n  },\n  \"param_encodings\": {", o.fp);
    sep = "";
    for (l = 0; l < g->nlayers; l++) {
        const struct xlayer *x = &S->x[l];
        int b = S->m.wbits[l], qmax = b == 1 ? 1 : (1 << (b - 1)) - 1;
        if (!b)
            continue;
        fprintf(o.fp, "%s\n    ", sep);
        csq_json_string(o.fp, g->vals[g->layers[l].weight].name);
        fputs(": [", o.fp);
        for (c = 0; c < x->ws.dims[0]; c++) {
            double s = ((const float *)x->ws.data)[c];
            if (c)
                fputs(", ", o.fp);
            enc_entry(o.fp, b, s, -(1LL << (b - 1)), -qmax * s, qmax * s, 1);
        }
        fputs("]", o.fp);
        sep = ",";
    }
    fputs("\n  },\n  \"excluded_layers\": []\n}\n", o.fp);
    return csq_out_commit(&o);
}

/* The edits that turn the float graph into the QDQ model, then the file. */
static int write_model(struct xstate *S, const char *sha)
{
    const struct csq_graph *g = S->g;
    struct csq_onnx_edits e;
    struct csq_onnx_add *adds = NULL;
    struct csq_onnx_rename *ren = NULL;
    struct csq_onnx_init *inits = NULL;
    unsigned char *skip = NULL;
    struct csq_meta meta[3];
    char *bits = NULL;
    int l, rc = CSQ_OK;

    memset(&e, 0, sizeof e);
    adds = csq_mem_zarray((size_t)g->nlayers * 5 + 1, sizeof *adds);
    ren = csq_mem_zarray((size_t)g->nlayers + 1, sizeof *ren);
    inits = csq_mem_zarray((size_t)g->nlayers * 9 + 1, sizeof *inits);
    skip = csq_mem_zarray((size_t)g->nvals + 1, 1);
    bits = bits_json(S);
    if (!adds || !ren || !inits || !skip || !bits) {
        rc = CSQ_ENOMEM;
        goto out;
    }
    for (l = 0; l < g->nlayers; l++) {
        const struct csq_layer *ly = &g->layers[l];
        struct xlayer *x = &S->x[l];
        const char *in_name;
        if (S->m.wbits[l]) {
            inits[e.ninits++] = (struct csq_onnx_init){ x->nm[N_WL], &x->wl };
            inits[e.ninits++] = (struct csq_onnx_init){ x->nm[N_WS], &x->ws };
            inits[e.ninits++] = (struct csq_onnx_init){ x->nm[N_WZ], &x->wz };
            adds[e.nadds++] = (struct csq_onnx_add){
                .before = first_reader(g, ly->weight), .op_type = "DequantizeLinear",
                .name = x->nm[N_WL], .in = { x->nm[N_WL], x->nm[N_WS], x->nm[N_WZ] }, .nin = 3,
                .out = g->vals[ly->weight].name, .axis = x->waxis };
            skip[ly->weight] = 1;
        }
        if (x->bias >= 0) {
            inits[e.ninits++] = (struct csq_onnx_init){ x->nm[N_BL], &x->bl };
            inits[e.ninits++] = (struct csq_onnx_init){ x->nm[N_BS], &x->bs };
            adds[e.nadds++] = (struct csq_onnx_add){
                .before = first_reader(g, x->bias), .op_type = "DequantizeLinear",
                .name = x->nm[N_BL], .in = { x->nm[N_BL], x->nm[N_BS] }, .nin = 2,
                .out = g->vals[x->bias].name, .axis = 0 };
            skip[x->bias] = 1;
        }
        if (!S->m.abits[l])
            continue;
        in_name = g->vals[ly->input].name;
        if (x->act_zero) {
            inits[e.ninits++] = (struct csq_onnx_init){ x->nm[N_AS], &x->as };
            adds[e.nadds++] = (struct csq_onnx_add){
                .before = ly->node, .op_type = "Mul", .name = x->nm[N_ADQ],
                .in = { in_name, x->nm[N_AS] }, .nin = 2, .out = x->nm[N_ADQ], .axis = -1 };
        } else {
            int clip = S->m.abits[l] < 8;
            inits[e.ninits++] = (struct csq_onnx_init){ x->nm[N_AS], &x->as };
            inits[e.ninits++] = (struct csq_onnx_init){ x->nm[N_AZ], &x->az };
            adds[e.nadds++] = (struct csq_onnx_add){
                .before = ly->node, .op_type = "QuantizeLinear", .name = x->nm[N_AQ],
                .in = { in_name, x->nm[N_AS], x->nm[N_AZ] }, .nin = 3, .out = x->nm[N_AQ],
                .axis = -1 };
            adds[e.nadds++] = (struct csq_onnx_add){
                .before = ly->node, .op_type = "DequantizeLinear", .name = x->nm[N_ADQ],
                .in = { x->nm[N_AQ], x->nm[N_AS], x->nm[N_AZ] }, .nin = 3,
                .out = x->nm[N_ADQ], .axis = -1 };
            if (clip) {
                inits[e.ninits++] = (struct csq_onnx_init){ x->nm[N_AMIN], &x->amin };
                inits[e.ninits++] = (struct csq_onnx_init){ x->nm[N_AMAX], &x->amax };
                adds[e.nadds++] = (struct csq_onnx_add){
                    .before = ly->node, .op_type = "Clip", .name = x->nm[N_ACLIP],
                    .in = { x->nm[N_ADQ], x->nm[N_AMIN], x->nm[N_AMAX] }, .nin = 3,
                    .out = x->nm[N_ACLIP], .axis = -1 };
            }
        }
        ren[e.nrenames++] = (struct csq_onnx_rename){ ly->node, data_input(g, l),
                                                      adds[e.nadds - 1].out };
    }
    meta[0] = (struct csq_meta){ (char *)"csmpq.bits", bits };
    meta[1] = (struct csq_meta){ (char *)"csmpq.source_sha256", (char *)sha };
    meta[2] = (struct csq_meta){ (char *)"csmpq.quantizer",
                                 (char *)csq_crit_quantizer_name(S->r->q.quantizer) };
    e.opset = S->opset;
    e.adds = adds;
    e.renames = ren;
    e.inits = inits;
    e.skip = skip;
    e.meta = meta;
    e.nmeta = 3;
    rc = csq_onnx_write(g, &e, S->r->out);
out:
    free(adds);
    free(ren);
    free(inits);
    free(skip);
    free(bits);
    return rc;
}

static void xlayer_release(struct xlayer *x)
{
    int k;

    free(x->wl.data);
    free(x->ws.data);
    free(x->wz.data);
    free(x->as.data);
    free(x->az.data);
    free(x->amin.data);
    free(x->amax.data);
    free(x->bl.data);
    free(x->bs.data);
    for (k = 0; k < N_COUNT; k++)
        free(x->nm[k]);
}

int csq_export_run(const struct csq_graph *g, const struct csq_export_request *r,
                   struct csq_export_result *res)
{
    struct xstate S;
    struct csq_engine *e = NULL;
    char sha[65];
    int l, rc;

    memset(res, 0, sizeof *res);
    memset(&S, 0, sizeof S);
    S.g = g;
    S.r = r;
    if ((rc = check_request(&S)) != 0)
        return rc;
    if ((rc = csq_sha256_file(r->q.model, sha)) != 0)
        return rc;
    if (!(S.x = csq_mem_zarray((size_t)g->nlayers + 1, sizeof *S.x)))
        return CSQ_ENOMEM;
    if ((rc = csq_engine_new(g, &e)) != 0 ||
        (rc = csq_eval_quantize(g, e, r->q.calib, &r->q, &S.m)) != 0)
        goto out;
    res->cost = S.m.cost;
    res->stats_images = S.m.stats_images;
    res->opset = S.opset;
    for (l = 0; l < g->nlayers && rc == CSQ_OK; l++) {
        const struct csq_gptq_info *gi = csq_qsim_gptq_info(S.m.q, l);
        if ((rc = layer_names(&S, l, &S.x[l])) != 0 || (rc = bias_params(&S, l, &S.x[l])) != 0)
            break;
        if (S.m.wbits[l] && (rc = weight_levels(&S, l, &S.x[l])) == 0)
            res->weight_layers++;
        if (rc == CSQ_OK && S.m.abits[l] && (rc = act_params(&S, l, &S.x[l])) == 0)
            res->act_layers++;
        if (gi && gi->rtn > 0)
            res->rtn_layers++;
    }
    if (rc == CSQ_OK && r->encodings)
        rc = write_encodings(&S, r->encodings);
    if (rc == CSQ_OK)
        rc = write_model(&S, sha);
out:
    for (l = 0; S.x && l < g->nlayers; l++)
        xlayer_release(&S.x[l]);
    free(S.x);
    csq_eval_quant_release(&S.m);
    csq_engine_free(e);
    return rc;
}
