/*
 * engine: executes a bound graph.  Run-time values get offsets in one
 * arena, planned from their lifetimes (first writer to last reader) with
 * a greedy best-offset placement, largest first; the plan is redone only
 * when input shapes change.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "nn/engine.h"
#include "nn/ops.h"
#include "util/err.h"
#include "util/limits.h"
#include "util/mem.h"

#define ALIGN 64

struct tap {
    int value;
    csq_tap_fn fn;
    void *user;
};

struct prehook {
    int node, input;
    csq_prehook_fn fn;
    void *user;
    size_t off;             /* private copy inside the arena */
};

struct engine_plan {
    size_t *off;            /* [nvals], byte offset of run-time values */
    size_t arena_bytes;
    size_t scratch_floats;
};

struct csq_engine {
    struct csq_graph *g;
    struct tap *taps;
    int ntaps;
    struct prehook *hooks;
    int nhooks;
    struct engine_plan plan;
    int planned;
    struct csq_tensor bound[8];    /* input shapes of the current plan */
    /* data of small inputs the plan was bound with (CSQ_SHAPE_INPUT_MAX) */
    unsigned char small[8][CSQ_SHAPE_INPUT_MAX * 8];
    unsigned char *arena;
    size_t arena_cap;
    float *scratch;
    size_t scratch_cap;
};

int csq_engine_new(struct csq_graph *g, struct csq_engine **out)
{
    struct csq_engine *e;

    *out = NULL;
    if (g->ninputs > 8)
        return csq_fail(CSQ_EUNSUPPORTED, "'%s': more than 8 graph inputs", g->path);
    e = csq_mem_zarray(1, sizeof *e);
    if (!e)
        return CSQ_ENOMEM;
    e->g = g;
    e->plan.off = csq_mem_zarray((size_t)g->nvals + 1, sizeof(size_t));
    if (!e->plan.off) {
        free(e);
        return CSQ_ENOMEM;
    }
    *out = e;
    return CSQ_OK;
}

void csq_engine_free(struct csq_engine *e)
{
    if (!e)
        return;
    free(e->taps);
    free(e->hooks);
    free(e->plan.off);
    csq_mem_afree(e->arena);
    csq_mem_afree(e->scratch);
    free(e);
}

int csq_engine_tap(struct csq_engine *e, int value, csq_tap_fn fn, void *user)
{
    struct tap *t = csq_mem_rearray(e->taps, (size_t)e->ntaps + 1, sizeof *t);

    if (!t)
        return CSQ_ENOMEM;
    e->taps = t;
    t[e->ntaps].value = value;
    t[e->ntaps].fn = fn;
    t[e->ntaps].user = user;
    e->ntaps++;
    return CSQ_OK;
}

int csq_engine_prehook(struct csq_engine *e, int node, int input,
                       csq_prehook_fn fn, void *user)
{
    struct prehook *h = csq_mem_rearray(e->hooks, (size_t)e->nhooks + 1, sizeof *h);

    if (!h)
        return CSQ_ENOMEM;
    e->hooks = h;
    memset(&h[e->nhooks], 0, sizeof h[0]);
    h[e->nhooks].node = node;
    h[e->nhooks].input = input;
    h[e->nhooks].fn = fn;
    h[e->nhooks].user = user;
    e->nhooks++;
    e->planned = 0;
    return CSQ_OK;
}

void csq_engine_clear_hooks(struct csq_engine *e)
{
    e->ntaps = 0;
    if (e->nhooks)
        e->planned = 0;     /* hook copies had arena space */
    e->nhooks = 0;
}

static size_t value_bytes(const struct csq_value *v)
{
    int64_t n = csq_tensor_numel(&v->t);
    size_t es = csq_dtype_size(v->t.dtype);

    if (n <= 0)
        return ALIGN;
    if ((uint64_t)n > (SIZE_MAX - ALIGN) / (es ? es : 8))
        return SIZE_MAX / 2;
    return ((size_t)n * (es ? es : 8) + ALIGN - 1) & ~(size_t)(ALIGN - 1);
}

struct interval {
    int first, last;
    size_t bytes;
    int value;              /* -1 for a pre-hook copy */
    int hook;
};

static int by_size_desc(const void *a, const void *b)
{
    const struct interval *x = a, *y = b;

    if (x->bytes != y->bytes)
        return x->bytes < y->bytes ? 1 : -1;
    return x->first - y->first;
}

/*
 * Each run-time value lives from its producer's step to its last reader's
 * step (graph outputs to the end).  Placement: for each interval, largest
 * first, take the lowest offset that overlaps no placed interval alive at
 * the same time.
 */
