/* mapper.h — the mapper stage's internal interface (docs/CONVERSION.md §3-4,
 * format in docs/NETLIST.md): lowering a constrained Elman network to a
 * spiking netlist (lower.c), its tick-by-tick simulation — the "ideal
 * spiking" stage — (netlist_sim.c), response matching of the neuron
 * parameters (match.c), network.json (netlist_json.c) and the response
 * plots (plots.c).  The netlist itself is mapper/netlist.h. */
#ifndef SNNC_MAPPER_H
#define SNNC_MAPPER_H

#include <stdbool.h>
#include <stdint.h>

#include "../ann/ann.h"
#include "../quantize/quantize.h"
#include "netlist.h"

/* Largest m_j: type weights (1, 2, 4, -8) m_j must stay within +-255. */
#define SNNC_MULT_MAX 31
#define SNNC_LEAK_MAX 255
#define SNNC_THRESHOLD_MAX 262143 /* 18 bits */

/* Split fan-in (docs/CONVERSION.md §5): one spike of a partial neuron whose
 * projection to its final neuron has code c (1..SNNC_PARTIAL_CODE_MAX, signs
 * of both populations applied) stands for c `unit` output counts of its
 * layer; the final neuron's scale is `unit`.  Lowering sets unit =
 * SNNC_PARTIAL_UNIT and c = 1; matching chooses both from calibration data. */
#define SNNC_PARTIAL_UNIT 0.25
#define SNNC_PARTIAL_CODE_MAX 7 /* +8 would need a negated neuron (tn_map) */

/* Lower the constrained network `q` (snnc_constrain's output, its per-layer
 * statistics `st` with codes and scales) to a netlist with analytic neuron
 * parameters (m/alpha ~ s, W lambda/alpha ~ b', v0 = alpha/2).  Needs
 * quantised weights and activities.  A split layer (groups > 1) becomes per
 * group a pair of partial populations and the final population(s); a split
 * linear readout one membrane-read population per group (docs/NETLIST.md). */
int snnc_lower(const snnc_ann *q, const snnc_layer_constraints *st, int n_st, snnc_netlist **out,
               snnc_err *err);
/* Count-domain scale (output counts per unit of code-weighted input) of
 * row j: group g's s_jg (unsplit layers: s_j). */
double snnc_lower_scale(const snnc_layer_constraints *S, int j, int g);
/* Output counts per spike of neuron j of partial population p (c times its
 * unit, c its code to the final neuron); 1 for other roles. */
double snnc_partial_unit(const snnc_netlist *n, int p, int j);
/* Sets that code c (1..SNNC_PARTIAL_CODE_MAX) on every projection from
 * neuron j of partial population p to its final neuron(s). */
void snnc_partial_set_code(snnc_netlist *n, int p, int j, int c);
/* Ticks per step W of the constrained network q (from its input quantiser). */
int snnc_lower_window(const snnc_ann *q);
/* Whether layer l's activity is offset-coded (docs/CONVERSION.md §3): a
 * tanh layer on one channel of counts k in 0..W, h = a (2k/W - 1). */
bool snnc_lower_offset_coded(const snnc_ann *q, int l);
/* The constant, in output counts, that the offset-coded columns of group g
 * (unsplit layers: g = 0, all columns) add to neuron j of layer l at step
 * t: h = a (2k/W - 1) makes s_jg c_ij (k_i - W/2) of every such column, so
 * -(W/2) s_jg sum c_ij, folded into the neuron's (or partial's) bias; the
 * recurrent (h) columns only from step 1 (h_0 = 0, and no spikes). */
double snnc_lower_offset(const snnc_ann *q, const snnc_layer_constraints *S, int l, int j, int g, int W, int t);
/* The response line of neuron j of population p of layer S: its count is
 * clamp(round(s Q + b), 0, W) for code-weighted input spikes Q (partials:
 * s_jg / unit, the group's offset; final and unsplit neurons: the scale,
 * b' plus the offsets; offset-coded tanh: halved, + W/2), from step 1 on;
 * *charge the counts step 0 differs by (the recurrent offsets it does not
 * have), given to the neuron as initial potential. */
void snnc_lower_line(const snnc_netlist *n, int p, int j, const snnc_ann *q, const snnc_layer_constraints *S,
                     double *s, double *b, double *charge);
