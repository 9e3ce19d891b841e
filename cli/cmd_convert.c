/* cmd_convert.c — `snnc convert MODEL.onnx --target truenorth -o OUTDIR
 * [--calib [NAME=]FILE] [constraint options] [--force]`: the pass list of
 * mapper/pipeline.h, then OUTDIR/{truenorth/model.json, network.json,
 * plots/NAME.svg, report.json, report.txt, model.onnx, constrained.onnx, calib.npy, manifest.json
 * (cli_outdir.h: the digests of the others)}.  Built in
 * OUTDIR.tmp-PID and renamed at the end: a failed convert leaves no OUTDIR.
 * Files hold no times, so the same inputs and seed give the same bytes. */
#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../ir/error.h"
#include "cli.h"
#include "cli_options.h"
#include "io/file.h"
#include "cli_outdir.h"
#include "exporter/exporter.h"
#include "mapper/pipeline.h"

/* Default fine-tuning steps (docs/FINETUNE.md: measured on examples/fashion28). */
#define FT_DEFAULT_STEPS 400
#define FT_DEFAULT_STEPS_S "400"

static const char usage[] =
    "usage: snnc convert MODEL.onnx --target truenorth -o OUTDIR [--calib [NAME=]FILE]\n"
    "                    [--weight-levels 16] [--activity-levels 16] [--fan-in 64]\n"
    "                    [--fan-in-strategy split|prune] [--rounding nearest|stochastic]\n"
    "                    [--seed N] [--scale neuron|layer] [--prune-rescale]\n"
    "                    [--percentile P] [--no-compensate] [--no-range-search]\n"
    "                    [--tanh-coding auto|offset|pair]\n"
    "                    [--no-bias-correction] [--no-per-neuron-ranges] [--no-method-search]\n"
    "                    [--finetune-steps N] [--finetune-labels FILE.npy] [--finetune-seed N]\n"
    "                    [--finetune-lr R] [--finetune-noise C] [--finetune-carry]\n"
    "                    [--finetune-label-weight A] [--force]\n\n"
    "Convert a trained Elman network to a TrueNorth model (docs/CONVERSION.md):\n"
    "extract -> constrain -> lower -> match -> map -> emit.  Writes OUTDIR/truenorth/model.json,\n"
    "OUTDIR/network.json, OUTDIR/plots/*.svg, OUTDIR/report.json, OUTDIR/report.txt, and\n"
    "copies of the model and calibration data that 'snnc simulate OUTDIR' rebuilds from, and\n"
    "OUTDIR/manifest.json, the SHA-256 of every part, which simulate and report verify.\n"
    "  --calib [NAME=]FILE     calibration input batch (.npy/.pb) shaped like the model input:\n"
    "                          activity ranges, response matching, dynamic power\n"
    "  --weight-levels N       weight levels (default 16: codes -8..7; 2..16, the 4 axon types)\n"
    "  --activity-levels N     activity levels = spikes per window + 1 (default 16; 2..16,\n"
    "                          a window is at most the 15-tick largest delay)\n"
    "  --fan-in N              inputs per neuron (default 64; 1..64 = 256 axons / 4; a split\n"
    "                          network needs its partial sums to fit a core: a fan-in it\n"
    "                          cannot realise is refused before any matching, naming the\n"
    "                          values it accepts, as 'snnc check' does)\n"
    "  --fan-in-strategy S     split (default) or prune\n"
    "  --rounding R            nearest (default) or stochastic\n"
    "  --seed N                seed of stochastic rounding (default 1; 0..2^62)\n"
    "  --scale S               weight scales per neuron (default) or per layer\n"
    "  --prune-rescale         prune: rescale the kept weights to the row's L1 norm\n"
    "  --percentile P          activity range: this percentile of the calibration\n"
    "                          activities (default 99.9; 50..100: below the median most\n"
    "                          activities would saturate and ranges degenerate)\n"
    "  --no-compensate         no rounding-error compensation with the calibration data\n"
    "  --no-range-search       activity ranges at the percentile (default with calibration\n"
    "                          data: each layer's range chosen among multiples of it by the\n"
    "                          KL from the float outputs; report.json layers[].range_*)\n"
    "  --tanh-coding C         tanh activities on a pair of channels relu(h), relu(-h)\n"
    "                          (pair) or one offset-coded channel, counts k for h =\n"
    "                          a (2k/W - 1) (offset: half the channels, twice the count\n"
    "                          unit); auto (default): with --calib both are built and the\n"
    "                          one whose ideal spiking stage agrees better with the float\n"
    "                          network on the calibration data is kept (report.json\n"
    "                          tanh_coding_agreement), else pair\n"
    "  --no-bias-correction    no recurrence-aware bias correction with the calibration data\n"
    "  --no-per-neuron-ranges  one activity range per layer (default with calibration data:\n"
    "                          each ReLU unit its own, absorbed into the downstream weights)\n"
    "  --no-method-search      use every method allowed above (default: compensation, bias\n"
    "                          correction and per-neuron ranges chosen per network, among\n"
    "                          those allowed, by the KL from the float outputs on the\n"
    "                          calibration batch; report.json constraint_method)\n"
    "  --finetune-steps N      with --calib: fine-tune the constrained network N steps toward\n"
    "                          the float network's outputs on the calibration batch, kept only\n"
    "                          if its held-out quarter agrees better (default " FT_DEFAULT_STEPS_S "; 0 = off;\n"
    "                          docs/FINETUNE.md; report.json finetune)\n"
    "  --finetune-labels FILE  int64/int32 class labels of the calibration samples: fine-tune\n"
    "                          with cross-entropy too (copied to OUTDIR/calib_labels.npy)\n"
    "  --finetune-seed N       seed of the minibatches and the count noise (default 1)\n"
    "  --finetune-lr R         Adam step in weight codes (default 0.01; 0..1)\n"
    "  --finetune-noise C      training noise on activities, in spike counts (default 0)\n"
    "  --finetune-carry        train against the spiking neuron's carried potential (each\n"
    "                          window's remainder kept for the next; docs/FINETUNE.md)\n"
    "  --finetune-label-weight A  with --finetune-labels: loss = KL + A x cross-entropy (0.3)\n"
    "  --force                 replace an existing OUTDIR (otherwise refused)\n"
    "The output is built in OUTDIR.tmp-PID and renamed when complete (OUTDIR a symbolic link:\n"
    "beside the directory it leads to, the link kept); on failure nothing is left.\n"
    "Exit 2 for models that cannot be converted (the message names the layer).\n"
    "Progress and timings go to stderr.\n";

