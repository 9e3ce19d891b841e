/* tune.c — closed-loop tuning of a matched netlist's readout against the
 * float network (interface: mapper/mapper.h; design: docs/CONVERSION.md §4).
 * Response matching (match.c) fits every neuron open loop; in the running
 * netlist the count noise of each window goes round the recurrence, so the
 * hidden counts of the last window differ from the constrained network's.
 * The readout is linear in those counts (its score is the growth of
 * threshold*count + V: mult_k sum_i code_ki c_i + W leak_k, summed over the
 * populations of a split readout, one per column group), so it can be
 * refitted on the counts the netlist itself produces: the netlist is
 * simulated once on (a subset of) the calibration input, each class's
 * codes are moved by integer coordinate descent and its leak set by least
 * squares so that the scores, times one common factor, approach the float
 * network's logits (centred over the classes: distillation, no labels),
 * with a ridge toward the original codes; absent synapses (code 0) stay
 * absent, so no neuron's fan-in grows.  The result is kept only if a
 * second simulation confirms a lower objective.
 * Objective: min over the factor s of the mean over samples and classes of
 * (s score_c - logit_c)^2, both centred over the classes.
 * Cost: two simulations of at most TUNE_SAMPLES sequences, plus
 * O(rounds * classes * features * samples) for the fit. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ir/error.h"
#include "ir/tensor.h"
#include "mapper.h"

#define TUNE_SAMPLES 512   /* calibration sequences simulated at most (every k-th) */
#define TUNE_LAMBDA 0.3    /* ridge toward the original codes, per unit of input power */
#define TUNE_ROUNDS 20     /* coordinate-descent sweeps per class */
#define TUNE_CODE_MAX 7    /* no new +-8: TrueNorth realises 8 only by negating a neuron's codes */

/* The calibration subset, batch first, and the float network's logits. */
typedef struct tune_data {
    int64_t B;
    int C;
    snnc_tensor *x;        /* [B][steps][features] */
    double *logits;        /* [B][C], centred */
} tune_data;

static void centre(double *v, int C)
{
    double m = 0;
    for (int k = 0; k < C; k++)
        m += v[k];
    for (int k = 0; k < C; k++)
        v[k] -= m / C;
}

static void data_free(tune_data *d)
{
    snnc_tensor_free(d->x);
    free(d->logits);
    memset(d, 0, sizeof *d);
}

/* Every stride-th of the first S * stride sequences of `calib`, batch first. */
static int data_init(tune_data *d, const snnc_ann *a, const snnc_tensor *calib, int C, snnc_err *err)
{
    memset(d, 0, sizeof *d);
    int ba = a->batch_first ? 0 : 1;
    int64_t B = calib->dims[ba], stride = (B + TUNE_SAMPLES - 1) / TUNE_SAMPLES;
    int64_t S = (B + stride - 1) / stride, T = calib->dims[1 - ba], F = calib->dims[2];
    d->B = S;
    d->C = C;
    d->x = snnc_tensor_new(SNNC_F32, 3, (int64_t[]){S, T, F}, err);
    d->logits = malloc((size_t)(S * C) * sizeof *d->logits + 1);
    if (!d->x || !d->logits) {
        data_free(d);
        return snnc_fail(err, SNNC_ENOMEM, "tune: out of memory");
    }
    float *dst = d->x->data;
    for (int64_t s = 0; s < S; s++)
        for (int64_t t = 0; t < T; t++)
            for (int64_t f = 0; f < F; f++) {
                int64_t b = s * stride, src = ba == 0 ? (b * T + t) * F + f : (t * B + b) * F + f;
                dst[(s * T + t) * F + f] = (float)snnc_tensor_get_f(calib, src);
            }
    snnc_ann ab = *a;
    ab.batch_first = true;
    snnc_tensor *out = NULL;
    int rc = snnc_ann_run(&ab, d->x, &out, NULL, err);
    if (!rc && (out->rank != 2 || out->dims[1] != C))
        rc = snnc_fail(err, SNNC_EINVALID, "tune: the network has %lld outputs, the netlist %d classes",
                       (long long)(out->rank == 2 ? out->dims[1] : 0), C);
    for (int64_t k = 0; !rc && k < S * C; k++)
        d->logits[k] = snnc_tensor_get_f(out, k);
    for (int64_t b = 0; !rc && b < S; b++)
        centre(d->logits + b * C, C);
    snnc_tensor_free(out);
    if (rc)
        data_free(d);
    return rc;
}

