/* test_import.c — the ONNX importer and the load passes on models built
 * here with protobuf-c: initializers from typed fields and raw_data,
 * refusals (external data, short raw_data, undefined inputs, cycles, opsets),
 * symbolic dimensions, folding of the Shape -> Gather -> Unsqueeze -> Concat
 * -> ConstantOfShape chain, dead-node elimination. */
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "ir/graph.h"
#include "ir/tensor.h"
#include "onnx.pb-c.h"
#include "snnc.h"

/* ---- a tiny model builder (all storage static or leaked into a pool) ---- */
#define POOL 64
typedef struct {
    Onnx__ModelProto m;
    Onnx__GraphProto g;
    Onnx__OperatorSetIdProto op;
    Onnx__OperatorSetIdProto *ops[1];
    Onnx__NodeProto nodes[POOL], *pnodes[POOL];
    Onnx__TensorProto inits[POOL], *pinits[POOL];
    Onnx__ValueInfoProto vis[POOL], *pins[POOL], *pouts[POOL];
    Onnx__TypeProto types[POOL];
    Onnx__TypeProto__Tensor ttypes[POOL];
    Onnx__TensorShapeProto shapes[POOL];
    Onnx__TensorShapeProto__Dimension dims[POOL * 4], *pdims[POOL * 4];
    Onnx__AttributeProto attrs[POOL], *pattrs[POOL];
    int nvi, ndim, nattr;
} builder;

static builder *b_new(int opset)
{
    builder *b = calloc(1, sizeof *b);
    onnx__model_proto__init(&b->m);
    onnx__graph_proto__init(&b->g);
    onnx__operator_set_id_proto__init(&b->op);
    b->op.has_version = 1;
    b->op.version = opset;
    b->op.domain = "";
    b->ops[0] = &b->op;
    b->m.n_opset_import = 1;
    b->m.opset_import = b->ops;
    b->m.has_ir_version = 1;
    b->m.ir_version = 8;
    b->m.graph = &b->g;
    b->g.node = b->pnodes;
    b->g.initializer = b->pinits;
    b->g.input = b->pins;
    b->g.output = b->pouts;
    return b;
}

/* dims: n entries; a negative entry -k means the symbol "N" */
static Onnx__ValueInfoProto *b_vi(builder *b, const char *name, int n, const int64_t *dims)
{
    Onnx__ValueInfoProto *v = &b->vis[b->nvi];
    Onnx__TypeProto *t = &b->types[b->nvi];
    Onnx__TypeProto__Tensor *tt = &b->ttypes[b->nvi];
    Onnx__TensorShapeProto *s = &b->shapes[b->nvi++];
    onnx__value_info_proto__init(v);
    onnx__type_proto__init(t);
    onnx__type_proto__tensor__init(tt);
    onnx__tensor_shape_proto__init(s);
    v->name = (char *)name;
    v->type = t;
    t->value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
    t->tensor_type = tt;
    tt->has_elem_type = 1;
    tt->elem_type = ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT;
    tt->shape = s;
    s->dim = &b->pdims[b->ndim];
    s->n_dim = (size_t)n;
    for (int i = 0; i < n; i++) {
        Onnx__TensorShapeProto__Dimension *d = &b->dims[b->ndim];
        onnx__tensor_shape_proto__dimension__init(d);
        if (dims[i] >= 0) {
            d->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
            d->dim_value = dims[i];
        } else {
            d->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM;
            d->dim_param = "N";
        }
        b->pdims[b->ndim++] = d;
    }
    return v;
}

static void b_input(builder *b, const char *name, int n, const int64_t *dims)
{
    b->g.input[b->g.n_input++] = b_vi(b, name, n, dims);
}

static void b_output(builder *b, const char *name, int n, const int64_t *dims)
{
    b->g.output[b->g.n_output++] = b_vi(b, name, n, dims);
}

