/* match.c — response matching (interface: mapper/mapper.h; design:
 * docs/CONVERSION.md §4).  The constrained network is run in the count
 * domain (snnc_count_forward: integer code-weighted sums P and the counts
 * the ANN's quantisers give); every neuron of the netlist is then fitted so
 * that, driven by its calibration sequences of P (spread evenly over each
 * window), its window counts match the ANN's: a GSL simplex on the
 * continuous relaxation clamp(s P + b, 0, W), then integer candidates for
 * every mult and a coordinate search of the integer neighbourhood
 * (threshold, leak, mult, v0, floor), each scored by simulating the neuron.
 * Last, in closed loop: every hidden neuron is widened (the same neuron at k
 * times the scale, for finer leak steps) and one common bias shift, in
 * counts per window, is chosen by simulating the whole netlist on the
 * calibration data: it offsets the upward bias that count noise gets
 * through the rectification of the network's own recurrence. */
#include <gsl/gsl_multimin.h>
#include <gsl/gsl_vector.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ir/error.h"
#include "ir/tensor.h"
#include "mapper.h"

#define MATCH_SAMPLES 128   /* calibration sequences used per neuron */
#define CURVE_POINTS 3000
#define WIDE_THRESHOLD 16383 /* widening keeps thresholds (and V) well inside 20 bits */

/* ------------------------------------------------------------ count domain */

static int act_window(const snnc_act_quant *q)
{
    return q->lo < 0 ? (q->levels - 1) / 2 : q->levels - 1;
}

static double clampd(double v, double lo, double hi) { return v < lo ? lo : v > hi ? hi : v; }

static double count_of(const snnc_ann_layer *L, double z, int W, double a_out, bool last)
{
    if (L->act == SNNC_ACT_RELU)
        return clampd(floor(z + 0.5), 0, W);
    if (L->act == SNNC_ACT_TANH)
        return clampd(floor(W * tanh(a_out * z / W) / a_out + 0.5), -W, W);
    return last ? z : clampd(floor(z + 0.5), -W, W);
}

