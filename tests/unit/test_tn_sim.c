/* test_tn_sim.c — the TrueNorth simulator (truenorth/tn_sim.c) and power
 * model (truenorth/tn_power.c): hand-derived traces of every reset, leak,
 * threshold and negative-threshold mode, saturation, the timing contract
 * (relay across cores, delays 1..15), the documented PRNG (exact draws and
 * statistics), a plain every-neuron-every-tick reference simulator written
 * from docs/TRUENORTH.md compared on random networks in all modes, thread-
 * count independence, and the one-core power figure (~17 uW). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "ir/error.h"
#include "truenorth/tn_sim.h"

/* ------------------------------------------------------------ models */

static tn_neuron_type base_type(void)
{
    tn_neuron_type t;
    memset(&t, 0, sizeof t);
    snprintf(t.name, sizeof t.name, "test");
    for (int g = 0; g < TN_AXON_TYPES; g++)
        t.sigma[g] = 1;
    t.sigma_lambda = 1;
    t.sigma_VR = 1;
    t.alpha = 1;
    return t;
}

/* n_cores cores with ids 0..n-1, one crossbar each (all axons type 0, no
 * synapse), no neuron used, every destination leaving the model. */
static tn_model *model_new(int n_cores, int n_types)
{
    tn_model *m = calloc(1, sizeof *m);
    m->n_cores = m->n_crossbars = n_cores;
    m->n_types = n_types;
    m->cores = calloc((size_t)n_cores, sizeof *m->cores);
    m->crossbars = calloc((size_t)n_cores, sizeof *m->crossbars);
    m->types = calloc((size_t)n_types, sizeof *m->types);
    for (int k = 0; k < n_types; k++)
        m->types[k] = base_type();
    for (int c = 0; c < n_cores; c++) {
        tn_core *core = &m->cores[c];
        core->id = c;
        core->crossbar = c;
        core->rng_seed = 12345u + (uint32_t)c;
        for (int j = 0; j < TN_NEURONS; j++) {
            core->type[j] = -1;
            core->dest_core[j] = -1;
            core->dest_delay[j] = 1;
        }
    }
    return m;
}

static void model_free(tn_model *m)
{
    free(m->cores);
    free(m->crossbars);
    free(m->types);
    free(m);
}

static void connect(tn_model *m, int core, int axon, int neuron)
{
    m->crossbars[m->cores[core].crossbar].row[axon][neuron >> 6] |= 1ull << (neuron & 63);
}

/* ------------------------------------------------------------ traces */

/* One neuron (core 0, neuron 0, type 0) with axon 0 -> neuron 0; axon 0
 * receives a spike in each tick t < n_ticks with drive[t] != 0.  Runs one
 * tick at a time and records the potential after each tick and whether the
 * neuron fired. */
static void trace(const tn_neuron_type *t, int n_ticks, const int *drive, int32_t *v, int *fired)
{
    tn_model *m = model_new(1, 1);
    m->types[0] = *t;
    m->cores[0].type[0] = 0;
    connect(m, 0, 0, 0);
    tn_sim *s = NULL;
    snnc_err err = {0};
    CU_ASSERT_EQUAL_FATAL(tn_sim_new(m, 1, &s, &err), SNNC_OK);
    for (int k = 0; k < n_ticks; k++) {
        tn_input_spike in = {k, 0, 0};
        tn_output_spike *out = NULL;
        size_t n_out = 0;
        CU_ASSERT_EQUAL(tn_sim_run(s, 1, &in, drive && drive[k] ? 1 : 0, &out, &n_out, NULL, &err),
                        SNNC_OK);
        v[k] = tn_sim_potential(s, 0, 0);
        fired[k] = (int)n_out;
        free(out);
    }
    tn_sim_free(s);
    model_free(m);
}

static void expect_trace(const tn_neuron_type *t, int n, const int *drive, const int32_t *ev,
                         const int *ef)
{
    int32_t v[64];
    int f[64];
    trace(t, n, drive, v, f);
    for (int k = 0; k < n; k++) {
        if (v[k] != ev[k] || f[k] != ef[k])
            fprintf(stderr, "\n  tick %d: V %d (expected %d), fired %d (expected %d)", k, v[k],
                    ev[k], f[k], ef[k]);
        CU_ASSERT_EQUAL(v[k], ev[k]);
        CU_ASSERT_EQUAL(f[k], ef[k]);
    }
}

static const int always[64] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
                               1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1};

static void test_reset_gamma0(void)
{
    tn_neuron_type t = base_type();
    t.s[0] = 2, t.alpha = 5, t.gamma = 0, t.VR = 2; /* R = 2^2 - 1 = 3 */
    /* V: 2, 4, 6 >= 5 fire -> R=3, 3+2=5 fire -> 3, 5 fire -> 3 */
    expect_trace(&t, 5, always, (int32_t[]){2, 4, 3, 3, 3}, (int[]){0, 0, 1, 1, 1});
    /* R = -3: after the reset V = -1, 1, 3, 5 (fire) ...; beta large */
    t.sigma_VR = -1, t.beta = 100;
    expect_trace(&t, 7, always, (int32_t[]){2, 4, -3, -1, 1, 3, -3}, (int[]){0, 0, 1, 0, 0, 0, 1});
}

static void test_reset_gamma1(void)
{
    tn_neuron_type t = base_type();
    t.s[0] = 2, t.alpha = 5, t.gamma = 1, t.beta = 100, t.VR = 4; /* R unused */
    /* 2, 4, 6 fire -> 1, 3, 5 fire -> 0, 2, 4, 6 fire -> 1 */
    expect_trace(&t, 8, always, (int32_t[]){2, 4, 1, 3, 0, 2, 4, 1}, (int[]){0, 0, 1, 0, 1, 0, 0, 1});
}

static void test_reset_gamma2(void)
{
    tn_neuron_type t = base_type();
    t.s[0] = 2, t.alpha = 5, t.gamma = 2, t.VR = 4;
    /* input in ticks 0..4 only; without reset V stays above alpha: fires every tick */
    expect_trace(&t, 7, (int[]){1, 1, 1, 1, 1, 0, 0}, (int32_t[]){2, 4, 6, 8, 10, 10, 10},
                 (int[]){0, 0, 1, 1, 1, 1, 1});
}

static void test_negative_threshold(void)
{
    tn_neuron_type t = base_type();
    t.sigma[0] = -1, t.s[0] = 2, t.alpha = 100, t.beta = 5;
    /* kappa 1: saturate at -beta */
    t.kappa = 1, t.gamma = 1;
    expect_trace(&t, 4, always, (int32_t[]){-2, -4, -5, -5}, (int[]){0, 0, 0, 0});
    /* kappa 0, gamma 1: mirrored linear reset V + beta */
    t.kappa = 0, t.gamma = 1;
    expect_trace(&t, 6, always, (int32_t[]){-2, -4, -1, -3, -5, -2}, (int[]){0, 0, 0, 0, 0, 0});
    /* kappa 0, gamma 0: mirrored reset to -R (R = 3) */
    t.gamma = 0, t.VR = 2;
    expect_trace(&t, 5, always, (int32_t[]){-2, -4, -3, -5, -3}, (int[]){0, 0, 0, 0, 0});
    /* kappa 0, gamma 2: unchanged */
    t.gamma = 2;
    expect_trace(&t, 4, always, (int32_t[]){-2, -4, -6, -8}, (int[]){0, 0, 0, 0});
    /* kappa 1 wins over every gamma */
    t.kappa = 1, t.gamma = 0;
    expect_trace(&t, 4, always, (int32_t[]){-2, -4, -5, -5}, (int[]){0, 0, 0, 0});
}

