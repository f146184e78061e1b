#!/bin/sh
# csmpq score / analyze / allocate --criterion clado: the pair table of the
# small test model against scripts/reference-clado (PyTorch, full passes,
# written from issue 17), the quadratic optimum against the reference's
# brute force, re-solving from the file, determinism and bad input.
. "$top_srcdir/tests/cli/lib.sh"
top_srcdir=$(cd "$top_srcdir" && pwd)
M=$top_srcdir/tests/fixtures/clado/tiny.onnx
G=$top_srcdir/tests/golden/clado
CAL=$top_srcdir/data/fmnist/calib
cd "$TMP" || exit 1

col() { grep -v '^#' "$1" | cut -f "$2" | tr '\n' ' ' | sed 's/ $//'; }

# compare A B TOL: every dL and cross value of pair table A within TOL of B's
compare() {
    $PY - "$1" "$2" "$3" <<'PYEOF'
import sys
def rd(p):
    out = {}
    for line in open(p):
        if line.startswith('#'):
            continue
        f = line.rstrip('\n').split('\t')
        if f[0] == 'cross':
            out[tuple(f[1:5])] = float(f[5])
        else:
            for k, v in enumerate(f[4:]):
                out[(f[0], k)] = float(v)
    return out
a, b, tol = rd(sys.argv[1]), rd(sys.argv[2]), float(sys.argv[3])
if set(a) != set(b):
    print('# entries differ: %d against %d' % (len(a), len(b)))
    sys.exit(1)
worst = max(abs(a[k] - b[k]) for k in b)
print('# %d entries, largest difference %.3g' % (len(b), worst))
sys.exit(0 if worst <= tol else 1)
PYEOF
}

"$CSMPQ" score -q -j 1 -m "$M" "$CAL" --criterion clado --clado-images 16 -o p.tsv
ok $? "score --criterion clado exits 0"
head -1 p.tsv | grep -qx '# csmpq pairs 1' &&
    grep -q '^# criterion: clado quantizer: gptq loss: ce images: 16$' p.tsv
ok $? "pair table header: criterion, quantizer, loss, images"
[ "$(grep -c '^cross' p.tsv)" -eq 90 ]
ok $? "5 layers x 3 widths: 90 cross terms"
compare p.tsv "$G/tiny.pairs.tsv" 1e-6 >cmp.out
ok $? "dL and cross terms equal the PyTorch reference's (within 1e-6 of values ~5e-3)"
diag cmp.out
"$CSMPQ" score -q -j 1 -m "$M" "$CAL" --criterion clado --clado-images 16 --docs samples \
    -o k.tsv && compare k.tsv "$G/tiny.kl.pairs.tsv" 1e-7 >cmp.out
ok $? "--docs samples: the KL table equals the reference's"
diag cmp.out
"$CSMPQ" score -q -j 1 -m "$M" "$CAL" --criterion clado --clado-images 16 -o p2.tsv &&
    cmp -s p.tsv p2.tsv
ok $? "same input, byte-identical table"

# The quadratic program against the reference's brute force over all 3^5
# assignments, on the reference's own table.
while read -r b obj w1 w2 w3 w4 w5; do
    "$CSMPQ" allocate --scores "$G/tiny.pairs.tsv" --avg-bits "$b" >a.tsv
    [ "$(col a.tsv 2)" = "$w1 $w2 $w3 $w4 $w5" ] &&
        grep -q '^# solver: proven optimal, objective ' a.tsv
    ok $? "allocate --avg-bits $b on the reference table: brute force's $w1 $w2 $w3 $w4 $w5"
    got=$(sed -n 's/^# solver: proven optimal, objective \([^ ]*\) .*/\1/p' a.tsv)
    $PY -c "import sys; sys.exit(abs($got - $obj) > 1e-6 * abs($obj))"
    ok $? "and its objective $got (brute force $obj)"
    "$CSMPQ" allocate --scores p.tsv --avg-bits "$b" >c.tsv
    [ "$(col c.tsv 2)" = "$w1 $w2 $w3 $w4 $w5" ]
    ok $? "csmpq's own table gives the same widths at $b bits"
done <"$G/tiny.optimum.tsv"

"$CSMPQ" analyze -q -j 1 -m "$M" "$CAL" --criterion clado --clado-images 16 --avg-bits 2.5 \
    --scores-out ap.tsv -o an.tsv
ok $? "analyze --criterion clado exits 0"
cmp -s ap.tsv p.tsv && "$CSMPQ" allocate --scores p.tsv --avg-bits 2.5 >al.tsv &&
    [ "$(col an.tsv 2)" = "$(col al.tsv 2)" ]
ok $? "analyze = score, then allocate from the file"

head -8 p.tsv >trunc.tsv
expect_error 1 "pairs: 'trunc.tsv': no #cross section" "a truncated pair table" -- \
    "$CSMPQ" allocate --scores trunc.tsv --avg-bits 3
sed 's/^cross\tconv1\t2\tdw\t2\t.*/cross\tconv1\t2\tdw\t2\tbanana/' p.tsv >bad.tsv
expect_error 1 "pairs: 'bad.tsv' line [0-9]+: 'banana' is not a finite number" \
    "a bad cross value names the file and line" -- \
    "$CSMPQ" allocate --scores bad.tsv --avg-bits 3
expect_error 2 "--criterion': 'magic' is not" "an unknown criterion" -- \
    "$CSMPQ" score -m "$M" "$CAL" --criterion magic
expect_error 3 "no bit assignment fits" "a budget below every assignment" -- \
    "$CSMPQ" allocate --scores p.tsv --avg-bits 1.5
expect_error 1 "clado: [0-9.]+ MiB of saved activations, [0-9.]+ MiB of quantized weights and [0-9.]+ MiB of images are over the memory limit of 1.0 MiB" \
    "clado's saved activations over --max-memory: refused in one line" -- \
    "$CSMPQ" --max-memory 1MiB score -q -m "$M" "$CAL" --criterion clado -o mem.tsv
[ ! -e mem.tsv ]
ok $? "and no table is written"
done_testing
