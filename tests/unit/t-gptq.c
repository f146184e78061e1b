/* gptq, hessian, werr: hand-worked cases, brute-force loops written out
 * plainly here, and goldens from the PyTorch reference (scripts/
 * make-gptq-golden, from DESIGN §7). */
#include "config.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kt.h"
#include "rng.h"
#include "tap.h"
#include "mpq/gptq.h"
#include "mpq/hessian.h"
#include "mpq/lapack.h"
#include "mpq/quant.h"
#include "mpq/werr.h"
#include "nn/graph.h"
#include "nn/im2col.h"
#include "onnx/onnx.h"
#include "util/err.h"
#include "util/limits.h"
#include "util/npy.h"

/* --- deterministic test data --- */

/* rows x k weights N(0, 0.1) and H = (2/n) X^T X of n patches with
 * correlated inputs: x = z M, M banded with entries decaying away from the
 * diagonal, plus a common offset (as post-ReLU inputs have). */
static void make_layer(int rows, int k, int n, float *w, double *h)
{
    double *m = calloc((size_t)(k * k), sizeof *m), *x = calloc((size_t)k, sizeof *x);
    int i, j, t, s;

    for (i = 0; i < k; i++)
        for (j = 0; j < k; j++)
            m[i * k + j] = gauss() * exp(-fabs((double)(i - j)) / 3);
    memset(h, 0, (size_t)(k * k) * sizeof *h);
    for (t = 0; t < n; t++) {
        double z[256];
        for (s = 0; s < k; s++)
            z[s] = gauss();
        for (j = 0; j < k; j++) {
            x[j] = 0.5;
            for (s = 0; s < k; s++)
                x[j] += z[s] * m[s * k + j];
        }
        for (i = 0; i < k; i++)
            for (j = 0; j < k; j++)
                h[i * k + j] += x[i] * x[j];
    }
    for (i = 0; i < k * k; i++)
        h[i] *= 2.0 / n;
    for (i = 0; i < rows * k; i++)
        w[i] = (float)(0.1 * gauss());
    free(m);
    free(x);
}

static void rtn(const float *w, int rows, int k, int bits, float *out)
{
    memcpy(out, w, (size_t)(rows * k) * sizeof *out);
    csq_quant_weights(out, rows, k, bits, NULL);
}

static int gq(const float *w, int rows, int k, int groups, const double *h, int bits, int act,
              int64_t block, float *out, struct csq_gptq_info *info)
{
    struct csq_gptq_opts o;
    csq_gptq_opts_init(&o, bits);
    o.act_order = act;
    o.block = block;
    return csq_gptq_quantize(w, rows, k, k, 1, groups, h, &o, out, NULL, NULL, info);
}

static int count_diff(const float *a, const float *b, int n)
{
    int d = 0;
    for (int i = 0; i < n; i++)
        d += memcmp(&a[i], &b[i], sizeof *a) != 0;
    return d;
}

/* --- lapack --- */

static void test_lapack(void)
{
    /* H' = [[10.055, -3], [-3, 1.055]] (the hand case below, dampened) */
    double det = 1.608025;
    enum { K = 30 };
    static double h[K * K];
    static float w[K];
    make_layer(1, K, 200, w, h);
    for (int i = 0; i < K; i++)
        h[i * K + i] += 0.01;

    /* what GPTQ uses: R upper with R R^T = H on a random SPD 30 x 30 */
    static double r[K * K];
    memcpy(r, h, sizeof h);
    ok(csq_lapack_rev_chol_upper(r, K) == 0, "30x30: R factorizes");
    double wrr = 0;
    for (int i = 0; i < K; i++)
        for (int j = 0; j < K; j++) {
            double s = 0;
            for (int p = i > j ? i : j; p < K; p++)
                s += r[i * K + p] * r[j * K + p];
            wrr = fmax(wrr, fabs(s - h[i * K + j]) / h[0]);
        }
    ok(wrr < 1e-12, "R R^T = H (worst %.3g)", wrr);
    double a2[4] = {10.055, -3, -3, 1.055};
    ok(csq_lapack_rev_chol_upper(a2, 2) == 0 && fabs(a2[3] - sqrt(1.055)) < 1e-14 &&
       fabs(a2[1] + 3 / sqrt(1.055)) < 1e-14 && fabs(a2[0] - sqrt(det / 1.055)) < 1e-14,
       "2x2: R = [[sqrt(det / 1.055), -3 / sqrt(1.055)], [0, sqrt(1.055)]]");
    double nan3[4] = {1, NAN, NAN, 1}, neg2[4] = {-1, 0, 0, 1};
    ok(csq_lapack_rev_chol_upper(nan3, 2) != 0 && csq_lapack_rev_chol_upper(neg2, 2) != 0,
       "R: NaN and indefinite refused");
    ok(csq_errmsg()[0] == 0, "no message recorded for a failed factorization");
}

/* --- GPTQ, hand-worked --- */

