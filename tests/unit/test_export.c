/* test_export.c — OUTDIR/constrained.onnx (exporter/constrained_onnx.c):
 * on examples/elman_tn64 (fits), elman_h128 (split fan-in) and elman_tanh
 * (split, tanh, signed activities; and pruned) and fashion28/dense48_elman16
 * (a per-step dense layer, 28 steps), the exported model, loaded by the
 * importer and run by snnc's float evaluator (what `snnc run` does), gives
 * the constrained network's outputs as ann/'s own constrained evaluation
 * (snnc_ann_run) computes them, on the calibration and the test batch:
 * equal within float32 rounding and the same class on every sample.  Its
 * weight initializers are the quantiser's levels (code x scale of
 * snnc_layer_constraints, independently recombined), and the bytes are
 * the same on a second export. */
#include <stdlib.h>
#include <string.h>

#include "ann/ann.h"
#include "exporter/exporter.h"
#include "harness.h"
#include "ir/tensor.h"
#include "onnx.pb-c.h"
#include "quantize/quantize.h"
#include "snnc.h"

#ifndef SNNC_EXAMPLES_DIR
#error "SNNC_EXAMPLES_DIR must name the examples folder"
#endif

static snnc_tensor *npy(const char *name, const char *file)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s/%s", SNNC_EXAMPLES_DIR, name, file);
    snnc_tensor *t = NULL;
    snnc_err err = {0};
    CU_ASSERT_EQUAL(snnc_npy_read(path, &t, &err), SNNC_OK);
    return t;
}

/* Largest |a - b| relative to the output scale max(1, max |b|), and the
 * number of samples whose argmax differs. */
static double compare(const snnc_tensor *a, const snnc_tensor *b, int64_t *class_diff)
{
    *class_diff = -1;
    if (!a || !b || a->count != b->count || a->rank != 2)
        return INFINITY;
    double m = 0, scale = 1;
    for (int64_t i = 0; i < b->count; i++)
        scale = fmax(scale, fabs(snnc_f32(b)[i]));
    for (int64_t i = 0; i < a->count; i++)
        m = fmax(m, fabs((double)snnc_f32(a)[i] - snnc_f32(b)[i]));
    int64_t B = a->dims[0], C = a->dims[1];
    *class_diff = 0;
    for (int64_t s = 0; s < B; s++) {
        int64_t ka = 0, kb = 0;
        for (int64_t c = 1; c < C; c++) {
            ka = snnc_f32(a)[s * C + c] > snnc_f32(a)[s * C + ka] ? c : ka;
            kb = snnc_f32(b)[s * C + c] > snnc_f32(b)[s * C + kb] ? c : kb;
        }
        *class_diff += ka != kb;
    }
    return m / scale;
}

static const Onnx__TensorProto *initializer(const Onnx__ModelProto *m, const char *name)
{
    for (size_t i = 0; m && m->graph && i < m->graph->n_initializer; i++)
        if (!strcmp(m->graph->initializer[i]->name, name))
            return m->graph->initializer[i];
    return NULL;
}

/* Every weight of layer i's W and U initializers is scale x code x a_out /
 * a_in of the constraint statistics (docs/QUANTIZE.md §1; 2 a_in for
 * offset-coded columns): returns the
 * largest deviation in codes. */
static double off_levels(const Onnx__ModelProto *m, const snnc_ann_layer *l, const snnc_layer_constraints *s,
                         int i)
{
    char name[64];
    double worst = 0;
    for (int part = 0; part < 2; part++) {
        if (part == 1 && l->role != SNNC_ANN_RECURRENT)
            break;
        snprintf(name, sizeof name, "layer%d/%s", i, part ? "U" : "W");
        const Onnx__TensorProto *t = initializer(m, name);
        int cols = part ? l->n_out : l->n_in;
        if (!t || t->n_float_data != (size_t)l->n_out * cols)
            return INFINITY;
        double a_in = part ? s->activity_range : s->in_range;
        if (part ? s->h_offset : s->x_offset)
            a_in *= 2; /* offset-coded tanh columns: the span 2a (docs/CONVERSION.md §3) */
        for (int j = 0; j < l->n_out; j++)
            for (int c = 0; c < cols; c++) {
                int col = part ? l->n_in + c : c, g = 0;
                while (g + 1 < s->n_groups && s->group_start[g + 1] <= col)
                    g++;
                double unit = s->scales[j * s->n_groups + g] * (double)s->activity_range / a_in;
                double w = t->float_data[(size_t)j * cols + c];
                double code = s->codes[(size_t)j * s->n_cols + col];
                worst = fmax(worst, unit > 0 ? fabs(w / unit - code) : fabs(w) > 0 ? INFINITY : 0);
            }
    }
    return worst;
}

/* examples/NAME/model.onnx with its batches in examples/DATA (NAME's own
 * folder when DATA is NULL). */
