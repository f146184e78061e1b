/*
 * bcast: shape helpers shared by the operator kernels.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "nn/bcast.h"
#include "util/err.h"

int csq_op_bcast_shape(const struct csq_tensor *x, const struct csq_tensor *y,
                       struct csq_tensor *out)
{
    int rank = x->rank > y->rank ? x->rank : y->rank;
    int64_t dims[CSQ_MAX_RANK];
    int i;

    for (i = 0; i < rank; i++) {
        /* align from the trailing dimension; missing leading dims are 1 */
        int ix = i - (rank - x->rank), iy = i - (rank - y->rank);
        int64_t dx = ix >= 0 ? x->dims[ix] : 1;
        int64_t dy = iy >= 0 ? y->dims[iy] : 1;

        if (dx == dy || dy == 1)
            dims[i] = dx;
        else if (dx == 1)
            dims[i] = dy;
        else
            return -1;
    }
    out->rank = rank;
    memcpy(out->dims, dims, sizeof(int64_t) * (size_t)rank);
    return 0;
}

int csq_op_axis(const struct csq_kargs *a, int64_t axis, int rank, const char *what,
                int *out)
{
    if (axis < -rank || axis >= rank)
        return csq_fail(CSQ_EINVAL, "node '%s' (%s): %s %lld out of range for rank %d",
                        a->name, csq_op_type(a), what, (long long)axis, rank);
    *out = (int)(axis < 0 ? axis + rank : axis);
    return 0;
}

int csq_op_const_ints(const struct csq_kargs *a, int i, const char *what,
                      const int64_t **vals, int64_t *n)
{
    const struct csq_tensor *t = i < a->nin ? a->in[i] : NULL;

    if (!t)
        return csq_fail(CSQ_EINVAL, "node '%s' (%s): input %d (%s) is missing",
                        a->name, csq_op_type(a), i, what);
    if (!t->data)
        return csq_fail(CSQ_EUNSUPPORTED,
                        "node '%s' (%s): input %d (%s) must be a constant",
                        a->name, csq_op_type(a), i, what);
    if (t->dtype != CSQ_DT_INT64 || t->rank > 1)
        return csq_fail(CSQ_EINVAL,
                        "node '%s' (%s): input %d (%s) must be a 1-D int64 tensor",
                        a->name, csq_op_type(a), i, what);
    *vals = t->data;
    *n = t->rank == 0 ? 1 : t->dims[0];
    return 0;
}

const char *csq_op_dims_str(const struct csq_tensor *t, char *buf, size_t len)
{
    size_t used = 0;
    int i;

    if (len == 0)
        return buf;
    buf[0] = '\0';
    used += (size_t)snprintf(buf, len, "[");
    for (i = 0; i < t->rank && used < len; i++)
        used += (size_t)snprintf(buf + used, len - used, "%s%lld", i ? "," : "",
                                 (long long)t->dims[i]);
    if (used < len)
        snprintf(buf + used, len - used, "]");
    return buf;
}

const char *csq_op_type(const struct csq_kargs *a)
{
    return a->node && a->node->op_type ? a->node->op_type : "?";
}

/* Below this many output elements threads cost more than they save;
 * rows are cut in chunks so one long row still splits. */
#define BWALK_PAR_MIN 32768
#define BWALK_CHUNK 8192

void csq_op_bwalk(const struct csq_kargs *a, const struct csq_tensor *const *in, int nin,
                  const struct csq_tensor *out, csq_bwalk_row run, void *ctx)
{
    int64_t dims[CSQ_MAX_RANK], st[CSQ_BWALK_MAX][CSQ_MAX_RANK], acc[CSQ_BWALK_MAX];
    int adv[CSQ_BWALK_MAX][CSQ_MAX_RANK];
    int64_t total = csq_tensor_numel(out), inner, nouter = 1, nchunk, items, w;
    int n = 0, d, k;

    if (total <= 0)
        return;
    for (d = 0; d < out->rank; d++) {
        int same = n > 0;

        if (out->dims[d] == 1)
            continue;
        for (k = 0; k < nin; k++) {
            int ix = d - (out->rank - in[k]->rank);

            adv[k][n] = ix >= 0 && in[k]->dims[ix] == out->dims[d];
            if (n > 0 && adv[k][n] != adv[k][n - 1])
                same = 0;
        }
        if (same) {
            dims[n - 1] *= out->dims[d];
            continue;
        }
        dims[n++] = out->dims[d];
    }
    if (n == 0) {
        dims[n] = 1;
        for (k = 0; k < nin; k++)
            adv[k][n] = 1;
        n = 1;
    }
    for (k = 0; k < nin; k++)
        acc[k] = 1;
    for (d = n - 1; d >= 0; d--)
        for (k = 0; k < nin; k++) {
            st[k][d] = adv[k][d] ? acc[k] : 0;
            if (adv[k][d])
                acc[k] *= dims[d];
        }
    inner = dims[n - 1];
    for (d = 0; d < n - 1; d++)
        nouter *= dims[d];
    nchunk = (inner + BWALK_CHUNK - 1) / BWALK_CHUNK;
    items = nouter * nchunk;

#pragma omp parallel for num_threads(CSQ_OP_NT(a)) if (total >= BWALK_PAR_MIN && items > 1)
    for (w = 0; w < items; w++) {
        int64_t oi = w / nchunk, c0 = (w % nchunk) * BWALK_CHUNK;
        int64_t len = inner - c0 < BWALK_CHUNK ? inner - c0 : BWALK_CHUNK;
        int64_t off[CSQ_BWALK_MAX], s[CSQ_BWALK_MAX], rest = oi;
        int j, q;

        for (q = 0; q < nin; q++) {
            s[q] = st[q][n - 1];
            off[q] = c0 * s[q];
        }
        for (j = n - 2; j >= 0; j--) {
            int64_t c = rest % dims[j];

            rest /= dims[j];
            for (q = 0; q < nin; q++)
                off[q] += c * st[q][j];
        }
        run(ctx, oi * inner + c0, off, s, len);
    }
}
