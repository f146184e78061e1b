/* pool: MaxPool / AveragePool / global pools on hand-worked cases, then
 * 2-D pools on random data against plain loops. */
#include "config.h"

#include <stdlib.h>

#include "kt.h"
#include "tap.h"
#include "util/err.h"

static int same(const float *got, const float *want, int n)
{
    int i;

    for (i = 0; i < n; i++)
        if (fabsf(got[i] - want[i]) > 1e-5f * (1 + fabsf(want[i]))) {
            diag("at %d: got %g want %g", i, got[i], want[i]);
            return 0;
        }
    return 1;
}

static float seq[27];

static int pool(struct kt *k, int max)
{
    return max ? kt_call(k, csq_op_maxpool_infer, csq_op_maxpool_run, NULL)
               : kt_call(k, csq_op_avgpool_infer, csq_op_avgpool_run, NULL);
}

static void hand(void)
{
    struct kt k = {0};
    int rc;

    kt_init(&k, "MaxPool", 1, 1);
    kt_in(&k, 0, 4, (int64_t[]){1, 1, 4, 4}, seq);
    kt_ints(&k, "kernel_shape", 2, (int64_t[]){2, 2});
    kt_ints(&k, "strides", 2, (int64_t[]){2, 2});
    rc = pool(&k, 1);
    ok(rc == 0 && k.out[0].dims[2] == 2 && k.out[0].dims[3] == 2 &&
       same(kt_out(&k), (float[]){6, 8, 14, 16}, 4), "MaxPool 2x2 s2");

    kt_init(&k, "MaxPool", 1, 1);
    kt_in(&k, 0, 4, (int64_t[]){1, 1, 5, 5}, seq);
    kt_ints(&k, "kernel_shape", 2, (int64_t[]){2, 2});
    kt_ints(&k, "strides", 2, (int64_t[]){2, 2});
    rc = pool(&k, 1);
    ok(rc == 0 && k.out[0].dims[2] == 2 && same(kt_out(&k), (float[]){7, 9, 17, 19}, 4),
       "MaxPool floor mode");
    kt_int(&k, "ceil_mode", 1);
    rc = pool(&k, 1);
    ok(rc == 0 && k.out[0].dims[2] == 3 && k.out[0].dims[3] == 3 &&
       same(kt_out(&k), (float[]){7, 9, 10, 17, 19, 20, 22, 24, 25}, 9), "MaxPool ceil_mode");

    /* ceil gives 3 windows, but the third would start in the end padding */
    kt_init(&k, "MaxPool", 1, 1);
    kt_in(&k, 0, 3, (int64_t[]){1, 1, 4}, seq);
    kt_ints(&k, "kernel_shape", 1, (int64_t[]){3});
    kt_ints(&k, "strides", 1, (int64_t[]){2});
    kt_ints(&k, "pads", 2, (int64_t[]){0, 2});
    kt_int(&k, "ceil_mode", 1);
    rc = pool(&k, 1);
    ok(rc == 0 && k.out[0].rank == 3 && k.out[0].dims[2] == 2 &&
       same(kt_out(&k), (float[]){3, 4}, 2), "MaxPool 1-D ceil_mode drops a padding window");

    kt_init(&k, "MaxPool", 1, 1);
    kt_in(&k, 0, 3, (int64_t[]){1, 1, 5}, (float[]){5, 1, 4, 2, 3});
    kt_ints(&k, "kernel_shape", 1, (int64_t[]){2});
    kt_ints(&k, "dilations", 1, (int64_t[]){2});
    rc = pool(&k, 1);
    ok(rc == 0 && k.out[0].dims[2] == 3 && same(kt_out(&k), (float[]){5, 2, 4}, 3),
       "MaxPool dilation 2");

    kt_init(&k, "MaxPool", 1, 1);
    kt_in(&k, 0, 4, (int64_t[]){1, 1, 3, 3}, seq);
    kt_ints(&k, "kernel_shape", 2, (int64_t[]){2, 2});
    kt_str(&k, "auto_pad", "SAME_UPPER");
    rc = pool(&k, 1);
    ok(rc == 0 && k.out[0].dims[2] == 3 &&
       same(kt_out(&k), (float[]){5, 6, 6, 8, 9, 9, 8, 9, 9}, 9), "MaxPool SAME_UPPER");

    kt_init(&k, "AveragePool", 1, 1);
    kt_in(&k, 0, 4, (int64_t[]){1, 1, 3, 3}, seq);
    kt_ints(&k, "kernel_shape", 2, (int64_t[]){2, 2});
    kt_ints(&k, "pads", 4, (int64_t[]){1, 1, 1, 1});
    rc = pool(&k, 0);
    ok(rc == 0 && k.out[0].dims[2] == 4 && k.out[0].dims[3] == 4 &&
       same(kt_out(&k), (float[]){1, 1.5f, 2.5f, 3, 2.5f, 3, 4, 4.5f, 5.5f, 6, 7, 7.5f, 7, 7.5f,
                                  8.5f, 9}, 16), "AveragePool pads, count_include_pad 0");
    kt_int(&k, "count_include_pad", 1);
    rc = pool(&k, 0);
    ok(rc == 0 && same(kt_out(&k), (float[]){0.25f, 0.75f, 1.25f, 0.75f, 1.25f, 3, 4, 2.25f,
                                             2.75f, 6, 7, 3.75f, 1.75f, 3.75f, 4.25f, 2.25f},
                       16), "AveragePool pads, count_include_pad 1");

    kt_init(&k, "AveragePool", 1, 1);
    kt_in(&k, 0, 4, (int64_t[]){1, 1, 5, 5}, seq);
    kt_ints(&k, "kernel_shape", 2, (int64_t[]){2, 2});
    kt_ints(&k, "strides", 2, (int64_t[]){2, 2});
    kt_int(&k, "ceil_mode", 1);
    rc = pool(&k, 0);
    ok(rc == 0 && k.out[0].dims[2] == 3 &&
       same(kt_out(&k), (float[]){4, 6, 7.5f, 14, 16, 17.5f, 21.5f, 23.5f, 25}, 9),
       "AveragePool ceil_mode");

    kt_init(&k, "AveragePool", 1, 1);
    kt_in(&k, 0, 5, (int64_t[]){1, 1, 2, 2, 2}, seq);
    kt_ints(&k, "kernel_shape", 3, (int64_t[]){2, 2, 2});
    rc = pool(&k, 0);
    ok(rc == 0 && k.out[0].rank == 5 && k.out[0].dims[4] == 1 &&
       same(kt_out(&k), (float[]){4.5f}, 1), "AveragePool 3-D");

    kt_init(&k, "GlobalAveragePool", 1, 1);
    kt_in(&k, 0, 4, (int64_t[]){1, 2, 2, 2}, seq);
    rc = kt_call(&k, csq_op_globalavgpool_infer, csq_op_globalavgpool_run, NULL);
    ok(rc == 0 && k.out[0].rank == 4 && k.out[0].dims[1] == 2 && k.out[0].dims[2] == 1 &&
       k.out[0].dims[3] == 1 && same(kt_out(&k), (float[]){2.5f, 6.5f}, 2),
       "GlobalAveragePool");
    rc = kt_call(&k, csq_op_globalmaxpool_infer, csq_op_globalmaxpool_run, NULL);
    ok(rc == 0 && same(kt_out(&k), (float[]){4, 8}, 2), "GlobalMaxPool");

    kt_init(&k, "MaxPool", 1, 2);
    kt_in(&k, 0, 4, (int64_t[]){1, 1, 4, 4}, seq);
    kt_ints(&k, "kernel_shape", 2, (int64_t[]){2, 2});
    is_int(csq_op_maxpool_infer(&k.a), CSQ_EUNSUPPORTED, "MaxPool Indices output refused");
    kt_init(&k, "MaxPool", 1, 1);
    kt_in(&k, 0, 4, (int64_t[]){1, 1, 4, 4}, seq);
    is_int(csq_op_maxpool_infer(&k.a), CSQ_EFORMAT, "missing kernel_shape refused");
    kt_free(&k);
}

