#!/bin/sh
# csmpq score / analyze / allocate with the criteria of DESIGN §8: a
# hand-worked cost table, the cost tables of the shipped models against
# scripts/reference-criteria's goldens (1e-3 relative) and its MILP optimum,
# score | allocate = analyze, tfidf unchanged, and bad input.
. "$top_srcdir/tests/cli/lib.sh"
top_srcdir=$(cd "$top_srcdir" && pwd)
S=$top_srcdir/tests/fixtures/scores
G=$top_srcdir/tests/golden/crit
CALIB=$top_srcdir/data/fmnist/calib
cd "$TMP" || exit 1

col() { grep -v '^#' "$1" | cut -f "$2" | tr '\n' ' ' | sed 's/ $//'; }

# Hand-worked (tests/fixtures/scores/costs.tsv): A 100, B 200, C 300 params,
# mean 3 bits = 1800 bits, all at 2 bits = 1200.  A 2->3 saves 8 for 100
# bits, B 2->3 saves 4 for 200, C 2->3 saves 2 for 300: 600 bits, cost
# 2 + 1 + 1 = 4.  The rest that fits: A4 B4 C2 (1800 bits) costs 4.8,
# A4 B3 C2 (1600) 5; A4 B3 C3 needs 1900.  score x bits would say A4 B4 C2.
"$CSMPQ" allocate --scores "$S/costs.tsv" --avg-bits 3 >a.tsv
ok $? "allocate reads a cost table"
[ "$(col a.tsv 2)" = "3 3 3" ]
ok $? "hand-worked cost optimum A=3 B=3 C=3 ($(col a.tsv 2))"
grep -q '^# solver: proven optimal, objective 4$' a.tsv
ok $? "objective is the minimized sum of costs ($(grep solver a.tsv))"
"$CSMPQ" allocate --scores "$S/costs.tsv" --avg-bits 3 --pin C=4 >p.tsv
# C=4 takes 1200 bits and leaves 600, just A and B at 2 bits.
[ "$(col p.tsv 2)" = "2 2 4" ] && grep -q 'objective 15.5$' p.tsv
ok $? "--pin C=4 on costs: A=2 B=2, objective 15.5 ($(col p.tsv 2))"

# Bad input: widths the table has no column for, missing and NaN cells.
expect_error 1 "costs are for widths 2,3,4, not for the candidate width 5" \
    "--wbits outside the cost columns refused in one line" -- \
    "$CSMPQ" allocate --scores "$S/costs.tsv" --avg-bits 3 --wbits 2,3,5
expect_error 1 "not for layer 'A' pinned to 8 bits" "a pin outside the cost columns refused" -- \
    "$CSMPQ" allocate --scores "$S/costs.tsv" --avg-bits 3 --pin A=8
expect_error 1 "costs are for widths 2,3,4, not for the candidate width 5" \
    "qat's widths need their columns" -- \
    "$CSMPQ" allocate --scores "$S/costs.tsv" --avg-bits 6 --mode qat
sed 's/^B\tConv\t200\t2000\t0.5\t5\t1\t0.8$/B\tConv\t200\t2000\t0.5\t5\t1/' "$S/costs.tsv" >miss.tsv
expect_error 1 "miss.tsv' line 5: .*cost@ cell is missing" "a missing cost cell refused" -- \
    "$CSMPQ" allocate --scores miss.tsv --avg-bits 3 -o out.tsv
[ ! -e out.tsv ]
ok $? "no output after a refused table"
sed 's/^B\tConv\t200\t2000\t0.5\t5\t1\t0.8$/B\tConv\t200\t2000\t0.5\t5\tnan\t0.8/' "$S/costs.tsv" >nan.tsv
expect_error 1 "nan.tsv' line 5: cost@3 'nan' is not a finite number" "a NaN cost cell refused" -- \
    "$CSMPQ" allocate --scores nan.tsv --avg-bits 3

# Usage errors.
M=$top_srcdir/data/models/fmnist_resnet.onnx
expect_error 2 "'--criterion': 'hessian' is not tfidf, noise, tfidf-noise, sqnr, kl or clado" \
    "unknown criterion: usage error" -- "$CSMPQ" score -m "$M" "$CALIB" --criterion hessian
