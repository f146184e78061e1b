/*
 * hessian: per-group sums of x x^T over a layer's input patches (DESIGN §7):
 * float products (cblas_ssyrk, or dot products for small patches) summed
 * into double; the contract is in hessian.h.
 */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cblas.h>
#include <omp.h>

#include "mpq/hessian.h"
#include "util/err.h"
#include "util/limits.h"
#include "util/mem.h"

/* The products are float (ssyrk: twice dsyrk's throughput, products and
 * sums rounded to float), and each float block is added into the double H
 * after at most FOLD_COLS columns and at the end of every call, so float
 * sums never run over more than that.  The column buffer holds COL_FLOATS
 * floats, 64..CHUNK_MAX columns; one workspace (the buffer and a K x K
 * float block) serves every layer of a pass. */
#define COL_FLOATS ((int64_t)1 << 21)
#define CHUNK_MIN 64
#define CHUNK_MAX 8192
#define FOLD_COLS ((int64_t)1 << 14)
/* Patches of at most SMALL_K values (depthwise 3x3: 9) skip BLAS, whose
 * calls cost more than 45 dot products, and sum straight into double. */
#define SMALL_K 16
/* Their columns per run: 9 rows of them stay in L2. */
#define SMALL_CHUNK 4096
/* Floats of im2col above which its channels run in threads. */
#define PAR_FILL ((int64_t)1 << 15)

struct csq_hessian_ws {
    int64_t kmax;
    size_t ncol;                /* floats of col */
    int nthr;                   /* threads with a slice of col for small patches */
    float *col;                 /* (k, chunk(k)) for any k <= kmax, and nthr slices
                                 * of (SMALL_K, SMALL_CHUNK) */
    float *f;                   /* (kmax^2) float block, when kmax > SMALL_K */
};

struct csq_hessian {
    int64_t groups, k;
    int64_t samples;            /* positions kept per image and group, 0 = all */
    uint64_t seed;
    int finished;
    double *h;                  /* (groups, k, k); upper triangle until finish */
    int64_t *n;                 /* (groups) patches added */
    int64_t chunk;              /* columns of the buffer */
    int64_t pending;            /* columns in ws->f not yet in h */
    struct csq_hessian_ws *ws;  /* borrowed (csq_hessian_use) or own */
    int own_ws;
    int64_t *pick;              /* (images of a call, samples + 1) picked positions */
    int64_t npick;              /* room in pick */
};

static int64_t chunk_cols(int64_t k)
{
    int64_t c = COL_FLOATS / (k > 0 ? k : 1);

    if (k <= SMALL_K)
        return SMALL_CHUNK;
    return c < CHUNK_MIN ? CHUNK_MIN : c > CHUNK_MAX ? CHUNK_MAX : c;
}

/* Floats of a workspace for patches of up to kmax values; -1 on overflow. */
static int ws_floats(int64_t kmax, size_t *col, size_t *f)
{
    size_t kk, small = (size_t)omp_get_max_threads() * SMALL_K * SMALL_CHUNK;

    if (kmax < 1 || csq_mem_mul((size_t)kmax, (size_t)chunk_cols(kmax), col) ||
        csq_mem_mul((size_t)kmax, (size_t)kmax, &kk))
        return -1;
    if (*col < small)
        *col = small;
    /* chunk_cols(k) k only grows with k (the clamps keep it monotone); the
     * small patches of a depthwise layer take a slice per thread */
    *f = kmax > SMALL_K ? kk : 0;
    return 0;
}

int csq_hessian_ws_bytes(int64_t kmax, size_t *bytes)
{
    size_t col, f;

    if (ws_floats(kmax, &col, &f) || col + f < col || (col + f) > SIZE_MAX / sizeof(float))
        return csq_fail(CSQ_ENOMEM, "hessian: a workspace for patches of %lld overflows",
                        (long long)kmax);
    *bytes = (col + f) * sizeof(float);
    return CSQ_OK;
}

struct csq_hessian_ws *csq_hessian_ws_new(int64_t kmax)
{
    struct csq_hessian_ws *w;
    size_t col, f;

    if (ws_floats(kmax, &col, &f) || !(w = csq_mem_zarray(1, sizeof *w)))
        return NULL;
    w->kmax = kmax;
    w->ncol = col;
    w->nthr = omp_get_max_threads();
    w->col = csq_mem_array(col, sizeof *w->col);
    w->f = f ? csq_mem_array(f, sizeof *w->f) : NULL;
    if (!w->col || (f && !w->f)) {
        csq_hessian_ws_free(w);
        return NULL;
    }
    return w;
}

