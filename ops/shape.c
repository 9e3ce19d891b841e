/* shape.c — operators that make or reinterpret shapes: Shape,
 * ConstantOfShape, Constant, Identity, Reshape, Flatten, Expand, Tile
 * (table snnc_ops_shape; interface ops/op.h).  Their infer hooks read shape
 * inputs through snnc_op_shape_operand, so a shape built from a symbolic
 * batch size at load time (Shape -> Gather -> Concat -> ConstantOfShape)
 * gives outputs with that symbol; Shape itself starts the tracking.  Copies
 * go through snnc_op_copy_strided (layout.c) and work for any element type. */
#include <string.h>

#include "op.h"

/* Defined in layout.c (see there). */

/* ---- helpers of this family ---- */

static int64_t fresh(snnc_opctx *c) { return c->graph ? snnc_op_fresh_dim(c) : SNNC_SYM(0); }

static int need_opset(snnc_opctx *c, int since)
{
    if (c->opset < since)
        return snnc_op_fail(c, SNNC_EINVALID, "%s exists only from opset %d (model: %d)",
                            c->node->op_type, since, c->opset);
    return SNNC_OK;
}

static int attr_int(snnc_opctx *c, const char *name, int64_t def, int64_t *out)
{
    const snnc_attr *a = snnc_node_attr(c->node, name);
    *out = a && a->kind == SNNC_ATTR_INT ? a->i : def;
    if (a && a->kind != SNNC_ATTR_INT)
        return snnc_op_fail(c, SNNC_EINVALID, "attribute '%s' must be an int", name);
    return SNNC_OK;
}


/* Element j of src, converted, stored at dst as element type dt. */
static void put_elem(snnc_dtype dt, void *dst, const snnc_tensor *src, int64_t j)
{
    if (dt == SNNC_F32) {
        float f = (float)snnc_tensor_get_f(src, j);
        memcpy(dst, &f, sizeof f);
    } else if (dt == SNNC_I64) {
        int64_t i = snnc_tensor_get_i(src, j);
        memcpy(dst, &i, sizeof i);
    } else {
        *(uint8_t *)dst = snnc_tensor_get_f(src, j) != 0;
    }
}

static bool computable(snnc_dtype dt)
{
    snnc_dtype c = snnc_compute_dtype(dt);
    return c == SNNC_F32 || c == SNNC_I64 || c == SNNC_BOOL;
}

/* The dims a 1-D int64 shape-like input describes: its contents (*literal:
 * negative numbers are numbers), else its tracked symval (negative elements
 * are symbols), else, when only its length is known, that many fresh
 * symbols.  *n = -1 when even the length is unknown. */
static int shape_arg(snnc_opctx *c, const snnc_vinfo *v, const char *what, int64_t *dims, int *n,
                     bool *literal)
{
    *n = -1;
    *literal = false;
    if (v->dtype != SNNC_DTYPE_UNKNOWN && v->dtype != SNNC_I64)
        return snnc_op_fail(c, SNNC_EINVALID, "input '%s' must be int64, not %s", what,
                            snnc_dtype_name(v->dtype));
    if (v->rank >= 0 && v->rank != 1)
        return snnc_op_fail(c, SNNC_EINVALID, "input '%s' must be 1-D, not of rank %d", what,
                            v->rank);
    int64_t len = v->value ? v->value->count : v->rank == 1 ? v->dims[0] : -1;
    if (len > SNNC_MAX_RANK)
        return snnc_op_fail(c, SNNC_EUNSUPPORTED, "input '%s' has %lld entries; ranks above %d are "
                            "not supported", what, (long long)len, SNNC_MAX_RANK);
    if (v->value) {
        for (int64_t i = 0; i < len; i++)
            dims[i] = snnc_tensor_get_i(v->value, i);
        *n = (int)len;
        *literal = true;
        return SNNC_OK;
    }
    *n = snnc_op_shape_operand(v, dims, SNNC_MAX_RANK);
    if (*n < 0 && len >= 0) {
        *n = (int)len;
        for (int i = 0; i < *n; i++)
            dims[i] = fresh(c);
    }
    return SNNC_OK;
}

