#!/usr/bin/env python3
# needs: python3-torch python3-onnx python3-sklearn python3-numpy (trains; not run by the tests)
# Temporal addition ("adding problem") task, as used to probe long-range
# memory in the low-pass RNN work: each sequence has T steps of 2 features,
# (value ~ U(0,1), marker in {0,1}); exactly two steps are marked, one in each
# half of the sequence, and the target is the sum of the two marked values.
# Model: nn.LSTM (batch_first) + Linear regression head on the last hidden
# state.  Always predicting 1.0 gives MSE ~0.167; the script reports the
# test MSE.  Dynamic batch; ONNX opset 14.
import os
import sys

import numpy as np
import torch
import torch.nn as nn

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True  # keep examples/ free of __pycache__
sys.path.insert(0, os.path.dirname(HERE))
import common  # noqa: E402

T_STEPS, HIDDEN, OPSET = 30, 32, 14
EPOCHS, N_TRAIN = 12, 20000


def make_dataset(n, seed):
    rng = np.random.RandomState(seed)
    x = np.zeros((n, T_STEPS, 2), np.float32)
    x[:, :, 0] = rng.uniform(0.0, 1.0, size=(n, T_STEPS))
    half = T_STEPS // 2
    a = rng.randint(0, half, size=n)
    b = rng.randint(half, T_STEPS, size=n)
    rows = np.arange(n)
    x[rows, a, 1] = 1.0
    x[rows, b, 1] = 1.0
    y = (x[rows, a, 0] + x[rows, b, 0]).astype(np.float32)
    return x, y


class LstmAdder(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(2, HIDDEN, batch_first=True)
        self.fc = nn.Linear(HIDDEN, 1)

    def forward(self, x):              # x: (batch, T, 2)
        y, _ = self.lstm(x)
        return self.fc(y[:, -1])       # (batch, 1) predicted sum


def train(model, x, y, seed):
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)[:, None]
    g = torch.Generator().manual_seed(seed)
    for ep in range(EPOCHS):
        perm = torch.randperm(len(xt), generator=g)
        tot = 0.0
        for i in range(0, len(xt), 64):
            idx = perm[i:i + 64]
            opt.zero_grad()
            loss = nn.functional.mse_loss(model(xt[idx]), yt[idx])
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            tot += loss.item() * len(idx)
        print(f"  epoch {ep + 1:3d}  mse {tot / len(xt):.5f}")
    model.eval()


def main():
    common.seed_all(8)
    xtr, ytr = make_dataset(N_TRAIN, seed=300)
    xte, yte = make_dataset(2000, seed=400)
    model = LstmAdder()
    train(model, xtr, ytr, seed=8)
    with torch.no_grad():
        pred = model(torch.from_numpy(xte))[:, 0].numpy()
    mse = float(np.mean((pred - yte) ** 2))
    close = float(np.mean(np.abs(pred - yte) < 0.04))
    print(f"lowpass_addition: test MSE {mse:.5f} (baseline 0.167), "
          f"|error| < 0.04 on {close:.4f} of {len(xte)} sequences")
    common.export(model, torch.from_numpy(xte[:4]), os.path.join(HERE, "model.onnx"), OPSET)
    common.save_case(HERE, model, xte[:64], extra={"targets.npy": yte[:64]})
    common.write_readme(HERE, [
        "# lowpass_addition",
        f"Temporal addition task: T={T_STEPS} steps of (value, marker); target = sum of the 2 marked values. LSTM (hidden {HIDDEN}) + Linear.",
        f"Input `input` (batch, {T_STEPS}, 2) float32 (batch_first, dynamic batch); output `output` (batch, 1) predicted sum.",
        f"ONNX opset {OPSET}. Test MSE (PyTorch, {len(xte)} sequences): {mse:.5f} (predict-1.0 baseline 0.167);"
        f" |error| < 0.04 on {close:.4f}.",
        "input.npy/expected.npy: the first 64 test sequences; targets.npy (float32): their true sums (no labels.npy: regression).",
    ])


if __name__ == "__main__":
    main()
