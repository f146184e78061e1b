/*
 * image: one decoded picture and the preprocessing that turns it into a
 * model input, exactly as torchvision does on a PIL image:
 *     convert('RGB' | 'L') -> Resize(N) -> CenterCrop(HxW) -> ToTensor -> Normalize
 *
 * Pixels are 8-bit, interleaved (HWC), 1 (gray) or 3 (RGB) channels; alpha
 * is dropped and 16-bit samples keep their high byte.  Decoding picks PNG or
 * JPEG from the content; a known extension (.png, .jpg, .jpeg) that does
 * not match the content is an error naming the file.  The declared size is
 * checked against max_pixels before any pixel memory is allocated.
 *
 * Ownership: a struct csq_image owns px; csq_image_release() frees it and
 * leaves an empty image.  Output tensors are caller memory.
 *
 *     struct csq_image_prep p;
 *     csq_image_prep_init(&p, 3, 224, 224);    (resize 224, ImageNet mean/std)
 *     p.resize = 256;
 *     rc = csq_image_load_prep(path, &p, batch + i * csq_image_prep_size(&p), NULL);
 *
 * Errors: functions taking a struct csq_image_msg *m record their one
 * message there when m is not NULL (so worker threads can report per image
 * without racing on the shared error slot) and with csq_fail() when m is NULL.
 */
#ifndef CSQ_IMAGE_H
#define CSQ_IMAGE_H

#include <stddef.h>

#include "util/err.h"

/* Default --max-pixels: 64 Mi pixels (w * h), far above any dataset image. */
#define CSQ_IMAGE_MAX_PIXELS_DEFAULT ((size_t)64 * 1024 * 1024)

struct csq_image {
    int w, h, c;            /* c is 1 or 3 */
    unsigned char *px;      /* (h, w, c), owned */
};

/* A failed call's status and one-line message (for per-image reporting). */
struct csq_image_msg {
    int code;
    char text[512];
};

enum csq_image_format { CSQ_IMAGE_UNKNOWN = 0, CSQ_IMAGE_PNG, CSQ_IMAGE_JPEG };

struct csq_image_prep {
    int resize;             /* shorter side after resize; 0 = no resize */
    int crop_h, crop_w;     /* center crop; padded with zeros when larger */
    int channels;           /* 1 (luma) or 3 (RGB) */
    float mean[3], std[3];  /* per output channel, on the [0,1] scale */
    size_t max_pixels;      /* 0 = CSQ_IMAGE_MAX_PIXELS_DEFAULT */
};

/* Record a message in m (if not NULL and still empty) or in the global slot;
 * returns code.  Shared by png.c, jpeg.c and image.c. */
int csq_image_fail(struct csq_image_msg *m, int code, const char *fmt, ...) CSQ_PRINTF(3, 4);

/* Format from the first bytes (PNG signature, JPEG SOI marker). */
enum csq_image_format csq_image_sniff(const unsigned char *buf, size_t len);

/* Decode a PNG or JPEG held in memory; name is only used in messages. */
int csq_image_decode(struct csq_image *img, const unsigned char *buf, size_t len,
                     const char *name, size_t max_pixels, struct csq_image_msg *m);
/* Read and decode a file, checking its extension against its content. */
int csq_image_load(struct csq_image *img, const char *path, size_t max_pixels,
                   struct csq_image_msg *m);
void csq_image_release(struct csq_image *img);

/* To 1 channel (PIL convert('L') luma) or 3 (gray replicated); dst is new. */
int csq_image_convert(struct csq_image *dst, const struct csq_image *src, int channels);
/* PIL Image.resize(BILINEAR) (antialiased when shrinking); dst is new. */
int csq_image_resize(struct csq_image *dst, const struct csq_image *src, int w, int h);
/* torchvision Resize(n) output size: shorter side n, longer int(n*long/short). */
void csq_image_resize_dims(int w, int h, int n, int *ow, int *oh);

/* crop h x w, resize max(h, w) (DESIGN: the default resize is the crop
 * size), ImageNet mean and std, default max_pixels. */
void csq_image_prep_init(struct csq_image_prep *p, int channels, int crop_h, int crop_w);
/* Floats per preprocessed image: channels * crop_h * crop_w. */
size_t csq_image_prep_size(const struct csq_image_prep *p);
/* Preprocess a decoded image into out (CHW float32, csq_image_prep_size floats). */
int csq_image_preprocess(const struct csq_image *img, const struct csq_image_prep *p,
                         float *out, const char *name, struct csq_image_msg *m);
/* csq_image_load + csq_image_preprocess. */
int csq_image_load_prep(const char *path, const struct csq_image_prep *p, float *out,
                        struct csq_image_msg *m);

#endif
