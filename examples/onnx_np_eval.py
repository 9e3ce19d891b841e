# needs: python3-onnx python3-numpy (train_export.py's check; not run by the tests)
# Minimal pure-numpy ONNX interpreter for the operators the example models
# use (onnx 1.12 has no onnx.reference).  It is only a cross-check that each
# exported model.onnx reproduces PyTorch's expected.npy; it is written from the
# ONNX operator spec, independently of the C implementation.  Entry: run().
import numpy as np
from onnx import numpy_helper, helper


def _attrs(node):
    return {a.name: helper.get_attribute_value(a) for a in node.attribute}


def _sig(x):
    return 1.0 / (1.0 + np.exp(-x))


def _axes(node_attrs, inputs, idx):
    """Axes from attribute (old opsets) or from input idx (newer opsets)."""
    if "axes" in node_attrs:
        return list(node_attrs["axes"])
    if len(inputs) > idx and inputs[idx] is not None:
        return [int(a) for a in inputs[idx]]
    return None


def _rnn_common(x, w, r, b, h0, a, gates):
    layout = a.get("layout", 0)
    if layout == 1:
        x = x.transpose(1, 0, 2)
        if h0 is not None:
            h0 = h0.transpose(1, 0, 2)
    T, B, _ = x.shape
    D, _, _ = w.shape
    H = a["hidden_size"]
    if b is None:
        b = np.zeros((D, 2 * gates * H), np.float32)
    if h0 is None:
        h0 = np.zeros((D, B, H), np.float32)
    direction = a.get("direction", b"forward")
    direction = direction.decode() if isinstance(direction, bytes) else direction
    dirs = {"forward": [False], "reverse": [True],
            "bidirectional": [False, True]}[direction]
    return x, w, r, b, h0, T, B, H, dirs, layout


def _rnn_finish(ys, hs, cs, layout):
    y = np.stack(ys, 1)            # (T, D, B, H)
    yh = np.stack(hs, 0)           # (D, B, H)
    yc = np.stack(cs, 0) if cs else None
    if layout == 1:
        y = y.transpose(2, 0, 1, 3)
        yh = yh.transpose(1, 0, 2)
        yc = yc.transpose(1, 0, 2) if yc is not None else None
    return y, yh, yc


def _op_rnn(ins, a):
    x, w, r = ins[0], ins[1], ins[2]
    b = ins[3] if len(ins) > 3 else None
    h0 = ins[5] if len(ins) > 5 else None
    x, w, r, b, h0, T, B, H, dirs, layout = _rnn_common(x, w, r, b, h0, a, 1)
    acts = [s.decode() if isinstance(s, bytes) else s
            for s in a.get("activations", ["Tanh"] * len(dirs))]
    fn = {"Tanh": np.tanh, "Relu": lambda v: np.maximum(v, 0),
          "Sigmoid": _sig}
    hs, outs = [], []
    for d, rev in enumerate(dirs):
        h = h0[d]
        seq = [None] * T
        for t in (range(T - 1, -1, -1) if rev else range(T)):
            h = fn[acts[d]](x[t] @ w[d].T + h @ r[d].T + b[d, :H] + b[d, H:])
            seq[t] = h
        outs.append(np.stack(seq, 0))
        hs.append(h)
    y = np.stack(outs, 1)
    yh = np.stack(hs, 0)
    if layout == 1:
        y, yh = y.transpose(2, 0, 1, 3), yh.transpose(1, 0, 2)
    return [y, yh]


def _op_lstm(ins, a):
    x, w, r = ins[0], ins[1], ins[2]
    b = ins[3] if len(ins) > 3 else None
    h0 = ins[5] if len(ins) > 5 else None
    c0 = ins[6] if len(ins) > 6 else None
    assert len(ins) <= 7 or ins[7] is None, "peepholes unsupported here"
    x, w, r, b, h0, T, B, H, dirs, layout = _rnn_common(x, w, r, b, h0, a, 4)
    if c0 is None:
        c0 = np.zeros((len(dirs), B, H), np.float32)
    elif layout == 1:
        c0 = c0.transpose(1, 0, 2)
    outs, hs, cs = [], [], []
    for d, rev in enumerate(dirs):
        h, c = h0[d], c0[d]
        seq = [None] * T
        for t in (range(T - 1, -1, -1) if rev else range(T)):
            g = x[t] @ w[d].T + h @ r[d].T + b[d, :4 * H] + b[d, 4 * H:]
            i, o, f, cc = (g[:, k * H:(k + 1) * H] for k in range(4))
            c = _sig(f) * c + _sig(i) * np.tanh(cc)
            h = _sig(o) * np.tanh(c)
            seq[t] = h
        outs.append(np.stack(seq, 0))
        hs.append(h)
        cs.append(c)
    y = np.stack(outs, 1)
    yh, yc = np.stack(hs, 0), np.stack(cs, 0)
    if layout == 1:
        y = y.transpose(2, 0, 1, 3)
        yh, yc = yh.transpose(1, 0, 2), yc.transpose(1, 0, 2)
    return [y, yh, yc]


