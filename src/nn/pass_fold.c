/*
 * pass_fold: binds the graph'\''s own values to batch-1 shapes (nn/bind.c)
 * and freezes the constant subgraphs into initializers.  Runs only inside
 * the loader; engines bind tables of their own.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "nn/bind.h"
#include "nn/graph.h"
#include "util/err.h"
#include "util/mem.h"

int csq_graph_freeze(struct csq_graph *g)
{
    int i, j;

    for (i = 0; i < g->nnodes; i++) {
        struct csq_node *n = &g->nodes[i];
        int frozen = !n->dead && n->nout > 0;

        for (j = 0; j < n->nout && frozen; j++)
            if (n->out[j] >= 0 && (g->vals[n->out[j]].kind != CSQ_VAL_FOLDED ||
                                   g->vals[n->out[j]].shape_dep))
                frozen = 0;
        if (!frozen)
            continue;
        for (j = 0; j < n->nout; j++)
            if (n->out[j] >= 0) {
                g->vals[n->out[j]].kind = CSQ_VAL_INIT;
                g->vals[n->out[j]].producer = -1;
            }
        for (j = 0; j < n->nin; j++)
            if (n->in[j] >= 0)
                g->vals[n->in[j]].nconsumers--;
        n->dead = 1;
    }
    return CSQ_OK;
}

int csq_graph_bind(struct csq_graph *g, int64_t batch)
{
    struct csq_tensor *t;
    unsigned char *fl;
    int i, rc;

    t = csq_mem_array((size_t)g->nvals + 1, sizeof *t);
    fl = csq_mem_zarray((size_t)g->nvals + 1, 1);
    if (!t || !fl) {
        free(t);
        free(fl);
        return CSQ_ENOMEM;
    }
    /* Values folded by an earlier bind are computed afresh. */
    for (i = 0; i < g->nvals; i++) {
        struct csq_value *v = &g->vals[i];
        if (v->kind == CSQ_VAL_FOLDED) {
            free(v->t.data);
            v->kind = CSQ_VAL_RUNTIME;
            v->shape_dep = 0;
        }
        t[i] = v->t;
        if (v->kind != CSQ_VAL_INIT)
            t[i].data = NULL;
    }
    if ((rc = csq_bind(g, t, fl, NULL, batch)) == 0) {
        for (i = 0; i < g->nvals; i++) {
            struct csq_value *v = &g->vals[i];
            v->t = t[i];
            if (v->kind == CSQ_VAL_INPUT)
                v->t.data = NULL;
            if (fl[i] & CSQ_BIND_FOLDED) {
                v->kind = CSQ_VAL_FOLDED;
                v->shape_dep = (fl[i] & CSQ_BIND_SHAPE_DEP) != 0;
            }
        }
    } else {
        for (i = 0; i < g->nvals; i++)
            if (g->vals[i].kind != CSQ_VAL_INIT)
                g->vals[i].t.data = NULL;
    }
    free(t);
    free(fl);
    return rc;
}