int snnc_count_forward(const snnc_ann *q, const snnc_layer_constraints *st, const snnc_tensor *input,
                       snnc_count_trace *tr, snnc_err *err)
{
    memset(tr, 0, sizeof *tr);
    int ta = q->batch_first ? 1 : 0, T = q->steps, W = act_window(&q->in_q);
    if (!input || input->rank != 3 || input->dims[ta] != T || input->dims[2] != q->n_inputs)
        return snnc_fail(err, SNNC_EINVALID, "calibration input: expected %d steps of %d features", T, q->n_inputs);
    int64_t B = input->dims[1 - ta];
    tr->n_layers = q->n_layers;
    tr->steps = T;
    tr->batch = B;
    tr->P = calloc((size_t)q->n_layers, sizeof *tr->P);
    tr->cnt = calloc((size_t)q->n_layers, sizeof *tr->cnt);
    tr->z = calloc((size_t)q->n_layers, sizeof *tr->z);
    double *x = malloc((size_t)(T * B * q->n_inputs) * sizeof *x + 1);
    if (!tr->P || !tr->cnt || !tr->z || !x) {
        free(x);
        tr->in = NULL;
        snnc_count_trace_free(tr);
        return snnc_fail(err, SNNC_ENOMEM, "out of memory");
    }
    double step = q->in_q.hi / (double)W, lo = q->in_q.lo < 0 ? -W : 0;
    for (int t = 0; t < T; t++)
        for (int64_t b = 0; b < B; b++)
            for (int f = 0; f < q->n_inputs; f++) {
                int64_t src = q->batch_first ? ((b * T + t) * q->n_inputs + f) : (((int64_t)t * B + b) * q->n_inputs + f);
                x[((size_t)t * B + b) * q->n_inputs + f] = clampd(floor(snnc_tensor_get_f(input, src) / step + 0.5), lo, W);
            }
    tr->in = x;
    const double *prev = x;
    int prev_n = q->n_inputs, prev_T = T;
    int rc = SNNC_OK;
    for (int l = 0; l < q->n_layers && rc == SNNC_OK; l++) {
        const snnc_ann_layer *L = &q->layers[l];
        const snnc_layer_constraints *S = &st[l];
        bool last = l == q->n_layers - 1, rec = L->role == SNNC_ANN_RECURRENT;
        int Tl = L->role == SNNC_ANN_READOUT ? 1 : T, H = L->n_out;
        double a_out = S->activity_range > 0 ? S->activity_range : 1;
        size_t cnt = (size_t)Tl * B * H + 1;
        tr->P[l] = malloc(cnt * sizeof(int64_t));
        tr->cnt[l] = malloc(cnt * sizeof(double));
        tr->z[l] = malloc(cnt * sizeof(double));
        if (!tr->P[l] || !tr->cnt[l] || !tr->z[l]) {
            rc = snnc_fail(err, SNNC_ENOMEM, "out of memory");
            break;
        }
        for (int t = 0; t < Tl; t++) {
            int tp = prev_T == Tl ? t : prev_T - 1; /* readouts read the last step */
            for (int64_t b = 0; b < B; b++)
                for (int j = 0; j < H; j++) {
                    const int8_t *c = S->codes + (size_t)j * S->n_cols;
                    const double *u = prev + ((size_t)tp * B + b) * prev_n;
                    const double *h = rec && t > 0 ? tr->cnt[l] + ((size_t)(t - 1) * B + b) * H : NULL;
                    int64_t P = 0;
                    double z = L->b[j] * W / a_out;
                    for (int g = 0; g < S->n_groups; g++) { /* split: a scale per group */
                        int64_t Pg = 0;
                        for (int i = S->group_start[g]; i < S->group_start[g + 1]; i++)
                            if (i < L->n_in)
                                Pg += c[i] * (int64_t)u[i];
                            else if (h)
                                Pg += c[i] * (int64_t)h[i - L->n_in];
                        P += Pg;
                        z += S->scales[(size_t)j * S->n_groups + g] * (double)Pg;
                    }
                    size_t o = ((size_t)t * B + b) * H + j;
                    tr->P[l][o] = P;
                    tr->z[l][o] = z;
                    tr->cnt[l][o] = count_of(L, z, W, a_out, last);
                }
        }
        prev = tr->cnt[l];
        prev_n = H;
        prev_T = Tl;
    }
    if (rc)
        snnc_count_trace_free(tr);
    return rc;
}

/* ------------------------------------------------------------ one neuron */

typedef struct fit_data {
    int W, T;             /* window, windows per sequence */
    int nseq;
    const int64_t *Q;     /* [nseq][T] the neuron's own input sums (sign applied) */
    const int32_t *X;     /* [nseq][T][W] the same per tick (NULL: Q spread evenly) */
    const double *target; /* [nseq][T] counts to reach */
} fit_data;

static int64_t ceil_div(int64_t a, int64_t b) { return a >= 0 ? (a + b - 1) / b : -((-a) / b); }

/* Spike counts of neuron u driven by Q spread evenly over each window, as
 * the rate code spreads its spikes: ceil((p+1) Q / W) by phase p. */
static double sim_error(const snnc_neuron *u, const fit_data *d, int *counts_out)
{
    double e = 0;
    for (int s = 0; s < d->nseq; s++) {
        int64_t V = u->v0;
        for (int t = 0; t < d->T; t++) {
            int64_t Q = d->Q[(size_t)s * d->T + t];
            const int32_t *X = d->X ? d->X + ((size_t)s * d->T + t) * d->W : NULL;
            int cnt = 0;
            for (int ph = 0; ph < d->W; ph++) {
                int64_t in = X ? X[ph] : ceil_div(Q * (ph + 1), d->W) - ceil_div(Q * ph, d->W);
                V += (int64_t)u->mult * in + u->leak;
                if (V >= u->threshold) {
                    V -= u->threshold;
                    cnt++;
                } else if (V < -(int64_t)u->floor) {
                    V = -(int64_t)u->floor;
                }
            }
            double r = cnt - d->target[(size_t)s * d->T + t];
            e += r * r;
            if (counts_out)
                counts_out[(size_t)s * d->T + t] = cnt;
        }
    }
    return e;
}

