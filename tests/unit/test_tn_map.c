/* test_tn_map.c — mapping a spiking netlist onto TrueNorth cores
 * (truenorth/tn_map.c): the paper's one-core shape, multi-core placements
 * forced by fan-in and by neuron copies, relays on splitter cores for a
 * source feeding 70 cores (= ideal stage tick for tick), crossbar bits = two's complement
 * codes, type weights, refusals, and a 2-neuron netlist mapped, written,
 * read back and simulated against spike counts derived by hand, a lowered
 * split (fan-in over 64) tanh network within the limits and = ideal.  Every
 * mapping is also checked functionally: the effective weight each neuron
 * sees from each source, rebuilt from the model alone, must be mult * code. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "mapper/mapper.h"
#include "truenorth/tn_map.h"

/* ------------------------------------------------------------ netlists */

typedef struct net {
    snnc_netlist n;
    snnc_population pops[16];
    snnc_projection projs[48];
} net;

static net *net_new(int window, int steps, int readout_windows)
{
    net *t = calloc(1, sizeof *t);
    t->n.window = window;
    t->n.steps = steps;
    t->n.readout_windows = readout_windows;
    t->n.weight_levels = t->n.activity_levels = 16;
    t->n.pops = t->pops;
    t->n.projs = t->projs;
    return t;
}

static int32_t *filled(int n, int32_t v)
{
    int32_t *a = malloc((size_t)(n ? n : 1) * sizeof *a);
    for (int i = 0; i < n; i++)
        a[i] = v;
    return a;
}

static int add_input(net *t, const char *name, int n, float scale, int feature0, int sign)
{
    snnc_population *P = &t->pops[t->n.n_pops];
    memset(P, 0, sizeof *P);
    snprintf(P->name, sizeof P->name, "%s", name);
    snprintf(P->tensor, sizeof P->tensor, "%s", name);
    P->role = SNNC_POP_INPUT;
    P->sign = sign;
    P->n = n;
    P->input_scale = scale;
    P->input_feature0 = feature0;
    return t->n.n_pops++;
}

static int add_pop(net *t, const char *name, snnc_pop_role role, int n, int alpha, int leak,
                   int mult, int floor, int v0)
{
    snnc_population *P = &t->pops[t->n.n_pops];
    memset(P, 0, sizeof *P);
    snprintf(P->name, sizeof P->name, "%s", name);
    snprintf(P->tensor, sizeof P->tensor, "%s_out", name);
    P->role = role;
    P->sign = 1;
    P->n = n;
    P->threshold = filled(n, alpha);
    P->leak = filled(n, leak);
    P->mult = filled(n, mult);
    P->floor = filled(n, floor);
    P->v0 = filled(n, v0);
    return t->n.n_pops++;
}

static snnc_projection *add_proj(net *t, int src, int dst, int delay)
{
    snnc_projection *pr = &t->projs[t->n.n_projs++];
    pr->src = src;
    pr->dst = dst;
    pr->delay = delay;
    size_t sz = (size_t)t->pops[src].n * (size_t)t->pops[dst].n;
    pr->code = calloc(sz ? sz : 1, 1);
    return pr;
}

static void set_code(net *t, snnc_projection *pr, int j, int i, int c)
{
    pr->code[(size_t)j * (size_t)t->pops[pr->src].n + (size_t)i] = (int8_t)c;
}

static void net_free(net *t)
{
    for (int p = 0; p < t->n.n_pops; p++) {
        free(t->pops[p].threshold), free(t->pops[p].leak), free(t->pops[p].mult);
        free(t->pops[p].floor), free(t->pops[p].v0);
    }
    for (int k = 0; k < t->n.n_projs; k++)
        free(t->projs[k].code);
    free(t);
}

static uint32_t lcg(uint32_t *s)
{
    *s = *s * 1664525u + 1013904223u;
    return *s >> 8;
}

/* A non-zero code -8..7. */
static int random_code(uint32_t *s)
{
    int c;
    do
        c = (int)(lcg(s) % 16) - 8;
    while (!c);
    return c;
}

/* ------------------------------------------------------------ checks */

static int pop_offset(const net *t, int p)
{
    int o = 0;
    for (int q = 0; q < p; q++)
        o += t->pops[q].n;
    return o;
}

/* The global netlist neuron a (core index, slot) belongs to, or -1. */
static int owner(const tn_mapping *m, int ci, int slot)
{
    for (int g = 0; g < m->n_neurons; g++)
        if (m->place[g].core_index == ci && slot >= m->place[g].slot &&
            slot < m->place[g].slot + m->place[g].slots)
            return g;
    return -1;
}

/* An axon driven by a relay neuron (core c, slot j: no netlist owner) is
 * driven by the source of the relay's one input axon, with the two delays
 * added; the relay must be threshold 1, weight +1 on that axon, linear
 * reset, no leak.  Returns the number of faults. */
static int resolve_relays(const tn_model *md, const int *drv, int *src, int *dly)
{
    int bad = 0;
    for (int a = 0; a < md->n_cores * TN_AXONS; a++) {
        if (drv[a] < 0 || src[a] >= 0)
            continue;
        int c = drv[a] / TN_NEURONS, j = drv[a] % TN_NEURONS, in = -1, n_in = 0;
        const tn_crossbar *x = &md->crossbars[md->cores[c].crossbar];
        for (int ai = 0; ai < TN_AXONS; ai++)
            if (tn_synapse(x, ai, j))
                in = ai, n_in++;
        const tn_neuron_type *ty = &md->types[md->cores[c].type[j]];
        if (n_in != 1 || src[c * TN_AXONS + in] < 0 || drv[c * TN_AXONS + in] < 0) {
            bad++;
            continue;
        }
        int k = x->axon_type[in];
        bad += ty->sigma[k] * ty->s[k] != 1 || ty->alpha != 1 || ty->lambda != 0 ||
               ty->gamma != 1 || ty->V != 0;
        src[a] = src[c * TN_AXONS + in];
        dly[a] += dly[c * TN_AXONS + in];
    }
    return bad;
}

/* Rebuild from the model alone which source drives each axon (neurons'
 * destinations, through relays, and input feeds) and check that every
 * netlist neuron, in every one of its copies, sees exactly mult * code
 * from every source, with the projection's delay.  Returns the number of
 * mismatches. */