typedef struct opts {
    const char *model, *target, *outdir, *calib_arg, *ft_labels;
    snnc_constraints c;
    snnc_finetune_opts ft;
    bool ft_steps_given;
    bool force, help;
} opts;

static const char *const fanin_words[] = {"split", "prune", NULL};
static const char *const rounding_words[] = {"nearest", "stochastic", NULL};
static const char *const scale_words[] = {"neuron", "layer", NULL};
static const char *const tanh_words[] = {"offset", "pair", "auto", NULL}; /* snnc_tanh_coding order */

static int parse_args(int argc, char **argv, opts *o)
{
    memset(o, 0, sizeof *o);
    snnc_constraints_default(&o->c);
    long long seed = (long long)o->c.seed;
    int fanin = o->c.fanin == SNNC_FANIN_PRUNE, rounding = o->c.rounding == SNNC_ROUND_STOCHASTIC;
    int scale = o->c.scale == SNNC_SCALE_LAYER, tanh_coding = (int)o->c.tanh_coding;
    bool no_compensate = false, no_range_search = false, no_bias = false, no_units = false, no_method = false;
    snnc_finetune_default(&o->ft);
    o->ft.steps = -1;
    long long ft_seed = (long long)o->ft.seed;
    const snnc_cli_option table[] = {
        SNNC_OPT_INT_("--finetune-steps", &o->ft.steps, 0, 100000),
        SNNC_OPT_ONCE_("--finetune-labels", &o->ft_labels, "one labels file"),
        SNNC_OPT_INT64_("--finetune-seed", &ft_seed, 0, SNNC_SEED_MAX),
        SNNC_OPT_REAL_CLOSED_("--finetune-lr", &o->ft.lr, 0, 1),
        SNNC_OPT_REAL_CLOSED_("--finetune-noise", &o->ft.noise, 0, 4),
        SNNC_OPT_FLAG_("--finetune-carry", &o->ft.carry),
        SNNC_OPT_REAL_CLOSED_("--finetune-label-weight", &o->ft.label_weight, 0, 100),
        SNNC_OPT_FLAG_("--force", &o->force),
        SNNC_OPT_TEXT_("--target", &o->target),
        SNNC_OPT_TEXT_("--output", &o->outdir),
        SNNC_OPT_TEXT_("-o", &o->outdir),
        SNNC_OPT_ONCE_("--calib", &o->calib_arg, "the network has one input"),
        SNNC_OPT_INT_("--weight-levels", &o->c.weight_levels, 2, SNNC_TN_WEIGHT_LEVELS_MAX),
        SNNC_OPT_INT_("--activity-levels", &o->c.activity_levels, 2, SNNC_TN_ACTIVITY_LEVELS_MAX),
        SNNC_OPT_INT_("--fan-in", &o->c.fan_in, 1, SNNC_TN_FAN_IN_MAX),
        SNNC_OPT_INT64_("--seed", &seed, 0, SNNC_SEED_MAX),
        SNNC_OPT_CHOICE_("--fan-in-strategy", &fanin, fanin_words),
        SNNC_OPT_CHOICE_("--rounding", &rounding, rounding_words),
        SNNC_OPT_CHOICE_("--scale", &scale, scale_words),
        SNNC_OPT_CHOICE_("--tanh-coding", &tanh_coding, tanh_words),
        SNNC_OPT_FLAG_("--prune-rescale", &o->c.prune_rescale),
        SNNC_OPT_REAL_CLOSED_("--percentile", &o->c.percentile, SNNC_PERCENTILE_MIN, 100),
        SNNC_OPT_FLAG_("--no-compensate", &no_compensate),
        SNNC_OPT_FLAG_("--no-range-search", &no_range_search),
        SNNC_OPT_FLAG_("--no-bias-correction", &no_bias),
        SNNC_OPT_FLAG_("--no-per-neuron-ranges", &no_units),
        SNNC_OPT_FLAG_("--no-method-search", &no_method),
        SNNC_OPT_END,
    };
    int st = snnc_cli_parse("convert", usage, argc, argv, table, &o->model, &o->help);
    if (st || o->help)
        return st;
    o->c.seed = (uint64_t)seed;
    o->c.fanin = fanin ? SNNC_FANIN_PRUNE : SNNC_FANIN_SPLIT;
    o->c.rounding = rounding ? SNNC_ROUND_STOCHASTIC : SNNC_ROUND_NEAREST;
    o->c.scale = scale ? SNNC_SCALE_LAYER : SNNC_SCALE_NEURON;
    o->c.compensate = o->c.compensate && !no_compensate;
    o->c.range_search = !no_range_search;
    o->c.tanh_coding = (snnc_tanh_coding)tanh_coding;
    o->c.bias_correct = !no_bias;
    o->c.per_neuron_ranges = !no_units;
    o->c.method_search = !no_method;
    o->ft.seed = (uint64_t)ft_seed;
    o->ft_steps_given = o->ft.steps >= 0;
    if (!o->ft_steps_given)
        o->ft.steps = o->calib_arg ? FT_DEFAULT_STEPS : 0;
    if (!o->calib_arg && (o->ft_labels || o->ft.steps > 0))
        return snnc_cli_usage("convert", "%s needs --calib (fine-tuning runs on the calibration batch)",
                              o->ft_labels ? "--finetune-labels" : "--finetune-steps");
    if (!o->model)
        return snnc_cli_usage("convert", "no MODEL.onnx given");
    if (!o->target || strcmp(o->target, "truenorth"))
        return snnc_cli_usage("convert", "--target truenorth is required (the only target)");
    if (!o->outdir || !o->outdir[0])
        return snnc_cli_usage("convert", "-o OUTDIR is required");
    return 0;
}

