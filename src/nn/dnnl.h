/*
 * dnnl: the adapter to oneDNN (Debian libdnnl-dev), the one file that
 * includes its headers.  op_conv.c hands it a 2-D convolution (1-D as
 * height 1) of g->n images (one, or a whole batch of small ones); it
 * builds oneDNN's fastest primitive for it
 * (blocked nChw16c / nChw8c layouts, AVX-512 or AVX2 jit kernels picked by
 * oneDNN at run time), with the reorders from and to csmpq's NCHW, and
 * runs images through it.  The weight reorder into the primitive's layout
 * is done once (csq_dnnl_conv_pack) into memory the engine owns; per image
 * the source and destination reorders run on a scratch buffer small enough
 * to stay in cache.  Internal to src/nn.
 *
 *     struct csq_dnnl_conv *c;
 *     if (csq_dnnl_conv_new(&geom, nthreads, &c) == 0 && c) {
 *         pack: csq_dnnl_conv_pack(c, w, packed);           once
 *         run:  csq_dnnl_conv_run(c, tid, x_img, packed, bias, y_img,
 *                                 scratch + tid * csq_dnnl_conv_scratch(c, fl), nt, fl);
 *         csq_dnnl_conv_free(c);
 *     }
 *
 * Without oneDNN (configure --without-dnnl), or with CSMPQ_ISA=portable in
 * the environment, csq_dnnl_conv_new gives NULL and op_conv.c keeps its
 * own paths; CSMPQ_ISA=avx2 caps oneDNN at AVX2 (the non-AVX-512 path of
 * machines without AVX-512, testable on one with it).
 */
#ifndef CSQ_DNNL_H
#define CSQ_DNNL_H

#include <stddef.h>
#include <stdint.h>

struct csq_dnnl_geom {
    int64_t n;                  /* images per run */
    int64_t c, m, g;            /* channels in and out, groups */
    int64_t h, w, oh, ow;       /* input and output plane */
    int64_t kh, kw, sh, sw, dh, dw;
    int64_t pt, pl, pb, pr;     /* pads: top, left, bottom, right */
    int bias;                   /* a bias input is given */
    int act;                    /* applied to the output: 0 none, 1 Relu, 2 Clip [lo, hi] */
    int prefer16;               /* nChw16c rather than NHWC when oneDNN has a jit kernel */
    float lo, hi;
};

struct csq_dnnl_conv;

/* run flags: images already in the primitive's own layouts */
#define CSQ_DNNL_X_BLOCKED 1u   /* x is in the source's layout */
#define CSQ_DNNL_Y_BLOCKED 2u   /* write y in the destination's layout */

/* 1 when oneDNN is built in and not switched off by CSMPQ_ISA=portable. */
int csq_dnnl_enabled(void);

/* A primitive for g, to be run by up to nthreads threads at once (one
 * image each); *out = NULL (and 0) when oneDNN is off or refuses g.
 * Fails only when out of memory. */
int csq_dnnl_conv_new(const struct csq_dnnl_geom *g, int nthreads,
                      struct csq_dnnl_conv **out);
void csq_dnnl_conv_free(struct csq_dnnl_conv *c);

/* Floats of reordered weights, and of scratch one running thread needs
 * for images in the layouts flags (below) say. */
size_t csq_dnnl_conv_packed(const struct csq_dnnl_conv *c);
size_t csq_dnnl_conv_scratch(const struct csq_dnnl_conv *c, unsigned flags);

/* The M x C/g x kh x kw weights w into the primitive's layout at dst. */
void csq_dnnl_conv_pack(struct csq_dnnl_conv *c, const float *w, float *dst);

/* Layout codes: NHWC, or the channel block (16 for nChw16c, 8 for
 * nChw8c: channels padded with zeros to a multiple of it). */
#define CSQ_DNNL_NHWC 1

/* The layout codes of the primitive's source and destination, 0 when a
 * layout is another one (NCHW itself, say).  An image already in that
 * layout can skip the reorder (flags below), so consecutive convolutions
 * can hand their images over without going through NCHW. */
void csq_dnnl_conv_blocks(const struct csq_dnnl_conv *c, int *xblk, int *yblk);


/* y = act(conv(x) + bias) for g->n images (x: N x C x H x W, y: N x M x
 * OH x OW, or in the primitive's layouts as flags say), as thread slot tid < nthreads of
 * csq_dnnl_conv_new, on oneDNN's own threads when nt > 1 (called outside
 * any parallel region then) and sequentially when nt == 1.  Returns 0, or
 * nonzero when oneDNN failed (the output is then undefined). */
int csq_dnnl_conv_run(struct csq_dnnl_conv *c, int tid, const float *x, const float *wpacked,
                      const float *bias, float *y, float *scratch, int nt, unsigned flags,
                      const float *r);

/* Makes c also able to run y = act(conv(x) + bias + r) (an Add after it,
 * act 0, 1 Relu or 2 Clip [lo, hi] the Add's fused one) with r in the
 * destination's layout: csq_dnnl_conv_run with r non-NULL, Y_BLOCKED.
 * 1 when it can, 0 when oneDNN refuses (then run only with r NULL). */
int csq_dnnl_conv_add(struct csq_dnnl_conv *c, int act, float lo, float hi);

/* A line naming the kernel oneDNN picked ("brgconv:avx512_core"), for -v
 * and the benchmarks. */
const char *csq_dnnl_conv_impl(const struct csq_dnnl_conv *c);

#endif
