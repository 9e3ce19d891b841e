/* test_quantize.c — the constraint stage (quantize/): weight codes and their
 * range, the least-squares scale (hand-derived cases, a brute-force scale
 * grid, max-abs scaling), stochastic rounding's mean over many draws,
 * seeds, the levels search, activity ranges from calibration data (hand
 * percentiles) and from the weights (hand bounds), activity quantisers,
 * split fan-in exactness (a partial-sum forward pass written here with
 * relu(p) - relu(-p) pairs), fan-in in spike channels (signed sources cost
 * two: groups and pruning by hand) and pruning (the F largest, found here
 * by sorting; under a channel budget, a reference written from the docs).
 * Networks are built by hand. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ann_fixture.h"
#include "harness.h"
#include "ir/error.h"
#include "ir/tensor.h"
#include "quantize/quantize.h"
#include "quantize/quantize_internal.h"

/* ------------------------------------------------------------ helpers */

static uint64_t trng = 0x1234567ull;
static double tu(void) /* uniform [0, 1), an LCG independent of the library's */
{
    trng = trng * 6364136223846793005ull + 1442695040888963407ull;
    return (double)(trng >> 11) * 0x1.0p-53;
}
static double tn(void) { return sqrt(-2 * log(tu() + 1e-300)) * cos(6.283185307179586 * tu()); }

static void random_row(float *w, int n, int kind)
{
    for (int i = 0; i < n; i++) {
        double v = tn();
        w[i] = (float)(kind == 0 ? v : kind == 1 ? 2 * tu() - 1 : v * v * v);
    }
}

static int code_lo(int L) { return -(L / 2); }
static int code_hi(int L) { return L - 1 - L / 2; }

/* Squared error of nearest rounding (clamped) at scale s, computed here. */
static double nearest_err(const float *w, int n, int L, double s)
{
    double e = 0;
    for (int i = 0; i < n; i++) {
        double c = floor(w[i] / s + 0.5);
        c = c < code_lo(L) ? code_lo(L) : c > code_hi(L) ? code_hi(L) : c;
        e += (w[i] - s * c) * (w[i] - s * c);
    }
    return e;
}

static double max_abs(const float *w, int n)
{
    double m = 0;
    for (int i = 0; i < n; i++)
        m = fmax(m, fabs(w[i]));
    return m;
}

static float *frandn(size_t n, double sd)
{
    float *c = malloc(n * sizeof *c);
    for (size_t i = 0; i < n; i++)
        c[i] = (float)(sd * tn());
    return c;
}

static snnc_constraints defaults(void)
{
    snnc_constraints c;
    snnc_constraints_default(&c);
    return c;
}

/* Count-domain factor of column i of layer S: a_in / a_out for x columns, 1
 * for the recurrent h columns (docs/CONVERSION.md §2); twice that for an
 * offset-coded column (its a_in is the span 2a). */
static double colf(const snnc_layer_constraints *S, const snnc_ann_layer *L, int i)
{
    double f = i < L->n_in ? (double)S->in_range / S->activity_range : 1.0;
    return (i < L->n_in ? S->x_offset : S->h_offset) ? 2 * f : f;
}

static float wat(const snnc_ann_layer *L, int j, int i)
{
    return i < L->n_in ? L->W[(size_t)j * L->n_in + i] : L->U[(size_t)j * L->n_out + i - L->n_in];
}

/* ------------------------------------------------------------ defaults */

static void test_defaults(void)
{
    snnc_constraints c = defaults();
    CU_ASSERT_EQUAL(c.weight_levels, 16);
    CU_ASSERT_EQUAL(c.activity_levels, 16);
    CU_ASSERT_EQUAL(c.fan_in, 64);
    CU_ASSERT_EQUAL(c.rounding, SNNC_ROUND_NEAREST);
    CU_ASSERT_EQUAL(c.scale, SNNC_SCALE_NEURON);
    CU_ASSERT_EQUAL(c.fanin, SNNC_FANIN_SPLIT);
    CU_ASSERT_DOUBLE_EQUAL(c.percentile, 99.9, 1e-12);
    CU_ASSERT_EQUAL(c.seed, 1u);
}

/* ------------------------------------------------------------ weights */

/* Codes stay in [-L/2, L-1-L/2], and a ramp over that range (times 0.1)
 * uses exactly L distinct codes. */
static void test_codes_range_and_levels(void)
{
    static const int Ls[] = {2, 3, 4, 5, 8, 15, 16, 17, 64, 255, 256};
    enum { N = 4001 };
    float ramp[N], gauss[500];
    int8_t codes[N];
    random_row(gauss, 500, 0);
    for (size_t k = 0; k < sizeof Ls / sizeof *Ls; k++) {
        int L = Ls[k];
        for (int i = 0; i < N; i++)
            ramp[i] = (float)(0.1 * (code_lo(L) + (double)(code_hi(L) - code_lo(L)) * i / (N - 1)));
        snnc_qrow q;
        CU_ASSERT_EQUAL_FATAL(snnc_quantize_row(ramp, N, L, SNNC_ROUND_NEAREST, NULL, codes, &q), SNNC_OK);
        int seen[256] = {0}, distinct = 0, in_range = 1;
        for (int i = 0; i < N; i++) {
            in_range &= codes[i] >= code_lo(L) && codes[i] <= code_hi(L);
            if (!seen[codes[i] + 128]++)
                distinct++;
        }
        CU_ASSERT(in_range);
        CU_ASSERT_EQUAL(distinct, L);
        CU_ASSERT(q.scale > 0);
        CU_ASSERT_EQUAL(snnc_quantize_row(gauss, 500, L, SNNC_ROUND_NEAREST, NULL, codes, &q), SNNC_OK);
        in_range = 1;
        for (int i = 0; i < 500; i++)
            in_range &= codes[i] >= code_lo(L) && codes[i] <= code_hi(L);
        CU_ASSERT(in_range);
    }
    /* Invalid level counts and non-finite weights are refused. */
    snnc_qrow q;
    float bad[2] = {1, NAN};
    CU_ASSERT_EQUAL(snnc_quantize_row(ramp, 4, 1, SNNC_ROUND_NEAREST, NULL, codes, &q), SNNC_EINVALID);
    CU_ASSERT_EQUAL(snnc_quantize_row(ramp, 4, 257, SNNC_ROUND_NEAREST, NULL, codes, &q), SNNC_EINVALID);
    CU_ASSERT_EQUAL(snnc_quantize_row(bad, 2, 16, SNNC_ROUND_NEAREST, NULL, codes, &q), SNNC_EINVALID);
    /* An all-zero row: scale 0, codes 0, no error. */
    float zero[3] = {0, 0, 0};
    CU_ASSERT_EQUAL(snnc_quantize_row(zero, 3, 16, SNNC_ROUND_NEAREST, NULL, codes, &q), SNNC_OK);
    CU_ASSERT_EQUAL(q.scale, 0);
    CU_ASSERT_EQUAL(q.sq_error, 0);
    CU_ASSERT(codes[0] == 0 && codes[1] == 0 && codes[2] == 0);
    /* 2 levels have the codes -1 and 0: a row without negative weights can
     * only be coded 0, and its error is its whole squared norm, 9 + 16. */
    float pos[2] = {3, 4};
    CU_ASSERT_EQUAL(snnc_quantize_row(pos, 2, 2, SNNC_ROUND_NEAREST, NULL, codes, &q), SNNC_OK);
    CU_ASSERT_EQUAL(q.scale, 0);
    CU_ASSERT_EQUAL(q.sq_error, 25);
    CU_ASSERT(codes[0] == 0 && codes[1] == 0);
}

/* Hand-derived optima (every code assignment enumerated on paper; the best
 * scale for fixed codes is s = <w,c>/<c,c>, error |w|^2 - <w,c>^2/<c,c>). */
static void test_hand_cases(void)
{
    struct {
        float w[5];
        int n, L;
        int8_t c[5];
        double s, e;
    } cases[] = {
        /* L = 4, codes -2..1: [0,1,1] at s = 5/2 beats [1,1,1] (s 2, err 2). */
        {{1, 2, 3}, 3, 4, {0, 1, 1}, 2.5, 1.5},
        /* [1,0] at s = 3 (err 1) beats [1,1] at s = 2 (err 2). */
        {{3, 1}, 2, 4, {1, 0}, 3.0, 1.0},
        /* [-2,1,1]: s = 11/6, err 21 - 121/6 = 5/6 (the max-abs scale 2 gives 1). */
        {{-4, 2, 1}, 3, 4, {-2, 1, 1}, 11.0 / 6, 5.0 / 6},
        /* On the grid of 0.25: zero error, s = 0.25 (16 levels, -8..7). */
        {{-2.0f, 1.75f, 0.75f, 0, -0.25f}, 5, 16, {-8, 7, 3, 0, -1}, 0.25, 0},
    };
    for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
        int8_t codes[5];
        snnc_qrow q;
        CU_ASSERT_EQUAL_FATAL(
            snnc_quantize_row(cases[k].w, cases[k].n, cases[k].L, SNNC_ROUND_NEAREST, NULL, codes, &q), SNNC_OK);
        CU_ASSERT(memcmp(codes, cases[k].c, (size_t)cases[k].n) == 0);
        SNNC_ASSERT_CLOSE(q.scale, cases[k].s, 1e-6, 1e-7);
        SNNC_ASSERT_CLOSE(q.sq_error, cases[k].e, 1e-5, 1e-9);
    }
}

/* Random rows: the scale is a least-squares fit of its codes, the codes are
 * nearest for the scale, the error is no worse than a 20000-point scan of
 * scales done here, and beats (on the whole, never loses to) max-abs
 * scaling at max|w| / (L/2 - 1) and max|w| / (L/2). */
