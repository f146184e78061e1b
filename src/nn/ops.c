/*
 * ops: the operator table and the thread count shared by all kernels.
 * Constant nodes never reach the table: the loader turns them into
 * initializers.
 */
#include "config.h"

#include <string.h>
#include <unistd.h>

#include "nn/kernels.h"
#include "nn/ops.h"

#define ROW(onnx, fn, scr, fl) \
    { onnx, csq_op_##fn##_infer, csq_op_##fn##_run, scr, NULL, NULL, NULL, fl, NULL, NULL, NULL, NULL }
/* an op whose checks run once per engine plan */
#define PLANNED(onnx, fn, scr, pk, pks) \
    { onnx, csq_op_##fn##_infer, csq_op_##fn##_run, scr, csq_op_##fn##_plan, pk, pks, 0, NULL, \
      NULL, NULL, NULL }

static const struct csq_op op_table[] = {
    { "Conv", csq_op_conv_infer, csq_op_conv_run, csq_op_conv_scratch, csq_op_conv_plan,
      csq_op_conv_packed, csq_op_conv_pack, 0, csq_op_conv_release, csq_op_conv_blocks,
      csq_op_conv_fuse_add, csq_op_conv_fuse_silu },
    PLANNED("Gemm", gemm, NULL, NULL, NULL),
    PLANNED("MatMul", matmul, NULL, NULL, NULL),
    { "MaxPool", csq_op_maxpool_infer, csq_op_maxpool_run, csq_op_pool_scratch,
      csq_op_maxpool_plan, NULL, NULL, 0, NULL, csq_op_pool_blocks, NULL, NULL },
    { "AveragePool", csq_op_avgpool_infer, csq_op_avgpool_run, csq_op_pool_scratch,
      csq_op_avgpool_plan, NULL, NULL, 0, NULL, csq_op_pool_blocks, NULL, NULL },
    { "GlobalAveragePool", csq_op_globalavgpool_infer, csq_op_globalavgpool_run, NULL, NULL,
      NULL, NULL, 0, NULL, csq_op_globalpool_blocks, NULL, NULL },
    { "GlobalMaxPool", csq_op_globalmaxpool_infer, csq_op_globalmaxpool_run, NULL, NULL,
      NULL, NULL, 0, NULL, csq_op_globalpool_blocks, NULL, NULL },
    ROW("BatchNormalization", batchnorm, NULL, 0),
    ROW("Relu", relu, NULL, CSQ_OPF_ELTWISE),
    ROW("Clip", clip, NULL, CSQ_OPF_ELTWISE),
    ROW("LeakyRelu", leakyrelu, NULL, CSQ_OPF_ELTWISE),
    ROW("Sigmoid", sigmoid, NULL, CSQ_OPF_ELTWISE),
    ROW("HardSigmoid", hardsigmoid, NULL, CSQ_OPF_ELTWISE),
    ROW("HardSwish", hardswish, NULL, CSQ_OPF_ELTWISE),
    ROW("Softmax", softmax, NULL, 0),
    ROW("Add", add, NULL, CSQ_OPF_ELTWISE),
    ROW("Sub", sub, NULL, CSQ_OPF_ELTWISE),
    ROW("Mul", mul, NULL, CSQ_OPF_ELTWISE),
    ROW("Div", div, NULL, 0),
    ROW("ReduceMean", reducemean, NULL, 0),
    ROW("Flatten", flatten, NULL, 0),
    ROW("Reshape", reshape, NULL, 0),
    ROW("Transpose", transpose, NULL, 0),
    ROW("Concat", concat, NULL, 0),
    ROW("Split", split, NULL, 0),
    ROW("Squeeze", squeeze, NULL, 0),
    ROW("Unsqueeze", unsqueeze, NULL, 0),
    ROW("Shape", shape, NULL, CSQ_OPF_SHAPE_ONLY),
    ROW("Gather", gather, NULL, 0),
    ROW("ConstantOfShape", constantofshape, NULL, 0),
    ROW("Pad", pad, NULL, 0),
    ROW("Dropout", identity, NULL, 0),
    ROW("Identity", identity, NULL, 0),
    /* transformer exports (issue 15): op_math.c, op_index.c, op_norm.c, op_einsum.c */
    ROW("Sqrt", sqrt, NULL, 0),
    ROW("Reciprocal", reciprocal, NULL, 0),
    ROW("Erf", erf, NULL, 0),
    ROW("Tanh", tanh, NULL, 0),
    ROW("Gelu", gelu, NULL, 0),
    ROW("Neg", neg, NULL, 0),
    ROW("Not", not, NULL, 0),
    ROW("Pow", pow, NULL, 0),
    ROW("Equal", equal, NULL, 0),
    ROW("Mod", mod, NULL, 0),
    ROW("Where", where, NULL, 0),
    ROW("Cast", cast, NULL, 0),
    ROW("Slice", slice, NULL, 0),
    ROW("Expand", expand, NULL, 0),
    ROW("Range", range, NULL, 0),
    ROW("Size", size, NULL, CSQ_OPF_SHAPE_ONLY),
    ROW("ScatterND", scatternd, NULL, 0),
    ROW("ReduceSum", reducesum, NULL, 0),
    ROW("LayerNormalization", layernorm, NULL, 0),
    ROW("Einsum", einsum, csq_op_einsum_scratch, 0),
    /* what csmpq export writes (op_qdq.c) */
    ROW("QuantizeLinear", quantizelinear, NULL, 0),
    ROW("DequantizeLinear", dequantizelinear, NULL, 0),
};

#define OP_COUNT ((int)(sizeof op_table / sizeof op_table[0]))

int csq_ops_find(const char *op_type)
{
    int i;

    for (i = 0; i < OP_COUNT; i++)
        if (strcmp(op_table[i].name, op_type) == 0)
            return i;
    return -1;
}

const struct csq_op *csq_ops_get(int op)
{
    return op >= 0 && op < OP_COUNT ? &op_table[op] : NULL;
}

void csq_ops_args(const struct csq_graph *g, int node, struct csq_tensor *t,
                  struct csq_kargs *a, struct csq_kbuf *b)
{
    const struct csq_node *n = &g->nodes[node];
    int j;

    memset(a, 0, sizeof *a);
    a->node = n;
    a->name = csq_node_label(g, node, b->label, sizeof b->label);
    a->opset = g->opset;
    a->nin = n->nin;
    a->nout = n->nout;
    a->in = b->in;
    a->out = b->out;
    a->nthreads = csq_ops_threads();
    a->relu = n->fused_relu;
    a->lo = n->fused_lo;
    a->hi = n->fused_hi;
    for (j = 0; j < n->nin; j++)
        b->in[j] = n->in[j] >= 0 ? &t[n->in[j]] : NULL;
    for (j = 0; j < n->nout; j++)
        b->out[j] = n->out[j] >= 0 ? &t[n->out[j]] : NULL;
}
