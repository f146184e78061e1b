/*
 * pass_fuse: folds a Relu into the Conv or Add that feeds it, and a Clip
 * with constant bounds (MobileNet's ReLU6) into the Conv that feeds it
 * (see graph.h); the kernels apply them while the block is in cache.
 */
#include "config.h"

#include <float.h>
#include <string.h>

#include "nn/graph.h"
#include "util/err.h"

/* A Clip's bound: from input i (opset 11+) or attribute (older); 0 when
 * it is not a constant float scalar. */
static int clip_bound(const struct csq_graph *g, const struct csq_node *r, int i,
                      const char *attr, float dflt, float *v)
{
    const struct csq_value *b;

    *v = dflt;
    if (g->opset < 11) {
        *v = csq_node_float(r, attr, dflt);
        return 1;
    }
    if (i >= r->nin || r->in[i] < 0)
        return 1;
    b = &g->vals[r->in[i]];
    if (b->kind != CSQ_VAL_INIT || b->t.dtype != CSQ_DT_FLOAT || !b->t.data ||
        csq_tensor_numel(&b->t) != 1)
        return 0;
    *v = *(const float *)b->t.data;
    return 1;
}

int csq_graph_fuse(struct csq_graph *g)
{
    int i;

    for (i = 0; i < g->nnodes; i++) {
        struct csq_node *r = &g->nodes[i], *p;
        struct csq_value *x;
        int pi, clip;
        float lo = 0.0f, hi = 0.0f;

        if (r->dead || r->nin < 1 || r->in[0] < 0 || r->nout != 1 || r->out[0] < 0)
            continue;
        clip = strcmp(r->op_type, "Clip") == 0;
        if (!clip && (strcmp(r->op_type, "Relu") != 0 || r->nin != 1))
            continue;
        if (clip && (!clip_bound(g, r, 1, "min", -FLT_MAX, &lo) ||
                     !clip_bound(g, r, 2, "max", FLT_MAX, &hi)))
            continue;
        x = &g->vals[r->in[0]];
        pi = x->producer;
        if (pi < 0 || x->nconsumers != 1 || x->kind != CSQ_VAL_RUNTIME)
            continue;
        p = &g->nodes[pi];
        if (p->dead || p->fused_relu || p->nout != 1 ||
            (strcmp(p->op_type, "Conv") != 0 && (clip || strcmp(p->op_type, "Add") != 0)))
            continue;
        /* The producer now writes the activation's output; its own is orphaned. */
        x->producer = -1;
        x->nconsumers = 0;
        p->out[0] = r->out[0];
        g->vals[r->out[0]].producer = pi;
        p->fused_relu = clip ? 2 : 1;
        p->fused_lo = lo;
        p->fused_hi = hi;
        r->dead = 1;
    }
    return CSQ_OK;
}
