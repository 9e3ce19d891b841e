/* quantize.c — the constraint stage (interface: quantize.h; design:
 * docs/CONVERSION.md §2, docs/QUANTIZE.md): activity ranges, count-domain
 * weights W' = w a_in / a_out with a recurrent neuron's row [W_j | U_j]
 * quantised as one, fan-in (counted in spike channels: two per signed
 * source) split into groups or pruned, weights dequantised
 * back into a float copy of the network, activity quantisers set, and the
 * per-layer statistics the inspector and the report print. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ir/error.h"
#include "ir/tensor.h"
#include "quantize_internal.h"

#define MAX_ACTIVITY_LEVELS 65536
#define LEVELS_SEARCH_MAX 256
#define LEVELS_SAMPLE_ROWS 64
#define ONE_PERCENT_SQ 1e-4 /* (1 %)^2 of the squared norm */

void snnc_constraints_default(snnc_constraints *c)
{
    *c = (snnc_constraints){
        .weight_levels = 16,
        .activity_levels = 16,
        .fan_in = 64,
        .rounding = SNNC_ROUND_NEAREST,
        .scale = SNNC_SCALE_NEURON,
        .fanin = SNNC_FANIN_SPLIT,
        .prune_rescale = false,
        .percentile = 99.9,
        .seed = 1,
        .compensate = true,
        .range_search = true,
        .tanh_coding = SNNC_TANH_AUTO,
        .bias_correct = true,
        .per_neuron_ranges = true,
        .method_search = true,
    };
}

static int check_constraints(const snnc_constraints *c, snnc_err *err)
{
    if (c->weight_levels != 0 && (c->weight_levels < 2 || c->weight_levels > 256))
        return snnc_fail(err, SNNC_EUSAGE, "weight levels %d: expected 2..256 (0: not quantised)",
                         c->weight_levels);
    if (c->activity_levels != 0 && (c->activity_levels < 2 || c->activity_levels > MAX_ACTIVITY_LEVELS))
        return snnc_fail(err, SNNC_EUSAGE, "activity levels %d: expected 2..%d (0: not quantised)",
                         c->activity_levels, MAX_ACTIVITY_LEVELS);
    if (c->fan_in < 1)
        return snnc_fail(err, SNNC_EUSAGE, "fan-in %d: expected at least 1", c->fan_in);
    if (!(c->percentile > 0 && c->percentile <= 100))
        return snnc_fail(err, SNNC_EUSAGE, "percentile %g: expected (0, 100]", c->percentile);
    if ((unsigned)c->rounding >= SNNC_ROUND_COUNT || (unsigned)c->scale >= SNNC_SCALE_COUNT ||
        (unsigned)c->fanin >= SNNC_FANIN_COUNT || (unsigned)c->tanh_coding >= SNNC_TANH_CODING_COUNT)
        return snnc_fail(err, SNNC_EUSAGE, "unknown rounding, scale, fan-in strategy or tanh coding");
    return SNNC_OK;
}

void snnc_layer_constraints_free(snnc_layer_constraints *s, int n)
{
    if (!s)
        return;
    for (int i = 0; i < n; i++) {
        free(s[i].group_start);
        free(s[i].codes);
        free(s[i].scales);
        free(s[i].unit_scale);
    }
    free(s);
}

double snnc_constraints_colf(const snnc_layer_constraints *S, int n_in, int i)
{
    double f = i < n_in ? (S->activity_range > 0 ? (double)S->in_range / S->activity_range : 1) : 1;
    return f * ((i < n_in ? S->x_offset : S->h_offset) ? 2 : 1);
}

/* The quantiser of an activity of range `range`: nonnegative (ReLU) on
 * `levels` counts 0..W; signed and offset-coded on `levels` values over
 * [-range, range] (one channel of counts k: h = range (2k/W - 1)); signed
 * on a pair of channels, -W..W, i.e. 2 (levels - 1) + 1 values with the
 * same step range / W. */
static snnc_act_quant act_quant(int levels, float range, bool nonneg, bool offset)
{
    snnc_act_quant q = {levels, nonneg ? 0.0f : -range, range};
    if (levels > 0 && !nonneg && !offset)
        q.levels = 2 * (levels - 1) + 1;
    return q;
}

/* ------------------------------------------------------------ one layer */

typedef struct layer_work {
    int rows, cols;
    float *M, *M0;     /* count-domain weights (after prune), and before */
    double *colf;      /* [cols] a_in(i) / a_out */
    float *factor;     /* [rows] prune rescale factor */
    int8_t *codes;
    float *scales;
} layer_work;

static void work_free(layer_work *w)
{
    free(w->M);
    free(w->M0);
    free(w->colf);
    free(w->factor);
    free(w->codes);
    free(w->scales);
}

static float *weight_at(snnc_ann_layer *L, int j, int i)
{
    return i < L->n_in ? &L->W[(size_t)j * L->n_in + i] : &L->U[(size_t)j * L->n_out + (i - L->n_in)];
}

