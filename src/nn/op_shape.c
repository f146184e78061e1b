/*
 * op_shape: data movement and shape operators.  They work on any element
 * type csq_dtype_size() knows (float32, int64, bool), moving bytes, so the
 * int64 shape chains of torch.onnx.export run through the same code as the
 * float activations.  Flatten, Reshape, Squeeze, Unsqueeze, Identity and
 * Dropout only copy (nothing when the engine runs them in place).
 */
#include "config.h"

#include <string.h>

#include "nn/bcast.h"
#include "nn/kernels.h"
#include "util/err.h"

/* Below this many bytes threads cost more than they save. */
#define PAR_MIN_BYTES (256 * 1024)

/* Element size of input 0, failing for types we cannot move. */
static int elem_size(const struct csq_kargs *a, size_t *es)
{
    const struct csq_tensor *x = a->nin > 0 ? a->in[0] : NULL;

    if (!x || a->nout < 1 || !a->out[0])
        return csq_fail(CSQ_EINVAL, "node '%s' (%s): missing input or output", a->name,
                        csq_op_type(a));
    *es = csq_dtype_size(x->dtype);
    if (*es == 0)
        return csq_fail(CSQ_EUNSUPPORTED, "node '%s' (%s): element type %d not supported",
                        a->name, csq_op_type(a), x->dtype);
    return 0;
}

/* out[0] = in[0] byte for byte (shapes already set by infer). */
static int copy_data(struct csq_kargs *a)
{
    const struct csq_tensor *x = a->in[0];
    struct csq_tensor *o = a->out[0];
    int64_t n = csq_tensor_numel(x);

    if (n > 0 && o->data != x->data)
        memcpy(o->data, x->data, (size_t)n * csq_dtype_size(x->dtype));
    return 0;
}

static int64_t prod(const int64_t *dims, int from, int to)
{
    int64_t p = 1;
    int i;

    for (i = from; i < to; i++)
        p *= dims[i];
    return p;
}

/* ---- Identity, Dropout ------------------------------------------------ */

int csq_op_identity_infer(struct csq_kargs *a)
{
    const struct csq_tensor *x;
    size_t es;
    int rc;

    if ((rc = elem_size(a, &es)) != 0)
        return rc;
    x = a->in[0];
    if (a->nin > 2 && a->in[2]) {
        /* Dropout opset >= 12: training_mode */
        const struct csq_tensor *tm = a->in[2];

        if (!tm->data)
            return csq_fail(CSQ_EUNSUPPORTED,
                            "node '%s' (%s): input 2 (training_mode) must be a constant",
                            a->name, csq_op_type(a));
        /* training with ratio 0 keeps every element unscaled: Swin's
         * attention calls F.dropout(p=0.0) with training left on */
        if (tm->dtype == CSQ_DT_BOOL && *(const unsigned char *)tm->data &&
            !(a->nin > 1 && a->in[1] && a->in[1]->data && a->in[1]->dtype == CSQ_DT_FLOAT &&
              csq_tensor_numel(a->in[1]) == 1 && *(const float *)a->in[1]->data == 0.0f))
            return csq_fail(CSQ_EUNSUPPORTED, "node '%s' (%s): training mode is not supported",
                            a->name, csq_op_type(a));
    }
    *a->out[0] = (struct csq_tensor){ x->dtype, x->rank, { 0 }, a->out[0]->data };
    memcpy(a->out[0]->dims, x->dims, sizeof x->dims);
    if (a->nout > 1 && a->out[1]) {
        /* Dropout's mask: bool from opset 10, the data type before */
        struct csq_tensor *m = a->out[1];

        m->dtype = a->opset >= 10 ? CSQ_DT_BOOL : x->dtype;
        m->rank = x->rank;
        memcpy(m->dims, x->dims, sizeof x->dims);
    }
    return 0;
}

int csq_op_identity_run(struct csq_kargs *a)
{
    copy_data(a);
    if (a->nout > 1 && a->out[1]) {
        /* inference keeps every element: the mask is all ones */
        struct csq_tensor *m = a->out[1];
        int64_t n = csq_tensor_numel(m), i;

        for (i = 0; i < n; i++) {
            if (m->dtype == CSQ_DT_FLOAT)
                ((float *)m->data)[i] = 1.0f;
            else if (m->dtype == CSQ_DT_INT64)
                ((int64_t *)m->data)[i] = 1;
            else
                ((unsigned char *)m->data)[i] = 1;
        }
    }
    return 0;
}

/* ---- Flatten ---------------------------------------------------------- */

