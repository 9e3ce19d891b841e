/* power.h — the target-independent power and energy report: a target
 * supplies named constants with their sources, and the activity of a run
 * turns into static power, dynamic energy and totals (power.c; TrueNorth's
 * constants in truenorth/tn_power.c, Loihi's later in loihi/). */
#ifndef SNNC_POWER_H
#define SNNC_POWER_H

#include <stdint.h>

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

#endif
