/* test_compare.c — unit tests of the comparison, logic and Cast operators
 * (ops/compare.c) and of the shape values (symval) Where and Cast carry:
 * broadcasting, NaN comparisons, exact int64 comparison, Cast truncation
 * and wrapping to the target's width, opset/type rules and clean failures.
 * Expected values are derived by hand (the derivation is in the comments). */
#include <float.h>
#include <stdint.h>
#include <string.h>

#include "op_harness.h"

/* ---- building tensors (the node and its hooks: op_harness.h) ---- */

static snnc_tensor *tensor(snnc_dtype d, int rank, const int64_t *dims, const void *v)
{
    snnc_tensor *t = op_tensor(d, rank, dims, v);
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    return t;
}
#define TF(rank, dims, ...) tensor(SNNC_F32, rank, dims, (float[]){__VA_ARGS__})
#define TI(rank, dims, ...) tensor(SNNC_I64, rank, dims, (int64_t[]){__VA_ARGS__})
#define TB(rank, dims, ...) tensor(SNNC_BOOL, rank, dims, (uint8_t[]){__VA_ARGS__})
#define D(...) ((int64_t[]){__VA_ARGS__})

static void check_shape(const snnc_tensor *t, snnc_dtype dtype, int rank, const int64_t *dims)
{
    op_check_shape(t, rank, dims);
    CU_ASSERT_EQUAL(t->dtype, dtype);
}

static void check_bool(const snnc_tensor *t, int n, const uint8_t *want)
{
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    CU_ASSERT_EQUAL_FATAL(t->dtype, SNNC_BOOL);
    CU_ASSERT_EQUAL_FATAL(t->count, n);
    for (int i = 0; i < n; i++)
        CU_ASSERT_EQUAL(snnc_u8(t)[i], want[i]);
}
#define CHECK_BOOL(t, ...)                                                    \
    check_bool(t, (int)(sizeof((uint8_t[]){__VA_ARGS__}) / sizeof(uint8_t)), \
               (uint8_t[]){__VA_ARGS__})

/* Run a binary operator on a and b (freed here); returns the output. */
static snnc_tensor *binary(const char *op, int opset, snnc_tensor *a, snnc_tensor *b)
{
    snnc_tensor *x[2] = {a, b}, *y = NULL;
    snnc_err err = {0};
    int rc = op_eval(op, opset, 0, NULL, 2, (const snnc_tensor *const *)x, &y, &err);
    CU_ASSERT_EQUAL(rc, SNNC_OK);
    if (rc)
        printf("\n  %s failed: %s\n", op, err.msg);
    free_all(x, 2);
    return y;
}

/* The status a binary operator gives on a and b (freed here); the message
 * must name the node and operator. */
static int binary_fails(const char *op, int opset, snnc_tensor *a, snnc_tensor *b)
{
    snnc_tensor *x[2] = {a, b}, *y = NULL;
    snnc_err err = {0};
    int rc = op_eval(op, opset, 0, NULL, 2, (const snnc_tensor *const *)x, &y, &err);
    CU_ASSERT_PTR_NULL(y);
    snnc_tensor_free(y);
    char want[64];
    snprintf(want, sizeof want, "node 'n0' (%s)", op);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, want));
    free_all(x, 2);
    return rc;
}

/* ---- comparisons ---- */

static void test_equal_float_broadcast_nan(void)
{
    /* [2,3] == [3]: row 0 {1==1, 2==5, NaN==NaN}, row 1 {4==1, 5==5, 6==NaN} */
    snnc_tensor *y =
        binary("Equal", 13, TF(2, D(2, 3), 1, 2, NAN, 4, 5, 6), TF(1, D(3), 1, 5, NAN));
    check_shape(y, SNNC_BOOL, 2, D(2, 3));
    CHECK_BOOL(y, 1, 0, 0, 0, 1, 0);
    snnc_tensor_free(y);
}

static void test_order_float_nan_inf(void)
{
    /* {1, 2, NaN, -inf} against the scalar 2; NaN compares false every way */
    const char *ops[4] = {"Greater", "Less", "GreaterOrEqual", "LessOrEqual"};
    const uint8_t want[4][4] = {{0, 0, 0, 0}, {1, 0, 0, 1}, {0, 1, 0, 0}, {1, 1, 0, 1}};
    for (int k = 0; k < 4; k++) {
        snnc_tensor *y = binary(ops[k], 16, TF(1, D(4), 1, 2, NAN, -INFINITY), TF(0, NULL, 2));
        check_shape(y, SNNC_BOOL, 1, D(4));
        check_bool(y, 4, want[k]);
        snnc_tensor_free(y);
    }
}

