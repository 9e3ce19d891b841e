/* weights.c — weights on N levels (interface: quantize.h, quantize_internal.h).
 * snnc_quantize_row: nearest rounding at the scale of least squared error
 * (exact: a sweep over the scales where codes change, then Lloyd's
 * alternation as a polish); stochastic rounding (splitmix64, unbiased) at
 * the smallest scale holding every weight.  snnc_q_matrix cuts a layer into units (neuron or layer, times
 * column group).  Derivations: docs/QUANTIZE.md. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "quantize_internal.h"

#define LLOYD_MAX_ITERS 200

uint64_t snnc_q_rng_next(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

double snnc_q_uniform(uint64_t *state) { return (double)(snnc_q_rng_next(state) >> 11) * 0x1.0p-53; }

int snnc_q_code_lo(int levels) { return -(levels / 2); }
int snnc_q_code_hi(int levels) { return levels - 1 - levels / 2; }

static double clampd(double x, double lo, double hi) { return x < lo ? lo : x > hi ? hi : x; }

/* Nearest codes for a fixed scale s > 0 (optimal for that s, code by code);
 * returns how many codes changed. */
static int assign_nearest(const float *w, int n, double s, int lo, int hi, int8_t *c)
{
    int changed = 0;
    for (int i = 0; i < n; i++) {
        int8_t k = (int8_t)clampd(floor((double)w[i] / s + 0.5), lo, hi);
        changed += k != c[i];
        c[i] = k;
    }
    return changed;
}

static double sq_error(const float *w, int n, float s, const int8_t *c)
{
    double e = 0;
    for (int i = 0; i < n; i++) {
        double d = (double)w[i] - (double)s * c[i];
        e += d * d;
    }
    return e;
}

/* Lloyd iteration from s0: refit s = <w,c>/<c,c> for the codes, reassign
 * the codes for s, until the codes are a fixed point.  Neither step can
 * raise the error.  Returns the final scale; codes in c. */
static double lloyd(const float *w, int n, double s0, int lo, int hi, int8_t *c)
{
    double s = s0;
    memset(c, 0, (size_t)n);
    assign_nearest(w, n, s, lo, hi, c);
    for (int it = 0; it < LLOYD_MAX_ITERS; it++) {
        double wc = 0, cc = 0;
        for (int i = 0; i < n; i++) {
            wc += (double)w[i] * c[i];
            cc += (double)c[i] * c[i];
        }
        if (cc == 0 || wc <= 0)
            break;
        s = wc / cc;
        if (assign_nearest(w, n, s, lo, hi, c) == 0)
            break;
    }
    return s;
}

static void abs_extremes(const float *w, int n, double *max_pos, double *max_neg, double *sumsq)
{
    *max_pos = *max_neg = *sumsq = 0;
    for (int i = 0; i < n; i++) {
        double v = w[i];
        if (v > *max_pos)
            *max_pos = v;
        if (-v > *max_neg)
            *max_neg = -v;
        *sumsq += v * v;
    }
}

/* ---- exact search (nearest rounding)
 * In t = 1/s, element i's code magnitude steps from k to k+1 at
 * t = (k + 1/2) / |w_i| (up to its clamp, hi or -lo by sign).  Between two
 * such events the codes are fixed, and the best scale for them is
 * s = B / C (B = sum |w_i| |c_i|, C = sum c_i^2) with error S - B^2 / C.
 * The global minimum over s is the best of these candidates along the sweep
 * (each candidate is an achievable (codes, scale) pair, and the minimiser's
 * own interval yields it).  Events come from a min-heap; the sweep stops
 * once the clipping error alone at the current scale, a lower bound for
 * every smaller scale, exceeds the best error found. */

typedef struct {
    double t;
    int i;
} event;

static void sift_down(event *h, int n, int p)
{
    for (;;) {
        int l = 2 * p + 1, r = l + 1, m = p;
        if (l < n && h[l].t < h[m].t)
            m = l;
        if (r < n && h[r].t < h[m].t)
            m = r;
        if (m == p)
            return;
        event tmp = h[p];
        h[p] = h[m];
        h[m] = tmp;
        p = m;
    }
}

static int clamp_of(float w, int lo, int hi) { return w > 0 ? hi : w < 0 ? -lo : 0; }

/* sum over i of (|w_i| - s K_i)_+^2: the error of clipping alone at scale s. */
static double clip_error(const float *w, int n, double s, int lo, int hi)
{
    double e = 0;
    for (int i = 0; i < n; i++) {
        double d = fabs((double)w[i]) - s * clamp_of(w[i], lo, hi);
        e += d > 0 ? d * d : 0;
    }
    return e;
}

/* The globally optimal scale for nearest rounding; 0 for an all-zero row. */
static int exact_scale(const float *w, int n, int lo, int hi, double *scale)
{
    event *h = malloc((size_t)n * sizeof *h + 1);
    int *k = calloc((size_t)n + 1, sizeof *k);
    if (!h || !k) {
        free(h);
        free(k);
        return SNNC_ENOMEM;
    }
    double S = 0, B = 0, C = 0, best_gain = 0;
    int hn = 0;
    *scale = 0;
    for (int i = 0; i < n; i++) {
        double a = fabs((double)w[i]);
        S += a * a;
        if (a > 0 && clamp_of(w[i], lo, hi) > 0)
            h[hn++] = (event){0.5 / a, i};
    }
    for (int p = hn / 2 - 1; p >= 0; p--)
        sift_down(h, hn, p);
    for (long events = 1; hn > 0; events++) {
        int i = h[0].i;
        double a = fabs((double)w[i]);
        B += a;
        C += 2.0 * k[i] + 1;
        if (++k[i] < clamp_of(w[i], lo, hi))
            h[0].t = (k[i] + 0.5) / a;
        else
            h[0] = h[--hn];
        sift_down(h, hn, 0);
        if (B * B > best_gain * C) {
            best_gain = B * B / C;
            *scale = B / C;
        }
        if (events % n == 0 && hn > 0 && clip_error(w, n, 1.0 / h[0].t, lo, hi) >= S - best_gain)
            break;
    }
    free(h);
    free(k);
    return SNNC_OK;
}

