/*
 * engine: executes a const graph with run state of its own (see engine.h).
 * Planning, redone only when input shapes or the thread count change:
 * bind the engine's tensor table (nn/bind.c), let each planned op check
 * its node once (op->plan), size packed weights, then give run-time values
 * offsets in one arena from their lifetimes (first writer to last reader)
 * with a greedy best-offset placement, largest first.  Packing (op->pack)
 * runs once per engine and again only for a substituted weight.
 * Layouts: a value every reader of which can take oneDNN's layout (NHWC,
 * nChw16c ...) straight from a writer that makes it (see op->blocks in
 * ops.h: oneDNN convolutions, and element-wise ops in between) is kept in
 * it, so consecutive convolutions skip their reorders to and from NCHW;
 * graph outputs, tapped and hooked values stay NCHW (a tap on a value kept
 * otherwise replans).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "nn/bind.h"
#include "nn/engine.h"
#include "nn/ops.h"
#include "util/err.h"
#include "util/limits.h"
#include "util/mem.h"

#define ALIGN 64
#define MAX_INPUTS 8

struct tap {
    int value;              /* the value it reads */
    int layer;
    enum csq_tap_at at;
    csq_tap_fn fn;
    void *user;
};

struct prehook {
    int node, input;
    csq_prehook_fn fn;
    void *user;
    size_t off;             /* private copy inside the arena */
    struct csq_tensor t;    /* the copy handed to the hook */
};

/* Run state of one node. */
struct step {
    int run;                /* computes a run-time value under this plan */
    int pre_taps;           /* taps before its fused Relu: run the Relu apart */
    int post_taps;          /* taps after it: a fused Clip then runs apart after
                             * them, as the Clip node it was */
    int planned;            /* plan holds op->plan's result */
    union {
        int64_t align;
        unsigned char b[CSQ_OP_PLAN_BYTES];
    } plan;
    float *packed;          /* [npacked] op->pack of the weight, NULL = none */
    size_t npacked, packed_cap;
    int packed_ok;          /* packed matches the current weight */
    int in_blk;             /* op->blocks: block in which it reads in[0] */
    int plan_relu;          /* the fused activation plan was made for (kargs.relu) */
    int add_into;           /* an Add (op->fuse_add), or a SiLU's Sigmoid or Mul
                             * (op->fuse_silu), run by Conv node add_into - 1; 0 none */
    int add_from;           /* a Conv running Add node add_from - 1, 0 none */
    int add_r;              /* then the Add's other input */
    int silu_to;            /* a Conv writing Mul node silu_to - 1's output, 0 none */
};

struct csq_engine {
    const struct csq_graph *g;
    struct csq_tensor *t;   /* [nvals] this engine's binding: dims, data */
    unsigned char *fl;      /* [nvals] bind flags (nn/bind.h) */
    const float **weight;   /* [nvals] substituted weight data, NULL = the graph's */
    struct step *steps;     /* [nnodes] */
    struct tap *taps;
    int ntaps;
    struct prehook *hooks;
    int nhooks;
    size_t *off;            /* [nvals] byte offset of run-time values */
    int *blk;               /* [nvals] layout of a value (ops.h: 1 NHWC, 16 nChw16c ...), 0 NCHW */
    struct csq_tensor *view;    /* [nvals] blocked values as NCHW with padded channels */
    size_t arena_bytes;
    size_t scratch_floats;
    int planned;
    int nthreads;           /* thread count of the plan */
    struct csq_tensor bound[MAX_INPUTS];    /* input shapes of the current plan */
    /* data of small inputs the plan was bound with (CSQ_SHAPE_INPUT_MAX) */
    unsigned char small[MAX_INPUTS][CSQ_SHAPE_INPUT_MAX * 8];
    unsigned char *arena;
    size_t arena_cap;
    float *scratch;
    size_t scratch_cap;
    int relu_op;            /* op row of Relu, for a fused Relu run apart */
    int clip_op;            /* and of Clip */
    int add_op;             /* and of Add */
    int sigmoid_op, mul_op; /* and of a SiLU's two */
    int grouped_net;        /* some Conv has group > 1 (kargs.grouped_net) */
};

int csq_engine_new(const struct csq_graph *g, struct csq_engine **out)
{
    struct csq_engine *e;
    int i;

    *out = NULL;
    if (g->ninputs > MAX_INPUTS)
        return csq_fail(CSQ_EUNSUPPORTED, "'%s': more than %d graph inputs", g->path,
                        MAX_INPUTS);
    e = csq_mem_zarray(1, sizeof *e);
    if (!e)
        return CSQ_ENOMEM;
    e->g = g;
    e->t = csq_mem_zarray((size_t)g->nvals + 1, sizeof *e->t);
    e->fl = csq_mem_zarray((size_t)g->nvals + 1, 1);
    e->weight = csq_mem_zarray((size_t)g->nvals + 1, sizeof *e->weight);
    e->off = csq_mem_zarray((size_t)g->nvals + 1, sizeof *e->off);
    e->blk = csq_mem_zarray((size_t)g->nvals + 1, sizeof *e->blk);
    e->view = csq_mem_zarray((size_t)g->nvals + 1, sizeof *e->view);
    e->steps = csq_mem_zarray((size_t)g->nnodes + 1, sizeof *e->steps);
    e->relu_op = csq_ops_find("Relu");
    e->clip_op = csq_ops_find("Clip");
    e->add_op = csq_ops_find("Add");
    e->sigmoid_op = csq_ops_find("Sigmoid");
    e->mul_op = csq_ops_find("Mul");
    for (i = 0; i < g->nnodes; i++)
        if (strcmp(g->nodes[i].op_type, "Conv") == 0 && csq_node_int(&g->nodes[i], "group", 1) > 1)
            e->grouped_net = 1;
    if (!e->t || !e->fl || !e->weight || !e->off || !e->blk || !e->view || !e->steps) {
        csq_engine_free(e);
        return CSQ_ENOMEM;
    }
    *out = e;
    return CSQ_OK;
}

