/*
 * feed: runs a model over a dataset, one loader batch at a time, calling
 * the caller before and after each forward pass.  Taps registered on the
 * engine see the same batch between the two calls.
 *
 *     struct csq_feed f = { .engine = e, .loader = ld, .after = fn, .user = u };
 *     rc = csq_feed_run(&f);
 */
#ifndef CSQ_FEED_H
#define CSQ_FEED_H

#include <stddef.h>

#include "data/loader.h"
#include "nn/engine.h"
#include "util/progress.h"

struct csq_feed {
    struct csq_engine *engine;
    struct csq_loader *loader;
    /* Both optional; a non-zero status stops the run and is returned. */
    int (*before)(void *user, const struct csq_batch *b);
    int (*after)(void *user, const struct csq_batch *b, const struct csq_tensor *logits);
    void *user;
    /* Optional progress report, named what. */
    const struct csq_progress *progress;
    const char *what;
    size_t images;          /* out: images that went through (this rank's) */
    /* Under MPI (util/dist.h) with split set, batch k goes through the
     * engine (and before / after) on rank k % ranks only; every rank reads
     * every batch, so a round of `ranks` consecutive batches ends on all
     * ranks together: they agree on a status (a failing rank stops all
     * with its message) and round(user), when set, combines the round. */
    int split;
    int (*round)(void *user);
};

int csq_feed_run(struct csq_feed *f);

#endif
