/* shape_infer.c — element types and shapes of every value, with symbolic
 * dimensions, and constant folding (interface: passes.h).
 *
 * Each node's infer hook runs on what is known of its inputs.  A node whose
 * inputs are all constants is executed now and its outputs become
 * constants; so is a shape-like output whose tracked elements (symval) are
 * all concrete — which folds the Shape -> Gather -> Concat chains exporters
 * emit, and leaves them symbolic where the batch size is dynamic.  Shapes a
 * model declares (value_info) are kept where inference learns less. */
#include <stdlib.h>
#include <string.h>

#include "../eval/evaluator.h"
#include "../ir/error.h"
#include "../ir/tensor.h"
#include "../ops/op.h"
#include "passes.h"

/* Folded constants larger than this stay computed at run time. */
#define FOLD_MAX_ELEMENTS ((int64_t)1 << 24)

static void vinfo_of_value(snnc_vinfo *vi, const snnc_value *v)
{
    memset(vi, 0, sizeof *vi);
    vi->present = true;
    vi->dtype = v->dtype;
    vi->rank = v->rank;
    memcpy(vi->dims, v->dims, sizeof v->dims);
    vi->value = v->constant;
    vi->n_symval = v->n_symval;
    memcpy(vi->symval, v->symval, sizeof v->symval);
}

/* Stored types become compute types (float64 -> float32, int32 -> int64, ...). */
static int normalise_constants(snnc_graph *g, snnc_err *err)
{
    for (int v = 0; v < g->n_values; v++) {
        snnc_value *val = &g->values[v];
        if (val->dtype)
            val->dtype = snnc_compute_dtype(val->dtype);
        snnc_tensor *t = val->constant;
        if (!t || snnc_compute_dtype(t->dtype) == t->dtype)
            continue;
        snnc_tensor *c = snnc_tensor_convert(t, snnc_compute_dtype(t->dtype), err);
        if (!c)
            return err->code;
        snnc_tensor_free(t);
        val->constant = c;
    }
    return SNNC_OK;
}

/* Merge what inference found into the value: inferred concrete facts win,
 * declared ones fill what inference left unknown. */
static void merge_inferred(snnc_value *val, const snnc_vinfo *o)
{
    if (o->dtype)
        val->dtype = snnc_compute_dtype(o->dtype);
    if (o->rank >= 0) {
        if (val->rank != o->rank) {
            val->rank = o->rank;
            memcpy(val->dims, o->dims, sizeof o->dims);
        } else {
            for (int i = 0; i < o->rank; i++)
                if (!SNNC_IS_SYM(o->dims[i]) || SNNC_IS_SYM(val->dims[i]))
                    val->dims[i] = o->dims[i];
        }
    }
    val->n_symval = o->n_symval;
    memcpy(val->symval, o->symval, sizeof o->symval);
}

/* A tracked shape value with no symbolic element is a constant. */
static int fold_symval(snnc_value *val, snnc_err *err)
{
    if (val->n_symval < 0 || val->constant || (val->rank != 0 && val->rank != 1))
        return SNNC_OK;
    for (int i = 0; i < val->n_symval; i++)
        if (SNNC_IS_SYM(val->symval[i]))
            return SNNC_OK;
    if (val->rank == 0 && val->n_symval != 1)
        return SNNC_OK;
    int64_t dims[1] = {val->n_symval};
    snnc_tensor *t = snnc_tensor_new(SNNC_I64, val->rank, dims, err);
    if (!t)
        return err->code;
    memcpy(t->data, val->symval, (size_t)val->n_symval * sizeof(int64_t));
    val->constant = t;
    val->dtype = SNNC_I64;
    return SNNC_OK;
}

static bool all_inputs_constant(const snnc_graph *g, const snnc_node *n)
{
    for (int i = 0; i < n->n_inputs; i++)
        if (n->inputs[i] >= 0 && !g->values[n->inputs[i]].constant)
            return false;
    return true;
}

