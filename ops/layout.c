/* layout.c — operators that rearrange elements without computing on them:
 * Transpose, Squeeze, Unsqueeze, Concat, Split, Slice, Gather (table
 * snnc_ops_layout; interface ops/op.h).  Every copy is one strided copy by
 * element size, so all work on F32, I64 and BOOL alike.  The infer hooks also
 * carry small int64 shape values (snnc_vinfo.symval, possibly symbolic)
 * through Gather/Slice/Squeeze/Unsqueeze/Concat/Split, so that PyTorch's
 * Shape -> Gather -> Unsqueeze -> Concat chains keep a symbolic batch size.
 * The strided copy and the symval helpers live in common.c (ops/op.h). */
#include <limits.h>
#include <string.h>

#include "op.h"

/* ---- helpers of this family ---- */

#define SPLIT_MAX 1024

static bool has(const snnc_opctx *c, const snnc_vinfo *in, int i)
{
    return i < c->node->n_inputs && in[i].present;
}

static int64_t fresh(snnc_opctx *c) { return c->graph ? snnc_op_fresh_dim(c) : SNNC_SYM(0); }

static void set_fresh_shape(snnc_opctx *c, snnc_vinfo *o, snnc_dtype dtype, int rank)
{
    o->dtype = dtype;
    o->rank = rank;
    for (int k = 0; k < rank; k++)
        o->dims[k] = fresh(c);
}

static int attr_int(snnc_opctx *c, const char *name, int64_t def, int64_t *out)
{
    const snnc_attr *a = snnc_node_attr(c->node, name);
    *out = a && a->kind == SNNC_ATTR_INT ? a->i : def;
    if (a && a->kind != SNNC_ATTR_INT)
        return snnc_op_fail(c, SNNC_EINVALID, "attribute '%s' must be an int", name);
    return SNNC_OK;
}

/* An axis attribute or list entry: negative values are allowed from opset 11. */
static int norm_axis(snnc_opctx *c, int64_t axis, int rank, const char *what, int *out)
{
    if (axis < 0 && c->opset < 11)
        return snnc_op_fail(c, SNNC_EINVALID, "%s %lld: negative axes need opset 11 (model: %d)",
                            what, (long long)axis, c->opset);
    return snnc_op_axis(c, axis, rank, what, out);
}

/* A list of ints that is attribute `name` before opset `since` and input
 * `idx` from then on.  Sets *n to the count, -1 when absent, -2 when it is
 * an input whose contents are not known yet (load time). */
static int int_list(snnc_opctx *c, const snnc_vinfo *in, int idx, const char *name, int since,
                    int64_t *vals, int cap, int *n)
{
    const snnc_attr *a = snnc_node_attr(c->node, name);
    *n = -1;
    if (c->opset < since) {
        if (has(c, in, idx))
            return snnc_op_fail(c, SNNC_EINVALID,
                                "'%s' is an attribute, not an input, before opset %d (model: %d)",
                                name, since, c->opset);
        if (!a)
            return SNNC_OK;
        if (a->kind != SNNC_ATTR_INTS)
            return snnc_op_fail(c, SNNC_EINVALID, "attribute '%s' must be a list of ints", name);
        if (a->n > cap)
            return snnc_op_fail(c, SNNC_EINVALID, "attribute '%s' has %d entries, more than %d",
                                name, a->n, cap);
        memcpy(vals, a->ints, (size_t)a->n * sizeof *vals);
        *n = a->n;
        return SNNC_OK;
    }
    if (a)
        return snnc_op_fail(c, SNNC_EINVALID,
                            "'%s' is an input, not an attribute, from opset %d (model: %d)", name,
                            since, c->opset);
    if (!has(c, in, idx))
        return SNNC_OK;
    const snnc_vinfo *v = &in[idx];
    if (v->dtype != SNNC_DTYPE_UNKNOWN && v->dtype != SNNC_I64 && v->dtype != SNNC_I32)
        return snnc_op_fail(c, SNNC_EINVALID, "input '%s' must be int64, not %s", name,
                            snnc_dtype_name(v->dtype));
    if (v->rank > 1)
        return snnc_op_fail(c, SNNC_EINVALID, "input '%s' must be 1-D, not of rank %d", name,
                            v->rank);
    if (v->value && v->value->count > cap)
        return snnc_op_fail(c, SNNC_EINVALID, "input '%s' has %lld entries, more than %d", name,
                            (long long)v->value->count, cap);
    *n = snnc_op_known_ints(v, vals, cap);
    if (*n < 0)
        *n = -2;
    return SNNC_OK;
}

