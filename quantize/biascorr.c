/* biascorr.c — recurrence-aware bias correction on calibration data
 * (interface: quantize_internal.h; derivation: docs/QUANTIZE.md §5a).  The
 * constrained network is run in closed loop (its own quantised states fed
 * back) and each layer's bias is moved so that the mean of its
 * pre-activations over the calibration batch and the whole sequence equals
 * the float network's.  For the recurrent layer a bias change d is fed back
 * through U at every step, so the mean pre-activation moves by A d, not d:
 * with the linearised step response, A = (1/T) sum_{k<T} (T - k) (U D)^k
 * (D the mean slope of activation and quantiser), and the correction solves
 * A d = -e.  Layers in order, a few iterations each (the linearisation is
 * only local). */
#include <gsl/gsl_errno.h>
#include <gsl/gsl_linalg.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ir/error.h"
#include "quantize_internal.h"

/* Per-layer accumulators for snnc_ann_run_preact, in one allocation
 * hanging from p[0].mean. */
static snnc_ann_preact *preact_new(const snnc_ann *a)
{
    size_t total = 0;
    for (int l = 0; l < a->n_layers; l++)
        total += 2 * (size_t)a->layers[l].n_out;
    snnc_ann_preact *p = a->n_layers > 0 ? calloc((size_t)a->n_layers, sizeof *p) : NULL;
    double *m = malloc(total * sizeof *m + 1);
    if (!p || !m) {
        free(p);
        free(m);
        return NULL;
    }
    for (int l = 0; l < a->n_layers; l++) {
        p[l].mean = m;
        p[l].slope = m + a->layers[l].n_out;
        m += 2 * (size_t)a->layers[l].n_out;
    }
    return p;
}

void snnc_q_preact_free(snnc_ann_preact *p)
{
    if (p)
        free(p[0].mean);
    free(p);
}

static int run_means(const snnc_ann *a, const snnc_tensor *calib, snnc_ann_preact *pre, snnc_err *err)
{
    snnc_tensor *y = NULL;
    int st = snnc_ann_run_preact(a, calib, &y, NULL, pre, err);
    snnc_tensor_free(y);
    return st;
}

int snnc_q_step_response(const float *U, const double *D, int n, int T, double *A)
{
    size_t nn = (size_t)n * n;
    double *P = malloc(nn * sizeof *P), *N = malloc(nn * sizeof *N);
    if (!P || !N) {
        free(P);
        free(N);
        return SNNC_ENOMEM;
    }
    memset(P, 0, nn * sizeof *P); /* P = (U D)^k, from k = 0 */
    for (int i = 0; i < n; i++)
        P[(size_t)i * n + i] = 1;
    memset(A, 0, nn * sizeof *A);
    for (int k = 0; k < T; k++) {
        double w = (double)(T - k) / T;
        for (size_t e = 0; e < nn; e++)
            A[e] += w * P[e];
        if (k + 1 == T)
            break;
        for (int i = 0; i < n; i++) /* N = U D P */
            for (int j = 0; j < n; j++) {
                double s = 0;
                for (int m = 0; m < n; m++)
                    s += (double)U[(size_t)i * n + m] * D[m] * P[(size_t)m * n + j];
                N[(size_t)i * n + j] = s;
            }
        double *t = P;
        P = N;
        N = t;
    }
    free(P);
    free(N);
    return SNNC_OK;
}

/* d = -A^{-1} e (LU); where A is singular, d = -e. */
static int solve_shift(double *A, const double *e, int n, double *d)
{
    gsl_matrix_view M = gsl_matrix_view_array(A, (size_t)n, (size_t)n);
    gsl_vector_const_view ev = gsl_vector_const_view_array(e, (size_t)n);
    gsl_vector_view dv = gsl_vector_view_array(d, (size_t)n);
    gsl_permutation *perm = gsl_permutation_alloc((size_t)n);
    if (!perm)
        return SNNC_ENOMEM;
    int sign;
    gsl_error_handler_t *old = gsl_set_error_handler_off();
    int st = gsl_linalg_LU_decomp(&M.matrix, perm, &sign);
    if (st == GSL_SUCCESS)
        st = gsl_linalg_LU_solve(&M.matrix, perm, &ev.vector, &dv.vector);
    gsl_set_error_handler(old);
    gsl_permutation_free(perm);
    for (int i = 0; st == GSL_SUCCESS && i < n; i++)
        if (!isfinite(d[i]))
            st = GSL_EDOM;
    for (int i = 0; i < n; i++)
        d[i] = st == GSL_SUCCESS ? -d[i] : -e[i];
    return SNNC_OK;
}

