/* reduce.c — the ONNX reductions ReduceSum, ReduceMean and ReduceMax (table
 * snnc_ops_reduce, interface ops/op.h) on float32 and int64.  `axes` is an
 * attribute until it becomes an optional input (opset 13 for ReduceSum, 18
 * for the others), together with noop_with_empty_axes; keepdims defaults
 * to 1.  One walk over the input accumulates into the (keepdims) output. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "op.h"

typedef enum { RED_SUM, RED_MEAN, RED_MAX } redop;

/* What a node reduces over a tensor of rank `rank`. */
typedef struct plan {
    bool noop;                  /* output is the input */
    bool known;                 /* false: axes come from an input not known yet */
    bool keepdims;
    bool mask[SNNC_MAX_RANK];   /* reduced axes */
} plan;

/* The opset from which `axes` is an input and noop_with_empty_axes exists. */
static int axes_input_opset(redop op) { return op == RED_SUM ? 13 : 18; }

/* A 0/1 integer attribute. */
static int attr_flag(snnc_opctx *c, const char *name, int64_t def, bool *out)
{
    const snnc_attr *a = snnc_node_attr(c->node, name);
    if (a && (a->kind != SNNC_ATTR_INT || (a->i != 0 && a->i != 1)))
        return snnc_op_fail(c, SNNC_EINVALID, "attribute '%s' must be 0 or 1", name);
    *out = (a ? a->i : def) != 0;
    return SNNC_OK;
}

/* The axes the node lists (attribute or input contents) into axes[0..*n);
 * *n = -1 when they are an input whose contents are not known yet. */
static int listed_axes(snnc_opctx *c, redop op, const snnc_vinfo *axes_in, int64_t *axes, int *n)
{
    const snnc_attr *a = snnc_node_attr(c->node, "axes");
    *n = 0;
    if (c->opset < axes_input_opset(op)) {
        if (!a)
            return SNNC_OK;
        if (a->kind != SNNC_ATTR_INTS)
            return snnc_op_fail(c, SNNC_EINVALID, "attribute 'axes' must be a list of integers");
        if (a->n > SNNC_MAX_RANK)
            return snnc_op_fail(c, SNNC_EINVALID, "%d axes listed, more than any rank", a->n);
        if (a->n > 0)
            memcpy(axes, a->ints, (size_t)a->n * sizeof *axes);
        *n = a->n;
        return SNNC_OK;
    }
    if (a)
        return snnc_op_fail(c, SNNC_EINVALID, "axes is an input, not an attribute, from opset %d",
                            axes_input_opset(op));
    if (!axes_in || !axes_in->present)
        return SNNC_OK;
    snnc_dtype d = snnc_compute_dtype(axes_in->dtype);
    if ((d != SNNC_DTYPE_UNKNOWN && d != SNNC_I64) || axes_in->rank > 1)
        return snnc_op_fail(c, SNNC_EINVALID, "axes must be a 1-D int64 tensor");
    if (axes_in->value && axes_in->value->count > SNNC_MAX_RANK)
        return snnc_op_fail(c, SNNC_EINVALID, "%lld axes listed, more than any rank",
                            (long long)axes_in->value->count);
    bool none = axes_in->rank == 1 && axes_in->dims[0] == 0; /* empty, even if not constant */
    *n = none ? 0 : snnc_op_known_ints(axes_in, axes, SNNC_MAX_RANK);
    return SNNC_OK;
}

