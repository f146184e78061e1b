#!/bin/sh
# Every global symbol of libcsmpq.a starts with csq_ (the prefix keeps us
# apart from libpng's png_, libjpeg's jpeg_ and lp_solve's bare names);
# the protobuf-c decoder generated from onnx.proto keeps its onnx__ names,
# and sanitizer builds add the compiler's own __odr_asan / __asan symbols.
. "$top_srcdir/tests/cli/lib.sh"
lib=${top_builddir:?}/libcsmpq.a
if ! command -v nm >/dev/null 2>&1; then
    echo "1..0 # SKIP nm not found"
    exit 0
fi
nm -g --defined-only "$lib" 2>/dev/null | awk 'NF == 3 { print $3 }' | sort -u >"$TMP/syms"
[ -s "$TMP/syms" ]
ok $? "libcsmpq.a has global symbols ($(wc -l <"$TMP/syms"))"
grep -v -e '^csq_' -e '^onnx__' -e '^__odr_asan' -e '^__asan' -e '^__ubsan' \
    -e '^__sanitizer' "$TMP/syms" >"$TMP/bad"
[ ! -s "$TMP/bad" ]
ok $? "all of them start with csq_ (or onnx__, generated)"
diag "$TMP/bad"
done_testing