/* ------------------------------------------------------------ helpers */

int snnc_cli_read_f32(const char *path, snnc_tensor **out, snnc_err *err)
{
    snnc_tensor *t = NULL;
    int rc = snnc_cli_read_tensor(path, &t, err);
    if (rc)
        return rc;
    if (t->dtype == SNNC_F64) {
        snnc_tensor *f = snnc_tensor_new(SNNC_F32, t->rank, t->dims, err);
        if (!f) {
            snnc_tensor_free(t);
            return err->code ? err->code : SNNC_ENOMEM;
        }
        for (int64_t i = 0; i < t->count; i++)
            ((float *)f->data)[i] = (float)((const double *)t->data)[i];
        snnc_tensor_free(t);
        t = f;
    }
    if (t->dtype != SNNC_F32) {
        snnc_tensor_free(t);
        return snnc_fail(err, SNNC_EINVALID, "%s: expected float32 or float64 values", path);
    }
    *out = t;
    return SNNC_OK;
}

/* The model's bytes as read (a FIFO or a pipe cannot be read twice). */
static int write_bytes(const void *data, size_t size, const char *to, snnc_err *err)
{
    FILE *out = fopen(to, "wb");
    if (!out)
        return snnc_fail(err, SNNC_EIO, "%s: %s", to, strerror(errno));
    bool ok = fwrite(data, 1, size, out) == size;
    if (fclose(out) || !ok)
        return snnc_fail(err, SNNC_EIO, "%s: write error", to);
    return SNNC_OK;
}

