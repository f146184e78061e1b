/* op_eltwise: Add/Sub/Mul/Div broadcasting on float32 and int64, and
 * ReduceMean, against values worked out by hand. */
#include "config.h"

#include "kt.h"

#define F CSQ_DT_FLOAT
#define I64 CSQ_DT_INT64

static void test_bcast_row(void)
{
    struct tnode n;
    float xd[] = { 1, 2, 3, 4, 5, 6 }, yd[] = { 10, 20, 30 };
    float want[] = { 11, 22, 33, 14, 25, 36 };
    struct csq_tensor x = tens(F, xd, 2, 2, 3), y = tens(F, yd, 1, 3), out[1];
    const struct csq_tensor *in[] = { &x, &y };

    tn_init(&n, "Add");
    is_int(kcall(csq_op_add_infer, csq_op_add_run, &n, 14, 2, in, 1, out), 0, "add [2,3]+[3]");
    is_dims(&out[0], "add [2,3]+[3]", 2, 2, 3);
    is_floats(&out[0], want, 6, 0, "add [2,3]+[3]");
    kfree(out, 1);
    /* the same with the operands swapped */
    in[0] = &y;
    in[1] = &x;
    is_int(kcall(csq_op_add_infer, csq_op_add_run, &n, 14, 2, in, 1, out), 0, "add [3]+[2,3]");
    is_floats(&out[0], want, 6, 0, "add [3]+[2,3]");
    kfree(out, 1);
}

static void test_bcast_both(void)
{
    struct tnode n;
    float xd[] = { 1, 2, 3, 4, 5, 6 }, yd[] = { 1, 2, 3, 4 };
    /* out[i][j][k] = x[i][0][k] * y[j][0] */
    float want[] = { 1, 2, 3, 2, 4, 6, 3, 6, 9, 4, 8, 12,
                     4, 5, 6, 8, 10, 12, 12, 15, 18, 16, 20, 24 };
    struct csq_tensor x = tens(F, xd, 3, 2, 1, 3), y = tens(F, yd, 2, 4, 1), out[1];
    const struct csq_tensor *in[] = { &x, &y };

    tn_init(&n, "Mul");
    is_int(kcall(csq_op_mul_infer, csq_op_mul_run, &n, 14, 2, in, 1, out), 0,
           "mul [2,1,3]*[4,1]");
    is_dims(&out[0], "mul [2,1,3]*[4,1]", 3, 2, 4, 3);
    is_floats(&out[0], want, 24, 0, "mul [2,1,3]*[4,1]");
    kfree(out, 1);
}

static void test_sub_outer(void)
{
    struct tnode n;
    float xd[] = { 10, 20, 30 }, yd[] = { 1, 2 };
    float want[] = { 9, 8, 19, 18, 29, 28 };
    struct csq_tensor x = tens(F, xd, 2, 3, 1), y = tens(F, yd, 2, 1, 2), out[1];
    const struct csq_tensor *in[] = { &x, &y };

    tn_init(&n, "Sub");
    is_int(kcall(csq_op_sub_infer, csq_op_sub_run, &n, 14, 2, in, 1, out), 0, "sub [3,1]-[1,2]");
    is_dims(&out[0], "sub [3,1]-[1,2]", 2, 3, 2);
    is_floats(&out[0], want, 6, 0, "sub [3,1]-[1,2]");
    kfree(out, 1);
}

static void test_scalars(void)
{
    struct tnode n;
    float s = 10, v[] = { 1, 2, 4, 8 }, t = 4;
    float want_sub[] = { 9, 8, 6, 2 }, want_div[] = { 0.25f, 0.5f, 1, 2 }, want_one = 2.5f;
    struct csq_tensor xs = tens(F, &s, 0), xv = tens(F, v, 2, 2, 2), xt = tens(F, &t, 0);
    struct csq_tensor out[1];
    const struct csq_tensor *in[] = { &xs, &xv };

    tn_init(&n, "Sub");
    is_int(kcall(csq_op_sub_infer, csq_op_sub_run, &n, 14, 2, in, 1, out), 0, "scalar - [2,2]");
    is_dims(&out[0], "scalar - [2,2]", 2, 2, 2);
    is_floats(&out[0], want_sub, 4, 0, "scalar - [2,2]");
    kfree(out, 1);

    tn_init(&n, "Div");
    in[0] = &xv;
    in[1] = &xt;
    is_int(kcall(csq_op_div_infer, csq_op_div_run, &n, 14, 2, in, 1, out), 0, "[2,2] / scalar");
    is_floats(&out[0], want_div, 4, 0, "[2,2] / scalar");
    kfree(out, 1);

    in[0] = &xs;
    is_int(kcall(csq_op_div_infer, csq_op_div_run, &n, 14, 2, in, 1, out), 0, "scalar / scalar");
    is_dims(&out[0], "scalar / scalar", 0);
    is_floats(&out[0], &want_one, 1, 0, "scalar / scalar");
    kfree(out, 1);
}

