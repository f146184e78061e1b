/* conv: hand-worked cases, then every fast path against a plain 7-loop
 * reference convolution on random data. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "kt.h"
#include "tap.h"
#include "util/err.h"

static const float x9[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9};

static int same(const float *got, const float *want, int n)
{
    int i;

    for (i = 0; i < n; i++)
        if (fabsf(got[i] - want[i]) > 1e-5f) {
            diag("at %d: got %g want %g", i, got[i], want[i]);
            return 0;
        }
    return 1;
}

static void hand(void)
{
    static const float w_diag[4] = {1, 0, 0, 1}, ones[4] = {1, 1, 1, 1}, bias[1] = {0.5f};
    struct kt k = {0};
    float *wz;
    int rc;

    kt_init(&k, "Conv", 3, 1);
    kt_in(&k, 0, 4, (int64_t[]){1, 1, 3, 3}, x9);
    kt_in(&k, 1, 4, (int64_t[]){1, 1, 2, 2}, w_diag);
    kt_in(&k, 2, 1, (int64_t[]){1}, bias);
    rc = kt_call(&k, csq_op_conv_infer, csq_op_conv_run, csq_op_conv_scratch);
    ok(rc == 0 && k.out[0].rank == 4 && k.out[0].dims[2] == 2 && k.out[0].dims[3] == 2 &&
       same(kt_out(&k), (float[]){6.5f, 8.5f, 12.5f, 14.5f}, 4), "2x2 kernel, bias");

    kt_init(&k, "Conv", 2, 1);
    kt_in(&k, 0, 4, (int64_t[]){1, 1, 3, 3}, x9);
    kt_in(&k, 1, 4, (int64_t[]){1, 1, 2, 2}, w_diag);
    kt_ints(&k, "pads", 4, (int64_t[]){1, 1, 1, 1});
    kt_ints(&k, "strides", 2, (int64_t[]){2, 2});
    rc = kt_call(&k, csq_op_conv_infer, csq_op_conv_run, csq_op_conv_scratch);
    ok(rc == 0 && k.out[0].dims[2] == 2 && same(kt_out(&k), (float[]){1, 3, 7, 14}, 4),
       "pads 1, stride 2");

    kt_init(&k, "Conv", 2, 1);
    kt_in(&k, 0, 4, (int64_t[]){1, 1, 3, 3}, x9);
    kt_in(&k, 1, 4, (int64_t[]){1, 1, 2, 2}, ones);
    kt_ints(&k, "dilations", 2, (int64_t[]){2, 2});
    kt_ints(&k, "kernel_shape", 2, (int64_t[]){2, 2});
    rc = kt_call(&k, csq_op_conv_infer, csq_op_conv_run, csq_op_conv_scratch);
    ok(rc == 0 && k.out[0].dims[2] == 1 && k.out[0].dims[3] == 1 &&
       same(kt_out(&k), (float[]){20}, 1), "dilation 2");

    kt_init(&k, "Conv", 2, 1);
    kt_in(&k, 0, 4, (int64_t[]){1, 1, 3, 3}, x9);
    kt_in(&k, 1, 4, (int64_t[]){1, 1, 2, 2}, ones);
    kt_str(&k, "auto_pad", "SAME_UPPER");
    rc = kt_call(&k, csq_op_conv_infer, csq_op_conv_run, csq_op_conv_scratch);
    ok(rc == 0 && k.out[0].dims[2] == 3 && k.out[0].dims[3] == 3 &&
       same(kt_out(&k), (float[]){12, 16, 9, 24, 28, 15, 15, 17, 9}, 9), "SAME_UPPER");

    kt_init(&k, "Conv", 2, 1);
    kt_in(&k, 0, 4, (int64_t[]){1, 1, 3, 3}, x9);
    kt_in(&k, 1, 4, (int64_t[]){1, 1, 2, 2}, ones);
    kt_str(&k, "auto_pad", "SAME_LOWER");
    rc = kt_call(&k, csq_op_conv_infer, csq_op_conv_run, csq_op_conv_scratch);
    ok(rc == 0 && same(kt_out(&k), (float[]){1, 3, 5, 5, 12, 16, 11, 24, 28}, 9),
       "SAME_LOWER");

    kt_init(&k, "Conv", 2, 1);
    kt_in(&k, 0, 4, (int64_t[]){1, 1, 3, 3}, x9);
    kt_in(&k, 1, 4, (int64_t[]){1, 1, 2, 2}, ones);
    kt_str(&k, "auto_pad", "VALID");
    kt_ints(&k, "pads", 4, (int64_t[]){5, 5, 5, 5});   /* ignored under VALID */
    rc = kt_call(&k, csq_op_conv_infer, csq_op_conv_run, csq_op_conv_scratch);
    ok(rc == 0 && k.out[0].dims[2] == 2 && same(kt_out(&k), (float[]){12, 16, 24, 28}, 4),
       "VALID");

    /* group == channels: each channel scaled by its own weight */
    kt_init(&k, "Conv", 2, 1);
    kt_in(&k, 0, 4, (int64_t[]){1, 2, 2, 2}, (float[]){1, 2, 3, 4, 5, 6, 7, 8});
    kt_in(&k, 1, 4, (int64_t[]){2, 1, 1, 1}, (float[]){2, 3});
    kt_int(&k, "group", 2);
    rc = kt_call(&k, csq_op_conv_infer, csq_op_conv_run, csq_op_conv_scratch);
    ok(rc == 0 && same(kt_out(&k), (float[]){2, 4, 6, 8, 15, 18, 21, 24}, 8), "depthwise 1x1");

    kt_init(&k, "Conv", 2, 1);
    kt_in(&k, 0, 4, (int64_t[]){1, 4, 1, 1}, (float[]){1, 2, 3, 4});
    kt_in(&k, 1, 4, (int64_t[]){2, 2, 1, 1}, (float[]){1, 1, 1, -1});
    kt_int(&k, "group", 2);
    rc = kt_call(&k, csq_op_conv_infer, csq_op_conv_run, csq_op_conv_scratch);
    ok(rc == 0 && same(kt_out(&k), (float[]){3, -1}, 2), "group 2 of 2 channels");

    kt_init(&k, "Conv", 2, 1);
    kt_in(&k, 0, 3, (int64_t[]){1, 1, 5}, (float[]){1, 2, 3, 4, 5});
    kt_in(&k, 1, 3, (int64_t[]){1, 1, 3}, (float[]){1, 2, 3});
    kt_ints(&k, "pads", 2, (int64_t[]){1, 1});
    rc = kt_call(&k, csq_op_conv_infer, csq_op_conv_run, csq_op_conv_scratch);
    ok(rc == 0 && k.out[0].rank == 3 && k.out[0].dims[2] == 5 &&
       same(kt_out(&k), (float[]){8, 14, 20, 26, 14}, 5), "1-D conv");

    kt_init(&k, "Conv", 2, 1);
    kt_in(&k, 0, 4, (int64_t[]){1, 3, 3, 3}, NULL);
    kt_in(&k, 1, 4, (int64_t[]){1, 2, 2, 2}, NULL);
    csq_errclear();
    is_int(csq_op_conv_infer(&k.a), CSQ_ESHAPE, "channel mismatch refused");
    ok(strstr(csq_errmsg(), "node 't' (Conv)") != NULL, "message names the node: %s",
       csq_errmsg());
    kt_init(&k, "Conv", 2, 1);
    kt_in(&k, 0, 4, (int64_t[]){1, 1, 2, 2}, NULL);
    kt_in(&k, 1, 4, (int64_t[]){1, 1, 3, 3}, NULL);
    is_int(csq_op_conv_infer(&k.a), CSQ_ESHAPE, "kernel larger than input refused");

    /* an empty batch is a valid shape on every path */
    wz = calloc(16 * 16 * 9, sizeof *wz);
    kt_init(&k, "Conv", 2, 1);
    kt_in(&k, 0, 4, (int64_t[]){0, 16, 5, 5}, x9);
    kt_in(&k, 1, 4, (int64_t[]){16, 16, 3, 3}, wz);
    rc = kt_call(&k, csq_op_conv_infer, csq_op_conv_run, csq_op_conv_scratch);
    ok(rc == 0 && k.out[0].dims[0] == 0 && k.out[0].dims[1] == 16, "empty batch");
    kt_free(&k);
    free(wz);
}