/* The factor from scores to logits for the refit: least squares with a free
 * constant per class (so it does not depend on the readout's leaks). */
static double refit_scale(const tune_data *d, const snnc_sim_result *r)
{
    double sy = 0, ss = 0;
    for (int k = 0; k < d->C; k++) {
        double ms = 0, my = 0;
        for (int64_t b = 0; b < d->B; b++)
            ms += r->scores[b * r->n_classes + k], my += d->logits[b * d->C + k];
        ms /= (double)d->B, my /= (double)d->B;
        for (int64_t b = 0; b < d->B; b++) {
            double s = r->scores[b * r->n_classes + k] - ms;
            sy += s * (d->logits[b * d->C + k] - my), ss += s * s;
        }
    }
    return ss > 0 ? sy / ss : 0;
}

/* Objective of a simulation's scores (see the top); *scale gets the factor. */
static double objective(const tune_data *d, const snnc_sim_result *r, double *scale)
{
    double sy = 0, ss = 0, yy = 0, *s = malloc((size_t)d->C * sizeof *s);
    if (!s)
        return INFINITY;
    for (int64_t b = 0; b < d->B; b++) {
        memcpy(s, r->scores + b * r->n_classes, (size_t)d->C * sizeof *s);
        centre(s, d->C);
        for (int k = 0; k < d->C; k++) {
            double y = d->logits[b * d->C + k];
            sy += s[k] * y, ss += s[k] * s[k], yy += y * y;
        }
    }
    free(s);
    if (scale)
        *scale = ss > 0 ? sy / ss : 0;
    return (yy - (ss > 0 ? sy * sy / ss : 0)) / (double)(d->B * d->C);
}

/* The readout populations R[0..) (one, or one per column group of a split
 * readout, whose scores add up; each sign +1 with one neuron per class):
 * their number, or 0 when the readout is of another kind. */
static int readout_pops(const snnc_netlist *n, int *R)
{
    int found = 0;
    for (int p = 0; p < n->n_pops; p++)
        if (n->pops[p].role == SNNC_POP_READOUT) {
            if (n->pops[p].sign != 1 || n->pops[p].n != n->n_classes)
                return 0;
            R[found++] = p;
        }
    return found;
}

static bool in_set(const int *R, int nR, int p)
{
    for (int g = 0; g < nR; g++)
        if (R[g] == p)
            return true;
    return false;
}

/* The readout's inputs: every source neuron of every projection into a
 * readout population, with its count in its own last window (which the
 * readout's last window integrates), where its codes are and which readout
 * population reads it. */
typedef struct ro_inputs {
    int F;
    double *x;             /* [B][F] */
    double *sx, *sxx;      /* [F] sums over the samples of x and x^2 */
    int8_t **code;         /* [F] pointer to the code of class 0; class k at + k * stride */
    int *stride;           /* [F] */
    int *pop;              /* [F] the readout population */
} ro_inputs;

static void inputs_free(ro_inputs *f)
{
    free(f->x), free(f->sx), free(f->sxx), free(f->code), free(f->stride), free(f->pop);
    memset(f, 0, sizeof *f);
}

static int inputs_init(ro_inputs *f, const snnc_netlist *n, const int *R, int nR, const snnc_sim_result *r)
{
    memset(f, 0, sizeof *f);
    for (int k = 0; k < n->n_projs; k++)
        if (in_set(R, nR, n->projs[k].dst))
            f->F += n->pops[n->projs[k].src].n;
    int64_t B = r->batch;
    f->x = malloc((size_t)(B * f->F) * sizeof *f->x + 1);
    f->sx = calloc((size_t)f->F + 1, sizeof *f->sx);
    f->sxx = calloc((size_t)f->F + 1, sizeof *f->sxx);
    f->code = malloc(((size_t)f->F + 1) * sizeof *f->code);
    f->stride = malloc(((size_t)f->F + 1) * sizeof *f->stride);
    f->pop = malloc(((size_t)f->F + 1) * sizeof *f->pop);
    if (!f->x || !f->sx || !f->sxx || !f->code || !f->stride || !f->pop)
        return -1;
    for (int k = 0, i = 0; k < n->n_projs; k++) {
        const snnc_projection *pr = &n->projs[k];
        if (!in_set(R, nR, pr->dst))
            continue;
        int ns = n->pops[pr->src].n;
        for (int s = 0; s < ns; s++, i++) {
            f->code[i] = pr->code + s;
            f->stride[i] = ns;
            f->pop[i] = pr->dst;
            for (int64_t b = 0; b < B; b++) {
                double v = r->counts[((size_t)(n->steps - 1) * B + b) * r->n_neurons + r->pop_offset[pr->src] + s];
                f->x[b * f->F + i] = v;
                f->sx[i] += v;
                f->sxx[i] += v * v;
            }
        }
    }
    return 0;
}

