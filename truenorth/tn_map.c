/* tn_map.c — a spiking netlist (mapper/netlist.h) placed on TrueNorth
 * cores: four axons per input (types 0..3, type weights (1, 2, 4, -8) m_j)
 * whose crossbar bits are the 4-bit two's complement of the weight code,
 * four neuron copies per destination group, relay neurons on splitter
 * cores for sources with too many groups (1 tick of the delay each),
 * greedy placement grouping neurons by their inputs, neuron types, core
 * metadata, the report and its invariants; the rate coder and the readout
 * decoder.  Interface:
 * truenorth/tn_map.h; derivation: docs/TRUENORTH_MAPPING.md. */
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ir/error.h"
#include "mapper/mapper.h"
#include "tn_map.h"
#include "tn_ranges.h"

#define MAX_PASSES 64

static const char *const role_names[SNNC_POP_ROLE_COUNT] = {"input", "hidden", "partial",
                                                            "readout"};

static const char *role_name(snnc_pop_role r)
{
    return (unsigned)r < SNNC_POP_ROLE_COUNT ? role_names[r] : "unknown";
}

/* An input of a neuron: source neuron (global index) and delay, packed so
 * that sorting keys sorts by source then delay. */
static int64_t key_of(int64_t src, int delay) { return src * 16 + delay; }
static int64_t key_src(int64_t key) { return key / 16; }
static int key_delay(int64_t key) { return (int)(key % 16); }

typedef struct syn {
    int64_t key;
    int code;
} syn;

/* One core under construction. */
typedef struct pcore {
    int n_keys;
    int64_t keys[TN_MAP_FANIN_MAX]; /* sorted; axon group g = axons 4g..4g+3 */
    int slots;                      /* neuron slots reserved (sum of costs) */
} pcore;

/* Up to 64 relayed destination groups of one source: one copy of the
 * source feeds the chunk's axon (type 0) on a splitter core, whose relay
 * neurons slot0.. forward 4 per group (docs/TRUENORTH_MAPPING.md §2b). */
typedef struct chunk {
    int src;              /* source neuron (global index) */
    int groups;           /* relayed groups in it (1..64) */
    int core;             /* splitter core (0-based among splitter cores) */
    int axon, slot0;
} chunk;

#define RELAY_GROUPS_PER_CHUNK (TN_NEURONS / TN_AXON_TYPES)

/* One key on one core, chained per source neuron. */
typedef struct kentry {
    int64_t key;
    int core, next;
} kentry;

#define OPEN_SCAN 32

typedef struct mapper {
    const snnc_netlist *n;
    tn_map_options opt;
    int n_total;          /* all neurons, inputs included */
    int *off;             /* [n_pops + 1] first global index of each population */
    int *pop_of;          /* [n_total] */
    int64_t *syn_start;   /* [n_total + 1] CSR of each neuron's inputs */
    syn *syns;
    int *cost;            /* [n_total] neuron slots reserved */
    int *order;           /* non-input neurons in placement order */
    int n_order;
    int *core_of;         /* [n_total] core index, -1 inputs */
    pcore *cores;
    int n_cores, cap_cores;
    int *head;            /* [n_total] key index: first entry of each source, -1 */
    kentry *ent;          /* (key, core) pairs placed so far, chained per source */
    int n_ent, cap_ent;
    int *stamp, *overlap; /* [cap_cores] candidate marks and key overlaps */
    int stamp_now;
    int *open, n_open;    /* cores not yet full, in creation order */
    int *cand, n_cand;    /* candidate cores of one neuron */
    int64_t *grp_start;   /* [n_total + 1] CSR: destination groups of each source */
    int *grp_core;        /* core index of each group */
    int *grp_pos;         /* axon group position on that core */
    int *slot_of;         /* [n_total] first slot of each placed neuron */
    int *need;            /* [n_total] slots used */
    bool *flip;           /* [n_total] codes and mult negated (a code +8 made -8) */
    int clipped_codes;
    bool *relayed;        /* [n_total] groups of delay >= 2 go through relays */
    int relay_groups;     /* relay a source with more destination groups than this */
    int *chunk_first;     /* [n_total] first relay chunk of each source, -1 none */
    chunk *chunks;        /* relay chunks, contiguous per source */
    int n_chunks;
    int n_relay_cores;    /* splitter cores, after the n_cores placement cores */
    int *relay_fill;      /* [n_relay_cores] relay neurons used on each */
    snnc_err *err;
} mapper;

static int nomem(snnc_err *err) { return snnc_fail(err, SNNC_ENOMEM, "out of memory"); }

/* ------------------------------------------------------------ checks */

static int check_population(const mapper *mp, int p)
{
    const snnc_population *P = &mp->n->pops[p];
    snnc_err *err = mp->err;
    if (P->n < 0)
        return snnc_fail(err, SNNC_EINVALID, "population %d '%s': %d neurons", p, P->name, P->n);
    if ((unsigned)P->role >= SNNC_POP_ROLE_COUNT)
        return snnc_fail(err, SNNC_EINVALID, "population '%s': unknown role %d", P->name,
                         (int)P->role);
    if (P->role == SNNC_POP_INPUT) {
        if (!(P->input_scale > 0) || !isfinite(P->input_scale))
            return snnc_fail(err, SNNC_EINVALID, "input population '%s': input scale %g",
                             P->name, (double)P->input_scale);
        if (P->input_feature0 < 0 || (P->sign != 1 && P->sign != -1))
            return snnc_fail(err, SNNC_EINVALID,
                             "input population '%s': feature %d, sign %d", P->name,
                             P->input_feature0, P->sign);
        return SNNC_OK;
    }
    if (P->n > 0 && (!P->threshold || !P->leak || !P->mult || !P->floor || !P->v0))
        return snnc_fail(err, SNNC_EINVALID, "population '%s': neuron parameters missing",
                         P->name);
    for (int j = 0; j < P->n; j++) {
        /* the TrueNorth parameters they become (neuron_type), in the ranges of
         * tn_ranges.c (the threshold at least 1) */
        const tn_field fs[] = {TN_F_ALPHA, TN_F_LAMBDA, TN_F_BETA, TN_F_V};
        const int64_t vs[] = {P->threshold[j], P->leak[j], P->floor[j], P->v0[j]};
        const char *names[] = {"threshold", "leak", "floor", "initial potential"};
        for (int k = 0; k < 4; k++)
            if (!tn_range_ok(fs[k], vs[k]) || (fs[k] == TN_F_ALPHA && vs[k] < 1))
                return snnc_fail(err, SNNC_EUNSUPPORTED, "population '%s' neuron %d: %s (%s) = "
                                 "%lld is out of range %lld..%lld", P->name, j, names[k],
                                 tn_ranges[fs[k]].key, (long long)vs[k],
                                 (long long)(fs[k] == TN_F_ALPHA ? 1 : tn_ranges[fs[k]].lo),
                                 (long long)tn_ranges[fs[k]].hi);
        if ((P->mult[j] > TN_MAP_MULT_MAX || P->mult[j] < -TN_MAP_MULT_MAX) && !mp->opt.clip_mult)
            return snnc_fail(err, SNNC_EUNSUPPORTED,
                             "population '%s' neuron %d: mult %d: type weights (1, 2, 4, -8) x "
                             "mult must stay within 255, so |mult| <= %d (rescale the "
                             "threshold, or map with clipping)",
                             P->name, j, (int)P->mult[j], TN_MAP_MULT_MAX);
    }
    return SNNC_OK;
}

static int check_netlist(mapper *mp)
{
    const snnc_netlist *n = mp->n;
    snnc_err *err = mp->err;
    if (n->window < 1 || n->steps < 1 || n->readout_windows < 0)
        return snnc_fail(err, SNNC_EINVALID, "netlist: window %d, steps %d, readout windows %d",
                         n->window, n->steps, n->readout_windows);
    if (n->n_pops < 0 || n->n_projs < 0 || (n->n_pops && !n->pops) || (n->n_projs && !n->projs))
        return snnc_fail(err, SNNC_EINVALID, "netlist: bad population/projection lists");
    for (int p = 0; p < n->n_pops; p++) {
        int rc = check_population(mp, p);
        if (rc)
            return rc;
    }
    for (int k = 0; k < n->n_projs; k++) {
        const snnc_projection *pr = &n->projs[k];
        if (pr->src < 0 || pr->src >= n->n_pops || pr->dst < 0 || pr->dst >= n->n_pops)
            return snnc_fail(err, SNNC_EINVALID, "projection %d: populations %d -> %d", k,
                             pr->src, pr->dst);
        const snnc_population *S = &n->pops[pr->src], *D = &n->pops[pr->dst];
        if (D->role == SNNC_POP_INPUT)
            return snnc_fail(err, SNNC_EINVALID, "projection %d ('%s' -> '%s'): an input "
                             "population cannot receive synapses", k, S->name, D->name);
        if (!tn_range_ok(TN_F_DEST_DELAY, pr->delay))
            return snnc_fail(err, SNNC_EUNSUPPORTED, "projection '%s' -> '%s': delay %d is "
                             "outside TrueNorth's 1..15", S->name, D->name, pr->delay);
        if (!pr->code && S->n && D->n)
            return snnc_fail(err, SNNC_EINVALID, "projection '%s' -> '%s': no codes", S->name,
                             D->name);
        for (int64_t i = 0; i < (int64_t)S->n * D->n; i++)
            if (pr->code[i] < -8 || pr->code[i] > 8)
                return snnc_fail(err, SNNC_EUNSUPPORTED, "projection '%s' -> '%s': weight code "
                                 "%d (neuron %lld, input %lld) is outside -8..8",
                                 S->name, D->name, pr->code[i], (long long)(i / S->n),
                                 (long long)(i % S->n));
    }
    return SNNC_OK;
}