static int check_function(const net *t, const tn_mapping *m)
{
    const tn_model *md = m->model;
    int nc = md->n_cores, bad = 0;
    int *src = malloc((size_t)nc * TN_AXONS * sizeof *src);
    int *dly = malloc((size_t)nc * TN_AXONS * sizeof *dly);
    int *drv = malloc((size_t)nc * TN_AXONS * sizeof *drv);
    for (int i = 0; i < nc * TN_AXONS; i++)
        src[i] = -1, dly[i] = 0, drv[i] = -1;
    for (int c = 0; c < nc; c++)
        for (int j = 0; j < TN_NEURONS; j++) {
            if (md->cores[c].type[j] < 0)
                continue;
            int dc = tn_model_core_index(md, md->cores[c].dest_core[j]);
            if (dc < 0)
                continue;
            int a = dc * TN_AXONS + md->cores[c].dest_axon[j];
            if (drv[a] >= 0)
                bad++; /* two drivers */
            src[a] = owner(m, c, j);
            drv[a] = c * TN_NEURONS + j;
            dly[a] = md->cores[c].dest_delay[j];
        }
    for (int i = 0; i < m->n_inputs; i++) {
        int g = pop_offset(t, m->inputs[i].pop) + m->inputs[i].neuron;
        for (int f = 0; f < m->inputs[i].n_feeds; f++) {
            int a = tn_model_core_index(md, m->inputs[i].feeds[f].core) * TN_AXONS +
                    m->inputs[i].feeds[f].axon;
            if (drv[a] >= 0 || src[a] >= 0)
                bad++;
            src[a] = g;
            dly[a] = m->inputs[i].feeds[f].delay;
        }
    }
    bad += resolve_relays(md, drv, src, dly);
    int total = m->n_neurons;
    long *w = malloc((size_t)total * sizeof *w);
    int *wd = malloc((size_t)total * sizeof *wd);
    for (int p = 0; p < t->n.n_pops; p++) {
        const snnc_population *P = &t->pops[p];
        if (P->role == SNNC_POP_INPUT)
            continue;
        for (int j = 0; j < P->n; j++) {
            const tn_map_place *pl = &m->place[pop_offset(t, p) + j];
            int c = pl->core_index;
            const tn_crossbar *x = &md->crossbars[md->cores[c].crossbar];
            for (int s = pl->slot; s < pl->slot + pl->slots; s++) {
                const tn_neuron_type *ty = &md->types[md->cores[c].type[s]];
                for (int g = 0; g < total; g++)
                    w[g] = 0, wd[g] = 0;
                for (int a = 0; a < TN_AXONS; a++)
                    if (tn_synapse(x, a, s)) {
                        int k = x->axon_type[a];
                        if (src[c * TN_AXONS + a] < 0) {
                            bad++;
                            continue;
                        }
                        w[src[c * TN_AXONS + a]] += ty->sigma[k] * ty->s[k];
                        wd[src[c * TN_AXONS + a]] = dly[c * TN_AXONS + a];
                    }
                /* expected: mult * code from each projection into p */
                for (int k = 0; k < t->n.n_projs; k++) {
                    const snnc_projection *pr = &t->projs[k];
                    if (pr->dst != p)
                        continue;
                    int o = pop_offset(t, pr->src);
                    for (int i = 0; i < t->pops[pr->src].n; i++) {
                        long want = (long)P->mult[j] * pr->code[(size_t)j * t->pops[pr->src].n + i];
                        if (w[o + i] != want || (want && wd[o + i] != pr->delay))
                            bad++;
                        w[o + i] = 0;
                    }
                }
                for (int g = 0; g < total; g++)
                    bad += w[g] != 0;
                /* neuron parameters */
                bad += ty->alpha != P->threshold[j] || ty->beta != P->floor[j] ||
                       ty->V != P->v0[j] || ty->sigma_lambda * ty->lambda != P->leak[j] ||
                       ty->gamma != 1 || !ty->kappa || ty->TM != 0 || ty->c_lambda ||
                       ty->epsilon || ty->b[0] || ty->b[1] || ty->b[2] || ty->b[3];
            }
        }
    }
    free(src), free(dly), free(drv), free(w), free(wd);
    return bad;
}

/* Recount per-core usage from the model: used neurons, fed axons. */
static void check_limits(const tn_mapping *m)
{
    const tn_model *md = m->model;
    for (int c = 0; c < md->n_cores; c++) {
        int used = 0;
        for (int j = 0; j < TN_NEURONS; j++)
            used += md->cores[c].type[j] >= 0;
        CU_ASSERT(used <= TN_NEURONS);
        CU_ASSERT_EQUAL(used, m->report.cores[c].neurons);
        CU_ASSERT(m->report.cores[c].axons <= TN_AXONS);
    }
    CU_ASSERT(m->report.axons_ok);
    CU_ASSERT(m->report.neurons_ok);
    CU_ASSERT(m->report.one_destination_ok);
}

static int popcount4(int c) { return __builtin_popcount((unsigned)c & 15u); }

/* ------------------------------------------------------------ tests */

/* 8 inputs + 56 recurrent hidden + 10 readout, all codes non-zero: one core,
 * 64 x 4 = 256 axons, 56 x 4 + 10 = 234 neurons (docs/TRUENORTH_MAPPING.md
 * §2-3: a hidden neuron's spikes are received on one (core, delay W) group,
 * 4 copies, the original included; readouts 1 slot): 56 + 10 = 66
 * originals, 56 x 3 = 168 copies; synapses = crossbar bits, the popcount of
 * each 4-bit code on each of the 4 copies of a hidden neuron. */
static void test_paper_shape(void)
{
    net *t = net_new(15, 4, 1);
    uint32_t seed = 7;
    int in = add_input(t, "x", 8, 0.1f, 0, 1);
    int h = add_pop(t, "/rnn/RNN", SNNC_POP_HIDDEN, 56, 20, -1, 3, 40, 10);
    int r = add_pop(t, "/fc/Gemm", SNNC_POP_READOUT, 10, 30, 0, 2, 1000, 0);
    snnc_projection *p1 = add_proj(t, in, h, 1), *p2 = add_proj(t, h, h, 15),
                    *p3 = add_proj(t, h, r, 15);
    long synapses = 0;
    for (int j = 0; j < 56; j++) {
        for (int i = 0; i < 8; i++) {
            int c = random_code(&seed);
            set_code(t, p1, j, i, c);
            synapses += 4 * popcount4(c);
        }
        for (int i = 0; i < 56; i++) {
            int c = random_code(&seed);
            set_code(t, p2, j, i, c);
            synapses += 4 * popcount4(c);
        }
    }
    for (int j = 0; j < 10; j++)
        for (int i = 0; i < 56; i++) {
            int c = random_code(&seed);
            set_code(t, p3, j, i, c);
            synapses += popcount4(c);
        }
    tn_mapping *m = NULL;
    snnc_err err = {0};
    CU_ASSERT_EQUAL_FATAL(tn_map_netlist(&t->n, NULL, &m, &err), SNNC_OK);
    CU_ASSERT_EQUAL(m->report.n_cores, 1);
    CU_ASSERT_EQUAL(m->report.cores[0].axons, 256);
    CU_ASSERT_EQUAL(m->report.cores[0].neurons, 234);
    CU_ASSERT_EQUAL(m->report.originals, 66);
    CU_ASSERT_EQUAL(m->report.copies, 168);
    CU_ASSERT_EQUAL(m->report.synapses, synapses);
    CU_ASSERT_EQUAL(m->report.n_types, 2); /* hidden and readout parameters */
    CU_ASSERT_STRING_EQUAL(m->model->types[0].name, "N00000001");
    CU_ASSERT_STRING_EQUAL(m->model->types[1].name, "N00000002");
    CU_ASSERT_EQUAL(m->n_inputs, 8);
    CU_ASSERT_EQUAL(m->n_readout, 10);
    for (int i = 0; i < 8; i++)
        CU_ASSERT_EQUAL(m->inputs[i].n_feeds, 4);
    for (int k = 0; k < 10; k++)
        CU_ASSERT_EQUAL(m->model->cores[0].dest_core[m->readout[k].slot], -1);
    check_limits(m);
    CU_ASSERT_EQUAL(check_function(t, m), 0);
    /* the check sees a single flipped crossbar bit (in one copy) */
    tn_crossbar *x = &m->model->crossbars[0];
    x->row[5][0] ^= 1ull << 1;
    CU_ASSERT(check_function(t, m) > 0);
    x->row[5][0] ^= 1ull << 1;
    /* metadata: corelet of the recurrent layer, connectors named after tensors */
    json_t *md = json_loads(m->model->cores[0].metadata_json, 0, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(md);
    CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(md, "coreletClass")), "snnc.hidden");
    CU_ASSERT_EQUAL(json_integer_value(json_object_get(md, "coreletId")), 1);
    json_t *ins = json_object_get(json_object_get(md, "connectors"), "inputs");
    json_t *outs = json_object_get(json_object_get(md, "connectors"), "outputs");
    CU_ASSERT_EQUAL(json_array_size(ins), 2);
    CU_ASSERT_STRING_EQUAL(json_string_value(json_array_get(ins, 0)), "x");
    CU_ASSERT_STRING_EQUAL(json_string_value(json_array_get(ins, 1)), "/rnn/RNN_out");
    CU_ASSERT_EQUAL(json_array_size(outs), 2);
    CU_ASSERT_STRING_EQUAL(json_string_value(json_array_get(outs, 1)), "/fc/Gemm_out");
    json_decref(md);
    /* report JSON */
    char *js = tn_map_report_json(m, &t->n, &err);
    json_t *rep = json_loads(js, 0, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(rep);
    CU_ASSERT_EQUAL(json_integer_value(json_object_get(rep, "cores")), 1);
    CU_ASSERT_EQUAL(json_integer_value(json_object_get(rep, "neurons")), 234);
    CU_ASSERT_EQUAL(json_integer_value(json_object_get(rep, "axons")), 256);
    json_t *c0 = json_array_get(json_object_get(rep, "per_core"), 0);
    CU_ASSERT_EQUAL(json_integer_value(json_object_get(c0, "copies")), 168);
    CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(c0, "role")), "hidden");
    CU_ASSERT(json_is_true(json_object_get(json_object_get(rep, "invariants"), "one_destination")));
    json_decref(rep);
    free(js);
    tn_mapping_free(m);
    net_free(t);
}

