/* pipeline.c — the conversion pass list (interface: mapper/pipeline.h;
 * stages: docs/CONVERSION.md): load and extract the float Elman network,
 * check its parameters, constrain (quantize/), lower and match (mapper/),
 * place on TrueNorth cores (truenorth/tn_map.c); and the TrueNorth batch
 * run of the evaluation and the per-step gap of the ideal stage.  Stage
 * timings go to stderr only. */
#include <jansson.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "io/file.h"
#include "ir/error.h"
#include "ir/tensor.h"
#include "pipeline.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void progress(const char *cmd, const char *stage, double *t)
{
    double t1 = now();
    if (cmd)
        fprintf(stderr, "snnc %s: %-10s %.3f s\n", cmd, stage, t1 - *t);
    *t = t1;
}

void snnc_pipeline_free(snnc_pipeline *p)
{
    if (!p)
        return;
    snnc_ann_free(p->ann);
    snnc_ann_free(p->constrained);
    snnc_layer_constraints_free(p->stats, p->n_stats);
    snnc_netlist_free(p->netlist);
    snnc_match_curves_free(p->curves, p->n_curves);
    tn_mapping_free(p->mapping);
    memset(p, 0, sizeof *p);
}

static int extract(const void *onnx, size_t size, const char *name, const snnc_tensor *calib,
                   snnc_pipeline *p, snnc_err *err)
{
    snnc_graph *g = NULL;
    int rc = snnc_load_onnx_buffer(onnx, size, name, &g, err);
    if (!rc)
        rc = snnc_ann_extract(g, calib, &p->ann, err);
    snnc_graph_free(g);
    if (!rc)
        rc = snnc_ann_check_finite(p->ann, err);
    return rc;
}

/* Constraints a network may not be able to realise, each with the value
 * that always can be (TrueNorth's): when lowering or the mapping's
 * structural checks fail and that value would not, the option is to blame. */
static const struct {
    const char *option;
    size_t field; /* offset of an int in snnc_constraints */
    int best;
} blamable[] = {
    {"--activity-levels", offsetof(snnc_constraints, activity_levels), 16},
    {"--fan-in", offsetof(snnc_constraints, fan_in), 64},
};

static int *field_of(snnc_constraints *c, size_t off) { return (int *)((char *)c + off); }

/* Whether constraining and lowering `a` under c gives a netlist a mapping can hold. */
static bool fits(const snnc_ann *a, const snnc_constraints *c, const snnc_tensor *calib, bool map)
{
    snnc_err e = {0};
    snnc_ann *q = NULL;
    snnc_layer_constraints *S = NULL;
    snnc_netlist *n = NULL;
    int ns = 0;
    int rc = snnc_constrain(a, c, calib, &q, &S, &ns, &e);
    if (!rc)
        rc = snnc_lower(q, S, ns, &n, &e);
    if (!rc && map)
        rc = tn_map_check_structure(n, &e);
    snnc_netlist_free(n);
    snnc_layer_constraints_free(S, ns);
    snnc_ann_free(q);
    return rc == SNNC_OK;
}

/* After a failure err (the reason) under c: a usage error naming the
 * option and the smallest value that fits (the values fit from there up),
 * or the failure unchanged when no single option is to blame. */
static int blame(const snnc_ann *a, const snnc_constraints *c, const snnc_tensor *calib, bool map,
                 int rc, snnc_err *err)
{
    for (size_t k = 0; k < sizeof blamable / sizeof blamable[0]; k++) {
        snnc_constraints t = *c;
        int v = *field_of(&t, blamable[k].field), lo = v + 1, hi = blamable[k].best;
        *field_of(&t, blamable[k].field) = hi;
        if (v >= hi || !fits(a, &t, calib, map))
            continue;
        while (lo < hi) { /* smallest value in (v, best] that fits */
            int mid = lo + (hi - lo) / 2;
            *field_of(&t, blamable[k].field) = mid;
            if (fits(a, &t, calib, map))
                hi = mid;
            else
                lo = mid + 1;
        }
        return snnc_fail(err, SNNC_EUSAGE, "%s %d cannot be realised for this network "
                         "(accepted for it: %d..%d)", blamable[k].option, v, lo, blamable[k].best);
    }
    return rc;
}

