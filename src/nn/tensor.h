/*
 * tensor: the dense tensor every module passes around (a view: it never
 * owns its data; whoever allocated data frees it).
 */
#ifndef CSQ_TENSOR_H
#define CSQ_TENSOR_H

#include <stddef.h>
#include <stdint.h>

#define CSQ_MAX_RANK 8
/* Numbers are ONNX's TensorProto.DataType, so no translation is needed. */
enum csq_dtype {
    CSQ_DT_UNDEF = 0,
    CSQ_DT_FLOAT = 1,
    CSQ_DT_UINT8 = 2,
    CSQ_DT_INT8 = 3,
    /* int32 only in tensors csmpq writes (an exported bias): the reader
     * widens int32 to int64 */
    CSQ_DT_INT32 = 6,
    CSQ_DT_INT64 = 7,
    CSQ_DT_BOOL = 9,
    /* 4-bit integers (opset 21) are held one per byte, sign-extended for
     * int4: only QuantizeLinear / DequantizeLinear read or write them */
    CSQ_DT_UINT4 = 21,
    CSQ_DT_INT4 = 22
};

/* A dense, row-major tensor.  data is NULL for a value only known at run
 * time; dims[] with rank entries, rank 0 is a scalar. */
struct csq_tensor {
    int dtype;
    int rank;
    int64_t dims[CSQ_MAX_RANK];
    void *data;
};

/* Elements of a tensor; -1 if a dim is negative or the count overflows. */
int64_t csq_tensor_numel(const struct csq_tensor *t);
size_t csq_dtype_size(int dtype);

#endif
