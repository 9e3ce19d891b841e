/* test_constrain_method.c — the joint parts of the constraint stage
 * (docs/QUANTIZE.md §4b, §5a, §5b): the pre-activation means and slopes
 * the bias correction measures, the linearised step response of a
 * recurrence, the recurrence-aware bias correction against a closed-loop
 * fixed point derived by hand (and the ordinary correction's overshoot),
 * per-neuron activity ranges as unit rescaling (count-domain weights and
 * quantised activities by hand), the method choice on constructed cases
 * (the lower-KL candidate wins; exact ties keep the baseline) and its
 * determinism.  Networks are built by hand. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ann_fixture.h"
#include "harness.h"
#include "ir/error.h"
#include "ir/tensor.h"
#include "quantize/quantize.h"
#include "quantize/quantize_internal.h"

/* x -> Elman 1 ReLU (w, u = 0.5, b = 0) -> readout [1, -1], 3 steps. */
static snnc_ann *one_unit(float w)
{
    snnc_ann *a = new_ann(1, 3, 2);
    set_layer(a, 0, NULL, SNNC_ANN_RECURRENT, SNNC_ACT_RELU, 1, 1, fdup((float[]){w}, 1), fdup((float[]){0.5f}, 1),
              NULL);
    set_layer(a, 1, NULL, SNNC_ANN_READOUT, SNNC_ACT_NONE, 1, 2, fdup((float[]){1, -1}, 2), NULL, NULL);
    return a;
}

/* ------------------------------------------------------------ measures */

/* Dense ReLU 1 -> 1 (w 1, b 0) quantised on [0, 1]: inputs -1, 0.5, 2
 * give z = -1, 0.5, 2, mean 0.5; slope 0 (ReLU off), 1 (inside), 0
 * (clipped): mean 1/3.  The readout (linear, w 2, b 1): z = 2 h + 1 with
 * h = 0, 0.5 (16 levels on [0, 1]: 0.5 is 7.5/15, halves up: 8/15), 1. */
static void test_preact_means(void)
{
    snnc_ann *a = new_ann(1, 1, 3);
    set_layer(a, 0, NULL, SNNC_ANN_STEP_DENSE, SNNC_ACT_RELU, 1, 1, fdup((float[]){1}, 1), NULL, NULL);
    set_layer(a, 1, NULL, SNNC_ANN_RECURRENT, SNNC_ACT_NONE, 1, 1, fdup((float[]){1}, 1), fdup((float[]){0}, 1), NULL);
    set_layer(a, 2, NULL, SNNC_ANN_READOUT, SNNC_ACT_NONE, 1, 1, fdup((float[]){2}, 1), NULL, fdup((float[]){1}, 1));
    a->layers[0].out_q = (snnc_act_quant){16, 0, 1};
    snnc_tensor *x = tensor3(3, 1, 1, (float[]){-1, 0.5f, 2});
    double m[3][2];
    snnc_ann_preact pre[3];
    for (int l = 0; l < 3; l++)
        pre[l] = (snnc_ann_preact){&m[l][0], &m[l][1], 0};
    snnc_tensor *y = NULL;
    snnc_err err = {0};
    CU_ASSERT_EQUAL_FATAL(snnc_ann_run_preact(a, x, &y, NULL, pre, &err), SNNC_OK);
    SNNC_ASSERT_CLOSE(m[0][0], 0.5, 1e-6, 0);
    SNNC_ASSERT_CLOSE(m[0][1], 1.0 / 3, 1e-6, 0);
    CU_ASSERT_EQUAL(pre[0].rows, 3);
    double h1 = 8.0 / 15;
    SNNC_ASSERT_CLOSE(m[1][0], (0 + h1 + 1) / 3, 1e-6, 0); /* identity recurrence, 1 step */
    SNNC_ASSERT_CLOSE(m[1][1], 1, 1e-12, 0);               /* linear, unquantised */
    SNNC_ASSERT_CLOSE(m[2][0], 2 * (0 + h1 + 1) / 3 + 1, 1e-6, 0);
    snnc_tensor_free(y);
    snnc_tensor_free(x);
    snnc_ann_free(a);
}

/* A = (1/T) sum_{k<T} (T - k) (U D)^k.  U = [[0, .5], [.25, 0]], D = [1,
 * .5]: U D = [[0, .25], [.25, 0]]; T = 2: A = I + U D / 2; T = 3: A = I +
 * (2/3) U D + (1/3) (U D)^2, (U D)^2 = I / 16. */
