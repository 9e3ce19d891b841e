/* match.c — response matching (interface: mapper/mapper.h; design:
 * docs/CONVERSION.md §4).  The constrained network is run in the count
 * domain (snnc_count_forward: integer code-weighted sums P and the counts
 * the ANN's quantisers give); every neuron of the netlist is then fitted so
 * that, driven by its calibration sequences of P (spread evenly over each
 * window), its window counts match the ANN's: a GSL simplex on the
 * continuous relaxation clamp(s P + b, 0, W), then integer candidates for
 * every mult and a coordinate search of the integer neighbourhood
 * (threshold, leak, mult, v0, floor), each scored by simulating the neuron.
 * Split layers (docs/CONVERSION.md §5) first get their partial units from
 * the calibration data; partial neurons are fitted to the ANN's group sums
 * in their units, final neurons on their partial neurons' simulated spikes,
 * both with floor 0 (a relu per window: better in closed loop).
 * Last, in closed loop: every hidden neuron is widened (the same neuron at k
 * times the scale, for finer leak steps) and one common bias shift, in
 * counts per window, is chosen by simulating the whole netlist on the
 * calibration data: it offsets the upward bias that count noise gets
 * through the rectification of the network's own recurrence. */
#include <gsl/gsl_multimin.h>
#include <gsl/gsl_vector.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ir/error.h"
#include "ir/tensor.h"
#include "mapper.h"

#define MATCH_SAMPLES 128   /* calibration sequences used per neuron */
#define CURVE_POINTS 3000
#define WIDE_THRESHOLD 16383
#define MATCH_THREADS 8     /* neurons of a population fitted in parallel (at most the CPUs) */ /* widening keeps thresholds (and V) well inside 20 bits */

/* ------------------------------------------------------------ count domain */

static double clampd(double v, double lo, double hi) { return v < lo ? lo : v > hi ? hi : v; }

/* The count layer L's quantiser gives for the pre-activation z' (output
 * counts): relu on 0..W; tanh offset-coded on k in 0..W (h = a (2k/W - 1)),
 * or signed -W..W (a pair); linear (readout: z' itself). */
static double count_of(const snnc_ann_layer *L, double z, int W, double a_out, bool last)
{
    if (L->act == SNNC_ACT_RELU)
        return clampd(floor(z + 0.5), 0, W);
    if (L->act == SNNC_ACT_TANH && snnc_act_offset(&L->out_q, W))
        return clampd(floor((tanh(a_out * z / W) / a_out + 1) * W / 2 + 0.5), 0, W);
    if (L->act == SNNC_ACT_TANH)
        return clampd(floor(W * tanh(a_out * z / W) / a_out + 0.5), -W, W);
    return last ? z : clampd(floor(z + 0.5), -W, W);
}

/* z' of neuron j of layer L from its inputs u and (recurrent) its previous
 * counts h; *P (and Pg per group, if not NULL) the code-weighted sums. */
static double row_z(const snnc_ann_layer *L, const snnc_layer_constraints *S, int j, const double *u,
                    const double *h, int W, double a_out, const double *off, int64_t *P, int64_t *Pg)
{
    const int8_t *c = S->codes + (size_t)j * S->n_cols;
    double z = L->b[j] * W / a_out;
    *P = 0;
    for (int g = 0; g < S->n_groups; g++) { /* split: a scale per group */
        int64_t sum = 0;
        for (int i = S->group_start[g]; i < S->group_start[g + 1]; i++)
            if (i < L->n_in)
                sum += c[i] * (int64_t)u[i];
            else if (h)
                sum += c[i] * (int64_t)h[i - L->n_in];
        *P += sum;
        z += S->scales[(size_t)j * S->n_groups + g] * (double)sum + (off ? off[g] : 0);
        if (Pg)
            Pg[g] = sum;
    }
    return z;
}

static double a_out_of(const snnc_layer_constraints *S)
{
    return S->activity_range > 0 ? S->activity_range : 1;
}

double snnc_count_z(const snnc_ann *q, const snnc_layer_constraints *st, int l, int t, int j,
                    const double *u, const double *h)
{
    int64_t P;
    int W = snnc_lower_window(q);
    double z = row_z(&q->layers[l], &st[l], j, u, q->layers[l].role == SNNC_ANN_RECURRENT ? h : NULL,
                     W, a_out_of(&st[l]), NULL, &P, NULL);
    for (int g = 0; g < st[l].n_groups; g++) /* offset-coded columns' constants at step t */
        z += snnc_lower_offset(q, &st[l], l, j, g, W, t);
    return z;
}

double snnc_count_of(const snnc_ann *q, const snnc_layer_constraints *st, int l, double z)
{
    return count_of(&q->layers[l], z, snnc_lower_window(q), a_out_of(&st[l]), l == q->n_layers - 1);
}