expect_error 2 "criterion" "unknown criterion in analyze: usage error" -- \
    "$CSMPQ" analyze -m "$M" "$CALIB" --criterion bogus --avg-bits 3
expect_error 2 "--quantizer takes rtn or gptq" "unknown quantizer: usage error" -- \
    "$CSMPQ" score -m "$M" "$CALIB" --criterion noise --quantizer fp8
expect_error 2 "need a criterion other than tfidf" "a quantizer for tfidf: usage error" -- \
    "$CSMPQ" score -m "$M" "$CALIB" --criterion tfidf --quantizer rtn
expect_error 2 "--sqnr-images needs --criterion sqnr or kl" "--sqnr-images for noise" -- \
    "$CSMPQ" score -m "$M" "$CALIB" --criterion noise --sqnr-images 8
expect_error 2 "--act-order needs --quantizer gptq" "--act-order with rtn" -- \
    "$CSMPQ" analyze -m "$M" "$CALIB" --criterion noise --quantizer rtn --act-order --avg-bits 3

# tfidf is the table of before the criteria: the golden of t0400 has the
# same header and columns.
"$CSMPQ" -q score -m "$M" "$CALIB" --criterion tfidf -o t1.tsv &&
    ! grep -q 'cost@\|criterion' t1.tsv &&
    [ "$(grep -v '^# reference' "$top_srcdir/tests/golden/fmnist_resnet.classes.scores.tsv" |
        grep '^#' | sed 's/^# model: .*/# model/')" = "$(grep '^#' t1.tsv | sed 's/^# model: .*/# model/')" ]
ok $? "--criterion tfidf writes the plain score table"
# The default criterion (kl, chosen in docs/RESULTS.md) adds its columns.
"$CSMPQ" -q score -m "$M" "$CALIB" --sqnr-images 16 -o d.tsv &&
    grep -q '^# criterion: kl quantizer: gptq$' d.tsv && grep -q 'cost@2	cost@3	cost@4$' d.tsv
ok $? "without --criterion: kl with gptq"

