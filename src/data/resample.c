/*
 * resample: PIL's bilinear resize, exactly (see resample.h).
 */
#include "config.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "data/resample.h"
#include "util/err.h"

/* ---- PIL's separable resampler (Resample.c), bilinear, 8 bits per channel */

#define PRECISION_BITS (32 - 8 - 2)

static double triangle(double x)
{
    if (x < 0.0)
        x = -x;
    return x < 1.0 ? 1.0 - x : 0.0;
}

/* For each output index: first input index, tap count, and ksize fixed-point
 * weights.  Mirrors precompute_coeffs + normalize_coeffs_8bpc: support grows
 * with the scale when shrinking (antialiasing), weights are normalized in
 * double, then rounded to PRECISION_BITS. */
static int coeffs(int in_size, int out_size, int **bounds_out, int32_t **kk_out)
{
    double scale = (double)in_size / out_size, filterscale = scale, support, center, ww, ss;
    int ksize, xx, x, xmin, xmax;
    int *bounds;
    int32_t *kk;
    double *k;

    if (filterscale < 1.0)
        filterscale = 1.0;
    support = 1.0 * filterscale;
    ksize = (int)ceil(support) * 2 + 1;
    bounds = malloc(sizeof *bounds * 2 * out_size);
    kk = malloc(sizeof *kk * (size_t)out_size * ksize);
    k = malloc(sizeof *k * ksize);
    if (!bounds || !kk || !k) {
        free(bounds);
        free(kk);
        free(k);
        return -1;
    }
    for (xx = 0; xx < out_size; xx++) {
        center = (xx + 0.5) * scale;
        ww = 0.0;
        ss = 1.0 / filterscale;
        xmin = (int)(center - support + 0.5);
        if (xmin < 0)
            xmin = 0;
        xmax = (int)(center + support + 0.5);
        if (xmax > in_size)
            xmax = in_size;
        xmax -= xmin;
        for (x = 0; x < xmax; x++) {
            k[x] = triangle((x + xmin - center + 0.5) * ss);
            ww += k[x];
        }
        for (x = 0; x < ksize; x++) {
            double v = x < xmax && ww != 0.0 ? k[x] / ww : 0.0;
            kk[xx * ksize + x] = (int32_t)(v < 0 ? -0.5 + v * (1 << PRECISION_BITS)
                                                 : 0.5 + v * (1 << PRECISION_BITS));
        }
        bounds[2 * xx] = xmin;
        bounds[2 * xx + 1] = xmax;
    }
    free(k);
    *bounds_out = bounds;
    *kk_out = kk;
    return ksize;
}

static unsigned char clip8(int32_t v)
{
    if (v >= (1 << PRECISION_BITS << 8))
        return 255;
    if (v <= 0)
        return 0;
    return (unsigned char)(v >> PRECISION_BITS);
}

/* A window of the resampled image: output columns [x0, x0 + cw) of rows
 * [0, rows) from rows of `in` (c channels, strides in bytes).  Only the
 * window is computed, each pixel exactly as the full pass would. */
static void pass_h(unsigned char *out, size_t ostride, const unsigned char *in,
                   size_t istride, int rows, int c, int x0, int cw, int ksize,
                   const int *bounds, const int32_t *kk)
{
    int x, y, ch, t;

    y = 0;
    if (c == 3) {
        /* two rows per pass share the taps' loads and loop exits */
        for (; y + 1 < rows; y += 2) {
            const unsigned char *r0 = in + (size_t)y * istride, *r1 = r0 + istride;
            unsigned char *o0 = out + (size_t)y * ostride, *o1 = o0 + ostride;
            for (x = 0; x < cw; x++) {
                const int32_t *k = kk + (size_t)(x0 + x) * ksize;
                int n = bounds[2 * (x0 + x) + 1];
                size_t off = (size_t)bounds[2 * (x0 + x)] * 3;
                const unsigned char *s = r0 + off, *u = r1 + off;
                int32_t a0 = 1 << (PRECISION_BITS - 1), a1 = a0, a2 = a0;
                int32_t b0 = a0, b1 = a0, b2 = a0;
                for (t = 0; t < n; t++, s += 3, u += 3) {
                    int32_t kt = k[t];
                    a0 += s[0] * kt;
                    a1 += s[1] * kt;
                    a2 += s[2] * kt;
                    b0 += u[0] * kt;
                    b1 += u[1] * kt;
                    b2 += u[2] * kt;
                }
                o0[3 * x] = clip8(a0);
                o0[3 * x + 1] = clip8(a1);
                o0[3 * x + 2] = clip8(a2);
                o1[3 * x] = clip8(b0);
                o1[3 * x + 1] = clip8(b1);
                o1[3 * x + 2] = clip8(b2);
            }
        }
    }
    for (; y < rows; y++) {
        const unsigned char *row = in + (size_t)y * istride;
        unsigned char *o = out + (size_t)y * ostride;
        for (x = 0; x < cw; x++) {
            const int32_t *k = kk + (size_t)(x0 + x) * ksize;
            int n = bounds[2 * (x0 + x) + 1];
            const unsigned char *s = row + (size_t)bounds[2 * (x0 + x)] * c;
            for (ch = 0; ch < c; ch++) {
                int32_t ss = 1 << (PRECISION_BITS - 1);
                for (t = 0; t < n; t++)
                    ss += s[t * c + ch] * k[t];
                o[x * c + ch] = clip8(ss);
            }
        }
    }
}