/* That charge in potential: round(charge threshold), added to v0. */
int32_t snnc_lower_charge(double charge, int32_t threshold);
/* Initial potentials for the ticks before window 0 (settle.c, docs/
 * CONVERSION.md §3), for the hidden and partial neurons of offset-coded
 * tanh layers (snnc_settled_pop): matching fits v0 as the potential at the
 * start of the neuron's window 0 (vstart, snnc_settle_save copies them in
 * population order, snnc_settle_restore puts them back); snnc_settle sets
 * v0 so that after its lag ticks of leak the potential is vstart, less the
 * input of the spikes the others are forced to fire before their windows.
 * snnc_settle_v0: one neuron's v0 for the potential vstart after `lag`
 * ticks of leak, *spikes the spikes it fires in them. */
bool snnc_settled_pop(const snnc_netlist *n, const snnc_ann *q, int p);
int32_t *snnc_settle_save(const snnc_netlist *n, const snnc_ann *q);
void snnc_settle_restore(snnc_netlist *n, const snnc_ann *q, const int32_t *vstart);
int32_t snnc_settle_v0(int64_t vstart, int32_t leak, int32_t thr, int32_t floor_, int lag, int *spikes);
int snnc_settle(snnc_netlist *n, const snnc_ann *q, const int32_t *vstart);
/* The ANN layer (-1 for inputs) a population of snnc_lower's netlist realises. */
int snnc_lower_layer_of(const snnc_netlist *n, int pop);

/* One neuron's parameters; snnc_neuron_init gives the analytic choice for a
 * count response clamp(round(s P + b), 0, W) to an integer input P. */
typedef struct snnc_neuron {
    int32_t threshold, leak, mult, floor, v0;
} snnc_neuron;
snnc_neuron snnc_neuron_init(double s, double b, int window);
/* Neuron j of population P gets the parameters u. */
void snnc_neuron_store(snnc_population *P, int j, snnc_neuron u);

/* Result of simulating a batch: per sample the readout scores (the growth of
 * threshold*count + V over the readout's window of the last step) and per
 * window the spike count of every neuron (populations in order, inputs
 * included, counted in each population's own window: ticks
 * [t W + lag, (t+1) W + lag), lag = the feedforward delays from the input). */
typedef struct snnc_sim_result {
    int64_t batch;
    int n_classes;
    double *scores;          /* [batch][n_classes] */
    int n_neurons;           /* all populations' neurons */
    int *pop_offset;         /* [n_pops + 1] first neuron of each population */
    int32_t *counts;         /* [steps][batch][n_neurons] */
    int64_t spikes, events;  /* totals over the batch (synaptic events = delivered spikes) */
    int64_t ticks;           /* per sample */
    uint8_t *raster;         /* [ticks][n_neurons] spikes of sample 0 */
} snnc_sim_result;
void snnc_sim_result_free(snnc_sim_result *r);

/* Run the netlist on an input batch laid out like the ANN's input
 * ([batch, steps, features] if batch_first, else [steps, batch, features]). */
int snnc_netlist_simulate(const snnc_netlist *n, const snnc_tensor *input, bool batch_first,
                          snnc_sim_result *res, snnc_err *err);
/* Ticks of population `pop` after the step's first input tick (its lag). */
int snnc_netlist_lag(const snnc_netlist *n, int pop);

/* One population's response curve from matching: per calibration point the
 * neuron's pre-activation in counts z' = s P + b', the constrained ANN's
 * count and the matched neuron's count. */
typedef struct snnc_match_curve {
    char name[128];
    int n;
    float *z, *ann, *snn;
    double residual;         /* mean squared count error */
} snnc_match_curve;
void snnc_match_curves_free(snnc_match_curve *c, int n);

/* Fit every neuron's (mult, threshold, leak, floor) so its window count
 * matches the constrained ANN's over the calibration input `calib` (shaped
 * like the model's input): GSL simplex on the continuous relaxation, then
 * an integer neighbourhood search simulating the neuron.  Split layers
 * first get their unit and partial -> final codes from the data (smallest
 * teacher-forced count error); partial neurons are fitted to the group
 * sums in their units, final neurons on their partials' simulated spikes.
 * Fills n->residual; *curves (optional) gets one curve per non-input
 * population. */
int snnc_match(snnc_netlist *n, const snnc_ann *q, const snnc_layer_constraints *st,
               const snnc_tensor *calib, snnc_match_curve **curves, int *n_curves, snnc_err *err);

