/* op_act: activations at hand-picked points, both Clip styles and both
 * Softmax axis semantics. */
#include "config.h"

#include <float.h>

#include "kt.h"

#define F CSQ_DT_FLOAT
#define I64 CSQ_DT_INT64

/* Run a one-input float activation on n points. */
static void check_map(kfn infer, kfn run, const struct tnode *n, int64_t opset,
                      const float *x, const float *want, int cnt, double tol, const char *what)
{
    struct csq_tensor xt = tens(F, x, 1, cnt), out[1];
    const struct csq_tensor *in[] = { &xt };

    is_int(kcall(infer, run, n, opset, 1, in, 1, out), 0, "%s: status", what);
    is_dims(&out[0], what, 1, cnt);
    is_floats(&out[0], want, cnt, tol, what);
    kfree(out, 1);
}

static void test_simple(void)
{
    struct tnode n;
    float xr[] = { -2, -0.5f, 0, 1.5f }, wr[] = { 0, 0, 0, 1.5f };
    float xl[] = { -2, 3 }, wl1[] = { -0.02f, 3 }, wl2[] = { -0.2f, 3 };
    float xs[] = { 0, 1, -1, 100, -100 };
    float ws[] = { 0.5f, 0.7310585786f, 0.2689414214f, 1, 0 };
    float xh[] = { -3, -2.5f, 0, 1, 2.5f, 3 }, wh[] = { 0, 0, 0.5f, 0.7f, 1, 1 };
    float xh2[] = { -1, 0, 1 }, wh2[] = { 0.1f, 0.6f, 1 };
    float xw[] = { -4, -3, -1, 0, 1, 3, 4 };
    float ww[] = { 0, 0, -1.0f / 3, 0, 2.0f / 3, 3, 4 };

    tn_init(&n, "Relu");
    check_map(csq_op_relu_infer, csq_op_relu_run, &n, 14, xr, wr, 4, 0, "relu");
    tn_init(&n, "LeakyRelu");
    check_map(csq_op_leakyrelu_infer, csq_op_leakyrelu_run, &n, 16, xl, wl1, 2, 1e-7,
              "leakyrelu default alpha 0.01");
    tn_float(&n, "alpha", 0.1f);
    check_map(csq_op_leakyrelu_infer, csq_op_leakyrelu_run, &n, 16, xl, wl2, 2, 1e-7,
              "leakyrelu alpha 0.1");
    tn_init(&n, "Sigmoid");
    check_map(csq_op_sigmoid_infer, csq_op_sigmoid_run, &n, 13, xs, ws, 5, 1e-7, "sigmoid");
    tn_init(&n, "HardSigmoid");
    check_map(csq_op_hardsigmoid_infer, csq_op_hardsigmoid_run, &n, 6, xh, wh, 6, 1e-7,
              "hardsigmoid default alpha 0.2 beta 0.5");
    tn_float(&n, "alpha", 0.5f);
    tn_float(&n, "beta", 0.6f);
    check_map(csq_op_hardsigmoid_infer, csq_op_hardsigmoid_run, &n, 6, xh2, wh2, 3, 1e-7,
              "hardsigmoid alpha 0.5 beta 0.6");
    tn_init(&n, "HardSwish");
    check_map(csq_op_hardswish_infer, csq_op_hardswish_run, &n, 14, xw, ww, 7, 1e-7,
              "hardswish");
}

/* Large enough for the threaded path. */
static void test_relu_large(void)
{
    struct tnode n;
    enum { N = 100000 };
    static float x[N];
    struct csq_tensor xt = tens(F, x, 2, 10, N / 10), out[1];
    const struct csq_tensor *in[] = { &xt };
    int i, bad = 0;

    for (i = 0; i < N; i++)
        x[i] = (float)(i % 11 - 5);
    tn_init(&n, "Relu");
    is_int(kcall(csq_op_relu_infer, csq_op_relu_run, &n, 14, 1, in, 1, out), 0, "relu large");
    for (i = 0; i < N; i++)
        if (((float *)out[0].data)[i] != (i % 11 - 5 > 0 ? (float)(i % 11 - 5) : 0.0f))
            bad++;
    is_int(bad, 0, "relu large: every element");
    kfree(out, 1);
}

