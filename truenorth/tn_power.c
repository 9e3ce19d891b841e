/* tn_power.c — TrueNorth's power model (interface: tn_sim.h; the generic
 * report: backends/power.h).  Every number is a named constant with its
 * source; docs/TRUENORTH.md derives the split of the published chip power
 * into a per-core static part and per-event dynamic energies. */
#include "tn_sim.h"

/* Published figures (../shared/reference/truenorth.md). */
#define TICK_S 1e-3                     /* real time: one tick per millisecond */
#define CHIP_CORES 4096.0
#define CHIP_NEURONS (CHIP_CORES * 256.0)
#define BENCH_CHIP_POWER_W 0.072        /* Merolla 2014, 20 Hz, 128 synapses/neuron */
#define BENCH_RATE_HZ 20.0
#define BENCH_EVENTS_PER_SPIKE 128.0
#define PEAK_SOPS_PER_W 400e9           /* Merolla 2014 S8, Akopyan 2015 */
#define ENERGY_PER_HOP_J 2.3e-12        /* Merolla 2014 Fig. S4 */

/* Derived. */
#define GRID_MEAN_HOPS (2.0 * (64.0 * 64.0 - 1.0) / (3.0 * 64.0))
#define ENERGY_PER_SYNAPTIC_EVENT_J (1.0 / PEAK_SOPS_PER_W)
#define ENERGY_PER_SPIKE_J (2.0 * ENERGY_PER_HOP_J)
#define BENCH_SPIKES_PER_S (CHIP_NEURONS * BENCH_RATE_HZ)
#define BENCH_DYNAMIC_W                                                                            \
    (BENCH_SPIKES_PER_S * (BENCH_EVENTS_PER_SPIKE * ENERGY_PER_SYNAPTIC_EVENT_J +                  \
                           ENERGY_PER_SPIKE_J + GRID_MEAN_HOPS * ENERGY_PER_HOP_J))
#define STATIC_PER_CORE_W ((BENCH_CHIP_POWER_W - BENCH_DYNAMIC_W) / CHIP_CORES)

static const snnc_power_constant constants[] = {
    {"tick_s", TICK_S, "s", "real-time operation: one tick per millisecond (Merolla 2014)"},
    {"chip_cores", CHIP_CORES, "1", "4096 cores (64 x 64) per chip (Merolla 2014)"},
    {"chip_power_benchmark_w", BENCH_CHIP_POWER_W, "W",
     "Merolla 2014: whole chip at real time, 0.775 V, benchmark network with 20 Hz mean rate and "
     "128 active synapses per neuron"},
    {"benchmark_rate_hz", BENCH_RATE_HZ, "Hz", "Merolla 2014 benchmark: mean firing rate"},
    {"benchmark_synaptic_events_per_spike", BENCH_EVENTS_PER_SPIKE, "1",
     "Merolla 2014 benchmark: 128 active synapses per neuron"},
    {"benchmark_mean_hops", GRID_MEAN_HOPS, "1",
     "derived (assumption: the benchmark's routing is not published): mean Manhattan distance of "
     "two cores drawn uniformly on the 64 x 64 grid, 2 (64^2 - 1) / (3 * 64)"},
    {"energy_per_synaptic_event_j", ENERGY_PER_SYNAPTIC_EVENT_J, "J",
     "derived: 1 / (400 GSOPS/W), the peak efficiency (Merolla 2014 S8, Akopyan 2015), where the "
     "static power is spread over the most events: an upper bound of the dynamic energy of one "
     "synaptic event"},
    {"energy_per_hop_j", ENERGY_PER_HOP_J, "J", "Merolla 2014 Fig. S4: 2.3 pJ per spike per hop"},
    {"energy_per_spike_j", ENERGY_PER_SPIKE_J, "J",
     "assumption (no published per-spike figure): injection into and ejection from the mesh, each "
     "counted as one router traversal at 2.3 pJ (Merolla 2014 Fig. S4)"},
    {"benchmark_dynamic_power_w", BENCH_DYNAMIC_W, "W",
     "derived: 2^20 neurons x 20 Hz x (128 x energy_per_synaptic_event_j + energy_per_spike_j + "
     "benchmark_mean_hops x energy_per_hop_j)"},
    {"static_power_per_core_w", STATIC_PER_CORE_W, "W",
     "derived: (chip_power_benchmark_w - benchmark_dynamic_power_w) / 4096; includes leakage and "
     "the every-tick neuron updates, which do not depend on activity at real time"},
};

static const snnc_power_model model = {
    .target = "truenorth",
    .static_power_per_core_w = STATIC_PER_CORE_W,
    .seconds_per_tick = TICK_S,
    .n_events = 3,
    .event_names = {"synaptic events", "spikes", "hops"},
    .event_energy_j = {ENERGY_PER_SYNAPTIC_EVENT_J, ENERGY_PER_SPIKE_J, ENERGY_PER_HOP_J},
    .n_constants = (int)(sizeof constants / sizeof constants[0]),
    .constants = constants,
};

const snnc_power_model *tn_power_model(void) { return &model; }

void tn_power_estimate(const tn_activity *act, snnc_power_report *out)
{
    double counts[3] = {(double)act->synaptic_events, (double)act->spikes, (double)act->hops};
    snnc_power_estimate(&model, (double)act->cores, (double)act->ticks, counts, out);
}
