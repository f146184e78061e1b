/* gemm: Gemm attributes and C broadcasting by hand; MatMul 1-D operands
 * by hand and batched broadcasting against plain loops. */
#include "config.h"

#include <stdlib.h>

#include "kt.h"
#include "tap.h"
#include "util/err.h"

static int same(const float *got, const float *want, int n)
{
    int i;

    for (i = 0; i < n; i++)
        if (fabsf(got[i] - want[i]) > 1e-4f * (1 + fabsf(want[i]))) {
            diag("at %d: got %g want %g", i, got[i], want[i]);
            return 0;
        }
    return 1;
}

static const float a23[6] = {1, 2, 3, 4, 5, 6};

static void gemm_cases(void)
{
    struct kt k = {0};
    int rc;

    kt_init(&k, "Gemm", 3, 1);
    kt_in(&k, 0, 2, (int64_t[]){2, 3}, a23);
    kt_in(&k, 1, 2, (int64_t[]){3, 2}, a23);
    kt_in(&k, 2, 1, (int64_t[]){2}, (float[]){10, 20});
    kt_float(&k, "alpha", 2.0f);
    kt_float(&k, "beta", 0.5f);
    rc = kt_call(&k, csq_op_gemm_infer, csq_op_gemm_run, NULL);
    ok(rc == 0 && k.out[0].rank == 2 && k.out[0].dims[0] == 2 && k.out[0].dims[1] == 2 &&
       same(kt_out(&k), (float[]){49, 66, 103, 138}, 4), "alpha, beta, C row vector");

    kt_init(&k, "Gemm", 3, 1);
    kt_in(&k, 0, 2, (int64_t[]){3, 2}, (float[]){1, 4, 2, 5, 3, 6});
    kt_in(&k, 1, 2, (int64_t[]){2, 3}, (float[]){1, 3, 5, 2, 4, 6});
    kt_in(&k, 2, 2, (int64_t[]){2, 1}, (float[]){1, 2});
    kt_int(&k, "transA", 1);
    kt_int(&k, "transB", 1);
    rc = kt_call(&k, csq_op_gemm_infer, csq_op_gemm_run, NULL);
    ok(rc == 0 && same(kt_out(&k), (float[]){23, 29, 51, 66}, 4), "transA, transB, C column");

    kt_init(&k, "Gemm", 3, 1);
    kt_in(&k, 0, 2, (int64_t[]){2, 3}, a23);
    kt_in(&k, 1, 2, (int64_t[]){3, 2}, a23);
    kt_in(&k, 2, 0, NULL, (float[]){3});
    rc = kt_call(&k, csq_op_gemm_infer, csq_op_gemm_run, NULL);
    ok(rc == 0 && same(kt_out(&k), (float[]){25, 31, 52, 67}, 4), "scalar C");

    kt_init(&k, "Gemm", 3, 1);
    kt_in(&k, 0, 2, (int64_t[]){2, 3}, a23);
    kt_in(&k, 1, 2, (int64_t[]){3, 2}, a23);
    kt_in(&k, 2, 2, (int64_t[]){2, 2}, (float[]){1, 2, 3, 4});
    kt_float(&k, "beta", 0.0f);
    rc = kt_call(&k, csq_op_gemm_infer, csq_op_gemm_run, NULL);
    ok(rc == 0 && same(kt_out(&k), (float[]){22, 28, 49, 64}, 4), "beta 0 ignores C");

    kt_init(&k, "Gemm", 3, 1);
    kt_in(&k, 0, 2, (int64_t[]){2, 3}, a23);
    kt_in(&k, 1, 2, (int64_t[]){3, 2}, a23);
    kt_omit(&k, 2);
    rc = kt_call(&k, csq_op_gemm_infer, csq_op_gemm_run, NULL);
    ok(rc == 0 && same(kt_out(&k), (float[]){22, 28, 49, 64}, 4), "C omitted (opset 13)");
    k.a.opset = 9;
    is_int(csq_op_gemm_infer(&k.a), CSQ_EFORMAT, "C omitted before opset 11 refused");

    kt_init(&k, "Gemm", 3, 1);
    kt_in(&k, 0, 2, (int64_t[]){2, 3}, a23);
    kt_in(&k, 1, 2, (int64_t[]){3, 2}, a23);
    kt_in(&k, 2, 1, (int64_t[]){3}, a23);
    is_int(csq_op_gemm_infer(&k.a), CSQ_ESHAPE, "C of 3 for 2 columns refused");
    kt_in(&k, 1, 2, (int64_t[]){2, 3}, a23);
    kt_omit(&k, 2);
    is_int(csq_op_gemm_infer(&k.a), CSQ_ESHAPE, "inner dims mismatch refused");
    kt_free(&k);
}