static void test_clip(void)
{
    struct tnode n;
    float x[] = { -2, 0, 0.5f, 2 }, lo = -1, hi = 1;
    float w_both[] = { -1, 0, 0.5f, 1 }, w_lo[] = { -1, 0, 0.5f, 2 }, w_hi[] = { -2, 0, 0.5f, 1 };
    int64_t xi[] = { -5, 3, 10 }, loi = 0, hii = 5, wi[] = { 0, 3, 5 };
    struct csq_tensor xt = tens(F, x, 1, 4), lot = tens(F, &lo, 0), hit = tens(F, &hi, 0);
    struct csq_tensor rt = tens(F, NULL, 0), out[1];
    struct csq_tensor xit = tens(I64, xi, 1, 3), loit = tens(I64, &loi, 0);
    struct csq_tensor hiit = tens(I64, &hii, 0);
    const struct csq_tensor *in[] = { &xt, &lot, &hit };

    /* opset 6: attributes */
    tn_init(&n, "Clip");
    tn_float(&n, "min", -1);
    tn_float(&n, "max", 1);
    check_map(csq_op_clip_infer, csq_op_clip_run, &n, 6, x, w_both, 4, 0, "clip-6 min max");
    tn_init(&n, "Clip");
    tn_float(&n, "min", -1);
    check_map(csq_op_clip_infer, csq_op_clip_run, &n, 6, x, w_lo, 4, 0, "clip-6 min only");

    /* opset 13: inputs */
    tn_init(&n, "Clip");
    is_int(kcall(csq_op_clip_infer, csq_op_clip_run, &n, 13, 3, in, 1, out), 0, "clip-13 both");
    is_floats(&out[0], w_both, 4, 0, "clip-13 min max inputs");
    kfree(out, 1);
    in[1] = NULL;
    is_int(kcall(csq_op_clip_infer, csq_op_clip_run, &n, 13, 3, in, 1, out), 0, "clip-13 max");
    is_floats(&out[0], w_hi, 4, 0, "clip-13 min omitted");
    kfree(out, 1);
    is_int(kcall(csq_op_clip_infer, csq_op_clip_run, &n, 13, 1, in, 1, out), 0, "clip-13 none");
    is_floats(&out[0], x, 4, 0, "clip-13 no bounds is identity");
    kfree(out, 1);
    /* opset 13 ignores the attributes of the old style */
    tn_float(&n, "min", 0);
    in[1] = &lot;
    in[2] = NULL;
    is_int(kcall(csq_op_clip_infer, csq_op_clip_run, &n, 13, 3, in, 1, out), 0, "clip-13 min");
    is_floats(&out[0], w_lo, 4, 0, "clip-13 max omitted");
    kfree(out, 1);
    in[1] = &rt;
    is_err(kcall(csq_op_clip_infer, csq_op_clip_run, &n, 13, 2, in, 1, out), CSQ_EUNSUPPORTED,
           "node 'n0' (Clip): input 1 (min) must be a constant", "clip-13 run-time min");

    in[0] = &xit;
    in[1] = &loit;
    in[2] = &hiit;
    is_int(kcall(csq_op_clip_infer, csq_op_clip_run, &n, 13, 3, in, 1, out), 0, "clip int64");
    is_int64s(&out[0], wi, 3, "clip int64");
    kfree(out, 1);
    in[1] = &lot;
    is_err(kcall(csq_op_clip_infer, csq_op_clip_run, &n, 13, 3, in, 1, out), CSQ_EINVAL,
           "scalar of the input's type", "clip int64 with float min");
}

