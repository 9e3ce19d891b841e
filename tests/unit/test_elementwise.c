/* test_elementwise.c — unit tests of the element-wise, softmax and reduce
 * operator families (ops/elementwise.c, ops/softmax.c, ops/reduce.c):
 * broadcasting, Clip and Softmax opset variants, reduce keepdims/noop,
 * shape-value (symval) arithmetic, and clean failures on bad nodes.
 * Expected values are derived by hand (or with numpy where stated). */
#include <float.h>
#include <string.h>

#include "op_harness.h"

/* ---- building tensors (the node and its hooks: op_harness.h) ---- */

static snnc_tensor *tf(int rank, const int64_t *dims, const float *v)
{
    return op_tensor(SNNC_F32, rank, dims, v);
}

static snnc_tensor *ti(int rank, const int64_t *dims, const int64_t *v)
{
    return op_tensor(SNNC_I64, rank, dims, v);
}

static snnc_tensor *tb(int rank, const int64_t *dims, const uint8_t *v)
{
    return op_tensor(SNNC_BOOL, rank, dims, v);
}

static void check_f32(const snnc_tensor *t, int n, const float *want, double tol)
{
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    CU_ASSERT_EQUAL_FATAL(t->dtype, SNNC_F32);
    CU_ASSERT_EQUAL_FATAL(t->count, n);
    for (int i = 0; i < n; i++)
        SNNC_ASSERT_CLOSE(snnc_f32(t)[i], want[i], tol, tol);
}

/* ---- broadcasting ---- */

static void test_add_broadcast_3d(void)
{
    /* [2,3,1] + [4]: y[i,j,k] = a[i,j] + b[k] */
    float av[6] = {0, 10, 20, 30, 40, 50}, bv[4] = {1, 2, 3, 4};
    snnc_tensor *x[2] = {tf(3, (int64_t[]){2, 3, 1}, av), tf(1, (int64_t[]){4}, bv)}, *y;
    CU_ASSERT_EQUAL(op_eval("Add", 14, 0, NULL, 2, (const snnc_tensor *const *)x, &y, NULL),
                    SNNC_OK);
    op_check_shape(y, 3, (int64_t[]){2, 3, 4});
    for (int i = 0; i < 6; i++)
        for (int k = 0; k < 4; k++)
            CU_ASSERT_EQUAL(snnc_f32(y)[i * 4 + k], av[i] + bv[k]);
    snnc_tensor_free(y);
    free_all(x, 2);
}

static void test_mul_outer_and_scalar(void)
{
    /* [3,1] * [1,4] is an outer product; Sub of a rank-0 scalar. */
    snnc_tensor *x[2] = {tf(2, (int64_t[]){3, 1}, (float[]){1, 2, 3}),
                         tf(2, (int64_t[]){1, 4}, (float[]){1, 10, 100, 1000})},
                *y;
    CU_ASSERT_EQUAL(op_eval("Mul", 13, 0, NULL, 2, (const snnc_tensor *const *)x, &y, NULL),
                    SNNC_OK);
    op_check_shape(y, 2, (int64_t[]){3, 4});
    check_f32(y, 12, (float[]){1, 10, 100, 1000, 2, 20, 200, 2000, 3, 30, 300, 3000}, 0);
    snnc_tensor_free(y);
    free_all(x, 2);

    snnc_tensor *s[2] = {tf(0, NULL, (float[]){10}),
                         tf(2, (int64_t[]){2, 2}, (float[]){1, 2, 3, 4})};
    CU_ASSERT_EQUAL(op_eval("Sub", 7, 0, NULL, 2, (const snnc_tensor *const *)s, &y, NULL),
                    SNNC_OK);
    op_check_shape(y, 2, (int64_t[]){2, 2});
    check_f32(y, 4, (float[]){9, 8, 7, 6}, 0);
    snnc_tensor_free(y);
    free_all(s, 2);
}

static void test_broadcast_middle_axis(void)
{
    /* [2,1,3] - [1,2,1]: the iterator must not merge the broadcast axis. */
    snnc_tensor *x[2] = {tf(3, (int64_t[]){2, 1, 3}, (float[]){1, 2, 3, 4, 5, 6}),
                         tf(3, (int64_t[]){1, 2, 1}, (float[]){0, 100})},
                *y;
    CU_ASSERT_EQUAL(op_eval("Sub", 14, 0, NULL, 2, (const snnc_tensor *const *)x, &y, NULL),
                    SNNC_OK);
    op_check_shape(y, 3, (int64_t[]){2, 2, 3});
    check_f32(y, 12, (float[]){1, 2, 3, -99, -98, -97, 4, 5, 6, -96, -95, -94}, 0);
    snnc_tensor_free(y);
    free_all(x, 2);
}

static void test_where_three_way(void)
{
    /* cond [2,1], X [1,3], Y scalar -> [2,3] */
    snnc_tensor *x[3] = {tb(2, (int64_t[]){2, 1}, (uint8_t[]){1, 0}),
                         tf(2, (int64_t[]){1, 3}, (float[]){1, 2, 3}), tf(0, NULL, (float[]){-1})},
                *y;
    CU_ASSERT_EQUAL(op_eval("Where", 16, 0, NULL, 3, (const snnc_tensor *const *)x, &y, NULL),
                    SNNC_OK);
    op_check_shape(y, 2, (int64_t[]){2, 3});
    check_f32(y, 6, (float[]){1, 2, 3, -1, -1, -1}, 0);
    snnc_tensor_free(y);
    free_all(x, 3);

    /* int64 values, condition broadcast along the last axis */
    snnc_tensor *z[3] = {tb(1, (int64_t[]){2}, (uint8_t[]){0, 1}),
                         ti(2, (int64_t[]){2, 2}, (int64_t[]){1, 2, 3, 4}),
                         ti(2, (int64_t[]){2, 1}, (int64_t[]){7, 8})};
    CU_ASSERT_EQUAL(op_eval("Where", 9, 0, NULL, 3, (const snnc_tensor *const *)z, &y, NULL),
                    SNNC_OK);
    check_i64(y, 4, (int64_t[]){7, 2, 8, 4});
    snnc_tensor_free(y);
    free_all(z, 3);
}