static void test_hand(void)
{
    /*
     * One row w = (0.3, 1.0), 2 bits (levels -1, 0, 1), H = [[10, -3], [-3, 1]].
     * Scale (rtn): max|w| = 1; for s in (0.6, 1], Q(w) = (0, s), sse = 0.09 +
     * (1 - s)^2, least at s = 1 (0.09); for s <= 0.6 both round to s and sse
     * >= 0.25.  So r = 1, s = 1.
     * Dampening: mean diag = 5.5, H' = H + 0.055 I = [[10.055, -3], [-3, 1.055]].
     * U = chol(H'^-1, upper): U01 / U00 = H'^-1_01 / H'^-1_00 = 3 / 1.055.
     * Column 0: q0 = Q(0.3) = 0, e = 0.3 / U00, w1 -= e U01 = 0.3 x 3 / 1.055
     * = 0.853081, so w1 = 0.146919 and q1 = Q(0.146919) = 0.
     * GPTQ gives (0, 0) where rtn gives (0, 1).  Output errors with the
     * undamped H: tr(W H W^T) = 0.09 x 10 - 2 x 0.3 x 3 + 1 = 0.1; gptq D =
     * -W, so E = 1; rtn D = (-0.3, 0), tr = 0.9, E = 9.
     */
    float w[2] = {0.3f, 1.0f}, q[2], r[2];
    double h[4] = {10, -3, -3, 1}, scale, e;
    int16_t lev[2];
    struct csq_gptq_opts o;
    struct csq_gptq_info info;

    csq_gptq_opts_init(&o, 2);
    is_int(csq_gptq_quantize(w, 1, 2, 2, 1, 1, h, &o, q, lev, &scale, &info), 0, "hand: runs");
    ok(q[0] == 0.0f && q[1] == 0.0f, "hand: gptq gives (0, 0), got (%g, %g)", q[0], q[1]);
    ok(lev[0] == 0 && lev[1] == 0 && scale == 1.0, "hand: levels (0, 0), scale 1");
    ok(info.groups == 1 && info.rtn == 0 && info.redamped == 0 && info.dead == 0,
       "hand: plain outcome");
    rtn(w, 1, 2, 2, r);
    ok(r[0] == 0.0f && r[1] == 1.0f, "hand: rtn gives (0, 1)");
    csq_werr_ratio(w, q, 1, 2, 2, 1, 1, h, &e);
    is_near(e, 1.0, 1e-12, "hand: E(gptq) = 1");
    csq_werr_ratio(w, r, 1, 2, 2, 1, 1, h, &e);
    is_near(e, 9.0, 1e-5, "hand: E(rtn) = 9 (0.3 is a float)");

    int bits[2] = {2, 3};
    double eb[2];
    csq_werr_candidates(w, 1, 2, 2, 1, 1, h, CSQ_WERR_GPTQ, NULL, bits, 2, eb, NULL);
    is_near(eb[0], 1.0, 1e-12, "candidates: gptq E(2) = 1");
    csq_werr_candidates(w, 1, 2, 2, 1, 1, h, CSQ_WERR_RTN, NULL, bits, 2, eb, NULL);
    is_near(eb[0], 9.0, 1e-5, "candidates: rtn E(2) = 9");
    /* 3 bits: qmax 3, rtn of (0.3, 1): s = r / 3; levels 1 and 3 at r = 0.9
     * give sse (0.3 - 0.3)^2 + (1 - 0.9)^2 = 0.01 ... only check that rtn's
     * candidate equals the ratio of rtn's weights */
    rtn(w, 1, 2, 3, r);
    csq_werr_ratio(w, r, 1, 2, 2, 1, 1, h, &e);
    is_near(eb[1], e, 1e-15, "candidates: rtn E(3) is the ratio of rtn's weights");
}

/* --- GPTQ properties --- */

static void test_identity(void)
{
    enum { R = 16, K = 50 };
    static float w[R * K], q[R * K], r[R * K];
    static double h[K * K];
    struct csq_gptq_info info;
    int fails = 0;

    make_layer(R, K, 10, w, h);
    memset(h, 0, sizeof h);
    for (int i = 0; i < K; i++)
        h[i * K + i] = 3.5;
    for (int bits = 1; bits <= 8; bits++)
        for (int act = 0; act < 2; act++) {
            gq(w, R, K, 1, h, bits, act, 128, q, &info);
            rtn(w, R, K, bits, r);
            fails += count_diff(q, r, R * K) != 0;
        }
    is_int(fails, 0, "identity H gives exactly rtn (bits 1..8, act-order on and off)");
}

static void test_blocked(void)
{
    enum { R = 16, K = 40 };
    static float w[R * K], a[R * K], b[R * K];
    static double h[K * K];
    int diff = 0, blocks[] = {1, 3, 7, 39};

    make_layer(R, K, 300, w, h);
    for (int bits = 2; bits <= 4; bits++)
        for (int act = 0; act < 2; act++) {
            gq(w, R, K, 1, h, bits, act, 128, a, NULL);
            for (int t = 0; t < 4; t++) {
                gq(w, R, K, 1, h, bits, act, blocks[t], b, NULL);
                diff += count_diff(a, b, R * K);
            }
        }
    /* the same levels, so the same floats: a rounding tie flipped by the
     * summation order would need w / scale within ~1e-13 of k + 0.5 */
    is_int(diff, 0, "blocks of 1, 3, 7, 39 equal unblocked (128 > K)");
}

/* sort idx by decreasing key, ties by index (insertion sort) */
static void order(const double *key, int k, int *idx)
{
    for (int i = 0; i < k; i++)
        idx[i] = i;
    for (int i = 1; i < k; i++)
        for (int j = i; j > 0 && (key[idx[j]] > key[idx[j - 1]] ||
                                  (key[idx[j]] == key[idx[j - 1]] && idx[j] < idx[j - 1]));
             j--) {
            int t = idx[j];
            idx[j] = idx[j - 1];
            idx[j - 1] = t;
        }
}

