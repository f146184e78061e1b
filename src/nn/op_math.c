/*
 * op_math: element-wise math beyond the four arithmetic operators, as
 * transformer exports use them: Sqrt, Reciprocal, Erf, Tanh, Gelu, Neg, Not,
 * Pow, Equal, Mod, Where (numpy broadcasting through csq_op_bwalk) and
 * Cast between the element types csmpq holds (float32, int64, bool; int32
 * and double are held as int64 and float32, as the loader reads them).
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include "nn/bcast.h"
#include "nn/kernels.h"
#include "util/err.h"

/* Below this many elements threads cost more than they save. */
#define PAR_MIN 32768

/* ONNX TensorProto.DataType numbers Cast may name beyond enum csq_dtype. */
#define DT_INT32 6
#define DT_DOUBLE 11

static int need_io(const struct csq_kargs *a, int nin)
{
    int i;

    if (a->nin < nin || a->nout < 1 || !a->out[0])
        return csq_fail(CSQ_EINVAL, "node '%s' (%s): needs %d input%s and 1 output", a->name,
                        csq_op_type(a), nin, nin > 1 ? "s" : "");
    for (i = 0; i < nin; i++)
        if (!a->in[i])
            return csq_fail(CSQ_EINVAL, "node '%s' (%s): input %d is missing", a->name,
                            csq_op_type(a), i);
    return 0;
}

static int num_type(const struct csq_kargs *a, int i);

static void same_shape(struct csq_tensor *o, const struct csq_tensor *x, int dtype)
{
    o->dtype = dtype;
    o->rank = x->rank;
    memcpy(o->dims, x->dims, sizeof x->dims);
}

/* ---- unary float ------------------------------------------------------ */

enum { U_SQRT, U_RECIP, U_ERF, U_TANH, U_GELU, U_GELU_TANH };

static int unary_infer(struct csq_kargs *a)
{
    int rc;

    if ((rc = need_io(a, 1)) != 0)
        return rc;
    if (a->in[0]->dtype != CSQ_DT_FLOAT)
        return csq_fail(CSQ_EUNSUPPORTED, "node '%s' (%s): element type %d (only float32)",
                        a->name, csq_op_type(a), a->in[0]->dtype);
    same_shape(a->out[0], a->in[0], CSQ_DT_FLOAT);
    return 0;
}

static void unary_loop(int op, float *o, const float *x, int64_t n)
{
    int64_t i;

    switch (op) {
    case U_SQRT: for (i = 0; i < n; i++) o[i] = sqrtf(x[i]); break;
    case U_RECIP: for (i = 0; i < n; i++) o[i] = 1.0f / x[i]; break;
    case U_ERF: for (i = 0; i < n; i++) o[i] = erff(x[i]); break;
    case U_TANH: for (i = 0; i < n; i++) o[i] = tanhf(x[i]); break;
    case U_GELU:
        for (i = 0; i < n; i++)
            o[i] = 0.5f * x[i] * (1.0f + erff(x[i] * (float)M_SQRT1_2));
        break;
    default:
        /* Gelu approximate="tanh": 0.5x(1 + tanh(sqrt(2/pi)(x + 0.044715x^3))) */
        for (i = 0; i < n; i++) {
            float v = x[i];

            o[i] = 0.5f * v * (1.0f + tanhf(0.7978845608028654f * (v + 0.044715f * v * v * v)));
        }
    }
}

static int unary_run(struct csq_kargs *a, int op)
{
    const float *x = a->in[0]->data;
    float *o = a->out[0]->data;
    int64_t n = csq_tensor_numel(a->in[0]), c, nc = (n + 8191) / 8192;

#pragma omp parallel for num_threads(CSQ_OP_NT(a)) if (n >= PAR_MIN)
    for (c = 0; c < nc; c++) {
        int64_t lo = c * 8192, len = n - lo < 8192 ? n - lo : 8192;

        unary_loop(op, o + lo, x + lo, len);
    }
    return 0;
}

int csq_op_sqrt_infer(struct csq_kargs *a) { return unary_infer(a); }
int csq_op_sqrt_run(struct csq_kargs *a) { return unary_run(a, U_SQRT); }
int csq_op_reciprocal_infer(struct csq_kargs *a) { return unary_infer(a); }
int csq_op_reciprocal_run(struct csq_kargs *a) { return unary_run(a, U_RECIP); }
int csq_op_erf_infer(struct csq_kargs *a) { return unary_infer(a); }
int csq_op_erf_run(struct csq_kargs *a) { return unary_run(a, U_ERF); }
int csq_op_tanh_infer(struct csq_kargs *a) { return unary_infer(a); }
int csq_op_tanh_run(struct csq_kargs *a) { return unary_run(a, U_TANH); }

