/* softmax.c — the ONNX operators Softmax and LogSoftmax (table
 * snnc_ops_softmax, interface ops/op.h).  Before opset 13 the input is
 * coerced to 2-D at `axis` (default 1) and normalised over the flattened
 * trailing block; from opset 13 over the single `axis` (default -1).  Both
 * become one (outer, n, inner) walk that subtracts the maximum first. */
#include <math.h>

#include "op.h"

/* The normalised span of a tensor: `outer` groups of `n` elements spaced
 * `inner` apart. */
typedef struct span {
    int64_t outer, n, inner;
} span;

/* The axis attribute (default 1 before opset 13, -1 from 13), checked and
 * normalised for `rank`. */
static int softmax_axis(snnc_opctx *c, int rank, int *axis)
{
    const snnc_attr *a = snnc_node_attr(c->node, "axis");
    if (a && a->kind != SNNC_ATTR_INT)
        return snnc_op_fail(c, SNNC_EINVALID, "attribute 'axis' must be an integer");
    return snnc_op_axis(c, a ? a->i : c->opset >= 13 ? -1 : 1, rank, "axis", axis);
}

static int softmax_infer(snnc_opctx *c, const snnc_vinfo *in, snnc_vinfo *out)
{
    if (c->node->n_inputs != 1 || !in[0].present)
        return snnc_op_fail(c, SNNC_EINVALID, "expects 1 input, got %d", c->node->n_inputs);
    if (c->node->n_outputs != 1)
        return snnc_op_fail(c, SNNC_EINVALID, "expects 1 output, got %d", c->node->n_outputs);
    snnc_dtype d = snnc_compute_dtype(in[0].dtype);
    if (d != SNNC_DTYPE_UNKNOWN && d != SNNC_F32)
        return snnc_op_fail(c, SNNC_EINVALID, "input of type %s is not supported (floating "
                            "point only)", snnc_dtype_name(d));
    if (in[0].rank >= 0) {
        int axis;
        int rc = softmax_axis(c, in[0].rank, &axis);
        if (rc)
            return rc;
    }
    snnc_op_set_shape(&out[0], d, in[0].rank, in[0].dims);
    return SNNC_OK;
}

static span softmax_span(const snnc_tensor *t, int axis, bool coerce_2d)
{
    span s = {1, 1, 1};
    for (int d = 0; d < t->rank; d++) {
        if (d < axis)
            s.outer *= t->dims[d];
        else if (d == axis || coerce_2d)
            s.n *= t->dims[d];
        else
            s.inner *= t->dims[d];
    }
    return s;
}

/* Normalise each group of x into y; log-softmax when `take_log`. */
static void softmax_run(const float *x, float *y, span s, bool take_log)
{
    for (int64_t o = 0; o < s.outer; o++) {
        for (int64_t i = 0; i < s.inner; i++) {
            const float *xg = x + o * s.n * s.inner + i;
            float *yg = y + o * s.n * s.inner + i;
            float m = -INFINITY;
            for (int64_t k = 0; k < s.n; k++)
                m = xg[k * s.inner] > m ? xg[k * s.inner] : m;
            double sum = 0;
            for (int64_t k = 0; k < s.n; k++) {
                float e = expf(xg[k * s.inner] - m);
                sum += e;
                if (!take_log)
                    yg[k * s.inner] = e;
            }
            float logsum = (float)log(sum), inv = (float)(1.0 / sum);
            for (int64_t k = 0; k < s.n; k++)
                yg[k * s.inner] = take_log ? xg[k * s.inner] - m - logsum : yg[k * s.inner] * inv;
        }
    }
}

static int run(snnc_opctx *c, const snnc_tensor *const *in, snnc_tensor *const *out, bool take_log)
{
    const snnc_tensor *x = in[0];
    snnc_tensor *y = out[0];
    int axis;
    if (x->dtype != SNNC_F32 || y->dtype != SNNC_F32 || x->count != y->count)
        return snnc_op_fail(c, SNNC_EINVALID, "expects a float32 input and output of one shape");
    int rc = softmax_axis(c, x->rank, &axis);
    if (rc)
        return rc;
    if (x->count)
        softmax_run(snnc_f32(x), snnc_f32(y), softmax_span(x, axis, c->opset < 13), take_log);
    return SNNC_OK;
}

static int softmax_compute(snnc_opctx *c, const snnc_tensor *const *in, snnc_tensor *const *out)
{
    return run(c, in, out, false);
}

static int logsoftmax_compute(snnc_opctx *c, const snnc_tensor *const *in,
                              snnc_tensor *const *out)
{
    return run(c, in, out, true);
}

const snnc_op_def snnc_ops_softmax[] = {
    {"Softmax", 1, 1, 1, 1, softmax_infer, softmax_compute},
    {"LogSoftmax", 1, 1, 1, 1, softmax_infer, logsoftmax_compute},
    {NULL, 0, 0, 0, 0, NULL, NULL},
};
