/*
 * loader: threaded decode-ahead batching (see loader.h).
 */
#include "config.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "data/loader.h"
#include "util/err.h"
#include "util/mem.h"

enum { FREE, BUSY, DONE };

struct slot {
    int state;
    size_t index;               /* dataset index held when DONE */
    int rc;
    struct csq_image_msg msg;
    float *data;                /* (c, h, w) */
};

struct csq_loader {
    const struct csq_dataset *ds;
    size_t n;                   /* images delivered: ds->n, or the limit */
    struct csq_image_prep prep;
    struct csq_loader_opts opt;
    size_t per;                 /* floats per image */
    size_t nslot;
    struct slot *slots;
    pthread_mutex_t mu;
    pthread_cond_t cv_work;     /* a slot was freed, or stop */
    pthread_cond_t cv_done;     /* a slot was filled */
    size_t next_claim;          /* next index a worker decodes */
    size_t next_take;           /* next index the consumer takes */
    int stop;
    pthread_t *th;
    int nth;
    int failed;                 /* status of a fatal error, sticky */
    size_t skipped;
    float *data;                /* (batch, c, h, w) */
    int *labels;
    const char **paths;
    size_t *index;
};

void csq_loader_opts_init(struct csq_loader_opts *o)
{
    memset(o, 0, sizeof *o);
    o->batch = 32;
}

static void *worker(void *arg)
{
    struct csq_loader *ld = arg;
    struct slot *s;
    size_t i;
    int rc;

    pthread_mutex_lock(&ld->mu);
    for (;;) {
        while (!ld->stop && (ld->next_claim >= ld->n
                             || ld->next_claim >= ld->next_take + ld->nslot))
            pthread_cond_wait(&ld->cv_work, &ld->mu);
        if (ld->stop)
            break;
        i = ld->next_claim++;
        s = &ld->slots[i % ld->nslot];
        s->state = BUSY;
        pthread_mutex_unlock(&ld->mu);
        memset(&s->msg, 0, sizeof s->msg);
        rc = csq_image_load_prep(ld->ds->paths[i], &ld->prep, s->data, &s->msg);
        pthread_mutex_lock(&ld->mu);
        s->rc = rc;
        s->index = i;
        s->state = DONE;
        pthread_cond_broadcast(&ld->cv_done);
    }
    pthread_mutex_unlock(&ld->mu);
    return NULL;
}

/* Everything the loader allocated; its threads must be gone. */
static void free_memory(struct csq_loader *ld)
{
    size_t i;

    if (ld->slots)
        for (i = 0; i < ld->nslot; i++)
            free(ld->slots[i].data);
    free(ld->slots);
    free(ld->data);
    free(ld->labels);
    free(ld->paths);
    free(ld->index);
    free(ld->th);
    free(ld);
}

int csq_loader_open(struct csq_loader **out, const struct csq_dataset *ds,
                    const struct csq_image_prep *p, const struct csq_loader_opts *o)
{
    struct csq_loader *ld;
    size_t i, n;
    int nth;

    *out = NULL;
    if (o->batch < 1)
        return csq_fail(CSQ_EINVAL, "loader: batch size %d is not positive", o->batch);
    if ((p->channels != 1 && p->channels != 3) || p->crop_h < 1 || p->crop_w < 1)
        return csq_fail(CSQ_EINVAL, "loader: bad input shape %dx%dx%d", p->channels, p->crop_h,
                        p->crop_w);
    nth = o->threads;
    if (nth <= 0) {
        long cpus = sysconf(_SC_NPROCESSORS_ONLN);
        nth = cpus > 0 ? (int)(cpus < 64 ? cpus : 64) : 1;
    }
    n = o->limit > 0 && o->limit < ds->n ? o->limit : ds->n;
    if ((size_t)nth > n)
        nth = n ? (int)n : 0;
    if (!(ld = csq_mem_zarray(1, sizeof *ld)))
        return CSQ_ENOMEM;
    ld->ds = ds;
    ld->n = n;
    ld->prep = *p;
    ld->opt = *o;
    ld->per = csq_image_prep_size(p);
    /* one batch ahead (plus a slot per thread so no worker idles at the
     * boundary): double buffering, at the memory cost of a second batch */
    ld->nslot = (size_t)o->batch + 2 * (size_t)nth;
    ld->slots = csq_mem_zarray(ld->nslot, sizeof *ld->slots);
    ld->data = csq_mem_array((size_t)o->batch * ld->per, sizeof *ld->data);
    ld->labels = csq_mem_array(o->batch, sizeof *ld->labels);
    ld->paths = csq_mem_array(o->batch, sizeof *ld->paths);
    ld->index = csq_mem_array(o->batch, sizeof *ld->index);
    ld->th = csq_mem_zarray(nth ? nth : 1, sizeof *ld->th);
    if (!ld->slots || !ld->data || !ld->labels || !ld->paths || !ld->index || !ld->th)
        goto nomem;
    for (i = 0; i < ld->nslot; i++)
        if (!(ld->slots[i].data = csq_mem_array(ld->per, sizeof(float))))
            goto nomem;
    pthread_mutex_init(&ld->mu, NULL);
    pthread_cond_init(&ld->cv_work, NULL);
    pthread_cond_init(&ld->cv_done, NULL);
    for (ld->nth = 0; ld->nth < nth; ld->nth++) {
        if (pthread_create(&ld->th[ld->nth], NULL, worker, ld) != 0) {
            csq_loader_close(ld);
            return csq_fail(CSQ_ENOMEM, "loader: cannot start decoding thread %d", ld->nth + 1);
        }
    }
    *out = ld;
    return CSQ_OK;
nomem:
    free_memory(ld);
    return CSQ_ENOMEM;
}

