/*
 * eval: the eval pipeline (see eval.h).
 */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mpq/eval.h"
#include "mpq/feed.h"
#include "mpq/qsim.h"
#include "mpq/stats.h"
#include "nn/engine.h"
#include "util/dist.h"
#include "util/err.h"
#include "util/mem.h"
#include "util/sha256.h"

int csq_eval_widths(const struct csq_graph *g, const char *model, const struct csq_bitcfg *c,
                    const char *cfg_path, int abits, int *wbits, int *abitv,
                    int *sha256_differs)
{
    char hex[65];
    int i, l;

    *sha256_differs = 0;
    if (c->nlayers > 0 && !c->layers[0].name && c->nlayers != g->nlayers)
        return csq_fail(CSQ_EINVAL, "'%s': a list of %d widths for a model of %d layers",
                        cfg_path, c->nlayers, g->nlayers);
    for (i = 0; i < c->nlayers; i++) {
        const struct csq_bitcfg_layer *y = &c->layers[i];
        if (!y->name) {
            l = i;
        } else {
            for (l = 0; l < g->nlayers; l++)
                if (strcmp(g->layers[l].name, y->name) == 0)
                    break;
            if (l == g->nlayers)
                return csq_fail(CSQ_EINVAL, "'%s': layer '%s' is not in the model '%s' "
                                "(see csmpq info)", cfg_path, y->name, model);
        }
        if (y->wbits < 1 || y->wbits > 16)
            return csq_fail(CSQ_EINVAL, "'%s': layer '%s': %d weight bits (1 to 16 allowed)",
                            cfg_path, y->name ? y->name : "?", y->wbits);
        wbits[l] = y->wbits;
        abitv[l] = abits > 0 ? abits : (y->abits > 0 ? y->abits : 8);
    }
    /* Same layer names but another file: likely a re-export. */
    if (c->sha256 && csq_sha256_file(model, hex) == CSQ_OK && strcmp(hex, c->sha256) != 0)
        *sha256_differs = 1;
    return CSQ_OK;
}

/* Score logits (n x classes) against labels[n]; pred[n] gets each argmax.
 * Ties go to the lower class index, as torch.argmax / topk do on CPU. */
static int topk_add(struct csq_eval_topk *acc, const struct csq_tensor *logits,
                    const int *labels, int *pred)
{
    int64_t n, k, i, j;

    if (logits->dtype != CSQ_DT_FLOAT || logits->rank != 2)
        return csq_fail(CSQ_EUNSUPPORTED, "the model's first output is not a 2-D float "
                        "tensor of class scores");
    n = logits->dims[0];
    k = logits->dims[1];
    for (i = 0; i < n; i++) {
        const float *z = (const float *)logits->data + i * k;
        int64_t best = 0, above = 0;
        int y = labels[i];

        if (y >= k)
            return csq_fail(CSQ_EINVAL, "class %d has no output: the model has %lld "
                            "outputs (check the class names)", y, (long long)k);
        for (j = 1; j < k; j++)
            if (z[j] > z[best] || (isnan(z[j]) && !isnan(z[best])))
                best = j;
        if (pred)
            pred[i] = (int)best;
        if (y < 0)
            continue;
        /* Rank of the true class: how many outputs beat it (earlier
         * indices win ties). */
        for (j = 0; j < k; j++)
            if (z[j] > z[y] || (z[j] == z[y] && j < y))
                above++;
        acc->top1 += above == 0;
        acc->top5 += above < 5;
        acc->images++;
    }
    return CSQ_OK;
}

struct pass {
    struct csq_eval_topk *acc;
    int *pred;              /* [ds.n] */
    int *scratch;           /* [batch] */
};

static int after_batch(void *user, const struct csq_batch *b, const struct csq_tensor *y)
{
    struct pass *s = user;
    int rc, i;

    if ((rc = topk_add(s->acc, y, b->labels, s->scratch)) != 0)
        return rc;
    for (i = 0; i < b->n; i++)
        s->pred[b->index[i]] = s->scratch[i];
    return CSQ_OK;
}

/* Under MPI each rank scored its own batches: counts are integer sums,
 * and each image's prediction comes from the one rank that saw it (the
 * others hold -1). */
