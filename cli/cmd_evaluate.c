/* cmd_evaluate.c — `snnc simulate OUTDIR --input [NAME=]FILE [--labels
 * FILE.npy] [--output FILE.npy] [--json]` (dispatched from cmd_simulate.c
 * when its argument is a directory): rebuilds the conversion of OUTDIR from
 * its model.onnx, calib.npy and the options in report.json, all checked
 * first against the manifest and field by field (cli_outdir.h)
 * (mapper/pipeline.h), and evaluates four stages on the input batch: float
 * ANN, constrained ANN, ideal spiking (the netlist), TrueNorth (the emitted
 * truenorth/model.json read back, bit-exact simulator); accuracies,
 * activity, energy, per-step agreement of the hidden states, and the
 * per-step gap between the constrained network and the ideal stage
 * (mapper/step_gap.c). */
#include <jansson.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../ir/error.h"
#include "../ir/tensor.h"
#include "cli.h"
#include "cli_options.h"
#include "cli_outdir.h"
#include "mapper/pipeline.h"

static const char usage[] =
    "usage: snnc simulate OUTDIR --input [NAME=]FILE [--labels FILE.npy] [--output FILE.npy]\n"
    "                     [--json]\n\n"
    "Evaluate a conversion (OUTDIR of 'snnc convert') on an input batch at four stages: float\n"
    "ANN, constrained ANN, ideal spiking netlist, TrueNorth (OUTDIR/truenorth/model.json,\n"
    "bit-exact).  Accuracy is argmax against integer labels (null without --labels).\n"
    "  --input [NAME=]FILE  input batch (.npy/.pb) shaped like the model's input: at least\n"
    "                       one sample, every value finite\n"
    "  --labels FILE.npy    class labels, one per sample: integers 0..classes-1 (integer or\n"
    "                       integral float values)\n"
    "  --output FILE.npy    TrueNorth class scores [batch, classes] (float32)\n"
    "  --json               one object: samples, accuracy {ann, constrained, ideal, truenorth},\n"
    "                       ticks_per_sample, spikes_per_sample, synaptic_events_per_sample,\n"
    "                       energy_per_sample_j, cores, hidden_agreement, step_gap, ...\n";

typedef struct eopts {
    const char *dir, *input, *labels, *output;
    bool json;
} eopts;

static int parse(int argc, char **argv, eopts *o, bool *help)
{
    memset(o, 0, sizeof *o);
    const char *once = "the network has one input";
    const snnc_cli_option table[] = {
        SNNC_OPT_FLAG_("--json", &o->json),
        SNNC_OPT_ONCE_("--input", &o->input, once),
        SNNC_OPT_ONCE_("--labels", &o->labels, once),
        SNNC_OPT_ONCE_("--output", &o->output, once),
        SNNC_OPT_END,
    };
    int st = snnc_cli_parse("simulate", usage, argc, argv, table, &o->dir, help);
    if (st || *help)
        return st;
    if (!o->input)
        return snnc_cli_usage("simulate", "--input FILE is required with an OUTDIR");
    return 0;
}

static int64_t argmax_f(const float *v, int n)
{
    int best = 0;
    for (int k = 1; k < n; k++)
        best = v[k] > v[best] ? k : best;
    return best;
}

static int64_t argmax_d(const double *v, int n)
{
    int best = 0;
    for (int k = 1; k < n; k++)
        best = v[k] > v[best] ? k : best;
    return best;
}

static json_t *accuracy(const int64_t *cls, const int64_t *labels, int64_t B)
{
    if (!labels || B == 0)
        return json_null();
    int64_t ok = 0;
    for (int64_t b = 0; b < B; b++)
        ok += cls[b] == labels[b];
    return json_real((double)ok / (double)B);
}

/* Ideal-stage hidden values [T][B][H] of the recurrent layer: the signed
 * counts of its population(s) times activity_range / W (count domain); an
 * offset-coded layer's counts k stand for a (2k/W - 1). */
