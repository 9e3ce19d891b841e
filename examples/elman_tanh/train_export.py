#!/usr/bin/env python3
# Elman RNN with tanh (nn.RNN) + Linear classifier on the sklearn digits (rows
# = 8 time steps of 8 features).  Sequence-first layout: the ONNX input is
# (time, batch, features) with a dynamic batch on axis 1, no Transpose in
# front of the RNN node and no explicit h0.  ONNX opset 14.
import os
import sys

import numpy as np
import torch
import torch.nn as nn

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True  # keep examples/ free of __pycache__
sys.path.insert(0, os.path.dirname(HERE))
import common  # noqa: E402

HIDDEN, OPSET = 48, 14


class ElmanTanh(nn.Module):
    def __init__(self):
        super().__init__()
        self.rnn = nn.RNN(8, HIDDEN, nonlinearity="tanh")  # sequence-first
        self.fc = nn.Linear(HIDDEN, 10)

    def forward(self, x):             # x: (8, batch, 8)
        _, h = self.rnn(x)            # h: (1, batch, HIDDEN) = last step
        return self.fc(h[0])          # logits (batch, 10)


class BatchFirst(nn.Module):
    """Training view: takes (batch, time, features) like the data arrays."""
    def __init__(self, inner):
        super().__init__()
        self.inner = inner

    def forward(self, x):
        return self.inner(x.transpose(0, 1))


def main():
    common.seed_all(2)
    xtr, ytr, xte, yte = common.digits_split(seed=0)
    model = ElmanTanh()
    view = BatchFirst(model)
    common.train_classifier(view, xtr, ytr, epochs=40, lr=3e-3, seed=2)
    acc = common.accuracy(view, xte, yte)
    print(f"elman_tanh: test accuracy {acc:.4f} on {len(xte)} digits")
    seq_first = np.ascontiguousarray(xte.transpose(1, 0, 2))   # (8, N, 8)
    common.export(model, torch.from_numpy(seq_first[:, :4]),
                  os.path.join(HERE, "model.onnx"), OPSET, dynamic_batch_axis=1)
    common.save_case(HERE, model, seq_first[:, :64], yte[:64], batch_axis=1)
    common.write_readme(HERE, [
        "# elman_tanh",
        "Elman RNN (tanh, hidden 48) + Linear on sklearn digits, rows as 8 time steps of 8 features.",
        "Input `input` (8, batch, 8) float32, SEQUENCE-FIRST (time, batch, features), dynamic batch on axis 1;"
        " output `output` (batch, 10) logits.",
        f"ONNX opset {OPSET}. Test accuracy (PyTorch, {len(xte)} held-out digits): {acc:.4f}.",
        "input.npy (8, 64, 8)/expected.npy/labels.npy: the first 64 test digits.",
    ])


if __name__ == "__main__":
    main()