static void test_softmax(void)
{
    struct tnode n;
    float x[] = { 0, 1, 2, 3, 4, 5 };
    float x3[] = { 0, 1, 2, 3, 0, 1, 2, 3 };
    float big[] = { 10000, 10001, 10002, 10003 };
    /* rows of {k, k+1, k+2}: e^j / (1 + e + e^2) */
    float rows[] = { 0.0900305732f, 0.2447284711f, 0.6652409558f,
                     0.0900305732f, 0.2447284711f, 0.6652409558f };
    /* columns {k, k+3}: 1 / (1 + e^3) and its complement */
    float cols[] = { 0.0474258732f, 0.0474258732f, 0.0474258732f,
                     0.9525741268f, 0.9525741268f, 0.9525741268f };
    /* all six: e^k / sum_{j<6} e^j */
    float all[] = { 0.0042697785f, 0.0116064614f, 0.0315496332f,
                    0.0857607946f, 0.2331220096f, 0.6336913226f };
    /* four: e^k / sum_{j<4} e^j */
    float four[] = { 0.0320586033f, 0.0871443187f, 0.2368828181f, 0.6439142599f };
    /* [2,2,2] axis 1 along one axis: pairs {0,2} and {1,3} */
    float pairs[] = { 0.1192029220f, 0.1192029220f, 0.8807970780f, 0.8807970780f,
                      0.1192029220f, 0.1192029220f, 0.8807970780f, 0.8807970780f };
    float w3_old[8];
    struct csq_tensor xt = tens(F, x, 2, 2, 3), x3t = tens(F, x3, 3, 2, 2, 2);
    struct csq_tensor bt = tens(F, big, 1, 4), out[1];
    const struct csq_tensor *in[] = { &xt };
    int i;

    for (i = 0; i < 8; i++)
        w3_old[i] = four[i % 4];

    tn_init(&n, "Softmax");
    is_int(kcall(csq_op_softmax_infer, csq_op_softmax_run, &n, 11, 1, in, 1, out), 0, "sm-11");
    is_floats(&out[0], rows, 6, 1e-6, "softmax-11 [2,3] default axis 1: rows");
    kfree(out, 1);
    is_int(kcall(csq_op_softmax_infer, csq_op_softmax_run, &n, 13, 1, in, 1, out), 0, "sm-13");
    is_floats(&out[0], rows, 6, 1e-6, "softmax-13 [2,3] default axis -1: rows");
    kfree(out, 1);

    tn_int(&n, "axis", 0);
    is_int(kcall(csq_op_softmax_infer, csq_op_softmax_run, &n, 11, 1, in, 1, out), 0, "sm-11 0");
    is_dims(&out[0], "softmax-11 axis 0", 2, 2, 3);
    is_floats(&out[0], all, 6, 1e-6, "softmax-11 [2,3] axis 0: all six elements");
    kfree(out, 1);
    is_int(kcall(csq_op_softmax_infer, csq_op_softmax_run, &n, 13, 1, in, 1, out), 0, "sm-13 0");
    is_floats(&out[0], cols, 6, 1e-6, "softmax-13 [2,3] axis 0: columns");
    kfree(out, 1);

    tn_init(&n, "Softmax");
    tn_int(&n, "axis", 1);
    in[0] = &x3t;
    is_int(kcall(csq_op_softmax_infer, csq_op_softmax_run, &n, 11, 1, in, 1, out), 0, "sm-11 3d");
    is_floats(&out[0], w3_old, 8, 1e-6, "softmax-11 [2,2,2] axis 1: flattened rows of 4");
    kfree(out, 1);
    is_int(kcall(csq_op_softmax_infer, csq_op_softmax_run, &n, 13, 1, in, 1, out), 0, "sm-13 3d");
    is_floats(&out[0], pairs, 8, 1e-6, "softmax-13 [2,2,2] axis 1: along axis 1 only");
    kfree(out, 1);

    tn_init(&n, "Softmax");
    in[0] = &bt;
    is_int(kcall(csq_op_softmax_infer, csq_op_softmax_run, &n, 13, 1, in, 1, out), 0, "sm big");
    is_floats(&out[0], four, 4, 1e-6, "softmax of large numbers is stable");
    kfree(out, 1);

    tn_int(&n, "axis", 1);
    is_err(kcall(csq_op_softmax_infer, csq_op_softmax_run, &n, 13, 1, in, 1, out), CSQ_EINVAL,
           "axis 1 out of range for rank 1", "softmax bad axis");
}

int main(void)
{
    test_simple();
    test_relu_large();
    test_clip();
    test_softmax();
    return tap_done();
}
