/* quant: weight and activation fake quantization, hand-worked cases and
 * brute-force searches written out plainly here. */
#include "config.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

#include "fixture.h"
#include "rng.h"
#include "tap.h"
#include "mpq/quant.h"
#include "nn/graph.h"
#include "util/err.h"
#include "util/npy.h"

/* --- plain reference implementations --- */

/* round half away from zero, written without round() */
static double rhaz(double x)
{
    return x >= 0 ? floor(x + 0.5) : -floor(-x + 0.5);
}

static double ref_wsse(const float *w, int n, int bits, double r, float *out)
{
    double qmax = (1 << (bits - 1)) - 1, maxabs = 0, sse = 0;
    for (int i = 0; i < n; i++)
        maxabs = fmax(maxabs, fabs(w[i]));
    double scale = r * maxabs / qmax;
    for (int i = 0; i < n; i++) {
        double q = rhaz(w[i] / scale);
        q = q > qmax ? qmax : q < -qmax ? -qmax : q;
        if (out)
            out[i] = (float)q * (float)scale; /* DequantizeLinear's float32 product */
        sse += (w[i] - q * scale) * (w[i] - q * scale);
    }
    return sse;
}

/* exact mean squared error of quantizing x to [lo, hi] with b bits */
static double ref_amse(const float *x, int n, int bits, double lo, double hi)
{
    double levels = (1 << bits) - 1, scale = (hi - lo) / levels, zp = rhaz(-lo / scale), e = 0;
    for (int i = 0; i < n; i++) {
        double t = rint(x[i] / scale) + zp; /* half to even, as QuantizeLinear */
        t = t < 0 ? 0 : t > levels ? levels : t;
        double d = x[i] - (t - zp) * scale;
        e += d * d;
    }
    return e / n;
}

/* --- weights --- */

static void test_weights_hand(void)
{
    struct csq_wquant info;
    float w[5] = {-1, -0.5f, 0, 0.5f, 1};
    double sqnr = 0;

    /* 2 bits: qmax 1, scale = r.  For r in (0, 1]: +-1 -> +-r (clamped),
     * +-0.5 -> +-r (0.5 / r >= 0.5 rounds away from zero to 1; 0.5/r >= 1.5
     * only when r <= 1/3 and then clamps to 1), 0 -> 0.  SSE(r) =
     * 2 (1 - r)^2 + 2 (0.5 - r)^2, least at r = 0.75 with SSE 0.25 (r = 1
     * gives 0.5).  SQNR = 10 log10(2.5 / 0.25) = 10 dB. */
    is_int(csq_quant_weights(w, 1, 5, 2, &sqnr), CSQ_OK, "2-bit weights");
    is_near(w[0], -0.75, 1e-7, "2 bits: -1 -> -0.75");
    is_near(w[1], -0.75, 1e-7, "2 bits: -0.5 -> -0.75");
    is_near(w[2], 0, 0, "2 bits: 0 -> 0");
    is_near(w[3], 0.75, 1e-7, "2 bits: 0.5 -> 0.75");
    is_near(w[4], 0.75, 1e-7, "2 bits: 1 -> 0.75");
    is_near(sqnr, 10, 1e-6, "2 bits: SQNR 10 dB");

    float v[5] = {-1, -0.5f, 0, 0.5f, 1};
    is_int(csq_quant_channel(v, 5, 2, &info), CSQ_OK, "2-bit channel");
    is_near(info.ratio, 0.75, 1e-12, "2 bits: ratio 0.75");
    is_near(info.scale, 0.75, 1e-12, "2 bits: scale 0.75");
    is_near(info.sse, 0.25, 1e-12, "2 bits: sse 0.25");

    /* 3 bits: qmax 3, scale = r / 3.  +-1 -> +-r (3 / r >= 3 clamps).
     * +-0.5: 1.5 / r rounds to 2 for r in (0.6, 1] (1.5 itself rounds away
     * from zero), to 3 for r <= 0.6.  On (0.6, 1]: SSE = 2 (1 - r)^2 +
     * 2 (0.5 - 2r/3)^2, stationary at r = 144/156 = 0.923; on the grid
     * SSE(0.92) = 0.0128 + 2 (0.11333)^2 = 0.038489 < SSE(0.93) = 0.0386.
     * On (0, 0.6] SSE >= SSE(0.6) = 0.34.  So r = 0.92, scale 0.306667,
     * outputs +-0.92, +-0.613333, 0. */
    float u[5] = {-1, -0.5f, 0, 0.5f, 1};
    is_int(csq_quant_channel(u, 5, 3, &info), CSQ_OK, "3-bit channel");
    is_near(info.ratio, 0.92, 1e-12, "3 bits: ratio 0.92");
    is_near(info.scale, 0.92 / 3, 1e-12, "3 bits: scale 0.92/3");
    is_near(info.sse, 0.0128 + 2 * (0.5 - 2 * 0.92 / 3) * (0.5 - 2 * 0.92 / 3), 1e-12,
            "3 bits: sse");
    is_near(u[0], -0.92, 1e-7, "3 bits: -1 -> -0.92");
    is_near(u[1], -2 * 0.92 / 3, 1e-7, "3 bits: -0.5 -> -0.613333");
    is_near(u[2], 0, 0, "3 bits: 0 -> 0");
    is_near(u[3], 2 * 0.92 / 3, 1e-7, "3 bits: 0.5 -> 0.613333");
    is_near(u[4], 0.92, 1e-7, "3 bits: 1 -> 0.92");

    /* 1 bit: s = mean |w| = 3/5; 0 counts as non-negative. SSE = 0.16 + 0.01
     * + 0.36 + 0.01 + 0.16 = 0.7. */
    float b[5] = {-1, -0.5f, 0, 0.5f, 1};
    is_int(csq_quant_channel(b, 5, 1, &info), CSQ_OK, "1-bit channel");
    ok(b[0] == -0.6f && b[1] == -0.6f && b[2] == 0.6f && b[3] == 0.6f && b[4] == 0.6f,
       "1 bit: {-s, +s} with s = mean|w| = 0.6, 0 -> +s");
    is_near(info.sse, 0.7, 1e-12, "1 bit: sse 0.7");
    is_near(info.scale, 0.6, 1e-12, "1 bit: scale = s");
}

