/* describe.c — the model description `snnc inspect` prints: opset, inputs
 * and outputs with (symbolic) shapes, recognised layers, parameter count and
 * every unsupported node, as one JSON object (interface: include/snnc.h
 * snnc_describe_json; layers.h). */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "../ir/error.h"
#include "layers.h"

static json_t *shape_json(const snnc_graph *g, const snnc_value *v)
{
    if (v->rank < 0)
        return json_null();
    json_t *a = json_array();
    for (int i = 0; i < v->rank; i++)
        json_array_append_new(a, SNNC_IS_SYM(v->dims[i])
                                     ? json_string(snnc_graph_symbol_name(g, v->dims[i]))
                                     : json_integer(v->dims[i]));
    return a;
}

static json_t *ports_json(const snnc_graph *g, const int *idx, int n)
{
    json_t *a = json_array();
    for (int i = 0; i < n; i++) {
        const snnc_value *v = &g->values[idx[i]];
        json_array_append_new(a, json_pack("{s:s, s:s, s:o}", "name", v->name, "dtype",
                                           snnc_dtype_name(v->dtype), "shape", shape_json(g, v)));
    }
    return a;
}

static json_t *sizes_json(const int64_t *s, int n)
{
    json_t *a = json_array();
    for (int i = 0; i < n; i++)
        json_array_append_new(a, json_integer(s[i]));
    return a;
}

static json_t *layer_json(const snnc_graph *g, const snnc_layer *l)
{
    json_t *o = json_pack("{s:s, s:s, s:I, s:I, s:I, s:i}", "kind", snnc_layer_kind_name(l->kind),
                          "name", l->name, "inputs", (json_int_t)l->inputs, "units",
                          (json_int_t)l->units, "parameters", (json_int_t)l->parameters, "nodes",
                          l->n_nodes);
    if (l->activation[0])
        json_object_set_new(o, "activation", json_string(l->activation));
    if (l->kind <= SNNC_LAYER_GRU)
        json_object_set_new(o, "directions", json_integer(l->directions));
    if (l->kind == SNNC_LAYER_RNN_CELL)
        json_object_set_new(o, "steps", json_integer(l->steps));
    if (l->kind == SNNC_LAYER_RELATIONAL) {
        json_object_set_new(o, "objects", json_integer(l->objects));
        json_object_set_new(o, "g", sizes_json(l->g_sizes, l->n_g));
        json_object_set_new(o, "f", sizes_json(l->f_sizes, l->n_f));
    }
    if (l->in_value >= 0)
        json_object_set_new(o, "input", json_string(g->values[l->in_value].name));
    if (l->out_value >= 0)
        json_object_set_new(o, "output", json_string(g->values[l->out_value].name));
    return o;
}

/* Weights: float constants that some node reads (each counted once). */
static int64_t count_parameters(const snnc_graph *g)
{
    int64_t total = 0;
    bool *seen = calloc((size_t)g->n_values + 1, sizeof *seen);
    for (int k = 0; seen && k < g->n_nodes; k++)
        for (int i = 0; i < g->nodes[k].n_inputs; i++) {
            int v = g->nodes[k].inputs[i];
            const snnc_tensor *t = v >= 0 ? g->values[v].constant : NULL;
            if (t && t->dtype == SNNC_F32 && !seen[v]) {
                seen[v] = true;
                total += t->count;
            }
        }
    free(seen);
    return total;
}

char *snnc_describe_json(const snnc_graph *g, snnc_err *err)
{
    snnc_layer *layers = NULL;
    int n_layers = 0;
    if (snnc_recognize_layers(g, &layers, &n_layers, err))
        return NULL;
    json_t *root = json_pack("{s:s, s:s, s:i, s:s, s:o, s:o}", "format", "onnx", "file",
                             g->path ? g->path : "", "opset", g->opset, "producer",
                             g->producer ? g->producer : "", "inputs",
                             ports_json(g, g->inputs, g->n_inputs), "outputs",
                             ports_json(g, g->outputs, g->n_outputs));
    json_t *ls = json_array();
    for (int i = 0; i < n_layers; i++)
        json_array_append_new(ls, layer_json(g, &layers[i]));
    json_object_set_new(root, "layers", ls);
    json_object_set_new(root, "parameters", json_integer(count_parameters(g)));
    json_object_set_new(root, "nodes", json_integer(g->n_nodes));
    json_t *un = json_array();
    for (int k = 0; k < g->n_nodes; k++)
        if (g->nodes[k].op < 0)
            json_array_append_new(un, json_pack("{s:s, s:s, s:s}", "name", g->nodes[k].name,
                                                "op_type", g->nodes[k].op_type, "domain",
                                                g->nodes[k].domain));
    json_object_set_new(root, "unsupported", un);
    snnc_layers_free(layers, n_layers);
    char *text = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(root);
    if (!text)
        snnc_fail(err, SNNC_ENOMEM, "out of memory");
    return text;
}
