/* constrained_onnx.c — the constrained network (quantize/'s snnc_ann) as an
 * ONNX model, unrolled over its time steps (interface: exporter/exporter.h;
 * node groups described in docs/CONVERSION.md §2).  Nodes, tensors and
 * strings are built in one arena of allocations, packed with
 * onnx__model_proto__pack, then freed together. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../ir/error.h"
#include "exporter.h"
#include "onnx.pb-c.h"

#define OPSET 13
#define IR_VERSION 7 /* the IR version of opset 13 (ONNX 1.8) */

typedef struct builder {
    void **blocks;          /* every allocation, freed together */
    size_t n_blocks, cap_blocks;
    Onnx__NodeProto **nodes;
    size_t n_nodes, cap_nodes;
    Onnx__TensorProto **inits;
    size_t n_inits, cap_inits;
    bool oom;
} builder;

static void *alloc(builder *b, size_t size)
{
    if (b->oom)
        return NULL;
    if (b->n_blocks == b->cap_blocks) {
        size_t cap = b->cap_blocks ? 2 * b->cap_blocks : 256;
        void **p = realloc(b->blocks, cap * sizeof *p);
        if (!p) {
            b->oom = true;
            return NULL;
        }
        b->blocks = p, b->cap_blocks = cap;
    }
    void *p = calloc(1, size ? size : 1);
    if (!p)
        b->oom = true;
    else
        b->blocks[b->n_blocks++] = p;
    return p;
}

/* A formatted string owned by the arena. */
static char *str(builder *b, const char *fmt, ...)
{
    char tmp[512];
    if (b->oom)
        return NULL;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    char *s = alloc(b, strlen(tmp) + 1);
    if (s)
        strcpy(s, tmp);
    return s;
}

/* Append p to a growing array of pointers. */
static void push(builder *b, void ***arr, size_t *n, size_t *cap, void *p)
{
    if (b->oom || !p) {
        b->oom = true;
        return;
    }
    if (*n == *cap) {
        size_t c = *cap ? 2 * *cap : 64;
        void **q = realloc(*arr, c * sizeof *q);
        if (!q) {
            b->oom = true;
            return;
        }
        *arr = q, *cap = c;
    }
    (*arr)[(*n)++] = p;
}

/* A new initializer `name` of the given dims and element type, registered
 * with the graph; its element count in *count, its data left to the caller. */
static Onnx__TensorProto *new_init(builder *b, const char *name, int rank, const int64_t *dims,
                                   int type, size_t *count)
{
    Onnx__TensorProto *t = alloc(b, sizeof *t);
    int64_t *d = alloc(b, (size_t)(rank ? rank : 1) * sizeof *d);
    if (!t || !d)
        return NULL;
    *count = 1;
    for (int i = 0; i < rank; i++)
        *count *= (size_t)dims[i];
    onnx__tensor_proto__init(t);
    if (rank)
        memcpy(d, dims, (size_t)rank * sizeof *d); /* a scalar has no dims (NULL) */
    t->n_dims = (size_t)rank, t->dims = d;
    t->has_data_type = 1, t->data_type = type;
    t->name = str(b, "%s", name);
    push(b, (void ***)&b->inits, &b->n_inits, &b->cap_inits, t);
    return t;
}

/* A float initializer `name` of the given dims holding data (copied). */
static const char *init_f32(builder *b, const char *name, int rank, const int64_t *dims, const float *data,
                            const char *doc)
{
    size_t count;
    Onnx__TensorProto *t = new_init(b, name, rank, dims, ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, &count);
    float *v = t ? alloc(b, count * sizeof *v) : NULL;
    if (!v)
        return NULL;
    memcpy(v, data, count * sizeof *v);
    t->n_float_data = count, t->float_data = v;
    t->doc_string = doc ? str(b, "%s", doc) : NULL;
    return t->name;
}

/* The initializer already named `name`, or NULL. */
static const char *find_init(builder *b, const char *name)
{
    for (size_t i = 0; name && i < b->n_inits; i++)
        if (!strcmp(b->inits[i]->name, name))
            return b->inits[i]->name;
    return NULL;
}

