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

/* One pass along x (stride c) or y (stride w*c); out has out_n positions. */
static void pass_h(struct csq_image *out, const struct csq_image *in, int ksize,
                   const int *bounds, const int32_t *kk)
{
    int c = in->c, x, y, ch, t;

    for (y = 0; y < out->h; y++) {
        const unsigned char *row = in->px + (size_t)y * in->w * c;
        unsigned char *o = out->px + (size_t)y * out->w * c;
        for (x = 0; x < out->w; x++) {
            const int32_t *k = kk + (size_t)x * ksize;
            int xmin = bounds[2 * x], n = bounds[2 * x + 1];
            for (ch = 0; ch < c; ch++) {
                int32_t ss = 1 << (PRECISION_BITS - 1);
                for (t = 0; t < n; t++)
                    ss += row[(xmin + t) * c + ch] * k[t];
                o[x * c + ch] = clip8(ss);
            }
        }
    }
}

static void pass_v(struct csq_image *out, const struct csq_image *in, int ksize,
                   const int *bounds, const int32_t *kk)
{
    size_t rowlen = (size_t)in->w * in->c, i;
    int y, t;

    for (y = 0; y < out->h; y++) {
        const int32_t *k = kk + (size_t)y * ksize;
        int ymin = bounds[2 * y], n = bounds[2 * y + 1];
        unsigned char *o = out->px + y * rowlen;
        for (i = 0; i < rowlen; i++) {
            int32_t ss = 1 << (PRECISION_BITS - 1);
            for (t = 0; t < n; t++)
                ss += in->px[(size_t)(ymin + t) * rowlen + i] * k[t];
            o[i] = clip8(ss);
        }
    }
}

int csq_image_resize(struct csq_image *dst, const struct csq_image *src, int w, int h)
{
    struct csq_image tmp = {0};
    const struct csq_image *cur = src;
    int *bounds = NULL, ksize;
    int32_t *kk = NULL;

    memset(dst, 0, sizeof *dst);
    if (w <= 0 || h <= 0)
        return csq_fail(CSQ_EINVAL, "image: cannot resize to %dx%d", w, h);
    /* PIL: horizontal pass first (rounded to 8 bits), then vertical */
    if (w != src->w) {
        if ((ksize = coeffs(src->w, w, &bounds, &kk)) < 0 || alloc_px(&tmp, w, src->h, src->c))
            goto nomem;
        pass_h(&tmp, src, ksize, bounds, kk);
        free(bounds);
        free(kk);
        bounds = NULL;
        kk = NULL;
        cur = &tmp;
    }
    if (h != src->h) {
        if ((ksize = coeffs(src->h, h, &bounds, &kk)) < 0 || alloc_px(dst, w, h, src->c))
            goto nomem;
        pass_v(dst, cur, ksize, bounds, kk);
        free(bounds);
        free(kk);
        csq_image_release(&tmp);
        return CSQ_OK;
    }
    if (cur == &tmp) {
        *dst = tmp;
        return CSQ_OK;
    }
    if (alloc_px(dst, w, h, src->c))
        goto nomem;
    memcpy(dst->px, src->px, (size_t)w * h * src->c);
    return CSQ_OK;
nomem:
    free(bounds);
    free(kk);
    csq_image_release(&tmp);
    csq_image_release(dst);
    return csq_fail(CSQ_ENOMEM, "out of memory resizing a %dx%d image to %dx%d", src->w,
                    src->h, w, h);
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
    int rc = CSQ_OK, x, y, ch, top, left, rw, rh;
    size_t plane = (size_t)p->crop_h * p->crop_w;

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
    if (p->resize > 0) {
        csq_image_resize_dims(cur->w, cur->h, p->resize, &rw, &rh);
        if (rw < 1 || rh < 1) {
            rc = csq_image_fail(m, CSQ_EUNSUPPORTED, "image: '%s': %dx%d is too elongated to "
                                "resize to %d", name, img->w, img->h, p->resize);
            goto out;
        }
        if (rw != cur->w || rh != cur->h) {
            if ((rc = csq_image_resize(&rs, cur, rw, rh)) != 0)
                goto out;
            cur = &rs;
        }
    }
    top = crop_offset(cur->h, p->crop_h);
    left = crop_offset(cur->w, p->crop_w);
    for (ch = 0; ch < p->channels; ch++) {
        int sc = cur->c == 1 ? 0 : ch;
        float mean = p->mean[ch], std = p->std[ch];
        float *o = out + ch * plane;
        /* ToTensor then Normalize, in float32 like torch */
        float pad = (0.0f - mean) / std;
        for (y = 0; y < p->crop_h; y++) {
            int sy = y + top;
            for (x = 0; x < p->crop_w; x++) {
                int sx = x + left;
                if (sy < 0 || sy >= cur->h || sx < 0 || sx >= cur->w) {
                    o[(size_t)y * p->crop_w + x] = pad;
                    continue;
                }
                float v = cur->px[((size_t)sy * cur->w + sx) * cur->c + sc] / 255.0f;
                o[(size_t)y * p->crop_w + x] = (v - mean) / std;
            }
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
