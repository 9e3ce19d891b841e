/* test_recurrent.c — unit tests of the Gemm/MatMul (ops/matmul.c) and
 * RNN/GRU/LSTM (ops/recurrent.c) operator hooks, called directly through
 * the operator table.
 *
 * Expected values are hand-derived (small hidden sizes with chosen
 * weights; the decimals were evaluated with numpy from the ONNX
 * equations), or properties that must hold independently of the
 * implementation (reverse == forward on a time-reversed input,
 * bidirectional == forward + reverse, layout 1 == transposed layout 0,
 * batch entries independent under sequence_lens). */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "ops/op.h"

/* ------------------------------------------------------------- fixtures */

#define MAXA 8

typedef struct node_fix {
    snnc_node node;
    snnc_attr attrs[MAXA];
    int ins[8], outs[3];
    char *strs[8];
    float floats[8];
} node_fix;

static void fix_init(node_fix *f, const char *op, int n_in, int n_out)
{
    memset(f, 0, sizeof *f);
    f->node.name = "n0";
    f->node.op_type = (char *)op;
    f->node.domain = "";
    f->node.n_inputs = n_in;
    f->node.n_outputs = n_out;
    f->node.inputs = f->ins;
    f->node.outputs = f->outs;
    f->node.attrs = f->attrs;
    for (int i = 0; i < 8; i++)
        f->ins[i] = i;
    for (int j = 0; j < 3; j++)
        f->outs[j] = 10 + j;
}

static snnc_attr *add_attr(node_fix *f, const char *name, snnc_attr_kind kind)
{
    snnc_attr *a = &f->attrs[f->node.n_attrs++];
    a->name = (char *)name;
    a->kind = kind;
    return a;
}
static void attr_i(node_fix *f, const char *name, int64_t v) { add_attr(f, name, SNNC_ATTR_INT)->i = v; }
static void attr_f(node_fix *f, const char *name, float v) { add_attr(f, name, SNNC_ATTR_FLOAT)->f = v; }
static void attr_s(node_fix *f, const char *name, const char *v)
{
    add_attr(f, name, SNNC_ATTR_STRING)->s = (char *)v;
}
/* A STRINGS attribute from n names (stored in the fixture). */
static void attr_ss(node_fix *f, const char *name, int n, ...)
{
    snnc_attr *a = add_attr(f, name, SNNC_ATTR_STRINGS);
    va_list ap;
    va_start(ap, n);
    for (int i = 0; i < n; i++)
        f->strs[i] = va_arg(ap, char *);
    va_end(ap);
    a->n = n;
    a->strings = f->strs;
}
static void attr_fs(node_fix *f, const char *name, int n, const float *v)
{
    snnc_attr *a = add_attr(f, name, SNNC_ATTR_FLOATS);
    a->n = n;
    a->floats = (float *)v;
}