static void test_less_int64_outer(void)
{
    /* [3,1] < [1,2]: a = {1,2,3}, b = {2,3} -> [[1<2,1<3],[2<2,2<3],[3<2,3<3]] */
    snnc_tensor *y = binary("Less", 13, TI(2, D(3, 1), 1, 2, 3), TI(2, D(1, 2), 2, 3));
    check_shape(y, SNNC_BOOL, 2, D(3, 2));
    CHECK_BOOL(y, 1, 1, 0, 1, 0, 0);
    snnc_tensor_free(y);
}

static void test_int64_exact(void)
{
    /* 2^53 + 1 and 2^53 are equal as doubles but not as int64 */
    int64_t p = (int64_t)1 << 53;
    snnc_tensor *y = binary("Equal", 11, TI(1, D(2), p + 1, p), TI(1, D(2), p, p));
    CHECK_BOOL(y, 0, 1);
    snnc_tensor_free(y);
    y = binary("Greater", 9, TI(1, D(2), p + 1, INT64_MIN), TI(1, D(2), p, INT64_MAX));
    CHECK_BOOL(y, 1, 0);
    snnc_tensor_free(y);
}

static void test_equal_rank4_broadcast(void)
{
    /* [2,1,3,1] == [1,2,1,2] -> [2,2,3,2]; y[i,j,k,l] = a[i,k] == b[j,l].
     * a = i*3+k in {0..5}; b = {0, 4, 5, 2}: true where the values meet. */
    int64_t av[6] = {0, 1, 2, 3, 4, 5}, bv[4] = {0, 4, 5, 2};
    snnc_tensor *y = binary("Equal", 7, tensor(SNNC_I64, 4, D(2, 1, 3, 1), av),
                            tensor(SNNC_I64, 4, D(1, 2, 1, 2), bv));
    check_shape(y, SNNC_BOOL, 4, D(2, 2, 3, 2));
    int64_t n = 0, ones = 0;
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 2; j++)
            for (int k = 0; k < 3; k++)
                for (int l = 0; l < 2; l++, n++) {
                    CU_ASSERT_EQUAL(snnc_u8(y)[n], av[i * 3 + k] == bv[j * 2 + l]);
                    ones += snnc_u8(y)[n];
                }
    CU_ASSERT_EQUAL(ones, 4); /* 0, 4, 5 and 2 each occur once in a */
    snnc_tensor_free(y);
}

static void test_infer_symbolic(void)
{
    /* [N,3] > [3] at load time: bool [N,3] */
    op_run r;
    op_setup(&r, "Greater", 13, 2, 0, NULL);
    int64_t n = SNNC_SYM(snnc_graph_symbol(r.g, "N"));
    r.in[0] = (snnc_vinfo){.present = true, .dtype = SNNC_F32, .rank = 2, .dims = {n, 3},
                           .n_symval = -1};
    r.in[1] = (snnc_vinfo){.present = true, .dtype = SNNC_F32, .rank = 1, .dims = {3},
                           .n_symval = -1};
    CU_ASSERT_EQUAL(op_infer(&r), SNNC_OK);
    CU_ASSERT_EQUAL(r.out[0].dtype, SNNC_BOOL);
    CU_ASSERT_EQUAL(r.out[0].rank, 2);
    CU_ASSERT_EQUAL(r.out[0].dims[0], n);
    CU_ASSERT_EQUAL(r.out[0].dims[1], 3);
    /* unknown rank: type still known, shape left unknown */
    r.in[1].rank = -1;
    CU_ASSERT_EQUAL(op_infer(&r), SNNC_OK);
    CU_ASSERT_EQUAL(r.out[0].dtype, SNNC_BOOL);
    CU_ASSERT_EQUAL(r.out[0].rank, -1);
    op_teardown(&r);
}

/* ---- logic ---- */

