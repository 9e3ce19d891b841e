/* tn_map.h — placing a spiking netlist (mapper/netlist.h) on TrueNorth
 * cores (tn_map.c): weight codes through four axon types (1, 2, 4, -8) m_j,
 * neuron copies for fan-out (one destination per neuron), relay neurons on
 * splitter cores for wide fan-out, greedy placement
 * minimising cores, neuron types, per-core metadata, a mapping report; the
 * rate coder of one input sample and the decoder of the readout.
 * The encoding and its derivation: docs/TRUENORTH_MAPPING.md. */
#ifndef SNNC_TN_MAP_H
#define SNNC_TN_MAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mapper/netlist.h"
#include "tn_model.h"
#include "tn_sim.h"

#define TN_MAP_MULT_MAX 31     /* 8 m_j <= 255 */
#define TN_MAP_FANIN_MAX (TN_AXONS / TN_AXON_TYPES)

typedef struct tn_map_options {
    bool clip_mult;            /* |mult| > 31: clip to 31 (counted) instead of refusing */
    int relay_groups;          /* a source with more destination groups than this sends
                                  its groups of delay >= 2 through relay neurons on
                                  splitter cores; 0 = 64 (only when copies cannot fit),
                                  < 0: every source with a group of delay >= 2 */
} tn_map_options;

/* One core of the mapping. */
typedef struct tn_map_core_usage {
    int64_t id;
    int population;            /* population of the core's first neuron */
    int axons;                 /* axons fed (4 per input group) */
    int neurons;               /* used neurons = originals + copies */
    int originals, copies;
    int relays;                /* relay neurons (splitter cores only) */
    int64_t synapses;          /* crossbar bits set */
} tn_map_core_usage;

typedef struct tn_map_report {
    int n_cores;
    tn_map_core_usage *cores;
    int64_t neurons, originals, copies, axons, synapses;
    int64_t relays;            /* relay neurons on splitter cores */
    int relay_cores;           /* splitter cores (the last relay_cores of the model) */
    int relayed_sources;       /* neurons whose spikes go through relays */
    int n_types;
    int placement_passes;      /* placements until every neuron's copies fitted */
    int clipped_mult;          /* neurons whose mult was clipped (clip_mult) */
    int clipped_codes;         /* codes +8 made +7 (neurons with both +8 and -8) */
    int max_axons, max_neurons;            /* largest per core */
    bool axons_ok, neurons_ok;             /* no core over 256 axons / neurons */
    bool one_destination_ok;   /* every used neuron one valid destination, every fed
                                  axon driven by exactly one neuron or input */
} tn_map_report;

/* One axon an input neuron's spikes are injected on; a spike the netlist's
 * input neuron fires at tick t is injected at tick t + delay. */
typedef struct tn_map_feed {
    int64_t core;              /* core id */
    int axon;
    int delay;
} tn_map_feed;

/* One input neuron (every neuron of every SNNC_POP_INPUT population, in
 * population order): what it encodes and where it is fed. */
typedef struct tn_map_input {
    int pop, neuron;
    int feature, sign;         /* spikes/window = round(sign x[feature] / scale) in [0, W] */
    float scale;
    int n_feeds;
    tn_map_feed *feeds;        /* 4 per destination group: axon types 0..3 */
} tn_map_input;

/* One readout neuron (SNNC_POP_READOUT populations, in order).  Its score,
 * sign (alpha count + V_end - V_begin) over its window, adds to class cls
 * (-1: none; cls = its index in the population when below n_classes). */
typedef struct tn_map_readout {
    int pop, neuron;
    int core_index, slot;      /* where it sits in the model */
    int32_t alpha;
    int sign, cls;
    int lag;                   /* its population's lag (snnc_netlist_lag) */
} tn_map_readout;

/* Where one netlist neuron sits: its original in `slot`, its copies in
 * the following slots (slots in all); core_index -1 for input neurons.
 * Relay neurons (splitter cores) belong to no netlist neuron. */
typedef struct tn_map_place {
    int core_index, slot, slots;
} tn_map_place;