static void test_weights_zero_and_independence(void)
{
    float w[3 * 4] = {
        0, 0, -0.0f, 0,                /* all zero */
        100, -300, 50, 7,              /* large */
        0.001f, -0.002f, 0.0005f, 0,   /* tiny */
    };
    float a[4] = {100, -300, 50, 7}, b[4] = {0.001f, -0.002f, 0.0005f, 0};
    struct csq_wquant info;
    double sqnr;

    is_int(csq_quant_weights(w, 3, 4, 4, &sqnr), CSQ_OK, "3 channels at 4 bits");
    ok(w[0] == 0 && w[1] == 0 && w[2] == 0 && !signbit(w[2]) && w[3] == 0,
       "zero channel stays +0 (no division by zero)");
    csq_quant_channel(a, 4, 4, NULL);
    csq_quant_channel(b, 4, 4, NULL);
    ok(memcmp(w + 4, a, sizeof a) == 0, "large channel quantized as if alone");
    ok(memcmp(w + 8, b, sizeof b) == 0, "tiny channel quantized as if alone");
    ok(w[9] != 0 && w[8] != 0, "tiny channel not flushed to zero by the large one");
    ok(isfinite(sqnr) && sqnr > 10, "SQNR finite and sensible (%.2f dB)", sqnr);

    float z[4] = {0, 0, 0, 0};
    is_int(csq_quant_channel(z, 4, 8, &info), CSQ_OK, "zero channel alone");
    ok(info.scale == 0 && info.sse == 0, "zero channel: scale 0, sse 0");
    is_int(csq_quant_weights(z, 1, 4, 8, &sqnr), CSQ_OK, "zero tensor");
    ok(isinf(sqnr) && sqnr > 0, "zero tensor: SQNR +inf");

    /* values already on the 8-bit grid of their own max are exact */
    float g[3] = {-127, 3, 127};
    is_int(csq_quant_weights(g, 1, 3, 8, &sqnr), CSQ_OK, "on-grid tensor");
    ok(g[0] == -127 && g[1] == 3 && g[2] == 127 && isinf(sqnr), "on-grid tensor exact, +inf dB");
}