def _op_gru(ins, a):
    x, w, r = ins[0], ins[1], ins[2]
    b = ins[3] if len(ins) > 3 else None
    h0 = ins[5] if len(ins) > 5 else None
    x, w, r, b, h0, T, B, H, dirs, layout = _rnn_common(x, w, r, b, h0, a, 3)
    lbr = a.get("linear_before_reset", 0)
    outs, hs = [], []
    for d, rev in enumerate(dirs):
        h = h0[d]
        wb, rb = b[d, :3 * H], b[d, 3 * H:]
        seq = [None] * T
        for t in (range(T - 1, -1, -1) if rev else range(T)):
            xw = x[t] @ w[d].T + wb
            z = _sig(xw[:, :H] + h @ r[d, :H].T + rb[:H])
            rr = _sig(xw[:, H:2 * H] + h @ r[d, H:2 * H].T + rb[H:2 * H])
            if lbr:
                n = np.tanh(xw[:, 2 * H:] + rr * (h @ r[d, 2 * H:].T + rb[2 * H:]))
            else:
                n = np.tanh(xw[:, 2 * H:] + (rr * h) @ r[d, 2 * H:].T + rb[2 * H:])
            h = (1 - z) * n + z * h
            seq[t] = h
        outs.append(np.stack(seq, 0))
        hs.append(h)
    y = np.stack(outs, 1)
    yh = np.stack(hs, 0)
    if layout == 1:
        y, yh = y.transpose(2, 0, 1, 3), yh.transpose(1, 0, 2)
    return [y, yh]


def _op_gemm(ins, a):
    A, B = ins[0], ins[1]
    if a.get("transA", 0):
        A = A.T
    if a.get("transB", 0):
        B = B.T
    y = a.get("alpha", 1.0) * (A @ B)
    if len(ins) > 2 and ins[2] is not None:
        y = y + a.get("beta", 1.0) * ins[2]
    return [y]


def _op_slice(ins, a):
    x = ins[0]
    if "starts" in a:  # opset < 10
        starts, ends = a["starts"], a["ends"]
        axes = a.get("axes", list(range(len(starts))))
        steps = [1] * len(starts)
    else:
        starts, ends = list(ins[1]), list(ins[2])
        axes = list(ins[3]) if len(ins) > 3 and ins[3] is not None else list(range(len(starts)))
        steps = list(ins[4]) if len(ins) > 4 and ins[4] is not None else [1] * len(starts)
    sl = [slice(None)] * x.ndim
    for s, e, ax, st in zip(starts, ends, axes, steps):
        sl[int(ax)] = slice(int(s), int(min(max(e, -2**62), 2**62)), int(st))
    return [x[tuple(sl)]]


def _op_squeeze(ins, a):
    axes = _axes(a, ins, 1)
    if axes is None:
        return [np.squeeze(ins[0])]
    return [np.squeeze(ins[0], axis=tuple(ax % ins[0].ndim for ax in axes))]


def _op_unsqueeze(ins, a):
    axes = _axes(a, ins, 1)
    y = ins[0]
    n = y.ndim + len(axes)
    for ax in sorted(ax % n for ax in axes):
        y = np.expand_dims(y, ax)
    return [y]


def _op_reduce(fn):
    def op(ins, a):
        axes = _axes(a, ins, 1)
        keep = bool(a.get("keepdims", 1))
        if axes is None or len(axes) == 0:
            if a.get("noop_with_empty_axes", 0):
                return [ins[0]]
            axes = None
        else:
            axes = tuple(axes)
        return [fn(ins[0], axis=axes, keepdims=keep).astype(ins[0].dtype)]
    return op


def _op_reshape(ins, a):
    x, shape = ins[0], [int(s) for s in ins[1]]
    if not a.get("allowzero", 0):
        shape = [x.shape[i] if s == 0 else s for i, s in enumerate(shape)]
    return [x.reshape(shape)]


