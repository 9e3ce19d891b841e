/* finetune.c — constraint-aware fine-tuning of the constrained network
 * (interface: quantize/finetune.h; derivation and measurements:
 * docs/FINETUNE.md).  Forward pass as ann/ann_eval.c (the same products in
 * the same order, so without noise the same outputs), storing every
 * layer's output and its straight-through gate; backward pass through time
 * with one cblas_sgemm per product; Adam on float shadows of the weight
 * codes (code = clamp(round(shadow)), scales frozen) and on the biases;
 * seeded Gaussian spike-count noise; the validation guard. */
#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../ir/error.h"
#include "../ir/tensor.h"
#include "finetune.h"
#include "quantize_internal.h"

#define ADAM_B1 0.9
#define ADAM_B2 0.999
#define ADAM_EPS 1e-12

void snnc_finetune_default(snnc_finetune_opts *o)
{
    memset(o, 0, sizeof *o);
    o->steps = 0;
    o->batch = 64;
    o->lr = 0.01;
    o->noise = 0;
    o->temperature = 1;
    o->holdout = 4;
    o->seed = 1;
    o->progress_every = 50;
    o->label_weight = 0.3; /* docs/FINETUNE.md §5, §5a: 1 overfits the labels */
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* ------------------------------------------------------------ workspace */

typedef struct work {
    const snnc_ann *q;
    int rec, T, F, C, cap;   /* cap: samples the buffers hold */
    float *x;                /* [T][B][F] quantised input */
    float **y, **g;          /* per layer: output [rows][n_out], gate dy/dz */
    float *d0, *d1, *dh;     /* backward scratch [T][B][width], dh [T][B][H] */
    double *lg;              /* [2 C] */
    float *r;                /* carry: the remainders [B][width] (docs/FINETUNE.md §3a) */
    bool carry;              /* the carried-remainder forward model */
    double lw;               /* weight of the cross-entropy with labels */
} work;

static int rec_of(const snnc_ann *q)
{
    for (int l = 0; l < q->n_layers; l++)
        if (q->layers[l].role == SNNC_ANN_RECURRENT)
            return l;
    return -1;
}

static void work_free(work *w)
{
    for (int l = 0; w->y && l < w->q->n_layers; l++)
        free(w->y[l]), free(w->g[l]);
    free(w->y), free(w->g), free(w->x), free(w->d0), free(w->d1), free(w->dh), free(w->lg);
    free(w->r);
    memset(w, 0, sizeof *w);
}

static int work_init(work *w, const snnc_ann *q, int cap, bool carry, double lw)
{
    memset(w, 0, sizeof *w);
    w->q = q;
    w->carry = carry, w->lw = lw;
    w->rec = rec_of(q);
    w->T = q->steps, w->F = q->n_inputs, w->cap = cap;
    w->C = q->layers[q->n_layers - 1].n_out;
    size_t TB = (size_t)w->T * (size_t)cap, width = (size_t)q->n_inputs;
    w->y = calloc((size_t)q->n_layers, sizeof *w->y);
    w->g = calloc((size_t)q->n_layers, sizeof *w->g);
    w->x = malloc(TB * (size_t)w->F * sizeof *w->x + 1);
    w->lg = malloc(2 * (size_t)w->C * sizeof *w->lg + 1);
    if (!w->y || !w->g || !w->x || !w->lg)
        return SNNC_ENOMEM;
    for (int l = 0; l < q->n_layers; l++) {
        size_t rows = l <= w->rec ? TB : (size_t)cap, n = rows * (size_t)q->layers[l].n_out + 1;
        width = (size_t)q->layers[l].n_out > width ? (size_t)q->layers[l].n_out : width;
        if (!(w->y[l] = malloc(n * sizeof(float))) || !(w->g[l] = malloc(n * sizeof(float))))
            return SNNC_ENOMEM;
    }
    w->d0 = malloc((TB * width + 1) * sizeof(float));
    w->d1 = malloc((TB * width + 1) * sizeof(float));
    w->dh = malloc((TB * (size_t)q->layers[w->rec].n_out + 1) * sizeof(float));
    w->r = malloc(((size_t)cap * width + 1) * sizeof(float));
    return w->d0 && w->d1 && w->dh && w->r ? SNNC_OK : SNNC_ENOMEM;
}

/* Samples idx[0..B) of x (the network's input layout, float32) into w->x
 * as [T][B][F], through the input quantiser. */
static void gather(work *w, const snnc_tensor *x, const int64_t *idx, int B)
{
    const snnc_ann *q = w->q;
    int64_t T = w->T, F = w->F, N = x->dims[q->batch_first ? 0 : 1];
    const float *src = snnc_f32(x);
    for (int64_t t = 0; t < T; t++)
        for (int b = 0; b < B; b++) {
            int64_t s = idx ? idx[b] : b;
            const float *p = src + (q->batch_first ? (s * T + t) * F : (t * N + s) * F);
            float *d = w->x + (t * B + b) * F;
            for (int64_t f = 0; f < F; f++)
                d[f] = snnc_act_quantize(&q->in_q, p[f]);
        }
}

/* ------------------------------------------------------------ forward */

/* An approximately standard normal draw, cheap enough for every activity
 * of every step: the sum of four 16-bit uniforms of one splitmix64 draw,
 * centred and scaled to variance 1 (Irwin-Hall; tails end at 2 sqrt 3). */
static double gauss(uint64_t *rng)
{
    uint64_t z = snnc_q_rng_next(rng);
    double s = (double)(z & 0xffff) + (double)((z >> 16) & 0xffff) + (double)((z >> 32) & 0xffff) +
               (double)(z >> 48);
    return (s / 65536.0 + 2.0 / 65536.0 - 2.0) * 1.7320508075688772;
}

/* The carried-remainder quantiser (docs/FINETUNE.md §3a), one window of a
 * spiking neuron in count units: the potential V = r + (a(z) - lo) / step
 * (a: tanh for tanh layers, the identity otherwise: a ReLU neuron
 * integrates negative input too), the count n = clamp(floor V, 0, L - 1),
 * the remainder r = max(V - n, 0) (the excess of a saturated window kept,
 * floor 0); the output lo + n step.  Straight through: dn/dz = a'(z) while
 * 0 <= V <= L, else 0. */
static float carry_one(const snnc_ann_layer *L, double step, float v, float *r, float *g)
{
    const snnc_act_quant *qq = &L->out_q;
    double a = v, da = 1;
    if (L->act == SNNC_ACT_TANH)
        a = tanh(v), da = 1 - a * a;
    double V = *r + (a - qq->lo) / step, n = floor(V);
    n = n < 0 ? 0 : n > qq->levels - 1 ? qq->levels - 1 : n;
    *r = (float)(V - n > 0 ? V - n : 0);
    *g = (float)(V >= 0 && V <= qq->levels ? da : 0);
    return (float)(qq->lo + n * step);
}

/* Activation, quantiser and (training) noise in place on z[0..n); g gets
 * the straight-through derivative: f'(z) inside the quantiser's range, 0
 * where it clips (docs/FINETUNE.md §2).  With r (one remainder per
 * element), the carried-remainder quantiser instead (carry_one). */
static void activate(const snnc_ann_layer *L, float *z, float *g, int64_t n, uint64_t *rng, double sigma,
                     float *r)
{
    const snnc_act_quant *qq = &L->out_q;
    double step = qq->levels > 1 ? ((double)qq->hi - qq->lo) / (qq->levels - 1) : 0;
    for (int64_t i = 0; i < n; i++) {
        float v = z[i], f = v, d = 1;
        if (r && step > 0) {
            z[i] = carry_one(L, step, v, &r[i], &g[i]);
            continue;
        }
        if (L->act == SNNC_ACT_RELU)
            f = v > 0.0f ? v : 0.0f, d = v > 0.0f ? 1.0f : 0.0f;
        else if (L->act == SNNC_ACT_TANH)
            f = tanhf(v), d = 1.0f - f * f;
        if (qq->levels > 0) {
            if (f < qq->lo || f > qq->hi)
                d = 0;
            f = snnc_act_quantize(qq, f);
            if (rng && sigma > 0) {
                double u = f + sigma * step * gauss(rng);
                f = (float)(u < qq->lo ? qq->lo : u > qq->hi ? qq->hi : u);
            }
        }
        z[i] = f;
        g[i] = d;
    }
}

/* y[rows][n_out] = b + X W^T */
static void affine(const snnc_ann_layer *L, const float *X, int64_t rows, float *y)
{
    for (int64_t r = 0; r < rows; r++)
        memcpy(y + r * L->n_out, L->b, (size_t)L->n_out * sizeof(float));
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)rows, L->n_out, L->n_in, 1.0f, X, L->n_in,
                L->W, L->n_in, 1.0f, y, L->n_out);
}

