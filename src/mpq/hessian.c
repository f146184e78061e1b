/*
 * hessian: per-group sums of x x^T over a layer's input patches, in double
 * through cblas_dsyrk (DESIGN §7); the contract is in hessian.h.
 */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cblas.h>

#include "mpq/hessian.h"
#include "util/err.h"
#include "util/limits.h"
#include "util/mem.h"

/* Columns gathered before one dsyrk: each call reads and writes all of H,
 * so wide calls matter for large K, but every layer of a pass holds its
 * buffer, so it stays near 4 MiB of doubles (113 columns at resnet18's
 * K = 4608, where the flops of a call still match its memory traffic). */
#define CHUNK_DOUBLES ((int64_t)1 << 19)
#define CHUNK_MIN 64
#define CHUNK_MAX 1024

struct csq_hessian {
    int64_t groups, k;
    int64_t samples;            /* positions kept per image and group, 0 = all */
    uint64_t seed;
    int finished;
    double *h;                  /* (groups, k, k); upper triangle until finish */
    int64_t *n;                 /* (groups) patches added */
    int64_t chunk;              /* columns per dsyrk */
    float *fcol;                /* (k, chunk) im2col output */
    double *dcol;               /* (k, chunk) the same in double */
    int64_t *pick;              /* (positions of one plane) */
    int64_t npick;              /* room in pick */
};

static int64_t chunk_cols(int64_t k)
{
    int64_t c = CHUNK_DOUBLES / (k > 0 ? k : 1);
    return c < CHUNK_MIN ? CHUNK_MIN : c > CHUNK_MAX ? CHUNK_MAX : c;
}

int csq_hessian_bytes(int64_t groups, int64_t k, size_t *bytes)
{
    size_t kk, hb, cb;

    if (groups < 1 || k < 1)
        return csq_fail(CSQ_EINVAL, "hessian: bad shape %lld groups of %lld",
                        (long long)groups, (long long)k);
    if (csq_mem_mul((size_t)k, (size_t)k, &kk) || csq_mem_mul(kk, (size_t)groups, &hb) ||
        csq_mem_mul(hb, sizeof(double), &hb) ||
        csq_mem_mul((size_t)k, (size_t)chunk_cols(k) * (sizeof(double) + sizeof(float)), &cb) ||
        hb + cb < hb)
        return csq_fail(CSQ_ENOMEM, "hessian: %lld groups of %lld x %lld doubles overflow",
                        (long long)groups, (long long)k, (long long)k);
    *bytes = hb + cb;
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
    int l, rc, bigl = -1;

    for (l = 0; l < g->nlayers; l++) {
        int64_t groups, k;

        if (want && !want[l])
            continue;
        if ((rc = csq_hessian_layer_shape(g, l, &groups, &k)) ||
            (rc = csq_hessian_bytes(groups, k, &b)))
            return rc;
        if (total + b < total)
            return csq_fail(CSQ_ENOMEM, "'%s': layer statistics overflow size_t", g->path);
        total += b;
        if (b > big) {
            big = b;
            bigl = l;
        }
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
    h->fcol = csq_mem_array((size_t)k * (size_t)h->chunk, sizeof *h->fcol);
    h->dcol = csq_mem_array((size_t)k * (size_t)h->chunk, sizeof *h->dcol);
    if (!h->h || !h->n || !h->fcol || !h->dcol) {
        csq_hessian_free(h);
        return NULL;
    }
    return h;
}

void csq_hessian_free(struct csq_hessian *h)
{
    if (!h)
        return;
    free(h->h);
    free(h->n);
    free(h->fcol);
    free(h->dcol);
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

/* H[gi] += C C^T for the first cols columns of the column buffer. */
static void flush(struct csq_hessian *h, int64_t gi, int64_t cols)
{
    int64_t k = h->k, i, j;

    if (cols == 0)
        return;
    for (i = 0; i < k; i++) {
        const float *f = h->fcol + i * h->chunk;
        double *d = h->dcol + i * h->chunk;
        for (j = 0; j < cols; j++)
            d[j] = f[j];
    }
    cblas_dsyrk(CblasRowMajor, CblasUpper, CblasNoTrans, (int)k, (int)cols, 1.0, h->dcol,
                (int)h->chunk, 1.0, h->h + gi * k * k, (int)k);
    h->n[gi] += cols;
}

int csq_hessian_add_conv(struct csq_hessian *h, const struct csq_im2col *geom, const float *x,
                         int64_t nimages, int64_t first)
{
    int64_t npos = geom->oh * geom->ow, plane = geom->h * geom->w, gi, i, p, t;

    if (h->finished)
        return csq_fail(CSQ_EINVAL, "hessian: patches added after finish");
    if (geom->groups != h->groups || geom->k != h->k)
        return csq_fail(CSQ_ESHAPE, "hessian: conv of %lld groups of %lld for statistics of "
                        "%lld groups of %lld", (long long)geom->groups, (long long)geom->k,
                        (long long)h->groups, (long long)h->k);
    if (h->samples && h->samples < npos && h->npick < h->samples) {
        int64_t *np = csq_mem_rearray(h->pick, (size_t)h->samples, sizeof *np);
        if (!np)
            return CSQ_ENOMEM;
        h->pick = np;
        h->npick = h->samples;
    }
    for (gi = 0; gi < h->groups; gi++) {
        int64_t used = 0;
        for (i = 0; i < nimages; i++) {
            const float *xg = x + (i * geom->c + gi * geom->cg) * plane;
            if (!h->samples || h->samples >= npos) {
                /* all positions, in runs that fill the buffer */
                for (p = 0; p < npos;) {
                    int64_t len = npos - p < h->chunk - used ? npos - p : h->chunk - used;
                    csq_im2col_fill(geom, xg, p, len, h->fcol + used, h->chunk);
                    used += len;
                    p += len;
                    if (used == h->chunk) {
                        flush(h, gi, used);
                        used = 0;
                    }
                }
                continue;
            }
            /* the same positions for every group of an image */
            int64_t m = csq_hessian_pick(h->seed, first + i, npos, h->samples, h->pick);
            for (t = 0; t < m; t++) {
                csq_im2col_fill(geom, xg, h->pick[t], 1, h->fcol + used, h->chunk);
                if (++used == h->chunk) {
                    flush(h, gi, used);
                    used = 0;
                }
            }
        }
        flush(h, gi, used);
    }
    return CSQ_OK;
}

int csq_hessian_add_rows(struct csq_hessian *h, const float *x, int64_t rows, int64_t ld)
{
    int64_t k = h->k, r0, r, i;

    if (h->finished)
        return csq_fail(CSQ_EINVAL, "hessian: patches added after finish");
    if (h->groups != 1)
        return csq_fail(CSQ_ESHAPE, "hessian: input rows for statistics of %lld groups",
                        (long long)h->groups);
    /* rows become the buffer's columns, so one flush serves both inputs */
    for (r0 = 0; r0 < rows; r0 += h->chunk) {
        int64_t cnt = rows - r0 < h->chunk ? rows - r0 : h->chunk;
        for (r = 0; r < cnt; r++) {
            const float *xr = x + (r0 + r) * ld;
            for (i = 0; i < k; i++)
                h->fcol[i * h->chunk + r] = xr[i];
        }
        flush(h, 0, cnt);
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
    free(h->fcol);
    free(h->dcol);
    free(h->pick);
    h->fcol = NULL;
    h->dcol = NULL;
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
