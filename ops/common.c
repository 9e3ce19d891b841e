/* common.c — helpers shared by the operator families: axes, broadcasting,
 * known operand contents, failures naming the node (interface: op.h). */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "op.h"

int snnc_op_fail(snnc_opctx *c, int code, const char *fmt, ...)
{
    char text[900];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    return snnc_fail(c->err, code, "node '%s' (%s): %s", c->node->name, c->node->op_type, text);
}

int snnc_op_axis(snnc_opctx *c, int64_t axis, int rank, const char *what, int *out)
{
    if (axis < -rank || axis >= rank)
        return snnc_op_fail(c, SNNC_EINVALID, "%s %lld is out of range for rank %d", what,
                            (long long)axis, rank);
    *out = (int)(axis < 0 ? axis + rank : axis);
    return SNNC_OK;
}

int64_t snnc_op_fresh_dim(snnc_opctx *c) { return SNNC_SYM(snnc_graph_symbol(c->graph, NULL)); }

int snnc_op_broadcast(snnc_opctx *c, int ra, const int64_t *da, int rb, const int64_t *db,
                      int *rout, int64_t *dout)
{
    int r = ra > rb ? ra : rb;
    for (int i = 0; i < r; i++) {
        int64_t a = i < r - ra ? 1 : da[i - (r - ra)];
        int64_t b = i < r - rb ? 1 : db[i - (r - rb)];
        if (a == b || b == 1)
            dout[i] = a;
        else if (a == 1)
            dout[i] = b;
        else if (SNNC_IS_SYM(a) && !SNNC_IS_SYM(b))
            dout[i] = b; /* a symbol meeting n > 1 must be n (or 1) */
        else if (SNNC_IS_SYM(b))
            dout[i] = a;
        else
            return snnc_op_fail(c, SNNC_EINVALID,
                                "shapes cannot broadcast: dimension %d is %lld in one input and "
                                "%lld in the other",
                                i, (long long)a, (long long)b);
    }
    *rout = r;
    return SNNC_OK;
}

int snnc_op_known_ints(const snnc_vinfo *v, int64_t *out, int cap)
{
    if (!v->present)
        return -1;
    if (v->value) {
        if (v->value->count > cap)
            return -1;
        for (int64_t i = 0; i < v->value->count; i++)
            out[i] = snnc_tensor_get_i(v->value, i);
        return (int)v->value->count;
    }
    if (v->n_symval < 0 || v->n_symval > cap)
        return -1;
    for (int i = 0; i < v->n_symval; i++) {
        if (SNNC_IS_SYM(v->symval[i]))
            return -1;
        out[i] = v->symval[i];
    }
    return v->n_symval;
}

int snnc_op_shape_operand(const snnc_vinfo *v, int64_t *out, int cap)
{
    if (!v->present)
        return -1;
    if (v->value)
        return snnc_op_known_ints(v, out, cap);
    if (v->n_symval < 0 || v->n_symval > cap)
        return -1;
    memcpy(out, v->symval, (size_t)v->n_symval * sizeof *out);
    return v->n_symval;
}

void snnc_op_set_shape(snnc_vinfo *v, snnc_dtype dtype, int rank, const int64_t *dims)
{
    v->dtype = dtype;
    v->rank = rank;
    if (rank > 0)
        memcpy(v->dims, dims, (size_t)rank * sizeof *dims);
}
