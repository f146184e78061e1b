#!/bin/sh
# csmpq export judged by ONNX Runtime (DESIGN §10, issue 14).  On both
# shipped models, for W8A8 and analyze's 3-bit and 2.5-bit configs
# (tests/fixtures/export, written by csmpq analyze --avg-bits), with rtn
# and gptq, and with --int4:
#   - csmpq run of the exported model gives the simulation's logits bit
#     for bit (tests/tools/sim-logits: the same batch, the same kernels)
#     and predicts what eval --predictions does, on every image of
#     data/fmnist/val;
#   - ONNX Runtime with no graph optimizations (it runs the graph as
#     written, float kernels: only its summation order differs) predicts
#     what the simulation predicts on >= 99.5% of the images, its top-1
#     is within 0.2 points and its logits within 0.02 of the largest
#     logit of csmpq's;
#     the same with all optimizations but the fusion of QDQ groups
#     (session.disable_quant_qdq; ORT then constant-folds the weights'
#     DequantizeLinear and runs its NCHWc float kernels);
#   - with all optimizations (ORT's default, what users get) the same
#     bounds: ORT fuses DequantizeLinear -> Conv -> QuantizeLinear into
#     integer QLinearConv (Gemm into QGemm) and drops a Relu / Clip the
#     QuantizeLinear's saturation makes redundant; the int32 bias it adds
#     is the one export writes and the simulation uses (mpq/qsim.h), so
#     only its requantization's float rounding differs (measured: 99.9% to
#     100%, top-1 within 0.1 point, logits within 0.0095 of the largest;
#     with the float biases of before, ORT's WeightBiasQuantization
#     rounded them itself and MobileNet 2.5-bit rtn agreed on 98.6%);
#   - the model passes onnx.checker when its opset is one onnx 1.12 knows.
# Both runtimes get the same input bytes (tests/tools/dump-batch).
. "$top_srcdir/tests/cli/lib.sh"
D=$top_srcdir/data
F=$top_srcdir/tests/fixtures/export
ORT_RUN="node $top_srcdir/scripts/ort-run.mjs"
# opt   agreement  top-1 points  logits / largest
ALL="0.995 0.2 0.02"
NONE="0.995 0.2 0.02"

if [ ! -d "$top_srcdir/ort/node_modules/onnxruntime-node" ] || ! command -v node >/dev/null; then
    echo "1..0 # SKIP ONNX Runtime is not installed in ort/ (run scripts/install-deps)"
    exit 0
fi

judge() {  # judge PRED.tsv RUN.npy ORT.npy AGREE TOP1 TOL LABEL
    $PY - "$TMP/val.paths" "$@" <<'PYEOF'
import sys
import numpy as np
paths = [l.rstrip('\n') for l in open(sys.argv[1])]
pred, lab = {}, {}
for l in open(sys.argv[2]):
    p, a, b = l.rstrip('\n').split('\t')
    pred[p], lab[p] = b, a
classes = sorted(set(lab.values()))
sim = np.array([classes.index(pred[p]) for p in paths])
y = np.array([classes.index(lab[p]) for p in paths])
run, ort = np.load(sys.argv[3]), np.load(sys.argv[4])
min_agree, max_dtop1, tol = (float(v) for v in sys.argv[5:8])
exact = (run.argmax(1) == sim).all()
agree = (ort.argmax(1) == sim).mean()
dtop1 = abs((ort.argmax(1) == y).mean() - (sim == y).mean()) * 100
rel = np.abs(ort - run).max() / np.abs(run).max()
print("%s: run=sim %s, ort agrees on %.1f%%, top-1 sim %.1f%% ort %.1f%%, logits %.2g of max"
      % (sys.argv[8], 'yes' if exact else 'NO', 100 * agree, 100 * (sim == y).mean(),
         100 * (ort.argmax(1) == y).mean(), rel))
sys.exit(0 if exact and agree >= min_agree and dtop1 <= max_dtop1 + 1e-9 and rel <= tol else 1)
PYEOF
}

