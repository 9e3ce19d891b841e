/* evaluator.c — executes a graph in float32: inputs checked against the
 * model's declared types and shapes, nodes run in topological order through
 * the operator table's infer + compute hooks, intermediate tensors freed
 * after their last use (interfaces: include/snnc.h snnc_run, evaluator.h). */
#include "evaluator.h"

#include <stdlib.h>
#include <string.h>

#include "../ir/error.h"
#include "../ir/tensor.h"
#include "../ops/op.h"

int snnc_eval_check_supported(const snnc_graph *g, snnc_err *err)
{
    for (int k = 0; k < g->n_nodes; k++) {
        const snnc_node *n = &g->nodes[k];
        if (n->op >= 0)
            continue;
        if (*n->domain)
            return snnc_fail(err, SNNC_EUNSUPPORTED,
                             "node '%s' (%s): operators of domain '%s' are not supported", n->name,
                             n->op_type, n->domain);
        return snnc_fail(err, SNNC_EUNSUPPORTED, "node '%s' (%s): operator not supported", n->name,
                         n->op_type);
    }
    return SNNC_OK;
}

static void vinfo_of_tensor(snnc_vinfo *vi, const snnc_tensor *t)
{
    memset(vi, 0, sizeof *vi);
    vi->n_symval = -1;
    vi->rank = -1;
    if (!t)
        return;
    vi->present = true;
    vi->dtype = t->dtype;
    vi->rank = t->rank;
    memcpy(vi->dims, t->dims, sizeof t->dims);
    vi->value = t;
}

int snnc_eval_node(snnc_graph *g, int k, const snnc_tensor *const *in, snnc_tensor **out,
                   snnc_err *err)
{
    const snnc_node *n = &g->nodes[k];
    const snnc_op_def *def = snnc_op_get(n->op);
    snnc_opctx c = {.node = n, .graph = g, .opset = g->opset, .runtime = true, .err = err};
    for (int j = 0; j < n->n_outputs; j++)
        out[j] = NULL;
    if (!def)
        return snnc_eval_check_supported(g, err);
    snnc_vinfo *vin = calloc((size_t)n->n_inputs + 1, sizeof *vin);
    snnc_vinfo *vout = calloc((size_t)n->n_outputs + 1, sizeof *vout);
    int rc = vin && vout ? SNNC_OK : snnc_fail(err, SNNC_ENOMEM, "out of memory");
    for (int i = 0; !rc && i < n->n_inputs; i++)
        vinfo_of_tensor(&vin[i], in[i]);
    for (int j = 0; !rc && j < n->n_outputs; j++) {
        vout[j].rank = -1;
        vout[j].n_symval = -1;
    }
    if (!rc)
        rc = def->infer(&c, vin, vout);
    for (int j = 0; !rc && j < n->n_outputs; j++) {
        bool valid = vout[j].rank >= 0 && snnc_shape_count(vout[j].rank, vout[j].dims) >= 0 &&
                     snnc_compute_dtype(vout[j].dtype) == vout[j].dtype && vout[j].dtype;
        /* An omitted output (empty name) is still given to compute when its
         * shape is known: ops may rely on every declared output (Split's
         * pieces, a required output left unnamed); the caller drops it. */
        if (n->outputs[j] < 0 && !valid)
            continue;
        if (!valid) {
            rc = snnc_op_fail(&c, vout[j].rank >= 0 && snnc_shape_count(vout[j].rank, vout[j].dims) < 0
                                      ? SNNC_ENOMEM : SNNC_EINVALID,
                              "output %d has no valid shape or type at run time (shape too large?)", j);
            break;
        }
        out[j] = snnc_tensor_new(vout[j].dtype, vout[j].rank, vout[j].dims, err);
        if (!out[j])
            rc = snnc_op_fail(&c, err->code ? err->code : SNNC_ENOMEM, "output %d", j);
    }
    if (!rc)
        rc = def->compute(&c, in, out);
    if (rc)
        for (int j = 0; j < n->n_outputs; j++) {
            snnc_tensor_free(out[j]);
            out[j] = NULL;
        }
    free(vin);
    free(vout);
    return rc;
}