static double relaxed_error(const gsl_vector *v, void *params)
{
    const fit_data *d = params;
    double s = gsl_vector_get(v, 0), b = gsl_vector_get(v, 1), e = 0;
    for (int k = 0; k < d->nseq * d->T; k++) {
        double r = clampd(s * (double)d->Q[k] + b, 0, d->W) - d->target[k];
        e += r * r;
    }
    return e;
}

/* GSL Nelder-Mead on (s, b); returns false when it does not improve. */
static void fit_relaxed(const fit_data *d, double *s, double *b)
{
    gsl_multimin_function f = {relaxed_error, 2, (void *)d};
    gsl_vector *x = gsl_vector_alloc(2), *step = gsl_vector_alloc(2);
    gsl_multimin_fminimizer *m = gsl_multimin_fminimizer_alloc(gsl_multimin_fminimizer_nmsimplex2, 2);
    if (!x || !step || !m)
        goto done;
    gsl_vector_set(x, 0, *s);
    gsl_vector_set(x, 1, *b);
    gsl_vector_set(step, 0, fabs(*s) * 0.1 + 1e-3);
    gsl_vector_set(step, 1, 0.5);
    double e0 = relaxed_error(x, (void *)d);
    if (gsl_multimin_fminimizer_set(m, &f, x, step) != GSL_SUCCESS)
        goto done;
    for (int it = 0; it < 200; it++) {
        if (gsl_multimin_fminimizer_iterate(m) != GSL_SUCCESS)
            break;
        if (gsl_multimin_test_size(gsl_multimin_fminimizer_size(m), 1e-6) == GSL_SUCCESS)
            break;
    }
    if (m->fval < e0 && gsl_vector_get(m->x, 0) > 0) {
        *s = gsl_vector_get(m->x, 0);
        *b = gsl_vector_get(m->x, 1);
    }
done:
    gsl_multimin_fminimizer_free(m);
    gsl_vector_free(x);
    gsl_vector_free(step);
}

static bool valid(const snnc_neuron *u)
{
    return u->threshold >= 1 && u->threshold <= SNNC_THRESHOLD_MAX && u->mult >= 1 && u->mult <= SNNC_MULT_MAX &&
           abs(u->leak) <= SNNC_LEAK_MAX && u->floor >= 0 && u->floor <= SNNC_THRESHOLD_MAX && u->v0 >= 0 &&
           u->v0 < u->threshold;
}

static void try_neuron(const snnc_neuron *u, const fit_data *d, snnc_neuron *best, double *best_e)
{
    if (!valid(u))
        return;
    double e = sim_error(u, d, NULL);
    if (e < *best_e) {
        *best_e = e;
        *best = *u;
    }
}

