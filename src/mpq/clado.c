/*
 * clado: the CLADO measurement and its quadratic program (see clado.h).
 */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "mpq/crit.h"
#include "mpq/alloc.h"
#include "mpq/alloc_qp.h"
#include "mpq/clado.h"
#include "mpq/cost.h"
#include "mpq/gptq.h"
#include "mpq/qsim.h"
#include "mpq/stats.h"
#include "mpq/werr.h"
#include "nn/engine.h"
#include "util/dist.h"
#include "util/err.h"
#include "util/limits.h"
#include "util/mem.h"
#include "util/sha256.h"

void csq_clado_request_init(struct csq_clado_request *r)
{
    memset(r, 0, sizeof *r);
    r->quantizer = CSQ_WERR_GPTQ;
    r->loss = CSQ_CLADO_CE;
}

/* --- saved values: the engine's cut at a node, what a pass resuming
 * there reads --- */

struct snap {
    size_t bytes;
    void *buf;
};

static void snap_release(struct snap *s)
{
    free(s->buf);
    memset(s, 0, sizeof *s);
}

static int snap_save(struct csq_engine *e, int node, struct snap *s)
{
    size_t n;
    int rc;

    if ((rc = csq_engine_cut_bytes(e, node, &n)) != 0)
        return rc;
    if (n != s->bytes || !s->buf) {
        free(s->buf);
        s->bytes = 0;
        if (!(s->buf = malloc(n + 1)))
            return CSQ_ENOMEM;
        s->bytes = n;
    }
    return csq_engine_cut_save(e, node, s->buf);
}

/* --- the pass --- */

struct batch {
    int n;
    struct csq_tensor in;
    float *data;
    int *labels;
    double *ref;            /* [n][classes] float log-softmax (kl) */
    double *l0;             /* [n] float loss (ce) */
};

struct run {
    const struct csq_graph *g;
    const struct csq_clado_request *r;
    struct csq_engine *e;
    int nl, nw, *widths;
    int *order;             /* [nl] layers by node */
    float ***wq;            /* [nl][nw] quantized weights */
    struct batch *b;
    int nb;
    int64_t classes;
    struct snap *fsnap;     /* [nl] float values at each layer's node */
    struct snap *psnap;     /* [nl] with the current layer i quantized */
    double *sum1;           /* [nl nw] sum over images of loss change */
    double *sum2;           /* [nl nw][nl nw] */
};

/* Log-softmax of each row of z (n x k) into out, in double. */
static void log_softmax(const float *z, int64_t k, double *out)
{
    double m = z[0], s = 0;
    int64_t c;

    for (c = 1; c < k; c++)
        m = fmax(m, (double)z[c]);
    for (c = 0; c < k; c++)
        s += exp((double)z[c] - m);
    s = m + log(s);
    for (c = 0; c < k; c++)
        out[c] = (double)z[c] - s;
}

static int logits(const struct run *s, const struct csq_tensor **y)
{
    *y = csq_engine_output(s->e, 0);
    if (!*y || (*y)->dtype != CSQ_DT_FLOAT || (*y)->rank != 2 || (*y)->dims[1] != s->classes)
        return csq_fail(CSQ_EUNSUPPORTED, "clado: the model's first output is not a 2-D float "
                        "tensor of class scores");
    return CSQ_OK;
}

/* Sum over the batch's images, in order, of the loss change. */
static int batch_loss(const struct run *s, const struct batch *b, double *sum)
{
    const struct csq_tensor *y;
    double *lp, acc = 0;
    int64_t k = s->classes, c;
    int i, rc;

    if ((rc = logits(s, &y)) != 0)
        return rc;
    if (!(lp = csq_mem_array((size_t)k, sizeof *lp)))
        return CSQ_ENOMEM;
    for (i = 0; i < b->n; i++) {
        log_softmax((const float *)y->data + i * k, k, lp);
        if (s->r->loss == CSQ_CLADO_CE) {
            acc += -lp[b->labels[i]] - b->l0[i];
        } else {
            const double *ref = b->ref + (size_t)i * (size_t)k;
            double kl = 0;
            for (c = 0; c < k; c++)
                kl += exp(ref[c]) * (ref[c] - lp[c]);
            acc += kl;
        }
    }
    free(lp);
    *sum += acc;
    return CSQ_OK;
}

static int node_of(const struct run *s, int rank)
{
    return s->g->layers[s->order[rank]].node;
}

