/* cmd_inspect.c — `snnc inspect MODEL.onnx [--json]`: opset, inputs and
 * outputs with shapes, recognised layers, parameters, unsupported nodes. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char usage[] =
    "usage: snnc inspect MODEL.onnx [--json]\n\n"
    "Describe a model: opset, inputs and outputs with shapes (symbolic dimensions by name),\n"
    "the layers snnc recognises (kind, sizes, activation, parameters), the total number of\n"
    "parameters and every node snnc cannot execute.\n"
    "  --json   one JSON object with the keys format, opset, inputs, outputs, layers,\n"
    "           parameters, unsupported\n";

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

int snnc_cmd_inspect(int argc, char **argv)
{
    const char *model = NULL;
    bool json = false;
    for (int i = 1; i < argc; i++) {
        if (snnc_cli_is_help(argv[i])) {
            fputs(usage, stdout);
            return SNNC_EXIT_OK;
        } else if (!strcmp(argv[i], "--json")) {
            json = true;
        } else if (argv[i][0] == '-' && argv[i][1]) {
            return snnc_cli_usage("inspect", "unknown option '%s'", argv[i]);
        } else if (!model) {
            model = argv[i];
        } else {
            return snnc_cli_usage("inspect", "unexpected argument '%s'", argv[i]);
        }
    }
    if (!model)
        return snnc_cli_usage("inspect", "no MODEL.onnx given");
    snnc_err err = {0};
    snnc_graph *g = NULL;
    if (snnc_load_onnx_file(model, &g, &err))
        return snnc_cli_fail("inspect", &err);
    char *text = snnc_describe_json(g, &err);
    snnc_graph_free(g);
    if (!text)
        return snnc_cli_fail("inspect", &err);
    if (json) {
        printf("%s\n", text);
    } else {
        json_t *d = json_loads(text, 0, NULL);
        print_text(d);
        json_decref(d);
    }
    free(text);
    return SNNC_EXIT_OK;
}
