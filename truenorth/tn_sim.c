/* tn_sim.c — bit-exact, event-driven simulation of a TrueNorth model
 * (interface: tn_sim.h).  The neuron model, the timing contract, the PRNG
 * and its draw order, and why the event-driven shortcuts are exact are in
 * docs/TRUENORTH.md ("Simulator").  In short: cores are split between
 * threads in contiguous ranges with one barrier per tick; spikes travel
 * through per-thread queues, one per future tick modulo 16; a neuron is
 * updated only in a tick where it receives synaptic input, where its
 * constant leak makes it cross a threshold (an 8-bit wake tick per neuron),
 * or every tick when it uses a stochastic mode or the leak reversal.
 * Potentials are kept as U = V - L t (L: the leak applied lazily), in 16
 * bits per neuron until a value of the core needs more, then in 32.  A
 * 16-bit core whose neurons all share one deterministic dynamics is instead
 * updated whole, every tick, with SIMD (step_dense: SSE2, or AVX2 /
 * AVX-512BW chosen at run time), falling back to the per-neuron update for
 * a tick whose values could leave 16 bits. */
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif
#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define HAVE_AVX2_PATH 1 /* compiled for AVX2 by function attribute, chosen at run time */
#endif

#include "ir/error.h"
#include "tn_ranges.h"
#include "tn_sim.h"

#define V_MAX ((1 << (TN_V_BITS - 1)) - 1) /*  524287 */
#define V_MIN (-(1 << (TN_V_BITS - 1)))    /* -524288 */
#define WORDS (TN_NEURONS / 64)
#define SLOTS 16          /* spike queues per future tick: > TN_MAX_DELAY */
#define WAKE_CAP 255      /* wake ticks are stored modulo 256 */
#define NARROW_BOUND 16383 /* thresholds of lazy neurons in a 16-bit core */
#define GRID 64           /* chip width: core index -> (x, y) for hops */
#define MAX_CORES ((1 << 20) - 2)
#define MAX_THREADS 64

/* A neuron type compiled for the update loop. */
typedef struct sim_type {
    /* first cache line: what the deterministic fast path reads */
    _Alignas(128) int16_t in[16]; /* det: input of one event on each type of a 4-bit set */
    int32_t L;                    /* sigma_lambda * lambda: the deterministic leak */
    uint32_t Ll;                  /* L if the leak is applied lazily, else 0 */
    int32_t alpha, beta;
    int32_t pos_add, neg_add;     /* det resets: V = (V & keep) + add above alpha, */
    int8_t pos_keep, neg_keep;    /*   below -beta (keep: 0 or -1) */
    uint8_t lazy;                 /* deterministic constant leak: event-driven */
    uint8_t det;                  /* lazy and no stochastic synapse: the fast path */
    /* second cache line */
    uint64_t recip;               /* ceil(2^32 / |L|): exact division for wake ticks */
    int32_t w[TN_AXON_TYPES];     /* sigma_k * s_k */
    uint8_t b[TN_AXON_TYPES];     /* stochastic synapse per axon type */
    uint8_t gamma, kappa, epsilon, c_lambda;
    int32_t lambda, sigma_lambda, R;
    uint32_t tm_mask;             /* 2^TM - 1 */
    int32_t v0;
} sim_type;
_Static_assert(sizeof(sim_type) == 128, "sim_type: two cache lines");

/* Per-core header: two cache lines. */
typedef struct core_rt {
    _Alignas(64) uint64_t used[WORDS];
    uint64_t always[WORDS];           /* neurons updated every tick */
    const uint64_t (*rows)[WORDS];    /* the crossbar: row i = axon i's synapses */
    const uint32_t *tmap;             /* local type -> sim_type index */
    uint32_t *wide;                   /* 32-bit U once a value left 16 bits, else NULL */
    uint32_t rng;
    int32_t dense;                    /* sim_type index shared by every neuron (dense
                                       * update, see step_dense), or -1 */
} core_rt;

/* The axons of a core active in the coming tick: a bitmap, and the same
 * as a list while it is short (n > PENDING_LIST: the bitmap only). */
#define PENDING_LIST 23
typedef struct pending_axons {
    _Alignas(64) uint64_t bits[WORDS];
    uint32_t n;
    uint8_t list[PENDING_LIST];
} pending_axons;

static inline void add_axon(pending_axons *p, int a)
{
    uint64_t bit = 1ull << (a & 63);
    if (p->bits[a >> 6] & bit)
        return;
    p->bits[a >> 6] |= bit;
    if (p->n < PENDING_LIST)
        p->list[p->n] = (uint8_t)a;
    p->n++;
}

/* A spike in flight: destination core index << 8 | axon. */
typedef struct queue {
    uint32_t *e;
    uint32_t n, cap;
} queue;

typedef struct fired {
    int64_t tick;
    int32_t core;
    int32_t neuron;
} fired;

struct tn_sim;

typedef struct worker {
    _Alignas(64) struct tn_sim *s;
    int src;        /* queue set written */
    int plo, phi;   /* partitions [plo, phi): queues read */
    int lo, hi;     /* cores [lo, hi) */
    int threads;
    int64_t t0, t1;
    const tn_input_spike *in;
    const int32_t *in_core;
    size_t n_in;
    int record;
    int nomem;
    int64_t spikes, leaving, syn_events, hops;
    fired *rec;
    size_t n_rec, cap_rec;
    uint32_t *fires; /* this tick's firing neurons: core << 8 | neuron */
    size_t n_fires, cap_fires;
    /* synaptic events of the current core per axon type: the first per
     * neuron as a bit of `seen`, the others (rare at low density) counted in
     * `extra` for the neurons marked in `more` */
    uint64_t seen[TN_AXON_TYPES][WORDS];
    uint64_t more[WORDS];
    uint64_t done[WORDS]; /* neurons of the current core updated in this tick (16-bit pass) */
    uint16_t extra[TN_AXON_TYPES][TN_NEURONS];
    /* the dense update: synaptic input per neuron (zero between cores) and
     * the old U until the core's tick is known to be valid */
    _Alignas(64) int16_t in16[TN_NEURONS];
    _Alignas(64) uint16_t tmp[TN_NEURONS];
} worker;

struct tn_sim {
    const tn_model *m;            /* while building only */
    void *map;                    /* one mapping holds the per-core arrays below */
    size_t map_size;
    uint64_t (*rows)[TN_AXONS][WORDS]; /* copies of the crossbar prototypes */
    int n_cores;
    int parts;                    /* partitions = threads */
    int64_t tick;
    core_rt *cores;
    uint16_t (*u16)[TN_NEURONS];  /* U = V - Ll t, modulo 2^16 */
    uint8_t (*wake)[TN_NEURONS];  /* tick of the next threshold crossing, modulo 256 */
    uint8_t (*ltype)[TN_NEURONS]; /* local type index */
    pending_axons *act;           /* axons active in the coming tick */
    uint8_t (*atype)[TN_AXONS / 4]; /* axon types, 2 bits each */
    uint32_t (*dest)[TN_NEURONS]; /* (core index + 1) << 12 | delay << 8 | axon; 0: leaves */
    uint32_t *tmaps;
    size_t n_tmaps;
    uint8_t *part;                /* core index -> partition */
    int *part_lo;                 /* partition k: cores [part_lo[k], part_lo[k + 1]) */
    queue *q;                     /* [src][slot][dst] */
    sim_type *types;
    int n_types;
    int64_t *ids;                 /* core index -> id */
    int32_t *hash;                /* open addressing: id -> index, -1 empty */
    size_t hash_mask;
    int ids_ascending;
    int ids_dense;                /* ids are 0 .. n_cores - 1, in order */
    int direct;                   /* at most 256 types: ltype is the type index itself */
    int n_wide;
    int simd;                     /* dense update: 0 SSE2, 1 AVX2, 2 AVX-512BW */
    int bar_count, bar_gen, bar_n; /* the per-tick barrier */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int go; /* 0: wait, 1: run, -1: give up */
};

static inline queue *queue_at(tn_sim *s, int src, int slot, int dst)
{
    return &s->q[((size_t)src * SLOTS + (size_t)slot) * (size_t)s->parts + (size_t)dst];
}

/* ------------------------------------------------------------------ PRNG */

/* Marsaglia's 32-bit xorshift (13, 17, 5), one generator per core. */
static inline uint32_t xorshift32(uint32_t *state)
{
    uint32_t x = *state;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return *state = x;
}

/* rngSeed -> state: MurmurHash3's fmix32 finaliser (a bijection) so that
 * neighbouring seeds give unrelated streams; the one seed it maps to zero
 * (xorshift's fixed point) starts from 0x9E3779B9 instead. */
static uint32_t seed_state(uint32_t seed)
{
    uint32_t h = seed;
    h ^= h >> 16;
    h *= 0x85EBCA6Bu;
    h ^= h >> 13;
    h *= 0xC2B2AE35u;
    h ^= h >> 16;
    return h ? h : 0x9E3779B9u;
}

static inline int32_t draw8(uint32_t *state) { return (int32_t)(xorshift32(state) >> 24); }
static inline uint32_t draw18(uint32_t *state) { return xorshift32(state) >> 14; }