void csq_hessian_ws_free(struct csq_hessian_ws *w)
{
    if (!w)
        return;
    free(w->col);
    free(w->f);
    free(w);
}

/* Bytes of the matrices alone. */
static int h_bytes(int64_t groups, int64_t k, size_t *bytes)
{
    size_t kk;

    if (groups < 1 || k < 1)
        return csq_fail(CSQ_EINVAL, "hessian: bad shape %lld groups of %lld",
                        (long long)groups, (long long)k);
    if (csq_mem_mul((size_t)k, (size_t)k, &kk) || csq_mem_mul(kk, (size_t)groups, bytes) ||
        csq_mem_mul(*bytes, sizeof(double), bytes))
        return csq_fail(CSQ_ENOMEM, "hessian: %lld groups of %lld x %lld doubles overflow",
                        (long long)groups, (long long)k, (long long)k);
    return CSQ_OK;
}

int csq_hessian_bytes(int64_t groups, int64_t k, size_t *bytes)
{
    size_t hb, wb;
    int rc;

    if ((rc = h_bytes(groups, k, &hb)) || (rc = csq_hessian_ws_bytes(k, &wb)))
        return rc;
    if (hb + wb < hb)
        return csq_fail(CSQ_ENOMEM, "hessian: %lld groups of %lld x %lld doubles overflow",
                        (long long)groups, (long long)k, (long long)k);
    *bytes = hb + wb;
    return CSQ_OK;
}

int csq_hessian_layer_shape(const struct csq_graph *g, int layer, int64_t *groups, int64_t *k)
{
    const struct csq_layer *ly = &g->layers[layer];
    const struct csq_node *n = &g->nodes[ly->node];
    const struct csq_tensor *w = &g->vals[ly->weight].t;

    if (strcmp(n->op_type, "Conv") == 0) {
        int64_t numel = csq_tensor_numel(w);
        *groups = csq_node_int(n, "group", 1);
        *k = w->rank > 0 && w->dims[0] > 0 ? numel / w->dims[0] : 0;
        return CSQ_OK;
    }
    if (w->rank != 2)
        return csq_fail(CSQ_EUNSUPPORTED, "layer '%s': statistics of a %d-D %s weight",
                        ly->name, w->rank, n->op_type);
    *groups = 1;
    if (strcmp(n->op_type, "Gemm") == 0)
        *k = csq_node_int(n, "transB", 0) ? w->dims[1] : w->dims[0];
    else /* MatMul x @ W, or W @ x with W the first input */
        *k = n->nin > 1 && n->in[1] == ly->weight ? w->dims[0] : w->dims[1];
    return CSQ_OK;
}

int csq_hessian_plan(const struct csq_graph *g, size_t *bytes)
{
    return csq_hessian_plan_layers(g, NULL, bytes);
}

int csq_hessian_plan_layers(const struct csq_graph *g, const int *want, size_t *bytes)
{
    size_t total = 0, big = 0, b;
    int64_t kmax = 0;
    int l, rc, bigl = -1;

    for (l = 0; l < g->nlayers; l++) {
        int64_t groups, k;

        if (want && !want[l])
            continue;
        if ((rc = csq_hessian_layer_shape(g, l, &groups, &k)) || (rc = h_bytes(groups, k, &b)))
            return rc;
        if (total + b < total)
            return csq_fail(CSQ_ENOMEM, "'%s': layer statistics overflow size_t", g->path);
        total += b;
        kmax = k > kmax ? k : kmax;
        if (b > big) {
            big = b;
            bigl = l;
        }
    }
    /* one workspace for the pass, sized for the largest patch */
    if (kmax > 0) {
        if ((rc = csq_hessian_ws_bytes(kmax, &b)) != 0)
            return rc;
        if (total + b < total)
            return csq_fail(CSQ_ENOMEM, "'%s': layer statistics overflow size_t", g->path);
        total += b;
    }
    *bytes = total;
    if (total > csq_limit_memory())
        return csq_fail(CSQ_ELIMIT, "'%s': layer statistics need %.1f MiB (largest '%s' "
                        "%.1f MiB), over the memory limit of %.1f MiB",
                        g->path ? g->path : "model", total / 1048576.0,
                        bigl >= 0 ? g->layers[bigl].name : "", big / 1048576.0,
                        csq_limit_memory() / 1048576.0);
    return CSQ_OK;
}

