/*
 * t-engine: engines share one const graph.  Two engines with different
 * batch sizes, forwards interleaved, give byte-identical results to one
 * engine running the same inputs in turn, and PyTorch's output for the
 * shipped input; taps give a fused layer's input, pre- and post-Relu
 * output (pre checked against a direct convolution written here); a
 * substituted weight changes only its engine and is undone by NULL;
 * resuming from a cut (forward_to, cut_save, resume) with one layer's
 * weight substituted gives byte for byte the full forward with that
 * weight, walking the cuts layer by layer as the sqnr criterion does.
 */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nn/engine.h"
#include "onnx/onnx.h"
#include "tap.h"
#include "util/err.h"
#include "util/npy.h"

static const char *model_path(const char *file)
{
    static char buf[4096];
    const char *top = getenv("top_srcdir");

    snprintf(buf, sizeof buf, "%s/tests/models/%s", top ? top : ".", file);
    return buf;
}

static void fill(float *v, int64_t n, unsigned seed)
{
    int64_t i;

    for (i = 0; i < n; i++) {
        seed = seed * 1103515245u + 12345u;
        v[i] = (float)((seed >> 8) & 0xffff) / 32768.0f - 1.0f;
    }
}

static struct csq_tensor image_batch(int64_t n, unsigned seed)
{
    struct csq_tensor t;

    memset(&t, 0, sizeof t);
    t.dtype = CSQ_DT_FLOAT;
    t.rank = 4;
    t.dims[0] = n;
    t.dims[1] = 3;
    t.dims[2] = t.dims[3] = 32;
    t.data = malloc((size_t)csq_tensor_numel(&t) * sizeof(float));
    fill(t.data, csq_tensor_numel(&t), seed);
    return t;
}

/* A malloc'd copy of an engine's output 0. */
static float *forward_copy(struct csq_engine *e, const struct csq_tensor *x, int64_t *n)
{
    const struct csq_tensor *y;
    float *c;

    if (csq_engine_forward(e, x) != 0)
        return NULL;
    y = csq_engine_output(e, 0);
    *n = csq_tensor_numel(y);
    c = malloc((size_t)*n * sizeof *c);
    memcpy(c, y->data, (size_t)*n * sizeof *c);
    return c;
}

static int same(const float *a, const float *b, int64_t n)
{
    return a && b && memcmp(a, b, (size_t)n * sizeof *a) == 0;
}

/* --- taps --- */

struct grab {
    float *v[3];            /* by enum csq_tap_at */
    struct csq_tensor t[3];
    int calls[3];
    int layer;
};

static int grab_at(struct grab *gr, int at, int layer, const struct csq_tensor *t)
{
    int64_t n = csq_tensor_numel(t);

    if (layer != gr->layer)
        return CSQ_EINVAL;
    free(gr->v[at]);
    gr->v[at] = malloc((size_t)n * sizeof(float));
    memcpy(gr->v[at], t->data, (size_t)n * sizeof(float));
    gr->t[at] = *t;
    gr->calls[at]++;
    return CSQ_OK;
}

static int tap_in(void *u, int l, const struct csq_tensor *t) { return grab_at(u, 0, l, t); }
static int tap_pre(void *u, int l, const struct csq_tensor *t) { return grab_at(u, 1, l, t); }
static int tap_post(void *u, int l, const struct csq_tensor *t) { return grab_at(u, 2, l, t); }

static int64_t attr_at(const struct csq_node *n, const char *name, int i, int64_t def)
{
    const struct csq_attr *a = csq_node_attr(n, name);

    return a && a->type == CSQ_ATTR_INTS && (size_t)i < a->n ? a->ints[i] : def;
}

/* Conv of x (N, C, H, W) by layer l's graph weight w and bias, by the
 * definition: y = b + sum x * w over the window. */
