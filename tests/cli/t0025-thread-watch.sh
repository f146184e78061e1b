#!/bin/sh
# The thread watch (src/nn/threads.c): while other processes leave at most
# one core free, parallel regions run on one thread.  Results must not
# change to the bit: every shipped model's logits and the TF-IDF scores
# with OpenMP held to one thread all along (OMP_MAX_ACTIVE_LEVELS=0, what
# the watch sets) equal those of a normal run; then with a busy process
# pinned beside csmpq on two cores the watch must engage (run says so),
# give the same logits, and stay off under CSMPQ_ADAPT_THREADS=0.
. "$top_srcdir/tests/cli/lib.sh"

calib="$top_srcdir/data/fmnist/calib"
$PY - "$TMP/x.npy" <<'PYEOF'
import sys, numpy as np
np.save(sys.argv[1], np.random.default_rng(3).standard_normal((32, 1, 28, 28)).astype(np.float32))
PYEOF

for m in fmnist_resnet fmnist_mobilenet; do
    model="$top_srcdir/data/models/$m.onnx"
    "$CSMPQ" run -m "$model" --input "$TMP/x.npy" --output "$TMP/$m.all.npy" -j 2 &&
        OMP_MAX_ACTIVE_LEVELS=0 "$CSMPQ" run -m "$model" --input "$TMP/x.npy" \
            --output "$TMP/$m.one.npy" -j 2 &&
        cmp -s "$TMP/$m.all.npy" "$TMP/$m.one.npy"
    ok $? "$m: logits on one thread = on two, to the bit"
done
model="$top_srcdir/data/models/fmnist_resnet.onnx"
"$CSMPQ" score -m "$model" "$calib" -j 2 -o "$TMP/all.tsv" &&
    OMP_MAX_ACTIVE_LEVELS=0 "$CSMPQ" score -m "$model" "$calib" -j 2 -o "$TMP/one.tsv" &&
    cmp -s "$TMP/all.tsv" "$TMP/one.tsv"
ok $? "fmnist_resnet: TF-IDF scores on one thread = on two, to the bit"

if [ -n "${CSMPQ_REAL:-}" ]; then      # make check-valgrind's wrapper
    skip "the watch with a busy process" "under the valgrind wrapper"
elif [ "$(nproc)" -lt 2 ] || ! command -v taskset >/dev/null; then
    skip "the watch with a busy process" "needs two cores and taskset"
else
    # csmpq on cores 0 and 1, a process that never sleeps on core 0
    taskset -c 0 sh -c 'while :; do :; done' &
    busy=$!
    taskset -c 0,1 "$CSMPQ" run -m "$model" --input "$TMP/x.npy" --output "$TMP/busy.npy" \
        -j 2 --repeat 200 2>"$TMP/err"
    st=$?
    CSMPQ_ADAPT_THREADS=0 taskset -c 0,1 "$CSMPQ" run -m "$model" --input "$TMP/x.npy" \
        --output "$TMP/fixed.npy" -j 2 --repeat 50 2>"$TMP/err0"
    st0=$?
    kill $busy
    diag "$TMP/err" "$TMP/err0"
    [ $st -eq 0 ] && grep -q "on one thread [0-9]*% of the time" "$TMP/err"
    ok $? "a busy process on one of two cores: run went to one thread and says so"
    [ $st -eq 0 ] && cmp -s "$TMP/busy.npy" "$TMP/fmnist_resnet.all.npy"
    ok $? "the logits then are those of a quiet run, to the bit"
    [ $st0 -eq 0 ] && ! grep -q "on one thread" "$TMP/err0" &&
        cmp -s "$TMP/fixed.npy" "$TMP/fmnist_resnet.all.npy"
    ok $? "CSMPQ_ADAPT_THREADS=0: all threads kept, the same logits"
fi
done_testing