/* ------------------------------------------------------------- helpers */

/* A prefetch the optimiser keeps: GCC deletes loops whose only statements
 * are __builtin_prefetch calls. */
static inline void prefetch(const void *p)
{
#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
    __asm__ volatile("prefetcht0 %0" : : "m"(*(const char *)p));
#else
    __builtin_prefetch(p);
#endif
}

static inline int32_t sat(int32_t v) { return v > V_MAX ? V_MAX : v < V_MIN ? V_MIN : v; }
static inline int32_t sgn(int32_t v) { return (v > 0) - (v < 0); }
static inline void set_bit(uint64_t *w, int j) { w[j >> 6] |= 1ull << (j & 63); }

static uint64_t hash_id(int64_t id)
{
    uint64_t x = (uint64_t)id * 0x9E3779B97F4A7C15ull;
    return x ^ (x >> 29);
}

static int core_index(const tn_sim *s, int64_t id)
{
    if (s->ids_dense) /* ids 0 .. n-1 in order */
        return id >= 0 && id < s->n_cores ? (int)id : -1;
    for (size_t h = hash_id(id) & s->hash_mask;; h = (h + 1) & s->hash_mask) {
        int32_t i = s->hash[h];
        if (i < 0)
            return -1;
        if (s->ids[i] == id)
            return i;
    }
}

static inline const sim_type *type_of(const tn_sim *s, const core_rt *rc, int c, int j)
{
    return &s->types[s->direct ? s->ltype[c][j] : rc->tmap[s->ltype[c][j]]];
}

/* Ticks until a lazy neuron with potential v (after some tick) next meets a
 * threshold without input: 1 when the next tick does, 0 when never (no
 * leak, inside -beta <= v < alpha); capped at WAKE_CAP (then re-checked). */
static uint32_t wake_in(int32_t v, const sim_type *ty)
{
    int32_t v1 = v + ty->L;
    if (v1 >= ty->alpha || v1 < -ty->beta)
        return 1;
    uint64_t k;
    if (ty->L == 1)
        k = (uint64_t)(ty->alpha - v);
    else if (ty->L > 0) /* smallest k with v + k L >= alpha */
        k = ((uint64_t)(ty->alpha - v + ty->L - 1) * ty->recip) >> 32;
    else if (ty->L < 0) /* smallest k with v + k L < -beta */
        k = (((uint64_t)(v + ty->beta) * ty->recip) >> 32) + 1;
    else
        return 0;
    return k > WAKE_CAP ? WAKE_CAP : (uint32_t)k;
}

/* The neuron's potential is current after tick tau: store its wake tick. */
static inline void set_wake(tn_sim *s, int c, int j, int64_t tau, int32_t v, const sim_type *ty)
{
    uint32_t k = wake_in(v, ty);
    s->wake[c][j] = (uint8_t)((uint64_t)tau + (k ? k : WAKE_CAP));
}

/* V after tick t from U (off = Ll * t modulo 2^32). */
static inline __attribute__((always_inline)) int32_t load_v_mode(const tn_sim *s, const core_rt *rc,
                                                                int c, int j, uint32_t off, int wide)
{
    if (wide)
        return (int32_t)(rc->wide[j] + off);
    return (int16_t)(uint16_t)(s->u16[c][j] + (uint16_t)off);
}

static inline int32_t load_v(const tn_sim *s, const core_rt *rc, int c, int j, uint32_t off)
{
    return load_v_mode(s, rc, c, j, off, rc->wide != NULL);
}

/* Switch core c to 32-bit potentials in the middle of tick t; U of every
 * neuron re-expressed at the tick where its 16-bit value is valid: t for
 * the neurons already updated in tick t (`done`; NULL: all of them), t - 1
 * for the others.  (Decoding a not yet updated neuron at t would add the
 * leak of tick t to a V that only fits 16 bits before it: V = 32574 with a
 * leak of 227 wrapped to a negative V.) */
static int widen(tn_sim *s, core_rt *rc, int c, int64_t t, const uint64_t *done)
{
    uint32_t *w = malloc(TN_NEURONS * sizeof *w);
    if (!w)
        return -1;
    for (int j = 0; j < TN_NEURONS; j++) {
        w[j] = 0;
        if (!((rc->used[j >> 6] >> (j & 63)) & 1))
            continue;
        int64_t valid = !done || ((done[j >> 6] >> (j & 63)) & 1) ? t : t - 1;
        uint32_t off = type_of(s, rc, c, j)->Ll * (uint32_t)valid;
        w[j] = (uint32_t)(int32_t)(int16_t)(uint16_t)(s->u16[c][j] + (uint16_t)off) - off;
    }
    __atomic_fetch_add(&s->n_wide, 1, __ATOMIC_RELAXED);
    rc->wide = w;
    return 0;
}

/* Stores V after tick t (off = Ll * t); a 16-bit core whose value does not
 * fit becomes a 32-bit one (`wide`: the core is known to be 32-bit; `done`:
 * the neurons already updated in tick t, see widen). */
static inline __attribute__((always_inline)) int store_v_mode(tn_sim *s, core_rt *rc, int c, int j,
                                                             int32_t v, uint32_t off, int64_t t,
                                                             int wide, const uint64_t *done)
{
    if (!wide) {
        if (v >= INT16_MIN && v <= INT16_MAX) {
            s->u16[c][j] = (uint16_t)((uint16_t)v - (uint16_t)off);
            return 0;
        }
        if (widen(s, rc, c, t, done))
            return -1;
    }
    rc->wide[j] = (uint32_t)v - off;
    return 0;
}

static inline int store_v(tn_sim *s, core_rt *rc, int c, int j, int32_t v, uint32_t off, int64_t t)
{
    return store_v_mode(s, rc, c, j, v, off, t, rc->wide != NULL, NULL);
}

/* ------------------------------------------------------------ checking */

/* A neuron type (in range: tn_model_check) compiled for the update loop.
 * Only the products sigma_k * s_k and sigma_lambda * lambda matter: a
 * negative magnitude (allowed, 9-bit signed) flips the sign, in the
 * stochastic modes too (Cassidy 2013: sgn(s) [|s| >= rho]). */
static void compile_type(const tn_neuron_type *t, sim_type *out)
{
    int lambda = t->lambda < 0 ? -t->lambda : t->lambda;
    int sigma_lambda = t->lambda < 0 ? -t->sigma_lambda : t->sigma_lambda;
    memset(out, 0, sizeof *out);
    for (int g = 0; g < TN_AXON_TYPES; g++) {
        out->w[g] = t->sigma[g] * t->s[g];
        out->b[g] = t->b[g];
    }
    for (int m = 0; m < 16; m++)
        for (int g = 0; g < TN_AXON_TYPES; g++)
            out->in[m] = (int16_t)(out->in[m] + (m >> g & 1) * out->w[g]); /* |in| <= 1020 */
    out->lambda = lambda;
    out->sigma_lambda = sigma_lambda;
    out->L = sigma_lambda * lambda;
    out->recip = lambda ? ((1ull << 32) + (uint64_t)lambda - 1) / (uint64_t)lambda : 0;
    out->alpha = t->alpha;
    out->beta = t->beta;
    out->R = t->sigma_VR * ((1 << t->VR) - 1);
    out->tm_mask = (1u << t->TM) - 1u;
    out->gamma = (uint8_t)t->gamma;
    out->kappa = t->kappa;
    out->epsilon = t->epsilon;
    out->c_lambda = t->c_lambda;
    out->v0 = t->V;
    out->lazy = !t->TM && !t->c_lambda && !(t->epsilon && t->lambda);
    out->Ll = out->lazy ? (uint32_t)out->L : 0;
    out->det = out->lazy && !t->b[0] && !t->b[1] && !t->b[2] && !t->b[3];
    /* with eta = 0: gamma 0 -> R / -R, 1 -> V - alpha / V + beta, 2 -> V; kappa -> -beta */
    out->pos_keep = t->gamma ? -1 : 0;
    out->pos_add = t->gamma == 0 ? out->R : t->gamma == 1 ? -t->alpha : 0;
    out->neg_keep = t->kappa || !t->gamma ? 0 : -1;
    out->neg_add = t->kappa ? -t->beta : t->gamma == 0 ? -out->R : t->gamma == 1 ? t->beta : 0;
}

static int build_ids(tn_sim *s, snnc_err *err)
{
    size_t size = 16;
    while (size < 2 * (size_t)s->n_cores)
        size <<= 1;
    s->hash = malloc(size * sizeof *s->hash);
    s->ids = malloc(((size_t)s->n_cores + 1) * sizeof *s->ids);
    if (!s->hash || !s->ids)
        return snnc_fail(err, SNNC_ENOMEM, "out of memory for %d cores", s->n_cores);
    memset(s->hash, 0xFF, size * sizeof *s->hash);
    s->hash_mask = size - 1;
    s->ids_ascending = 1;
    for (int i = 0; i < s->n_cores; i++) {
        int64_t id = s->m->cores[i].id;
        if (core_index(s, id) >= 0)
            return snnc_fail(err, SNNC_EINVALID, "core id %lld appears twice (cores %d and %d)",
                             (long long)id, core_index(s, id), i);
        s->ids[i] = id;
        size_t h = hash_id(id) & s->hash_mask;
        while (s->hash[h] >= 0)
            h = (h + 1) & s->hash_mask;
        s->hash[h] = i;
        if (i && id <= s->ids[i - 1])
            s->ids_ascending = 0;
    }
    s->ids_dense = s->ids_ascending && (!s->n_cores || (s->ids[0] == 0 && s->ids[s->n_cores - 1] ==
                                                        s->n_cores - 1));
    return SNNC_OK;
}

