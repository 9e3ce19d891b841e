#!/usr/bin/env python3
# A larger Elman RNN (issue 4, example b): nn.RNN(8, 128, relu), so each
# hidden neuron has fan-in 8 + 128 = 136, above TrueNorth's 64; sklearn
# digits (rows = 8 time steps of 8 features), Linear(128, 10) on the last
# step of the output sequence y[:, -1].  batch_first, explicit zero h0.
# Opset 13.  calib.npy: 256 training digits; input.npy: 256 test digits.
import os
import sys

import torch
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
    common.seed_all(12)
    xtr, ytr, xte, yte = common.digits_split(seed=0)
    model = ElmanH128()
    common.train_classifier(model, xtr, ytr, epochs=60, lr=2e-3, seed=12, cosine=True)
    acc = common.accuracy(model, xte, yte)
    acc_in = common.accuracy(model, xte[:N_TEST], yte[:N_TEST])
    print(f"elman_h128: test accuracy {acc:.4f} on {len(xte)} digits, {acc_in:.4f} on input.npy")
    common.export(model, torch.from_numpy(xte[:4]), os.path.join(HERE, "model.onnx"), OPSET)
    common.save_case(HERE, model, xte[:N_TEST], yte[:N_TEST], extra={"calib.npy": xtr[:N_CALIB]})
    common.write_readme(HERE, [
        "# elman_h128",
        f"Elman RNN (ReLU, hidden {HIDDEN}: fan-in {INPUTS} + {HIDDEN} = {INPUTS + HIDDEN} per hidden neuron, "
        "above TrueNorth's 64) + Linear(128, 10) on the last step y[:, -1];",
        "sklearn digits, rows as 8 time steps of 8 features.",
        "Input `input` (batch, 8, 8) float32 (batch_first, dynamic batch); output `output` (batch, 10) logits.",
        f"ONNX opset {OPSET}. Test accuracy (PyTorch): {acc:.4f} on the {len(xte)} held-out digits, "
        f"{acc_in:.4f} on the {N_TEST} of input.npy.",
        f"input.npy/expected.npy/labels.npy: the first {N_TEST} test digits; "
        f"calib.npy: the first {N_CALIB} training digits (calibration data for conversion).",
    ])


if __name__ == "__main__":
    main()
