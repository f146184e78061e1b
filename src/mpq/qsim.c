/*
 * qsim: fake-quantized evaluation (see qsim.h).
 */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "mpq/feed.h"
#include "mpq/qsim.h"
#include "util/err.h"
#include "util/mem.h"

struct qlayer {
    int wbits, abits;
    float *wq;                  /* quantized weight copy, NULL when float or borrowed */
    const float *wuse;          /* the quantized weight the engine gets: wq or borrowed */
    double sqnr;
    double werr;                /* E_l(b), NAN without statistics */
    int have_gptq;
    struct csq_gptq_info gi;
    int input_index;            /* which node input is the data */
    struct csq_actcal *cal;
    struct csq_actq aq;
    int have_aq;
    struct csq_qbias qb;        /* the rounded bias when have_qb */
    int have_qb;
    float *qbuf;                /* qb's arrays: wscale, grid, bias, and the rtn scales
                                 * (4 x channels) */
    int32_t *qlev;
    int have_rtn;               /* qbuf's rtn scales are computed */
};

struct csq_qsim {
    const struct csq_graph *g;
    struct qlayer *l;           /* [g->nlayers] */
    int attached;
};

/* 10 log10(sum w^2 / sum (w - q)^2) over the tensor, as csq_quant_weights. */
static double sqnr_db(const float *w, const float *q, int64_t n)
{
    double s = 0, e = 0;
    int64_t i;

    for (i = 0; i < n; i++) {
        double d = (double)w[i] - (double)q[i];
        s += (double)w[i] * (double)w[i];
        e += d * d;
    }
    return e > 0 ? 10 * log10(s / e) : (double)INFINITY;
}

/* Quantize layer l's weight (the graph's) into ql->wq with o's quantizer;
 * with werr, also its output error under H (as costly as GPTQ itself). */
static int quantize_weight(const struct csq_graph *g, int l, struct qlayer *ql,
                           const struct csq_qsim_wopts *o, int werr)
{
    const struct csq_layer *ly = &g->layers[l];
    const struct csq_tensor *wt = &g->vals[ly->weight].t;
    const float *w = wt->data;
    const double *h = o ? csq_stats_matrix(o->stats, l) : NULL;
    int64_t numel = csq_tensor_numel(wt);
    struct csq_layout lay;
    int rc;

    csq_layer_layout(g, l, &lay);
    if (!lay.strided)
        return csq_fail(CSQ_EUNSUPPORTED, "layer '%s': %d-D MatMul weights cannot be "
                        "quantized per channel", ly->name, wt->rank);
    if (o && o->quantizer == CSQ_WERR_GPTQ) {
        struct csq_gptq_opts go;
        if (!h)
            return csq_fail(CSQ_EINVAL, "layer '%s': gptq needs the layer's statistics",
                            ly->name);
        csq_gptq_opts_init(&go, ql->wbits);
        go.act_order = o->act_order;
        if ((rc = csq_gptq_quantize(w, lay.channels, lay.per_channel, lay.ch_stride,
                                    lay.el_stride, lay.groups, h, &go, ql->wq, NULL, NULL,
                                    &ql->gi)) != 0)
            return rc;
        ql->have_gptq = 1;
        ql->sqnr = sqnr_db(w, ql->wq, numel);
    } else {
        memcpy(ql->wq, w, (size_t)numel * sizeof(float));
        if ((rc = csq_quant_weights_strided(ql->wq, lay.channels, lay.per_channel,
                                            lay.ch_stride, lay.el_stride, ql->wbits,
                                            &ql->sqnr)) != 0)
            return rc;
    }
    if (h && werr)
        return csq_werr_ratio(w, ql->wq, lay.channels, lay.per_channel, lay.ch_stride,
                              lay.el_stride, lay.groups, h, &ql->werr);
    return CSQ_OK;
}

int csq_qsim_quantize_weight(const struct csq_graph *g, int l, int bits,
                             const struct csq_qsim_wopts *o, float *wq)
{
    struct qlayer ql;

    memset(&ql, 0, sizeof ql);
    ql.wbits = bits;
    ql.wq = wq;
    ql.werr = NAN;
    return quantize_weight(g, l, &ql, o, 0);
}

int csq_qsim_new(const struct csq_graph *g, const int *wbits, const int *abits,
                 struct csq_qsim **out)
{
    return csq_qsim_new_opts(g, wbits, abits, NULL, out);
}