def _op_constant(ins, a):
    if "value" in a:
        return [numpy_helper.to_array(a["value"])]
    for k, dt in (("value_float", np.float32), ("value_int", np.int64)):
        if k in a:
            return [np.array(a[k], dt)]
    for k, dt in (("value_floats", np.float32), ("value_ints", np.int64)):
        if k in a:
            return [np.array(a[k], dt)]
    raise NotImplementedError("Constant attribute")


def _op_cos(ins, a):
    v = a.get("value")
    arr = numpy_helper.to_array(v) if v is not None else np.zeros(1, np.float32)
    return [np.full([int(s) for s in ins[0]], arr.reshape(-1)[0], arr.dtype)]


def _op_softmax(ins, a, log=False):
    x = ins[0]
    ax = a.get("axis", -1)
    m = x - x.max(axis=ax, keepdims=True)
    e = np.exp(m)
    s = e.sum(axis=ax, keepdims=True)
    return [m - np.log(s) if log else e / s]


_TYPES = {1: np.float32, 6: np.int32, 7: np.int64, 9: np.bool_, 11: np.float64}

OPS = {
    "Identity": lambda i, a: [i[0]],
    "Equal": lambda i, a: [np.equal(i[0], i[1])],
    "Where": lambda i, a: [np.where(i[0], i[1], i[2])],
    "Add": lambda i, a: [i[0] + i[1]],
    "Sub": lambda i, a: [i[0] - i[1]],
    "Mul": lambda i, a: [i[0] * i[1]],
    "Div": lambda i, a: [i[0] / i[1] if i[0].dtype.kind == "f" else i[0] // i[1]],
    "Tanh": lambda i, a: [np.tanh(i[0])],
    "Relu": lambda i, a: [np.maximum(i[0], 0).astype(i[0].dtype)],
    "Sigmoid": lambda i, a: [_sig(i[0])],
    "MatMul": lambda i, a: [np.matmul(i[0], i[1])],
    "Gemm": _op_gemm,
    "Transpose": lambda i, a: [np.transpose(i[0], a.get("perm"))],
    "Shape": lambda i, a: [np.array(i[0].shape, np.int64)],
    "Gather": lambda i, a: [np.take(i[0], i[1], axis=a.get("axis", 0))],
    "Concat": lambda i, a: [np.concatenate(i, axis=a["axis"])],
    "ConstantOfShape": _op_cos,
    "Constant": _op_constant,
    "Cast": lambda i, a: [i[0].astype(_TYPES[a["to"]])],
    "Squeeze": _op_squeeze,
    "Unsqueeze": _op_unsqueeze,
    "Slice": _op_slice,
    "Reshape": _op_reshape,
    "Flatten": lambda i, a: [i[0].reshape(int(np.prod(i[0].shape[:a.get("axis", 1)])), -1)],
    "Expand": lambda i, a: [i[0] * np.ones([int(s) for s in i[1]], i[0].dtype)],
    "ReduceSum": _op_reduce(np.sum),
    "ReduceMean": _op_reduce(np.mean),
    "ReduceMax": _op_reduce(np.max),
    "Softmax": lambda i, a: _op_softmax(i, a),
    "LogSoftmax": lambda i, a: _op_softmax(i, a, log=True),
    "RNN": _op_rnn,
    "LSTM": _op_lstm,
    "GRU": _op_gru,
}


def run(model, feeds, float64=False):
    """Evaluate model (onnx.ModelProto) on feeds {name: ndarray}; returns
    {output name: ndarray} for the graph outputs.  float64=True computes every
    float tensor in double precision (an accuracy yardstick for float32 runs)."""
    ftype = np.float64 if float64 else np.float32
    _TYPES[1] = ftype

    def conv(v):
        return v.astype(ftype) if isinstance(v, np.ndarray) and v.dtype.kind == "f" else v
    env = {"": None}
    for init in model.graph.initializer:
        env[init.name] = conv(numpy_helper.to_array(init))
    env.update({k: conv(v) for k, v in feeds.items()})
    for node in model.graph.node:
        if node.op_type not in OPS:
            raise NotImplementedError(f"numpy evaluator: op {node.op_type}")
        ins = [env[n] for n in node.input]
        outs = OPS[node.op_type](ins, _attrs(node))
        for name, val in zip(node.output, outs):
            if name:
                env[name] = conv(val)
    return {o.name: env[o.name] for o in model.graph.output}