/* A scalar float initializer, created once: a second request for the same
 * name (a quantiser met at every step) returns the first. */
static const char *scalar_f32(builder *b, const char *name, float v)
{
    const char *have = find_init(b, name);
    return have ? have : init_f32(b, name, 0, NULL, &v, NULL);
}

/* An int64 initializer `name` of the given dims holding data (copied). */
static const char *init_i64(builder *b, const char *name, int rank, const int64_t *dims, const int64_t *data)
{
    size_t count;
    Onnx__TensorProto *t = new_init(b, name, rank, dims, ONNX__TENSOR_PROTO__DATA_TYPE__INT64, &count);
    int64_t *v = t ? alloc(b, count * sizeof *v) : NULL;
    if (!v)
        return NULL;
    memcpy(v, data, count * sizeof *v);
    t->n_int64_data = count, t->int64_data = v;
    return t->name;
}

static Onnx__AttributeProto *attr_int(builder *b, const char *name, int64_t v)
{
    Onnx__AttributeProto *a = alloc(b, sizeof *a);
    if (a) {
        onnx__attribute_proto__init(a);
        a->name = str(b, "%s", name);
        a->has_type = 1, a->type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT;
        a->has_i = 1, a->i = v;
    }
    return a;
}

/* Node `name` of op_type on n_in inputs; its one output is named `name` too
 * (or `out` when given).  Returns the output's name. */
static const char *node(builder *b, const char *op, const char *name, const char *out, int n_in,
                        const char *const *in, Onnx__AttributeProto *attr)
{
    Onnx__NodeProto *n = alloc(b, sizeof *n);
    char **ins = alloc(b, (size_t)n_in * sizeof *ins);
    char **outs = alloc(b, sizeof *outs);
    if (!n || !ins || !outs)
        return NULL;
    onnx__node_proto__init(n);
    for (int i = 0; i < n_in; i++) {
        if (!in[i]) {
            b->oom = true;
            return NULL;
        }
        ins[i] = (char *)in[i];
    }
    outs[0] = str(b, "%s", out ? out : name);
    n->n_input = (size_t)n_in, n->input = ins;
    n->n_output = 1, n->output = outs;
    n->name = str(b, "%s", name);
    n->op_type = str(b, "%s", op);
    if (attr) {
        Onnx__AttributeProto **as = alloc(b, sizeof *as);
        if (!as)
            return NULL;
        as[0] = attr;
        n->n_attribute = 1, n->attribute = as;
    }
    push(b, (void ***)&b->nodes, &b->n_nodes, &b->cap_nodes, n);
    return outs[0];
}

/* Where snnc_act_quantize's output reaches level r: the smallest float v
 * in (lo, hi] with snnc_act_quantize(q, v) >= r, by bisection over floats
 * (the quantiser is monotone). */
static float threshold(const snnc_act_quant *q, float r)
{
    float below = q->lo, above = q->hi; /* quantise(below) < r <= quantise(above) */
    for (;;) {
        float next = nextafterf(below, above);
        if (next == above)
            return above;
        float mid = (float)(((double)below + above) / 2);
        if (mid <= below || mid >= above)
            mid = next;
        if (snnc_act_quantize(q, mid) >= r)
            above = mid;
        else
            below = mid;
    }
}

/* The activity quantiser (clamp to [lo, hi], round to the nearest of L
 * levels, halves up) as operators: Clip, then the count of the L - 1
 * thresholds reached (the midpoints between levels, exactly where
 * snnc_act_quantize moves to the next level: Unsqueeze, GreaterOrEqual,
 * Cast, ReduceSum), then that level looked up (Gather).  A formula
 * (x / step, Round or Floor of x + 1/2, times step) would be the same
 * function in exact arithmetic, but float32 rounds a value near a midpoint
 * to either side where ann_eval's double arithmetic does not; the
 * thresholds and levels come from snnc_act_quantize itself, so the
 * exported quantiser is bit-identical to it.  `p` prefixes the node names;
 * the constants are initializers named after `q_name`, shared by the
 * steps. */
