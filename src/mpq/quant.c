/*
 * quant: per-channel symmetric weight and per-tensor asymmetric activation
 * fake quantization with least-squares clipping (DESIGN §10); the choices
 * are documented in quant.h and mirrored by scripts/reference-quant.
 */
#include "config.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "mpq/quant.h"
#include "util/err.h"
#include "util/mem.h"

/* A smaller ratio must beat the best error by more than this, relatively, so
 * that rounding noise in the sums never decides between near-equal ratios. */
#define TIE_EPS 1e-12

static int bad_bits(int bits)
{
    return bits < 1 || bits > CSQ_QUANT_MAXBITS;
}

/* --- weights --- */

/* round(x) (half away from zero) for |x| < 2^31, without the libm call so
 * that the weight loops vectorize; the sign of zero is kept, as round does. */
static inline double rhaz(double x)
{
    double a = fabs(x), f = (double)(int32_t)a;
    return copysign(f + (a - f >= 0.5 ? 1.0 : 0.0), x);
}

/* |w / scale| <= 100 qmax / k < 2^22 whenever scale comes from the grid. */
static inline double wlevel(double w, double scale, double qmax)
{
    double q = rhaz(w / scale);
    if (q > qmax)
        q = qmax;
    else if (q < -qmax)
        q = -qmax;
    return q;
}

/* The search's model of the quantized value, in double. */
static inline double wq(double w, double scale, double qmax)
{
    return wlevel(w, scale, qmax) * scale;
}

/* w: the channel as contiguous doubles (the search runs 100 times over it,
 * the hottest loop of rtn and of gptq's scales, hence the clones). */
__attribute__((target_clones("avx512f", "arch=haswell", "default")))
static double chan_sse(const double *w, int64_t n, double scale, double qmax)
{
    double sse = 0;
#pragma omp simd reduction(+ : sse)
    for (int64_t i = 0; i < n; i++) {
        double d = w[i] - wq(w[i], scale, qmax);
        sse += d * d;
    }
    return sse;
}

/* Store v into *w and return the squared error of the stored float. */
static double put(float *w, double v)
{
    double d = (double)*w - (double)(float)v;
    *w = (float)v;
    return d * d;
}

/* The rtn choice for one finite channel (element i at w[i * es]): ratio,
 * scale and the double sse; w is not changed.  buf: room for n doubles. */
static struct csq_wquant choose_chan(const float *w, int64_t n, int64_t es, int bits,
                                     double *buf)
{
    double maxabs = 0, sumabs = 0;
    struct csq_wquant r = {1, 0, 0};

    for (int64_t i = 0; i < n; i++) {
        double a = fabs((double)w[i * es]);
        if (a > maxabs)
            maxabs = a;
        sumabs += a;
    }
    if (maxabs == 0) {
        r.ratio = bits == 1 ? 0 : 1;
    } else if (bits == 1) {
        double s = sumabs / (double)n;
        r.ratio = 0;
        r.scale = s;
        for (int64_t i = 0; i < n; i++) {
            double d = (double)w[i * es] - (w[i * es] >= 0 ? s : -s);
            r.sse += d * d;
        }
    } else {
        double qmax = (double)((1 << (bits - 1)) - 1);
        int bestk = 100;
        for (int64_t i = 0; i < n; i++)
            buf[i] = w[i * es];
        double best = 0;
        for (int k = 100; k >= CSQ_QUANT_WGRID_MIN; k--) {
            /* evaluated as ((k / 100) * maxabs) / qmax, as the reference does */
            double scale = (double)k / 100.0 * maxabs / qmax;
            double sse = chan_sse(buf, n, scale, qmax);
            if (k == 100 || sse < best * (1 - TIE_EPS)) {
                best = sse;
                bestk = k;
            }
        }
        r.ratio = (double)bestk / 100.0;
        r.scale = r.ratio * maxabs / qmax;
        r.sse = best;
    }
    return r;
}

/* Quantize one finite channel in place.  *noise gets sum (w - stored)^2 of
 * the float results (info->sse is the same in double, before rounding).
 * buf: room for n doubles. */
