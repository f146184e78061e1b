/*
 * onnx-rewrite: loads a model (passes: BN folding, Relu fusion) and writes
 * the graph back with csq_onnx_write and no edits, for the writer's
 * round-trip test (tests/cli/t0700-export.sh).
 *
 * usage: onnx-rewrite IN.onnx OUT.onnx
 */
#include "config.h"

#include <stdio.h>

#include "onnx/onnx.h"
#include "util/err.h"

int main(int argc, char **argv)
{
    struct csq_graph *g = NULL;
    int rc;

    if (argc != 3) {
        fprintf(stderr, "usage: onnx-rewrite IN.onnx OUT.onnx\n");
        return 2;
    }
    if ((rc = csq_onnx_load(argv[1], &g)) == 0)
        rc = csq_onnx_write(g, NULL, argv[2]);
    if (rc)
        fprintf(stderr, "onnx-rewrite: %s\n", csq_errmsg());
    csq_graph_free(g);
    return rc ? 1 : 0;
}
