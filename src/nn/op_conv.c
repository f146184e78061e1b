/*
 * op_conv: ONNX Conv (opsets 7-17), 1-D and 2-D, float32.
 *
 * Four paths, picked per node from its shapes:
 * - depthwise (group == C_in): a direct kernel per output plane whose
 *   inner loops run along an output row and vectorize;
 * - 1x1, stride 1, no padding, large planes: sgemm straight on the input;
 * - 3x3, stride 1, dilation 1, group 1 (most of a ResNet): Winograd
 *   F(2x2, 3x3), blocks of 2x2 output tiles across the batch, 16 sgemms
 *   per block; 1.4-1.8x faster than im2col on resnet18 layers;
 * - otherwise im2col + sgemm, tiled over output columns so the column
 *   buffer stays under COL_BUDGET floats per thread whatever the batch.
 *   Small planes (late layers) put several images in one tile, so one
 *   sgemm covers them, and the result is scattered back to NCHW.
 * Threads: work items (tiles, planes) run in one OpenMP loop with
 * OpenBLAS set to one thread meanwhile, so the two thread pools never
 * compete for the cores.
 * Scratch (csq_op_conv_scratch) never grows with the batch: per thread a
 * column buffer of about COL_BUDGET floats or a Winograd block of about
 * WINO_BUDGET.  The Winograd-transformed weights (16 x M x C) are packed
 * once per engine (csq_op_conv_pack); without them they lead the scratch.
 * An engine plans once per batch size (csq_op_conv_plan): checks, path
 * and tiling; run then only computes.
 */
#include "config.h"

#include <assert.h>
#include <string.h>

#include <cblas.h>
#include <omp.h>

#include "nn/dnnl.h"
#include "nn/im2col.h"
#include "nn/kernels.h"
#include "nn/op_win.h"
#include "util/err.h"

/* floats of im2col buffer per thread (2 MB): measured best between 0.5
 * and 4 MB on resnet18 layers, about the L2 size */
#define COL_BUDGET ((int64_t)1 << 19)
#define MIN_TILE 192
/* Winograd F(2x2, 3x3) for 3x3 stride-1 convolutions: 16 sgemms on
 * transformed tiles replace 36 multiplies per 2x2 output by 16.  Budget in
 * floats per thread for the transformed input and output of a block. */
#define WINO_BUDGET ((int64_t)1 << 20)
#define WINO_MIN_CH 16
/* below this many output pixels a 1x1 conv goes through the batching
 * tile path rather than one small sgemm per image */
#define DIRECT_1X1_MIN 256
/* oneDNN: a Conv whose image (input and output) takes at most this many
 * bytes runs the whole batch through its primitive at once, larger ones an
 * image at a time while it is in cache: the 28x28 Fashion-MNIST rows ran
 * 5-8% faster whole (BENCHMARKS.md, issue 16), 224x224 mobilenet_v2 the
 * same either way */
#define DNNL_BATCH_IMG ((int64_t)256 << 10)

enum { PATH_DW, PATH_1X1, PATH_COL, PATH_WINO, PATH_DNNL };

struct conv {
    int64_t n, c, h, w;         /* input; h = 1 for 1-D */
    int64_t m, g, cg, mg;       /* output channels, groups, per group */
    int64_t kh, kw, oh, ow;
    int64_t sh, sw, dh, dw, pt, pl;
    int64_t hw, ohw, k;         /* k = cg * kh * kw, rows of im2col */
    int path;
    int64_t tile;               /* columns per tile (Winograd: tiles per block) */
    int64_t nb;                 /* images per tile, 0 = tiles inside an image */
    int64_t items;              /* parallel work items */
    int nt;                     /* threads */
    int64_t tw, ntiles;         /* Winograd: 2x2 tiles per row, in all */
    int relu;                   /* fused activation (kargs.relu): 1 Relu, 2 Clip [lo, hi] */
    float lo, hi;
    int64_t pb, pr;             /* end pads (bottom, right) */
    struct csq_dnnl_conv *dnnl; /* PATH_DNNL: oneDNN's primitive, one image */
    int dnnl_act;               /* the activation (relu) oneDNN's primitive applies */
    int64_t nimg;               /* PATH_DNNL: images per primitive run (1 or n) */
};

static_assert(sizeof(struct conv) <= CSQ_OP_PLAN_BYTES, "conv plan too big");

/* y[r][0..cols) = max(y, 0) for rows of stride ld */
static void relu_block(float *y, int64_t rows, int64_t cols, int64_t ld)
{
    int64_t r, i;

    for (r = 0; r < rows; r++) {
        float *yr = y + r * ld;
#pragma omp simd
        for (i = 0; i < cols; i++)
            yr[i] = yr[i] < 0.0f ? 0.0f : yr[i];   /* NaN stays NaN */
    }
}

