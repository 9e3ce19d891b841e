/* test_ann.c — the float Elman network (ann/): extraction from the
 * PyTorch-exported examples (architectures known from their training
 * scripts) and from small models of tests/unit/data/ann (make_models.py),
 * agreement of snnc_ann_run with PyTorch's own outputs, refusal of other
 * shapes naming the node or layer, the calibration guard, the activity
 * quantiser on hand-derived values, and the non-finite parameter check. */
#include <stdlib.h>
#include <string.h>

#include "ann/ann.h"
#include "harness.h"
#include "ir/graph.h"
#include "ir/tensor.h"
#include "ops/op.h"
#include "snnc.h"

#ifndef SNNC_EXAMPLES_DIR
#error "SNNC_EXAMPLES_DIR must name the examples folder"
#endif
#ifndef SNNC_ANN_DATA_DIR
#error "SNNC_ANN_DATA_DIR must name tests/unit/data/ann"
#endif

static snnc_tensor *npy(const char *dir, const char *name, const char *file)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s%s", dir, name, file);
    snnc_tensor *t = NULL;
    snnc_err err = {0};
    CU_ASSERT_EQUAL(snnc_npy_read(path, &t, &err), SNNC_OK);
    return t;
}

static snnc_graph *graph(const char *dir, const char *name, const char *file)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s%s", dir, name, file);
    snnc_graph *g = NULL;
    snnc_err err = {0};
    CU_ASSERT_EQUAL(snnc_load_onnx_file(path, &g, &err), SNNC_OK);
    return g;
}

static double max_diff(const snnc_tensor *a, const snnc_tensor *b)
{
    if (!a || !b || a->count != b->count)
        return INFINITY;
    double m = 0;
    for (int64_t i = 0; i < a->count; i++) {
        double d = fabs(snnc_tensor_get_f(a, i) - snnc_tensor_get_f(b, i));
        m = d > m || isnan(d) ? d : m;
    }
    return m;
}

typedef struct {
    snnc_graph *g;
    snnc_tensor *x, *want;
    snnc_ann *a;
} loaded;

/* Load a model with its input and PyTorch output, extract it with the input
 * as calibration data, and check snnc_ann_run against PyTorch (1e-5). */
static loaded extract_checked(const char *dir, const char *name, bool example)
{
    loaded l = {0};
    l.g = graph(dir, name, example ? "/model.onnx" : ".onnx");
    l.x = npy(dir, name, example ? "/input.npy" : "_input.npy");
    l.want = npy(dir, name, example ? "/expected.npy" : "_expected.npy");
    snnc_err err = {0};
    if (!l.g || !l.x || !l.want)
        return l;
    int rc = snnc_ann_extract(l.g, l.x, &l.a, &err);
    CU_ASSERT_EQUAL(rc, SNNC_OK);
    if (rc) {
        printf("\n  %s: %s\n", name, err.msg);
        return l;
    }
    snnc_tensor *got = NULL;
    CU_ASSERT_EQUAL(snnc_ann_run(l.a, l.x, &got, NULL, &err), SNNC_OK);
    CU_ASSERT(got && got->rank == 2 && snnc_same_shape(got, l.want));
    double d = max_diff(got, l.want);
    CU_ASSERT(d <= 1e-5);
    if (!(d <= 1e-5))
        printf("\n  %s: max |ann - pytorch| = %g\n", name, d);
    snnc_tensor_free(got);
    return l;
}

static void unload(loaded *l)
{
    snnc_ann_free(l->a);
    snnc_graph_free(l->g);
    snnc_tensor_free(l->x);
    snnc_tensor_free(l->want);
    memset(l, 0, sizeof *l);
}

static void check_layer(const snnc_ann_layer *l, const char *name, snnc_ann_role role, snnc_act act, int n_in,
                        int n_out)
{
    CU_ASSERT_STRING_EQUAL(l->name, name);
    CU_ASSERT_EQUAL(l->role, role);
    CU_ASSERT_EQUAL(l->act, act);
    CU_ASSERT_EQUAL(l->n_in, n_in);
    CU_ASSERT_EQUAL(l->n_out, n_out);
    CU_ASSERT_PTR_NOT_NULL(l->W);
    CU_ASSERT_PTR_NOT_NULL(l->b);
    CU_ASSERT_EQUAL(l->U != NULL, role == SNNC_ANN_RECURRENT);
    CU_ASSERT_EQUAL(l->out_q.levels, 0);
}

