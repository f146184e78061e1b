#!/bin/sh
# Values kept in oneDNN's layouts between nodes (NHWC, nChw16c, nChw8c with
# zero-padded channels; src/nn/engine.c): a chain of convolutions with
# channel counts no block divides (5, 7, 13, 6), a depthwise one, MaxPool
# and AveragePool (with and without the padding counted), a residual Add
# with Relu, Clip, Sigmoid * x, a squeeze-excite scale
# (GlobalAveragePool, conv, Sigmoid, broadcast Mul), constant per-channel
# scale and shift of a batch's one image (1 x C x 1 x 1, first and second
# operand; after the squeeze-excite, Relu(u - x) and Relu(x + t), whose
# second Relu the Add runs, then a MaxPool and an AveragePool of 13
# channels added to their input, which keep its padded blocks), a 1x1 and
# a strided
# conv, SiLUs (x * Sigmoid(x) and Sigmoid(x) * x, which Convs run by oneDNN fold
# in; one whose x has a third reader, which they do not) after a conv and a
# depthwise conv feeding convs, GlobalAveragePool and GlobalMaxPool at the end,
# against PyTorch's forward of the same module, under each CSMPQ_ISA (the
# default, AVX2's 8-channel blocks, and the portable path that keeps NCHW),
# and on two emulated x86-64 CPUs (qemu-x86_64 -cpu, Debian's qemu-user)
# that no machine we run on is: Nehalem (no AVX: oneDNN's SSE4.1 kernels,
# values kept in NCHW) and SandyBridge (AVX, no AVX2: oneDNN's AVX kernels
# on nChw8c, and GCC's function clones take their plain x86-64 bodies on
# the blocks); there and on this machine also with parallel regions held
# to one thread.  csmpq sets its wait policy by executing itself again, which
# would leave the emulator; the variables it would set are given, so it
# does not.
. "$top_srcdir/tests/cli/lib.sh"

$PY - "$TMP" <<'PYEOF' >"$TMP/gen" 2>&1
import sys, numpy as np, torch, torch.nn as nn, torch.nn.functional as F
torch.manual_seed(5)
class M(nn.Module):
    def __init__(s):
        super().__init__()
        s.a = nn.Conv2d(3, 5, 3, padding=1)
        s.b = nn.Conv2d(5, 7, 3, padding=1)
        s.c = nn.Conv2d(5, 7, 1)
        s.d = nn.Conv2d(7, 7, 3, padding=1, groups=7)
        s.e = nn.Conv2d(7, 13, 3, stride=2, padding=1)
        s.f = nn.Conv2d(13, 6, 1)
        s.se = nn.Conv2d(13, 13, 1)
        s.g = nn.Conv2d(6, 9, 3, padding=1)
        s.h = nn.Conv2d(9, 9, 3, padding=1, groups=9)
        s.k = nn.Conv2d(9, 6, 1)
        s.w = nn.Parameter(torch.randn(1, 6, 1, 1))
        s.v = nn.Parameter(torch.randn(1, 6, 1, 1))
        s.u = nn.Parameter(torch.randn(1, 13, 1, 1))
        s.t = nn.Parameter(torch.randn(1, 13, 1, 1))
    def forward(s, x):
        a = F.max_pool2d(torch.relu(s.a(x)), 3, 2, 1)
        r = torch.relu(s.b(a) + s.c(a))
        d = torch.clamp(s.d(r), 0.0, 6.0)
        d = F.avg_pool2d(d, 3, 1, 1) + F.avg_pool2d(d, 2, 1, 1, count_include_pad=False)[:, :, :-1, :-1]
        e = s.e(d)
        e = e * torch.sigmoid(e)
        e = e * torch.sigmoid(s.se(F.adaptive_avg_pool2d(e, 1)))
        e = torch.relu(torch.relu(s.u - e) + s.t)
        e = e + F.max_pool2d(e, 3, 1, 1) + F.avg_pool2d(e, 3, 1, 1, count_include_pad=False)
        f = s.f(e)
        g = s.g(f)
        g = g * torch.sigmoid(g)
        h = s.h(g)
        h = torch.sigmoid(h) * h
        k = s.k(h)
        f = s.w * (f + k * torch.sigmoid(k) + k) - s.v
        return torch.cat([F.adaptive_avg_pool2d(f, 1), F.adaptive_max_pool2d(f, 1)], 1).flatten(1)
m = M().eval()
x = torch.randn(3, 3, 33, 37)
with torch.no_grad():
    y = m(x)
torch.onnx.export(m, x, sys.argv[1] + "/m.onnx", opset_version=13, input_names=["x"],
                  output_names=["y"], dynamic_axes={"x": {0: "n"}, "y": {0: "n"}})
np.save(sys.argv[1] + "/x.npy", x.numpy())
np.save(sys.argv[1] + "/ref.npy", y.numpy())
PYEOF
ok $? "model and PyTorch reference written"
# judge LABEL COMMAND...: COMMAND runs csmpq on the model; its output
# against PyTorch's
judge() {
    label=$1
    shift
    "$@" run -m "$TMP/m.onnx" --input "$TMP/x.npy" --output "$TMP/y.npy" -j 2 2>"$TMP/err"
    ok $? "$label: run exits 0"
    npy_close "$TMP/y.npy" "$TMP/ref.npy" 1e-4 >"$TMP/cmp" 2>&1
    ok $? "$label: output matches PyTorch ($(cat "$TMP/cmp"))"
}
judge default "$CSMPQ"
judge avx2 env CSMPQ_ISA=avx2 "$CSMPQ"
judge portable env CSMPQ_ISA=portable "$CSMPQ"
# parallel regions held to one thread, as the thread watch does on a busy
# machine (src/nn/threads.c), with the plan made for two
judge "default, regions on one thread" env OMP_MAX_ACTIVE_LEVELS=0 "$CSMPQ"
if grep -qa __asan_init "$CSMPQ"; then
    # AddressSanitizer's shadow memory under qemu-user exhausts the machine
    skip "emulated CPUs without AVX2: output matches PyTorch" "a sanitizer build"
elif command -v qemu-x86_64 >/dev/null && [ "$(uname -m)" = x86_64 ]; then
    for cpu in Nehalem:"avx512f 0 avx2 0 avx 0" SandyBridge:"avx512f 0 avx2 0 avx 1"; do
        has=$(qemu-x86_64 -cpu "${cpu%%:*}" "$top_builddir/tests/tools/cpu-has" 2>/dev/null)
        test "$has" = "${cpu#*:}"
        ok $? "${cpu%%:*}: the emulated CPU is the one asked for ($has)"
        judge "${cpu%%:*}" env OMP_WAIT_POLICY=PASSIVE OPENBLAS_THREAD_TIMEOUT=4 \
            qemu-x86_64 -cpu "${cpu%%:*}" "$CSMPQ"
    done
    # oneDNN's gemm convolutions (AVX, no AVX2) split their work before
    # their region starts: they must be told it has one thread
    judge "SandyBridge, regions on one thread" env OMP_MAX_ACTIVE_LEVELS=0 \
        OMP_WAIT_POLICY=PASSIVE OPENBLAS_THREAD_TIMEOUT=4 qemu-x86_64 -cpu SandyBridge "$CSMPQ"
else
    skip "emulated CPUs without AVX2: output matches PyTorch" \
        "qemu-x86_64 is not installed (scripts/install-deps)"
fi
done_testing