static Onnx__TensorProto *b_init_f32(builder *b, const char *name, int n, const int64_t *dims,
                                     float *data, size_t count)
{
    Onnx__TensorProto *t = &b->inits[b->g.n_initializer];
    onnx__tensor_proto__init(t);
    t->name = (char *)name;
    t->has_data_type = 1;
    t->data_type = ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT;
    t->n_dims = (size_t)n;
    t->dims = (int64_t *)dims;
    t->n_float_data = count;
    t->float_data = data;
    b->g.initializer[b->g.n_initializer++] = t;
    return t;
}

static Onnx__NodeProto *b_node(builder *b, const char *op, const char *name, int nin,
                               const char **in, int nout, const char **out)
{
    Onnx__NodeProto *n = &b->nodes[b->g.n_node];
    onnx__node_proto__init(n);
    n->op_type = (char *)op;
    n->name = (char *)name;
    n->n_input = (size_t)nin;
    n->input = (char **)in;
    n->n_output = (size_t)nout;
    n->output = (char **)out;
    n->attribute = &b->pattrs[b->nattr];
    b->g.node[b->g.n_node++] = n;
    return n;
}

static void b_attr_int(builder *b, Onnx__NodeProto *n, const char *name, int64_t v)
{
    Onnx__AttributeProto *a = &b->attrs[b->nattr];
    onnx__attribute_proto__init(a);
    a->name = (char *)name;
    a->has_type = 1;
    a->type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT;
    a->has_i = 1;
    a->i = v;
    b->pattrs[b->nattr++] = a;
    n->n_attribute++;
}

static int b_load(builder *b, snnc_graph **g, snnc_err *err)
{
    size_t len = onnx__model_proto__get_packed_size(&b->m);
    uint8_t *buf = malloc(len + 1);
    onnx__model_proto__pack(&b->m, buf);
    int rc = snnc_load_onnx_buffer(buf, len, "test.onnx", g, err);
    free(buf);
    free(b);
    return rc;
}

/* ---- tests ---- */

static float w23[] = {1, 2, 3, 4, 5, 6};
static const int64_t d23[] = {2, 3}, d_n2[] = {-1, 2}, d_n3[] = {-1, 3};

static void test_typed_and_raw_initializers(void)
{
    /* y = x @ W with W from float_data; then y2 = y + B with B from raw_data */
    builder *b = b_new(13);
    b_input(b, "x", 2, d_n2);
    b_init_f32(b, "W", 2, d23, w23, 6);
    float bias[3] = {0.5f, -1.0f, 2.0f};
    static const int64_t d3[] = {3};
    Onnx__TensorProto *bt = b_init_f32(b, "B", 1, d3, NULL, 0);
    bt->has_raw_data = 1;
    bt->raw_data.len = sizeof bias;
    bt->raw_data.data = (uint8_t *)bias;
    static const char *mm_in[] = {"x", "W"}, *mm_out[] = {"y"}, *add_in[] = {"y", "B"},
                      *add_out[] = {"out"};
    b_node(b, "MatMul", "mm", 2, mm_in, 1, mm_out);
    b_node(b, "Add", "add", 2, add_in, 1, add_out);
    b_output(b, "out", 2, d_n3);
    snnc_graph *g;
    snnc_err err = {0};
    CU_ASSERT_EQUAL_FATAL(b_load(b, &g, &err), SNNC_OK);
    int64_t xd[] = {1, 2};
    snnc_tensor *x = snnc_tensor_new(SNNC_F32, 2, xd, &err), *y = NULL;
    snnc_f32(x)[0] = 1, snnc_f32(x)[1] = -1;
    const char *in = "x", *out = "out";
    CU_ASSERT_EQUAL_FATAL(snnc_run(g, 1, &in, (const snnc_tensor *const *)&x, 1, &out, &y, &err), SNNC_OK);
    /* [1,-1] @ [[1,2,3],[4,5,6]] = [-3,-3,-3]; + [0.5,-1,2] */
    CU_ASSERT_EQUAL(snnc_f32(y)[0], -2.5f);
    CU_ASSERT_EQUAL(snnc_f32(y)[1], -4.0f);
    CU_ASSERT_EQUAL(snnc_f32(y)[2], -1.0f);
    snnc_tensor_free(x), snnc_tensor_free(y);
    snnc_graph_free(g);
}