static void check_net(const snnc_ann *a, int n_layers, int n_inputs, int steps, bool batch_first)
{
    CU_ASSERT_STRING_EQUAL(a->input_name, "input");
    CU_ASSERT_STRING_EQUAL(a->output_name, "output");
    CU_ASSERT_EQUAL(a->n_layers, n_layers);
    CU_ASSERT_EQUAL(a->n_inputs, n_inputs);
    CU_ASSERT_EQUAL(a->steps, steps);
    CU_ASSERT_EQUAL(a->batch_first, batch_first);
    CU_ASSERT_EQUAL(a->in_q.levels, 0);
}

static void test_elman_relu(void)
{
    loaded l = extract_checked(SNNC_EXAMPLES_DIR, "elman_relu", true); /* RNN(8, 48, relu) + Linear(48, 10) */
    if (!l.a)
        return unload(&l);
    check_net(l.a, 2, 8, 8, true);
    check_layer(&l.a->layers[0], "/rnn/RNN", SNNC_ANN_RECURRENT, SNNC_ACT_RELU, 8, 48);
    check_layer(&l.a->layers[1], "/fc/Gemm", SNNC_ANN_READOUT, SNNC_ACT_NONE, 48, 10);
    unload(&l);
}

static void test_elman_tanh_sequence_first(void)
{
    loaded l = extract_checked(SNNC_EXAMPLES_DIR, "elman_tanh", true); /* input (8, batch, 8), Linear on h_n */
    if (!l.a)
        return unload(&l);
    check_net(l.a, 2, 8, 8, false);
    check_layer(&l.a->layers[0], "/rnn/RNN", SNNC_ANN_RECURRENT, SNNC_ACT_TANH, 8, 48);
    check_layer(&l.a->layers[1], "/fc/Gemm", SNNC_ANN_READOUT, SNNC_ACT_NONE, 48, 10);
    unload(&l);
}

static void test_rnncell_loop(void)
{
    loaded l = extract_checked(SNNC_EXAMPLES_DIR, "rnncell_loop", true); /* RNNCell(8, 48, tanh) x 8 steps */
    if (!l.a)
        return unload(&l);
    check_net(l.a, 2, 8, 8, true);
    check_layer(&l.a->layers[0], "/cell/Gemm", SNNC_ANN_RECURRENT, SNNC_ACT_TANH, 8, 48);
    check_layer(&l.a->layers[1], "/fc/Gemm", SNNC_ANN_READOUT, SNNC_ACT_NONE, 48, 10);
    unload(&l);
}

static void test_elman_tn64(void)
{
    loaded l = extract_checked(SNNC_EXAMPLES_DIR, "elman_tn64", true); /* RNN(8, 56, relu) + Linear(56, 10) */
    if (!l.a)
        return unload(&l);
    check_net(l.a, 2, 8, 8, true);
    check_layer(&l.a->layers[0], "/rnn/RNN", SNNC_ANN_RECURRENT, SNNC_ACT_RELU, 8, 56);
    check_layer(&l.a->layers[1], "/fc/Gemm", SNNC_ANN_READOUT, SNNC_ACT_NONE, 56, 10);
    CU_ASSERT_EQUAL(l.a->layers[0].n_in + l.a->layers[0].n_out, 64); /* the paper's one-core shape */
    /* the training-set calibration file passes the extraction check too */
    snnc_tensor *calib = npy(SNNC_EXAMPLES_DIR, "elman_tn64", "/calib.npy");
    snnc_ann *b = NULL;
    snnc_err err = {0};
    CU_ASSERT(calib && calib->rank == 3 && calib->dims[0] == 256);
    CU_ASSERT_EQUAL(snnc_ann_extract(l.g, calib, &b, &err), SNNC_OK);
    snnc_ann_free(b);
    snnc_tensor_free(calib);
    unload(&l);
}