int csq_op_flatten_infer(struct csq_kargs *a)
{
    const struct csq_tensor *x;
    int64_t axis = csq_node_int(a->node, "axis", 1);
    size_t es;
    int ax, rc;

    if ((rc = elem_size(a, &es)) != 0)
        return rc;
    x = a->in[0];
    /* axis may equal rank: the output is then [numel, 1] */
    if (axis < -x->rank || axis > x->rank)
        return csq_fail(CSQ_EINVAL, "node '%s' (Flatten): axis %lld out of range for rank %d",
                        a->name, (long long)axis, x->rank);
    ax = (int)(axis < 0 ? axis + x->rank : axis);
    a->out[0]->dtype = x->dtype;
    a->out[0]->rank = 2;
    a->out[0]->dims[0] = prod(x->dims, 0, ax);
    a->out[0]->dims[1] = prod(x->dims, ax, x->rank);
    return 0;
}

int csq_op_flatten_run(struct csq_kargs *a)
{
    return copy_data(a);
}

/* ---- Reshape ---------------------------------------------------------- */

int csq_op_reshape_infer(struct csq_kargs *a)
{
    const struct csq_tensor *x;
    struct csq_tensor *o = a->out[0];
    const int64_t *shape;
    int64_t n, i, known = 1, numel;
    int allowzero = a->opset >= 14 && csq_node_int(a->node, "allowzero", 0) != 0;
    int infer_at = -1, has_zero = 0, rc;
    char bx[128];
    size_t es;

    if ((rc = elem_size(a, &es)) != 0 || (rc = csq_op_const_ints(a, 1, "shape", &shape, &n)))
        return rc;
    x = a->in[0];
    if (n > CSQ_MAX_RANK)
        return csq_fail(CSQ_EUNSUPPORTED, "node '%s' (Reshape): rank %lld exceeds %d",
                        a->name, (long long)n, CSQ_MAX_RANK);
    numel = csq_tensor_numel(x);
    for (i = 0; i < n; i++) {
        int64_t s = shape[i];

        if (s == 0 && !allowzero) {
            if (i >= x->rank)
                return csq_fail(CSQ_ESHAPE,
                                "node '%s' (Reshape): shape[%lld] = 0 copies a dim the input "
                                "%s does not have", a->name, (long long)i,
                                csq_op_dims_str(x, bx, sizeof bx));
            s = x->dims[i];
        } else if (s == 0) {
            has_zero = 1;
        } else if (s == -1) {
            if (infer_at >= 0)
                return csq_fail(CSQ_EINVAL, "node '%s' (Reshape): more than one -1 in shape",
                                a->name);
            infer_at = (int)i;
            o->dims[i] = 1;
            continue;
        } else if (s < -1) {
            return csq_fail(CSQ_EINVAL, "node '%s' (Reshape): invalid dim %lld in shape",
                            a->name, (long long)s);
        }
        o->dims[i] = s;
        known *= s;
    }
    if (infer_at >= 0) {
        if (has_zero || known == 0)
            return csq_fail(CSQ_ESHAPE, "node '%s' (Reshape): cannot infer the -1 dim of a "
                            "shape with a zero dim", a->name);
        if (numel % known != 0)
            return csq_fail(CSQ_ESHAPE, "node '%s' (Reshape): %lld elements of %s do not "
                            "divide into the requested shape", a->name, (long long)numel,
                            csq_op_dims_str(x, bx, sizeof bx));
        o->dims[infer_at] = numel / known;
        known = numel;
    }
    if (known != numel)
        return csq_fail(CSQ_ESHAPE, "node '%s' (Reshape): %lld elements of %s do not fit a "
                        "shape of %lld elements", a->name, (long long)numel,
                        csq_op_dims_str(x, bx, sizeof bx), (long long)known);
    o->dtype = x->dtype;
    o->rank = (int)n;
    return 0;
}

int csq_op_reshape_run(struct csq_kargs *a)
{
    return copy_data(a);
}

/* ---- Transpose -------------------------------------------------------- */

static int transpose_perm(const struct csq_kargs *a, int *perm)
{
    const struct csq_attr *at = csq_node_attr(a->node, "perm");
    int rank = a->in[0]->rank, i;
    unsigned seen = 0;

    if (!at) {
        for (i = 0; i < rank; i++)
            perm[i] = rank - 1 - i;
        return 0;
    }
    if (at->type != CSQ_ATTR_INTS || (int64_t)at->n != rank)
        return csq_fail(CSQ_EINVAL, "node '%s' (Transpose): perm must list %d axes", a->name,
                        rank);
    for (i = 0; i < rank; i++) {
        int64_t p = at->ints[i];

        if (p < 0 || p >= rank || (seen & (1u << p)))
            return csq_fail(CSQ_EINVAL, "node '%s' (Transpose): perm is not a permutation "
                            "of 0..%d", a->name, rank - 1);
        seen |= 1u << p;
        perm[i] = (int)p;
    }
    return 0;
}