static const char *quantise(builder *b, const snnc_act_quant *q, const char *q_name, const char *p,
                            const char *x)
{
    if (q->levels <= 0)
        return x;
    const char *lo = scalar_f32(b, str(b, "%s/lo", q_name), q->lo);
    if (q->levels == 1 || !(q->hi > q->lo)) /* every value becomes lo */
        return node(b, "Clip", str(b, "%s/clip", p), NULL, 3, (const char *[]){x, lo, lo}, NULL);
    int L = q->levels;
    float *lev = alloc(b, (size_t)L * sizeof *lev), *thr = alloc(b, (size_t)L * sizeof *thr);
    if (!lev || !thr)
        return NULL;
    double step = ((double)q->hi - q->lo) / (L - 1);
    for (int k = 0; k < L; k++)
        lev[k] = snnc_act_quantize(q, (float)(q->lo + k * step));
    for (int k = 1; k < L; k++)
        thr[k - 1] = threshold(q, lev[k]);
    const char *hi = scalar_f32(b, str(b, "%s/hi", q_name), q->hi);
    const char *levels = find_init(b, str(b, "%s/levels", q_name));
    const char *thresholds = find_init(b, str(b, "%s/thresholds", q_name));
    if (!levels)
        levels = init_f32(b, str(b, "%s/levels", q_name), 1, (int64_t[]){L}, lev,
                          "the quantiser's levels lo + k (hi - lo) / (L - 1)");
    if (!thresholds)
        thresholds = init_f32(b, str(b, "%s/thresholds", q_name), 1, (int64_t[]){L - 1}, thr,
                              "where the count steps up: the midpoints between levels");
    const char *last = find_init(b, "last_axis");
    if (!last)
        last = init_i64(b, "last_axis", 1, (int64_t[]){1}, (int64_t[]){-1});
    const char *v = node(b, "Clip", str(b, "%s/clip", p), NULL, 3, (const char *[]){x, lo, hi}, NULL);
    v = node(b, "Unsqueeze", str(b, "%s/column", p), NULL, 2, (const char *[]){v, last}, NULL);
    v = node(b, "GreaterOrEqual", str(b, "%s/reached", p), NULL, 2, (const char *[]){v, thresholds}, NULL);
    v = node(b, "Cast", str(b, "%s/reached_int", p), NULL, 1, &v,
             attr_int(b, "to", ONNX__TENSOR_PROTO__DATA_TYPE__INT64));
    v = node(b, "ReduceSum", str(b, "%s/count", p), NULL, 2, (const char *[]){v, last},
             attr_int(b, "keepdims", 0));
    return node(b, "Gather", str(b, "%s/level", p), NULL, 2, (const char *[]){levels, v},
                attr_int(b, "axis", 0));
}

static const char *activate(builder *b, snnc_act act, const char *p, const char *x)
{
    if (act == SNNC_ACT_RELU)
        return node(b, "Relu", str(b, "%s/relu", p), NULL, 1, &x, NULL);
    if (act == SNNC_ACT_TANH)
        return node(b, "Tanh", str(b, "%s/tanh", p), NULL, 1, &x, NULL);
    return x;
}

/* Y = x W^T + C as Gemm (transB = 1): snnc_ann_run's affine step. */
static const char *gemm(builder *b, const char *name, const char *x, const char *w, const char *c)
{
    return node(b, "Gemm", name, NULL, 3, (const char *[]){x, w, c}, attr_int(b, "transB", 1));
}

/* The layer's weights and bias as initializers "<L>/W", "<L>/U", "<L>/b". */
static void layer_inits(builder *b, const snnc_ann_layer *l, const char *L, const char **W, const char **U,
                        const char **bias)
{
    *W = init_f32(b, str(b, "%s/W", L), 2, (int64_t[]){l->n_out, l->n_in}, l->W,
                  "dequantised weights: per neuron (and fan-in group) code x scale");
    *U = l->role == SNNC_ANN_RECURRENT
             ? init_f32(b, str(b, "%s/U", L), 2, (int64_t[]){l->n_out, l->n_out}, l->U,
                        "dequantised recurrent weights: per neuron (and fan-in group) code x scale")
             : NULL;
    *bias = init_f32(b, str(b, "%s/b", L), 1, (int64_t[]){l->n_out}, l->b, "bias");
}

