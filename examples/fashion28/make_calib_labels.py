#!/usr/bin/python3
# needs: python3-numpy dataset-fashion-mnist (regenerates calib_labels.npy; not run by the tests)
# make_calib_labels.py — examples/fashion28/calib_labels.npy: the class labels
# (int64) of calib.npy, the first 512 training images of Debian's
# dataset-fashion-mnist (as train_export.py writes it), for
# `snnc convert --finetune-labels`.  Checks that the images are calib.npy's.
# read_idx is train_export.py's reader of the data set too.
import gzip
import os

import numpy as np

DATA = "/usr/share/datasets/fashion-mnist"
HERE = os.path.dirname(os.path.abspath(__file__))


def read_idx(name):
    """An idx file of the data set: uint8 images (N, 28, 28) or labels (N,)."""
    with gzip.open(os.path.join(DATA, name), "rb") as f:
        raw = f.read()
    ndim = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(raw, np.uint8, offset=4 + 4 * ndim).reshape(dims)


def main():
    calib = np.load(os.path.join(HERE, "calib.npy"))
    n = calib.shape[0]
    images = (read_idx("train-images-idx3-ubyte.gz")[:n] / 255.0).astype(np.float32)
    if not np.array_equal(images, calib):
        raise SystemExit("calib.npy is not the first %d training images" % n)
    labels = read_idx("train-labels-idx1-ubyte.gz")[:n].astype(np.int64)
    np.save(os.path.join(HERE, "calib_labels.npy"), labels)
    print("calib_labels.npy: %d labels, classes %s" % (n, np.bincount(labels).tolist()))


if __name__ == "__main__":
    main()