static void quant_chan(float *w, int64_t n, int64_t es, int bits, struct csq_wquant *info,
                       double *noise, double *buf)
{
    struct csq_wquant r = choose_chan(w, n, es, bits, buf);
    double e2 = 0;

    if (r.scale == 0) {
        for (int64_t i = 0; i < n; i++)
            w[i * es] = 0.0f; /* -0.0 becomes +0.0 */
    } else if (bits == 1) {
        for (int64_t i = 0; i < n; i++)
            e2 += put(&w[i * es], csq_quant_value(w[i * es] >= 0 ? 1 : -1, r.scale));
    } else {
        double qmax = (double)((1 << (bits - 1)) - 1);
        for (int64_t i = 0; i < n; i++)
            e2 += put(&w[i * es], csq_quant_value(wlevel(w[i * es], r.scale, qmax), r.scale));
    }
    if (info)
        *info = r;
    if (noise)
        *noise = e2;
}

static int check_finite(const float *w, int64_t oc, int64_t pc, int64_t cs, int64_t es)
{
    for (int64_t o = 0; o < oc; o++)
        for (int64_t i = 0; i < pc; i++)
            if (!isfinite(w[o * cs + i * es]))
                return csq_fail(CSQ_EINVAL, "quant: weight %lld of channel %lld is not finite",
                                (long long)i, (long long)o);
    return CSQ_OK;
}

int csq_quant_channel(float *w, int64_t n, int bits, struct csq_wquant *info)
{
    if (bad_bits(bits))
        return csq_fail(CSQ_EINVAL, "quant: weight bit-width %d is not in 1..%d", bits,
                        CSQ_QUANT_MAXBITS);
    if (n < 0)
        return csq_fail(CSQ_EINVAL, "quant: negative channel size %lld", (long long)n);
    int rc = check_finite(w, 1, n, 0, 1);
    if (rc)
        return rc;
    double *buf = csq_mem_array((size_t)n + 1, sizeof *buf);
    if (!buf)
        return CSQ_ENOMEM;
    quant_chan(w, n, 1, bits, info, NULL, buf);
    free(buf);
    return CSQ_OK;
}

int csq_quant_choose(const float *w, int64_t n, int64_t stride, int bits,
                     struct csq_wquant *info)
{
    if (bad_bits(bits))
        return csq_fail(CSQ_EINVAL, "quant: weight bit-width %d is not in 1..%d", bits,
                        CSQ_QUANT_MAXBITS);
    if (n < 0)
        return csq_fail(CSQ_EINVAL, "quant: negative channel size %lld", (long long)n);
    int rc = check_finite(w, 1, n, 0, stride);
    if (rc)
        return rc;
    double *buf = csq_mem_array((size_t)n + 1, sizeof *buf);
    if (!buf)
        return CSQ_ENOMEM;
    *info = choose_chan(w, n, stride, bits, buf);
    free(buf);
    return CSQ_OK;
}

double csq_quant_level(double w, double scale, int bits)
{
    if (!(scale > 0))
        return 0;
    if (bits == 1)
        return w >= 0 ? 1 : -1;
    double qmax = (double)((1 << (bits - 1)) - 1), t = w / scale;
    /* clamped before rounding, so rhaz's int32 range holds for any w */
    if (t > qmax + 1)
        t = qmax + 1;
    else if (t < -qmax - 1)
        t = -qmax - 1;
    double q = rhaz(t);
    return q > qmax ? qmax : q < -qmax ? -qmax : q;
}

