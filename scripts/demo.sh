#!/bin/sh
# demo.sh — the main job on a bundled example: sets up, then inspects the
# LSTM example and runs it in float32, comparing with PyTorch's output.
set -eu
cd "$(dirname "$0")/.."
./scripts/setup.sh
ex=examples/lstm
./build/snnc inspect $ex/model.onnx
out=$(mktemp -d)
./build/snnc run $ex/model.onnx --input $ex/input.npy --output "$out/output.npy"
/usr/bin/python3 - "$out/output.npy" $ex/expected.npy <<'PY'
import sys, numpy as np
got, want = np.load(sys.argv[1]), np.load(sys.argv[2])
print(f"snnc run vs PyTorch: max |difference| = {np.abs(got - want).max():.3g} over {want.size} values")
PY
rm -rf "$out"
