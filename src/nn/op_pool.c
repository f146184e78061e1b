/*
 * op_pool: MaxPool, AveragePool (1-D to 3-D windows, ONNX opsets 7-19
 * attributes), GlobalAveragePool and GlobalMaxPool, float32 NC...
 * Every shape is run as a 3-D window (missing leading dims of size 1);
 * planes (n, c) are spread over the threads.  An engine checks once per
 * plan (csq_op_maxpool_plan ...); the per-dim tap tables are rebuilt in
 * scratch on each run (a few hundred entries), so run allocates nothing.
 */
#include "config.h"

#include <assert.h>
#include <math.h>
#include <string.h>

#include "nn/kernels.h"
#include "nn/op_win.h"
#include "util/err.h"

struct pool {
    int64_t planes;                     /* N * C */
    struct csq_win w;                   /* 3-D, leading dims padded with 1 */
    int avg, include_pad;
};

static_assert(sizeof(struct pool) <= CSQ_OP_PLAN_BYTES, "pool plan too big");

static int nthreads(const struct csq_kargs *a)
{
    return a->nthreads > 0 ? a->nthreads : csq_ops_threads();
}

static int pool_check(const struct csq_kargs *a, const char *op, int avg, struct pool *p)
{
    const struct csq_tensor *x = a->nin > 0 ? a->in[0] : NULL;
    const int64_t *kshape;
    struct csq_win w;
    int nsp, rc, i, sh;

    if (!x)
        return csq_fail(CSQ_EFORMAT, "node '%s' (%s): needs input X", a->name, op);
    if (x->dtype != CSQ_DT_FLOAT)
        return csq_fail(CSQ_EUNSUPPORTED, "node '%s' (%s): only float32 is supported",
                        a->name, op);
    if (x->rank < 3 || x->rank > 2 + CSQ_WIN_MAX)
        return csq_fail(CSQ_EUNSUPPORTED, "node '%s' (%s): input of rank %d (1-D to 3-D "
                        "pooling only)", a->name, op, x->rank);
    if (!avg && a->nout > 1 && a->out[1])
        return csq_fail(CSQ_EUNSUPPORTED, "node '%s' (%s): the Indices output is not supported",
                        a->name, op);
    nsp = x->rank - 2;
    if ((rc = csq_op_win_ints(a, op, "kernel_shape", nsp, &kshape)))
        return rc;
    if (!kshape)
        return csq_fail(CSQ_EFORMAT, "node '%s' (%s): attribute 'kernel_shape' is required",
                        a->name, op);
    if ((rc = csq_op_win_parse(a, op, nsp, x->dims + 2, kshape, 1, &w)))
        return rc;
    memset(p, 0, sizeof *p);
    p->planes = x->dims[0] * x->dims[1];
    p->avg = avg;
    p->include_pad = avg && csq_node_int(a->node, "count_include_pad", 0) != 0;
    sh = CSQ_WIN_MAX - nsp;
    p->w.nsp = CSQ_WIN_MAX;
    for (i = 0; i < CSQ_WIN_MAX; i++) {
        int j = i - sh;

        p->w.in[i] = j >= 0 ? w.in[j] : 1;
        p->w.k[i] = j >= 0 ? w.k[j] : 1;
        p->w.s[i] = j >= 0 ? w.s[j] : 1;
        p->w.d[i] = j >= 0 ? w.d[j] : 1;
        p->w.pb[i] = j >= 0 ? w.pb[j] : 0;
        p->w.pe[i] = j >= 0 ? w.pe[j] : 0;
        p->w.out[i] = j >= 0 ? w.out[j] : 1;
    }
    return 0;
}

static int pool_infer(struct csq_kargs *a, const char *op, int avg)
{
    const struct csq_tensor *x;
    struct csq_tensor *y = a->out[0];
    struct pool p;
    int rc, i, nsp;

    if ((rc = pool_check(a, op, avg, &p)))
        return rc;
    x = a->in[0];
    nsp = x->rank - 2;
    y->dtype = CSQ_DT_FLOAT;
    y->rank = x->rank;
    y->dims[0] = x->dims[0];
    y->dims[1] = x->dims[1];
    for (i = 0; i < nsp; i++)
        y->dims[2 + i] = p.w.out[CSQ_WIN_MAX - nsp + i];
    return 0;
}