/* dtype classes a user's array may be converted between */
static int dtype_class(snnc_dtype d)
{
    switch (d) {
    case SNNC_F32:
    case SNNC_F64: return 1;
    case SNNC_I32:
    case SNNC_I64:
    case SNNC_U8: return 2;
    case SNNC_BOOL: return 3;
    default: return 0;
    }
}

/* Check a user's tensor against graph input v; returns a new tensor in compute dtype. */
static int bind_input(const snnc_graph *g, int v, const snnc_tensor *t, snnc_tensor **out,
                      snnc_err *err)
{
    const snnc_value *val = &g->values[v];
    char want[256], got[256];
    if (val->dtype && dtype_class(val->dtype) != dtype_class(t->dtype))
        return snnc_fail(err, SNNC_EINVALID, "input '%s': element type %s does not match the model's %s",
                         val->name, snnc_dtype_name(t->dtype), snnc_dtype_name(val->dtype));
    bool ok = val->rank < 0 || val->rank == t->rank;
    for (int i = 0; ok && val->rank >= 0 && i < t->rank; i++)
        ok = SNNC_IS_SYM(val->dims[i]) || val->dims[i] == t->dims[i];
    if (!ok)
        return snnc_fail(err, SNNC_EINVALID, "input '%s': shape %s does not match the model's %s",
                         val->name, snnc_dims_str(t->rank, t->dims, got, sizeof got),
                         snnc_value_shape_str(g, val, want, sizeof want));
    snnc_dtype d = val->dtype ? snnc_compute_dtype(val->dtype) : snnc_compute_dtype(t->dtype);
    *out = snnc_tensor_convert(t, d, err);
    return *out ? SNNC_OK : err->code;
}

/* Is the value of output j asked for again by a later output? */
static bool wanted_later(const int *want, int j, int n_out)
{
    for (int k = j + 1; k < n_out; k++)
        if (want[k] == want[j])
            return true;
    return false;
}

typedef struct {
    snnc_tensor **slot;  /* per value: the current tensor, or NULL */
    bool *owned;         /* slot owned by the run (not a graph constant) */
    int *uses_left;      /* per value: reads still to come */
} run_state;

static void release(run_state *s, int v)
{
    if (s->owned[v])
        snnc_tensor_free(s->slot[v]);
    s->slot[v] = NULL;
    s->owned[v] = false;
}

static int run_nodes(snnc_graph *g, run_state *s, snnc_err *err)
{
    const snnc_tensor **in = calloc(64, sizeof *in);
    snnc_tensor **out = calloc(64, sizeof *out);
    int rc = in && out ? SNNC_OK : snnc_fail(err, SNNC_ENOMEM, "out of memory");
    for (int k = 0; !rc && k < g->n_nodes; k++) {
        const snnc_node *n = &g->nodes[k];
        if (n->n_inputs > 64 || n->n_outputs > 64) {
            rc = snnc_fail(err, SNNC_EUNSUPPORTED, "node '%s' (%s): more than 64 inputs or outputs",
                           n->name, n->op_type);
            break;
        }
        for (int i = 0; i < n->n_inputs; i++)
            in[i] = n->inputs[i] >= 0 ? s->slot[n->inputs[i]] : NULL;
        rc = snnc_eval_node(g, k, in, out, err);
        for (int j = 0; !rc && j < n->n_outputs; j++) {
            int v = n->outputs[j];
            if (v < 0) {
                snnc_tensor_free(out[j]); /* an omitted output */
                continue;
            }
            release(s, v);
            s->slot[v] = out[j];
            s->owned[v] = true;
        }
        for (int i = 0; !rc && i < n->n_inputs; i++) {
            int v = n->inputs[i];
            if (v >= 0 && --s->uses_left[v] == 0)
                release(s, v);
        }
    }
    free(in);
    free(out);
    return rc;
}