static int load_expect_fail(builder *b, const char *needle)
{
    snnc_graph *g = NULL;
    snnc_err err = {0};
    int rc = b_load(b, &g, &err);
    CU_ASSERT_PTR_NULL(g);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, needle));
    if (!strstr(err.msg, needle))
        fprintf(stderr, "\n  message was: %s\n", err.msg);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "test.onnx"));
    snnc_graph_free(g);
    return rc;
}

/* The model of the initializer refusals: x[N,2] -> MatMul(x, W) -> y[N,3],
 * W a float initializer of dims w_dims without data.  Returns W, for the
 * test to alter. */
static Onnx__TensorProto *b_matmul_w(builder *b, const int64_t *w_dims)
{
    b_input(b, "x", 2, d_n2);
    Onnx__TensorProto *t = b_init_f32(b, "W", 2, w_dims, NULL, 0);
    static const char *in[] = {"x", "W"}, *out[] = {"y"};
    b_node(b, "MatMul", "mm", 2, in, 1, out);
    b_output(b, "y", 2, d_n3);
    return t;
}

static void test_short_raw_data(void)
{
    builder *b = b_new(13);
    Onnx__TensorProto *t = b_matmul_w(b, d23);
    t->has_raw_data = 1;
    t->raw_data.len = 8; /* 6 floats need 24 bytes */
    t->raw_data.data = (uint8_t *)w23;
    CU_ASSERT_EQUAL(load_expect_fail(b, "initializer 'W': dims need 24 bytes of raw_data but it holds 8"),
                    SNNC_EINVALID);
}

static void test_dims_without_data(void)
{
    builder *b = b_new(13);
    b_matmul_w(b, d23);
    CU_ASSERT_EQUAL(load_expect_fail(b, "initializer 'W': dims need 6 elements but the data holds 0"),
                    SNNC_EINVALID);
}

static void test_absurd_dims(void)
{
    builder *b = b_new(13);
    static const int64_t huge[] = {(int64_t)1 << 40, (int64_t)1 << 40};
    b_matmul_w(b, huge);
    CU_ASSERT_EQUAL(load_expect_fail(b, "initializer 'W': dims [1099511627776,1099511627776] exceed"),
                    SNNC_EINVALID);
}

static void test_external_data(void)
{
    builder *b = b_new(13);
    Onnx__TensorProto *t = b_matmul_w(b, d23);
    t->has_data_location = 1;
    t->data_location = ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL;
    CU_ASSERT_EQUAL(load_expect_fail(b, "initializer 'W': stored as external data"), SNNC_EUNSUPPORTED);
}

static void test_undefined_input_and_cycle(void)
{
    builder *b = b_new(13);
    b_input(b, "x", 2, d_n2);
    static const char *in[] = {"x", "nowhere"}, *out[] = {"y"};
    b_node(b, "Add", "adder", 2, in, 1, out);
    b_output(b, "y", 2, d_n2);
    CU_ASSERT_EQUAL(load_expect_fail(b, "node 'adder' (Add) reads 'nowhere'"), SNNC_EINVALID);

    b = b_new(13);
    b_input(b, "x", 2, d_n2);
    static const char *a_in[] = {"x", "q"}, *a_out[] = {"p"}, *c_in[] = {"p"}, *c_out[] = {"q"};
    b_node(b, "Add", "a", 2, a_in, 1, a_out);
    b_node(b, "Relu", "c", 1, c_in, 1, c_out);
    b_output(b, "q", 2, d_n2);
    CU_ASSERT_EQUAL(load_expect_fail(b, "cycle through node 'a' (Add)"), SNNC_EINVALID);
}

static void test_opset_range(void)
{
    builder *b = b_new(19);
    b_input(b, "x", 2, d_n2);
    static const char *in[] = {"x"}, *out[] = {"y"};
    b_node(b, "Relu", "r", 1, in, 1, out);
    b_output(b, "y", 2, d_n2);
    CU_ASSERT_EQUAL(load_expect_fail(b, "opset 19 is outside the supported 7 to 18"), SNNC_EUNSUPPORTED);
}