/* The input of layer l: the previous output (a readout after the
 * recurrent layer reads h_T only). */
static const float *input_of(const work *w, int l, int B)
{
    if (l == 0)
        return w->x;
    if (l == w->rec + 1)
        return w->y[w->rec] + (size_t)(w->T - 1) * B * w->q->layers[w->rec].n_out;
    return w->y[l - 1];
}

/* With carry, the per-step layers' remainders start at half a count at
 * sequence start (the netlist's initial potential) and carry over steps. */
static float *carry_start(work *w, int64_t n)
{
    if (!w->carry)
        return NULL;
    for (int64_t i = 0; i < n; i++)
        w->r[i] = 0.5f;
    return w->r;
}

static void forward(work *w, int B, uint64_t *rng, double sigma)
{
    const snnc_ann *q = w->q;
    for (int l = 0; l < q->n_layers; l++) {
        const snnc_ann_layer *L = &q->layers[l];
        int64_t rows = l <= w->rec ? (int64_t)w->T * B : B, n = (int64_t)B * L->n_out;
        affine(L, input_of(w, l, B), rows, w->y[l]);
        if (l > w->rec || (l < w->rec && !w->carry)) {
            activate(L, w->y[l], w->g[l], rows * L->n_out, rng, sigma, NULL);
            continue;
        }
        float *r = carry_start(w, n);
        for (int t = 0; t < w->T; t++) {
            float *ht = w->y[l] + (size_t)t * n;
            if (t > 0 && l == w->rec)
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, B, L->n_out, L->n_out, 1.0f, ht - n,
                            L->n_out, L->U, L->n_out, 1.0f, ht, L->n_out);
            activate(L, ht, w->g[l] + (size_t)t * n, n, rng, sigma, r);
        }
    }
}

