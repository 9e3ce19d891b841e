/* compare.c — the comparison, logic and cast operators exporters emit around
 * shape arithmetic (table snnc_ops_compare, interface ops/op.h): Equal,
 * Greater, Less, GreaterOrEqual, LessOrEqual (numpy broadcasting, bool
 * output; NaN compares false), Not, And, Or, Xor (bool), and Cast.
 * The evaluator computes in F32, I64 and BOOL only, so Cast to double gives
 * F32 and Cast to any integer type gives I64 holding the value converted
 * to the target's width (floats truncate toward zero, then wrap like C). */
#include <string.h>

#include "broadcast.h"
#include "op.h"

/* ---------------------------------------------------------------------- */
/* Binary comparisons and logic                                            */

typedef enum { CMP_EQ, CMP_GT, CMP_LT, CMP_GE, CMP_LE, LOG_AND, LOG_OR, LOG_XOR } binop;

/* The first opset at which the operator has its numpy-broadcasting form. */
static int min_opset(binop op) { return op == CMP_GE || op == CMP_LE ? 12 : 7; }

/* Operand types the spec allows (as compute types) and their description. */
static bool accepts(binop op, snnc_dtype d, int opset)
{
    switch (op) {
    case CMP_EQ: return d == SNNC_BOOL || d == SNNC_I64 || (d == SNNC_F32 && opset >= 11);
    case CMP_GT:
    case CMP_LT: return d == SNNC_F32 || (d == SNNC_I64 && opset >= 9);
    case CMP_GE:
    case CMP_LE: return d == SNNC_F32 || d == SNNC_I64;
    default: return d == SNNC_BOOL;
    }
}

static const char *accepted(binop op, int opset)
{
    switch (op) {
    case CMP_EQ: return opset >= 11 ? "bool, integer or floating point" : "bool or integer";
    case CMP_GT:
    case CMP_LT: return opset >= 9 ? "integer or floating point" : "floating point";
    case CMP_GE:
    case CMP_LE: return "integer or floating point";
    default: return "bool";
    }
}

static int binary_infer(snnc_opctx *c, const snnc_vinfo *in, snnc_vinfo *out, binop op)
{
    int rc = snnc_ew_check_arity(c, in, 2, 2);
    if (rc)
        return rc;
    if (c->opset < min_opset(op))
        return snnc_op_fail(c, SNNC_EINVALID, "needs opset %d or later (model has %d)",
                            min_opset(op), c->opset);
    snnc_dtype d[2] = {snnc_compute_dtype(in[0].dtype), snnc_compute_dtype(in[1].dtype)};
    for (int k = 0; k < 2; k++)
        if (d[k] != SNNC_DTYPE_UNKNOWN && !accepts(op, d[k], c->opset))
            return snnc_op_fail(c, SNNC_EINVALID,
                                "input %c of type %s is not supported at opset %d (expects %s)",
                                "AB"[k], snnc_dtype_name(d[k]), c->opset, accepted(op, c->opset));
    if (d[0] != SNNC_DTYPE_UNKNOWN && d[1] != SNNC_DTYPE_UNKNOWN && d[0] != d[1])
        return snnc_op_fail(c, SNNC_EINVALID, "inputs have different types %s and %s",
                            snnc_dtype_name(d[0]), snnc_dtype_name(d[1]));
    out[0].dtype = SNNC_BOOL;
    return snnc_bcast_infer(c, 2, in, &out[0]);
}

/* One element: C's comparisons give false whenever an operand is NaN, as
 * IEEE 754 and ONNX require; bools are compared by truth value. */
#define CMP_ELEMENT(name, T)                                \
    static inline uint8_t name(binop op, T a, T b)          \
    {                                                       \
        switch (op) {                                       \
        case CMP_EQ: return a == b;                         \
        case CMP_GT: return a > b;                          \
        case CMP_LT: return a < b;                          \
        case CMP_GE: return a >= b;                         \
        case CMP_LE: return a <= b;                         \
        case LOG_AND: return a && b;                        \
        case LOG_OR: return a || b;                         \
        case LOG_XOR: return !a != !b;                      \
        }                                                   \
        return 0;                                           \
    }

CMP_ELEMENT(elem_f32, float)
CMP_ELEMENT(elem_i64, int64_t)

static inline uint8_t elem_bool(binop op, uint8_t a, uint8_t b)
{
    return elem_i64(op, a != 0, b != 0);
}

typedef struct binctx {
    binop op;
    const snnc_tensor *a, *b;
    snnc_tensor *y;
} binctx;

/* One broadcast row of operands of type T. */
#define CMP_ROW(name, T, elem)                                                                  \
    static void name(void *vctx, int64_t len, int64_t o, const int64_t *off, const int64_t *step) \
    {                                                                                           \
        const binctx *x = vctx;                                                                 \
        const T *a = (const T *)x->a->data + off[0], *b = (const T *)x->b->data + off[1];       \
        uint8_t *y = snnc_u8(x->y) + o;                                                         \
        for (int64_t i = 0; i < len; i++)                                                       \
            y[i] = elem(x->op, a[i * step[0]], b[i * step[1]]);                                 \
    }

