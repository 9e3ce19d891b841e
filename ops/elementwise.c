/* elementwise.c — the element-wise ONNX operators (table snnc_ops_elementwise,
 * interface ops/op.h): the numpy-broadcasting binaries Add, Sub, Mul, Div,
 * Pow; the unaries Neg, Abs, Exp, Sqrt, Relu, LeakyRelu, Sigmoid,
 * HardSigmoid, Tanh, Round (opset 11+, halves to even), Floor; Clip; Where.  Every broadcasting operator runs through
 * the strided iterator of broadcast.h.  Add/Sub/Mul/Div on small int64
 * shape values, and Where choosing between them under a known condition,
 * also carry their possibly symbolic elements (symval). */
#include <float.h>
#include <math.h>
#include <string.h>

#include "broadcast.h"
#include "op.h"

/* ---------------------------------------------------------------------- */
/* Shared checks                                                           */

static snnc_dtype dtype_of(const snnc_vinfo *v) { return snnc_compute_dtype(v->dtype); }

/* A float attribute, `def` when absent; fails on any other kind. */
static int attr_float(snnc_opctx *c, const char *name, float def, float *out)
{
    const snnc_attr *a = snnc_node_attr(c->node, name);
    *out = def;
    if (!a)
        return SNNC_OK;
    if (a->kind == SNNC_ATTR_FLOAT)
        *out = a->f;
    else if (a->kind == SNNC_ATTR_INT)
        *out = (float)a->i;
    else
        return snnc_op_fail(c, SNNC_EINVALID, "attribute '%s' must be a float", name);
    return SNNC_OK;
}

/* Type check: `d` (a compute dtype, or unknown) must be F32, or I64 when
 * `ints` allows it. */
static int check_numeric(snnc_opctx *c, snnc_dtype d, bool ints, const char *what)
{
    if (d == SNNC_DTYPE_UNKNOWN || d == SNNC_F32 || (ints && d == SNNC_I64))
        return SNNC_OK;
    return snnc_op_fail(c, SNNC_EINVALID, "%s of type %s is not supported at opset %d%s", what,
                        snnc_dtype_name(d), c->opset, ints ? "" : " (floating point only)");
}

/* ---------------------------------------------------------------------- */
/* Binary arithmetic                                                       */

typedef enum { OP_ADD, OP_SUB, OP_MUL, OP_DIV, OP_POW } binop;

/* Wrapping int64 arithmetic (no undefined overflow); *divzero on x / 0. */
static int64_t int_apply(binop op, int64_t a, int64_t b, bool *divzero)
{
    switch (op) {
    case OP_ADD: return (int64_t)((uint64_t)a + (uint64_t)b);
    case OP_SUB: return (int64_t)((uint64_t)a - (uint64_t)b);
    case OP_MUL: return (int64_t)((uint64_t)a * (uint64_t)b);
    case OP_DIV:
        if (b == 0) {
            *divzero = true;
            return 0;
        }
        return b == -1 ? (int64_t)(0 - (uint64_t)a) : a / b; /* truncates toward zero */
    case OP_POW: break;
    }
    return 0;
}

/* Integer power by squaring, wrapping; negative exponents truncate 1/a^-b. */
static int64_t int_pow(int64_t a, int64_t b)
{
    if (b < 0)
        return a == 1 ? 1 : a == -1 ? ((b & 1) ? -1 : 1) : 0;
    uint64_t r = 1, x = (uint64_t)a;
    for (uint64_t e = (uint64_t)b; e; e >>= 1) {
        if (e & 1)
            r *= x;
        x *= x;
    }
    return (int64_t)r;
}

typedef struct binctx {
    binop op;
    const snnc_tensor *a, *b;
    snnc_tensor *y;
    bool divzero;
} binctx;

