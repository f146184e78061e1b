/*
 * kt: the kernel unit tests' harness: build one operator call by hand
 * (node, attributes, tensors), then infer, allocate the outputs (poisoned,
 * so unwritten elements show) and the scratch the op table asks for, plan
 * the node as an engine does (op->plan) and run.  Header only, like tap.h.
 * Two front ends over the same node builder and runner:
 *
 *     struct kt k = {0};                          a call kept in one struct
 *     kt_init(&k, "Conv", 3, 1);
 *     kt_in(&k, 0, 4, (int64_t[]){1, 1, 3, 3}, x);
 *     kt_ints(&k, "pads", 4, (int64_t[]){1, 1, 1, 1});
 *     rc = kt_call(&k, csq_op_conv_infer, csq_op_conv_run, csq_op_conv_scratch);
 *     ... k.out[0].data ...
 *     kt_free(&k);
 *
 *     struct tnode n; tn_init(&n, "Add");          tensors of your own
 *     struct csq_tensor x = tens(CSQ_DT_FLOAT, xd, 2, 2, 3), out[1];
 *     const struct csq_tensor *in[] = { &x, &y };
 *     rc = kcall(csq_op_add_infer, csq_op_add_run, &n, 13, 2, in, 1, out);
 *     ... out[0].dims, out[0].data ...;  kfree(out, 1);
 */
#ifndef CSQ_KT_H
#define CSQ_KT_H

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn/graph.h"
#include "nn/kernels.h"
#include "tap.h"
#include "util/err.h"

/* --- nodes and tensors --- */

#define TN_MAX_ATTRS 12

struct tnode {
    struct csq_node node;
    struct csq_attr attrs[TN_MAX_ATTRS];
};

static __attribute__((unused)) void tn_init(struct tnode *t, const char *op)
{
    memset(t, 0, sizeof *t);
    t->node.name = (char *)"n0";
    t->node.op_type = (char *)op;
    t->node.attrs = t->attrs;
}

static struct csq_attr *tn_add(struct tnode *t, const char *name, int type)
{
    struct csq_attr *at = &t->attrs[t->node.nattrs++];

    at->name = (char *)name;
    at->type = type;
    return at;
}

static __attribute__((unused)) void tn_int(struct tnode *t, const char *name, int64_t v)
{
    tn_add(t, name, CSQ_ATTR_INT)->i = v;
}

static __attribute__((unused)) void tn_float(struct tnode *t, const char *name, float v)
{
    tn_add(t, name, CSQ_ATTR_FLOAT)->f = v;
}

static __attribute__((unused)) void tn_string(struct tnode *t, const char *name, const char *v)
{
    tn_add(t, name, CSQ_ATTR_STRING)->s = (char *)v;
}

/* v must outlive the node. */
static __attribute__((unused)) void tn_ints(struct tnode *t, const char *name, int64_t *v,
                                            size_t n)
{
    struct csq_attr *at = tn_add(t, name, CSQ_ATTR_INTS);

    at->ints = v;
    at->n = n;
}

static __attribute__((unused)) void tn_tensor(struct tnode *t, const char *name,
                                              struct csq_tensor v)
{
    tn_add(t, name, CSQ_ATTR_TENSOR)->t = v;
}

/* A tensor over caller data (may be NULL: a run-time value) with rank
 * dims given as ints. */
static __attribute__((unused)) struct csq_tensor tens(int dtype, const void *data, int rank, ...)
{
    struct csq_tensor t;
    va_list ap;
    int i;

    memset(&t, 0, sizeof t);
    t.dtype = dtype;
    t.rank = rank;
    t.data = (void *)data;
    va_start(ap, rank);
    for (i = 0; i < rank; i++)
        t.dims[i] = va_arg(ap, int);
    va_end(ap);
    return t;
}

/* --- the runner --- */

typedef int (*kfn)(struct csq_kargs *);

/* infer, allocate every output (filled with poison bytes) and the scratch
 * (scratch, or else the op table's row for the node's op), plan when the
 * op plans, run.  *scratchp keeps the scratch for the caller to free.
 * Returns the first non-zero status. */