static void test_weights_outlier(void)
{
    enum { N = 512 };
    float w[N], q[N], ref[N];
    struct csq_wquant info;

    for (int bits = 2; bits <= 4; bits++) {
        for (int i = 0; i < N; i++)
            w[i] = (float)(0.1 * gauss());
        w[N / 3] = 1.5f; /* one outlier, ~15 sigma */
        memcpy(q, w, sizeof w);
        is_int(csq_quant_channel(q, N, bits, &info), CSQ_OK, "%d bits: outlier channel", bits);

        /* brute force over k = 1..100, first strict minimum from k = 100 down */
        int bestk = 100;
        double best = ref_wsse(w, N, bits, 1.0, NULL);
        for (int k = 99; k >= 1; k--) {
            double e = ref_wsse(w, N, bits, k / 100.0, NULL);
            if (e < best) {
                best = e;
                bestk = k;
            }
        }
        ok(info.ratio < 1, "%d bits: outlier makes the ratio < 1 (%.2f)", bits, info.ratio);
        is_near(info.ratio, bestk / 100.0, 1e-12, "%d bits: ratio matches the brute force",
                bits);
        is_near(info.sse, best, 1e-9 * best, "%d bits: sse matches the brute force", bits);
        ok(info.sse <= ref_wsse(w, N, bits, 1.0, NULL), "%d bits: no worse than r = 1", bits);
        ref_wsse(w, N, bits, bestk / 100.0, ref);
        ok(memcmp(q, ref, sizeof q) == 0, "%d bits: values match the plain quantizer", bits);
    }
}

static void test_weights_strided_and_errors(void)
{
    /* (K = 3, N = 2) MatMul weight: output channels are the columns */
    float kn[6] = {1, -0.2f, -0.5f, 4, 0.25f, 3};
    float nk[6] = {1, -0.5f, 0.25f, -0.2f, 4, 3};
    double s1, s2;
    is_int(csq_quant_weights_strided(kn, 2, 3, 1, 2, 3, &s1), CSQ_OK, "strided (columns)");
    is_int(csq_quant_weights(nk, 2, 3, 3, &s2), CSQ_OK, "contiguous transpose");
    ok(kn[0] == nk[0] && kn[2] == nk[1] && kn[4] == nk[2] && kn[1] == nk[3] &&
           kn[3] == nk[4] && kn[5] == nk[5] && s1 == s2,
       "strided equals the transposed contiguous result");

    float w[2] = {1, 2};
    is_int(csq_quant_weights(w, 1, 2, 0, NULL), CSQ_EINVAL, "0 weight bits -> EINVAL");
    is_int(csq_quant_weights(w, 1, 2, 17, NULL), CSQ_EINVAL, "17 weight bits -> EINVAL");
    is_int(csq_quant_channel(w, 2, -3, NULL), CSQ_EINVAL, "-3 weight bits -> EINVAL");
    ok(strstr(csq_errmsg(), "quant: ") == csq_errmsg(), "message: %s", csq_errmsg());
    csq_errclear();
    float nan[3] = {1, NAN, 2};
    is_int(csq_quant_weights(nan, 1, 3, 4, NULL), CSQ_EINVAL, "NaN weight -> EINVAL");
    ok(nan[0] == 1 && nan[2] == 2, "nothing changed on error");
    csq_errclear();
    float big[2] = {65535, -1};
    is_int(csq_quant_weights(big, 1, 2, 16, NULL), CSQ_OK, "16 bits accepted");
}

/* --- activations --- */

