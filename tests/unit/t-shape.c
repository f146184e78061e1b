/* op_shape: data movement operators on float32 and int64, each against
 * hand-worked shapes and values, and their error cases. */
#include "config.h"

#include "kt.h"

#define F CSQ_DT_FLOAT
#define I64 CSQ_DT_INT64

static float seq[24];   /* 0, 1, ..., 23 */

static void test_flatten(void)
{
    struct tnode n;
    struct csq_tensor x = tens(F, seq, 3, 2, 3, 4), out[1];
    const struct csq_tensor *in[] = { &x };
    static const struct { int axis, d0, d1; } c[] = {
        { 1, 2, 12 }, { 0, 1, 24 }, { -1, 6, 4 }, { 3, 24, 1 }, { -3, 1, 24 }
    };
    char what[64];
    size_t i;

    tn_init(&n, "Flatten");
    is_int(kcall(csq_op_flatten_infer, csq_op_flatten_run, &n, 13, 1, in, 1, out), 0, "flatten");
    is_dims(&out[0], "flatten default axis", 2, 2, 12);
    is_floats(&out[0], seq, 24, 0, "flatten copies");
    kfree(out, 1);
    for (i = 0; i < sizeof c / sizeof c[0]; i++) {
        tn_init(&n, "Flatten");
        tn_int(&n, "axis", c[i].axis);
        snprintf(what, sizeof what, "flatten axis %d", c[i].axis);
        is_int(kcall(csq_op_flatten_infer, csq_op_flatten_run, &n, 13, 1, in, 1, out), 0,
               "%s", what);
        is_dims(&out[0], what, 2, c[i].d0, c[i].d1);
        kfree(out, 1);
    }
    tn_init(&n, "Flatten");
    tn_int(&n, "axis", 4);
    is_err(kcall(csq_op_flatten_infer, csq_op_flatten_run, &n, 13, 1, in, 1, out), CSQ_EINVAL,
           "axis 4 out of range", "flatten axis 4 of rank 3");
}

static void test_reshape(void)
{
    struct tnode n;
    int64_t s1[] = { 0, -1 }, s2[] = { -1, 2, 0 }, s3[] = { 3, 4, 0 }, s4[] = { 5, -1 };
    int64_t s5[] = { -1, -1 }, s6[] = { 2, 0, 0, 0 }, idat[] = { 1, 2, 3, 4, 5, 6 };
    struct csq_tensor x = tens(F, seq, 3, 2, 3, 4), e = tens(F, seq, 3, 0, 3, 4), out[1];
    struct csq_tensor t1 = tens(I64, s1, 1, 2), t2 = tens(I64, s2, 1, 3), t3 = tens(I64, s3, 1, 3);
    struct csq_tensor t4 = tens(I64, s4, 1, 2), t5 = tens(I64, s5, 1, 2);
    struct csq_tensor t6 = tens(I64, s6, 1, 4), rt = tens(I64, NULL, 1, 2);
    struct csq_tensor xi = tens(I64, idat, 1, 6);
    const struct csq_tensor *in[] = { &x, &t1 };

    tn_init(&n, "Reshape");
    is_int(kcall(csq_op_reshape_infer, csq_op_reshape_run, &n, 14, 2, in, 1, out), 0, "reshape");
    is_dims(&out[0], "reshape [2,3,4] to [0,-1]", 2, 2, 12);
    is_floats(&out[0], seq, 24, 0, "reshape copies");
    kfree(out, 1);
    in[1] = &t2;
    is_int(kcall(csq_op_reshape_infer, csq_op_reshape_run, &n, 14, 2, in, 1, out), 0, "reshape");
    is_dims(&out[0], "reshape [2,3,4] to [-1,2,0]", 3, 3, 2, 4);
    kfree(out, 1);

    /* allowzero: 0 is a real zero dim */
    tn_int(&n, "allowzero", 1);
    in[0] = &e;
    in[1] = &t3;
    is_int(kcall(csq_op_reshape_infer, csq_op_reshape_run, &n, 14, 2, in, 1, out), 0,
           "reshape allowzero");
    is_dims(&out[0], "reshape [0,3,4] to [3,4,0] allowzero", 3, 3, 4, 0);
    kfree(out, 1);
    /* before opset 14 the attribute does not exist: 0 copies */
    is_err(kcall(csq_op_reshape_infer, csq_op_reshape_run, &n, 13, 2, in, 1, out), CSQ_ESHAPE,
           "do not fit", "reshape-13 [0,3,4] to [3,4,0] copies dim 2");

    tn_init(&n, "Reshape");
    in[0] = &xi;
    in[1] = &t4;
    is_err(kcall(csq_op_reshape_infer, csq_op_reshape_run, &n, 14, 2, in, 1, out), CSQ_ESHAPE,
           "do not divide", "reshape 6 elements to [5,-1]");
    in[1] = &t5;
    is_err(kcall(csq_op_reshape_infer, csq_op_reshape_run, &n, 14, 2, in, 1, out), CSQ_EINVAL,
           "more than one -1", "reshape [-1,-1]");
    in[1] = &t6;
    is_err(kcall(csq_op_reshape_infer, csq_op_reshape_run, &n, 14, 2, in, 1, out), CSQ_ESHAPE,
           "does not have", "reshape 0 past the input rank");
    in[1] = &rt;
    is_err(kcall(csq_op_reshape_infer, csq_op_reshape_run, &n, 14, 2, in, 1, out),
           CSQ_EUNSUPPORTED, "node 'n0' (Reshape): input 1 (shape) must be a constant",
           "reshape run-time shape");
    in[1] = &t1;
    s1[0] = 3;
    is_int(kcall(csq_op_reshape_infer, csq_op_reshape_run, &n, 14, 2, in, 1, out), 0,
           "reshape int64");
    is_dims(&out[0], "reshape int64 [6] to [3,-1]", 2, 3, 2);
    is_int64s(&out[0], idat, 6, "reshape int64 copies");
    kfree(out, 1);
}

