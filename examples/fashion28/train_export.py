#!/usr/bin/env python3
# needs: python3-torch python3-onnx python3-numpy dataset-fashion-mnist (regenerates the example; not run by the tests)
# Three FLOAT-TRAINED networks of issue 9 ("fidelity on the networks users
# bring") on Fashion-MNIST read as 28 time steps of 28 pixels (one image row
# per step), each with Linear(hidden, 10) on the last hidden state:
#   elman128_relu/   nn.RNN(28, 128, relu)                 fan-in 28 + 128 = 156
#   elman64_tanh/    nn.RNN(28, 64, tanh)                  fan-in 28 + 64 = 92
#   dense48_elman16/ Linear(28, 48) + ReLU per step, nn.RNN(48, 16, relu)
#                    (fan-in 48 + 16 = 64: the 2016 paper's one-core shape)
# Float training only (Adam, a few epochs, fixed seeds; no constraint-aware
# fine-tuning): these stand for networks trained without the hardware in mind.
# Data (Debian dataset-fashion-mnist): pixels / 255 in [0, 1]; the last 5000
# training images are held out for validation.  Written: input.npy and
# labels.npy (the first 1000 test images, shared), calib.npy (the first 512
# training images, shared) and calib_labels.npy (their labels), each network's model.onnx (opset 13, batch_first,
# dynamic batch) and expected.npy (PyTorch's logits on input.npy), README.md.
import os
import sys

import numpy as np
import torch
import torch.nn as nn

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True  # keep examples/ free of __pycache__
sys.path.insert(0, os.path.dirname(HERE))
import common  # noqa: E402
from make_calib_labels import read_idx  # noqa: E402

STEPS, OPSET, N_TEST, N_CALIB, N_VAL = 28, 13, 1000, 512, 5000


def load():
    xtr = (read_idx("train-images-idx3-ubyte.gz") / 255.0).astype(np.float32)
    ytr = read_idx("train-labels-idx1-ubyte.gz").astype(np.int64)
    xte = (read_idx("t10k-images-idx3-ubyte.gz") / 255.0).astype(np.float32)
    yte = read_idx("t10k-labels-idx1-ubyte.gz").astype(np.int64)
    return xtr, ytr, xte, yte


class Elman(nn.Module):
    """Elman RNN (batch_first) + Linear(hidden, 10) on the last hidden state."""
    def __init__(self, hidden, nonlinearity):
        super().__init__()
        self.rnn = nn.RNN(STEPS, hidden, nonlinearity=nonlinearity, batch_first=True)
        self.fc = nn.Linear(hidden, 10)

    def forward(self, x):             # x: (batch, 28, 28)
        _, h = self.rnn(x)            # h: (1, batch, hidden)
        return self.fc(h[-1])         # logits (batch, 10)


class DenseElman(nn.Module):
    """Linear(28, 48) + ReLU on every step, Elman RNN(48, 16, relu), Linear(16, 10)."""
    def __init__(self):
        super().__init__()
        self.inp = nn.Linear(STEPS, 48)
        self.rnn = nn.RNN(48, 16, nonlinearity="relu", batch_first=True)
        self.fc = nn.Linear(16, 10)

    def forward(self, x):             # x: (batch, 28, 28)
        _, h = self.rnn(torch.relu(self.inp(x)))
        return self.fc(h[-1])


# name, constructor, seed, epochs, learning rate, description
NETS = [
    ("elman128_relu", lambda: Elman(128, "relu"), 21, 5, 1e-3,
     "28 -> Elman 128 ReLU -> 10 (fan-in 28 + 128 = 156)"),
    ("elman64_tanh", lambda: Elman(64, "tanh"), 22, 3, 2e-3,
     "28 -> Elman 64 tanh -> 10 (fan-in 28 + 64 = 92)"),
    ("dense48_elman16", DenseElman, 23, 6, 3e-3,
     "28 -> dense 48 ReLU -> Elman 16 ReLU -> 10 (fan-in 48 + 16 = 64, one core)"),
]


