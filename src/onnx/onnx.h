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

#endif