static void test_leak_modes(void)
{
    tn_neuron_type t = base_type();
    t.alpha = 100, t.beta = 100, t.V = 10, t.lambda = 3, t.sigma_lambda = -1;
    /* epsilon 0: constant leak -3 */
    expect_trace(&t, 5, NULL, (int32_t[]){7, 4, 1, -2, -5}, (int[]){0, 0, 0, 0, 0});
    /* epsilon 1, sigma -1: towards zero, Omega = -sgn(V): overshoots and rings */
    t.epsilon = 1;
    expect_trace(&t, 7, NULL, (int32_t[]){7, 4, 1, -2, 1, -2, 1}, (int[]){0, 0, 0, 0, 0, 0, 0});
    /* epsilon 1, sigma +1: away from zero */
    t.sigma_lambda = 1, t.V = -4;
    expect_trace(&t, 3, NULL, (int32_t[]){-7, -10, -13}, (int[]){0, 0, 0});
    t.V = 0; /* sgn(0) = 0: no leak */
    expect_trace(&t, 3, NULL, (int32_t[]){0, 0, 0}, (int[]){0, 0, 0});
    /* integrate before leak: V 0 + 2 = 2, then leak -sgn(2) = -1 -> 1 (leak first: 0 + 0 + 2 = 2) */
    t = base_type();
    t.s[0] = 2, t.alpha = 100, t.beta = 100, t.lambda = 1, t.sigma_lambda = -1, t.epsilon = 1;
    expect_trace(&t, 2, always, (int32_t[]){1, 2}, (int[]){0, 0});
    /* threshold after leak: 2 - 1 = 1 < alpha 2, no spike; then 1 + 2 - 1 = 2 fires */
    t.epsilon = 0, t.alpha = 2, t.gamma = 1;
    expect_trace(&t, 2, always, (int32_t[]){1, 0}, (int[]){0, 1});
}

/* Deterministic constant leak, checked at arbitrary times against the
 * closed form (the simulator updates such neurons only when they cross a
 * threshold, and re-checks the ones more than 255 ticks away). */
static void test_leak_driven_timing(void)
{
    tn_model *m = model_new(2, 4);
    tn_neuron_type *up = &m->types[0], *down = &m->types[1], *slow = &m->types[2], *big = &m->types[3];
    up->s[0] = 1, up->lambda = 1, up->alpha = 50, up->gamma = 1, up->beta = 5;
    /* down: V -1 per tick, below -10 reset to -R = 0 (VR 0): period 11 */
    down->lambda = 1, down->sigma_lambda = -1, down->alpha = 5, down->beta = 10, down->gamma = 0;
    slow->lambda = 1, slow->alpha = 700, slow->gamma = 1;
    /* big: +255 per tick up to 40000, beyond 16 bits */
    big->lambda = 255, big->alpha = 40000, big->gamma = 1;
    m->cores[0].type[0] = 0;
    m->cores[0].type[1] = 1;
    m->cores[0].type[2] = 0;
    m->cores[0].type[3] = 2;
    m->cores[1].type[0] = 3;
    connect(m, 0, 3, 2); /* neuron 2 also gets +1 from axon 3 */
    tn_sim *s = NULL;
    snnc_err err = {0};
    CU_ASSERT_EQUAL_FATAL(tn_sim_new(m, 2, &s, &err), SNNC_OK);
    tn_output_spike *out = NULL;
    size_t n_out = 0;
    tn_input_spike in = {20, 0, 3};
    int lens[] = {7, 13, 100, 3, 400, 500, 900, 77};
    int64_t done = 0, big_v = 0, big_fired[16], n_big = 0;
    for (int k = 0; k < 8; k++) {
        CU_ASSERT_EQUAL(tn_sim_run(s, lens[k], &in, done <= 20 ? 1 : 0, &out, &n_out, NULL, &err),
                        SNNC_OK);
        for (int64_t t = done; t < done + lens[k]; t++)
            if ((big_v += 255) >= 40000)
                big_v -= 40000, big_fired[n_big++] = t;
        done += lens[k];
        /* up: V = (t + 1) mod 50 after tick t; slow: mod 700 */
        CU_ASSERT_EQUAL(tn_sim_potential(s, 0, 0), (int32_t)(done % 50));
        CU_ASSERT_EQUAL(tn_sim_potential(s, 0, 3), (int32_t)(done % 700));
        /* down: -1, ..., -10, then -11 -> 0: after tick t, V = -((t + 1) mod 11) */
        CU_ASSERT_EQUAL(tn_sim_potential(s, 0, 1), (int32_t)(-(done % 11)));
        CU_ASSERT_EQUAL(tn_sim_potential(s, 1, 0), (int32_t)big_v);
    }
    /* up fires at 49, 99, ...; neuron 2 gets +1 in tick 20: fires at 48, 98, ... */
    int n0 = 0, n2 = 0, n3 = 0, nb = 0, bad = 0;
    for (size_t k = 0; k < n_out; k++) {
        if (out[k].core == 1)
            bad += nb >= n_big || out[k].neuron != 0 || out[k].tick != big_fired[nb++];
        else if (out[k].neuron == 0)
            bad += out[k].tick != 49 + 50 * n0++;
        else if (out[k].neuron == 2)
            bad += out[k].tick != 48 + 50 * n2++;
        else if (out[k].neuron == 3)
            bad += out[k].tick != 699 + 700 * n3++;
        else
            bad++;
    }
    CU_ASSERT_EQUAL(bad, 0);
    CU_ASSERT_EQUAL(n0, (int)(done / 50));
    CU_ASSERT_EQUAL(n2, (int)((done + 1) / 50));
    CU_ASSERT_EQUAL(n3, (int)(done / 700));
    CU_ASSERT_EQUAL(nb, n_big);
    CU_ASSERT(n_big >= 10);
    free(out);
    tn_sim_free(s);
    model_free(m);
}

