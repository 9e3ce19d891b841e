/* pipeline.h — the conversion pass list (pipeline.c) shared by `snnc
 * convert` and `snnc simulate OUTDIR`: extract -> constrain -> lower ->
 * match -> tune (target-independent) -> map (TrueNorth), and the batch runs of the
 * four evaluation stages.  The same inputs and constraints always give the
 * same result, so simulate rebuilds what convert emitted. */
#ifndef SNNC_PIPELINE_H
#define SNNC_PIPELINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ann/ann.h"
#include "mapper.h"
#include "quantize/finetune.h"
#include "quantize/quantize.h"
#include "truenorth/tn_map.h"

typedef struct snnc_pipeline {
    snnc_ann *ann;                 /* float network */
    snnc_ann *constrained;         /* snnc_constrain's output */
    snnc_layer_constraints *stats;
    int n_stats;
    snnc_finetune_result finetune; /* steps 0: not fine-tuned */
    snnc_netlist *netlist;         /* lowered and matched */
    snnc_match_curve *curves;      /* NULL without calibration data */
    int n_curves;
    tn_mapping *mapping;           /* TrueNorth placement (map = true) */
    snnc_tanh_coding tanh_coding;  /* the coding built (auto resolved) */
    double tanh_agreement[2];      /* auto with a tanh layer and calibration data: the
                                    * ideal stage's class agreement with the float network
                                    * on it, [offset, pair]; else -1 */
    double carry_agreement[2];     /* --finetune-carry: the same on the held-out part of
                                    * calib, [fine-tuned per window, against the carried
                                    * potential]; else -1 */
    bool carry_kept;               /* the latter was kept */
} snnc_pipeline;

/* Run the passes on MODEL.onnx.  calib (may be NULL: no response matching,
 * analytic neuron parameters) is an input batch shaped like the model's
 * input.  c->tanh_coding auto with a tanh layer and calib builds both
 * codings and keeps the one whose ideal stage agrees better with the float
 * network's classes on calib (pair on a tie); else auto is pair.  ft (may
 * be NULL: off) the fine-tuning options.  progress (may be NULL) names the
 * command for stage timings on stderr.  Non-finite parameters: SNNC_EINVALID naming the layer; layers
 * the target cannot run or hold: SNNC_EUNSUPPORTED naming the layer. */
int snnc_pipeline_build(const char *model, const snnc_tensor *calib, const snnc_constraints *c,
                        const snnc_finetune_opts *ft, bool map, const char *progress, snnc_pipeline *p,
                        snnc_err *err);
/* The same from the bytes of MODEL.onnx already read (`name` for messages). */
int snnc_pipeline_build_onnx(const void *onnx, size_t size, const char *name,
                             const snnc_tensor *calib, const snnc_constraints *c,
                             const snnc_finetune_opts *ft, bool map, const char *progress,
                             snnc_pipeline *p, snnc_err *err);
void snnc_pipeline_free(snnc_pipeline *p);

/* Lower the constrained network q (stats S) of the float network a and,
 * when map, run the mapping's structural checks (fan-in per core, ranges)
 * before any long step.  A failure that one constraint option causes (a
 * fan-in whose partial sums do not fit a core, a window too short for a
 * split recurrence) is SNNC_EUSAGE naming the option and the values that
 * this network accepts; `snnc check` and `snnc convert` share it. */
int snnc_pipeline_lower(const snnc_ann *a, const snnc_ann *q, const snnc_layer_constraints *S,
                        int n_stats, const snnc_constraints *c, const snnc_tensor *calib, bool map,
                        snnc_netlist **out, snnc_err *err);

/* Run every sample of `x` (laid out like the ANN's input) through the
 * TrueNorth model `model` (the mapping's, or the emitted file read back)
 * with the mapping's coder and decoder.  scores [batch][n_classes] and cls
 * [batch] are caller-provided (either may be NULL); activity accumulates
 * into *act (its cores set to the model's). */
int snnc_pipeline_run_truenorth(const tn_mapping *m, const tn_model *model, const snnc_ann *a,
                                const snnc_tensor *x, double *scores, int64_t *cls,
                                tn_activity *act, snnc_err *err);

/* The per-step gap between the constrained network and the ideal spiking
 * netlist (mapper/step_gap.c) on x, from r, a simulation of p's netlist on
 * x already run: the constrained network's count trace is computed here
 * (no second simulation).  *out: snnc_step_gap_json's object. */
int snnc_pipeline_step_gap(const snnc_pipeline *p, const snnc_tensor *x, const snnc_sim_result *r,
                           struct json_t **out, snnc_err *err);

/* Per-sample power of a TrueNorth run of `samples` samples at real time. */
void snnc_pipeline_power(const tn_activity *act, int64_t samples, snnc_power_report *out);

#endif
