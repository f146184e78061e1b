/*
 * crit: cost tables of the sensitivity criteria (see crit.h).
 */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "mpq/alloc.h"
#include "mpq/crit.h"
#include "mpq/feed.h"
#include "mpq/gptq.h"
#include "mpq/qsim.h"
#include "mpq/quant.h"
#include "mpq/stats.h"
#include "mpq/werr.h"
#include "nn/engine.h"
#include "util/dist.h"
#include "util/err.h"
#include "util/limits.h"
#include "util/mem.h"

static const char *const names[CSQ_CRIT_COUNT] = {
    [CSQ_CRIT_TFIDF] = "tfidf",
    [CSQ_CRIT_NOISE] = "noise",
    [CSQ_CRIT_TFIDF_NOISE] = "tfidf-noise",
    [CSQ_CRIT_SQNR] = "sqnr",
    [CSQ_CRIT_KL] = "kl",
    [CSQ_CRIT_CLADO] = "clado",
};

_Static_assert(sizeof names / sizeof names[0] == CSQ_CRIT_COUNT, "one name per criterion");

int csq_crit_parse(const char *name, enum csq_crit *out)
{
    int c;

    for (c = 0; c < CSQ_CRIT_COUNT; c++)
        if (strcmp(name, names[c]) == 0) {
            *out = (enum csq_crit)c;
            return CSQ_OK;
        }
    return csq_fail(CSQ_EUSAGE, "option '--criterion': '%s' is not tfidf, noise, "
                    "tfidf-noise, sqnr, kl or clado", name);
}

const char *csq_crit_name(enum csq_crit c)
{
    return (int)c >= 0 && c < CSQ_CRIT_COUNT ? names[c] : NULL;
}

const char *csq_crit_quantizer_name(int quantizer)
{
    return quantizer == CSQ_WERR_RTN ? "rtn" : quantizer == CSQ_WERR_GPTQ ? "gptq" : NULL;
}

int csq_crit_uses_scores(enum csq_crit c)
{
    return c == CSQ_CRIT_TFIDF || c == CSQ_CRIT_TFIDF_NOISE;
}

static int uses_stats(const struct csq_crit_request *r)
{
    return r->criterion == CSQ_CRIT_NOISE || r->criterion == CSQ_CRIT_TFIDF_NOISE ||
           r->quantizer == CSQ_WERR_GPTQ;
}

static void gptq_opts(const struct csq_crit_request *r, int bits, struct csq_gptq_opts *o)
{
    csq_gptq_opts_init(o, bits);
    o->act_order = r->act_order;
}

static int layout_of(const struct csq_graph *g, int l, struct csq_layout *lay)
{
    csq_layer_layout(g, l, lay);
    if (!lay->strided)
        return csq_fail(CSQ_EUNSUPPORTED, "layer '%s': %d-D MatMul weights cannot be "
                        "quantized per channel", g->layers[l].name,
                        g->vals[g->layers[l].weight].t.rank);
    return CSQ_OK;
}

/* --- the split over MPI ranks ---
 *
 * Layer l belongs to rank (its node rank) % ranks: that rank alone
 * collects its statistics, quantizes it and measures it, each over every
 * image as one process would, and the cost table is picked row by row
 * (util/dist.h), so a split run gives the plain run's bits.  Every rank
 * runs the float passes. */

struct split {
    int *order;             /* [nlayers] layers by node index */
    int *pos;               /* [nlayers] the inverse: each layer's node rank */
    int *mine;              /* [nlayers] 1 for this rank's layers */
};

static void split_free(struct split *sp)
{
    free(sp->order);
    free(sp->pos);
    free(sp->mine);
}

static int split_init(const struct csq_graph *g, struct split *sp)
{
    int i, n = g->nlayers;

    memset(sp, 0, sizeof *sp);
    sp->order = csq_mem_array((size_t)n + 1, sizeof *sp->order);
    sp->pos = csq_mem_array((size_t)n + 1, sizeof *sp->pos);
    sp->mine = csq_mem_array((size_t)n + 1, sizeof *sp->mine);
    if (!sp->order || !sp->pos || !sp->mine) {
        split_free(sp);
        return CSQ_ENOMEM;
    }
    csq_layer_node_order(g, sp->order, sp->pos);
    for (i = 0; i < n; i++)
        sp->mine[i] = sp->pos[i] % csq_dist_size() == csq_dist_rank();
    return CSQ_OK;
}

