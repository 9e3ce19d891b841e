/* step_gap.c — the per-step gap between the constrained network and the
 * ideal spiking netlist on the same inputs (interface: mapper/mapper.h;
 * docs/CONVERSION.md §4a).  Target-neutral: it compares the window counts
 * of a netlist simulation (snnc_sim_result) with the constrained network's
 * count-domain trace (snnc_count_forward), both already computed by the
 * caller, so it costs no simulation.  Per hidden layer and step: the mean
 * (signed), absolute and RMS count difference relative to the constrained
 * network's mean |count| at that step, the fraction of equal counts, and the one-step
 * error — the netlist's count against the constrained layer's rule applied
 * to the netlist's own inputs of that window (its previous layer's counts
 * and its own counts of the previous window): what the spiking layer adds
 * in this window alone; the rest of the gap is accumulated.  At the end,
 * the class agreement of the two. */
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ir/error.h"
#include "mapper.h"

/* Signed counts [T][B][n] of layer l in the netlist (l = -1: the inputs, by
 * feature): the sum over its non-partial populations of sign x count. */
static double *netlist_counts(const snnc_netlist *n, const snnc_sim_result *r, int l, int width)
{
    int T = n->steps;
    int64_t B = r->batch;
    double *c = calloc((size_t)T * (size_t)B * (size_t)width + 1, sizeof *c);
    for (int p = 0; c && p < n->n_pops; p++) {
        const snnc_population *P = &n->pops[p];
        bool in = P->role == SNNC_POP_INPUT;
        if ((in ? -1 : snnc_lower_layer_of(n, p)) != l || P->role == SNNC_POP_PARTIAL)
            continue;
        int j0 = in ? P->input_feature0 : 0;
        for (int t = 0; t < T; t++)
            for (int64_t b = 0; b < B; b++)
                for (int j = 0; j < P->n && j0 + j < width; j++)
                    c[((size_t)t * B + b) * width + j0 + j] +=
                        P->sign * r->counts[((size_t)t * B + b) * r->n_neurons + r->pop_offset[p] + j];
    }
    return c;
}

static int gap_layer_alloc(snnc_step_gap_layer *g, int T)
{
    double **v[] = {&g->mean_count, &g->bias, &g->mae, &g->rms, &g->exact, &g->one_step, &g->one_step_exact};
    for (size_t k = 0; k < sizeof v / sizeof *v; k++)
        if (!(*v[k] = calloc((size_t)T + 1, sizeof **v[k])))
            return -1;
    return 0;
}

/* Fill layer gap g of layer l: cur its netlist counts, prev its input
 * layer's (or the inputs'). */
static void gap_layer(snnc_step_gap_layer *g, const snnc_ann *q, const snnc_layer_constraints *st,
                      const snnc_count_trace *tr, int l, const double *cur, const double *prev, int prev_n)
{
    int T = tr->steps, H = q->layers[l].n_out;
    int64_t B = tr->batch;
    bool rec = q->layers[l].role == SNNC_ANN_RECURRENT;
    for (int t = 0; t < T; t++) {
        double sd = 0, sa = 0, s2 = 0, sc = 0, so = 0;
        int64_t eq = 0, oeq = 0, N = B * H;
        for (int64_t b = 0; b < B; b++) {
            const double *u = prev + ((size_t)t * B + b) * prev_n;
            const double *h = rec && t > 0 ? cur + ((size_t)(t - 1) * B + b) * H : NULL;
            for (int j = 0; j < H; j++) {
                size_t o = ((size_t)t * B + b) * H + j;
                double a = tr->cnt[l][o], y = cur[o], d = y - a;
                double f = snnc_count_of(q, st, l, snnc_count_z(q, st, l, t, j, u, h));
                sd += d, sa += fabs(d), s2 += d * d, sc += fabs(a), so += fabs(y - f);
                eq += d == 0, oeq += y == f;
            }
        }
        double m = N ? sc / (double)N : 0, rel = m > 0 ? m : 1;
        g->mean_count[t] = m;
        g->bias[t] = N ? sd / (double)N / rel : 0;
        g->mae[t] = N ? sa / (double)N / rel : 0;
        g->rms[t] = N ? sqrt(s2 / (double)N) / rel : 0;
        g->exact[t] = N ? (double)eq / (double)N : 1;
        g->one_step[t] = N ? so / (double)N / rel : 0;
        g->one_step_exact[t] = N ? (double)oeq / (double)N : 1;
    }
}