static void test_act_order(void)
{
    enum { R = 10, K = 24 };
    static float w[R * K], a[R * K], b[R * K], wp[R * K], bp[R * K];
    static double h[K * K], hp[K * K], d[K];
    int idx[K], i, j, r;

    /* diagonal H, already in decreasing order */
    make_layer(R, K, 100, w, h);
    memset(h, 0, sizeof h);
    for (i = 0; i < K; i++)
        h[i * K + i] = 5.0 - 0.1 * i;
    gq(w, R, K, 1, h, 3, 0, 128, a, NULL);
    gq(w, R, K, 1, h, 3, 1, 128, b, NULL);
    is_int(count_diff(a, b, R * K), 0, "act-order: sorted diagonal H, same result");

    /* correlated H scaled so its diagonal decreases: the order is the identity */
    make_layer(R, K, 200, w, h);
    for (i = 0; i < K; i++)
        d[i] = sqrt((3.0 - 0.1 * i) / h[i * K + i]);
    for (i = 0; i < K; i++)
        for (j = 0; j < K; j++)
            h[i * K + j] *= d[i] * d[j];
    gq(w, R, K, 1, h, 3, 0, 128, a, NULL);
    gq(w, R, K, 1, h, 3, 1, 128, b, NULL);
    is_int(count_diff(a, b, R * K), 0, "act-order: correlated H with sorted diagonal, same");

    /* unsorted: act-order equals plain GPTQ on the permuted layer, unpermuted */
    make_layer(R, K, 200, w, h);
    for (i = 0; i < K; i++)
        d[i] = h[i * K + i];
    order(d, K, idx);
    for (i = 0; i < K; i++)
        for (j = 0; j < K; j++)
            hp[i * K + j] = h[idx[i] * K + idx[j]];
    for (r = 0; r < R; r++)
        for (i = 0; i < K; i++)
            wp[r * K + i] = w[r * K + idx[i]];
    gq(w, R, K, 1, h, 4, 1, 5, a, NULL);
    gq(wp, R, K, 1, hp, 4, 0, 128, bp, NULL);
    for (r = 0; r < R; r++)
        for (i = 0; i < K; i++)
            b[r * K + idx[i]] = bp[r * K + i];
    is_int(count_diff(a, b, R * K), 0, "act-order = GPTQ on the columns sorted by diag(H)");
    gq(w, R, K, 1, h, 4, 0, 128, b, NULL);
    ok(count_diff(a, b, R * K) > 0, "act-order changes this layer's result");
}

static void test_never_worse(void)
{
    enum { R = 24, K = 36, SEEDS = 40 };
    static float w[R * K], q[R * K], r[R * K];
    static double h[K * K];
    int worse = 0, worse_act = 0, n = 0;
    double ratio = 0;

    for (int seed = 0; seed < SEEDS; seed++) {
        rng = 0x9e3779b97f4a7c15ull * (uint64_t)(seed + 1);
        make_layer(R, K, 200, w, h);
        for (int bits = 2; bits <= 4; bits++) {
            double eg, er, ea;
            gq(w, R, K, 1, h, bits, 0, 128, q, NULL);
            csq_werr_ratio(w, q, R, K, K, 1, 1, h, &eg);
            gq(w, R, K, 1, h, bits, 1, 128, q, NULL);
            csq_werr_ratio(w, q, R, K, K, 1, 1, h, &ea);
            rtn(w, R, K, bits, r);
            csq_werr_ratio(w, r, R, K, K, 1, 1, h, &er);
            worse += eg > er;
            worse_act += ea > er;
            ratio += eg / er;
            n++;
        }
    }
    is_int(worse, 0, "E(gptq) <= E(rtn) on %d seeds x bits 2..4 (mean ratio %.3f)", SEEDS,
           ratio / n);
    diag("with act-order, E(gptq) > E(rtn) on %d of %d", worse_act, n);
}

static void test_dead(void)
{
    enum { R = 8, K = 20, D = 6 };
    static float w[R * K], a[R * K], b[R * K], w0[R * K];
    static double h[K * K], h1[K * K];
    struct csq_gptq_info info;
    int zero = 1;

    make_layer(R, K, 200, w, h);
    for (int i = 0; i < K; i++)
        h[D * K + i] = h[i * K + D] = 0;
    gq(w, R, K, 1, h, 3, 0, 4, a, &info);
    for (int r = 0; r < R; r++)
        zero &= a[r * K + D] == 0.0f;
    ok(zero, "dead input: its weights are 0");
    is_int(info.dead, 1, "dead input counted");
    /* the rule by hand: H_dd = 1, weights of d zeroed, then plain GPTQ
     * (scales stay those of the original weights, so w0 cannot go in whole) */
    memcpy(h1, h, sizeof h);
    h1[D * K + D] = 1;
    memcpy(w0, w, sizeof w);
    for (int r = 0; r < R; r++)
        w0[r * K + D] = 0;
    {
        struct csq_gptq_opts o;
        double s1[R], s0[R];
        csq_gptq_opts_init(&o, 3);
        o.block = 4;
        csq_gptq_quantize(w, R, K, K, 1, 1, h1, &o, b, NULL, s1, NULL);
        csq_gptq_quantize(w0, R, K, K, 1, 1, h1, &o, b, NULL, s0, NULL);
        (void)s1;
        (void)s0;
    }
    /* b is GPTQ of w0 with w0's own scales; compare where the scales agree */
    {
        struct csq_wquant q1, q0;
        int same = 0, rows = 0;
        for (int r = 0; r < R; r++) {
            csq_quant_choose(w + r * K, K, 1, 3, &q1);
            csq_quant_choose(w0 + r * K, K, 1, 3, &q0);
            if (q1.scale != q0.scale)
                continue;
            rows++;
            same += memcmp(a + r * K, b + r * K, K * sizeof *a) == 0;
        }
        ok(rows > 0 && same == rows, "dead input = H_dd 1 and zeroed weights (%d of %d rows "
           "with unchanged scales)", same, rows);
    }
    double e;
    csq_werr_ratio(w, a, R, K, K, 1, 1, h, &e);
    ok(isfinite(e) && e < 1, "dead input: E finite (%.4f)", e);
}