/* Does the linear model reproduce the simulated scores exactly? (It does
 * whenever the readout's last window integrates the sources' last window.) */
static bool readout_is_linear(const snnc_netlist *n, const int *R, int nR, const ro_inputs *f,
                              const snnc_sim_result *r)
{
    for (int64_t b = 0; b < r->batch; b++)
        for (int k = 0; k < n->n_classes; k++) {
            double score = 0;
            for (int g = 0; g < nR; g++)
                score += (double)n->window * n->pops[R[g]].leak[k];
            for (int i = 0; i < f->F; i++)
                score += (double)n->pops[f->pop[i]].mult[k] * f->code[i][(size_t)k * f->stride[i]] *
                         f->x[b * f->F + i];
            if (score != r->scores[b * r->n_classes + k])
                return false;
        }
    return true;
}

/* Class k: codes by integer coordinate descent on the centred squared error
 * of logit - sum u_i code_i x_i (a free constant; u_i = scale * mult of
 * class k's neuron in input i's readout population), plus the ridge lambda
 * u_i^2 sum_b x_i^2 (code_i - code0_i)^2, over the synapses present
 * (code0 != 0); returns the constant (in logits). */
static double fit_class(const tune_data *d, const snnc_netlist *n, const ro_inputs *f, int k, double scale,
                        int code_max, double *e, int8_t *code0)
{
    int64_t B = d->B;
    for (int i = 0; i < f->F; i++)
        code0[i] = f->code[i][(size_t)k * f->stride[i]];
    double se = 0, see = 0;
    for (int64_t b = 0; b < B; b++) {
        double a = 0;
        for (int i = 0; i < f->F; i++)
            a += scale * n->pops[f->pop[i]].mult[k] * code0[i] * f->x[b * f->F + i];
        e[b] = d->logits[b * d->C + k] - a;
        se += e[b], see += e[b] * e[b];
    }
    double cur = see - se * se / (double)B;
    for (int round = 0; round < TUNE_ROUNDS; round++) {
        bool changed = false;
        for (int i = 0; i < f->F; i++) {
            int8_t *c = &f->code[i][(size_t)k * f->stride[i]];
            if (f->sxx[i] == 0 || code0[i] == 0) /* no new synapses: fan-in stays within the core's */
                continue;
            double u = scale * n->pops[f->pop[i]].mult[k], sex = 0;
            for (int64_t b = 0; b < B; b++)
                sex += e[b] * f->x[b * f->F + i];
            for (int dir = -1; dir <= 1; dir += 2) {
                int nc = *c + dir;
                if (nc < -code_max || nc > code_max)
                    continue;
                double v = dir * u; /* e' = e - v x_i */
                double se2 = se - v * f->sx[i], see2 = see - 2 * v * sex + v * v * f->sxx[i];
                double sse = see2 - se2 * se2 / (double)B;
                double pen = TUNE_LAMBDA * u * u * f->sxx[i] *
                             ((nc - code0[i]) * (nc - code0[i]) - (*c - code0[i]) * (*c - code0[i]));
                if (sse + pen < cur - 1e-12) {
                    cur = sse;
                    *c = (int8_t)nc;
                    for (int64_t b = 0; b < B; b++)
                        e[b] -= v * f->x[b * f->F + i];
                    se = se2, see = see2;
                    changed = true;
                    break;
                }
            }
        }
        if (!changed)
            break;
    }
    return se / (double)B;
}

/* Refit the readout's codes and leaks on the inputs f of a simulation
 * whose scores map to logits by `scale` (code0, e, bias: work space). */