CMP_ROW(row_f32, float, elem_f32)
CMP_ROW(row_i64, int64_t, elem_i64)
CMP_ROW(row_bool, uint8_t, elem_bool)

static int binary_compute(snnc_opctx *c, const snnc_tensor *const *in, snnc_tensor *const *out,
                          binop op)
{
    snnc_dtype d = in[0]->dtype;
    if (d != in[1]->dtype || !accepts(op, d, c->opset) || out[0]->dtype != SNNC_BOOL)
        return snnc_op_fail(c, SNNC_EINVALID, "unsupported operand types %s and %s",
                            snnc_dtype_name(d), snnc_dtype_name(in[1]->dtype));
    snnc_bcast it;
    int rc = snnc_bcast_prepare(c, &it, out[0], 2, in);
    if (rc)
        return rc;
    binctx x = {op, in[0], in[1], out[0]};
    snnc_bcast_run(&it, d == SNNC_F32 ? row_f32 : d == SNNC_I64 ? row_i64 : row_bool, &x);
    return SNNC_OK;
}

SNNC_EW_HOOKS(equal, binary, CMP_EQ)
SNNC_EW_HOOKS(greater, binary, CMP_GT)
SNNC_EW_HOOKS(less, binary, CMP_LT)
SNNC_EW_HOOKS(greater_equal, binary, CMP_GE)
SNNC_EW_HOOKS(less_equal, binary, CMP_LE)
SNNC_EW_HOOKS(and, binary, LOG_AND)
SNNC_EW_HOOKS(or, binary, LOG_OR)
SNNC_EW_HOOKS(xor, binary, LOG_XOR)

/* ---------------------------------------------------------------------- */
/* Not                                                                     */

static int not_infer(snnc_opctx *c, const snnc_vinfo *in, snnc_vinfo *out)
{
    int rc = snnc_ew_check_arity(c, in, 1, 1);
    if (rc)
        return rc;
    snnc_dtype d = snnc_compute_dtype(in[0].dtype);
    if (d != SNNC_DTYPE_UNKNOWN && d != SNNC_BOOL)
        return snnc_op_fail(c, SNNC_EINVALID, "input must be bool, not %s", snnc_dtype_name(d));
    snnc_op_set_shape(&out[0], SNNC_BOOL, in[0].rank, in[0].dims);
    return SNNC_OK;
}

static int not_compute(snnc_opctx *c, const snnc_tensor *const *in, snnc_tensor *const *out)
{
    if (in[0]->dtype != SNNC_BOOL || out[0]->dtype != SNNC_BOOL || in[0]->count != out[0]->count)
        return snnc_op_fail(c, SNNC_EINVALID, "input and output must be bool of the same shape");
    for (int64_t i = 0; i < in[0]->count; i++)
        snnc_u8(out[0])[i] = !snnc_u8(in[0])[i];
    return SNNC_OK;
}

/* ---------------------------------------------------------------------- */
/* Cast: `to` is an ONNX TensorProto.DataType (an int from opset 6).       */

typedef struct cast_target {
    int code;          /* TensorProto.DataType */
    const char *name;
    snnc_dtype dtype;  /* compute type; SNNC_DTYPE_UNKNOWN: not supported */
    int bits;          /* integer targets: width the value wraps to */
    bool is_signed;
} cast_target;

static const cast_target targets[] = {
    {1, "float", SNNC_F32, 0, false},       {2, "uint8", SNNC_I64, 8, false},
    {3, "int8", SNNC_I64, 8, true},         {4, "uint16", SNNC_I64, 16, false},
    {5, "int16", SNNC_I64, 16, true},       {6, "int32", SNNC_I64, 32, true},
    {7, "int64", SNNC_I64, 64, true},       {8, "string", 0, 0, false},
    {9, "bool", SNNC_BOOL, 0, false},       {10, "float16", 0, 0, false},
    {11, "double", SNNC_F32, 0, false},     {12, "uint32", SNNC_I64, 32, false},
    {13, "uint64", SNNC_I64, 64, false},    {14, "complex64", 0, 0, false},
    {15, "complex128", 0, 0, false},        {16, "bfloat16", 0, 0, false},
    {17, "float8e4m3fn", 0, 0, false},      {18, "float8e4m3fnuz", 0, 0, false},
    {19, "float8e5m2", 0, 0, false},        {20, "float8e5m2fnuz", 0, 0, false},
    {21, "uint4", 0, 0, false},             {22, "int4", 0, 0, false},
    {23, "float4e2m1", 0, 0, false},
};

