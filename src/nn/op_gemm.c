/*
 * op_gemm: ONNX Gemm (opsets 7-13) and MatMul (numpy semantics), float32,
 * both one or more OpenBLAS sgemm calls made from one thread, so OpenBLAS
 * uses the configured thread count itself.  An engine checks once per
 * plan (csq_op_gemm_plan, csq_op_matmul_plan); run then trusts the plan.
 */
#include "config.h"

#include <assert.h>
#include <string.h>

#include <cblas.h>

#include "nn/kernels.h"
#include "util/err.h"

struct gemm {
    int64_t m, n, k;
    int ta, tb;
    float alpha, beta;
};

static int gemm_check(const struct csq_kargs *a, struct gemm *p)
{
    const struct csq_tensor *A = a->nin > 0 ? a->in[0] : NULL;
    const struct csq_tensor *B = a->nin > 1 ? a->in[1] : NULL;
    const struct csq_tensor *C = a->nin > 2 ? a->in[2] : NULL;
    int64_t kb;

    if (!A || !B)
        return csq_fail(CSQ_EFORMAT, "node '%s' (Gemm): needs inputs A and B", a->name);
    if (!C && a->opset < 11)
        return csq_fail(CSQ_EFORMAT, "node '%s' (Gemm): input C is required before opset 11",
                        a->name);
    if (A->dtype != CSQ_DT_FLOAT || B->dtype != CSQ_DT_FLOAT || (C && C->dtype != CSQ_DT_FLOAT))
        return csq_fail(CSQ_EUNSUPPORTED, "node '%s' (Gemm): only float32 is supported",
                        a->name);
    if (A->rank != 2 || B->rank != 2)
        return csq_fail(CSQ_ESHAPE, "node '%s' (Gemm): A and B must be matrices (ranks %d, %d)",
                        a->name, A->rank, B->rank);
    p->ta = csq_node_int(a->node, "transA", 0) != 0;
    p->tb = csq_node_int(a->node, "transB", 0) != 0;
    p->alpha = csq_node_float(a->node, "alpha", 1.0f);
    p->beta = csq_node_float(a->node, "beta", 1.0f);
    p->m = A->dims[p->ta ? 1 : 0];
    p->k = A->dims[p->ta ? 0 : 1];
    kb = B->dims[p->tb ? 1 : 0];
    p->n = B->dims[p->tb ? 0 : 1];
    if (kb != p->k)
        return csq_fail(CSQ_ESHAPE, "node '%s' (Gemm): A has %lld columns, B has %lld rows",
                        a->name, (long long)p->k, (long long)kb);
    if (C) {
        int bad = C->rank > 2;

        if (C->rank == 1)
            bad = C->dims[0] != 1 && C->dims[0] != p->n;
        else if (C->rank == 2)
            bad = (C->dims[0] != 1 && C->dims[0] != p->m) ||
                  (C->dims[1] != 1 && C->dims[1] != p->n);
        if (bad)
            return csq_fail(CSQ_ESHAPE, "node '%s' (Gemm): C does not broadcast to %lld x %lld",
                            a->name, (long long)p->m, (long long)p->n);
    }
    return 0;
}

static_assert(sizeof(struct gemm) <= CSQ_OP_PLAN_BYTES, "gemm plan too big");

/* C = alpha op(A) op(B) + beta C, row-major.  One row of A goes through
 * sgemv: OpenBLAS 0.3.21's sgemm packs all of B on every call, even for
 * one row, which at batch 1 copied the classifier's weights on every image
 * (4% of mobilenet_v2's forward, BENCHMARKS.md). */
static void sgemm_rows(int ta, int tb, int m, int n, int k, float alpha, const float *A, int lda,
                       const float *B, int ldb, float beta, float *C, int ldc)
{
    if (m == 1) {
        /* A's one row is contiguous either way: 1 x k, or k x 1 (transA) */
        cblas_sgemv(CblasRowMajor, tb ? CblasNoTrans : CblasTrans, tb ? n : k, tb ? k : n,
                    alpha, B, ldb, A, 1, beta, C, 1);
        return;
    }
    cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans,
                m, n, k, alpha, A, lda, B, ldb, beta, C, ldc);
}