static int no_negative(snnc_opctx *c, const char *what, int n, const int64_t *v)
{
    for (int i = 0; i < n; i++)
        if (v[i] < 0)
            return snnc_op_fail(c, SNNC_EINVALID, "%s entry %d is negative (%lld)", what, i,
                                (long long)v[i]);
    return SNNC_OK;
}

/* A product of possibly symbolic dims: a concrete factor times symbols. */
typedef struct {
    int64_t coef;
    int n_sym;
    int64_t sym[SNNC_MAX_RANK];
} dim_prod;

/* Product of dims[0..rank) except index `skip`; fails on overflow. */
static int prod_of(snnc_opctx *c, int rank, const int64_t *dims, int skip, dim_prod *p)
{
    p->coef = 1;
    p->n_sym = 0;
    for (int k = 0; k < rank; k++) {
        if (k == skip)
            continue;
        if (SNNC_IS_SYM(dims[k])) {
            p->sym[p->n_sym++] = dims[k];
        } else if (p->coef && dims[k] > INT64_MAX / p->coef) {
            return snnc_op_fail(c, SNNC_EINVALID, "element count overflows");
        } else {
            p->coef *= dims[k];
        }
    }
    return SNNC_OK;
}

/* The one dim a product stands for (Flatten): concrete, a lone symbol, or fresh. */
static int64_t prod_dim(snnc_opctx *c, const dim_prod *p)
{
    if (p->n_sym == 0 || p->coef == 0)
        return p->coef;
    if (p->n_sym == 1 && p->coef == 1)
        return p->sym[0];
    return fresh(c);
}

/* Remove b's symbols from a (as multisets); false when b has one a lacks. */
static bool cancel_syms(dim_prod *a, const dim_prod *b)
{
    for (int i = 0; i < b->n_sym; i++) {
        int j = 0;
        while (j < a->n_sym && a->sym[j] != b->sym[i])
            j++;
        if (j == a->n_sym)
            return false;
        a->sym[j] = a->sym[--a->n_sym];
    }
    return true;
}

/* ---- Shape ---- */

static int shape_range(snnc_opctx *c, int rank, int *start, int *len)
{
    int64_t s, e;
    *start = *len = 0;
    if ((snnc_node_attr(c->node, "start") || snnc_node_attr(c->node, "end")) && c->opset < 15)
        return snnc_op_fail(c, SNNC_EINVALID, "attributes start/end need opset 15 (model: %d)",
                            c->opset);
    int st = attr_int(c, "start", 0, &s);
    if (st || (st = attr_int(c, "end", rank, &e)))
        return st;
    s = s < 0 ? s + rank : s;
    e = e < 0 ? e + rank : e;
    s = s < 0 ? 0 : s > rank ? rank : s;
    e = e < 0 ? 0 : e > rank ? rank : e;
    *start = (int)s;
    *len = e > s ? (int)(e - s) : 0;
    return SNNC_OK;
}

static int shape_infer(snnc_opctx *c, const snnc_vinfo *in, snnc_vinfo *out)
{
    int start, len;
    out->dtype = SNNC_I64;
    out->rank = 1;
    int st = shape_range(c, in[0].rank < 0 ? 0 : in[0].rank, &start, &len);
    if (st)
        return st;
    if (in[0].rank < 0) {
        out->dims[0] = fresh(c);
        return SNNC_OK;
    }
    out->dims[0] = len;
    snnc_op_set_tracked(out, len, in[0].dims + start);
    return SNNC_OK;
}

static int shape_compute(snnc_opctx *c, const snnc_tensor *const *in, snnc_tensor *const *out)
{
    int start, len;
    int st = shape_range(c, in[0]->rank, &start, &len);
    if (st)
        return st;
    if (out[0]->count != len || out[0]->dtype != SNNC_I64)
        return snnc_op_fail(c, SNNC_EINVALID, "output is not an int64 vector of %d", len);
    memcpy(out[0]->data, in[0]->dims + start, (size_t)len * sizeof(int64_t));
    return SNNC_OK;
}

