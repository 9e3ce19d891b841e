/* netlist_sim.c — tick-by-tick integer simulation of a spiking netlist, the
 * "ideal spiking" stage (interface: mapper/mapper.h; neuron and time
 * semantics: mapper/netlist.h).  Inputs are deterministic rate codes: step
 * t's value x on a population of sign s gives n = round(s x / scale)
 * clamped to [0, W] spikes in window t, at the phases p where
 * ceil((p+1) n / W) > ceil(p n / W) (the first at phase 0, so that neurons
 * downstream have the rest of the window to emit their counts).  A spike emitted at tick k through a
 * projection of delay d is integrated at tick k + d.  Each population counts
 * in its own windows, shifted by its lag (the feedforward delays from the
 * input); the readout's score is the growth of threshold*count + V over
 * its window of the last step.  Samples are independent: they are shared
 * out over threads (each with its own potentials and spike buffers; the
 * synapse lists are shared), and the result does not depend on how many. */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ir/error.h"
#include "ir/tensor.h"
#include "mapper.h"

typedef struct syn_list {   /* per projection, transposed: the synapses of each source neuron */
    int *start;             /* [src.n + 1] */
    int *dst;               /* global neuron index */
    int32_t *w;             /* mult[dst] * code */
} syn_list;

typedef struct sim_ctx {    /* what every sample shares */
    const snnc_netlist *n;
    int N, R, T, W;
    int *off, *lag, *pop_of;
    int *out_start, *out_proj; /* projections out of population p: out_proj[out_start[p] ..] */
    syn_list *syn;
    int32_t *thr, *leak, *floor_, *v0;
} sim_ctx;

typedef struct sim_state {  /* one thread's samples */
    int64_t *buf;           /* [R][N] input arriving at a tick */
    int64_t *V, *total;     /* potential, spikes over the sample */
    int *spiked;            /* neurons that spiked this tick */
    int *incount;           /* [T][N] input spike counts of the sample */
    int64_t events, spikes;
} sim_state;

/* A recurrence (no lag): to an earlier population (or itself), or between
 * two populations of the same tensor and role (a tanh pair's halves); a
 * split layer's partials -> final (same tensor, other role) is feedforward. */
static bool is_recurrence(const snnc_netlist *n, const snnc_projection *pr)
{
    const snnc_population *S = &n->pops[pr->src], *D = &n->pops[pr->dst];
    return pr->src >= pr->dst || (strcmp(S->tensor, D->tensor) == 0 && S->role == D->role);
}

int snnc_netlist_lag(const snnc_netlist *n, int pop)
{
    if (!n || pop < 0 || pop >= n->n_pops || n->pops[pop].role == SNNC_POP_INPUT)
        return 0;
    int lag = 0;
    for (int k = 0; k < n->n_projs; k++) {
        const snnc_projection *pr = &n->projs[k];
        if (pr->dst == pop && !is_recurrence(n, pr)) {
            int l = snnc_netlist_lag(n, pr->src) + pr->delay;
            lag = l > lag ? l : lag;
        }
    }
    return lag;
}

static int check_netlist(const snnc_netlist *n, snnc_err *err)
{
    if (!n || n->window < 1 || n->steps < 1 || n->n_pops < 1 || !n->pops || (n->n_projs > 0 && !n->projs))
        return snnc_fail(err, SNNC_EINVALID, "netlist: no window, steps or populations");
    for (int p = 0; p < n->n_pops; p++) {
        const snnc_population *P = &n->pops[p];
        if (P->n < 0 || (P->role != SNNC_POP_INPUT && P->n > 0 &&
                         (!P->threshold || !P->leak || !P->mult || !P->floor || !P->v0)))
            return snnc_fail(err, SNNC_EINVALID, "netlist: population '%s' is incomplete", P->name);
        for (int j = 0; P->role != SNNC_POP_INPUT && j < P->n; j++)
            if (P->threshold[j] < 1 || P->floor[j] < 0)
                return snnc_fail(err, SNNC_EINVALID, "netlist: population '%s' neuron %d: threshold %d, floor %d",
                                 P->name, j, P->threshold[j], P->floor[j]);
        if (P->role == SNNC_POP_INPUT && !(P->input_scale > 0))
            return snnc_fail(err, SNNC_EINVALID, "netlist: input population '%s' has no scale", P->name);
    }
    for (int k = 0; k < n->n_projs; k++) {
        const snnc_projection *pr = &n->projs[k];
        if (pr->src < 0 || pr->src >= n->n_pops || pr->dst < 0 || pr->dst >= n->n_pops ||
            n->pops[pr->dst].role == SNNC_POP_INPUT || pr->delay < 1 || pr->delay > 64 || !pr->code)
            return snnc_fail(err, SNNC_EINVALID, "netlist: projection %d is invalid", k);
    }
    return SNNC_OK;
}

