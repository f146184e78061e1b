/* fuzz-list: bytes as a --list file (csq_dataset_read_list), read
 * unlabeled and with labels needed and a seeded per-class draw. */
#include "fuzz-file.h"
#include "fuzz-text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    (void)fuzz_list_run(fuzz_file(data, size));
    csq_errclear();
    return 0;
}
