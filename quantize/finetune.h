/* finetune.h — constraint-aware fine-tuning of the constrained network
 * (finetune.c; derivation docs/FINETUNE.md): distillation toward the float
 * network's outputs on the calibration batch (plus cross-entropy with
 * labels when given), back-propagation through time through the whole
 * constrained network, straight-through estimators for the weight codes and
 * the activity quantisers (scales and ranges frozen), seeded spike-count
 * noise, Adam.  A held-out part of the batch guards the result: it is kept
 * only when its validation loss is lower than before. */
#ifndef SNNC_FINETUNE_H
#define SNNC_FINETUNE_H

#include <stdbool.h>
#include <stdint.h>

#include "quantize.h"

typedef struct snnc_finetune_opts {
    int steps;              /* Adam steps; 0 = off */
    int batch;              /* minibatch size (64) */
    double lr;              /* Adam step: weight codes (weights), activity counts (biases) */
    double noise;           /* std of the noise added to quantised activities during
                             * training, in counts (0 = none, the default) */
    double temperature;     /* of the distillation softmax (1) */
    bool carry;             /* train against the carried-remainder model of the spiking
                             * neuron (docs/FINETUNE.md §3a; false) */
    double label_weight;    /* with labels: loss = KL + label_weight x cross-entropy (0.3) */
    bool force_keep;        /* keep the candidate without the guard's significance test
                             * (the pipeline's --finetune-carry choice decides; false) */
    int holdout;            /* every holdout-th sample (index % holdout == holdout - 1)
                             * is validation (4) */
    uint64_t seed;
    const int64_t *labels;  /* NULL, or one class per calibration sample */
    int64_t n_labels;       /* must be the calibration batch's size */
    /* Called every progress_every steps and after the last (may be NULL):
     * the step, the mean training loss since the last call, ms per step. */
    void (*progress)(void *ctx, int step, double loss, double ms_per_step);
    void *progress_ctx;
    int progress_every;
} snnc_finetune_opts;

void snnc_finetune_default(snnc_finetune_opts *o);

typedef struct snnc_finetune_result {
    int steps;              /* taken (0: not run) */
    int64_t train, validation;   /* samples */
    double val_before, val_after; /* validation loss: mean KL (+ cross-entropy with labels) */
    int best_step;          /* the step kept: lowest loss on the training part (0: none) */
    bool kept;              /* the fine-tuned network replaced the constrained one */
    double seconds;         /* wall time (not written to OUTDIR files) */
} snnc_finetune_result;

/* Fine-tune q (the constrained copy of the float network a, its statistics
 * S[n_stats] from snnc_constrain under c) on the calibration batch calib.
 * When kept, S's codes, q's dequantised weights and q's biases are
 * replaced; otherwise q and S are left byte for byte.  Labels out of
 * 0..classes-1: SNNC_EINVALID; a batch too small to hold out a validation
 * part (fewer than 2 x holdout samples): nothing done, r->steps = 0. */
int snnc_finetune(const snnc_ann *a, const snnc_constraints *c, const snnc_tensor *calib,
                  const snnc_finetune_opts *o, snnc_ann *q, snnc_layer_constraints *S, int n_stats,
                  snnc_finetune_result *r, snnc_err *err);

/* The loss on the batch x (shaped like the network's input) of network q
 * against teacher logits t [batch][classes] (mean KL at temperature temp,
 * plus mean cross-entropy when labels) and, when grad is not NULL, its
 * gradient with respect to every parameter in the order: per layer W
 * [n_out][n_in], U [n_out][n_out] (recurrent layer), b [n_out];
 * straight-through through the activity quantisers, no noise.
 * snnc_finetune_n_params gives grad's length. */
int64_t snnc_finetune_n_params(const snnc_ann *q);
int snnc_finetune_loss(const snnc_ann *q, const snnc_tensor *x, const float *t, const int64_t *labels,
                       double temp, double *loss, float *grad, snnc_err *err);
/* The same with the carried-remainder forward model when carry (straight
 * through: docs/FINETUNE.md §3a); hidden, when not NULL, gets the recurrent
 * layer's outputs [steps][batch][n_out]. */
int snnc_finetune_loss_carry(const snnc_ann *q, const snnc_tensor *x, const float *t, const int64_t *labels,
                             double temp, bool carry, double *loss, float *grad, float *hidden, snnc_err *err);

#endif