/* Fan-in: two hidden groups of 40 distinct inputs each cannot share a core
 * (80 groups > 64), the readout (60 inputs) fits neither: 3 cores. */
static void test_fanin_cores(void)
{
    net *t = net_new(15, 2, 1);
    uint32_t seed = 11;
    int in = add_input(t, "x", 100, 0.1f, 0, 1);
    int h = add_pop(t, "h", SNNC_POP_HIDDEN, 80, 16, 0, 1, 0, 0);
    int r = add_pop(t, "y", SNNC_POP_READOUT, 3, 16, 0, 1, 100, 0);
    snnc_projection *p1 = add_proj(t, in, h, 2), *p2 = add_proj(t, h, r, 3);
    for (int j = 0; j < 80; j++)
        for (int i = 0; i < 40; i++)
            set_code(t, p1, j, (j % 2) * 60 + i, random_code(&seed));
    for (int j = 0; j < 3; j++)
        for (int i = 0; i < 60; i++)
            set_code(t, p2, j, i, random_code(&seed));
    tn_mapping *m = NULL;
    snnc_err err = {0};
    CU_ASSERT_EQUAL_FATAL(tn_map_netlist(&t->n, NULL, &m, &err), SNNC_OK);
    CU_ASSERT_EQUAL(m->report.n_cores, 3);
    /* hidden 0..59 have 4 copies (the readout core), 60..79 none: 80 + 3
     * originals, 60 x 3 copies; axons: 40 inputs x 4 on each hidden core,
     * 60 hidden x 4 on the readout's */
    CU_ASSERT_EQUAL(m->report.originals, 83);
    CU_ASSERT_EQUAL(m->report.copies, 60 * 3);
    CU_ASSERT_EQUAL(m->report.axons, 2 * 40 * 4 + 60 * 4);
    int feeds = 0;
    for (int i = 0; i < 100; i++)
        feeds += m->inputs[i].n_feeds;
    CU_ASSERT_EQUAL(feeds, 80 * 4); /* inputs 40..59 feed nothing */
    check_limits(m);
    CU_ASSERT_EQUAL(check_function(t, m), 0);
    tn_mapping_free(m);
    net_free(t);
}

/* Neuron capacity: 64 hidden x 4 copies fill a core exactly; 6 more
 * hidden neurons need a second core, the 64-input readout a third. */
static void test_neuron_cores(void)
{
    net *t = net_new(15, 1, 1);
    int in = add_input(t, "x", 1, 0.1f, 0, 1);
    int h = add_pop(t, "h", SNNC_POP_HIDDEN, 70, 4, 0, 1, 0, 0);
    int r = add_pop(t, "y", SNNC_POP_READOUT, 1, 4, 0, 1, 100, 0);
    snnc_projection *p1 = add_proj(t, in, h, 1), *p2 = add_proj(t, h, r, 1);
    for (int j = 0; j < 70; j++)
        set_code(t, p1, j, 0, 1);
    for (int i = 0; i < 64; i++)
        set_code(t, p2, 0, i, -1);
    tn_mapping *m = NULL;
    snnc_err err = {0};
    CU_ASSERT_EQUAL_FATAL(tn_map_netlist(&t->n, NULL, &m, &err), SNNC_OK);
    CU_ASSERT_EQUAL(m->report.n_cores, 3);
    CU_ASSERT_EQUAL(m->report.max_neurons, 256);
    CU_ASSERT_EQUAL(m->report.neurons, 64 * 4 + 6 + 1);
    CU_ASSERT_EQUAL(m->report.copies, 64 * 3);
    CU_ASSERT_EQUAL(m->report.axons, 4 + 4 + 64 * 4);
    CU_ASSERT_EQUAL(m->inputs[0].n_feeds, 8); /* the two hidden cores */
    check_limits(m);
    CU_ASSERT_EQUAL(check_function(t, m), 0);
    tn_mapping_free(m);
    net_free(t);
}

/* Codes -8..7 on one input: crossbar bits of neuron j on the input's four
 * axons are the 4-bit two's complement of its code; axon types 0..3; type
 * weights (1, 2, 4, -8) x mult, negative mult mirrored. */
static void test_twos_complement(void)
{
    net *t = net_new(15, 1, 0);
    int in = add_input(t, "x", 1, 0.1f, 0, 1);
    int h = add_pop(t, "h", SNNC_POP_HIDDEN, 17, 9, 0, 3, 0, 0);
    t->pops[h].mult[16] = -5;
    snnc_projection *p = add_proj(t, in, h, 4);
    for (int j = 0; j < 16; j++)
        set_code(t, p, j, 0, j - 8);
    set_code(t, p, 16, 0, 3);
    tn_mapping *m = NULL;
    snnc_err err = {0};
    CU_ASSERT_EQUAL_FATAL(tn_map_netlist(&t->n, NULL, &m, &err), SNNC_OK);
    CU_ASSERT_EQUAL(m->report.n_cores, 1);
    CU_ASSERT_EQUAL(m->report.axons, 4);
    const tn_crossbar *x = &m->model->crossbars[0];
    static const unsigned bits[16] = {8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4, 5, 6, 7};
    CU_ASSERT_EQUAL_FATAL(m->inputs[0].n_feeds, 4);
    for (int k = 0; k < 4; k++) {
        CU_ASSERT_EQUAL(m->inputs[0].feeds[k].delay, 4);
        CU_ASSERT_EQUAL(x->axon_type[m->inputs[0].feeds[k].axon], k);
    }
    for (int j = 0; j < 16; j++) {
        int s = m->place[1 + j].slot;
        CU_ASSERT_EQUAL(m->place[1 + j].slots, 1);
        unsigned got = 0;
        for (int k = 0; k < 4; k++)
            got |= (unsigned)tn_synapse(x, m->inputs[0].feeds[k].axon, s) << k;
        CU_ASSERT_EQUAL(got, bits[j]);
        const tn_neuron_type *ty = &m->model->types[m->model->cores[0].type[s]];
        int want[4] = {3, 6, 12, -24};
        for (int k = 0; k < 4; k++)
            CU_ASSERT_EQUAL(ty->sigma[k] * ty->s[k], want[k]);
    }
    const tn_neuron_type *neg = &m->model->types[m->model->cores[0].type[m->place[17].slot]];
    int want_neg[4] = {-5, -10, -20, 40};
    for (int k = 0; k < 4; k++) {
        CU_ASSERT_EQUAL(neg->sigma[k] * neg->s[k], want_neg[k]);
        CU_ASSERT(neg->s[k] >= 0 && neg->s[k] <= 255);
    }
    CU_ASSERT_EQUAL(m->report.n_types, 2);
    CU_ASSERT_EQUAL(check_function(t, m), 0);
    tn_mapping_free(m);
    net_free(t);
}

/* |mult| 32 does not fit (8 x 32 = 256): refused, or clipped on request;
 * fan-in 65 refused; delay 16 refused; codes outside -8..7 refused. */
