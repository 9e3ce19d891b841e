/* netlist.c — freeing a spiking netlist and its tick count (interface:
 * mapper/netlist.h); also the mapper's result holders of mapper/mapper.h
 * (simulation results, match curves, count traces). */
#include <stdlib.h>

#include "mapper.h"
#include "netlist.h"

void snnc_netlist_free(snnc_netlist *n)
{
    if (!n)
        return;
    for (int p = 0; n->pops && p < n->n_pops; p++) {
        free(n->pops[p].threshold);
        free(n->pops[p].leak);
        free(n->pops[p].mult);
        free(n->pops[p].floor);
        free(n->pops[p].v0);
    }
    for (int k = 0; n->projs && k < n->n_projs; k++)
        free(n->projs[k].code);
    free(n->pops);
    free(n->projs);
    free(n->residual);
    free(n);
}

int64_t snnc_netlist_ticks(const snnc_netlist *n)
{
    return n ? ((int64_t)n->steps + n->readout_windows) * n->window : 0;
}

void snnc_sim_result_free(snnc_sim_result *r)
{
    if (!r)
        return;
    free(r->scores);
    free(r->pop_offset);
    free(r->counts);
    free(r->raster);
    r->raster = NULL;
    r->scores = NULL;
    r->pop_offset = NULL;
    r->counts = NULL;
}

void snnc_match_curves_free(snnc_match_curve *c, int n)
{
    for (int i = 0; c && i < n; i++) {
        free(c[i].z);
        free(c[i].ann);
        free(c[i].snn);
    }
    free(c);
}

void snnc_count_trace_free(snnc_count_trace *tr)
{
    for (int l = 0; tr && l < tr->n_layers; l++) {
        if (tr->P)
            free(tr->P[l]);
        if (tr->Pg)
            free(tr->Pg[l]);
        if (tr->cnt)
            free(tr->cnt[l]);
        if (tr->z)
            free(tr->z[l]);
    }
    if (tr) {
        free(tr->in);
        tr->in = NULL;
        free(tr->P);
        free(tr->Pg);
        tr->Pg = NULL;
        free(tr->cnt);
        free(tr->z);
        tr->P = NULL;
        tr->cnt = tr->z = NULL;
    }
}