static void test_optimal_scale_random(void)
{
    double sum_ours = 0, sum_maxabs = 0;
    int not_lsq = 0, not_nearest = 0, worse_than_scan = 0, worse_than_maxabs = 0;
    for (int t = 0; t < 90; t++) {
        int n = 8 + (int)(tu() * 180), L = t % 3 == 0 ? 4 : t % 3 == 1 ? 16 : 64;
        float w[200];
        int8_t c[200];
        random_row(w, n, t % 3);
        snnc_qrow q;
        CU_ASSERT_EQUAL_FATAL(snnc_quantize_row(w, n, L, SNNC_ROUND_NEAREST, NULL, c, &q), SNNC_OK);
        double wc = 0, cc = 0;
        for (int i = 0; i < n; i++) {
            wc += (double)w[i] * c[i];
            cc += (double)c[i] * c[i];
            double x = w[i] / q.scale, k = floor(x + 0.5);
            k = k < code_lo(L) ? code_lo(L) : k > code_hi(L) ? code_hi(L) : k;
            not_nearest += fabs(x - floor(x) - 0.5) > 1e-4 && k != c[i];
        }
        not_lsq += fabs(q.scale - wc / cc) > 1e-5 * fabs(q.scale);
        double m = max_abs(w, n), scan = INFINITY;
        for (int k = 1; k <= 20000; k++)
            scan = fmin(scan, nearest_err(w, n, L, m * 2.0 / (L / 2) * k / 20000));
        worse_than_scan += q.sq_error > scan * (1 + 1e-5) + 1e-12;
        double maxabs = fmin(nearest_err(w, n, L, m / code_hi(L)), nearest_err(w, n, L, m / -code_lo(L)));
        worse_than_maxabs += q.sq_error > maxabs * (1 + 1e-6);
        sum_ours += q.sq_error;
        sum_maxabs += maxabs;
    }
    CU_ASSERT_EQUAL(not_lsq, 0);
    CU_ASSERT_EQUAL(not_nearest, 0);
    CU_ASSERT_EQUAL(worse_than_scan, 0);
    CU_ASSERT_EQUAL(worse_than_maxabs, 0);
    CU_ASSERT(sum_ours < 0.95 * sum_maxabs);
}

/* The optimum never gets worse with more levels (nested code sets). */
static void test_error_monotone_in_levels(void)
{
    int rises = 0;
    for (int t = 0; t < 30; t++) {
        int n = 5 + (int)(tu() * 100);
        float w[128];
        int8_t c[128];
        random_row(w, n, t % 3);
        double prev = INFINITY;
        for (int L = 2; L <= 256; L++) {
            snnc_qrow q;
            snnc_quantize_row(w, n, L, SNNC_ROUND_NEAREST, NULL, c, &q);
            rises += q.sq_error > prev * (1 + 1e-6) + 1e-12;
            prev = q.sq_error;
        }
    }
    CU_ASSERT_EQUAL(rises, 0);
}

/* Stochastic rounding: the scale holds every weight, each code is the floor
 * or the ceiling of w / s, and the mean of s * code over 20000 draws is w
 * within 3 standard deviations s sqrt(f (1 - f) / N), f = frac(w / s). */
static void test_stochastic_unbiased(void)
{
    enum { N = 20000, n = 8 };
    const float w[n] = {0.13f, -0.71f, 0.5f, 0.999f, -1.0f, 0.0f, 0.333f, -0.05f};
    double sum[n] = {0};
    uint64_t rng = 42;
    float scale = 0;
    int bad_code = 0, scale_changed = 0;
    for (int d = 0; d < N; d++) {
        int8_t c[n];
        snnc_qrow q;
        CU_ASSERT_EQUAL_FATAL(snnc_quantize_row(w, n, 16, SNNC_ROUND_STOCHASTIC, &rng, c, &q), SNNC_OK);
        if (d == 0)
            scale = q.scale;
        scale_changed += q.scale != scale;
        for (int i = 0; i < n; i++) {
            double x = w[i] / (double)q.scale;
            bad_code += c[i] != floor(x) && c[i] != ceil(x);
            sum[i] += (double)q.scale * c[i];
        }
    }
    CU_ASSERT_EQUAL(scale_changed, 0);
    CU_ASSERT_EQUAL(bad_code, 0);
    SNNC_ASSERT_CLOSE(scale, fmax(0.999 / 7, 1.0 / 8), 1e-6, 0); /* max_pos / 7 vs max_neg / 8 */
    for (int i = 0; i < n; i++) {
        double x = w[i] / (double)scale, f = x - floor(x);
        double sigma = scale * sqrt(f * (1 - f) / N);
        CU_ASSERT(fabs(sum[i] / N - w[i]) <= 3 * sigma + 1e-6);
    }
}

static void test_stochastic_seeded(void)
{
    float w[64];
    random_row(w, 64, 0);
    int8_t a[64], b[64], c[64];
    snnc_qrow q;
    uint64_t s1 = 7, s2 = 7, s3 = 8;
    snnc_quantize_row(w, 64, 16, SNNC_ROUND_STOCHASTIC, &s1, a, &q);
    snnc_quantize_row(w, 64, 16, SNNC_ROUND_STOCHASTIC, &s2, b, &q);
    snnc_quantize_row(w, 64, 16, SNNC_ROUND_STOCHASTIC, &s3, c, &q);
    CU_ASSERT(memcmp(a, b, 64) == 0);
    CU_ASSERT(memcmp(a, c, 64) != 0);
    CU_ASSERT_EQUAL(s1, s2);
    CU_ASSERT_EQUAL(snnc_quantize_row(w, 64, 16, SNNC_ROUND_STOCHASTIC, NULL, a, &q), SNNC_EINVALID);
}

/* ------------------------------------------------------------ activity */

static void shuffle(float *v, int n)
{
    for (int i = n - 1; i > 0; i--) {
        int j = (int)(tu() * (i + 1));
        float t = v[i];
        v[i] = v[j];
        v[j] = t;
    }
}

/* numpy's linear percentile, by hand: position p/100 (n-1). */
static void test_percentile_hand(void)
{
    float v[1000];
    for (int i = 0; i < 1000; i++)
        v[i] = (float)(i + 1);
    shuffle(v, 1000);
    /* 1..1000: 99.9 -> 998.001 -> 999 + 0.001 */
    CU_ASSERT_DOUBLE_EQUAL(snnc_q_percentile(v, 1000, 99.9), 999.001, 1e-9);
    CU_ASSERT_DOUBLE_EQUAL(snnc_q_percentile(v, 1000, 50), 500.5, 1e-9);
    CU_ASSERT_DOUBLE_EQUAL(snnc_q_percentile(v, 1000, 100), 1000, 0);
    /* 900 zeros (a ReLU layer's silent units) and 1..100. */
    for (int i = 0; i < 1000; i++)
        v[i] = i < 900 ? 0 : (float)(i - 899);
    shuffle(v, 1000);
    CU_ASSERT_DOUBLE_EQUAL(snnc_q_percentile(v, 1000, 99.9), 99.001, 1e-9);
    CU_ASSERT_DOUBLE_EQUAL(snnc_q_percentile(v, 1000, 90), 1 * 0.1 + 0 * 0.9, 1e-9); /* pos 899.1 */
    float one = 3;
    CU_ASSERT_DOUBLE_EQUAL(snnc_q_percentile(&one, 1, 99.9), 3, 0);
}

/* h = relu(1 * x), readout y = 2 h: the ranges are the percentiles of the
 * calibration data, its double, and the input's quantiser follows its sign. */
static void test_activity_range_calibrated(void)
{
    float x[1000];
    for (int i = 0; i < 1000; i++)
        x[i] = (float)(i + 1);
    shuffle(x, 1000);
    snnc_ann *a = new_ann(1, 1, 2);
    set_layer(a, 0, "rnn", SNNC_ANN_RECURRENT, SNNC_ACT_RELU, 1, 1, fdup((float[]){1}, 1),
              fdup((float[]){0}, 1), NULL);
    set_layer(a, 1, "fc", SNNC_ANN_READOUT, SNNC_ACT_NONE, 1, 1, fdup((float[]){2}, 1), NULL, NULL);
    snnc_tensor *calib = tensor3(1000, 1, 1, x);
    snnc_constraints c = defaults();
    snnc_ann *q = NULL;
    snnc_layer_constraints *S = NULL;
    int n = 0;
    snnc_err err = {0};
    CU_ASSERT_EQUAL_FATAL(snnc_constrain(a, &c, calib, &q, &S, &n, &err), SNNC_OK);
    CU_ASSERT_EQUAL(n, 2);
    SNNC_ASSERT_CLOSE(S[0].in_range, 999.001, 1e-6, 0);
    SNNC_ASSERT_CLOSE(S[0].activity_range, 999.001, 1e-6, 0);
    SNNC_ASSERT_CLOSE(S[1].activity_range, 1998.002, 1e-6, 0);
    CU_ASSERT(q->in_q.levels == 16 && q->in_q.lo == 0);
    SNNC_ASSERT_CLOSE(q->in_q.hi, 999.001, 1e-6, 0);
    CU_ASSERT(q->layers[0].out_q.levels == 16 && q->layers[0].out_q.lo == 0);
    SNNC_ASSERT_CLOSE(q->layers[0].out_q.hi, 999.001, 1e-6, 0);
    CU_ASSERT_EQUAL(q->layers[1].out_q.levels, 0); /* the readout's membrane is read */
    snnc_ann_free(q);
    snnc_layer_constraints_free(S, n);

    /* -500..499: |x| is 0, 1,1, ..., 499,499, 500: 99.9 % -> 499.001; signed. */
    for (int i = 0; i < 1000; i++)
        snnc_f32(calib)[i] = (float)(i - 500);
    CU_ASSERT_EQUAL_FATAL(snnc_constrain(a, &c, calib, &q, &S, &n, &err), SNNC_OK);
    SNNC_ASSERT_CLOSE(S[0].in_range, 499.001, 1e-6, 0);
    CU_ASSERT(q->in_q.levels == 31); /* two channels of 0..15 */
    SNNC_ASSERT_CLOSE(q->in_q.lo, -499.001, 1e-6, 0);
    SNNC_ASSERT_CLOSE(S[0].activity_range, 498.001, 1e-6, 0); /* relu: 0 x 501, 1..499 */
    snnc_ann_free(q);
    snnc_layer_constraints_free(S, n);

    /* A calibration batch with the wrong feature count, or not finite. */
    snnc_tensor *bad = tensor3(2, 1, 1, (float[]){1, NAN});
    CU_ASSERT_EQUAL(snnc_constrain(a, &c, bad, &q, &S, &n, &err), SNNC_EINVALID);
    CU_ASSERT_PTR_NULL(q);
    snnc_tensor_free(bad);
    bad = tensor3(1, 1, 2, (float[]){1, 2});
    snnc_err_clear(&err);
    CU_ASSERT_EQUAL(snnc_constrain(a, &c, bad, &q, &S, &n, &err), SNNC_EINVALID);
    snnc_tensor_free(bad);
    snnc_tensor_free(calib);
    snnc_ann_free(a);
}

