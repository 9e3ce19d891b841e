/* test_mapper.c — the mapper stage (mapper/): neuron traces derived by hand
 * (spike ticks of an integrate-and-fire neuron with linear reset), rate
 * encoding (counts and phases), the recurrent delay of W ticks, a tiny
 * Elman network lowered and simulated against the constrained ANN run in
 * float (snnc_ann_run) where its activations are on the grid, tanh signed
 * pairs, the split fan-in pair relu(p) - relu(-p) = p over every pair of
 * input counts, a lowered split layer (structure; exact against the ANN on
 * the grid; matched), response-matching residual bounds on random
 * networks, the response plots (their points against windows simulated
 * here) and the JSON writer (read back with jansson).  Netlists and
 * networks are built by hand here. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "ir/error.h"
#include "ir/tensor.h"
#include "mapper/mapper.h"
#include "truenorth/tn_map.h"

/* ------------------------------------------------------------ builders */

static snnc_netlist *net_new(int window, int steps, int n_pops, int n_projs)
{
    snnc_netlist *n = calloc(1, sizeof *n);
    n->window = window;
    n->steps = steps;
    n->readout_windows = 1;
    n->weight_levels = 16;
    n->activity_levels = window + 1;
    n->pops = calloc((size_t)n_pops, sizeof *n->pops);
    n->projs = calloc((size_t)n_projs, sizeof *n->projs);
    n->residual = calloc((size_t)n_pops, sizeof *n->residual);
    return n;
}

static int pop_add(snnc_netlist *n, const char *name, snnc_pop_role role, int sign, int size, int thr, int mult,
                   int floor_, int v0)
{
    snnc_population *p = &n->pops[n->n_pops];
    snprintf(p->name, sizeof p->name, "%s", name);
    snprintf(p->tensor, sizeof p->tensor, "%s", name);
    p->role = role;
    p->sign = sign;
    p->n = size;
    if (role == SNNC_POP_INPUT) {
        p->input_scale = 1.0f;
    } else {
        p->threshold = calloc((size_t)size, 4);
        p->leak = calloc((size_t)size, 4);
        p->mult = calloc((size_t)size, 4);
        p->floor = calloc((size_t)size, 4);
        p->v0 = calloc((size_t)size, 4);
        for (int j = 0; j < size; j++) {
            p->threshold[j] = thr;
            p->mult[j] = mult;
            p->floor[j] = floor_;
            p->v0[j] = v0;
        }
    }
    return n->n_pops++;
}

static void proj_add(snnc_netlist *n, int src, int dst, int delay, const int8_t *codes)
{
    snnc_projection *pr = &n->projs[n->n_projs++];
    size_t k = (size_t)n->pops[src].n * n->pops[dst].n;
    pr->src = src;
    pr->dst = dst;
    pr->delay = delay;
    pr->code = malloc(k);
    memcpy(pr->code, codes, k);
}

/* [batch, steps, features] of counts (input_scale 1: value = count). */
static snnc_tensor *counts_input(int64_t B, int T, int F, const float *v)
{
    snnc_err err = {0};
    snnc_tensor *t = snnc_tensor_new(SNNC_F32, 3, (int64_t[]){B, T, F}, &err);
    memcpy(t->data, v, (size_t)(B * T * F) * sizeof(float));
    return t;
}

/* ------------------------------------------------------------ neuron traces */

/* Two inputs spiking every tick (count W = 15), both code 1 onto one neuron
 * of threshold 3, mult 1: it receives 2 per tick at ticks 1..15 (delay 1),
 * so V = 2, 4 -> spike (1), 3 -> spike (0), 2, 4 -> ... : spikes at ticks
 * 2, 3, 5, 6, 8, 9, 11, 12, 14, 15 (10 spikes = 30 / 3). */
static void test_neuron_trace(void)
{
    snnc_netlist *n = net_new(15, 1, 2, 1);
    int in = pop_add(n, "in", SNNC_POP_INPUT, 1, 2, 0, 0, 0, 0);
    int h = pop_add(n, "h", SNNC_POP_HIDDEN, 1, 1, 3, 1, 0, 0);
    proj_add(n, in, h, 1, (int8_t[]){1, 1});
    snnc_tensor *x = counts_input(1, 1, 2, (float[]){15, 15});
    snnc_sim_result r;
    snnc_err err = {0};
    CU_ASSERT_EQUAL_FATAL(snnc_netlist_simulate(n, x, true, &r, &err), SNNC_OK);
    CU_ASSERT_EQUAL(r.ticks, 30);
    int expect[30] = {0};
    int ticks[] = {2, 3, 5, 6, 8, 9, 11, 12, 14, 15};
    for (int i = 0; i < 10; i++)
        expect[ticks[i]] = 1;
    for (int k = 0; k < 30; k++)
        CU_ASSERT_EQUAL(r.raster[k * r.n_neurons + 2], expect[k]);
    CU_ASSERT_EQUAL(r.counts[2], 10); /* window 0 of h: ticks 1..15 */
    CU_ASSERT_EQUAL(r.spikes, 30 + 10);
    snnc_sim_result_free(&r);

    /* leak -1 and floor 2 (threshold 3): tick 0 has no input, V = -1;
     * then net +1 per tick (ticks 1..15): V = 0, 1, 2, 3 -> spike at tick 4,
     * then ticks 7, 10, 13 (V ends at 2 after tick 15); then it falls by 1
     * per tick to the floor -2 and stays silent. */
    n->pops[h].leak[0] = -1;
    n->pops[h].floor[0] = 2;
    CU_ASSERT_EQUAL_FATAL(snnc_netlist_simulate(n, x, true, &r, &err), SNNC_OK);
    for (int k = 0; k < 30; k++)
        CU_ASSERT_EQUAL(r.raster[k * r.n_neurons + 2], k >= 4 && k <= 13 && (k - 4) % 3 == 0);
    snnc_sim_result_free(&r);
    snnc_tensor_free(x);
    snnc_netlist_free(n);
}

/* Rate encoding: n = round(x / scale) clamped to [0, W], spikes at the
 * phases p with ceil((p+1) n / W) > ceil(p n / W); a negative input on the
 * sign -1 population. */
static void test_rate_encoding(void)
{
    snnc_netlist *n = net_new(15, 2, 2, 0);
    int pos = pop_add(n, "x", SNNC_POP_INPUT, 1, 3, 0, 0, 0, 0);
    int neg = pop_add(n, "x", SNNC_POP_INPUT, -1, 3, 0, 0, 0, 0);
    n->pops[pos].input_scale = n->pops[neg].input_scale = 0.5f;
    /* step 0: 2.5 -> 5, 100 -> 15 (clamped), -1.2 -> 0 / 2.4 on the negative side;
     * step 1: 0.24 -> 0 (0.48 rounds down), 0.25 -> 1 (0.5 rounds up), -7.4 -> 15 */
    snnc_tensor *x = counts_input(1, 2, 3, (float[]){2.5f, 100.0f, -1.2f, 0.24f, 0.25f, -7.4f});
    snnc_sim_result r;
    snnc_err err = {0};
    CU_ASSERT_EQUAL_FATAL(snnc_netlist_simulate(n, x, true, &r, &err), SNNC_OK);
    int want[2][6] = {{5, 15, 0, 0, 0, 2}, {0, 1, 0, 0, 0, 15}};
    for (int t = 0; t < 2; t++)
        for (int j = 0; j < 6; j++)
            CU_ASSERT_EQUAL(r.counts[t * 6 + j], want[t][j]);
    /* 5 spikes in 15 ticks: phases 0, 3, 6, 9, 12 */
    for (int k = 0; k < 15; k++)
        CU_ASSERT_EQUAL(r.raster[k * 6 + 0], k % 3 == 0);
    /* 1 spike: the first phase of window 1 (tick 15) */
    for (int k = 15; k < 30; k++)
        CU_ASSERT_EQUAL(r.raster[k * 6 + 1], k == 15);
    /* 2 spikes in window 0 on the negative side: ceil(2 (p+1) / 15) steps at p = 0 and 7 */
    for (int k = 0; k < 15; k++)
        CU_ASSERT_EQUAL(r.raster[k * 6 + 5], k == 0 || k == 7);
    snnc_sim_result_free(&r);
    snnc_tensor_free(x);
    snnc_netlist_free(n);
}

/* Recurrence: a spike of window k through a delay-W projection arrives at
 * the same phase of window k+1. */
static void test_recurrent_delay(void)
{
    int W = 15;
    snnc_netlist *n = net_new(W, 3, 2, 2);
    int in = pop_add(n, "x", SNNC_POP_INPUT, 1, 1, 0, 0, 0, 0);
    int h = pop_add(n, "h", SNNC_POP_HIDDEN, 1, 2, 1, 1, 0, 0);
    proj_add(n, in, h, 1, (int8_t[]){1, 0});         /* x -> h0 */
    proj_add(n, h, h, W, (int8_t[]){0, 0, 1, 0});    /* h0 -> h1, the recurrence */
    snnc_tensor *x = counts_input(1, 3, 1, (float[]){1, 0, 0});
    snnc_sim_result r;
    snnc_err err = {0};
    CU_ASSERT_EQUAL_FATAL(snnc_netlist_simulate(n, x, true, &r, &err), SNNC_OK);
    /* x spikes at tick 0 (phase 0), h0 at 1 (window 0 of h: ticks 1..15),
     * h1 at 16: window 1 of h (ticks 16..30), same phase */
    for (int k = 0; k < r.ticks; k++) {
        CU_ASSERT_EQUAL(r.raster[k * 3 + 1], k == 1);
        CU_ASSERT_EQUAL(r.raster[k * 3 + 2], k == 16);
    }
    int want[3][3] = {{1, 1, 0}, {0, 0, 1}, {0, 0, 0}};
    for (int t = 0; t < 3; t++)
        for (int j = 0; j < 3; j++)
            CU_ASSERT_EQUAL(r.counts[t * 3 + j], want[t][j]);
    CU_ASSERT_EQUAL(snnc_netlist_lag(n, h), 1);
    snnc_sim_result_free(&r);
    snnc_tensor_free(x);
    snnc_netlist_free(n);
}

