#!/bin/sh
# csmpq sweep: every row is the allocation `csmpq allocate` makes for its
# budget on the same score table (byte-equal widths), an infeasible budget
# is a row, --calib-per-row gives each row eval -b's top-1 exactly, budget
# lists and ranges parse (bad ones are usage errors), outputs are atomic,
# and the plot is well-formed SVG with one marker per feasible row.
. "$top_srcdir/tests/cli/lib.sh"
top_srcdir=$(cd "$top_srcdir" && pwd)
M=$top_srcdir/data/models/fmnist_mobilenet.onnx
cd "$TMP" || exit 1

# Small folders keep the evaluation quick: 8 calibration and 5 evaluated
# images per class.
for c in $(ls "$top_srcdir/data/fmnist/calib"); do
    mkdir -p cal/"$c" val/"$c"
    for f in $(ls "$top_srcdir/data/fmnist/calib/$c" | head -8); do
        cp "$top_srcdir/data/fmnist/calib/$c/$f" cal/"$c"/
    done
    for f in $(ls "$top_srcdir/data/fmnist/val/$c" | head -5); do
        cp "$top_srcdir/data/fmnist/val/$c/$f" val/"$c"/
    done
done

rows() { grep -v '^#' "$1"; }
field() { # field FILE ROW COL
    rows "$1" | sed -n "${2}p" | cut -f "$3"
}

# --- rows against independent allocate runs ---------------------------------
"$CSMPQ" -q sweep -m "$M" cal --avg-bits 1.5,2:3:0.5 --size 40KiB --bops 70M -o s.tsv
ok $? "sweep without --eval exits 0 (an infeasible budget is not an abort)"
[ "$(rows s.tsv | wc -l)" -eq 6 ]
ok $? "one row per budget ($(rows s.tsv | wc -l))"
[ "$(rows s.tsv | cut -f1 | tr '\n' ' ')" = \
  "mean_wbits<=1.5 mean_wbits<=2 mean_wbits<=2.5 mean_wbits<=3 size<=40.00KiB bops<=70.0M " ]
ok $? "rows in the order given ($(rows s.tsv | cut -f1 | tr '\n' ' '))"
[ "$(field s.tsv 1 6)" = infeasible ] && [ "$(field s.tsv 1 9)" = - ]
ok $? "an infeasible budget is a row saying so"
"$CSMPQ" -q score -m "$M" cal -o t.tsv
i=0
same=0
for b in "--avg-bits 2" "--avg-bits 2.5" "--avg-bits 3" "--size 40KiB" "--bops 70M"; do
    i=$((i + 1))
    # shellcheck disable=SC2086
    "$CSMPQ" allocate --scores t.tsv $b --format list -o l.txt || same=1
    want=$(tr -d '[] ' <l.txt)
    got=$(field s.tsv $((i + 1)) 9)
    [ "$want" = "$got" ] || { same=1; echo "# $b: allocate $want, sweep $got"; }
    # shellcheck disable=SC2086
    "$CSMPQ" allocate --scores t.tsv $b -o c.tsv
    obj=$(sed -n 's/^# solver: proven optimal, objective //p' c.tsv)
    got=$(field s.tsv $((i + 1)) 5)
    $PY -c "import sys; sys.exit(0 if abs($obj - $got) <= 5e-6 * abs($obj) else 1)" ||
        { same=1; echo "# $b: objective $obj against $got"; }
    sz=$(sed -n 's/^# budget: .*achieved size=\([^ ]*\) .*/\1/p' c.tsv)
    echo "$sz" | grep -q . || same=1
done
ok $same "every row's widths are byte-equal to allocate's, objectives agree"
expect_error 3 "no bit assignment fits" "allocate agrees that 1.5 bits is infeasible" -- \
    "$CSMPQ" allocate --scores t.tsv --avg-bits 1.5
