/* dce.c — dead-node elimination: drops nodes none of whose outputs reach a
 * graph output, and nodes whose outputs were all folded to constants
 * (interface: passes.h). */
#include <stdlib.h>

#include "../ir/error.h"
#include "passes.h"

int snnc_pass_dce(snnc_graph *g, snnc_err *err)
{
    bool *live = calloc((size_t)g->n_values + 1, sizeof *live);
    bool *keep = calloc((size_t)g->n_nodes + 1, sizeof *keep);
    if (!live || !keep) {
        free(live), free(keep);
        return snnc_fail(err, SNNC_ENOMEM, "out of memory");
    }
    for (int i = 0; i < g->n_outputs; i++)
        live[g->outputs[i]] = true;
    /* Nodes are sorted: one backward sweep marks everything that feeds a live value. */
    for (int k = g->n_nodes - 1; k >= 0; k--) {
        const snnc_node *n = &g->nodes[k];
        for (int o = 0; o < n->n_outputs && !keep[k]; o++) {
            int v = n->outputs[o];
            keep[k] = v >= 0 && live[v] && !g->values[v].constant;
        }
        for (int i = 0; keep[k] && i < n->n_inputs; i++)
            if (n->inputs[i] >= 0)
                live[n->inputs[i]] = true;
    }
    int w = 0;
    for (int k = 0; k < g->n_nodes; k++) {
        if (keep[k]) {
            g->nodes[w++] = g->nodes[k];
        } else {
            for (int o = 0; o < g->nodes[k].n_outputs; o++)
                if (g->nodes[k].outputs[o] >= 0)
                    g->values[g->nodes[k].outputs[o]].producer = -1;
            snnc_node_clear(&g->nodes[k]);
        }
    }
    g->n_nodes = w;
    for (int k = 0; k < g->n_nodes; k++)
        for (int o = 0; o < g->nodes[k].n_outputs; o++)
            if (g->nodes[k].outputs[o] >= 0)
                g->values[g->nodes[k].outputs[o]].producer = k;
    /* Constants nothing reads any more are released. */
    for (int v = 0; v < g->n_values; v++) {
        bool is_out = false;
        for (int i = 0; i < g->n_outputs; i++)
            is_out |= g->outputs[i] == v;
        if (g->values[v].constant && !live[v] && !is_out) {
            snnc_tensor_free(g->values[v].constant);
            g->values[v].constant = NULL;
        }
    }
    free(live), free(keep);
    return SNNC_OK;
}
