/* matmul.c — the matrix-product operators Gemm and MatMul (table
 * snnc_ops_matmul, interface ops/op.h; equations in docs/RECURRENT.md).
 *
 * Products go through CBLAS: float32 through cblas_sgemm; int64 (allowed
 * from opset 9) through cblas_dgemm on doubles, exact while every partial
 * sum stays below 2^53 in magnitude. */
#include <cblas.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "op.h"

/* ---------------------------------------------------------------- helpers */

/* An INT attribute, failing when it is present with another kind. */
static int int_attr(snnc_opctx *c, const char *name, int64_t def, int64_t *out)
{
    const snnc_attr *a = snnc_node_attr(c->node, name);
    if (a && a->kind != SNNC_ATTR_INT)
        return snnc_op_fail(c, SNNC_EINVALID, "attribute '%s' must be an int", name);
    *out = a ? a->i : def;
    return SNNC_OK;
}

static int float_attr(snnc_opctx *c, const char *name, float def, float *out)
{
    const snnc_attr *a = snnc_node_attr(c->node, name);
    if (a && a->kind != SNNC_ATTR_FLOAT && a->kind != SNNC_ATTR_INT)
        return snnc_op_fail(c, SNNC_EINVALID, "attribute '%s' must be a float", name);
    *out = a ? snnc_attr_float_or(c->node, name, def) : def;
    if (!isfinite(*out))
        return snnc_op_fail(c, SNNC_EINVALID, "attribute '%s' is not finite", name);
    return SNNC_OK;
}

/* The element type of the operands: F32 or I64 (after the evaluator's
 * conversions); UNKNOWN when not yet known. */
static int operand_dtype(snnc_opctx *c, const snnc_vinfo *in, int n, snnc_dtype *out)
{
    snnc_dtype t = SNNC_DTYPE_UNKNOWN;
    for (int i = 0; i < n; i++) {
        if (!in[i].present || in[i].dtype == SNNC_DTYPE_UNKNOWN)
            continue;
        snnc_dtype d = snnc_compute_dtype(in[i].dtype);
        if (d != SNNC_F32 && d != SNNC_I64)
            return snnc_op_fail(c, SNNC_EINVALID, "input %d has element type %s; expected a number",
                                i, snnc_dtype_name(in[i].dtype));
        if (d == SNNC_I64 && c->opset < 9)
            return snnc_op_fail(c, SNNC_EINVALID, "integer operands need opset 9 or later");
        if (t != SNNC_DTYPE_UNKNOWN && t != d)
            return snnc_op_fail(c, SNNC_EINVALID, "inputs mix element types %s and %s",
                                snnc_dtype_name(t), snnc_dtype_name(d));
        t = d;
    }
    *out = t;
    return SNNC_OK;
}

/* Two dims that must be equal: fine if either is symbolic. */
static int same_dim(snnc_opctx *c, int64_t a, int64_t b, const char *what)
{
    if (!SNNC_IS_SYM(a) && !SNNC_IS_SYM(b) && a != b)
        return snnc_op_fail(c, SNNC_EINVALID, "%s: %lld vs %lld", what, (long long)a,
                            (long long)b);
    return SNNC_OK;
}

static int blas_dims_ok(snnc_opctx *c, int64_t m, int64_t n, int64_t k)
{
    if (m > INT_MAX || n > INT_MAX || k > INT_MAX)
        return snnc_op_fail(c, SNNC_EUNSUPPORTED, "matrix dimension exceeds %d", INT_MAX);
    return SNNC_OK;
}

static int imax1(int64_t v) { return v > 1 ? (int)v : 1; }

/* One product Y[m,n] = alpha * op(A) op(B) + beta * Y (row-major), in the
 * tensors' element type.  lda/ldb are the stored row lengths. */
typedef struct gemm_args {
    bool ta, tb;
    int64_t m, n, k;
    float alpha, beta;
} gemm_args;

