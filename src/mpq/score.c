/*
 * score: the score pipeline (see score.h).
 */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "mpq/alloc.h"
#include "mpq/bitcfg.h"
#include "mpq/crit.h"
#include "mpq/cost.h"
#include "mpq/plan.h"
#include "mpq/feed.h"
#include "mpq/score.h"
#include "nn/engine.h"
#include "util/dist.h"
#include "util/err.h"
#include "util/mem.h"
#include "util/sha256.h"

struct score_state {
    const struct csq_graph *g;
    struct csq_tfidf **acc;         /* [nlayers] */
    float *pooled;                  /* [batch * max channels] */
    size_t pooled_cap;
    const struct csq_batch *batch;  /* current batch, for labels and paths */
    int samples;
    /* Split over MPI ranks (feed.h): each rank's pooled rows of a round,
     * as records {int layer, int n, int cls[n] or none, float f[n][c]},
     * gathered in batch order and added by every rank, in the order one
     * process adds them, so the scores keep their bits. */
    int defer;
    unsigned char *pend;
    size_t plen, pcap;
    size_t images;                  /* images added (all ranks') */
};

static int pend_put(struct score_state *s, const void *p, size_t n)
{
    if (s->plen + n > s->pcap) {
        size_t cap = 2 * (s->plen + n) + 4096;
        unsigned char *q = realloc(s->pend, cap);
        if (!q)
            return CSQ_ENOMEM;
        s->pend = q;
        s->pcap = cap;
    }
    memcpy(s->pend + s->plen, p, n);
    s->plen += n;
    return CSQ_OK;
}

static int add_rows(struct score_state *s, int l, int64_t n, int64_t c, const float *f,
                    const int *labels)
{
    int64_t i;
    int rc;

    for (i = 0; i < n; i++)
        if ((rc = csq_tfidf_add(s->acc[l], f + i * c, s->samples ? 0 : labels[i])) != 0)
            return rc;
    return CSQ_OK;
}

/* Every rank's records of the round, in rank (= batch) order. */
static int round_add(void *user)
{
    struct score_state *s = user;
    int64_t len = (int64_t)s->plen;
    unsigned char *all, *p, *end;
    int rc = CSQ_OK;

    if ((rc = csq_dist_sum_i64(&len, 1)) != 0)
        return rc;
    if (!(all = malloc((size_t)len + 1)))
        return CSQ_ENOMEM;
    if ((rc = csq_dist_gather(s->pend, s->plen, all, (size_t)len)) == CSQ_OK)
        for (p = all, end = all + len; p < end && rc == CSQ_OK;) {
            int hdr[3];
            memcpy(hdr, p, sizeof hdr);
            p += sizeof hdr;
            if (hdr[0] < 0) {   /* a batch: its labels */
                s->images += (size_t)hdr[1];
                p += (size_t)hdr[1] * sizeof(int);
                continue;
            }
            {
                int64_t n = hdr[1], c = hdr[2];
                float *f = malloc((size_t)(n * c) * sizeof *f + 1);
                int *lab = malloc((size_t)n * sizeof *lab + 1);
                if (!f || !lab)
                    rc = CSQ_ENOMEM;
                if (rc == CSQ_OK) {
                    memcpy(lab, p, (size_t)n * sizeof *lab);
                    memcpy(f, p + (size_t)n * sizeof *lab, (size_t)(n * c) * sizeof *f);
                    rc = add_rows(s, hdr[0], n, c, f, lab);
                }
                p += (size_t)n * sizeof *lab + (size_t)(n * c) * sizeof *f;
                free(f);
                free(lab);
            }
        }
    free(all);
    s->plen = 0;
    return rc;
}

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

static int tap(void *user, int l, const struct csq_tensor *y)
{
    struct score_state *s = user;
    int rc, last;
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
    }
    if (s->defer) {
        int hdr[3] = {l, (int)n, (int)c};
        if ((rc = pend_put(s, hdr, sizeof hdr)) != 0 ||
            (rc = pend_put(s, s->batch->labels, (size_t)n * sizeof(int))) != 0)
            return rc;
        return pend_put(s, s->pooled, (size_t)(n * c) * sizeof(float));
    }
    return add_rows(s, l, n, c, s->pooled, s->batch->labels);
}