/* The fused activation of p on a block, while it is in cache. */
static void act_block(const struct conv *p, float *y, int64_t rows, int64_t cols, int64_t ld)
{
    int64_t r, i;

    if (p->relu != 2) {
        relu_block(y, rows, cols, ld);
        return;
    }
    for (r = 0; r < rows; r++) {
        float *yr = y + r * ld, lo = p->lo, hi = p->hi;

        /* min(max(x, lo), hi) as Clip computes it */
#pragma omp simd
        for (i = 0; i < cols; i++) {
            float v = yr[i] < lo ? lo : yr[i];

            yr[i] = v > hi ? hi : v;
        }
    }
}

static int nthreads(const struct csq_kargs *a)
{
    return a->nthreads > 0 ? a->nthreads : csq_ops_threads();
}

static int conv_check(const struct csq_kargs *a, struct conv *p)
{
    const struct csq_tensor *x = a->nin > 0 ? a->in[0] : NULL;
    const struct csq_tensor *wt = a->nin > 1 ? a->in[1] : NULL;
    const struct csq_tensor *b = a->nin > 2 ? a->in[2] : NULL;
    const int64_t *kshape;
    int64_t in_sp[2], k_sp[2];
    struct csq_win win;
    int nsp, rc, i;

    if (!x || !wt)
        return csq_fail(CSQ_EFORMAT, "node '%s' (Conv): needs inputs X and W", a->name);
    if (x->dtype != CSQ_DT_FLOAT || wt->dtype != CSQ_DT_FLOAT || (b && b->dtype != CSQ_DT_FLOAT))
        return csq_fail(CSQ_EUNSUPPORTED, "node '%s' (Conv): only float32 is supported",
                        a->name);
    if (x->rank != 3 && x->rank != 4)
        return csq_fail(CSQ_EUNSUPPORTED, "node '%s' (Conv): input of rank %d "
                        "(only 1-D and 2-D convolutions)", a->name, x->rank);
    if (wt->rank != x->rank)
        return csq_fail(CSQ_ESHAPE, "node '%s' (Conv): weight of rank %d for input of rank %d",
                        a->name, wt->rank, x->rank);
    nsp = x->rank - 2;
    memset(p, 0, sizeof *p);
    p->n = x->dims[0];
    p->c = x->dims[1];
    p->m = wt->dims[0];
    p->g = csq_node_int(a->node, "group", 1);
    if (p->g < 1 || p->c % p->g != 0 || p->m % p->g != 0)
        return csq_fail(CSQ_ESHAPE, "node '%s' (Conv): group %lld does not divide %lld input "
                        "and %lld output channels", a->name, (long long)p->g,
                        (long long)p->c, (long long)p->m);
    p->cg = p->c / p->g;
    p->mg = p->m / p->g;
    if (wt->dims[1] != p->cg)
        return csq_fail(CSQ_ESHAPE, "node '%s' (Conv): input has %lld channels, weight expects "
                        "%lld", a->name, (long long)p->c, (long long)(wt->dims[1] * p->g));
    if (b && (b->rank != 1 || b->dims[0] != p->m))
        return csq_fail(CSQ_ESHAPE, "node '%s' (Conv): bias must have %lld entries",
                        a->name, (long long)p->m);
    if ((rc = csq_op_win_ints(a, "Conv", "kernel_shape", nsp, &kshape)))
        return rc;
    for (i = 0; i < nsp; i++) {
        in_sp[i] = x->dims[2 + i];
        k_sp[i] = wt->dims[2 + i];
        if (kshape && kshape[i] != k_sp[i])
            return csq_fail(CSQ_ESHAPE, "node '%s' (Conv): kernel_shape does not match the "
                            "weight", a->name);
    }
    if (p->n < 0 || p->c < 1 || p->m < 1)
        return csq_fail(CSQ_ESHAPE, "node '%s' (Conv): empty input or weight", a->name);
    if ((rc = csq_op_win_parse(a, "Conv", nsp, in_sp, k_sp, 0, &win)))
        return rc;
    if (nsp == 1) {
        p->h = p->kh = p->oh = p->sh = p->dh = 1;
        p->pt = 0;
        p->w = win.in[0];
        p->kw = win.k[0];
        p->ow = win.out[0];
        p->sw = win.s[0];
        p->dw = win.d[0];
        p->pl = win.pb[0];
        p->pr = win.pe[0];
    } else {
        p->h = win.in[0];
        p->w = win.in[1];
        p->kh = win.k[0];
        p->kw = win.k[1];
        p->oh = win.out[0];
        p->ow = win.out[1];
        p->sh = win.s[0];
        p->sw = win.s[1];
        p->dh = win.d[0];
        p->dw = win.d[1];
        p->pt = win.pb[0];
        p->pl = win.pb[1];
        p->pb = win.pe[0];
        p->pr = win.pe[1];
    }
    p->hw = p->h * p->w;
    p->ohw = p->oh * p->ow;
    p->k = p->cg * p->kh * p->kw;
    return 0;
}

