/*
 * decode: a file or buffer to a struct csq_image.  The format comes from the
 * content (PNG signature, JPEG SOI marker) and goes to its adapter (png.c,
 * jpeg.c); a known extension (.png, .jpg, .jpeg) that does not match the
 * content is an error naming the file.  The declared size is checked
 * against max_pixels before any pixel memory is allocated.  Messages as in
 * image.h (through m when not NULL).
 */
#ifndef CSQ_DECODE_H
#define CSQ_DECODE_H

#include <stddef.h>

#include "data/image.h"

enum csq_image_format { CSQ_IMAGE_UNKNOWN = 0, CSQ_IMAGE_PNG, CSQ_IMAGE_JPEG };

/* Format from the first bytes (PNG signature, JPEG SOI marker). */
enum csq_image_format csq_decode_sniff(const unsigned char *buf, size_t len);

/* Decode a PNG or JPEG held in memory; name is only used in messages. */
int csq_decode_mem(struct csq_image *img, const unsigned char *buf, size_t len,
                   const char *name, size_t max_pixels, struct csq_image_msg *m);
/* Read and decode a file, checking its extension against its content. */
int csq_decode_file(struct csq_image *img, const char *path, size_t max_pixels,
                    struct csq_image_msg *m);

#endif