static const float *logits(const work *w, int B)
{
    int last = w->q->n_layers - 1;
    return last == w->rec ? input_of(w, last + 1, B) : w->y[last];
}

/* ------------------------------------------------------------ loss */

/* log softmax of v[0..C) / temp into out. */
static void log_softmax(const float *v, int C, double temp, double *out)
{
    double m = -INFINITY, s = 0;
    for (int k = 0; k < C; k++)
        m = fmax(m, v[k] / temp);
    for (int k = 0; k < C; k++)
        s += exp(v[k] / temp - m);
    for (int k = 0; k < C; k++)
        out[k] = v[k] / temp - m - log(s);
}

/* Loss of sample b's logits s against teacher logits t (and label y >= 0),
 * divided by `norm`; dL/ds into ds when not NULL. */
static double sample_loss(const float *s, const float *t, int64_t y, double lw, int C, double temp,
                          double norm, double *tmp, float *ds)
{
    double loss = 0;
    double *lt = tmp, *ls = tmp + C;
    log_softmax(t, C, temp, lt);
    log_softmax(s, C, temp, ls);
    for (int k = 0; k < C; k++) {
        double pt = exp(lt[k]);
        loss += pt > 0 ? pt * (lt[k] - ls[k]) : 0;
        if (ds)
            ds[k] = (float)((exp(ls[k]) - pt) / temp / norm);
    }
    if (y >= 0) {
        log_softmax(s, C, 1.0, ls);
        loss -= lw * ls[y];
        for (int k = 0; ds && k < C; k++)
            ds[k] += (float)(lw * (exp(ls[k]) - (k == y)) / norm);
    }
    return loss / norm;
}

/* ------------------------------------------------------------ backward */

/* Parameters of layer L: W, U (recurrent), b. */
static int64_t layer_params(const snnc_ann_layer *L)
{
    return (int64_t)L->n_out * L->n_in + (L->role == SNNC_ANN_RECURRENT ? (int64_t)L->n_out * L->n_out : 0) +
           L->n_out;
}

static float *grad_W(const snnc_ann *q, float *grad, int l)
{
    for (int k = 0; k < l; k++)
        grad += layer_params(&q->layers[k]);
    return grad;
}

/* gW += dZ^T X, gb += sum of dZ's rows; dX = dZ W when dX. */
static void layer_grads(const snnc_ann_layer *L, const float *dZ, const float *X, int64_t rows, float *gW,
                        float *gb, float *dX)
{
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, L->n_out, L->n_in, (int)rows, 1.0f, dZ, L->n_out, X,
                L->n_in, 1.0f, gW, L->n_in);
    for (int64_t r = 0; r < rows; r++)
        for (int j = 0; j < L->n_out; j++)
            gb[j] += dZ[r * L->n_out + j];
    if (dX)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)rows, L->n_in, L->n_out, 1.0f, dZ,
                    L->n_out, L->W, L->n_in, 0.0f, dX, L->n_in);
}

static void mul(float *d, const float *g, int64_t n)
{
    for (int64_t i = 0; i < n; i++)
        d[i] *= g[i];
}

/* Back-propagation through time (docs/FINETUNE.md §1); dlog [B][C] is
 * dL/d(logits); gradients accumulate into grad (snnc_finetune_loss order). */
