/*
 * op_qdq: QuantizeLinear and DequantizeLinear (opsets 10 to 21), per
 * tensor and per axis, to and from int8, uint8, int4 and uint4; what csmpq
 * export writes and what ONNX Runtime runs (DESIGN §10).
 *
 * QuantizeLinear: y = saturate(rint(x / scale) + zero_point), the division
 * in float32 and rint rounding half to even, as the ONNX reference and
 * ONNX Runtime's MLAS do; the output type is the zero point's, else the
 * output_dtype attribute (opset 21), else uint8.  DequantizeLinear: y =
 * (x - zero_point) * scale in float32; int32 input too (a quantized bias).
 * Blocked quantization (opset 21's block_size > 0) is refused: no exporter
 * csmpq reads writes it.
 */
#include "config.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

#include "nn/bcast.h"
#include "nn/kernels.h"
#include "util/err.h"

/* Saturation bounds of a quantized type; 0 when it is not one. */
static int qrange(int dtype, int *lo, int *hi)
{
    switch (dtype) {
    case CSQ_DT_UINT8: *lo = 0; *hi = 255; return 1;
    case CSQ_DT_INT8: *lo = -128; *hi = 127; return 1;
    case CSQ_DT_UINT4: *lo = 0; *hi = 15; return 1;
    case CSQ_DT_INT4: *lo = -8; *hi = 7; return 1;
    default: return 0;
    }
}

static int32_t qget(const struct csq_tensor *t, int64_t i)
{
    switch (t->dtype) {
    case CSQ_DT_UINT8: case CSQ_DT_UINT4: return ((const uint8_t *)t->data)[i];
    case CSQ_DT_INT8: case CSQ_DT_INT4: return ((const int8_t *)t->data)[i];
    default: return (int32_t)((const int64_t *)t->data)[i];  /* int32, held as int64 */
    }
}

/* Per-axis geometry shared by both operators: element i uses scale index
 * (i / inner) % ch (ch = 1: one scale). */
struct qaxis {
    int64_t ch, inner;
};

/* Checks x, scale (in[1]) and zero point (in[2], may be NULL) and fills ax. */
static int check_params(struct csq_kargs *a, const struct csq_tensor *x, struct qaxis *ax)
{
    const struct csq_tensor *s = a->in[1], *z = a->nin > 2 ? a->in[2] : NULL;
    int64_t axis = csq_node_int(a->node, "axis", 1), ns, d;

    if (csq_node_int(a->node, "block_size", 0) != 0)
        return csq_fail(CSQ_EUNSUPPORTED, "node '%s' (%s): blocked quantization "
                        "(block_size) is not supported", a->name, csq_op_type(a));
    if (s->dtype != CSQ_DT_FLOAT)
        return csq_fail(CSQ_EUNSUPPORTED, "node '%s' (%s): scale must be float32", a->name,
                        csq_op_type(a));
    ns = csq_tensor_numel(s);
    if (s->rank > 1 || ns < 1)
        return csq_fail(CSQ_EINVAL, "node '%s' (%s): scale must be a scalar or 1-D",
                        a->name, csq_op_type(a));
    if (z && (z->rank != s->rank || csq_tensor_numel(z) != ns))
        return csq_fail(CSQ_EINVAL, "node '%s' (%s): zero point and scale differ in shape",
                        a->name, csq_op_type(a));
    ax->ch = 1;
    ax->inner = 1;
    if (s->rank == 1 && ns > 1) {
        if (a->opset < 13)
            return csq_fail(CSQ_EINVAL, "node '%s' (%s): per-axis scales need opset 13",
                            a->name, csq_op_type(a));
        if (axis < 0)
            axis += x->rank;
        if (axis < 0 || axis >= x->rank || x->dims[axis] != ns)
            return csq_fail(CSQ_EINVAL, "node '%s' (%s): %lld scales for axis %lld of a "
                            "rank-%d input", a->name, csq_op_type(a), (long long)ns,
                            (long long)csq_node_int(a->node, "axis", 1), x->rank);
        ax->ch = ns;
        for (d = (int)axis + 1; d < x->rank; d++)
            ax->inner *= x->dims[d];
    }
    return 0;
}

static int need(struct csq_kargs *a)
{
    if (a->nin < 2 || !a->in[0] || !a->in[1] || a->nout < 1 || !a->out[0])
        return csq_fail(CSQ_EINVAL, "node '%s' (%s): needs x, a scale and 1 output", a->name,
                        csq_op_type(a));
    return 0;
}

static void shape_like(struct csq_tensor *o, const struct csq_tensor *x, int dtype)
{
    o->dtype = dtype;
    o->rank = x->rank;
    memcpy(o->dims, x->dims, sizeof x->dims);
}

