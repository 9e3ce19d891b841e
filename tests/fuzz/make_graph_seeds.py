#!/usr/bin/python3
# needs: python3-onnx python3-numpy (fuzzing seeds for run_fuzz.sh; not run by the tests)
"""make_graph_seeds.py — random single-operator ONNX models for fuzz_load.

    /usr/bin/python3 tests/fuzz/make_graph_seeds.py OUTDIR [COUNT] [SEED]

Byte-level mutation of protobuf rarely produces a model that gets past the
importer with interesting attributes, so this writes COUNT models (default
2000) that each apply one operator snnc implements, at a random opset, with
random (often invalid) attribute values, input ranks, shapes, element types
and constant inputs drawn from the operator's ONNX schema.  run_fuzz.sh adds
them to the load corpus; libFuzzer executes each and mutates from there.
Nothing here checks results: the fuzz target only looks for crashes, leaks
and hangs.
"""
import os
import random
import sys

import numpy as np
import onnx.defs as defs
from onnx import AttributeProto, TensorProto, helper, numpy_helper

OPS = """Abs Add And Cast Clip Concat Constant ConstantOfShape Div Elu Equal Exp Expand
Flatten GRU Gather Gemm Greater GreaterOrEqual HardSigmoid Identity LSTM LeakyRelu Less
LessOrEqual LogSoftmax MatMul Mul Neg Not Or Pow RNN ReduceMax ReduceMean ReduceSum Relu
Reshape Shape Sigmoid Slice Softmax Softplus Softsign Split Sqrt Squeeze Sub Tanh
ThresholdedRelu Tile Transpose Unsqueeze Where Xor""".split()

TYPES = {"tensor(float)": TensorProto.FLOAT, "tensor(double)": TensorProto.DOUBLE,
         "tensor(int64)": TensorProto.INT64, "tensor(int32)": TensorProto.INT32,
         "tensor(bool)": TensorProto.BOOL, "tensor(uint8)": TensorProto.UINT8}
NP = {TensorProto.FLOAT: np.float32, TensorProto.DOUBLE: np.float64, TensorProto.INT64: np.int64,
      TensorProto.INT32: np.int32, TensorProto.BOOL: np.bool_, TensorProto.UINT8: np.uint8}
STRINGS = ["forward", "reverse", "bidirectional", "Tanh", "Sigmoid", "Relu", "Affine",
           "LeakyRelu", "ThresholdedRelu", "ScaledTanh", "HardSigmoid", "Elu", "Softsign",
           "Softplus", "constant", "reflect", "edge", "NOTSET", "", "tanh", "x" * 40]


def rint(r):
    return r.choice([0, 1, 2, 3, -1, -2, -3, 4, 7, r.randint(-10, 10), 2**31, -2**63, 2**62])


def rshape(r):
    return [r.choice([0, 1, 1, 2, 2, 3, 4]) for _ in range(r.choice([0, 1, 1, 2, 2, 3, 3, 4, 5]))]


def rarray(r, elem, shape):
    n = int(np.prod(shape)) if shape else 1
    if elem in (TensorProto.FLOAT, TensorProto.DOUBLE):
        vals = [r.choice([0.0, 1.0, -1.0, 0.5, 3.0, 1e30, -1e30, float("nan"), float("inf")])
                for _ in range(n)]
    elif elem == TensorProto.BOOL:
        vals = [r.random() < 0.5 for _ in range(n)]
    elif elem == TensorProto.UINT8:
        vals = [r.randint(0, 255) for _ in range(n)]
    else:
        vals = [r.choice([0, 1, 2, 3, -1, -2, 4, 5, -5, 2**31 - 1, -2**63, 2**40]) for _ in range(n)]
        if elem == TensorProto.INT32:
            vals = [max(min(v, 2**31 - 1), -2**31) for v in vals]
    return np.array(vals, dtype=NP[elem]).reshape(shape)


