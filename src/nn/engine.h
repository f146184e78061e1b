/*
 * engine: runs a bound graph on float32 / int64 inputs.
 *
 * All activations live in one arena whose offsets are planned from value
 * lifetimes, so memory follows the widest point of the network, not its
 * depth.  The engine borrows the graph (which must outlive it) and
 * re-binds it when the input shapes change (e.g. a last, smaller batch).
 * Tensors handed to taps and returned by csq_engine_output() point into
 * the arena: valid until the next forward call.
 *
 *     struct csq_engine *e;
 *     rc = csq_engine_new(g, &e);
 *     rc = csq_engine_tap(e, value_index, fn, user);     optional
 *     rc = csq_engine_forward(e, inputs);                inputs[g->ninputs]
 *     y = csq_engine_output(e, 0);
 *     csq_engine_free(e);
 */
#ifndef CSQ_ENGINE_H
#define CSQ_ENGINE_H

#include "nn/graph.h"

struct csq_engine;

/* Called after the value is computed, once per forward; non-zero status
 * stops the forward and is returned by it. */
typedef int (*csq_tap_fn)(void *user, int value, const struct csq_tensor *t);

/* Called before node runs with its input i; the hook may rewrite t->data
 * in place (fake quantization); t is a private copy when the value has
 * other readers. */
typedef int (*csq_prehook_fn)(void *user, int node, int input, struct csq_tensor *t);

int csq_engine_new(struct csq_graph *g, struct csq_engine **out);
void csq_engine_free(struct csq_engine *e);

int csq_engine_tap(struct csq_engine *e, int value, csq_tap_fn fn, void *user);
int csq_engine_prehook(struct csq_engine *e, int node, int input,
                       csq_prehook_fn fn, void *user);

/* Forget every tap and pre-hook (their user pointers may be gone). */
void csq_engine_clear_hooks(struct csq_engine *e);

/* inputs[i] feeds g->inputs[i]; dims of each must fit the declared ones
 * (symbolic dims take any size).  Fails with one message on a shape
 * mismatch or when the arena cannot be allocated. */
int csq_engine_forward(struct csq_engine *e, const struct csq_tensor *inputs);

const struct csq_tensor *csq_engine_output(const struct csq_engine *e, int i);
/* Bytes in the activation arena at the last forward. */
size_t csq_engine_arena_bytes(const struct csq_engine *e);

#endif