static void backward(work *w, int B, const float *dlog, float *grad)
{
    const snnc_ann *q = w->q;
    int T = w->T, last = q->n_layers - 1, H = q->layers[w->rec].n_out;
    float *dY = w->d0, *dX = w->d1;
    memset(w->dh, 0, (size_t)T * B * H * sizeof *w->dh);
    if (last == w->rec)
        memcpy(w->dh + (size_t)(T - 1) * B * H, dlog, (size_t)B * H * sizeof *dlog);
    else
        memcpy(dY, dlog, (size_t)B * w->C * sizeof *dlog);
    for (int l = last; l >= 0; l--) {
        const snnc_ann_layer *L = &q->layers[l];
        float *gW = grad_W(q, grad, l);
        float *gU = gW + (size_t)L->n_out * L->n_in;
        float *gb = gU + (L->role == SNNC_ANN_RECURRENT ? (size_t)L->n_out * L->n_out : 0);
        const float *X = input_of(w, l, B);
        if (l != w->rec) {
            int64_t rows = l < w->rec ? (int64_t)T * B : B;
            mul(dY, w->g[l], rows * L->n_out);
            float *to = l - 1 == w->rec ? w->dh + (size_t)(T - 1) * B * H : dX;
            layer_grads(L, dY, X, rows, gW, gb, l > 0 ? to : NULL);
            if (l - 1 != w->rec) {
                float *s = dY;
                dY = dX, dX = s;
            }
            continue;
        }
        for (int t = T - 1; t >= 0; t--) { /* dz_t = dh_t g_t; dh_{t-1} += dz_t U */
            float *dz = w->dh + (size_t)t * B * H;
            mul(dz, w->g[l] + (size_t)t * B * H, (int64_t)B * H);
            if (t > 0)
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, B, H, H, 1.0f, dz, H, L->U, H, 1.0f,
                            dz - (size_t)B * H, H);
        }
        if (T > 1) /* gU = sum_t dz_t^T h_{t-1} */
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, H, H, (T - 1) * B, 1.0f, w->dh + (size_t)B * H,
                        H, w->y[l], H, 1.0f, gU, H);
        layer_grads(L, w->dh, X, (int64_t)T * B, gW, gb, l > 0 ? dY : NULL);
    }
}

/* Forward (with noise when rng), loss, and backward when grad (zeroed
 * here).  idx NULL: the first B samples of x. */
static double batch_loss(work *w, const snnc_tensor *x, const int64_t *idx, int B, const float *teacher,
                         const int64_t *labels, double temp, uint64_t *rng, double sigma, float *grad,
                         int64_t n_params, float *dlog, double *per)
{
    gather(w, x, idx, B);
    forward(w, B, rng, sigma);
    const float *s = logits(w, B);
    double loss = 0;
    for (int b = 0; b < B; b++) {
        int64_t i = idx ? idx[b] : b;
        double l = sample_loss(s + (size_t)b * w->C, teacher + (size_t)i * w->C, labels ? labels[i] : -1, w->lw, w->C,
                               temp, B, w->lg, grad ? dlog + (size_t)b * w->C : NULL);
        loss += l;
        if (per)
            per[b] = l * B;
    }
    if (grad) {
        memset(grad, 0, (size_t)n_params * sizeof *grad);
        backward(w, B, dlog, grad);
    }
    return loss;
}

int64_t snnc_finetune_n_params(const snnc_ann *q)
{
    int64_t n = 0;
    for (int l = 0; l < q->n_layers; l++)
        n += layer_params(&q->layers[l]);
    return n;
}

static int check_input(const snnc_ann *q, const snnc_tensor *x, snnc_err *err)
{
    if (rec_of(q) < 0)
        return snnc_fail(err, SNNC_EINVALID, "fine-tuning: the network has no recurrent layer");
    if (!x || x->dtype != SNNC_F32 || x->rank != 3 || x->dims[2] != q->n_inputs ||
        x->dims[q->batch_first ? 1 : 0] != q->steps || x->dims[q->batch_first ? 0 : 1] < 1)
        return snnc_fail(err, SNNC_EINVALID, "fine-tuning: expected a float32 batch of %d steps of %d features",
                         q->steps, q->n_inputs);
    return SNNC_OK;
}

/* The teacher's logits on x ([batch][classes], malloc'd). */
static int teacher_logits(const snnc_ann *a, const snnc_tensor *x, float **out, snnc_err *err)
{
    snnc_tensor *y = NULL;
    int rc = snnc_ann_run(a, x, &y, NULL, err);
    if (rc)
        return rc;
    *out = malloc((size_t)y->count * sizeof **out + 1);
    if (*out)
        memcpy(*out, y->data, (size_t)y->count * sizeof **out);
    snnc_tensor_free(y);
    return *out ? SNNC_OK : snnc_fail(err, SNNC_ENOMEM, "out of memory");
}

int snnc_finetune_loss(const snnc_ann *q, const snnc_tensor *x, const float *t, const int64_t *labels,
                       double temp, double *loss, float *grad, snnc_err *err)
{
    return snnc_finetune_loss_carry(q, x, t, labels, temp, false, loss, grad, NULL, err);
}

int snnc_finetune_loss_carry(const snnc_ann *q, const snnc_tensor *x, const float *t, const int64_t *labels,
                             double temp, bool carry, double *loss, float *grad, float *hidden, snnc_err *err)
{
    int rc = check_input(q, x, err);
    if (rc)
        return rc;
    int B = (int)x->dims[q->batch_first ? 0 : 1];
    work w;
    int64_t np = snnc_finetune_n_params(q);
    float *dlog = malloc((size_t)B * q->layers[q->n_layers - 1].n_out * sizeof *dlog + 1);
    if (work_init(&w, q, B, carry, 1.0) || !dlog)
        rc = snnc_fail(err, SNNC_ENOMEM, "out of memory");
    else
        *loss = batch_loss(&w, x, NULL, B, t, labels, temp, NULL, 0, grad, np, dlog, NULL);
    if (!rc && hidden)
        memcpy(hidden, w.y[w.rec], (size_t)w.T * B * q->layers[w.rec].n_out * sizeof *hidden);
    work_free(&w);
    free(dlog);
    return rc;
}