static float *direct_conv(const struct csq_graph *g, int l, const struct csq_tensor *x,
                          const float *w, const struct csq_tensor *y)
{
    const struct csq_node *n = &g->nodes[g->layers[l].node];
    const struct csq_tensor *wt = &g->vals[n->in[1]].t;
    const float *b = n->nin > 2 && n->in[2] >= 0 ? g->vals[n->in[2]].t.data : NULL;
    const float *xd = x->data;
    int64_t N = x->dims[0], C = x->dims[1], H = x->dims[2], W = x->dims[3];
    int64_t M = wt->dims[0], KH = wt->dims[2], KW = wt->dims[3];
    int64_t OH = y->dims[2], OW = y->dims[3], grp = csq_node_int(n, "group", 1);
    int64_t sh = attr_at(n, "strides", 0, 1), sw = attr_at(n, "strides", 1, 1);
    int64_t dh = attr_at(n, "dilations", 0, 1), dw = attr_at(n, "dilations", 1, 1);
    int64_t ph = attr_at(n, "pads", 0, 0), pw = attr_at(n, "pads", 1, 0);
    int64_t cg = C / grp, mg = M / grp, i, m, oh, ow, c, kh, kw;
    float *out = malloc((size_t)(N * M * OH * OW) * sizeof *out);

    for (i = 0; i < N; i++)
        for (m = 0; m < M; m++)
            for (oh = 0; oh < OH; oh++)
                for (ow = 0; ow < OW; ow++) {
                    double s = b ? b[m] : 0.0;
                    for (c = 0; c < cg; c++)
                        for (kh = 0; kh < KH; kh++)
                            for (kw = 0; kw < KW; kw++) {
                                int64_t ih = oh * sh - ph + kh * dh, iw = ow * sw - pw + kw * dw;
                                if (ih < 0 || ih >= H || iw < 0 || iw >= W)
                                    continue;
                                s += (double)xd[((i * C + m / mg * cg + c) * H + ih) * W + iw] *
                                     w[((m * cg + c) * KH + kh) * KW + kw];
                            }
                    out[((i * M + m) * OH + oh) * OW + ow] = (float)s;
                }
    return out;
}

static double max_diff(const float *a, const float *b, int64_t n)
{
    double d = 0;
    int64_t i;

    for (i = 0; i < n; i++)
        if (fabs((double)a[i] - b[i]) > d)
            d = fabs((double)a[i] - b[i]);
    return d;
}

/* A fused-Relu conv layer, preferring a Winograd one (3x3, stride 1, at
 * least 16 channels) so packing is covered. */
static int fused_layer(const struct csq_graph *g)
{
    int l, any = -1;

    for (l = 0; l < g->nlayers; l++) {
        const struct csq_node *n = &g->nodes[g->layers[l].node];
        const struct csq_tensor *w = &g->vals[g->layers[l].weight].t;
        if (!n->fused_relu || strcmp(n->op_type, "Conv") != 0)
            continue;
        if (any < 0)
            any = l;
        if (w->rank == 4 && w->dims[2] == 3 && w->dims[3] == 3 && w->dims[0] >= 16 &&
            w->dims[1] >= 16 && attr_at(n, "strides", 0, 1) == 1)
            return l;
    }
    return any;
}

static int hook_noop(void *u, int node, int input, struct csq_tensor *t)
{
    (void)u;
    (void)node;
    (void)input;
    (void)t;
    return 0;
}

/* Taps and a substituted weight on a Relu-fused conv of g; plain is the
 * output of an engine without them for input x. */
