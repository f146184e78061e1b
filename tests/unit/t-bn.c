/* bn: BatchNormalization inference on hand-worked values. */
#include "config.h"

#include "kt.h"
#include "tap.h"
#include "util/err.h"

static int same(const float *got, const float *want, int n)
{
    int i;

    for (i = 0; i < n; i++)
        if (fabsf(got[i] - want[i]) > 1e-4f) {
            diag("at %d: got %g want %g", i, got[i], want[i]);
            return 0;
        }
    return 1;
}

static const float scale[2] = {1, 2}, bias[2] = {0, 1}, mean[2] = {2, 5};

static void stats(struct kt *k, const float *var)
{
    kt_in(k, 1, 1, (int64_t[]){2}, scale);
    kt_in(k, 2, 1, (int64_t[]){2}, bias);
    kt_in(k, 3, 1, (int64_t[]){2}, mean);
    kt_in(k, 4, 1, (int64_t[]){2}, var);
}

int main(void)
{
    struct kt k = {0};
    int rc;

    /* ch0: (x - 2) / 1 * 1 + 0, ch1: (x - 5) / 2 * 2 + 1 */
    kt_init(&k, "BatchNormalization", 5, 1);
    kt_in(&k, 0, 4, (int64_t[]){1, 2, 1, 3}, (float[]){1, 2, 3, 4, 5, 6});
    stats(&k, (float[]){1, 4});
    kt_float(&k, "epsilon", 0.0f);
    rc = kt_call(&k, csq_op_batchnorm_infer, csq_op_batchnorm_run, NULL);
    ok(rc == 0 && k.out[0].rank == 4 && k.out[0].dims[1] == 2 && k.out[0].dims[3] == 3 &&
       same(kt_out(&k), (float[]){-1, 0, 1, 0, 1, 2}, 6), "NCHW, epsilon 0");

    kt_init(&k, "BatchNormalization", 5, 1);
    kt_in(&k, 0, 2, (int64_t[]){2, 2}, (float[]){1, 4, 3, 6});
    stats(&k, (float[]){0.99999f, 3.99999f});
    rc = kt_call(&k, csq_op_batchnorm_infer, csq_op_batchnorm_run, NULL);
    ok(rc == 0 && k.out[0].rank == 2 && same(kt_out(&k), (float[]){-1, 0, 1, 2}, 4),
       "N x C, default epsilon 1e-5");

    kt_int(&k, "training_mode", 1);
    is_int(csq_op_batchnorm_infer(&k.a), CSQ_EUNSUPPORTED, "training_mode refused");
    kt_init(&k, "BatchNormalization", 5, 1);
    kt_in(&k, 0, 2, (int64_t[]){2, 2}, NULL);
    stats(&k, (float[]){1, 1});
    k.a.opset = 7;
    kt_int(&k, "spatial", 0);
    is_int(csq_op_batchnorm_infer(&k.a), CSQ_EUNSUPPORTED, "spatial 0 refused");
    kt_init(&k, "BatchNormalization", 5, 1);
    kt_in(&k, 0, 2, (int64_t[]){2, 3}, NULL);
    stats(&k, (float[]){1, 1});
    is_int(csq_op_batchnorm_infer(&k.a), CSQ_ESHAPE, "3 channels vs 2 statistics refused");
    kt_init(&k, "BatchNormalization", 5, 3);
    kt_in(&k, 0, 2, (int64_t[]){2, 2}, NULL);
    stats(&k, (float[]){1, 1});
    is_int(csq_op_batchnorm_infer(&k.a), CSQ_EUNSUPPORTED, "mean/var outputs refused");
    kt_free(&k);
    return tap_done();
}
