/* netlist.h — the spiking netlist: the target-independent spiking network
 * a constrained Elman network is lowered to (docs/CONVERSION.md §3-4;
 * lower.c builds it, match.c fits its neuron parameters, netlist_sim.c runs
 * it tick by tick — the "ideal spiking" stage —, netlist_json.c writes
 * OUTDIR/network.json).  Targets (truenorth/tn_map.c) place it on cores.
 *
 * Neurons are integer integrate-and-fire units with linear reset, the
 * deterministic TrueNorth neuron: per tick
 *   V += sum over input spikes of mult * code;  V += leak;
 *   if V >= threshold: spike, V -= threshold;  else if V < -floor: V = -floor.
 * Time: step t of the sequence is window t, ticks [t W, (t+1) W).  A spike
 * emitted at tick k through a projection of delay d is integrated at tick
 * k + d.  Input generators emit step t's n spikes at the phases p of window t
 * where ceil((p+1) n / W) > ceil(p n / W).  A population's own window t is
 * shifted by its lag, the largest sum of feedforward delays from an input
 * (recurrences add no lag: projections to an earlier population, or between
 * two populations of the same `tensor` and role — a tanh pair's halves; a
 * split layer's partials -> final is feedforward, final -> partials, to an
 * earlier population, the recurrence).  The readout's score is the growth
 * of threshold*count + V over its own window of the last step (docs/NETLIST.md).  Codes of a
 * projection already include the signs of both populations, so a projection
 * from or to a sign -1 population may carry +L/2 (8), the negated -L/2;
 * no neuron has both +8 and -8 (lower.c fit_pair_codes: 4-bit two's
 * complement holds -8..7, or -7..8 for a negated neuron, never both). */
#ifndef SNNC_NETLIST_H
#define SNNC_NETLIST_H

#include <stdint.h>

#include "snnc.h"

typedef enum {
    SNNC_POP_INPUT,     /* rate-coded spike generators, one per input feature and sign */
    SNNC_POP_HIDDEN,    /* per-step dense or recurrent neurons (or one sign of a tanh pair) */
    SNNC_POP_PARTIAL,   /* fan-in split: one sign of a partial sum */
    SNNC_POP_READOUT,   /* readout neurons; the class is argmax of threshold*count + V */
    SNNC_POP_ROLE_COUNT
} snnc_pop_role;

typedef struct snnc_population {
    char name[128];         /* e.g. "/rnn/RNN+" ; the ONNX tensor for connectors */
    char tensor[128];       /* ONNX tensor this population carries (connector name) */
    snnc_pop_role role;
    int sign;               /* +1, or -1 for the negative half of a signed pair */
    int n;
    int window_offset;      /* windows of latency from the input of the sequence step */
    int group;              /* fan-in group of a split layer's partial (or readout)
                             * population; 0 otherwise */
    float unit;             /* split layer (partial and final populations): output
                             * counts one partial spike of code 1 stands for */
    /* per neuron (NULL for inputs): */
    int32_t *threshold;     /* alpha >= 1 */
    int32_t *leak;          /* per tick, signed */
    int32_t *mult;          /* m_j: weight of code 1 (type weights (1,2,4,-8) m_j) */
    int32_t *floor;         /* V is held at >= -floor */
    int32_t *v0;            /* initial potential */
    /* inputs only: spikes per window = round(value / scale), clamped to [0, W] */
    float input_scale;
    int input_feature0;     /* first feature index it encodes */
} snnc_population;

typedef struct snnc_projection {
    int src, dst;           /* population indices */
    int delay;              /* ticks, 1..W (recurrent: W, so window k reaches k+1) */
    int8_t *code;           /* [dst.n][src.n] weight codes, 0 = no synapse */
} snnc_projection;

typedef struct snnc_netlist {
    int window;             /* ticks per sequence step, W = activity_levels - 1 */
    int steps;              /* sequence length T */
    int weight_levels, activity_levels;
    int readout_windows;    /* windows after the last step until the readout is read */
    int n_classes;
    int n_pops, n_projs;
    snnc_population *pops;
    snnc_projection *projs;
    /* matching residual per population (mean squared count error), filled by match.c */
    double *residual;
} snnc_netlist;

/* The rate code: does a source of n spikes per window (0 <= n <= W) spike at
 * phase p of the window?  Spikes at the phases where ceil((p+1) n / W) >
 * ceil(p n / W), the first at phase 0.  One rule for every stage. */
static inline int snnc_rate_spike(int64_t n, int64_t W, int64_t p)
{
    return ((p + 1) * n + W - 1) / W > (p * n + W - 1) / W;
}

void snnc_netlist_free(snnc_netlist *n);
/* Ticks one sample takes: (steps + readout_windows) * window. */
int64_t snnc_netlist_ticks(const snnc_netlist *n);

#endif