int csq_op_gemm_plan(const struct csq_kargs *a, void *plan)
{
    return gemm_check(a, plan);
}

int csq_op_gemm_infer(struct csq_kargs *a)
{
    struct gemm p;
    int rc;

    if ((rc = gemm_check(a, &p)))
        return rc;
    a->out[0]->dtype = CSQ_DT_FLOAT;
    a->out[0]->rank = 2;
    a->out[0]->dims[0] = p.m;
    a->out[0]->dims[1] = p.n;
    return 0;
}

int csq_op_gemm_run(struct csq_kargs *a)
{
    const struct csq_tensor *C = a->nin > 2 ? a->in[2] : NULL;
    float *y = a->out[0]->data;
    float beta = 0.0f;
    struct gemm p;
    int64_t i, j;
    int rc;

    if (a->plan)
        p = *(const struct gemm *)a->plan;
    else if ((rc = gemm_check(a, &p)))
        return rc;
    if (p.m == 0 || p.n == 0)
        return 0;
    if (C && p.beta != 0.0f) {
        const float *c = C->data;
        /* strides of C over Y's rows and columns; 0 where broadcast */
        int64_t sr = 0, sc = 0;

        if (C->rank == 1) {
            sc = C->dims[0] == 1 ? 0 : 1;
        } else if (C->rank == 2) {
            sc = C->dims[1] == 1 ? 0 : 1;
            sr = C->dims[0] == 1 ? 0 : C->dims[1];
        }
        for (i = 0; i < p.m; i++)
            for (j = 0; j < p.n; j++)
                y[i * p.n + j] = p.beta * c[i * sr + j * sc];
        beta = 1.0f;
    }
    if (p.k == 0) {
        if (beta == 0.0f)
            memset(y, 0, (size_t)(p.m * p.n) * sizeof *y);
        return 0;
    }
    sgemm_rows(p.ta, p.tb, (int)p.m, (int)p.n, (int)p.k, p.alpha, a->in[0]->data,
               (int)a->in[0]->dims[1], a->in[1]->data, (int)a->in[1]->dims[1], beta, y, (int)p.n);
    return 0;
}

/* MatMul operands viewed as stacks of matrices. */
struct mm {
    int64_t m, n, k;
    int nb;                              /* batch dims of the output */
    int64_t bd[CSQ_MAX_RANK];            /* output batch dims */
    int64_t sa[CSQ_MAX_RANK], sb[CSQ_MAX_RANK];  /* batch strides, 0 = broadcast */
    int64_t batch;                       /* product of bd */
};