/* x[N,3] -> Shape -> Gather(0) -> Unsqueeze(axes) -> Concat([1], n, [4]) ->
 * ConstantOfShape: the zero initial state PyTorch exports.  With N symbolic
 * the result is [1,N,4]; DCE keeps only what the output needs. */
static void test_symbolic_shape_chain(void)
{
    builder *b = b_new(13);
    b_input(b, "x", 2, d_n3);
    static const int64_t d1[] = {1}, d0[] = {0};
    static float zero_idx[1];
    (void)zero_idx;
    /* int64 initializers */
    static int64_t idx0[] = {0}, one[] = {1}, four[] = {4}, axes0[] = {0};
    const char *names[] = {"idx", "one", "four", "axes"};
    int64_t *vals[] = {idx0, one, four, axes0};
    for (int i = 0; i < 4; i++) {
        Onnx__TensorProto *t = b_init_f32(b, names[i], i == 0 ? 0 : 1, i == 0 ? d0 : d1, NULL, 0);
        t->data_type = ONNX__TENSOR_PROTO__DATA_TYPE__INT64;
        t->n_int64_data = 1;
        t->int64_data = vals[i];
    }
    static const char *s_in[] = {"x"}, *s_out[] = {"shape"}, *g_in[] = {"shape", "idx"},
                      *g_out[] = {"n"}, *u_in[] = {"n", "axes"}, *u_out[] = {"n1"},
                      *c_in[] = {"one", "n1", "four"}, *c_out[] = {"dims"},
                      *k_in[] = {"dims"}, *k_out[] = {"h0"}, *dead_in[] = {"x"},
                      *dead_out[] = {"unused"};
    b_node(b, "Shape", "shape", 1, s_in, 1, s_out);
    b_node(b, "Gather", "gather", 2, g_in, 1, g_out);
    b_node(b, "Unsqueeze", "unsq", 2, u_in, 1, u_out);
    Onnx__NodeProto *c = b_node(b, "Concat", "concat", 3, c_in, 1, c_out);
    b_attr_int(b, c, "axis", 0);
    b_node(b, "ConstantOfShape", "zeros", 1, k_in, 1, k_out);
    b_node(b, "Relu", "dead", 1, dead_in, 1, dead_out);
    b_output(b, "h0", 0, NULL);
    b->g.output[0]->type->tensor_type->shape = NULL; /* let inference find it */
    snnc_graph *g;
    snnc_err err = {0};
    CU_ASSERT_EQUAL_FATAL(b_load(b, &g, &err), SNNC_OK);
    const snnc_value *h0 = &g->values[snnc_graph_find_value(g, "h0")];
    CU_ASSERT_EQUAL(h0->rank, 3);
    CU_ASSERT_EQUAL(h0->dims[0], 1);
    CU_ASSERT_TRUE(SNNC_IS_SYM(h0->dims[1]));
    CU_ASSERT_STRING_EQUAL(snnc_graph_symbol_name(g, h0->dims[1]), "N");
    CU_ASSERT_EQUAL(h0->dims[2], 4);
    const snnc_value *dims = &g->values[snnc_graph_find_value(g, "dims")];
    CU_ASSERT_EQUAL(dims->n_symval, 3);
    for (int k = 0; k < g->n_nodes; k++)
        CU_ASSERT_STRING_NOT_EQUAL(g->nodes[k].name, "dead");
    /* at run time the batch is 5 */
    int64_t xd[] = {5, 3};
    snnc_tensor *x = snnc_tensor_new(SNNC_F32, 2, xd, &err), *y = NULL;
    const char *in = "x", *out = "h0";
    CU_ASSERT_EQUAL_FATAL(snnc_run(g, 1, &in, (const snnc_tensor *const *)&x, 1, &out, &y, &err), SNNC_OK);
    CU_ASSERT_EQUAL(y->rank, 3);
    CU_ASSERT_EQUAL(y->dims[1], 5);
    CU_ASSERT_EQUAL(y->count, 20);
    snnc_tensor_free(x), snnc_tensor_free(y);
    snnc_graph_free(g);
}

