/*
 * feed: loader batches through the engine (see feed.h).
 */
#include "config.h"

#include <string.h>

#include "mpq/feed.h"
#include "util/err.h"

int csq_feed_run(struct csq_feed *f)
{
    struct csq_batch b;
    struct csq_tensor x;
    size_t total = csq_loader_count(f->loader);
    int rc;

    f->images = 0;
    while ((rc = csq_loader_next(f->loader, &b)) == CSQ_OK && b.n > 0) {
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
        csq_progress_report(f->progress, f->what, f->images, total);
    }
    /* Skipped images never arrive: end the report all the same. */
    if (rc == CSQ_OK && f->images < total)
        csq_progress_report(f->progress, f->what, total, total);
    return rc;
}