/* Chooses the path and the tiling; both run and scratch call it. */
static void conv_plan(const struct csq_kargs *a, struct conv *p)
{
    int64_t t;

    p->nt = nthreads(a);
    p->tile = p->nb = 0;
    if (p->g == p->c) {
        p->path = PATH_DW;
        p->items = p->n * p->m;
        return;
    }
    if (p->kh == 1 && p->kw == 1 && p->sh == 1 && p->sw == 1 && p->pt == 0 && p->pl == 0 &&
        p->oh == p->h && p->ow == p->w && p->ohw >= DIRECT_1X1_MIN) {
        p->path = PATH_1X1;
        p->items = p->n * p->g;
        return;
    }
    if (p->kh == 3 && p->kw == 3 && p->sh == 1 && p->sw == 1 && p->dh == 1 && p->dw == 1 &&
        p->g == 1 && p->c >= WINO_MIN_CH && p->m >= WINO_MIN_CH) {
        int64_t th = (p->oh + 1) / 2, per;

        p->path = PATH_WINO;
        p->tw = (p->ow + 1) / 2;
        p->ntiles = p->n * th * p->tw;
        t = WINO_BUDGET / (16 * (p->c + p->m));
        if (t < 16)
            t = 16;
        /* at least a few blocks per thread */
        per = (p->ntiles + 3 * p->nt - 1) / (3 * p->nt);
        if (t > per)
            t = per;
        if (t < 1)
            t = 1;
        p->tile = t;
        p->items = (p->ntiles + t - 1) / t;
        return;
    }
    p->path = PATH_COL;
    t = COL_BUDGET / p->k;
    /* narrower tiles would repack the weight too often per column */
    if (t < MIN_TILE)
        t = MIN_TILE;
    if (p->ohw * 2 > t || p->n <= 1) {
        int64_t per = (p->ohw + t - 1) / t;

        p->tile = (p->ohw + per - 1) / per;
        p->items = p->n * p->g * per;
    } else {
        /* several whole images per tile, but keep a few items per thread */
        int64_t nb = t / p->ohw, cap = p->n / (2 * p->nt);

        if (cap < 1)
            cap = 1;
        if (nb > cap)
            nb = cap;
        p->nb = nb;
        p->tile = nb * p->ohw;
        p->items = p->g * ((p->n + nb - 1) / nb);
    }
}

/* Floats of row buffers wino_block needs after its v and mb blocks. */
static int64_t wino_rows(const struct conv *p)
{
    return 16 * (2 * p->tw + 2);
}

/* oneDNN's run flags for the layouts the engine keeps in[0] and out[0] in */
static unsigned dnnl_flags(const struct csq_kargs *a)
{
    return (a->in_blk ? CSQ_DNNL_X_BLOCKED : 0) | (a->out_blk ? CSQ_DNNL_Y_BLOCKED : 0);
}

/* Scratch floats per thread (oneDNN: for images in the layouts fl says). */
static int64_t per_thread(const struct conv *p, unsigned fl)
{
    if (p->path == PATH_DNNL)
        return (int64_t)csq_dnnl_conv_scratch(p->dnnl, fl);
    if (p->path == PATH_WINO)
        return 16 * (p->c + p->m) * p->tile + wino_rows(p);
    if (p->path != PATH_COL)
        return 0;
    return p->k * p->tile + (p->nb ? p->mg * p->tile : 0);
}

int csq_op_conv_infer(struct csq_kargs *a)
{
    struct conv p;
    struct csq_tensor *y = a->out[0];
    int rc;

    if ((rc = conv_check(a, &p)))
        return rc;
    y->dtype = CSQ_DT_FLOAT;
    y->rank = a->in[0]->rank;
    y->dims[0] = p.n;
    y->dims[1] = p.m;
    if (y->rank == 3) {
        y->dims[2] = p.ow;
    } else {
        y->dims[2] = p.oh;
        y->dims[3] = p.ow;
    }
    return 0;
}

/* The plan of *a: the engine's, or checked and made here. */
static int get_plan(const struct csq_kargs *a, struct conv *p)
{
    int rc;

    if (a->plan) {
        *p = *(const struct conv *)a->plan;
        return 0;
    }
    if ((rc = conv_check(a, p)))
        return rc;
    conv_plan(a, p);
    return 0;
}

/* oneDNN's primitive for *p, when it has one: every 2-D or 1-D float
 * Conv the adapter accepts (measured in BENCHMARKS.md, issue 16). */
static int dnnl_plan(const struct csq_kargs *a, struct conv *p)
{
    struct csq_dnnl_geom g;

    g.c = p->c;
    g.m = p->m;
    g.g = p->g;
    g.h = p->h;
    g.w = p->w;
    g.oh = p->oh;
    g.ow = p->ow;
    g.kh = p->kh;
    g.kw = p->kw;
    g.sh = p->sh;
    g.sw = p->sw;
    g.dh = p->dh;
    g.dw = p->dw;
    g.pt = p->pt;
    g.pl = p->pl;
    g.pb = p->pb;
    g.pr = p->pr;
    g.bias = a->nin > 2 && a->in[2];
    /* small images: the whole batch per run (the per-run overhead is
     * then paid once, not per image) */
    g.n = (p->c * p->hw + p->m * p->ohw) * (int64_t)sizeof(float) <= DNNL_BATCH_IMG ? p->n : 1;
    g.act = a->relu;
    /* measured (BENCHMARKS.md, issue 16): oneDNN's nChw16c kernels run
     * mobilenet_v2 1.3x faster than brgconv's NHWC, but resnet18 0.9x */
    g.prefer16 = a->grouped_net;
    g.lo = a->lo;
    g.hi = a->hi;
    if (p->n < 1)
        return 0;
    if (csq_dnnl_conv_new(&g, p->nt, &p->dnnl) != 0)
        return csq_fail(CSQ_ENOMEM, "node '%s' (Conv): out of memory for oneDNN's primitive",
                        a->name);
    if (p->dnnl) {
        p->dnnl_act = g.act;
        p->path = PATH_DNNL;
        p->nimg = g.n;
        p->items = p->n / g.n;
        p->tile = p->nb = 0;
    }
    return 0;
}