/* Same dynamics (everything but the initial potential)? */
static int same_dynamics(const sim_type *a, const sim_type *b)
{
    for (int g = 0; g < TN_AXON_TYPES; g++)
        if (a->w[g] != b->w[g])
            return 0;
    return a->det == b->det && a->L == b->L && a->alpha == b->alpha && a->beta == b->beta &&
           a->pos_keep == b->pos_keep && a->pos_add == b->pos_add && a->neg_keep == b->neg_keep &&
           a->neg_add == b->neg_add;
}

/* The type index of a 16-bit core whose used neurons all have the same
 * deterministic dynamics with resets inside 16 bits (the dense update), or
 * -1. */
static int32_t dense_type(const tn_sim *s, const tn_core *mc)
{
#ifdef __SSE2__
    int32_t first = -1;
    for (int j = 0; j < TN_NEURONS; j++) {
        int k = mc->type[j];
        if (k < 0)
            continue;
        const sim_type *ty = &s->types[k];
        if (!ty->det || ty->pos_add < -NARROW_BOUND || ty->pos_add > NARROW_BOUND ||
            ty->neg_add < -NARROW_BOUND || ty->neg_add > NARROW_BOUND)
            return -1;
        if (first < 0)
            first = k;
        else if (!same_dynamics(&s->types[first], ty))
            return -1;
    }
    return first;
#else
    (void)s, (void)mc;
    return -1;
#endif
}

/* Neurons, destinations and the local type table of core c; `local` is
 * scratch of n_types entries, all -1 on entry and on return. */
static int build_core(tn_sim *s, int c, int32_t *local, uint32_t **tmap_next, snnc_err *err)
{
    const tn_core *mc = &s->m->cores[c];
    core_rt *rc = &s->cores[c];
    const tn_crossbar *xb = &s->m->crossbars[mc->crossbar];
    rc->rows = s->rows[mc->crossbar];
    rc->rng = seed_state(mc->rng_seed);
    for (int i = 0; i < TN_AXONS; i++)
        s->atype[c][i >> 2] |= (uint8_t)(xb->axon_type[i] << ((i & 3) * 2));
    uint32_t *tmap = *tmap_next;
    int n_local = 0, narrow = 1;
    for (int j = 0; j < TN_NEURONS; j++) {
        int k = mc->type[j];
        if (k < 0)
            continue;
        if (s->direct) {
            s->ltype[c][j] = (uint8_t)k;
        } else {
            if (local[k] < 0) {
                local[k] = n_local;
                tmap[n_local++] = (uint32_t)k;
            }
            s->ltype[c][j] = (uint8_t)local[k];
        }
        const sim_type *ty = &s->types[k];
        set_bit(rc->used, j);
        if (!ty->lazy)
            set_bit(rc->always, j);
        if ((ty->lazy && (ty->alpha > NARROW_BOUND || ty->beta > NARROW_BOUND)) ||
            ty->v0 < INT16_MIN || ty->v0 > INT16_MAX)
            narrow = 0;
        int d = core_index(s, mc->dest_core[j]);
        if (d < 0)
            continue;
        s->dest[c][j] = (uint32_t)(d + 1) << 12 | (uint32_t)mc->dest_delay[j] << 8 |
                        (uint32_t)mc->dest_axon[j];
    }
    for (int k = 0; k < n_local; k++)
        local[tmap[k]] = -1;
    rc->dense = narrow ? dense_type(s, mc) : -1;
    rc->tmap = tmap;
    *tmap_next += n_local;
    if (!narrow) {
        rc->wide = calloc(TN_NEURONS, sizeof *rc->wide);
        if (!rc->wide)
            return snnc_fail(err, SNNC_ENOMEM, "out of memory");
        s->n_wide++;
    }
    /* the state after tick -1: V = V0 */
    int64_t tau = s->tick - 1;
    for (int j = 0; j < TN_NEURONS; j++) {
        if (!((rc->used[j >> 6] >> (j & 63)) & 1))
            continue;
        const sim_type *ty = type_of(s, rc, c, j);
        store_v(s, rc, c, j, ty->v0, ty->Ll * (uint32_t)tau, tau);
        if (ty->lazy)
            set_wake(s, c, j, tau, ty->v0, ty);
    }
    return SNNC_OK;
}

/* Room for every core's local type table (distinct types of its neurons). */
static int alloc_type_maps(tn_sim *s, int32_t *local, snnc_err *err)
{
    size_t total = 0;
    for (int c = 0; c < s->n_cores && !s->direct; c++) {
        const tn_core *mc = &s->m->cores[c];
        int n_local = 0, seen[TN_NEURONS];
        for (int j = 0; j < TN_NEURONS; j++) {
            int k = mc->type[j];
            if (k >= 0 && k < s->n_types && local[k] < 0)
                local[k] = 0, seen[n_local++] = k;
        }
        for (int i = 0; i < n_local; i++)
            local[seen[i]] = -1;
        total += (size_t)n_local;
    }
    s->n_tmaps = total;
    s->tmaps = malloc((total + 1) * sizeof *s->tmaps);
    return s->tmaps ? SNNC_OK : snnc_fail(err, SNNC_ENOMEM, "out of memory");
}

static void *take(char **at, size_t bytes)
{
    void *p = *at;
    *at += (bytes + 63) & ~(size_t)63;
    return p;
}

/* The per-core arrays and the crossbar copies, in one zeroed mapping asked
 * for in 2 MiB pages (fewer TLB misses on a full chip). */
static int alloc_state(tn_sim *s, snnc_err *err)
{
    size_t n = (size_t)s->n_cores + 1, nx = (size_t)s->m->n_crossbars + 1, huge = (size_t)2 << 20;
    size_t sizes[] = {n * sizeof *s->cores, n * sizeof *s->u16,  n * sizeof *s->wake,
                      n * sizeof *s->ltype, n * sizeof *s->dest, n * sizeof *s->act,
                      n * sizeof *s->atype, nx * sizeof *s->rows};
    size_t total = 0;
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++)
        total += (sizes[k] + 63) & ~(size_t)63;
    s->map_size = total + huge;
    s->map = mmap(NULL, s->map_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (s->map == MAP_FAILED) {
        s->map = NULL;
        return snnc_fail(err, SNNC_ENOMEM, "out of memory for %d cores", s->n_cores);
    }
    char *at = (char *)(((uintptr_t)s->map + huge - 1) & ~(uintptr_t)(huge - 1));
#ifdef MADV_HUGEPAGE
    madvise(at, (total + huge - 1) & ~(huge - 1), MADV_HUGEPAGE);
#endif
    s->cores = take(&at, sizes[0]);
    s->u16 = take(&at, sizes[1]);
    s->wake = take(&at, sizes[2]);
    s->ltype = take(&at, sizes[3]);
    s->dest = take(&at, sizes[4]);
    s->act = take(&at, sizes[5]);
    s->atype = take(&at, sizes[6]);
    s->rows = take(&at, sizes[7]);
    for (int k = 0; k < s->m->n_crossbars; k++)
        memcpy(s->rows[k], s->m->crossbars[k].row, sizeof s->rows[k]);
    s->part = malloc(n);
    s->part_lo = malloc(((size_t)s->parts + 1) * sizeof *s->part_lo);
    s->q = calloc((size_t)s->parts * SLOTS * (size_t)s->parts, sizeof *s->q);
    if (!s->part || !s->part_lo || !s->q)
        return snnc_fail(err, SNNC_ENOMEM, "out of memory for %d cores", s->n_cores);
    for (int k = 0; k <= s->parts; k++)
        s->part_lo[k] = (int)((int64_t)s->n_cores * k / s->parts);
    for (int k = 0; k < s->parts; k++)
        memset(s->part + s->part_lo[k], k, (size_t)(s->part_lo[k + 1] - s->part_lo[k]));
    return SNNC_OK;
}

int tn_sim_simd_level(void)
{
#ifdef HAVE_AVX2_PATH
    __builtin_cpu_init();
    int cpu = __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512f") ? 2
              : __builtin_cpu_supports("avx2")                                        ? 1
                                                                                      : 0;
    const char *cap = getenv("SNNC_TN_SIMD"); /* to test every variant */
    int max = cap && cap[0] >= '0' && cap[0] <= '2' && !cap[1] ? cap[0] - '0' : 2;
    return cpu < max ? cpu : max;
#elif defined(__SSE2__)
    return 0;
#else
    return -1;
#endif
}

int tn_sim_simd(const tn_sim *s) { return s->simd; }