static void test_saturation(void)
{
    tn_model *m = model_new(1, 2);
    tn_neuron_type *pos = &m->types[0], *neg = &m->types[1];
    pos->s[0] = 255, pos->alpha = (1 << 18) - 1, pos->gamma = 2;
    neg->sigma[0] = -1, neg->s[0] = 255, neg->alpha = 1, neg->beta = (1 << 18) - 1, neg->gamma = 2;
    m->cores[0].type[0] = 0;
    m->cores[0].type[1] = 1;
    tn_input_spike in[TN_AXONS * 12];
    for (int i = 0; i < TN_AXONS; i++) {
        connect(m, 0, i, 0);
        connect(m, 0, i, 1);
    }
    for (int t = 0; t < 12; t++)
        for (int i = 0; i < TN_AXONS; i++)
            in[t * TN_AXONS + i] = (tn_input_spike){t, 0, i};
    tn_sim *s = NULL;
    snnc_err err = {0};
    CU_ASSERT_EQUAL_FATAL(tn_sim_new(m, 1, &s, &err), SNNC_OK);
    /* 256 x 255 = 65280 per tick: 8 ticks 522240, the 9th saturates */
    CU_ASSERT_EQUAL(tn_sim_run(s, 8, in, TN_AXONS * 12, NULL, NULL, NULL, &err), SNNC_OK);
    CU_ASSERT_EQUAL(tn_sim_potential(s, 0, 0), 522240);
    CU_ASSERT_EQUAL(tn_sim_potential(s, 0, 1), -522240);
    CU_ASSERT_EQUAL(tn_sim_run(s, 1, in + 8 * TN_AXONS, TN_AXONS * 4, NULL, NULL, NULL, &err), SNNC_OK);
    CU_ASSERT_EQUAL(tn_sim_potential(s, 0, 0), 524287);
    CU_ASSERT_EQUAL(tn_sim_potential(s, 0, 1), -524288);
    tn_activity act = {0};
    CU_ASSERT_EQUAL(tn_sim_run(s, 3, in + 9 * TN_AXONS, TN_AXONS * 3, NULL, NULL, &act, &err), SNNC_OK);
    CU_ASSERT_EQUAL(tn_sim_potential(s, 0, 0), 524287);
    CU_ASSERT_EQUAL(tn_sim_potential(s, 0, 1), -524288);
    CU_ASSERT_EQUAL(act.spikes, 3); /* the positive one fires every tick, never resets */
    CU_ASSERT_EQUAL(act.synaptic_events, 3 * 2 * TN_AXONS);
    tn_sim_free(s);
    model_free(m);
}

/* A 16-bit core turning 32-bit in the middle of a tick: four neurons of one
 * type (alpha 1, linear reset, leak +200, V0 = 32400, no synapse) fire in
 * every tick, each gaining 200 - 1: V after tick k = 32400 + 199 (k + 1),
 * all four alike.  Tick 1 takes neuron 0 past 32767 and the core widens
 * while neurons 1..3 still hold V = 32599 of tick 0, which with tick 1's
 * leak added (32799) does not fit 16 bits: they must be re-expressed at
 * tick 0 (a bug once read them at tick 1, wrapped them negative and held
 * them at the floor: they stopped firing). */
static void test_widen_mid_tick(void)
{
    tn_model *m = model_new(1, 1);
    tn_neuron_type *t = &m->types[0];
    t->alpha = 1, t->gamma = 1, t->lambda = 200, t->kappa = true, t->beta = 0, t->V = 32400;
    for (int j = 0; j < 4; j++)
        m->cores[0].type[j] = 0;
    tn_sim *s = NULL;
    snnc_err err = {0};
    CU_ASSERT_EQUAL_FATAL(tn_sim_new(m, 1, &s, &err), SNNC_OK);
    int bad = 0;
    for (int k = 0; k < 6; k++) {
        tn_output_spike *out = NULL;
        size_t n_out = 0;
        CU_ASSERT_EQUAL_FATAL(tn_sim_run(s, 1, NULL, 0, &out, &n_out, NULL, &err), SNNC_OK);
        bad += n_out != 4;
        for (int j = 0; j < 4; j++)
            bad += tn_sim_potential(s, 0, j) != 32400 + 199 * (k + 1);
        free(out);
    }
    CU_ASSERT_EQUAL(bad, 0);
    tn_sim_free(s);
    model_free(m);
}

/* --------------------------------------------------------------- PRNG */

/* The documented generator (docs/TRUENORTH.md): state = fmix32(rngSeed)
 * (0x9E3779B9 if that is 0), then Marsaglia's xorshift32 (13, 17, 5);
 * 8-bit draws are the top 8 bits, threshold draws the top 18 bits. */
static uint32_t ref_seed(uint32_t h)
{
    h ^= h >> 16;
    h *= 0x85EBCA6Bu;
    h ^= h >> 13;
    h *= 0xC2B2AE35u;
    h ^= h >> 16;
    return h ? h : 0x9E3779B9u;
}

static uint32_t ref_next(uint32_t *x)
{
    *x ^= *x << 13;
    *x ^= *x >> 17;
    *x ^= *x << 5;
    return *x;
}

static void test_threshold_mask(void)
{
    /* V stays 2 = alpha, no reset: fires exactly when eta = draw & 3 is 0 */
    tn_neuron_type t = base_type();
    t.V = 2, t.alpha = 2, t.gamma = 2, t.TM = 2, t.beta = 100;
    int32_t v[64];
    int f[64], fired = 0;
    trace(&t, 64, NULL, v, f);
    uint32_t x = ref_seed(12345u);
    for (int k = 0; k < 64; k++) {
        int expect = ((ref_next(&x) >> 14) & 3u) == 0;
        CU_ASSERT_EQUAL(f[k], expect);
        fired += f[k];
    }
    CU_ASSERT(fired > 4 && fired < 32); /* about 1 in 4 */
    /* TM 0: eta = 0, fires every tick */
    t.TM = 0;
    trace(&t, 8, NULL, v, f);
    for (int k = 0; k < 8; k++)
        CU_ASSERT_EQUAL(f[k], 1);
    /* linear reset subtracts alpha + eta: +5 per tick, alpha 3, TM 3 */
    t = base_type();
    t.s[0] = 5, t.alpha = 3, t.gamma = 1, t.TM = 3, t.beta = 100;
    trace(&t, 64, always, v, f);
    x = ref_seed(12345u);
    int32_t V = 0;
    for (int k = 0; k < 32; k++) {
        V += 5;
        int32_t eta = (int32_t)((ref_next(&x) >> 14) & 7u);
        int spike = V >= 3 + eta;
        if (spike)
            V -= 3 + eta;
        CU_ASSERT_EQUAL(v[k], V);
        CU_ASSERT_EQUAL(f[k], spike);
    }
    /* TM 18: eta uses all 18 bits of the draw: with alpha 0 and V 2^17 the
     * neuron fires only when eta <= 2^17 (about half the ticks) */
    t = base_type();
    t.V = 1 << 17, t.alpha = 0, t.gamma = 2, t.TM = 18, t.beta = 100;
    trace(&t, 64, NULL, v, f);
    x = ref_seed(12345u);
    fired = 0;
    for (int k = 0; k < 64; k++) {
        CU_ASSERT_EQUAL(f[k], (int32_t)(ref_next(&x) >> 14) <= (1 << 17));
        fired += f[k];
    }
    CU_ASSERT(fired > 16 && fired < 48);
}

