/*
 * kt: builds one operator call by hand (node, attributes, tensors) for the
 * kernel unit tests, then runs infer, allocates the outputs and scratch
 * and runs the kernel.  Header only, like tap.h.
 *
 *     struct kt k = {0};
 *     kt_init(&k, "Conv", 3, 1);
 *     kt_in(&k, 0, 4, (int64_t[]){1, 1, 3, 3}, x);
 *     kt_ints(&k, "pads", 4, (int64_t[]){1, 1, 1, 1});
 *     rc = kt_call(&k, csq_op_conv_infer, csq_op_conv_run, csq_op_conv_scratch);
 *     ... k.out[0].data ...
 *     kt_free(&k);
 */
#ifndef CSQ_KT_H
#define CSQ_KT_H

#include <stdlib.h>
#include <string.h>

#include "nn/kernels.h"

#define KT_MAXA 12

struct kt {
    struct csq_node node;
    struct csq_attr attrs[KT_MAXA];
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
    k->node.name = (char *)"t";
    k->node.op_type = (char *)op;
    k->node.nin = nin;
    k->node.nout = nout;
    k->node.attrs = k->attrs;
    k->a.node = &k->node;
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

static __attribute__((unused)) struct csq_attr *kt_attr(struct kt *k, const char *name, int type)
{
    struct csq_attr *at = &k->attrs[k->node.nattrs];

    at->name = (char *)name;
    at->type = type;
    at->ints = k->ints[k->node.nattrs];
    k->node.nattrs++;
    return at;
}

static __attribute__((unused)) void kt_ints(struct kt *k, const char *name, int n, const int64_t *v)
{
    struct csq_attr *at = kt_attr(k, name, CSQ_ATTR_INTS);

    memcpy(at->ints, v, (size_t)n * sizeof *v);
    at->n = (size_t)n;
}

static __attribute__((unused)) void kt_int(struct kt *k, const char *name, int64_t v)
{
    kt_attr(k, name, CSQ_ATTR_INT)->i = v;
}

static __attribute__((unused)) void kt_float(struct kt *k, const char *name, float v)
{
    kt_attr(k, name, CSQ_ATTR_FLOAT)->f = v;
}

static __attribute__((unused)) void kt_str(struct kt *k, const char *name, const char *v)
{
    kt_attr(k, name, CSQ_ATTR_STRING)->s = (char *)v;
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

/* infer, allocate outputs and scratch, run; the status of the first
 * failing step. */
static __attribute__((unused)) int kt_call(struct kt *k, int (*infer)(struct csq_kargs *),
                                           int (*run)(struct csq_kargs *),
                                           size_t (*scratch)(const struct csq_kargs *))
{
    int rc, i;

    if ((rc = infer(&k->a)))
        return rc;
    for (i = 0; i < k->a.nout; i++) {
        int64_t n = csq_tensor_numel(&k->out[i]);

        free(k->out[i].data);
        k->out[i].data = malloc((size_t)(n > 0 ? n : 1) * csq_dtype_size(k->out[i].dtype));
        memset(k->out[i].data, 0xff, (size_t)(n > 0 ? n : 1) * csq_dtype_size(k->out[i].dtype));
    }
    free(k->scratch);
    k->scratch = NULL;
    if (scratch) {
        size_t n = scratch(&k->a);

        k->scratch = n ? malloc(n * sizeof *k->scratch) : NULL;
    }
    k->a.scratch = k->scratch;
    return run(&k->a);
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

#endif
