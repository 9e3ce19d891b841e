/* lower.c — a constrained Elman network to a spiking netlist (interface:
 * mapper/mapper.h, netlist semantics: mapper/netlist.h; design:
 * docs/CONVERSION.md §3).  Inputs become rate-coded generators (two
 * populations when the input is signed), every layer one population of
 * integrate-and-fire neurons (tanh: a signed pair), the recurrence a
 * projection of delay W, feedforward projections delay 1 (W out of a
 * recurrent layer, so its readout shares the recurrence's axons).  A split
 * layer becomes partial pairs per column group and its final population
 * (docs/CONVERSION.md §5); a split linear readout one membrane-read
 * population per group.  Connector
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

void snnc_neuron_store(snnc_population *P, int j, snnc_neuron u)
{
    P->threshold[j] = u.threshold;
    P->leak[j] = u.leak;
    P->mult[j] = u.mult;
    P->floor[j] = u.floor;
    P->v0[j] = u.v0;
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

/* Projection src -> dst with codes sign * codes[j][col0 + i] of the layer,
 * only for the columns col0 + i in [lo, hi) (a split layer's group). */
static int add_proj(snnc_netlist *n, int src, int dst, int delay, const snnc_layer_constraints *S, int col0,
                    int lo, int hi, int sign)
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
            if (col0 + i >= lo && col0 + i < hi)
                pr->code[(size_t)j * ns + i] = (int8_t)(sign * S->codes[(size_t)j * S->n_cols + col0 + i]);
    n->n_projs++;
    return 0;
}

/* One-to-one projection src neuron j -> dst neuron j with code `code`. */
static int add_diag(snnc_netlist *n, int src, int dst, int delay, int code)
{
    snnc_projection *pr = &n->projs[n->n_projs];
    int ns = n->pops[src].n;
    pr->src = src;
    pr->dst = dst;
    pr->delay = delay;
    pr->code = calloc((size_t)ns * ns + 1, 1);
    if (!pr->code)
        return -1;
    for (int j = 0; j < ns; j++)
        pr->code[(size_t)j * ns + j] = (int8_t)code;
    n->n_projs++;
    return 0;
}

double snnc_lower_scale(const snnc_layer_constraints *S, int j, int g)
{
    return S->scales[(size_t)j * S->n_groups + (g > 0 ? g : 0)];
}

/* The projection from partial population p to a final population (the
 * first), or NULL. */
static snnc_projection *partial_out(const snnc_netlist *n, int p, int from)
{
    for (int k = from; k < n->n_projs; k++)
        if (n->projs[k].src == p && n->pops[n->projs[k].dst].role != SNNC_POP_PARTIAL)
            return &n->projs[k];
    return NULL;
}

double snnc_partial_unit(const snnc_netlist *n, int p, int j)
{
    if (n->pops[p].role != SNNC_POP_PARTIAL)
        return 1;
    const snnc_projection *pr = partial_out(n, p, 0);
    int c = pr ? abs(pr->code[(size_t)j * n->pops[p].n + j]) : 1;
    return (c ? c : 1) * (double)n->pops[p].unit;
}

void snnc_partial_set_code(snnc_netlist *n, int p, int j, int c)
{
    for (snnc_projection *pr = partial_out(n, p, 0); pr; pr = partial_out(n, p, (int)(pr - n->projs) + 1)) {
        int8_t *code = &pr->code[(size_t)j * n->pops[p].n + j];
        *code = (int8_t)(*code < 0 ? -c : c);
    }
}

int snnc_lower_window(const snnc_ann *q)
{
    return q->in_q.lo < 0 ? (q->in_q.levels - 1) / 2 : q->in_q.levels - 1;
}

double snnc_lower_offset(const snnc_ann *q, const snnc_layer_constraints *S, int l, int j, int g, int W, int t)
{
    const snnc_ann_layer *L = &q->layers[l];
    int lo = S->n_groups > 1 ? S->group_start[g] : 0, hi = S->n_groups > 1 ? S->group_start[g + 1] : S->n_cols;
    int64_t C = 0;
    for (int i = lo; i < hi; i++) /* h_0 = 0: no h column at step 0 */
        if (i < L->n_in ? S->x_offset : S->h_offset && t > 0)
            C += S->codes[(size_t)j * S->n_cols + i];
    return -0.5 * W * snnc_lower_scale(S, j, g) * (double)C;
}

