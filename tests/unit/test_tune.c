/* test_tune.c — closed-loop readout tuning (mapper/tune.c) on random Elman
 * networks taken through snnc_constrain, snnc_lower and snnc_match: the
 * distillation objective, recomputed here from its definition (scores and
 * the float network's logits centred over the classes, the scores
 * optimally rescaled, mean squared difference), never goes up and goes
 * down on a strongly recurrent network; only the readout's leaks and
 * incoming codes change, absent synapses stay absent and new codes stay in
 * [-7, 7]; the result is deterministic and does not depend on the readout's
 * starting leaks (they are refitted from the data); bad arguments are
 * refused. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "ir/error.h"
#include "ir/tensor.h"
#include "mapper/mapper.h"

static uint64_t trng = 0x2545f4914f6cdd1dull;
static double tu(void)
{
    trng = trng * 6364136223846793005ull + 1442695040888963407ull;
    return (double)(trng >> 11) * 0x1.0p-53;
}

/* A random Elman network (ReLU recurrence + linear readout) and its input. */
typedef struct net {
    snnc_ann a;
    snnc_ann_layer L[2];
    snnc_tensor *x;
} net;

static void net_build(net *t, int I, int H, int C, int T, int B, double u_scale)
{
    memset(t, 0, sizeof *t);
    snnc_ann *a = &t->a;
    snprintf(a->input_name, sizeof a->input_name, "x");
    a->n_inputs = I;
    a->steps = T;
    a->batch_first = true;
    a->n_layers = 2;
    a->layers = t->L;
    t->L[0] = (snnc_ann_layer){.role = SNNC_ANN_RECURRENT, .act = SNNC_ACT_RELU, .n_in = I, .n_out = H};
    t->L[1] = (snnc_ann_layer){.role = SNNC_ANN_READOUT, .act = SNNC_ACT_NONE, .n_in = H, .n_out = C};
    snprintf(t->L[0].name, sizeof t->L[0].name, "rnn");
    snprintf(t->L[1].name, sizeof t->L[1].name, "fc");
    t->L[0].W = malloc(sizeof(float) * H * I);
    t->L[0].U = malloc(sizeof(float) * H * H);
    t->L[0].b = malloc(sizeof(float) * H);
    t->L[1].W = malloc(sizeof(float) * C * H);
    t->L[1].b = malloc(sizeof(float) * C);
    for (int k = 0; k < H * I; k++)
        t->L[0].W[k] = (float)(2 * tu() - 0.7);
    for (int k = 0; k < H * H; k++)
        t->L[0].U[k] = (float)(u_scale * (tu() - 0.5));
    for (int k = 0; k < H; k++)
        t->L[0].b[k] = (float)(0.2 * (tu() - 0.3));
    for (int k = 0; k < C * H; k++)
        t->L[1].W[k] = (float)(2 * tu() - 1);
    for (int k = 0; k < C; k++)
        t->L[1].b[k] = (float)(0.2 * (tu() - 0.5));
    snnc_err err = {0};
    t->x = snnc_tensor_new(SNNC_F32, 3, (int64_t[]){B, T, I}, &err);
    for (int k = 0; k < B * T * I; k++)
        snnc_f32(t->x)[k] = (float)tu();
}

static void net_free(net *t)
{
    for (int l = 0; l < 2; l++) {
        free(t->L[l].W);
        free(t->L[l].U);
        free(t->L[l].b);
    }
    snnc_tensor_free(t->x);
}

/* Constrained, lowered and matched netlist of t (deterministic). */
static snnc_netlist *netlist_of(const net *t)
{
    snnc_constraints c;
    snnc_constraints_default(&c);
    snnc_ann *q = NULL;
    snnc_layer_constraints *st = NULL;
    int ns = 0;
    snnc_netlist *n = NULL;
    snnc_err err = {0};
    CU_ASSERT_EQUAL_FATAL(snnc_constrain(&t->a, &c, t->x, &q, &st, &ns, &err), SNNC_OK);
    CU_ASSERT_EQUAL_FATAL(snnc_lower(q, st, ns, &n, &err), SNNC_OK);
    CU_ASSERT_EQUAL_FATAL(snnc_match(n, q, st, t->x, NULL, NULL, &err), SNNC_OK);
    snnc_layer_constraints_free(st, ns);
    snnc_ann_free(q);
    return n;
}

