/* fuzz-scores: bytes as a score table file (csq_scoretab_read). */
#include "fuzz-file.h"

#include "mpq/scoretab.h"
#include "util/err.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct csq_scoretab *t = NULL;

    if (csq_scoretab_read(fuzz_file(data, size), &t) == 0) {
        if (t->n > 0)
            (void)csq_scoretab_find(t, t->rows[t->n - 1].layer);
        csq_scoretab_free(t);
    }
    csq_errclear();
    return 0;
}
