/* power.h — the target-independent power and energy report: a target
 * supplies named constants with their sources, and the activity of a run
 * turns into static power, dynamic energy and totals (power.c; TrueNorth's
 * constants in truenorth/tn_power.c, Loihi's later in loihi/). */
#ifndef SNNC_POWER_H
#define SNNC_POWER_H

#include <stdint.h>
#include <stdio.h>

typedef struct snnc_power_constant {
    const char *name;   /* e.g. "energy_per_synaptic_event_j" */
    double value;       /* SI units */
    const char *unit;   /* "J", "W", "s" */
    const char *source; /* citation: paper, table or figure, and how derived */
} snnc_power_constant;

typedef struct snnc_power_report {
    double seconds;             /* wall time on the chip at real time */
    double static_power_w;
    double dynamic_energy_j;
    double dynamic_power_w;
    double total_power_w;
    double energy_j;            /* static + dynamic over the run */
    int n_terms;
    struct {
        const char *name;       /* e.g. "synaptic events" */
        double count;
        double energy_j;
    } terms[8];
    int n_constants;
    const snnc_power_constant *constants;
} snnc_power_report;

/* A target's power model: a per-core static power, the duration of a tick
 * at real time, and one dynamic energy per kind of counted event, all taken
 * from (or derived from) the named constants. */
#define SNNC_POWER_MAX_EVENTS 8
typedef struct snnc_power_model {
    const char *target;             /* "truenorth" */
    double static_power_per_core_w;
    double seconds_per_tick;
    int n_events;
    const char *event_names[SNNC_POWER_MAX_EVENTS]; /* "synaptic events", ... */
    double event_energy_j[SNNC_POWER_MAX_EVENTS];
    int n_constants;
    const snnc_power_constant *constants;
} snnc_power_model;

/* The report of a run of `ticks` ticks on `cores` cores in which counts[i]
 * events of kind pm->event_names[i] happened (power.c). */
void snnc_power_estimate(const snnc_power_model *pm, double cores, double ticks,
                         const double *counts, snnc_power_report *out);
/* The value of the constant `name`, or NaN when the list has none. */
double snnc_power_constant_value(const snnc_power_constant *c, int n, const char *name);
/* Human-readable report, constants and sources included. */
void snnc_power_report_print(FILE *f, const snnc_power_report *r);
/* The report as a JSON object (jansson json_t *; the caller owns it). */
struct json_t *snnc_power_report_json(const snnc_power_report *r);

#endif