static void test_static_chain_folds(void)
{
    /* with a concrete batch the whole chain folds to a constant: no node left */
    builder *b = b_new(13);
    static const int64_t d73[] = {7, 3};
    b_input(b, "x", 2, d73);
    static const char *s_in[] = {"x"}, *s_out[] = {"shape"}, *k_in[] = {"shape"}, *k_out[] = {"z"};
    b_node(b, "Shape", "shape", 1, s_in, 1, s_out);
    b_node(b, "ConstantOfShape", "zeros", 1, k_in, 1, k_out);
    b_output(b, "z", 2, d73);
    snnc_graph *g;
    snnc_err err = {0};
    CU_ASSERT_EQUAL_FATAL(b_load(b, &g, &err), SNNC_OK);
    CU_ASSERT_EQUAL(g->n_nodes, 0);
    const snnc_value *z = &g->values[snnc_graph_find_value(g, "z")];
    CU_ASSERT_PTR_NOT_NULL(z->constant);
    CU_ASSERT_EQUAL(z->constant ? z->constant->count : 0, 21);
    snnc_graph_free(g);
}

static void test_unknown_domain_listed(void)
{
    builder *b = b_new(13);
    b_input(b, "x", 2, d_n2);
    static const char *in[] = {"x"}, *out[] = {"y"};
    Onnx__NodeProto *n = b_node(b, "FancyOp", "fancy", 1, in, 1, out);
    n->domain = "com.example";
    b_output(b, "y", 2, d_n2);
    snnc_graph *g;
    snnc_err err = {0};
    CU_ASSERT_EQUAL_FATAL(b_load(b, &g, &err), SNNC_OK); /* loads: inspect lists it */
    char *json = snnc_describe_json(g, &err);
    CU_ASSERT_PTR_NOT_NULL(strstr(json, "\"domain\": \"com.example\""));
    free(json);
    int64_t xd[] = {1, 2};
    snnc_tensor *x = snnc_tensor_new(SNNC_F32, 2, xd, &err), *y = NULL;
    const char *iname = "x", *oname = "y";
    CU_ASSERT_EQUAL(snnc_run(g, 1, &iname, (const snnc_tensor *const *)&x, 1, &oname, &y, &err),
                    SNNC_EUNSUPPORTED);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "node 'fancy' (FancyOp)"));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "com.example"));
    snnc_tensor_free(x);
    snnc_graph_free(g);
}

static void test_garbage_refused(void)
{
    snnc_graph *g = NULL;
    snnc_err err = {0};
    CU_ASSERT_EQUAL(snnc_load_onnx_buffer("", 0, "empty.onnx", &g, &err), SNNC_EINVALID);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "empty.onnx: empty file"));
    snnc_err e2 = {0};
    const char junk[] = "\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01";
    CU_ASSERT_EQUAL(snnc_load_onnx_buffer(junk, sizeof junk, "junk.onnx", &g, &e2), SNNC_EINVALID);
    CU_ASSERT_PTR_NOT_NULL(strstr(e2.msg, "junk.onnx"));
    snnc_err e3 = {0};
    CU_ASSERT_EQUAL(snnc_load_onnx_file("/nonexistent/m.onnx", &g, &e3), SNNC_EIO);
    CU_ASSERT_PTR_NOT_NULL(strstr(e3.msg, "/nonexistent/m.onnx"));
}

static CU_TestInfo tests[] = {
    {"typed and raw_data initializers", test_typed_and_raw_initializers},
    {"raw_data shorter than dims", test_short_raw_data},
    {"dims without data", test_dims_without_data},
    {"absurd dims refused before allocating", test_absurd_dims},
    {"external data refused", test_external_data},
    {"undefined input and cycle", test_undefined_input_and_cycle},
    {"opset outside 7..18", test_opset_range},
    {"symbolic Shape->ConstantOfShape chain", test_symbolic_shape_chain},
    {"static shape chain folds away", test_static_chain_folds},
    {"unknown domain: listed, run refused", test_unknown_domain_listed},
    {"garbage, empty, missing files", test_garbage_refused},
    CU_TEST_INFO_NULL,
};
SNNC_TEST_MAIN("import")
