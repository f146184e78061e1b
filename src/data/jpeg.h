/*
 * jpeg: the libjpeg-turbo adapter, the only file that includes <jpeglib.h>.
 *
 * Decodes baseline and progressive JPEGs, gray or YCbCr, with the library
 * defaults PIL uses too (islow DCT, fancy upsampling), so pixels agree with
 * PIL.  CMYK / YCCK files are refused (CSQ_EUNSUPPORTED).  A truncated file
 * is an error (libjpeg only warns and pads with gray); other corrupt-data
 * warnings are ignored, as PIL does.  libjpeg's longjmp never leaves jpeg.c
 * and its messages are never printed.
 *
 *     rc = csq_jpeg_decode(&img, buf, len, path, max_pixels, NULL);
 */
#ifndef CSQ_JPEG_H
#define CSQ_JPEG_H

#include <stddef.h>

#include "data/image.h"

/* Same contract as csq_png_decode. */
int csq_jpeg_decode(struct csq_image *img, const unsigned char *buf, size_t len,
                    const char *name, size_t max_pixels, struct csq_image_msg *m);

#endif