static void test_stochastic_leak(void)
{
    /* lambda 64: V += 1 when 64 >= rho (8-bit), p = 65/256 */
    tn_model *m = model_new(1, 3);
    m->types[0].lambda = 64, m->types[0].c_lambda = 1, m->types[0].alpha = (1 << 18) - 1;
    m->types[1].lambda = 255, m->types[1].c_lambda = 1, m->types[1].alpha = (1 << 18) - 1;
    m->types[2].lambda = 0, m->types[2].c_lambda = 1, m->types[2].alpha = (1 << 18) - 1;
    for (int j = 0; j < 3; j++)
        m->cores[0].type[j] = j;
    tn_sim *s = NULL;
    snnc_err err = {0};
    CU_ASSERT_EQUAL_FATAL(tn_sim_new(m, 1, &s, &err), SNNC_OK);
    const int N = 20000;
    CU_ASSERT_EQUAL(tn_sim_run(s, N, NULL, 0, NULL, NULL, NULL, &err), SNNC_OK);
    /* exact: per tick, draws for neurons 0, 1, 2 in this order */
    uint32_t x = ref_seed(12345u);
    int32_t v0 = 0;
    for (int k = 0; k < N; k++) {
        v0 += (int32_t)(ref_next(&x) >> 24) <= 64;
        ref_next(&x), ref_next(&x);
    }
    int32_t v = tn_sim_potential(s, 0, 0);
    CU_ASSERT_EQUAL(v, v0);
    double mean = N * 65.0 / 256.0, sd = sqrt(N * (65.0 / 256.0) * (191.0 / 256.0));
    CU_ASSERT(fabs(v - mean) < 4 * sd);
    CU_ASSERT_EQUAL(tn_sim_potential(s, 0, 1), N); /* 255 >= rho always */
    CU_ASSERT_EQUAL(tn_sim_potential(s, 0, 2), 0); /* sgn(0) = 0 */
    tn_sim_free(s);
    model_free(m);
}

static void test_stochastic_synapse(void)
{
    /* b0: V += sgn(s) when |s| = 128 >= rho: p = 129/256; neuron 1 negative */
    tn_model *m = model_new(1, 2);
    for (int k = 0; k < 2; k++) {
        m->types[k].s[0] = 128, m->types[k].b[0] = 1;
        m->types[k].alpha = (1 << 18) - 1, m->types[k].beta = (1 << 18) - 1;
        m->cores[0].type[k] = k;
        connect(m, 0, 0, k);
    }
    m->types[1].sigma[0] = -1;
    const int N = 20000;
    tn_input_spike *in = malloc(N * sizeof *in);
    for (int k = 0; k < N; k++)
        in[k] = (tn_input_spike){k, 0, 0};
    tn_sim *s = NULL;
    snnc_err err = {0};
    CU_ASSERT_EQUAL_FATAL(tn_sim_new(m, 1, &s, &err), SNNC_OK);
    tn_activity act = {0};
    CU_ASSERT_EQUAL(tn_sim_run(s, N, in, N, NULL, NULL, &act, &err), SNNC_OK);
    uint32_t x = ref_seed(12345u);
    int32_t v0 = 0, v1 = 0;
    for (int k = 0; k < N; k++) {
        v0 += (int32_t)(ref_next(&x) >> 24) <= 128;
        v1 -= (int32_t)(ref_next(&x) >> 24) <= 128;
    }
    CU_ASSERT_EQUAL(tn_sim_potential(s, 0, 0), v0);
    CU_ASSERT_EQUAL(tn_sim_potential(s, 0, 1), v1);
    double p = 129.0 / 256.0, mean = N * p, sd = sqrt(N * p * (1 - p));
    CU_ASSERT(fabs(v0 - mean) < 4 * sd);
    CU_ASSERT(fabs(-v1 - mean) < 4 * sd);
    CU_ASSERT_EQUAL(act.synaptic_events, 2 * N);
    CU_ASSERT_EQUAL(act.input_spikes, N);
    tn_sim_free(s);
    model_free(m);
    free(in);
}

/* ------------------------------------------------------------- timing */

static tn_sim *run_collect(const tn_model *m, int threads, int64_t ticks, const tn_input_spike *in,
                           size_t n_in, tn_output_spike **out, size_t *n_out, tn_activity *act)
{
    tn_sim *s = NULL;
    snnc_err err = {0};
    if (tn_sim_new(m, threads, &s, &err)) {
        fprintf(stderr, "\n  tn_sim_new: %s", err.msg);
        return NULL;
    }
    *out = NULL, *n_out = 0;
    if (tn_sim_run(s, ticks, in, n_in, out, n_out, act, &err)) {
        fprintf(stderr, "\n  tn_sim_run: %s", err.msg);
        tn_sim_free(s);
        return NULL;
    }
    return s;
}

/* A relay: core index 0 -> 1 -> 129 -> 64 -> leaves; one tick per hop. */
static void test_relay(void)
{
    tn_model *m = model_new(130, 1);
    m->types[0].s[0] = 1, m->types[0].alpha = 1; /* fires on any input, reset to 0 */
    int path[] = {0, 1, 129, 64};
    for (int c = 0; c < 130; c++)
        m->cores[c].id = 1000 + 7 * c;
    for (int k = 0; k < 4; k++) {
        tn_core *c = &m->cores[path[k]];
        c->type[0] = 0;
        connect(m, path[k], 0, 0);
        c->dest_core[0] = k < 3 ? 1000 + 7 * path[k + 1] : 99999; /* last: not in the model */
        c->dest_axon[0] = 0;
        c->dest_delay[0] = 1;
    }
    tn_input_spike in = {0, 1000, 0};
    tn_output_spike *out;
    size_t n;
    for (int threads = 1; threads <= 3; threads++) {
        tn_activity act = {0};
        tn_sim *s = run_collect(m, threads, 10, &in, 1, &out, &n, &act);
        CU_ASSERT_PTR_NOT_NULL_FATAL(s);
        CU_ASSERT_EQUAL_FATAL(n, 4);
        for (int k = 0; k < 4; k++) {
            CU_ASSERT_EQUAL(out[k].tick, k);
            CU_ASSERT_EQUAL(out[k].core, 1000 + 7 * path[k]);
            CU_ASSERT_EQUAL(out[k].neuron, 0);
        }
        /* (0,0)->(1,0): 1, (1,0)->(1,2): 2, (1,2)->(0,1): 2 */
        CU_ASSERT_EQUAL(act.hops, 5);
        CU_ASSERT_EQUAL(act.spikes, 4);
        CU_ASSERT_EQUAL(act.spikes_leaving, 1);
        CU_ASSERT_EQUAL(act.synaptic_events, 4);
        CU_ASSERT_EQUAL(act.input_spikes, 1);
        CU_ASSERT_EQUAL(act.ticks, 10);
        CU_ASSERT_EQUAL(act.cores, 130);
        free(out);
        tn_sim_free(s);
    }
    model_free(m);
}

/* Neuron j < 15 relays to axon 100 + j with delay j + 1; neuron 100 + j
 * fires when that spike arrives: exactly j + 1 ticks later. */
static void test_delays(void)
{
    tn_model *m = model_new(1, 1);
    m->types[0].s[0] = 1, m->types[0].alpha = 1;
    tn_core *c = &m->cores[0];
    for (int j = 0; j < 15; j++) {
        c->type[j] = c->type[100 + j] = 0;
        connect(m, 0, j, j);
        connect(m, 0, 100 + j, 100 + j);
        c->dest_core[j] = 0;
        c->dest_axon[j] = 100 + j;
        c->dest_delay[j] = j + 1;
    }
    tn_input_spike in[30];
    for (int j = 0; j < 15; j++) {
        in[j] = (tn_input_spike){0, 0, j};
        in[15 + j] = (tn_input_spike){30, 0, j};
    }
    tn_output_spike *out;
    size_t n;
    tn_activity act = {0};
    tn_sim *s = run_collect(m, 1, 60, in, 30, &out, &n, &act);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    CU_ASSERT_EQUAL_FATAL(n, 60);
    int seen[2][15] = {{0}}, bad = 0;
    for (size_t k = 0; k < n; k++) {
        int j = out[k].neuron;
        if (j < 15) {
            bad += out[k].tick != 0 && out[k].tick != 30;
        } else {
            j -= 100;
            int64_t base = out[k].tick > 16 ? 30 : 0;
            bad += j < 0 || j >= 15 || out[k].tick != base + j + 1;
            if (j >= 0 && j < 15)
                seen[base ? 1 : 0][j]++;
        }
        if (k)
            bad += out[k].tick < out[k - 1].tick ||
                   (out[k].tick == out[k - 1].tick && out[k].neuron <= out[k - 1].neuron);
    }
    CU_ASSERT_EQUAL(bad, 0);
    for (int j = 0; j < 15; j++)
        CU_ASSERT(seen[0][j] == 1 && seen[1][j] == 1);
    CU_ASSERT_EQUAL(act.hops, 0);
    free(out);
    tn_sim_free(s);
    model_free(m);
}

