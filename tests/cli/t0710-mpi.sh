#!/bin/sh
# mpirun -n 2 (and -n 1) against the plain run: score (TF-IDF), analyze
# (the kl criterion), eval, the sqnr, noise and clado passes must give
# byte-identical tables, bit configs and eval numbers (the speed field of
# eval --json aside); rank 0 alone writes.
# Runs when csmpq is built --with-mpi (./configure --with-mpi), else skips.
. "$top_srcdir/tests/cli/lib.sh"
top_srcdir=$(cd "$top_srcdir" && pwd)
if ! "$CSMPQ" --version | grep -q '(MPI)' || [ -z "${MPIRUN:-}" ]; then
    echo "1..0 # SKIP csmpq is not built --with-mpi"
    exit 0
fi
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_btl=self,vader
M=$top_srcdir/data/models/fmnist_mobilenet.onnx
T=$top_srcdir/tests/fixtures/clado/tiny.onnx
CAL=$top_srcdir/data/fmnist/calib
cd "$TMP" || exit 1
mpi() { n=$1; shift; "$MPIRUN" --oversubscribe -n "$n" "$CSMPQ" "$@"; }
nospeed() { sed 's/, "images_per_s": [0-9.]*//' "$1"; }

"$CSMPQ" score -q -j 1 -m "$M" "$CAL" -o s1.tsv &&
    mpi 2 score -q -j 1 -m "$M" "$CAL" -o s2.tsv && cmp -s s1.tsv s2.tsv
ok $? "score: mpirun -n 2 writes the plain run's table, byte for byte"
mpi 1 score -q -j 1 -m "$M" "$CAL" -o s3.tsv && cmp -s s1.tsv s3.tsv
ok $? "score: mpirun -n 1 too"
"$CSMPQ" analyze -q -j 1 -m "$M" "$CAL" --avg-bits 3 -o a1.tsv &&
    mpi 2 analyze -q -j 1 -m "$M" "$CAL" --avg-bits 3 -o a2.tsv && cmp -s a1.tsv a2.tsv
ok $? "analyze: the same bit config under mpirun -n 2"
"$CSMPQ" eval -q -j 1 -m "$M" -b a1.tsv --calib "$CAL" "$CAL" --json >e1.json &&
    mpi 2 eval -q -j 1 -m "$M" -b a1.tsv --calib "$CAL" "$CAL" --json >e2.json &&
    [ "$(nospeed e1.json)" = "$(nospeed e2.json)" ]
ok $? "eval: the same numbers under mpirun -n 2"
[ "$(wc -l <e2.json)" -eq 1 ]
ok $? "rank 0 alone prints"
"$CSMPQ" score -q -j 1 -m "$T" "$CAL" --criterion clado --clado-images 16 -o c1.tsv &&
    mpi 2 score -q -j 1 -m "$T" "$CAL" --criterion clado --clado-images 16 -o c2.tsv &&
    cmp -s c1.tsv c2.tsv
ok $? "clado: the same pair table under mpirun -n 2"
"$CSMPQ" score -q -j 1 -m "$M" "$CAL" --criterion sqnr -o q1.tsv &&
    mpi 2 score -q -j 1 -m "$M" "$CAL" --criterion sqnr -o q2.tsv && cmp -s q1.tsv q2.tsv
ok $? "sqnr: the same cost table under mpirun -n 2 (each rank measures its own layers)"
"$CSMPQ" score -q -j 1 -m "$M" "$CAL" --criterion noise -o n1.tsv &&
    mpi 2 score -q -j 1 -m "$M" "$CAL" --criterion noise -o n2.tsv && cmp -s n1.tsv n2.tsv
ok $? "noise: the same cost table under mpirun -n 2 (statistics split by layer)"
mpi 2 score -q -m "$TMP/missing.onnx" "$CAL" -o x.tsv 2>err.txt
[ $? -ne 0 ] && [ "$(grep -c "missing.onnx" err.txt)" -eq 1 ] && [ ! -e x.tsv ]
ok $? "a failure under mpirun: one message naming the file, no output"
diag err.txt
# A failure on one rank only: with --batch 30, batch 1 (rank 1's) holds
# the five images of an eleventh class the model has no output for.
mkdir -p odd
for d in "$CAL"/*/; do
    c=$(basename "$d")
    mkdir -p "odd/$c"
    for f in $(ls "$d" | head -3); do cp "$d/$f" "odd/$c/"; done
done
mkdir -p odd/zz-extra
for f in $(ls "$CAL/0-tshirt" | tail -5); do cp "$CAL/0-tshirt/$f" odd/zz-extra/; done
"$CSMPQ" eval -q -j 1 --batch 30 -m "$M" --wbits-all 8 --calib "$CAL" odd >/dev/null 2>err1.txt
st1=$?
mpi 2 eval -q -j 1 --batch 30 -m "$M" --wbits-all 8 --calib "$CAL" odd >out2.txt 2>err2.txt
st2=$?
[ "$st1" -eq 1 ] && [ "$st2" -ne 0 ] && [ ! -s out2.txt ] &&
    [ "$(grep -c 'has no output' err2.txt)" -eq 1 ] &&
    [ "$(grep 'has no output' err1.txt)" = "$(grep 'has no output' err2.txt)" ]
ok $? "a failure on rank 1 alone: every rank stops, rank 0 prints its one message"
diag err2.txt
done_testing