/* Owner of entry i of a cost table (CSQ_ALLOC_MAXBITS per layer). */
static int row_owner(size_t i, void *user)
{
    const struct split *sp = user;

    return sp->pos[i / CSQ_ALLOC_MAXBITS] % csq_dist_size();
}

/* --- noise, tfidf-noise: E_l(b) from the statistics --- */

static int noise_costs(const struct csq_graph *g, const struct csq_stats *st,
                       const struct split *sp, const struct csq_crit_request *r,
                       const int *widths, int nwidths, double *cost)
{
    double e[CSQ_ALLOC_MAXBITS], mean = 0, wt = 1;
    int l, j, rc;

    if (r->criterion == CSQ_CRIT_TFIDF_NOISE) {
        for (l = 0; l < g->nlayers; l++)
            mean += r->scores[l] / g->nlayers;
        if (!(mean > 0) || !isfinite(mean))
            return csq_fail(CSQ_EINVAL, "tfidf-noise: the layers' TF-IDF scores have a mean "
                            "of %g, nothing to weight the errors by", mean);
    }
    for (l = 0; l < g->nlayers; l++) {
        const struct csq_tensor *w = &g->vals[g->layers[l].weight].t;
        struct csq_layout lay;
        struct csq_gptq_opts go;

        if (!sp->mine[l])
            continue;
        gptq_opts(r, 0, &go);
        if ((rc = layout_of(g, l, &lay)) != 0 ||
            (rc = csq_werr_candidates(w->data, lay.channels, lay.per_channel, lay.ch_stride,
                                      lay.el_stride, lay.groups, csq_stats_matrix(st, l),
                                      r->quantizer, &go, widths, nwidths, e, NULL)) != 0) {
            csq_err_context("layer '%s'", g->layers[l].name);
            return rc;
        }
        if (r->criterion == CSQ_CRIT_TFIDF_NOISE)
            wt = r->scores[l] / mean;
        for (j = 0; j < nwidths; j++)
            cost[l * CSQ_ALLOC_MAXBITS + widths[j] - 1] = wt * e[j];
    }
    return CSQ_OK;
}

/* --- sqnr, kl: one layer perturbed, the rest float --- */

struct sens {
    const struct csq_graph *g;
    struct csq_engine *e;
    enum csq_crit criterion;
    int nwidths;
    const int *order;       /* [nlayers] layers by node index */
    const int *mine;        /* [nlayers] this rank's layers */
    float **wq;             /* [nlayers * nwidths] quantized weights */
    double *acc;            /* [nlayers * nwidths] sum ||dz||^2 or sum KL */
    double den;             /* sum ||z||^2 */
    size_t images;
    float *z;               /* [batch x classes] float logits */
    size_t zcap;
    unsigned char *cut[2];  /* alternating cut buffers */
    size_t cutcap;
    double held;            /* bytes of this rank's quantized copies */
    const struct csq_progress *progress;
    size_t total;
};

/* Layer l's weight quantized to bits into out (graph layout). */
static int quantize_copy(const struct csq_graph *g, int l, int bits,
                         const struct csq_crit_request *r, const struct csq_stats *st,
                         float *out)
{
    struct csq_qsim_wopts o = { .quantizer = r->quantizer, .act_order = r->act_order,
                                .stats = st };

    return csq_qsim_quantize_weight(g, l, bits, &o, out);
}

static int logits_of(const struct csq_engine *e, int64_t n, int64_t *k)
{
    const struct csq_tensor *y = csq_engine_output(e, 0);

    if (!y || y->dtype != CSQ_DT_FLOAT || y->rank != 2 || y->dims[0] != n)
        return csq_fail(CSQ_EUNSUPPORTED, "the model's first output is not a 2-D float "
                        "tensor of class scores, one row per image");
    *k = y->dims[1];
    return CSQ_OK;
}

/* log softmax of z[k] into ls[k], in double. */
static void log_softmax(const float *z, int64_t k, double *ls)
{
    double m = -INFINITY, s = 0;
    int64_t i;

    for (i = 0; i < k; i++)
        if (z[i] > m)
            m = z[i];
    for (i = 0; i < k; i++)
        s += exp((double)z[i] - m);
    for (i = 0; i < k; i++)
        ls[i] = (double)z[i] - m - log(s);
}

