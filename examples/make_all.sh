#!/bin/sh
# needs: python3-torch python3-onnx python3-sklearn python3-numpy dataset-fashion-mnist (not run by the tests)
# Re-train and re-export every example (model.onnx, input.npy, expected.npy,
# labels.npy, README.md) with Debian's PyTorch.  Deterministic (fixed seeds,
# one thread); takes a few minutes on a CPU.  Not run by CI: the committed
# outputs are what the tests use.
set -eu
cd "$(dirname "$0")"
PYTHON=${PYTHON:-/usr/bin/python3}
for ex in elman_relu elman_tanh lstm gru bilstm_stacked rnncell_loop relational lowpass_addition \
          elman_tn64 elman_h128 fashion28; do
    echo "== $ex"
    "$PYTHON" "$ex/train_export.py"
done