struct csq_hessian *csq_hessian_new(int64_t groups, int64_t k, int64_t samples, uint64_t seed)
{
    struct csq_hessian *h;
    size_t bytes;

    if (csq_hessian_bytes(groups, k, &bytes))
        return NULL;
    h = csq_mem_zarray(1, sizeof *h);
    if (!h)
        return NULL;
    h->groups = groups;
    h->k = k;
    h->samples = samples > 0 ? samples : 0;
    h->seed = seed;
    h->chunk = chunk_cols(k);
    h->h = csq_mem_zarray((size_t)groups * (size_t)k, (size_t)k * sizeof *h->h);
    h->n = csq_mem_zarray((size_t)groups, sizeof *h->n);
    if (!h->h || !h->n) {
        csq_hessian_free(h);
        return NULL;
    }
    return h;
}

int csq_hessian_use(struct csq_hessian *h, struct csq_hessian_ws *ws)
{
    if (ws->kmax < h->k)
        return csq_fail(CSQ_EINVAL, "hessian: a workspace for patches of %lld used for %lld",
                        (long long)ws->kmax, (long long)h->k);
    if (h->own_ws)
        csq_hessian_ws_free(h->ws);
    h->ws = ws;
    h->own_ws = 0;
    return CSQ_OK;
}

void csq_hessian_free(struct csq_hessian *h)
{
    if (!h)
        return;
    free(h->h);
    free(h->n);
    if (h->own_ws)
        csq_hessian_ws_free(h->ws);
    free(h->pick);
    free(h);
}

/* --- subsampling --- */

