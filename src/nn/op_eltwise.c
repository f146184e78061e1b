/*
 * op_eltwise: Add, Sub, Mul, Div with ONNX (numpy) multidirectional
 * broadcasting on float32 and int64, and ReduceMean / ReduceSum.
 *
 * The broadcast walk (csq_op_bwalk) drops size-1 output dims and merges
 * neighbouring dims in which both inputs either advance or stay put, so
 * the common cases (same shape, per-channel scale [N,C,1,1], bias [C,1,1],
 * scalar) become one or two loops with a contiguous inner run.
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include "nn/bcast.h"
#include "nn/kernels.h"
#include "util/err.h"

/* Below this many elements threads cost more than they save (ReduceMean). */
#define PAR_MIN 32768

enum { OP_ADD, OP_SUB, OP_MUL, OP_DIV };

static const char *const op_names[] = { "Add", "Sub", "Mul", "Div" };

/* EXPR combines xv and yv; the four stride cases let the common ones
 * vectorise, which at -O2 GCC 12 does only when told (omp simd): a 25088
 * float Add + Relu took 0.1 ms in scalar code (BENCHMARKS.md, issue 16). */
#define BIN_LOOP(T, EXPR)                                           \
    do {                                                            \
        int64_t i;                                                  \
        if (sx && sy) {                                             \
            _Pragma("omp simd")                                     \
            for (i = 0; i < n; i++) {                               \
                T xv = x[i], yv = y[i];                             \
                o[i] = EXPR;                                        \
            }                                                       \
        } else if (sx) {                                            \
            T yv = y[0];                                            \
            _Pragma("omp simd")                                     \
            for (i = 0; i < n; i++) {                               \
                T xv = x[i];                                        \
                o[i] = EXPR;                                        \
            }                                                       \
        } else if (sy) {                                            \
            T xv = x[0];                                            \
            _Pragma("omp simd")                                     \
            for (i = 0; i < n; i++) {                               \
                T yv = y[i];                                        \
                o[i] = EXPR;                                        \
            }                                                       \
        } else {                                                    \
            T xv = x[0], yv = y[0];                                 \
            for (i = 0; i < n; i++)                                 \
                o[i] = EXPR;                                        \
        }                                                           \
    } while (0)

static void run_f32(int op, float *o, const float *x, const float *y, int64_t n,
                    int64_t sx, int64_t sy)
{
    switch (op) {
    case OP_ADD: BIN_LOOP(float, xv + yv); break;
    case OP_SUB: BIN_LOOP(float, xv - yv); break;
    case OP_MUL: BIN_LOOP(float, xv * yv); break;
    default: BIN_LOOP(float, xv / yv); break;
    }
}

/* Integer division truncates toward zero, as C, onnxruntime and the ONNX
 * reference's np.divide + astype do; torch.onnx.export's lowering of
 * floor division relies on that.  Division by zero gives 0 rather than a
 * trap. */
static int64_t idiv(int64_t x, int64_t y)
{
    if (y == 0)
        return 0;
    if (y == -1)
        return (int64_t)(0 - (uint64_t)x);
    return x / y;
}

/* Wrap-around arithmetic through uint64_t: overflow is not undefined. */
static void run_i64(int op, int64_t *o, const int64_t *x, const int64_t *y, int64_t n,
                    int64_t sx, int64_t sy)
{
    switch (op) {
    case OP_ADD: BIN_LOOP(int64_t, (int64_t)((uint64_t)xv + (uint64_t)yv)); break;
    case OP_SUB: BIN_LOOP(int64_t, (int64_t)((uint64_t)xv - (uint64_t)yv)); break;
    case OP_MUL: BIN_LOOP(int64_t, (int64_t)((uint64_t)xv * (uint64_t)yv)); break;
    default: BIN_LOOP(int64_t, idiv(xv, yv)); break;
    }
}

