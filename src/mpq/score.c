/*
 * score: TF-IDF of every layer over a dataset (see score.h).
 */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "mpq/feed.h"
#include "mpq/score.h"
#include "util/err.h"
#include "util/mem.h"

struct score_state {
    const struct csq_graph *g;
    struct csq_tfidf **acc;         /* [nlayers] */
    int *layer_of_value;            /* [nvals] layer index or -1 */
    float *pooled;                  /* [batch * max channels] */
    size_t pooled_cap;
    const struct csq_batch *batch;  /* current batch, for labels and paths */
    int samples;
};

/* Channels are dim 1 of a Conv's NCHW output, the last dim of a MatMul's
 * (a Linear applied to tokens, [N, L, C] or [N, H, W, C]); *last says
 * which. */
static void channels_of(const struct csq_tensor *y, const char *op, int64_t *c, int64_t *hw,
                        int *last)
{
    int d;

    *last = y->rank > 2 && strcmp(op, "Conv") != 0;
    *c = y->rank > 1 ? y->dims[*last ? y->rank - 1 : 1] : 1;
    *hw = 1;
    for (d = *last ? 1 : 2; d < (*last ? y->rank - 1 : y->rank); d++)
        *hw *= y->dims[d];
}

static int tap(void *user, int value, const struct csq_tensor *y)
{
    struct score_state *s = user;
    int l = s->layer_of_value[value], rc, last;
    int64_t n = y->dims[0], c, hw, i, k;
    const float *f;

    channels_of(y, s->g->nodes[s->g->layers[l].node].op_type, &c, &hw, &last);
    /* Token maps may fold windows into the leading dim (Swin's
     * [B * windows, tokens, C]); images stay contiguous blocks in order. */
    if (last && y->dims[0] != s->batch->n) {
        int64_t total = csq_tensor_numel(y);

        n = s->batch->n;
        if (n <= 0 || total % (n * c) != 0)
            return csq_fail(CSQ_EINVAL, "layer '%s': output of %lld values does not split "
                            "into %lld images of %lld channels", s->g->layers[l].name,
                            (long long)total, (long long)n, (long long)c);
        hw = total / (n * c);
    }
    if ((size_t)(n * c) > s->pooled_cap) {
        float *p = csq_mem_rearray(s->pooled, (size_t)(n * c), sizeof(float));
        if (!p)
            return CSQ_ENOMEM;
        s->pooled = p;
        s->pooled_cap = (size_t)(n * c);
    }
    if (last)
        csq_tfidf_pool_last(y->data, n, hw, c, s->pooled);
    else
        csq_tfidf_pool(y->data, n, c, hw, s->pooled);
    for (i = 0; i < n; i++) {
        f = s->pooled + i * c;
        for (k = 0; k < c; k++)
            if (!isfinite(f[k]))
                return csq_fail(CSQ_EINVAL, "layer '%s': the feature map of '%s' has a %s "
                                "(channel %lld); the model or the image is broken",
                                s->g->layers[l].name, s->batch->paths[i],
                                isnan(f[k]) ? "NaN" : "infinity", (long long)k);
        if ((rc = csq_tfidf_add(s->acc[l], f, s->samples ? 0 : s->batch->labels[i])) != 0)
            return rc;
    }
    return CSQ_OK;
}

static int before(void *user, const struct csq_batch *b)
{
    struct score_state *s = user;
    int i;

    s->batch = b;
    if (!s->samples)
        for (i = 0; i < b->n; i++)
            if (b->labels[i] < 0)
                return csq_fail(CSQ_EINVAL, "'%s' has no class; class documents need "
                                "labeled images (or use --docs samples)", b->paths[i]);
    return CSQ_OK;
}

int csq_score_run(const struct csq_graph *g, struct csq_engine *e, struct csq_loader *ld,
                  const struct csq_score_opts *o, double *scores, size_t *images)
{
    struct score_state s;
    struct csq_feed f;
    int l, rc = CSQ_OK;

    memset(&s, 0, sizeof s);
    if (g->nlayers == 0)
        return csq_fail(CSQ_EUNSUPPORTED, "'%s': no quantizable layer (Conv, or Gemm / "
                        "MatMul with a constant weight) found", g->path);
    s.g = g;
    s.samples = o->docs == CSQ_TFIDF_SAMPLES;
    s.acc = csq_mem_zarray((size_t)g->nlayers, sizeof *s.acc);
    s.layer_of_value = csq_mem_array((size_t)g->nvals, sizeof(int));
    if (!s.acc || !s.layer_of_value) {
        rc = CSQ_ENOMEM;
        goto out;
    }
    for (l = 0; l < g->nvals; l++)
        s.layer_of_value[l] = -1;
    for (l = 0; l < g->nlayers; l++) {
        int v = g->nodes[g->layers[l].node].out[0];
        int64_t c, hw;
        int last;
        channels_of(&g->vals[v].t, g->nodes[g->layers[l].node].op_type, &c, &hw, &last);
        if ((rc = csq_tfidf_new((int)c, o->nclasses, o->docs, &s.acc[l])) != 0)
            goto out;
        s.layer_of_value[v] = l;
        if ((rc = csq_engine_tap(e, v, tap, &s)) != 0)
            goto out;
    }
    memset(&f, 0, sizeof f);
    f.engine = e;
    f.loader = ld;
    f.before = before;
    f.user = &s;
    f.progress = o->progress;
    f.pu = o->pu;
    if ((rc = csq_feed_run(&f)) != 0)
        goto out;
    if (images)
        *images = f.images;
    for (l = 0; l < g->nlayers; l++)
        if ((rc = csq_tfidf_score(s.acc[l], o->coe, &scores[l])) != 0) {
            csq_err_context("layer '%s'", g->layers[l].name);
            goto out;
        }
out:
    csq_engine_clear_hooks(e);
    if (s.acc)
        for (l = 0; l < g->nlayers; l++)
            csq_tfidf_free(s.acc[l]);
    free(s.acc);
    free(s.layer_of_value);
    free(s.pooled);
    return rc;
}
