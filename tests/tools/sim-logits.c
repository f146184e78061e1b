/*
 * sim-logits: the logits of eval's simulation (csq_eval_quantize, then the
 * simulator attached to an engine) on a .npy batch, so a test can compare
 * them bit for bit with csmpq run of the exported model
 * (tests/cli/t0710-export-ort.sh).  The batch is run whole, as csmpq run
 * runs it: csmpq's kernels may round differently at another batch size
 * (threads split the batch), which moves a value by an ulp and, through
 * a later QuantizeLinear, sometimes a level.
 *
 * usage: sim-logits MODEL BITCFG CALIBDIR rtn|gptq IN.npy OUT.npy
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/source.h"
#include "mpq/bitcfg.h"
#include "mpq/eval.h"
#include "mpq/qsim.h"
#include "nn/engine.h"
#include "onnx/onnx.h"
#include "util/err.h"
#include "util/npy.h"

int main(int argc, char **argv)
{
    struct csq_graph *g = NULL;
    struct csq_bitcfg *cfg = NULL;
    struct csq_source src;
    struct csq_source_opts so;
    struct csq_engine *e = NULL;
    struct csq_eval_request r;
    struct csq_eval_quant m;
    struct csq_tensor x, y;
    float *out = NULL;
    int rc;

    if (argc != 7) {
        fprintf(stderr, "usage: sim-logits MODEL BITCFG CALIBDIR rtn|gptq IN.npy OUT.npy\n");
        return 2;
    }
    memset(&src, 0, sizeof src);
    memset(&m, 0, sizeof m);
    memset(&x, 0, sizeof x);
    memset(&r, 0, sizeof r);
    csq_source_opts_init(&so);
    so.dir = argv[3];
    if ((rc = csq_onnx_load(argv[1], &g)) != 0 || (rc = csq_bitcfg_read(argv[2], &cfg)) != 0 ||
        (rc = csq_source_open(&src, g, &so, 0)) != 0 || (rc = csq_npy_read(argv[5], &x)) != 0 ||
        (rc = csq_engine_new(g, &e)) != 0)
        goto out;
    r.model = argv[1];
    r.cfg = cfg;
    r.cfg_path = argv[2];
    r.calib = &src;
    r.quantizer = strcmp(argv[4], "gptq") == 0 ? CSQ_WERR_GPTQ : CSQ_WERR_RTN;
    if ((rc = csq_eval_quantize(g, e, &src, &r, &m)) != 0 || (rc = csq_qsim_attach(m.q, e)) != 0)
        goto out;
    if ((rc = csq_engine_forward(e, &x)) != 0)
        goto out;
    y = *csq_engine_output(e, 0);
    if (!(out = malloc((size_t)csq_tensor_numel(&y) * sizeof(float)))) {
        rc = CSQ_ENOMEM;
        goto out;
    }
    memcpy(out, y.data, (size_t)csq_tensor_numel(&y) * sizeof(float));
    y.data = out;
    rc = csq_npy_write(argv[6], &y);
out:
    if (rc)
        fprintf(stderr, "sim-logits: %s\n", csq_errmsg());
    free(out);
    free(x.data);
    csq_eval_quant_release(&m);
    csq_engine_free(e);
    csq_source_release(&src);
    csq_bitcfg_free(cfg);
    csq_graph_free(g);
    return rc ? 1 : 0;
}