/* Mark axes (normalised into [0, rank)) in `seen`, failing on duplicates. */
static int axes_set(snnc_opctx *c, const int64_t *axes, int n, int rank, const char *what,
                    bool *seen)
{
    memset(seen, 0, (size_t)rank * sizeof *seen);
    for (int i = 0; i < n; i++) {
        int ax;
        int st = norm_axis(c, axes[i], rank, what, &ax);
        if (st)
            return st;
        if (seen[ax])
            return snnc_op_fail(c, SNNC_EINVALID, "%s %lld is repeated", what, (long long)axes[i]);
        seen[ax] = true;
    }
    return SNNC_OK;
}

/* ---- Transpose ---- */

static int transpose_perm(snnc_opctx *c, int rank, int *perm)
{
    const snnc_attr *a = snnc_node_attr(c->node, "perm");
    if (!a) {
        for (int k = 0; k < rank; k++)
            perm[k] = rank - 1 - k;
        return SNNC_OK;
    }
    if (a->kind != SNNC_ATTR_INTS)
        return snnc_op_fail(c, SNNC_EINVALID, "attribute 'perm' must be a list of ints");
    if (a->n != rank)
        return snnc_op_fail(c, SNNC_EINVALID, "perm has %d entries for an input of rank %d", a->n,
                            rank);
    bool seen[SNNC_MAX_RANK] = {false};
    for (int k = 0; k < rank; k++) {
        int64_t p = a->ints[k];
        if (p < 0 || p >= rank || seen[p])
            return snnc_op_fail(c, SNNC_EINVALID, "perm is not a permutation of 0..%d (entry %d is %lld)",
                                rank - 1, k, (long long)p);
        seen[p] = true;
        perm[k] = (int)p;
    }
    return SNNC_OK;
}

static int transpose_infer(snnc_opctx *c, const snnc_vinfo *in, snnc_vinfo *out)
{
    int perm[SNNC_MAX_RANK];
    out->dtype = in[0].dtype;
    int rank = in[0].rank;
    if (rank < 0) { /* the rank is perm's length, when perm is given */
        const snnc_attr *a = snnc_node_attr(c->node, "perm");
        if (!a)
            return SNNC_OK;
        if (a->kind != SNNC_ATTR_INTS || a->n > SNNC_MAX_RANK)
            return snnc_op_fail(c, SNNC_EINVALID, "attribute 'perm' must be at most %d ints",
                                SNNC_MAX_RANK);
        int st = transpose_perm(c, a->n, perm);
        if (!st)
            set_fresh_shape(c, out, in[0].dtype, a->n);
        return st;
    }
    int st = transpose_perm(c, rank, perm);
    if (st)
        return st;
    out->rank = rank;
    for (int k = 0; k < rank; k++)
        out->dims[k] = in[0].dims[perm[k]];
    snnc_op_carry_tracked(&in[0], out);
    return SNNC_OK;
}

static int transpose_compute(snnc_opctx *c, const snnc_tensor *const *in, snnc_tensor *const *out)
{
    int perm[SNNC_MAX_RANK];
    int64_t ist[SNNC_MAX_RANK], sst[SNNC_MAX_RANK];
    int st = transpose_perm(c, in[0]->rank, perm);
    if (st)
        return st;
    snnc_op_contiguous_strides(in[0]->rank, in[0]->dims, ist);
    for (int k = 0; k < in[0]->rank; k++)
        sst[k] = ist[perm[k]];
    snnc_op_copy_strided(snnc_dtype_size(in[0]->dtype), out[0]->rank, out[0]->dims, in[0]->data,
                         sst, out[0]->data, NULL);
    return SNNC_OK;
}

/* ---- Squeeze / Unsqueeze ---- */

