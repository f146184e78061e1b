/*
 * layers: what a quantizable layer is: the pass that finds the layers and
 * names them after their PyTorch modules, and the one place that knows a
 * layer's per-output-channel weight layout (used by cost and qsim).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn/graph.h"
#include "util/err.h"
#include "util/mem.h"

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
                csq_value_is_const(&g->vals[m->in[1 - j]]))
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
            if (n->nin >= 2 && n->in[1] >= 0 && csq_value_is_const(&g->vals[n->in[1]]))
                w = n->in[1];
        } else if (strcmp(n->op_type, "MatMul") == 0 && n->nin == 2) {
            if (n->in[1] >= 0 && csq_value_is_const(&g->vals[n->in[1]]))
                w = n->in[1];
            else if (n->in[0] >= 0 && csq_value_is_const(&g->vals[n->in[0]]))
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

/*
 * Conv (M, C/g, kh, kw) and Gemm with transB store an output channel per
 * row; Gemm without transB and MatMul (..., K, N) one per column.
 */
void csq_layer_layout(const struct csq_graph *g, int l, struct csq_layout *lay)
{
    const struct csq_layer *ly = &g->layers[l];
    const struct csq_node *n = &g->nodes[ly->node];
    const struct csq_tensor *w = &g->vals[ly->weight].t;
    int64_t numel = csq_tensor_numel(w);
    int rows;

    memset(lay, 0, sizeof *lay);
    lay->groups = 1;
    if (strcmp(n->op_type, "Conv") == 0) {
        lay->groups = csq_node_int(n, "group", 1);
        rows = 1;
    } else {
        rows = strcmp(n->op_type, "Gemm") == 0 && csq_node_int(n, "transB", 0);
    }
    lay->channels = rows ? w->dims[0] : w->dims[w->rank - 1];
    lay->per_channel = lay->channels > 0 ? numel / lay->channels : 0;
    lay->strided = rows || w->rank == 2;
    lay->ch_stride = rows ? lay->per_channel : 1;
    lay->el_stride = rows ? 1 : lay->channels;
}

/* Insertion sort: qsort_r is not portable, and layers are few. */
void csq_layer_node_order(const struct csq_graph *g, int *order, int *rank)
{
    int i, j;

    for (i = 0; i < g->nlayers; i++)
        order[i] = i;
    for (i = 1; i < g->nlayers; i++)
        for (j = i; j > 0 && g->layers[order[j - 1]].node > g->layers[order[j]].node; j--) {
            int t = order[j];
            order[j] = order[j - 1];
            order[j - 1] = t;
        }
    for (i = 0; rank && i < g->nlayers; i++)
        rank[order[i]] = i;
}