static void ctx_free(sim_ctx *c)
{
    for (int k = 0; c->syn && k < c->n->n_projs; k++) {
        free(c->syn[k].start);
        free(c->syn[k].dst);
        free(c->syn[k].w);
    }
    free(c->syn);
    free(c->off);
    free(c->lag);
    free(c->pop_of);
    free(c->out_start);
    free(c->out_proj);
    free(c->thr);
    free(c->leak);
    free(c->floor_);
    free(c->v0);
}

static void state_free(sim_state *st)
{
    free(st->buf), free(st->V), free(st->total), free(st->spiked), free(st->incount);
    memset(st, 0, sizeof *st);
}

static int state_init(sim_state *st, const sim_ctx *c)
{
    size_t N = (size_t)c->N + 1;
    memset(st, 0, sizeof *st);
    st->buf = calloc((size_t)c->R * N, sizeof *st->buf);
    st->V = calloc(N, sizeof *st->V);
    st->total = calloc(N, sizeof *st->total);
    st->spiked = calloc(N, sizeof *st->spiked);
    st->incount = calloc((size_t)c->T * N, sizeof *st->incount);
    return st->buf && st->V && st->total && st->spiked && st->incount ? 0 : -1;
}

static int build_syn(sim_ctx *c, int k)
{
    const snnc_projection *pr = &c->n->projs[k];
    const snnc_population *S = &c->n->pops[pr->src], *D = &c->n->pops[pr->dst];
    syn_list *s = &c->syn[k];
    int64_t nnz = 0;
    for (int64_t q = 0; q < (int64_t)S->n * D->n; q++)
        nnz += pr->code[q] != 0;
    s->start = calloc((size_t)S->n + 1, sizeof *s->start);
    s->dst = malloc((size_t)nnz * sizeof *s->dst + 1);
    s->w = malloc((size_t)nnz * sizeof *s->w + 1);
    if (!s->start || !s->dst || !s->w)
        return -1;
    int e = 0;
    for (int i = 0; i < S->n; i++) {
        s->start[i] = e;
        for (int j = 0; j < D->n; j++) {
            int8_t code = pr->code[(size_t)j * S->n + i];
            if (code) {
                s->dst[e] = c->off[pr->dst] + j;
                s->w[e++] = D->mult[j] * code;
            }
        }
    }
    s->start[S->n] = e;
    return 0;
}

