/* power.c — the target-independent power and energy report (interface:
 * power.h): static power of the cores used, dynamic energy of the counted
 * events, their totals at real time, and the target's named constants with
 * their sources, as text or JSON.  Targets supply a snnc_power_model
 * (TrueNorth: truenorth/tn_power.c). */
#include "power.h"

#include <jansson.h>
#include <math.h>
#include <string.h>

void snnc_power_estimate(const snnc_power_model *pm, double cores, double ticks,
                         const double *counts, snnc_power_report *out)
{
    memset(out, 0, sizeof *out);
    out->seconds = ticks * pm->seconds_per_tick;
    out->static_power_w = cores * pm->static_power_per_core_w;
    int n = pm->n_events < SNNC_POWER_MAX_EVENTS ? pm->n_events : SNNC_POWER_MAX_EVENTS;
    if (n > (int)(sizeof out->terms / sizeof out->terms[0]))
        n = (int)(sizeof out->terms / sizeof out->terms[0]);
    for (int i = 0; i < n; i++) {
        out->terms[i].name = pm->event_names[i];
        out->terms[i].count = counts[i];
        out->terms[i].energy_j = counts[i] * pm->event_energy_j[i];
        out->dynamic_energy_j += out->terms[i].energy_j;
    }
    out->n_terms = n;
    out->dynamic_power_w = out->seconds > 0 ? out->dynamic_energy_j / out->seconds : 0.0;
    out->total_power_w = out->static_power_w + out->dynamic_power_w;
    out->energy_j = out->static_power_w * out->seconds + out->dynamic_energy_j;
    out->n_constants = pm->n_constants;
    out->constants = pm->constants;
}

double snnc_power_constant_value(const snnc_power_constant *c, int n, const char *name)
{
    for (int i = 0; i < n; i++)
        if (!strcmp(c[i].name, name))
            return c[i].value;
    return NAN;
}

void snnc_power_report_print(FILE *f, const snnc_power_report *r)
{
    fprintf(f, "power at real time (%.6g s):\n", r->seconds);
    fprintf(f, "  static   %12.6g W\n  dynamic  %12.6g W  (%.6g J)\n  total    %12.6g W\n"
               "  energy   %12.6g J\n",
            r->static_power_w, r->dynamic_power_w, r->dynamic_energy_j, r->total_power_w,
            r->energy_j);
    for (int i = 0; i < r->n_terms; i++)
        fprintf(f, "  %-18s %14.0f events  %12.6g J\n", r->terms[i].name, r->terms[i].count,
                r->terms[i].energy_j);
    fprintf(f, "constants:\n");
    for (int i = 0; i < r->n_constants; i++)
        fprintf(f, "  %-36s %12.6g %-3s %s\n", r->constants[i].name, r->constants[i].value,
                r->constants[i].unit, r->constants[i].source);
}

json_t *snnc_power_report_json(const snnc_power_report *r)
{
    json_t *terms = json_array(), *constants = json_array();
    for (int i = 0; i < r->n_terms; i++)
        json_array_append_new(terms, json_pack("{s:s, s:f, s:f}", "name", r->terms[i].name, "count",
                                               r->terms[i].count, "energy_j", r->terms[i].energy_j));
    for (int i = 0; i < r->n_constants; i++) {
        const snnc_power_constant *c = &r->constants[i];
        json_array_append_new(constants, json_pack("{s:s, s:f, s:s, s:s}", "name", c->name, "value",
                                                   c->value, "unit", c->unit, "source", c->source));
    }
    return json_pack("{s:f, s:f, s:f, s:f, s:f, s:f, s:o, s:o}", "seconds", r->seconds,
                     "static_w", r->static_power_w, "dynamic_w", r->dynamic_power_w, "total_w",
                     r->total_power_w, "dynamic_energy_j", r->dynamic_energy_j, "energy_j",
                     r->energy_j, "terms", terms, "constants", constants);
}