int csq_op_gelu_infer(struct csq_kargs *a)
{
    const char *m = csq_node_string(a->node, "approximate", "none");

    if (strcmp(m, "none") != 0 && strcmp(m, "tanh") != 0)
        return csq_fail(CSQ_EINVAL, "node '%s' (Gelu): approximate '%s' (none or tanh)",
                        a->name, m);
    return unary_infer(a);
}

int csq_op_gelu_run(struct csq_kargs *a)
{
    const char *m = csq_node_string(a->node, "approximate", "none");

    return unary_run(a, strcmp(m, "tanh") == 0 ? U_GELU_TANH : U_GELU);
}

/* ---- Neg (float32 and int64: LayerNormalization's function body negates
 * its axis) ------------------------------------------------------------ */

int csq_op_neg_infer(struct csq_kargs *a)
{
    int rc;

    if ((rc = need_io(a, 1)) != 0 || (rc = num_type(a, 0)) != 0)
        return rc;
    same_shape(a->out[0], a->in[0], a->in[0]->dtype);
    return 0;
}

int csq_op_neg_run(struct csq_kargs *a)
{
    int64_t n = csq_tensor_numel(a->in[0]), i;

    if (a->in[0]->dtype == CSQ_DT_FLOAT)
        for (i = 0; i < n; i++)
            ((float *)a->out[0]->data)[i] = -((const float *)a->in[0]->data)[i];
    else
        for (i = 0; i < n; i++)
            ((int64_t *)a->out[0]->data)[i] =
                (int64_t)(0 - (uint64_t)((const int64_t *)a->in[0]->data)[i]);
    return 0;
}

/* ---- Not -------------------------------------------------------------- */

int csq_op_not_infer(struct csq_kargs *a)
{
    int rc;

    if ((rc = need_io(a, 1)) != 0)
        return rc;
    if (a->in[0]->dtype != CSQ_DT_BOOL)
        return csq_fail(CSQ_EINVAL, "node '%s' (Not): input must be bool", a->name);
    same_shape(a->out[0], a->in[0], CSQ_DT_BOOL);
    return 0;
}

int csq_op_not_run(struct csq_kargs *a)
{
    const unsigned char *x = a->in[0]->data;
    unsigned char *o = a->out[0]->data;
    int64_t n = csq_tensor_numel(a->in[0]), i;

    for (i = 0; i < n; i++)
        o[i] = !x[i];
    return 0;
}

/* ---- binary and ternary with broadcasting ----------------------------- */

enum { B_POW, B_EQUAL, B_MOD, B_FMOD, B_WHERE };

struct bctx {
    int op;
    int tx, ty;               /* element types of the operands */
    size_t es;                /* Where: element size */
    void *o;
    const void *x, *y, *z;
};

static int broadcast_out(struct csq_kargs *a, int nin, int dtype)
{
    struct csq_tensor t = *a->in[0];
    char b0[128], b1[128];
    int i;

    for (i = 1; i < nin; i++)
        if (csq_op_bcast_shape(&t, a->in[i], &t) != 0)
            return csq_fail(CSQ_ESHAPE, "node '%s' (%s): shapes %s and %s do not broadcast",
                            a->name, csq_op_type(a), csq_op_dims_str(&t, b0, sizeof b0),
                            csq_op_dims_str(a->in[i], b1, sizeof b1));
    a->out[0]->rank = t.rank;
    memcpy(a->out[0]->dims, t.dims, sizeof t.dims);
    a->out[0]->dtype = dtype;
    return 0;
}

/* Integer power by squaring, wrapping on overflow; negative exponents
 * truncate as numpy's float result cast back would (1, -1 or 0). */
static int64_t ipow(int64_t b, int64_t e)
{
    uint64_t r = 1, x = (uint64_t)b;

    if (e < 0)
        return b == 1 ? 1 : b == -1 ? (e % 2 ? -1 : 1) : 0;
    while (e) {
        if (e & 1)
            r *= x;
        x *= x;
        e >>= 1;
    }
    return (int64_t)r;
}

