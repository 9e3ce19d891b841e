/* tensor_proto.c — ONNX TensorProto -> snnc_tensor: typed fields and
 * little-endian raw_data, sizes checked before anything is allocated
 * (interface: importer.h; snnc_tensor_pb_read in include/snnc.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../ir/error.h"
#include "../ir/tensor.h"
#include "importer.h"
#include "onnx.pb-c.h"

/* ONNX data_type -> stored snnc type (0 when unsupported). */
static snnc_dtype dtype_of(int32_t onnx_type)
{
    switch (onnx_type) {
    case ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT: return SNNC_F32;
    case ONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE: return SNNC_F64;
    case ONNX__TENSOR_PROTO__DATA_TYPE__INT32: return SNNC_I32;
    case ONNX__TENSOR_PROTO__DATA_TYPE__INT64: return SNNC_I64;
    case ONNX__TENSOR_PROTO__DATA_TYPE__UINT8: return SNNC_U8;
    case ONNX__TENSOR_PROTO__DATA_TYPE__BOOL: return SNNC_BOOL;
    default: return SNNC_DTYPE_UNKNOWN;
    }
}

snnc_dtype snnc_onnx_elem_type(int32_t onnx_type) { return dtype_of(onnx_type); }

const char *snnc_onnx_type_name(int32_t t)
{
    static const char *names[] = {"undefined", "float",  "uint8",     "int8",     "uint16",
                                  "int16",     "int32",  "int64",     "string",   "bool",
                                  "float16",   "double", "uint32",    "uint64",   "complex64",
                                  "complex128", "bfloat16"};
    return t >= 0 && t < (int32_t)(sizeof names / sizeof names[0]) ? names[t] : "unknown";
}

/* Copy `count` elements from the typed field that holds this dtype (its
 * length was checked by check_data_size). */
static void from_typed_fields(const Onnx__TensorProto *tp, snnc_tensor *t)
{
    for (int64_t i = 0; i < t->count; i++) {
        switch (t->dtype) {
        case SNNC_F32: ((float *)t->data)[i] = tp->float_data[i]; break;
        case SNNC_F64: ((double *)t->data)[i] = tp->double_data[i]; break;
        case SNNC_I64: ((int64_t *)t->data)[i] = tp->int64_data[i]; break;
        case SNNC_I32: ((int32_t *)t->data)[i] = tp->int32_data[i]; break;
        case SNNC_U8: ((uint8_t *)t->data)[i] = (uint8_t)tp->int32_data[i]; break;
        case SNNC_BOOL: ((uint8_t *)t->data)[i] = tp->int32_data[i] != 0; break;
        default: break;
        }
    }
}

/* raw_data is little-endian; this machine is too (checked at build).  Its
 * length was checked by check_data_size. */
static void from_raw_data(const Onnx__TensorProto *tp, snnc_tensor *t)
{
    if (tp->raw_data.len)
        memcpy(t->data, tp->raw_data.data, tp->raw_data.len);
    if (t->dtype == SNNC_BOOL)
        for (int64_t i = 0; i < t->count; i++)
            ((uint8_t *)t->data)[i] = ((uint8_t *)t->data)[i] != 0;
}

/* The data fields hold exactly `count` elements of `dtype`. */
static int check_data_size(const Onnx__TensorProto *tp, snnc_dtype dtype, int64_t count,
                           const char *what, snnc_err *err)
{
    if (tp->has_raw_data) {
        size_t need = (size_t)count * snnc_dtype_size(dtype);
        if (tp->raw_data.len != need)
            return snnc_fail(err, SNNC_EINVALID,
                             "%s: dims need %zu bytes of raw_data but it holds %zu", what, need,
                             tp->raw_data.len);
        return SNNC_OK;
    }
    size_t have;
    switch (dtype) {
    case SNNC_F32: have = tp->n_float_data; break;
    case SNNC_F64: have = tp->n_double_data; break;
    case SNNC_I64: have = tp->n_int64_data; break;
    default: have = tp->n_int32_data; break; /* int32, uint8, bool live in int32_data */
    }
    if (have != (size_t)count)
        return snnc_fail(err, SNNC_EINVALID, "%s: dims need %lld elements but the data holds %zu",
                         what, (long long)count, have);
    return SNNC_OK;
}

