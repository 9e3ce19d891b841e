/* test_layout.c — unit tests of the shape and layout operator families
 * (ops/shape.c, ops/layout.c), called through the operator table: each op on
 * hand-derived cases including its opset variants, the symbolic shape chain
 * PyTorch exports for zero initial states (infer hooks at load time), and
 * malformed nodes, which must fail with a status and never crash. */
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "ops/op.h"

#define D(...) ((const int64_t[]){__VA_ARGS__})
#define V(...) ((const double[]){__VA_ARGS__})
#define BIG INT64_MAX

static snnc_err err;
static snnc_graph *graph; /* owns the symbols of a load-time test (NULL otherwise) */

/* ---- building nodes, tensors and shapes by hand ---- */

static snnc_node *node_new(const char *op, int n_in, int n_out)
{
    snnc_node *n = calloc(1, sizeof *n);
    n->name = strdup("node");
    n->op_type = strdup(op);
    n->domain = strdup("");
    n->n_inputs = n_in;
    n->n_outputs = n_out;
    n->attrs = calloc(8, sizeof(snnc_attr));
    return n;
}

static snnc_attr *attr_add(snnc_node *n, const char *name, snnc_attr_kind kind)
{
    snnc_attr *a = &n->attrs[n->n_attrs++];
    a->name = strdup(name);
    a->kind = kind;
    return a;
}

static void a_int(snnc_node *n, const char *name, int64_t v) { attr_add(n, name, SNNC_ATTR_INT)->i = v; }

static void a_ints(snnc_node *n, const char *name, int cnt, const int64_t *v)
{
    snnc_attr *a = attr_add(n, name, SNNC_ATTR_INTS);
    a->n = cnt;
    a->ints = malloc(((size_t)cnt + 1) * sizeof *v);
    memcpy(a->ints, v, (size_t)cnt * sizeof *v);
}

static snnc_tensor *tens(snnc_dtype dt, int rank, const int64_t *dims, const double *vals)
{
    snnc_tensor *t = snnc_tensor_new(dt, rank, dims, &err);
    for (int64_t i = 0; t && i < t->count; i++) {
        if (dt == SNNC_F32)
            snnc_f32(t)[i] = (float)vals[i];
        else if (dt == SNNC_F64)
            ((double *)t->data)[i] = vals[i];
        else if (dt == SNNC_I64)
            snnc_i64(t)[i] = (int64_t)vals[i];
        else if (dt == SNNC_I32)
            ((int32_t *)t->data)[i] = (int32_t)vals[i];
        else
            snnc_u8(t)[i] = (uint8_t)vals[i];
    }
    return t;
}

static void a_tensor(snnc_node *n, const char *name, snnc_tensor *t)
{
    attr_add(n, name, SNNC_ATTR_TENSOR)->t = t;
}

static void node_free(snnc_node *n)
{
    snnc_node_clear(n);
    free(n);
}

static snnc_vinfo vi_unknown(void)
{
    snnc_vinfo v;
    memset(&v, 0, sizeof v);
    v.rank = -1;
    v.n_symval = -1;
    return v;
}

static snnc_vinfo vi_shape(snnc_dtype dt, int rank, const int64_t *dims)
{
    snnc_vinfo v = vi_unknown();
    v.present = true;
    v.dtype = dt;
    v.rank = rank;
    if (rank > 0)
        memcpy(v.dims, dims, (size_t)rank * sizeof *dims);
    return v;
}

static snnc_vinfo vi_value(const snnc_tensor *t)
{
    snnc_vinfo v = vi_shape(t->dtype, t->rank, t->dims);
    v.value = t;
    return v;
}

static const snnc_op_def *def_of(const snnc_node *n)
{
    const snnc_op_def *d = snnc_op_get(snnc_op_lookup(n->op_type));
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    return d;
}

/* Load-time inference on hand-made input infos. */
static int infer(const snnc_node *n, int opset, const snnc_vinfo *in, snnc_vinfo *out)
{
    snnc_opctx c = {.node = n, .graph = graph, .opset = opset, .runtime = false, .err = &err};
    snnc_err_clear(&err);
    for (int j = 0; j < n->n_outputs; j++)
        out[j] = vi_unknown();
    int st = def_of(n)->infer(&c, in, out);
    for (int j = 0; j < n->n_outputs; j++)
        out[j].present = true; /* so outputs can feed the next node, as in the pass */
    return st;
}

/* What the evaluator does: infer on concrete inputs, allocate, compute.
 * in[i] NULL is an omitted input. */
static int run(const snnc_node *n, int opset, snnc_tensor *const *in, snnc_tensor **out)
{
    snnc_vinfo vi[8], vo[8];
    snnc_opctx c = {.node = n, .graph = NULL, .opset = opset, .runtime = true, .err = &err};
    for (int i = 0; i < n->n_inputs; i++)
        vi[i] = in[i] ? vi_value(in[i]) : vi_unknown();
    for (int j = 0; j < n->n_outputs; j++)
        out[j] = NULL, vo[j] = vi_unknown();
    snnc_err_clear(&err);
    int st = def_of(n)->infer(&c, vi, vo);
    for (int j = 0; !st && j < n->n_outputs; j++)
        if (!(out[j] = snnc_tensor_new(vo[j].dtype, vo[j].rank, vo[j].dims, &err)))
            st = err.code;
    if (!st)
        st = def_of(n)->compute(&c, (const snnc_tensor *const *)in, out);
    return st;
}

static void check(const snnc_tensor *t, snnc_dtype dt, int rank, const int64_t *dims,
                  const double *vals)
{
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    CU_ASSERT_EQUAL(t->dtype, dt);
    CU_ASSERT_EQUAL_FATAL(t->rank, rank);
    for (int k = 0; k < rank; k++)
        CU_ASSERT_EQUAL(t->dims[k], dims[k]);
    int64_t n = snnc_shape_count(rank, dims);
    CU_ASSERT_EQUAL_FATAL(t->count, n);
    for (int64_t i = 0; i < n; i++)
        CU_ASSERT_EQUAL(snnc_tensor_get_f(t, i), vals[i]);
}

static void free_all(snnc_tensor **t, int n)
{
    for (int i = 0; i < n; i++)
        snnc_tensor_free(t[i]), t[i] = NULL;
}

/* Run a one-input node on x, check its one output, free both. */
static void expect1(const snnc_node *n, int opset, snnc_tensor *x, snnc_dtype dt, int rank,
                    const int64_t *dims, const double *vals)
{
    snnc_tensor *in[1] = {x}, *out[1];
    CU_ASSERT_EQUAL_FATAL(run(n, opset, in, out), SNNC_OK);
    check(out[0], dt, rank, dims, vals);
    free_all(in, 1);
    free_all(out, 1);
}

/* Expect a run to fail with `code` (and a message naming the node). */
static void expect_fail(const snnc_node *n, int opset, snnc_tensor **in, int code)
{
    snnc_tensor *out[8];
    CU_ASSERT_EQUAL(run(n, opset, in, out), code);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, n->op_type));
    free_all(out, n->n_outputs);
}

static snnc_tensor *iota(snnc_dtype dt, int rank, const int64_t *dims)
{
    snnc_tensor *t = snnc_tensor_new(dt, rank, dims, &err);
    for (int64_t i = 0; i < t->count; i++) {
        if (dt == SNNC_F32)
            snnc_f32(t)[i] = (float)i;
        else if (dt == SNNC_I64)
            snnc_i64(t)[i] = i;
        else
            snnc_u8(t)[i] = (uint8_t)(i % 3 == 0);
    }
    return t;
}

/* ---- Transpose ---- */

