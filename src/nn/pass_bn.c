/*
 * pass_bn: folds BatchNormalization (inference) into the Conv before it,
 * when the Conv'\''s output has no other reader and every parameter is a
 * constant.
 */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn/graph.h"
#include "util/err.h"
#include "util/mem.h"

static int new_const(struct csq_graph *g, const char *name, const struct csq_tensor *t)
{
    struct csq_value *v = csq_mem_rearray(g->vals, (size_t)g->nvals + 1, sizeof *v);

    if (!v)
        return -1;
    g->vals = v;
    v = &g->vals[g->nvals];
    memset(v, 0, sizeof *v);
    v->name = csq_mem_strdup(name);
    if (!v->name)
        return -1;
    v->kind = CSQ_VAL_INIT;
    v->t = *t;
    v->producer = -1;
    return g->nvals++;
}

static int bn_foldable(const struct csq_graph *g, const struct csq_node *bn)
{
    const struct csq_node *cv;
    int x = bn->in[0], i, c;

    if (bn->nin != 5 || x < 0 || g->vals[x].producer < 0 || g->vals[x].nconsumers != 1)
        return 0;
    if (csq_node_int(bn, "training_mode", 0) != 0)
        return 0;
    for (i = 1; i < bn->nout; i++)
        if (bn->out[i] >= 0 && g->vals[bn->out[i]].nconsumers > 0)
            return 0;
    cv = &g->nodes[g->vals[x].producer];
    if (strcmp(cv->op_type, "Conv") != 0 || cv->dead || cv->nin < 2 || cv->in[1] < 0)
        return 0;
    if (!csq_value_is_const(&g->vals[cv->in[1]]) || g->vals[cv->in[1]].t.rank < 3 ||
        g->vals[cv->in[1]].t.dtype != CSQ_DT_FLOAT)
        return 0;
    c = (int)g->vals[cv->in[1]].t.dims[0];
    if (cv->nin > 2 && cv->in[2] >= 0) {
        const struct csq_value *b = &g->vals[cv->in[2]];
        if (!csq_value_is_const(b) || b->t.rank != 1 || b->t.dims[0] != c)
            return 0;
    }
    for (i = 1; i < 5; i++) {
        const struct csq_value *p = bn->in[i] >= 0 ? &g->vals[bn->in[i]] : NULL;
        if (!p || !csq_value_is_const(p) || p->t.dtype != CSQ_DT_FLOAT || p->t.rank != 1 ||
            p->t.dims[0] != c)
            return 0;
    }
    return 1;
}

/*
 * conv(x, W) + b followed by BN(scale s, shift t, mean m, var v, eps) is
 * conv(x, W * k) + (b - m) * k + t with k = s / sqrt(v + eps) per output
 * channel; k is computed in double so folding adds no float error of its
 * own beyond the final rounding.
 */
static int fold_one(struct csq_graph *g, int bni)
{
    struct csq_node *bn = &g->nodes[bni];
    int convi = g->vals[bn->in[0]].producer;
    struct csq_node *cv = &g->nodes[convi];
    const struct csq_tensor *w = &g->vals[cv->in[1]].t;
    const float *bias = cv->nin > 2 && cv->in[2] >= 0 ? g->vals[cv->in[2]].t.data : NULL;
    const float *s = g->vals[bn->in[1]].t.data, *t = g->vals[bn->in[2]].t.data;
    const float *m = g->vals[bn->in[3]].t.data, *var = g->vals[bn->in[4]].t.data;
    double eps = csq_node_float(bn, "epsilon", 1e-5f);
    int64_t c = w->dims[0], per = csq_tensor_numel(w) / (c ? c : 1), o, i;
    struct csq_tensor nw = *w, nb;
    char *wname, *bname;
    int wv, bv, *nin;

    memset(&nb, 0, sizeof nb);
    nb.dtype = CSQ_DT_FLOAT;
    nb.rank = 1;
    nb.dims[0] = c;
    nw.data = csq_mem_array((size_t)(c * per), sizeof(float));
    nb.data = csq_mem_array((size_t)c, sizeof(float));
    wname = csq_mem_strdup(g->vals[cv->in[1]].name);
    bname = malloc(strlen(wname ? wname : "") + 16);
    if (!nw.data || !nb.data || !wname || !bname) {
        free(nw.data);
        free(nb.data);
        free(wname);
        free(bname);
        return csq_fail(CSQ_ENOMEM, "out of memory folding BatchNormalization");
    }
    sprintf(bname, "%s.folded_bias", wname);
    for (o = 0; o < c; o++) {
        double k = (double)s[o] / sqrt((double)var[o] + eps);
        for (i = 0; i < per; i++)
            ((float *)nw.data)[o * per + i] = (float)(((const float *)w->data)[o * per + i] * k);
        ((float *)nb.data)[o] = (float)(((bias ? bias[o] : 0.0) - m[o]) * k + t[o]);
    }
    wv = new_const(g, wname, &nw);
    bv = wv >= 0 ? new_const(g, bname, &nb) : -1;
    free(wname);
    free(bname);
    if (wv < 0 || bv < 0) {
        if (wv < 0)
            free(nw.data);
        free(nb.data);
        return CSQ_ENOMEM;
    }
    /* g->vals moved: take pointers again. */
    bn = &g->nodes[bni];
    cv = &g->nodes[convi];
    if (cv->nin < 3) {
        nin = csq_mem_rearray(cv->in, 3, sizeof(int));
        if (!nin)
            return CSQ_ENOMEM;
        cv->in = nin;
        cv->nin = 3;
    } else {
        g->vals[cv->in[2]].nconsumers--;
    }
    g->vals[cv->in[1]].nconsumers--;
    cv->in[1] = wv;
    cv->in[2] = bv;
    g->vals[wv].nconsumers = 1;
    g->vals[bv].nconsumers = 1;
    for (i = 1; i < 5; i++)
        g->vals[bn->in[i]].nconsumers--;
    /* The conv now writes the BN's output; its old output is orphaned. */
    g->vals[cv->out[0]].producer = -1;
    g->vals[cv->out[0]].nconsumers = 0;
    cv->out[0] = bn->out[0];
    g->vals[bn->out[0]].producer = convi;
    bn->dead = 1;
    return CSQ_OK;
}

int csq_graph_fold_bn(struct csq_graph *g)
{
    int i, rc;

    for (i = 0; i < g->nnodes; i++) {
        if (g->nodes[i].dead || strcmp(g->nodes[i].op_type, "BatchNormalization") != 0)
            continue;
        if (bn_foldable(g, &g->nodes[i]) && (rc = fold_one(g, i)) != 0)
            return rc;
    }
    return CSQ_OK;
}