static void test_transpose(void)
{
    struct tnode n;
    float x2[] = { 1, 2, 3, 4, 5, 6 }, w2[] = { 1, 4, 2, 5, 3, 6 };
    /* x3[i][j][k] = 100 i + 10 j + k, [2,3,2]; perm [1,2,0]: out[j][k][i] */
    float x3[] = { 0, 1, 10, 11, 20, 21, 100, 101, 110, 111, 120, 121 };
    float w3[] = { 0, 100, 1, 101, 10, 110, 11, 111, 20, 120, 21, 121 };
    int64_t i2[] = { 1, 2, 3, 4, 5, 6 }, wi2[] = { 1, 4, 2, 5, 3, 6 };
    int64_t p120[] = { 1, 2, 0 }, bad[] = { 0, 0, 1 }, p01[] = { 0, 1 };
    struct csq_tensor t2 = tens(F, x2, 2, 2, 3), t3 = tens(F, x3, 3, 2, 3, 2), out[1];
    struct csq_tensor ti = tens(I64, i2, 2, 2, 3);
    const struct csq_tensor *in[] = { &t2 };

    tn_init(&n, "Transpose");
    is_int(kcall(csq_op_transpose_infer, csq_op_transpose_run, &n, 13, 1, in, 1, out), 0, "tr");
    is_dims(&out[0], "transpose [2,3] default perm", 2, 3, 2);
    is_floats(&out[0], w2, 6, 0, "transpose [2,3] default perm");
    kfree(out, 1);
    in[0] = &ti;
    is_int(kcall(csq_op_transpose_infer, csq_op_transpose_run, &n, 13, 1, in, 1, out), 0, "tr");
    is_int64s(&out[0], wi2, 6, "transpose int64 [2,3]");
    kfree(out, 1);

    tn_ints(&n, "perm", p120, 3);
    in[0] = &t3;
    is_int(kcall(csq_op_transpose_infer, csq_op_transpose_run, &n, 13, 1, in, 1, out), 0, "tr");
    is_dims(&out[0], "transpose [2,3,2] perm [1,2,0]", 3, 3, 2, 2);
    is_floats(&out[0], w3, 12, 0, "transpose [2,3,2] perm [1,2,0]");
    kfree(out, 1);

    tn_init(&n, "Transpose");
    tn_ints(&n, "perm", bad, 3);
    is_err(kcall(csq_op_transpose_infer, csq_op_transpose_run, &n, 13, 1, in, 1, out),
           CSQ_EINVAL, "not a permutation", "transpose perm [0,0,1]");
    tn_init(&n, "Transpose");
    tn_ints(&n, "perm", p01, 2);
    is_err(kcall(csq_op_transpose_infer, csq_op_transpose_run, &n, 13, 1, in, 1, out),
           CSQ_EINVAL, "must list 3 axes", "transpose perm too short");
}