/* Python's modulo: the result takes the divisor's sign; x % 0 gives 0. */
static int64_t imod(int64_t x, int64_t y)
{
    int64_t r;

    if (y == 0)
        return 0;
    if (y == -1)
        return 0;
    r = x % y;
    if (r != 0 && ((r < 0) != (y < 0)))
        r += y;
    return r;
}

static int64_t ifmod(int64_t x, int64_t y)
{
    if (y == 0 || y == -1)
        return 0;
    return x % y;
}

static void pow_row(const struct bctx *c, int64_t oi, const int64_t *off, const int64_t *s,
                    int64_t n)
{
    int64_t i;

    if (c->tx == CSQ_DT_FLOAT && c->ty == CSQ_DT_FLOAT) {
        const float *x = (const float *)c->x + off[0], *y = (const float *)c->y + off[1];
        float *o = (float *)c->o + oi;

        /* the exponents LayerNorm and GELU exports use, exactly */
        if (s[1] == 0 && y[0] == 2.0f) {
            for (i = 0; i < n; i++)
                o[i] = x[i * s[0]] * x[i * s[0]];
        } else if (s[1] == 0 && y[0] == 3.0f) {
            for (i = 0; i < n; i++)
                o[i] = x[i * s[0]] * x[i * s[0]] * x[i * s[0]];
        } else {
            for (i = 0; i < n; i++)
                o[i] = powf(x[i * s[0]], y[i * s[1]]);
        }
    } else if (c->tx == CSQ_DT_FLOAT) {
        const float *x = (const float *)c->x + off[0];
        const int64_t *y = (const int64_t *)c->y + off[1];
        float *o = (float *)c->o + oi;

        for (i = 0; i < n; i++)
            o[i] = (float)pow((double)x[i * s[0]], (double)y[i * s[1]]);
    } else if (c->ty == CSQ_DT_FLOAT) {
        const int64_t *x = (const int64_t *)c->x + off[0];
        const float *y = (const float *)c->y + off[1];
        int64_t *o = (int64_t *)c->o + oi;

        for (i = 0; i < n; i++) {
            double v = pow((double)x[i * s[0]], (double)y[i * s[1]]);

            o[i] = isfinite(v) && fabs(v) < 9.2e18 ? (int64_t)v : 0;
        }
    } else {
        const int64_t *x = (const int64_t *)c->x + off[0], *y = (const int64_t *)c->y + off[1];
        int64_t *o = (int64_t *)c->o + oi;

        for (i = 0; i < n; i++)
            o[i] = ipow(x[i * s[0]], y[i * s[1]]);
    }
}

static void equal_row(const struct bctx *c, int64_t oi, const int64_t *off, const int64_t *s,
                      int64_t n)
{
    unsigned char *o = (unsigned char *)c->o + oi;
    int64_t i;

    if (c->tx == CSQ_DT_FLOAT) {
        const float *x = (const float *)c->x + off[0], *y = (const float *)c->y + off[1];

        for (i = 0; i < n; i++)
            o[i] = x[i * s[0]] == y[i * s[1]];
    } else if (c->tx == CSQ_DT_INT64) {
        const int64_t *x = (const int64_t *)c->x + off[0], *y = (const int64_t *)c->y + off[1];

        for (i = 0; i < n; i++)
            o[i] = x[i * s[0]] == y[i * s[1]];
    } else {
        const unsigned char *x = (const unsigned char *)c->x + off[0];
        const unsigned char *y = (const unsigned char *)c->y + off[1];

        for (i = 0; i < n; i++)
            o[i] = x[i * s[0]] == y[i * s[1]];
    }
}

static void mod_row(const struct bctx *c, int64_t oi, const int64_t *off, const int64_t *s,
                    int64_t n)
{
    int64_t i;

    if (c->tx == CSQ_DT_FLOAT) {
        const float *x = (const float *)c->x + off[0], *y = (const float *)c->y + off[1];
        float *o = (float *)c->o + oi;

        for (i = 0; i < n; i++)
            o[i] = fmodf(x[i * s[0]], y[i * s[1]]);
    } else {
        const int64_t *x = (const int64_t *)c->x + off[0], *y = (const int64_t *)c->y + off[1];
        int64_t *o = (int64_t *)c->o + oi;

        if (c->op == B_FMOD)
            for (i = 0; i < n; i++)
                o[i] = ifmod(x[i * s[0]], y[i * s[1]]);
        else
            for (i = 0; i < n; i++)
                o[i] = imod(x[i * s[0]], y[i * s[1]]);
    }
}