/* Check the arity and attributes and work out what is reduced. */
static int make_plan(snnc_opctx *c, redop op, int rank, const snnc_vinfo *axes_in, plan *p)
{
    bool inputs = c->opset >= axes_input_opset(op), noop_empty = false;
    int n_in = c->node->n_inputs, n;
    int64_t axes[SNNC_MAX_RANK];
    if (n_in < 1 || n_in > (inputs ? 2 : 1))
        return snnc_op_fail(c, SNNC_EINVALID, "expects %s input%s at opset %d, got %d",
                            inputs ? "1 or 2" : "1", inputs ? "s" : "", c->opset, n_in);
    if (c->node->n_outputs != 1)
        return snnc_op_fail(c, SNNC_EINVALID, "expects 1 output, got %d", c->node->n_outputs);
    if (!inputs && snnc_node_attr(c->node, "noop_with_empty_axes"))
        return snnc_op_fail(c, SNNC_EINVALID, "noop_with_empty_axes needs opset %d",
                            axes_input_opset(op));
    int rc = attr_flag(c, "keepdims", 1, &p->keepdims);
    if (rc || (rc = attr_flag(c, "noop_with_empty_axes", 0, &noop_empty)) ||
        (rc = listed_axes(c, op, axes_in, axes, &n)))
        return rc;
    p->known = n >= 0;
    p->noop = n == 0 && noop_empty;
    for (int d = 0; d < SNNC_MAX_RANK; d++)
        p->mask[d] = n == 0 && !noop_empty;
    for (int i = 0; i < n; i++) {
        int ax;
        if ((rc = snnc_op_axis(c, axes[i], rank, "axis", &ax)))
            return rc;
        if (p->mask[ax])
            return snnc_op_fail(c, SNNC_EINVALID, "axis %d is listed twice", ax);
        p->mask[ax] = true;
    }
    return SNNC_OK;
}

static int reduce_infer(snnc_opctx *c, const snnc_vinfo *in, snnc_vinfo *out, redop op)
{
    plan p;
    if (c->node->n_inputs < 1 || !in[0].present)
        return snnc_op_fail(c, SNNC_EINVALID, "the data input is missing");
    snnc_dtype d = snnc_compute_dtype(in[0].dtype);
    if (d != SNNC_DTYPE_UNKNOWN && d != SNNC_F32 && d != SNNC_I64)
        return snnc_op_fail(c, SNNC_EINVALID, "input of type %s is not supported",
                            snnc_dtype_name(d));
    int rank = in[0].rank < 0 ? SNNC_MAX_RANK : in[0].rank; /* check axes only once known */
    int rc = make_plan(c, op, rank, c->node->n_inputs > 1 ? &in[1] : NULL, &p);
    if (rc)
        return rc;
    out[0].dtype = d;
    if (in[0].rank < 0)
        return SNNC_OK;
    if (p.noop) {
        snnc_op_set_shape(&out[0], d, in[0].rank, in[0].dims);
        return SNNC_OK;
    }
    if (!p.known) { /* each dim is kept or becomes 1: the rank survives only with keepdims */
        if (p.keepdims) {
            out[0].rank = in[0].rank;
            for (int i = 0; i < in[0].rank; i++)
                out[0].dims[i] = in[0].dims[i] == 1 ? 1 : snnc_op_fresh_dim(c);
        }
        return SNNC_OK;
    }
    out[0].rank = 0;
    for (int i = 0; i < in[0].rank; i++)
        if (!p.mask[i] || p.keepdims)
            out[0].dims[out[0].rank++] = p.mask[i] ? 1 : in[0].dims[i];
    return SNNC_OK;
}

/* Element strides into the output for each input axis (0 along reduced axes). */
static void out_strides(const snnc_tensor *x, const plan *p, int64_t *ost)
{
    int64_t s = 1;
    for (int d = x->rank - 1; d >= 0; d--) {
        ost[d] = p->mask[d] ? 0 : s;
        s *= p->mask[d] ? 1 : x->dims[d];
    }
}

/* Walk x in C order running BODY with input index i and output index o. */
#define WALK(x, ost, BODY)                                                                     \
    do {                                                                                       \
        int64_t idx_[SNNC_MAX_RANK] = {0}, o = 0;                                              \
        for (int64_t i = 0; i < (x)->count; i++) {                                             \
            BODY;                                                                              \
            for (int d_ = (x)->rank - 1; d_ >= 0; d_--) {                                      \
                o += (ost)[d_];                                                                \
                if (++idx_[d_] < (x)->dims[d_])                                                \
                    break;                                                                     \
                o -= (ost)[d_] * (x)->dims[d_];                                                \
                idx_[d_] = 0;                                                                  \
            }                                                                                  \
        }                                                                                      \
    } while (0)