static void test_concat_split(void)
{
    struct tnode n;
    float a[] = { 1, 2, 3, 4 }, b[] = { 5, 6 }, wc[] = { 1, 2, 5, 3, 4, 6 };
    float w0[] = { 1, 2, 3, 4, 1, 2, 3, 4 };
    int64_t i1[] = { 1 }, i2[] = { 3, 224 }, wi[] = { 1, 3, 224 };
    int64_t sz[] = { 2, 1 }, sz3[] = { 1, 1, 1 };
    struct csq_tensor ta = tens(F, a, 2, 2, 2), tb = tens(F, b, 2, 2, 1), out[3], back[3];
    struct csq_tensor ti1 = tens(I64, i1, 1, 1), ti2 = tens(I64, i2, 1, 2);
    struct csq_tensor tsz = tens(I64, sz, 1, 2), tsz3 = tens(I64, sz3, 1, 3);
    struct csq_tensor rsz = tens(I64, NULL, 1, 2);
    const struct csq_tensor *in[] = { &ta, &tb }, *sin[2];

    tn_init(&n, "Concat");
    tn_int(&n, "axis", -1);
    is_int(kcall(csq_op_concat_infer, csq_op_concat_run, &n, 13, 2, in, 1, out), 0, "concat");
    is_dims(&out[0], "concat [2,2],[2,1] axis -1", 2, 2, 3);
    is_floats(&out[0], wc, 6, 0, "concat [2,2],[2,1] axis -1");

    /* and back: opset 11 split attribute, then opset 13 split input */
    tn_init(&n, "Split");
    tn_int(&n, "axis", 1);
    tn_ints(&n, "split", sz, 2);
    sin[0] = &out[0];
    is_int(kcall(csq_op_split_infer, csq_op_split_run, &n, 11, 1, sin, 2, back), 0, "split-11");
    is_dims(&back[0], "split-11 part 0", 2, 2, 2);
    is_dims(&back[1], "split-11 part 1", 2, 2, 1);
    is_floats(&back[0], a, 4, 0, "split-11 roundtrip part 0");
    is_floats(&back[1], b, 2, 0, "split-11 roundtrip part 1");
    kfree(back, 2);
    tn_init(&n, "Split");
    tn_int(&n, "axis", 1);
    sin[1] = &tsz;
    is_int(kcall(csq_op_split_infer, csq_op_split_run, &n, 13, 2, sin, 2, back), 0, "split-13");
    is_floats(&back[0], a, 4, 0, "split-13 roundtrip part 0");
    is_floats(&back[1], b, 2, 0, "split-13 roundtrip part 1");
    kfree(back, 2);
    is_int(kcall(csq_op_split_infer, csq_op_split_run, &n, 13, 1, sin, 3, back), 0,
           "split-13 equal");
    is_dims(&back[2], "split [2,3] axis 1 in 3 equal parts", 2, 2, 1);
    is_floats(&back[2], b, 2, 0, "split equal parts: last");
    kfree(back, 3);
    is_err(kcall(csq_op_split_infer, csq_op_split_run, &n, 13, 1, sin, 2, back), CSQ_ESHAPE,
           "does not split into 2 equal parts", "split 3 in 2 equal parts");
    sin[1] = &tsz3;
    is_err(kcall(csq_op_split_infer, csq_op_split_run, &n, 13, 2, sin, 2, back), CSQ_EINVAL,
           "3 split sizes for 2 outputs", "split sizes/outputs mismatch");
    sin[1] = &rsz;
    is_err(kcall(csq_op_split_infer, csq_op_split_run, &n, 13, 2, sin, 2, back),
           CSQ_EUNSUPPORTED, "input 1 (split) must be a constant", "split run-time sizes");
    kfree(out, 1);

    tn_init(&n, "Concat");
    tn_int(&n, "axis", 0);
    in[1] = &ta;
    is_int(kcall(csq_op_concat_infer, csq_op_concat_run, &n, 13, 2, in, 1, out), 0, "concat 0");
    is_dims(&out[0], "concat axis 0", 2, 4, 2);
    is_floats(&out[0], w0, 8, 0, "concat [2,2],[2,2] axis 0");
    kfree(out, 1);
    in[1] = &tb;
    is_err(kcall(csq_op_concat_infer, csq_op_concat_run, &n, 13, 2, in, 1, out), CSQ_ESHAPE,
           "input 1 [2,1] does not fit input 0 [2,2] on axis 0", "concat mismatch");
    in[0] = &ti1;
    in[1] = &ti2;
    is_int(kcall(csq_op_concat_infer, csq_op_concat_run, &n, 13, 2, in, 1, out), 0,
           "concat int64");
    is_int64s(&out[0], wi, 3, "concat int64 [1],[2] (a shape chain)");
    kfree(out, 1);
    tn_init(&n, "Concat");
    is_err(kcall(csq_op_concat_infer, csq_op_concat_run, &n, 13, 2, in, 1, out), CSQ_EINVAL,
           "axis is required", "concat without axis");
}

