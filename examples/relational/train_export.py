#!/usr/bin/env python3
# needs: python3-torch python3-onnx python3-sklearn python3-numpy (trains; not run by the tests)
# Relational network (Santoro et al. 2017, "A simple neural network module for
# relational reasoning") on a Sort-of-CLEVR-style task given as state
# descriptions instead of images.  A scene has 6 objects, one per colour, each
# (one-hot colour[6], shape bit (1 square, 0 circle), x, y); a question is
# (one-hot colour c[6], one-hot type[6]):
#   non-relational: 0 shape of c?  1 is c on the left?  2 is c at the top?
#   relational:     3 shape of the object nearest to c?
#                   4 shape of the object farthest from c?
#                   5 how many objects have the shape of c (1..6)?
# Answers (10 classes, as Sort-of-CLEVR): 0 yes, 1 no, 2 square, 3 circle,
# 4 + k = count k + 1.
# RN(O, q) = f( sum_{i,j} g([o_i, o_j, q]) ): all 36 ordered pairs are built
# in the graph with Unsqueeze/Expand/Concat, g is a shared 3-layer MLP applied
# to every pair (MatMul+Add on a 4-D tensor), the pair sum is a ReduceSum.
# The single ONNX input is the flat vector [objects (6*9), question (12)] of
# size 66, split in the graph with Slice + Reshape.  Dynamic batch, opset 14.
import os
import sys

import numpy as np
import torch
import torch.nn as nn

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True  # keep examples/ free of __pycache__
sys.path.insert(0, os.path.dirname(HERE))
import common  # noqa: E402

N_OBJ, N_COL, N_QTYPE, N_ANS = 6, 6, 6, 10
OBJ_DIM = N_COL + 3
Q_DIM = N_COL + N_QTYPE
IN_DIM = N_OBJ * OBJ_DIM + Q_DIM
G_HID, F_HID, OPSET = 96, 64, 14
EPOCHS, LR, N_TRAIN = 20, 3e-3, 40000
QNAMES = ["shape", "left", "top", "nearest", "farthest", "count"]
YES, NO, SQUARE, CIRCLE, COUNT1 = 0, 1, 2, 3, 4


def make_scenes(n, rng, min_dist=0.12):
    """n scenes: positions (n, 6, 2) with pairwise distance >= min_dist, a
    random assignment of the 6 colours to objects (n, 6), shapes (n, 6)."""
    pos = np.empty((n, N_OBJ, 2))
    for k in range(n):
        while True:
            p = rng.uniform(0.0, 1.0, size=(N_OBJ, 2))
            d = np.linalg.norm(p[:, None] - p[None], axis=-1) + np.eye(N_OBJ)
            if d.min() >= min_dist:
                pos[k] = p
                break
    colours = np.argsort(rng.uniform(size=(n, N_OBJ)), axis=1)
    shapes = rng.randint(2, size=(n, N_OBJ))
    return pos, colours, shapes


def answer(pos, shapes, me, qtype):
    """Answer class for a question of type qtype about object index me."""
    yes_no = lambda b: YES if b else NO                        # noqa: E731
    shape_ans = lambda s: SQUARE if s else CIRCLE              # noqa: E731
    dist = np.linalg.norm(pos - pos[me], axis=1)
    if qtype == 0:
        return shape_ans(shapes[me])
    if qtype == 1:
        return yes_no(pos[me, 0] < 0.5)
    if qtype == 2:
        return yes_no(pos[me, 1] < 0.5)
    if qtype == 3:
        dist[me] = np.inf
        return shape_ans(shapes[int(np.argmin(dist))])
    if qtype == 4:
        return shape_ans(shapes[int(np.argmax(dist))])
    return COUNT1 + int(np.sum(shapes == shapes[me])) - 1


def make_dataset(n, seed):
    rng = np.random.RandomState(seed)
    pos, colours, shapes = make_scenes(n, rng)
    qcol = rng.randint(N_COL, size=n)
    qtype = rng.randint(N_QTYPE, size=n)
    x = np.zeros((n, IN_DIM), np.float32)
    y = np.zeros(n, np.int64)
    for k in range(n):
        objs = x[k, :N_OBJ * OBJ_DIM].reshape(N_OBJ, OBJ_DIM)
        objs[np.arange(N_OBJ), colours[k]] = 1.0
        objs[:, N_COL] = shapes[k]
        objs[:, N_COL + 1:] = pos[k]
        x[k, N_OBJ * OBJ_DIM + qcol[k]] = 1.0
        x[k, N_OBJ * OBJ_DIM + N_COL + qtype[k]] = 1.0
        me = int(np.nonzero(colours[k] == qcol[k])[0][0])
        y[k] = answer(pos[k], shapes[k], me, qtype[k])
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

    def forward(self, x):                                   # x: (batch, 66)
        objs = x[:, :N_OBJ * OBJ_DIM].reshape(-1, N_OBJ, OBJ_DIM)
        q = x[:, N_OBJ * OBJ_DIM:]                          # (batch, 12)
        b = x.size(0)       # dynamic: Shape -> Gather -> Unsqueeze -> Concat
        o_i = objs.unsqueeze(2).expand(b, N_OBJ, N_OBJ, OBJ_DIM)
        o_j = objs.unsqueeze(1).expand(b, N_OBJ, N_OBJ, OBJ_DIM)
        qq = q.unsqueeze(1).unsqueeze(1).expand(b, N_OBJ, N_OBJ, Q_DIM)
        pairs = torch.cat([o_i, o_j, qq], dim=3)            # (batch, 6, 6, 30)
        rel = torch.sum(self.g(pairs), dim=(1, 2))          # (batch, G_HID)
        return self.f(rel)                                  # logits (batch, 10)


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
    per_type = ", ".join(f"{QNAMES[t]} {float((pred == yte)[qte == t].mean()):.3f}"
                         for t in range(N_QTYPE))
    print(f"relational: test accuracy {acc:.4f} on {len(xte)} questions ({per_type})")
    common.export(model, torch.from_numpy(xte[:4]), os.path.join(HERE, "model.onnx"), OPSET)
    common.save_case(HERE, model, xte[:64], yte[:64])
    common.write_readme(HERE, [
        "# relational",
        "Relational network (Santoro et al. 2017) on a Sort-of-CLEVR-style state-description task: 6 objects (one-hot colour, shape, x, y),"
        " 3 non-relational + 3 relational question types (nearest/farthest shape, count); 10 answer classes."
        " Pairs built with Unsqueeze/Expand/Concat, g summed over the 36 pairs with ReduceSum.",
        f"Input `input` (batch, {IN_DIM}) float32 = [6 objects x {OBJ_DIM} features, question {Q_DIM}] (dynamic batch);"
        f" output `output` (batch, {N_ANS}) logits.",
        f"ONNX opset {OPSET}. Test accuracy (PyTorch, {len(xte)} held-out questions): {acc:.4f} ({per_type}).",
        "input.npy/expected.npy/labels.npy: the first 64 test questions.",
    ])


if __name__ == "__main__":
    main()
