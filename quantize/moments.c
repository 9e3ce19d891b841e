/* moments.c — activity ranges without calibration data (interface:
 * quantize_internal.h; derivation: docs/QUANTIZE.md).  The input is taken
 * uniform on its range; every pre-activation is modelled as Gaussian with
 * the mean and variance its weights give (inputs independent), the
 * activation's output moments feed the next layer (the recurrent layer step
 * by step from h_0 = 0), and a layer's range is the percentile of the
 * pooled |activity| over its units (and steps) under that model — the
 * quantity the calibrated ranges measure.  Products through CBLAS. */
#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ir/error.h"
#include "quantize_internal.h"

#define UNKNOWN_STEPS_MAX 1000 /* steps iterated when the length is not fixed */
#define MOMENT_LIMIT 1e30
#define SIMPSON_STEP 0.05      /* tanh moments over mean +- 8 sd: step in z, */
#define SIMPSON_MAX 1024       /* at most this many intervals */
#define TAIL_SDS 10.0

static double gauss_pdf(double x) { return exp(-0.5 * x * x) / sqrt(2 * M_PI); }
static double gauss_cdf(double x) { return 0.5 * erfc(-x / M_SQRT2); }
static double gauss_tail(double x) { return 0.5 * erfc(x / M_SQRT2); }

static double act_f(snnc_act f, double z) { return f == SNNC_ACT_RELU ? fmax(z, 0) : f == SNNC_ACT_TANH ? tanh(z) : z; }

/* Mean and variance of f(z) for z ~ N(m, v): ReLU in closed form (the
 * rectified Gaussian), tanh by Simpson's rule. */
static void act_moments(snnc_act f, double m, double v, float *mean, float *var)
{
    double s = sqrt(v), e1, e2;
    if (f == SNNC_ACT_NONE || s == 0) {
        *mean = (float)act_f(f, m);
        *var = f == SNNC_ACT_NONE ? (float)v : 0;
        return;
    }
    if (f == SNNC_ACT_RELU) {
        double a = m / s;
        e1 = m * gauss_cdf(a) + s * gauss_pdf(a);
        e2 = (m * m + v) * gauss_cdf(a) + m * s * gauss_pdf(a);
    } else {
        /* tanh bends over a width of 1: the step follows that, not only s */
        int N = (int)fmin(SIMPSON_MAX, 2 * ceil(8 * s / fmin(SIMPSON_STEP, s / 4)));
        double h = 16 * s / N, w_sum = 0;
        e1 = e2 = 0;
        for (int k = 0; k <= N; k++) {
            double z = m - 8 * s + k * h, y = tanh(z);
            double w = (k == 0 || k == N ? 1 : k % 2 ? 4 : 2) * gauss_pdf((z - m) / s);
            e1 += w * y;
            e2 += w * y * y;
            w_sum += w;
        }
        e1 /= w_sum;
        e2 /= w_sum;
    }
    *mean = (float)e1;
    *var = (float)fmax(e2 - e1 * e1, 0);
}

/* ------------------------------------------------------------ pooled percentile */

/* Mean over the n pre-activations N(m_j, s_j^2) of P(|f(z_j)| > x). */
static double pooled_tail(snnc_act f, const float *m, const float *s, int64_t n, double x)
{
    if (f == SNNC_ACT_TANH && x >= 1)
        return 0;
    double g = f == SNNC_ACT_TANH ? atanh(x) : x, sum = 0;
    for (int64_t j = 0; j < n; j++) {
        if (s[j] == 0)
            sum += f == SNNC_ACT_RELU ? m[j] > g : fabs(m[j]) > g;
        else
            sum += gauss_tail((g - m[j]) / s[j]) + (f == SNNC_ACT_RELU ? 0 : gauss_tail((g + m[j]) / s[j]));
    }
    return sum / (double)n;
}

/* x with pooled_tail(x) = 1 - p / 100, by bisection. */
static double pooled_percentile(snnc_act f, const float *m, const float *s, int64_t n, double p)
{
    double hi = 0, lo = 0, target = 1 - p / 100;
    for (int64_t j = 0; j < n; j++)
        hi = fmax(hi, fabs(act_f(f, fabs(m[j]) + TAIL_SDS * s[j])));
    for (int it = 0; it < 100 && hi > lo; it++) {
        double mid = 0.5 * (lo + hi);
        if (pooled_tail(f, m, s, n, mid) > target)
            lo = mid;
        else
            hi = mid;
    }
    return hi;
}

/* ------------------------------------------------------------ layers */

typedef struct moments {
    float *mean, *var; /* per unit of the current activity */
    int n;
} moments;

/* Pre-activation moments of rows j: mean = b + W mean_in, var = W.^2 var_in
 * (W2: the squared weights). */
static void pre_moments(const float *W, const float *W2, const float *b, int n_out, int n_in,
                        const moments *in, float beta, float *m, float *v)
{
    if (b)
        memcpy(m, b, (size_t)n_out * sizeof *m);
    cblas_sgemv(CblasRowMajor, CblasNoTrans, n_out, n_in, 1.0f, W, n_in, in->mean, 1, b ? 1.0f : beta, m, 1);
    cblas_sgemv(CblasRowMajor, CblasNoTrans, n_out, n_in, 1.0f, W2, n_in, in->var, 1, beta, v, 1);
}