static void f32_row(void *vctx, int64_t len, int64_t o, const int64_t *off, const int64_t *step)
{
    binctx *x = vctx;
    const float *a = snnc_f32(x->a) + off[0], *b = snnc_f32(x->b) + off[1];
    float *y = snnc_f32(x->y) + o;
    int64_t sa = step[0], sb = step[1];
    switch (x->op) {
    case OP_ADD:
        for (int64_t i = 0; i < len; i++)
            y[i] = a[i * sa] + b[i * sb];
        break;
    case OP_SUB:
        for (int64_t i = 0; i < len; i++)
            y[i] = a[i * sa] - b[i * sb];
        break;
    case OP_MUL:
        for (int64_t i = 0; i < len; i++)
            y[i] = a[i * sa] * b[i * sb];
        break;
    case OP_DIV:
        for (int64_t i = 0; i < len; i++)
            y[i] = a[i * sa] / b[i * sb];
        break;
    case OP_POW:
        for (int64_t i = 0; i < len; i++)
            y[i] = (float)pow(a[i * sa], b[i * sb]);
        break;
    }
}

static void i64_row(void *vctx, int64_t len, int64_t o, const int64_t *off, const int64_t *step)
{
    binctx *x = vctx;
    const int64_t *a = snnc_i64(x->a) + off[0], *b = snnc_i64(x->b) + off[1];
    int64_t *y = snnc_i64(x->y) + o;
    for (int64_t i = 0; i < len; i++)
        y[i] = int_apply(x->op, a[i * step[0]], b[i * step[1]], &x->divzero);
}

/* Pow with any mix of F32/I64 base and exponent; the result has the base's type. */
static void pow_row(void *vctx, int64_t len, int64_t o, const int64_t *off, const int64_t *step)
{
    binctx *x = vctx;
    for (int64_t i = 0; i < len; i++) {
        int64_t ia = off[0] + i * step[0], ib = off[1] + i * step[1];
        if (x->a->dtype == SNNC_F32)
            snnc_f32(x->y)[o + i] = (float)pow(snnc_f32(x->a)[ia], snnc_tensor_get_f(x->b, ib));
        else if (x->b->dtype == SNNC_I64)
            snnc_i64(x->y)[o + i] = int_pow(snnc_i64(x->a)[ia], snnc_i64(x->b)[ib]);
        else
            snnc_i64(x->y)[o + i] =
                snnc_ew_f2i(pow((double)snnc_i64(x->a)[ia], (double)snnc_f32(x->b)[ib]));
    }
}

static int binary_compute(snnc_opctx *c, const snnc_tensor *const *in, snnc_tensor *const *out,
                          binop op)
{
    binctx x = {op, in[0], in[1], out[0], false};
    snnc_bcast it;
    int rc = snnc_bcast_prepare(c, &it, out[0], 2, in);
    if (rc)
        return rc;
    bool same = in[0]->dtype == in[1]->dtype && in[0]->dtype == out[0]->dtype;
    if (same && out[0]->dtype == SNNC_F32)
        snnc_bcast_run(&it, f32_row, &x);
    else if (op == OP_POW && (in[0]->dtype == SNNC_F32 || in[0]->dtype == SNNC_I64) &&
             (in[1]->dtype == SNNC_F32 || in[1]->dtype == SNNC_I64) &&
             in[0]->dtype == out[0]->dtype)
        snnc_bcast_run(&it, pow_row, &x);
    else if (same && out[0]->dtype == SNNC_I64)
        snnc_bcast_run(&it, i64_row, &x);
    else
        return snnc_op_fail(c, SNNC_EUNSUPPORTED, "unsupported operand types %s and %s",
                            snnc_dtype_name(in[0]->dtype), snnc_dtype_name(in[1]->dtype));
    if (x.divzero)
        return snnc_op_fail(c, SNNC_EINVALID, "integer division by zero");
    return SNNC_OK;
}

/* The elements of a shape-like operand: from its contents (concrete, even if
 * negative) or its tracked symval (negative = symbol).  Returns the count or
 * -1 when not known. */