static float *ideal_hidden(const snnc_pipeline *p, const snnc_sim_result *r, int lrec)
{
    const snnc_netlist *n = p->netlist;
    int T = n->steps, H = p->ann->layers[lrec].n_out;
    int64_t B = r->batch;
    float *h = calloc((size_t)T * (size_t)B * (size_t)H, sizeof *h);
    double step = (double)p->stats[lrec].activity_range / n->window, base = 0;
    if (snnc_lower_offset_coded(p->constrained, lrec))
        base = -(double)p->stats[lrec].activity_range, step *= 2;
    for (int pop = 0; h && pop < n->n_pops; pop++) {
        if (snnc_lower_layer_of(n, pop) != lrec || n->pops[pop].role == SNNC_POP_PARTIAL)
            continue; /* a split layer's partial sums are not its output */
        for (int t = 0; t < T; t++)
            for (int64_t b = 0; b < B; b++)
                for (int j = 0; j < H && j < n->pops[pop].n; j++)
                    h[((size_t)t * B + b) * H + j] +=
                        (float)(base + n->pops[pop].sign * step *
                                r->counts[((size_t)t * B + b) * r->n_neurons + r->pop_offset[pop] + j]);
    }
    return h;
}

/* Per step: ||a - b|| / ||a|| and the fraction of values within tol. */
static json_t *agreement(const float *a, const float *b, int T, int64_t B, int H, double tol)
{
    json_t *arr = json_array();
    for (int t = 0; t < T; t++) {
        double num = 0, den = 0;
        int64_t close = 0, n = B * H;
        for (int64_t k = 0; k < n; k++) {
            double x = a[(size_t)t * n + k], y = b[(size_t)t * n + k];
            num += (x - y) * (x - y), den += x * x;
            close += fabs(x - y) <= tol;
        }
        json_array_append_new(arr, json_pack("{s:i, s:f, s:f}", "step", t, "rel_rms",
                                             den > 0 ? sqrt(num / den) : sqrt(num), "within_half_level",
                                             n ? (double)close / (double)n : 1.0));
    }
    return arr;
}

typedef struct stages {
    int64_t B;
    int C;
    int64_t *cls[4];            /* ann, constrained, ideal, truenorth */
    snnc_tensor *out_f, *out_q, *hid_f, *hid_q;
    snnc_sim_result ideal;
    json_t *gap;                /* constrained vs ideal per step (mapper/step_gap.c) */
    double *tn_scores;
    tn_activity act;
} stages;

static void stages_free(stages *s)
{
    for (int k = 0; k < 4; k++)
        free(s->cls[k]);
    snnc_tensor_free(s->out_f), snnc_tensor_free(s->out_q);
    snnc_tensor_free(s->hid_f), snnc_tensor_free(s->hid_q);
    snnc_sim_result_free(&s->ideal);
    json_decref(s->gap);
    free(s->tn_scores);
}

static int run_stages(const snnc_pipeline *p, const tn_model *model, const snnc_tensor *x,
                      stages *s, snnc_err *err)
{
    s->B = x->dims[p->ann->batch_first ? 0 : 1];
    s->C = p->mapping->n_classes;
    for (int k = 0; k < 4; k++)
        if (!(s->cls[k] = calloc((size_t)s->B + 1, sizeof *s->cls[k])))
            return snnc_fail(err, SNNC_ENOMEM, "out of memory");
    if (!(s->tn_scores = calloc((size_t)(s->B * s->C) + 1, sizeof *s->tn_scores)))
        return snnc_fail(err, SNNC_ENOMEM, "out of memory");
    int rc = snnc_ann_run(p->ann, x, &s->out_f, &s->hid_f, err);
    if (!rc)
        rc = snnc_ann_run(p->constrained, x, &s->out_q, &s->hid_q, err);
    if (!rc) {
        fprintf(stderr, "snnc simulate: ideal spiking stage\n");
        rc = snnc_netlist_simulate(p->netlist, x, p->ann->batch_first, &s->ideal, err);
    }
    if (!rc)
        rc = snnc_pipeline_step_gap(p, x, &s->ideal, &s->gap, err);
    if (!rc) {
        fprintf(stderr, "snnc simulate: TrueNorth stage (%lld samples)\n", (long long)s->B);
        rc = snnc_pipeline_run_truenorth(p->mapping, model, p->ann, x, s->tn_scores, s->cls[3],
                                         &s->act, err);
    }
    if (rc)
        return rc;
    int Cf = (int)s->out_f->dims[1];
    for (int64_t b = 0; b < s->B; b++) {
        s->cls[0][b] = argmax_f(snnc_f32(s->out_f) + b * Cf, Cf);
        s->cls[1][b] = argmax_f(snnc_f32(s->out_q) + b * Cf, Cf);
        s->cls[2][b] = argmax_d(s->ideal.scores + b * s->ideal.n_classes, s->ideal.n_classes);
    }
    return SNNC_OK;
}