/* What node i's plan holds outside its bytes (op->release). */
static void release_plan(struct csq_engine *e, int i)
{
    const struct csq_op *op = csq_ops_get(e->g->nodes[i].op);
    struct step *s = &e->steps[i];

    if (s->planned && op->release)
        op->release(s->plan.b);
    s->planned = 0;
}

void csq_engine_free(struct csq_engine *e)
{
    int i;

    if (!e)
        return;
    if (e->t && e->fl)
        csq_bind_release(e->g, e->t, e->fl);
    for (i = 0; e->steps && i < e->g->nnodes; i++) {
        release_plan(e, i);
        csq_mem_afree(e->steps[i].packed);
    }
    free(e->steps);
    free(e->t);
    free(e->fl);
    free(e->weight);
    free(e->off);
    free(e->blk);
    free(e->view);
    free(e->taps);
    free(e->hooks);
    csq_mem_afree(e->arena);
    csq_mem_afree(e->scratch);
    free(e);
}

/* --- taps, hooks and substituted weights --- */

int csq_engine_tap(struct csq_engine *e, int layer, enum csq_tap_at at,
                   csq_tap_fn fn, void *user)
{
    const struct csq_graph *g = e->g;
    struct tap *t;

    if (layer < 0 || layer >= g->nlayers || (at != CSQ_TAP_INPUT && at != CSQ_TAP_PRE &&
                                             at != CSQ_TAP_POST))
        return csq_fail(CSQ_EINVAL, "engine: no layer %d or tap point %d", layer, (int)at);
    t = csq_mem_rearray(e->taps, (size_t)e->ntaps + 1, sizeof *t);
    if (!t)
        return CSQ_ENOMEM;
    e->taps = t;
    t += e->ntaps++;
    t->layer = layer;
    t->at = at;
    t->value = at == CSQ_TAP_INPUT ? g->layers[layer].input
                                   : g->nodes[g->layers[layer].node].out[0];
    t->fn = fn;
    t->user = user;
    if (at == CSQ_TAP_PRE)
        e->steps[g->layers[layer].node].pre_taps++;
    if (at == CSQ_TAP_POST)
        e->steps[g->layers[layer].node].post_taps++;
    if (e->blk[t->value] || (g->vals[t->value].producer >= 0 &&
                             e->steps[g->vals[t->value].producer].silu_to))
        e->planned = 0;     /* a tap reads NCHW, or a Conv's output its SiLU skips */
    return CSQ_OK;
}

int csq_engine_prehook(struct csq_engine *e, int node, int input,
                       csq_prehook_fn fn, void *user)
{
    struct prehook *h;
    int i;

    if (node < 0 || node >= e->g->nnodes || input < 0 || input >= e->g->nodes[node].nin)
        return csq_fail(CSQ_EINVAL, "engine: node %d has no input %d", node, input);
    for (i = 0; i < e->nhooks; i++)
        if (e->hooks[i].node == node && e->hooks[i].input == input)
            return csq_fail(CSQ_EINVAL, "engine: input %d of node %d already has a pre-hook",
                            input, node);
    h = csq_mem_rearray(e->hooks, (size_t)e->nhooks + 1, sizeof *h);
    if (!h)
        return CSQ_ENOMEM;
    e->hooks = h;
    h += e->nhooks++;
    memset(h, 0, sizeof *h);
    h->node = node;
    h->input = input;
    h->fn = fn;
    h->user = user;
    e->planned = 0;         /* the copy needs arena space */
    return CSQ_OK;
}

void csq_engine_clear_hooks(struct csq_engine *e)
{
    int i;

    e->ntaps = 0;
    for (i = 0; i < e->g->nnodes; i++)
        e->steps[i].pre_taps = e->steps[i].post_taps = 0;
    if (e->nhooks)
        e->planned = 0;     /* hook copies had arena space */
    e->nhooks = 0;
}

int csq_engine_set_weight(struct csq_engine *e, int value, const float *data)
{
    const struct csq_graph *g = e->g;
    int i, j;

    if (value < 0 || value >= g->nvals || g->vals[value].kind != CSQ_VAL_INIT ||
        g->vals[value].t.dtype != CSQ_DT_FLOAT)
        return csq_fail(CSQ_EINVAL, "engine: value %d is not a float weight", value);
    e->weight[value] = data;
    e->t[value].data = data ? (void *)data : g->vals[value].t.data;
    for (i = 0; i < g->nnodes; i++)
        for (j = 0; j < g->nodes[i].nin; j++)
            if (g->nodes[i].in[j] == value)
                e->steps[i].packed_ok = 0;
    return CSQ_OK;
}

/* --- planning --- */

static int is_runtime(const struct csq_engine *e, int v)
{
    const struct csq_value *x = &e->g->vals[v];

    return x->kind != CSQ_VAL_INIT && x->kind != CSQ_VAL_INPUT &&
           !(e->fl[v] & CSQ_BIND_FOLDED) && x->producer >= 0 &&
           !e->g->nodes[x->producer].dead;
}