/* Per output index of one dim: kernel taps [lo, hi) that land inside the
 * input, and taps inside the padded input (the count_include_pad
 * divisor). */
struct taps {
    int64_t lo, hi, padded, start;   /* start: first input index, may be < 0 */
};

static void taps_fill(const struct csq_win *w, int i, struct taps *t)
{
    int64_t o, d = w->d[i], k = w->k[i];

    for (o = 0; o < w->out[i]; o++) {
        int64_t s = o * w->s[i] - w->pb[i], l, h, pe;

        l = s < 0 ? (-s + d - 1) / d : 0;
        h = s < w->in[i] ? (w->in[i] - 1 - s) / d + 1 : 0;
        if (h > k)
            h = k;
        if (l > h)
            l = h;
        /* taps before the end padding runs out; s >= -pb always */
        pe = s < w->in[i] + w->pe[i] ? (w->in[i] + w->pe[i] - 1 - s) / d + 1 : 0;
        t[o].lo = l;
        t[o].hi = h;
        t[o].padded = pe > k ? k : pe;
        t[o].start = s;
    }
}

/* One (n, c) plane, an output row at a time: each kernel tap updates the
 * whole row range it reaches, so the inner loops are independent
 * iterations (vectorizable for stride 1) instead of one long chain. */
static void pool_plane(const struct pool *p, const struct taps *const tp[CSQ_WIN_MAX],
                       const float *x, float *y)
{
    const struct csq_win *w = &p->w;
    int64_t od, oh, ow, in_hw = w->in[1] * w->in[2], s = w->s[2], ow_n = w->out[2];

    for (od = 0; od < w->out[0]; od++) {
        const struct taps *td = &tp[0][od];

        for (oh = 0; oh < w->out[1]; oh++, y += ow_n) {
            const struct taps *th = &tp[1][oh];
            int64_t kd, kh, kw;

            for (ow = 0; ow < ow_n; ow++)
                y[ow] = p->avg ? 0.0f : -INFINITY;
            for (kd = td->lo; kd < td->hi; kd++) {
                for (kh = th->lo; kh < th->hi; kh++) {
                    const float *xr = x + (td->start + kd * w->d[0]) * in_hw +
                                      (th->start + kh * w->d[1]) * w->in[2];

                    for (kw = 0; kw < w->k[2]; kw++) {
                        int64_t off = kw * w->d[2] - w->pb[2], lo, hi;
                        const float *xs = xr + off;

                        csq_kern_valid_range(ow_n, s, off, w->in[2], &lo, &hi);
                        if (p->avg) {
                            for (ow = lo; ow < hi; ow++)
                                y[ow] += xs[ow * s];
                        } else {
                            for (ow = lo; ow < hi; ow++)
                                y[ow] = xs[ow * s] > y[ow] ? xs[ow * s] : y[ow];
                        }
                    }
                }
            }
            if (p->avg) {
                const struct taps *tw = tp[2];
                int64_t f = p->include_pad ? td->padded * th->padded
                                           : (td->hi - td->lo) * (th->hi - th->lo);

                for (ow = 0; ow < ow_n; ow++) {
                    int64_t cnt = f * (p->include_pad ? tw[ow].padded : tw[ow].hi - tw[ow].lo);

                    y[ow] = cnt > 0 ? y[ow] / (float)cnt : 0.0f;
                }
            }
        }
    }
}

static int get_plan(const struct csq_kargs *a, const char *op, int avg, struct pool *p)
{
    if (a->plan) {
        *p = *(const struct pool *)a->plan;
        return 0;
    }
    return pool_check(a, op, avg, p);
}

static int64_t ntaps(const struct pool *p)
{
    return p->w.out[0] + p->w.out[1] + p->w.out[2];
}

/* Floats of scratch: the tap tables of the three dims. */
size_t csq_op_pool_scratch(const struct csq_kargs *a)
{
    struct pool p;
    int avg = strcmp(a->node->op_type, "AveragePool") == 0;

    if (get_plan(a, avg ? "AveragePool" : "MaxPool", avg, &p))
        return 0;
    return ((size_t)ntaps(&p) * sizeof(struct taps) + sizeof(float) - 1) / sizeof(float);
}