static void test_transpose(void)
{
    snnc_node *n = node_new("Transpose", 1, 1);
    /* default perm reverses: [[0,1,2],[3,4,5]] -> [[0,3],[1,4],[2,5]] */
    expect1(n, 13, iota(SNNC_F32, 2, D(2, 3)), SNNC_F32, 2, D(3, 2), V(0, 3, 1, 4, 2, 5));
    expect1(n, 7, iota(SNNC_I64, 2, D(2, 3)), SNNC_I64, 2, D(3, 2), V(0, 3, 1, 4, 2, 5));
    /* bool: iota gives 1 at multiples of 3 -> elements 0 and 3 */
    expect1(n, 13, iota(SNNC_BOOL, 2, D(2, 3)), SNNC_BOOL, 2, D(3, 2), V(1, 1, 0, 0, 0, 0));
    node_free(n);

    /* perm [2,0,1] on [2,3,4]: out[i][j][k] = in[j][k][i] = 12j + 4k + i */
    n = node_new("Transpose", 1, 1);
    a_ints(n, "perm", 3, D(2, 0, 1));
    snnc_tensor *in[1] = {iota(SNNC_F32, 3, D(2, 3, 4))}, *out[1];
    CU_ASSERT_EQUAL_FATAL(run(n, 13, in, out), SNNC_OK);
    CU_ASSERT_EQUAL(out[0]->dims[0], 4);
    CU_ASSERT_EQUAL(out[0]->dims[1], 2);
    CU_ASSERT_EQUAL(out[0]->dims[2], 3);
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 2; j++)
            for (int k = 0; k < 3; k++)
                CU_ASSERT_EQUAL(snnc_f32(out[0])[(i * 2 + j) * 3 + k], 12 * j + 4 * k + i);
    free_all(in, 1);
    free_all(out, 1);
    node_free(n);
}

static void test_transpose_bad_perm(void)
{
    const int64_t bad[][3] = {{0, 0, 1}, {0, 1, 3}, {-1, 0, 1}};
    for (int b = 0; b < 3; b++) {
        snnc_node *n = node_new("Transpose", 1, 1);
        a_ints(n, "perm", 3, bad[b]);
        snnc_tensor *in[1] = {iota(SNNC_F32, 3, D(2, 3, 4))};
        expect_fail(n, 13, in, SNNC_EINVALID);
        free_all(in, 1);
        node_free(n);
    }
    snnc_node *n = node_new("Transpose", 1, 1); /* wrong length */
    a_ints(n, "perm", 2, D(1, 0));
    snnc_tensor *in[1] = {iota(SNNC_F32, 3, D(2, 3, 4))};
    expect_fail(n, 13, in, SNNC_EINVALID);
    free_all(in, 1);
    node_free(n);
}

/* ---- Squeeze / Unsqueeze ---- */

static void test_squeeze(void)
{
    snnc_node *n = node_new("Squeeze", 1, 1); /* opset 11: axes attribute, negative allowed */
    a_ints(n, "axes", 2, D(0, -1));
    expect1(n, 11, iota(SNNC_F32, 3, D(1, 3, 1)), SNNC_F32, 1, D(3), V(0, 1, 2));
    node_free(n);

    n = node_new("Squeeze", 1, 1); /* no axes: every 1 goes */
    expect1(n, 13, iota(SNNC_I64, 4, D(1, 2, 1, 1)), SNNC_I64, 1, D(2), V(0, 1));
    node_free(n);

    n = node_new("Squeeze", 2, 1); /* opset 13: axes input */
    snnc_tensor *in[2] = {iota(SNNC_BOOL, 3, D(2, 1, 2)), tens(SNNC_I64, 1, D(1), V(1))}, *out[1];
    CU_ASSERT_EQUAL_FATAL(run(n, 13, in, out), SNNC_OK);
    check(out[0], SNNC_BOOL, 2, D(2, 2), V(1, 0, 0, 1));
    free_all(out, 1);
    /* axis 0 has size 2 */
    snnc_i64(in[1])[0] = 0;
    expect_fail(n, 13, in, SNNC_EINVALID);
    /* axis out of range */
    snnc_i64(in[1])[0] = 3;
    expect_fail(n, 13, in, SNNC_EINVALID);
    free_all(in, 2);
    node_free(n);

    n = node_new("Squeeze", 1, 1); /* negative axes before opset 11 */
    a_ints(n, "axes", 1, D(-1));
    snnc_tensor *x[1] = {iota(SNNC_F32, 2, D(3, 1))};
    expect_fail(n, 7, x, SNNC_EINVALID);
    expect_fail(n, 13, x, SNNC_EINVALID); /* and the attribute is gone from opset 13 */
    free_all(x, 1);
    node_free(n);
}

static void test_unsqueeze(void)
{
    snnc_node *n = node_new("Unsqueeze", 2, 1); /* opset 13, unsorted axes */
    snnc_tensor *in[2] = {iota(SNNC_F32, 2, D(3, 4)), tens(SNNC_I64, 1, D(2), V(3, 0))}, *out[1];
    CU_ASSERT_EQUAL_FATAL(run(n, 13, in, out), SNNC_OK);
    CU_ASSERT_EQUAL(out[0]->rank, 4);
    CU_ASSERT(out[0]->dims[0] == 1 && out[0]->dims[1] == 3 && out[0]->dims[2] == 4 &&
              out[0]->dims[3] == 1);
    CU_ASSERT_EQUAL(snnc_f32(out[0])[11], 11);
    free_all(out, 1);
    snnc_i64(in[1])[0] = 0; /* repeated axis */
    expect_fail(n, 13, in, SNNC_EINVALID);
    snnc_i64(in[1])[0] = 4; /* output rank 4: axis 4 is out of range */
    expect_fail(n, 13, in, SNNC_EINVALID);
    free_all(in, 2);
    node_free(n);

    n = node_new("Unsqueeze", 1, 1); /* opset 11: attribute, -1 is the new last axis */
    a_ints(n, "axes", 1, D(-1));
    expect1(n, 11, iota(SNNC_I64, 1, D(3)), SNNC_I64, 2, D(3, 1), V(0, 1, 2));
    node_free(n);

    n = node_new("Unsqueeze", 1, 1); /* opset 13 without the axes input */
    snnc_tensor *x[1] = {iota(SNNC_F32, 1, D(3))};
    expect_fail(n, 13, x, SNNC_EINVALID);
    free_all(x, 1);
    node_free(n);
}

/* ---- Concat ---- */

static void test_concat(void)
{
    snnc_node *n = node_new("Concat", 2, 1);
    a_int(n, "axis", 0);
    snnc_tensor *in[2] = {tens(SNNC_F32, 2, D(2, 2), V(1, 2, 3, 4)),
                          tens(SNNC_F32, 2, D(1, 2), V(5, 6))},
                *out[1];
    CU_ASSERT_EQUAL_FATAL(run(n, 7, in, out), SNNC_OK);
    check(out[0], SNNC_F32, 2, D(3, 2), V(1, 2, 3, 4, 5, 6));
    free_all(out, 1);
    free_all(in, 2);
    n->attrs[0].i = -1; /* [[1,2],[3,4]] ++ [[5],[6]] along the last axis */
    in[0] = tens(SNNC_I64, 2, D(2, 2), V(1, 2, 3, 4));
    in[1] = tens(SNNC_I64, 2, D(2, 1), V(5, 6));
    CU_ASSERT_EQUAL_FATAL(run(n, 11, in, out), SNNC_OK);
    check(out[0], SNNC_I64, 2, D(2, 3), V(1, 2, 5, 3, 4, 6));
    free_all(out, 1);
    expect_fail(n, 7, in, SNNC_EINVALID); /* negative axis before opset 11 */
    n->attrs[0].i = 0;                    /* [2,2] and [2,1] differ off the axis */
    expect_fail(n, 13, in, SNNC_EINVALID);
    free_all(in, 2);
    node_free(n);

    n = node_new("Concat", 3, 1); /* bools, with an empty input */
    a_int(n, "axis", 0);
    snnc_tensor *b[3] = {tens(SNNC_BOOL, 1, D(2), V(1, 0)), tens(SNNC_BOOL, 1, D(0), V(0)),
                         tens(SNNC_BOOL, 1, D(1), V(1))};
    CU_ASSERT_EQUAL_FATAL(run(n, 13, b, out), SNNC_OK);
    check(out[0], SNNC_BOOL, 1, D(3), V(1, 0, 1));
    free_all(out, 1);
    free_all(b, 3);
    node_free(n);
}