int csq_quant_weights_strided(float *w, int64_t out_channels, int64_t per_channel,
                              int64_t ch_stride, int64_t el_stride, int bits,
                              double *sqnr_db)
{
    double *sig = NULL, *noise = NULL, *buf = NULL;
    int rc, nthr = 1;

    if (bad_bits(bits))
        return csq_fail(CSQ_EINVAL, "quant: weight bit-width %d is not in 1..%d", bits,
                        CSQ_QUANT_MAXBITS);
    if (out_channels < 0 || per_channel < 0)
        return csq_fail(CSQ_EINVAL, "quant: negative weight shape %lld x %lld",
                        (long long)out_channels, (long long)per_channel);
    rc = check_finite(w, out_channels, per_channel, ch_stride, el_stride);
    if (rc)
        return rc;
#ifdef _OPENMP
    nthr = omp_get_max_threads();
#endif
    sig = csq_mem_zarray((size_t)out_channels + 1, sizeof *sig);
    noise = csq_mem_zarray((size_t)out_channels + 1, sizeof *noise);
    if (sig && noise)
        buf = csq_mem_array((size_t)nthr, ((size_t)per_channel + 1) * sizeof *buf);
    if (!sig || !noise || !buf) {
        free(sig);
        free(noise);
        free(buf);
        return CSQ_ENOMEM;
    }

    /* channels are independent; per-channel sums are added in order below,
     * so the result does not depend on the thread count */
#pragma omp parallel for schedule(dynamic, 4)
    for (int64_t o = 0; o < out_channels; o++) {
        float *c = w + o * ch_stride;
        double s2 = 0, e2 = 0, *mine = buf;
#ifdef _OPENMP
        mine += (size_t)omp_get_thread_num() * ((size_t)per_channel + 1);
#endif
        for (int64_t i = 0; i < per_channel; i++)
            s2 += (double)c[i * el_stride] * (double)c[i * el_stride];
        quant_chan(c, per_channel, el_stride, bits, NULL, &e2, mine);
        sig[o] = s2;
        noise[o] = e2;
    }

    if (sqnr_db) {
        double s = 0, e = 0;
        for (int64_t o = 0; o < out_channels; o++) {
            s += sig[o];
            e += noise[o];
        }
        *sqnr_db = e > 0 ? 10 * log10(s / e) : (double)INFINITY;
    }
    free(sig);
    free(noise);
    free(buf);
    return CSQ_OK;
}

int csq_quant_weights(float *w, int64_t out_channels, int64_t per_channel, int bits,
                      double *sqnr_db)
{
    return csq_quant_weights_strided(w, out_channels, per_channel, per_channel, 1, bits,
                                     sqnr_db);
}

/* --- activations --- */

#define NBINS (2 * CSQ_QUANT_HALFBINS)
#define HMIN_EXP (-64)

struct csq_actcal {
    int bits;
    int hexp;         /* bin width h = 2^hexp */
    uint64_t count;   /* values seen */
    double min, max;  /* exact, over all values seen */
    double *cnt;      /* (NBINS) values per bin; bin j is [(j - HALF) h, (j - HALF + 1) h) */
    double *sum;      /* (NBINS) sum of those values */
};

int csq_actq_init(struct csq_actq *q, int bits, double lo, double hi)
{
    if (bad_bits(bits))
        return csq_fail(CSQ_EINVAL, "quant: activation bit-width %d is not in 1..%d", bits,
                        CSQ_QUANT_MAXBITS);
    if (!isfinite(lo) || !isfinite(hi) || lo > hi)
        return csq_fail(CSQ_EINVAL, "quant: bad activation range [%g, %g]", lo, hi);
    double levels = (double)((1 << bits) - 1);
    memset(q, 0, sizeof *q);
    q->bits = bits;
    q->lo = lo < 0 ? lo : 0;
    q->hi = hi > 0 ? hi : 0;
    q->scale = (q->hi - q->lo) / levels;
    q->ratio = 1;
    if (q->scale > 0) {
        double zp = round(-q->lo / q->scale);
        q->zp = (int)(zp < 0 ? 0 : zp > levels ? levels : zp);
    }
    return CSQ_OK;
}

double csq_actq_value(const struct csq_actq *q, double x)
{
    double levels = (double)((1 << q->bits) - 1), t;
    if (!(q->scale > 0))
        return 0;
    t = rint(x / q->scale) + q->zp;
    if (t < 0)
        t = 0;
    else if (t > levels)
        t = levels;
    return (t - q->zp) * q->scale;
}

