#!/usr/bin/env python3
# needs: python3-torch python3-onnx python3-sklearn python3-numpy (trains; not run by the tests)
# Two-layer bidirectional LSTM (nn.LSTM(num_layers=2, bidirectional=True),
# batch_first) on the sklearn digits (rows = 8 time steps of 8 features); the
# classifier reads the top layer's output at the last time step (forward
# direction: whole sequence; backward direction: first step only) and the
# top layer's final backward state.  Explicit zero h0/c0 from the dynamic
# batch size; ONNX opset 14.
import os
import sys

import torch
import torch.nn as nn

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True  # keep examples/ free of __pycache__
sys.path.insert(0, os.path.dirname(HERE))
import common  # noqa: E402

HIDDEN, OPSET = 24, 14


class BiLstmStacked(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(8, HIDDEN, num_layers=2, bidirectional=True,
                            batch_first=True)
        self.fc = nn.Linear(3 * HIDDEN, 10)

    def forward(self, x):                          # x: (batch, 8, 8)
        h0 = torch.zeros(4, x.size(0), HIDDEN)     # (layers*dirs, batch, H)
        c0 = torch.zeros(4, x.size(0), HIDDEN)
        y, (h, _) = self.lstm(x, (h0, c0))         # y: (batch, 8, 2H)
        feat = torch.cat([y[:, -1], h[-1]], dim=1)  # last step fwd+bwd, final bwd
        return self.fc(feat)                       # logits (batch, 10)


def main():
    common.digits_example(HERE, "bilstm_stacked", BiLstmStacked, seed=5, epochs=40, lr=4e-3,
                          opset=OPSET, about=[
        f"2-layer bidirectional LSTM (hidden {HIDDEN} per direction) + Linear; sklearn digits, rows as 8 time steps of 8 features.",
    ])


if __name__ == "__main__":
    main()