static void test_elman_h128(void)
{
    loaded l = extract_checked(SNNC_EXAMPLES_DIR, "elman_h128", true); /* RNN(8, 128, relu) + Linear(128, 10) */
    if (!l.a)
        return unload(&l);
    check_net(l.a, 2, 8, 8, true);
    check_layer(&l.a->layers[0], "/rnn/RNN", SNNC_ANN_RECURRENT, SNNC_ACT_RELU, 8, 128);
    check_layer(&l.a->layers[1], "/fc/Gemm", SNNC_ANN_READOUT, SNNC_ACT_NONE, 128, 10);
    CU_ASSERT(l.a->layers[0].n_in + l.a->layers[0].n_out > 64);
    unload(&l);
}

/* Per-step dense layers, several readouts, Slice, Flatten, MatMul cells. */
static void test_other_elman_shapes(void)
{
    loaded l = extract_checked(SNNC_ANN_DATA_DIR, "dense_rnn_mlp", false);
    if (l.a) { /* relu(Linear(5,7)) per step -> RNN(7,6,tanh) -> relu(Linear(6,4)) -> Linear(4,3) */
        check_net(l.a, 4, 5, 4, true);
        check_layer(&l.a->layers[0], "/pre/MatMul", SNNC_ANN_STEP_DENSE, SNNC_ACT_RELU, 5, 7);
        check_layer(&l.a->layers[1], "/rnn/RNN", SNNC_ANN_RECURRENT, SNNC_ACT_TANH, 7, 6);
        check_layer(&l.a->layers[2], "/fc/Gemm", SNNC_ANN_READOUT, SNNC_ACT_RELU, 6, 4);
        check_layer(&l.a->layers[3], "/fc2/Gemm", SNNC_ANN_READOUT, SNNC_ACT_NONE, 4, 3);
    }
    unload(&l);
    l = extract_checked(SNNC_ANN_DATA_DIR, "slice_seqfirst", false);
    if (l.a) { /* sequence-first; Linear(5,7) per step without activation; y[-1:] */
        check_net(l.a, 3, 5, 4, false);
        check_layer(&l.a->layers[0], "/pre/MatMul", SNNC_ANN_STEP_DENSE, SNNC_ACT_NONE, 5, 7);
        check_layer(&l.a->layers[1], "/rnn/RNN", SNNC_ANN_RECURRENT, SNNC_ACT_RELU, 7, 6);
    }
    unload(&l);
    l = extract_checked(SNNC_ANN_DATA_DIR, "hn_flatten", false); /* h_n.permute(1,0,2).flatten(1) */
    if (l.a)
        check_net(l.a, 2, 5, 4, true);
    unload(&l);
    l = extract_checked(SNNC_ANN_DATA_DIR, "manual_cell", false);
    if (l.a) { /* tanh(x_t A + a) per step; relu(z W + h U + b) with MatMul + Add; Linear(6, 3) */
        check_net(l.a, 3, 5, 4, true);
        CU_ASSERT_EQUAL(l.a->layers[0].role, SNNC_ANN_STEP_DENSE);
        CU_ASSERT_EQUAL(l.a->layers[0].act, SNNC_ACT_TANH);
        CU_ASSERT_EQUAL(l.a->layers[1].role, SNNC_ANN_RECURRENT);
        CU_ASSERT_EQUAL(l.a->layers[1].act, SNNC_ACT_RELU);
        CU_ASSERT_EQUAL(l.a->layers[1].n_in, 7);
        CU_ASSERT_EQUAL(l.a->layers[1].n_out, 6);
        CU_ASSERT_EQUAL(l.a->layers[2].role, SNNC_ANN_READOUT);
    }
    unload(&l);
    l = extract_checked(SNNC_ANN_DATA_DIR, "seqfirst_cell", false); /* RNNCell(relu) over x[t], (T, batch, F) */
    if (l.a) {
        check_net(l.a, 2, 5, 4, false);
        check_layer(&l.a->layers[0], "/cell/Gemm", SNNC_ANN_RECURRENT, SNNC_ACT_RELU, 5, 6);
    }
    unload(&l);
    l = extract_checked(SNNC_ANN_DATA_DIR, "static_rnn", false); /* static batch: constant zero initial_h */
    if (l.a)
        check_net(l.a, 2, 5, 4, true);
    unload(&l);
    l = extract_checked(SNNC_ANN_DATA_DIR, "layout1", false); /* RNN layout = 1, Flatten(Y_h), numpy reference */
    if (l.a) {
        check_net(l.a, 2, 5, 4, true);
        check_layer(&l.a->layers[0], "rnn", SNNC_ANN_RECURRENT, SNNC_ACT_RELU, 5, 6);
        check_layer(&l.a->layers[1], "fc", SNNC_ANN_READOUT, SNNC_ACT_NONE, 6, 3);
    }
    unload(&l);
}

