/*
 * kargs: build nodes and tensors by hand and call an operator's infer and
 * run directly, for the kernel unit tests.  Header only (static helpers).
 *
 *     struct tnode n; tn_init(&n, "Add");
 *     struct csq_tensor x = tens(CSQ_DT_FLOAT, xd, 2, 2, 3), out[1];
 *     const struct csq_tensor *in[] = { &x, &y };
 *     rc = kcall(csq_op_add_infer, csq_op_add_run, &n, 13, 2, in, 1, out);
 *     ... out[0].dims, out[0].data ...;  kfree(out, 1);
 */
#ifndef CSQ_TEST_KARGS_H
#define CSQ_TEST_KARGS_H

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "nn/graph.h"
#include "nn/kernels.h"
#include "tap.h"
#include "util/err.h"

#define TN_MAX_ATTRS 8

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

typedef int (*kfn)(struct csq_kargs *);

/* infer, allocate every output (poisoned with 0xA5 so unwritten elements
 * show), run.  Returns the first non-zero status. */
static __attribute__((unused)) int kcall(kfn infer, kfn run, const struct tnode *t,
                                         int64_t opset, int nin, const struct csq_tensor **in,
                                         int nout, struct csq_tensor *out)
{
    struct csq_tensor *outp[16];
    struct csq_kargs a;
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
    if ((rc = infer(&a)) != 0)
        return rc;
    for (i = 0; i < nout; i++) {
        int64_t n = csq_tensor_numel(&out[i]);
        size_t bytes = (size_t)(n > 0 ? n : 1) * csq_dtype_size(out[i].dtype);

        out[i].data = malloc(bytes ? bytes : 1);
        memset(out[i].data, 0xA5, bytes);
    }
    return run(&a);
}

static __attribute__((unused)) void kfree(struct csq_tensor *out, int nout)
{
    int i;

    for (i = 0; i < nout; i++) {
        free(out[i].data);
        out[i].data = NULL;
    }
}

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
