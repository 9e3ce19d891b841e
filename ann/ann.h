/* ann.h — the float Elman network snnc converts (docs/CONVERSION.md §1):
 * per time step, per-step dense layers then one recurrent layer; after the
 * last step, readout dense layers on the final hidden state.  Extracted from
 * a loaded graph (ann_extract.c), executed in float (ann_eval.c), and the
 * representation the constraint stage (quantize/) rewrites. */
#ifndef SNNC_ANN_H
#define SNNC_ANN_H

#include <stdbool.h>
#include <stdint.h>

#include "snnc.h"

typedef enum { SNNC_ACT_NONE, SNNC_ACT_RELU, SNNC_ACT_TANH, SNNC_ACT_COUNT } snnc_act;

typedef enum {
    SNNC_ANN_STEP_DENSE, /* applied to every time step's input, before the recurrent layer */
    SNNC_ANN_RECURRENT,  /* h_t = f(W x_t + U h_{t-1} + b) */
    SNNC_ANN_READOUT,    /* applied once, to h_T (or the previous readout) */
    SNNC_ANN_ROLE_COUNT
} snnc_ann_role;

/* Activity quantiser: values clamped to [lo, hi] and rounded to the nearest
 * of `levels` evenly spaced values, halves up (levels 0 = no quantisation;
 * levels 1 or hi <= lo give lo; NaN passes through). */
typedef struct snnc_act_quant {
    int levels;
    float lo, hi;
} snnc_act_quant;

typedef struct snnc_ann_layer {
    char name[128];        /* the ONNX node that defined it */
    snnc_ann_role role;
    snnc_act act;
    int n_in, n_out;
    float *W;              /* [n_out][n_in] */
    float *U;              /* [n_out][n_out], recurrent layer only */
    float *b;              /* [n_out] */
    snnc_act_quant out_q;  /* quantiser of this layer's output (constrained network) */
} snnc_ann_layer;

typedef struct snnc_ann {
    char input_name[128], output_name[128];
    int n_inputs;          /* features per time step */
    int steps;             /* sequence length (from the model's input shape) */
    bool batch_first;      /* input [batch, steps, features] (else [steps, batch, features]) */
    snnc_act_quant in_q;   /* quantiser of the network input (constrained network) */
    int n_layers;
    snnc_ann_layer *layers;
} snnc_ann;

/* Build the Elman network of a loaded graph; refuses (SNNC_EUNSUPPORTED,
 * naming the layer) any other shape.  `calib` (may be NULL) is an input
 * batch on which the result is checked against snnc_run (max error 1e-4). */
int snnc_ann_extract(snnc_graph *g, const snnc_tensor *calib, snnc_ann **out, snnc_err *err);
/* Run on an input batch shaped like the model's input; returns [batch, n_out]
 * of the last layer.  hidden (optional) receives [steps, batch, n_rec] recurrent states. */
int snnc_ann_run(const snnc_ann *a, const snnc_tensor *input, snnc_tensor **out,
                 snnc_tensor **hidden, snnc_err *err);
/* Per layer, the mean over its rows (steps x batch; readouts: batch) of
 * each unit's pre-activation z = W u + U h + b, and of the slope of its
 * activation and quantiser at z (1 or 0 for ReLU, inside the quantiser's
 * range or not; 1 - tanh^2 for tanh), which the recurrence-aware bias
 * correction needs (docs/QUANTIZE.md §5a). */
typedef struct snnc_ann_preact {
    double *mean, *slope; /* [n_out], the caller's */
    int64_t rows;
} snnc_ann_preact;
/* snnc_ann_run that also fills pre[layer] (NULL: as snnc_ann_run). */
int snnc_ann_run_preact(const snnc_ann *a, const snnc_tensor *input, snnc_tensor **out, snnc_tensor **hidden,
                        snnc_ann_preact *pre, snnc_err *err);
snnc_ann *snnc_ann_copy(const snnc_ann *a);
void snnc_ann_free(snnc_ann *a);
/* Parameters with a value that is not finite -> SNNC_EINVALID naming the layer. */
int snnc_ann_check_finite(const snnc_ann *a, snnc_err *err);
float snnc_act_quantize(const snnc_act_quant *q, float v);
/* Outputs y [batch][classes] against reference outputs ref (ann_compare.c):
 * the fraction of samples of the same class (argmax) and the mean
 * KL(p_ref || p_y) of the softmax outputs, natural log; per sample into
 * kl_per_sample when not NULL. */
int snnc_ann_agreement(const float *ref, const float *y, int64_t batch, int classes,
                       double *kl_per_sample, double *kl, double *agreement, snnc_err *err);

/* Whether paired per-sample values `after` are lower than `before` on
 * average by more than `sigmas` standard errors of the mean difference (a
 * finite sample: a gain within its noise is not one); false for n < 2. */
bool snnc_significantly_lower(const double *before, const double *after, int64_t n, double sigmas);

#endif