# Achieved size and mean bits follow from the widths and the params.
rows t.tsv | cut -f3 >params.txt
$PY - s.tsv params.txt <<'PY'
import sys
params = [int(l) for l in open(sys.argv[2])]
bad = 0
for line in open(sys.argv[1]):
    if line.startswith('#'):
        continue
    f = line.rstrip('\n').split('\t')
    if f[5] == 'infeasible':
        continue
    w = [int(x) for x in f[8].split(',')]
    bits = sum(p * b for p, b in zip(params, w))
    if float(f[1]) != bits / 8 or abs(float(f[3]) - bits / sum(params)) > 5e-5:
        print('# %s: size %s mean %s, widths give %g, %.4f' % (f[0], f[1], f[3], bits / 8,
              bits / sum(params)))
        bad = 1
sys.exit(bad)
PY
ok $? "achieved size and mean bits are those of the widths"

# --- ranges ---------------------------------------------------------------------
"$CSMPQ" -q sweep -m "$M" cal --avg-bits 2:3:0.25 -o r.tsv
[ "$(rows r.tsv | cut -f1 | tr '\n' ' ')" = \
  "mean_wbits<=2 mean_wbits<=2.25 mean_wbits<=2.5 mean_wbits<=2.75 mean_wbits<=3 " ]
ok $? "--avg-bits 2:3:0.25 is 2, 2.25, ..., 3"
"$CSMPQ" -q sweep -m "$M" cal --avg-bits 2:3:0.1 -o r.tsv
[ "$(rows r.tsv | wc -l)" -eq 11 ] && [ "$(rows r.tsv | tail -1 | cut -f1)" = "mean_wbits<=3" ]
ok $? "--avg-bits 2:3:0.1 ends at 3 (11 rows, computed not accumulated)"
"$CSMPQ" -q sweep -m "$M" cal --size 32KiB:48KiB:8KiB,1MiB -o r.tsv
[ "$(rows r.tsv | cut -f1 | tr '\n' ' ')" = \
  "size<=32.00KiB size<=40.00KiB size<=48.00KiB size<=1.00MiB " ]
ok $? "a size range with suffixes, and a list mixing values and ranges"
for bad in 3:2:0.5 2:4 2:4:0 2:4:0.25:1 2,,3 abc 2:4:0.0001 ''; do
    expect_error 2 "sweep: --avg-bits" "bad --avg-bits '$bad' is a usage error" -- \
        "$CSMPQ" -q sweep -m "$M" cal --avg-bits "$bad" -o r2.tsv
done
expect_error 2 "sweep: --size .*unknown suffix" "bad size in a range" -- \
    "$CSMPQ" -q sweep -m "$M" cal --size 1MiB:2XB:1MiB
expect_error 2 "no budget given" "no budget is a usage error" -- \
    "$CSMPQ" -q sweep -m "$M" cal
expect_error 2 "'--criterion': 'hawq'" "an unknown criterion is a usage error" -- \
    "$CSMPQ" -q sweep -m "$M" cal --avg-bits 2 --criterion hawq
expect_error 2 "need --eval" "tfidf's --quantizer without --eval is a usage error" -- \
    "$CSMPQ" -q sweep -m "$M" cal --avg-bits 2 --criterion tfidf --quantizer rtn
[ ! -e r2.tsv ]
ok $? "no output after a usage error"

# --- evaluation -------------------------------------------------------------------
"$CSMPQ" -q sweep -m "$M" cal --avg-bits 2.5,3 --size 1B --eval val --calib-per-row \
    --plot p.svg -o e.tsv
ok $? "sweep --eval --calib-per-row --plot exits 0"
grep -q '^# eval: val, 50 images, quantizer gptq, activation ranges per row' e.tsv
ok $? "the header names the evaluation"
same=0
for i in 1 2; do
    # the widths as a bare list, which eval maps onto the layers in order
    echo "[$(field e.tsv $i 9)]" >b.json
    "$CSMPQ" -q eval -m "$M" -b b.json --calib cal val >ev.txt
    want=$(sed -n 's/^quantized: top1 \([0-9.]*\)% top5 \([0-9.]*\)%$/\1 \2/p' ev.txt)
    got="$(field e.tsv $i 7) $(field e.tsv $i 8)"
    [ "$want" = "$got" ] || { same=1; echo "# row $i: eval -b $want, sweep $got"; }