/* rint(t) half to even for |t| < 2^22 in the default rounding mode: adding
 * 1.5 * 2^23 leaves no fraction bits, so the float addition itself rounds;
 * unlike rintf this vectorizes without SSE4.1. */
static inline float rint_small(float t)
{
    const float magic = 12582912.0f;
    return (t + magic) - magic;
}

/* Clamping the quotient to [-zp, levels - zp] before rounding, as ONNX
 * Runtime's MLAS kernel does, equals clamping the level after it (the
 * bounds are integers) and keeps rint_small's range; the result is already
 * the integer q - zp, so one float multiply dequantizes it. */
static inline float actq32(float x, float s, float lo, float hi)
{
    float t = x / s;
    t = t > lo ? t : lo; /* a NaN goes to the bottom level, as MLAS's maxps */
    t = t < hi ? t : hi;
    return rint_small(t) * s;
}

float csq_actq_value32(const struct csq_actq *q, float x)
{
    float s = (float)q->scale;
    if (!(s > 0))
        return 0;
    return actq32(x, s, (float)-q->zp, (float)((1 << q->bits) - 1 - q->zp));
}

void csq_actq_apply(const struct csq_actq *q, float *x, size_t n)
{
    ptrdiff_t m = (ptrdiff_t)n;
    float s = (float)q->scale;
    float lo = (float)-q->zp, hi = (float)((1 << q->bits) - 1 - q->zp);

    if (!(s > 0)) {
        memset(x, 0, n * sizeof *x);
        return;
    }
#pragma omp parallel for simd schedule(static) if (m > 65536)
    for (ptrdiff_t i = 0; i < m; i++)
        x[i] = actq32(x[i], s, lo, hi);
}

struct csq_actcal *csq_actcal_new(int bits)
{
    struct csq_actcal *c;
    if (bad_bits(bits)) {
        csq_fail(CSQ_EINVAL, "quant: activation bit-width %d is not in 1..%d", bits,
                 CSQ_QUANT_MAXBITS);
        return NULL;
    }
    c = csq_mem_zarray(1, sizeof *c);
    if (!c)
        return NULL;
    c->bits = bits;
    c->hexp = HMIN_EXP;
    c->cnt = csq_mem_zarray(NBINS, sizeof *c->cnt);
    c->sum = csq_mem_zarray(NBINS, sizeof *c->sum);
    if (!c->cnt || !c->sum) {
        csq_actcal_free(c);
        return NULL;
    }
    return c;
}

void csq_actcal_free(struct csq_actcal *c)
{
    if (!c)
        return;
    free(c->cnt);
    free(c->sum);
    free(c);
}

/* Double the bin width: bin i (relative to 0) goes to floor(i / 2).  Done in
 * place: non-negative targets ascending, negative ones descending, so no
 * source is overwritten before it is read. */
static void widen(struct csq_actcal *c)
{
    const int H = CSQ_QUANT_HALFBINS;
    for (int j = 0; j < H / 2; j++) {
        double n = c->cnt[H + 2 * j] + c->cnt[H + 2 * j + 1];
        double s = c->sum[H + 2 * j] + c->sum[H + 2 * j + 1];
        c->cnt[H + j] = n;
        c->sum[H + j] = s;
    }
    for (int j = -1; j >= -H / 2; j--) {
        double n = c->cnt[H + 2 * j] + c->cnt[H + 2 * j + 1];
        double s = c->sum[H + 2 * j] + c->sum[H + 2 * j + 1];
        c->cnt[H + j] = n;
        c->sum[H + j] = s;
    }
    for (int j = H / 2; j < H; j++)
        c->cnt[H + j] = c->sum[H + j] = 0;
    for (int j = -H; j < -H / 2; j++)
        c->cnt[H + j] = c->sum[H + j] = 0;
    c->hexp++;
}

/* Min, max and whether every value is finite, in one vectorizable pass
 * (float min / max are the double ones: the conversion is exact). */