static int before(void *user, const struct csq_batch *b)
{
    struct score_state *s = user;
    int i, rc;

    s->batch = b;
    if (s->defer) {
        int hdr[3] = {-1, b->n, 0};
        if ((rc = pend_put(s, hdr, sizeof hdr)) != 0 ||
            (rc = pend_put(s, b->labels, (size_t)b->n * sizeof(int))) != 0)
            return rc;
    }
    if (!s->samples)
        for (i = 0; i < b->n; i++)
            if (b->labels[i] < 0)
                return csq_fail(CSQ_EINVAL, "'%s' has no class; class documents need "
                                "labeled images (sample documents do not)", b->paths[i]);
    return CSQ_OK;
}

/* Each layer's score over the loader's images; *images gets how many went
 * through. */
static int score_pass(const struct csq_graph *g, struct csq_engine *e, struct csq_loader *ld,
                      const struct csq_score_request *o, int nclasses, double *scores,
                      size_t *images)
{
    struct score_state s;
    struct csq_feed f;
    int l, rc = CSQ_OK;

    memset(&s, 0, sizeof s);
    s.g = g;
    s.samples = o->docs == CSQ_TFIDF_SAMPLES;
    s.acc = csq_mem_zarray((size_t)g->nlayers, sizeof *s.acc);
    if (!s.acc) {
        rc = CSQ_ENOMEM;
        goto out;
    }
    for (l = 0; l < g->nlayers; l++) {
        int v = g->nodes[g->layers[l].node].out[0];
        int64_t c, hw;
        int last;
        channels_of(&g->vals[v].t, g->nodes[g->layers[l].node].op_type, &c, &hw, &last);
        if ((rc = csq_tfidf_new((int)c, nclasses, o->docs, &s.acc[l])) != 0)
            goto out;
        /* TF-IDF pools relu(Y): the value after a fused Relu */
        if ((rc = csq_engine_tap(e, l, CSQ_TAP_POST, tap, &s)) != 0)
            goto out;
    }
    memset(&f, 0, sizeof f);
    f.engine = e;
    f.loader = ld;
    f.before = before;
    f.user = &s;
    f.progress = &o->progress;
    f.what = "score";
    s.defer = csq_dist_size() > 1;
    f.split = 1;
    f.round = round_add;
    if ((rc = csq_feed_run(&f)) != 0)
        goto out;
    *images = s.defer ? s.images : f.images;
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
    free(s.pooled);
    free(s.pend);
    return rc;
}

static int fill_table(const struct csq_graph *g, const char *model, const char *hex,
                      const struct csq_score_request *r, int nclasses, size_t images,
                      const double *s, struct csq_scoretab *t)
{
    int l;

    t->model = csq_mem_strdup(model);
    t->sha256 = csq_mem_strdup(hex);
    t->docs = csq_mem_strdup(r->docs == CSQ_TFIDF_CLASSES ? "classes" : "samples");
    t->images = (long)images;
    t->classes = r->docs == CSQ_TFIDF_CLASSES ? nclasses : -1;
    t->coe = r->coe;
    t->rows = csq_mem_zarray((size_t)g->nlayers, sizeof *t->rows);
    if (!t->model || !t->sha256 || !t->docs || !t->rows)
        return CSQ_ENOMEM;
    t->n = g->nlayers;
    for (l = 0; l < g->nlayers; l++) {
        struct csq_cost c;
        csq_cost_layer(g, l, &c);
        t->rows[l].layer = csq_mem_strdup(g->layers[l].name);
        t->rows[l].op = csq_mem_strdup(g->nodes[g->layers[l].node].op_type);
        t->rows[l].params = c.params;
        t->rows[l].macs = c.macs;
        t->rows[l].score = s[l];
        if (!t->rows[l].layer || !t->rows[l].op)
            return CSQ_ENOMEM;
    }
    return CSQ_OK;
}

/* The criterion's cost columns, next to the scores s. */
static int add_costs(const struct csq_graph *g, const struct csq_source *src,
                     const struct csq_score_request *r, const double *s,
                     struct csq_scoretab *t)
{
    static const int ptq[] = {2, 3, 4};
    struct csq_crit_request cr;
    double *cost;
    int w[16], nw = r->nwidths > 0 ? r->nwidths : 3, i, j, l, rc;