int snnc_pipeline_lower(const snnc_ann *a, const snnc_ann *q, const snnc_layer_constraints *S,
                        int n_stats, const snnc_constraints *c, const snnc_tensor *calib, bool map,
                        snnc_netlist **out, snnc_err *err)
{
    int rc = snnc_lower(q, S, n_stats, out, err);
    if (!rc && map && (rc = tn_map_check_structure(*out, err))) {
        snnc_netlist_free(*out);
        *out = NULL;
    }
    if (rc == SNNC_EUNSUPPORTED)
        rc = blame(a, c, calib, map, rc, err);
    return rc;
}

typedef struct ft_log {
    const char *cmd;
    int steps;
} ft_log;

static void ft_progress(void *ctx, int step, double loss, double ms)
{
    const ft_log *l = ctx;
    fprintf(stderr, "snnc %s: finetune step %d/%d: loss %.5f, %.2f ms/step\n", l->cmd, step, l->steps,
            loss, ms);
}

/* Fine-tune the constrained network (quantize/finetune.h), progress and
 * outcome on stderr when cmd. */
static int finetune(snnc_pipeline *p, const snnc_constraints *c, const snnc_tensor *calib,
                    const snnc_finetune_opts *ft, const char *cmd, snnc_err *err)
{
    snnc_finetune_opts o = *ft;
    ft_log log = {cmd, ft->steps};
    o.progress = cmd ? ft_progress : NULL;
    o.progress_ctx = &log;
    int rc = snnc_finetune(p->ann, c, calib, &o, p->constrained, p->stats, p->n_stats, &p->finetune, err);
    const snnc_finetune_result *r = &p->finetune;
    if (!rc && cmd && r->steps)
        fprintf(stderr, "snnc %s: finetune: validation loss %.5f -> %.5f (%lld held-out samples, best "
                "step %d): %s, %.2f s\n", cmd, r->val_before, r->val_after, (long long)r->validation,
                r->best_step, r->kept ? "kept" : "not kept (no significant gain)", r->seconds);
    return rc;
}

int snnc_pipeline_build(const char *model, const snnc_tensor *calib, const snnc_constraints *c,
                        const snnc_finetune_opts *ft, bool map, const char *cmd, snnc_pipeline *p,
                        snnc_err *err)
{
    void *onnx;
    size_t size;
    memset(p, 0, sizeof *p);
    int rc = snnc_read_file(model, SNNC_MAX_FILE_BYTES, SNNC_BYTES_PROTOBUF, &onnx, &size, err);
    if (!rc)
        rc = snnc_pipeline_build_onnx(onnx, size, model, calib, c, ft, map, cmd, p, err);
    free(onnx);
    return rc;
}

/* Class agreement of p's ideal stage with its float network on x. */
static int ideal_agreement(const snnc_pipeline *p, const snnc_tensor *x, double *out, snnc_err *err)
{
    snnc_tensor *y = NULL;
    snnc_sim_result r;
    int rc = snnc_ann_run(p->ann, x, &y, NULL, err);
    if (!rc)
        rc = snnc_netlist_simulate(p->netlist, x, p->ann->batch_first, &r, err);
    if (!rc) {
        int64_t ok = 0, C = r.n_classes;
        for (int64_t b = 0; b < r.batch; b++) {
            int64_t i = 0, k = 0;
            for (int64_t j = 1; j < C; j++) {
                i = r.scores[b * C + j] > r.scores[b * C + i] ? j : i;
                k = snnc_f32(y)[b * C + j] > snnc_f32(y)[b * C + k] ? j : k;
            }
            ok += i == k;
        }
        *out = r.batch ? (double)ok / (double)r.batch : 0;
        snnc_sim_result_free(&r);
    }
    snnc_tensor_free(y);
    return rc;
}

static int build_coded(const void *onnx, size_t size, const char *name, const snnc_tensor *calib,
                       const snnc_constraints *c, const snnc_finetune_opts *ft, bool map, const char *cmd,
                       snnc_pipeline *p, snnc_err *err);

/* The held-out part of x (sample i with i mod holdout = holdout - 1: the
 * fine-tuning guard's, docs/FINETUNE.md §4), same layout. */