static void test_int64(void)
{
    struct tnode n;
    int64_t a[] = { 7, -7, 7, -7, 0, 6 }, b[] = { 2, 2, -2, -2, 3, 0 };
    int64_t want_div[] = { 3, -3, -3, 3, 0, 0 };    /* truncated; x / 0 gives 0 */
    int64_t shape[] = { 1, 3, 224, 224 }, four = 4, big = INT64_MAX, one_v = 1;
    int64_t want_mul[] = { 4, 12, 896, 896 }, want_add[] = { INT64_MIN };
    struct csq_tensor x = tens(I64, a, 1, 6), y = tens(I64, b, 1, 6), out[1];
    struct csq_tensor s = tens(I64, shape, 1, 4), k = tens(I64, &four, 0);
    struct csq_tensor bg = tens(I64, &big, 1, 1), one = tens(I64, &one_v, 0);
    const struct csq_tensor *in[] = { &x, &y };

    tn_init(&n, "Div");
    is_int(kcall(csq_op_div_infer, csq_op_div_run, &n, 14, 2, in, 1, out), 0, "int64 div");
    is_int64s(&out[0], want_div, 6, "int64 div truncates toward zero");
    kfree(out, 1);

    tn_init(&n, "Mul");
    in[0] = &s;
    in[1] = &k;
    is_int(kcall(csq_op_mul_infer, csq_op_mul_run, &n, 14, 2, in, 1, out), 0, "int64 mul");
    is_int(out[0].dtype, I64, "int64 mul: int64 out");
    is_int64s(&out[0], want_mul, 4, "int64 [4] * scalar");
    kfree(out, 1);

    tn_init(&n, "Add");
    in[0] = &bg;
    in[1] = &one;
    is_int(kcall(csq_op_add_infer, csq_op_add_run, &n, 14, 2, in, 1, out), 0, "int64 add");
    is_int64s(&out[0], want_add, 1, "int64 add wraps on overflow");
    kfree(out, 1);
}

/* Big enough for the threaded, chunked paths; want is a closed formula. */
static void test_large(void)
{
    struct tnode n;
    enum { C = 3, HW = 100 * 100, L = 40000 };
    static float xd[2 * C * HW], yd[C], zd[L], wd[L];
    struct csq_tensor x = tens(F, xd, 4, 2, C, 100, 100), y = tens(F, yd, 3, C, 1, 1), out[1];
    struct csq_tensor z = tens(F, zd, 2, 1, L), w = tens(F, wd, 2, 1, L);
    const struct csq_tensor *in[] = { &x, &y };
    int64_t i, bad = 0;

    for (i = 0; i < 2 * C * HW; i++)
        xd[i] = (float)(i % 7);
    for (i = 0; i < C; i++)
        yd[i] = (float)(100 * (i + 1));
    tn_init(&n, "Add");
    is_int(kcall(csq_op_add_infer, csq_op_add_run, &n, 14, 2, in, 1, out), 0,
           "add [2,3,100,100]+[3,1,1]");
    for (i = 0; i < 2 * C * HW; i++)
        if (((float *)out[0].data)[i] != (float)(i % 7 + 100 * ((i / HW) % C + 1)))
            bad++;
    is_int(bad, 0, "add [2,3,100,100]+[3,1,1]: every element is x + bias of its channel");
    kfree(out, 1);

    for (i = 0; i < L; i++) {
        zd[i] = (float)(i % 1000);
        wd[i] = (float)(i % 3 + 1);
    }
    tn_init(&n, "Mul");
    in[0] = &z;
    in[1] = &w;
    is_int(kcall(csq_op_mul_infer, csq_op_mul_run, &n, 14, 2, in, 1, out), 0, "mul same shape");
    for (bad = 0, i = 0; i < L; i++)
        if (((float *)out[0].data)[i] != (float)((i % 1000) * (i % 3 + 1)))
            bad++;
    is_int(bad, 0, "mul [1,40000] same shape: every element");
    kfree(out, 1);
}

static void test_errors(void)
{
    struct tnode n;
    float d[12] = { 0 };
    int64_t id[4] = { 0 };
    unsigned char bd[4] = { 0 };
    struct csq_tensor x = tens(F, d, 2, 2, 3), y = tens(F, d, 1, 4), out[1];
    struct csq_tensor xi = tens(I64, id, 1, 3), xb = tens(CSQ_DT_BOOL, bd, 1, 3);
    const struct csq_tensor *in[] = { &x, &y };

    tn_init(&n, "Add");
    is_err(kcall(csq_op_add_infer, csq_op_add_run, &n, 14, 2, in, 1, out), CSQ_ESHAPE,
           "node 'n0' (Add): shapes [2,3] and [4] do not broadcast", "[2,3]+[4]");
    in[1] = &xi;
    is_err(kcall(csq_op_add_infer, csq_op_add_run, &n, 14, 2, in, 1, out), CSQ_EINVAL,
           "types differ", "float + int64");
    in[0] = &xb;
    in[1] = &xb;
    is_err(kcall(csq_op_add_infer, csq_op_add_run, &n, 14, 2, in, 1, out), CSQ_EUNSUPPORTED,
           "element type 9", "bool + bool");
}