static json_t *result_json(const snnc_pipeline *p, const stages *s, const int64_t *labels)
{
    double B = (double)(s->B ? s->B : 1);
    snnc_power_report pr;
    snnc_pipeline_power(&s->act, s->B, &pr);
    json_t *acc = json_object();
    const char *names[4] = {"ann", "constrained", "ideal", "truenorth"};
    for (int k = 0; k < 4; k++)
        json_object_set_new(acc, names[k], accuracy(s->cls[k], labels, s->B));
    json_t *agree = json_object();
    for (int k = 1; k < 4; k++) {
        int64_t same = 0;
        for (int64_t b = 0; b < s->B; b++)
            same += s->cls[k][b] == s->cls[0][b];
        json_object_set_new(agree, names[k], json_real((double)same / B));
    }
    int64_t identical = 0;
    for (int64_t b = 0; b < s->B; b++) {
        bool eq = true;
        for (int k = 0; k < s->C && k < s->ideal.n_classes; k++)
            eq &= s->tn_scores[b * s->C + k] == s->ideal.scores[b * s->ideal.n_classes + k];
        identical += eq;
    }
    json_t *o = json_object();
    json_object_set_new(o, "samples", json_integer(s->B));
    json_object_set_new(o, "accuracy", acc);
    json_object_set_new(o, "ticks_per_sample", json_real((double)s->act.ticks / B));
    json_object_set_new(o, "spikes_per_sample", json_real((double)s->act.spikes / B));
    json_object_set_new(o, "synaptic_events_per_sample",
                        json_real((double)s->act.synaptic_events / B));
    json_object_set_new(o, "energy_per_sample_j", json_real(pr.energy_j));
    json_object_set_new(o, "cores", json_integer(s->act.cores));
    json_object_set_new(o, "power_w", json_real(pr.total_power_w));
    json_object_set_new(o, "class_agreement_with_ann", agree);
    json_object_set_new(o, "truenorth_scores_equal_ideal", json_real((double)identical / B));
    json_object_set_new(o, "ideal_spikes_per_sample", json_real((double)s->ideal.spikes / B));
    int lrec = -1;
    for (int l = 0; l < p->ann->n_layers; l++)
        lrec = p->ann->layers[l].role == SNNC_ANN_RECURRENT ? l : lrec;
    if (lrec >= 0 && s->hid_f && s->hid_q) {
        int T = p->ann->steps, H = p->ann->layers[lrec].n_out;
        const float *us = p->stats[lrec].unit_scale; /* per-neuron ranges: the constrained units */
        for (int64_t k = 0; us && k < s->hid_f->count; k++)
            snnc_f32(s->hid_f)[k] /= us[k % H];
        double half = 0.5 * p->stats[lrec].activity_range / p->netlist->window;
        float *hi = ideal_hidden(p, &s->ideal, lrec);
        json_t *h = json_object();
        json_object_set_new(h, "layer", json_string(p->ann->layers[lrec].name));
        json_object_set_new(h, "ann_vs_constrained",
                            agreement(snnc_f32(s->hid_f), snnc_f32(s->hid_q), T, s->B, H, half));
        if (hi)
            json_object_set_new(h, "constrained_vs_ideal",
                                agreement(snnc_f32(s->hid_q), hi, T, s->B, H, half));
        free(hi);
        json_object_set_new(o, "hidden_agreement", h);
    }
    if (s->gap)
        json_object_set(o, "step_gap", s->gap);
    return o;
}

/* The step gap's table: per layer and step the constrained network's mean
 * |count|, the relative mean absolute and RMS difference of the ideal
 * stage, its exact fraction and its one-step error. */
static void print_gap(const json_t *g)
{
    size_t i;
    const json_t *L;
    printf("\nconstrained vs ideal per step (counts; bias, mae, rms relative to the mean count; "
           "one-step: this window's own error)\nsame class: %.2f %%\n",
           100 * json_number_value(json_object_get(g, "class_agreement")));
    json_array_foreach(json_object_get(g, "layers"), i, L) {
        const char *keys[] = {"mean_count", "bias", "mae", "rms", "exact", "one_step_mae", "one_step_exact"};
        printf("  %s\n  %4s %10s %8s %8s %8s %8s %12s %14s\n", json_string_value(json_object_get(L, "layer")),
               "step", keys[0], keys[1], keys[2], keys[3], keys[4], keys[5], keys[6]);
        for (size_t t = 0; t < json_array_size(json_object_get(L, keys[0])); t++) {
            double v[7];
            for (int k = 0; k < 7; k++)
                v[k] = json_number_value(json_array_get(json_object_get(L, keys[k]), t));
            printf("  %4zu %10.3f %8.4f %8.4f %8.4f %8.4f %12.4f %14.4f\n", t, v[0], v[1], v[2], v[3], v[4],
                   v[5], v[6]);
        }
    }
}