/* Without calibration: Gaussian pre-activations with the moments the
 * weights give (docs/QUANTIZE.md).  By hand: x uniform on [-1, 1] (variance
 * 1/3); z = x: relu range = isf(0.001) sqrt(1/3) = 1.7841465; h = relu(z)
 * has mean sqrt(1/3) phi(0) = 0.2303294 and variance 1/6 - 0.2303294^2 =
 * 0.1136150, so the next relu's range is 0.2303294 + 3.0902323 sqrt(0.1136150)
 * = 1.2719487. */
/* KL(softmax(f) || softmax(g)) of two two-class logit pairs. */
static double kl2(double f0, double f1, double g0, double g1)
{
    double pf0 = 1 / (1 + exp(f1 - f0)), pg0 = 1 / (1 + exp(g1 - g0));
    return pf0 * log(pf0 / pg0) + (1 - pf0) * log((1 - pf0) / (1 - pg0));
}

/* Range search (docs/QUANTIZE.md §4a), a case derived by hand: h =
 * relu(x - 0.1), logits (10 h, 4.2); calibration x = 0.5 (ten samples,
 * h = 0.4) and x = 1 (two, h = 0.9); 3 activity levels (h on 0, a/2, a),
 * percentile 100, weights not quantised; the input range 1 holds x exactly.
 * At the percentile range a = 0.9, 0.4 rounds to 0.45; at 0.875 a = 0.7875
 * it rounds to 0.39375 and 0.9 clips to 0.7875.  Mean KL per factor (from
 * the quantised h below): 1: 0.0259, 0.875: 0.0017, the others larger;
 * the paired difference 1 -> 0.875 is 0.0243 with a standard error of
 * 0.0043 (12 samples), so 0.875 is significantly better and is chosen.
 * Without the search the range stays 0.9. */
static void test_range_search_hand(void)
{
    float x[12];
    for (int i = 0; i < 12; i++)
        x[i] = i < 10 ? 0.5f : 1.0f;
    snnc_ann *a = new_ann(1, 1, 2);
    set_layer(a, 0, "rnn", SNNC_ANN_RECURRENT, SNNC_ACT_RELU, 1, 1, fdup((float[]){1}, 1),
              fdup((float[]){0}, 1), fdup((float[]){-0.1f}, 1));
    set_layer(a, 1, "fc", SNNC_ANN_READOUT, SNNC_ACT_NONE, 1, 2, fdup((float[]){10, 0}, 2), NULL,
              fdup((float[]){0, 4.2f}, 2));
    snnc_tensor *calib = tensor3(12, 1, 1, x);
    snnc_constraints c = defaults();
    c.weight_levels = 0;
    c.activity_levels = 3;
    c.percentile = 100;
    /* factor, quantised h for h = 0.4 and 0.9 */
    const double cand[7][3] = {{1, 0.45, 0.9},           {0.5, 0.45, 0.45},   {0.625, 0.28125, 0.5625},
                               {0.75, 0.3375, 0.675},    {0.875, 0.39375, 0.7875},
                               {1.25, 0.5625, 1.125},    {1.5, 0.675, 0.675}};
    snnc_ann *q = NULL;
    snnc_layer_constraints *S = NULL;
    int n = 0;
    snnc_err err = {0};
    CU_ASSERT_EQUAL_FATAL(snnc_constrain(a, &c, calib, &q, &S, &n, &err), SNNC_OK);
    CU_ASSERT_EQUAL_FATAL(S[0].n_range_candidates, 7);
    for (int k = 0; k < 7; k++) {
        double kl = (10 * kl2(4.0, 4.2, 10 * cand[k][1], 4.2) + 2 * kl2(9.0, 4.2, 10 * cand[k][2], 4.2)) / 12;
        SNNC_ASSERT_CLOSE(S[0].range_candidates[k], cand[k][0], 1e-6, 0);
        SNNC_ASSERT_CLOSE(S[0].range_kl[k], kl, 1e-4, 1e-7);
    }
    SNNC_ASSERT_CLOSE(S[0].range_factor, 0.875, 1e-6, 0);
    SNNC_ASSERT_CLOSE(S[0].activity_range, 0.7875, 1e-5, 0);
    SNNC_ASSERT_CLOSE(q->layers[0].out_q.hi, 0.7875, 1e-5, 0);
    CU_ASSERT_EQUAL(S[1].n_range_candidates, 0); /* the readout's membrane: not searched */
    snnc_ann_free(q);
    snnc_layer_constraints_free(S, n);

    c.range_search = false;
    CU_ASSERT_EQUAL_FATAL(snnc_constrain(a, &c, calib, &q, &S, &n, &err), SNNC_OK);
    SNNC_ASSERT_CLOSE(S[0].activity_range, 0.9, 1e-6, 0);
    CU_ASSERT_EQUAL(S[0].n_range_candidates, 0);
    snnc_ann_free(q);
    snnc_layer_constraints_free(S, n);
    snnc_tensor_free(calib);
    snnc_ann_free(a);
}

static void test_activity_range_moments_hand(void)
{
    snnc_ann *a = new_ann(1, 1, 2);
    set_layer(a, 0, "step", SNNC_ANN_STEP_DENSE, SNNC_ACT_RELU, 1, 1, fdup((float[]){1}, 1), NULL, NULL);
    set_layer(a, 1, "rnn", SNNC_ANN_RECURRENT, SNNC_ACT_RELU, 1, 1, fdup((float[]){1}, 1), fdup((float[]){0}, 1),
              NULL);
    snnc_constraints c = defaults();
    snnc_ann *q = NULL;
    snnc_layer_constraints *S = NULL;
    int n = 0;
    snnc_err err = {0};
    CU_ASSERT_EQUAL_FATAL(snnc_constrain(a, &c, NULL, &q, &S, &n, &err), SNNC_OK);
    SNNC_ASSERT_CLOSE(S[0].activity_range, 1.7841465, 1e-5, 0);
    SNNC_ASSERT_CLOSE(S[1].activity_range, 1.2719487, 1e-5, 0);
    CU_ASSERT_EQUAL(S[0].output_rel_error, -1);
    CU_ASSERT(q->in_q.levels == 31 && q->in_q.lo == -1 && q->in_q.hi == 1);
    snnc_ann_free(q);
    snnc_layer_constraints_free(S, n);
    snnc_ann_free(a);
}

/* A step layer relu([[1,-2],[.5,.5]] x + [.1,-.2]), a recurrent relu or
 * tanh unit ([1,-1] s + .5 h, 3 steps, ranges pooled over the steps) and a
 * readout [[2],[-1]] h + [.5, 0].  Expected ranges: the same model computed
 * independently with scipy (norm.sf, quad for tanh's moments, brentq for
 * the pooled percentile). */
static void test_activity_range_moments(void)
{
    snnc_ann *a = new_ann(2, 3, 3);
    set_layer(a, 0, "step", SNNC_ANN_STEP_DENSE, SNNC_ACT_RELU, 2, 2, fdup((float[]){1, -2, .5f, .5f}, 4), NULL,
              fdup((float[]){.1f, -.2f}, 2));
    set_layer(a, 1, "rnn", SNNC_ANN_RECURRENT, SNNC_ACT_RELU, 2, 1, fdup((float[]){1, -1}, 2),
              fdup((float[]){.5f}, 1), NULL);
    set_layer(a, 2, "fc", SNNC_ANN_READOUT, SNNC_ACT_NONE, 1, 2, fdup((float[]){2, -1}, 2), NULL,
              fdup((float[]){.5f, 0}, 2));
    struct {
        snnc_act act;
        float in_lo, in_hi;
        double r[3];
    } cases[] = {
        {SNNC_ACT_RELU, 0, 0, {3.81569083, 3.47874029, 6.94345511}},  /* input [-1, 1] (default) */
        {SNNC_ACT_RELU, 0, 2, {2.81577135, 1.27149845, 1.54604902}},  /* input given: [0, 2] */
        {SNNC_ACT_TANH, 0, 0, {3.81569083, 0.996764476, 4.25994922}}, /* tanh unit */
    };
    snnc_constraints c = defaults();
    for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
        a->layers[1].act = cases[k].act;
        a->in_q = (snnc_act_quant){0, cases[k].in_lo, cases[k].in_hi};
        snnc_ann *q = NULL;
        snnc_layer_constraints *S = NULL;
        int n = 0;
        snnc_err err = {0};
        CU_ASSERT_EQUAL_FATAL(snnc_constrain(a, &c, NULL, &q, &S, &n, &err), SNNC_OK);
        for (int l = 0; l < 3; l++)
            SNNC_ASSERT_CLOSE(S[l].activity_range, cases[k].r[l], 1e-4, 0);
        if (k == 1)
            CU_ASSERT(q->in_q.levels == 16 && q->in_q.lo == 0 && q->in_q.hi == 2);
        if (k == 2) { /* tanh: a signed pair of channels */
            CU_ASSERT(q->layers[1].out_q.levels == 31);
            CU_ASSERT(q->layers[1].out_q.lo == -q->layers[1].out_q.hi);
        }
        snnc_ann_free(q);
        snnc_layer_constraints_free(S, n);
    }

    /* h_t = relu(s + 2 h_{t-1}) over 200 steps: the estimate grows without limit. */
    a->layers[1].act = SNNC_ACT_RELU;
    a->layers[1].U[0] = 2;
    a->steps = 200;
    snnc_ann *q = NULL;
    snnc_err err = {0};
    CU_ASSERT_EQUAL(snnc_constrain(a, &c, NULL, &q, NULL, NULL, &err), SNNC_EUNSUPPORTED);
    CU_ASSERT(strstr(err.msg, "'rnn'") != NULL);
    CU_ASSERT_PTR_NULL(q);
    snnc_ann_free(a);
}

