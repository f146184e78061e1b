#!/bin/sh
# Runs the ONNX backend conformance suite from Debian's libonnx-testdata,
# then tests/conformance/extra (same layout, for operators the suite's
# ONNX 1.12 has no case for; written by scripts/make-conformance-extra).
data=${ONNX_TESTDATA:-/usr/share/libonnx-testdata/data}
if [ ! -d "$data/node" ]; then
    echo "1..0 # SKIP libonnx-testdata not installed ($data)"
    exit 0
fi
exec "$top_builddir/tests/conformance/run-conformance" \
    "$top_srcdir/tests/conformance/skip.txt" \
    "$data/node" "$data/pytorch-converted" "$data/pytorch-operator" \
    "$top_srcdir/tests/conformance/extra"