/* Read and check `to`. */
static int cast_to(snnc_opctx *c, const cast_target **t)
{
    if (c->opset < 6)
        return snnc_op_fail(c, SNNC_EUNSUPPORTED,
                            "Cast before opset 6 (string 'to') is not supported (model has %d)",
                            c->opset);
    const snnc_attr *a = snnc_node_attr(c->node, "to");
    if (!a)
        return snnc_op_fail(c, SNNC_EINVALID, "attribute 'to' is required");
    if (a->kind != SNNC_ATTR_INT)
        return snnc_op_fail(c, SNNC_EINVALID, "attribute 'to' must be an int (a data type)");
    for (size_t k = 0; k < sizeof targets / sizeof targets[0]; k++) {
        if (targets[k].code != a->i)
            continue;
        *t = &targets[k];
        if (!targets[k].dtype)
            return snnc_op_fail(c, SNNC_EUNSUPPORTED,
                                "cast to %s is not supported (the evaluator computes in float32, "
                                "int64 and bool)",
                                targets[k].name);
        return SNNC_OK;
    }
    return snnc_op_fail(c, SNNC_EINVALID, "attribute 'to' is %lld, not an ONNX data type",
                        (long long)a->i);
}

static int cast_infer(snnc_opctx *c, const snnc_vinfo *in, snnc_vinfo *out)
{
    const cast_target *t;
    int rc = snnc_ew_check_arity(c, in, 1, 1);
    if (rc || (rc = cast_to(c, &t)))
        return rc;
    snnc_dtype d = snnc_compute_dtype(in[0].dtype);
    if (d != SNNC_DTYPE_UNKNOWN && d != SNNC_F32 && d != SNNC_I64 && d != SNNC_BOOL)
        return snnc_op_fail(c, SNNC_EUNSUPPORTED, "input of type %s is not supported",
                            snnc_dtype_name(d));
    snnc_op_set_shape(&out[0], t->dtype, in[0].rank, in[0].dims);
    /* A shape value cast to a 64-bit integer type keeps its elements. */
    if (d == SNNC_I64 && t->dtype == SNNC_I64 && t->bits == 64 && in[0].n_symval >= 0) {
        out[0].n_symval = in[0].n_symval;
        memcpy(out[0].symval, in[0].symval, sizeof in[0].symval);
    }
    return SNNC_OK;
}

/* v reduced modulo 2^bits into the target's range (two's complement). */
static int64_t wrap(const cast_target *t, int64_t v)
{
    if (t->bits >= 64)
        return v;
    uint64_t u = (uint64_t)v & (((uint64_t)1 << t->bits) - 1);
    if (t->is_signed && u >> (t->bits - 1))
        return (int64_t)u - ((int64_t)1 << t->bits);
    return (int64_t)u;
}

static int cast_compute(snnc_opctx *c, const snnc_tensor *const *in, snnc_tensor *const *out)
{
    const cast_target *t;
    int rc = cast_to(c, &t);
    if (rc)
        return rc;
    const snnc_tensor *x = in[0];
    snnc_tensor *y = out[0];
    if (y->dtype != t->dtype || x->count != y->count ||
        (x->dtype != SNNC_F32 && x->dtype != SNNC_I64 && x->dtype != SNNC_BOOL))
        return snnc_op_fail(c, SNNC_EINVALID, "cannot cast %s to %s", snnc_dtype_name(x->dtype),
                            t->name);
    bool fx = x->dtype == SNNC_F32;
    for (int64_t i = 0; i < x->count; i++) {
        switch (y->dtype) {
        case SNNC_F32:
            snnc_f32(y)[i] = fx ? snnc_f32(x)[i] : (float)snnc_tensor_get_i(x, i);
            break;
        case SNNC_I64:
            snnc_i64(y)[i] =
                wrap(t, fx ? snnc_ew_f2i(snnc_f32(x)[i]) : snnc_tensor_get_i(x, i));
            break;
        default: /* bool: any non-zero value, NaN included, is true */
            snnc_u8(y)[i] = fx ? snnc_f32(x)[i] != 0 : snnc_tensor_get_i(x, i) != 0;
            break;
        }
    }
    return SNNC_OK;
}

/* ---------------------------------------------------------------------- */

const snnc_op_def snnc_ops_compare[] = {
    {"Equal", 2, 2, 1, 1, equal_infer, equal_compute},
    {"Greater", 2, 2, 1, 1, greater_infer, greater_compute},
    {"Less", 2, 2, 1, 1, less_infer, less_compute},
    {"GreaterOrEqual", 2, 2, 1, 1, greater_equal_infer, greater_equal_compute},
    {"LessOrEqual", 2, 2, 1, 1, less_equal_infer, less_equal_compute},
    {"Not", 1, 1, 1, 1, not_infer, not_compute},
    {"And", 2, 2, 1, 1, and_infer, and_compute},
    {"Or", 2, 2, 1, 1, or_infer, or_compute},
    {"Xor", 2, 2, 1, 1, xor_infer, xor_compute},
    {"Cast", 1, 1, 1, 1, cast_infer, cast_compute},
    {NULL, 0, 0, 0, 0, NULL, NULL},
};
