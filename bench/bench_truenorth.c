/* bench_truenorth.c — speed of the TrueNorth simulator (truenorth/tn_sim.c)
 * on a full chip (not part of the test suite; docs/TRUENORTH.md explains the
 * network and the figures).  Builds in memory a random 4096-core network:
 * one crossbar per core with a few percent of its bits set, every axon fed
 * by exactly one neuron (a random permutation), delays 1..15, leak-driven
 * integrate-and-fire neurons with balanced excitation and inhibition firing
 * at tens of Hz.  Then, several times: tn_sim_new (the loading) and a run of
 * --ticks ticks; prints the medians as core-ticks/s and ratio to real time
 * with and without loading, the activity, memory per core, and a JSON line.
 * With --file PATH the model is also written as a CPE model file and read
 * back (tn_model_write/tn_model_read), and that read is timed too.
 * usage: bench_truenorth [--cores N] [--ticks N] [--threads N] ... (--help) */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_util.h"
#include "truenorth/tn_sim.h"

typedef struct opts {
    long cores, ticks, threads, runs, seed;
    double density, rate_hz, stochastic;
    const char *file;
} opts;

static void usage(FILE *f)
{
    fprintf(f, "usage: bench_truenorth [options]\n"
               "  --cores N         cores (default 4096, a full chip)\n"
               "  --ticks N         ticks per run (default 1000 = 1 s of real time)\n"
               "  --threads N       simulator threads (default 2)\n"
               "  --runs N          timed runs, medians reported (default 3)\n"
               "  --density P       crossbar density (default 0.03)\n"
               "  --rate HZ         leak-driven firing rate of a neuron without input "
               "(default 20)\n"
               "  --stochastic F    fraction of neuron types using the stochastic modes\n"
               "                    (threshold mask, stochastic synapses and leak; default 0)\n"
               "  --seed N          network seed (default 1)\n"
               "  --file PATH       also write the model to PATH and time reading it back\n");
}

static int parse_opts(int argc, char **argv, opts *o)
{
    *o = (opts){4096, 1000, 2, 3, 1, 0.03, 20.0, 0.0, NULL};
    double cores = 4096, ticks = 1000, threads = 2, runs = 3, seed = 1;
    const snnc_bench_opt opt[] = {
        {"--cores", SNNC_BENCH_DOUBLE, &cores, 1, 1 << 16, NULL},
        {"--ticks", SNNC_BENCH_DOUBLE, &ticks, 1, 1e9, NULL},
        {"--threads", SNNC_BENCH_DOUBLE, &threads, 1, 64, NULL},
        {"--runs", SNNC_BENCH_DOUBLE, &runs, 1, 100, NULL},
        {"--density", SNNC_BENCH_DOUBLE, &o->density, 0, 1, NULL},
        {"--rate", SNNC_BENCH_DOUBLE, &o->rate_hz, 0.5, 1000, NULL},
        {"--stochastic", SNNC_BENCH_DOUBLE, &o->stochastic, 0, 1, NULL},
        {"--seed", SNNC_BENCH_DOUBLE, &seed, 0, 4e9, NULL},
        {"--file", SNNC_BENCH_STRING, &o->file, 0, 0, "a path"},
    };
    if (snnc_bench_parse("bench_truenorth", argc, argv, opt, sizeof opt / sizeof opt[0], usage))
        return -1;
    o->cores = (long)cores, o->ticks = (long)ticks, o->threads = (long)threads;
    o->runs = (long)runs, o->seed = (long)seed;
    return 0;
}

/* ------------------------------------------------------------ the network */

#define N_TYPES 64

/* Leak +1 per tick and threshold alpha = 1000 / rate: alone, a neuron fires
 * at `rate` Hz (linear reset).  Axon types 0..3 weigh +2, -2, +1, -1, with
 * random axon types: synaptic input has zero mean and only jitters the
 * rhythm; kappa = 1 floors V at -alpha.  Initial potentials are spread over
 * [0, alpha) by the type (64 types), so the chip does not fire in unison.
 * A fraction of the types also uses the stochastic modes: threshold mask TM
 * = 2, stochastic synapses on axon type 3 (|s| = 128: p = 129/256), and a
 * stochastic leak of lambda 255 (p = 1, keeping the rate). */
static void make_types(tn_model *m, const opts *o)
{
    int alpha = (int)lround(1000.0 / o->rate_hz);
    int n_stoch = (int)lround(o->stochastic * N_TYPES);
    for (int k = 0; k < N_TYPES; k++) {
        tn_neuron_type *t = &m->types[k];
        memset(t, 0, sizeof *t);
        snprintf(t->name, sizeof t->name, "N%08X", k + 1); /* the CPE naming: type k + 1 */
        const int sigma[4] = {1, -1, 1, -1}, s[4] = {2, 2, 1, 1};
        for (int g = 0; g < 4; g++)
            t->sigma[g] = sigma[g], t->s[g] = s[g];
        t->sigma_lambda = 1, t->lambda = 1;
        t->alpha = alpha, t->beta = alpha, t->kappa = 1, t->gamma = 1;
        t->sigma_VR = 1, t->VR = 0;
        t->V = k * alpha / N_TYPES;
        if (k < n_stoch) {
            t->TM = 2;
            t->b[3] = 1, t->s[3] = 128;
            t->c_lambda = 1, t->lambda = 255;
        }
    }
}