static void test_step_response(void)
{
    float U[4] = {0, 0.5f, 0.25f, 0};
    double D[2] = {1, 0.5}, A[4];
    CU_ASSERT_EQUAL(snnc_q_step_response(U, D, 2, 2, A), SNNC_OK);
    const double want2[4] = {1, 0.125, 0.125, 1};
    for (int k = 0; k < 4; k++)
        SNNC_ASSERT_CLOSE(A[k], want2[k], 1e-12, 1e-15);
    CU_ASSERT_EQUAL(snnc_q_step_response(U, D, 2, 3, A), SNNC_OK);
    const double want3[4] = {1 + 1.0 / 48, 1.0 / 6, 1.0 / 6, 1 + 1.0 / 48};
    for (int k = 0; k < 4; k++)
        SNNC_ASSERT_CLOSE(A[k], want3[k], 1e-12, 1e-15);
}

/* ------------------------------------------------------------ bias correction */

/* Float: h_t = relu(x + 0.5 h_{t-1}), x = 1 on 3 steps: z = 1, 1.5, 1.75,
 * mean 4.25 / 3.  Constrained: w = 1.1 (a weight error), bias d: every z
 * is (1.1 + d) (1, 1.5, 1.75), mean (1.1 + d) 4.25 / 3: the closed-loop
 * means agree at d = -0.1, which the correction must find (in one
 * iteration: the network is linear there, so the linearised step response
 * A = (3 + 2 (.5) + .25) / 3 = 4.25 / 3 is exact).  The ordinary
 * correction subtracts the mean error e = 0.1 x 4.25 / 3 itself: d =
 * -0.14167, which overshoots by the recurrence's gain.  The readout's
 * means then agree already (h_3 equal): its bias stays 0. */
static void test_bias_correction_hand(void)
{
    snnc_ann *a = one_unit(1.0f), *q = one_unit(1.1f);
    snnc_tensor *x = tensor3(2, 3, 1, (float[]){1, 1, 1, 1, 1, 1});
    snnc_err err = {0};
    CU_ASSERT_EQUAL_FATAL(snnc_q_bias_correct(a, q, x, 1, true, &err), SNNC_OK);
    SNNC_ASSERT_CLOSE(q->layers[0].b[0], -0.1, 1e-5, 1e-6);
    SNNC_ASSERT_CLOSE(q->layers[1].b[0], 0, 0, 1e-5);
    SNNC_ASSERT_CLOSE(q->layers[1].b[1], 0, 0, 1e-5);
    /* more iterations stay at the fixed point */
    CU_ASSERT_EQUAL_FATAL(snnc_q_bias_correct(a, q, x, 3, true, &err), SNNC_OK);
    SNNC_ASSERT_CLOSE(q->layers[0].b[0], -0.1, 1e-5, 1e-6);
    snnc_ann_free(q);

    q = one_unit(1.1f);
    CU_ASSERT_EQUAL_FATAL(snnc_q_bias_correct(a, q, x, 1, false, &err), SNNC_OK);
    SNNC_ASSERT_CLOSE(q->layers[0].b[0], -0.1 * 4.25 / 3, 1e-5, 1e-6);
    snnc_ann_free(q);
    snnc_tensor_free(x);
    snnc_ann_free(a);
}

/* ------------------------------------------------------------ per-neuron ranges */

/* x (0.5 or 1) -> dense ReLU 2 (w 1, 2) -> Elman 1 ReLU (W [1, 1], U 0.5)
 * -> readout [1, -1]; percentile 100.  Unit ranges of the dense layer: 1
 * and 2, the layer's 2: s = [0.5, 1].  The rescaled dense weights are [1 /
 * 0.5, 2 / 1] = [2, 2], the recurrent layer's input weights [1 x 0.5, 1 x
 * 1] = [0.5, 1]; in the count domain (x a_in / a_out, a_in = 2, the range
 * of the rescaled layer) that is [1, 2] / a_out = w_kj a_j / a_out with
 * a_j = 1, 2.  The constrained dense units count their own range in 15
 * steps: x = 0.5 gives h = 0.5, 1 in float, 0.5 / (1/15) = 7.5 -> 8 and
 * 1 / (2/15) = 7.5 -> 8 counts, i.e. 16/15 and 16/15 in the rescaled
 * units (range 2). */
