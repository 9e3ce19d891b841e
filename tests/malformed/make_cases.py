#!/usr/bin/python3
# needs: python3-onnx python3-numpy (regenerates cases/; not run by the tests)
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


def fuzz_findings():
    """Minimal forms of what tests/fuzz found (see the table in run_malformed.sh)."""
    # MatMul with a 0-sized batch dim: batch_offset divided by zero (ops/matmul.c)
    a = numpy_helper.from_array(np.zeros((0, 4, 2), np.float32), "a")
    b = numpy_helper.from_array(np.ones((2, 3), np.float32), "b")
    save_model("matmul_empty_batch.onnx",
               model([helper.make_node("MatMul", ["a", "b"], ["y"], name="mm_empty")], [],
                     [vi("y", F, [0, 4, 3])], inits=[a, b]))
    save_model("matmul_empty_batch_input.onnx",
               model([helper.make_node("MatMul", ["x", "b"], ["y"], name="mm_empty")],
                     [vi("x", F, ["N", 4, 2])], [vi("y", F, ["N", 4, 3])], inits=[b]))
    np.save(os.path.join(OUT, "x_empty_batch.npy"), np.zeros((0, 4, 2), np.float32))
    # RNN hidden_size 2^62: the expected W/R/B shapes overflowed int64 (ops/recurrent.c)
    w = numpy_helper.from_array(np.ones((1, 1, 2), np.float32), "W")
    r = numpy_helper.from_array(np.ones((1, 1, 1), np.float32), "R")
    save_model("rnn_hidden_huge.onnx",
               model([helper.make_node("RNN", ["x", "W", "R"], ["y"], name="rnn_huge",
                                       hidden_size=2**62)],
                     [vi("x", F, [1, 1, 2])], [vi("y", F, None)], inits=[w, r], check=False))
    # A 0-element tensor whose other dims multiply past int64: strides overflow
    # in Transpose (snnc_shape_count says 0 elements, so nothing refuses it)
    save_model("transpose_sym.onnx",
               model([helper.make_node("Transpose", ["x"], ["y"], name="tr0")],
                     [vi("x", F, ["a", "b", "c"])], [vi("y", F, None)], check=False))
    hdr = b"{'descr': '<f4', 'fortran_order': False, 'shape': (0, 4611686018427387904, 4), }"
    hdr = hdr + b" " * (118 - len(hdr)) + b"\n"
    write("x_empty_huge.npy", b"\x93NUMPY\x01\x00" + len(hdr).to_bytes(2, "little") + hdr)
    # the same through an initializer: dims [0, 2^40, 2^40], no data (fuzzed Div model)
    save_model("init_empty_huge.onnx",
               model([helper.make_node("Div", ["W", "W"], ["y"], name="div0")], [], [vi("y", F, None)],
                     inits=[bare_tensor("W", F, [0, 2**40, 2**40])], check=False))
    save_model("add_sym.onnx",
               model([helper.make_node("Add", ["x", "one"], ["y"], name="add0")],
                     [vi("x", F, ["a", "b", "c"])], [vi("y", F, None)],
                     inits=[numpy_helper.from_array(np.ones((1,), np.float32), "one")], check=False))
    # declared (value_info) dims of 2^63-1: Concat's load-time shape sum overflowed
    save_model("concat_declared_huge.onnx",
               model([helper.make_node("Concat", ["x", "z"], ["y"], name="cat0", axis=0)],
                     [vi("x", F, [2]), vi("z", F, [2**63 - 1])], [vi("y", F, None)], check=False))
    # unnamed outputs: Split's middle piece, and a folded Equal's only output
    # (compute got a NULL output: ops/layout.c split_compute, ops/compare.c)
    save_model("split_unnamed_output.onnx",
               model([helper.make_node("Split", ["x"], ["a", "", "c"], name="split0", axis=0)],
                     [vi("x", F, [3, 2])], [vi("a", F, None), vi("c", F, None)], check=False))
    np.save(os.path.join(OUT, "x_3x2.npy"), np.arange(6, dtype=np.float32).reshape(3, 2))
    # a Constant with an unnamed output, folded at load (fuzzed bilstm model)
    save_model("constant_unnamed_output.onnx",
               model([helper.make_node("Constant", [], [""], name="const_anon",
                                       value=helper.make_tensor("v", F, [2], [1.0, 2.0])),
                      helper.make_node("Relu", ["x"], ["y"], name="relu0")],
                     [vi("x", F, [2, 3])], [vi("y", F, [2, 3])], check=False))
    # run-time tensors of 2^31-1 elements (8 GiB): ConstantOfShape and Tile
    shape = numpy_helper.from_array(np.array([2**31 - 1], np.int64), "shape")
    save_model("constantofshape_8gib.onnx",
               model([helper.make_node("ConstantOfShape", ["shape"], ["y"], name="cos_big")], [],
                     [vi("y", F, None)], inits=[shape], check=False))
    save_model("tile_8gib.onnx",
               model([helper.make_node("Tile", ["x", "shape"], ["y"], name="tile_big")],
                     [vi("x", F, [1])], [vi("y", F, None)], inits=[shape], check=False))
    np.save(os.path.join(OUT, "x_one.npy"), np.ones((1,), np.float32))


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
    fuzz_findings()
    npy_files()


if __name__ == "__main__":
    main()