/* ------------------------------------------------------------ parameters */

/* One trainable scalar: where it lives in the working network, its place
 * in the gradient, and how a step moves it. */
typedef struct param {
    float *real;
    int8_t *code;          /* NULL: trained in float (a bias, or unquantised weight) */
    float scale;           /* code's weight = scale * code / colf */
    double colf, unit;     /* float parameters: Adam's step times unit */
    double shadow;         /* code units */
    int lo, hi;
    bool nonzero;          /* a pruned layer's kept weight: its code stays non-zero */
} param;

typedef struct trainer {
    param *p;
    int64_t n;
    double *m, *v;
} trainer;

static float *weight_at(snnc_ann_layer *L, int j, int i)
{
    return i < L->n_in ? &L->W[(size_t)j * L->n_in + i] : &L->U[(size_t)j * L->n_out + (i - L->n_in)];
}

/* The weight of a code, as quantize.c writes it back. */
static float dequant(const param *p, int code) { return (float)((double)(p->scale * (float)code) / p->colf); }

/* The parameters of the working network w (in gradient order), the codes
 * being the working copies codes[l]. */
static int trainer_init(trainer *tr, snnc_ann *w, snnc_layer_constraints *S, int8_t **codes,
                        const snnc_constraints *c)
{
    tr->n = snnc_finetune_n_params(w);
    tr->p = calloc((size_t)tr->n + 1, sizeof *tr->p);
    tr->m = calloc((size_t)tr->n + 1, sizeof *tr->m);
    tr->v = calloc((size_t)tr->n + 1, sizeof *tr->v);
    if (!tr->p || !tr->m || !tr->v)
        return SNNC_ENOMEM;
    int64_t k = 0;
    for (int l = 0; l < w->n_layers; l++) {
        snnc_ann_layer *L = &w->layers[l];
        const snnc_layer_constraints *s = &S[l];
        int cols = L->n_in + (L->role == SNNC_ANN_RECURRENT ? L->n_out : 0);
        bool frozen0 = s->pruned > 0;
        for (int part = 0; part < 2; part++) /* W columns, then U columns: the gradient's order */
            for (int j = 0; j < L->n_out; j++)
                for (int i = part ? L->n_in : 0; i < (part ? cols : L->n_in); i++) {
                    param *p = &tr->p[k++];
                    p->real = weight_at(L, j, i);
                    double rowmax = 0;
                    for (int r = 0; r < cols; r++)
                        rowmax = fmax(rowmax, fabs(*weight_at(L, j, r)));
                    p->unit = rowmax > 0 ? rowmax / 8 : 1e-3;
                    if (!codes[l])
                        continue;
                    int g = 0;
                    while (g + 1 < s->n_groups && i >= s->group_start[g + 1])
                        g++;
                    int8_t *code = &codes[l][(size_t)j * cols + i];
                    p->scale = s->scales[(size_t)j * s->n_groups + g];
                    p->colf = i < L->n_in ? (double)s->in_range / (double)s->activity_range : 1.0;
                    p->lo = snnc_q_code_lo(c->weight_levels), p->hi = snnc_q_code_hi(c->weight_levels);
                    p->shadow = *code;
                    /* frozen: a row of scale 0, a pruned weight (its fan-in slot is gone);
                     * a pruned layer keeps its pattern of synapses (the mapping's cores) */
                    p->code = p->scale > 0 && !(frozen0 && *code == 0) ? code : NULL;
                    p->nonzero = frozen0;
                    p->unit = p->code ? 0 : -1;
                }
        for (int j = 0; j < L->n_out; j++) {
            param *p = &tr->p[k++];
            p->real = &L->b[j];
            const snnc_act_quant *o = &L->out_q;
            p->unit = o->levels > 1 ? ((double)o->hi - o->lo) / (o->levels - 1)
                      : s->activity_range > 0 ? s->activity_range / 15.0 : 1.0;
        }
    }
    return SNNC_OK;
}

static void trainer_free(trainer *tr) { free(tr->p), free(tr->m), free(tr->v); }

/* One Adam step (t from 1) of learning rate lr on gradient grad. */
static void adam(trainer *tr, const float *grad, int t, double lr)
{
    double c1 = 1 - pow(ADAM_B1, t), c2 = 1 - pow(ADAM_B2, t);
    for (int64_t k = 0; k < tr->n; k++) {
        param *p = &tr->p[k];
        if (p->unit < 0) /* frozen */
            continue;
        double g = grad[k];
        tr->m[k] = ADAM_B1 * tr->m[k] + (1 - ADAM_B1) * g;
        tr->v[k] = ADAM_B2 * tr->v[k] + (1 - ADAM_B2) * g * g;
        double step = lr * (tr->m[k] / c1) / (sqrt(tr->v[k] / c2) + ADAM_EPS);
        if (!p->code) {
            *p->real = (float)(*p->real - step * p->unit);
            continue;
        }
        p->shadow = fmin(fmax(p->shadow - step, p->lo - 0.5), p->hi + 0.5);
        double r = floor(p->shadow + 0.5);
        int code = (int)(r < p->lo ? p->lo : r > p->hi ? p->hi : r);
        if (code == 0 && p->nonzero)
            code = *p->code > 0 ? 1 : -1;
        if (code != *p->code) {
            *p->code = (int8_t)code;
            *p->real = dequant(p, code);
        }
    }
}

