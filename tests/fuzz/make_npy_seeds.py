#!/usr/bin/python3
# needs: python3-numpy (regenerates seeds/npy; not run by the tests)
"""make_npy_seeds.py — writes tests/fuzz/seeds/npy/: small .npy files of
every dtype, byte order, memory order and format version the reader
accepts, the seed corpus of fuzz_npy.c (run_fuzz.sh npy).  Deterministic."""
import os

import numpy as np
from numpy.lib import format as npf

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "seeds", "npy")


def save(name, a, version=None):
    with open(os.path.join(OUT, name + ".npy"), "wb") as f:
        if version is None:
            np.save(f, a)
        else:
            npf.write_array(f, a, version=version)


def main():
    os.makedirs(OUT, exist_ok=True)
    base = np.arange(12).reshape(3, 4)
    for dt in ("<f4", "<f8", "<i4", "<i8", "|u1", "|b1", ">f4", ">i8", "<f2", "<c8"):
        save("a_" + dt.replace("<", "le_").replace(">", "be_").replace("|", ""), base.astype(dt))
    save("fortran", np.asfortranarray(base.astype(np.float32)))
    save("scalar", np.array(3.5, np.float32))
    save("empty", np.zeros((0, 5), np.float32))
    save("rank8", np.zeros((1, 2, 1, 2, 1, 2, 1, 2), np.int64))
    save("v2", base.astype(np.float32), version=(2, 0))
    save("v3", base.astype(np.int32), version=(3, 0))


if __name__ == "__main__":
    main()