/* ------------------------------------------------------------ inputs */

static int cmp_syn(const void *a, const void *b)
{
    int64_t x = ((const syn *)a)->key, y = ((const syn *)b)->key;
    return x < y ? -1 : x > y;
}

/* First i in [from, n) with row[i] != 0, or n; skips zero words (the code
 * matrices are dense and mostly zero in split layers). */
static int next_nonzero(const int8_t *row, int from, int n)
{
    int i = from;
    while (i < n && ((uintptr_t)(row + i) & 7))
        if (row[i++])
            return i - 1;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, row + i, 8);
        if (w)
            break;
    }
    for (; i < n; i++)
        if (row[i])
            return i;
    return n;
}

/* Each neuron's inputs (CSR, sorted by key); refuses duplicates and fan-in
 * above 64. */
static int build_inputs(mapper *mp)
{
    const snnc_netlist *n = mp->n;
    int64_t *cnt = calloc((size_t)mp->n_total + 1, sizeof *cnt);
    if (!cnt)
        return nomem(mp->err);
    for (int k = 0; k < n->n_projs; k++) {
        const snnc_projection *pr = &n->projs[k];
        int ns = n->pops[pr->src].n, nd = n->pops[pr->dst].n;
        for (int j = 0; j < nd; j++)
            for (int i = next_nonzero(pr->code + (int64_t)j * ns, 0, ns); i < ns;
                 i = next_nonzero(pr->code + (int64_t)j * ns, i + 1, ns))
                cnt[mp->off[pr->dst] + j]++;
    }
    mp->syn_start = malloc(((size_t)mp->n_total + 1) * sizeof *mp->syn_start);
    int64_t total = 0;
    for (int g = 0; g < mp->n_total; g++)
        total += cnt[g];
    mp->syns = malloc((size_t)(total ? total : 1) * sizeof *mp->syns);
    if (!mp->syn_start || !mp->syns) {
        free(cnt);
        return nomem(mp->err);
    }
    mp->syn_start[0] = 0;
    for (int g = 0; g < mp->n_total; g++) {
        mp->syn_start[g + 1] = mp->syn_start[g] + cnt[g];
        cnt[g] = mp->syn_start[g];
    }
    for (int k = 0; k < n->n_projs; k++) {
        const snnc_projection *pr = &n->projs[k];
        int ns = n->pops[pr->src].n, nd = n->pops[pr->dst].n;
        for (int j = 0; j < nd; j++) {
            const int8_t *row = pr->code + (int64_t)j * ns;
            for (int i = next_nonzero(row, 0, ns); i < ns; i = next_nonzero(row, i + 1, ns))
                mp->syns[cnt[mp->off[pr->dst] + j]++] =
                    (syn){key_of(mp->off[pr->src] + i, pr->delay), row[i]};
        }
    }
    free(cnt);
    for (int g = 0; g < mp->n_total; g++) {
        syn *s = mp->syns + mp->syn_start[g];
        int64_t m = mp->syn_start[g + 1] - mp->syn_start[g];
        const snnc_population *P = &n->pops[mp->pop_of[g]];
        int j = g - mp->off[mp->pop_of[g]];
        qsort(s, (size_t)m, sizeof *s, cmp_syn);
        for (int64_t i = 1; i < m; i++) {
            if (s[i].key != s[i - 1].key)
                continue;
            int src = (int)key_src(s[i].key), sp = mp->pop_of[src];
            return snnc_fail(mp->err, SNNC_EINVALID, "population '%s' neuron %d: two "
                             "projections with the same delay connect neuron %d of '%s' to it",
                             P->name, j, src - mp->off[sp], n->pops[sp].name);
        }
        if (m > TN_MAP_FANIN_MAX)
            return snnc_fail(mp->err, SNNC_EUNSUPPORTED, "population '%s' neuron %d has %lld "
                             "inputs: a core has room for %d (4 axons each)",
                             P->name, j, (long long)m, TN_MAP_FANIN_MAX);
    }
    return SNNC_OK;
}

/* Codes -8..8 (a projection from or to a sign -1 population carries the
 * negated -8 as +8) into 4-bit two's complement -8..7: a neuron with +8
 * and no -8 is negated (codes and mult: (-m)(-c) = m c, exact); one with
 * both keeps the more frequent extreme and clips the others to +-7
 * (counted in the report). */
static int fit_codes(mapper *mp)
{
    mp->flip = calloc((size_t)(mp->n_total > 0 ? mp->n_total : 1), sizeof *mp->flip);
    if (!mp->flip)
        return nomem(mp->err);
    for (int g = 0; g < mp->n_total; g++) {
        int plus = 0, minus = 0;
        for (int64_t i = mp->syn_start[g]; i < mp->syn_start[g + 1]; i++)
            plus += mp->syns[i].code == 8, minus += mp->syns[i].code == -8;
        if (!plus)
            continue;
        mp->flip[g] = plus > minus;
        for (int64_t i = mp->syn_start[g]; i < mp->syn_start[g + 1]; i++) {
            int c = mp->flip[g] ? -mp->syns[i].code : mp->syns[i].code;
            if (c == 8)
                c = 7, mp->clipped_codes++;
            mp->syns[i].code = c;
        }
    }
    return SNNC_OK;
}

/* Initial slot cost: 4 per distinct delay its spikes are received with (at
 * least one destination group each), 1 when nothing receives them. */
static void initial_costs(mapper *mp)
{
    unsigned *delays = calloc((size_t)(mp->n_total > 0 ? mp->n_total : 1), sizeof *delays);
    if (delays)
        for (int64_t i = 0; i < mp->syn_start[mp->n_total]; i++)
            delays[key_src(mp->syns[i].key)] |= 1u << key_delay(mp->syns[i].key);
    for (int g = 0; g < mp->n_total; g++) {
        int d = delays ? __builtin_popcount(delays[g]) : 1;
        mp->cost[g] = d ? 4 * d : 1;
    }
    free(delays);
}

/* ------------------------------------------------------------ placement */

static _Thread_local const mapper *sort_ctx;

/* Neurons of one population with the same inputs end up adjacent. */
static int cmp_neuron(const void *a, const void *b)
{
    const mapper *mp = sort_ctx;
    int x = *(const int *)a, y = *(const int *)b;
    int64_t i = mp->syn_start[x], ie = mp->syn_start[x + 1];
    int64_t j = mp->syn_start[y], je = mp->syn_start[y + 1];
    for (; i < ie && j < je; i++, j++)
        if (mp->syns[i].key != mp->syns[j].key)
            return mp->syns[i].key < mp->syns[j].key ? -1 : 1;
    if ((i < ie) != (j < je))
        return i < ie ? 1 : -1;
    return x < y ? -1 : x > y;
}

static int build_order(mapper *mp)
{
    const snnc_netlist *n = mp->n;
    mp->order = malloc((size_t)(mp->n_total ? mp->n_total : 1) * sizeof *mp->order);
    if (!mp->order)
        return nomem(mp->err);
    sort_ctx = mp;
    for (int p = 0; p < n->n_pops; p++) {
        if (n->pops[p].role == SNNC_POP_INPUT)
            continue;
        int first = mp->n_order;
        for (int j = 0; j < n->pops[p].n; j++)
            mp->order[mp->n_order++] = mp->off[p] + j;
        qsort(mp->order + first, (size_t)(mp->n_order - first), sizeof *mp->order, cmp_neuron);
    }
    return SNNC_OK;
}

/* Adds neuron g's keys to core ci, recording new ones in the key index. */
static int add_keys(mapper *mp, int ci, int g)
{
    pcore *c = &mp->cores[ci];
    for (int64_t i = mp->syn_start[g]; i < mp->syn_start[g + 1]; i++) {
        int64_t key = mp->syns[i].key;
        int k = 0;
        while (k < c->n_keys && c->keys[k] < key)
            k++;
        if (k < c->n_keys && c->keys[k] == key)
            continue;
        memmove(c->keys + k + 1, c->keys + k, (size_t)(c->n_keys - k) * sizeof *c->keys);
        c->keys[k] = key;
        c->n_keys++;
        if (mp->n_ent == mp->cap_ent) {
            int cap = mp->cap_ent ? 2 * mp->cap_ent : 1024;
            kentry *e = realloc(mp->ent, (size_t)cap * sizeof *e);
            if (!e)
                return nomem(mp->err);
            mp->ent = e, mp->cap_ent = cap;
        }
        int src = (int)key_src(key);
        mp->ent[mp->n_ent] = (kentry){key, ci, mp->head[src]};
        mp->head[src] = mp->n_ent++;
    }
    return SNNC_OK;
}

