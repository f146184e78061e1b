/*
 * engine: runs a graph on float32 / int64 inputs.
 *
 * The engine borrows a const graph (which must outlive it) and keeps all
 * run state itself: the shapes bound for the current batch size, the data
 * pointer of every value, per-node plans (shape checks, kernel paths) and
 * packed weights, so any number of engines can share one graph.  It
 * re-plans when the input shapes change (e.g. a last, smaller batch).
 * All activations live in one arena whose offsets are planned from value
 * lifetimes, so memory follows the widest point of the network.
 * Tensors handed to taps and returned by csq_engine_output() point into
 * the engine: valid until the next forward call.
 *
 *     struct csq_engine *e;
 *     rc = csq_engine_new(g, &e);
 *     rc = csq_engine_tap(e, layer, CSQ_TAP_POST, fn, user);   optional
 *     rc = csq_engine_set_weight(e, g->layers[l].weight, wq);  optional
 *     rc = csq_engine_forward(e, inputs);                inputs[g->ninputs]
 *     y = csq_engine_output(e, 0);
 *     csq_engine_free(e);
 */
#ifndef CSQ_ENGINE_H
#define CSQ_ENGINE_H

#include "nn/graph.h"

struct csq_engine;

/* Where a tap reads a quantizable layer. */
enum csq_tap_at {
    CSQ_TAP_INPUT,      /* the layer's data input, when computed (a pre-hook
                         * then rewrites only the layer's private copy) */
    CSQ_TAP_PRE,        /* its output before a Relu fused into it */
    CSQ_TAP_POST        /* its output after a fused Relu (= PRE when none is) */
};

/* Called once per forward with the tensor of layer (index in g->layers)
 * at the point asked for; non-zero status stops the forward and is
 * returned by it. */
typedef int (*csq_tap_fn)(void *user, int layer, const struct csq_tensor *t);

/* Called before node runs with its input i; the hook may rewrite t->data
 * in place (fake quantization): t is a private copy. */
typedef int (*csq_prehook_fn)(void *user, int node, int input, struct csq_tensor *t);

int csq_engine_new(const struct csq_graph *g, struct csq_engine **out);
void csq_engine_free(struct csq_engine *e);

/* A pre-activation tap on a layer with a fused Relu makes that layer's
 * kernel leave the Relu out and the engine apply it after the tap; no tap,
 * no cost. */
int csq_engine_tap(struct csq_engine *e, int layer, enum csq_tap_at at,
                   csq_tap_fn fn, void *user);
/* One pre-hook per node input: a second on the same input is refused. */
int csq_engine_prehook(struct csq_engine *e, int node, int input,
                       csq_prehook_fn fn, void *user);
/* Forget every tap and pre-hook (their user pointers may be gone). */
void csq_engine_clear_hooks(struct csq_engine *e);

/* Substitutes data (borrowed: the caller keeps it alive and unchanged
 * while it is set) for the float initializer value, e.g. a quantized copy
 * of a layer's weight; NULL restores the graph's own.  Weights derived
 * from it (packed) are recomputed at the next forward. */
int csq_engine_set_weight(struct csq_engine *e, int value, const float *data);

/* inputs[i] feeds g->inputs[i]; dims of each must fit the declared ones
 * (symbolic dims take any size).  Fails with one message on a shape
 * mismatch or when the arena cannot be allocated. */
int csq_engine_forward(struct csq_engine *e, const struct csq_tensor *inputs);

const struct csq_tensor *csq_engine_output(const struct csq_engine *e, int i);

/*
 * Partial passes (CLADO's pair measurements).  csq_engine_forward is
 * csq_engine_forward_range(e, in, 0, g->nnodes); a range [from, to) runs
 * only those nodes, after planning for the inputs' shapes (input taps run
 * only from node 0).  Nodes from `from` on read the values
 * csq_engine_live(e, from, ...) lists: run-time values written before
 * `from` and read at or after it (or graph outputs).  A caller that saved
 * their data after a pass up to `from` and writes it back (into
 * csq_engine_value(e, v)->data, after csq_engine_prepare with the same
 * inputs) can resume there any number of times: the arena plan keeps a
 * value's memory untouched from its writer to its last reader.
 */
int csq_engine_prepare(struct csq_engine *e, const struct csq_tensor *inputs);
int csq_engine_forward_range(struct csq_engine *e, const struct csq_tensor *inputs, int from,
                             int to);
/* Ids of the values live at node into vals (NULL: count only); their count.
 * Valid once planned (after a prepare or forward). */
int csq_engine_live(const struct csq_engine *e, int node, int *vals);
/* The engine's binding of value v (data into its arena), or NULL. */
const struct csq_tensor *csq_engine_value(const struct csq_engine *e, int v);

#endif