static uint64_t splitmix(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

int64_t csq_hessian_pick(uint64_t seed, int64_t image, int64_t npos, int64_t nsamp,
                         int64_t *idx)
{
    uint64_t s = seed ^ ((uint64_t)image * 0xd1b54a32d192ed03ull);
    int64_t t, m = 0;

    if (nsamp <= 0 || nsamp >= npos) {
        for (t = 0; t < npos; t++)
            idx[t] = t;
        return npos;
    }
    /* Knuth's selection sampling (Algorithm S): one pass, sorted output,
     * every nsamp-subset equally likely */
    for (t = 0; t < npos && m < nsamp; t++) {
        double u = (double)(splitmix(&s) >> 11) * 0x1.0p-53;
        if ((double)(npos - t) * u < (double)(nsamp - m))
            idx[m++] = t;
    }
    return m;
}

/* --- accumulation --- */

/* The workspace of a call: the borrowed one, else one of h's own. */
static int need_ws(struct csq_hessian *h)
{
    if (h->ws)
        return CSQ_OK;
    if (!(h->ws = csq_hessian_ws_new(h->k)))
        return CSQ_ENOMEM;
    h->own_ws = 1;
    return CSQ_OK;
}

typedef float vf16 __attribute__((vector_size(64)));

/* hm (upper triangle, k x k) += the Gram matrix of the k rows of len
 * floats at c, ld apart, in float, added in double.  Two rows i at a time
 * against all j >= i, over 16 positions at once: each loaded vector feeds
 * up to two products (45 products from 25 loads at k = 9) where one dot
 * product per pair loads two vectors per product.  kc is a constant in
 * the inlined copies so the loops unroll and the accumulators stay in
 * registers. */
static inline __attribute__((always_inline)) void gram_rows(const float *c, int64_t ld,
                                                            int64_t kc, int64_t len,
                                                            double *hm)
{
    int64_t nv = len - len % 16;

#pragma GCC unroll 8
    for (int64_t i0 = 0; i0 < kc; i0 += 2) {
        int64_t ni = kc - i0 < 2 ? kc - i0 : 2;
        vf16 acc[2][SMALL_K];
        float tail[2][SMALL_K];

#pragma GCC unroll 16
        for (int64_t j = 0; j < kc; j++)
            for (int64_t ii = 0; ii < 2; ii++) {
                acc[ii][j] = (vf16){0};
                tail[ii][j] = 0;
            }
        for (int64_t t = 0; t < nv; t += 16) {
            vf16 r[SMALL_K];
#pragma GCC unroll 16
            for (int64_t j = i0; j < kc; j++)
                memcpy(&r[j], c + j * ld + t, sizeof r[j]);
#pragma GCC unroll 2
            for (int64_t ii = 0; ii < ni; ii++)
#pragma GCC unroll 16
                for (int64_t j = i0 + ii; j < kc; j++)
                    acc[ii][j] += r[i0 + ii] * r[j];
        }
        for (int64_t t = nv; t < len; t++)
            for (int64_t ii = 0; ii < ni; ii++)
                for (int64_t j = i0 + ii; j < kc; j++)
                    tail[ii][j] += c[(i0 + ii) * ld + t] * c[j * ld + t];
        for (int64_t ii = 0; ii < ni; ii++)
            for (int64_t j = i0 + ii; j < kc; j++) {
                float sum = tail[ii][j];
                for (int l = 0; l < 16; l++)
                    sum += acc[ii][j][l];
                hm[(i0 + ii) * kc + j] += sum;
            }
    }
}

/* Cloned for AVX-512 and AVX2 + FMA (picked at load time), the default
 * build targeting baseline x86-64; 3 x 3 kernels (k = 9, 3 x 3
 * depthwise) and 1-D ones of 3 get their own unrolled copies. */
#if defined(__GNUC__) && defined(__x86_64__) && !defined(__clang__)
__attribute__((target_clones("avx512f", "arch=haswell", "default")))
#endif
static void small_gram(const float *c, int64_t ld, int64_t k, int64_t len, double *hm)
{
    switch (k) {
    case 9:
        gram_rows(c, ld, 9, len, hm);
        break;
    case 3:
        gram_rows(c, ld, 3, len, hm);
        break;
    default:
        for (int64_t i = 0; i < k; i++) {
            const float *restrict ci = c + i * ld;
            for (int64_t j = i; j < k; j++) {
                const float *restrict cj = c + j * ld;
                float sum = 0;
#pragma omp simd reduction(+ : sum)
                for (int64_t t = 0; t < len; t++)
                    sum += ci[t] * cj[t];
                hm[i * k + j] += sum;
            }
        }
    }
}

/* The float block into H[gi] (upper triangles). */
static void fold(struct csq_hessian *h, int64_t gi)
{
    int64_t k = h->k;
    double *hm = h->h + gi * k * k;
    const float *f = h->ws->f;

    if (h->pending == 0)
        return;
    for (int64_t i = 0; i < k; i++) {
        double *restrict d = hm + i * k;
        const float *restrict s = f + i * k;
#pragma omp simd
        for (int64_t j = i; j < k; j++)
            d[j] += s[j];
    }
    h->pending = 0;
}

/* H[gi] += the products of cols patches: column t of the k x cols matrix
 * at c (rows ld apart) when rowmajor = 0, else row t of a cols x k matrix
 * (rows ld apart).  Large k go through ssyrk into the float block. */
static void add_patches(struct csq_hessian *h, int64_t gi, const float *c, int64_t cols,
                        int64_t ld, int rowmajor)
{
    int64_t k = h->k;

    if (cols == 0)
        return;
    h->n[gi] += cols;
    if (k <= SMALL_K && !rowmajor) {
        small_gram(c, ld, k, cols, h->h + gi * k * k);
        return;
    }
    for (int64_t t0 = 0; t0 < cols;) {
        int64_t len = cols - t0 < FOLD_COLS - h->pending ? cols - t0 : FOLD_COLS - h->pending;
        cblas_ssyrk(CblasRowMajor, CblasUpper, rowmajor ? CblasTrans : CblasNoTrans, (int)k,
                    (int)len, 1.0f, rowmajor ? c + t0 * ld : c + t0, (int)ld,
                    h->pending ? 1.0f : 0.0f, h->ws->f, (int)k);
        h->pending += len;
        t0 += len;
        if (h->pending == FOLD_COLS)
            fold(h, gi);
    }
}

/* Whether a Conv's patches are its input planes as they are (a 1 x 1
 * kernel, stride 1, no padding): they are then read in place. */
static int planes_are_patches(const struct csq_im2col *g)
{
    return g->kh == 1 && g->kw == 1 && g->sh == 1 && g->sw == 1 && g->pt == 0 &&
           g->pl == 0 && g->oh == g->h && g->ow == g->w;
}

/* Columns [p0, p0 + len) of one image's group into col; the channels in
 * threads when par and the copy is large (im2col is otherwise the
 * single-threaded part of a pass).  Each row is written by one thread, so
 * the columns are the same. */
static void fill(const struct csq_im2col *geom, const float *xg, int64_t p0, int64_t len,
                 float *col, int64_t ld, int par)
{
    int64_t hw = geom->h * geom->w, kk = geom->kh * geom->kw;

    if (!par || geom->cg < 2 || geom->k * len < PAR_FILL) {
        csq_im2col_fill(geom, xg, p0, len, col, ld);
        return;
    }
#pragma omp parallel for schedule(static)
    for (int64_t ci = 0; ci < geom->cg; ci++) {
        struct csq_im2col one = *geom;
        one.cg = 1;
        one.k = kk;
        csq_im2col_fill(&one, xg + ci * hw, p0, len, col + ci * kk * ld, ld);
    }
}

/* --- shifted products: stride-1 convolutions without im2col ---
 *
 * With stride 1 and dilation 1, entry ((c, a), (c', a')) of H (a, a' the
 * kernel offsets) sums X[c, q] X[c', q + d], d = a' - a, over the input
 * pixels q that the output positions put under offset a.  For each d that
 * is one product of the input with itself shifted, over the whole plane,
 * F_d = X X_d^T (a cg x cg GEMM over the pixels), less the border rows
 * and columns that offset a's window leaves out.  Half of the
 * (2 kh - 1)(2 kw - 1) offsets d (H is symmetric), 13 for a 3x3 kernel,
 * replace im2col's (kh kw)^2 / 2 products per pixel: 40.5 / 13 = 3.1x
 * fewer for a 3x3 kernel on a large plane, before the strips.  The planes are copied once per run of images into rows of
 * w + kw - 1 floats (zeros after each row) with kh - 1 zero rows above and
 * below, so a flat shift by dy (w + kw - 1) + dx never pairs pixels of
 * different rows or images: F_d is one GEMM with no copy per d. */

/* A layer's shifted-product layout for this workspace; ok = 0 when im2col
 * is the cheaper or the only way. */
struct shift {
    int ok;
    int64_t wb, pb;             /* buffer row and plane (floats) */
    int64_t run;                /* images per run */
    int64_t strip;              /* room of one strip buffer (floats per channel) */
};

/* Fewer than this many channels per group leave the GEMMs too small. */
#define SHIFT_MIN_CG 32
/* Only where the products fall to at most this share of im2col's (on
 * 7 x 7 planes the strips cost what the shift saves: the model says 0.97
 * for resnet18's layer4, and a measurement agreed). */
#define SHIFT_GAIN 0.75

/* ncol: floats of the workspace's column buffer. */
static struct shift shift_plan(const struct csq_hessian *h, size_t ncol,
                               const struct csq_im2col *g)
{
    struct shift p = {0};
    int64_t kk = g->kh * g->kw, cg = g->cg, stripmax, need, oneimg, nd;
    double im2col, shifted;

    if (g->sh != 1 || g->sw != 1 || g->dh != 1 || g->dw != 1 || kk < 2 || cg < SHIFT_MIN_CG ||
        (h->samples && h->samples < g->oh * g->ow))
        return p;
    p.wb = g->w + g->kw - 1;
    p.pb = (g->h + 2 * (g->kh - 1)) * p.wb;
    /* the most one offset pair leaves out, per image */
    stripmax = 2 * (g->kh - 1) * g->w + 2 * (g->kw - 1) * g->h;
    oneimg = p.pb + 2 * stripmax;
    if (p.pb > FOLD_COLS || (double)cg * (double)oneimg > (double)ncol)
        return p;
    need = cg * oneimg;
    p.run = (int64_t)ncol / need;
    /* float sums over at most FOLD_COLS pixels, as im2col's */
    if (p.run * p.pb > FOLD_COLS)
        p.run = FOLD_COLS / p.pb;
    if (p.run < 1)
        return p;
    p.strip = p.run * stripmax;
    /* products per image: im2col's K (K + 1) / 2 per position against one
     * buffer plane per offset d of the half set and, for each of the
     * kk (kk + 1) / 2 offset pairs, at most a row and a column of strips */
    nd = ((2 * g->kh - 1) * (2 * g->kw - 1) + 1) / 2;
    im2col = (double)g->k * (double)(g->k + 1) / 2 * (double)(g->oh * g->ow);
    shifted = (double)cg * (double)cg *
              ((double)nd * (double)p.pb + (double)(kk * (kk + 1) / 2) * (double)(g->w + g->h));
    p.ok = shifted <= SHIFT_GAIN * im2col;
    return p;
}

int csq_hessian_shifted(const struct csq_hessian *h, const struct csq_im2col *g)
{
    size_t col, f;

    if (h->ws)
        return shift_plan(h, h->ws->ncol, g).ok;
    return !ws_floats(h->k, &col, &f) && shift_plan(h, col, g).ok;
}

/* Rows [y0, y1) x columns [x0, x1) of every image's plane of each channel
 * into as[c * ld + at ...] and their partners (shift further) into bs;
 * returns at past them.  Pixel (y, x) of image i is at
 * i pb + (kh - 1 + y) wb + x of a channel's run in the buffer. */
static int64_t strip_rows(const struct csq_im2col *g, const struct shift *p, const float *xb,
                          int64_t nimg, int64_t y0, int64_t y1, int64_t x0, int64_t x1,
                          int64_t shift, float *as, float *bs, int64_t at)
{
    int64_t len = x1 - x0;

    if (y1 <= y0 || len <= 0)
        return at;
    for (int64_t c = 0; c < g->cg; c++) {
        const float *pc = xb + c * nimg * p->pb;
        int64_t t = c * p->strip + at;
        for (int64_t i = 0; i < nimg; i++)
            for (int64_t y = y0; y < y1; y++, t += len) {
                const float *q = pc + i * p->pb + (g->kh - 1 + y) * p->wb + x0;
                memcpy(as + t, q, (size_t)len * sizeof *as);
                memcpy(bs + t, q + shift, (size_t)len * sizeof *bs);
            }
    }
    return at + nimg * (y1 - y0) * len;
}

/* The same for columns, each read down its rows. */
static int64_t strip_cols(const struct csq_im2col *g, const struct shift *p, const float *xb,
                          int64_t nimg, int64_t y0, int64_t y1, int64_t x0, int64_t x1,
                          int64_t shift, float *as, float *bs, int64_t at)
{
    if (y1 <= y0 || x1 <= x0)
        return at;
    for (int64_t c = 0; c < g->cg; c++) {
        const float *pc = xb + c * nimg * p->pb;
        int64_t t = c * p->strip + at;
        for (int64_t i = 0; i < nimg; i++)
            for (int64_t x = x0; x < x1; x++)
                for (int64_t y = y0; y < y1; y++, t++) {
                    const float *q = pc + i * p->pb + (g->kh - 1 + y) * p->wb + x;
                    as[t] = q[0];
                    bs[t] = q[shift];
                }
    }
    return at + nimg * (y1 - y0) * (x1 - x0);
}

/* H[gi] += the patches of nimg images of group gi (xg: the first image's
 * first channel of the group), by shifted products. */
static void add_shifted(struct csq_hessian *h, const struct csq_im2col *g, const struct shift *p,
                        const float *xg, int64_t nimg, int64_t gi)
{
    int64_t cg = g->cg, kk = g->kh * g->kw, k = h->k, plane = g->h * g->w;
    int64_t len = nimg * p->pb, dy, dx, ki, kj, c;
    float *xb = h->ws->col, *as = xb + cg * len, *bs = as + cg * p->strip;
    float *fm = h->ws->f, *tm = fm + cg * cg;
    double *hm = h->h + gi * k * k;

    /* the planes, zero-framed */
    memset(xb, 0, (size_t)(cg * len) * sizeof *xb);
#pragma omp parallel for schedule(static) if (cg * len > PAR_FILL)
    for (c = 0; c < cg; c++)
        for (int64_t i = 0; i < nimg; i++)
            for (int64_t y = 0; y < g->h; y++)
                memcpy(xb + c * len + i * p->pb + (g->kh - 1 + y) * p->wb,
                       xg + (i * g->c + c) * plane + y * g->w, (size_t)g->w * sizeof *xb);
    for (dy = 0; dy < g->kh; dy++)
        for (dx = -(g->kw - 1); dx < g->kw; dx++) {
            int64_t shift = dy * p->wb + dx;
            /* the pixels q whose partner q + d is in the plane */
            int64_t fy0 = 0, fy1 = g->h - dy, fx0 = dx < 0 ? -dx : 0,
                    fx1 = dx > 0 ? g->w - dx : g->w;
            if (dy == 0 && dx < 0)
                continue;   /* the other half of H */
            if (fy1 <= fy0 || fx1 <= fx0)
                continue;
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)cg, (int)cg,
                        (int)(len - shift), 1.0f, xb, (int)len, xb + shift, (int)len, 0.0f,
                        fm, (int)cg);
            for (ki = 0; ki + dy < g->kh; ki++)
                for (kj = dx < 0 ? -dx : 0; kj < g->kw && kj + dx < g->kw; kj++) {
                    /* offset (ki, kj)'s window of pixels, within F's */
                    int64_t y0 = ki - g->pt, y1 = y0 + g->oh, x0 = kj - g->pl, x1 = x0 + g->ow;
                    int64_t at = 0, r0 = ki * g->kw + kj, r1 = (ki + dy) * g->kw + kj + dx;
                    y0 = y0 > fy0 ? y0 : fy0;
                    y1 = y1 < fy1 ? y1 : fy1;
                    x0 = x0 > fx0 ? x0 : fx0;
                    x1 = x1 < fx1 ? x1 : fx1;
                    if (y1 <= y0 || x1 <= x0)
                        continue;   /* no pixel under both: nothing to add */
                    /* what F has beyond the window: whole rows above and
                     * below it, then the window's rows left and right */
                    at = strip_rows(g, p, xb, nimg, fy0, y0, fx0, fx1, shift, as, bs, at);
                    at = strip_rows(g, p, xb, nimg, y1, fy1, fx0, fx1, shift, as, bs, at);
                    at = strip_cols(g, p, xb, nimg, y0, y1, fx0, x0, shift, as, bs, at);
                    at = strip_cols(g, p, xb, nimg, y0, y1, x1, fx1, shift, as, bs, at);
                    if (at > 0)
                        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)cg, (int)cg,
                                    (int)at, 1.0f, as, (int)p->strip, bs, (int)p->strip, 0.0f,
                                    tm, (int)cg);
                    for (c = 0; c < cg; c++) {
                        const float *fr = fm + c * cg, *tr = tm + c * cg;
                        int64_t r = c * kk + r0;
                        for (int64_t c2 = dy == 0 && dx == 0 ? c : 0; c2 < cg; c2++) {
                            int64_t r2 = c2 * kk + r1;
                            double v = (double)fr[c2] - (at > 0 ? (double)tr[c2] : 0.0);
                            if (r <= r2)
                                hm[r * k + r2] += v;
                            else
                                hm[r2 * k + r] += v;
                        }
                    }
                }
        }
}

