/* quantize.h — the constraint stage (docs/CONVERSION.md §2): a float
 * snnc_ann becomes a constrained snnc_ann, still executable in float:
 * weights on N levels with per-neuron or per-layer scales, activities on L
 * levels with ranges from calibration data, fan-in limited by splitting or
 * pruning.  Target-independent: TrueNorth and Loihi give the numbers. */
#ifndef SNNC_QUANTIZE_H
#define SNNC_QUANTIZE_H

#include <stdint.h>

#include "../ann/ann.h"

typedef enum { SNNC_ROUND_NEAREST, SNNC_ROUND_STOCHASTIC, SNNC_ROUND_COUNT } snnc_rounding;
typedef enum { SNNC_SCALE_NEURON, SNNC_SCALE_LAYER, SNNC_SCALE_COUNT } snnc_scale_mode;
typedef enum { SNNC_FANIN_SPLIT, SNNC_FANIN_PRUNE, SNNC_FANIN_COUNT } snnc_fanin_strategy;

typedef struct snnc_constraints {
    int weight_levels;      /* 16: codes -8..7 */
    int activity_levels;    /* 16: 0..15 spikes per window */
    int fan_in;             /* 64 */
    snnc_rounding rounding;
    snnc_scale_mode scale;
    snnc_fanin_strategy fanin;
    bool prune_rescale;     /* prune: rescale the kept weights */
    double percentile;      /* activity range from calibration: 99.9 */
    uint64_t seed;          /* stochastic rounding */
} snnc_constraints;

void snnc_constraints_default(snnc_constraints *c); /* TrueNorth's: 16, 16, 64 */

/* One row (neuron) of count-domain weights w[0..n) on `levels` levels:
 * codes in [-levels/2, levels/2 - 1] and the scale minimising squared error. */
typedef struct snnc_qrow {
    float scale;
    double sq_error;        /* sum (w - scale * code)^2 */
} snnc_qrow;
int snnc_quantize_row(const float *w, int n, int levels, snnc_rounding r, uint64_t *rng,
                      int8_t *codes, snnc_qrow *out);

/* Per-layer statistics for the constraint inspector and the report. */
typedef struct snnc_layer_constraints {
    char name[128];
    int fan_in, fan_in_max_neuron;   /* inputs per neuron (recurrent adds n_out) */
    double weight_rel_error;         /* ||W - Wq|| / ||W|| at the allowed levels */
    int levels_for_1pct;             /* levels needed for 1 % relative error */
    float activity_range;            /* calibrated hi of the output quantiser */
} snnc_layer_constraints;

/* Constrain `a` in place-copy: *out is a new network (weights quantised and
 * dequantised, activity quantisers set from `calib` or from the weights). */
int snnc_constrain(const snnc_ann *a, const snnc_constraints *c, const snnc_tensor *calib,
                   snnc_ann **out, snnc_layer_constraints **stats, int *n_stats, snnc_err *err);

#endif