static int mm_check(const struct csq_kargs *a, struct mm *p, struct csq_tensor *y)
{
    const struct csq_tensor *A = a->nin > 0 ? a->in[0] : NULL;
    const struct csq_tensor *B = a->nin > 1 ? a->in[1] : NULL;
    int64_t kb, stA, stB;
    int ra, rb, i;

    if (!A || !B)
        return csq_fail(CSQ_EFORMAT, "node '%s' (MatMul): needs inputs A and B", a->name);
    if (A->dtype != CSQ_DT_FLOAT || B->dtype != CSQ_DT_FLOAT)
        return csq_fail(CSQ_EUNSUPPORTED, "node '%s' (MatMul): only float32 is supported",
                        a->name);
    if (A->rank < 1 || B->rank < 1)
        return csq_fail(CSQ_ESHAPE, "node '%s' (MatMul): scalar operand", a->name);
    p->m = A->rank == 1 ? 1 : A->dims[A->rank - 2];
    p->k = A->dims[A->rank - 1];
    kb = B->rank == 1 ? B->dims[0] : B->dims[B->rank - 2];
    p->n = B->rank == 1 ? 1 : B->dims[B->rank - 1];
    if (kb != p->k)
        return csq_fail(CSQ_ESHAPE, "node '%s' (MatMul): A has %lld columns, B has %lld rows",
                        a->name, (long long)p->k, (long long)kb);
    ra = A->rank > 2 ? A->rank - 2 : 0;
    rb = B->rank > 2 ? B->rank - 2 : 0;
    p->nb = ra > rb ? ra : rb;
    /* walk batch dims from the innermost, numpy-aligned on the right */
    stA = p->m * p->k;
    stB = p->k * p->n;
    p->batch = 1;
    for (i = p->nb - 1; i >= 0; i--) {
        int ia = i - (p->nb - ra), ib = i - (p->nb - rb);
        int64_t da = ia >= 0 ? A->dims[ia] : 1, db = ib >= 0 ? B->dims[ib] : 1;

        if (da != db && da != 1 && db != 1)
            return csq_fail(CSQ_ESHAPE, "node '%s' (MatMul): batch dims %lld and %lld do not "
                            "broadcast", a->name, (long long)da, (long long)db);
        p->bd[i] = da == 1 ? db : da;
        p->sa[i] = da == 1 ? 0 : stA;
        p->sb[i] = db == 1 ? 0 : stB;
        stA *= da;
        stB *= db;
        p->batch *= p->bd[i];
    }
    if (y) {
        int r = p->nb;

        if (p->nb + (A->rank > 1) + (B->rank > 1) > CSQ_MAX_RANK)
            return csq_fail(CSQ_EUNSUPPORTED, "node '%s' (MatMul): output rank too large",
                            a->name);
        y->dtype = CSQ_DT_FLOAT;
        memcpy(y->dims, p->bd, (size_t)p->nb * sizeof *p->bd);
        if (A->rank > 1)
            y->dims[r++] = p->m;
        if (B->rank > 1)
            y->dims[r++] = p->n;
        y->rank = r;
    }
    return 0;
}

static_assert(sizeof(struct mm) <= CSQ_OP_PLAN_BYTES, "matmul plan too big");

int csq_op_matmul_plan(const struct csq_kargs *a, void *plan)
{
    return mm_check(a, plan, NULL);
}

int csq_op_matmul_infer(struct csq_kargs *a)
{
    struct mm p;

    return mm_check(a, &p, a->out[0]);
}

int csq_op_matmul_run(struct csq_kargs *a)
{
    const float *A = a->in[0]->data, *B = a->in[1]->data;
    float *y = a->out[0]->data;
    struct mm p;
    int64_t bi;
    int rc, i;

    if (a->plan)
        p = *(const struct mm *)a->plan;
    else if ((rc = mm_check(a, &p, NULL)))
        return rc;
    if (p.m == 0 || p.n == 0 || p.batch == 0)
        return 0;
    if (p.k == 0) {
        memset(y, 0, (size_t)(p.batch * p.m * p.n) * sizeof *y);
        return 0;
    }
    if (a->in[1]->rank <= 2) {
        /* a shared weight: the whole stack of A is one tall matrix */
        sgemm_rows(0, 0, (int)(p.batch * p.m), (int)p.n, (int)p.k, 1.0f, A, (int)p.k, B,
                   (int)p.n, 0.0f, y, (int)p.n);
        return 0;
    }
    for (bi = 0; bi < p.batch; bi++) {
        int64_t rest = bi, oa = 0, ob = 0;

        for (i = p.nb - 1; i >= 0; i--) {
            int64_t idx = rest % p.bd[i];

            rest /= p.bd[i];
            oa += idx * p.sa[i];
            ob += idx * p.sb[i];
        }
        sgemm_rows(0, 0, (int)p.m, (int)p.n, (int)p.k, 1.0f, A + oa, (int)p.k, B + ob,
                   (int)p.n, 0.0f, y + bi * p.m * p.n, (int)p.n);
    }
    return 0;
}