int csq_op_transpose_infer(struct csq_kargs *a)
{
    int perm[CSQ_MAX_RANK], i, rc;
    size_t es;

    if ((rc = elem_size(a, &es)) != 0 || (rc = transpose_perm(a, perm)) != 0)
        return rc;
    a->out[0]->dtype = a->in[0]->dtype;
    a->out[0]->rank = a->in[0]->rank;
    for (i = 0; i < a->in[0]->rank; i++)
        a->out[0]->dims[i] = a->in[0]->dims[perm[i]];
    return 0;
}

/* Copy n elements of size es from a stride of s elements to contiguous. */
static void gather_strided(char *dst, const char *src, int64_t n, int64_t s, size_t es)
{
    int64_t i;

    switch (es) {
    case 4:
        for (i = 0; i < n; i++)
            memcpy(dst + 4 * i, src + 4 * i * s, 4);
        break;
    case 8:
        for (i = 0; i < n; i++)
            memcpy(dst + 8 * i, src + 8 * i * s, 8);
        break;
    default:
        for (i = 0; i < n; i++)
            memcpy(dst + es * (size_t)i, src + (int64_t)es * i * s, es);
    }
}

int csq_op_transpose_run(struct csq_kargs *a)
{
    const struct csq_tensor *x = a->in[0];
    struct csq_tensor *o = a->out[0];
    size_t es = csq_dtype_size(x->dtype);
    int64_t istr[CSQ_MAX_RANK], ostr[CSQ_MAX_RANK], inner, rows, r, numel;
    int perm[CSQ_MAX_RANK], rank = x->rank, d;

    numel = csq_tensor_numel(x);
    if (numel <= 0)
        return 0;
    if (rank <= 1 || transpose_perm(a, perm) != 0)
        return copy_data(a);
    istr[rank - 1] = 1;
    for (d = rank - 2; d >= 0; d--)
        istr[d] = istr[d + 1] * x->dims[d + 1];
    /* stride in the input of each output dim */
    for (d = 0; d < rank; d++)
        ostr[d] = istr[perm[d]];
    inner = o->dims[rank - 1];
    rows = numel / inner;

#pragma omp parallel for num_threads(CSQ_OP_NT(a)) if ((size_t)numel * es >= PAR_MIN_BYTES)
    for (r = 0; r < rows; r++) {
        int64_t off = 0, rest = r;
        int k;

        for (k = rank - 2; k >= 0; k--) {
            off += (rest % o->dims[k]) * ostr[k];
            rest /= o->dims[k];
        }
        gather_strided((char *)o->data + (size_t)(r * inner) * es,
                       (const char *)x->data + (size_t)off * es, inner, ostr[rank - 1], es);
    }
    return 0;
}

/* ---- Concat ----------------------------------------------------------- */

static int concat_axis(const struct csq_kargs *a, int *ax)
{
    const struct csq_attr *at = csq_node_attr(a->node, "axis");

    if (!at || at->type != CSQ_ATTR_INT)
        return csq_fail(CSQ_EINVAL, "node '%s' (Concat): attribute axis is required", a->name);
    return csq_op_axis(a, at->i, a->in[0]->rank, "axis", ax);
}

int csq_op_concat_infer(struct csq_kargs *a)
{
    const struct csq_tensor *x;
    struct csq_tensor *o = a->out[0];
    int ax, i, d, rc;
    char b0[128], bi[128];
    size_t es;

    if ((rc = elem_size(a, &es)) != 0 || (rc = concat_axis(a, &ax)) != 0)
        return rc;
    x = a->in[0];
    *o = (struct csq_tensor){ x->dtype, x->rank, { 0 }, o->data };
    memcpy(o->dims, x->dims, sizeof x->dims);
    for (i = 1; i < a->nin; i++) {
        const struct csq_tensor *y = a->in[i];
        int same = y && y->dtype == x->dtype && y->rank == x->rank;

        for (d = 0; same && d < x->rank; d++)
            if (d != ax && y->dims[d] != x->dims[d])
                same = 0;
        if (!same)
            return csq_fail(CSQ_ESHAPE, "node '%s' (Concat): input %d %s does not fit input 0 "
                            "%s on axis %d", a->name, i,
                            y ? csq_op_dims_str(y, bi, sizeof bi) : "(missing)",
                            csq_op_dims_str(x, b0, sizeof b0), ax);
        o->dims[ax] += y->dims[ax];
    }
    return 0;
}

