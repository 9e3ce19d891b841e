/* common.c — helpers shared by the operator families: axes, broadcasting,
 * known operand contents, strided copies, tracked shape values, failures
 * naming the node (interface: op.h). */
#include <limits.h>
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

/* ---- strided copies and tracked shape values (shared by shape.c, layout.c) ---- */

#define COPY_MAX_RANK (2 * SNNC_MAX_RANK)


void snnc_op_contiguous_strides(int rank, const int64_t *dims, int64_t *st)
{
    int64_t s = 1;
    for (int k = rank - 1; k >= 0; k--) {
        st[k] = s;
        s *= dims[k];
    }
}

/* n elements, src and dst `ss` / `ds` elements apart. */
static void copy_row(size_t esize, int64_t n, const char *s, int64_t ss, char *d, int64_t ds)
{
    if (ss == 1 && ds == 1) {
        memcpy(d, s, (size_t)n * esize);
        return;
    }
    ptrdiff_t sb = (ptrdiff_t)(ss * (int64_t)esize), db = (ptrdiff_t)(ds * (int64_t)esize);
    switch (esize) {
    case 1:
        for (int64_t i = 0; i < n; i++, s += sb, d += db)
            *d = *s;
        break;
    case 4:
        for (int64_t i = 0; i < n; i++, s += sb, d += db)
            memcpy(d, s, 4);
        break;
    case 8:
        for (int64_t i = 0; i < n; i++, s += sb, d += db)
            memcpy(d, s, 8);
        break;
    default:
        for (int64_t i = 0; i < n; i++, s += sb, d += db)
            memcpy(d, s, esize);
    }
}

/* Copy the box `dims` (rank <= 2*SNNC_MAX_RANK) of esize-byte elements from
 * src to dst, each addressed with its own element strides (0 repeats an
 * element, negative walks backwards; NULL means C-contiguous).  Dims of one
 * are dropped and dims contiguous in both are merged, so the inner loop is a
 * memcpy whenever it can be. */
void snnc_op_copy_strided(size_t esize, int rank, const int64_t *dims, const void *src,
                          const int64_t *src_strides, void *dst, const int64_t *dst_strides)
{
    int64_t cs[COPY_MAX_RANK], cd[COPY_MAX_RANK];
    int64_t d[COPY_MAX_RANK], ss[COPY_MAX_RANK], ds[COPY_MAX_RANK], idx[COPY_MAX_RANK] = {0};
    if (rank < 0 || rank > COPY_MAX_RANK)
        return;
    for (int k = 0; k < rank; k++)
        if (dims[k] <= 0)
            return; /* empty (before any stride arithmetic, which could overflow) */
    if (!src_strides)
        snnc_op_contiguous_strides(rank, dims, cs), src_strides = cs;
    if (!dst_strides)
        snnc_op_contiguous_strides(rank, dims, cd), dst_strides = cd;
    int r = 0;
    for (int k = 0; k < rank; k++) {
        if (dims[k] == 1)
            continue;
        if (r > 0 && ss[r - 1] == src_strides[k] * dims[k] && ds[r - 1] == dst_strides[k] * dims[k]) {
            d[r - 1] *= dims[k];
            ss[r - 1] = src_strides[k];
            ds[r - 1] = dst_strides[k];
        } else {
            d[r] = dims[k];
            ss[r] = src_strides[k];
            ds[r] = dst_strides[k];
            r++;
        }
    }
    const char *s = src;
    char *o = dst;
    if (r == 0) {
        memcpy(o, s, esize);
        return;
    }
    int64_t so = 0, dof = 0, e = (int64_t)esize;
    for (;;) {
        copy_row(esize, d[r - 1], s + so * e, ss[r - 1], o + dof * e, ds[r - 1]);
        int k = r - 2;
        for (; k >= 0; k--) {
            so += ss[k];
            dof += ds[k];
            if (++idx[k] < d[k])
                break;
            so -= ss[k] * d[k];
            dof -= ds[k] * d[k];
            idx[k] = 0;
        }
        if (k < 0)
            return;
    }
}

/* Whether a known element can enter a symval, where negative numbers name
 * symbols.  -1 (Reshape's "infer this dim") can when no symbol is numbered
 * -1, i.e. when SNNC_SYM numbers symbols from -2. */
static bool literal_trackable(int64_t v) { return v >= 0 || (v == -1 && SNNC_SYM(0) < -1); }

/* Track the known elements e[0..n) on o, when all can be tracked. */
void snnc_op_track_literals(snnc_vinfo *o, int n, const int64_t *e)
{
    for (int i = 0; i < n; i++)
        if (!literal_trackable(e[i]))
            return;
    snnc_op_set_tracked(o, n, e);
}

/* The elements of a small int64 value of rank <= 1 (a shape being built):
 * its contents, or its tracked symval whose elements may be symbols.
 * Returns the count, or -1 when unknown (or holding a known negative that
 * would read as a symbol). */
int snnc_op_tracked(const snnc_vinfo *v, int64_t *out)
{
    if (!v->present || v->rank > 1)
        return -1;
    if (v->value) {
        const snnc_tensor *t = v->value;
        if ((t->dtype != SNNC_I64 && t->dtype != SNNC_I32) || t->rank > 1 || t->count > SNNC_MAX_RANK)
            return -1;
        for (int64_t i = 0; i < t->count; i++)
            if (!literal_trackable(out[i] = snnc_tensor_get_i(t, i)))
                return -1;
        return (int)t->count;
    }
    if (v->n_symval < 0 || v->n_symval > SNNC_MAX_RANK || v->dtype != SNNC_I64)
        return -1;
    memcpy(out, v->symval, (size_t)v->n_symval * sizeof *out);
    return v->n_symval;
}

/* Record n tracked elements on an output (nothing when n is out of range). */
void snnc_op_set_tracked(snnc_vinfo *o, int n, const int64_t *e)
{
    if (n < 0 || n > SNNC_MAX_RANK)
        return;
    o->n_symval = n;
    memcpy(o->symval, e, (size_t)n * sizeof *e);
}

/* Carry the tracked elements of in to out when out is 0-D or 1-D of the
 * same element count (ops that only change the shape). */
void snnc_op_carry_tracked(const snnc_vinfo *in, snnc_vinfo *out)
{
    int64_t e[SNNC_MAX_RANK];
    int n = snnc_op_tracked(in, e);
    if (n < 0 || out->rank < 0 || out->rank > 1)
        return;
    if ((out->rank == 0 && n == 1) || (out->rank == 1 && out->dims[0] == n))
        snnc_op_set_tracked(out, n, e);
}

/* compute of the ops whose output is the input reshaped: copy all elements. */
int snnc_op_copy_input(snnc_opctx *c, const snnc_tensor *const *in, snnc_tensor *const *out)
{
    if (in[0]->count != out[0]->count || in[0]->dtype != out[0]->dtype)
        return snnc_op_fail(c, SNNC_EINVALID, "output does not match the input's %lld elements",
                            (long long)in[0]->count);
    memcpy(out[0]->data, in[0]->data, (size_t)in[0]->count * snnc_dtype_size(in[0]->dtype));
    return SNNC_OK;
}
