#!/bin/sh
# Quantized csmpq eval against scripts/reference-quant (the same quantizer
# written in PyTorch from DESIGN.md section 10): top-1 within 0.3 points for
# uniform 4-bit weights and for the 3-bit-mean configs (tests/golden), W8A8
# within 0.5 points of fp32; and bad bit configs.
. "$top_srcdir/tests/cli/lib.sh"
top_srcdir=$(cd "$top_srcdir" && pwd)
cd "$top_srcdir" || exit 1
G=tests/golden

check() { # check NAME REF.json -- eval args: quantized top-1 within 0.003 of the reference
    name=$1 ref=$2
    shift 3
    "$CSMPQ" eval "$@" --calib data/fmnist/calib data/fmnist/val --json >"$TMP/got.json" 2>"$TMP/err"
    st=$?
    [ $st -eq 0 ] && $PY -c "import json,sys; json.load(open(sys.argv[1]))" "$TMP/got.json" 2>/dev/null
    ok $? "$name: eval exits 0"
    $PY - "$TMP/got.json" "$ref" >"$TMP/cmp" 2>&1 <<'PYEOF'
import json, sys
got = json.load(open(sys.argv[1]))["quantized"]; want = json.load(open(sys.argv[2]))["quantized"]
print("csmpq %.3f, reference %.3f" % (got["top1"], want["top1"]))
sys.exit(0 if abs(got["top1"] - want["top1"]) <= 0.003 + 1e-9 else 1)
PYEOF
    ok $? "$name: top-1 within 0.3 points of reference-quant ($(cat "$TMP/cmp"))"
}

for m in fmnist_resnet fmnist_mobilenet; do
    check "$m W4A8" $G/$m.w4a8.ref.json -- -m data/models/$m.onnx --wbits-all 4 --abits 8
    check "$m 3-bit mean" $G/$m.avg3.ref.json -- -m data/models/$m.onnx -b $G/$m.avg3.bits.tsv
    check "$m W8A8" $G/$m.w8a8.ref.json -- -m data/models/$m.onnx --wbits-all 8 --abits 8
    $PY -c "
import json,sys
d=json.load(open(sys.argv[1])); q=d['quantized']['top1']; f=d['fp32']['top1']
print('W8A8 %.3f, fp32 %.3f' % (q, f)); sys.exit(0 if abs(q-f) <= 0.005 + 1e-9 else 1)" "$TMP/got.json" >"$TMP/cmp"
    ok $? "$m: W8A8 top-1 within 0.5 points of fp32 ($(cat "$TMP/cmp"))"
done

# The config's size, BOPs and mean bits come with the result.
"$CSMPQ" eval -m data/models/fmnist_resnet.onnx -b $G/fmnist_resnet.avg3.bits.tsv \
    data/fmnist/val --per-class 5 --json >"$TMP/j"
$PY -c "
import json,sys
d=json.load(open(sys.argv[1])); b=[l for l in open(sys.argv[2]) if not l.startswith('#')]
size=sum(int(l.split('\t')[1])*int(l.split('\t')[3]) for l in b)/8
sys.exit(0 if d['size_bytes']==size and d['mean_wbits']<=3 and d['bops']>0 else 1)" "$TMP/j" $G/fmnist_resnet.avg3.bits.tsv
ok $? "size_bytes, bops and mean_wbits reported"
"$CSMPQ" eval -m data/models/fmnist_resnet.onnx -b $G/fmnist_resnet.avg3.bits.tsv \
    data/fmnist/val --per-class 5 -v >"$TMP/v"
[ "$(grep -c '^layer .*weight_sqnr=' "$TMP/v")" -eq "$(grep -vc '^#' $G/fmnist_resnet.avg3.bits.tsv)" ]
ok $? "-v prints one line per layer with its weight SQNR"

# Bad bit configs: one line, exit 1.
B=$G/fmnist_resnet.avg3.bits.tsv
sed 's/^layer1\.0\.conv1	/nosuch	/' $B >"$TMP/unknown.tsv"
expect_error 1 "unknown.tsv': layer 'nosuch' is not in the model" "a layer the model lacks" -- \
    "$CSMPQ" eval -m data/models/fmnist_resnet.onnx -b "$TMP/unknown.tsv" data/fmnist/val
awk -F'\t' 'BEGIN{OFS="\t"} /^conv1\t/{$2=17} {print}' $B >"$TMP/wide.tsv"
expect_error 1 "wide.tsv.*17" "a bit-width outside 1..16" -- \
    "$CSMPQ" eval -m data/models/fmnist_resnet.onnx -b "$TMP/wide.tsv" data/fmnist/val
expect_error 1 "fmnist_mobilenet.avg3.bits.tsv': layer '[^']*' is not in the model" \
    "a config for another model (names differ)" -- \
    "$CSMPQ" eval -m data/models/fmnist_resnet.onnx -b $G/fmnist_mobilenet.avg3.bits.tsv data/fmnist/val
sed 's/sha256=[0-9a-f]*/sha256=0000000000000000000000000000000000000000000000000000000000000000/' $B >"$TMP/sha.tsv"
"$CSMPQ" eval -m data/models/fmnist_resnet.onnx -b "$TMP/sha.tsv" data/fmnist/val --per-class 2 \
    >/dev/null 2>"$TMP/err"
[ $? -eq 0 ] && grep -q "warning: .*sha.tsv' was made for a model with another sha256" "$TMP/err"
ok $? "sha256 mismatch warns and goes on"
expect_error 2 "not both" "-b and --wbits-all together" -- \
    "$CSMPQ" eval -m data/models/fmnist_resnet.onnx -b $B --wbits-all 4 data/fmnist/val
expect_error 2 "--wbits-all" "--wbits-all 17" -- \
    "$CSMPQ" eval -m data/models/fmnist_resnet.onnx --wbits-all 17 data/fmnist/val
done_testing