static Onnx__ValueInfoProto *value_info(builder *b, const char *name, int rank, const int64_t *dims,
                                        const char *sym0)
{
    Onnx__ValueInfoProto *v = alloc(b, sizeof *v);
    Onnx__TypeProto *t = alloc(b, sizeof *t);
    Onnx__TypeProto__Tensor *tt = alloc(b, sizeof *tt);
    Onnx__TensorShapeProto *s = alloc(b, sizeof *s);
    Onnx__TensorShapeProto__Dimension **d = alloc(b, (size_t)rank * sizeof *d);
    if (!v || !t || !tt || !s || !d)
        return NULL;
    onnx__value_info_proto__init(v);
    onnx__type_proto__init(t);
    onnx__type_proto__tensor__init(tt);
    onnx__tensor_shape_proto__init(s);
    for (int i = 0; i < rank; i++) {
        if (!(d[i] = alloc(b, sizeof *d[i])))
            return NULL;
        onnx__tensor_shape_proto__dimension__init(d[i]);
        if (dims[i] < 0) {
            d[i]->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM;
            d[i]->dim_param = str(b, "%s", sym0);
        } else {
            d[i]->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
            d[i]->dim_value = dims[i];
        }
    }
    s->n_dim = (size_t)rank, s->dim = d;
    tt->has_elem_type = 1, tt->elem_type = ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT;
    tt->shape = s;
    t->value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE, t->tensor_type = tt;
    v->name = str(b, "%s", name);
    v->type = t;
    return v;
}

/* Structure as snnc_ann_run requires it: per-step layers, one recurrent
 * layer, readouts, sizes chained. */
static int check(const snnc_ann *q, int *rec, snnc_err *err)
{
    *rec = -1;
    if (!q || q->n_layers < 1 || q->steps < 1 || q->n_inputs < 1)
        return snnc_fail(err, SNNC_EINVALID, "constrained network: no layers, inputs or steps");
    for (int i = 0; i < q->n_layers; i++) {
        const snnc_ann_layer *l = &q->layers[i];
        if (l->role == SNNC_ANN_RECURRENT && *rec < 0)
            *rec = i;
        else if (l->role != (*rec < 0 ? SNNC_ANN_STEP_DENSE : SNNC_ANN_READOUT))
            return snnc_fail(err, SNNC_EINVALID, "layer '%s': role out of order", l->name);
        if (l->n_in != (i ? q->layers[i - 1].n_out : q->n_inputs) || !l->W || !l->b ||
            (l->role == SNNC_ANN_RECURRENT && !l->U))
            return snnc_fail(err, SNNC_EINVALID, "layer '%s': inconsistent sizes or missing parameters",
                             l->name);
    }
    return *rec < 0 ? snnc_fail(err, SNNC_EINVALID, "constrained network: no recurrent layer") : SNNC_OK;
}

/* The graph's nodes: input quantiser, per step the per-step layers and the
 * recurrent layer, then the readouts on h_T. */