/* ------------------------------------------------------------ split pair */

/* Fan-in split (docs/CONVERSION.md §5): the partial sum p = n0 - n1 of two
 * inputs (codes +1, -1) on a pair relu(p), relu(-p) (threshold 1, floor 0),
 * summed by a final neuron with codes +1 and -1: count(+) - count(-) = p and
 * the final score = p, for every n0, n1 in 0..W.  (Per window the pair's
 * counts are relu of the running sum, not of p: interleaved spikes can make
 * both fire, but each partner fires at most once per spike of its sign.) */
static void test_split_pair_exact(void)
{
    int W = 15, B = (W + 1) * (W + 1);
    snnc_netlist *n = net_new(W, 1, 4, 4);
    int in = pop_add(n, "x", SNNC_POP_INPUT, 1, 2, 0, 0, 0, 0);
    int pp = pop_add(n, "p", SNNC_POP_PARTIAL, 1, 1, 1, 1, 0, 0);
    int pn = pop_add(n, "p", SNNC_POP_PARTIAL, -1, 1, 1, 1, 0, 0);
    int out = pop_add(n, "y", SNNC_POP_READOUT, 1, 1, 1000, 1, 100000, 0);
    n->n_classes = 1;
    proj_add(n, in, pp, 1, (int8_t[]){1, -1});
    proj_add(n, in, pn, 1, (int8_t[]){-1, 1});
    proj_add(n, pp, out, 1, (int8_t[]){1});
    proj_add(n, pn, out, 1, (int8_t[]){-1});
    float *v = malloc((size_t)B * 2 * sizeof *v);
    for (int a = 0; a <= W; a++)
        for (int b = 0; b <= W; b++) {
            v[(a * (W + 1) + b) * 2] = (float)a;
            v[(a * (W + 1) + b) * 2 + 1] = (float)b;
        }
    snnc_tensor *x = counts_input(B, 1, 2, v);
    snnc_sim_result r;
    snnc_err err = {0};
    CU_ASSERT_EQUAL_FATAL(snnc_netlist_simulate(n, x, true, &r, &err), SNNC_OK);
    int bad = 0;
    for (int s = 0; s < B; s++) {
        int p = (int)v[s * 2] - (int)v[s * 2 + 1];
        const int32_t *c = r.counts + (size_t)s * r.n_neurons;
        bad += c[2] - c[3] != p || r.scores[s] != p || c[2] > (int)v[s * 2] || c[3] > (int)v[s * 2 + 1];
    }
    CU_ASSERT_EQUAL(bad, 0);
    snnc_sim_result_free(&r);
    snnc_tensor_free(x);
    free(v);
    snnc_netlist_free(n);
}

/* ------------------------------------------------------------ tiny Elman */

typedef struct tiny {
    snnc_ann a;
    snnc_ann_layer L[2];
    snnc_layer_constraints S[2];
} tiny;

static void set_stats(snnc_layer_constraints *S, const char *name, int rows, int cols, const int8_t *codes,
                      const float *scales, float a_in, float a_out)
{
    memset(S, 0, sizeof *S);
    snprintf(S->name, sizeof S->name, "%s", name);
    S->n_rows = rows;
    S->n_cols = cols;
    S->n_groups = 1;
    S->group_start = malloc(2 * sizeof(int));
    S->group_start[0] = 0;
    S->group_start[1] = cols;
    S->codes = malloc((size_t)rows * cols);
    memcpy(S->codes, codes, (size_t)rows * cols);
    S->scales = malloc((size_t)rows * sizeof(float));
    memcpy(S->scales, scales, (size_t)rows * sizeof(float));
    S->in_range = a_in;
    S->activity_range = a_out;
}

/* Float weights from codes: w = s c a_out / a_in (docs/QUANTIZE.md §1). */
static float *dequant(const snnc_layer_constraints *S, int col0, int cols, double a_in, double a_out)
{
    float *w = malloc((size_t)S->n_rows * cols * sizeof *w);
    for (int j = 0; j < S->n_rows; j++)
        for (int i = 0; i < cols; i++)
            w[j * cols + i] = (float)(S->scales[j] * S->codes[j * S->n_cols + col0 + i] * a_out / a_in);
    return w;
}

/* 2 inputs on [0, 1], 2 hidden (ReLU or tanh) on [0, 1] (tanh [-1, 1]),
 * readout 2 (linear, membranes); W = 15.  Count domain: hidden scale 1/4
 * (threshold 4, mult 1), readout scale 1/2. */
static void tiny_build(tiny *t, snnc_act act, const int8_t *hcodes /* [2][4] */, const int8_t *rcodes /* [2][2] */)
{
    memset(t, 0, sizeof *t);
    snnc_ann *a = &t->a;
    snprintf(a->input_name, sizeof a->input_name, "x");
    a->n_inputs = 2;
    a->steps = 3;
    a->batch_first = true;
    a->in_q = (snnc_act_quant){16, 0, 1};
    a->n_layers = 2;
    a->layers = t->L;
    set_stats(&t->S[0], "rnn", 2, 4, hcodes, (float[]){0.25f, 0.25f}, 1, 1);
    set_stats(&t->S[1], "fc", 2, 2, rcodes, (float[]){0.5f, 0.5f}, 1, 1);
    snnc_ann_layer *h = &t->L[0], *r = &t->L[1];
    snprintf(h->name, sizeof h->name, "rnn");
    h->role = SNNC_ANN_RECURRENT;
    h->act = act;
    h->n_in = 2;
    h->n_out = 2;
    h->W = dequant(&t->S[0], 0, 2, 1, 1);
    h->U = dequant(&t->S[0], 2, 2, 1, 1);
    h->b = calloc(2, sizeof(float));
    h->out_q = act == SNNC_ACT_TANH ? (snnc_act_quant){31, -1, 1} : (snnc_act_quant){16, 0, 1};
    snprintf(r->name, sizeof r->name, "fc");
    r->role = SNNC_ANN_READOUT;
    r->act = SNNC_ACT_NONE;
    r->n_in = 2;
    r->n_out = 2;
    r->W = dequant(&t->S[1], 0, 2, 1, 1);
    r->b = calloc(2, sizeof(float));
}

static void tiny_free(tiny *t)
{
    for (int l = 0; l < 2; l++) {
        free(t->L[l].W);
        free(t->L[l].U);
        free(t->L[l].b);
        free(t->S[l].group_start);
        free(t->S[l].codes);
        free(t->S[l].scales);
    }
}

static int argmax_f(const float *v, int n)
{
    int b = 0;
    for (int i = 1; i < n; i++)
        b = v[i] > v[b] ? i : b;
    return b;
}

/* Hidden codes 2 (half a count per spike, at most 4 = threshold per tick,
 * so no neuron ever owes a spike at a window's end); inputs chosen so that
 * every pre-activation is an integer count (on the grid): then every window
 * count equals the constrained ANN's and the readout scores equal its
 * outputs. */
static void test_tiny_elman_exact(void)
{
    tiny t;
    /* rows [W_j | U_j]: h0 = x0/2 ; h1 = x1/2 + h0/2 */
    tiny_build(&t, SNNC_ACT_RELU, (int8_t[]){2, 0, 0, 0, 0, 2, 2, 0}, (int8_t[]){2, 0, 0, 2});
    snnc_netlist *n = NULL;
    snnc_err err = {0};
    CU_ASSERT_EQUAL_FATAL(snnc_lower(&t.a, t.S, 2, &n, &err), SNNC_OK);
    CU_ASSERT_EQUAL(n->n_pops, 3);
    CU_ASSERT_EQUAL(n->window, 15);
    CU_ASSERT_EQUAL(n->pops[1].threshold[0], 4); /* m/alpha = 1/4 with m = 1 */
    CU_ASSERT_EQUAL(n->pops[1].mult[0], 1);
    CU_ASSERT_EQUAL(n->pops[1].v0[0], 2); /* threshold / 2: rounding (NETLIST.md) */
    CU_ASSERT_EQUAL(n->n_classes, 2);
    /* counts: x0 in {0, 4, 8, 12}, x1 even, x1 + x0/2 even */
    float counts[4][3][2] = {
        {{4, 2}, {8, 0}, {12, 2}},
        {{12, 14}, {0, 6}, {8, 4}},
        {{0, 0}, {4, 4}, {0, 2}},
        {{8, 10}, {12, 12}, {4, 0}},
    };
    float xv[4 * 3 * 2];
    for (int k = 0; k < 24; k++)
        xv[k] = (&counts[0][0][0])[k] / 15.0f;
    snnc_tensor *x = counts_input(4, 3, 2, xv), *y = NULL, *hid = NULL;
    CU_ASSERT_EQUAL_FATAL(snnc_ann_run(&t.a, x, &y, &hid, &err), SNNC_OK);
    snnc_sim_result r;
    CU_ASSERT_EQUAL_FATAL(snnc_netlist_simulate(n, x, true, &r, &err), SNNC_OK);
    int off = r.pop_offset[1], bad = 0;
    for (int s = 0; s < 4; s++)
        for (int step = 0; step < 3; step++)
            for (int j = 0; j < 2; j++) {
                float ann = snnc_f32(hid)[(step * 4 + s) * 2 + j] * 15.0f;
                int32_t snn = r.counts[((size_t)step * 4 + s) * r.n_neurons + off + j];
                bad += fabsf(ann - (float)snn) > 1e-4f;
            }
    CU_ASSERT_EQUAL(bad, 0);
    /* readout: score / threshold = z' = 15 y */
    for (int s = 0; s < 4; s++) {
        for (int c = 0; c < 2; c++)
            SNNC_ASSERT_CLOSE(r.scores[s * 2 + c] / n->pops[2].threshold[c], 15 * snnc_f32(y)[s * 2 + c], 0, 1e-4);
    }
    snnc_sim_result_free(&r);
    snnc_tensor_free(y);
    snnc_tensor_free(hid);
    snnc_tensor_free(x);
    snnc_netlist_free(n);
    tiny_free(&t);
}

