/* activity.c — activity ranges of a network's input and of every layer's
 * output from calibration inputs (interface: quantize_internal.h): the
 * percentile of |activity| (recurrent states from snnc_ann_run, dense layers
 * applied here with cblas_sgemm), and the network's structure check.
 * Without data the ranges come from moments.c.  See docs/QUANTIZE.md. */
#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ir/error.h"
#include "ir/tensor.h"
#include "quantize_internal.h"

/* ------------------------------------------------------------ percentile */

static float median3(float a, float b, float c)
{
    if (a > b) {
        float t = a;
        a = b;
        b = t;
    }
    return c < a ? a : c > b ? b : c;
}

/* The k-th smallest of v[0..n) (Hoare quickselect); reorders v so that
 * v[0..k) <= v[k] <= v[k+1..n). */
static float select_kth(float *v, int64_t n, int64_t k)
{
    int64_t lo = 0, hi = n - 1;
    while (lo < hi) {
        float pivot = median3(v[lo], v[lo + (hi - lo) / 2], v[hi]);
        int64_t i = lo, j = hi;
        while (i <= j) {
            while (v[i] < pivot)
                i++;
            while (v[j] > pivot)
                j--;
            if (i <= j) {
                float t = v[i];
                v[i++] = v[j];
                v[j--] = t;
            }
        }
        if (k <= j)
            hi = j;
        else if (k >= i)
            lo = i;
        else
            break; /* v[j+1 .. i-1] all equal the pivot */
    }
    return v[k];
}

double snnc_q_percentile(float *v, int64_t n, double p)
{
    double pos = p / 100.0 * (double)(n - 1);
    int64_t k = (int64_t)floor(pos);
    if (k >= n - 1)
        k = n - 1;
    double vk = select_kth(v, n, k), frac = pos - (double)k;
    if (frac <= 0 || k + 1 >= n)
        return vk;
    float next = v[k + 1];
    for (int64_t i = k + 2; i < n; i++)
        if (v[i] < next)
            next = v[i];
    return vk + frac * ((double)next - vk);
}

/* The range of values v[0..n): percentile of |v|; when that is 0, max |v|;
 * when that is 0 too (a silent layer), 1 — any range represents zeros. */
static int range_of(const float *v, int64_t n, double p, float *out)
{
    float *abs_v = malloc((size_t)(n > 0 ? n : 1) * sizeof *abs_v);
    if (!abs_v)
        return SNNC_ENOMEM;
    float mx = 0;
    for (int64_t i = 0; i < n; i++) {
        abs_v[i] = fabsf(v[i]);
        mx = abs_v[i] > mx ? abs_v[i] : mx;
    }
    double r = n > 0 ? snnc_q_percentile(abs_v, n, p) : 0;
    free(abs_v);
    *out = r > 0 ? (float)r : mx > 0 ? mx : 1.0f;
    return SNNC_OK;
}

/* Per unit j of v [rows][n]: the range of its own values (range_of's rule,
 * a silent unit getting `fallback`). */
static int unit_ranges(const float *v, int64_t rows, int n, double p, float fallback, float *out)
{
    float *col = malloc((size_t)(rows > 0 ? rows : 1) * sizeof *col);
    if (!col)
        return SNNC_ENOMEM;
    for (int j = 0; j < n; j++) {
        float mx = 0;
        for (int64_t r = 0; r < rows; r++) {
            col[r] = fabsf(v[r * n + j]);
            mx = col[r] > mx ? col[r] : mx;
        }
        double q = rows > 0 ? snnc_q_percentile(col, rows, p) : 0;
        out[j] = q > 0 ? (float)q : mx > 0 ? mx : fallback;
    }
    free(col);
    return SNNC_OK;
}

/* ------------------------------------------------------------ structure */

static const char *role_name(snnc_ann_role r)
{
    return r == SNNC_ANN_STEP_DENSE ? "step dense" : r == SNNC_ANN_RECURRENT ? "recurrent" : "readout";
}

int snnc_q_check_structure(const snnc_ann *a, snnc_err *err)
{
    int n_rec = 0, width = a->n_inputs;
    snnc_ann_role prev = SNNC_ANN_STEP_DENSE;
    if (a->n_layers <= 0 || !a->layers || a->n_inputs <= 0)
        return snnc_fail(err, SNNC_EINVALID, "network has no layers or no inputs");
    for (int l = 0; l < a->n_layers; l++) {
        const snnc_ann_layer *L = &a->layers[l];
        if ((unsigned)L->role >= SNNC_ANN_ROLE_COUNT || (unsigned)L->act >= SNNC_ACT_COUNT ||
            L->role < prev || (L->role == SNNC_ANN_RECURRENT && n_rec++))
            return snnc_fail(err, SNNC_EINVALID,
                             "layer '%s': expected step dense layers, one recurrent layer, readouts",
                             L->name);
        if (L->n_in != width || L->n_out <= 0 || !L->W || !L->b ||
            (L->role == SNNC_ANN_RECURRENT && !L->U))
            return snnc_fail(err, SNNC_EINVALID, "layer '%s' (%s): %d inputs, %d outputs, expected %d inputs",
                             L->name, role_name(L->role), L->n_in, L->n_out, width);
        width = L->n_out;
        prev = L->role;
    }
    if (n_rec != 1)
        return snnc_fail(err, SNNC_EINVALID, "network has no recurrent layer");
    return SNNC_OK;
}