static int plan(struct csq_engine *e)
{
    struct csq_graph *g = e->g;
    struct interval *iv = NULL;
    int *placed = NULL;
    int n = 0, nplaced = 0, i, j, k, rc = CSQ_OK;
    struct csq_kbuf kb;
    size_t top = 0, scratch = 0;

    iv = csq_mem_array((size_t)(g->nvals + e->nhooks) + 1, sizeof *iv);
    placed = csq_mem_array((size_t)(g->nvals + e->nhooks) + 1, sizeof *placed);
    if (!iv || !placed) {
        rc = CSQ_ENOMEM;
        goto out;
    }
    for (i = 0; i < g->nvals; i++) {
        struct csq_value *v = &g->vals[i];
        if (v->kind != CSQ_VAL_RUNTIME || v->producer < 0 || g->nodes[v->producer].dead)
            continue;
        iv[n].first = v->producer;
        iv[n].last = v->producer;
        iv[n].bytes = value_bytes(v);
        iv[n].value = i;
        iv[n].hook = -1;
        n++;
    }
    /* Last readers. */
    for (i = 0; i < g->nnodes; i++) {
        if (g->nodes[i].dead)
            continue;
        for (j = 0; j < g->nodes[i].nin; j++)
            for (k = 0; k < n; k++)
                if (iv[k].value == g->nodes[i].in[j] && iv[k].last < i)
                    iv[k].last = i;
    }
    for (i = 0; i < g->noutputs; i++)
        for (k = 0; k < n; k++)
            if (iv[k].value == g->outputs[i])
                iv[k].last = g->nnodes;
    /* Pre-hook copies live only while their node runs. */
    for (i = 0; i < e->nhooks; i++) {
        const struct csq_node *nd = &g->nodes[e->hooks[i].node];
        int v = nd->in[e->hooks[i].input];
        iv[n].first = iv[n].last = e->hooks[i].node;
        iv[n].bytes = v >= 0 ? value_bytes(&g->vals[v]) : ALIGN;
        iv[n].value = -1;
        iv[n].hook = i;
        n++;
    }
    qsort(iv, (size_t)n, sizeof *iv, by_size_desc);
    for (i = 0; i < n; i++) {
        size_t off = 0;
        int moved = 1;
        /* Slide past every conflicting placed interval until none is hit. */
        while (moved) {
            moved = 0;
            for (j = 0; j < nplaced; j++) {
                struct interval *p = &iv[placed[j]];
                size_t po = p->value >= 0 ? e->plan.off[p->value] : e->hooks[p->hook].off;
                if (p->last < iv[i].first || iv[i].last < p->first)
                    continue;
                if (off < po + p->bytes && po < off + iv[i].bytes) {
                    off = po + p->bytes;
                    moved = 1;
                }
            }
        }
        if (iv[i].value >= 0)
            e->plan.off[iv[i].value] = off;
        else
            e->hooks[iv[i].hook].off = off;
        placed[nplaced++] = i;
        if (off + iv[i].bytes > top)
            top = off + iv[i].bytes;
    }
    /* Scratch: the most any kernel asks for. */
    for (i = 0; i < g->nnodes; i++) {
        const struct csq_op *op = csq_ops_get(g->nodes[i].op);
        if (g->nodes[i].dead || !op->scratch)
            continue;
        {
            struct csq_kargs a;
            size_t s;
            csq_ops_args(g, i, &a, &kb);
            s = op->scratch(&a);
            if (s > scratch)
                scratch = s;
        }
    }
    e->plan.arena_bytes = top;
    e->plan.scratch_floats = scratch;
out:
    free(iv);
    free(placed);
    return rc;
}

static size_t small_bytes(const struct csq_tensor *t)
{
    int64_t n = csq_tensor_numel(t);

    if (!t->data || n < 0 || n > CSQ_SHAPE_INPUT_MAX)
        return 0;
    return (size_t)n * csq_dtype_size(t->dtype);
}

static int same_shapes(const struct csq_engine *e, const struct csq_tensor *in)
{
    int i, d;

    for (i = 0; i < e->g->ninputs; i++) {
        if (e->bound[i].rank != in[i].rank)
            return 0;
        for (d = 0; d < in[i].rank; d++)
            if (e->bound[i].dims[d] != in[i].dims[d])
                return 0;
        /* Shape inference may have read small inputs' values. */
        if (small_bytes(&in[i]) && memcmp(e->small[i], in[i].data, small_bytes(&in[i])) != 0)
            return 0;
    }
    return 1;
}

