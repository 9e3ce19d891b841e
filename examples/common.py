# needs: python3-torch python3-onnx python3-sklearn python3-numpy (trains; not run by the tests)
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
                   n_test=64, n_calib=None, cosine=False, seq_first=False, finetune=None):
    """The main() of the digits classifier examples: seed, train make_model()
    on the digits, report the test accuracy, export model.onnx (opset), write
    the first n_test test digits (input.npy/expected.npy/labels.npy), with
    n_calib set also calib.npy (training digits) and the accuracy on input.npy.
    seq_first: the model takes (time, batch, features); it is trained through
    BatchFirst and exported with the batch on axis 1.  README.md: "# name",
    the `about` lines, the `io` lines (default [DIGITS_IO]), the opset and
    test accuracy, and what the .npy files hold.
    finetune: keyword arguments of constrain_finetune (needs n_calib and a
    batch-first model with .rnn/.fc): after the float training, the model is
    retrained with the TrueNorth constraints emulated on calib.npy's ranges;
    the README then says so and gives the accuracies before and after."""
    seed_all(seed)
    xtr, ytr, xte, yte = digits_split(seed=0)
    model = make_model()
    view = BatchFirst(model) if seq_first else model
    train_classifier(view, xtr, ytr, epochs=epochs, lr=lr, seed=seed, cosine=cosine)
    acc = accuracy(view, xte, yte)
    ft_lines = []
    if finetune is not None:
        ft_lines = finetune_stage(model, xtr, ytr, xte, yte, xtr[:n_calib], finetune)
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
    calib = xtr[:n_calib] if n_calib is not None else None
    if calib is not None and seq_first:
        calib = np.ascontiguousarray(calib.transpose(1, 0, 2))  # (8, n_calib, 8), like the model input
    extra = None if calib is None else {"calib.npy": calib}
    save_case(folder, model, first(n_test), yte[:n_test], extra=extra, batch_axis=batch_axis)
    lines = [f"# {name}", *about, *(io or [DIGITS_IO]), *ft_lines]
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


# ---------------------------------------------------------------------------
# Train and constrain (the 2016 TrueNorth paper's method, Diehl et al. 2016):
# after float training, the Elman network is retrained with the hardware
# constraints emulated in the forward pass (straight-through gradients), and
# its float weights are exported; snnc then quantises them itself.  What is
# emulated is what snnc's constrained ANN does (docs/CONVERSION.md §2,
# docs/QUANTIZE.md) plus the spiking stage's count noise:
# - W = levels - 1 = 15 ticks per step; the input quantised to counts 0..W
#   over [0, a_in], the hidden activity to counts 0..W over [0, a_h] (ReLU
#   clipped at a_h), a_in and a_h being the 99.9th percentiles snnc
#   calibrates (of the input, and of the float network's hidden activity on
#   the calibration digits), recomputed every epoch;
# - weights per neuron (row) on 16 levels (codes -8..7) times a per-row
#   scale, in the count domain: a hidden neuron's row is
#   [W_ih a_in / a_h | W_hh], the readout's row its float weights; biases
#   stay float (snnc realises them as leaks);
# - the spiking neurons: integrate-and-fire with linear reset, so a hidden
#   count is floor(z + r) with r the membrane residual of the previous window
#   (1/2 at the start), not round(z); plus Gaussian noise of `noise` counts
#   on every hidden pre-activation count, every step (the spiking count
#   errors, rectified and compounded through the recurrence as on the chip).
# The loss adds the float network's own cross-entropy (float_weight), so the
# exported float model stays accurate, and a penalty on float hidden
# activity above tail * a_h (in counts, squared), which shortens the tail
# of the activity distribution: a_h (a 99.9th percentile) drops and the
# typical activity spans more of the 15 counts, so a count error of one
# matters less.
# ---------------------------------------------------------------------------

def _ste(x, q):
    """Forward q, backward identity to x (straight-through estimator)."""
    return x + (q - x).detach()