/* Each row: set bits at geometric gaps (density p). */
static void make_crossbar(tn_crossbar *x, double p, uint64_t *rng)
{
    memset(x, 0, sizeof *x);
    double lq = p < 1 ? log1p(-p) : -INFINITY;
    for (int i = 0; i < TN_AXONS; i++) {
        x->axon_type[i] = (uint8_t)(snnc_bench_rng_next(rng) & 3);
        if (p <= 0)
            continue;
        for (double j = -1;;) {
            double u = snnc_bench_uniform01(rng);
            j += 1 + (p < 1 ? floor(log1p(-u) / lq) : 0);
            if (j >= TN_NEURONS)
                break;
            int n = (int)j;
            x->row[i][n >> 6] |= 1ull << (n & 63);
        }
    }
}

static tn_model *make_model(const opts *o)
{
    tn_model *m = calloc(1, sizeof *m);
    int nc = (int)o->cores;
    m->n_cores = m->n_crossbars = nc;
    m->n_types = N_TYPES;
    m->cores = calloc((size_t)nc, sizeof *m->cores);
    m->crossbars = malloc((size_t)nc * sizeof *m->crossbars);
    m->types = calloc(N_TYPES, sizeof *m->types);
    uint32_t *perm = malloc((size_t)nc * TN_AXONS * sizeof *perm);
    if (!m->cores || !m->crossbars || !m->types || !perm) {
        fprintf(stderr, "bench_truenorth: out of memory\n");
        exit(2);
    }
    uint64_t rng = (uint64_t)o->seed;
    make_types(m, o);
    size_t n = (size_t)nc * TN_AXONS;
    for (size_t k = 0; k < n; k++)
        perm[k] = (uint32_t)k;
    for (size_t k = n - 1; k > 0; k--) {
        size_t r = snnc_bench_rng_next(&rng) % (k + 1);
        uint32_t t = perm[k];
        perm[k] = perm[r], perm[r] = t;
    }
    for (int c = 0; c < nc; c++) {
        tn_core *core = &m->cores[c];
        core->id = c;
        core->rng_seed = (uint32_t)snnc_bench_rng_next(&rng);
        core->crossbar = c;
        make_crossbar(&m->crossbars[c], o->density, &rng);
        snprintf(m->crossbars[c].name, sizeof m->crossbars[c].name, "bench%05d", c);
        for (int j = 0; j < TN_NEURONS; j++) {
            uint32_t d = perm[(size_t)c * TN_NEURONS + (size_t)j];
            core->type[j] = (int)(snnc_bench_rng_next(&rng) % N_TYPES);
            core->dendrite[j] = j;
            core->dest_core[j] = d / TN_AXONS;
            core->dest_axon[j] = (int)(d % TN_AXONS);
            core->dest_delay[j] = 1 + (int)(snnc_bench_rng_next(&rng) % TN_MAX_DELAY);
        }
    }
    free(perm);
    return m;
}

static void free_model(tn_model *m)
{
    free(m->cores);
    free(m->crossbars);
    free(m->types);
    free(m);
}

static size_t model_bytes(const tn_model *m)
{
    return sizeof *m + (size_t)m->n_cores * sizeof *m->cores +
           (size_t)m->n_crossbars * sizeof *m->crossbars + (size_t)m->n_types * sizeof *m->types;
}

/* ------------------------------------------------------------------ main */