static int ctx_init(sim_ctx *c, const snnc_netlist *n)
{
    memset(c, 0, sizeof *c);
    c->n = n;
    c->T = n->steps;
    c->W = n->window;
    c->off = malloc(((size_t)n->n_pops + 1) * sizeof *c->off);
    c->lag = malloc((size_t)n->n_pops * sizeof *c->lag);
    c->syn = calloc((size_t)n->n_projs + 1, sizeof *c->syn);
    if (!c->off || !c->lag || !c->syn)
        return -1;
    c->off[0] = 0;
    for (int p = 0; p < n->n_pops; p++) {
        c->off[p + 1] = c->off[p] + n->pops[p].n;
        c->lag[p] = snnc_netlist_lag(n, p);
    }
    c->N = c->off[n->n_pops];
    int maxd = 1;
    for (int k = 0; k < n->n_projs; k++)
        maxd = n->projs[k].delay > maxd ? n->projs[k].delay : maxd;
    c->R = maxd + 1;
    size_t N = (size_t)c->N + 1;
    c->thr = calloc(N, sizeof *c->thr);
    c->leak = calloc(N, sizeof *c->leak);
    c->floor_ = calloc(N, sizeof *c->floor_);
    c->v0 = calloc(N, sizeof *c->v0);
    c->pop_of = calloc(N, sizeof *c->pop_of);
    if (!c->thr || !c->leak || !c->floor_ || !c->v0 || !c->pop_of)
        return -1;
    for (int p = 0; p < n->n_pops; p++) {
        const snnc_population *P = &n->pops[p];
        for (int j = 0; j < P->n; j++) {
            int g = c->off[p] + j;
            c->pop_of[g] = p;
            if (P->role != SNNC_POP_INPUT) {
                c->thr[g] = P->threshold[j];
                c->leak[g] = P->leak[j];
                c->floor_[g] = P->floor[j];
                c->v0[g] = P->v0[j];
            }
        }
    }
    for (int k = 0; k < n->n_projs; k++)
        if (build_syn(c, k))
            return -1;
    c->out_start = calloc((size_t)n->n_pops + 1, sizeof *c->out_start);
    c->out_proj = malloc(((size_t)n->n_projs + 1) * sizeof *c->out_proj);
    if (!c->out_start || !c->out_proj)
        return -1;
    for (int p = 0, e = 0; p < n->n_pops; p++) { /* in projection order, as before */
        c->out_start[p] = e;
        for (int k = 0; k < n->n_projs; k++)
            if (n->projs[k].src == p)
                c->out_proj[e++] = k;
        c->out_start[p + 1] = e;
    }
    return 0;
}

static void deliver(const sim_ctx *c, sim_state *st, int g, int64_t tick)
{
    int p = c->pop_of[g], i = g - c->off[p];
    for (int o = c->out_start[p]; o < c->out_start[p + 1]; o++) {
        int k = c->out_proj[o];
        const snnc_projection *pr = &c->n->projs[k];
        int64_t *slot = st->buf + (size_t)((tick + pr->delay) % c->R) * (size_t)(c->N + 1);
        const syn_list *s = &c->syn[k];
        for (int e = s->start[i]; e < s->start[i + 1]; e++)
            slot[s->dst[e]] += s->w[e];
        st->events += s->start[i + 1] - s->start[i];
    }
}

static void count_spike(const sim_ctx *c, int g, int64_t tick, int64_t b, int64_t B, int32_t *counts)
{
    int p = c->pop_of[g];
    int64_t rel = tick - c->lag[p];
    if (rel < 0)
        return;
    int64_t w = rel / c->W;
    if (w < c->T)
        counts[((size_t)w * B + b) * c->N + g]++;
}

/* Readout potential threshold*count + V of neuron g. */
static double readout_value(const sim_ctx *c, const sim_state *st, int g)
{
    return (double)c->thr[g] * st->total[g] + (double)st->V[g];
}