static void test_squeeze(void)
{
    struct tnode n;
    int64_t ax0[] = { 0 }, axm2[] = { -2 }, ax1[] = { 1 }, axu[] = { 2, 0 }, dup[] = { 0, -4 };
    int64_t scal = 7;
    struct csq_tensor x = tens(F, seq, 4, 1, 3, 1, 2), y = tens(F, seq, 2, 3, 2), out[1];
    struct csq_tensor tm2 = tens(I64, axm2, 1, 1), tu = tens(I64, axu, 1, 2);
    struct csq_tensor td = tens(I64, dup, 1, 2), t0 = tens(I64, ax0, 1, 1);
    struct csq_tensor rt = tens(I64, NULL, 1, 1), s = tens(I64, &scal, 0);
    struct csq_tensor te = tens(I64, ax0, 1, 0);
    const struct csq_tensor *in[] = { &x, NULL };

    tn_init(&n, "Squeeze");
    tn_ints(&n, "axes", ax0, 1);
    is_int(kcall(csq_op_squeeze_infer, csq_op_squeeze_run, &n, 11, 1, in, 1, out), 0, "sq-11");
    is_dims(&out[0], "squeeze-11 axes [0]", 3, 3, 1, 2);
    is_floats(&out[0], seq, 6, 0, "squeeze copies");
    kfree(out, 1);
    tn_init(&n, "Squeeze");
    is_int(kcall(csq_op_squeeze_infer, csq_op_squeeze_run, &n, 11, 1, in, 1, out), 0, "sq-11");
    is_dims(&out[0], "squeeze-11 no axes: every 1", 2, 3, 2);
    kfree(out, 1);
    in[1] = &tm2;
    is_int(kcall(csq_op_squeeze_infer, csq_op_squeeze_run, &n, 13, 2, in, 1, out), 0, "sq-13");
    is_dims(&out[0], "squeeze-13 axes input [-2]", 3, 1, 3, 2);
    kfree(out, 1);
    in[1] = &te;
    is_int(kcall(csq_op_squeeze_infer, csq_op_squeeze_run, &n, 13, 2, in, 1, out), 0, "sq-13");
    is_dims(&out[0], "squeeze-13 empty axes input: every 1", 2, 3, 2);
    kfree(out, 1);
    in[1] = &rt;
    is_err(kcall(csq_op_squeeze_infer, csq_op_squeeze_run, &n, 13, 2, in, 1, out),
           CSQ_EUNSUPPORTED, "input 1 (axes) must be a constant", "squeeze run-time axes");
    tn_ints(&n, "axes", ax1, 1);
    in[1] = NULL;
    is_err(kcall(csq_op_squeeze_infer, csq_op_squeeze_run, &n, 11, 1, in, 1, out), CSQ_ESHAPE,
           "axis 1 of [1,3,1,2] is not 1", "squeeze a dim of 3");

    tn_init(&n, "Unsqueeze");
    tn_ints(&n, "axes", axu, 2);
    in[0] = &y;
    is_int(kcall(csq_op_unsqueeze_infer, csq_op_unsqueeze_run, &n, 11, 1, in, 1, out), 0,
           "unsq-11");
    is_dims(&out[0], "unsqueeze-11 axes [2,0] (unsorted)", 4, 1, 3, 1, 2);
    is_floats(&out[0], seq, 6, 0, "unsqueeze copies");
    kfree(out, 1);
    /* opset 13 reads the input, not the attribute */
    in[1] = &tm2;
    is_int(kcall(csq_op_unsqueeze_infer, csq_op_unsqueeze_run, &n, 13, 2, in, 1, out), 0,
           "unsq-13");
    is_dims(&out[0], "unsqueeze-13 axes input [-2]", 3, 3, 1, 2);
    kfree(out, 1);
    in[1] = &tu;
    is_int(kcall(csq_op_unsqueeze_infer, csq_op_unsqueeze_run, &n, 13, 2, in, 1, out), 0,
           "unsq-13");
    is_dims(&out[0], "unsqueeze-13 axes input [2,0]", 4, 1, 3, 1, 2);
    kfree(out, 1);
    in[1] = &td;
    is_err(kcall(csq_op_unsqueeze_infer, csq_op_unsqueeze_run, &n, 13, 2, in, 1, out),
           CSQ_EINVAL, "given twice", "unsqueeze duplicate axes");
    in[1] = &rt;
    is_err(kcall(csq_op_unsqueeze_infer, csq_op_unsqueeze_run, &n, 13, 2, in, 1, out),
           CSQ_EUNSUPPORTED, "node 'n0' (Unsqueeze): input 1 (axes) must be a constant",
           "unsqueeze run-time axes");
    in[1] = NULL;
    is_err(kcall(csq_op_unsqueeze_infer, csq_op_unsqueeze_run, &n, 13, 1, in, 1, out),
           CSQ_EINVAL, "axes are required", "unsqueeze-13 without axes");
    in[0] = &s;
    in[1] = &t0;
    is_int(kcall(csq_op_unsqueeze_infer, csq_op_unsqueeze_run, &n, 13, 2, in, 1, out), 0,
           "unsq scalar");
    is_dims(&out[0], "unsqueeze int64 scalar", 1, 1);
    is_int64s(&out[0], &scal, 1, "unsqueeze int64 scalar");
    kfree(out, 1);
}