static int work_init(layer_work *w, snnc_ann_layer *L, const snnc_layer_constraints *S, int groups_max)
{
    w->rows = L->n_out;
    w->cols = L->n_in + (L->role == SNNC_ANN_RECURRENT ? L->n_out : 0);
    size_t n = (size_t)w->rows * (size_t)w->cols;
    w->M = malloc(n * sizeof *w->M);
    w->M0 = malloc(n * sizeof *w->M0);
    w->colf = malloc((size_t)w->cols * sizeof *w->colf);
    w->factor = malloc((size_t)w->rows * sizeof *w->factor);
    w->codes = malloc(n + 1);
    w->scales = malloc((size_t)w->rows * (size_t)groups_max * sizeof *w->scales);
    if (!w->M || !w->M0 || !w->colf || !w->factor || !w->codes || !w->scales)
        return SNNC_ENOMEM;
    for (int i = 0; i < w->cols; i++)
        w->colf[i] = snnc_constraints_colf(S, L->n_in, i);
    for (int j = 0; j < w->rows; j++) {
        w->factor[j] = 1;
        for (int i = 0; i < w->cols; i++)
            w->M[(size_t)j * w->cols + i] = (float)(*weight_at(L, j, i) * w->colf[i]);
    }
    memcpy(w->M0, w->M, n * sizeof *w->M);
    return SNNC_OK;
}

static double sq_norm(const float *v, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s += (double)v[i] * v[i];
    return s;
}

static int max_nonzero_per_row(const float *M, int rows, int cols)
{
    int best = 0;
    for (int j = 0; j < rows; j++) {
        int nz = 0;
        for (int i = 0; i < cols; i++)
            nz += M[(size_t)j * cols + i] != 0;
        best = nz > best ? nz : best;
    }
    return best;
}

/* The fewest levels (2..256) at which the layer's relative error is <= 1 %
 * (nearest rounding, the layer's groups and scale mode); 257 when even 256
 * levels do not reach it.  Binary search: the optimal error never rises
 * with the levels (the code sets are nested and the scale is the exact
 * optimum).  Layers of more than LEVELS_SAMPLE_ROWS neurons are measured on
 * that many evenly spaced rows (an estimate; exact below). */
static int levels_for_1pct(const layer_work *w, snnc_q_plan plan, int *out)
{
    int R = w->rows < LEVELS_SAMPLE_ROWS ? w->rows : LEVELS_SAMPLE_ROWS;
    float *sub = malloc((size_t)R * w->cols * sizeof *sub + 1);
    if (!sub)
        return SNNC_ENOMEM;
    for (int k = 0; k < R; k++)
        memcpy(sub + (size_t)k * w->cols, w->M + (size_t)((int64_t)k * w->rows / R) * w->cols,
               (size_t)w->cols * sizeof *sub);
    double norm2 = sq_norm(sub, (size_t)R * w->cols);
    plan.rounding = SNNC_ROUND_NEAREST;
    int lo = 2, hi = LEVELS_SEARCH_MAX + 1, st = SNNC_OK;
    while (lo < hi && norm2 > 0 && st == SNNC_OK) {
        plan.levels = lo + (hi - lo) / 2;
        double e = 0;
        st = snnc_q_matrix(sub, R, w->cols, &plan, NULL, w->codes, w->scales, &e);
        if (e <= ONE_PERCENT_SQ * norm2)
            hi = plan.levels;
        else
            lo = plan.levels + 1;
    }
    free(sub);
    *out = lo; /* an all-zero layer: 2 */
    return st;
}

/* Quantise w->M in place (M becomes scale * code); codes, scales kept. */
static int quantize_work(layer_work *w, const snnc_q_plan *plan, uint64_t *rng)
{
    double e;
    int st = snnc_q_matrix(w->M, w->rows, w->cols, plan, rng, w->codes, w->scales, &e);
    if (st != SNNC_OK)
        return st;
    for (int j = 0; j < w->rows; j++)
        for (int g = 0; g < plan->n_groups; g++)
            for (int i = plan->group_start[g]; i < plan->group_start[g + 1]; i++) {
                size_t k = (size_t)j * w->cols + i;
                w->M[k] = w->scales[(size_t)j * plan->n_groups + g] * (float)w->codes[k];
            }
    return SNNC_OK;
}

/* Float weights back from the count domain: w = M a_out / a_in.  Without
 * weight quantisation only pruning changed M: the original weight times
 * the row's rescale factor, or zero, so nothing is rounded twice. */
static void write_back(layer_work *w, snnc_ann_layer *L, bool quantised)
{
    for (int j = 0; j < w->rows; j++)
        for (int i = 0; i < w->cols; i++) {
            size_t k = (size_t)j * w->cols + i;
            float *dst = weight_at(L, j, i);
            if (quantised)
                *dst = (float)(w->M[k] / w->colf[i]);
            else if (w->M[k] == 0 && w->M0[k] != 0) /* pruned */
                *dst = 0;
            else if (w->factor[j] != 1)
                *dst *= w->factor[j];
        }
}