/* Channels per chunk of a 2-D pool with no side blocked: accumulators on
 * the stack. */
#define PCH 64

/* One side of a 2-D pool in a layout of ops.h (0 NCHW, 1 NHWC, b > 1
 * nChw{b}c with zero-padded channels) for N x C x H x W: the image and
 * pixel strides, the stride of channels inside a chunk, and the offset of
 * chunk c0 as c0 * at (a blocked side's chunks start at its blocks, so
 * c0 / b * hw * b = c0 * hw, as in NCHW). */
struct side {
    int64_t img, ps, cs, at;
};

static struct side side_of(int lay, int64_t c, int64_t hw)
{
    struct side s = { c * hw, lay == 0 ? 1 : lay == 1 ? c : lay, lay == 0 ? hw : 1,
                      lay == 1 ? 1 : hw };

    if (lay > 1)
        s.img = (c + lay - 1) / lay * lay * hw;
    return s;
}

/* The taps of one output pixel into cr channels' acc, channels xc apart;
 * inlined with xc = 1 and cr = 8 or 16, a block's channels are one or two
 * vector operations per tap. */
static inline __attribute__((always_inline)) void
pool_taps(const struct pool *p, const struct taps *h, const struct taps *t, const float *xb,
          int64_t ps, int64_t xc, int64_t cr, float *acc)
{
    const struct csq_win *w = &p->w;
    int64_t kh, kw, k;

    for (kh = h->lo; kh < h->hi; kh++)
        for (kw = t->lo; kw < t->hi; kw++) {
            const float *xs = xb + ((h->start + kh * w->d[1]) * w->in[2] + t->start +
                                    kw * w->d[2]) * ps;

            if (p->avg) {
#pragma omp simd
                for (k = 0; k < cr; k++)
                    acc[k] += xs[k * xc];
            } else {
#pragma omp simd
                for (k = 0; k < cr; k++)
                    acc[k] = xs[k * xc] > acc[k] ? xs[k * xc] : acc[k];
            }
        }
}

/* One chunk of cn channels of an output pixel, cr of them real (the rest
 * a blocked output's padding, written 0), channels xc apart in the input
 * and yc in the output; inlined with constant cn = cr and xc = yc = 1, its
 * start, taps and store are a block's vector operations. */
static inline __attribute__((always_inline)) void
pool_chunk(const struct pool *p, const struct taps *h, const struct taps *t, const float *xb,
           int64_t ps, int64_t xc, float *yo, int64_t yc, int64_t cn, int64_t cr, int64_t cnt)
{
    float acc[PCH];
    int64_t k;

#pragma omp simd
    for (k = 0; k < cn; k++)
        acc[k] = p->avg || k >= cr ? 0.0f : -INFINITY;
    if (cr > 0)
        pool_taps(p, h, t, xb, ps, xc, cr, acc);
#pragma omp simd
    for (k = 0; k < cn; k++)
        yo[k * yc] = !p->avg || k >= cr ? acc[k] : cnt > 0 ? acc[k] / (float)cnt : 0.0f;
}

/* One output row (image n's row h) of pool_laid, cy channels in chunks. */
#if defined(__GNUC__) && defined(__x86_64__) && !defined(__clang__)
__attribute__((target_clones("avx512f", "avx2", "default")))
#endif
static void pool_row(const struct pool *p, const struct taps *h, const struct taps *tw,
                     const float *xn, float *yn, const struct side *xs_,
                     const struct side *ys_, int64_t c, int64_t cy, int64_t chunk)
{
    int64_t ow, c0;
    int unit = xs_->cs == 1 && ys_->cs == 1;

    for (ow = 0; ow < p->w.out[2]; ow++) {
        const struct taps *t = &tw[ow];
        int64_t cnt = p->include_pad ? h->padded * t->padded : (h->hi - h->lo) * (t->hi - t->lo);

        for (c0 = 0; c0 < cy; c0 += chunk) {
            int64_t cn = cy - c0 < chunk ? cy - c0 : chunk, cr = c - c0 < cn ? c - c0 : cn;
            const float *xb = xn + c0 * xs_->at;
            float *yo = yn + ow * ys_->ps + c0 * ys_->at;

            if (unit && cn == 16 && cr == 16)
                pool_chunk(p, h, t, xb, xs_->ps, 1, yo, 1, 16, 16, cnt);
            else if (unit && cn == 8 && cr == 8)
                pool_chunk(p, h, t, xb, xs_->ps, 1, yo, 1, 8, 8, cnt);
            else if (xs_->cs == 1)
                pool_chunk(p, h, t, xb, xs_->ps, 1, yo, ys_->cs, cn, cr, cnt);    /* NHWC */
            else
                pool_chunk(p, h, t, xb, xs_->ps, xs_->cs, yo, ys_->cs, cn, cr, cnt);
        }
    }
}

