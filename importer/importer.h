/* importer.h — reading ONNX (onnx_import.c, tensor_proto.c): the
 * protobuf-c messages become the graph IR of ir/graph.h; nothing else in
 * snnc sees protobuf types. */
#ifndef SNNC_IMPORTER_H
#define SNNC_IMPORTER_H

#include <stddef.h>
#include <stdint.h>

#include "io/file.h" /* SNNC_MAX_FILE_BYTES, snnc_read_file */
#include "snnc.h"


/* Opsets of the default domain that snnc implements. */
#define SNNC_MIN_OPSET 7
#define SNNC_MAX_OPSET 18

/* Onnx__TensorProto (passed as void* to keep protobuf out of this header)
 * -> new tensor.  `what` names the tensor in messages. */
int snnc_tensor_from_proto(const void *tensor_proto, const char *what, snnc_tensor **out,
                           snnc_err *err);
/* snnc_tensor_pb_read on the bytes of a .pb file already read. */
int snnc_tensor_pb_read_buffer(const void *data, size_t size, const char *path, snnc_tensor **out,
                               char **name, snnc_err *err);
snnc_dtype snnc_onnx_elem_type(int32_t onnx_type);
const char *snnc_onnx_type_name(int32_t onnx_type);

#endif