static void test_logic_truth_tables(void)
{
    /* a = {T,T,F,F}, b = {T,F,T,F} */
    const char *ops[4] = {"And", "Or", "Xor", "Equal"};
    const uint8_t want[4][4] = {{1, 0, 0, 0}, {1, 1, 1, 0}, {0, 1, 1, 0}, {1, 0, 0, 1}};
    for (int k = 0; k < 4; k++) {
        snnc_tensor *y = binary(ops[k], 7, TB(1, D(4), 1, 1, 0, 0), TB(1, D(4), 1, 0, 1, 0));
        check_bool(y, 4, want[k]);
        snnc_tensor_free(y);
    }
}

static void test_logic_broadcast(void)
{
    /* [2,1] Or [3]: row 0 is all true (a = T), row 1 copies b = {F,T,F} */
    snnc_tensor *y = binary("Or", 7, TB(2, D(2, 1), 1, 0), TB(1, D(3), 0, 1, 0));
    check_shape(y, SNNC_BOOL, 2, D(2, 3));
    CHECK_BOOL(y, 1, 1, 1, 0, 1, 0);
    snnc_tensor_free(y);
    /* rank-0 Xor [2,2]: T xor b flips b */
    y = binary("Xor", 7, TB(0, NULL, 1), TB(2, D(2, 2), 1, 0, 0, 1));
    check_shape(y, SNNC_BOOL, 2, D(2, 2));
    CHECK_BOOL(y, 0, 1, 1, 0);
    snnc_tensor_free(y);
}

static void test_not(void)
{
    snnc_tensor *x[1] = {TB(2, D(1, 3), 1, 0, 1)}, *y;
    CU_ASSERT_EQUAL(op_eval("Not", 9, 0, NULL, 1, (const snnc_tensor *const *)x, &y, NULL),
                    SNNC_OK);
    check_shape(y, SNNC_BOOL, 2, D(1, 3));
    CHECK_BOOL(y, 0, 1, 0);
    snnc_tensor_free(y);
    snnc_tensor_free(x[0]);
    x[0] = TF(1, D(1), 1);
    CU_ASSERT_EQUAL(op_eval("Not", 9, 0, NULL, 1, (const snnc_tensor *const *)x, &y, NULL),
                    SNNC_EINVALID);
    snnc_tensor_free(x[0]);
}

/* ---- type, opset and shape failures ---- */

static void test_compare_failures(void)
{
    /* Equal takes floats only from opset 11; Greater/Less ints from 9 */
    CU_ASSERT_EQUAL(binary_fails("Equal", 10, TF(1, D(1), 1), TF(1, D(1), 1)), SNNC_EINVALID);
    CU_ASSERT_EQUAL(binary_fails("Greater", 8, TI(1, D(1), 1), TI(1, D(1), 1)), SNNC_EINVALID);
    CU_ASSERT_EQUAL(binary_fails("Less", 8, TB(1, D(1), 1), TB(1, D(1), 1)), SNNC_EINVALID);
    /* GreaterOrEqual / LessOrEqual exist from opset 12 */
    CU_ASSERT_EQUAL(binary_fails("GreaterOrEqual", 11, TF(1, D(1), 1), TF(1, D(1), 1)),
                    SNNC_EINVALID);
    CU_ASSERT_EQUAL(binary_fails("LessOrEqual", 12, TB(1, D(1), 1), TB(1, D(1), 1)),
                    SNNC_EINVALID);
    /* mixed types; logic on non-bool; shapes that do not broadcast */
    CU_ASSERT_EQUAL(binary_fails("Equal", 13, TF(1, D(1), 1), TI(1, D(1), 1)), SNNC_EINVALID);
    CU_ASSERT_EQUAL(binary_fails("And", 7, TF(1, D(1), 1), TF(1, D(1), 1)), SNNC_EINVALID);
    CU_ASSERT_EQUAL(binary_fails("Xor", 7, TI(1, D(1), 1), TI(1, D(1), 1)), SNNC_EINVALID);
    CU_ASSERT_EQUAL(binary_fails("Less", 13, TF(2, D(2, 3), 1, 2, 3, 4, 5, 6),
                                 TF(1, D(2), 1, 2)),
                    SNNC_EINVALID);
    /* a missing input */
    op_run r;
    op_setup(&r, "Equal", 13, 2, 0, NULL);
    r.in[0] = (snnc_vinfo){.present = true, .dtype = SNNC_F32, .rank = 0, .n_symval = -1};
    CU_ASSERT_EQUAL(op_infer(&r), SNNC_EINVALID);
    op_teardown(&r);
}

/* ---- Cast ---- */

