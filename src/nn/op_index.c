/*
 * op_index: operators that pick, repeat or place elements by index, on any
 * element type (bytes are moved): Slice, Expand, ScatterND, plus Range and
 * Size, which make index tensors.  Window attention exports (Swin) build
 * their shifts and masks from these; with static image sizes all of that
 * folds to constants at bind time.
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include "nn/bcast.h"
#include "nn/kernels.h"
#include "util/err.h"

static int elem_in(const struct csq_kargs *a, size_t *es)
{
    if (a->nin < 1 || !a->in[0] || a->nout < 1 || !a->out[0])
        return csq_fail(CSQ_EINVAL, "node '%s' (%s): missing input or output", a->name,
                        csq_op_type(a));
    *es = csq_dtype_size(a->in[0]->dtype);
    if (*es == 0)
        return csq_fail(CSQ_EUNSUPPORTED, "node '%s' (%s): element type %d not supported",
                        a->name, csq_op_type(a), a->in[0]->dtype);
    return 0;
}

/* ---- Slice ------------------------------------------------------------ */

struct slice {
    int64_t start[CSQ_MAX_RANK], step[CSQ_MAX_RANK], len[CSQ_MAX_RANK];
};

/* Per-axis start, step and output length, clamped as the spec says. */
static int slice_plan(const struct csq_kargs *a, struct slice *p)
{
    const struct csq_tensor *x = a->in[0];
    const int64_t *st, *en, *ax = NULL, *sp = NULL;
    int64_t ns, ne, na, nsp, i;
    unsigned seen = 0;
    int d, rc;

    if (a->opset < 10) {
        const struct csq_attr *as = csq_node_attr(a->node, "starts");
        const struct csq_attr *ae = csq_node_attr(a->node, "ends");
        const struct csq_attr *aa = csq_node_attr(a->node, "axes");

        if (!as || !ae || as->type != CSQ_ATTR_INTS || ae->type != CSQ_ATTR_INTS)
            return csq_fail(CSQ_EINVAL, "node '%s' (Slice): attributes starts and ends are "
                            "required", a->name);
        st = as->ints;
        ns = (int64_t)as->n;
        en = ae->ints;
        ne = (int64_t)ae->n;
        if (aa && aa->type == CSQ_ATTR_INTS) {
            ax = aa->ints;
            na = (int64_t)aa->n;
        } else
            na = ns;
        nsp = ns;
    } else {
        if ((rc = csq_op_const_ints(a, 1, "starts", &st, &ns)) != 0 ||
            (rc = csq_op_const_ints(a, 2, "ends", &en, &ne)) != 0)
            return rc;
        na = nsp = ns;
        if (a->nin > 3 && a->in[3] && (rc = csq_op_const_ints(a, 3, "axes", &ax, &na)) != 0)
            return rc;
        if (a->nin > 4 && a->in[4] && (rc = csq_op_const_ints(a, 4, "steps", &sp, &nsp)) != 0)
            return rc;
    }
    if (ne != ns || na != ns || nsp != ns)
        return csq_fail(CSQ_EINVAL, "node '%s' (Slice): starts, ends, axes and steps differ "
                        "in length", a->name);
    for (d = 0; d < x->rank; d++) {
        p->start[d] = 0;
        p->step[d] = 1;
        p->len[d] = x->dims[d];
    }
    for (i = 0; i < ns; i++) {
        int64_t dim, s, e, k = sp ? sp[i] : 1;

        if ((rc = csq_op_axis(a, ax ? ax[i] : i, x->rank, "axis", &d)) != 0)
            return rc;
        if (seen & (1u << d))
            return csq_fail(CSQ_EINVAL, "node '%s' (Slice): axis %d given twice", a->name, d);
        seen |= 1u << d;
        if (k == 0)
            return csq_fail(CSQ_EINVAL, "node '%s' (Slice): step 0", a->name);
        dim = x->dims[d];
        s = st[i];
        e = en[i];
        if (s < 0)
            s += dim;
        if (e < 0 && e > INT64_MIN + dim)
            e += dim;
        else if (e < 0)
            e = -1;
        if (k > 0) {
            s = s < 0 ? 0 : s > dim ? dim : s;
            e = e < 0 ? 0 : e > dim ? dim : e;
            p->len[d] = e > s ? (e - s + k - 1) / k : 0;
        } else {
            s = s < 0 ? 0 : s > dim - 1 ? dim - 1 : s;
            e = e < -1 ? -1 : e > dim - 1 ? dim - 1 : e;
            p->len[d] = s > e ? (s - e + (-k) - 1) / (-k) : 0;
        }
        p->start[d] = s;
        p->step[d] = k;
    }
    return 0;
}