/* Integer search: every mult at the relaxed slope, then coordinate steps. */
static snnc_neuron fit_integer(const fit_data *d, snnc_neuron start, double s, double b, double *err)
{
    snnc_neuron best = start;
    double best_e = valid(&start) ? sim_error(&start, d, NULL) : INFINITY;
    for (int m = 1; m <= SNNC_MULT_MAX && s > 0; m++) {
        double a = floor(m / s + 0.5);
        if (a < 1 || a > SNNC_THRESHOLD_MAX)
            continue;
        int32_t A = (int32_t)a, leak = (int32_t)floor(b * a / d->W + 0.5);
        int32_t floors[] = {0, A / 2, A, 2 * A};
        for (int f = 0; f < 4; f++) {
            snnc_neuron u = {A, leak, m, floors[f], A / 2};
            try_neuron(&u, d, &best, &best_e);
        }
    }
    for (int round = 0; round < 30; round++) {
        snnc_neuron c = best;
        int32_t da = c.threshold / 64 + 1, dv = c.threshold / 8 + 1;
        snnc_neuron cand[] = {
            {c.threshold + da, c.leak, c.mult, c.floor, c.v0}, {c.threshold - da, c.leak, c.mult, c.floor, c.v0},
            {c.threshold + 1, c.leak, c.mult, c.floor, c.v0},  {c.threshold - 1, c.leak, c.mult, c.floor, c.v0},
            {c.threshold, c.leak + 1, c.mult, c.floor, c.v0},  {c.threshold, c.leak - 1, c.mult, c.floor, c.v0},
            {c.threshold, c.leak, c.mult + 1, c.floor, c.v0},  {c.threshold, c.leak, c.mult - 1, c.floor, c.v0},
            {c.threshold, c.leak, c.mult, c.floor, c.v0 + dv}, {c.threshold, c.leak, c.mult, c.floor, c.v0 - dv},
            {c.threshold, c.leak, c.mult, c.floor + dv, c.v0}, {c.threshold, c.leak, c.mult, c.floor - dv, c.v0},
        };
        for (size_t k = 0; k < sizeof cand / sizeof cand[0]; k++)
            try_neuron(&cand[k], d, &best, &best_e);
        if (memcmp(&best, &c, sizeof c) == 0)
            break;
    }
    *err = best_e;
    return best;
}

/* ------------------------------------------------------------ populations */

static int add_curve_points(snnc_match_curve *cv, const double *z, const double *ann, const int *snn, size_t n,
                            size_t stride)
{
    for (size_t k = 0; k < n && cv->n < CURVE_POINTS; k += stride) {
        cv->z[cv->n] = (float)z[k];
        cv->ann[cv->n] = (float)ann[k];
        cv->snn[cv->n] = (float)snn[k];
        cv->n++;
    }
    return 0;
}

typedef struct pop_work {
    int32_t *X;
    int64_t *Q;
    double *target, *z;
    int *cnt;
} pop_work;

/* Readout read from the membranes: the score over the window, in units of
 * the common threshold, against z'. */
static double readout_residual(const snnc_population *P, const snnc_count_trace *tr, int l, snnc_match_curve *cv,
                               int W)
{
    double e = 0;
    int64_t n = tr->batch * P->n;
    for (int64_t k = 0; k < n; k++) {
        int j = (int)(k % P->n);
        double score = ((double)P->mult[j] * tr->P[l][k] + (double)W * P->leak[j]) / P->threshold[j];
        double r = score - tr->z[l][k];
        e += r * r;
        if (cv && cv->n < CURVE_POINTS && k % (n / CURVE_POINTS + 1) == 0) {
            cv->z[cv->n] = (float)tr->z[l][k];
            cv->ann[cv->n] = (float)tr->z[l][k];
            cv->snn[cv->n++] = (float)score;
        }
    }
    return n > 0 ? e / n : 0;
}

/* Spikes of a source of signed count c at phase ph of its window (the
 * rate code's pattern, also taken for hidden neurons): +-1 or 0. */
static int spike_at(double c, int ph, int W)
{
    int n = (int)fabs(c);
    n = n > W ? W : n;
    int on = snnc_rate_spike(n, W, ph);
    return on ? (c > 0 ? 1 : -1) : 0;
}

/* Per-tick input (codes times source spikes, sign of the population
 * applied) of neuron j of the layer over the calibration sequences: the
 * sources' counts are the constrained ANN's, spread as rate codes. */