/* Sample b; st->incount [T][N] holds the input neurons' spike counts per window. */
static void run_sample(const sim_ctx *c, sim_state *st, int64_t b, int64_t B, snnc_sim_result *res)
{
    const snnc_netlist *n = c->n;
    const int *incount = st->incount;
    int64_t ticks = snnc_netlist_ticks(n), *V = st->V;
    size_t N1 = (size_t)c->N + 1;
    memset(st->buf, 0, (size_t)c->R * N1 * sizeof *st->buf);
    memset(st->total, 0, N1 * sizeof *st->total);
    for (int g = 0; g < c->N; g++)
        V[g] = c->v0[g];
    double *score = res->scores + b * res->n_classes;
    for (int64_t k = 0; k < ticks; k++) {
        int64_t *slot = st->buf + (size_t)(k % c->R) * N1;
        int ns = 0;
        for (int p = 0; p < n->n_pops; p++) {
            const snnc_population *P = &n->pops[p];
            bool ro = P->role == SNNC_POP_READOUT;
            int64_t rstart = (int64_t)(c->T - 1) * c->W + c->lag[p], rend = rstart + c->W;
            rend = rend > ticks ? ticks : rend; /* a lag beyond the readout windows: read at the end */
            rstart = rstart > rend - 1 ? rend - 1 : rstart;
            for (int j = 0; j < P->n; j++) {
                int g = c->off[p] + j;
                if (P->role == SNNC_POP_INPUT) {
                    if (k < (int64_t)c->T * c->W) {
                        int cnt = incount[(k / c->W) * c->N + g];
                        int64_t ph = k % c->W;
                        if (snnc_rate_spike(cnt, c->W, ph))
                            st->spiked[ns++] = g;
                    }
                    continue;
                }
                if (ro && k == rstart && j < res->n_classes)
                    score[j] -= P->sign * readout_value(c, st, g);
                V[g] += slot[g] + c->leak[g];
                slot[g] = 0;
                if (V[g] >= c->thr[g]) {
                    V[g] -= c->thr[g];
                    st->total[g]++;
                    st->spiked[ns++] = g;
                } else if (V[g] < -(int64_t)c->floor_[g]) {
                    V[g] = -(int64_t)c->floor_[g];
                }
                if (ro && k == rend - 1 && j < res->n_classes)
                    score[j] += P->sign * readout_value(c, st, g);
            }
        }
        for (int s = 0; s < ns; s++) {
            if (b == 0)
                res->raster[(size_t)k * c->N + st->spiked[s]] = 1;
            count_spike(c, st->spiked[s], k, b, B, res->counts);
            deliver(c, st, st->spiked[s], k);
        }
        st->spikes += ns;
    }
}

/* Input spike counts of sample b: [T][N], inputs only. */
static int encode_input(const sim_ctx *c, const snnc_tensor *in, bool batch_first, int64_t b, int64_t B, int *incount)
{
    const snnc_netlist *n = c->n;
    int64_t F = in->dims[2];
    for (int t = 0; t < c->T; t++)
        for (int p = 0; p < n->n_pops; p++) {
            const snnc_population *P = &n->pops[p];
            if (P->role != SNNC_POP_INPUT)
                continue;
            for (int j = 0; j < P->n; j++) {
                int64_t f = P->input_feature0 + j;
                int64_t idx = batch_first ? ((b * c->T + t) * F + f) : (((int64_t)t * B + b) * F + f);
                double x = snnc_tensor_get_f(in, idx);
                if (isnan(x))
                    return -1;
                double v = floor(P->sign * x / P->input_scale + 0.5);
                incount[t * c->N + c->off[p] + j] = v < 0 ? 0 : v > c->W ? c->W : (int)v;
            }
        }
    return 0;
}

static int check_input(const snnc_netlist *n, const snnc_tensor *in, bool batch_first, snnc_err *err)
{
    int64_t feats = 0;
    for (int p = 0; p < n->n_pops; p++)
        if (n->pops[p].role == SNNC_POP_INPUT && n->pops[p].input_feature0 + n->pops[p].n > feats)
            feats = n->pops[p].input_feature0 + n->pops[p].n;
    int ta = batch_first ? 1 : 0;
    if (!in || in->rank != 3 || in->dims[ta] != n->steps || in->dims[2] < feats ||
        (in->dtype != SNNC_F32 && in->dtype != SNNC_F64))
        return snnc_fail(err, SNNC_EINVALID, "input: expected a float %s with %d steps and %lld features",
                         batch_first ? "[batch, steps, features]" : "[steps, batch, features]", n->steps,
                         (long long)feats);
    return SNNC_OK;
}