static __attribute__((unused)) int kt_run(struct csq_kargs *a, kfn infer, kfn run,
                                          size_t (*scratch)(const struct csq_kargs *),
                                          int poison, float **scratchp)
{
    const struct csq_op *op = csq_ops_get(csq_ops_find(a->node->op_type));
    static union { int64_t align; unsigned char b[CSQ_OP_PLAN_BYTES]; } plan;
    float *packed = NULL;
    int i, rc;

    a->plan = NULL;
    a->packed = NULL;
    if ((rc = infer(a)) != 0)
        return rc;
    for (i = 0; i < a->nout; i++) {
        int64_t n;
        size_t bytes;

        if (!a->out[i])
            continue;
        n = csq_tensor_numel(a->out[i]);
        bytes = (size_t)(n > 0 ? n : 1) * csq_dtype_size(a->out[i]->dtype);
        free(a->out[i]->data);
        a->out[i]->data = malloc(bytes ? bytes : 1);
        memset(a->out[i]->data, poison, bytes);
    }
    if (op && op->plan) {
        if ((rc = op->plan(a, plan.b)) != 0)
            return rc;
        a->plan = plan.b;
        /* pack a constant weight as an engine does (Winograd, oneDNN) */
        if (op->packed && a->nin > 1 && a->in[1] && a->in[1]->data) {
            size_t np = op->packed(a);

            if (np) {
                packed = malloc(np * sizeof *packed);
                op->pack(a, packed);
                a->packed = packed;
            }
        }
    }
    if (!scratch && op)
        scratch = op->scratch;
    free(*scratchp);
    *scratchp = NULL;
    if (scratch) {
        size_t n = scratch(a);

        *scratchp = n ? malloc(n * sizeof **scratchp) : NULL;
    }
    a->scratch = *scratchp;
    rc = run(a);
    if (a->plan && op->release)
        op->release(plan.b);
    a->plan = NULL;
    a->packed = NULL;
    free(packed);
    return rc;
}

/* --- front end 1: struct kt --- */

#define KT_MAXA TN_MAX_ATTRS

struct kt {
    struct tnode tn;
    int64_t ints[KT_MAXA][CSQ_MAX_RANK * 2];
    struct csq_tensor in[6], out[2];
    const struct csq_tensor *inp[6];
    struct csq_tensor *outp[2];
    struct csq_kargs a;
    float *scratch;
};

static __attribute__((unused)) void kt_free(struct kt *k);

/* k must be zeroed (struct kt k = {0}) or come from an earlier kt_init. */
static __attribute__((unused)) void kt_init(struct kt *k, const char *op, int nin, int nout)
{
    int i;

    kt_free(k);
    memset(k, 0, sizeof *k);
    tn_init(&k->tn, op);
    k->tn.node.name = (char *)"t";
    k->tn.node.nin = nin;
    k->tn.node.nout = nout;
    k->a.node = &k->tn.node;
    k->a.name = "t";
    k->a.opset = 13;
    k->a.nin = nin;
    k->a.nout = nout;
    k->a.in = k->inp;
    k->a.out = k->outp;
    k->a.nthreads = 2;
    for (i = 0; i < 2; i++)
        k->outp[i] = &k->out[i];
}

static __attribute__((unused)) void kt_ints(struct kt *k, const char *name, int n, const int64_t *v)
{
    int64_t *dst = k->ints[k->tn.node.nattrs];

    memcpy(dst, v, (size_t)n * sizeof *v);
    tn_ints(&k->tn, name, dst, (size_t)n);
}

static __attribute__((unused)) void kt_int(struct kt *k, const char *name, int64_t v)
{
    tn_int(&k->tn, name, v);
}

static __attribute__((unused)) void kt_float(struct kt *k, const char *name, float v)
{
    tn_float(&k->tn, name, v);
}

static __attribute__((unused)) void kt_str(struct kt *k, const char *name, const char *v)
{
    tn_string(&k->tn, name, v);
}

/* Input i: a float tensor borrowing data (NULL = omitted input). */
static __attribute__((unused)) void kt_in(struct kt *k, int i, int rank, const int64_t *dims,
                                          const float *data)
{
    struct csq_tensor *t = &k->in[i];

    t->dtype = CSQ_DT_FLOAT;
    t->rank = rank;
    if (rank)
        memcpy(t->dims, dims, (size_t)rank * sizeof *dims);
    t->data = (void *)data;
    k->inp[i] = t;
}

static __attribute__((unused)) void kt_omit(struct kt *k, int i)
{
    k->inp[i] = NULL;
}

static __attribute__((unused)) int kt_call(struct kt *k, kfn infer, kfn run,
                                           size_t (*scratch)(const struct csq_kargs *))
{
    return kt_run(&k->a, infer, run, scratch, 0xff, &k->scratch);
}

static __attribute__((unused)) void kt_free(struct kt *k)
{
    int i;

    for (i = 0; i < 2; i++) {
        free(k->out[i].data);
        k->out[i].data = NULL;
    }
    free(k->scratch);
    k->scratch = NULL;
}

static __attribute__((unused)) float *kt_out(struct kt *k)
{
    return k->out[0].data;
}