static void print_text(const json_t *o)
{
    const json_t *acc = json_object_get(o, "accuracy"), *ag = json_object_get(o, "class_agreement_with_ann");
    const char *names[4] = {"ann", "constrained", "ideal", "truenorth"};
    printf("samples              %lld\n", (long long)json_integer_value(json_object_get(o, "samples")));
    printf("%-20s %10s %18s\n", "stage", "accuracy", "same class as ANN");
    for (int k = 0; k < 4; k++) {
        const json_t *a = json_object_get(acc, names[k]), *g = json_object_get(ag, names[k]);
        char as[32] = "-", gs[32] = "-";
        if (json_is_number(a))
            snprintf(as, sizeof as, "%.2f %%", 100 * json_number_value(a));
        if (json_is_number(g))
            snprintf(gs, sizeof gs, "%.2f %%", 100 * json_number_value(g));
        printf("%-20s %10s %18s\n", names[k], as, k ? gs : "");
    }
    printf("truenorth = ideal    %.2f %% of samples with identical scores\n",
           100 * json_number_value(json_object_get(o, "truenorth_scores_equal_ideal")));
    printf("ticks/sample         %.6g\nspikes/sample        %.6g\nsyn. events/sample   %.6g\n",
           json_number_value(json_object_get(o, "ticks_per_sample")),
           json_number_value(json_object_get(o, "spikes_per_sample")),
           json_number_value(json_object_get(o, "synaptic_events_per_sample")));
    printf("cores                %lld\npower                %.6g W\nenergy/sample        %.6g J\n",
           (long long)json_integer_value(json_object_get(o, "cores")),
           json_number_value(json_object_get(o, "power_w")),
           json_number_value(json_object_get(o, "energy_per_sample_j")));
    const json_t *h = json_object_get(o, "hidden_agreement");
    if (h) {
        const json_t *a = json_object_get(h, "ann_vs_constrained"), *b = json_object_get(h, "constrained_vs_ideal");
        printf("\nhidden states of %s per step (rel. RMS difference; fraction within half a level)\n",
               json_string_value(json_object_get(h, "layer")));
        printf("  %4s %24s %24s\n", "step", "ann vs constrained", "constrained vs ideal");
        for (size_t t = 0; t < json_array_size(a); t++) {
            const json_t *x = json_array_get(a, t), *y = json_array_get(b, t);
            printf("  %4zu %11.4f %11.2f %% %11.4f %11.2f %%\n", t,
                   json_number_value(json_object_get(x, "rel_rms")),
                   100 * json_number_value(json_object_get(x, "within_half_level")),
                   json_number_value(json_object_get(y, "rel_rms")),
                   100 * json_number_value(json_object_get(y, "within_half_level")));
        }
    }
    if (json_object_get(o, "step_gap"))
        print_gap(json_object_get(o, "step_gap"));
}

static int write_scores(const char *path, const stages *s, snnc_err *err)
{
    int64_t dims[2] = {s->B, s->C};
    snnc_tensor *t = snnc_tensor_new(SNNC_F32, 2, dims, err);
    if (!t)
        return err->code ? err->code : SNNC_ENOMEM;
    for (int64_t k = 0; k < s->B * s->C; k++)
        snnc_f32(t)[k] = (float)s->tn_scores[k];
    snnc_cli_outputs files = {0};
    const char *tmp = snnc_cli_outputs_add(&files, path, err);
    int rc = tmp ? snnc_npy_write(tmp, t, err) : err->code;
    if (!rc) {
        rc = snnc_cli_outputs_commit(&files, err);
    } else {
        snnc_cli_err_rename(err, tmp, path); /* the file the user asked for */
        snnc_cli_outputs_abort(&files);
    }
    snnc_tensor_free(t);
    return rc;
}

