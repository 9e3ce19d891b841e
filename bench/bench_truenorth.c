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
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

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

static int parse_num(const char *flag, const char *s, double lo, double hi, double *out)
{
    char *end;
    errno = 0;
    double v = s ? strtod(s, &end) : 0;
    if (!s || errno || *end || end == s || !(v >= lo && v <= hi)) {
        fprintf(stderr, "bench_truenorth: %s needs a number in [%g, %g]\n", flag, lo, hi);
        return -1;
    }
    *out = v;
    return 0;
}

static int parse_opts(int argc, char **argv, opts *o)
{
    *o = (opts){4096, 1000, 2, 3, 1, 0.03, 20.0, 0.0, NULL};
    double cores = 4096, ticks = 1000, threads = 2, runs = 3, seed = 1;
    const struct {
        const char *flag;
        double *dst, lo, hi;
    } num[] = {
        {"--cores", &cores, 1, 1 << 16},      {"--ticks", &ticks, 1, 1e9},
        {"--threads", &threads, 1, 64},       {"--runs", &runs, 1, 100},
        {"--density", &o->density, 0, 1},     {"--rate", &o->rate_hz, 0.5, 1000},
        {"--stochastic", &o->stochastic, 0, 1}, {"--seed", &seed, 0, 4e9},
    };
    for (int i = 1; i < argc; i += 2) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            exit(0);
        }
        if (!strcmp(a, "--file")) {
            if (!v) {
                fprintf(stderr, "bench_truenorth: --file needs a path\n");
                return -1;
            }
            o->file = v;
            continue;
        }
        size_t k = 0, nk = sizeof num / sizeof num[0];
        while (k < nk && strcmp(a, num[k].flag))
            k++;
        if (k == nk) {
            fprintf(stderr, "bench_truenorth: unknown option '%s'\n", a);
            usage(stderr);
            return -1;
        }
        if (parse_num(a, v, num[k].lo, num[k].hi, num[k].dst))
            return -1;
    }
    o->cores = (long)cores, o->ticks = (long)ticks, o->threads = (long)threads;
    o->runs = (long)runs, o->seed = (long)seed;
    return 0;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

static double cpu_seconds(void)
{
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru))
        return 0.0;
    return (double)ru.ru_utime.tv_sec + 1e-6 * (double)ru.ru_utime.tv_usec +
           (double)ru.ru_stime.tv_sec + 1e-6 * (double)ru.ru_stime.tv_usec;
}

static double peak_rss_mib(void)
{
    struct rusage ru;
    return getrusage(RUSAGE_SELF, &ru) ? -1.0 : (double)ru.ru_maxrss / 1024.0;
}

/* splitmix64: a fixed stream, so every run builds the same network. */
static uint64_t rng_next(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static double uniform01(uint64_t *s) { return (double)(rng_next(s) >> 11) * 0x1.0p-53; }

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
        x->axon_type[i] = (uint8_t)(rng_next(rng) & 3);
        if (p <= 0)
            continue;
        for (double j = -1;;) {
            double u = uniform01(rng);
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
        size_t r = rng_next(&rng) % (k + 1);
        uint32_t t = perm[k];
        perm[k] = perm[r], perm[r] = t;
    }
    for (int c = 0; c < nc; c++) {
        tn_core *core = &m->cores[c];
        core->id = c;
        core->rng_seed = (uint32_t)rng_next(&rng);
        core->crossbar = c;
        make_crossbar(&m->crossbars[c], o->density, &rng);
        snprintf(m->crossbars[c].name, sizeof m->crossbars[c].name, "bench%05d", c);
        for (int j = 0; j < TN_NEURONS; j++) {
            uint32_t d = perm[(size_t)c * TN_NEURONS + (size_t)j];
            core->type[j] = (int)(rng_next(&rng) % N_TYPES);
            core->dendrite[j] = j;
            core->dest_core[j] = d / TN_AXONS;
            core->dest_axon[j] = (int)(d % TN_AXONS);
            core->dest_delay[j] = 1 + (int)(rng_next(&rng) % TN_MAX_DELAY);
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
    double t0 = now();
    tn_model *m = make_model(&o);
    double gen_s = now() - t0;
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
        t0 = now();
        if (tn_model_write(o.file, m, &err)) {
            fprintf(stderr, "bench_truenorth: %s\n", err.msg);
            return 2;
        }
        file_write_s = now() - t0;
        t0 = now();
        tn_model *back = NULL;
        if (tn_model_read(o.file, &back, &err)) {
            fprintf(stderr, "bench_truenorth: %s\n", err.msg);
            return 2;
        }
        file_read_s = now() - t0;
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
        t0 = now();
        if (tn_sim_new(sim_model, (int)o.threads, &s, &err)) {
            fprintf(stderr, "bench_truenorth: %s\n", err.msg);
            return 2;
        }
        double t1 = now(), c1 = cpu_seconds();
        tn_activity a = {0};
        if (tn_sim_run(s, o.ticks, NULL, 0, NULL, NULL, &a, &err)) {
            fprintf(stderr, "bench_truenorth: %s\n", err.msg);
            return 2;
        }
        double t2 = now();
        cpu[r] = cpu_seconds() - c1;
        sim_mem = tn_sim_memory(s);
        tn_sim_free(s);
        load[r] = t1 - t0, run[r] = t2 - t1;
        act = a;
        printf("run %d: load %.4f s, %ld ticks in %.4f s (%.4f CPU s)\n", r + 1, load[r], o.ticks,
               run[r], cpu[r]);
    }
    double load_s = median(load, runs), run_s = median(run, runs), cpu_s = median(cpu, runs);
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
           peak_rss_mib());
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