static void test_per_neuron_ranges(void)
{
    snnc_ann *a = new_ann(1, 2, 3);
    set_layer(a, 0, NULL, SNNC_ANN_STEP_DENSE, SNNC_ACT_RELU, 1, 2, fdup((float[]){1, 2}, 2), NULL, NULL);
    set_layer(a, 1, NULL, SNNC_ANN_RECURRENT, SNNC_ACT_RELU, 2, 1, fdup((float[]){1, 1}, 2), fdup((float[]){0.5f}, 1),
              NULL);
    set_layer(a, 2, NULL, SNNC_ANN_READOUT, SNNC_ACT_NONE, 1, 2, fdup((float[]){1, -1}, 2), NULL, NULL);
    snnc_tensor *x = tensor3(2, 2, 1, (float[]){0.5f, 1, 1, 0.5f});
    snnc_constraints c;
    snnc_constraints_default(&c);
    c.weight_levels = 0;
    c.percentile = 100;
    c.range_search = c.method_search = c.bias_correct = false;
    c.per_neuron_ranges = true;
    snnc_ann *q = NULL;
    snnc_layer_constraints *S = NULL;
    int n = 0;
    snnc_err err = {0};
    CU_ASSERT_EQUAL_FATAL(snnc_constrain(a, &c, x, &q, &S, &n, &err), SNNC_OK);
    CU_ASSERT_PTR_NOT_NULL_FATAL(S[0].unit_scale);
    SNNC_ASSERT_CLOSE(S[0].unit_scale[0], 0.5, 1e-6, 0);
    SNNC_ASSERT_CLOSE(S[0].unit_scale[1], 1, 1e-6, 0);
    SNNC_ASSERT_CLOSE(S[0].activity_range, 2, 1e-6, 0);
    SNNC_ASSERT_CLOSE(q->layers[0].W[0], 2, 1e-6, 0);
    SNNC_ASSERT_CLOSE(q->layers[0].W[1], 2, 1e-6, 0);
    SNNC_ASSERT_CLOSE(q->layers[1].W[0], 0.5, 1e-6, 0);
    SNNC_ASSERT_CLOSE(q->layers[1].W[1], 1, 1e-6, 0);
    SNNC_ASSERT_CLOSE(q->layers[1].U[0], 0.5, 1e-6, 0); /* s of the recurrent unit: its own range */
    double a_out = S[1].activity_range;
    SNNC_ASSERT_CLOSE(S[1].in_range, 2, 1e-6, 0);
    for (int j = 0; j < 2; j++) /* count domain: w_kj a_j / a_out */
        SNNC_ASSERT_CLOSE(q->layers[1].W[j] * S[1].in_range / a_out, (j ? 2.0 : 1.0) / a_out, 1e-6, 0);
    /* the float view in the constrained units: the same outputs, q's weights */
    snnc_ann *v = snnc_constrain_float_view(a, S, n);
    snnc_tensor *ya = NULL, *yv = NULL;
    CU_ASSERT_EQUAL_FATAL(snnc_ann_run(a, x, &ya, NULL, &err), SNNC_OK);
    CU_ASSERT_EQUAL_FATAL(snnc_ann_run(v, x, &yv, NULL, &err), SNNC_OK);
    for (int k = 0; k < 4; k++)
        SNNC_ASSERT_CLOSE(snnc_f32(yv)[k], snnc_f32(ya)[k], 1e-6, 1e-6);
    SNNC_ASSERT_CLOSE(v->layers[0].W[0], 2, 1e-6, 0);
    SNNC_ASSERT_CLOSE(v->layers[1].W[0], 0.5, 1e-6, 0);
    /* quantised dense activities: 8 counts of each unit's own step */
    for (int j = 0; j < 2; j++) {
        float z = q->layers[0].W[j] * 0.5f;
        SNNC_ASSERT_CLOSE(snnc_act_quantize(&q->layers[0].out_q, z), 16.0 / 15, 1e-6, 0);
    }
    snnc_tensor_free(ya);
    snnc_tensor_free(yv);
    snnc_ann_free(v);
    snnc_ann_free(q);
    snnc_layer_constraints_free(S, n);
    snnc_tensor_free(x);
    snnc_ann_free(a);
}

/* ------------------------------------------------------------ method choice */

/* Two dense units of ranges 1 and 4 (w 1, 4 on x in [0, 1]); the readout
 * reads the small one only (logits 20 h and 2: the class changes at h =
 * 0.1).  One range per layer (4, 15 levels: step 4/15) leaves the small
 * unit 4 levels, an error of up to 2/15 in h, 2.7 in the logit; with
 * per-neuron ranges (s = 1/4, the clamp's limit) it keeps 15 levels of its
 * own, a quarter of that error.  The method search must choose a
 * per-neuron candidate, whose KL is the least of those searched, and do
 * the same twice (determinism). */