static void test_refusals(void)
{
    net *t = net_new(15, 1, 0);
    int in = add_input(t, "x", 65, 0.1f, 0, 1);
    int h = add_pop(t, "h", SNNC_POP_HIDDEN, 2, 9, 0, 32, 0, 0);
    snnc_projection *p = add_proj(t, in, h, 1);
    set_code(t, p, 0, 0, 1);
    set_code(t, p, 1, 0, 1);
    tn_mapping *m = NULL;
    snnc_err err = {0};
    CU_ASSERT_EQUAL(tn_map_netlist(&t->n, NULL, &m, &err), SNNC_EUNSUPPORTED);
    CU_ASSERT_PTR_NULL(m);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "mult 32"));
    tn_map_options opt = {.clip_mult = true};
    memset(&err, 0, sizeof err);
    CU_ASSERT_EQUAL_FATAL(tn_map_netlist(&t->n, &opt, &m, &err), SNNC_OK);
    CU_ASSERT_EQUAL(m->report.clipped_mult, 2);
    CU_ASSERT_EQUAL(m->model->types[0].s[3], 248);
    CU_ASSERT_EQUAL(m->model->types[0].sigma[3], -1);
    tn_mapping_free(m);
    t->pops[h].mult[0] = t->pops[h].mult[1] = 1;
    for (int i = 0; i < 65; i++)
        set_code(t, p, 1, i, 2);
    memset(&err, 0, sizeof err);
    CU_ASSERT_EQUAL(tn_map_netlist(&t->n, NULL, &m, &err), SNNC_EUNSUPPORTED);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "65 inputs"));
    set_code(t, p, 1, 64, 0);
    memset(&err, 0, sizeof err);
    CU_ASSERT_EQUAL(tn_map_netlist(&t->n, NULL, &m, &err), SNNC_OK);
    tn_mapping_free(m);
    p->delay = 16;
    memset(&err, 0, sizeof err);
    CU_ASSERT_EQUAL(tn_map_netlist(&t->n, NULL, &m, &err), SNNC_EUNSUPPORTED);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "delay 16"));
    p->delay = 1;
    set_code(t, p, 0, 3, 9);
    memset(&err, 0, sizeof err);
    CU_ASSERT_EQUAL(tn_map_netlist(&t->n, NULL, &m, &err), SNNC_EUNSUPPORTED);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "code 9"));
    net_free(t);
}

/* Code +8 (the negated -8 of a sign -1 source): a neuron with +8 and no -8
 * is negated, exactly (check_function: weight = mult * code); one with
 * both keeps the more frequent extreme and clips the other (+8 -> +7). */
static void test_code_plus8(void)
{
    net *t = net_new(15, 1, 0);
    int in = add_input(t, "x", 3, 0.1f, 0, 1);
    int h = add_pop(t, "h", SNNC_POP_HIDDEN, 2, 9, 0, 2, 0, 0);
    snnc_projection *p = add_proj(t, in, h, 1);
    set_code(t, p, 0, 0, 8);
    set_code(t, p, 0, 1, 3);
    set_code(t, p, 0, 2, -7);
    tn_mapping *m = NULL;
    snnc_err err = {0};
    CU_ASSERT_EQUAL_FATAL(tn_map_netlist(&t->n, NULL, &m, &err), SNNC_OK);
    CU_ASSERT_EQUAL(check_function(t, m), 0);
    CU_ASSERT_EQUAL(m->report.clipped_codes, 0);
    const tn_neuron_type *ty = &m->model->types[m->model->cores[0].type[m->place[3].slot]];
    CU_ASSERT_EQUAL(ty->sigma[0] * ty->s[0], -2);
    CU_ASSERT_EQUAL(ty->sigma[3] * ty->s[3], 16);
    tn_mapping_free(m);
    set_code(t, p, 1, 0, 8);
    set_code(t, p, 1, 1, -8);
    set_code(t, p, 1, 2, 8);
    CU_ASSERT_EQUAL_FATAL(tn_map_netlist(&t->n, NULL, &m, &err), SNNC_OK);
    CU_ASSERT_EQUAL(m->report.clipped_codes, 1);
    CU_ASSERT_EQUAL(check_function(t, m), 1); /* the one clipped weight */
    tn_mapping_free(m);
    net_free(t);
}

/* A neuron read on 65 cores needs 260 copies: refused, naming it. */
static void test_fanout_refused(void)
{
    net *t = net_new(15, 1, 0);
    int in = add_input(t, "x", 65 * 63, 0.1f, 0, 1);
    int h = add_pop(t, "h", SNNC_POP_HIDDEN, 1, 9, 1, 1, 0, 0);
    int q = add_pop(t, "q", SNNC_POP_HIDDEN, 65, 9, 0, 1, 0, 0);
    snnc_projection *p1 = add_proj(t, in, q, 1), *p2 = add_proj(t, h, q, 1);
    for (int j = 0; j < 65; j++) {
        set_code(t, p2, j, 0, 1);
        for (int i = 0; i < 63; i++)
            set_code(t, p1, j, j * 63 + i, 1);
    }
    tn_mapping *m = NULL;
    snnc_err err = {0};
    CU_ASSERT_EQUAL(tn_map_netlist(&t->n, NULL, &m, &err), SNNC_EUNSUPPORTED);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "population 'h' neuron 0"));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "65 axon groups"));
    /* 64 readers fit: 256 copies, a full core */
    set_code(t, p2, 64, 0, 0);
    CU_ASSERT_EQUAL_FATAL(tn_map_netlist(&t->n, NULL, &m, &err), SNNC_OK);
    CU_ASSERT_EQUAL(m->place[65 * 63].slots, 256);
    CU_ASSERT_EQUAL(m->report.n_cores, 66);
    check_limits(m);
    tn_mapping_free(m);
    net_free(t);
}

/* Input x (1 feature) -> hidden h (alpha 10, leak 0, mult 3, floor 0, v0 0;
 * code 5, delay 1) -> readouts r0 (code -3, leak +3, mult 1) and r1 (code
 * 7, leak -1, mult 3), both alpha 20, floor 100, v0 0, delay 15.  W = 15,
 * 2 steps, 1 readout window.  Every value the tests below expect, derived
 * from the rules of docs/TRUENORTH_MAPPING.md:
 *  - Weights (§1: four axons of types 0..3 weighing m (1, 2, 4, -8), the
 *    crossbar bits the code's 4-bit two's complement): 5 = 0101, types 0
 *    and 2: 3 (1 + 4) = 15 per spike; -3 = 1101: 1 + 4 - 8 = -3; 7 = 0111:
 *    3 (1 + 2 + 4) = 21.
 *  - Rate code (§4): x = (1.5, 0), scale 0.25: n = floor(1.5 / 0.25 + 1/2)
 *    = 6 spikes in window 0 at the phases p with ceil((p+1) 6/15) >
 *    ceil(6p/15): 0 2 5 7 10 12; none in window 1.  Injected at tick
 *    k + delay: 1 3 6 8 11 13, on each of the input's 4 axons: 24 spikes.
 *  - h (§2: each tick integrate, leak, then V >= alpha: spike, V -= alpha):
 *    +15 at 1 3 6 8 11 13, so V after each tick 1..14 = 5 5 10 0 0 5 5 10
 *    0 0 5 5 10 0 with spikes at 1 3 4 6 8 9 11 13 14: 9 (= 90 / 10), all
 *    before tick 16.  One destination group (the readouts' core, delay 15):
 *    4 copies, 36 spikes; neurons 4 + 2 on 1 core.  They arrive at
 *    16 18 19 21 23 24 26 28 29.
 *  - tn_sim_run(45): ticks 0..44, 45 leaks.  V never reaches the floor
 *    -100 (r1's lowest is -16 at tick 15) nor 2 alpha (at most one spike a
 *    tick: r0 gains at most 3, r1 20, from below 20), so alpha count + V =
 *    the total input:
 *    r0: 45 x 3 - 9 x 3 = 108 = 5 x 20 + 8 (fires at 6 13 25 35 42);
 *    r1: 9 x 21 - 45 x 1 = 144 = 7 x 20 + 4 (V -16 at tick 15, 4 at 16,
 *    fires at 18 19 21 23 24 26 29, V 19 after 29, then 15 leaks: 4).
 *    tn_map_decode without v_begin: scores alpha count + V = 108, 144:
 *    class 1.
 *  - Readout window (§4): [t0 + (T-1) W + lag, + W) with lag = the delays
 *    from the input, 1 + 15: [0 + 15 + 16, 46) = [31, 46); a sample takes
 *    46 ticks.  No hidden spike arrives after tick 29: the window's growth
 *    alpha count + V_end - V_begin is 15 leaks, r0 15 x 3 = 45 (V 6 -> 11,
 *    fires at 35 42: 2 x 20 + 11 - 6), r1 15 x -1 = -15 (V 18 -> 3, no
 *    spike): class 0. */