static int64_t argmax(const double *v, int n)
{
    int best = 0;
    for (int k = 1; k < n; k++)
        best = v[k] > v[best] ? k : best;
    return best;
}

int snnc_step_gap_measure(const snnc_netlist *n, const snnc_ann *q, const snnc_layer_constraints *st,
                          const snnc_count_trace *tr, const snnc_sim_result *r, snnc_step_gap *out,
                          snnc_err *err)
{
    memset(out, 0, sizeof *out);
    if (!n || !q || !st || !tr || !r || tr->steps != n->steps || tr->batch != r->batch ||
        tr->n_layers != q->n_layers || q->n_layers < 1)
        return snnc_fail(err, SNNC_EUSAGE, "step gap: the trace and the simulation differ in shape");
    int nh = 0;
    for (int l = 0; l < q->n_layers; l++)
        nh += q->layers[l].role != SNNC_ANN_READOUT;
    out->steps = n->steps;
    out->batch = r->batch;
    out->layers = calloc((size_t)nh + 1, sizeof *out->layers);
    double *prev = out->layers ? netlist_counts(n, r, -1, q->n_inputs) : NULL;
    int prev_n = q->n_inputs, rc = prev ? SNNC_OK : -1;
    for (int l = 0; rc == SNNC_OK && l < q->n_layers; l++) {
        if (q->layers[l].role == SNNC_ANN_READOUT)
            continue;
        snnc_step_gap_layer *g = &out->layers[out->n_layers++];
        g->layer = l;
        snprintf(g->name, sizeof g->name, "%s", q->layers[l].name);
        double *cur = netlist_counts(n, r, l, q->layers[l].n_out);
        if (!cur || gap_layer_alloc(g, n->steps)) {
            free(cur);
            rc = -1;
            break;
        }
        gap_layer(g, q, st, tr, l, cur, prev, prev_n);
        free(prev);
        prev = cur;
        prev_n = q->layers[l].n_out;
    }
    free(prev);
    int last = q->n_layers - 1, C = q->layers[last].n_out;
    int64_t same = 0;
    for (int64_t b = 0; rc == SNNC_OK && b < r->batch; b++)
        same += argmax(tr->cnt[last] + b * C, C) == argmax(r->scores + b * r->n_classes, r->n_classes);
    out->class_agreement = r->batch ? (double)same / (double)r->batch : 1;
    if (rc) {
        snnc_step_gap_free(out);
        return snnc_fail(err, SNNC_ENOMEM, "step gap: out of memory");
    }
    return SNNC_OK;
}

void snnc_step_gap_free(snnc_step_gap *g)
{
    for (int k = 0; g->layers && k < g->n_layers; k++) {
        snnc_step_gap_layer *L = &g->layers[k];
        free(L->mean_count), free(L->bias), free(L->mae), free(L->rms), free(L->exact);
        free(L->one_step), free(L->one_step_exact);
    }
    free(g->layers);
    memset(g, 0, sizeof *g);
}

static json_t *reals(const double *v, int n)
{
    json_t *a = json_array();
    for (int k = 0; k < n; k++)
        json_array_append_new(a, json_real(round(v[k] * 1e6) / 1e6)); /* compact */
    return a;
}

json_t *snnc_step_gap_json(const snnc_step_gap *g)
{
    json_t *layers = json_array();
    for (int k = 0; k < g->n_layers; k++) {
        const snnc_step_gap_layer *L = &g->layers[k];
        json_t *o = json_pack("{s:s}", "layer", L->name);
        json_object_set_new(o, "mean_count", reals(L->mean_count, g->steps));
        json_object_set_new(o, "bias", reals(L->bias, g->steps));
        json_object_set_new(o, "mae", reals(L->mae, g->steps));
        json_object_set_new(o, "rms", reals(L->rms, g->steps));
        json_object_set_new(o, "exact", reals(L->exact, g->steps));
        json_object_set_new(o, "one_step_mae", reals(L->one_step, g->steps));
        json_object_set_new(o, "one_step_exact", reals(L->one_step_exact, g->steps));
        json_array_append_new(layers, o);
    }
    json_t *o = json_object();
    json_object_set_new(o, "samples", json_integer(g->batch));
    json_object_set_new(o, "steps", json_integer(g->steps));
    json_object_set_new(o, "class_agreement", json_real(g->class_agreement));
    json_object_set_new(o, "layers", layers);
    return o;
}