static int binary_infer(struct csq_kargs *a, int op)
{
    const struct csq_tensor *x = a->nin > 0 ? a->in[0] : NULL;
    const struct csq_tensor *y = a->nin > 1 ? a->in[1] : NULL;
    char bx[128], by[128];

    if (a->nin != 2 || !x || !y || a->nout < 1)
        return csq_fail(CSQ_EINVAL, "node '%s' (%s): needs 2 inputs and 1 output",
                        a->name, op_names[op]);
    if (x->dtype != y->dtype)
        return csq_fail(CSQ_EINVAL, "node '%s' (%s): input types differ (%d and %d)",
                        a->name, op_names[op], x->dtype, y->dtype);
    if (x->dtype != CSQ_DT_FLOAT && x->dtype != CSQ_DT_INT64)
        return csq_fail(CSQ_EUNSUPPORTED,
                        "node '%s' (%s): element type %d (only float32 and int64)",
                        a->name, op_names[op], x->dtype);
    if (csq_op_bcast_shape(x, y, a->out[0]) != 0)
        return csq_fail(CSQ_ESHAPE, "node '%s' (%s): shapes %s and %s do not broadcast",
                        a->name, op_names[op], csq_op_dims_str(x, bx, sizeof bx),
                        csq_op_dims_str(y, by, sizeof by));
    a->out[0]->dtype = x->dtype;
    return 0;
}

struct bin_ctx {
    int op, is_float, relu;
    void *o;
    const void *x, *y;
};

static void bin_row(void *ctx, int64_t oi, const int64_t *off, const int64_t *s, int64_t n)
{
    const struct bin_ctx *c = ctx;

    if (c->is_float) {
        float *oo = (float *)c->o + oi;
        int64_t i;

        run_f32(c->op, oo, (const float *)c->x + off[0], (const float *)c->y + off[1], n,
                s[0], s[1]);
        /* a fused Relu (csq_graph_fuse), while the chunk is in cache */
        if (c->relu)
#pragma omp simd
            for (i = 0; i < n; i++)
                oo[i] = oo[i] < 0.0f ? 0.0f : oo[i];
    } else
        run_i64(c->op, (int64_t *)c->o + oi, (const int64_t *)c->x + off[0],
                (const int64_t *)c->y + off[1], n, s[0], s[1]);
}

/* Below this many output elements the blocked broadcast runs on one thread. */
#define BLK_PAR_MIN 32768

/* hw pixels of B channels, y = x op s (s op x when s_first), then the
 * fused Relu as max(v, lo) with lo = 0 or -inf (NaN stays NaN).  Every
 * choice is made outside the pixel loop and s - x is computed as
 * -(x - s), which is exact, so each pixel is one or two vector operations:
 * the scalar loop with its choices inside took 14% of efficientnet_b0's
 * batch-1 forward on an AVX2 EPYC (BENCHMARKS.md, issue 16). */
#define SCALE_PIXELS(B, EXPR)                                               \
    for (p = 0; p < hw; p++) {                                              \
        const float *xr = x + p * (B);                                      \
        float *yr = y + p * (B);                                            \
        _Pragma("omp simd")                                                 \
        for (k = 0; k < (B); k++) {                                         \
            float v = EXPR;                                                 \
            yr[k] = v < lo ? lo : v;                                        \
        }                                                                   \
    }
#define SCALE_OPS(B)                                                        \
    switch (op) {                                                           \
    case OP_ADD: SCALE_PIXELS(B, xr[k] + s[k]); break;                      \
    case OP_SUB: SCALE_PIXELS(B, (xr[k] - s[k]) * sg); break;               \
    default: SCALE_PIXELS(B, xr[k] * s[k]); break;                          \
    }

#if defined(__GNUC__) && defined(__x86_64__) && !defined(__clang__)
__attribute__((target_clones("avx512f", "avx2", "default")))
#endif
static void scale_block(int op, int s_first, int relu, int b, float *y, const float *x,
                        const float *s, int64_t hw)
{
    const float lo = relu ? 0.0f : -INFINITY, sg = s_first ? -1.0f : 1.0f;
    int64_t p, k;

    if (b == 16) {
        SCALE_OPS(16)
    } else {
        SCALE_OPS(8)
    }
}

/* An output kept channel-blocked (a->out_blk = b > 1, nChw8c or nChw16c,
 * viewed as N x Cpad x H x W) with an N x C x 1 x 1 operand: a
 * squeeze-excite scale (csq_engine's eltwise_block allows it; Add, Sub
 * and Mul are the element-wise binary ops).  At 1 x 1 every layout keeps
 * an image's channels in order, padded or not, so the operand is read as
 * N rows of numel / N.  Each block of b channels takes its b values;
 * channels past the operand's take 0, which keeps the padding finite. */
