# Sourced by every tests/cli/t*.sh: strict mode, C locale, a scratch
# directory removed on exit, and TAP helpers.  $CSMPQ is the binary under
# test and $top_srcdir the source tree (set by make check).
set -u
LC_ALL=C
export LC_ALL
: "${CSMPQ:?run through make check, or set CSMPQ}"
: "${top_srcdir:?run through make check, or set top_srcdir}"
TMP=$(mktemp -d "${TMPDIR:-/tmp}/csmpq-test.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
tap_n=0
tap_failed=0
PY=/usr/bin/python3

ok() {   # ok STATUS DESCRIPTION
    tap_n=$((tap_n + 1))
    if [ "$1" -eq 0 ]; then
        echo "ok $tap_n - $2"
    else
        echo "not ok $tap_n - $2"
        tap_failed=$((tap_failed + 1))
    fi
}

skip() { # skip DESCRIPTION REASON
    tap_n=$((tap_n + 1))
    echo "ok $tap_n - $1 # SKIP $2"
}

diag() { sed 's/^/# /' "$@"; }

done_testing() {
    echo "1..$tap_n"
    [ "$tap_failed" -eq 0 ]
}

# npy_close Y REF TOL: whether array Y matches REF (same shape, largest
# difference at most TOL of REF's largest magnitude); prints the difference.
npy_close() {
    $PY - "$1" "$2" "$3" <<'PYEOF'
import sys
import numpy as np
y = np.load(sys.argv[1]); ref = np.load(sys.argv[2])
assert y.shape == ref.shape, (y.shape, ref.shape)
rel = np.abs(y - ref).max() / max(np.abs(ref).max(), 1e-12)
print("max relative difference %.3g" % rel)
sys.exit(0 if rel <= float(sys.argv[3]) else 1)
PYEOF
}

# expect_error STATUS PATTERN DESCRIPTION -- command...
# The command must exit with STATUS, print exactly one line on stderr that
# matches the extended regex PATTERN, and nothing on stdout.
expect_error() {
    want=$1 pat=$2 desc=$3
    shift 4
    "$@" >"$TMP/out" 2>"$TMP/err"
    got=$?
    lines=$(wc -l <"$TMP/err")
    if [ "$got" -eq "$want" ] && [ "$lines" -eq 1 ] && [ ! -s "$TMP/out" ] &&
       grep -Eq -- "$pat" "$TMP/err"; then
        ok 0 "$desc"
    else
        ok 1 "$desc"
        echo "# exit $got (want $want), $lines stderr lines:"
        diag "$TMP/err"
    fi
}
