/*
 * bind: shape inference and constant folding over a table of tensors, one
 * per graph value.  The loader's passes bind the graph's own values once
 * (pass_fold.c); every engine binds a table of its own for its batch size,
 * so one const graph serves any number of engines.  Internal to src/nn.
 *
 *     t[v] = g->vals[v].t for every value (data only for initializers);
 *     memset(fl, 0, g->nvals);
 *     rc = csq_bind(g, t, fl, shapes, batch);
 *     ... t[v].dims, t[v].data of folded values ...
 *     csq_bind_release(g, t, fl);
 */
#ifndef CSQ_BIND_H
#define CSQ_BIND_H

#include <stdint.h>

#include "nn/graph.h"

/* fl[v] bits */
enum {
    CSQ_BIND_FOLDED = 1,        /* computed by csq_bind, data malloc'd */
    CSQ_BIND_SHAPE_DEP = 2      /* folded from an input's shape: changes with the batch */
};

/* Binds inputs to shapes[g->ninputs] (NULL: declared dims, the symbolic
 * batch dim = batch; declared fixed dims must match), then infers every
 * live node's outputs in order and computes the nodes whose inputs are all
 * constant (initializers or folded) or whose op reads only shapes.
 * Values of kind CSQ_VAL_INIT are the constants; fl[] starts zeroed.  On
 * failure the folded data made so far is released. */
int csq_bind(const struct csq_graph *g, struct csq_tensor *t, unsigned char *fl,
             const struct csq_tensor *shapes, int64_t batch);
/* Frees the data of folded values and clears their flags. */
void csq_bind_release(const struct csq_graph *g, struct csq_tensor *t, unsigned char *fl);

#endif
