/*
 * jpeg: libjpeg-turbo adapter (see jpeg.h).
 */
#include "config.h"

#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>
#include <jerror.h>

#include "data/jpeg.h"
#include "util/err.h"
#include "util/limits.h"

/* Error manager first, so libjpeg's pointer to it is a pointer to us; the
 * pixel buffer lives here so longjmp cannot clobber it. */
struct ctx {
    struct jpeg_error_mgr pub;
    jmp_buf jb;
    int code;
    char why[JMSG_LENGTH_MAX + 64];
    unsigned char *px;
};

static void on_error_exit(j_common_ptr ci)
{
    struct ctx *cx = (struct ctx *)ci->err;

    ci->err->format_message(ci, cx->why);
    longjmp(cx->jb, 1);
}

static void on_message(j_common_ptr ci, int level)
{
    struct ctx *cx = (struct ctx *)ci->err;

    if (level == -1 && ci->err->msg_code == JWRN_JPEG_EOF) {
        snprintf(cx->why, sizeof cx->why, "truncated file");
        longjmp(cx->jb, 1);
    }
}

int csq_jpeg_decode(struct csq_image *img, const unsigned char *buf, size_t len,
                    const char *name, size_t max_pixels, struct csq_image_msg *m)
{
    struct jpeg_decompress_struct ci;
    struct ctx cx;
    size_t stride;
    JSAMPROW row;

    memset(img, 0, sizeof *img);
    memset(&cx, 0, sizeof cx);
    if (len < 3 || buf[0] != 0xff || buf[1] != 0xd8 || buf[2] != 0xff)
        return csq_image_fail(m, CSQ_EFORMAT, "jpeg: '%s': not a JPEG file", name);
    cx.code = CSQ_EFORMAT;
    ci.err = jpeg_std_error(&cx.pub);
    cx.pub.error_exit = on_error_exit;
    cx.pub.emit_message = on_message;
    if (setjmp(cx.jb)) {
        jpeg_destroy_decompress(&ci);
        free(cx.px);
        return csq_image_fail(m, cx.code, "jpeg: '%s': %s", name, cx.why);
    }
    jpeg_create_decompress(&ci);
    jpeg_mem_src(&ci, buf, (unsigned long)len);
    jpeg_read_header(&ci, TRUE);
    if ((size_t)ci.image_width * ci.image_height > max_pixels) {
        cx.code = CSQ_EUNSUPPORTED;
        snprintf(cx.why, sizeof cx.why, "%ux%u pixels is over the limit of %zu",
                 (unsigned)ci.image_width, (unsigned)ci.image_height, max_pixels);
        longjmp(cx.jb, 1);
    }
    if ((uint64_t)ci.image_width * ci.image_height * (ci.num_components == 1 ? 1 : 3)
        > csq_limit_memory()) {
        cx.code = CSQ_ELIMIT;
        snprintf(cx.why, sizeof cx.why, "%ux%u pixels need more than the memory "
                 "limit of %.1f MiB", (unsigned)ci.image_width, (unsigned)ci.image_height,
                 csq_limit_memory() / 1048576.0);
        longjmp(cx.jb, 1);
    }
    if (ci.jpeg_color_space == JCS_CMYK || ci.jpeg_color_space == JCS_YCCK) {
        cx.code = CSQ_EUNSUPPORTED;
        snprintf(cx.why, sizeof cx.why, "CMYK JPEG is not supported");
        longjmp(cx.jb, 1);
    }
    ci.out_color_space = ci.num_components == 1 ? JCS_GRAYSCALE : JCS_RGB;
    jpeg_start_decompress(&ci);
    stride = (size_t)ci.output_width * ci.output_components;
    cx.px = malloc(stride * ci.output_height);
    if (!cx.px) {
        cx.code = CSQ_ENOMEM;
        snprintf(cx.why, sizeof cx.why, "out of memory for %ux%u pixels",
                 (unsigned)ci.output_width, (unsigned)ci.output_height);
        longjmp(cx.jb, 1);
    }
    while (ci.output_scanline < ci.output_height) {
        row = cx.px + ci.output_scanline * stride;
        jpeg_read_scanlines(&ci, &row, 1);
    }
    jpeg_finish_decompress(&ci);
    img->w = (int)ci.output_width;
    img->h = (int)ci.output_height;
    img->c = ci.output_components;
    img->px = cx.px;
    jpeg_destroy_decompress(&ci);
    return CSQ_OK;
}