def quantize_rows(w, levels=16, n_cand=96, lloyd=4):
    """Per-row quantisation of w (rows, n) to codes in [-(levels/2), levels-1-levels/2]
    times a per-row scale: the best of n_cand scales in [max|w|/(5 levels/2),
    max|w|/(levels/2 - 1)], refined by a few Lloyd steps (nearest codes, then
    the least-squares scale).  Returns the dequantised rows (no gradient)."""
    with torch.no_grad():
        lo, hi = -(levels // 2), levels - 1 - levels // 2
        m = w.abs().amax(1, keepdim=True).clamp_min(1e-12)          # (rows, 1)
        f = torch.linspace(1.0 / (2.5 * levels), 1.0 / hi, n_cand, dtype=w.dtype)
        s = m * f                                                    # (rows, n_cand)
        c = torch.clamp(torch.round(w[:, None, :] / s[:, :, None]), lo, hi)
        err = ((w[:, None, :] - s[:, :, None] * c) ** 2).sum(-1)
        s = s.gather(1, err.argmin(1, keepdim=True))                 # (rows, 1)
        for _ in range(lloyd):
            c = torch.clamp(torch.round(w / s), lo, hi)
            cc = (c * c).sum(1, keepdim=True)
            s = torch.where(cc > 0, (w * c).sum(1, keepdim=True) / cc.clamp_min(1), s)
        c = torch.clamp(torch.round(w / s), lo, hi)
        return s * c


def _percentile(t, p):
    return float(np.percentile(t.detach().reshape(-1).numpy().astype(np.float64), p))


class ConstrainedElman(nn.Module):
    """The constrained view of an Elman model with .rnn (nn.RNN, relu,
    batch_first) and .fc (nn.Linear on the last hidden state), sharing its
    parameters.  forward(x): logits of (batch, T, features) digits.
    Hidden counts: round(z) (snnc's constrained ANN), or with
    integrate_and_fire floor(z + residual); with noise > 0, in training mode,
    Gaussian noise of that many counts is added to z first."""
    def __init__(self, model, levels=16, weight_levels=16, noise=0.0,
                 integrate_and_fire=False, percentile=99.9):
        super().__init__()
        self.model, self.levels, self.wl = model, levels, weight_levels
        self.noise, self.iaf, self.pct = noise, integrate_and_fire, percentile
        self.a_in = self.a_h = 1.0

    def float_hidden(self, x):
        """All hidden states of the float network (batch, T, hidden)."""
        y, _ = self.model.rnn(x)
        return y

    def calibrate(self, calib):
        """a_in, a_h as snnc computes them: percentiles of |activity| of the
        float network on the calibration batch, zeros included."""
        with torch.no_grad():
            self.a_in = _percentile(calib.abs(), self.pct)
            self.a_h = _percentile(self.float_hidden(calib), self.pct)

    def forward(self, x):
        rnn, fc, W = self.model.rnn, self.model.fc, self.levels - 1
        a_in, a_h = self.a_in, self.a_h
        # count-domain recurrent row [W_ih a_in / a_h | W_hh], one scale per row
        wih, whh = rnn.weight_ih_l0, rnn.weight_hh_l0
        row = torch.cat([wih * (a_in / a_h), whh], 1)
        rowq = _ste(row, quantize_rows(row, self.wl))
        wq, uq = rowq[:, :wih.shape[1]] * (a_h / a_in), rowq[:, wih.shape[1]:]
        b = rnn.bias_ih_l0 + rnn.bias_hh_l0
        fcq = _ste(fc.weight, quantize_rows(fc.weight, self.wl))
        xn = torch.round(torch.clamp(x / a_in, 0, 1) * W)           # input counts
        zin = (xn * (a_in / W)) @ wq.t() + b                        # (batch, T, hidden)
        n = x.new_zeros(x.shape[0], wih.shape[0])                   # hidden counts
        r = torch.full_like(n, 0.5)                                 # membrane residual
        for t in range(x.shape[1]):
            z = (zin[:, t] + (n * (a_h / W)) @ uq.t()) * (W / a_h)  # pre-activation, counts
            if self.training and self.noise > 0:
                z = z + self.noise * torch.randn_like(z)
            if self.iaf:    # integrate-and-fire, linear reset: the residual carries over
                v = z + r
                n = _ste(torch.clamp(z, 0, W), torch.clamp(torch.floor(v), 0, W))
                r = torch.clamp(v - n, 0, 1).detach()
            else:
                n = _ste(torch.clamp(z, 0, W), torch.round(torch.clamp(z, 0, W)))
        return (n * (a_h / W)) @ fcq.t() + fc.bias


# The defaults of constrain_finetune, used by both Elman examples.
FINETUNE = dict(epochs=60, lr=1e-3, noise=0.4, float_weight=3.0, tail=0.7, tail_weight=0.2)


def constrain_finetune(model, xtr, ytr, calib, epochs=60, lr=1e-3, noise=0.4,
                       float_weight=3.0, tail=0.7, tail_weight=0.2, levels=16,
                       weight_levels=16, seed=0, batch=64, smoothing=0.1):
    """Retrain `model` (float Elman, .rnn/.fc, batch-first) with the
    constraints emulated (ConstrainedElman, integrate-and-fire counts, count
    noise), a_in/a_h recalibrated on `calib` (numpy) every epoch; loss =
    CE(constrained) + float_weight CE(float) + tail_weight * mean squared
    float hidden activity above tail * a_h in counts; Adam, cosine-annealed
    learning rate.  The model keeps float parameters (what is exported)."""
    cm = ConstrainedElman(model, levels, weight_levels, noise, integrate_and_fire=True)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    steps = epochs * ((len(xtr) + batch - 1) // batch)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps)
    loss_fn = nn.CrossEntropyLoss(label_smoothing=smoothing)
    xt, yt, ct = torch.from_numpy(xtr), torch.from_numpy(ytr), torch.from_numpy(calib)
    W = levels - 1
    g = torch.Generator().manual_seed(seed)
    for ep in range(epochs):
        cm.calibrate(ct)
        cm.train()
        perm = torch.randperm(len(xt), generator=g)
        tot = 0.0
        for i in range(0, len(xt), batch):
            idx = perm[i:i + batch]
            opt.zero_grad()
            loss = loss_fn(cm(xt[idx]), yt[idx])
            loss = loss + float_weight * loss_fn(model(xt[idx]), yt[idx])
            excess = torch.relu(cm.float_hidden(xt[idx]) * (W / cm.a_h) - tail * W)
            loss = loss + tail_weight * (excess ** 2).mean()
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            sched.step()
            tot += loss.item() * len(idx)
        if (ep + 1) % 10 == 0 or ep == epochs - 1:
            print(f"  constrain epoch {ep + 1:3d}  loss {tot / len(xt):.4f}  "
                  f"a_in {cm.a_in:.3f}  a_h {cm.a_h:.3f}")
    model.eval()


def finetune_stage(model, xtr, ytr, xte, yte, calib, kwargs):
    """constrain_finetune(model, **kwargs) with the test accuracies before and
    after (float; emulated constrained network; emulated integrate-and-fire
    counts without noise); returns the README lines describing the training."""
    def accs():
        cm = ConstrainedElman(model)
        cm.calibrate(torch.from_numpy(calib))
        cm.eval()
        c = accuracy(cm, xte, yte)
        cm.iaf = True
        return accuracy(model, xte, yte), c, accuracy(cm, xte, yte), cm.a_h
    f0, c0, s0, h0 = accs()
    print(f"  before fine-tuning: float {f0:.4f}, emulated constrained {c0:.4f}, "
          f"integrate-and-fire {s0:.4f}, a_h {h0:.3f}")
    constrain_finetune(model, xtr, ytr, calib, **kwargs)
    f1, c1, s1, h1 = accs()
    print(f"  after fine-tuning:  float {f1:.4f}, emulated constrained {c1:.4f}, "
          f"integrate-and-fire {s1:.4f}, a_h {h1:.3f}")
    k = {**FINETUNE, **kwargs}
    import textwrap
    return ["", *textwrap.wrap(
        "Training (train and constrain, as in the 2016 TrueNorth paper): float training, then "
        f"{k['epochs']} epochs of constraint-aware fine-tuning (`common.constrain_finetune`, "
        f"Adam, learning rate {k['lr']} cosine-annealed). Its forward pass emulates, with "
        "straight-through gradients, what snnc's constrained network and spiking stage do: "
        "inputs quantised to counts 0..15 over [0, a_in]; hidden activities to counts 0..15 "
        "over [0, a_h] (ReLU clipped at a_h), a_in and a_h being the 99.9th percentiles of the "
        "float network's activity on calib.npy, recalibrated every epoch; weights per neuron "
        "on 16 levels (codes -8..7) times a per-row scale in the count domain (row "
        "[W_ih a_in/a_h | W_hh]; the readout's rows as they are); hidden counts of "
        "integrate-and-fire neurons with linear reset (floor(z + residual), the residual "
        f"carried to the next step) with Gaussian noise of {k['noise']} counts on every hidden "
        "pre-activation (the spiking count errors). The loss also holds the float network's "
        f"cross-entropy (weight {k['float_weight']}) and a penalty on float hidden activity "
        f"above {k['tail']} a_h (weight {k['tail_weight']}, squared counts), which shortens the "
        "activity tail so that a_h drops and a count error of one matters less. The exported "
        "ONNX model holds the float weights (no fan-in limit is emulated: snnc splits or "
        "prunes a neuron of more than 64 inputs); snnc quantises them itself. "
        f"Test accuracy (PyTorch, {len(xte)} digits) before / after the fine-tuning: float "
        f"{f0:.4f} / {f1:.4f}; the emulated constrained network (nearest rounding, no noise) "
        f"{c0:.4f} / {c1:.4f}; hidden range a_h {h0:.2f} / {h1:.2f}.", width=100,
        break_on_hyphens=False), ""]