int tn_sim_new(const tn_model *m, int threads, tn_sim **out, snnc_err *err)
{
    *out = NULL;
    int rc = tn_model_check(m, NULL, err); /* the reader's ranges (tn_ranges.c) */
    if (rc)
        return rc;
    if (m->n_cores > MAX_CORES)
        return snnc_fail(err, SNNC_EUNSUPPORTED, "%d cores: at most %d", m->n_cores, MAX_CORES);
    tn_sim *s = calloc(1, sizeof *s);
    if (!s)
        return snnc_fail(err, SNNC_ENOMEM, "out of memory");
    s->m = m;
    s->n_cores = m->n_cores;
    s->simd = tn_sim_simd_level();
    if (threads <= 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        threads = n > 0 ? (int)n : 1;
    }
    if (threads > MAX_THREADS)
        threads = MAX_THREADS;
    s->parts = threads < s->n_cores ? threads : (s->n_cores ? s->n_cores : 1);
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cv, NULL);
    s->n_types = m->n_types;
    s->direct = m->n_types <= 256;
    size_t types_size = ((size_t)m->n_types + 1) * sizeof *s->types;
    s->types = aligned_alloc(_Alignof(sim_type), types_size);
    if (s->types)
        memset(s->types, 0, types_size);
    int32_t *local = malloc(((size_t)m->n_types + 1) * sizeof *local);
    rc = !s->types || !local ? snnc_fail(err, SNNC_ENOMEM, "out of memory") : SNNC_OK;
    if (!rc)
        memset(local, 0xFF, ((size_t)m->n_types + 1) * sizeof *local);
    for (int k = 0; !rc && k < m->n_types; k++)
        compile_type(&m->types[k], &s->types[k]);
    if (!rc)
        rc = alloc_state(s, err);
    if (!rc)
        rc = build_ids(s, err);
    if (!rc)
        rc = alloc_type_maps(s, local, err);
    uint32_t *tmap_next = s->tmaps;
    for (int c = 0; !rc && c < s->n_cores; c++)
        rc = build_core(s, c, local, &tmap_next, err);
    free(local);
    s->m = NULL; /* everything needed is copied */
    if (rc) {
        tn_sim_free(s);
        return rc;
    }
    *out = s;
    return SNNC_OK;
}

void tn_sim_free(tn_sim *s)
{
    if (!s)
        return;
    for (int c = 0; s->cores && c < s->n_cores; c++)
        free(s->cores[c].wide);
    for (size_t k = 0; s->q && k < (size_t)s->parts * SLOTS * (size_t)s->parts; k++)
        free(s->q[k].e);
    free(s->q);
    if (s->map)
        munmap(s->map, s->map_size);
    free(s->tmaps);
    free(s->part);
    free(s->part_lo);
    free(s->types);
    free(s->ids);
    free(s->hash);
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->cv);
    free(s);
}

int64_t tn_sim_tick(const tn_sim *s) { return s->tick; }

size_t tn_sim_memory(const tn_sim *s)
{
    size_t n = (size_t)s->n_cores, bytes = sizeof *s;
    bytes += s->map_size + n * (sizeof *s->ids + 1 + 2 * sizeof *s->hash);
    bytes += s->n_tmaps * sizeof *s->tmaps + (size_t)s->n_types * sizeof *s->types;
    bytes += (size_t)s->n_wide * TN_NEURONS * sizeof(uint32_t);
    for (size_t k = 0; k < (size_t)s->parts * SLOTS * (size_t)s->parts; k++)
        bytes += sizeof s->q[k] + s->q[k].cap * sizeof *s->q[k].e;
    return bytes;
}

int32_t tn_sim_potential(const tn_sim *s, int core_index, int neuron)
{
    if (core_index < 0 || core_index >= s->n_cores || neuron < 0 || neuron >= TN_NEURONS)
        return 0;
    const core_rt *rc = &s->cores[core_index];
    if (!((rc->used[neuron >> 6] >> (neuron & 63)) & 1))
        return 0;
    const sim_type *ty = type_of(s, rc, core_index, neuron);
    return load_v(s, rc, core_index, neuron, ty->Ll * (uint32_t)(s->tick - 1));
}

/* ------------------------------------------------------------ the tick */

static void record(worker *w, int64_t t, int c, int j)
{
    if (w->n_rec == w->cap_rec) {
        size_t cap = w->cap_rec ? 2 * w->cap_rec : 1024;
        fired *r = realloc(w->rec, cap * sizeof *r);
        if (!r) {
            w->nomem = 1;
            return;
        }
        w->rec = r, w->cap_rec = cap;
    }
    w->rec[w->n_rec++] = (fired){t, c, j};
}

static void push(worker *w, queue *q, uint32_t e)
{
    if (q->n == q->cap) {
        uint32_t cap = q->cap ? 2 * q->cap : 256;
        uint32_t *p = realloc(q->e, cap * sizeof *p);
        if (!p) {
            w->nomem = 1;
            return;
        }
        q->e = p, q->cap = cap;
    }
    q->e[q->n++] = e;
}

/* A spike of neuron j of core c: noted now, sent after the tick's cores
 * (emit), when the destinations can be fetched ahead. */
static inline void note_fire(worker *w, int c, int j)
{
    if (w->n_fires == w->cap_fires) {
        size_t cap = w->cap_fires ? 2 * w->cap_fires : 4096;
        uint32_t *f = realloc(w->fires, cap * sizeof *f);
        if (!f) {
            w->nomem = 1;
            return;
        }
        w->fires = f, w->cap_fires = cap;
    }
    w->fires[w->n_fires++] = (uint32_t)c << 8 | (uint32_t)j;
}

/* Sends this tick's spikes (in core, neuron order) to the queues of their
 * arrival tick, records them, counts hops. */
static void emit(tn_sim *s, worker *w, int64_t t)
{
    const size_t ahead = 8, n = w->n_fires;
    const uint32_t *fires = w->fires;
    queue *row[SLOTS]; /* this worker's queues per arrival slot */
    for (int k = 0; k < SLOTS; k++)
        row[k] = queue_at(s, w->src, k, 0);
    int64_t hops = 0, leaving = 0;
    for (size_t k = 0; k < n && k < ahead; k++)
        prefetch(&s->dest[fires[k] >> 8][fires[k] & 255]);
    for (size_t k = 0; k < n; k++) {
        if (k + ahead < n)
            prefetch(&s->dest[fires[k + ahead] >> 8][fires[k + ahead] & 255]);
        unsigned c = fires[k] >> 8, j = fires[k] & 255;
        if (w->record)
            record(w, t, (int)c, (int)j);
        uint32_t d = s->dest[c][j];
        if (!(d >> 12)) {
            leaving++;
            continue;
        }
        unsigned idx = (d >> 12) - 1;
        push(w, row[(t + ((d >> 8) & 15)) & (SLOTS - 1)] + s->part[idx], idx << 8 | (d & 255));
        int dx = (int)(c % GRID) - (int)(idx % GRID), dy = (int)(c / GRID) - (int)(idx / GRID);
        hops += (dx < 0 ? -dx : dx) + (dy < 0 ? -dy : dy);
    }
    w->hops += hops;
    w->leaving += leaving;
    w->spikes += (int64_t)n;
    w->n_fires = 0;
}

/* Synaptic input of neuron j: deterministic types add count x weight;
 * stochastic types draw once per event, in axon-type order 0..3. */
/* Events of neuron j per axon type in the current core (extra counts
 * consumed). */
static inline void take_counts(worker *w, int j, int32_t k[TN_AXON_TYPES])
{
    int q = j >> 6, b = j & 63;
    for (int g = 0; g < TN_AXON_TYPES; g++)
        k[g] = (int32_t)((w->seen[g][q] >> b) & 1);
    if ((w->more[q] >> b) & 1)
        for (int g = 0; g < TN_AXON_TYPES; g++) {
            k[g] += w->extra[g][j];
            w->extra[g][j] = 0;
        }
    w->syn_events += k[0] + k[1] + k[2] + k[3];
}

static int32_t synaptic_input(worker *w, int j, const sim_type *ty, uint32_t *rng)
{
    int32_t sum = 0, counts[TN_AXON_TYPES];
    take_counts(w, j, counts);
    for (int g = 0; g < TN_AXON_TYPES; g++) {
        int k = counts[g];
        if (!k)
            continue;
        if (!ty->b[g]) {
            sum += k * ty->w[g];
            continue;
        }
        int32_t mag = ty->w[g] < 0 ? -ty->w[g] : ty->w[g], sign = sgn(ty->w[g]);
        for (int e = 0; e < k; e++)
            if (mag >= draw8(rng))
                sum += sign;
    }
    return sum;
}

/* One neuron in tick t: integrate, leak, threshold/fire/reset.  `input`:
 * whether it received synaptic events this tick. */
