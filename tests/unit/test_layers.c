/* test_layers.c — layer recognition on the PyTorch-exported examples, whose
 * architectures are known from their training scripts (examples/): the
 * recurrent operators, dense readouts, an nn.RNNCell loop unrolled over 8
 * steps, and the relational network's pair MLP g and output MLP f. */
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "layers/layers.h"
#include "snnc.h"

#ifndef SNNC_EXAMPLES_DIR
#error "SNNC_EXAMPLES_DIR must name the examples folder"
#endif

static snnc_layer *layers;
static int n_layers;
static snnc_graph *graph;

static void load(const char *name)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s/model.onnx", SNNC_EXAMPLES_DIR, name);
    snnc_err err = {0};
    snnc_graph_free(graph);
    snnc_layers_free(layers, n_layers);
    graph = NULL, layers = NULL, n_layers = 0;
    CU_ASSERT_EQUAL_FATAL(snnc_load_onnx_file(path, &graph, &err), SNNC_OK);
    CU_ASSERT_EQUAL_FATAL(snnc_recognize_layers(graph, &layers, &n_layers, &err), SNNC_OK);
}

static void test_elman_relu(void)
{
    load("elman_relu"); /* nn.RNN(8, 48, relu) + Linear(48, 10) */
    CU_ASSERT_EQUAL_FATAL(n_layers, 2);
    CU_ASSERT_EQUAL(layers[0].kind, SNNC_LAYER_RNN);
    CU_ASSERT_EQUAL(layers[0].inputs, 8);
    CU_ASSERT_EQUAL(layers[0].units, 48);
    CU_ASSERT_STRING_EQUAL(layers[0].activation, "Relu");
    CU_ASSERT_EQUAL(layers[0].parameters, 48 * 8 + 48 * 48 + 2 * 48);
    CU_ASSERT_EQUAL(layers[1].kind, SNNC_LAYER_DENSE);
    CU_ASSERT_EQUAL(layers[1].inputs, 48);
    CU_ASSERT_EQUAL(layers[1].units, 10);
    CU_ASSERT_EQUAL(layers[1].parameters, 490);
}

static void test_lstm_gru(void)
{
    load("lstm"); /* nn.LSTM(8, 40) */
    CU_ASSERT_EQUAL_FATAL(n_layers, 2);
    CU_ASSERT_EQUAL(layers[0].kind, SNNC_LAYER_LSTM);
    CU_ASSERT_EQUAL(layers[0].units, 40);
    CU_ASSERT_EQUAL(layers[0].parameters, 4 * 40 * (8 + 40) + 8 * 40);
    CU_ASSERT_STRING_EQUAL(layers[0].activation, "Sigmoid,Tanh,Tanh");
    load("gru"); /* nn.GRU(8, 40) */
    CU_ASSERT_EQUAL(layers[0].kind, SNNC_LAYER_GRU);
    CU_ASSERT_EQUAL(layers[0].parameters, 3 * 40 * (8 + 40) + 6 * 40);
}

static void test_bidirectional_stack(void)
{
    load("bilstm_stacked"); /* 2-layer bidirectional LSTM, hidden 24 */
    CU_ASSERT_EQUAL_FATAL(n_layers, 3);
    CU_ASSERT_EQUAL(layers[0].kind, SNNC_LAYER_LSTM);
    CU_ASSERT_EQUAL(layers[0].directions, 2);
    CU_ASSERT_EQUAL(layers[0].inputs, 8);
    CU_ASSERT_EQUAL(layers[1].kind, SNNC_LAYER_LSTM);
    CU_ASSERT_EQUAL(layers[1].inputs, 48); /* both directions of layer 1 */
    CU_ASSERT_EQUAL(layers[2].kind, SNNC_LAYER_DENSE);
}

static void test_rnncell_loop(void)
{
    load("rnncell_loop"); /* nn.RNNCell(8, 48) applied over 8 rows, then Linear */
    CU_ASSERT_EQUAL_FATAL(n_layers, 2);
    CU_ASSERT_EQUAL(layers[0].kind, SNNC_LAYER_RNN_CELL);
    CU_ASSERT_EQUAL(layers[0].steps, 8);
    CU_ASSERT_EQUAL(layers[0].inputs, 8);
    CU_ASSERT_EQUAL(layers[0].units, 48);
    CU_ASSERT_STRING_EQUAL(layers[0].activation, "Tanh");
    CU_ASSERT_EQUAL(layers[0].parameters, 48 * 8 + 48 * 48 + 2 * 48);
    CU_ASSERT_EQUAL(layers[1].kind, SNNC_LAYER_DENSE);
}

static void test_relational(void)
{
    load("relational"); /* 6 objects; g: 3 x Linear(.., 96); f: Linear(96, 64), Linear(64, 10) */
    CU_ASSERT_EQUAL_FATAL(n_layers, 1);
    const snnc_layer *l = &layers[0];
    CU_ASSERT_EQUAL(l->kind, SNNC_LAYER_RELATIONAL);
    CU_ASSERT_EQUAL(l->objects, 6);
    CU_ASSERT_EQUAL_FATAL(l->n_g, 3);
    CU_ASSERT_EQUAL(l->g_sizes[0], 96);
    CU_ASSERT_EQUAL(l->g_sizes[2], 96);
    CU_ASSERT_EQUAL_FATAL(l->n_f, 2);
    CU_ASSERT_EQUAL(l->f_sizes[0], 64);
    CU_ASSERT_EQUAL(l->f_sizes[1], 10);
    CU_ASSERT_EQUAL(l->units, 10);
    snnc_graph_free(graph);
    snnc_layers_free(layers, n_layers);
    graph = NULL, layers = NULL, n_layers = 0;
}

static CU_TestInfo tests[] = {
    {"Elman RNN operator with relu", test_elman_relu},
    {"LSTM and GRU operators", test_lstm_gru},
    {"stacked bidirectional LSTM", test_bidirectional_stack},
    {"nn.RNNCell loop unrolled over 8 steps", test_rnncell_loop},
    {"relational network g and f", test_relational},
    CU_TEST_INFO_NULL,
};
SNNC_TEST_MAIN("layers")
