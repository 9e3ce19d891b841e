/* quantize_internal.h — what the files of quantize/ share (not public):
 * the seeded generator and code ranges (weights.c), matrices quantised in
 * groups (weights.c), fan-in groups and pruning (fanin.c), activity ranges
 * from calibration or from the weights (activity.c).  Public: quantize.h. */
#ifndef SNNC_QUANTIZE_INTERNAL_H
#define SNNC_QUANTIZE_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "quantize.h"

/* ---- weights.c */
uint64_t snnc_q_rng_next(uint64_t *state);   /* splitmix64 */
double snnc_q_uniform(uint64_t *state);      /* in [0, 1), 53 bits */
int snnc_q_code_lo(int levels);              /* -(levels / 2) */
int snnc_q_code_hi(int levels);              /* levels - 1 - levels / 2 */

/* How a layer's count-domain matrix is cut into quantisation units: every
 * neuron (or the whole layer) times every column group gets one scale. */
typedef struct snnc_q_plan {
    int levels;
    snnc_rounding rounding;
    snnc_scale_mode scale;
    int n_groups;
    const int *group_start; /* [n_groups + 1] */
} snnc_q_plan;

/* M [rows][cols] -> codes [rows][cols], scales [rows][n_groups]; *sq_err
 * is sum (M - scale * code)^2 over the matrix. */
int snnc_q_matrix(const float *M, int rows, int cols, const snnc_q_plan *p, uint64_t *rng,
                  int8_t *codes, float *scales, double *sq_err);

/* ---- fanin.c */
/* Fan-in is counted in spike channels: ch[i] (1 or 2; NULL: all 1) is
 * what column i costs, 2 for a signed source (docs/QUANTIZE.md §6).
 * Column groups of a neuron with `cols` inputs under fan-in `fan_in`
 * (every ch[i] <= fan_in): one group, or (split) the fewest contiguous
 * groups of at most fan_in channels each, balanced where that fits
 * (all-1 costs: ceil(cols / fan_in) groups whose sizes differ by at most
 * one).  Returns the number of groups, *starts (malloc'd, [n + 1]); -1 on
 * ENOMEM. */
int snnc_q_groups(int cols, const unsigned char *ch, int fan_in, bool split, int **starts);
/* Zero the smallest |w| of row[0..n) until its non-zero weights cost at
 * most `budget` channels: by decreasing |w| (ties: lower index first) a
 * weight is kept while its channels fit in what is left, else dropped
 * (a smaller, cheaper one may still fit).  With rescale, the kept weights
 * are multiplied so the row's L1 norm is unchanged; *factor receives that
 * multiplier (1 without rescale); *used the channels the kept weights
 * cost.  Returns the number of weights zeroed that were non-zero; -1 on
 * ENOMEM. */
int64_t snnc_q_prune_row(float *row, const unsigned char *ch, int n, int budget, bool rescale, float *factor,
                         int *used);

/* ---- activity.c */
/* The p-th percentile (0 < p <= 100) of v[0..n) with linear interpolation
 * between order statistics (numpy's default); reorders v.  n > 0. */
double snnc_q_percentile(float *v, int64_t n, double p);

typedef struct snnc_q_ranges {
    float in;            /* network input range a_x */
    bool in_signed;      /* inputs of either sign (two channels) */
    float *layer;        /* [n_layers] output range of each layer */
    double **gram;       /* NULL, or [n_layers] E[[u | 1][u | 1]^T] of each layer's
                          * float inputs u ([x | h_{t-1}] for the recurrent layer) */
    float **unit;        /* NULL, or [n_layers][n_out]: each unit's own range (the same
                          * percentile of its own |activity|; calibration only) */
    snnc_ann_preact *ref;/* NULL, or the float network's mean pre-activations on the
                          * calibration batch (snnc_q_preact_new), for the bias correction */
} snnc_q_ranges;

