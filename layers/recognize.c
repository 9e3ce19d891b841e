/* recognize.c — finds the layers later stages convert as units in a loaded
 * graph: recurrent operators, dense layers with their activation, unrolled
 * Elman cells and the relational-network pattern (interface: layers.h). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../ir/error.h"
#include "layers.h"

static const char *const kind_names[SNNC_LAYER_KIND_COUNT] = {
    [SNNC_LAYER_RNN] = "rnn",          [SNNC_LAYER_LSTM] = "lstm",
    [SNNC_LAYER_GRU] = "gru",          [SNNC_LAYER_RNN_CELL] = "rnn_cell",
    [SNNC_LAYER_DENSE] = "dense",      [SNNC_LAYER_ACTIVATION] = "activation",
    [SNNC_LAYER_RELATIONAL] = "relational",
};
_Static_assert(SNNC_LAYER_KIND_COUNT == 7, "kind_names must name every layer kind");

const char *snnc_layer_kind_name(snnc_layer_kind k)
{
    return (unsigned)k < SNNC_LAYER_KIND_COUNT ? kind_names[k] : "unknown";
}

typedef struct {
    const snnc_graph *g;
    bool *taken; /* node already part of a layer */
    snnc_layer *layers;
    int n, cap;
} finder;

static bool is_op(const snnc_graph *g, int k, const char *op)
{
    return k >= 0 && strcmp(g->nodes[k].op_type, op) == 0 && !*g->nodes[k].domain;
}

static bool is_activation(const snnc_graph *g, int k)
{
    static const char *const acts[] = {"Relu", "Tanh", "Sigmoid", "LeakyRelu", "HardSigmoid", "Clip"};
    for (size_t i = 0; i < sizeof acts / sizeof acts[0]; i++)
        if (is_op(g, k, acts[i]))
            return true;
    return false;
}

static const snnc_tensor *const_in(const snnc_graph *g, int k, int i)
{
    const snnc_node *n = &g->nodes[k];
    return i < n->n_inputs && n->inputs[i] >= 0 ? g->values[n->inputs[i]].constant : NULL;
}

/* The only node reading value v, or -1 (none, several, or a graph output). */
static int sole_consumer(const snnc_graph *g, int v)
{
    int found = -1;
    for (int i = 0; i < g->n_outputs; i++)
        if (g->outputs[i] == v)
            return -1;
    for (int k = 0; k < g->n_nodes; k++)
        for (int i = 0; i < g->nodes[k].n_inputs; i++)
            if (g->nodes[k].inputs[i] == v) {
                if (found >= 0 && found != k)
                    return -1;
                found = k;
            }
    return found;
}

static snnc_layer *new_layer(finder *f, snnc_layer_kind kind, int first_node)
{
    if (f->n == f->cap) {
        int cap = f->cap ? f->cap * 2 : 16;
        snnc_layer *p = realloc(f->layers, (size_t)cap * sizeof *p);
        if (!p)
            return NULL;
        f->layers = p;
        f->cap = cap;
    }
    snnc_layer *l = &f->layers[f->n++];
    memset(l, 0, sizeof *l);
    l->kind = kind;
    l->directions = 1;
    l->weight_value = -1;
    snprintf(l->name, sizeof l->name, "%s", f->g->nodes[first_node].name);
    return l;
}

static void add_node(finder *f, snnc_layer *l, int k)
{
    if ((l->n_nodes & (l->n_nodes - 1)) == 0) { /* grow at powers of two */
        int *p = realloc(l->nodes, (size_t)(l->n_nodes ? 2 * l->n_nodes : 4) * sizeof *p);
        if (!p)
            return;
        l->nodes = p;
    }
    l->nodes[l->n_nodes++] = k;
    f->taken[k] = true;
}