static int find_key(const pcore *c, int64_t key)
{
    int lo = 0, hi = c->n_keys - 1;
    while (lo <= hi) {
        int mid = (lo + hi) / 2;
        if (c->keys[mid] == key)
            return mid;
        if (c->keys[mid] < key)
            lo = mid + 1;
        else
            hi = mid - 1;
    }
    return -1;
}

static bool core_full(const pcore *c)
{
    return c->slots >= TN_NEURONS || c->n_keys >= TN_MAP_FANIN_MAX;
}

/* Best core for neuron g among the cores already holding one of its keys
 * (overlaps counted through the key index) and the last OPEN_SCAN cores
 * with room: fewest new axon groups, then lowest index; -1 for none. */
static int best_core(mapper *mp, int g)
{
    int nk = (int)(mp->syn_start[g + 1] - mp->syn_start[g]), best = -1, best_new = nk + 1;
    int stamp = ++mp->stamp_now;
    mp->n_cand = 0;
    for (int64_t i = mp->syn_start[g]; i < mp->syn_start[g + 1]; i++) {
        int64_t key = mp->syns[i].key;
        for (int e = mp->head[key_src(key)]; e >= 0; e = mp->ent[e].next) {
            if (mp->ent[e].key != key)
                continue;
            int c = mp->ent[e].core;
            if (mp->stamp[c] != stamp)
                mp->stamp[c] = stamp, mp->overlap[c] = 0, mp->cand[mp->n_cand++] = c;
            mp->overlap[c]++;
        }
    }
    for (int i = mp->n_open - 1, seen = 0; i >= 0 && seen < OPEN_SCAN; i--) {
        int c = mp->open[i];
        if (core_full(&mp->cores[c]))
            continue;
        seen++;
        if (mp->stamp[c] != stamp)
            mp->stamp[c] = stamp, mp->overlap[c] = 0, mp->cand[mp->n_cand++] = c;
    }
    for (int k = 0; k < mp->n_cand; k++) {
        int c = mp->cand[k];
        const pcore *pc = &mp->cores[c];
        int fresh = nk - mp->overlap[c];
        if (pc->slots + mp->cost[g] > TN_NEURONS || pc->n_keys + fresh > TN_MAP_FANIN_MAX)
            continue;
        if (fresh < best_new || (fresh == best_new && c < best))
            best = c, best_new = fresh;
    }
    return best;
}

static int new_core(mapper *mp)
{
    if (mp->n_cores == mp->cap_cores) {
        int cap = mp->cap_cores ? 2 * mp->cap_cores : 16;
        pcore *nc = realloc(mp->cores, (size_t)cap * sizeof *nc);
        int *st = realloc(mp->stamp, (size_t)cap * sizeof *st);
        if (st)
            mp->stamp = st;
        int *ov = realloc(mp->overlap, (size_t)cap * sizeof *ov);
        if (ov)
            mp->overlap = ov;
        int *op = realloc(mp->open, (size_t)cap * sizeof *op);
        if (op)
            mp->open = op;
        int *ca = realloc(mp->cand, (size_t)cap * sizeof *ca);
        if (ca)
            mp->cand = ca;
        if (nc)
            mp->cores = nc;
        if (!nc || !st || !ov || !op || !ca)
            return -1;
        mp->cap_cores = cap;
    }
    int c = mp->n_cores++;
    mp->cores[c].n_keys = mp->cores[c].slots = 0;
    mp->stamp[c] = 0;
    mp->open[mp->n_open++] = c;
    return c;
}

/* Drops full cores from the open list (order kept). */
static void compact_open(mapper *mp)
{
    int k = 0;
    for (int i = 0; i < mp->n_open; i++)
        if (!core_full(&mp->cores[mp->open[i]]))
            mp->open[k++] = mp->open[i];
    mp->n_open = k;
}

/* One greedy placement with the current costs: each neuron goes to the core
 * where it adds the fewest axon groups (best_core), or a new one. */
static int place(mapper *mp)
{
    mp->n_cores = mp->n_open = mp->n_ent = mp->stamp_now = 0;
    for (int i = 0; i < mp->n_total; i++)
        mp->head[i] = -1;
    int closed = 0;
    for (int o = 0; o < mp->n_order; o++) {
        int g = mp->order[o];
        int best = best_core(mp, g);
        if (best < 0 && (best = new_core(mp)) < 0)
            return nomem(mp->err);
        int rc = add_keys(mp, best, g);
        if (rc)
            return rc;
        mp->cores[best].slots += mp->cost[g];
        mp->core_of[g] = best;
        if (core_full(&mp->cores[best]) && ++closed > 64) {
            compact_open(mp);
            closed = 0;
        }
    }
    return SNNC_OK;
}

/* Destination groups of every source (CSR, by core then key): one per
 * (core, input key) whose source it is. */
static int build_groups(mapper *mp)
{
    free(mp->grp_start), free(mp->grp_core), free(mp->grp_pos);
    mp->grp_core = mp->grp_pos = NULL;
    mp->grp_start = calloc((size_t)mp->n_total + 1, sizeof *mp->grp_start);
    int64_t total = 0;
    if (!mp->grp_start)
        return nomem(mp->err);
    for (int c = 0; c < mp->n_cores; c++)
        for (int k = 0; k < mp->cores[c].n_keys; k++)
            mp->grp_start[key_src(mp->cores[c].keys[k]) + 1]++, total++;
    for (int g = 0; g < mp->n_total; g++)
        mp->grp_start[g + 1] += mp->grp_start[g];
    mp->grp_core = malloc((size_t)(total ? total : 1) * sizeof *mp->grp_core);
    mp->grp_pos = malloc((size_t)(total ? total : 1) * sizeof *mp->grp_pos);
    int64_t *fill = malloc(((size_t)mp->n_total + 1) * sizeof *fill);
    if (!mp->grp_core || !mp->grp_pos || !fill) {
        free(fill);
        return nomem(mp->err);
    }
    memcpy(fill, mp->grp_start, ((size_t)mp->n_total + 1) * sizeof *fill);
    for (int c = 0; c < mp->n_cores; c++)
        for (int k = 0; k < mp->cores[c].n_keys; k++) {
            int64_t at = fill[key_src(mp->cores[c].keys[k])]++;
            mp->grp_core[at] = c;
            mp->grp_pos[at] = k;
        }
    free(fill);
    return SNNC_OK;
}

/* Destination groups of source g that receive its spikes with delay 1:
 * they cannot go through a relay (every hop takes at least one tick). */
static int64_t delay1_groups(const mapper *mp, int g)
{
    int64_t d1 = 0;
    for (int64_t q = mp->grp_start[g]; q < mp->grp_start[g + 1]; q++)
        d1 += key_delay(mp->cores[mp->grp_core[q]].keys[mp->grp_pos[q]]) == 1;
    return d1;
}

/* Slots source g needs on its own core: 4 per direct group, plus one copy
 * per relay chunk when relayed; 1 without destinations. */
static int64_t slots_needed(const mapper *mp, int g, int64_t groups, int64_t d1)
{
    if (!mp->relayed[g])
        return groups ? 4 * groups : 1;
    int64_t rel = groups - d1;
    return 4 * d1 + (rel + RELAY_GROUPS_PER_CHUNK - 1) / RELAY_GROUPS_PER_CHUNK;
}

static int refuse_fanout(const mapper *mp, int g, int64_t groups, int64_t d1, int64_t need)
{
    int p = mp->pop_of[g];
    return snnc_fail(mp->err, SNNC_EUNSUPPORTED,
                     "population '%s' neuron %d: its spikes must reach %lld axon groups "
                     "(cores x delays), %lld of them with delay 1, which need %lld neurons on "
                     "its core: more than %d (groups of delay >= 2 go through relay neurons on "
                     "splitter cores, but a delay of 1 tick cannot be split into a hop to the "
                     "relay and a hop from it, each of at least 1 tick)",
                     mp->n->pops[p].name, g - mp->off[p], (long long)groups, (long long)d1,
                     (long long)need, TN_NEURONS);
}

/* Place until every neuron's copies fit its reservation.  Costs only grow,
 * except once per neuron when it becomes relayed (which is final), so this
 * stops. */
static int place_all(mapper *mp, int *passes)
{
    for (int pass = 1; pass <= MAX_PASSES; pass++) {
        int rc = place(mp);
        if (rc || (rc = build_groups(mp)))
            return rc;
        bool changed = false;
        for (int o = 0; o < mp->n_order; o++) {
            int g = mp->order[o];
            int64_t groups = mp->grp_start[g + 1] - mp->grp_start[g];
            int64_t d1 = delay1_groups(mp, g);
            bool fresh = false;
            if (!mp->relayed[g] && groups > d1 &&
                (groups > mp->relay_groups || 4 * groups > TN_NEURONS))
                mp->relayed[g] = fresh = true;
            int64_t need = slots_needed(mp, g, groups, d1);
            if (need > TN_NEURONS)
                return refuse_fanout(mp, g, groups, d1, need);
            mp->need[g] = (int)need;
            if (fresh || need > mp->cost[g])
                mp->cost[g] = (int)need, changed = true;
        }
        if (!changed) {
            *passes = pass;
            return SNNC_OK;
        }
    }
    return snnc_fail(mp->err, SNNC_EUNSUPPORTED, "placement did not settle in %d passes",
                     MAX_PASSES);
}