/* Closed-loop tuning (tune.c), after snnc_match: the readout's codes and
 * leaks refitted on the hidden counts the netlist itself produces on the
 * calibration input `calib` (laid out like the float network `a`'s input;
 * at most 512 of its sequences), so that its scores approach a's logits
 * (distillation).  Kept only if the objective — the mean squared difference
 * of the centred scores, optimally rescaled, and the centred logits — goes
 * down; deterministic.  The readout may be one population or one per column
 * group of a split readout (their scores add up); other readouts are left
 * unchanged. */
int snnc_tune(snnc_netlist *n, const snnc_ann *a, const snnc_tensor *calib, snnc_err *err);

/* Counts of the constrained network in the count domain, per layer:
 * P[l] = [steps][batch][n_out] code-weighted input sums (integers; a split
 * layer's z' sums its groups at their own scales) and
 * cnt[l] the layer's signed output counts (readout without quantiser: the
 * pre-activation z'); only the last step for readout layers (t = 0). */
typedef struct snnc_count_trace {
    int n_layers, steps;
    int64_t batch;
    double *in;              /* [steps][batch][n_inputs] signed input counts */
    int64_t **P;
    int64_t **Pg;            /* split layers: [steps][batch][n_out][n_groups] the code-weighted
                              * sum of each group's columns; NULL for unsplit layers */
    double **cnt;
    double **z;              /* z' = s P + b' */
} snnc_count_trace;
int snnc_count_forward(const snnc_ann *q, const snnc_layer_constraints *st, const snnc_tensor *input,
                       snnc_count_trace *tr, snnc_err *err);
void snnc_count_trace_free(snnc_count_trace *tr);
/* One window of layer l in the count domain, as snnc_count_forward computes
 * it: z' of neuron j from u, the signed counts of the layer's inputs (the
 * previous layer's, or the input counts), and h, its own counts of the
 * previous window (NULL at the first or for a feed-forward layer), at step t
 * (offset-coded columns add their constants from step 1); and the count the
 * layer's quantiser makes of z'. */
double snnc_count_z(const snnc_ann *q, const snnc_layer_constraints *st, int l, int t, int j,
                    const double *u, const double *h);
double snnc_count_of(const snnc_ann *q, const snnc_layer_constraints *st, int l, double z);

/* The per-step gap between the constrained network (its count trace tr)
 * and the ideal spiking netlist (a simulation r of n on the same inputs),
 * step_gap.c, docs/CONVERSION.md §4a.  Per hidden (non-readout) layer and
 * step t: the netlist's signed counts of the layer (a split layer's final
 * population, a tanh pair as n+ - n-) against tr->cnt; bias (the mean
 * signed difference, netlist minus constrained), mae and rms are relative
 * to mean_count (the constrained network's mean |count| at that
 * step; absolute when it is 0); one_step_* compare the netlist's count with
 * the constrained layer's rule applied to the netlist's own inputs of that
 * window (this window's error alone).  class_agreement: the fraction of
 * samples where argmax of the constrained readout equals the netlist's. */
typedef struct snnc_step_gap_layer {
    int layer;
    char name[128];
    double *mean_count, *bias, *mae, *rms, *exact, *one_step, *one_step_exact; /* [steps] */
} snnc_step_gap_layer;
typedef struct snnc_step_gap {
    int n_layers, steps;
    int64_t batch;
    snnc_step_gap_layer *layers;
    double class_agreement;
} snnc_step_gap;
int snnc_step_gap_measure(const snnc_netlist *n, const snnc_ann *q, const snnc_layer_constraints *st,
                          const snnc_count_trace *tr, const snnc_sim_result *r, snnc_step_gap *out,
                          snnc_err *err);
void snnc_step_gap_free(snnc_step_gap *g);
/* {samples, steps, class_agreement, layers: [{layer, mean_count, bias, mae,
 * rms, exact, one_step_mae, one_step_exact}]}, arrays over the steps. */
struct json_t *snnc_step_gap_json(const snnc_step_gap *g);

/* OUTDIR/network.json (docs/NETLIST.md). */
int snnc_netlist_write_json(const snnc_netlist *n, const char *path, snnc_err *err);
/* OUTDIR/plots/<population>.svg, one per curve (the directory is created). */
int snnc_plots_write(const char *outdir, const snnc_match_curve *c, int n, snnc_err *err);

#endif
