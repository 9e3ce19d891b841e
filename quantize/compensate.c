/* compensate.c — quantisation with error compensation on calibration data
 * (interface: quantize_internal.h; derivation: docs/QUANTIZE.md).  With the
 * second moments H = E[u u^T] of a layer's inputs (the constant 1 of the
 * bias last), a row's weights are rounded one input at a time and each
 * rounding error is spread over the inputs not yet rounded, and finally
 * the bias, so that the pre-activation error (w - q)^T H (w - q) stays
 * small rather than the weight error (the optimal-brain-surgeon update as
 * in GPTQ, Frantar et al. 2023).  Pruned weights are "rounded" to zero the
 * same way.  The scales stay those of the plain quantiser. */
#include <gsl/gsl_cblas.h> /* the CBLAS declarations GSL uses; OpenBLAS provides them at link time */
#include <gsl/gsl_errno.h>
#include <gsl/gsl_linalg.h>
#include <gsl/gsl_matrix.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "quantize_internal.h"

#define DAMP 0.01 /* of the mean input energy, added to H's diagonal */
#define BLOCK 128 /* columns rounded between two matrix-product updates */

/* a[k] = b[len - 1 - k]: with a square matrix stored row-major this is
 * A[i][k] = B[n-1-i][n-1-k], the reversal of both index orders. */
static void reverse_copy(double *a, const double *b, size_t len)
{
    for (size_t k = 0; k < len; k++)
        a[k] = b[len - 1 - k];
}

/* The upper factor U of (H + damp I)^{-1} = U^T U (H symmetric, n x n).
 * With P the reversal permutation, P (H + damp I) P = L L^T (GSL's blocked
 * Cholesky), so H + damp I = R R^T with R = P L P upper triangular and
 * U = R^{-1} = P L^{-1} P.  U's strict lower triangle is zeroed.  -1 if
 * not positive definite or not finite (GSL's error handler is off
 * meanwhile: that is an expected outcome, retried with more damping). */
static int damped_inverse_factor(const double *H, int n, double damp, double *U)
{
    size_t nn = (size_t)n * n;
    reverse_copy(U, H, nn);
    for (int i = 0; i < n; i++)
        U[(size_t)i * n + i] += damp;
    gsl_matrix_view B = gsl_matrix_view_array(U, (size_t)n, (size_t)n);
    gsl_error_handler_t *old = gsl_set_error_handler_off();
    int st = gsl_linalg_cholesky_decomp1(&B.matrix);
    if (st == GSL_SUCCESS)
        st = gsl_linalg_tri_invert(CblasLower, CblasNonUnit, &B.matrix);
    gsl_set_error_handler(old);
    for (int i = 0; st == GSL_SUCCESS && i < n; i++) /* GSL lets NaN through */
        if (!(U[(size_t)i * n + i] > 0) || !isfinite(U[(size_t)i * n + i]))
            st = GSL_EDOM;
    if (st != GSL_SUCCESS)
        return -1;
    for (size_t k = 0; k < nn / 2; k++) { /* U = P L^{-1} P, in place */
        double t = U[k];
        U[k] = U[nn - 1 - k];
        U[nn - 1 - k] = t;
    }
    for (int i = 1; i < n; i++)
        memset(U + (size_t)i * n, 0, (size_t)i * sizeof *U);
    return 0;
}

/* The upper factor U of (H + damping)^{-1} = U^T U; NULL on ENOMEM. */
static double *inverse_factor(const double *H, int n)
{
    size_t nn = (size_t)n * n;
    double *U = malloc(nn * sizeof *U);
    if (!U)
        return NULL;
    double mean = 0;
    for (int i = 0; i < n; i++)
        mean += H[(size_t)i * n + i] / n;
    double damp = DAMP * (mean > 0 ? mean : 1);
    for (int tries = 0; tries < 8; tries++, damp *= 10)
        if (damped_inverse_factor(H, n, damp, U) == 0)
            return U;
    /* Not positive definite even when damped: no coupling (plain rounding). */
    memset(U, 0, nn * sizeof *U);
    for (int i = 0; i < n; i++)
        U[(size_t)i * n + i] = 1;
    return U;
}

static double round_to(double w, double s, int lo, int hi, int8_t *code)
{
    if (!(s > 0)) {
        *code = 0;
        return 0;
    }
    double c = floor(w / s + 0.5);
    c = c < lo ? lo : c > hi ? hi : c;
    *code = (int8_t)c;
    return s * c;
}

/* One block of columns [b0, b1) in column-major copies (column c is
 * contiguous over the rows: the rounding walks columns). */
typedef struct col_block {
    int b0, b1, rows;
    double *W;     /* [BLOCK][rows] the weights, then the errors over U_ii */
    int8_t *codes; /* [BLOCK][rows] */
    float *Q;      /* [BLOCK][rows] */
} col_block;

static void load_block(col_block *B, const double *W, int n)
{
    for (int j = 0; j < B->rows; j++)
        for (int i = B->b0; i < B->b1; i++)
            B->W[(size_t)(i - B->b0) * B->rows + j] = W[(size_t)j * n + i];
}

static void store_block(const col_block *B, int cols, int8_t *codes, float *Q)
{
    for (int j = 0; j < B->rows; j++)
        for (int i = B->b0; i < B->b1; i++) {
            size_t c = (size_t)(i - B->b0) * B->rows + j;
            codes[(size_t)j * cols + i] = B->codes[c];
            Q[(size_t)j * cols + i] = B->Q[c];
        }
}

