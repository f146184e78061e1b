/*
 * export: the export pipeline (DESIGN.md section 10).  The quantized model
 * eval simulates (csq_eval_quantize: the same widths, weights and
 * calibrated activation ranges) written as an ONNX QDQ model:
 *   - each quantized weight as an int8 initializer holding its b-bit
 *     levels (int4 with int4 set, for b <= 4: opset 21), a float32 scale
 *     per output channel and a zero point of 0, into DequantizeLinear
 *     (axis 0; axis 1 for a (K, N) Gemm / MatMul weight) whose output
 *     takes the float weight's name;
 *   - each quantized layer's input as QuantizeLinear -> DequantizeLinear
 *     (uint8, the calibrated scale and zero point) in front of that layer
 *     only, followed by a Clip to the b-bit range for b < 8, so the values
 *     are exactly the simulation's;
 *   - the bias of each such Conv / Gemm layer as the simulation rounds it
 *     (mpq/qsim.h): int32 levels and a float32 grid scale s_x s_w per
 *     output channel into DequantizeLinear (axis 0, no zero point) whose
 *     output takes the float bias's name: the form ONNX Runtime's QDQ
 *     rules fold into QLinearConv's int32 bias, so its integer kernels
 *     compute what the simulation does;
 *   - everything else float, as the simulation keeps it;
 *   - metadata_props csmpq.bits (the widths as JSON), csmpq.source_sha256,
 *     csmpq.quantizer, beside the model's own;
 *   - with encodings, AIMET's encodings JSON of the same numbers.
 * Refused before any image is read: widths above 8 (an int8 container
 * cannot hold them), a config for another model (layer names or sha256),
 * a model below opset 13 (per-axis DequantizeLinear), operators whose
 * form changed before opset 21 when int4 needs it.  Files are atomic.
 *
 *     struct csq_export_request r = { .q = { .model = m, .cfg = c, .cfg_path = p,
 *                                            .calib = &src, .quantizer = CSQ_WERR_GPTQ },
 *                                     .out = "m.qdq.onnx" };
 *     rc = csq_export_run(g, &r, &res);
 */
#ifndef CSQ_EXPORT_H
#define CSQ_EXPORT_H

#include "mpq/cost.h"
#include "mpq/eval.h"
#include "nn/graph.h"

#define CSQ_EXPORT_MAXBITS 8

struct csq_export_request {
    struct csq_eval_request q;   /* what to quantize; q.calib is required */
    int int4;                    /* widths <= 4 as opset-21 int4 */
    const char *encodings;       /* AIMET encodings JSON, or NULL */
    const char *out;             /* the .onnx to write */
};

struct csq_export_result {
    struct csq_cost_config cost;
    int64_t opset;               /* of the written model */
    int weight_layers;           /* layers with quantized weights */
    int act_layers;              /* layers with a quantized input */
    int rtn_layers;              /* gptq layers where a group fell back to rtn */
    int64_t stats_images;
};

int csq_export_run(const struct csq_graph *g, const struct csq_export_request *r,
                   struct csq_export_result *res);

#endif