static int combine(struct pass *s, size_t n, size_t *images)
{
    int64_t c[4] = {(int64_t)s->acc->images, (int64_t)s->acc->top1, (int64_t)s->acc->top5,
                    (int64_t)*images};
    int64_t *p = csq_mem_array(n + 1, sizeof *p);
    size_t i;
    int rc;

    if (!p)
        return CSQ_ENOMEM;
    for (i = 0; i < n; i++)
        p[i] = s->pred[i] + 1;
    if ((rc = csq_dist_sum_i64(c, 4)) == CSQ_OK && (rc = csq_dist_sum_i64(p, n)) == CSQ_OK) {
        s->acc->images = (size_t)c[0];
        s->acc->top1 = (size_t)c[1];
        s->acc->top5 = (size_t)c[2];
        *images = (size_t)c[3];
        for (i = 0; i < n; i++)
            s->pred[i] = (int)p[i] - 1;
    }
    free(p);
    return rc;
}

int csq_eval_pass(struct csq_engine *e, const struct csq_source *data,
                  const struct csq_progress *pr, const char *what, struct csq_eval_topk *acc,
                  int *pred, size_t *images, double *secs)
{
    struct csq_loader *ld = NULL;
    struct csq_feed f;
    struct pass s;
    struct timespec t0, t1;
    size_t i;
    int rc;

    for (i = 0; i < data->ds.n; i++)
        pred[i] = -1;
    memset(acc, 0, sizeof *acc);
    s.acc = acc;
    s.pred = pred;
    if (!(s.scratch = csq_mem_array((size_t)data->lo.batch, sizeof(int))))
        return CSQ_ENOMEM;
    if ((rc = csq_source_loader(data, 0, &ld)) != 0) {
        free(s.scratch);
        return rc;
    }
    memset(&f, 0, sizeof f);
    f.engine = e;
    f.loader = ld;
    f.after = after_batch;
    f.user = &s;
    f.progress = pr;
    f.what = what;
    f.split = 1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    rc = csq_feed_run(&f);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    csq_loader_close(ld);
    free(s.scratch);
    *secs = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
    *images = f.images;
    if (rc == CSQ_OK && csq_dist_size() > 1)
        rc = combine(&s, data->ds.n, images);
    if (rc == CSQ_OK && acc->images == 0)
        rc = csq_fail(CSQ_EINVAL, "no labeled image could be evaluated");
    return rc;
}

/* A loader over the calibration images: the calibration source, else the
 * first images of the evaluated one. */
static int calib_loader(const struct csq_source *data, const struct csq_eval_request *r,
                        struct csq_loader **ld)
{
    return csq_source_loader(r->calib ? r->calib : data, r->calib ? 0 : CSQ_EVAL_CALIB_DEFAULT,
                             ld);
}

static int calibrate(struct csq_qsim *q, struct csq_engine *e, const struct csq_source *data,
                     const struct csq_eval_request *r)
{
    struct csq_loader *ld = NULL;
    int rc;

    if ((rc = calib_loader(data, r, &ld)) == 0)
        rc = csq_qsim_calibrate(q, e, ld, &r->progress);
    csq_loader_close(ld);
    return rc;
}

/* Quantize the weights: rtn directly; gptq (and E_l(b)) after a statistics
 * pass over the calibration images with the float model. */
static int quantize(const struct csq_graph *g, struct csq_engine *e,
                    const struct csq_source *data, const struct csq_eval_request *r,
                    struct csq_eval_quant *m)
{
    struct csq_qsim_wopts o = { .quantizer = r->quantizer, .act_order = r->act_order,
                                .werr = r->werr };
    struct csq_stats *st = NULL;
    struct csq_loader *ld = NULL;
    int rc;

    if (r->quantizer == CSQ_WERR_GPTQ || r->werr) {
        if ((rc = calib_loader(data, r, &ld)) != 0)
            return rc;
        rc = csq_stats_collect(g, e, m->wbits, ld, r->hessian_samples, &r->progress, &st);
        csq_loader_close(ld);
        if (rc != CSQ_OK)
            return rc;
        m->stats_images = csq_stats_images(st);
        o.stats = st;
    }
    rc = csq_qsim_new_opts(g, m->wbits, m->abits, &o, &m->q);
    csq_stats_free(st);
    return rc;
}

int64_t csq_eval_class_mismatch(const struct csq_graph *g, const struct csq_source *data)
{
    const struct csq_tensor *y = &g->vals[g->outputs[0]].t;
    int64_t k = y->rank > 0 ? y->dims[y->rank - 1] : 1;

    return !data->labels_given && k != data->ds.nclass ? k : 0;
}

/* The widths to simulate and what they cost. */
static int plan_widths(const struct csq_graph *g, const struct csq_eval_request *r,
                       struct csq_eval_quant *m)
{
    int l, rc;