static void check_coded(const char *name, const char *data, snnc_fanin_strategy fanin, int groups_expected,
                        snnc_tanh_coding coding)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s/model.onnx", SNNC_EXAMPLES_DIR, name);
    snnc_err err = {0};
    snnc_graph *g = NULL, *e = NULL;
    snnc_ann *a = NULL, *q = NULL;
    snnc_layer_constraints *S = NULL;
    int n_stats = 0;
    snnc_tensor *calib = npy(data ? data : name, "calib.npy"), *test = npy(data ? data : name, "input.npy");
    snnc_constraints c;
    snnc_constraints_default(&c);
    c.fanin = fanin;
    c.tanh_coding = coding;
    CU_ASSERT_EQUAL_FATAL(snnc_load_onnx_file(path, &g, &err), SNNC_OK);
    CU_ASSERT_EQUAL_FATAL(snnc_ann_extract(g, calib, &a, &err), SNNC_OK);
    CU_ASSERT_EQUAL_FATAL(snnc_constrain(a, &c, calib, &q, &S, &n_stats, &err), SNNC_OK);
    int max_groups = 1;
    for (int i = 0; i < n_stats; i++)
        max_groups = S[i].n_groups > max_groups ? S[i].n_groups : max_groups;
    CU_ASSERT_EQUAL(max_groups, groups_expected); /* split where the example needs it */

    void *bytes = NULL, *again = NULL;
    size_t size = 0, size2 = 0;
    CU_ASSERT_EQUAL_FATAL(snnc_export_constrained_onnx(q, &bytes, &size, &err), SNNC_OK);
    CU_ASSERT_EQUAL(snnc_export_constrained_onnx(q, &again, &size2, &err), SNNC_OK);
    CU_ASSERT(size == size2 && again && !memcmp(bytes, again, size));
    free(again);

    Onnx__ModelProto *m = onnx__model_proto__unpack(NULL, size, bytes);
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    for (int i = 0; i < q->n_layers; i++) {
        double off = off_levels(m, &q->layers[i], &S[i], i);
        printf("\n  %s layer %d: weights off their levels by at most %.2e codes", name, i, off);
        CU_ASSERT(off < 1e-4);
    }
    onnx__model_proto__free_unpacked(m, NULL);

    CU_ASSERT_EQUAL_FATAL(snnc_load_onnx_buffer(bytes, size, "constrained.onnx", &e, &err), SNNC_OK);
    const snnc_tensor *batches[2] = {calib, test};
    for (int k = 0; k < 2; k++) {
        snnc_tensor *want = NULL, *got = NULL;
        const char *in = snnc_graph_input_name(e, 0), *out = snnc_graph_output_name(e, 0);
        CU_ASSERT_EQUAL(snnc_ann_run(q, batches[k], &want, NULL, &err), SNNC_OK);
        CU_ASSERT_EQUAL(snnc_run(e, 1, &in, &batches[k], 1, &out, &got, &err), SNNC_OK);
        int64_t classes;
        double d = compare(got, want, &classes);
        printf("\n  %s %s: max |onnx - constrained| %.3g of the output scale, %lld classes differ", name,
               k ? "input.npy" : "calib.npy", d, (long long)classes);
        /* Gemm preloads the bias and adds the products as ann_eval's sgemm
         * does, and the quantisers' thresholds and levels come from
         * snnc_act_quantize: measured identical (0) on every example.  The
         * bound allows float32 rounding of another BLAS's summation order:
         * 1e-5 of the output scale, and the same class everywhere. */
        CU_ASSERT(d <= 1e-5);
        CU_ASSERT_EQUAL(classes, 0);
        snnc_tensor_free(want);
        snnc_tensor_free(got);
    }
    free(bytes);
    snnc_graph_free(e);
    snnc_graph_free(g);
    snnc_ann_free(a);
    snnc_ann_free(q);
    snnc_layer_constraints_free(S, n_stats);
    snnc_tensor_free(calib);
    snnc_tensor_free(test);
}

static void check_example(const char *name, const char *data, snnc_fanin_strategy fanin, int groups_expected)
{
    check_coded(name, data, fanin, groups_expected, SNNC_TANH_PAIR);
}

static void test_elman_tn64(void) { check_example("elman_tn64", NULL, SNNC_FANIN_SPLIT, 1); }
static void test_elman_h128(void) { check_example("elman_h128", NULL, SNNC_FANIN_SPLIT, 3); }
static void test_elman_tanh(void) { check_example("elman_tanh", NULL, SNNC_FANIN_SPLIT, 2); }
static void test_elman_tanh_prune(void) { check_example("elman_tanh", NULL, SNNC_FANIN_PRUNE, 1); }
/* offset-coded tanh: 8 + 48 channels fit a fan-in of 64 (16-level quantiser) */
static void test_elman_tanh_offset(void) { check_coded("elman_tanh", NULL, SNNC_FANIN_SPLIT, 1, SNNC_TANH_OFFSET); }
/* a per-step dense layer before the recurrence, 28 steps */
static void test_fashion_dense(void) { check_example("fashion28/dense48_elman16", "fashion28", SNNC_FANIN_SPLIT, 1); }

static CU_TestInfo tests[] = {
    {"elman_tn64: constrained.onnx = constrained network", test_elman_tn64},
    {"elman_h128 (split): constrained.onnx = constrained network", test_elman_h128},
    {"elman_tanh (split, tanh): constrained.onnx = constrained network", test_elman_tanh},
    {"elman_tanh (prune): constrained.onnx = constrained network", test_elman_tanh_prune},
    {"elman_tanh (offset-coded tanh): constrained.onnx = constrained network", test_elman_tanh_offset},
    {"fashion28/dense48_elman16 (per-step dense layer, 28 steps)", test_fashion_dense},
    CU_TEST_INFO_NULL,
};

SNNC_TEST_MAIN("export")