bool snnc_lower_offset_coded(const snnc_ann *q, int l)
{
    return q->layers[l].act == SNNC_ACT_TANH && snnc_act_offset(&q->layers[l].out_q, snnc_lower_window(q));
}

/* The line at step t (snnc_lower_line). */
static void line_at(const snnc_netlist *n, int p, int j, const snnc_ann *q, const snnc_layer_constraints *S, int t,
                    double *s, double *b)
{
    const snnc_population *P = &n->pops[p];
    int l = snnc_lower_layer_of(n, p), W = n->window;
    const snnc_ann_layer *L = &q->layers[l];
    double a_out = S->activity_range > 0 ? S->activity_range : 1;
    if (P->role == SNNC_POP_PARTIAL) {
        double u = snnc_partial_unit(n, p, j);
        *s = snnc_lower_scale(S, j, P->group) / u;
        *b = P->sign * snnc_lower_offset(q, S, l, j, P->group, W, t) / u;
        return;
    }
    bool split = S->n_groups > 1;
    *s = split ? P->unit : snnc_lower_scale(S, j, 0);
    *b = P->sign * (L->b[j] * W / a_out + (split ? 0 : snnc_lower_offset(q, S, l, j, 0, W, t)));
    if (snnc_lower_offset_coded(q, l)) { /* k = z'/2 + W/2, a hard tanh on 0..W */
        *s /= 2;
        *b = *b / 2 + W / 2.0;
    }
}

void snnc_lower_line(const snnc_netlist *n, int p, int j, const snnc_ann *q, const snnc_layer_constraints *S,
                     double *s, double *b, double *charge)
{
    double s0, b0;
    line_at(n, p, j, q, S, 1, s, b);
    line_at(n, p, j, q, S, 0, &s0, &b0);
    *charge = b0 - *b;
}

int32_t snnc_lower_charge(double charge, int32_t threshold)
{
    return (int32_t)floor(charge * threshold + 0.5);
}

/* Analytic parameters of population p (snnc_lower_line). */
static void init_params(snnc_netlist *n, int p, const snnc_ann *q, const snnc_layer_constraints *S)
{
    for (int j = 0; j < n->pops[p].n; j++) {
        double s, b, c0;
        snnc_lower_line(n, p, j, q, S, &s, &b, &c0);
        snnc_neuron u = snnc_neuron_init(s, b, n->window);
        u.v0 += snnc_lower_charge(c0, u.threshold);
        snnc_neuron_store(&n->pops[p], j, u);
    }
}

/* A linear readout read from the membranes: one common threshold K over
 * all its populations (scores comparable across classes and summed over a
 * split readout's groups), mult_j ~ s_jg K, the bias on group 0 only, each
 * group's offset-coded columns' constant on that group. */