    if (r->cfg && (rc = csq_eval_widths(g, r->model, r->cfg, r->cfg_path, r->abits, m->wbits,
                                        m->abits, &m->sha256_differs)) != 0)
        return rc;
    for (l = 0; r->wbits_all && l < g->nlayers; l++) {
        m->wbits[l] = r->wbits_all;
        m->abits[l] = r->abits > 0 ? r->abits : 8;
    }
    csq_cost_config(g, m->wbits, m->abits, &m->cost);
    return CSQ_OK;
}

int csq_eval_quantize(const struct csq_graph *g, struct csq_engine *e,
                      const struct csq_source *data, const struct csq_eval_request *r,
                      struct csq_eval_quant *m)
{
    int rc;

    memset(m, 0, sizeof *m);
    m->wbits = csq_mem_zarray((size_t)g->nlayers + 1, sizeof(int));
    m->abits = csq_mem_zarray((size_t)g->nlayers + 1, sizeof(int));
    if (!m->wbits || !m->abits)
        return CSQ_ENOMEM;
    if ((rc = plan_widths(g, r, m)) != 0 || (rc = quantize(g, e, data, r, m)) != 0)
        return rc;
    return calibrate(m->q, e, data, r);
}

void csq_eval_quant_release(struct csq_eval_quant *m)
{
    free(m->wbits);
    free(m->abits);
    csq_qsim_free(m->q);
    memset(m, 0, sizeof *m);
}

int csq_eval_run(const struct csq_graph *g, const struct csq_source *data,
                 const struct csq_eval_request *r, struct csq_eval_result *res)
{
    struct csq_engine *e = NULL;
    struct csq_eval_quant m;
    size_t qimages;
    double secs, qsecs;
    int l, rc;

    memset(res, 0, sizeof *res);
    memset(&m, 0, sizeof m);
    res->quantized = r->cfg || r->wbits_all > 0;
    res->nlayers = g->nlayers;
    res->pred = csq_mem_array(data->ds.n + 1, sizeof(int));
    if (!res->pred) {
        rc = CSQ_ENOMEM;
        goto out;
    }
    if ((rc = csq_engine_new(g, &e)) != 0)
        goto out;
    /* Calibrating before the float pass changes nothing: each pass
     * restores the float model in the engine. */
    if (res->quantized) {
        rc = csq_eval_quantize(g, e, data, r, &m);
        res->sha256_differs = m.sha256_differs;
        res->stats_images = m.stats_images;
        res->cost = m.cost;
        if (rc != CSQ_OK)
            goto out;
    }
    if ((rc = csq_eval_pass(e, data, &r->progress, "eval fp32", &res->fp32, res->pred,
                            &res->images, &secs)) != 0)
        goto out;
    res->images_per_s = secs > 0 ? (double)res->images / secs : 0;
    if (!res->quantized)
        goto out;
    /* The quantized predictions replace the float ones. */
    if ((rc = csq_qsim_attach(m.q, e)) != 0)
        goto out;
    rc = csq_eval_pass(e, data, &r->progress, "eval quantized", &res->quant, res->pred,
                       &qimages, &qsecs);
    csq_qsim_detach(m.q, e);
    if (rc != CSQ_OK)
        goto out;
    if (!(res->layers = csq_mem_zarray((size_t)g->nlayers + 1, sizeof *res->layers))) {
        rc = CSQ_ENOMEM;
        goto out;
    }
    for (l = 0; l < g->nlayers; l++) {
        const struct csq_actq *aq = csq_qsim_actq(m.q, l);
        struct csq_eval_layer *y = &res->layers[l];
        y->wbits = m.wbits[l];
        y->abits = m.abits[l];
        y->weight_sqnr = m.wbits[l] ? csq_qsim_sqnr(m.q, l) : 0;
        y->werr = csq_qsim_werr(m.q, l);
        if (csq_qsim_gptq_info(m.q, l)) {
            y->groups = csq_qsim_gptq_info(m.q, l)->groups;
            y->rtn_groups = csq_qsim_gptq_info(m.q, l)->rtn;
        }
        if (aq) {
            y->have_range = 1;
            y->lo = aq->lo;
            y->hi = aq->hi;
        }
    }
out:
    csq_eval_quant_release(&m);
    csq_engine_free(e);
    if (rc != CSQ_OK)
        csq_eval_result_release(res);
    return rc;
}

void csq_eval_result_release(struct csq_eval_result *res)
{
    free(res->pred);
    free(res->layers);
    memset(res, 0, sizeof *res);
}