static inline __attribute__((always_inline)) void update(tn_sim *s, worker *w, core_rt *rc, int c,
                                                         int j, int64_t t, int input, int wide)
{
    const sim_type *ty = type_of(s, rc, c, j);
    uint32_t off = ty->Ll * (uint32_t)t;
    int32_t v = load_v_mode(s, rc, c, j, off - ty->Ll, wide); /* after tick t - 1 */
    if (ty->det) {
        /* deterministic, constant leak L, eta = 0: the same steps, branch-light */
        /* a 16-bit V plus at most 256 x 255 and a leak of 255 stays inside 20 bits:
         * saturation only matters in 32-bit cores */
        if (input) {
            int q = j >> 6, b = j & 63;
            unsigned m = (unsigned)((w->seen[0][q] >> b) & 1) | (unsigned)((w->seen[1][q] >> b) & 1) << 1 |
                         (unsigned)((w->seen[2][q] >> b) & 1) << 2 | (unsigned)((w->seen[3][q] >> b) & 1) << 3;
            v += ty->in[m];
            w->syn_events += (0x4332322132212110ull >> (4 * m)) & 15; /* popcount of m */
            if ((w->more[q] >> b) & 1)
                for (int g = 0; g < TN_AXON_TYPES; g++) {
                    v += w->extra[g][j] * ty->w[g];
                    w->syn_events += w->extra[g][j];
                    w->extra[g][j] = 0;
                }
            if (wide)
                v = sat(v);
        } else if (!(v + ty->L >= ty->alpha || v + ty->L < -ty->beta)) {
            set_wake(s, c, j, t - 1, v, ty); /* capped wake-up: nothing happens yet */
            return;
        }
        v += ty->L;
        if (wide)
            v = sat(v);
        int spike = v >= ty->alpha;
        if (spike)
            v = (v & ty->pos_keep) + ty->pos_add;
        else if (v < -ty->beta)
            v = (v & ty->neg_keep) + ty->neg_add;
        if (store_v_mode(s, rc, c, j, v, off, t, wide, w->done))
            w->nomem = 1;
        set_wake(s, c, j, t, v, ty);
        if (spike)
            note_fire(w, c, j);
        return;
    }
    if (!input && ty->lazy && !(v + ty->L >= ty->alpha || v + ty->L < -ty->beta)) {
        set_wake(s, c, j, t - 1, v, ty); /* capped wake-up: nothing happens yet */
        return;
    }
    if (input)
        v = sat(v + synaptic_input(w, j, ty, &rc->rng));
    /* leak */
    if (ty->c_lambda) {
        int32_t omega = ty->epsilon ? sgn(v) * ty->sigma_lambda : ty->sigma_lambda;
        if (ty->lambda >= draw8(&rc->rng) && ty->lambda)
            v = sat(v + omega);
    } else if (ty->lambda) {
        int32_t omega = ty->epsilon ? sgn(v) * ty->sigma_lambda : ty->sigma_lambda;
        v = sat(v + omega * ty->lambda);
    }
    /* threshold, fire, reset */
    int32_t eta = ty->tm_mask ? (int32_t)(draw18(&rc->rng) & ty->tm_mask) : 0;
    int spike = 0;
    if (v >= ty->alpha + eta) {
        spike = 1;
        v = ty->gamma == 0 ? ty->R : ty->gamma == 1 ? v - (ty->alpha + eta) : v;
    } else if (v < -(ty->kappa ? ty->beta : ty->beta + eta)) {
        v = ty->kappa ? -ty->beta : ty->gamma == 0 ? -ty->R : ty->gamma == 1 ? v + (ty->beta + eta) : v;
    }
    if (store_v_mode(s, rc, c, j, v, off, t, wide, w->done))
        w->nomem = 1;
    if (ty->lazy)
        set_wake(s, c, j, t, v, ty);
    if (spike)
        note_fire(w, c, j);
}

/* Neurons whose wake tick is t (modulo 256). */
static void due_mask(const uint8_t *wake, uint8_t t8, uint64_t due[WORDS])
{
#ifdef __SSE2__
    __m128i key = _mm_set1_epi8((char)t8);
    for (int q = 0; q < WORDS; q++) {
        uint64_t m = 0;
        for (int b = 0; b < 4; b++) {
            __m128i v = _mm_load_si128((const __m128i *)(wake + q * 64 + b * 16));
            m |= (uint64_t)(uint16_t)_mm_movemask_epi8(_mm_cmpeq_epi8(v, key)) << (b * 16);
        }
        due[q] = m;
    }
#else
    for (int q = 0; q < WORDS; q++) {
        uint64_t m = 0;
        for (int b = 0; b < 64; b++)
            m |= (uint64_t)(wake[q * 64 + b] == t8) << b;
        due[q] = m;
    }
#endif
}

/* The events of active axon i (type g) on the core's neurons. */
static inline void integrate_axon(worker *w, const core_rt *rc, const uint64_t *row, int g,
                                  uint64_t touched[WORDS])
{
    for (int r = 0; r < WORDS; r++) {
        uint64_t bits = row[r] & rc->used[r];
        uint64_t again = w->seen[g][r] & bits;
        w->seen[g][r] |= bits;
        touched[r] |= bits;
        if (again) {
            w->more[r] |= again;
            for (; again; again &= again - 1)
                w->extra[g][r * 64 + __builtin_ctzll(again)]++;
        }
    }
}

/* Updates the neurons of `set` in ascending order (removing them from it);
 * a 16-bit pass stops when the core turns 32-bit. */
static inline __attribute__((always_inline)) void run_updates(tn_sim *s, worker *w, core_rt *rc, int c,
                                                              int64_t t, uint64_t set[WORDS],
                                                              const uint64_t touched[WORDS], int wide)
{
    if (!wide)
        memset(w->done, 0, sizeof w->done);
    for (int q = 0; q < WORDS; q++)
        while (set[q]) {
            int b = __builtin_ctzll(set[q]);
            set[q] &= set[q] - 1;
            update(s, w, rc, c, q * 64 + b, t, (int)((touched[q] >> b) & 1), wide);
            if (!wide && rc->wide)
                return;
            w->done[q] |= 1ull << b;
        }
}

#ifdef __SSE2__
/* The events of active axon i (weight wg) into the dense core's input. */
static inline int64_t dense_axon(int16_t *in, const core_rt *rc, const uint64_t *row, int16_t wg)
{
    int64_t events = 0;
    for (int r = 0; r < WORDS; r++)
        for (uint64_t bits = row[r] & rc->used[r]; bits; bits &= bits - 1, events++)
            in[r * 64 + __builtin_ctzll(bits)] += wg;
    return events;
}

/* The vector part of step_dense: the new U (the old one saved in w->tmp),
 * the firing neurons into fire; returns whether a value reached the 16-bit
 * bounds.  `full`:
 * every neuron is used. */
static inline __attribute__((always_inline)) int dense_pass(const tn_sim *s, worker *w,
                                                            const core_rt *rc, int c, int64_t t,
                                                            const sim_type *ty,
                                                            uint64_t fire[WORDS], int full)
{
    int16_t *in = w->in16;
    uint32_t off = ty->Ll * (uint32_t)t; /* U = V - off after tick t */
    const __m128i offv = _mm_set1_epi16((short)off), prev = _mm_set1_epi16((short)(off - ty->Ll));
    const __m128i leak = _mm_set1_epi16((short)ty->L), am1 = _mm_set1_epi16((short)(ty->alpha - 1));
    const __m128i nbeta = _mm_set1_epi16((short)-ty->beta);
    const __m128i pkeep = _mm_set1_epi16(ty->pos_keep), padd = _mm_set1_epi16((short)ty->pos_add);
    const __m128i nkeep = _mm_set1_epi16(ty->neg_keep), nadd = _mm_set1_epi16((short)ty->neg_add);
    const __m128i lane = _mm_setr_epi16(1, 2, 4, 8, 16, 32, 64, 128), zero = _mm_setzero_si128();
    /* saturating adds: a result at a bound may have overflowed */
    __m128i vmax = _mm_set1_epi16(INT16_MIN + 1), vmin = _mm_set1_epi16(INT16_MAX - 1);
    uint16_t *u16 = s->u16[c];
    for (int r = 0; r < WORDS; r++) {
        uint64_t word = 0;
        for (int b = 0; b < 8; b++) {
            int k = r * 64 + b * 8;
            __m128i used = _mm_set1_epi16(-1);
            if (!full) {
                used = _mm_set1_epi16((short)((rc->used[r] >> (b * 8)) & 255));
                used = _mm_cmpeq_epi16(_mm_and_si128(used, lane), lane);
            }
            __m128i u = _mm_load_si128((const __m128i *)(u16 + k));
            __m128i x = _mm_load_si128((const __m128i *)(in + k));
            _mm_store_si128((__m128i *)(in + k), zero);
            __m128i v = _mm_adds_epi16(_mm_add_epi16(u, prev), x);
            if (!full)
                v = _mm_and_si128(v, used);
            vmax = _mm_max_epi16(vmax, v);
            vmin = _mm_min_epi16(vmin, v);
            v = _mm_adds_epi16(v, leak);
            if (!full)
                v = _mm_and_si128(v, used);
            vmax = _mm_max_epi16(vmax, v);
            vmin = _mm_min_epi16(vmin, v);
            __m128i sp = _mm_cmpgt_epi16(v, am1);
            if (!full)
                sp = _mm_and_si128(sp, used);
            __m128i ng = _mm_andnot_si128(sp, _mm_cmplt_epi16(v, nbeta));
            __m128i vs = _mm_add_epi16(_mm_and_si128(v, pkeep), padd);
            __m128i vn = _mm_add_epi16(_mm_and_si128(v, nkeep), nadd);
            v = _mm_or_si128(_mm_or_si128(_mm_and_si128(sp, vs), _mm_and_si128(ng, vn)),
                             _mm_andnot_si128(_mm_or_si128(sp, ng), v));
            v = _mm_sub_epi16(v, offv);
            if (!full)
                v = _mm_or_si128(_mm_and_si128(used, v), _mm_andnot_si128(used, u));
            _mm_store_si128((__m128i *)(w->tmp + k), u);
            _mm_store_si128((__m128i *)(u16 + k), v);
            word |= (uint64_t)(unsigned)_mm_movemask_epi8(_mm_packs_epi16(sp, zero)) << (b * 8);
        }
        fire[r] = word;
    }
    __m128i bad = _mm_or_si128(_mm_cmpeq_epi16(vmax, _mm_set1_epi16(INT16_MAX)),
                               _mm_cmpeq_epi16(vmin, _mm_set1_epi16(INT16_MIN)));
    return _mm_movemask_epi8(bad) != 0;
}

