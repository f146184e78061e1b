/*
 * source: the images a pass reads, as the user named them: a folder or a
 * list file, with the selection (labels file, images per class, seed), the
 * preprocessing resolved for one model, and the loader settings.  Every
 * pipeline that reads images (score, eval, calibration) takes one.
 *
 * Ownership: csq_source_open fills caller storage that csq_source_release
 * frees; loaders opened from a source borrow it.  Options are copied, their
 * strings borrowed.
 *
 *     struct csq_source_opts o;  csq_source_opts_init(&o);  o.dir = "calib/";
 *     struct csq_source s;
 *     if ((rc = csq_source_open(&s, g, &o, 1)) != 0) return rc;
 *     rc = csq_source_loader(&s, 0, &ld);  ...  csq_loader_close(ld);
 *     csq_source_release(&s);
 */
#ifndef CSQ_SOURCE_H
#define CSQ_SOURCE_H

#include <stddef.h>
#include <stdint.h>

#include "data/dataset.h"
#include "data/loader.h"
#include "data/modelprep.h"
#include "nn/graph.h"

struct csq_source_opts {
    const char *dir;                /* an image folder, or */
    const char *list;               /* a list file ("-" = stdin) */
    const char *labels;             /* class names in output order, or NULL */
    long per_class;                 /* 0: all images */
    int seeded;
    uint64_t seed;
    struct csq_prep_request prep;   /* what the user asked for; the rest from the model */
    struct csq_loader_opts loader;  /* batch, decoding threads, skip_bad, warn */
};

struct csq_source {
    const char *name;               /* the folder or list, for messages */
    int labels_given;               /* a labels file fixed the class mapping */
    struct csq_dataset ds;
    struct csq_image_prep ip;
    struct csq_loader_opts lo;
};

void csq_source_opts_init(struct csq_source_opts *o);
/* Scan the images (need_labels: every image needs a class) and resolve
 * their preprocessing for g's input.  No images is an error. */
int csq_source_open(struct csq_source *s, const struct csq_graph *g,
                    const struct csq_source_opts *o, int need_labels);
/* A loader over the first limit images (0 = all), in dataset order. */
int csq_source_loader(const struct csq_source *s, size_t limit, struct csq_loader **out);
void csq_source_release(struct csq_source *s);
/* A source over want images of s evenly spaced in dataset order (image
 * floor(i n / want) of its n; all when want is 0 or >= n), so that a
 * class-sorted folder gives every class its share.  It borrows s's paths
 * and class names: release it with csq_source_spread_release before s. */
int csq_source_spread(const struct csq_source *s, size_t want, struct csq_source *sub);
void csq_source_spread_release(struct csq_source *sub);

#endif
