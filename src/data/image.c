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

#include "data/decode.h"
#include "data/image.h"
#include "data/resample.h"
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

void csq_image_release(struct csq_image *img)
{
    free(img->px);
    memset(img, 0, sizeof *img);
}

int csq_image_alloc(struct csq_image *img, int w, int h, int c)
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

    if (csq_image_alloc(dst, src->w, src->h, channels) != 0)
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
        csq_resample_dims(cur->w, cur->h, p->resize, &rw, &rh);
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
        if ((rc = csq_resample_window(&rs, cur, rw, rh, x0, y0, x1 - x0, y1 - y0)) != 0)
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

    if ((rc = csq_decode_file(&img, path, p->max_pixels, m)) != 0)
        return rc;
    rc = csq_image_preprocess(&img, p, out, path, m);
    csq_image_release(&img);
    return rc;
}
