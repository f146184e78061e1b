#!/bin/sh
# The error contract (DESIGN.md section 9), table-driven, across every
# subcommand: each bad input exits 1 (bad input), 2 (bad usage) or 3 (no
# assignment fits), prints exactly one stderr line that names the file or
# option, nothing on stdout, and leaves no output file (nor a temporary
# one) behind in the output directory $O.
. "$top_srcdir/tests/cli/lib.sh"

M=$top_srcdir/data/models/fmnist_resnet.onnx
BAD=$top_srcdir/tests/fixtures/bad
CALIB=$top_srcdir/data/fmnist/calib
T=$TMP
O=$TMP/o
mkdir -p "$O" "$T/adir" "$T/data/a" "$T/data/b" "$T/one/a" "$T/big/x"
cp "$CALIB/0-tshirt/train-00001.png" "$CALIB/0-tshirt/train-00002.png" "$T/data/a/"
cp "$CALIB/1-trouser/"*.png "$T/data/b/" 2>/dev/null
cp "$CALIB/0-tshirt/train-00001.png" "$CALIB/0-tshirt/train-00002.png" "$T/one/a/"
D=$T/data

# Score tables: a good one, and one broken way each.
H='#layer	op	params	macs	score'
S=$T/good.tsv
printf '%s\nconv1\tConv\t144\t112896\t0.5\nfc\tGemm\t640\t640\t0.25\n' "$H" >"$S"
printf '#layer\top\tparams\tmacs\nconv1\tConv\t144\t112896\n' >"$T/nocol.tsv"
printf '%s\nconv1\tConv\t-144\t112896\t0.5\n' "$H" >"$T/neg.tsv"
printf '%s\nconv1\tConv\t144\t112896\t0.5\nconv1\tConv\t144\t112896\t0.5\n' "$H" >"$T/dup.tsv"
printf '%s\nconv1\tConv\t144\t112896\tnan\n' "$H" >"$T/nan.tsv"
printf '%s\na\tConv\t9223372036854775807\t1\t0.5\nb\tConv\t9\t1\t0.5\n' "$H" >"$T/huge.tsv"

# Arrays for run: not an .npy file, and a well-formed one of the wrong shape.
printf 'not an array\n' >"$T/bad.npy"
$PY - "$T/x.npy" "$T/wrong.npy" "$T/big/x/big.png" <<'PY'
import struct, sys, zlib
def npy(path, shape):
    hdr = "{'descr': '<f4', 'fortran_order': False, 'shape': %s, }" % (shape,)
    hdr += " " * (63 - (10 + len(hdr)) % 64) + "\n"
    n = 1
    for d in shape:
        n *= d
    with open(path, "wb") as f:
        f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(hdr)) + hdr.encode())
        f.write(b"\0" * 4 * n)
npy(sys.argv[1], (1, 1, 28, 28))    # what the model takes
npy(sys.argv[2], (1, 3, 28, 28))    # the model wants (N, 1, 28, 28)
# a 1200 x 1000 gray PNG: 1.14 MiB of pixels, over --max-memory 1MiB
w, h = 1200, 1000
def chunk(t, d):
    return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d))
raw = b"".join(b"\0" + b"\x80" * w for _ in range(h))
with open(sys.argv[3], "wb") as f:
    f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))
PY

# status|regex that stderr must match|arguments (expanded by the shell)
while IFS='|' read -r status pat args; do
    case "$status" in ''|'#'*) continue ;; esac
    eval "set -- $args"
    rm -rf "$O" && mkdir -p "$O"
    expect_error "$status" "$pat" "$status: csmpq $args" -- "$CSMPQ" "$@"
    case "$args" in
        *'$O'*)
            left=$(ls -A "$O")
            [ -z "$left" ]
            ok $? "no output or temporary file left by: csmpq $args"
            [ -z "$left" ] || echo "# left behind: $left" ;;
    esac