static void test_symbolic_broadcast_infer(void)
{
    /* [N,1,4] + [3,1]: the symbol survives, the 1s take the other side. */
    op_run r;
    op_setup(&r, "Add", 14, 2, 0, NULL);
    int64_t n = SNNC_SYM(snnc_graph_symbol(r.g, "N"));
    r.in[0] = (snnc_vinfo){.present = true, .dtype = SNNC_F32, .rank = 3, .dims = {n, 1, 4},
                           .n_symval = -1};
    r.in[1] = (snnc_vinfo){.present = true, .dtype = SNNC_F32, .rank = 2, .dims = {3, 1},
                           .n_symval = -1};
    CU_ASSERT_EQUAL(op_infer(&r), SNNC_OK);
    CU_ASSERT_EQUAL(r.out[0].dtype, SNNC_F32);
    CU_ASSERT_EQUAL(r.out[0].rank, 3);
    CU_ASSERT_EQUAL(r.out[0].dims[0], n);
    CU_ASSERT_EQUAL(r.out[0].dims[1], 3);
    CU_ASSERT_EQUAL(r.out[0].dims[2], 4);
    op_teardown(&r);
}

/* ---- integer arithmetic and Pow types ---- */

static void test_int_arith(void)
{
    /* Div on integers truncates toward zero (as ONNX Runtime and the ONNX
     * reference, which casts numpy's true division). */
    snnc_tensor *x[2] = {ti(1, (int64_t[]){4}, (int64_t[]){7, -7, 6, -1}),
                         ti(1, (int64_t[]){4}, (int64_t[]){2, 2, -4, 3})},
                *y;
    CU_ASSERT_EQUAL(op_eval("Div", 14, 0, NULL, 2, (const snnc_tensor *const *)x, &y, NULL),
                    SNNC_OK);
    check_i64(y, 4, (int64_t[]){3, -3, -1, 0});
    snnc_tensor_free(y);
    CU_ASSERT_EQUAL(op_eval("Mul", 14, 0, NULL, 2, (const snnc_tensor *const *)x, &y, NULL),
                    SNNC_OK);
    check_i64(y, 4, (int64_t[]){14, -14, -24, -3});
    snnc_tensor_free(y);
    free_all(x, 2);

    snnc_err err;
    snnc_tensor *z[2] = {ti(1, (int64_t[]){2}, (int64_t[]){1, 2}), ti(0, NULL, (int64_t[]){0})};
    CU_ASSERT_EQUAL(op_eval("Div", 14, 0, NULL, 2, (const snnc_tensor *const *)z, &y, &err),
                    SNNC_EINVALID);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "division by zero"));
    free_all(z, 2);
}

static void test_pow_types(void)
{
    snnc_tensor *y;
    /* float32 base, int64 exponent (opset 12+) */
    snnc_tensor *a[2] = {tf(1, (int64_t[]){3}, (float[]){2, 3, -2}), ti(0, NULL, (int64_t[]){3})};
    CU_ASSERT_EQUAL(op_eval("Pow", 15, 0, NULL, 2, (const snnc_tensor *const *)a, &y, NULL),
                    SNNC_OK);
    check_f32(y, 3, (float[]){8, 27, -8}, 0);
    snnc_tensor_free(y);
    /* ... refused at opset 7, where both must be the same float type */
    CU_ASSERT_EQUAL(op_eval("Pow", 7, 0, NULL, 2, (const snnc_tensor *const *)a, &y, NULL),
                    SNNC_EINVALID);
    free_all(a, 2);

    /* int64 base, float exponent: result int64, truncated (sqrt 2 -> 1) */
    snnc_tensor *b[2] = {ti(1, (int64_t[]){3}, (int64_t[]){2, 9, 10}),
                         tf(0, NULL, (float[]){0.5f})};
    CU_ASSERT_EQUAL(op_eval("Pow", 12, 0, NULL, 2, (const snnc_tensor *const *)b, &y, NULL),
                    SNNC_OK);
    check_i64(y, 3, (int64_t[]){1, 3, 3});
    snnc_tensor_free(y);
    free_all(b, 2);

    /* int64 ^ int64, exact */
    snnc_tensor *c[2] = {ti(1, (int64_t[]){3}, (int64_t[]){2, -3, 10}),
                         ti(1, (int64_t[]){3}, (int64_t[]){10, 3, 15})};
    CU_ASSERT_EQUAL(op_eval("Pow", 15, 0, NULL, 2, (const snnc_tensor *const *)c, &y, NULL),
                    SNNC_OK);
    check_i64(y, 3, (int64_t[]){1024, -27, 1000000000000000LL});
    snnc_tensor_free(y);
    free_all(c, 2);
}

/* ---- shape values (symval) through arithmetic ---- */