static double rel_error(const layer_work *w)
{
    size_t n = (size_t)w->rows * w->cols;
    double d = 0, norm2 = sq_norm(w->M0, n);
    for (size_t k = 0; k < n; k++) {
        double e = (double)w->M0[k] - w->M[k];
        d += e * e;
    }
    return norm2 > 0 ? sqrt(d / norm2) : 0;
}

/* The second moments of the count-domain inputs v_i = u_i / colf_i (the
 * constant 1 last) from those of the float inputs. */
static double *count_domain_gram(const double *Hu, const layer_work *w)
{
    int n = w->cols + 1;
    double *H = malloc((size_t)n * n * sizeof *H);
    for (int i = 0; H && i < n; i++)
        for (int k = 0; k < n; k++) {
            double di = i < w->cols ? 1 / w->colf[i] : 1, dk = k < w->cols ? 1 / w->colf[k] : 1;
            H[(size_t)i * n + k] = Hu[(size_t)i * n + k] * di * dk;
        }
    return H;
}

/* Quantise again with error compensation, from the unpruned weights M0
 * (pruned ones forced to zero: `keep` is the pruned matrix) at the scales
 * of the plain quantiser; the bias absorbs its share. */
static int compensate(layer_work *w, snnc_ann_layer *L, const snnc_q_plan *plan, const double *H,
                      const float *keep, double *bias_delta)
{
    int st = snnc_q_compensate(w->M0, w->rows, w->cols, plan, w->scales, H, keep, w->codes, w->M, bias_delta);
    for (int j = 0; j < w->rows && st == SNNC_OK; j++)
        L->b[j] = (float)(L->b[j] + bias_delta[j]);
    return st;
}

/* ||z - zq|| / ||z|| on the calibration inputs: the rows [M0 - Q | -db]
 * and [M0 | b] in the quadratic form of H. */
static double output_error(const layer_work *w, const double *H, const float *b0, const double *db)
{
    int n = w->cols + 1;
    double *E = malloc((size_t)w->rows * n * sizeof *E), *Z = malloc((size_t)w->rows * n * sizeof *Z);
    double r = -1;
    if (E && Z) {
        for (int j = 0; j < w->rows; j++) {
            for (int i = 0; i < w->cols; i++) {
                size_t k = (size_t)j * w->cols + i;
                E[(size_t)j * n + i] = (double)w->M0[k] - w->M[k];
                Z[(size_t)j * n + i] = w->M0[k];
            }
            E[(size_t)j * n + w->cols] = db ? -db[j] : 0;
            Z[(size_t)j * n + w->cols] = b0[j];
        }
        double e = snnc_q_quadratic(H, n, E, w->rows), z = snnc_q_quadratic(H, n, Z, w->rows);
        r = z > 0 ? sqrt(fmax(e, 0) / z) : 0;
    }
    free(E);
    free(Z);
    return r;
}

/* Spike channels of every column (docs/QUANTIZE.md §6): ch_x for the
 * layer's inputs, ch_h for its own recurrent outputs.  A layer whose
 * channels exceed the fan-in must be limited, and a column of two channels
 * cannot be held by a fan-in of one: SNNC_EUSAGE. */
static int channels(snnc_ann_layer *L, const snnc_constraints *c, snnc_layer_constraints *S,
                    unsigned char **ch)
{
    int cols = L->n_in + (L->role == SNNC_ANN_RECURRENT ? L->n_out : 0);
    S->fan_in_channels = 0;
    *ch = malloc((size_t)cols + 1);
    if (!*ch)
        return SNNC_ENOMEM;
    for (int i = 0; i < cols; i++) {
        (*ch)[i] = (unsigned char)(i < L->n_in ? S->ch_x : S->ch_h);
        S->fan_in_channels += (*ch)[i];
    }
    if (S->fan_in_channels > c->fan_in && (S->ch_x > c->fan_in || S->ch_h > c->fan_in))
        return SNNC_EUSAGE;
    return SNNC_OK;
}

/* Channels of the kept weights of the neediest neuron (pruned), or of the
 * largest group (split). */
static int channels_max(const layer_work *w, const unsigned char *ch, const snnc_layer_constraints *S, bool prune)
{
    int best = 0;
    for (int j = 0; prune && j < w->rows; j++) {
        int sum = 0;
        for (int i = 0; i < w->cols; i++)
            sum += w->M[(size_t)j * w->cols + i] != 0 ? ch[i] : 0;
        best = sum > best ? sum : best;
    }
    for (int g = 0; !prune && g < S->n_groups; g++) {
        int sum = 0;
        for (int i = S->group_start[g]; i < S->group_start[g + 1]; i++)
            sum += ch[i];
        best = sum > best ? sum : best;
    }
    return best;
}

