/*
 * graph: lifetime of the graph IR and the passes that prepare it: sort
 * and cycle check, BatchNormalization folding, layer discovery and
 * naming, and shape binding with constant folding (see graph.h).
 */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn/graph.h"
#include "nn/ops.h"
#include "util/err.h"
#include "util/mem.h"

/* --- lifetime and look-ups --- */

static void free_attr(struct csq_attr *a)
{
    free(a->name);
    free(a->s);
    free(a->ints);
    free(a->floats);
    free(a->t.data);
}

void csq_graph_free(struct csq_graph *g)
{
    int i, j;

    if (!g)
        return;
    for (i = 0; i < g->nvals; i++) {
        free(g->vals[i].name);
        if (g->vals[i].kind == CSQ_VAL_INIT || g->vals[i].kind == CSQ_VAL_FOLDED)
            free(g->vals[i].t.data);
    }
    for (i = 0; i < g->nnodes; i++) {
        struct csq_node *n = &g->nodes[i];
        free(n->name);
        free(n->op_type);
        free(n->in);
        free(n->out);
        for (j = 0; j < n->nattrs; j++)
            free_attr(&n->attrs[j]);
        free(n->attrs);
    }
    for (i = 0; i < g->nlayers; i++)
        free(g->layers[i].name);
    for (i = 0; i < g->nmeta; i++) {
        free(g->meta[i].key);
        free(g->meta[i].value);
    }
    free(g->vals);
    free(g->nodes);
    free(g->inputs);
    free(g->outputs);
    free(g->layers);
    free(g->meta);
    free(g->path);
    free(g->producer);
    free(g);
}

int csq_graph_find_value(const struct csq_graph *g, const char *name)
{
    int i;

    for (i = 0; i < g->nvals; i++)
        if (strcmp(g->vals[i].name, name) == 0)
            return i;
    return -1;
}

const char *csq_graph_meta(const struct csq_graph *g, const char *key)
{
    int i;

    for (i = 0; i < g->nmeta; i++)
        if (strcmp(g->meta[i].key, key) == 0)
            return g->meta[i].value;
    return NULL;
}

const char *csq_node_label(const struct csq_graph *g, int node, char *buf, size_t len)
{
    const struct csq_node *n = &g->nodes[node];

    if (n->name && *n->name)
        return n->name;
    snprintf(buf, len, "%s_%d", n->op_type, node);
    return buf;
}

static int is_const(const struct csq_value *v)
{
    return v->kind == CSQ_VAL_INIT || v->kind == CSQ_VAL_FOLDED;
}

/* --- topological sort --- */

