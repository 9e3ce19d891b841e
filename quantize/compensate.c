/* compensate.c — quantisation with error compensation on calibration data
 * (interface: quantize_internal.h; derivation: docs/QUANTIZE.md).  With the
 * second moments H = E[u u^T] of a layer's inputs (the constant 1 of the
 * bias last), a row's weights are rounded one input at a time and each
 * rounding error is spread over the inputs not yet rounded, and finally
 * the bias, so that the pre-activation error (w - q)^T H (w - q) stays
 * small rather than the weight error (the optimal-brain-surgeon update as
 * in GPTQ, Frantar et al. 2023).  Pruned weights are "rounded" to zero the
 * same way.  The scales stay those of the plain quantiser. */
#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "quantize_internal.h"

#define DAMP 0.01 /* of the mean input energy, added to H's diagonal */

/* H = R R^T with R upper triangular, factored from the last index down;
 * R overwrites H's upper triangle.  -1 if H is not positive definite. */
static int cholesky_upper(double *H, int n)
{
    for (int j = n - 1; j >= 0; j--) {
        double d = H[(size_t)j * n + j];
        for (int k = j + 1; k < n; k++)
            d -= H[(size_t)j * n + k] * H[(size_t)j * n + k];
        if (!(d > 0))
            return -1;
        d = sqrt(d);
        H[(size_t)j * n + j] = d;
        for (int i = 0; i < j; i++) {
            double v = H[(size_t)i * n + j];
            for (int k = j + 1; k < n; k++)
                v -= H[(size_t)i * n + k] * H[(size_t)j * n + k];
            H[(size_t)i * n + j] = v / d;
        }
    }
    return 0;
}

/* U = R^{-1} (upper triangular), row by row from the bottom:
 * U_i = (e_i - sum_{k>i} R_ik U_k) / R_ii.  Then H^{-1} = U^T U. */
static void invert_upper(const double *R, int n, double *U)
{
    memset(U, 0, (size_t)n * n * sizeof *U);
    for (int i = n - 1; i >= 0; i--) {
        double *ui = U + (size_t)i * n, rii = R[(size_t)i * n + i];
        ui[i] = 1 / rii;
        for (int k = i + 1; k < n; k++) {
            double f = -R[(size_t)i * n + k] / rii;
            const double *uk = U + (size_t)k * n;
            for (int c = k; c < n; c++)
                ui[c] += f * uk[c];
        }
    }
}

/* The upper factor U of (H + damping)^{-1} = U^T U; NULL on ENOMEM. */
static double *inverse_factor(const double *H, int n)
{
    double *A = malloc((size_t)n * n * sizeof *A), *U = malloc((size_t)n * n * sizeof *U);
    if (!A || !U) {
        free(A);
        free(U);
        return NULL;
    }
    memcpy(A, H, (size_t)n * n * sizeof *A);
    double mean = 0;
    for (int i = 0; i < n; i++)
        mean += A[(size_t)i * n + i] / n;
    double damp = DAMP * (mean > 0 ? mean : 1);
    for (int tries = 0; tries < 8; tries++, damp *= 10) {
        memcpy(A, H, (size_t)n * n * sizeof *A);
        for (int i = 0; i < n; i++)
            A[(size_t)i * n + i] += damp;
        if (cholesky_upper(A, n) == 0) {
            invert_upper(A, n, U);
            free(A);
            return U;
        }
    }
    /* Not positive definite even when damped: no coupling (plain rounding). */
    memset(U, 0, (size_t)n * n * sizeof *U);
    for (int i = 0; i < n; i++)
        U[(size_t)i * n + i] = 1;
    free(A);
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

int snnc_q_compensate(const float *M, int rows, int cols, const snnc_q_plan *p, const float *scales,
                      const double *H, const float *keep, int8_t *codes, float *Q, double *bias_delta)
{
    int n = cols + 1, lo = snnc_q_code_lo(p->levels), hi = snnc_q_code_hi(p->levels);
    double *U = inverse_factor(H, n);
    double *W = malloc((size_t)rows * n * sizeof *W), *e = malloc((size_t)rows * sizeof *e + 1);
    if (!U || !W || !e) {
        free(U);
        free(W);
        free(e);
        return SNNC_ENOMEM;
    }
    for (int j = 0; j < rows; j++) {
        for (int i = 0; i < cols; i++)
            W[(size_t)j * n + i] = M[(size_t)j * cols + i];
        W[(size_t)j * n + cols] = 0; /* the bias's change */
    }
    for (int g = 0; g < p->n_groups; g++)
        for (int i = p->group_start[g]; i < p->group_start[g + 1]; i++) {
            double uii = U[(size_t)i * n + i];
            for (int j = 0; j < rows; j++) {
                size_t k = (size_t)j * cols + i;
                double w = W[(size_t)j * n + i], q = 0;
                if (!keep || keep[k] != 0)
                    q = round_to(w, scales[(size_t)j * p->n_groups + g], lo, hi, &codes[k]);
                else
                    codes[k] = 0;
                Q[k] = (float)q;
                e[j] = (w - q) / uii;
            }
            /* the inputs after i (and the bias) absorb the errors */
            cblas_dger(CblasRowMajor, rows, n - i - 1, -1.0, e, 1, U + (size_t)i * n + i + 1, 1,
                       W + i + 1, n);
        }
    for (int j = 0; j < rows; j++)
        bias_delta[j] = W[(size_t)j * n + cols];
    free(U);
    free(W);
    free(e);
    return SNNC_OK;
}

double snnc_q_quadratic(const double *H, int n, const double *X, int rows)
{
    double *Y = malloc((size_t)rows * n * sizeof *Y + 1), total = 0;
    if (!Y)
        return NAN;
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, rows, n, n, 1.0, X, n, H, n, 0.0, Y, n);
    for (size_t k = 0; k < (size_t)rows * n; k++)
        total += Y[k] * X[k];
    free(Y);
    return total;
}