static int constrain_layer(snnc_ann_layer *L, double a_in, double a_out, const snnc_constraints *c,
                           const double *gram, uint64_t *rng, snnc_layer_constraints *S)
{
    layer_work w = {0};
    snprintf(S->name, sizeof S->name, "%s", L->name);
    S->in_range = (float)a_in;
    S->activity_range = (float)a_out;
    S->output_rel_error = -1;
    S->range_factor = 1;
    unsigned char *ch = NULL;
    int st = channels(L, c, S, &ch);
    if (st != SNNC_OK) {
        free(ch);
        return st;
    }
    int cols = L->n_in + (L->role == SNNC_ANN_RECURRENT ? L->n_out : 0);
    S->n_groups = snnc_q_groups(cols, ch, c->fan_in, c->fanin == SNNC_FANIN_SPLIT, &S->group_start);
    if (S->n_groups < 0) {
        free(ch);
        return SNNC_ENOMEM;
    }
    st = work_init(&w, L, S, S->n_groups);
    S->n_rows = w.rows;
    S->n_cols = w.cols;
    S->fan_in = w.cols;
    if (st == SNNC_OK)
        S->fan_in_max_neuron = max_nonzero_per_row(w.M, w.rows, w.cols);
    bool prune = c->fanin == SNNC_FANIN_PRUNE;
    for (int j = 0; j < w.rows && st == SNNC_OK && prune; j++) {
        int used;
        int64_t d = snnc_q_prune_row(w.M + (size_t)j * w.cols, ch, w.cols, c->fan_in, c->prune_rescale,
                                     &w.factor[j], &used);
        st = d < 0 ? SNNC_ENOMEM : SNNC_OK;
        S->pruned += d > 0 ? d : 0;
    }
    snnc_q_plan plan = {.levels = c->weight_levels, .rounding = c->rounding, .scale = c->scale,
                        .n_groups = S->n_groups, .group_start = S->group_start};
    bool comp = gram && c->compensate && c->weight_levels > 0 && c->rounding == SNNC_ROUND_NEAREST;
    size_t nw = (size_t)w.rows * w.cols;
    double *H = gram && st == SNNC_OK ? count_domain_gram(gram, &w) : NULL;
    float *keep = comp && prune ? malloc(nw * sizeof *keep + 1) : NULL, *b0 = malloc((size_t)w.rows * sizeof *b0);
    double *db = comp ? calloc((size_t)w.rows, sizeof *db) : NULL;
    if (st == SNNC_OK && ((gram && !H) || (comp && prune && !keep) || !b0 || (comp && !db)))
        st = SNNC_ENOMEM;
    if (st == SNNC_OK) {
        memcpy(b0, L->b, (size_t)w.rows * sizeof *b0);
        if (keep)
            memcpy(keep, w.M, nw * sizeof *keep);
        st = levels_for_1pct(&w, plan, &S->levels_for_1pct);
        S->fan_in_channels_max = channels_max(&w, ch, S, prune);
    }
    if (st == SNNC_OK && c->weight_levels > 0)
        st = quantize_work(&w, &plan, rng);
    if (st == SNNC_OK && comp)
        st = compensate(&w, L, &plan, H, keep, db);
    if (st == SNNC_OK) {
        write_back(&w, L, c->weight_levels > 0);
        S->weight_rel_error = rel_error(&w);
        if (H)
            S->output_rel_error = output_error(&w, H, b0, db);
        if (c->weight_levels > 0) {
            S->codes = w.codes;
            S->scales = w.scales;
            w.codes = NULL;
            w.scales = NULL;
        }
    }
    free(ch);
    free(H);
    free(keep);
    free(b0);
    free(db);
    work_free(&w);
    return st;
}

/* ------------------------------------------------------------ network */

static int find_ranges(const snnc_ann *a, const snnc_constraints *c, const snnc_tensor *calib,
                       snnc_q_ranges *r, snnc_err *err)
{
    r->layer = calloc((size_t)a->n_layers, sizeof *r->layer);
    r->gram = calib ? calloc((size_t)a->n_layers, sizeof *r->gram) : NULL;
    if (!r->layer || (calib && !r->gram))
        return snnc_fail(err, SNNC_ENOMEM, "out of memory");
    return calib ? snnc_q_ranges_calib(a, calib, c->percentile, r, err)
                 : snnc_q_ranges_moments(a, c->percentile, r, err);
}

