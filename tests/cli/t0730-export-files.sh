#!/bin/sh
# What csmpq export writes, read back with python3-onnx and checked against
# the source model and the config independently of csmpq: the metadata
# (csmpq.bits = the config's widths, csmpq.source_sha256 = hashlib's digest
# of the source), one DequantizeLinear (axis 0) per quantized weight whose
# int8 levels (uint8 around zero point 128 at 8 bits) are round(w / scale)
# clipped to the b-bit range of the float weight (rtn, DESIGN §7), one QuantizeLinear per quantized input, each
# quantized layer's bias as int32 levels round(b / t) (half to even) at the
# grid t = float32(s_x) float32(s_w) per output channel into a
# DequantizeLinear (axis 0) that ONNX Runtime folds into QLinearConv, the
# AIMET encodings holding the model's scales and zero points; with --int4
# the 4-bit levels are int4 tensors at opset 21 and the file is smaller.
# The int32 biases of both shipped models' 3-bit-mean rtn export equal
# scripts/reference-quant's (tests/golden/*.avg3.biases.tsv, made by
# scripts/make-eval-goldens): grids within 1e-6 (the activation ranges of
# the two float forwards are a few float32 ulps apart), levels within one
# on at most 1% of the channels (measured: all equal).
# Channels whose weights are all zero (tests/models/dead_input.onnx with
# conv1's channel 2 given bias 0.3, conv2's channel 5 zeroed with bias 0,
# fc's row 3 zeroed with bias -0.7): levels 0, the weight scale |b| / s_x
# and bias level +-1 (s_w 0 and level 0 for b = 0), so the bias is kept;
# csmpq run of that export gives the simulation's logits bit for bit and
# ONNX Runtime's default run agrees.
. "$top_srcdir/tests/cli/lib.sh"
D=$top_srcdir/data
M=$D/models/fmnist_resnet.onnx
B=$top_srcdir/tests/fixtures/export/fmnist_resnet.avg3.bits.tsv

"$CSMPQ" -q export -m "$M" -b "$B" --calib "$D/fmnist/calib" --quantizer rtn \
    --encodings "$TMP/enc.json" -o "$TMP/x.onnx" >/dev/null
ok $? "export with --encodings exits 0"
"$CSMPQ" -q export -m "$M" -b "$B" --calib "$D/fmnist/calib" --quantizer rtn --int4 \
    -o "$TMP/x4.onnx" >/dev/null
ok $? "export --int4 exits 0"
$PY - "$M" "$B" "$TMP/x.onnx" "$TMP/enc.json" "$TMP/x4.onnx" >"$TMP/py" 2>&1 <<'PYEOF'
import hashlib, json, os, sys
import numpy as np
import onnx
from onnx import numpy_helper
src, cfg, qdq, enc, q4 = sys.argv[1:6]
fails = []
def check(cond, what):
    print(("ok: " if cond else "FAIL: ") + what)
    if not cond:
        fails.append(what)
rows = [l.rstrip('\n').split('\t') for l in open(cfg) if not l.startswith('#')]
want = {r[0]: (int(r[1]), int(r[2])) for r in rows}
bynode = {r[6]: (int(r[1]), int(r[2])) for r in rows}
m, s = onnx.load(qdq), onnx.load(src)
meta = {p.key: p.value for p in m.metadata_props}
check(meta.get('csmpq.source_sha256') == hashlib.sha256(open(src, 'rb').read()).hexdigest(),
      'csmpq.source_sha256 is the source file\'s sha256')
bits = json.loads(meta['csmpq.bits'])
check({l['name']: (l['wbits'], l['abits']) for l in bits['layers']} == want,
      'csmpq.bits holds the config\'s widths')
check(all(meta.get(p.key) == p.value for p in s.metadata_props), 'the source metadata is kept')
check([i.name for i in m.graph.input] == [i.name for i in s.graph.input] and
      [o.name for o in m.graph.output] == [o.name for o in s.graph.output],
      'input and output names kept')
init = {t.name: numpy_helper.to_array(t) for t in m.graph.initializer}
sinit = {t.name: numpy_helper.to_array(t) for t in s.graph.initializer}
dq = [n for n in m.graph.node if n.op_type == 'DequantizeLinear' and n.input[0] in init
      and init[n.input[0]].dtype in (np.int8, np.uint8)]