for model in resnet mobilenet; do
    M=$D/models/fmnist_$model.onnx
    "$top_builddir/tests/tools/dump-batch" "$M" "$D/fmnist/val" "$TMP/val.npy" "$TMP/val.paths"
    ok $? "fmnist_$model: the val images as csmpq feeds them"
    for run in w8a8:rtn w8a8:gptq avg3:rtn avg3:gptq avg3:gptq:int4 avg2.5:gptq avg2.5:rtn \
               avg2.5:rtn:int4; do
        cfg=${run%%:*} rest=${run#*:} q=${rest%%:*} int4=
        case $rest in *:int4) int4=--int4 ;; esac
        name="fmnist_$model $cfg $q${int4:+ int4}"
        B=$F/fmnist_$model.$cfg.bits.tsv
        "$CSMPQ" -q export -m "$M" -b "$B" --calib "$D/fmnist/calib" --quantizer $q $int4 \
            -o "$TMP/x.onnx" >"$TMP/out" 2>"$TMP/err"
        ok $? "$name: export exits 0 ($(cat "$TMP/out"))"
        diag "$TMP/err"
        # --int4 stores the same levels: the simulation of the run before
        if [ -z "$int4" ]; then
            "$CSMPQ" -q eval -m "$M" -b "$B" --calib "$D/fmnist/calib" --quantizer $q \
                "$D/fmnist/val" --predictions "$TMP/pred.tsv" >/dev/null 2>"$TMP/err"
            ok $? "$name: eval --predictions exits 0"
            "$top_builddir/tests/tools/sim-logits" "$M" "$B" "$D/fmnist/calib" $q \
                "$TMP/val.npy" "$TMP/sim.npy" 2>"$TMP/err"
            ok $? "$name: the simulation's logits"
            diag "$TMP/err"
        fi
        "$CSMPQ" run -m "$TMP/x.onnx" --input "$TMP/val.npy" --output "$TMP/run.npy" 2>"$TMP/err"
        ok $? "$name: csmpq run takes the exported model"
        cmp -s "$TMP/run.npy" "$TMP/sim.npy"
        ok $? "$name: csmpq run of the exported model gives the simulation's logits bit for bit"
        for opt in all no-qdq-fusion disabled; do
            bounds=$NONE
            flags="--opt $opt"
            case $opt in
                all) bounds=$ALL ;;
                no-qdq-fusion) flags="--opt all --no-qdq-fusion" ;;
            esac
            $ORT_RUN "$TMP/x.onnx" "$TMP/val.npy" "$TMP/ort.npy" $flags 2>"$TMP/err"
            ok $? "$name: ONNX Runtime ($opt) runs it"
            diag "$TMP/err"
            judge "$TMP/pred.tsv" "$TMP/run.npy" "$TMP/ort.npy" $bounds "ORT $opt" >"$TMP/j" 2>&1
            ok $? "$name: $(cat "$TMP/j")"
        done
        if [ "$cfg:$q" = avg3:gptq ] && [ -z "$int4" ]; then
            # csmpq eval reads the exported model: its float top-1 is the
            # simulation's quantized one
            "$CSMPQ" -q eval -m "$TMP/x.onnx" "$D/fmnist/val" --json >"$TMP/ej" 2>"$TMP/err"
            $PY - "$TMP/ej" "$TMP/pred.tsv" >"$TMP/j" 2>&1 <<'PYEOF'
import json, sys
e = json.load(open(sys.argv[1]))
rows = [l.rstrip('\n').split('\t') for l in open(sys.argv[2])]
sim = sum(r[1] == r[2] for r in rows) / len(rows)
print("eval of the export %.3f, simulation %.3f" % (e['fp32']['top1'], sim))
sys.exit(0 if abs(e['fp32']['top1'] - sim) < 1e-9 else 1)
PYEOF
            ok $? "$name: csmpq eval takes the exported model ($(cat "$TMP/j"))"
        fi
        if [ -z "$int4" ]; then
            $PY -c 'import onnx,sys; onnx.checker.check_model(onnx.load(sys.argv[1]))' \
                "$TMP/x.onnx" 2>"$TMP/err"
            ok $? "$name: onnx.checker accepts it (opset 13)"
            diag "$TMP/err"
        fi
    done
    # The int4 model is smaller than the int8 one, both far below float.
    $PY - "$M" "$TMP/x.onnx" >"$TMP/sz" <<'PYEOF'
import os, sys
print("float %d bytes, 2.5-bit int4 export %d bytes" % tuple(os.path.getsize(p) for p in sys.argv[1:]))
PYEOF
    ok $? "fmnist_$model: $(cat "$TMP/sz")"