/* Refused with SNNC_EUNSUPPORTED and a message containing `needle`. */
static void refused(const char *dir, const char *name, const char *file, const char *needle)
{
    snnc_graph *g = graph(dir, name, file);
    if (!g)
        return;
    snnc_ann *a = (snnc_ann *)&a; /* must be reset to NULL */
    snnc_err err = {0};
    CU_ASSERT_EQUAL(snnc_ann_extract(g, NULL, &a, &err), SNNC_EUNSUPPORTED);
    CU_ASSERT_PTR_NULL(a);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, needle));
    if (!strstr(err.msg, needle))
        printf("\n  %s: '%s' lacks '%s'\n", name, err.msg, needle);
    snnc_graph_free(g);
}

static void test_refuse_lstm_gru(void)
{
    refused(SNNC_EXAMPLES_DIR, "lstm", "/model.onnx", "layer '/lstm/LSTM' is an LSTM");
    refused(SNNC_EXAMPLES_DIR, "gru", "/model.onnx", "layer '/gru/GRU' is a GRU");
    refused(SNNC_EXAMPLES_DIR, "bilstm_stacked", "/model.onnx", "layer '/lstm/LSTM' is an LSTM");
    refused(SNNC_EXAMPLES_DIR, "lowpass_addition", "/model.onnx", "is an LSTM");
    refused(SNNC_EXAMPLES_DIR, "relational", "/model.onnx", "relational");
}

static void test_refuse_other_shapes(void)
{
    const char *d = SNNC_ANN_DATA_DIR;
    refused(d, "mean_over_time", ".onnx", "node '/ReduceMean' (ReduceMean): combines the hidden states");
    refused(d, "per_step_readout", ".onnx", "node '/fc/MatMul' (MatMul): a dense layer on the hidden state of every");
    refused(d, "earlier_state", ".onnx", "node '/fc/Gemm' (Gemm): the readout reads an earlier hidden state (step 2 of 4)");
    refused(d, "stacked", ".onnx", "layers '/rnn/RNN' and '/rnn/RNN_1': more than one recurrent layer");
    refused(d, "bidirectional", ".onnx", "layer '/rnn/RNN' is a bidirectional RNN");
    refused(d, "scaled", ".onnx", "node '/Mul' (Mul): changes values");
    refused(d, "softmax_out", ".onnx", "node '/Softmax' (Softmax)");
    refused(d, "sigmoid_readout", ".onnx", "node '/Sigmoid' (Sigmoid): activation not supported");
    refused(d, "h0_input", ".onnx", "input 'h0'");
    refused(d, "rnn_clip", ".onnx", "node 'rnn' (RNN): clip is set");
    refused(d, "rnn_reverse", ".onnx", "node 'rnn' (RNN): direction is reverse");
    refused(d, "static_cell", ".onnx", "export with a dynamic batch axis");
}

/* The calibration check catches a network that does not compute what the
 * graph computes: the evaluator is made to run the last step's Tanh node as
 * Relu (its op index), which the extraction (reading op types) cannot see. */
static void test_calibration_guard(void)
{
    loaded l = {0};
    l.g = graph(SNNC_EXAMPLES_DIR, "rnncell_loop", "/model.onnx");
    l.x = npy(SNNC_EXAMPLES_DIR, "rnncell_loop", "/input.npy");
    if (!l.g || !l.x)
        return unload(&l);
    int relu = snnc_op_lookup("Relu"), last = -1;
    for (int k = 0; k < l.g->n_nodes; k++)
        if (!strcmp(l.g->nodes[k].op_type, "Tanh"))
            last = k;
    CU_ASSERT_FATAL(relu >= 0 && last >= 0);
    snnc_err err = {0};
    CU_ASSERT_EQUAL(snnc_ann_extract(l.g, NULL, &l.a, &err), SNNC_OK); /* without data: trusted */
    snnc_ann_free(l.a);
    l.a = NULL;
    l.g->nodes[last].op = relu;
    CU_ASSERT_EQUAL(snnc_ann_extract(l.g, l.x, &l.a, &err), SNNC_EUNSUPPORTED);
    CU_ASSERT_PTR_NULL(l.a);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "extraction does not reproduce the graph: max error"));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "/cell/Gemm"));
    /* non-finite and wrongly shaped calibration data are refused as invalid */
    snnc_f32(l.x)[17] = NAN;
    err = (snnc_err){0};
    CU_ASSERT_EQUAL(snnc_ann_extract(l.g, l.x, &l.a, &err), SNNC_EINVALID);
    snnc_tensor *bad = snnc_tensor_new(SNNC_F32, 3, (int64_t[]){2, 7, 8}, &err);
    err = (snnc_err){0};
    CU_ASSERT_NOT_EQUAL(snnc_ann_extract(l.g, bad, &l.a, &err), SNNC_OK);
    CU_ASSERT_PTR_NULL(l.a);
    snnc_tensor_free(bad);
    unload(&l);
}

