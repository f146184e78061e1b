/*
 * im2col: the engine's Conv column builder, exported for the layer
 * statistics (mpq/hessian), which need exactly the patches the Conv
 * multiplies.  Implemented in op_conv.c; nothing is allocated.
 *
 *     struct csq_im2col g;
 *     if (csq_im2col_init(&g, node, x, w)) return rc;       (x: N x C x H x W)
 *     for each image n and group gi:
 *         csq_im2col_fill(&g, x + (n * g.c + gi * g.cg) * g.h * g.w, 0, g.oh * g.ow,
 *                         col, g.oh * g.ow);                (K x positions)
 */
#ifndef CSQ_IM2COL_H
#define CSQ_IM2COL_H

#include <stdint.h>

#include "nn/graph.h"
#include "nn/tensor.h"

/* The geometry of one Conv; 1-D convolutions have h = kh = oh = 1. */
struct csq_im2col {
    int64_t c, m, groups;       /* input and output channels, groups */
    int64_t cg, mg;             /* per group */
    int64_t h, w, oh, ow;       /* input and output planes */
    int64_t kh, kw, sh, sw, dh, dw;
    int64_t pt, pl;             /* top and left padding */
    int64_t k;                  /* cg * kh * kw: rows of the matrix, the patch size */
};

/* Geometry of Conv node for data input x and weight w (shapes only; data
 * is not read).  Fails with the Conv kernel's message on shapes or
 * attributes the engine would refuse. */
int csq_im2col_init(struct csq_im2col *g, const struct csq_node *node,
                    const struct csq_tensor *x, const struct csq_tensor *w);
/* Columns [p0, p0 + len) (output positions in row-major order) of the
 * im2col matrix of one image and one group (x at the group's first input
 * channel) into col: row r (r = (ci * kh + ki) * kw + kj, the weight's
 * element order) at col + r * ld; padding gives zeros. */
void csq_im2col_fill(const struct csq_im2col *g, const float *x, int64_t p0, int64_t len,
                     float *col, int64_t ld);

#endif