/* The perturbed logits' distance to the float ones, summed over images. */
static double distance(const struct sens *s, const float *zq, int64_t n, int64_t k)
{
    double sum = 0, lp[4096], lq[4096];
    int64_t i, c;

    for (i = 0; i < n; i++) {
        const float *zf = s->z + i * k, *zi = zq + i * k;
        if (s->criterion == CSQ_CRIT_SQNR) {
            for (c = 0; c < k; c++) {
                double d = (double)zi[c] - (double)zf[c];
                sum += d * d;
            }
            continue;
        }
        log_softmax(zf, k, lp);
        log_softmax(zi, k, lq);
        for (c = 0; c < k; c++)
            sum += exp(lp[c]) * (lp[c] - lq[c]);
    }
    return sum;
}

static int grow_cuts(struct sens *s, size_t need)
{
    int i;

    if (need <= s->cutcap)
        return CSQ_OK;
    if (s->held + 2.0 * (double)need > (double)csq_limit_memory())
        return csq_fail(CSQ_ELIMIT, "%s: two saved activations of %.1f MiB and the "
                        "quantized weights (%.1f MiB) need more than the memory limit of "
                        "%.1f MiB (a smaller --batch)", csq_crit_name(s->criterion),
                        need / 1048576.0, s->held / 1048576.0,
                        csq_limit_memory() / 1048576.0);
    for (i = 0; i < 2; i++) {
        free(s->cut[i]);
        if (!(s->cut[i] = malloc(need ? need : 1))) {
            s->cutcap = 0;
            return CSQ_ENOMEM;
        }
    }
    s->cutcap = need;
    return CSQ_OK;
}

static int sens_batch(void *user, const struct csq_batch *b, const struct csq_tensor *y)
{
    struct sens *s = user;
    const struct csq_graph *g = s->g;
    struct csq_tensor x;
    int64_t n = b->n, k = 0, i;
    size_t need = 0, one;
    int at, j, rc, cur = 0;

    (void)y;
    if ((rc = logits_of(s->e, n, &k)) != 0)
        return rc;
    if (k > 4096)
        return csq_fail(CSQ_EUNSUPPORTED, "kl: more than 4096 classes");
    if ((size_t)(n * k) > s->zcap) {
        float *z = csq_mem_rearray(s->z, (size_t)(n * k), sizeof *z);
        if (!z)
            return CSQ_ENOMEM;
        s->z = z;
        s->zcap = (size_t)(n * k);
    }
    memcpy(s->z, csq_engine_output(s->e, 0)->data, (size_t)(n * k) * sizeof(float));
    for (i = 0; i < n * k; i++)
        s->den += (double)s->z[i] * (double)s->z[i];
    for (at = 0; at < g->nlayers; at++) {
        if ((rc = csq_engine_cut_bytes(s->e, g->layers[s->order[at]].node, &one)) != 0)
            return rc;
        if (one > need)
            need = one;
    }
    if ((rc = grow_cuts(s, need)) != 0)
        return rc;
    memset(&x, 0, sizeof x);
    x.dtype = CSQ_DT_FLOAT;
    x.rank = 4;
    x.dims[0] = b->n;
    x.dims[1] = b->c;
    x.dims[2] = b->h;
    x.dims[3] = b->w;
    x.data = (void *)b->data;
    /* The float activations up to the first layer once; then, layer by
     * layer, the perturbed rest from the cut, and the float step to the
     * next layer's cut. */
    if ((rc = csq_engine_forward_to(s->e, &x, g->layers[s->order[0]].node)) != 0 ||
        (rc = csq_engine_cut_save(s->e, g->layers[s->order[0]].node, s->cut[0])) != 0)
        return rc;
    for (at = 0; at < g->nlayers; at++) {
        int l = s->order[at], node = g->layers[l].node, wv = g->layers[l].weight;
        for (j = 0; j < s->nwidths; j++) {
            if (!s->mine[l])
                break;
            if ((rc = csq_engine_set_weight(s->e, wv, s->wq[l * s->nwidths + j])) != 0 ||
                (rc = csq_engine_resume(s->e, node, g->nnodes, s->cut[cur])) != 0 ||
                (rc = logits_of(s->e, n, &k)) != 0)
                break;
            s->acc[l * s->nwidths + j] +=
                distance(s, csq_engine_output(s->e, 0)->data, n, k);
        }
        csq_engine_set_weight(s->e, wv, NULL);
        if (rc != 0) {
            csq_err_context("layer '%s'", g->layers[l].name);
            return rc;
        }
        if (at + 1 < g->nlayers) {
            int next = g->layers[s->order[at + 1]].node;
            if ((rc = csq_engine_resume(s->e, node, next, s->cut[cur])) != 0 ||
                (rc = csq_engine_cut_save(s->e, next, s->cut[!cur])) != 0)
                return rc;
            cur = !cur;
        }
    }
    s->images += (size_t)n;
    csq_progress_report(s->progress, csq_crit_name(s->criterion), s->images, s->total);
    return CSQ_OK;
}

