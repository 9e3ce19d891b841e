/* settle.c — initial potentials of offset-coded tanh neurons for the ticks
 * before their first window (interface: mapper/mapper.h; design:
 * docs/CONVERSION.md §3).  Matching fits a neuron from the start of its
 * window 0, with the potential v0 (rounding potential plus the step-0
 * charge) there.  But a population's window 0 starts at its lag (1 tick for
 * an unsplit layer, 2 for a split layer's final neurons), and in the ticks
 * before it the neuron already leaks: an offset-coded neuron's leak is about
 * W/2 counts per window (its line's W/2), half a threshold per tick, so
 * with v0 = threshold/2 it fires in tick 0, outside its counted window, and
 * that spike reaches the recurrence inside window 0 as if h_0 were not 0.
 * Here v0 is set so that the potential at the window's start is the fitted
 * one: v0 = V_start - lag leak, with m forced spikes (+ m threshold, the
 * smallest m that reaches V_start) when V_start is at or above the
 * threshold; the forced spikes' input to the neurons of these populations
 * (mult code per spike, known: no input arrives before the window) is
 * taken off their V_start, three rounds (the forced spikes depend on it).
 * V_start below -floor (a negative charge, floor 0) cannot be held: v0 is
 * then V_start - lag leak and the floor clamps it, as before. */
#include <stdlib.h>
#include <string.h>

#include "mapper.h"

#define SETTLE_ROUNDS 3

bool snnc_settled_pop(const snnc_netlist *n, const snnc_ann *q, int p)
{
    int l = snnc_lower_layer_of(n, p);
    snnc_pop_role r = n->pops[p].role;
    return l >= 0 && (r == SNNC_POP_HIDDEN || r == SNNC_POP_PARTIAL) && snnc_lower_offset_coded(q, l);
}

int32_t *snnc_settle_save(const snnc_netlist *n, const snnc_ann *q)
{
    int total = 0;
    for (int p = 0; p < n->n_pops; p++)
        total += snnc_settled_pop(n, q, p) ? n->pops[p].n : 0;
    int32_t *v = malloc(((size_t)total + 1) * sizeof *v);
    for (int p = 0, g = 0; v && p < n->n_pops; p++)
        for (int j = 0; snnc_settled_pop(n, q, p) && j < n->pops[p].n; j++)
            v[g++] = n->pops[p].v0[j];
    return v;
}

void snnc_settle_restore(snnc_netlist *n, const snnc_ann *q, const int32_t *vstart)
{
    for (int p = 0, g = 0; p < n->n_pops; p++)
        for (int j = 0; snnc_settled_pop(n, q, p) && j < n->pops[p].n; j++)
            n->pops[p].v0[j] = vstart[g++];
}

/* The lag ticks before window 0 from v0 (leak only): the potential at the
 * window's start, and the spikes fired. */
static int64_t prewindow(int64_t v0, int32_t leak, int32_t thr, int32_t floor_, int lag, int *spikes)
{
    int64_t V = v0;
    *spikes = 0;
    for (int k = 0; k < lag; k++) {
        V += leak;
        if (V >= thr) {
            V -= thr;
            ++*spikes;
        } else if (V < -(int64_t)floor_) {
            V = -(int64_t)floor_;
        }
    }
    return V;
}

int32_t snnc_settle_v0(int64_t vstart, int32_t leak, int32_t thr, int32_t floor_, int lag, int *spikes)
{
    for (int m = 0; m <= lag; m++) {
        int64_t v0 = vstart - (int64_t)lag * leak + (int64_t)m * thr;
        if (prewindow(v0, leak, thr, floor_, lag, spikes) == vstart)
            return (int32_t)v0;
    }
    int64_t v0 = vstart - (int64_t)lag * leak;
    prewindow(v0, leak, thr, floor_, lag, spikes);
    return (int32_t)v0;
}

int snnc_settle(snnc_netlist *n, const snnc_ann *q, const int32_t *vstart)
{
    int total = 0;
    for (int p = 0; p < n->n_pops; p++)
        total += snnc_settled_pop(n, q, p) ? n->pops[p].n : 0;
    int *first = malloc(((size_t)n->n_pops + 1) * sizeof *first), *spk = calloc((size_t)total + 1, sizeof *spk);
    int64_t *comp = calloc((size_t)total + 1, sizeof *comp);
    if (!first || !spk || !comp) {
        free(first), free(spk), free(comp);
        return -1;
    }
    for (int p = 0, g = 0; p < n->n_pops; p++) {
        first[p] = snnc_settled_pop(n, q, p) ? g : -1;
        g += first[p] >= 0 ? n->pops[p].n : 0;
    }
    for (int round = 0; round < SETTLE_ROUNDS; round++) {
        for (int p = 0; p < n->n_pops; p++) {
            snnc_population *P = &n->pops[p];
            int lag = snnc_netlist_lag(n, p);
            for (int j = 0; first[p] >= 0 && j < P->n; j++) {
                int g = first[p] + j;
                P->v0[j] = snnc_settle_v0(vstart[g] + comp[g], P->leak[j], P->threshold[j], P->floor[j], lag, &spk[g]);
            }
        }
        memset(comp, 0, (size_t)total * sizeof *comp);
        for (int k = 0; k < n->n_projs; k++) { /* forced spikes' input, to take off V_start */
            const snnc_projection *pr = &n->projs[k];
            if (first[pr->src] < 0 || first[pr->dst] < 0)
                continue;
            int ns = n->pops[pr->src].n;
            const snnc_population *D = &n->pops[pr->dst];
            for (int i = 0; i < ns; i++)
                for (int j = 0; spk[first[pr->src] + i] && j < D->n; j++)
                    comp[first[pr->dst] + j] -=
                        (int64_t)spk[first[pr->src] + i] * D->mult[j] * pr->code[(size_t)j * ns + i];
        }
    }
    free(first), free(spk), free(comp);
    return 0;
}