static void check_taps(const struct csq_graph *g, const struct csq_tensor *x, const float *plain)
{
    struct csq_engine *e = NULL, *a = NULL;
    struct grab gr;
    float *y, *ref, *zero;
    int64_t n3 = 0, n, i, neg = 0;
    int l, k, pass, rc;
    const void *wdata;

    memset(&gr, 0, sizeof gr);
    /* Taps on a Relu-fused conv. */
    l = fused_layer(g);
    if (!ok(l >= 0, "%s has a Relu-fused conv", g->path))
        return;
    diag("tapped layer %s", g->layers[l].name);
    gr.layer = l;
    is_int(csq_engine_new(g, &e), 0, "tap engine");
    rc = csq_engine_tap(e, l, CSQ_TAP_INPUT, tap_in, &gr) |
         csq_engine_tap(e, l, CSQ_TAP_PRE, tap_pre, &gr) |
         csq_engine_tap(e, l, CSQ_TAP_POST, tap_post, &gr);
    is_int(rc, 0, "three taps");
    y = forward_copy(e, x, &n3);
    ok(same(y, plain, n3), "a pre-activation tap leaves the output unchanged");
    free(y);
    ok(gr.calls[0] == 1 && gr.calls[1] == 1 && gr.calls[2] == 1, "each tap ran once");
    n = csq_tensor_numel(&gr.t[1]);
    for (pass = 1, i = 0; i < n; i++) {
        neg += gr.v[1][i] < 0;
        pass &= gr.v[2][i] == (gr.v[1][i] < 0 ? 0.0f : gr.v[1][i]);
    }
    ok(pass && neg > 0, "post = max(pre, 0), and pre has %lld negatives", (long long)neg);
    ref = direct_conv(g, l, &gr.t[0], g->vals[g->layers[l].weight].t.data, &gr.t[1]);
    ok(max_diff(ref, gr.v[1], n) < 1e-4, "pre-activation equals a direct convolution of "
       "the tapped input (max diff %.2g)", max_diff(ref, gr.v[1], n));
    free(ref);

    /* A substituted weight: zeros give the bias alone. */
    wdata = g->vals[g->layers[l].weight].t.data;
    zero = calloc((size_t)csq_tensor_numel(&g->vals[g->layers[l].weight].t), sizeof *zero);
    is_int(csq_engine_set_weight(e, g->layers[l].weight, zero), 0, "substitute a weight");
    y = forward_copy(e, x, &n3);
    free(y);
    ref = direct_conv(g, l, &gr.t[0], zero, &gr.t[1]);
    ok(same(ref, gr.v[1], n), "zero weight: pre-activation is the bias");
    free(ref);
    csq_engine_new(g, &a);
    y = forward_copy(a, x, &n3);
    ok(same(y, plain, n3) && g->vals[g->layers[l].weight].t.data == wdata,
       "another engine and the graph do not see it");
    free(y);
    csq_engine_set_weight(e, g->layers[l].weight, NULL);
    y = forward_copy(e, x, &n3);
    ok(same(y, plain, n3), "NULL restores the graph's weight");
    free(y);
    is_int(csq_engine_set_weight(e, g->inputs[0], zero), CSQ_EINVAL,
           "an input is not a weight");
    csq_errclear();

    /* One pre-hook per node input. */
    k = g->layers[l].node;
    rc = csq_engine_prehook(e, k, 0, hook_noop, NULL);
    is_int(rc, 0, "a pre-hook");
    rc = csq_engine_prehook(e, k, 0, hook_noop, NULL);
    ok(rc == CSQ_EINVAL && strstr(csq_errmsg(), "already has a pre-hook"),
       "a second on the same input is refused");
    csq_errclear();
    for (i = 0; i < 3; i++)
        free(gr.v[i]);
    free(zero);
    csq_engine_free(a);
    csq_engine_free(e);
}

/* --- resuming from a cut --- */

static void check_resume(const struct csq_graph *g, const struct csq_tensor *x, const char *what)
{
    struct csq_engine *full = NULL, *part = NULL;
    unsigned char *cut[2] = {NULL, NULL};
    size_t need = 0, one;
    int l, cur = 0, pass = 1, rc = 0;
    float *w = NULL;

    if (csq_engine_new(g, &full) != 0 || csq_engine_new(g, &part) != 0) {
        ok(0, "%s: engines", what);
        goto out;
    }
    rc = csq_engine_forward(part, x);
    for (l = 0; rc == 0 && l < g->nlayers; l++)
        if ((rc = csq_engine_cut_bytes(part, g->layers[l].node, &one)) == 0 && one > need)
            need = one;
    cut[0] = malloc(need + 1);
    cut[1] = malloc(need + 1);
    if (rc == 0)
        rc = csq_engine_forward_to(part, x, g->layers[0].node);
    if (rc == 0)
        rc = csq_engine_cut_save(part, g->layers[0].node, cut[0]);
    for (l = 0; rc == 0 && l < g->nlayers; l++) {
        const struct csq_tensor *wt = &g->vals[g->layers[l].weight].t;
        int64_t n = csq_tensor_numel(wt), i, ny;
        float *yf;
        const struct csq_tensor *y;
        int node = g->layers[l].node;

        free(w);
        w = malloc((size_t)n * sizeof *w);
        for (i = 0; i < n; i++)
            w[i] = ((const float *)wt->data)[i] * (i % 3 ? 0.5f : -1.0f);
        csq_engine_set_weight(full, g->layers[l].weight, w);
        yf = forward_copy(full, x, &ny);
        csq_engine_set_weight(full, g->layers[l].weight, NULL);
        csq_engine_set_weight(part, g->layers[l].weight, w);
        rc = csq_engine_resume(part, node, g->nnodes, cut[cur]);
        y = csq_engine_output(part, 0);
        pass &= rc == 0 && yf && csq_tensor_numel(y) == ny && same(yf, y->data, ny);
        free(yf);
        csq_engine_set_weight(part, g->layers[l].weight, NULL);
        if (rc == 0 && l + 1 < g->nlayers) {
            int next = g->layers[l + 1].node;
            if ((rc = csq_engine_resume(part, node, next, cut[cur])) == 0)
                rc = csq_engine_cut_save(part, next, cut[!cur]);
            cur = !cur;
        }
    }
    ok(rc == 0 && pass, "%s: resuming at each layer with its weight changed equals the "
       "full forward, byte for byte", what);
    if (rc)
        diag("%s", csq_errmsg());
    csq_errclear();
    ok(csq_engine_resume(part, 0, g->nnodes + 1, cut[0]) == CSQ_EINVAL, "%s: a stop past the "
       "last node is refused", what);
out:
    free(w);
    free(cut[0]);
    free(cut[1]);
    csq_engine_free(full);
    csq_engine_free(part);
}