static snnc_tensor *tens(snnc_dtype dt, int rank, const int64_t *dims, const void *data)
{
    snnc_err err = {0};
    snnc_tensor *t = snnc_tensor_new(dt, rank, dims, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    if (data && t->count)
        memcpy(t->data, data, (size_t)t->count * snnc_dtype_size(dt));
    return t;
}
#define F32(rank, dims, data) tens(SNNC_F32, rank, (const int64_t[])dims, data)
#define D(...) {__VA_ARGS__}

/* Deterministic values in [-1, 1). */
static snnc_tensor *rnd(int rank, const int64_t *dims, unsigned seed)
{
    snnc_tensor *t = tens(SNNC_F32, rank, dims, NULL);
    unsigned s = seed * 2654435761u + 12345u;
    for (int64_t i = 0; i < t->count; i++) {
        s = s * 1664525u + 1013904223u;
        snnc_f32(t)[i] = (float)((s >> 8) & 0xffff) / 32768.0f - 1.0f;
    }
    return t;
}

/* Run infer then compute; out[j] receive new tensors (NULL for outputs
 * whose mask bit is clear, as the evaluator does for omitted outputs). */
static int run_op(node_fix *f, int opset, const snnc_tensor *const *in, snnc_tensor **out,
                  unsigned omit_mask, snnc_err *err)
{
    const snnc_node *n = &f->node;
    int op = snnc_op_lookup(n->op_type);
    CU_ASSERT_FATAL(op >= 0);
    const snnc_op_def *def = snnc_op_get(op);
    snnc_opctx c = {.node = n, .graph = NULL, .opset = opset, .runtime = true, .err = err};
    snnc_vinfo vin[8], vout[3];
    memset(vin, 0, sizeof vin);
    memset(vout, 0, sizeof vout);
    for (int i = 0; i < n->n_inputs; i++) {
        vin[i].rank = -1;
        vin[i].n_symval = -1;
        if (!in[i])
            continue;
        vin[i].present = true;
        vin[i].dtype = in[i]->dtype;
        vin[i].rank = in[i]->rank;
        memcpy(vin[i].dims, in[i]->dims, sizeof in[i]->dims);
        vin[i].value = in[i];
    }
    for (int j = 0; j < n->n_outputs; j++) {
        vout[j].rank = -1;
        vout[j].n_symval = -1;
        out[j] = NULL;
    }
    int rc = def->infer(&c, vin, vout);
    if (rc)
        return rc;
    for (int j = 0; j < n->n_outputs; j++)
        if (!(omit_mask >> j & 1)) {
            out[j] = snnc_tensor_new(vout[j].dtype, vout[j].rank, vout[j].dims, err);
            CU_ASSERT_PTR_NOT_NULL_FATAL(out[j]);
        }
    return def->compute(&c, in, out);
}

static void free_all(snnc_tensor **t, int n)
{
    for (int i = 0; i < n; i++) {
        snnc_tensor_free(t[i]);
        t[i] = NULL;
    }
}

static void assert_dims(const snnc_tensor *t, int rank, const int64_t *dims)
{
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    CU_ASSERT_EQUAL_FATAL(t->rank, rank);
    for (int i = 0; i < rank; i++)
        CU_ASSERT_EQUAL(t->dims[i], dims[i]);
}

static void assert_vals(const snnc_tensor *t, const float *want, int64_t n, double tol)
{
    CU_ASSERT_EQUAL_FATAL(t->count, n);
    for (int64_t i = 0; i < n; i++)
        SNNC_ASSERT_CLOSE(snnc_f32(t)[i], want[i], tol, tol);
}

static void assert_same(const float *a, const float *b, int64_t n)
{
    for (int64_t i = 0; i < n; i++)
        SNNC_ASSERT_CLOSE(a[i], b[i], 1e-5, 1e-6);
}

/* ------------------------------------------------------------ Gemm/MatMul */

static void test_gemm_transposes_and_broadcast(void)
{
    /* A^T with A = [[1,3],[2,4]] is [[1,2],[3,4]]; B^T with
     * B = [[1,0],[1,1],[0,2]] (3x2) is [[1,1,0],[0,1,2]].
     * A'B' = [[1,3,4],[3,7,8]]; alpha 2, beta 0.5, C = [10,20,30]. */
    node_fix f;
    snnc_err err = {0};
    snnc_tensor *a = F32(2, D(2, 2), ((float[]){1, 3, 2, 4}));
    snnc_tensor *b = F32(2, D(3, 2), ((float[]){1, 0, 1, 1, 0, 2}));
    snnc_tensor *cv = F32(1, D(3), ((float[]){10, 20, 30}));
    snnc_tensor *out[1];
    fix_init(&f, "Gemm", 3, 1);
    attr_i(&f, "transA", 1);
    attr_i(&f, "transB", 1);
    attr_f(&f, "alpha", 2.0f);
    attr_f(&f, "beta", 0.5f);
    CU_ASSERT_EQUAL_FATAL(run_op(&f, 13, (const snnc_tensor *[]){a, b, cv}, out, 0, &err), SNNC_OK);
    assert_dims(out[0], 2, (int64_t[]){2, 3});
    assert_vals(out[0], (float[]){7, 16, 23, 11, 24, 31}, 6, 1e-6);
    free_all(out, 1);

    /* C as a column [2,1] broadcast along N, and as a scalar. */
    snnc_tensor *ccol = F32(2, D(2, 1), ((float[]){100, 200}));
    CU_ASSERT_EQUAL_FATAL(run_op(&f, 13, (const snnc_tensor *[]){a, b, ccol}, out, 0, &err), SNNC_OK);
    assert_vals(out[0], (float[]){52, 56, 58, 106, 114, 116}, 6, 1e-6);
    free_all(out, 1);
    snnc_tensor *cs = F32(0, D(0), ((float[]){-2}));
    CU_ASSERT_EQUAL_FATAL(run_op(&f, 13, (const snnc_tensor *[]){a, b, cs}, out, 0, &err), SNNC_OK);
    assert_vals(out[0], (float[]){1, 5, 7, 5, 13, 15}, 6, 1e-6);
    free_all(out, 1);

    /* No C (allowed from opset 11), defaults: plain A·B with B = 2x3. */
    fix_init(&f, "Gemm", 2, 1);
    snnc_tensor *b2 = F32(2, D(2, 3), ((float[]){1, 0, 1, 0, 1, 1}));
    CU_ASSERT_EQUAL_FATAL(run_op(&f, 11, (const snnc_tensor *[]){a, b2}, out, 0, &err), SNNC_OK);
    assert_vals(out[0], (float[]){1, 3, 4, 2, 4, 6}, 6, 1e-6);
    free_all(out, 1);
    snnc_tensor *ts[] = {a, b, cv, ccol, cs, b2};
    free_all(ts, 6);
}

static void test_gemm_int64(void)
{
    node_fix f;
    snnc_err err = {0};
    snnc_tensor *a = tens(SNNC_I64, 2, (int64_t[]){1, 2}, (int64_t[]){3, -4});
    snnc_tensor *b = tens(SNNC_I64, 2, (int64_t[]){2, 1}, (int64_t[]){5, 6});
    snnc_tensor *c = tens(SNNC_I64, 1, (int64_t[]){1}, (int64_t[]){1000000000000LL});
    snnc_tensor *out[1];
    fix_init(&f, "Gemm", 3, 1);
    CU_ASSERT_EQUAL_FATAL(run_op(&f, 13, (const snnc_tensor *[]){a, b, c}, out, 0, &err), SNNC_OK);
    CU_ASSERT_EQUAL(out[0]->dtype, SNNC_I64);
    CU_ASSERT_EQUAL(snnc_i64(out[0])[0], 1000000000000LL + 15 - 24);
    free_all(out, 1);
    snnc_tensor *ts[] = {a, b, c};
    free_all(ts, 3);
}

static void test_matmul_1d(void)
{
    node_fix f;
    snnc_err err = {0};
    snnc_tensor *v = F32(1, D(3), ((float[]){1, 2, 3}));
    snnc_tensor *w = F32(1, D(3), ((float[]){4, 5, 6}));
    snnc_tensor *m = F32(2, D(3, 2), ((float[]){1, 0, 0, 1, 1, 1}));
    snnc_tensor *mt = F32(2, D(2, 3), ((float[]){1, 0, 1, 0, 1, 1}));
    snnc_tensor *out[1];
    fix_init(&f, "MatMul", 2, 1);
    CU_ASSERT_EQUAL_FATAL(run_op(&f, 13, (const snnc_tensor *[]){v, w}, out, 0, &err), SNNC_OK);
    CU_ASSERT_EQUAL(out[0]->rank, 0); /* vector·vector is a scalar */
    assert_vals(out[0], (float[]){32}, 1, 1e-6);
    free_all(out, 1);
    CU_ASSERT_EQUAL_FATAL(run_op(&f, 13, (const snnc_tensor *[]){v, m}, out, 0, &err), SNNC_OK);
    assert_dims(out[0], 1, (int64_t[]){2});
    assert_vals(out[0], (float[]){4, 5}, 2, 1e-6);
    free_all(out, 1);
    CU_ASSERT_EQUAL_FATAL(run_op(&f, 13, (const snnc_tensor *[]){mt, v}, out, 0, &err), SNNC_OK);
    assert_dims(out[0], 1, (int64_t[]){2});
    assert_vals(out[0], (float[]){4, 5}, 2, 1e-6);
    free_all(out, 1);
    snnc_tensor *ts[] = {v, w, m, mt};
    free_all(ts, 4);
}

static void test_matmul_batched_broadcast(void)
{
    /* A [2,1,2,3] x B [3,3,2] -> [2,3,2,2]; checked against a naive sum. */
    node_fix f;
    snnc_err err = {0};
    snnc_tensor *a = rnd(4, (int64_t[]){2, 1, 2, 3}, 1), *b = rnd(3, (int64_t[]){3, 3, 2}, 2);
    snnc_tensor *out[1];
    fix_init(&f, "MatMul", 2, 1);
    CU_ASSERT_EQUAL_FATAL(run_op(&f, 13, (const snnc_tensor *[]){a, b}, out, 0, &err), SNNC_OK);
    assert_dims(out[0], 4, (int64_t[]){2, 3, 2, 2});
    const float *pa = snnc_f32(a), *pb = snnc_f32(b), *py = snnc_f32(out[0]);
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 3; j++)
            for (int r = 0; r < 2; r++)
                for (int col = 0; col < 2; col++) {
                    double s = 0;
                    for (int k = 0; k < 3; k++)
                        s += pa[(i * 2 + r) * 3 + k] * pb[(j * 3 + k) * 2 + col];
                    SNNC_ASSERT_CLOSE(py[((i * 3 + j) * 2 + r) * 2 + col], s, 1e-5, 1e-6);
                }
    free_all(out, 1);
    snnc_tensor *ts[] = {a, b};
    free_all(ts, 2);
}