static void gemm_f32(const gemm_args *g, const float *a, const float *b, float *y)
{
    if (g->m == 0 || g->n == 0)
        return;
    if (g->k == 0) { /* empty sum */
        for (int64_t i = 0; i < g->m * g->n; i++)
            y[i] *= g->beta;
        return;
    }
    int lda = imax1(g->ta ? g->m : g->k), ldb = imax1(g->tb ? g->k : g->n);
    cblas_sgemm(CblasRowMajor, g->ta ? CblasTrans : CblasNoTrans, g->tb ? CblasTrans : CblasNoTrans,
                (int)g->m, (int)g->n, (int)g->k, g->alpha, a, lda, b, ldb, g->beta, y, imax1(g->n));
}

/* int64 through doubles; `acc` holds beta*C (or zeros) on entry. */
static int gemm_i64(snnc_opctx *c, const gemm_args *g, const int64_t *a, const int64_t *b,
                    int64_t *y, const double *acc)
{
    int64_t na = g->m * g->k, nb = g->k * g->n, ny = g->m * g->n;
    double *da = malloc((size_t)(na + nb + ny + 1) * sizeof *da);
    if (!da)
        return snnc_op_fail(c, SNNC_ENOMEM, "out of memory");
    double *db = da + na, *dy = db + nb;
    for (int64_t i = 0; i < na; i++)
        da[i] = (double)a[i];
    for (int64_t i = 0; i < nb; i++)
        db[i] = (double)b[i];
    for (int64_t i = 0; i < ny; i++)
        dy[i] = acc ? acc[i] : 0.0;
    if (g->m > 0 && g->n > 0 && g->k > 0)
        cblas_dgemm(CblasRowMajor, g->ta ? CblasTrans : CblasNoTrans,
                    g->tb ? CblasTrans : CblasNoTrans, (int)g->m, (int)g->n, (int)g->k, g->alpha, da,
                    imax1(g->ta ? g->m : g->k), db, imax1(g->tb ? g->k : g->n), 1.0, dy,
                    imax1(g->n));
    for (int64_t i = 0; i < ny; i++)
        y[i] = (int64_t)llround(dy[i]);
    free(da);
    return SNNC_OK;
}

/* ------------------------------------------------------------------- Gemm */

typedef struct gemm_attrs {
    int64_t ta, tb;
    float alpha, beta;
} gemm_attrs;

static int gemm_read_attrs(snnc_opctx *c, gemm_attrs *a)
{
    int rc;
    if ((rc = int_attr(c, "transA", 0, &a->ta)) || (rc = int_attr(c, "transB", 0, &a->tb)) ||
        (rc = float_attr(c, "alpha", 1.0f, &a->alpha)) ||
        (rc = float_attr(c, "beta", 1.0f, &a->beta)))
        return rc;
    if ((a->ta != 0 && a->ta != 1) || (a->tb != 0 && a->tb != 1))
        return snnc_op_fail(c, SNNC_EINVALID, "transA and transB must be 0 or 1 (got %lld, %lld)",
                            (long long)a->ta, (long long)a->tb);
    return SNNC_OK;
}

static int gemm_infer(snnc_opctx *c, const snnc_vinfo *in, snnc_vinfo *out)
{
    gemm_attrs at;
    snnc_dtype t = SNNC_DTYPE_UNKNOWN;
    int n_in = c->node->n_inputs < 3 ? c->node->n_inputs : 3;
    int rc = gemm_read_attrs(c, &at);
    if (rc || (rc = operand_dtype(c, in, n_in, &t)))
        return rc;
    bool has_c = n_in > 2 && in[2].present;
    if (!has_c && c->opset < 11)
        return snnc_op_fail(c, SNNC_EINVALID, "input C is required before opset 11");
    out[0].dtype = t;
    if (in[0].rank < 0 || in[1].rank < 0)
        return SNNC_OK;
    if (in[0].rank != 2 || in[1].rank != 2)
        return snnc_op_fail(c, SNNC_EINVALID, "A and B must be 2-D (got ranks %d and %d)",
                            in[0].rank, in[1].rank);
    int64_t m = in[0].dims[at.ta ? 1 : 0], ka = in[0].dims[at.ta ? 0 : 1];
    int64_t kb = in[1].dims[at.tb ? 1 : 0], n = in[1].dims[at.tb ? 0 : 1];
    if ((rc = same_dim(c, ka, kb, "inner dimensions of A and B differ")))
        return rc;
    int64_t dims[2] = {m, n};
    if (has_c && in[2].rank >= 0) {
        if (in[2].rank > 2)
            return snnc_op_fail(c, SNNC_EINVALID, "C has rank %d; at most 2 allowed", in[2].rank);
        for (int i = 0; i < in[2].rank; i++) {
            int64_t cd = in[2].dims[i], yd = dims[2 - in[2].rank + i];
            if (cd != 1 && (rc = same_dim(c, cd, yd, "C does not broadcast to (M,N)")))
                return rc;
        }
    }
    snnc_op_set_shape(&out[0], t, 2, dims);
    return SNNC_OK;
}