int csq_qsim_new_opts(const struct csq_graph *g, const int *wbits, const int *abits,
                      const struct csq_qsim_wopts *o, struct csq_qsim **out)
{
    struct csq_qsim *q;
    int l, i, rc = CSQ_OK;

    *out = NULL;
    q = csq_mem_zarray(1, sizeof *q);
    if (!q)
        return CSQ_ENOMEM;
    q->g = g;
    q->l = csq_mem_zarray((size_t)g->nlayers + 1, sizeof *q->l);
    if (!q->l) {
        free(q);
        return CSQ_ENOMEM;
    }
    for (l = 0; l < g->nlayers && rc == CSQ_OK; l++) {
        struct qlayer *ql = &q->l[l];
        const struct csq_layer *ly = &g->layers[l];
        const struct csq_node *n = &g->nodes[ly->node];
        const struct csq_tensor *w = &g->vals[ly->weight].t;
        int64_t numel = csq_tensor_numel(w);

        ql->wbits = wbits[l];
        ql->abits = abits[l];
        ql->input_index = -1;
        ql->werr = NAN;
        for (i = 0; i < n->nin; i++)
            if (n->in[i] == ly->input)
                ql->input_index = i;
        if (ql->wbits > 0 && o && o->weights && o->weights[l]) {
            ql->wuse = o->weights[l];
            ql->sqnr = sqnr_db(w->data, ql->wuse, numel);
        } else if (ql->wbits > 0) {
            ql->wq = csq_mem_array((size_t)numel, sizeof(float));
            if (!ql->wq) {
                rc = CSQ_ENOMEM;
                break;
            }
            if ((rc = quantize_weight(g, l, ql, o, o && o->werr)) != 0)
                csq_err_context("layer '%s'", ly->name);
            ql->wuse = ql->wq;
        }
        if (rc == CSQ_OK && ql->abits > 0 && !(ql->cal = csq_actcal_new(ql->abits)))
            rc = csq_fail(CSQ_EINVAL, "layer '%s': cannot quantize activations to %d bits",
                          ly->name, ql->abits);
    }
    if (rc != CSQ_OK) {
        csq_qsim_free(q);
        return rc;
    }
    *out = q;
    return CSQ_OK;
}

double csq_qsim_sqnr(const struct csq_qsim *q, int l)
{
    return q->l[l].wbits > 0 ? q->l[l].sqnr : 0;
}

double csq_qsim_werr(const struct csq_qsim *q, int l)
{
    return q->l[l].wbits > 0 ? q->l[l].werr : NAN;
}

const struct csq_gptq_info *csq_qsim_gptq_info(const struct csq_qsim *q, int l)
{
    return q->l[l].have_gptq ? &q->l[l].gi : NULL;
}

const struct csq_actq *csq_qsim_actq(const struct csq_qsim *q, int l)
{
    return q->l[l].have_aq ? &q->l[l].aq : NULL;
}

const float *csq_qsim_weight(const struct csq_qsim *q, int l)
{
    return q->l[l].wq;
}

const struct csq_qbias *csq_qsim_bias(const struct csq_qsim *q, int l)
{
    return q->l[l].have_qb ? &q->l[l].qb : NULL;
}

/* Layer l's bias value when qsim.h's rounding applies to it, else -1. */
static int roundable_bias(const struct csq_qsim *q, int l, const struct csq_layout *lay)
{
    const struct csq_graph *g = q->g;
    const struct csq_node *n = &g->nodes[g->layers[l].node];
    const struct qlayer *ql = &q->l[l];
    const struct csq_value *b;

    if (ql->wbits <= 0 || !ql->have_aq || !((float)ql->aq.scale > 0) || !lay->strided ||
        (strcmp(n->op_type, "Conv") != 0 && strcmp(n->op_type, "Gemm") != 0) ||
        n->nin < 3 || n->in[2] < 0 || ql->input_index != 0)
        return -1;
    b = &g->vals[n->in[2]];
    if (b->kind != CSQ_VAL_INIT || b->t.dtype != CSQ_DT_FLOAT || !b->t.data ||
        b->t.rank != 1 || b->t.dims[0] != lay->channels || b->nconsumers != 1)
        return -1;
    return n->in[2];
}

