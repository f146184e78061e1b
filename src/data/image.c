/*
 * image: format dispatch and torchvision-equivalent preprocessing (see image.h).
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "data/image.h"
#include "data/jpeg.h"
#include "data/png.h"
#include "util/err.h"

int csq_image_fail(struct csq_image_msg *m, int code, const char *fmt, ...)
{
    va_list ap;
    char text[512];

    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    if (!m)
        return csq_fail(code, "%s", text);
    if (m->code == 0) {
        m->code = code;
        memcpy(m->text, text, sizeof m->text);
    }
    return code;
}

enum csq_image_format csq_image_sniff(const unsigned char *buf, size_t len)
{
    static const unsigned char sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};

    if (len >= 8 && memcmp(buf, sig, 8) == 0)
        return CSQ_IMAGE_PNG;
    if (len >= 3 && buf[0] == 0xff && buf[1] == 0xd8 && buf[2] == 0xff)
        return CSQ_IMAGE_JPEG;
    return CSQ_IMAGE_UNKNOWN;
}

int csq_image_decode(struct csq_image *img, const unsigned char *buf, size_t len,
                     const char *name, size_t max_pixels, struct csq_image_msg *m)
{
    memset(img, 0, sizeof *img);
    if (max_pixels == 0)
        max_pixels = CSQ_IMAGE_MAX_PIXELS_DEFAULT;
    switch (csq_image_sniff(buf, len)) {
    case CSQ_IMAGE_PNG:
        return csq_png_decode(img, buf, len, name, max_pixels, m);
    case CSQ_IMAGE_JPEG:
        return csq_jpeg_decode(img, buf, len, name, max_pixels, m);
    default:
        if (len == 0)
            return csq_image_fail(m, CSQ_EFORMAT, "image: '%s': empty file", name);
        return csq_image_fail(m, CSQ_EFORMAT, "image: '%s': not a PNG or JPEG file", name);
    }
}

/* The format a file name promises, from its extension. */
static enum csq_image_format by_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    const char *dot = strrchr(slash ? slash + 1 : path, '.');

    if (!dot)
        return CSQ_IMAGE_UNKNOWN;
    if (strcasecmp(dot, ".png") == 0)
        return CSQ_IMAGE_PNG;
    if (strcasecmp(dot, ".jpg") == 0 || strcasecmp(dot, ".jpeg") == 0)
        return CSQ_IMAGE_JPEG;
    return CSQ_IMAGE_UNKNOWN;
}

/* Whole-file read reporting through m (csq_file_read would use the shared
 * slot, which worker threads must not race on). */
static int slurp(const char *path, unsigned char **out, size_t *len, struct csq_image_msg *m)
{
    FILE *fp;
    struct stat st;
    unsigned char *buf;
    size_t n, got;

    *out = NULL;
    *len = 0;
    fp = fopen(path, "rb");
    if (!fp)
        return csq_image_fail(m, CSQ_EIO, "cannot open '%s': %s", path, strerror(errno));
    if (fstat(fileno(fp), &st) != 0 || !S_ISREG(st.st_mode)) {
        fclose(fp);
        return csq_image_fail(m, CSQ_EIO, "cannot read '%s': not a regular file", path);
    }
    n = (size_t)st.st_size;
    buf = malloc(n ? n : 1);
    if (!buf) {
        fclose(fp);
        return csq_image_fail(m, CSQ_ENOMEM, "out of memory reading '%s'", path);
    }
    got = fread(buf, 1, n, fp);
    if (got != n) {
        int e = ferror(fp) ? errno : 0;
        fclose(fp);
        free(buf);
        return csq_image_fail(m, CSQ_EIO, "cannot read '%s': %s", path,
                              e ? strerror(e) : "file shrank while reading");
    }
    fclose(fp);
    *out = buf;
    *len = n;
    return CSQ_OK;
}

int csq_image_load(struct csq_image *img, const char *path, size_t max_pixels,
                   struct csq_image_msg *m)
{
    static const char *fname[] = {"", "PNG", "JPEG"};
    unsigned char *buf;
    size_t len;
    int rc;
    enum csq_image_format want, got;