static int constrain_all(snnc_ann *q, const snnc_constraints *c, const snnc_q_ranges *r,
                         snnc_layer_constraints *S, snnc_err *err)
{
    uint64_t rng = c->seed;
    double a_prev = r->in;
    q->in_q = act_quant(c->activity_levels, r->in, !r->in_signed, false);
    bool offset = c->tanh_coding == SNNC_TANH_OFFSET && c->activity_levels > 0;
    for (int l = 0; l < q->n_layers; l++) {
        snnc_ann_layer *L = &q->layers[l];
        S[l].x_offset = l > 0 && offset && q->layers[l - 1].act == SNNC_ACT_TANH;
        S[l].h_offset = L->role == SNNC_ANN_RECURRENT && offset && L->act == SNNC_ACT_TANH;
        S[l].ch_x = (l == 0 ? r->in_signed : q->layers[l - 1].act != SNNC_ACT_RELU) && !S[l].x_offset ? 2 : 1;
        S[l].ch_h = L->role != SNNC_ANN_RECURRENT ? 0 : L->act != SNNC_ACT_RELU && !S[l].h_offset ? 2 : 1;
        int st = constrain_layer(L, a_prev, r->layer[l], c, r->gram ? r->gram[l] : NULL, &rng, &S[l]);
        if (st == SNNC_EUSAGE)
            return snnc_fail(err, st, "layer '%s': fan-in %d cannot hold a signed input (two spike "
                             "channels); use a fan-in of at least 2", L->name, c->fan_in);
        if (st != SNNC_OK)
            return snnc_fail(err, st, "layer '%s': %s", L->name,
                             st == SNNC_ENOMEM ? "out of memory" : "weights cannot be quantised");
        bool readout_membrane = l == q->n_layers - 1 && L->act == SNNC_ACT_NONE;
        L->out_q = act_quant(readout_membrane ? 0 : c->activity_levels, r->layer[l], L->act == SNNC_ACT_RELU,
                             offset && L->act == SNNC_ACT_TANH);
        a_prev = r->layer[l];
    }
    return SNNC_OK;
}

/* constrain_all, then (calibration data, c->bias_correct) the
 * recurrence-aware bias correction against the float network a. */
#define BIAS_ITERATIONS 3
static int constrain_net(const snnc_ann *a, snnc_ann *q, const snnc_constraints *c, const snnc_q_ranges *r,
                         const snnc_tensor *calib, snnc_layer_constraints *S, snnc_err *err)
{
    int st = constrain_all(q, c, r, S, err);
    if (st == SNNC_OK && calib && c->bias_correct) {
        st = r->ref ? snnc_q_bias_correct_ref(r->ref, q, calib, BIAS_ITERATIONS, true, err)
                    : snnc_q_bias_correct(a, q, calib, BIAS_ITERATIONS, true, err);
    }
    return st;
}

/* ------------------------------------------------------------ range search */

/* Factors on the percentile range tried for every layer (docs/QUANTIZE.md
 * §4a); 1 first, so that a tie keeps the percentile range. */
static const float RANGE_FACTORS[] = {1.0f, 0.5f, 0.625f, 0.75f, 0.875f, 1.25f, 1.5f};
#define N_RANGE_FACTORS ((int)(sizeof RANGE_FACTORS / sizeof RANGE_FACTORS[0]))

/* The network constrained with ranges r, run on the calibration batch:
 * mean KL(p_float || p_constrained) of the softmax outputs against the
 * float outputs f [batch][classes], and the agreement of the class. */
static int range_objective(const snnc_ann *a, const snnc_constraints *c, const snnc_q_ranges *r,
                           const snnc_tensor *calib, const snnc_tensor *f, double *kl_b, double *kl,
                           double *agree, snnc_err *err)
{
    snnc_ann *q = snnc_ann_copy(a);
    snnc_layer_constraints *S = calloc((size_t)a->n_layers, sizeof *S);
    snnc_tensor *y = NULL;
    int st = q && S ? constrain_net(a, q, c, r, calib, S, err) : snnc_fail(err, SNNC_ENOMEM, "out of memory");
    if (st == SNNC_OK)
        st = snnc_ann_run(q, calib, &y, NULL, err);
    if (st == SNNC_OK)
        st = snnc_ann_agreement(snnc_f32(f), snnc_f32(y), f->dims[0], (int)f->dims[1], kl_b, kl,
                                agree, err);
    snnc_tensor_free(y);
    snnc_ann_free(q);
    snnc_layer_constraints_free(S, a->n_layers);
    return st;
}

/* A candidate's per-sample KLs must be lower than the baseline's by more
 * than RANGE_SIGNIFICANCE standard errors of the mean paired difference
 * (snnc_significantly_lower; a finite calibration batch: docs/QUANTIZE.md
 * §4a). */
#define RANGE_SIGNIFICANCE 2.0

/* One range (the input's: slot -1, or layer slot's) chosen among the
 * factors on its percentile value: among the candidates whose KL is
 * significantly lower than the percentile range's, the one of least mean
 * KL, else the percentile range.  Writes the candidates into fac/kl/agr
 * and returns the chosen factor in *factor. */
static int search_one(const snnc_ann *a, const snnc_constraints *c, const snnc_tensor *calib,
                      const snnc_tensor *f, snnc_q_ranges *r, int slot, double *k1, double *kb, float *fac,
                      double *kl, double *agr, int *n_out, float *factor, snnc_err *err)
{
    float *range = slot < 0 ? &r->in : &r->layer[slot], base = *range;
    bool tanh = slot >= 0 && a->layers[slot].act == SNNC_ACT_TANH;
    int64_t B = f->dims[0];
    int best = 0, n = 0, st = SNNC_OK;
    for (int k = 0; k < N_RANGE_FACTORS && st == SNNC_OK; k++) {
        if (k > 0 && tanh && base * RANGE_FACTORS[k] > 1)
            continue; /* tanh is bounded by 1: a wider range only coarsens the step */
        *range = base * RANGE_FACTORS[k];
        fac[n] = RANGE_FACTORS[k];
        st = range_objective(a, c, r, calib, f, k == 0 ? k1 : kb, &kl[n], &agr[n], err);
        if (k > 0 && kl[n] < kl[best] && snnc_significantly_lower(k1, kb, B, RANGE_SIGNIFICANCE))
            best = n;
        n++;
    }
    *n_out = n;
    *factor = fac[best];
    *range = base * fac[best];
    return st;
}

