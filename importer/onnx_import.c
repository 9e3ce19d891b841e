/* onnx_import.c — ONNX ModelProto (protobuf-c) -> graph IR, then the load
 * pipeline of passes (interface: include/snnc.h snnc_load_onnx_*).
 *
 * The importer only translates: names become value indices, attributes
 * become snnc_attr, initializers become constants.  Checking and
 * simplification are passes (passes/passes.h) run in order at the end. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../ir/error.h"
#include "../ir/graph.h"
#include "../ops/op.h"
#include "../passes/passes.h"
#include "importer.h"
#include "onnx.pb-c.h"

static char *bytes_str(ProtobufCBinaryData b)
{
    char *s = malloc(b.len + 1);
    if (s) {
        if (b.len)
            memcpy(s, b.data, b.len);
        s[b.len] = '\0';
    }
    return s;
}

static int import_attr(const Onnx__AttributeProto *ap, snnc_attr *a, const char *where, snnc_err *err)
{
    a->name = strdup(ap->name ? ap->name : "");
    switch (ap->type) {
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT: a->kind = SNNC_ATTR_FLOAT; a->f = ap->f; break;
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT: a->kind = SNNC_ATTR_INT; a->i = ap->i; break;
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING:
        a->kind = SNNC_ATTR_STRING;
        a->s = bytes_str(ap->s);
        break;
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR: {
        a->kind = SNNC_ATTR_TENSOR;
        if (!ap->t)
            return snnc_fail(err, SNNC_EINVALID, "%s: attribute '%s' has no tensor", where, a->name);
        char what[300];
        snprintf(what, sizeof what, "%s: attribute '%s'", where, a->name);
        return snnc_tensor_from_proto(ap->t, what, &a->t, err);
    }
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOATS:
        a->kind = SNNC_ATTR_FLOATS;
        a->n = (int)ap->n_floats;
        a->floats = malloc((ap->n_floats + 1) * sizeof(float));
        if (ap->n_floats)
            memcpy(a->floats, ap->floats, ap->n_floats * sizeof(float));
        break;
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS:
        a->kind = SNNC_ATTR_INTS;
        a->n = (int)ap->n_ints;
        a->ints = malloc((ap->n_ints + 1) * sizeof(int64_t));
        if (ap->n_ints)
            memcpy(a->ints, ap->ints, ap->n_ints * sizeof(int64_t));
        break;
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRINGS:
        a->kind = SNNC_ATTR_STRINGS;
        a->strings = calloc(ap->n_strings + 1, sizeof(char *));
        for (size_t i = 0; a->strings && i < ap->n_strings; i++)
            a->strings[i] = bytes_str(ap->strings[i]);
        a->n = (int)ap->n_strings;
        break;
    default: a->kind = SNNC_ATTR_OTHER; break;
    }
    return SNNC_OK;
}

/* Type and shape of a ValueInfoProto into value v (symbolic dims interned). */
static int import_value_info(snnc_graph *g, const Onnx__ValueInfoProto *vi, snnc_value *v,
                             snnc_err *err)
{
    const Onnx__TypeProto *tp = vi->type;
    if (!tp || tp->value_case != ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE || !tp->tensor_type)
        return SNNC_OK; /* sequences, maps: left unknown; ops that need tensors will say so */
    const Onnx__TypeProto__Tensor *tt = tp->tensor_type;
    if (tt->has_elem_type)
        v->dtype = snnc_onnx_elem_type(tt->elem_type);
    if (!tt->shape)
        return SNNC_OK;
    if (tt->shape->n_dim > SNNC_MAX_RANK)
        return snnc_fail(err, SNNC_EUNSUPPORTED, "value '%s': rank %zu exceeds the supported %d",
                         v->name, tt->shape->n_dim, SNNC_MAX_RANK);
    v->rank = (int)tt->shape->n_dim;
    for (int i = 0; i < v->rank; i++) {
        const Onnx__TensorShapeProto__Dimension *d = tt->shape->dim[i];
        if (d->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE && d->dim_value >= 0)
            v->dims[i] = d->dim_value;
        else if (d->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM && d->dim_param)
            v->dims[i] = SNNC_SYM(snnc_graph_symbol(g, d->dim_param));
        else
            v->dims[i] = SNNC_SYM(snnc_graph_symbol(g, NULL));
    }
    /* Declared sizes feed shape arithmetic at load time: bound them like data. */
    int64_t n = 1;
    for (int i = 0; i < v->rank; i++) {
        if (v->dims[i] <= 0)
            continue;
        if (v->dims[i] > SNNC_MAX_ELEMENTS / n) {
            char buf[256];
            return snnc_fail(err, SNNC_EUNSUPPORTED,
                             "value '%s': declared shape %s exceeds %lld elements", v->name,
                             snnc_value_shape_str(g, v, buf, sizeof buf),
                             (long long)SNNC_MAX_ELEMENTS);
        }
        n *= v->dims[i];
    }
    return SNNC_OK;
}