int csq_op_conv_plan(const struct csq_kargs *a, void *plan)
{
    struct conv *p = plan;
    int rc;

    if ((rc = get_plan(a, p)))
        return rc;
    return dnnl_plan(a, p);
}

void csq_op_conv_release(void *plan)
{
    struct conv *p = plan;

    if (p->path == PATH_DNNL)
        csq_dnnl_conv_free(p->dnnl);
    p->dnnl = NULL;
}

size_t csq_op_conv_scratch(const struct csq_kargs *a)
{
    struct conv p;

    if (get_plan(a, &p))
        return 0;
    if (p.path == PATH_DNNL && !a->packed)
        conv_plan(a, &p);       /* a weight known only at run: own paths */
    /* a whole batch runs once, on oneDNN's threads: one slot */
    return (size_t)(per_thread(&p, dnnl_flags(a)) *
                    (p.path == PATH_DNNL && p.items == 1 ? 1 : p.nt) +
                    (p.path == PATH_WINO && !a->packed ? 16 * p.m * p.c : 0));
}

/* The public geometry of a checked conv (nn/im2col.h). */
static void to_geom(const struct conv *p, struct csq_im2col *g)
{
    g->c = p->c;
    g->m = p->m;
    g->groups = p->g;
    g->cg = p->cg;
    g->mg = p->mg;
    g->h = p->h;
    g->w = p->w;
    g->oh = p->oh;
    g->ow = p->ow;
    g->kh = p->kh;
    g->kw = p->kw;
    g->sh = p->sh;
    g->sw = p->sw;
    g->dh = p->dh;
    g->dw = p->dw;
    g->pt = p->pt;
    g->pl = p->pl;
    g->k = p->k;
}

int csq_im2col_init(struct csq_im2col *g, const struct csq_node *node,
                    const struct csq_tensor *x, const struct csq_tensor *w)
{
    const struct csq_tensor *in[2] = {x, w};
    struct csq_kargs a;
    struct conv p;
    int rc;

    memset(&a, 0, sizeof a);
    a.node = node;
    a.name = node->name;
    a.nin = 2;
    a.in = in;
    if ((rc = conv_check(&a, &p)))
        return rc;
    to_geom(&p, g);
    return 0;
}

void csq_im2col_fill(const struct csq_im2col *p, const float *x, int64_t p0, int64_t len,
                     float *col, int64_t ld)
{
    int64_t hw = p->h * p->w;
    int64_t ci, ki, kj, t;
    float *dst = col;

    for (ci = 0; ci < p->cg; ci++) {
        const float *xc = x + ci * hw;

        for (ki = 0; ki < p->kh; ki++) {
            for (kj = 0; kj < p->kw; kj++, dst += ld) {
                int64_t j = 0, oh = p0 / p->ow, ow = p0 % p->ow;
                int64_t base = kj * p->dw - p->pl, flo, fhi;

                /* valid columns of a whole output row, the common case */
                csq_kern_valid_range(p->ow, p->sw, base, p->w, &flo, &fhi);
                for (; j < len; j += p->ow - ow, ow = 0, oh++) {
                    int64_t n = p->ow - ow < len - j ? p->ow - ow : len - j;
                    int64_t ih = oh * p->sh - p->pt + ki * p->dh;
                    int64_t off = ow * p->sw + base, lo = flo, hi = fhi;
                    float *restrict d = dst + j;
                    const float *restrict xs;

                    if (ih < 0 || ih >= p->h) {
                        memset(d, 0, (size_t)n * sizeof *d);
                        continue;
                    }
                    if (ow != 0 || n != p->ow)
                        csq_kern_valid_range(n, p->sw, off, p->w, &lo, &hi);
                    xs = xc + ih * p->w + off;
                    for (t = 0; t < lo; t++)
                        d[t] = 0.0f;
                    if (p->sw == 1) {
                        memcpy(d + lo, xs + lo, (size_t)(hi - lo) * sizeof *d);
                    } else if (p->sw == 2) {
#pragma omp simd
                        for (t = lo; t < hi; t++)
                            d[t] = xs[2 * t];
                    } else {
                        for (t = lo; t < hi; t++)
                            d[t] = xs[t * p->sw];
                    }
                    for (t = hi; t < n; t++)
                        d[t] = 0.0f;
                }
            }
        }
    }
}

/* Columns [p0, p0 + len) of the im2col matrix of one image and group (x
 * at its first channel) into col, rows ld floats apart. */
