/* stats: the statistics pass over real images of the shipped ResNet.  The
 * accumulation itself is checked against naive loops in t-gptq; here the
 * pass must hand each layer the right tensors with the right image
 * numbers: conv1 (whose input is the image batch, read here by a plain
 * loader) equals one csq_hessian_add_conv over all images at once, the
 * batch split changes nothing, the classifier sees one row per image, and
 * the memory plan refuses before anything runs. */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "data/source.h"
#include "mpq/gptq.h"
#include "mpq/hessian.h"
#include "mpq/stats.h"
#include "mpq/werr.h"
#include "nn/engine.h"
#include "nn/im2col.h"
#include "onnx/onnx.h"
#include "util/err.h"
#include "util/limits.h"

enum { PER_CLASS = 1, SAMPLES = 7 };

static char model[1024], calib[1024];

static int open_source(const struct csq_graph *g, int batch, struct csq_source *s)
{
    struct csq_source_opts o;

    csq_source_opts_init(&o);
    o.dir = calib;
    o.per_class = PER_CLASS;
    o.loader.batch = batch;
    return csq_source_open(s, g, &o, 0);
}

static int run_pass(const struct csq_graph *g, struct csq_engine *e, const int *want, int batch,
                    int64_t samples, struct csq_stats **st)
{
    struct csq_source s;
    struct csq_loader *ld = NULL;
    int rc;

    if ((rc = open_source(g, batch, &s)) != 0)
        return rc;
    if ((rc = csq_source_loader(&s, 0, &ld)) == 0)
        rc = csq_stats_collect(g, e, want, ld, samples, NULL, st);
    csq_loader_close(ld);
    csq_source_release(&s);
    return rc;
}

static double max_rel_diff(const double *a, const double *b, int64_t n)
{
    double worst = 0, scale = 0;
    int64_t i;

    for (i = 0; i < n; i++)
        scale = fmax(scale, fabs(b[i]));
    for (i = 0; i < n; i++)
        worst = fmax(worst, fabs(a[i] - b[i]));
    return scale > 0 ? worst / scale : worst;
}

/* conv1's statistics from the images themselves, in one call. */
static struct csq_hessian *direct_conv1(const struct csq_graph *g, int64_t samples,
                                        int64_t *nimages)
{
    const struct csq_layer *ly = &g->layers[0];
    struct csq_source s;
    struct csq_loader *ld = NULL;
    struct csq_batch b;
    struct csq_tensor x;
    struct csq_im2col geom;
    struct csq_hessian *h = NULL;
    float *all = NULL;
    int64_t n = 0, groups, k, per;
    int rc;

    if (open_source(g, 3, &s) != 0 || csq_source_loader(&s, 0, &ld) != 0)
        return NULL;
    while ((rc = csq_loader_next(ld, &b)) == 0 && b.n > 0) {
        per = (int64_t)b.c * b.h * b.w;
        all = realloc(all, (size_t)((n + b.n) * per) * sizeof *all);
        memcpy(all + n * per, b.data, (size_t)(b.n * per) * sizeof *all);
        n += b.n;
        memset(&x, 0, sizeof x);
        x.dtype = CSQ_DT_FLOAT;
        x.rank = 4;
        x.dims[1] = b.c;
        x.dims[2] = b.h;
        x.dims[3] = b.w;
    }
    x.dims[0] = n;
    x.data = all;
    if (rc == 0 && csq_hessian_layer_shape(g, 0, &groups, &k) == 0 &&
        csq_im2col_init(&geom, &g->nodes[ly->node], &x, &g->vals[ly->weight].t) == 0 &&
        (h = csq_hessian_new(groups, k, samples, CSQ_HESSIAN_SEED)) != NULL &&
        (csq_hessian_add_conv(h, &geom, all, n, 0) != 0 || csq_hessian_finish(h) != 0)) {
        csq_hessian_free(h);
        h = NULL;
    }
    csq_loader_close(ld);
    csq_source_release(&s);
    free(all);
    *nimages = n;
    return h;
}