static snnc_tensor *cast(int64_t to, snnc_tensor *x)
{
    snnc_attr a = a_int("to", to);
    snnc_tensor *in[1] = {x}, *y = NULL;
    snnc_err err = {0};
    int rc = op_eval("Cast", 13, 1, &a, 1, (const snnc_tensor *const *)in, &y, &err);
    CU_ASSERT_EQUAL(rc, SNNC_OK);
    if (rc)
        printf("\n  Cast failed: %s\n", err.msg);
    snnc_tensor_free(x);
    return y;
}

enum { T_FLOAT = 1, T_UINT8, T_INT8, T_UINT16, T_INT16, T_INT32, T_INT64, T_STRING, T_BOOL,
       T_FLOAT16, T_DOUBLE, T_UINT32, T_UINT64, T_COMPLEX64, T_COMPLEX128, T_BFLOAT16 };

static void test_cast_float_to_int_truncates(void)
{
    /* toward zero: 2.7 -> 2, -2.7 -> -2, +-0.5 -> 0, -0.99 -> 0 */
    snnc_tensor *y = cast(T_INT64, TF(2, D(2, 3), 2.7f, -2.7f, 0.5f, -0.5f, -0.99f, 1e6f));
    check_shape(y, SNNC_I64, 2, D(2, 3));
    check_i64(y, 6, (int64_t[]){2, -2, 0, 0, 0, 1000000});
    snnc_tensor_free(y);
    /* int32 is computed as int64 with the same values */
    y = cast(T_INT32, TF(1, D(3), -7.9f, 7.9f, 16777216.0f));
    check_i64(y, 3, (int64_t[]){-7, 7, 16777216});
    snnc_tensor_free(y);
}

static void test_cast_wraps_to_width(void)
{
    /* int8: 127.9 -> 127; 128 -> 128-256 = -128; -129 -> -129+256 = 127;
     * 300.7 -> 300 -> 300-256 = 44 */
    snnc_tensor *y = cast(T_INT8, TF(1, D(4), 127.9f, 128.0f, -129.0f, 300.7f));
    check_i64(y, 4, (int64_t[]){127, -128, 127, 44});
    snnc_tensor_free(y);
    /* uint8: -1.5 -> -1 -> 255; 255.9 -> 255; 256 -> 0 */
    y = cast(T_UINT8, TF(1, D(3), -1.5f, 255.9f, 256.0f));
    check_i64(y, 3, (int64_t[]){255, 255, 0});
    snnc_tensor_free(y);
    /* int32 from int64: 2^31 -> -2^31; 2^32 + 1 -> 1; -1 stays */
    y = cast(T_INT32, TI(1, D(3), (int64_t)1 << 31, ((int64_t)1 << 32) + 1, -1));
    check_i64(y, 3, (int64_t[]){INT32_MIN, 1, -1});
    snnc_tensor_free(y);
    /* uint16: -1 -> 65535; int16: 40000 -> 40000-65536 = -25536; uint32: -1 -> 2^32-1 */
    y = cast(T_UINT16, TI(1, D(1), -1));
    check_i64(y, 1, (int64_t[]){65535});
    snnc_tensor_free(y);
    y = cast(T_INT16, TI(1, D(1), 40000));
    check_i64(y, 1, (int64_t[]){-25536});
    snnc_tensor_free(y);
    y = cast(T_UINT32, TI(1, D(1), -1));
    check_i64(y, 1, (int64_t[]){4294967295LL});
    snnc_tensor_free(y);
}

