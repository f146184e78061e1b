/*
 * fuzz-onnx: an arbitrary byte string through the ONNX loader (decode,
 * checks, BN folding, layer naming, shape binding at batch 1).  Built
 * and run by scripts/fuzz.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>

#include "nn/graph.h"
#include "onnx/onnx.h"
#include "util/err.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct csq_graph *g = NULL;

    if (csq_onnx_load_mem(data, size, "fuzz.onnx", 0, &g) == 0)
        csq_graph_free(g);
    csq_errclear();
    return 0;
}
