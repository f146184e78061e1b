#!/bin/sh
# csmpq eval with gptq: the quantizer fields of --json, --hessian-samples
# (a valid value changes nothing structural, bad values are usage errors),
# a layer whose statistics are singular (tests/models/dead_input.onnx from
# scripts/make-dead-input-model: conv2's input channel 2 is always 0), a
# one-image calibration folder, and the end-to-end goldens of
# scripts/reference-quant (tests/golden/*.gptq-w3a8.ref.json, made by
# scripts/make-eval-goldens): top-1 within 0.5 points and every layer's E
# within 0.1% of the reference's (measured: 1e-7; the float32 forward
# passes differ in summation order, so H agrees to float rounding and a
# weight near a rounding boundary may round the other way).
. "$top_srcdir/tests/cli/lib.sh"
top_srcdir=$(cd "$top_srcdir" && pwd)
cd "$top_srcdir" || exit 1
R=data/models/fmnist_resnet.onnx
VAL="data/fmnist/val --per-class 5"

# --json names the quantizer; --hessian-samples N changes the statistics,
# not the structure of the result.
"$CSMPQ" eval -m $R --wbits-all 4 --calib data/fmnist/calib $VAL --json >"$TMP/all.json" 2>"$TMP/err"
ok $? "gptq eval with all positions"
"$CSMPQ" eval -m $R --wbits-all 4 --hessian-samples 16 --calib data/fmnist/calib $VAL --json \
    >"$TMP/h16.json" 2>"$TMP/err"
ok $? "--hessian-samples 16 runs"
$PY - "$TMP/all.json" "$TMP/h16.json" >"$TMP/cmp" 2>&1 <<'PYEOF'
import json, math, sys
a = json.load(open(sys.argv[1])); h = json.load(open(sys.argv[2]))
assert a["quantizer"] == "gptq" and a["act_order"] is False and a["hessian_samples"] is None, a
assert h["quantizer"] == "gptq" and h["hessian_samples"] == 16, h
for k in ("size_bytes", "bops", "mean_wbits", "stats_images", "images", "classes"):
    assert a[k] == h[k], k
assert a["stats_images"] == 320
la, lh = a["layers"], h["layers"]
assert [(l["name"], l["wbits"], l["abits"]) for l in la] == \
       [(l["name"], l["wbits"], l["abits"]) for l in lh]
assert all(math.isfinite(l["e"]) and l["rtn_groups"] == 0 for l in la + lh)
# subsampling changes the statistics of the convolutions, so their E too
print("E of %s: all %.4g, 16 samples %.4g" % (la[1]["name"], la[1]["e"], lh[1]["e"]))
assert la[1]["e"] != lh[1]["e"]
PYEOF
ok $? "--hessian-samples 16: same layers, widths, size and images; E finite ($(tail -1 "$TMP/cmp"))"
"$CSMPQ" eval -m $R --wbits-all 4 --quantizer rtn $VAL --json >"$TMP/rtn.json" &&
"$CSMPQ" eval -m $R --wbits-all 4 --quantizer rtn $VAL --json -v >"$TMP/rtnv.json" &&
"$CSMPQ" eval -m $R --wbits-all 4 --act-order $VAL --json >"$TMP/ao.json" &&
$PY -c "
import json, math, sys
r, v, a = (json.load(open(p)) for p in sys.argv[1:4])
assert r['quantizer'] == 'rtn' and r['act_order'] is False and r['stats_images'] == 0
assert all(l['e'] is None for l in r['layers'])
assert v['stats_images'] > 0 and all(math.isfinite(l['e']) for l in v['layers'])
assert a['quantizer'] == 'gptq' and a['act_order'] is True
" "$TMP/rtn.json" "$TMP/rtnv.json" "$TMP/ao.json"
ok $? "--json: rtn has no statistics (E null) unless -v; --act-order is true"
for bad in 0 -3 abc 12x ""; do
    expect_error 2 "eval: .*--hessian-samples" "--hessian-samples '$bad' is a usage error" -- \
        "$CSMPQ" eval -m $R --wbits-all 4 --hessian-samples "$bad" $VAL