qs = [n for n in m.graph.node if n.op_type == 'QuantizeLinear']
check(len(dq) == len(want), '%d weight DequantizeLinear for %d layers' % (len(dq), len(want)))
check(len(qs) == len(want), '%d QuantizeLinear for %d layers' % (len(qs), len(want)))
conv = {n.input[1]: n for n in s.graph.node if n.op_type in ('Conv', 'Gemm')}
e = json.load(open(enc))
worst = 0
for n in dq:
    wname = n.output[0]
    lv, sc, zp = init[n.input[0]], init[n.input[1]], init[n.input[2]]
    axis = [a.i for a in n.attribute if a.name == 'axis']
    w = sinit[wname]
    b = bynode[conv[wname].name][0]
    # 8-bit levels sit in uint8 around 128 (ONNX Runtime's u8s8 saturates)
    z0 = 128 if b == 8 else 0
    check(axis == [0] and lv.dtype == (np.uint8 if b == 8 else np.int8) and
          zp.dtype == lv.dtype and (zp.astype(int) == z0).all() and sc.shape == (w.shape[0],),
          '%s: axis 0, %s with zero point %d, one scale per output channel'
          % (wname, lv.dtype, z0))
    lv = lv.astype(np.int64) - z0
    sh = (-1,) + (1,) * (w.ndim - 1)
    ref = np.round(w.astype(np.float64) / sc.reshape(sh))
    qmax = 2 ** (b - 1) - 1
    check(np.abs(lv).max() <= qmax, '%s: levels within +-%d (%d bits)' % (wname, qmax, b))
    ref = np.clip(ref, -qmax, qmax)
    worst = max(worst, np.mean(ref != lv))
    check(np.abs(ref - lv).max() <= 1, '%s: levels are round(w / scale) within one level' % wname)
    pe = e['param_encodings'][wname]
    check(np.allclose([c['scale'] for c in pe], sc, rtol=1e-7, atol=0),
          '%s: encodings hold the model\'s scales' % wname)
prod = {o: n for n in m.graph.node for o in n.output}
nb = 0
for n in m.graph.node:
    if n.op_type not in ('Conv', 'Gemm') or n.name not in bynode or len(n.input) < 3:
        continue
    bdq, wdq, xdq = prod.get(n.input[2]), prod.get(n.input[1]), prod.get(n.input[0])
    while xdq is not None and xdq.op_type == 'Clip':
        xdq = prod.get(xdq.input[0])
    sb = [x for x in s.graph.node if x.name == n.name][0]
    b = sinit[sb.input[2]]
    if bdq is None or bdq.op_type != 'DequantizeLinear' or init[bdq.input[0]].dtype != np.int32:
        check(False, '%s: the bias is int32 levels into DequantizeLinear' % n.name)
        continue
    nb += 1
    lv, t = init[bdq.input[0]], init[bdq.input[1]]
    sx, sw = init[xdq.input[1]].astype(np.float32), init[wdq.input[1]].astype(np.float32)
    grid = (sx * sw).astype(np.float32)
    check([a.i for a in bdq.attribute if a.name == 'axis'] == [0] and len(bdq.input) == 2
          and t.dtype == np.float32 and np.array_equal(t, grid),
          '%s: bias scale s_x s_w per channel, axis 0, no zero point' % n.name)
    check(np.array_equal(lv, np.round(b.astype(np.float64) / grid.astype(np.float64))),
          '%s: bias levels round(b / (s_x s_w))' % n.name)
    check((np.abs(lv.astype(np.float32) * grid - b) <= 0.5 * grid * (1 + 1e-6) + 1e-7 * np.abs(b)).all(),
          '%s: the bias moves by at most half a step' % n.name)
check(nb == len(want), '%d int32 biases for %d layers' % (nb, len(want)))
check(worst <= 1e-3, 'at most 0.1%% of the levels differ from round(w / scale) (%.2g%%)' % (100 * worst))
for n in qs:
    x, sc, zp = n.input[0], init[n.input[1]], init[n.input[2]]
    ae = e['activation_encodings'][x][0]
    check(abs(ae['scale'] - float(sc)) <= 1e-7 * float(sc) and ae['offset'] == -int(zp)
          and zp.dtype == np.uint8, '%s: encodings hold its scale and offset, uint8' % x)
