/* onnx_build.c — in-memory ONNX building blocks for the benchmarks
 * (interface: onnx_build.h). */
#include "onnx_build.h"

#include <stdlib.h>

#include "bench_util.h"

void bench_value_set(bench_value *v, char *name, int rank, const int64_t *dims)
{
    onnx__tensor_shape_proto__init(&v->shape);
    for (int i = 0; i < rank; i++) {
        onnx__tensor_shape_proto__dimension__init(&v->dim[i]);
        v->dim[i].value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
        v->dim[i].dim_value = dims[i];
        v->dimp[i] = &v->dim[i];
    }
    v->shape.n_dim = (size_t)rank;
    v->shape.dim = v->dimp;
    onnx__type_proto__tensor__init(&v->ttype);
    v->ttype.has_elem_type = 1;
    v->ttype.elem_type = ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT;
    v->ttype.shape = &v->shape;
    onnx__type_proto__init(&v->type);
    v->type.value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
    v->type.tensor_type = &v->ttype;
    onnx__value_info_proto__init(&v->vi);
    v->vi.name = name;
    v->vi.type = &v->type;
}

int bench_init_set(bench_init *b, char *name, int rank, const int64_t *dims, float scale, bool i64,
                   uint64_t *rng)
{
    size_t n = 1;
    for (int i = 0; i < rank; i++) {
        b->dims[i] = dims[i];
        n *= (size_t)dims[i];
    }
    size_t esz = i64 ? sizeof(int64_t) : sizeof(float);
    b->data = calloc(n ? n : 1, esz);
    if (!b->data)
        return -1;
    float *f = b->data;
    for (size_t i = 0; !i64 && i < n; i++)
        f[i] = scale * (2.0f * (float)snnc_bench_uniform01(rng) - 1.0f);
    onnx__tensor_proto__init(&b->t);
    b->t.name = name;
    b->t.n_dims = (size_t)rank;
    b->t.dims = b->dims;
    b->t.has_data_type = 1;
    b->t.data_type = i64 ? ONNX__TENSOR_PROTO__DATA_TYPE__INT64 : ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT;
    b->t.has_raw_data = 1;
    b->t.raw_data.len = n * esz;
    b->t.raw_data.data = b->data;
    return 0;
}

void bench_init_free(bench_init *b)
{
    free(b->data);
    b->data = NULL;
}

uint8_t *bench_model_pack(const Onnx__ModelProto *m, size_t *size)
{
    *size = onnx__model_proto__get_packed_size(m);
    uint8_t *buf = malloc(*size ? *size : 1);
    if (buf && onnx__model_proto__pack(m, buf) != *size) {
        free(buf);
        buf = NULL;
    }
    return buf;
}
