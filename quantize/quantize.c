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
    int st = q && S ? constrain_all(q, c, r, S, err) : snnc_fail(err, SNNC_ENOMEM, "out of memory");
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

/* Whether the per-sample KLs k of a candidate are lower than those of the
 * percentile range k1 by more than RANGE_SIGNIFICANCE standard errors of
 * the mean paired difference (a finite calibration batch: docs/QUANTIZE.md
 * §4a). */
#define RANGE_SIGNIFICANCE 2.0
static bool significantly_lower(const double *k, const double *k1, int64_t B)
{
    double m = 0, v = 0;
    for (int64_t b = 0; b < B; b++)
        m += k1[b] - k[b];
    m /= (double)B;
    for (int64_t b = 0; b < B; b++)
        v += (k1[b] - k[b] - m) * (k1[b] - k[b] - m);
    double se = B > 1 ? sqrt(v / (double)(B - 1) / (double)B) : 0;
    return m > RANGE_SIGNIFICANCE * se && m > 0;
}

/* Each quantised layer's range, in layer order: among the candidates whose
 * KL is significantly lower than the percentile range's, the one of least
 * mean KL, else the percentile range; the earlier layers at their choice,
 * the later ones at their percentile range (coordinate descent, one
 * pass). */
static int search_ranges(const snnc_ann *a, const snnc_constraints *c, const snnc_tensor *calib,
                         snnc_q_ranges *r, snnc_layer_constraints *S, snnc_err *err)
{
    snnc_tensor *f = NULL;
    int st = snnc_ann_run(a, calib, &f, NULL, err);
    int64_t B = st == SNNC_OK ? f->dims[0] : 0;
    double *k1 = malloc(((size_t)B + 1) * sizeof *k1), *kb = malloc(((size_t)B + 1) * sizeof *kb);
    if (st == SNNC_OK && (!k1 || !kb))
        st = snnc_fail(err, SNNC_ENOMEM, "out of memory");
    for (int l = 0; l < a->n_layers && st == SNNC_OK; l++) {
        S[l].range_factor = 1;
        const snnc_ann_layer *L = &a->layers[l];
        if ((l == a->n_layers - 1 && L->act == SNNC_ACT_NONE) || !(r->layer[l] > 0))
            continue;
        float base = r->layer[l];
        int best = 0;
        int n = 0;
        for (int k = 0; k < N_RANGE_FACTORS && st == SNNC_OK; k++) {
            if (k > 0 && L->act == SNNC_ACT_TANH && base * RANGE_FACTORS[k] > 1)
                continue; /* tanh is bounded by 1: a wider range only coarsens the step */
            r->layer[l] = base * RANGE_FACTORS[k];
            S[l].range_candidates[n] = RANGE_FACTORS[k];
            st = range_objective(a, c, r, calib, f, k == 0 ? k1 : kb, &S[l].range_kl[n],
                                 &S[l].range_agreement[n], err);
            if (k > 0 && S[l].range_kl[n] < S[l].range_kl[best] && significantly_lower(kb, k1, B))
                best = n;
            n++;
        }
        S[l].n_range_candidates = n;
        S[l].range_factor = S[l].range_candidates[best];
        r->layer[l] = base * S[l].range_candidates[best];
    }
    free(k1);
    free(kb);
    snnc_tensor_free(f);
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
    snnc_q_ranges r = {0};
    snnc_ann *q = NULL;
    snnc_layer_constraints *S = NULL;
    st = find_ranges(a, c, calib, &r, err);
    if (st == SNNC_OK) {
        q = snnc_ann_copy(a);
        S = calloc((size_t)a->n_layers, sizeof *S);
        if (!q || !S)
            st = snnc_fail(err, SNNC_ENOMEM, "out of memory copying the network");
    }
    snnc_layer_constraints *cand = NULL;
    if (st == SNNC_OK && calib && c->range_search && c->activity_levels > 0) {
        cand = calloc((size_t)a->n_layers, sizeof *cand);
        st = cand ? search_ranges(a, c, calib, &r, cand, err) : snnc_fail(err, SNNC_ENOMEM, "out of memory");
    }
    if (st == SNNC_OK)
        st = constrain_all(q, c, &r, S, err);
    for (int l = 0; cand && st == SNNC_OK && l < a->n_layers; l++) {
        S[l].range_factor = cand[l].range_factor;
        S[l].n_range_candidates = cand[l].n_range_candidates;
        memcpy(S[l].range_candidates, cand[l].range_candidates, sizeof S[l].range_candidates);
        memcpy(S[l].range_kl, cand[l].range_kl, sizeof S[l].range_kl);
        memcpy(S[l].range_agreement, cand[l].range_agreement, sizeof S[l].range_agreement);
    }
    free(cand);
    for (int l = 0; r.gram && l < a->n_layers; l++)
        free(r.gram[l]);
    free(r.gram);
    free(r.layer);
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