static void spike_inputs(const snnc_population *P, int j, int l, const snnc_ann *q, const snnc_layer_constraints *st,
                         const snnc_count_trace *tr, int64_t stride, int nseq, int T, int W, int32_t *X)
{
    const snnc_ann_layer *L = &q->layers[l];
    const int8_t *code = st[l].codes + (size_t)j * st[l].n_cols;
    const double *src = l ? tr->cnt[l - 1] : tr->in;
    int src_T = l ? (q->layers[l - 1].role == SNNC_ANN_READOUT ? 1 : tr->steps) : tr->steps;
    int64_t B = tr->batch;
    memset(X, 0, (size_t)nseq * T * W * sizeof *X);
    for (int s = 0; s < nseq; s++)
        for (int t = 0; t < T; t++) {
            int32_t *x = X + ((size_t)s * T + t) * W;
            int64_t b = (int64_t)s * stride;
            int ts = src_T == T ? t : src_T - 1;
            const double *u = src + ((size_t)ts * B + b) * L->n_in;
            for (int i = 0; i < L->n_in; i++)
                for (int ph = 0; code[i] && u[i] != 0 && ph < W; ph++)
                    x[ph] += P->sign * code[i] * spike_at(u[i], ph, W);
            if (L->role != SNNC_ANN_RECURRENT || t == 0)
                continue;
            const double *h = tr->cnt[l] + ((size_t)(t - 1) * B + b) * L->n_out;
            for (int k = 0; k < L->n_out; k++)
                for (int ph = 0; code[L->n_in + k] && h[k] != 0 && ph < W; ph++)
                    x[ph] += P->sign * code[L->n_in + k] * spike_at(h[k], ph, W);
        }
}

/* Fit (if `fit`) population p's neurons, then score them: residual and curve. */
static int match_pop(snnc_netlist *n, int p, const snnc_ann *q, const snnc_layer_constraints *st,
                     const snnc_count_trace *tr, snnc_match_curve *cv, pop_work *w, bool fit)
{
    snnc_population *P = &n->pops[p];
    int l = snnc_lower_layer_of(n, p), W = n->window;
    const snnc_ann_layer *L = &q->layers[l];
    bool last = l == q->n_layers - 1;
    if (last && L->act == SNNC_ACT_NONE) {
        n->residual[p] = readout_residual(P, tr, l, cv, W);
        return 0;
    }
    int T = L->role == SNNC_ANN_READOUT ? 1 : tr->steps;
    int64_t B = tr->batch, stride = B > MATCH_SAMPLES ? B / MATCH_SAMPLES : 1;
    int nseq = (int)((B + stride - 1) / stride), H = P->n;
    double a_out = st[l].activity_range > 0 ? st[l].activity_range : 1, total = 0;
    for (int j = 0; j < H; j++) {
        for (int s = 0; s < nseq; s++)
            for (int t = 0; t < T; t++) {
                size_t o = ((size_t)t * B + (size_t)s * stride) * H + j, k = (size_t)s * T + t;
                w->Q[k] = P->sign * tr->P[l][o];
                w->target[k] = fmax(P->sign * tr->cnt[l][o], 0);
                w->z[k] = P->sign * tr->z[l][o];
            }
        spike_inputs(P, j, l, q, st, tr, stride, nseq, T, W, w->X);
        fit_data d = {W, T, nseq, w->Q, w->X, w->target};
        snnc_neuron u = {P->threshold[j], P->leak[j], P->mult[j], P->floor[j], P->v0[j]};
        if (fit) {
            double s = st[l].scales[(size_t)j * st[l].n_groups], b = P->sign * L->b[j] * W / a_out, e;
            fit_relaxed(&d, &s, &b);
            u = fit_integer(&d, u, s, b, &e);
            P->threshold[j] = u.threshold;
            P->leak[j] = u.leak;
            P->mult[j] = u.mult;
            P->floor[j] = u.floor;
            P->v0[j] = u.v0;
        }
        total += sim_error(&u, &d, cv ? w->cnt : NULL);
        if (cv) {
            size_t npts = (size_t)nseq * T, per = CURVE_POINTS / (size_t)H + 1;
            add_curve_points(cv, w->z, w->target, w->cnt, npts, npts / per + 1);
        }
    }
    n->residual[p] = total / ((double)H * nseq * T);
    return 0;
}

/* ------------------------------------------------------------ closed loop */

/* The same neuron at k times the scale (mult, threshold, leak, floor, v0 all
 * times k: V is k times the original's at every tick, so the spikes are
 * identical), with the largest k the ranges allow: finer leak steps. */
