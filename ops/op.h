/* op.h — the operator table: one entry per ONNX operator, each with the same
 * two hooks (ops/registry.c holds the table; one file per operator family
 * implements the hooks).
 *
 *   infer   — checks attributes and input types, and computes the output
 *             element types and shapes from the inputs' (possibly symbolic)
 *             shapes and, where known, their contents.  The same function
 *             runs at load time on symbolic shapes (passes/shape_infer.c)
 *             and at run time on concrete ones (eval/evaluator.c), so shape
 *             rules are written once.
 *   compute — fills the outputs, which the evaluator has allocated with the
 *             shapes `infer` gave for the concrete inputs.
 *
 * Element types inside the evaluator are only SNNC_F32, SNNC_I64 and
 * SNNC_BOOL (snnc_compute_dtype maps stored types onto them). */
#ifndef SNNC_OP_H
#define SNNC_OP_H

#include <stdbool.h>

#include "../ir/error.h"
#include "../ir/graph.h"
#include "../ir/tensor.h"

/* What is known of one input or output while inferring. */
typedef struct snnc_vinfo {
    snnc_dtype dtype;            /* SNNC_DTYPE_UNKNOWN if not known */
    int rank;                    /* -1 if not known */
    int64_t dims[SNNC_MAX_RANK]; /* >= 0 concrete, < 0 symbolic (SNNC_SYM) */
    const snnc_tensor *value;    /* contents, when known (constants; always at run time) */
    int n_symval;                /* see snnc_value.symval; -1 when not tracked */
    int64_t symval[SNNC_MAX_RANK];
    bool present;                /* false for an omitted optional input */
} snnc_vinfo;

typedef struct snnc_opctx {
    const snnc_node *node;
    snnc_graph *graph; /* for fresh symbols (snnc_graph_symbol(g, NULL)) */
    int opset;         /* the model's default-domain opset */
    bool runtime;      /* true in the evaluator: every shape is concrete */
    snnc_err *err;
} snnc_opctx;

/* infer: `in` has node->n_inputs entries (absent ones have present=false);
 * `out` has node->n_outputs entries pre-set to unknown (rank -1,
 * n_symval -1, value NULL).  Set dtype, rank and dims of each output; set
 * n_symval/symval when the output is a shape-like value that can be
 * tracked.  Return SNNC_OK or fail through snnc_op_fail. */
typedef int (*snnc_infer_fn)(snnc_opctx *c, const snnc_vinfo *in, snnc_vinfo *out);

/* compute: in[i] is NULL for omitted optional inputs; out[j] are allocated
 * and zeroed, of the inferred dtype and shape. */
typedef int (*snnc_compute_fn)(snnc_opctx *c, const snnc_tensor *const *in, snnc_tensor *const *out);

typedef struct snnc_op_def {
    const char *name;    /* ONNX op_type, default domain */
    int min_inputs, max_inputs;
    int min_outputs, max_outputs;
    snnc_infer_fn infer;
    snnc_compute_fn compute;
} snnc_op_def;

/* Index of op_type in the table, or -1. */
int snnc_op_lookup(const char *op_type);
const snnc_op_def *snnc_op_get(int op);
int snnc_op_count(void);

/* Fail naming the node: "node 'name' (OpType): <reason>". */
int snnc_op_fail(snnc_opctx *c, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* ---- helpers shared by the operator families (ops/common.c) ---- */

/* Normalise an axis in [-rank, rank) to [0, rank); fails naming `what`. */
int snnc_op_axis(snnc_opctx *c, int64_t axis, int rank, const char *what, int *out);
/* numpy broadcast of a and b's (possibly symbolic) shapes into out. */
int snnc_op_broadcast(snnc_opctx *c, int ra, const int64_t *da, int rb, const int64_t *db,
                      int *rout, int64_t *dout);
/* Set out to a fresh unknown dim (runtime never needs one). */
int64_t snnc_op_fresh_dim(snnc_opctx *c);
/* The int64 elements of an input whose contents are known concretely (its
 * value, or a tracked symval with no symbolic element).  Returns the count,
 * or -1 when unknown or longer than `cap`. */
int snnc_op_known_ints(const snnc_vinfo *v, int64_t *out, int cap);
/* Like snnc_op_known_ints but also accepts symbolic elements (SNNC_SYM
 * values from a tracked symval): for inputs that are shapes (Reshape,
 * Expand, ConstantOfShape).  Returns the count, or -1 when unknown. */
int snnc_op_shape_operand(const snnc_vinfo *v, int64_t *out, int cap);
/* C-order element strides of dims. */
void snnc_op_contiguous_strides(int rank, const int64_t *dims, int64_t *st);
/* Copy the box `dims` (rank <= 2*SNNC_MAX_RANK) of esize-byte elements from
 * src to dst with per-operand element strides (0 repeats, negative walks
 * backwards, NULL = C-contiguous). */
void snnc_op_copy_strided(size_t esize, int rank, const int64_t *dims, const void *src,
                          const int64_t *src_strides, void *dst, const int64_t *dst_strides);
/* The elements of a small int64 value of rank <= 1: its contents or its
 * tracked symval (elements may be symbols); -1 when unknown. */
int snnc_op_tracked(const snnc_vinfo *v, int64_t *out);
/* Record n tracked elements on an output. */
void snnc_op_set_tracked(snnc_vinfo *o, int n, const int64_t *e);
/* Track known elements e[0..n) on o when each can be tracked (>= 0 or -1). */
void snnc_op_track_literals(snnc_vinfo *o, int n, const int64_t *e);
/* Carry in's tracked elements to out when out is 0-D/1-D of the same count. */
void snnc_op_carry_tracked(const snnc_vinfo *in, snnc_vinfo *out);
/* compute for ops whose output is the input reshaped. */
int snnc_op_copy_input(snnc_opctx *c, const snnc_tensor *const *in, snnc_tensor *const *out);
/* Copy dims. */
void snnc_op_set_shape(snnc_vinfo *v, snnc_dtype dtype, int rank, const int64_t *dims);

#endif