int main(int argc, char **argv)
{
    opts o;
    if (parse_opts(argc, argv, &o))
        return 1;
    double t0 = snnc_bench_now();
    tn_model *m = make_model(&o);
    double gen_s = snnc_bench_now() - t0;
    double set_bits = 0;
    for (int c = 0; c < m->n_crossbars; c++)
        for (int i = 0; i < TN_AXONS; i++)
            for (int q = 0; q < TN_NEURONS / 64; q++)
                set_bits += __builtin_popcountll(m->crossbars[c].row[i][q]);
    printf("network: %ld cores, %ld neurons, crossbar density %.4f (%.0f synapses), rate %.3g Hz "
           "alone, %.0f%% stochastic types, %ld threads; generated in %.3f s (not timed below)\n",
           o.cores, o.cores * TN_NEURONS, set_bits / ((double)o.cores * TN_AXONS * TN_NEURONS),
           set_bits, o.rate_hz, 100 * o.stochastic, o.threads, gen_s);

    double file_read_s = -1, file_write_s = -1;
    tn_model *sim_model = m;
    if (o.file) {
        snnc_err err = {0};
        t0 = snnc_bench_now();
        if (tn_model_write(o.file, m, &err)) {
            fprintf(stderr, "bench_truenorth: %s\n", err.msg);
            return 2;
        }
        file_write_s = snnc_bench_now() - t0;
        t0 = snnc_bench_now();
        tn_model *back = NULL;
        if (tn_model_read(o.file, &back, &err)) {
            fprintf(stderr, "bench_truenorth: %s\n", err.msg);
            return 2;
        }
        file_read_s = snnc_bench_now() - t0;
        printf("model file %s: written in %.3f s, read in %.3f s\n", o.file, file_write_s,
               file_read_s);
        sim_model = back;
    }

    int runs = (int)o.runs;
    double *load = calloc((size_t)runs, sizeof *load), *run = calloc((size_t)runs, sizeof *run);
    double *cpu = calloc((size_t)runs, sizeof *cpu);
    tn_activity act = {0};
    size_t sim_mem = 0;
    for (int r = 0; r < runs; r++) {
        snnc_err err = {0};
        tn_sim *s = NULL;
        t0 = snnc_bench_now();
        if (tn_sim_new(sim_model, (int)o.threads, &s, &err)) {
            fprintf(stderr, "bench_truenorth: %s\n", err.msg);
            return 2;
        }
        double t1 = snnc_bench_now(), c1 = snnc_bench_cpu_seconds();
        tn_activity a = {0};
        if (tn_sim_run(s, o.ticks, NULL, 0, NULL, NULL, &a, &err)) {
            fprintf(stderr, "bench_truenorth: %s\n", err.msg);
            return 2;
        }
        double t2 = snnc_bench_now();
        cpu[r] = snnc_bench_cpu_seconds() - c1;
        sim_mem = tn_sim_memory(s);
        tn_sim_free(s);
        load[r] = t1 - t0, run[r] = t2 - t1;
        act = a;
        printf("run %d: load %.4f s, %ld ticks in %.4f s (%.4f CPU s)\n", r + 1, load[r], o.ticks,
               run[r], cpu[r]);
    }
    double load_s = snnc_bench_median(load, runs), run_s = snnc_bench_median(run, runs), cpu_s = snnc_bench_median(cpu, runs);
    double core_ticks = (double)o.cores * (double)o.ticks;
    double rate_hz = (double)act.spikes / ((double)o.cores * TN_NEURONS * (double)o.ticks * 1e-3);
    double per_core = (double)(sim_mem + model_bytes(sim_model)) / (double)o.cores;
    double incl = core_ticks / (load_s + run_s), excl = core_ticks / run_s;
    printf("activity: mean rate %.2f Hz, %.3g spikes, %.3g synaptic events (%.1f per spike), "
           "%.1f hops per delivered spike\n",
           rate_hz, (double)act.spikes, (double)act.synaptic_events,
           act.spikes ? (double)act.synaptic_events / (double)act.spikes : 0.0,
           act.spikes > act.spikes_leaving
               ? (double)act.hops / (double)(act.spikes - act.spikes_leaving) : 0.0);
    printf("loading (tn_sim_new)            %10.4f s   (median of %d)\n", load_s, runs);
    printf("simulation of %ld ticks          %10.4f s (%.4f CPU s: %.0f%% of %ld threads busy)\n",
           o.ticks, run_s, cpu_s, 100.0 * cpu_s / (run_s * (double)o.threads), o.threads);
    printf("core-ticks/s including loading  %10.3e   ratio to real time %.2f\n", incl,
           (double)o.ticks / (load_s + run_s) / 1000.0);
    printf("core-ticks/s excluding loading  %10.3e   ratio to real time %.2f\n", excl,
           (double)o.ticks / run_s / 1000.0);
    if (file_read_s >= 0)
        printf("core-ticks/s incl. file read    %10.3e   ratio to real time %.2f\n",
               core_ticks / (file_read_s + load_s + run_s),
               (double)o.ticks / (file_read_s + load_s + run_s) / 1000.0);
    printf("memory per core                 %10.0f bytes (simulator %zu + model %zu per core); "
           "peak RSS %.1f MiB\n",
           per_core, sim_mem / (size_t)o.cores, model_bytes(sim_model) / (size_t)o.cores,
           snnc_bench_peak_rss_mib());
    printf("{\"bench\": \"truenorth\", \"cores\": %ld, \"ticks\": %ld, \"threads\": %ld, "
           "\"density\": %g, \"stochastic\": %g, \"mean_rate_hz\": %.3f, \"load_s\": %.5f, "
           "\"run_s\": %.5f, \"core_ticks_per_s_incl_load\": %.4e, "
           "\"core_ticks_per_s_excl_load\": %.4e, \"realtime_ratio_incl_load\": %.3f, "
           "\"realtime_ratio_excl_load\": %.3f, \"file_read_s\": %.4f, \"bytes_per_core\": %.0f, "
           "\"synaptic_events\": %lld, \"spikes\": %lld, \"run_cpu_s\": %.4f}\n",
           o.cores, o.ticks, o.threads, o.density, o.stochastic, rate_hz, load_s, run_s, incl, excl,
           (double)o.ticks / (load_s + run_s) / 1000.0, (double)o.ticks / run_s / 1000.0,
           file_read_s, per_core, (long long)act.synaptic_events, (long long)act.spikes, cpu_s);
    free(load);
    free(run);
    free(cpu);
    if (sim_model != m)
        tn_model_free(sim_model);
    free_model(m);
    return 0;
}
