#!/usr/bin/env python3
# needs: python3-torch python3-onnx python3-sklearn python3-numpy (trains; not run by the tests)
# nn.RNNCell (tanh) applied in a Python for-loop over the 8 time steps of the
# sklearn digits (rows = time steps of 8 features), then a Linear classifier.
# The export is the unrolled loop: per step Gather(x, t) -> Gemm (input) +
# Gemm (recurrent) -> Add -> Tanh, with a zero h0 built from the dynamic batch
# size.  ONNX opset 14.
import os
import sys

import torch.nn as nn

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True  # keep examples/ free of __pycache__
sys.path.insert(0, os.path.dirname(HERE))
import common  # noqa: E402

HIDDEN, OPSET, STEPS = 48, 14, 8


class RnnCellLoop(nn.Module):
    def __init__(self):
        super().__init__()
        self.cell = nn.RNNCell(8, HIDDEN, nonlinearity="tanh")
        self.fc = nn.Linear(HIDDEN, 10)

    def forward(self, x):                       # x: (batch, 8, 8)
        h = x.new_zeros(x.size(0), HIDDEN)
        for t in range(STEPS):
            h = self.cell(x[:, t], h)
        return self.fc(h)                       # logits (batch, 10)


def main():
    common.digits_example(HERE, "rnncell_loop", RnnCellLoop, seed=6, epochs=40, lr=3e-3,
                          opset=OPSET, about=[
        f"nn.RNNCell (tanh, hidden {HIDDEN}) unrolled by a Python loop over 8 steps, + Linear; sklearn digits rows as time steps.",
    ], io=[common.DIGITS_IO + " The ONNX graph has no RNN node: per step Gather + 2 Gemm + Add + Tanh."])


if __name__ == "__main__":
    main()
