/* tn_describe.c — the `snnc inspect MODEL.json --json` description of a
 * TrueNorth model (interface: tn_model.h): cores, used neurons, crossbar
 * bits set, neuron and crossbar types, the delay histogram, where the
 * destinations go (within the model or leaving it), and one line per core. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "ir/error.h"
#include "tn_model.h"

/* Destination cores outside the model listed by value (the rest only counted). */
#define TN_DESCRIBE_MAX_LEAVING_CORES 64

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

static int64_t crossbar_bits(const tn_crossbar *x)
{
    int64_t n = 0;
    for (int i = 0; i < TN_AXONS; i++)
        for (int w = 0; w < TN_NEURONS / 64; w++)
            n += __builtin_popcountll(x->row[i][w]);
    return n;
}

static bool stochastic(const tn_neuron_type *t)
{
    return t->b[0] || t->b[1] || t->b[2] || t->b[3] || t->c_lambda || t->TM > 0;
}

/* Sorted, distinct values of v[0..n). Returns the new n. */
static size_t distinct(int64_t *v, size_t n)
{
    qsort(v, n, sizeof *v, cmp_i64);
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (!k || v[k - 1] != v[i])
            v[k++] = v[i];
    return k;
}

typedef struct totals {
    int64_t neurons, synapses, stochastic, internal, leaving;
    int64_t delays[TN_MAX_DELAY + 1];
    int64_t *leaving_cores;
    size_t n_leaving_cores;
} totals;

static json_t *describe_core(const tn_model *m, const tn_core *c, const int64_t *ids, totals *t)
{
    int64_t used = 0, leaving = 0, syn = 0;
    if (c->crossbar >= 0 && c->crossbar < m->n_crossbars)
        syn = crossbar_bits(&m->crossbars[c->crossbar]);
    for (int j = 0; j < TN_NEURONS; j++) {
        int ty = c->type[j];
        if (ty < 0 || ty >= m->n_types)
            continue;
        used++;
        if (stochastic(&m->types[ty]))
            t->stochastic++;
        if (c->dest_delay[j] >= 1 && c->dest_delay[j] <= TN_MAX_DELAY)
            t->delays[c->dest_delay[j]]++;
        int64_t d = c->dest_core[j];
        if (bsearch(&d, ids, (size_t)m->n_cores, sizeof *ids, cmp_i64)) {
            t->internal++;
        } else {
            leaving++;
            t->leaving_cores[t->n_leaving_cores++] = d;
        }
    }
    t->neurons += used;
    t->synapses += syn;
    t->leaving += leaving;
    json_t *o = json_object();
    json_object_set_new(o, "id", json_integer(c->id));
    json_object_set_new(o, "crossbar", json_string(c->crossbar >= 0 && c->crossbar < m->n_crossbars
                                                       ? m->crossbars[c->crossbar].name
                                                       : "?"));
    json_object_set_new(o, "neurons", json_integer(used));
    json_object_set_new(o, "synapses", json_integer(syn));
    json_object_set_new(o, "leaving", json_integer(leaving));
    return o;
}

char *tn_model_describe_json(const tn_model *m, const char *path, snnc_err *err)
{
    if (!m)
        return snnc_fail(err, SNNC_EUSAGE, "tn_model_describe_json: no model"), NULL;
    totals t = {0};
    int64_t *ids = malloc(((size_t)m->n_cores + 1) * sizeof *ids);
    /* at most one leaving destination per neuron, compacted after every core */
    t.leaving_cores = malloc(((size_t)TN_NEURONS * 2 + 1) * sizeof *t.leaving_cores);
    json_t *d = json_object(), *per_core = json_array();
    if (!ids || !t.leaving_cores || !d || !per_core) {
        free(ids);
        free(t.leaving_cores);
        json_decref(d);
        json_decref(per_core);
        return snnc_fail(err, SNNC_ENOMEM, "%s: out of memory", path ? path : "model"), NULL;
    }
    for (int k = 0; k < m->n_cores; k++)
        ids[k] = m->cores[k].id;
    qsort(ids, (size_t)m->n_cores, sizeof *ids, cmp_i64);
    for (int k = 0; k < m->n_cores; k++) {
        json_array_append_new(per_core, describe_core(m, &m->cores[k], ids, &t));
        t.n_leaving_cores = distinct(t.leaving_cores, t.n_leaving_cores);
        if (t.n_leaving_cores > TN_NEURONS) /* keep room for the next core */
            t.n_leaving_cores = TN_NEURONS;
    }

    json_object_set_new(d, "format", json_string("truenorth"));
    if (path)
        json_object_set_new(d, "file", json_string(path));
    json_object_set_new(d, "cores", json_integer(m->n_cores));
    json_object_set_new(d, "neurons", json_integer(t.neurons));
    json_object_set_new(d, "synapses", json_integer(t.synapses));
    json_object_set_new(d, "neuron_types", json_integer(m->n_types));
    json_object_set_new(d, "crossbar_types", json_integer(m->n_crossbars));
    json_object_set_new(d, "stochastic_neurons", json_integer(t.stochastic));
    json_t *hist = json_object();
    for (int k = 1; k <= TN_MAX_DELAY; k++) {
        char key[4];
        snprintf(key, sizeof key, "%d", k);
        json_object_set_new(hist, key, json_integer(t.delays[k]));
    }
    json_object_set_new(d, "delays", hist);
    json_t *dest = json_object(), *lc = json_array();
    json_object_set_new(dest, "internal", json_integer(t.internal));
    json_object_set_new(dest, "leaving", json_integer(t.leaving));
    for (size_t i = 0; i < t.n_leaving_cores && i < TN_DESCRIBE_MAX_LEAVING_CORES; i++)
        json_array_append_new(lc, json_integer(t.leaving_cores[i]));
    json_object_set_new(dest, "leaving_cores", lc);
    json_object_set_new(d, "destinations", dest);
    json_t *header = m->header_json ? json_loads(m->header_json, 0, NULL) : NULL;
    json_t *cc = json_object_get(header, "coreCount");
    if (json_is_integer(cc))
        json_object_set_new(d, "header_core_count", json_integer(json_integer_value(cc)));
    json_decref(header);
    json_object_set_new(d, "per_core", per_core);

    char *text = json_dumps(d, JSON_INDENT(2));
    json_decref(d);
    free(ids);
    free(t.leaving_cores);
    if (!text)
        snnc_fail(err, SNNC_ENOMEM, "%s: out of memory", path ? path : "model");
    return text;
}
