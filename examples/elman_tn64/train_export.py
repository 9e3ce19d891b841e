#!/usr/bin/env python3
# needs: python3-torch python3-onnx python3-sklearn python3-numpy (trains; not run by the tests)
# Elman RNN in the shape of the 2016 TrueNorth paper (issue 4, example a):
# inputs + hidden = 64, so one 64-input recurrent layer and its readout fit
# one 256 x 256 core.  nn.RNN(8, 56, relu) on the sklearn digits (rows = 8
# time steps of 8 features), Linear(56, 10) on the last hidden state h_n.
# batch_first, no explicit h0 (ONNX RNN without initial_h).  Opset 14.
# Besides the usual files, calib.npy holds 256 training digits for the
# calibration of activity ranges; input.npy holds 256 test digits.
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

INPUTS, HIDDEN, OPSET, N_TEST, N_CALIB = 8, 56, 14, 256, 256


class ElmanTN64(nn.Module):
    def __init__(self):
        super().__init__()
        self.rnn = nn.RNN(INPUTS, HIDDEN, nonlinearity="relu", batch_first=True)
        self.fc = nn.Linear(HIDDEN, 10)

    def forward(self, x):             # x: (batch, 8, 8)
        _, h = self.rnn(x)            # h: (1, batch, HIDDEN), the last step
        return self.fc(h[-1])         # logits (batch, 10)


def main():
    common.digits_example(HERE, "elman_tn64", ElmanTN64, seed=11, epochs=60, lr=3e-3, cosine=True,
                          finetune=common.FINETUNE, opset=OPSET, n_test=N_TEST, n_calib=N_CALIB, about=[
        f"Elman RNN in the TrueNorth paper's shape: inputs + hidden = {INPUTS} + {HIDDEN} = 64, ReLU,",
        f"+ Linear({HIDDEN}, 10) on the last hidden state h_n; sklearn digits, rows as 8 time steps of 8 features.",
    ], io=[common.DIGITS_IO, "The ONNX RNN node has no initial_h (zero state)."])


if __name__ == "__main__":
    main()