static void where_row(const struct bctx *c, int64_t oi, const int64_t *off, const int64_t *s,
                      int64_t n)
{
    const unsigned char *cond = (const unsigned char *)c->x + off[0];
    int64_t i;

    if (c->es == 4) {
        const float *x = (const float *)c->y + off[1], *y = (const float *)c->z + off[2];
        float *o = (float *)c->o + oi;

        for (i = 0; i < n; i++)
            o[i] = cond[i * s[0]] ? x[i * s[1]] : y[i * s[2]];
    } else if (c->es == 8) {
        const int64_t *x = (const int64_t *)c->y + off[1], *y = (const int64_t *)c->z + off[2];
        int64_t *o = (int64_t *)c->o + oi;

        for (i = 0; i < n; i++)
            o[i] = cond[i * s[0]] ? x[i * s[1]] : y[i * s[2]];
    } else {
        const unsigned char *x = (const unsigned char *)c->y + off[1];
        const unsigned char *y = (const unsigned char *)c->z + off[2];
        unsigned char *o = (unsigned char *)c->o + oi;

        for (i = 0; i < n; i++)
            o[i] = cond[i * s[0]] ? x[i * s[1]] : y[i * s[2]];
    }
}

static void bin_row(void *ctx, int64_t oi, const int64_t *off, const int64_t *s, int64_t n)
{
    const struct bctx *c = ctx;

    switch (c->op) {
    case B_POW: pow_row(c, oi, off, s, n); break;
    case B_EQUAL: equal_row(c, oi, off, s, n); break;
    case B_WHERE: where_row(c, oi, off, s, n); break;
    default: mod_row(c, oi, off, s, n);
    }
}

static int bin_run(struct csq_kargs *a, int op, int nin)
{
    struct bctx c = { op, a->in[0]->dtype, a->in[1]->dtype, 0, a->out[0]->data,
                      a->in[0]->data, a->in[1]->data, nin > 2 ? a->in[2]->data : NULL };

    if (op == B_WHERE)
        c.es = csq_dtype_size(a->in[1]->dtype);
    csq_op_bwalk(a, (const struct csq_tensor *const *)a->in, nin, a->out[0], bin_row, &c);
    return 0;
}

static int num_type(const struct csq_kargs *a, int i)
{
    int t = a->in[i]->dtype;

    if (t != CSQ_DT_FLOAT && t != CSQ_DT_INT64)
        return csq_fail(CSQ_EUNSUPPORTED, "node '%s' (%s): input %d has element type %d "
                        "(float32 and integers only)", a->name, csq_op_type(a), i, t);
    return 0;
}

int csq_op_pow_infer(struct csq_kargs *a)
{
    int rc;

    if ((rc = need_io(a, 2)) != 0 || (rc = num_type(a, 0)) != 0 || (rc = num_type(a, 1)) != 0)
        return rc;
    return broadcast_out(a, 2, a->in[0]->dtype);
}

int csq_op_pow_run(struct csq_kargs *a)
{
    return bin_run(a, B_POW, 2);
}

int csq_op_equal_infer(struct csq_kargs *a)
{
    int rc;

    if ((rc = need_io(a, 2)) != 0)
        return rc;
    if (a->in[0]->dtype != a->in[1]->dtype || csq_dtype_size(a->in[0]->dtype) == 0)
        return csq_fail(CSQ_EINVAL, "node '%s' (Equal): input types %d and %d", a->name,
                        a->in[0]->dtype, a->in[1]->dtype);
    return broadcast_out(a, 2, CSQ_DT_BOOL);
}

int csq_op_equal_run(struct csq_kargs *a)
{
    return bin_run(a, B_EQUAL, 2);
}

int csq_op_mod_infer(struct csq_kargs *a)
{
    int fm = csq_node_int(a->node, "fmod", 0) != 0, rc;

    if ((rc = need_io(a, 2)) != 0 || (rc = num_type(a, 0)) != 0)
        return rc;
    if (a->in[0]->dtype != a->in[1]->dtype)
        return csq_fail(CSQ_EINVAL, "node '%s' (Mod): input types %d and %d differ", a->name,
                        a->in[0]->dtype, a->in[1]->dtype);
    if (a->in[0]->dtype == CSQ_DT_FLOAT && !fm)
        return csq_fail(CSQ_EINVAL, "node '%s' (Mod): float inputs need fmod=1", a->name);
    return broadcast_out(a, 2, a->in[0]->dtype);
}

