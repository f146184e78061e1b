/*
 * graph: lifetime of the graph IR and its look-ups.  The passes that
 * prepare a loaded graph live in pass_*.c and layers.c (see graph.h).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn/graph.h"


static void free_attr(struct csq_attr *a)
{
    free(a->name);
    free(a->s);
    free(a->ints);
    free(a->floats);
    free(a->t.data);
}

void csq_graph_free(struct csq_graph *g)
{
    int i, j;

    if (!g)
        return;
    for (i = 0; i < g->nvals; i++) {
        free(g->vals[i].name);
        if (g->vals[i].kind == CSQ_VAL_INIT || g->vals[i].kind == CSQ_VAL_FOLDED)
            free(g->vals[i].t.data);
    }
    for (i = 0; i < g->nnodes; i++) {
        struct csq_node *n = &g->nodes[i];
        free(n->name);
        free(n->op_type);
        free(n->in);
        free(n->out);
        for (j = 0; j < n->nattrs; j++)
            free_attr(&n->attrs[j]);
        free(n->attrs);
    }
    for (i = 0; i < g->nlayers; i++)
        free(g->layers[i].name);
    for (i = 0; i < g->nmeta; i++) {
        free(g->meta[i].key);
        free(g->meta[i].value);
    }
    free(g->vals);
    free(g->nodes);
    free(g->inputs);
    free(g->outputs);
    free(g->layers);
    free(g->meta);
    free(g->path);
    free(g->producer);
    free(g);
}

const char *csq_graph_meta(const struct csq_graph *g, const char *key)
{
    int i;

    for (i = 0; i < g->nmeta; i++)
        if (strcmp(g->meta[i].key, key) == 0)
            return g->meta[i].value;
    return NULL;
}

const char *csq_node_label(const struct csq_graph *g, int node, char *buf, size_t len)
{
    const struct csq_node *n = &g->nodes[node];

    if (n->name && *n->name)
        return n->name;
    snprintf(buf, len, "%s_%d", n->op_type, node);
    return buf;
}

int csq_value_is_const(const struct csq_value *v)
{
    return v->kind == CSQ_VAL_INIT || v->kind == CSQ_VAL_FOLDED;
}
