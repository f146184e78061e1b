/* tfidf: scores of small matrices worked by hand (DESIGN.md section 5),
 * both document modes, and the refused inputs.
 *
 * Notation: F is channels x documents, colsum[d] = sum_c F[c][d],
 * TF = beta F / colsum, mu[c] = mean_d F, A = F >= mu, n[c] = sum_d A,
 * IDF = ln(D / (n + 1)), S = sum_d TF A / (n + 1e-11),
 * score = mean_c S IDF.  The 1e-11 changes results by ~1e-11 relative,
 * inside the 1e-9 tolerances below. */
#include "config.h"

#include <math.h>
#include <string.h>

#include "mpq/tfidf.h"
#include "tap.h"
#include "util/err.h"

/* Feed the columns of a channels x docs matrix as sample documents. */
static double samples_score(int C, int D, const float *F, double coe)
{
    struct csq_tfidf *t;
    float f[8];
    double s = NAN;
    int c, d;

    if (csq_tfidf_new(C, 0, CSQ_TFIDF_SAMPLES, &t) != 0)
        return NAN;
    for (d = 0; d < D; d++) {
        for (c = 0; c < C; c++)
            f[c] = F[c * D + d];
        if (csq_tfidf_add(t, f, -1) != 0)
            break;
    }
    if (csq_tfidf_score(t, coe, &s) != 0)
        s = NAN;
    csq_tfidf_free(t);
    return s;
}

static void equal_features(void)
{
    /* C = 2, D = 3, coe = 0 (beta = 1):
     *   F = c0: [3, 0, 0]     colsum = [4, 1, 1]
     *       c1: [1, 1, 1]     (a channel equal in every document)
     *   TF: c0 [3/4, 0, 0], c1 [1/4, 1, 1]
     *   mu = [1, 1]; A: c0 [1,0,0] -> n0 = 1; c1 [1,1,1] -> n1 = 3
     *   IDF0 = ln(3/2), IDF1 = ln(3/4)
     *   S0 = 3/4, S1 = (1/4 + 1 + 1) / 3 = 3/4
     *   score = (3/4 ln 1.5 + 3/4 ln 0.75) / 2 = 3/8 ln(1.125) */
    const float F[] = {3, 0, 0, 1, 1, 1};
    is_near(samples_score(2, 3, F, 0), 0.375 * log(1.125), 1e-9,
            "samples: equal-feature channel counts all documents (3/8 ln 1.125)");
}

static void dead_channel_zero_doc_coe(void)
{
    /* C = 3, D = 3, coe = 1.5: beta = ln(3 / 1.5 * e) = 1 + ln 2
     *   F = c0: [0, 0, 0]  (dead channel)
     *       c1: [3, 0, 0]
     *       c2: [1, 2, 0]
     *   colsum = [4, 2, 0]: document 2 has TF 0 everywhere
     *   TF: c0 0; c1 [3/4 b, 0, 0]; c2 [1/4 b, b, 0]
     *   mu = [0, 1, 1]
     *   A: c0 [1,1,1] n0 = 3; c1 [1,0,0] n1 = 1; c2 [1,1,0] n2 = 2
     *   IDF = [ln 3/4, ln 3/2, ln 1 = 0]
     *   S0 = 0 (TF 0), S1 = 3/4 b, S2 = (1/4 b + b) / 2 = 5/8 b
     *   score = (0 + 3/4 b ln 1.5 + 0) / 3 = b ln(1.5) / 4 */
    const float F[] = {0, 0, 0, 3, 0, 0, 1, 2, 0};
    double b = 1 + log(2.0);
    is_near(samples_score(3, 3, F, 1.5), b * log(1.5) / 4, 1e-9,
            "samples: dead channel, zero document, coe 1.5 ((1 + ln 2) ln 1.5 / 4)");
}

static void one_channel(void)
{
    /* C = 1, D = 4: f = [1, 2, 3, 6]; each document's only channel has
     * TF = beta; mu = 3, A = [0, 0, 1, 1], n = 2, IDF = ln(4/3),
     * S = 2 beta / 2 = beta; score = beta ln(4/3).
     * coe 0: beta = 1; coe 0.5: beta = ln(1 / 0.5 * e) = 1 + ln 2 */
    const float F[] = {1, 2, 3, 6};
    is_near(samples_score(1, 4, F, 0), log(4.0 / 3.0), 1e-9, "one channel: ln(4/3)");
    is_near(samples_score(1, 4, F, 0.5), (1 + log(2.0)) * log(4.0 / 3.0), 1e-9,
            "one channel, coe 0.5: (1 + ln 2) ln(4/3)");
}

