/* tensor.c — allocation, conversion and inspection of snnc_tensor
 * (interfaces: include/snnc.h, tensor.h). */
#include "tensor.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"

static const struct {
    const char *name;
    size_t size;
} dtype_info[SNNC_DTYPE_COUNT] = {
    [SNNC_DTYPE_UNKNOWN] = {"unknown", 0}, [SNNC_F32] = {"float32", 4}, [SNNC_F64] = {"float64", 8},
    [SNNC_I32] = {"int32", 4},             [SNNC_I64] = {"int64", 8},   [SNNC_U8] = {"uint8", 1},
    [SNNC_BOOL] = {"bool", 1},
};
_Static_assert(SNNC_DTYPE_COUNT == 7, "dtype_info must name every dtype");

size_t snnc_dtype_size(snnc_dtype d) { return (unsigned)d < SNNC_DTYPE_COUNT ? dtype_info[d].size : 0; }

const char *snnc_dtype_name(snnc_dtype d)
{
    return (unsigned)d < SNNC_DTYPE_COUNT ? dtype_info[d].name : "invalid";
}

int64_t snnc_shape_count(int rank, const int64_t *dims)
{
    /* The non-zero dims must multiply within the limit even when a zero dim
     * makes the tensor empty: strides over them are still computed. */
    bool empty = false;
    int64_t n = 1;
    for (int i = 0; i < rank; i++) {
        if (dims[i] < 0)
            return -1;
        if (dims[i] == 0) {
            empty = true;
            continue;
        }
        if (n > SNNC_MAX_ELEMENTS / dims[i])
            return -1;
        n *= dims[i];
    }
    return empty ? 0 : n;
}

const char *snnc_dims_str(int rank, const int64_t *dims, char *buf, size_t size)
{
    size_t off = 0;
    off += (size_t)snprintf(buf + off, size - off, "[");
    for (int i = 0; i < rank && off < size; i++)
        off += (size_t)snprintf(buf + off, size - off, "%s%lld", i ? "," : "", (long long)dims[i]);
    if (off < size)
        snprintf(buf + off, size - off, "]");
    return buf;
}

snnc_tensor *snnc_tensor_new(snnc_dtype dtype, int rank, const int64_t *dims, snnc_err *err)
{
    if (rank < 0 || rank > SNNC_MAX_RANK) {
        snnc_fail(err, SNNC_EUNSUPPORTED, "tensor rank %d exceeds the supported %d", rank,
                  SNNC_MAX_RANK);
        return NULL;
    }
    if (dtype <= SNNC_DTYPE_UNKNOWN || dtype >= SNNC_DTYPE_COUNT) {
        snnc_fail(err, SNNC_EINVALID, "tensor of unknown element type");
        return NULL;
    }
    int64_t count = snnc_shape_count(rank, dims);
    if (count >= 0 && (uint64_t)count * snnc_dtype_size(dtype) > SNNC_MAX_TENSOR_BYTES) {
        char buf[200];
        snnc_fail(err, SNNC_ENOMEM, "tensor shape %s of %s needs %.1f GiB, more than the %d GiB limit",
                  snnc_dims_str(rank, dims, buf, sizeof buf), snnc_dtype_name(dtype),
                  (double)count * (double)snnc_dtype_size(dtype) / (1 << 30),
                  (int)(SNNC_MAX_TENSOR_BYTES >> 30));
        return NULL;
    }
    if (count < 0) {
        char buf[200];
        snnc_fail(err, SNNC_ENOMEM, "tensor shape %s is negative or exceeds %lld elements",
                  snnc_dims_str(rank, dims, buf, sizeof buf), (long long)SNNC_MAX_ELEMENTS);
        return NULL;
    }
    snnc_tensor *t = calloc(1, sizeof *t);
    if (!t) {
        snnc_fail(err, SNNC_ENOMEM, "out of memory");
        return NULL;
    }
    t->dtype = dtype;
    t->rank = rank;
    if (rank)
        memcpy(t->dims, dims, (size_t)rank * sizeof *dims);
    t->count = count;
    t->data = calloc((size_t)(count ? count : 1), snnc_dtype_size(dtype));
    if (!t->data) {
        free(t);
        snnc_fail(err, SNNC_ENOMEM, "out of memory for %lld elements", (long long)count);
        return NULL;
    }
    return t;
}