/* tanh: a signed pair; the negative population carries relu(-z) with the
 * codes negated, and the readout reads + minus -. */
static void test_tanh_pair(void)
{
    tiny t;
    /* h0 = tanh(-x0 / 2 ...), h1 = tanh(x1 / 2) ; no recurrence */
    tiny_build(&t, SNNC_ACT_TANH, (int8_t[]){-2, 0, 0, 0, 0, 2, 0, 0}, (int8_t[]){2, 0, 0, 2});
    snnc_netlist *n = NULL;
    snnc_err err = {0};
    CU_ASSERT_EQUAL_FATAL(snnc_lower(&t.a, t.S, 2, &n, &err), SNNC_OK);
    CU_ASSERT_EQUAL_FATAL(n->n_pops, 4);
    CU_ASSERT_EQUAL(n->pops[1].sign, 1);
    CU_ASSERT_EQUAL(n->pops[2].sign, -1);
    CU_ASSERT_STRING_EQUAL(n->pops[1].tensor, n->pops[2].tensor);
    /* input -> negative population: codes negated */
    int found = 0;
    for (int k = 0; k < n->n_projs; k++)
        if (n->projs[k].src == 0 && n->projs[k].dst == 2) {
            CU_ASSERT_EQUAL(n->projs[k].code[0], 2);
            CU_ASSERT_EQUAL(n->projs[k].code[3], -2);
            found = 1;
        }
    CU_ASSERT(found);
    /* x0 = 4/15, x1 = 4/15: z' = -2, +2; 15 tanh(2/15) = 1.99 -> 2 counts */
    float xv[6] = {4 / 15.0f, 4 / 15.0f, 4 / 15.0f, 4 / 15.0f, 4 / 15.0f, 4 / 15.0f};
    snnc_tensor *x = counts_input(1, 3, 2, xv), *y = NULL, *hid = NULL;
    CU_ASSERT_EQUAL_FATAL(snnc_ann_run(&t.a, x, &y, &hid, &err), SNNC_OK);
    snnc_sim_result r;
    CU_ASSERT_EQUAL_FATAL(snnc_netlist_simulate(n, x, true, &r, &err), SNNC_OK);
    int pos = r.pop_offset[1], neg = r.pop_offset[2];
    for (int step = 0; step < 3; step++) {
        const int32_t *c = r.counts + (size_t)step * r.n_neurons;
        CU_ASSERT_EQUAL(c[pos + 0], 0);
        CU_ASSERT_EQUAL(c[neg + 0], 2);
        CU_ASSERT_EQUAL(c[pos + 1], 2);
        CU_ASSERT_EQUAL(c[neg + 1], 0);
        SNNC_ASSERT_CLOSE(snnc_f32(hid)[step * 2 + 0] * 15, -2, 0, 1e-4);
        SNNC_ASSERT_CLOSE(snnc_f32(hid)[step * 2 + 1] * 15, 2, 0, 1e-4);
    }
    /* scores: class 0 = 2 h0 / 2 = -2 counts, class 1 = +2 */
    SNNC_ASSERT_CLOSE(r.scores[0] / n->pops[3].threshold[0], -2, 0, 1e-6);
    SNNC_ASSERT_CLOSE(r.scores[1] / n->pops[3].threshold[1], 2, 0, 1e-6);
    CU_ASSERT_EQUAL(argmax_f(snnc_f32(y), 2), 1);
    snnc_sim_result_free(&r);
    snnc_tensor_free(y);
    snnc_tensor_free(hid);
    snnc_tensor_free(x);
    snnc_netlist_free(n);
    tiny_free(&t);
}

/* The codes of the projection src -> dst (NULL if none). */
static const int8_t *proj_codes(const snnc_netlist *n, int src, int dst)
{
    for (int k = 0; k < n->n_projs; k++)
        if (n->projs[k].src == src && n->projs[k].dst == dst)
            return n->projs[k].code;
    return NULL;
}

/* tanh offset-coded (docs/CONVERSION.md §3): one population whose count k
 * in 0..15 stands for h = 2k/15 - 1 (16 levels over [-1, 1]).  Hidden rows
 * [W_j | U_j]: h0 = tanh(-x0 / 2 + ...), h1 = tanh(x1 / 2 + h0 / 2) (scale
 * 1/4, codes -2 / 2, 2); readout y = h / 2 per class (scale 1/2, codes 2),
 * weights w = s c a_out / (2 a_in) on the offset-coded columns.  By hand:
 * - hidden j: s = 1/4 / 2 = 1/8, b = (0 + o_j) / 2 + 7.5 with the offset
 *   o_j = -(15/2) s sum of offset-coded codes: o_0 = 0, o_1 = -7.5 x 1/4 x 2
 *   = -3.75, so b_0 = 7.5, b_1 = 5.625; snnc_neuron_init at m = 1: threshold
 *   8, leak round(8 b / 15) = 4 and 3 (exact: 4 x 15 / 8 = 7.5, 3 x 15 / 8 =
 *   5.625), v0 4 (plus the charge below);
 * - readout: offsets -(15/2) (1/2) 2 = -7.5 counts per class, K = 31 / (1/2)
 *   = 62 (the leak limit 255 x 15 / 7.5 = 510 is larger), mult 31, leak
 *   round(-7.5 x 62 / 15) = -31.
 * - h1's charge (snnc_lower_line): at step 0 h_0 = 0 sends no spikes and
 *   has no offset, b = 7.5 instead of 5.625: 1.875 counts, v0 = 4 +
 *   round(1.875 x 8) = 19.
 * Trace, x0 = x1 = 2/15 every step (2 spikes at phases 0 and 7, code -2 /
 * +2; the hidden lag is 1 tick, so tick 0 precedes window 0 and its spikes
 * are not counted, but reach the recurrence at tick 15, in window 0):
 * - h0: 4 leak per tick, -4 per window from x0: 56 = 7 x 8 per window.
 *   Tick 0: V = 4 + 4 = 8, a spike, V = 0; then 7 spikes every window, V
 *   back to 0 (at most 4 < 8 per tick, V never below 0).  The ANN:
 *   tanh(-1/15) = -0.06657, k = round(7.5 (1 - 0.06657)) = round(7.0007) = 7.
 * - h1: 3 leak per tick, +4 per window from x1, 2 per spike of h0.  Tick 0:
 *   V = 19 + 3 = 22, a spike, V = 14; window 0: 14 + 45 + 4 + 2 (h0's tick-0
 *   spike at tick 15) = 65: 8 spikes, V 1; window 1: 1 + 45 + 4 + 14 = 64:
 *   8, V 0; window 2: 63: 7, V 7.  The ANN: step 0 z' = 1 (h_0 = 0), k =
 *   round(7.5 (1 + tanh(1/15))) = round(7.9993) = 8; then z' = 1/4 (2 x 2 +
 *   2 (7 - 7.5)) = 0.75, k = round(7.5 (1 + tanh(0.05))) = round(7.87) = 8
 *   (the spiking count's 7 at step 2 is the remainder carried, 7.5 + 0.375 a
 *   window on average). */