static void test_input_timing(void)
{
    tn_model *m = model_new(1, 1);
    m->types[0].s[0] = 1, m->types[0].alpha = 2, m->types[0].beta = 10;
    m->cores[0].type[0] = 0;
    connect(m, 0, 0, 0);
    connect(m, 0, 1, 0);
    /* tick 3: axon 0 twice = one event (V 1); tick 7: axons 0 and 1 = 2, fires in tick 7 */
    tn_input_spike in[] = {{3, 0, 0}, {3, 0, 0}, {7, 0, 0}, {7, 0, 1}};
    tn_output_spike *out;
    size_t n;
    tn_activity act = {0};
    tn_sim *s = run_collect(m, 1, 5, in, 4, &out, &n, &act);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    CU_ASSERT_EQUAL(n, 0);
    CU_ASSERT_EQUAL(tn_sim_potential(s, 0, 0), 1);
    CU_ASSERT_EQUAL(act.synaptic_events, 1);
    CU_ASSERT_EQUAL(act.input_spikes, 2);
    snnc_err err = {0};
    /* ticks 5..9: the spikes of tick 3 are in the past now */
    CU_ASSERT_EQUAL(tn_sim_run(s, 5, in, 4, &out, &n, NULL, &err), SNNC_EINVALID);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "before tick 5"));
    snnc_err_clear(&err);
    CU_ASSERT_EQUAL(tn_sim_run(s, 5, in + 2, 2, &out, &n, NULL, &err), SNNC_OK);
    CU_ASSERT_EQUAL_FATAL(n, 1);
    CU_ASSERT_EQUAL(out[0].tick, 7);
    CU_ASSERT_EQUAL(tn_sim_tick(s), 10);
    free(out);
    tn_sim_free(s);
    model_free(m);
}

/* Output sorted by core id even when ids decrease with the core index. */
static void test_output_order(void)
{
    tn_model *m = model_new(3, 1);
    m->types[0].s[0] = 1;
    tn_input_spike in[6];
    for (int c = 0; c < 3; c++) {
        m->cores[c].id = 30 - 10 * c;
        m->cores[c].type[0] = m->cores[c].type[5] = 0;
        connect(m, c, 0, 0);
        connect(m, c, 0, 5);
    }
    for (int k = 0; k < 6; k++)
        in[k] = (tn_input_spike){k / 3, 30 - 10 * (k % 3), 0};
    for (int threads = 1; threads <= 3; threads++) {
        tn_output_spike *out;
        size_t n;
        tn_sim *s = run_collect(m, threads, 2, in, 6, &out, &n, NULL);
        CU_ASSERT_PTR_NOT_NULL_FATAL(s);
        CU_ASSERT_EQUAL_FATAL(n, 12);
        for (size_t k = 0; k < n; k++) {
            CU_ASSERT_EQUAL(out[k].tick, (int64_t)k / 6);
            CU_ASSERT_EQUAL(out[k].core, 10 + 10 * (int64_t)((k % 6) / 2));
            CU_ASSERT_EQUAL(out[k].neuron, k % 2 ? 5 : 0);
        }
        free(out);
        tn_sim_free(s);
    }
    model_free(m);
}

static void test_invalid(void)
{
    tn_model *m = model_new(2, 1);
    m->cores[0].type[3] = 0;
    m->cores[0].dest_core[3] = 1;
    m->cores[0].dest_axon[3] = 256;
    tn_sim *s = NULL;
    snnc_err err = {0};
    CU_ASSERT_EQUAL(tn_sim_new(m, 1, &s, &err), SNNC_EINVALID);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "core 0: neuron 3: destination axon 256 is out of range 0..255 (neurons.destAxons)"));
    m->cores[0].dest_axon[3] = 0;
    m->cores[0].dest_delay[3] = 0;
    snnc_err_clear(&err);
    CU_ASSERT_EQUAL(tn_sim_new(m, 1, &s, &err), SNNC_EINVALID);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "delay 0"));
    m->cores[0].dest_delay[3] = 16;
    snnc_err_clear(&err);
    CU_ASSERT_EQUAL(tn_sim_new(m, 1, &s, &err), SNNC_EINVALID);
    m->cores[0].dest_delay[3] = 15;
    m->types[0].TM = 19;
    snnc_err_clear(&err);
    CU_ASSERT_EQUAL(tn_sim_new(m, 1, &s, &err), SNNC_EINVALID);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "TM"));
    m->types[0].TM = 0;
    m->types[0].alpha = 1 << 18;
    snnc_err_clear(&err);
    CU_ASSERT_EQUAL(tn_sim_new(m, 1, &s, &err), SNNC_EINVALID);
    m->types[0].alpha = 1;
    m->cores[1].id = 0;
    snnc_err_clear(&err);
    CU_ASSERT_EQUAL(tn_sim_new(m, 1, &s, &err), SNNC_EINVALID);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "twice"));
    m->cores[1].id = 1;
    m->cores[1].type[0] = 1;
    snnc_err_clear(&err);
    CU_ASSERT_EQUAL(tn_sim_new(m, 1, &s, &err), SNNC_EINVALID);
    m->cores[1].type[0] = -1;
    snnc_err_clear(&err);
    CU_ASSERT_EQUAL_FATAL(tn_sim_new(m, 1, &s, &err), SNNC_OK);
    tn_input_spike bad_core = {0, 7, 0}, bad_axon = {0, 1, 256}, unsorted[] = {{2, 0, 0}, {1, 0, 0}};
    CU_ASSERT_EQUAL(tn_sim_run(s, 3, &bad_core, 1, NULL, NULL, NULL, &err), SNNC_EINVALID);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "no core with id 7"));
    snnc_err_clear(&err);
    CU_ASSERT_EQUAL(tn_sim_run(s, 3, &bad_axon, 1, NULL, NULL, NULL, &err), SNNC_EINVALID);
    snnc_err_clear(&err);
    CU_ASSERT_EQUAL(tn_sim_run(s, 3, unsorted, 2, NULL, NULL, NULL, &err), SNNC_EINVALID);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "not sorted"));
    CU_ASSERT_EQUAL(tn_sim_tick(s), 0);
    tn_sim_free(s);
    model_free(m);
}

/* ------------------------------------------- reference simulator */

