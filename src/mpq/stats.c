/*
 * stats: the layer statistics pass (see stats.h).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "mpq/feed.h"
#include "mpq/stats.h"
#include "nn/im2col.h"
#include "util/err.h"
#include "util/mem.h"

struct csq_stats {
    const struct csq_graph *g;
    struct csq_hessian **h;     /* [g->nlayers], NULL when not collected */
    struct csq_hessian_ws *ws;  /* shared by every layer's accumulator */
    int64_t images;             /* images before the current batch */
};

/* Refuse layers whose tapped input is not rows of the contraction. */
static int check_layer(const struct csq_graph *g, int l)
{
    const struct csq_layer *ly = &g->layers[l];
    const struct csq_node *n = &g->nodes[ly->node];

    if (strcmp(n->op_type, "Gemm") == 0 && csq_node_int(n, "transA", 0))
        return csq_fail(CSQ_EUNSUPPORTED, "layer '%s': statistics of a Gemm with transA = 1",
                        ly->name);
    if (strcmp(n->op_type, "MatMul") == 0 && n->nin > 0 && n->in[0] == ly->weight)
        return csq_fail(CSQ_EUNSUPPORTED, "layer '%s': statistics of a MatMul whose weight "
                        "is the first operand", ly->name);
    return CSQ_OK;
}

static int stats_tap(void *user, int layer, const struct csq_tensor *t)
{
    struct csq_stats *s = user;
    const struct csq_graph *g = s->g;
    const struct csq_layer *ly = &g->layers[layer];
    const struct csq_node *n = &g->nodes[ly->node];
    struct csq_hessian *h = s->h[layer];
    int64_t k = csq_hessian_k(h), numel = csq_tensor_numel(t);
    int rc;

    if (t->dtype != CSQ_DT_FLOAT)
        return csq_fail(CSQ_EUNSUPPORTED, "layer '%s': statistics of a non-float input",
                        ly->name);
    if (strcmp(n->op_type, "Conv") == 0) {
        struct csq_im2col geom;
        if ((rc = csq_im2col_init(&geom, n, t, &g->vals[ly->weight].t)) != 0)
            return rc;
        rc = csq_hessian_add_conv(h, &geom, t->data, t->dims[0], s->images);
    } else {
        /* Gemm (transA = 0) and MatMul x @ W: the last axis is the contraction */
        if (t->rank < 1 || t->dims[t->rank - 1] != k || numel % k)
            return csq_fail(CSQ_ESHAPE, "layer '%s': input rows of %lld for a weight "
                            "contracting %lld", ly->name,
                            (long long)(t->rank ? t->dims[t->rank - 1] : 0), (long long)k);
        rc = csq_hessian_add_rows(h, t->data, numel / k, k);
    }
    if (rc)
        csq_err_context("layer '%s' statistics", ly->name);
    return rc;
}

static int count_batch(void *user, const struct csq_batch *b, const struct csq_tensor *y)
{
    struct csq_stats *s = user;

    (void)y;
    s->images += b->n;
    return CSQ_OK;
}

int csq_stats_collect(const struct csq_graph *g, struct csq_engine *e, const int *want,
                      struct csq_loader *ld, int64_t samples,
                      const struct csq_progress *progress, struct csq_stats **out)
{
    struct csq_stats *s;
    struct csq_feed f;
    size_t bytes;
    int64_t kmax = 0;
    int l, rc;

    *out = NULL;
    for (l = 0; l < g->nlayers; l++)
        if ((!want || want[l]) && (rc = check_layer(g, l)) != 0)
            return rc;
    if ((rc = csq_hessian_plan_layers(g, want, &bytes)) != 0)
        return rc;
    if (!(s = csq_mem_zarray(1, sizeof *s)))
        return CSQ_ENOMEM;
    s->g = g;
    if (!(s->h = csq_mem_zarray((size_t)g->nlayers + 1, sizeof *s->h))) {
        free(s);
        return CSQ_ENOMEM;
    }
    for (l = 0; l < g->nlayers; l++) {
        int64_t groups, k;
        if ((want && !want[l]) || (rc = csq_hessian_layer_shape(g, l, &groups, &k)) != 0)
            continue;
        kmax = k > kmax ? k : kmax;
    }
    if (kmax > 0 && !(s->ws = csq_hessian_ws_new(kmax))) {
        rc = CSQ_ENOMEM;
        goto out;
    }
    for (l = 0; l < g->nlayers; l++) {
        int64_t groups, k;
        if (want && !want[l])
            continue;
        if ((rc = csq_hessian_layer_shape(g, l, &groups, &k)) != 0)
            goto out;
        if (!(s->h[l] = csq_hessian_new(groups, k, samples, CSQ_HESSIAN_SEED))) {
            rc = CSQ_ENOMEM;
            goto out;
        }
        if ((rc = csq_hessian_use(s->h[l], s->ws)) != 0)
            goto out;
        if ((rc = csq_engine_tap(e, l, CSQ_TAP_INPUT, stats_tap, s)) != 0)
            goto out;
    }
    f = (struct csq_feed){ .engine = e, .loader = ld, .after = count_batch, .user = s,
                           .progress = progress, .what = "layer statistics" };
    if ((rc = csq_feed_run(&f)) != 0)
        goto out;
    if (s->images == 0) {
        rc = csq_fail(CSQ_EINVAL, "no calibration image could be read for the layer "
                      "statistics");
        goto out;
    }
    for (l = 0; l < g->nlayers; l++)
        if (s->h[l] && (rc = csq_hessian_finish(s->h[l])) != 0) {
            csq_err_context("layer '%s'", g->layers[l].name);
            goto out;
        }
out:
    csq_engine_clear_hooks(e);
    csq_hessian_ws_free(s->ws);
    s->ws = NULL;
    if (rc != CSQ_OK) {
        csq_stats_free(s);
        return rc;
    }
    *out = s;
    return CSQ_OK;
}

const struct csq_hessian *csq_stats_layer(const struct csq_stats *s, int l)
{
    return s && l >= 0 && l < s->g->nlayers ? s->h[l] : NULL;
}

const double *csq_stats_matrix(const struct csq_stats *s, int l)
{
    const struct csq_hessian *h = csq_stats_layer(s, l);

    return h ? csq_hessian_matrix(h, 0) : NULL;
}

int64_t csq_stats_images(const struct csq_stats *s)
{
    return s->images;
}

void csq_stats_free(struct csq_stats *s)
{
    int l;

    if (!s)
        return;
    for (l = 0; s->h && l < s->g->nlayers; l++)
        csq_hessian_free(s->h[l]);
    free(s->h);
    free(s);
}