int csq_op_slice_infer(struct csq_kargs *a)
{
    struct slice p;
    size_t es;
    int d, rc;

    if ((rc = elem_in(a, &es)) != 0 || (rc = slice_plan(a, &p)) != 0)
        return rc;
    a->out[0]->dtype = a->in[0]->dtype;
    a->out[0]->rank = a->in[0]->rank;
    for (d = 0; d < a->in[0]->rank; d++)
        a->out[0]->dims[d] = p.len[d];
    return 0;
}

int csq_op_slice_run(struct csq_kargs *a)
{
    const struct csq_tensor *x = a->in[0];
    struct csq_tensor *o = a->out[0];
    size_t es = csq_dtype_size(x->dtype);
    int64_t istr[CSQ_MAX_RANK], n = csq_tensor_numel(o), inner, rows, r, base = 0;
    int rank = x->rank, d;
    struct slice p;

    if (n <= 0)
        return 0;
    if (slice_plan(a, &p) != 0)
        return CSQ_EINVAL;
    if (rank == 0) {
        memcpy(o->data, x->data, es);
        return 0;
    }
    istr[rank - 1] = 1;
    for (d = rank - 2; d >= 0; d--)
        istr[d] = istr[d + 1] * x->dims[d + 1];
    for (d = 0; d < rank; d++)
        base += p.start[d] * istr[d];
    inner = p.len[rank - 1];
    rows = n / inner;

#pragma omp parallel for num_threads(CSQ_OP_NT(a)) if (n * (int64_t)es >= 262144)
    for (r = 0; r < rows; r++) {
        int64_t off = base, rest = r, j, s = p.step[rank - 1];
        char *dst = (char *)o->data + (size_t)(r * inner) * es;
        const char *src;
        int k;

        for (k = rank - 2; k >= 0; k--) {
            off += (rest % p.len[k]) * p.step[k] * istr[k];
            rest /= p.len[k];
        }
        src = (const char *)x->data + off * (int64_t)es;
        if (s == 1)
            memcpy(dst, src, (size_t)inner * es);
        else
            for (j = 0; j < inner; j++)
                memcpy(dst + (size_t)j * es, src + j * s * (int64_t)es, es);
    }
    return 0;
}

/* ---- Expand ----------------------------------------------------------- */

int csq_op_expand_infer(struct csq_kargs *a)
{
    struct csq_tensor sh = { 0 };
    const int64_t *shape;
    int64_t n, i;
    char bx[128];
    size_t es;
    int rc;

    if ((rc = elem_in(a, &es)) != 0 || (rc = csq_op_const_ints(a, 1, "shape", &shape, &n)))
        return rc;
    if (n > CSQ_MAX_RANK)
        return csq_fail(CSQ_EUNSUPPORTED, "node '%s' (Expand): rank %lld exceeds %d", a->name,
                        (long long)n, CSQ_MAX_RANK);
    sh.rank = (int)n;
    for (i = 0; i < n; i++) {
        if (shape[i] < 0)
            return csq_fail(CSQ_EINVAL, "node '%s' (Expand): negative dim %lld", a->name,
                            (long long)shape[i]);
        sh.dims[i] = shape[i];
    }
    if (csq_op_bcast_shape(a->in[0], &sh, a->out[0]) != 0)
        return csq_fail(CSQ_ESHAPE, "node '%s' (Expand): %s does not broadcast to %s", a->name,
                        csq_op_dims_str(a->in[0], bx, sizeof bx),
                        csq_op_dims_str(&sh, bx + 64, 64));
    a->out[0]->dtype = a->in[0]->dtype;
    return 0;
}

struct expand_ctx {
    size_t es;
    char *o;
    const char *x;
};

static void expand_row(void *ctx, int64_t oi, const int64_t *off, const int64_t *s, int64_t n)
{
    const struct expand_ctx *c = ctx;
    char *o = c->o + (size_t)oi * c->es;
    const char *x = c->x + (size_t)off[0] * c->es;
    int64_t i;

    if (s[0])
        memcpy(o, x, (size_t)n * c->es);
    else if (c->es == 4)
        for (i = 0; i < n; i++)
            memcpy(o + 4 * i, x, 4);
    else
        for (i = 0; i < n; i++)
            memcpy(o + (size_t)i * c->es, x, c->es);
}