/* tests/models/dead_input.onnx (scripts/make-dead-input-model): conv2's
 * input channel 2 is 0 on every image, so the 9 patch columns reading it
 * are dead and H is singular.  The pass must see exact zeros there, and
 * gptq must apply the dead-input rule (weights 0, H_dd = 1) and factorize
 * without redamping or falling back. */
static void test_dead_input(const char *top)
{
    enum { DEAD = 2, KH = 9, K = 4 * KH, ROWS = 8 };
    char path[1024];
    struct csq_graph *g = NULL;
    struct csq_engine *e = NULL;
    struct csq_stats *st = NULL;
    struct csq_gptq_opts o;
    struct csq_gptq_info info;
    const double *h;
    float q[ROWS * K];
    int rc, zero_h = 1, live = 1, zero_w = 1, l = 1;
    double mean = 0, err = NAN;

    snprintf(path, sizeof path, "%s/tests/models/dead_input.onnx", top ? top : ".");
    if (!ok(csq_onnx_load(path, &g) == 0 && csq_engine_new(g, &e) == 0,
            "dead_input model loads"))
        goto out;
    rc = run_pass(g, e, NULL, 4, 0, &st);
    if (!ok(rc == 0 && strcmp(g->layers[l].name, "conv2") == 0 &&
            csq_hessian_k(csq_stats_layer(st, l)) == K, "dead_input: statistics of conv2 (K %d)",
            K))
        goto out;
    h = csq_stats_matrix(st, l);
    for (int i = 0; i < K; i++) {
        int dead = i / KH == DEAD;
        mean += h[i * K + i] / K;
        for (int j = 0; j < K && dead; j++)
            zero_h &= h[i * K + j] == 0 && h[j * K + i] == 0;
        live &= dead || h[i * K + i] > 0;
    }
    ok(zero_h && live, "dead_input: H has exactly 9 zero rows and columns (input channel %d), "
       "the other 27 diagonal entries > 0 (mean %.3g)", DEAD, mean);
    csq_gptq_opts_init(&o, 3);
    rc = csq_gptq_quantize(g->vals[g->layers[l].weight].t.data, ROWS, K, K, 1, 1, h, &o, q,
                           NULL, NULL, &info);
    for (int r = 0; r < ROWS; r++)
        for (int i = DEAD * KH; i < (DEAD + 1) * KH; i++)
            zero_w &= q[r * K + i] == 0;
    ok(rc == 0 && zero_w, "dead_input: gptq sets conv2's 8 x 9 weights on the dead input to 0");
    ok(info.dead == KH && info.rtn == 0 && info.redamped == 0,
       "dead_input: %lld dead inputs, no redamping, no rtn fallback", (long long)info.dead);
    rc = csq_werr_ratio(g->vals[g->layers[l].weight].t.data, q, ROWS, K, K, 1, 1, h, &err);
    ok(rc == 0 && isfinite(err) && err > 0 && err < 1, "dead_input: E finite (%.4g)", err);
out:
    csq_stats_free(st);
    csq_engine_free(e);
    csq_graph_free(g);
}