/* ---- Split ---- */

static void test_split(void)
{
    snnc_tensor *out[3];
    snnc_node *n = node_new("Split", 1, 2); /* opset 11: split attribute */
    a_ints(n, "split", 2, D(1, 2));
    snnc_tensor *x[2] = {tens(SNNC_F32, 1, D(3), V(7, 8, 9)), NULL};
    CU_ASSERT_EQUAL_FATAL(run(n, 11, x, out), SNNC_OK);
    check(out[0], SNNC_F32, 1, D(1), V(7));
    check(out[1], SNNC_F32, 1, D(2), V(8, 9));
    free_all(out, 2);
    node_free(n);

    n = node_new("Split", 2, 2); /* opset 13: split input, axis 1 of [2,3] */
    a_int(n, "axis", -1);
    x[1] = tens(SNNC_I64, 1, D(2), V(2, 1));
    free_all(x, 1);
    x[0] = tens(SNNC_I64, 2, D(2, 3), V(1, 2, 3, 4, 5, 6));
    CU_ASSERT_EQUAL_FATAL(run(n, 13, x, out), SNNC_OK);
    check(out[0], SNNC_I64, 2, D(2, 2), V(1, 2, 4, 5));
    check(out[1], SNNC_I64, 2, D(2, 1), V(3, 6));
    free_all(out, 2);
    snnc_i64(x[1])[1] = 2; /* sizes 2+2 do not sum to 3 */
    expect_fail(n, 13, x, SNNC_EINVALID);
    free_all(x, 2);
    node_free(n);

    n = node_new("Split", 1, 3); /* equal parts */
    snnc_tensor *y[1] = {tens(SNNC_F32, 1, D(6), V(1, 2, 3, 4, 5, 6))};
    CU_ASSERT_EQUAL_FATAL(run(n, 13, y, out), SNNC_OK);
    check(out[2], SNNC_F32, 1, D(2), V(5, 6));
    free_all(out, 3);
    free_all(y, 1);
    y[0] = tens(SNNC_F32, 1, D(7), V(1, 2, 3, 4, 5, 6, 7));
    expect_fail(n, 13, y, SNNC_EINVALID); /* 7 does not split in 3 before opset 18 */
    CU_ASSERT_EQUAL_FATAL(run(n, 18, y, out), SNNC_OK); /* opset 18: 3, 3, then 1 */
    check(out[0], SNNC_F32, 1, D(3), V(1, 2, 3));
    check(out[1], SNNC_F32, 1, D(3), V(4, 5, 6));
    check(out[2], SNNC_F32, 1, D(1), V(7));
    free_all(out, 3);
    a_int(n, "num_outputs", 3);
    CU_ASSERT_EQUAL(run(n, 18, y, out), SNNC_OK);
    free_all(out, 3);
    expect_fail(n, 17, y, SNNC_EINVALID); /* num_outputs is new in 18 */
    n->attrs[0].i = 2;                     /* and must match the outputs */
    expect_fail(n, 18, y, SNNC_EINVALID);
    free_all(y, 1);
    node_free(n);
}

/* ---- Slice ---- */

static void test_slice_attributes(void)
{
    /* opset 1-9: attributes.  Spec example 1 without steps: rows 1..2, cols 0..3 */
    snnc_node *n = node_new("Slice", 1, 1);
    a_ints(n, "axes", 2, D(0, 1));
    a_ints(n, "starts", 2, D(1, 0));
    a_ints(n, "ends", 2, D(2, 3));
    expect1(n, 7, tens(SNNC_F32, 2, D(2, 4), V(1, 2, 3, 4, 5, 6, 7, 8)), SNNC_F32, 2, D(1, 3),
            V(5, 6, 7));
    node_free(n);
    /* spec example 2 (axes default): starts [0,1] ends [-1,1000] -> [[2,3,4]] */
    n = node_new("Slice", 1, 1);
    a_ints(n, "starts", 2, D(0, 1));
    a_ints(n, "ends", 2, D(-1, 1000));
    expect1(n, 9, tens(SNNC_I64, 2, D(2, 4), V(1, 2, 3, 4, 5, 6, 7, 8)), SNNC_I64, 2, D(1, 3),
            V(2, 3, 4));
    node_free(n);
}

static void slice_case(const double *data, int64_t len, int64_t s, int64_t e, int64_t step,
                       int64_t want_len, const double *want)
{
    snnc_node *n = node_new("Slice", 5, 1);
    snnc_tensor *in[5] = {tens(SNNC_F32, 1, D(len), data), tens(SNNC_I64, 1, D(1), V(0)),
                          tens(SNNC_I64, 1, D(1), V(0)), NULL, tens(SNNC_I64, 1, D(1), V(0))},
                *out[1];
    snnc_i64(in[1])[0] = s; /* set directly: doubles cannot carry INT64_MAX */
    snnc_i64(in[2])[0] = e;
    snnc_i64(in[4])[0] = step;
    CU_ASSERT_EQUAL_FATAL(run(n, 13, in, out), SNNC_OK);
    check(out[0], SNNC_F32, 1, D(want_len), want);
    free_all(out, 1);
    free_all(in, 5);
    node_free(n);
}

static void test_slice_inputs(void)
{
    const double *x = V(0, 1, 2, 3, 4, 5, 6, 7, 8, 9);
    slice_case(x, 10, 2, 8, 3, 2, V(2, 5));
    slice_case(x, 10, -1, -BIG, -3, 4, V(9, 6, 3, 0)); /* backwards from the end */
    slice_case(x, 10, 20, 5, -2, 2, V(9, 7));          /* start clamps to dim-1 */
    slice_case(x, 10, 4, -11, -1, 5, V(4, 3, 2, 1, 0)); /* end clamps to -1 */
    slice_case(x, 10, 1000, BIG, 1, 0, V(0));           /* start beyond the end: empty */
    slice_case(x, 10, -1000, 2, 1, 2, V(0, 1));         /* start clamps to 0 */
    slice_case(x, 10, 3, 3, 1, 0, V(0));
    slice_case(x, 10, 9, -BIG, INT64_MIN, 1, V(9)); /* huge negative step */
    slice_case(x, 10, 0, BIG, -1, 0, V(0));        /* backwards from 0 to 9: empty */

    /* spec example 1 with steps [1,2], axes negative (opset 11+) */
    snnc_node *n = node_new("Slice", 5, 1);
    snnc_tensor *in[5] = {tens(SNNC_F32, 2, D(2, 4), V(1, 2, 3, 4, 5, 6, 7, 8)),
                          tens(SNNC_I64, 1, D(2), V(1, 0)), tens(SNNC_I64, 1, D(2), V(2, 3)),
                          tens(SNNC_I64, 1, D(2), V(-2, -1)), tens(SNNC_I64, 1, D(2), V(1, 2))},
                *out[1];
    CU_ASSERT_EQUAL_FATAL(run(n, 13, in, out), SNNC_OK);
    check(out[0], SNNC_F32, 2, D(1, 2), V(5, 7));
    free_all(out, 1);
    expect_fail(n, 10, in, SNNC_EINVALID);    /* negative axes need opset 11 */
    snnc_i64(in[3])[0] = -1;                  /* repeated axis */
    expect_fail(n, 13, in, SNNC_EINVALID);
    snnc_i64(in[3])[0] = 0, snnc_i64(in[4])[1] = 0; /* step 0 */
    expect_fail(n, 13, in, SNNC_EINVALID);
    snnc_i64(in[4])[1] = 1, snnc_i64(in[3])[1] = 2; /* axis 2 of a rank-2 input */
    expect_fail(n, 13, in, SNNC_EINVALID);
    free_all(in, 5);
    node_free(n);
}

/* ---- Gather ---- */