static void test_actq_hand(void)
{
    struct csq_actq q;

    /* unsigned: [0, 3] at 2 bits: scale 1, zp 0 */
    is_int(csq_actq_init(&q, 2, 0, 3), CSQ_OK, "init [0, 3]");
    ok(q.zp == 0 && q.scale == 1, "unsigned: zp 0, scale 1");
    float x[10] = {0, 1, 2, 3, -1, 3.4f, 5, 1.5f, 2.5f, 0.5f};
    csq_actq_apply(&q, x, 10);
    ok(x[0] == 0 && x[1] == 1 && x[2] == 2 && x[3] == 3, "on-grid values exact");
    ok(x[4] == 0 && x[5] == 3 && x[6] == 3, "out-of-range values clamp to 0 and 3");
    ok(x[7] == 2 && x[8] == 2 && x[9] == 0,
       "halves round to even as QuantizeLinear: 1.5 -> 2, 2.5 -> 2, 0.5 -> 0");

    /* signed: [-1, 2] at 2 bits: scale 1, zp 1, values {-1, 0, 1, 2} */
    is_int(csq_actq_init(&q, 2, -1, 2), CSQ_OK, "init [-1, 2]");
    ok(q.zp == 1 && q.scale == 1, "signed: zp 1, scale 1");
    float y[7] = {-3, 2.6f, -0.5f, 0.49f, 1.2f, -1, -1.5f};
    csq_actq_apply(&q, y, 7);
    ok(y[0] == -1 && y[1] == 2, "clamp both ends");
    ok(y[2] == 0 && !signbit(y[2]), "-0.5 rounds to even: +0 (level zp, as Dequantize gives)");
    ok(y[6] == -1, "-1.5 rounds to even -2, clamped to the bottom level -1");
    ok(y[3] == 0 && y[4] == 1 && y[5] == -1, "0.49 -> 0, 1.2 -> 1, -1 exact");

    /* [-1, 2.5] at 3 bits: scale 3.5/7 = 0.5, zp = round(1 / 0.5) = 2 */
    is_int(csq_actq_init(&q, 3, -1, 2.5), CSQ_OK, "init [-1, 2.5]");
    ok(q.zp == 2 && q.scale == 0.5, "3 bits: zp 2, scale 0.5");
    is_near(csq_actq_value(&q, 0.74), 0.5, 0, "0.74 -> 0.5");
    is_near(csq_actq_value(&q, 0.75), 1.0, 0, "0.75 -> 1.0 (1.5 steps: to even 2)");
    is_near(csq_actq_value(&q, 1.25), 1.0, 0, "1.25 -> 1.0 (2.5 steps: to even 2)");
    ok(csq_actq_value32(&q, 1.25f) == 1.0f && csq_actq_value32(&q, 0.25f) == 0.0f,
       "float32 path: 1.25 -> 1, 0.25 -> 0 (halves to even)");
    is_near(csq_actq_value(&q, 9), 2.5, 0, "9 -> 2.5 (top level 7 - zp = 5 steps)");
    is_near(csq_actq_value(&q, -9), -1, 0, "-9 -> -1");

    /* a range not containing 0 is widened to contain it */
    is_int(csq_actq_init(&q, 4, 1, 16), CSQ_OK, "init [1, 16]");
    ok(q.lo == 0 && q.hi == 16 && q.zp == 0, "range widened to [0, 16]");

    is_int(csq_actq_init(&q, 0, 0, 1), CSQ_EINVAL, "0 activation bits -> EINVAL");
    is_int(csq_actq_init(&q, 17, 0, 1), CSQ_EINVAL, "17 activation bits -> EINVAL");
    is_int(csq_actq_init(&q, 8, 2, 1), CSQ_EINVAL, "inverted range -> EINVAL");
    ok(csq_actcal_new(0) == NULL && csq_actcal_new(17) == NULL,
       "calibrator with bad bits -> NULL");
    csq_errclear();
}