static size_t value_bytes(const struct csq_tensor *t)
{
    int64_t n = csq_tensor_numel(t);
    size_t es = csq_dtype_size(t->dtype);

    if (n <= 0)
        return ALIGN;
    if ((uint64_t)n > (SIZE_MAX - ALIGN) / (es ? es : 8))
        return SIZE_MAX / 2;
    return ((size_t)n * (es ? es : 8) + ALIGN - 1) & ~(size_t)(ALIGN - 1);
}

/* The engine's table afresh from the graph (its own weights substituted),
 * bound to the shapes of inputs. */
static int bind(struct csq_engine *e, const struct csq_tensor *inputs)
{
    const struct csq_graph *g = e->g;
    int i;

    csq_bind_release(g, e->t, e->fl);
    for (i = 0; i < g->nvals; i++) {
        e->t[i] = g->vals[i].t;
        if (g->vals[i].kind != CSQ_VAL_INIT)
            e->t[i].data = NULL;
        else if (e->weight[i])
            e->t[i].data = (void *)e->weight[i];
    }
    return csq_bind(g, e->t, e->fl, inputs, inputs[0].rank > 0 ? inputs[0].dims[0] : 1);
}

/* Node i's fused Relu or Clip runs apart from its kernel, after the taps
 * that read the layer's output before it. */
static int step_apart(const struct csq_engine *e, int i)
{
    const struct csq_node *n = &e->g->nodes[i];
    const struct step *s = &e->steps[i];

    /* a fused Clip was a node of its own: taps at and after the layer's
     * output saw its input */
    return n->fused_relu == 1 ? s->pre_taps > 0
         : n->fused_relu == 2 && s->pre_taps + s->post_taps > 0;
}

/* Which nodes run, their checks (op->plan) and packed sizes.  A plan is
 * made for the fused activation the kernel will apply (oneDNN bakes it
 * into its primitive): taps that move it apart replan (prepare). */
static int plan_steps(struct csq_engine *e)
{
    const struct csq_graph *g = e->g;
    struct csq_kbuf kb;
    int i, j, rc;

    for (i = 0; i < g->nnodes; i++) {
        const struct csq_node *n = &g->nodes[i];
        const struct csq_op *op = csq_ops_get(n->op);
        struct step *s = &e->steps[i];
        struct csq_kargs a;
        size_t np = 0;

        s->run = 0;
        release_plan(e, i);
        for (j = 0; j < n->nout && !n->dead; j++)
            if (n->out[j] >= 0 && is_runtime(e, n->out[j]))
                s->run = 1;
        if (!s->run || !op->plan)
            continue;
        csq_ops_args(g, i, e->t, &a, &kb);
        if (step_apart(e, i))
            a.relu = 0;
        s->plan_relu = a.relu;
        a.grouped_net = e->grouped_net;
        if ((rc = op->plan(&a, s->plan.b)) != 0) {
            csq_err_context("'%s'", g->path);
            return rc;
        }
        s->planned = 1;
        /* a new plan may want its weights in another layout */
        if (op->release)
            s->packed_ok = 0;
        a.plan = s->plan.b;
        /* Only a constant weight can be packed ahead. */
        if (op->packed && n->nin > 1 && n->in[1] >= 0 &&
            g->vals[n->in[1]].kind == CSQ_VAL_INIT)
            np = op->packed(&a);
        if (np != s->npacked)
            s->packed_ok = 0;
        if (np > s->packed_cap) {
            csq_mem_afree(s->packed);
            s->packed_cap = 0;
            if (!(s->packed = csq_mem_aligned(np, sizeof(float))))
                return CSQ_ENOMEM;
            s->packed_cap = np;
        }
        s->npacked = np;
    }
    return CSQ_OK;
}

/* Node i's arguments over the engine's table, with its plan and packing. */
/* Value v kept in layout e->blk[v] as a tensor of its bytes: a blocked
 * one as NCHW with the channels padded to the block, an NHWC one (or an
 * N x C x 1 x 1 one in NCHW, the same bytes) as N x H x W x C, so that
 * element-wise kernels broadcast right over it. */
static const struct csq_tensor *view_as(struct csq_engine *e, int v, int b)
{
    struct csq_tensor *t = &e->view[v];

    *t = e->t[v];
    if (b > 1) {
        t->dims[1] = (t->dims[1] + b - 1) / b * b;
    } else if (b == 1) {
        t->dims[1] = e->t[v].dims[2];
        t->dims[2] = e->t[v].dims[3];
        t->dims[3] = e->t[v].dims[1];
    }
    return t;
}

static const struct csq_tensor *view(struct csq_engine *e, int v)
{
    return view_as(e, v, e->blk[v]);
}

static void step_args(struct csq_engine *e, int i, struct csq_kargs *a, struct csq_kbuf *kb)
{
    const struct step *s = &e->steps[i];
    const struct csq_node *n = &e->g->nodes[i];
    int j, nhwc;

    csq_ops_args(e->g, i, e->t, a, kb);
    if (s->planned)
        a->plan = s->plan.b;
    if (s->npacked)
        a->packed = s->packed;
    /* an element-wise node computing NHWC reads its N x C x 1 x 1
     * operands as N x 1 x 1 x C */
    nhwc = n->nout > 0 && n->out[0] >= 0 && e->blk[n->out[0]] == 1 &&
           (csq_ops_get(n->op)->flags & CSQ_OPF_ELTWISE);
    for (j = 0; j < n->nin; j++)
        if (n->in[j] >= 0 && (e->blk[n->in[j]] || (nhwc && e->t[n->in[j]].rank == 4)))
            kb->in[j] = view_as(e, n->in[j], nhwc ? 1 : e->blk[n->in[j]]);
    for (j = 0; j < n->nout; j++)
        if (n->out[j] >= 0 && e->blk[n->out[j]])
            kb->out[j] = (struct csq_tensor *)view(e, n->out[j]);
    a->in_blk = n->nin > 0 && n->in[0] >= 0 ? e->blk[n->in[0]] : 0;
    a->out_blk = n->nout > 0 && n->out[0] >= 0 ? e->blk[n->out[0]] : 0;
}