int csq_graph_check(struct csq_graph *g)
{
    int *indeg = NULL, *order = NULL, *newpos = NULL, *start = NULL, *cons = NULL;
    char *done = NULL;
    struct csq_node *sorted = NULL;
    int i, j, k, total = 0, first = 0, rc = CSQ_OK;

    for (i = 0; i < g->nnodes; i++)
        total += g->nodes[i].nin;
    indeg = csq_mem_zarray((size_t)g->nnodes + 1, sizeof(int));
    order = csq_mem_array((size_t)g->nnodes + 1, sizeof(int));
    newpos = csq_mem_array((size_t)g->nnodes + 1, sizeof(int));
    start = csq_mem_zarray((size_t)g->nvals + 2, sizeof(int));
    cons = csq_mem_array((size_t)total + 1, sizeof(int));
    done = csq_mem_zarray((size_t)g->nnodes + 1, 1);
    sorted = csq_mem_array((size_t)g->nnodes + 1, sizeof *sorted);
    if (!indeg || !order || !newpos || !start || !cons || !done || !sorted) {
        rc = CSQ_ENOMEM;
        goto out;
    }
    /* Consumers of each value, as compressed rows. */
    for (i = 0; i < g->nnodes; i++)
        for (j = 0; j < g->nodes[i].nin; j++)
            if (g->nodes[i].in[j] >= 0) {
                start[g->nodes[i].in[j] + 1]++;
                if (g->vals[g->nodes[i].in[j]].producer >= 0)
                    indeg[i]++;
            }
    for (i = 0; i < g->nvals; i++)
        start[i + 1] += start[i];
    {
        int *cur = csq_mem_array((size_t)g->nvals + 1, sizeof(int));
        if (!cur) {
            rc = CSQ_ENOMEM;
            goto out;
        }
        memcpy(cur, start, (size_t)g->nvals * sizeof(int));
        for (i = 0; i < g->nnodes; i++)
            for (j = 0; j < g->nodes[i].nin; j++)
                if (g->nodes[i].in[j] >= 0)
                    cons[cur[g->nodes[i].in[j]]++] = i;
        free(cur);
    }
    /* Kahn's algorithm, always taking the ready node that comes first in
     * the file: a sorted file keeps its order, so layers are listed in
     * the order the exporter (and PyTorch's forward) ran them. */
    for (k = 0; k < g->nnodes; k++) {
        int n = -1;
        while (first < g->nnodes && done[first])
            first++;
        for (i = first; i < g->nnodes; i++)
            if (!done[i] && indeg[i] == 0) {
                n = i;
                break;
            }
        if (n < 0)
            break;
        done[n] = 1;
        order[k] = n;
        for (j = 0; j < g->nodes[n].nout; j++) {
            int v = g->nodes[n].out[j], q;
            if (v < 0)
                continue;
            for (q = start[v]; q < start[v + 1]; q++)
                indeg[cons[q]]--;
        }
    }
    if (k < g->nnodes) {
        char buf[64];
        for (i = 0; i < g->nnodes; i++)
            if (!done[i])
                break;
        rc = csq_fail(CSQ_EFORMAT, "'%s': the graph has a cycle through node '%s'",
                      g->path, csq_node_label(g, i, buf, sizeof buf));
        goto out;
    }
    for (i = 0; i < g->nnodes; i++) {
        sorted[i] = g->nodes[order[i]];
        newpos[order[i]] = i;
    }
    memcpy(g->nodes, sorted, (size_t)g->nnodes * sizeof *sorted);
    for (i = 0; i < g->nvals; i++)
        if (g->vals[i].producer >= 0)
            g->vals[i].producer = newpos[g->vals[i].producer];
out:
    free(indeg);
    free(order);
    free(newpos);
    free(start);
    free(cons);
    free(done);
    free(sorted);
    return rc;
}

/* --- BatchNormalization folding --- */

static int new_const(struct csq_graph *g, const char *name, const struct csq_tensor *t)
{
    struct csq_value *v = csq_mem_rearray(g->vals, (size_t)g->nvals + 1, sizeof *v);

    if (!v)
        return -1;
    g->vals = v;
    v = &g->vals[g->nvals];
    memset(v, 0, sizeof *v);
    v->name = csq_mem_strdup(name);
    if (!v->name)
        return -1;
    v->kind = CSQ_VAL_INIT;
    v->t = *t;
    v->producer = -1;
    return g->nvals++;
}

static int bn_foldable(const struct csq_graph *g, const struct csq_node *bn)
{
    const struct csq_node *cv;
    int x = bn->in[0], i, c;

    if (bn->nin != 5 || x < 0 || g->vals[x].producer < 0 || g->vals[x].nconsumers != 1)
        return 0;
    if (csq_node_int(bn, "training_mode", 0) != 0)
        return 0;
    for (i = 1; i < bn->nout; i++)
        if (bn->out[i] >= 0 && g->vals[bn->out[i]].nconsumers > 0)
            return 0;
    cv = &g->nodes[g->vals[x].producer];
    if (strcmp(cv->op_type, "Conv") != 0 || cv->dead || cv->nin < 2 || cv->in[1] < 0)
        return 0;
    if (!is_const(&g->vals[cv->in[1]]) || g->vals[cv->in[1]].t.rank < 3 ||
        g->vals[cv->in[1]].t.dtype != CSQ_DT_FLOAT)
        return 0;
    c = (int)g->vals[cv->in[1]].t.dims[0];
    if (cv->nin > 2 && cv->in[2] >= 0) {
        const struct csq_value *b = &g->vals[cv->in[2]];
        if (!is_const(b) || b->t.rank != 1 || b->t.dims[0] != c)
            return 0;
    }
    for (i = 1; i < 5; i++) {
        const struct csq_value *p = bn->in[i] >= 0 ? &g->vals[bn->in[i]] : NULL;
        if (!p || !is_const(p) || p->t.dtype != CSQ_DT_FLOAT || p->t.rank != 1 ||
            p->t.dims[0] != c)
            return 0;
    }
    return 1;
}

