#!/bin/sh
# Global options: --help, --version, unknown commands, per-command --help.
. "$top_srcdir/tests/cli/lib.sh"

"$CSMPQ" --help >"$TMP/out" 2>&1
ok $? "--help exits 0"
grep -q '^usage: csmpq' "$TMP/out"
ok $? "--help prints usage"

"$CSMPQ" --version >"$TMP/out"
ok $? "--version exits 0"
grep -Eq '^csmpq [0-9]+\.[0-9]+\.[0-9]+( \(MPI\))?$' "$TMP/out"
ok $? "--version prints the version"

expect_error 2 "'frobnicate' is not a command" "unknown command" -- "$CSMPQ" frobnicate
expect_error 2 "unknown option '--bogus'" "unknown global option" -- "$CSMPQ" --bogus

# Every command answers --help with its synopsis, and the man page has it.
for cmd in $("$CSMPQ" --help | sed -n 's/^  \([a-z]*\)  .*/\1/p'); do
    "$CSMPQ" "$cmd" --help >"$TMP/h" 2>&1
    ok $? "$cmd --help exits 0"
    syn=$(sed -n '1s/^usage: //p' "$TMP/h")
    grep -Fq "csmpq $cmd" "$TMP/h"
    ok $? "$cmd --help shows its synopsis"
    # The man page must document each command (git's t0450 idea).
    grep -Eq "^\.SS \"?$cmd\b|^\.B csmpq $cmd\b|^csmpq $cmd\b" "$top_srcdir/man/csmpq.1"
    ok $? "man/csmpq.1 documents $cmd ($syn)"
done
done_testing