/* The quantized copies this rank holds, checked against --max-memory
 * before they are made (the engine checks its own arena). */
static int check_memory(const struct csq_graph *g, struct sens *s)
{
    double bytes = 0;
    int l, j;

    for (l = 0; l < g->nlayers; l++)
        for (j = 0; j < s->nwidths; j++)
            if (s->mine[l])
                bytes += (double)csq_tensor_numel(&g->vals[g->layers[l].weight].t) *
                         sizeof(float);
    s->held = bytes;
    if (bytes > (double)csq_limit_memory())
        return csq_fail(CSQ_ELIMIT, "%s: the %d layers' weights quantized at %d widths need "
                        "%.1f MiB, over the memory limit of %.1f MiB (fewer --wbits, or "
                        "more MPI ranks)", csq_crit_name(s->criterion), g->nlayers,
                        s->nwidths, bytes / 1048576.0, csq_limit_memory() / 1048576.0);
    return CSQ_OK;
}

static int sens_costs(const struct csq_graph *g, struct csq_engine *e,
                      const struct csq_source *src, const struct csq_stats *st,
                      const struct split *sp, const struct csq_crit_request *r,
                      const int *widths, int nwidths, double *cost)
{
    struct sens s;
    struct csq_loader *ld = NULL;
    struct csq_source sub;
    struct csq_feed f;
    size_t cells = (size_t)g->nlayers * (size_t)nwidths, c;
    long nimg = r->sqnr_images > 0 ? r->sqnr_images : CSQ_CRIT_SQNR_IMAGES;
    int l, j, rc = CSQ_OK;

    memset(&s, 0, sizeof s);
    memset(&sub, 0, sizeof sub);
    s.g = g;
    s.e = e;
    s.criterion = r->criterion;
    s.nwidths = nwidths;
    s.progress = &r->progress;
    s.order = sp->order;
    s.mine = sp->mine;
    s.wq = csq_mem_zarray(cells, sizeof *s.wq);
    s.acc = csq_mem_zarray(cells, sizeof *s.acc);
    if (!s.wq || !s.acc) {
        rc = CSQ_ENOMEM;
        goto out;
    }
    if ((rc = check_memory(g, &s)) != 0)
        goto out;
    for (l = 0; l < g->nlayers && rc == CSQ_OK; l++)
        for (j = 0; j < nwidths && rc == CSQ_OK; j++) {
            size_t numel = (size_t)csq_tensor_numel(&g->vals[g->layers[l].weight].t);
            float **q = &s.wq[l * nwidths + j];
            if (!sp->mine[l])
                break;
            if (!(*q = csq_mem_array(numel, sizeof(float))))
                rc = CSQ_ENOMEM;
            else if ((rc = quantize_copy(g, l, widths[j], r, st, *q)) != 0)
                csq_err_context("layer '%s'", g->layers[l].name);
        }
    /* evenly spaced images: a class-sorted folder's first ones would be
     * a few classes only */
    if (rc == CSQ_OK && (rc = csq_source_spread(src, (size_t)nimg, &sub)) == 0 &&
        (rc = csq_source_loader(&sub, 0, &ld)) == 0) {
        s.total = csq_loader_count(ld);
        f = (struct csq_feed){ .engine = e, .loader = ld, .after = sens_batch, .user = &s };
        rc = csq_feed_run(&f);
    }
    if (rc != CSQ_OK)
        goto out;
    if (s.images == 0 || !(s.den > 0)) {
        rc = csq_fail(CSQ_EINVAL, "%s: %s", csq_crit_name(r->criterion), s.images == 0 ?
                      "no image could be read" : "the float logits are all 0");
        goto out;
    }
    for (l = 0; l < g->nlayers; l++)
        for (j = 0; j < nwidths; j++)
            cost[l * CSQ_ALLOC_MAXBITS + widths[j] - 1] = s.acc[l * nwidths + j] /
                (r->criterion == CSQ_CRIT_SQNR ? s.den : (double)s.images);
out:
    csq_loader_close(ld);
    csq_source_spread_release(&sub);
    for (c = 0; s.wq && c < cells; c++)
        free(s.wq[c]);
    free(s.wq);
    free(s.acc);
    free(s.z);
    free(s.cut[0]);
    free(s.cut[1]);
    return rc;
}

