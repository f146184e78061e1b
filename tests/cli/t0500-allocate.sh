#!/bin/sh
# csmpq allocate / analyze: a hand-worked optimum, budgets, presets, pins,
# ties, formats and their round trips, pipelines, and bad input.
. "$top_srcdir/tests/cli/lib.sh"
top_srcdir=$(cd "$top_srcdir" && pwd)
S=$top_srcdir/tests/fixtures/scores
cd "$TMP" || exit 1

col() { # col FILE N: column N of the rows of a bit config
    grep -v '^#' "$1" | cut -f "$2" | tr '\n' ' ' | sed 's/ $//'
}

# Hand-worked: A (100 params, score 0.9), B (200, 0.5), C (300, 0.1),
# widths {2,3,4}, mean 3 bits = 1800 bits.  All at 2 bits take 1200;
# the 600 left go where score per bit of size is highest: A to 4 (+200 bits,
# +1.8), then B to 4 (+400, +1.0): 1800 bits exactly, objective
# 0.9*4 + 0.5*4 + 0.1*2 = 5.8.  Nothing else fits better (A4 B3 C3 needs 1900).
"$CSMPQ" allocate --scores "$S/small.tsv" --avg-bits 3 >a.tsv
ok $? "allocate exits 0"
[ "$(col a.tsv 1)" = "A B C" ] && [ "$(col a.tsv 2)" = "4 4 2" ]
ok $? "hand-worked optimum A=4 B=4 C=2 ($(col a.tsv 2))"
grep -q '^# budget: mean_wbits<=3; achieved size=225B ' a.tsv
ok $? "header gives the budget and the achieved size"
grep -q '^# solver: proven optimal' a.tsv
ok $? "result is proven optimal"
"$CSMPQ" allocate --scores "$S/small.tsv" --size 225B >b.tsv
[ "$(col b.tsv 2)" = "4 4 2" ]
ok $? "--size 225B gives the same widths"
"$CSMPQ" allocate --scores "$S/small.tsv" --avg-bits 3 >c.tsv && cmp -s a.tsv c.tsv
ok $? "same input, byte-identical output"
"$CSMPQ" allocate --avg-bits 3 <"$S/small.tsv" >d.tsv && cmp -s a.tsv d.tsv
ok $? "score table from standard input"

# BOPs: MACs x wbits x abits.  At 8-bit activations A,B,C at 2 bits cost
# (1000 + 2000 + 300) * 2 * 8 = 52800; a 60000 budget leaves 7200, enough
# for A to 4 (+16000)? no: A 2->3 costs 8000 > 7200; C 2->4 costs 4800.
"$CSMPQ" allocate --scores "$S/small.tsv" --bops 60000 >e.tsv
[ "$(col e.tsv 2)" = "2 2 4" ]
ok $? "BOPs budget: only C can grow ($(col e.tsv 2))"

# Infeasible: exit 3 with the smallest reachable size (150 bytes = 1200 bits).
expect_error 3 "smallest .* size 150 bytes" "infeasible budget: exit 3 and the minimum" -- \
    "$CSMPQ" allocate --scores "$S/small.tsv" --size 10B -o out.tsv
[ ! -e out.tsv ] && [ -z "$(ls | grep tmp)" ]
ok $? "no output file after an infeasible budget"

# Presets, pins and ties.
# qat: A and C pinned to 8 (3200 bits); 7 bits per weight (4200) leaves
# B 1000 bits: 5 bits.
"$CSMPQ" allocate --scores "$S/small.tsv" --avg-bits 7 --mode qat >q.tsv
[ "$(col q.tsv 2)" = "8 5 8" ]
ok $? "qat pins the first and last layer to 8 ($(col q.tsv 2))"
"$CSMPQ" allocate --scores "$S/small.tsv" --avg-bits 3 --pin C=4 >p.tsv
[ "$(col p.tsv 2 | cut -d' ' -f3)" = 4 ]
ok $? "--pin C=4 ($(col p.tsv 2))"
"$CSMPQ" allocate --scores "$S/small.tsv" --avg-bits 3 --tie A,C >t.tsv
[ "$(col t.tsv 2 | cut -d' ' -f1)" = "$(col t.tsv 2 | cut -d' ' -f3)" ]
ok $? "--tie A,C gives them one width ($(col t.tsv 2))"
"$CSMPQ" allocate --scores "$S/small.tsv" --avg-bits 3 --wbits 2,8 >w.tsv
col w.tsv 2 | grep -Eq '^[28] [28] [28]$'
ok $? "--wbits 2,8 ($(col w.tsv 2))"

