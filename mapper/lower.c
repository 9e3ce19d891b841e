/* lower.c — a constrained Elman network to a spiking netlist (interface:
 * mapper/mapper.h, netlist semantics: mapper/netlist.h; design:
 * docs/CONVERSION.md §3).  Inputs become rate-coded generators (two
 * populations when the input is signed), every layer one population of
 * integrate-and-fire neurons (tanh: a signed pair), the recurrence a
 * projection of delay W, feedforward projections delay 1 (W out of a
 * recurrent layer, so its readout shares the recurrence's axons).  Connector
 * names (`tensor`): the graph's input and output names, the defining ONNX
 * node's name for the layers in between (the ANN keeps no tensor names).  Neuron
 * parameters start from the analytic choice m/alpha ~ s, W lambda/alpha ~ b'. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ir/error.h"
#include "mapper.h"

snnc_neuron snnc_neuron_init(double s, double b, int window)
{
    snnc_neuron best = {64, 0, 1, 0, 32};
    double best_err = INFINITY;
    s = fabs(s);
    for (int m = 1; m <= SNNC_MULT_MAX && s > 0; m++) {
        double a = floor(m / s + 0.5);
        if (a < 1 || a > SNNC_THRESHOLD_MAX)
            continue;
        double leak = floor(b * a / window + 0.5);
        if (fabs(leak) > SNNC_LEAK_MAX)
            continue;
        /* relative slope error plus the bias error in counts (per W ticks) */
        double e = fabs(m / a - s) / s + fabs(leak * window / a - b) / window;
        if (e < best_err - 1e-12) {
            best_err = e;
            best = (snnc_neuron){(int32_t)a, (int32_t)leak, m, 0, (int32_t)(a / 2)};
        }
    }
    if (!(best_err < INFINITY)) { /* all-zero row or unreachable bias: a bias-only neuron */
        double a = 64;
        while (a > 1 && fabs(b * a / window) > SNNC_LEAK_MAX)
            a = floor(a / 2);
        double leak = fmax(-SNNC_LEAK_MAX, fmin(SNNC_LEAK_MAX, floor(b * a / window + 0.5)));
        best = (snnc_neuron){(int32_t)a, (int32_t)leak, 1, 0, (int32_t)(a / 2)};
    }
    return best;
}

int snnc_lower_layer_of(const snnc_netlist *n, int pop)
{
    if (!n || pop < 0 || pop >= n->n_pops || n->pops[pop].role == SNNC_POP_INPUT)
        return -1;
    int layer = -1;
    const char *prev = NULL;
    for (int p = 0; p <= pop; p++) {
        if (n->pops[p].role == SNNC_POP_INPUT)
            continue;
        if (!prev || strcmp(prev, n->pops[p].tensor) != 0)
            layer++;
        prev = n->pops[p].tensor;
    }
    return layer;
}

/* ------------------------------------------------------------ building */

static int add_pop(snnc_netlist *n, const char *name, const char *tensor, snnc_pop_role role, int sign, int size)
{
    snnc_population *p = &n->pops[n->n_pops];
    memset(p, 0, sizeof *p);
    snprintf(p->name, sizeof p->name, "%s%s", name, sign < 0 ? "-" : "");
    snprintf(p->tensor, sizeof p->tensor, "%s", tensor);
    p->role = role;
    p->sign = sign;
    p->n = size;
    if (role != SNNC_POP_INPUT) {
        size_t k = (size_t)size;
        p->threshold = calloc(k, sizeof(int32_t));
        p->leak = calloc(k, sizeof(int32_t));
        p->mult = calloc(k, sizeof(int32_t));
        p->floor = calloc(k, sizeof(int32_t));
        p->v0 = calloc(k, sizeof(int32_t));
        if (!p->threshold || !p->leak || !p->mult || !p->floor || !p->v0)
            return -1;
    }
    return n->n_pops++;
}

/* Projection src -> dst with codes sign * codes[j][col0 + i] of the layer. */
static int add_proj(snnc_netlist *n, int src, int dst, int delay, const snnc_layer_constraints *S, int col0,
                    int sign)
{
    snnc_projection *pr = &n->projs[n->n_projs];
    int ns = n->pops[src].n, nd = n->pops[dst].n;
    pr->src = src;
    pr->dst = dst;
    pr->delay = delay;
    pr->code = calloc((size_t)nd * ns + 1, 1);
    if (!pr->code)
        return -1;
    for (int j = 0; j < nd; j++)
        for (int i = 0; i < ns; i++)
            pr->code[(size_t)j * ns + i] = (int8_t)(sign * S->codes[(size_t)j * S->n_cols + col0 + i]);
    n->n_projs++;
    return 0;
}