static void test_gather(void)
{
    /* spec example, axis 0: indices [[0,1],[1,2]] of a 3x2 table */
    const double *data = V(1.0, 1.5, 2.5, 3.5, 4.5, 5.5);
    snnc_node *n = node_new("Gather", 2, 1);
    snnc_tensor *in[2] = {tens(SNNC_F32, 2, D(3, 2), data),
                          tens(SNNC_I64, 2, D(2, 2), V(0, 1, 1, 2))},
                *out[1];
    CU_ASSERT_EQUAL_FATAL(run(n, 13, in, out), SNNC_OK);
    check(out[0], SNNC_F32, 3, D(2, 2, 2), V(1.0, 1.5, 2.5, 3.5, 2.5, 3.5, 4.5, 5.5));
    free_all(out, 1);
    snnc_i64(in[1])[3] = -3; /* negative index counts from the end: row 0 */
    CU_ASSERT_EQUAL_FATAL(run(n, 13, in, out), SNNC_OK);
    CU_ASSERT_EQUAL(snnc_f32(out[0])[6], 1.0f);
    free_all(out, 1);
    snnc_i64(in[1])[3] = 3; /* out of range */
    expect_fail(n, 13, in, SNNC_EINVALID);
    free_all(in, 2);
    node_free(n);

    /* axis 1 (spec example 2): columns [0,2] of a 3x3 -> [3,1,2] */
    n = node_new("Gather", 2, 1);
    a_int(n, "axis", -1);
    in[0] = tens(SNNC_I64, 2, D(3, 3), V(1, 2, 3, 4, 5, 6, 7, 8, 9));
    in[1] = tens(SNNC_I64, 2, D(1, 2), V(0, 2));
    CU_ASSERT_EQUAL_FATAL(run(n, 13, in, out), SNNC_OK);
    check(out[0], SNNC_I64, 3, D(3, 1, 2), V(1, 3, 4, 6, 7, 9));
    free_all(out, 1);
    free_all(in, 2);
    /* scalar index on bools drops the axis */
    in[0] = tens(SNNC_BOOL, 2, D(2, 2), V(1, 0, 0, 1));
    in[1] = tens(SNNC_I64, 0, NULL, V(1));
    CU_ASSERT_EQUAL_FATAL(run(n, 13, in, out), SNNC_OK);
    check(out[0], SNNC_BOOL, 1, D(2), V(0, 1));
    free_all(out, 1);
    free_all(in, 2);
    node_free(n);

    /* int32 indices are accepted at load time (the evaluator widens them) */
    n = node_new("Gather", 2, 1);
    snnc_tensor *i32 = tens(SNNC_I32, 1, D(2), V(0, 5));
    snnc_vinfo vi[2] = {vi_shape(SNNC_F32, 2, D(4, 3)), vi_value(i32)}, vo[1];
    CU_ASSERT_EQUAL(infer(n, 13, vi, vo), SNNC_EINVALID); /* 5 is out of range for 4 */
    ((int32_t *)i32->data)[1] = 3;
    CU_ASSERT_EQUAL_FATAL(infer(n, 13, vi, vo), SNNC_OK);
    CU_ASSERT(vo[0].rank == 2 && vo[0].dims[0] == 2 && vo[0].dims[1] == 3);
    snnc_tensor_free(i32);
    node_free(n);
}

/* ---- Shape / ConstantOfShape / Constant / Identity ---- */

static void shape_case(int opset, int64_t start, int64_t end, bool has_end, int len,
                       const double *want)
{
    snnc_node *n = node_new("Shape", 1, 1);
    if (start)
        a_int(n, "start", start);
    if (has_end)
        a_int(n, "end", end);
    expect1(n, opset, iota(SNNC_F32, 3, D(2, 3, 4)), SNNC_I64, 1, D(len), want);
    node_free(n);
}

static void test_shape(void)
{
    shape_case(7, 0, 0, false, 3, V(2, 3, 4));
    shape_case(15, -1, 0, false, 1, V(4));
    shape_case(15, 0, -1, true, 2, V(2, 3));
    shape_case(15, 1, 2, true, 1, V(3));
    shape_case(15, -10, 10, true, 3, V(2, 3, 4)); /* both clamp */
    shape_case(15, 2, 1, true, 0, V(0));          /* empty */
    snnc_node *n = node_new("Shape", 1, 1);
    a_int(n, "start", 1);
    snnc_tensor *x[1] = {iota(SNNC_F32, 1, D(2))};
    expect_fail(n, 13, x, SNNC_EINVALID); /* start is new in 15 */
    free_all(x, 1);
    node_free(n);
}

static void test_constant_of_shape(void)
{
    snnc_node *n = node_new("ConstantOfShape", 1, 1); /* default: float zeros */
    expect1(n, 9, tens(SNNC_I64, 1, D(2), V(2, 3)), SNNC_F32, 2, D(2, 3), V(0, 0, 0, 0, 0, 0));
    expect1(n, 9, tens(SNNC_I64, 1, D(0), V(0)), SNNC_F32, 0, D(0), V(0)); /* scalar */
    snnc_tensor *x[1] = {tens(SNNC_I64, 1, D(2), V(2, -3))};
    expect_fail(n, 9, x, SNNC_EINVALID); /* negative dim */
    expect_fail(n, 8, x, SNNC_EINVALID); /* no ConstantOfShape before opset 9 */
    free_all(x, 1);
    node_free(n);

    n = node_new("ConstantOfShape", 1, 1); /* int value, zero-size output */
    a_tensor(n, "value", tens(SNNC_I32, 1, D(1), V(7))); /* stored int32, computed int64 */
    expect1(n, 9, tens(SNNC_I64, 1, D(2), V(3, 1)), SNNC_I64, 2, D(3, 1), V(7, 7, 7));
    expect1(n, 9, tens(SNNC_I64, 1, D(2), V(0, 4)), SNNC_I64, 2, D(0, 4), V(0));
    node_free(n);

    n = node_new("ConstantOfShape", 1, 1);
    a_tensor(n, "value", tens(SNNC_F32, 1, D(2), V(1, 2))); /* two elements */
    x[0] = tens(SNNC_I64, 1, D(1), V(3));
    expect_fail(n, 9, x, SNNC_EINVALID);
    free_all(x, 1);
    node_free(n);
}

static void test_constant(void)
{
    snnc_tensor *out[1];
    snnc_node *n = node_new("Constant", 0, 1);
    a_tensor(n, "value", tens(SNNC_F64, 2, D(1, 2), V(0.5, -2))); /* float64 -> float32 */
    CU_ASSERT_EQUAL_FATAL(run(n, 7, NULL, out), SNNC_OK);
    check(out[0], SNNC_F32, 2, D(1, 2), V(0.5, -2));
    free_all(out, 1);
    node_free(n);

    n = node_new("Constant", 0, 1);
    attr_add(n, "value_float", SNNC_ATTR_FLOAT)->f = 1.25f;
    CU_ASSERT_EQUAL_FATAL(run(n, 12, NULL, out), SNNC_OK);
    check(out[0], SNNC_F32, 0, D(0), V(1.25));
    free_all(out, 1);
    CU_ASSERT_EQUAL(run(n, 11, NULL, out), SNNC_EINVALID); /* value_* are new in 12 */
    free_all(out, 1);
    node_free(n);

    n = node_new("Constant", 0, 1);
    snnc_attr *a = attr_add(n, "value_floats", SNNC_ATTR_FLOATS);
    a->n = 2;
    a->floats = malloc(2 * sizeof(float));
    a->floats[0] = 3, a->floats[1] = 4;
    CU_ASSERT_EQUAL_FATAL(run(n, 13, NULL, out), SNNC_OK);
    check(out[0], SNNC_F32, 1, D(2), V(3, 4));
    free_all(out, 1);
    node_free(n);

    n = node_new("Constant", 0, 1);
    a_int(n, "value_int", -5);
    CU_ASSERT_EQUAL_FATAL(run(n, 13, NULL, out), SNNC_OK);
    check(out[0], SNNC_I64, 0, D(0), V(-5));
    free_all(out, 1);
    a_ints(n, "value_ints", 1, D(1)); /* two sources */
    CU_ASSERT_EQUAL(run(n, 13, NULL, out), SNNC_EINVALID);
    free_all(out, 1);
    node_free(n);

    n = node_new("Constant", 0, 1);
    a_ints(n, "value_ints", 3, D(4, 0, 9));
    CU_ASSERT_EQUAL_FATAL(run(n, 13, NULL, out), SNNC_OK);
    check(out[0], SNNC_I64, 1, D(3), V(4, 0, 9));
    free_all(out, 1);
    node_free(n);

    n = node_new("Constant", 0, 1);
    attr_add(n, "value_string", SNNC_ATTR_STRING)->s = strdup("hi");
    CU_ASSERT_EQUAL(run(n, 13, NULL, out), SNNC_EUNSUPPORTED);
    free_all(out, 1);
    node_free(n);

    n = node_new("Constant", 0, 1);
    attr_add(n, "sparse_value", SNNC_ATTR_OTHER);
    CU_ASSERT_EQUAL(run(n, 13, NULL, out), SNNC_EUNSUPPORTED);
    free_all(out, 1);
    node_free(n);

    n = node_new("Constant", 0, 1); /* no value at all */
    CU_ASSERT_EQUAL(run(n, 13, NULL, out), SNNC_EINVALID);
    free_all(out, 1);
    node_free(n);
}