/* Element (i,j) of C broadcast unidirectionally to [m,n]. */
static int64_t c_index(const snnc_tensor *cm, int64_t i, int64_t j)
{
    int64_t rows = cm->rank == 2 ? cm->dims[0] : 1;
    int64_t cols = cm->rank >= 1 ? cm->dims[cm->rank - 1] : 1;
    return (rows == 1 ? 0 : i) * cols + (cols == 1 ? 0 : j);
}

static int gemm_compute(snnc_opctx *c, const snnc_tensor *const *in, snnc_tensor *const *out)
{
    gemm_attrs at;
    int rc = gemm_read_attrs(c, &at);
    if (rc)
        return rc;
    const snnc_tensor *a = in[0], *b = in[1], *cm = c->node->n_inputs > 2 ? in[2] : NULL;
    snnc_tensor *y = out[0];
    gemm_args g = {at.ta != 0, at.tb != 0, y->dims[0], y->dims[1],
                   a->dims[at.ta ? 0 : 1], at.alpha, 0.0f};
    if ((rc = blas_dims_ok(c, g.m, g.n, g.k)))
        return rc;
    bool use_c = cm && cm->count > 0 && at.beta != 0.0f;
    if (y->dtype == SNNC_F32) {
        float *yv = snnc_f32(y);
        if (use_c) {
            for (int64_t i = 0; i < g.m; i++)
                for (int64_t j = 0; j < g.n; j++)
                    yv[i * g.n + j] = at.beta * snnc_f32(cm)[c_index(cm, i, j)];
            g.beta = 1.0f;
        }
        gemm_f32(&g, snnc_f32(a), snnc_f32(b), yv);
        return SNNC_OK;
    }
    double *acc = NULL;
    if (use_c) {
        acc = malloc((size_t)(g.m * g.n + 1) * sizeof *acc);
        if (!acc)
            return snnc_op_fail(c, SNNC_ENOMEM, "out of memory");
        for (int64_t i = 0; i < g.m; i++)
            for (int64_t j = 0; j < g.n; j++)
                acc[i * g.n + j] = (double)at.beta * (double)snnc_i64(cm)[c_index(cm, i, j)];
    }
    rc = gemm_i64(c, &g, snnc_i64(a), snnc_i64(b), snnc_i64(y), acc);
    free(acc);
    return rc;
}

/* ----------------------------------------------------------------- MatMul */

/* numpy matmul shapes: a 1-D A is [1,K] and a 1-D B is [K,1], the extra
 * dim dropped from the result; leading (batch) dims broadcast. */
static int matmul_infer(snnc_opctx *c, const snnc_vinfo *in, snnc_vinfo *out)
{
    snnc_dtype t = SNNC_DTYPE_UNKNOWN;
    int rc = operand_dtype(c, in, 2, &t);
    if (rc)
        return rc;
    out[0].dtype = t;
    int ra = in[0].rank, rb = in[1].rank;
    if (ra < 0 || rb < 0)
        return SNNC_OK;
    if (ra < 1 || rb < 1)
        return snnc_op_fail(c, SNNC_EINVALID, "operands must have rank >= 1 (got %d and %d)", ra,
                            rb);
    int64_t ka = in[0].dims[ra - 1], kb = in[1].dims[rb == 1 ? 0 : rb - 2];
    if ((rc = same_dim(c, ka, kb, "inner dimensions of A and B differ")))
        return rc;
    int rbatch;
    int64_t dims[SNNC_MAX_RANK + 2];
    int ba = ra > 2 ? ra - 2 : 0, bb = rb > 2 ? rb - 2 : 0;
    if ((rc = snnc_op_broadcast(c, ba, in[0].dims, bb, in[1].dims, &rbatch, dims)))
        return rc;
    int r = rbatch;
    if (ra >= 2)
        dims[r++] = in[0].dims[ra - 2];
    if (rb >= 2)
        dims[r++] = in[1].dims[rb - 1];
    if (r > SNNC_MAX_RANK)
        return snnc_op_fail(c, SNNC_EUNSUPPORTED, "result rank %d exceeds %d", r, SNNC_MAX_RANK);
    snnc_op_set_shape(&out[0], t, r, dims);
    return SNNC_OK;
}

