/* loader: batches hold exactly what csq_image_load_prep gives per image, in
 * dataset order, whatever the thread count; bad images fail or are skipped
 * deterministically; closing early does not hang. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "data/loader.h"
#include "fixture.h"
#include "tap.h"
#include "util/err.h"

static const char *decode_names[] = {
    "gray1.png", "gray16.png", "graya8.png", "rgb8.png", "rgba8.png", "pal4-trns.png",
    "rgb8-interlaced.png", "rgb.jpg", "rgb-progressive.jpg", "gray.jpg", "prep-rgb.png",
    "prep-tall.png", "prep-gray28.png",
};

/* A dataset over fixture images, paths owned (released by csq_dataset_release). */
static void make_ds(struct csq_dataset *ds, const char **names, size_t n)
{
    size_t i;
    char rel[256];

    memset(ds, 0, sizeof *ds);
    ds->n = n;
    ds->paths = calloc(n, sizeof *ds->paths);
    ds->labels = calloc(n, sizeof *ds->labels);
    for (i = 0; i < n; i++) {
        snprintf(rel, sizeof rel, "images/%s", names[i]);
        ds->paths[i] = strdup(fx_path(rel));
        ds->labels[i] = (int)(i % 5);
    }
}

/* Runs the whole dataset; 1 when every image matches its direct result. */
static int run_all(const struct csq_dataset *ds, const struct csq_image_prep *p, int batch,
                   int threads, size_t *nbatches)
{
    struct csq_loader_opts o;
    struct csq_loader *ld;
    struct csq_batch b;
    size_t per = csq_image_prep_size(p), seen = 0;
    float *want = malloc(per * sizeof *want);
    int good = 1, i;

    csq_loader_opts_init(&o);
    o.batch = batch;
    o.threads = threads;
    *nbatches = 0;
    if (csq_loader_open(&ld, ds, p, &o) != 0)
        return 0;
    while (csq_loader_next(ld, &b) == 0 && b.n > 0) {
        (*nbatches)++;
        good &= b.n <= batch && b.c == p->channels && b.h == p->crop_h && b.w == p->crop_w;
        for (i = 0; i < b.n; i++, seen++) {
            good &= b.index[i] == seen && b.labels[i] == ds->labels[seen]
                    && b.paths[i] == ds->paths[seen];
            if (csq_image_load_prep(ds->paths[seen], p, want, NULL) != 0
                || memcmp(want, b.data + (size_t)i * per, per * sizeof *want) != 0)
                good = 0;
        }
    }
    good &= seen == ds->n;
    csq_loader_close(ld);
    free(want);
    return good;
}

struct warns {
    int n;
    char text[8][512];
};

static void on_warn(void *ctx, const char *msg)
{
    struct warns *w = ctx;

    if (w->n < 8)
        snprintf(w->text[w->n], sizeof w->text[0], "%s", msg);
    w->n++;
}

int main(void)
{
    const char *names[60], *badset[] = {"rgb8.png", "trunc.png", "gray8.png", "text.png",
                                        "rgb.jpg"};
    struct csq_dataset ds;
    struct csq_image_prep p;
    struct csq_loader_opts o;
    struct csq_loader *ld;
    struct csq_batch b;
    struct warns w;
    size_t i, nb;
    int rc, run, same;

    for (i = 0; i < 60; i++)
        names[i] = decode_names[i % (sizeof decode_names / sizeof *decode_names)];
    make_ds(&ds, names, 60);
    csq_image_prep_init(&p, 3, 12, 10);
    p.resize = 14;
    ok(run_all(&ds, &p, 7, 1, &nb) && nb == 9, "1 thread, batch 7: 9 batches, in order");
    ok(run_all(&ds, &p, 7, 2, &nb) && nb == 9, "2 threads: same images in the same order");
    ok(run_all(&ds, &p, 1, 3, &nb) && nb == 60, "3 threads, batch 1");
    ok(run_all(&ds, &p, 64, 0, &nb) && nb == 1, "one batch larger than the dataset");
    csq_image_prep_init(&p, 1, 8, 8);
    ok(run_all(&ds, &p, 5, 2, &nb) && nb == 12, "1-channel input");

    /* close with batches still pending */
    csq_loader_opts_init(&o);
    o.batch = 3;
    o.threads = 2;
    is_int(csq_loader_open(&ld, &ds, &p, &o), 0, "open");
    is_int(csq_loader_next(ld, &b), 0, "one batch");
    csq_loader_close(ld);
    ok(1, "early close returns");
    csq_dataset_release(&ds);

    /* bad images: the first in dataset order fails the run */
    make_ds(&ds, badset, 5);
    csq_image_prep_init(&p, 3, 8, 8);
    same = 1;
    for (run = 0; run < 20; run++) {
        csq_loader_opts_init(&o);
        o.batch = 2;
        o.threads = 2;
        csq_errclear();
        csq_loader_open(&ld, &ds, &p, &o);
        rc = csq_loader_next(ld, &b);
        same &= rc == CSQ_EFORMAT && strstr(csq_errmsg(), "trunc.png") != NULL;
        same &= csq_loader_next(ld, &b) == CSQ_EFORMAT;
        csq_loader_close(ld);
    }
    ok(same, "first bad image fails the run, every time: %s", csq_errmsg());
    csq_errclear();

    /* skip_bad: warnings in order, counted, good images batched */
    memset(&w, 0, sizeof w);
    csq_loader_opts_init(&o);
    o.batch = 2;
    o.threads = 2;
    o.skip_bad = 1;
    o.warn = on_warn;
    o.warn_ctx = &w;
    csq_loader_open(&ld, &ds, &p, &o);
    is_int(csq_loader_next(ld, &b), 0, "skip_bad: first batch");
    ok(b.n == 2 && b.index[0] == 0 && b.index[1] == 2, "rgb8 and gray8 (bad trunc skipped)");
    is_int(csq_loader_next(ld, &b), 0, "second batch");
    ok(b.n == 1 && b.index[0] == 4 && b.labels[0] == 4, "rgb.jpg");
    is_int(csq_loader_next(ld, &b), 0, "end");
    is_int(b.n, 0, "no more images");
    is_int((long long)csq_loader_skipped(ld), 2, "2 skipped");
    ok(w.n == 2 && strstr(w.text[0], "trunc.png") && strstr(w.text[1], "text.png"),
       "warnings in order: %s | %s", w.text[0], w.text[1]);
    ok(strcmp(csq_errmsg(), "") == 0, "no error recorded when skipping");
    csq_loader_close(ld);
    csq_dataset_release(&ds);

    /* empty dataset and bad options */
    memset(&ds, 0, sizeof ds);
    csq_loader_opts_init(&o);
    is_int(csq_loader_open(&ld, &ds, &p, &o), 0, "empty dataset opens");
    ok(csq_loader_next(ld, &b) == 0 && b.n == 0, "and ends at once");
    csq_loader_close(ld);
    o.batch = 0;
    is_int(csq_loader_open(&ld, &ds, &p, &o), CSQ_EINVAL, "batch 0 refused");
    csq_errclear();
    return tap_done();
}