static void test_identity(void)
{
    snnc_node *n = node_new("Identity", 1, 1);
    expect1(n, 16, tens(SNNC_BOOL, 2, D(1, 3), V(1, 0, 1)), SNNC_BOOL, 2, D(1, 3), V(1, 0, 1));
    expect1(n, 13, tens(SNNC_I64, 0, NULL, V(-4)), SNNC_I64, 0, D(0), V(-4));
    node_free(n);
}

/* ---- Reshape / Flatten ---- */

static void reshape_case(int opset, int allowzero, snnc_tensor *x, snnc_tensor *shape, int rank,
                         const int64_t *dims)
{
    snnc_node *n = node_new("Reshape", 2, 1);
    if (allowzero >= 0)
        a_int(n, "allowzero", allowzero);
    snnc_tensor *in[2] = {x, shape}, *out[1];
    CU_ASSERT_EQUAL_FATAL(run(n, opset, in, out), SNNC_OK);
    CU_ASSERT_EQUAL_FATAL(out[0]->rank, rank);
    for (int k = 0; k < rank; k++)
        CU_ASSERT_EQUAL(out[0]->dims[k], dims[k]);
    CU_ASSERT_EQUAL(out[0]->count, x->count);
    for (int64_t i = 0; i < x->count; i++) /* row-major order is kept */
        CU_ASSERT_EQUAL(snnc_tensor_get_f(out[0], i), snnc_tensor_get_f(x, i));
    free_all(in, 2);
    free_all(out, 1);
    node_free(n);
}

static void reshape_fail(int opset, int allowzero, snnc_tensor *x, snnc_tensor *shape)
{
    snnc_node *n = node_new("Reshape", 2, 1);
    if (allowzero >= 0)
        a_int(n, "allowzero", allowzero);
    snnc_tensor *in[2] = {x, shape};
    expect_fail(n, opset, in, SNNC_EINVALID);
    free_all(in, 2);
    node_free(n);
}

static void test_reshape(void)
{
    /* 0 copies dim 1 (3); -1 becomes 24 / (4*3) = 2 */
    reshape_case(7, -1, iota(SNNC_F32, 3, D(2, 3, 4)), tens(SNNC_I64, 1, D(3), V(4, 0, -1)), 3,
                 D(4, 3, 2));
    reshape_case(13, -1, iota(SNNC_I64, 2, D(2, 3)), tens(SNNC_I64, 1, D(1), V(-1)), 1, D(6));
    reshape_case(13, -1, iota(SNNC_BOOL, 1, D(1)), tens(SNNC_I64, 1, D(0), V(0)), 0, D(0));
    /* allowzero=1 keeps the 0: [0,3] -> [3,0] */
    reshape_case(14, 1, iota(SNNC_F32, 2, D(0, 3)), tens(SNNC_I64, 1, D(2), V(3, 0)), 2, D(3, 0));
    /* without it, 0 copies: [0,3] with shape [3,0] would be [3,3], 9 != 0 elements */
    reshape_fail(14, 0, iota(SNNC_F32, 2, D(0, 3)), tens(SNNC_I64, 1, D(2), V(3, 0)));
    reshape_fail(13, 1, iota(SNNC_F32, 1, D(4)), tens(SNNC_I64, 1, D(1), V(4))); /* too early */
    reshape_fail(14, 1, iota(SNNC_F32, 1, D(4)), tens(SNNC_I64, 1, D(2), V(0, -1)));
    reshape_fail(13, -1, iota(SNNC_F32, 2, D(2, 3)), tens(SNNC_I64, 1, D(2), V(5, 5)));
    reshape_fail(13, -1, iota(SNNC_F32, 2, D(2, 3)), tens(SNNC_I64, 1, D(2), V(-1, -1)));
    reshape_fail(13, -1, iota(SNNC_F32, 2, D(2, 3)), tens(SNNC_I64, 1, D(2), V(4, -1)));
    reshape_fail(13, -1, iota(SNNC_F32, 2, D(2, 3)), tens(SNNC_I64, 1, D(2), V(6, -2)));
    reshape_fail(13, -1, iota(SNNC_F32, 1, D(6)), tens(SNNC_I64, 1, D(2), V(6, 0)));
}

static void flatten_case(int opset, int64_t axis, int64_t d0, int64_t d1)
{
    snnc_node *n = node_new("Flatten", 1, 1);
    a_int(n, "axis", axis);
    snnc_tensor *in[1] = {iota(SNNC_F32, 3, D(2, 3, 4))}, *out[1];
    CU_ASSERT_EQUAL_FATAL(run(n, opset, in, out), SNNC_OK);
    CU_ASSERT(out[0]->rank == 2 && out[0]->dims[0] == d0 && out[0]->dims[1] == d1);
    CU_ASSERT_EQUAL(snnc_f32(out[0])[23], 23);
    free_all(in, 1);
    free_all(out, 1);
    node_free(n);
}

static void test_flatten(void)
{
    flatten_case(9, 0, 1, 24);
    flatten_case(9, 2, 6, 4);
    flatten_case(9, 3, 24, 1);
    flatten_case(11, -1, 6, 4);
    flatten_case(13, -3, 1, 24);
    snnc_node *n = node_new("Flatten", 1, 1);
    a_int(n, "axis", -1);
    snnc_tensor *x[1] = {iota(SNNC_F32, 2, D(2, 3))};
    expect_fail(n, 9, x, SNNC_EINVALID); /* negative axis needs opset 11 */
    n->attrs[0].i = 3;
    expect_fail(n, 13, x, SNNC_EINVALID);
    free_all(x, 1);
    node_free(n);
}

/* ---- Expand / Tile ---- */

static void test_expand(void)
{
    snnc_node *n = node_new("Expand", 2, 1);
    /* [3,1] to [2,1,4]: out[i][j][k] = x[j] */
    snnc_tensor *in[2] = {tens(SNNC_F32, 2, D(3, 1), V(1, 2, 3)),
                          tens(SNNC_I64, 1, D(3), V(2, 1, 4))},
                *out[1];
    CU_ASSERT_EQUAL_FATAL(run(n, 8, in, out), SNNC_OK);
    CU_ASSERT(out[0]->rank == 3 && out[0]->dims[0] == 2 && out[0]->dims[1] == 3 &&
              out[0]->dims[2] == 4);
    for (int i = 0; i < 24; i++)
        CU_ASSERT_EQUAL(snnc_f32(out[0])[i], 1 + (i / 4) % 3);
    free_all(out, 1);
    expect_fail(n, 7, in, SNNC_EINVALID); /* no Expand before opset 8 */
    free_all(in, 2);
    /* shape smaller than the input keeps the input's dims */
    in[0] = tens(SNNC_I64, 2, D(2, 2), V(1, 2, 3, 4));
    in[1] = tens(SNNC_I64, 1, D(1), V(1));
    CU_ASSERT_EQUAL_FATAL(run(n, 13, in, out), SNNC_OK);
    check(out[0], SNNC_I64, 2, D(2, 2), V(1, 2, 3, 4));
    free_all(out, 1);
    snnc_i64(in[1])[0] = 3; /* 2 vs 3 */
    expect_fail(n, 13, in, SNNC_EINVALID);
    free_all(in, 2);
    node_free(n);
}

