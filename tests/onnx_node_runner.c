/* onnx_node_runner.c — runs ONNX's own backend node tests (Debian's
 * libonnx-testdata) through the float reference evaluator.
 *
 * Selection is independent of what snnc implements: every test whose nodes
 * all belong to the operator list of the foundation issue, plus the
 * comparison, logic and Cast operators (below), and whose
 * declared outputs are float32, int64 or bool tensors (inputs may also be
 * int32, which snnc converts to int64, e.g. LSTM sequence_lens), in opsets
 * 7 to 18, is run, and
 * any failure to load or run it counts as a failure.  Outputs are compared
 * with numpy's assert_allclose rule: |got - want| <= atol + rtol * |want|,
 * rtol 1e-3, atol 1e-7.  Without a name filter, fewer than MIN_SELECTED
 * selected tests is a failure: the test data is missing or not the version
 * the suite was written for, and the suite would silently cover less.
 * usage: onnx_node_runner NODE_TEST_DIR [NAME_SUBSTRING] */
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ir/graph.h"
#include "ir/tensor.h"
#include "onnx.pb-c.h"
#include "snnc.h"

static const char *const covered_ops[] = {
    "RNN", "LSTM", "GRU", "Gemm", "MatMul", "Add", "Sub", "Mul", "Div", "Pow", "Neg", "Abs",
    "Exp", "Sqrt", "Relu", "LeakyRelu", "Sigmoid", "HardSigmoid", "Tanh", "Round", "Floor", "Softmax",
    "LogSoftmax", "Clip", "Concat", "Reshape", "Flatten", "Transpose", "Squeeze", "Unsqueeze",
    "Gather", "Slice", "Split", "Shape", "ConstantOfShape", "Constant", "Expand", "Tile",
    "ReduceSum", "ReduceMean", "ReduceMax", "Identity", "Where", "Equal", "Greater", "Less",
    "GreaterOrEqual", "LessOrEqual", "Not", "And", "Or", "Xor", "Cast",
};

#define RTOL 1e-3
#define ATOL 1e-7
/* The selection from Debian 12's libonnx-testdata 1.12.0 (932 node tests):
 * exactly this many, so that losing any of them fails (a newer version may
 * select more; raise this then). */
#define MIN_SELECTED 246

static bool covered(const char *op)
{
    for (size_t i = 0; i < sizeof covered_ops / sizeof covered_ops[0]; i++)
        if (!strcmp(op, covered_ops[i]))
            return true;
    return false;
}

/* float32, int64 or bool tensor type (ONNX TensorProto.DataType 1, 7, 9). */
static bool type_ok(const Onnx__TypeProto *t)
{
    if (!t || t->value_case != ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE || !t->tensor_type)
        return false;
    int32_t e = t->tensor_type->elem_type;
    return e == ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT || e == ONNX__TENSOR_PROTO__DATA_TYPE__INT64 ||
           e == ONNX__TENSOR_PROTO__DATA_TYPE__BOOL;
}

/* Does this test belong to the selection?  Decided from the raw protobuf,
 * independently of snnc's importer. */
static bool selected(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return false;
    static unsigned char buf[1 << 22];
    size_t len = fread(buf, 1, sizeof buf, f);
    fclose(f);
    Onnx__ModelProto *m = onnx__model_proto__unpack(NULL, len, buf);
    if (!m || !m->graph) {
        if (m)
            onnx__model_proto__free_unpacked(m, NULL);
        return false;
    }
    const Onnx__GraphProto *g = m->graph;
    bool ok = true;
    for (size_t i = 0; i < m->n_opset_import; i++) /* the opset range */
        if (!m->opset_import[i]->domain || !*m->opset_import[i]->domain)
            ok = m->opset_import[i]->version >= 7 && m->opset_import[i]->version <= 18;
    for (size_t k = 0; ok && k < g->n_node; k++)
        ok = (!g->node[k]->domain || !*g->node[k]->domain) && covered(g->node[k]->op_type);
    for (size_t i = 0; ok && i < g->n_input; i++) /* int32 inputs convert to int64 */
        ok = type_ok(g->input[i]->type) || (g->input[i]->type && g->input[i]->type->tensor_type &&
                                            g->input[i]->type->tensor_type->elem_type ==
                                                ONNX__TENSOR_PROTO__DATA_TYPE__INT32);
    for (size_t i = 0; ok && i < g->n_output; i++)
        ok = type_ok(g->output[i]->type);
    onnx__model_proto__free_unpacked(m, NULL);
    return ok;
}