/* ------------------------------------------------------------- report */

static const char *fanin_name(snnc_fanin_strategy s) { return s == SNNC_FANIN_PRUNE ? "prune" : "split"; }
static const char *rounding_name(snnc_rounding r)
{
    return r == SNNC_ROUND_STOCHASTIC ? "stochastic" : "nearest";
}

static json_t *constraints_json(const snnc_constraints *c)
{
    return json_pack("{s:i, s:i, s:i, s:s, s:s, s:I, s:f, s:s, s:b, s:b, s:b, s:s, s:b, s:b, s:b}", "weight_levels",
                     c->weight_levels, "activity_levels", c->activity_levels, "fan_in", c->fan_in,
                     "fan_in_strategy", fanin_name(c->fanin), "rounding", rounding_name(c->rounding),
                     "seed", (json_int_t)c->seed, "percentile", c->percentile, "scale",
                     c->scale == SNNC_SCALE_LAYER ? "layer" : "neuron", "compensate",
                     c->compensate, "prune_rescale", c->prune_rescale, "range_search", c->range_search,
                     "tanh_coding", tanh_words[c->tanh_coding],
                     "bias_correct", c->bias_correct, "per_neuron_ranges", c->per_neuron_ranges,
                     "method_search", c->method_search);
}

static json_t *layers_json(const snnc_pipeline *p)
{
    json_t *a = json_array();
    for (int l = 0; l < p->n_stats; l++) {
        const snnc_layer_constraints *s = &p->stats[l];
        json_array_append_new(
            a, json_pack("{s:s, s:i, s:i, s:f, s:f, s:i, s:f, s:f, s:i, s:I}", "layer", s->name,
                         "fan_in", s->fan_in, "fan_in_max_neuron", s->fan_in_max_neuron,
                         "weight_rel_error", s->weight_rel_error, "output_rel_error",
                         s->output_rel_error, "levels_for_1pct", s->levels_for_1pct,
                         "activity_range", (double)s->activity_range, "input_range",
                         (double)s->in_range, "fan_in_groups", s->n_groups, "pruned",
                         (json_int_t)s->pruned));
        json_t *o = json_array_get(a, json_array_size(a) - 1), *cand = json_array();
        for (int k = 0; k < s->n_range_candidates; k++)
            json_array_append_new(cand, json_pack("{s:f, s:f, s:f}", "factor", (double)s->range_candidates[k],
                                                  "kl", s->range_kl[k], "agreement", s->range_agreement[k]));
        json_object_set_new(o, "range_factor", json_real(s->range_factor));
        json_object_set_new(o, "per_neuron_ranges", json_boolean(s->unit_scale != NULL));
        json_object_set_new(o, "range_candidates", cand);
    }
    return a;
}

static json_t *matching_json(const snnc_pipeline *p)
{
    json_t *a = json_array();
    const snnc_netlist *n = p->netlist;
    for (int k = 0; k < n->n_pops; k++) {
        if (n->pops[k].role == SNNC_POP_INPUT)
            continue;
        json_t *o = json_pack("{s:s, s:i, s:i}", "population", n->pops[k].name, "sign",
                              n->pops[k].sign, "neurons", n->pops[k].n);
        json_object_set_new(o, "residual", p->curves ? json_real(n->residual[k]) : json_null());
        json_array_append_new(a, o);
    }
    return a;
}