static int fold_node(snnc_graph *g, int k, snnc_err *err)
{
    const snnc_node *n = &g->nodes[k];
    const snnc_tensor *in[64];
    snnc_tensor *out[64];
    if (n->n_inputs > 64 || n->n_outputs > 64)
        return SNNC_OK;
    for (int i = 0; i < n->n_inputs; i++)
        in[i] = n->inputs[i] >= 0 ? g->values[n->inputs[i]].constant : NULL;
    int rc = snnc_eval_node(g, k, in, out, err);
    if (rc)
        return rc;
    for (int j = 0; j < n->n_outputs; j++) {
        int v = n->outputs[j];
        if (v < 0 || !out[j]) {
            snnc_tensor_free(out[j]); /* an omitted output */
            continue;
        }
        snnc_value *val = &g->values[v];
        snnc_tensor_free(val->constant); /* fold_symval may have made it already */
        val->constant = out[j];
        val->dtype = out[j]->dtype;
        val->rank = out[j]->rank;
        memcpy(val->dims, out[j]->dims, sizeof out[j]->dims);
    }
    return SNNC_OK;
}

static int infer_node(snnc_graph *g, int k, snnc_err *err)
{
    const snnc_node *n = &g->nodes[k];
    const snnc_op_def *def = snnc_op_get(n->op);
    if (!def)
        return SNNC_OK; /* unsupported: outputs stay unknown; inspect lists the node */
    snnc_opctx c = {.node = n, .graph = g, .opset = g->opset, .runtime = false, .err = err};
    if (n->n_inputs < def->min_inputs || n->n_inputs > def->max_inputs)
        return snnc_op_fail(&c, SNNC_EINVALID, "has %d inputs; the operator takes %d to %d",
                            n->n_inputs, def->min_inputs, def->max_inputs);
    if (n->n_outputs < def->min_outputs || n->n_outputs > def->max_outputs)
        return snnc_op_fail(&c, SNNC_EINVALID, "has %d outputs; the operator gives %d to %d",
                            n->n_outputs, def->min_outputs, def->max_outputs);
    for (int i = 0; i < def->min_inputs; i++)
        if (n->inputs[i] < 0)
            return snnc_op_fail(&c, SNNC_EINVALID, "required input %d is empty", i);
    snnc_vinfo *vin = calloc((size_t)n->n_inputs + 1, sizeof *vin);
    snnc_vinfo *vout = calloc((size_t)n->n_outputs + 1, sizeof *vout);
    if (!vin || !vout) {
        free(vin), free(vout);
        return snnc_fail(err, SNNC_ENOMEM, "out of memory");
    }
    for (int i = 0; i < n->n_inputs; i++) {
        if (n->inputs[i] >= 0)
            vinfo_of_value(&vin[i], &g->values[n->inputs[i]]);
        else
            vin[i].rank = vin[i].n_symval = -1;
    }
    for (int j = 0; j < n->n_outputs; j++)
        vout[j].rank = vout[j].n_symval = -1;
    int rc = def->infer(&c, vin, vout);
    for (int j = 0; !rc && j < n->n_outputs; j++)
        if (n->outputs[j] >= 0) {
            merge_inferred(&g->values[n->outputs[j]], &vout[j]);
            rc = fold_symval(&g->values[n->outputs[j]], err);
        }
    free(vin), free(vout);
    if (rc)
        return rc;
    bool foldable = all_inputs_constant(g, n);
    for (int j = 0; foldable && j < n->n_outputs; j++) {
        const snnc_value *o = n->outputs[j] >= 0 ? &g->values[n->outputs[j]] : NULL;
        foldable = !o || (o->rank >= 0 && snnc_shape_count(o->rank, o->dims) >= 0 &&
                          snnc_shape_count(o->rank, o->dims) <= FOLD_MAX_ELEMENTS);
    }
    return foldable ? fold_node(g, k, err) : SNNC_OK;
}

int snnc_pass_shape_infer(snnc_graph *g, snnc_err *err)
{
    int rc = normalise_constants(g, err);
    for (int k = 0; !rc && k < g->n_nodes; k++)
        rc = infer_node(g, k, err);
    return rc;
}

int snnc_run_load_passes(snnc_graph *g, snnc_err *err)
{
    int rc = snnc_pass_toposort(g, err);
    if (!rc)
        rc = snnc_pass_shape_infer(g, err);
    if (!rc)
        rc = snnc_pass_dce(g, err);
    return rc;
}
