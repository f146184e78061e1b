/*
 * tfidf: the separability score of DESIGN.md section 5, in double.
 */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "mpq/tfidf.h"
#include "util/err.h"
#include "util/mem.h"

struct csq_tfidf {
    int c;            /* channels (terms) */
    int k;            /* classes; 0 in samples mode */
    enum csq_tfidf_docs docs;
    double *sum;      /* classes: [k][c] running sums */
    int64_t *count;   /* classes: [k] images per class */
    float *f;         /* samples: [cap][c] pooled vectors */
    int64_t n, cap;   /* images added; samples capacity */
};

int csq_tfidf_new(int nchannels, int nclasses, enum csq_tfidf_docs docs, struct csq_tfidf **out)
{
    struct csq_tfidf *t;

    *out = NULL;
    if (nchannels < 1)
        return csq_fail(CSQ_EINVAL, "tfidf: %d channels", nchannels);
    if (docs == CSQ_TFIDF_CLASSES && nclasses < 2)
        return csq_fail(CSQ_EINVAL, "tfidf: class documents need at least 2 classes, have %d",
                        nclasses);
    if (docs != CSQ_TFIDF_CLASSES && docs != CSQ_TFIDF_SAMPLES)
        return csq_fail(CSQ_EINVAL, "tfidf: unknown document mode %d", (int)docs);
    t = csq_mem_zarray(1, sizeof *t);
    if (!t)
        return CSQ_ENOMEM;
    t->c = nchannels;
    t->docs = docs;
    if (docs == CSQ_TFIDF_CLASSES) {
        t->k = nclasses;
        t->sum = csq_mem_zarray((size_t)nclasses * (size_t)nchannels, sizeof *t->sum);
        t->count = csq_mem_zarray((size_t)nclasses, sizeof *t->count);
        if (!t->sum || !t->count) {
            csq_tfidf_free(t);
            return CSQ_ENOMEM;
        }
    }
    *out = t;
    return CSQ_OK;
}

int csq_tfidf_add(struct csq_tfidf *t, const float *pooled, int cls)
{
    int c;

    for (c = 0; c < t->c; c++)
        if (!isfinite(pooled[c]) || pooled[c] < 0)
            return csq_fail(CSQ_EINVAL, "tfidf: image %lld channel %d: pooled value %g is not "
                            "a finite non-negative number", (long long)t->n, c,
                            (double)pooled[c]);
    if (t->docs == CSQ_TFIDF_CLASSES) {
        double *s;
        if (cls < 0 || cls >= t->k)
            return csq_fail(CSQ_EINVAL, "tfidf: image %lld: class %d is not in 0..%d",
                            (long long)t->n, cls, t->k - 1);
        s = t->sum + (size_t)cls * (size_t)t->c;
        for (c = 0; c < t->c; c++)
            s[c] += pooled[c];
        t->count[cls]++;
    } else {
        if (t->n == t->cap) {
            int64_t ncap = t->cap ? 2 * t->cap : 256;
            float *nf = csq_mem_rearray(t->f, (size_t)ncap * (size_t)t->c, sizeof *nf);
            if (!nf)
                return CSQ_ENOMEM;
            t->f = nf;
            t->cap = ncap;
        }
        memcpy(t->f + (size_t)t->n * (size_t)t->c, pooled, (size_t)t->c * sizeof *pooled);
    }
    t->n++;
    return CSQ_OK;
}

int64_t csq_tfidf_count(const struct csq_tfidf *t)
{
    return t->n;
}

/* F[c][d] of the document d. */
static double doc_value(const struct csq_tfidf *t, int64_t d, int c)
{
    if (t->docs == CSQ_TFIDF_CLASSES)
        return t->sum[(size_t)d * (size_t)t->c + (size_t)c] / (double)t->count[d];
    return t->f[(size_t)d * (size_t)t->c + (size_t)c];
}

int csq_tfidf_score(const struct csq_tfidf *t, double coe, double *score)
{
    int64_t D = t->docs == CSQ_TFIDF_CLASSES ? t->k : t->n, d;
    double beta, *colsum = NULL, *mu = NULL, total = 0;
    int c;

    *score = 0;
    if (isnan(coe))
        return csq_fail(CSQ_EINVAL, "tfidf: coe is not a number");
    if (D < 2)
        return csq_fail(CSQ_EINVAL, "tfidf: need at least 2 documents, have %lld",
                        (long long)D);
    if (t->docs == CSQ_TFIDF_CLASSES)
        for (d = 0; d < D; d++)
            if (t->count[d] == 0)
                return csq_fail(CSQ_EINVAL, "tfidf: class %lld has no images: it cannot be a "
                                "document", (long long)d);
    beta = coe > 0 ? log((double)t->c / coe * M_E) : 1.0;
    colsum = csq_mem_zarray((size_t)D, sizeof *colsum);
    mu = csq_mem_array((size_t)t->c, sizeof *mu);
    if (!colsum || !mu) {
        free(colsum);
        free(mu);
        return CSQ_ENOMEM;
    }
    for (d = 0; d < D; d++)
        for (c = 0; c < t->c; c++)
            colsum[d] += doc_value(t, d, c);
    /* mean as min + mean(F - min): exact when all documents are equal, so
     * a constant channel counts every document as "at or above" its mean
     * instead of losing some to rounding */
    for (c = 0; c < t->c; c++) {
        double m = INFINITY, s = 0;
        for (d = 0; d < D; d++)
            m = fmin(m, doc_value(t, d, c));
        for (d = 0; d < D; d++)
            s += doc_value(t, d, c) - m;
        mu[c] = m + s / (double)D;
    }
    for (c = 0; c < t->c; c++) {
        double s = 0, idf;
        int64_t n = 0;
        for (d = 0; d < D; d++) {
            double f = doc_value(t, d, c);
            if (f >= mu[c]) {
                n++;
                if (colsum[d] > 0)
                    s += beta * f / colsum[d];
            }
        }
        idf = log((double)D / (double)(n + 1));
        total += s / ((double)n + 1e-11) * idf;
    }
    *score = total / t->c;
    free(colsum);
    free(mu);
    return CSQ_OK;
}

void csq_tfidf_free(struct csq_tfidf *t)
{
    if (!t)
        return;
    free(t->sum);
    free(t->count);
    free(t->f);
    free(t);
}

void csq_tfidf_pool(const float *y, int64_t n, int64_t c, int64_t hw, float *out)
{
    int64_t i, j, k;

    for (i = 0; i < n; i++)
        for (j = 0; j < c; j++) {
            const float *p = y + (i * c + j) * hw;
            double s = 0;
            for (k = 0; k < hw; k++)
                s += p[k] < 0 ? 0 : p[k];   /* a NaN must reach the caller */
            out[i * c + j] = (float)(s / (double)hw);
        }
}

void csq_tfidf_pool_last(const float *y, int64_t n, int64_t hw, int64_t c, float *out)
{
    int64_t i, j, k;

    for (i = 0; i < n; i++)
        for (k = 0; k < c; k++) {
            const float *p = y + i * hw * c + k;
            double s = 0;
            for (j = 0; j < hw; j++)
                s += p[j * c] < 0 ? 0 : p[j * c];   /* a NaN must reach the caller */
            out[i * c + k] = (float)(s / (double)hw);
        }
}