static snnc_tensor *held_out(const snnc_ann *a, const snnc_tensor *x, int holdout, snnc_err *err)
{
    int64_t T = a->steps, F = a->n_inputs, N = x->dims[a->batch_first ? 0 : 1], n = N / holdout;
    int64_t dims[3] = {a->batch_first ? n : T, a->batch_first ? T : n, F};
    snnc_tensor *s = snnc_tensor_new(SNNC_F32, 3, dims, err);
    for (int64_t b = 0; s && b < n; b++)
        for (int64_t t = 0; t < T; t++) {
            int64_t i = b * holdout + holdout - 1;
            int64_t from = a->batch_first ? (i * T + t) * F : (t * N + i) * F;
            int64_t to = a->batch_first ? (b * T + t) * F : (t * n + b) * F;
            memcpy(snnc_f32(s) + to, snnc_f32(x) + from, (size_t)F * sizeof(float));
        }
    return s;
}

/* --finetune-carry (docs/FINETUNE.md §3a): the network fine-tuned per
 * window (kept or not by the guard) and the one fine-tuned against the
 * carried potential (kept without the guard: its loss is the model's, not
 * the spikes') are both built; the one whose ideal stage agrees more often
 * with the float network on the held-out part of calib is kept (the first
 * on a tie). */
static int build_carry(const void *onnx, size_t size, const char *name, const snnc_tensor *calib,
                       const snnc_constraints *c, const snnc_finetune_opts *ft, bool map, const char *cmd,
                       snnc_pipeline *p, snnc_err *err)
{
    if (!calib || !ft || !ft->carry || ft->steps <= 0)
        return build_coded(onnx, size, name, calib, c, ft, map, cmd, p, err);
    snnc_finetune_opts fa = *ft, fb = *ft;
    fa.carry = false, fb.force_keep = true;
    snnc_pipeline o;
    snnc_tensor *va = NULL;
    int rc = build_coded(onnx, size, name, calib, c, &fa, map, cmd, p, err);
    if (!rc && !(va = held_out(p->ann, calib, ft->holdout, err)))
        rc = err->code ? err->code : SNNC_ENOMEM;
    if (!rc)
        rc = ideal_agreement(p, va, &p->carry_agreement[0], err);
    if (!rc && cmd)
        fprintf(stderr, "snnc %s: finetune carry: per-window fine-tuning built; building the carried one to "
                "compare\n", cmd);
    if (!rc)
        rc = build_coded(onnx, size, name, calib, c, &fb, map, cmd, &o, err);
    if (!rc && (rc = ideal_agreement(&o, va, &o.carry_agreement[1], err)) != SNNC_OK)
        snnc_pipeline_free(&o);
    snnc_tensor_free(va);
    if (rc) {
        snnc_pipeline_free(p);
        return rc;
    }
    o.carry_agreement[0] = p->carry_agreement[0];
    bool carry = o.carry_agreement[1] > o.carry_agreement[0];
    if (cmd)
        fprintf(stderr, "snnc %s: finetune carry: %s (ideal stage's class agreement with the float network on "
                "the held-out calibration part: carried %.4f, per window %.4f)\n", cmd,
                carry ? "carried" : "per window", o.carry_agreement[1], o.carry_agreement[0]);
    if (carry) {
        snnc_pipeline_free(p);
        *p = o;
        p->carry_kept = true;
    } else {
        p->carry_agreement[1] = o.carry_agreement[1];
        snnc_pipeline_free(&o);
    }
    return SNNC_OK;
}

/* tanh coding auto (docs/CONVERSION.md §3): both codings built, the one of
 * higher calibration agreement kept. */
