/* cmd_check.c — `snnc check MODEL.onnx --target truenorth [...]`: the
 * constraint inspector (issue 4, stage 1).  Extracts the Elman network
 * (ann/ann.h), constrains it (quantize/quantize.h) and reports per layer
 * (and per neuron where it differs) fan-in, weight error, fan-out copies and
 * an estimate of the cores/axons/neurons a mapping needs; what extraction
 * refuses becomes an "unsupported" violation; with calibration data, what
 * each constraint costs in class agreement and KL.  Both: docs/CHECK.md. */
#include <jansson.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../ir/error.h"
#include "../ir/tensor.h"
#include "../quantize/quantize.h"
#include "mapper/pipeline.h"
#include "cli.h"
#include "cli_outdir.h"
#include "cli_options.h"

#define TN_CORE_AXONS 256
#define TN_CORE_NEURONS 256
#define TN_AXONS_PER_INPUT 4   /* one axon per axon type: 4-bit codes */
#define TN_CHIP_CORES 4096
#define TN_MAX_COPIES 256      /* 64 destination cores x 4 axons: beyond, splitter trees */
#define EST_ITERATIONS 200
#define EXIT_VIOLATIONS 3

static const char usage[] =
    "usage: snnc check MODEL.onnx --target truenorth [--weight-levels N] [--activity-levels L]\n"
    "                  [--fan-in F] [--fan-in-strategy split|prune] [--prune-rescale]\n"
    "                  [--tanh-coding auto|offset|pair]\n"
    "                  [--calib [NAME=]FILE] [--weight-error PCT] [--json] [--strict]\n"
    "                  [--no-bias-correction] [--no-per-neuron-ranges] [--no-method-search]\n\n"
    "Inspect MODEL against a target's constraints, per layer (and per neuron where it\n"
    "differs): fan-in against the limit, weight error at the allowed levels and the levels\n"
    "1 % error needs, fan-out copies, an estimate of the cores, axons and neurons a mapping\n"
    "needs (for the fan-in strategy; docs/CHECK.md), and the nodes the target cannot run.\n"
    "  --target truenorth     the target (accepted: truenorth)\n"
    "  --weight-levels N      weight levels (default 16; 2..256)\n"
    "  --activity-levels L    activity levels, spike counts per window (default 16; 2..65536)\n"
    "  --fan-in F             inputs per neuron (default 64 = 256 axons / 4 axon types; 1..64)\n"
    "  --fan-in-strategy S    split (default) or prune, as snnc convert\n"
    "  --prune-rescale        prune: rescale the kept weights to the row's L1 norm\n"
    "  --tanh-coding C        offset, pair, or auto (default; checked as pair: the\n"
    "                         choice needs the spiking stage), as snnc convert\n"
    "  --calib [NAME=]FILE    calibration input batch (.npy/.pb) for activity ranges, the\n"
    "                         output error and what each constraint costs (class agreement\n"
    "                         and KL from the float network with only the weights, only the\n"
    "                         activities, only the fan-in, or all constrained; per layer);\n"
    "                         without it, ranges come from the weights\n"
    "  --weight-error PCT     relative weight error tolerated per layer before a\n"
    "                         weight_levels violation (default 1 %)\n"
    "  --json                 one JSON object: target, constraints, layers, totals, violations,\n"
    "                         constraint_cost (null without --calib)\n"
    "  --strict               exit 3 when there is any violation\n"
    "  --no-bias-correction, --no-per-neuron-ranges, --no-method-search\n"
    "                         the constraint stage's methods, as snnc convert (with --calib\n"
    "                         the method is chosen on the calibration batch and printed)\n"
    "exit status: 0 checked (violations or not), 1 usage error, 2 invalid model or data,\n"
    "3 violations with --strict\n";

typedef struct opts {
    const char *model, *target, *calib;
    snnc_constraints c;
    double weight_error_pct; /* tolerated relative weight error, percent */
    bool json, strict, help;
} opts;

/* ------------------------------------------------------------ arguments */

static const char *const fanin_words[] = {"split", "prune", NULL};
static const char *const tanh_words[] = {"offset", "pair", "auto", NULL}; /* snnc_tanh_coding order */

static int parse_args(int argc, char **argv, opts *o)
{
    *o = (opts){.weight_error_pct = 1};
    snnc_constraints_default(&o->c);
    int fanin = o->c.fanin == SNNC_FANIN_PRUNE, tanh_coding = (int)o->c.tanh_coding;
    bool no_bias = false, no_units = false, no_method = false;
    const snnc_cli_option table[] = {
        SNNC_OPT_FLAG_("--json", &o->json),
        SNNC_OPT_FLAG_("--no-bias-correction", &no_bias),
        SNNC_OPT_FLAG_("--no-per-neuron-ranges", &no_units),
        SNNC_OPT_FLAG_("--no-method-search", &no_method),
        SNNC_OPT_FLAG_("--strict", &o->strict),
        SNNC_OPT_INT_("--weight-levels", &o->c.weight_levels, 2, 256),
        SNNC_OPT_INT_("--activity-levels", &o->c.activity_levels, 2, 65536),
        SNNC_OPT_INT_("--fan-in", &o->c.fan_in, 1, TN_CORE_AXONS / TN_AXONS_PER_INPUT),
        SNNC_OPT_REAL_("--weight-error", &o->weight_error_pct, 0, 100),
        SNNC_OPT_CHOICE_("--fan-in-strategy", &fanin, fanin_words),
        SNNC_OPT_FLAG_("--prune-rescale", &o->c.prune_rescale),
        SNNC_OPT_CHOICE_("--tanh-coding", &tanh_coding, tanh_words),
        SNNC_OPT_TEXT_("--target", &o->target),
        SNNC_OPT_ONCE_("--calib", &o->calib, "an Elman network has one input"),
        SNNC_OPT_END,
    };
    int st = snnc_cli_parse("check", usage, argc, argv, table, &o->model, &o->help);
    o->c.fanin = fanin ? SNNC_FANIN_PRUNE : SNNC_FANIN_SPLIT;
    o->c.tanh_coding = (snnc_tanh_coding)tanh_coding;
    o->c.bias_correct = !no_bias;
    o->c.per_neuron_ranges = !no_units;
    o->c.method_search = !no_method;
    if (st || o->help)
        return st;
    if (!o->model)
        return snnc_cli_usage("check", "no MODEL.onnx given");
    if (!o->target)
        return snnc_cli_usage("check", "--target is required (accepted: truenorth)");
    if (strcmp(o->target, "truenorth"))
        return snnc_cli_usage("check", "unknown target '%s' (accepted: truenorth)", o->target);
    return 0;
}