static int shape_elems(const snnc_vinfo *v, int64_t *val, bool *sym)
{
    if (v->value) {
        const snnc_tensor *t = v->value;
        if (t->rank > 1 || t->count > SNNC_MAX_RANK ||
            (t->dtype != SNNC_I64 && t->dtype != SNNC_I32 && t->dtype != SNNC_U8))
            return -1;
        for (int64_t i = 0; i < t->count; i++) {
            val[i] = snnc_tensor_get_i(t, i);
            sym[i] = false;
        }
        return (int)t->count;
    }
    if (v->n_symval < 0 || v->n_symval > SNNC_MAX_RANK || v->rank > 1)
        return -1;
    for (int i = 0; i < v->n_symval; i++) {
        val[i] = v->symval[i];
        sym[i] = SNNC_IS_SYM(val[i]);
    }
    return v->n_symval;
}

/* One element of shape arithmetic; false when the result cannot be tracked
 * (a symbol combined with anything but the identity, division by zero, or a
 * negative concrete result, which symval could not tell from a symbol). */
static bool sym_apply(binop op, int64_t a, bool sa, int64_t b, bool sb, int64_t *r)
{
    bool dz = false;
    if (!sa && !sb) {
        *r = int_apply(op, a, b, &dz);
        return !dz && *r >= 0;
    }
    if (sa && sb)
        return false;
    int64_t s = sa ? a : b, k = sa ? b : a;
    bool ok = (op == OP_ADD && k == 0) || (op == OP_MUL && k == 1) ||
              (sa && (op == OP_SUB || op == OP_DIV) && k == (op == OP_SUB ? 0 : 1));
    *r = s;
    return ok;
}

static void binary_symval(binop op, const snnc_vinfo *a, const snnc_vinfo *b, snnc_vinfo *y)
{
    int64_t va[SNNC_MAX_RANK], vb[SNNC_MAX_RANK];
    bool sa[SNNC_MAX_RANK], sb[SNNC_MAX_RANK];
    if (op == OP_POW || y->dtype != SNNC_I64 || y->rank < 0 || y->rank > 1)
        return;
    int na = shape_elems(a, va, sa), nb = shape_elems(b, vb, sb);
    if (na < 1 || nb < 1 || (na != nb && na != 1 && nb != 1))
        return;
    int n = na > nb ? na : nb;
    if (y->rank == 0 ? n != 1 : y->dims[0] != n)
        return;
    for (int i = 0; i < n; i++) {
        int ia = na == 1 ? 0 : i, ib = nb == 1 ? 0 : i;
        if (!sym_apply(op, va[ia], sa[ia], vb[ib], sb[ib], &y->symval[i]))
            return;
    }
    y->n_symval = n;
}

static int binary_infer(snnc_opctx *c, const snnc_vinfo *in, snnc_vinfo *out, binop op)
{
    int rc = snnc_ew_check_arity(c, in, 2, 2);
    if (rc)
        return rc;
    snnc_dtype da = dtype_of(&in[0]), db = dtype_of(&in[1]);
    bool mixed_pow = op == OP_POW && c->opset >= 12;
    if ((rc = check_numeric(c, da, op != OP_POW || c->opset >= 12, "input A")) ||
        (rc = check_numeric(c, db, op != OP_POW || c->opset >= 12, "input B")))
        return rc;
    if (!mixed_pow && da != SNNC_DTYPE_UNKNOWN && db != SNNC_DTYPE_UNKNOWN && da != db)
        return snnc_op_fail(c, SNNC_EINVALID, "inputs have different types %s and %s",
                            snnc_dtype_name(da), snnc_dtype_name(db));
    out[0].dtype = da != SNNC_DTYPE_UNKNOWN || op == OP_POW ? da : db;
    if ((rc = snnc_bcast_infer(c, 2, in, &out[0])) || out[0].rank < 0)
        return rc;
    binary_symval(op, &in[0], &in[1], &out[0]);
    return SNNC_OK;
}