done <<'TABLE'
# global
2|'bogus' is not a command|bogus
2|unknown option '--frob'|--frob info "$M"
2|--max-memory '0'|--max-memory 0 info "$M"
2|--max-memory '12XB'|--max-memory 12XB info "$M"
# info
1|'[^']*/nope\.onnx'|info "$T/nope.onnx"
1|'[^']*/adir'.*directory|info "$T/adir"
1|truncated\.onnx'?: not an ONNX model|info "$BAD/truncated.onnx"
1|cannot read '/dev/zero': not a regular file|info /dev/zero
1|image\.onnx'?: not an ONNX model|info "$BAD/image.onnx"
2|no model given|info
2|unknown option '--bogus'|info --bogus "$M"
1|fmnist_resnet\.onnx'?: model needs at least 0\.53 MiB for its weights, over the memory limit of 0\.50 MiB; --max-memory sets the limit|--max-memory 512KiB info "$M"
# run
1|bad\.npy|run -m "$M" --input "$T/bad.npy" --output "$O/y.npy"
1|wrong\.npy'?: input 'input' of '[^']*fmnist_resnet\.onnx': dimension 1 is 3, the model expects 1|run -m "$M" --input "$T/wrong.npy" --output "$O/y.npy"
2|--output|run -m "$M" --input "$T/x.npy"
2|--input|run -m "$M" --output "$O/y.npy"
1|'/nonexistent/dir/y\.npy'|run -m "$M" --input "$T/x.npy" --output /nonexistent/dir/y.npy
1|'[^']*/nope\.npy'|run -m "$M" --input "$T/nope.npy" --output "$O/y.npy"
# score
2|--docs|score -m "$M" "$D" --docs bogus -o "$O/s.tsv"
2|--crop|score -m "$M" "$D" --crop 0 -o "$O/s.tsv"
2|--batch|score -m "$M" "$D" --batch 0 -o "$O/s.tsv"
2|--coe|score -m "$M" "$D" --coe x -o "$O/s.tsv"
2|-m|score "$D" -o "$O/s.tsv"
1|'[^']*/nodir'|score -m "$M" "$T/nodir" -o "$O/s.tsv"
1|'/nonexistent/dir/out\.tsv'|score -m "$M" "$D" -o /nonexistent/dir/out.tsv
1|fmnist_resnet\.onnx'?: batch [0-9]+ needs [0-9.]+ MiB of activations, over the memory limit of 2\.0 MiB: try a smaller batch; --max-memory sets the limit|--max-memory 2MiB score -m "$M" "$D" --batch 64 -o "$O/s.tsv"
1|big\.png'?: 1200x1000 pixels need more than the memory limit of 1\.0 MiB; --max-memory sets the limit|--max-memory 1MiB score -m "$M" "$T/big" --docs samples --batch 1 -o "$O/s.tsv"
# allocate
2|--size '12XB'|allocate --scores "$S" --size 12XB -o "$O/b.tsv"
2|--bops '-5'|allocate --scores "$S" --bops -5 -o "$O/b.tsv"
2|--avg-bits 'abc'|allocate --scores "$S" --avg-bits abc -o "$O/b.tsv"
2|--wbits '2,2'|allocate --scores "$S" --avg-bits 4 --wbits 2,2 -o "$O/b.tsv"
2|--wbits '0,40'|allocate --scores "$S" --avg-bits 4 --wbits 0,40 -o "$O/b.tsv"
2|--pin 'conv1'|allocate --scores "$S" --avg-bits 4 --pin conv1 -o "$O/b.tsv"
2|--pin 'conv1=99'|allocate --scores "$S" --avg-bits 4 --pin conv1=99 -o "$O/b.tsv"
2|no layer named 'nosuch' to pin|allocate --scores "$S" --avg-bits 4 --pin nosuch=4 -o "$O/b.tsv"
2|--tie 'conv1'|allocate --scores "$S" --avg-bits 4 --tie conv1 -o "$O/b.tsv"
2|--format|allocate --scores "$S" --avg-bits 4 --format xml -o "$O/b.tsv"
2|budget|allocate --scores "$S" -o "$O/b.tsv"
1|nocol\.tsv|allocate --scores "$T/nocol.tsv" --avg-bits 4 -o "$O/b.tsv"
1|neg\.tsv|allocate --scores "$T/neg.tsv" --avg-bits 4 -o "$O/b.tsv"
1|dup\.tsv.*conv1|allocate --scores "$T/dup.tsv" --avg-bits 4 -o "$O/b.tsv"
1|huge\.tsv' line 2: params or macs add up to more than 9e15|allocate --scores "$T/huge.tsv" --avg-bits 4 -o "$O/b.tsv"
1|nan\.tsv|allocate --scores "$T/nan.tsv" --avg-bits 4 -o "$O/b.tsv"
1|cannot read '/dev/zero': not a regular file|allocate --scores /dev/zero --avg-bits 4 -o "$O/b.tsv"
1|'[^']*/nope\.tsv'|allocate --scores "$T/nope.tsv" --avg-bits 4 -o "$O/b.tsv"
1|'[^']*/adir'|allocate --scores "$T/adir" --avg-bits 4 -o "$O/b.tsv"
1|'/nonexistent/dir/out\.tsv'|allocate --scores "$S" --avg-bits 4 -o /nonexistent/dir/out.tsv
3|smallest the candidate widths, pins and ties allow is size 196 bytes|allocate --scores "$S" --size 10B -o "$O/b.tsv"
# analyze
1|one' has images of 1 class; class separability needs at least 2|analyze -m "$M" "$T/one" --avg-bits 4 -o "$O/b.tsv" --scores-out "$O/s.tsv"
2|budget|analyze -m "$M" "$D" -o "$O/b.tsv"
2|--tie|analyze -m "$M" "$D" --avg-bits 4 --tie conv1 -o "$O/b.tsv"
3|no bit assignment fits the budget.*smallest|analyze -m "$M" "$D" --size 1KiB -o "$O/b.tsv" --scores-out "$O/s.tsv"
1|'/nonexistent/dir/s\.tsv'|analyze -m "$M" "$D" --avg-bits 4 -o "$O/b.tsv" --scores-out /nonexistent/dir/s.tsv
1|truncated\.onnx|analyze -m "$BAD/truncated.onnx" "$D" --avg-bits 4 -o "$O/b.tsv"
# eval
1|'[^']*/nope\.onnx'|eval -m "$T/nope.onnx" "$D"
2|--batch|eval -m "$M" "$D" --batch 0
2|--crop|eval -m "$M" "$D" --crop 0
2|--per-class|eval -m "$M" "$D" --per-class x
1|'/nonexistent/dir/p\.tsv'|eval -m "$M" "$D" --predictions /nonexistent/dir/p.tsv
1|'[^']*/nodir'|eval -m "$M" "$T/nodir" --predictions "$O/p.tsv"
# export
1|'[^']*/nope\.onnx'|export -m "$T/nope.onnx" -b "$S" --calib "$D" -o "$O/x.onnx"
1|truncated\.onnx|export -m "$BAD/truncated.onnx" -b "$S" --calib "$D" -o "$O/x.onnx"
1|'[^']*/good\.tsv'|export -m "$M" -b "$S" --calib "$D" -o "$O/x.onnx"
1|'[^']*/nodir'|export -m "$M" -b "$top_srcdir/tests/fixtures/export/fmnist_resnet.w8a8.bits.tsv" --calib "$T/nodir" -o "$O/x.onnx"
2|--quantizer|export -m "$M" -b "$S" --calib "$D" --quantizer foo -o "$O/x.onnx"
2|--batch|export -m "$M" -b "$S" --calib "$D" --batch 0 -o "$O/x.onnx"
2|unexpected argument|export -m "$M" -b "$S" "$D" -o "$O/x.onnx"
TABLE
done_testing