static void test_act_quantize(void)
{
    snnc_act_quant q = {.levels = 16, .lo = 0, .hi = 15}; /* step 1 */
    CU_ASSERT_EQUAL(snnc_act_quantize(&q, 2.49f), 2.0f);
    CU_ASSERT_EQUAL(snnc_act_quantize(&q, 2.5f), 3.0f); /* halves round up */
    CU_ASSERT_EQUAL(snnc_act_quantize(&q, 7.0f), 7.0f);
    CU_ASSERT_EQUAL(snnc_act_quantize(&q, -0.4f), 0.0f);
    CU_ASSERT_EQUAL(snnc_act_quantize(&q, 15.7f), 15.0f);
    CU_ASSERT_EQUAL(snnc_act_quantize(&q, 1e30f), 15.0f);
    q = (snnc_act_quant){.levels = 16, .lo = 0, .hi = 3}; /* step 0.2 */
    SNNC_ASSERT_CLOSE(snnc_act_quantize(&q, 0.29f), 0.2, 0, 1e-6);
    SNNC_ASSERT_CLOSE(snnc_act_quantize(&q, 0.31f), 0.4, 0, 1e-6);
    SNNC_ASSERT_CLOSE(snnc_act_quantize(&q, 2.95f), 3.0, 0, 1e-6);
    CU_ASSERT(snnc_act_quantize(&q, 2.95f) <= 3.0f);
    q = (snnc_act_quant){.levels = 3, .lo = -1, .hi = 1}; /* -1, 0, 1: a signed (tanh) range */
    CU_ASSERT_EQUAL(snnc_act_quantize(&q, 0.4f), 0.0f);
    CU_ASSERT_EQUAL(snnc_act_quantize(&q, 0.6f), 1.0f);
    CU_ASSERT_EQUAL(snnc_act_quantize(&q, -0.6f), -1.0f);
    CU_ASSERT_EQUAL(snnc_act_quantize(&q, -3.0f), -1.0f);
    q = (snnc_act_quant){.levels = 0, .lo = 0, .hi = 1}; /* off */
    CU_ASSERT_EQUAL(snnc_act_quantize(&q, 123.25f), 123.25f);
    CU_ASSERT_EQUAL(snnc_act_quantize(NULL, -4.5f), -4.5f);
    q = (snnc_act_quant){.levels = 1, .lo = 0.5f, .hi = 2};
    CU_ASSERT_EQUAL(snnc_act_quantize(&q, 1.7f), 0.5f);
    q = (snnc_act_quant){.levels = 16, .lo = 0, .hi = 1};
    CU_ASSERT(isnan(snnc_act_quantize(&q, NAN))); /* NaN is not hidden */
}

/* The quantisers inside snnc_ann_run: an input quantiser of 2 levels on
 * [0, 1] is the same as thresholding the input at 0.5 by hand; an output
 * quantiser puts every hidden state on its grid. */