static void test_fallback(void)
{
    enum { R = 6, K = 12 };
    static float w[R * K], q[R * K], r[R * K], g2[2 * R * K], q2[2 * R * K];
    static double h[K * K], h2[2 * K * K];
    struct csq_gptq_info info;

    make_layer(R, K, 100, w, h);
    rtn(w, R, K, 3, r);
    h[5 * K + 7] = h[7 * K + 5] = NAN;
    gq(w, R, K, 1, h, 3, 0, 128, q, &info);
    ok(info.rtn == 1 && count_diff(q, r, R * K) == 0, "NaN in H: rtn, flagged");
    memset(h, 0, sizeof h);
    for (int i = 0; i < K; i++)
        h[i * K + i] = -1e30;
    gq(w, R, K, 1, h, 3, 1, 128, q, &info);
    ok(info.rtn == 1 && info.redamped == 0 && count_diff(q, r, R * K) == 0,
       "hugely negative H: rtn, flagged");
    ok(csq_errmsg()[0] == 0, "a fallback records no message");

    /* diag (1, -0.02): mean 0.49; 1x damping leaves -0.0151, 10x gives
     * +0.029, so the second attempt factorizes */
    double hr[4] = {1, 0, 0, -0.02};
    float w2[2] = {0.4f, -0.7f}, o2[2];
    gq(w2, 1, 2, 1, hr, 4, 0, 128, o2, &info);
    ok(info.redamped == 1 && info.rtn == 0, "needs 10x damping: redamped, not rtn");

    /* two groups, the second's H not finite: only it falls back */
    make_layer(2 * R, K, 100, g2, h2);
    memcpy(h2 + K * K, h2, K * K * sizeof *h2);
    make_layer(R, K, 100, w, h2);
    h2[K * K + 3] = INFINITY;
    gq(g2, 2 * R, K, 2, h2, 3, 0, 128, q2, &info);
    gq(g2, R, K, 1, h2, 3, 0, 128, q, NULL);
    rtn(g2 + R * K, R, K, 3, r);
    ok(info.groups == 2 && info.rtn == 1 && count_diff(q2, q, R * K) == 0 &&
       count_diff(q2 + R * K, r, R * K) == 0, "groups: only the bad one falls back");
}

static void test_layout(void)
{
    enum { R = 12, K = 18, G = 3 };
    static float w[R * K], q[R * K], qg[R * K], wt[K * R], qt[K * R];
    static double h[G * K * K];
    static int16_t lev[R * K], levt[K * R];
    double sc[R], sct[R];
    struct csq_gptq_opts o;
    int ok1 = 1, ok2 = 1;

    for (int g = 0; g < G; g++)
        make_layer(R / G, K, 150, w + g * (R / G) * K, h + g * K * K);
    /* grouped = each group alone */
    gq(w, R, K, G, h, 3, 1, 5, q, NULL);
    for (int g = 0; g < G; g++) {
        gq(w + g * (R / G) * K, R / G, K, 1, h + g * K * K, 3, 1, 5, qg + g * (R / G) * K, NULL);
    }
    is_int(count_diff(q, qg, R * K), 0, "grouped = each group quantized against its own H");

    /* strided (MatMul (K, N) weights): the transpose, ch_stride 1, el_stride R */
    for (int r = 0; r < R; r++)
        for (int i = 0; i < K; i++)
            wt[i * R + r] = w[r * K + i];
    csq_gptq_opts_init(&o, 3);
    o.act_order = 1;
    o.block = 5;
    csq_gptq_quantize(w, R, K, K, 1, G, h, &o, q, lev, sc, NULL);
    csq_gptq_quantize(wt, R, K, 1, R, G, h, &o, qt, levt, sct, NULL);
    for (int r = 0; r < R; r++)
        for (int i = 0; i < K; i++) {
            ok1 &= q[r * K + i] == qt[i * R + r] && lev[r * K + i] == levt[i * R + r];
            ok2 &= q[r * K + i] == (float)lev[r * K + i] * (float)sc[r];
        }
    ok(ok1 && memcmp(sc, sct, sizeof sc) == 0, "strided layout = contiguous");
    ok(ok2, "weights = float(level) x float(scale) in float32, as DequantizeLinear");
    int same = 1;
    for (int r = 0; r < R; r++) {
        struct csq_wquant c;
        csq_quant_choose(w + r * K, K, 1, 3, &c);
        same &= c.scale == sc[r];
    }
    ok(same, "scales are rtn's");
    /* in place */
    memcpy(qg, w, sizeof w);
    csq_gptq_quantize(qg, R, K, K, 1, G, h, &o, qg, NULL, NULL, NULL);
    is_int(count_diff(qg, q, R * K), 0, "out may alias w");
    o.bits = 0;
    is_int(csq_gptq_quantize(w, R, K, K, 1, G, h, &o, q, NULL, NULL, NULL), CSQ_EINVAL,
           "bits 0 refused");
    csq_errclear();
    o.bits = 3;
    is_int(csq_gptq_quantize(w, R, K, K, 1, 5, h, &o, q, NULL, NULL, NULL), CSQ_EINVAL,
           "groups not dividing rows refused");
    csq_errclear();
}

/* --- golden from the PyTorch reference --- */

static const char *golden(const char *rel)
{
    static char buf[4096];
    const char *top = getenv("top_srcdir");
    snprintf(buf, sizeof buf, "%s/tests/golden/gptq/%s", top ? top : ".", rel);
    return buf;
}