/* The input's range, then each quantised layer's, in layer order (one
 * pass of coordinate descent: the earlier ones at their choice, the later
 * ones at their percentile range); f: the float outputs on calib. */
static int search_ranges(const snnc_ann *a, const snnc_constraints *c, const snnc_tensor *calib,
                         const snnc_tensor *f, snnc_q_ranges *r, snnc_layer_constraints *S,
                         snnc_constrain_method *m, snnc_err *err)
{
    int64_t B = f->dims[0];
    double *k1 = malloc(((size_t)B + 1) * sizeof *k1), *kb = malloc(((size_t)B + 1) * sizeof *kb);
    int st = k1 && kb ? SNNC_OK : snnc_fail(err, SNNC_ENOMEM, "out of memory");
    m->input_range_factor = 1;
    if (st == SNNC_OK && r->in > 0)
        st = search_one(a, c, calib, f, r, -1, k1, kb, m->input_candidates, m->input_kl, m->input_agreement,
                        &m->n_input_candidates, &m->input_range_factor, err);
    for (int l = 0; l < a->n_layers && st == SNNC_OK; l++) {
        S[l].range_factor = 1;
        const snnc_ann_layer *L = &a->layers[l];
        if ((l == a->n_layers - 1 && L->act == SNNC_ACT_NONE) || !(r->layer[l] > 0))
            continue;
        st = search_one(a, c, calib, f, r, l, k1, kb, S[l].range_candidates, S[l].range_kl,
                        S[l].range_agreement, &S[l].n_range_candidates, &S[l].range_factor, err);
    }
    free(k1);
    free(kb);
    return st;
}

/* ------------------------------------------------------------ method */

static void ranges_free(snnc_q_ranges *r, int n_layers)
{
    for (int l = 0; l < n_layers; l++) {
        if (r->gram)
            free(r->gram[l]);
        if (r->unit)
            free(r->unit[l]);
    }
    free(r->gram);
    free(r->unit);
    free(r->layer);
    snnc_q_preact_free(r->ref);
    *r = (snnc_q_ranges){0};
}

/* Percentile ranges of a; with `units`, each unit's too. */
static int ranges_with_units(const snnc_ann *a, const snnc_constraints *c, const snnc_tensor *calib, bool units,
                             snnc_q_ranges *r, snnc_err *err)
{
    if (units) {
        r->unit = calloc((size_t)a->n_layers, sizeof *r->unit);
        for (int l = 0; r->unit && l < a->n_layers; l++)
            if (!(r->unit[l] = malloc((size_t)a->layers[l].n_out * sizeof **r->unit)))
                return snnc_fail(err, SNNC_ENOMEM, "out of memory");
        if (!r->unit)
            return snnc_fail(err, SNNC_ENOMEM, "out of memory");
    }
    return find_ranges(a, c, calib, r, err);
}

/* One method: c's flags (compensate, bias_correct, per_neuron_ranges) as
 * they are.  *out: the constrained network, S its statistics (n_layers
 * entries, zeroed by the caller); f (may be NULL): the float outputs on
 * calib, needed by the range search. */