int main(void)
{
    const char *top = getenv("top_srcdir");
    struct csq_graph *g = NULL;
    struct csq_engine *e = NULL;
    struct csq_stats *a = NULL, *b = NULL, *c = NULL;
    struct csq_hessian *d;
    int *want, l, fc, rc, same = 1;
    int64_t n = 0, k;
    size_t bytes;
    double worst = 0;

    snprintf(model, sizeof model, "%s/data/models/fmnist_resnet.onnx", top ? top : ".");
    snprintf(calib, sizeof calib, "%s/data/fmnist/calib", top ? top : ".");
    if (!ok(csq_onnx_load(model, &g) == 0 && csq_engine_new(g, &e) == 0, "model loads"))
        return tap_done();
    fc = g->nlayers - 1;
    want = calloc((size_t)g->nlayers, sizeof *want);
    want[0] = want[fc] = 1;

    /* all positions, batches of 4 (4 + 4 + 2 images) against one of 10 */
    rc = run_pass(g, e, NULL, 4, 0, &a);
    ok(rc == 0, "pass, batches of 4 (%s)", rc ? csq_errmsg() : "ok");
    rc = run_pass(g, e, NULL, 10, 0, &b);
    ok(rc == 0, "pass, one batch of 10 (%s)", rc ? csq_errmsg() : "ok");
    if (a && b) {
        is_int(csq_stats_images(a), 10 * PER_CLASS, "images counted");
        for (l = 0; l < g->nlayers; l++) {
            k = csq_hessian_k(csq_stats_layer(a, l));
            same &= csq_hessian_count(csq_stats_layer(a, l), 0) ==
                    csq_hessian_count(csq_stats_layer(b, l), 0);
            worst = fmax(worst, max_rel_diff(csq_stats_matrix(a, l), csq_stats_matrix(b, l),
                                             csq_hessian_groups(csq_stats_layer(a, l)) * k * k));
        }
        /* deeper inputs are float32 from kernels blocked by batch size */
        ok(same && worst < 1e-5, "every layer: the batch split changes H only by float "
           "rounding (worst %.2g)", worst);
        is_int(csq_hessian_count(csq_stats_layer(a, fc), 0), 10 * PER_CLASS,
               "classifier: one input row per image");
    }

    /* subsampled, only two layers, against conv1 from the images directly */
    rc = run_pass(g, e, want, 4, SAMPLES, &c);
    ok(rc == 0, "subsampled pass of 2 layers (%s)", rc ? csq_errmsg() : "ok");
    d = direct_conv1(g, SAMPLES, &n);
    ok(d != NULL && n == 10 * PER_CLASS, "conv1 directly from %lld images", (long long)n);
    if (c && d) {
        k = csq_hessian_k(d);
        ok(csq_stats_layer(c, 1) == NULL && csq_stats_layer(c, fc) != NULL,
           "only the wanted layers are collected");
        is_int(csq_hessian_count(csq_stats_layer(c, 0), 0), n * SAMPLES,
               "conv1: %d positions per image", SAMPLES);
        worst = max_rel_diff(csq_stats_matrix(c, 0), csq_hessian_matrix(d, 0),
                             csq_hessian_groups(d) * k * k);
        /* float sums over other runs of patches (hessian.h) */
        ok(worst < 1e-6, "conv1: the pass's H = the images' own up to float rounding "
           "(worst %.2g)", worst);
    }

    /* over the limit: refused in one line, nothing collected */
    csq_stats_free(a);
    a = NULL;
    csq_limit_set_memory(1 << 20);
    rc = run_pass(g, e, NULL, 4, 0, &a);
    ok(rc == CSQ_ELIMIT && a == NULL && strstr(csq_errmsg(), "over the memory limit") &&
       !strchr(csq_errmsg(), '\n'), "over the memory limit: %s", csq_errmsg());
    csq_limit_set_memory(csq_limit_default_memory());
    {
        size_t all = 0, one = 0, sum = 0;
        int64_t kmax = 0;
        for (l = 0; l < g->nlayers; l++) {
            int64_t gr, kk;
            if (csq_hessian_layer_shape(g, l, &gr, &kk) == 0 && want[l]) {
                sum += (size_t)(gr * kk * kk) * sizeof(double);
                kmax = kk > kmax ? kk : kmax;
            }
        }
        /* their matrices and one workspace for the larger K */
        if (csq_hessian_ws_bytes(kmax, &bytes) == 0)
            sum += bytes;
        rc = csq_hessian_plan_layers(g, want, &one) || csq_hessian_plan(g, &all);
        ok(rc == 0 && one == sum && one < all, "the plan of 2 layers counts only theirs (%zu of %zu bytes)",
           one, all);
    }

    test_dead_input(top);
    csq_hessian_free(d);
    csq_stats_free(a);
    csq_stats_free(b);
    csq_stats_free(c);
    free(want);
    csq_engine_free(e);
    csq_graph_free(g);
    return tap_done();
}