static void test_golden(void)
{
    struct csq_tensor tw, th, tq, tm;
    enum { C = 6 };
    int rc = csq_npy_read(golden("w.npy"), &tw);
    rc |= csq_npy_read(golden("h.npy"), &th);
    rc |= csq_npy_read(golden("q.npy"), &tq);
    rc |= csq_npy_read(golden("margin.npy"), &tm);
    if (!ok(rc == 0, "golden files read"))
        return;
    int rows = (int)tw.dims[0], k = (int)tw.dims[1];
    double *h = malloc((size_t)(k * k) * sizeof *h);
    float *q = malloc((size_t)(rows * k) * sizeof *q);
    FILE *f = fopen(golden("cases.tsv"), "r");
    char line[512];
    int c = 0;

    for (int i = 0; i < k * k; i++)
        h[i] = ((float *)th.data)[i];
    while (f && fgets(line, sizeof line, f)) {
        int bits, act, flips = 0, bad = 0;
        double eg, er, e;
        char outcome[32];
        if (line[0] == '#' || sscanf(line, "%d %d %lf %lf %31s", &bits, &act, &eg, &er,
                                     outcome) != 5)
            continue;
        struct csq_gptq_info info;
        const float *ref = (const float *)tq.data + c * rows * k;
        const float *mg = (const float *)tm.data + c * rows * k;
        /* block 7: lazy updates on both sides, at different block sizes */
        gq(tw.data, rows, k, 1, h, bits, act, 7, q, &info);
        for (int i = 0; i < rows * k; i++)
            if (q[i] != ref[i]) {
                flips++;
                bad += mg[i] > 1e-9f;
            }
        gq(tw.data, rows, k, 1, h, bits, act, 128, q, &info);
        for (int i = 0; i < rows * k; i++)
            if (q[i] != ref[i]) {
                flips++;
                bad += mg[i] > 1e-9f;
            }
        /* Both sides run in double from the same float32 H; they differ
         * only in summation order (blocks of 7 and 128 against 16, LAPACK's
         * two-factorization U against torch's three), about 1e-13
         * relative.  An element may differ only where the reference's
         * w / scale was within 1e-9 of a rounding boundary (a tie the
         * rounding noise can flip); none is expected on this layer. */
        ok(bad == 0 && flips <= 2, "golden %d bits act-order %d, blocks 7 and 128: %d "
           "differences, %d away from a tie", bits, act, flips, bad);
        csq_werr_ratio(tw.data, q, rows, k, k, 1, 1, h, &e);
        is_near(e, eg, 1e-9 * eg, "golden %d bits act-order %d: E(gptq)", bits, act);
        ok(info.dead == 1 && info.rtn == 0 && strcmp(outcome, "gptq") == 0,
           "golden %d bits: one dead input, no fallback", bits);
        int b1[1] = {bits};
        csq_werr_candidates(tw.data, rows, k, k, 1, 1, h, CSQ_WERR_RTN, NULL, b1, 1, &e, NULL);
        is_near(e, er, 1e-9 * er, "golden %d bits: E(rtn)", bits);
        c++;
    }
    is_int(c, C, "golden cases");
    if (f)
        fclose(f);
    free(h);
    free(q);
    free(tw.data);
    free(th.data);
    free(tq.data);
    free(tm.data);
}

/* --- hessian --- */

/* The patch of image n, group g, output (oh, ow) straight from the Conv
 * definition, in the weight's (ci, ki, kj) order. */
static void patch(const struct csq_im2col *g, const float *x, int n, int gi, int oh, int ow,
                  double *p)
{
    int t = 0;
    for (int ci = 0; ci < g->cg; ci++)
        for (int ki = 0; ki < g->kh; ki++)
            for (int kj = 0; kj < g->kw; kj++, t++) {
                int64_t ih = oh * g->sh - g->pt + ki * g->dh, iw = ow * g->sw - g->pl + kj * g->dw;
                p[t] = ih < 0 || ih >= g->h || iw < 0 || iw >= g->w ? 0
                       : x[((n * g->c + gi * g->cg + ci) * g->h + ih) * g->w + iw];
            }
}

/* H by the triple loop over images, positions and patch pairs; positions
 * per image from keep (NULL: all). */
static void naive_h(const struct csq_im2col *g, const float *x, int nimg, int64_t samples,
                    double *h)
{
    int k = (int)g->k, npos = (int)(g->oh * g->ow);
    double p[1024];
    int64_t idx[4096];
    for (int gi = 0; gi < g->groups; gi++) {
        double *m = h + gi * k * k;
        int cnt = 0;
        memset(m, 0, (size_t)(k * k) * sizeof *m);
        for (int n = 0; n < nimg; n++) {
            int64_t np = csq_hessian_pick(CSQ_HESSIAN_SEED, n, npos, samples, idx);
            for (int t = 0; t < np; t++) {
                patch(g, x, n, gi, (int)(idx[t] / g->ow), (int)(idx[t] % g->ow), p);
                for (int i = 0; i < k; i++)
                    for (int j = 0; j < k; j++)
                        m[i * k + j] += p[i] * p[j];
                cnt++;
            }
        }
        for (int i = 0; i < k * k; i++)
            m[i] *= 2.0 / cnt;
    }
}

static double max_rel(const double *a, const double *b, int n)
{
    double worst = 0, scale = 0;
    for (int i = 0; i < n; i++)
        scale = fmax(scale, fabs(b[i]));
    for (int i = 0; i < n; i++)
        worst = fmax(worst, fabs(a[i] - b[i]));
    return worst / (scale > 0 ? scale : 1);
}