_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "raw_data is read as little-endian");

int snnc_tensor_from_proto(const void *proto, const char *what, snnc_tensor **out, snnc_err *err)
{
    const Onnx__TensorProto *tp = proto;
    *out = NULL;
    if (tp->has_data_location && tp->data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL)
        return snnc_fail(err, SNNC_EUNSUPPORTED,
                         "%s: stored as external data, which snnc does not read (save the model "
                         "with its weights inside the .onnx file)",
                         what);
    if (tp->segment)
        return snnc_fail(err, SNNC_EUNSUPPORTED, "%s: segmented tensors are not supported", what);
    snnc_dtype dtype = dtype_of(tp->data_type);
    if (!dtype)
        return snnc_fail(err, SNNC_EUNSUPPORTED, "%s: element type %s (%d) is not supported", what,
                         snnc_onnx_type_name(tp->data_type), (int)tp->data_type);
    if (tp->n_dims > SNNC_MAX_RANK)
        return snnc_fail(err, SNNC_EUNSUPPORTED, "%s: rank %zu exceeds the supported %d", what,
                         tp->n_dims, SNNC_MAX_RANK);
    for (size_t i = 0; i < tp->n_dims; i++)
        if (tp->dims[i] < 0)
            return snnc_fail(err, SNNC_EINVALID, "%s: dimension %zu is negative (%lld)", what, i,
                             (long long)tp->dims[i]);
    if (snnc_shape_count((int)tp->n_dims, tp->dims) < 0) {
        char buf[200];
        return snnc_fail(err, SNNC_EINVALID, "%s: dims %s exceed %lld elements", what,
                         snnc_dims_str((int)tp->n_dims, tp->dims, buf, sizeof buf),
                         (long long)SNNC_MAX_ELEMENTS);
    }
    int rc = check_data_size(tp, dtype, snnc_shape_count((int)tp->n_dims, tp->dims), what, err);
    if (rc)
        return rc; /* before allocating: dims may promise gigabytes the file lacks */
    snnc_tensor *t = snnc_tensor_new(dtype, (int)tp->n_dims, tp->dims, err);
    if (!t)
        return err->code;
    if (tp->has_raw_data)
        from_raw_data(tp, t);
    else
        from_typed_fields(tp, t);
    *out = t;
    return SNNC_OK;
}

int snnc_tensor_pb_read(const char *path, snnc_tensor **out, char **name, snnc_err *err)
{
    void *data;
    size_t size;
    *out = NULL;
    if (name)
        *name = NULL;
    int rc = snnc_read_file(path, SNNC_MAX_FILE_BYTES, SNNC_BYTES_PROTOBUF, &data, &size, err);
    if (rc)
        return rc;
    rc = snnc_tensor_pb_read_buffer(data, size, path, out, name, err);
    free(data);
    return rc;
}

int snnc_tensor_pb_read_buffer(const void *data, size_t size, const char *path, snnc_tensor **out,
                               char **name, snnc_err *err)
{
    *out = NULL;
    if (name)
        *name = NULL;
    Onnx__TensorProto *tp = onnx__tensor_proto__unpack(NULL, size, data);
    if (!tp)
        return snnc_fail(err, SNNC_EINVALID, "%s: not a serialized ONNX TensorProto", path);
    int rc = snnc_tensor_from_proto(tp, path, out, err);
    if (!rc && name && tp->name && *tp->name)
        *name = strdup(tp->name);
    onnx__tensor_proto__free_unpacked(tp, NULL);
    return rc;
}
