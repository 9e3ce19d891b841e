#!/usr/bin/python3
# needs: python3-onnx python3-numpy (regenerates tests/check/tiny; not run by the tests)
"""make_tiny.py — writes tests/check/tiny/{model.onnx,calib.npy}, the tiny
Elman network whose `snnc check` figures run_check.sh derives by hand, and
two_class.onnx (readout y = [h, 1.4]) with its parameters in
two_class_params.npy (float32 [W1, W2, U, b, V0, V1, c0, c1]) for the
constraint-cost test.

Needs python3-onnx (and numpy); NOT run by the tests: its output is checked
in.  Re-running it reproduces the files byte for byte.

The network (steps first, one step, ReLU):
    h = relu(W x + U h0 + b),  W = [1, 0.25], U = [1/7], b = 0.5, h0 = 0
    y = v h + c,               v = 2, c = -1
and the calibration batch: the four sign pairs (x1, x2) in {-1, 1}^2, each
twice (8 sequences of one step).  The derivation is in run_check.sh.

usage: /usr/bin/python3 tests/check/make_tiny.py [OUTDIR]
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "tiny")
F = TensorProto.FLOAT


def main():
    os.makedirs(OUT, exist_ok=True)
    write_model("model.onnx", np.array([[2.0]], np.float32), np.array([-1.0], np.float32))
    # The two-class variant (y0 = h, y1 = 1.4) whose constraint cost
    # run_check.sh derives with numpy from two_class_params.npy.
    V, C = np.array([[1.0], [0.0]], np.float32), np.array([0.0, 1.4], np.float32)
    write_model("two_class.onnx", V, C)
    params = np.concatenate([W.ravel(), R.ravel(), B[0, :1] + B[0, 1:], V.ravel(), C])
    np.save(os.path.join(OUT, "two_class_params.npy"), params.astype(np.float32))
    pairs = [(1, 1), (1, -1), (-1, 1), (-1, -1)] * 2
    np.save(os.path.join(OUT, "calib.npy"), np.array([pairs], np.float32))  # [1 step, 8, 2]


W = np.array([[[1.0, 0.25]]], np.float32)              # [directions, hidden, inputs]
R = np.array([[[1.0 / 7]]], np.float32)                # [directions, hidden, hidden]
B = np.array([[0.5, 0.0]], np.float32)                 # [directions, Wb | Rb]


def write_model(name, V, C):
    """The network above with readout weight V [outputs, hidden] and bias C."""
    axes = np.array([0], np.int64)
    nodes = [
        helper.make_node("RNN", ["x", "W", "R", "B"], ["", "h"], name="rnn", hidden_size=1,
                         activations=["Relu"]),
        helper.make_node("Squeeze", ["h", "axes"], ["h2"], name="last"),
        helper.make_node("Gemm", ["h2", "V", "C"], ["y"], name="fc", transB=1),
    ]
    g = helper.make_graph(nodes, "tiny", [helper.make_tensor_value_info("x", F, [1, "batch", 2])],
                          [helper.make_tensor_value_info("y", F, ["batch", V.shape[0]])],
                          initializer=[numpy_helper.from_array(a, n) for a, n in
                                       ((W, "W"), (R, "R"), (B, "B"), (V, "V"), (C, "C"), (axes, "axes"))])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 14)], producer_name="make_tiny")
    m.ir_version = 7
    onnx.checker.check_model(m)
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(m.SerializeToString())


if __name__ == "__main__":
    main()