static int conv_geom(struct csq_im2col *g, struct tnode *t, int n, int c, int hh, int ww, int m,
                     int group, int k, int stride, int pad, int dil, int64_t *v)
{
    struct csq_tensor x = tens(CSQ_DT_FLOAT, NULL, 4, n, c, hh, ww);
    struct csq_tensor w = tens(CSQ_DT_FLOAT, NULL, 4, m, c / group, k, k);
    tn_init(t, "Conv");
    v[0] = v[1] = stride;
    v[2] = v[3] = v[4] = v[5] = pad;
    v[6] = v[7] = dil;
    tn_ints(t, "strides", v, 2);
    tn_ints(t, "pads", v + 2, 4);
    tn_ints(t, "dilations", v + 6, 2);
    tn_int(t, "group", group);
    return csq_im2col_init(g, &t->node, &x, &w);
}

/* H of n images through csq_hessian_add_conv against the triple loop
 * (ref: room for the reference): the largest relative difference, or -1
 * when finish fails; *count: group 0's patches. */
static double conv_h_error(const struct csq_im2col *g, const float *x, int n, double *ref,
                           int64_t *count)
{
    struct csq_hessian *h = csq_hessian_new(g->groups, g->k, 0, CSQ_HESSIAN_SEED);
    double worst = 0;

    csq_hessian_add_conv(h, g, x, n, 0);
    if (csq_hessian_finish(h) != 0) {
        csq_hessian_free(h);
        return -1;
    }
    naive_h(g, x, n, 0, ref);
    for (int gi = 0; gi < g->groups; gi++)
        worst = fmax(worst, max_rel(csq_hessian_matrix(h, gi), ref + gi * g->k * g->k,
                                    (int)(g->k * g->k)));
    *count = csq_hessian_count(h, 0);
    csq_hessian_free(h);
    return worst;
}

/* Stride-1 convolutions with enough channels take the shifted products
 * (hessian.h): every kernel size, padding (asymmetric too) and plane shape
 * against the triple loop, and the planes too small for them to pay
 * through im2col, both up to float rounding. */
static void test_hessian_shifted(void)
{
    enum { N = 3, C = 64, HMAX = 20, WMAX = 20 };
    static float x[N * C * HMAX * WMAX];
    static double ref[2 * 800 * 800];
    struct { int c, group, kh, kw, pt, pl, pb, pr, hh, ww, shifted; } cases[] = {
        {32, 1, 3, 3, 1, 1, 1, 1, 11, 10, 1}, {32, 1, 3, 3, 0, 0, 0, 0, 20, 20, 1},
        {32, 1, 3, 3, 0, 0, 0, 0, 9, 8, -1},  {32, 1, 3, 3, 2, 2, 2, 2, 9, 10, 1},
        {32, 1, 3, 3, 0, 1, 2, 0, 12, 13, 1},   {32, 1, 1, 7, 0, 3, 0, 3, 16, 16, 1},
        {32, 1, 7, 1, 3, 0, 3, 0, 16, 16, 1},
        {32, 1, 1, 3, 0, 1, 0, 1, 16, 16, 0}, {32, 1, 5, 5, 2, 2, 2, 2, 16, 15, 1},
        {64, 2, 3, 3, 1, 1, 1, 1, 12, 11, 1},  {32, 1, 3, 3, 1, 1, 1, 1, 1, 1, 0},
        {32, 1, 3, 3, 1, 1, 1, 1, 2, 3, 0},   {32, 1, 3, 3, 1, 1, 1, 1, 7, 7, 0},  {16, 1, 3, 3, 1, 1, 1, 1, 11, 10, 0}};

    for (int i = 0; i < N * C * HMAX * WMAX; i++)
        x[i] = (float)gauss();
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        struct csq_tensor xt = tens(CSQ_DT_FLOAT, NULL, 4, N, cases[c].c, cases[c].hh,
                                    cases[c].ww);
        struct csq_tensor wt = tens(CSQ_DT_FLOAT, NULL, 4, 8, cases[c].c / cases[c].group,
                                    cases[c].kh, cases[c].kw);
        struct csq_im2col g;
        struct tnode t;
        int64_t v[8] = {1, 1, cases[c].pt, cases[c].pl, cases[c].pb, cases[c].pr, 1, 1};
        tn_init(&t, "Conv");
        tn_ints(&t, "strides", v, 2);
        tn_ints(&t, "pads", v + 2, 4);
        tn_ints(&t, "dilations", v + 6, 2);
        tn_int(&t, "group", cases[c].group);
        if (!ok(csq_im2col_init(&g, &t.node, &xt, &wt) == 0, "shifted %zu: geometry", c))
            continue;
        struct csq_hessian *h = csq_hessian_new(g.groups, g.k, 0, CSQ_HESSIAN_SEED);
        int sh = csq_hessian_shifted(h, &g);
        int64_t count = 0;
        csq_hessian_free(h);
        double worst = conv_h_error(&g, x, N, ref, &count);
        ok((cases[c].shifted < 0 || sh == cases[c].shifted) && worst >= 0 && worst < 2e-6 &&
           count == N * g.oh * g.ow,
           "conv %d ch, group %d, %dx%d, pads %d %d %d %d, %dx%d plane (%s): H = naive double "
           "loop up to float rounding (%.2g)", cases[c].c, cases[c].group, cases[c].kh,
           cases[c].kw, cases[c].pt, cases[c].pl, cases[c].pb, cases[c].pr, cases[c].hh,
           cases[c].ww, sh ? "shifted products" : "im2col", worst);
    }
}