static void test_symval_arith(void)
{
    op_run r;
    op_setup(&r, "Add", 14, 2, 0, NULL);
    int64_t n = SNNC_SYM(snnc_graph_symbol(r.g, "N"));
    snnc_tensor *k = ti(1, (int64_t[]){2}, (int64_t[]){0, 2});
    /* Shape output [N, 3] + [0, 2] -> [N, 5] */
    r.in[0] = (snnc_vinfo){.present = true, .dtype = SNNC_I64, .rank = 1, .dims = {2},
                           .n_symval = 2, .symval = {n, 3}};
    op_set_input(&r, 1, k, true);
    CU_ASSERT_EQUAL(op_infer(&r), SNNC_OK);
    CU_ASSERT_EQUAL(r.out[0].n_symval, 2);
    CU_ASSERT_EQUAL(r.out[0].symval[0], n);
    CU_ASSERT_EQUAL(r.out[0].symval[1], 5);

    /* [N, 3] * 1 (rank-0 constant) keeps both; [N, 3] * 2 loses N -> untracked */
    r.node.op = snnc_op_lookup("Mul");
    r.node.op_type = "Mul";
    snnc_tensor *one = ti(0, NULL, (int64_t[]){1}), *two = ti(0, NULL, (int64_t[]){2});
    op_set_input(&r, 1, one, true);
    CU_ASSERT_EQUAL(op_infer(&r), SNNC_OK);
    CU_ASSERT_EQUAL(r.out[0].n_symval, 2);
    CU_ASSERT_EQUAL(r.out[0].symval[0], n);
    CU_ASSERT_EQUAL(r.out[0].symval[1], 3);
    op_set_input(&r, 1, two, true);
    CU_ASSERT_EQUAL(op_infer(&r), SNNC_OK);
    CU_ASSERT_EQUAL(r.out[0].n_symval, -1);
    CU_ASSERT_EQUAL(r.out[0].rank, 1);
    CU_ASSERT_EQUAL(r.out[0].dims[0], 2);

    /* Concrete tracked values: [12, 3] / [4, 2] -> [3, 1] */
    r.node.op = snnc_op_lookup("Div");
    r.node.op_type = "Div";
    r.in[0].symval[0] = 12;
    snnc_tensor *d = ti(1, (int64_t[]){2}, (int64_t[]){4, 2});
    op_set_input(&r, 1, d, true);
    CU_ASSERT_EQUAL(op_infer(&r), SNNC_OK);
    CU_ASSERT_EQUAL(r.out[0].n_symval, 2);
    CU_ASSERT_EQUAL(r.out[0].symval[0], 3);
    CU_ASSERT_EQUAL(r.out[0].symval[1], 1);

    /* Sub giving a negative concrete element cannot be told from a symbol */
    r.node.op = snnc_op_lookup("Sub");
    r.node.op_type = "Sub";
    op_set_input(&r, 1, k, true);
    r.in[0].symval[0] = 0; /* [0, 3] - [0, 2] = [0, 1]: tracked */
    CU_ASSERT_EQUAL(op_infer(&r), SNNC_OK);
    CU_ASSERT_EQUAL(r.out[0].n_symval, 2);
    CU_ASSERT_EQUAL(r.out[0].symval[1], 1);
    r.in[0].symval[1] = 1; /* [0, 1] - [0, 2] = [0, -1]: untracked */
    CU_ASSERT_EQUAL(op_infer(&r), SNNC_OK);
    CU_ASSERT_EQUAL(r.out[0].n_symval, -1);

    snnc_tensor_free(k);
    snnc_tensor_free(one);
    snnc_tensor_free(two);
    snnc_tensor_free(d);
    op_teardown(&r);
}

/* ---- unary ---- */

static void test_unary_values(void)
{
    snnc_tensor *x[1] = {tf(1, (int64_t[]){5}, (float[]){-3, -1, 0, 1, 3})}, *y;
    const snnc_tensor *const *in = (const snnc_tensor *const *)x;

    CU_ASSERT_EQUAL(op_eval("LeakyRelu", 16, 0, NULL, 1, in, &y, NULL), SNNC_OK);
    check_f32(y, 5, (float[]){-0.03f, -0.01f, 0, 1, 3}, 1e-7);
    snnc_tensor_free(y);

    snnc_attr alpha = a_float("alpha", 0.5f);
    CU_ASSERT_EQUAL(op_eval("LeakyRelu", 16, 1, &alpha, 1, in, &y, NULL), SNNC_OK);
    check_f32(y, 5, (float[]){-1.5f, -0.5f, 0, 1, 3}, 0);
    snnc_tensor_free(y);

    /* HardSigmoid defaults alpha 0.2, beta 0.5: max(0, min(1, 0.2x + 0.5)) */
    CU_ASSERT_EQUAL(op_eval("HardSigmoid", 7, 0, NULL, 1, in, &y, NULL), SNNC_OK);
    check_f32(y, 5, (float[]){0, 0.3f, 0.5f, 0.7f, 1}, 1e-6);
    snnc_tensor_free(y);

    CU_ASSERT_EQUAL(op_eval("Relu", 13, 0, NULL, 1, in, &y, NULL), SNNC_OK);
    check_f32(y, 5, (float[]){0, 0, 0, 1, 3}, 0);
    snnc_tensor_free(y);

    CU_ASSERT_EQUAL(op_eval("Neg", 13, 0, NULL, 1, in, &y, NULL), SNNC_OK);
    check_f32(y, 5, (float[]){3, 1, 0, -1, -3}, 0);
    snnc_tensor_free(y);

    /* sigmoid(1) = 1 / (1 + e^-1), tanh(1) = (e^2 - 1) / (e^2 + 1) */
    CU_ASSERT_EQUAL(op_eval("Sigmoid", 13, 0, NULL, 1, in, &y, NULL), SNNC_OK);
    check_f32(y, 5, (float[]){0.04742587f, 0.26894142f, 0.5f, 0.73105858f, 0.95257413f}, 1e-6);
    snnc_tensor_free(y);
    CU_ASSERT_EQUAL(op_eval("Tanh", 13, 0, NULL, 1, in, &y, NULL), SNNC_OK);
    check_f32(y, 5, (float[]){-0.99505475f, -0.76159416f, 0, 0.76159416f, 0.99505475f}, 1e-6);
    snnc_tensor_free(y);
    snnc_tensor_free(x[0]);

    /* No overflow for large |x|, and sqrt/exp/abs on hand values */
    snnc_tensor *big[1] = {tf(1, (int64_t[]){2}, (float[]){-200, 200})};
    CU_ASSERT_EQUAL(op_eval("Sigmoid", 13, 0, NULL, 1, (const snnc_tensor *const *)big, &y, NULL),
                    SNNC_OK);
    check_f32(y, 2, (float[]){0, 1}, 1e-30);
    snnc_tensor_free(y);
    snnc_tensor_free(big[0]);

    snnc_tensor *sq[1] = {tf(1, (int64_t[]){3}, (float[]){0, 2.25f, 16})};
    CU_ASSERT_EQUAL(op_eval("Sqrt", 13, 0, NULL, 1, (const snnc_tensor *const *)sq, &y, NULL),
                    SNNC_OK);
    check_f32(y, 3, (float[]){0, 1.5f, 4}, 0);
    snnc_tensor_free(y);
    snnc_tensor_free(sq[0]);
}

