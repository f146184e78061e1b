/*
 * cost: the size and compute of quantizable layers (DESIGN §6).
 *
 * params = elements of the (BN-folded) weight, bias not counted;
 * MACs per image = output elements per image x weight elements / output
 * channels.  Size in bits = sum params x wbits; BOPs = sum MACs x wbits x
 * abits.  Reads the graph's batch-1 shapes.
 */
#ifndef CSQ_COST_H
#define CSQ_COST_H

#include <stdint.h>

#include "nn/graph.h"

struct csq_cost {
    int64_t params;
    int64_t macs;           /* per image */
};

/* Cost of layer l of g. */
void csq_cost_layer(const struct csq_graph *g, int l, struct csq_cost *c);
/* Sums over all layers. */
void csq_cost_totals(const struct csq_graph *g, int64_t *params, int64_t *macs);

#endif