/* The layout an element-wise node i can compute its output v in: that of
 * its inputs of v's shape, which must all be kept in one layout; inputs
 * of one element broadcast in any layout, and N x C x 1 x 1 ones (a
 * squeeze-excite scale) over NHWC when they are NCHW or NHWC (the same
 * bytes, viewed as N x 1 x 1 x C), or over a channel-blocked layout in
 * any layout (op_eltwise.c reads them per block).  0 when there is none. */
static int eltwise_block(const struct csq_engine *e, int i, int v)
{
    const struct csq_node *n = &e->g->nodes[i];
    const struct csq_tensor *y = &e->t[v];
    int j, d, b = 0, small_blk = 0;

    if (n->nout != 1)
        return 0;
    for (j = 0; j < e->nhooks; j++)
        if (e->hooks[j].node == i)
            return 0;       /* a hook's copy is NCHW */
    for (j = 0; j < n->nin; j++) {
        const struct csq_tensor *x;
        int u = n->in[j], full = 1;

        if (u < 0 || csq_tensor_numel(&e->t[u]) == 1)
            continue;
        x = &e->t[u];
        if (x->rank != 4)
            return 0;
        for (d = 0; d < 4; d++)
            full = full && x->dims[d] == y->dims[d];
        if (full && e->blk[u]) {
            if (b && e->blk[u] != b)
                return 0;
            b = e->blk[u];
        } else if (!full && x->dims[2] == 1 && x->dims[3] == 1 && x->dims[1] == y->dims[1] &&
                   (x->dims[0] == y->dims[0] || x->dims[0] == 1)) {
            small_blk |= e->blk[u] > 1;     /* per channel */
        } else {
            return 0;
        }
    }
    /* a blocked N x C x 1 x 1 is padded per image: not N x 1 x 1 x C */
    return b == 1 && small_blk ? 0 : b;
}

/* Every reader of blocked value v takes it in its block. */
static int readers_take(const struct csq_engine *e, int v)
{
    const struct csq_graph *g = e->g;
    int i, j, h;

    for (i = 0; i < g->noutputs; i++)
        if (g->outputs[i] == v)
            return 0;
    for (i = 0; i < e->ntaps; i++)
        if (e->taps[i].value == v)
            return 0;
    for (i = 0; i < g->nnodes; i++) {
        const struct csq_node *n = &g->nodes[i];
        const struct csq_op *op = csq_ops_get(n->op);

        if (n->dead || !e->steps[i].run)
            continue;
        for (j = 0; j < n->nin; j++) {
            if (n->in[j] != v)
                continue;
            for (h = 0; h < e->nhooks; h++)
                if (e->hooks[h].node == i && e->hooks[h].input == j)
                    return 0;
            if (op->blocks) {
                if (j != 0 || e->steps[i].in_blk != e->blk[v])
                    return 0;
            } else if (!(op->flags & CSQ_OPF_ELTWISE) || n->out[0] < 0 ||
                       e->blk[n->out[0]] != e->blk[v]) {
                return 0;
            }
        }
    }
    return 1;
}

/* Which values stay blocked (e->blk): the writers that can make them,
 * then, until nothing changes, back to NCHW every value a reader cannot
 * take and every element-wise output whose inputs are no longer blocked. */
static void plan_layouts(struct csq_engine *e)
{
    const struct csq_graph *g = e->g;
    struct csq_kbuf kb;
    int i, changed;

    memset(e->blk, 0, (size_t)g->nvals * sizeof *e->blk);
    for (i = 0; i < g->nnodes; i++) {
        const struct csq_node *n = &g->nodes[i];
        const struct csq_op *op = csq_ops_get(n->op);
        struct step *s = &e->steps[i];
        int v = n->nout > 0 ? n->out[0] : -1, ob = 0;

        s->in_blk = 0;
        if (!s->run || v < 0 || !is_runtime(e, v) || e->t[v].rank != 4 ||
            e->t[v].dtype != CSQ_DT_FLOAT)
            continue;
        if (op->blocks) {
            struct csq_kargs a;

            step_args(e, i, &a, &kb);
            op->blocks(&a, &s->in_blk, &ob);
            e->blk[v] = ob;
        } else if (op->flags & CSQ_OPF_ELTWISE) {
            e->blk[v] = eltwise_block(e, i, v);
        }
    }
    do {
        changed = 0;
        for (i = 0; i < g->nvals; i++)
            if (e->blk[i] && !readers_take(e, i)) {
                e->blk[i] = 0;
                changed = 1;
            }
        for (i = 0; i < g->nnodes; i++) {
            const struct csq_node *n = &g->nodes[i];
            int v = n->nout > 0 ? n->out[0] : -1;

            if (e->steps[i].run && v >= 0 && e->blk[v] && !csq_ops_get(n->op)->blocks &&
                eltwise_block(e, i, v) != e->blk[v]) {
                e->blk[v] = 0;
                changed = 1;
            }
        }
    } while (changed);
}

