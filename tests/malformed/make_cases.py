#!/usr/bin/python3
"""make_cases.py — writes the malformed-input cases of tests/malformed/cases/.

Each file is one broken (or deliberately edge-case) model or tensor file that
`snnc inspect` / `snnc run` must refuse cleanly; run_malformed.sh holds the
table of commands, exit statuses and expected message fragments.  The files
are built with onnx.helper and numpy, deterministically, so re-running this
script reproduces them byte for byte.  Files named fuzz-* in cases/ are
crash inputs found by tests/fuzz (kept verbatim) and are not written here.

usage: /usr/bin/python3 tests/malformed/make_cases.py [OUTDIR]
"""
import os
import random
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "cases")
F = TensorProto.FLOAT
I64 = TensorProto.INT64


def model(nodes, inputs, outputs, inits=(), opset=13, check=True):
    g = helper.make_graph(nodes, "case", inputs, outputs, initializer=list(inits))
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)], producer_name="make_cases")
    m.ir_version = 8
    if check:
        onnx.checker.check_model(m)
    return m


def bare_tensor(name, elem, dims):
    """A TensorProto with dims and no data (helper.make_tensor refuses that)."""
    t = TensorProto()
    t.name, t.data_type = name, elem
    t.dims.extend(dims)
    return t


def vi(name, elem, shape):
    return helper.make_tensor_value_info(name, elem, shape)


def save_model(name, m):
    write(name, m.SerializeToString())


def write(name, data):
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(data)


def relu_model():
    """A valid model: y = Relu(x), x float [2,3]."""
    return model([helper.make_node("Relu", ["x"], ["y"], name="relu0")], [vi("x", F, [2, 3])],
                 [vi("y", F, [2, 3])])


def add_init_model(init, check=False):
    """y = Add(x, W) with the given initializer W (usually broken)."""
    return model([helper.make_node("Add", ["x", "W"], ["y"], name="add_w")], [vi("x", F, [2, 3])],
                 [vi("y", F, None)], inits=[init], check=check)


