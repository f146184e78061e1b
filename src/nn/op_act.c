/*
 * op_act: activations.  Relu, LeakyRelu, Sigmoid, HardSigmoid and
 * HardSwish on float32, Clip on float32 and int64, Softmax on float32.
 * Every kernel may run in place (out data == in data).
 */
#include "config.h"

#include <float.h>
#include <math.h>
#include <string.h>

#include "nn/bcast.h"
#include "nn/kernels.h"
#include "util/err.h"

/* Below this many elements threads cost more than they save. */
#define PAR_MIN 32768

static int unary_infer(struct csq_kargs *a, int allow_int64)
{
    const struct csq_tensor *x = a->nin > 0 ? a->in[0] : NULL;

    if (!x || a->nout < 1)
        return csq_fail(CSQ_EINVAL, "node '%s' (%s): needs 1 input and 1 output", a->name,
                        csq_op_type(a));
    if (x->dtype != CSQ_DT_FLOAT && !(allow_int64 && x->dtype == CSQ_DT_INT64))
        return csq_fail(CSQ_EUNSUPPORTED, "node '%s' (%s): element type %d (only float32%s)",
                        a->name, csq_op_type(a), x->dtype, allow_int64 ? " and int64" : "");
    a->out[0]->dtype = x->dtype;
    a->out[0]->rank = x->rank;
    memcpy(a->out[0]->dims, x->dims, sizeof x->dims);
    return 0;
}

/* The body of a float map o[i] = EXPR(v), v = x[i], over the kargs `a`
 * of the enclosing kernel. */
#define MAP_F32(EXPR)                                                       \
    do {                                                                    \
        const float *x_ = a->in[0]->data;                                   \
        float *o_ = a->out[0]->data;                                        \
        int64_t n_ = csq_tensor_numel(a->out[0]), i_;                       \
        _Pragma("omp parallel for simd num_threads(CSQ_OP_NT(a)) if (n_ >= PAR_MIN)") \
        for (i_ = 0; i_ < n_; i_++) {                                       \
            float v = x_[i_];                                               \
            o_[i_] = (EXPR);                                                \
        }                                                                   \
    } while (0)

int csq_op_relu_infer(struct csq_kargs *a)
{
    return unary_infer(a, 0);
}

int csq_op_relu_run(struct csq_kargs *a)
{
    MAP_F32(v < 0.0f ? 0.0f : v);   /* NaN stays NaN, as in numpy and torch */
    return 0;
}

int csq_op_leakyrelu_infer(struct csq_kargs *a)
{
    return unary_infer(a, 0);
}

int csq_op_leakyrelu_run(struct csq_kargs *a)
{
    float alpha = csq_node_float(a->node, "alpha", 0.01f);

    MAP_F32(v >= 0.0f ? v : alpha * v);
    return 0;
}

int csq_op_sigmoid_infer(struct csq_kargs *a)
{
    return unary_infer(a, 0);
}

/* exp(t) for t <= 0, in straight-line code that vectorizes: Cephes'
 * expf (range reduction by ln 2 in two parts, degree-6 polynomial, within
 * 2 ulp of expf).  Below -87.3 it gives about 1e-38 where expf goes
 * subnormal, which leaves the sigmoid within 1e-38 of the exact value. */
static inline float exp_nonpos(float t)
{
    union { int32_t i; float f; } m, sc;
    float n, r, p;

    t = t >= -87.3f ? t : -87.3f;                       /* also NaN -> -87.3 */
    /* round(t / ln 2) by the 1.5 * 2^23 trick: its integer sits in the
     * low mantissa bits, so no float-to-int conversion (which would keep
     * the loop from vectorizing under -ftrapping-math) */
    m.f = t * 1.44269504f + 12582912.0f;
    n = m.f - 12582912.0f;
    r = t - n * 0.693359375f + n * 2.12194440e-4f;
    p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * r * r + r + 1.0f;
    sc.i = (m.i - 0x4B400000 + 127) * (1 << 23);
    return p * sc.f;
}

/* 1 / (1 + exp(-v)) from exp(-|v|), so nothing overflows; every value
 * computed, then selected: no branch left to trap or to keep the loops
 * below from vectorizing. */
static inline float sigmoid_of(float v)
{
    float nv = -v, e = exp_nonpos(v < 0.0f ? v : nv);
    float d = 1.0f / (1.0f + e), ed = e * d;

    return v >= 0.0f ? d : ed;
}