static void test_unary_int_types(void)
{
    snnc_tensor *x[1] = {ti(1, (int64_t[]){3}, (int64_t[]){-5, 0, 4})}, *y;
    const snnc_tensor *const *in = (const snnc_tensor *const *)x;
    CU_ASSERT_EQUAL(op_eval("Abs", 13, 0, NULL, 1, in, &y, NULL), SNNC_OK);
    check_i64(y, 3, (int64_t[]){5, 0, 4});
    snnc_tensor_free(y);
    /* Relu takes integers from opset 14 only; Exp never */
    CU_ASSERT_EQUAL(op_eval("Relu", 14, 0, NULL, 1, in, &y, NULL), SNNC_OK);
    check_i64(y, 3, (int64_t[]){0, 0, 4});
    snnc_tensor_free(y);
    CU_ASSERT_EQUAL(op_eval("Relu", 13, 0, NULL, 1, in, &y, NULL), SNNC_EINVALID);
    CU_ASSERT_EQUAL(op_eval("Exp", 13, 0, NULL, 1, in, &y, NULL), SNNC_EINVALID);
    snnc_tensor_free(x[0]);
}

/* Round takes halves to even (ONNX), from opset 11; Floor rounds down. */
static void test_round_floor(void)
{
    snnc_tensor *x[1] = {tf(1, (int64_t[]){6}, (float[]){0.5f, 1.5f, 2.5f, -2.5f, -1.2f, 2.7f})}, *y;
    const snnc_tensor *const *in = (const snnc_tensor *const *)x;
    CU_ASSERT_EQUAL(op_eval("Round", 11, 0, NULL, 1, in, &y, NULL), SNNC_OK);
    check_f32(y, 6, (float[]){0, 2, 2, -2, -1, 3}, 0);
    snnc_tensor_free(y);
    CU_ASSERT_EQUAL(op_eval("Round", 10, 0, NULL, 1, in, &y, NULL), SNNC_EUNSUPPORTED);
    CU_ASSERT_EQUAL(op_eval("Floor", 13, 0, NULL, 1, in, &y, NULL), SNNC_OK);
    check_f32(y, 6, (float[]){0, 1, 2, -3, -2, 2}, 0);
    snnc_tensor_free(y);
    snnc_tensor_free(x[0]);
}

/* ---- Clip opset variants ---- */

static void test_clip_opsets(void)
{
    float xv[5] = {-3, -0.5f, 0, 0.5f, 3};
    snnc_tensor *x = tf(1, (int64_t[]){5}, xv), *y;
    snnc_tensor *lo = tf(0, NULL, (float[]){-1}), *hi = tf(0, NULL, (float[]){0.25f});

    /* opset 6..10: attributes */
    snnc_attr attrs[2] = {a_float("min", -1), a_float("max", 0.25f)};
    CU_ASSERT_EQUAL(op_eval("Clip", 10, 2, attrs, 1, (const snnc_tensor *const[]){x}, &y, NULL),
                    SNNC_OK);
    check_f32(y, 5, (float[]){-1, -0.5f, 0, 0.25f, 0.25f}, 0);
    snnc_tensor_free(y);
    /* attribute max only: min defaults to the lowest float */
    CU_ASSERT_EQUAL(op_eval("Clip", 10, 1, &attrs[1], 1, (const snnc_tensor *const[]){x}, &y, NULL),
                    SNNC_OK);
    check_f32(y, 5, (float[]){-3, -0.5f, 0, 0.25f, 0.25f}, 0);
    snnc_tensor_free(y);
    /* bounds as inputs are refused before opset 11, attributes from 11 */
    CU_ASSERT_EQUAL(
        op_eval("Clip", 10, 0, NULL, 3, (const snnc_tensor *const[]){x, lo, hi}, &y, NULL),
        SNNC_EINVALID);
    CU_ASSERT_EQUAL(op_eval("Clip", 11, 2, attrs, 1, (const snnc_tensor *const[]){x}, &y, NULL),
                    SNNC_EINVALID);

    /* opset 11+: optional inputs, either omitted */
    CU_ASSERT_EQUAL(
        op_eval("Clip", 11, 0, NULL, 3, (const snnc_tensor *const[]){x, lo, hi}, &y, NULL),
        SNNC_OK);
    check_f32(y, 5, (float[]){-1, -0.5f, 0, 0.25f, 0.25f}, 0);
    snnc_tensor_free(y);
    CU_ASSERT_EQUAL(op_eval("Clip", 13, 0, NULL, 3, (const snnc_tensor *const[]){x, NULL, hi}, &y,
                         NULL),
                    SNNC_OK);
    check_f32(y, 5, (float[]){-3, -0.5f, 0, 0.25f, 0.25f}, 0);
    snnc_tensor_free(y);
    CU_ASSERT_EQUAL(op_eval("Clip", 13, 0, NULL, 2, (const snnc_tensor *const[]){x, lo}, &y, NULL),
                    SNNC_OK);
    check_f32(y, 5, (float[]){-1, -0.5f, 0, 0.5f, 3}, 0);
    snnc_tensor_free(y);
    /* min > max: everything becomes max */
    CU_ASSERT_EQUAL(
        op_eval("Clip", 13, 0, NULL, 3, (const snnc_tensor *const[]){x, hi, lo}, &y, NULL),
        SNNC_OK);
    check_f32(y, 5, (float[]){-1, -1, -1, -1, -1}, 0);
    snnc_tensor_free(y);
    /* a non-scalar bound is refused */
    snnc_tensor *vec = tf(1, (int64_t[]){2}, (float[]){0, 1});
    CU_ASSERT_EQUAL(op_eval("Clip", 13, 0, NULL, 2, (const snnc_tensor *const[]){x, vec}, &y, NULL),
                    SNNC_EINVALID);

    /* int64 from opset 12, with the type's limits as defaults */
    snnc_tensor *xi = ti(1, (int64_t[]){3}, (int64_t[]){INT64_MIN, 5, INT64_MAX});
    snnc_tensor *li = ti(0, NULL, (int64_t[]){0});
    CU_ASSERT_EQUAL(op_eval("Clip", 12, 0, NULL, 2, (const snnc_tensor *const[]){xi, li}, &y, NULL),
                    SNNC_OK);
    check_i64(y, 3, (int64_t[]){0, 5, INT64_MAX});
    snnc_tensor_free(y);
    CU_ASSERT_EQUAL(op_eval("Clip", 11, 0, NULL, 2, (const snnc_tensor *const[]){xi, li}, &y, NULL),
                    SNNC_EINVALID);
    /* bound type must match the input */
    CU_ASSERT_EQUAL(op_eval("Clip", 13, 0, NULL, 2, (const snnc_tensor *const[]){xi, lo}, &y, NULL),
                    SNNC_EINVALID);

    snnc_tensor *all[] = {x, lo, hi, vec, xi, li};
    free_all(all, 6);
}