static void classes_mode(void)
{
    /* K = 3 classes, C = 2 channels, images:
     *   class 0: [2, 0], [0, 0]          -> mean [1, 0]
     *   class 1: [1, 3] (a single image) -> [1, 3]
     *   class 2: [0, 2], [2, 2], [1, 2]  -> mean [1, 2]
     *   F = c0: [1, 1, 1], c1: [0, 3, 2]; colsum = [1, 4, 3]
     *   TF: c0 [1, 1/4, 1/3], c1 [0, 3/4, 2/3]
     *   mu = [1, 5/3]; A: c0 [1,1,1] n0 = 3; c1 [0,1,1] n1 = 2
     *   IDF = [ln 3/4, ln 1 = 0]
     *   S0 = (1 + 1/4 + 1/3) / 3 = 19/36
     *   score = (19/36 ln 0.75 + 0) / 2 = 19/72 ln 0.75 (negative) */
    static const float img[6][2] = {{2, 0}, {1, 3}, {0, 2}, {0, 0}, {2, 2}, {1, 2}};
    static const int cls[6] = {0, 1, 2, 0, 2, 2};
    struct csq_tfidf *t;
    double s = NAN, s2 = NAN;
    int i, rc = 0;

    ok(csq_tfidf_new(2, 3, CSQ_TFIDF_CLASSES, &t) == 0, "classes: new");
    for (i = 0; i < 6; i++)
        rc |= csq_tfidf_add(t, img[i], cls[i]);
    ok(rc == 0 && csq_tfidf_count(t) == 6, "classes: six images added in mixed order");
    ok(csq_tfidf_score(t, 0, &s) == 0, "classes: scores");
    is_near(s, 19.0 / 72.0 * log(0.75), 1e-9, "classes: 19/72 ln 0.75");
    /* coe scales TF by beta = ln(2 / 4 * e) = 1 - ln 2 */
    ok(csq_tfidf_score(t, 4, &s2) == 0, "classes: scores with coe 4");
    is_near(s2, (1 - log(2.0)) * 19.0 / 72.0 * log(0.75), 1e-9, "classes, coe 4: beta (1 - ln 2)");
    csq_tfidf_free(t);
}

static void classes_dead_single_coe(void)
{
    /* K = 3 classes, C = 3 channels, coe = 1: beta = ln(3 / 1 * e) = 1 + ln 3
     *   class 0: [0, 6, 1], [0, 2, 1]    -> mean [0, 4, 1]
     *   class 1: [0, 1, 3] (one image)   -> [0, 1, 3]
     *   class 2: [0, 2, 2], [0, 0, 2]    -> mean [0, 1, 2]
     *   F = c0: [0, 0, 0] (dead), c1: [4, 1, 1], c2: [1, 3, 2]
     *   colsum = [5, 4, 3]
     *   TF: c0 0; c1 [4/5, 1/4, 1/3] b; c2 [1/5, 3/4, 2/3] b
     *   mu = [0, 2, 2]
     *   A: c0 [1,1,1] n0 = 3; c1 [1,0,0] n1 = 1; c2 [0,1,1] n2 = 2
     *   IDF = [ln 3/4, ln 3/2, ln 1 = 0]
     *   S0 = 0, S1 = 4/5 b, S2 = (3/4 + 2/3) b / 2 = 17/24 b
     *   score = (0 + 4/5 b ln 1.5 + 0) / 3 = 4 b ln(1.5) / 15 */
    static const float img[5][3] = {{0, 6, 1}, {0, 1, 3}, {0, 2, 2}, {0, 2, 1}, {0, 0, 2}};
    static const int cls[5] = {0, 1, 2, 0, 2};
    struct csq_tfidf *t;
    double s = NAN, b = 1 + log(3.0);
    int i, rc = 0;

    rc |= csq_tfidf_new(3, 3, CSQ_TFIDF_CLASSES, &t);
    for (i = 0; rc == 0 && i < 5; i++)
        rc |= csq_tfidf_add(t, img[i], cls[i]);
    rc |= csq_tfidf_score(t, 1, &s);
    ok(rc == 0, "classes, dead channel, one-image class, coe 1: scores");
    is_near(s, 4 * b * log(1.5) / 15, 1e-9,
            "classes, dead channel, one-image class, coe 1: 4 (1 + ln 3) ln 1.5 / 15");
    csq_tfidf_free(t);
}

static void all_dead(void)
{
    /* Every channel zero in every document (a layer whose outputs are all
     * negative): colsum = 0 so TF = 0 everywhere, S = 0, and the score is
     * exactly 0 (IDF = ln(D / (D + 1)) stays finite): not NaN. */
    const float F[] = {0, 0, 0, 0, 0, 0};
    static const float zero[2] = {0, 0};
    struct csq_tfidf *t;
    double s = NAN;
    int rc = 0;

    ok(samples_score(2, 3, F, 0) == 0.0, "samples: all channels dead: score 0");
    rc |= csq_tfidf_new(2, 2, CSQ_TFIDF_CLASSES, &t);
    rc |= csq_tfidf_add(t, zero, 0);
    rc |= csq_tfidf_add(t, zero, 1);
    rc |= csq_tfidf_score(t, 2, &s);
    ok(rc == 0 && s == 0.0, "classes: all channels dead, coe 2: score 0 (%g)", s);
    csq_tfidf_free(t);
}

