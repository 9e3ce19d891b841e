/* quantize.h — the constraint stage (docs/CONVERSION.md §2, algorithms in
 * docs/QUANTIZE.md): a float snnc_ann becomes a constrained snnc_ann, still
 * executable in float: weights on N levels with per-neuron or per-layer
 * scales, activities on L levels with ranges from calibration data (or
 * estimated from the weights), fan-in limited by splitting or pruning.
 * Target-independent: TrueNorth and Loihi give the numbers. */
#ifndef SNNC_QUANTIZE_H
#define SNNC_QUANTIZE_H

#include <stdint.h>

#include "../ann/ann.h"

typedef enum { SNNC_ROUND_NEAREST, SNNC_ROUND_STOCHASTIC, SNNC_ROUND_COUNT } snnc_rounding;
typedef enum { SNNC_SCALE_NEURON, SNNC_SCALE_LAYER, SNNC_SCALE_COUNT } snnc_scale_mode;
typedef enum { SNNC_FANIN_SPLIT, SNNC_FANIN_PRUNE, SNNC_FANIN_COUNT } snnc_fanin_strategy;
/* How a tanh layer's signed activity travels (docs/CONVERSION.md §3):
 * offset, one channel of counts k in 0..W standing for h = a (2k/W - 1)
 * (`levels` levels over [-a, a]); pair, two channels relu(h), relu(-h)
 * (2 (levels - 1) + 1 levels); auto, the one whose ideal spiking stage
 * agrees better with the float network on the calibration data
 * (mapper/pipeline.c; snnc_constrain alone takes it as pair). */
typedef enum { SNNC_TANH_OFFSET, SNNC_TANH_PAIR, SNNC_TANH_AUTO, SNNC_TANH_CODING_COUNT } snnc_tanh_coding;

typedef struct snnc_constraints {
    int weight_levels;      /* 16: codes -8..7; 0 = weights not quantised */
    int activity_levels;    /* 16: 0..15 spikes per window; 0 = not quantised */
    int fan_in;             /* 64 */
    snnc_rounding rounding;
    snnc_scale_mode scale;
    snnc_fanin_strategy fanin;
    bool prune_rescale;     /* prune: rescale the kept weights */
    double percentile;      /* activity range from calibration: 99.9 */
    uint64_t seed;          /* stochastic rounding */
    bool compensate;        /* with calibration data and nearest rounding: spread each
                             * weight's rounding error over the neuron's other inputs
                             * and its bias (docs/QUANTIZE.md); default true */
    bool range_search;      /* with calibration data and activity levels: each layer's
                             * activity range (its count unit) chosen among multiples of
                             * the percentile range by the whole network's KL from the
                             * float outputs on the calibration batch (docs/QUANTIZE.md
                             * §4a); default true */
    snnc_tanh_coding tanh_coding; /* default auto (docs/CONVERSION.md §3) */
    bool bias_correct;      /* with calibration data: recurrence-aware bias correction
                             * (docs/QUANTIZE.md §5a) allowed; default true */
    bool per_neuron_ranges; /* with calibration data: every ReLU unit its own activity
                             * range, absorbed into the downstream weights
                             * (docs/QUANTIZE.md §4b) allowed; default true */
    bool method_search;     /* with calibration data: the method (compensation, bias
                             * correction, per-neuron ranges: those allowed above)
                             * chosen per network by the KL on the calibration batch
                             * (§5b); default true.  false: exactly those allowed */
} snnc_constraints;

void snnc_constraints_default(snnc_constraints *c); /* TrueNorth's: 16, 16, 64 */

/* One row (neuron) of count-domain weights w[0..n) on `levels` levels
 * (2..256): codes in [-(levels/2), levels - 1 - levels/2] (16: -8..7).
 * Nearest: the scale minimising squared error, exactly (a sweep over the
 * scales where codes change, docs/QUANTIZE.md), and its nearest codes.
 * Stochastic: the smallest scale that holds every weight, codes rounded up
 * with probability frac(w/scale) from *rng (splitmix64 state), so
 * E[scale * code] = w.  An all-zero row gets scale 0, codes 0, and so does
 * a row without negative weights at 2 levels (codes -1, 0), with sq_error
 * its squared norm.  Returns SNNC_EINVALID for bad levels or non-finite
 * weights. */
typedef struct snnc_qrow {
    float scale;
    double sq_error;        /* sum (w - scale * code)^2 */
} snnc_qrow;
int snnc_quantize_row(const float *w, int n, int levels, snnc_rounding r, uint64_t *rng,
                      int8_t *codes, snnc_qrow *out);

/* The method of the constraint stage, chosen per network on the
 * calibration batch (docs/QUANTIZE.md §5b): each candidate's name (e.g.
 * "compensate+bias+per-neuron"), the mean KL from the float outputs and
 * the agreement of the class at the percentile ranges (stage 1) and, for
 * the baseline (index 0) and the challenger, after the range search
 * (stage 2; -1 for the others); `chosen` indexes the candidate used.
 * Without the method search: one candidate, the method used, figures -1. */