/* ------------------------------------------------------------ the stage */

/* x's samples idx[0..n) as a tensor of the same layout. */
static snnc_tensor *subset(const snnc_ann *q, const snnc_tensor *x, const int64_t *idx, int64_t n,
                           snnc_err *err)
{
    int64_t T = q->steps, F = q->n_inputs, N = x->dims[q->batch_first ? 0 : 1];
    int64_t dims[3] = {q->batch_first ? n : T, q->batch_first ? T : n, F};
    snnc_tensor *s = snnc_tensor_new(SNNC_F32, 3, dims, err);
    for (int64_t b = 0; s && b < n; b++)
        for (int64_t t = 0; t < T; t++) {
            int64_t from = q->batch_first ? (idx[b] * T + t) * F : (t * N + idx[b]) * F;
            int64_t to = q->batch_first ? (b * T + t) * F : (t * n + b) * F;
            memcpy(snnc_f32(s) + to, snnc_f32(x) + from, (size_t)F * sizeof(float));
        }
    return s;
}


static void shuffle(int64_t *v, int64_t n, uint64_t *rng)
{
    for (int64_t i = n - 1; i > 0; i--) {
        int64_t j = (int64_t)(snnc_q_rng_next(rng) % (uint64_t)(i + 1)), s = v[i];
        v[i] = v[j], v[j] = s;
    }
}

typedef struct split {
    int64_t *tr, *va, ntr, nva;
    int64_t *ltr, *lva;     /* labels by position */
    float *ttr, *tva;       /* teacher logits by position */
    snnc_tensor *xtr, *xva;
} split;

static void split_free(split *s)
{
    free(s->tr), free(s->va), free(s->ltr), free(s->lva), free(s->ttr), free(s->tva);
    snnc_tensor_free(s->xtr), snnc_tensor_free(s->xva);
}

static int make_split(const snnc_ann *a, const snnc_ann *q, const snnc_tensor *calib, const snnc_finetune_opts *o,
                      split *s, snnc_err *err)
{
    int64_t N = calib->dims[q->batch_first ? 0 : 1];
    int C = q->layers[q->n_layers - 1].n_out;
    s->tr = malloc((size_t)N * sizeof *s->tr), s->va = malloc((size_t)N * sizeof *s->va);
    if (!s->tr || !s->va)
        return snnc_fail(err, SNNC_ENOMEM, "out of memory");
    for (int64_t i = 0; i < N; i++) {
        if (o->labels && (o->labels[i] < 0 || o->labels[i] >= C))
            return snnc_fail(err, SNNC_EINVALID, "fine-tuning labels: element %lld is %lld, not a class "
                             "0..%d", (long long)i, (long long)o->labels[i], C - 1);
        if (i % o->holdout == o->holdout - 1)
            s->va[s->nva++] = i;
        else
            s->tr[s->ntr++] = i;
    }
    s->xtr = subset(q, calib, s->tr, s->ntr, err);
    s->xva = s->xtr ? subset(q, calib, s->va, s->nva, err) : NULL;
    if (!s->xva)
        return err->code ? err->code : SNNC_ENOMEM;
    int rc = teacher_logits(a, s->xtr, &s->ttr, err);
    if (!rc)
        rc = teacher_logits(a, s->xva, &s->tva, err);
    if (!rc && o->labels) {
        s->ltr = malloc((size_t)s->ntr * sizeof *s->ltr), s->lva = malloc((size_t)s->nva * sizeof *s->lva);
        if (!s->ltr || !s->lva)
            return snnc_fail(err, SNNC_ENOMEM, "out of memory");
        for (int64_t i = 0; i < s->ntr; i++)
            s->ltr[i] = o->labels[s->tr[i]];
        for (int64_t i = 0; i < s->nva; i++)
            s->lva[i] = o->labels[s->va[i]];
    }
    return rc;
}

static bool same_bytes(const snnc_ann *x, const snnc_ann *y)
{
    for (int l = 0; l < x->n_layers; l++) {
        const snnc_ann_layer *a = &x->layers[l], *b = &y->layers[l];
        size_t nw = (size_t)a->n_out * a->n_in, nu = a->U ? (size_t)a->n_out * a->n_out : 0;
        if (memcmp(a->W, b->W, nw * sizeof(float)) || (nu && memcmp(a->U, b->U, nu * sizeof(float))) ||
            memcmp(a->b, b->b, (size_t)a->n_out * sizeof(float)))
            return false;
    }
    return true;
}