/* The bias change of layer l from the closed-loop mean error e. */
static int layer_shift(const snnc_ann *q, int l, const snnc_ann_preact *pq, const double *e, bool recurrence,
                       double *d)
{
    const snnc_ann_layer *L = &q->layers[l];
    int n = L->n_out;
    if (L->role != SNNC_ANN_RECURRENT || !recurrence) {
        for (int j = 0; j < n; j++)
            d[j] = -e[j];
        return SNNC_OK;
    }
    double *A = malloc((size_t)n * n * sizeof *A);
    int st = A ? snnc_q_step_response(L->U, pq[l].slope, n, q->steps, A) : SNNC_ENOMEM;
    if (st == SNNC_OK)
        st = solve_shift(A, e, n, d);
    free(A);
    return st;
}

snnc_ann_preact *snnc_q_preact(const snnc_ann *a, const snnc_tensor *calib, snnc_err *err)
{
    snnc_ann_preact *p = preact_new(a);
    if (!p) {
        snnc_fail(err, SNNC_ENOMEM, "out of memory");
        return NULL;
    }
    if (calib && run_means(a, calib, p, err) != SNNC_OK) {
        snnc_q_preact_free(p);
        return NULL;
    }
    return p;
}

int snnc_q_bias_correct(const snnc_ann *a, snnc_ann *q, const snnc_tensor *calib, int iterations,
                        bool recurrence, snnc_err *err)
{
    snnc_ann_preact *pf = snnc_q_preact(a, calib, err);
    int st = pf ? snnc_q_bias_correct_ref(pf, q, calib, iterations, recurrence, err) : err->code;
    snnc_q_preact_free(pf);
    return st;
}

/* The last layer, when it is linear and unquantised (the readout read from
 * the membranes), moves exactly by d: one iteration is exact. */
static int layer_iterations(const snnc_ann *q, int l, int iterations)
{
    const snnc_ann_layer *L = &q->layers[l];
    return l == q->n_layers - 1 && L->act == SNNC_ACT_NONE && L->out_q.levels <= 0 && iterations > 1 ? 1
                                                                                                     : iterations;
}

int snnc_q_bias_correct_ref(const snnc_ann_preact *pf, snnc_ann *q, const snnc_tensor *calib, int iterations,
                            bool recurrence, snnc_err *err)
{
    snnc_ann_preact *pq = preact_new(q);
    int width = 1;
    for (int l = 0; l < q->n_layers; l++)
        width = q->layers[l].n_out > width ? q->layers[l].n_out : width;
    double *e = malloc((size_t)width * sizeof *e), *d = malloc((size_t)width * sizeof *d);
    int st = pq && e && d ? SNNC_OK : snnc_fail(err, SNNC_ENOMEM, "out of memory");
    for (int l = 0; l < q->n_layers && st == SNNC_OK; l++)
        for (int it = 0; it < layer_iterations(q, l, iterations) && st == SNNC_OK; it++) {
            st = run_means(q, calib, pq, err);
            for (int j = 0; st == SNNC_OK && j < q->layers[l].n_out; j++)
                e[j] = pq[l].mean[j] - pf[l].mean[j];
            if (st == SNNC_OK && (st = layer_shift(q, l, pq, e, recurrence, d)) != SNNC_OK)
                snnc_fail(err, st, "out of memory");
            for (int j = 0; st == SNNC_OK && j < q->layers[l].n_out; j++)
                q->layers[l].b[j] = (float)(q->layers[l].b[j] + d[j]);
        }
    snnc_q_preact_free(pq);
    free(e);
    free(d);
    return st;
}