static int scan(const float *restrict x, size_t n, float *mn, float *mx)
{
    float lo = INFINITY, hi = -INFINITY;
    int bad = 0;

#pragma omp simd reduction(min : lo) reduction(max : hi) reduction(| : bad)
    for (size_t i = 0; i < n; i++) {
        lo = x[i] < lo ? x[i] : lo;
        hi = x[i] > hi ? x[i] : hi;
        bad |= !(fabsf(x[i]) <= FLT_MAX);
    }
    *mn = lo;
    *mx = hi;
    return bad;
}

int csq_actcal_add(struct csq_actcal *c, const float *x, size_t n)
{
    const double H = CSQ_QUANT_HALFBINS;
    double mn = c->min, mx = c->max, inv;
    float lo, hi;
    uint64_t zeros = 0;

    if (c->count == 0) {
        mn = INFINITY;
        mx = -INFINITY;
    }
    if (scan(x, n, &lo, &hi)) {
        for (size_t i = 0; i < n; i++)
            if (!isfinite(x[i]))
                return csq_fail(CSQ_EINVAL, "quant: calibration value %zu is not finite", i);
    }
    if (n == 0)
        return CSQ_OK;
    mn = (double)lo < mn ? lo : mn;
    mx = (double)hi > mx ? hi : mx;
    while (!(mx < H * ldexp(1, c->hexp) && mn >= -H * ldexp(1, c->hexp)))
        widen(c);
    c->min = mn;
    c->max = mx;
    c->count += n;
    inv = ldexp(1, -c->hexp); /* exact: x * inv is x / h with no rounding */
    /* Zeros (half of a ReLU's outputs) only count: adding 0 to a bin's sum
     * changes nothing, and one bin's chain of dependent adds is what made
     * this loop slow. */
    for (size_t i = 0; i < n; i++) {
        if (x[i] == 0) {
            zeros++;
            continue;
        }
        int j = (int)floor((double)x[i] * inv) + CSQ_QUANT_HALFBINS;
        c->cnt[j] += 1;
        c->sum[j] += (double)x[i];
    }
    c->cnt[CSQ_QUANT_HALFBINS] += (double)zeros;
    return CSQ_OK;
}

void csq_actcal_stats(const struct csq_actcal *c, uint64_t *count, double *min, double *max,
                      double *bin_width)
{
    if (count)
        *count = c->count;
    if (min)
        *min = c->count ? c->min : 0;
    if (max)
        *max = c->count ? c->max : 0;
    if (bin_width)
        *bin_width = ldexp(1, c->hexp);
}

int csq_actcal_finish(const struct csq_actcal *c, struct csq_actq *q)
{
    double *m, *w, best = 0;
    int nb = 0, bestk = 100, rc = CSQ_OK;
    struct csq_actq t;

    if (c->count == 0)
        return csq_fail(CSQ_EINVAL, "quant: no calibration values");
    m = csq_mem_array(NBINS, sizeof *m);
    w = csq_mem_array(NBINS, sizeof *w);
    if (!m || !w) {
        rc = CSQ_ENOMEM;
        goto out;
    }
    for (int j = 0; j < NBINS; j++)
        if (c->cnt[j] > 0) {
            m[nb] = c->sum[j] / c->cnt[j];
            w[nb++] = c->cnt[j];
        }
    for (int k = 100; k >= CSQ_QUANT_AGRID_MIN; k--) {
        double r = (double)k / 100.0, err = 0;
        rc = csq_actq_init(&t, c->bits, c->min >= 0 ? 0 : r * c->min, r * c->max);
        if (rc)
            goto out;
        for (int i = 0; i < nb; i++) {
            double d = m[i] - csq_actq_value(&t, m[i]);
            err += w[i] * d * d;
        }
        if (k == 100 || err < best * (1 - TIE_EPS)) {
            best = err;
            bestk = k;
        }
    }
    {
        double r = (double)bestk / 100.0;
        rc = csq_actq_init(q, c->bits, c->min >= 0 ? 0 : r * c->min, r * c->max);
        q->ratio = r;
        q->mse = best / (double)c->count;
    }
out:
    free(m);
    free(w);
    return rc;
}