SNNC_EW_HOOKS(add, binary, OP_ADD)
SNNC_EW_HOOKS(sub, binary, OP_SUB)
SNNC_EW_HOOKS(mul, binary, OP_MUL)
SNNC_EW_HOOKS(div, binary, OP_DIV)
SNNC_EW_HOOKS(pow, binary, OP_POW)

/* ---------------------------------------------------------------------- */
/* Unary operators                                                         */

typedef enum {
    UN_NEG, UN_ABS, UN_EXP, UN_SQRT, UN_RELU, UN_LEAKY, UN_SIGMOID, UN_HARDSIGMOID, UN_TANH, UN_ROUND, UN_FLOOR
} unop;

typedef struct unparams {
    float alpha, beta;
} unparams;

/* Read and check the operator's attributes. */
static int unary_params(snnc_opctx *c, unop op, unparams *p)
{
    int rc = SNNC_OK;
    p->alpha = p->beta = 0;
    if (op == UN_LEAKY)
        rc = attr_float(c, "alpha", 0.01f, &p->alpha);
    else if (op == UN_HARDSIGMOID && !(rc = attr_float(c, "alpha", 0.2f, &p->alpha)))
        rc = attr_float(c, "beta", 0.5f, &p->beta);
    return rc;
}

/* Neg and Abs take integers at every supported opset; Relu from opset 14. */
static bool unary_takes_ints(unop op, int opset)
{
    return op == UN_NEG || op == UN_ABS || (op == UN_RELU && opset >= 14);
}

static int unary_infer(snnc_opctx *c, const snnc_vinfo *in, snnc_vinfo *out, unop op)
{
    unparams p;
    int rc = snnc_ew_check_arity(c, in, 1, 1);
    if (rc || (rc = unary_params(c, op, &p)))
        return rc;
    snnc_dtype d = dtype_of(&in[0]);
    if ((rc = check_numeric(c, d, unary_takes_ints(op, c->opset), "input")))
        return rc;
    if (op == UN_ROUND && c->opset < 11)
        return snnc_op_fail(c, SNNC_EUNSUPPORTED, "Round needs opset 11 or later (model: %d)", c->opset);
    snnc_op_set_shape(&out[0], d, in[0].rank, in[0].dims);
    return SNNC_OK;
}

static float sigmoidf(float x)
{
    if (x >= 0)
        return 1.0f / (1.0f + expf(-x));
    float e = expf(x);
    return e / (1.0f + e);
}

static float unary_f32(unop op, const unparams *p, float x)
{
    switch (op) {
    case UN_NEG: return -x;
    case UN_ABS: return fabsf(x);
    case UN_EXP: return expf(x);
    case UN_SQRT: return sqrtf(x);
    case UN_RELU: return x > 0 ? x : 0.0f;
    case UN_LEAKY: return x >= 0 ? x : p->alpha * x;
    case UN_SIGMOID: return sigmoidf(x);
    case UN_HARDSIGMOID: {
        float v = p->alpha * x + p->beta;
        return v < 0 ? 0.0f : v > 1 ? 1.0f : v;
    }
    case UN_TANH: return tanhf(x);
    case UN_ROUND: return nearbyintf(x); /* ONNX: halves to even (default rounding mode) */
    case UN_FLOOR: return floorf(x);
    }
    return x;
}

static int64_t unary_i64(unop op, int64_t x)
{
    switch (op) {
    case UN_NEG: return (int64_t)(0 - (uint64_t)x);
    case UN_ABS: return x < 0 ? (int64_t)(0 - (uint64_t)x) : x;
    case UN_RELU: return x > 0 ? x : 0;
    default: return x;
    }
}

