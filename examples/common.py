# Shared helpers for the example train_export.py scripts: deterministic setup,
# the sklearn digits data set read as 8 time steps of 8 features, a small
# classifier training loop, ONNX export + checks, and .npy/README writing.
# Each example imports this with sys.path pointing at examples/.
import os
import random
import sys
import warnings

import numpy as np
import torch
import torch.nn as nn

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import onnx_np_eval  # noqa: E402  (pure-numpy ONNX evaluator for cross-checks)


def seed_all(seed):
    """Make training reproducible (CPU, fixed thread count)."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    # torch.onnx's advisory warnings (RNN batch size, prim::Constant shape
    # inference) do not apply: the checks below run the graph at other batches.
    warnings.filterwarnings("ignore", category=UserWarning)


def digits_split(seed=0, test_frac=0.25):
    """Digits as float32 (N, 8, 8) in [0, 1]: 8 rows = 8 time steps of 8 features."""
    from sklearn.datasets import load_digits
    d = load_digits()
    x = (d.images / 16.0).astype(np.float32)
    y = d.target.astype(np.int64)
    rng = np.random.RandomState(seed)
    perm = rng.permutation(len(x))
    n_test = int(len(x) * test_frac)
    te, tr = perm[:n_test], perm[n_test:]
    return x[tr], y[tr], x[te], y[te]


def train_classifier(model, xtr, ytr, epochs, lr=3e-3, batch=64, seed=0,
                     clip=1.0, log_every=5, smoothing=0.1, cosine=False):
    """Adam + cross-entropy on (N, ...) float32 / int64 numpy arrays.  Label
    smoothing keeps the logits moderate (|logit| ~ 10), so float32 rounding
    differences between implementations stay well below 1e-5.  cosine=True
    anneals the learning rate to 0 over the run."""
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    steps = epochs * ((len(xtr) + batch - 1) // batch)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps) if cosine else None
    loss_fn = nn.CrossEntropyLoss(label_smoothing=smoothing)
    xt, yt = torch.from_numpy(xtr), torch.from_numpy(ytr)
    g = torch.Generator().manual_seed(seed)
    for ep in range(epochs):
        model.train()
        perm = torch.randperm(len(xt), generator=g)
        tot = 0.0
        for i in range(0, len(xt), batch):
            idx = perm[i:i + batch]
            opt.zero_grad()
            loss = loss_fn(model(xt[idx]), yt[idx])
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), clip)
            opt.step()
            if sched is not None:
                sched.step()
            tot += loss.item() * len(idx)
        if (ep + 1) % log_every == 0 or ep == epochs - 1:
            print(f"  epoch {ep + 1:3d}  loss {tot / len(xt):.4f}")
    model.eval()


def accuracy(model, x, y):
    with torch.no_grad():
        pred = model(torch.from_numpy(x)).argmax(-1).numpy()
    return float((pred == y).mean())


def export(model, example_input, path, opset, dynamic_batch_axis=0,
           input_name="input", output_name="output"):
    """torch.onnx.export with a symbolic batch dimension, then onnx.checker."""
    import onnx
    model.eval()
    dyn = None
    if dynamic_batch_axis is not None:
        dyn = {input_name: {dynamic_batch_axis: "batch"},
               output_name: {0: "batch"}}
    torch.onnx.export(model, (example_input,), path, opset_version=opset,
                      input_names=[input_name], output_names=[output_name],
                      dynamic_axes=dyn, do_constant_folding=True)
    m = onnx.load(path)
    onnx.checker.check_model(m, full_check=True)
    size = os.path.getsize(path)
    ops = sorted({n.op_type for n in m.graph.node})
    print(f"  exported {os.path.basename(path)}: opset {opset}, {size} bytes, "
          f"{len(m.graph.node)} nodes, ops {ops}")
    assert size < 200 * 1024, "model too large"
    return m


def save_case(folder, model, x, labels=None, extra=None, batch_axis=0):
    """Write input.npy, expected.npy (PyTorch output), labels.npy; cross-check
    the exported model.onnx with the numpy evaluator (and a second batch size)."""
    x = np.ascontiguousarray(x, dtype=np.float32)
    with torch.no_grad():
        out = model(torch.from_numpy(x)).numpy().astype(np.float32)
    np.save(os.path.join(folder, "input.npy"), x)
    np.save(os.path.join(folder, "expected.npy"), np.ascontiguousarray(out))
    if labels is not None:
        np.save(os.path.join(folder, "labels.npy"),
                np.ascontiguousarray(labels, dtype=np.int64))
    for name, arr in (extra or {}).items():
        np.save(os.path.join(folder, name), np.ascontiguousarray(arr))
    check_onnx(os.path.join(folder, "model.onnx"), x, out, batch_axis)
    return out


def check_onnx(path, x, expected, batch_axis=0):
    """Run the exported graph with the numpy evaluator (float32 and float64)
    and compare with PyTorch, also on a smaller batch (dynamic batch axis).
    Returns PyTorch's max abs deviation from the float64 evaluation."""
    import onnx
    m = onnx.load(path)
    got = onnx_np_eval.run(m, {"input": x})["output"]
    err = float(np.max(np.abs(got - expected)))
    assert got.shape == expected.shape and err < 1e-4, (got.shape, err)
    exact = onnx_np_eval.run(m, {"input": x}, float64=True)["output"]
    torch_err = float(np.max(np.abs(exact - expected)))
    x5 = np.ascontiguousarray(np.take(x, range(5), axis=batch_axis))
    small = onnx_np_eval.run(m, {"input": x5})["output"]
    err5 = float(np.max(np.abs(small - expected[:5])))
    assert err5 < 1e-4, err5
    print(f"  numpy ONNX evaluator vs PyTorch: max abs diff {err:.2e} "
          f"(batch 5: {err5:.2e}); PyTorch vs float64 evaluation: {torch_err:.2e}, "
          f"max |output| {float(np.max(np.abs(expected))):.2f}")
    # onnx.reference exists from onnx 1.13 on; use it too when present.
    try:
        from onnx.reference import ReferenceEvaluator
    except ImportError:
        return torch_err
    got = ReferenceEvaluator(m).run(None, {"input": x})[0]
    err = float(np.max(np.abs(got - expected)))
    print(f"  onnx.reference vs PyTorch: max abs diff {err:.2e}")
    assert err < 1e-4
    return torch_err