static int squeeze_infer(snnc_opctx *c, const snnc_vinfo *in, snnc_vinfo *out)
{
    int64_t axes[SNNC_MAX_RANK];
    int n, rank = in[0].rank;
    out->dtype = in[0].dtype;
    int st = int_list(c, in, 1, "axes", 13, axes, SNNC_MAX_RANK, &n);
    if (st || rank < 0)
        return st;
    if (n == -2) { /* axes not known yet: only the rank, when their count is */
        if (in[1].rank == 1 && in[1].dims[0] >= 0 && in[1].dims[0] <= rank)
            set_fresh_shape(c, out, in[0].dtype, rank - (int)in[1].dims[0]);
        return SNNC_OK;
    }
    bool drop[SNNC_MAX_RANK] = {false};
    if (n < 0) { /* no axes: drop every dimension known to be 1 */
        for (int k = 0; k < rank; k++)
            drop[k] = in[0].dims[k] == 1;
    } else {
        if ((st = axes_set(c, axes, n, rank, "axis", drop)))
            return st;
        for (int k = 0; k < rank; k++)
            if (drop[k] && in[0].dims[k] >= 0 && in[0].dims[k] != 1)
                return snnc_op_fail(c, SNNC_EINVALID, "cannot squeeze axis %d of size %lld", k,
                                    (long long)in[0].dims[k]);
    }
    out->rank = 0;
    for (int k = 0; k < rank; k++)
        if (!drop[k])
            out->dims[out->rank++] = in[0].dims[k];
    snnc_op_carry_tracked(&in[0], out);
    return SNNC_OK;
}

static int unsqueeze_infer(snnc_opctx *c, const snnc_vinfo *in, snnc_vinfo *out)
{
    int64_t axes[SNNC_MAX_RANK];
    int n, rank = in[0].rank;
    out->dtype = in[0].dtype;
    int st = int_list(c, in, 1, "axes", 13, axes, SNNC_MAX_RANK, &n);
    if (st)
        return st;
    if (n == -1)
        return snnc_op_fail(c, SNNC_EINVALID, "Unsqueeze needs axes");
    if (rank < 0)
        return SNNC_OK;
    if (n == -2) {
        if (in[1].rank == 1 && in[1].dims[0] >= 0 && rank + in[1].dims[0] <= SNNC_MAX_RANK)
            set_fresh_shape(c, out, in[0].dtype, rank + (int)in[1].dims[0]);
        return SNNC_OK;
    }
    int orank = rank + n;
    if (orank > SNNC_MAX_RANK)
        return snnc_op_fail(c, SNNC_EUNSUPPORTED, "output rank %d exceeds %d", orank,
                            SNNC_MAX_RANK);
    bool ins[SNNC_MAX_RANK];
    if ((st = axes_set(c, axes, n, orank, "axis", ins)))
        return st;
    out->rank = orank;
    for (int k = 0, j = 0; k < orank; k++)
        out->dims[k] = ins[k] ? 1 : in[0].dims[j++];
    snnc_op_carry_tracked(&in[0], out);
    return SNNC_OK;
}

/* ---- Concat ---- */

static int concat_axis(snnc_opctx *c, int rank, int *axis)
{
    const snnc_attr *a = snnc_node_attr(c->node, "axis");
    if (!a)
        return snnc_op_fail(c, SNNC_EINVALID, "Concat needs the attribute 'axis'");
    int64_t v;
    int st = attr_int(c, "axis", 0, &v);
    if (!st && rank == 0)
        return snnc_op_fail(c, SNNC_EINVALID, "cannot concatenate scalars");
    return st ? st : norm_axis(c, v, rank, "axis", axis);
}

/* Concatenate tracked 1-D elements when every input has them. */
static void concat_tracked(const snnc_opctx *c, const snnc_vinfo *in, snnc_vinfo *out)
{
    int64_t all[SNNC_MAX_RANK], e[SNNC_MAX_RANK];
    int total = 0;
    for (int i = 0; i < c->node->n_inputs; i++) {
        int n = snnc_op_tracked(&in[i], e);
        if (n < 0 || in[i].rank != 1 || total + n > SNNC_MAX_RANK)
            return;
        memcpy(all + total, e, (size_t)n * sizeof *e);
        total += n;
    }
    snnc_op_set_tracked(out, total, all);
}

