/* onnx_build.h — building ONNX models in memory for the benchmarks: tensor
 * value infos, initializers of fixed-seed uniform weights, packing
 * (onnx_build.c; used by bench_eval.c and bench_convert.c). */
#ifndef SNNC_BENCH_ONNX_BUILD_H
#define SNNC_BENCH_ONNX_BUILD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "onnx.pb-c.h"

#define BENCH_MAX_RANK 4

/* A float tensor's ValueInfoProto and the storage it points into. */
typedef struct bench_value {
    Onnx__ValueInfoProto vi;
    Onnx__TypeProto type;
    Onnx__TypeProto__Tensor ttype;
    Onnx__TensorShapeProto shape;
    Onnx__TensorShapeProto__Dimension dim[BENCH_MAX_RANK], *dimp[BENCH_MAX_RANK];
} bench_value;

void bench_value_set(bench_value *v, char *name, int rank, const int64_t *dims);

/* An initializer in little-endian raw_data, as exporters write them: float
 * uniform in [-scale, scale) from the splitmix64 stream, or int64 zeros. */
typedef struct bench_init {
    Onnx__TensorProto t;
    int64_t dims[BENCH_MAX_RANK];
    void *data;
} bench_init;

int bench_init_set(bench_init *b, char *name, int rank, const int64_t *dims, float scale, bool i64,
                   uint64_t *rng);
void bench_init_free(bench_init *b);

/* Serialise into a new buffer; NULL on failure. */
uint8_t *bench_model_pack(const Onnx__ModelProto *m, size_t *size);

#endif
