/* cmd_report.c — `snnc report OUTDIR [--json]`: the summary of a conversion
 * from OUTDIR/report.json (written by cmd_convert.c; checked against the
 * manifest and field by field first, cli_outdir.h): target, cores, power
 * at real time (static and dynamic), energy and latency per sample, the
 * constants with their sources, violations.  Also the printer of the
 * readable report (OUTDIR/report.txt), snnc_cli_conversion_report_print. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../ir/error.h"
#include "cli.h"
#include "cli_options.h"
#include "cli_outdir.h"

static const char usage[] =
    "usage: snnc report OUTDIR [--json]\n\n"
    "Summarise a conversion (OUTDIR of 'snnc convert'): cores, power at real time (static\n"
    "and dynamic, 1 ms ticks), energy and latency per sample, the source of every constant,\n"
    "constraint violations.  --json prints one object with keys target, cores, power_w,\n"
    "energy_per_sample_j, latency_per_sample_s, violations, static_power_w, dynamic_power_w,\n"
    "constants.\n";

static double num(const json_t *o, const char *key)
{
    return json_number_value(json_object_get(o, key));
}

static const char *str(const json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "";
}

static void print_constraints(FILE *f, const json_t *c)
{
    fprintf(f, "constraints      weight levels %d, activity levels %d, fan-in %d (%s), rounding "
               "%s, seed %lld\n",
            (int)num(c, "weight_levels"), (int)num(c, "activity_levels"), (int)num(c, "fan_in"),
            str(c, "fan_in_strategy"), str(c, "rounding"),
            (long long)json_integer_value(json_object_get(c, "seed")));
}

/* The constraint stage's method choice (absent in older reports). */
void snnc_cli_method_print(FILE *f, const json_t *m)
{
    const json_t *k;
    size_t j;
    if (!json_is_object(m))
        return;
    fprintf(f, "constraint method %s", str(m, "chosen"));
    int shown = 0;
    json_array_foreach(json_object_get(m, "candidates"), j, k) {
        if (!json_is_number(json_object_get(k, "kl_percentile")))
            continue;
        fprintf(f, "%s %s %.4f / %.1f %%", shown++ ? "," : "; candidates, KL from float / agreement on calib at the "
                                                          "percentile ranges [after the range search]:",
                str(k, "method"), num(k, "kl_percentile"), 100 * num(k, "agreement_percentile"));
        if (json_is_number(json_object_get(k, "kl")))
            fprintf(f, " [%.4f / %.1f %%]", num(k, "kl"), 100 * num(k, "agreement"));
    }
    fprintf(f, "%s; input range %.4g x percentile\n", shown ? "" : " (as set, not searched)",
            num(m, "input_range_factor"));
}

static void print_layers(FILE *f, const json_t *layers)
{
    size_t i;
    const json_t *l;
    fprintf(f, "\nquantisation per layer\n  %-28s %7s %10s %10s %8s %9s %6s %7s\n", "layer",
            "fan-in", "w rel err", "z rel err", "lv 1%", "act range", "groups", "pruned");
    json_array_foreach(layers, i, l)
        fprintf(f, "  %-28s %7d %10.4g %10.4g %8d %9.4g %6d %7lld\n", str(l, "layer"),
                (int)num(l, "fan_in"), num(l, "weight_rel_error"), num(l, "output_rel_error"),
                (int)num(l, "levels_for_1pct"), num(l, "activity_range"),
                (int)num(l, "fan_in_groups"), (long long)num(l, "pruned"));
    json_array_foreach(layers, i, l) {
        const json_t *cand = json_object_get(l, "range_candidates"), *k;
        size_t j;
        if (json_array_size(cand) == 0)
            continue;
        fprintf(f, "  %s: activity range %.4g x percentile (KL from float / agreement on calib:",
                str(l, "layer"), num(l, "range_factor"));
        json_array_foreach(cand, j, k)
            fprintf(f, " %.4g: %.4f / %.1f %%", num(k, "factor"), num(k, "kl"), 100 * num(k, "agreement"));
        fprintf(f, ")\n");
    }
}

static void print_matching(FILE *f, const json_t *m)
{
    size_t i;
    const json_t *p;
    fprintf(f, "\nresponse matching (mean squared count error per neuron)\n");
    json_array_foreach(m, i, p) {
        const json_t *r = json_object_get(p, "residual");
        if (json_is_number(r))
            fprintf(f, "  %-28s %+d %5d neurons  residual %.4g\n", str(p, "population"),
                    (int)num(p, "sign"), (int)num(p, "neurons"), json_number_value(r));
        else
            fprintf(f, "  %-28s %+d %5d neurons  (not matched: no calibration data)\n",
                    str(p, "population"), (int)num(p, "sign"), (int)num(p, "neurons"));
    }
}

static void print_mapping(FILE *f, const json_t *m)
{
    size_t i;
    const json_t *c;
    fprintf(f, "\nmapping          %d cores, %lld neurons (%lld copies), %lld axons, %lld synapses\n",
            (int)num(m, "cores"), (long long)num(m, "neurons"), (long long)num(m, "copies"),
            (long long)num(m, "axons"), (long long)num(m, "synapses"));
    fprintf(f, "encoding         %s\n", str(m, "encoding"));
    fprintf(f, "  %6s %-28s %6s %8s %10s %7s %9s\n", "core", "first population", "axons",
            "neurons", "originals", "copies", "synapses");
    json_array_foreach(json_object_get(m, "per_core"), i, c)
        fprintf(f, "  %6lld %-28s %6d %8d %10d %7d %9lld\n",
                (long long)json_integer_value(json_object_get(c, "id")), str(c, "name"),
                (int)num(c, "axons"), (int)num(c, "neurons"), (int)num(c, "originals"),
                (int)num(c, "copies"), (long long)num(c, "synapses"));
}