static void test_matmul_gemm_errors(void)
{
    node_fix f;
    snnc_err err = {0};
    snnc_tensor *a = rnd(2, (int64_t[]){2, 3}, 3), *b = rnd(2, (int64_t[]){4, 2}, 4);
    snnc_tensor *a3 = rnd(3, (int64_t[]){1, 2, 3}, 5), *c = rnd(1, (int64_t[]){3}, 6);
    snnc_tensor *b32 = rnd(2, (int64_t[]){3, 2}, 7);
    snnc_tensor *out[1];
    fix_init(&f, "MatMul", 2, 1);
    CU_ASSERT_EQUAL(run_op(&f, 13, (const snnc_tensor *[]){a, b}, out, 0, &err), SNNC_EINVALID);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "n0"));
    fix_init(&f, "Gemm", 2, 1);
    snnc_err e2 = {0}, e3 = {0}, e4 = {0};
    CU_ASSERT_EQUAL(run_op(&f, 7, (const snnc_tensor *[]){a, b32}, out, 0, &e2), SNNC_EINVALID);
    CU_ASSERT_PTR_NOT_NULL(strstr(e2.msg, "opset 11"));
    CU_ASSERT_EQUAL(run_op(&f, 13, (const snnc_tensor *[]){a3, b32}, out, 0, &e3), SNNC_EINVALID);
    fix_init(&f, "Gemm", 3, 1); /* C [3] does not broadcast to [2,2] */
    CU_ASSERT_EQUAL(run_op(&f, 13, (const snnc_tensor *[]){a, b32, c}, out, 0, &e4), SNNC_EINVALID);
    snnc_tensor *ts[] = {a, b, a3, c, b32};
    free_all(ts, 5);
}

/* ------------------------------------------------------ hand-derived cells */

/* hidden 1, input 1, seq 2: h1 = tanh(0.5*1 + 0.1 + 0.2) = tanh(0.8),
 * h2 = tanh(0.5*2 - h1 + 0.3). */
static void test_rnn_hand(void)
{
    node_fix f;
    snnc_err err = {0};
    snnc_tensor *x = F32(3, D(2, 1, 1), ((float[]){1, 2}));
    snnc_tensor *w = F32(3, D(1, 1, 1), ((float[]){0.5f}));
    snnc_tensor *r = F32(3, D(1, 1, 1), ((float[]){-1}));
    snnc_tensor *b = F32(2, D(1, 2), ((float[]){0.1f, 0.2f}));
    snnc_tensor *out[2];
    fix_init(&f, "RNN", 4, 2);
    attr_i(&f, "hidden_size", 1);
    CU_ASSERT_EQUAL_FATAL(run_op(&f, 14, (const snnc_tensor *[]){x, w, r, b}, out, 0, &err), SNNC_OK);
    assert_dims(out[0], 4, (int64_t[]){2, 1, 1, 1});
    assert_dims(out[1], 3, (int64_t[]){1, 1, 1});
    assert_vals(out[0], (float[]){0.664036770f, 0.562144695f}, 2, 1e-6);
    assert_vals(out[1], (float[]){0.562144695f}, 1, 1e-6);
    free_all(out, 2);
    snnc_tensor *ts[] = {x, w, r, b};
    free_all(ts, 4);
}