struct shape {
    int n, c, h, w, m, kh, kw, sh, sw, dh, dw, pt, pl, pb, pr, g, bias;
};

/* Plain direct convolution in double. */
static void reference(const struct shape *s, const float *x, const float *w, const float *b,
                      int oh, int ow, double *y)
{
    int cg = s->c / s->g, mg = s->m / s->g, n, m, i, j, ci, ki, kj;

    for (n = 0; n < s->n; n++)
        for (m = 0; m < s->m; m++)
            for (i = 0; i < oh; i++)
                for (j = 0; j < ow; j++) {
                    double acc = b ? b[m] : 0.0;
                    int g = m / mg;

                    for (ci = 0; ci < cg; ci++)
                        for (ki = 0; ki < s->kh; ki++)
                            for (kj = 0; kj < s->kw; kj++) {
                                int ih = i * s->sh - s->pt + ki * s->dh;
                                int iw = j * s->sw - s->pl + kj * s->dw;

                                if (ih < 0 || ih >= s->h || iw < 0 || iw >= s->w)
                                    continue;
                                acc += (double)x[((n * s->c + g * cg + ci) * s->h + ih) * s->w
                                                 + iw] *
                                       w[((m * cg + ci) * s->kh + ki) * s->kw + kj];
                            }
                    y[((n * s->m + m) * oh + i) * ow + j] = acc;
                }
}