static int compare(const char *test, const char *name, const snnc_tensor *got, const snnc_tensor *want)
{
    if (!snnc_same_shape(got, want)) {
        char a[200], b[200];
        printf("FAIL %s: output '%s' shape %s, expected %s\n", test, name,
               snnc_dims_str(got->rank, got->dims, a, sizeof a),
               snnc_dims_str(want->rank, want->dims, b, sizeof b));
        return 1;
    }
    for (int64_t i = 0; i < got->count; i++) {
        double x = snnc_tensor_get_f(got, i), y = snnc_tensor_get_f(want, i);
        if (isnan(x) && isnan(y))
            continue;
        if (!(fabs(x - y) <= ATOL + RTOL * fabs(y)) && !(isinf(x) && x == y)) {
            printf("FAIL %s: output '%s' element %lld is %.9g, expected %.9g\n", test, name,
                   (long long)i, x, y);
            return 1;
        }
    }
    return 0;
}

/* 0 pass, 1 fail. */
static int run_test(const char *dir, const char *test)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s/model.onnx", dir, test);
    snnc_err err = {0};
    snnc_graph *g = NULL;
    if (snnc_load_onnx_file(path, &g, &err)) {
        printf("FAIL %s: %s\n", test, err.msg);
        return 1;
    }
    int nin = snnc_graph_input_count(g), nout = snnc_graph_output_count(g), failed = 0;
    snnc_tensor **in = calloc((size_t)nin + 1, sizeof *in), **out = calloc((size_t)nout + 1, sizeof *out);
    snnc_tensor **want = calloc((size_t)nout + 1, sizeof *want);
    const char **in_names = calloc((size_t)nin + 1, sizeof *in_names);
    const char **out_names = calloc((size_t)nout + 1, sizeof *out_names);
    for (int i = 0; i < nin && !failed; i++) {
        snprintf(path, sizeof path, "%s/%s/test_data_set_0/input_%d.pb", dir, test, i);
        in_names[i] = snnc_graph_input_name(g, i);
        failed = snnc_tensor_pb_read(path, &in[i], NULL, &err) != 0;
    }
    for (int j = 0; j < nout && !failed; j++) {
        snprintf(path, sizeof path, "%s/%s/test_data_set_0/output_%d.pb", dir, test, j);
        out_names[j] = snnc_graph_output_name(g, j);
        failed = snnc_tensor_pb_read(path, &want[j], NULL, &err) != 0;
    }
    if (!failed)
        failed = snnc_run(g, nin, in_names, (const snnc_tensor *const *)in, nout, out_names, out, &err) != 0;
    if (failed)
        printf("FAIL %s: %s\n", test, err.msg);
    for (int j = 0; j < nout && !failed; j++)
        failed = compare(test, out_names[j], out[j], want[j]);
    if (!failed)
        printf("PASS %s\n", test);
    for (int i = 0; i < nin; i++)
        snnc_tensor_free(in[i]);
    for (int j = 0; j < nout; j++) {
        snnc_tensor_free(out[j]);
        snnc_tensor_free(want[j]);
    }
    free(in), free(out), free(want), free(in_names), free(out_names);
    snnc_graph_free(g);
    return failed;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s NODE_TEST_DIR [NAME_SUBSTRING]\n", argv[0]);
        return 2;
    }
    DIR *d = opendir(argv[1]);
    if (!d) {
        fprintf(stderr, "%s: cannot open (install libonnx-testdata)\n", argv[1]);
        return 2;
    }
    char **names = NULL;
    int n = 0;
    for (struct dirent *e; (e = readdir(d));) {
        if (e->d_name[0] == '.' || (argc > 2 && !strstr(e->d_name, argv[2])))
            continue;
        names = realloc(names, (size_t)(n + 1) * sizeof *names);
        names[n++] = strdup(e->d_name);
    }
    closedir(d);
    qsort(names, (size_t)n, sizeof *names, cmp_str);
    int passed = 0, failed = 0, skipped = 0;
    for (int i = 0; i < n; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s/model.onnx", argv[1], names[i]);
        if (!selected(path)) {
            skipped++;
            free(names[i]);
            continue;
        }
        if (run_test(argv[1], names[i]))
            failed++;
        else
            passed++;
        free(names[i]);
    }
    free(names);
    printf("node tests: %d selected, %d not in the selection\n", passed + failed, skipped);
    printf("%d passed, %d failed\n", passed, failed);
    if (argc == 2 && passed + failed < MIN_SELECTED) {
        printf("FAIL: %d node tests selected in %s, at least %d expected (libonnx-testdata 1.12.0):"
               " test data missing or changed\n", passed + failed, argv[1], MIN_SELECTED);
        return 1;
    }
    return failed ? 1 : 0;
}
