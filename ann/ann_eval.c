/* ann_eval.c — float execution of the Elman network (interface: ann/ann.h,
 * docs/CONVERSION.md §1): per-step dense layers and the input product of the
 * recurrent layer over all steps at once, then the recurrence step by step,
 * then the readouts on h_T; products through CBLAS.  The activity quantisers
 * (levels > 0) apply to the input and to each layer's output, so the
 * constrained network runs through the same code.  Also copy, free and the
 * finiteness check of the parameters. */
#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../ir/error.h"
#include "../ir/tensor.h"
#include "ann.h"

float snnc_act_quantize(const snnc_act_quant *q, float v)
{
    if (!q || q->levels <= 0 || isnan(v))
        return v;
    if (q->levels == 1 || !(q->hi > q->lo))
        return q->lo;
    if (v <= q->lo)
        return q->lo;
    if (v >= q->hi)
        return q->hi;
    double step = ((double)q->hi - q->lo) / (q->levels - 1);
    double k = floor((v - (double)q->lo) / step + 0.5); /* nearest, halves up */
    double r = q->lo + k * step;
    return r > q->hi ? q->hi : (float)r;
}

static void quantize_all(const snnc_act_quant *q, float *x, int64_t n)
{
    if (q->levels > 0)
        for (int64_t i = 0; i < n; i++)
            x[i] = snnc_act_quantize(q, x[i]);
}

static void activate(snnc_act act, float *x, int64_t n)
{
    if (act == SNNC_ACT_RELU)
        for (int64_t i = 0; i < n; i++)
            x[i] = x[i] > 0.0f ? x[i] : 0.0f;
    else if (act == SNNC_ACT_TANH)
        for (int64_t i = 0; i < n; i++)
            x[i] = tanhf(x[i]);
}

/* y[rows][n_out] = bias + x[rows][n_in] W^T */
static void affine_rows(const snnc_ann_layer *l, const float *x, int64_t rows, float *y)
{
    for (int64_t r = 0; r < rows; r++)
        memcpy(y + r * l->n_out, l->b, (size_t)l->n_out * sizeof(float));
    if (rows > 0)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)rows, l->n_out, l->n_in, 1.0f, x,
                    l->n_in, l->W, l->n_in, 1.0f, y, l->n_out);
}

/* Structure a network must have to run: step layers, one recurrent layer,
 * readouts, sizes chained, parameters present. */
static int check_shape(const snnc_ann *a, int *rec, snnc_err *err)
{
    *rec = -1;
    if (!a || a->n_layers < 1 || !a->layers || a->n_inputs < 1 || a->steps < 1)
        return snnc_fail(err, SNNC_EINVALID, "network: no layers, inputs or steps");
    for (int i = 0; i < a->n_layers; i++) {
        const snnc_ann_layer *l = &a->layers[i];
        int want = i ? a->layers[i - 1].n_out : a->n_inputs;
        snnc_ann_role expect = *rec < 0 ? SNNC_ANN_STEP_DENSE : SNNC_ANN_READOUT;
        if (l->role == SNNC_ANN_RECURRENT && *rec < 0)
            *rec = i;
        else if (l->role != expect)
            return snnc_fail(err, SNNC_EINVALID, "layer '%s': role out of order (per-step, recurrent, readout)",
                             l->name);
        if (l->n_in != want || l->n_out < 1 || !l->W || !l->b || (l->role == SNNC_ANN_RECURRENT && !l->U) ||
            (unsigned)l->act >= SNNC_ACT_COUNT)
            return snnc_fail(err, SNNC_EINVALID, "layer '%s': inconsistent sizes or missing parameters", l->name);
    }
    if (*rec < 0)
        return snnc_fail(err, SNNC_EINVALID, "network: no recurrent layer");
    return SNNC_OK;
}

/* The input as [steps][batch][features] floats, quantised. */
static int gather_input(const snnc_ann *a, const snnc_tensor *in, int64_t *batch, float **out, snnc_err *err)
{
    char buf[128];
    int ta = a->batch_first ? 1 : 0;
    if (!in || in->rank != 3 || in->dims[ta] != a->steps || in->dims[2] != a->n_inputs) {
        if (a->batch_first)
            return snnc_fail(err, SNNC_EINVALID, "input: shape %s, expected [batch, %d, %d]",
                             in ? snnc_dims_str(in->rank, in->dims, buf, sizeof buf) : "none", a->steps,
                             a->n_inputs);
        return snnc_fail(err, SNNC_EINVALID, "input: shape %s, expected [%d, batch, %d]",
                         in ? snnc_dims_str(in->rank, in->dims, buf, sizeof buf) : "none", a->steps, a->n_inputs);
    }
    int64_t B = in->dims[1 - ta], T = a->steps, F = a->n_inputs;
    *batch = B;
    float *x = malloc((size_t)(T * B * F + 1) * sizeof(float));
    if (!x)
        return snnc_fail(err, SNNC_ENOMEM, "out of memory");
    for (int64_t t = 0; t < T; t++)
        for (int64_t b = 0; b < B; b++) {
            int64_t src = a->batch_first ? (b * T + t) * F : (t * B + b) * F;
            float *dst = x + (t * B + b) * F;
            if (in->dtype == SNNC_F32)
                memcpy(dst, snnc_f32(in) + src, (size_t)F * sizeof(float));
            else
                for (int64_t f = 0; f < F; f++)
                    dst[f] = (float)snnc_tensor_get_f(in, src + f);
        }
    quantize_all(&a->in_q, x, T * B * F);
    *out = x;
    return SNNC_OK;
}