/* ------------------------------------------------------- per-layer figures */

typedef struct layer_fig {
    const snnc_ann_layer *L;
    const snnc_layer_constraints *S;
    int cols, groups;
    int ch_in, ch_out;       /* channels per input / per unit: 2 for signed activities */
    int cols_ch;             /* spiking fan-in: inputs counted in channels */
    int *nz;                 /* [n_out] non-zero inputs per neuron */
    double *err;             /* [n_out] relative weight error per neuron */
    int worst;               /* neuron with the largest error */
    /* mapping estimate */
    int64_t cores, axons, neurons, partials;
    int64_t *pop_cores;      /* [groups + 1]: partial groups then the layer's neurons */
    int copies_min, copies_max;
    bool shared;             /* placed on the previous (recurrent) layer's core */
    bool unmappable;         /* needs splitter cores: copies or slots beyond a core */
    int64_t slots_per_core;  /* when unmappable through self-feedback */
} layer_fig;

static const char *role_name(snnc_ann_role r)
{
    return r == SNNC_ANN_RECURRENT ? "recurrent" : r == SNNC_ANN_READOUT ? "readout" : "step";
}

static const char *act_name(snnc_act a)
{
    return a == SNNC_ACT_RELU ? "relu" : a == SNNC_ACT_TANH ? "tanh" : "none";
}

static float weight_at(const snnc_ann_layer *L, int j, int i)
{
    return i < L->n_in ? L->W[(size_t)j * L->n_in + i] : L->U[(size_t)j * L->n_out + (i - L->n_in)];
}

/* Spike channels of an activity of network q: two for a signed pair, one
 * for a nonnegative or offset-coded activity (docs/QUANTIZE.md §6). */
static int spike_channels(const snnc_act_quant *a, const snnc_ann *q)
{
    return a->levels > 0 && a->lo < 0 && !snnc_act_offset(a, snnc_lower_window(q)) ? 2 : 1;
}

/* Non-zero inputs and relative count-domain weight error of every neuron
 * (docs/QUANTIZE.md §1: W' = w a_in / a_out, snnc_constraints_colf). */
static int neuron_figures(layer_fig *f)
{
    const snnc_ann_layer *L = f->L;
    const snnc_layer_constraints *S = f->S;
    f->nz = calloc((size_t)L->n_out, sizeof *f->nz);
    f->err = calloc((size_t)L->n_out, sizeof *f->err);
    if (!f->nz || !f->err)
        return SNNC_ENOMEM;
    for (int j = 0; j < L->n_out; j++) {
        double d = 0, n2 = 0;
        for (int g = 0; g < S->n_groups; g++)
            for (int i = S->group_start[g]; i < S->group_start[g + 1]; i++) {
                double w = weight_at(L, j, i) * snnc_constraints_colf(S, L->n_in, i);
                double q = S->codes ? (double)S->scales[(size_t)j * S->n_groups + g] *
                                          S->codes[(size_t)j * S->n_cols + i]
                                    : w;
                f->nz[j] += w != 0;
                d += (w - q) * (w - q);
                n2 += w * w;
            }
        f->err[j] = n2 > 0 ? sqrt(d / n2) : 0;
        if (f->err[j] > f->err[f->worst])
            f->worst = j;
    }
    return SNNC_OK;
}

/* ------------------------------------------------------ mapping estimate */

/* Cores of the population of layer c that receives column idx: its
 * partial group's when split, else the layer's own. */
static int64_t receiving_cores(const layer_fig *c, int idx)
{
    if (c->groups == 1)
        return c->pop_cores[c->groups];
    for (int g = 0; g < c->groups; g++)
        if (idx < c->S->group_start[g + 1])
            return c->pop_cores[g];
    return c->pop_cores[c->groups];
}

/* Destination cores of unit u of layer l: every core holding a consumer. */
static int64_t destinations(const layer_fig *F, int n, int l, int u)
{
    int64_t d = 0;
    if (l + 1 < n && !F[l + 1].shared)
        d += receiving_cores(&F[l + 1], u);
    if (F[l].L->role == SNNC_ANN_RECURRENT)
        d += receiving_cores(&F[l], F[l].L->n_in + u);
    return d;
}

static int64_t ceil_div(int64_t a, int64_t b)
{
    return (a + b - 1) / b;
}

/* One pass over a layer: copies, slots, cores, axons from the current
 * destination counts.  Returns whether any core count changed. */
