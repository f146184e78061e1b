#!/bin/sh
# Gemm and MatMul of one row (a classifier at batch 1), which csmpq runs as
# sgemv rather than sgemm (src/nn/op_gemm.c), against numpy's float64
# product: every transA / transB, C absent, per column, 1 x N and 1 x 1
# with alpha 0.7 and beta 1.3; MatMul of a row, a stack of rows, a stack
# against a stack, and a vector.  Within 1e-5 of the largest output.
. "$top_srcdir/tests/cli/lib.sh"

$PY - "$CSMPQ" "$TMP" >"$TMP/py" 2>&1 <<'PYEOF'
import os, subprocess, sys
import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
csmpq, tmp = sys.argv[1:3]
rng = np.random.default_rng(1)
def run(node, A, inits, ref, what):
    g = helper.make_graph([node], 'g',
                          [helper.make_tensor_value_info('A', TensorProto.FLOAT, list(A.shape))],
                          [helper.make_tensor_value_info('Y', TensorProto.FLOAT, list(ref.shape))],
                          [numpy_helper.from_array(v, k) for k, v in inits.items()])
    m = os.path.join(tmp, 'g.onnx')
    onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid('', 13)]), m)
    np.save(os.path.join(tmp, 'a.npy'), A)
    r = subprocess.run([csmpq, 'run', '-m', m, '--input', os.path.join(tmp, 'a.npy'),
                        '--output', os.path.join(tmp, 'y.npy')], capture_output=True, text=True)
    y = np.load(os.path.join(tmp, 'y.npy')) if r.returncode == 0 else None
    good = y is not None and y.shape == ref.shape and \
        np.abs(y - ref).max() <= 1e-5 * np.abs(ref).max()
    print('%s %s%s' % ('ok' if good else 'not ok', what, '' if r.returncode == 0 else ': ' + r.stderr.strip()))
    return good
fails = 0
K, N = 37, 23
for ta in (0, 1):
    for tb in (0, 1):
        for cshape in ((), (N,), (1, N), (1, 1)):
            A = rng.standard_normal((K, 1) if ta else (1, K)).astype(np.float32)
            B = rng.standard_normal((N, K) if tb else (K, N)).astype(np.float32)
            inits = {'B': B}
            ref = 0.7 * ((A.T if ta else A).astype(np.float64) @ (B.T if tb else B))
            if cshape:
                inits['C'] = rng.standard_normal(cshape).astype(np.float32)
                ref = ref + 1.3 * inits['C']
            node = helper.make_node('Gemm', ['A', 'B'] + (['C'] if cshape else []), ['Y'],
                                    transA=ta, transB=tb, alpha=0.7, beta=1.3)
            fails += not run(node, A, inits, ref.astype(np.float32),
                             'Gemm transA=%d transB=%d C %s' % (ta, tb, cshape))
for sa, sb in (((1, K), (K, N)), ((3, 1, K), (K, N)), ((3, 1, K), (3, K, N)), ((K,), (K, N))):
    A = rng.standard_normal(sa).astype(np.float32)
    B = rng.standard_normal(sb).astype(np.float32)
    ref = (A.astype(np.float64) @ B).astype(np.float32)
    fails += not run(helper.make_node('MatMul', ['A', 'B'], ['Y']), A, {'B': B}, ref,
                     'MatMul %s x %s' % (sa, sb))
sys.exit(1 if fails else 0)
PYEOF
ok $? "Gemm and MatMul of one row agree with numpy"
diag "$TMP/py"
done_testing