def write_readme(folder, lines):
    with open(os.path.join(folder, "README.md"), "w") as f:
        f.write("\n".join(lines).rstrip() + "\n")


class BatchFirst(nn.Module):
    """Training view of a sequence-first model: takes (batch, time, features)
    like the data arrays and hands the model (time, batch, features)."""
    def __init__(self, inner):
        super().__init__()
        self.inner = inner

    def forward(self, x):
        return self.inner(x.transpose(0, 1))


# The README line of the batch-first digits examples' input and output.
DIGITS_IO = ("Input `input` (batch, 8, 8) float32 (batch_first, dynamic batch); "
             "output `output` (batch, 10) logits.")


def digits_example(folder, name, make_model, seed, epochs, lr, opset, about, io=None,
                   n_test=64, n_calib=None, cosine=False, seq_first=False):
    """The main() of the digits classifier examples: seed, train make_model()
    on the digits, report the test accuracy, export model.onnx (opset), write
    the first n_test test digits (input.npy/expected.npy/labels.npy), with
    n_calib set also calib.npy (training digits) and the accuracy on input.npy.
    seq_first: the model takes (time, batch, features); it is trained through
    BatchFirst and exported with the batch on axis 1.  README.md: "# name",
    the `about` lines, the `io` lines (default [DIGITS_IO]), the opset and
    test accuracy, and what the .npy files hold."""
    seed_all(seed)
    xtr, ytr, xte, yte = digits_split(seed=0)
    model = make_model()
    view = BatchFirst(model) if seq_first else model
    train_classifier(view, xtr, ytr, epochs=epochs, lr=lr, seed=seed, cosine=cosine)
    acc = accuracy(view, xte, yte)
    if n_calib is None:
        print(f"{name}: test accuracy {acc:.4f} on {len(xte)} digits")
    else:
        acc_in = accuracy(view, xte[:n_test], yte[:n_test])
        print(f"{name}: test accuracy {acc:.4f} on {len(xte)} digits, {acc_in:.4f} on input.npy")
    batch_axis = 1 if seq_first else 0
    x = np.ascontiguousarray(xte.transpose(1, 0, 2)) if seq_first else xte   # (8, N, 8)

    def first(n):  # the first n samples of x, along its batch axis
        return x[:, :n] if seq_first else x[:n]

    export(model, torch.from_numpy(first(4)), os.path.join(folder, "model.onnx"), opset,
           dynamic_batch_axis=batch_axis)
    extra = None if n_calib is None else {"calib.npy": xtr[:n_calib]}
    save_case(folder, model, first(n_test), yte[:n_test], extra=extra, batch_axis=batch_axis)
    lines = [f"# {name}", *about, *(io or [DIGITS_IO])]
    if n_calib is None:
        shape = f" {first(n_test).shape}" if seq_first else ""
        lines += [f"ONNX opset {opset}. Test accuracy (PyTorch, {len(xte)} held-out digits): {acc:.4f}.",
                  f"input.npy{shape}/expected.npy/labels.npy: the first {n_test} test digits."]
    else:
        lines += [f"ONNX opset {opset}. Test accuracy (PyTorch): {acc:.4f} on the {len(xte)} held-out digits, "
                  f"{acc_in:.4f} on the {n_test} of input.npy.",
                  f"input.npy/expected.npy/labels.npy: the first {n_test} test digits; "
                  f"calib.npy: the first {n_calib} training digits (calibration data for conversion)."]
    write_readme(folder, lines)
