#!/usr/bin/env python3
# needs: python3-torch python3-onnx python3-sklearn python3-numpy (trains; not run by the tests)
# Elman RNN with tanh (nn.RNN) + Linear classifier on the sklearn digits (rows
# = 8 time steps of 8 features).  Sequence-first layout: the ONNX input is
# (time, batch, features) with a dynamic batch on axis 1, no Transpose in
# front of the RNN node and no explicit h0.  ONNX opset 14.  calib.npy: 256
# training digits (sequence-first, like the input) for snnc convert.
import os
import sys

import torch.nn as nn

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True  # keep examples/ free of __pycache__
sys.path.insert(0, os.path.dirname(HERE))
import common  # noqa: E402

HIDDEN, OPSET = 48, 14


class ElmanTanh(nn.Module):
    def __init__(self):
        super().__init__()
        self.rnn = nn.RNN(8, HIDDEN, nonlinearity="tanh")  # sequence-first
        self.fc = nn.Linear(HIDDEN, 10)

    def forward(self, x):             # x: (8, batch, 8)
        _, h = self.rnn(x)            # h: (1, batch, HIDDEN) = last step
        return self.fc(h[0])          # logits (batch, 10)


def main():
    common.digits_example(HERE, "elman_tanh", ElmanTanh, seed=2, epochs=40, lr=3e-3,
                          opset=OPSET, seq_first=True, n_test=256, n_calib=256, about=[
        "Elman RNN (tanh, hidden 48) + Linear on sklearn digits, rows as 8 time steps of 8 features.",
    ], io=[
        "Input `input` (8, batch, 8) float32, SEQUENCE-FIRST (time, batch, features), dynamic batch on axis 1;"
        " output `output` (batch, 10) logits.",
    ])


if __name__ == "__main__":
    main()
