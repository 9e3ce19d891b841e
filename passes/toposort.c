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

/* A min-heap of node indices: among ready nodes the earliest in the file
 * goes first, which keeps the order deterministic and close to the exporter's. */
static void heap_push(int *h, int *n, int v)
{
    int i = (*n)++;
    for (; i > 0 && h[(i - 1) / 2] > v; i = (i - 1) / 2)
        h[i] = h[(i - 1) / 2];
    h[i] = v;
}

static int heap_pop(int *h, int *n)
{
    int top = h[0], v = h[--*n], i = 0;
    for (;;) {
        int c = 2 * i + 1;
        if (c >= *n)
            break;
        if (c + 1 < *n && h[c + 1] < h[c])
            c++;
        if (h[c] >= v)
            break;
        h[i] = h[c];
        i = c;
    }
    h[i] = v;
    return top;
}

/* Kahn's algorithm: a node is ready when every producer of its inputs is
 * placed; O(nodes + edges). */
int snnc_pass_toposort(snnc_graph *g, snnc_err *err)
{
    int rc = check_defined(g, err);
    if (rc)
        return rc;
    int n = g->n_nodes;
    if (n <= 0)
        return SNNC_OK;
    size_t un = (size_t)(unsigned)n;
    int *pending = calloc(un, sizeof *pending);   /* unplaced producers per node */
    int *order = malloc(un * sizeof *order);
    bool *placed = calloc(un, sizeof *placed);
    int *heap = malloc(un * sizeof *heap);
    int *first = malloc(((size_t)g->n_values + 1) * sizeof *first); /* value -> consumer list */
    int n_edges = 0;
    for (int k = 0; k < n; k++)
        n_edges += g->nodes[k].n_inputs;
    int *next = malloc(((size_t)n_edges + 1) * sizeof *next), *who = malloc(((size_t)n_edges + 1) * sizeof *who);
    if (!pending || !order || !placed || !heap || !first || !next || !who) {
        free(pending), free(order), free(placed), free(heap), free(first), free(next), free(who);
        return snnc_fail(err, SNNC_ENOMEM, "out of memory");
    }
    for (int v = 0; v < g->n_values; v++)
        first[v] = -1;
    int e = 0, h = 0, done = 0;
    for (int k = n - 1; k >= 0; k--)
        for (int i = 0; i < g->nodes[k].n_inputs; i++) {
            int v = g->nodes[k].inputs[i];
            if (v < 0 || g->values[v].producer < 0)
                continue;
            pending[k]++;
            who[e] = k;
            next[e] = first[v];
            first[v] = e++;
        }
    for (int k = 0; k < n; k++)
        if (!pending[k])
            heap_push(heap, &h, k);
    while (h > 0) {
        int k = heap_pop(heap, &h);
        placed[k] = true;
        order[done++] = k;
        for (int o = 0; o < g->nodes[k].n_outputs; o++) {
            int v = g->nodes[k].outputs[o];
            for (int x = v >= 0 ? first[v] : -1; x >= 0; x = next[x])
                if (--pending[who[x]] == 0)
                    heap_push(heap, &h, who[x]);
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
    free(pending), free(order), free(placed), free(heap), free(first), free(next), free(who);
    return rc;
}
