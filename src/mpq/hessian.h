/*
 * hessian: layer statistics H = (2/n) sum x x^T over a layer's input
 * patches (DESIGN §7), per group, in double.  The products are float
 * (ssyrk, twice dsyrk's throughput; dot products for patches of at most 16
 * values), summed in float over at most 16384 patches of one call, then
 * added into the double sums.  The
 * patches of a Conv are the im2col columns its kernel multiplies (one H of
 * K = C/g x kh x kw per group: one 9x9 H per depthwise channel); those of a
 * Gemm / MatMul are its input rows.  GPTQ (mpq/gptq) and the per-candidate
 * errors read the finished matrices.
 *
 * A Conv of stride 1 and dilation 1 with at least 32 channels per group
 * takes a shortcut where it needs fewer products: each distinct offset
 * between two patch elements (13 for a 3x3 kernel, H being symmetric) is
 * one product of the input planes with themselves shifted, less the
 * border rows and columns (the sums are the same up to float rounding).
 *
 * --hessian-samples N keeps N output positions per image and group (all
 * when the plane has no more), picked uniformly without replacement by a
 * generator seeded with (seed, image index): the same images give the same
 * patches whatever the batch split (H then differs only in summation
 * order).  Rows (Gemm / MatMul) are never subsampled.
 *
 * Ownership: csq_hessian_new returns an object the caller frees with
 * csq_hessian_free (NULL is fine); arrays passed in are borrowed; matrices
 * returned by csq_hessian_matrix belong to the object.
 *
 *     size_t bytes;
 *     if ((rc = csq_hessian_plan(graph, &bytes))) return rc;   refuses over the limit
 *     h = csq_hessian_new(groups, k, samples, seed);
 *     optionally csq_hessian_use(h, ws);  one workspace for many layers
 *     each batch: csq_hessian_add_conv(h, &geom, x, nimages, first) or
 *                 csq_hessian_add_rows(h, x, rows, ld);
 *     csq_hessian_finish(h);  H of group gi = csq_hessian_matrix(h, gi);
 */
#ifndef CSQ_HESSIAN_H
#define CSQ_HESSIAN_H

#include <stddef.h>
#include <stdint.h>

#include "nn/graph.h"
#include "nn/im2col.h"

/* Seed of the position subsampling when the caller has no other. */
#define CSQ_HESSIAN_SEED 20261201u

struct csq_hessian;

/* Whether csq_hessian_add_conv(h, g, ...) takes the shifted products
 * (h's workspace, or the one it would make). */
int csq_hessian_shifted(const struct csq_hessian *h, const struct csq_im2col *g);

/* Groups and patch size K of quantizable layer `layer` of g: a Conv's
 * group attribute and (C/g) kh kw; a Gemm / MatMul's contraction size
 * (1 group).  CSQ_EUNSUPPORTED for a weight of rank other than 2 on a
 * Gemm / MatMul. */
int csq_hessian_layer_shape(const struct csq_graph *g, int layer, int64_t *groups,
                            int64_t *k);
/* Bytes csq_hessian_new(groups, k, ...) and its own workspace allocate:
 * groups K^2 doubles plus csq_hessian_ws_bytes(k).  CSQ_ENOMEM (message)
 * when the count overflows. */
int csq_hessian_bytes(int64_t groups, int64_t k, size_t *bytes);
/* Bytes of the statistics of every quantizable layer of g, all alive at
 * once as in one pass, with one workspace for the largest K; CSQ_ENOMEM with a one-line message naming the need,
 * the largest layer and the limit when that exceeds csq_limit_memory()
 * (util/limits.h).  Nothing is allocated. */
int csq_hessian_plan(const struct csq_graph *g, size_t *bytes);
/* The same for the layers l with want[l] != 0 (NULL: all). */
int csq_hessian_plan_layers(const struct csq_graph *g, const int *want, size_t *bytes);

/* A zeroed accumulator for groups H of k x k; samples = positions kept per
 * image and group, 0 = all.  NULL (message) on bad sizes or no memory; the
 * caller checks the limit first (csq_hessian_plan). */
struct csq_hessian *csq_hessian_new(int64_t groups, int64_t k, int64_t samples,
                                    uint64_t seed);
void csq_hessian_free(struct csq_hessian *h);

/* The scratch of the accumulation: a column buffer and a K x K float
 * block, for patches of up to kmax values.  Without one, an accumulator
 * allocates its own on the first add and frees it at finish; a pass over
 * many layers shares one (the block is emptied at the end of every add).
 * NULL on bad size or no memory. */
struct csq_hessian_ws;
struct csq_hessian_ws *csq_hessian_ws_new(int64_t kmax);
void csq_hessian_ws_free(struct csq_hessian_ws *ws);
/* Bytes csq_hessian_ws_new(kmax) allocates; CSQ_ENOMEM on overflow. */
int csq_hessian_ws_bytes(int64_t kmax, size_t *bytes);
/* h borrows ws (which must outlive h's adds); CSQ_EINVAL when ws is for
 * smaller patches than h's. */
int csq_hessian_use(struct csq_hessian *h, struct csq_hessian_ws *ws);

/* Add the patches of nimages images of a Conv with geometry geom (groups
 * and K must match h): x is those images' input, N x C x H x W contiguous;
 * image i counts as image first + i for the subsampling.  CSQ_ESHAPE on a
 * geometry mismatch, CSQ_EINVAL after finish. */
int csq_hessian_add_conv(struct csq_hessian *h, const struct csq_im2col *geom,
                         const float *x, int64_t nimages, int64_t first);
/* Add rows input rows of K floats, row r at x + r * ld (h has one group). */
int csq_hessian_add_rows(struct csq_hessian *h, const float *x, int64_t rows, int64_t ld);
/* Scale every sum by 2 / n and make the matrices full (both triangles);
 * frees an own workspace.  CSQ_EINVAL when a group saw no patch. */
int csq_hessian_finish(struct csq_hessian *h);

/* After finish: H of group gi, k x k row-major (symmetric). */
const double *csq_hessian_matrix(const struct csq_hessian *h, int64_t gi);
/* Patches added to group gi (the n of 2 / n). */
int64_t csq_hessian_count(const struct csq_hessian *h, int64_t gi);
int64_t csq_hessian_groups(const struct csq_hessian *h);
int64_t csq_hessian_k(const struct csq_hessian *h);

/* The sorted output positions image `image` keeps: nsamp of npos (all of
 * them, 0..npos-1, when nsamp <= 0 or nsamp >= npos); returns how many were
 * written to idx (room for min(nsamp, npos)). */
int64_t csq_hessian_pick(uint64_t seed, int64_t image, int64_t npos, int64_t nsamp,
                         int64_t *idx);

#endif
