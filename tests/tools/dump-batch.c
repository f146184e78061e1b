/*
 * dump-batch: the images of a folder exactly as csmpq feeds them to a
 * model (its preprocessing from the model's input size and metadata), as
 * one float32 .npy, and their paths one per line: the input ONNX Runtime
 * gets in the export test (tests/cli/t0710-export-ort.sh), so both
 * runtimes see the same bytes.
 *
 * usage: dump-batch MODEL DIR OUT.npy PATHS.txt [LIMIT]
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/loader.h"
#include "data/source.h"
#include "onnx/onnx.h"
#include "util/err.h"
#include "util/npy.h"

int main(int argc, char **argv)
{
    struct csq_graph *g = NULL;
    struct csq_source src;
    struct csq_source_opts o;
    struct csq_loader *ld = NULL;
    struct csq_batch b;
    struct csq_tensor t;
    size_t limit = argc > 5 ? (size_t)atol(argv[5]) : 0, n = 0, per = 0;
    float *all = NULL;
    FILE *fp = NULL;
    int rc;

    if (argc < 5) {
        fprintf(stderr, "usage: dump-batch MODEL DIR OUT.npy PATHS.txt [LIMIT]\n");
        return 2;
    }
    memset(&src, 0, sizeof src);
    memset(&t, 0, sizeof t);
    csq_source_opts_init(&o);
    o.dir = argv[2];
    if ((rc = csq_onnx_load(argv[1], &g)) != 0 || (rc = csq_source_open(&src, g, &o, 0)) != 0 ||
        (rc = csq_source_loader(&src, limit, &ld)) != 0)
        goto out;
    if (!(fp = fopen(argv[4], "w"))) {
        rc = csq_fail(CSQ_EIO, "cannot write '%s'", argv[4]);
        goto out;
    }
    while ((rc = csq_loader_next(ld, &b)) == 0 && b.n > 0) {
        int i;
        per = (size_t)b.c * (size_t)b.h * (size_t)b.w;
        all = realloc(all, (n + (size_t)b.n) * per * sizeof(float));
        if (!all) {
            rc = CSQ_ENOMEM;
            break;
        }
        memcpy(all + n * per, b.data, (size_t)b.n * per * sizeof(float));
        for (i = 0; i < b.n; i++)
            fprintf(fp, "%s\n", b.paths[i]);
        n += (size_t)b.n;
        t.dims[1] = b.c;
        t.dims[2] = b.h;
        t.dims[3] = b.w;
    }
    if (rc == CSQ_OK) {
        t.dtype = CSQ_DT_FLOAT;
        t.rank = 4;
        t.dims[0] = (int64_t)n;
        t.data = all;
        rc = csq_npy_write(argv[3], &t);
    }
out:
    if (fp && fclose(fp) != 0 && rc == CSQ_OK)
        rc = csq_fail(CSQ_EIO, "cannot write '%s'", argv[4]);
    if (rc)
        fprintf(stderr, "dump-batch: %s\n", csq_errmsg());
    free(all);
    csq_loader_close(ld);
    csq_source_release(&src);
    csq_graph_free(g);
    return rc ? 1 : 0;
}