static int import_initializers(snnc_graph *g, const Onnx__GraphProto *gp, snnc_err *err)
{
    for (size_t i = 0; i < gp->n_initializer; i++) {
        const Onnx__TensorProto *tp = gp->initializer[i];
        if (!tp->name || !*tp->name)
            return snnc_fail(err, SNNC_EINVALID, "initializer %zu has no name", i);
        if (snnc_graph_find_value(g, tp->name) >= 0)
            return snnc_fail(err, SNNC_EINVALID, "initializer '%s' is defined twice", tp->name);
        int v = snnc_graph_intern_value(g, tp->name);
        if (v < 0)
            return snnc_fail(err, SNNC_ENOMEM, "out of memory");
        char what[300];
        snprintf(what, sizeof what, "initializer '%s'", tp->name);
        snnc_tensor *t;
        int rc = snnc_tensor_from_proto(tp, what, &t, err);
        if (rc)
            return rc;
        snnc_value *val = &g->values[v];
        val->constant = t;
        val->is_initializer = true;
        val->dtype = t->dtype;
        val->rank = t->rank;
        memcpy(val->dims, t->dims, sizeof t->dims);
    }
    if (gp->n_sparse_initializer)
        return snnc_fail(err, SNNC_EUNSUPPORTED, "sparse initializers are not supported");
    return SNNC_OK;
}

static int import_ports(snnc_graph *g, const Onnx__GraphProto *gp, snnc_err *err)
{
    g->inputs = calloc(gp->n_input + 1, sizeof(int));
    g->outputs = calloc(gp->n_output + 1, sizeof(int));
    if (!g->inputs || !g->outputs)
        return snnc_fail(err, SNNC_ENOMEM, "out of memory");
    for (size_t i = 0; i < gp->n_input; i++) {
        const char *name = gp->input[i]->name;
        if (!name || !*name)
            return snnc_fail(err, SNNC_EINVALID, "graph input %zu has no name", i);
        int v = snnc_graph_find_value(g, name);
        if (v >= 0 && g->values[v].is_initializer)
            continue; /* an initializer listed as input (IR < 4): it keeps its value */
        if (v >= 0)
            return snnc_fail(err, SNNC_EINVALID, "graph input '%s' is listed twice", name);
        v = snnc_graph_intern_value(g, name);
        if (v < 0)
            return snnc_fail(err, SNNC_ENOMEM, "out of memory");
        int rc = import_value_info(g, gp->input[i], &g->values[v], err);
        if (rc)
            return rc;
        g->inputs[g->n_inputs++] = v;
    }
    for (size_t i = 0; i < gp->n_output; i++) {
        const char *name = gp->output[i]->name;
        if (!name || !*name)
            return snnc_fail(err, SNNC_EINVALID, "graph output %zu has no name", i);
        int v = snnc_graph_intern_value(g, name);
        if (v < 0)
            return snnc_fail(err, SNNC_ENOMEM, "out of memory");
        g->outputs[g->n_outputs++] = v;
    }
    return SNNC_OK;
}

static int import_node(snnc_graph *g, const Onnx__NodeProto *np, size_t index, snnc_err *err)
{
    const char *domain = np->domain ? np->domain : "";
    if (strcmp(domain, "ai.onnx") == 0)
        domain = "";
    if (!np->op_type || !*np->op_type)
        return snnc_fail(err, SNNC_EINVALID, "node %zu ('%s') has no op_type", index,
                         np->name ? np->name : "");
    int k = snnc_graph_add_node(g, np->name, np->op_type, domain);
    if (k < 0)
        return snnc_fail(err, SNNC_ENOMEM, "out of memory");
    snnc_node *n = &g->nodes[k];
    n->op = *domain ? -1 : snnc_op_lookup(np->op_type);
    n->inputs = calloc(np->n_input + 1, sizeof(int));
    n->outputs = calloc(np->n_output + 1, sizeof(int));
    n->attrs = calloc(np->n_attribute + 1, sizeof(snnc_attr));
    if (!n->inputs || !n->outputs || !n->attrs)
        return snnc_fail(err, SNNC_ENOMEM, "out of memory");
    char where[300];
    snprintf(where, sizeof where, "node '%s' (%s)", n->name, n->op_type);
    for (size_t i = 0; i < np->n_input; i++) {
        const char *name = np->input[i];
        n->inputs[n->n_inputs++] = (name && *name) ? snnc_graph_intern_value(g, name) : -1;
    }
    for (size_t i = 0; i < np->n_output; i++) {
        const char *name = np->output[i];
        int v = (name && *name) ? snnc_graph_intern_value(g, name) : -1;
        n = &g->nodes[k];
        if (v >= 0) {
            snnc_value *val = &g->values[v];
            if (val->producer >= 0 || val->is_initializer)
                return snnc_fail(err, SNNC_EINVALID, "%s: output '%s' is already defined", where, name);
            for (int j = 0; j < g->n_inputs; j++)
                if (g->inputs[j] == v)
                    return snnc_fail(err, SNNC_EINVALID, "%s: output '%s' is a graph input", where, name);
            val->producer = k;
        }
        n->outputs[n->n_outputs++] = v;
    }
    for (size_t i = 0; i < np->n_attribute; i++) {
        int rc = import_attr(np->attribute[i], &n->attrs[n->n_attrs++], where, err);
        if (rc)
            return rc;
    }
    return SNNC_OK;
}