static int unary_compute(snnc_opctx *c, const snnc_tensor *const *in, snnc_tensor *const *out,
                         unop op)
{
    unparams p;
    int rc = unary_params(c, op, &p);
    if (rc)
        return rc;
    const snnc_tensor *x = in[0];
    snnc_tensor *y = out[0];
    if (x->dtype != y->dtype || x->count != y->count)
        return snnc_op_fail(c, SNNC_EINVALID, "output does not match the input");
    if (x->dtype == SNNC_F32) {
        for (int64_t i = 0; i < x->count; i++)
            snnc_f32(y)[i] = unary_f32(op, &p, snnc_f32(x)[i]);
    } else if (x->dtype == SNNC_I64 && unary_takes_ints(op, c->opset)) {
        for (int64_t i = 0; i < x->count; i++)
            snnc_i64(y)[i] = unary_i64(op, snnc_i64(x)[i]);
    } else {
        return snnc_op_fail(c, SNNC_EUNSUPPORTED, "input type %s is not supported",
                            snnc_dtype_name(x->dtype));
    }
    return SNNC_OK;
}

SNNC_EW_HOOKS(neg, unary, UN_NEG)
SNNC_EW_HOOKS(abs, unary, UN_ABS)
SNNC_EW_HOOKS(exp, unary, UN_EXP)
SNNC_EW_HOOKS(sqrt, unary, UN_SQRT)
SNNC_EW_HOOKS(relu, unary, UN_RELU)
SNNC_EW_HOOKS(leaky, unary, UN_LEAKY)
SNNC_EW_HOOKS(sigmoid, unary, UN_SIGMOID)
SNNC_EW_HOOKS(hardsigmoid, unary, UN_HARDSIGMOID)
SNNC_EW_HOOKS(tanh, unary, UN_TANH)
SNNC_EW_HOOKS(round, unary, UN_ROUND)
SNNC_EW_HOOKS(floor, unary, UN_FLOOR)

/* ---------------------------------------------------------------------- */
/* Clip: bounds are float attributes before opset 11, optional scalar      */
/* inputs from 11 (integers from 12); absent bounds are the type's limits.  */

static int clip_infer(snnc_opctx *c, const snnc_vinfo *in, snnc_vinfo *out)
{
    bool attrs = c->opset < 11;
    int rc = snnc_ew_check_arity(c, in, 1, attrs ? 1 : 3);
    if (rc)
        return rc;
    snnc_dtype d = dtype_of(&in[0]);
    if ((rc = check_numeric(c, d, c->opset >= 12, "input")))
        return rc;
    float f;
    if (attrs) {
        if ((rc = attr_float(c, "min", -FLT_MAX, &f)) || (rc = attr_float(c, "max", FLT_MAX, &f)))
            return rc;
    } else if (snnc_node_attr(c->node, "min") || snnc_node_attr(c->node, "max")) {
        return snnc_op_fail(c, SNNC_EINVALID,
                            "min and max are inputs, not attributes, from opset 11");
    }
    for (int i = 1; i < c->node->n_inputs; i++) {
        if (!in[i].present)
            continue;
        snnc_dtype di = dtype_of(&in[i]);
        if (di != SNNC_DTYPE_UNKNOWN && d != SNNC_DTYPE_UNKNOWN && di != d)
            return snnc_op_fail(c, SNNC_EINVALID, "%s has type %s but the input is %s",
                                i == 1 ? "min" : "max", snnc_dtype_name(di), snnc_dtype_name(d));
        for (int k = 0; k < in[i].rank; k++)
            if (in[i].dims[k] != 1)
                return snnc_op_fail(c, SNNC_EINVALID, "%s must be a scalar",
                                    i == 1 ? "min" : "max");
    }
    snnc_op_set_shape(&out[0], d, in[0].rank, in[0].dims);
    return SNNC_OK;
}

/* The bound given by input i (if present), else `def`. */
static int clip_bound(snnc_opctx *c, const snnc_tensor *const *in, int i, const snnc_tensor **t)
{
    *t = i < c->node->n_inputs ? in[i] : NULL;
    if (*t && ((*t)->count != 1 || (*t)->dtype != in[0]->dtype))
        return snnc_op_fail(c, SNNC_EINVALID, "%s must be a scalar of the input's type",
                            i == 1 ? "min" : "max");
    return SNNC_OK;
}