static bool estimate_layer(layer_fig *F, int n, int l)
{
    layer_fig *f = &F[l];
    int N = f->L->n_out, g = f->groups;
    int64_t slots = 0, old = f->pop_cores[g];
    bool changed = false;
    f->copies_min = TN_MAX_COPIES + 1, f->copies_max = 0;
    for (int u = 0; u < N; u++) {
        int64_t d = destinations(F, n, l, u);
        int64_t c = d > 0 ? TN_AXONS_PER_INPUT * d : 1;
        f->copies_min = c < f->copies_min ? (int)c : f->copies_min;
        f->copies_max = c > f->copies_max ? (int)(c > INT32_MAX ? INT32_MAX : c) : f->copies_max;
        slots += c * f->ch_out;
    }
    f->neurons = slots;
    f->axons = 0;
    f->partials = 0;
    if (g == 1) { /* every core of the layer holds all its inputs */
        f->pop_cores[0] = ceil_div(slots, TN_CORE_NEURONS);
        f->axons = f->pop_cores[0] * TN_AXONS_PER_INPUT * f->cols_ch;
    } else {      /* pairs of partial neurons per group, 4 copies each to the final's core;
                   * finals read their own 2g partials: 8g axons each */
        for (int k = 0; k < g; k++) {
            int64_t ps = 2 * (int64_t)N * TN_AXONS_PER_INPUT, pc = ceil_div(ps, TN_CORE_NEURONS);
            changed |= pc != f->pop_cores[k];
            f->pop_cores[k] = pc;
            f->partials += 2 * (int64_t)N;
            f->neurons += ps;
            int size = f->S->group_start[k + 1] - f->S->group_start[k];
            f->axons += pc * TN_AXONS_PER_INPUT * ceil_div((int64_t)size * f->cols_ch, f->cols);
        }
        int64_t per_core = TN_CORE_AXONS / (TN_AXONS_PER_INPUT * 2 * g);
        per_core = per_core < 1 ? 1 : per_core;
        int64_t fc = ceil_div((int64_t)N * f->ch_out, per_core), sc = ceil_div(slots, TN_CORE_NEURONS);
        f->pop_cores[g] = fc > sc ? fc : sc;
        f->axons += (int64_t)N * f->ch_out * TN_AXONS_PER_INPUT * 2 * g;
    }
    f->cores = 0;
    for (int k = 0; k <= g; k++)
        f->cores += g == 1 && k == 0 ? 0 : f->pop_cores[k];
    if (g == 1)
        f->pop_cores[1] = f->pop_cores[0], f->cores = f->pop_cores[0];
    return changed || f->pop_cores[g] != old;
}

/* A last readout layer reading only the recurrent layer's units sits on
 * its core (docs/CONVERSION.md §3) when both fit one core: 4 copies per
 * unit to its own axons plus one slot per readout neuron. */
static void share_readout(layer_fig *F, int n)
{
    for (int l = 0; l + 1 < n; l++) {
        layer_fig *r = &F[l], *o = &F[l + 1];
        int64_t slots = (int64_t)TN_AXONS_PER_INPUT * r->L->n_out * r->ch_out + o->L->n_out;
        o->shared = r->L->role == SNNC_ANN_RECURRENT && r->groups == 1 && o->groups == 1 &&
                    l + 2 == n && o->L->n_in == r->L->n_out && slots <= TN_CORE_NEURONS &&
                    (int64_t)r->cols_ch * TN_AXONS_PER_INPUT <= TN_CORE_AXONS;
    }
}

static void fixed_point(layer_fig *F, int n)
{
    for (int l = 0; l < n; l++)
        for (int k = 0; k <= F[l].groups; k++)
            F[l].pop_cores[k] = 1;
    for (int it = 0; it < EST_ITERATIONS; it++) {
        bool changed = false;
        for (int l = n - 1; l >= 0; l--)
            if (!F[l].unmappable)
                changed |= estimate_layer(F, n, l);
        if (!changed)
            break;
    }
    for (int l = 0; l < n; l++)
        if (F[l].unmappable) /* figures at one core per group, marked */
            estimate_layer(F, n, l);
}

/* Fixed point: cores of consumers decide copies, copies decide cores.  A
 * self-feeding unsplit layer of N units needs 4 N slots per core whatever
 * its core count: beyond 256 it cannot map without splitter cores. */
static void estimate(layer_fig *F, int n)
{
    for (int l = 0; l < n; l++)
        if (F[l].L->role == SNNC_ANN_RECURRENT && F[l].groups == 1) {
            F[l].slots_per_core = (int64_t)TN_AXONS_PER_INPUT * F[l].L->n_out * F[l].ch_out;
            F[l].unmappable = F[l].slots_per_core > TN_CORE_NEURONS;
        }
    share_readout(F, n);
    fixed_point(F, n);
    bool again = false;
    for (int l = 0; l + 1 < n; l++)
        if (F[l + 1].shared && F[l].cores != 1)
            F[l + 1].shared = false, again = true;
    if (again)
        fixed_point(F, n);
    for (int l = 0; l < n; l++) {
        if (F[l].shared) {
            F[l].cores = 0;
            F[l].axons = 0;
        }
        if (F[l].copies_max > TN_MAX_COPIES)
            F[l].unmappable = true;
    }
}

/* ------------------------------------------------- pruned: the mapper */

static void add_violation(json_t *v, const char *layer, const char *kind, double value, double limit,
                          const char *fmt, ...) __attribute__((format(printf, 6, 7)));

/* Splitter cores of a mapping (relay neurons, docs/TRUENORTH_MAPPING.md §2b). */
typedef struct splitter {
    int64_t cores, axons, neurons;
} splitter;