/* ------------------------------------------------------------ network */

/* A recurrent layer n_in -> n_out (relu) and a readout n_out -> n_cls. */
static snnc_ann *random_elman(int n_in, int n_out, int n_cls, int steps, snnc_act act)
{
    snnc_ann *a = new_ann(n_in, steps, 2);
    set_layer(a, 0, "rnn", SNNC_ANN_RECURRENT, act, n_in, n_out, frandn((size_t)n_in * n_out, 0.3),
              frandn((size_t)n_out * n_out, 0.5 / sqrt(n_out)), frandn((size_t)n_out, 0.1));
    set_layer(a, 1, "fc", SNNC_ANN_READOUT, SNNC_ACT_NONE, n_out, n_cls, frandn((size_t)n_cls * n_out, 0.3),
              NULL, frandn((size_t)n_cls, 0.1));
    return a;
}

static snnc_tensor *random_input(int batch, int steps, int feat)
{
    float *v = frandn((size_t)batch * steps * feat, 1.0);
    snnc_tensor *t = tensor3(batch, steps, feat, v);
    free(v);
    return t;
}

/* Codes and scales of the stats reproduce the float weights of the
 * constrained network: w = scale[j][g] code a_out / a_in. */
static int max_reconstruction_error(const snnc_ann *q, const snnc_layer_constraints *S, int n)
{
    int bad = 0;
    for (int l = 0; l < n; l++) {
        const snnc_ann_layer *L = &q->layers[l];
        for (int j = 0; j < S[l].n_rows; j++)
            for (int g = 0; g < S[l].n_groups; g++)
                for (int i = S[l].group_start[g]; i < S[l].group_start[g + 1]; i++) {
                    double w = S[l].scales[j * S[l].n_groups + g] * S[l].codes[j * S[l].n_cols + i] /
                               colf(&S[l], L, i);
                    bad += fabs(w - wat(L, j, i)) > 1e-5 * fabs(w) + 1e-12;
                }
    }
    return bad;
}

/* The recurrent layer through partial-sum neurons, written from
 * docs/CONVERSION.md §5: per group g, p_g = sum over the group's inputs;
 * the neuron adds relu(p_g) - relu(-p_g).  Weights w(j, i) from `src`.
 * Returns h_T [batch][n_out] of a batch-first input. */
static float *split_forward(const snnc_ann_layer *src, const snnc_layer_constraints *S,
                            const snnc_tensor *x, int steps)
{
    int B = (int)x->dims[0], F = src->n_in, H = src->n_out;
    float *h = calloc((size_t)B * H, sizeof *h), *hn = calloc((size_t)H, sizeof *hn);
    for (int b = 0; b < B; b++)
        for (int t = 0; t < steps; t++) {
            const float *xt = snnc_f32(x) + ((size_t)b * steps + t) * F;
            for (int j = 0; j < H; j++) {
                double z = src->b[j];
                for (int g = 0; g < S->n_groups; g++) {
                    double p = 0;
                    for (int i = S->group_start[g]; i < S->group_start[g + 1]; i++)
                        p += (double)wat(src, j, i) * (i < F ? xt[i] : h[(size_t)b * H + i - F]);
                    z += fmax(p, 0) - fmax(-p, 0);
                }
                hn[j] = (float)(src->act == SNNC_ACT_RELU ? fmax(z, 0) : tanh(z));
            }
            memcpy(h + (size_t)b * H, hn, (size_t)H * sizeof *h);
        }
    free(hn);
    return h;
}

/* Split: 100 signed inputs + 40 tanh units = 140 inputs, 280 spike
 * channels (two per signed source) > 64: the fewest groups of at most 32
 * columns is 5, balanced at 28 columns (56 channels) each; the readout's
 * 40 tanh inputs are 80 channels: two groups of 20.  Without quantisation
 * the constrained network is the original and the partial-sum forward
 * reproduces it; with 16 levels each group has its own scale and the
 * partial-sum forward (from codes x scales) reproduces the constrained
 * network. */
static void test_split_exact(void)
{
    const int steps = 5;
    snnc_ann *a = random_elman(100, 40, 3, steps, SNNC_ACT_TANH);
    snnc_tensor *x = random_input(4, steps, 100);
    snnc_constraints c = defaults();
    c.weight_levels = 0;
    c.activity_levels = 0;
    snnc_ann *q = NULL;
    snnc_layer_constraints *S = NULL;
    int n = 0;
    snnc_err err = {0};
    CU_ASSERT_EQUAL_FATAL(snnc_constrain(a, &c, x, &q, &S, &n, &err), SNNC_OK);
    CU_ASSERT_EQUAL(S[0].fan_in, 140);
    CU_ASSERT(S[0].ch_x == 2 && S[0].ch_h == 2 && S[1].ch_x == 2);
    CU_ASSERT_EQUAL(S[0].fan_in_channels, 280);
    CU_ASSERT_EQUAL(S[0].fan_in_channels_max, 56);
    CU_ASSERT_EQUAL_FATAL(S[0].n_groups, 5);
    for (int g = 0; g <= 5; g++)
        CU_ASSERT_EQUAL(S[0].group_start[g], 28 * g);
    CU_ASSERT_EQUAL_FATAL(S[1].n_groups, 2); /* the readout: 40 inputs, 80 channels */
    CU_ASSERT(S[1].group_start[1] == 20 && S[1].fan_in_channels == 80 && S[1].fan_in_channels_max == 40);
    CU_ASSERT_PTR_NULL(S[0].codes);
    CU_ASSERT(memcmp(q->layers[0].W, a->layers[0].W, 100 * 40 * sizeof(float)) == 0);
    CU_ASSERT(memcmp(q->layers[0].U, a->layers[0].U, 40 * 40 * sizeof(float)) == 0);
    CU_ASSERT_EQUAL(S[0].weight_rel_error, 0);

    snnc_tensor *out = NULL, *hid = NULL;
    CU_ASSERT_EQUAL_FATAL(snnc_ann_run(a, x, &out, &hid, &err), SNNC_OK);
    float *hs = split_forward(&a->layers[0], &S[0], x, steps);
    float *hT = snnc_f32(hid) + (size_t)(steps - 1) * 4 * 40;
    int off = 0;
    for (int k = 0; k < 4 * 40; k++)
        off += fabs(hs[k] - hT[k]) > 1e-5;
    CU_ASSERT_EQUAL(off, 0);
    free(hs);
    snnc_tensor_free(out);
    snnc_tensor_free(hid);
    snnc_ann_free(q);
    snnc_layer_constraints_free(S, n);

    /* Quantised, activities left float: the partial-sum forward from codes
     * x scales (per group) equals the constrained network. */
    c.weight_levels = 16;
    CU_ASSERT_EQUAL_FATAL(snnc_constrain(a, &c, x, &q, &S, &n, &err), SNNC_OK);
    CU_ASSERT_PTR_NOT_NULL_FATAL(S[0].codes);
    CU_ASSERT_EQUAL(max_reconstruction_error(q, S, n), 0);
    const int G = S[0].n_groups;
    int distinct_group_scales = 0;
    for (int j = 0; j < 40; j++)
        distinct_group_scales += S[0].scales[j * G] != S[0].scales[j * G + 1];
    CU_ASSERT(distinct_group_scales > 30);
    snnc_ann_layer rebuilt = q->layers[0];
    rebuilt.W = malloc(100 * 40 * sizeof(float));
    rebuilt.U = malloc(40 * 40 * sizeof(float));
    for (int j = 0; j < 40; j++)
        for (int g = 0; g < G; g++)
            for (int i = S[0].group_start[g]; i < S[0].group_start[g + 1]; i++) {
                float w = (float)(S[0].scales[j * G + g] * S[0].codes[j * 140 + i] / colf(&S[0], &a->layers[0], i));
                if (i < 100)
                    rebuilt.W[j * 100 + i] = w;
                else
                    rebuilt.U[j * 40 + i - 100] = w;
            }
    CU_ASSERT_EQUAL_FATAL(snnc_ann_run(q, x, &out, &hid, &err), SNNC_OK);
    hs = split_forward(&rebuilt, &S[0], x, steps);
    hT = snnc_f32(hid) + (size_t)(steps - 1) * 4 * 40;
    off = 0;
    for (int k = 0; k < 4 * 40; k++)
        off += fabs(hs[k] - hT[k]) > 1e-5;
    CU_ASSERT_EQUAL(off, 0);
    /* ... and stays near the float network (16 levels, 5 scales a row). */
    CU_ASSERT(S[0].output_rel_error > 0 && S[0].output_rel_error < 0.1);
    free(hs);
    free(rebuilt.W);
    free(rebuilt.U);
    snnc_tensor_free(out);
    snnc_tensor_free(hid);
    snnc_ann_free(q);
    snnc_layer_constraints_free(S, n);
    snnc_tensor_free(x);
    snnc_ann_free(a);
}

/* Unsigned sources count one channel each: 100 inputs in [0, 1] (the
 * calibration batch has no negative value) + 40 ReLU units = 140 channels:
 * three partial neurons of 46, 47, 47 inputs, as without channels. */
