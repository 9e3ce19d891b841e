/* op_harness.h — what the operator unit tests (test_compare.c,
 * test_elementwise.c) share: a node of one operator built by hand, its
 * inputs described from tensors, and the evaluator's sequence of hooks
 * (infer on shapes, infer on contents, compute), and result checks.  The ops under test are
 * reached through the family tables (ops/op.h: snnc_op_lookup/snnc_op_get). */
#ifndef SNNC_OP_HARNESS_H
#define SNNC_OP_HARNESS_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "harness.h"
#include "ops/op.h"

#define OP_MAX_IO 4

typedef struct op_run {
    snnc_node node;
    snnc_attr attrs[4];
    snnc_graph *g;
    snnc_err err;
    snnc_opctx c;
    snnc_vinfo in[OP_MAX_IO], out[OP_MAX_IO];
} op_run;

static inline snnc_attr a_int(const char *name, int64_t v)
{
    return (snnc_attr){.name = (char *)name, .kind = SNNC_ATTR_INT, .i = v};
}

static inline snnc_attr a_float(const char *name, float v)
{
    return (snnc_attr){.name = (char *)name, .kind = SNNC_ATTR_FLOAT, .f = v};
}

static inline snnc_attr a_ints(const char *name, int n, int64_t *v)
{
    return (snnc_attr){.name = (char *)name, .kind = SNNC_ATTR_INTS, .n = n, .ints = v};
}

/* A node of `op` at `opset` with n_in inputs and the given attributes
 * (at most 4); inputs and outputs start unknown (rank -1). */
static inline void op_setup(op_run *r, const char *op, int opset, int n_in, int n_attrs,
                            const snnc_attr *attrs)
{
    memset(r, 0, sizeof *r);
    r->node.name = "n0";
    r->node.op_type = (char *)op;
    r->node.domain = "";
    r->node.op = snnc_op_lookup(op);
    r->node.n_inputs = n_in;
    r->node.n_outputs = 1;
    r->node.n_attrs = n_attrs;
    for (int i = 0; i < n_attrs; i++)
        r->attrs[i] = attrs[i];
    r->node.attrs = r->attrs;
    r->g = snnc_graph_new();
    r->c = (snnc_opctx){&r->node, r->g, opset, false, &r->err};
    for (int i = 0; i < OP_MAX_IO; i++) {
        r->in[i] = (snnc_vinfo){.rank = -1, .n_symval = -1};
        r->out[i] = (snnc_vinfo){.rank = -1, .n_symval = -1};
    }
}

static inline void op_teardown(op_run *r) { snnc_graph_free(r->g); }

/* Describe input i from a tensor (NULL: omitted); with_value exposes its contents. */
static inline void op_set_input(op_run *r, int i, const snnc_tensor *t, bool with_value)
{
    r->in[i] = (snnc_vinfo){.rank = -1, .n_symval = -1};
    if (!t)
        return;
    r->in[i].present = true;
    snnc_op_set_shape(&r->in[i], t->dtype, t->rank, t->dims);
    r->in[i].value = with_value ? t : NULL;
}

/* Run the infer hook on r->in, outputs reset first. */
static inline int op_infer(op_run *r)
{
    const snnc_op_def *d = snnc_op_get(r->node.op);
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    for (int j = 0; j < OP_MAX_IO; j++)
        r->out[j] = (snnc_vinfo){.rank = -1, .n_symval = -1};
    return d->infer(&r->c, r->in, r->out);
}

/* Infer at load time (shapes only), then at run time (contents known), then
 * compute.  Returns the status; *y is the output (caller frees) on success;
 * err (optional) receives the message. */
static inline int op_eval(const char *op, int opset, int n_attrs, const snnc_attr *attrs, int n_in,
                          const snnc_tensor *const *x, snnc_tensor **y, snnc_err *err)
{
    op_run r;
    op_setup(&r, op, opset, n_in, n_attrs, attrs);
    *y = NULL;
    for (int i = 0; i < n_in; i++)
        op_set_input(&r, i, x[i], false);
    int rc = op_infer(&r);
    if (rc == SNNC_OK) {
        r.c.runtime = true;
        for (int i = 0; i < n_in; i++)
            op_set_input(&r, i, x[i], true);
        rc = op_infer(&r);
    }
    if (rc == SNNC_OK) {
        *y = snnc_tensor_new(r.out[0].dtype, r.out[0].rank, r.out[0].dims, &r.err);
        CU_ASSERT_PTR_NOT_NULL_FATAL(*y);
        rc = snnc_op_get(r.node.op)->compute(&r.c, x, y);
        if (rc) {
            snnc_tensor_free(*y);
            *y = NULL;
        }
    }
    if (err)
        *err = r.err;
    op_teardown(&r);
    return rc;
}

/* A tensor of dtype d, filled from v when v is not NULL; NULL when allocation fails. */
static inline snnc_tensor *op_tensor(snnc_dtype d, int rank, const int64_t *dims, const void *v)
{
    snnc_tensor *t = snnc_tensor_new(d, rank, dims, NULL);
    if (t && v && t->count)
        memcpy(t->data, v, (size_t)t->count * snnc_dtype_size(d));
    return t;
}

/* Assert t exists and has the given shape. */
static inline void op_check_shape(const snnc_tensor *t, int rank, const int64_t *dims)
{
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    CU_ASSERT_EQUAL_FATAL(t->rank, rank);
    for (int i = 0; i < rank; i++)
        CU_ASSERT_EQUAL(t->dims[i], dims[i]);
}

/* Assert t is an int64 tensor of the n values want. */
static inline void check_i64(const snnc_tensor *t, int n, const int64_t *want)
{
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    CU_ASSERT_EQUAL_FATAL(t->dtype, SNNC_I64);
    CU_ASSERT_EQUAL_FATAL(t->count, n);
    for (int i = 0; i < n; i++)
        CU_ASSERT_EQUAL(snnc_i64(t)[i], want[i]);
}

static inline void free_all(snnc_tensor **t, int n)
{
    for (int i = 0; i < n; i++)
        snnc_tensor_free(t[i]);
}

#endif