static int evaluate(const eopts *o, snnc_err *err)
{
    char *mpath = snnc_cli_path_join(o->dir, "model.onnx");
    char *cpath = snnc_cli_path_join(o->dir, "calib.npy"), *tpath = snnc_cli_path_join(o->dir, "truenorth/model.json");
    json_t *rep = NULL;
    snnc_tensor *calib = NULL, *x = NULL;
    snnc_pipeline p = {0};
    tn_model *model = NULL;
    int64_t *labels = NULL;
    stages s = {0};
    char *buf = NULL;
    const char *name = NULL, *file = NULL;
    snnc_constraints c;
    snnc_finetune_opts ft;
    int64_t *ft_labels = NULL;
    bool with_labels = false;
    int rc = mpath && cpath && tpath ? SNNC_OK : snnc_fail(err, SNNC_ENOMEM, "out of memory");
    if (!rc && !(rc = snnc_outdir_open(o->dir, &rep, err))) {
        snnc_outdir_constraints(rep, &c);
        with_labels = snnc_outdir_finetune(rep, &ft);
    }
    if (!rc && with_labels) { /* convert's copy of --finetune-labels */
        char *lpath = snnc_cli_path_join(o->dir, "calib_labels.npy");
        rc = lpath ? snnc_cli_read_labels_as("calibration labels copy", lpath, -1, INT_MAX, true,
                                             &ft_labels, &ft.n_labels, err)
                   : snnc_fail(err, SNNC_ENOMEM, "out of memory");
        ft.labels = ft_labels;
        free(lpath);
    }
    if (!rc && json_is_string(json_object_get(rep, "calib")) &&
        !(rc = snnc_cli_read_f32(cpath, &calib, err)))
        rc = snnc_cli_check_batch(calib, "calibration copy", cpath, err);
    if (!rc) {
        snnc_cli_split_binding(o->input, &buf, &name, &file);
        rc = snnc_cli_read_f32(file, &x, err);
        if (!rc)
            rc = snnc_cli_check_batch(x, "--input", file, err);
    }
    if (!rc && (rc = snnc_pipeline_build(mpath, calib, &c, &ft, true, "simulate", &p, err))) {
        snnc_cli_err_data_file(err, "calibration", "calibration copy", cpath);
        if (rc == SNNC_EUSAGE) { /* a constraint the network cannot realise: the report's */
            snnc_err_prefix(err, "%s/report.json: constraints", o->dir);
            rc = err->code = SNNC_EINVALID;
        }
    }
    if (!rc && name && strcmp(name, p.ann->input_name))
        rc = snnc_fail(err, SNNC_EUSAGE, "--input %s: the model's input is '%s'", name,
                       p.ann->input_name);
    if (!rc)
        rc = tn_model_read(tpath, &model, err);
    if (!rc && model->n_cores != p.mapping->model->n_cores) /* digests aside: not this network's */
        rc = snnc_fail(err, SNNC_EINVALID, "%s: %d cores; this conversion maps to %d: the model "
                       "belongs to another conversion", tpath, model->n_cores,
                       p.mapping->model->n_cores);
    if (!rc && o->labels)
        rc = snnc_cli_read_labels(o->labels, x->dims[p.ann->batch_first ? 0 : 1],
                                  p.mapping->n_classes, &labels, err);
    if (!rc && (rc = run_stages(&p, model, x, &s, err)))
        snnc_cli_err_data_file(err, "input:", "--input", file);
    if (!rc && o->output)
        rc = write_scores(o->output, &s, err);
    if (!rc) {
        json_t *res = result_json(&p, &s, labels);
        if (o->json) {
            json_dumpf(res, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(12));
            printf("\n");
        } else {
            print_text(res);
        }
        json_decref(res);
    }
    stages_free(&s);
    free(labels);
    free(ft_labels);
    tn_model_free(model);
    snnc_pipeline_free(&p);
    snnc_tensor_free(x), snnc_tensor_free(calib);
    json_decref(rep);
    free(buf), free(mpath), free(cpath), free(tpath);
    return rc;
}

int snnc_cmd_evaluate(int argc, char **argv)
{
    eopts o;
    bool help = false;
    int st = parse(argc, argv, &o, &help);
    if (st)
        return st;
    if (help)
        return SNNC_EXIT_OK; /* usage printed */
    snnc_err err = {0};
    if (o.output && snnc_cli_output_check("--output", o.output, false, true, NULL, &err))
        return snnc_cli_fail("simulate", &err);
    return evaluate(&o, &err) ? snnc_cli_fail("simulate", &err) : SNNC_EXIT_OK;
}