int csq_op_concat_run(struct csq_kargs *a)
{
    struct csq_tensor *o = a->out[0];
    size_t es = csq_dtype_size(o->dtype);
    int64_t outer, inner, j;
    char *dst = o->data;
    int ax, i;

    if (concat_axis(a, &ax) != 0)
        return CSQ_EINVAL;
    outer = prod(o->dims, 0, ax);
    inner = prod(o->dims, ax + 1, o->rank) * (int64_t)es;
    for (j = 0; j < outer; j++) {
        for (i = 0; i < a->nin; i++) {
            int64_t block = a->in[i]->dims[ax] * inner;

            if (block > 0)
                memcpy(dst, (const char *)a->in[i]->data + j * block, (size_t)block);
            dst += block;
        }
    }
    return 0;
}

/* ---- Split ------------------------------------------------------------ */

int csq_op_split_infer(struct csq_kargs *a)
{
    const struct csq_tensor *x;
    const struct csq_attr *at = csq_node_attr(a->node, "split");
    const int64_t *sizes = NULL;
    int64_t nsizes = 0, sum = 0, dim;
    int ax, i, rc;
    size_t es;

    if ((rc = elem_size(a, &es)) != 0)
        return rc;
    x = a->in[0];
    if ((rc = csq_op_axis(a, csq_node_int(a->node, "axis", 0), x->rank, "axis", &ax)) != 0)
        return rc;
    if (a->opset >= 13) {
        if (a->nin > 1 && a->in[1] && (rc = csq_op_const_ints(a, 1, "split", &sizes, &nsizes)))
            return rc;
    } else if (at) {
        if (at->type != CSQ_ATTR_INTS)
            return csq_fail(CSQ_EINVAL, "node '%s' (Split): attribute split is not a list of "
                            "ints", a->name);
        sizes = at->ints;
        nsizes = (int64_t)at->n;
    }
    dim = x->dims[ax];
    if (sizes) {
        if (nsizes != a->nout)
            return csq_fail(CSQ_EINVAL, "node '%s' (Split): %lld split sizes for %d outputs",
                            a->name, (long long)nsizes, a->nout);
        for (i = 0; i < a->nout; i++) {
            if (sizes[i] < 0)
                return csq_fail(CSQ_EINVAL, "node '%s' (Split): negative split size %lld",
                                a->name, (long long)sizes[i]);
            sum += sizes[i];
        }
        if (sum != dim)
            return csq_fail(CSQ_ESHAPE, "node '%s' (Split): split sizes add up to %lld, axis "
                            "%d has %lld", a->name, (long long)sum, ax, (long long)dim);
    } else if (a->nout < 1 || dim % a->nout != 0) {
        return csq_fail(CSQ_ESHAPE, "node '%s' (Split): axis %d of size %lld does not split "
                        "into %d equal parts", a->name, ax, (long long)dim, a->nout);
    }
    for (i = 0; i < a->nout; i++) {
        struct csq_tensor *o = a->out[i];

        if (!o)
            continue;
        *o = (struct csq_tensor){ x->dtype, x->rank, { 0 }, o->data };
        memcpy(o->dims, x->dims, sizeof x->dims);
        o->dims[ax] = sizes ? sizes[i] : dim / a->nout;
    }
    return 0;
}

int csq_op_split_run(struct csq_kargs *a)
{
    const struct csq_tensor *x = a->in[0];
    size_t es = csq_dtype_size(x->dtype);
    int64_t outer, inner, row, j;
    const char *src;
    int ax, i;

    if (csq_op_axis(a, csq_node_int(a->node, "axis", 0), x->rank, "axis", &ax) != 0)
        return CSQ_EINVAL;
    outer = prod(x->dims, 0, ax);
    inner = prod(x->dims, ax + 1, x->rank) * (int64_t)es;
    row = x->dims[ax] * inner;
    for (j = 0; j < outer; j++) {
        src = (const char *)x->data + j * row;
        for (i = 0; i < a->nout; i++) {
            /* sizes come from the shapes infer set */
            const struct csq_tensor *o = a->out[i];
            int64_t block;

            if (!o)
                continue;
            block = o->dims[ax] * inner;
            if (block > 0)
                memcpy((char *)o->data + j * block, src, (size_t)block);
            src += block;
        }
    }
    return 0;
}

/* ---- Squeeze, Unsqueeze ----------------------------------------------- */

/* The axes of (Un)Squeeze: attribute before opset 13, input 1 after.
 * *present is 0 when none are given. */