/* Round column i (of group g) of the block; its weights are replaced by
 * the errors over U_ii. */
static void round_column(col_block *B, int i, int g, int cols, const snnc_q_plan *p,
                         const float *scales, const float *keep, double uii)
{
    int lo = snnc_q_code_lo(p->levels), hi = snnc_q_code_hi(p->levels);
    size_t c = (size_t)(i - B->b0) * B->rows;
    for (int j = 0; j < B->rows; j++) {
        double w = B->W[c + j], q = 0;
        if (!keep || keep[(size_t)j * cols + i] != 0)
            q = round_to(w, scales[(size_t)j * p->n_groups + g], lo, hi, &B->codes[c + j]);
        else
            B->codes[c + j] = 0;
        B->Q[c + j] = (float)q;
        B->W[c + j] = (w - q) / uii;
    }
}

/* Columns are rounded in order; rounding column i moves every later column
 * k (and the bias) by -e_i U_ik, e_i = (w_i - q_i) / U_ii.  In blocks of
 * BLOCK columns (GPTQ's lazy batch): the updates inside the block are
 * rank-one, those of the columns after it are applied once per block as
 * one matrix product W[:, b1:] -= E U[b0:b1, b1:], E [rows][block] the
 * block's errors — the same sums, in another order. */
int snnc_q_compensate(const float *M, int rows, int cols, const snnc_q_plan *p, const float *scales,
                      const double *H, const float *keep, int8_t *codes, float *Q, double *bias_delta)
{
    int n = cols + 1;
    double *U = inverse_factor(H, n);
    double *W = malloc((size_t)rows * n * sizeof *W);
    col_block B = {.rows = rows};
    B.W = malloc((size_t)rows * BLOCK * sizeof *B.W + 1);
    B.codes = malloc((size_t)rows * BLOCK + 1);
    B.Q = malloc((size_t)rows * BLOCK * sizeof *B.Q + 1);
    int *group = malloc((size_t)cols * sizeof *group + 1);
    int st = SNNC_ENOMEM;
    if (!U || !W || !B.W || !B.codes || !B.Q || !group)
        goto done;
    for (int j = 0; j < rows; j++) {
        for (int i = 0; i < cols; i++)
            W[(size_t)j * n + i] = M[(size_t)j * cols + i];
        W[(size_t)j * n + cols] = 0; /* the bias's change */
    }
    for (int g = 0; g < p->n_groups; g++)
        for (int i = p->group_start[g]; i < p->group_start[g + 1]; i++)
            group[i] = g;
    for (B.b0 = 0; B.b0 < cols; B.b0 = B.b1) {
        B.b1 = B.b0 + BLOCK < cols ? B.b0 + BLOCK : cols;
        load_block(&B, W, n);
        for (int i = B.b0; i < B.b1; i++) {
            size_t c = (size_t)(i - B.b0) * rows;
            round_column(&B, i, group[i], cols, p, scales, keep, U[(size_t)i * n + i]);
            if (B.b1 - i - 1 > 0) /* the block's later columns absorb the errors now */
                cblas_dger(CblasColMajor, rows, B.b1 - i - 1, -1.0, B.W + c, 1,
                           U + (size_t)i * n + i + 1, 1, B.W + c + rows, rows);
        }
        store_block(&B, cols, codes, Q);
        /* the inputs after the block, and the bias, absorb them at once */
        cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, rows, n - B.b1, B.b1 - B.b0, -1.0,
                    B.W, rows, U + (size_t)B.b0 * n + B.b1, n, 1.0, W + B.b1, n);
    }
    for (int j = 0; j < rows; j++)
        bias_delta[j] = W[(size_t)j * n + cols];
    st = SNNC_OK;
done:
    free(U);
    free(W);
    free(B.W);
    free(B.codes);
    free(B.Q);
    free(group);
    return st;
}

/* sum_j x_j^T H x_j = <H, X^T X> (Frobenius): with G = X^T X from dsyrk
 * (half the work of X H), sum_i H_ii G_ii + 2 sum_{i<k} H_ik G_ik over the
 * upper triangle; for few rows X H is cheaper than the n x n G. */
static double quadratic_by_gram(const double *H, int n, const double *X, int rows)
{
    double *G = malloc((size_t)n * n * sizeof *G), total = 0;
    if (!G)
        return NAN;
    cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, n, rows, 1.0, X, n, 0.0, G, n);
    for (int i = 0; i < n; i++) {
        const double *h = H + (size_t)i * n, *g = G + (size_t)i * n;
        double off = 0;
        for (int k = i + 1; k < n; k++)
            off += h[k] * g[k];
        total += h[i] * g[i] + 2 * off;
    }
    free(G);
    return total;
}

double snnc_q_quadratic(const double *H, int n, const double *X, int rows)
{
    if (4 * (int64_t)rows >= n)
        return quadratic_by_gram(H, n, X, rows);
    double *Y = malloc((size_t)rows * n * sizeof *Y + 1), total = 0;
    if (!Y)
        return NAN;
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, rows, n, n, 1.0, X, n, H, n, 0.0, Y, n);
    for (size_t k = 0; k < (size_t)rows * n; k++)
        total += Y[k] * X[k];
    free(Y);
    return total;
}