/*
 * conv(x, W) + b followed by BN(scale s, shift t, mean m, var v, eps) is
 * conv(x, W * k) + (b - m) * k + t with k = s / sqrt(v + eps) per output
 * channel; k is computed in double so folding adds no float error of its
 * own beyond the final rounding.
 */
static int fold_one(struct csq_graph *g, int bni)
{
    struct csq_node *bn = &g->nodes[bni];
    int convi = g->vals[bn->in[0]].producer;
    struct csq_node *cv = &g->nodes[convi];
    const struct csq_tensor *w = &g->vals[cv->in[1]].t;
    const float *bias = cv->nin > 2 && cv->in[2] >= 0 ? g->vals[cv->in[2]].t.data : NULL;
    const float *s = g->vals[bn->in[1]].t.data, *t = g->vals[bn->in[2]].t.data;
    const float *m = g->vals[bn->in[3]].t.data, *var = g->vals[bn->in[4]].t.data;
    double eps = csq_node_float(bn, "epsilon", 1e-5f);
    int64_t c = w->dims[0], per = csq_tensor_numel(w) / (c ? c : 1), o, i;
    struct csq_tensor nw = *w, nb;
    char *wname, *bname;
    int wv, bv, *nin;

    memset(&nb, 0, sizeof nb);
    nb.dtype = CSQ_DT_FLOAT;
    nb.rank = 1;
    nb.dims[0] = c;
    nw.data = csq_mem_array((size_t)(c * per), sizeof(float));
    nb.data = csq_mem_array((size_t)c, sizeof(float));
    wname = csq_mem_strdup(g->vals[cv->in[1]].name);
    bname = malloc(strlen(wname ? wname : "") + 16);
    if (!nw.data || !nb.data || !wname || !bname) {
        free(nw.data);
        free(nb.data);
        free(wname);
        free(bname);
        return csq_fail(CSQ_ENOMEM, "out of memory folding BatchNormalization");
    }
    sprintf(bname, "%s.folded_bias", wname);
    for (o = 0; o < c; o++) {
        double k = (double)s[o] / sqrt((double)var[o] + eps);
        for (i = 0; i < per; i++)
            ((float *)nw.data)[o * per + i] = (float)(((const float *)w->data)[o * per + i] * k);
        ((float *)nb.data)[o] = (float)(((bias ? bias[o] : 0.0) - m[o]) * k + t[o]);
    }
    wv = new_const(g, wname, &nw);
    bv = wv >= 0 ? new_const(g, bname, &nb) : -1;
    free(wname);
    free(bname);
    if (wv < 0 || bv < 0) {
        if (wv < 0)
            free(nw.data);
        free(nb.data);
        return CSQ_ENOMEM;
    }
    /* g->vals moved: take pointers again. */
    bn = &g->nodes[bni];
    cv = &g->nodes[convi];
    if (cv->nin < 3) {
        nin = csq_mem_rearray(cv->in, 3, sizeof(int));
        if (!nin)
            return CSQ_ENOMEM;
        cv->in = nin;
        cv->nin = 3;
    } else {
        g->vals[cv->in[2]].nconsumers--;
    }
    g->vals[cv->in[1]].nconsumers--;
    cv->in[1] = wv;
    cv->in[2] = bv;
    g->vals[wv].nconsumers = 1;
    g->vals[bv].nconsumers = 1;
    for (i = 1; i < 5; i++)
        g->vals[bn->in[i]].nconsumers--;
    /* The conv now writes the BN's output; its old output is orphaned. */
    g->vals[cv->out[0]].producer = -1;
    g->vals[cv->out[0]].nconsumers = 0;
    cv->out[0] = bn->out[0];
    g->vals[bn->out[0]].producer = convi;
    bn->dead = 1;
    return CSQ_OK;
}

