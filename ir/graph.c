/* graph.c — building and querying the graph IR (interface: graph.h). */
#include "graph.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *dup_str(const char *s) { return strdup(s ? s : ""); }

snnc_graph *snnc_graph_new(void) { return calloc(1, sizeof(snnc_graph)); }

static uint64_t name_hash(const char *s)
{
    uint64_t h = 1469598103934665603u; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211u;
    return h;
}

int snnc_graph_find_value(const snnc_graph *g, const char *name)
{
    if (!g->index_cap)
        return -1;
    size_t mask = (size_t)g->index_cap - 1;
    for (size_t i = name_hash(name) & mask;; i = (i + 1) & mask) {
        int v = g->index[i] - 1;
        if (v < 0)
            return -1;
        if (strcmp(g->values[v].name, name) == 0)
            return v;
    }
}

/* Insert value v into the name index, growing it to keep it under half full. */
static bool index_add(snnc_graph *g, int v)
{
    if (2 * (g->n_values + 1) >= g->index_cap) {
        int cap = g->index_cap ? 2 * g->index_cap : 64;
        while (2 * (g->n_values + 1) >= cap)
            cap *= 2;
        int *idx = calloc((size_t)cap, sizeof *idx);
        if (!idx)
            return false;
        free(g->index);
        g->index = idx;
        g->index_cap = cap;
        for (int k = 0; k < g->n_values; k++)
            if (k != v && !index_add(g, k))
                return false;
    }
    size_t mask = (size_t)g->index_cap - 1, i = name_hash(g->values[v].name) & mask;
    while (g->index[i])
        i = (i + 1) & mask;
    g->index[i] = v + 1;
    return true;
}

static bool grow(void **arr, int *cap, int need, size_t elem)
{
    if (need <= *cap)
        return true;
    int ncap = *cap ? *cap * 2 : 16;
    while (ncap < need)
        ncap *= 2;
    void *p = realloc(*arr, (size_t)ncap * elem);
    if (!p)
        return false;
    memset((char *)p + (size_t)*cap * elem, 0, (size_t)(ncap - *cap) * elem);
    *arr = p;
    *cap = ncap;
    return true;
}

int snnc_graph_intern_value(snnc_graph *g, const char *name)
{
    int i = snnc_graph_find_value(g, name);
    if (i >= 0)
        return i;
    if (!grow((void **)&g->values, &g->cap_values, g->n_values + 1, sizeof *g->values))
        return -1;
    snnc_value *v = &g->values[g->n_values];
    memset(v, 0, sizeof *v);
    v->name = dup_str(name);
    v->rank = -1;
    v->n_symval = -1;
    v->producer = -1;
    if (!v->name || !index_add(g, g->n_values)) {
        free(v->name);
        return -1;
    }
    return g->n_values++;
}

int snnc_graph_add_node(snnc_graph *g, const char *name, const char *op_type, const char *domain)
{
    if (!grow((void **)&g->nodes, &g->cap_nodes, g->n_nodes + 1, sizeof *g->nodes))
        return -1;
    snnc_node *n = &g->nodes[g->n_nodes];
    memset(n, 0, sizeof *n);
    if (name && *name) {
        n->name = dup_str(name);
    } else {
        char buf[96];
        snprintf(buf, sizeof buf, "%s_%d", op_type ? op_type : "node", g->n_nodes);
        n->name = dup_str(buf);
    }
    n->op_type = dup_str(op_type);
    n->domain = dup_str(domain);
    n->op = -1;
    return g->n_nodes++;
}

int snnc_graph_symbol(snnc_graph *g, const char *name)
{
    if (name)
        for (int i = 0; i < g->n_syms; i++)
            if (strcmp(g->sym_names[i], name) == 0)
                return i;
    char **p = realloc(g->sym_names, (size_t)(g->n_syms + 1) * sizeof *p);
    if (!p)
        return 0;
    g->sym_names = p;
    char buf[32];
    if (!name) {
        snprintf(buf, sizeof buf, "?%d", g->n_syms);
        name = buf;
    }
    g->sym_names[g->n_syms] = dup_str(name);
    return g->n_syms++;
}