static int constrain_method(const snnc_ann *a, const snnc_constraints *c, const snnc_tensor *calib,
                            const snnc_tensor *f, snnc_ann **out, snnc_layer_constraints *S,
                            snnc_constrain_method *m, snnc_err *err)
{
    int n = a->n_layers;
    bool units = calib && c->per_neuron_ranges && c->activity_levels > 0;
    snnc_ann *e = snnc_ann_copy(a), *q = NULL;
    float **scale = calloc((size_t)n, sizeof *scale);
    snnc_q_ranges r = {0};
    int st = e && scale ? ranges_with_units(e, c, calib, units, &r, err) : snnc_fail(err, SNNC_ENOMEM, "out of memory");
    if (st == SNNC_OK && units) { /* rescale the units, then the ranges of the rescaled network */
        st = snnc_q_equalize(e, r.unit, r.layer, scale) ? snnc_fail(err, SNNC_ENOMEM, "out of memory") : SNNC_OK;
        ranges_free(&r, n);
        if (st == SNNC_OK)
            st = find_ranges(e, c, calib, &r, err);
    }
    if (st == SNNC_OK && calib && c->bias_correct && !(r.ref = snnc_q_preact(e, calib, err)))
        st = err->code ? err->code : SNNC_ENOMEM;
    m->input_range_factor = 1;
    if (st == SNNC_OK && f && c->range_search && c->activity_levels > 0)
        st = search_ranges(e, c, calib, f, &r, S, m, err);
    if (st == SNNC_OK && !(q = snnc_ann_copy(e)))
        st = snnc_fail(err, SNNC_ENOMEM, "out of memory copying the network");
    snnc_layer_constraints *T = st == SNNC_OK ? calloc((size_t)n, sizeof *T) : NULL;
    if (st == SNNC_OK && !T)
        st = snnc_fail(err, SNNC_ENOMEM, "out of memory");
    if (st == SNNC_OK)
        st = constrain_net(e, q, c, &r, calib, T, err);
    for (int l = 0; T && l < n; l++) { /* keep the search's records in S */
        float fac = S[l].range_factor > 0 ? S[l].range_factor : 1;
        int nc = S[l].n_range_candidates;
        float cand[8];
        double kl[8], agr[8];
        memcpy(cand, S[l].range_candidates, sizeof cand);
        memcpy(kl, S[l].range_kl, sizeof kl);
        memcpy(agr, S[l].range_agreement, sizeof agr);
        S[l] = T[l];
        S[l].range_factor = fac;
        S[l].n_range_candidates = nc;
        memcpy(S[l].range_candidates, cand, sizeof cand);
        memcpy(S[l].range_kl, kl, sizeof kl);
        memcpy(S[l].range_agreement, agr, sizeof agr);
        S[l].unit_scale = scale[l];
        scale[l] = NULL;
    }
    free(T);
    for (int l = 0; scale && l < n; l++)
        free(scale[l]);
    free(scale);
    ranges_free(&r, n);
    snnc_ann_free(e);
    if (st != SNNC_OK) {
        snnc_ann_free(q);
        q = NULL;
    }
    *out = q;
    return st;
}

static void method_name(const snnc_constraints *c, char *buf, size_t n)
{
    snprintf(buf, n, "%s%s%s", c->compensate ? "compensate" : "plain", c->bias_correct ? "+bias" : "",
             c->per_neuron_ranges ? "+per-neuron" : "");
}

/* The candidates (docs/QUANTIZE.md §5b): bias correction and per-neuron
 * ranges, each off and on where c allows it, with compensation as c
 * allows; then, where c allows compensation, everything allowed but
 * compensation.  The first (compensation as allowed, nothing else) is the
 * baseline the others must beat significantly. */
static int method_candidates(const snnc_constraints *c, snnc_constraints *cand)
{
    int n = 0;
    for (int k = 0; k < 4; k++) {
        bool bias = k & 1, unit = k & 2;
        if ((bias && !c->bias_correct) || (unit && !c->per_neuron_ranges))
            continue;
        cand[n] = *c;
        cand[n].bias_correct = bias;
        cand[n++].per_neuron_ranges = unit;
    }
    if (c->compensate) {
        cand[n] = *c;
        cand[n++].compensate = false;
    }
    return n;
}

/* One candidate: constrained (range search as c says), run on calib, its
 * KL and agreement against f; kb receives the per-sample KLs.  *q, *S are
 * the result (freed by the caller). */
static int try_method(const snnc_ann *a, const snnc_constraints *c, const snnc_tensor *calib,
                      const snnc_tensor *f, snnc_ann **q, snnc_layer_constraints **S, snnc_constrain_method *mk,
                      double *kb, double *kl, double *agr, snnc_err *err)
{
    snnc_tensor *y = NULL;
    *q = NULL;
    *S = calloc((size_t)a->n_layers, sizeof **S);
    int st = *S ? constrain_method(a, c, calib, f, q, *S, mk, err) : snnc_fail(err, SNNC_ENOMEM, "out of memory");
    if (st == SNNC_OK)
        st = snnc_ann_run(*q, calib, &y, NULL, err);
    if (st == SNNC_OK)
        st = snnc_ann_agreement(snnc_f32(f), snnc_f32(y), f->dims[0], (int)f->dims[1], kb, kl, agr, err);
    snnc_tensor_free(y);
    return st;
}

/* The method, in two stages (docs/QUANTIZE.md §5b).  1: every candidate
 * at the percentile ranges.  2: the baseline and the CHALLENGERS others of
 * least mean KL in stage 1, each with the range search (as c allows); the
 * challenger of least mean KL among those whose per-sample KLs are
 * significantly lower than the baseline's is used, else the baseline. */