/* ---- Softmax / LogSoftmax ---- */

static void test_softmax_opset_semantics(void)
{
    /* x of shape [1,2,2] = [[[0, ln3], [ln2, ln2]]], exp = [[1, 3], [2, 2]].
     * axis=1 before opset 13: one group of all 4 -> [1, 3, 2, 2] / 8.
     * axis=1 from opset 13: over axis 1 per column: [1,2]/3 and [3,2]/5. */
    float l2 = logf(2), l3 = logf(3);
    snnc_tensor *x = tf(3, (int64_t[]){1, 2, 2}, (float[]){0, l3, l2, l2}), *y;
    const snnc_tensor *const in[1] = {x};
    snnc_attr axis1 = a_int("axis", 1);

    CU_ASSERT_EQUAL(op_eval("Softmax", 11, 1, &axis1, 1, in, &y, NULL), SNNC_OK);
    op_check_shape(y, 3, (int64_t[]){1, 2, 2});
    check_f32(y, 4, (float[]){0.125f, 0.375f, 0.25f, 0.25f}, 1e-6);
    snnc_tensor_free(y);
    /* the default axis before 13 is 1 as well */
    CU_ASSERT_EQUAL(op_eval("Softmax", 7, 0, NULL, 1, in, &y, NULL), SNNC_OK);
    check_f32(y, 4, (float[]){0.125f, 0.375f, 0.25f, 0.25f}, 1e-6);
    snnc_tensor_free(y);

    CU_ASSERT_EQUAL(op_eval("Softmax", 13, 1, &axis1, 1, in, &y, NULL), SNNC_OK);
    check_f32(y, 4, (float[]){1.0f / 3, 0.6f, 2.0f / 3, 0.4f}, 1e-6);
    snnc_tensor_free(y);

    /* from 13 the default axis is -1: rows [0, ln3] -> [1/4, 3/4]; [ln2, ln2] -> halves */
    CU_ASSERT_EQUAL(op_eval("Softmax", 13, 0, NULL, 1, in, &y, NULL), SNNC_OK);
    check_f32(y, 4, (float[]){0.25f, 0.75f, 0.5f, 0.5f}, 1e-6);
    snnc_tensor_free(y);

    CU_ASSERT_EQUAL(op_eval("LogSoftmax", 11, 1, &axis1, 1, in, &y, NULL), SNNC_OK);
    check_f32(y, 4, (float[]){logf(0.125f), logf(0.375f), logf(0.25f), logf(0.25f)}, 1e-6);
    snnc_tensor_free(y);
    CU_ASSERT_EQUAL(op_eval("LogSoftmax", 13, 1, &axis1, 1, in, &y, NULL), SNNC_OK);
    check_f32(y, 4, (float[]){-logf(3), logf(0.6f), logf(2.0f / 3), logf(0.4f)}, 1e-6);
    snnc_tensor_free(y);

    /* axis out of range */
    snnc_attr axis3 = a_int("axis", 3), axism4 = a_int("axis", -4);
    CU_ASSERT_EQUAL(op_eval("Softmax", 13, 1, &axis3, 1, in, &y, NULL), SNNC_EINVALID);
    CU_ASSERT_EQUAL(op_eval("LogSoftmax", 11, 1, &axism4, 1, in, &y, NULL), SNNC_EINVALID);
    snnc_tensor_free(x);
}

