/* tensor.h — internal helpers over the public snnc_tensor (tensor.c).
 *
 * Shapes are checked for overflow before any allocation; typed accessors
 * keep casts in one place. */
#ifndef SNNC_TENSOR_H
#define SNNC_TENSOR_H

#include <stdbool.h>
#include <stdint.h>

#include "snnc.h"

/* Product of dims, or -1 when it overflows or exceeds SNNC_MAX_ELEMENTS
 * or a dim is negative. */
int64_t snnc_shape_count(int rank, const int64_t *dims);

snnc_tensor *snnc_tensor_copy(const snnc_tensor *t, snnc_err *err);
/* A tensor of the same contents converted to `dtype` (F32/F64 <-> ints <-> bool). */
snnc_tensor *snnc_tensor_convert(const snnc_tensor *t, snnc_dtype dtype, snnc_err *err);
/* Scalar of a given type. */
snnc_tensor *snnc_tensor_scalar_f32(float v, snnc_err *err);

/* The type the evaluator computes in for values stored as `dtype`:
 * F64 -> F32; I32, U8 -> I64; F32, I64, BOOL unchanged. */
snnc_dtype snnc_compute_dtype(snnc_dtype dtype);

/* Element i as double / int64, whatever the stored type. */
double snnc_tensor_get_f(const snnc_tensor *t, int64_t i);
int64_t snnc_tensor_get_i(const snnc_tensor *t, int64_t i);

bool snnc_same_shape(const snnc_tensor *a, const snnc_tensor *b);
/* "[2,3,4]" into buf. */
const char *snnc_dims_str(int rank, const int64_t *dims, char *buf, size_t size);

static inline float *snnc_f32(const snnc_tensor *t) { return (float *)t->data; }
static inline int64_t *snnc_i64(const snnc_tensor *t) { return (int64_t *)t->data; }
static inline uint8_t *snnc_u8(const snnc_tensor *t) { return (uint8_t *)t->data; }

#endif
