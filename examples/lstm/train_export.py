#!/usr/bin/env python3
# LSTM classifier (nn.LSTM, batch_first) + Linear on the sklearn digits (rows =
# 8 time steps of 8 features); the classifier reads the final hidden state
# h_n (the LSTM node's Y_h output).  Dynamic batch; ONNX opset 14.
import os
import sys

import torch
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
    common.seed_all(3)
    xtr, ytr, xte, yte = common.digits_split(seed=0)
    model = LstmClassifier()
    common.train_classifier(model, xtr, ytr, epochs=40, lr=4e-3, seed=3)
    acc = common.accuracy(model, xte, yte)
    print(f"lstm: test accuracy {acc:.4f} on {len(xte)} digits")
    common.export(model, torch.from_numpy(xte[:4]), os.path.join(HERE, "model.onnx"), OPSET)
    common.save_case(HERE, model, xte[:64], yte[:64])
    common.write_readme(HERE, [
        "# lstm",
        f"LSTM (hidden {HIDDEN}) + Linear on the final hidden state; sklearn digits, rows as 8 time steps of 8 features.",
        "Input `input` (batch, 8, 8) float32 (batch_first, dynamic batch); output `output` (batch, 10) logits.",
        f"ONNX opset {OPSET}. Test accuracy (PyTorch, {len(xte)} held-out digits): {acc:.4f}.",
        "input.npy/expected.npy/labels.npy: the first 64 test digits.",
    ])


if __name__ == "__main__":
    main()