int snnc_pipeline_build_onnx(const void *onnx, size_t size, const char *name,
                             const snnc_tensor *calib, const snnc_constraints *c,
                             const snnc_finetune_opts *ft, bool map, const char *cmd,
                             snnc_pipeline *p, snnc_err *err)
{
    snnc_constraints cc = *c;
    if (c->tanh_coding != SNNC_TANH_AUTO)
        return build_carry(onnx, size, name, calib, c, ft, map, cmd, p, err);
    cc.tanh_coding = SNNC_TANH_PAIR;
    int rc = build_carry(onnx, size, name, calib, &cc, ft, map, cmd, p, err);
    bool tanh = false;
    for (int l = 0; !rc && l < p->ann->n_layers; l++)
        tanh = tanh || p->ann->layers[l].act == SNNC_ACT_TANH;
    if (rc || !tanh || !calib)
        return rc;
    snnc_pipeline o;
    cc.tanh_coding = SNNC_TANH_OFFSET;
    if (cmd)
        fprintf(stderr, "snnc %s: tanh coding: pair built; building offset to compare\n", cmd);
    rc = ideal_agreement(p, calib, &p->tanh_agreement[SNNC_TANH_PAIR], err);
    if (!rc)
        rc = build_carry(onnx, size, name, calib, &cc, ft, map, cmd, &o, err);
    if (!rc && (rc = ideal_agreement(&o, calib, &o.tanh_agreement[SNNC_TANH_OFFSET], err)) != SNNC_OK)
        snnc_pipeline_free(&o);
    if (rc) {
        snnc_pipeline_free(p);
        return rc;
    }
    o.tanh_agreement[SNNC_TANH_PAIR] = p->tanh_agreement[SNNC_TANH_PAIR];
    bool offset = o.tanh_agreement[SNNC_TANH_OFFSET] > o.tanh_agreement[SNNC_TANH_PAIR];
    if (cmd)
        fprintf(stderr, "snnc %s: tanh coding: %s (ideal stage's class agreement with the float network on "
                "the calibration data: offset %.4f, pair %.4f)\n", cmd, offset ? "offset" : "pair",
                o.tanh_agreement[SNNC_TANH_OFFSET], o.tanh_agreement[SNNC_TANH_PAIR]);
    if (offset) {
        snnc_pipeline_free(p);
        *p = o;
    } else {
        p->tanh_agreement[SNNC_TANH_OFFSET] = o.tanh_agreement[SNNC_TANH_OFFSET];
        snnc_pipeline_free(&o);
    }
    return SNNC_OK;
}

static int build_coded(const void *onnx, size_t size, const char *name, const snnc_tensor *calib,
                       const snnc_constraints *c, const snnc_finetune_opts *ft, bool map, const char *cmd,
                       snnc_pipeline *p, snnc_err *err)
{
    memset(p, 0, sizeof *p);
    p->tanh_coding = c->tanh_coding;
    p->tanh_agreement[0] = p->tanh_agreement[1] = -1;
    p->carry_agreement[0] = p->carry_agreement[1] = -1;
    double t = now();
    int rc = extract(onnx, size, name, calib, p, err);
    if (!rc) {
        progress(cmd, "extract", &t);
        rc = snnc_constrain(p->ann, c, calib, &p->constrained, &p->stats, &p->n_stats, err);
    }
    if (!rc)
        progress(cmd, "constrain", &t);
    if (!rc && calib && ft && ft->steps > 0) {
        rc = finetune(p, c, calib, ft, cmd, err);
        if (!rc)
            progress(cmd, "finetune", &t);
    }
    if (!rc) {
        rc = snnc_pipeline_lower(p->ann, p->constrained, p->stats, p->n_stats, c, calib, map,
                                 &p->netlist, err);
    }
    if (!rc) {
        progress(cmd, "lower", &t);
        if (calib && cmd) { /* the long step: say what it does before it starts */
            int64_t neurons = 0;
            for (int q = 0; q < p->netlist->n_pops; q++)
                neurons += p->netlist->pops[q].role == SNNC_POP_INPUT ? 0 : p->netlist->pops[q].n;
            fprintf(stderr, "snnc %s: matching %lld neurons in %d populations to the calibration data...\n",
                    cmd, (long long)neurons, p->netlist->n_pops);
        }
        if (calib)
            rc = snnc_match(p->netlist, p->constrained, p->stats, calib, &p->curves, &p->n_curves,
                            err);
    }
    if (!rc && calib) {
        progress(cmd, "match", &t);
        rc = snnc_tune(p->netlist, p->ann, calib, err);
    }
    if (!rc) {
        progress(cmd, calib ? "tune" : "match", &t);
        if (map)
            rc = tn_map_netlist(p->netlist, NULL, &p->mapping, err);
    }
    if (!rc && map)
        progress(cmd, "map", &t);
    if (rc)
        snnc_pipeline_free(p);
    return rc;
}