static int concat_infer(snnc_opctx *c, const snnc_vinfo *in, snnc_vinfo *out)
{
    int rank = -1, axis;
    for (int i = 0; i < c->node->n_inputs; i++) {
        if (!in[i].present)
            return snnc_op_fail(c, SNNC_EINVALID, "input %d is missing", i);
        if (in[i].dtype != SNNC_DTYPE_UNKNOWN) {
            if (out->dtype != SNNC_DTYPE_UNKNOWN && out->dtype != in[i].dtype)
                return snnc_op_fail(c, SNNC_EINVALID, "inputs mix %s and %s",
                                    snnc_dtype_name(out->dtype), snnc_dtype_name(in[i].dtype));
            out->dtype = in[i].dtype;
        }
        if (in[i].rank >= 0) {
            if (rank >= 0 && in[i].rank != rank)
                return snnc_op_fail(c, SNNC_EINVALID, "inputs have ranks %d and %d", rank,
                                    in[i].rank);
            rank = in[i].rank;
        }
    }
    if (rank < 0)
        return SNNC_OK;
    int st = concat_axis(c, rank, &axis);
    if (st)
        return st;
    int64_t sum = 0, sym = 0;
    int n_sym = 0;
    bool unknown = false;
    bool seen[SNNC_MAX_RANK] = {false};
    out->rank = rank;
    for (int i = 0; i < c->node->n_inputs; i++) {
        if (in[i].rank < 0) {
            unknown = true;
            continue;
        }
        for (int k = 0; k < rank; k++) {
            int64_t d = in[i].dims[k], *o = &out->dims[k];
            if (k == axis)
                continue;
            if (!seen[k] || (SNNC_IS_SYM(*o) && !SNNC_IS_SYM(d)))
                *o = d, seen[k] = true;
            else if (!SNNC_IS_SYM(d) && *o != d)
                return snnc_op_fail(c, SNNC_EINVALID,
                                    "input %d has %lld on axis %d where another has %lld", i,
                                    (long long)d, k, (long long)*o);
        }
        int64_t d = in[i].dims[axis];
        if (SNNC_IS_SYM(d))
            sym = d, n_sym++;
        else
            sum += d;
    }
    for (int k = 0; k < rank; k++)
        if (!seen[k] && k != axis)
            out->dims[k] = fresh(c);
    if (unknown || n_sym > 1 || (n_sym == 1 && sum != 0))
        out->dims[axis] = fresh(c);
    else
        out->dims[axis] = n_sym ? sym : sum;
    if (rank == 1)
        concat_tracked(c, in, out);
    return SNNC_OK;
}

static int concat_compute(snnc_opctx *c, const snnc_tensor *const *in, snnc_tensor *const *out)
{
    int axis;
    int st = concat_axis(c, out[0]->rank, &axis);
    if (st)
        return st;
    int64_t ost[SNNC_MAX_RANK];
    size_t es = snnc_dtype_size(out[0]->dtype);
    snnc_op_contiguous_strides(out[0]->rank, out[0]->dims, ost);
    int64_t off = 0;
    for (int i = 0; i < c->node->n_inputs; i++) {
        if (in[i]->rank != out[0]->rank || off + in[i]->dims[axis] > out[0]->dims[axis])
            return snnc_op_fail(c, SNNC_EINVALID, "input %d does not fit the output", i);
        char *dst = (char *)out[0]->data + (size_t)(off * ost[axis]) * es;
        if (out[0]->count)
            snnc_op_copy_strided(es, in[i]->rank, in[i]->dims, in[i]->data, NULL, dst, ost);
        off += in[i]->dims[axis];
    }
    return SNNC_OK;
}

/* ---- Split ---- */

/* The sizes of the parts along `axis` of length dim (possibly symbolic).
 * sizes[j] may be a fresh symbol when it cannot be known at load time. */