static void refit_readout(snnc_netlist *n, const int *R, int nR, const tune_data *d, const ro_inputs *f,
                          double scale, int8_t *code0, double *e, double *bias)
{
    int C = n->n_classes;
    int code_max = n->weight_levels >= 4 ? n->weight_levels / 2 - 1 : TUNE_CODE_MAX;
    code_max = code_max > TUNE_CODE_MAX ? TUNE_CODE_MAX : code_max;
    double lo = INFINITY, hi = -INFINITY;
    for (int k = 0; k < C; k++) { /* the leak of each of the nR populations */
        bias[k] = fit_class(d, n, f, k, scale, code_max, e, code0) / (scale * n->window * nR);
        lo = fmin(lo, bias[k]);
        hi = fmax(hi, bias[k]);
    }
    for (int g = 0; g < nR; g++) /* a common offset (no effect on the class): leaks centred in their range */
        for (int k = 0; k < C; k++)
            n->pops[R[g]].leak[k] =
                (int32_t)fmax(-SNNC_LEAK_MAX, fmin(SNNC_LEAK_MAX, floor(bias[k] - (lo + hi) / 2 + 0.5)));
}

/* Copy (save) or restore the readout populations' leaks and incoming codes. */
static void readout_state(snnc_netlist *n, const int *R, int nR, int32_t *leak, int8_t *codes, bool save)
{
    int C = n->n_classes;
    for (int g = 0; g < nR; g++) {
        if (save)
            memcpy(leak + (size_t)g * C, n->pops[R[g]].leak, (size_t)C * sizeof *leak);
        else
            memcpy(n->pops[R[g]].leak, leak + (size_t)g * C, (size_t)C * sizeof *leak);
    }
    size_t off = 0;
    for (int k = 0; k < n->n_projs; k++) {
        if (!in_set(R, nR, n->projs[k].dst))
            continue;
        size_t sz = (size_t)n->pops[n->projs[k].src].n * (size_t)C;
        if (save)
            memcpy(codes + off, n->projs[k].code, sz);
        else
            memcpy(n->projs[k].code, codes + off, sz);
        off += sz;
    }
}

int snnc_tune(snnc_netlist *n, const snnc_ann *a, const snnc_tensor *calib, snnc_err *err)
{
    if (!n || !a || !calib || calib->rank != 3 || calib->dims[a->batch_first ? 0 : 1] < 1)
        return snnc_fail(err, SNNC_EUSAGE, "tune: no netlist, network or calibration data");
    int *R = malloc((size_t)n->n_pops * sizeof *R + 1), nR = R ? readout_pops(n, R) : 0;
    if (!R)
        return snnc_fail(err, SNNC_ENOMEM, "tune: out of memory");
    if (nR == 0 || n->n_classes < 2) {
        free(R);
        return SNNC_OK; /* nothing this pass knows how to tune */
    }
    tune_data d;
    int rc = data_init(&d, a, calib, n->n_classes, err);
    if (rc) {
        free(R);
        return rc;
    }
    snnc_sim_result r = {0}, r2 = {0};
    ro_inputs f = {0};
    double scale = 0, obj0 = INFINITY;
    rc = snnc_netlist_simulate(n, d.x, true, &r, err);
    if (!rc) {
        obj0 = objective(&d, &r, NULL);
        scale = refit_scale(&d, &r);
    }
    if (!rc && inputs_init(&f, n, R, nR, &r))
        rc = snnc_fail(err, SNNC_ENOMEM, "tune: out of memory");
    if (rc || !(scale > 0) || !readout_is_linear(n, R, nR, &f, &r)) {
        inputs_free(&f);
        snnc_sim_result_free(&r);
        data_free(&d);
        free(R);
        return rc;
    }
    int C = n->n_classes;
    int32_t *leak = malloc((size_t)C * (size_t)nR * sizeof *leak);
    int8_t *codes = malloc((size_t)f.F * (size_t)C + 1), *code0 = malloc((size_t)f.F + 1);
    double *e = malloc((size_t)d.B * sizeof *e), *bias = malloc((size_t)C * sizeof *bias);
    if (!leak || !codes || !code0 || !e || !bias)
        rc = snnc_fail(err, SNNC_ENOMEM, "tune: out of memory");
    if (!rc) {
        readout_state(n, R, nR, leak, codes, true);
        refit_readout(n, R, nR, &d, &f, scale, code0, e, bias);
        rc = snnc_netlist_simulate(n, d.x, true, &r2, err);
        if (rc || !(objective(&d, &r2, NULL) < obj0)) /* kept only if it does better */
            readout_state(n, R, nR, leak, codes, false);
    }
    free(R);
    free(leak), free(codes), free(code0), free(e), free(bias);
    inputs_free(&f);
    snnc_sim_result_free(&r);
    snnc_sim_result_free(&r2);
    data_free(&d);
    return rc;
}