static net *two_neuron_net(void)
{
    net *t = net_new(15, 2, 1);
    int in = add_input(t, "x", 1, 0.25f, 0, 1);
    int h = add_pop(t, "h", SNNC_POP_HIDDEN, 1, 10, 0, 3, 0, 0);
    int r = add_pop(t, "y", SNNC_POP_READOUT, 2, 20, 3, 1, 100, 0);
    t->pops[r].leak[1] = -1;
    t->pops[r].mult[1] = 3;
    snnc_projection *p1 = add_proj(t, in, h, 1), *p2 = add_proj(t, h, r, 15);
    set_code(t, p1, 0, 0, 5);
    set_code(t, p2, 0, 0, -3);
    set_code(t, p2, 1, 0, 7);
    t->n.n_classes = 2;
    return t;
}

static void test_encode(void)
{
    net *t = two_neuron_net();
    tn_mapping *m = NULL;
    snnc_err err = {0};
    CU_ASSERT_EQUAL_FATAL(tn_map_netlist(&t->n, NULL, &m, &err), SNNC_OK);
    float x[2] = {1.5f, 0.0f};
    tn_input_spike *in = NULL;
    size_t n_in = 0;
    CU_ASSERT_EQUAL_FATAL(tn_map_encode_input(m, x, 2, 1, 0, &in, &n_in, &err), SNNC_OK);
    static const int ticks[6] = {1, 3, 6, 8, 11, 13};
    CU_ASSERT_EQUAL_FATAL(n_in, 24);
    for (size_t i = 0; i < n_in; i++) {
        CU_ASSERT_EQUAL(in[i].tick, ticks[i / 4]);
        CU_ASSERT_EQUAL(in[i].core, 0);
        CU_ASSERT_EQUAL(in[i].axon, m->inputs[0].feeds[i % 4].axon);
    }
    free(in);
    /* clamped to W = 15 spikes, one per tick; negative -> 0; offset t0 */
    float big[2] = {100.0f, -3.0f};
    CU_ASSERT_EQUAL_FATAL(tn_map_encode_input(m, big, 2, 1, 1000, &in, &n_in, &err), SNNC_OK);
    CU_ASSERT_EQUAL(n_in, 15 * 4);
    CU_ASSERT_EQUAL(in[0].tick, 1001);
    CU_ASSERT_EQUAL(in[n_in - 1].tick, 1015);
    for (size_t i = 0; i < n_in; i++)
        CU_ASSERT_EQUAL(in[i].tick, 1001 + (int64_t)(i / 4));
    free(in);
    float nan[2] = {NAN, 0.0f};
    CU_ASSERT_EQUAL(tn_map_encode_input(m, nan, 2, 1, 0, &in, &n_in, &err), SNNC_EINVALID);
    tn_mapping_free(m);
    net_free(t);
}

static void test_simulate_two_neurons(void)
{
    net *t = two_neuron_net();
    tn_mapping *m = NULL;
    snnc_err err = {0};
    CU_ASSERT_EQUAL_FATAL(tn_map_netlist(&t->n, NULL, &m, &err), SNNC_OK);
    CU_ASSERT_EQUAL(m->report.n_cores, 1);
    CU_ASSERT_EQUAL(m->report.neurons, 4 + 2);
    CU_ASSERT_EQUAL(check_function(t, m), 0);
    /* write, read back, compare */
    char path[] = "/tmp/test_tn_map_XXXXXX";
    int fd = mkstemp(path);
    CU_ASSERT_FATAL(fd >= 0);
    close(fd);
    CU_ASSERT_EQUAL_FATAL(tn_model_write(path, m->model, &err), SNNC_OK);
    tn_model *back = NULL;
    CU_ASSERT_EQUAL_FATAL(tn_model_read(path, &back, &err), SNNC_OK);
    unlink(path);
    char why[256] = "";
    CU_ASSERT(tn_model_equal(m->model, back, why, sizeof why));
    /* simulate the model read back */
    float x[2] = {1.5f, 0.0f};
    tn_input_spike *in = NULL;
    size_t n_in = 0;
    CU_ASSERT_EQUAL_FATAL(tn_map_encode_input(m, x, 2, 1, 0, &in, &n_in, &err), SNNC_OK);
    CU_ASSERT_EQUAL(tn_map_ticks(m), 46);
    tn_sim *s = NULL;
    CU_ASSERT_EQUAL_FATAL(tn_sim_new(back, 1, &s, &err), SNNC_OK);
    tn_output_spike *out = NULL;
    size_t n_out = 0;
    tn_activity act = {0};
    CU_ASSERT_EQUAL_FATAL(tn_sim_run(s, 45, in, n_in, &out, &n_out, &act, &err), SNNC_OK);
    int hidden = 0, hidden_w0 = 0;
    for (size_t i = 0; i < n_out; i++) {
        int g = owner(m, tn_model_core_index(back, out[i].core), out[i].neuron);
        if (g == 1) {
            hidden++;
            hidden_w0 += out[i].tick < 16;
        }
    }
    CU_ASSERT_EQUAL(hidden, 9 * 4);
    CU_ASSERT_EQUAL(hidden_w0, 9 * 4);
    int32_t counts[2];
    int64_t scores[2];
    tn_map_result res = {counts, scores, -1};
    tn_map_decode(m, s, out, n_out, 0, 45, NULL, &res);
    CU_ASSERT_EQUAL(counts[0], 5);
    CU_ASSERT_EQUAL(counts[1], 7);
    CU_ASSERT_EQUAL(tn_sim_potential(s, m->readout[0].core_index, m->readout[0].slot), 8);
    CU_ASSERT_EQUAL(tn_sim_potential(s, m->readout[1].core_index, m->readout[1].slot), 4);
    CU_ASSERT_EQUAL(scores[0], 108);
    CU_ASSERT_EQUAL(scores[1], 144);
    CU_ASSERT_EQUAL(res.cls, 1);
    free(out);
    tn_sim_free(s);
    /* the readout window of a fresh run */
    int64_t b, e;
    tn_map_readout_window(m, 0, &b, &e);
    CU_ASSERT_EQUAL(b, 31);
    CU_ASSERT_EQUAL(e, 46);
    CU_ASSERT_EQUAL_FATAL(tn_sim_new(back, 1, &s, &err), SNNC_OK);
    CU_ASSERT_EQUAL_FATAL(tn_map_run_sample(m, s, in, n_in, 0, &res, NULL, &err), SNNC_OK);
    CU_ASSERT_EQUAL(tn_sim_tick(s), 46);
    CU_ASSERT_EQUAL(scores[0], 45);
    CU_ASSERT_EQUAL(scores[1], -15);
    CU_ASSERT_EQUAL(res.cls, 0);
    tn_sim_free(s);
    free(in);
    tn_model_free(back);
    tn_mapping_free(m);
    net_free(t);
}

/* B random samples x in [-1, 1]: the TrueNorth simulation of m must equal
 * the ideal spiking stage (snnc_netlist_simulate) spike for spike for every
 * netlist neuron (copies fire with their original; relays are not netlist
 * neurons, their effect is in their targets' spikes) and in every class
 * score; more than min_spikes ideal spikes make it non-vacuous. */
