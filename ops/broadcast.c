/* broadcast.c — the element-wise families' shared machinery: n-way numpy
 * broadcast of shapes (infer), the strided broadcast iterator (compute),
 * the arity check and float -> int64 conversion (interface: broadcast.h). */
#include "broadcast.h"

#include <math.h>

int snnc_ew_check_arity(snnc_opctx *c, const snnc_vinfo *in, int lo, int hi)
{
    int n = c->node->n_inputs;
    if (n < lo || n > hi)
        return snnc_op_fail(c, SNNC_EINVALID, "expects %d to %d inputs at opset %d, got %d", lo,
                            hi, c->opset, n);
    for (int i = 0; i < lo; i++)
        if (!in[i].present)
            return snnc_op_fail(c, SNNC_EINVALID, "required input %d is missing", i);
    if (c->node->n_outputs != 1)
        return snnc_op_fail(c, SNNC_EINVALID, "expects 1 output, got %d", c->node->n_outputs);
    return SNNC_OK;
}

int64_t snnc_ew_f2i(double v)
{
    if (isnan(v))
        return 0;
    if (v >= 9223372036854775807.0)
        return INT64_MAX;
    if (v <= -9223372036854775808.0)
        return INT64_MIN;
    return (int64_t)v;
}

int snnc_bcast_infer(snnc_opctx *c, int n, const snnc_vinfo *in, snnc_vinfo *out)
{
    for (int k = 0; k < n; k++)
        if (in[k].rank < 0)
            return SNNC_OK;
    int r = in[0].rank;
    int64_t dims[SNNC_MAX_RANK];
    for (int i = 0; i < r; i++)
        dims[i] = in[0].dims[i];
    for (int k = 1; k < n; k++) {
        int64_t next[SNNC_MAX_RANK]; /* snnc_op_broadcast's output must not alias */
        int rc = snnc_op_broadcast(c, r, dims, in[k].rank, in[k].dims, &r, next);
        if (rc)
            return rc;
        for (int i = 0; i < r; i++)
            dims[i] = next[i];
    }
    out->rank = r;
    for (int i = 0; i < r; i++)
        out->dims[i] = dims[i];
    return SNNC_OK;
}

/* False when an operand does not broadcast to the output's shape. */
static bool bcast_init(snnc_bcast *it, const snnc_tensor *out, int n,
                       const snnc_tensor *const *in)
{
    int r = out->rank;
    int64_t st[SNNC_BCAST_MAX_OPERANDS][SNNC_MAX_RANK];
    if (n < 1 || n > SNNC_BCAST_MAX_OPERANDS)
        return false;
    for (int k = 0; k < n; k++) {
        if (in[k]->rank > r)
            return false;
        int64_t s = 1;
        for (int d = r - 1; d >= 0; d--) {
            int dk = d - (r - in[k]->rank);
            int64_t dim = dk >= 0 ? in[k]->dims[dk] : 1;
            if (dim != out->dims[d] && dim != 1)
                return false;
            st[k][d] = dim == 1 ? 0 : s;
            s *= dim;
        }
    }
    it->n = n;
    it->rank = 0;
    it->count = out->count;
    for (int d = 0; d < r; d++) {
        if (out->dims[d] == 1)
            continue;
        int p = it->rank - 1;
        bool merge = p >= 0;
        for (int k = 0; k < n && merge; k++)
            merge = it->strides[k][p] == st[k][d] * out->dims[d];
        if (merge) {
            it->dims[p] *= out->dims[d];
        } else {
            p = it->rank++;
            it->dims[p] = out->dims[d];
        }
        for (int k = 0; k < n; k++)
            it->strides[k][p] = st[k][d];
    }
    if (it->rank == 0) {
        it->rank = 1;
        it->dims[0] = 1;
        for (int k = 0; k < n; k++)
            it->strides[k][0] = 0;
    }
    return true;
}

int snnc_bcast_prepare(snnc_opctx *c, snnc_bcast *it, const snnc_tensor *out, int n,
                       const snnc_tensor *const *in)
{
    if (!bcast_init(it, out, n, in))
        return snnc_op_fail(c, SNNC_EINVALID, "input shapes do not broadcast to the output shape");
    return SNNC_OK;
}

void snnc_bcast_run(const snnc_bcast *it, snnc_bcast_row_fn fn, void *ctx)
{
    if (it->count == 0)
        return;
    int r = it->rank;
    int64_t len = it->dims[r - 1], rows = it->count / len;
    int64_t idx[SNNC_MAX_RANK] = {0}, off[SNNC_BCAST_MAX_OPERANDS] = {0};
    int64_t step[SNNC_BCAST_MAX_OPERANDS];
    for (int k = 0; k < it->n; k++)
        step[k] = it->strides[k][r - 1];
    for (int64_t row = 0; row < rows; row++) {
        fn(ctx, len, row * len, off, step);
        for (int d = r - 2; d >= 0; d--) {
            idx[d]++;
            for (int k = 0; k < it->n; k++)
                off[k] += it->strides[k][d];
            if (idx[d] < it->dims[d])
                break;
            for (int k = 0; k < it->n; k++)
                off[k] -= it->strides[k][d] * it->dims[d];
            idx[d] = 0;
        }
    }
}