/* ---- ConstantOfShape ---- */

/* The 'value' attribute: a one-element tensor, or NULL for float 0. */
static int fill_value(snnc_opctx *c, const snnc_tensor **v)
{
    const snnc_attr *a = snnc_node_attr(c->node, "value");
    *v = NULL;
    if (!a)
        return SNNC_OK;
    if (a->kind != SNNC_ATTR_TENSOR || !a->t)
        return snnc_op_fail(c, SNNC_EINVALID, "attribute 'value' must be a tensor");
    if (a->t->count != 1)
        return snnc_op_fail(c, SNNC_EINVALID, "attribute 'value' must hold one element, not %lld",
                            (long long)a->t->count);
    if (!computable(a->t->dtype))
        return snnc_op_fail(c, SNNC_EUNSUPPORTED, "value of type %s",
                            snnc_dtype_name(a->t->dtype));
    *v = a->t;
    return SNNC_OK;
}

static int cos_infer(snnc_opctx *c, const snnc_vinfo *in, snnc_vinfo *out)
{
    const snnc_tensor *v;
    int64_t dims[SNNC_MAX_RANK];
    int n;
    bool literal;
    int st = need_opset(c, 9);
    if (st || (st = fill_value(c, &v)) || (st = shape_arg(c, &in[0], "input", dims, &n, &literal)))
        return st;
    out->dtype = v ? snnc_compute_dtype(v->dtype) : SNNC_F32;
    if (n < 0)
        return SNNC_OK;
    if (literal && (st = no_negative(c, "shape", n, dims)))
        return st;
    snnc_op_set_shape(out, out->dtype, n, dims);
    int64_t count = n == 0 ? 1 : dims[0];
    if (v && out->dtype == SNNC_I64 && n <= 1 && count >= 0 && count <= SNNC_MAX_RANK) {
        int64_t e[SNNC_MAX_RANK]; /* e.g. a shape of ones */
        for (int i = 0; i < count; i++)
            e[i] = snnc_tensor_get_i(v, 0);
        snnc_op_track_literals(out, (int)count, e);
    }
    return SNNC_OK;
}

static int cos_compute(snnc_opctx *c, const snnc_tensor *const *in, snnc_tensor *const *out)
{
    (void)in;
    const snnc_tensor *v;
    int st = fill_value(c, &v);
    if (st)
        return st;
    size_t es = snnc_dtype_size(out[0]->dtype);
    unsigned char one[8] = {0};
    if (v)
        put_elem(out[0]->dtype, one, v, 0);
    for (int64_t i = 0; i < out[0]->count; i++)
        memcpy((char *)out[0]->data + (size_t)i * es, one, es);
    return SNNC_OK;
}

/* ---- Constant ---- */