/*
 * A 2-D pool with either side in NHWC or channel blocks (the layouts the
 * engine keeps oneDNN convolutions' outputs in: a->in_blk, a->out_blk).
 * Per output pixel a chunk of channels runs innermost, contiguous unless
 * that side is NCHW, within one block of a blocked side; each channel sees
 * the taps in the order pool_plane adds them (the same sums, the same
 * maxima).  A blocked output's padding channels are written 0.  On AVX2,
 * resnet18's MaxPool in NCHW kept its neighbours out of nChw8c, and so two
 * residual Adds out of their convolutions (BENCHMARKS.md, issue 16).
 */
static void pool_laid(const struct pool *p, const struct taps *th, const struct taps *tw,
                      const struct csq_kargs *a)
{
    const struct csq_win *w = &p->w;
    const float *x = a->in[0]->data;
    float *y = a->out[0]->data;
    /* the plan's planes count true channels; a blocked view pads them */
    int64_t nb = a->in[0]->dims[0], c = nb > 0 ? p->planes / nb : 0;
    int64_t OH = w->out[1], OW = w->out[2];
    struct side xs_ = side_of(a->in_blk, c, w->in[1] * w->in[2]);
    struct side ys_ = side_of(a->out_blk, c, OH * OW);
    /* NHWC in chunks of 16 channels, which pool_row inlines at that
     * constant width like a block's (BENCHMARKS.md, issue 16) */
    int64_t chunk = a->in_blk > 1 ? a->in_blk : a->out_blk > 1 ? a->out_blk
                                              : a->in_blk == 1 ? 16 : PCH;
    int64_t cy = a->out_blk > 1 ? (c + a->out_blk - 1) / a->out_blk * a->out_blk : c, r;

#pragma omp parallel for num_threads(nthreads(a)) schedule(static)
    for (r = 0; r < nb * OH; r++)
        pool_row(p, &th[r % OH], tw, x + r / OH * xs_.img,
                 y + r / OH * ys_.img + r % OH * OW * ys_.ps, &xs_, &ys_, c, cy, chunk);
}

void csq_op_pool_blocks(const struct csq_kargs *a, int *in_blk, int *out_blk)
{
    /* 2-D pools: NHWC, or the channel blocks their producer keeps */
    *in_blk = *out_blk = a->in[0] && a->in[0]->rank == 4 ? (a->in_blk > 1 ? a->in_blk : 1) : 0;
}

static int pool_run(struct csq_kargs *a, const char *op, int avg)
{
    const float *x = a->in[0]->data;
    float *y = a->out[0]->data;
    const struct taps *tp[CSQ_WIN_MAX];
    struct taps *t = (struct taps *)(void *)a->scratch;
    int64_t pl, in, out;
    struct pool p;
    int rc;

    if ((rc = get_plan(a, op, avg, &p)))
        return rc;
    in = p.w.in[0] * p.w.in[1] * p.w.in[2];
    out = p.w.out[0] * p.w.out[1] * p.w.out[2];
    taps_fill(&p.w, 0, t);
    taps_fill(&p.w, 1, t + p.w.out[0]);
    taps_fill(&p.w, 2, t + p.w.out[0] + p.w.out[1]);
    tp[0] = t;
    tp[1] = t + p.w.out[0];
    tp[2] = t + p.w.out[0] + p.w.out[1];
    if (a->in_blk || a->out_blk) {
        pool_laid(&p, tp[1], tp[2], a);
        return 0;
    }
#pragma omp parallel for num_threads(nthreads(a)) schedule(static)
    for (pl = 0; pl < p.planes; pl++)
        pool_plane(&p, tp, x + pl * in, y + pl * out);
    return 0;
}