/* A thread's share of the batch: samples first, first + step, ... */
typedef struct sim_job {
    const sim_ctx *c;
    sim_state st;
    const snnc_tensor *in;
    bool batch_first;
    int64_t first, step, B;
    snnc_sim_result *res;
    int64_t bad;            /* the first sample with a NaN, or -1 */
} sim_job;

static void *sim_worker(void *arg)
{
    sim_job *j = arg;
    for (int64_t b = j->first; b < j->B; b += j->step) {
        if (encode_input(j->c, j->in, j->batch_first, b, j->B, j->st.incount)) {
            j->bad = b;
            break;
        }
        run_sample(j->c, &j->st, b, j->B, j->res);
    }
    return NULL;
}

/* Threads for B samples: the online CPUs, at most 8 and B. */
static int thread_count(int64_t B)
{
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    int64_t t = cpus < 1 ? 1 : cpus > 8 ? 8 : cpus;
    return (int)(t < B ? t : B < 1 ? 1 : B);
}

/* Run the batch on `nt` jobs (threads beyond the first; the first runs here). */
static int run_jobs(sim_job *jobs, int nt)
{
    pthread_t tid[8];
    int started = 1;
    for (; started < nt; started++)
        if (pthread_create(&tid[started], NULL, sim_worker, &jobs[started]))
            break;
    for (int k = started; k < nt; k++) /* no thread: run the share here */
        sim_worker(&jobs[k]);
    sim_worker(&jobs[0]);
    for (int k = 1; k < started; k++)
        pthread_join(tid[k], NULL);
    return 0;
}

int snnc_netlist_simulate(const snnc_netlist *n, const snnc_tensor *input, bool batch_first, snnc_sim_result *res,
                          snnc_err *err)
{
    memset(res, 0, sizeof *res);
    int rc = check_netlist(n, err);
    if (!rc)
        rc = check_input(n, input, batch_first, err);
    if (rc)
        return rc;
    sim_ctx c;
    int64_t B = input->dims[batch_first ? 0 : 1];
    int nt = thread_count(B);
    sim_job jobs[8];
    memset(jobs, 0, sizeof jobs);
    int ok = ctx_init(&c, n) == 0;
    for (int k = 0; ok && k < nt; k++) {
        jobs[k] = (sim_job){&c, {0}, input, batch_first, k, nt, B, res, -1};
        ok = state_init(&jobs[k].st, &c) == 0;
    }
    if (ok) {
        res->batch = B;
        res->n_classes = n->n_classes;
        res->n_neurons = c.N;
        res->scores = calloc((size_t)(B * n->n_classes) + 1, sizeof *res->scores);
        res->pop_offset = malloc(((size_t)n->n_pops + 1) * sizeof *res->pop_offset);
        res->counts = calloc((size_t)n->steps * (size_t)B * (size_t)c.N + 1, sizeof *res->counts);
        res->ticks = snnc_netlist_ticks(n);
        res->raster = calloc((size_t)res->ticks * (size_t)c.N + 1, 1);
    }
    if (!ok || !res->raster || !res->scores || !res->pop_offset || !res->counts) {
        for (int k = 0; k < nt; k++)
            state_free(&jobs[k].st);
        ctx_free(&c);
        snnc_sim_result_free(res);
        return snnc_fail(err, SNNC_ENOMEM, "simulate: out of memory");
    }
    memcpy(res->pop_offset, c.off, ((size_t)n->n_pops + 1) * sizeof *c.off);
    run_jobs(jobs, nt);
    int64_t bad = -1;
    for (int k = 0; k < nt; k++) {
        res->events += jobs[k].st.events;
        res->spikes += jobs[k].st.spikes;
        if (jobs[k].bad >= 0 && (bad < 0 || jobs[k].bad < bad))
            bad = jobs[k].bad;
        state_free(&jobs[k].st);
    }
    ctx_free(&c);
    if (bad >= 0) {
        rc = snnc_fail(err, SNNC_EINVALID, "input: NaN in sample %lld", (long long)bad);
        snnc_sim_result_free(res);
    }
    return rc;
}