/* ------------------------------------------------------------ calibration */

/* y[rows][n_out] = f(x[rows][n_in] W^T + b). */
static float *dense_forward(const snnc_ann_layer *L, const float *x, int64_t rows)
{
    float *y = malloc((size_t)(rows > 0 ? rows : 1) * (size_t)L->n_out * sizeof *y);
    if (!y)
        return NULL;
    if (rows > 0)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)rows, L->n_out, L->n_in, 1.0f, x,
                    L->n_in, L->W, L->n_in, 0.0f, y, L->n_out);
    for (int64_t r = 0; r < rows; r++)
        for (int j = 0; j < L->n_out; j++) {
            float *v = &y[r * L->n_out + j];
            *v += L->b[j];
            *v = L->act == SNNC_ACT_RELU ? fmaxf(*v, 0) : L->act == SNNC_ACT_TANH ? tanhf(*v) : *v;
        }
    return y;
}

/* ------------------------------------------------------------ second moments */

#define GRAM_MAX_SAMPLES 2048

/* Where sample k's input row comes from: a dense layer reads row k of x;
 * the recurrent layer reads [x_{t,b} | h_{t-1,b}] (h_{-1} = 0), with k = t B + b. */
typedef struct sample_src {
    const float *x;
    int n_x;
    const float *h; /* [T][B][n_h] or NULL */
    int n_h;
    int64_t T, B;
    bool batch_first;
} sample_src;

static void sample_row(const sample_src *s, int64_t k, float *dst)
{
    if (!s->h) {
        memcpy(dst, s->x + k * s->n_x, (size_t)s->n_x * sizeof *dst);
        return;
    }
    int64_t t = k / s->B, b = k % s->B, xr = s->batch_first ? b * s->T + t : t * s->B + b;
    memcpy(dst, s->x + xr * s->n_x, (size_t)s->n_x * sizeof *dst);
    if (t > 0)
        memcpy(dst + s->n_x, s->h + ((t - 1) * s->B + b) * s->n_h, (size_t)s->n_h * sizeof *dst);
    else
        memset(dst + s->n_x, 0, (size_t)s->n_h * sizeof *dst);
}

/* E[[u | 1][u | 1]^T] over at most GRAM_MAX_SAMPLES evenly spaced samples. */
static int gram_of(const sample_src *src, int64_t n_samples, double **out)
{
    int n = src->n_x + (src->h ? src->n_h : 0) + 1;
    int64_t S = n_samples < GRAM_MAX_SAMPLES ? n_samples : GRAM_MAX_SAMPLES;
    float *A = malloc((size_t)(S > 0 ? S : 1) * n * sizeof *A), *G = malloc((size_t)n * n * sizeof *G);
    double *D = malloc((size_t)n * n * sizeof *D);
    if (!A || !G || !D || S <= 0) {
        free(A);
        free(G);
        free(D);
        return S <= 0 ? SNNC_EINVALID : SNNC_ENOMEM;
    }
    for (int64_t k = 0; k < S; k++) {
        sample_row(src, k * n_samples / S, A + k * n);
        A[k * n + n - 1] = 1;
    }
    cblas_ssyrk(CblasRowMajor, CblasUpper, CblasTrans, n, (int)S, 1.0f / (float)S, A, n, 0.0f, G, n);
    for (int i = 0; i < n; i++)
        for (int k = i; k < n; k++)
            D[(size_t)i * n + k] = D[(size_t)k * n + i] = G[(size_t)i * n + k];
    free(A);
    free(G);
    *out = D;
    return SNNC_OK;
}

/* ------------------------------------------------------------ layers */

/* The recurrent states on the calibration batch: range, second moments of
 * the inputs [x_t | h_{t-1}] (gram not NULL; x: the layer's input rows),
 * and h_T rows. */
