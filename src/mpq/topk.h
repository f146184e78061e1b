/*
 * topk: top-1 / top-5 accuracy of logits against labels, and the
 * predicted class of each image.
 */
#ifndef CSQ_TOPK_H
#define CSQ_TOPK_H

#include <stddef.h>

#include "nn/graph.h"

struct csq_topk {
    size_t images;
    size_t top1, top5;      /* correct counts */
};

/* Score logits (n x classes, float32) against labels[n]; pred[n] (may be
 * NULL) gets each argmax.  Ties go to the lower class index, as
 * torch.argmax / topk do on CPU.  Fails when a label is outside the
 * logits or the logits are not 2-D. */
int csq_topk_add(struct csq_topk *acc, const struct csq_tensor *logits,
                 const int *labels, int *pred);

#endif
