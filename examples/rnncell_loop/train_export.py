#!/usr/bin/env python3
# nn.RNNCell (tanh) applied in a Python for-loop over the 8 time steps of the
# sklearn digits (rows = time steps of 8 features), then a Linear classifier.
# The export is the unrolled loop: per step Gather(x, t) -> Gemm (input) +
# Gemm (recurrent) -> Add -> Tanh, with a zero h0 built from the dynamic batch
# size.  ONNX opset 14.
import os
import sys

import torch
import torch.nn as nn

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True  # keep examples/ free of __pycache__
sys.path.insert(0, os.path.dirname(HERE))
import common  # noqa: E402

HIDDEN, OPSET, STEPS = 48, 14, 8


class RnnCellLoop(nn.Module):
    def __init__(self):
        super().__init__()
        self.cell = nn.RNNCell(8, HIDDEN, nonlinearity="tanh")
        self.fc = nn.Linear(HIDDEN, 10)

    def forward(self, x):                       # x: (batch, 8, 8)
        h = x.new_zeros(x.size(0), HIDDEN)
        for t in range(STEPS):
            h = self.cell(x[:, t], h)
        return self.fc(h)                       # logits (batch, 10)


def main():
    common.seed_all(6)
    xtr, ytr, xte, yte = common.digits_split(seed=0)
    model = RnnCellLoop()
    common.train_classifier(model, xtr, ytr, epochs=40, lr=3e-3, seed=6)
    acc = common.accuracy(model, xte, yte)
    print(f"rnncell_loop: test accuracy {acc:.4f} on {len(xte)} digits")
    common.export(model, torch.from_numpy(xte[:4]), os.path.join(HERE, "model.onnx"), OPSET)
    common.save_case(HERE, model, xte[:64], yte[:64])
    common.write_readme(HERE, [
        "# rnncell_loop",
        f"nn.RNNCell (tanh, hidden {HIDDEN}) unrolled by a Python loop over 8 steps, + Linear; sklearn digits rows as time steps.",
        "Input `input` (batch, 8, 8) float32 (batch_first, dynamic batch); output `output` (batch, 10) logits."
        " The ONNX graph has no RNN node: per step Gather + 2 Gemm + Add + Tanh.",
        f"ONNX opset {OPSET}. Test accuracy (PyTorch, {len(xte)} held-out digits): {acc:.4f}.",
        "input.npy/expected.npy/labels.npy: the first 64 test digits.",
    ])


if __name__ == "__main__":
    main()