/* Sample b of x as [steps][features] (x is [B,T,F] or [T,B,F]). */
static void gather(const snnc_ann *a, const snnc_tensor *x, int64_t b, float *dst)
{
    const float *src = x->data;
    int64_t T = a->steps, F = a->n_inputs, B = x->dims[a->batch_first ? 0 : 1];
    for (int64_t t = 0; t < T; t++) {
        int64_t off = a->batch_first ? (b * T + t) * F : (t * B + b) * F;
        memcpy(dst + t * F, src + off, (size_t)F * sizeof *dst);
    }
}

static int check_input(const snnc_ann *a, const snnc_tensor *x, snnc_err *err)
{
    if (!x || x->dtype != SNNC_F32 || x->rank != 3 || x->dims[2] != a->n_inputs ||
        x->dims[a->batch_first ? 1 : 0] != a->steps)
        return snnc_fail(err, SNNC_EINVALID,
                         "input: expected float32 %s with %d steps of %d features",
                         a->batch_first ? "[batch, steps, features]" : "[steps, batch, features]",
                         a->steps, a->n_inputs);
    return SNNC_OK;
}

int snnc_pipeline_run_truenorth(const tn_mapping *m, const tn_model *model, const snnc_ann *a,
                                const snnc_tensor *x, double *scores, int64_t *cls,
                                tn_activity *act, snnc_err *err)
{
    int rc = check_input(a, x, err);
    if (rc)
        return rc;
    int64_t B = x->dims[a->batch_first ? 0 : 1];
    int T = a->steps, F = a->n_inputs, C = m->n_classes;
    float *xs = malloc((size_t)T * (size_t)F * sizeof *xs);
    int32_t *counts = malloc(((size_t)m->n_readout + 1) * sizeof *counts);
    int64_t *sc = malloc(((size_t)C + 1) * sizeof *sc);
    if (!xs || !counts || !sc)
        rc = snnc_fail(err, SNNC_ENOMEM, "truenorth run: out of memory");
    for (int64_t b = 0; !rc && b < B; b++) {
        tn_input_spike *in = NULL;
        size_t n_in = 0;
        tn_sim *s = NULL;
        tn_map_result res = {counts, sc, -1};
        gather(a, x, b, xs);
        rc = tn_map_encode_input(m, xs, T, F, 0, &in, &n_in, err);
        if (!rc)
            rc = tn_sim_new(model, 1, &s, err);
        int64_t ticks0 = act ? act->ticks : 0;
        if (!rc)
            rc = tn_map_run_sample(m, s, in, n_in, 0, &res, act, err);
        if (!rc && act) /* a sample occupies the chip for its whole latency */
            act->ticks = ticks0 + tn_map_ticks(m);
        if (!rc) {
            for (int k = 0; scores && k < C; k++)
                scores[b * C + k] = (double)sc[k];
            if (cls)
                cls[b] = res.cls;
        }
        tn_sim_free(s);
        free(in);
    }
    if (act)
        act->cores = model->n_cores;
    free(xs), free(counts), free(sc);
    return rc;
}

int snnc_pipeline_step_gap(const snnc_pipeline *p, const snnc_tensor *x, const snnc_sim_result *r,
                           json_t **out, snnc_err *err)
{
    *out = NULL;
    snnc_count_trace tr;
    snnc_step_gap g;
    int rc = snnc_count_forward(p->constrained, p->stats, x, &tr, err);
    if (rc)
        return rc;
    rc = snnc_step_gap_measure(p->netlist, p->constrained, p->stats, &tr, r, &g, err);
    snnc_count_trace_free(&tr);
    if (rc)
        return rc;
    *out = snnc_step_gap_json(&g);
    snnc_step_gap_free(&g);
    return *out ? SNNC_OK : snnc_fail(err, SNNC_ENOMEM, "out of memory");
}

void snnc_pipeline_power(const tn_activity *act, int64_t samples, snnc_power_report *out)
{
    const snnc_power_model *pm = tn_power_model();
    double n = samples > 0 ? (double)samples : 1.0;
    double counts[3] = {(double)act->synaptic_events / n, (double)act->spikes / n,
                        (double)act->hops / n};
    snnc_power_estimate(pm, (double)act->cores, (double)act->ticks / n, counts, out);
}