/* The patches of group gi of nimages images into H[gi], through the
 * column buffer col (room for k x h->chunk); picks: each image's positions
 * when subsampling, else NULL.  par: threads allowed inside. */
static void add_group(struct csq_hessian *h, const struct csq_im2col *geom, const float *x,
                      int64_t nimages, int64_t gi, const int64_t *picks, const int64_t *npicks,
                      float *col, int par)
{
    int64_t npos = geom->oh * geom->ow, plane = geom->h * geom->w, used = 0, i, p, t;

    for (i = 0; i < nimages; i++) {
        const float *xg = x + (i * geom->c + gi * geom->cg) * plane;
        if (!picks && planes_are_patches(geom)) {
            add_patches(h, gi, xg, npos, plane, 0);
            continue;
        }
        if (!picks) {
            /* all positions, in runs that fill the buffer */
            for (p = 0; p < npos;) {
                int64_t len = npos - p < h->chunk - used ? npos - p : h->chunk - used;
                fill(geom, xg, p, len, col + used, h->chunk, par);
                used += len;
                p += len;
                if (used == h->chunk) {
                    add_patches(h, gi, col, used, h->chunk, 0);
                    used = 0;
                }
            }
            continue;
        }
        /* the same positions for every group of an image */
        for (t = 0; t < npicks[i]; t++) {
            csq_im2col_fill(geom, xg, picks[i * h->samples + t], 1, col + used, h->chunk);
            if (++used == h->chunk) {
                add_patches(h, gi, col, used, h->chunk, 0);
                used = 0;
            }
        }
    }
    add_patches(h, gi, col, used, h->chunk, 0);
    /* the float block is the workspace's: empty it before the next group
     * or layer */
    fold(h, gi);
}

