/*
 * cost: params, MACs, size and BOPs of quantizable layers (see cost.h).
 */
#include "config.h"

#include <stdint.h>
#include <string.h>

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

static void add_sat(int64_t *acc, int64_t v)
{
    if (__builtin_add_overflow(*acc, v, acc))
        *acc = INT64_MAX;
}

void csq_cost_add(struct csq_cost_config *acc, int64_t params, int64_t macs, int wbits,
                  int abits)
{
    int64_t w = wbits ? wbits : 32, a = abits ? abits : 32;

    add_sat(&acc->params, params);
    add_sat(&acc->size_bits, params * w);
    add_sat(&acc->bops, macs * w * a);
    acc->mean_wbits = acc->params > 0 ? (double)acc->size_bits / (double)acc->params : 0;
}

void csq_cost_config(const struct csq_graph *g, const int *wbits, const int *abits,
                     struct csq_cost_config *out)
{
    struct csq_cost c;
    int l;

    memset(out, 0, sizeof *out);
    for (l = 0; l < g->nlayers; l++) {
        csq_cost_layer(g, l, &c);
        csq_cost_add(out, c.params, c.macs, wbits[l], abits[l]);
    }
}