static void blocked_small(struct csq_kargs *a, int op)
{
    const struct csq_tensor *o = a->out[0];
    int si = csq_tensor_numel(a->in[0]) == csq_tensor_numel(o);    /* the small one */
    const struct csq_tensor *st = a->in[si];
    const float *big = a->in[!si]->data, *sm = st->data;
    float *od = o->data;
    int64_t b = a->out_blk, nb = o->dims[0], hw = o->dims[2] * o->dims[3];
    int64_t blocks = o->dims[1] / b, c = csq_tensor_numel(st) / st->dims[0], it;

#pragma omp parallel for num_threads(CSQ_OP_NT(a)) if (nb * blocks * hw * b >= BLK_PAR_MIN)
    for (it = 0; it < nb * blocks; it++) {
        int64_t n = it / blocks, c0 = it % blocks * b, k;
        const float *sv = sm + (st->dims[0] > 1 ? n * c : 0);
        float s[16];

        for (k = 0; k < b; k++)
            s[k] = c0 + k < c ? sv[c0 + k] : 0.0f;
        scale_block(op, si == 0, a->relu, (int)b, od + it * hw * b, big + it * hw * b, s, hw);
    }
}

static int binary_run(struct csq_kargs *a, int op)
{
    struct bin_ctx c = { op, a->in[0]->dtype == CSQ_DT_FLOAT, a->relu,
                         a->out[0]->data, a->in[0]->data, a->in[1]->data };
    int64_t nx = csq_tensor_numel(a->in[0]), ny = csq_tensor_numel(a->in[1]);

    if (a->out_blk > 1 && nx > 1 && ny > 1 && nx != ny) {
        blocked_small(a, op);
        return 0;
    }
    csq_op_bwalk(a, (const struct csq_tensor *const *)a->in, 2, a->out[0], bin_row, &c);
    return 0;
}

int csq_op_add_infer(struct csq_kargs *a) { return binary_infer(a, OP_ADD); }
int csq_op_add_run(struct csq_kargs *a) { return binary_run(a, OP_ADD); }
int csq_op_sub_infer(struct csq_kargs *a) { return binary_infer(a, OP_SUB); }
int csq_op_sub_run(struct csq_kargs *a) { return binary_run(a, OP_SUB); }
int csq_op_mul_infer(struct csq_kargs *a) { return binary_infer(a, OP_MUL); }
int csq_op_mul_run(struct csq_kargs *a) { return binary_run(a, OP_MUL); }
int csq_op_div_infer(struct csq_kargs *a) { return binary_infer(a, OP_DIV); }
int csq_op_div_run(struct csq_kargs *a) { return binary_run(a, OP_DIV); }

/* ---- ReduceMean, ReduceSum -------------------------------------------- */

/* Reduced dims as a bit mask; *noop when the op is the identity (opset 18
 * noop_with_empty_axes with no axes). */
static int reduce_axes(struct csq_kargs *a, unsigned *mask, int *noop)
{
    const struct csq_tensor *x = a->in[0];
    const struct csq_attr *at = csq_node_attr(a->node, "axes");
    const int64_t *axes = NULL;
    int64_t n = 0, i;
    int rc;

    *mask = 0;
    *noop = 0;
    if (a->nin > 1 && a->in[1]) {
        if ((rc = csq_op_const_ints(a, 1, "axes", &axes, &n)) != 0)
            return rc;
    } else if (at) {
        if (at->type != CSQ_ATTR_INTS)
            return csq_fail(CSQ_EINVAL, "node '%s' (%s): attribute axes is not a list"
                            " of ints", a->name, csq_op_type(a));
        axes = at->ints;
        n = (int64_t)at->n;
    }
    if (n == 0) {
        if (csq_node_int(a->node, "noop_with_empty_axes", 0))
            *noop = 1;
        else
            *mask = (1u << x->rank) - 1;
        return 0;
    }
    for (i = 0; i < n; i++) {
        int ax;

        if ((rc = csq_op_axis(a, axes[i], x->rank, "axis", &ax)) != 0)
            return rc;
        if (*mask & (1u << ax))
            return csq_fail(CSQ_EINVAL, "node '%s' (%s): axis %d given twice",
                            a->name, csq_op_type(a), ax);
        *mask |= 1u << ax;
    }
    return 0;
}