static int reduce_f32(snnc_opctx *c, redop op, const snnc_tensor *x, snnc_tensor *y,
                      const int64_t *ost, int64_t per_out)
{
    const float *xs = snnc_f32(x);
    float *ys = snnc_f32(y);
    if (op == RED_MAX) {
        for (int64_t o = 0; o < y->count; o++)
            ys[o] = -INFINITY;
        WALK(x, ost, if (xs[i] > ys[o] || isnan(xs[i])) ys[o] = xs[i]);
        return SNNC_OK;
    }
    double *acc = calloc((size_t)(y->count ? y->count : 1), sizeof *acc);
    if (!acc)
        return snnc_op_fail(c, SNNC_ENOMEM, "out of memory");
    WALK(x, ost, acc[o] += xs[i]);
    for (int64_t o = 0; o < y->count; o++)
        ys[o] = (float)(op == RED_MEAN ? acc[o] / (double)per_out : acc[o]);
    free(acc);
    return SNNC_OK;
}

static void reduce_i64(redop op, const snnc_tensor *x, snnc_tensor *y, const int64_t *ost,
                       int64_t per_out)
{
    const int64_t *xs = snnc_i64(x);
    int64_t *ys = snnc_i64(y);
    if (op == RED_MAX) {
        for (int64_t o = 0; o < y->count; o++)
            ys[o] = INT64_MIN;
        WALK(x, ost, if (xs[i] > ys[o]) ys[o] = xs[i]);
        return;
    }
    WALK(x, ost, ys[o] = (int64_t)((uint64_t)ys[o] + (uint64_t)xs[i]));
    if (op == RED_MEAN && per_out > 0)
        for (int64_t o = 0; o < y->count; o++)
            ys[o] /= per_out;
}

static int reduce_compute(snnc_opctx *c, const snnc_tensor *const *in, snnc_tensor *const *out,
                          redop op)
{
    const snnc_tensor *x = in[0];
    snnc_tensor *y = out[0];
    snnc_vinfo axes = {.present = c->node->n_inputs > 1 && in[1], .n_symval = -1, .rank = -1};
    if (axes.present) {
        snnc_op_set_shape(&axes, in[1]->dtype, in[1]->rank, in[1]->dims);
        axes.value = in[1];
    }
    plan p;
    int rc = make_plan(c, op, x->rank, &axes, &p);
    if (rc)
        return rc;
    if (x->dtype != y->dtype || (x->dtype != SNNC_F32 && x->dtype != SNNC_I64))
        return snnc_op_fail(c, SNNC_EINVALID, "unsupported input type %s",
                            snnc_dtype_name(x->dtype));
    int64_t expect = 1, ost[SNNC_MAX_RANK];
    for (int d = 0; d < x->rank; d++)
        expect *= p.noop || !p.mask[d] ? x->dims[d] : 1;
    if (y->count != expect)
        return snnc_op_fail(c, SNNC_EINVALID, "output has %lld elements, expected %lld",
                            (long long)y->count, (long long)expect);
    if (p.noop) {
        memcpy(y->data, x->data, (size_t)x->count * snnc_dtype_size(x->dtype));
        return SNNC_OK;
    }
    out_strides(x, &p, ost);
    int64_t per_out = y->count ? x->count / y->count : 0;
    if (x->dtype == SNNC_I64) {
        reduce_i64(op, x, y, ost, per_out);
        return SNNC_OK;
    }
    return reduce_f32(c, op, x, y, ost, per_out);
}

#define REDUCE_OP(fn, code)                                                                  \
    static int fn##_infer(snnc_opctx *c, const snnc_vinfo *in, snnc_vinfo *out)              \
    {                                                                                        \
        return reduce_infer(c, in, out, code);                                               \
    }                                                                                        \
    static int fn##_compute(snnc_opctx *c, const snnc_tensor *const *in,                     \
                            snnc_tensor *const *out)                                         \
    {                                                                                        \
        return reduce_compute(c, in, out, code);                                             \
    }

REDUCE_OP(sum, RED_SUM)
REDUCE_OP(mean, RED_MEAN)
REDUCE_OP(max, RED_MAX)

const snnc_op_def snnc_ops_reduce[] = {
    {"ReduceSum", 1, 2, 1, 1, sum_infer, sum_compute},
    {"ReduceMean", 1, 2, 1, 1, mean_infer, mean_compute},
    {"ReduceMax", 1, 2, 1, 1, max_infer, max_compute},
    {NULL, 0, 0, 0, 0, NULL, NULL},
};