/* The one attribute holding the constant, checked for kind and opset. */
static int constant_source(snnc_opctx *c, const snnc_attr **src)
{
    static const struct {
        const char *name;
        snnc_attr_kind kind;
        int since;
        bool supported;
    } forms[] = {
        {"value", SNNC_ATTR_TENSOR, 1, true},         {"value_float", SNNC_ATTR_FLOAT, 12, true},
        {"value_floats", SNNC_ATTR_FLOATS, 12, true}, {"value_int", SNNC_ATTR_INT, 12, true},
        {"value_ints", SNNC_ATTR_INTS, 12, true},     {"value_string", SNNC_ATTR_STRING, 12, false},
        {"value_strings", SNNC_ATTR_STRINGS, 12, false}, {"sparse_value", SNNC_ATTR_OTHER, 11, false},
    };
    int found = -1, count = 0;
    for (int i = 0; i < (int)(sizeof forms / sizeof forms[0]); i++)
        if (snnc_node_attr(c->node, forms[i].name))
            found = i, count++;
    if (count != 1)
        return snnc_op_fail(c, SNNC_EINVALID,
                            "Constant needs exactly one of value, value_float(s), value_int(s), "
                            "value_string(s), sparse_value; it has %d", count);
    const snnc_attr *a = snnc_node_attr(c->node, forms[found].name);
    if (c->opset < forms[found].since)
        return snnc_op_fail(c, SNNC_EINVALID, "attribute '%s' needs opset %d (model: %d)", a->name,
                            forms[found].since, c->opset);
    if (!forms[found].supported)
        return snnc_op_fail(c, SNNC_EUNSUPPORTED, "constants given as '%s'", a->name);
    if (a->kind != forms[found].kind || (a->kind == SNNC_ATTR_TENSOR && !a->t))
        return snnc_op_fail(c, SNNC_EINVALID, "attribute '%s' has the wrong kind", a->name);
    if (a->kind == SNNC_ATTR_TENSOR && !computable(a->t->dtype))
        return snnc_op_fail(c, SNNC_EUNSUPPORTED, "constant of type %s", snnc_dtype_name(a->t->dtype));
    *src = a;
    return SNNC_OK;
}

static int constant_infer(snnc_opctx *c, const snnc_vinfo *in, snnc_vinfo *out)
{
    (void)in;
    const snnc_attr *a;
    int st = constant_source(c, &a);
    if (st)
        return st;
    int64_t n = a->n, e[SNNC_MAX_RANK];
    int ne = -1;
    switch (a->kind) {
    case SNNC_ATTR_TENSOR:
        snnc_op_set_shape(out, snnc_compute_dtype(a->t->dtype), a->t->rank, a->t->dims);
        if (out->dtype == SNNC_I64 && a->t->rank <= 1 && a->t->count <= SNNC_MAX_RANK)
            for (ne = 0; ne < a->t->count; ne++)
                e[ne] = snnc_tensor_get_i(a->t, ne);
        break;
    case SNNC_ATTR_FLOAT: snnc_op_set_shape(out, SNNC_F32, 0, NULL); break;
    case SNNC_ATTR_FLOATS: snnc_op_set_shape(out, SNNC_F32, 1, &n); break;
    case SNNC_ATTR_INT:
        snnc_op_set_shape(out, SNNC_I64, 0, NULL);
        e[0] = a->i, ne = 1;
        break;
    default:
        snnc_op_set_shape(out, SNNC_I64, 1, &n);
        if (n <= SNNC_MAX_RANK)
            memcpy(e, a->ints, (size_t)n * sizeof *e), ne = (int)n;
    }
    snnc_op_track_literals(out, ne, e);
    return SNNC_OK;
}

static int constant_compute(snnc_opctx *c, const snnc_tensor *const *in, snnc_tensor *const *out)
{
    (void)in;
    const snnc_attr *a;
    snnc_tensor *o = out[0];
    int st = constant_source(c, &a);
    if (st)
        return st;
    int64_t want = a->kind == SNNC_ATTR_TENSOR ? a->t->count
                   : a->kind == SNNC_ATTR_FLOATS || a->kind == SNNC_ATTR_INTS ? a->n : 1;
    if (o->count != want)
        return snnc_op_fail(c, SNNC_EINVALID, "output does not hold the constant's %lld elements",
                            (long long)want);
    size_t es = snnc_dtype_size(o->dtype);
    switch (a->kind) {
    case SNNC_ATTR_TENSOR:
        for (int64_t i = 0; i < want; i++)
            put_elem(o->dtype, (char *)o->data + (size_t)i * es, a->t, i);
        break;
    case SNNC_ATTR_FLOAT: snnc_f32(o)[0] = a->f; break;
    case SNNC_ATTR_FLOATS: memcpy(o->data, a->floats, (size_t)want * sizeof(float)); break;
    case SNNC_ATTR_INT: snnc_i64(o)[0] = a->i; break;
    default: memcpy(o->data, a->ints, (size_t)want * sizeof(int64_t));
    }
    return SNNC_OK;
}