static int squeeze_axes(const struct csq_kargs *a, const int64_t **axes, int64_t *n,
                        int *present)
{
    *present = 0;
    *n = 0;
    if (a->opset >= 13) {
        if (a->nin > 1 && a->in[1]) {
            *present = 1;
            return csq_op_const_ints(a, 1, "axes", axes, n);
        }
        return 0;
    }
    {
        const struct csq_attr *at = csq_node_attr(a->node, "axes");

        if (!at)
            return 0;
        if (at->type != CSQ_ATTR_INTS)
            return csq_fail(CSQ_EINVAL, "node '%s' (%s): attribute axes is not a list of ints",
                            a->name, csq_op_type(a));
        *present = 1;
        *axes = at->ints;
        *n = (int64_t)at->n;
    }
    return 0;
}

/* Bit mask of the axes normalised against rank; duplicates fail. */
static int axes_mask(const struct csq_kargs *a, const int64_t *axes, int64_t n, int rank,
                     unsigned *mask)
{
    int64_t i;
    int ax, rc;

    *mask = 0;
    for (i = 0; i < n; i++) {
        if ((rc = csq_op_axis(a, axes[i], rank, "axis", &ax)) != 0)
            return rc;
        if (*mask & (1u << ax))
            return csq_fail(CSQ_EINVAL, "node '%s' (%s): axis %d given twice", a->name,
                            csq_op_type(a), ax);
        *mask |= 1u << ax;
    }
    return 0;
}

int csq_op_squeeze_infer(struct csq_kargs *a)
{
    const struct csq_tensor *x;
    struct csq_tensor *o = a->out[0];
    const int64_t *axes = NULL;
    int64_t n;
    unsigned mask = 0;
    int present, d, rc;
    char bx[128];
    size_t es;

    if ((rc = elem_size(a, &es)) != 0 || (rc = squeeze_axes(a, &axes, &n, &present)) != 0)
        return rc;
    x = a->in[0];
    /* an empty axes list squeezes every 1, as no list does (onnxruntime) */
    if (n == 0)
        present = 0;
    if (present && (rc = axes_mask(a, axes, n, x->rank, &mask)) != 0)
        return rc;
    o->dtype = x->dtype;
    o->rank = 0;
    for (d = 0; d < x->rank; d++) {
        if (present && (mask & (1u << d))) {
            if (x->dims[d] != 1)
                return csq_fail(CSQ_ESHAPE, "node '%s' (Squeeze): axis %d of %s is not 1",
                                a->name, d, csq_op_dims_str(x, bx, sizeof bx));
            continue;
        }
        if (!present && x->dims[d] == 1)
            continue;
        o->dims[o->rank++] = x->dims[d];
    }
    return 0;
}

int csq_op_squeeze_run(struct csq_kargs *a)
{
    return copy_data(a);
}

int csq_op_unsqueeze_infer(struct csq_kargs *a)
{
    const struct csq_tensor *x;
    struct csq_tensor *o = a->out[0];
    const int64_t *axes = NULL;
    int64_t n;
    unsigned mask;
    int present, rank, d, k = 0, rc;
    size_t es;

    if ((rc = elem_size(a, &es)) != 0 || (rc = squeeze_axes(a, &axes, &n, &present)) != 0)
        return rc;
    x = a->in[0];
    if (!present)
        return csq_fail(CSQ_EINVAL, "node '%s' (Unsqueeze): axes are required", a->name);
    if (x->rank + n > CSQ_MAX_RANK)
        return csq_fail(CSQ_EUNSUPPORTED, "node '%s' (Unsqueeze): rank %lld exceeds %d",
                        a->name, (long long)(x->rank + n), CSQ_MAX_RANK);
    rank = x->rank + (int)n;
    if ((rc = axes_mask(a, axes, n, rank, &mask)) != 0)
        return rc;
    o->dtype = x->dtype;
    o->rank = rank;
    for (d = 0; d < rank; d++)
        o->dims[d] = mask & (1u << d) ? 1 : x->dims[k++];
    return 0;
}

int csq_op_unsqueeze_run(struct csq_kargs *a)
{
    return copy_data(a);
}

/* ---- Shape ------------------------------------------------------------ */

/* [start, end) of the dims reported (opset 15 attributes, clamped). */
static void shape_range(const struct csq_kargs *a, int *start, int *end)
{
    int rank = a->in[0]->rank;
    int64_t s = a->opset >= 15 ? csq_node_int(a->node, "start", 0) : 0;
    int64_t e = a->opset >= 15 ? csq_node_int(a->node, "end", rank) : rank;

    if (s < 0)
        s += rank;
    if (e < 0)
        e += rank;
    s = s < 0 ? 0 : s > rank ? rank : s;
    e = e < 0 ? 0 : e > rank ? rank : e;
    *start = (int)s;
    *end = (int)(e > s ? e : s);
}

