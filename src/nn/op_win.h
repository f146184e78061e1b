/*
 * op_win: sliding-window geometry shared by Conv and the pools: strides,
 * dilations, pads, auto_pad and ceil_mode attributes turned into output
 * sizes and begin/end pads, by the formulas of the ONNX operator spec.
 * Internal to src/nn.
 *
 *     struct csq_win w;
 *     rc = csq_op_win_parse(a, "Conv", 2, in_hw, kernel_hw, 0, &w);
 *     ... w.out[0], w.pb[0] ...
 */
#ifndef CSQ_OP_WIN_H
#define CSQ_OP_WIN_H

#include <stdint.h>

#include "nn/ops.h"

#define CSQ_WIN_MAX 3

struct csq_win {
    int nsp;                        /* spatial dims */
    int64_t in[CSQ_WIN_MAX];
    int64_t k[CSQ_WIN_MAX];
    int64_t s[CSQ_WIN_MAX];         /* strides */
    int64_t d[CSQ_WIN_MAX];         /* dilations */
    int64_t pb[CSQ_WIN_MAX];        /* pads at the beginning */
    int64_t pe[CSQ_WIN_MAX];        /* pads at the end */
    int64_t out[CSQ_WIN_MAX];
};

/* Reads strides, dilations, pads, auto_pad (and ceil_mode when allow_ceil)
 * of a->node for nsp spatial dims with sizes in[] and kernel k[].  Fails
 * naming the node and op on a bad attribute or an empty output. */
int csq_op_win_parse(const struct csq_kargs *a, const char *op, int nsp,
                     const int64_t *in, const int64_t *k, int allow_ceil,
                     struct csq_win *w);

/* An INTS attribute that must have exactly n entries; *v = NULL when the
 * attribute is absent. */
int csq_op_win_ints(const struct csq_kargs *a, const char *op, const char *attr,
                    size_t n, const int64_t **v);

#endif