static void test_softmax_large(void)
{
    /* 1000 and 1001 would overflow exp without subtracting the max:
     * softmax = [1, e] / (1 + e) */
    snnc_tensor *x = tf(2, (int64_t[]){1, 2}, (float[]){1000, 1001}), *y;
    CU_ASSERT_EQUAL(op_eval("Softmax", 13, 0, NULL, 1, (const snnc_tensor *const[]){x}, &y, NULL),
                    SNNC_OK);
    check_f32(y, 2, (float[]){0.26894142f, 0.73105858f}, 1e-6);
    snnc_tensor_free(y);
    CU_ASSERT_EQUAL(
        op_eval("LogSoftmax", 13, 0, NULL, 1, (const snnc_tensor *const[]){x}, &y, NULL), SNNC_OK);
    check_f32(y, 2, (float[]){-1.31326169f, -0.31326169f}, 1e-6);
    snnc_tensor_free(y);
    snnc_tensor_free(x);
}

/* ---- reductions ---- */

static void test_reduce_keepdims_noop(void)
{
    snnc_tensor *x = tf(2, (int64_t[]){2, 3}, (float[]){1, 2, 3, 4, 5, 6}), *y;
    snnc_tensor *ax1 = ti(1, (int64_t[]){1}, (int64_t[]){-1});
    snnc_tensor *none = ti(1, (int64_t[]){0}, NULL);
    snnc_attr keep0 = a_int("keepdims", 0), noop = a_int("noop_with_empty_axes", 1);

    /* ReduceSum opset 13: axes input [-1], keepdims default 1 -> [[6], [15]] */
    CU_ASSERT_EQUAL(op_eval("ReduceSum", 13, 0, NULL, 2, (const snnc_tensor *const[]){x, ax1}, &y,
                         NULL),
                    SNNC_OK);
    op_check_shape(y, 2, (int64_t[]){2, 1});
    check_f32(y, 2, (float[]){6, 15}, 0);
    snnc_tensor_free(y);
    CU_ASSERT_EQUAL(op_eval("ReduceSum", 13, 1, &keep0, 2, (const snnc_tensor *const[]){x, ax1}, &y,
                         NULL),
                    SNNC_OK);
    op_check_shape(y, 1, (int64_t[]){2});
    snnc_tensor_free(y);
    /* no axes: all of them -> [[21]]; empty axes with noop -> the input */
    CU_ASSERT_EQUAL(op_eval("ReduceSum", 13, 0, NULL, 1, (const snnc_tensor *const[]){x}, &y, NULL),
                    SNNC_OK);
    op_check_shape(y, 2, (int64_t[]){1, 1});
    check_f32(y, 1, (float[]){21}, 0);
    snnc_tensor_free(y);
    CU_ASSERT_EQUAL(
        op_eval("ReduceSum", 13, 1, &keep0, 2, (const snnc_tensor *const[]){x, none}, &y, NULL),
        SNNC_OK);
    op_check_shape(y, 0, NULL);
    check_f32(y, 1, (float[]){21}, 0);
    snnc_tensor_free(y);
    CU_ASSERT_EQUAL(op_eval("ReduceSum", 13, 1, &noop, 2, (const snnc_tensor *const[]){x, none}, &y,
                         NULL),
                    SNNC_OK);
    op_check_shape(y, 2, (int64_t[]){2, 3});
    check_f32(y, 6, (float[]){1, 2, 3, 4, 5, 6}, 0);
    snnc_tensor_free(y);

    /* ReduceSum opset 11 / ReduceMean opset 13: axes attribute */
    int64_t a0[1] = {0};
    snnc_attr attrs[2] = {a_ints("axes", 1, a0), keep0};
    CU_ASSERT_EQUAL(
        op_eval("ReduceSum", 11, 1, attrs, 1, (const snnc_tensor *const[]){x}, &y, NULL), SNNC_OK);
    op_check_shape(y, 2, (int64_t[]){1, 3});
    check_f32(y, 3, (float[]){5, 7, 9}, 0);
    snnc_tensor_free(y);
    CU_ASSERT_EQUAL(
        op_eval("ReduceMean", 13, 2, attrs, 1, (const snnc_tensor *const[]){x}, &y, NULL), SNNC_OK);
    op_check_shape(y, 1, (int64_t[]){3});
    check_f32(y, 3, (float[]){2.5f, 3.5f, 4.5f}, 0);
    snnc_tensor_free(y);
    /* ReduceMean opset 18: axes input; noop attribute exists from 18 only */
    CU_ASSERT_EQUAL(op_eval("ReduceMean", 18, 0, NULL, 2, (const snnc_tensor *const[]){x, ax1}, &y,
                         NULL),
                    SNNC_OK);
    check_f32(y, 2, (float[]){2, 5}, 0);
    snnc_tensor_free(y);
    CU_ASSERT_EQUAL(
        op_eval("ReduceMean", 18, 1, &noop, 1, (const snnc_tensor *const[]){x}, &y, NULL), SNNC_OK);
    check_f32(y, 6, (float[]){1, 2, 3, 4, 5, 6}, 0);
    snnc_tensor_free(y);
    CU_ASSERT_EQUAL(
        op_eval("ReduceMean", 13, 1, &noop, 1, (const snnc_tensor *const[]){x}, &y, NULL),
        SNNC_EINVALID);

    snnc_tensor_free(x);
    snnc_tensor_free(ax1);
    snnc_tensor_free(none);
}