int csq_op_shape_infer(struct csq_kargs *a)
{
    int start, end;

    if (a->nin < 1 || !a->in[0] || a->nout < 1)
        return csq_fail(CSQ_EINVAL, "node '%s' (Shape): needs 1 input and 1 output", a->name);
    shape_range(a, &start, &end);
    a->out[0]->dtype = CSQ_DT_INT64;
    a->out[0]->rank = 1;
    a->out[0]->dims[0] = end - start;
    return 0;
}

/* Reads only the input's dims: its data may be absent. */
int csq_op_shape_run(struct csq_kargs *a)
{
    int start, end, d;

    shape_range(a, &start, &end);
    for (d = start; d < end; d++)
        ((int64_t *)a->out[0]->data)[d - start] = a->in[0]->dims[d];
    return 0;
}

/* ---- Gather ----------------------------------------------------------- */

#define CSQ_DT_INT32 6   /* ONNX TensorProto.INT32: accepted for indices */

int csq_op_gather_infer(struct csq_kargs *a)
{
    const struct csq_tensor *x, *idx;
    struct csq_tensor *o = a->out[0];
    int ax, d, rc;
    size_t es;

    if ((rc = elem_size(a, &es)) != 0)
        return rc;
    x = a->in[0];
    idx = a->nin > 1 ? a->in[1] : NULL;
    if (!idx)
        return csq_fail(CSQ_EINVAL, "node '%s' (Gather): input 1 (indices) is missing", a->name);
    if (idx->dtype != CSQ_DT_INT64 && idx->dtype != CSQ_DT_INT32)
        return csq_fail(CSQ_EINVAL, "node '%s' (Gather): indices must be int64 or int32",
                        a->name);
    if ((rc = csq_op_axis(a, csq_node_int(a->node, "axis", 0), x->rank, "axis", &ax)) != 0)
        return rc;
    if (x->rank - 1 + idx->rank > CSQ_MAX_RANK)
        return csq_fail(CSQ_EUNSUPPORTED, "node '%s' (Gather): output rank %d exceeds %d",
                        a->name, x->rank - 1 + idx->rank, CSQ_MAX_RANK);
    o->dtype = x->dtype;
    o->rank = 0;
    for (d = 0; d < ax; d++)
        o->dims[o->rank++] = x->dims[d];
    for (d = 0; d < idx->rank; d++)
        o->dims[o->rank++] = idx->dims[d];
    for (d = ax + 1; d < x->rank; d++)
        o->dims[o->rank++] = x->dims[d];
    return 0;
}

int csq_op_gather_run(struct csq_kargs *a)
{
    const struct csq_tensor *x = a->in[0], *idx = a->in[1];
    size_t es = csq_dtype_size(x->dtype);
    int64_t outer, n, inner, nidx = csq_tensor_numel(idx), j, i;
    char *dst = a->out[0]->data;
    int ax;

    if (csq_op_axis(a, csq_node_int(a->node, "axis", 0), x->rank, "axis", &ax) != 0)
        return CSQ_EINVAL;
    outer = prod(x->dims, 0, ax);
    n = x->dims[ax];
    inner = prod(x->dims, ax + 1, x->rank) * (int64_t)es;
    /* indices are run-time data: check them all before writing */
    for (i = 0; i < nidx; i++) {
        int64_t k = idx->dtype == CSQ_DT_INT64 ? ((const int64_t *)idx->data)[i]
                                               : ((const int32_t *)idx->data)[i];
        if (k < -n || k >= n)
            return csq_fail(CSQ_EINVAL, "node '%s' (Gather): index %lld out of range for "
                            "axis %d of size %lld", a->name, (long long)k, ax, (long long)n);
    }
    for (j = 0; j < outer; j++) {
        for (i = 0; i < nidx; i++) {
            int64_t k = idx->dtype == CSQ_DT_INT64 ? ((const int64_t *)idx->data)[i]
                                                   : ((const int32_t *)idx->data)[i];

            if (k < 0)
                k += n;
            if (inner > 0)
                memcpy(dst, (const char *)x->data + (j * n + k) * inner, (size_t)inner);
            dst += inner;
        }
    }
    return 0;
}

/* ---- ConstantOfShape -------------------------------------------------- */

