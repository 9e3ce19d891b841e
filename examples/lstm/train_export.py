#!/usr/bin/env python3
# needs: python3-torch python3-onnx python3-sklearn python3-numpy (trains; not run by the tests)
# LSTM classifier (nn.LSTM, batch_first) + Linear on the sklearn digits (rows =
# 8 time steps of 8 features); the classifier reads the final hidden state
# h_n (the LSTM node's Y_h output).  Dynamic batch; ONNX opset 14.
import os
import sys

import torch.nn as nn

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True  # keep examples/ free of __pycache__
sys.path.insert(0, os.path.dirname(HERE))
import common  # noqa: E402

HIDDEN, OPSET = 40, 14


class LstmClassifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(8, HIDDEN, batch_first=True)
        self.fc = nn.Linear(HIDDEN, 10)

    def forward(self, x):             # x: (batch, 8, 8)
        _, (h, _) = self.lstm(x)      # h: (1, batch, HIDDEN)
        return self.fc(h[-1])         # logits (batch, 10)


def main():
    common.digits_example(HERE, "lstm", LstmClassifier, seed=3, epochs=40, lr=4e-3,
                          opset=OPSET, about=[
        f"LSTM (hidden {HIDDEN}) + Linear on the final hidden state; sklearn digits, rows as 8 time steps of 8 features.",
    ])


if __name__ == "__main__":
    main()