/* The float pass of batch b, saving the values live at every layer. */
static int float_pass(struct run *s, struct batch *b)
{
    const struct csq_tensor *y;
    int q, rc, from = 0, i;

    /* each stretch resumes from the cut saved at the end of the last */
    for (q = 0; q < s->nl; q++) {
        int to = node_of(s, q);
        rc = q == 0 ? csq_engine_forward_to(s->e, &b->in, to)
                    : csq_engine_resume(s->e, from, to, s->fsnap[q - 1].buf);
        if (rc != 0 || (rc = snap_save(s->e, to, &s->fsnap[q])) != 0)
            return rc;
        from = to;
    }
    rc = s->nl == 0 ? csq_engine_forward(s->e, &b->in)
                    : csq_engine_resume(s->e, from, s->g->nnodes, s->fsnap[s->nl - 1].buf);
    if (rc != 0 || (rc = logits(s, &y)) != 0)
        return rc;
    for (i = 0; i < b->n; i++) {
        double *lp = b->ref + (size_t)i * (size_t)s->classes;
        log_softmax((const float *)y->data + i * s->classes, s->classes, lp);
        if (s->r->loss == CSQ_CLADO_CE) {
            if (b->labels[i] < 0 || b->labels[i] >= s->classes)
                return csq_fail(CSQ_EINVAL, "clado: image of class %d: the model has %lld "
                                "outputs (cross-entropy needs a class per image)",
                                b->labels[i], (long long)s->classes);
            b->l0[i] = -lp[b->labels[i]];
        }
    }
    return CSQ_OK;
}

static int set_weight(struct run *s, int l, const float *w)
{
    return csq_engine_set_weight(s->e, s->g->layers[l].weight, w);
}

#define IX(s, l, k) ((size_t)(l) * (size_t)(s)->nw + (size_t)(k))

/* Unit (layer of node rank qi, width k) on batch b: its single pass
 * (saving the values at every later layer) and every pair with a later
 * layer. */
static int unit_pass(struct run *s, struct batch *b, int qi, int k)
{
    int i = s->order[qi], q, k2, rc, from = node_of(s, qi);
    size_t a = IX(s, i, k), nn = (size_t)s->nl * (size_t)s->nw;
    void *cut = s->fsnap[qi].buf;

    /* the float pass of this batch planned the engine for its shapes */
    if ((rc = set_weight(s, i, s->wq[i][k])) != 0)
        return rc;
    for (q = qi + 1; q < s->nl; q++) {
        int to = node_of(s, q);
        if ((rc = csq_engine_resume(s->e, from, to, cut)) != 0 ||
            (rc = snap_save(s->e, to, &s->psnap[q])) != 0)
            return rc;
        from = to;
        cut = s->psnap[q].buf;
    }
    if ((rc = csq_engine_resume(s->e, from, s->g->nnodes, cut)) != 0 ||
        (rc = batch_loss(s, b, &s->sum1[a])) != 0)
        return rc;
    for (q = qi + 1; q < s->nl; q++) {
        int j = s->order[q];
        for (k2 = 0; k2 < s->nw; k2++) {
            size_t c = IX(s, j, k2);
            if ((rc = set_weight(s, j, s->wq[j][k2])) != 0 ||
                (rc = csq_engine_resume(s->e, node_of(s, q), s->g->nnodes,
                                        s->psnap[q].buf)) != 0 ||
                (rc = batch_loss(s, b, &s->sum2[a * nn + c])) != 0)
                return rc;
        }
        if ((rc = set_weight(s, j, NULL)) != 0)
            return rc;
    }
    return set_weight(s, i, NULL);
}

/* --- setup: images, statistics, quantized weights --- */