# --relax: the LP optimum rounded down never exceeds the budget.
"$CSMPQ" allocate --scores "$S/small.tsv" --avg-bits 2.9 --relax >r.tsv
size=$(grep -v '^#' r.tsv | awk -F'\t' '{s += $2 * $4} END {print s}')
[ "$size" -le 1740 ]
ok $? "--relax stays within 2.9 bits per weight ($size <= 1740 bits)"
grep -q '^# solver: continuous LP rounded down' r.tsv
ok $? "--relax says so in the header"

# Formats: list, json (valid JSON for python), and the same assignment.
"$CSMPQ" allocate --scores "$S/small.tsv" --avg-bits 3 --format list >l.txt
[ "$(cat l.txt)" = "[4, 4, 2]" ]
ok $? "--format list ($(cat l.txt))"
"$CSMPQ" allocate --scores "$S/small.tsv" --avg-bits 3 --format json -o j.json
$PY -m json.tool j.json >/dev/null
ok $? "--format json is valid JSON (python3 -m json.tool)"
$PY -c "import json,sys; d=json.load(open('j.json')); sys.exit(0 if [l['wbits'] for l in d['layers']]==[4,4,2] else 1)"
ok $? "json carries the same widths"

# The real pipeline on the shipped model and images.
M=$top_srcdir/data/models/fmnist_resnet.onnx
D=$top_srcdir/data/fmnist/calib
"$CSMPQ" score -m "$M" "$D" --criterion tfidf | "$CSMPQ" allocate --size 60KiB >pipe.tsv
ok $? "csmpq score | csmpq allocate --size 60KiB"
"$CSMPQ" analyze -m "$M" "$D" --criterion tfidf --size 60KiB --scores-out an.scores >an.tsv
ok $? "analyze --scores-out"
[ "$(col pipe.tsv 2)" = "$(col an.tsv 2)" ]
ok $? "analyze and score | allocate choose the same widths"
"$CSMPQ" allocate --scores an.scores --size 60KiB >again.tsv && [ "$(col again.tsv 2)" = "$(col an.tsv 2)" ]
ok $? "the --scores-out table gives the same widths again"
grep -q '	/layer1/layer1.0/conv1/Conv$' an.tsv
ok $? "analyze writes ONNX node names"
size=$(grep -v '^#' an.tsv | awk -F'\t' '{s += $2 * $4} END {print s}')
[ "$size" -le $((60 * 1024 * 8)) ]
ok $? "analyze stays within 60KiB ($size bits)"
# Round trip through csmpq itself: tsv and json configs evaluate identically.
"$CSMPQ" analyze -m "$M" "$D" --criterion tfidf --size 60KiB --format json -o an.json
"$CSMPQ" eval -m "$M" "$D" --per-class 4 -b an.tsv --json >ev1 &&
    "$CSMPQ" eval -m "$M" "$D" --per-class 4 -b an.json --json >ev2 &&
    [ "$(sed 's/"images_per_s.*//' ev1)" = "$(sed 's/"images_per_s.*//' ev2)" ]
ok $? "tsv and json configs read back to the same assignment (same eval)"

# Bad input: one line, exit 1 or 2, no output file.
for f in missing-column negative-params duplicate nan; do
    expect_error 1 "$f.tsv' line [0-9]+" "score table: $f" -- \
        "$CSMPQ" allocate --scores "$S/$f.tsv" --avg-bits 3 -o out.tsv
done
expect_error 2 "no layer named 'Z' to pin" "pin naming no layer" -- \
    "$CSMPQ" allocate --scores "$S/small.tsv" --avg-bits 3 --pin Z=4 -o out.tsv
expect_error 2 "12XB" "--size 12XB" -- "$CSMPQ" allocate --scores "$S/small.tsv" --size 12XB
expect_error 2 "--wbits" "--wbits 0" -- "$CSMPQ" allocate --scores "$S/small.tsv" --avg-bits 3 --wbits 0
expect_error 2 "no budget" "no budget" -- "$CSMPQ" allocate --scores "$S/small.tsv"
expect_error 2 "'--mode'" "--mode bogus" -- "$CSMPQ" allocate --scores "$S/small.tsv" --avg-bits 3 --mode x
expect_error 2 "--format 'xml'" "--format xml" -- "$CSMPQ" allocate --scores "$S/small.tsv" --avg-bits 3 --format xml
expect_error 1 "cannot write '/nonexistent/dir/out.tsv'" "unwritable output path" -- \
    "$CSMPQ" allocate --scores "$S/small.tsv" --avg-bits 3 -o /nonexistent/dir/out.tsv
[ ! -e out.tsv ] && [ -z "$(ls | grep tmp)" ]
ok $? "no output file or temporary left by any error"
done_testing