static void random_case(const struct shape *s, int threads, unsigned seed)
{
    int cg = s->c / s->g;
    int oh = (s->h + s->pt + s->pb - ((s->kh - 1) * s->dh + 1)) / s->sh + 1;
    int ow = (s->w + s->pl + s->pr - ((s->kw - 1) * s->dw + 1)) / s->sw + 1;
    int64_t nx = (int64_t)s->n * s->c * s->h * s->w, nw = (int64_t)s->m * cg * s->kh * s->kw;
    int64_t ny = (int64_t)s->n * s->m * oh * ow, i;
    float *x = malloc(nx * sizeof *x), *w = malloc(nw * sizeof *w), *b = malloc(s->m * sizeof *b);
    double *ref = malloc(ny * sizeof *ref), err = 0, big = 1;
    struct kt k = {0};
    int rc;

    kt_rand(x, nx, &seed);
    kt_rand(w, nw, &seed);
    kt_rand(b, s->m, &seed);
    kt_init(&k, "Conv", s->bias ? 3 : 2, 1);
    k.a.nthreads = threads;
    kt_in(&k, 0, 4, (int64_t[]){s->n, s->c, s->h, s->w}, x);
    kt_in(&k, 1, 4, (int64_t[]){s->m, cg, s->kh, s->kw}, w);
    if (s->bias)
        kt_in(&k, 2, 1, (int64_t[]){s->m}, b);
    kt_ints(&k, "strides", 2, (int64_t[]){s->sh, s->sw});
    kt_ints(&k, "dilations", 2, (int64_t[]){s->dh, s->dw});
    kt_ints(&k, "pads", 4, (int64_t[]){s->pt, s->pl, s->pb, s->pr});
    kt_int(&k, "group", s->g);
    rc = kt_call(&k, csq_op_conv_infer, csq_op_conv_run, csq_op_conv_scratch);
    reference(s, x, w, s->bias ? b : NULL, oh, ow, ref);
    if (rc == 0 && k.out[0].dims[2] == oh && k.out[0].dims[3] == ow) {
        for (i = 0; i < ny; i++) {
            double d = fabs(kt_out(&k)[i] - ref[i]);

            if (d > err)
                err = d;
            if (fabs(ref[i]) > big)
                big = fabs(ref[i]);
        }
    } else {
        err = 1e30;
    }
    ok(err <= 1e-4 * big, "N%d C%d %dx%d M%d k%dx%d s%d,%d d%d,%d p%d,%d,%d,%d g%d%s t%d "
       "(max err %.3g)", s->n, s->c, s->h, s->w, s->m, s->kh, s->kw, s->sh, s->sw, s->dh,
       s->dw, s->pt, s->pl, s->pb, s->pr, s->g, s->bias ? " bias" : "", threads, err);
    kt_free(&k);
    free(x);
    free(w);
    free(b);
    free(ref);
}