#define SNNC_METHOD_CANDIDATES 8
typedef struct snnc_constrain_method {
    int n_candidates, chosen;
    char name[SNNC_METHOD_CANDIDATES][48];
    double kl_percentile[SNNC_METHOD_CANDIDATES], agreement_percentile[SNNC_METHOD_CANDIDATES];
    double kl[SNNC_METHOD_CANDIDATES], agreement[SNNC_METHOD_CANDIDATES];
    float input_range_factor;        /* the input range search's (§4a): 1 when not searched */
    int n_input_candidates;
    float input_candidates[8];
    double input_kl[8], input_agreement[8];
} snnc_constrain_method;

/* Per-layer statistics for the constraint inspector and the report. */
typedef struct snnc_layer_constraints {
    char name[128];
    int fan_in, fan_in_max_neuron;   /* inputs per neuron (recurrent adds n_out) */
    /* Fan-in in spike channels (docs/QUANTIZE.md §6): a signed source (tanh
     * layer, signed input range) reaches a neuron on two channels per unit. */
    int ch_x, ch_h;                  /* channels per x column / per h column: 1 or 2
                                      * (ch_h 0: not recurrent) */
    bool x_offset, h_offset;         /* x / h columns offset-coded (snnc_tanh_coding):
                                      * one channel, counts k, a_in(i) the span 2a */
    int fan_in_channels;             /* ch_x n_in + ch_h n_out (recurrent) */
    int fan_in_channels_max;         /* after limiting: most channels of a pruned neuron's
                                      * kept weights, or of one split group; <= fan_in limit */
    double weight_rel_error;         /* ||W - Wq|| / ||W|| at the allowed levels */
    double output_rel_error;         /* ||z - zq|| / ||z|| of the pre-activations on the
                                      * calibration inputs; -1 without calibration */
    int levels_for_1pct;             /* levels needed for 1 % relative error (257: > 256) */
    float activity_range;            /* calibrated hi of the output quantiser */
    /* The quantised layer in the count domain (docs/CONVERSION.md §2), for
     * the mapper.  Columns are the neuron's inputs [x | h] (recurrent: n_in
     * + n_out).  Float weight = scales[j][g] * codes[j][i] * a_out / a_in(i)
     * with a_in = in_range for x columns, activity_range for h columns, twice
     * that for offset-coded columns (snnc_constraints_colf). */
    float in_range;                  /* a_in of the layer's W inputs */
    int n_rows, n_cols;
    int n_groups;                    /* split: partial neurons per neuron (1 = none) */
    int *group_start;                /* [n_groups + 1] first column of each group */
    int8_t *codes;                   /* [n_rows][n_cols]; NULL when weight_levels = 0 */
    float *scales;                   /* [n_rows][n_groups]; NULL when weight_levels = 0 */
    int64_t pruned;                  /* prune: weights dropped */
    /* Range search (docs/QUANTIZE.md §4a): the candidates' factors on the
     * percentile range and the network's KL / agreement with the float
     * outputs on the calibration batch with each (the other layers at their
     * choice so far); n_range_candidates 0 when not searched. */
    float range_factor;              /* chosen: activity_range = factor x percentile range */
    int n_range_candidates;
    float range_candidates[8];
    double range_kl[8], range_agreement[8];
    /* Per-neuron ranges (docs/QUANTIZE.md §4b): the constrained network's
     * unit j carries h_j / unit_scale[j] of the float network's unit, on
     * the range activity_range (so a_j = activity_range x unit_scale[j] in
     * the float network's units); NULL: all 1. */
    float *unit_scale;               /* [n_rows] or NULL */
    snnc_constrain_method method;    /* the network's (the same in every layer) */
} snnc_layer_constraints;
void snnc_layer_constraints_free(snnc_layer_constraints *s, int n);
/* a_in(i) / a_out of column i of a layer with n_in inputs: count-domain
 * weight = float weight times it. */
double snnc_constraints_colf(const snnc_layer_constraints *S, int n_in, int i);
/* Whether a quantiser of window W (ticks per step) is offset-coded: signed
 * on W + 1 levels, one channel (a pair has 2 W + 1). */
static inline bool snnc_act_offset(const snnc_act_quant *q, int W) { return q->lo < 0 && q->levels == W + 1; }

/* *out is a constrained copy of `a`: weights quantised and dequantised
 * (with compensation, biases adjusted too), activity quantisers set from
 * `calib` (an input batch shaped like the model's input) or estimated from
 * the weights; without `calib` the input range is a->in_q (if hi > 0), else
 * [-1, 1].  *stats receives one entry per layer (free with
 * snnc_layer_constraints_free); pass stats = NULL to skip them.  Bad
 * constraints: SNNC_EUSAGE; non-finite parameters: SNNC_EINVALID naming the
 * layer. */
int snnc_constrain(const snnc_ann *a, const snnc_constraints *c, const snnc_tensor *calib,
                   snnc_ann **out, snnc_layer_constraints **stats, int *n_stats, snnc_err *err);

/* The float network a in the units of the network snnc_constrain made from
 * it (stats S): every unit with a unit_scale rescaled as the constraint
 * stage did (docs/QUANTIZE.md §4b), so its outputs are a's (up to float
 * rounding) and its layers can be compared with, or swapped for, the
 * constrained network's.  NULL on ENOMEM. */
snnc_ann *snnc_constrain_float_view(const snnc_ann *a, const snnc_layer_constraints *S, int n_stats);

#endif