int csq_hessian_add_conv(struct csq_hessian *h, const struct csq_im2col *geom, const float *x,
                         int64_t nimages, int64_t first)
{
    int64_t npos = geom->oh * geom->ow, gi, i, *npicks = NULL;
    struct shift sp;
    int rc;

    if (h->finished)
        return csq_fail(CSQ_EINVAL, "hessian: patches added after finish");
    if (geom->groups != h->groups || geom->k != h->k)
        return csq_fail(CSQ_ESHAPE, "hessian: conv of %lld groups of %lld for statistics of "
                        "%lld groups of %lld", (long long)geom->groups, (long long)geom->k,
                        (long long)h->groups, (long long)h->k);
    if ((rc = need_ws(h)) != 0)
        return rc;
    if (h->samples && h->samples < npos) {
        /* each image's positions, once for all its groups: nimages rows of
         * samples, then the counts */
        size_t need = (size_t)nimages * (size_t)(h->samples + 1);
        if (h->npick < (int64_t)need) {
            int64_t *np = csq_mem_rearray(h->pick, need, sizeof *np);
            if (!np)
                return CSQ_ENOMEM;
            h->pick = np;
            h->npick = (int64_t)need;
        }
        npicks = h->pick + nimages * h->samples;
        for (i = 0; i < nimages; i++)
            npicks[i] = csq_hessian_pick(h->seed, first + i, npos, h->samples,
                                         h->pick + i * h->samples);
    }
    if (h->k <= SMALL_K && h->groups > 1) {
        /* many small groups (depthwise): one thread per group at a time,
         * each with its own slice of the buffer and its own H, so the sums
         * do not depend on the thread count */
        const struct csq_hessian_ws *w = h->ws;
#pragma omp parallel for schedule(dynamic, 1) num_threads(w->nthr)
        for (gi = 0; gi < h->groups; gi++)
            add_group(h, geom, x, nimages, gi, npicks ? h->pick : NULL, npicks,
                      w->col + (int64_t)omp_get_thread_num() * SMALL_K * SMALL_CHUNK, 0);
        return CSQ_OK;
    }
    sp = shift_plan(h, h->ws->ncol, geom);
    for (gi = 0; gi < h->groups; gi++) {
        if (!sp.ok) {
            add_group(h, geom, x, nimages, gi, npicks ? h->pick : NULL, npicks, h->ws->col, 1);
            continue;
        }
        for (i = 0; i < nimages; i += sp.run) {
            int64_t m = nimages - i < sp.run ? nimages - i : sp.run;
            add_shifted(h, geom, &sp,
                        x + (i * geom->c + gi * geom->cg) * geom->h * geom->w, m, gi);
            h->n[gi] += m * npos;
        }
    }
    return CSQ_OK;
}