static void test_reducemean(void)
{
    struct tnode n;
    float xd[12] = { 0 };
    struct csq_tensor x = tens(F, xd, 3, 2, 3, 2), out[1];
    const struct csq_tensor *in[] = { &x, NULL };
    int64_t ax1[] = { 1 }, axm1[] = { -1 }, ax02[] = { 0, 2 }, ax3[] = { 3 }, dup[] = { 1, -2 };
    float want1[] = { 3, 4, 9, 10 }, wantm1[] = { 1.5f, 3.5f, 5.5f, 7.5f, 9.5f, 11.5f };
    float want02[] = { 4.5f, 6.5f, 8.5f }, wantall = 6.5f;
    struct csq_tensor axt = tens(I64, ax1, 1, 1), axrt = tens(I64, NULL, 1, 1);
    int i;

    for (i = 0; i < 12; i++)
        xd[i] = (float)(i + 1);

    tn_init(&n, "ReduceMean");
    tn_ints(&n, "axes", ax1, 1);
    is_int(kcall(csq_op_reducemean_infer, csq_op_reducemean_run, &n, 13, 1, in, 1, out), 0,
           "reducemean axes [1]");
    is_dims(&out[0], "reducemean axes [1] keepdims default", 3, 2, 1, 2);
    is_floats(&out[0], want1, 4, 1e-6, "reducemean axes [1]");
    kfree(out, 1);

    tn_int(&n, "keepdims", 0);
    is_int(kcall(csq_op_reducemean_infer, csq_op_reducemean_run, &n, 13, 1, in, 1, out), 0,
           "reducemean axes [1] keepdims 0");
    is_dims(&out[0], "reducemean axes [1] keepdims 0", 2, 2, 2);
    is_floats(&out[0], want1, 4, 1e-6, "reducemean axes [1] keepdims 0");
    kfree(out, 1);

    tn_init(&n, "ReduceMean");
    tn_ints(&n, "axes", axm1, 1);
    tn_int(&n, "keepdims", 1);
    is_int(kcall(csq_op_reducemean_infer, csq_op_reducemean_run, &n, 13, 1, in, 1, out), 0,
           "reducemean axes [-1]");
    is_dims(&out[0], "reducemean axes [-1]", 3, 2, 3, 1);
    is_floats(&out[0], wantm1, 6, 1e-6, "reducemean axes [-1]");
    kfree(out, 1);

    tn_init(&n, "ReduceMean");
    tn_ints(&n, "axes", ax02, 2);
    tn_int(&n, "keepdims", 0);
    is_int(kcall(csq_op_reducemean_infer, csq_op_reducemean_run, &n, 13, 1, in, 1, out), 0,
           "reducemean axes [0,2]");
    is_dims(&out[0], "reducemean axes [0,2] keepdims 0", 1, 3);
    is_floats(&out[0], want02, 3, 1e-6, "reducemean axes [0,2]");
    kfree(out, 1);

    tn_init(&n, "ReduceMean");
    is_int(kcall(csq_op_reducemean_infer, csq_op_reducemean_run, &n, 13, 1, in, 1, out), 0,
           "reducemean all axes");
    is_dims(&out[0], "reducemean no axes keepdims 1", 3, 1, 1, 1);
    is_floats(&out[0], &wantall, 1, 1e-6, "reducemean all axes");
    kfree(out, 1);
    tn_int(&n, "keepdims", 0);
    is_int(kcall(csq_op_reducemean_infer, csq_op_reducemean_run, &n, 13, 1, in, 1, out), 0,
           "reducemean all axes keepdims 0");
    is_dims(&out[0], "reducemean no axes keepdims 0", 0);
    kfree(out, 1);

    /* opset 18: axes is an input */
    tn_init(&n, "ReduceMean");
    in[1] = &axt;
    is_int(kcall(csq_op_reducemean_infer, csq_op_reducemean_run, &n, 18, 2, in, 1, out), 0,
           "reducemean opset 18 axes input");
    is_floats(&out[0], want1, 4, 1e-6, "reducemean opset 18 axes input");
    kfree(out, 1);
    in[1] = &axrt;
    is_err(kcall(csq_op_reducemean_infer, csq_op_reducemean_run, &n, 18, 2, in, 1, out),
           CSQ_EUNSUPPORTED, "input 1 (axes) must be a constant", "reducemean run-time axes");
    in[1] = NULL;

    tn_init(&n, "ReduceMean");
    tn_ints(&n, "axes", ax3, 1);
    is_err(kcall(csq_op_reducemean_infer, csq_op_reducemean_run, &n, 13, 1, in, 1, out),
           CSQ_EINVAL, "axis 3 out of range for rank 3", "reducemean bad axis");
    tn_init(&n, "ReduceMean");
    tn_ints(&n, "axes", dup, 2);
    is_err(kcall(csq_op_reducemean_infer, csq_op_reducemean_run, &n, 13, 1, in, 1, out),
           CSQ_EINVAL, "given twice", "reducemean duplicate axis");
}

int main(void)
{
    test_bcast_row();
    test_bcast_both();
    test_sub_outer();
    test_scalars();
    test_int64();
    test_large();
    test_errors();
    test_reducemean();
    return tap_done();
}