/* ---- Identity ---- */

static int identity_infer(snnc_opctx *c, const snnc_vinfo *in, snnc_vinfo *out)
{
    (void)c;
    snnc_op_set_shape(out, in[0].dtype, in[0].rank, in[0].dims);
    snnc_op_carry_tracked(&in[0], out);
    return SNNC_OK;
}

/* ---- Reshape ---- */

/* The dim standing for -1: input elements over the other output dims. */
static int reshape_missing(snnc_opctx *c, dim_prod *pin, const dim_prod *pout, int64_t *dim)
{
    if (!cancel_syms(pin, pout)) {
        *dim = fresh(c);
    } else if (pout->coef == 0) {
        return snnc_op_fail(c, SNNC_EINVALID, "cannot infer -1 next to a zero dimension");
    } else if (pin->n_sym == 0) {
        if (pin->coef % pout->coef)
            return snnc_op_fail(c, SNNC_EINVALID, "%lld elements do not divide into dims of %lld",
                                (long long)pin->coef, (long long)pout->coef);
        *dim = pin->coef / pout->coef;
    } else if (pin->coef == 0) {
        *dim = 0;
    } else {
        *dim = pin->n_sym == 1 && pin->coef == pout->coef ? pin->sym[0] : fresh(c);
    }
    return SNNC_OK;
}

static int reshape_infer(snnc_opctx *c, const snnc_vinfo *in, snnc_vinfo *out)
{
    const snnc_vinfo *x = &in[0];
    int64_t t[SNNC_MAX_RANK], dims[SNNC_MAX_RANK], allowzero;
    int n, minus = -1, st;
    bool literal, zero = false;
    if (snnc_node_attr(c->node, "shape"))
        return snnc_op_fail(c, SNNC_EINVALID, "attribute 'shape' became an input at opset 5");
    if (snnc_node_attr(c->node, "allowzero") && c->opset < 14)
        return snnc_op_fail(c, SNNC_EINVALID, "attribute 'allowzero' needs opset 14 (model: %d)",
                            c->opset);
    if ((st = attr_int(c, "allowzero", 0, &allowzero)))
        return st;
    if (allowzero != 0 && allowzero != 1)
        return snnc_op_fail(c, SNNC_EINVALID, "allowzero must be 0 or 1, not %lld",
                            (long long)allowzero);
    out->dtype = x->dtype;
    if ((st = shape_arg(c, &in[1], "shape", t, &n, &literal)) || n < 0)
        return st;
    for (int i = 0; i < n; i++) {
        dims[i] = t[i];
        /* -1 means "infer"; in a symval only when no symbol is numbered -1 */
        if (t[i] == -1 && (literal || SNNC_SYM(0) < -1)) {
            if (minus >= 0)
                return snnc_op_fail(c, SNNC_EINVALID, "shape has more than one -1");
            minus = i;
        } else if (literal && t[i] < -1) {
            return snnc_op_fail(c, SNNC_EINVALID, "shape entry %d is %lld", i, (long long)t[i]);
        } else if (t[i] == 0 && allowzero) {
            zero = true;
        } else if (t[i] == 0) { /* copy the input's dim */
            if (x->rank >= 0 && i >= x->rank)
                return snnc_op_fail(c, SNNC_EINVALID,
                                    "shape entry %d is 0 but the input has rank %d", i, x->rank);
            dims[i] = x->rank >= 0 ? x->dims[i] : fresh(c);
        }
    }
    if (zero && minus >= 0)
        return snnc_op_fail(c, SNNC_EINVALID, "with allowzero, shape cannot hold both 0 and -1");
    if (x->rank < 0) {
        if (minus >= 0)
            dims[minus] = fresh(c);
        snnc_op_set_shape(out, x->dtype, n, dims);
        return SNNC_OK;
    }
    dim_prod pin, pout;
    if ((st = prod_of(c, x->rank, x->dims, -1, &pin)) || (st = prod_of(c, n, dims, minus, &pout)))
        return st;
    if (minus >= 0) {
        if ((st = reshape_missing(c, &pin, &pout, &dims[minus])))
            return st;
    } else if (cancel_syms(&pin, &pout) && pin.n_sym == 0 && pin.coef != pout.coef) {
        char a[200], b[200];
        return snnc_op_fail(c, SNNC_EINVALID, "cannot reshape %s into %s: element counts differ",
                            snnc_dims_str(x->rank, x->dims, a, sizeof a),
                            snnc_dims_str(n, dims, b, sizeof b));
    }
    snnc_op_set_shape(out, x->dtype, n, dims);
    snnc_op_carry_tracked(x, out);
    return SNNC_OK;
}

