/*
 * op_win: output sizes and pads of sliding-window operators.
 */
#include "config.h"

#include <string.h>

#include "nn/op_win.h"
#include "util/err.h"

int csq_op_win_ints(const struct csq_kargs *a, const char *op, const char *attr,
                    size_t n, const int64_t **v)
{
    const struct csq_attr *at = csq_node_attr(a->node, attr);

    *v = NULL;
    if (!at)
        return 0;
    if (at->type != CSQ_ATTR_INTS || at->n != n)
        return csq_fail(CSQ_EFORMAT, "node '%s' (%s): attribute '%s' needs %zu integers",
                        a->name, op, attr, n);
    *v = at->ints;
    return 0;
}

static int64_t ceil_div(int64_t a, int64_t b)
{
    return a >= 0 ? (a + b - 1) / b : -((-a) / b);
}

int csq_op_win_parse(const struct csq_kargs *a, const char *op, int nsp,
                     const int64_t *in, const int64_t *k, int allow_ceil,
                     struct csq_win *w)
{
    const int64_t *strides, *dil, *pads;
    const char *autopad = csq_node_string(a->node, "auto_pad", "NOTSET");
    int64_t ceil_mode = allow_ceil ? csq_node_int(a->node, "ceil_mode", 0) : 0;
    int rc, i;

    if (nsp < 1 || nsp > CSQ_WIN_MAX)
        return csq_fail(CSQ_EUNSUPPORTED, "node '%s' (%s): %d spatial dims (at most %d)",
                        a->name, op, nsp, CSQ_WIN_MAX);
    if ((rc = csq_op_win_ints(a, op, "strides", nsp, &strides)) ||
        (rc = csq_op_win_ints(a, op, "dilations", nsp, &dil)) ||
        (rc = csq_op_win_ints(a, op, "pads", 2 * (size_t)nsp, &pads)))
        return rc;
    memset(w, 0, sizeof *w);
    w->nsp = nsp;
    for (i = 0; i < nsp; i++) {
        int64_t span, num;

        w->in[i] = in[i];
        w->k[i] = k[i];
        w->s[i] = strides ? strides[i] : 1;
        w->d[i] = dil ? dil[i] : 1;
        w->pb[i] = pads ? pads[i] : 0;
        w->pe[i] = pads ? pads[i + nsp] : 0;
        if (w->k[i] < 1 || w->s[i] < 1 || w->d[i] < 1 || w->pb[i] < 0 || w->pe[i] < 0)
            return csq_fail(CSQ_EFORMAT, "node '%s' (%s): kernel, strides and dilations "
                            "must be positive, pads non-negative", a->name, op);
        span = (w->k[i] - 1) * w->d[i] + 1;
        if (strcmp(autopad, "NOTSET") == 0 || autopad[0] == '\0') {
            num = in[i] + w->pb[i] + w->pe[i] - span;
            if (num < 0)
                return csq_fail(CSQ_ESHAPE, "node '%s' (%s): window of %lld does not fit "
                                "the padded input of %lld", a->name, op, (long long)span,
                                (long long)(in[i] + w->pb[i] + w->pe[i]));
            if (ceil_mode) {
                w->out[i] = ceil_div(num, w->s[i]) + 1;
                /* the last window must start inside the input or the
                 * begin padding (PyTorch, onnxruntime) */
                if ((w->out[i] - 1) * w->s[i] >= in[i] + w->pb[i])
                    w->out[i]--;
            } else {
                w->out[i] = num / w->s[i] + 1;
            }
        } else if (strcmp(autopad, "VALID") == 0) {
            w->pb[i] = w->pe[i] = 0;
            if (in[i] < span)
                return csq_fail(CSQ_ESHAPE, "node '%s' (%s): window of %lld does not fit "
                                "the input of %lld", a->name, op, (long long)span,
                                (long long)in[i]);
            w->out[i] = ceil_div(in[i] - span + 1, w->s[i]);
        } else if (strcmp(autopad, "SAME_UPPER") == 0 || strcmp(autopad, "SAME_LOWER") == 0) {
            int64_t total;

            w->out[i] = ceil_div(in[i], w->s[i]);
            total = (w->out[i] - 1) * w->s[i] + span - in[i];
            if (total < 0)
                total = 0;
            if (autopad[5] == 'U') {
                w->pb[i] = total / 2;
                w->pe[i] = total - w->pb[i];
            } else {
                w->pe[i] = total / 2;
                w->pb[i] = total - w->pe[i];
            }
        } else {
            return csq_fail(CSQ_EFORMAT, "node '%s' (%s): unknown auto_pad '%s'",
                            a->name, op, autopad);
        }
        if (w->out[i] < 1)
            return csq_fail(CSQ_ESHAPE, "node '%s' (%s): empty output", a->name, op);
    }
    return 0;
}
