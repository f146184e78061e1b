#!/bin/sh
# csmpq score on the shipped models and calibration images, against the
# tables scripts/reference-score (PyTorch forward, numpy TF-IDF written from
# DESIGN.md section 5) wrote to tests/golden/; error cases; and score |
# allocate giving what analyze gives.
. "$top_srcdir/tests/cli/lib.sh"
top_srcdir=$(cd "$top_srcdir" && pwd)
cd "$top_srcdir" || exit 1
G=tests/golden

# cmp GOT WANT: same layers, ops, params and macs in the same order, every
# score within 1e-4 relative.  The bound is not arbitrary slack: the
# indicator F >= mean is discontinuous, and in fmnist_mobilenet / samples
# one image of features.5.conv.1.0 sits 4e-8 (relative) from its channel
# mean, so float32 rounding differences between csmpq and PyTorch flip it
# and move that layer's score by 7.4e-5; everything else agrees to ~1e-8.
cat >"$TMP/cmp.py" <<'PYEOF'
import sys
def read(p):
    rows = []
    for line in open(p):
        if line.startswith('#') or not line.strip():
            continue
        f = line.rstrip('\n').split('\t')
        rows.append((f[0], f[1], int(f[2]), int(f[3]), float(f[4])))
    return rows
got, want = read(sys.argv[1]), read(sys.argv[2])
bad = []
if [r[:4] for r in got] != [r[:4] for r in want]:
    bad.append('layer names, ops, params or macs differ')
worst, where = 0.0, '-'
for g, w in zip(got, want):
    rel = abs(g[4] - w[4]) / max(abs(w[4]), 1e-300)
    if rel > worst:
        worst, where = rel, g[0]
    if rel > 1e-4:
        bad.append('%s: %r vs %r' % (g[0], g[4], w[4]))
print('%d layers, max rel diff %.2g at %s%s' % (len(got), worst, where,
      '; ' + '; '.join(bad) if bad else ''))
sys.exit(1 if bad or not got else 0)
PYEOF

check() {   # check GOLDEN DESCRIPTION -- csmpq score arguments...
    golden=$1 desc=$2
    shift 3
    "$CSMPQ" score --criterion tfidf "$@" -o "$TMP/got.tsv" 2>"$TMP/err"
    st=$?
    if [ $st -ne 0 ]; then
        ok 1 "$desc: exit $st"
        diag "$TMP/err"
        return
    fi
    $PY "$TMP/cmp.py" "$TMP/got.tsv" "$golden" >"$TMP/cmp" 2>&1
    ok $? "$desc ($(cat "$TMP/cmp"))"
}

for m in fmnist_resnet fmnist_mobilenet; do
    for d in classes samples; do
        check $G/$m.$d.scores.tsv "$m, $d: scores equal PyTorch's" -- \
            -m data/models/$m.onnx data/fmnist/calib --docs $d -j 2
    done
done
check $G/fmnist_resnet.classes-coe2.scores.tsv "fmnist_resnet, classes, --coe 2" -- \
    -m data/models/fmnist_resnet.onnx data/fmnist/calib --coe 2
check $G/fmnist_mobilenet.samples-coe2.scores.tsv "fmnist_mobilenet, samples, --coe 2" -- \
    -m data/models/fmnist_mobilenet.onnx data/fmnist/calib --docs samples --coe 2 --batch 7

# The comparison can fail: a golden with one score off by 0.1% is refused,
# and so is the other model's table.
awk -F'\t' 'BEGIN { OFS = "\t" } /^conv1\t/ { $5 = $5 * 1.001 } { print }' \
    $G/fmnist_resnet.classes.scores.tsv >"$TMP/off.tsv"
"$CSMPQ" score -m data/models/fmnist_resnet.onnx data/fmnist/calib --criterion tfidf >"$TMP/r.tsv"
! $PY "$TMP/cmp.py" "$TMP/r.tsv" "$TMP/off.tsv" >/dev/null
ok $? "comparison refuses a score 0.1% off"
! $PY "$TMP/cmp.py" "$TMP/r.tsv" $G/fmnist_mobilenet.classes.scores.tsv >/dev/null
ok $? "comparison refuses another model's table"