static void test_tile(void)
{
    snnc_node *n = node_new("Tile", 2, 1);
    snnc_tensor *in[2] = {tens(SNNC_F32, 2, D(2, 2), V(1, 2, 3, 4)),
                          tens(SNNC_I64, 1, D(2), V(1, 2))},
                *out[1];
    CU_ASSERT_EQUAL_FATAL(run(n, 13, in, out), SNNC_OK);
    check(out[0], SNNC_F32, 2, D(2, 4), V(1, 2, 1, 2, 3, 4, 3, 4));
    free_all(out, 1);
    snnc_i64(in[1])[0] = 2, snnc_i64(in[1])[1] = 1;
    CU_ASSERT_EQUAL_FATAL(run(n, 6, in, out), SNNC_OK);
    check(out[0], SNNC_F32, 2, D(4, 2), V(1, 2, 3, 4, 1, 2, 3, 4));
    free_all(out, 1);
    snnc_i64(in[1])[1] = -1;
    expect_fail(n, 13, in, SNNC_EINVALID);
    free_all(in, 2);
    in[0] = tens(SNNC_BOOL, 1, D(2), V(1, 0));
    in[1] = tens(SNNC_I64, 1, D(1), V(3));
    CU_ASSERT_EQUAL_FATAL(run(n, 13, in, out), SNNC_OK);
    check(out[0], SNNC_BOOL, 1, D(6), V(1, 0, 1, 0, 1, 0));
    free_all(out, 1);
    free_all(in, 2);
    in[0] = tens(SNNC_F32, 2, D(1, 1), V(1));
    in[1] = tens(SNNC_I64, 1, D(1), V(3)); /* one repeat for rank 2 */
    expect_fail(n, 13, in, SNNC_EINVALID);
    free_all(in, 2);
    node_free(n);
}

/* ---- symbolic shapes at load time ---- */

/* x: [batch,3,5].  Shape -> Gather(0) -> Unsqueeze -> Concat([1], ., [16])
 * -> ConstantOfShape must give [1,batch,16] with batch still a symbol. */
static void test_symbolic_chain(void)
{
    graph = snnc_graph_new();
    int64_t B = SNNC_SYM(snnc_graph_symbol(graph, "batch"));
    snnc_vinfo x = vi_shape(SNNC_F32, 3, D(B, 3, 5)), s[1], g[1], u[1], cat[1], z[1];

    snnc_node *n = node_new("Shape", 1, 1);
    CU_ASSERT_EQUAL_FATAL(infer(n, 13, &x, s), SNNC_OK);
    CU_ASSERT(s[0].dtype == SNNC_I64 && s[0].rank == 1 && s[0].dims[0] == 3);
    CU_ASSERT_EQUAL_FATAL(s[0].n_symval, 3);
    CU_ASSERT(s[0].symval[0] == B && s[0].symval[1] == 3 && s[0].symval[2] == 5);
    node_free(n);

    n = node_new("Gather", 2, 1);
    snnc_tensor *zero = tens(SNNC_I64, 0, NULL, V(0));
    snnc_vinfo gin[2] = {s[0], vi_value(zero)};
    CU_ASSERT_EQUAL_FATAL(infer(n, 13, gin, g), SNNC_OK);
    CU_ASSERT(g[0].rank == 0 && g[0].n_symval == 1 && g[0].symval[0] == B);
    node_free(n);

    n = node_new("Unsqueeze", 2, 1);
    snnc_tensor *axes = tens(SNNC_I64, 1, D(1), V(0));
    snnc_vinfo uin[2] = {g[0], vi_value(axes)};
    CU_ASSERT_EQUAL_FATAL(infer(n, 13, uin, u), SNNC_OK);
    CU_ASSERT(u[0].rank == 1 && u[0].dims[0] == 1 && u[0].n_symval == 1 && u[0].symval[0] == B);
    node_free(n);

    n = node_new("Concat", 3, 1);
    a_int(n, "axis", 0);
    snnc_tensor *one = tens(SNNC_I64, 1, D(1), V(1)), *h = tens(SNNC_I64, 1, D(1), V(16));
    snnc_vinfo cin[3] = {vi_value(one), u[0], vi_value(h)};
    CU_ASSERT_EQUAL_FATAL(infer(n, 13, cin, cat), SNNC_OK);
    CU_ASSERT(cat[0].rank == 1 && cat[0].dims[0] == 3 && cat[0].n_symval == 3);
    CU_ASSERT(cat[0].symval[0] == 1 && cat[0].symval[1] == B && cat[0].symval[2] == 16);
    node_free(n);

    n = node_new("ConstantOfShape", 1, 1);
    CU_ASSERT_EQUAL_FATAL(infer(n, 13, cat, z), SNNC_OK);
    CU_ASSERT(z[0].dtype == SNNC_F32 && z[0].rank == 3);
    CU_ASSERT(z[0].dims[0] == 1 && z[0].dims[1] == B && z[0].dims[2] == 16);
    node_free(n);

    /* the same shape drives Expand of a [1,1,16] to [1,batch,16] */
    n = node_new("Expand", 2, 1);
    snnc_vinfo ein[2] = {vi_shape(SNNC_F32, 3, D(1, 1, 16)), cat[0]};
    CU_ASSERT_EQUAL_FATAL(infer(n, 13, ein, z), SNNC_OK);
    CU_ASSERT(z[0].rank == 3 && z[0].dims[0] == 1 && z[0].dims[1] == B && z[0].dims[2] == 16);
    node_free(n);

    /* Slice of the shape: x.shape[1:] is the known [3,5] */
    n = node_new("Slice", 3, 1);
    snnc_tensor *st = tens(SNNC_I64, 1, D(1), V(1)), *en = tens(SNNC_I64, 1, D(1), V(0));
    snnc_i64(en)[0] = BIG;
    snnc_vinfo sin[3] = {s[0], vi_value(st), vi_value(en)};
    CU_ASSERT_EQUAL_FATAL(infer(n, 13, sin, z), SNNC_OK);
    CU_ASSERT(z[0].rank == 1 && z[0].dims[0] == 2 && z[0].n_symval == 2);
    CU_ASSERT(z[0].symval[0] == 3 && z[0].symval[1] == 5);
    node_free(n);

    /* Squeeze of the unsqueezed [batch] gives back a tracked scalar */
    n = node_new("Squeeze", 1, 1);
    CU_ASSERT_EQUAL_FATAL(infer(n, 13, u, z), SNNC_OK);
    CU_ASSERT(z[0].rank == 0 && z[0].n_symval == 1 && z[0].symval[0] == B);
    node_free(n);

    /* Split of the shape [batch,3,5] into [batch] and [3,5] */
    n = node_new("Split", 2, 2);
    snnc_tensor *sizes = tens(SNNC_I64, 1, D(2), V(1, 2));
    snnc_vinfo pin[2] = {s[0], vi_value(sizes)}, parts[2];
    CU_ASSERT_EQUAL_FATAL(infer(n, 13, pin, parts), SNNC_OK);
    CU_ASSERT(parts[0].n_symval == 1 && parts[0].symval[0] == B);
    CU_ASSERT(parts[1].n_symval == 2 && parts[1].symval[0] == 3 && parts[1].symval[1] == 5);
    node_free(n);

    /* Tile of a [1,16] by [batch,1] -> [batch,16] */
    n = node_new("Tile", 2, 1);
    snnc_vinfo rep = cat[0];
    rep.n_symval = 2, rep.dims[0] = 2, rep.symval[0] = B, rep.symval[1] = 1;
    snnc_vinfo tin[2] = {vi_shape(SNNC_BOOL, 2, D(1, 16)), rep};
    CU_ASSERT_EQUAL_FATAL(infer(n, 13, tin, z), SNNC_OK);
    CU_ASSERT(z[0].dtype == SNNC_BOOL && z[0].dims[0] == B && z[0].dims[1] == 16);
    node_free(n);

    snnc_tensor_free(zero), snnc_tensor_free(axes), snnc_tensor_free(one), snnc_tensor_free(h);
    snnc_tensor_free(st), snnc_tensor_free(en), snnc_tensor_free(sizes);
    snnc_graph_free(graph);
    graph = NULL;
}

