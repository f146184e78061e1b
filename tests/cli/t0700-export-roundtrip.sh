#!/bin/sh
# The ONNX writer's round trip: each test model, loaded (BN folded, Relus
# fused) and written back by csq_onnx_write, must give what the source
# model gives: csmpq run on the two is identical (same graph after the
# passes), ONNX Runtime's outputs on the two agree to 1e-5 of the largest
# logit (ORT runs the folded BN, which changes float rounding only), and
# the file passes onnx.checker (their opsets are ones onnx 1.12 knows).
. "$top_srcdir/tests/cli/lib.sh"
M=$top_srcdir/tests/models
RW=$top_builddir/tests/tools/onnx-rewrite
ORT_RUN="node $top_srcdir/scripts/ort-run.mjs"
have_ort=1
if [ ! -d "$top_srcdir/ort/node_modules/onnxruntime-node" ] || ! command -v node >/dev/null; then
    have_ort=0
fi

$PY -c "import numpy as np; np.save('$TMP/fm.npy', np.random.default_rng(7).standard_normal((6,1,28,28)).astype(np.float32))"
for m in "$top_srcdir/data/models/fmnist_resnet.onnx:$TMP/fm.npy" \
         "$top_srcdir/data/models/fmnist_mobilenet.onnx:$TMP/fm.npy" \
         "$M/resnet_tiny.onnx:$M/resnet_tiny.input.npy" \
         "$M/mobilenetv2_025.onnx:$M/mobilenetv2_025.input.npy" \
         "$M/vgg_tiny.onnx:$M/vgg_tiny.input.npy"; do
    model=${m%%:*} x=${m#*:} name=$(basename "$model" .onnx)
    "$RW" "$model" "$TMP/$name.rw.onnx"
    ok $? "$name: written back"
    $PY -c 'import onnx,sys; onnx.checker.check_model(onnx.load(sys.argv[1]))' \
        "$TMP/$name.rw.onnx" 2>"$TMP/err"
    ok $? "$name: the written model passes onnx.checker"
    diag "$TMP/err"
    "$CSMPQ" run -m "$model" --input "$x" --output "$TMP/a.npy" &&
    "$CSMPQ" run -m "$TMP/$name.rw.onnx" --input "$x" --output "$TMP/b.npy" &&
    cmp -s "$TMP/a.npy" "$TMP/b.npy"
    ok $? "$name: csmpq run gives identical outputs on the source and the written model"
    if [ $have_ort = 0 ]; then
        skip "$name: ONNX Runtime agrees on both" "ONNX Runtime not installed in ort/ (scripts/install-deps)"
        continue
    fi
    $ORT_RUN "$model" "$x" "$TMP/oa.npy" && $ORT_RUN "$TMP/$name.rw.onnx" "$x" "$TMP/ob.npy"
    ok $? "$name: ONNX Runtime runs both"
    $PY - "$TMP/oa.npy" "$TMP/ob.npy" "$TMP/a.npy" >"$TMP/cmp" 2>&1 <<'PYEOF'
import sys
import numpy as np
a, b, c = (np.load(p) for p in sys.argv[1:4])
scale = max(np.abs(a).max(), 1e-12)
rw = np.abs(a - b).max() / scale
cs = np.abs(a - c).max() / scale
print("ort source/written %.2g, ort/csmpq %.2g" % (rw, cs))
sys.exit(0 if a.shape == b.shape and rw <= 1e-5 and cs <= 1e-4 else 1)
PYEOF
    ok $? "$name: ONNX Runtime on the written model = on the source ($(cat "$TMP/cmp"))"
done
done_testing