static snnc_ann *two_ranges(void)
{
    snnc_ann *a = new_ann(1, 2, 3);
    set_layer(a, 0, NULL, SNNC_ANN_STEP_DENSE, SNNC_ACT_RELU, 1, 2, fdup((float[]){1, 4}, 2), NULL, NULL);
    set_layer(a, 1, NULL, SNNC_ANN_RECURRENT, SNNC_ACT_RELU, 2, 2, fdup((float[]){1, 0, 0, 1}, 4),
              fdup((float[]){0, 0, 0, 0}, 4), NULL);
    set_layer(a, 2, NULL, SNNC_ANN_READOUT, SNNC_ACT_NONE, 2, 2, fdup((float[]){20, 0, 0, 0}, 4), NULL,
              fdup((float[]){0, 2}, 2));
    return a;
}

static void test_method_choice(void)
{
    snnc_ann *a = two_ranges();
    float xv[64 * 2];
    for (int k = 0; k < 64 * 2; k++)
        xv[k] = (float)((k * 37) % 64) / 63.0f;
    snnc_tensor *x = tensor3(64, 2, 1, xv);
    snnc_constraints c;
    snnc_constraints_default(&c);
    snnc_ann *q[2] = {NULL, NULL};
    snnc_layer_constraints *S[2] = {NULL, NULL};
    int n = 0;
    snnc_err err = {0};
    for (int r = 0; r < 2; r++)
        CU_ASSERT_EQUAL_FATAL(snnc_constrain(a, &c, x, &q[r], &S[r], &n, &err), SNNC_OK);
    const snnc_constrain_method *m = &S[0][0].method;
    CU_ASSERT(m->n_candidates >= 4);
    CU_ASSERT_PTR_NOT_NULL(strstr(m->name[m->chosen], "per-neuron"));
    CU_ASSERT_PTR_NOT_NULL(S[0][0].unit_scale);
    CU_ASSERT(m->kl[m->chosen] >= 0 && m->kl[m->chosen] < m->kl[0]);
    for (int k = 0; k < m->n_candidates; k++)
        CU_ASSERT(m->kl[k] < 0 || m->kl[k] >= m->kl[m->chosen]);
    CU_ASSERT(m->agreement[m->chosen] >= m->agreement[0]);
    /* determinism: the same network and record */
    for (int l = 0; l < 3; l++) {
        const snnc_ann_layer *L0 = &q[0]->layers[l], *L1 = &q[1]->layers[l];
        CU_ASSERT(memcmp(L0->W, L1->W, (size_t)L0->n_in * L0->n_out * sizeof(float)) == 0);
        CU_ASSERT(memcmp(L0->b, L1->b, (size_t)L0->n_out * sizeof(float)) == 0);
        CU_ASSERT(memcmp(&L0->out_q, &L1->out_q, sizeof L0->out_q) == 0);
    }
    CU_ASSERT(memcmp(m, &S[1][0].method, sizeof *m) == 0);
    for (int r = 0; r < 2; r++) {
        snnc_ann_free(q[r]);
        snnc_layer_constraints_free(S[r], n);
    }

    /* Nothing quantised: every candidate is exact (KL 0), none is
     * significantly lower: the baseline is kept. */
    c.weight_levels = c.activity_levels = 0;
    CU_ASSERT_EQUAL_FATAL(snnc_constrain(a, &c, x, &q[0], &S[0], &n, &err), SNNC_OK);
    CU_ASSERT_EQUAL(S[0][0].method.chosen, 0);
    CU_ASSERT_STRING_EQUAL(S[0][0].method.name[0], "compensate");
    SNNC_ASSERT_CLOSE(S[0][0].method.kl[0], 0, 0, 1e-9);
    snnc_ann_free(q[0]);
    snnc_layer_constraints_free(S[0], n);
    snnc_tensor_free(x);
    snnc_ann_free(a);
}

static CU_TestInfo tests[] = {
    {"pre-activation means and slopes", test_preact_means},
    {"step response of a linearised recurrence", test_step_response},
    {"recurrence-aware bias correction, by hand", test_bias_correction_hand},
    {"per-neuron ranges: count-domain weights by hand", test_per_neuron_ranges},
    {"method choice: lower KL wins, ties keep the baseline", test_method_choice},
    CU_TEST_INFO_NULL,
};

SNNC_TEST_MAIN("constrain_method")