/* Output rows [y0, y0 + rows) along y; in holds source rows from in_first
 * on, rowlen bytes each.  Row by row into acc (rowlen int32) so that every
 * read is sequential; integer sums do not depend on the order.  The loops
 * say `omp simd` because -O2's cheap cost model leaves them scalar (the
 * widening byte multiply-add), and they are most of a large resize. */
#if defined(__GNUC__) && defined(__x86_64__) && defined(__has_attribute)
#if __has_attribute(target_clones)
/* 32-bit multiplies are 1 instruction with AVX2 and 5 without (the x86-64
 * baseline); the resolver picks the best copy once, at load time */
__attribute__((target_clones("avx2", "default")))
#endif
#endif
static void pass_v(unsigned char *out, size_t ostride, const unsigned char *in,
                   size_t istride, int in_first, size_t rowlen, int y0, int rows,
                   int ksize, const int *bounds, const int32_t *kk, int32_t *acc)
{
    size_t i;
    int y, t;

    for (y = 0; y < rows; y++) {
        const int32_t *k = kk + (size_t)(y0 + y) * ksize;
        int ymin = bounds[2 * (y0 + y)], n = bounds[2 * (y0 + y) + 1];
        unsigned char *o = out + (size_t)y * ostride;
#pragma omp simd
        for (i = 0; i < rowlen; i++)
            acc[i] = 1 << (PRECISION_BITS - 1);
        for (t = 0; t < n; t++) {
            const unsigned char *r = in + (size_t)(ymin + t - in_first) * istride;
            int32_t kt = k[t];
#pragma omp simd
            for (i = 0; i < rowlen; i++)
                acc[i] += r[i] * kt;
        }
#pragma omp simd
        for (i = 0; i < rowlen; i++)
            o[i] = clip8(acc[i]);
    }
}

/* The window [x0, x0 + cw) x [y0, y0 + ch) of src resized to w x h, as a
 * cw x ch image: what cropping csq_resample_image's result gives, without
 * computing the pixels a center crop throws away. */
int csq_resample_window(struct csq_image *dst, const struct csq_image *src, int w, int h,
                         int x0, int y0, int cw, int ch)
{
    struct csq_image tmp = {0};
    int *bx = NULL, *by = NULL, ksx = 0, ksy = 0, first = y0, last = y0 + ch, y;
    int32_t *kx = NULL, *ky = NULL, *acc = NULL;
    int c = src->c;
    size_t sstride = (size_t)src->w * c;

    memset(dst, 0, sizeof *dst);
    if (h != src->h) {
        if ((ksy = coeffs(src->h, h, &by, &ky)) < 0)
            goto nomem;
        /* source rows the window's output rows read (bounds grow with y) */
        first = by[2 * y0];
        last = 0;
        for (y = y0; y < y0 + ch; y++)
            if (by[2 * y] + by[2 * y + 1] > last)
                last = by[2 * y] + by[2 * y + 1];
        if (last <= first)
            last = first + 1;
    }
    if (csq_image_alloc(dst, cw, ch, c))
        goto nomem;
    /* PIL: horizontal pass first (rounded to 8 bits), then vertical */
    if (w != src->w) {
        if ((ksx = coeffs(src->w, w, &bx, &kx)) < 0)
            goto nomem;
        if (h == src->h) {
            pass_h(dst->px, (size_t)cw * c, src->px + (size_t)y0 * sstride, sstride, ch, c,
                   x0, cw, ksx, bx, kx);
            goto done;
        }
        if (csq_image_alloc(&tmp, cw, last - first, c))
            goto nomem;
        pass_h(tmp.px, (size_t)cw * c, src->px + (size_t)first * sstride, sstride,
               last - first, c, x0, cw, ksx, bx, kx);
    }
    if (h != src->h) {
        const unsigned char *in = tmp.px ? tmp.px : src->px + (size_t)first * sstride
                                                    + (size_t)x0 * c;
        size_t istride = tmp.px ? (size_t)cw * c : sstride;
        if (!(acc = malloc(sizeof *acc * (size_t)cw * c)))
            goto nomem;
        pass_v(dst->px, (size_t)cw * c, in, istride, first, (size_t)cw * c, y0, ch, ksy, by,
               ky, acc);
    } else if (w == src->w) {
        for (y = 0; y < ch; y++)
            memcpy(dst->px + (size_t)y * cw * c,
                   src->px + (size_t)(y0 + y) * sstride + (size_t)x0 * c, (size_t)cw * c);
    }
done:
    free(acc);
    free(bx);
    free(kx);
    free(by);
    free(ky);
    csq_image_release(&tmp);
    return CSQ_OK;
nomem:
    free(acc);
    free(bx);
    free(kx);
    free(by);
    free(ky);
    csq_image_release(&tmp);
    csq_image_release(dst);
    return csq_fail(CSQ_ENOMEM, "out of memory resizing a %dx%d image to %dx%d", src->w,
                    src->h, w, h);
}

int csq_resample_image(struct csq_image *dst, const struct csq_image *src, int w, int h)
{
    memset(dst, 0, sizeof *dst);
    if (w <= 0 || h <= 0)
        return csq_fail(CSQ_EINVAL, "image: cannot resize to %dx%d", w, h);
    return csq_resample_window(dst, src, w, h, 0, 0, w, h);
}

void csq_resample_dims(int w, int h, int n, int *ow, int *oh)
{
    int s = w <= h ? w : h, l = w <= h ? h : w;
    int nl = (int)((double)n * l / s);  /* Python int(n * long / short) */

    *ow = w <= h ? n : nl;
    *oh = w <= h ? nl : n;
}
