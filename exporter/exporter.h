/* exporter.h — networks snnc builds, written back out as ONNX models
 * (constrained_onnx.c; docs/CONVERSION.md §2 "constrained.onnx").  The
 * ModelProto is packed with the protobuf-c code generated from Debian's
 * onnx.proto, the one the importer reads. */
#ifndef SNNC_EXPORTER_H
#define SNNC_EXPORTER_H

#include <stddef.h>

#include "../ann/ann.h"

/* The constrained network q (snnc_constrain's output) as an ONNX model of
 * opset 13 computing what snnc_ann_run(q) computes: the input quantised,
 * the time steps unrolled (Gather of step t), Gemm with the dequantised
 * weights (code x scale), the activation, each activity quantiser as Clip,
 * a count of the thresholds reached and a look-up of that level (bit-
 * identical to snnc_act_quantize for every finite value; a NaN becomes the
 * low end, where snnc_act_quantize passes it through), the readout.  Same
 * network -> same bytes.  *bytes (malloc'd, the caller frees) holds *size
 * bytes.  A network snnc_ann_run refuses: SNNC_EINVALID. */
int snnc_export_constrained_onnx(const snnc_ann *q, void **bytes, size_t *size, snnc_err *err);

#endif