static void test_tanh_offset(void)
{
    tiny t;
    tiny_build(&t, SNNC_ACT_TANH, (int8_t[]){-2, 0, 0, 0, 0, 2, 2, 0}, (int8_t[]){2, 0, 0, 2});
    t.L[0].out_q = (snnc_act_quant){16, -1, 1};
    t.S[0].h_offset = true;
    t.S[1].x_offset = true;
    free(t.L[0].U);
    free(t.L[1].W);
    t.L[0].U = dequant(&t.S[0], 2, 2, 2, 1); /* a_in: the span 2a */
    t.L[1].W = dequant(&t.S[1], 0, 2, 2, 1);
    CU_ASSERT(snnc_lower_offset_coded(&t.a, 0));
    SNNC_ASSERT_CLOSE(snnc_lower_offset(&t.a, &t.S[0], 0, 0, 0, 15, 1), 0, 0, 1e-12);
    SNNC_ASSERT_CLOSE(snnc_lower_offset(&t.a, &t.S[0], 0, 1, 0, 15, 1), -3.75, 0, 1e-12);
    SNNC_ASSERT_CLOSE(snnc_lower_offset(&t.a, &t.S[1], 1, 1, 0, 15, 1), -7.5, 0, 1e-12);
    snnc_netlist *n = NULL;
    snnc_err err = {0};
    CU_ASSERT_EQUAL_FATAL(snnc_lower(&t.a, t.S, 2, &n, &err), SNNC_OK);
    CU_ASSERT_EQUAL_FATAL(n->n_pops, 3); /* x, h (one population), y */
    CU_ASSERT_EQUAL(n->pops[1].sign, 1);
    CU_ASSERT_EQUAL(n->pops[1].role, SNNC_POP_HIDDEN);
    const snnc_population *H = &n->pops[1], *Y = &n->pops[2];
    CU_ASSERT(H->threshold[0] == 8 && H->leak[0] == 4 && H->mult[0] == 1 && H->v0[0] == 4 && H->floor[0] == 0);
    CU_ASSERT(H->threshold[1] == 8 && H->leak[1] == 3 && H->mult[1] == 1 && H->v0[1] == 19);
    SNNC_ASSERT_CLOSE(snnc_lower_offset(&t.a, &t.S[0], 0, 1, 0, 15, 0), 0, 0, 1e-12); /* step 0 */
    for (int c = 0; c < 2; c++)
        CU_ASSERT(Y->threshold[c] == 62 && Y->mult[c] == 31 && Y->leak[c] == -31);
    const int8_t *rec = proj_codes(n, 1, 1), *ro = proj_codes(n, 1, 2);
    CU_ASSERT_FATAL(rec && ro);
    CU_ASSERT(rec[0] == 0 && rec[1] == 0 && rec[2] == 2 && rec[3] == 0); /* unsigned codes */
    CU_ASSERT(ro[0] == 2 && ro[3] == 2);

    float xv[6] = {2 / 15.0f, 2 / 15.0f, 2 / 15.0f, 2 / 15.0f, 2 / 15.0f, 2 / 15.0f};
    snnc_tensor *x = counts_input(1, 3, 2, xv), *y = NULL, *hid = NULL;
    CU_ASSERT_EQUAL_FATAL(snnc_ann_run(&t.a, x, &y, &hid, &err), SNNC_OK);
    snnc_sim_result r;
    CU_ASSERT_EQUAL_FATAL(snnc_netlist_simulate(n, x, true, &r, &err), SNNC_OK);
    snnc_count_trace tr;
    CU_ASSERT_EQUAL_FATAL(snnc_count_forward(&t.a, t.S, x, &tr, &err), SNNC_OK);
    const int want_snn[3][2] = {{7, 8}, {7, 8}, {7, 7}}, want_ann[3][2] = {{7, 8}, {7, 8}, {7, 8}};
    for (int step = 0; step < 3; step++)
        for (int j = 0; j < 2; j++) {
            CU_ASSERT_EQUAL(r.counts[(size_t)step * r.n_neurons + r.pop_offset[1] + j], want_snn[step][j]);
            CU_ASSERT_EQUAL(tr.cnt[0][step * 2 + j], want_ann[step][j]);
            /* the constrained network's h is on the 16-level grid: 2k/15 - 1 */
            SNNC_ASSERT_CLOSE(snnc_f32(hid)[step * 2 + j], 2.0 * want_ann[step][j] / 15 - 1, 0, 1e-6);
        }
    /* readout z' = s sum c (k - 7.5): (7 - 7.5) = -0.5 and (8 - 7.5) = +0.5,
     * in the count domain and as 15 y of the float network */
    SNNC_ASSERT_CLOSE(tr.cnt[1][0], -0.5, 0, 1e-9);
    SNNC_ASSERT_CLOSE(tr.cnt[1][1], 0.5, 0, 1e-9);
    SNNC_ASSERT_CLOSE(15 * snnc_f32(y)[0], -0.5, 0, 1e-5);
    SNNC_ASSERT_CLOSE(15 * snnc_f32(y)[1], 0.5, 0, 1e-5);
    /* the spiking readout reads the hidden counts of the last step (its lag
     * 1 + 15 is the hidden's window T - 1): 31 x 2 k - 15 x 31 = 62 (k - 7.5),
     * k = 7 for both (h1's carried remainder: -0.5 where the ANN has +0.5) */
    SNNC_ASSERT_CLOSE(r.scores[0] / 62, -0.5, 0, 1e-9);
    SNNC_ASSERT_CLOSE(r.scores[1] / 62, -0.5, 0, 1e-9);
    snnc_sim_result_free(&r);

    /* snnc_settle (settle.c): the v0 above are potentials at the start of
     * window 0 (tick 1).  h0: V_start 4, leak 4: v0 = 0 (tick 0: 4 < 8, no
     * spike).  h1: V_start 19 >= 8 fires anyway: v0 = 19 - 3 + 8 = 24 (tick
     * 0: 27, a spike, 19); its column has no codes, so nobody's V_start is
     * compensated.  Trace: h0 7 spikes a window (4 + 60 - 4 = 60 = 7 x 8 +
     * 4, V back to 4), none before; h1 window 0: 19 + 45 + 4 = 68: 8, V 4;
     * window 1: 4 + 45 + 4 + 2 x 7 = 67: 8, V 3; window 2: 66: 8 — the
     * constrained network's 7, 8 at every step, readout -0.5, +0.5. */
    int32_t *vs = snnc_settle_save(n, &t.a);
    CU_ASSERT_FATAL(vs != NULL);
    CU_ASSERT(vs[0] == 4 && vs[1] == 19);
    CU_ASSERT_EQUAL_FATAL(snnc_settle(n, &t.a, vs), 0);
    CU_ASSERT(H->v0[0] == 0 && H->v0[1] == 24);
    CU_ASSERT(Y->v0[0] == 0 && Y->v0[1] == 0); /* the readout is not settled */
    CU_ASSERT_EQUAL_FATAL(snnc_netlist_simulate(n, x, true, &r, &err), SNNC_OK);
    for (int step = 0; step < 3; step++)
        for (int j = 0; j < 2; j++)
            CU_ASSERT_EQUAL(r.counts[(size_t)step * r.n_neurons + r.pop_offset[1] + j], want_ann[step][j]);
    SNNC_ASSERT_CLOSE(r.scores[0] / 62, -0.5, 0, 1e-9);
    SNNC_ASSERT_CLOSE(r.scores[1] / 62, 0.5, 0, 1e-9);
    snnc_settle_restore(n, &t.a, vs);
    CU_ASSERT(H->v0[0] == 4 && H->v0[1] == 19);
    free(vs);
    snnc_count_trace_free(&tr);
    snnc_sim_result_free(&r);
    snnc_tensor_free(y);
    snnc_tensor_free(hid);
    snnc_tensor_free(x);
    snnc_netlist_free(n);
    tiny_free(&t);
}


/* A code -8 read from both halves of a tanh pair gives its neuron -8 from
 * one half and +8 from the other: 4-bit two's complement holds -8..7, and a
 * negated neuron -7..8, never both.  The lowering keeps the more frequent
 * extreme of each neuron (-8 on ties) and makes the other +-7 (derived by
 * hand below); TrueNorth then has nothing to clip. */
/* snnc_settle_v0: v0 for a potential V_start at the start of window 0
 * after `lag` ticks of leak only (V += leak; V >= threshold: spike, V -=
 * threshold; V < -floor: V = -floor), by hand:
 * - V_start 30, leak 20, threshold 40, lag 1: v0 = 10 (tick 0: 30, no spike);
 * - V_start 50 >= 40 must fire: v0 = 50 - 20 + 40 = 70 (90: spike, 50);
 * - lag 2, V_start 20, leak 20: v0 = -20 (0 — not below floor 0 — then 20);
 * - lag 2, V_start 45, leak 30: v0 = -15 gives 15, 45: spike, 5; v0 = 25
 *   gives 55: spike, 15, then 45: spike, 5; v0 = 65: 95 -> 55, 85 -> 45,
 *   two spikes;
 * - V_start -10 with floor 0 cannot be held: v0 = -30 (clamped to 0 in tick
 *   0), no spike; with floor 20 it is: v0 = -30 (-10). */
static void test_settle_v0(void)
{
    int sp = -1;
    CU_ASSERT(snnc_settle_v0(30, 20, 40, 0, 1, &sp) == 10 && sp == 0);
    CU_ASSERT(snnc_settle_v0(50, 20, 40, 0, 1, &sp) == 70 && sp == 1);
    CU_ASSERT(snnc_settle_v0(20, 20, 40, 0, 2, &sp) == -20 && sp == 0);
    CU_ASSERT(snnc_settle_v0(45, 30, 40, 0, 2, &sp) == 65 && sp == 2);
    CU_ASSERT(snnc_settle_v0(-10, 20, 40, 0, 1, &sp) == -30 && sp == 0);
    CU_ASSERT(snnc_settle_v0(-10, 20, 40, 20, 1, &sp) == -30 && sp == 0);
    CU_ASSERT(snnc_settle_v0(7, -3, 40, 0, 0, &sp) == 7 && sp == 0); /* no ticks before the window */
}