static _Thread_local const chunk *chunk_ctx;
static int cmp_chunk(const void *a, const void *b);

/* Relay chunks of every relayed source, packed onto splitter cores: full
 * chunks (64 groups, 256 relay neurons) each fill a core; the partial ones,
 * largest first, go to the first splitter core with room. */
static int plan_relays(mapper *mp)
{
    int64_t total = 0;
    for (int o = 0; o < mp->n_order; o++) {
        int g = mp->order[o];
        if (!mp->relayed[g])
            continue;
        int64_t rel = mp->grp_start[g + 1] - mp->grp_start[g] - delay1_groups(mp, g);
        total += (rel + RELAY_GROUPS_PER_CHUNK - 1) / RELAY_GROUPS_PER_CHUNK;
    }
    mp->chunk_first = malloc((size_t)(mp->n_total ? mp->n_total : 1) * sizeof *mp->chunk_first);
    mp->chunks = malloc((size_t)(total ? total : 1) * sizeof *mp->chunks);
    mp->relay_fill = malloc((size_t)(total ? total : 1) * sizeof *mp->relay_fill);
    int *order = malloc((size_t)(total ? total : 1) * sizeof *order);
    int *axons = malloc((size_t)(total ? total : 1) * sizeof *axons);
    if (!mp->chunk_first || !mp->chunks || !mp->relay_fill || !order || !axons) {
        free(order), free(axons);
        return nomem(mp->err);
    }
    for (int g = 0; g < mp->n_total; g++)
        mp->chunk_first[g] = -1;
    for (int o = 0; o < mp->n_order; o++) {
        int g = mp->order[o];
        if (!mp->relayed[g])
            continue;
        int64_t rel = mp->grp_start[g + 1] - mp->grp_start[g] - delay1_groups(mp, g);
        mp->chunk_first[g] = mp->n_chunks;
        for (; rel > 0; rel -= RELAY_GROUPS_PER_CHUNK)
            mp->chunks[mp->n_chunks++] =
                (chunk){g, (int)(rel < RELAY_GROUPS_PER_CHUNK ? rel : RELAY_GROUPS_PER_CHUNK), -1,
                        0, 0};
    }
    for (int k = 0; k < mp->n_chunks; k++)
        order[k] = k;
    chunk_ctx = mp->chunks;
    qsort(order, (size_t)mp->n_chunks, sizeof *order, cmp_chunk);
    for (int i = 0; i < mp->n_chunks; i++) {
        chunk *ch = &mp->chunks[order[i]];
        int r = 0, want = TN_AXON_TYPES * ch->groups;
        while (r < mp->n_relay_cores && mp->relay_fill[r] + want > TN_NEURONS)
            r++;
        if (r == mp->n_relay_cores)
            mp->relay_fill[mp->n_relay_cores] = axons[mp->n_relay_cores] = 0, mp->n_relay_cores++;
        ch->core = r, ch->axon = axons[r]++, ch->slot0 = mp->relay_fill[r];
        mp->relay_fill[r] += want;
    }
    free(order), free(axons);
    return SNNC_OK;
}

/* Larger chunks first, then creation order (deterministic). */
static int cmp_chunk(const void *a, const void *b)
{
    const chunk *c = chunk_ctx;
    int x = *(const int *)a, y = *(const int *)b;
    if (c[x].groups != c[y].groups)
        return c[x].groups > c[y].groups ? -1 : 1;
    return (x > y) - (x < y);
}

/* ------------------------------------------------------------ model */

/* A small open-addressing table of neuron types. */
typedef struct type_table {
    tn_neuron_type *types;
    int n, cap;
    int *slot; /* hash slots -> type index, -1 empty */
    int n_slots;
} type_table;

static uint64_t type_hash(const tn_neuron_type *t)
{
    int32_t v[] = {t->sigma[0], t->sigma[1], t->sigma[2], t->sigma[3], t->s[0], t->s[1],
                   t->s[2],     t->s[3],     t->sigma_lambda, t->lambda, t->alpha, t->beta,
                   t->V};
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < sizeof v / sizeof *v; i++)
        h = (h ^ (uint32_t)v[i]) * 1099511628211ull;
    return h;
}

static bool same_params(const tn_neuron_type *a, const tn_neuron_type *b)
{
    return !memcmp(a->sigma, b->sigma, sizeof a->sigma) && !memcmp(a->s, b->s, sizeof a->s) &&
           a->sigma_lambda == b->sigma_lambda && a->lambda == b->lambda && a->alpha == b->alpha &&
           a->beta == b->beta && a->V == b->V;
}

static int type_index(type_table *tt, const tn_neuron_type *t)
{
    if (2 * (tt->n + 1) > tt->n_slots) {
        int ns = tt->n_slots ? 2 * tt->n_slots : 64;
        int *s = malloc((size_t)ns * sizeof *s);
        if (!s)
            return -1;
        for (int i = 0; i < ns; i++)
            s[i] = -1;
        for (int k = 0; k < tt->n; k++) {
            uint64_t h = type_hash(&tt->types[k]) & (uint64_t)(ns - 1);
            while (s[h] >= 0)
                h = (h + 1) & (uint64_t)(ns - 1);
            s[h] = k;
        }
        free(tt->slot);
        tt->slot = s, tt->n_slots = ns;
    }
    uint64_t h = type_hash(t) & (uint64_t)(tt->n_slots - 1);
    for (; tt->slot[h] >= 0; h = (h + 1) & (uint64_t)(tt->n_slots - 1))
        if (same_params(&tt->types[tt->slot[h]], t))
            return tt->slot[h];
    if (tt->n == tt->cap) {
        int cap = tt->cap ? 2 * tt->cap : 16;
        tn_neuron_type *nt = realloc(tt->types, (size_t)cap * sizeof *nt);
        if (!nt)
            return -1;
        tt->types = nt, tt->cap = cap;
    }
    tt->types[tt->n] = *t;
    snprintf(tt->types[tt->n].name, sizeof tt->types[tt->n].name, "N%08X", (unsigned)tt->n + 1);
    tt->slot[h] = tt->n;
    return tt->n++;
}

/* The TrueNorth parameters of neuron j of population P. */
static tn_neuron_type neuron_type(const snnc_population *P, int j, bool flip, bool *clipped)
{
    tn_neuron_type t;
    memset(&t, 0, sizeof t);
    int m = flip ? -P->mult[j] : P->mult[j];
    *clipped = m > TN_MAP_MULT_MAX || m < -TN_MAP_MULT_MAX;
    if (*clipped)
        m = m > 0 ? TN_MAP_MULT_MAX : -TN_MAP_MULT_MAX;
    int sg = m < 0 ? -1 : 1, a = abs(m);
    static const int sign[TN_AXON_TYPES] = {1, 1, 1, -1}, mag[TN_AXON_TYPES] = {1, 2, 4, 8};
    for (int k = 0; k < TN_AXON_TYPES; k++) {
        t.sigma[k] = sg * sign[k];
        t.s[k] = a * mag[k];
    }
    t.sigma_lambda = P->leak[j] < 0 ? -1 : 1;
    t.lambda = abs(P->leak[j]);
    t.alpha = P->threshold[j];
    t.beta = P->floor[j];
    t.gamma = 1;
    t.kappa = true;
    t.sigma_VR = 1;
    t.V = P->v0[j];
    return t;
}

static void set_bit(tn_crossbar *x, int axon, int neuron)
{
    x->row[axon][neuron >> 6] |= 1ull << (neuron & 63);
}

/* Appends the string unless the array has it (a signed pair shares a tensor). */
static void append_unique(json_t *arr, const char *str)
{
    for (size_t i = 0; i < json_array_size(arr); i++)
        if (!strcmp(json_string_value(json_array_get(arr, i)), str))
            return;
    json_array_append_new(arr, json_string(str));
}

/* Metadata of core c: corelet of its first population, connectors named
 * after the tensors that feed it and that it carries. */
static char *core_metadata(const mapper *mp, int c, int first_pop, const char *on_core)
{
    const snnc_netlist *n = mp->n;
    const snnc_population *P = &n->pops[first_pop];
    char cls[160];
    snprintf(cls, sizeof cls, "snnc.%s", role_name(P->role));
    json_t *md = json_object(), *ins = json_array(), *outs = json_array(), *pops = json_array();
    json_object_set_new(md, "coreletClass", json_string(cls));
    json_object_set_new(md, "coreletId", json_integer(first_pop));
    json_object_set_new(md, "layerNumber", json_integer(first_pop));
    json_object_set_new(md, "layerType", json_string(role_name(P->role)));
    char *seen = calloc((size_t)n->n_pops, 2);
    if (seen) {
        for (int k = 0; k < mp->cores[c].n_keys; k++)
            seen[mp->pop_of[key_src(mp->cores[c].keys[k])]] |= 1;
        for (int p = 0; p < n->n_pops; p++)
            seen[p] |= on_core[(size_t)c * (size_t)n->n_pops + (size_t)p] ? 2 : 0;
        for (int p = 0; p < n->n_pops; p++) {
            if (seen[p] & 1)
                append_unique(ins, n->pops[p].tensor);
            if (seen[p] & 2) {
                append_unique(outs, n->pops[p].tensor);
                append_unique(pops, n->pops[p].name);
            }
        }
        free(seen);
    }
    json_object_set_new(md, "populations", pops);
    json_object_set_new(md, "connectors", json_pack("{s:o,s:o}", "inputs", ins, "outputs", outs));
    char *s = json_dumps(md, JSON_COMPACT);
    json_decref(md);
    return s;
}