/* --- the entry point --- */

static int check_widths(const int *widths, int nwidths)
{
    int seen = 0, j;

    if (nwidths < 1 || nwidths > CSQ_ALLOC_MAXBITS)
        return csq_fail(CSQ_EINVAL, "criterion: %d widths (1 to 16 allowed)", nwidths);
    for (j = 0; j < nwidths; j++) {
        if (widths[j] < 1 || widths[j] > CSQ_ALLOC_MAXBITS || (seen >> widths[j] & 1))
            return csq_fail(CSQ_EINVAL, "criterion: width %d is not in 1..16 or repeated",
                            widths[j]);
        seen |= 1 << widths[j];
    }
    return CSQ_OK;
}

int csq_crit_costs(const struct csq_graph *g, const struct csq_source *src,
                   const struct csq_crit_request *r, const int *widths, int nwidths,
                   double *cost)
{
    struct csq_engine *e = NULL;
    struct csq_loader *ld = NULL;
    struct csq_stats *st = NULL;
    struct split sp;
    size_t i, cells = (size_t)g->nlayers * CSQ_ALLOC_MAXBITS;
    int l, j, rc;

    if ((rc = check_widths(widths, nwidths)) != 0)
        return rc;
    if (!csq_crit_name(r->criterion) || !csq_crit_quantizer_name(r->quantizer))
        return csq_fail(CSQ_EINVAL, "criterion: unknown criterion %d or quantizer %d",
                        (int)r->criterion, r->quantizer);
    if (r->criterion == CSQ_CRIT_CLADO)
        return csq_fail(CSQ_EINVAL, "clado: its losses are a pair table (csq_clado_measure), "
                        "not a cost table");
    if (csq_crit_uses_scores(r->criterion) && !r->scores)
        return csq_fail(CSQ_EINVAL, "%s: no TF-IDF scores given",
                        csq_crit_name(r->criterion));
    for (i = 0; i < cells; i++)
        cost[i] = NAN;
    if (r->criterion == CSQ_CRIT_TFIDF) {
        csq_alloc_cost_linear(r->scores, g->nlayers, cost);
        return CSQ_OK;
    }
    if ((rc = split_init(g, &sp)) != 0)
        return rc;
    if ((rc = csq_engine_new(g, &e)) != 0)
        goto out;
    if (uses_stats(r)) {
        if ((rc = csq_source_loader(src, 0, &ld)) == 0)
            rc = csq_stats_collect(g, e, sp.mine, ld, r->hessian_samples, &r->progress, &st);
        csq_loader_close(ld);
    }
    if (rc == CSQ_OK && (r->criterion == CSQ_CRIT_NOISE || r->criterion == CSQ_CRIT_TFIDF_NOISE))
        rc = noise_costs(g, st, &sp, r, widths, nwidths, cost);
    else if (rc == CSQ_OK)
        rc = sens_costs(g, e, src, st, &sp, r, widths, nwidths, cost);
    /* every rank reaches the agreement, whichever failed */
    if ((rc = csq_dist_agree(rc)) == CSQ_OK)
        rc = csq_dist_pick(cost, cells, row_owner, &sp);
    for (l = 0; rc == CSQ_OK && l < g->nlayers; l++)
        for (j = 0; j < nwidths; j++)
            if (!isfinite(cost[l * CSQ_ALLOC_MAXBITS + widths[j] - 1])) {
                rc = csq_fail(CSQ_EINVAL, "%s: layer '%s' at %d bits: the cost is not "
                              "finite (its output is 0 on every calibration image?)",
                              csq_crit_name(r->criterion), g->layers[l].name, widths[j]);
                break;
            }
out:
    csq_stats_free(st);
    csq_engine_free(e);
    split_free(&sp);
    return rc;
}