static void test_shape(void)
{
    struct tnode n;
    struct csq_tensor x = tens(F, NULL, 3, 3, 4, 5), out[1];
    const struct csq_tensor *in[] = { &x };
    int64_t all[] = { 3, 4, 5 };

    tn_init(&n, "Shape");
    is_int(kcall(csq_op_shape_infer, csq_op_shape_run, &n, 15, 1, in, 1, out), 0, "shape");
    is_dims(&out[0], "shape of [3,4,5]", 1, 3);
    is_int64s(&out[0], all, 3, "shape of a run-time value");
    kfree(out, 1);
    tn_int(&n, "start", 1);
    is_int(kcall(csq_op_shape_infer, csq_op_shape_run, &n, 15, 1, in, 1, out), 0, "shape");
    is_int64s(&out[0], all + 1, 2, "shape-15 start 1");
    kfree(out, 1);
    /* the attributes are opset 15 */
    is_int(kcall(csq_op_shape_infer, csq_op_shape_run, &n, 13, 1, in, 1, out), 0, "shape");
    is_int64s(&out[0], all, 3, "shape-13 ignores start");
    kfree(out, 1);
    tn_init(&n, "Shape");
    tn_int(&n, "start", -10);
    tn_int(&n, "end", -1);
    is_int(kcall(csq_op_shape_infer, csq_op_shape_run, &n, 15, 1, in, 1, out), 0, "shape");
    is_int64s(&out[0], all, 2, "shape-15 start -10 (clamped) end -1");
    kfree(out, 1);
    tn_init(&n, "Shape");
    tn_int(&n, "start", 2);
    tn_int(&n, "end", 1);
    is_int(kcall(csq_op_shape_infer, csq_op_shape_run, &n, 15, 1, in, 1, out), 0, "shape");
    is_dims(&out[0], "shape-15 start after end is empty", 1, 0);
    kfree(out, 1);
}

