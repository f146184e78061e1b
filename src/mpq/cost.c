/*
 * cost: params, MACs, size and BOPs of quantizable layers (see cost.h).
 */
#include "config.h"

#include "mpq/cost.h"

void csq_cost_layer(const struct csq_graph *g, int l, struct csq_cost *c)
{
    const struct csq_layer *ly = &g->layers[l];
    const struct csq_node *n = &g->nodes[ly->node];
    const struct csq_tensor *w = &g->vals[ly->weight].t;
    const struct csq_tensor *y = &g->vals[n->out[0]].t;
    struct csq_layout lay;
    int64_t per_image;

    csq_layer_layout(g, l, &lay);
    c->params = csq_tensor_numel(w);
    per_image = csq_tensor_numel(y);
    /* The first output dim is the batch for every layer type we count. */
    if (y->rank > 1 && y->dims[0] > 0)
        per_image /= y->dims[0];
    c->macs = per_image * lay.per_channel;
}

void csq_cost_totals(const struct csq_graph *g, int64_t *params, int64_t *macs)
{
    struct csq_cost c;
    int l;

    *params = *macs = 0;
    for (l = 0; l < g->nlayers; l++) {
        csq_cost_layer(g, l, &c);
        *params += c.params;
        *macs += c.macs;
    }
}