done
# SiLUs (x * Sigmoid(x), as PyTorch exports them), which oneDNN's Convs run
# as a post-op when no tap or hook reads the Conv's output
# (src/nn/engine.c): the simulation taps and hooks every layer's input, the
# SiLUs' outputs.  Its logits (random weights, W8A8) against ONNX Runtime
# running the export with no graph optimizations, and against the
# simulation with oneDNN off (CSMPQ_ISA=portable: no fold at all); score's
# TF-IDF, which taps the Convs' outputs, against oneDNN off.
$PY - "$TMP/s.onnx" >"$TMP/err" 2>&1 <<'PYEOF'
import sys, torch, torch.nn as nn, torch.nn.functional as F
torch.manual_seed(7)
class M(nn.Module):
    def __init__(s):
        super().__init__()
        s.a = nn.Conv2d(1, 8, 3, padding=1)
        s.b = nn.Conv2d(8, 16, 3, stride=2, padding=1)
        s.c = nn.Conv2d(16, 16, 3, padding=1, groups=16)
        s.d = nn.Conv2d(16, 24, 1)
        s.fc = nn.Linear(24 * 7 * 7, 10)
    def forward(s, x):
        x = F.silu(s.a(x))
        x = F.silu(s.b(x))
        x = F.silu(s.c(x))
        x = F.silu(s.d(x))
        return s.fc(F.avg_pool2d(x, 2).flatten(1))
torch.onnx.export(M().eval(), torch.randn(2, 1, 28, 28), sys.argv[1], opset_version=13,
                  input_names=["input"], output_names=["logits"],
                  dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}})
PYEOF
ok $? "a model with SiLUs after its convolutions"
echo '[8, 8, 8, 8, 8]' >"$TMP/s.json"
"$top_builddir/tests/tools/dump-batch" "$TMP/s.onnx" "$D/fmnist/val" "$TMP/sv.npy" "$TMP/sv.paths" &&
    "$top_builddir/tests/tools/sim-logits" "$TMP/s.onnx" "$TMP/s.json" "$D/fmnist/calib" rtn \
        "$TMP/sv.npy" "$TMP/ssim.npy" &&
    CSMPQ_ISA=portable "$top_builddir/tests/tools/sim-logits" "$TMP/s.onnx" "$TMP/s.json" \
        "$D/fmnist/calib" rtn "$TMP/sv.npy" "$TMP/sport.npy" &&
    "$CSMPQ" -q export -m "$TMP/s.onnx" -b "$TMP/s.json" --calib "$D/fmnist/calib" \
        --quantizer rtn -o "$TMP/sq.onnx" >/dev/null &&
    $ORT_RUN "$TMP/sq.onnx" "$TMP/sv.npy" "$TMP/sort.npy" --opt disabled 2>"$TMP/err"
ok $? "SiLU model: simulation, portable simulation, export and ONNX Runtime run"
$PY - "$TMP/ssim.npy" "$TMP/sport.npy" "$TMP/sort.npy" >"$TMP/j" 2>&1 <<'PYEOF'
import sys
import numpy as np
sim, port, ort = (np.load(p) for p in sys.argv[1:4])
fails = 0
for name, o in (("portable", port), ("ort", ort)):
    a = (sim.argmax(1) == o.argmax(1)).mean(); d = np.abs(sim - o).max() / np.abs(sim).max()
    print("%s agrees on %.1f%%, logits %.2g of max;" % (name, 100 * a, d), end=" ")
    fails += a < 0.995 or d > 0.02
sys.exit(1 if fails else 0)
PYEOF
ok $? "SiLU model: the simulation's logits ($(cat "$TMP/j"))"
diag "$TMP/err"
# score taps the layers' outputs, the Convs' before their SiLUs: no fold
# then, and the TF-IDF scores are those of oneDNN off
"$CSMPQ" -q score -m "$TMP/s.onnx" "$D/fmnist/val" --per-class 10 --criterion tfidf -j 2 \
    >"$TMP/score.default" 2>"$TMP/err"
CSMPQ_ISA=portable "$CSMPQ" -q score -m "$TMP/s.onnx" "$D/fmnist/val" --per-class 10 \
    --criterion tfidf -j 2 >"$TMP/score.portable" 2>"$TMP/err"
$PY - "$TMP/score.default" "$TMP/score.portable" >"$TMP/j" 2>&1 <<'PYEOF'
import sys
rows = [{l.split('\t')[0]: float(l.split('\t')[4]) for l in open(p) if not l.startswith('#')}
        for p in sys.argv[1:3]]
d = max(abs(rows[0][k] / rows[1][k] - 1) for k in rows[1])
print("%d layers, scores within %.2g" % (len(rows[0]), d))
sys.exit(0 if sorted(rows[0]) == sorted(rows[1]) and len(rows[0]) == 5 and d < 1e-5 else 1)
PYEOF
ok $? "SiLU model: score's taps read the Convs' outputs ($(cat "$TMP/j"))"
done_testing
