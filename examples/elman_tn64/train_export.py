#!/usr/bin/env python3
# Elman RNN in the shape of the 2016 TrueNorth paper (issue 4, example a):
# inputs + hidden = 64, so one 64-input recurrent layer and its readout fit
# one 256 x 256 core.  nn.RNN(8, 56, relu) on the sklearn digits (rows = 8
# time steps of 8 features), Linear(56, 10) on the last hidden state h_n.
# batch_first, no explicit h0 (ONNX RNN without initial_h).  Opset 14.
# Besides the usual files, calib.npy holds 256 training digits for the
# calibration of activity ranges; input.npy holds 256 test digits.
import os
import sys

import torch
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
    common.seed_all(11)
    xtr, ytr, xte, yte = common.digits_split(seed=0)
    model = ElmanTN64()
    common.train_classifier(model, xtr, ytr, epochs=60, lr=3e-3, seed=11, cosine=True)
    acc = common.accuracy(model, xte, yte)
    acc_in = common.accuracy(model, xte[:N_TEST], yte[:N_TEST])
    print(f"elman_tn64: test accuracy {acc:.4f} on {len(xte)} digits, {acc_in:.4f} on input.npy")
    common.export(model, torch.from_numpy(xte[:4]), os.path.join(HERE, "model.onnx"), OPSET)
    common.save_case(HERE, model, xte[:N_TEST], yte[:N_TEST], extra={"calib.npy": xtr[:N_CALIB]})
    common.write_readme(HERE, [
        "# elman_tn64",
        f"Elman RNN in the TrueNorth paper's shape: inputs + hidden = {INPUTS} + {HIDDEN} = 64, ReLU,",
        f"+ Linear({HIDDEN}, 10) on the last hidden state h_n; sklearn digits, rows as 8 time steps of 8 features.",
        "Input `input` (batch, 8, 8) float32 (batch_first, dynamic batch); output `output` (batch, 10) logits.",
        "The ONNX RNN node has no initial_h (zero state).",
        f"ONNX opset {OPSET}. Test accuracy (PyTorch): {acc:.4f} on the {len(xte)} held-out digits, "
        f"{acc_in:.4f} on the {N_TEST} of input.npy.",
        f"input.npy/expected.npy/labels.npy: the first {N_TEST} test digits; "
        f"calib.npy: the first {N_CALIB} training digits (calibration data for conversion).",
    ])


if __name__ == "__main__":
    main()