/* Deterministic values in [-1, 1). */
static __attribute__((unused)) void kt_rand(float *v, int64_t n, unsigned *seed)
{
    int64_t i;

    for (i = 0; i < n; i++) {
        *seed = *seed * 1103515245u + 12345u;
        v[i] = (float)((*seed >> 8) & 0xffff) / 32768.0f - 1.0f;
    }
}

/* --- front end 2: caller-held tensors --- */

static __attribute__((unused)) int kcall(kfn infer, kfn run, const struct tnode *t,
                                         int64_t opset, int nin, const struct csq_tensor **in,
                                         int nout, struct csq_tensor *out)
{
    struct csq_tensor *outp[16];
    struct csq_kargs a;
    float *scratch = NULL;
    int i, rc;

    memset(&a, 0, sizeof a);
    a.node = &t->node;
    a.name = t->node.name;
    a.opset = opset;
    a.nin = nin;
    a.in = in;
    a.nout = nout;
    a.out = outp;
    a.nthreads = 2;
    for (i = 0; i < nout; i++) {
        memset(&out[i], 0, sizeof out[i]);
        outp[i] = &out[i];
    }
    rc = kt_run(&a, infer, run, NULL, 0xA5, &scratch);
    free(scratch);
    return rc;
}

static __attribute__((unused)) void kfree(struct csq_tensor *out, int nout)
{
    int i;

    for (i = 0; i < nout; i++) {
        free(out[i].data);
        out[i].data = NULL;
    }
}

/* --- checks --- */

/* Rank and dims of t equal the rank ints that follow. */
static __attribute__((unused)) int is_dims(const struct csq_tensor *t, const char *what,
                                           int rank, ...)
{
    va_list ap;
    int i, pass = t->rank == rank;
    char got[128], want[128];
    size_t g = 0, w = 0;

    va_start(ap, rank);
    for (i = 0; i < rank; i++) {
        int d = va_arg(ap, int);

        w += (size_t)snprintf(want + w, sizeof want - w, "%d,", d);
        if (i < t->rank && t->dims[i] != d)
            pass = 0;
    }
    va_end(ap);
    want[w] = '\0';
    for (i = 0; i < t->rank && i < CSQ_MAX_RANK; i++)
        g += (size_t)snprintf(got + g, sizeof got - g, "%lld,", (long long)t->dims[i]);
    got[g] = '\0';
    ok(pass, "%s: dims", what);
    if (!pass)
        printf("#   got [%s], want [%s]\n", got, want);
    return pass;
}

/* All n floats of t near want. */
static __attribute__((unused)) int is_floats(const struct csq_tensor *t, const float *want,
                                             int64_t n, double tol, const char *what)
{
    int64_t i, got_n = csq_tensor_numel(t);
    int pass = t->dtype == CSQ_DT_FLOAT && got_n == n;

    for (i = 0; pass && i < n; i++) {
        double g = ((const float *)t->data)[i];

        if (!(fabs(g - want[i]) <= tol || (isnan(g) && isnan(want[i])))) {
            printf("#   element %lld: got %.9g, want %.9g\n", (long long)i, g, want[i]);
            pass = 0;
        }
    }
    ok(pass, "%s: values", what);
    if (got_n != n || t->dtype != CSQ_DT_FLOAT)
        printf("#   got %lld elements of type %d, want %lld floats\n", (long long)got_n,
               t->dtype, (long long)n);
    return pass;
}

static __attribute__((unused)) int is_int64s(const struct csq_tensor *t, const int64_t *want,
                                             int64_t n, const char *what)
{
    int64_t i, got_n = csq_tensor_numel(t);
    int pass = t->dtype == CSQ_DT_INT64 && got_n == n;

    for (i = 0; pass && i < n; i++) {
        if (((const int64_t *)t->data)[i] != want[i]) {
            printf("#   element %lld: got %lld, want %lld\n", (long long)i,
                   (long long)((const int64_t *)t->data)[i], (long long)want[i]);
            pass = 0;
        }
    }
    ok(pass, "%s: values", what);
    if (got_n != n || t->dtype != CSQ_DT_INT64)
        printf("#   got %lld elements of type %d, want %lld int64\n", (long long)got_n,
               t->dtype, (long long)n);
    return pass;
}

/* rc is code and the recorded message contains frag; clears the slot. */
static __attribute__((unused)) int is_err(int rc, int code, const char *frag, const char *what)
{
    int pass = rc == code && strstr(csq_errmsg(), frag) != NULL;

    ok(pass, "%s: fails with %d", what, code);
    if (!pass)
        printf("#   got status %d, message '%s'; want %d containing '%s'\n", rc, csq_errmsg(),
               code, frag);
    csq_errclear();
    return pass;
}

#endif