static void test_gather(void)
{
    struct tnode n;
    float x[] = { 1, 2, 3, 4, 5, 6 }, w0[] = { 5, 6, 1, 2 }, w1[] = { 2, 1, 4, 3, 6, 5 };
    int64_t i0[] = { -1, 0 }, i1[] = { 1, -2 }, shp[] = { 8, 3, 224, 224 }, zero = 0, big = 3;
    int32_t i32[] = { 2, 0 };
    float w32[] = { 5, 6, 1, 2 };
    struct csq_tensor xt = tens(F, x, 2, 3, 2), out[1];
    struct csq_tensor t0 = tens(I64, i0, 1, 2), t1 = tens(I64, i1, 2, 2, 1);
    struct csq_tensor ts = tens(I64, shp, 1, 4), tz = tens(I64, &zero, 0);
    struct csq_tensor t32 = tens(6, i32, 1, 2), tb = tens(I64, &big, 0);
    const struct csq_tensor *in[] = { &xt, &t0 };

    tn_init(&n, "Gather");
    is_int(kcall(csq_op_gather_infer, csq_op_gather_run, &n, 13, 2, in, 1, out), 0, "gather");
    is_dims(&out[0], "gather axis 0 indices [-1,0]", 2, 2, 2);
    is_floats(&out[0], w0, 4, 0, "gather axis 0 negative index");
    kfree(out, 1);
    in[1] = &t32;
    is_int(kcall(csq_op_gather_infer, csq_op_gather_run, &n, 13, 2, in, 1, out), 0, "gather");
    is_floats(&out[0], w32, 4, 0, "gather int32 indices");
    kfree(out, 1);
    tn_int(&n, "axis", 1);
    in[1] = &t1;
    is_int(kcall(csq_op_gather_infer, csq_op_gather_run, &n, 13, 2, in, 1, out), 0, "gather");
    is_dims(&out[0], "gather axis 1 indices [2,1]", 3, 3, 2, 1);
    is_floats(&out[0], w1, 6, 0, "gather axis 1 indices [[1],[-2]]");
    kfree(out, 1);

    tn_init(&n, "Gather");
    in[0] = &ts;
    in[1] = &tz;
    is_int(kcall(csq_op_gather_infer, csq_op_gather_run, &n, 13, 2, in, 1, out), 0, "gather");
    is_dims(&out[0], "gather scalar index of a shape", 0);
    is_int64s(&out[0], shp, 1, "gather shape[0]");
    kfree(out, 1);

    in[0] = &xt;
    in[1] = &tb;
    is_err(kcall(csq_op_gather_infer, csq_op_gather_run, &n, 13, 2, in, 1, out), CSQ_EINVAL,
           "index 3 out of range for axis 0 of size 3", "gather index out of range");
    kfree(out, 1);
    tn_int(&n, "axis", 2);
    is_err(kcall(csq_op_gather_infer, csq_op_gather_run, &n, 13, 2, in, 1, out), CSQ_EINVAL,
           "axis 2 out of range for rank 2", "gather bad axis");
}