m4 = onnx.load(q4)
check(m4.opset_import[0].version == 21, 'the --int4 model has opset 21')
t4 = [t for t in m4.graph.initializer if t.data_type == 22]
n4 = sum(1 for k, (wb, ab) in want.items() if wb <= 4)
check(len(t4) == 2 * n4, '%d int4 initializers (levels, zero points) for %d layers of <= 4 bits'
      % (len(t4), n4))
check(os.path.getsize(q4) < os.path.getsize(qdq) < os.path.getsize(src),
      'sizes: int4 %d < int8 %d < float %d bytes' % (os.path.getsize(q4), os.path.getsize(qdq),
                                                     os.path.getsize(src)))
sys.exit(1 if fails else 0)
PYEOF
st=$?
ok $st "the exported files check out against the source model and the config"
diag "$TMP/py"
for m in fmnist_resnet fmnist_mobilenet; do
    G=$top_srcdir/tests/golden
    "$CSMPQ" -q export -m "$D/models/$m.onnx" -b "$G/$m.avg3.bits.tsv" --calib "$D/fmnist/calib" \
        --quantizer rtn -o "$TMP/b.onnx" >/dev/null
    ok $? "$m: 3-bit-mean rtn export exits 0"
    $PY - "$TMP/b.onnx" "$G/$m.avg3.bits.tsv" "$G/$m.avg3.biases.tsv" >"$TMP/py" 2>&1 <<'PYEOF'
import sys
import numpy as np
import onnx
from onnx import numpy_helper
m = onnx.load(sys.argv[1])
node_of = {l.split('\t')[6].rstrip('\n'): l.split('\t')[0] for l in open(sys.argv[2])
           if not l.startswith('#')}
init = {t.name: numpy_helper.to_array(t) for t in m.graph.initializer}
prod = {o: n for n in m.graph.node for o in n.output}
got = {}
for n in m.graph.node:
    if n.name in node_of and len(n.input) > 2:
        dq = prod[n.input[2]]
        got[node_of[n.name]] = (init[dq.input[0]], init[dq.input[1]])
want = {}
for l in open(sys.argv[3]):
    if l.startswith('#'):
        continue
    name, c, lev, grid = l.rstrip('\n').split('\t')
    want.setdefault(name, []).append((int(lev), np.float32(float(grid))))
if sorted(want) != sorted(got):
    sys.exit('layers: reference %s, export %s' % (sorted(want), sorted(got)))
lev = np.concatenate([got[k][0] for k in want]).astype(np.int64)
wlev = np.concatenate([[v[0] for v in want[k]] for k in want])
grid = np.concatenate([got[k][1] for k in want]).astype(np.float64)
wgrid = np.concatenate([[v[1] for v in want[k]] for k in want]).astype(np.float64)
rel = np.abs(grid / wgrid - 1).max()
moved = np.abs(lev - wlev)
print('%d layers, %d channels: grids within %.2g, %d levels differ (by at most %d)'
      % (len(want), len(lev), rel, (moved > 0).sum(), moved.max()))
# the activation ranges come from csmpq's and torch's float sums, a few
# float32 ulps apart: the grids may be too, and a level may move by one
sys.exit(0 if rel <= 1e-6 and moved.max() <= 1 and (moved > 0).mean() <= 0.01 else 1)
PYEOF
    ok $? "$m: the export's int32 biases are reference-quant's ($(cat "$TMP/py"))"
done

$PY - "$top_srcdir/tests/models/dead_input.onnx" "$TMP/z.onnx" <<'PYEOF'
import sys
import numpy as np
import onnx
from onnx import numpy_helper
m = onnx.load(sys.argv[1])
for t in m.graph.initializer:
    a = numpy_helper.to_array(t).copy()
    if t.name == 'conv1.bias':
        a[2] = 0.3
    elif t.name == 'conv2.weight':
        a[5] = 0
    elif t.name == 'conv2.bias':
        a[5] = 0
    elif t.name == 'fc.weight':
        a[3] = 0
    elif t.name == 'fc.bias':
        a[3] = -0.7
    t.CopyFrom(numpy_helper.from_array(a, t.name))
