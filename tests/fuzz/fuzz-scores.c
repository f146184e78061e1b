/* fuzz-scores: bytes as a score table file (csq_scores_read). */
#include "fuzz-file.h"

#include "mpq/scores.h"
#include "util/err.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct csq_scores *t = NULL;

    if (csq_scores_read(fuzz_file(data, size), &t) == 0) {
        if (t->n > 0)
            (void)csq_scores_find(t, t->rows[t->n - 1].layer);
        csq_scores_free(t);
    }
    csq_errclear();
    return 0;
}