def rattr(r, name, a):
    t = a.type
    if t == AttributeProto.INT:
        return helper.make_attribute(name, rint(r))
    if t == AttributeProto.FLOAT:
        return helper.make_attribute(name, r.choice([0.0, 1.0, -1.0, 0.5, 1e-3, 1e30, float("nan")]))
    if t == AttributeProto.INTS:
        return helper.make_attribute(name, [rint(r) for _ in range(r.choice([0, 1, 2, 3, 4, 9]))])
    if t == AttributeProto.FLOATS:
        return helper.make_attribute(name, [r.choice([0.0, 1.0, -2.0, 0.5]) for _ in range(r.choice([0, 1, 2, 3, 6]))])
    if t == AttributeProto.STRING:
        return helper.make_attribute(name, r.choice(STRINGS))
    if t == AttributeProto.STRINGS:
        return helper.make_attribute(name, [r.choice(STRINGS) for _ in range(r.choice([0, 1, 2, 3, 4, 6]))])
    if t == AttributeProto.TENSOR:
        elem = r.choice(list(NP))
        return helper.make_attribute(name, numpy_helper.from_array(rarray(r, elem, rshape(r)), name))
    return None


def pick_type(r, schema, param, chosen):
    if param in chosen:
        return chosen[param]
    allowed = [TYPES[s] for tc in schema.type_constraints if tc.type_param_str == param
               for s in tc.allowed_type_strs if s in TYPES] or list(TYPES.values())
    if r.random() < 0.05:
        allowed = list(TYPES.values())  # sometimes a type the schema forbids
    chosen[param] = r.choice(allowed)
    return chosen[param]


def one_model(r, idx):
    op = r.choice(OPS)
    opset = r.randint(7, 18)
    try:
        schema = defs.get_schema(op, opset)
    except Exception:
        return None
    chosen = {}
    base = rshape(r)
    formals = list(schema.inputs)
    n_in = r.randint(schema.min_input, min(schema.max_input, max(schema.min_input, len(formals)) + 1, 8))
    inputs, inits, names = [], [], []
    for i in range(n_in):
        f = formals[min(i, len(formals) - 1)] if formals else None
        elem = pick_type(r, schema, f.typeStr, chosen) if f else r.choice(list(TYPES.values()))
        if r.random() < 0.1 and i > 0:
            names.append("")  # omitted optional input
            continue
        shape = base if r.random() < 0.6 else rshape(r)
        name = "in%d" % i
        names.append(name)
        if elem == TensorProto.INT64 or r.random() < 0.4:  # shapes, axes, indices: mostly constants
            inits.append(numpy_helper.from_array(rarray(r, elem, shape), name))
        else:
            if r.random() < 0.15:  # declared dims are not data: they may be absurd
                shape = [r.choice([d, 2**31, 2**40, 2**62, 2**63 - 1, "N"]) for d in shape]
            inputs.append(helper.make_tensor_value_info(name, elem, shape))
    attrs = {}
    for name, a in schema.attributes.items():
        if r.random() < (0.9 if a.required else 0.4):
            at = rattr(r, name, a)
            if at is not None:
                attrs[name] = at
    n_out = r.randint(schema.min_output, min(schema.max_output, 4))
    outs = ["out%d" % j for j in range(max(n_out, 1))]
    node = helper.make_node(op, names, outs, name="n_%s_%d" % (op, idx))
    node.attribute.extend(attrs.values())
    g = helper.make_graph([node], "g%d" % idx, inputs,
                          [helper.make_tensor_value_info(o, TensorProto.UNDEFINED, None) for o in outs],
                          initializer=inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)])
    m.ir_version = 8
    return m


def main():
    out = sys.argv[1]
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 2000
    r = random.Random(int(sys.argv[3]) if len(sys.argv) > 3 else 1)
    os.makedirs(out, exist_ok=True)
    written = 0
    while written < count:
        m = one_model(r, written)
        if m is None:
            continue
        with open(os.path.join(out, "graph_%05d.onnx" % written), "wb") as f:
            f.write(m.SerializeToString())
        written += 1


if __name__ == "__main__":
    main()
