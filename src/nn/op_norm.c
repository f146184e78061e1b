/*
 * op_norm: LayerNormalization (opset 17), float32.  Each row of the
 * normalized trailing dims is reduced in double in two passes (mean, then
 * the mean square of x - mean), which matches the reference's
 * x.mean() / ((x - mean)^2).mean() to float rounding even for rows with a
 * large common offset.
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include "nn/bcast.h"
#include "nn/kernels.h"
#include "util/err.h"

/* Rows below this many elements in all stay on one thread. */
#define PAR_MIN 32768

struct ln {
    int axis;
    int64_t rows, cols;
    int64_t ns, nb;          /* elements of scale and bias (1 or cols), nb 0 = none */
    float eps;
};

static int ln_plan(const struct csq_kargs *a, struct ln *p)
{
    const struct csq_tensor *x = a->nin > 0 ? a->in[0] : NULL;
    const struct csq_tensor *s = a->nin > 1 ? a->in[1] : NULL;
    const struct csq_tensor *b = a->nin > 2 ? a->in[2] : NULL;
    int d, rc;

    if (!x || !s || a->nout < 1 || !a->out[0])
        return csq_fail(CSQ_EINVAL, "node '%s' (LayerNormalization): needs X, Scale and an "
                        "output", a->name);
    if (x->dtype != CSQ_DT_FLOAT || s->dtype != CSQ_DT_FLOAT || (b && b->dtype != CSQ_DT_FLOAT))
        return csq_fail(CSQ_EUNSUPPORTED, "node '%s' (LayerNormalization): only float32",
                        a->name);
    if (csq_node_int(a->node, "stash_type", 1) != 1)
        return csq_fail(CSQ_EUNSUPPORTED, "node '%s' (LayerNormalization): stash_type %lld "
                        "(only 1, float)", a->name,
                        (long long)csq_node_int(a->node, "stash_type", 1));
    if ((rc = csq_op_axis(a, csq_node_int(a->node, "axis", -1), x->rank, "axis", &p->axis)))
        return rc;
    p->rows = 1;
    p->cols = 1;
    for (d = 0; d < x->rank; d++) {
        if (d < p->axis)
            p->rows *= x->dims[d];
        else
            p->cols *= x->dims[d];
    }
    p->ns = csq_tensor_numel(s);
    p->nb = b ? csq_tensor_numel(b) : 0;
    /* Scale and B broadcast to the normalized shape; the full shape and a
     * single value are what exporters write. */
    if ((p->ns != p->cols && p->ns != 1) || (b && p->nb != p->cols && p->nb != 1))
        return csq_fail(CSQ_EUNSUPPORTED, "node '%s' (LayerNormalization): Scale and B must "
                        "have %lld elements or 1", a->name, (long long)p->cols);
    p->eps = csq_node_float(a->node, "epsilon", 1e-5f);
    return 0;
}

int csq_op_layernorm_infer(struct csq_kargs *a)
{
    const struct csq_tensor *x;
    struct ln p;
    int i, d, rc;

    if ((rc = ln_plan(a, &p)) != 0)
        return rc;
    x = a->in[0];
    a->out[0]->dtype = CSQ_DT_FLOAT;
    a->out[0]->rank = x->rank;
    memcpy(a->out[0]->dims, x->dims, sizeof x->dims);
    /* Mean and InvStdDev keep the leading dims, 1 for the normalized ones */
    for (i = 1; i < a->nout && i < 3; i++) {
        struct csq_tensor *o = a->out[i];

        if (!o)
            continue;
        o->dtype = CSQ_DT_FLOAT;
        o->rank = x->rank;
        for (d = 0; d < x->rank; d++)
            o->dims[d] = d < p.axis ? x->dims[d] : 1;
    }
    return 0;
}

int csq_op_layernorm_run(struct csq_kargs *a)
{
    const float *x = a->in[0]->data, *s = a->in[1]->data;
    const float *b = a->nin > 2 && a->in[2] ? a->in[2]->data : NULL;
    float *y = a->out[0]->data;
    float *mo = a->nout > 1 && a->out[1] ? a->out[1]->data : NULL;
    float *io = a->nout > 2 && a->out[2] ? a->out[2]->data : NULL;
    struct ln p;
    int64_t r;

    if (ln_plan(a, &p) != 0)
        return CSQ_EINVAL;

#pragma omp parallel for num_threads(CSQ_OP_NT(a)) if (p.rows * p.cols >= PAR_MIN && p.rows > 1)
    for (r = 0; r < p.rows; r++) {
        const float *xr = x + r * p.cols;
        float *yr = y + r * p.cols;
        double sum = 0.0, sq = 0.0;
        float mean, inv;
        int64_t j;

        for (j = 0; j < p.cols; j++)
            sum += xr[j];
        mean = (float)(sum / (double)p.cols);
        for (j = 0; j < p.cols; j++) {
            double dv = (double)xr[j] - mean;

            sq += dv * dv;
        }
        inv = (float)(1.0 / sqrt(sq / (double)p.cols + (double)p.eps));
        if (p.ns == p.cols && p.nb == p.cols) {
            for (j = 0; j < p.cols; j++)
                yr[j] = (xr[j] - mean) * inv * s[j] + b[j];
        } else {
            for (j = 0; j < p.cols; j++) {
                float v = (xr[j] - mean) * inv * s[p.ns == 1 ? 0 : j];

                yr[j] = p.nb ? v + b[p.nb == 1 ? 0 : j] : v;
            }
        }
        if (mo)
            mo[r] = mean;
        if (io)
            io[r] = inv;
    }
    return 0;
}