static void print_power(FILE *f, const json_t *r)
{
    const json_t *p = json_object_get(r, "power");
    size_t i;
    const json_t *c;
    fprintf(f, "\npower at real time (1 ms ticks)\n");
    fprintf(f, "  static           %.6g W\n  dynamic          %.6g W\n  total            %.6g W\n",
            num(p, "static_w"), num(p, "dynamic_w"), num(p, "total_w"));
    fprintf(f, "  latency/sample   %.6g s (%lld ticks)\n  energy/sample    %.6g J\n",
            num(r, "latency_per_sample_s"), (long long)num(r, "ticks_per_sample"),
            num(r, "energy_per_sample_j"));
    fprintf(f, "  activity         %s\n", str(p, "activity_source"));
    const json_t *id = json_object_get(p, "ideal_stage");
    if (id)
        fprintf(f, "  ideal-stage activity instead (%.6g synaptic events, %.6g spikes per sample):\n"
                   "                   %.6g W, %.6g J per sample (no neuron copies: a lower bound)\n",
                num(id, "synaptic_events_per_sample"), num(id, "spikes_per_sample"),
                num(id, "total_w"), num(id, "energy_j"));
    fprintf(f, "  constants:\n");
    json_array_foreach(json_object_get(p, "constants"), i, c)
        fprintf(f, "    %-34s %12.6g %-2s %s\n", str(c, "name"), num(c, "value"), str(c, "unit"),
                str(c, "source"));
}

static void print_violations(FILE *f, const json_t *v)
{
    size_t i;
    const json_t *x;
    fprintf(f, "\nviolations       %zu\n", json_array_size(v));
    json_array_foreach(v, i, x)
        fprintf(f, "  %s: %s value %lld limit %lld — %s\n", str(x, "layer"), str(x, "kind"),
                (long long)num(x, "value"), (long long)num(x, "limit"), str(x, "detail"));
}

/* Fine-tuning (docs/FINETUNE.md): one line, absent in older reports. */
static void print_finetune(FILE *f, const json_t *ft)
{
    if (!ft)
        return;
    if (!json_is_true(json_object_get(ft, "run"))) {
        fprintf(f, "finetune         off\n");
        return;
    }
    fprintf(f, "finetune         %d steps%s: validation loss %.5f -> %.5f (%lld held-out samples), %s\n",
            (int)num(ft, "steps"), json_is_string(json_object_get(ft, "labels")) ? " with labels" : "",
            num(ft, "validation_loss_before"), num(ft, "validation_loss_after"),
            (long long)num(ft, "validation_samples"),
            json_is_true(json_object_get(ft, "kept")) ? "kept" : "not kept (no significant gain)");
}

void snnc_cli_conversion_report_print(FILE *f, const json_t *r, bool full)
{
    fprintf(f, "target           %s\nmodel            %s (input '%s', output '%s')\n",
            str(r, "target"), str(r, "model"), str(r, "input_name"), str(r, "output_name"));
    fprintf(f, "calibration      %s\n",
            json_is_string(json_object_get(r, "calib")) ? str(r, "calib") : "(none)");
    print_constraints(f, json_object_get(r, "constraints"));
    snnc_cli_method_print(f, json_object_get(r, "constraint_method"));
    print_finetune(f, json_object_get(r, "finetune"));
    fprintf(f, "cores            %d\nwindow           %d ticks per step, %d steps\n",
            (int)num(r, "cores"), (int)num(r, "window"), (int)num(r, "steps"));
    if (full) {
        print_layers(f, json_object_get(r, "layers"));
        print_matching(f, json_object_get(r, "matching"));
        print_mapping(f, json_object_get(r, "mapping"));
    }
    print_power(f, r);
    print_violations(f, json_object_get(r, "violations"));
}

static json_t *summary(const json_t *r)
{
    const json_t *p = json_object_get(r, "power");
    json_t *o = json_object();
    const char *keys[] = {"target", "cores", "power_w", "energy_per_sample_j",
                          "latency_per_sample_s", "violations", "ticks_per_sample"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        json_object_set(o, keys[i], json_object_get(r, keys[i]) ? json_object_get(r, keys[i])
                                                                 : json_null());
    json_object_set(o, "static_power_w", json_object_get(p, "static_w"));
    json_object_set(o, "dynamic_power_w", json_object_get(p, "dynamic_w"));
    json_object_set(o, "seconds_per_tick", json_object_get(r, "seconds_per_tick"));
    json_object_set(o, "activity_source", json_object_get(p, "activity_source"));
    json_object_set(o, "constants", json_object_get(p, "constants"));
    return o;
}

int snnc_cmd_report(int argc, char **argv)
{
    const char *dir = NULL;
    bool json = false, help = false;
    const snnc_cli_option table[] = {SNNC_OPT_FLAG_("--json", &json), SNNC_OPT_END};
    int st = snnc_cli_parse("report", usage, argc, argv, table, &dir, &help);
    if (st)
        return st;
    if (help)
        return SNNC_EXIT_OK; /* usage printed */
    if (!dir)
        return snnc_cli_usage("report", "no OUTDIR given");
    snnc_err err = {0};
    json_t *r = NULL;
    if (snnc_outdir_open(dir, &r, &err))
        return snnc_cli_fail("report", &err);
    if (json) {
        json_t *o = summary(r);
        json_dumpf(o, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(12));
        printf("\n");
        json_decref(o);
    } else {
        snnc_cli_conversion_report_print(stdout, r, false);
    }
    json_decref(r);
    return SNNC_EXIT_OK;
}