static int clip_compute(snnc_opctx *c, const snnc_tensor *const *in, snnc_tensor *const *out)
{
    const snnc_tensor *x = in[0], *tlo = NULL, *thi = NULL;
    snnc_tensor *y = out[0];
    int rc;
    if (x->dtype != y->dtype || x->count != y->count)
        return snnc_op_fail(c, SNNC_EINVALID, "output does not match the input");
    if (c->opset >= 11 && ((rc = clip_bound(c, in, 1, &tlo)) || (rc = clip_bound(c, in, 2, &thi))))
        return rc;
    if (x->dtype == SNNC_F32) {
        float lo, hi;
        if (c->opset < 11) {
            if ((rc = attr_float(c, "min", -FLT_MAX, &lo)) ||
                (rc = attr_float(c, "max", FLT_MAX, &hi)))
                return rc;
        } else {
            lo = tlo ? snnc_f32(tlo)[0] : -FLT_MAX;
            hi = thi ? snnc_f32(thi)[0] : FLT_MAX;
        }
        for (int64_t i = 0; i < x->count; i++) {
            float v = snnc_f32(x)[i];
            v = v < lo ? lo : v;
            snnc_f32(y)[i] = v > hi ? hi : v;
        }
    } else if (x->dtype == SNNC_I64) {
        int64_t lo = tlo ? snnc_i64(tlo)[0] : INT64_MIN, hi = thi ? snnc_i64(thi)[0] : INT64_MAX;
        for (int64_t i = 0; i < x->count; i++) {
            int64_t v = snnc_i64(x)[i];
            v = v < lo ? lo : v;
            snnc_i64(y)[i] = v > hi ? hi : v;
        }
    } else {
        return snnc_op_fail(c, SNNC_EUNSUPPORTED, "input type %s is not supported",
                            snnc_dtype_name(x->dtype));
    }
    return SNNC_OK;
}

/* ---------------------------------------------------------------------- */
/* Where (opset 9+): condition ? X : Y, broadcast three ways.               */

/* A shape value chosen element-wise under a known condition keeps its
 * (possibly symbolic) elements; a chosen negative constant cannot be told
 * from a symbol, so it ends tracking. */
static void where_symval(const snnc_vinfo *in, snnc_vinfo *y)
{
    int64_t cond[SNNC_MAX_RANK], v[2][SNNC_MAX_RANK];
    bool sym[2][SNNC_MAX_RANK];
    if (y->dtype != SNNC_I64 || y->rank > 1 || in[0].rank > 1)
        return;
    int64_t n = y->rank == 0 ? 1 : y->dims[0];
    if (n < 1 || n > SNNC_MAX_RANK)
        return;
    int len[3] = {snnc_op_known_ints(&in[0], cond, SNNC_MAX_RANK),
                  shape_elems(&in[1], v[0], sym[0]), shape_elems(&in[2], v[1], sym[1])};
    for (int k = 0; k < 3; k++)
        if (len[k] != n && len[k] != 1)
            return;
    for (int i = 0; i < n; i++) {
        int pick = cond[len[0] == 1 ? 0 : i] ? 0 : 1, j = len[pick + 1] == 1 ? 0 : i;
        if (!sym[pick][j] && v[pick][j] < 0)
            return;
        y->symval[i] = v[pick][j];
    }
    y->n_symval = (int)n;
}