int csq_op_expand_run(struct csq_kargs *a)
{
    struct expand_ctx c = { csq_dtype_size(a->in[0]->dtype), a->out[0]->data, a->in[0]->data };

    csq_op_bwalk(a, (const struct csq_tensor *const *)a->in, 1, a->out[0], expand_row, &c);
    return 0;
}

/* ---- Range ------------------------------------------------------------ */

static int range_args(const struct csq_kargs *a, double *v, int64_t *iv, int64_t *n)
{
    int i, t;

    if (a->nin < 3 || a->nout < 1 || !a->out[0])
        return csq_fail(CSQ_EINVAL, "node '%s' (Range): needs start, limit and delta",
                        a->name);
    for (i = 0; i < 3; i++) {
        const struct csq_tensor *x = a->in[i];

        if (!x || csq_tensor_numel(x) != 1)
            return csq_fail(CSQ_EINVAL, "node '%s' (Range): input %d must be a scalar",
                            a->name, i);
        if (!x->data)
            return csq_fail(CSQ_EUNSUPPORTED, "node '%s' (Range): input %d must be a "
                            "constant", a->name, i);
        if (x->dtype != a->in[0]->dtype)
            return csq_fail(CSQ_EINVAL, "node '%s' (Range): inputs differ in type", a->name);
        if (x->dtype == CSQ_DT_FLOAT) {
            v[i] = ((const float *)x->data)[0];
        } else if (x->dtype == CSQ_DT_INT64) {
            iv[i] = ((const int64_t *)x->data)[0];
            v[i] = (double)iv[i];
        } else
            return csq_fail(CSQ_EUNSUPPORTED, "node '%s' (Range): element type %d", a->name,
                            x->dtype);
    }
    t = a->in[0]->dtype;
    if (v[2] == 0)
        return csq_fail(CSQ_EINVAL, "node '%s' (Range): delta is 0", a->name);
    if (t == CSQ_DT_INT64) {
        /* exact integer count: ceil((limit - start) / delta) */
        int64_t span = iv[1] - iv[0], d = iv[2], q = span / d;

        if (q * d != span && (span < 0) == (d < 0))
            q++;
        *n = q > 0 ? q : 0;
    } else {
        double q = ceil(((double)(float)v[1] - (double)(float)v[0]) / (double)(float)v[2]);

        *n = q > 0 ? (int64_t)q : 0;
    }
    return 0;
}

int csq_op_range_infer(struct csq_kargs *a)
{
    double v[3];
    int64_t iv[3], n;
    int rc;

    if ((rc = range_args(a, v, iv, &n)) != 0)
        return rc;
    a->out[0]->dtype = a->in[0]->dtype;
    a->out[0]->rank = 1;
    a->out[0]->dims[0] = n;
    return 0;
}

int csq_op_range_run(struct csq_kargs *a)
{
    double v[3];
    int64_t iv[3], n, i;

    if (range_args(a, v, iv, &n) != 0)
        return CSQ_EINVAL;
    for (i = 0; i < n; i++) {
        if (a->out[0]->dtype == CSQ_DT_INT64)
            ((int64_t *)a->out[0]->data)[i] = iv[0] + i * iv[2];
        else
            ((float *)a->out[0]->data)[i] = (float)v[0] + (float)i * (float)v[2];
    }
    return 0;
}

/* ---- Size ------------------------------------------------------------- */

int csq_op_size_infer(struct csq_kargs *a)
{
    if (a->nin < 1 || !a->in[0] || a->nout < 1 || !a->out[0])
        return csq_fail(CSQ_EINVAL, "node '%s' (Size): needs 1 input and 1 output", a->name);
    a->out[0]->dtype = CSQ_DT_INT64;
    a->out[0]->rank = 0;
    return 0;
}

/* Reads only the input's dims: its data may be absent. */
int csq_op_size_run(struct csq_kargs *a)
{
    *(int64_t *)a->out[0]->data = csq_tensor_numel(a->in[0]);
    return 0;
}

/* ---- ScatterND -------------------------------------------------------- */

enum { SC_NONE, SC_ADD, SC_MUL };

static int scatter_mode(const struct csq_kargs *a, int *mode)
{
    const char *r = csq_node_string(a->node, "reduction", "none");

    if (strcmp(r, "none") == 0)
        *mode = SC_NONE;
    else if (strcmp(r, "add") == 0)
        *mode = SC_ADD;
    else if (strcmp(r, "mul") == 0)
        *mode = SC_MUL;
    else
        return csq_fail(CSQ_EUNSUPPORTED, "node '%s' (ScatterND): reduction '%s' not "
                        "supported", a->name, r);
    return 0;
}