static void test_reduce_max_3d(void)
{
    /* x[i,j,k] = 100*i + 10*j + k - 50 over [2,3,2]; max over axes (0, 2) is
     * 100 + 10j + 1 - 50 = [51, 61, 71]. */
    float xv[12];
    int64_t xi[12];
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 3; j++)
            for (int k = 0; k < 2; k++)
                xi[i * 6 + j * 2 + k] = 100 * i + 10 * j + k - 50;
    for (int n = 0; n < 12; n++)
        xv[n] = (float)xi[n];
    snnc_tensor *x = tf(3, (int64_t[]){2, 3, 2}, xv), *xl = ti(3, (int64_t[]){2, 3, 2}, xi), *y;
    int64_t ax[2] = {0, -1};
    snnc_attr attrs[1] = {a_ints("axes", 2, ax)};
    CU_ASSERT_EQUAL(
        op_eval("ReduceMax", 13, 1, attrs, 1, (const snnc_tensor *const[]){x}, &y, NULL), SNNC_OK);
    op_check_shape(y, 3, (int64_t[]){1, 3, 1});
    check_f32(y, 3, (float[]){51, 61, 71}, 0);
    snnc_tensor_free(y);
    CU_ASSERT_EQUAL(
        op_eval("ReduceMax", 12, 1, attrs, 1, (const snnc_tensor *const[]){xl}, &y, NULL), SNNC_OK);
    check_i64(y, 3, (int64_t[]){51, 61, 71});
    snnc_tensor_free(y);
    /* int64 sum and (truncating) mean over axis 1: sums 3*(100i+k-50)+30 */
    snnc_tensor *a1 = ti(1, (int64_t[]){1}, (int64_t[]){1});
    CU_ASSERT_EQUAL(op_eval("ReduceSum", 13, 0, NULL, 2, (const snnc_tensor *const[]){xl, a1}, &y,
                         NULL),
                    SNNC_OK);
    check_i64(y, 4, (int64_t[]){-120, -117, 180, 183});
    snnc_tensor_free(y);
    CU_ASSERT_EQUAL(op_eval("ReduceMean", 18, 0, NULL, 2, (const snnc_tensor *const[]){xl, a1}, &y,
                         NULL),
                    SNNC_OK);
    check_i64(y, 4, (int64_t[]){-40, -39, 60, 61});
    snnc_tensor_free(y);
    snnc_tensor_free(a1);
    snnc_tensor_free(x);
    snnc_tensor_free(xl);
}

static void test_reduce_symbolic_infer(void)
{
    /* Load time: axes input not known yet -> keepdims keeps the rank with
     * fresh dims (1s stay 1); without keepdims the rank is unknown. */
    op_run r;
    op_setup(&r, "ReduceSum", 13, 2, 0, NULL);
    r.in[0] = (snnc_vinfo){.present = true, .dtype = SNNC_F32, .rank = 3, .dims = {4, 1, 5},
                           .n_symval = -1};
    r.in[1] = (snnc_vinfo){.present = true, .dtype = SNNC_I64, .rank = 1, .dims = {1},
                           .n_symval = -1};
    CU_ASSERT_EQUAL(op_infer(&r), SNNC_OK);
    CU_ASSERT_EQUAL(r.out[0].rank, 3);
    CU_ASSERT(SNNC_IS_SYM(r.out[0].dims[0]));
    CU_ASSERT_EQUAL(r.out[0].dims[1], 1);
    CU_ASSERT(SNNC_IS_SYM(r.out[0].dims[2]));
    r.attrs[0] = a_int("keepdims", 0);
    r.node.n_attrs = 1;
    CU_ASSERT_EQUAL(op_infer(&r), SNNC_OK);
    CU_ASSERT_EQUAL(r.out[0].rank, -1);
    CU_ASSERT_EQUAL(r.out[0].dtype, SNNC_F32);
    op_teardown(&r);
}

/* ---- clean failures ---- */