static void centre(double *v, int C)
{
    double m = 0;
    for (int k = 0; k < C; k++)
        m += v[k];
    for (int k = 0; k < C; k++)
        v[k] -= m / C;
}

/* The objective from its definition: min over s of mean (s score - logit)^2,
 * both centred over the classes. */
static double objective(const snnc_netlist *n, const net *t)
{
    snnc_err err = {0};
    snnc_sim_result r;
    snnc_tensor *y = NULL;
    CU_ASSERT_EQUAL_FATAL(snnc_netlist_simulate(n, t->x, true, &r, &err), SNNC_OK);
    CU_ASSERT_EQUAL_FATAL(snnc_ann_run(&t->a, t->x, &y, NULL, &err), SNNC_OK);
    int C = n->n_classes;
    double sy = 0, ss = 0, yy = 0, s[16], l[16];
    for (int64_t b = 0; b < r.batch; b++) {
        for (int k = 0; k < C; k++) {
            s[k] = r.scores[b * C + k];
            l[k] = snnc_f32(y)[b * C + k];
        }
        centre(s, C);
        centre(l, C);
        for (int k = 0; k < C; k++)
            sy += s[k] * l[k], ss += s[k] * s[k], yy += l[k] * l[k];
    }
    double e = (yy - sy * sy / ss) / (double)(r.batch * C);
    snnc_sim_result_free(&r);
    snnc_tensor_free(y);
    return e;
}

static bool same_params(const snnc_population *a, const snnc_population *b)
{
    size_t k = (size_t)a->n * sizeof(int32_t);
    return memcmp(a->threshold, b->threshold, k) == 0 && memcmp(a->leak, b->leak, k) == 0 &&
           memcmp(a->mult, b->mult, k) == 0 && memcmp(a->floor, b->floor, k) == 0 && memcmp(a->v0, b->v0, k) == 0;
}

static bool same_netlist(const snnc_netlist *a, const snnc_netlist *b)
{
    for (int p = 0; p < a->n_pops; p++)
        if (a->pops[p].role != SNNC_POP_INPUT && !same_params(&a->pops[p], &b->pops[p]))
            return false;
    for (int k = 0; k < a->n_projs; k++)
        if (memcmp(a->projs[k].code, b->projs[k].code,
                   (size_t)a->pops[a->projs[k].src].n * a->pops[a->projs[k].dst].n) != 0)
            return false;
    return true;
}

