/* netlist_json.c — writes a spiking netlist to OUTDIR/network.json with
 * jansson (interface: mapper/mapper.h; format: docs/NETLIST.md): header
 * numbers, populations with their per-neuron parameters and matching
 * residual, projections as sparse [dst, src, code] lists.  Keys are written
 * in a fixed order so the same netlist gives the same bytes. */
#include <jansson.h>
#include <stdio.h>

#include "ir/error.h"
#include "mapper.h"

static const char *role_name(snnc_pop_role r)
{
    static const char *names[] = {"input", "hidden", "partial", "readout"};
    return (unsigned)r < SNNC_POP_ROLE_COUNT ? names[r] : "unknown";
}

static json_t *int_array(const int32_t *v, int n)
{
    json_t *a = json_array();
    for (int i = 0; a && v && i < n; i++)
        json_array_append_new(a, json_integer(v[i]));
    return a;
}

static json_t *population_json(const snnc_netlist *n, int p)
{
    const snnc_population *P = &n->pops[p];
    json_t *o = json_object();
    json_object_set_new(o, "name", json_string(P->name));
    json_object_set_new(o, "tensor", json_string(P->tensor));
    json_object_set_new(o, "role", json_string(role_name(P->role)));
    json_object_set_new(o, "sign", json_integer(P->sign));
    json_object_set_new(o, "n", json_integer(P->n));
    json_object_set_new(o, "window_offset", json_integer(P->window_offset));
    json_object_set_new(o, "lag_ticks", json_integer(snnc_netlist_lag(n, p)));
    json_object_set_new(o, "group", json_integer(P->group));
    if (P->unit > 0) /* partial and final populations of a split layer */
        json_object_set_new(o, "unit", json_real(P->unit));
    if (P->role == SNNC_POP_INPUT) {
        json_object_set_new(o, "input_scale", json_real(P->input_scale));
        json_object_set_new(o, "input_feature0", json_integer(P->input_feature0));
        return o;
    }
    json_object_set_new(o, "threshold", int_array(P->threshold, P->n));
    json_object_set_new(o, "leak", int_array(P->leak, P->n));
    json_object_set_new(o, "mult", int_array(P->mult, P->n));
    json_object_set_new(o, "floor", int_array(P->floor, P->n));
    json_object_set_new(o, "v0", int_array(P->v0, P->n));
    json_object_set_new(o, "residual", json_real(n->residual ? n->residual[p] : 0));
    return o;
}

static json_t *projection_json(const snnc_netlist *n, int k)
{
    const snnc_projection *pr = &n->projs[k];
    int ns = n->pops[pr->src].n, nd = n->pops[pr->dst].n;
    json_t *o = json_object(), *syn = json_array();
    json_object_set_new(o, "src", json_integer(pr->src));
    json_object_set_new(o, "dst", json_integer(pr->dst));
    json_object_set_new(o, "delay", json_integer(pr->delay));
    for (int j = 0; j < nd; j++)
        for (int i = 0; i < ns; i++) {
            int8_t c = pr->code[(size_t)j * ns + i];
            if (c)
                json_array_append_new(syn, json_pack("[iii]", j, i, (int)c));
        }
    json_object_set_new(o, "synapses", syn);
    return o;
}

int snnc_netlist_write_json(const snnc_netlist *n, const char *path, snnc_err *err)
{
    json_t *root = json_object(), *pops = json_array(), *projs = json_array();
    if (!root || !pops || !projs) {
        json_decref(root);
        json_decref(pops);
        json_decref(projs);
        return snnc_fail(err, SNNC_ENOMEM, "network.json: out of memory");
    }
    json_object_set_new(root, "format", json_string("snnc-netlist"));
    json_object_set_new(root, "version", json_integer(1));
    json_object_set_new(root, "window", json_integer(n->window));
    json_object_set_new(root, "steps", json_integer(n->steps));
    json_object_set_new(root, "readout_windows", json_integer(n->readout_windows));
    json_object_set_new(root, "ticks_per_sample", json_integer(snnc_netlist_ticks(n)));
    json_object_set_new(root, "weight_levels", json_integer(n->weight_levels));
    json_object_set_new(root, "activity_levels", json_integer(n->activity_levels));
    json_object_set_new(root, "n_classes", json_integer(n->n_classes));
    for (int p = 0; p < n->n_pops; p++)
        json_array_append_new(pops, population_json(n, p));
    for (int k = 0; k < n->n_projs; k++)
        json_array_append_new(projs, projection_json(n, k));
    json_object_set_new(root, "populations", pops);
    json_object_set_new(root, "projections", projs);
    int rc = json_dump_file(root, path, JSON_INDENT(1) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(9));
    json_decref(root);
    if (rc)
        return snnc_fail(err, SNNC_EIO, "%s: cannot write", path);
    return SNNC_OK;
}