static void test_constantofshape(void)
{
    struct tnode n;
    int64_t s23[] = { 2, 3 }, s0[] = { 0 }, seven = 7, w7[] = { 7, 7, 7, 7, 7, 7 }, neg[] = { -1 };
    float zeros[6] = { 0 };
    struct csq_tensor t23 = tens(I64, s23, 1, 2), t0 = tens(I64, s0, 1, 1);
    struct csq_tensor te = tens(I64, s0, 1, 0), tn = tens(I64, neg, 1, 1);
    struct csq_tensor rt = tens(I64, NULL, 1, 2), out[1];
    const struct csq_tensor *in[] = { &t23 };

    tn_init(&n, "ConstantOfShape");
    is_int(kcall(csq_op_constantofshape_infer, csq_op_constantofshape_run, &n, 9, 1, in, 1, out),
           0, "cos");
    is_dims(&out[0], "constantofshape [2,3]", 2, 2, 3);
    is_floats(&out[0], zeros, 6, 0, "constantofshape default float 0");
    kfree(out, 1);
    tn_tensor(&n, "value", tens(I64, &seven, 1, 1));
    is_int(kcall(csq_op_constantofshape_infer, csq_op_constantofshape_run, &n, 9, 1, in, 1, out),
           0, "cos");
    is_int64s(&out[0], w7, 6, "constantofshape int64 value 7");
    kfree(out, 1);
    in[0] = &t0;
    is_int(kcall(csq_op_constantofshape_infer, csq_op_constantofshape_run, &n, 9, 1, in, 1, out),
           0, "cos");
    is_dims(&out[0], "constantofshape shape [0]", 1, 0);
    kfree(out, 1);
    in[0] = &te;
    is_int(kcall(csq_op_constantofshape_infer, csq_op_constantofshape_run, &n, 9, 1, in, 1, out),
           0, "cos");
    is_dims(&out[0], "constantofshape empty shape is a scalar", 0);
    is_int64s(&out[0], w7, 1, "constantofshape scalar");
    kfree(out, 1);
    in[0] = &tn;
    is_err(kcall(csq_op_constantofshape_infer, csq_op_constantofshape_run, &n, 9, 1, in, 1,
                 out), CSQ_EINVAL, "negative dim", "constantofshape negative dim");
    in[0] = &rt;
    is_err(kcall(csq_op_constantofshape_infer, csq_op_constantofshape_run, &n, 9, 1, in, 1,
                 out), CSQ_EUNSUPPORTED, "input 0 (shape) must be a constant",
           "constantofshape run-time shape");
}

