/* fuzz-npy: bytes as a .npy file (csq_npy_read); what reads is written
 * with csq_npy_write to a private temporary folder and read back. */
#include "fuzz-file.h"
#include "fuzz-text.h"

static char dir[] = "/tmp/fuzz-npy-XXXXXX", out[64];

static void cleanup(void)
{
    remove(out);
    rmdir(dir);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!out[0]) {
        if (!mkdtemp(dir))
            abort();
        snprintf(out, sizeof out, "%s/out.npy", dir);
        atexit(cleanup);
    }
    (void)fuzz_npy_run(fuzz_file(data, size), out);
    csq_errclear();
    return 0;
}
