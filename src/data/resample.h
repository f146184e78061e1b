/*
 * resample: PIL's Image.resize(BILINEAR) on 8-bit images, pixel for pixel
 * (antialiased when shrinking, as PIL's Resample.c), and torchvision's
 * Resize(n) output size.
 */
#ifndef CSQ_RESAMPLE_H
#define CSQ_RESAMPLE_H

#include "data/image.h"

/* PIL Image.resize(BILINEAR) (antialiased when shrinking); dst is new. */
int csq_resample_image(struct csq_image *dst, const struct csq_image *src, int w, int h);
/* torchvision Resize(n) output size: shorter side n, longer int(n*long/short). */
void csq_resample_dims(int w, int h, int n, int *ow, int *oh);
/* The window [x0, x0 + cw) x [y0, y0 + ch) of src resized to w x h, as a
 * cw x ch image: what cropping csq_resample_image's result gives, without
 * computing the pixels a center crop throws away; dst is new. */
int csq_resample_window(struct csq_image *dst, const struct csq_image *src, int w, int h,
                        int x0, int y0, int cw, int ch);

#endif