static void test_actcal_hand(void)
{
    struct csq_actq q;
    struct csq_actcal *c = csq_actcal_new(2);
    double h, mn, mx;
    uint64_t n;

    is_int(csq_actcal_finish(c, &q), CSQ_EINVAL, "finish with no data -> EINVAL");
    csq_errclear();

    /* {0, 1, 2, 3} at 2 bits: r = 1 gives [0, 3], every value exact; any
     * r < 1 shrinks the step and clips 3 */
    float x[4] = {0, 1, 2, 3};
    is_int(csq_actcal_add(c, x, 4), CSQ_OK, "add {0,1,2,3}");
    csq_actcal_stats(c, &n, &mn, &mx, &h);
    ok(n == 4 && mn == 0 && mx == 3, "stats: 4 values in [0, 3]");
    /* smallest 2^k with 3 < 2048 * 2^k: 2^-9 */
    is_near(h, ldexp(1, -9), 0, "bin width 2^-9");
    is_int(csq_actcal_finish(c, &q), CSQ_OK, "finish");
    ok(q.zp == 0 && q.lo == 0 && q.hi == 3 && q.scale == 1 && q.ratio == 1 && q.mse == 0,
       "unsigned, [0, 3], exact");
    csq_actq_apply(&q, x, 4);
    ok(x[0] == 0 && x[1] == 1 && x[2] == 2 && x[3] == 3, "identity on the grid");

    /* a later batch with a larger max widens the bins: 100 < 2048 h -> 2^-4 */
    float y[1] = {100};
    is_int(csq_actcal_add(c, y, 1), CSQ_OK, "add 100");
    csq_actcal_stats(c, &n, &mn, &mx, &h);
    ok(n == 5 && mx == 100 && h == ldexp(1, -4), "max 100, bin width 2^-4");
    float bad[2] = {1, INFINITY};
    is_int(csq_actcal_add(c, bad, 2), CSQ_EINVAL, "infinite value -> EINVAL");
    csq_actcal_stats(c, &n, &mn, &mx, &h);
    ok(n == 5 && mx == 100, "failed batch not counted");
    csq_errclear();
    csq_actcal_free(c);

    /* signed: {-2, ..., 5} at 3 bits: [-2, 5], scale 1, zp 2, exact */
    c = csq_actcal_new(3);
    float s[8] = {-2, -1, 0, 1, 2, 3, 4, 5};
    csq_actcal_add(c, s, 8);
    is_int(csq_actcal_finish(c, &q), CSQ_OK, "finish signed");
    ok(q.lo == -2 && q.hi == 5 && q.zp == 2 && q.scale == 1 && q.mse == 0,
       "signed: [-2, 5], zp 2, exact");
    csq_actcal_free(c);

    /* only zeros: scale 0, everything maps to 0 */
    c = csq_actcal_new(8);
    float z[3] = {0, 0, 0};
    csq_actcal_add(c, z, 3);
    is_int(csq_actcal_finish(c, &q), CSQ_OK, "finish zeros");
    float t[2] = {0, 7};
    csq_actq_apply(&q, t, 2);
    ok(q.scale == 0 && t[0] == 0 && t[1] == 0, "all-zero calibration: scale 0, maps to 0");
    csq_actcal_free(c);
    csq_actcal_free(NULL);
}

static void test_actcal_search(void)
{
    enum { N = 3000 };
    static float x[N];

    for (int pass = 0; pass < 3; pass++) {
        int bits = pass == 0 ? 4 : pass == 1 ? 3 : 6;
        for (int i = 0; i < N; i++) {
            double g = gauss();
            /* pass 0: ReLU'd Gaussian with a few outliers; 1: skewed signed
             * Laplace-like; 2: signed Gaussian */
            x[i] = pass == 0 ? (float)fmax(0, g) : pass == 1
                ? (float)(g * fabs(g) + 0.3) : (float)g;
        }
        x[7] = pass == 0 ? 12.0f : 9.0f;
        x[N - 5] = pass == 0 ? 0 : -7.0f;

        /* batches of 1000, 1 and the rest: the histogram must not care */
        struct csq_actcal *c = csq_actcal_new(bits), *one = csq_actcal_new(bits);
        struct csq_actq q, q1;
        csq_actcal_add(c, x, 1000);
        csq_actcal_add(c, x + 1000, 1);
        csq_actcal_add(c, x + 1001, N - 1001);
        csq_actcal_add(one, x, N);
        is_int(csq_actcal_finish(c, &q), CSQ_OK, "pass %d: finish", pass);
        csq_actcal_finish(one, &q1);
        ok(q.lo == q1.lo && q.hi == q1.hi && q.zp == q1.zp,
           "pass %d: same range whatever the batch split", pass);
        ok(pass == 0 ? q.zp == 0 && q.lo == 0 : q.lo < 0, "pass %d: %s", pass,
           pass == 0 ? "unsigned" : "signed");

        /* brute force on the raw values over the same ratio grid */
        double mn = 0, mx = 0, best = INFINITY;
        int bestk = 0;
        for (int i = 0; i < N; i++) {
            mn = fmin(mn, x[i]);
            mx = fmax(mx, x[i]);
        }
        for (int k = 100; k >= 1; k--) {
            double e = ref_amse(x, N, bits, k / 100.0 * mn, k / 100.0 * mx);
            if (e < best) {
                best = e;
                bestk = k;
            }
        }
        double got = ref_amse(x, N, bits, q.lo, q.hi);
        diag("pass %d: histogram ratio %.2f mse %.6g, brute ratio %.2f mse %.6g", pass,
             q.ratio, got, bestk / 100.0, best);
        ok(q.ratio < 1, "pass %d: outliers clipped (ratio %.2f)", pass, q.ratio);
        ok(got <= best * 1.03, "pass %d: achieved mse within 3%% of the brute force", pass);
        ok(fabs(q.mse - got) <= 0.05 * got, "pass %d: estimated mse %.6g close to actual %.6g",
           pass, q.mse, got);
        csq_actcal_free(c);
        csq_actcal_free(one);
    }
}

