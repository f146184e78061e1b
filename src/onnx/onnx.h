/*
 * onnx: reads an ONNX model file into a graph (nn/graph.h).  This is the
 * only module that sees protobuf-c; everything after it works on the graph.
 *
 * csq_onnx_load() decodes, checks (opsets, defined inputs, tensor sizes,
 * no cycles, supported operators), folds BatchNormalization into Conv,
 * finds the quantizable layers and binds shapes at batch 1.  The caller
 * owns the graph and frees it with csq_graph_free().
 */
#ifndef CSQ_ONNX_H
#define CSQ_ONNX_H

#include <stddef.h>

#include "nn/graph.h"

int csq_onnx_load(const char *path, struct csq_graph **out);

enum {
    /* Do not bind shapes at load: for graphs whose shapes depend on the
     * values fed to them (the ONNX test suite feeds Reshape's shape as an
     * input); the engine binds on its first forward.  Weights fed
     * through Identity nodes are then not recognized as layers. */
    CSQ_ONNX_NO_BIND = 1
};
int csq_onnx_load_flags(const char *path, unsigned flags, struct csq_graph **out);
/* From memory; name is used in messages. */
int csq_onnx_load_mem(const unsigned char *buf, size_t len, const char *name,
                      unsigned flags, struct csq_graph **out);

/* A serialized TensorProto (the ONNX test suite's input_N.pb files) into
 * *t, whose data the caller frees with free(); *name (may be NULL) gets
 * the tensor's name, also caller-freed; *file_dtype (may be NULL) the
 * ONNX data type in the file, before widening to float / int64. */
int csq_onnx_read_tensor(const char *path, struct csq_tensor *t, char **name,
                         int *file_dtype);

/*
 * The writer: a graph (after its passes) back to a ModelProto, plus the
 * edits an exporter makes, without copying the graph.  Live nodes are
 * written in order, keeping their names, attributes and the model's
 * input / output names; a fused Relu comes back as the Relu node it was
 * (its name, and its input's name); folded weights are written as they are
 * now; initializers are written once each, those some live node reads.
 * Edits, all borrowed:
 *   adds      nodes written just before node `before` (g->nnodes: at the
 *             end), reading and writing value names;
 *   renames   input `input` of node `node` reads the value named `name`;
 *   inits     extra initializers (any dtype of nn/tensor.h: int8, uint8,
 *             int4 and uint4 tensors are written as such, 4-bit packed);
 *   skip      [g->nvals] or NULL: initializers not to write (an add
 *             produces their name instead);
 *   meta      metadata_props added to the model's (same key: replaced).
 * The file is written atomically (util/file.h).
 */
struct csq_onnx_add {
    int before;
    const char *op_type;
    const char *name;
    const char *in[3];
    int nin;
    const char *out;
    int64_t axis;            /* >= 0: an int attribute "axis" */
};

struct csq_onnx_rename {
    int node, input;
    const char *name;
};

struct csq_onnx_init {
    const char *name;
    const struct csq_tensor *t;
};

struct csq_onnx_edits {
    int64_t opset;           /* 0: the graph's */
    const struct csq_onnx_add *adds;
    int nadds;
    const struct csq_onnx_rename *renames;
    int nrenames;
    const struct csq_onnx_init *inits;
    int ninits;
    const unsigned char *skip;
    const struct csq_meta *meta;
    int nmeta;
};

/* e may be NULL (the graph as it is). */
int csq_onnx_write(const struct csq_graph *g, const struct csq_onnx_edits *e,
                   const char *path);

#endif