int csq_graph_fold_bn(struct csq_graph *g)
{
    int i, rc;

    for (i = 0; i < g->nnodes; i++) {
        if (g->nodes[i].dead || strcmp(g->nodes[i].op_type, "BatchNormalization") != 0)
            continue;
        if (bn_foldable(g, &g->nodes[i]) && (rc = fold_one(g, i)) != 0)
            return rc;
    }
    return CSQ_OK;
}

/* --- quantizable layers and their names --- */

/*
 * torch.onnx.export (>= 1.13) names nodes by module scope, each scope
 * component being the module's name relative to a prefix of the previous
 * ones: /layer1/layer1.0/conv1/Conv, /features/features.1/conv/conv.0/
 * conv.0.0/Conv.  Rebuild the full PyTorch name (layer1.0.conv1,
 * features.1.conv.0.0): a component that starts with a dotted suffix of
 * the name so far extends that suffix, otherwise it is appended.
 */
static char *scope_name(const char *node)
{
    char *full, *comp;
    const char *p, *end;
    size_t cap = strlen(node) * 2 + 2, flen = 0;
    int parts = 0;

    if (node[0] != '/')
        return NULL;
    for (p = node; *p; p++)
        parts += *p == '/';
    if (parts < 2)
        return NULL;
    full = calloc(cap, 1);
    comp = calloc(strlen(node) + 1, 1);
    if (!full || !comp) {
        free(full);
        free(comp);
        return NULL;
    }
    p = node + 1;
    for (;;) {
        size_t clen, s;
        int matched = 0;

        end = strchr(p, '/');
        if (!end)
            break;              /* the last component is the op, not a scope */
        clen = (size_t)(end - p);
        memcpy(comp, p, clen);
        comp[clen] = '\0';
        p = end + 1;
        if (clen == 0)
            continue;
        /* Longest dotted suffix of full that is a dotted prefix of comp. */
        for (s = 0; s < flen && !matched; s++) {
            size_t sl;
            if (s > 0 && full[s - 1] != '.')
                continue;
            sl = flen - s;
            if (sl <= clen && strncmp(full + s, comp, sl) == 0 &&
                (comp[sl] == '.' || comp[sl] == '\0')) {
                memcpy(full + s, comp, clen + 1);
                flen = s + clen;
                matched = 1;
            }
        }
        if (!matched) {
            if (flen)
                full[flen++] = '.';
            memcpy(full + flen, comp, clen + 1);
            flen += clen;
        }
    }
    free(comp);
    if (flen == 0) {
        free(full);
        return NULL;
    }
    return full;
}

/* "<scope>.<child>" when name is a parameter of a child of scope:
 * "<scope>.<child>.weight", ".bias", or MultiheadAttention's "_weight",
 * "_bias"; NULL otherwise. */
static char *child_of(const char *scope, const char *name)
{
    static const char *const suf[] = { ".weight", ".bias", "_weight", "_bias" };
    size_t sl = strlen(scope), nl = strlen(name), i;
    char *c;

    if (nl <= sl + 1 || strncmp(name, scope, sl) != 0 || name[sl] != '.')
        return NULL;
    for (i = 0; i < sizeof suf / sizeof suf[0]; i++) {
        size_t k = strlen(suf[i]);

        if (nl > sl + 1 + k && strcmp(name + nl - k, suf[i]) == 0) {
            if (!(c = csq_mem_strdup(name)))
                return NULL;
            c[nl - k] = '\0';
            return c;
        }
    }
    return NULL;
}

/*
 * A Linear called as a function in its parent's forward (Swin's attention
 * qkv and proj, MultiheadAttention's in_proj and out_proj) is scoped to
 * the parent, so its node name says only the parent.  Its parameters say
 * the child: the weight's name (Gemm keeps it), or, for a MatMul whose
 * weight torch folded into an anonymous transposed copy, the name of the
 * bias added right after it.  Biases torch deduplicated carry another
 * module's name and are not taken.
 */