static void test_split_unsigned(void)
{
    snnc_ann *a = random_elman(100, 40, 3, 5, SNNC_ACT_RELU);
    snnc_tensor *x = random_input(4, 5, 100);
    for (int64_t k = 0; k < x->count; k++)
        snnc_f32(x)[k] = fabsf(snnc_f32(x)[k]);
    snnc_constraints c = defaults();
    snnc_ann *q = NULL;
    snnc_layer_constraints *S = NULL;
    int n = 0;
    snnc_err err = {0};
    CU_ASSERT_EQUAL_FATAL(snnc_constrain(a, &c, x, &q, &S, &n, &err), SNNC_OK);
    CU_ASSERT(S[0].ch_x == 1 && S[0].ch_h == 1 && S[1].ch_x == 1);
    CU_ASSERT_EQUAL(S[0].fan_in_channels, 140);
    CU_ASSERT_EQUAL(S[0].fan_in_channels_max, 47);
    CU_ASSERT_EQUAL_FATAL(S[0].n_groups, 3);
    CU_ASSERT(S[0].group_start[0] == 0 && S[0].group_start[1] == 46 && S[0].group_start[2] == 93 &&
              S[0].group_start[3] == 140);
    CU_ASSERT_EQUAL(S[1].n_groups, 1); /* the readout has 40 inputs */
    CU_ASSERT_EQUAL(max_reconstruction_error(q, S, n), 0);
    snnc_ann_free(q);
    snnc_layer_constraints_free(S, n);
    snnc_tensor_free(x);
    snnc_ann_free(a);
}

/* Groups in channels, by hand: examples/elman_tanh's recurrent neuron (8
 * unsigned inputs, 48 tanh units: 104 channels, F = 64) is cut at column
 * 30 (8 + 2 x 22 = 52 channels each side); ten unsigned columns, F = 4:
 * 0, 3, 6, 10.  Random costs: contiguous, covering, every group <= F
 * channels, and no more groups than ceil(C / (F - 1)) (a cut is only made
 * when the next column does not fit, so every group but the last holds
 * at least F - 1). */
static void test_groups_channels(void)
{
    unsigned char ch[200];
    int *s = NULL;
    for (int i = 0; i < 56; i++)
        ch[i] = i < 8 ? 1 : 2;
    CU_ASSERT_EQUAL_FATAL(snnc_q_groups(56, ch, 64, true, &s), 2);
    CU_ASSERT(s[0] == 0 && s[1] == 30 && s[2] == 56);
    free(s);
    CU_ASSERT_EQUAL_FATAL(snnc_q_groups(56, ch, 64, false, &s), 1);
    CU_ASSERT(s[0] == 0 && s[1] == 56);
    free(s);
    CU_ASSERT_EQUAL_FATAL(snnc_q_groups(10, NULL, 4, true, &s), 3);
    CU_ASSERT(s[0] == 0 && s[1] == 3 && s[2] == 6 && s[3] == 10);
    free(s);
    int bad = 0;
    for (int trial = 0; trial < 500; trial++) {
        int cols = 1 + (int)(tu() * 200), F = 2 + (int)(tu() * 70), C = 0;
        for (int i = 0; i < cols; i++)
            C += ch[i] = (unsigned char)(tu() < 0.5 ? 1 : 2);
        int g = snnc_q_groups(cols, ch, F, true, &s);
        bad += g < 1 || s[0] != 0 || s[g] != cols || (C <= F && g != 1) || g > (C + F - 2) / (F - 1);
        for (int k = 0; g > 0 && k < g; k++) {
            int sum = 0;
            for (int i = s[k]; i < s[k + 1]; i++)
                sum += ch[i];
            bad += s[k + 1] <= s[k] || sum > F;
        }
        free(s);
    }
    CU_ASSERT_EQUAL(bad, 0);
}

/* The kept set of a row under a channel budget, from docs/QUANTIZE.md §6:
 * by decreasing magnitude (ties: lower index), a non-zero weight is kept
 * while its channels fit in what is left. */
static void ref_keep(const double *mags, const unsigned char *ch, int n, int budget, bool *keep)
{
    bool *done = calloc((size_t)n, sizeof *done);
    for (int i = 0; i < n; i++)
        keep[i] = false;
    for (int r = 0; r < n; r++) {
        int best = -1;
        for (int i = 0; i < n; i++)
            if (!done[i] && (best < 0 || mags[i] > mags[best]))
                best = i;
        done[best] = true;
        if (mags[best] > 0 && ch[best] <= budget) {
            keep[best] = true;
            budget -= ch[best];
        }
    }
    free(done);
}

/* Pruning in channels, by hand: [5, -4, 3, 2, 1] of costs [2, 2, 1, 2, 1].
 * Budget 4: 5 and -4.  Budget 5: 5, -4, 3.  Budget 3: 5, then -4 (2
 * channels) does not fit in the 1 left and is dropped, 3 (1 channel) is
 * kept.  Random rows: a dropped weight is never larger than a kept one of
 * the same or more channels (the kept one would have had its place). */
static void test_prune_channels(void)
{
    const unsigned char ch[5] = {2, 2, 1, 2, 1};
    const struct {
        int budget, used;
        float want[5];
    } cases[] = {{4, 4, {5, -4, 0, 0, 0}}, {5, 5, {5, -4, 3, 0, 0}}, {3, 3, {5, 0, 3, 0, 0}}, {8, 8, {5, -4, 3, 2, 1}}};
    for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
        float row[5] = {5, -4, 3, 2, 1}, f;
        int used = -1, dropped = 0;
        for (int i = 0; i < 5; i++)
            dropped += cases[k].want[i] == 0;
        CU_ASSERT_EQUAL(snnc_q_prune_row(row, ch, 5, cases[k].budget, false, &f, &used), dropped);
        CU_ASSERT(memcmp(row, cases[k].want, sizeof row) == 0);
        CU_ASSERT_EQUAL(used, cases[k].used);
    }
    int bad = 0;
    for (int trial = 0; trial < 300; trial++) {
        int n = 1 + (int)(tu() * 80), budget = 1 + (int)(tu() * 60), used = 0, sum = 0;
        float row[80], orig[80], f;
        unsigned char c[80];
        for (int i = 0; i < n; i++) {
            orig[i] = row[i] = (float)tn();
            c[i] = (unsigned char)(tu() < 0.5 ? 1 : 2);
        }
        snnc_q_prune_row(row, c, n, budget, false, &f, &used);
        for (int i = 0; i < n; i++) {
            sum += row[i] != 0 ? c[i] : 0;
            for (int k = 0; k < n; k++) /* i dropped, k kept */
                bad += row[i] == 0 && row[k] != 0 && fabsf(orig[i]) > fabsf(orig[k]) && c[k] >= c[i];
        }
        bad += sum > budget || sum != used;
    }
    CU_ASSERT_EQUAL(bad, 0);
}

static int cmp_desc(const void *pa, const void *pb)
{
    double a = *(const double *)pa, b = *(const double *)pb;
    return (a < b) - (a > b);
}

/* Prune to F = 10: with inputs declared in [0, 1] (one channel each) each
 * row keeps exactly its 10 largest count-domain magnitudes (|w| a_in /
 * a_out; the readout's columns share one factor), found here by sorting;
 * with rescaling the row's L1 norm is kept.  With signed inputs (the
 * default [-1, 1]) an input weight costs two channels: the recurrent rows
 * keep the set of ref_keep, at most 10 channels. */
static void test_prune_keeps_largest(void)
{
    snnc_ann *a = random_elman(4, 100, 6, 3, SNNC_ACT_RELU);
    snnc_constraints c = defaults();
    c.fanin = SNNC_FANIN_PRUNE;
    c.fan_in = 10;
    c.weight_levels = 0;
    for (int rescale = 0; rescale < 2; rescale++) {
        c.prune_rescale = rescale;
        a->in_q = (snnc_act_quant){16, 0, 1};
        snnc_ann *q = NULL;
        snnc_layer_constraints *S = NULL;
        int n = 0;
        snnc_err err = {0};
        CU_ASSERT_EQUAL_FATAL(snnc_constrain(a, &c, NULL, &q, &S, &n, &err), SNNC_OK);
        int wrong_set = 0, wrong_count = 0, wrong_value = 0;
        for (int l = 0; l < 2; l++) {
            const snnc_ann_layer *A = &a->layers[l], *Q = &q->layers[l];
            int cols = S[l].n_cols;
            CU_ASSERT_EQUAL(S[l].n_groups, 1);
            CU_ASSERT_EQUAL(S[l].pruned, (int64_t)A->n_out * (cols - 10));
            for (int j = 0; j < A->n_out; j++) {
                double mags[104] = {0}, l1 = 0, l1q = 0;
                for (int i = 0; i < cols; i++) {
                    mags[i] = fabs(wat(A, j, i)) * colf(&S[l], A, i);
                    l1 += mags[i];
                }
                double sorted[104];
                memcpy(sorted, mags, sizeof sorted);
                qsort(sorted, (size_t)cols, sizeof *sorted, cmp_desc);
                int nz = 0;
                for (int i = 0; i < cols; i++) {
                    float v = wat(Q, j, i);
                    nz += v != 0;
                    wrong_set += (v != 0) != (mags[i] >= sorted[9]);
                    l1q += fabs(v) * colf(&S[l], A, i);
                    if (v != 0 && !rescale)
                        wrong_value += v != wat(A, j, i);
                }
                wrong_count += nz != 10;
                if (rescale)
                    SNNC_ASSERT_CLOSE(l1q, l1, 1e-5, 0);
            }
        }
        CU_ASSERT_EQUAL(wrong_set, 0);
        CU_ASSERT_EQUAL(wrong_count, 0);
        CU_ASSERT_EQUAL(wrong_value, 0);
        CU_ASSERT_EQUAL(S[1].fan_in, 100);
        CU_ASSERT_EQUAL(S[1].fan_in_max_neuron, 100);
        CU_ASSERT(S[0].ch_x == 1 && S[0].fan_in_channels == 104 && S[0].fan_in_channels_max == 10);
        snnc_ann_free(q);
        snnc_layer_constraints_free(S, n);
    }
    a->in_q = (snnc_act_quant){16, -1, 1};
    c.prune_rescale = false;
    snnc_ann *q = NULL;
    snnc_layer_constraints *S = NULL;
    int n = 0, wrong_set = 0, over = 0, x_kept = 0;
    snnc_err err = {0};
    CU_ASSERT_EQUAL_FATAL(snnc_constrain(a, &c, NULL, &q, &S, &n, &err), SNNC_OK);
    CU_ASSERT(S[0].ch_x == 2 && S[0].ch_h == 1 && S[0].fan_in_channels == 108);
    CU_ASSERT(S[0].fan_in_channels_max <= 10);
    unsigned char ch[104];
    for (int i = 0; i < 104; i++)
        ch[i] = i < 4 ? 2 : 1;
    for (int j = 0; j < 100; j++) {
        double mags[104];
        bool keep[104];
        int used = 0;
        for (int i = 0; i < 104; i++)
            mags[i] = fabs(wat(&a->layers[0], j, i)) * colf(&S[0], &a->layers[0], i);
        ref_keep(mags, ch, 104, 10, keep);
        for (int i = 0; i < 104; i++) {
            bool kept = wat(&q->layers[0], j, i) != 0;
            wrong_set += kept != keep[i];
            used += kept ? ch[i] : 0;
            x_kept += kept && i < 4;
        }
        over += used > 10;
    }
    CU_ASSERT_EQUAL(wrong_set, 0);
    CU_ASSERT_EQUAL(over, 0);
    CU_ASSERT(x_kept > 0); /* the two-channel inputs do compete */
    snnc_ann_free(q);
    snnc_layer_constraints_free(S, n);
    snnc_ann_free(a);
}

