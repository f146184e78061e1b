#!/bin/sh
# The threads' wait policy csmpq sets before its work (src/cli/waitpolicy.c),
# read from /proc/PID/environ of a csmpq that waits on a FIFO for its
# input: OpenBLAS's timeout when unset, a spin (30000 for run, the forward
# pass alone; 1000 for other commands, whose decoding threads need the
# cores) or passive OpenMP threads when neither OpenMP variable is set,
# passive ones while another process is running, and the user's own values
# kept.
. "$top_srcdir/tests/cli/lib.sh"

if [ -n "${CSMPQ_REAL:-}" ]; then      # make check-valgrind's wrapper sets both
    skip "wait policy" "under the valgrind wrapper"
    done_testing
    exit 0
fi
# what the FIFO loop looks for must not be there before the re-exec
unset OMP_WAIT_POLICY GOMP_SPINCOUNT OPENBLAS_THREAD_TIMEOUT
model="$top_srcdir/data/models/fmnist_resnet.onnx"
mkfifo "$TMP/in"

# environ_of "DESC" [VAR=VALUE ...]: csmpq run with only those of the
# variables set, its environment once it has executed itself (it reads
# the FIFO then) into $TMP/env; with CMD=info, csmpq -q info on the FIFO
environ_of() {
    desc=$1
    shift
    if [ "${CMD:-run}" = info ]; then
        set -- "$@" "$CSMPQ" -q info "$TMP/in"
        want="empty file"
    else
        set -- "$@" "$CSMPQ" run -m "$model" --input "$TMP/in" --output "$TMP/y.npy"
        want="not a .npy file"
    fi
    env -u OMP_WAIT_POLICY -u GOMP_SPINCOUNT -u OPENBLAS_THREAD_TIMEOUT "$@" 2>"$TMP/err" &
    pid=$!
    # the re-exec keeps the pid; until it happens environ is the old one
    n=0
    while [ $n -lt 600 ] && kill -0 $pid 2>/dev/null; do
        tr '\0' '\n' </proc/$pid/environ >"$TMP/env" 2>/dev/null
        grep -q '^OPENBLAS_THREAD_TIMEOUT=' "$TMP/env" && break
        sleep 0.1
        n=$((n + 1))
    done
    : >"$TMP/in"        # an empty input: run refuses it and exits
    wait $pid
    [ $? -eq 1 ] && grep -q "$want" "$TMP/err"
    ok $? "$desc: csmpq ran and read the FIFO"
}

environ_of "nothing set"
grep -qx 'OPENBLAS_THREAD_TIMEOUT=4' "$TMP/env"
ok $? "nothing set: OpenBLAS threads sleep at once"
grep -Eqx 'GOMP_SPINCOUNT=30000|OMP_WAIT_POLICY=PASSIVE' "$TMP/env"
ok $? "nothing set: run's OpenMP threads spin 30000 or sleep"
CMD=info environ_of "nothing set, info"
grep -Eqx 'GOMP_SPINCOUNT=1000|OMP_WAIT_POLICY=PASSIVE' "$TMP/env"
ok $? "nothing set: other commands' OpenMP threads spin 1000 or sleep"

# a process that stays runnable through csmpq's start
sh -c 'while :; do :; done' &
busy=$!
environ_of "another process running"
kill $busy
grep -qx 'OMP_WAIT_POLICY=PASSIVE' "$TMP/env" && ! grep -q '^GOMP_SPINCOUNT=' "$TMP/env"
ok $? "another process running: OpenMP threads sleep"

environ_of "the user's values" OMP_WAIT_POLICY=ACTIVE OPENBLAS_THREAD_TIMEOUT=7
grep -qx 'OMP_WAIT_POLICY=ACTIVE' "$TMP/env" && grep -qx 'OPENBLAS_THREAD_TIMEOUT=7' "$TMP/env" &&
    ! grep -q '^GOMP_SPINCOUNT=' "$TMP/env"
ok $? "the user's OMP_WAIT_POLICY and OPENBLAS_THREAD_TIMEOUT are kept"

environ_of "the user's spin count" GOMP_SPINCOUNT=5
grep -qx 'GOMP_SPINCOUNT=5' "$TMP/env" && ! grep -q '^OMP_WAIT_POLICY=' "$TMP/env"
ok $? "the user's GOMP_SPINCOUNT is kept, no wait policy added"
done_testing