const char *snnc_graph_symbol_name(const snnc_graph *g, int64_t dim)
{
    int id = SNNC_SYM_ID(dim);
    return id >= 0 && id < g->n_syms ? g->sym_names[id] : "?";
}

void snnc_attr_clear(snnc_attr *a)
{
    free(a->name);
    free(a->s);
    snnc_tensor_free(a->t);
    free(a->floats);
    free(a->ints);
    for (int i = 0; a->strings && i < a->n; i++)
        free(a->strings[i]);
    free(a->strings);
    memset(a, 0, sizeof *a);
}

void snnc_node_clear(snnc_node *n)
{
    free(n->name);
    free(n->op_type);
    free(n->domain);
    free(n->inputs);
    free(n->outputs);
    for (int i = 0; i < n->n_attrs; i++)
        snnc_attr_clear(&n->attrs[i]);
    free(n->attrs);
    memset(n, 0, sizeof *n);
}

void snnc_graph_free(snnc_graph *g)
{
    if (!g)
        return;
    for (int i = 0; i < g->n_values; i++) {
        free(g->values[i].name);
        snnc_tensor_free(g->values[i].constant);
    }
    free(g->values);
    free(g->index);
    for (int i = 0; i < g->n_nodes; i++)
        snnc_node_clear(&g->nodes[i]);
    free(g->nodes);
    free(g->inputs);
    free(g->outputs);
    for (int i = 0; i < g->n_syms; i++)
        free(g->sym_names[i]);
    free(g->sym_names);
    free(g->path);
    free(g->producer);
    free(g);
}

const snnc_attr *snnc_node_attr(const snnc_node *n, const char *name)
{
    for (int i = 0; i < n->n_attrs; i++)
        if (strcmp(n->attrs[i].name, name) == 0)
            return &n->attrs[i];
    return NULL;
}

int64_t snnc_attr_int_or(const snnc_node *n, const char *name, int64_t def)
{
    const snnc_attr *a = snnc_node_attr(n, name);
    return a && a->kind == SNNC_ATTR_INT ? a->i : def;
}

float snnc_attr_float_or(const snnc_node *n, const char *name, float def)
{
    const snnc_attr *a = snnc_node_attr(n, name);
    if (a && a->kind == SNNC_ATTR_FLOAT)
        return a->f;
    if (a && a->kind == SNNC_ATTR_INT)
        return (float)a->i;
    return def;
}

const char *snnc_attr_string_or(const snnc_node *n, const char *name, const char *def)
{
    const snnc_attr *a = snnc_node_attr(n, name);
    return a && a->kind == SNNC_ATTR_STRING ? a->s : def;
}

int snnc_graph_value_uses(const snnc_graph *g, int v)
{
    int uses = 0;
    for (int i = 0; i < g->n_nodes; i++)
        for (int k = 0; k < g->nodes[i].n_inputs; k++)
            uses += g->nodes[i].inputs[k] == v;
    return uses;
}

const char *snnc_value_shape_str(const snnc_graph *g, const snnc_value *v, char *buf, size_t size)
{
    if (v->rank < 0) {
        snprintf(buf, size, "?");
        return buf;
    }
    size_t off = (size_t)snprintf(buf, size, "[");
    for (int i = 0; i < v->rank && off < size; i++) {
        if (SNNC_IS_SYM(v->dims[i]))
            off += (size_t)snprintf(buf + off, size - off, "%s%s", i ? "," : "",
                                    snnc_graph_symbol_name(g, v->dims[i]));
        else
            off += (size_t)snprintf(buf + off, size - off, "%s%lld", i ? "," : "",
                                    (long long)v->dims[i]);
    }
    if (off < size)
        snprintf(buf + off, size - off, "]");
    return buf;
}

int snnc_graph_input_count(const snnc_graph *g) { return g->n_inputs; }
int snnc_graph_output_count(const snnc_graph *g) { return g->n_outputs; }
const char *snnc_graph_input_name(const snnc_graph *g, int i)
{
    return i >= 0 && i < g->n_inputs ? g->values[g->inputs[i]].name : NULL;
}
const char *snnc_graph_output_name(const snnc_graph *g, int i)
{
    return i >= 0 && i < g->n_outputs ? g->values[g->outputs[i]].name : NULL;
}