/* LSTM hidden 1, x = 1, W[iofc] = [1, 0.5, -1, 2], R = 0, B absent.
 * i = s(1), o = s(0.5), f = s(-1), c = tanh(2); C = f*C0 + i*c; H = o*tanh(C). */
static void test_lstm_hand(void)
{
    node_fix f;
    snnc_err err = {0};
    snnc_tensor *x = F32(3, D(1, 1, 1), ((float[]){1}));
    snnc_tensor *w = F32(3, D(1, 4, 1), ((float[]){1, 0.5f, -1, 2}));
    snnc_tensor *r = F32(3, D(1, 4, 1), ((float[]){0, 0, 0, 0}));
    snnc_tensor *h0 = F32(3, D(1, 1, 1), ((float[]){0}));
    snnc_tensor *c0 = F32(3, D(1, 1, 1), ((float[]){1}));
    snnc_tensor *p = F32(2, D(1, 3), ((float[]){0.5f, -1, 2}));
    snnc_tensor *out[3];
    /* C0 = 0 (omitted initial state): C = s(1)*tanh(2). */
    fix_init(&f, "LSTM", 3, 3);
    attr_i(&f, "hidden_size", 1);
    CU_ASSERT_EQUAL_FATAL(run_op(&f, 7, (const snnc_tensor *[]){x, w, r}, out, 0, &err), SNNC_OK);
    assert_vals(out[0], (float[]){0.378069876f}, 1, 1e-6);
    assert_vals(out[1], (float[]){0.378069876f}, 1, 1e-6);
    assert_vals(out[2], (float[]){0.704760632f}, 1, 1e-6);
    free_all(out, 3);
    /* Peepholes P[iof] = [0.5, -1, 2] with C0 = 1: i = s(1.5), f = s(1),
     * C = f + i*tanh(2), o = s(0.5 - C). */
    fix_init(&f, "LSTM", 8, 3);
    attr_i(&f, "hidden_size", 1);
    const snnc_tensor *in[] = {x, w, r, NULL, NULL, h0, c0, p};
    CU_ASSERT_EQUAL_FATAL(run_op(&f, 7, in, out, 0, &err), SNNC_OK);
    assert_vals(out[1], (float[]){0.240931413f}, 1, 1e-6);
    assert_vals(out[2], (float[]){1.519222922f}, 1, 1e-6);
    free_all(out, 3);
    /* input_forget couples f = 1 - i (peepholes absent): C = (1-s(1)) + s(1)*tanh(2). */
    fix_init(&f, "LSTM", 7, 3);
    attr_i(&f, "hidden_size", 1);
    attr_i(&f, "input_forget", 1);
    CU_ASSERT_EQUAL_FATAL(run_op(&f, 7, in, out, 0, &err), SNNC_OK);
    assert_vals(out[1], (float[]){0.467047806f}, 1, 1e-6);
    assert_vals(out[2], (float[]){0.973702054f}, 1, 1e-6);
    free_all(out, 3);
    snnc_tensor *ts[] = {x, w, r, h0, c0, p};
    free_all(ts, 6);
}

/* GRU hidden 1: W[zrh] = [0.5,-0.5,1], R[zrh] = [0.3,0.6,-0.8],
 * Wb = [0,0,0.1], Rb = [0,0,0.2], h0 = 0.5, x = 1.  z = s(0.65), r = s(-0.2);
 * default:  h~ = tanh(1 - 0.8*(r*0.5) + 0.2 + 0.1);
 * linear_before_reset: h~ = tanh(1 + r*(-0.8*0.5 + 0.2) + 0.1);
 * H = (1-z) h~ + z*0.5. */
static void test_gru_hand(void)
{
    node_fix f;
    snnc_err err = {0};
    snnc_tensor *x = F32(3, D(1, 1, 1), ((float[]){1}));
    snnc_tensor *w = F32(3, D(1, 3, 1), ((float[]){0.5f, -0.5f, 1}));
    snnc_tensor *r = F32(3, D(1, 3, 1), ((float[]){0.3f, 0.6f, -0.8f}));
    snnc_tensor *b = F32(2, D(1, 6), ((float[]){0, 0, 0.1f, 0, 0, 0.2f}));
    snnc_tensor *h0 = F32(3, D(1, 1, 1), ((float[]){0.5f}));
    const snnc_tensor *in[] = {x, w, r, b, NULL, h0};
    snnc_tensor *out[2];
    for (int lbr = 0; lbr < 2; lbr++) {
        fix_init(&f, "GRU", 6, 2);
        attr_i(&f, "hidden_size", 1);
        attr_i(&f, "linear_before_reset", lbr);
        CU_ASSERT_EQUAL_FATAL(run_op(&f, 14, in, out, 0, &err), SNNC_OK);
        float want = lbr ? 0.591148882f : 0.605484998f;
        assert_vals(out[0], &want, 1, 1e-6);
        assert_vals(out[1], &want, 1, 1e-6);
        free_all(out, 2);
    }
    snnc_tensor *ts[] = {x, w, r, b, h0};
    free_all(ts, 5);
}

/* clip and activation parameters, with an identity-like Affine:
 * x = 2, W = 1 -> pre-activation 2, clipped to 0.5.  LeakyRelu alpha 0.1 on
 * -2 gives -0.2; HardSigmoid with defaults (0.2, 0.5) on -2 gives 0.1;
 * ScaledTanh alpha 2 beta 0.5 on 2 gives 2*tanh(1). */