typedef struct tn_mapping {
    tn_model *model;
    tn_map_report report;
    int window, steps, readout_windows;
    int n_features;            /* input features a sample has per step */
    int n_inputs;
    tn_map_input *inputs;
    int n_readout;
    tn_map_readout *readout;
    int n_classes;             /* netlist's n_classes, else the largest readout population */
    int readout_lag;           /* largest readout lag: ticks from a step's first input tick */
    int n_neurons;             /* all netlist neurons, populations in order */
    tn_map_place *place;       /* [n_neurons] */
} tn_mapping;

/* Map the netlist (opt may be NULL).  Refuses (SNNC_EINVALID: malformed
 * netlist; SNNC_EUNSUPPORTED: beyond what a mapping can do, e.g. fan-in over
 * 64, |mult| over 31, more than 64 destination groups at delay 1, which
 * relays cannot serve), naming the population and neuron. */
int tn_map_netlist(const snnc_netlist *n, const tn_map_options *opt, tn_mapping **out,
                   snnc_err *err);
void tn_mapping_free(tn_mapping *m);
/* The checks of tn_map_netlist that do not depend on placement, fast
 * enough to run before matching: a well-formed netlist, parameters and
 * codes in range, every neuron's fan-in within a core. */
int tn_map_check_structure(const snnc_netlist *n, snnc_err *err);
/* The report as JSON text (caller frees); netlist names the populations
 * (may be NULL). */
char *tn_map_report_json(const tn_mapping *m, const snnc_netlist *n, snnc_err *err);

/* Ticks one sample runs: (steps + readout_windows) W, or to the end of
 * the last readout window if later. */
int64_t tn_map_ticks(const tn_mapping *m);
/* The readout window (of the readout population with the largest lag) of
 * a sample starting at tick t0: the window of the last step at the
 * readout's lag, [t0 + (T-1) W + lag, + W) — as snnc_netlist_simulate. */
void tn_map_readout_window(const tn_mapping *m, int64_t t0, int64_t *t_begin, int64_t *t_end);

/* Rate code of one sample x[steps][n_features] (row-major) starting at
 * tick t0, the ideal stage's (mapper/netlist_sim.c): per input neuron and
 * step t, n = floor(sign x / scale + 1/2) clamped to [0, W] spikes in
 * window t at the phases p where ceil((p+1) n / W) > ceil(p n / W); a
 * spike at tick k is injected at k + delay on every axon the neuron feeds.
 * *out is sorted by (tick, core, axon); caller frees.  Non-finite x is
 * refused. */
int tn_map_encode_input(const tn_mapping *m, const float *x, int steps, int n_features,
                        int64_t t0, tn_input_spike **out, size_t *n_out, snnc_err *err);

/* The readout of one sample (arrays caller-provided). */
typedef struct tn_map_result {
    int32_t *counts;           /* [n_readout] spikes in the readout window */
    int64_t *scores;           /* [n_classes] sum of sign (alpha count + V_end - V_begin) */
    int cls;                   /* argmax of scores (first on ties) */
} tn_map_result;

/* Decode one window from the spikes of a run: counts of readout spikes
 * with tick in [t_begin, t_end), V_end = the simulator's potentials now
 * (after the last tick run, normally t_end - 1), V_begin given (NULL = 0,
 * which gives the brief's alpha count + V). */
void tn_map_decode(const tn_mapping *m, const tn_sim *s, const tn_output_spike *spk, size_t n_spk,
                   int64_t t_begin, int64_t t_end, const int32_t *v_begin, tn_map_result *res);

/* Run one sample that starts at tick t0 >= tn_sim_tick(s) (inputs `in`
 * from tn_map_encode_input with the same t0): runs to the end of every
 * readout window, recording each readout neuron's V at the start and end
 * of its own window, so scores are exactly snnc_netlist_simulate's.  The
 * simulator stops at the last window's end.  act may be NULL. */
int tn_map_run_sample(const tn_mapping *m, tn_sim *s, const tn_input_spike *in, size_t n_in,
                      int64_t t0, tn_map_result *res, tn_activity *act, snnc_err *err);

#endif