def main():
    xall, yall, xte, yte = load()
    xtr, ytr = xall[:-N_VAL], yall[:-N_VAL]
    xval, yval = xall[-N_VAL:], yall[-N_VAL:]
    x, labels = xte[:N_TEST], yte[:N_TEST]
    np.save(os.path.join(HERE, "input.npy"), np.ascontiguousarray(x))
    np.save(os.path.join(HERE, "labels.npy"), np.ascontiguousarray(labels))
    np.save(os.path.join(HERE, "calib.npy"), np.ascontiguousarray(xtr[:N_CALIB]))
    np.save(os.path.join(HERE, "calib_labels.npy"), np.ascontiguousarray(ytr[:N_CALIB]))
    rows = []
    for name, make, seed, epochs, lr, about in NETS:
        print(f"== {name}")
        common.seed_all(seed)
        model = make()
        common.train_classifier(model, xtr, ytr, epochs=epochs, lr=lr, batch=128, seed=seed,
                                log_every=1, cosine=True)
        acc_val = common.accuracy(model, xval, yval)
        acc_test = common.accuracy(model, xte, yte)
        acc_in = common.accuracy(model, x, labels)
        print(f"{name}: accuracy validation {acc_val:.4f}, test {acc_test:.4f} "
              f"(10000), input.npy {acc_in:.4f} (1000)")
        folder = os.path.join(HERE, name)
        os.makedirs(folder, exist_ok=True)
        common.export(model, torch.from_numpy(x[:4]), os.path.join(folder, "model.onnx"), OPSET)
        with torch.no_grad():
            out = model(torch.from_numpy(x)).numpy().astype(np.float32)
        np.save(os.path.join(folder, "expected.npy"), np.ascontiguousarray(out))
        common.check_onnx(os.path.join(folder, "model.onnx"), x, out)
        rows.append(f"| `{name}/` | {about} | {epochs} | {100 * acc_val:.1f} | "
                    f"{100 * acc_test:.1f} | {100 * acc_in:.1f} |")
    write_readme(rows)


def write_readme(rows):
    common.write_readme(HERE, [
        "# fashion28: float-trained networks on 28 steps (issue 9)",
        "",
        "Three networks as users bring them: trained in float only (Adam, cosine-annealed "
        "learning rate, batch 128, label smoothing 0.1, fixed seeds; no constraint-aware "
        "fine-tuning), on Fashion-MNIST (Debian `dataset-fashion-mnist`) read as 28 time "
        "steps of 28 pixels (one image row per step, pixels / 255 in [0, 1]). Each ends in "
        "Linear(hidden, 10) on the last hidden state. Regenerate with `train_export.py`.",
        "",
        "| folder | network | epochs | float validation % (5000) | float test % (10000) "
        "| float on input.npy % (1000) |",
        "|---|---|---|---|---|---|",
        *rows,
        "",
        "Files: `input.npy` (1000, 28, 28) float32 and `labels.npy` (1000,) int64: the first "
        "1000 test images, shared by the three networks; `calib.npy` (512, 28, 28): the first "
        "512 training images (calibration data for `snnc convert --calib`); in each network's "
        f"folder `model.onnx` (opset {OPSET}, input `input` (batch, 28, 28) batch_first, "
        "dynamic batch; output `output` (batch, 10) logits) and `expected.npy`, PyTorch's "
        "logits on `input.npy` (tests/examples_runner.c compares snnc's with them). The "
        "training set's last 5000 images are held out for validation.",
        "",
        "Measure (docs/CONVERSION.md, \"Float-trained networks on 28 steps\"):",
        "",
        "    snnc convert elman128_relu/model.onnx --target truenorth -o out --calib calib.npy",
        "    snnc simulate out --input input.npy --labels labels.npy --json",
        "",
        *MEASURED,
    ])


# Measured with snnc (not by this script): keep in step with docs/CONVERSION.md.
MEASURED = [
    "Measured 2026-12-07 (snnc commit 53052e6, release build, default options: 16 weight "
    "levels, 16 activity levels, fan-in 64 split; calib.npy; 1000 images of input.npy, "
    "450 ticks per sample; TrueNorth scores equal the ideal stage's on every sample):",
    "",
    "| network | fan-in | float | constrained | ideal | TrueNorth | cores | convert |",
    "|---|---|---|---|---|---|---|---|",
    "| `elman128_relu` | 156, split | 84.0 % | 83.1 % | 82.5 % | 82.5 % | 27 | 45 s |",
    "| `elman64_tanh` | 92, split | 78.4 % | 77.4 % | 60.4 % | 60.4 % | 15 | 42 s |",
    "| `dense48_elman16` | 64, fits | 76.9 % | 54.4 % | 64.0 % | 64.0 % | 2 | 4 s |",
]


if __name__ == "__main__":
    main()