static int prepare(struct csq_engine *e, const struct csq_tensor *inputs)
{
    struct csq_graph *g = e->g;
    int rc, i;

    if (e->planned && same_shapes(e, inputs))
        return CSQ_OK;
    for (i = 0; i < g->ninputs; i++) {
        const struct csq_value *v = &g->vals[g->inputs[i]];
        if (inputs[i].dtype != v->t.dtype)
            return csq_fail(CSQ_ESHAPE, "input '%s' of '%s' has the wrong data type",
                            v->name, g->path);
    }
    if ((rc = csq_graph_bind_inputs(g, inputs)) != 0)
        return rc;
    if ((rc = plan(e)) != 0)
        return rc;
    if (e->plan.arena_bytes + e->plan.scratch_floats * sizeof(float) > csq_limit_memory())
        return csq_fail(CSQ_ENOMEM, "'%s': batch %lld needs %.1f MiB of activations, over the "
                        "--max-memory limit of %.1f MiB (try a smaller --batch)", g->path,
                        (long long)(inputs[0].rank ? inputs[0].dims[0] : 1),
                        (e->plan.arena_bytes + e->plan.scratch_floats * sizeof(float))
                        / 1048576.0, csq_limit_memory() / 1048576.0);
    if (e->plan.arena_bytes > e->arena_cap) {
        csq_mem_afree(e->arena);
        e->arena_cap = 0;
        e->arena = csq_mem_aligned(e->plan.arena_bytes, 1);
        if (!e->arena) {
            csq_errclear();
            return csq_fail(CSQ_ENOMEM, "'%s': cannot allocate %.1f MiB of activations "
                            "for batch %lld (try a smaller --batch)", g->path,
                            (double)e->plan.arena_bytes / 1048576.0,
                            (long long)(inputs[0].rank ? inputs[0].dims[0] : 1));
        }
        e->arena_cap = e->plan.arena_bytes;
    }
    if (e->plan.scratch_floats > e->scratch_cap) {
        csq_mem_afree(e->scratch);
        e->scratch_cap = 0;
        e->scratch = csq_mem_aligned(e->plan.scratch_floats, sizeof(float));
        if (!e->scratch)
            return CSQ_ENOMEM;
        e->scratch_cap = e->plan.scratch_floats;
    }
    for (i = 0; i < g->ninputs; i++) {
        e->bound[i] = inputs[i];
        if (small_bytes(&inputs[i]))
            memcpy(e->small[i], inputs[i].data, small_bytes(&inputs[i]));
    }
    e->planned = 1;
    return CSQ_OK;
}

static int run_taps(struct csq_engine *e, int value)
{
    int i, rc;

    for (i = 0; i < e->ntaps; i++)
        if (e->taps[i].value == value &&
            (rc = e->taps[i].fn(e->taps[i].user, value, &e->g->vals[value].t)) != 0)
            return rc;
    return CSQ_OK;
}

int csq_engine_forward(struct csq_engine *e, const struct csq_tensor *inputs)
{
    struct csq_graph *g = e->g;
    struct csq_kbuf kb;
    struct csq_tensor hooked[8];
    int i, j, h, rc;

    if ((rc = prepare(e, inputs)) != 0)
        return rc;
    for (i = 0; i < g->ninputs; i++)
        g->vals[g->inputs[i]].t.data = inputs[i].data;
    for (i = 0; i < g->nvals; i++)
        if (g->vals[i].kind == CSQ_VAL_RUNTIME && g->vals[i].producer >= 0)
            g->vals[i].t.data = e->arena + e->plan.off[i];
    for (i = 0; i < g->ninputs; i++)
        if ((rc = run_taps(e, g->inputs[i])) != 0)
            return rc;
    for (i = 0; i < g->nnodes; i++) {
        struct csq_node *n = &g->nodes[i];
        const struct csq_op *op = csq_ops_get(n->op);
        struct csq_kargs a;
        int runtime = 0, nh = 0;

        if (n->dead)
            continue;
        for (j = 0; j < n->nout; j++)
            if (n->out[j] >= 0 && g->vals[n->out[j]].kind == CSQ_VAL_RUNTIME)
                runtime = 1;
        if (!runtime)
            continue;           /* folded at bind time */
        csq_ops_args(g, i, &a, &kb);
        a.scratch = e->scratch;
        for (h = 0; h < e->nhooks && nh < 8; h++) {
            struct prehook *ph = &e->hooks[h];
            int v;
            if (ph->node != i || ph->input >= n->nin || (v = n->in[ph->input]) < 0)
                continue;
            hooked[nh] = g->vals[v].t;
            hooked[nh].data = e->arena + ph->off;
            memcpy(hooked[nh].data, g->vals[v].t.data, value_bytes(&g->vals[v]));
            if ((rc = ph->fn(ph->user, i, ph->input, &hooked[nh])) != 0)
                return rc;
            kb.in[ph->input] = &hooked[nh];
            nh++;
        }
        if ((rc = op->run(&a)) != 0) {
            csq_err_context("'%s'", g->path);
            return rc;
        }
        for (j = 0; j < n->nout; j++)
            if (n->out[j] >= 0 && (rc = run_taps(e, n->out[j])) != 0)
                return rc;
    }
    return CSQ_OK;
}

const struct csq_tensor *csq_engine_output(const struct csq_engine *e, int i)
{
    if (i < 0 || i >= e->g->noutputs)
        return NULL;
    return &e->g->vals[e->g->outputs[i]].t;
}

size_t csq_engine_arena_bytes(const struct csq_engine *e)
{
    return e->plan.arena_bytes;
}