int snnc_count_forward(const snnc_ann *q, const snnc_layer_constraints *st, const snnc_tensor *input,
                       snnc_count_trace *tr, snnc_err *err)
{
    memset(tr, 0, sizeof *tr);
    int ta = q->batch_first ? 1 : 0, T = q->steps, W = snnc_lower_window(q);
    if (!input || input->rank != 3 || input->dims[ta] != T || input->dims[2] != q->n_inputs)
        return snnc_fail(err, SNNC_EINVALID, "calibration input: expected %d steps of %d features", T, q->n_inputs);
    int64_t B = input->dims[1 - ta];
    tr->n_layers = q->n_layers;
    tr->steps = T;
    tr->batch = B;
    tr->P = calloc((size_t)q->n_layers, sizeof *tr->P);
    tr->Pg = calloc((size_t)q->n_layers, sizeof *tr->Pg);
    tr->cnt = calloc((size_t)q->n_layers, sizeof *tr->cnt);
    tr->z = calloc((size_t)q->n_layers, sizeof *tr->z);
    double *x = malloc((size_t)(T * B * q->n_inputs) * sizeof *x + 1);
    if (!tr->P || !tr->Pg || !tr->cnt || !tr->z || !x) {
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
        double a_out = a_out_of(S);
        size_t cnt = (size_t)Tl * B * H + 1;
        size_t HG = (size_t)H * S->n_groups; /* offset-coded columns: [step 0 | later steps] */
        double *off = malloc((2 * HG + 1) * sizeof *off);
        for (size_t k = 0; off && k < HG; k++)
            for (int t = 0; t < 2; t++)
                off[t * HG + k] = snnc_lower_offset(q, S, l, (int)(k / S->n_groups), (int)(k % S->n_groups), W, t);
        tr->P[l] = malloc(cnt * sizeof(int64_t));
        tr->cnt[l] = malloc(cnt * sizeof(double));
        tr->z[l] = malloc(cnt * sizeof(double));
        if (S->n_groups > 1)
            tr->Pg[l] = malloc(cnt * (size_t)S->n_groups * sizeof(int64_t));
        if (!off || !tr->P[l] || !tr->cnt[l] || !tr->z[l] || (S->n_groups > 1 && !tr->Pg[l])) {
            free(off);
            rc = snnc_fail(err, SNNC_ENOMEM, "out of memory");
            break;
        }
        for (int t = 0; t < Tl; t++) {
            int tp = prev_T == Tl ? t : prev_T - 1; /* readouts read the last step */
            for (int64_t b = 0; b < B; b++)
                for (int j = 0; j < H; j++) {
                    const double *u = prev + ((size_t)tp * B + b) * prev_n;
                    const double *h = rec && t > 0 ? tr->cnt[l] + ((size_t)(t - 1) * B + b) * H : NULL;
                    size_t o = ((size_t)t * B + b) * H + j;
                    double z = row_z(L, S, j, u, h, W, a_out, off + (t > 0) * HG + (size_t)j * S->n_groups,
                                     &tr->P[l][o], S->n_groups > 1 ? tr->Pg[l] + o * S->n_groups : NULL);
                    tr->z[l][o] = z;
                    tr->cnt[l][o] = count_of(L, z, W, a_out, last);
                }
        }
        free(off);
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
    bool floor0;          /* only floor 0 (a relu per window, no debt carried) */
    double charge;        /* counts window 0 lacks (snnc_lower_line): initial potential */
} fit_data;

static int64_t ceil_div(int64_t a, int64_t b) { return a >= 0 ? (a + b - 1) / b : -((-a) / b); }

/* Spike counts of neuron u driven by Q spread evenly over each window, as
 * the rate code spreads its spikes: ceil((p+1) Q / W) by phase p. */
static double sim_error(const snnc_neuron *u, const fit_data *d, int *counts_out)
{
    double e = 0;
    for (int s = 0; s < d->nseq; s++) {
        int64_t V = u->v0 + snnc_lower_charge(d->charge, u->threshold);
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
        double r = clampd(s * (double)d->Q[k] + b + (k % d->T ? 0 : d->charge), 0, d->W) - d->target[k];
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
    if (!valid(u) || (d->floor0 && u->floor != 0))
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
    if (d->floor0)
        best.floor = 0;
    double best_e = valid(&best) ? sim_error(&best, d, NULL) : INFINITY;
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
    int32_t *X, *Xp;      /* per-tick inputs of a neuron; of one of its partial neurons */
    int64_t *Q;
    double *target, *z;
    int *cnt;
} pop_work;

static void pop_work_free(pop_work *w)
{
    free(w->Q), free(w->X), free(w->Xp), free(w->target), free(w->z), free(w->cnt);
    memset(w, 0, sizeof *w);
}

/* Work space for MATCH_SAMPLES sequences of `steps` windows of W ticks. */
static int pop_work_init(pop_work *w, int steps, int W)
{
    size_t cap = (size_t)MATCH_SAMPLES * 2 * (size_t)steps + 1;
    w->Q = malloc(cap * sizeof *w->Q);
    w->X = malloc(cap * (size_t)W * sizeof *w->X);
    w->Xp = malloc(cap * (size_t)W * sizeof *w->Xp);
    w->target = malloc(cap * sizeof *w->target);
    w->z = malloc(cap * sizeof *w->z);
    w->cnt = malloc(cap * sizeof *w->cnt);
    if (w->Q && w->X && w->Xp && w->target && w->z && w->cnt)
        return 0;
    pop_work_free(w);
    return -1;
}

/* Code-weighted input sum of group g's columns at trace offset o (all
 * columns for an unsplit layer). */
static int64_t group_sum(const snnc_count_trace *tr, const snnc_layer_constraints *S, int l, size_t o, int g)
{
    return S->n_groups > 1 ? tr->Pg[l][o * S->n_groups + g] : tr->P[l][o];
}

/* The group's value of neuron j of partial population p for the group
 * sum Pg, in the neuron's units: sign (s_jg Pg + o_jg) / unit, o_jg the
 * group's offset-coded columns' constant (snnc_lower_offset). */
static double partial_value(const snnc_netlist *n, int p, int j, const snnc_layer_constraints *S, double off,
                            int64_t Pg)
{
    const snnc_population *P = &n->pops[p];
    return P->sign * (snnc_lower_scale(S, j, P->group) * (double)Pg + off) / snnc_partial_unit(n, p, j);
}

/* The count it should emit: that value rounded, in 0..W. */
static double partial_count(const snnc_netlist *n, int p, int j, const snnc_layer_constraints *S, double off,
                            int64_t Pg)
{
    return clampd(floor(partial_value(n, p, j, S, off, Pg) + 0.5), 0, n->window);
}

/* Readout read from the membranes: the score over the window, in units of
 * the common threshold, against z' (a split readout's group g: against
 * s_jg P_jg, plus b' on group 0). */
static double readout_residual(const snnc_population *P, const snnc_ann *q, const snnc_count_trace *tr, int l,
                               const snnc_layer_constraints *S, snnc_match_curve *cv, int W)
{
    double e = 0;
    int64_t n = tr->batch * P->n;
    for (int64_t k = 0; k < n; k++) {
        int j = (int)(k % P->n);
        int64_t Pk = group_sum(tr, S, l, (size_t)k, P->group);
        double score = ((double)P->mult[j] * Pk + (double)W * P->leak[j]) / P->threshold[j];
        double zk = tr->z[l][k];
        if (S->n_groups > 1) { /* group g: s_jg P_jg + o_jg, plus the bias b' on group 0 */
            double bias = tr->z[l][k];
            for (int g = 0; g < S->n_groups; g++)
                bias -= S->scales[(size_t)j * S->n_groups + g] * (double)tr->Pg[l][(size_t)k * S->n_groups + g] +
                        snnc_lower_offset(q, S, l, j, g, W, 1);
            zk = S->scales[(size_t)j * S->n_groups + P->group] * (double)Pk +
                 snnc_lower_offset(q, S, l, j, P->group, W, 1) + (P->group == 0 ? bias : 0);
        }
        double r = score - zk;
        e += r * r;
        if (cv && cv->n < CURVE_POINTS && k % (n / CURVE_POINTS + 1) == 0) {
            cv->z[cv->n] = (float)zk;
            cv->ann[cv->n] = (float)zk;
            cv->snn[cv->n++] = (float)score;
        }
    }
    return n > 0 ? e / n : 0;
}

/* The rate code's pattern (also taken for hidden neurons): pat[n][ph] = 1
 * when a source of n spikes per window spikes at phase ph. */
typedef struct rate_table {
    int8_t pat[16][16];
} rate_table;

static rate_table rate_pattern(int W)
{
    rate_table r;
    memset(&r, 0, sizeof r);
    for (int n = 0; n <= W && n < 16; n++)
        for (int ph = 0; ph < W && ph < 16; ph++)
            r.pat[n][ph] = (int8_t)snnc_rate_spike(n, W, ph);
    return r;
}

/* Adds code times the spikes of a source of signed count c (|c| clamped
 * to W) over the W phases of x. */
static void add_train(int32_t *x, int code, double c, int W, const rate_table *rt)
{
    int n = (int)fabs(c);
    n = n > W ? W : n;
    if (c < 0)
        code = -code;
    for (int ph = 0; n && ph < W; ph++)
        x[ph] += code * rt->pat[n][ph];
}

/* Per-tick input (codes times source spikes, sign of the population
 * applied) of neuron j of the layer over the calibration sequences, from
 * the columns [lo, hi): the sources' counts are the constrained ANN's,
 * spread as rate codes. */
static void spike_inputs(const snnc_population *P, int j, int l, const snnc_ann *q, const snnc_layer_constraints *st,
                         const snnc_count_trace *tr, int64_t stride, int nseq, int T, int W, int lo, int hi,
                         int32_t *X)
{
    const snnc_ann_layer *L = &q->layers[l];
    const int8_t *code = st[l].codes + (size_t)j * st[l].n_cols;
    const double *src = l ? tr->cnt[l - 1] : tr->in;
    int src_T = l ? (q->layers[l - 1].role == SNNC_ANN_READOUT ? 1 : tr->steps) : tr->steps;
    int64_t B = tr->batch;
    rate_table rt = rate_pattern(W);
    memset(X, 0, (size_t)nseq * T * W * sizeof *X);
    /* the row's non-zero columns in [lo, hi) once: inputs [0, n_x), then recurrent ones */
    int *nz = malloc(((size_t)(hi > lo ? hi - lo : 0) + 1) * sizeof *nz), n_x = 0, n_all;
    if (!nz)
        return; /* X stays zero: the neuron is fitted to no input (only under memory exhaustion) */
    for (int i = lo; i < L->n_in && i < hi; i++)
        if (code[i])
            nz[n_x++] = i;
    n_all = n_x;
    for (int k = lo > L->n_in ? lo - L->n_in : 0;
         L->role == SNNC_ANN_RECURRENT && k < L->n_out && L->n_in + k < hi; k++)
        if (code[L->n_in + k])
            nz[n_all++] = k;
    for (int s = 0; s < nseq; s++)
        for (int t = 0; t < T; t++) {
            int32_t *x = X + ((size_t)s * T + t) * W;
            int64_t b = (int64_t)s * stride;
            int ts = src_T == T ? t : src_T - 1;
            const double *u = src + ((size_t)ts * B + b) * L->n_in;
            for (int a = 0; a < n_x; a++)
                if (u[nz[a]] != 0)
                    add_train(x, P->sign * code[nz[a]], u[nz[a]], W, &rt);
            if (L->role != SNNC_ANN_RECURRENT || t == 0)
                continue;
            const double *h = tr->cnt[l] + ((size_t)(t - 1) * B + b) * L->n_out;
            for (int a = n_x; a < n_all; a++)
                if (h[nz[a]] != 0)
                    add_train(x, P->sign * code[L->n_in + nz[a]], h[nz[a]], W, &rt);
        }
    free(nz);
}

/* The final neuron j of split population p: its inputs are the spikes of
 * its partial neurons, each simulated (with its parameters) on its own
 * teacher-forced input train Xp, through the partial -> final codes; *Q
 * their code-weighted counts per window. */
static void partial_inputs(const snnc_netlist *n, int p, int j, int l, const snnc_ann *q,
                           const snnc_layer_constraints *st, const snnc_count_trace *tr, int64_t stride, int nseq,
                           int T, int64_t *Q, int32_t *X, int32_t *Xp)
{
    const snnc_layer_constraints *S = &st[l];
    int W = n->window, H = n->pops[p].n;
    memset(X, 0, (size_t)nseq * T * W * sizeof *X);
    memset(Q, 0, (size_t)nseq * T * sizeof *Q);
    for (int k = 0; k < n->n_projs; k++) {
        const snnc_projection *pr = &n->projs[k];
        const snnc_population *src = &n->pops[pr->src];
        if (pr->dst != p || src->role != SNNC_POP_PARTIAL)
            continue;
        int code = pr->code[(size_t)j * H + j]; /* one-to-one: partial j -> final j */
        if (!code)
            continue;
        spike_inputs(src, j, l, q, st, tr, stride, nseq, T, W, S->group_start[src->group],
                     S->group_start[src->group + 1], Xp);
        for (int s = 0; s < nseq; s++) {
            int64_t V = src->v0[j];
            for (int t = 0; t < T; t++)
                for (int ph = 0; ph < W; ph++) {
                    size_t i = ((size_t)s * T + t) * W + ph;
                    V += (int64_t)src->mult[j] * Xp[i] + src->leak[j];
                    if (V >= src->threshold[j]) {
                        V -= src->threshold[j];
                        X[i] += code;
                        Q[(size_t)s * T + t] += code;
                    } else if (V < -(int64_t)src->floor[j]) {
                        V = -(int64_t)src->floor[j];
                    }
                }
        }
    }
}

/* Targets of neuron j of population P over the calibration sequences: Q its
 * code-weighted input (sign applied), target the count it should emit, z
 * its pre-activation in counts (curves). */
static void targets(const snnc_netlist *n, int p, int j, int l, const snnc_ann *q, const snnc_layer_constraints *S,
                    const snnc_count_trace *tr, int64_t stride, int nseq, int T, pop_work *w)
{
    const snnc_population *P = &n->pops[p];
    bool partial = P->role == SNNC_POP_PARTIAL;
    double off[2] = {partial ? snnc_lower_offset(q, S, l, j, P->group, n->window, 0) : 0,
                     partial ? snnc_lower_offset(q, S, l, j, P->group, n->window, 1) : 0};
    int64_t B = tr->batch;
    int H = P->n;
    for (int s = 0; s < nseq; s++)
        for (int t = 0; t < T; t++) {
            size_t o = ((size_t)t * B + (size_t)s * stride) * H + j, k = (size_t)s * T + t;
            if (P->role == SNNC_POP_PARTIAL) {
                int64_t Pg = group_sum(tr, S, l, o, P->group);
                w->Q[k] = P->sign * Pg;
                w->target[k] = partial_count(n, p, j, S, off[t > 0], Pg);
                w->z[k] = partial_value(n, p, j, S, off[t > 0], Pg);
                continue;
            }
            w->Q[k] = P->sign * tr->P[l][o];
            w->target[k] = fmax(P->sign * tr->cnt[l][o], 0);
            w->z[k] = P->sign * tr->z[l][o];
        }
}

/* Neuron j of population p (not a membrane readout): fitted when `fit`;
 * returns its squared count error over the calibration windows and adds its
 * response to the curve cv. */
static double fit_neuron(snnc_netlist *n, int p, int j, const snnc_ann *q, const snnc_layer_constraints *st,
                         const snnc_count_trace *tr, snnc_match_curve *cv, pop_work *w, bool fit)
{
    snnc_population *P = &n->pops[p];
    int l = snnc_lower_layer_of(n, p), W = n->window;
    const snnc_ann_layer *L = &q->layers[l];
    const snnc_layer_constraints *S = &st[l];
    bool partial = P->role == SNNC_POP_PARTIAL, final_of_split = S->n_groups > 1 && !partial;
    int T = L->role == SNNC_ANN_READOUT ? 1 : tr->steps;
    int64_t B = tr->batch, stride = B > MATCH_SAMPLES ? B / MATCH_SAMPLES : 1;
    int nseq = (int)((B + stride - 1) / stride);
    targets(n, p, j, l, q, S, tr, stride, nseq, T, w);
    if (final_of_split)
        partial_inputs(n, p, j, l, q, st, tr, stride, nseq, T, w->Q, w->X, w->Xp);
    else if (partial)
        spike_inputs(P, j, l, q, st, tr, stride, nseq, T, W, S->group_start[P->group],
                     S->group_start[P->group + 1], w->X);
    else
        spike_inputs(P, j, l, q, st, tr, stride, nseq, T, W, 0, S->n_cols, w->X);
    double s, b, c0;
    snnc_lower_line(n, p, j, q, S, &s, &b, &c0);
    /* split layers: floor 0, a relu per window (docs/CONVERSION.md §5); so
     * is an offset-coded tanh neuron, its lower clamp a relu per window (§3) */
    fit_data d = {W, T, nseq, w->Q, w->X, w->target,
                  partial || final_of_split || snnc_lower_offset_coded(q, l), c0};
    /* v0 holds the rounding potential and the step-0 charge; u the former */
    snnc_neuron u = {P->threshold[j], P->leak[j], P->mult[j], P->floor[j],
                     P->v0[j] - snnc_lower_charge(c0, P->threshold[j])};
    /* Partial neurons keep the analytic parameters of their unit (choose_units:
     * no bias but their group's offset, floor 0, rounding v0): fitting them
     * did no better in closed loop (docs/CONVERSION.md §5) and was most of a
     * large split network's matching time. */
    if (fit && !partial) {
        double e;
        fit_relaxed(&d, &s, &b);
        u = fit_integer(&d, u, s, b, &e);
        snnc_neuron stored = u;
        stored.v0 += snnc_lower_charge(c0, u.threshold);
        snnc_neuron_store(P, j, stored);
    }
    double err = sim_error(&u, &d, cv ? w->cnt : NULL);
    if (cv) {
        size_t npts = (size_t)nseq * T, per = CURVE_POINTS / (size_t)P->n + 1;
        add_curve_points(cv, w->z, w->target, w->cnt, npts, npts / per + 1);
    }
    return err;
}

/* A thread's share of a population's fitting: neurons first, first + step, ...
 * (each neuron's fit reads only the netlist's earlier populations and writes
 * only its own parameters, so the shares are independent). */
typedef struct fit_job {
    snnc_netlist *n;
    int p, first, step;
    const snnc_ann *q;
    const snnc_layer_constraints *st;
    const snnc_count_trace *tr;
    pop_work w;
    double *err;            /* [n] per neuron */
    int failed;
} fit_job;

static void *fit_worker(void *arg)
{
    fit_job *f = arg;
    for (int j = f->first; j < f->n->pops[f->p].n; j += f->step)
        f->err[j] = fit_neuron(f->n, f->p, j, f->q, f->st, f->tr, NULL, &f->w, true);
    return NULL;
}

static int fit_threads(void)
{
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    return cpus < 1 ? 1 : cpus > MATCH_THREADS ? MATCH_THREADS : (int)cpus;
}

/* Fit every neuron of population p on up to MATCH_THREADS threads; err[j]
 * gets neuron j's error (the same whatever the number of threads). */
static int fit_parallel(snnc_netlist *n, int p, const snnc_ann *q, const snnc_layer_constraints *st,
                        const snnc_count_trace *tr, pop_work *w0, double *err)
{
    int nt = fit_threads(), H = n->pops[p].n;
    nt = nt > H ? (H > 0 ? H : 1) : nt;
    fit_job job[MATCH_THREADS];
    pthread_t tid[MATCH_THREADS];
    int rc = 0, started = 1;
    for (int k = 0; k < nt; k++) {
        job[k] = (fit_job){n, p, k, nt, q, st, tr, *w0, err, 0};
        if (k > 0 && pop_work_init(&job[k].w, tr->steps, n->window))
            rc = -1;
    }
    for (; rc == 0 && started < nt; started++)
        if (pthread_create(&tid[started], NULL, fit_worker, &job[started]))
            break;
    if (rc == 0) {
        for (int k = started; k < nt; k++) /* no thread: its share runs here */
            fit_worker(&job[k]);
        fit_worker(&job[0]);
    }
    for (int k = 1; k < started && rc == 0; k++)
        pthread_join(tid[k], NULL);
    for (int k = 1; k < nt; k++)
        pop_work_free(&job[k].w);
    return rc;
}

/* Fit (if `fit`) population p's neurons, then score them: residual and curve. */
static int match_pop(snnc_netlist *n, int p, const snnc_ann *q, const snnc_layer_constraints *st,
                     const snnc_count_trace *tr, snnc_match_curve *cv, pop_work *w, bool fit)
{
    snnc_population *P = &n->pops[p];
    int l = snnc_lower_layer_of(n, p), W = n->window;
    const snnc_ann_layer *L = &q->layers[l];
    const snnc_layer_constraints *S = &st[l];
    if (l == q->n_layers - 1 && L->act == SNNC_ACT_NONE && P->role != SNNC_POP_PARTIAL) {
        n->residual[p] = readout_residual(P, q, tr, l, S, cv, W);
        return 0;
    }
    int T = L->role == SNNC_ANN_READOUT ? 1 : tr->steps, H = P->n;
    int64_t B = tr->batch, stride = B > MATCH_SAMPLES ? B / MATCH_SAMPLES : 1;
    int nseq = (int)((B + stride - 1) / stride);
    double *err = malloc(((size_t)H + 1) * sizeof *err), total = 0;
    if (!err)
        return -1;
    bool parallel = fit && !cv; /* curve points are added in neuron order */
    if (parallel && fit_parallel(n, p, q, st, tr, w, err)) {
        free(err);
        return -1;
    }
    for (int j = 0; j < H; j++) {
        if (!parallel)
            err[j] = fit_neuron(n, p, j, q, st, tr, cv, w, fit);
        total += err[j];
    }
    free(err);
    n->residual[p] = total / ((double)H * nseq * T);
    return 0;
}

/* ------------------------------------------------------------ partial units */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* 99.9th percentile of relu(sign s_jg P_jg) over the calibration windows:
 * the output counts neuron j of partial population p must carry. */
static double partial_range(const snnc_netlist *n, int p, int j, const snnc_ann *q, const snnc_layer_constraints *S,
                            const snnc_count_trace *tr, int T, double *v)
{
    const snnc_population *P = &n->pops[p];
    int64_t B = tr->batch;
    int l = snnc_lower_layer_of(n, p);
    double s = snnc_lower_scale(S, j, P->group);
    double off[2] = {snnc_lower_offset(q, S, l, j, P->group, n->window, 0),
                     snnc_lower_offset(q, S, l, j, P->group, n->window, 1)};
    size_t m = 0;
    for (int t = 0; t < T; t++)
        for (int64_t b = 0; b < B; b++) {
            size_t o = ((size_t)t * B + b) * P->n + j;
            v[m++] = fmax(P->sign * (s * (double)tr->Pg[l][o * S->n_groups + P->group] + off[t > 0]), 0);
        }
    qsort(v, m, sizeof *v, cmp_double);
    return m ? v[(size_t)floor(0.999 * (double)(m - 1))] : 0;
}

/* snnc_neuron_init's parameters, the step-0 charge c0 added to v0. */
static void set_analytic(snnc_population *P, int j, double s, double b, double c0, int W)
{
    snnc_neuron u = snnc_neuron_init(s, b, W);
    u.v0 += snnc_lower_charge(c0, u.threshold);
    snnc_neuron_store(P, j, u);
}

/* The smallest code c (1..SNNC_PARTIAL_CODE_MAX) whose W c unit holds `range`. */
static int code_for(double range, double unit, int W)
{
    int c = (int)ceil(range / (W * unit) - 1e-9);
    return c < 1 ? 1 : c > SNNC_PARTIAL_CODE_MAX ? SNNC_PARTIAL_CODE_MAX : c;
}

/* Mean squared error, over the calibration windows, of layer l's counts
 * when its groups are summed through partial pairs of unit `unit` (codes
 * by code_for from the ranges rg[j][2 g + (sign < 0)]): the teacher-forced
 * count clamp(round(u sum c (n+ - n-) + b')) against the ANN's. */
static double unit_error(const snnc_ann *q, const snnc_layer_constraints *st, const snnc_count_trace *tr, int l,
                         const double *rg, double unit, int W)
{
    const snnc_ann_layer *L = &q->layers[l];
    const snnc_layer_constraints *S = &st[l];
    int T = L->role == SNNC_ANN_READOUT ? 1 : tr->steps, H = L->n_out, G = S->n_groups;
    double a_out = S->activity_range > 0 ? S->activity_range : 1, e = 0;
    int64_t B = tr->batch;
    size_t HG = (size_t)H * G; /* [step 0 | later steps] */
    double *off = malloc((2 * HG + 1) * sizeof *off);
    if (!off)
        return INFINITY;
    for (size_t k = 0; k < HG; k++)
        for (int t = 0; t < 2; t++)
            off[t * HG + k] = snnc_lower_offset(q, S, l, (int)(k / G), (int)(k % G), W, t);
    for (int t = 0; t < T; t++)
        for (int64_t b = 0; b < B; b++)
            for (int j = 0; j < H; j++) {
                size_t o = ((size_t)t * B + b) * H + j;
                double z = L->b[j] * W / a_out;
                for (int g = 0; g < G; g++)
                    for (int sg = 0; sg < 2; sg++) {
                        int sign = sg ? -1 : 1;
                        double u = unit * code_for(rg[(size_t)j * 2 * G + 2 * g + sg], unit, W);
                        double v = sign * (S->scales[(size_t)j * G + g] * (double)tr->Pg[l][o * G + g] +
                                           off[(t > 0) * HG + (size_t)j * G + g]) / u;
                        z += sign * u * clampd(floor(v + 0.5), 0, W);
                    }
                double d = count_of(L, z, W, a_out, l == q->n_layers - 1) - tr->cnt[l][o];
                e += d * d;
            }
    free(off);
    return e / ((double)T * B * H);
}

/* Units of every split layer from the calibration data.  A saturated
 * partial loses what the other groups cancel, a coarse unit adds rounding
 * noise: the codes make each partial neuron hold its 99.9th percentile
 * (up to SNNC_PARTIAL_CODE_MAX units), and the layer's unit is the one,
 * from the largest range / (W SNNC_PARTIAL_CODE_MAX) down in steps of
 * 2^-1/2 (9 candidates), with the smallest teacher-forced count error
 * (unit_error).  Then analytic parameters at the new scales. */
static int choose_units(snnc_netlist *n, const snnc_ann *q, const snnc_layer_constraints *st,
                        const snnc_count_trace *tr)
{
    int W = n->window;
    for (int l = 0; l < q->n_layers; l++) {
        const snnc_layer_constraints *S = &st[l];
        const snnc_ann_layer *L = &q->layers[l];
        if (S->n_groups <= 1 || (l == q->n_layers - 1 && L->act == SNNC_ACT_NONE))
            continue;
        int T = L->role == SNNC_ANN_READOUT ? 1 : tr->steps, H = L->n_out, G = S->n_groups;
        double *v = malloc(((size_t)T * tr->batch + 1) * sizeof *v);
        double *rg = calloc((size_t)H * 2 * G + 1, sizeof *rg);
        if (!v || !rg) {
            free(v), free(rg);
            return -1;
        }
        double top = 0;
        for (int p = 0; p < n->n_pops; p++)
            for (int j = 0; n->pops[p].role == SNNC_POP_PARTIAL && snnc_lower_layer_of(n, p) == l && j < H; j++) {
                double r = partial_range(n, p, j, q, S, tr, T, v);
                rg[(size_t)j * 2 * G + 2 * n->pops[p].group + (n->pops[p].sign < 0)] = r;
                top = fmax(top, r);
            }
        double unit = top > 0 ? top / (W * SNNC_PARTIAL_CODE_MAX) : SNNC_PARTIAL_UNIT, best = INFINITY;
        for (int k = 0; top > 0 && k < 9; k++) {
            double u = top / (W * SNNC_PARTIAL_CODE_MAX) * pow(2, -0.5 * k);
            double e = unit_error(q, st, tr, l, rg, u, W);
            if (e < best - 1e-12) {
                best = e;
                unit = u;
            }
        }
        for (int p = 0; p < n->n_pops; p++) {
            snnc_population *P = &n->pops[p];
            if (snnc_lower_layer_of(n, p) != l)
                continue;
            P->unit = (float)unit;
            for (int j = 0; j < P->n; j++) {
                if (P->role == SNNC_POP_PARTIAL)
                    snnc_partial_set_code(n, p, j,
                                          code_for(rg[(size_t)j * 2 * G + 2 * P->group + (P->sign < 0)], P->unit, W));
                double s, b, c0;
                snnc_lower_line(n, p, j, q, S, &s, &b, &c0);
                set_analytic(P, j, s, b, c0, W);
            }
        }
        free(v), free(rg);
    }
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

/* Hidden leaks shifted by `delta` counts per window from `base`; then the
 * offset-coded neurons' v0 for the ticks before their window (settle.c)
 * from their potentials at its start, vstart (NULL: none). */
static int apply_shift(snnc_netlist *n, const snnc_ann *q, const int32_t *base, double delta, const int32_t *vstart)
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
    return vstart ? snnc_settle(n, q, vstart) : 0;
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
 * window, on the grid -0.2 to +0.1 in steps of 0.025) with the smallest
 * closed-loop count error on the calibration data: every other grid point
 * first (0 among them), then the two neighbours of the best; 0 (no shift)
 * unless another is strictly better.  Each point costs a run of the whole
 * netlist: 9 runs instead of the grid's 13.  The error is not unimodal in the
 * shift on strongly recurrent networks (count noise), so a descent from 0
 * can stop far from the best point; the coarse pass sees the whole range. */
#define SHIFT_GRID 13
#define SHIFT_ZERO 8 /* grid index of shift 0 */

static double shift_of(int k) { return 0.025 * (k - SHIFT_ZERO); }

/* The closed-loop error at grid point k, computed once. */
static int shift_error(snnc_netlist *n, const snnc_ann *q, const snnc_tensor *calib, const snnc_count_trace *tr,
                       const int32_t *base, const int32_t *vstart, int k, double *e, bool *known, snnc_err *err)
{
    if (k < 0 || k >= SHIFT_GRID || known[k])
        return SNNC_OK;
    if (apply_shift(n, q, base, shift_of(k), vstart))
        return snnc_fail(err, SNNC_ENOMEM, "match: out of memory");
    known[k] = true;
    return closed_loop_error(n, q, calib, tr, &e[k], err);
}

static int calibrate_bias(snnc_netlist *n, const snnc_ann *q, const snnc_tensor *calib,
                          const snnc_count_trace *tr, int32_t **vstart, snnc_err *err)
{
    int total = 0;
    for (int p = 0; p < n->n_pops; p++)
        if (shiftable(n, q, p)) {
            for (int j = 0; j < n->pops[p].n; j++)
                widen(&n->pops[p], j);
            total += n->pops[p].n;
        }
    int32_t *base = malloc(((size_t)total + 1) * sizeof *base);
    *vstart = snnc_settle_save(n, q);
    if (!base || !*vstart) {
        free(base);
        return snnc_fail(err, SNNC_ENOMEM, "match: out of memory");
    }
    for (int p = 0, g = 0; p < n->n_pops; p++)
        for (int j = 0; shiftable(n, q, p) && j < n->pops[p].n; j++)
            base[g++] = n->pops[p].leak[j];
    double e[SHIFT_GRID];
    bool known[SHIFT_GRID] = {false};
    int rc = SNNC_OK, best = SHIFT_ZERO; /* SHIFT_ZERO is even: in the coarse pass */
    for (int k = 0; k < SHIFT_GRID && rc == SNNC_OK; k += 2)
        rc = shift_error(n, q, calib, tr, base, *vstart, k, e, known, err);
    for (int k = 0; k < SHIFT_GRID && rc == SNNC_OK; k++)
        if (known[k] && e[k] < e[best] - 1e-9)
            best = k;
    int coarse = best;
    for (int k = coarse - 1; k <= coarse + 1 && rc == SNNC_OK; k += 2) /* its neighbours */
        if ((rc = shift_error(n, q, calib, tr, base, *vstart, k, e, known, err)) == SNNC_OK && k >= 0 &&
            k < SHIFT_GRID && e[k] < e[best] - 1e-9)
            best = k;
    if (rc == SNNC_OK && apply_shift(n, q, base, shift_of(best), *vstart))
        rc = snnc_fail(err, SNNC_ENOMEM, "match: out of memory");
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
    int wrc = pop_work_init(&w, tr.steps, n->window);

    snnc_match_curve *cv = curves ? calloc((size_t)n->n_pops, sizeof *cv) : NULL;
    int ncv = 0;
    if (wrc || (curves && !cv))
        rc = snnc_fail(err, SNNC_ENOMEM, "match: out of memory");
    if (rc == SNNC_OK && choose_units(n, q, st, &tr))
        rc = snnc_fail(err, SNNC_ENOMEM, "match: out of memory");
    for (int p = 0; p < n->n_pops && rc == SNNC_OK; p++)
        if (n->pops[p].role != SNNC_POP_INPUT && match_pop(n, p, q, st, &tr, NULL, &w, true))
            rc = snnc_fail(err, SNNC_ENOMEM, "match: out of memory");
    int32_t *vstart = NULL;
    if (rc == SNNC_OK)
        rc = calibrate_bias(n, q, calib, &tr, &vstart, err);
    if (rc == SNNC_OK && vstart) /* residuals from the window's start (fit_neuron) */
        snnc_settle_restore(n, q, vstart);
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
        if (match_pop(n, p, q, st, &tr, c, &w, false)) {
            rc = snnc_fail(err, SNNC_ENOMEM, "match: out of memory");
            break;
        }
        if (c)
            c->residual = n->residual[p];
    }
    if (rc == SNNC_OK && vstart && snnc_settle(n, q, vstart))
        rc = snnc_fail(err, SNNC_ENOMEM, "match: out of memory");
    free(vstart);
    pop_work_free(&w);
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