static char *child_name(const struct csq_graph *g, int node, int weight, const char *scope)
{
    const struct csq_node *n = &g->nodes[node];
    char *c = child_of(scope, g->vals[weight].name);
    int i, j;

    if (c || n->nout < 1 || n->out[0] < 0)
        return c;
    if (n->nin > 2 && n->in[2] >= 0)
        return child_of(scope, g->vals[n->in[2]].name);
    if (g->vals[n->out[0]].nconsumers != 1)
        return NULL;
    for (i = node + 1; i < g->nnodes; i++) {
        const struct csq_node *m = &g->nodes[i];

        if (m->dead || strcmp(m->op_type, "Add") != 0 || m->nin != 2)
            continue;
        for (j = 0; j < 2; j++)
            if (m->in[j] == n->out[0] && m->in[1 - j] >= 0 &&
                is_const(&g->vals[m->in[1 - j]]))
                return child_of(scope, g->vals[m->in[1 - j]].name);
    }
    return NULL;
}

static char *layer_name(const struct csq_graph *g, int node, int weight)
{
    const struct csq_node *n = &g->nodes[node];
    char *s = scope_name(n->name);
    char buf[64];
    size_t len;

    if (s && strcmp(n->op_type, "Conv") != 0) {
        char *c = child_name(g, node, weight, s);

        if (c) {
            free(s);
            return c;
        }
    }
    if (s)
        return s;
    if (n->name && *n->name)
        return csq_mem_strdup(n->name);
    if (weight >= 0 && *g->vals[weight].name) {
        s = csq_mem_strdup(g->vals[weight].name);
        if (!s)
            return NULL;
        len = strlen(s);
        if (len > 7 && strcmp(s + len - 7, ".weight") == 0)
            s[len - 7] = '\0';
        return s;
    }
    snprintf(buf, sizeof buf, "%s_%d", n->op_type, node);
    return csq_mem_strdup(buf);
}

static int name_taken(const struct csq_graph *g, const char *s)
{
    int i;

    for (i = 0; i < g->nlayers; i++)
        if (strcmp(g->layers[i].name, s) == 0)
            return 1;
    return 0;
}

int csq_graph_find_layers(struct csq_graph *g)
{
    int i;

    g->layers = csq_mem_zarray((size_t)g->nnodes + 1, sizeof *g->layers);
    if (!g->layers)
        return CSQ_ENOMEM;
    for (i = 0; i < g->nnodes; i++) {
        struct csq_node *n = &g->nodes[i];
        struct csq_layer *l;
        int w = -1, x;
        char *name;

        if (n->dead)
            continue;
        if (strcmp(n->op_type, "Conv") == 0 || strcmp(n->op_type, "Gemm") == 0) {
            if (n->nin >= 2 && n->in[1] >= 0 && is_const(&g->vals[n->in[1]]))
                w = n->in[1];
        } else if (strcmp(n->op_type, "MatMul") == 0 && n->nin == 2) {
            if (n->in[1] >= 0 && is_const(&g->vals[n->in[1]]))
                w = n->in[1];
            else if (n->in[0] >= 0 && is_const(&g->vals[n->in[0]]))
                w = n->in[0];
        }
        if (w < 0 || g->vals[w].t.dtype != CSQ_DT_FLOAT || g->vals[w].t.rank < 2)
            continue;
        name = layer_name(g, i, w);
        if (!name)
            return CSQ_ENOMEM;
        /* Names must be unique: they key bit configs and pins. */
        if (name_taken(g, name)) {
            size_t len = strlen(name) + 16;
            char *u = malloc(len);
            int k = 2;
            if (!u) {
                free(name);
                return csq_fail(CSQ_ENOMEM, "out of memory");
            }
            do
                snprintf(u, len, "%s_%d", name, k++);
            while (name_taken(g, u));
            free(name);
            name = u;
        }
        l = &g->layers[g->nlayers];
        l->name = name;
        l->node = i;
        l->weight = w;
        x = n->in[0] == w ? n->in[1] : n->in[0];
        l->input = x;
        n->layer = g->nlayers++;
    }
    return CSQ_OK;
}