static void init_readout(snnc_netlist *n, int first, int count, const snnc_ann *q, int l,
                         const snnc_layer_constraints *S)
{
    const snnc_ann_layer *L = &q->layers[l];
    int window = n->window;
    double a_out = S->activity_range > 0 ? S->activity_range : 1, smax = 0, bmax = 0;
    for (int j = 0; j < L->n_out; j++) {
        for (int g = 0; g < S->n_groups; g++)
            smax = fmax(smax, fabs(S->scales[(size_t)j * S->n_groups + g]));
        double b = L->b[j] * window / a_out;
        for (int g = 0; g < S->n_groups; g++)
            b += snnc_lower_offset(q, S, l, j, g, window, 1);
        bmax = fmax(bmax, fabs(b));
    }
    double K = smax > 0 ? SNNC_MULT_MAX / smax : 1024;
    if (bmax > 0)
        K = fmin(K, SNNC_LEAK_MAX * window / bmax);
    K = fmax(1, fmin(floor(K), 1 << 17));
    for (int k = 0; k < count; k++) {
        snnc_population *p = &n->pops[first + k];
        for (int j = 0; j < p->n; j++) {
            p->threshold[j] = (int32_t)K;
            p->mult[j] = (int32_t)floor(S->scales[(size_t)j * S->n_groups + p->group] * K + 0.5);
            double b = (p->group ? 0 : L->b[j] * window / a_out) + snnc_lower_offset(q, S, l, j, p->group, window, 1);
            p->leak[j] = (int32_t)floor(b * K / window + 0.5);
            p->floor[j] = SNNC_THRESHOLD_MAX;
            p->v0[j] = 0;
        }
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
        const snnc_layer_constraints *S = &st[l];
        bool last = l == q->n_layers - 1;
        if (!S->codes || !S->scales)
            return snnc_fail(err, SNNC_EUNSUPPORTED, "layer '%s': weights are not quantised", L->name);
        if (S->n_groups > 1 && (!S->group_start || S->group_start[0] != 0 || S->group_start[S->n_groups] != S->n_cols))
            return snnc_fail(err, SNNC_EINVALID, "layer '%s': fan-in groups do not cover its %d columns", L->name,
                             S->n_cols);
        if (L->act == SNNC_ACT_NONE && !last)
            return snnc_fail(err, SNNC_EUNSUPPORTED, "layer '%s': a linear layer is lowered only as the readout",
                             L->name);
        if (L->act != SNNC_ACT_NONE && L->out_q.levels <= 0)
            return snnc_fail(err, SNNC_EUNSUPPORTED, "layer '%s': activity is not quantised", L->name);
    }
    return SNNC_OK;
}

/* The populations lowering has made so far that feed the next layer. */
typedef struct feed {
    int pop[2], n;          /* one, or a signed pair */
    int delay;              /* of the projections out of them */
} feed;

/* Projections into population d from the previous layer's columns [lo, hi)
 * and, for a recurrent layer, from the layer's own output pops `rec`
 * (columns n_in + k) at delay `rec_delay`. */
static int connect_columns(snnc_netlist *n, int d, const feed *prev, const feed *rec, int rec_delay,
                           const snnc_ann_layer *L, const snnc_layer_constraints *S, int lo, int hi)
{
    int dsign = n->pops[d].sign;
    for (int s = 0; s < prev->n; s++)
        if (add_proj(n, prev->pop[s], d, prev->delay, S, 0, lo, hi, dsign * n->pops[prev->pop[s]].sign))
            return -1;
    for (int s = 0; L->role == SNNC_ANN_RECURRENT && s < rec->n; s++)
        if (add_proj(n, rec->pop[s], d, rec_delay, S, L->n_in, lo, hi, dsign * n->pops[rec->pop[s]].sign))
            return -1;
    return 0;
}

/* The layer's output population(s): one, or a tanh pair. */
static int add_outputs(snnc_netlist *n, const snnc_ann *q, int l, feed *cur)
{
    const snnc_ann_layer *L = &q->layers[l];
    bool last = l == q->n_layers - 1;
    cur->n = L->act == SNNC_ACT_TANH && !snnc_lower_offset_coded(q, l) ? 2 : 1;
    for (int s = 0; s < cur->n; s++) {
        cur->pop[s] = add_pop(n, L->name, last && q->output_name[0] ? q->output_name : L->name,
                              last ? SNNC_POP_READOUT : SNNC_POP_HIDDEN, s ? -1 : 1, L->n_out);
        if (cur->pop[s] < 0)
            return -1;
    }
    return 0;
}

/* An unsplit layer: its neurons read the previous layer (and recur, delay W). */
static int build_plain(snnc_netlist *n, const snnc_ann *q, int l, const snnc_layer_constraints *S, feed *prev)
{
    const snnc_ann_layer *L = &q->layers[l];
    int W = n->window;
    feed cur;
    if (add_outputs(n, q, l, &cur))
        return -1;
    for (int d = 0; d < cur.n; d++) {
        if (n->pops[cur.pop[d]].role == SNNC_POP_READOUT && L->act == SNNC_ACT_NONE)
            init_readout(n, cur.pop[d], 1, q, l, S);
        else
            init_params(n, cur.pop[d], q, S);
        if (connect_columns(n, cur.pop[d], prev, &cur, W, L, S, 0, S->n_cols))
            return -1;
    }
    /* A recurrent population's spikes leave on the recurrence's axons:
     * with the same delay W, its readout reads those axons too (no copies). */
    cur.delay = L->role == SNNC_ANN_RECURRENT ? W : 1;
    *prev = cur;
    return 0;
}