static void test_hessian_conv(void)
{
    enum { N = 3, C = 4, HH = 9, WW = 8, M = 6 };
    static float x[N * C * HH * WW];
    static double ref[2 * 36 * 36];
    struct csq_im2col g;
    struct tnode t;
    int64_t v[8];
    struct { int group, k, stride, pad, dil; } cases[] = {
        {2, 3, 2, 1, 1}, {1, 3, 1, 0, 2}, {4, 3, 1, 1, 1}, {1, 1, 1, 0, 1}};

    for (int i = 0; i < N * C * HH * WW; i++)
        x[i] = (float)gauss();
    for (int c = 0; c < 4; c++) {
        int group = cases[c].group, m = group == 4 ? 4 : M;
        if (!ok(conv_geom(&g, &t, N, C, HH, WW, m, group, cases[c].k, cases[c].stride,
                          cases[c].pad, cases[c].dil, v) == 0, "conv %d: geometry", c))
            continue;
        int64_t count = 0;
        double worst = conv_h_error(&g, x, N, ref, &count);
        /* float products and sums (hessian.h): a few float roundings */
        ok(worst >= 0 && worst < 1e-6 && count == N * g.oh * g.ow,
           "conv %d (group %d, %dx%d, stride %d, pad %d, dilation %d): H = naive double loop "
           "up to float rounding (%.2g)", c, group, cases[c].k, cases[c].k, cases[c].stride, cases[c].pad,
           cases[c].dil, worst);
    }

    /* the patches are what the Conv multiplies: sum_pos ||y||^2 (no bias) =
     * (n / 2) sum_g tr(W_g H_g W_g^T) */
    conv_geom(&g, &t, N, C, HH, WW, M, 2, 3, 2, 1, 1, v);
    {
        float w[M * 2 * 9];
        for (int i = 0; i < M * 2 * 9; i++)
            w[i] = (float)gauss();
        struct kt kc = {0};
        kt_init(&kc, "Conv", 2, 1);
        kt_in(&kc, 0, 4, (int64_t[]){N, C, HH, WW}, x);
        kt_in(&kc, 1, 4, (int64_t[]){M, 2, 3, 3}, w);
        kt_ints(&kc, "strides", 2, (int64_t[]){2, 2});
        kt_ints(&kc, "pads", 4, (int64_t[]){1, 1, 1, 1});
        kt_int(&kc, "group", 2);
        ok(kt_call(&kc, csq_op_conv_infer, csq_op_conv_run, csq_op_conv_scratch) == 0,
           "the Conv kernel runs");
        struct csq_tensor *y = &kc.out[0];
        double ysq = 0, tr = 0;
        for (int64_t i = 0; i < csq_tensor_numel(y); i++)
            ysq += (double)((float *)y->data)[i] * ((float *)y->data)[i];
        struct csq_hessian *h = csq_hessian_new(g.groups, g.k, 0, 1);
        csq_hessian_add_conv(h, &g, x, N, 0);
        csq_hessian_finish(h);
        for (int gi = 0; gi < 2; gi++) {
            const double *m = csq_hessian_matrix(h, gi);
            for (int r = gi * 3; r < gi * 3 + 3; r++)
                for (int i = 0; i < 18; i++)
                    for (int j = 0; j < 18; j++)
                        tr += (double)w[r * 18 + i] * m[i * 18 + j] * w[r * 18 + j];
        }
        tr *= (double)csq_hessian_count(h, 0) / 2;
        is_near(tr / ysq, 1, 1e-5, "H's patches are the Conv kernel's (sum y^2 %.6g)", ysq);
        csq_hessian_free(h);
        kt_free(&kc);
    }
}

static void test_hessian_rows(void)
{
    enum { R = 300, K = 7, LD = 9 };
    static float x[R * LD];
    double ref[K * K] = {0};
    for (int i = 0; i < R * LD; i++)
        x[i] = (float)gauss();
    for (int r = 0; r < R; r++)
        for (int i = 0; i < K; i++)
            for (int j = 0; j < K; j++)
                ref[i * K + j] += 2.0 / R * x[r * LD + i] * x[r * LD + j];
    struct csq_hessian *h = csq_hessian_new(1, K, 5, 1);
    csq_hessian_add_rows(h, x, 100, LD);
    csq_hessian_add_rows(h, x + 100 * LD, R - 100, LD);
    csq_hessian_finish(h);
    ok(max_rel(csq_hessian_matrix(h, 0), ref, K * K) < 1e-6,
       "rows: H = naive double loop up to float rounding (%.2g)",
       max_rel(csq_hessian_matrix(h, 0), ref, K * K));
    is_int(csq_hessian_count(h, 0), R, "rows: every row counted (rows are never sampled)");
    is_int(csq_hessian_add_rows(h, x, 1, LD), CSQ_EINVAL, "rows after finish refused");
    csq_errclear();
    csq_hessian_free(h);
    h = csq_hessian_new(1, K, 0, 1);
    is_int(csq_hessian_finish(h), CSQ_EINVAL, "finish with no patch refused");
    csq_errclear();
    csq_hessian_free(h);
}

