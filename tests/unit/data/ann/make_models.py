#!/usr/bin/env python3
# needs: python3-torch python3-onnx python3-numpy (regenerates these fixtures; not run by the tests)
# Small untrained PyTorch models (and two hand-written ONNX graphs) for
# tests/unit/test_ann.c: Elman shapes the extractor must accept, with
# PyTorch's output on a fixed input (<name>_input.npy, <name>_expected.npy),
# and shapes it must refuse naming the node.  Deterministic; run with
# /usr/bin/python3 (torch 1.13, onnx).  Not run by the build.
import os
import sys
import warnings

import numpy as np
import onnx
import onnx.helper as oh
import onnx.numpy_helper  # noqa: F401  (onnx.numpy_helper.from_array)
import torch
import torch.nn as nn

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True
warnings.filterwarnings("ignore", category=UserWarning)
F, H, T, B = 5, 6, 4, 3


class Model(nn.Module):
    """An RNN-based model whose forward is given as a function."""
    def __init__(self, fwd, rnn=None, pre=None, fc=None, fc2=None, **rnn_kw):
        super().__init__()
        self.rnn = rnn or nn.RNN(F if pre is None else pre.out_features, H, **rnn_kw)
        self.pre, self.fc, self.fc2, self.fwd = pre, fc, fc2, fwd

    def forward(self, x):
        return self.fwd(self, x)


class ManualCell(nn.Module):
    """h_t = relu(tanh(x_t A + a) W + h U + b) with torch.matmul: MatMul + Add, not Gemm."""
    def __init__(self):
        super().__init__()
        self.A = nn.Parameter(torch.randn(F, 7) * 0.5)
        self.a = nn.Parameter(torch.randn(7) * 0.1)
        self.W = nn.Parameter(torch.randn(7, H) * 0.5)
        self.U = nn.Parameter(torch.randn(H, H) * 0.3)
        self.b = nn.Parameter(torch.randn(H) * 0.1)
        self.fc = nn.Linear(H, 3)

    def forward(self, x):  # (batch, T, F)
        h = x.new_zeros(x.size(0), H)
        for t in range(T):
            z = torch.tanh(torch.matmul(x[:, t], self.A) + self.a)
            h = torch.relu(torch.matmul(z, self.W) + torch.matmul(h, self.U) + self.b)
        return self.fc(h)


class CellSeqFirst(nn.Module):
    """nn.RNNCell (relu) looped over a sequence-first input (Gather on axis 0)."""
    def __init__(self):
        super().__init__()
        self.cell = nn.RNNCell(F, H, nonlinearity="relu")
        self.fc = nn.Linear(H, 3)

    def forward(self, x):  # (T, batch, F)
        h = torch.zeros(x.size(1), H)
        for t in range(T):
            h = self.cell(x[t], h)
        return self.fc(h)


class TwoInputs(nn.Module):
    def __init__(self):
        super().__init__()
        self.rnn = nn.RNN(F, H, batch_first=True)
        self.fc = nn.Linear(H, 3)

    def forward(self, x, h0):
        _, h = self.rnn(x, h0)
        return self.fc(h[0])


def export(name, model, x, opset, batch_axis=0, save=False):
    """batch_axis None: a static batch (the exporter folds the zero initial states)."""
    path = os.path.join(HERE, name + ".onnx")
    model.eval()
    dyn = None if batch_axis is None else {"input": {batch_axis: "batch"}, "output": {0: "batch"}}
    torch.onnx.export(model, (x,), path, opset_version=opset, input_names=["input"],
                      output_names=["output"], dynamic_axes=dyn)
    onnx.checker.check_model(onnx.load(path), full_check=True)
    if save:
        with torch.no_grad():
            y = model(x).numpy().astype(np.float32)
        np.save(os.path.join(HERE, name + "_input.npy"), x.numpy())
        np.save(os.path.join(HERE, name + "_expected.npy"), y)
    print(name, "ok")


def rnn_graph(name, **attrs):
    """A hand-written ONNX RNN graph (torch never exports these attributes)."""
    g = oh.make_graph(
        [oh.make_node("RNN", ["input", "W", "R", "B"], ["Y", "output"], name="rnn", hidden_size=H, **attrs)],
        name, [oh.make_tensor_value_info("input", onnx.TensorProto.FLOAT, [T, "batch", F])],
        [oh.make_tensor_value_info("output", onnx.TensorProto.FLOAT, [1, "batch", H])],
        [onnx.numpy_helper.from_array(np.full((1, H, F), 0.1, np.float32), "W"),
         onnx.numpy_helper.from_array(np.full((1, H, H), 0.05, np.float32), "R"),
         onnx.numpy_helper.from_array(np.zeros((1, 2 * H), np.float32), "B")])
    m = oh.make_model(g, opset_imports=[oh.make_opsetid("", 14)])
    onnx.checker.check_model(m, full_check=True)
    onnx.save(m, os.path.join(HERE, name + ".onnx"))
    print(name, "ok")