static int split_sizes(snnc_opctx *c, const snnc_vinfo *in, int64_t dim, int64_t *sizes)
{
    int n_out = c->node->n_outputs, n;
    if (n_out > SPLIT_MAX)
        return snnc_op_fail(c, SNNC_EUNSUPPORTED, "%d outputs exceed %d", n_out, SPLIT_MAX);
    int st = int_list(c, in, 1, "split", 13, sizes, SPLIT_MAX, &n);
    if (st)
        return st;
    const snnc_attr *num = snnc_node_attr(c->node, "num_outputs");
    if (num) {
        if (c->opset < 18)
            return snnc_op_fail(c, SNNC_EINVALID, "attribute 'num_outputs' needs opset 18 (model: %d)",
                                c->opset);
        if (num->kind != SNNC_ATTR_INT || num->i != n_out)
            return snnc_op_fail(c, SNNC_EINVALID, "num_outputs must be an int equal to the %d outputs",
                                n_out);
        if (n != -1)
            return snnc_op_fail(c, SNNC_EINVALID, "give either the 'split' input or num_outputs, not both");
    }
    if (n == 0 && c->opset >= 13)
        n = -1; /* an empty 'split' input means equal parts */
    if (n == -2) {
        for (int j = 0; j < n_out; j++)
            sizes[j] = fresh(c);
        return SNNC_OK;
    }
    if (n >= 0) {
        if (n != n_out)
            return snnc_op_fail(c, SNNC_EINVALID, "split has %d sizes for %d outputs", n, n_out);
        int64_t sum = 0;
        for (int j = 0; j < n; j++) {
            if (sizes[j] < 0 || sizes[j] > SNNC_MAX_ELEMENTS)
                return snnc_op_fail(c, SNNC_EINVALID, "split size %lld is invalid",
                                    (long long)sizes[j]);
            sum += sizes[j];
        }
        if (!SNNC_IS_SYM(dim) && sum != dim)
            return snnc_op_fail(c, SNNC_EINVALID, "split sizes sum to %lld, not the dimension %lld",
                                (long long)sum, (long long)dim);
        return SNNC_OK;
    }
    if (SNNC_IS_SYM(dim)) {
        for (int j = 0; j < n_out; j++)
            sizes[j] = n_out == 1 ? dim : fresh(c);
        return SNNC_OK;
    }
    int64_t chunk = dim / n_out;
    if (dim % n_out) {
        if (c->opset < 18)
            return snnc_op_fail(c, SNNC_EINVALID, "dimension %lld does not split into %d equal parts",
                                (long long)dim, n_out);
        chunk++; /* opset 18: the last part is smaller */
        if (chunk * (n_out - 1) >= dim)
            return snnc_op_fail(c, SNNC_EINVALID, "dimension %lld cannot split into %d parts of %lld",
                                (long long)dim, n_out, (long long)chunk);
    }
    for (int j = 0; j < n_out; j++)
        sizes[j] = j < n_out - 1 ? chunk : dim - chunk * (n_out - 1);
    return SNNC_OK;
}

static int split_infer(snnc_opctx *c, const snnc_vinfo *in, snnc_vinfo *out)
{
    int64_t sizes[SPLIT_MAX], ax, e[SNNC_MAX_RANK];
    int axis, rank = in[0].rank;
    for (int j = 0; j < c->node->n_outputs; j++)
        out[j].dtype = in[0].dtype;
    int st = attr_int(c, "axis", 0, &ax);
    if (st || rank < 0)
        return st;
    if ((st = norm_axis(c, ax, rank, "axis", &axis)) ||
        (st = split_sizes(c, in, in[0].dims[axis], sizes)))
        return st;
    int n = rank == 1 ? snnc_op_tracked(&in[0], e) : -1;
    int64_t off = 0;
    for (int j = 0; j < c->node->n_outputs; j++) {
        snnc_op_set_shape(&out[j], in[0].dtype, rank, in[0].dims);
        out[j].dims[axis] = sizes[j];
        if (n >= 0 && !SNNC_IS_SYM(sizes[j]) && off >= 0 && off + sizes[j] <= n) {
            snnc_op_set_tracked(&out[j], (int)sizes[j], e + off);
            off += sizes[j];
        } else {
            off = -1;
        }
    }
    return SNNC_OK;
}

static int split_compute(snnc_opctx *c, const snnc_tensor *const *in, snnc_tensor *const *out)
{
    int64_t ax, ist[SNNC_MAX_RANK], off = 0;
    int axis;
    int st = attr_int(c, "axis", 0, &ax);
    if (st || (st = snnc_op_axis(c, ax, in[0]->rank, "axis", &axis)))
        return st;
    size_t es = snnc_dtype_size(in[0]->dtype);
    snnc_op_contiguous_strides(in[0]->rank, in[0]->dims, ist);
    for (int j = 0; j < c->node->n_outputs; j++) {
        if (out[j]->rank != in[0]->rank || off + out[j]->dims[axis] > in[0]->dims[axis])
            return snnc_op_fail(c, SNNC_EINVALID, "output %d does not fit the input", j);
        if (out[j]->count)
            snnc_op_copy_strided(es, in[0]->rank, out[j]->dims,
                                 (const char *)in[0]->data + (size_t)(off * ist[axis]) * es, ist,
                                 out[j]->data, NULL);
        off += out[j]->dims[axis];
    }
    return SNNC_OK;
}