/* The pre-activation error ||z - zq|| / ||z|| of both layers of a random
 * Elman network on the calibration batch, computed here from the hidden
 * states: z_t = W x_t + U h_{t-1} + b (recurrent), W h_T + b (readout). */
static void preact_errors(const snnc_ann *a, const snnc_ann *q, const snnc_tensor *x, double out[2])
{
    snnc_tensor *y = NULL, *hid = NULL;
    snnc_err err = {0};
    CU_ASSERT_EQUAL_FATAL(snnc_ann_run(a, x, &y, &hid, &err), SNNC_OK);
    int T = (int)hid->dims[0], B = (int)hid->dims[1], H = (int)hid->dims[2], F = a->n_inputs;
    const float *h = snnc_f32(hid);
    for (int l = 0; l < 2; l++) {
        const snnc_ann_layer *A = &a->layers[l], *Q = &q->layers[l];
        double e = 0, z = 0;
        for (int t = l ? T - 1 : 0; t < T; t++)
            for (int b = 0; b < B; b++)
                for (int j = 0; j < A->n_out; j++) {
                    double z0 = A->b[j], zq = Q->b[j];
                    for (int i = 0; i < A->n_in; i++) {
                        double u = l ? h[((size_t)t * B + b) * H + i] : snnc_f32(x)[((size_t)b * T + t) * F + i];
                        z0 += A->W[j * A->n_in + i] * u;
                        zq += Q->W[j * A->n_in + i] * u;
                    }
                    for (int i = 0; l == 0 && t > 0 && i < H; i++) {
                        double u = h[((size_t)(t - 1) * B + b) * H + i];
                        z0 += A->U[j * H + i] * u;
                        zq += Q->U[j * H + i] * u;
                    }
                    e += (z0 - zq) * (z0 - zq);
                    z += z0 * z0;
                }
        out[l] = sqrt(e / z);
    }
    snnc_tensor_free(y);
    snnc_tensor_free(hid);
}

/* Inputs as real data have them: correlated (3 latent factors mixed into
 * the features, plus 10 % noise) and with a non-zero mean. */
static snnc_tensor *correlated_input(int batch, int steps, int feat)
{
    float *mix = frandn((size_t)3 * feat, 1.0), *v = malloc((size_t)batch * steps * feat * sizeof *v);
    for (int r = 0; r < batch * steps; r++) {
        double g[3] = {tn(), tn(), tn()};
        for (int i = 0; i < feat; i++)
            v[(size_t)r * feat + i] =
                (float)(0.5 + g[0] * mix[i] + g[1] * mix[feat + i] + g[2] * mix[2 * feat + i] + 0.1 * tn());
    }
    snnc_tensor *t = tensor3(batch, steps, feat, v);
    free(mix);
    free(v);
    return t;
}

/* Error compensation: the stats' output error is the pre-activation error
 * measured here, and on correlated inputs it is well below plain
 * rounding's; codes stay in range and reproduce the weights; pruning keeps
 * at most F channels a row (the signed inputs cost two), among the kept
 * set of ref_keep. */
static void test_compensation(void)
{
    snnc_ann *a = random_elman(20, 30, 6, 5, SNNC_ACT_RELU);
    snnc_tensor *x = correlated_input(100, 5, 20);
    snnc_constraints c = defaults();
    c.activity_levels = 0;
    c.method_search = c.bias_correct = false; /* compensation alone, as set */
    double errs[2][2];
    for (int comp = 0; comp < 2; comp++) {
        c.compensate = comp;
        snnc_ann *q = NULL;
        snnc_layer_constraints *S = NULL;
        int n = 0;
        snnc_err err = {0};
        CU_ASSERT_EQUAL_FATAL(snnc_constrain(a, &c, x, &q, &S, &n, &err), SNNC_OK);
        preact_errors(a, q, x, errs[comp]);
        for (int l = 0; l < 2; l++)
            SNNC_ASSERT_CLOSE(S[l].output_rel_error, errs[comp][l], 1e-3, 1e-6);
        CU_ASSERT_EQUAL(max_reconstruction_error(q, S, n), 0);
        int bias_moved = 0;
        for (int j = 0; j < 30; j++)
            bias_moved += q->layers[0].b[j] != a->layers[0].b[j];
        CU_ASSERT(comp ? bias_moved > 0 : bias_moved == 0);
        snnc_ann_free(q);
        snnc_layer_constraints_free(S, n);
    }
    for (int l = 0; l < 2; l++)
        CU_ASSERT(errs[1][l] < 0.7 * errs[0][l]);

    /* Prune to 10 of 50 (recurrent) and 30 (readout) inputs. */
    c.fanin = SNNC_FANIN_PRUNE;
    c.fan_in = 10;
    double perrs[2][2];
    for (int comp = 0; comp < 2; comp++) {
        c.compensate = comp;
        snnc_ann *q = NULL;
        snnc_layer_constraints *S = NULL;
        int n = 0;
        snnc_err err = {0};
        CU_ASSERT_EQUAL_FATAL(snnc_constrain(a, &c, x, &q, &S, &n, &err), SNNC_OK);
        preact_errors(a, q, x, perrs[comp]);
        int over = 0, outside = 0;
        CU_ASSERT(S[0].ch_x == 2 && S[0].ch_h == 1 && S[1].ch_x == 1); /* signed inputs, ReLU */
        for (int l = 0; l < 2; l++)
            for (int j = 0; j < a->layers[l].n_out; j++) {
                double mags[50];
                unsigned char ch[50];
                bool keep[50];
                int cols = S[l].n_cols, used = 0;
                for (int i = 0; i < cols; i++) {
                    mags[i] = fabs(wat(&a->layers[l], j, i)) * colf(&S[l], &a->layers[l], i);
                    ch[i] = (unsigned char)(i < a->layers[l].n_in ? S[l].ch_x : S[l].ch_h);
                }
                ref_keep(mags, ch, cols, 10, keep);
                for (int i = 0; i < cols; i++)
                    if (wat(&q->layers[l], j, i) != 0) {
                        used += ch[i];
                        outside += !keep[i];
                    }
                over += used > 10;
            }
        CU_ASSERT_EQUAL(over, 0);
        CU_ASSERT_EQUAL(outside, 0);
        snnc_ann_free(q);
        snnc_layer_constraints_free(S, n);
    }
    /* Compensation helps less where a row keeps fewer weights: the
     * recurrent rows keep about 7 of 50 (signed inputs cost two channels;
     * measured 0.673 -> 0.602), the readout 10 of 30 (0.377 -> 0.257). */
    CU_ASSERT(perrs[1][0] < 0.95 * perrs[0][0]);
    CU_ASSERT(perrs[1][1] < 0.8 * perrs[0][1]);
    snnc_tensor_free(x);
    snnc_ann_free(a);
}

/* snnc_q_compensate against the optimal-brain-surgeon update written
 * from its definition (docs/QUANTIZE.md): with G = (H + damp I)^{-1}
 * (damp 1 % of the mean diagonal; inverted here by Gauss-Jordan), round
 * input i, move every later input k (and the bias) by -err G_ik / G_ii, then
 * remove i from G (G -= G_:i G_i: / G_ii).  No Cholesky, no blocking: the
 * library's blocked factorisation must give the same codes.  300 inputs in
 * three groups (more than one block), some weights pruned, and a singular
 * H (fewer samples than inputs) that only the damping makes definite. */