static float *squared(const float *w, size_t n)
{
    float *s = malloc(n * sizeof *s + 1);
    for (size_t i = 0; s && i < n; i++)
        s[i] = w[i] * w[i];
    return s;
}

static bool too_large(const float *m, const float *v, int64_t n)
{
    for (int64_t j = 0; j < n; j++)
        if (!(fabsf(m[j]) <= MOMENT_LIMIT && v[j] <= MOMENT_LIMIT))
            return true;
    return false;
}

/* One layer: the pre-activation moments of every unit (and step) go to
 * pm/ps (sd), the output moments replace *io. */
static int layer_moments(const snnc_ann *a, const snnc_ann_layer *L, moments *io, float **pm, float **ps,
                         int64_t *n_pre)
{
    bool rec = L->role == SNNC_ANN_RECURRENT;
    int n = L->n_out, steps = !rec ? 1 : a->steps > 0 ? a->steps : UNKNOWN_STEPS_MAX;
    float *W2 = squared(L->W, (size_t)n * L->n_in), *U2 = rec ? squared(L->U, (size_t)n * n) : NULL;
    float *xm = malloc((size_t)n * sizeof *xm), *xv = malloc((size_t)n * sizeof *xv);
    float *hm = calloc((size_t)n, sizeof *hm), *hv = calloc((size_t)n, sizeof *hv);
    *pm = malloc((size_t)steps * n * sizeof **pm);
    *ps = malloc((size_t)steps * n * sizeof **ps);
    int st = W2 && (U2 || !rec) && xm && xv && hm && hv && *pm && *ps ? SNNC_OK : SNNC_ENOMEM;
    if (st == SNNC_OK)
        pre_moments(L->W, W2, L->b, n, L->n_in, io, 0, xm, xv); /* the input part, every step */
    int t = 0;
    for (; t < steps && st == SNNC_OK; t++) {
        float *m = *pm + (size_t)t * n, *v = *ps + (size_t)t * n;
        memcpy(m, xm, (size_t)n * sizeof *m);
        memcpy(v, xv, (size_t)n * sizeof *v);
        if (rec && t > 0) {
            moments h = {hm, hv, n};
            pre_moments(L->U, U2, NULL, n, n, &h, 1.0f, m, v);
        }
        if (too_large(m, v, n)) {
            st = SNNC_EUNSUPPORTED;
            break;
        }
        double change = 0;
        for (int j = 0; j < n; j++) {
            float om = hm[j], ov = hv[j];
            act_moments(L->act, m[j], v[j], &hm[j], &hv[j]);
            change = fmax(change, fabs(hm[j] - om) + fabs(sqrtf(hv[j]) - sqrtf(ov)));
            v[j] = sqrtf(v[j]);
        }
        if (rec && a->steps <= 0 && t > 0 && change <= 1e-6 * (1 + fabs(hm[0])))
            break; /* stationary: the remaining steps repeat this one */
    }
    *n_pre = (int64_t)(t < steps ? t + 1 : steps) * n;
    free(io->mean);
    free(io->var);
    *io = (moments){hm, hv, n};
    free(W2);
    free(U2);
    free(xm);
    free(xv);
    return st;
}

int snnc_q_ranges_moments(const snnc_ann *a, double percentile, snnc_q_ranges *r, snnc_err *err)
{
    bool given = a->in_q.hi > 0;
    r->in = given ? a->in_q.hi : 1.0f;
    r->in_signed = given ? a->in_q.lo < 0 : true;
    moments io = {malloc((size_t)a->n_inputs * sizeof(float)), malloc((size_t)a->n_inputs * sizeof(float)),
                  a->n_inputs};
    int st = io.mean && io.var ? SNNC_OK : SNNC_ENOMEM;
    for (int i = 0; i < a->n_inputs && st == SNNC_OK; i++) { /* uniform on [-a, a] or [0, a] */
        io.mean[i] = r->in_signed ? 0 : r->in / 2;
        io.var[i] = r->in * r->in / (r->in_signed ? 3.0f : 12.0f);
    }
    for (int l = 0; l < a->n_layers && st == SNNC_OK; l++) {
        const snnc_ann_layer *L = &a->layers[l];
        float *pm = NULL, *ps = NULL;
        int64_t n = 0;
        st = layer_moments(a, L, &io, &pm, &ps, &n);
        if (st == SNNC_OK) {
            double range = pooled_percentile(L->act, pm, ps, n, percentile);
            r->layer[l] = range > 0 && range <= MOMENT_LIMIT ? (float)range : 1.0f;
        } else if (st == SNNC_EUNSUPPORTED) {
            snnc_fail(err, st,
                      "layer '%s': without calibration data its activity estimate grows without limit "
                      "over the sequence; give calibration inputs",
                      L->name);
        }
        free(pm);
        free(ps);
    }
    free(io.mean);
    free(io.var);
    return st == SNNC_ENOMEM ? snnc_fail(err, st, "out of memory estimating activity ranges") : st;
}