static void test_cast_to_float_and_bool(void)
{
    /* int64 -> float rounds to nearest: 2^24 + 1 -> 2^24 (ties to even) */
    snnc_tensor *y = cast(T_FLOAT, TI(1, D(3), 3, -((1 << 24) + 1), 0));
    check_shape(y, SNNC_F32, 1, D(3));
    CU_ASSERT_EQUAL(snnc_f32(y)[0], 3.0f);
    CU_ASSERT_EQUAL(snnc_f32(y)[1], -16777216.0f);
    CU_ASSERT_EQUAL(snnc_f32(y)[2], 0.0f);
    snnc_tensor_free(y);
    /* double is computed as float32: values pass unchanged, NaN stays NaN */
    y = cast(T_DOUBLE, TF(1, D(2), 0.1f, NAN));
    check_shape(y, SNNC_F32, 1, D(2));
    CU_ASSERT_EQUAL(snnc_f32(y)[0], 0.1f);
    CU_ASSERT(isnan(snnc_f32(y)[1]));
    snnc_tensor_free(y);
    /* bool -> float and int64: 1 and 0 */
    y = cast(T_FLOAT, TB(1, D(2), 1, 0));
    CU_ASSERT_EQUAL(snnc_f32(y)[0], 1.0f);
    CU_ASSERT_EQUAL(snnc_f32(y)[1], 0.0f);
    snnc_tensor_free(y);
    y = cast(T_INT64, TB(1, D(2), 0, 1));
    check_i64(y, 2, (int64_t[]){0, 1});
    snnc_tensor_free(y);
    /* to bool is x != 0: -0.0 is zero, NaN and -inf are not */
    y = cast(T_BOOL, TF(1, D(5), 0.0f, -0.0f, 0.1f, NAN, -INFINITY));
    CHECK_BOOL(y, 0, 0, 1, 1, 1);
    snnc_tensor_free(y);
    y = cast(T_BOOL, TI(1, D(3), 0, 5, -3));
    CHECK_BOOL(y, 0, 1, 1);
    snnc_tensor_free(y);
}

/* The status Cast gives with attribute `a`; the message must contain `what`. */
static int cast_fails(const snnc_attr *a, const char *what)
{
    snnc_tensor *x[1] = {TF(1, D(1), 1)}, *y = NULL;
    snnc_err err = {0};
    int rc = op_eval("Cast", 13, a ? 1 : 0, a, 1, (const snnc_tensor *const *)x, &y, &err);
    CU_ASSERT_PTR_NULL(y);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, what));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "node 'n0' (Cast)"));
    snnc_tensor_free(x[0]);
    return rc;
}

static void test_cast_failures(void)
{
    struct { int64_t to; const char *name; } refused[] = {
        {T_STRING, "string"}, {T_FLOAT16, "float16"}, {T_COMPLEX64, "complex64"},
        {T_COMPLEX128, "complex128"}, {T_BFLOAT16, "bfloat16"}, {19, "float8e5m2"},
    };
    for (size_t k = 0; k < sizeof refused / sizeof refused[0]; k++) {
        snnc_attr a = a_int("to", refused[k].to);
        CU_ASSERT_EQUAL(cast_fails(&a, refused[k].name), SNNC_EUNSUPPORTED);
    }
    snnc_attr a = a_int("to", 99);
    CU_ASSERT_EQUAL(cast_fails(&a, "99"), SNNC_EINVALID);
    a = a_int("to", 0);
    CU_ASSERT_EQUAL(cast_fails(&a, "not an ONNX data type"), SNNC_EINVALID);
    CU_ASSERT_EQUAL(cast_fails(NULL, "'to' is required"), SNNC_EINVALID);
    a = (snnc_attr){.name = "to", .kind = SNNC_ATTR_STRING, .s = "FLOAT"};
    CU_ASSERT_EQUAL(cast_fails(&a, "must be an int"), SNNC_EINVALID);
}

/* ---- shape values (symval) ---- */

static void test_cast_keeps_shape_value(void)
{
    /* Cast(Shape(x) = [N, 4, 5], to=int64) still tracks [N, 4, 5] */
    op_run r;
    snnc_attr a = a_int("to", T_INT64);
    op_setup(&r, "Cast", 13, 1, 1, &a);
    int64_t n = SNNC_SYM(snnc_graph_symbol(r.g, "N"));
    r.in[0] = (snnc_vinfo){.present = true, .dtype = SNNC_I64, .rank = 1, .dims = {3},
                           .n_symval = 3, .symval = {n, 4, 5}};
    CU_ASSERT_EQUAL(op_infer(&r), SNNC_OK);
    CU_ASSERT_EQUAL(r.out[0].dtype, SNNC_I64);
    CU_ASSERT_EQUAL_FATAL(r.out[0].n_symval, 3);
    CU_ASSERT_EQUAL(r.out[0].symval[0], n);
    CU_ASSERT_EQUAL(r.out[0].symval[1], 4);
    CU_ASSERT_EQUAL(r.out[0].symval[2], 5);
    /* to float or to a narrower integer: no longer a tracked shape value */
    r.attrs[0] = a_int("to", T_FLOAT);
    CU_ASSERT_EQUAL(op_infer(&r), SNNC_OK);
    CU_ASSERT_EQUAL(r.out[0].dtype, SNNC_F32);
    CU_ASSERT_EQUAL(r.out[0].n_symval, -1);
    r.attrs[0] = a_int("to", T_INT8);
    CU_ASSERT_EQUAL(op_infer(&r), SNNC_OK);
    CU_ASSERT_EQUAL(r.out[0].n_symval, -1);
    op_teardown(&r);
}