static int read_batches(struct run *s, const struct csq_source *sub)
{
    struct csq_loader *ld = NULL;
    struct csq_batch bt;
    int rc;

    if ((rc = csq_source_loader(sub, 0, &ld)) != 0)
        return rc;
    while ((rc = csq_loader_next(ld, &bt)) == 0 && bt.n > 0) {
        struct batch *b;
        size_t per = (size_t)bt.c * (size_t)bt.h * (size_t)bt.w;
        struct batch *nb = csq_mem_rearray(s->b, (size_t)s->nb + 1, sizeof *s->b);
        if (!nb) {
            rc = CSQ_ENOMEM;
            break;
        }
        s->b = nb;
        b = &s->b[s->nb++];
        memset(b, 0, sizeof *b);
        b->n = bt.n;
        b->data = csq_mem_array((size_t)bt.n * per, sizeof *b->data);
        b->labels = csq_mem_array((size_t)bt.n, sizeof *b->labels);
        if (!b->data || !b->labels) {
            rc = CSQ_ENOMEM;
            break;
        }
        memcpy(b->data, bt.data, (size_t)bt.n * per * sizeof *b->data);
        memcpy(b->labels, bt.labels, (size_t)bt.n * sizeof *b->labels);
        b->in.dtype = CSQ_DT_FLOAT;
        b->in.rank = 4;
        b->in.dims[0] = bt.n;
        b->in.dims[1] = bt.c;
        b->in.dims[2] = bt.h;
        b->in.dims[3] = bt.w;
        b->in.data = b->data;
    }
    csq_loader_close(ld);
    if (rc == 0 && s->nb == 0)
        rc = csq_fail(CSQ_EINVAL, "clado: no image could be read");
    return rc;
}

/* Every (layer, width)'s weight, on every rank.  Under MPI, layer l's
 * statistics and weights are computed by rank (its node rank) % ranks
 * alone and sent to the others as bytes. */
static int quantize_all(struct run *s, const struct csq_source *sub, const int *rank_of)
{
    struct csq_stats *st = NULL;
    struct csq_loader *ld = NULL;
    struct csq_qsim_wopts o = { .quantizer = s->r->quantizer, .act_order = s->r->act_order };
    int *mine, l, k, rc = CSQ_OK, size = csq_dist_size();

    s->wq = csq_mem_zarray((size_t)s->nl, sizeof *s->wq);
    mine = csq_mem_array((size_t)s->nl + 1, sizeof *mine);
    for (l = 0; s->wq && mine && l < s->nl && rc == CSQ_OK; l++) {
        int64_t numel = csq_tensor_numel(&s->g->vals[s->g->layers[l].weight].t);
        mine[l] = rank_of[l] % size == csq_dist_rank();
        if (!(s->wq[l] = csq_mem_zarray((size_t)s->nw, sizeof **s->wq)))
            rc = CSQ_ENOMEM;
        for (k = 0; k < s->nw && rc == CSQ_OK; k++)
            if (!(s->wq[l][k] = csq_mem_array((size_t)numel, sizeof(float))))
                rc = CSQ_ENOMEM;
    }
    if (!s->wq || !mine)
        rc = CSQ_ENOMEM;
    if (rc == CSQ_OK && s->r->quantizer == CSQ_WERR_GPTQ &&
        (rc = csq_source_loader(sub, 0, &ld)) == 0)
        rc = csq_stats_collect(s->g, s->e, mine, ld, s->r->hessian_samples, &s->r->progress,
                               &st);
    csq_loader_close(ld);
    o.stats = st;
    for (l = 0; rc == CSQ_OK && l < s->nl; l++)
        for (k = 0; mine[l] && k < s->nw && rc == CSQ_OK; k++)
            if ((rc = csq_qsim_quantize_weight(s->g, l, s->widths[k], &o, s->wq[l][k])) != 0)
                csq_err_context("layer '%s'", s->g->layers[l].name);
    csq_stats_free(st);
    free(mine);
    if ((rc = csq_dist_agree(rc)) != 0)
        return rc;
    for (l = 0; size > 1 && l < s->nl; l++)
        for (k = 0; k < s->nw && rc == CSQ_OK; k++)
            rc = csq_dist_bcast(s->wq[l][k],
                                (size_t)csq_tensor_numel(&s->g->vals[s->g->layers[l].weight].t) *
                                sizeof(float), rank_of[l] % size);
    return rc;
}

/* What the pass holds besides the engine (which checks its own arena):
 * the images, every (layer, width)'s quantized weight, and two saved cuts
 * per layer (float and perturbed) at the first batch's size, checked
 * against --max-memory before the weights and cuts are made. */