static json_t *violations_json(const snnc_pipeline *p, const snnc_constraints *c)
{
    json_t *a = json_array();
    const tn_map_report *r = &p->mapping->report;
    for (int l = 0; l < p->n_stats; l++)
        if (p->stats[l].pruned > 0)
            json_array_append_new(
                a, json_pack("{s:s, s:s, s:i, s:i, s:s}", "layer", p->stats[l].name, "kind",
                             "fan_in_pruned", "value", p->stats[l].fan_in, "limit", c->fan_in,
                             "detail",
                             "weights dropped to meet the fan-in limit (see layers[].pruned)"));
    if (r->clipped_codes > 0)
        json_array_append_new(a, json_pack("{s:s, s:s, s:i, s:i, s:s}", "layer", "*", "kind",
                                           "code_clipped", "value", r->clipped_codes, "limit", 0,
                                           "detail", "weight codes +8 made +7"));
    if (r->clipped_mult > 0)
        json_array_append_new(a, json_pack("{s:s, s:s, s:i, s:i, s:s}", "layer", "*", "kind",
                                           "mult_clipped", "value", r->clipped_mult, "limit", 0,
                                           "detail", "neuron multipliers clipped to 31"));
    return a;
}

/* Power at real time, per sample, from the TrueNorth activity of the
 * calibration batch (no batch: static power only); from the same ideal-stage
 * run, *gap gets the per-step gap constrained vs ideal (NULL without). */
static json_t *power_json(const snnc_pipeline *p, const snnc_tensor *calib, json_t **gap,
                          snnc_err *err, int *rc)
{
    tn_activity act = {0};
    int64_t samples = 0;
    if (calib) {
        samples = calib->dims[p->ann->batch_first ? 0 : 1];
        *rc = snnc_pipeline_run_truenorth(p->mapping, p->mapping->model, p->ann, calib, NULL,
                                          NULL, &act, err);
        if (*rc)
            return NULL;
    } else {
        act.ticks = tn_map_ticks(p->mapping);
        samples = 1;
    }
    act.cores = p->mapping->model->n_cores;
    snnc_power_report pr;
    snnc_pipeline_power(&act, samples, &pr);
    json_t *o = snnc_power_report_json(&pr);
    json_object_set_new(o, "activity_source",
                        json_string(calib ? "TrueNorth simulation of the calibration batch "
                                            "(calib.npy), mean per sample"
                                          : "no calibration data: static power only"));
    json_object_set_new(o, "samples", json_integer(samples));
    if (calib) { /* the same power from the ideal stage's activity (no copies, one synapse
                  * per nonzero code): what the netlist needs before the TrueNorth encoding */
        snnc_sim_result res;
        *rc = snnc_netlist_simulate(p->netlist, calib, p->ann->batch_first, &res, err);
        if (!*rc && (*rc = snnc_pipeline_step_gap(p, calib, &res, gap, err)))
            snnc_sim_result_free(&res);
        if (*rc) {
            json_decref(o);
            return NULL;
        }
        tn_activity ia = {.ticks = act.ticks, .cores = act.cores, .spikes = res.spikes,
                          .synaptic_events = res.events};
        snnc_power_report ip;
        snnc_pipeline_power(&ia, samples, &ip);
        json_object_set_new(o, "ideal_stage",
                            json_pack("{s:f, s:f, s:f, s:f, s:s}", "spikes_per_sample",
                                      (double)res.spikes / (double)samples,
                                      "synaptic_events_per_sample",
                                      (double)res.events / (double)samples, "total_w",
                                      ip.total_power_w, "energy_j", ip.energy_j, "note",
                                      "activity of the ideal spiking netlist: no neuron copies, "
                                      "one event per nonzero code; a lower bound"));
        snnc_sim_result_free(&res);
    }
    json_object_set_new(o, "spikes_per_sample", json_real((double)act.spikes / (double)samples));
    json_object_set_new(o, "synaptic_events_per_sample",
                        json_real((double)act.synaptic_events / (double)samples));
    return o;
}

/* What fine-tuning did (docs/FINETUNE.md), and the options simulate
 * replays; no times, so that the same inputs give the same bytes. */