static void test_clip_and_activations(void)
{
    node_fix f;
    snnc_err err = {0};
    snnc_tensor *xp = F32(3, D(1, 1, 1), ((float[]){2}));
    snnc_tensor *xn = F32(3, D(1, 1, 1), ((float[]){-2}));
    snnc_tensor *w = F32(3, D(1, 1, 1), ((float[]){1}));
    snnc_tensor *r = F32(3, D(1, 1, 1), ((float[]){0}));
    snnc_tensor *out[2];
    static const float one_zero[] = {1, 0}, a01[] = {0.1f}, a2[] = {2}, b05[] = {0.5f};
    struct {
        const char *act;
        const float *alpha, *beta;
        snnc_tensor *x;
        float clip, want;
    } cases[] = {
        {"Affine", one_zero, one_zero + 1, xp, 0.5f, 0.5f},
        {"Affine", one_zero, one_zero + 1, xp, 0, 2.0f},
        {"LeakyRelu", a01, NULL, xn, 0, -0.2f},
        {"LeakyRelu", NULL, NULL, xn, 0, -0.02f},
        {"HardSigmoid", NULL, NULL, xn, 0, 0.1f},
        {"ScaledTanh", a2, b05, xp, 0, 1.523188312f},
        {"ThresholdedRelu", NULL, NULL, xp, 0, 2.0f}, /* 2 >= alpha 1 */
        {"ThresholdedRelu", a2, NULL, F32(3, D(1, 1, 1), ((float[]){1.5f})), 0, 0.0f},
        {"Elu", NULL, NULL, xn, 0, -0.864664717f},
        {"Softsign", NULL, NULL, xn, 0, -2.0f / 3.0f},
        {"Softplus", NULL, NULL, xp, 0, 2.126928011f},
        {"Relu", NULL, NULL, xn, 0, 0.0f},
        {"Sigmoid", NULL, NULL, xp, 1.0f, 0.731058579f}, /* clip 1 applies first */
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        fix_init(&f, "RNN", 3, 2);
        attr_i(&f, "hidden_size", 1);
        attr_ss(&f, "activations", 1, cases[k].act);
        if (cases[k].alpha)
            attr_fs(&f, "activation_alpha", 1, cases[k].alpha);
        if (cases[k].beta)
            attr_fs(&f, "activation_beta", 1, cases[k].beta);
        if (cases[k].clip > 0)
            attr_f(&f, "clip", cases[k].clip);
        int rc = run_op(&f, 14, (const snnc_tensor *[]){cases[k].x, w, r}, out, 0, &err);
        CU_ASSERT_EQUAL(rc, SNNC_OK);
        if (rc == SNNC_OK)
            assert_vals(out[1], &cases[k].want, 1, 1e-6);
        free_all(out, 2);
    }
    snnc_tensor_free(cases[7].x);
    snnc_tensor *ts[] = {xp, xn, w, r};
    free_all(ts, 4);
}

/* --------------------------------------------------- direction properties */

enum { T = 5, NB = 3, IN = 4, HID = 3 };

static const char *const ops[] = {"RNN", "GRU", "LSTM"};
static const int gates[] = {1, 3, 4};

typedef struct weights {
    snnc_tensor *x, *w, *r, *b, *h0, *c0, *p; /* two directions */
    snnc_tensor *w1[2], *r1[2], *b1[2], *h01[2], *c01[2], *p1[2]; /* one direction each */
} weights;

static snnc_tensor *slice_dir(const snnc_tensor *t, int d)
{
    int64_t dims[SNNC_MAX_RANK];
    memcpy(dims, t->dims, sizeof dims);
    dims[0] = 1;
    int64_t per = t->count / t->dims[0];
    return tens(SNNC_F32, t->rank, dims, snnc_f32(t) + d * per);
}

static void make_weights(weights *m, int g, unsigned seed)
{
    m->x = rnd(3, (int64_t[]){T, NB, IN}, seed);
    m->w = rnd(3, (int64_t[]){2, g * HID, IN}, seed + 1);
    m->r = rnd(3, (int64_t[]){2, g * HID, HID}, seed + 2);
    m->b = rnd(2, (int64_t[]){2, 2 * g * HID}, seed + 3);
    m->h0 = rnd(3, (int64_t[]){2, NB, HID}, seed + 4);
    m->c0 = rnd(3, (int64_t[]){2, NB, HID}, seed + 5);
    m->p = rnd(2, (int64_t[]){2, 3 * HID}, seed + 6);
    for (int d = 0; d < 2; d++) {
        m->w1[d] = slice_dir(m->w, d);
        m->r1[d] = slice_dir(m->r, d);
        m->b1[d] = slice_dir(m->b, d);
        m->h01[d] = slice_dir(m->h0, d);
        m->c01[d] = slice_dir(m->c0, d);
        m->p1[d] = slice_dir(m->p, d);
    }
}

static void free_weights(weights *m)
{
    snnc_tensor *ts[] = {m->x, m->w, m->r, m->b, m->h0, m->c0, m->p};
    free_all(ts, 7);
    for (int d = 0; d < 2; d++) {
        snnc_tensor *t1[] = {m->w1[d], m->r1[d], m->b1[d], m->h01[d], m->c01[d], m->p1[d]};
        free_all(t1, 6);
    }
}

static void set_rec_attrs(node_fix *f, int k, const char *dir)
{
    attr_i(f, "hidden_size", HID);
    attr_s(f, "direction", dir);
    if (k == 1)
        attr_i(f, "linear_before_reset", 1);
}