static int check_memory(struct run *s)
{
    double img = 0, wq = 0, cuts = 0;
    size_t n;
    int l, rc;

    for (l = 0; l < s->nb; l++)
        img += (double)s->b[l].n * (double)(s->b[l].in.dims[1] * s->b[l].in.dims[2] *
                                            s->b[l].in.dims[3]) * sizeof(float);
    for (l = 0; l < s->nl; l++)
        wq += (double)s->nw * (double)csq_tensor_numel(&s->g->vals[s->g->layers[l].weight].t) *
              sizeof(float);
    /* planning the first batch's shapes gives every cut's size */
    if ((rc = csq_engine_forward_to(s->e, &s->b[0].in, node_of(s, 0))) != 0)
        return rc;
    for (l = 0; l < s->nl; l++) {
        if ((rc = csq_engine_cut_bytes(s->e, node_of(s, l), &n)) != 0)
            return rc;
        cuts += 2.0 * (double)n;
    }
    if (img + wq + cuts > (double)csq_limit_memory())
        return csq_fail(CSQ_ELIMIT, "clado: %.1f MiB of saved activations, %.1f MiB of "
                        "quantized weights and %.1f MiB of images are over the memory "
                        "limit of %.1f MiB (fewer --clado-images or a smaller --batch)",
                        cuts / 1048576.0, wq / 1048576.0, img / 1048576.0,
                        csq_limit_memory() / 1048576.0);
    return CSQ_OK;
}

/* --- the table --- */

struct owners {
    int nl, nw, size;
    const int *rank_of;     /* [nl] node rank of each layer */
};

/* Unit (layer, width) of node rank q, width k belongs to rank u % size,
 * u = q nw + k. */
static int owner_unit(const struct owners *o, size_t a)
{
    size_t l = a / (size_t)o->nw, k = a % (size_t)o->nw;

    return (int)(((size_t)o->rank_of[l] * (size_t)o->nw + k) % (size_t)o->size);
}

static int owner1(size_t i, void *u)
{
    return owner_unit(u, i);
}

/* A pair entry (a, c) is computed in the unit of its earlier layer. */
static int owner2(size_t i, void *u)
{
    const struct owners *o = u;
    size_t nn = (size_t)o->nl * (size_t)o->nw, a = i / nn, c = i % nn;

    return o->rank_of[a / (size_t)o->nw] <= o->rank_of[c / (size_t)o->nw] ? owner_unit(o, a)
                                                                          : owner_unit(o, c);
}

static int fill_table(struct run *s, const char *model, size_t images, struct csq_pairtab *t)
{
    size_t nn = (size_t)s->nl * (size_t)s->nw, a, c;
    char hex[65];
    int l, k, rc;

    if ((rc = csq_sha256_file(model, hex)) != 0 ||
        (rc = csq_pairtab_alloc(t, s->nl, s->nw)) != 0)
        return rc;
    t->model = csq_mem_strdup(model);
    t->sha256 = csq_mem_strdup(hex);
    t->quantizer = csq_mem_strdup(csq_crit_quantizer_name(s->r->quantizer));
    t->loss = csq_mem_strdup(s->r->loss == CSQ_CLADO_CE ? "ce" : "kl");
    t->images = (long)images;
    memcpy(t->widths, s->widths, (size_t)s->nw * sizeof(int));
    if (!t->model || !t->sha256 || !t->quantizer || !t->loss)
        return CSQ_ENOMEM;
    for (l = 0; l < s->nl; l++) {
        struct csq_cost cst;
        csq_cost_layer(s->g, l, &cst);
        t->rows[l].layer = csq_mem_strdup(s->g->layers[l].name);
        t->rows[l].op = csq_mem_strdup(s->g->nodes[s->g->layers[l].node].op_type);
        t->rows[l].params = cst.params;
        t->rows[l].macs = cst.macs;
        if (!t->rows[l].layer || !t->rows[l].op)
            return CSQ_ENOMEM;
        for (k = 0; k < s->nw; k++)
            CSQ_PAIRTAB_SINGLE(t, l, k) = s->sum1[IX(s, l, k)] / (double)images;
    }
    /* A pair is summed at (earlier, later) in node order; the other
     * entry is +0, so adding both reads either order exactly. */
    for (a = 0; a < nn; a++)
        for (c = 0; c < nn; c++)
            if (a / (size_t)s->nw < c / (size_t)s->nw)
                t->cross[a * nn + c] = (s->sum2[a * nn + c] + s->sum2[c * nn + a]) /
                                       (double)images - t->single[a] - t->single[c];
    return CSQ_OK;
}

static void free_run(struct run *s)
{
    int l, k;

    for (l = 0; s->wq && l < s->nl; l++) {
        for (k = 0; s->wq[l] && k < s->nw; k++)
            free(s->wq[l][k]);
        free(s->wq[l]);
    }
    free(s->wq);
    for (l = 0; s->b && l < s->nb; l++) {
        free(s->b[l].data);
        free(s->b[l].labels);
        free(s->b[l].ref);
        free(s->b[l].l0);
    }
    free(s->b);
    for (l = 0; l < s->nl; l++) {
        if (s->fsnap)
            snap_release(&s->fsnap[l]);
        if (s->psnap)
            snap_release(&s->psnap[l]);
    }
    free(s->fsnap);
    free(s->psnap);
    free(s->order);
    free(s->sum1);
    free(s->sum2);
    csq_engine_free(s->e);
}