static int reduce_infer(struct csq_kargs *a)
{
    const struct csq_tensor *x = a->nin > 0 ? a->in[0] : NULL;
    struct csq_tensor *o = a->out[0];
    int keep = csq_node_int(a->node, "keepdims", 1) != 0;
    unsigned mask;
    int noop, d, rc;

    if (!x || a->nout < 1)
        return csq_fail(CSQ_EINVAL, "node '%s' (%s): needs 1 input and 1 output",
                        a->name, csq_op_type(a));
    if (x->dtype != CSQ_DT_FLOAT)
        return csq_fail(CSQ_EUNSUPPORTED,
                        "node '%s' (%s): element type %d (only float32)", a->name,
                        csq_op_type(a), x->dtype);
    if ((rc = reduce_axes(a, &mask, &noop)) != 0)
        return rc;
    o->dtype = x->dtype;
    o->rank = 0;
    for (d = 0; d < x->rank; d++) {
        if (!(mask & (1u << d)))
            o->dims[o->rank++] = x->dims[d];
        else if (keep)
            o->dims[o->rank++] = 1;
    }
    return 0;
}

/* mean: divide the sums by the count (ReduceMean), else ReduceSum */
static int reduce_run(struct csq_kargs *a, int mean)
{
    const struct csq_tensor *x = a->in[0];
    struct csq_tensor *o = a->out[0];
    const float *xd = x->data;
    float *od = o->data;
    /* merged groups of kept (k*) and reduced (r*) input dims */
    int64_t kdim[CSQ_MAX_RANK], kstr[CSQ_MAX_RANK], rdim[CSQ_MAX_RANK], rstr[CSQ_MAX_RANK];
    int nk = 0, nr = 0, last = -1, d, noop;
    int64_t stride = 1, nout, m = 1, j;
    unsigned mask;

    if (reduce_axes(a, &mask, &noop) != 0)
        return CSQ_EINVAL;
    nout = csq_tensor_numel(o);
    if (noop) {
        if (od != xd)
            memcpy(od, xd, sizeof(float) * (size_t)nout);
        return 0;
    }
    if (nout == 0)
        return 0;
    /* walk dims from the last so strides accumulate; groups come out
     * innermost first */
    for (d = x->rank - 1; d >= 0; d--) {
        int red = (mask >> d) & 1;

        if (red)
            m *= x->dims[d];
        if (x->dims[d] != 1) {
            if (last == red) {
                if (red)
                    rdim[nr - 1] *= x->dims[d];
                else
                    kdim[nk - 1] *= x->dims[d];
            } else if (red) {
                rdim[nr] = x->dims[d];
                rstr[nr++] = stride;
            } else {
                kdim[nk] = x->dims[d];
                kstr[nk++] = stride;
            }
            last = red;
        }
        stride *= x->dims[d];
    }

#pragma omp parallel for num_threads(CSQ_OP_NT(a)) if (nout * m >= PAR_MIN && nout > 1)
    for (j = 0; j < nout; j++) {
        int64_t base = 0, rest = j, cnt[CSQ_MAX_RANK] = { 0 }, off, done;
        double sum = 0.0;
        int g;

        for (g = 0; g < nk; g++) {
            base += (rest % kdim[g]) * kstr[g];
            rest /= kdim[g];
        }
        if (m == 0) {
            od[j] = mean ? NAN : 0.0f;
            continue;
        }
        /* odometer over the reduced groups, innermost (group 0) as a loop */
        for (done = 0, off = base; done < m;) {
            int64_t i, n0 = nr ? rdim[0] : 1, s0 = nr ? rstr[0] : 1;

            for (i = 0; i < n0; i++)
                sum += xd[off + i * s0];
            done += n0;
            for (g = 1; g < nr; g++) {
                off += rstr[g];
                if (++cnt[g] < rdim[g])
                    break;
                off -= cnt[g] * rstr[g];
                cnt[g] = 0;
            }
        }
        od[j] = (float)(mean ? sum / (double)m : sum);
    }
    return 0;
}

int csq_op_reducemean_infer(struct csq_kargs *a) { return reduce_infer(a); }
int csq_op_reducemean_run(struct csq_kargs *a) { return reduce_run(a, 1); }
int csq_op_reducesum_infer(struct csq_kargs *a) { return reduce_infer(a); }
int csq_op_reducesum_run(struct csq_kargs *a) { return reduce_run(a, 0); }