/* --- agreement with scripts/reference-quant (goldens by make-quant-goldens) --- */

static const int gwbits[7] = {1, 2, 3, 4, 5, 8, 16};
static const int gabits[3] = {2, 4, 8};

static int load(const char *rel, struct csq_tensor *t, int dtype, int64_t numel)
{
    int64_t n = 1;
    if (csq_npy_read(fx_path(rel), t) != CSQ_OK || t->dtype != dtype) {
        diag("cannot read %s: %s", fx_path(rel), csq_errmsg());
        return -1;
    }
    for (int i = 0; i < t->rank; i++)
        n *= t->dims[i];
    return n == numel ? 0 : -1;
}

static void test_goldens(void)
{
    struct csq_tensor w, wq, wk, a, aq;
    float row[72], buf[2000];
    int rc = 0;

    rc |= load("quant/w.npy", &w, CSQ_DT_FLOAT, 10 * 72);
    rc |= load("quant/wq.npy", &wq, CSQ_DT_FLOAT, 7 * 10 * 72);
    rc |= load("quant/wk.npy", &wk, CSQ_DT_INT64, 7 * 10);
    rc |= load("quant/a.npy", &a, CSQ_DT_FLOAT, 3 * 2000);
    rc |= load("quant/aq.npy", &aq, CSQ_DT_FLOAT, 3 * 3 * 2000);
    if (!ok(rc == 0, "golden files read"))
        return;

    for (int b = 0; b < 7; b++) {
        int same = 1, ksame = 1;
        for (int c = 0; c < 10; c++) {
            struct csq_wquant info;
            memcpy(row, (float *)w.data + c * 72, sizeof row);
            csq_quant_channel(row, 72, gwbits[b], &info);
            if (memcmp(row, (float *)wq.data + (b * 10 + c) * 72, sizeof row) != 0) {
                same = 0;
                diag("bits %d channel %d differs", gwbits[b], c);
            }
            if (lround(info.ratio * 100) != ((int64_t *)wk.data)[b * 10 + c]) {
                ksame = 0;
                diag("bits %d channel %d: ratio %.2f, reference %lld", gwbits[b], c,
                     info.ratio, (long long)((int64_t *)wk.data)[b * 10 + c]);
            }
        }
        ok(same, "%d-bit weights bit-identical to the PyTorch reference", gwbits[b]);
        /* the whole tensor at once (threads over channels) gives the same */
        static float all[10 * 72];
        memcpy(all, w.data, sizeof all);
        csq_quant_weights(all, 10, 72, gwbits[b], NULL);
        ok(memcmp(all, (float *)wq.data + b * 10 * 72, sizeof all) == 0,
           "%d-bit tensor bit-identical to the reference", gwbits[b]);
        ok(ksame, "%d-bit clipping ratios equal the reference's", gwbits[b]);
    }

    FILE *fp = fopen(fx_path("quant/act.tsv"), "r");
    char line[512];
    int rows = 0;
    while (fp && fgets(line, sizeof line, fp)) {
        int c, bits, zp, k, j;
        double lo, hi, scale;
        struct csq_actq q;
        if (line[0] == '#' ||
            sscanf(line, "%d %d %lf %lf %lf %d %d", &c, &bits, &lo, &hi, &scale, &zp, &k) != 7)
            continue;
        for (j = 0; j < 3 && gabits[j] != bits; j++)
            ;
        struct csq_actcal *cal = csq_actcal_new(bits);
        const float *x = (float *)a.data + c * 2000;
        /* batches of 700 here, 500 in the reference: the split must not matter */
        for (int s0 = 0; s0 < 2000; s0 += 700)
            csq_actcal_add(cal, x + s0, (size_t)(2000 - s0 < 700 ? 2000 - s0 : 700));
        csq_actcal_finish(cal, &q);
        csq_actcal_free(cal);
        is_int(lround(q.ratio * 100), k, "act case %d, %d bits: ratio", c, bits);
        ok(q.zp == zp && fabs(q.lo - lo) <= 1e-12 * fabs(lo) &&
               fabs(q.hi - hi) <= 1e-12 * fabs(hi) && fabs(q.scale - scale) <= 1e-12 * scale,
           "act case %d, %d bits: range [%g, %g] zp %d as the reference", c, bits, q.lo, q.hi,
           q.zp);
        memcpy(buf, x, sizeof buf);
        csq_actq_apply(&q, buf, 2000);
        ok(memcmp(buf, (float *)aq.data + (c * 3 + j) * 2000, sizeof buf) == 0,
           "act case %d, %d bits: values bit-identical to the reference", c, bits);
        rows++;
    }
    if (fp)
        fclose(fp);
    is_int(rows, 9, "9 activation golden rows");
    free(w.data);
    free(wq.data);
    free(wk.data);
    free(a.data);
    free(aq.data);
}