int csq_op_mod_run(struct csq_kargs *a)
{
    return bin_run(a, csq_node_int(a->node, "fmod", 0) ? B_FMOD : B_MOD, 2);
}

int csq_op_where_infer(struct csq_kargs *a)
{
    int rc;

    if ((rc = need_io(a, 3)) != 0)
        return rc;
    if (a->in[0]->dtype != CSQ_DT_BOOL)
        return csq_fail(CSQ_EINVAL, "node '%s' (Where): condition must be bool", a->name);
    if (a->in[1]->dtype != a->in[2]->dtype || csq_dtype_size(a->in[1]->dtype) == 0)
        return csq_fail(CSQ_EINVAL, "node '%s' (Where): X and Y types %d and %d", a->name,
                        a->in[1]->dtype, a->in[2]->dtype);
    return broadcast_out(a, 3, a->in[1]->dtype);
}

int csq_op_where_run(struct csq_kargs *a)
{
    return bin_run(a, B_WHERE, 3);
}

/* ---- Cast ------------------------------------------------------------- */

/* The held type Cast's "to" gives, 0 when csmpq cannot hold it. */
static int cast_target(int64_t to)
{
    switch (to) {
    case CSQ_DT_FLOAT: case DT_DOUBLE: return CSQ_DT_FLOAT;
    case CSQ_DT_INT64: case DT_INT32: return CSQ_DT_INT64;
    case CSQ_DT_BOOL: return CSQ_DT_BOOL;
    default: return 0;
    }
}

int csq_op_cast_infer(struct csq_kargs *a)
{
    int64_t to = csq_node_int(a->node, "to", -1);
    int rc, t;

    if ((rc = need_io(a, 1)) != 0)
        return rc;
    if (csq_dtype_size(a->in[0]->dtype) == 0)
        return csq_fail(CSQ_EUNSUPPORTED, "node '%s' (Cast): input type %d not supported",
                        a->name, a->in[0]->dtype);
    if ((t = cast_target(to)) == 0)
        return csq_fail(CSQ_EUNSUPPORTED, "node '%s' (Cast): target type %lld not supported "
                        "(float, double, int32, int64, bool)", a->name, (long long)to);
    same_shape(a->out[0], a->in[0], t);
    return 0;
}

/* float to integer truncates toward zero as C and numpy do; NaN and values
 * outside int64 (undefined in C) give 0. */
static int64_t f2i(float v)
{
    return v > -9.2e18f && v < 9.2e18f ? (int64_t)v : 0;
}

int csq_op_cast_run(struct csq_kargs *a)
{
    const struct csq_tensor *x = a->in[0];
    int64_t to = csq_node_int(a->node, "to", -1), n = csq_tensor_numel(x), i;
    int t = a->out[0]->dtype;
    void *o = a->out[0]->data;

    for (i = 0; i < n; i++) {
        float f = 0.0f;
        int64_t v = 0;
        int isf = 0;

        switch (x->dtype) {
        case CSQ_DT_FLOAT: f = ((const float *)x->data)[i]; isf = 1; break;
        case CSQ_DT_INT64: v = ((const int64_t *)x->data)[i]; break;
        case CSQ_DT_UINT8: case CSQ_DT_UINT4: v = ((const uint8_t *)x->data)[i]; break;
        case CSQ_DT_INT8: case CSQ_DT_INT4: v = ((const int8_t *)x->data)[i]; break;
        default: v = ((const unsigned char *)x->data)[i] != 0;
        }
        if (t == CSQ_DT_FLOAT) {
            ((float *)o)[i] = isf ? f : (float)v;
        } else if (t == CSQ_DT_BOOL) {
            ((unsigned char *)o)[i] = isf ? f != 0.0f : v != 0;
        } else {
            if (isf)
                v = f2i(f);
            /* int32 is held as int64 with int32's wrap-around */
            if (to == DT_INT32)
                v = (int64_t)(int32_t)(uint32_t)(uint64_t)v;
            ((int64_t *)o)[i] = v;
        }
    }
    return 0;
}