static void matmul_hand(void)
{
    struct kt k = {0};
    int rc;

    kt_init(&k, "MatMul", 2, 1);
    kt_in(&k, 0, 1, (int64_t[]){3}, (float[]){1, 2, 3});
    kt_in(&k, 1, 1, (int64_t[]){3}, (float[]){4, 5, 6});
    rc = kt_call(&k, csq_op_matmul_infer, csq_op_matmul_run, NULL);
    ok(rc == 0 && k.out[0].rank == 0 && same(kt_out(&k), (float[]){32}, 1), "1-D . 1-D");

    kt_init(&k, "MatMul", 2, 1);
    kt_in(&k, 0, 1, (int64_t[]){3}, (float[]){1, 2, 3});
    kt_in(&k, 1, 2, (int64_t[]){3, 2}, a23);
    rc = kt_call(&k, csq_op_matmul_infer, csq_op_matmul_run, NULL);
    ok(rc == 0 && k.out[0].rank == 1 && k.out[0].dims[0] == 2 &&
       same(kt_out(&k), (float[]){22, 28}, 2), "1-D . 2-D");

    kt_init(&k, "MatMul", 2, 1);
    kt_in(&k, 0, 2, (int64_t[]){2, 3}, a23);
    kt_in(&k, 1, 1, (int64_t[]){3}, (float[]){1, 1, 1});
    rc = kt_call(&k, csq_op_matmul_infer, csq_op_matmul_run, NULL);
    ok(rc == 0 && k.out[0].rank == 1 && k.out[0].dims[0] == 2 &&
       same(kt_out(&k), (float[]){6, 15}, 2), "2-D . 1-D");

    kt_init(&k, "MatMul", 2, 1);
    kt_in(&k, 0, 3, (int64_t[]){2, 2, 3}, NULL);
    kt_in(&k, 1, 3, (int64_t[]){3, 3, 2}, NULL);
    is_int(csq_op_matmul_infer(&k.a), CSQ_ESHAPE, "batch 2 vs 3 refused");
    kt_free(&k);
}

/* A (da0, da1, m, kk) x B (db1, kk, n), dims of 1 broadcast. */
static void matmul_batched(int da0, int da1, int db1, int m, int kk, int n, int brank)
{
    int o1 = da1 > db1 ? da1 : db1, i0, i1, r, c, t;
    int64_t na = (int64_t)da0 * da1 * m * kk, nb = (int64_t)db1 * kk * n;
    float *A = malloc(na * sizeof *A), *B = malloc(nb * sizeof *B), err = 0;
    unsigned seed = 7u + (unsigned)(da0 * 31 + db1);
    struct kt k = {0};
    int rc;

    kt_rand(A, na, &seed);
    kt_rand(B, nb, &seed);
    kt_init(&k, "MatMul", 2, 1);
    kt_in(&k, 0, 4, (int64_t[]){da0, da1, m, kk}, A);
    if (brank == 2)
        kt_in(&k, 1, 2, (int64_t[]){kk, n}, B);
    else
        kt_in(&k, 1, 3, (int64_t[]){db1, kk, n}, B);
    rc = kt_call(&k, csq_op_matmul_infer, csq_op_matmul_run, NULL);
    if (rc || k.out[0].rank != 4 || k.out[0].dims[0] != da0 || k.out[0].dims[1] != o1 ||
        k.out[0].dims[2] != m || k.out[0].dims[3] != n) {
        err = 1e30f;
    } else {
        for (i0 = 0; i0 < da0; i0++)
            for (i1 = 0; i1 < o1; i1++)
                for (r = 0; r < m; r++)
                    for (c = 0; c < n; c++) {
                        const float *ar = A + (((int64_t)i0 * da1 + (da1 == 1 ? 0 : i1)) * m + r)
                                              * kk;
                        const float *bm = B + (int64_t)(db1 == 1 ? 0 : i1) * kk * n;
                        double acc = 0;
                        float got = kt_out(&k)[(((int64_t)i0 * o1 + i1) * m + r) * n + c];

                        for (t = 0; t < kk; t++)
                            acc += (double)ar[t] * bm[t * n + c];
                        if (fabs(got - acc) > err)
                            err = (float)fabs(got - acc);
                    }
    }
    ok(err < 1e-4f, "MatMul (%d,%d,%d,%d) x %s(%d,%d,%d): max err %g", da0, da1, m, kk,
       brank == 2 ? "2-D " : "", db1, kk, n, err);
    kt_free(&k);
    free(A);
    free(B);
}

int main(void)
{
    gemm_cases();
    matmul_hand();
    matmul_batched(2, 1, 3, 2, 5, 4, 3);
    matmul_batched(2, 3, 1, 3, 4, 2, 3);
    matmul_batched(1, 4, 4, 5, 7, 3, 3);
    matmul_batched(2, 3, 1, 4, 6, 5, 2);
    return tap_done();
}
