#!/bin/sh
# csmpq eval (fp32) on the shipped models and images, against what PyTorch
# measured on the same PNG files (scripts/train-reference wrote
# data/models/NAME.accuracy.json and NAME.val.tsv).
. "$top_srcdir/tests/cli/lib.sh"
top_srcdir=$(cd "$top_srcdir" && pwd)
cd "$top_srcdir" || exit 1

for m in fmnist_resnet fmnist_mobilenet; do
    "$CSMPQ" eval -m data/models/$m.onnx data/fmnist/val --json \
        --predictions "$TMP/$m.pred" >"$TMP/$m.json" 2>"$TMP/err"
    ok $? "$m: eval exits 0"
    $PY - "$TMP/$m.json" data/models/$m.accuracy.json >"$TMP/cmp" 2>&1 <<'PYEOF'
import json, sys
got = json.load(open(sys.argv[1])); want = json.load(open(sys.argv[2]))
bad = [k for k in ("top1", "top5") if abs(got["fp32"][k] - want[k]) > 1e-9]
if got["images"] != want["images"]:
    bad.append("images")
print("csmpq %s, PyTorch %s" % (got["fp32"], {k: want[k] for k in ("top1", "top5")}))
sys.exit(1 if bad else 0)
PYEOF
    st=$?
    ok $st "$m: top-1 and top-5 equal PyTorch's ($(cat "$TMP/cmp"))"
    same=$(sort "$TMP/$m.pred" | comm -12 - "$(sort data/models/$m.val.tsv >"$TMP/want"; echo "$TMP/want")" | wc -l)
    [ "$same" -ge 999 ]
    ok $? "$m: predictions identical to PyTorch's on $same of 1000 images"
done

# Text output and a list file give the same numbers.
"$CSMPQ" eval -m data/models/fmnist_resnet.onnx data/fmnist/val >"$TMP/text"
grep -q '^fp32: top1 91.10% top5 100.00%$' "$TMP/text"
ok $? "text output"
for d in data/fmnist/val/*/; do
    c=$(basename "$d")
    for f in "$d"*.png; do printf '%s\t%s\n' "$PWD/$f" "$c"; done
done >"$TMP/val.list"
"$CSMPQ" eval -m data/models/fmnist_resnet.onnx --list "$TMP/val.list" --json >"$TMP/list.json"
$PY -c "import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if abs(d['fp32']['top1']-0.911)<1e-9 else 1)" "$TMP/list.json"
ok $? "--list gives the same top-1"
"$CSMPQ" eval -m data/models/fmnist_resnet.onnx data/fmnist/val --per-class 10 --json >"$TMP/pc.json"
$PY -c "import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if d['images']==100 else 1)" "$TMP/pc.json"
ok $? "--per-class 10 evaluates 100 images"

# A folder with 2 of the model's 10 classes: without --labels folder k is
# output k (7-sneaker would score as output 1), so eval warns once; with
# the model's class list as --labels the mapping is right and no warning.
ls data/fmnist/val >"$TMP/labels"
rm -rf "$TMP/sub" && mkdir -p "$TMP/sub"
cp -r data/fmnist/val/0-tshirt data/fmnist/val/7-sneaker "$TMP/sub/"
"$CSMPQ" eval -m data/models/fmnist_resnet.onnx "$TMP/sub" --json >"$TMP/sub.json" 2>"$TMP/err"
[ $? -eq 0 ] && [ "$(grep -c 'warning: .* has 2 classes but the model has 10 outputs' "$TMP/err")" -eq 1 ]
ok $? "2 of 10 classes without --labels: one warning"
"$CSMPQ" eval -m data/models/fmnist_resnet.onnx "$TMP/sub" --labels "$TMP/labels" --json \
    >"$TMP/sub-l.json" 2>"$TMP/err"
[ $? -eq 0 ] && [ ! -s "$TMP/err" ] &&
    $PY -c "import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if d['fp32']['top1']>0.8 else 1)" "$TMP/sub-l.json"
ok $? "the same folder with --labels: no warning, top-1 as on the full set ($(cat "$TMP/sub-l.json"))"

# Global options after the subcommand, as users type them.
"$CSMPQ" eval -q -m data/models/fmnist_resnet.onnx "$TMP/sub" --labels "$TMP/labels" --json \
    --max-memory 4GiB >"$TMP/q.json"
sed 's/"images_per_s": [0-9.]*//' "$TMP/q.json" >"$TMP/q1"
sed 's/"images_per_s": [0-9.]*//' "$TMP/sub-l.json" >"$TMP/q2"
[ -s "$TMP/q1" ] && cmp -s "$TMP/q1" "$TMP/q2"
ok $? "-q and --max-memory accepted after 'eval'"
expect_error 2 "max-memory" "bad --max-memory after the subcommand is a usage error" -- \
    "$CSMPQ" eval --max-memory lots -m data/models/fmnist_resnet.onnx "$TMP/sub"