static void compare_ideal(const net *t, const tn_mapping *m, int B, int T, int F, int C,
                          uint32_t seed, int min_spikes)
{
    snnc_err err = {0};
    CU_ASSERT_FATAL(m->n_readout <= 64 && C <= 16);
    int64_t dims[3] = {B, T, F};
    snnc_tensor *x = snnc_tensor_new(SNNC_F32, 3, dims, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(x);
    float *xd = x->data;
    for (int64_t i = 0; i < x->count; i++)
        xd[i] = ((float)(lcg(&seed) % 2001) - 1000.0f) / 1000.0f;
    snnc_sim_result ideal;
    CU_ASSERT_EQUAL_FATAL(snnc_netlist_simulate(&t->n, x, true, &ideal, &err), SNNC_OK);
    int32_t counts[64];
    int64_t scores[16];
    tn_map_result res = {counts, scores, -1};
    int spikes = 0, mismatched = 0, score_diff = 0;
    for (int b = 0; b < B; b++) {
        tn_input_spike *sp = NULL;
        size_t n_sp = 0;
        CU_ASSERT_EQUAL_FATAL(tn_map_encode_input(m, xd + (size_t)b * T * F, T, F, 0, &sp, &n_sp,
                                                  &err), SNNC_OK);
        tn_sim *s = NULL;
        CU_ASSERT_EQUAL_FATAL(tn_sim_new(m->model, 1, &s, &err), SNNC_OK);
        if (b == 0) { /* spike trains against the raster */
            tn_output_spike *out = NULL;
            size_t n_out = 0;
            CU_ASSERT_EQUAL_FATAL(tn_sim_run(s, ideal.ticks, sp, n_sp, &out, &n_out, NULL, &err),
                                  SNNC_OK);
            uint8_t *tn = calloc((size_t)ideal.ticks * (size_t)m->n_neurons, 1);
            for (size_t i = 0; i < n_out; i++) {
                int g = owner(m, tn_model_core_index(m->model, out[i].core), out[i].neuron);
                if (g >= 0 && out[i].neuron == m->place[g].slot)
                    tn[out[i].tick * m->n_neurons + g] = 1;
                /* a copy fires when its original does */
                if (g >= 0 && out[i].neuron != m->place[g].slot) {
                    bool orig = false;
                    for (size_t k = 0; k < n_out; k++)
                        orig |= out[k].tick == out[i].tick && out[k].core == out[i].core &&
                                out[k].neuron == m->place[g].slot;
                    mismatched += !orig;
                }
            }
            for (int64_t k = 0; k < ideal.ticks; k++)
                for (int g = 0; g < m->n_neurons; g++) {
                    if (m->place[g].core_index < 0)
                        continue; /* inputs */
                    uint8_t want = ideal.raster[k * ideal.n_neurons + g];
                    spikes += want;
                    mismatched += want != tn[k * m->n_neurons + g];
                }
            free(tn), free(out);
            tn_sim_free(s);
            CU_ASSERT_EQUAL_FATAL(tn_sim_new(m->model, 1, &s, &err), SNNC_OK);
        }
        CU_ASSERT_EQUAL_FATAL(tn_map_run_sample(m, s, sp, n_sp, 0, &res, NULL, &err), SNNC_OK);
        for (int k = 0; k < C; k++)
            score_diff += (double)scores[k] != ideal.scores[b * C + k];
        tn_sim_free(s);
        free(sp);
    }
    CU_ASSERT(spikes > min_spikes); /* the comparison is not vacuous */
    CU_ASSERT_EQUAL(mismatched, 0);
    CU_ASSERT_EQUAL(score_diff, 0);
    snnc_sim_result_free(&ideal);
    snnc_tensor_free(x);
}

/* The ideal spiking stage (mapper/netlist_sim.c, an independent
 * simulator of the netlist) and TrueNorth must agree spike for spike: a
 * random signed network — inputs on two channels, a hidden pair sharing one
 * tensor (recurrent both ways, delay W), a signed readout pair — random
 * parameters, three random samples; every original's spike train over the
 * whole run (and every copy's), and the class scores, must be identical. */
static void test_matches_ideal_stage(void)
{
    const int W = 15, T = 5, F = 4, H = 28, C = 10;
    net *t = net_new(W, T, 2);
    t->n.n_classes = C;
    uint32_t seed = 2024;
    int ip = add_input(t, "x+", F, 0.05f, 0, 1), in = add_input(t, "x-", F, 0.05f, 0, -1);
    int hp = add_pop(t, "h+", SNNC_POP_HIDDEN, H, 1, 0, 1, 0, 0);
    int hn = add_pop(t, "h-", SNNC_POP_HIDDEN, H, 1, 0, 1, 0, 0);
    int rp = add_pop(t, "y+", SNNC_POP_READOUT, C, 1, 0, 1, 1000, 0);
    int rn = add_pop(t, "y-", SNNC_POP_READOUT, C, 1, 0, 1, 1000, 0);
    t->pops[rn].sign = t->pops[hn].sign = -1;
    memcpy(t->pops[hn].tensor, t->pops[hp].tensor, sizeof t->pops[hn].tensor);
    memcpy(t->pops[rn].tensor, t->pops[rp].tensor, sizeof t->pops[rn].tensor);
    for (int p = hp; p <= rn; p++)
        for (int j = 0; j < t->pops[p].n; j++) {
            t->pops[p].threshold[j] = 8 + (int)(lcg(&seed) % 33);
            t->pops[p].leak[j] = (int)(lcg(&seed) % 7) - 3;
            t->pops[p].mult[j] = 1 + (int)(lcg(&seed) % 4);
            if (p < rp)
                t->pops[p].floor[j] = (int)(lcg(&seed) % 51);
            t->pops[p].v0[j] = (int)(lcg(&seed) % (uint32_t)t->pops[p].threshold[j]);
        }
    int srcs[4] = {ip, in, hp, hn}, delays[4] = {1, 1, W, W};
    for (int a = 0; a < 4; a++)
        for (int d = hp; d <= hn; d++) {
            snnc_projection *pr = add_proj(t, srcs[a], d, delays[a]);
            for (int j = 0; j < H; j++)
                for (int i = 0; i < t->pops[srcs[a]].n; i++)
                    set_code(t, pr, j, i, (int)(lcg(&seed) % 16) - 8);
        }
    for (int a = hp; a <= hn; a++)
        for (int d = rp; d <= rn; d++) {
            snnc_projection *pr = add_proj(t, a, d, W);
            for (int j = 0; j < C; j++)
                for (int i = 0; i < H; i++)
                    set_code(t, pr, j, i, (int)(lcg(&seed) % 16) - 8);
        }
    tn_mapping *m = NULL;
    snnc_err err = {0};
    CU_ASSERT_EQUAL_FATAL(tn_map_netlist(&t->n, NULL, &m, &err), SNNC_OK);
    /* one core: (2 F inputs + 2 H hidden at delay W) x 4 = 64 x 4 = 256
     * axons (the readouts read the hidden at delay W too: no new group),
     * 2 H x 4 copies + 2 C readouts = 224 + 20 = 244 <= 256 neurons */
    CU_ASSERT_EQUAL(m->report.n_cores, 1);
    CU_ASSERT_EQUAL(check_function(t, m), 0);
    json_t *md = json_loads(m->model->cores[0].metadata_json, 0, NULL);
    json_t *outs = json_object_get(json_object_get(md, "connectors"), "outputs");
    CU_ASSERT_EQUAL(json_array_size(outs), 2); /* h+/h- and y+/y- share their tensors */
    CU_ASSERT_EQUAL(json_array_size(json_object_get(md, "populations")), 4);
    json_decref(md);
    compare_ideal(t, m, 3, T, F, C, seed, 200);
    tn_mapping_free(m);
    /* every hidden neuron relayed (its one group has delay W): 2 H = 56
     * chunks of 4 relays (224 <= 256) on one splitter core, one axon each,
     * and 1 slot each on the hidden core (0 direct groups + 1 chunk copy,
     * §2b); still the ideal stage tick for tick */
    tn_map_options all = {.relay_groups = -1};
    CU_ASSERT_EQUAL_FATAL(tn_map_netlist(&t->n, &all, &m, &err), SNNC_OK);
    CU_ASSERT_EQUAL(m->report.n_cores, 2);
    CU_ASSERT_EQUAL(m->report.relay_cores, 1);
    CU_ASSERT_EQUAL(m->report.relayed_sources, 2 * H);
    CU_ASSERT_EQUAL(m->report.relays, 4 * 2 * H);
    CU_ASSERT_EQUAL(m->report.cores[1].axons, 2 * H);
    CU_ASSERT_EQUAL(m->place[2 * F].slots, 1);
    check_limits(m);
    CU_ASSERT_EQUAL(check_function(t, m), 0);
    compare_ideal(t, m, 3, T, F, C, seed, 200);
    tn_mapping_free(m);
    net_free(t);
}

/* A tanh pair as snnc_lower emits it (mapper/lower.c): h+ (sign 1) and h-
 * (sign -1) on one tensor, each projection's codes = sign(dst) sign(src) A
 * for the ANN's codes A.  A = -8 on every input row gives h- a +8 from the
 * input (h- is negated on TrueNorth: exact); A = -8 on a recurrent and a
 * readout weight would give the neuron -8 from one half and +8 from the
 * other, which no 4-bit two's complement holds: the lowering keeps the more
 * frequent extreme (-8 on ties) and makes the other +-7 — as written here
 * by hand.  So nothing is clipped on TrueNorth, and TrueNorth equals the
 * ideal spiking stage spike for spike and score for score. */
static void test_signed_pair_plus8(void)
{
    const int W = 15, T = 4, F = 3, H = 6, C = 3;
    net *t = net_new(W, T, 2);
    t->n.n_classes = C;
    uint32_t seed = 4242;
    int x = add_input(t, "x", F, 0.05f, 0, 1);
    int hp = add_pop(t, "h+", SNNC_POP_HIDDEN, H, 1, 0, 1, 0, 0);
    int hn = add_pop(t, "h-", SNNC_POP_HIDDEN, H, 1, 0, 1, 0, 0);
    int y = add_pop(t, "y", SNNC_POP_READOUT, C, 1, 0, 1, 1000, 0);
    t->pops[hn].sign = -1;
    memcpy(t->pops[hn].tensor, t->pops[hp].tensor, sizeof t->pops[hn].tensor);
    for (int p = hp; p <= y; p++)
        for (int j = 0; j < t->pops[p].n; j++) {
            t->pops[p].threshold[j] = 8 + (int)(lcg(&seed) % 33);
            t->pops[p].leak[j] = (int)(lcg(&seed) % 7) - 3;
            t->pops[p].mult[j] = 1 + (int)(lcg(&seed) % 4);
            if (p < y)
                t->pops[p].floor[j] = (int)(lcg(&seed) % 51);
            t->pops[p].v0[j] = (int)(lcg(&seed) % (uint32_t)t->pops[p].threshold[j]);
        }
    int8_t ax[6][3], ah[6][6], ay[3][6]; /* the ANN's codes; -8 where noted */
    for (int j = 0; j < H; j++) {
        for (int i = 0; i < F; i++)
            ax[j][i] = (int8_t)(i == 0 ? -8 : (int)(lcg(&seed) % 15) - 7);
        for (int i = 0; i < H; i++)
            ah[j][i] = (int8_t)(i == (j + 1) % H ? -8 : (int)(lcg(&seed) % 15) - 7);
    }
    for (int k = 0; k < C; k++)
        for (int i = 0; i < H; i++)
            ay[k][i] = (int8_t)(i == k ? -8 : (int)(lcg(&seed) % 15) - 7);
    int half[2] = {hp, hn};
    for (int d = 0; d < 2; d++) {
        int sd = t->pops[half[d]].sign;
        snnc_projection *pr = add_proj(t, x, half[d], 1);
        for (int j = 0; j < H; j++)
            for (int i = 0; i < F; i++)
                set_code(t, pr, j, i, sd * ax[j][i]);
        for (int s = 0; s < 2; s++) {
            int ss = t->pops[half[s]].sign;
            pr = add_proj(t, half[s], half[d], W);
            for (int j = 0; j < H; j++)
                for (int i = 0; i < H; i++) {
                    int c = sd * ss * ah[j][i];
                    /* h+ j: -8 from x and h+, +8 from h-: keeps -8; h- j: +8
                     * from x and h+, -8 from h-: keeps +8 */
                    if (i == (j + 1) % H && c == (d == 0 ? 8 : -8))
                        c = c > 0 ? 7 : -7;
                    set_code(t, pr, j, i, c);
                }
        }
    }
    for (int s = 0; s < 2; s++) {
        snnc_projection *pr = add_proj(t, half[s], y, W);
        for (int k = 0; k < C; k++)
            for (int i = 0; i < H; i++) {
                int c = t->pops[half[s]].sign * ay[k][i];
                set_code(t, pr, k, i, c == 8 ? 7 : c); /* a tie: -8 from h+ kept */
            }
    }
    tn_mapping *m = NULL;
    snnc_err err = {0};
    CU_ASSERT_EQUAL_FATAL(tn_map_netlist(&t->n, NULL, &m, &err), SNNC_OK);
    CU_ASSERT_EQUAL(m->report.clipped_codes, 0);
    CU_ASSERT_EQUAL(check_function(t, m), 0);
    /* h- neurons are negated: type 3 weighs +8 m */
    for (int j = 0; j < H; j++) {
        const tn_map_place *pl = &m->place[F + H + j];
        const tn_neuron_type *ty = &m->model->types[m->model->cores[pl->core_index].type[pl->slot]];
        CU_ASSERT_EQUAL(ty->sigma[3] * ty->s[3], 8 * t->pops[hn].mult[j]);
    }
    compare_ideal(t, m, 3, T, F, C, seed, 100);
    tn_mapping_free(m);
    net_free(t);
}

/* Relays: h feeds 70 neurons q_j that each fill a core (63 private inputs
 * + h = 64 axon groups), with delay 3: 70 groups need 280 copies, more than
 * a core.  Through relays: 2 copies of h (delay 1) reach two splitter cores
 * (64 + 6 groups: 256 + 24 relay neurons, threshold 1), whose relays send
 * with delay 3 - 1 = 2; h's delay-1 group (the readout's core) keeps its 4
 * direct copies: 6 slots.  1 + 70 + 2 = 73 cores.  TrueNorth still equals
 * the ideal stage spike for spike; with delay 1 it is refused. */
static void test_relay_fanout(void)
{
    const int W = 15, T = 3, Q = 70, P = 63, C = 10, F = 1 + Q * P;
    net *t = net_new(W, T, 2);
    t->n.n_classes = C;
    uint32_t seed = 77;
    int in = add_input(t, "x", F, 0.05f, 0, 1);
    int h = add_pop(t, "h", SNNC_POP_HIDDEN, 1, 10, 0, 2, 0, 0);
    int q = add_pop(t, "q", SNNC_POP_HIDDEN, Q, 1, 0, 1, 0, 0);
    int y = add_pop(t, "y", SNNC_POP_READOUT, C, 1, 0, 1, 1000, 0);
    for (int p = q; p <= y; p++)
        for (int j = 0; j < t->pops[p].n; j++) {
            t->pops[p].threshold[j] = 8 + (int)(lcg(&seed) % 33);
            t->pops[p].leak[j] = (int)(lcg(&seed) % 5) - 2;
            t->pops[p].mult[j] = 1 + (int)(lcg(&seed) % 3);
            t->pops[p].floor[j] = (int)(lcg(&seed) % 51);
            t->pops[p].v0[j] = (int)(lcg(&seed) % (uint32_t)t->pops[p].threshold[j]);
        }
    snnc_projection *xh = add_proj(t, in, h, 1), *xq = add_proj(t, in, q, 1);
    snnc_projection *hq = add_proj(t, h, q, 3), *qy = add_proj(t, q, y, W);
    snnc_projection *hy = add_proj(t, h, y, 1);
    set_code(t, xh, 0, 0, 7);
    for (int j = 0; j < Q; j++) {
        for (int i = 0; i < P; i++)
            set_code(t, xq, j, 1 + j * P + i, random_code(&seed));
        set_code(t, hq, j, 0, (j % 2 ? 1 : -1) * (3 + j % 5));
    }
    for (int k = 0; k < C; k++) {
        for (int i = 0; i < 5; i++)
            set_code(t, qy, k, 5 * k + i, random_code(&seed));
        set_code(t, hy, k, 0, k - 5);
    }
    tn_mapping *m = NULL;
    snnc_err err = {0};
    CU_ASSERT_EQUAL_FATAL(tn_map_netlist(&t->n, NULL, &m, &err), SNNC_OK);
    CU_ASSERT_EQUAL(m->report.n_cores, 1 + Q + 2);
    CU_ASSERT_EQUAL(m->report.relay_cores, 2);
    CU_ASSERT_EQUAL(m->report.relayed_sources, 1);
    CU_ASSERT_EQUAL(m->report.relays, 4 * Q);
    CU_ASSERT_EQUAL(m->place[F].slots, 4 + 2);
    CU_ASSERT_EQUAL(m->report.cores[1 + Q].neurons, 256);
    CU_ASSERT_EQUAL(m->report.cores[1 + Q + 1].neurons, 4 * (Q - 64));
    check_limits(m);
    CU_ASSERT_EQUAL(check_function(t, m), 0);
    compare_ideal(t, m, 2, T, F, C, seed, 300);
    tn_mapping_free(m);
    hq->delay = 1; /* 71 groups of delay 1: no relay can serve them */
    CU_ASSERT_EQUAL(tn_map_netlist(&t->n, NULL, &m, &err), SNNC_EUNSUPPORTED);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "population 'h' neuron 0"));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "71 of them with delay 1"));
    net_free(t);
}

