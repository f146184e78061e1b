/*
 * pass_fuse: folds a Relu into the Conv or Add that feeds it (see graph.h).
 */
#include "config.h"

#include <string.h>

#include "nn/graph.h"
#include "util/err.h"

int csq_graph_fuse(struct csq_graph *g)
{
    int i;

    for (i = 0; i < g->nnodes; i++) {
        struct csq_node *r = &g->nodes[i], *p;
        struct csq_value *x;
        int pi;

        if (r->dead || strcmp(r->op_type, "Relu") != 0 || r->nin != 1 || r->in[0] < 0 ||
            r->nout != 1 || r->out[0] < 0)
            continue;
        x = &g->vals[r->in[0]];
        pi = x->producer;
        if (pi < 0 || x->nconsumers != 1 || x->kind != CSQ_VAL_RUNTIME)
            continue;
        p = &g->nodes[pi];
        if (p->dead || p->fused_relu || p->nout != 1 ||
            (strcmp(p->op_type, "Conv") != 0 && strcmp(p->op_type, "Add") != 0))
            continue;
        /* The producer now writes the Relu's output; its own is orphaned. */
        x->producer = -1;
        x->nconsumers = 0;
        p->out[0] = r->out[0];
        g->vals[r->out[0]].producer = pi;
        p->fused_relu = 1;
        r->dead = 1;
    }
    return CSQ_OK;
}