static void recurrent_layer(finder *f, int k)
{
    const snnc_graph *g = f->g;
    const snnc_node *n = &g->nodes[k];
    snnc_layer_kind kind = is_op(g, k, "LSTM") ? SNNC_LAYER_LSTM
                         : is_op(g, k, "GRU")  ? SNNC_LAYER_GRU
                                               : SNNC_LAYER_RNN;
    snnc_layer *l = new_layer(f, kind, k);
    if (!l)
        return;
    add_node(f, l, k);
    const snnc_tensor *w = const_in(g, k, 1);
    l->units = snnc_attr_int_or(n, "hidden_size", 0);
    l->directions = strcmp(snnc_attr_string_or(n, "direction", "forward"), "bidirectional") ? 1 : 2;
    if (w && w->rank == 3)
        l->inputs = w->dims[2];
    for (int i = 1; i < n->n_inputs && i < 4; i++)
        if (const_in(g, k, i))
            l->parameters += const_in(g, k, i)->count;
    if (n->n_inputs > 7 && const_in(g, k, 7))
        l->parameters += const_in(g, k, 7)->count; /* LSTM peepholes */
    const snnc_attr *acts = snnc_node_attr(n, "activations");
    const char *def = kind == SNNC_LAYER_LSTM ? "Sigmoid,Tanh,Tanh"
                    : kind == SNNC_LAYER_GRU  ? "Sigmoid,Tanh"
                                              : "Tanh";
    if (acts && acts->kind == SNNC_ATTR_STRINGS && acts->n > 0) {
        size_t off = 0;
        int per_dir = acts->n / l->directions ? acts->n / l->directions : acts->n;
        for (int i = 0; i < per_dir && off < sizeof l->activation; i++)
            off += (size_t)snprintf(l->activation + off, sizeof l->activation - off, "%s%s",
                                    i ? "," : "", acts->strings[i]);
    } else {
        snprintf(l->activation, sizeof l->activation, "%s", def);
    }
    l->in_value = n->inputs[0];
    l->out_value = n->n_outputs > 1 && n->outputs[1] >= 0 ? n->outputs[1] : n->outputs[0];
    l->weight_value = n->inputs[1];
}

/* Gemm or MatMul with a constant weight, the Add of a constant bias, and
 * (when `with_activation`) the activation reading the result. */
static snnc_layer *dense_layer(finder *f, int k, bool with_activation)
{
    const snnc_graph *g = f->g;
    const snnc_node *n = &g->nodes[k];
    const snnc_tensor *w = const_in(g, k, 1);
    if (!w || w->rank != 2 || f->taken[k])
        return NULL;
    bool gemm = is_op(g, k, "Gemm");
    bool trans_b = gemm && snnc_attr_int_or(n, "transB", 0);
    snnc_layer *l = new_layer(f, SNNC_LAYER_DENSE, k);
    if (!l)
        return NULL;
    add_node(f, l, k);
    l->inputs = trans_b ? w->dims[1] : w->dims[0];
    l->units = trans_b ? w->dims[0] : w->dims[1];
    l->parameters = w->count + (gemm && const_in(g, k, 2) ? const_in(g, k, 2)->count : 0);
    l->in_value = n->inputs[0];
    l->out_value = n->outputs[0];
    l->weight_value = n->inputs[1];
    int next = sole_consumer(g, l->out_value);
    if (next >= 0 && is_op(g, next, "Add") && !f->taken[next]) {
        int other = g->nodes[next].inputs[0] == l->out_value ? 1 : 0;
        const snnc_tensor *b = const_in(g, next, other);
        if (b) {
            add_node(f, l, next);
            l->parameters += b->count;
            l->out_value = g->nodes[next].outputs[0];
            next = sole_consumer(g, l->out_value);
        }
    }
    if (with_activation && next >= 0 && is_activation(g, next) && !f->taken[next]) {
        add_node(f, l, next);
        snprintf(l->activation, sizeof l->activation, "%s", g->nodes[next].op_type);
        l->out_value = g->nodes[next].outputs[0];
    }
    return l;
}

static int layer_producing(const finder *f, int v)
{
    for (int i = 0; i < f->n; i++)
        if (f->layers[i].out_value == v)
            return i;
    return -1;
}

static void drop_last_layer(finder *f)
{
    snnc_layer *l = &f->layers[--f->n];
    for (int i = 0; i < l->n_nodes; i++)
        f->taken[l->nodes[i]] = false;
    free(l->nodes);
}

/* Add(dense(x), dense(h)) -> activation: an unrolled Elman step.  Steps with
 * the same pair of weights join one layer. */
