/*
 * bind: shape inference and constant folding over a tensor table (see
 * bind.h).  Small graph inputs are shown to shape inference with their
 * data, so a Reshape or Unsqueeze fed its shape / axes as an input binds.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "nn/bind.h"
#include "nn/ops.h"
#include "util/err.h"
#include "util/mem.h"

static int is_const(const struct csq_graph *g, const unsigned char *fl, int v)
{
    return g->vals[v].kind == CSQ_VAL_INIT || (fl[v] & CSQ_BIND_FOLDED);
}

static int fold_node(const struct csq_graph *g, struct csq_kargs *a, const struct csq_op *op)
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

static int bind_nodes(const struct csq_graph *g, struct csq_tensor *t, unsigned char *fl)
{
    struct csq_kbuf kb;
    int i, j, rc, dep;

    for (i = 0; i < g->nnodes; i++) {
        const struct csq_node *n = &g->nodes[i];
        const struct csq_op *op = csq_ops_get(n->op);
        struct csq_kargs a;
        int foldable = 1;

        if (n->dead)
            continue;
        csq_ops_args(g, i, t, &a, &kb);
        for (j = 0; j < n->nin; j++)
            if (n->in[j] >= 0 && !is_const(g, fl, n->in[j]))
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
        /* Flag first, so a failed fold still frees what it allocated. */
        dep = (op->flags & CSQ_OPF_SHAPE_ONLY) != 0;
        for (j = 0; j < n->nin; j++)
            if (n->in[j] >= 0 && (fl[n->in[j]] & CSQ_BIND_SHAPE_DEP))
                dep = 1;
        for (j = 0; j < n->nout; j++)
            if (n->out[j] >= 0)
                fl[n->out[j]] = CSQ_BIND_FOLDED | (dep ? CSQ_BIND_SHAPE_DEP : 0);
        if ((rc = fold_node(g, &a, op)) != 0)
            return rc;
    }
    return CSQ_OK;
}

static int bind_inputs(const struct csq_graph *g, struct csq_tensor *t,
                       const struct csq_tensor *shapes, int64_t batch)
{
    int i, d;

    for (i = 0; i < g->ninputs; i++) {
        const struct csq_value *v = &g->vals[g->inputs[i]];
        struct csq_tensor *vt = &t[g->inputs[i]];
        const struct csq_tensor *s = shapes ? &shapes[i] : NULL;

        if (v->decl_rank < 0 && !s)
            return csq_fail(CSQ_EUNSUPPORTED, "input '%s' of '%s' has no declared shape",
                            v->name, g->path);
        if (s && v->decl_rank >= 0 && s->rank != v->decl_rank)
            return csq_fail(CSQ_ESHAPE, "input '%s' of '%s' has rank %d, the model "
                            "expects %d", v->name, g->path, s->rank, v->decl_rank);
        vt->rank = s ? s->rank : v->decl_rank;
        vt->data = s && s->data && csq_tensor_numel(s) <= CSQ_SHAPE_INPUT_MAX ? s->data : NULL;
        for (d = 0; d < vt->rank; d++) {
            int64_t decl = v->decl_rank >= 0 ? v->decl_dims[d] : -1;
            if (s) {
                if (decl >= 0 && s->dims[d] != decl)
                    return csq_fail(CSQ_ESHAPE, "input '%s' of '%s': dimension %d is %lld, "
                                    "the model expects %lld", v->name, g->path, d,
                                    (long long)s->dims[d], (long long)decl);
                vt->dims[d] = s->dims[d];
            } else if (decl >= 0) {
                vt->dims[d] = decl;
            } else if (d == 0) {
                vt->dims[d] = batch;
            } else {
                return csq_fail(CSQ_EUNSUPPORTED, "input '%s' of '%s': dimension %d is "
                                "symbolic; only the batch dimension may be", v->name,
                                g->path, d);
            }
        }
    }
    return CSQ_OK;
}

int csq_bind(const struct csq_graph *g, struct csq_tensor *t, unsigned char *fl,
             const struct csq_tensor *shapes, int64_t batch)
{
    int rc;

    if ((rc = bind_inputs(g, t, shapes, batch)) != 0 || (rc = bind_nodes(g, t, fl)) != 0)
        csq_bind_release(g, t, fl);
    return rc;
}

void csq_bind_release(const struct csq_graph *g, struct csq_tensor *t, unsigned char *fl)
{
    int i;

    for (i = 0; i < g->nvals; i++)
        if (fl[i] & CSQ_BIND_FOLDED) {
            free(t[i].data);
            t[i].data = NULL;
            fl[i] = 0;
        }
}
