/*
 * gptq: Hessian-aware weight quantization (Frantar et al. 2022, "GPTQ",
 * after OBQ), exactly DESIGN §7, on one layer whose statistics H come from
 * mpq/hessian.  Per output channel, symmetric, b bits, levels in [-qmax,
 * qmax] (b = 1: +-1), as rtn (mpq/quant.h).  For each group (its own H,
 * its own rows of W):
 *   1. each row's scale is the one rtn picks (csq_quant_choose, on the
 *      original weights);
 *   2. a dead input (H_dd = 0) gets H_dd = 1 and its weights 0;
 *   3. act-order: columns in decreasing diag(H) order (after step 2; ties
 *      by index), undone at the end;
 *   4. H += damp x mean(diag H) x I (damp 0.01);
 *   5. U = the upper Cholesky factor of H^-1; if it fails, again with 10x
 *      the damping; if that fails too, the group is quantized by rtn and
 *      the outcome says so (the caller warns);
 *   6. columns i in order: q_i = Q(w_i), e = (w_i - q_i) / U_ii,
 *      w_j -= e U_ij for j > i; in blocks of `block` columns, the updates
 *      of later blocks batched into one GEMM per block (the same result up
 *      to float rounding).  gptq.c computes this from U's inverse R (the
 *      Cholesky factor itself, H = R R^T), with no triangular inverse.
 * Arithmetic is double; only the stored weights are float.  The same steps
 * are written in PyTorch in scripts/reference-quant (gptq()).
 *
 * Ownership: everything is borrowed; the library never prints.
 *
 *     struct csq_gptq_opts o;  struct csq_gptq_info info;
 *     csq_gptq_opts_init(&o, 4);
 *     rc = csq_gptq_quantize(w, rows, k, k, 1, groups, H, &o, out, levels, scales, &info);
 *     if (info.rtn) warn("layer fell back to rtn");
 */
#ifndef CSQ_GPTQ_H
#define CSQ_GPTQ_H

#include <stdint.h>

#define CSQ_GPTQ_BLOCK 128
#define CSQ_GPTQ_DAMP 0.01

struct csq_gptq_opts {
    int bits;          /* 1..16 */
    int act_order;     /* quantize columns in decreasing diag(H) order */
    int64_t block;     /* columns per lazy batch (>= 1) */
    double damp;       /* relative dampening (> 0) */
};

/* What happened to one layer, summed over its groups. */
struct csq_gptq_info {
    int64_t groups;
    int64_t redamped;  /* groups factorized only with 10x the damping */
    int64_t rtn;       /* groups that fell back to rtn (factorization failed) */
    int64_t dead;      /* dead inputs (H_dd = 0), over all groups */
};

/* bits, block CSQ_GPTQ_BLOCK, damp CSQ_GPTQ_DAMP, no act-order. */
void csq_gptq_opts_init(struct csq_gptq_opts *o, int bits);

/*
 * Quantize a layer of rows output channels of k inputs each, element (r, i)
 * at w[r * ch_stride + i * el_stride] (Conv (M, C/g, kh, kw): k, 1; Gemm
 * transB = 1: k, 1; MatMul x @ W (K, N): 1, N).  groups divides rows;
 * group gi owns rows [gi rows/groups, (gi+1) rows/groups) and h[gi]: h is
 * groups full k x k row-major matrices (csq_hessian_matrix, or one array
 * holding them in order).  Writes the quantized weights to out (same
 * layout; out may be w), and when not NULL the integer levels (same
 * layout) and each row's scale (value = level x scale).  info may be NULL.
 * CSQ_EINVAL on bad options or shapes or a non-finite weight, CSQ_ENOMEM;
 * out is then unchanged.  A non-finite or indefinite H is not an error: that
 * group falls back to rtn.
 */
int csq_gptq_quantize(const float *w, int64_t rows, int64_t k, int64_t ch_stride,
                      int64_t el_stride, int64_t groups, const double *h,
                      const struct csq_gptq_opts *o, float *out, int16_t *levels,
                      double *scales, struct csq_gptq_info *info);

#endif
