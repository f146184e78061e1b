/*
 * graph: the in-memory model that every other module reads.
 *
 * A graph is a list of values (tensors: inputs, weights, activations) and a
 * list of nodes in topological order that read and write them by index.
 * The graph owns everything it points to; csq_graph_free() releases it.
 * The loader runs the passes below; afterwards the graph is read-only
 * (every other module takes a const graph): its value shapes are those of
 * batch 1 (none with CSQ_ONNX_NO_BIND), and run state (batch-bound shapes, activation data, substituted
 * weights) belongs to each engine (nn/engine.h).
 *
 *     struct csq_graph *g;
 *     rc = csq_onnx_load(path, &g);            (onnx/onnx.h)
 *     for each layer in g->layers ...          quantizable layers
 *     csq_layer_layout(g, l, &lay);            its weight's channels
 *     csq_graph_free(g);
 */
#ifndef CSQ_GRAPH_H
#define CSQ_GRAPH_H

#include <stddef.h>
#include <stdint.h>

#include "nn/tensor.h"

/* Graph inputs with at most this many elements are shown to shape
 * inference with their data (shape / axes fed as inputs). */
#define CSQ_SHAPE_INPUT_MAX 64

enum csq_value_kind {
    CSQ_VAL_RUNTIME = 0,    /* computed by the engine per batch */
    CSQ_VAL_INPUT,          /* fed by the caller */
    CSQ_VAL_INIT,           /* initializer or Constant: data owned, fixed */
    CSQ_VAL_FOLDED          /* computed from shapes by the last bind (batch 1) */
};

struct csq_value {
    char *name;
    int kind;                /* enum csq_value_kind */
    struct csq_tensor t;     /* dims for batch 1 once loaded */
    int64_t decl_dims[CSQ_MAX_RANK]; /* input dims as declared, -1 = symbolic */
    int decl_rank;           /* inputs: declared rank, -1 = no shape given */
    int producer;            /* node index, -1 if none */
    int nconsumers;          /* node inputs + graph outputs reading it */
    int shape_dep;           /* folded from an input's shape (changes with batch) */
};

enum csq_attr_type {
    CSQ_ATTR_FLOAT = 1, CSQ_ATTR_INT = 2, CSQ_ATTR_STRING = 3,
    CSQ_ATTR_TENSOR = 4, CSQ_ATTR_FLOATS = 6, CSQ_ATTR_INTS = 7
};

struct csq_attr {
    char *name;
    int type;                /* enum csq_attr_type */
    int64_t i;
    float f;
    char *s;
    int64_t *ints;
    float *floats;
    size_t n;                /* entries in ints or floats */
    struct csq_tensor t;     /* CSQ_ATTR_TENSOR, data owned */
};

struct csq_node {
    char *name;              /* as in the file, may be "" */
    char *op_type;
    int op;                  /* index into the op table (nn/ops.h) */
    int nin, nout;
    int *in;                 /* value indices, -1 for an omitted optional input */
    int *out;
    struct csq_attr *attrs;
    int nattrs;
    int dead;                /* removed by a pass; skipped everywhere */
    int fused_relu;          /* a following activation was folded in (csq_graph_fuse):
                              * 1 Relu, 2 Clip to [fused_lo, fused_hi] (Conv only) */
    float fused_lo, fused_hi;
    int layer;               /* index in graph->layers or -1 */
};

/* A quantizable layer: a Conv, or a Gemm / MatMul with a constant weight. */
struct csq_layer {
    char *name;              /* unique, PyTorch module name when known */
    int node;                /* node index */
    int weight;              /* value index of the (folded) weight */
    int input;               /* value index of the data input */
};

struct csq_meta {
    char *key;
    char *value;
};

struct csq_graph {
    struct csq_value *vals;
    int nvals;
    struct csq_node *nodes;  /* topological order */
    int nnodes;
    int *inputs;             /* runtime inputs (initializers excluded) */
    int ninputs;
    int *outputs;
    int noutputs;
    struct csq_layer *layers;
    int nlayers;
    int64_t opset;           /* default ("" / ai.onnx) domain */
    char *producer;          /* producer_name, for messages */
    struct csq_meta *meta;   /* metadata_props */
    int nmeta;
    char *path;              /* file it was loaded from */
};

/* Per-output-channel layout of a layer's weight: channel o, element i is
 * at o * ch_stride + i * el_stride. */
struct csq_layout {
    int64_t groups;          /* Conv groups, else 1 */
    int64_t channels;        /* output channels */
    int64_t per_channel;     /* weight elements per output channel */
    int64_t ch_stride, el_stride;   /* in elements */
    int strided;             /* 0: no per-channel layout (a MatMul weight of rank > 2) */
};

void csq_graph_free(struct csq_graph *g);

/* Lookup helpers; NULL / -1 when absent. */
const struct csq_attr *csq_node_attr(const struct csq_node *n, const char *name);
int64_t csq_node_int(const struct csq_node *n, const char *name, int64_t def);
float csq_node_float(const struct csq_node *n, const char *name, float def);
const char *csq_node_string(const struct csq_node *n, const char *name, const char *def);
const char *csq_graph_meta(const struct csq_graph *g, const char *key);
/* A printable node name: the file's name or "<op>_<index>". */
const char *csq_node_label(const struct csq_graph *g, int node, char *buf, size_t len);
/* An initializer, or a value the last bind folded. */
int csq_value_is_const(const struct csq_value *v);
void csq_layer_layout(const struct csq_graph *g, int l, struct csq_layout *lay);
/* The layers in the order the graph runs them (by node index) into
 * order[nlayers], and when rank is not NULL each layer's place in it into
 * rank[nlayers]: what passes resuming from a layer's input walk. */
void csq_layer_node_order(const struct csq_graph *g, int *order, int *rank);

/*
 * Passes, run by the loader in this order (one file each, pass_*.c):
 * csq_graph_check      every input defined, no cycles, sorts nodes
 *                      topologically (pass_check.c)
 * csq_graph_bind(1) + csq_graph_freeze   constant subgraphs become weights
 * csq_graph_fold_bn    folds BatchNormalization into the preceding Conv
 * csq_graph_find_layers quantizable layers and their names (layers.c)
 * csq_graph_fuse       Relu into the Conv / Add before it, a Clip with
 *                      constant bounds (ReLU6) into the Conv before it
 * csq_graph_bind(1)    the batch-1 shapes every reader of the graph sees
 */
int csq_graph_check(struct csq_graph *g);
int csq_graph_fold_bn(struct csq_graph *g);
int csq_graph_find_layers(struct csq_graph *g);
/* Folds a Relu into the Conv or Add before it when it is that node's only
 * reader, saving a pass over memory.  A tap says whether it wants the
 * value before or after that Relu (nn/engine.h). */
int csq_graph_fuse(struct csq_graph *g);
/* Shape inference for a batch size, evaluating every node whose inputs
 * are constant (the Shape / Gather / Concat chains of torch.onnx.export);
 * see nn/bind.h (pass_fold.c). */
int csq_graph_bind(struct csq_graph *g, int64_t batch);
/* After a bind: values folded from constants alone become initializers
 * and their nodes are removed, so weights fed through Identity (as
 * torch.onnx.export writes shared weights) are plain constants. */
int csq_graph_freeze(struct csq_graph *g);

#endif
