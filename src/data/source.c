/*
 * source: dataset scan + preprocessing + loader settings (see source.h).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "data/source.h"
#include "util/err.h"
#include "util/mem.h"

void csq_source_opts_init(struct csq_source_opts *o)
{
    memset(o, 0, sizeof *o);
    csq_loader_opts_init(&o->loader);
}

int csq_source_open(struct csq_source *s, const struct csq_graph *g,
                    const struct csq_source_opts *o, int need_labels)
{
    struct csq_dataset_opts d;
    int rc;

    memset(s, 0, sizeof *s);
    s->name = o->dir ? o->dir : o->list;
    s->labels_given = o->labels != NULL;
    s->lo = o->loader;
    csq_dataset_opts_init(&d);
    d.need_labels = need_labels;
    d.labels_file = o->labels;
    d.per_class = o->per_class;
    d.seeded = o->seeded;
    d.seed = o->seed;
    rc = o->dir ? csq_dataset_scan(&s->ds, o->dir, &d) : csq_dataset_read_list(&s->ds, o->list, &d);
    if (rc != CSQ_OK) {
        memset(&s->ds, 0, sizeof s->ds);
        return rc;
    }
    if (s->ds.n == 0)
        rc = csq_fail(CSQ_EINVAL, "'%s': no images (.png, .jpg, .jpeg) found", s->name);
    else
        rc = csq_modelprep_resolve(g, &o->prep, &s->ip);
    if (rc != CSQ_OK)
        csq_source_release(s);
    return rc;
}

int csq_source_loader(const struct csq_source *s, size_t limit, struct csq_loader **out)
{
    struct csq_loader_opts lo = s->lo;

    lo.limit = limit;
    return csq_loader_open(out, &s->ds, &s->ip, &lo);
}

void csq_source_release(struct csq_source *s)
{
    csq_dataset_release(&s->ds);
    memset(s, 0, sizeof *s);
}

int csq_source_spread(const struct csq_source *s, size_t want, struct csq_source *sub)
{
    size_t n = s->ds.n, m = want > 0 && want < n ? want : n, i;

    *sub = *s;
    sub->ds.paths = csq_mem_array(m + 1, sizeof *sub->ds.paths);
    sub->ds.labels = csq_mem_array(m + 1, sizeof *sub->ds.labels);
    if (!sub->ds.paths || !sub->ds.labels) {
        csq_source_spread_release(sub);
        return CSQ_ENOMEM;
    }
    for (i = 0; i < m; i++) {
        size_t k = (size_t)((unsigned long long)i * n / m);
        sub->ds.paths[i] = s->ds.paths[k];
        sub->ds.labels[i] = s->ds.labels[k];
    }
    sub->ds.n = m;
    return CSQ_OK;
}

void csq_source_spread_release(struct csq_source *sub)
{
    free(sub->ds.paths);
    free(sub->ds.labels);
    memset(sub, 0, sizeof *sub);
}