/* Analytic parameters of a layer's population of sign `sign`. */
static void init_params(snnc_population *p, const snnc_ann_layer *L, const snnc_layer_constraints *S,
                        int window, bool readout_membrane)
{
    double a_out = S->activity_range > 0 ? S->activity_range : 1;
    if (readout_membrane) { /* one common threshold K: scores comparable across classes */
        double smax = 0, bmax = 0;
        for (int j = 0; j < p->n; j++) {
            smax = fmax(smax, fabs(S->scales[(size_t)j * S->n_groups]));
            bmax = fmax(bmax, fabs(L->b[j] * window / a_out));
        }
        double K = smax > 0 ? SNNC_MULT_MAX / smax : 1024;
        if (bmax > 0)
            K = fmin(K, SNNC_LEAK_MAX * window / bmax);
        K = fmax(1, fmin(floor(K), 1 << 17));
        for (int j = 0; j < p->n; j++) {
            p->threshold[j] = (int32_t)K;
            p->mult[j] = (int32_t)floor(S->scales[(size_t)j * S->n_groups] * K + 0.5);
            p->leak[j] = (int32_t)floor(L->b[j] * window / a_out * K / window + 0.5);
            p->floor[j] = SNNC_THRESHOLD_MAX;
            p->v0[j] = 0;
        }
        return;
    }
    for (int j = 0; j < p->n; j++) {
        double s = S->scales[(size_t)j * S->n_groups], b = p->sign * L->b[j] * window / a_out;
        snnc_neuron u = snnc_neuron_init(s, b, window);
        p->threshold[j] = u.threshold;
        p->leak[j] = u.leak;
        p->mult[j] = u.mult;
        p->floor[j] = u.floor;
        p->v0[j] = u.v0;
    }
}

static int check_lowerable(const snnc_ann *q, const snnc_layer_constraints *st, int n_st, snnc_err *err)
{
    if (!q || !st || n_st != q->n_layers)
        return snnc_fail(err, SNNC_EUSAGE, "lower: network and constraint statistics do not match");
    if (q->in_q.levels <= 0 || !(q->in_q.hi > 0))
        return snnc_fail(err, SNNC_EUNSUPPORTED, "lower: the input activity is not quantised");
    for (int l = 0; l < q->n_layers; l++) {
        const snnc_ann_layer *L = &q->layers[l];
        bool last = l == q->n_layers - 1;
        if (!st[l].codes || !st[l].scales)
            return snnc_fail(err, SNNC_EUNSUPPORTED, "layer '%s': weights are not quantised", L->name);
        if (st[l].n_groups > 1)
            return snnc_fail(err, SNNC_EUNSUPPORTED,
                             "layer '%s': fan-in %d split into %d groups; the mapper lowers only unsplit or "
                             "pruned layers (use --fan-in-strategy prune)",
                             L->name, st[l].n_cols, st[l].n_groups);
        if (L->act == SNNC_ACT_NONE && !last)
            return snnc_fail(err, SNNC_EUNSUPPORTED, "layer '%s': a linear layer is lowered only as the readout",
                             L->name);
        if (L->act != SNNC_ACT_NONE && L->out_q.levels <= 0)
            return snnc_fail(err, SNNC_EUNSUPPORTED, "layer '%s': activity is not quantised", L->name);
    }
    return SNNC_OK;
}

