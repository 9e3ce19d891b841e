#!/usr/bin/env python3
# needs: python3-torch python3-onnx python3-sklearn python3-numpy (trains; not run by the tests)
# Elman RNN with ReLU (nn.RNN(nonlinearity='relu')) + Linear classifier on the
# sklearn digits: each 8x8 image is read row by row as 8 time steps of 8
# features.  batch_first, explicit zero h0 built from the dynamic batch size;
# exported with ONNX opset 11 (Unsqueeze/Squeeze axes as attributes).
import os
import sys

import torch
import torch.nn as nn

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True  # keep examples/ free of __pycache__
sys.path.insert(0, os.path.dirname(HERE))
import common  # noqa: E402

HIDDEN, OPSET = 48, 11


class ElmanRelu(nn.Module):
    def __init__(self):
        super().__init__()
        self.rnn = nn.RNN(8, HIDDEN, nonlinearity="relu", batch_first=True)
        self.fc = nn.Linear(HIDDEN, 10)

    def forward(self, x):                       # x: (batch, 8, 8)
        h0 = torch.zeros(1, x.size(0), HIDDEN)  # Shape->Gather->...->ConstantOfShape
        y, _ = self.rnn(x, h0)
        return self.fc(y[:, -1])                # logits (batch, 10)


def main():
    common.digits_example(HERE, "elman_relu", ElmanRelu, seed=1, epochs=40, lr=2e-3,
                          opset=OPSET, about=[
        "Elman RNN (ReLU, hidden 48) + Linear on sklearn digits, rows as 8 time steps of 8 features.",
    ])


if __name__ == "__main__":
    main()
