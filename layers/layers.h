/* layers.h — layer recognition: groups of graph nodes that later stages
 * convert as one unit (recognize.c), and the model description printed by
 * `snnc inspect` (describe.c).
 *
 * Recognised: the ONNX RNN/LSTM/GRU operators; dense layers (Gemm, MatMul +
 * Add) with the activation that follows; Elman cells unrolled by exporters
 * (dense(x_t) + dense(h_{t-1}) -> activation, one layer for all time steps
 * sharing the weights); standalone activations; and the relational-network
 * pattern (objects paired by Expand/Concat -> shared MLP g -> ReduceSum over
 * pairs -> MLP f). */
#ifndef SNNC_LAYERS_H
#define SNNC_LAYERS_H

#include "../ir/graph.h"

typedef enum {
    SNNC_LAYER_RNN,        /* ONNX RNN operator (Elman) */
    SNNC_LAYER_LSTM,
    SNNC_LAYER_GRU,
    SNNC_LAYER_RNN_CELL,   /* Elman cell unrolled into Gemm/MatMul + Add + activation */
    SNNC_LAYER_DENSE,
    SNNC_LAYER_ACTIVATION,
    SNNC_LAYER_RELATIONAL,
    SNNC_LAYER_KIND_COUNT
} snnc_layer_kind;

typedef struct snnc_layer {
    snnc_layer_kind kind;
    char name[128];        /* the first node's name */
    int n_nodes;
    int *nodes;            /* node indices it covers */
    int64_t inputs;        /* input features */
    int64_t units;         /* hidden size / output features */
    int directions;        /* 1 or 2 for recurrent layers */
    int steps;             /* unrolled time steps (RNN_CELL) */
    char activation[64];   /* e.g. "Tanh", "Relu", "Sigmoid,Tanh,Tanh", "" for none */
    int64_t parameters;    /* weights and biases it owns */
    int in_value, out_value; /* graph values it reads and produces */
    int weight_value;      /* its main weight constant (grouping unrolled cells), or -1 */
    int weight_value2;     /* unrolled cells: the second weight of the pair */
    /* relational: sizes of the pair MLP g and the output MLP f, objects */
    int64_t objects;
    int n_g, n_f;
    int64_t g_sizes[8], f_sizes[8];
} snnc_layer;

int snnc_recognize_layers(const snnc_graph *g, snnc_layer **out, int *n, snnc_err *err);
void snnc_layers_free(snnc_layer *layers, int n);
const char *snnc_layer_kind_name(snnc_layer_kind k);

#endif