/* The fill value: the one-element tensor attribute, float 0 if absent. */
static int const_value(const struct csq_kargs *a, const struct csq_tensor **v)
{
    const struct csq_attr *at = csq_node_attr(a->node, "value");

    *v = NULL;
    if (!at)
        return 0;
    if (at->type != CSQ_ATTR_TENSOR || csq_tensor_numel(&at->t) != 1 || !at->t.data)
        return csq_fail(CSQ_EINVAL, "node '%s' (ConstantOfShape): value must be a "
                        "one-element tensor", a->name);
    if (csq_dtype_size(at->t.dtype) == 0)
        return csq_fail(CSQ_EUNSUPPORTED, "node '%s' (ConstantOfShape): value of element "
                        "type %d not supported", a->name, at->t.dtype);
    *v = &at->t;
    return 0;
}

int csq_op_constantofshape_infer(struct csq_kargs *a)
{
    const struct csq_tensor *v;
    struct csq_tensor *o = a->out[0];
    const int64_t *shape;
    int64_t n, i;
    int rc;

    if (a->nout < 1 || !o)
        return csq_fail(CSQ_EINVAL, "node '%s' (ConstantOfShape): missing output", a->name);
    if ((rc = csq_op_const_ints(a, 0, "shape", &shape, &n)) != 0 ||
        (rc = const_value(a, &v)) != 0)
        return rc;
    if (n > CSQ_MAX_RANK)
        return csq_fail(CSQ_EUNSUPPORTED, "node '%s' (ConstantOfShape): rank %lld exceeds %d",
                        a->name, (long long)n, CSQ_MAX_RANK);
    for (i = 0; i < n; i++) {
        if (shape[i] < 0)
            return csq_fail(CSQ_EINVAL, "node '%s' (ConstantOfShape): negative dim %lld",
                            a->name, (long long)shape[i]);
        o->dims[i] = shape[i];
    }
    o->rank = (int)n;
    o->dtype = v ? v->dtype : CSQ_DT_FLOAT;
    return 0;
}

int csq_op_constantofshape_run(struct csq_kargs *a)
{
    const struct csq_tensor *v;
    struct csq_tensor *o = a->out[0];
    static const float zero = 0.0f;
    const void *val = &zero;
    size_t es = csq_dtype_size(o->dtype);
    int64_t n = csq_tensor_numel(o), i;

    if (const_value(a, &v) != 0)
        return CSQ_EINVAL;
    if (v)
        val = v->data;
    for (i = 0; i < n; i++)
        memcpy((char *)o->data + (size_t)i * es, val, es);
    return 0;
}

/* ---- Pad -------------------------------------------------------------- */

enum { PAD_CONSTANT, PAD_REFLECT, PAD_EDGE };

/* Mode and pads [x1_begin, x2_begin, ..., x1_end, x2_end]. */
static int pad_params(const struct csq_kargs *a, int *mode, int64_t *pads)
{
    const char *m = csq_node_string(a->node, "mode", "constant");
    int rank = a->in[0]->rank, i, rc;
    const int64_t *p;
    int64_t n;

    if (strcmp(m, "constant") == 0)
        *mode = PAD_CONSTANT;
    else if (strcmp(m, "reflect") == 0)
        *mode = PAD_REFLECT;
    else if (strcmp(m, "edge") == 0)
        *mode = PAD_EDGE;
    else
        return csq_fail(CSQ_EUNSUPPORTED, "node '%s' (Pad): mode '%s' not supported", a->name,
                        m);
    if (a->opset < 11) {
        const struct csq_attr *at = csq_node_attr(a->node, "pads");

        if (!at || at->type != CSQ_ATTR_INTS)
            return csq_fail(CSQ_EINVAL, "node '%s' (Pad): attribute pads is required",
                            a->name);
        p = at->ints;
        n = (int64_t)at->n;
    } else {
        if (a->nin > 3 && a->in[3])
            return csq_fail(CSQ_EUNSUPPORTED, "node '%s' (Pad): input 3 (axes) not supported",
                            a->name);
        if ((rc = csq_op_const_ints(a, 1, "pads", &p, &n)) != 0)
            return rc;
    }
    if (n != 2 * rank)
        return csq_fail(CSQ_EINVAL, "node '%s' (Pad): %lld pads for rank %d (need %d)",
                        a->name, (long long)n, rank, 2 * rank);
    for (i = 0; i < 2 * rank; i++)
        pads[i] = p[i];
    return 0;
}