/* Run op k with one direction's weights (d) on x, optionally with lengths. */
static void run_dir(int k, const char *dir, const weights *m, int d, const snnc_tensor *x,
                    const snnc_tensor *lens, snnc_tensor **out)
{
    node_fix f;
    snnc_err err = {0};
    fix_init(&f, ops[k], k == 2 ? 8 : 6, k == 2 ? 3 : 2);
    set_rec_attrs(&f, k, dir);
    const snnc_tensor *in[] = {x, m->w1[d], m->r1[d], m->b1[d], lens, m->h01[d], m->c01[d], m->p1[d]};
    CU_ASSERT_EQUAL_FATAL(run_op(&f, 14, in, out, 0, &err), SNNC_OK);
}

/* x with time reversed (all of [T, NB, IN]). */
static snnc_tensor *time_reversed(const snnc_tensor *x)
{
    snnc_tensor *y = tens(SNNC_F32, x->rank, x->dims, NULL);
    int64_t step = x->count / x->dims[0];
    for (int64_t t = 0; t < x->dims[0]; t++)
        memcpy(snnc_f32(y) + t * step, snnc_f32(x) + (x->dims[0] - 1 - t) * step,
               (size_t)step * sizeof(float));
    return y;
}

/* reverse(x) == time-reverse(forward(time-reverse(x))), final states equal. */
static void test_reverse_is_forward_on_reversed_input(void)
{
    for (int k = 0; k < 3; k++) {
        weights m;
        make_weights(&m, gates[k], 10u * (unsigned)k + 1);
        snnc_tensor *xr = time_reversed(m.x);
        snnc_tensor *rev[3], *fwd[3];
        run_dir(k, "reverse", &m, 0, m.x, NULL, rev);
        run_dir(k, "forward", &m, 0, xr, NULL, fwd);
        snnc_tensor *fy = time_reversed(fwd[0]);
        assert_same(snnc_f32(rev[0]), snnc_f32(fy), rev[0]->count);
        assert_same(snnc_f32(rev[1]), snnc_f32(fwd[1]), rev[1]->count);
        if (k == 2)
            assert_same(snnc_f32(rev[2]), snnc_f32(fwd[2]), rev[2]->count);
        snnc_tensor_free(fy);
        snnc_tensor_free(xr);
        free_all(rev, k == 2 ? 3 : 2);
        free_all(fwd, k == 2 ? 3 : 2);
        free_weights(&m);
    }
}

/* bidirectional == [forward with W[0], reverse with W[1]] in Y[:, d] and
 * Y_h[d]; also with layout 1, which must be layout 0 transposed. */
static void test_bidirectional_is_two_directions(void)
{
    for (int k = 0; k < 3; k++) {
        weights m;
        make_weights(&m, gates[k], 10u * (unsigned)k + 2);
        node_fix f;
        snnc_err err = {0};
        int nout = k == 2 ? 3 : 2;
        snnc_tensor *bi[3], *one[2][3];
        fix_init(&f, ops[k], k == 2 ? 8 : 6, nout);
        set_rec_attrs(&f, k, "bidirectional");
        const snnc_tensor *in[] = {m.x, m.w, m.r, m.b, NULL, m.h0, m.c0, m.p};
        CU_ASSERT_EQUAL_FATAL(run_op(&f, 14, in, bi, 0, &err), SNNC_OK);
        assert_dims(bi[0], 4, (int64_t[]){T, 2, NB, HID});
        run_dir(k, "forward", &m, 0, m.x, NULL, one[0]);
        run_dir(k, "reverse", &m, 1, m.x, NULL, one[1]);
        for (int d = 0; d < 2; d++) {
            for (int t = 0; t < T; t++)
                assert_same(snnc_f32(bi[0]) + (t * 2 + d) * NB * HID,
                            snnc_f32(one[d][0]) + t * NB * HID, NB * HID);
            for (int j = 1; j < nout; j++)
                assert_same(snnc_f32(bi[j]) + d * NB * HID, snnc_f32(one[d][j]), NB * HID);
        }
        /* layout 1: X [NB, T, IN], Y [NB, T, 2, HID], states [NB, 2, HID]. */
        snnc_tensor *xb = tens(SNNC_F32, 3, (int64_t[]){NB, T, IN}, NULL);
        snnc_tensor *h0b = tens(SNNC_F32, 3, (int64_t[]){NB, 2, HID}, NULL);
        snnc_tensor *c0b = tens(SNNC_F32, 3, (int64_t[]){NB, 2, HID}, NULL);
        for (int t = 0; t < T; t++)
            for (int n = 0; n < NB; n++)
                memcpy(snnc_f32(xb) + (n * T + t) * IN, snnc_f32(m.x) + (t * NB + n) * IN,
                       IN * sizeof(float));
        for (int d = 0; d < 2; d++)
            for (int n = 0; n < NB; n++) {
                memcpy(snnc_f32(h0b) + (n * 2 + d) * HID, snnc_f32(m.h0) + (d * NB + n) * HID,
                       HID * sizeof(float));
                memcpy(snnc_f32(c0b) + (n * 2 + d) * HID, snnc_f32(m.c0) + (d * NB + n) * HID,
                       HID * sizeof(float));
            }
        snnc_tensor *bl[3];
        attr_i(&f, "layout", 1);
        const snnc_tensor *inb[] = {xb, m.w, m.r, m.b, NULL, h0b, c0b, m.p};
        CU_ASSERT_EQUAL_FATAL(run_op(&f, 14, inb, bl, 0, &err), SNNC_OK);
        assert_dims(bl[0], 4, (int64_t[]){NB, T, 2, HID});
        assert_dims(bl[1], 3, (int64_t[]){NB, 2, HID});
        for (int t = 0; t < T; t++)
            for (int d = 0; d < 2; d++)
                for (int n = 0; n < NB; n++)
                    assert_same(snnc_f32(bl[0]) + ((n * T + t) * 2 + d) * HID,
                                snnc_f32(bi[0]) + ((t * 2 + d) * NB + n) * HID, HID);
        for (int j = 1; j < nout; j++)
            for (int d = 0; d < 2; d++)
                for (int n = 0; n < NB; n++)
                    assert_same(snnc_f32(bl[j]) + (n * 2 + d) * HID,
                                snnc_f32(bi[j]) + (d * NB + n) * HID, HID);
        /* layout needs opset 14 */
        snnc_err e13 = {0};
        snnc_tensor *tmp[3];
        CU_ASSERT_EQUAL(run_op(&f, 13, inb, tmp, 0, &e13), SNNC_EINVALID);
        snnc_tensor *ts[] = {xb, h0b, c0b};
        free_all(ts, 3);
        free_all(bl, nout);
        free_all(bi, nout);
        free_all(one[0], nout);
        free_all(one[1], nout);
        free_weights(&m);
    }
}