/* Copy w's parameters into q and the working codes into S. */
static void adopt(snnc_ann *q, const snnc_ann *w, snnc_layer_constraints *S, int8_t **codes)
{
    for (int l = 0; l < q->n_layers; l++) {
        snnc_ann_layer *a = &q->layers[l];
        const snnc_ann_layer *b = &w->layers[l];
        memcpy(a->W, b->W, (size_t)a->n_out * a->n_in * sizeof(float));
        if (a->U)
            memcpy(a->U, b->U, (size_t)a->n_out * a->n_out * sizeof(float));
        memcpy(a->b, b->b, (size_t)a->n_out * sizeof(float));
        if (S && codes[l])
            memcpy(S[l].codes, codes[l], (size_t)S[l].n_rows * S[l].n_cols);
    }
}

/* The working network's parameters and codes at its lowest loss on the
 * whole training part (no noise), checked every CHECK_EVERY steps: the
 * STE steps are jumpy on coarse codes, and the last step is not the best. */
#define CHECK_EVERY 25

typedef struct checkpoint {
    snnc_ann *net;
    int8_t **codes;
    double loss;
    int step;
} checkpoint;

static void checkpoint_take(checkpoint *k, const snnc_ann *w, int8_t **codes, double loss, int step)
{
    adopt(k->net, w, NULL, NULL);
    for (int l = 0; l < w->n_layers; l++)
        if (codes[l])
            memcpy(k->codes[l], codes[l], (size_t)w->layers[l].n_out *
                   (size_t)(w->layers[l].n_in + (w->layers[l].U ? w->layers[l].n_out : 0)));
    k->loss = loss, k->step = step;
}

/* The training loop on the working network w (codes: its working codes):
 * minibatches of the training part, reshuffled every epoch. */
static int train(snnc_ann *w, snnc_layer_constraints *S, int8_t **codes, const snnc_constraints *c,
                 const snnc_finetune_opts *o, const split *s, checkpoint *best, snnc_err *err)
{
    trainer tr = {0};
    work wk = {0}, full = {0};
    int B = o->batch < s->ntr ? o->batch : (int)s->ntr, C = w->layers[w->n_layers - 1].n_out;
    int64_t *order = malloc((size_t)s->ntr * sizeof *order), pos = s->ntr;
    float *dlog = malloc((size_t)B * C * sizeof *dlog + 1), *grad = NULL;
    int rc = trainer_init(&tr, w, S, codes, c);
    if (!rc)
        rc = work_init(&wk, w, B, o->carry, o->label_weight);
    if (!rc)
        rc = work_init(&full, w, (int)s->ntr, o->carry, o->label_weight);
    if (!rc && !(grad = malloc((size_t)tr.n * sizeof *grad + 1)))
        rc = SNNC_ENOMEM;
    if (rc || !order || !dlog) {
        rc = snnc_fail(err, SNNC_ENOMEM, "out of memory");
        goto done;
    }
    uint64_t shuf = o->seed ^ 0x5f1e7a11ull, noise = o->seed * 0x9e3779b97f4a7c15ull + 1;
    for (int64_t i = 0; i < s->ntr; i++)
        order[i] = i;
    double t0 = now(), acc = 0;
    int since = 0;
    for (int step = 1; step <= o->steps; step++) {
        if (pos + B > s->ntr) {
            shuffle(order, s->ntr, &shuf);
            pos = 0;
        }
        acc += batch_loss(&wk, s->xtr, order + pos, B, s->ttr, s->ltr, o->temperature, &noise, o->noise,
                          grad, tr.n, dlog, NULL);
        pos += B;
        since++;
        adam(&tr, grad, step, o->lr);
        if (step % CHECK_EVERY == 0 || step == o->steps) {
            double l = batch_loss(&full, s->xtr, NULL, (int)s->ntr, s->ttr, s->ltr, o->temperature, NULL, 0,
                                  NULL, 0, NULL, NULL);
            if (l < best->loss)
                checkpoint_take(best, w, codes, l, step);
        }
        if (o->progress && (step % (o->progress_every > 0 ? o->progress_every : 50) == 0 || step == o->steps)) {
            double t1 = now();
            o->progress(o->progress_ctx, step, acc / since, 1e3 * (t1 - t0) / since);
            acc = 0, since = 0, t0 = t1;
        }
    }
done:
    trainer_free(&tr);
    work_free(&wk);
    work_free(&full);
    free(order), free(dlog), free(grad);
    return rc;
}

/* The loss of q on the whole of x (no noise), per sample into per when
 * not NULL; *rc SNNC_ENOMEM on failure. */
