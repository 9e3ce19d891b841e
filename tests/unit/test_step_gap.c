/* test_step_gap.c — the per-step gap between the constrained network and the
 * ideal spiking netlist (mapper/step_gap.c) on a network and netlist built
 * by hand, every count derived below by hand: one ReLU Elman neuron
 * z' = 0.4 (x + h) (window 3) and its spiking realisation (mult 2 per input
 * or recurrent spike, threshold 5, no leak), whose leftover potential is
 * carried across windows, so its counts differ from the rounded ones at
 * known steps; a readout of two classes. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "ir/error.h"
#include "ir/tensor.h"
#include "mapper/mapper.h"

enum { W = 3, T = 4, B = 2 };

typedef struct fixture {
    snnc_ann q;
    snnc_ann_layer L[2];
    snnc_layer_constraints S[2];
    snnc_netlist *n;
    snnc_tensor *x;
} fixture;

static void stats_set(snnc_layer_constraints *S, int rows, int cols, const int8_t *codes, const float *scales)
{
    memset(S, 0, sizeof *S);
    S->activity_range = W; /* b' = b W / range = b */
    S->n_rows = rows;
    S->n_cols = cols;
    S->n_groups = 1;
    S->group_start = malloc(2 * sizeof *S->group_start);
    S->group_start[0] = 0, S->group_start[1] = cols;
    S->codes = malloc((size_t)rows * cols);
    memcpy(S->codes, codes, (size_t)rows * cols);
    S->scales = malloc((size_t)rows * sizeof *S->scales);
    memcpy(S->scales, scales, (size_t)rows * sizeof *S->scales);
}

static snnc_population *pop(snnc_netlist *n, const char *name, snnc_pop_role role, int size)
{
    snnc_population *p = &n->pops[n->n_pops++];
    snprintf(p->name, sizeof p->name, "%s", name);
    snprintf(p->tensor, sizeof p->tensor, "%s", name);
    p->role = role;
    p->sign = 1;
    p->n = size;
    p->input_scale = 1.0f;
    if (role != SNNC_POP_INPUT) {
        p->threshold = calloc((size_t)size, 4);
        p->leak = calloc((size_t)size, 4);
        p->mult = calloc((size_t)size, 4);
        p->floor = calloc((size_t)size, 4);
        p->v0 = calloc((size_t)size, 4);
    }
    return p;
}

static void proj(snnc_netlist *n, int src, int dst, int delay, const int8_t *codes, size_t k)
{
    snnc_projection *pr = &n->projs[n->n_projs++];
    *pr = (snnc_projection){src, dst, delay, malloc(k)};
    memcpy(pr->code, codes, k);
}

/* Constrained: input counts x (in_q: 4 levels on [0, 3], one count per
 * unit); hidden z' = 0.4 x + 0.4 h, ReLU; readout z'_0 = 1 (bias),
 * z'_1 = h_T.  Netlist: input -> hidden (delay 1, code 1, mult 2,
 * threshold 5), hidden -> hidden (delay W, code 1), hidden -> readout
 * (delay 1): class 0 a leak of 1 per tick (score 3), class 1 mult 4 per
 * hidden spike in its last window.  Sample 0 sees x = 1, sample 1 x = 3. */