int csq_op_pad_infer(struct csq_kargs *a)
{
    const struct csq_tensor *x;
    struct csq_tensor *o = a->out[0];
    int64_t pads[2 * CSQ_MAX_RANK];
    int mode, d, rc;
    size_t es;

    if ((rc = elem_size(a, &es)) != 0 || (rc = pad_params(a, &mode, pads)) != 0)
        return rc;
    x = a->in[0];
    if (a->opset >= 11 && a->nin > 2 && a->in[2]) {
        const struct csq_tensor *v = a->in[2];

        if (v->dtype != x->dtype || csq_tensor_numel(v) != 1)
            return csq_fail(CSQ_EINVAL, "node '%s' (Pad): constant_value must be a scalar of "
                            "the input's type", a->name);
    }
    o->dtype = x->dtype;
    o->rank = x->rank;
    for (d = 0; d < x->rank; d++) {
        int64_t b = pads[d], e = pads[d + x->rank], dim = x->dims[d];

        o->dims[d] = dim + b + e;
        if (o->dims[d] < 0)
            return csq_fail(CSQ_ESHAPE, "node '%s' (Pad): pads %lld,%lld leave axis %d of "
                            "size %lld negative", a->name, (long long)b, (long long)e, d,
                            (long long)dim);
        if (mode == PAD_REFLECT && (b > 0 || e > 0) && (b >= dim || e >= dim))
            return csq_fail(CSQ_ESHAPE, "node '%s' (Pad): reflect pads %lld,%lld need axis %d "
                            "longer than %lld", a->name, (long long)b, (long long)e, d,
                            (long long)dim);
        if (mode == PAD_EDGE && (b > 0 || e > 0) && dim == 0)
            return csq_fail(CSQ_ESHAPE, "node '%s' (Pad): edge padding of empty axis %d",
                            a->name, d);
    }
    return 0;
}

/* Input coordinate read for output coordinate j - begin pad, or -1 for
 * the constant. */
static int64_t pad_src(int mode, int64_t i, int64_t dim)
{
    if (i >= 0 && i < dim)
        return i;
    if (mode == PAD_CONSTANT)
        return -1;
    if (mode == PAD_EDGE)
        return i < 0 ? 0 : dim - 1;
    return i < 0 ? -i : 2 * (dim - 1) - i;
}

int csq_op_pad_run(struct csq_kargs *a)
{
    const struct csq_tensor *x = a->in[0];
    struct csq_tensor *o = a->out[0];
    size_t es = csq_dtype_size(x->dtype);
    int64_t pads[2 * CSQ_MAX_RANK], istr[CSQ_MAX_RANK], inner, rows, r, lb, ld, j;
    unsigned char val[8] = { 0 };
    int mode, rank = x->rank, d;

    if (pad_params(a, &mode, pads) != 0)
        return CSQ_EINVAL;
    if (a->opset >= 11) {
        if (a->nin > 2 && a->in[2] && a->in[2]->data)
            memcpy(val, a->in[2]->data, es);
    } else {
        float v = csq_node_float(a->node, "value", 0.0f);

        if (x->dtype == CSQ_DT_FLOAT)
            memcpy(val, &v, sizeof v);
        else if (x->dtype == CSQ_DT_INT64) {
            int64_t iv = (int64_t)v;

            memcpy(val, &iv, sizeof iv);
        }
    }
    if (csq_tensor_numel(o) <= 0)
        return 0;
    if (rank == 0) {
        memcpy(o->data, x->data, es);
        return 0;
    }
    istr[rank - 1] = 1;
    for (d = rank - 2; d >= 0; d--)
        istr[d] = istr[d + 1] * x->dims[d + 1];
    inner = o->dims[rank - 1];
    rows = csq_tensor_numel(o) / inner;
    lb = pads[rank - 1];
    ld = x->dims[rank - 1];
    for (r = 0; r < rows; r++) {
        char *dst = (char *)o->data + (size_t)(r * inner) * es;
        const char *src;
        int64_t rest = r, off = 0, j0, j1;
        int outside = 0;

        for (d = rank - 2; d >= 0; d--) {
            int64_t s = pad_src(mode, rest % o->dims[d] - pads[d], x->dims[d]);

            rest /= o->dims[d];
            if (s < 0)
                outside = 1;
            off += s * istr[d];
        }
        if (outside || ld == 0) {
            for (j = 0; j < inner; j++)
                memcpy(dst + (size_t)j * es, val, es);
            continue;
        }
        src = (const char *)x->data + (size_t)off * es;
        /* the middle is one copy; only the borders are mapped one by one */
        j0 = lb > 0 ? lb : 0;
        j1 = lb + ld < inner ? lb + ld : inner;
        if (j1 > j0)
            memcpy(dst + (size_t)j0 * es, src + (size_t)(j0 - lb) * es, (size_t)(j1 - j0) * es);
        for (j = 0; j < inner; j++) {
            int64_t s;

            if (j == j0 && j1 > j0) {
                j = j1 - 1;
                continue;
            }
            s = pad_src(mode, j - lb, ld);
            memcpy(dst + (size_t)j * es, s < 0 ? (const char *)val : src + (size_t)s * es, es);
        }
    }
    return 0;
}
