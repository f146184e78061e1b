/*
 * feed: loader batches through the engine (see feed.h).
 */
#include "config.h"

#include <string.h>

#include "mpq/feed.h"
#include "util/dist.h"
#include "util/err.h"

static int one_batch(struct csq_feed *f, const struct csq_batch *bp)
{
    struct csq_batch b = *bp;
    struct csq_tensor x;
    int rc;

    memset(&x, 0, sizeof x);
    x.dtype = CSQ_DT_FLOAT;
    x.rank = 4;
    x.dims[0] = b.n;
    x.dims[1] = b.c;
    x.dims[2] = b.h;
    x.dims[3] = b.w;
    x.data = (void *)b.data;    /* the engine only reads its inputs */
    if (f->before && (rc = f->before(f->user, &b)) != 0)
        return rc;
    if ((rc = csq_engine_forward(f->engine, &x)) != 0)
        return rc;
    if (f->after && (rc = f->after(f->user, &b, csq_engine_output(f->engine, 0))) != 0)
        return rc;
    f->images += (size_t)b.n;
    return CSQ_OK;
}

/* Batches split over the ranks, round by round (see feed.h). */
static int split_run(struct csq_feed *f)
{
    struct csq_batch b;
    size_t total = csq_loader_count(f->loader), seen = 0;
    int size = csq_dist_size(), me = csq_dist_rank(), rc = CSQ_OK, mine = CSQ_OK, k = 0, more;

    f->images = 0;
    do {
        more = (rc = csq_loader_next(f->loader, &b)) == CSQ_OK && b.n > 0;
        if (more) {
            if (k % size == me && mine == CSQ_OK)
                mine = one_batch(f, &b);
            seen += (size_t)b.n;
            k++;
            csq_progress_report(f->progress, f->what, seen, total);
        }
        if (k > 0 && ((more && k % size == 0) || (!more && k % size != 0))) {
            if ((mine = csq_dist_agree(rc != CSQ_OK ? rc : mine)) != CSQ_OK)
                return mine;
            if (f->round && (mine = f->round(f->user)) != CSQ_OK)
                return mine;
        }
    } while (more);
    if (rc == CSQ_OK && seen < total)
        csq_progress_report(f->progress, f->what, total, total);
    return rc;
}

int csq_feed_run(struct csq_feed *f)
{
    struct csq_batch b;
    size_t total = csq_loader_count(f->loader);
    int rc;

    if (f->split && csq_dist_size() > 1)
        return split_run(f);
    f->images = 0;
    while ((rc = csq_loader_next(f->loader, &b)) == CSQ_OK && b.n > 0) {
        if ((rc = one_batch(f, &b)) != 0)
            return rc;
        csq_progress_report(f->progress, f->what, f->images, total);
    }
    /* Skipped images never arrive: end the report all the same. */
    if (rc == CSQ_OK && f->images < total)
        csq_progress_report(f->progress, f->what, total, total);
    return rc;
}