/* Cloned for AVX-512 and AVX2 (picked at load time); EfficientNet spent
 * 45% of its forward pass in the scalar expf of this op (BENCHMARKS.md,
 * issue 16). */
#if defined(__GNUC__) && defined(__x86_64__) && !defined(__clang__)
__attribute__((target_clones("avx512f", "avx2", "default")))
#endif
static void sigmoid_span(const float *x, float *o, int64_t n)
{
    int64_t i;

#pragma omp simd
    for (i = 0; i < n; i++) {
        float v = x[i], s = sigmoid_of(v);

        o[i] = v != v ? v : s;              /* NaN stays NaN */
    }
}

#if defined(__GNUC__) && defined(__x86_64__) && !defined(__clang__)
__attribute__((target_clones("avx512f", "avx2", "default")))
#endif
static void silu_span(float *y, int64_t n)
{
    int64_t i;

#pragma omp simd
    for (i = 0; i < n; i++)
        y[i] *= sigmoid_of(y[i]);           /* NaN stays NaN */
}

#define SIG_CHUNK 4096

/* The SiLU a Conv writes in place of a following Sigmoid and Mul: in
 * csmpq's own vector code, as oneDNN 2.6's swish post-op took 40% more
 * time than the convolutions it followed (efficientnet_b0, BENCHMARKS.md). */
void csq_op_silu(float *y, int64_t n, int nt)
{
    int64_t c;

#pragma omp parallel for num_threads(nt) if (nt > 1 && n >= PAR_MIN)
    for (c = 0; c < n; c += SIG_CHUNK)
        silu_span(y + c, n - c < SIG_CHUNK ? n - c : SIG_CHUNK);
}

int csq_op_sigmoid_run(struct csq_kargs *a)
{
    const float *x = a->in[0]->data;
    float *o = a->out[0]->data;
    int64_t n = csq_tensor_numel(a->out[0]), c;

#pragma omp parallel for num_threads(CSQ_OP_NT(a)) if (n >= PAR_MIN)
    for (c = 0; c < n; c += SIG_CHUNK)
        sigmoid_span(x + c, o + c, n - c < SIG_CHUNK ? n - c : SIG_CHUNK);
    return 0;
}

int csq_op_hardsigmoid_infer(struct csq_kargs *a)
{
    return unary_infer(a, 0);
}

int csq_op_hardsigmoid_run(struct csq_kargs *a)
{
    float alpha = csq_node_float(a->node, "alpha", 0.2f);
    float beta = csq_node_float(a->node, "beta", 0.5f);

    MAP_F32(fmaxf(0.0f, fminf(1.0f, alpha * v + beta)));
    return 0;
}

int csq_op_hardswish_infer(struct csq_kargs *a)
{
    return unary_infer(a, 0);
}

/* HardSwish(x) = x * HardSigmoid(x) with alpha 1/6, beta 0.5. */
int csq_op_hardswish_run(struct csq_kargs *a)
{
    MAP_F32(v * fmaxf(0.0f, fminf(1.0f, v * (1.0f / 6.0f) + 0.5f)));
    return 0;
}

/* ---- Clip ------------------------------------------------------------- */

/* Bound i (1 = min, 2 = max) of an opset >= 11 Clip: an optional scalar
 * input that must be a constant.  *present is 0 when it is omitted. */
static int clip_bound(const struct csq_kargs *a, int i, const char *what, int *present)
{
    const struct csq_tensor *t = i < a->nin ? a->in[i] : NULL;

    *present = 0;
    if (!t)
        return 0;
    if (!t->data)
        return csq_fail(CSQ_EUNSUPPORTED, "node '%s' (Clip): input %d (%s) must be a constant",
                        a->name, i, what);
    if (t->dtype != a->in[0]->dtype || csq_tensor_numel(t) != 1)
        return csq_fail(CSQ_EINVAL,
                        "node '%s' (Clip): input %d (%s) must be a scalar of the input's type",
                        a->name, i, what);
    *present = 1;
    return 0;
}

int csq_op_clip_infer(struct csq_kargs *a)
{
    int rc, p;

    if ((rc = unary_infer(a, 1)) != 0)
        return rc;
    if (a->opset < 11) {
        if (a->in[0]->dtype != CSQ_DT_FLOAT)
            return csq_fail(CSQ_EUNSUPPORTED,
                            "node '%s' (Clip): int64 needs opset 12 or later", a->name);
        return 0;
    }
    if ((rc = clip_bound(a, 1, "min", &p)) != 0 || (rc = clip_bound(a, 2, "max", &p)) != 0)
        return rc;
    return 0;
}