static void test_infer_failures(void)
{
    snnc_err err;
    snnc_tensor *y;
    snnc_tensor *a = tf(2, (int64_t[]){2, 3}, (float[]){1, 2, 3, 4, 5, 6});
    snnc_tensor *b = tf(1, (int64_t[]){4}, (float[]){1, 2, 3, 4});
    snnc_tensor *i = ti(1, (int64_t[]){3}, (int64_t[]){1, 2, 3});

    /* incompatible shapes [2,3] + [4], message names the node */
    CU_ASSERT_EQUAL(op_eval("Add", 14, 0, NULL, 2, (const snnc_tensor *const[]){a, b}, &y, &err),
                    SNNC_EINVALID);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "node 'n0' (Add)"));
    CU_ASSERT_EQUAL(
        op_eval("Where", 16, 0, NULL, 3, (const snnc_tensor *const[]){a, a, b}, &y, NULL),
        SNNC_EINVALID); /* also: a float condition */
    /* mixed types */
    CU_ASSERT_EQUAL(op_eval("Mul", 14, 0, NULL, 2, (const snnc_tensor *const[]){a, i}, &y, NULL),
                    SNNC_EINVALID);
    /* wrong input counts */
    CU_ASSERT_EQUAL(op_eval("Add", 14, 0, NULL, 1, (const snnc_tensor *const[]){a}, &y, NULL),
                    SNNC_EINVALID);
    CU_ASSERT_EQUAL(op_eval("Sqrt", 13, 0, NULL, 2, (const snnc_tensor *const[]){a, a}, &y, NULL),
                    SNNC_EINVALID);
    CU_ASSERT_EQUAL(
        op_eval("Softmax", 13, 0, NULL, 2, (const snnc_tensor *const[]){a, a}, &y, NULL),
        SNNC_EINVALID);
    CU_ASSERT_EQUAL(
        op_eval("ReduceSum", 11, 0, NULL, 2, (const snnc_tensor *const[]){a, i}, &y, NULL),
        SNNC_EINVALID);
    CU_ASSERT_EQUAL(op_eval("Add", 14, 0, NULL, 2, (const snnc_tensor *const[]){a, NULL}, &y, NULL),
                    SNNC_EINVALID);
    /* bad axes: out of range, repeated, wrong attribute kinds/values */
    int64_t bad[1] = {2}, dup[2] = {1, -1};
    snnc_attr axes_bad = a_ints("axes", 1, bad), axes_dup = a_ints("axes", 2, dup);
    CU_ASSERT_EQUAL(op_eval("ReduceMax", 13, 1, &axes_bad, 1, (const snnc_tensor *const[]){a}, &y,
                         &err),
                    SNNC_EINVALID);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "out of range"));
    CU_ASSERT_EQUAL(op_eval("ReduceMean", 13, 1, &axes_dup, 1, (const snnc_tensor *const[]){a}, &y,
                         NULL),
                    SNNC_EINVALID);
    CU_ASSERT_EQUAL(op_eval("ReduceSum", 13, 1, &axes_dup, 1, (const snnc_tensor *const[]){a}, &y,
                         NULL),
                    SNNC_EINVALID); /* axes is an input from 13 */
    snnc_tensor *axbig = ti(1, (int64_t[]){1}, (int64_t[]){-3});
    CU_ASSERT_EQUAL(op_eval("ReduceSum", 13, 0, NULL, 2, (const snnc_tensor *const[]){a, axbig}, &y,
                         NULL),
                    SNNC_EINVALID);
    snnc_attr keep2 = a_int("keepdims", 2), alpha_s = {.name = "alpha", .kind = SNNC_ATTR_STRING};
    CU_ASSERT_EQUAL(
        op_eval("ReduceMax", 13, 1, &keep2, 1, (const snnc_tensor *const[]){a}, &y, NULL),
        SNNC_EINVALID);
    CU_ASSERT_EQUAL(op_eval("LeakyRelu", 16, 1, &alpha_s, 1, (const snnc_tensor *const[]){a}, &y,
                         NULL),
                    SNNC_EINVALID);
    snnc_attr axis_f = a_float("axis", 1);
    CU_ASSERT_EQUAL(
        op_eval("Softmax", 13, 1, &axis_f, 1, (const snnc_tensor *const[]){a}, &y, NULL),
        SNNC_EINVALID);
    /* Softmax on a scalar has no axis */
    snnc_tensor *s = tf(0, NULL, (float[]){1});
    CU_ASSERT_EQUAL(op_eval("Softmax", 13, 0, NULL, 1, (const snnc_tensor *const[]){s}, &y, NULL),
                    SNNC_EINVALID);
    /* Where before opset 9 */
    CU_ASSERT_EQUAL(
        op_eval("Where", 8, 0, NULL, 3, (const snnc_tensor *const[]){a, a, a}, &y, NULL),
        SNNC_EINVALID);
    /* zero outputs must not be written */
    op_run r;
    op_setup(&r, "Relu", 14, 1, 0, NULL);
    r.node.n_outputs = 0;
    op_set_input(&r, 0, a, true);
    CU_ASSERT_EQUAL(op_infer(&r), SNNC_EINVALID);
    op_teardown(&r);

    snnc_tensor *all[] = {a, b, i, axbig, s};
    free_all(all, 5);
}

static void test_empty_tensors(void)
{
    /* zero-sized operands broadcast to zero-sized outputs; reductions of an
     * empty axis give the identity (sum 0, max lowest) */
    snnc_tensor *e = tf(2, (int64_t[]){0, 3}, NULL), *r = tf(1, (int64_t[]){3}, (float[]){1, 2, 3});
    snnc_tensor *y;
    CU_ASSERT_EQUAL(op_eval("Add", 14, 0, NULL, 2, (const snnc_tensor *const[]){e, r}, &y, NULL),
                    SNNC_OK);
    op_check_shape(y, 2, (int64_t[]){0, 3});
    snnc_tensor_free(y);
    int64_t a0[1] = {0};
    snnc_attr axes = a_ints("axes", 1, a0);
    CU_ASSERT_EQUAL(
        op_eval("ReduceSum", 11, 1, &axes, 1, (const snnc_tensor *const[]){e}, &y, NULL), SNNC_OK);
    op_check_shape(y, 2, (int64_t[]){1, 3});
    check_f32(y, 3, (float[]){0, 0, 0}, 0);
    snnc_tensor_free(y);
    CU_ASSERT_EQUAL(
        op_eval("ReduceMax", 11, 1, &axes, 1, (const snnc_tensor *const[]){e}, &y, NULL), SNNC_OK);
    CU_ASSERT(isinf(snnc_f32(y)[0]) && snnc_f32(y)[0] < 0);
    snnc_tensor_free(y);
    CU_ASSERT_EQUAL(op_eval("Softmax", 13, 0, NULL, 1, (const snnc_tensor *const[]){e}, &y, NULL),
                    SNNC_OK);
    snnc_tensor_free(y);
    snnc_tensor_free(e);
    snnc_tensor_free(r);
}

static CU_TestInfo tests[] = {
    {"Round halves to even (opset 11+), Floor", test_round_floor},
    {"Add broadcast [2,3,1]+[4]", test_add_broadcast_3d},
    {"Mul outer product, Sub scalar", test_mul_outer_and_scalar},
    {"broadcast along a middle axis", test_broadcast_middle_axis},
    {"Where three-way broadcast", test_where_three_way},
    {"symbolic broadcast infer", test_symbolic_broadcast_infer},
    {"int64 arithmetic, Div truncates", test_int_arith},
    {"Pow mixed types", test_pow_types},
    {"shape values through arithmetic", test_symval_arith},
    {"unary values", test_unary_values},
    {"unary integer types", test_unary_int_types},
    {"Clip opset variants", test_clip_opsets},
    {"Softmax opset 11 vs 13", test_softmax_opset_semantics},
    {"Softmax large numbers", test_softmax_large},
    {"reduce keepdims and noop", test_reduce_keepdims_noop},
    {"ReduceMax/Sum/Mean 3-D, int64", test_reduce_max_3d},
    {"reduce infer with unknown axes", test_reduce_symbolic_infer},
    {"infer fails cleanly", test_infer_failures},
    {"empty tensors", test_empty_tensors},
    CU_TEST_INFO_NULL,
};
SNNC_TEST_MAIN("elementwise")