int csq_op_maxpool_infer(struct csq_kargs *a)
{
    return pool_infer(a, "MaxPool", 0);
}

int csq_op_maxpool_run(struct csq_kargs *a)
{
    return pool_run(a, "MaxPool", 0);
}

int csq_op_maxpool_plan(const struct csq_kargs *a, void *plan)
{
    return pool_check(a, "MaxPool", 0, plan);
}

int csq_op_avgpool_infer(struct csq_kargs *a)
{
    return pool_infer(a, "AveragePool", 1);
}

int csq_op_avgpool_run(struct csq_kargs *a)
{
    return pool_run(a, "AveragePool", 1);
}

int csq_op_avgpool_plan(const struct csq_kargs *a, void *plan)
{
    return pool_check(a, "AveragePool", 1, plan);
}

static int global_infer(struct csq_kargs *a, const char *op)
{
    const struct csq_tensor *x = a->nin > 0 ? a->in[0] : NULL;
    struct csq_tensor *y = a->out[0];
    int i;

    if (!x)
        return csq_fail(CSQ_EFORMAT, "node '%s' (%s): needs input X", a->name, op);
    if (x->dtype != CSQ_DT_FLOAT)
        return csq_fail(CSQ_EUNSUPPORTED, "node '%s' (%s): only float32 is supported",
                        a->name, op);
    if (x->rank < 3)
        return csq_fail(CSQ_ESHAPE, "node '%s' (%s): input of rank %d, need N x C x spatial",
                        a->name, op, x->rank);
    y->dtype = CSQ_DT_FLOAT;
    y->rank = x->rank;
    y->dims[0] = x->dims[0];
    y->dims[1] = x->dims[1];
    for (i = 2; i < x->rank; i++)
        y->dims[i] = 1;
    return 0;
}

static void global_nhwc(const struct csq_kargs *a, int avg);
static void global_blocked(const struct csq_kargs *a, int avg);

static int global_run(struct csq_kargs *a, const char *op, int avg)
{
    const struct csq_tensor *x = a->in[0];
    const float *xd = x->data;
    float *y = a->out[0]->data;
    int64_t planes = x->dims[0] * x->dims[1], n = 1, pl;
    int rc, i;

    if (a->in_blk == 1) {
        global_nhwc(a, avg);
        return 0;
    }
    if (a->in_blk > 1) {
        global_blocked(a, avg);
        return 0;
    }
    if ((rc = global_infer(a, op)))
        return rc;
    for (i = 2; i < x->rank; i++)
        n *= x->dims[i];
#pragma omp parallel for num_threads(nthreads(a)) schedule(static)
    for (pl = 0; pl < planes; pl++) {
        const float *xp = xd + pl * n;
        int64_t j;

        if (avg) {
            double acc = 0;

            for (j = 0; j < n; j++)
                acc += xp[j];
            y[pl] = n ? (float)(acc / (double)n) : 0.0f;
        } else {
            float m = -INFINITY;

            for (j = 0; j < n; j++)
                m = xp[j] > m ? xp[j] : m;
            y[pl] = m;
        }
    }
    return 0;
}

/* Channels per work item of an NHWC global pool: accumulators on the stack. */
#define GCH 64

/* acc[k] += x[p * b + k] over hw pixels; inlined with b = 8 or 16 */
static inline __attribute__((always_inline)) void sum_block(const float *x, int64_t hw,
                                                            int64_t b, double *acc)
{
    int64_t p, k;

    for (p = 0; p < hw; p++)
#pragma omp simd
        for (k = 0; k < b; k++)
            acc[k] += x[p * b + k];
}

/* The global pools of cn <= GCH contiguous channels at x, over hw pixels
 * stride apart, each channel summed in pixel order as the NCHW loop does;
 * the first keep of them into y. */
