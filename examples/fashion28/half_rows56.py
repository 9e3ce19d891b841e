#!/usr/bin/env python3
# needs: python3-torch python3-onnx python3-numpy dataset-fashion-mnist (the 56-step measurement of docs/CONVERSION.md §4a; not run by the tests)
# A longer sequence for the per-step gap (docs/CONVERSION.md §4a): Fashion-MNIST
# read as 56 steps of 14 pixels (half rows), 14 -> Elman 64 ReLU -> 10,
# trained in float only (Adam, 3 epochs, cosine, seed 3; the last 5000
# training images held out as in train_export.py).  Writes into OUT
# (default /tmp/fashion56; nothing is kept in the repository): model.onnx
# (opset 13, batch_first, dynamic batch), calib.npy (the first 512 training
# images), input.npy and labels.npy (the first 1000 test images).  Then:
#   snnc convert OUT/model.onnx --target truenorth -o OUT/conv --calib OUT/calib.npy
#   snnc simulate OUT/conv --input OUT/input.npy --labels OUT/labels.npy
import os
import sys

import numpy as np
import torch
import torch.nn as nn

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True  # keep examples/ free of __pycache__
sys.path.insert(0, os.path.dirname(HERE))
sys.path.insert(0, HERE)
import common  # noqa: E402
from train_export import N_CALIB, N_TEST, N_VAL, OPSET, load  # noqa: E402

STEPS, FEATURES = 56, 14


class Elman(nn.Module):
    """Elman RNN(14, 64, relu), batch_first, + Linear(64, 10) on the last hidden state."""
    def __init__(self):
        super().__init__()
        self.rnn = nn.RNN(FEATURES, 64, nonlinearity="relu", batch_first=True)
        self.fc = nn.Linear(64, 10)

    def forward(self, x):             # x: (batch, 56, 14)
        _, h = self.rnn(x)
        return self.fc(h[-1])


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "/tmp/fashion56"
    os.makedirs(out, exist_ok=True)
    xtr, ytr, xte, yte = load()
    xtr = xtr.reshape(-1, STEPS, FEATURES)
    xte = xte.reshape(-1, STEPS, FEATURES)
    torch.manual_seed(3)
    model = Elman()
    common.train_classifier(model, xtr[:-N_VAL], ytr[:-N_VAL], epochs=3, lr=3e-3, batch=128,
                            seed=3, cosine=True)
    print(f"float test accuracy ({N_TEST}): "
          f"{100 * common.accuracy(model, xte[:N_TEST], yte[:N_TEST]):.1f} %")
    common.export(model, torch.from_numpy(xte[:2]), os.path.join(out, "model.onnx"), OPSET)
    np.save(os.path.join(out, "calib.npy"), xtr[:N_CALIB])
    np.save(os.path.join(out, "input.npy"), xte[:N_TEST])
    np.save(os.path.join(out, "labels.npy"), yte[:N_TEST])


if __name__ == "__main__":
    main()