static void widen(snnc_population *P, int j)
{
    int64_t k = SNNC_MULT_MAX / P->mult[j];
    while (k > 1 && (k * P->threshold[j] > WIDE_THRESHOLD || k * abs(P->leak[j]) > SNNC_LEAK_MAX ||
                     k * P->floor[j] > SNNC_THRESHOLD_MAX))
        k--;
    P->mult[j] *= (int32_t)k;
    P->threshold[j] *= (int32_t)k;
    P->leak[j] *= (int32_t)k;
    P->floor[j] *= (int32_t)k;
    P->v0[j] *= (int32_t)k;
}

static bool shiftable(const snnc_netlist *n, const snnc_ann *q, int p)
{
    int l = snnc_lower_layer_of(n, p);
    return n->pops[p].role == SNNC_POP_HIDDEN && l >= 0 && q->layers[l].role != SNNC_ANN_READOUT;
}

/* Hidden leaks shifted by `delta` counts per window from `base`. */
static void apply_shift(snnc_netlist *n, const snnc_ann *q, const int32_t *base, double delta)
{
    for (int p = 0, g = 0; p < n->n_pops; p++) {
        if (!shiftable(n, q, p))
            continue;
        snnc_population *P = &n->pops[p];
        for (int j = 0; j < P->n; j++, g++) {
            double leak = base[g] + floor(delta * P->threshold[j] / n->window + 0.5);
            P->leak[j] = (int32_t)fmax(-SNNC_LEAK_MAX, fmin(SNNC_LEAK_MAX, leak));
        }
    }
}

/* Closed-loop count error: mean squared difference between the window counts
 * of the shiftable populations when the whole netlist runs on the
 * calibration input and the constrained ANN's counts (sign applied). */
static int closed_loop_error(const snnc_netlist *n, const snnc_ann *q, const snnc_tensor *calib,
                             const snnc_count_trace *tr, double *out, snnc_err *err)
{
    snnc_sim_result r;
    int rc = snnc_netlist_simulate(n, calib, q->batch_first, &r, err);
    if (rc)
        return rc;
    double e = 0;
    int64_t cnt = 0;
    for (int p = 0; p < n->n_pops; p++) {
        if (!shiftable(n, q, p))
            continue;
        const snnc_population *P = &n->pops[p];
        int l = snnc_lower_layer_of(n, p);
        for (int t = 0; t < n->steps; t++)
            for (int64_t b = 0; b < r.batch; b++)
                for (int j = 0; j < P->n; j++) {
                    double c = r.counts[((size_t)t * r.batch + b) * r.n_neurons + r.pop_offset[p] + j];
                    double d = c - fmax(P->sign * tr->cnt[l][((size_t)t * tr->batch + b) * P->n + j], 0);
                    e += d * d;
                    cnt++;
                }
    }
    *out = cnt ? e / (double)cnt : 0;
    snnc_sim_result_free(&r);
    return SNNC_OK;
}

/* Widen every hidden neuron, then choose the common bias shift (counts per
 * window, -0.2 to +0.1 in steps of 0.025) with the smallest closed-loop
 * count error on the calibration data; 0 (no shift) unless another is
 * strictly better. */
static int calibrate_bias(snnc_netlist *n, const snnc_ann *q, const snnc_tensor *calib,
                          const snnc_count_trace *tr, snnc_err *err)
{
    int total = 0;
    for (int p = 0; p < n->n_pops; p++)
        if (shiftable(n, q, p)) {
            for (int j = 0; j < n->pops[p].n; j++)
                widen(&n->pops[p], j);
            total += n->pops[p].n;
        }
    int32_t *base = malloc(((size_t)total + 1) * sizeof *base);
    if (!base)
        return snnc_fail(err, SNNC_ENOMEM, "match: out of memory");
    for (int p = 0, g = 0; p < n->n_pops; p++)
        for (int j = 0; shiftable(n, q, p) && j < n->pops[p].n; j++)
            base[g++] = n->pops[p].leak[j];
    double best = INFINITY, best_delta = 0, e = 0;
    int rc = SNNC_OK;
    for (int k = 0; k <= 12 && rc == SNNC_OK; k++) {
        double delta = k == 0 ? 0 : -0.2 + 0.025 * (k - 1 + (k > 8)); /* 0 first, then the grid without 0 */
        apply_shift(n, q, base, delta);
        rc = closed_loop_error(n, q, calib, tr, &e, err);
        if (rc == SNNC_OK && e < best - 1e-9) {
            best = e;
            best_delta = delta;
        }
    }
    apply_shift(n, q, base, best_delta);
    free(base);
    return rc;
}