def files_and_bytes():
    # -- not a model at all --
    write("empty.onnx", b"")
    rng = random.Random(20240601)
    # 0x07 first: field 0 with wire type 7, which no protobuf parser accepts
    write("random.onnx", bytes([0x07]) + bytes(rng.randrange(256) for _ in range(1023)))
    big = model([helper.make_node("MatMul", ["x", "W"], ["y"], name="mm")], [vi("x", F, [1, 16])],
                [vi("y", F, [1, 16])],
                inits=[numpy_helper.from_array(np.arange(256, dtype=np.float32).reshape(16, 16), "W")])
    data = big.SerializeToString()
    write("truncated.onnx", data[:len(data) // 2])
    write("text.onnx", b"this is a text file, not a model\n")


def graph_errors():
    # a node reading a tensor nothing defines
    save_model("undefined_input.onnx",
               model([helper.make_node("Add", ["x", "ghost"], ["y"], name="add_ghost")],
                     [vi("x", F, [2, 3])], [vi("y", F, [2, 3])], check=False))
    # two nodes feeding each other
    save_model("cycle.onnx",
               model([helper.make_node("Add", ["x", "b"], ["a"], name="cyc_a"),
                      helper.make_node("Relu", ["a"], ["b"], name="cyc_b"),
                      helper.make_node("Identity", ["a"], ["y"], name="out")],
                     [vi("x", F, [2, 3])], [vi("y", F, [2, 3])], check=False))
    # an operator snnc does not implement, and one from an unknown domain
    save_model("unsupported_op.onnx",
               model([helper.make_node("Einsum", ["x", "x"], ["y"], name="ein0", equation="ij,ij->ij")],
                     [vi("x", F, [2, 3])], [vi("y", F, [2, 3])]))
    m = model([helper.make_node("Frobnicate", ["x"], ["y"], name="frob0", domain="com.example")],
              [vi("x", F, [2, 3])], [vi("y", F, [2, 3])], check=False)
    m.opset_import.append(helper.make_opsetid("com.example", 1))
    save_model("unknown_domain.onnx", m)
    # a node output that is also a graph input; an op with too few inputs
    save_model("output_redefines_input.onnx",
               model([helper.make_node("Relu", ["x"], ["x"], name="relu_self")], [vi("x", F, [2, 3])],
                     [vi("x", F, [2, 3])], check=False))
    save_model("missing_required_input.onnx",
               model([helper.make_node("Add", ["x"], ["y"], name="add_one")], [vi("x", F, [2, 3])],
                     [vi("y", F, [2, 3])], check=False))
    save_model("output_never_computed.onnx",
               model([helper.make_node("Relu", ["x"], ["y"], name="relu0")], [vi("x", F, [2, 3])],
                     [vi("z", F, [2, 3])], check=False))


def initializer_errors():
    # dims but no data at all
    t = bare_tensor("W", F, [2, 3])
    save_model("init_no_data.onnx", add_init_model(t))
    # raw_data shorter than the dims need
    t = bare_tensor("W", F, [2, 3])
    t.raw_data = np.ones(5, np.float32).tobytes()
    save_model("init_short_raw.onnx", add_init_model(t))
    # element counts that overflow int64, or exceed memory; none has data
    save_model("init_dims_overflow.onnx", add_init_model(bare_tensor("W", F, [2**40, 2**40])))
    save_model("init_dims_huge.onnx", add_init_model(bare_tensor("W", F, [2**31, 16])))
    # 2^30 float32 = 4 GiB: within SNNC_MAX_ELEMENTS, but no data: must be refused before allocating
    save_model("init_dims_4gib_no_data.onnx", add_init_model(bare_tensor("W", F, [2**28, 4])))
    save_model("init_dims_negative.onnx", add_init_model(bare_tensor("W", F, [2, -3])))
    # weights stored in an external file
    t = bare_tensor("W", F, [2, 3])
    t.data_location = TensorProto.EXTERNAL
    t.external_data.add(key="location", value="weights.bin")
    save_model("init_external.onnx", add_init_model(t))
    # an element type snnc has no type for (float16)
    t = helper.make_tensor("W", TensorProto.FLOAT16, [2, 3], np.ones(6, np.float16).tobytes(), raw=True)
    save_model("init_float16.onnx", add_init_model(t))
    # a graph input declared with an element count that overflows: run must refuse the input
    save_model("input_dims_overflow.onnx",
               model([helper.make_node("Relu", ["x"], ["y"], name="relu0")], [vi("x", F, [2**40, 2**40])],
                     [vi("y", F, None)], check=False))


def opset_errors():
    for v in (6, 19):
        save_model("opset_%d.onnx" % v,
                   model([helper.make_node("Relu", ["x"], ["y"], name="relu0")], [vi("x", F, [2, 3])],
                         [vi("y", F, [2, 3])], opset=v, check=False))
    m = model([helper.make_node("Relu", ["x"], ["y"], name="relu0")], [vi("x", F, [2, 3])],
              [vi("y", F, [2, 3])], check=False)
    del m.opset_import[:]
    m.opset_import.append(helper.make_opsetid("com.example", 1))
    save_model("opset_none.onnx", m)


def run_time_errors():
    save_model("relu.onnx", relu_model())
    # Reshape whose target shape arrives as an input: 6 elements into [4,4]
    save_model("reshape_runtime.onnx",
               model([helper.make_node("Reshape", ["x", "shape"], ["y"], name="reshape_bad")],
                     [vi("x", F, [2, 3]), vi("shape", I64, [2])], [vi("y", F, None)], check=False))
    np.save(os.path.join(OUT, "shape_4x4.npy"), np.array([4, 4], np.int64))
    # the leak fixed in passes/shape_infer.c fold_node: a folded Constant
    # whose value fold_symval had already made a constant
    save_model("const_fold.onnx",
               model([helper.make_node("Constant", [], ["c"], name="const0",
                                       value=helper.make_tensor("v", I64, [1], [2]))],
                     [], [vi("c", I64, [1])]))


def npy_files():
    np.save(os.path.join(OUT, "x_ok.npy"), np.arange(6, dtype=np.float32).reshape(2, 3))
    np.save(os.path.join(OUT, "x_wrong_shape.npy"), np.zeros((3, 2), np.float32))
    np.save(os.path.join(OUT, "x_wrong_rank.npy"), np.zeros((6,), np.float32))
    np.save(os.path.join(OUT, "x_bool.npy"), np.zeros((2, 3), np.bool_))
    write("x_text.npy", b"1 2 3\n4 5 6\n")
    with open(os.path.join(OUT, "x_ok.npy"), "rb") as f:
        ok = f.read()
    write("x_truncated.npy", ok[:len(ok) - 10])
    write("x_header_only.npy", ok[:60])
    # header promising 2^40 x 2^40 elements with 24 bytes of data
    hdr = b"{'descr': '<f4', 'fortran_order': False, 'shape': (1099511627776, 1099511627776), }"
    hdr = hdr + b" " * (118 - len(hdr)) + b"\n"
    write("x_huge_shape.npy", b"\x93NUMPY\x01\x00" + len(hdr).to_bytes(2, "little") + hdr + bytes(24))


def main():
    os.makedirs(OUT, exist_ok=True)
    files_and_bytes()
    graph_errors()
    initializer_errors()
    opset_errors()
    run_time_errors()
    npy_files()


if __name__ == "__main__":
    main()