static void test_tanh_pair_codes_fit_4_bits(void)
{
    tiny t;
    /* rows [W_j | U_j]; readout rows over h */
    tiny_build(&t, SNNC_ACT_TANH, (int8_t[]){1, 0, -8, 3, -8, 2, 5, -8}, (int8_t[]){-8, 1, 2, 3});
    snnc_netlist *n = NULL;
    snnc_err err = {0};
    CU_ASSERT_EQUAL_FATAL(snnc_lower(&t.a, t.S, 2, &n, &err), SNNC_OK);
    CU_ASSERT_EQUAL_FATAL(n->n_pops, 4); /* x, h+, h-, y */
    const int8_t *xp = proj_codes(n, 0, 1), *xn = proj_codes(n, 0, 2), *pp = proj_codes(n, 1, 1);
    const int8_t *np = proj_codes(n, 2, 1), *pn = proj_codes(n, 1, 2), *nn = proj_codes(n, 2, 2);
    const int8_t *py = proj_codes(n, 1, 3), *ny = proj_codes(n, 2, 3);
    CU_ASSERT_FATAL(xp && xn && pp && np && pn && nn && py && ny);
    /* h+ 0: -8 (h+ 0) and +8 (h- 0), a tie: the +8 becomes 7 */
    CU_ASSERT_EQUAL(pp[0], -8);
    CU_ASSERT_EQUAL(pp[1], 3);
    CU_ASSERT_EQUAL(np[0], 7);
    CU_ASSERT_EQUAL(np[1], -3);
    /* h+ 1: -8 from x 0 and h+ 1, +8 from h- 1: keeps -8 */
    CU_ASSERT_EQUAL(xp[2], -8);
    CU_ASSERT_EQUAL(pp[3], -8);
    CU_ASSERT_EQUAL(np[3], 7);
    /* h- 0: +8 (h+ 0), -8 (h- 0), a tie: the +8 becomes 7 */
    CU_ASSERT_EQUAL(pn[0], 7);
    CU_ASSERT_EQUAL(nn[0], -8);
    /* h- 1: +8 from x 0 and h+ 1, -8 from h- 1: keeps +8, the -8 becomes -7 */
    CU_ASSERT_EQUAL(xn[2], 8);
    CU_ASSERT_EQUAL(pn[3], 8);
    CU_ASSERT_EQUAL(nn[3], -7);
    /* readout 0: -8 from h+ 0, +8 from h- 0: a tie */
    CU_ASSERT_EQUAL(py[0], -8);
    CU_ASSERT_EQUAL(ny[0], 7);
    CU_ASSERT_EQUAL(py[3], 3);
    CU_ASSERT_EQUAL(ny[3], -3);
    tn_mapping *m = NULL;
    CU_ASSERT_EQUAL_FATAL(tn_map_netlist(n, NULL, &m, &err), SNNC_OK);
    CU_ASSERT_EQUAL(m->report.clipped_codes, 0);
    tn_mapping_free(m);
    snnc_netlist_free(n);
    tiny_free(&t);
}

/* ------------------------------------------------------------ matching */

static uint64_t trng = 0x9e3779b97f4a7c15ull;
static double tu(void)
{
    trng = trng * 6364136223846793005ull + 1442695040888963407ull;
    return (double)(trng >> 11) * 0x1.0p-53;
}

/* Random Elman networks (3 inputs, 6 hidden ReLU, 3 outputs; and 24 hidden
 * with a strong recurrence over 8 steps) through
 * snnc_constrain, snnc_lower and snnc_match: hidden residual below a third
 * of a count squared, readout within its rounding bound, matching never
 * worse than the analytic parameters on its objective, and the reported
 * residual equal to that objective recomputed here: one neuron simulated
 * (netlist.h) on the rate-coded trains of the constrained ANN's counts;
 * in closed loop (the whole netlist simulated), no count bias beyond 0.1
 * and a count error no larger than with every leak a quarter count off. */
static int rate_spike(int n, int ph, int W) /* ceil((p+1) n / W) > ceil(p n / W) */
{
    return ((ph + 1) * n + W - 1) / W > (ph * n + W - 1) / W;
}

/* A point of a response plot: pre-activation z' (counts), the ANN's count
 * and the spiking neuron's. */
typedef struct plot_pt {
    float z, ann, snn;
} plot_pt;

/* The hidden neuron j simulated here on the rate-coded trains of the
 * constrained ANN's counts (teacher forcing): its mean squared count error
 * against those counts, and (pts not NULL) its point of every window b, t
 * at pts[b T + t], the ANN's count taken from z' by the quantised ReLU
 * clamp(floor(z' + 1/2), 0, W) (CONVERSION.md §2). */
static double neuron_mse(const snnc_population *P, int j, const snnc_count_trace *tr, const snnc_layer_constraints *S,
                         int n_in, int W, plot_pt *pts)
{
    double e = 0;
    int64_t B = tr->batch;
    int H = P->n;
    const int8_t *code = S->codes + (size_t)j * S->n_cols;
    for (int64_t b = 0; b < B; b++) {
        int64_t V = P->v0[j];
        for (int t = 0; t < tr->steps; t++) {
            int cnt = 0;
            for (int ph = 0; ph < W; ph++) {
                int64_t in = 0;
                for (int i = 0; i < n_in; i++)
                    in += code[i] * rate_spike((int)tr->in[((size_t)t * B + b) * n_in + i], ph, W);
                for (int k = 0; t > 0 && k < H; k++)
                    in += code[n_in + k] * rate_spike((int)tr->cnt[0][((size_t)(t - 1) * B + b) * H + k], ph, W);
                V += P->mult[j] * in + P->leak[j];
                if (V >= P->threshold[j]) {
                    V -= P->threshold[j];
                    cnt++;
                } else if (V < -P->floor[j]) {
                    V = -P->floor[j];
                }
            }
            double tgt = tr->cnt[0][((size_t)t * B + b) * H + j], d = cnt - tgt;
            e += d * d;
            if (pts) {
                double z = tr->z[0][((size_t)t * B + b) * H + j], a = floor(z + 0.5);
                pts[b * tr->steps + t] = (plot_pt){(float)z, (float)(a < 0 ? 0 : a > W ? W : a), (float)cnt};
            }
        }
    }
    return e / ((double)B * tr->steps);
}

/* The readout (read from the membranes, population R, layer 1 of the
 * constrained network) simulated here over its window on the rate-coded
 * last-step hidden counts: its score (alpha count + V - v0) / alpha in
 * threshold units, against z' (the ANN's value: the identity), at
 * pts[b C + j].  Returns the mean squared difference. */
static double readout_points(const snnc_population *R, const snnc_count_trace *tr, const snnc_layer_constraints *S,
                             int H, int W, plot_pt *pts)
{
    int64_t B = tr->batch;
    int C = R->n, T = tr->steps;
    double e = 0;
    for (int64_t b = 0; b < B; b++)
        for (int j = 0; j < C; j++) {
            const int8_t *code = S->codes + (size_t)j * S->n_cols;
            int64_t V = R->v0[j], cnt = 0;
            for (int ph = 0; ph < W; ph++) {
                int64_t in = 0;
                for (int i = 0; i < H; i++)
                    in += code[i] * rate_spike((int)tr->cnt[0][((size_t)(T - 1) * B + b) * H + i], ph, W);
                V += R->mult[j] * in + R->leak[j];
                if (V >= R->threshold[j]) {
                    V -= R->threshold[j];
                    cnt++;
                } else if (V < -R->floor[j]) {
                    V = -R->floor[j];
                }
            }
            double z = tr->z[1][b * C + j], score = (double)(cnt * R->threshold[j] + V - R->v0[j]) / R->threshold[j];
            pts[b * C + j] = (plot_pt){(float)z, (float)z, (float)score};
            e += (score - z) * (score - z);
        }
    return e / ((double)B * C);
}

static int pt_cmp(const void *pa, const void *pb)
{
    const plot_pt *a = pa, *b = pb;
    return a->z != b->z ? (a->z > b->z ? 1 : -1) : a->ann != b->ann ? (a->ann > b->ann ? 1 : -1)
                                                                   : (a->snn > b->snn) - (a->snn < b->snn);
}

/* The points of an SVG of mapper/plots.c: the i-th blue (ANN) circle and
 * the i-th red (spiking) one are the same window, read from their data-z
 * and data-y attributes; the residual from the title.  Returns the number
 * of points (at most cap), -1 if the file does not have that form. */
static int read_plot(const char *path, plot_pt *pts, int cap, double *residual)
{
    FILE *f = fopen(path, "r");
    static char buf[1 << 20];
    size_t len = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
    if (f)
        fclose(f);
    buf[len] = 0;
    const char *r = strstr(buf, "residual "), *blue = strstr(buf, "<g fill=\"blue\""),
               *red = strstr(buf, "<g fill=\"red\"");
    if (!r || sscanf(r, "residual %lf", residual) != 1 || !blue || !red || red < blue)
        return -1;
    int n[2] = {0, 0};
    for (int pass = 0; pass < 2; pass++) {
        const char *end = strstr(pass ? red : blue, "</g>");
        for (const char *c = strstr(pass ? red : blue, "<circle"); c && end && c < end; c = strstr(c + 1, "<circle")) {
            const char *dz = strstr(c, "data-z=\""), *dy = strstr(c, "data-y=\"");
            float z, y;
            if (!dz || !dy || n[pass] >= cap || sscanf(dz, "data-z=\"%g", &z) != 1 || sscanf(dy, "data-y=\"%g", &y) != 1)
                return -1;
            if (pass == 0)
                pts[n[0]++] = (plot_pt){z, y, 0};
            else if (pts[n[1]].z != z)
                return -1;
            else
                pts[n[1]++].snn = y;
        }
    }
    return n[0] == n[1] ? n[0] : -1;
}

/* Every point of the plot at `path` is one of the windows `want` (computed
 * here, sorted); when the plot shows them all (n_all points), all of them,
 * once each; and its title's residual (4 digits) is `residual`. */
static void check_plot(const char *path, const plot_pt *want, int n_all, double residual)
{
    plot_pt *got = malloc((size_t)n_all * sizeof *got + 1);
    double title = -1;
    int n = read_plot(path, got, n_all, &title);
    CU_ASSERT_FATAL(n > 0);
    SNNC_ASSERT_CLOSE(title, residual, 5e-4, 1e-9);
    qsort(got, (size_t)n, sizeof *got, pt_cmp);
    int missing = 0;
    for (int i = 0; i < n; i++)
        missing += !bsearch(&got[i], want, (size_t)n_all, sizeof *want, pt_cmp);
    CU_ASSERT_EQUAL(missing, 0);
    int differ = 0;
    for (int i = 0; n == n_all && i < n; i++)
        differ += pt_cmp(&got[i], &want[i]) != 0;
    CU_ASSERT_EQUAL(differ, 0);
    free(got);
}

/* Closed loop: the hidden population's window counts when the whole
 * netlist runs on x, against the constrained ANN's counts: mean signed and
 * mean squared difference; `shift` (-1, 0, +1) moves every hidden leak by
 * a quarter count per window (max(1, alpha / 4W)) first, and back after. */