/* The relay neuron: one spike on its type-0 axon (weight +1) reaches the
 * threshold 1 and fires in the same tick; linear reset back to 0, no
 * leak, floor 0: it fires exactly in the ticks its source's spikes arrive. */
static tn_neuron_type relay_type(void)
{
    tn_neuron_type t;
    memset(&t, 0, sizeof t);
    for (int k = 0; k < TN_AXON_TYPES; k++)
        t.sigma[k] = 1;
    t.s[0] = 1;
    t.sigma_lambda = 1;
    t.alpha = 1;
    t.gamma = 1;
    t.kappa = true;
    t.sigma_VR = 1;
    return t;
}

/* Metadata of a splitter core: the tensors of the sources it relays. */
static char *relay_metadata(const mapper *mp, int r)
{
    json_t *md = json_object(), *ins = json_array();
    json_object_set_new(md, "coreletClass", json_string("snnc.splitter"));
    json_object_set_new(md, "coreletId", json_integer(-1));
    json_object_set_new(md, "layerNumber", json_integer(-1));
    json_object_set_new(md, "layerType", json_string("splitter"));
    for (int k = 0; k < mp->n_chunks; k++)
        if (mp->chunks[k].core == r)
            append_unique(ins, mp->n->pops[mp->pop_of[mp->chunks[k].src]].tensor);
    json_object_set_new(md, "populations", json_array());
    json_object_set_new(md, "connectors",
                        json_pack("{s:O,s:o}", "inputs", ins, "outputs", ins));
    char *s = json_dumps(md, JSON_COMPACT);
    json_decref(md);
    return s;
}

/* Destinations of source g's slots s0..: direct groups 4 copies each (copy
 * 4q + t to axon type t of its q-th direct group), then one copy per relay
 * chunk (delay 1 to the chunk's axon); each relayed group's 4 relay
 * neurons send with the group's delay minus the relay's 1 tick. */
static void set_destinations(const mapper *mp, tn_model *m, int g, int s0)
{
    tn_core *core = &m->cores[mp->core_of[g]];
    int direct = 0, rel = 0;
    for (int64_t q = mp->grp_start[g]; q < mp->grp_start[g + 1]; q++) {
        int dc = mp->grp_core[q], pos = mp->grp_pos[q];
        int delay = key_delay(mp->cores[dc].keys[pos]);
        if (mp->relayed[g] && delay > 1) {
            const chunk *ch = &mp->chunks[mp->chunk_first[g] + rel / RELAY_GROUPS_PER_CHUNK];
            tn_core *rc = &m->cores[mp->n_cores + ch->core];
            int s = ch->slot0 + TN_AXON_TYPES * (rel % RELAY_GROUPS_PER_CHUNK);
            for (int t2 = 0; t2 < TN_AXON_TYPES; t2++) {
                rc->dest_core[s + t2] = dc;
                rc->dest_axon[s + t2] = 4 * pos + t2;
                rc->dest_delay[s + t2] = delay - 1;
            }
            rel++;
            continue;
        }
        for (int t2 = 0; t2 < TN_AXON_TYPES; t2++) {
            int s = s0 + 4 * direct + t2;
            core->dest_core[s] = dc;
            core->dest_axon[s] = 4 * pos + t2;
            core->dest_delay[s] = delay;
        }
        direct++;
    }
    if (!mp->relayed[g])
        return;
    int n_ch = (rel + RELAY_GROUPS_PER_CHUNK - 1) / RELAY_GROUPS_PER_CHUNK;
    for (int k = 0; k < n_ch; k++) {
        const chunk *ch = &mp->chunks[mp->chunk_first[g] + k];
        int s = s0 + 4 * direct + k;
        core->dest_core[s] = mp->n_cores + ch->core;
        core->dest_axon[s] = ch->axon;
        core->dest_delay[s] = 1;
    }
}

/* Splitter cores: each chunk's axon (type 0) feeds its relay neurons. */
static int build_relay_cores(mapper *mp, tn_model *m, type_table *tt)
{
    if (!mp->n_chunks)
        return SNNC_OK;
    tn_neuron_type t = relay_type();
    int ti = type_index(tt, &t);
    if (ti < 0)
        return nomem(mp->err);
    for (int k = 0; k < mp->n_chunks; k++) {
        const chunk *ch = &mp->chunks[k];
        int c = mp->n_cores + ch->core;
        tn_crossbar *x = &m->crossbars[m->cores[c].crossbar];
        x->axon_type[ch->axon] = 0;
        for (int s = ch->slot0; s < ch->slot0 + TN_AXON_TYPES * ch->groups; s++) {
            m->cores[c].type[s] = ti;
            set_bit(x, ch->axon, s);
        }
    }
    for (int r = 0; r < mp->n_relay_cores; r++)
        if (!(m->cores[mp->n_cores + r].metadata_json = relay_metadata(mp, r)))
            return nomem(mp->err);
    return SNNC_OK;
}

static int build_model(mapper *mp, tn_model *m, int *clipped)
{
    const snnc_netlist *n = mp->n;
    type_table tt = {0};
    int nc = mp->n_cores + mp->n_relay_cores;
    m->n_cores = m->n_crossbars = nc;
    m->cores = calloc((size_t)(nc ? nc : 1), sizeof *m->cores);
    m->crossbars = calloc((size_t)(nc ? nc : 1), sizeof *m->crossbars);
    int *fill = calloc((size_t)(nc ? nc : 1), sizeof *fill);
    int *first_pop = malloc((size_t)(nc ? nc : 1) * sizeof *first_pop);
    if (!m->cores || !m->crossbars || !fill || !first_pop)
        goto oom;
    for (int c = 0; c < nc; c++) {
        tn_core *core = &m->cores[c];
        tn_crossbar *x = &m->crossbars[c];
        core->id = c;
        core->crossbar = c;
        snprintf(x->name, sizeof x->name, "snncProt%07d", c + 1);
        for (int k = 0; c < mp->n_cores && k < mp->cores[c].n_keys; k++)
            for (int t = 0; t < TN_AXON_TYPES; t++)
                x->axon_type[4 * k + t] = (uint8_t)t;
        for (int j = 0; j < TN_NEURONS; j++) {
            core->type[j] = -1;
            core->dendrite[j] = j;
            core->dest_core[j] = -1;
            core->dest_axon[j] = 0;
            core->dest_delay[j] = 1;
        }
        first_pop[c] = -1;
    }
    *clipped = 0;
    for (int o = 0; o < mp->n_order; o++) {
        int g = mp->order[o], c = mp->core_of[g], p = mp->pop_of[g], j = g - mp->off[p];
        tn_core *core = &m->cores[c];
        tn_crossbar *x = &m->crossbars[c];
        bool clip;
        tn_neuron_type t = neuron_type(&n->pops[p], j, mp->flip[g], &clip);
        *clipped += clip;
        int ti = type_index(&tt, &t);
        if (ti < 0)
            goto oom;
        if (first_pop[c] < 0)
            first_pop[c] = p;
        int s0 = fill[c];
        fill[c] += mp->need[g];
        mp->slot_of[g] = s0;
        for (int s = s0; s < s0 + mp->need[g]; s++)
            core->type[s] = ti;
        set_destinations(mp, m, g, s0);
        /* crossbar columns: the bits of the 4-bit two's complement code */
        for (int64_t i = mp->syn_start[g]; i < mp->syn_start[g + 1]; i++) {
            int pos = find_key(&mp->cores[c], mp->syns[i].key);
            unsigned bits = (unsigned)mp->syns[i].code & 0xFu;
            for (int t2 = 0; t2 < TN_AXON_TYPES; t2++)
                if (bits >> t2 & 1u)
                    for (int s = s0; s < s0 + mp->need[g]; s++)
                        set_bit(x, 4 * pos + t2, s);
        }
    }
    char *on_core = calloc((size_t)(mp->n_cores ? mp->n_cores : 1) * (size_t)(n->n_pops + 1), 1);
    if (!on_core)
        goto oom;
    for (int o = 0; o < mp->n_order; o++) {
        int g = mp->order[o];
        on_core[(size_t)mp->core_of[g] * (size_t)n->n_pops + (size_t)mp->pop_of[g]] = 1;
    }
    for (int c = 0; c < mp->n_cores; c++)
        if (!(m->cores[c].metadata_json =
                  core_metadata(mp, c, first_pop[c] < 0 ? 0 : first_pop[c], on_core))) {
            free(on_core);
            goto oom;
        }
    free(on_core);
    if (build_relay_cores(mp, m, &tt))
        goto oom;
    free(fill), free(first_pop), free(tt.slot);
    m->types = tt.types;
    m->n_types = tt.n;
    return SNNC_OK;
oom:
    free(fill), free(first_pop), free(tt.slot), free(tt.types);
    return nomem(mp->err);
}

/* ------------------------------------------------------------ report */