/* qsim.h's bias rounding for layer l (after its input range is known). */
static int round_bias(struct csq_qsim *q, int l)
{
    const struct csq_graph *g = q->g;
    const struct csq_layer *ly = &g->layers[l];
    struct qlayer *ql = &q->l[l];
    const float *w = g->vals[ly->weight].t.data, *b;
    struct csq_layout lay;
    float sx, *ws, *grid, *bq, *rtn;
    int64_t c;
    int v, rc;

    ql->have_qb = 0;
    csq_layer_layout(g, l, &lay);
    if ((v = roundable_bias(q, l, &lay)) < 0)
        return CSQ_OK;
    b = g->vals[v].t.data;
    if (!ql->qbuf) {
        ql->qbuf = csq_mem_array((size_t)lay.channels * 4 + 1, sizeof(float));
        ql->qlev = csq_mem_array((size_t)lay.channels + 1, sizeof(int32_t));
        if (!ql->qbuf || !ql->qlev)
            return CSQ_ENOMEM;
    }
    ws = ql->qbuf;
    grid = ws + lay.channels;
    bq = grid + lay.channels;
    rtn = bq + lay.channels;
    if (!ql->have_rtn) {
        /* the channels' scales, as both quantizers choose them
         * (mpq/gptq.h): 100 passes over each channel, so threaded, and
         * once per layer, since every new activation range (sweep's
         * budgets) rounds the bias again */
        rc = CSQ_OK;
#pragma omp parallel for schedule(dynamic, 4) reduction(| : rc)
        for (c = 0; c < lay.channels; c++) {
            struct csq_wquant info;
            rc |= csq_quant_choose(w + c * lay.ch_stride, lay.per_channel, lay.el_stride,
                                   ql->wbits, &info);
            rtn[c] = (float)info.scale;
        }
        if (rc != 0)
            return rc;  /* csq_quant_choose's message */
        ql->have_rtn = 1;
    }
    sx = (float)ql->aq.scale;
    for (c = 0; c < lay.channels; c++) {
        double t;
        ws[c] = rtn[c];
        if (!(ws[c] > 0) && b[c] != 0.0f) {
            ws[c] = fabsf(b[c]) / sx;
            if (!isfinite(ws[c]))
                return csq_fail(CSQ_EINVAL, "layer '%s': channel %lld's bias %.9g cannot be "
                                "stored at input scale %.9g", ly->name, (long long)c,
                                (double)b[c], (double)sx);
        }
        grid[c] = sx * ws[c];
        t = grid[c] > 0 ? rint((double)b[c] / (double)grid[c]) : 0;
        if (t > 2147483647.0)
            t = 2147483647.0;
        else if (t < -2147483648.0)
            t = -2147483648.0;
        ql->qlev[c] = (int32_t)t;
        bq[c] = (float)ql->qlev[c] * grid[c];
    }
    ql->qb = (struct csq_qbias){ v, lay.channels, ws, grid, ql->qlev, bq };
    ql->have_qb = 1;
    return CSQ_OK;
}

static int round_biases(struct csq_qsim *q)
{
    int l, rc;

    for (l = 0; l < q->g->nlayers; l++)
        if ((rc = round_bias(q, l)) != 0) {
            csq_err_context("layer '%s': bias", q->g->layers[l].name);
            return rc;
        }
    return CSQ_OK;
}

/* The quantized weights into the engine (in) or the graph's back. */
static void swap_weights(struct csq_qsim *q, struct csq_engine *e, int in)
{
    int l;

    for (l = 0; l < q->g->nlayers; l++)
        if (q->l[l].wuse)
            csq_engine_set_weight(e, q->g->layers[l].weight, in ? q->l[l].wuse : NULL);
}

/* The rounded biases into the engine (in) or the graph's back. */
static void swap_biases(struct csq_qsim *q, struct csq_engine *e, int in)
{
    int l;

    for (l = 0; l < q->g->nlayers; l++)
        if (q->l[l].have_qb)
            csq_engine_set_weight(e, q->l[l].qb.value, in ? q->l[l].qb.bias : NULL);
}