# Bad images: one line naming the file and exit 1, or with --skip-bad a
# warning each and a count at the end.
I=$top_srcdir/tests/fixtures/images
mk() {  # mk NAME BADFILE TARGETNAME: two classes of good PNGs plus one bad file
    rm -rf "$TMP/$1"
    mkdir -p "$TMP/$1/0-tshirt" "$TMP/$1/1-trouser"
    for c in 0-tshirt 1-trouser; do
        cp $(ls data/fmnist/val/$c/*.png | head -n 2) "$TMP/$1/$c/"
    done
    cp "$2" "$TMP/$1/1-trouser/$3"
}
for case in "zero-byte:$I/empty.png:x.png:x.png" "truncated-png:$I/trunc.png:x.png:x.png" \
            "truncated-jpeg:$I/trunc.jpg:x.jpg:x.jpg" "bad-crc:$I/badcrc.png:x.png:x.png" \
            "text-as-png:$I/text.png:x.png:x.png" "huge:$I/huge.png:x.png:x.png" \
            "png-named-jpg:$I/png-named.jpg:x.jpg:x.jpg"; do
    name=${case%%:*}; rest=${case#*:}; src=${rest%%:*}; rest=${rest#*:}; tgt=${rest%%:*}
    mk "$name" "$src" "$tgt"
    expect_error 1 "1-trouser/$tgt" "$name: one line naming the file, exit 1" -- \
        "$CSMPQ" eval -m data/models/fmnist_resnet.onnx "$TMP/$name" --labels "$TMP/labels"
    "$CSMPQ" eval -m data/models/fmnist_resnet.onnx "$TMP/$name" --labels "$TMP/labels" --skip-bad --json \
        >"$TMP/out" 2>"$TMP/err"
    st=$?
    [ $st -eq 0 ] && grep -q "warning: .*1-trouser/$tgt" "$TMP/err" &&
        grep -q "skipped 1 unreadable image" "$TMP/err" && grep -q '"images": 4' "$TMP/out"
    ok $? "$name: --skip-bad warns, skips it and counts it"
done
huge_msg=$("$CSMPQ" eval -m data/models/fmnist_resnet.onnx "$TMP/huge" 2>&1)
echo "$huge_msg" | grep -q "pixels"
ok $? "over-large image refused before decoding ($huge_msg)"
"$CSMPQ" --max-memory 1TiB eval -m data/models/fmnist_resnet.onnx "$TMP/huge" --max-pixels 100000000000 >/dev/null 2>"$TMP/err"
[ $? -ne 0 ] && ! grep -q "pixels" "$TMP/err"
ok $? "--max-pixels lifts the limit (the image then fails on its missing data)"

mkdir -p "$TMP/noimg/a" "$TMP/noimg/b"
cp "$(ls data/fmnist/val/0-tshirt/*.png | head -n 1)" "$TMP/noimg/a/"
expect_error 1 "noimg/b" "class folder with no images" -- \
    "$CSMPQ" eval -m data/models/fmnist_resnet.onnx "$TMP/noimg"
mkdir -p "$TMP/one/a"
cp "$(ls data/fmnist/val/0-tshirt/*.png | head -n 1)" "$TMP/one/a/"
expect_error 1 "class" "a folder with one class where classes are needed" -- \
    "$CSMPQ" eval -m data/models/fmnist_resnet.onnx "$TMP/one"
expect_error 2 "no images given" "no folder" -- "$CSMPQ" eval -m data/models/fmnist_resnet.onnx
expect_error 1 "cannot open directory '[^']*missing-dir'" "missing folder" -- \
    "$CSMPQ" eval -m data/models/fmnist_resnet.onnx "$TMP/missing-dir"
done_testing