static void im2col(const struct conv *p, const float *x, int64_t p0, int64_t len,
                   float *col, int64_t ld)
{
    struct csq_im2col g;

    to_geom(p, &g);
    csq_im2col_fill(&g, x, p0, len, col, ld);
}

/* Rows of y start as their bias, so sgemm accumulates onto it (beta 1):
 * one pass instead of OpenBLAS zeroing C plus a bias pass.  0 = no bias,
 * sgemm's beta then is 0. */
static float fill_bias(float *y, const float *b, int64_t rows, int64_t cols, int64_t ld)
{
    int64_t r, j;

    if (!b)
        return 0.0f;
    for (r = 0; r < rows; r++) {
        float *yr = y + r * ld, v = b[r];

#pragma omp simd
        for (j = 0; j < cols; j++)
            yr[j] = v;
    }
    return 1.0f;
}

/* One output plane of a depthwise conv: input plane x, kernel w.  Cloned
 * for AVX2 (picked at load time): 1.3-1.5x on MobileNet planes, while the
 * default build targets baseline x86-64. */
#if defined(__GNUC__) && defined(__x86_64__) && !defined(__clang__)
__attribute__((target_clones("avx2", "default")))
#endif
static void dw_plane(const struct conv *p, const float *restrict x, const float *restrict w,
                     float bias, float *restrict y)
{
    int64_t oh, ki, kj, t;

    for (oh = 0; oh < p->oh; oh++) {
        float *restrict yr = y + oh * p->ow;

        for (t = 0; t < p->ow; t++)
            yr[t] = bias;
        for (ki = 0; ki < p->kh; ki++) {
            int64_t ih = oh * p->sh - p->pt + ki * p->dh;
            const float *restrict xr;

            if (ih < 0 || ih >= p->h)
                continue;
            xr = x + ih * p->w;
            for (kj = 0; kj < p->kw; kj++) {
                int64_t off = kj * p->dw - p->pl, lo, hi;
                float v = w[ki * p->kw + kj];

                csq_kern_valid_range(p->ow, p->sw, off, p->w, &lo, &hi);
                if (p->sw == 1) {
                    const float *restrict xs = xr + off;

#pragma omp simd
                    for (t = lo; t < hi; t++)
                        yr[t] += v * xs[t];
                } else if (p->sw == 2) {
                    const float *restrict xs = xr + off;

#pragma omp simd
                    for (t = lo; t < hi; t++)
                        yr[t] += v * xs[2 * t];
                } else {
                    for (t = lo; t < hi; t++)
                        yr[t] += v * xr[off + t * p->sw];
                }
            }
        }
    }
}


/* U[xi][m][c] = (G g G^T)[xi] for every 3x3 kernel g; rows m0 <= m < m1. */
static void wino_weights(const struct conv *p, const float *w, float *u, int64_t m0, int64_t m1)
{
    int64_t mi, ci, mc = p->m * p->c;
    int i;

    for (mi = m0; mi < m1; mi++) {
        for (ci = 0; ci < p->c; ci++) {
            const float *g = w + (mi * p->c + ci) * 9;
            float t[4][3], r;

            for (i = 0; i < 3; i++) {
                t[0][i] = g[i];
                t[1][i] = 0.5f * (g[i] + g[3 + i] + g[6 + i]);
                t[2][i] = 0.5f * (g[i] - g[3 + i] + g[6 + i]);
                t[3][i] = g[6 + i];
            }
            for (i = 0; i < 4; i++) {
                float *ui = u + (int64_t)(i * 4) * mc + mi * p->c + ci;

                ui[0] = t[i][0];
                r = 0.5f * (t[i][0] + t[i][1] + t[i][2]);
                ui[mc] = r;
                r = 0.5f * (t[i][0] - t[i][1] + t[i][2]);
                ui[2 * mc] = r;
                ui[3 * mc] = t[i][2];
            }
        }
    }
}

size_t csq_op_conv_packed(const struct csq_kargs *a)
{
    struct conv p;

    if (get_plan(a, &p))
        return 0;
    if (p.path == PATH_DNNL)
        return csq_dnnl_conv_packed(p.dnnl);
    if (p.path != PATH_WINO)
        return 0;
    return (size_t)(16 * p.m * p.c);
}

static void wino_all(const struct conv *p, const float *w, float *u)
{
    int64_t m;

#pragma omp parallel for num_threads(p->nt) schedule(static)
    for (m = 0; m < p->m; m++)
        wino_weights(p, w, u, m, m + 1);
}

void csq_op_conv_pack(const struct csq_kargs *a, float *dst)
{
    struct conv p;

    if (get_plan(a, &p))
        return;
    if (p.path == PATH_DNNL)
        csq_dnnl_conv_pack(p.dnnl, a->in[1]->data, dst);
    else if (p.path == PATH_WINO)
        wino_all(&p, a->in[1]->data, dst);
}

/* v[i][t] for tiles t in [t0, t1) from the row r of B^T d (row i of
 * B^T d B), v rows ct floats apart. */