/* The slope of activation + quantiser at pre-activation z (the quantiser's
 * mean slope: 1 inside its range, 0 where it clips). */
static double slope(const snnc_ann_layer *l, float z)
{
    float h = l->act == SNNC_ACT_RELU ? (z > 0 ? z : 0) : l->act == SNNC_ACT_TANH ? tanhf(z) : z;
    if (l->out_q.levels > 0 && !(h > l->out_q.lo && h < l->out_q.hi))
        return 0;
    return l->act == SNNC_ACT_RELU ? (z > 0) : l->act == SNNC_ACT_TANH ? 1.0 - (double)h * h : 1.0;
}

/* Sums of the pre-activations z [rows][n_out] and of the slopes there. */
static void observe(const snnc_ann_layer *l, const float *z, int64_t rows, snnc_ann_preact *acc)
{
    if (!acc)
        return;
    for (int64_t r = 0; r < rows; r++)
        for (int j = 0; j < l->n_out; j++) {
            float v = z[r * l->n_out + j];
            acc->mean[j] += v;
            acc->slope[j] += slope(l, v);
        }
    acc->rows += rows;
}

/* One layer over `rows` input rows: affine, activation, quantiser. */
static float *dense(const snnc_ann_layer *l, const float *x, int64_t rows, snnc_ann_preact *acc)
{
    float *y = malloc((size_t)(rows * l->n_out + 1) * sizeof(float));
    if (y) {
        affine_rows(l, x, rows, y);
        observe(l, y, rows, acc);
        activate(l->act, y, rows * l->n_out);
        quantize_all(&l->out_q, y, rows * l->n_out);
    }
    return y;
}

/* h_t = f(W x_t + U h_{t-1} + b) for every t; returns [T][B][H]. */
static float *recurrence(const snnc_ann_layer *l, const float *x, int64_t T, int64_t B, snnc_ann_preact *acc)
{
    float *h = malloc((size_t)(T * B * l->n_out + 1) * sizeof(float));
    if (!h)
        return NULL;
    int64_t H = l->n_out, step = B * H;
    affine_rows(l, x, T * B, h);
    for (int64_t t = 0; t < T; t++) {
        float *ht = h + t * step;
        if (t > 0 && B > 0)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)B, (int)H, (int)H, 1.0f, ht - step,
                        (int)H, l->U, (int)H, 1.0f, ht, (int)H);
        observe(l, ht, B, acc);
        activate(l->act, ht, step);
        quantize_all(&l->out_q, ht, step);
    }
    return h;
}

int snnc_ann_run(const snnc_ann *a, const snnc_tensor *input, snnc_tensor **out, snnc_tensor **hidden,
                 snnc_err *err)
{
    return snnc_ann_run_preact(a, input, out, hidden, NULL, err);
}

