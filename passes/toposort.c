/* toposort.c — checks that every node input is defined and that the graph
 * has no cycle, and orders the nodes topologically (interface: passes.h). */
#include <stdlib.h>
#include <string.h>

#include "../ir/error.h"
#include "passes.h"

static bool is_graph_input(const snnc_graph *g, int v)
{
    for (int i = 0; i < g->n_inputs; i++)
        if (g->inputs[i] == v)
            return true;
    return false;
}

static int check_defined(const snnc_graph *g, snnc_err *err)
{
    for (int k = 0; k < g->n_nodes; k++) {
        const snnc_node *n = &g->nodes[k];
        for (int i = 0; i < n->n_inputs; i++) {
            int v = n->inputs[i];
            if (v < 0)
                continue;
            const snnc_value *val = &g->values[v];
            if (val->producer < 0 && !val->constant && !is_graph_input(g, v))
                return snnc_fail(err, SNNC_EINVALID,
                                 "node '%s' (%s) reads '%s', which no node, initializer or graph "
                                 "input defines",
                                 n->name, n->op_type, val->name);
        }
    }
    for (int i = 0; i < g->n_outputs; i++) {
        const snnc_value *val = &g->values[g->outputs[i]];
        if (val->producer < 0 && !val->constant && !is_graph_input(g, g->outputs[i]))
            return snnc_fail(err, SNNC_EINVALID, "graph output '%s' is never computed", val->name);
    }
    return SNNC_OK;
}

/* Kahn's algorithm: a node is ready when every producer of its inputs is placed. */
int snnc_pass_toposort(snnc_graph *g, snnc_err *err)
{
    int rc = check_defined(g, err);
    if (rc)
        return rc;
    int n = g->n_nodes;
    if (n <= 0)
        return SNNC_OK;
    int *pending = calloc((size_t)n, sizeof *pending);
    int *order = malloc((size_t)n * sizeof *order);
    bool *placed = calloc((size_t)n, sizeof *placed);
    if (!pending || !order || !placed) {
        free(pending), free(order), free(placed);
        return snnc_fail(err, SNNC_ENOMEM, "out of memory");
    }
    int done = 0;
    bool progress = true;
    /* Repeated sweeps keep the original order among independent nodes, which
     * keeps output deterministic and close to the exporter's order. */
    while (done < n && progress) {
        progress = false;
        for (int k = 0; k < n; k++) {
            if (placed[k])
                continue;
            const snnc_node *nd = &g->nodes[k];
            bool ready = true;
            for (int i = 0; i < nd->n_inputs && ready; i++) {
                int v = nd->inputs[i];
                int p = v >= 0 ? g->values[v].producer : -1;
                ready = p < 0 || placed[p];
            }
            if (ready) {
                placed[k] = true;
                order[done++] = k;
                progress = true;
            }
        }
    }
    if (done < n) {
        int k = 0;
        while (placed[k])
            k++;
        rc = snnc_fail(err, SNNC_EINVALID,
                       "the graph has a cycle through node '%s' (%s): its inputs depend on its "
                       "own outputs",
                       g->nodes[k].name, g->nodes[k].op_type);
    } else {
        snnc_node *sorted = malloc((size_t)(unsigned)n * sizeof *sorted);
        if (!sorted) {
            rc = snnc_fail(err, SNNC_ENOMEM, "out of memory");
        } else {
            for (int i = 0; i < n; i++)
                sorted[i] = g->nodes[order[i]];
            memcpy(g->nodes, sorted, (size_t)(unsigned)n * sizeof *sorted);
            free(sorted);
            for (int k = 0; k < n; k++)
                for (int o = 0; o < g->nodes[k].n_outputs; o++)
                    if (g->nodes[k].outputs[o] >= 0)
                        g->values[g->nodes[k].outputs[o]].producer = k;
        }
    }
    free(pending), free(order), free(placed);
    return rc;
}