void snnc_tensor_free(snnc_tensor *t)
{
    if (t) {
        free(t->data);
        free(t);
    }
}

snnc_tensor *snnc_tensor_copy(const snnc_tensor *t, snnc_err *err)
{
    snnc_tensor *c = snnc_tensor_new(t->dtype, t->rank, t->dims, err);
    if (c && t->count)
        memcpy(c->data, t->data, (size_t)t->count * snnc_dtype_size(t->dtype));
    return c;
}

double snnc_tensor_get_f(const snnc_tensor *t, int64_t i)
{
    switch (t->dtype) {
    case SNNC_F32: return ((const float *)t->data)[i];
    case SNNC_F64: return ((const double *)t->data)[i];
    case SNNC_I32: return ((const int32_t *)t->data)[i];
    case SNNC_I64: return (double)((const int64_t *)t->data)[i];
    case SNNC_U8:
    case SNNC_BOOL: return ((const uint8_t *)t->data)[i];
    default: return 0;
    }
}

int64_t snnc_tensor_get_i(const snnc_tensor *t, int64_t i)
{
    switch (t->dtype) {
    case SNNC_F32: return (int64_t)((const float *)t->data)[i];
    case SNNC_F64: return (int64_t)((const double *)t->data)[i];
    case SNNC_I32: return ((const int32_t *)t->data)[i];
    case SNNC_I64: return ((const int64_t *)t->data)[i];
    case SNNC_U8:
    case SNNC_BOOL: return ((const uint8_t *)t->data)[i];
    default: return 0;
    }
}

snnc_dtype snnc_compute_dtype(snnc_dtype d)
{
    switch (d) {
    case SNNC_F64: return SNNC_F32;
    case SNNC_I32:
    case SNNC_U8: return SNNC_I64;
    default: return d;
    }
}

snnc_tensor *snnc_tensor_convert(const snnc_tensor *t, snnc_dtype dtype, snnc_err *err)
{
    if (t->dtype == dtype)
        return snnc_tensor_copy(t, err);
    snnc_tensor *c = snnc_tensor_new(dtype, t->rank, t->dims, err);
    if (!c)
        return NULL;
    for (int64_t i = 0; i < t->count; i++) {
        switch (dtype) {
        case SNNC_F32: ((float *)c->data)[i] = (float)snnc_tensor_get_f(t, i); break;
        case SNNC_F64: ((double *)c->data)[i] = snnc_tensor_get_f(t, i); break;
        case SNNC_I32: ((int32_t *)c->data)[i] = (int32_t)snnc_tensor_get_i(t, i); break;
        case SNNC_I64: ((int64_t *)c->data)[i] = snnc_tensor_get_i(t, i); break;
        case SNNC_U8: ((uint8_t *)c->data)[i] = (uint8_t)snnc_tensor_get_i(t, i); break;
        case SNNC_BOOL: ((uint8_t *)c->data)[i] = snnc_tensor_get_f(t, i) != 0; break;
        default: break;
        }
    }
    return c;
}

snnc_tensor *snnc_tensor_scalar_f32(float v, snnc_err *err)
{
    snnc_tensor *t = snnc_tensor_new(SNNC_F32, 0, NULL, err);
    if (t)
        snnc_f32(t)[0] = v;
    return t;
}

bool snnc_same_shape(const snnc_tensor *a, const snnc_tensor *b)
{
    if (a->rank != b->rank)
        return false;
    for (int i = 0; i < a->rank; i++)
        if (a->dims[i] != b->dims[i])
            return false;
    return true;
}
