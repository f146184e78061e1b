/*
 * werr: traces tr(D H D^T) with one dsymm per group (DESIGN §7's E_l(b));
 * the contract is in werr.h.
 */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cblas.h>

#include "mpq/quant.h"
#include "mpq/werr.h"
#include "util/err.h"
#include "util/mem.h"

/* sum over groups of tr(D_g H_g D_g^T), D = a - b (b NULL: D = a), in
 * double; d and t: rows x k scratch. */
static double trace(const float *a, const float *b, int64_t rows, int64_t k, int64_t cs,
                    int64_t es, int64_t groups, const double *h, double *d, double *t)
{
    int64_t mg = rows / groups, r, i;
    double sum = 0;

    for (r = 0; r < rows; r++)
        for (i = 0; i < k; i++) {
            int64_t at = r * cs + i * es;
            d[r * k + i] = b ? (double)a[at] - (double)b[at] : (double)a[at];
        }
    for (int64_t gi = 0; gi < groups; gi++)
        cblas_dsymm(CblasRowMajor, CblasRight, CblasUpper, (int)mg, (int)k, 1.0,
                    h + gi * k * k, (int)k, d + gi * mg * k, (int)k, 0.0, t + gi * mg * k,
                    (int)k);
    for (r = 0; r < rows * k; r++)
        sum += d[r] * t[r];
    return sum;
}

static int check(int64_t rows, int64_t k, int64_t groups)
{
    if (rows < 1 || k < 1 || groups < 1 || rows % groups != 0)
        return csq_fail(CSQ_EINVAL, "werr: bad shape: %lld rows of %lld in %lld groups",
                        (long long)rows, (long long)k, (long long)groups);
    return CSQ_OK;
}

static double ratio(double num, double den)
{
    if (den > 0)
        return num / den;
    return num > 0 ? INFINITY : 0;
}

int csq_werr_ratio(const float *w, const float *q, int64_t rows, int64_t k, int64_t ch_stride,
                   int64_t el_stride, int64_t groups, const double *h, double *e)
{
    double *d, *t;
    int rc;

    if ((rc = check(rows, k, groups)))
        return rc;
    d = csq_mem_array((size_t)rows * (size_t)k, sizeof *d);
    t = csq_mem_array((size_t)rows * (size_t)k, sizeof *t);
    if (d && t) {
        double den = trace(w, NULL, rows, k, ch_stride, el_stride, groups, h, d, t);
        double num = trace(q, w, rows, k, ch_stride, el_stride, groups, h, d, t);
        *e = ratio(num, den);
    }
    rc = d && t ? CSQ_OK : CSQ_ENOMEM;
    free(d);
    free(t);
    return rc;
}

int csq_werr_candidates(const float *w, int64_t rows, int64_t k, int64_t ch_stride,
                        int64_t el_stride, int64_t groups, const double *h, int quantizer,
                        const struct csq_gptq_opts *o, const int *bits, int nbits, double *e,
                        struct csq_gptq_info *info)
{
    struct csq_gptq_info sum = {0, 0, 0, 0}, one;
    struct csq_gptq_opts go;
    double *d = NULL, *t = NULL, den;
    float *wc = NULL, *q = NULL;
    int rc, b;

    if ((rc = check(rows, k, groups)))
        return rc;
    if (quantizer != CSQ_WERR_RTN && quantizer != CSQ_WERR_GPTQ)
        return csq_fail(CSQ_EINVAL, "werr: unknown quantizer %d", quantizer);
    if (o)
        go = *o;
    else
        csq_gptq_opts_init(&go, 0);
    d = csq_mem_array((size_t)rows * (size_t)k, sizeof *d);
    t = csq_mem_array((size_t)rows * (size_t)k, sizeof *t);
    wc = csq_mem_array((size_t)rows * (size_t)k, sizeof *wc);
    q = csq_mem_array((size_t)rows * (size_t)k, sizeof *q);
    if (!d || !t || !wc || !q) {
        rc = CSQ_ENOMEM;
        goto out;
    }
    /* everything below is row-major rows x k */
    for (int64_t r = 0; r < rows; r++)
        for (int64_t i = 0; i < k; i++)
            wc[r * k + i] = w[r * ch_stride + i * el_stride];
    den = trace(wc, NULL, rows, k, k, 1, groups, h, d, t);
    for (b = 0; b < nbits && !rc; b++) {
        if (quantizer == CSQ_WERR_RTN) {
            memcpy(q, wc, (size_t)(rows * k) * sizeof *q);
            rc = csq_quant_weights(q, rows, k, bits[b], NULL);
        } else {
            go.bits = bits[b];
            rc = csq_gptq_quantize(wc, rows, k, k, 1, groups, h, &go, q, NULL, NULL, &one);
            if (!rc) {
                sum.groups += one.groups;
                sum.redamped += one.redamped;
                sum.rtn += one.rtn;
                sum.dead += one.dead;
            }
        }
        if (!rc)
            e[b] = ratio(trace(q, wc, rows, k, k, 1, groups, h, d, t), den);
    }
    if (!rc && info)
        *info = sum;
out:
    free(d);
    free(t);
    free(wc);
    free(q);
    return rc;
}
