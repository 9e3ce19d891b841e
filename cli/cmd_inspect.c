/* cmd_inspect.c — `snnc inspect MODEL.onnx [--json]`: opset, inputs and
 * outputs with shapes, recognised layers, parameters, unsupported nodes.
 * A TrueNorth model file (MODEL.json) is described by truenorth/tn_describe.c. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_options.h"
#include "io/file.h"
#include "truenorth/tn_model.h"

static const char usage[] =
    "usage: snnc inspect MODEL.onnx|MODEL.json [--json]\n\n"
    "Describe a model: opset, inputs and outputs with shapes (symbolic dimensions by name),\n"
    "the layers snnc recognises (kind, sizes, activation, parameters), the total number of\n"
    "parameters and every node snnc cannot execute.\n"
    "  --json   one JSON object with the keys format, opset, inputs, outputs, layers,\n"
    "           parameters, unsupported\n"
    "A TrueNorth model file (IBM CPE form, MODEL.json): cores, used neurons, crossbar bits\n"
    "set, neuron and crossbar types, delays histogram, destinations leaving the model\n"
    "(--json keys format, cores, neurons, synapses, neuron_types, crossbar_types, delays,\n"
    "destinations, per_core).\n";

static void print_shape(const json_t *shape)
{
    if (!json_is_array(shape)) {
        printf("?");
        return;
    }
    printf("[");
    for (size_t i = 0; i < json_array_size(shape); i++) {
        const json_t *d = json_array_get(shape, i);
        if (json_is_integer(d))
            printf("%s%lld", i ? "," : "", (long long)json_integer_value(d));
        else
            printf("%s%s", i ? "," : "", json_string_value(d));
    }
    printf("]");
}

static void print_ports(const char *title, const json_t *ports)
{
    size_t i;
    const json_t *p;
    json_array_foreach(ports, i, p) {
        printf("%-8s %-24s %-8s ", i ? "" : title, json_string_value(json_object_get(p, "name")),
               json_string_value(json_object_get(p, "dtype")));
        print_shape(json_object_get(p, "shape"));
        printf("\n");
    }
}

static void print_text(const json_t *d)
{
    printf("model    %s (opset %lld, %s)\n", json_string_value(json_object_get(d, "file")),
           (long long)json_integer_value(json_object_get(d, "opset")),
           json_string_value(json_object_get(d, "producer")));
    print_ports("inputs", json_object_get(d, "inputs"));
    print_ports("outputs", json_object_get(d, "outputs"));
    printf("\n%-4s %-11s %-28s %7s %7s %-18s %10s\n", "#", "layer", "name", "inputs", "units",
           "activation", "parameters");
    size_t i;
    const json_t *l;
    json_array_foreach(json_object_get(d, "layers"), i, l) {
        const json_t *act = json_object_get(l, "activation");
        printf("%-4zu %-11s %-28.28s %7lld %7lld %-18s %10lld", i,
               json_string_value(json_object_get(l, "kind")),
               json_string_value(json_object_get(l, "name")),
               (long long)json_integer_value(json_object_get(l, "inputs")),
               (long long)json_integer_value(json_object_get(l, "units")),
               act ? json_string_value(act) : "-",
               (long long)json_integer_value(json_object_get(l, "parameters")));
        if (json_object_get(l, "directions") && json_integer_value(json_object_get(l, "directions")) == 2)
            printf("  bidirectional");
        if (json_object_get(l, "steps"))
            printf("  %lld steps", (long long)json_integer_value(json_object_get(l, "steps")));
        if (json_object_get(l, "objects"))
            printf("  %lld objects", (long long)json_integer_value(json_object_get(l, "objects")));
        printf("\n");
    }
    printf("\nparameters %lld, nodes %lld\n", (long long)json_integer_value(json_object_get(d, "parameters")),
           (long long)json_integer_value(json_object_get(d, "nodes")));
    const json_t *un = json_object_get(d, "unsupported");
    printf("unsupported nodes: %zu\n", json_array_size(un));
    json_array_foreach(un, i, l) {
        const char *dom = json_string_value(json_object_get(l, "domain"));
        printf("  %s (%s%s%s)\n", json_string_value(json_object_get(l, "name")),
               json_string_value(json_object_get(l, "op_type")), *dom ? ", domain " : "", dom);
    }
}

/* A TrueNorth model file: named *.json, or its first non-space byte is '{' or '/'. */
static bool is_truenorth(const char *path, const char *text, size_t size)
{
    size_t n = strlen(path), i = 0;
    if (n >= 5 && !strcmp(path + n - 5, ".json"))
        return true;
    while (i < size && strchr(" \t\n\r", text[i]))
        i++;
    return i < size && (text[i] == '{' || text[i] == '/');
}

