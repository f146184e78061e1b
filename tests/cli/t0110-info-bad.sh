#!/bin/sh
# Malformed models (made by scripts/make-bad-models): one stderr line that
# names the file and the problem, exit 1, nothing on stdout, no crash.
. "$top_srcdir/tests/cli/lib.sh"
B=$top_srcdir/tests/fixtures/bad

"$CSMPQ" info "$B/base.onnx" >"$TMP/base" 2>&1
ok $? "the unbroken base model loads"

expect_error 1 "empty.onnx'?: empty file" "empty file" -- "$CSMPQ" info "$B/empty.onnx"
expect_error 1 "image.onnx'?: not an ONNX model" "PNG renamed .onnx" -- "$CSMPQ" info "$B/image.onnx"
expect_error 1 "truncated.onnx'?: not an ONNX model" "truncated model" -- "$CSMPQ" info "$B/truncated.onnx"
expect_error 1 "short-tensor.onnx'?: tensor 'conv.weight' has [0-9]+ bytes of data, its dims need 432" \
    "tensor data shorter than its dims" -- "$CSMPQ" info "$B/short-tensor.onnx"
expect_error 1 "overflow.onnx'?: tensor 'huge': dimensions overflow" \
    "dims whose product overflows" -- "$CSMPQ" info "$B/overflow.onnx"
expect_error 1 "undefined-input.onnx'?: node '/add/Add' reads undefined input 'nowhere'" \
    "node reading an undefined input" -- "$CSMPQ" info "$B/undefined-input.onnx"
expect_error 1 "cycle.onnx'?: the graph has a cycle through node '/add1/Add'" \
    "cycle" -- "$CSMPQ" info "$B/cycle.onnx"
expect_error 1 "unsupported-op.onnx'?: node '/act/Elu': operator 'Elu' \(opset 13\) is not supported" \
    "unsupported operator" -- "$CSMPQ" info "$B/unsupported-op.onnx"
expect_error 1 "bad-shape.onnx'?: .*/conv/Conv" \
    "shape mismatch found by shape inference names the node" -- "$CSMPQ" info "$B/bad-shape.onnx"
expect_error 1 "cannot open '[^']*/missing.onnx': No such file" \
    "missing file" -- "$CSMPQ" info "$B/missing.onnx"
expect_error 1 "cannot read '[^']*': is a directory" "directory as model" -- "$CSMPQ" info "$B"
expect_error 2 "no model given" "no model" -- "$CSMPQ" info
expect_error 2 "unknown option '--frob'" "unknown option" -- "$CSMPQ" info --frob "$B/base.onnx"
done_testing