static void equal_inexact(void)
{
    /* Equal features whose value is not a binary fraction: v = 0.1f in all
     * five documents.  mu must equal v exactly so every document counts
     * (A = 1, n = 5); a mean that rounds above v would drop them all.
     *   F = c0: [1, 0, 0, 0, 0], c1: [v, v, v, v, v]
     *   colsum = [1 + v, v, v, v, v]
     *   TF: c0 [1 / (1 + v), 0...]; c1 [v / (1 + v), 1, 1, 1, 1]
     *   c0: mu = 0.2, A = [1,0,0,0,0], n0 = 1, IDF0 = ln(5/2), S0 = 1 / (1 + v)
     *   c1: n1 = 5, IDF1 = ln(5/6), S1 = (v / (1 + v) + 4) / 5
     *   score = (S0 IDF0 + S1 IDF1) / 2 */
    const float v = 0.1f;
    const float F[] = {1, 0, 0, 0, 0, v, v, v, v, v};
    double dv = v;
    double want = (log(2.5) / (1 + dv) + log(5.0 / 6.0) * (dv / (1 + dv) + 4) / 5) / 2;

    is_near(samples_score(2, 5, F, 0), want, 1e-9,
            "samples: equal features of 0.1f all count (n = 5)");
}

static void errors(void)
{
    struct csq_tfidf *t;
    const float a[2] = {1, 2}, nanv[2] = {1, NAN}, neg[2] = {1, -0.5f};
    double s;

    csq_errclear();
    is_int(csq_tfidf_new(2, 1, CSQ_TFIDF_CLASSES, &t), CSQ_EINVAL, "one class refused");
    csq_errclear();
    is_int(csq_tfidf_new(0, 3, CSQ_TFIDF_CLASSES, &t), CSQ_EINVAL, "zero channels refused");

    csq_tfidf_new(2, 3, CSQ_TFIDF_CLASSES, &t);
    csq_tfidf_add(t, a, 0);
    csq_tfidf_add(t, a, 2);
    csq_errclear();
    is_int(csq_tfidf_score(t, 0, &s), CSQ_EINVAL, "class without images refused");
    ok(strstr(csq_errmsg(), "class 1") != NULL, "message names class 1: %s", csq_errmsg());
    csq_errclear();
    is_int(csq_tfidf_add(t, a, 3), CSQ_EINVAL, "class out of range refused");
    csq_errclear();
    is_int(csq_tfidf_add(t, nanv, 1), CSQ_EINVAL, "NaN refused");
    ok(strstr(csq_errmsg(), "channel 1") != NULL, "NaN message names the channel: %s",
       csq_errmsg());
    csq_errclear();
    is_int(csq_tfidf_add(t, neg, 1), CSQ_EINVAL, "negative pooled value refused");
    csq_tfidf_free(t);

    csq_tfidf_new(2, 0, CSQ_TFIDF_SAMPLES, &t);
    csq_tfidf_add(t, a, -1);
    csq_errclear();
    is_int(csq_tfidf_score(t, 0, &s), CSQ_EINVAL, "samples: one document refused");
    csq_tfidf_add(t, a, -1);
    /* two equal documents: A all 1, n = 2, IDF = ln(2/3), TF = [1/3, 2/3];
     * S = [2/3 / 2, 4/3 / 2]; score = mean(S) ln(2/3) = (1/2) ln(2/3) */
    ok(csq_tfidf_score(t, 0, &s) == 0, "samples: two equal documents score");
    is_near(s, 0.5 * log(2.0 / 3.0), 1e-9, "two equal documents: ln(2/3) / 2");
    csq_tfidf_free(t);
    csq_tfidf_free(NULL);
}

static void pooling(void)
{
    /* 2 images x 2 channels x (2x2):
     *   image 0 channel 0: [1, -1, 3, -3] -> (1 + 3) / 4 = 1
     *   image 0 channel 1: all negative   -> 0
     *   image 1 channel 0: [0.5, 0.5, 0.5, 0.5] -> 0.5
     *   image 1 channel 1: [4, 0, 0, 0]   -> 1 */
    const float y[16] = {1, -1, 3, -3, -1, -2, -3, -4, 0.5f, 0.5f, 0.5f, 0.5f, 4, 0, 0, 0};
    float out[4];

    csq_tfidf_pool(y, 2, 2, 4, out);
    ok(out[0] == 1 && out[1] == 0 && out[2] == 0.5f && out[3] == 1, "pool: relu means %g %g %g %g",
       out[0], out[1], out[2], out[3]);
}

static void pooling_last(void)
{
    /* the same maps channels-last, [2 images][4 positions][2 channels]:
     * the same relu means */
    const float y[16] = {1, -1, -1, -2, 3, -3, -3, -4, 0.5f, 4, 0.5f, 0, 0.5f, 0, 0.5f, 0};
    float out[4];

    csq_tfidf_pool_last(y, 2, 4, 2, out);
    ok(out[0] == 1 && out[1] == 0 && out[2] == 0.5f && out[3] == 1,
       "pool channels-last: relu means %g %g %g %g", out[0], out[1], out[2], out[3]);
}

int main(void)
{
    equal_features();
    dead_channel_zero_doc_coe();
    one_channel();
    classes_mode();
    classes_dead_single_coe();
    all_dead();
    equal_inexact();
    errors();
    pooling();
    pooling_last();
    return tap_done();
}