/* The node that computes value v under the plan (a fused Add's Conv). */
static int producer_of(const struct csq_engine *e, int v)
{
    int p = e->g->vals[v].producer;

    return p >= 0 && e->steps[p].add_into ? e->steps[p].add_into - 1 : p;
}

/* Adds folded into the oneDNN Conv that computes one of their inputs,
 * y = act(conv(x) + r): when that input has no other reader, the Add's
 * output, the input and r are kept in the Conv's layout (so no tap or
 * hook reads them), and r is computed before the Conv runs.  The Conv
 * then writes y straight away, with r read per image while y is in cache,
 * and the Add is skipped. */
static void plan_adds(struct csq_engine *e)
{
    const struct csq_graph *g = e->g;
    int i, j, k, h;

    for (i = 0; i < g->nnodes; i++)
        e->steps[i].add_into = e->steps[i].add_from = 0;
    for (i = 0; i < g->nnodes && e->add_op >= 0; i++) {
        const struct csq_node *n = &g->nodes[i];
        int y = n->nout == 1 ? n->out[0] : -1, hooked = 0;

        if (!e->steps[i].run || n->op != e->add_op || n->nin != 2 || y < 0 || !e->blk[y])
            continue;
        for (h = 0; h < e->nhooks; h++)
            hooked |= e->hooks[h].node == i;
        for (j = 0; j < 2 && !hooked; j++) {
            int v = n->in[j], r = n->in[1 - j], c, readers = 0, d, same = 1;
            const struct csq_op *op;

            if (v < 0 || r < 0 || v == r || e->blk[v] != e->blk[y] || e->blk[r] != e->blk[y])
                continue;
            for (d = 0; d < 4; d++)
                same = same && e->t[v].dims[d] == e->t[y].dims[d] &&
                       e->t[r].dims[d] == e->t[y].dims[d];
            c = g->vals[v].producer;
            if (!same || c < 0 || !is_runtime(e, r) || producer_of(e, r) >= c)
                continue;
            op = csq_ops_get(g->nodes[c].op);
            if (!op->fuse_add || !e->steps[c].planned || !e->steps[c].run ||
                e->steps[c].add_from || e->steps[c].plan_relu)
                continue;
            for (k = 0; k < g->nnodes; k++) {
                int m;

                if (g->nodes[k].dead || !e->steps[k].run)
                    continue;
                for (m = 0; m < g->nodes[k].nin; m++)
                    readers += g->nodes[k].in[m] == v;
            }
            if (readers != 1 || !op->fuse_add(e->steps[c].plan.b, n->fused_relu, n->fused_lo,
                                              n->fused_hi))
                continue;
            e->steps[c].add_from = i + 1;
            e->steps[c].add_r = r;
            e->steps[i].add_into = c + 1;
            break;
        }
    }
}

/* Running reads of value v, and whether a graph output, tap or pre-hook
 * reads it (then its computation cannot be skipped). */
static int readers_of(const struct csq_engine *e, int v, int *seen)
{
    const struct csq_graph *g = e->g;
    int i, j, n = 0;

    *seen = 0;
    for (i = 0; i < g->noutputs; i++)
        *seen |= g->outputs[i] == v;
    for (i = 0; i < e->ntaps; i++)
        *seen |= e->taps[i].value == v;
    for (i = 0; i < e->nhooks; i++)
        *seen |= g->nodes[e->hooks[i].node].in[e->hooks[i].input] == v;
    for (i = 0; i < g->nnodes; i++) {
        if (g->nodes[i].dead || !e->steps[i].run)
            continue;
        for (j = 0; j < g->nodes[i].nin; j++)
            n += g->nodes[i].in[j] == v;
    }
    return n;
}

/* SiLUs y = Mul(v, Sigmoid(v)) (EfficientNet's, as PyTorch exports them)
 * folded into the oneDNN Conv computing v, when v is read by just those
 * two and the Sigmoid's output by just the Mul, neither tapped nor
 * hooked, all three in one layout: the Conv writes y with oneDNN's swish
 * post-op and the Sigmoid and Mul are skipped.  Taps on y run after the
 * Conv. */