/* Every used neuron every tick, straight from the equations; draws in the
 * documented order: per core, neurons in ascending order; per neuron, one
 * 8-bit draw per synaptic event of a stochastic axon type (types 0..3 in
 * order), one 8-bit draw for a stochastic leak, one 18-bit threshold draw
 * when TM > 0. */
typedef struct ref_sim {
    const tn_model *m;
    int32_t (*v)[TN_NEURONS];
    uint32_t *rng;
    uint64_t (*axons)[16][4];
    int64_t t;
} ref_sim;

static int ref_index(const tn_model *m, int64_t id)
{
    for (int c = 0; c < m->n_cores; c++)
        if (m->cores[c].id == id)
            return c;
    return -1;
}

static int32_t ref_sat(int64_t v) { return v > 524287 ? 524287 : v < -524288 ? -524288 : (int32_t)v; }
static int ref_sgn(int64_t v) { return (v > 0) - (v < 0); }

static void ref_init(ref_sim *r, const tn_model *m)
{
    r->m = m;
    r->v = calloc((size_t)m->n_cores, sizeof *r->v);
    r->rng = calloc((size_t)m->n_cores, sizeof *r->rng);
    r->axons = calloc((size_t)m->n_cores, sizeof *r->axons);
    r->t = 0;
    for (int c = 0; c < m->n_cores; c++) {
        r->rng[c] = ref_seed(m->cores[c].rng_seed);
        for (int j = 0; j < TN_NEURONS; j++)
            if (m->cores[c].type[j] >= 0)
                r->v[c][j] = m->types[m->cores[c].type[j]].V;
    }
}

static void ref_free(ref_sim *r)
{
    free(r->v);
    free(r->rng);
    free(r->axons);
}

/* One tick; appends the spikes (core index order) to out. */
static void ref_tick(ref_sim *r, const tn_input_spike *in, size_t n_in, tn_output_spike *out, size_t *n_out)
{
    const tn_model *m = r->m;
    int64_t t = r->t;
    int slot = (int)(t % 16);
    for (size_t k = 0; k < n_in; k++)
        if (in[k].tick == t) {
            int c = ref_index(m, in[k].core);
            r->axons[c][slot][in[k].axon / 64] |= 1ull << (in[k].axon % 64);
        }
    for (int c = 0; c < m->n_cores; c++) {
        const tn_core *core = &m->cores[c];
        const tn_crossbar *x = &m->crossbars[core->crossbar];
        uint64_t act[4];
        memcpy(act, r->axons[c][slot], sizeof act);
        memset(r->axons[c][slot], 0, sizeof act);
        for (int j = 0; j < TN_NEURONS; j++) {
            if (core->type[j] < 0)
                continue;
            const tn_neuron_type *ty = &m->types[core->type[j]];
            int64_t v = r->v[c][j];
            int count[4] = {0};
            for (int i = 0; i < TN_AXONS; i++)
                if ((act[i / 64] >> (i % 64) & 1) && tn_synapse(x, i, j))
                    count[x->axon_type[i]]++;
            int64_t sum = 0;
            for (int g = 0; g < 4; g++) {
                int w = ty->sigma[g] * ty->s[g];
                for (int e = 0; e < count[g]; e++)
                    if (!ty->b[g])
                        sum += w;
                    else if (abs(w) >= (int)(ref_next(&r->rng[c]) >> 24))
                        sum += ref_sgn(w);
            }
            v = ref_sat(v + sum);
            int64_t omega = ty->epsilon ? ref_sgn(v) * ty->sigma_lambda : ty->sigma_lambda;
            if (ty->c_lambda) {
                /* Cassidy 2013: sgn(lambda) [|lambda| >= rho]; a negative magnitude flips */
                if ((int)(ref_next(&r->rng[c]) >> 24) <= abs(ty->lambda) && ty->lambda != 0)
                    v = ref_sat(v + omega * ref_sgn(ty->lambda));
            } else {
                v = ref_sat(v + omega * ty->lambda);
            }
            int64_t eta = ty->TM ? (ref_next(&r->rng[c]) >> 14) & ((1u << ty->TM) - 1) : 0;
            int64_t R = ty->sigma_VR * ((1 << ty->VR) - 1);
            if (v >= ty->alpha + eta) {
                out[(*n_out)++] = (tn_output_spike){t, core->id, j};
                v = ty->gamma == 0 ? R : ty->gamma == 1 ? v - (ty->alpha + eta) : v;
                int d = ref_index(m, core->dest_core[j]);
                if (d >= 0) {
                    int a = core->dest_axon[j];
                    r->axons[d][(t + core->dest_delay[j]) % 16][a / 64] |= 1ull << (a % 64);
                }
            } else if (v < -(ty->beta * ty->kappa + (ty->beta + eta) * (1 - ty->kappa))) {
                v = ty->kappa ? -ty->beta : ty->gamma == 0 ? -R : ty->gamma == 1 ? v + ty->beta + eta : v;
            }
            r->v[c][j] = (int32_t)v;
        }
    }
    r->t++;
}

static uint64_t rnd_state = 88172645463325252ull;
static uint64_t rnd(void)
{
    rnd_state ^= rnd_state << 13;
    rnd_state ^= rnd_state >> 7;
    rnd_state ^= rnd_state << 17;
    return rnd_state;
}
static int rnd_int(int lo, int hi) { return lo + (int)(rnd() % (uint64_t)(hi - lo + 1)); }

/* Set: odd types write their weights and leak with negative magnitudes. */
static int flip_magnitudes;

/* A random network of n_cores cores using every mode; `stochastic` 0
 * keeps every type deterministic; `gentle` keeps weights small and resets
 * on (gamma 0/1, kappa 1) so that potentials stay small (16-bit cores all
 * along, long leak-driven wake-ups). */
