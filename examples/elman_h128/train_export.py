#!/usr/bin/env python3
# needs: python3-torch python3-onnx python3-sklearn python3-numpy (trains; not run by the tests)
# A larger Elman RNN (issue 4, example b): nn.RNN(8, 128, relu), so each
# hidden neuron has fan-in 8 + 128 = 136, above TrueNorth's 64; sklearn
# digits (rows = 8 time steps of 8 features), Linear(128, 10) on the last
# step of the output sequence y[:, -1].  batch_first, explicit zero h0.
# Opset 13.  calib.npy: 256 training digits; input.npy: 256 test digits.
# Trained as in the 2016 paper (train and constrain): float training, then
# common.constrain_finetune with the TrueNorth constraints emulated
# (activity and weight quantisation, integrate-and-fire count noise);
# the exported ONNX model holds the float weights.
import os
import sys

import torch.nn as nn

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True  # keep examples/ free of __pycache__
sys.path.insert(0, os.path.dirname(HERE))
import common  # noqa: E402

INPUTS, HIDDEN, OPSET, N_TEST, N_CALIB = 8, 128, 13, 256, 256


class ElmanH128(nn.Module):
    def __init__(self):
        super().__init__()
        self.rnn = nn.RNN(INPUTS, HIDDEN, nonlinearity="relu", batch_first=True)
        self.fc = nn.Linear(HIDDEN, 10)

    def forward(self, x):                       # x: (batch, 8, 8)
        h0 = x.new_zeros(1, x.size(0), HIDDEN)
        y, _ = self.rnn(x, h0)                  # y: (batch, 8, HIDDEN)
        return self.fc(y[:, -1])                # logits (batch, 10)


def main():
    common.digits_example(HERE, "elman_h128", ElmanH128, seed=12, epochs=60, lr=2e-3, cosine=True,
                          finetune=common.FINETUNE, opset=OPSET, n_test=N_TEST, n_calib=N_CALIB, about=[
        f"Elman RNN (ReLU, hidden {HIDDEN}: fan-in {INPUTS} + {HIDDEN} = {INPUTS + HIDDEN} per hidden neuron, "
        "above TrueNorth's 64) + Linear(128, 10) on the last step y[:, -1];",
        "sklearn digits, rows as 8 time steps of 8 features.",
    ])


if __name__ == "__main__":
    main()