/* Offset (in matrices) of output batch index `i` into an operand whose
 * batch dims `d` (rank `r`, right-aligned against the output's `ro`
 * dims `od`) broadcast. */
static int64_t batch_offset(int64_t i, int ro, const int64_t *od, int r, const int64_t *d)
{
    int64_t off = 0, stride = 1;
    for (int k = ro - 1; k >= 0; k--) {
        int64_t idx = i % od[k];
        i /= od[k];
        int kk = k - (ro - r);
        if (kk >= 0) {
            if (d[kk] != 1)
                off += idx * stride;
            stride *= d[kk];
        }
    }
    return off;
}

static int matmul_compute(snnc_opctx *c, const snnc_tensor *const *in, snnc_tensor *const *out)
{
    const snnc_tensor *a = in[0], *b = in[1];
    snnc_tensor *y = out[0];
    int ra = a->rank, rb = b->rank;
    int ba = ra > 2 ? ra - 2 : 0, bb = rb > 2 ? rb - 2 : 0;
    int64_t m = ra >= 2 ? a->dims[ra - 2] : 1, k = a->dims[ra - 1];
    int64_t n = rb >= 2 ? b->dims[rb - 1] : 1;
    int rbatch;
    int64_t bdims[SNNC_MAX_RANK];
    int rc = snnc_op_broadcast(c, ba, a->dims, bb, b->dims, &rbatch, bdims);
    if (rc || (rc = blas_dims_ok(c, m, n, k)))
        return rc;
    if (y->count == 0)
        return SNNC_OK; /* e.g. a 0-sized batch dim: nothing to compute (and no batch to index) */
    int64_t nbatch = 1, na = 1, nb = 1;
    for (int i = 0; i < rbatch; i++)
        nbatch *= bdims[i];
    for (int i = 0; i < ba; i++)
        na *= a->dims[i];
    for (int i = 0; i < bb; i++)
        nb *= b->dims[i];
    gemm_args g = {false, false, m, n, k, 1.0f, 0.0f};
    /* One product when B is shared by every batch and A's batches are all
     * distinct: stack A's matrices into one tall matrix. */
    if (nb == 1 && na == nbatch && m * nbatch <= INT_MAX) {
        g.m = m * nbatch;
        nbatch = 1;
    }
    size_t es = snnc_dtype_size(y->dtype);
    for (int64_t i = 0; i < nbatch; i++) {
        int64_t oa = batch_offset(i, rbatch, bdims, ba, a->dims) * m * k;
        int64_t ob = batch_offset(i, rbatch, bdims, bb, b->dims) * k * n;
        char *pa = (char *)a->data + oa * (int64_t)es, *pb = (char *)b->data + ob * (int64_t)es;
        char *py = (char *)y->data + i * m * n * (int64_t)es;
        if (y->dtype == SNNC_F32)
            gemm_f32(&g, (const float *)pa, (const float *)pb, (float *)py);
        else if ((rc = gemm_i64(c, &g, (const int64_t *)pa, (const int64_t *)pb, (int64_t *)py,
                                NULL)))
            return rc;
    }
    return SNNC_OK;
}

const snnc_op_def snnc_ops_matmul[] = {
    {"Gemm", 2, 3, 1, 1, gemm_infer, gemm_compute},
    {"MatMul", 2, 2, 1, 1, matmul_infer, matmul_compute},
    {NULL, 0, 0, 0, 0, NULL, NULL},
};