static int run_graph(snnc_graph *g, int n_in, const char *const *in_names,
                     const snnc_tensor *const *inputs, int n_out, const char *const *out_names,
                     snnc_tensor **outputs, snnc_err *err)
{
    for (int j = 0; j < n_out; j++)
        outputs[j] = NULL;
    int rc = snnc_eval_check_supported(g, err);
    if (rc)
        return rc;
    int nv = g->n_values;
    run_state s = {calloc((size_t)nv + 1, sizeof(snnc_tensor *)), calloc((size_t)nv + 1, sizeof(bool)),
                   calloc((size_t)nv + 1, sizeof(int))};
    int *want = calloc((size_t)n_out + 1, sizeof *want);
    if (!s.slot || !s.owned || !s.uses_left || !want)
        rc = snnc_fail(err, SNNC_ENOMEM, "out of memory");
    for (int v = 0; !rc && v < nv; v++)
        s.slot[v] = g->values[v].constant;
    /* reads per value, in one pass (snnc_graph_value_uses per value is O(V*E)) */
    for (int k = 0; !rc && k < g->n_nodes; k++)
        for (int i = 0; i < g->nodes[k].n_inputs; i++)
            if (g->nodes[k].inputs[i] >= 0)
                s.uses_left[g->nodes[k].inputs[i]]++;
    for (int j = 0; !rc && j < n_out; j++) {
        want[j] = out_names[j] ? snnc_graph_find_value(g, out_names[j]) : -1;
        if (!out_names[j])
            rc = snnc_fail(err, SNNC_EUSAGE, "output %d has no name (the model has %d outputs)", j,
                           g->n_outputs);
        else if (want[j] < 0)
            rc = snnc_fail(err, SNNC_EUSAGE, "the model has no tensor named '%s'", out_names[j]);
        else
            s.uses_left[want[j]] += 1; /* keep it alive to the end */
    }
    for (int i = 0; !rc && i < n_in; i++) {
        int v = in_names[i] ? snnc_graph_find_value(g, in_names[i]) : -1;
        int gi = -1;
        for (int k = 0; k < g->n_inputs; k++)
            if (g->inputs[k] == v)
                gi = k;
        if (gi < 0)
            rc = snnc_fail(err, SNNC_EUSAGE, "the model has no input named '%s'",
                           in_names[i] ? in_names[i] : "");
        else if (s.slot[v])
            rc = snnc_fail(err, SNNC_EUSAGE, "input '%s' is given twice", in_names[i]);
        else if (!(rc = bind_input(g, v, inputs[i], &s.slot[v], err)))
            s.owned[v] = true;
    }
    for (int k = 0; !rc && k < g->n_inputs; k++)
        if (!s.slot[g->inputs[k]])
            rc = snnc_fail(err, SNNC_EUSAGE, "no data given for the model input '%s'",
                           g->values[g->inputs[k]].name);
    if (!rc)
        rc = run_nodes(g, &s, err);
    for (int j = 0; !rc && j < n_out; j++) {
        const snnc_tensor *t = s.slot[want[j]];
        if (!t)
            rc = snnc_fail(err, SNNC_EINVALID, "tensor '%s' was not computed", out_names[j]);
        else if (s.owned[want[j]] && !wanted_later(want, j, n_out)) {
            outputs[j] = s.slot[want[j]]; /* hand it over: no copy of a large output */
            s.slot[want[j]] = NULL;
            s.owned[want[j]] = false;
        } else if (!(outputs[j] = snnc_tensor_copy(t, err))) {
            rc = err->code;
        }
    }
    for (int v = 0; s.slot && s.owned && v < nv; v++)
        release(&s, v);
    if (rc)
        for (int j = 0; j < n_out; j++) {
            snnc_tensor_free(outputs[j]);
            outputs[j] = NULL;
        }
    free(s.slot), free(s.owned), free(s.uses_left), free(want);
    return rc;
}

/* Messages of a failed run start with the model's file name, like load errors. */
int snnc_run(snnc_graph *g, int n_in, const char *const *in_names, const snnc_tensor *const *inputs,
             int n_out, const char *const *out_names, snnc_tensor **outputs, snnc_err *err)
{
    int rc = run_graph(g, n_in, in_names, inputs, n_out, out_names, outputs, err);
    if (rc)
        snnc_err_prefix(err, "%s", g->path ? g->path : "model");
    return rc;
}
