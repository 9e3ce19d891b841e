/* tn_sim.h — bit-exact simulation of a TrueNorth model (tn_sim.c).
 *
 * Timing contract (docs/TRUENORTH.md): an input spike listed for tick t is
 * integrated in tick t; a spike fired in tick t with delay d is integrated by
 * its destination axon in tick t + d; within a tick every neuron integrates
 * its synaptic input, then leaks, then thresholds, fires and resets.  An
 * axon receiving several spikes in one tick is simply active.  A destination
 * core outside the model makes the spike leave it. */
#ifndef SNNC_TN_SIM_H
#define SNNC_TN_SIM_H

#include <stddef.h>
#include <stdint.h>

#include "backends/power.h"
#include "tn_model.h"

typedef struct tn_input_spike {
    int64_t tick;
    int64_t core; /* core id */
    int axon;
} tn_input_spike;

typedef struct tn_output_spike {
    int64_t tick;
    int64_t core; /* core id of the firing neuron */
    int neuron;
} tn_output_spike;

/* Activity counted over a run: what the power model needs. */
typedef struct tn_activity {
    int64_t ticks;
    int64_t cores;
    int64_t spikes;            /* every neuron firing */
    int64_t spikes_leaving;    /* spikes whose destination is outside the model */
    int64_t synaptic_events;   /* active axon x set crossbar bit, integrated */
    int64_t hops;              /* sum over delivered spikes of |dx| + |dy| between cores */
    int64_t input_spikes;
} tn_activity;

typedef struct tn_sim tn_sim;

/* Checks and compiles the model (every parameter in range, destination axons
 * and delays valid, core ids unique) into the simulator's own state (the
 * model may be freed afterwards).  threads <= 0: one per CPU; the results
 * do not depend on the number of threads. */
int tn_sim_new(const tn_model *m, int threads, tn_sim **out, snnc_err *err);
void tn_sim_free(tn_sim *s);
/* Run `ticks` ticks from the current state, i.e. ticks T .. T+ticks-1 with T
 * = tn_sim_tick(s).  Input spikes carry absolute ticks and must be sorted by
 * tick (validated: unsorted, before T, unknown core or axon out of range ->
 * SNNC_EINVALID); spikes for ticks >= T+ticks are not used by this call.
 * Every spike fired is appended to *out (sorted by tick, core, neuron) when
 * out is not NULL. Activity is accumulated into *act. */
int tn_sim_run(tn_sim *s, int64_t ticks, const tn_input_spike *in, size_t n_in,
               tn_output_spike **out, size_t *n_out, tn_activity *act, snnc_err *err);
/* Membrane potential of a neuron (core index, neuron) after the last tick
 * run — for tests. */
int32_t tn_sim_potential(const tn_sim *s, int core_index, int neuron);
/* The next tick to run (0 before the first run). */
int64_t tn_sim_tick(const tn_sim *s);
/* Bytes the simulator allocated (the model's own memory not included). */
size_t tn_sim_memory(const tn_sim *s);
/* Instruction set of the whole-core (dense) update: 0 SSE2, 1 AVX2, 2
 * AVX-512BW, -1 none (no SSE2: per-neuron updates only).  tn_sim_new takes
 * the best the CPU has, capped by the environment variable SNNC_TN_SIMD
 * ("0", "1" or "2"; any other value: no cap) so tests can run each level;
 * a cap above what the CPU has gives the CPU's best, which
 * tn_sim_simd_level() returns before and tn_sim_simd() after tn_sim_new. */
int tn_sim_simd_level(void);
int tn_sim_simd(const tn_sim *s);

/* Power model of a run (tn_power.c, constants and their sources there and
 * in docs/TRUENORTH.md): static power of act->cores cores, dynamic energy
 * of its synaptic events, spikes and hops, at real time (1 ms ticks). */
const snnc_power_model *tn_power_model(void);
void tn_power_estimate(const tn_activity *act, snnc_power_report *out);

#endif