/* ---- Flatten ---- */

static int flatten_infer(snnc_opctx *c, const snnc_vinfo *in, snnc_vinfo *out)
{
    int64_t axis;
    int rank = in[0].rank;
    int st = attr_int(c, "axis", 1, &axis);
    if (st)
        return st;
    out->dtype = in[0].dtype;
    out->rank = 2;
    if (rank < 0) {
        out->dims[0] = axis == 0 ? 1 : fresh(c);
        out->dims[1] = fresh(c);
        return SNNC_OK;
    }
    int64_t lo = c->opset < 11 ? 0 : -rank;
    if (axis < lo || axis > rank)
        return snnc_op_fail(c, SNNC_EINVALID, "axis %lld is outside [%lld, %d]", (long long)axis,
                            (long long)lo, rank);
    if (axis < 0)
        axis += rank;
    dim_prod outer, inner;
    if ((st = prod_of(c, (int)axis, in[0].dims, -1, &outer)) ||
        (st = prod_of(c, rank - (int)axis, in[0].dims + axis, -1, &inner)))
        return st;
    out->dims[0] = prod_dim(c, &outer);
    out->dims[1] = prod_dim(c, &inner);
    return SNNC_OK;
}

/* ---- Expand ---- */

static int expand_infer(snnc_opctx *c, const snnc_vinfo *in, snnc_vinfo *out)
{
    int64_t t[SNNC_MAX_RANK];
    int n;
    bool literal;
    int st = need_opset(c, 8);
    out->dtype = in[0].dtype;
    if (st || (st = shape_arg(c, &in[1], "shape", t, &n, &literal)) || n < 0)
        return st;
    if (literal && (st = no_negative(c, "shape", n, t)))
        return st;
    if (in[0].rank < 0)
        return SNNC_OK;
    return snnc_op_broadcast(c, in[0].rank, in[0].dims, n, t, &out->rank, out->dims);
}

static int expand_compute(snnc_opctx *c, const snnc_tensor *const *in, snnc_tensor *const *out)
{
    const snnc_tensor *x = in[0], *o = out[0];
    int64_t ist[SNNC_MAX_RANK], sst[SNNC_MAX_RANK];
    int lead = o->rank - x->rank;
    if (lead < 0)
        return snnc_op_fail(c, SNNC_EINVALID, "output rank is below the input's");
    snnc_op_contiguous_strides(x->rank, x->dims, ist);
    for (int k = 0; k < o->rank; k++) {
        int j = k - lead;
        if (j >= 0 && x->dims[j] != 1 && x->dims[j] != o->dims[k])
            return snnc_op_fail(c, SNNC_EINVALID, "output does not match the broadcast");
        sst[k] = j < 0 || x->dims[j] == 1 ? 0 : ist[j];
    }
    snnc_op_copy_strided(snnc_dtype_size(x->dtype), o->rank, o->dims, x->data, sst, o->data, NULL);
    return SNNC_OK;
}

/* ---- Tile ---- */