int main(void)
{
    static const struct shape shapes[] = {
        /* n  c   h   w   m kh kw sh sw dh dw pt pl pb pr g bias */
        {2, 16, 20, 20, 8, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1},     /* 1x1 direct */
        {3, 16, 7, 7, 8, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, 0},       /* 1x1 batched tiles */
        {2, 8, 9, 11, 6, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1},       /* 3x3 s1 */
        {3, 8, 10, 9, 5, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1, 0},       /* 3x3 s2 */
        {2, 3, 15, 15, 4, 7, 7, 2, 2, 1, 1, 3, 3, 3, 3, 1, 1},      /* stem */
        {5, 6, 8, 8, 6, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 6, 1},        /* depthwise s1 */
        {4, 6, 9, 8, 6, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 6, 0},        /* depthwise s2 */
        {2, 4, 11, 10, 8, 5, 5, 1, 2, 1, 1, 2, 1, 2, 2, 4, 1},      /* depthwise x2 */
        {2, 4, 9, 9, 4, 3, 3, 3, 3, 2, 2, 2, 2, 0, 1, 4, 1},        /* dw s3 dilated */
        {3, 8, 9, 9, 12, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 2, 1},       /* grouped */
        {2, 8, 9, 9, 8, 3, 3, 1, 1, 1, 1, 1, 0, 0, 1, 4, 0},        /* grouped, odd pads */
        {2, 5, 12, 12, 7, 3, 3, 1, 1, 2, 2, 2, 2, 2, 2, 1, 1},      /* dilated */
        {1, 3, 6, 6, 2, 2, 3, 1, 2, 1, 1, 0, 1, 1, 0, 1, 1},        /* asymmetric */
        {1, 64, 56, 56, 4, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1},     /* tiles inside image */
        {9, 64, 7, 7, 6, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1},       /* images per tile */
        {2, 64, 44, 44, 8, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1, 1},     /* one tile per image */
        {7, 40, 14, 14, 10, 1, 1, 2, 2, 1, 1, 0, 0, 0, 0, 1, 1},    /* 1x1 s2 */
        {2, 16, 9, 11, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1},     /* Winograd, odd sizes */
        {3, 32, 7, 7, 20, 3, 3, 1, 1, 1, 1, 0, 1, 1, 0, 1, 0},      /* Winograd, odd pads */
        {1, 17, 6, 5, 16, 3, 3, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1},      /* Winograd, no pads */
        {4, 24, 12, 12, 32, 3, 3, 1, 1, 1, 1, 2, 2, 2, 2, 1, 1},    /* Winograd, pad 2 */
        {5, 64, 14, 14, 48, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1},    /* Winograd, blocks */
    };
    unsigned i;

    hand();
    for (i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
        random_case(&shapes[i], 1, 17 + i);
        random_case(&shapes[i], 2, 31 + i);
    }
    return tap_done();
}