#ifdef HAVE_AVX2_PATH
/* dense_pass with AVX2: 16 neurons per vector, two vectors per step. */
__attribute__((target("avx2"))) static inline int dense_pass_avx2_body(const tn_sim *s, worker *w,
                                                                        const core_rt *rc, int c,
                                                                        int64_t t, const sim_type *ty,
                                                                        uint64_t fire[WORDS], int full)
{
    int16_t *in = w->in16;
    uint32_t off = ty->Ll * (uint32_t)t;
    const __m256i offv = _mm256_set1_epi16((short)off), prev = _mm256_set1_epi16((short)(off - ty->Ll));
    const __m256i leak = _mm256_set1_epi16((short)ty->L), am1 = _mm256_set1_epi16((short)(ty->alpha - 1));
    const __m256i nbeta = _mm256_set1_epi16((short)-ty->beta);
    const __m256i pkeep = _mm256_set1_epi16(ty->pos_keep), padd = _mm256_set1_epi16((short)ty->pos_add);
    const __m256i nkeep = _mm256_set1_epi16(ty->neg_keep), nadd = _mm256_set1_epi16((short)ty->neg_add);
    const __m256i lane = _mm256_setr_epi16(1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096,
                                           8192, 16384, INT16_MIN);
    const __m256i zero = _mm256_setzero_si256();
    __m256i vmax = _mm256_set1_epi16(INT16_MIN + 1), vmin = _mm256_set1_epi16(INT16_MAX - 1);
    uint16_t *u16 = s->u16[c];
    for (int r = 0; r < WORDS; r++) {
        uint64_t word = 0;
        for (int b = 0; b < 2; b++) {
            __m256i sp2[2];
            for (int h = 0; h < 2; h++) {
                int k = r * 64 + b * 32 + h * 16;
                __m256i used = _mm256_set1_epi16(-1);
                if (!full) {
                    used = _mm256_set1_epi16((short)((rc->used[r] >> (b * 32 + h * 16)) & 0xFFFF));
                    used = _mm256_cmpeq_epi16(_mm256_and_si256(used, lane), lane);
                }
                __m256i u = _mm256_load_si256((const __m256i *)(u16 + k));
                __m256i x = _mm256_load_si256((const __m256i *)(in + k));
                _mm256_store_si256((__m256i *)(in + k), zero);
                __m256i v = _mm256_adds_epi16(_mm256_add_epi16(u, prev), x);
                if (!full)
                    v = _mm256_and_si256(v, used);
                vmax = _mm256_max_epi16(vmax, v);
                vmin = _mm256_min_epi16(vmin, v);
                v = _mm256_adds_epi16(v, leak);
                if (!full)
                    v = _mm256_and_si256(v, used);
                vmax = _mm256_max_epi16(vmax, v);
                vmin = _mm256_min_epi16(vmin, v);
                __m256i sp = _mm256_cmpgt_epi16(v, am1);
                if (!full)
                    sp = _mm256_and_si256(sp, used);
                __m256i ng = _mm256_andnot_si256(sp, _mm256_cmpgt_epi16(nbeta, v));
                __m256i vs = _mm256_add_epi16(_mm256_and_si256(v, pkeep), padd);
                __m256i vn = _mm256_add_epi16(_mm256_and_si256(v, nkeep), nadd);
                v = _mm256_or_si256(_mm256_or_si256(_mm256_and_si256(sp, vs), _mm256_and_si256(ng, vn)),
                                    _mm256_andnot_si256(_mm256_or_si256(sp, ng), v));
                v = _mm256_sub_epi16(v, offv);
                if (!full)
                    v = _mm256_or_si256(_mm256_and_si256(used, v), _mm256_andnot_si256(used, u));
                _mm256_store_si256((__m256i *)(w->tmp + k), u);
                _mm256_store_si256((__m256i *)(u16 + k), v);
                sp2[h] = sp;
            }
            /* bytes per 128-bit lane: [lo0 hi0 | lo1 hi1] -> neuron order */
            __m256i pk = _mm256_permute4x64_epi64(_mm256_packs_epi16(sp2[0], sp2[1]), 0xD8);
            word |= (uint64_t)(uint32_t)_mm256_movemask_epi8(pk) << (b * 32);
        }
        fire[r] = word;
    }
    __m256i bad = _mm256_or_si256(_mm256_cmpeq_epi16(vmax, _mm256_set1_epi16(INT16_MAX)),
                                  _mm256_cmpeq_epi16(vmin, _mm256_set1_epi16(INT16_MIN)));
    return _mm256_movemask_epi8(bad) != 0;
}

__attribute__((target("avx2"))) static int dense_pass_avx2(const tn_sim *s, worker *w,
                                                            const core_rt *rc, int c, int64_t t,
                                                            const sim_type *ty, uint64_t fire[WORDS])
{
    int full = (rc->used[0] & rc->used[1] & rc->used[2] & rc->used[3]) == ~0ull;
    return full ? dense_pass_avx2_body(s, w, rc, c, t, ty, fire, 1)
                : dense_pass_avx2_body(s, w, rc, c, t, ty, fire, 0);
}
#endif

/* The dense tick with AVX-512BW, 32 neurons per vector: the synaptic input
 * of each group of 32 neurons as masked adds of the active axons' weights
 * (the row bits are the masks), then the steps of dense_pass. */
__attribute__((target("avx512f,avx512bw,popcnt"))) static int
dense_step_avx512(const tn_sim *s, worker *w, const core_rt *rc, int c, int64_t t, const sim_type *ty,
                  uint64_t fire[WORDS], int64_t *events_out)
{
    const pending_axons *p = &s->act[c];
    const uint64_t *rowp[128]; /* step_dense: at most 128 active axons */
    uint8_t gt[128];
    int n = 0;
    const uint8_t *at = s->atype[c];
    if (p->n <= PENDING_LIST) {
        for (uint32_t k = 0; k < p->n; k++) {
            int i = p->list[k];
            rowp[n] = rc->rows[i];
            gt[n++] = (uint8_t)((at[i >> 2] >> ((i & 3) * 2)) & 3);
        }
    } else {
        for (int q = 0; q < WORDS; q++)
            for (uint64_t a = p->bits[q]; a; a &= a - 1) {
                int i = q * 64 + __builtin_ctzll(a);
                rowp[n] = rc->rows[i];
                gt[n++] = (uint8_t)((at[i >> 2] >> ((i & 3) * 2)) & 3);
            }
    }
    __m512i wv[TN_AXON_TYPES];
    for (int g = 0; g < TN_AXON_TYPES; g++)
        wv[g] = _mm512_set1_epi16((short)ty->w[g]);
    uint32_t off = ty->Ll * (uint32_t)t;
    const __m512i offv = _mm512_set1_epi16((short)off), prev = _mm512_set1_epi16((short)(off - ty->Ll));
    const __m512i leak = _mm512_set1_epi16((short)ty->L), am1 = _mm512_set1_epi16((short)(ty->alpha - 1));
    const __m512i nbeta = _mm512_set1_epi16((short)-ty->beta);
    const __m512i pkeep = _mm512_set1_epi16(ty->pos_keep), padd = _mm512_set1_epi16((short)ty->pos_add);
    const __m512i nkeep = _mm512_set1_epi16(ty->neg_keep), nadd = _mm512_set1_epi16((short)ty->neg_add);
    const __m512i hi = _mm512_set1_epi16(INT16_MAX), lo = _mm512_set1_epi16(INT16_MIN);
    uint16_t *u16 = s->u16[c];
    __mmask32 bad = 0;
    int64_t events = 0;
    for (int gi = 0; gi < TN_NEURONS / 32; gi++) {
        int q = gi >> 1, sh = (gi & 1) * 32;
        __mmask32 used = (uint32_t)(rc->used[q] >> sh);
        __m512i x = _mm512_setzero_si512();
        for (int a = 0; a < n; a++) {
            __mmask32 m = (uint32_t)(rowp[a][q] >> sh) & used;
            events += _mm_popcnt_u32(m);
            x = _mm512_mask_add_epi16(x, m, x, wv[gt[a]]);
        }
        __m512i u = _mm512_load_si512((const void *)(u16 + gi * 32));
        __m512i v = _mm512_adds_epi16(_mm512_add_epi16(u, prev), x);
        bad |= _mm512_mask_cmpeq_epi16_mask(used, v, hi) | _mm512_mask_cmpeq_epi16_mask(used, v, lo);
        v = _mm512_adds_epi16(v, leak);
        bad |= _mm512_mask_cmpeq_epi16_mask(used, v, hi) | _mm512_mask_cmpeq_epi16_mask(used, v, lo);
        __mmask32 sp = _mm512_mask_cmpgt_epi16_mask(used, v, am1);
        __mmask32 ng = _mm512_mask_cmplt_epi16_mask(used & ~sp, v, nbeta);
        __m512i nv = _mm512_mask_mov_epi16(v, sp, _mm512_add_epi16(_mm512_and_si512(v, pkeep), padd));
        nv = _mm512_mask_mov_epi16(nv, ng, _mm512_add_epi16(_mm512_and_si512(v, nkeep), nadd));
        nv = _mm512_mask_mov_epi16(u, used, _mm512_sub_epi16(nv, offv));
        _mm512_store_si512((void *)(w->tmp + gi * 32), u);
        _mm512_store_si512((void *)(u16 + gi * 32), nv);
        if (gi & 1)
            fire[gi >> 1] |= (uint64_t)sp << 32;
        else
            fire[gi >> 1] = sp;
    }
    *events_out = events;
    return bad != 0;
}