/* Reshape and Flatten on symbolic inputs: symbols cancel where they can. */
static void test_symbolic_reshape(void)
{
    graph = snnc_graph_new();
    int64_t B = SNNC_SYM(snnc_graph_symbol(graph, "batch"));
    snnc_vinfo out[1];
    snnc_node *n = node_new("Reshape", 2, 1);
    /* [batch,3,5] with a known [-1,15]: -1 = batch*15/15 = batch */
    snnc_tensor *t = tens(SNNC_I64, 1, D(2), V(-1, 15));
    snnc_vinfo in[2] = {vi_shape(SNNC_F32, 3, D(B, 3, 5)), vi_value(t)};
    CU_ASSERT_EQUAL_FATAL(infer(n, 13, in, out), SNNC_OK);
    CU_ASSERT(out[0].rank == 2 && out[0].dims[0] == B && out[0].dims[1] == 15);
    /* [0,-1]: batch copied, -1 = 15 */
    snnc_i64(t)[0] = 0, snnc_i64(t)[1] = -1;
    CU_ASSERT_EQUAL_FATAL(infer(n, 13, in, out), SNNC_OK);
    CU_ASSERT(out[0].dims[0] == B && out[0].dims[1] == 15);
    /* [-1,7]: 15*batch/7 is not decidable; a fresh symbol, not a failure */
    snnc_i64(t)[0] = -1, snnc_i64(t)[1] = 7;
    CU_ASSERT_EQUAL_FATAL(infer(n, 13, in, out), SNNC_OK);
    CU_ASSERT(SNNC_IS_SYM(out[0].dims[0]) && out[0].dims[0] != B && out[0].dims[1] == 7);
    /* a tracked shape [batch,15] */
    snnc_vinfo tr = vi_shape(SNNC_I64, 1, D(2));
    tr.n_symval = 2, tr.symval[0] = B, tr.symval[1] = 15;
    in[1] = tr;
    CU_ASSERT_EQUAL_FATAL(infer(n, 13, in, out), SNNC_OK);
    CU_ASSERT(out[0].dims[0] == B && out[0].dims[1] == 15);
    /* a shape whose contents are unknown but whose length is 4: rank 4 */
    in[1] = vi_shape(SNNC_I64, 1, D(4));
    CU_ASSERT_EQUAL_FATAL(infer(n, 13, in, out), SNNC_OK);
    CU_ASSERT_EQUAL(out[0].rank, 4);
    /* element counts that cannot match even with batch: [batch,3,5] vs [batch,16] */
    tr.symval[1] = 16;
    in[1] = tr;
    CU_ASSERT_EQUAL(infer(n, 13, in, out), SNNC_EINVALID);
    node_free(n);
    snnc_tensor_free(t);

    /* x.view(B, -1): Concat([batch], [-1]) -> Reshape.  -1 can be tracked only
     * when no symbol is numbered -1 (SNNC_SYM counting from -2). */
    n = node_new("Concat", 2, 1);
    a_int(n, "axis", 0);
    snnc_tensor *m1 = tens(SNNC_I64, 1, D(1), V(-1));
    snnc_vinfo b1 = vi_shape(SNNC_I64, 1, D(1));
    b1.n_symval = 1, b1.symval[0] = B;
    snnc_vinfo cin[2] = {b1, vi_value(m1)}, cat[1];
    CU_ASSERT_EQUAL_FATAL(infer(n, 13, cin, cat), SNNC_OK);
    CU_ASSERT(cat[0].rank == 1 && cat[0].dims[0] == 2);
    node_free(n);
    n = node_new("Reshape", 2, 1);
    snnc_vinfo rin[2] = {vi_shape(SNNC_F32, 3, D(B, 3, 5)), cat[0]};
    CU_ASSERT_EQUAL_FATAL(infer(n, 13, rin, out), SNNC_OK);
    CU_ASSERT_EQUAL(out[0].rank, 2);
    if (SNNC_SYM(0) < -1) {
        CU_ASSERT(cat[0].n_symval == 2 && cat[0].symval[0] == B && cat[0].symval[1] == -1);
        CU_ASSERT(out[0].dims[0] == B && out[0].dims[1] == 15);
    } else {
        CU_ASSERT_EQUAL(cat[0].n_symval, -1); /* -1 would read as a symbol */
    }
    node_free(n);
    snnc_tensor_free(m1);

    n = node_new("Flatten", 1, 1); /* [batch,3,5] axis 1 -> [batch,15] */
    snnc_vinfo fx = vi_shape(SNNC_F32, 3, D(B, 3, 5));
    CU_ASSERT_EQUAL_FATAL(infer(n, 13, &fx, out), SNNC_OK);
    CU_ASSERT(out[0].dims[0] == B && out[0].dims[1] == 15);
    node_free(n);
    snnc_graph_free(graph);
    graph = NULL;
}

/* What is not known at load time gives what is known, not a failure. */
static void test_symbolic_unknowns(void)
{
    graph = snnc_graph_new();
    int64_t B = SNNC_SYM(snnc_graph_symbol(graph, "batch"));
    snnc_vinfo out[2];
    /* ConstantOfShape of a shape of length 3 with unknown contents: rank 3 */
    snnc_node *n = node_new("ConstantOfShape", 1, 1);
    snnc_vinfo s = vi_shape(SNNC_I64, 1, D(3));
    CU_ASSERT_EQUAL_FATAL(infer(n, 13, &s, out), SNNC_OK);
    CU_ASSERT(out[0].rank == 3 && SNNC_IS_SYM(out[0].dims[0]) && SNNC_IS_SYM(out[0].dims[2]));
    node_free(n);

    /* Shape of an input of unknown rank: a 1-D int64 of unknown length */
    n = node_new("Shape", 1, 1);
    snnc_vinfo u = vi_unknown();
    u.present = true;
    CU_ASSERT_EQUAL_FATAL(infer(n, 13, &u, out), SNNC_OK);
    CU_ASSERT(out[0].dtype == SNNC_I64 && out[0].rank == 1 && out[0].n_symval == -1);
    node_free(n);

    /* Slice of a symbolic axis: the full range keeps the symbol, x[:, -3:]
     * on a concrete axis is exact, a partial range of the symbol is fresh */
    n = node_new("Slice", 4, 1);
    snnc_tensor *st = tens(SNNC_I64, 1, D(2), V(0, -3)), *en = tens(SNNC_I64, 1, D(2), V(0, 0)),
                *ax = tens(SNNC_I64, 1, D(2), V(0, 1));
    snnc_i64(en)[0] = BIG, snnc_i64(en)[1] = BIG;
    snnc_vinfo in[4] = {vi_shape(SNNC_F32, 3, D(B, 7, 16)), vi_value(st), vi_value(en),
                        vi_value(ax)};
    CU_ASSERT_EQUAL_FATAL(infer(n, 13, in, out), SNNC_OK);
    CU_ASSERT(out[0].dims[0] == B && out[0].dims[1] == 3 && out[0].dims[2] == 16);
    snnc_i64(st)[0] = 1;
    CU_ASSERT_EQUAL_FATAL(infer(n, 13, in, out), SNNC_OK);
    CU_ASSERT(SNNC_IS_SYM(out[0].dims[0]) && out[0].dims[0] != B && out[0].dims[1] == 3);
    /* starts unknown: the axes listed become unknown, the others stay */
    in[1] = vi_shape(SNNC_I64, 1, D(2));
    CU_ASSERT_EQUAL_FATAL(infer(n, 13, in, out), SNNC_OK);
    CU_ASSERT(out[0].rank == 3 && out[0].dims[2] == 16 && SNNC_IS_SYM(out[0].dims[1]));
    node_free(n);
    snnc_tensor_free(st), snnc_tensor_free(en), snnc_tensor_free(ax);

    /* Split of a symbolic axis in two equal parts: sizes unknown, rest kept */
    n = node_new("Split", 1, 2);
    snnc_vinfo x = vi_shape(SNNC_F32, 2, D(B, 4));
    CU_ASSERT_EQUAL_FATAL(infer(n, 13, &x, out), SNNC_OK);
    CU_ASSERT(SNNC_IS_SYM(out[0].dims[0]) && out[0].dims[1] == 4 && out[1].dims[1] == 4);
    node_free(n);

    /* Concat of [batch,4] and [2,4] on axis 1 settles batch = 2 */
    n = node_new("Concat", 2, 1);
    a_int(n, "axis", 1);
    snnc_vinfo cin[2] = {vi_shape(SNNC_F32, 2, D(B, 4)), vi_shape(SNNC_F32, 2, D(2, 4))};
    CU_ASSERT_EQUAL_FATAL(infer(n, 13, cin, out), SNNC_OK);
    CU_ASSERT(out[0].dims[0] == 2 && out[0].dims[1] == 8);
    node_free(n);
    snnc_graph_free(graph);
    graph = NULL;
}