/* The optimal scale, then its nearest codes polished to a Lloyd fixed point
 * (alternate code assignment and least-squares scale refit; neither step
 * raises the error, so the result keeps the optimum). */
static int quantize_nearest(const float *w, int n, int lo, int hi, int8_t *codes, snnc_qrow *out)
{
    double s;
    int st = exact_scale(w, n, lo, hi, &s);
    if (st != SNNC_OK || !(s > 0)) { /* no weight has a non-zero code (an all-zero row, or
                                      * 2 levels and no negative weight): scale 0, codes 0 */
        out->sq_error = st == SNNC_OK ? sq_error(w, n, 0, codes) : 0;
        return st;
    }
    out->scale = (float)lloyd(w, n, s, lo, hi, codes);
    out->sq_error = sq_error(w, n, out->scale, codes);
    return SNNC_OK;
}

static void quantize_stochastic(const float *w, int n, int lo, int hi, uint64_t *rng, int8_t *codes,
                                snnc_qrow *out)
{
    double max_pos, max_neg, sumsq;
    abs_extremes(w, n, &max_pos, &max_neg, &sumsq);
    double s = fmax(hi > 0 ? max_pos / hi : 0, max_neg / -lo);
    if (!(s > 0)) { /* all zero, or levels = 2 and no negative weight */
        out->sq_error = sumsq;
        return;
    }
    out->scale = (float)s;
    s = out->scale; /* round with the scale that is stored */
    for (int i = 0; i < n; i++) {
        double x = (double)w[i] / s, f = floor(x);
        double up = snnc_q_uniform(rng) < x - f;
        codes[i] = (int8_t)clampd(f + up, lo, hi);
    }
    out->sq_error = sq_error(w, n, out->scale, codes);
}

int snnc_quantize_row(const float *w, int n, int levels, snnc_rounding r, uint64_t *rng,
                      int8_t *codes, snnc_qrow *out)
{
    if (levels < 2 || levels > 256 || n < 0 || (unsigned)r >= SNNC_ROUND_COUNT ||
        (r == SNNC_ROUND_STOCHASTIC && !rng))
        return SNNC_EINVALID;
    for (int i = 0; i < n; i++)
        if (!isfinite(w[i]))
            return SNNC_EINVALID;
    memset(codes, 0, (size_t)n);
    out->scale = 0;
    out->sq_error = 0;
    int lo = snnc_q_code_lo(levels), hi = snnc_q_code_hi(levels);
    if (r == SNNC_ROUND_STOCHASTIC) {
        quantize_stochastic(w, n, lo, hi, rng, codes, out);
        return SNNC_OK;
    }
    if (n == 0)
        return SNNC_OK;
    return quantize_nearest(w, n, lo, hi, codes, out);
}

/* One unit: a contiguous vector v of `len` values. */
static int quantize_unit(const float *v, int len, const snnc_q_plan *p, uint64_t *rng,
                         int8_t *codes, float *scale, double *sq_err)
{
    snnc_qrow q;
    int st = snnc_quantize_row(v, len, p->levels, p->rounding, rng, codes, &q);
    if (st != SNNC_OK)
        return st;
    *scale = q.scale;
    *sq_err += q.sq_error;
    return SNNC_OK;
}

int snnc_q_matrix(const float *M, int rows, int cols, const snnc_q_plan *p, uint64_t *rng,
                  int8_t *codes, float *scales, double *sq_err)
{
    *sq_err = 0;
    int G = p->n_groups;
    if (p->scale == SNNC_SCALE_NEURON) {
        for (int j = 0; j < rows; j++)
            for (int g = 0; g < G; g++) {
                int a = p->group_start[g], len = p->group_start[g + 1] - a;
                int st = quantize_unit(M + (size_t)j * cols + a, len, p, rng,
                                       codes + (size_t)j * cols + a, &scales[(size_t)j * G + g], sq_err);
                if (st != SNNC_OK)
                    return st;
            }
        return SNNC_OK;
    }
    /* Per layer: column group g of every row is one unit (gathered). */
    size_t width = 0;
    for (int g = 0; g < G; g++)
        if ((size_t)(p->group_start[g + 1] - p->group_start[g]) > width)
            width = (size_t)(p->group_start[g + 1] - p->group_start[g]);
    size_t cap = width * (size_t)rows;
    if (cap > INT32_MAX)
        return SNNC_ENOMEM;
    float *buf = malloc(cap * sizeof *buf + 1);
    int8_t *cbuf = malloc(cap + 1);
    int st = buf && cbuf ? SNNC_OK : SNNC_ENOMEM;
    for (int g = 0; g < G && st == SNNC_OK; g++) {
        int a = p->group_start[g], len = p->group_start[g + 1] - a;
        for (int j = 0; j < rows; j++)
            memcpy(buf + (size_t)j * len, M + (size_t)j * cols + a, (size_t)len * sizeof *buf);
        float s = 0;
        st = quantize_unit(buf, len * rows, p, rng, cbuf, &s, sq_err);
        for (int j = 0; j < rows && st == SNNC_OK; j++) {
            memcpy(codes + (size_t)j * cols + a, cbuf + (size_t)j * len, (size_t)len);
            scales[(size_t)j * G + g] = s;
        }
    }
    free(buf);
    free(cbuf);
    return st;
}