static void test_quantisers_in_run(void)
{
    loaded l = extract_checked(SNNC_EXAMPLES_DIR, "elman_relu", true);
    if (!l.a)
        return unload(&l);
    snnc_err err = {0};
    snnc_tensor *thr = snnc_tensor_copy(l.x, &err), *y1 = NULL, *y2 = NULL, *h = NULL;
    for (int64_t i = 0; i < thr->count; i++)
        snnc_f32(thr)[i] = snnc_f32(thr)[i] >= 0.5f ? 1.0f : 0.0f;
    snnc_ann *q = snnc_ann_copy(l.a);
    q->in_q = (snnc_act_quant){.levels = 2, .lo = 0, .hi = 1};
    CU_ASSERT_EQUAL(snnc_ann_run(q, l.x, &y1, NULL, &err), SNNC_OK);
    CU_ASSERT_EQUAL(snnc_ann_run(l.a, thr, &y2, NULL, &err), SNNC_OK);
    CU_ASSERT(max_diff(y1, y2) == 0.0);
    CU_ASSERT(max_diff(y1, l.want) > 1e-3); /* the quantiser did something */
    snnc_tensor_free(y1), snnc_tensor_free(y2);
    q->in_q.levels = 0;
    q->layers[0].out_q = (snnc_act_quant){.levels = 16, .lo = 0, .hi = 1.5f}; /* grid of 0.1 */
    CU_ASSERT_EQUAL(snnc_ann_run(q, l.x, &y1, &h, &err), SNNC_OK);
    CU_ASSERT_FATAL(h && h->rank == 3 && h->dims[0] == 8 && h->dims[1] == 64 && h->dims[2] == 48);
    int off_grid = 0;
    for (int64_t i = 0; i < h->count; i++) {
        float v = snnc_f32(h)[i];
        off_grid += v < 0 || v > 1.5f || fabs(v * 10 - nearbyint(v * 10)) > 1e-4;
    }
    CU_ASSERT_EQUAL(off_grid, 0);
    /* the readout reads h_T: output = W_fc h_T + b_fc, by hand */
    const snnc_ann_layer *fc = &q->layers[1];
    double worst = 0;
    for (int b = 0; b < 64; b++)
        for (int j = 0; j < 10; j++) {
            double s = fc->b[j];
            for (int i = 0; i < 48; i++)
                s += (double)fc->W[j * 48 + i] * snnc_f32(h)[(7 * 64 + b) * 48 + i];
            worst = fmax(worst, fabs(s - snnc_f32(y1)[b * 10 + j]));
        }
    CU_ASSERT(worst < 1e-5);
    snnc_tensor_free(y1), snnc_tensor_free(h), snnc_tensor_free(thr);
    snnc_ann_free(q);
    unload(&l);
}

/* Any batch: the first 5 sequences alone give the first 5 rows; batch 0 works. */
static void test_run_batches_and_shapes(void)
{
    loaded l = extract_checked(SNNC_EXAMPLES_DIR, "elman_tanh", true); /* sequence-first (8, batch, 8) */
    if (!l.a)
        return unload(&l);
    snnc_err err = {0};
    int64_t batch = l.x->dims[1];
    snnc_tensor *x5 = snnc_tensor_new(SNNC_F32, 3, (int64_t[]){8, 5, 8}, &err), *y = NULL;
    for (int t = 0; t < 8; t++)
        memcpy(snnc_f32(x5) + t * 5 * 8, snnc_f32(l.x) + t * batch * 8, 5 * 8 * sizeof(float));
    CU_ASSERT_EQUAL(snnc_ann_run(l.a, x5, &y, NULL, &err), SNNC_OK);
    CU_ASSERT_FATAL(y && y->dims[0] == 5 && y->dims[1] == 10);
    double worst = 0;
    for (int i = 0; i < 50; i++)
        worst = fmax(worst, fabs(snnc_f32(y)[i] - snnc_f32(l.want)[i]));
    CU_ASSERT(worst <= 1e-5);
    snnc_tensor_free(y), snnc_tensor_free(x5);
    snnc_tensor *x0 = snnc_tensor_new(SNNC_F32, 3, (int64_t[]){8, 0, 8}, &err);
    CU_ASSERT_EQUAL(snnc_ann_run(l.a, x0, &y, NULL, &err), SNNC_OK);
    CU_ASSERT(y && y->dims[0] == 0 && y->dims[1] == 10);
    snnc_tensor_free(y), snnc_tensor_free(x0);
    snnc_tensor *bad = snnc_tensor_new(SNNC_F32, 3, (int64_t[]){7, 5, 8}, &err); /* 7 steps */
    y = (snnc_tensor *)&y;
    err = (snnc_err){0};
    CU_ASSERT_EQUAL(snnc_ann_run(l.a, bad, &y, NULL, &err), SNNC_EINVALID);
    CU_ASSERT_PTR_NULL(y);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "expected [8, batch, 8]"));
    snnc_tensor_free(bad);
    unload(&l);
}