/* Recounts everything from the model itself (not from the placement). */
static void build_report(const mapper *mp, tn_mapping *r)
{
    const tn_model *m = r->model;
    tn_map_report *rep = &r->report;
    rep->n_cores = m->n_cores;
    rep->n_types = m->n_types;
    rep->axons_ok = rep->neurons_ok = rep->one_destination_ok = true;
    /* drivers of each axon: neurons of the model and external feeds */
    int *drivers = calloc((size_t)(m->n_cores ? m->n_cores : 1) * TN_AXONS, sizeof *drivers);
    int *originals = calloc((size_t)(m->n_cores ? m->n_cores : 1), sizeof *originals);
    if (!drivers || !originals) {
        rep->one_destination_ok = false;
        free(drivers), free(originals);
        return;
    }
    int *first_pop = malloc((size_t)(m->n_cores ? m->n_cores : 1) * sizeof *first_pop);
    if (!first_pop) {
        rep->one_destination_ok = false;
        free(drivers), free(originals);
        return;
    }
    for (int c = 0; c < m->n_cores; c++)
        first_pop[c] = -1;
    for (int o = 0; o < mp->n_order; o++) {
        int c = mp->core_of[mp->order[o]];
        originals[c]++;
        if (first_pop[c] < 0)
            first_pop[c] = mp->pop_of[mp->order[o]];
    }
    for (int i = 0; i < r->n_inputs; i++)
        for (int f = 0; f < r->inputs[i].n_feeds; f++) {
            int ci = tn_model_core_index(m, r->inputs[i].feeds[f].core);
            if (ci >= 0)
                drivers[(size_t)ci * TN_AXONS + r->inputs[i].feeds[f].axon]++;
            else
                rep->one_destination_ok = false;
        }
    for (int c = 0; c < m->n_cores; c++) {
        const tn_core *core = &m->cores[c];
        for (int j = 0; j < TN_NEURONS; j++) {
            if (core->type[j] < 0)
                continue;
            int ci = tn_model_core_index(m, core->dest_core[j]);
            if (ci < 0)
                continue; /* leaves the model: a readout */
            if (tn_range_ok(TN_F_DEST_AXON, core->dest_axon[j]) &&
                tn_range_ok(TN_F_DEST_DELAY, core->dest_delay[j]))
                drivers[(size_t)ci * TN_AXONS + core->dest_axon[j]]++;
            else
                rep->one_destination_ok = false;
        }
    }
    for (int c = 0; c < m->n_cores; c++) {
        tn_map_core_usage *u = &rep->cores[c];
        const tn_core *core = &m->cores[c];
        const tn_crossbar *x = &m->crossbars[core->crossbar];
        u->id = core->id;
        u->population = first_pop[c];
        for (int j = 0; j < TN_NEURONS; j++)
            u->neurons += core->type[j] >= 0;
        u->originals = originals[c];
        u->relays = c >= mp->n_cores ? u->neurons : 0;
        u->copies = u->neurons - u->originals - u->relays;
        for (int a = 0; a < TN_AXONS; a++) {
            int64_t bits = 0;
            for (int w = 0; w < TN_NEURONS / 64; w++)
                bits += __builtin_popcountll(x->row[a][w]);
            u->synapses += bits;
            int d = drivers[(size_t)c * TN_AXONS + a];
            u->axons += d > 0;
            if (d > 1 || (bits > 0 && d != 1))
                rep->one_destination_ok = false;
        }
        rep->neurons += u->neurons;
        rep->originals += u->originals;
        rep->copies += u->copies;
        rep->relays += u->relays;
        rep->axons += u->axons;
        rep->synapses += u->synapses;
        if (u->axons > rep->max_axons)
            rep->max_axons = u->axons;
        if (u->neurons > rep->max_neurons)
            rep->max_neurons = u->neurons;
    }
    rep->relay_cores = mp->n_relay_cores;
    for (int o = 0; o < mp->n_order; o++)
        rep->relayed_sources += mp->relayed[mp->order[o]];
    rep->axons_ok = rep->max_axons <= TN_AXONS;
    rep->neurons_ok = rep->max_neurons <= TN_NEURONS;
    free(drivers), free(originals), free(first_pop);
}

/* ------------------------------------------------------------ inputs, readout */

static int build_io(const mapper *mp, tn_mapping *r)
{
    const snnc_netlist *n = mp->n;
    for (int p = 0; p < n->n_pops; p++) {
        if (n->pops[p].role == SNNC_POP_INPUT) {
            r->n_inputs += n->pops[p].n;
            if (n->pops[p].input_feature0 + n->pops[p].n > r->n_features)
                r->n_features = n->pops[p].input_feature0 + n->pops[p].n;
        } else if (n->pops[p].role == SNNC_POP_READOUT) {
            r->n_readout += n->pops[p].n;
        }
    }
    r->n_classes = n->n_classes;
    for (int p = 0; p < n->n_pops && n->n_classes <= 0; p++)
        if (n->pops[p].role == SNNC_POP_READOUT && n->pops[p].n > r->n_classes)
            r->n_classes = n->pops[p].n;
    r->n_neurons = mp->n_total;
    r->place = malloc((size_t)(mp->n_total ? mp->n_total : 1) * sizeof *r->place);
    if (!r->place)
        return nomem(mp->err);
    for (int g = 0; g < mp->n_total; g++)
        r->place[g] = (tn_map_place){mp->core_of[g], mp->slot_of[g], mp->need[g]};
    r->inputs = calloc((size_t)(r->n_inputs ? r->n_inputs : 1), sizeof *r->inputs);
    r->readout = calloc((size_t)(r->n_readout ? r->n_readout : 1), sizeof *r->readout);
    if (!r->inputs || !r->readout)
        return nomem(mp->err);
    int ni = 0, nr = 0;
    for (int p = 0; p < n->n_pops; p++) {
        const snnc_population *P = &n->pops[p];
        for (int j = 0; j < P->n; j++) {
            int g = mp->off[p] + j;
            if (P->role == SNNC_POP_INPUT) {
                tn_map_input *in = &r->inputs[ni++];
                *in = (tn_map_input){.pop = p, .neuron = j, .feature = P->input_feature0 + j,
                                     .sign = P->sign, .scale = P->input_scale};
                int64_t ng = mp->grp_start[g + 1] - mp->grp_start[g];
                in->feeds = malloc((size_t)(ng ? 4 * ng : 1) * sizeof *in->feeds);
                if (!in->feeds)
                    return nomem(mp->err);
                for (int64_t q = mp->grp_start[g]; q < mp->grp_start[g + 1]; q++) {
                    int dc = mp->grp_core[q], pos = mp->grp_pos[q];
                    for (int t = 0; t < TN_AXON_TYPES; t++)
                        in->feeds[in->n_feeds++] =
                            (tn_map_feed){r->model->cores[dc].id, 4 * pos + t,
                                          key_delay(mp->cores[dc].keys[pos])};
                }
            } else if (P->role == SNNC_POP_READOUT) {
                r->readout[nr++] = (tn_map_readout){p, j, mp->core_of[g], mp->slot_of[g],
                                                    P->threshold[j], P->sign,
                                                    j < r->n_classes ? j : -1,
                                                    snnc_netlist_lag(n, p)};
            }
        }
    }
    return SNNC_OK;
}

/* The largest lag of a readout population (snnc_netlist_lag). */
static int readout_lag(const snnc_netlist *n)
{
    int out = 0;
    for (int p = 0; p < n->n_pops; p++)
        if (n->pops[p].role == SNNC_POP_READOUT && snnc_netlist_lag(n, p) > out)
            out = snnc_netlist_lag(n, p);
    return out;
}

/* ------------------------------------------------------------ entry */

static void mapper_free(mapper *mp)
{
    free(mp->off), free(mp->pop_of), free(mp->syn_start), free(mp->syns), free(mp->cost);
    free(mp->order), free(mp->core_of), free(mp->cores), free(mp->grp_start);
    free(mp->grp_core), free(mp->grp_pos), free(mp->slot_of), free(mp->need);
    free(mp->head), free(mp->ent), free(mp->stamp), free(mp->overlap), free(mp->open);
    free(mp->cand), free(mp->flip), free(mp->relayed), free(mp->chunk_first), free(mp->chunks);
    free(mp->relay_fill);
}

static int mapper_init(mapper *mp)
{
    const snnc_netlist *n = mp->n;
    mp->off = malloc(((size_t)n->n_pops + 1) * sizeof *mp->off);
    if (!mp->off)
        return nomem(mp->err);
    int64_t total = 0;
    for (int p = 0; p < n->n_pops; p++) {
        mp->off[p] = (int)total;
        total += n->pops[p].n;
        if (total > (1 << 28))
            return snnc_fail(mp->err, SNNC_EUNSUPPORTED, "netlist: more than 2^28 neurons");
    }
    mp->off[n->n_pops] = (int)total;
    mp->n_total = (int)total;
    size_t nt = (size_t)(total ? total : 1);
    mp->pop_of = malloc(nt * sizeof *mp->pop_of);
    mp->cost = malloc(nt * sizeof *mp->cost);
    mp->core_of = malloc(nt * sizeof *mp->core_of);
    mp->slot_of = malloc(nt * sizeof *mp->slot_of);
    mp->need = malloc(nt * sizeof *mp->need);
    mp->head = malloc(nt * sizeof *mp->head);
    mp->relayed = calloc(nt, sizeof *mp->relayed);
    mp->relay_groups = mp->opt.relay_groups > 0   ? mp->opt.relay_groups
                       : mp->opt.relay_groups < 0 ? 0
                                                  : RELAY_GROUPS_PER_CHUNK;
    if (!mp->pop_of || !mp->cost || !mp->core_of || !mp->slot_of || !mp->need || !mp->head ||
        !mp->relayed)
        return nomem(mp->err);
    for (int p = 0; p < n->n_pops; p++)
        for (int j = 0; j < n->pops[p].n; j++)
            mp->pop_of[mp->off[p] + j] = p;
    for (size_t g = 0; g < nt; g++)
        mp->core_of[g] = mp->slot_of[g] = -1, mp->need[g] = 0;
    return SNNC_OK;
}

