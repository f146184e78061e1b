/*
 * kernels: the functions behind the rows of the operator table (ops.c),
 * grouped by family into op_<family>.c.  Internal to src/nn.
 */
#ifndef CSQ_KERNELS_H
#define CSQ_KERNELS_H

#include "nn/ops.h"

/* Output positions [lo, hi) of a row of len outputs whose input index
 * o * s + off stays inside [0, n): the part of a convolution or pooling
 * row that needs no padding.  Shared by op_conv.c and op_pool.c. */
static inline void csq_kern_valid_range(int64_t len, int64_t s, int64_t off, int64_t n,
                                        int64_t *lo, int64_t *hi)
{
    int64_t l = off < 0 ? (-off + s - 1) / s : 0;
    int64_t h = off < n ? (n - 1 - off) / s + 1 : 0;

    if (h > len)
        h = len;
    if (l > h)
        l = h;
    *lo = l;
    *hi = h;
}

#define CSQ_KERNEL(name) \
    int csq_op_##name##_infer(struct csq_kargs *a); \
    int csq_op_##name##_run(struct csq_kargs *a)

/* op_qdq.c */
CSQ_KERNEL(quantizelinear);
CSQ_KERNEL(dequantizelinear);
/* op_conv.c */
CSQ_KERNEL(conv);
size_t csq_op_conv_scratch(const struct csq_kargs *a);
int csq_op_conv_plan(const struct csq_kargs *a, void *plan);
size_t csq_op_conv_packed(const struct csq_kargs *a);
void csq_op_conv_pack(const struct csq_kargs *a, float *dst);
void csq_op_conv_release(void *plan);
void csq_op_conv_blocks(const struct csq_kargs *a, int *in_blk, int *out_blk);
int csq_op_conv_fuse_add(void *plan, int act, float lo, float hi);
int csq_op_conv_fuse_silu(void *plan);
void csq_op_pool_blocks(const struct csq_kargs *a, int *in_blk, int *out_blk);
void csq_op_globalpool_blocks(const struct csq_kargs *a, int *in_blk, int *out_blk);
/* op_gemm.c */
CSQ_KERNEL(gemm);
CSQ_KERNEL(matmul);
int csq_op_gemm_plan(const struct csq_kargs *a, void *plan);
int csq_op_matmul_plan(const struct csq_kargs *a, void *plan);
/* op_pool.c */
CSQ_KERNEL(maxpool);
CSQ_KERNEL(avgpool);
int csq_op_maxpool_plan(const struct csq_kargs *a, void *plan);
int csq_op_avgpool_plan(const struct csq_kargs *a, void *plan);
size_t csq_op_pool_scratch(const struct csq_kargs *a);
CSQ_KERNEL(globalavgpool);
CSQ_KERNEL(globalmaxpool);
/* op_bn.c */
CSQ_KERNEL(batchnorm);
/* op_act.c */
CSQ_KERNEL(relu);
CSQ_KERNEL(clip);
CSQ_KERNEL(leakyrelu);
CSQ_KERNEL(sigmoid);
/* y = y * sigmoid(y) in place on nt threads (1: the caller's): a Conv's
 * fused SiLU (op_conv.c) */
void csq_op_silu(float *y, int64_t n, int nt);
CSQ_KERNEL(hardsigmoid);
CSQ_KERNEL(hardswish);
CSQ_KERNEL(softmax);
/* op_eltwise.c */
CSQ_KERNEL(add);
CSQ_KERNEL(sub);
CSQ_KERNEL(mul);
CSQ_KERNEL(div);
CSQ_KERNEL(reducemean);
/* op_shape.c */
CSQ_KERNEL(flatten);
CSQ_KERNEL(reshape);
CSQ_KERNEL(transpose);
CSQ_KERNEL(concat);
CSQ_KERNEL(split);
CSQ_KERNEL(squeeze);
CSQ_KERNEL(unsqueeze);
CSQ_KERNEL(shape);
CSQ_KERNEL(gather);
CSQ_KERNEL(constantofshape);
CSQ_KERNEL(pad);
CSQ_KERNEL(identity);   /* Identity and Dropout (inference) */
/* op_math.c */
CSQ_KERNEL(sqrt);
CSQ_KERNEL(reciprocal);
CSQ_KERNEL(erf);
CSQ_KERNEL(tanh);
CSQ_KERNEL(gelu);
CSQ_KERNEL(neg);
CSQ_KERNEL(not);
CSQ_KERNEL(pow);
CSQ_KERNEL(equal);
CSQ_KERNEL(mod);
CSQ_KERNEL(where);
CSQ_KERNEL(cast);
/* op_index.c */
CSQ_KERNEL(slice);
CSQ_KERNEL(expand);
CSQ_KERNEL(range);
CSQ_KERNEL(size);
CSQ_KERNEL(scatternd);
/* op_eltwise.c */
CSQ_KERNEL(reducesum);
/* op_norm.c */
CSQ_KERNEL(layernorm);
/* op_einsum.c */
CSQ_KERNEL(einsum);
size_t csq_op_einsum_scratch(const struct csq_kargs *a);

#endif