static int where_infer(snnc_opctx *c, const snnc_vinfo *in, snnc_vinfo *out)
{
    if (c->opset < 9)
        return snnc_op_fail(c, SNNC_EINVALID, "Where needs opset 9 or later (model has %d)",
                            c->opset);
    int rc = snnc_ew_check_arity(c, in, 3, 3);
    if (rc)
        return rc;
    snnc_dtype dc = dtype_of(&in[0]), dx = dtype_of(&in[1]), dy = dtype_of(&in[2]);
    if (dc != SNNC_DTYPE_UNKNOWN && dc != SNNC_BOOL)
        return snnc_op_fail(c, SNNC_EINVALID, "condition must be bool, not %s",
                            snnc_dtype_name(dc));
    if (dx != SNNC_DTYPE_UNKNOWN && dy != SNNC_DTYPE_UNKNOWN && dx != dy)
        return snnc_op_fail(c, SNNC_EINVALID, "X and Y have different types %s and %s",
                            snnc_dtype_name(dx), snnc_dtype_name(dy));
    out[0].dtype = dx != SNNC_DTYPE_UNKNOWN ? dx : dy;
    if ((rc = snnc_bcast_infer(c, 3, in, &out[0])) || out[0].rank < 0)
        return rc;
    where_symval(in, &out[0]);
    return SNNC_OK;
}

typedef struct wherectx {
    const snnc_tensor *const *in;
    snnc_tensor *y;
    size_t size;
} wherectx;

static void where_row(void *vctx, int64_t len, int64_t o, const int64_t *off, const int64_t *step)
{
    wherectx *w = vctx;
    const uint8_t *cond = snnc_u8(w->in[0]) + off[0];
    const char *x = (const char *)w->in[1]->data, *y = (const char *)w->in[2]->data;
    char *dst = (char *)w->y->data + (size_t)o * w->size;
    for (int64_t i = 0; i < len; i++) {
        const char *src = cond[i * step[0]] ? x + (size_t)(off[1] + i * step[1]) * w->size
                                            : y + (size_t)(off[2] + i * step[2]) * w->size;
        memcpy(dst + (size_t)i * w->size, src, w->size);
    }
}

static int where_compute(snnc_opctx *c, const snnc_tensor *const *in, snnc_tensor *const *out)
{
    if (in[0]->dtype != SNNC_BOOL || in[1]->dtype != out[0]->dtype ||
        in[2]->dtype != out[0]->dtype)
        return snnc_op_fail(c, SNNC_EINVALID, "operand types do not match");
    wherectx w = {in, out[0], snnc_dtype_size(out[0]->dtype)};
    snnc_bcast it;
    int rc = snnc_bcast_prepare(c, &it, out[0], 3, in);
    if (rc)
        return rc;
    snnc_bcast_run(&it, where_row, &w);
    return SNNC_OK;
}

/* ---------------------------------------------------------------------- */

const snnc_op_def snnc_ops_elementwise[] = {
    {"Add", 2, 2, 1, 1, add_infer, add_compute},
    {"Sub", 2, 2, 1, 1, sub_infer, sub_compute},
    {"Mul", 2, 2, 1, 1, mul_infer, mul_compute},
    {"Div", 2, 2, 1, 1, div_infer, div_compute},
    {"Pow", 2, 2, 1, 1, pow_infer, pow_compute},
    {"Neg", 1, 1, 1, 1, neg_infer, neg_compute},
    {"Abs", 1, 1, 1, 1, abs_infer, abs_compute},
    {"Exp", 1, 1, 1, 1, exp_infer, exp_compute},
    {"Sqrt", 1, 1, 1, 1, sqrt_infer, sqrt_compute},
    {"Relu", 1, 1, 1, 1, relu_infer, relu_compute},
    {"LeakyRelu", 1, 1, 1, 1, leaky_infer, leaky_compute},
    {"Sigmoid", 1, 1, 1, 1, sigmoid_infer, sigmoid_compute},
    {"HardSigmoid", 1, 1, 1, 1, hardsigmoid_infer, hardsigmoid_compute},
    {"Tanh", 1, 1, 1, 1, tanh_infer, tanh_compute},
    {"Round", 1, 1, 1, 1, round_infer, round_compute},
    {"Floor", 1, 1, 1, 1, floor_infer, floor_compute},
    {"Clip", 1, 3, 1, 1, clip_infer, clip_compute},
    {"Where", 3, 3, 1, 1, where_infer, where_compute},
    {NULL, 0, 0, 0, 0, NULL, NULL},
};