    memset(img, 0, sizeof *img);
    if ((rc = slurp(path, &buf, &len, m)) != 0)
        return rc;
    want = by_name(path);
    got = csq_image_sniff(buf, len);
    if (len == 0) {
        free(buf);
        return csq_image_fail(m, CSQ_EFORMAT, "image: '%s': empty file", path);
    }
    if (want != CSQ_IMAGE_UNKNOWN && got != want) {
        free(buf);
        if (got == CSQ_IMAGE_UNKNOWN)
            return csq_image_fail(m, CSQ_EFORMAT, "image: '%s': not a %s file", path,
                                  fname[want]);
        return csq_image_fail(m, CSQ_EFORMAT, "image: '%s': %s content in a file named as %s",
                              path, fname[got], fname[want]);
    }
    rc = csq_image_decode(img, buf, len, path, max_pixels, m);
    free(buf);
    return rc;
}

void csq_image_release(struct csq_image *img)
{
    free(img->px);
    memset(img, 0, sizeof *img);
}

static int alloc_px(struct csq_image *img, int w, int h, int c)
{
    img->w = w;
    img->h = h;
    img->c = c;
    img->px = malloc((size_t)w * h * c + 1);
    return img->px ? 0 : -1;
}

int csq_image_convert(struct csq_image *dst, const struct csq_image *src, int channels)
{
    size_t i, n = (size_t)src->w * src->h;
    const unsigned char *s = src->px;

    if (alloc_px(dst, src->w, src->h, channels) != 0)
        return csq_fail(CSQ_ENOMEM, "out of memory converting a %dx%d image", src->w, src->h);
    if (src->c == channels) {
        memcpy(dst->px, s, n * channels);
    } else if (channels == 3) {
        for (i = 0; i < n; i++)
            dst->px[3 * i] = dst->px[3 * i + 1] = dst->px[3 * i + 2] = s[i];
    } else {
        /* PIL's rgb2l: ITU-R 601-2 luma in 16-bit fixed point, rounded */
        for (i = 0; i < n; i++)
            dst->px[i] = (unsigned char)((s[3 * i] * 19595u + s[3 * i + 1] * 38470u
                                          + s[3 * i + 2] * 7471u + 0x8000u) >> 16);
    }
    return CSQ_OK;
}

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
 * cw x ch image: what cropping csq_image_resize's result gives, without
 * computing the pixels a center crop throws away. */