static void test_where_keeps_shape_value(void)
{
    /* PyTorch's expand(-1 -> keep): Where(shape == -1, ones, shape) with the
     * condition known {F,T,F,F}, X = {1,1,1,1}, Y tracked [N,-1?..]: here
     * Y = [N, 7, 7, 3] and the result picks X only at index 1: [N, 1, 7, 3]. */
    op_run r;
    op_setup(&r, "Where", 13, 3, 0, NULL);
    int64_t n = SNNC_SYM(snnc_graph_symbol(r.g, "N"));
    snnc_tensor *cond = TB(1, D(4), 0, 1, 0, 0), *ones = TI(1, D(4), 1, 1, 1, 1);
    op_set_input(&r, 0, cond, true);
    op_set_input(&r, 1, ones, true);
    r.in[2] = (snnc_vinfo){.present = true, .dtype = SNNC_I64, .rank = 1, .dims = {4},
                           .n_symval = 4, .symval = {n, 7, 7, 3}};
    CU_ASSERT_EQUAL(op_infer(&r), SNNC_OK);
    CU_ASSERT_EQUAL(r.out[0].dtype, SNNC_I64);
    CU_ASSERT_EQUAL_FATAL(r.out[0].n_symval, 4);
    CU_ASSERT_EQUAL(r.out[0].symval[0], n);
    CU_ASSERT_EQUAL(r.out[0].symval[1], 1);
    CU_ASSERT_EQUAL(r.out[0].symval[2], 7);
    CU_ASSERT_EQUAL(r.out[0].symval[3], 3);
    /* choosing a negative constant (-1) ends tracking: it would read as a symbol */
    snnc_tensor *neg = TI(1, D(4), -1, -1, -1, -1);
    op_set_input(&r, 1, neg, true);
    CU_ASSERT_EQUAL(op_infer(&r), SNNC_OK);
    CU_ASSERT_EQUAL(r.out[0].n_symval, -1);
    /* an unknown condition: nothing tracked */
    op_set_input(&r, 1, ones, true);
    op_set_input(&r, 0, cond, false);
    CU_ASSERT_EQUAL(op_infer(&r), SNNC_OK);
    CU_ASSERT_EQUAL(r.out[0].n_symval, -1);
    snnc_tensor_free(cond);
    snnc_tensor_free(ones);
    snnc_tensor_free(neg);
    op_teardown(&r);
}

static void test_registered(void)
{
    const char *ops[] = {"Equal", "Greater", "Less", "GreaterOrEqual", "LessOrEqual",
                         "Not",   "And",     "Or",   "Xor",            "Cast"};
    for (size_t k = 0; k < sizeof ops / sizeof ops[0]; k++) {
        int op = snnc_op_lookup(ops[k]);
        CU_ASSERT(op >= 0);
        CU_ASSERT_STRING_EQUAL(snnc_op_get(op)->name, ops[k]);
    }
}

static CU_TestInfo tests[] = {
    {"equal float broadcast, NaN", test_equal_float_broadcast_nan},
    {"order comparisons with NaN and inf", test_order_float_nan_inf},
    {"less int64 outer broadcast", test_less_int64_outer},
    {"int64 compared exactly", test_int64_exact},
    {"equal rank-4 broadcast", test_equal_rank4_broadcast},
    {"symbolic shapes", test_infer_symbolic},
    {"logic truth tables", test_logic_truth_tables},
    {"logic broadcast", test_logic_broadcast},
    {"not", test_not},
    {"comparison failures", test_compare_failures},
    {"cast float to int truncates", test_cast_float_to_int_truncates},
    {"cast wraps to the target width", test_cast_wraps_to_width},
    {"cast to float and bool", test_cast_to_float_and_bool},
    {"cast failures", test_cast_failures},
    {"cast keeps shape values", test_cast_keeps_shape_value},
    {"where keeps shape values", test_where_keeps_shape_value},
    {"registered", test_registered},
    CU_TEST_INFO_NULL,
};

SNNC_TEST_MAIN("compare")