/* A linear readout with split fan-in: one membrane-read population per
 * group, each summing its group's columns at the group's scales; the class
 * scores add over the groups (docs/NETLIST.md). */
static int build_split_readout(snnc_netlist *n, const snnc_ann *q, int l, const snnc_layer_constraints *S,
                               feed *prev)
{
    const snnc_ann_layer *L = &q->layers[l];
    int first = n->n_pops;
    for (int g = 0; g < S->n_groups; g++) {
        char name[160];
        snprintf(name, sizeof name, "%s/group%d", L->name, g);
        int p = add_pop(n, name, q->output_name[0] ? q->output_name : L->name, SNNC_POP_READOUT, 1, L->n_out);
        if (p < 0)
            return -1;
        n->pops[p].group = g;
        feed none = {{-1, -1}, 0, 0};
        if (connect_columns(n, p, prev, &none, 0, L, S, S->group_start[g], S->group_start[g + 1]))
            return -1;
    }
    init_readout(n, first, S->n_groups, q, l, S);
    prev->n = 0;
    return 0;
}

/* A split layer (docs/CONVERSION.md §5): per group g a pair of partial
 * populations relu(+p_g), relu(-p_g) in units of SNNC_PARTIAL_UNIT output
 * counts, fed by the group's columns (previous layer: its delay; the
 * recurrence from the final populations: delay W - 1, so that the loop
 * partial -> final -> partial is W ticks); the final population(s) add
 * them with codes +-1 (delay 1; matching may make a unit c times larger,
 * code c) and keep the bias and the activation. */
static int build_split(snnc_netlist *n, const snnc_ann *q, int l, const snnc_layer_constraints *S, feed *prev)
{
    const snnc_ann_layer *L = &q->layers[l];
    int W = n->window, G = S->n_groups, part0 = n->n_pops;
    for (int g = 0; g < G; g++)
        for (int s = 0; s < 2; s++) {
            char name[160];
            snprintf(name, sizeof name, "%s/partial%d", L->name, g);
            bool last = l == q->n_layers - 1;
            int p = add_pop(n, name, last && q->output_name[0] ? q->output_name : L->name, SNNC_POP_PARTIAL,
                            s ? -1 : 1, L->n_out);
            if (p < 0)
                return -1;
            n->pops[p].group = g;
            n->pops[p].unit = (float)SNNC_PARTIAL_UNIT;
            init_params(n, p, q, S);
        }
    feed cur;
    if (add_outputs(n, q, l, &cur))
        return -1;
    for (int d = 0; d < cur.n; d++) {
        n->pops[cur.pop[d]].unit = (float)SNNC_PARTIAL_UNIT;
        init_params(n, cur.pop[d], q, S);
        for (int k = 0; k < 2 * G; k++) {
            int p = part0 + k;
            if (add_diag(n, p, cur.pop[d], 1, n->pops[cur.pop[d]].sign * n->pops[p].sign))
                return -1;
        }
    }
    for (int k = 0; k < 2 * G; k++) {
        int g = k / 2;
        if (connect_columns(n, part0 + k, prev, &cur, W - 1, L, S, S->group_start[g], S->group_start[g + 1]))
            return -1;
    }
    /* Like an unsplit recurrence: the next layer reads the recurrence's axons. */
    cur.delay = L->role == SNNC_ANN_RECURRENT ? W - 1 : 1;
    *prev = cur;
    return 0;
}