static void rnn_cell_step(finder *f, int add)
{
    const snnc_graph *g = f->g;
    const snnc_node *n = &g->nodes[add];
    if (n->n_inputs != 2 || f->taken[add])
        return;
    int act = sole_consumer(g, n->outputs[0]);
    if (act < 0 || !is_activation(g, act))
        return;
    int p[2], before = f->n;
    snnc_layer *d[2];
    for (int i = 0; i < 2; i++) {
        p[i] = g->values[n->inputs[i]].producer;
        d[i] = p[i] >= 0 && (is_op(g, p[i], "Gemm") || is_op(g, p[i], "MatMul"))
                   ? dense_layer(f, p[i], false) : NULL;
        if (!d[i] || d[i]->out_value != n->inputs[i]) {
            while (f->n > before)
                drop_last_layer(f);
            return;
        }
    }
    /* Steps are grouped by their pair of weights; the recurrent one is the
     * product that reads an earlier step's output (the first step reads the
     * initial state, so it cannot tell). */
    snnc_layer *dx = &f->layers[before], *dh = &f->layers[before + 1];
    int recurrent = layer_producing(f, dx->in_value) >= 0 ? 0
                  : layer_producing(f, dh->in_value) >= 0 ? 1 : -1;
    if (recurrent == 0) {
        snnc_layer *t = dx; dx = dh; dh = t;
    }
    int wa = dx->weight_value < dh->weight_value ? dx->weight_value : dh->weight_value;
    int wb = dx->weight_value ^ dh->weight_value ^ wa;
    int64_t nin = dx->inputs, units = dx->units, params = dx->parameters + dh->parameters;
    int in_value = dx->in_value;
    int nodes[64], nn = 0;
    for (int i = before; i < f->n; i++)
        for (int j = 0; j < f->layers[i].n_nodes && nn < 60; j++)
            nodes[nn++] = f->layers[i].nodes[j];
    while (f->n > before)
        drop_last_layer(f);
    snnc_layer *cell = NULL;
    for (int i = 0; i < f->n; i++)
        if (f->layers[i].kind == SNNC_LAYER_RNN_CELL && f->layers[i].weight_value == wa &&
            f->layers[i].weight_value2 == wb)
            cell = &f->layers[i];
    if (!cell) {
        cell = new_layer(f, SNNC_LAYER_RNN_CELL, nodes[0]);
        if (!cell)
            return;
        cell->parameters = params;
        cell->weight_value = wa;
        cell->weight_value2 = wb;
        cell->in_value = in_value;
        cell->inputs = nin;
        cell->units = units;
        snprintf(cell->activation, sizeof cell->activation, "%s", g->nodes[act].op_type);
    }
    if (recurrent >= 0) { /* this step tells which product is the input one */
        cell->in_value = in_value;
        cell->inputs = nin;
    }
    for (int i = 0; i < nn; i++)
        add_node(f, cell, nodes[i]);
    add_node(f, cell, add);
    add_node(f, cell, act);
    cell->out_value = g->nodes[act].outputs[0];
    cell->steps++;
}

/* Is value v built from an Expand/Tile/Concat pairing within a few nodes? */
static bool from_pairing(const snnc_graph *g, int v, int depth)
{
    int k = v >= 0 ? g->values[v].producer : -1;
    if (k < 0 || depth > 6)
        return false;
    if (is_op(g, k, "Expand") || is_op(g, k, "Tile"))
        return true;
    for (int i = 0; i < g->nodes[k].n_inputs; i++)
        if (from_pairing(g, g->nodes[k].inputs[i], depth + 1))
            return true;
    return false;
}

/* ReduceSum over the outputs of an MLP g applied to Concat'ed object pairs. */
static void relational_layer(finder *f, int reduce)
{
    const snnc_graph *g = f->g;
    int chain[8], nc = 0, v = g->nodes[reduce].inputs[0];
    for (int li; nc < 8 && (li = layer_producing(f, v)) >= 0 && f->layers[li].kind == SNNC_LAYER_DENSE;
         v = f->layers[li].in_value)
        chain[nc++] = li;
    int concat = v >= 0 ? g->values[v].producer : -1;
    if (nc == 0 || !is_op(g, concat, "Concat") || !from_pairing(g, v, 0))
        return;
    snnc_layer *rl = new_layer(f, SNNC_LAYER_RELATIONAL, concat);
    if (!rl)
        return;
    snnc_layer *ls = f->layers; /* new_layer may have moved the array */
    rl = &ls[f->n - 1];
    add_node(f, rl, concat);
    rl->in_value = v;
    rl->inputs = ls[chain[nc - 1]].inputs;
    for (int i = nc - 1; i >= 0; i--) {
        rl->g_sizes[rl->n_g++] = ls[chain[i]].units;
        rl->parameters += ls[chain[i]].parameters;
    }
    add_node(f, rl, reduce);
    const snnc_value *pairs = &g->values[g->nodes[reduce].inputs[0]];
    if (pairs->rank >= 3 && !SNNC_IS_SYM(pairs->dims[1])) {
        int64_t np = pairs->dims[1] * (pairs->rank == 4 && !SNNC_IS_SYM(pairs->dims[2]) ? pairs->dims[2] : 1);
        int64_t r = (int64_t)llround(sqrt((double)np));
        rl->objects = r * r == np ? r : np;
    }
    v = g->nodes[reduce].outputs[0];
    for (int li; rl->n_f < 8 && (li = -1, true);) {
        for (int i = 0; i < f->n; i++)
            if (f->layers[i].kind == SNNC_LAYER_DENSE && f->layers[i].in_value == v)
                li = i;
        if (li < 0)
            break;
        rl->f_sizes[rl->n_f++] = ls[li].units;
        rl->parameters += ls[li].parameters;
        v = ls[li].out_value;
        for (int j = 0; j < ls[li].n_nodes; j++)
            add_node(f, rl, ls[li].nodes[j]);
        ls[li].n_nodes = 0; /* absorbed */
    }
    rl->units = rl->n_f ? rl->f_sizes[rl->n_f - 1] : rl->g_sizes[rl->n_g - 1];
    rl->out_value = v;
    for (int i = 0; i < nc; i++) {
        for (int j = 0; j < ls[chain[i]].n_nodes; j++)
            add_node(f, rl, ls[chain[i]].nodes[j]);
        ls[chain[i]].n_nodes = 0;
    }
}

