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

/* What a config costs (DESIGN.md section 6): size in bits, BOPs per image
 * and the params-weighted mean weight width.  A width of 0 is a layer left
 * float, counted as 32 bits. */
struct csq_cost_config {
    int64_t params;
    int64_t size_bits;
    int64_t bops;
    double mean_wbits;
};

/* Start from a zeroed struct, add every layer, then read the fields
 * (mean_wbits is kept current).  Sums saturate at INT64_MAX; callers bound
 * each layer's params and MACs so that one layer's products fit. */
void csq_cost_add(struct csq_cost_config *acc, int64_t params, int64_t macs, int wbits,
                  int abits);
/* The cost of widths wbits[l], abits[l] on the layers of g. */
void csq_cost_config(const struct csq_graph *g, const int *wbits, const int *abits,
                     struct csq_cost_config *out);

#endif
