#!/usr/bin/env python3
# Relational network (Santoro et al. 2017, "A simple neural network module for
# relational reasoning") on a small Sort-of-CLEVR-style task without images.
# A scene has 6 objects, one per colour, each (one-hot colour[6], x, y); the
# question is (one-hot colour c[6], one-hot type[3]):
#   type 0 (non-relational): is the object of colour c in the left half?
#   type 1 (relational):     colour of the object nearest to object c?
#   type 2 (relational):     colour of the object farthest from object c?
# Answers: 0 = no, 1 = yes, 2 + k = colour k (8 classes).
# RN(O, q) = f( sum_{i,j} g([o_i, o_j, q]) ): all 36 ordered pairs are built
# in the graph with Unsqueeze/Expand/Concat, g is a shared 3-layer MLP applied
# to every pair (MatMul+Add on a 4-D tensor), the pair sum is a ReduceSum.
# The single ONNX input is the flat vector [objects (6*8), question (9)] of
# size 57, split in the graph with Slice + Reshape.  Dynamic batch, opset 14.
import os
import sys

import numpy as np
import torch
import torch.nn as nn

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
import common  # noqa: E402

N_OBJ, N_COL, N_QTYPE, N_ANS = 6, 6, 3, 8
OBJ_DIM = N_COL + 2
Q_DIM = N_COL + N_QTYPE
IN_DIM = N_OBJ * OBJ_DIM + Q_DIM
G_HID, F_HID, OPSET = 64, 64, 14
EPOCHS, LR, N_TRAIN = 30, 3e-3, 40000


def make_scenes(n, rng, min_dist=0.12):
    """n scenes: positions (n, 6, 2) with pairwise distance >= min_dist and a
    random assignment of the 6 colours to objects (n, 6)."""
    pos = np.empty((n, N_OBJ, 2))
    for k in range(n):
        while True:
            p = rng.uniform(0.0, 1.0, size=(N_OBJ, 2))
            d = np.linalg.norm(p[:, None] - p[None], axis=-1) + np.eye(N_OBJ)
            if d.min() >= min_dist:
                pos[k] = p
                break
    colours = np.argsort(rng.uniform(size=(n, N_OBJ)), axis=1)
    return pos, colours


def make_dataset(n, seed):
    rng = np.random.RandomState(seed)
    pos, colours = make_scenes(n, rng)
    qcol = rng.randint(N_COL, size=n)
    qtype = rng.randint(N_QTYPE, size=n)
    x = np.zeros((n, IN_DIM), np.float32)
    y = np.zeros(n, np.int64)
    for k in range(n):
        objs = x[k, :N_OBJ * OBJ_DIM].reshape(N_OBJ, OBJ_DIM)
        objs[np.arange(N_OBJ), colours[k]] = 1.0
        objs[:, N_COL:] = pos[k]
        x[k, N_OBJ * OBJ_DIM + qcol[k]] = 1.0
        x[k, N_OBJ * OBJ_DIM + N_COL + qtype[k]] = 1.0
        me = int(np.nonzero(colours[k] == qcol[k])[0][0])
        dist = np.linalg.norm(pos[k] - pos[k, me], axis=1)
        if qtype[k] == 0:
            y[k] = int(pos[k, me, 0] < 0.5)
        elif qtype[k] == 1:
            dist[me] = np.inf
            y[k] = 2 + colours[k, int(np.argmin(dist))]
        else:
            y[k] = 2 + colours[k, int(np.argmax(dist))]
    return x, y, qtype


class RelationalNetwork(nn.Module):
    def __init__(self):
        super().__init__()
        self.g = nn.Sequential(
            nn.Linear(2 * OBJ_DIM + Q_DIM, G_HID), nn.ReLU(),
            nn.Linear(G_HID, G_HID), nn.ReLU(),
            nn.Linear(G_HID, G_HID), nn.ReLU())
        self.f = nn.Sequential(
            nn.Linear(G_HID, F_HID), nn.ReLU(),
            nn.Linear(F_HID, N_ANS))

    def forward(self, x):                                   # x: (batch, 57)
        objs = x[:, :N_OBJ * OBJ_DIM].reshape(-1, N_OBJ, OBJ_DIM)
        q = x[:, N_OBJ * OBJ_DIM:]                          # (batch, 9)
        b = x.size(0)       # dynamic: Shape -> Gather -> Unsqueeze -> Concat
        o_i = objs.unsqueeze(2).expand(b, N_OBJ, N_OBJ, OBJ_DIM)
        o_j = objs.unsqueeze(1).expand(b, N_OBJ, N_OBJ, OBJ_DIM)
        qq = q.unsqueeze(1).unsqueeze(1).expand(b, N_OBJ, N_OBJ, Q_DIM)
        pairs = torch.cat([o_i, o_j, qq], dim=3)            # (batch, 6, 6, 25)
        rel = torch.sum(self.g(pairs), dim=(1, 2))          # (batch, G_HID)
        return self.f(rel)                                  # logits (batch, 8)


def main():
    common.seed_all(7)
    xtr, ytr, _ = make_dataset(N_TRAIN, seed=100)
    xte, yte, qte = make_dataset(2000, seed=200)
    model = RelationalNetwork()
    common.train_classifier(model, xtr, ytr, epochs=EPOCHS, lr=LR, batch=128, seed=7,
                            cosine=True)
    acc = common.accuracy(model, xte, yte)
    with torch.no_grad():
        pred = model(torch.from_numpy(xte)).argmax(-1).numpy()
    per_type = [float((pred == yte)[qte == t].mean()) for t in range(N_QTYPE)]
    print(f"relational: test accuracy {acc:.4f} on {len(xte)} questions; "
          f"left-half {per_type[0]:.4f}, nearest {per_type[1]:.4f}, farthest {per_type[2]:.4f}")
    common.export(model, torch.from_numpy(xte[:4]), os.path.join(HERE, "model.onnx"), OPSET)
    common.save_case(HERE, model, xte[:64], yte[:64])
    common.write_readme(HERE, [
        "# relational",
        "Relational network (Santoro et al. 2017) on a synthetic Sort-of-CLEVR-like task: 6 objects (one-hot colour, x, y),"
        " questions left-half? / nearest colour / farthest colour; 8 answer classes. Pairs built with Unsqueeze/Expand/Concat, g summed with ReduceSum.",
        "Input `input` (batch, 57) float32 = [6 objects x 8 features, question 9] (dynamic batch); output `output` (batch, 8) logits.",
        f"ONNX opset {OPSET}. Test accuracy (PyTorch, {len(xte)} held-out questions): {acc:.4f}"
        f" (left-half {per_type[0]:.4f}, nearest {per_type[1]:.4f}, farthest {per_type[2]:.4f}).",
        "input.npy/expected.npy/labels.npy: the first 64 test questions.",
    ])


if __name__ == "__main__":
    main()