static int cmp_first_node(const void *a, const void *b)
{
    const snnc_layer *x = a, *y = b;
    int fx = x->n_nodes ? x->nodes[0] : 0, fy = y->n_nodes ? y->nodes[0] : 0;
    for (int i = 0; i < x->n_nodes; i++)
        fx = x->nodes[i] < fx ? x->nodes[i] : fx;
    for (int i = 0; i < y->n_nodes; i++)
        fy = y->nodes[i] < fy ? y->nodes[i] : fy;
    return (fx > fy) - (fx < fy);
}

int snnc_recognize_layers(const snnc_graph *g, snnc_layer **out, int *n, snnc_err *err)
{
    finder f = {.g = g, .taken = calloc((size_t)g->n_nodes + 1, sizeof(bool))};
    if (!f.taken)
        return snnc_fail(err, SNNC_ENOMEM, "out of memory");
    for (int k = 0; k < g->n_nodes; k++)
        if (is_op(g, k, "RNN") || is_op(g, k, "LSTM") || is_op(g, k, "GRU"))
            recurrent_layer(&f, k);
    for (int k = 0; k < g->n_nodes; k++)
        if (is_op(g, k, "Add"))
            rnn_cell_step(&f, k);
    for (int k = 0; k < g->n_nodes; k++)
        if ((is_op(g, k, "Gemm") || is_op(g, k, "MatMul")) && !f.taken[k])
            dense_layer(&f, k, true);
    for (int k = 0; k < g->n_nodes; k++)
        if (is_op(g, k, "ReduceSum"))
            relational_layer(&f, k);
    for (int k = 0; k < g->n_nodes; k++)
        if (!f.taken[k] && (is_activation(g, k) || is_op(g, k, "Softmax") || is_op(g, k, "LogSoftmax"))) {
            snnc_layer *l = new_layer(&f, SNNC_LAYER_ACTIVATION, k);
            if (!l)
                break;
            add_node(&f, l, k);
            snprintf(l->activation, sizeof l->activation, "%s", g->nodes[k].op_type);
            const snnc_value *o = &g->values[g->nodes[k].outputs[0]];
            l->units = o->rank > 0 && !SNNC_IS_SYM(o->dims[o->rank - 1]) ? o->dims[o->rank - 1] : 0;
            l->in_value = g->nodes[k].inputs[0];
            l->out_value = g->nodes[k].outputs[0];
        }
    /* drop layers absorbed into relational ones */
    int w = 0;
    for (int i = 0; i < f.n; i++) {
        if (f.layers[i].n_nodes)
            f.layers[w++] = f.layers[i];
        else
            free(f.layers[i].nodes);
    }
    f.n = w;
    if (f.n)
        qsort(f.layers, (size_t)f.n, sizeof *f.layers, cmp_first_node);
    free(f.taken);
    *out = f.layers;
    *n = f.n;
    return SNNC_OK;
}

void snnc_layers_free(snnc_layer *layers, int n)
{
    for (int i = 0; i < n; i++)
        free(layers[i].nodes);
    free(layers);
}