static int resize_window(struct csq_image *dst, const struct csq_image *src, int w, int h,
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
    if (alloc_px(dst, cw, ch, c))
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
        if (alloc_px(&tmp, cw, last - first, c))
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

int csq_image_resize(struct csq_image *dst, const struct csq_image *src, int w, int h)
{
    memset(dst, 0, sizeof *dst);
    if (w <= 0 || h <= 0)
        return csq_fail(CSQ_EINVAL, "image: cannot resize to %dx%d", w, h);
    return resize_window(dst, src, w, h, 0, 0, w, h);
}

void csq_image_resize_dims(int w, int h, int n, int *ow, int *oh)
{
    int s = w <= h ? w : h, l = w <= h ? h : w;
    int nl = (int)((double)n * l / s);  /* Python int(n * long / short) */

    *ow = w <= h ? n : nl;
    *oh = w <= h ? nl : n;
}

void csq_image_prep_init(struct csq_image_prep *p, int channels, int crop_h, int crop_w)
{
    static const float mean[3] = {0.485f, 0.456f, 0.406f}, std[3] = {0.229f, 0.224f, 0.225f};
    int i;

    memset(p, 0, sizeof *p);
    p->channels = channels;
    p->crop_h = crop_h;
    p->crop_w = crop_w;
    p->resize = crop_h > crop_w ? crop_h : crop_w;
    for (i = 0; i < 3; i++) {
        p->mean[i] = mean[i];
        p->std[i] = std[i];
    }
}

size_t csq_image_prep_size(const struct csq_image_prep *p)
{
    return (size_t)p->channels * p->crop_h * p->crop_w;
}

/* torchvision CenterCrop offset along one axis: input index = output + off.
 * Pads (negative offset) when the crop is larger; Python's round() is
 * half-to-even. */
static int crop_offset(int size, int crop)
{
    int d, k;

    if (crop > size)
        return -((crop - size) / 2);
    d = size - crop;
    k = d / 2;
    if (d % 2 && k % 2)
        k++;
    return k;
}

int csq_image_preprocess(const struct csq_image *img, const struct csq_image_prep *p,
                         float *out, const char *name, struct csq_image_msg *m)
{
    struct csq_image conv = {0}, rs = {0};
    const struct csq_image *cur = img;
    int rc = CSQ_OK, x, y, ch, top, left, rw, rh, x0, y0, x1, y1, v, xa, xb;
    size_t plane = (size_t)p->crop_h * p->crop_w;
    float lut[256];

    if ((p->channels != 1 && p->channels != 3) || p->crop_h <= 0 || p->crop_w <= 0
        || p->resize < 0)
        return csq_image_fail(m, CSQ_EINVAL, "image: '%s': bad preprocessing parameters", name);
    /* convert('L') comes before the resize in the PIL pipeline; gray -> RGB
     * replication commutes with it and is done at the end */
    if (img->c == 3 && p->channels == 1) {
        if ((rc = csq_image_convert(&conv, img, 1)) != 0)
            goto out;
        cur = &conv;
    }
    rw = cur->w;
    rh = cur->h;
    if (p->resize > 0) {
        csq_image_resize_dims(cur->w, cur->h, p->resize, &rw, &rh);
        if (rw < 1 || rh < 1) {
            rc = csq_image_fail(m, CSQ_EUNSUPPORTED, "image: '%s': %dx%d is too elongated to "
                                "resize to %d", name, img->w, img->h, p->resize);
            goto out;
        }
    }
    /* the crop window inside the rw x rh resized image; outside it is padding */
    top = crop_offset(rh, p->crop_h);
    left = crop_offset(rw, p->crop_w);
    y0 = top > 0 ? top : 0;
    x0 = left > 0 ? left : 0;
    y1 = top + p->crop_h < rh ? top + p->crop_h : rh;
    x1 = left + p->crop_w < rw ? left + p->crop_w : rw;
    if (rw != cur->w || rh != cur->h) {
        /* only the pixels the crop keeps; each equals the full resize's */
        if ((rc = resize_window(&rs, cur, rw, rh, x0, y0, x1 - x0, y1 - y0)) != 0)
            goto out;
        cur = &rs;
        top -= y0;
        left -= x0;
    }
    /* output columns [xa, xb) come from the image, the rest is padding */
    xa = left < 0 ? -left : 0;
    xb = cur->w - left < p->crop_w ? cur->w - left : p->crop_w;
    for (ch = 0; ch < p->channels; ch++) {
        int sc = cur->c == 1 ? 0 : ch;
        float mean = p->mean[ch], std = p->std[ch];
        float *o = out + ch * plane;
        /* ToTensor then Normalize, in float32 like torch; a byte has only
         * 256 results */
        float pad = (0.0f - mean) / std;
        for (v = 0; v < 256; v++)
            lut[v] = (v / 255.0f - mean) / std;
        for (y = 0; y < p->crop_h; y++) {
            int sy = y + top;
            float *orow = o + (size_t)y * p->crop_w;
            if (sy < 0 || sy >= cur->h) {
                for (x = 0; x < p->crop_w; x++)
                    orow[x] = pad;
                continue;
            }
            const unsigned char *sp = cur->px + ((size_t)sy * cur->w + xa + left) * cur->c + sc;
            for (x = 0; x < xa; x++)
                orow[x] = pad;
            for (; x < xb; x++, sp += cur->c)
                orow[x] = lut[*sp];
            for (; x < p->crop_w; x++)
                orow[x] = pad;
        }
    }
out:
    csq_image_release(&conv);
    csq_image_release(&rs);
    return rc;
}

int csq_image_load_prep(const char *path, const struct csq_image_prep *p, float *out,
                        struct csq_image_msg *m)
{
    struct csq_image img;
    int rc;

    if ((rc = csq_image_load(&img, path, p->max_pixels, m)) != 0)
        return rc;
    rc = csq_image_preprocess(&img, p, out, path, m);
    csq_image_release(&img);
    return rc;
}