int csq_op_quantizelinear_infer(struct csq_kargs *a)
{
    const struct csq_tensor *z;
    struct qaxis ax;
    int64_t odt;
    int rc, lo, hi, dt;

    if ((rc = need(a)) != 0)
        return rc;
    z = a->nin > 2 ? a->in[2] : NULL;
    if (a->in[0]->dtype != CSQ_DT_FLOAT)
        return csq_fail(CSQ_EUNSUPPORTED, "node '%s' (QuantizeLinear): input must be float32",
                        a->name);
    if ((rc = check_params(a, a->in[0], &ax)) != 0)
        return rc;
    odt = csq_node_int(a->node, "output_dtype", 0);
    dt = z ? z->dtype : odt ? (int)odt : CSQ_DT_UINT8;
    if (z && odt && odt != z->dtype)
        return csq_fail(CSQ_EINVAL, "node '%s' (QuantizeLinear): output_dtype %lld and the "
                        "zero point's type %d differ", a->name, (long long)odt, z->dtype);
    if (!qrange(dt, &lo, &hi) || (a->opset < 21 && (dt == CSQ_DT_INT4 || dt == CSQ_DT_UINT4)))
        return csq_fail(CSQ_EUNSUPPORTED, "node '%s' (QuantizeLinear): output type %d is not "
                        "supported (uint8, int8; int4, uint4 at opset 21)", a->name, dt);
    shape_like(a->out[0], a->in[0], dt);
    return 0;
}

int csq_op_quantizelinear_run(struct csq_kargs *a)
{
    const struct csq_tensor *x = a->in[0], *z = a->nin > 2 ? a->in[2] : NULL;
    const float *xs = x->data, *s = a->in[1]->data;
    struct csq_tensor *y = a->out[0];
    int64_t n = csq_tensor_numel(x), i;
    struct qaxis ax;
    int lo = 0, hi = 0, rc;

    if ((rc = check_params(a, x, &ax)) != 0)
        return rc;
    qrange(y->dtype, &lo, &hi);
    for (i = 0; i < n; i++) {
        int64_t c = (i / ax.inner) % ax.ch;
        /* float32 throughout: x / scale, rint (half to even), + zp, clamp */
        float v = rintf(xs[i] / s[c]) + (float)(z ? qget(z, c) : 0);
        int32_t q;
        if (!(v >= (float)lo))          /* NaN saturates low, as MLAS's max/min do */
            q = lo;
        else if (v > (float)hi)
            q = hi;
        else
            q = (int32_t)v;
        if (y->dtype == CSQ_DT_UINT8 || y->dtype == CSQ_DT_UINT4)
            ((uint8_t *)y->data)[i] = (uint8_t)q;
        else
            ((int8_t *)y->data)[i] = (int8_t)q;
    }
    return 0;
}

int csq_op_dequantizelinear_infer(struct csq_kargs *a)
{
    const struct csq_tensor *x, *z;
    struct qaxis ax;
    int rc, lo, hi;

    if ((rc = need(a)) != 0)
        return rc;
    x = a->in[0];
    z = a->nin > 2 ? a->in[2] : NULL;
    if (!qrange(x->dtype, &lo, &hi) && x->dtype != CSQ_DT_INT64)
        return csq_fail(CSQ_EUNSUPPORTED, "node '%s' (DequantizeLinear): input type %d is not "
                        "supported (uint8, int8, int4, uint4, int32)", a->name, x->dtype);
    if (z && z->dtype != x->dtype)
        return csq_fail(CSQ_EINVAL, "node '%s' (DequantizeLinear): zero point type %d differs "
                        "from the input's %d", a->name, z->dtype, x->dtype);
    if ((rc = check_params(a, x, &ax)) != 0)
        return rc;
    shape_like(a->out[0], x, CSQ_DT_FLOAT);
    return 0;
}

int csq_op_dequantizelinear_run(struct csq_kargs *a)
{
    const struct csq_tensor *x = a->in[0], *z = a->nin > 2 ? a->in[2] : NULL;
    const float *s = a->in[1]->data;
    float *y = a->out[0]->data;
    int64_t n = csq_tensor_numel(x), i;
    struct qaxis ax;
    int rc;

    if ((rc = check_params(a, x, &ax)) != 0)
        return rc;
    for (i = 0; i < n; i++) {
        int64_t c = (i / ax.inner) % ax.ch;
        /* (x - zp) in float32, as the ONNX reference subtracts */
        y[i] = ((float)qget(x, i) - (float)(z ? qget(z, c) : 0)) * s[c];
    }
    return 0;
}
