#!/bin/sh
# csmpq info --json against goldens that PyTorch computed with module hooks
# (scripts/export-test-models): layer names, nodes, kernels, groups,
# shapes, params and MACs must match exactly.
. "$top_srcdir/tests/cli/lib.sh"
M=$top_srcdir/tests/models

for name in resnet_tiny mobilenetv2_025 vgg_tiny vgg_tiny_static; do
    "$CSMPQ" info --json "$M/$name.onnx" >"$TMP/$name.json" 2>"$TMP/err"
    ok $? "$name: info --json exits 0"
    $PY - "$TMP/$name.json" "$M/$name.layers.json" >"$TMP/cmp" 2>&1 <<'PYEOF'
import json, sys
got = json.load(open(sys.argv[1]))
want = json.load(open(sys.argv[2]))
bad = []
if got["opset"] != want["opset"]:
    bad.append("opset %r != %r" % (got["opset"], want["opset"]))
if got["input"] != want["input"]:
    bad.append("input %r != %r" % (got["input"], want["input"]))
if len(got["layers"]) != len(want["layers"]):
    bad.append("%d layers, want %d" % (len(got["layers"]), len(want["layers"])))
for g, w in zip(got["layers"], want["layers"]):
    for k in ("name", "node", "op", "kernel", "groups", "in_shape", "out_shape", "params", "macs"):
        if g.get(k) != w.get(k):
            bad.append("layer %s: %s is %r, PyTorch says %r" % (w["name"], k, g.get(k), w.get(k)))
for k in ("params", "macs"):
    if got["totals"][k] != want["totals"][k]:
        bad.append("totals.%s %r != %r" % (k, got["totals"][k], want["totals"][k]))
print("\n".join(bad[:10]))
sys.exit(1 if bad else 0)
PYEOF
    st=$?
    ok $st "$name: layers, shapes, params and MACs equal PyTorch's"
    [ $st -eq 0 ] || diag "$TMP/cmp"
done

# The table form carries the same rows.
"$CSMPQ" info "$M/resnet_tiny.onnx" >"$TMP/table"
n=$(grep -vc '^#' "$TMP/table")
want=$($PY -c "import json,sys; print(len(json.load(open(sys.argv[1]))['layers']))" "$M/resnet_tiny.layers.json")
[ "$n" -eq "$want" ]
ok $? "info table has one row per layer ($n)"
grep -q '^layer1\.0\.conv1	Conv	3x3	1	' "$TMP/table"
ok $? "info table row for layer1.0.conv1"
done_testing