def layout1():
    """ONNX RNN with layout = 1 (batch-first X and Y_h), relu; Flatten(Y_h) -> Gemm.
    Expected output computed here in numpy from the recurrence's definition."""
    rng = np.random.RandomState(0)
    W, R = rng.randn(1, H, F).astype(np.float32) * 0.4, rng.randn(1, H, H).astype(np.float32) * 0.3
    b, wo, bo = rng.randn(1, 2 * H).astype(np.float32) * 0.1, rng.randn(3, H).astype(np.float32), rng.randn(3).astype(np.float32)
    g = oh.make_graph(
        [oh.make_node("RNN", ["input", "W", "R", "B"], ["Y", "Yh"], name="rnn", hidden_size=H, layout=1,
                      activations=["Relu"]),
         oh.make_node("Flatten", ["Yh"], ["flat"], axis=1, name="flat"),
         oh.make_node("Gemm", ["flat", "wo", "bo"], ["output"], transB=1, name="fc")],
        "layout1", [oh.make_tensor_value_info("input", onnx.TensorProto.FLOAT, ["batch", T, F])],
        [oh.make_tensor_value_info("output", onnx.TensorProto.FLOAT, ["batch", 3])],
        [onnx.numpy_helper.from_array(a, n) for a, n in ((W, "W"), (R, "R"), (b, "B"), (wo, "wo"), (bo, "bo"))])
    m = oh.make_model(g, opset_imports=[oh.make_opsetid("", 14)])
    onnx.checker.check_model(m, full_check=True)
    onnx.save(m, os.path.join(HERE, "layout1.onnx"))
    x = rng.rand(B, T, F).astype(np.float32)
    h = np.zeros((B, H), np.float64)
    for t in range(T):
        h = np.maximum(0, x[:, t] @ W[0].T.astype(np.float64) + h @ R[0].T + b[0, :H] + b[0, H:])
    np.save(os.path.join(HERE, "layout1_input.npy"), x)
    np.save(os.path.join(HERE, "layout1_expected.npy"), (h @ wo.T + bo).astype(np.float32))
    print("layout1 ok")


def main():
    torch.manual_seed(0)
    xb = torch.rand(B, T, F)           # batch-first input
    xs = xb.transpose(0, 1).contiguous()  # sequence-first
    lin = lambda i, o: nn.Linear(i, o)  # noqa: E731
    # --- accepted ---
    # per-step Linear+ReLU on the whole sequence, tanh RNN, two readouts (ReLU, none) on y[:, -1]
    export("dense_rnn_mlp", Model(lambda m, x: m.fc2(torch.relu(m.fc(m.rnn(torch.relu(m.pre(x)))[0][:, -1]))),
                                  pre=lin(F, 7), fc=lin(H, 4), fc2=lin(4, 3), batch_first=True), xb, 13, save=True)
    # sequence-first, per-step Linear without activation, readout on y[-1:] (Slice) squeezed
    export("slice_seqfirst", Model(lambda m, x: m.fc(m.rnn(m.pre(x))[0][-1:].squeeze(0)),
                                   pre=lin(F, 7), fc=lin(H, 3), nonlinearity="relu"), xs, 11, batch_axis=1, save=True)
    # h_n through Transpose + Flatten
    export("hn_flatten", Model(lambda m, x: m.fc(m.rnn(x)[1].permute(1, 0, 2).flatten(1)),
                               fc=lin(H, 3), nonlinearity="relu", batch_first=True), xb, 14, save=True)
    # unrolled cell with MatMul + Add, a per-step tanh layer, relu recurrence
    export("manual_cell", ManualCell(), xb, 14, save=True)
    export("seqfirst_cell", CellSeqFirst(), xs, 13, batch_axis=1, save=True)
    # static batch: h0 folded to a constant zero initial_h
    export("static_rnn", Model(lambda m, x: m.fc(m.rnn(x)[1][0]), fc=lin(H, 3), batch_first=True), xb, 13,
           batch_axis=None, save=True)
    layout1()
    # --- refused ---
    export("mean_over_time", Model(lambda m, x: m.fc(m.rnn(x)[0].mean(1)), fc=lin(H, 3), batch_first=True), xb, 13)
    export("per_step_readout", Model(lambda m, x: m.fc(m.rnn(x)[0])[:, -1], fc=lin(H, 3), batch_first=True), xb, 13)
    export("earlier_state", Model(lambda m, x: m.fc(m.rnn(x)[0][:, 1]), fc=lin(H, 3), batch_first=True), xb, 13)
    export("stacked", Model(lambda m, x: m.fc(m.rnn(x)[1][-1]), fc=lin(H, 3), num_layers=2, batch_first=True), xb, 13)
    export("bidirectional", Model(lambda m, x: m.fc(m.rnn(x)[1][-1]), fc=lin(H, 3), bidirectional=True,
                                  batch_first=True), xb, 13)
    export("scaled", Model(lambda m, x: m.fc(2.0 * m.rnn(x)[1][-1]), fc=lin(H, 3), batch_first=True), xb, 13)
    export("softmax_out", Model(lambda m, x: torch.softmax(m.fc(m.rnn(x)[1][-1]), -1), fc=lin(H, 3),
                                batch_first=True), xb, 13)
    export("sigmoid_readout", Model(lambda m, x: torch.sigmoid(m.fc(m.rnn(x)[1][-1])), fc=lin(H, 3),
                                    batch_first=True), xb, 13)
    m = TwoInputs().eval()
    torch.onnx.export(m, (xb, torch.zeros(1, B, H)), os.path.join(HERE, "h0_input.onnx"), opset_version=13,
                      input_names=["input", "h0"], output_names=["output"],
                      dynamic_axes={"input": {0: "batch"}, "h0": {1: "batch"}, "output": {0: "batch"}})
    print("h0_input ok")
    # static batch cell loop: the zero state's product is folded to a [batch, H] constant
    export("static_cell", CellSeqFirst(), xs, 13, batch_axis=None)
    rnn_graph("rnn_clip", clip=5.0)
    rnn_graph("rnn_reverse", direction="reverse")


if __name__ == "__main__":
    main()
