#!/usr/bin/env python3
# needs: python3-torch python3-onnx python3-sklearn python3-numpy (trains; not run by the tests)
# GRU classifier (nn.GRU, batch_first) on the sklearn digits (rows = 8 time
# steps of 8 features): the per-step outputs are averaged over time
# (ReduceMean) and fed to a Linear layer.  Dynamic batch; ONNX opset 13
# (Squeeze/Unsqueeze take axes as an input from opset 13 on).
import os
import sys

import torch.nn as nn

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True  # keep examples/ free of __pycache__
sys.path.insert(0, os.path.dirname(HERE))
import common  # noqa: E402

HIDDEN, OPSET = 40, 13


class GruClassifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.gru = nn.GRU(8, HIDDEN, batch_first=True)
        self.fc = nn.Linear(HIDDEN, 10)

    def forward(self, x):                  # x: (batch, 8, 8)
        h0 = x.new_zeros(1, x.size(0), HIDDEN)
        y, _ = self.gru(x, h0)             # y: (batch, 8, HIDDEN)
        return self.fc(y.mean(dim=1))      # logits (batch, 10)


def main():
    common.digits_example(HERE, "gru", GruClassifier, seed=4, epochs=60, lr=6e-3,
                          opset=OPSET, about=[
        f"GRU (hidden {HIDDEN}), outputs averaged over time, + Linear; sklearn digits, rows as 8 time steps of 8 features.",
    ])


if __name__ == "__main__":
    main()