static int import_opset(snnc_graph *g, const Onnx__ModelProto *mp, snnc_err *err)
{
    g->opset = -1;
    for (size_t i = 0; i < mp->n_opset_import; i++) {
        const char *d = mp->opset_import[i]->domain;
        if (!d || !*d || strcmp(d, "ai.onnx") == 0)
            g->opset = (int)mp->opset_import[i]->version;
    }
    if (g->opset < 0)
        return snnc_fail(err, SNNC_EUNSUPPORTED, "the model imports no opset of the default ONNX domain");
    if (g->opset < SNNC_MIN_OPSET || g->opset > SNNC_MAX_OPSET)
        return snnc_fail(err, SNNC_EUNSUPPORTED, "opset %d is outside the supported %d to %d", g->opset,
                         SNNC_MIN_OPSET, SNNC_MAX_OPSET);
    return SNNC_OK;
}

static int import_model(snnc_graph *g, const Onnx__ModelProto *mp, snnc_err *err)
{
    if (!mp->graph)
        return snnc_fail(err, SNNC_EINVALID, "the model has no graph (empty or not an ONNX model)");
    g->ir_version = mp->ir_version;
    size_t plen = strlen(mp->producer_name ? mp->producer_name : "") +
                  strlen(mp->producer_version ? mp->producer_version : "") + 2;
    g->producer = malloc(plen);
    if (g->producer)
        snprintf(g->producer, plen, "%s%s%s", mp->producer_name ? mp->producer_name : "",
                 mp->producer_version && *mp->producer_version ? " " : "",
                 mp->producer_version ? mp->producer_version : "");
    int rc = import_opset(g, mp, err);
    const Onnx__GraphProto *gp = mp->graph;
    if (!rc)
        rc = import_initializers(g, gp, err);
    if (!rc)
        rc = import_ports(g, gp, err);
    for (size_t i = 0; !rc && i < gp->n_node; i++)
        rc = import_node(g, gp->node[i], i, err);
    for (size_t i = 0; !rc && i < gp->n_value_info; i++) {
        const char *name = gp->value_info[i]->name;
        int v = name ? snnc_graph_find_value(g, name) : -1;
        if (v >= 0 && !g->values[v].constant)
            rc = import_value_info(g, gp->value_info[i], &g->values[v], err);
    }
    for (int i = 0; !rc && i < g->n_outputs; i++) {
        rc = import_value_info(g, gp->output[i], &g->values[g->outputs[i]], err);
    }
    return rc;
}

int snnc_load_onnx_buffer(const void *data, size_t size, const char *name, snnc_graph **out,
                          snnc_err *err)
{
    *out = NULL;
    if (size == 0)
        return snnc_fail(err, SNNC_EINVALID, "%s: empty file", name);
    Onnx__ModelProto *mp = onnx__model_proto__unpack(NULL, size, data);
    if (!mp)
        return snnc_fail(err, SNNC_EINVALID,
                         "%s: not an ONNX model (protobuf decoding failed: truncated or corrupt)",
                         name);
    snnc_graph *g = snnc_graph_new();
    int rc = g ? SNNC_OK : snnc_fail(err, SNNC_ENOMEM, "out of memory");
    if (!rc) {
        g->path = strdup(name);
        rc = import_model(g, mp, err);
    }
    onnx__model_proto__free_unpacked(mp, NULL);
    if (!rc)
        rc = snnc_run_load_passes(g, err);
    if (rc) {
        snnc_err_prefix(err, "%s", name);
        snnc_graph_free(g);
        return rc;
    }
    *out = g;
    return SNNC_OK;
}

int snnc_load_onnx_file(const char *path, snnc_graph **out, snnc_err *err)
{
    void *data;
    size_t size;
    *out = NULL;
    int rc = snnc_read_file(path, SNNC_MAX_FILE_BYTES, SNNC_BYTES_PROTOBUF, &data, &size, err);
    if (rc)
        return rc;
    rc = snnc_load_onnx_buffer(data, size, path, out, err);
    free(data);
    return rc;
}