static json_t *finetune_json(const opts *o, const snnc_pipeline *p, bool labels)
{
    const snnc_finetune_result *r = &p->finetune;
    json_t *j = json_pack("{s:i, s:I, s:f, s:f, s:i, s:i, s:f, s:o}", "steps", o->ft.steps, "seed",
                          (json_int_t)o->ft.seed, "lr", o->ft.lr, "noise", o->ft.noise, "batch",
                          o->ft.batch, "holdout", o->ft.holdout, "temperature", o->ft.temperature,
                          "labels", labels ? json_string("calib_labels.npy") : json_null());
    json_object_set_new(j, "carry", json_boolean(o->ft.carry));
    json_object_set_new(j, "label_weight", json_real(o->ft.label_weight));
    if (p->carry_agreement[0] >= 0) {
        json_object_set_new(j, "carry_agreement", json_pack("{s:f, s:f}", "per_window", p->carry_agreement[0],
                                                            "carried", p->carry_agreement[1]));
        json_object_set_new(j, "carry_kept", json_boolean(p->carry_kept));
    }
    json_object_set_new(j, "run", json_boolean(r->steps > 0));
    if (r->steps > 0) {
        json_object_set_new(j, "train_samples", json_integer(r->train));
        json_object_set_new(j, "validation_samples", json_integer(r->validation));
        json_object_set_new(j, "validation_loss_before", json_real(r->val_before));
        json_object_set_new(j, "validation_loss_after", json_real(r->val_after));
        json_object_set_new(j, "best_step", json_integer(r->best_step));
        json_object_set_new(j, "kept", json_boolean(r->kept));
    }
    return j;
}

static json_t *build_report(const opts *o, const snnc_pipeline *p, const snnc_tensor *calib,
                            const int64_t *labels, snnc_err *err, int *rc)
{
    char *mj = tn_map_report_json(p->mapping, p->netlist, err);
    if (!mj) {
        *rc = err->code ? err->code : SNNC_ENOMEM;
        return NULL;
    }
    json_t *mapping = json_loads(mj, 0, NULL);
    free(mj);
    json_t *gap = NULL;
    json_t *power = power_json(p, calib, &gap, err, rc);
    if (*rc) {
        json_decref(mapping);
        json_decref(gap);
        return NULL;
    }
    double latency = (double)tn_map_ticks(p->mapping) * 1e-3;
    json_t *r = json_object();
    json_object_set_new(r, "target", json_string("truenorth"));
    json_object_set_new(r, "model", json_string("model.onnx"));
    json_object_set_new(r, "calib", calib ? json_string("calib.npy") : json_null());
    json_object_set_new(r, "input_name", json_string(p->ann->input_name));
    json_object_set_new(r, "output_name", json_string(p->ann->output_name));
    snnc_constraints c = o->c;
    c.tanh_coding = p->tanh_coding; /* auto resolved: simulate OUTDIR rebuilds this one */
    json_object_set_new(r, "constraints", constraints_json(&c));
    json_object_set_new(r, "tanh_coding_agreement",
                        p->tanh_agreement[0] >= 0 ? json_pack("{s:f, s:f}", "offset", p->tanh_agreement[0],
                                                              "pair", p->tanh_agreement[1])
                                                  : json_null());
    json_object_set_new(r, "constraint_method",
                        p->n_stats > 0 ? snnc_outdir_method_json(&p->stats[0].method) : json_null());
    json_object_set_new(r, "finetune", finetune_json(o, p, labels != NULL));
    json_object_set_new(r, "cores", json_integer(p->mapping->report.n_cores));
    json_object_set_new(r, "power_w", json_copy(json_object_get(power, "total_w")));
    json_object_set_new(r, "energy_per_sample_j", json_copy(json_object_get(power, "energy_j")));
    json_object_set_new(r, "latency_per_sample_s", json_real(latency));
    json_object_set_new(r, "ticks_per_sample", json_integer(tn_map_ticks(p->mapping)));
    json_object_set_new(r, "seconds_per_tick", json_real(1e-3));
    json_object_set_new(r, "window", json_integer(p->netlist->window));
    json_object_set_new(r, "steps", json_integer(p->netlist->steps));
    json_object_set_new(r, "violations", violations_json(p, &o->c));
    json_object_set_new(r, "layers", layers_json(p));
    json_object_set_new(r, "matching", matching_json(p));
    json_object_set_new(r, "mapping", mapping ? mapping : json_null());
    json_object_set_new(r, "power", power);
    json_object_set_new(r, "step_gap", gap ? gap : json_null());
    return r;
}

/* -------------------------------------------------------------- emit */

typedef struct bytes {
    void *data;
    size_t size;
} bytes;

