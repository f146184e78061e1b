/*
 * gptq: DESIGN §7's column-wise quantization against U = chol(H^-1),
 * with lazy block updates, computed from U's inverse R (one Cholesky
 * factorization, no triangular inverse); the steps are numbered in gptq.h.
 */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cblas.h>

#include "mpq/gptq.h"
#include "mpq/lapack.h"
#include "mpq/quant.h"
#include "util/err.h"
#include "util/mem.h"

/* Rows x block^2 multiply-adds above which a block's rows run in threads. */
#define PAR_WORK ((int64_t)1 << 16)

void csq_gptq_opts_init(struct csq_gptq_opts *o, int bits)
{
    memset(o, 0, sizeof *o);
    o->bits = bits;
    o->block = CSQ_GPTQ_BLOCK;
    o->damp = CSQ_GPTQ_DAMP;
}

struct col {
    double key;
    int64_t idx;
};

/* Scratch for one group, sized for the largest. */
struct work {
    double *u;        /* (k, k) the factor R (U = R^-1) */
    double *wd;       /* (mg, k) the weights, permuted */
    double *acc;      /* (mg, k) their accumulated updates, scaled by R_ii */
    double *e;        /* (mg, block) errors d of the current block */
    double *scale;    /* (mg) */
    double *diag;     /* (k) diag H after the dead-input fix */
    int64_t *perm;    /* (k) column i of the work arrays is input perm[i] */
    struct col *cols; /* (k) act-order's sort */
};

/* decreasing diag(H), ties by input index: the order is total, so qsort's
 * instability cannot show */
static int by_diag(const void *pa, const void *pb)
{
    const struct col *a = pa, *b = pb;
    if (a->key != b->key)
        return a->key > b->key ? -1 : 1;
    return a->idx < b->idx ? -1 : a->idx > b->idx;
}

/* The stored value and level of w at a row's scale into out[at]. */
static void put(const struct csq_gptq_opts *o, double w, double scale, int64_t at, float *out,
                int16_t *levels)
{
    double lev = csq_quant_level(w, scale, o->bits);
    out[at] = csq_quant_value(lev, scale);
    if (levels)
        levels[at] = (int16_t)lev;
}

/* Step 6 on the permuted weights w->wd, from R (w->u: H = R R^T, U =
 * R^-1, lapack.h) instead of U, which saves the dtrtri: with d_j = w_j -
 * q_j on the original weights, the step's relation w - q = e U reads e =
 * d R, so the updated weight is w_i + a_i / R_ii with a_i = sum_{j<i} d_j
 * R_ji, and a takes the same lazy block updates e took (the same result up
 * to rounding).  out and levels are mg x k row-major in input order. */
static void columns(const struct csq_gptq_opts *o, struct work *w, int64_t mg, int64_t k,
                    float *out, int16_t *levels)
{
    const double *u = w->u;

    memset(w->acc, 0, (size_t)mg * (size_t)k * sizeof *w->acc);
    for (int64_t i1 = 0; i1 < k; i1 += o->block) {
        int64_t i2 = i1 + o->block < k ? i1 + o->block : k, nb = i2 - i1;

#pragma omp parallel for schedule(static) if (mg * nb * nb > PAR_WORK)
        for (int64_t r = 0; r < mg; r++) {
            const double *wr = w->wd + r * k;
            double *ar = w->acc + r * k, *dr = w->e + r * nb, s = w->scale[r];
            for (int64_t i = i1; i < i2; i++) {
                const double *ui = u + i * k;
                double lev = csq_quant_level(wr[i] + ar[i] / ui[i], s, o->bits);
                double d = wr[i] - lev * s;
                dr[i - i1] = d;
                for (int64_t j = i + 1; j < i2; j++)
                    ar[j] += d * ui[j];
                out[r * k + w->perm[i]] = csq_quant_value(lev, s);
                if (levels)
                    levels[r * k + w->perm[i]] = (int16_t)lev;
            }
        }
        if (i2 < k)
            cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)mg, (int)(k - i2),
                        (int)nb, 1.0, w->e, (int)nb, u + i1 * k + i2, (int)k, 1.0,
                        w->acc + i2, (int)k);
    }
}

/* One group: rows wg (mg of them, strided), H h; out and levels mg x k
 * row-major. */