static tn_model *random_model(int n_cores, int stochastic, uint32_t seed, int gentle)
{
    int n_types = gentle ? 300 : 24; /* > 256: per-core type tables */
    tn_model *m = model_new(n_cores, n_types);
    for (int k = 0; k < n_types; k++) {
        tn_neuron_type *t = &m->types[k];
        for (int g = 0; g < 4; g++) {
            t->sigma[g] = rnd() % 3 ? 1 : -1;
            t->s[g] = rnd_int(0, k % 3 == 0 ? 255 : 6);
            t->b[g] = stochastic && rnd() % 4 == 0;
        }
        t->sigma_lambda = rnd() % 2 ? 1 : -1;
        t->lambda = k % 4 == 0 ? 0 : rnd_int(0, 3);
        t->epsilon = rnd() % 4 == 0;
        t->c_lambda = stochastic && rnd() % 4 == 0;
        if (stochastic && t->c_lambda)
            t->lambda = rnd_int(0, 255);
        t->alpha = k % 5 == 0 ? rnd_int(70, 300) : rnd_int(0, 40);
        t->beta = rnd_int(0, 60);
        t->TM = stochastic && rnd() % 3 == 0 ? rnd_int(1, 18) : 0;
        t->gamma = rnd_int(0, 2);
        t->kappa = rnd() % 3 == 0;
        t->sigma_VR = rnd() % 2 ? 1 : -1;
        t->VR = rnd_int(0, 5);
        t->V = rnd_int(-30, 30);
        if (gentle) {
            for (int g = 0; g < 4; g++)
                t->s[g] = rnd_int(0, 3);
            t->gamma = rnd_int(0, 1);
            t->kappa = 1;
            t->alpha = k % 3 == 0 ? rnd_int(250, 700) : rnd_int(1, 60);
            t->lambda = t->c_lambda ? t->lambda : rnd_int(0, 2);
        }
    }
    for (int k = 1; k < n_types && flip_magnitudes; k += 2) {
        /* the same weights and leak written as negative magnitudes (9-bit signed) */
        tn_neuron_type *t = &m->types[k];
        for (int g = 0; g < 4; g++)
            t->s[g] = -t->s[g], t->sigma[g] = -t->sigma[g];
        t->lambda = -t->lambda, t->sigma_lambda = -t->sigma_lambda;
    }
    for (int c = 0; c < n_cores; c++) {
        tn_core *core = &m->cores[c];
        core->id = 3 * c + 1;
        core->rng_seed = seed + (uint32_t)c * 7u;
        tn_crossbar *x = &m->crossbars[c];
        for (int i = 0; i < TN_AXONS; i++) {
            x->axon_type[i] = (uint8_t)rnd_int(0, 3);
            for (int j = 0; j < TN_NEURONS; j++)
                if (rnd() % 16 == 0)
                    x->row[i][j / 64] |= 1ull << (j % 64);
        }
        for (int j = 0; j < TN_NEURONS; j++) {
            core->type[j] = rnd() % 8 == 0 ? -1 : rnd_int(0, n_types - 1);
            int dest = rnd_int(-1, n_cores);
            core->dest_core[j] = dest < 0 ? -5 : dest == n_cores ? 1000000 : 3 * dest + 1;
            core->dest_axon[j] = rnd_int(0, 255);
            core->dest_delay[j] = rnd_int(1, 15);
        }
    }
    return m;
}

static int cmp_spike(const void *pa, const void *pb)
{
    const tn_output_spike *a = pa, *b = pb;
    if (a->tick != b->tick)
        return a->tick < b->tick ? -1 : 1;
    if (a->core != b->core)
        return a->core < b->core ? -1 : 1;
    return a->neuron - b->neuron;
}

static void compare_with_reference(int stochastic, int threads, int gentle)
{
    const int n_cores = 5, ticks = gentle ? 1500 : 600, n_in = 3000;
    tn_model *m = random_model(n_cores, stochastic, 777u, gentle);
    tn_input_spike *in = malloc(n_in * sizeof *in);
    for (int k = 0; k < n_in; k++)
        in[k] = (tn_input_spike){(int64_t)k * ticks / n_in, 3 * rnd_int(0, n_cores - 1) + 1, rnd_int(0, 255)};
    ref_sim r;
    ref_init(&r, m);
    tn_output_spike *ref_out = malloc(sizeof *ref_out * (size_t)ticks * n_cores * TN_NEURONS);
    size_t n_ref = 0;
    tn_sim *s = NULL;
    snnc_err err = {0};
    CU_ASSERT_EQUAL_FATAL(tn_sim_new(m, threads, &s, &err), SNNC_OK);
    tn_output_spike *out = NULL;
    size_t n_out = 0;
    /* the simulator runs in uneven chunks; potentials compared after each */
    int64_t t = 0, mismatches = 0;
    size_t next_in = 0;
    while (t < ticks) {
        int64_t len = 1 + (int64_t)(rnd() % 97);
        if (t + len > ticks)
            len = ticks - t;
        size_t first = next_in;
        while (next_in < (size_t)n_in && in[next_in].tick < t + len)
            next_in++;
        CU_ASSERT_EQUAL_FATAL(tn_sim_run(s, len, in + first, next_in - first, &out, &n_out, NULL, &err),
                              SNNC_OK);
        for (int64_t k = 0; k < len; k++)
            ref_tick(&r, in + first, next_in - first, ref_out, &n_ref);
        t += len;
        for (int c = 0; c < n_cores; c++)
            for (int j = 0; j < TN_NEURONS; j++)
                mismatches += tn_sim_potential(s, c, j) != r.v[c][j];
    }
    qsort(ref_out, n_ref, sizeof *ref_out, cmp_spike);
    CU_ASSERT_EQUAL(mismatches, 0);
    CU_ASSERT_EQUAL(n_out, n_ref);
    size_t same = 0;
    for (size_t k = 0; k < n_out && k < n_ref; k++)
        same += !cmp_spike(&out[k], &ref_out[k]);
    CU_ASSERT_EQUAL(same, n_ref);
    CU_ASSERT(n_ref > 500); /* the network is active */
    if (mismatches || n_out != n_ref || same != n_ref)
        fprintf(stderr, "\n  stochastic %d threads %d: %lld potential mismatches, %zu/%zu spikes, %zu same",
                stochastic, threads, (long long)mismatches, n_out, n_ref, same);
    free(out);
    free(ref_out);
    free(in);
    tn_sim_free(s);
    ref_free(&r);
    model_free(m);
}

static void test_reference_deterministic(void)
{
    compare_with_reference(0, 1, 0);
    compare_with_reference(0, 2, 0);
}

static void test_reference_stochastic(void)
{
    compare_with_reference(1, 1, 0);
    compare_with_reference(1, 3, 0);
}

static void test_reference_gentle(void)
{
    compare_with_reference(0, 2, 1);
    compare_with_reference(1, 1, 1);
}

/* Negative s_k and lambda (the reader accepts 9-bit signed values): only
 * the products sigma * s and sigma_lambda * lambda count, so the reference
 * runs the same network and the simulator must match it. */
static void test_reference_negative_magnitudes(void)
{
    flip_magnitudes = 1;
    compare_with_reference(0, 2, 0);
    compare_with_reference(1, 1, 0);
    flip_magnitudes = 0;
}

/* Same seed -> same spikes, for any thread count; another seed differs. */
static int same_spikes(const tn_output_spike *a, const tn_output_spike *b, size_t n)
{
    for (size_t k = 0; k < n; k++)
        if (a[k].tick != b[k].tick || a[k].core != b[k].core || a[k].neuron != b[k].neuron)
            return 0;
    return 1;
}

static void test_reproducible(void)
{
    tn_model *m = random_model(9, 1, 4242u, 0);
    tn_output_spike *out[4];
    size_t n[4];
    tn_activity act[4] = {{0}};
    int threads[4] = {1, 2, 4, 2};
    for (int k = 0; k < 4; k++) {
        if (k == 3)
            for (int c = 0; c < m->n_cores; c++)
                m->cores[c].rng_seed += 1;
        tn_sim *s = run_collect(m, threads[k], 400, NULL, 0, &out[k], &n[k], &act[k]);
        CU_ASSERT_PTR_NOT_NULL_FATAL(s);
        tn_sim_free(s);
    }
    CU_ASSERT(n[0] > 1000);
    for (int k = 1; k < 3; k++) {
        CU_ASSERT_EQUAL_FATAL(n[k], n[0]);
        CU_ASSERT(same_spikes(out[k], out[0], n[0]));
        CU_ASSERT(memcmp(&act[k], &act[0], sizeof act[0]) == 0);
    }
    CU_ASSERT(n[3] != n[0] || !same_spikes(out[3], out[0], n[0]));
    for (int k = 0; k < 4; k++)
        free(out[k]);
    model_free(m);
}

