/*
 * modelprep: the preprocessing a model gets, from three sources in order
 * of precedence: the command line, the model's metadata_props
 * (csmpq.mean, csmpq.std, csmpq.resize, csmpq.crop), and defaults (crop =
 * the model's static input H x W, resize = the crop's larger side,
 * ImageNet mean / std; for 1-channel models the mean of ImageNet's three
 * values, 0.449 / 0.226).
 */
#ifndef CSQ_MODELPREP_H
#define CSQ_MODELPREP_H

#include <stddef.h>

#include "data/image.h"
#include "nn/graph.h"

/* What the command line asked for; zero / empty fields were not given. */
struct csq_prep_request {
    int resize;
    int crop_h, crop_w;
    const char *mean;       /* "a,b,c" or "a"; NULL = not given */
    const char *std;
    size_t max_pixels;
};

/* Fill *p for the first input of g.  Errors name the option or the
 * metadata key and the model. */
int csq_modelprep_resolve(const struct csq_graph *g, const struct csq_prep_request *req,
                          struct csq_image_prep *p);
/* Parse "H" or "HxW" (positive); 0 on success. */
int csq_modelprep_parse_hw(const char *s, int *h, int *w);

#endif