done
expect_error 2 "--hessian-samples need -b BITCFG or --wbits-all" \
    "--hessian-samples without a config" -- "$CSMPQ" eval -m $R --hessian-samples 8 $VAL

# Singular statistics: the dead input's weights are set to 0 (checked in
# t-stats), the layer factorizes, nothing falls back and nothing warns.
"$CSMPQ" eval -m tests/models/dead_input.onnx --wbits-all 3 --calib data/fmnist/calib $VAL \
    --json >"$TMP/dead.json" 2>"$TMP/err"
st=$?
[ $st -eq 0 ] && [ ! -s "$TMP/err" ] && $PY -c "
import json, math, sys
d = json.load(open(sys.argv[1])); l = {x['name']: x for x in d['layers']}
sys.exit(0 if l['conv2']['rtn_groups'] == 0 and 0 < l['conv2']['e'] < 1 and
         all(math.isfinite(x['e']) for x in d['layers']) else 1)" "$TMP/dead.json"
ok $? "a layer with a dead input channel: gptq, no fallback, no warning, E finite"
[ $st -ne 0 ] || [ -s "$TMP/err" ] && diag "$TMP/err"

# One calibration image (fewer than one batch): the classifier's H has
# rank 1, which dampening handles; MobileNet's depthwise groups too.
mkdir -p "$TMP/one"
cp "$(find data/fmnist/calib -type f -name '*.png' | LC_ALL=C sort | head -n 1)" "$TMP/one/"
for m in fmnist_resnet fmnist_mobilenet; do
    "$CSMPQ" eval -m data/models/$m.onnx --wbits-all 3 --calib "$TMP/one" $VAL --json \
        >"$TMP/one.json" 2>"$TMP/err"
    [ $? -eq 0 ] && [ ! -s "$TMP/err" ] && $PY -c "
import json, sys
d = json.load(open(sys.argv[1]))
sys.exit(0 if d['stats_images'] == 1 and all(l['rtn_groups'] == 0 for l in d['layers']) else 1)" \
        "$TMP/one.json"
    ok $? "$m: one calibration image, gptq without fallback or warning"
done

# End-to-end goldens from the reference's gptq.
for m in fmnist_resnet fmnist_mobilenet; do
    ref=tests/golden/$m.gptq-w3a8.ref.json
    "$CSMPQ" eval -m data/models/$m.onnx --wbits-all 3 --abits 8 --quantizer gptq \
        --calib data/fmnist/calib data/fmnist/val --json >"$TMP/g.json"
    ok $? "$m W3A8 gptq: eval exits 0"
    $PY - "$TMP/g.json" "$ref" >"$TMP/cmp" 2>&1 <<'PYEOF'
import json, sys
got = json.load(open(sys.argv[1])); want = json.load(open(sys.argv[2]))
g, w = got["quantized"]["top1"], want["quantized"]["top1"]
print("csmpq %.3f, reference %.3f" % (g, w))
sys.exit(0 if abs(g - w) <= 0.005 + 1e-9 and got["fp32"]["top1"] == want["fp32"]["top1"] else 1)
PYEOF
    ok $? "$m W3A8 gptq: top-1 within 0.5 points of reference-quant ($(cat "$TMP/cmp"))"
    $PY - "$TMP/g.json" "$ref" >"$TMP/cmp" 2>&1 <<'PYEOF'
import json, sys
got = {l["name"]: l for l in json.load(open(sys.argv[1]))["layers"]}
want = json.load(open(sys.argv[2]))["layers"]
worst = max(abs(got[l["name"]]["e"] - l["e"]) / l["e"] for l in want)
print("%d layers, worst relative difference %.2g" % (len(want), worst))
sys.exit(0 if len(want) == len(got) and worst <= 1e-3 else 1)
PYEOF
    ok $? "$m W3A8 gptq: every layer's E within 0.1% of the reference's ($(cat "$TMP/cmp"))"
done
done_testing
