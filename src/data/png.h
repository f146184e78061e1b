/*
 * png: the libpng adapter, the only file that includes <png.h>.
 *
 * Decodes every PNG flavour (gray, gray+alpha, RGB, RGBA, palette with or
 * without tRNS; 1/2/4/8/16 bits; Adam7) to 8-bit gray or RGB as PIL's
 * convert('L') / convert('RGB') sees it: low bit depths scaled to 0..255,
 * 16-bit samples cut to their high byte, alpha dropped, no gamma applied.
 * libpng's longjmp never leaves png.c.
 *
 *     rc = csq_png_decode(&img, buf, len, path, max_pixels, NULL);
 */
#ifndef CSQ_PNG_H
#define CSQ_PNG_H

#include <stddef.h>

#include "data/image.h"

/* img is filled on success (caller releases); on failure it is empty and
 * the message names `name`.  Images over max_pixels fail with
 * CSQ_EUNSUPPORTED before any pixel memory is allocated. */
int csq_png_decode(struct csq_image *img, const unsigned char *buf, size_t len,
                   const char *name, size_t max_pixels, struct csq_image_msg *m);

#endif