static void test_sampling(void)
{
    enum { N = 6, C = 4, HH = 9, WW = 8, S = 10 };
    static float x[N * C * HH * WW];
    static double ref[2 * 18 * 18];
    int64_t idx[100], idx2[100], v[8];
    struct csq_im2col g;
    struct tnode t;
    int sorted = 1, same = 1, differ = 0;
    static int hits[72];

    for (int i = 0; i < N * C * HH * WW; i++)
        x[i] = (float)gauss();
    for (int img = 0; img < 2000; img++) {
        int64_t m = csq_hessian_pick(7, img, 72, S, idx);
        int64_t m2 = csq_hessian_pick(7, img, 72, S, idx2);
        sorted &= m == S;
        for (int i = 1; i < m; i++)
            sorted &= idx[i] > idx[i - 1];
        same &= m == m2 && memcmp(idx, idx2, (size_t)m * sizeof *idx) == 0;
        for (int i = 0; i < m; i++)
            hits[idx[i]]++;
        if (img) {
            csq_hessian_pick(7, img - 1, 72, S, idx2);
            differ += memcmp(idx, idx2, S * sizeof *idx) != 0;
        }
    }
    ok(sorted, "pick: %d sorted distinct positions", S);
    ok(same, "pick: the same for the same seed and image");
    ok(differ > 1990, "pick: images get different positions (%d of 1999)", differ);
    {
        /* each position kept with probability 10 / 72: 2000 x that = 277.8,
         * sd 15.5; 5 sd either side */
        int lo = 1 << 30, hi = 0;
        for (int i = 0; i < 72; i++) {
            lo = hits[i] < lo ? hits[i] : lo;
            hi = hits[i] > hi ? hits[i] : hi;
        }
        ok(lo > 200 && hi < 356, "pick: uniform (hits %d..%d of mean 277.8)", lo, hi);
    }
    is_int(csq_hessian_pick(7, 0, 5, 10, idx), 5, "pick: all positions when few");

    conv_geom(&g, &t, N, C, HH, WW, 6, 2, 3, 1, 1, 1, v);
    struct csq_hessian *a = csq_hessian_new(2, g.k, S, CSQ_HESSIAN_SEED);
    struct csq_hessian *b = csq_hessian_new(2, g.k, S, CSQ_HESSIAN_SEED);
    csq_hessian_add_conv(a, &g, x, N, 0);
    csq_hessian_add_conv(b, &g, x, 2, 0);
    csq_hessian_add_conv(b, &g, x + 2 * C * HH * WW, N - 2, 2);
    csq_hessian_finish(a);
    csq_hessian_finish(b);
    /* the same positions, summed in another order (one float block or two) */
    ok(max_rel(csq_hessian_matrix(a, 0), csq_hessian_matrix(b, 0), (int)(g.k * g.k)) < 1e-6 &&
       max_rel(csq_hessian_matrix(a, 1), csq_hessian_matrix(b, 1), (int)(g.k * g.k)) < 1e-6 &&
       csq_hessian_count(a, 0) == csq_hessian_count(b, 0),
       "samples: one batch of 6 = batches of 2 and 4 (up to summation order)");
    is_int(csq_hessian_count(a, 1), N * S, "samples: %d positions per image", S);
    naive_h(&g, x, N, S, ref);
    ok(max_rel(csq_hessian_matrix(a, 0), ref, (int)(g.k * g.k)) < 1e-6 &&
       max_rel(csq_hessian_matrix(a, 1), ref + g.k * g.k, (int)(g.k * g.k)) < 1e-6,
       "samples: H = naive double loop over the picked positions, up to float rounding");
    csq_hessian_free(a);
    csq_hessian_free(b);
}

static void test_memory(void)
{
    struct csq_graph *gr = NULL;
    char path[4096];
    size_t bytes, sum = 0, b;
    const char *top = getenv("top_srcdir");
    int64_t groups, k, kmax = 0;

    ok(csq_hessian_ws_bytes(10, &b) == 0 && b > 0 && b < 1 << 20, "workspace of small patches");
    sum = b;
    ok(csq_hessian_bytes(3, 10, &b) == 0 && b == 3 * 100 * sizeof(double) + sum,
       "bytes: 3 x 10^2 doubles plus a workspace");
    sum = 0;
    ok(csq_hessian_bytes(INT64_MAX / 2, INT64_MAX / 2, &b) == CSQ_ENOMEM, "bytes: overflow");
    csq_errclear();
    snprintf(path, sizeof path, "%s/tests/models/resnet_tiny.onnx", top ? top : ".");
    if (!ok(csq_onnx_load(path, &gr) == 0, "resnet_tiny loads"))
        return;
    for (int l = 0; l < gr->nlayers; l++) {
        const struct csq_tensor *w = &gr->vals[gr->layers[l].weight].t;
        csq_hessian_layer_shape(gr, l, &groups, &k);
        if (strcmp(gr->nodes[gr->layers[l].node].op_type, "Conv") == 0)
            ok(k * w->dims[0] == csq_tensor_numel(w) && groups >= 1,
               "layer %s: K = %lld", gr->layers[l].name, (long long)k);
        /* each layer's matrices, one workspace for the largest K */
        sum += (size_t)(groups * k * k) * sizeof(double);
        kmax = k > kmax ? k : kmax;
    }
    ok(csq_hessian_ws_bytes(kmax, &b) == 0 && b >= (size_t)(kmax * kmax) * sizeof(float),
       "workspace: a K x K float block at least");
    sum += b;
    int rc = csq_hessian_plan(gr, &bytes);
    ok(rc == 0 && bytes == sum, "plan: all layers' matrices and one workspace (%zu bytes)",
       bytes);
    csq_limit_set_memory(bytes - 1);
    is_int(csq_hessian_plan(gr, &bytes), CSQ_ELIMIT, "plan: refused over the memory limit");
    ok(strstr(csq_errmsg(), "layer statistics need") && strstr(csq_errmsg(), "over the memory limit"),
       "plan: one line: %s", csq_errmsg());
    csq_errclear();
    csq_limit_set_memory(0);
    csq_graph_free(gr);
}

int main(void)
{
    test_lapack();
    test_hand();
    test_identity();
    test_blocked();
    test_act_order();
    test_never_worse();
    test_dead();
    test_fallback();
    test_layout();
    test_golden();
    test_hessian_conv();
    test_hessian_shifted();
    test_hessian_rows();
    test_sampling();
    test_memory();
    return tap_done();
}
