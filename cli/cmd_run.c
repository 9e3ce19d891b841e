/* cmd_run.c — `snnc run MODEL.onnx --input [NAME=]FILE ... [--output
 * [NAME=]FILE.npy ...] [--json]`: the float32 reference evaluator on .npy or
 * TensorProto .pb inputs; outputs written as .npy, all or none. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../ir/error.h"
#include "../ir/tensor.h"
#include "cli.h"
#include "cli_options.h"

static const char usage[] =
    "usage: snnc run MODEL.onnx --input [NAME=]FILE ... [--output [NAME=]FILE.npy ...] [--json]\n\n"
    "Execute MODEL in float32 (the reference every later stage is measured against).\n"
    "  --input [NAME=]FILE    a NumPy .npy (float32/64, int32/64, bool) or an ONNX TensorProto .pb;\n"
    "                         NAME may be left out when the model has one input\n"
    "  --output [NAME=]FILE   write output NAME (default: the first output) as .npy; NAME may be\n"
    "                         any tensor of the graph. Without --output, outputs are summarised.\n"
    "  --json                 print a JSON summary of the outputs on stdout\n"
    "Values are taken as they are: NaN and infinities are valid float32 inputs of the reference,\n"
    "evaluated like any value (ONNX has operators that test for them), and an empty tensor is a\n"
    "valid shape.  The conversion commands (check, convert, simulate OUTDIR) refuse both.\n";

typedef struct {
    int n;
    char *bufs[64];
    const char *names[64];
    const char *files[64];
} bindings;

static int add_binding(void *dest, const char *arg)
{
    bindings *b = dest;
    if (b->n == 64)
        return snnc_cli_usage("run", "at most 64 --input/--output options");
    snnc_cli_split_binding(arg, &b->bufs[b->n], &b->names[b->n], &b->files[b->n]);
    b->n++;
    return 0;
}

static void free_bindings(bindings *b)
{
    for (int i = 0; i < b->n; i++)
        free(b->bufs[i]);
}

static json_t *summary_json(const char *name, const snnc_tensor *t, const char *file)
{
    json_t *shape = json_array();
    for (int i = 0; i < t->rank; i++)
        json_array_append_new(shape, json_integer(t->dims[i]));
    json_t *o = json_pack("{s:s, s:s, s:o}", "name", name, "dtype", snnc_dtype_name(t->dtype),
                          "shape", shape);
    if (file)
        json_object_set_new(o, "file", json_string(file));
    return o;
}

static void print_summary(const char *name, const snnc_tensor *t, const char *file)
{
    char shape[256];
    printf("%s %s %s", name, snnc_dtype_name(t->dtype), snnc_dims_str(t->rank, t->dims, shape, sizeof shape));
    if (file) {
        printf(" -> %s\n", file);
        return;
    }
    printf(":");
    for (int64_t i = 0; i < t->count && i < 8; i++)
        printf(" %.6g", snnc_tensor_get_f(t, i));
    printf("%s\n", t->count > 8 ? " ..." : "");
}

static int resolve_names(snnc_graph *g, bindings *in, bindings *out, snnc_err *err)
{
    for (int i = 0; i < in->n; i++)
        if (!in->names[i]) {
            if (snnc_graph_input_count(g) != 1)
                return snnc_fail(err, SNNC_EUSAGE,
                                 "the model has %d inputs: name each one (--input NAME=FILE)",
                                 snnc_graph_input_count(g));
            in->names[i] = snnc_graph_input_name(g, 0);
        }
    for (int i = 0; i < out->n; i++)
        if (!out->names[i]) {
            if (i > 0)
                return snnc_fail(err, SNNC_EUSAGE, "only the first --output may leave out NAME");
            out->names[i] = snnc_graph_output_name(g, 0);
        }
    return SNNC_OK;
}

static int run(const char *model, bindings *in, bindings *out, bool json, snnc_err *err)
{
    snnc_graph *g = NULL;
    snnc_tensor *inputs[64] = {0}, *outputs[64] = {0};
    const char *out_names[64];
    snnc_cli_outputs files = {0};
    int n_out = out->n ? out->n : 0;
    int rc = snnc_load_onnx_file(model, &g, err);
    if (!rc)
        rc = resolve_names(g, in, out, err);
    for (int i = 0; !rc && i < in->n; i++)
        rc = snnc_cli_read_tensor(in->files[i], &inputs[i], err);
    if (!rc && !out->n) {
        n_out = snnc_graph_output_count(g) < 64 ? snnc_graph_output_count(g) : 64;
        for (int j = 0; j < n_out; j++)
            out_names[j] = snnc_graph_output_name(g, j);
    } else {
        for (int j = 0; j < out->n; j++)
            out_names[j] = out->names[j];
    }
    if (!rc)
        rc = snnc_run(g, in->n, in->names, (const snnc_tensor *const *)inputs, n_out, out_names,
                      outputs, err);
    for (int i = 0; rc && i < in->n; i++) { /* a refused input: name its file too */
        char needle[200];
        snprintf(needle, sizeof needle, "input '%s'", in->names[i]);
        if (strstr(err->msg, needle)) {
            snnc_err_prefix(err, "%s", in->files[i]);
            break;
        }
    }
    for (int j = 0; !rc && j < out->n; j++) {
        const char *tmp = snnc_cli_outputs_add(&files, out->files[j], err);
        rc = tmp ? snnc_npy_write(tmp, outputs[j], err) : err->code;
        if (rc)
            snnc_cli_err_rename(err, tmp, out->files[j]);
    }
    if (!rc && out->n)
        rc = snnc_cli_outputs_commit(&files, err);
    else if (rc)
        snnc_cli_outputs_abort(&files);
    json_t *report = json ? json_pack("{s:s, s:[]}", "model", model, "outputs") : NULL;
    for (int j = 0; !rc && j < n_out; j++) {
        const char *file = out->n ? out->files[j] : NULL;
        if (json)
            json_array_append_new(json_object_get(report, "outputs"),
                                  summary_json(out_names[j], outputs[j], file));
        else
            print_summary(out_names[j], outputs[j], file);
    }
    if (!rc && json) {
        json_dumpf(report, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        printf("\n");
    }
    json_decref(report);
    for (int i = 0; i < 64; i++) {
        snnc_tensor_free(inputs[i]);
        snnc_tensor_free(outputs[i]);
    }
    snnc_graph_free(g);
    return rc;
}

int snnc_cmd_run(int argc, char **argv)
{
    const char *model = NULL;
    bindings in = {0}, out = {0};
    bool json = false, help = false;
    const snnc_cli_option table[] = {
        SNNC_OPT_FLAG_("--json", &json),
        SNNC_OPT_CALL_("--input", &in, add_binding),
        SNNC_OPT_CALL_("--output", &out, add_binding),
        SNNC_OPT_END,
    };
    int status = snnc_cli_parse("run", usage, argc, argv, table, &model, &help);
    if (!status && help) { /* usage printed */
        free_bindings(&in), free_bindings(&out);
        return SNNC_EXIT_OK;
    }
    if (!status && !model)
        status = snnc_cli_usage("run", "no MODEL.onnx given");
    if (!status) {
        snnc_err err = {0};
        int rc = SNNC_OK;
        for (int j = 0; !rc && j < out.n; j++)
            rc = snnc_cli_output_check("--output", out.files[j], false, true, NULL, &err);
        if (!rc)
            rc = run(model, &in, &out, json, &err);
        status = rc ? snnc_cli_fail("run", &err) : SNNC_EXIT_OK;
    }
    free_bindings(&in), free_bindings(&out);
    return status;
}