int csq_loader_next(struct csq_loader *ld, struct csq_batch *b)
{
    struct slot *s;
    size_t i;
    int n = 0, rc;

    memset(b, 0, sizeof *b);
    b->c = ld->prep.channels;
    b->h = ld->prep.crop_h;
    b->w = ld->prep.crop_w;
    if (ld->failed)
        return ld->failed;
    while (n < ld->opt.batch && ld->next_take < ld->n) {
        i = ld->next_take;
        s = &ld->slots[i % ld->nslot];
        pthread_mutex_lock(&ld->mu);
        while (!(s->state == DONE && s->index == i))
            pthread_cond_wait(&ld->cv_done, &ld->mu);
        pthread_mutex_unlock(&ld->mu);
        rc = s->rc;
        if (rc != 0 && (!ld->opt.skip_bad || rc == CSQ_ENOMEM || s->msg.code == 0)) {
            /* s->msg is empty when the failure went to the shared slot
             * (allocation failures), which then holds the message */
            if (s->msg.code)
                csq_fail(rc, "%s", s->msg.text);
            else
                csq_fail(rc, "image: '%s': %s", ld->ds->paths[i], csq_strerror(rc));
            ld->failed = rc;
            return rc;
        }
        if (rc != 0) {
            ld->skipped++;
            if (ld->opt.warn)
                ld->opt.warn(ld->opt.warn_ctx, s->msg.text);
        } else {
            memcpy(ld->data + (size_t)n * ld->per, s->data, ld->per * sizeof(float));
            ld->labels[n] = ld->ds->labels[i];
            ld->paths[n] = ld->ds->paths[i];
            ld->index[n] = i;
            n++;
        }
        pthread_mutex_lock(&ld->mu);
        s->state = FREE;
        ld->next_take++;
        pthread_cond_broadcast(&ld->cv_work);
        pthread_mutex_unlock(&ld->mu);
    }
    b->n = n;
    b->data = ld->data;
    b->labels = ld->labels;
    b->paths = ld->paths;
    b->index = ld->index;
    return CSQ_OK;
}

size_t csq_loader_count(const struct csq_loader *ld)
{
    return ld->n;
}

size_t csq_loader_skipped(const struct csq_loader *ld)
{
    return ld->skipped;
}

void csq_loader_close(struct csq_loader *ld)
{
    int t;

    if (!ld)
        return;
    pthread_mutex_lock(&ld->mu);
    ld->stop = 1;
    pthread_cond_broadcast(&ld->cv_work);
    pthread_mutex_unlock(&ld->mu);
    for (t = 0; t < ld->nth; t++)
        pthread_join(ld->th[t], NULL);
    pthread_mutex_destroy(&ld->mu);
    pthread_cond_destroy(&ld->cv_work);
    pthread_cond_destroy(&ld->cv_done);
    free_memory(ld);
}