int csq_hessian_add_rows(struct csq_hessian *h, const float *x, int64_t rows, int64_t ld)
{
    int64_t k = h->k, r0, r, i;
    int rc;

    if (h->finished)
        return csq_fail(CSQ_EINVAL, "hessian: patches added after finish");
    if (h->groups != 1)
        return csq_fail(CSQ_ESHAPE, "hessian: input rows for statistics of %lld groups",
                        (long long)h->groups);
    if ((rc = need_ws(h)) != 0)
        return rc;
    if (k > SMALL_K) {
        /* ssyrk reads the rows in place */
        add_patches(h, 0, x, rows, ld, 1);
        fold(h, 0);
        return CSQ_OK;
    }
    for (r0 = 0; r0 < rows; r0 += h->chunk) {
        int64_t cnt = rows - r0 < h->chunk ? rows - r0 : h->chunk;
        for (r = 0; r < cnt; r++) {
            const float *xr = x + (r0 + r) * ld;
            for (i = 0; i < k; i++)
                h->ws->col[i * h->chunk + r] = xr[i];
        }
        add_patches(h, 0, h->ws->col, cnt, h->chunk, 0);
    }
    return CSQ_OK;
}

int csq_hessian_finish(struct csq_hessian *h)
{
    int64_t k = h->k, gi, i, j;

    if (h->finished)
        return CSQ_OK;
    for (gi = 0; gi < h->groups; gi++)
        if (h->n[gi] == 0)
            return csq_fail(CSQ_EINVAL, "hessian: group %lld saw no input patch",
                            (long long)gi);
    for (gi = 0; gi < h->groups; gi++) {
        double *m = h->h + gi * k * k, s = 2.0 / (double)h->n[gi];
        for (i = 0; i < k; i++) {
            for (j = i; j < k; j++)
                m[i * k + j] *= s;
            for (j = 0; j < i; j++)
                m[i * k + j] = m[j * k + i];
        }
    }
    if (h->own_ws)
        csq_hessian_ws_free(h->ws);
    h->ws = NULL;
    h->own_ws = 0;
    free(h->pick);
    h->pick = NULL;
    h->npick = 0;
    h->finished = 1;
    return CSQ_OK;
}

const double *csq_hessian_matrix(const struct csq_hessian *h, int64_t gi)
{
    return h->h + gi * h->k * h->k;
}

int64_t csq_hessian_count(const struct csq_hessian *h, int64_t gi)
{
    return h->n[gi];
}

int64_t csq_hessian_groups(const struct csq_hessian *h)
{
    return h->groups;
}

int64_t csq_hessian_k(const struct csq_hessian *h)
{
    return h->k;
}