onnx.save(m, sys.argv[2])
PYEOF
ok $? "a model with zero weight channels"
echo '[8, 4, 8]' >"$TMP/z.json"
"$CSMPQ" -q export -m "$TMP/z.onnx" -b "$TMP/z.json" --calib "$D/fmnist/calib" --quantizer rtn \
    -o "$TMP/zq.onnx" >/dev/null
ok $? "zero channels: export exits 0"
$PY - "$TMP/z.onnx" "$TMP/zq.onnx" >"$TMP/py" 2>&1 <<'PYEOF'
import sys
import numpy as np
import onnx
from onnx import numpy_helper
src, m = onnx.load(sys.argv[1]), onnx.load(sys.argv[2])
sinit = {t.name: numpy_helper.to_array(t) for t in src.graph.initializer}
init = {t.name: numpy_helper.to_array(t) for t in m.graph.initializer}
prod = {o: n for n in m.graph.node for o in n.output}
fails = []
for node, ch, bits in (('/conv1/Conv', 2, 8), ('/conv2/Conv', 5, 4), ('/fc/Gemm', 3, 8)):
    n = [x for x in m.graph.node if x.name == node][0]
    xq, wq, bq = prod[n.input[0]], prod[n.input[1]], prod[n.input[2]]
    sx = init[xq.input[1]]
    lv, wz = init[wq.input[0]], init[wq.input[2]]
    z0 = 128 if bits == 8 else 0
    if lv.dtype != (np.uint8 if bits == 8 else np.int8) or (wz.astype(int) != z0).any():
        print('%s: %d-bit levels stored as %s with zero points %s: FAIL'
              % (node, bits, lv.dtype, sorted(set(wz.tolist()))))
        fails.append(node)
    lev, sw = lv[ch].astype(np.int64) - z0, init[wq.input[1]][ch]
    bl, bs = init[bq.input[0]][ch], init[bq.input[1]][ch]
    b = sinit[[x for x in src.graph.node if x.name == node][0].input[2]][ch]
    want_sw = np.float32(abs(b)) / sx if b != 0 else np.float32(0)
    good = (not lev.any() and sw == want_sw and bs == np.float32(sx * sw)
            and bl == (np.sign(b) if b != 0 else 0)
            and abs(np.float32(bl) * bs - b) <= 4e-7 * abs(b))
    print('%s channel %d: bias %.9g, s_x %.9g, s_w %.9g, level %d, stored %.9g: %s'
          % (node, ch, b, sx, sw, bl, np.float32(bl) * bs, 'ok' if good else 'FAIL'))
    if not good:
        fails.append(node)
sys.exit(1 if fails else 0)
PYEOF
ok $? "zero channels keep their bias as level +-1 at s_w = |b| / s_x"
diag "$TMP/py"
"$top_builddir/tests/tools/dump-batch" "$TMP/z.onnx" "$D/fmnist/val" "$TMP/zv.npy" "$TMP/zv.paths" &&
    "$top_builddir/tests/tools/sim-logits" "$TMP/z.onnx" "$TMP/z.json" "$D/fmnist/calib" rtn \
        "$TMP/zv.npy" "$TMP/zsim.npy" && \
    "$CSMPQ" run -m "$TMP/zq.onnx" --input "$TMP/zv.npy" --output "$TMP/zrun.npy" &&
    cmp -s "$TMP/zsim.npy" "$TMP/zrun.npy"
ok $? "zero channels: csmpq run of the export gives the simulation's logits bit for bit"
if [ -d "$top_srcdir/ort/node_modules/onnxruntime-node" ] && command -v node >/dev/null; then
    node "$top_srcdir/scripts/ort-run.mjs" "$TMP/zq.onnx" "$TMP/zv.npy" "$TMP/zort.npy" 2>"$TMP/err" &&
        $PY -c "
import sys, numpy as np
r, o = np.load(sys.argv[1]), np.load(sys.argv[2])
a = (r.argmax(1) == o.argmax(1)).mean(); d = np.abs(r - o).max() / np.abs(r).max()
print('agree %.1f%%, logits %.2g of max' % (100 * a, d)); sys.exit(0 if a >= 0.995 and d <= 0.02 else 1)
" "$TMP/zrun.npy" "$TMP/zort.npy" >"$TMP/j" 2>&1
    ok $? "zero channels: ONNX Runtime (default optimizations) agrees ($(cat "$TMP/j"))"
fi
done_testing