int csq_op_clip_run(struct csq_kargs *a)
{
    int has_lo = 0, has_hi = 0;
    int64_t n = csq_tensor_numel(a->out[0]), i;

    if (a->opset >= 11) {
        if (clip_bound(a, 1, "min", &has_lo) != 0 || clip_bound(a, 2, "max", &has_hi) != 0)
            return CSQ_EINVAL;
    }
    if (a->in[0]->dtype == CSQ_DT_INT64) {
        const int64_t *x = a->in[0]->data;
        int64_t *o = a->out[0]->data;
        int64_t lo = has_lo ? *(const int64_t *)a->in[1]->data : INT64_MIN;
        int64_t hi = has_hi ? *(const int64_t *)a->in[2]->data : INT64_MAX;

        for (i = 0; i < n; i++) {
            int64_t v = x[i] < lo ? lo : x[i];

            o[i] = v > hi ? hi : v;
        }
        return 0;
    }
    {
        float lo, hi;

        if (a->opset < 11) {
            lo = csq_node_float(a->node, "min", -FLT_MAX);
            hi = csq_node_float(a->node, "max", FLT_MAX);
        } else {
            lo = has_lo ? *(const float *)a->in[1]->data : -FLT_MAX;
            hi = has_hi ? *(const float *)a->in[2]->data : FLT_MAX;
        }
        /* min(max(x, lo), hi) as the reference: hi wins when lo > hi */
        MAP_F32((v < lo ? lo : v) > hi ? hi : (v < lo ? lo : v));
    }
    return 0;
}

/* ---- Softmax ---------------------------------------------------------- */

/* The softmax is taken over n elements spaced inner apart, for each of
 * outer * inner starting points. */
static int softmax_geometry(struct csq_kargs *a, int64_t *outer, int64_t *n, int64_t *inner)
{
    const struct csq_tensor *x = a->in[0];
    int old = a->opset < 13;
    int64_t axis = csq_node_int(a->node, "axis", old ? 1 : -1);
    int ax, d, rc;

    *outer = *n = *inner = 1;
    if (x->rank == 0) {
        if (axis != 0 && axis != -1)
            return csq_op_axis(a, axis, 0, "axis", &ax);
        return 0;
    }
    if (old) {
        /* opset < 13: coerce to 2-D [d0*..*d(axis-1), d(axis)*..] and take
         * the softmax of each row; axis == rank is allowed */
        if (axis < -x->rank || axis > x->rank)
            return csq_op_axis(a, axis, x->rank, "axis", &ax);
        ax = (int)(axis < 0 ? axis + x->rank : axis);
        for (d = 0; d < x->rank; d++) {
            if (d < ax)
                *outer *= x->dims[d];
            else
                *n *= x->dims[d];
        }
        return 0;
    }
    if ((rc = csq_op_axis(a, axis, x->rank, "axis", &ax)) != 0)
        return rc;
    for (d = 0; d < x->rank; d++) {
        if (d < ax)
            *outer *= x->dims[d];
        else if (d == ax)
            *n = x->dims[d];
        else
            *inner *= x->dims[d];
    }
    return 0;
}

int csq_op_softmax_infer(struct csq_kargs *a)
{
    int64_t outer, n, inner;
    int rc;

    if ((rc = unary_infer(a, 0)) != 0)
        return rc;
    return softmax_geometry(a, &outer, &n, &inner);
}

int csq_op_softmax_run(struct csq_kargs *a)
{
    const float *x = a->in[0]->data;
    float *o = a->out[0]->data;
    int64_t outer, n, inner, rows, r;

    if (softmax_geometry(a, &outer, &n, &inner) != 0)
        return CSQ_EINVAL;
    rows = outer * inner;

#pragma omp parallel for num_threads(CSQ_OP_NT(a)) if (rows * n >= PAR_MIN && rows > 1)
    for (r = 0; r < rows; r++) {
        int64_t base = (r / inner) * n * inner + r % inner, k;
        float mx = -INFINITY;
        double sum = 0.0;

        for (k = 0; k < n; k++)
            if (x[base + k * inner] > mx)
                mx = x[base + k * inner];
        for (k = 0; k < n; k++) {
            float e = expf(x[base + k * inner] - mx);

            o[base + k * inner] = e;
            sum += e;
        }
        for (k = 0; k < n; k++)
            o[base + k * inner] = (float)(o[base + k * inner] / sum);
    }
    return 0;
}