static int observe_tap(void *user, int layer, const struct csq_tensor *t)
{
    struct csq_qsim *q = user;
    int64_t n = csq_tensor_numel(t);
    int value = q->g->layers[layer].input, l, rc;

    /* Every quantized layer reading this value observes it. */
    for (l = 0; l < q->g->nlayers; l++)
        if (q->g->layers[l].input == value && q->l[l].cal &&
            (rc = csq_actcal_add(q->l[l].cal, t->data, (size_t)n)) != 0) {
            csq_err_context("layer '%s' input", q->g->layers[l].name);
            return rc;
        }
    return CSQ_OK;
}

int csq_qsim_calibrate(struct csq_qsim *q, struct csq_engine *e, struct csq_loader *ld,
                       const struct csq_progress *progress)
{
    struct csq_feed f;
    int l, k, rc = CSQ_OK, seen;

    swap_weights(q, e, 1);
    /* One tap per distinct input value. */
    for (l = 0; l < q->g->nlayers && rc == CSQ_OK; l++) {
        if (!q->l[l].cal)
            continue;
        for (seen = 0, k = 0; k < l; k++)
            if (q->l[k].cal && q->g->layers[k].input == q->g->layers[l].input)
                seen = 1;
        if (!seen)
            rc = csq_engine_tap(e, l, CSQ_TAP_INPUT, observe_tap, q);
    }
    if (rc == CSQ_OK) {
        memset(&f, 0, sizeof f);
        f.engine = e;
        f.loader = ld;
        f.progress = progress;
        f.what = "calibrate";
        rc = csq_feed_run(&f);
    }
    csq_engine_clear_hooks(e);
    swap_weights(q, e, 0);
    for (l = 0; l < q->g->nlayers && rc == CSQ_OK; l++) {
        if (!q->l[l].cal)
            continue;
        if ((rc = csq_actcal_finish(q->l[l].cal, &q->l[l].aq)) != 0)
            csq_err_context("layer '%s': activation calibration", q->g->layers[l].name);
        else
            q->l[l].have_aq = 1;
    }
    return rc == CSQ_OK ? round_biases(q) : rc;
}

int csq_qsim_copy_ranges(struct csq_qsim *dst, const struct csq_qsim *src)
{
    int l;

    for (l = 0; l < dst->g->nlayers; l++) {
        struct qlayer *d = &dst->l[l];
        const struct qlayer *s = &src->l[l];
        if (d->abits <= 0)
            continue;
        if (!s->have_aq || s->abits != d->abits)
            return csq_fail(CSQ_EINVAL, "layer '%s': no calibrated %d-bit input range to "
                            "reuse", dst->g->layers[l].name, d->abits);
        d->aq = s->aq;
        d->have_aq = 1;
    }
    return round_biases(dst);
}

static int apply_hook(void *user, int node, int input, struct csq_tensor *t)
{
    const struct csq_actq *aq = user;

    (void)node;
    (void)input;
    csq_actq_apply(aq, t->data, (size_t)csq_tensor_numel(t));
    return CSQ_OK;
}

int csq_qsim_attach(struct csq_qsim *q, struct csq_engine *e)
{
    int l, rc;

    for (l = 0; l < q->g->nlayers; l++) {
        struct qlayer *ql = &q->l[l];
        if (ql->abits > 0 && !ql->have_aq)
            return csq_fail(CSQ_EINVAL, "layer '%s': activations are not calibrated",
                            q->g->layers[l].name);
    }
    for (l = 0; l < q->g->nlayers; l++) {
        struct qlayer *ql = &q->l[l];
        if (ql->have_aq && ql->input_index >= 0 &&
            (rc = csq_engine_prehook(e, q->g->layers[l].node, ql->input_index, apply_hook,
                                     &ql->aq)) != 0) {
            csq_engine_clear_hooks(e);
            return rc;
        }
    }
    swap_weights(q, e, 1);
    swap_biases(q, e, 1);
    q->attached = 1;
    return CSQ_OK;
}

void csq_qsim_detach(struct csq_qsim *q, struct csq_engine *e)
{
    if (!q->attached)
        return;
    csq_engine_clear_hooks(e);
    swap_weights(q, e, 0);
    swap_biases(q, e, 0);
    q->attached = 0;
}

void csq_qsim_free(struct csq_qsim *q)
{
    int l;

    if (!q)
        return;
    for (l = 0; q->l && l < q->g->nlayers; l++) {
        free(q->l[l].wq);
        free(q->l[l].qbuf);
        free(q->l[l].qlev);
        csq_actcal_free(q->l[l].cal);
    }
    free(q->l);
    free(q);
}
