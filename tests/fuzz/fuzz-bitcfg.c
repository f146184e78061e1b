/* fuzz-bitcfg: bytes as a bit config file (tsv or json), and the totals
 * of whatever reads back. */
#include "fuzz-file.h"

#include "mpq/bitcfg.h"
#include "util/err.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct csq_bitcfg *c = NULL;
    int64_t bits, bops;
    double mean;

    if (csq_bitcfg_read(fuzz_file(data, size), &c) == 0) {
        csq_bitcfg_totals(c, &bits, &bops, &mean);
        csq_bitcfg_free(c);
    }
    csq_errclear();
    return 0;
}