static int recurrent_states(const snnc_ann *a, const snnc_tensor *x, const float *xin,
                            const snnc_ann_layer *L, double p, float *range, float *unit, double **gram,
                            float **hT, int64_t *rows, snnc_err *err)
{
    snnc_tensor *out = NULL, *hidden = NULL;
    int st = snnc_ann_run(a, x, &out, &hidden, err);
    snnc_tensor_free(out);
    if (st != SNNC_OK)
        return st;
    int64_t per_step = hidden && hidden->rank == 3 ? hidden->dims[1] * hidden->dims[2] : -1;
    if (!hidden || hidden->dtype != SNNC_F32 || hidden->dims[0] <= 0 || hidden->dims[2] != L->n_out) {
        snnc_tensor_free(hidden);
        return snnc_fail(err, SNNC_EINVALID, "layer '%s': no recurrent states from the calibration run",
                         L->name);
    }
    st = range_of(snnc_f32(hidden), hidden->count, p, range);
    if (st == SNNC_OK && unit)
        st = unit_ranges(snnc_f32(hidden), hidden->dims[0] * hidden->dims[1], L->n_out, p, *range, unit);
    *rows = hidden->dims[1];
    if (st == SNNC_OK && gram) {
        sample_src src = {xin, L->n_in, snnc_f32(hidden), L->n_out, hidden->dims[0], hidden->dims[1],
                          a->batch_first};
        st = gram_of(&src, hidden->dims[0] * hidden->dims[1], gram);
    }
    *hT = malloc((size_t)(per_step > 0 ? per_step : 1) * sizeof **hT);
    if (st == SNNC_OK && *hT)
        memcpy(*hT, snnc_f32(hidden) + (hidden->dims[0] - 1) * per_step, (size_t)per_step * sizeof **hT);
    else
        st = SNNC_ENOMEM;
    snnc_tensor_free(hidden);
    return st == SNNC_ENOMEM ? snnc_fail(err, st, "out of memory for the calibration states") : st;
}

static int calib_layers(const snnc_ann *a, const snnc_tensor *x, double p, snnc_q_ranges *r,
                        snnc_err *err)
{
    const float *cur = snnc_f32(x);
    float *owned = NULL;
    int64_t rows = x->count / a->n_inputs;
    int st = SNNC_OK;
    for (int l = 0; l < a->n_layers && st == SNNC_OK; l++) {
        const snnc_ann_layer *L = &a->layers[l];
        float *next = NULL;
        double **gram = r->gram ? &r->gram[l] : NULL;
        if (L->role == SNNC_ANN_RECURRENT) {
            st = recurrent_states(a, x, cur, L, p, &r->layer[l], r->unit ? r->unit[l] : NULL, gram, &next,
                                  &rows, err);
        } else {
            sample_src src = {.x = cur, .n_x = L->n_in};
            st = gram ? gram_of(&src, rows, gram) : SNNC_OK;
            next = st == SNNC_OK ? dense_forward(L, cur, rows) : NULL;
            st = next ? range_of(next, rows * L->n_out, p, &r->layer[l]) : st ? st : SNNC_ENOMEM;
            if (st == SNNC_OK && r->unit)
                st = unit_ranges(next, rows, L->n_out, p, r->layer[l], r->unit[l]);
            if (st != SNNC_OK)
                snnc_fail(err, st, "layer '%s': out of memory for the calibration activities", L->name);
        }
        free(owned);
        cur = owned = next;
    }
    free(owned);
    return st;
}

int snnc_q_ranges_calib(const snnc_ann *a, const snnc_tensor *calib, double percentile,
                        snnc_q_ranges *r, snnc_err *err)
{
    if (calib->rank < 2 || calib->dims[calib->rank - 1] != a->n_inputs)
        return snnc_fail(err, SNNC_EINVALID, "calibration input: last dimension must be the %d features of '%s'",
                         a->n_inputs, a->input_name);
    if (calib->count <= 0)
        return snnc_fail(err, SNNC_EINVALID, "calibration input: no samples");
    snnc_tensor *x = snnc_tensor_convert(calib, SNNC_F32, err);
    if (!x)
        return err ? err->code : SNNC_ENOMEM;
    int st = SNNC_OK;
    r->in_signed = false;
    for (int64_t i = 0; i < x->count && st == SNNC_OK; i++) {
        float v = snnc_f32(x)[i];
        if (!isfinite(v))
            st = snnc_fail(err, SNNC_EINVALID, "calibration input: element %lld is not finite", (long long)i);
        r->in_signed |= v < 0;
    }
    if (st == SNNC_OK)
        st = range_of(snnc_f32(x), x->count, percentile, &r->in);
    /* The float activities: a view of the network without quantisers. */
    snnc_ann view = *a;
    view.in_q = (snnc_act_quant){0};
    view.layers = malloc((size_t)a->n_layers * sizeof *view.layers);
    if (st == SNNC_OK && !view.layers)
        st = SNNC_ENOMEM;
    for (int l = 0; l < a->n_layers && view.layers; l++) {
        view.layers[l] = a->layers[l];
        view.layers[l].out_q = (snnc_act_quant){0};
    }
    if (st == SNNC_OK)
        st = calib_layers(&view, x, percentile, r, err);
    free(view.layers);
    snnc_tensor_free(x);
    return st == SNNC_ENOMEM && err && err->code == SNNC_OK ? snnc_fail(err, st, "out of memory") : st;
}