/* Layer of population name p: the layer whose name it is, with "-" for
 * the negative half of a signed pair (mapper/lower.c); -1 for inputs. */
static int layer_of(const layer_fig *F, int n, const char *p)
{
    for (int l = 0; l < n; l++) {
        size_t k = strlen(F[l].L->name);
        if (!strncmp(p, F[l].L->name, k) && (!p[k] || !strcmp(p + k, "-")))
            return l;
    }
    return -1;
}

/* A pruned neuron reads its kept inputs only, so neurons of one layer read
 * different sets and share a core only while the union of their inputs
 * fits its 64 axon groups: placement decides the cores, and the copies and
 * splitter cores follow from it.  The estimate is the mapper's own
 * placement (truenorth/tn_map.c) of the lowered netlist; a refusal is an
 * "unmappable" violation and leaves the split-shaped figures, marked. */
static int map_pruned(const snnc_netlist *net, layer_fig *F, int n, splitter *sp, json_t *viol,
                      snnc_err *err)
{
    tn_mapping *m = NULL;
    snnc_err e = {0};
    int rc = tn_map_netlist(net, NULL, &m, &e);
    if (rc == SNNC_EUNSUPPORTED) {
        add_violation(viol, "", "unmappable", 1, 0, "convert would refuse: %s", e.msg);
        return SNNC_OK;
    }
    if (rc) {
        *err = e;
        return rc;
    }
    const tn_map_report *r = &m->report;
    for (int l = 0; l < n; l++) { /* the formula's figures give way to the placement's */
        layer_fig *f = &F[l];
        f->cores = f->axons = f->neurons = f->partials = f->slots_per_core = 0;
        f->copies_min = INT_MAX, f->copies_max = 0;
        f->shared = f->unmappable = false;
    }
    for (int c = 0; c < r->n_cores; c++) {
        const tn_map_core_usage *u = &r->cores[c];
        int l = c < r->n_cores - r->relay_cores && u->population >= 0
                    ? layer_of(F, n, net->pops[u->population].name) : -1;
        int64_t *cores = l < 0 ? &sp->cores : &F[l].cores, *axons = l < 0 ? &sp->axons : &F[l].axons,
                *neurons = l < 0 ? &sp->neurons : &F[l].neurons;
        *cores += 1, *axons += u->axons, *neurons += u->neurons;
    }
    for (int p = 0, i = 0; p < net->n_pops; i += net->pops[p++].n) {
        int l = net->pops[p].role == SNNC_POP_INPUT ? -1 : layer_of(F, n, net->pops[p].name);
        for (int j = 0; l >= 0 && j < net->pops[p].n; j++) {
            int s = m->place[i + j].slots;
            F[l].copies_min = s < F[l].copies_min ? s : F[l].copies_min;
            F[l].copies_max = s > F[l].copies_max ? s : F[l].copies_max;
        }
    }
    for (int l = 0; l < n; l++)
        F[l].copies_min = F[l].copies_min == INT_MAX ? 0 : F[l].copies_min;
    tn_mapping_free(m);
    return SNNC_OK;
}

/* ------------------------------------------------------------ violations */

static void add_violation(json_t *v, const char *layer, const char *kind, double value, double limit,
                          const char *fmt, ...)
{
    char detail[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof detail, fmt, ap);
    va_end(ap);
    json_t *o = json_pack("{s:s, s:s}", "layer", layer, "kind", kind);
    json_object_set_new(o, "value", value == floor(value) ? json_integer((json_int_t)value) : json_real(value));
    json_object_set_new(o, "limit", limit == floor(limit) ? json_integer((json_int_t)limit) : json_real(limit));
    json_object_set_new(o, "detail", json_string(detail));
    json_array_append_new(v, o);
}

static void layer_violations(const layer_fig *f, const snnc_constraints *c, double tolerance_pct, json_t *v)
{
    const char *name = f->L->name;
    if (f->cols_ch > c->fan_in && c->fanin == SNNC_FANIN_PRUNE)
        add_violation(v, name, f->cols > c->fan_in ? "fan_in" : "fan_in_channels",
                      f->cols > c->fan_in ? f->cols : f->cols_ch, c->fan_in,
                      "%d neurons of %d inputs (%d spike channels): pruned to at most %d channels "
                      "each, %lld weights dropped", f->L->n_out, f->cols, f->cols_ch, c->fan_in,
                      (long long)f->S->pruned);
    else if (f->cols > c->fan_in)
        add_violation(v, name, "fan_in", f->cols, c->fan_in,
                      "%d neurons of %d inputs%s: split into %d groups (%d partial neurons, "
                      "one more window per step)", f->L->n_out, f->cols,
                      f->L->role == SNNC_ANN_RECURRENT ? " (inputs + hidden)" : "", f->groups,
                      (int)f->partials);
    else if (f->cols_ch > c->fan_in)
        add_violation(v, name, "fan_in_channels", f->cols_ch, c->fan_in,
                      "%d inputs, %d in spike channels: signed activities travel on two "
                      "channels (%s%s)", f->cols, f->cols_ch, f->ch_in == 2 ? "signed inputs" : "",
                      f->ch_out == 2 && f->L->role == SNNC_ANN_RECURRENT
                          ? (f->ch_in == 2 ? ", signed hidden pair" : "signed hidden pair")
                          : "");
    double err_pct = 100 * f->S->weight_rel_error;
    if (err_pct > tolerance_pct)
        add_violation(v, name, "weight_levels", floor(err_pct * 100 + 0.5) / 100, tolerance_pct,
                      "relative weight error %.2f %% at %d levels (tolerated: %g %%); 1 %% needs %s%d levels; "
                      "worst neuron %d: %.2f %%", err_pct, c->weight_levels, tolerance_pct,
                      f->S->levels_for_1pct > 256 ? "more than " : "",
                      f->S->levels_for_1pct > 256 ? 256 : f->S->levels_for_1pct, f->worst,
                      100 * f->err[f->worst]);
    if (f->slots_per_core > TN_CORE_NEURONS)
        add_violation(v, name, "neurons_per_core", (double)f->slots_per_core, TN_CORE_NEURONS,
                      "%d recurrent units each need 4 copies on every core of the layer: %lld "
                      "neurons per core; needs splitter cores (not implemented) or at most %d units",
                      f->L->n_out, (long long)f->slots_per_core,
                      TN_CORE_NEURONS / (TN_AXONS_PER_INPUT * f->ch_out));
    else if (f->copies_max > TN_MAX_COPIES)
        add_violation(v, name, "fan_out", f->copies_max, TN_MAX_COPIES,
                      "a unit reaches %d destination cores (4 copies each); needs splitter trees",
                      f->copies_max / TN_AXONS_PER_INPUT);
}