int csq_clado_measure(const struct csq_graph *g, const char *model, const struct csq_source *src,
                      const struct csq_clado_request *r, struct csq_pairtab *out)
{
    static const int ptq[3] = {2, 3, 4};
    struct run s;
    struct csq_source sub;
    struct owners own;
    int *rank_of = NULL, q, k, bi, rc, widths[16];
    size_t nn, images = 0, done = 0, total;

    memset(out, 0, sizeof *out);
    memset(&s, 0, sizeof s);
    memset(&sub, 0, sizeof sub);
    if (g->nlayers == 0)
        return csq_fail(CSQ_EUNSUPPORTED, "'%s': no quantizable layer (Conv, or Gemm / "
                        "MatMul with a constant weight) found", model);
    s.g = g;
    s.r = r;
    s.nl = g->nlayers;
    s.nw = r->nwidths > 0 ? r->nwidths : 3;
    memcpy(widths, r->nwidths > 0 ? r->widths : ptq, (size_t)s.nw * sizeof(int));
    s.widths = widths;
    for (k = 1; k < s.nw; k++)
        for (q = k; q > 0 && widths[q] < widths[q - 1]; q--) {
            int t = widths[q];
            widths[q] = widths[q - 1];
            widths[q - 1] = t;
        }
    nn = (size_t)s.nl * (size_t)s.nw;
    s.order = csq_mem_array((size_t)s.nl, sizeof *s.order);
    rank_of = csq_mem_array((size_t)s.nl, sizeof *rank_of);
    s.fsnap = csq_mem_zarray((size_t)s.nl, sizeof *s.fsnap);
    s.psnap = csq_mem_zarray((size_t)s.nl, sizeof *s.psnap);
    s.sum1 = csq_mem_zarray(nn, sizeof *s.sum1);
    s.sum2 = csq_mem_zarray(nn * nn, sizeof *s.sum2);
    if (!s.order || !rank_of || !s.fsnap || !s.psnap || !s.sum1 || !s.sum2) {
        rc = CSQ_ENOMEM;
        goto out;
    }
    csq_layer_node_order(g, s.order, rank_of);
    s.classes = g->vals[g->outputs[0]].t.rank == 2 ? g->vals[g->outputs[0]].t.dims[1] : -1;
    if ((rc = csq_source_spread(src, (size_t)(r->images > 0 ? r->images : CSQ_CLADO_IMAGES),
                                &sub)) != 0 ||
        (rc = csq_engine_new(g, &s.e)) != 0 || (rc = read_batches(&s, &sub)) != 0 ||
        (rc = check_memory(&s)) != 0 || (rc = quantize_all(&s, &sub, rank_of)) != 0)
        goto out;
    own = (struct owners){ .nl = s.nl, .nw = s.nw, .size = csq_dist_size(),
                           .rank_of = rank_of };
    total = (size_t)s.nb * nn;
    for (bi = 0; bi < s.nb && rc == CSQ_OK; bi++) {
        struct batch *b = &s.b[bi];
        images += (size_t)b->n;
        b->ref = csq_mem_array((size_t)b->n * (size_t)(s.classes > 0 ? s.classes : 1),
                               sizeof *b->ref);
        b->l0 = csq_mem_array((size_t)b->n, sizeof *b->l0);
        if (!b->ref || !b->l0) {
            rc = CSQ_ENOMEM;
            break;
        }
        if (s.classes <= 0) {
            rc = csq_fail(CSQ_EUNSUPPORTED, "clado: the model's first output is not a 2-D "
                          "float tensor of class scores");
            break;
        }
        if ((rc = float_pass(&s, b)) != 0)
            break;
        for (q = 0; q < s.nl && rc == CSQ_OK; q++)
            for (k = 0; k < s.nw && rc == CSQ_OK; k++) {
                if (owner_unit(&own, IX(&s, s.order[q], k)) == csq_dist_rank())
                    rc = unit_pass(&s, b, q, k);
                csq_progress_report(&r->progress, "clado", ++done, total);
            }
    }
    rc = csq_dist_agree(rc);
    if (rc == CSQ_OK && (rc = csq_dist_pick(s.sum1, nn, owner1, &own)) == 0 &&
        (rc = csq_dist_pick(s.sum2, nn * nn, owner2, &own)) == 0)
        rc = fill_table(&s, model, images, out);
out:
    if (rc != CSQ_OK)
        csq_pairtab_release(out);
    csq_source_spread_release(&sub);
    free(rank_of);
    free_run(&s);
    return rc;
}

