/*
 * op_bn: BatchNormalization for inference (opsets 7-15): one affine map per
 * channel from the running statistics.  Training mode, per-activation
 * statistics (spatial = 0) and the optional statistics outputs are refused.
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include "nn/kernels.h"
#include "util/err.h"

static int nthreads(const struct csq_kargs *a)
{
    return a->nthreads > 0 ? a->nthreads : csq_ops_threads();
}

static int bn_check(const struct csq_kargs *a)
{
    static const char *const names[5] = {"X", "scale", "B", "mean", "var"};
    const struct csq_tensor *x = a->nin > 0 ? a->in[0] : NULL;
    int i;

    if (a->nin < 5)
        return csq_fail(CSQ_EFORMAT, "node '%s' (BatchNormalization): needs 5 inputs, has %d",
                        a->name, a->nin);
    for (i = 0; i < 5; i++) {
        if (!a->in[i])
            return csq_fail(CSQ_EFORMAT, "node '%s' (BatchNormalization): input %s is missing",
                            a->name, names[i]);
        if (a->in[i]->dtype != CSQ_DT_FLOAT)
            return csq_fail(CSQ_EUNSUPPORTED, "node '%s' (BatchNormalization): only float32 "
                            "is supported", a->name);
    }
    if (csq_node_int(a->node, "training_mode", 0) != 0)
        return csq_fail(CSQ_EUNSUPPORTED, "node '%s' (BatchNormalization): training_mode is "
                        "not supported", a->name);
    if (a->opset < 9 && csq_node_int(a->node, "spatial", 1) == 0)
        return csq_fail(CSQ_EUNSUPPORTED, "node '%s' (BatchNormalization): spatial=0 is not "
                        "supported", a->name);
    for (i = 1; i < a->nout; i++)
        if (a->out[i])
            return csq_fail(CSQ_EUNSUPPORTED, "node '%s' (BatchNormalization): only the first "
                            "output is supported", a->name);
    if (x->rank < 2)
        return csq_fail(CSQ_ESHAPE, "node '%s' (BatchNormalization): input of rank %d, need "
                        "N x C x ...", a->name, x->rank);
    for (i = 1; i < 5; i++)
        if (a->in[i]->rank != 1 || a->in[i]->dims[0] != x->dims[1])
            return csq_fail(CSQ_ESHAPE, "node '%s' (BatchNormalization): %s must have %lld "
                            "entries", a->name, names[i], (long long)x->dims[1]);
    return 0;
}

int csq_op_batchnorm_infer(struct csq_kargs *a)
{
    const struct csq_tensor *x;
    struct csq_tensor *y = a->out[0];
    int rc;

    if ((rc = bn_check(a)))
        return rc;
    x = a->in[0];
    y->dtype = CSQ_DT_FLOAT;
    y->rank = x->rank;
    memcpy(y->dims, x->dims, (size_t)x->rank * sizeof *x->dims);
    return 0;
}

int csq_op_batchnorm_run(struct csq_kargs *a)
{
    const struct csq_tensor *x = a->in[0];
    const float *xd = x->data, *scale = a->in[1]->data, *bias = a->in[2]->data;
    const float *mean = a->in[3]->data, *var = a->in[4]->data;
    float *y = a->out[0]->data;
    float eps = csq_node_float(a->node, "epsilon", 1e-5f);
    int64_t c = x->dims[1], planes = x->dims[0] * c, n = 1, pl;
    int i, rc;

    if ((rc = bn_check(a)))
        return rc;
    for (i = 2; i < x->rank; i++)
        n *= x->dims[i];
#pragma omp parallel for num_threads(nthreads(a)) schedule(static)
    for (pl = 0; pl < planes; pl++) {
        int64_t ch = pl % c, j;
        float s = scale[ch] / sqrtf(var[ch] + eps), t = bias[ch] - mean[ch] * s;
        const float *xp = xd + pl * n;
        float *yp = y + pl * n;

#pragma omp simd
        for (j = 0; j < n; j++)
            yp[j] = xp[j] * s + t;
    }
    return 0;
}
