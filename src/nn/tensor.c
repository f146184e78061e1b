/* tensor: element counts and dtype sizes. */
#include "config.h"

#include <stdint.h>

#include "nn/tensor.h"

int64_t csq_tensor_numel(const struct csq_tensor *t)
{
    int64_t p = 1;
    int i;

    for (i = 0; i < t->rank; i++) {
        if (t->dims[i] < 0)
            return -1;
        if (t->dims[i] != 0 && p > INT64_MAX / t->dims[i])
            return -1;
        p *= t->dims[i];
    }
    return p;
}

size_t csq_dtype_size(int dtype)
{
    switch (dtype) {
    case CSQ_DT_FLOAT: case CSQ_DT_INT32: return 4;
    case CSQ_DT_INT64: return 8;
    case CSQ_DT_BOOL: case CSQ_DT_UINT8: case CSQ_DT_INT8:
    case CSQ_DT_UINT4: case CSQ_DT_INT4: return 1;
    default: return 0;
    }
}
