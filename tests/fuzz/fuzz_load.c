/* fuzz_load.c — libFuzzer target for the ONNX loader (run_fuzz.sh builds it).
 *
 * Arbitrary bytes go to snnc_load_onnx_buffer; a model that loads is
 * described (snnc_describe_json) and, when every input has a small fully
 * known shape, run once on all-zero inputs.  Every result is freed, so
 * LeakSanitizer reports any leak on these paths. */
#include <stdint.h>
#include <stdlib.h>

#include "../../ir/graph.h"
#include "../../ir/tensor.h"
#include "snnc.h"

#define MAX_RUN_ELEMENTS 4096 /* per input: keeps each run fast */

/* A zero tensor for graph input i, or NULL if its type or shape is not
 * fully known and small. */
static snnc_tensor *zero_input(const snnc_graph *g, int i)
{
    const snnc_value *v = &g->values[g->inputs[i]];
    if (!v->dtype || v->rank < 0)
        return NULL;
    int64_t n = snnc_shape_count(v->rank, v->dims);
    if (n < 0 || n > MAX_RUN_ELEMENTS)
        return NULL;
    snnc_err err = {0};
    return snnc_tensor_new(v->dtype, v->rank, v->dims, &err); /* zero-filled */
}

static void try_run(snnc_graph *g)
{
    int n_in = snnc_graph_input_count(g), n_out = snnc_graph_output_count(g);
    if (n_in > 16 || n_out > 16)
        return;
    const char *in_names[16], *out_names[16];
    snnc_tensor *inputs[16] = {0}, *outputs[16] = {0};
    int ok = 1;
    for (int i = 0; i < n_in; i++) {
        in_names[i] = snnc_graph_input_name(g, i);
        inputs[i] = zero_input(g, i);
        ok &= inputs[i] != NULL;
    }
    for (int j = 0; j < n_out; j++)
        out_names[j] = snnc_graph_output_name(g, j);
    if (ok) {
        snnc_err err = {0};
        snnc_run(g, n_in, in_names, (const snnc_tensor *const *)inputs, n_out, out_names, outputs,
                 &err);
    }
    for (int i = 0; i < 16; i++) {
        snnc_tensor_free(inputs[i]);
        snnc_tensor_free(outputs[i]);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    snnc_graph *g = NULL;
    snnc_err err = {0};
    if (snnc_load_onnx_buffer(data, size, "fuzz.onnx", &g, &err) != SNNC_OK)
        return 0;
    snnc_err derr = {0};
    free(snnc_describe_json(g, &derr));
    try_run(g);
    snnc_graph_free(g);
    return 0;
}