static void plan_silus(struct csq_engine *e)
{
    const struct csq_graph *g = e->g;
    int i, j, d;

    for (i = 0; i < g->nnodes; i++)
        e->steps[i].silu_to = 0;
    for (i = 0; i < g->nnodes && e->sigmoid_op >= 0 && e->mul_op >= 0; i++) {
        const struct csq_node *n = &g->nodes[i];
        int y = n->nout == 1 ? n->out[0] : -1;

        if (!e->steps[i].run || e->steps[i].add_into || n->op != e->mul_op || n->nin != 2 ||
            y < 0 || n->layer >= 0 || n->fused_relu || e->t[y].rank != 4)
            continue;
        for (j = 0; j < 2; j++) {
            int v = n->in[j], u = n->in[1 - j], sg, c, seen_v, seen_u, same = 1;
            const struct csq_op *op;

            if (v < 0 || u < 0 || v == u || !is_runtime(e, v) || !is_runtime(e, u))
                continue;
            sg = g->vals[u].producer;
            c = g->vals[v].producer;
            if (sg < 0 || c < 0 || g->nodes[sg].op != e->sigmoid_op || g->nodes[sg].nin != 1 ||
                g->nodes[sg].in[0] != v || g->nodes[sg].layer >= 0 || e->steps[sg].add_into)
                continue;
            op = csq_ops_get(g->nodes[c].op);
            if (!op->fuse_silu || !e->steps[c].planned || !e->steps[c].run ||
                !e->steps[c].npacked || e->steps[c].add_from || e->steps[c].add_into ||
                e->steps[c].plan_relu || g->nodes[c].fused_relu || g->nodes[c].nout != 1)
                continue;
            if (e->blk[v] != e->blk[y] || e->blk[u] != e->blk[y] || e->t[v].rank != 4 ||
                e->t[u].rank != 4)
                continue;
            for (d = 0; d < 4; d++)
                same = same && e->t[v].dims[d] == e->t[y].dims[d] &&
                       e->t[u].dims[d] == e->t[y].dims[d];
            if (!same || readers_of(e, v, &seen_v) != 2 || seen_v ||
                readers_of(e, u, &seen_u) != 1 || seen_u)
                continue;
            if (!op->fuse_silu(e->steps[c].plan.b))
                continue;
            e->steps[c].silu_to = i + 1;
            e->steps[sg].add_into = e->steps[i].add_into = c + 1;
            break;
        }
    }
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
static int plan_arena(struct csq_engine *e)
{
    const struct csq_graph *g = e->g;
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
        if (!is_runtime(e, i))
            continue;
        iv[n].first = producer_of(e, i);
        iv[n].last = g->vals[i].producer;
        iv[n].bytes = value_bytes(e->blk[i] ? view(e, i) : &e->t[i]);
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
        int v = g->nodes[e->hooks[i].node].in[e->hooks[i].input];
        iv[n].first = iv[n].last = e->hooks[i].node;
        iv[n].bytes = v >= 0 ? value_bytes(&e->t[v]) : ALIGN;
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
                size_t po = p->value >= 0 ? e->off[p->value] : e->hooks[p->hook].off;
                if (p->last < iv[i].first || iv[i].last < p->first)
                    continue;
                if (off < po + p->bytes && po < off + iv[i].bytes) {
                    off = po + p->bytes;
                    moved = 1;
                }
            }
        }
        if (iv[i].value >= 0)
            e->off[iv[i].value] = off;
        else
            e->hooks[iv[i].hook].off = off;
        placed[nplaced++] = i;
        if (off + iv[i].bytes > top)
            top = off + iv[i].bytes;
    }
    /* Scratch: the most any kernel asks for. */
    for (i = 0; i < g->nnodes; i++) {
        const struct csq_op *op = csq_ops_get(g->nodes[i].op);
        struct csq_kargs a;
        size_t s;

        if (!e->steps[i].run || !op->scratch)
            continue;
        step_args(e, i, &a, &kb);
        s = op->scratch(&a);
        if (s > scratch)
            scratch = s;
    }
    e->arena_bytes = top;
    e->scratch_floats = scratch;
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

static int replan(struct csq_engine *e, const struct csq_tensor *inputs)
{
    const struct csq_graph *g = e->g;
    int rc, i;

    e->planned = 0;
    for (i = 0; i < g->ninputs; i++) {
        const struct csq_value *v = &g->vals[g->inputs[i]];
        if (inputs[i].dtype != v->t.dtype)
            return csq_fail(CSQ_ESHAPE, "input '%s' of '%s' has the wrong data type",
                            v->name, g->path);
    }
    memset(e->blk, 0, (size_t)g->nvals * sizeof *e->blk);
    if ((rc = bind(e, inputs)) != 0 || (rc = plan_steps(e)) != 0)
        return rc;
    plan_layouts(e);
    plan_adds(e);
    plan_silus(e);
    if ((rc = plan_arena(e)) != 0)
        return rc;
    if (e->arena_bytes + e->scratch_floats * sizeof(float) > csq_limit_memory())
        return csq_fail(CSQ_ELIMIT, "'%s': batch %lld needs %.1f MiB of activations, over the "
                        "memory limit of %.1f MiB: try a smaller batch", g->path,
                        (long long)(inputs[0].rank ? inputs[0].dims[0] : 1),
                        (e->arena_bytes + e->scratch_floats * sizeof(float))
                        / 1048576.0, csq_limit_memory() / 1048576.0);
    if (e->arena_bytes > e->arena_cap) {
        csq_mem_afree(e->arena);
        e->arena_cap = 0;
        e->arena = csq_mem_aligned(e->arena_bytes, 1);
        if (!e->arena) {
            csq_errclear();
            return csq_fail(CSQ_ENOMEM, "'%s': cannot allocate %.1f MiB of activations "
                            "for batch %lld (try a smaller batch)", g->path,
                            (double)e->arena_bytes / 1048576.0,
                            (long long)(inputs[0].rank ? inputs[0].dims[0] : 1));
        }
        e->arena_cap = e->arena_bytes;
    }
    if (e->scratch_floats > e->scratch_cap) {
        csq_mem_afree(e->scratch);
        e->scratch_cap = 0;
        e->scratch = csq_mem_aligned(e->scratch_floats, sizeof(float));
        if (!e->scratch)
            return CSQ_ENOMEM;
        e->scratch_cap = e->scratch_floats;
    }
    for (i = 0; i < g->nvals; i++)
        if (is_runtime(e, i))
            e->t[i].data = e->arena + e->off[i];
    for (i = 0; i < e->nhooks; i++) {
        int v = g->nodes[e->hooks[i].node].in[e->hooks[i].input];
        if (v >= 0) {
            e->hooks[i].t = e->t[v];
            e->hooks[i].t.data = e->arena + e->hooks[i].off;
        }
    }
    for (i = 0; i < g->ninputs; i++) {
        e->bound[i] = inputs[i];
        if (small_bytes(&inputs[i]))
            memcpy(e->small[i], inputs[i].data, small_bytes(&inputs[i]));
    }
    e->nthreads = csq_ops_threads();
    e->planned = 1;
    return CSQ_OK;
}

