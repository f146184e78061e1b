#!/bin/sh
# csmpq export on bad input: one line naming the file and the problem,
# exit 1 (2 for bad usage), and nothing written, neither the model nor a
# temporary file beside it.
. "$top_srcdir/tests/cli/lib.sh"
D=$top_srcdir/data
M=$D/models/fmnist_resnet.onnx
B=$top_srcdir/tests/fixtures/export/fmnist_resnet.avg3.bits.tsv
C=$D/fmnist/calib
mkdir "$TMP/dest" "$TMP/empty"

nothing_written() {
    [ -z "$(ls -A "$TMP/dest")" ]
    ok $? "$1: nothing written"
}

expect_error 1 "fmnist_mobilenet.avg3.bits.tsv': layer 'features.0.0' is not in the model" \
    "a config for another model (layer names)" -- \
    "$CSMPQ" export -m "$M" -b "$top_srcdir/tests/fixtures/export/fmnist_mobilenet.avg3.bits.tsv" \
    --calib "$C" -o "$TMP/dest/x.onnx"
nothing_written "another model's layer names"

# The same graph in other bytes: the names match, the sha256 does not.
"$top_builddir/tests/tools/onnx-rewrite" "$M" "$TMP/other.onnx"
expect_error 1 "fmnist_resnet.avg3.bits.tsv' was made for a model with another sha256 than '.*other.onnx'" \
    "a config for another model (sha256)" -- \
    "$CSMPQ" export -m "$TMP/other.onnx" -b "$B" --calib "$C" -o "$TMP/dest/x.onnx"
nothing_written "another model's sha256"

sed 's/^conv1	4/conv1	12/' "$B" >"$TMP/b12.tsv"
expect_error 1 "b12.tsv': layer 'conv1': 12-bit weights do not fit the int8 container" \
    "a weight width above 8" -- \
    "$CSMPQ" export -m "$M" -b "$TMP/b12.tsv" --calib "$C" -o "$TMP/dest/x.onnx"
nothing_written "12-bit weights"

expect_error 1 "layer 'conv1': 10-bit activations do not fit the int8 container" \
    "an activation width above 8" -- \
    "$CSMPQ" export -m "$M" -b "$B" --abits 10 --calib "$C" -o "$TMP/dest/x.onnx"
nothing_written "10-bit activations"

expect_error 1 "'.*/empty' has no images" "a calibration folder with no images" -- \
    "$CSMPQ" export -m "$M" -b "$B" --calib "$TMP/empty" -o "$TMP/dest/x.onnx"
nothing_written "no calibration images"

expect_error 1 "cannot write '.*/missing/x.onnx': No such file or directory" \
    "an output path in a missing folder" -- \
    "$CSMPQ" export -m "$M" -b "$B" --calib "$C" -o "$TMP/dest/missing/x.onnx"
nothing_written "missing folder"

expect_error 1 "cannot write '.*/missing/e.json'" "an encodings path in a missing folder" -- \
    "$CSMPQ" export -m "$M" -b "$B" --calib "$C" -o "$TMP/dest/x.onnx" \
    --encodings "$TMP/dest/missing/e.json"
nothing_written "encodings in a missing folder"

expect_error 2 "no calibration images given" "no --calib" -- \
    "$CSMPQ" export -m "$M" -b "$B" -o "$TMP/dest/x.onnx"
expect_error 2 "no bit config given" "no -b" -- \
    "$CSMPQ" export -m "$M" --calib "$C" -o "$TMP/dest/x.onnx"
expect_error 2 "no output given" "no -o" -- \
    "$CSMPQ" export -m "$M" -b "$B" --calib "$C"
nothing_written "usage errors"
done_testing
