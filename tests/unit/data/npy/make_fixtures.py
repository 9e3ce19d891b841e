#!/usr/bin/python3
# needs: python3-numpy (regenerates these fixtures; not run by the tests)
"""make_fixtures.py — regenerate the .npy fixtures read by tests/unit/test_npy.c.

Every file is written by numpy itself (np.save / np.lib.format.write_array),
so the C reader is checked against the reference implementation.  The
values are spelled out here and again, independently, in test_npy.c.
Run from anywhere: /usr/bin/python3 tests/unit/data/npy/make_fixtures.py
"""
import os

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))


def save(name, arr, version=None):
    path = os.path.join(HERE, name)
    if version is None:
        np.save(path, arr, allow_pickle=False)
    else:
        with open(path, "wb") as f:
            np.lib.format.write_array(f, arr, version=version, allow_pickle=False)


f32_2x3 = np.array([[-1.0, -0.5, 0.0], [0.5, 1.0, 1.5]], dtype=np.float32)

# One file per supported dtype (format 1.0, C order, little-endian).
save("f32_2x3.npy", f32_2x3)
save("f64_3.npy", np.array([1.5, -2.25, 1e300], dtype=np.float64))
save("i64_2x2.npy", np.array([[-(2**62), 1], [2, 2**40]], dtype=np.int64))
save("i32_4.npy", np.array([-(2**31), -1, 0, 2**31 - 1], dtype=np.int32))
save("bool_5.npy", np.array([True, False, True, True, False]))
save("u8_3x1.npy", np.array([[0], [127], [255]], dtype=np.uint8))
# 0-d and empty arrays.
save("scalar_f32.npy", np.array(3.25, dtype=np.float32))
save("empty_0x3.npy", np.zeros((0, 3), dtype=np.float32))
save("i64_rank8.npy", np.arange(256, dtype=np.int64).reshape((2,) * 8))
# Other format versions (3.0 = utf8 header).
save("f32_2x3_v2.npy", f32_2x3, version=(2, 0))
save("f32_2x3_v3.npy", f32_2x3, version=(3, 0))
# Big-endian data.
save("be_f4.npy", np.array([1.0, -2.5, 0.125], dtype=">f4"))
save("be_i8.npy", np.array([-2, 2**40 + 3], dtype=">i8"))
save("be_f8_2x2.npy", np.array([[1.0, 2.0], [-3.5, 1e-300]], dtype=">f8"))
# Fortran order: header fortran_order True, data column-major.
save("fortran_f32_2x3.npy", np.asfortranarray(f32_2x3))
save("fortran_i32_2x3x4.npy", np.asfortranarray(np.arange(24, dtype=np.int32).reshape(2, 3, 4)))
# Valid numpy files snnc does not support.
save("f16_2.npy", np.array([1.0, 2.0], dtype=np.float16))
save("c64_2.npy", np.array([1 + 2j, 3], dtype=np.complex64))
save("struct_2.npy", np.zeros(2, dtype=[("a", "<f4"), ("b", "<i8")]))
save("rank9.npy", np.zeros((1,) * 9, dtype=np.float32))
