#!/bin/sh
# t-conv again with oneDNN capped at AVX2 (the path of a machine without
# AVX-512) and with oneDNN off (CSMPQ_ISA=portable: csmpq's own OpenBLAS
# paths), so each is checked against the same independent references on
# any machine.  Without oneDNN built in, both runs take the portable paths.
# Output: one TAP stream, the two runs' tests renumbered in sequence.
out=${TMPDIR:-/tmp}/isa-conv.$$
rc=0
: > "$out"
for isa in avx2 portable; do
    CSMPQ_ISA=$isa "$top_builddir/tests/unit/t-conv" > "$out.$isa" 2>&1 || rc=1
    sed -n "s/^\(ok\|not ok\) [0-9]* \(.*\)/\1 \2 [CSMPQ_ISA=$isa]/p; /^#/p" "$out.$isa" >> "$out"
    grep -q '^1\.\.' "$out.$isa" || { echo "not ok - t-conv under CSMPQ_ISA=$isa ended early" >> "$out"; rc=1; }
done
awk '/^(ok|not ok)/ { n++; sub(/^ok/, "ok " n); sub(/^not ok/, "not ok " n) } { print }
     END { print "1.." n }' "$out"
rm -f "$out" "$out.avx2" "$out.portable"
exit $rc