static void wino_in_row(const float *restrict r, float *restrict v, int64_t ct, int64_t t0,
                        int64_t t1)
{
    int64_t t;

#pragma omp simd
    for (t = t0; t < t1; t++)
        v[t] = r[2 * t] - r[2 * t + 2];
#pragma omp simd
    for (t = t0; t < t1; t++)
        v[ct + t] = r[2 * t + 1] + r[2 * t + 2];
#pragma omp simd
    for (t = t0; t < t1; t++)
        v[2 * ct + t] = r[2 * t + 2] - r[2 * t + 1];
#pragma omp simd
    for (t = t0; t < t1; t++)
        v[3 * ct + t] = r[2 * t + 1] - r[2 * t + 3];
}

/* Tiles [q0, q0 + cnt) of the whole batch, in row-major tile order:
 * input transform into v (16 x C x cnt), 16 sgemms into mb (16 x M x cnt),
 * output transform.  Both transforms run along a row of tiles on
 * zero-padded row buffers, as whole-row loops that vectorize. */
static void wino_block(const struct conv *p, const float *x, const float *u, const float *b,
                       float *y, float *v, int64_t q0, int64_t cnt)
{
    int64_t ct = p->c * cnt, mt = p->m * cnt, th = (p->oh + 1) / 2, per_img = th * p->tw;
    int64_t ci, mi, q, wp = 2 * p->tw + 2, k;
    float *mb = v + 16 * ct, *rows = mb + 16 * mt;
    int xi, i, j;

    for (ci = 0; ci < p->c; ci++) {
        for (q = 0; q < cnt;) {
            int64_t gq = q0 + q, n = gq / per_img, ti = gq % per_img / p->tw;
            int64_t tj0 = gq % p->tw, tj1 = p->tw - tj0 < cnt - q ? p->tw : tj0 + cnt - q;
            const float *xc = x + (n * p->c + ci) * p->hw;
            float *restrict d[4], *restrict r[4];

            for (i = 0; i < 4; i++) {
                int64_t ih = ti * 2 - p->pt + i, lo = p->pl;
                int64_t hi = p->w + p->pl < wp ? p->w + p->pl : wp;

                d[i] = rows + i * wp;
                r[i] = rows + (4 + i) * wp;
                /* buffer column c holds input column c - pl */
                memset(d[i], 0, (size_t)wp * sizeof *d[i]);
                if (ih >= 0 && ih < p->h && hi > lo)
                    memcpy(d[i] + lo, xc + ih * p->w, (size_t)(hi - lo) * sizeof *d[i]);
            }
            /* B^T d: row combinations */
#pragma omp simd
            for (k = 0; k < wp; k++) {
                r[0][k] = d[0][k] - d[2][k];
                r[1][k] = d[1][k] + d[2][k];
                r[2][k] = d[2][k] - d[1][k];
                r[3][k] = d[1][k] - d[3][k];
            }
            for (i = 0; i < 4; i++)
                wino_in_row(r[i], v + (int64_t)(i * 4) * ct + ci * cnt + q - tj0, ct, tj0, tj1);
            q += tj1 - tj0;
        }
    }
    for (xi = 0; xi < 16; xi++)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)p->m, (int)cnt, (int)p->c,
                    1.0f, u + xi * p->m * p->c, (int)p->c, v + xi * ct, (int)cnt, 0.0f,
                    mb + xi * mt, (int)cnt);
    for (mi = 0; mi < p->m; mi++) {
        float bias = b ? b[mi] : 0.0f;

        for (q = 0; q < cnt;) {
            int64_t gq = q0 + q, n = gq / per_img, ti = gq % per_img / p->tw;
            int64_t tj0 = gq % p->tw, tj1 = p->tw - tj0 < cnt - q ? p->tw : tj0 + cnt - q;
            const float *mo = mb + mi * cnt + q - tj0;
            float *restrict o0 = rows, *restrict o1 = rows + wp, *restrict s0[4], *restrict s1[4];
            float *yo = y + (n * p->m + mi) * p->ohw + ti * 2 * p->ow;
            int64_t c0 = 2 * tj0, c1 = 2 * tj1 < p->ow ? 2 * tj1 : p->ow, t;

            /* A^T m: row combinations, per column j of the 4x4 tile */
            for (j = 0; j < 4; j++) {
                const float *m0 = mo + j * mt, *m1 = m0 + 4 * mt, *m2 = m1 + 4 * mt;
                const float *m3 = m2 + 4 * mt;

                s0[j] = rows + (2 + j) * wp;
                s1[j] = rows + (6 + j) * wp;
#pragma omp simd
                for (t = tj0; t < tj1; t++) {
                    s0[j][t] = m0[t] + m1[t] + m2[t];
                    s1[j][t] = m1[t] - m2[t] - m3[t];
                }
            }
            /* (A^T m) A, interleaved into the two output rows */
#pragma omp simd
            for (t = tj0; t < tj1; t++) {
                o0[2 * t] = s0[0][t] + s0[1][t] + s0[2][t] + bias;
                o0[2 * t + 1] = s0[1][t] - s0[2][t] - s0[3][t] + bias;
                o1[2 * t] = s1[0][t] + s1[1][t] + s1[2][t] + bias;
                o1[2 * t + 1] = s1[1][t] - s1[2][t] - s1[3][t] + bias;
            }
            if (p->relu) {
                act_block(p, o0 + c0, 1, c1 - c0, 0);
                act_block(p, o1 + c0, 1, c1 - c0, 0);
            }
            memcpy(yo + c0, o0 + c0, (size_t)(c1 - c0) * sizeof *yo);
            if (ti * 2 + 1 < p->oh)
                memcpy(yo + p->ow + c0, o1 + c0, (size_t)(c1 - c0) * sizeof *yo);
            q += tj1 - tj0;
        }
    }
}