int tn_map_check_structure(const snnc_netlist *n, snnc_err *err)
{
    if (!n)
        return snnc_fail(err, SNNC_EINVALID, "no netlist");
    mapper mp = {.n = n, .err = err};
    int rc = check_netlist(&mp);
    if (!rc)
        rc = mapper_init(&mp);
    if (!rc)
        rc = build_inputs(&mp);
    mapper_free(&mp);
    return rc;
}

int tn_map_netlist(const snnc_netlist *n, const tn_map_options *opt, tn_mapping **out,
                   snnc_err *err)
{
    *out = NULL;
    if (!n)
        return snnc_fail(err, SNNC_EINVALID, "no netlist");
    mapper mp = {.n = n, .err = err};
    if (opt)
        mp.opt = *opt;
    tn_mapping *r = calloc(1, sizeof *r);
    int rc = r ? SNNC_OK : nomem(err), passes = 0, clipped = 0;
    if (!rc)
        rc = check_netlist(&mp);
    if (!rc)
        rc = mapper_init(&mp);
    if (!rc)
        rc = build_inputs(&mp);
    if (!rc)
        rc = fit_codes(&mp);
    if (!rc) {
        initial_costs(&mp);
        rc = build_order(&mp);
    }
    if (!rc)
        rc = place_all(&mp, &passes);
    if (!rc)
        rc = plan_relays(&mp);
    if (!rc && !(r->model = calloc(1, sizeof *r->model)))
        rc = nomem(err);
    if (!rc)
        rc = build_model(&mp, r->model, &clipped);
    if (!rc) {
        r->window = n->window, r->steps = n->steps, r->readout_windows = n->readout_windows;
        r->readout_lag = readout_lag(n);
        rc = build_io(&mp, r);
    }
    if (!rc && !(r->report.cores = calloc((size_t)(r->model->n_cores ? r->model->n_cores : 1),
                                          sizeof *r->report.cores)))
        rc = nomem(err);
    if (!rc) {
        build_report(&mp, r);
        r->report.placement_passes = passes;
        r->report.clipped_mult = clipped;
        r->report.clipped_codes = mp.clipped_codes;
        if (!r->report.axons_ok || !r->report.neurons_ok || !r->report.one_destination_ok)
            rc = snnc_fail(err, SNNC_EINVALID, "mapping invariants violated (internal error): "
                           "max axons %d, max neurons %d, one destination %s",
                           r->report.max_axons, r->report.max_neurons,
                           r->report.one_destination_ok ? "yes" : "no");
    }
    mapper_free(&mp);
    if (rc) {
        tn_mapping_free(r);
        return rc;
    }
    *out = r;
    return SNNC_OK;
}

void tn_mapping_free(tn_mapping *m)
{
    if (!m)
        return;
    tn_model_free(m->model);
    for (int i = 0; i < m->n_inputs && m->inputs; i++)
        free(m->inputs[i].feeds);
    free(m->inputs);
    free(m->readout);
    free(m->place);
    free(m->report.cores);
    free(m);
}

char *tn_map_report_json(const tn_mapping *m, const snnc_netlist *n, snnc_err *err)
{
    const tn_map_report *r = &m->report;
    json_t *cores = json_array();
    for (int c = 0; c < r->n_cores; c++) {
        const tn_map_core_usage *u = &r->cores[c];
        const snnc_population *P =
            n && u->population >= 0 && u->population < n->n_pops ? &n->pops[u->population] : NULL;
        json_array_append_new(
            cores, json_pack("{s:I,s:i,s:s,s:s,s:i,s:i,s:i,s:i,s:i,s:I}", "id",
                             (json_int_t)u->id, "population", u->population, "name",
                             P ? P->name : "", "role", P ? role_name(P->role) : "splitter",
                             "axons", u->axons, "neurons", u->neurons, "originals", u->originals,
                             "copies", u->copies, "relays", u->relays, "synapses",
                             (json_int_t)u->synapses));
    }
    json_t *inv = json_pack("{s:i,s:i,s:i,s:i,s:b,s:b,s:b}", "max_axons_per_core", r->max_axons,
                            "axon_limit", TN_AXONS, "max_neurons_per_core", r->max_neurons,
                            "neuron_limit", TN_NEURONS, "axons_ok", r->axons_ok, "neurons_ok",
                            r->neurons_ok, "one_destination", r->one_destination_ok);
    json_t *o = json_pack("{s:s,s:i,s:I,s:I,s:I,s:I,s:I,s:i,s:i,s:i,s:o,s:o}", "encoding",
                          "four axons per input, type weights (1,2,4,-8) x mult",
                          "cores", r->n_cores, "neurons", (json_int_t)r->neurons,
                          "originals", (json_int_t)r->originals, "copies", (json_int_t)r->copies,
                          "axons", (json_int_t)r->axons, "synapses", (json_int_t)r->synapses,
                          "neuron_types", r->n_types, "placement_passes", r->placement_passes,
                          "clipped_mult", r->clipped_mult, "invariants", inv, "per_core", cores);
    json_object_set_new(o, "clipped_codes", json_integer(r->clipped_codes));
    json_object_set_new(o, "relays", json_integer(r->relays));
    json_object_set_new(o, "relay_cores", json_integer(r->relay_cores));
    json_object_set_new(o, "relayed_sources", json_integer(r->relayed_sources));
    char *s = o ? json_dumps(o, JSON_INDENT(2)) : NULL;
    json_decref(o);
    if (!s)
        nomem(err);
    return s;
}

int64_t tn_map_ticks(const tn_mapping *m)
{
    int64_t b, e;
    tn_map_readout_window(m, 0, &b, &e);
    int64_t full = (int64_t)(m->steps + m->readout_windows) * m->window;
    return e > full ? e : full;
}

void tn_map_readout_window(const tn_mapping *m, int64_t t0, int64_t *t_begin, int64_t *t_end)
{
    *t_begin = t0 + (int64_t)(m->steps - 1) * m->window + m->readout_lag;
    *t_end = *t_begin + m->window;
}

/* ------------------------------------------------------------ encoder */

static int cmp_in_spike(const void *a, const void *b)
{
    const tn_input_spike *x = a, *y = b;
    if (x->tick != y->tick)
        return x->tick < y->tick ? -1 : 1;
    if (x->core != y->core)
        return x->core < y->core ? -1 : 1;
    return (x->axon > y->axon) - (x->axon < y->axon);
}

/* Spikes of one input neuron in one window: n = floor(v / scale + 1/2) in
 * [0, W] (as mapper/netlist_sim.c). */
static int spike_count(const tn_map_input *in, float x, int window)
{
    double r = floor(in->sign * (double)x / in->scale + 0.5);
    return r <= 0 ? 0 : r >= window ? window : (int)r;
}

/* One axon an input neuron feeds, for the encoder: where (at.tick unused)
 * and whose spikes arrive there, how late. */
typedef struct feed_ref {
    tn_input_spike at;
    int input, delay;
} feed_ref;

static int cmp_feed_ref(const void *a, const void *b)
{
    return cmp_in_spike(&((const feed_ref *)a)->at, &((const feed_ref *)b)->at);
}

/* Every feed of every input neuron, sorted by (core, axon); the delays
 * range over [*dmin, *dmax].  NULL on ENOMEM. */
static feed_ref *sorted_feeds(const tn_mapping *m, size_t *n, int *dmin, int *dmax)
{
    size_t k = 0;
    for (int i = 0; i < m->n_inputs; i++)
        k += (size_t)m->inputs[i].n_feeds;
    feed_ref *f = malloc((k ? k : 1) * sizeof *f);
    if (!f)
        return NULL;
    *n = k, *dmin = 0, *dmax = 0;
    k = 0;
    for (int i = 0; i < m->n_inputs; i++)
        for (int j = 0; j < m->inputs[i].n_feeds; j++) {
            const tn_map_feed *d = &m->inputs[i].feeds[j];
            f[k] = (feed_ref){{0, d->core, d->axon}, i, d->delay};
            *dmin = k == 0 || d->delay < *dmin ? d->delay : *dmin;
            *dmax = k == 0 || d->delay > *dmax ? d->delay : *dmax;
            k++;
        }
    qsort(f, k, sizeof *f, cmp_feed_ref);
    return f;
}