static void closed_loop_bias(snnc_netlist *n, const snnc_tensor *x, const snnc_count_trace *tr, double *bias,
                             double *mse, int shift)
{
    snnc_population *P = &n->pops[1];
    int W = n->window;
    for (int j = 0; j < P->n; j++)
        P->leak[j] += shift * (P->threshold[j] / (4 * W) > 1 ? P->threshold[j] / (4 * W) : 1);
    snnc_sim_result r;
    snnc_err err = {0};
    CU_ASSERT_EQUAL_FATAL(snnc_netlist_simulate(n, x, true, &r, &err), SNNC_OK);
    double sb = 0, sq = 0;
    int64_t cnt = 0;
    for (int t = 0; t < tr->steps; t++)
        for (int64_t b = 0; b < tr->batch; b++)
            for (int j = 0; j < P->n; j++) {
                double d = r.counts[((size_t)t * r.batch + b) * r.n_neurons + r.pop_offset[1] + j] -
                           tr->cnt[0][((size_t)t * tr->batch + b) * P->n + j];
                sb += d;
                sq += d * d;
                cnt++;
            }
    snnc_sim_result_free(&r);
    for (int j = 0; j < P->n; j++)
        P->leak[j] -= shift * (P->threshold[j] / (4 * W) > 1 ? P->threshold[j] / (4 * W) : 1);
    if (bias)
        *bias = sb / cnt;
    *mse = sq / cnt;
}

static void test_match_residuals(void)
{
    for (int trial = 0; trial < 4; trial++) {
        /* trial 3: a wider, longer, strongly recurrent network */
        int I = 3, H = trial == 3 ? 24 : 6, C = 3, T = trial == 3 ? 8 : 5, B = 64;
        double u_scale = trial == 3 ? 1.2 : 0.6;
        snnc_ann a = {0};
        snnc_ann_layer L[2] = {0};
        snprintf(a.input_name, sizeof a.input_name, "x");
        a.n_inputs = I;
        a.steps = T;
        a.batch_first = true;
        a.n_layers = 2;
        a.layers = L;
        L[0] = (snnc_ann_layer){.role = SNNC_ANN_RECURRENT, .act = SNNC_ACT_RELU, .n_in = I, .n_out = H};
        L[1] = (snnc_ann_layer){.role = SNNC_ANN_READOUT, .act = SNNC_ACT_NONE, .n_in = H, .n_out = C};
        snprintf(L[0].name, sizeof L[0].name, "rnn");
        snprintf(L[1].name, sizeof L[1].name, "fc");
        L[0].W = malloc(sizeof(float) * H * I);
        L[0].U = malloc(sizeof(float) * H * H);
        L[0].b = malloc(sizeof(float) * H);
        L[1].W = malloc(sizeof(float) * C * H);
        L[1].b = malloc(sizeof(float) * C);
        for (int k = 0; k < H * I; k++)
            L[0].W[k] = (float)(2 * tu() - 0.7);
        for (int k = 0; k < H * H; k++)
            L[0].U[k] = (float)(u_scale * (tu() - 0.5));
        for (int k = 0; k < H; k++)
            L[0].b[k] = (float)(0.2 * (tu() - 0.3));
        for (int k = 0; k < C * H; k++)
            L[1].W[k] = (float)(2 * tu() - 1);
        for (int k = 0; k < C; k++)
            L[1].b[k] = (float)(0.2 * (tu() - 0.5));
        snnc_err err = {0};
        snnc_tensor *x = snnc_tensor_new(SNNC_F32, 3, (int64_t[]){B, T, I}, &err);
        for (int k = 0; k < B * T * I; k++)
            snnc_f32(x)[k] = (float)tu();
        snnc_constraints c;
        snnc_constraints_default(&c);
        c.range_search = false; /* ranges at the percentile, per layer, no bias correction:
                                 * the figures below (closed-loop bias, residuals) were
                                 * derived for those */
        c.method_search = c.bias_correct = c.per_neuron_ranges = false;
        snnc_ann *q = NULL;
        snnc_layer_constraints *st = NULL;
        int ns = 0;
        CU_ASSERT_EQUAL_FATAL(snnc_constrain(&a, &c, x, &q, &st, &ns, &err), SNNC_OK);
        snnc_netlist *n = NULL;
        CU_ASSERT_EQUAL_FATAL(snnc_lower(q, st, ns, &n, &err), SNNC_OK);
        snnc_count_trace tr;
        CU_ASSERT_EQUAL_FATAL(snnc_count_forward(q, st, x, &tr, &err), SNNC_OK);
        double before = 0;
        for (int j = 0; j < H; j++)
            before += neuron_mse(&n->pops[1], j, &tr, &st[0], I, n->window, NULL) / H;
        snnc_match_curve *cv = NULL;
        int ncv = 0;
        CU_ASSERT_EQUAL_FATAL(snnc_match(n, q, st, x, &cv, &ncv, &err), SNNC_OK);
        double after = 0;
        plot_pt *hid = malloc(sizeof *hid * H * B * T), *out = malloc(sizeof *out * C * B);
        for (int j = 0; j < H; j++)
            after += neuron_mse(&n->pops[1], j, &tr, &st[0], I, n->window, hid + (size_t)j * B * T) / H;
        CU_ASSERT(after <= before + 1e-12);
        SNNC_ASSERT_CLOSE(n->residual[1], after, 1e-9, 1e-12);
        double bias = 0, mse = 0, mse_lo = 0, mse_hi = 0;
        closed_loop_bias(n, x, &tr, &bias, &mse, 0);
        closed_loop_bias(n, x, &tr, NULL, &mse_lo, -1);
        closed_loop_bias(n, x, &tr, NULL, &mse_hi, 1);
        /* closed loop: the common bias shift leaves no systematic count
         * error (trial 3 is +0.27 counts per window without it) and a
         * quarter count either way does worse */
        CU_ASSERT(fabs(bias) < 0.1);
        CU_ASSERT(mse <= mse_lo && mse <= mse_hi);
        CU_ASSERT(n->residual[1] < 1.0 / 3);
        CU_ASSERT(n->residual[2] < 0.05);
        CU_ASSERT_EQUAL(ncv, 2);
        CU_ASSERT(ncv == 2 && cv[0].n > 0 && cv[1].n > 0);
        for (int j = 0; j < H; j++) {
            const snnc_population *P = &n->pops[1];
            CU_ASSERT(P->mult[j] >= 1 && P->mult[j] <= SNNC_MULT_MAX && abs(P->leak[j]) <= SNNC_LEAK_MAX &&
                      P->threshold[j] >= 1 && P->floor[j] >= 0);
        }
        /* plots and JSON */
        char dir[] = "/tmp/snnc_test_mapperXXXXXX";
        CU_ASSERT_FATAL(mkdtemp(dir) != NULL);
        CU_ASSERT_EQUAL(snnc_plots_write(dir, cv, ncv, &err), SNNC_OK);
        /* each plot's points are windows simulated here, the ANN's count
         * being the quantised ReLU of z' (hidden) or z' itself (readout);
         * trials 0-2 show every window (6 x 64 x 5 and 3 x 64 points),
         * trial 3 a subsample of its 24 x 64 x 8 */
        char path[256];
        snprintf(path, sizeof path, "%s/plots/rnn.svg", dir);
        qsort(hid, (size_t)H * B * T, sizeof *hid, pt_cmp);
        check_plot(path, hid, H * B * T, after);
        remove(path);
        snprintf(path, sizeof path, "%s/plots/fc.svg", dir);
        double out_mse = readout_points(&n->pops[2], &tr, &st[1], H, n->window, out);
        qsort(out, (size_t)C * B, sizeof *out, pt_cmp);
        check_plot(path, out, C * B, out_mse);
        free(hid);
        free(out);
        remove(path);
        snprintf(path, sizeof path, "%s/plots", dir);
        rmdir(path);
        snprintf(path, sizeof path, "%s/network.json", dir);
        CU_ASSERT_EQUAL(snnc_netlist_write_json(n, path, &err), SNNC_OK);
        json_error_t je;
        json_t *root = json_load_file(path, 0, &je);
        CU_ASSERT_PTR_NOT_NULL_FATAL(root);
        CU_ASSERT_EQUAL(json_integer_value(json_object_get(root, "window")), 15);
        /* hidden -> readout has delay W (lag 1 + W): two readout windows */
        CU_ASSERT_EQUAL(json_integer_value(json_object_get(root, "ticks_per_sample")), (T + 2) * 15);
        json_t *pops = json_object_get(root, "populations"), *projs = json_object_get(root, "projections");
        CU_ASSERT_EQUAL(json_array_size(pops), 3);
        CU_ASSERT_EQUAL(json_array_size(projs), 3);
        /* synapse count = non-zero codes of the recurrent projection */
        for (size_t k = 0; k < json_array_size(projs); k++) {
            json_t *pj = json_array_get(projs, k);
            int s = (int)json_integer_value(json_object_get(pj, "src"));
            int d = (int)json_integer_value(json_object_get(pj, "dst"));
            size_t nz = 0;
            for (int e = 0; e < n->pops[d].n * n->pops[s].n; e++)
                nz += n->projs[k].code[e] != 0;
            CU_ASSERT_EQUAL(json_array_size(json_object_get(pj, "synapses")), nz);
        }
        json_t *th = json_object_get(json_array_get(pops, 1), "threshold");
        CU_ASSERT_EQUAL(json_integer_value(json_array_get(th, 0)), n->pops[1].threshold[0]);
        json_decref(root);
        remove(path);
        rmdir(dir);
        snnc_match_curves_free(cv, ncv);
        snnc_count_trace_free(&tr);
        snnc_netlist_free(n);
        snnc_layer_constraints_free(st, ns);
        snnc_ann_free(q);
        snnc_tensor_free(x);
        for (int l = 0; l < 2; l++) {
            free(L[l].W);
            free(L[l].U);
            free(L[l].b);
        }
    }
}