/* A large strided case against a direct index computation: Slice with
 * negative and positive steps over a [5,6,7] int64 tensor. */
static void test_slice_3d(void)
{
    snnc_node *n = node_new("Slice", 5, 1);
    snnc_tensor *in[5] = {iota(SNNC_I64, 3, D(5, 6, 7)), tens(SNNC_I64, 1, D(3), V(4, 1, -1)),
                          tens(SNNC_I64, 1, D(3), V(-100, 6, 0)), tens(SNNC_I64, 1, D(3), V(0, 1, 2)),
                          tens(SNNC_I64, 1, D(3), V(-2, 2, -3))},
                *out[1];
    CU_ASSERT_EQUAL_FATAL(run(n, 13, in, out), SNNC_OK);
    /* axis 0: 4,2,0; axis 1: 1,3,5; axis 2: 6,3 */
    CU_ASSERT(out[0]->dims[0] == 3 && out[0]->dims[1] == 3 && out[0]->dims[2] == 2);
    const int i0[] = {4, 2, 0}, i1[] = {1, 3, 5}, i2[] = {6, 3};
    for (int a = 0; a < 3; a++)
        for (int b = 0; b < 3; b++)
            for (int k = 0; k < 2; k++)
                CU_ASSERT_EQUAL(snnc_i64(out[0])[(a * 3 + b) * 2 + k], (i0[a] * 6 + i1[b]) * 7 + i2[k]);
    free_all(out, 1);
    free_all(in, 5);
    node_free(n);
}

/* Malformed attributes and inputs fail with a status. */
static void test_malformed(void)
{
    snnc_node *n = node_new("Concat", 1, 1); /* no axis */
    snnc_tensor *x[2] = {iota(SNNC_F32, 1, D(2)), NULL};
    expect_fail(n, 13, x, SNNC_EINVALID);
    node_free(n);

    n = node_new("Transpose", 1, 1);
    attr_add(n, "perm", SNNC_ATTR_STRING)->s = strdup("0,1");
    expect_fail(n, 13, x, SNNC_EINVALID);
    node_free(n);

    n = node_new("Gather", 2, 1); /* float indices */
    x[1] = tens(SNNC_F32, 1, D(1), V(0));
    expect_fail(n, 13, x, SNNC_EINVALID);
    free_all(x, 2);
    x[0] = tens(SNNC_F32, 0, NULL, V(1)); /* scalar data */
    x[1] = tens(SNNC_I64, 0, NULL, V(0));
    expect_fail(n, 13, x, SNNC_EINVALID);
    free_all(x, 2);
    node_free(n);

    n = node_new("Reshape", 2, 1); /* 2-D shape input */
    x[0] = iota(SNNC_F32, 1, D(4));
    x[1] = tens(SNNC_I64, 2, D(2, 1), V(2, 2));
    expect_fail(n, 13, x, SNNC_EINVALID);
    free_all(x, 2);
    node_free(n);

    n = node_new("Split", 1, 2); /* split attribute at opset 13 */
    a_ints(n, "split", 2, D(1, 1));
    x[0] = iota(SNNC_F32, 1, D(2));
    expect_fail(n, 13, x, SNNC_EINVALID);
    n->attrs[0].ints[1] = -1; /* negative size */
    n->attrs[0].ints[0] = 3;
    expect_fail(n, 11, x, SNNC_EINVALID);
    n->attrs[0].n = 1; /* one size for two outputs */
    expect_fail(n, 11, x, SNNC_EINVALID);
    free_all(x, 1);
    node_free(n);

    n = node_new("Slice", 1, 1); /* opset 13 without starts/ends inputs */
    x[0] = iota(SNNC_F32, 1, D(2));
    expect_fail(n, 13, x, SNNC_EINVALID);
    a_ints(n, "starts", 1, D(0)); /* opset 7 without ends */
    expect_fail(n, 7, x, SNNC_EINVALID);
    free_all(x, 1);
    node_free(n);

    n = node_new("Unsqueeze", 1, 1); /* output rank above SNNC_MAX_RANK */
    a_ints(n, "axes", 2, D(0, 1));
    x[0] = iota(SNNC_F32, 7, D(1, 1, 1, 1, 1, 1, 2));
    expect_fail(n, 11, x, SNNC_EUNSUPPORTED);
    free_all(x, 1);
    node_free(n);

    n = node_new("Tile", 2, 1); /* overflowing repeats */
    x[0] = iota(SNNC_F32, 1, D(4));
    x[1] = tens(SNNC_I64, 1, D(1), V(0));
    snnc_i64(x[1])[0] = INT64_MAX / 2;
    snnc_tensor *out[1];
    CU_ASSERT_NOT_EQUAL(run(n, 13, x, out), SNNC_OK);
    free_all(out, 1);
    free_all(x, 2);
    node_free(n);
}

static CU_TestInfo tests[] = {
    {"Transpose", test_transpose},
    {"Transpose rejects bad perms", test_transpose_bad_perm},
    {"Squeeze", test_squeeze},
    {"Unsqueeze", test_unsqueeze},
    {"Concat", test_concat},
    {"Split", test_split},
    {"Slice, attributes (opset < 10)", test_slice_attributes},
    {"Slice, inputs and clamping", test_slice_inputs},
    {"Slice, 3-D with steps", test_slice_3d},
    {"Gather", test_gather},
    {"Shape", test_shape},
    {"ConstantOfShape", test_constant_of_shape},
    {"Constant", test_constant},
    {"Identity", test_identity},
    {"Reshape", test_reshape},
    {"Flatten", test_flatten},
    {"Expand", test_expand},
    {"Tile", test_tile},
    {"symbolic Shape->Gather->Unsqueeze->Concat->ConstantOfShape", test_symbolic_chain},
    {"symbolic Reshape and Flatten", test_symbolic_reshape},
    {"symbolic: unknown inputs give partial shapes", test_symbolic_unknowns},
    {"malformed nodes fail cleanly", test_malformed},
    CU_TEST_INFO_NULL,
};

SNNC_TEST_MAIN("layout")