static const char *build_nodes(builder *b, const snnc_ann *q, int rec)
{
    const char *x = quantise(b, &q->in_q, "input_quant", "input_quant", q->input_name);
    const char *W[q->n_layers], *U[q->n_layers], *bias[q->n_layers], *L[q->n_layers];
    for (int i = 0; i < q->n_layers; i++) {
        L[i] = str(b, "layer%d", i);
        layer_inits(b, &q->layers[i], L[i], &W[i], &U[i], &bias[i]);
    }
    const char *h = NULL;
    for (int t = 0; t < q->steps; t++) {
        const char *idx = init_i64(b, str(b, "t%d/index", t), 0, NULL, (int64_t[]){t});
        const char *v = node(b, "Gather", str(b, "t%d/x", t), NULL, 2, (const char *[]){x, idx},
                             attr_int(b, "axis", q->batch_first ? 1 : 0));
        for (int i = 0; i <= rec; i++) {
            const snnc_ann_layer *l = &q->layers[i];
            const char *p = str(b, "%s/t%d", L[i], t);
            if (i < rec) {
                v = gemm(b, str(b, "%s/gemm", p), v, W[i], bias[i]);
            } else {
                v = gemm(b, str(b, "%s/input", p), v, W[i], bias[i]);
                if (h)
                    v = gemm(b, str(b, "%s/recurrence", p), h, U[i], v);
            }
            v = quantise(b, &l->out_q, str(b, "%s/quant", L[i]), str(b, "%s/quant", p), activate(b, l->act, p, v));
        }
        h = v;
    }
    for (int i = rec + 1; i < q->n_layers; i++) {
        const snnc_ann_layer *l = &q->layers[i];
        h = gemm(b, str(b, "%s/gemm", L[i]), h, W[i], bias[i]);
        h = quantise(b, &l->out_q, str(b, "%s/quant", L[i]), str(b, "%s/quant", L[i]), activate(b, l->act, L[i], h));
    }
    /* the output under the model's own output name */
    return node(b, "Identity", "output", q->output_name, 1, &h, NULL);
}

static int pack(builder *b, const snnc_ann *q, const char *out, void **bytes, size_t *size, snnc_err *err)
{
    int n_out = q->layers[q->n_layers - 1].n_out;
    int64_t in_dims[3] = {-1, q->steps, q->n_inputs};
    if (!q->batch_first)
        in_dims[0] = q->steps, in_dims[1] = -1;
    Onnx__ValueInfoProto *vin = value_info(b, q->input_name, 3, in_dims, "batch");
    Onnx__ValueInfoProto *vout = value_info(b, out ? out : "", 2, (int64_t[]){-1, n_out}, "batch");
    Onnx__GraphProto *g = alloc(b, sizeof *g);
    Onnx__ModelProto *m = alloc(b, sizeof *m);
    Onnx__OperatorSetIdProto *os = alloc(b, sizeof *os);
    if (b->oom || !vin || !vout || !g || !m || !os || !out)
        return snnc_fail(err, SNNC_ENOMEM, "out of memory");
    onnx__graph_proto__init(g);
    onnx__model_proto__init(m);
    onnx__operator_set_id_proto__init(os);
    g->name = "snnc_constrained";
    g->doc_string = "The constrained network of snnc convert (docs/CONVERSION.md section 2): quantised "
                    "input, weights code x scale, activities clipped and rounded to their levels.";
    g->n_node = b->n_nodes, g->node = b->nodes;
    g->n_initializer = b->n_inits, g->initializer = b->inits;
    g->n_input = 1, g->input = &vin;
    g->n_output = 1, g->output = &vout;
    os->domain = "", os->has_version = 1, os->version = OPSET;
    m->has_ir_version = 1, m->ir_version = IR_VERSION;
    m->n_opset_import = 1, m->opset_import = &os;
    m->producer_name = "snnc";
    m->graph = g;
    *size = onnx__model_proto__get_packed_size(m);
    *bytes = malloc(*size ? *size : 1);
    if (!*bytes)
        return snnc_fail(err, SNNC_ENOMEM, "out of memory");
    onnx__model_proto__pack(m, *bytes);
    return SNNC_OK;
}

int snnc_export_constrained_onnx(const snnc_ann *q, void **bytes, size_t *size, snnc_err *err)
{
    int rec;
    *bytes = NULL;
    *size = 0;
    int rc = check(q, &rec, err);
    if (rc)
        return rc;
    builder b = {0};
    const char *out = build_nodes(&b, q, rec);
    rc = b.oom ? snnc_fail(err, SNNC_ENOMEM, "out of memory") : pack(&b, q, out, bytes, size, err);
    for (size_t i = 0; i < b.n_blocks; i++)
        free(b.blocks[i]);
    free(b.blocks);
    free(b.nodes);
    free(b.inits);
    return rc;
}