int csq_op_scatternd_infer(struct csq_kargs *a)
{
    const struct csq_tensor *x, *idx, *up;
    int64_t k;
    char bx[128], bu[128];
    size_t es;
    int mode, d, ok, rc;

    if ((rc = elem_in(a, &es)) != 0 || (rc = scatter_mode(a, &mode)) != 0)
        return rc;
    x = a->in[0];
    idx = a->nin > 1 ? a->in[1] : NULL;
    up = a->nin > 2 ? a->in[2] : NULL;
    if (!idx || !up || idx->dtype != CSQ_DT_INT64 || idx->rank < 1)
        return csq_fail(CSQ_EINVAL, "node '%s' (ScatterND): needs int64 indices of rank >= 1 "
                        "and updates", a->name);
    if (up->dtype != x->dtype)
        return csq_fail(CSQ_EINVAL, "node '%s' (ScatterND): updates type %d, data type %d",
                        a->name, up->dtype, x->dtype);
    if (mode != SC_NONE && x->dtype == CSQ_DT_BOOL)
        return csq_fail(CSQ_EUNSUPPORTED, "node '%s' (ScatterND): reduction on bool",
                        a->name);
    k = idx->dims[idx->rank - 1];
    /* updates = indices.shape[:-1] + data.shape[k:] */
    ok = k <= x->rank && up->rank == idx->rank - 1 + x->rank - (int)k;
    for (d = 0; ok && d < idx->rank - 1; d++)
        ok = up->dims[d] == idx->dims[d];
    for (d = 0; ok && d < x->rank - k; d++)
        ok = up->dims[idx->rank - 1 + d] == x->dims[k + d];
    if (!ok)
        return csq_fail(CSQ_ESHAPE, "node '%s' (ScatterND): updates %s do not fit data %s "
                        "indexed by %lld dims", a->name, csq_op_dims_str(up, bu, sizeof bu),
                        csq_op_dims_str(x, bx, sizeof bx), (long long)k);
    a->out[0]->dtype = x->dtype;
    a->out[0]->rank = x->rank;
    memcpy(a->out[0]->dims, x->dims, sizeof x->dims);
    return 0;
}

int csq_op_scatternd_run(struct csq_kargs *a)
{
    const struct csq_tensor *x = a->in[0], *idx = a->in[1], *up = a->in[2];
    const int64_t *ix = idx->data;
    size_t es = csq_dtype_size(x->dtype);
    int64_t k = idx->dims[idx->rank - 1], nidx = 1, slice = 1, i, j;
    int mode, d;

    if (scatter_mode(a, &mode) != 0)
        return CSQ_EINVAL;
    for (d = 0; d < idx->rank - 1; d++)
        nidx *= idx->dims[d];
    for (d = (int)k; d < x->rank; d++)
        slice *= x->dims[d];
    /* indices are run-time data: check them all before writing */
    for (i = 0; i < nidx * k; i++) {
        int64_t dim = x->dims[i % k];

        if (ix[i] < -dim || ix[i] >= dim)
            return csq_fail(CSQ_EINVAL, "node '%s' (ScatterND): index %lld out of range for "
                            "axis %d of size %lld", a->name, (long long)ix[i], (int)(i % k),
                            (long long)dim);
    }
    memcpy(a->out[0]->data, x->data, (size_t)csq_tensor_numel(x) * es);
    for (i = 0; i < nidx; i++) {
        int64_t off = 0;
        char *dst;
        const char *src = (const char *)up->data + (size_t)(i * slice) * es;

        for (j = 0; j < k; j++) {
            int64_t v = ix[i * k + j];

            off = off * x->dims[j] + (v < 0 ? v + x->dims[j] : v);
        }
        dst = (char *)a->out[0]->data + (size_t)(off * slice) * es;
        if (mode == SC_NONE) {
            memcpy(dst, src, (size_t)slice * es);
        } else if (x->dtype == CSQ_DT_FLOAT) {
            float *o = (float *)dst;
            const float *u = (const float *)src;

            for (j = 0; j < slice; j++)
                o[j] = mode == SC_ADD ? o[j] + u[j] : o[j] * u[j];
        } else {
            int64_t *o = (int64_t *)dst;
            const int64_t *u = (const int64_t *)src;

            for (j = 0; j < slice; j++)
                o[j] = (int64_t)(mode == SC_ADD ? (uint64_t)o[j] + (uint64_t)u[j]
                                                : (uint64_t)o[j] * (uint64_t)u[j]);
        }
    }
    return 0;
}