/* Batch entry b with length L must equal running it alone on its first L
 * steps; steps >= L are zero; Y_h is the state at the last valid step
 * (for reverse: time 0); length 0 leaves the initial state. */
static void test_sequence_lens(void)
{
    const int64_t lens[NB] = {5, 2, 0};
    snnc_tensor *sl = tens(SNNC_I64, 1, (int64_t[]){NB}, lens);
    for (int k = 0; k < 3; k++)
        for (int rev = 0; rev < 2; rev++) {
            weights m;
            make_weights(&m, gates[k], 10u * (unsigned)k + 3);
            int nout = k == 2 ? 3 : 2;
            const char *dir = rev ? "reverse" : "forward";
            snnc_tensor *all[3];
            run_dir(k, dir, &m, 0, m.x, sl, all);
            for (int n = 0; n < NB; n++) {
                int64_t L = lens[n];
                const float *yh = snnc_f32(all[1]) + n * HID;
                if (L == 0) {
                    assert_same(yh, snnc_f32(m.h01[0]) + n * HID, HID);
                    if (k == 2)
                        assert_same(snnc_f32(all[2]) + n * HID, snnc_f32(m.c01[0]) + n * HID, HID);
                } else {
                    int64_t last = rev ? 0 : L - 1;
                    assert_same(yh, snnc_f32(all[0]) + (last * NB + n) * HID, HID);
                }
                for (int64_t t = L; t < T; t++)
                    for (int i = 0; i < HID; i++)
                        CU_ASSERT_EQUAL(snnc_f32(all[0])[(t * NB + n) * HID + i], 0.0f);
                if (L == 0)
                    continue;
                /* the entry alone, on exactly L steps, without sequence_lens */
                weights one = m;
                snnc_tensor *x1 = tens(SNNC_F32, 3, (int64_t[]){L, 1, IN}, NULL);
                for (int64_t t = 0; t < L; t++)
                    memcpy(snnc_f32(x1) + t * IN, snnc_f32(m.x) + (t * NB + n) * IN,
                           IN * sizeof(float));
                one.h01[0] = tens(SNNC_F32, 3, (int64_t[]){1, 1, HID}, snnc_f32(m.h01[0]) + n * HID);
                one.c01[0] = tens(SNNC_F32, 3, (int64_t[]){1, 1, HID}, snnc_f32(m.c01[0]) + n * HID);
                snnc_tensor *solo[3];
                run_dir(k, dir, &one, 0, x1, NULL, solo);
                for (int64_t t = 0; t < L; t++)
                    assert_same(snnc_f32(all[0]) + (t * NB + n) * HID, snnc_f32(solo[0]) + t * HID,
                                HID);
                for (int j = 1; j < nout; j++)
                    assert_same(snnc_f32(all[j]) + n * HID, snnc_f32(solo[j]), HID);
                free_all(solo, nout);
                snnc_tensor *ts[] = {x1, one.h01[0], one.c01[0]};
                free_all(ts, 3);
            }
            free_all(all, nout);
            free_weights(&m);
        }
    snnc_tensor_free(sl);
}

/* Omitted outputs (NULL in compute) are skipped; present ones unchanged. */
static void test_omitted_outputs(void)
{
    weights m;
    make_weights(&m, 4, 77);
    node_fix f;
    snnc_err err = {0};
    snnc_tensor *full[3], *part[3];
    fix_init(&f, "LSTM", 8, 3);
    set_rec_attrs(&f, 2, "bidirectional");
    const snnc_tensor *in[] = {m.x, m.w, m.r, m.b, NULL, m.h0, m.c0, m.p};
    CU_ASSERT_EQUAL_FATAL(run_op(&f, 14, in, full, 0, &err), SNNC_OK);
    CU_ASSERT_EQUAL_FATAL(run_op(&f, 14, in, part, 1u | 4u, &err), SNNC_OK);
    CU_ASSERT_PTR_NULL(part[0]);
    assert_same(snnc_f32(part[1]), snnc_f32(full[1]), full[1]->count);
    free_all(full, 3);
    free_all(part, 3);
    free_weights(&m);
}