/* The ticks, counted from the sample's start and before any delay, at
 * which each input neuron spikes, ascending: input i's are
 * ticks[(*first)[i] .. (*first)[i + 1]).  NULL on ENOMEM. */
static int64_t *input_spike_ticks(const tn_mapping *m, const float *x, int n_features,
                                  size_t **first)
{
    *first = malloc(((size_t)m->n_inputs + 1) * sizeof **first);
    size_t total = 0;
    for (int i = 0; *first && i < m->n_inputs; i++)
        for (int t = 0; t < m->steps; t++)
            total += (size_t)spike_count(&m->inputs[i], x[(int64_t)t * n_features +
                                                          m->inputs[i].feature], m->window);
    int64_t *ticks = *first ? malloc((total ? total : 1) * sizeof *ticks) : NULL;
    if (!ticks) {
        free(*first);
        *first = NULL;
        return NULL;
    }
    size_t k = 0;
    for (int i = 0; i < m->n_inputs; i++) {
        (*first)[i] = k;
        for (int t = 0; t < m->steps; t++) {
            int cnt = spike_count(&m->inputs[i], x[(int64_t)t * n_features +
                                                   m->inputs[i].feature], m->window);
            for (int64_t ph = 0; cnt && ph < m->window; ph++)
                if (snnc_rate_spike(cnt, m->window, ph))
                    ticks[k++] = (int64_t)t * m->window + ph;
        }
    }
    (*first)[m->n_inputs] = k;
    return ticks;
}

/* Does a window of n spikes in W ticks spike at phase p?  The ideal
 * stage's rule (mapper/netlist_sim.c): ceil((p+1) n / W) > ceil(p n / W),
 * the first spike at phase 0.  test_tn_map checks the two agree. */
int tn_map_encode_input(const tn_mapping *m, const float *x, int steps, int n_features,
                        int64_t t0, tn_input_spike **out, size_t *n_out, snnc_err *err)
{
    *out = NULL, *n_out = 0;
    if (steps != m->steps || n_features < m->n_features || t0 < 0)
        return snnc_fail(err, SNNC_EINVALID, "input sample: %d steps x %d features, expected "
                         "%d x %d", steps, n_features, m->steps, m->n_features);
    for (int64_t i = 0; i < (int64_t)steps * n_features; i++)
        if (!isfinite(x[i]))
            return snnc_fail(err, SNNC_EINVALID, "input sample: non-finite value at step %lld, "
                             "feature %lld", (long long)(i / n_features),
                             (long long)(i % n_features));
    /* No sort of the spikes: a counting sort by tick (slot = tick - t0 -
     * dmin) filled from the feeds in (core, axon) order. */
    size_t *first = NULL, n_feeds = 0, *slot = NULL;
    int dmin = 0, dmax = 0;
    int64_t *rel = input_spike_ticks(m, x, n_features, &first);
    feed_ref *fr = rel ? sorted_feeds(m, &n_feeds, &dmin, &dmax) : NULL;
    size_t n_slots = (size_t)((int64_t)steps * m->window + (dmax - dmin));
    slot = fr ? calloc(n_slots + 1, sizeof *slot) : NULL;
    tn_input_spike *s = NULL;
    for (size_t f = 0; slot && f < n_feeds; f++)
        for (size_t r = first[fr[f].input]; r < first[fr[f].input + 1]; r++)
            slot[rel[r] + fr[f].delay - dmin + 1]++;
    for (size_t k = 0; slot && k < n_slots; k++)
        slot[k + 1] += slot[k]; /* slot[k]: where tick slot k starts */
    if (slot)
        s = malloc((slot[n_slots] ? slot[n_slots] : 1) * sizeof *s);
    for (size_t f = 0; s && f < n_feeds; f++)
        for (size_t r = first[fr[f].input]; r < first[fr[f].input + 1]; r++)
            s[slot[rel[r] + fr[f].delay - dmin]++] =
                (tn_input_spike){t0 + rel[r] + fr[f].delay, fr[f].at.core, fr[f].at.axon};
    size_t total = s ? slot[n_slots] : 0;
    free(first), free(rel), free(fr), free(slot);
    if (!s)
        return nomem(err);
    *out = s, *n_out = total;
    return SNNC_OK;
}

/* ------------------------------------------------------------ decoder */

static int readout_index(const tn_mapping *m, int ci, int slot)
{
    for (int r = 0; r < m->n_readout; r++)
        if (m->readout[r].core_index == ci && m->readout[r].slot == slot)
            return r;
    return -1;
}

static void argmax(const tn_mapping *m, tn_map_result *res)
{
    res->cls = -1;
    for (int k = 0; k < m->n_classes; k++)
        if (res->cls < 0 || res->scores[k] > res->scores[res->cls])
            res->cls = k;
}

void tn_map_decode(const tn_mapping *m, const tn_sim *s, const tn_output_spike *spk, size_t n_spk,
                   int64_t t_begin, int64_t t_end, const int32_t *v_begin, tn_map_result *res)
{
    for (int r = 0; r < m->n_readout; r++)
        res->counts[r] = 0;
    for (int k = 0; k < m->n_classes; k++)
        res->scores[k] = 0;
    for (size_t i = 0; i < n_spk; i++) {
        if (spk[i].tick < t_begin || spk[i].tick >= t_end)
            continue;
        int r = readout_index(m, tn_model_core_index(m->model, spk[i].core), spk[i].neuron);
        if (r >= 0)
            res->counts[r]++;
    }
    for (int r = 0; r < m->n_readout; r++) {
        const tn_map_readout *ro = &m->readout[r];
        if (ro->cls >= 0)
            res->scores[ro->cls] += ro->sign * ((int64_t)ro->alpha * res->counts[r] +
                                                tn_sim_potential(s, ro->core_index, ro->slot) -
                                                (v_begin ? v_begin[r] : 0));
    }
    argmax(m, res);
}

/* V of readout r now: the simulator's, or the initial one before any tick. */
static int32_t readout_v(const tn_mapping *m, const tn_sim *s, int r)
{
    const tn_map_readout *ro = &m->readout[r];
    if (tn_sim_tick(s) == 0)
        return m->model->types[m->model->cores[ro->core_index].type[ro->slot]].V;
    return tn_sim_potential(s, ro->core_index, ro->slot);
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

int tn_map_run_sample(const tn_mapping *m, tn_sim *s, const tn_input_spike *in, size_t n_in,
                      int64_t t0, tn_map_result *res, tn_activity *act, snnc_err *err)
{
    tn_activity local = {0};
    int64_t now = tn_sim_tick(s);
    if (t0 < now)
        return snnc_fail(err, SNNC_EINVALID, "sample starts at tick %lld, before tick %lld",
                         (long long)t0, (long long)now);
    size_t nr = (size_t)(m->n_readout ? m->n_readout : 1);
    int64_t *bounds = malloc(2 * nr * sizeof *bounds), *vb = calloc(nr, sizeof *vb),
            *ve = calloc(nr, sizeof *ve);
    int32_t *cnt = res->counts;
    tn_output_spike *spk = NULL;
    size_t n_spk = 0, first = 0;
    int nb = 0, rc = SNNC_OK;
    if (!bounds || !vb || !ve)
        rc = nomem(err);
    for (int r = 0; r < m->n_readout && !rc; r++) {
        int64_t b = t0 + (int64_t)(m->steps - 1) * m->window + m->readout[r].lag;
        bounds[nb++] = b, bounds[nb++] = b + m->window;
        cnt[r] = 0;
    }
    if (!rc)
        qsort(bounds, (size_t)nb, sizeof *bounds, cmp_i64);
    for (int k = 0; k < nb && !rc; k++) {
        if (k && bounds[k] == bounds[k - 1])
            continue;
        int64_t t = tn_sim_tick(s);
        /* before the first window starts no spike is needed */
        rc = tn_sim_run(s, bounds[k] - t, in + first, n_in - first, k ? &spk : NULL,
                        k ? &n_spk : NULL, act ? act : &local, err);
        while (first < n_in && in[first].tick < bounds[k])
            first++;
        for (int r = 0; r < m->n_readout && !rc; r++) {
            int64_t b = t0 + (int64_t)(m->steps - 1) * m->window + m->readout[r].lag;
            if (b == bounds[k])
                vb[r] = readout_v(m, s, r);
            if (b + m->window == bounds[k])
                ve[r] = readout_v(m, s, r);
        }
    }
    for (size_t i = 0; i < n_spk && !rc; i++) {
        int r = readout_index(m, tn_model_core_index(m->model, spk[i].core), spk[i].neuron);
        int64_t b = r >= 0 ? t0 + (int64_t)(m->steps - 1) * m->window + m->readout[r].lag : 0;
        if (r >= 0 && spk[i].tick >= b && spk[i].tick < b + m->window)
            cnt[r]++;
    }
    if (!rc) {
        for (int k = 0; k < m->n_classes; k++)
            res->scores[k] = 0;
        for (int r = 0; r < m->n_readout; r++) {
            const tn_map_readout *ro = &m->readout[r];
            if (ro->cls >= 0)
                res->scores[ro->cls] += ro->sign * ((int64_t)ro->alpha * cnt[r] + ve[r] - vb[r]);
        }
        argmax(m, res);
    }
    free(spk), free(bounds), free(vb), free(ve);
    return rc;
}