static void test_pad(void)
{
    struct tnode n;
    float x[] = { 1, 2, 3, 4, 5, 6 }, nine = 9;
    /* pads [1,2,0,1]: one row before, two columns before, one after */
    int64_t p[] = { 1, 2, 0, 1 }, crop[] = { 0, -1, 0, 0 }, far[] = { 0, 3, 0, 0 };
    float wc[] = { 9, 9, 9, 9, 9, 9,
                   9, 9, 1, 2, 3, 9,
                   9, 9, 4, 5, 6, 9 };
    float wr[] = { 6, 5, 4, 5, 6, 5,
                   3, 2, 1, 2, 3, 2,
                   6, 5, 4, 5, 6, 5 };
    float we[] = { 1, 1, 1, 2, 3, 3,
                   1, 1, 1, 2, 3, 3,
                   4, 4, 4, 5, 6, 6 };
    float wcrop[] = { 2, 3, 5, 6 };
    int64_t xi[] = { 1, 2 }, pi[] = { 1, 1 }, wi[] = { 0, 1, 2, 0 };
    struct csq_tensor xt = tens(F, x, 2, 2, 3), pt = tens(I64, p, 1, 4), vt = tens(F, &nine, 0);
    struct csq_tensor ct = tens(I64, crop, 1, 4), ft = tens(I64, far, 1, 4);
    struct csq_tensor rt = tens(I64, NULL, 1, 4), xit = tens(I64, xi, 1, 2);
    struct csq_tensor pit = tens(I64, pi, 1, 2), out[1];
    const struct csq_tensor *in[] = { &xt, &pt, &vt };

    tn_init(&n, "Pad");
    is_int(kcall(csq_op_pad_infer, csq_op_pad_run, &n, 13, 3, in, 1, out), 0, "pad constant");
    is_dims(&out[0], "pad [2,3] by [1,2,0,1]", 2, 3, 6);
    is_floats(&out[0], wc, 18, 0, "pad constant 9");
    kfree(out, 1);
    tn_string(&n, "mode", "reflect");
    is_int(kcall(csq_op_pad_infer, csq_op_pad_run, &n, 13, 2, in, 1, out), 0, "pad reflect");
    is_floats(&out[0], wr, 18, 0, "pad reflect");
    kfree(out, 1);
    tn_init(&n, "Pad");
    tn_string(&n, "mode", "edge");
    is_int(kcall(csq_op_pad_infer, csq_op_pad_run, &n, 13, 2, in, 1, out), 0, "pad edge");
    is_floats(&out[0], we, 18, 0, "pad edge");
    kfree(out, 1);

    /* opset 2: pads and value are attributes */
    tn_init(&n, "Pad");
    tn_ints(&n, "pads", p, 4);
    tn_float(&n, "value", 9);
    is_int(kcall(csq_op_pad_infer, csq_op_pad_run, &n, 2, 1, in, 1, out), 0, "pad-2");
    is_floats(&out[0], wc, 18, 0, "pad-2 attributes");
    kfree(out, 1);

    tn_init(&n, "Pad");
    in[1] = &ct;
    is_int(kcall(csq_op_pad_infer, csq_op_pad_run, &n, 13, 2, in, 1, out), 0, "pad crop");
    is_dims(&out[0], "pad negative crops", 2, 2, 2);
    is_floats(&out[0], wcrop, 4, 0, "pad negative crops");
    kfree(out, 1);

    in[0] = &xit;
    in[1] = &pit;
    is_int(kcall(csq_op_pad_infer, csq_op_pad_run, &n, 13, 2, in, 1, out), 0, "pad int64");
    is_int64s(&out[0], wi, 4, "pad int64 with 0");
    kfree(out, 1);

    in[0] = &xt;
    in[1] = &ft;
    tn_string(&n, "mode", "reflect");
    is_err(kcall(csq_op_pad_infer, csq_op_pad_run, &n, 13, 2, in, 1, out), CSQ_ESHAPE,
           "need axis 1 longer than 3", "pad reflect by the full width");
    in[1] = &rt;
    is_err(kcall(csq_op_pad_infer, csq_op_pad_run, &n, 13, 2, in, 1, out), CSQ_EUNSUPPORTED,
           "node 'n0' (Pad): input 1 (pads) must be a constant", "pad run-time pads");
    in[1] = &pit;
    is_err(kcall(csq_op_pad_infer, csq_op_pad_run, &n, 13, 2, in, 1, out), CSQ_EINVAL,
           "2 pads for rank 2 (need 4)", "pad count");
    tn_init(&n, "Pad");
    tn_string(&n, "mode", "wrap");
    in[1] = &pt;
    is_err(kcall(csq_op_pad_infer, csq_op_pad_run, &n, 13, 2, in, 1, out), CSQ_EUNSUPPORTED,
           "mode 'wrap'", "pad wrap");
}

static void test_identity(void)
{
    struct tnode n;
    float x[] = { 1, -2, 3 };
    struct csq_tensor xt = tens(F, x, 1, 3), out[2];
    const struct csq_tensor *in[] = { &xt };

    tn_init(&n, "Identity");
    is_int(kcall(csq_op_identity_infer, csq_op_identity_run, &n, 16, 1, in, 1, out), 0, "id");
    is_floats(&out[0], x, 3, 0, "identity copies");
    kfree(out, 1);
    tn_init(&n, "Dropout");
    tn_float(&n, "ratio", 0.5f);
    is_int(kcall(csq_op_identity_infer, csq_op_identity_run, &n, 13, 1, in, 2, out), 0,
           "dropout");
    is_floats(&out[0], x, 3, 0, "dropout is the identity at inference");
    ok(out[1].dtype == CSQ_DT_BOOL && out[1].rank == 1 && out[1].dims[0] == 3 &&
       memcmp(out[1].data, "\1\1\1", 3) == 0, "dropout mask: bool, all true");
    kfree(out, 2);
}

int main(void)
{
    int i;

    for (i = 0; i < 24; i++)
        seq[i] = (float)i;
    test_flatten();
    test_reshape();
    test_transpose();
    test_concat_split();
    test_squeeze();
    test_shape();
    test_gather();
    test_constantofshape();
    test_pad();
    test_identity();
    return tap_done();
}