/* A lowered split network (mapper/lower.c): signed inputs (two channels),
 * 8 features, a tanh recurrent layer of 60 (fan-in 2 x 8 + 2 x 60 = 136
 * channels over 64: three column groups [0, 20) [20, 40) [40, 68) of at
 * most 56 channels), a linear readout 60 -> 10 split [0, 30) [30, 60).
 * Random codes -7..7 (no +8 to clip), random scales; parameters perturbed
 * so every neuron does something.  Every core within 256 axons and
 * neurons, one destination per neuron, the function mult * code rebuilt
 * from the model, and TrueNorth = the ideal stage spike for spike. */
static void test_split_network(void)
{
    enum { F = 8, H = 60, C = 10, T = 4 };
    uint32_t seed = 99;
    snnc_ann a;
    snnc_ann_layer L[2];
    snnc_layer_constraints S[2];
    memset(&a, 0, sizeof a), memset(L, 0, sizeof L), memset(S, 0, sizeof S);
    snprintf(a.input_name, sizeof a.input_name, "x");
    snprintf(a.output_name, sizeof a.output_name, "y");
    a.n_inputs = F, a.steps = T, a.batch_first = true, a.n_layers = 2, a.layers = L;
    a.in_q = (snnc_act_quant){31, -1, 1};
    int rows[2] = {H, C}, cols[2] = {F + H, H}, groups[2] = {3, 2};
    int starts[2][4] = {{0, 20, 40, F + H}, {0, 30, H, 0}};
    for (int l = 0; l < 2; l++) {
        snprintf(L[l].name, sizeof L[l].name, l ? "fc" : "rnn");
        L[l].role = l ? SNNC_ANN_READOUT : SNNC_ANN_RECURRENT;
        L[l].act = l ? SNNC_ACT_NONE : SNNC_ACT_TANH;
        L[l].n_in = l ? H : F;
        L[l].n_out = rows[l];
        L[l].out_q = l ? (snnc_act_quant){0, 0, 0} : (snnc_act_quant){31, -1, 1};
        L[l].b = calloc((size_t)rows[l], sizeof(float));
        S[l].n_rows = rows[l], S[l].n_cols = cols[l], S[l].n_groups = groups[l];
        S[l].activity_range = 1, S[l].in_range = 1;
        S[l].group_start = malloc(sizeof starts[l]);
        memcpy(S[l].group_start, starts[l], sizeof starts[l]);
        S[l].codes = malloc((size_t)rows[l] * cols[l]);
        S[l].scales = malloc((size_t)rows[l] * groups[l] * sizeof(float));
        for (int k = 0; k < rows[l] * cols[l]; k++)
            S[l].codes[k] = (int8_t)((int)(lcg(&seed) % 15) - 7);
        for (int k = 0; k < rows[l] * groups[l]; k++)
            S[l].scales[k] = 0.01f + (float)(lcg(&seed) % 100) / 2000.0f;
        for (int j = 0; j < rows[l]; j++)
            L[l].b[j] = ((float)(lcg(&seed) % 101) - 50.0f) / 500.0f;
    }
    snnc_netlist *low = NULL;
    snnc_err err = {0};
    CU_ASSERT_EQUAL_FATAL(snnc_lower(&a, S, 2, &low, &err), SNNC_OK);
    /* 2 inputs, 3 x 2 partials, the tanh pair, 2 readout groups */
    CU_ASSERT_EQUAL_FATAL(low->n_pops, 12);
    CU_ASSERT_FATAL(low->n_projs <= 48);
    net *t = net_new(low->window, low->steps, low->readout_windows);
    t->n.n_classes = low->n_classes;
    t->n.n_pops = low->n_pops, t->n.n_projs = low->n_projs;
    memcpy(t->pops, low->pops, (size_t)low->n_pops * sizeof *low->pops);
    memcpy(t->projs, low->projs, (size_t)low->n_projs * sizeof *low->projs);
    free(low->pops), free(low->projs), free(low->residual), free(low);
    for (int p = 0; p < t->n.n_pops; p++) /* partial and hidden neurons with some noise */
        for (int j = 0; t->pops[p].role != SNNC_POP_INPUT && t->pops[p].role != SNNC_POP_READOUT &&
                        j < t->pops[p].n; j++) {
            t->pops[p].leak[j] += (int)(lcg(&seed) % 5) - 2;
            t->pops[p].floor[j] = (int)(lcg(&seed) % 8);
        }
    tn_mapping *m = NULL;
    CU_ASSERT_EQUAL_FATAL(tn_map_netlist(&t->n, NULL, &m, &err), SNNC_OK);
    CU_ASSERT(m->report.n_cores > 1);
    CU_ASSERT(m->report.max_axons <= TN_AXONS);
    CU_ASSERT(m->report.max_neurons <= TN_NEURONS);
    CU_ASSERT_EQUAL(m->report.clipped_codes, 0);
    check_limits(m);
    CU_ASSERT_EQUAL(check_function(t, m), 0);
    compare_ideal(t, m, 3, T, F, C, seed, 500);
    tn_mapping_free(m);
    net_free(t);
    for (int l = 0; l < 2; l++) {
        free(L[l].b);
        free(S[l].group_start), free(S[l].codes), free(S[l].scales);
    }
}

static CU_TestInfo tests[] = {
    {"paper shape: one core, 256 axons, 234 neurons", test_paper_shape},
    {"fan-in forces 3 cores", test_fanin_cores},
    {"neuron copies force 3 cores", test_neuron_cores},
    {"crossbar bits = two's complement codes; type weights", test_twos_complement},
    {"refusals: mult, fan-in, delay, code", test_refusals},
    {"fan-out beyond 64 destination groups refused", test_fanout_refused},
    {"relays: 70 destination groups through splitter cores = ideal", test_relay_fanout},
    {"code +8: negated neuron, or clipped", test_code_plus8},
    {"rate code of one sample", test_encode},
    {"2-neuron netlist: write, read, simulate, decode", test_simulate_two_neurons},
    {"TrueNorth = ideal spiking stage, spike for spike", test_matches_ideal_stage},
    {"split network: limits, function, = ideal stage", test_split_network},
    {"tanh pair with codes +8 (as lowered) = ideal, spike for spike", test_signed_pair_plus8},
    CU_TEST_INFO_NULL,
};

SNNC_TEST_MAIN("tn_map")