/* --- the quadratic program on a table --- */

int csq_clado_plan(const struct csq_pairtab *t, const struct csq_plan_request *r,
                   struct csq_bitcfg *out)
{
    struct csq_scoretab st;
    struct csq_alloc_cross x;
    double *cost = NULL, *val = NULL;
    int *li = NULL, *bi = NULL, *lj = NULL, *bj = NULL, l, k, j, k2, n = 0, rc;
    size_t nn = (size_t)t->n * (size_t)t->nw, ne = nn * nn / 2 + 1;

    memset(&st, 0, sizeof st);
    memset(out, 0, sizeof *out);
    st.model = t->model;
    st.sha256 = t->sha256;
    st.images = t->images;
    st.classes = -1;
    st.n = t->n;
    st.rows = csq_mem_zarray((size_t)t->n + 1, sizeof *st.rows);
    cost = csq_mem_zarray((size_t)t->n * CSQ_ALLOC_MAXBITS + 1, sizeof *cost);
    li = csq_mem_array(ne, sizeof *li);
    bi = csq_mem_array(ne, sizeof *bi);
    lj = csq_mem_array(ne, sizeof *lj);
    bj = csq_mem_array(ne, sizeof *bj);
    val = csq_mem_array(ne, sizeof *val);
    if (!st.rows || !cost || !li || !bi || !lj || !bj || !val) {
        rc = CSQ_ENOMEM;
        goto out;
    }
    for (l = 0; l < t->n; l++) {
        st.rows[l].layer = t->rows[l].layer;
        st.rows[l].op = t->rows[l].op;
        st.rows[l].params = t->rows[l].params;
        st.rows[l].macs = t->rows[l].macs;
        for (k = 0; k < t->nw; k++)
            cost[(size_t)l * CSQ_ALLOC_MAXBITS + (size_t)t->widths[k] - 1] =
                CSQ_PAIRTAB_SINGLE(t, l, k);
        for (k = 0; k < t->nw; k++)
            for (j = l + 1; j < t->n; j++)
                for (k2 = 0; k2 < t->nw; k2++) {
                    double v = CSQ_PAIRTAB_CROSS(t, l, k, j, k2);
                    if (v == 0)
                        continue;
                    li[n] = l, bi[n] = t->widths[k], lj[n] = j, bj[n] = t->widths[k2];
                    val[n++] = v;
                }
    }
    x = (struct csq_alloc_cross){ .n = n, .li = li, .bi = bi, .lj = lj, .bj = bj, .val = val };
    if ((rc = csq_plan_solve_cross(&st, cost, &x, r, out)) != 0)
        goto out;
    for (l = 0; l < t->n; l++) {
        out->layers[l].score = 0;
        for (k = 0; k < t->nw; k++)
            if (t->widths[k] == out->layers[l].wbits)
                out->layers[l].score = CSQ_PAIRTAB_SINGLE(t, l, k);
    }
out:
    free(st.rows);
    free(cost);
    free(li);
    free(bi);
    free(lj);
    free(bj);
    free(val);
    return rc;
}

int csq_clado_analyze(const struct csq_graph *g, const char *model,
                      const struct csq_source *src, const struct csq_clado_request *cr,
                      const struct csq_plan_request *r, struct csq_pairtab *t,
                      struct csq_bitcfg *cfg)
{
    struct csq_plan_request pr = *r;
    const char **nodes;
    int l, rc;

    memset(cfg, 0, sizeof *cfg);
    if ((rc = csq_clado_measure(g, model, src, cr, t)) != 0)
        return rc;
    if (!(nodes = csq_mem_array((size_t)g->nlayers + 1, sizeof *nodes))) {
        csq_pairtab_release(t);
        return CSQ_ENOMEM;
    }
    for (l = 0; l < g->nlayers; l++)
        nodes[l] = g->nodes[g->layers[l].node].name;
    pr.nodes = nodes;
    if ((rc = csq_clado_plan(t, &pr, cfg)) != 0)
        csq_pairtab_release(t);
    free(nodes);
    return rc;
}