# Table format.
head -n 1 "$TMP/r.tsv" | grep -qx '# csmpq scores 1' &&
    grep -qx "$(printf '#layer\top\tparams\tmacs\tscore')" "$TMP/r.tsv" &&
    grep -qx '# docs: classes' "$TMP/r.tsv" && grep -qx '# images: 320' "$TMP/r.tsv" &&
    grep -qx '# classes: 10' "$TMP/r.tsv"
ok $? "header and comment lines"

# A folder of images without class folders: samples documents only.
mkdir -p "$TMP/flat" "$TMP/one/0-tshirt"
cp data/fmnist/calib/0-tshirt/*.png data/fmnist/calib/1-trouser/*.png "$TMP/flat/"
cp data/fmnist/calib/0-tshirt/*.png "$TMP/one/0-tshirt/"
"$CSMPQ" score -m data/models/fmnist_resnet.onnx "$TMP/flat" --docs samples --criterion tfidf \
    >"$TMP/flat.tsv" 2>"$TMP/err" &&
    grep -qx '# images: 64' "$TMP/flat.tsv" && [ "$(grep -vc '^#' "$TMP/flat.tsv")" -eq 17 ]
ok $? "flat folder with --docs samples: 64 images, 17 layers"
expect_error 1 "flat.*class" "flat folder in classes mode: one line, exit 1" -- \
    "$CSMPQ" score -m data/models/fmnist_resnet.onnx "$TMP/flat"
expect_error 1 "one.*1 class" "one class folder in classes mode: one line, exit 1" -- \
    "$CSMPQ" score -m data/models/fmnist_resnet.onnx "$TMP/one"

# score | allocate reads the table back to the same bit config analyze
# writes; only analyze knows the node names (last column).
for m in fmnist_resnet fmnist_mobilenet; do
    "$CSMPQ" score -m data/models/$m.onnx data/fmnist/calib --criterion tfidf |
        "$CSMPQ" allocate --avg-bits 3 >"$TMP/alloc.tsv" &&
        "$CSMPQ" analyze -m data/models/$m.onnx data/fmnist/calib --avg-bits 3 --criterion tfidf \
            >"$TMP/analyze.tsv" &&
        cut -f 1-6 "$TMP/alloc.tsv" >"$TMP/a" && cut -f 1-6 "$TMP/analyze.tsv" >"$TMP/b" &&
        cmp -s "$TMP/a" "$TMP/b" && grep -q '^#layer' "$TMP/a" &&
        [ "$(grep -vc '^#' "$TMP/a")" -gt 10 ]
    ok $? "$m: score | allocate --avg-bits 3 gives analyze's bit config"
done

# Output paths are checked before the long pass: with an image that would
# fail the pass, the error is about the output, not the image.
rm -rf "$TMP/badimg" && mkdir -p "$TMP/badimg/a" "$TMP/badimg/b"
cp $(ls data/fmnist/calib/0-tshirt/*.png | head -n 2) "$TMP/badimg/a/"
cp $(ls data/fmnist/calib/1-trouser/*.png | head -n 2) "$TMP/badimg/b/"
: >"$TMP/badimg/b/zz-empty.png"
for cmd in "analyze --avg-bits 3 -o /nonexistent/x.tsv" "analyze --avg-bits 3 --scores-out /nonexistent/s.tsv" \
           "score -o /nonexistent/x.tsv" "eval --predictions /nonexistent/p.tsv"; do
    # shellcheck disable=SC2086
    expect_error 1 "cannot write '/nonexistent/" "${cmd%% *}: a bad output path is refused before the images are read" -- \
        "$CSMPQ" ${cmd%% *} -m data/models/fmnist_resnet.onnx "$TMP/badimg" ${cmd#* }
done

done_testing