    memcpy(w, r->nwidths > 0 ? r->widths : ptq, (size_t)nw * sizeof *w);
    for (i = 1; i < nw; i++)        /* ascending columns */
        for (j = i; j > 0 && w[j - 1] > w[j]; j--) {
            int x = w[j];
            w[j] = w[j - 1];
            w[j - 1] = x;
        }
    memset(&cr, 0, sizeof cr);
    cr.criterion = r->criterion;
    cr.quantizer = r->quantizer;
    cr.act_order = r->act_order;
    cr.hessian_samples = r->hessian_samples;
    cr.sqnr_images = r->sqnr_images;
    cr.scores = s;
    cr.progress = r->progress;
    if (!(cost = csq_mem_array((size_t)g->nlayers * CSQ_ALLOC_MAXBITS, sizeof *cost)))
        return CSQ_ENOMEM;
    if ((rc = csq_crit_costs(g, src, &cr, w, nw, cost)) == 0) {
        for (l = 0; l < g->nlayers; l++)
            memcpy(t->rows[l].cost, cost + (size_t)l * CSQ_ALLOC_MAXBITS,
                   sizeof t->rows[l].cost);
        memcpy(t->widths, w, (size_t)nw * sizeof *w);
        t->nwidths = nw;
        t->criterion = csq_mem_strdup(csq_crit_name(r->criterion));
        t->quantizer = csq_mem_strdup(csq_crit_quantizer_name(r->quantizer));
        if (!t->criterion || !t->quantizer)
            rc = CSQ_ENOMEM;
    }
    free(cost);
    return rc;
}

int csq_score_model(const struct csq_graph *g, const char *model, const struct csq_source *src,
                    const struct csq_score_request *r, struct csq_scoretab *out)
{
    struct csq_engine *e = NULL;
    struct csq_loader *ld = NULL;
    double *s = NULL;
    size_t images = 0;
    char hex[65];
    int rc;

    memset(out, 0, sizeof *out);
    if (g->nlayers == 0)
        return csq_fail(CSQ_EUNSUPPORTED, "'%s': no quantizable layer (Conv, or Gemm / "
                        "MatMul with a constant weight) found", model);
    if ((rc = csq_sha256_file(model, hex)) != 0)
        return rc;
    if (!(s = csq_mem_zarray((size_t)g->nlayers, sizeof *s)))
        return CSQ_ENOMEM;
    if ((rc = csq_engine_new(g, &e)) == 0 &&
        (rc = csq_source_loader(src, 0, &ld)) == 0 &&
        (rc = score_pass(g, e, ld, r, src->ds.nclass, s, &images)) == 0 &&
        (rc = fill_table(g, model, hex, r, src->ds.nclass, images, s, out)) == 0 &&
        r->criterion != CSQ_CRIT_TFIDF)
        rc = add_costs(g, src, r, s, out);
    if (rc != CSQ_OK)
        csq_scoretab_release(out);
    csq_loader_close(ld);
    csq_engine_free(e);
    free(s);
    return rc;
}

int csq_score_analyze(const struct csq_graph *g, const char *model,
                      const struct csq_source *src, const struct csq_score_request *sr,
                      const struct csq_plan_request *r, struct csq_scoretab *t,
                      struct csq_bitcfg *cfg)
{
    struct csq_plan_request pr = *r;
    const char **nodes;
    int l, rc;

    memset(cfg, 0, sizeof *cfg);
    if (sr->criterion != CSQ_CRIT_TFIDF && sr->nwidths == 0) {
        struct csq_score_request wr = *sr;
        if ((rc = csq_plan_widths(r, wr.widths, &wr.nwidths)) != 0)
            return rc;
        rc = csq_score_model(g, model, src, &wr, t);
    } else {
        rc = csq_score_model(g, model, src, sr, t);
    }
    if (rc != 0)
        return rc;
    if (!(nodes = csq_mem_array((size_t)g->nlayers + 1, sizeof *nodes))) {
        csq_scoretab_release(t);
        return CSQ_ENOMEM;
    }
    for (l = 0; l < g->nlayers; l++)
        nodes[l] = g->nodes[g->layers[l].node].name;
    pr.nodes = nodes;
    if ((rc = csq_plan_solve(t, &pr, cfg)) != 0)
        csq_scoretab_release(t);
    free(nodes);
    return rc;
}
