/*
 * ops: the operator table.  One row per supported ONNX operator, with a
 * shape function and a kernel; the graph passes and the engine look rows up
 * by index (csq_node.op).  Adding an operator = one row in ops.c plus its
 * functions in the op-*.c file of its family.
 *
 * Contract for a row's functions, all given one struct csq_kargs:
 * - infer: check the inputs (ranks, dtypes, attributes) and set dtype, rank
 *   and dims of every out[i].  Inputs that are constants have in[i]->data
 *   set (Reshape's shape, Unsqueeze's axes, Pad's pads ...); an op that
 *   needs such an input constant fails with CSQ_EUNSUPPORTED when it is
 *   not.  Never allocates out data.  Errors are reported with csq_fail()
 *   and name the node (a->name).
 * - run: compute out[i]->data, which the caller allocated with the size
 *   infer gave.  Never fails on shapes infer accepted; may use a->scratch;
 *   allocates nothing.  With a->plan set it trusts the plan and checks
 *   nothing; a->relu asks it to apply a fused Relu (1) or Clip to
 *   [a->lo, a->hi] (2, Conv only) to out[0].
 * - scratch: floats of scratch memory run needs (NULL = none), for the
 *   plan and packed data in *a.
 * - plan (optional): the shape and attribute checks run does, done once
 *   when an engine plans for a batch size; stores what run needs in
 *   plan[CSQ_OP_PLAN_BYTES] (handed back as a->plan).
 * - packed / pack (optional): floats of data derived from a constant
 *   weight in[1] under a plan (Winograd-transformed weights), and their
 *   computation into dst; an engine packs once, and again only when the
 *   weight is substituted.  run finds them in a->packed (NULL = none:
 *   run derives them in scratch).
 * - release (optional): frees what plan made outside plan[] (oneDNN's
 *   primitives); the engine calls it before planning a node again and
 *   when it is freed.
 * - blocks (optional): under a plan and packing, the layouts (0 NCHW
 *   only, 1 NHWC, 16 nChw16c, 8 nChw8c: channels zero-padded to a
 *   multiple of the block) in which run can read in[0] and write out[0]
 *   directly; the engine then may keep those values so and says so to
 *   run in in_blk / out_blk.  Ops flagged CSQ_OPF_ELTWISE are computed
 *   element by element: the engine hands them such tensors as NCHW views
 *   (the channel dim padded to the block), when every input of more than
 *   one element has the output's shape and layout.
 * - fuse_add (optional): makes a plan (made with relu 0) also able to add
 *   a->sum to its output and then apply act (kargs.relu's codes), so the
 *   engine can fold the Add after it in; 1 when it can, 0 when not.
 * - fuse_silu (optional): likewise makes a plan (made with relu 0) also
 *   able to write s * sigmoid(s) of its output s when a->silu, so the
 *   engine can fold a SiLU (Sigmoid, then Mul) after it in.
 * Omitted optional inputs are NULL in in[] (nin counts them); outputs
 * nobody asked for (an empty name in the file) are NULL in out[]: infer
 * and run skip them.
 */
#ifndef CSQ_OPS_H
#define CSQ_OPS_H

#include <stddef.h>
#include <stdint.h>

#include "nn/graph.h"

struct csq_kargs {
    const struct csq_node *node;
    const char *name;                /* node label for messages */
    int64_t opset;
    int nin, nout;
    const struct csq_tensor **in;    /* [nin], NULL = omitted */
    struct csq_tensor **out;         /* [nout] */
    int nthreads;                    /* threads the kernel may use */
    int relu;                        /* fused activation of out[0]: 1 Relu, 2 Clip */
    float lo, hi;                    /* relu == 2: the Clip's bounds */
    float *scratch;                  /* run only: scratch(a) floats */
    const void *plan;                /* from op->plan, NULL = run checks */
    const float *packed;             /* from op->pack, NULL = none */
    int in_blk, out_blk;             /* layouts of in[0], out[0] (op->blocks), 0 NCHW */
    const float *sum;                /* op->fuse_add: out[0] = act(op + sum), sum in
                                      * out[0]'s layout and shape */
    int silu;                        /* op->fuse_silu: out[0] = s * sigmoid(s) of
                                      * the op's output s */
    int grouped_net;                 /* plan: the graph has grouped (depthwise)
                                      * convolutions (op_conv.c's layout choice) */
};

/* Bytes of a node's plan; kernels static_assert their plan fits. */
#define CSQ_OP_PLAN_BYTES 512

enum {
    /* output depends only on the input's shape (Shape): foldable as soon
     * as shapes are known */
    CSQ_OPF_SHAPE_ONLY = 1,
    /* element-wise, any layout when its tensors share one shape (see
     * blocks above) */
    CSQ_OPF_ELTWISE = 2
};

struct csq_op {
    const char *name;
    int (*infer)(struct csq_kargs *a);
    int (*run)(struct csq_kargs *a);
    size_t (*scratch)(const struct csq_kargs *a);
    int (*plan)(const struct csq_kargs *a, void *plan);
    size_t (*packed)(const struct csq_kargs *a);
    void (*pack)(const struct csq_kargs *a, float *dst);
    unsigned flags;
    void (*release)(void *plan);
    void (*blocks)(const struct csq_kargs *a, int *in_blk, int *out_blk);
    int (*fuse_add)(void *plan, int act, float lo, float hi);
    int (*fuse_silu)(void *plan);
};

/* Room for a node's tensor pointers and label (the loader refuses nodes
 * with more than CSQ_MAX_IO inputs or outputs). */
#define CSQ_MAX_IO 64
struct csq_kbuf {
    const struct csq_tensor *in[CSQ_MAX_IO];
    struct csq_tensor *out[CSQ_MAX_IO];
    char label[64];
};

/* Fill *a for node i of g over the tensor table t[g->nvals] (one binding:
 * the graph's or an engine's): tensors of its values (NULL where omitted),
 * label, opset, the current thread count, relu = the node's fused Relu;
 * scratch, plan and packed are left NULL. */
void csq_ops_args(const struct csq_graph *g, int node, struct csq_tensor *t,
                  struct csq_kargs *a, struct csq_kbuf *b);

/* Row index of an op type in the default domain, -1 if unsupported. */
int csq_ops_find(const char *op_type);
const struct csq_op *csq_ops_get(int op);

/* Threads used by kernels and OpenBLAS; n <= 0 means all cores. */
void csq_ops_set_threads(int n);
int csq_ops_threads(void);
/* Between nodes: parallel regions on one thread while other processes
 * leave at most one core free, on all again when they go (threads.c;
 * CSMPQ_ADAPT_THREADS=0 keeps all).  Results do not change. */
void csq_ops_threads_watch(void);
/* Threads a parallel region gets now: 1 while the watch (or the user's
 * OMP_MAX_ACTIVE_LEVELS=0) holds regions to one, else csq_ops_threads()
 * within OMP_THREAD_LIMIT; what code that splits its work before its
 * region starts must be told (oneDNN's gemm, through op_conv.c). */
int csq_ops_threads_now(void);
/* The watch's looks so far, and how many found it on one thread. */
void csq_ops_threads_shared(long *looks, long *shared);

#endif