static int group(const struct csq_gptq_opts *o, struct work *w, const float *wg, int64_t mg,
                 int64_t k, int64_t cs, int64_t es, const double *h, float *out,
                 int16_t *levels, double *scales, struct csq_gptq_info *info)
{
    double mean = 0;
    int64_t r, i, j, dead = 0;
    int rc, ok = 0, finite = 1;

    /* 1. rtn's scales, from the weights as given (100 passes over each
     * row, so threaded; the caller checked what could fail) */
    rc = CSQ_OK;
#pragma omp parallel for schedule(dynamic, 4) reduction(| : rc) if (mg * k > PAR_WORK)
    for (r = 0; r < mg; r++) {
        struct csq_wquant wq;
        rc |= csq_quant_choose(wg + r * cs, k, es, o->bits, &wq);
        w->scale[r] = wq.scale;
        if (scales)
            scales[r] = wq.scale;
    }
    if (rc)
        return rc;
    for (i = 0; i < k * k && finite; i++)
        finite = isfinite(h[i]);

    if (finite) {
        /* 2. dead inputs; 3. the column order */
        for (i = 0; i < k; i++) {
            w->diag[i] = h[i * k + i] == 0 ? 1 : h[i * k + i];
            dead += h[i * k + i] == 0;
            w->perm[i] = i;
        }
        if (o->act_order) {
            for (i = 0; i < k; i++) {
                w->cols[i].key = w->diag[i];
                w->cols[i].idx = i;
            }
            qsort(w->cols, (size_t)k, sizeof *w->cols, by_diag);
            for (i = 0; i < k; i++)
                w->perm[i] = w->cols[i].idx;
        }
        for (i = 0; i < k; i++)
            mean += w->diag[i];
        mean /= (double)k;
        /* 4., 5. dampening, once more at 10x when the factorization fails;
         * the permuted H is rebuilt from h each time rather than kept, since
         * a second k x k copy is the largest allocation of a layer */
        for (int attempt = 0; attempt < 2 && !ok; attempt++) {
            double d = o->damp * (attempt ? 10 : 1) * mean;
            for (i = 0; i < k; i++) {
                const double *hi = h + w->perm[i] * k;
                double *ui = w->u + i * k;
                for (j = 0; j < k; j++)
                    ui[j] = hi[w->perm[j]];
                ui[i] = w->diag[w->perm[i]] + d;
            }
            ok = csq_lapack_rev_chol_upper(w->u, k) == 0;
            if (ok && attempt)
                info->redamped++;
        }
    }
    info->groups++;
    info->dead += dead;
    if (!ok) {
        info->rtn++;
        for (r = 0; r < mg; r++)
            for (i = 0; i < k; i++)
                put(o, wg[r * cs + i * es], w->scale[r], r * k + i, out, levels);
        return CSQ_OK;
    }
    for (r = 0; r < mg; r++)
        for (i = 0; i < k; i++) {
            int64_t c = w->perm[i];
            w->wd[r * k + i] = h[c * k + c] == 0 ? 0 : (double)wg[r * cs + c * es];
        }
    columns(o, w, mg, k, out, levels);
    return CSQ_OK;
}

int csq_gptq_quantize(const float *w, int64_t rows, int64_t k, int64_t ch_stride,
                      int64_t el_stride, int64_t groups, const double *h,
                      const struct csq_gptq_opts *o, float *out, int16_t *levels,
                      double *scales, struct csq_gptq_info *info)
{
    struct csq_gptq_info mine = {0, 0, 0, 0};
    struct work wk = {0};
    float *res = NULL;
    int16_t *lv = NULL;
    int64_t mg, gi, r, i;
    int rc = CSQ_OK;

    if (o->bits < 1 || o->bits > CSQ_QUANT_MAXBITS)
        return csq_fail(CSQ_EINVAL, "gptq: weight bit-width %d is not in 1..%d", o->bits,
                        CSQ_QUANT_MAXBITS);
    if (o->block < 1 || !(o->damp > 0) || !isfinite(o->damp))
        return csq_fail(CSQ_EINVAL, "gptq: bad block %lld or damping %g", (long long)o->block,
                        o->damp);
    if (rows < 1 || k < 1 || groups < 1 || rows % groups != 0 || k > INT32_MAX / k)
        return csq_fail(CSQ_EINVAL, "gptq: bad shape: %lld rows of %lld in %lld groups",
                        (long long)rows, (long long)k, (long long)groups);
    for (r = 0; r < rows; r++)
        for (i = 0; i < k; i++)
            if (!isfinite(w[r * ch_stride + i * el_stride]))
                return csq_fail(CSQ_EINVAL, "gptq: weight %lld of channel %lld is not finite",
                                (long long)i, (long long)r);
    mg = rows / groups;
    /* results go to a private copy first, so out is unchanged on failure
     * and may alias w (later groups still read their original weights) */
    res = csq_mem_array((size_t)rows * (size_t)k, sizeof *res);
    if (levels)
        lv = csq_mem_array((size_t)rows * (size_t)k, sizeof *lv);
    wk.u = csq_mem_array((size_t)k * (size_t)k, sizeof *wk.u);
    wk.wd = csq_mem_array((size_t)mg * (size_t)k, sizeof *wk.wd);
    wk.acc = csq_mem_array((size_t)mg * (size_t)k, sizeof *wk.acc);
    wk.e = csq_mem_array((size_t)mg * (size_t)(o->block < k ? o->block : k), sizeof *wk.e);
    wk.scale = csq_mem_array((size_t)mg, sizeof *wk.scale);
    wk.diag = csq_mem_array((size_t)k, sizeof *wk.diag);
    wk.perm = csq_mem_array((size_t)k, sizeof *wk.perm);
    wk.cols = csq_mem_array((size_t)k, sizeof *wk.cols);
    if (!res || (levels && !lv) || !wk.u || !wk.wd || !wk.acc || !wk.e || !wk.scale || !wk.diag || !wk.perm || !wk.cols) {
        rc = CSQ_ENOMEM;
        goto out;
    }
    {
        struct csq_gptq_opts oo = *o;
        if (oo.block > k)
            oo.block = k;
        for (gi = 0; gi < groups && !rc; gi++)
            rc = group(&oo, &wk, w + gi * mg * ch_stride, mg, k, ch_stride, el_stride,
                       h + gi * k * k, res + gi * mg * k, lv ? lv + gi * mg * k : NULL,
                       scales ? scales + gi * mg : NULL, &mine);
    }
    if (!rc) {
        for (r = 0; r < rows; r++)
            for (i = 0; i < k; i++) {
                out[r * ch_stride + i * el_stride] = res[r * k + i];
                if (lv)
                    levels[r * ch_stride + i * el_stride] = lv[r * k + i];
            }
        if (info)
            *info = mine;
    }
out:
    free(res);
    free(lv);
    free(wk.u);
    free(wk.wd);
    free(wk.acc);
    free(wk.e);
    free(wk.scale);
    free(wk.diag);
    free(wk.perm);
    free(wk.cols);
    return rc;
}