static void test_nonfinite_parameters(void)
{
    loaded l = extract_checked(SNNC_EXAMPLES_DIR, "elman_relu", true);
    if (!l.a)
        return unload(&l);
    snnc_err err = {0};
    CU_ASSERT_EQUAL(snnc_ann_check_finite(l.a, &err), SNNC_OK);
    snnc_ann *c = snnc_ann_copy(l.a);
    CU_ASSERT_FATAL(c != NULL);
    CU_ASSERT(c->layers[1].W != l.a->layers[1].W); /* deep copy */
    c->layers[1].W[3 * 48 + 5] = NAN;
    CU_ASSERT_EQUAL(snnc_ann_check_finite(c, &err), SNNC_EINVALID);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "layer '/fc/Gemm': W[3][5] is NaN"));
    CU_ASSERT_EQUAL(snnc_ann_check_finite(l.a, &err), SNNC_OK); /* the original is untouched */
    c->layers[1].W[3 * 48 + 5] = 0;
    c->layers[0].U[2 * 48 + 40] = -INFINITY;
    err = (snnc_err){0};
    CU_ASSERT_EQUAL(snnc_ann_check_finite(c, &err), SNNC_EINVALID);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "layer '/rnn/RNN': U[2][40] is infinite"));
    c->layers[0].U[2 * 48 + 40] = 0;
    c->layers[0].b[7] = NAN;
    err = (snnc_err){0};
    CU_ASSERT_EQUAL(snnc_ann_check_finite(c, &err), SNNC_EINVALID);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "layer '/rnn/RNN': b"));
    snnc_ann_free(c);
    unload(&l);
}

/* The paired significance rule (ann_compare.c), by hand: differences
 * before - after of (1, 1, 1, 1) have mean 1 and no spread (significant at
 * any level); of (2, 0): mean 1, sample variance 2, standard error
 * sqrt(2 / 1 / 2) = 1, so significant beyond 0.5 standard errors, not
 * beyond 2; one sample, or a mean of 0 or below, is never significant. */
static void test_significantly_lower(void)
{
    double b4[] = {1, 2, 3, 4}, a4[] = {0, 1, 2, 3};
    CU_ASSERT_TRUE(snnc_significantly_lower(b4, a4, 4, 100));
    CU_ASSERT_FALSE(snnc_significantly_lower(a4, b4, 4, 0));
    double b2[] = {2, 0}, a2[] = {0, 0};
    CU_ASSERT_TRUE(snnc_significantly_lower(b2, a2, 2, 0.5));
    CU_ASSERT_FALSE(snnc_significantly_lower(b2, a2, 2, 1.0));
    CU_ASSERT_FALSE(snnc_significantly_lower(b2, a2, 2, 2.0));
    CU_ASSERT_FALSE(snnc_significantly_lower(b2, a2, 1, 0));
    CU_ASSERT_FALSE(snnc_significantly_lower(a2, a2, 2, 0));
}

static CU_TestInfo tests[] = {
    {"paired significance rule", test_significantly_lower},
    {"elman_relu: RNN relu + Gemm, batch-first", test_elman_relu},
    {"elman_tanh: sequence-first, readout on Y_h", test_elman_tanh_sequence_first},
    {"rnncell_loop: unrolled nn.RNNCell", test_rnncell_loop},
    {"elman_tn64: 8 + 56 = 64, one core", test_elman_tn64},
    {"elman_h128: fan-in 136", test_elman_h128},
    {"per-step layers, MLP readout, Slice, Flatten, MatMul cells, layout 1", test_other_elman_shapes},
    {"LSTM, GRU, relational refused naming the layer", test_refuse_lstm_gru},
    {"other shapes refused naming the node", test_refuse_other_shapes},
    {"calibration guard", test_calibration_guard},
    {"activity quantiser by hand", test_act_quantize},
    {"quantisers inside snnc_ann_run", test_quantisers_in_run},
    {"any batch; input shape checked", test_run_batches_and_shapes},
    {"NaN and Inf parameters named", test_nonfinite_parameters},
    CU_TEST_INFO_NULL,
};
SNNC_TEST_MAIN("ann")