/* ------------------------------------------------------------ output */

static json_t *layer_json(const layer_fig *f, const snnc_constraints *c)
{
    const snnc_layer_constraints *S = f->S;
    json_t *o = json_pack("{s:s, s:s, s:s, s:i, s:i, s:i, s:i, s:i, s:i}", "name", f->L->name, "role",
                          role_name(f->L->role), "activation", act_name(f->L->act), "inputs",
                          f->L->n_in, "neurons", f->L->n_out, "fan_in", f->cols, "fan_in_limit",
                          c->fan_in, "fan_in_max_neuron", S->fan_in_max_neuron, "groups", f->groups);
    json_object_set_new(o, "fan_in_channels", json_integer(f->cols_ch));
    json_object_set_new(o, "signed_input", json_boolean(f->ch_in == 2));
    json_object_set_new(o, "signed_output", json_boolean(f->ch_out == 2));
    json_object_set_new(o, "pruned", json_integer((json_int_t)S->pruned));
    json_object_set_new(o, "weight_rel_error", json_real(S->weight_rel_error));
    json_object_set_new(o, "worst_neuron", json_pack("{s:i, s:f}", "neuron", f->worst,
                                                     "weight_rel_error", f->err[f->worst]));
    json_object_set_new(o, "levels_for_1pct", json_integer(S->levels_for_1pct));
    json_object_set_new(o, "output_rel_error",
                        S->output_rel_error < 0 ? json_null() : json_real(S->output_rel_error));
    json_object_set_new(o, "activity_range", json_real(S->activity_range));
    json_object_set_new(o, "input_range", json_real(S->in_range));
    json_object_set_new(o, "copies", json_pack("{s:i, s:i}", "min", f->copies_min, "max", f->copies_max));
    json_object_set_new(o, "estimate",
                        json_pack("{s:I, s:I, s:I, s:I, s:b, s:b}", "cores", (json_int_t)f->cores,
                                  "axons", (json_int_t)f->axons, "neurons", (json_int_t)f->neurons,
                                  "partial_neurons", (json_int_t)f->partials, "shares_previous_core",
                                  f->shared, "mappable", !f->unmappable));
    json_t *nn = json_array();
    for (int j = 0; j < f->L->n_out; j++)
        if (f->nz[j] != f->cols)
            json_array_append_new(nn, json_pack("{s:i, s:i, s:f}", "neuron", j, "fan_in", f->nz[j],
                                                "weight_rel_error", f->err[j]));
    json_object_set_new(o, "neurons", nn);
    return o;
}

static void print_table(const char *model, const snnc_constraints *c, const layer_fig *F, int n,
                        const json_t *totals, const json_t *viol)
{
    printf("%s: target truenorth, %d weight levels, %d activity levels, fan-in %d (%s)\n\n", model,
           c->weight_levels, c->activity_levels, c->fan_in,
           c->fanin == SNNC_FANIN_PRUNE ? "prune" : "split");
    if (n > 0) {
        printf("%-24s %-9s %5s %7s %6s %8s %8s %6s %7s %6s %7s %8s\n", "layer", "role", "units",
               "fan-in", "groups", "w.err%", "worst%", "lv1%", "range", "copies", "cores", "neurons");
        for (int l = 0; l < n; l++) {
            const layer_fig *f = &F[l];
            char cores[32], lv[16];
            snprintf(cores, sizeof cores, f->unmappable ? "n/a" : f->shared ? "shared" : "%lld",
                     (long long)f->cores);
            snprintf(lv, sizeof lv, f->S->levels_for_1pct > 256 ? ">256" : "%d", f->S->levels_for_1pct);
            printf("%-24.24s %-9s %5d %3d/%-3d %6d %8.2f %8.2f %6s %7.3g %6d %7s %8lld\n", f->L->name,
                   role_name(f->L->role), f->L->n_out, f->cols, c->fan_in, f->groups,
                   100 * f->S->weight_rel_error, 100 * f->err[f->worst], lv,
                   f->S->activity_range, f->copies_max, cores, (long long)f->neurons);
            for (int j = 0, shown = 0; j < f->L->n_out; j++)
                if (f->nz[j] != f->cols && shown++ < 8)
                    printf("  neuron %d: fan-in %d, weight error %.2f %%\n", j, f->nz[j], 100 * f->err[j]);
        }
        printf("\nestimate: %lld cores (%lld splitter), %lld axons, %lld neurons\n",
               (long long)json_integer_value(json_object_get(totals, "cores")),
               (long long)json_integer_value(json_object_get(totals, "splitter_cores")),
               (long long)json_integer_value(json_object_get(totals, "axons")),
               (long long)json_integer_value(json_object_get(totals, "neurons")));
    }
    size_t i;
    json_t *v;
    printf("\n%zu violation%s\n", json_array_size(viol), json_array_size(viol) == 1 ? "" : "s");
    json_array_foreach(viol, i, v) {
        printf("  %-14s %-20s %s\n", json_string_value(json_object_get(v, "kind")),
               json_string_value(json_object_get(v, "layer")),
               json_string_value(json_object_get(v, "detail")));
    }
}