/* ---- Slice ---- */

typedef struct {
    bool known;                   /* starts/ends/axes/steps all known */
    int64_t start[SNNC_MAX_RANK]; /* per input axis, after clamping */
    int64_t step[SNNC_MAX_RANK];
    int64_t len[SNNC_MAX_RANK];   /* the output dims */
} slice_plan;

static int64_t clamp64(int64_t v, int64_t lo, int64_t hi) { return v < lo ? lo : v > hi ? hi : v; }

/* Start and length of one sliced axis of concrete size dim, as the ONNX
 * spec clamps them (opset 13 text, which all versions agree with). */
static void slice_axis(int64_t dim, int64_t s, int64_t e, int64_t step, int64_t *start, int64_t *len)
{
    if (s < 0)
        s += dim;
    if (e < 0)
        e += dim;
    if (dim == 0) {
        *start = 0, *len = 0;
    } else if (step > 0) {
        s = clamp64(s, 0, dim), e = clamp64(e, 0, dim);
        *start = s, *len = e > s ? (e - s - 1) / step + 1 : 0;
    } else {
        uint64_t mag = (uint64_t)(-(step + 1)) + 1;
        s = clamp64(s, 0, dim - 1), e = clamp64(e, -1, dim - 1);
        *start = s, *len = s > e ? (int64_t)((uint64_t)(s - e - 1) / mag) + 1 : 0;
    }
}

/* Whether slicing [s, e) by step keeps all of an axis of any size. */
static bool slice_is_full(int64_t s, int64_t e, int64_t step)
{
    const int64_t big = SNNC_MAX_ELEMENTS;
    if (step == 1)
        return (s == 0 || s <= -big) && e >= big;
    return step == -1 && (s == -1 || s >= big) && e < -big;
}

static int slice_plan_make(snnc_opctx *c, const snnc_vinfo *in, int rank, const int64_t *dims,
                           slice_plan *p)
{
    int64_t starts[SNNC_MAX_RANK], ends[SNNC_MAX_RANK], axes[SNNC_MAX_RANK], steps[SNNC_MAX_RANK];
    int ns, ne, na, nt = -1, st;
    if (c->opset >= 10 && c->node->n_inputs < 3)
        return snnc_op_fail(c, SNNC_EINVALID, "Slice needs inputs starts and ends from opset 10");
    if ((st = int_list(c, in, 1, "starts", 10, starts, SNNC_MAX_RANK, &ns)) ||
        (st = int_list(c, in, 2, "ends", 10, ends, SNNC_MAX_RANK, &ne)) ||
        (st = int_list(c, in, 3, "axes", 10, axes, SNNC_MAX_RANK, &na)))
        return st;
    if (c->opset >= 10 && (st = int_list(c, in, 4, "steps", 10, steps, SNNC_MAX_RANK, &nt)))
        return st;
    if (ns == -1 || ne == -1)
        return snnc_op_fail(c, SNNC_EINVALID, "Slice needs starts and ends");
    for (int k = 0; k < rank; k++)
        p->start[k] = 0, p->step[k] = 1, p->len[k] = dims[k];
    p->known = ns >= 0 && ne >= 0 && na != -2 && nt != -2;
    if (!p->known) { /* which axes change may still be known */
        if (na == -2 || (na == -1 && ns < 0))
            for (int k = 0; k < rank; k++)
                p->len[k] = fresh(c);
        else
            for (int i = 0; i < (na >= 0 ? na : ns); i++)
                if (axes[i] >= -rank && axes[i] < rank)
                    p->len[axes[i] < 0 ? axes[i] + rank : axes[i]] = fresh(c);
        return SNNC_OK;
    }
    if (ne != ns || (na >= 0 && na != ns) || (nt >= 0 && nt != ns))
        return snnc_op_fail(c, SNNC_EINVALID,
                            "starts, ends, axes and steps have different lengths (%d, %d, %d, %d)",
                            ns, ne, na, nt);
    if (na < 0)
        for (int i = 0; i < ns; i++)
            axes[i] = i;
    bool seen[SNNC_MAX_RANK];
    if (ns > rank)
        return snnc_op_fail(c, SNNC_EINVALID, "%d starts for an input of rank %d", ns, rank);
    if ((st = axes_set(c, axes, ns, rank, "axis", seen)))
        return st;
    for (int i = 0; i < ns; i++) {
        int ax = (int)(axes[i] < 0 ? axes[i] + rank : axes[i]);
        int64_t step = nt >= 0 ? steps[i] : 1;
        if (step == 0)
            return snnc_op_fail(c, SNNC_EINVALID, "step 0 on axis %d", ax);
        p->step[ax] = step;
        if (SNNC_IS_SYM(dims[ax])) {
            if (!slice_is_full(starts[i], ends[i], step))
                p->len[ax] = fresh(c);
            continue;
        }
        slice_axis(dims[ax], starts[i], ends[i], step, &p->start[ax], &p->len[ax]);
        if (p->len[ax] <= 1)
            p->step[ax] = 1; /* the step is moot; a huge one would overflow strides */
    }
    return SNNC_OK;
}