int snnc_match(snnc_netlist *n, const snnc_ann *q, const snnc_layer_constraints *st, const snnc_tensor *calib,
               snnc_match_curve **curves, int *n_curves, snnc_err *err)
{
    if (curves)
        *curves = NULL;
    if (n_curves)
        *n_curves = 0;
    for (int p = 0; n && q && p < n->n_pops; p++) {
        int l = snnc_lower_layer_of(n, p);
        if (n->pops[p].role != SNNC_POP_INPUT && (l < 0 || l >= q->n_layers || n->pops[p].n != q->layers[l].n_out))
            return snnc_fail(err, SNNC_EUSAGE, "match: population '%s' does not match the network", n->pops[p].name);
    }
    if (!n || !q || !st || !n->residual)
        return snnc_fail(err, SNNC_EUSAGE, "match: no netlist, network or statistics");
    snnc_count_trace tr;
    int rc = snnc_count_forward(q, st, calib, &tr, err);
    if (rc)
        return rc;
    pop_work w = {0};
    size_t cap = (size_t)MATCH_SAMPLES * 2 * (size_t)tr.steps + 1;
    w.Q = malloc(cap * sizeof *w.Q);
    w.X = malloc(cap * (size_t)n->window * sizeof *w.X);
    w.target = malloc(cap * sizeof *w.target);
    w.z = malloc(cap * sizeof *w.z);
    w.cnt = malloc(cap * sizeof *w.cnt);
    snnc_match_curve *cv = curves ? calloc((size_t)n->n_pops, sizeof *cv) : NULL;
    int ncv = 0;
    if (!w.Q || !w.X || !w.target || !w.z || !w.cnt || (curves && !cv))
        rc = snnc_fail(err, SNNC_ENOMEM, "match: out of memory");
    for (int p = 0; p < n->n_pops && rc == SNNC_OK; p++)
        if (n->pops[p].role != SNNC_POP_INPUT)
            match_pop(n, p, q, st, &tr, NULL, &w, true);
    if (rc == SNNC_OK)
        rc = calibrate_bias(n, q, calib, &tr, err);
    for (int p = 0; p < n->n_pops && rc == SNNC_OK; p++) {
        if (n->pops[p].role == SNNC_POP_INPUT)
            continue;
        snnc_match_curve *c = cv ? &cv[ncv++] : NULL;
        if (c) {
            snprintf(c->name, sizeof c->name, "%s", n->pops[p].name);
            c->z = malloc(CURVE_POINTS * sizeof *c->z);
            c->ann = malloc(CURVE_POINTS * sizeof *c->ann);
            c->snn = malloc(CURVE_POINTS * sizeof *c->snn);
            if (!c->z || !c->ann || !c->snn) {
                rc = snnc_fail(err, SNNC_ENOMEM, "match: out of memory");
                break;
            }
        }
        match_pop(n, p, q, st, &tr, c, &w, false);
        if (c)
            c->residual = n->residual[p];
    }
    free(w.Q);
    free(w.X);
    free(w.target);
    free(w.z);
    free(w.cnt);
    snnc_count_trace_free(&tr);
    if (rc) {
        snnc_match_curves_free(cv, ncv);
        return rc;
    }
    if (curves) {
        *curves = cv;
        *n_curves = ncv;
    }
    return SNNC_OK;
}