static int build(snnc_netlist *n, const snnc_ann *q, const snnc_layer_constraints *st)
{
    int W = n->window;
    feed prev = {{-1, -1}, q->in_q.lo < 0 ? 2 : 1, 1};
    for (int s = 0; s < prev.n; s++) {
        prev.pop[s] = add_pop(n, q->input_name, q->input_name, SNNC_POP_INPUT, s ? -1 : 1, q->n_inputs);
        if (prev.pop[s] < 0)
            return -1;
        n->pops[prev.pop[s]].input_scale = q->in_q.hi / (float)W;
        n->pops[prev.pop[s]].input_feature0 = 0;
    }
    for (int l = 0; l < q->n_layers; l++) {
        const snnc_ann_layer *L = &q->layers[l];
        bool last = l == q->n_layers - 1;
        int rc;
        if (st[l].n_groups <= 1)
            rc = build_plain(n, q, l, &st[l], &prev);
        else if (last && L->act == SNNC_ACT_NONE)
            rc = build_split_readout(n, q, l, &st[l], &prev);
        else
            rc = build_split(n, q, l, &st[l], &prev);
        if (rc)
            return -1;
        if (last)
            n->n_classes = L->n_out;
    }
    return 0;
}

/* TrueNorth's crossbar holds 4-bit two's complement codes -8..7 per
 * neuron up to a negation of the neuron (truenorth/tn_map.c): a neuron
 * reading both halves of a signed pair through a code -8 gets -8 from one
 * half and the negated +8 from the other, which no sign of the neuron holds.
 * Such a neuron keeps the more frequent extreme (-8 on ties) and its others
 * become +-7, here, so that every later stage (matching, the ideal spiking
 * simulation, TrueNorth) sees the same weights.  Returns the codes clipped. */
static int64_t fit_pair_codes(snnc_netlist *n)
{
    int64_t clipped = 0;
    for (int p = 0; p < n->n_pops; p++)
        for (int j = 0; j < n->pops[p].n; j++) {
            int plus = 0, minus = 0;
            for (int k = 0; k < n->n_projs; k++) {
                const snnc_projection *pr = &n->projs[k];
                int S = n->pops[pr->src].n;
                for (int i = 0; pr->dst == p && i < S; i++)
                    plus += pr->code[(size_t)j * S + i] == 8, minus += pr->code[(size_t)j * S + i] == -8;
            }
            if (!plus || !minus)
                continue;
            int8_t drop = plus > minus ? -8 : 8;
            for (int k = 0; k < n->n_projs; k++) {
                snnc_projection *pr = &n->projs[k];
                int S = n->pops[pr->src].n;
                for (int i = 0; pr->dst == p && i < S; i++)
                    if (pr->code[(size_t)j * S + i] == drop)
                        pr->code[(size_t)j * S + i] = (int8_t)(drop / 8 * 7), clipped++;
            }
        }
    return clipped;
}

int snnc_lower(const snnc_ann *q, const snnc_layer_constraints *st, int n_st, snnc_netlist **out, snnc_err *err)
{
    *out = NULL;
    int rc = check_lowerable(q, st, n_st, err);
    if (rc)
        return rc;
    int W = snnc_lower_window(q);
    if (W < 1 || W > 15)
        return snnc_fail(err, SNNC_EUNSUPPORTED, "lower: window of %d ticks; delays allow 1..15 (activity levels 2..16)",
                         W);
    for (int l = 0; l < q->n_layers; l++)
        if (W < 2 && st[l].n_groups > 1 && q->layers[l].role == SNNC_ANN_RECURRENT)
            return snnc_fail(err, SNNC_EUNSUPPORTED, "layer '%s': a split recurrence needs a window of 2 ticks or more",
                             q->layers[l].name);
    snnc_netlist *n = calloc(1, sizeof *n);
    int max_pops = 2, max_projs = 0;
    for (int l = 0; l < q->n_layers; l++) { /* per group: 2 partials, 2x2 inputs, 2x2 recurrences, 2x2 to finals */
        int G = st[l].n_groups > 1 ? st[l].n_groups : 0;
        max_pops += 2 + 2 * G;
        max_projs += 8 + 12 * G;
    }
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
    fit_pair_codes(n);
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
