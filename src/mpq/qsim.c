/*
 * qsim: fake-quantized evaluation (see qsim.h).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "mpq/feed.h"
#include "mpq/qsim.h"
#include "util/err.h"
#include "util/mem.h"

struct qlayer {
    int wbits, abits;
    float *wq;                  /* quantized weight copy, NULL when float */
    void *wfloat;               /* the graph's own data, while attached */
    double sqnr;
    int input_index;            /* which node input is the data */
    struct csq_actcal *cal;
    struct csq_actq aq;
    int have_aq;
};

struct csq_qsim {
    struct csq_graph *g;
    struct qlayer *l;           /* [g->nlayers] */
    int attached;
};

/*
 * Per-output-channel layout of a layer's weight: Conv (M, C/g, kh, kw)
 * and Gemm with transB are rows; Gemm without transB and MatMul (K, N)
 * are columns.
 */
static int quantize_weight(const struct csq_graph *g, int l, float *w, int bits, double *sqnr)
{
    const struct csq_layer *ly = &g->layers[l];
    const struct csq_node *n = &g->nodes[ly->node];
    const struct csq_tensor *t = &g->vals[ly->weight].t;
    int64_t numel = csq_tensor_numel(t), rows = t->dims[0], cols = numel / (rows ? rows : 1);

    if (strcmp(n->op_type, "Conv") == 0 ||
        (strcmp(n->op_type, "Gemm") == 0 && csq_node_int(n, "transB", 0)))
        return csq_quant_weights(w, rows, cols, bits, sqnr);
    if (t->rank != 2)
        return csq_fail(CSQ_EUNSUPPORTED, "layer '%s': %d-D MatMul weights cannot be "
                        "quantized per channel", ly->name, t->rank);
    return csq_quant_weights_strided(w, cols, rows, 1, cols, bits, sqnr);
}

int csq_qsim_new(struct csq_graph *g, const int *wbits, const int *abits,
                 struct csq_qsim **out)
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
        for (i = 0; i < n->nin; i++)
            if (n->in[i] == ly->input)
                ql->input_index = i;
        if (ql->wbits > 0) {
            ql->wq = csq_mem_array((size_t)numel, sizeof(float));
            if (!ql->wq) {
                rc = CSQ_ENOMEM;
                break;
            }
            memcpy(ql->wq, w->data, (size_t)numel * sizeof(float));
            if ((rc = quantize_weight(g, l, ql->wq, ql->wbits, &ql->sqnr)) != 0)
                csq_err_context("layer '%s'", ly->name);
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

const struct csq_actq *csq_qsim_actq(const struct csq_qsim *q, int l)
{
    return q->l[l].have_aq ? &q->l[l].aq : NULL;
}

static void swap_weights(struct csq_qsim *q, int in)
{
    int l;

    for (l = 0; l < q->g->nlayers; l++) {
        struct qlayer *ql = &q->l[l];
        struct csq_tensor *w = &q->g->vals[q->g->layers[l].weight].t;
        if (!ql->wq)
            continue;
        if (in) {
            ql->wfloat = w->data;
            w->data = ql->wq;
        } else {
            w->data = ql->wfloat;
        }
    }
}

static int observe_tap(void *user, int value, const struct csq_tensor *t)
{
    struct csq_qsim *q = user;
    int64_t n = csq_tensor_numel(t);
    int l, rc;

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

    swap_weights(q, 1);
    /* One tap per distinct input value. */
    for (l = 0; l < q->g->nlayers && rc == CSQ_OK; l++) {
        if (!q->l[l].cal)
            continue;
        for (seen = 0, k = 0; k < l; k++)
            if (q->l[k].cal && q->g->layers[k].input == q->g->layers[l].input)
                seen = 1;
        if (!seen)
            rc = csq_engine_tap(e, q->g->layers[l].input, observe_tap, q);
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
    swap_weights(q, 0);
    for (l = 0; l < q->g->nlayers && rc == CSQ_OK; l++) {
        if (!q->l[l].cal)
            continue;
        if ((rc = csq_actcal_finish(q->l[l].cal, &q->l[l].aq)) != 0)
            csq_err_context("layer '%s': activation calibration", q->g->layers[l].name);
        else
            q->l[l].have_aq = 1;
    }
    return rc;
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
    swap_weights(q, 1);
    q->attached = 1;
    return CSQ_OK;
}

void csq_qsim_detach(struct csq_qsim *q, struct csq_engine *e)
{
    if (!q->attached)
        return;
    csq_engine_clear_hooks(e);
    swap_weights(q, 0);
    q->attached = 0;
}

void csq_qsim_free(struct csq_qsim *q)
{
    int l;

    if (!q)
        return;
    for (l = 0; q->l && l < q->g->nlayers; l++) {
        free(q->l[l].wq);
        csq_actcal_free(q->l[l].cal);
    }
    free(q->l);
    free(q);
}