static void run_item(const struct conv *p, const float *x, const float *w, const float *b,
                     float *y, float *buf, int64_t it)
{
    if (p->path == PATH_WINO) {
        int64_t q0 = it * p->tile;

        wino_block(p, x, w, b, y, buf, q0, p->ntiles - q0 < p->tile ? p->ntiles - q0 : p->tile);
    } else if (p->path == PATH_DW) {
        int64_t n = it / p->m, m = it % p->m, ci = m / p->mg;

        dw_plane(p, x + (n * p->c + ci) * p->hw, w + m * p->kh * p->kw, b ? b[m] : 0.0f,
                 y + (n * p->m + m) * p->ohw);
        if (p->relu)
            act_block(p, y + (n * p->m + m) * p->ohw, 1, p->ohw, 0);
    } else if (p->path == PATH_1X1) {
        int64_t n = it / p->g, g = it % p->g;
        float *yo = y + (n * p->m + g * p->mg) * p->ohw;
        float beta = fill_bias(yo, b ? b + g * p->mg : NULL, p->mg, p->ohw, p->ohw);

        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)p->mg, (int)p->ohw,
                    (int)p->cg, 1.0f, w + g * p->mg * p->k, (int)p->k,
                    x + (n * p->c + g * p->cg) * p->hw, (int)p->hw, beta, yo, (int)p->ohw);
        if (p->relu)
            act_block(p, yo, 1, p->mg * p->ohw, 0);
    } else if (!p->nb) {
        int64_t per = (p->ohw + p->tile - 1) / p->tile;
        int64_t t = it % per, ng = it / per, n = ng / p->g, g = ng % p->g;
        int64_t p0 = t * p->tile, len = p->ohw - p0 < p->tile ? p->ohw - p0 : p->tile;
        float *yo = y + (n * p->m + g * p->mg) * p->ohw + p0;
        float beta = fill_bias(yo, b ? b + g * p->mg : NULL, p->mg, len, p->ohw);

        im2col(p, x + (n * p->c + g * p->cg) * p->hw, p0, len, buf, len);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)p->mg, (int)len,
                    (int)p->k, 1.0f, w + g * p->mg * p->k, (int)p->k, buf, (int)len,
                    beta, yo, (int)p->ohw);
        if (p->relu)
            act_block(p, yo, p->mg, len, p->ohw);
    } else {
        int64_t blocks = (p->n + p->nb - 1) / p->nb;
        int64_t g = it / blocks, n0 = (it % blocks) * p->nb;
        int64_t cnt = p->n - n0 < p->nb ? p->n - n0 : p->nb, len = cnt * p->ohw, i, r;
        float *tmp = buf + p->k * p->tile;
        float beta = fill_bias(tmp, b ? b + g * p->mg : NULL, p->mg, len, len);

        for (i = 0; i < cnt; i++)
            im2col(p, x + ((n0 + i) * p->c + g * p->cg) * p->hw, 0, p->ohw,
                   buf + i * p->ohw, len);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)p->mg, (int)len,
                    (int)p->k, 1.0f, w + g * p->mg * p->k, (int)p->k, buf, (int)len,
                    beta, tmp, (int)len);
        if (p->relu)
            act_block(p, tmp, 1, p->mg * len, 0);
        for (i = 0; i < cnt; i++) {
            float *yo = y + ((n0 + i) * p->m + g * p->mg) * p->ohw;

            for (r = 0; r < p->mg; r++)
                memcpy(yo + r * p->ohw, tmp + r * len + i * p->ohw,
                       (size_t)p->ohw * sizeof *yo);
        }
    }
}

/* floats of one image of c channels of hw pixels in layout blk (ops.h) */
static int64_t img_floats(int64_t c, int64_t hw, int blk)
{
    return (blk > 1 ? (c + blk - 1) / blk * blk : c) * hw;
}

/* Images through oneDNN: one at a time on all threads (batch 1), or one
 * image per thread in a loop over the batch.  Images in the primitive's
 * own layouts (the engine's in_blk / out_blk: NHWC, nChw16c ...) skip the
 * reorders; the fused activation, element-wise, then runs on that layout
 * and on a blocked layout's padding, whose zeros Relu keeps (a Clip may
 * not: the padding need only be finite, as the next convolution weighs
 * it by 0). */
