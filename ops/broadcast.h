/* broadcast.h — what the element-wise operator families (elementwise.c,
 * compare.c) share: the numpy broadcast of n inputs' shapes at infer time,
 * the strided broadcast iterator that walks the output at compute time,
 * the arity check, the saturating float -> int64 conversion, and the
 * macro that defines one operator's hooks over a family's shared hooks
 * (implementation: broadcast.c). */
#ifndef SNNC_BROADCAST_H
#define SNNC_BROADCAST_H

#include <stdbool.h>
#include <stdint.h>

#include "op.h"

/* The node has lo..hi inputs, the first `lo` present, and one output. */
int snnc_ew_check_arity(snnc_opctx *c, const snnc_vinfo *in, int lo, int hi);

/* Saturating double -> int64 truncating toward zero (NaN -> 0), the
 * conversion numpy's astype does for in-range values. */
int64_t snnc_ew_f2i(double v);

/* Define fn##_infer and fn##_compute, the hooks of one operator of a family
 * whose shared hooks family##_infer / family##_compute take the operator's
 * code as a last argument. */
#define SNNC_EW_HOOKS(fn, family, code)                                                      \
    static int fn##_infer(snnc_opctx *c, const snnc_vinfo *in, snnc_vinfo *out)              \
    {                                                                                        \
        return family##_infer(c, in, out, code);                                             \
    }                                                                                        \
    static int fn##_compute(snnc_opctx *c, const snnc_tensor *const *in,                     \
                            snnc_tensor *const *out)                                         \
    {                                                                                        \
        return family##_compute(c, in, out, code);                                           \
    }

/* infer: out's shape is the numpy broadcast of in[0..n-1]'s (possibly
 * symbolic) shapes; left unknown (rank -1) when any input rank is unknown.
 * Fails naming the node when the shapes cannot broadcast. */
int snnc_bcast_infer(snnc_opctx *c, int n, const snnc_vinfo *in, snnc_vinfo *out);

/* compute: the output is walked in C order, one innermost row at a time;
 * each operand has an element stride per output axis (0 along axes it is
 * broadcast over).  Axes that are contiguous for every operand are merged,
 * so same-shape operands become a single row. */
#define SNNC_BCAST_MAX_OPERANDS 3

typedef struct snnc_bcast {
    int rank, n;
    int64_t count;
    int64_t dims[SNNC_MAX_RANK];
    int64_t strides[SNNC_BCAST_MAX_OPERANDS][SNNC_MAX_RANK];
} snnc_bcast;

/* Row callback: len elements; the output row starts at element out_off;
 * operand k's row starts at element off[k] and advances by step[k]. */
typedef void (*snnc_bcast_row_fn)(void *ctx, int64_t len, int64_t out_off, const int64_t *off,
                                  const int64_t *step);

/* Build the iterator over out and in[0..n-1] (n <= SNNC_BCAST_MAX_OPERANDS);
 * fails naming the node when an operand does not broadcast to out's shape. */
int snnc_bcast_prepare(snnc_opctx *c, snnc_bcast *it, const snnc_tensor *out, int n,
                       const snnc_tensor *const *in);
/* Call fn once per output row. */
void snnc_bcast_run(const snnc_bcast *it, snnc_bcast_row_fn fn, void *ctx);

#endif