/* Pack the weights that changed (all, after a replan). */
static void repack(struct csq_engine *e)
{
    struct csq_kbuf kb;
    int i;

    for (i = 0; i < e->g->nnodes; i++) {
        struct step *s = &e->steps[i];
        struct csq_kargs a;

        if (!s->run || !s->npacked || s->packed_ok)
            continue;
        step_args(e, i, &a, &kb);
        csq_ops_get(e->g->nodes[i].op)->pack(&a, s->packed);
        s->packed_ok = 1;
    }
}

static int prepare(struct csq_engine *e, const struct csq_tensor *inputs)
{
    int rc, i;

    for (i = 0; e->planned && i < e->g->nnodes; i++)
        if (e->steps[i].planned &&
            e->steps[i].plan_relu != (step_apart(e, i) ? 0 : e->g->nodes[i].fused_relu))
            e->planned = 0;     /* taps came or went */
    if (!(e->planned && e->nthreads == csq_ops_threads() && same_shapes(e, inputs)) &&
        (rc = replan(e, inputs)) != 0)
        return rc;
    repack(e);
    return CSQ_OK;
}

/* --- forward --- */

/* Taps on value v at the points in mask (bits 1 << enum csq_tap_at). */
static int run_taps(struct csq_engine *e, int v, unsigned mask)
{
    int i, rc;

    for (i = 0; i < e->ntaps; i++)
        if (e->taps[i].value == v && (mask >> e->taps[i].at & 1u) &&
            (rc = e->taps[i].fn(e->taps[i].user, e->taps[i].layer, &e->t[v])) != 0)
            return rc;
    return CSQ_OK;
}

/* The Relu or Clip fused into a node, applied apart, in place on its
 * output, by the op's own kernel. */
static int relu_apart(const struct csq_engine *e, const struct csq_kargs *ka, int kind)
{
    struct csq_tensor *y = ka->out[0];
    struct csq_tensor lo = {CSQ_DT_FLOAT, 0, {0}, NULL}, hi = lo;
    const struct csq_tensor *in[3];
    struct csq_tensor *out[1];
    struct csq_kargs a = *ka;
    float b[2] = {ka->lo, ka->hi};

    lo.data = &b[0];
    hi.data = &b[1];
    in[0] = y;
    in[1] = &lo;
    in[2] = &hi;
    out[0] = y;
    a.nin = kind == 2 ? 3 : 1;
    a.nout = 1;
    a.in = in;
    a.out = out;
    a.relu = 0;
    a.plan = NULL;
    a.packed = NULL;
    a.opset = 13;           /* Clip's bounds as inputs */
    return csq_ops_get(kind == 2 ? e->clip_op : e->relu_op)->run(&a);
}

/* Nodes [from, to) on the data in place (the values alive at from). */
static int run_nodes(struct csq_engine *e, int from, int to)
{
    const struct csq_graph *g = e->g;
    const unsigned at_input = 1u << CSQ_TAP_INPUT, at_pre = 1u << CSQ_TAP_PRE;
    const unsigned at_post = 1u << CSQ_TAP_POST;
    struct csq_kbuf kb;
    int i, j, h, rc;

    for (i = from; i < to; i++) {
        const struct csq_node *n = &g->nodes[i];
        const struct step *s = &e->steps[i];
        struct csq_kargs a;
        int apart;

        if (!s->run || s->add_into)
            continue;           /* dead, folded at bind time, or run by a Conv */
        csq_ops_threads_watch();
        step_args(e, i, &a, &kb);
        a.scratch = e->scratch;
        if (s->add_from) {
            const struct csq_node *add = &g->nodes[s->add_from - 1];

            kb.out[0] = (struct csq_tensor *)view(e, add->out[0]);
            a.sum = e->t[s->add_r].data;
            a.relu = add->fused_relu;
            a.lo = add->fused_lo;
            a.hi = add->fused_hi;
        }
        if (s->silu_to) {
            int y = g->nodes[s->silu_to - 1].out[0];

            kb.out[0] = e->blk[y] ? (struct csq_tensor *)view(e, y) : &e->t[y];
            a.silu = 1;
        }
        apart = step_apart(e, i);
        if (apart)
            a.relu = 0;
        for (h = 0; h < e->nhooks; h++) {
            struct prehook *ph = &e->hooks[h];
            int v;
            if (ph->node != i || (v = n->in[ph->input]) < 0)
                continue;
            memcpy(ph->t.data, e->t[v].data, (size_t)csq_tensor_numel(&e->t[v]) *
                   csq_dtype_size(e->t[v].dtype));
            if ((rc = ph->fn(ph->user, i, ph->input, &ph->t)) != 0)
                return rc;
            kb.in[ph->input] = &ph->t;
        }
        if ((rc = csq_ops_get(n->op)->run(&a)) != 0) {
            csq_err_context("'%s'", g->path);
            return rc;
        }
        if (!e->ntaps)
            continue;
        for (j = 0; j < n->nout; j++) {
            int v = n->out[j];
            if (v < 0)
                continue;
            if (j == 0 && n->layer >= 0) {
                if ((rc = run_taps(e, v, at_pre)) != 0)
                    return rc;
                if (apart && n->fused_relu == 2) {
                    if ((rc = run_taps(e, v, at_post)) != 0 ||
                        (rc = relu_apart(e, &a, 2)) != 0 ||
                        (rc = run_taps(e, v, at_input)) != 0)
                        return rc;
                    continue;
                }
                if (apart && (rc = relu_apart(e, &a, 1)) != 0)
                    return rc;
            }
            if ((rc = run_taps(e, v, at_post | at_input)) != 0)
                return rc;
        }
        /* the SiLU's output, written by this Conv (its own output has no taps) */
        if (s->silu_to && (rc = run_taps(e, g->nodes[s->silu_to - 1].out[0], at_input)) != 0)
            return rc;
    }
    return CSQ_OK;
}