/* N x C x H x W pools with a k x k window on random data vs plain loops. */
static void random_case(int max, int n, int c, int h, int w, int kk, int s, int pb, int pe,
                        int ceil_mode, int incl)
{
    int64_t nx = (int64_t)n * c * h * w, i;
    float *x = malloc(nx * sizeof *x), err = 0;
    int oh, ow, pl, r, q, a, b;
    unsigned seed = 99u + (unsigned)(h * w + kk);
    struct kt k = {0};
    int rc;

    oh = ceil_mode ? (h + pb + pe - kk + s - 1) / s + 1 : (h + pb + pe - kk) / s + 1;
    ow = ceil_mode ? (w + pb + pe - kk + s - 1) / s + 1 : (w + pb + pe - kk) / s + 1;
    if (ceil_mode && (oh - 1) * s >= h + pb)
        oh--;
    if (ceil_mode && (ow - 1) * s >= w + pb)
        ow--;
    kt_rand(x, nx, &seed);
    kt_init(&k, max ? "MaxPool" : "AveragePool", 1, 1);
    kt_in(&k, 0, 4, (int64_t[]){n, c, h, w}, x);
    kt_ints(&k, "kernel_shape", 2, (int64_t[]){kk, kk});
    kt_ints(&k, "strides", 2, (int64_t[]){s, s});
    kt_ints(&k, "pads", 4, (int64_t[]){pb, pb, pe, pe});
    kt_int(&k, "ceil_mode", ceil_mode);
    kt_int(&k, "count_include_pad", incl);
    rc = pool(&k, max);
    if (rc || k.out[0].dims[2] != oh || k.out[0].dims[3] != ow)
        err = 1e30f;
    for (pl = 0; !err && pl < n * c; pl++)
        for (r = 0; r < oh; r++)
            for (q = 0; q < ow; q++) {
                double acc = max ? -1e30 : 0;
                int cnt = 0;

                for (a = 0; a < kk; a++)
                    for (b = 0; b < kk; b++) {
                        int ih = r * s - pb + a, iw = q * s - pb + b;

                        if (ih >= 0 && ih < h && iw >= 0 && iw < w) {
                            double v = x[((int64_t)pl * h + ih) * w + iw];

                            acc = max ? (v > acc ? v : acc) : acc + v;
                            cnt++;
                        } else if (incl && ih < h + pe && iw < w + pe) {
                            cnt++;
                        }
                    }
                if (!max)
                    acc /= cnt;
                i = ((int64_t)pl * oh + r) * ow + q;
                if (fabs(kt_out(&k)[i] - acc) > err)
                    err = (float)fabs(kt_out(&k)[i] - acc);
            }
    ok(err < 1e-5f, "%s N%d C%d %dx%d k%d s%d p%d,%d%s%s: max err %g",
       max ? "MaxPool" : "AveragePool", n, c, h, w, kk, s, pb, pe, ceil_mode ? " ceil" : "",
       incl ? " incl" : "", err);
    kt_free(&k);
    free(x);
}

int main(void)
{
    int i;

    for (i = 0; i < 27; i++)
        seq[i] = (float)(i + 1);
    hand();
    random_case(1, 3, 4, 12, 11, 3, 2, 1, 1, 0, 0);
    random_case(1, 2, 3, 12, 11, 3, 2, 1, 1, 1, 0);
    random_case(1, 2, 5, 13, 13, 2, 2, 0, 0, 1, 0);
    random_case(0, 3, 4, 12, 11, 3, 2, 1, 1, 0, 0);
    random_case(0, 3, 4, 12, 11, 3, 2, 1, 1, 0, 1);
    random_case(0, 2, 3, 10, 13, 3, 2, 1, 1, 1, 1);
    random_case(0, 2, 3, 9, 9, 3, 3, 0, 0, 1, 0);
    return tap_done();
}