#define CHALLENGERS 2
static int choose_method(const snnc_ann *a, const snnc_constraints *c, const snnc_tensor *calib,
                         const snnc_tensor *f, snnc_ann **out, snnc_layer_constraints **S_out,
                         snnc_err *err)
{
    int n = a->n_layers;
    snnc_constraints cand[SNNC_METHOD_CANDIDATES];
    snnc_constrain_method m = {0}, mk = {0}, mw = {0};
    m.n_candidates = method_candidates(c, cand);
    int64_t B = f->dims[0];
    double *k1 = malloc(((size_t)B + 1) * sizeof *k1), *kb = malloc(((size_t)B + 1) * sizeof *kb);
    snnc_ann *q = NULL, *qw = NULL;
    snnc_layer_constraints *S = NULL, *Sw = NULL;
    int st = k1 && kb ? SNNC_OK : snnc_fail(err, SNNC_ENOMEM, "out of memory");
    bool tried[SNNC_METHOD_CANDIDATES] = {false};
    for (int k = 0; k < m.n_candidates && st == SNNC_OK; k++) {
        snnc_constraints ck = cand[k];
        ck.range_search = false;
        method_name(&ck, m.name[k], sizeof m.name[k]);
        st = try_method(a, &ck, calib, f, &q, &S, &mk, kb, &m.kl_percentile[k], &m.agreement_percentile[k], err);
        snnc_ann_free(q);
        snnc_layer_constraints_free(S, n);
        q = NULL, S = NULL;
        m.kl[k] = m.agreement[k] = -1;
    }
    for (int i = 0; i <= CHALLENGERS && st == SNNC_OK; i++) {
        int k = 0; /* the baseline first, then the best untried */
        for (int j = 1; i > 0 && j < m.n_candidates; j++)
            if (!tried[j] && (k == 0 || m.kl_percentile[j] < m.kl_percentile[k]))
                k = j;
        if (i > 0 && k == 0)
            break;
        tried[k] = true;
        st = try_method(a, &cand[k], calib, f, &q, &S, &mk, i == 0 ? k1 : kb, &m.kl[k], &m.agreement[k], err);
        if (st == SNNC_OK && (i == 0 || (m.kl[k] < m.kl[m.chosen] && snnc_significantly_lower(k1, kb, B, RANGE_SIGNIFICANCE)))) {
            m.chosen = k;
            mw = mk;
            snnc_ann_free(qw);
            snnc_layer_constraints_free(Sw, n);
            qw = q, Sw = S;
        } else {
            snnc_ann_free(q);
            snnc_layer_constraints_free(S, n);
        }
        q = NULL, S = NULL;
    }
    memcpy(m.input_candidates, mw.input_candidates, sizeof m.input_candidates);
    memcpy(m.input_kl, mw.input_kl, sizeof m.input_kl);
    memcpy(m.input_agreement, mw.input_agreement, sizeof m.input_agreement);
    m.n_input_candidates = mw.n_input_candidates;
    m.input_range_factor = mw.input_range_factor;
    free(k1);
    free(kb);
    for (int l = 0; Sw && l < n; l++)
        Sw[l].method = m;
    if (st != SNNC_OK) {
        snnc_ann_free(qw);
        snnc_layer_constraints_free(Sw, n);
        qw = NULL, Sw = NULL;
    }
    *out = qw;
    *S_out = Sw;
    return st;
}

int snnc_constrain(const snnc_ann *a, const snnc_constraints *c, const snnc_tensor *calib,
                   snnc_ann **out, snnc_layer_constraints **stats, int *n_stats, snnc_err *err)
{
    *out = NULL;
    if (stats)
        *stats = NULL;
    if (n_stats)
        *n_stats = 0;
    int st = check_constraints(c, err);
    if (st == SNNC_OK)
        st = snnc_q_check_structure(a, err);
    if (st == SNNC_OK)
        st = snnc_ann_check_finite(a, err);
    if (st != SNNC_OK)
        return st;
    snnc_constraints cc = *c;
    if (!calib)
        cc.bias_correct = cc.per_neuron_ranges = cc.method_search = false;
    snnc_tensor *f = NULL;
    snnc_ann *q = NULL;
    snnc_layer_constraints *S = NULL;
    if (calib && (cc.method_search || (cc.range_search && cc.activity_levels > 0)))
        st = snnc_ann_run(a, calib, &f, NULL, err);
    if (st == SNNC_OK && cc.method_search) {
        st = choose_method(a, &cc, calib, f, &q, &S, err);
    } else if (st == SNNC_OK) {
        S = calloc((size_t)a->n_layers, sizeof *S);
        snnc_constrain_method m = {.n_candidates = 1, .kl_percentile = {-1}, .agreement_percentile = {-1},
                                   .kl = {-1}, .agreement = {-1}};
        method_name(&cc, m.name[0], sizeof m.name[0]);
        st = S ? constrain_method(a, &cc, calib, f, &q, S, &m, err) : snnc_fail(err, SNNC_ENOMEM, "out of memory");
        for (int l = 0; S && l < a->n_layers; l++)
            S[l].method = m;
    }
    snnc_tensor_free(f);
    if (st != SNNC_OK) {
        snnc_ann_free(q);
        snnc_layer_constraints_free(S, a->n_layers);
        return st;
    }
    *out = q;
    if (stats) {
        *stats = S;
        if (n_stats)
            *n_stats = a->n_layers;
    } else {
        snnc_layer_constraints_free(S, a->n_layers);
    }
    return SNNC_OK;
}