static int slice_infer(snnc_opctx *c, const snnc_vinfo *in, snnc_vinfo *out)
{
    slice_plan p;
    out->dtype = in[0].dtype;
    if (in[0].rank < 0)
        return SNNC_OK;
    int st = slice_plan_make(c, in, in[0].rank, in[0].dims, &p);
    if (st)
        return st;
    snnc_op_set_shape(out, in[0].dtype, in[0].rank, p.len);
    int64_t e[SNNC_MAX_RANK], o[SNNC_MAX_RANK];
    if (p.known && in[0].rank == 1 && snnc_op_tracked(&in[0], e) == in[0].dims[0]) {
        for (int64_t k = 0; k < p.len[0]; k++)
            o[k] = e[p.start[0] + k * p.step[0]];
        snnc_op_set_tracked(out, (int)p.len[0], o);
    }
    return SNNC_OK;
}

static void vinfo_of(const snnc_tensor *t, snnc_vinfo *v)
{
    memset(v, 0, sizeof *v);
    v->rank = -1;
    v->n_symval = -1;
    if (!t)
        return;
    v->present = true;
    v->value = t;
    snnc_op_set_shape(v, t->dtype, t->rank, t->dims);
}

static int slice_compute(snnc_opctx *c, const snnc_tensor *const *in, snnc_tensor *const *out)
{
    snnc_vinfo vi[5];
    slice_plan p;
    for (int i = 0; i < 5; i++)
        vinfo_of(i < c->node->n_inputs ? in[i] : NULL, &vi[i]);
    const snnc_tensor *x = in[0];
    int st = slice_plan_make(c, vi, x->rank, x->dims, &p);
    if (st)
        return st;
    if (!p.known || out[0]->rank != x->rank)
        return snnc_op_fail(c, SNNC_EINVALID, "slice parameters unknown at run time");
    int64_t ist[SNNC_MAX_RANK], sst[SNNC_MAX_RANK], base = 0;
    snnc_op_contiguous_strides(x->rank, x->dims, ist);
    for (int k = 0; k < x->rank; k++) {
        if (p.len[k] != out[0]->dims[k])
            return snnc_op_fail(c, SNNC_EINVALID, "output does not match the slice");
        base += p.start[k] * ist[k];
        sst[k] = p.step[k] * ist[k];
    }
    if (out[0]->count == 0)
        return SNNC_OK;
    size_t es = snnc_dtype_size(x->dtype);
    snnc_op_copy_strided(es, x->rank, out[0]->dims, (const char *)x->data + (size_t)base * es, sst,
                         out[0]->data, NULL);
    return SNNC_OK;
}

/* ---- Gather ---- */

static int gather_axis(snnc_opctx *c, int rank, int *axis)
{
    int64_t v;
    if (rank == 0)
        return snnc_op_fail(c, SNNC_EINVALID, "Gather needs data of rank >= 1");
    int st = attr_int(c, "axis", 0, &v);
    return st ? st : snnc_op_axis(c, v, rank, "axis", axis);
}

/* Index k into an axis of size dim, negative counting from the end. */
static int gather_index(snnc_opctx *c, int64_t k, int64_t dim, int64_t *out)
{
    *out = 0;
    if (k < -dim || k >= dim)
        return snnc_op_fail(c, SNNC_EINVALID, "index %lld is out of range for a dimension of %lld",
                            (long long)k, (long long)dim);
    *out = k < 0 ? k + dim : k;
    return SNNC_OK;
}