/* ------------------------------------------------------ constraint cost */

/* What each constraint costs on the calibration batch (docs/CHECK.md):
 * the network with only the weights, only the activities, only the fan-in
 * or all of them constrained (each through snnc_constrain with the others
 * switched off: levels 0, no fan-in limit), against the float network:
 * agreement of the class and KL(p_float || p_constrained) of the softmax
 * outputs; per layer, the same with only that layer constrained. */
enum { COST_WEIGHTS, COST_ACTIVITIES, COST_FANIN, COST_ALL, COST_N };
static const char *const cost_names[COST_N] = {"weights", "activities", "fan_in", "all"};

typedef struct cost {
    double agreement, kl;
} cost;

static snnc_constraints only(const snnc_constraints *c, int k)
{
    snnc_constraints s = *c;
    if (k != COST_WEIGHTS && k != COST_ALL)
        s.weight_levels = 0;
    if (k != COST_ACTIVITIES && k != COST_ALL)
        s.activity_levels = 0;
    if (k != COST_FANIN && k != COST_ALL)
        s.fan_in = INT_MAX;
    return s;
}

/* Agreement and mean KL of network q's outputs against the float ones f. */
static int compare(const snnc_ann *q, const snnc_tensor *calib, const snnc_tensor *f, cost *out,
                   snnc_err *err)
{
    snnc_tensor *y = NULL;
    int rc = snnc_ann_run(q, calib, &y, NULL, err);
    if (rc)
        return rc;
    rc = snnc_ann_agreement(snnc_f32(f), snnc_f32(y), f->dims[0], (int)f->dims[1], NULL,
                            &out->kl, &out->agreement, err);
    snnc_tensor_free(y);
    return rc;
}

/* The float network a with layer l (its parameters and output quantiser,
 * and for the first layer the input quantiser) taken from q. */
static int compare_layer(const snnc_ann *a, const snnc_ann *q, int l, const snnc_tensor *calib,
                         const snnc_tensor *f, cost *out, snnc_err *err)
{
    snnc_ann *h = snnc_ann_copy(a);
    if (!h)
        return snnc_fail(err, SNNC_ENOMEM, "out of memory");
    snnc_ann_layer *d = &h->layers[l];
    const snnc_ann_layer *s = &q->layers[l];
    memcpy(d->W, s->W, (size_t)d->n_out * (size_t)d->n_in * sizeof *d->W);
    if (d->U)
        memcpy(d->U, s->U, (size_t)d->n_out * (size_t)d->n_out * sizeof *d->U);
    memcpy(d->b, s->b, (size_t)d->n_out * sizeof *d->b);
    d->out_q = s->out_q;
    if (l == 0)
        h->in_q = q->in_q;
    int rc = compare(h, calib, f, out, err);
    snnc_ann_free(h);
    return rc;
}

/* "constraint_cost" of the JSON output; q_all is the network check
 * constrained (the one convert builds), S_all its statistics. */
static int constraint_cost(const snnc_ann *a, const snnc_ann *q_all, const snnc_layer_constraints *S_all,
                           const snnc_constraints *c, const snnc_tensor *calib, json_t **out, snnc_err *err)
{
    snnc_tensor *f = NULL;
    snnc_ann *q[COST_N] = {0};
    cost net[COST_N], *per = calloc((size_t)a->n_layers * COST_N, sizeof *per);
    int rc = per ? snnc_ann_run(a, calib, &f, NULL, err) : snnc_fail(err, SNNC_ENOMEM, "out of memory");
    for (int k = 0; !rc && k < COST_N; k++) {
        snnc_constraints s = only(c, k);
        snnc_layer_constraints *Sk = NULL;
        int nk = 0;
        if (k != COST_ALL)
            rc = snnc_constrain(a, &s, calib, &q[k], &Sk, &nk, err);
        const snnc_ann *qk = k == COST_ALL ? q_all : q[k];
        /* per-neuron ranges rescale units: swap layers in the float network's view in those units */
        snnc_ann *view = rc ? NULL : snnc_constrain_float_view(a, k == COST_ALL ? S_all : Sk,
                                                               k == COST_ALL ? a->n_layers : nk);
        if (!rc && !view)
            rc = snnc_fail(err, SNNC_ENOMEM, "out of memory");
        if (!rc)
            rc = compare(qk, calib, f, &net[k], err);
        for (int l = 0; !rc && l < a->n_layers; l++)
            rc = compare_layer(view, qk, l, calib, f, &per[(size_t)l * COST_N + k], err);
        snnc_ann_free(view);
        snnc_layer_constraints_free(Sk, nk);
    }
    if (!rc) {
        json_t *o = json_pack("{s:I, s:s}", "samples", (json_int_t)f->dims[0], "fan_in_strategy",
                              c->fanin == SNNC_FANIN_SPLIT ? "split" : "prune");
        json_t *layers = json_array();
        for (int k = 0; k < COST_N; k++)
            json_object_set_new(o, cost_names[k], json_pack("{s:f, s:f}", "agreement",
                                                            net[k].agreement, "kl", net[k].kl));
        for (int l = 0; l < a->n_layers; l++) {
            json_t *L = json_pack("{s:s}", "name", a->layers[l].name);
            for (int k = 0; k < COST_N; k++) {
                const cost *p = &per[(size_t)l * COST_N + k];
                json_object_set_new(L, cost_names[k], json_pack("{s:f, s:f}", "agreement",
                                                                p->agreement, "kl", p->kl));
            }
            json_array_append_new(layers, L);
        }
        json_object_set_new(o, "layers", layers);
        *out = o;
    }
    for (int k = 0; k < COST_N; k++)
        snnc_ann_free(q[k]);
    snnc_tensor_free(f);
    free(per);
    return rc;
}