static void fixture_init(fixture *f)
{
    memset(f, 0, sizeof *f);
    snnc_ann *q = &f->q;
    q->n_inputs = 1, q->steps = T, q->batch_first = true;
    q->in_q = (snnc_act_quant){W + 1, 0, W};
    q->n_layers = 2, q->layers = f->L;
    f->L[0] = (snnc_ann_layer){.role = SNNC_ANN_RECURRENT, .act = SNNC_ACT_RELU, .n_in = 1, .n_out = 1};
    f->L[1] = (snnc_ann_layer){.role = SNNC_ANN_READOUT, .act = SNNC_ACT_NONE, .n_in = 1, .n_out = 2};
    snprintf(f->L[0].name, sizeof f->L[0].name, "rnn");
    snprintf(f->L[1].name, sizeof f->L[1].name, "fc");
    f->L[0].b = calloc(1, sizeof(float));
    f->L[1].b = calloc(2, sizeof(float));
    f->L[1].b[0] = 1;
    stats_set(&f->S[0], 1, 2, (int8_t[]){1, 1}, (float[]){0.4f});
    stats_set(&f->S[1], 2, 1, (int8_t[]){0, 1}, (float[]){1, 1});

    snnc_netlist *n = f->n = calloc(1, sizeof *n);
    n->window = W, n->steps = T, n->readout_windows = 1, n->n_classes = 2;
    n->weight_levels = 16, n->activity_levels = W + 1;
    n->pops = calloc(3, sizeof *n->pops);
    n->projs = calloc(3, sizeof *n->projs);
    n->residual = calloc(3, sizeof *n->residual);
    pop(n, "x", SNNC_POP_INPUT, 1);
    snnc_population *h = pop(n, "rnn", SNNC_POP_HIDDEN, 1);
    h->threshold[0] = 5, h->mult[0] = 2;
    snnc_population *r = pop(n, "fc", SNNC_POP_READOUT, 2);
    r->threshold[0] = r->threshold[1] = 1000;
    r->leak[0] = 1, r->mult[1] = 4;
    proj(n, 0, 1, 1, (int8_t[]){1}, 1);
    proj(n, 1, 1, W, (int8_t[]){1}, 1);
    proj(n, 1, 2, 1, (int8_t[]){0, 1}, 2);

    snnc_err err = {0};
    f->x = snnc_tensor_new(SNNC_F32, 3, (int64_t[]){B, T, 1}, &err);
    for (int t = 0; t < T; t++)
        snnc_f32(f->x)[t] = 1, snnc_f32(f->x)[T + t] = 3;
}

static void fixture_free(fixture *f)
{
    for (int l = 0; l < 2; l++) {
        free(f->L[l].b);
        free(f->S[l].group_start), free(f->S[l].codes), free(f->S[l].scales);
    }
    snnc_netlist_free(f->n);
    snnc_tensor_free(f->x);
}

/* By hand.  Constrained counts: sample 0 round(0.4 (1 + h)) = 0 at every
 * step; sample 1 round(1.2) = 1, round(1.6) = 2, round(2.0) = 2, 2.
 * Netlist (input spikes arrive one tick after their phase, a spike of tick
 * k returns at k + 3): sample 0 V = 2, 4, 6 -> spike at tick 7 (window 2),
 * V = 1, then tick 10: 1 + 2 + 2 = 5 -> spike (window 3): counts 0 0 1 1;
 * sample 1 (3 input spikes per window) spikes at ticks 3 | 5 | 7, 8 |
 * 10, 11: counts 1 1 2 2.  One-step rule on the netlist's own inputs:
 * sample 0 round(0.4), 0.4, 0.4, round(0.8) = 0 0 0 1; sample 1 round(1.2),
 * round(0.4 (3 + 1)) = 2, 2, round(0.4 (3 + 2)) = 2: 1 2 2 2.  So the
 * differences are (sample 0, sample 1): step 0 (0, 0), 1 (0, 1), 2 (1, 0),
 * 3 (1, 0), signed (netlist minus constrained) (0, -1) at step 1, else
 * +1 where they differ; one-step (0, 0), (0, 1), (1, 0), (0, 0): step 3's difference
 * is carried from step 2, not made there.  Mean |count| 0.5, 1, 1, 1.
 * Classes: constrained 0 (1 > 0), 1 (2 > 1); ideal: class 1's score is 4
 * per hidden spike of the last window (sample 0: 1 -> 4 > 3; sample 1: 2
 * -> 8 > 3): 1, 1, so they agree on half the samples. */