static void test_compensate_vs_obs(void)
{
    enum { ROWS = 12, COLS = 300, N = COLS + 1, SAMPLES = 40, LEVELS = 16 };
    double *X = malloc(sizeof(double) * SAMPLES * N), *H = calloc((size_t)N * N, sizeof *H);
    double *G = calloc((size_t)N * 2 * N, sizeof *G), *Gi = malloc(sizeof(double) * N * N);
    float M[ROWS * COLS], keep[ROWS * COLS], scales[ROWS * 3], Q[ROWS * COLS];
    int8_t codes[ROWS * COLS];
    double bias_delta[ROWS];
    for (int s = 0; s < SAMPLES; s++) {
        double common = tu();
        for (int i = 0; i < COLS; i++)
            X[s * N + i] = tu() * (0.5 + common);
        X[s * N + COLS] = 1;
    }
    for (int s = 0; s < SAMPLES; s++)
        for (int i = 0; i < N; i++)
            for (int k = 0; k < N; k++)
                H[i * N + k] += X[s * N + i] * X[s * N + k] / SAMPLES;
    random_row(M, ROWS * COLS, 1);
    for (int k = 0; k < ROWS * COLS; k++)
        keep[k] = tu() < 0.8 ? M[k] : 0;
    for (int k = 0; k < ROWS * 3; k++)
        scales[k] = (float)(0.1 + 0.1 * tu());
    int starts[] = {0, 100, 200, COLS};
    snnc_q_plan plan = {.levels = LEVELS, .n_groups = 3, .group_start = starts};
    CU_ASSERT_EQUAL_FATAL(snnc_q_compensate(M, ROWS, COLS, &plan, scales, H, keep, codes, Q, bias_delta),
                          SNNC_OK);

    /* G = (H + damp I)^{-1} by Gauss-Jordan on [A | I] (A is definite). */
    double mean = 0;
    for (int i = 0; i < N; i++)
        mean += H[i * N + i] / N;
    for (int i = 0; i < N; i++) {
        for (int k = 0; k < N; k++)
            G[i * 2 * N + k] = H[i * N + k] + (i == k ? 0.01 * mean : 0);
        G[i * 2 * N + N + i] = 1;
    }
    for (int c = 0; c < N; c++) {
        double piv = G[c * 2 * N + c];
        for (int k = 0; k < 2 * N; k++)
            G[c * 2 * N + k] /= piv;
        for (int r = 0; r < N; r++) {
            double f = G[r * 2 * N + c];
            for (int k = 0; r != c && k < 2 * N; k++)
                G[r * 2 * N + k] -= f * G[c * 2 * N + k];
        }
    }
    for (int i = 0; i < N; i++)
        for (int k = 0; k < N; k++)
            Gi[i * N + k] = G[i * 2 * N + N + k];

    double w[ROWS][N];
    for (int j = 0; j < ROWS; j++) {
        for (int i = 0; i < COLS; i++)
            w[j][i] = M[j * COLS + i];
        w[j][COLS] = 0;
    }
    int code_mismatch = 0, q_mismatch = 0;
    for (int i = 0; i < COLS; i++) {
        int g = i < 100 ? 0 : i < 200 ? 1 : 2;
        for (int j = 0; j < ROWS; j++) {
            double s = scales[j * 3 + g], c = 0;
            if (keep[j * COLS + i] != 0)
                c = fmin(fmax(floor(w[j][i] / s + 0.5), code_lo(LEVELS)), code_hi(LEVELS));
            code_mismatch += codes[j * COLS + i] != (int8_t)c;
            q_mismatch += Q[j * COLS + i] != (float)(s * c);
            double err = w[j][i] - s * c;
            for (int k = i + 1; k < N; k++)
                w[j][k] -= err * Gi[i * N + k] / Gi[i * N + i];
        }
        double gii = Gi[i * N + i];
        for (int r = i + 1; r < N; r++)
            for (int k = i + 1; k < N; k++)
                Gi[r * N + k] -= Gi[r * N + i] * Gi[i * N + k] / gii;
    }
    CU_ASSERT_EQUAL(code_mismatch, 0);
    CU_ASSERT_EQUAL(q_mismatch, 0);
    for (int j = 0; j < ROWS; j++)
        SNNC_ASSERT_CLOSE(bias_delta[j], w[j][COLS], 1e-9, 1e-9);
    free(X);
    free(H);
    free(G);
    free(Gi);
}

/* A second-moment matrix with a NaN cannot be factored: the compensation
 * falls back to plain rounding (nearest code, clamped) and leaves the bias. */
static void test_compensate_nonfinite(void)
{
    enum { ROWS = 3, COLS = 4, N = COLS + 1 };
    double H[N * N];
    for (int i = 0; i < N; i++)
        for (int k = 0; k < N; k++)
            H[i * N + k] = i == k ? 2 : 0.5;
    H[1 * N + 2] = H[2 * N + 1] = NAN;
    float M[ROWS * COLS] = {0.31f, -0.52f, 0.07f, 2.9f, -1.3f, 0.26f, 0.49f, -0.11f, 0.0f, 0.74f, -0.35f, 1.01f};
    float scales[ROWS] = {0.2f, 0.25f, 0.1f}, Q[ROWS * COLS];
    int8_t codes[ROWS * COLS];
    double bias_delta[ROWS];
    int starts[] = {0, COLS};
    snnc_q_plan plan = {.levels = 16, .n_groups = 1, .group_start = starts};
    CU_ASSERT_EQUAL_FATAL(snnc_q_compensate(M, ROWS, COLS, &plan, scales, H, NULL, codes, Q, bias_delta), SNNC_OK);
    for (int j = 0; j < ROWS; j++) {
        CU_ASSERT_EQUAL(bias_delta[j], 0);
        for (int i = 0; i < COLS; i++) {
            double c = fmin(fmax(floor(M[j * COLS + i] / scales[j] + 0.5), code_lo(16)), code_hi(16));
            CU_ASSERT_EQUAL(codes[j * COLS + i], (int8_t)c);
            CU_ASSERT_EQUAL(Q[j * COLS + i], (float)(scales[j] * c));
        }
    }
}

/* levels_for_1pct is the threshold: constraining at that many levels gives
 * <= 1 % relative error, one level fewer gives more (small layers are
 * measured exactly); it does not depend on the levels allowed. */
static void test_levels_for_1pct(void)
{
    snnc_ann *a = random_elman(30, 20, 5, 4, SNNC_ACT_RELU);
    snnc_constraints c = defaults();
    snnc_ann *q = NULL;
    snnc_layer_constraints *S = NULL;
    int n = 0;
    snnc_err err = {0};
    CU_ASSERT_EQUAL_FATAL(snnc_constrain(a, &c, NULL, &q, &S, &n, &err), SNNC_OK);
    int need[2] = {S[0].levels_for_1pct, S[1].levels_for_1pct};
    CU_ASSERT(S[0].weight_rel_error > 0.01); /* 16 levels are not enough for 1 % */
    CU_ASSERT(need[0] > 16 && need[0] <= 256);
    snnc_ann_free(q);
    snnc_layer_constraints_free(S, n);
    for (int l = 0; l < 2; l++) {
        c.weight_levels = need[l];
        CU_ASSERT_EQUAL_FATAL(snnc_constrain(a, &c, NULL, &q, &S, &n, &err), SNNC_OK);
        CU_ASSERT(S[l].weight_rel_error <= 0.01);
        CU_ASSERT_EQUAL(S[l].levels_for_1pct, need[l]);
        snnc_ann_free(q);
        snnc_layer_constraints_free(S, n);
        c.weight_levels = need[l] - 1;
        CU_ASSERT_EQUAL_FATAL(snnc_constrain(a, &c, NULL, &q, &S, &n, &err), SNNC_OK);
        CU_ASSERT(S[l].weight_rel_error > 0.01);
        snnc_ann_free(q);
        snnc_layer_constraints_free(S, n);
    }
    snnc_ann_free(a);
}

/* Per-layer scales: one scale for the layer; per-neuron scales do better. */
static void test_scale_modes(void)
{
    snnc_ann *a = random_elman(30, 20, 5, 4, SNNC_ACT_RELU);
    for (int j = 0; j < 20; j++) /* rows of very different magnitudes */
        for (int i = 0; i < 30; i++)
            a->layers[0].W[j * 30 + i] *= (float)(1 + j);
    snnc_constraints c = defaults();
    snnc_ann *q = NULL;
    snnc_layer_constraints *S = NULL;
    int n = 0;
    snnc_err err = {0};
    CU_ASSERT_EQUAL_FATAL(snnc_constrain(a, &c, NULL, &q, &S, &n, &err), SNNC_OK);
    double neuron_err = S[0].weight_rel_error;
    CU_ASSERT_EQUAL(max_reconstruction_error(q, S, n), 0);
    snnc_ann_free(q);
    snnc_layer_constraints_free(S, n);
    c.scale = SNNC_SCALE_LAYER;
    CU_ASSERT_EQUAL_FATAL(snnc_constrain(a, &c, NULL, &q, &S, &n, &err), SNNC_OK);
    int same = 1, G = S[0].n_groups; /* 30 signed inputs + 20 units: 80 channels, 2 groups */
    CU_ASSERT_EQUAL(G, 2);
    for (int j = 1; j < 20; j++)
        for (int g = 0; g < G; g++)
            same &= S[0].scales[j * G + g] == S[0].scales[g];
    CU_ASSERT(same);
    CU_ASSERT(S[0].weight_rel_error > neuron_err);
    CU_ASSERT_EQUAL(max_reconstruction_error(q, S, n), 0);
    snnc_ann_free(q);
    snnc_layer_constraints_free(S, n);
    snnc_ann_free(a);
}

/* Stochastic constraints: the same seed gives the same network. */
static void test_constrain_seeded(void)
{
    snnc_ann *a = random_elman(30, 20, 5, 4, SNNC_ACT_RELU);
    snnc_constraints c = defaults();
    c.rounding = SNNC_ROUND_STOCHASTIC;
    snnc_ann *q[3];
    snnc_err err = {0};
    uint64_t seeds[3] = {7, 7, 8};
    for (int k = 0; k < 3; k++) {
        c.seed = seeds[k];
        CU_ASSERT_EQUAL_FATAL(snnc_constrain(a, &c, NULL, &q[k], NULL, NULL, &err), SNNC_OK);
    }
    CU_ASSERT(memcmp(q[0]->layers[0].W, q[1]->layers[0].W, 30 * 20 * sizeof(float)) == 0);
    CU_ASSERT(memcmp(q[0]->layers[0].U, q[1]->layers[0].U, 20 * 20 * sizeof(float)) == 0);
    CU_ASSERT(memcmp(q[0]->layers[1].W, q[1]->layers[1].W, 5 * 20 * sizeof(float)) == 0);
    CU_ASSERT(memcmp(q[0]->layers[0].W, q[2]->layers[0].W, 30 * 20 * sizeof(float)) != 0);
    for (int k = 0; k < 3; k++)
        snnc_ann_free(q[k]);
    snnc_ann_free(a);
}

