#!/usr/bin/python3
# needs: python3-onnx python3-numpy (regenerates data/nan_weight.onnx; not run by the tests)
# make_nan_model.py — writes tests/convert/data/nan_weight.onnx: the model of
# examples/elman_tn64 with the first element of its first float matrix
# initializer set to NaN, which `snnc convert` must refuse (run_convert.sh).
#
#   /usr/bin/python3 tests/convert/make_nan_model.py
import os
import sys

import numpy as np
import onnx
from onnx import numpy_helper

here = os.path.dirname(os.path.abspath(__file__))
src = os.path.join(here, "..", "..", "examples", "elman_tn64", "model.onnx")
dst = os.path.join(here, "data", "nan_weight.onnx")
m = onnx.load(src)
for i, t in enumerate(m.graph.initializer):
    a = numpy_helper.to_array(t).copy()
    if a.dtype == np.float32 and a.ndim >= 2:
        a.flat[0] = np.nan
        m.graph.initializer[i].CopyFrom(numpy_helper.from_array(a, t.name))
        print(f"{dst}: NaN in initializer '{t.name}' {list(a.shape)}", file=sys.stderr)
        break
else:
    sys.exit("no float matrix initializer in " + src)
onnx.save(m, dst)