/* infer on symbolic batch and sequence dims. */
static void test_infer_symbolic(void)
{
    node_fix f;
    snnc_err err = {0};
    fix_init(&f, "GRU", 3, 2);
    attr_i(&f, "hidden_size", 5);
    attr_s(&f, "direction", "bidirectional");
    snnc_opctx c = {.node = &f.node, .graph = NULL, .opset = 14, .runtime = false, .err = &err};
    snnc_vinfo in[3] = {{0}}, out[2] = {{0}};
    int64_t dx[3] = {SNNC_SYM(0), SNNC_SYM(1), 7}, dw[3] = {2, 15, 7}, dr[3] = {2, 15, 5};
    const int64_t *dd[3] = {dx, dw, dr};
    for (int i = 0; i < 3; i++) {
        in[i].present = true;
        in[i].dtype = SNNC_F32;
        in[i].rank = 3;
        in[i].n_symval = -1;
        memcpy(in[i].dims, dd[i], sizeof dx);
    }
    for (int j = 0; j < 2; j++)
        out[j].rank = -1;
    const snnc_op_def *def = snnc_op_get(snnc_op_lookup("GRU"));
    CU_ASSERT_EQUAL_FATAL(def->infer(&c, in, out), SNNC_OK);
    CU_ASSERT_EQUAL(out[0].rank, 4);
    CU_ASSERT_EQUAL(out[0].dims[0], SNNC_SYM(0));
    CU_ASSERT_EQUAL(out[0].dims[1], 2);
    CU_ASSERT_EQUAL(out[0].dims[2], SNNC_SYM(1));
    CU_ASSERT_EQUAL(out[0].dims[3], 5);
    CU_ASSERT_EQUAL(out[1].rank, 3);
    CU_ASSERT_EQUAL(out[1].dims[1], SNNC_SYM(1));
}

/* ------------------------------------------------------------- failures */

static void test_recurrent_errors(void)
{
    weights m;
    make_weights(&m, 4, 91);
    snnc_tensor *out[3];
    const snnc_tensor *in[] = {m.x, m.w1[0], m.r1[0], m.b1[0]};
    node_fix f;
    /* W of the LSTM given to a GRU: [1, 12, 4] is not [1, 3*3, 4]. */
    snnc_err e1 = {0};
    fix_init(&f, "GRU", 4, 2);
    attr_i(&f, "hidden_size", HID);
    CU_ASSERT_EQUAL(run_op(&f, 14, in, out, 0, &e1), SNNC_EINVALID);
    CU_ASSERT_PTR_NOT_NULL(strstr(e1.msg, "n0"));
    CU_ASSERT_PTR_NOT_NULL(strstr(e1.msg, "W"));
    /* hidden_size disagreeing with R. */
    snnc_err e2 = {0};
    fix_init(&f, "LSTM", 4, 3);
    attr_i(&f, "hidden_size", 4);
    CU_ASSERT_EQUAL(run_op(&f, 14, in, out, 0, &e2), SNNC_EINVALID);
    /* unknown activation name, wrong activation count, bad direction. */
    snnc_err e3 = {0}, e4 = {0}, e5 = {0}, e6 = {0}, e7 = {0};
    fix_init(&f, "LSTM", 4, 3);
    attr_i(&f, "hidden_size", HID);
    attr_ss(&f, "activations", 3, "Sigmoid", "Swish", "Tanh");
    CU_ASSERT_EQUAL(run_op(&f, 14, in, out, 0, &e3), SNNC_EINVALID);
    CU_ASSERT_PTR_NOT_NULL(strstr(e3.msg, "Swish"));
    fix_init(&f, "LSTM", 4, 3);
    attr_ss(&f, "activations", 2, "Sigmoid", "Tanh");
    CU_ASSERT_EQUAL(run_op(&f, 14, in, out, 0, &e4), SNNC_EINVALID);
    fix_init(&f, "LSTM", 4, 3);
    attr_s(&f, "direction", "sideways");
    CU_ASSERT_EQUAL(run_op(&f, 14, in, out, 0, &e5), SNNC_EINVALID);
    /* sequence_lens beyond seq_length */
    snnc_tensor *sl = tens(SNNC_I64, 1, (int64_t[]){NB}, (int64_t[]){1, T + 1, 2});
    const snnc_tensor *in2[] = {m.x, m.w1[0], m.r1[0], m.b1[0], sl};
    fix_init(&f, "LSTM", 5, 3);
    CU_ASSERT_EQUAL(run_op(&f, 14, in2, out, 0, &e6), SNNC_EINVALID);
    free_all(out, 3);
    /* X of rank 2 */
    snnc_tensor *x2 = rnd(2, (int64_t[]){T, IN}, 5);
    const snnc_tensor *in3[] = {x2, m.w1[0], m.r1[0]};
    fix_init(&f, "LSTM", 3, 3);
    CU_ASSERT_EQUAL(run_op(&f, 14, in3, out, 0, &e7), SNNC_EINVALID);
    snnc_tensor *ts[] = {sl, x2};
    free_all(ts, 2);
    free_weights(&m);
}

static CU_TestInfo tests[] = {
    {"gemm transposes, alpha/beta, broadcast C", test_gemm_transposes_and_broadcast},
    {"gemm int64", test_gemm_int64},
    {"matmul 1-D operands", test_matmul_1d},
    {"matmul batched broadcasting", test_matmul_batched_broadcast},
    {"gemm/matmul errors", test_matmul_gemm_errors},
    {"rnn hand-derived", test_rnn_hand},
    {"lstm hand-derived (peepholes, input_forget)", test_lstm_hand},
    {"gru hand-derived (linear_before_reset)", test_gru_hand},
    {"clip and activation alpha/beta", test_clip_and_activations},
    {"reverse == forward on reversed input", test_reverse_is_forward_on_reversed_input},
    {"bidirectional == two directions; layout 1", test_bidirectional_is_two_directions},
    {"sequence_lens", test_sequence_lens},
    {"omitted outputs", test_omitted_outputs},
    {"infer with symbolic dims", test_infer_symbolic},
    {"recurrent errors", test_recurrent_errors},
    CU_TEST_INFO_NULL,
};
SNNC_TEST_MAIN("recurrent")