int csq_engine_forward_to(struct csq_engine *e, const struct csq_tensor *inputs, int to)
{
    const struct csq_graph *g = e->g;
    int i, rc;

    if (to < 0 || to > g->nnodes)
        return csq_fail(CSQ_EINVAL, "engine: node %d is not in 0..%d", to, g->nnodes);
    if ((rc = prepare(e, inputs)) != 0)
        return rc;
    for (i = 0; i < g->ninputs; i++)
        e->t[g->inputs[i]].data = inputs[i].data;
    for (i = 0; i < g->ninputs; i++)
        if (e->ntaps && (rc = run_taps(e, g->inputs[i], 1u << CSQ_TAP_INPUT)) != 0)
            return rc;
    return run_nodes(e, 0, to);
}

int csq_engine_forward(struct csq_engine *e, const struct csq_tensor *inputs)
{
    return csq_engine_forward_to(e, inputs, e->g->nnodes);
}

/* --- resuming part-way --- */

/* Value v is alive just before node: computed (or fed) earlier and read by
 * node or a later one, or a graph output already computed. */
static int alive_at(const struct csq_engine *e, int v, int node)
{
    const struct csq_graph *g = e->g;
    const struct csq_value *x = &g->vals[v];
    int i, j;

    if (x->kind == CSQ_VAL_INPUT)
        ;
    else if (!is_runtime(e, v) || producer_of(e, v) >= node)
        return 0;
    for (i = 0; i < g->noutputs; i++)
        if (g->outputs[i] == v)
            return 1;
    for (i = node; i < g->nnodes; i++) {
        if (g->nodes[i].dead || !e->steps[i].run)
            continue;
        for (j = 0; j < g->nodes[i].nin; j++)
            if (g->nodes[i].in[j] == v)
                return 1;
    }
    return 0;
}

/* bytes of value v's data as stored (blocked: with its padding) */
static size_t data_bytes(const struct csq_engine *e, int v)
{
    const struct csq_tensor *t = &e->t[v];
    int64_t n = csq_tensor_numel(t);

    if (e->blk[v])
        n = csq_tensor_numel(view((struct csq_engine *)e, v));
    return (size_t)n * csq_dtype_size(t->dtype);
}

int csq_engine_cut_bytes(const struct csq_engine *e, int node, size_t *bytes)
{
    int v;

    *bytes = 0;
    if (!e->planned || node < 0 || node > e->g->nnodes)
        return csq_fail(CSQ_EINVAL, "engine: no forward to cut at node %d", node);
    for (v = 0; v < e->g->nvals; v++)
        if (alive_at(e, v, node))
            *bytes += data_bytes(e, v);
    return CSQ_OK;
}

int csq_engine_cut_save(const struct csq_engine *e, int node, void *buf)
{
    unsigned char *p = buf;
    size_t n;
    int v, rc;

    if ((rc = csq_engine_cut_bytes(e, node, &n)) != 0)
        return rc;
    for (v = 0; v < e->g->nvals; v++)
        if (alive_at(e, v, node)) {
            n = data_bytes(e, v);
            memcpy(p, e->t[v].data, n);
            p += n;
        }
    return CSQ_OK;
}

int csq_engine_resume(struct csq_engine *e, int node, int to, void *buf)
{
    const struct csq_graph *g = e->g;
    unsigned char *p = buf;
    size_t n;
    int v, rc;

    if ((rc = csq_engine_cut_bytes(e, node, &n)) != 0)
        return rc;
    if (to < node || to > g->nnodes)
        return csq_fail(CSQ_EINVAL, "engine: cannot run nodes %d..%d", node, to);
    for (v = 0; v < g->nvals; v++)
        if (alive_at(e, v, node)) {
            n = data_bytes(e, v);
            /* A fed input's caller buffer may be gone: read the copy. */
            if (g->vals[v].kind == CSQ_VAL_INPUT)
                e->t[v].data = p;
            else
                memcpy(e->t[v].data, p, n);
            p += n;
        }
    if (e->nthreads != csq_ops_threads())
        return csq_fail(CSQ_EINVAL, "engine: the thread count changed since the forward");
    for (v = 0; v < g->nnodes; v++)
        if (e->steps[v].planned &&
            e->steps[v].plan_relu != (step_apart(e, v) ? 0 : g->nodes[v].fused_relu))
            return csq_fail(CSQ_EINVAL, "engine: taps changed since the forward");
    repack(e);  /* weights substituted since the last forward */
    return run_nodes(e, node, to);
}

const struct csq_tensor *csq_engine_output(const struct csq_engine *e, int i)
{
    if (i < 0 || i >= e->g->noutputs)
        return NULL;
    return &e->t[e->g->outputs[i]];
}