static int gather_infer(snnc_opctx *c, const snnc_vinfo *in, snnc_vinfo *out)
{
    const snnc_vinfo *d = &in[0], *ix = &in[1];
    int axis, st;
    out->dtype = d->dtype;
    if (ix->dtype != SNNC_DTYPE_UNKNOWN && ix->dtype != SNNC_I64 && ix->dtype != SNNC_I32)
        return snnc_op_fail(c, SNNC_EINVALID, "indices must be int64 or int32, not %s",
                            snnc_dtype_name(ix->dtype));
    if (d->rank >= 0 && (st = gather_axis(c, d->rank, &axis)))
        return st;
    if (d->rank < 0 || ix->rank < 0)
        return SNNC_OK;
    int orank = d->rank - 1 + ix->rank;
    if (orank > SNNC_MAX_RANK)
        return snnc_op_fail(c, SNNC_EUNSUPPORTED, "output rank %d exceeds %d", orank,
                            SNNC_MAX_RANK);
    int64_t dim = d->dims[axis];
    if (ix->value && !SNNC_IS_SYM(dim))
        for (int64_t i = 0; i < ix->value->count; i++) {
            int64_t k;
            if ((st = gather_index(c, snnc_tensor_get_i(ix->value, i), dim, &k)))
                return st;
        }
    out->rank = 0;
    for (int k = 0; k < axis; k++)
        out->dims[out->rank++] = d->dims[k];
    for (int k = 0; k < ix->rank; k++)
        out->dims[out->rank++] = ix->dims[k];
    for (int k = axis + 1; k < d->rank; k++)
        out->dims[out->rank++] = d->dims[k];
    int64_t e[SNNC_MAX_RANK], idx[SNNC_MAX_RANK], o[SNNC_MAX_RANK];
    int ne = d->rank == 1 ? snnc_op_tracked(d, e) : -1;
    int ni = ix->rank <= 1 ? snnc_op_known_ints(ix, idx, SNNC_MAX_RANK) : -1;
    if (ne >= 0 && ne == dim && ni >= 0) {
        for (int i = 0; i < ni; i++) {
            int64_t k;
            if ((st = gather_index(c, idx[i], ne, &k)))
                return st;
            o[i] = e[k];
        }
        snnc_op_set_tracked(out, ni, o);
    }
    return SNNC_OK;
}

static int gather_compute(snnc_opctx *c, const snnc_tensor *const *in, snnc_tensor *const *out)
{
    const snnc_tensor *d = in[0], *ix = in[1];
    int axis;
    int st = gather_axis(c, d->rank, &axis);
    if (st)
        return st;
    int64_t outer = 1, inner = 1, dim = d->dims[axis];
    for (int k = 0; k < axis; k++)
        outer *= d->dims[k];
    for (int k = axis + 1; k < d->rank; k++)
        inner *= d->dims[k];
    if (out[0]->count != outer * ix->count * inner)
        return snnc_op_fail(c, SNNC_EINVALID, "output does not match the gather");
    size_t row = (size_t)inner * snnc_dtype_size(d->dtype);
    const char *src = d->data;
    char *dst = out[0]->data;
    for (int64_t i = 0; i < ix->count; i++) {
        int64_t k;
        if ((st = gather_index(c, snnc_tensor_get_i(ix, i), dim, &k)))
            return st;
        for (int64_t o = 0; o < outer; o++)
            memcpy(dst + (size_t)(o * ix->count + i) * row, src + (size_t)(o * dim + k) * row, row);
    }
    return SNNC_OK;
}

const snnc_op_def snnc_ops_layout[] = {
    {"Transpose", 1, 1, 1, 1, transpose_infer, transpose_compute},
    {"Squeeze", 1, 2, 1, 1, squeeze_infer, snnc_op_copy_input},
    {"Unsqueeze", 1, 2, 1, 1, unsqueeze_infer, snnc_op_copy_input},
    {"Concat", 1, INT_MAX, 1, 1, concat_infer, concat_compute},
    {"Split", 1, 2, 1, SPLIT_MAX, split_infer, split_compute},
    {"Slice", 1, 5, 1, 1, slice_infer, slice_compute},
    {"Gather", 2, 2, 1, 1, gather_infer, gather_compute},
    {NULL, 0, 0, 0, 0, NULL, NULL},
};
