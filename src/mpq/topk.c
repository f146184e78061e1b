/*
 * topk: accuracy counting (see topk.h).
 */
#include "config.h"

#include <math.h>

#include "mpq/topk.h"
#include "util/err.h"

int csq_topk_add(struct csq_topk *acc, const struct csq_tensor *logits,
                 const int *labels, int *pred)
{
    int64_t n, k, i, j;

    if (logits->dtype != CSQ_DT_FLOAT || logits->rank != 2)
        return csq_fail(CSQ_EUNSUPPORTED, "the model's first output is not a 2-D float "
                        "tensor of class scores");
    n = logits->dims[0];
    k = logits->dims[1];
    for (i = 0; i < n; i++) {
        const float *z = (const float *)logits->data + i * k;
        int64_t best = 0, above = 0;
        int y = labels[i];

        if (y >= k)
            return csq_fail(CSQ_EINVAL, "class %d has no output: the model has %lld "
                            "outputs (check --labels)", y, (long long)k);
        for (j = 1; j < k; j++)
            if (z[j] > z[best] || (isnan(z[j]) && !isnan(z[best])))
                best = j;
        if (pred)
            pred[i] = (int)best;
        if (y < 0)
            continue;
        /* Rank of the true class: how many outputs beat it (earlier
         * indices win ties). */
        for (j = 0; j < k; j++)
            if (z[j] > z[y] || (z[j] == z[y] && j < y))
                above++;
        acc->top1 += above == 0;
        acc->top5 += above < 5;
        acc->images++;
    }
    return CSQ_OK;
}