int snnc_ann_run_preact(const snnc_ann *a, const snnc_tensor *input, snnc_tensor **out, snnc_tensor **hidden,
                        snnc_ann_preact *pre, snnc_err *err)
{
    int rec;
    *out = NULL;
    if (hidden)
        *hidden = NULL;
    int rc = check_shape(a, &rec, err);
    int64_t B = 0, T = a ? a->steps : 0;
    float *x = NULL;
    if (rc || (rc = gather_input(a, input, &B, &x, err)))
        return rc;
    int64_t width = a->n_inputs;
    for (int i = 0; i < a->n_layers; i++)
        width = a->layers[i].n_out > width ? a->layers[i].n_out : width;
    if (snnc_shape_count(3, (int64_t[]){T, B, width}) < 0) {
        free(x);
        return snnc_fail(err, SNNC_ENOMEM, "input: %lld x %lld x %lld values are too many",
                         (long long)T, (long long)B, (long long)width);
    }
    for (int i = 0; i < a->n_layers && x; i++) {
        const snnc_ann_layer *l = &a->layers[i];
        float *y;
        snnc_ann_preact *acc = pre ? &pre[i] : NULL;
        if (acc)
            *acc = (snnc_ann_preact){acc->mean, acc->slope, 0};
        for (int j = 0; acc && j < l->n_out; j++)
            acc->mean[j] = acc->slope[j] = 0;
        if (i < rec) {
            y = dense(l, x, T * B, acc);
        } else if (i == rec) {
            y = recurrence(l, x, T, B, acc);
            if (y && hidden) {
                *hidden = snnc_tensor_new(SNNC_F32, 3, (int64_t[]){T, B, l->n_out}, err);
                if (*hidden)
                    memcpy((*hidden)->data, y, (size_t)(T * B * l->n_out) * sizeof(float));
                else
                    rc = SNNC_ENOMEM;
            }
            if (y && T > 1) /* the readouts read h_T only */
                memmove(y, y + (T - 1) * B * l->n_out, (size_t)(B * l->n_out) * sizeof(float));
        } else {
            y = dense(l, x, B, acc);
        }
        for (int j = 0; acc && acc->rows > 0 && j < l->n_out; j++) {
            acc->mean[j] /= (double)acc->rows;
            acc->slope[j] /= (double)acc->rows;
        }
        free(x);
        x = y;
    }
    if (!x || rc) {
        free(x);
        if (hidden) {
            snnc_tensor_free(*hidden);
            *hidden = NULL;
        }
        return rc ? rc : snnc_fail(err, SNNC_ENOMEM, "out of memory");
    }
    int n_out = a->layers[a->n_layers - 1].n_out;
    *out = snnc_tensor_new(SNNC_F32, 2, (int64_t[]){B, n_out}, err);
    if (*out)
        memcpy((*out)->data, x, (size_t)(B * n_out) * sizeof(float));
    free(x);
    if (!*out && hidden) {
        snnc_tensor_free(*hidden);
        *hidden = NULL;
    }
    return *out ? SNNC_OK : SNNC_ENOMEM;
}

static float *dup_floats(const float *p, size_t n)
{
    if (!p)
        return NULL;
    float *c = malloc((n ? n : 1) * sizeof(float));
    if (c)
        memcpy(c, p, n * sizeof(float));
    return c;
}

snnc_ann *snnc_ann_copy(const snnc_ann *a)
{
    if (!a)
        return NULL;
    snnc_ann *c = malloc(sizeof *c);
    if (!c)
        return NULL;
    *c = *a;
    c->layers = calloc((size_t)(a->n_layers > 0 ? a->n_layers : 1), sizeof *c->layers);
    if (!c->layers) {
        free(c);
        return NULL;
    }
    for (int i = 0; i < a->n_layers; i++) {
        const snnc_ann_layer *l = &a->layers[i];
        snnc_ann_layer *d = &c->layers[i];
        *d = *l;
        size_t no = (size_t)(l->n_out > 0 ? l->n_out : 0), ni = (size_t)(l->n_in > 0 ? l->n_in : 0);
        d->W = dup_floats(l->W, no * ni);
        d->U = dup_floats(l->U, no * no);
        d->b = dup_floats(l->b, no);
        if ((l->W && !d->W) || (l->U && !d->U) || (l->b && !d->b)) {
            c->n_layers = i + 1;
            snnc_ann_free(c);
            return NULL;
        }
    }
    return c;
}

void snnc_ann_free(snnc_ann *a)
{
    if (!a)
        return;
    for (int i = 0; a->layers && i < a->n_layers; i++) {
        free(a->layers[i].W);
        free(a->layers[i].U);
        free(a->layers[i].b);
    }
    free(a->layers);
    free(a);
}

static int check_array(const char *layer, const char *what, const float *p, int rows, int cols, snnc_err *err)
{
    for (int r = 0; p && r < rows; r++)
        for (int c = 0; c < cols; c++) {
            float v = p[(size_t)r * cols + c];
            if (!isfinite(v))
                return snnc_fail(err, SNNC_EINVALID, "layer '%s': %s[%d][%d] is %s", layer, what, r, c,
                                 isnan(v) ? "NaN" : "infinite");
        }
    return SNNC_OK;
}

int snnc_ann_check_finite(const snnc_ann *a, snnc_err *err)
{
    if (!a)
        return snnc_fail(err, SNNC_EUSAGE, "no network");
    for (int i = 0; i < a->n_layers; i++) {
        const snnc_ann_layer *l = &a->layers[i];
        int rc = check_array(l->name, "W", l->W, l->n_out, l->n_in, err);
        if (!rc)
            rc = check_array(l->name, "U", l->U, l->n_out, l->n_out, err);
        if (!rc)
            rc = check_array(l->name, "b", l->b, 1, l->n_out, err);
        if (!rc && l->out_q.levels > 0 && !(isfinite(l->out_q.lo) && isfinite(l->out_q.hi)))
            rc = snnc_fail(err, SNNC_EINVALID, "layer '%s': activity range is not finite", l->name);
        if (rc)
            return rc;
    }
    if (a->in_q.levels > 0 && !(isfinite(a->in_q.lo) && isfinite(a->in_q.hi)))
        return snnc_fail(err, SNNC_EINVALID, "input '%s': activity range is not finite", a->input_name);
    return SNNC_OK;
}
