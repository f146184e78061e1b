/*
 * png: libpng adapter (see png.h).
 */
#include "config.h"

#include <png.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/png.h"
#include "util/err.h"
#include "util/limits.h"

/* Everything the error handler and the cleanup need, kept out of locals so
 * nothing is clobbered by libpng's longjmp. */
struct ctx {
    const unsigned char *buf;
    size_t len, pos;
    char why[200];
    int code;
    unsigned char *px;
    png_bytep *rows;
};

static void on_read(png_structp png, png_bytep out, size_t n)
{
    struct ctx *cx = png_get_io_ptr(png);

    if (cx->len - cx->pos < n)
        png_error(png, "truncated file");
    memcpy(out, cx->buf + cx->pos, n);
    cx->pos += n;
}

static void on_error(png_structp png, png_const_charp msg)
{
    struct ctx *cx = png_get_error_ptr(png);

    snprintf(cx->why, sizeof cx->why, "%s", msg);
    png_longjmp(png, 1);
}

/* Warnings (bad ancillary chunks, unknown sRGB profiles...) are not errors;
 * PIL ignores them too, and library code never prints. */
static void on_warning(png_structp png, png_const_charp msg)
{
    (void)png;
    (void)msg;
}

int csq_png_decode(struct csq_image *img, const unsigned char *buf, size_t len,
                   const char *name, size_t max_pixels, struct csq_image_msg *m)
{
    struct ctx cx;
    png_structp png;
    png_infop info;
    png_uint_32 w, h;
    int depth, ctype, interlace, ch;
    size_t rowbytes, y;

    memset(img, 0, sizeof *img);
    memset(&cx, 0, sizeof cx);
    cx.buf = buf;
    cx.len = len;
    cx.code = CSQ_EFORMAT;
    if (len < 8 || png_sig_cmp(buf, 0, 8) != 0)
        return csq_image_fail(m, CSQ_EFORMAT, "png: '%s': not a PNG file", name);
    png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &cx, on_error, on_warning);
    if (!png)
        return csq_image_fail(m, CSQ_ENOMEM, "png: '%s': out of memory", name);
    info = png_create_info_struct(png);
    if (!info) {
        png_destroy_read_struct(&png, NULL, NULL);
        return csq_image_fail(m, CSQ_ENOMEM, "png: '%s': out of memory", name);
    }
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_read_struct(&png, &info, NULL);
        free(cx.rows);
        free(cx.px);
        return csq_image_fail(m, cx.code, "png: '%s': %s", name, cx.why);
    }
    png_set_read_fn(png, &cx, on_read);
    png_read_info(png, info);
    png_get_IHDR(png, info, &w, &h, &depth, &ctype, &interlace, NULL, NULL);
    if ((size_t)w * h > max_pixels) {
        cx.code = CSQ_EUNSUPPORTED;
        snprintf(cx.why, sizeof cx.why, "%ux%u pixels is over the limit of %zu",
                 (unsigned)w, (unsigned)h, max_pixels);
        png_longjmp(png, 1);
    }
    if ((uint64_t)w * h * (ctype & PNG_COLOR_MASK_COLOR ? 3 : 1) > csq_limit_memory()) {
        cx.code = CSQ_ELIMIT;
        snprintf(cx.why, sizeof cx.why, "%ux%u pixels need more than the memory "
                 "limit of %.1f MiB", (unsigned)w, (unsigned)h, csq_limit_memory() / 1048576.0);
        png_longjmp(png, 1);
    }
    if (depth == 16)
        png_set_strip_16(png);          /* high byte, as PIL's "RGB;16B" unpacker */
    if (ctype == PNG_COLOR_TYPE_PALETTE)
        png_set_palette_to_rgb(png);
    if (ctype == PNG_COLOR_TYPE_GRAY && depth < 8)
        png_set_expand_gray_1_2_4_to_8(png);
    if (ctype & PNG_COLOR_MASK_ALPHA || png_get_valid(png, info, PNG_INFO_tRNS))
        png_set_strip_alpha(png);
    png_set_interlace_handling(png);
    png_read_update_info(png, info);
    ch = png_get_channels(png, info);
    rowbytes = png_get_rowbytes(png, info);
    if ((ch != 1 && ch != 3) || rowbytes != (size_t)w * ch) {
        cx.code = CSQ_EUNSUPPORTED;
        snprintf(cx.why, sizeof cx.why, "unexpected layout after conversion (%d channels)", ch);
        png_longjmp(png, 1);
    }
    cx.px = malloc(rowbytes * h);
    cx.rows = malloc(sizeof *cx.rows * h);
    if (!cx.px || !cx.rows) {
        cx.code = CSQ_ENOMEM;
        snprintf(cx.why, sizeof cx.why, "out of memory for %ux%u pixels", (unsigned)w,
                 (unsigned)h);
        png_longjmp(png, 1);
    }
    for (y = 0; y < h; y++)
        cx.rows[y] = cx.px + y * rowbytes;
    png_read_image(png, cx.rows);
    png_destroy_read_struct(&png, &info, NULL);
    free(cx.rows);
    img->w = (int)w;
    img->h = (int)h;
    img->c = ch;
    img->px = cx.px;
    return CSQ_OK;
}