/* Ranges from calibration inputs: the percentile of |activity|; with
 * r->gram set, also the second moments of every layer's inputs. */
int snnc_q_ranges_calib(const snnc_ann *a, const snnc_tensor *calib, double percentile,
                        snnc_q_ranges *r, snnc_err *err);

/* ---- moments.c */
/* Ranges without data: the same percentile of the pooled |activity| of
 * every layer, with Gaussian pre-activations whose means and variances are
 * propagated from the input's (uniform on its range) through the weights. */
int snnc_q_ranges_moments(const snnc_ann *a, double percentile, snnc_q_ranges *r, snnc_err *err);

/* ---- compensate.c */
/* Re-quantise M [rows][cols] (count domain) at the given scales with error
 * compensation: H [(cols+1)^2] holds the second moments of the count-domain
 * inputs with the constant 1 last.  Weights whose keep entry is 0 become 0
 * (keep NULL: all kept).  Writes codes, Q = scale * code and the bias's
 * change bias_delta [rows] (float units). */
int snnc_q_compensate(const float *M, int rows, int cols, const snnc_q_plan *p, const float *scales,
                      const double *H, const float *keep, int8_t *codes, float *Q, double *bias_delta);
/* ---- equalize.c */
/* Per-neuron activity ranges (docs/QUANTIZE.md §4b), as a rescaling of the
 * float network that leaves its outputs unchanged: every unit j of a ReLU
 * layer that is not the last gets s_j = unit_range_j / layer_range (its
 * ReLU is positively homogeneous), its incoming row (W_j, U_j, b_j) divided
 * by s_j and its outgoing column (the next layer's W, its own U) multiplied
 * by s_j.  scale[l] receives the s of layer l (malloc'd) or NULL where the
 * layer is left alone. */
int snnc_q_equalize(snnc_ann *a, float *const *unit_range, const float *layer_range, float **scale);
/* The rescaling itself: unit j of layer l by s[j] (positive). */
void snnc_q_rescale_units(snnc_ann *a, int l, const float *s);

/* ---- biascorr.c */
/* Recurrence-aware bias correction (docs/QUANTIZE.md §5a): layer by layer,
 * `iterations` times, run q in closed loop on calib and move the layer's
 * bias so its mean pre-activations equal those of the float network a;
 * with `recurrence`, the recurrent layer's change solves A d = -e (below),
 * else d = -e (ordinary bias correction). */
int snnc_q_bias_correct(const snnc_ann *a, snnc_ann *q, const snnc_tensor *calib, int iterations,
                        bool recurrence, snnc_err *err);
/* The same with the float network's means given (ref: snnc_q_preact of a). */
int snnc_q_bias_correct_ref(const snnc_ann_preact *ref, snnc_ann *q, const snnc_tensor *calib, int iterations,
                            bool recurrence, snnc_err *err);
/* Per-layer accumulators for snnc_ann_run_preact (free with
 * snnc_q_preact_free); with calib, filled from a run of a on it. */
snnc_ann_preact *snnc_q_preact(const snnc_ann *a, const snnc_tensor *calib, snnc_err *err);
void snnc_q_preact_free(snnc_ann_preact *p);
/* A [n][n] = (1/T) sum_{k<T} (T - k) (U D)^k: the mean over T steps of the
 * pre-activation change of a linearised recurrence h = D z, z_t = d + U
 * h_{t-1} (h_0 = 0) under a constant bias change d.  U [n][n], D [n]. */
int snnc_q_step_response(const float *U, const double *D, int n, int T, double *A);

/* sum over the rows x_j of X [rows][n] of x_j^T H x_j (NAN on ENOMEM). */
double snnc_q_quadratic(const double *H, int n, const double *X, int rows);
/* Layers in the order STEP_DENSE*, RECURRENT, READOUT* with consistent
 * sizes; else SNNC_EINVALID naming the layer. */
int snnc_q_check_structure(const snnc_ann *a, snnc_err *err);

#endif
