/*
 * image: one decoded picture and the preprocessing that turns it into a
 * model input, exactly as torchvision does on a PIL image:
 *     convert('RGB' | 'L') -> Resize(N) -> CenterCrop(HxW) -> ToTensor -> Normalize
 *
 * Pixels are 8-bit, interleaved (HWC), 1 (gray) or 3 (RGB) channels; alpha
 * is dropped and 16-bit samples keep their high byte.  Decoding is
 * decode.h's job, resizing resample.h's.
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

void csq_image_release(struct csq_image *img);
/* Pixel memory for a w x h x c image (old pixels are not freed); 0 or -1. */
int csq_image_alloc(struct csq_image *img, int w, int h, int c);

/* To 1 channel (PIL convert('L') luma) or 3 (gray replicated); dst is new. */
int csq_image_convert(struct csq_image *dst, const struct csq_image *src, int channels);
/* crop h x w, resize max(h, w) (DESIGN: the default resize is the crop
 * size), ImageNet mean and std, default max_pixels. */
void csq_image_prep_init(struct csq_image_prep *p, int channels, int crop_h, int crop_w);
/* Floats per preprocessed image: channels * crop_h * crop_w. */
size_t csq_image_prep_size(const struct csq_image_prep *p);
/* Preprocess a decoded image into out (CHW float32, csq_image_prep_size floats). */
int csq_image_preprocess(const struct csq_image *img, const struct csq_image_prep *p,
                         float *out, const char *name, struct csq_image_msg *m);
/* csq_decode_file + csq_image_preprocess. */
int csq_image_load_prep(const char *path, const struct csq_image_prep *p, float *out,
                        struct csq_image_msg *m);

#endif