/* --- activation fusion --- */

int csq_graph_fuse(struct csq_graph *g)
{
    int i;

    for (i = 0; i < g->nnodes; i++) {
        struct csq_node *r = &g->nodes[i], *p;
        struct csq_value *x;
        int pi;

        if (r->dead || strcmp(r->op_type, "Relu") != 0 || r->nin != 1 || r->in[0] < 0 ||
            r->nout != 1 || r->out[0] < 0)
            continue;
        x = &g->vals[r->in[0]];
        pi = x->producer;
        if (pi < 0 || x->nconsumers != 1 || x->kind != CSQ_VAL_RUNTIME)
            continue;
        p = &g->nodes[pi];
        if (p->dead || p->fused_relu || p->nout != 1 ||
            (strcmp(p->op_type, "Conv") != 0 && strcmp(p->op_type, "Add") != 0))
            continue;
        /* The producer now writes the Relu's output; its own is orphaned. */
        x->producer = -1;
        x->nconsumers = 0;
        p->out[0] = r->out[0];
        g->vals[r->out[0]].producer = pi;
        p->fused_relu = 1;
        r->dead = 1;
    }
    return CSQ_OK;
}

/* --- shape binding and constant folding --- */

static void unbind(struct csq_graph *g)
{
    int i;

    for (i = 0; i < g->nvals; i++) {
        struct csq_value *v = &g->vals[i];
        if (v->kind == CSQ_VAL_FOLDED) {
            free(v->t.data);
            v->t.data = NULL;
            v->kind = CSQ_VAL_RUNTIME;
            v->shape_dep = 0;
        }
        if (v->kind == CSQ_VAL_INPUT)
            v->t.data = NULL;
    }
}

static int fold_node(struct csq_graph *g, struct csq_kargs *a, const struct csq_op *op)
{
    float *scratch = NULL;
    size_t sfl = op->scratch ? op->scratch(a) : 0;
    int i, rc;

    for (i = 0; i < a->nout; i++) {
        int64_t n;
        if (!a->out[i])
            continue;
        n = csq_tensor_numel(a->out[i]);
        if (n < 0)
            return csq_fail(CSQ_ESHAPE, "'%s': node '%s': output size overflows", g->path,
                            a->name);
        a->out[i]->data = csq_mem_zarray((size_t)(n ? n : 1), csq_dtype_size(a->out[i]->dtype)
                                         ? csq_dtype_size(a->out[i]->dtype) : 8);
        if (!a->out[i]->data)
            return CSQ_ENOMEM;
    }
    if (sfl && !(scratch = csq_mem_array(sfl, sizeof(float))))
        return CSQ_ENOMEM;
    a->scratch = scratch;
    a->nthreads = 1;
    rc = op->run(a);
    free(scratch);
    return rc;
}

static int bind_nodes(struct csq_graph *g)
{
    struct csq_kbuf kb;
    int i, j, rc, dep;

    for (i = 0; i < g->nnodes; i++) {
        struct csq_node *n = &g->nodes[i];
        const struct csq_op *op = csq_ops_get(n->op);
        struct csq_kargs a;
        int foldable = 1;

        if (n->dead)
            continue;
        csq_ops_args(g, i, &a, &kb);
        for (j = 0; j < n->nin; j++)
            if (n->in[j] >= 0 && !is_const(&g->vals[n->in[j]]))
                foldable = 0;
        for (j = 0; j < n->nout; j++)
            if (kb.out[j])
                kb.out[j]->data = NULL;
        if ((rc = op->infer(&a)) != 0) {
            /* Kernels name the node; make sure the file is named too. */
            csq_err_context("'%s'", g->path);
            return rc;
        }
        if (!foldable && !(op->flags & CSQ_OPF_SHAPE_ONLY))
            continue;
        if ((rc = fold_node(g, &a, op)) != 0)
            return rc;
        /* A value folded from an input's shape changes with the batch;
         * one folded from weights alone never does (csq_graph_freeze). */
        dep = (op->flags & CSQ_OPF_SHAPE_ONLY) != 0;
        for (j = 0; j < n->nin; j++)
            if (n->in[j] >= 0 && g->vals[n->in[j]].shape_dep)
                dep = 1;
        for (j = 0; j < n->nout; j++)
            if (n->out[j] >= 0) {
                g->vals[n->out[j]].kind = CSQ_VAL_FOLDED;
                g->vals[n->out[j]].shape_dep = dep;
            }
    }
    return CSQ_OK;
}