static double batch_loss_alloc(const snnc_ann *q, const snnc_tensor *x, const float *t, const int64_t *labels,
                               const snnc_finetune_opts *o, double temp, double *per, int *rc)
{
    work w;
    double l = INFINITY;
    *rc = work_init(&w, q, (int)x->dims[q->batch_first ? 0 : 1], o->carry, o->label_weight);
    if (!*rc)
        l = batch_loss(&w, x, NULL, w.cap, t, labels, temp, NULL, 0, NULL, 0, NULL, per);
    work_free(&w);
    return l;
}

/* Validation loss of q on the held-out part of s (temperature 1), per
 * sample into per [s->nva]. */
static int validate(const snnc_ann *q, const split *s, const snnc_finetune_opts *o, double *per, double *loss,
                    snnc_err *err)
{
    int rc;
    *loss = batch_loss_alloc(q, s->xva, s->tva, s->lva, o, 1.0, per, &rc);
    return rc ? snnc_fail(err, rc, "out of memory") : SNNC_OK;
}

int snnc_finetune(const snnc_ann *a, const snnc_constraints *c, const snnc_tensor *calib,
                  const snnc_finetune_opts *o, snnc_ann *q, snnc_layer_constraints *S, int n_stats,
                  snnc_finetune_result *r, snnc_err *err)
{
    memset(r, 0, sizeof *r);
    int rc = check_input(q, calib, err);
    if (rc)
        return rc;
    if (n_stats != q->n_layers || o->holdout < 2 || o->batch < 1 || !(o->lr >= 0) || !(o->noise >= 0) ||
        !(o->temperature > 0) || !(o->label_weight >= 0))
        return snnc_fail(err, SNNC_EUSAGE, "fine-tuning: bad options");
    int64_t N = calib->dims[q->batch_first ? 0 : 1];
    if (o->labels && o->n_labels != N)
        return snnc_fail(err, SNNC_EINVALID, "fine-tuning labels: %lld labels for %lld calibration "
                         "samples", (long long)o->n_labels, (long long)N);
    if (o->steps <= 0 || N < 2 * o->holdout)
        return SNNC_OK;
    double t0 = now();
    split s = {0};
    snnc_ann *w = NULL;
    int8_t **codes = calloc((size_t)q->n_layers, sizeof *codes);
    rc = codes ? make_split(a, q, calib, o, &s, err) : snnc_fail(err, SNNC_ENOMEM, "out of memory");
    if (!rc && !(w = snnc_ann_copy(q)))
        rc = snnc_fail(err, SNNC_ENOMEM, "out of memory");
    for (int l = 0; !rc && l < q->n_layers; l++) {
        size_t n = (size_t)S[l].n_rows * S[l].n_cols;
        if (S[l].codes && !(codes[l] = malloc(n + 1)))
            rc = snnc_fail(err, SNNC_ENOMEM, "out of memory");
        else if (S[l].codes)
            memcpy(codes[l], S[l].codes, n);
    }
    r->train = s.ntr, r->validation = s.nva;
    double *vb = malloc(((size_t)s.nva + 1) * sizeof *vb), *va = malloc(((size_t)s.nva + 1) * sizeof *va);
    if (!rc && (!vb || !va))
        rc = snnc_fail(err, SNNC_ENOMEM, "out of memory");
    if (!rc)
        rc = validate(q, &s, o, vb, &r->val_before, err);
    checkpoint best = {.net = rc ? NULL : snnc_ann_copy(q), .codes = calloc((size_t)q->n_layers, sizeof(int8_t *))};
    if (!rc && (!best.net || !best.codes))
        rc = snnc_fail(err, SNNC_ENOMEM, "out of memory");
    for (int l = 0; !rc && l < q->n_layers; l++)
        if (codes[l] && !(best.codes[l] = malloc((size_t)S[l].n_rows * S[l].n_cols + 1)))
            rc = snnc_fail(err, SNNC_ENOMEM, "out of memory");
    if (!rc) {
        best.loss = batch_loss_alloc(q, s.xtr, s.ttr, s.ltr, o, o->temperature, NULL, &rc);
        checkpoint_take(&best, q, codes, best.loss, 0);
        if (rc)
            rc = snnc_fail(err, rc, "out of memory");
    }
    if (!rc)
        rc = train(w, S, codes, c, o, &s, &best, err);
    if (!rc)
        rc = validate(best.net, &s, o, va, &r->val_after, err);
    if (!rc) {
        r->steps = o->steps;
        r->best_step = best.step;
        /* kept only when the held-out loss is lower beyond 2 standard errors:
         * a gain within the noise of the held-out part is not measured */
        r->kept = (o->force_keep || snnc_significantly_lower(vb, va, s.nva, 2.0)) && !same_bytes(q, best.net);
        if (r->kept)
            adopt(q, best.net, S, best.codes);
    }
    for (int l = 0; codes && l < q->n_layers; l++)
        free(codes[l]), free(best.codes ? best.codes[l] : NULL);
    free(codes), free(best.codes);
    snnc_ann_free(best.net);
    free(vb), free(va);
    snnc_ann_free(w);
    split_free(&s);
    r->seconds = now() - t0;
    return rc;
}