/* A dense core's tick (every used neuron has the deterministic dynamics of
 * type rc->dense): the model's steps for all 256 neurons at once, 8 per
 * vector, in 16-bit saturating arithmetic.  A value reaching the 16-bit
 * bounds (or more than 128 active axons, where the input might not fit)
 * makes the tick invalid: returns -1, nothing changed (the scalar update
 * then does the tick, widening the core if needed). */
static int step_dense(tn_sim *s, worker *w, core_rt *rc, int c, int64_t t)
{
    const pending_axons *p = &s->act[c];
    if (p->n > 128) /* 128 x 255 fits 16 bits */
        return -1;
    const sim_type *ty = &s->types[rc->dense];
    int16_t *in = w->in16, wg[TN_AXON_TYPES];
    uint16_t *u16 = s->u16[c];
    for (int g = 0; g < TN_AXON_TYPES; g++)
        wg[g] = (int16_t)ty->w[g];
    const uint64_t(*rows)[WORDS] = rc->rows;
    const uint8_t *at = s->atype[c];
    int64_t events = 0;
    uint64_t fire[WORDS];
    int bad;
#ifdef HAVE_AVX2_PATH
    if (s->simd == 2) {
        bad = dense_step_avx512(s, w, rc, c, t, ty, fire, &events);
    } else
#endif
    {
        if (p->n <= PENDING_LIST) {
            for (uint32_t k = 0; k < p->n; k++) {
                int i = p->list[k];
                events += dense_axon(in, rc, rows[i], wg[(at[i >> 2] >> ((i & 3) * 2)) & 3]);
            }
        } else {
            for (int q = 0; q < WORDS; q++)
                for (uint64_t a = p->bits[q]; a; a &= a - 1) {
                    int i = q * 64 + __builtin_ctzll(a);
                    events += dense_axon(in, rc, rows[i], wg[(at[i >> 2] >> ((i & 3) * 2)) & 3]);
                }
        }
        int full = (rc->used[0] & rc->used[1] & rc->used[2] & rc->used[3]) == ~0ull;
#ifdef HAVE_AVX2_PATH
        if (s->simd == 1)
            bad = dense_pass_avx2(s, w, rc, c, t, ty, fire);
        else
#endif
            bad = full ? dense_pass(s, w, rc, c, t, ty, fire, 1)
                       : dense_pass(s, w, rc, c, t, ty, fire, 0);
    }
    if (bad) { /* back to the state after tick t - 1 */
        memcpy(u16, w->tmp, sizeof s->u16[c]);
        return -1;
    }
    w->syn_events += events;
    for (int r = 0; r < WORDS; r++)
        for (uint64_t f = fire[r]; f; f &= f - 1)
            note_fire(w, c, r * 64 + __builtin_ctzll(f));
    return 0;
}
#endif

/* The wake ticks of a core's lazy neurons from their potentials after tick
 * t - 1 (the dense update does not keep them). */
static void refresh_wakes(tn_sim *s, core_rt *rc, int c, int64_t t)
{
    for (int j = 0; j < TN_NEURONS; j++) {
        if (!((rc->used[j >> 6] >> (j & 63)) & 1))
            continue;
        const sim_type *ty = type_of(s, rc, c, j);
        if (ty->lazy)
            set_wake(s, c, j, t - 1, load_v(s, rc, c, j, ty->Ll * (uint32_t)(t - 1)), ty);
    }
}

static void step_core(tn_sim *s, worker *w, int c, int64_t t)
{
    core_rt *rc = &s->cores[c];
    uint64_t touched[WORDS] = {0}, todo[WORDS];
    pending_axons *p = &s->act[c];
    if (rc->dense >= 0 && !rc->wide) {
#ifdef __SSE2__
        if (!step_dense(s, w, rc, c, t)) {
            for (int q = 0; q < WORDS; q++)
                p->bits[q] = 0;
            p->n = 0;
            return;
        }
#endif
        refresh_wakes(s, rc, c, t);
    }
    due_mask(s->wake[c], (uint8_t)t, todo);
    uint64_t any = p->n;
    for (int q = 0; q < WORDS; q++) {
        todo[q] = (todo[q] | rc->always[q]) & rc->used[q];
        any |= todo[q];
    }
    if (!any)
        return;
    const uint64_t(*rows)[WORDS] = rc->rows;
    const uint8_t *at = s->atype[c];
    if (p->n <= PENDING_LIST) {
        for (uint32_t k = 0; k < p->n; k++) {
            int i = p->list[k];
            integrate_axon(w, rc, rows[i], (at[i >> 2] >> ((i & 3) * 2)) & 3, touched);
        }
    } else {
        for (int q = 0; q < WORDS; q++)
            for (uint64_t a = p->bits[q]; a; a &= a - 1) {
                int i = q * 64 + __builtin_ctzll(a);
                integrate_axon(w, rc, rows[i], (at[i >> 2] >> ((i & 3) * 2)) & 3, touched);
            }
    }
    for (int q = 0; q < WORDS; q++)
        p->bits[q] = 0;
    p->n = 0;
    uint64_t set[WORDS];
    for (int q = 0; q < WORDS; q++)
        set[q] = todo[q] | touched[q];
    if (!rc->wide)
        run_updates(s, w, rc, c, t, set, touched, 0);
    if (rc->wide) /* from the start, or since a value needed more than 16 bits */
        run_updates(s, w, rc, c, t, set, touched, 1);
    for (int q = 0; q < WORDS; q++) {
        w->more[q] = 0;
        for (int g = 0; g < TN_AXON_TYPES; g++)
            w->seen[g][q] = 0;
    }
}

/* Fetch ahead what core c will need: its state (far ahead) and the
 * crossbar rows of its active axons (nearer, once its header is in). */
static inline void prefetch_core(const tn_sim *s, int c)
{
    const char *p = (const char *)s->u16[c];
    for (int k = 0; k < (int)sizeof s->u16[c]; k += 64)
        prefetch(p + k);
    for (int k = 0; k < (int)sizeof s->wake[c] && s->cores[c].dense < 0; k += 64) {
        prefetch((const char *)s->wake[c] + k);
        prefetch((const char *)s->ltype[c] + k);
    }
    prefetch(&s->cores[c]);
    prefetch((const char *)&s->cores[c] + 64);
    prefetch(s->atype[c]);
}

static inline void prefetch_rows(const tn_sim *s, int c)
{
    const uint64_t(*rows)[WORDS] = s->cores[c].rows;
    const pending_axons *p = &s->act[c];
    if (p->n <= PENDING_LIST) {
        for (uint32_t k = 0; k < p->n; k++)
            prefetch(rows[p->list[k]]);
        return;
    }
    for (int q = 0; q < WORDS; q++)
        for (uint64_t a = p->bits[q]; a; a &= a - 1)
            prefetch(rows[q * 64 + __builtin_ctzll(a)]);
}

/* Spikes arriving in tick t at this worker's cores: from the queues of
 * every writer for tick t (modulo 16), then the input spikes of tick t. */
static void deliver(tn_sim *s, worker *w, size_t *pos, int64_t t)
{
    int slot = (int)(t & (SLOTS - 1));
    for (int src = 0; src < s->parts; src++)
        for (int dst = w->plo; dst < w->phi; dst++) {
            queue *q = queue_at(s, src, slot, dst);
            for (uint32_t k = 0; k < q->n; k++)
                add_axon(&s->act[q->e[k] >> 8], (int)(q->e[k] & 255));
            q->n = 0;
        }
    while (*pos < w->n_in && w->in[*pos].tick < t)
        (*pos)++;
    for (; *pos < w->n_in && w->in[*pos].tick == t; (*pos)++) {
        int c = w->in_core[*pos];
        if (c >= w->lo && c < w->hi)
            add_axon(&s->act[c], w->in[*pos].axon);
    }
}