/* SNNC_TN_SIMD caps the dense update's instruction set at 0 SSE2, 1 AVX2 or
 * 2 AVX-512BW; a cap above what the CPU has, or another value, gives the
 * CPU's best (tn_sim.h).  The CPU's best is read here independently. */
static void test_simd_level(void)
{
#if defined(__x86_64__) && defined(__GNUC__)
    __builtin_cpu_init();
    int best = __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512f") ? 2
               : __builtin_cpu_supports("avx2")                                        ? 1
                                                                                       : 0;
    const char *old = getenv("SNNC_TN_SIMD");
    char *saved = old ? strdup(old) : NULL;
    const char *caps[] = {"0", "1", "2", "3", "12", "", "avx2"};
    int want[] = {0, best < 1 ? best : 1, best, best, best, best, best};
    tn_model *m = random_model(1, 0, 7u, 0);
    for (int k = 0; k < 7; k++) {
        setenv("SNNC_TN_SIMD", caps[k], 1);
        tn_sim *s = NULL;
        snnc_err err = {0};
        CU_ASSERT_EQUAL_FATAL(tn_sim_new(m, 1, &s, &err), SNNC_OK);
        CU_ASSERT_EQUAL(tn_sim_simd(s), want[k]);
        CU_ASSERT_EQUAL(tn_sim_simd_level(), want[k]);
        tn_sim_free(s);
    }
    if (saved)
        setenv("SNNC_TN_SIMD", saved, 1);
    else
        unsetenv("SNNC_TN_SIMD");
    free(saved);
    model_free(m);
#endif
}

/* -------------------------------------------------------------- power */

/* The full-chip benchmark activity reproduces the published 72 mW, and
 * its energy per synaptic event the published ~26 pJ (Merolla 2014). */
static void test_power_benchmark_activity(void)
{
    double spikes = 4096.0 * 256 * 20; /* one second at 20 Hz */
    double hops_per_spike = 2.0 * (64.0 * 64 - 1) / (3 * 64);
    tn_activity act = {.ticks = 1000, .cores = 4096, .spikes = (int64_t)spikes,
                       .synaptic_events = (int64_t)(spikes * 128),
                       .hops = (int64_t)llround(spikes * hops_per_spike)};
    snnc_power_report r;
    tn_power_estimate(&act, &r);
    SNNC_ASSERT_CLOSE(r.total_power_w, 0.072, 1e-6, 0);
    SNNC_ASSERT_CLOSE(r.seconds, 1.0, 1e-12, 0);
    SNNC_ASSERT_CLOSE(r.energy_j, 0.072, 1e-6, 0);
    SNNC_ASSERT_CLOSE(r.energy_j / (spikes * 128), 26e-12, 0.05, 0);
    CU_ASSERT_EQUAL(r.n_terms, 3);
    CU_ASSERT(r.n_constants >= 8);
    for (int i = 0; i < r.n_constants; i++)
        CU_ASSERT(r.constants[i].source && strlen(r.constants[i].source) > 10);
}

/* One core at typical activity (Merolla's: 20 Hz, 128 synaptic events per
 * spike), its spikes staying in the core: ~17 uW, the 2016 paper's figure. */
static void test_power_one_core(void)
{
    tn_model *m = model_new(1, 1);
    tn_neuron_type *t = &m->types[0];
    t->lambda = 1, t->alpha = 50, t->gamma = 1; /* fires every 50 ticks: 20 Hz */
    for (int j = 0; j < TN_NEURONS; j++) {
        m->cores[0].type[j] = 0;
        m->cores[0].dest_core[j] = 0;
        m->cores[0].dest_axon[j] = j;
        m->cores[0].dest_delay[j] = 1;
        for (int i = 0; i < TN_AXONS; i++)
            if ((i + j) % 2 == 0)
                connect(m, 0, i, j); /* 128 synapses per axon */
    }
    tn_sim *s = NULL;
    snnc_err err = {0};
    tn_activity act = {0};
    CU_ASSERT_EQUAL_FATAL(tn_sim_new(m, 1, &s, &err), SNNC_OK);
    CU_ASSERT_EQUAL(tn_sim_run(s, 1000, NULL, 0, NULL, NULL, &act, &err), SNNC_OK);
    CU_ASSERT_EQUAL(act.spikes, 256 * 20);
    CU_ASSERT_EQUAL(act.synaptic_events, 256 * 19 * 128); /* the spikes of tick 999 arrive at 1000 */
    CU_ASSERT_EQUAL(act.hops, 0);
    snnc_power_report r;
    tn_power_estimate(&act, &r);
    /* by hand from the published figures: static share of one core =
     * (72 mW - 2^20 x 20 Hz x (128 x 2.5 pJ + 4.6 pJ + 42.66 x 2.3 pJ)) / 4096
     * = (72 - 8.865) mW / 4096 = 15.414 uW; dynamic = 622592 x 2.5 pJ + 5120
     * x 4.6 pJ per second = 1.580 uW; total 16.99 uW */
    fprintf(stderr, "\n  one core at 20 Hz: static %.3f uW, dynamic %.3f uW, total %.3f uW",
            r.static_power_w * 1e6, r.dynamic_power_w * 1e6, r.total_power_w * 1e6);
    SNNC_ASSERT_CLOSE(r.static_power_w, 15.414e-6, 1e-3, 0);
    SNNC_ASSERT_CLOSE(r.dynamic_power_w, 1.580e-6, 1e-3, 0);
    SNNC_ASSERT_CLOSE(r.total_power_w, 17e-6, 0.03, 0);
    SNNC_ASSERT_CLOSE(r.energy_j, r.total_power_w * 1.0, 1e-9, 0);
    tn_sim_free(s);
    model_free(m);
}

static CU_TestInfo tests[] = {
    {"reset gamma 0 (to R, +-R)", test_reset_gamma0},
    {"reset gamma 1 (linear)", test_reset_gamma1},
    {"reset gamma 2 (none)", test_reset_gamma2},
    {"negative threshold kappa 0/1", test_negative_threshold},
    {"leak: sign, reversal, order", test_leak_modes},
    {"leak-driven firing at arbitrary times", test_leak_driven_timing},
    {"saturation at 20 bits", test_saturation},
    {"16-bit core widened in the middle of a tick", test_widen_mid_tick},
    {"threshold PRN mask TM", test_threshold_mask},
    {"stochastic leak", test_stochastic_leak},
    {"stochastic synapses", test_stochastic_synapse},
    {"relay across cores, hops", test_relay},
    {"delays 1..15", test_delays},
    {"input timing, repeated spikes", test_input_timing},
    {"output order by core id", test_output_order},
    {"invalid models and inputs", test_invalid},
    {"reference simulator, deterministic", test_reference_deterministic},
    {"reference simulator, stochastic", test_reference_stochastic},
    {"reference simulator, small potentials", test_reference_gentle},
    {"reference simulator, negative magnitudes", test_reference_negative_magnitudes},
    {"reproducible across seeds and threads", test_reproducible},
    {"SIMD level: SNNC_TN_SIMD caps the CPU's best", test_simd_level},
    {"power: chip benchmark activity = 72 mW", test_power_benchmark_activity},
    {"power: one core ~17 uW", test_power_one_core},
    CU_TEST_INFO_NULL,
};

SNNC_TEST_MAIN("tn_sim")