/* ------------------------------------------------------------ split lowering */

/* A split layer's statistics: rows x cols codes, column groups `starts`,
 * per-(row, group) scales. */
static void set_split_stats(snnc_layer_constraints *S, const char *name, int rows, int cols, const int8_t *codes,
                            int groups, const int *starts, const float *scales)
{
    memset(S, 0, sizeof *S);
    snprintf(S->name, sizeof S->name, "%s", name);
    S->n_rows = rows;
    S->n_cols = cols;
    S->n_groups = groups;
    S->group_start = malloc(((size_t)groups + 1) * sizeof(int));
    memcpy(S->group_start, starts, ((size_t)groups + 1) * sizeof(int));
    S->codes = malloc((size_t)rows * cols);
    memcpy(S->codes, codes, (size_t)rows * cols);
    S->scales = malloc((size_t)rows * groups * sizeof(float));
    memcpy(S->scales, scales, (size_t)rows * groups * sizeof(float));
    S->in_range = 1;
    S->activity_range = 1;
}

/* Float weights of columns [col0, col0 + cols): w = s_jg c_ij (ranges 1). */
static float *dequant_split(const snnc_layer_constraints *S, int col0, int cols)
{
    float *w = malloc((size_t)S->n_rows * cols * sizeof *w);
    for (int j = 0; j < S->n_rows; j++)
        for (int i = 0; i < cols; i++) {
            int c = col0 + i, g = 0;
            while (c >= S->group_start[g + 1])
                g++;
            w[j * cols + i] = S->scales[j * S->n_groups + g] * S->codes[j * S->n_cols + c];
        }
    return w;
}

/* 4 inputs, 2 ReLU hidden with fan-in 6 split into the column groups
 * [x0 x1 x2 | x3 h0 h1], a linear readout 2 -> 2 split [h0 | h1].
 * h0 = (x0 + x1) / 8 (group 0, scale 1/8), h1 = (x3 + h0) / 8 (group 1);
 * the other group's scale is 1/4 (unused: its codes are 0), so lowering
 * must take each group's own.  Readout z'_c = 1/2 (2 h0 + h1), 1/2 (h0 + 2 h1). */
static void split_build(tiny *t)
{
    memset(t, 0, sizeof *t);
    snnc_ann *a = &t->a;
    snprintf(a->input_name, sizeof a->input_name, "x");
    snprintf(a->output_name, sizeof a->output_name, "y");
    a->n_inputs = 4;
    a->steps = 3;
    a->batch_first = true;
    a->in_q = (snnc_act_quant){16, 0, 1};
    a->n_layers = 2;
    a->layers = t->L;
    set_split_stats(&t->S[0], "rnn", 2, 6, (int8_t[]){1, 1, 0, 0, 0, 0, 0, 0, 0, 1, 1, 0}, 2, (int[]){0, 3, 6},
                    (float[]){0.125f, 0.25f, 0.25f, 0.125f});
    set_split_stats(&t->S[1], "fc", 2, 2, (int8_t[]){2, 1, 1, 2}, 2, (int[]){0, 1, 2},
                    (float[]){0.5f, 0.5f, 0.5f, 0.5f});
    snnc_ann_layer *h = &t->L[0], *r = &t->L[1];
    snprintf(h->name, sizeof h->name, "rnn");
    h->role = SNNC_ANN_RECURRENT;
    h->act = SNNC_ACT_RELU;
    h->n_in = 4;
    h->n_out = 2;
    h->W = dequant_split(&t->S[0], 0, 4);
    h->U = dequant_split(&t->S[0], 4, 2);
    h->b = calloc(2, sizeof(float));
    h->out_q = (snnc_act_quant){16, 0, 1};
    snprintf(r->name, sizeof r->name, "fc");
    r->role = SNNC_ANN_READOUT;
    r->act = SNNC_ACT_NONE;
    r->n_in = 2;
    r->n_out = 2;
    r->W = dequant_split(&t->S[1], 0, 2);
    r->b = calloc(2, sizeof(float));
}

static int find_proj(const snnc_netlist *n, int src, int dst)
{
    for (int k = 0; k < n->n_projs; k++)
        if (n->projs[k].src == src && n->projs[k].dst == dst)
            return k;
    return -1;
}

/* Structure: per group a partial pair (codes of the group's columns only,
 * negated for sign -1), delay 1 from the input, W - 1 from the final
 * population (the loop partial -> final -> partial is W ticks), partials ->
 * final delay 1 with codes +-1; lags 1 and 2; the readout one membrane
 * population per group. */
static void test_split_structure(void)
{
    tiny t;
    split_build(&t);
    snnc_netlist *n = NULL;
    snnc_err err = {0};
    CU_ASSERT_EQUAL_FATAL(snnc_lower(&t.a, t.S, 2, &n, &err), SNNC_OK);
    /* x | rnn/partial0 +- | rnn/partial1 +- | rnn | fc/group0 | fc/group1 */
    CU_ASSERT_EQUAL_FATAL(n->n_pops, 8);
    int roles[8] = {SNNC_POP_INPUT, SNNC_POP_PARTIAL, SNNC_POP_PARTIAL, SNNC_POP_PARTIAL, SNNC_POP_PARTIAL,
                    SNNC_POP_HIDDEN, SNNC_POP_READOUT, SNNC_POP_READOUT};
    int groups[8] = {0, 0, 0, 1, 1, 0, 0, 1}, lags[8] = {0, 1, 1, 1, 1, 2, 16, 16};
    for (int p = 0; p < 8; p++) {
        CU_ASSERT_EQUAL(n->pops[p].role, roles[p]);
        CU_ASSERT_EQUAL(n->pops[p].group, groups[p]);
        CU_ASSERT_EQUAL(snnc_netlist_lag(n, p), lags[p]);
        CU_ASSERT_EQUAL(snnc_lower_layer_of(n, p), p == 0 ? -1 : p < 6 ? 0 : 1);
    }
    CU_ASSERT_EQUAL(n->pops[2].sign, -1);
    CU_ASSERT_EQUAL(n->readout_windows, 2); /* readout lag 16 > W */
    /* input -> partial0+ : columns x0 x1 x2 of the group only */
    int k = find_proj(n, 0, 1);
    CU_ASSERT_FATAL(k >= 0);
    CU_ASSERT_EQUAL(n->projs[k].delay, 1);
    int8_t want01[8] = {1, 1, 0, 0, 0, 0, 0, 0};
    CU_ASSERT_EQUAL(memcmp(n->projs[k].code, want01, 8), 0);
    /* input -> partial1- : x3 of row 1, negated */
    k = find_proj(n, 0, 4);
    CU_ASSERT_FATAL(k >= 0);
    int8_t want04[8] = {0, 0, 0, 0, 0, 0, 0, -1};
    CU_ASSERT_EQUAL(memcmp(n->projs[k].code, want04, 8), 0);
    /* recurrence rnn -> partial1+ : h0 of row 1, delay W - 1 */
    k = find_proj(n, 5, 3);
    CU_ASSERT_FATAL(k >= 0);
    CU_ASSERT_EQUAL(n->projs[k].delay, 14);
    int8_t want53[4] = {0, 0, 1, 0};
    CU_ASSERT_EQUAL(memcmp(n->projs[k].code, want53, 4), 0);
    /* partials -> final: one-to-one, +1 / -1, delay 1 */
    for (int p = 1; p <= 4; p++) {
        k = find_proj(n, p, 5);
        CU_ASSERT_FATAL(k >= 0);
        CU_ASSERT_EQUAL(n->projs[k].delay, 1);
        int8_t d[4] = {(int8_t)n->pops[p].sign, 0, 0, (int8_t)n->pops[p].sign};
        CU_ASSERT_EQUAL(memcmp(n->projs[k].code, d, 4), 0);
    }
    /* the final population -> readout groups: delay W - 1 (the recurrence's axons) */
    CU_ASSERT_EQUAL(n->projs[find_proj(n, 5, 6)].delay, 14);
    CU_ASSERT_EQUAL(n->projs[find_proj(n, 5, 7)].delay, 14);
    /* partial neurons at the group's own scale over the unit: 1/8 / 1/4 = 1/2 */
    CU_ASSERT_EQUAL(n->pops[1].threshold[0], 2);
    CU_ASSERT_EQUAL(n->pops[1].mult[0], 1);
    CU_ASSERT_EQUAL(n->pops[3].threshold[1], 2);
    /* final: one count per 1/SNNC_PARTIAL_UNIT partial spikes */
    CU_ASSERT_EQUAL(n->pops[5].threshold[0], (int)(1 / SNNC_PARTIAL_UNIT));
    CU_ASSERT_EQUAL(n->pops[5].mult[0], 1);
    snnc_netlist_free(n);
    tiny_free(&t);
}

/* Input counts of the split tests (3 samples x 3 steps x 4 inputs): x0 + x1
 * and x3 + h0 multiples of 8 (below), and the batch as rate-coded values. */
static const float split_grid[3][3][4] = {
    {{4, 4, 0, 0}, {8, 8, 0, 7}, {12, 12, 5, 14}}, /* h0 1 2 3, h1 0 1 2 */
    {{15, 9, 3, 0}, {0, 0, 0, 13}, {0, 8, 1, 8}},  /* h0 3 0 1, h1 0 2 1 */
    {{15, 1, 0, 8}, {7, 9, 0, 6}, {0, 0, 15, 14}}, /* h0 2 2 0, h1 1 1 2 */
};