/* OUTDIR/constrained.onnx: the constrained network as ONNX operators. */
static int write_constrained(const snnc_pipeline *p, const char *dir, snnc_err *err)
{
    void *data = NULL;
    size_t size = 0;
    char *path = snnc_cli_path_join(dir, "constrained.onnx");
    int rc = path ? snnc_export_constrained_onnx(p->constrained, &data, &size, err)
                  : snnc_fail(err, SNNC_ENOMEM, "out of memory");
    if (!rc)
        rc = write_bytes(data, size, path, err);
    free(data);
    free(path);
    return rc;
}

/* OUTDIR/calib_labels.npy: the fine-tuning labels as int64 [samples]. */
static int write_labels(const int64_t *labels, int64_t n, const char *dir, snnc_err *err)
{
    char *path = snnc_cli_path_join(dir, "calib_labels.npy");
    snnc_tensor *t = path ? snnc_tensor_new(SNNC_I64, 1, &n, err) : NULL;
    int rc = t ? SNNC_OK : snnc_fail(err, SNNC_ENOMEM, "out of memory");
    if (!rc) {
        memcpy(t->data, labels, (size_t)n * sizeof *labels);
        rc = snnc_npy_write(path, t, err);
    }
    snnc_tensor_free(t);
    free(path);
    return rc;
}

static int emit(const opts *o, const snnc_pipeline *p, const bytes *onnx_bytes,
                const snnc_tensor *calib, const int64_t *labels, const char *dir, snnc_err *err)
{
    char *tn = snnc_cli_path_join(dir, "truenorth"), *model = snnc_cli_path_join(dir, "truenorth/model.json");
    char *net = snnc_cli_path_join(dir, "network.json"), *onnx = snnc_cli_path_join(dir, "model.onnx");
    char *cal = snnc_cli_path_join(dir, "calib.npy"), *rj = snnc_cli_path_join(dir, "report.json");
    char *rt = snnc_cli_path_join(dir, "report.txt");
    int rc = SNNC_OK;
    if (!tn || !model || !net || !onnx || !cal || !rj || !rt)
        rc = snnc_fail(err, SNNC_ENOMEM, "out of memory");
    if (!rc && mkdir(tn, 0777))
        rc = snnc_fail(err, SNNC_EIO, "%s: %s", tn, strerror(errno));
    if (!rc) {
        fprintf(stderr, "snnc convert: emitting %s\n", o->outdir);
        rc = tn_model_write(model, p->mapping->model, err);
    }
    if (!rc)
        rc = snnc_netlist_write_json(p->netlist, net, err);
    if (!rc && p->curves)
        rc = snnc_plots_write(dir, p->curves, p->n_curves, err);
    if (!rc)
        rc = write_bytes(onnx_bytes->data, onnx_bytes->size, onnx, err);
    if (!rc)
        rc = write_constrained(p, dir, err);
    if (!rc && calib)
        rc = snnc_npy_write(cal, calib, err);
    if (!rc && labels)
        rc = write_labels(labels, calib->dims[p->ann->batch_first ? 0 : 1], dir, err);
    json_t *rep = NULL;
    if (!rc) {
        fprintf(stderr, "snnc convert: power from the calibration batch\n");
        rep = build_report(o, p, calib, labels, err, &rc);
    }
    if (!rc && json_dump_file(rep, rj, JSON_INDENT(2) | JSON_PRESERVE_ORDER |
                                           JSON_REAL_PRECISION(12)))
        rc = snnc_fail(err, SNNC_EIO, "%s: write error", rj);
    if (!rc) {
        FILE *f = fopen(rt, "w");
        if (!f)
            rc = snnc_fail(err, SNNC_EIO, "%s: %s", rt, strerror(errno));
        else {
            snnc_cli_conversion_report_print(f, rep, true);
            if (fclose(f))
                rc = snnc_fail(err, SNNC_EIO, "%s: write error", rt);
        }
    }
    json_decref(rep);
    if (!rc)
        rc = snnc_outdir_manifest_write(dir, err);
    free(tn), free(model), free(net), free(onnx), free(cal), free(rj), free(rt);
    return rc;
}

