#!/bin/sh
# demo.sh — the main job on a bundled example: sets up, inspects the one-core
# Elman example and runs it in float32 (compared with PyTorch's output), then
# converts it to TrueNorth, simulates the emitted model bit-exactly and prints
# the report (accuracy at four stages, cores, power, energy).
set -eu
cd "$(dirname "$0")/.."
./scripts/setup.sh
ex=examples/elman_tn64
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
./build/snnc inspect $ex/model.onnx
./build/snnc run $ex/model.onnx --input $ex/input.npy --output "$out/output.npy"
/usr/bin/python3 - "$out/output.npy" $ex/expected.npy <<'PY'
import sys, numpy as np
got, want = np.load(sys.argv[1]), np.load(sys.argv[2])
print(f"snnc run vs PyTorch: max |difference| = {np.abs(got - want).max():.3g} over {want.size} values")
PY
./build/snnc check $ex/model.onnx --target truenorth --calib $ex/calib.npy
./build/snnc convert $ex/model.onnx --target truenorth -o "$out/tn" --calib $ex/calib.npy
./build/snnc simulate "$out/tn" --input $ex/input.npy --labels $ex/labels.npy
./build/snnc report "$out/tn"
