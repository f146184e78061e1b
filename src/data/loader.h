/*
 * loader: preprocessed float32 NCHW batches from a dataset, decoded by
 * worker threads ahead of the consumer.
 *
 * Workers decode up to one batch ahead into a ring of per-image
 * slots; csq_loader_next() takes images strictly in dataset order, so the
 * batches (contents, labels, paths, skipped images, the message of a
 * failure) never depend on thread timing.  While the caller runs the model
 * on one batch, the next ones are being decoded.
 *
 * Bad images: by default the first one (in dataset order) fails
 * csq_loader_next() with its message, naming the file.  With skip_bad it
 * is reported to the warn callback (called from the thread calling
 * csq_loader_next, in dataset order; the library never prints), skipped,
 * and counted (csq_loader_skipped).  Out-of-memory is always fatal.
 *
 * Ownership: the loader borrows ds and copies p and o; ds must outlive it.
 * Batch memory belongs to the loader and is valid until the next call.
 *
 *     struct csq_loader *ld;
 *     struct csq_batch b;
 *     if ((rc = csq_loader_open(&ld, &ds, &prep, &opts)) != 0) return rc;
 *     while ((rc = csq_loader_next(ld, &b)) == 0 && b.n > 0)
 *         run(b.data, b.n, b.labels);
 *     csq_loader_close(ld);
 */
#ifndef CSQ_LOADER_H
#define CSQ_LOADER_H

#include <stddef.h>

#include "data/dataset.h"
#include "data/image.h"

struct csq_loader;

struct csq_loader_opts {
    int batch;              /* images per batch, >= 1 */
    int threads;            /* decoding threads; 0 = online CPUs */
    int skip_bad;           /* warn and skip bad images instead of failing */
    size_t limit;           /* deliver only the first limit images; 0 = all */
    void (*warn)(void *ctx, const char *msg);
    void *warn_ctx;
};

struct csq_batch {
    int n;                      /* images in this batch; 0 once all are delivered */
    int c, h, w;                /* per-image shape (prep channels, crop) */
    const float *data;          /* (n, c, h, w) */
    const int *labels;          /* (n) dataset labels (-1: unlabeled) */
    const char *const *paths;   /* (n) the dataset's paths */
    const size_t *index;        /* (n) dataset indices */
};

/* batch 32, threads 0, skip_bad 0, no callback. */
void csq_loader_opts_init(struct csq_loader_opts *o);
int csq_loader_open(struct csq_loader **out, const struct csq_dataset *ds,
                    const struct csq_image_prep *p, const struct csq_loader_opts *o);
/* The next batch; b->n == 0 at the end.  After a failure every later call
 * fails with the same status. */
int csq_loader_next(struct csq_loader *ld, struct csq_batch *b);
/* Images the loader delivers at most (the dataset's, or the limit). */
size_t csq_loader_count(const struct csq_loader *ld);
/* Images skipped so far (skip_bad). */
size_t csq_loader_skipped(const struct csq_loader *ld);
/* Stops the workers and frees everything; NULL is fine. */
void csq_loader_close(struct csq_loader *ld);

#endif