static int dnnl_run(const struct conv *p, const struct csq_kargs *a, const float *x,
                    const float *w, const float *b, float *y, float *scratch)
{
    unsigned fl = dnnl_flags(a);
    int64_t per = per_thread(p, fl), it;
    int64_t xs = img_floats(p->c, p->hw, a->in_blk) * p->nimg;
    int64_t ys = img_floats(p->m, p->ohw, a->out_blk) * p->nimg;
    int now = csq_ops_threads_now(), all = p->nt < now ? p->nt : now;
    int nt = p->items < all ? (int)p->items : all, rc = 0;

    if (nt <= 1) {
        for (it = 0; it < p->items && !rc; it++) {
            float *yo = y + it * ys;

            rc = csq_dnnl_conv_run(p->dnnl, 0, x + it * xs, w, b, yo, scratch, all, fl,
                                   a->sum ? a->sum + it * ys : NULL);
            if (p->relu && !p->dnnl_act && !a->sum)
                act_block(p, yo, 1, ys, 0);
            if (a->silu)
                csq_op_silu(yo, ys, all);       /* a blocked padding too: it stays 0 */
        }
    } else {
#pragma omp parallel for num_threads(nt) schedule(dynamic, 1) reduction(| : rc)
        for (it = 0; it < p->items; it++) {
            int tid = omp_get_thread_num();
            float *yo = y + it * ys;

            rc |= csq_dnnl_conv_run(p->dnnl, tid, x + it * xs, w, b, yo, scratch + per * tid,
                                    1, fl, a->sum ? a->sum + it * ys : NULL);
            if (p->relu && !p->dnnl_act && !a->sum)
                act_block(p, yo, 1, ys, 0);
            if (a->silu)
                csq_op_silu(yo, ys, 1);         /* the image this thread just wrote */
        }
    }
    if (rc)
        return csq_fail(CSQ_EUNSUPPORTED, "node '%s' (Conv): oneDNN failed", a->name);
    return 0;
}

int csq_op_conv_fuse_add(void *plan, int act, float lo, float hi)
{
    struct conv *p = plan;

    return p->path == PATH_DNNL && !p->dnnl_act && csq_dnnl_conv_add(p->dnnl, act, lo, hi);
}

int csq_op_conv_fuse_silu(void *plan)
{
    struct conv *p = plan;

    return p->path == PATH_DNNL && !p->dnnl_act;
}

void csq_op_conv_blocks(const struct csq_kargs *a, int *in_blk, int *out_blk)
{
    const struct conv *p = a->plan;

    *in_blk = *out_blk = 0;
    /* only oneDNN's path (which needs the packed weights) reads blocks */
    if (p && p->path == PATH_DNNL && a->packed)
        csq_dnnl_conv_blocks(p->dnnl, in_blk, out_blk);
}

int csq_op_conv_run(struct csq_kargs *a)
{
    struct conv p;
    const float *x, *w, *b;
    float *y, *scratch = a->scratch;
    int64_t it, per;
    int rc, nt, blas;

    if ((rc = get_plan(a, &p)))
        return rc;
    p.relu = a->relu;
    p.lo = a->lo;
    p.hi = a->hi;
    x = a->in[0]->data;
    w = a->in[1]->data;
    b = a->nin > 2 && a->in[2] ? a->in[2]->data : NULL;
    y = a->out[0]->data;
    if (p.items == 0)
        return 0;
    /* the engine plans for the activation it asks for (plan_relu) */
    if (p.path == PATH_DNNL && p.dnnl_act && p.dnnl_act != a->relu)
        return csq_fail(CSQ_EINVAL, "node '%s' (Conv): planned with another activation",
                        a->name);
    if (p.path == PATH_DNNL && a->packed)
        return dnnl_run(&p, a, x, a->packed, b, y, scratch);
    if (a->sum || a->silu)
        return csq_fail(CSQ_EINVAL, "node '%s' (Conv): an Add or SiLU fused without oneDNN",
                        a->name);
    if (p.path == PATH_DNNL)
        conv_plan(a, &p);
    per = per_thread(&p, 0);
    nt = p.items < p.nt ? (int)p.items : p.nt;
    if (p.path == PATH_WINO && a->packed) {
        w = a->packed;              /* items see the transformed weights as w */
    } else if (p.path == PATH_WINO) {
        /* not packed: the transformed weights lead the scratch */
        wino_all(&p, w, a->scratch);
        w = a->scratch;
        scratch = a->scratch + 16 * p.m * p.c;
    }
    blas = p.path == PATH_DW ? 0 : openblas_get_num_threads();
    if (nt <= 1) {
        /* one item (or one thread): sgemm gets all the node's threads */
        if (blas && blas != p.nt)
            openblas_set_num_threads(p.nt);
        for (it = 0; it < p.items; it++)
            run_item(&p, x, w, b, y, scratch, it);
        if (blas && blas != p.nt)
            openblas_set_num_threads(blas);
        return 0;
    }
    if (blas)
        openblas_set_num_threads(1);
#pragma omp parallel for num_threads(nt) schedule(dynamic, 1)
    for (it = 0; it < p.items; it++)
        run_item(&p, x, w, b, y, scratch ? scratch + per * omp_get_thread_num() : NULL, it);
    if (blas)
        openblas_set_num_threads(blas);
    return 0;
}