#if defined(__GNUC__) && defined(__x86_64__) && !defined(__clang__)
__attribute__((target_clones("avx512f", "avx2", "default")))
#endif
static void global_chunk(const float *x, int64_t hw, int64_t stride, int64_t cn, int64_t keep,
                         int avg, float *y)
{
    double acc[GCH];
    float m[GCH];
    int64_t p, k;

    for (k = 0; k < cn; k++) {
        acc[k] = 0;
        m[k] = -INFINITY;
    }
    /* a block of 8 or 16 channels (nChw8c / nChw16c) at a constant width
     * sums as vectors: the loop over any cn stayed scalar, 6% of
     * efficientnet_b0's batch-1 forward (BENCHMARKS.md, issue 16) */
    if (avg && cn == 16 && stride == 16)
        sum_block(x, hw, 16, acc);
    else if (avg && cn == 8 && stride == 8)
        sum_block(x, hw, 8, acc);
    else
        for (p = 0; p < hw; p++) {
            const float *r = x + p * stride;

            if (avg)
                for (k = 0; k < cn; k++)
                    acc[k] += r[k];
            else
                for (k = 0; k < cn; k++)
                    m[k] = r[k] > m[k] ? r[k] : m[k];
        }
    for (k = 0; k < keep; k++)
        y[k] = avg ? (hw ? (float)(acc[k] / (double)hw) : 0.0f) : m[k];
}

/* The global pools of a channel-blocked input (nChw8c or nChw16c:
 * a->in_blk = b, viewed as N x Cpad x H x W); padding channels are
 * dropped. */
static void global_blocked(const struct csq_kargs *a, int avg)
{
    const struct csq_tensor *x = a->in[0];
    int64_t b = a->in_blk, nb = x->dims[0], hw = x->dims[2] * x->dims[3];
    int64_t c = a->out[0]->dims[1], blocks = x->dims[1] / b, it;

#pragma omp parallel for num_threads(nthreads(a)) schedule(static)
    for (it = 0; it < nb * blocks; it++) {
        int64_t n = it / blocks, c0 = it % blocks * b;

        global_chunk((const float *)x->data + it * hw * b, hw, b, b, c - c0 < b ? c - c0 : b,
                     avg, (float *)a->out[0]->data + n * c + c0);
    }
}

/* The global pools of an NHWC input (the layout the engine keeps a oneDNN
 * convolution's output in: a->in_blk, viewed as N x H x W x C). */
static void global_nhwc(const struct csq_kargs *a, int avg)
{
    const struct csq_tensor *x = a->in[0];
    int64_t nb = x->dims[0], hw = x->dims[1] * x->dims[2], c = x->dims[3];
    int64_t chunks = (c + GCH - 1) / GCH, it;

#pragma omp parallel for num_threads(nthreads(a)) schedule(static)
    for (it = 0; it < nb * chunks; it++) {
        int64_t n = it / chunks, c0 = it % chunks * GCH, cn = c - c0 < GCH ? c - c0 : GCH;

        global_chunk((const float *)x->data + n * hw * c + c0, hw, c, cn, cn, avg,
                     (float *)a->out[0]->data + n * c + c0);
    }
}

void csq_op_globalpool_blocks(const struct csq_kargs *a, int *in_blk, int *out_blk)
{
    /* NHWC, or the channel blocks its producer keeps (a->in_blk) */
    *in_blk = a->in[0] && a->in[0]->rank == 4 ? (a->in_blk > 1 ? a->in_blk : 1) : 0;
    *out_blk = 0;   /* N x C x 1 x 1: the same bytes either way */
}

int csq_op_globalavgpool_infer(struct csq_kargs *a)
{
    return global_infer(a, "GlobalAveragePool");
}

int csq_op_globalavgpool_run(struct csq_kargs *a)
{
    return global_run(a, "GlobalAveragePool", 1);
}

int csq_op_globalmaxpool_infer(struct csq_kargs *a)
{
    return global_infer(a, "GlobalMaxPool");
}

int csq_op_globalmaxpool_run(struct csq_kargs *a)
{
    return global_run(a, "GlobalMaxPool", 0);
}