static void test_gap_by_hand(void)
{
    fixture f;
    fixture_init(&f);
    snnc_err err = {0};
    snnc_count_trace tr;
    snnc_sim_result r;
    snnc_step_gap g;
    CU_ASSERT_FATAL(snnc_count_forward(&f.q, f.S, f.x, &tr, &err) == SNNC_OK);
    CU_ASSERT_FATAL(snnc_netlist_simulate(f.n, f.x, true, &r, &err) == SNNC_OK);
    const double cnt0[T] = {0, 0, 1, 1}, cnt1[T] = {1, 1, 2, 2};
    for (int t = 0; t < T; t++) { /* the simulation is what was derived */
        CU_ASSERT_EQUAL(r.counts[((size_t)t * B + 0) * r.n_neurons + 1], cnt0[t]);
        CU_ASSERT_EQUAL(r.counts[((size_t)t * B + 1) * r.n_neurons + 1], cnt1[t]);
    }
    CU_ASSERT_FATAL(snnc_step_gap_measure(f.n, &f.q, f.S, &tr, &r, &g, &err) == SNNC_OK);
    CU_ASSERT_EQUAL_FATAL(g.n_layers, 1);
    CU_ASSERT_EQUAL(g.steps, T);
    CU_ASSERT_STRING_EQUAL(g.layers[0].name, "rnn");
    const double mean[T] = {0.5, 1, 1, 1}, mae[T] = {0, 0.5, 0.5, 0.5}, exact[T] = {1, 0.5, 0.5, 0.5};
    const double one[T] = {0, 0.5, 0.5, 0}, one_exact[T] = {1, 0.5, 0.5, 1};
    const double bias[T] = {0, -0.5, 0.5, 0.5}; /* signed: sample 1 one short at step 1 */
    for (int t = 0; t < T; t++) {
        const snnc_step_gap_layer *L = &g.layers[0];
        SNNC_ASSERT_CLOSE(L->mean_count[t], mean[t], 0, 1e-12);
        SNNC_ASSERT_CLOSE(L->bias[t], bias[t], 0, 1e-12);
        SNNC_ASSERT_CLOSE(L->mae[t], mae[t], 0, 1e-12);
        SNNC_ASSERT_CLOSE(L->rms[t], t ? sqrt(0.5) : 0, 0, 1e-12);
        SNNC_ASSERT_CLOSE(L->exact[t], exact[t], 0, 1e-12);
        SNNC_ASSERT_CLOSE(L->one_step[t], one[t], 0, 1e-12);
        SNNC_ASSERT_CLOSE(L->one_step_exact[t], one_exact[t], 0, 1e-12);
    }
    SNNC_ASSERT_CLOSE(g.class_agreement, 0.5, 0, 1e-12);

    /* JSON: the same numbers, arrays over the steps. */
    json_t *j = snnc_step_gap_json(&g);
    CU_ASSERT_FATAL(j != NULL);
    CU_ASSERT_EQUAL(json_integer_value(json_object_get(j, "samples")), B);
    CU_ASSERT_EQUAL(json_integer_value(json_object_get(j, "steps")), T);
    SNNC_ASSERT_CLOSE(json_number_value(json_object_get(j, "class_agreement")), 0.5, 0, 1e-12);
    const json_t *L = json_array_get(json_object_get(j, "layers"), 0);
    CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(L, "layer")), "rnn");
    const char *keys[] = {"mean_count", "bias", "mae", "rms", "exact", "one_step_mae", "one_step_exact"};
    for (int k = 0; k < 7; k++)
        CU_ASSERT_EQUAL(json_array_size(json_object_get(L, keys[k])), T);
    SNNC_ASSERT_CLOSE(json_number_value(json_array_get(json_object_get(L, "one_step_mae"), 2)), 0.5, 0, 1e-9);
    SNNC_ASSERT_CLOSE(json_number_value(json_array_get(json_object_get(L, "rms"), 3)), sqrt(0.5), 0, 1e-6);
    SNNC_ASSERT_CLOSE(json_number_value(json_array_get(json_object_get(L, "bias"), 1)), -0.5, 0, 1e-9);
    json_decref(j);
    snnc_step_gap_free(&g);
    snnc_sim_result_free(&r);
    snnc_count_trace_free(&tr);
    fixture_free(&f);
}

/* A trace of another batch or length is refused, not read out of bounds. */
static void test_gap_shape_mismatch(void)
{
    fixture f;
    fixture_init(&f);
    snnc_err err = {0};
    snnc_count_trace tr;
    snnc_sim_result r;
    snnc_step_gap g;
    CU_ASSERT_FATAL(snnc_count_forward(&f.q, f.S, f.x, &tr, &err) == SNNC_OK);
    CU_ASSERT_FATAL(snnc_netlist_simulate(f.n, f.x, true, &r, &err) == SNNC_OK);
    tr.batch = B - 1;
    CU_ASSERT_EQUAL(snnc_step_gap_measure(f.n, &f.q, f.S, &tr, &r, &g, &err), SNNC_EUSAGE);
    CU_ASSERT(strstr(err.msg, "step gap") != NULL);
    CU_ASSERT_PTR_NULL(g.layers);
    tr.batch = B;
    snnc_sim_result_free(&r);
    snnc_count_trace_free(&tr);
    fixture_free(&f);
}

static CU_TestInfo tests[] = {
    {"per-step gap derived by hand (carried potential)", test_gap_by_hand},
    {"trace and simulation of different shapes refused", test_gap_shape_mismatch},
    CU_TEST_INFO_NULL,
};

SNNC_TEST_MAIN("step_gap")