static snnc_tensor *split_grid_input(void)
{
    float xv[36];
    for (int k = 0; k < 36; k++)
        xv[k] = (&split_grid[0][0][0])[k] / 15.0f;
    return counts_input(3, 3, 4, xv);
}

/* On the grid the split layer is exact.  Derivation: a neuron whose input
 * per tick never exceeds its threshold never owes a spike, so with v0 =
 * threshold / 2 and only excitatory input its count over a window is
 * floor((V + I) / threshold) and V returns to v0 whenever the window's input
 * I is a multiple of the threshold.  Here the partials (threshold 2, at most
 * two inputs of code 1 per tick) get I = x0 + x1 and x3 + h0, the final
 * (threshold 4) at most two partial spikes per tick; inputs are chosen with
 * x0 + x1 and x3 + h0 multiples of 8, so every count is the ANN's: bound 0.
 * The readout (one membrane population per group) sums the groups exactly. */
static void test_split_exact_on_grid(void)
{
    tiny t;
    split_build(&t);
    snnc_netlist *n = NULL;
    snnc_err err = {0};
    CU_ASSERT_EQUAL_FATAL(snnc_lower(&t.a, t.S, 2, &n, &err), SNNC_OK);
    const float (*counts)[3][4] = split_grid;
    snnc_tensor *x = split_grid_input(), *y = NULL, *hid = NULL;
    CU_ASSERT_EQUAL_FATAL(snnc_ann_run(&t.a, x, &y, &hid, &err), SNNC_OK);
    snnc_sim_result r;
    CU_ASSERT_EQUAL_FATAL(snnc_netlist_simulate(n, x, true, &r, &err), SNNC_OK);
    int bad = 0;
    for (int s = 0; s < 3; s++)
        for (int step = 0; step < 3; step++) {
            const int32_t *c = r.counts + ((size_t)step * 3 + s) * r.n_neurons;
            int x0 = (int)counts[s][step][0], x1 = (int)counts[s][step][1], x3 = (int)counts[s][step][3];
            int h0_prev = step ? (int)(counts[s][step - 1][0] + counts[s][step - 1][1]) / 8 : 0;
            for (int j = 0; j < 2; j++) {
                float ann = snnc_f32(hid)[(step * 3 + s) * 2 + j] * 15.0f;
                bad += fabsf(ann - (float)c[r.pop_offset[5] + j]) > 1e-4f;
            }
            /* partial counts: (x0 + x1) / 2 and (x3 + h0) / 2, the negative halves silent */
            bad += c[r.pop_offset[1] + 0] != (x0 + x1) / 2 || c[r.pop_offset[3] + 1] != (x3 + h0_prev) / 2;
            bad += c[r.pop_offset[2] + 0] != 0 || c[r.pop_offset[4] + 1] != 0;
        }
    CU_ASSERT_EQUAL(bad, 0);
    /* scores: sum over the readout's groups, / K = z' = 15 y */
    for (int s = 0; s < 3; s++)
        for (int c = 0; c < 2; c++)
            SNNC_ASSERT_CLOSE(r.scores[s * 2 + c] / n->pops[6].threshold[c], 15 * snnc_f32(y)[s * 2 + c], 0, 1e-4);
    snnc_sim_result_free(&r);
    snnc_tensor_free(y);
    snnc_tensor_free(hid);
    snnc_tensor_free(x);
    snnc_netlist_free(n);
    tiny_free(&t);
}

/* Matching a split network (calibration = the grid samples above): the
 * unit and codes come from the data (every partial's code in 1..7, one unit
 * for the layer's partial and final populations, and a spike of partial j
 * stands for code x unit counts in the final neuron's eyes: the final
 * population's codes are the partial -> final projections'); residuals are
 * finite; the matched network still follows the ANN within one count per
 * window on average (matching only moves neurons towards the ANN's counts;
 * bound: the per-window rounding of the two stages, 1/2 + 1/2). */
static void test_split_match(void)
{
    tiny t;
    split_build(&t);
    snnc_netlist *n = NULL;
    snnc_err err = {0};
    CU_ASSERT_EQUAL_FATAL(snnc_lower(&t.a, t.S, 2, &n, &err), SNNC_OK);
    snnc_tensor *x = split_grid_input(), *y = NULL, *hid = NULL;
    CU_ASSERT_EQUAL_FATAL(snnc_ann_run(&t.a, x, &y, &hid, &err), SNNC_OK);
    CU_ASSERT_EQUAL_FATAL(snnc_match(n, &t.a, t.S, x, NULL, NULL, &err), SNNC_OK);
    for (int p = 1; p <= 5; p++) {
        CU_ASSERT(n->pops[p].unit > 0 && n->pops[p].unit == n->pops[5].unit);
        CU_ASSERT(n->residual[p] >= 0 && n->residual[p] < 1);
    }
    for (int p = 1; p <= 4; p++)
        for (int j = 0; j < 2; j++) {
            int k = find_proj(n, p, 5);
            int c = n->projs[k].code[j * 2 + j] * n->pops[p].sign;
            CU_ASSERT(c >= 1 && c <= SNNC_PARTIAL_CODE_MAX);
            SNNC_ASSERT_CLOSE(snnc_partial_unit(n, p, j), c * n->pops[p].unit, 0, 1e-6);
        }
    snnc_sim_result r;
    CU_ASSERT_EQUAL_FATAL(snnc_netlist_simulate(n, x, true, &r, &err), SNNC_OK);
    double e = 0;
    for (int s = 0; s < 3; s++)
        for (int step = 0; step < 3; step++)
            for (int j = 0; j < 2; j++)
                e += fabs(snnc_f32(hid)[(step * 3 + s) * 2 + j] * 15.0 -
                          r.counts[((size_t)step * 3 + s) * r.n_neurons + r.pop_offset[5] + j]);
    CU_ASSERT(e / 18 <= 1.0);
    snnc_sim_result_free(&r);
    snnc_tensor_free(y);
    snnc_tensor_free(hid);
    snnc_tensor_free(x);
    snnc_netlist_free(n);
    tiny_free(&t);
}

/* A batch is shared out over threads; each sample alone (one thread) gives
 * the same counts, scores, spikes and synaptic events, and so does the
 * batch run twice. */
static void test_batch_equals_samples(void)
{
    tiny t;
    tiny_build(&t, SNNC_ACT_RELU, (int8_t[]){3, -2, 1, 2, -1, 2, 5, -3}, (int8_t[]){2, -1, 1, 3});
    snnc_netlist *n = NULL;
    snnc_err err = {0};
    CU_ASSERT_EQUAL_FATAL(snnc_lower(&t.a, t.S, 2, &n, &err), SNNC_OK);
    enum { B = 7, T = 3, F = 2 };
    float xv[B * T * F];
    for (int k = 0; k < B * T * F; k++)
        xv[k] = (float)((k * 37) % 16) / 15.0f;
    snnc_tensor *x = counts_input(B, T, F, xv);
    snnc_sim_result r, r2;
    CU_ASSERT_EQUAL_FATAL(snnc_netlist_simulate(n, x, true, &r, &err), SNNC_OK);
    CU_ASSERT_EQUAL_FATAL(snnc_netlist_simulate(n, x, true, &r2, &err), SNNC_OK);
    size_t per = (size_t)r.n_neurons;
    CU_ASSERT(memcmp(r.counts, r2.counts, (size_t)T * B * per * sizeof *r.counts) == 0);
    int64_t spikes = 0, events = 0, bad = 0;
    for (int b = 0; b < B; b++) {
        snnc_tensor *xb = counts_input(1, T, F, xv + b * T * F);
        snnc_sim_result rb;
        CU_ASSERT_EQUAL_FATAL(snnc_netlist_simulate(n, xb, true, &rb, &err), SNNC_OK);
        for (int step = 0; step < T; step++)
            for (size_t g = 0; g < per; g++)
                bad += rb.counts[(size_t)step * per + g] != r.counts[((size_t)step * B + b) * per + g];
        for (int c = 0; c < n->n_classes; c++)
            bad += rb.scores[c] != r.scores[b * n->n_classes + c];
        spikes += rb.spikes, events += rb.events;
        snnc_sim_result_free(&rb);
        snnc_tensor_free(xb);
    }
    CU_ASSERT_EQUAL(bad, 0);
    CU_ASSERT_EQUAL(spikes, r.spikes);
    CU_ASSERT_EQUAL(events, r.events);
    CU_ASSERT(r.spikes > 0);
    snnc_sim_result_free(&r);
    snnc_sim_result_free(&r2);
    snnc_tensor_free(x);
    snnc_netlist_free(n);
    tiny_free(&t);
}

static CU_TestInfo tests[] = {
    {"neuron trace (threshold 3, 2 per tick)", test_neuron_trace},
    {"rate encoding counts and phases", test_rate_encoding},
    {"recurrent delay W", test_recurrent_delay},
    {"split pair relu(p) - relu(-p) = p", test_split_pair_exact},
    {"tiny Elman exact on the grid", test_tiny_elman_exact},
    {"tanh signed pair", test_tanh_pair},
    {"tanh pair: codes fit 4 bits (no +8 with -8)", test_tanh_pair_codes_fit_4_bits},
    {"tanh offset-coded: lowering, offsets folded, trace by hand", test_tanh_offset},
    {"offset-coded tanh: v0 for the ticks before window 0, by hand", test_settle_v0},
    {"matching residuals, plots, JSON", test_match_residuals},
    {"split lowering: populations, codes, delays, lags", test_split_structure},
    {"split layer exact on the grid", test_split_exact_on_grid},
    {"split layer matched", test_split_match},
    {"batch over threads = each sample alone", test_batch_equals_samples},
    CU_TEST_INFO_NULL,
};

SNNC_TEST_MAIN("mapper")