int main(void)
{
    struct csq_graph *g = NULL;
    struct csq_engine *a = NULL, *b = NULL, *s = NULL;
    struct csq_tensor x3[3], x1[3], xin, want;
    float *ya[3], *yb[3], *ys3[3], *ys1[3], *y;
    int64_t n3 = 0, n1 = 0, n = 0, i;
    int pass, rc;

    rc = csq_onnx_load(model_path("resnet_tiny.onnx"), &g);
    if (!is_int(rc, 0, "load resnet_tiny") || csq_npy_read(model_path("resnet_tiny.input.npy"),
                                                         &xin) != 0 ||
        csq_npy_read(model_path("resnet_tiny.output.npy"), &want) != 0) {
        diag("%s", csq_errmsg());
        return tap_done();
    }
    for (i = 0; i < 3; i++) {
        x3[i] = image_batch(3, 100 + (unsigned)i);
        x1[i] = image_batch(1, 200 + (unsigned)i);
    }

    /* Two engines, batch 3 and batch 1, interleaved ... */
    is_int(csq_engine_new(g, &a) | csq_engine_new(g, &b) | csq_engine_new(g, &s), 0,
           "three engines on one graph");
    for (i = 0; i < 3; i++) {
        ya[i] = forward_copy(a, &x3[i], &n3);
        yb[i] = forward_copy(b, &x1[i], &n1);
    }
    /* ... against one engine switching batch size at every call. */
    for (i = 0; i < 3; i++) {
        ys3[i] = forward_copy(s, &x3[i], &n3);
        ys1[i] = forward_copy(s, &x1[i], &n1);
    }
    is_int(n3, 30, "batch-3 output has 3 x 10 values");
    is_int(n1, 10, "batch-1 output has 10 values");
    for (pass = 1, i = 0; i < 3; i++)
        pass &= same(ya[i], ys3[i], n3) && same(yb[i], ys1[i], n1);
    ok(pass, "interleaved engines equal one engine, byte for byte");
    /* The graph's shapes stay those of batch 1 whatever the engines bound. */
    is_int(g->vals[g->outputs[0]].t.dims[0], 1, "graph output shape untouched");

    /* Against PyTorch (scripts/export-test-models), on a batch of 2. */
    y = forward_copy(a, &xin, &n);
    ok(y && n == csq_tensor_numel(&want) && max_diff(y, want.data, n) < 1e-4,
       "output matches PyTorch within 1e-4");
    free(y);
    y = forward_copy(b, &x1[0], &n1);
    ok(same(y, yb[0], n1), "after another engine re-planned, the first still agrees");
    free(y);

    check_taps(g, &x3[0], ya[0]);
    check_resume(g, &x3[0], "resnet_tiny");
    /* Engines borrow the graph: free them first. */
    csq_engine_free(a);
    csq_engine_free(b);
    csq_engine_free(s);
    a = b = s = NULL;
    csq_graph_free(g);
    /* vgg_tiny's fused convs take the Winograd path, so packing is covered. */
    g = NULL;
    rc = csq_onnx_load(model_path("vgg_tiny.onnx"), &g);
    if (is_int(rc, 0, "load vgg_tiny")) {
        struct csq_engine *p = NULL;
        is_int(csq_engine_new(g, &p), 0, "plain engine");
        y = forward_copy(p, &x3[0], &n3);
        check_taps(g, &x3[0], y);
        check_resume(g, &x3[0], "vgg_tiny");
        free(y);
        csq_engine_free(p);
    }
    for (i = 0; i < 3; i++) {
        free(ya[i]);
        free(yb[i]);
        free(ys3[i]);
        free(ys1[i]);
        free(x3[i].data);
        free(x1[i].data);
    }
    free(xin.data);
    free(want.data);
    csq_engine_free(a);
    csq_engine_free(b);
    csq_engine_free(s);
    csq_graph_free(g);
    return tap_done();
}