static void print_truenorth(const json_t *d)
{
#define I(o, k) ((long long)json_integer_value(json_object_get((o), (k))))
    printf("model          %s (TrueNorth CPE model)\n", json_string_value(json_object_get(d, "file")));
    printf("cores          %lld\n", I(d, "cores"));
    printf("neurons        %lld used (%lld stochastic)\n", I(d, "neurons"), I(d, "stochastic_neurons"));
    printf("synapses       %lld crossbar bits set\n", I(d, "synapses"));
    printf("neuron types   %lld\n", I(d, "neuron_types"));
    printf("crossbar types %lld\n", I(d, "crossbar_types"));
    printf("delays        ");
    const json_t *h = json_object_get(d, "delays");
    for (int k = 1; k <= 15; k++) {
        char key[4];
        snprintf(key, sizeof key, "%d", k);
        if (I(h, key))
            printf(" %d:%lld", k, I(h, key));
    }
    const json_t *dest = json_object_get(d, "destinations"), *lc = json_object_get(dest, "leaving_cores");
    printf("\ndestinations   %lld within the model, %lld leaving it", I(dest, "internal"), I(dest, "leaving"));
    for (size_t i = 0; i < json_array_size(lc); i++)
        printf("%s%lld", i ? "," : " (to cores ", (long long)json_integer_value(json_array_get(lc, i)));
    printf("%s\n", json_array_size(lc) ? ")" : "");
#undef I
}

/* Show a model's JSON description `text` (NULL: failed, err says why; freed
 * here): as is with --json, else read back and printed by `print`. */
static int show(char *text, const snnc_err *err, bool json, void (*print)(const json_t *))
{
    if (!text)
        return snnc_cli_fail("inspect", err);
    if (json) {
        printf("%s\n", text);
    } else {
        json_t *d = json_loads(text, 0, NULL);
        print(d);
        json_decref(d);
    }
    free(text);
    return SNNC_EXIT_OK;
}

static int inspect_truenorth(const char *model, const char *bytes, size_t size, bool json)
{
    snnc_err err = {0};
    tn_model *m = NULL;
    if (tn_model_read_buffer(bytes, size, model, &m, &err))
        return snnc_cli_fail("inspect", &err);
    char note[320];
    if (tn_model_skipped_keys(m, note, sizeof note))
        fprintf(stderr, "snnc inspect: warning: %s: %s\n", model, note);
    char *text = tn_model_describe_json(m, model, &err);
    tn_model_free(m);
    return show(text, &err, json, print_truenorth);
}

int snnc_cmd_inspect(int argc, char **argv)
{
    const char *model = NULL;
    bool json = false, help = false;
    const snnc_cli_option table[] = {SNNC_OPT_FLAG_("--json", &json), SNNC_OPT_END};
    int st = snnc_cli_parse("inspect", usage, argc, argv, table, &model, &help);
    if (st)
        return st;
    if (help)
        return SNNC_EXIT_OK; /* usage printed */
    if (!model)
        return snnc_cli_usage("inspect", "no MODEL.onnx given");
    snnc_err err = {0};
    void *data; /* read once: the first bytes tell the kind of model */
    size_t size;
    if (snnc_read_file(model, SNNC_MAX_FILE_BYTES, SNNC_BYTES_TEXT | SNNC_BYTES_PROTOBUF, &data,
                       &size, &err))
        return snnc_cli_fail("inspect", &err);
    if (is_truenorth(model, data, size)) {
        st = inspect_truenorth(model, data, size, json);
        free(data);
        return st;
    }
    snnc_graph *g = NULL;
    int rc = snnc_load_onnx_buffer(data, size, model, &g, &err);
    free(data);
    if (rc)
        return snnc_cli_fail("inspect", &err);
    char *text = snnc_describe_json(g, &err);
    snnc_graph_free(g);
    return show(text, &err, json, print_text);
}