static int run(const opts *o, snnc_err *err)
{
    snnc_tensor *calib = NULL;
    int64_t *labels = NULL;
    snnc_finetune_opts ft = o->ft;
    char *buf = NULL;
    const char *name = NULL, *file = NULL;
    char *target = NULL; /* OUTDIR, or the directory its symbolic link leads to */
    int rc = snnc_cli_output_target(o->outdir, true, &target, err);
    if (!rc && o->calib_arg) {
        snnc_cli_split_binding(o->calib_arg, &buf, &name, &file);
        rc = snnc_cli_read_f32(file, &calib, err);
        if (!rc)
            rc = snnc_cli_check_batch(calib, "--calib", file, err);
    }
    if (!rc && o->ft_labels) /* the classes are checked once the network is known */
        rc = snnc_cli_read_labels_as("--finetune-labels", o->ft_labels, -1, INT_MAX, true, &labels,
                                     &ft.n_labels, err);
    ft.labels = labels;
    snnc_pipeline p;
    bytes onnx = {0}; /* read once: parsed, then copied into OUTDIR */
    if (!rc)
        rc = snnc_read_file(o->model, SNNC_MAX_FILE_BYTES, SNNC_BYTES_PROTOBUF, &onnx.data,
                            &onnx.size, err);
    if (!rc)
        rc = snnc_pipeline_build_onnx(onnx.data, onnx.size, o->model, calib, &o->c, &ft, true,
                                      "convert", &p, err);
    if (rc && calib)
        snnc_cli_err_data_file(err, "calibration", "--calib", file);
    if (rc && labels)
        snnc_cli_err_data_file(err, "fine-tuning labels", "--finetune-labels", o->ft_labels);
    if (!rc && name && strcmp(name, p.ann->input_name)) {
        rc = snnc_fail(err, SNNC_EUSAGE, "--calib %s: the model's input is '%s'", name,
                       p.ann->input_name);
        snnc_pipeline_free(&p);
    }
    if (rc) {
        snnc_tensor_free(calib);
        free(buf), free(onnx.data), free(target), free(labels);
        return rc;
    }
    size_t n = strlen(target) + 64;
    char *tmp = malloc(n), *old = malloc(n);
    if (!tmp || !old)
        rc = snnc_fail(err, SNNC_ENOMEM, "out of memory");
    if (!rc) {
        snprintf(tmp, n, "%s.tmp-%ld", target, (long)getpid());
        snprintf(old, n, "%s.old-%ld", target, (long)getpid());
        if (!(rc = snnc_cli_temp_dir(tmp, err)) && (rc = emit(o, &p, &onnx, calib, labels, tmp, err))) {
            snnc_cli_remove_tree(tmp);
            snnc_cli_temp_forget(tmp);
        }
        snnc_cli_err_rename(err, tmp, o->outdir);
    }
    if (!rc) { /* a signal before the renames removes tmp, between them restores old */
        struct stat sb;
        bool replace = o->force && stat(target, &sb) == 0;
        snnc_cli_temp_dir_unmark(tmp);
        if (replace && snnc_cli_temp_add(old, true, target))
            rc = snnc_fail(err, SNNC_ENOMEM, "out of memory");
        else if (replace && rename(target, old))
            rc = snnc_fail(err, SNNC_EIO, "%s: %s", o->outdir, strerror(errno));
        else if (rename(tmp, target)) {
            rc = snnc_fail(err, SNNC_EIO, "%s: %s", o->outdir, strerror(errno));
            if (replace)
                rename(old, target);
        } else if (replace)
            snnc_cli_remove_tree(old);
        if (rc)
            snnc_cli_remove_tree(tmp);
        snnc_cli_temp_forget(tmp);
        snnc_cli_temp_forget(old);
    }
    if (!rc)
        fprintf(stderr, "snnc convert: wrote %s (%d cores)\n", o->outdir,
                p.mapping->report.n_cores);
    free(tmp), free(old);
    snnc_pipeline_free(&p);
    snnc_tensor_free(calib);
    free(buf), free(onnx.data), free(target), free(labels);
    return rc;
}

int snnc_cmd_convert(int argc, char **argv)
{
    opts o;
    int st = parse_args(argc, argv, &o);
    if (st)
        return st;
    if (o.help)
        return SNNC_EXIT_OK; /* usage printed */
    snnc_err err = {0};
    char *outdir = NULL; /* -o as typed in messages; without a trailing '/' from here on */
    if (snnc_cli_output_check("-o", o.outdir, true, o.force, &outdir, &err))
        return snnc_cli_fail("convert", &err);
    o.outdir = outdir;
    snnc_cli_remove_stale("convert", outdir);
    st = run(&o, &err) ? snnc_cli_fail("convert", &err) : SNNC_EXIT_OK;
    free(outdir);
    return st;
}