int csq_graph_freeze(struct csq_graph *g)
{
    int i, j;

    for (i = 0; i < g->nnodes; i++) {
        struct csq_node *n = &g->nodes[i];
        int frozen = !n->dead && n->nout > 0;

        for (j = 0; j < n->nout && frozen; j++)
            if (n->out[j] >= 0 && (g->vals[n->out[j]].kind != CSQ_VAL_FOLDED ||
                                   g->vals[n->out[j]].shape_dep))
                frozen = 0;
        if (!frozen)
            continue;
        for (j = 0; j < n->nout; j++)
            if (n->out[j] >= 0) {
                g->vals[n->out[j]].kind = CSQ_VAL_INIT;
                g->vals[n->out[j]].producer = -1;
            }
        for (j = 0; j < n->nin; j++)
            if (n->in[j] >= 0)
                g->vals[n->in[j]].nconsumers--;
        n->dead = 1;
    }
    return CSQ_OK;
}

static int bind_with(struct csq_graph *g, const struct csq_tensor *shapes, int64_t batch)
{
    int i, d, rc;

    unbind(g);
    for (i = 0; i < g->ninputs; i++) {
        struct csq_value *v = &g->vals[g->inputs[i]];
        const struct csq_tensor *s = shapes ? &shapes[i] : NULL;

        if (v->decl_rank < 0 && !s)
            return csq_fail(CSQ_EUNSUPPORTED, "input '%s' of '%s' has no declared shape",
                            v->name, g->path);
        if (s && v->decl_rank >= 0 && s->rank != v->decl_rank)
            return csq_fail(CSQ_ESHAPE, "input '%s' of '%s' has rank %d, the model "
                            "expects %d", v->name, g->path, s->rank, v->decl_rank);
        v->t.rank = s ? s->rank : v->decl_rank;
        /* Small inputs' data is visible to shape inference, so that a
         * Reshape or Unsqueeze fed its shape / axes as a graph input
         * can be bound (the engine re-binds when that data changes). */
        v->t.data = s && s->data && csq_tensor_numel(s) <= CSQ_SHAPE_INPUT_MAX ? s->data : NULL;
        for (d = 0; d < v->t.rank; d++) {
            int64_t decl = v->decl_rank >= 0 ? v->decl_dims[d] : -1;
            if (s) {
                if (decl >= 0 && s->dims[d] != decl)
                    return csq_fail(CSQ_ESHAPE, "input '%s' of '%s': dimension %d is %lld, "
                                    "the model expects %lld", v->name, g->path, d,
                                    (long long)s->dims[d], (long long)decl);
                v->t.dims[d] = s->dims[d];
            } else if (decl >= 0) {
                v->t.dims[d] = decl;
            } else if (d == 0) {
                v->t.dims[d] = batch;
            } else {
                return csq_fail(CSQ_EUNSUPPORTED, "input '%s' of '%s': dimension %d is "
                                "symbolic; only the batch dimension may be", v->name,
                                g->path, d);
            }
        }
    }
    if ((rc = bind_nodes(g)) != 0)
        return rc;
    g->batch = batch;
    return CSQ_OK;
}

int csq_graph_bind(struct csq_graph *g, int64_t batch)
{
    return bind_with(g, NULL, batch);
}

int csq_graph_bind_inputs(struct csq_graph *g, const struct csq_tensor *shapes)
{
    return bind_with(g, shapes, shapes[0].rank > 0 ? shapes[0].dims[0] : 1);
}