static void print_cost_row(const char *name, const json_t *o)
{
    printf("%-24.24s", name);
    for (int k = 0; k < COST_N; k++) {
        const json_t *c = json_object_get(o, cost_names[k]);
        printf("  %6.2f %% %9.3g", 100 * json_real_value(json_object_get(c, "agreement")),
               json_real_value(json_object_get(c, "kl")));
    }
    printf("\n");
}

static void print_cost(const json_t *cc)
{
    if (!cc) {
        printf("\nconstraint cost: needs --calib (the class agreement and KL divergence from the "
               "float network are measured on the calibration batch)\n");
        return;
    }
    printf("\nconstraint cost on the calibration batch (%lld samples): agreement = same class as "
           "the float network, KL(float || constrained) in nats, per sample\n",
           (long long)json_integer_value(json_object_get(cc, "samples")));
    printf("%-24s", "constrained");
    for (int k = 0; k < COST_N; k++)
        printf("  %-18s", k == COST_FANIN ? "fan-in only" : k == COST_ALL ? "all" :
                          k == COST_WEIGHTS ? "weights only" : "activities only");
    printf("\n");
    print_cost_row("every layer", cc);
    size_t i;
    const json_t *L;
    json_array_foreach(json_object_get(cc, "layers"), i, L) {
        char name[160];
        snprintf(name, sizeof name, "only %s", json_string_value(json_object_get(L, "name")));
        print_cost_row(name, L);
    }
    if (!strcmp(json_string_value(json_object_get(cc, "fan_in_strategy")), "split"))
        printf("fan-in: split keeps every weight (partial sums), so its cost is 0 by construction\n");
}

/* ------------------------------------------------------------ driver */

/* The quoted name in an extraction refusal ("node 'X' ...", "layer 'X' ..."). */
static void refused_name(const char *msg, char *out, size_t n)
{
    const char *q = strchr(msg, '\''), *e = q ? strchr(q + 1, '\'') : NULL;
    snprintf(out, n, "%.*s", q && e ? (int)(e - q - 1) : 0, q ? q + 1 : "");
}

static int load_calib(const opts *o, snnc_graph *g, snnc_tensor **calib, snnc_err *err)
{
    char *buf = NULL;
    const char *name, *file;
    if (!o->calib)
        return SNNC_OK;
    snnc_cli_split_binding(o->calib, &buf, &name, &file);
    int rc = SNNC_OK;
    if (name && (snnc_graph_input_count(g) < 1 || strcmp(name, snnc_graph_input_name(g, 0))))
        rc = snnc_fail(err, SNNC_EUSAGE, "--calib: the model has no input '%s'", name);
    if (!rc && !(rc = snnc_cli_read_f32(file, calib, err)))
        rc = snnc_cli_check_batch(*calib, "--calib", file, err);
    else if (rc && rc != SNNC_EUSAGE)
        snnc_err_prefix(err, "--calib %s", file);
    free(buf);
    return rc;
}

/* What convert does next (mapper/pipeline.h): lower and run the mapping's
 * structural checks.  A constraint the network cannot realise is refused
 * the same way (usage error naming the option); what the mapping cannot
 * hold becomes an "unmappable" violation. */
static int convertible(const snnc_ann *a, const snnc_ann *q, const snnc_layer_constraints *S, int n,
                       const snnc_constraints *c, const snnc_tensor *calib, json_t *viol,
                       snnc_netlist **net, snnc_err *err)
{
    snnc_err e = {0};
    int rc = snnc_pipeline_lower(a, q, S, n, c, calib, true, net, &e);
    if (rc == SNNC_EUNSUPPORTED) {
        add_violation(viol, "", "unmappable", 1, 0, "convert would refuse: %s", e.msg);
        return SNNC_OK;
    }
    if (rc)
        *err = e;
    return rc;
}

static json_t *totals_json(const layer_fig *F, int n, const splitter *sp)
{
    int64_t cores = sp->cores, axons = sp->axons, neurons = sp->neurons;
    bool ok = true;
    for (int l = 0; l < n; l++) {
        cores += F[l].cores, axons += F[l].axons, neurons += F[l].neurons;
        ok &= !F[l].unmappable;
    }
    return json_pack("{s:I, s:I, s:I, s:b, s:I}", "cores", (json_int_t)cores, "axons",
                     (json_int_t)axons, "neurons", (json_int_t)neurons, "mappable", ok,
                     "splitter_cores", (json_int_t)sp->cores);
}

