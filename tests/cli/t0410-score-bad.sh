#!/bin/sh
# csmpq score on models it cannot score (scripts/make-bad-models): one line
# naming the problem, exit 1, no table left behind.
. "$top_srcdir/tests/cli/lib.sh"
B=$top_srcdir/tests/fixtures/bad
D=$top_srcdir/data/fmnist/calib

expect_error 1 "no-layers.onnx': no quantizable layer" "a model without quantizable layers" -- \
    "$CSMPQ" score -m "$B/no-layers.onnx" "$D" -o "$TMP/s.tsv"
expect_error 1 "layer 'conv': the feature map of '[^']*' has a NaN" "a NaN in a feature map" -- \
    "$CSMPQ" score -m "$B/nan-weights.onnx" "$D" -o "$TMP/s.tsv"
expect_error 1 "layer 'conv': the feature map .* NaN" "a NaN in a feature map (analyze)" -- \
    "$CSMPQ" analyze -m "$B/nan-weights.onnx" "$D" --avg-bits 3 -o "$TMP/b.tsv"
[ ! -e "$TMP/s.tsv" ] && [ ! -e "$TMP/b.tsv" ]
ok $? "no output file left"
done_testing