/* The tick barrier: spins briefly (both threads usually arrive within
 * microseconds), then yields the CPU (when the machine is oversubscribed). */
static void barrier_wait(tn_sim *s)
{
    int gen = __atomic_load_n(&s->bar_gen, __ATOMIC_ACQUIRE);
    if (__atomic_add_fetch(&s->bar_count, 1, __ATOMIC_ACQ_REL) == s->bar_n) {
        __atomic_store_n(&s->bar_count, 0, __ATOMIC_RELAXED);
        __atomic_store_n(&s->bar_gen, gen + 1, __ATOMIC_RELEASE);
        return;
    }
    for (int spins = 0; __atomic_load_n(&s->bar_gen, __ATOMIC_ACQUIRE) == gen; spins++) {
        if (spins < 2000) {
#if defined(__x86_64__) || defined(__i386__)
            __builtin_ia32_pause();
#endif
        } else {
            sched_yield();
        }
    }
}

static void *work(void *arg)
{
    worker *w = arg;
    tn_sim *s = w->s;
    size_t pos = 0;
    enum { STATE_AHEAD = 16, ROWS_AHEAD = 8 };
    for (int64_t t = w->t0; t < w->t1; t++) {
        deliver(s, w, &pos, t);
        for (int c = w->lo; c < w->lo + STATE_AHEAD && c < w->hi; c++)
            prefetch_core(s, c);
        for (int c = w->lo; c < w->lo + ROWS_AHEAD && c < w->hi; c++)
            prefetch_rows(s, c);
        for (int c = w->lo; c < w->hi; c++) {
            if (c + STATE_AHEAD < w->hi)
                prefetch_core(s, c + STATE_AHEAD);
            if (c + ROWS_AHEAD < w->hi)
                prefetch_rows(s, c + ROWS_AHEAD);
            step_core(s, w, c, t);
        }
        emit(s, w, t);
        if (w->threads > 1)
            barrier_wait(s);
    }
    return NULL;
}

static void *work_thread(void *arg)
{
    worker *w = arg;
    tn_sim *s = w->s;
    pthread_mutex_lock(&s->mu);
    while (!s->go)
        pthread_cond_wait(&s->cv, &s->mu);
    int go = s->go;
    pthread_mutex_unlock(&s->mu);
    return go > 0 ? work(w) : NULL;
}

static void release(tn_sim *s, int go)
{
    pthread_mutex_lock(&s->mu);
    s->go = go;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
}

/* Runs the workers on `nw` threads (the caller's is one of them); falls back
 * to one thread when threads cannot be created (results do not depend on
 * the number of threads). */
static void run_workers(tn_sim *s, worker *ws, int nw)
{
    pthread_t th[MAX_THREADS];
    int started = 1;
    if (nw > 1) {
        s->go = 0;
        s->bar_count = 0, s->bar_n = nw;
        for (; started < nw; started++)
            if (pthread_create(&th[started], NULL, work_thread, &ws[started]) != 0)
                break;
        release(s, started == nw ? 1 : -1);
        if (started == nw)
            work(&ws[0]);
        for (int k = 1; k < started; k++)
            pthread_join(th[k], NULL);
        if (started == nw)
            return;
    }
    worker *w = &ws[0]; /* one thread for every partition */
    w->plo = 0, w->phi = s->parts, w->lo = 0, w->hi = s->n_cores, w->threads = 1;
    work(w);
}

/* ------------------------------------------------------------- the run */

static int check_inputs(const tn_sim *s, const tn_input_spike *in, size_t n_in, int32_t *cores,
                        snnc_err *err)
{
    for (size_t k = 0; k < n_in; k++) {
        if (k && in[k].tick < in[k - 1].tick)
            return snnc_fail(err, SNNC_EINVALID, "input spike %zu: tick %lld after tick %lld (not sorted)",
                             k, (long long)in[k].tick, (long long)in[k - 1].tick);
        if (in[k].tick < s->tick)
            return snnc_fail(err, SNNC_EINVALID, "input spike %zu: tick %lld is before tick %lld, "
                             "where this run starts", k, (long long)in[k].tick, (long long)s->tick);
        cores[k] = core_index(s, in[k].core);
        if (cores[k] < 0)
            return snnc_fail(err, SNNC_EINVALID, "input spike %zu: no core with id %lld", k,
                             (long long)in[k].core);
        if (in[k].axon < 0 || in[k].axon >= TN_AXONS)
            return snnc_fail(err, SNNC_EINVALID, "input spike %zu: axon %d out of range 0..255", k,
                             in[k].axon);
    }
    return SNNC_OK;
}

static int cmp_out(const void *pa, const void *pb)
{
    const tn_output_spike *a = pa, *b = pb;
    if (a->tick != b->tick)
        return a->tick < b->tick ? -1 : 1;
    if (a->core != b->core)
        return a->core < b->core ? -1 : 1;
    return (a->neuron > b->neuron) - (a->neuron < b->neuron);
}

/* Workers' records are each sorted by (tick, core index, neuron) and cover
 * increasing core ranges: merge them tick by tick, then map indices to ids. */
static int collect(tn_sim *s, worker *ws, int nw, tn_output_spike **out, size_t *n_out, snnc_err *err)
{
    size_t total = 0;
    for (int k = 0; k < nw; k++)
        total += ws[k].n_rec;
    if (!total)
        return SNNC_OK;
    tn_output_spike *o = realloc(*out, (*n_out + total) * sizeof *o);
    if (!o)
        return snnc_fail(err, SNNC_ENOMEM, "out of memory for %zu output spikes", total);
    *out = o;
    tn_output_spike *dst = o + *n_out;
    size_t p[MAX_THREADS] = {0}, n = 0;
    for (int64_t t = ws[0].t0; t < ws[0].t1 && n < total; t++)
        for (int k = 0; k < nw; k++)
            for (; p[k] < ws[k].n_rec && ws[k].rec[p[k]].tick == t; p[k]++) {
                const fired *f = &ws[k].rec[p[k]];
                dst[n++] = (tn_output_spike){f->tick, s->ids[f->core], f->neuron};
            }
    if (!s->ids_ascending)
        qsort(dst, n, sizeof *dst, cmp_out);
    *n_out += n;
    return SNNC_OK;
}

int tn_sim_run(tn_sim *s, int64_t ticks, const tn_input_spike *in, size_t n_in,
               tn_output_spike **out, size_t *n_out, tn_activity *act, snnc_err *err)
{
    if (ticks < 0)
        return snnc_fail(err, SNNC_EUSAGE, "negative tick count %lld", (long long)ticks);
    if (out && !n_out)
        return snnc_fail(err, SNNC_EUSAGE, "output spikes without a count");
    int32_t *in_core = n_in ? malloc(n_in * sizeof *in_core) : NULL;
    if (n_in && !in_core)
        return snnc_fail(err, SNNC_ENOMEM, "out of memory for %zu input spikes", n_in);
    int rc = check_inputs(s, in, n_in, in_core, err);
    int nw = s->parts;
    worker *ws = rc ? NULL : aligned_alloc(64, sizeof *ws * (size_t)nw);
    if (!rc && !ws)
        rc = snnc_fail(err, SNNC_ENOMEM, "out of memory");
    if (rc) {
        free(in_core);
        return rc;
    }
    for (int k = 0; k < nw; k++) {
        memset(&ws[k], 0, sizeof ws[k]);
        ws[k].s = s;
        ws[k].src = k, ws[k].plo = k, ws[k].phi = k + 1;
        ws[k].lo = s->part_lo[k], ws[k].hi = s->part_lo[k + 1];
        ws[k].threads = nw;
        ws[k].t0 = s->tick, ws[k].t1 = s->tick + ticks;
        ws[k].in = in, ws[k].in_core = in_core, ws[k].n_in = n_in;
        ws[k].record = out != NULL;
    }
    run_workers(s, ws, nw);
    s->tick += ticks;
    tn_activity a = {.ticks = ticks, .cores = s->n_cores};
    for (size_t k = 0; k < n_in; k++)
        a.input_spikes += in[k].tick < s->tick;
    int nomem = 0;
    for (int k = 0; k < nw; k++) {
        a.spikes += ws[k].spikes;
        a.spikes_leaving += ws[k].leaving;
        a.synaptic_events += ws[k].syn_events;
        a.hops += ws[k].hops;
        nomem |= ws[k].nomem;
    }
    if (act) {
        act->ticks += a.ticks;
        act->cores = a.cores;
        act->spikes += a.spikes;
        act->spikes_leaving += a.spikes_leaving;
        act->synaptic_events += a.synaptic_events;
        act->hops += a.hops;
        act->input_spikes += a.input_spikes;
    }
    if (nomem)
        rc = snnc_fail(err, SNNC_ENOMEM, "out of memory during the simulation (the state is lost)");
    else if (out)
        rc = collect(s, ws, nw, out, n_out, err);
    for (int k = 0; k < nw; k++) {
        free(ws[k].rec);
        free(ws[k].fires);
    }
    free(ws);
    free(in_core);
    return rc;
}