static int build(snnc_netlist *n, const snnc_ann *q, const snnc_layer_constraints *st)
{
    int W = n->window;
    bool in_signed = q->in_q.lo < 0;
    int prev[2] = {-1, -1}, prev_n = in_signed ? 2 : 1;
    int out_delay = 1; /* delay of the projections out of prev: W after a recurrence */
    for (int s = 0; s < prev_n; s++) {
        prev[s] = add_pop(n, q->input_name, q->input_name, SNNC_POP_INPUT, s ? -1 : 1, q->n_inputs);
        if (prev[s] < 0)
            return -1;
        n->pops[prev[s]].input_scale = q->in_q.hi / (float)W;
        n->pops[prev[s]].input_feature0 = 0;
    }
    for (int l = 0; l < q->n_layers; l++) {
        const snnc_ann_layer *L = &q->layers[l];
        const snnc_layer_constraints *S = &st[l];
        bool last = l == q->n_layers - 1, pair = L->act == SNNC_ACT_TANH;
        snnc_pop_role role = last ? SNNC_POP_READOUT : SNNC_POP_HIDDEN;
        int cur[2] = {-1, -1}, cur_n = pair ? 2 : 1;
        for (int s = 0; s < cur_n; s++) {
            cur[s] = add_pop(n, L->name, last && q->output_name[0] ? q->output_name : L->name, role, s ? -1 : 1,
                             L->n_out);
            if (cur[s] < 0)
                return -1;
            init_params(&n->pops[cur[s]], L, S, W, last && L->act == SNNC_ACT_NONE);
        }
        for (int d = 0; d < cur_n; d++) {
            int dsign = n->pops[cur[d]].sign;
            for (int s = 0; s < prev_n; s++)
                if (add_proj(n, prev[s], cur[d], out_delay, S, 0, dsign * n->pops[prev[s]].sign))
                    return -1;
            for (int s = 0; L->role == SNNC_ANN_RECURRENT && s < cur_n; s++)
                if (add_proj(n, cur[s], cur[d], W, S, L->n_in, dsign * n->pops[cur[s]].sign))
                    return -1;
        }
        memcpy(prev, cur, sizeof prev);
        prev_n = cur_n;
        /* A recurrent population's spikes leave on the recurrence's axons:
         * with the same delay W, its readout reads those axons too (no copies). */
        out_delay = L->role == SNNC_ANN_RECURRENT ? W : 1;
        if (last)
            n->n_classes = L->n_out;
    }
    return 0;
}

int snnc_lower(const snnc_ann *q, const snnc_layer_constraints *st, int n_st, snnc_netlist **out, snnc_err *err)
{
    *out = NULL;
    int rc = check_lowerable(q, st, n_st, err);
    if (rc)
        return rc;
    int W = (q->in_q.hi > 0 && q->in_q.lo < 0) ? (q->in_q.levels - 1) / 2 : q->in_q.levels - 1;
    if (W < 1 || W > 15)
        return snnc_fail(err, SNNC_EUNSUPPORTED, "lower: window of %d ticks; delays allow 1..15 (activity levels 2..16)",
                         W);
    snnc_netlist *n = calloc(1, sizeof *n);
    int max_pops = 2 + 2 * q->n_layers, max_projs = 4 * 2 * q->n_layers;
    if (n) {
        n->pops = calloc((size_t)max_pops, sizeof *n->pops);
        n->projs = calloc((size_t)max_projs, sizeof *n->projs);
        n->residual = calloc((size_t)max_pops, sizeof *n->residual);
    }
    if (!n || !n->pops || !n->projs || !n->residual) {
        snnc_netlist_free(n);
        return snnc_fail(err, SNNC_ENOMEM, "lower: out of memory");
    }
    n->window = W;
    n->steps = q->steps;
    n->weight_levels = 0;
    for (int l = 0; l < q->n_layers; l++) {
        int lo = 0, hi = 0;
        for (int64_t k = 0; k < (int64_t)st[l].n_rows * st[l].n_cols; k++) {
            lo = st[l].codes[k] < lo ? st[l].codes[k] : lo;
            hi = st[l].codes[k] > hi ? st[l].codes[k] : hi;
        }
        int lv = 2 * (hi > -lo ? hi + 1 : -lo);
        n->weight_levels = lv > n->weight_levels ? lv : n->weight_levels;
    }
    n->activity_levels = W + 1;
    if (build(n, q, st)) {
        snnc_netlist_free(n);
        return snnc_fail(err, SNNC_ENOMEM, "lower: out of memory");
    }
    /* Enough windows after the last step for the readout's lag. */
    int lag = 0;
    for (int p = 0; p < n->n_pops; p++) {
        int l = snnc_netlist_lag(n, p);
        lag = l > lag ? l : lag;
    }
    n->readout_windows = (lag + W - 1) / W;
    if (n->readout_windows < 1)
        n->readout_windows = 1;
    *out = n;
    return SNNC_OK;
}