# The shipped models against the reference: every golden table's cost
# cells within 1e-3 relative, and allocate on the golden costs reaches the
# MILP optimum the reference found (scipy.optimize.milp).
cmp_costs() { # cmp_costs GOLDEN CSMPQ-TABLE
    $PY - "$1" "$2" <<'PY'
import sys
def rows(p, first):
    out = {}
    for l in open(p):
        if l.startswith('#'):
            continue
        f = l.rstrip('\n').split('\t')
        out[f[0]] = [float(x) for x in f[first:]]
    return out
g, c = rows(sys.argv[1], 4), rows(sys.argv[2], 5)
assert list(g) == list(c), 'layers differ'
worst = max(abs(a - b) / abs(a) for k in g for a, b in zip(g[k], c[k]))
print('# worst relative difference %.3g over %d cells' % (worst, sum(map(len, g.values()))))
sys.exit(0 if worst <= 1e-3 else 1)
PY
}
as_scores() { # the golden's costs as a score table allocate reads (macs 0)
    awk -F'\t' 'BEGIN{OFS="\t"} /^#layer/{print "#layer","op","params","macs","score","cost@2","cost@3","cost@4"; next}
        /^#/{next} {print $1,$2,$3,0,$4,$5,$6,$7}' "$1"
}
objective() { # objective SCORES BITCFG: sum of the table's cost at each width
    $PY - "$1" "$2" <<'PY'
import sys
cost = {}
for l in open(sys.argv[1]):
    if not l.startswith('#'):
        f = l.rstrip('\n').split('\t')
        cost[f[0]] = {2: float(f[5]), 3: float(f[6]), 4: float(f[7])}
s = 0.0
for l in open(sys.argv[2]):
    if not l.startswith('#'):
        f = l.split('\t')
        s += cost[f[0]][int(f[1])]
print('%.17g' % s)
PY
}
for gold in "$G"/*.tsv; do
    base=$(basename "$gold" .tsv)
    model=${base%%.*}
    rest=${base#*.}
    crit=${rest%.*}
    q=${rest#*.}
    extra=
    case $crit in sqnr|kl) extra="--sqnr-images 64" ;; esac
    if [ "$crit" = tfidf ]; then
        "$CSMPQ" -q score -m "$top_srcdir/data/models/$model.onnx" "$CALIB" --criterion tfidf \
            -o "$base.plain.tsv" &&
            awk -F'\t' 'BEGIN{OFS="\t"} /^#layer/{print $0,"cost@2","cost@3","cost@4";next} /^#/{print;next}
                {printf "%s\t%.17g\t%.17g\t%.17g\n", $0, -2*$5, -3*$5, -4*$5}' "$base.plain.tsv" >"$base.c.tsv"
    else
        # shellcheck disable=SC2086
        "$CSMPQ" -q score -m "$top_srcdir/data/models/$model.onnx" "$CALIB" --criterion "$crit" \
            --quantizer "$q" $extra -o "$base.c.tsv"
    fi
    ok $? "$base: csmpq score --criterion $crit --quantizer $q"
    cmp_costs "$gold" "$base.c.tsv" >"$base.cmp"
    ok $? "$base: cost table within 1e-3 relative of the reference"
    diag "$base.cmp"
    as_scores "$gold" >"$base.g.tsv"
    grep '^# milp: ' "$gold" | while read -r _ _ b obj w; do
        b=${b#avg-bits=} obj=${obj#objective=} w=${w#wbits=}
        "$CSMPQ" allocate --scores "$base.g.tsv" --avg-bits "$b" >"$base.$b.bits" || echo fail
        got=$(objective "$base.g.tsv" "$base.$b.bits")
        $PY -c "import sys; a, b = float('$got'), float('$obj'); sys.exit(abs(a - b) > 1e-9 * max(abs(b), 1e-300))" ||
            echo "mismatch $b: csmpq $got ($(col "$base.$b.bits" 2 | tr ' ' ,)), milp $obj ($w)"
    done >"$base.milp" 2>&1
    [ ! -s "$base.milp" ]
    ok $? "$base: allocate reaches the MILP optimum at every budget of the golden"
    diag "$base.milp"
done

# score | allocate decides as analyze does, and analyze's table is score's.
"$CSMPQ" -q analyze -m "$M" "$CALIB" --criterion noise --quantizer rtn --avg-bits 2.5 \
    --scores-out an.tsv -o an.bits && "$CSMPQ" -q score -m "$M" "$CALIB" --criterion noise \
    --quantizer rtn | "$CSMPQ" allocate --avg-bits 2.5 -o pipe.bits &&
    [ "$(col an.bits 2)" = "$(col pipe.bits 2)" ]
ok $? "score | allocate = analyze with --criterion noise"
grep -q '^# criterion: noise quantizer: rtn$' an.tsv && grep -q 'cost@4$' an.tsv
ok $? "analyze --scores-out writes the criterion line and cost columns"
# analyze prices the pinned width too.
"$CSMPQ" -q analyze -m "$M" "$CALIB" --criterion noise --quantizer rtn --avg-bits 3 \
    --pin fc=8 --scores-out pin.tsv -o pin.bits && grep -q 'cost@8$' pin.tsv &&
    [ "$(grep '^fc' pin.bits | cut -f2)" = 8 ]
ok $? "analyze adds a column for a pinned width"

# sqnr's saved activations and quantized copies over --max-memory: one
# line saying what they need, no table.
expect_error 1 "sqnr: two saved activations of [0-9.]+ MiB and the quantized weights \\([0-9.]+ MiB\\) need more than the memory limit of 3.0 MiB" \
    "sqnr over --max-memory refused in one line" -- \
    "$CSMPQ" --max-memory 3MiB score -q -j 1 --batch 16 \
    -m "$top_srcdir/data/models/fmnist_mobilenet.onnx" \
    "$CALIB" --criterion sqnr --quantizer rtn -o mem.tsv
[ ! -e mem.tsv ]
ok $? "and writes no table"

done_testing
