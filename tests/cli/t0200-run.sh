#!/bin/sh
# csmpq run against PyTorch: the test models' logits for a committed input
# batch (both from scripts/export-test-models) must agree to 1e-4 of the
# largest logit.
. "$top_srcdir/tests/cli/lib.sh"
M=$top_srcdir/tests/models

for name in resnet_tiny mobilenetv2_025 vgg_tiny vgg_tiny_static; do
    "$CSMPQ" run -m "$M/$name.onnx" --input "$M/$name.input.npy" --output "$TMP/y.npy" 2>"$TMP/err"
    ok $? "$name: run exits 0"
    npy_close "$TMP/y.npy" "$M/$name.output.npy" 1e-4 >"$TMP/cmp" 2>&1
    st=$?
    ok $st "$name: logits match PyTorch ($(cat "$TMP/cmp"))"
done

# One batch of one image: the symbolic batch dimension takes any size.
$PY -c "import numpy as np,sys; x=np.load(sys.argv[1]); np.save(sys.argv[2], x[:1])" \
    "$M/resnet_tiny.input.npy" "$TMP/x1.npy"
"$CSMPQ" run -m "$M/resnet_tiny.onnx" --input "$TMP/x1.npy" --output "$TMP/y1.npy"
ok $? "batch of one runs"
$PY -c "
import numpy as np,sys
a=np.load(sys.argv[1]); b=np.load(sys.argv[2])[:1]
sys.exit(0 if a.shape==b.shape and np.abs(a-b).max() <= 1e-4*np.abs(b).max() else 1)" \
    "$TMP/y1.npy" "$M/resnet_tiny.output.npy"
ok $? "batch of one gives the first row of the batch of two"

# Shape mismatch on the channel dim: one line, exit 1, no output file.
$PY -c "import numpy as np; np.save('$TMP/bad.npy', np.zeros((1,4,32,32),np.float32))"
expect_error 1 "input 'input' of '.*resnet_tiny.onnx': dimension 1 is 4, the model expects 3" \
    "wrong channel count" -- "$CSMPQ" run -m "$M/resnet_tiny.onnx" --input "$TMP/bad.npy" --output "$TMP/o.npy"
[ ! -e "$TMP/o.npy" ]
ok $? "no output file after an error"
$PY -c "import numpy as np; np.save('$TMP/f64.npy', np.zeros((1,3,32,32)))"
expect_error 1 "f64.npy'?: .npy data type must be float32" "float64 input refused" -- \
    "$CSMPQ" run -m "$M/resnet_tiny.onnx" --input "$TMP/f64.npy" --output "$TMP/o.npy"
done_testing