done
ok $same "--calib-per-row: each row's top-1 / top-5 equal eval -b of its widths"
"$CSMPQ" -q sweep -m "$M" cal --avg-bits 2.5,3 --eval val -o o.tsv
grep -q 'activation ranges once from the float model' o.tsv
ok $? "default: activation ranges once, and the header says so"
# Ranges from the float model instead of the row's quantized one: a
# different but close simulation (docs/RESULTS.md measures the gap on
# 1000 images); on 50 images allow 10 points.
$PY - o.tsv e.tsv <<'PY'
import sys
a = [l.split('\t') for l in open(sys.argv[1]) if not l.startswith('#')]
b = [l.split('\t') for l in open(sys.argv[2]) if not l.startswith('#')]
ok = all(x[8] == y[8] and abs(float(x[6]) - float(y[6])) <= 10 for x, y in zip(a, b[:2]))
sys.exit(0 if ok else 1)
PY
ok $? "ranges once: same widths, top-1 within 10 points of eval -b on 50 images"
[ "$(field e.tsv 3 6)" = infeasible ] && [ "$(field e.tsv 3 7)" = - ]
ok $? "an infeasible row is not evaluated"
[ "$(rows e.tsv | cut -f1 | tail -3 | tr '\n' ' ')" = "uniform 2 uniform 3 uniform 4 " ]
ok $? "--plot adds the uniform rows of the candidate widths"

# --- the plot -------------------------------------------------------------------
$PY - p.svg e.tsv <<'PY'
import sys
import xml.etree.ElementTree as ET
ns = '{http://www.w3.org/2000/svg}'
root = ET.parse(sys.argv[1]).getroot()
rows = [l.split('\t') for l in open(sys.argv[2]) if not l.startswith('#')]
want_s = sum(1 for r in rows if r[5] != 'infeasible' and not r[0].startswith('uniform'))
want_u = sum(1 for r in rows if r[0].startswith('uniform'))
got_s = sum(1 for e in root.iter(ns + 'circle') if e.get('class') == 'sweep')
got_u = sum(1 for e in root.iter(ns + 'rect') if e.get('class') == 'uniform')
texts = [e.text for e in root.iter(ns + 'text')]
title = 'fmnist_mobilenet.onnx: simulated top-1 against weight size'
ok = root.tag == ns + 'svg' and got_s == want_s and got_u == want_u and title in texts \
    and 'top-1 (%)' in texts and 'float32' in texts
if not ok:
    print('# sweep %d/%d uniform %d/%d texts %s' % (got_s, want_s, got_u, want_u, texts))
sys.exit(0 if ok else 1)
PY
ok $? "plot: well-formed SVG, one marker per row, title, axis label and legend"

# --- atomic output --------------------------------------------------------------
expect_error 1 "cannot open|no such|not a folder|No such" "a missing --eval folder: exit 1" -- \
    "$CSMPQ" -q sweep -m "$M" cal --avg-bits 2 --eval nowhere -o x.tsv --plot x.svg
[ ! -e x.tsv ] && [ ! -e x.svg ] && [ -z "$(ls -a | grep -i tmp)" ]
ok $? "no table, no plot, no temporary file after a failure"
expect_error 1 "sweep:.*nodir" "an unwritable -o is refused before the work" -- \
    "$CSMPQ" -q sweep -m "$M" cal --avg-bits 2 -o nodir/x.tsv
# 23 layers x 3 widths of float copies (1.5 MiB) over a 1 MiB limit; batch
# 1 keeps the activations under it, so the cache is what is refused (the
# tfidf criterion holds no copies; kl's own are checked in t0700-criteria).
expect_error 1 "69 quantized weight copies .* need 1.5 MiB, over the memory limit of 1.0 MiB; --max-memory" \
    "the weight cache is checked against --max-memory" -- \
    "$CSMPQ" -q --max-memory 1MiB sweep -m "$M" cal --batch 1 --avg-bits 2.5,3 --eval val \
    --criterion tfidf --quantizer rtn --uniform -o x.tsv
[ ! -e x.tsv ]
ok $? "no table after the refusal"
"$CSMPQ" -q sweep -m "$M" cal --avg-bits 2 -o x.tsv && head -1 x.tsv | grep -q '^# csmpq sweep 1$'
ok $? "-o writes the table"
done_testing