/* Activity quantisers: relu 16 counts from 0, tanh a signed pair (31 values
 * with the same step), and the constrained network runs. */
static void test_quantizers_and_run(void)
{
    snnc_ann *a = random_elman(8, 12, 3, 6, SNNC_ACT_TANH);
    snnc_tensor *x = random_input(50, 6, 8);
    snnc_constraints c = defaults();
    snnc_ann *q = NULL;
    snnc_layer_constraints *S = NULL;
    int n = 0;
    snnc_err err = {0};
    CU_ASSERT_EQUAL_FATAL(snnc_constrain(a, &c, x, &q, &S, &n, &err), SNNC_OK);
    const snnc_act_quant *h = &q->layers[0].out_q;
    CU_ASSERT(h->levels == 31 && h->lo == -h->hi && h->hi == S[0].activity_range && h->hi <= 1);
    CU_ASSERT(q->in_q.levels == 31);
    snnc_tensor *y0 = NULL, *y1 = NULL;
    CU_ASSERT_EQUAL(snnc_ann_run(a, x, &y0, NULL, &err), SNNC_OK);
    CU_ASSERT_EQUAL(snnc_ann_run(q, x, &y1, NULL, &err), SNNC_OK);
    double d = 0, s = 0;
    for (int64_t i = 0; y0 && y1 && i < y0->count; i++) {
        d += fabs(snnc_f32(y0)[i] - snnc_f32(y1)[i]);
        s += fabs(snnc_f32(y0)[i]);
    }
    CU_ASSERT(d > 0 && d < 0.3 * s); /* changed, but close */
    snnc_tensor_free(y0);
    snnc_tensor_free(y1);
    snnc_ann_free(q);
    snnc_layer_constraints_free(S, n);
    snnc_tensor_free(x);
    snnc_ann_free(a);
}

/* ------------------------------------------------------------ refusals */

static void test_refusals(void)
{
    snnc_ann *a = random_elman(4, 3, 2, 2, SNNC_ACT_RELU);
    snnc_constraints c = defaults();
    snnc_ann *q = NULL;
    snnc_err err = {0};
    a->layers[0].U[4] = NAN;
    CU_ASSERT_EQUAL(snnc_constrain(a, &c, NULL, &q, NULL, NULL, &err), SNNC_EINVALID);
    CU_ASSERT(strstr(err.msg, "'rnn'") != NULL);
    CU_ASSERT_PTR_NULL(q);
    a->layers[0].U[4] = 0;
    a->layers[1].W[1] = INFINITY;
    snnc_err_clear(&err);
    CU_ASSERT_EQUAL(snnc_constrain(a, &c, NULL, &q, NULL, NULL, &err), SNNC_EINVALID);
    CU_ASSERT(strstr(err.msg, "'fc'") != NULL);
    a->layers[1].W[1] = 0;

    snnc_constraints bad[6];
    for (int k = 0; k < 6; k++)
        bad[k] = c;
    bad[0].weight_levels = 1;
    bad[1].weight_levels = 300;
    bad[2].fan_in = 0;
    bad[3].percentile = 0;
    bad[4].percentile = 100.5;
    bad[5].activity_levels = 1;
    for (int k = 0; k < 6; k++) {
        snnc_err_clear(&err);
        CU_ASSERT_EQUAL(snnc_constrain(a, &bad[k], NULL, &q, NULL, NULL, &err), SNNC_EUSAGE);
    }
    /* A signed input needs two channels: fan-in 1 cannot hold it. */
    c.fan_in = 1;
    snnc_err_clear(&err);
    CU_ASSERT_EQUAL(snnc_constrain(a, &c, NULL, &q, NULL, NULL, &err), SNNC_EUSAGE);
    CU_ASSERT(strstr(err.msg, "'rnn'") != NULL && strstr(err.msg, "two spike channels") != NULL);
    c.fan_in = 64;
    /* Layers out of order. */
    a->layers[1].role = SNNC_ANN_STEP_DENSE;
    snnc_err_clear(&err);
    CU_ASSERT_EQUAL(snnc_constrain(a, &c, NULL, &q, NULL, NULL, &err), SNNC_EINVALID);
    snnc_ann_free(a);
}

/* tanh offset coding (docs/CONVERSION.md §3): 10 signed inputs (2 channels
 * each) + 30 tanh units.  Offset: the units are one channel each, 20 + 30 =
 * 50 channels <= 64, one group (a pair: 20 + 60 = 80, two groups); the
 * quantiser is 16 levels over [-a, a] (pair: 31); an offset-coded column's
 * a_in is the span 2a, so its float weight is s c a_out / (2 a_in): U = s c
 * / 2, the readout's W = s c a_y / (2 a_h); x columns keep s c a_h / a_x.
 * The constrained network's hidden values are on the grid a (2k/15 - 1).
 * The default, auto, is a pair here (the choice needs the spiking stage). */
static void test_tanh_offset_quantiser(void)
{
    const int steps = 4, B = 8;
    snnc_ann *a = random_elman(10, 30, 3, steps, SNNC_ACT_TANH);
    snnc_tensor *x = random_input(B, steps, 10);
    snnc_constraints c = defaults();
    CU_ASSERT_EQUAL(c.tanh_coding, SNNC_TANH_AUTO); /* the default: constrain alone takes it as pair */
    snnc_ann *q = NULL;
    snnc_layer_constraints *S = NULL;
    int n = 0;
    snnc_err err = {0};
    CU_ASSERT_EQUAL_FATAL(snnc_constrain(a, &c, x, &q, &S, &n, &err), SNNC_OK);
    CU_ASSERT(q->layers[0].out_q.levels == 31 && S[0].ch_h == 2 && S[0].n_groups == 2 && !S[0].h_offset);
    snnc_ann_free(q);
    snnc_layer_constraints_free(S, n);

    c.tanh_coding = SNNC_TANH_OFFSET;
    CU_ASSERT_EQUAL_FATAL(snnc_constrain(a, &c, x, &q, &S, &n, &err), SNNC_OK);
    const snnc_act_quant *hq = &q->layers[0].out_q;
    float ah = S[0].activity_range, ax = S[0].in_range, ay = S[1].activity_range;
    CU_ASSERT(hq->levels == 16 && hq->lo == -ah && hq->hi == ah);
    CU_ASSERT(S[0].ch_x == 2 && !S[0].x_offset && S[0].ch_h == 1 && S[0].h_offset);
    CU_ASSERT(S[1].ch_x == 1 && S[1].x_offset && S[1].fan_in_channels == 30);
    CU_ASSERT(S[0].fan_in_channels == 50 && S[0].n_groups == 1);
    int bad = 0;
    for (int j = 0; j < 30; j++)
        for (int i = 0; i < 40; i++) {
            double w = S[0].scales[j] * S[0].codes[j * 40 + i] * (i < 10 ? (double)ah / ax : 0.5);
            bad += fabs(w - wat(&q->layers[0], j, i)) > 1e-5 * fabs(w) + 1e-12;
        }
    for (int j = 0; j < 3; j++)
        for (int i = 0; i < 30; i++) {
            double w = S[1].scales[j] * S[1].codes[j * 30 + i] * (double)ay / (2.0 * ah);
            bad += fabs(w - wat(&q->layers[1], j, i)) > 1e-5 * fabs(w) + 1e-12;
        }
    CU_ASSERT_EQUAL(bad, 0);
    CU_ASSERT_EQUAL(max_reconstruction_error(q, S, n), 0); /* snnc_constraints_colf agrees */
    snnc_tensor *y = NULL, *hid = NULL;
    CU_ASSERT_EQUAL_FATAL(snnc_ann_run(q, x, &y, &hid, &err), SNNC_OK);
    int off_grid = 0;
    for (int64_t k = 0; k < hid->count; k++) {
        double kk = (snnc_f32(hid)[k] / ah + 1) * 7.5;
        off_grid += fabs(kk - floor(kk + 0.5)) > 1e-4;
    }
    CU_ASSERT_EQUAL(off_grid, 0);
    snnc_tensor_free(y);
    snnc_tensor_free(hid);
    snnc_ann_free(q);
    snnc_layer_constraints_free(S, n);
    snnc_tensor_free(x);
    snnc_ann_free(a);
}

static CU_TestInfo tests[] = {
    {"defaults", test_defaults},
    {"tanh offset coding: one channel, 16 levels over [-a, a], span 2a", test_tanh_offset_quantiser},
    {"codes in range, L distinct levels", test_codes_range_and_levels},
    {"optimal scale: hand cases", test_hand_cases},
    {"optimal scale: random rows vs scan and max-abs", test_optimal_scale_random},
    {"error monotone in levels", test_error_monotone_in_levels},
    {"stochastic rounding unbiased", test_stochastic_unbiased},
    {"stochastic rounding seeded", test_stochastic_seeded},
    {"percentile by hand", test_percentile_hand},
    {"activity range from calibration", test_activity_range_calibrated},
    {"range search, hand case", test_range_search_hand},
    {"activity range without data: by hand", test_activity_range_moments_hand},
    {"activity range without data: scipy", test_activity_range_moments},
    {"split fan-in exact in float", test_split_exact},
    {"split fan-in: unsigned sources, one channel", test_split_unsigned},
    {"fan-in groups in channels", test_groups_channels},
    {"prune in channels: by hand, exchange property", test_prune_channels},
    {"prune keeps the F largest", test_prune_keeps_largest},
    {"error compensation", test_compensation},
    {"compensation against the OBS update", test_compensate_vs_obs},
    {"compensation on a non-finite H: plain rounding", test_compensate_nonfinite},
    {"levels for 1 %", test_levels_for_1pct},
    {"per-neuron and per-layer scales", test_scale_modes},
    {"constrain: same seed, same network", test_constrain_seeded},
    {"activity quantisers, constrained run", test_quantizers_and_run},
    {"refusals", test_refusals},
    CU_TEST_INFO_NULL,
};

SNNC_TEST_MAIN("quantize")