static int check(const opts *o, int *n_violations, snnc_err *err)
{
    snnc_graph *g = NULL;
    snnc_tensor *calib = NULL;
    snnc_ann *a = NULL, *q = NULL;
    snnc_layer_constraints *S = NULL;
    layer_fig *F = NULL;
    snnc_netlist *net = NULL;
    splitter sp = {0};
    int n = 0;
    json_t *viol = json_array();
    int rc = snnc_load_onnx_file(o->model, &g, err);
    if (!rc)
        rc = load_calib(o, g, &calib, err);
    if (!rc) {
        rc = snnc_ann_extract(g, calib, &a, err);
        if (rc == SNNC_EUNSUPPORTED) { /* what the target cannot run: a finding, not a failure */
            char name[256];
            refused_name(err->msg, name, sizeof name);
            add_violation(viol, name, "unsupported", 1, 0, "%s", err->msg);
            rc = SNNC_OK;
        }
    }
    if (!rc && a)
        rc = snnc_constrain(a, &o->c, calib, &q, &S, &n, err);
    if (!rc && a)
        rc = convertible(a, q, S, n, &o->c, calib, viol, &net, err);
    snnc_ann *view = NULL; /* the float network in the constrained units (per-neuron ranges) */
    if (!rc && n > 0 && (!(F = calloc((size_t)n, sizeof *F)) || !(view = snnc_constrain_float_view(a, S, n))))
        rc = snnc_fail(err, SNNC_ENOMEM, "out of memory");
    for (int l = 0; !rc && l < n; l++) {
        F[l] = (layer_fig){.L = &view->layers[l], .S = &S[l], .cols = S[l].n_cols, .groups = S[l].n_groups};
        const snnc_act_quant *in = l ? &q->layers[l - 1].out_q : &q->in_q, *out = &q->layers[l].out_q;
        F[l].ch_in = spike_channels(in, q);
        F[l].ch_out = spike_channels(out, q);
        F[l].cols_ch = F[l].L->n_in * F[l].ch_in +
                       (F[l].L->role == SNNC_ANN_RECURRENT ? F[l].L->n_out * F[l].ch_out : 0);
        F[l].pop_cores = calloc((size_t)F[l].groups + 1, sizeof *F[l].pop_cores);
        if (!F[l].pop_cores || neuron_figures(&F[l]))
            rc = snnc_fail(err, SNNC_ENOMEM, "out of memory");
    }
    if (!rc && n > 0) {
        estimate(F, n);
        if (o->c.fanin == SNNC_FANIN_PRUNE && net)
            rc = map_pruned(net, F, n, &sp, viol, err);
        for (int l = 0; !rc && l < n; l++)
            layer_violations(&F[l], &o->c, o->weight_error_pct, viol);
    }
    json_t *totals = rc ? NULL : totals_json(F, n, &sp), *cost = NULL;
    if (!rc && a && calib)
        rc = constraint_cost(a, q, S, &o->c, calib, &cost, err);
    if (!rc && totals && json_integer_value(json_object_get(totals, "cores")) > TN_CHIP_CORES)
        add_violation(viol, "", "cores", (double)json_integer_value(json_object_get(totals, "cores")),
                      TN_CHIP_CORES, "the estimate needs more than one chip");
    if (!rc && o->json) {
        json_t *layers = json_array();
        for (int l = 0; l < n; l++)
            json_array_append_new(layers, layer_json(&F[l], &o->c));
        json_t *r = json_pack("{s:s, s:s, s:{s:i, s:i, s:i, s:s, s:b, s:f}, s:o, s:O, s:O}", "model",
                              o->model, "target", "truenorth", "constraints", "weight_levels",
                              o->c.weight_levels, "activity_levels", o->c.activity_levels, "fan_in",
                              o->c.fan_in, "fan_in_strategy",
                              o->c.fanin == SNNC_FANIN_PRUNE ? "prune" : "split", "calibrated", calib != NULL,
                              "weight_error_pct", o->weight_error_pct, "layers", layers, "totals", totals, "violations", viol);
        json_object_set_new(r, "constraint_cost", cost ? cost : json_null());
        json_object_set_new(r, "constraint_method", S && n > 0 ? snnc_outdir_method_json(&S[0].method) : json_null());
        cost = NULL;
        json_dumpf(r, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        printf("\n");
        json_decref(r);
    } else if (!rc) {
        print_table(o->model, &o->c, F, n, totals, viol);
        if (a)
            print_cost(cost);
        if (cost && S && n > 0) {
            json_t *m = snnc_outdir_method_json(&S[0].method);
            snnc_cli_method_print(stdout, m);
            json_decref(m);
        }
    }
    json_decref(cost);
    *n_violations = (int)json_array_size(viol);
    json_decref(totals);
    json_decref(viol);
    for (int l = 0; F && l < n; l++)
        free(F[l].nz), free(F[l].err), free(F[l].pop_cores);
    free(F);
    snnc_netlist_free(net);
    snnc_layer_constraints_free(S, n);
    snnc_ann_free(view);
    snnc_ann_free(q);
    snnc_ann_free(a);
    snnc_tensor_free(calib);
    snnc_graph_free(g);
    return rc;
}

int snnc_cmd_check(int argc, char **argv)
{
    opts o;
    int st = parse_args(argc, argv, &o);
    if (st)
        return st;
    if (o.help)
        return SNNC_EXIT_OK; /* usage printed */
    snnc_err err = {0};
    int nv = 0;
    if (check(&o, &nv, &err))
        return snnc_cli_fail("check", &err);
    return o.strict && nv > 0 ? EXIT_VIOLATIONS : SNNC_EXIT_OK;
}