static void test_tune_objective(void)
{
    for (int trial = 0; trial < 4; trial++) {
        /* trial 2: wider, longer, strongly recurrent: count noise the readout can absorb;
         * trial 3: 70 hidden units, fan-in split: a readout population per column group */
        int H = trial == 2 ? 24 : trial == 3 ? 70 : 6, T = trial == 2 ? 8 : 5;
        net t;
        net_build(&t, 3, H, 4, T, 96, trial == 2 ? 0.9 : trial == 3 ? 0.2 : 0.6);
        snnc_netlist *n = netlist_of(&t), *ref = netlist_of(&t);
        CU_ASSERT_FATAL(same_netlist(n, ref)); /* the stages before are deterministic */
        double before = objective(n, &t);
        snnc_err err = {0};
        CU_ASSERT_EQUAL_FATAL(snnc_tune(n, &t.a, t.x, &err), SNNC_OK);
        double after = objective(n, &t);
        CU_ASSERT(after <= before);
        if (trial == 2)
            CU_ASSERT(after < 0.9 * before);
        /* only the readout moved; no new synapses; new codes in [-7, 7] */
        int n_readout = 0;
        for (int p = 0; p < n->n_pops; p++) {
            const snnc_population *P = &n->pops[p], *P0 = &ref->pops[p];
            if (P->role == SNNC_POP_READOUT) {
                n_readout++;
                CU_ASSERT(memcmp(P->mult, P0->mult, (size_t)P->n * sizeof(int32_t)) == 0);
                CU_ASSERT(memcmp(P->threshold, P0->threshold, (size_t)P->n * sizeof(int32_t)) == 0);
                for (int j = 0; j < P->n; j++)
                    CU_ASSERT(abs(P->leak[j]) <= SNNC_LEAK_MAX);
            } else if (P->role != SNNC_POP_INPUT) {
                CU_ASSERT(same_params(P, P0));
            }
        }
        CU_ASSERT_EQUAL(n_readout, trial == 3 ? 2 : 1);
        if (trial == 3)
            CU_ASSERT(after < before); /* the split readout is tuned too */
        for (int k = 0; k < n->n_projs; k++) {
            const snnc_projection *pr = &n->projs[k], *p0 = &ref->projs[k];
            for (int e = 0; e < n->pops[pr->src].n * n->pops[pr->dst].n; e++) {
                if (n->pops[pr->dst].role != SNNC_POP_READOUT)
                    CU_ASSERT_EQUAL(pr->code[e], p0->code[e]);
                if (p0->code[e] == 0)
                    CU_ASSERT_EQUAL(pr->code[e], 0);
                if (pr->code[e] != p0->code[e])
                    CU_ASSERT(pr->code[e] >= -7 && pr->code[e] <= 7);
            }
        }
        snnc_netlist_free(n);
        snnc_netlist_free(ref);
        net_free(&t);
    }
}

/* Two tunings of the same netlist agree exactly, and so does one whose
 * readout leaks were first moved by hand: the leaks are refitted. */
static void test_tune_deterministic(void)
{
    net t;
    net_build(&t, 3, 24, 4, 8, 96, 0.9);
    snnc_netlist *a = netlist_of(&t), *b = netlist_of(&t), *c = netlist_of(&t);
    int R = a->n_pops - 1;
    for (int j = 0; j < c->pops[R].n; j++)
        c->pops[R].leak[j] += j % 2 ? 9 : -7;
    snnc_err err = {0};
    CU_ASSERT_EQUAL_FATAL(snnc_tune(a, &t.a, t.x, &err), SNNC_OK);
    CU_ASSERT_EQUAL_FATAL(snnc_tune(b, &t.a, t.x, &err), SNNC_OK);
    CU_ASSERT_EQUAL_FATAL(snnc_tune(c, &t.a, t.x, &err), SNNC_OK);
    CU_ASSERT(same_netlist(a, b));
    CU_ASSERT(same_netlist(a, c));
    snnc_netlist_free(a);
    snnc_netlist_free(b);
    snnc_netlist_free(c);
    net_free(&t);
}

static void test_tune_refuses(void)
{
    net t;
    net_build(&t, 3, 6, 4, 5, 8, 0.6);
    snnc_netlist *n = netlist_of(&t);
    snnc_err err = {0};
    CU_ASSERT_EQUAL(snnc_tune(NULL, &t.a, t.x, &err), SNNC_EUSAGE);
    CU_ASSERT_EQUAL(snnc_tune(n, NULL, t.x, &err), SNNC_EUSAGE);
    CU_ASSERT_EQUAL(snnc_tune(n, &t.a, NULL, &err), SNNC_EUSAGE);
    snnc_netlist_free(n);
    net_free(&t);
}

static CU_TestInfo tests[] = {
    {"objective never worse, only the readout changes", test_tune_objective},
    {"deterministic, independent of the readout's leaks", test_tune_deterministic},
    {"bad arguments refused", test_tune_refuses},
    CU_TEST_INFO_NULL,
};

SNNC_TEST_MAIN("tune")