/* ONNX Runtime's QuantizeLinear -> DequantizeLinear on the same values and
 * scale (scripts/make-qdq-golden), ties included: the simulation is what an
 * exported QDQ model computes, to the bit. */
static void test_qdq_ort(void)
{
    enum { N = 3000 };
    struct csq_tensor x, y;
    static float buf[N];
    char line[256];
    int rows = 0, rc = 0;

    rc |= load("quant/qdq-x.npy", &x, CSQ_DT_FLOAT, 4 * N);
    rc |= load("quant/qdq-y.npy", &y, CSQ_DT_FLOAT, 4 * N);
    FILE *fp = fopen(fx_path("quant/qdq.tsv"), "r");
    if (!ok(rc == 0 && fp, "ONNX Runtime golden files read"))
        return;
    while (fgets(line, sizeof line, fp)) {
        int c, bits, zp, diff = 0, ties = 0;
        double scale;
        struct csq_actq q;
        if (line[0] == '#' || sscanf(line, "%d %d %lf %d", &c, &bits, &scale, &zp) != 4)
            continue;
        memset(&q, 0, sizeof q);
        q.bits = bits;
        q.scale = scale;
        q.zp = zp;
        memcpy(buf, (float *)x.data + c * N, sizeof buf);
        csq_actq_apply(&q, buf, N);
        for (int i = 0; i < N; i++) {
            float xi = ((float *)x.data)[c * N + i], want = ((float *)y.data)[c * N + i];
            float t = xi / (float)scale;
            ties += t - floorf(t) == 0.5f;
            if (memcmp(&buf[i], &want, sizeof want) != 0 ||
                memcmp(&buf[i], &(float){csq_actq_value32(&q, xi)}, sizeof want) != 0) {
                if (diff++ < 3)
                    diag("case %d: x %.9g -> %.9g, ORT %.9g", c, xi, buf[i], want);
            }
        }
        ok(diff == 0, "%d bits, zp %d: bit-identical to ONNX Runtime's QDQ (%d ties)", bits, zp,
           ties);
        rows++;
    }
    fclose(fp);
    is_int(rows, 4, "4 ONNX Runtime cases");
    free(x.data);
    free(y.data);
}

int main(void)
{
    test_weights_hand();
    test_weights_zero_and_independence();
    test_weights_outlier();
    test_weights_strided_and_errors();
    test_actq_hand();
    test_actcal_hand();
    test_actcal_search();
    test_goldens();
    test_qdq_ort();
    return tap_done();
}