static int tile_dim(snnc_opctx *c, int64_t d, int64_t rep, int64_t *out)
{
    if (d == 0 || rep == 0)
        *out = 0;
    else if (rep == 1 || d == 1)
        *out = rep == 1 ? d : rep;
    else if (SNNC_IS_SYM(d) || SNNC_IS_SYM(rep))
        *out = fresh(c);
    else if (d > SNNC_MAX_ELEMENTS / rep)
        return snnc_op_fail(c, SNNC_EINVALID, "tiling %lld by %lld is too large", (long long)d,
                            (long long)rep);
    else
        *out = d * rep;
    return SNNC_OK;
}

static int tile_infer(snnc_opctx *c, const snnc_vinfo *in, snnc_vinfo *out)
{
    int64_t rep[SNNC_MAX_RANK];
    int n, rank = in[0].rank;
    bool literal;
    int st = need_opset(c, 6);
    out->dtype = in[0].dtype;
    if (st || (st = shape_arg(c, &in[1], "repeats", rep, &n, &literal)))
        return st;
    if (literal && (st = no_negative(c, "repeats", n, rep)))
        return st;
    if (rank >= 0 && n >= 0 && n != rank)
        return snnc_op_fail(c, SNNC_EINVALID, "repeats has %d entries for an input of rank %d", n,
                            rank);
    if (rank < 0 && n < 0)
        return SNNC_OK;
    out->rank = rank >= 0 ? rank : n;
    for (int k = 0; k < out->rank; k++) {
        int64_t d = rank >= 0 ? in[0].dims[k] : fresh(c), r = n >= 0 ? rep[k] : fresh(c);
        if ((st = tile_dim(c, d, r, &out->dims[k])))
            return st;
    }
    return SNNC_OK;
}

/* Viewing the output as [r0, d0, r1, d1, ...] makes tiling one strided copy
 * that reads the input with stride 0 along each r. */
static int tile_compute(snnc_opctx *c, const snnc_tensor *const *in, snnc_tensor *const *out)
{
    const snnc_tensor *x = in[0], *o = out[0];
    int64_t ist[SNNC_MAX_RANK], ost[SNNC_MAX_RANK];
    int64_t dims[2 * SNNC_MAX_RANK], sst[2 * SNNC_MAX_RANK], dst[2 * SNNC_MAX_RANK];
    if (o->count == 0)
        return SNNC_OK;
    if (o->rank != x->rank)
        return snnc_op_fail(c, SNNC_EINVALID, "output rank differs from the input's");
    snnc_op_contiguous_strides(x->rank, x->dims, ist);
    snnc_op_contiguous_strides(o->rank, o->dims, ost);
    for (int k = 0; k < x->rank; k++) {
        if (o->dims[k] % x->dims[k])
            return snnc_op_fail(c, SNNC_EINVALID, "output is not a tiling of the input");
        dims[2 * k] = o->dims[k] / x->dims[k];
        dims[2 * k + 1] = x->dims[k];
        sst[2 * k] = 0;
        sst[2 * k + 1] = ist[k];
        dst[2 * k] = x->dims[k] * ost[k];
        dst[2 * k + 1] = ost[k];
    }
    snnc_op_copy_strided(snnc_dtype_size(x->dtype), 2 * x->rank, dims, x->data, sst, o->data, dst);
    return SNNC_OK;
}

const snnc_op_def snnc_ops_shape[] = {
    {"Shape", 1, 1, 1, 1, shape_infer, shape_compute},
    {"ConstantOfShape", 1, 1, 1, 1, cos_infer, cos_compute},
    {"Constant", 0, 0, 1, 1, constant_infer, constant_compute},
    {"Identity", 1, 1, 1, 1, identity_infer, snnc_op_copy_input},
    {"Reshape", 2, 2, 1, 1, reshape_infer, snnc_op_copy_input},
    {"Flatten", 1, 1, 1, 1, flatten_infer, snnc_op_copy_input},
    {"Expand", 2, 2, 1, 1, expand_infer, expand_compute},
    {"Tile", 2, 2, 1, 1, tile_infer, tile_compute},
    {NULL, 0, 0, 0, 0, NULL, NULL},
};
