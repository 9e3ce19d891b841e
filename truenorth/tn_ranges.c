/* tn_ranges.c — the ranges of every TrueNorth model parameter and field, one
 * table with the source of each range, and the checks built on it
 * (interface: tn_ranges.h; the table in prose: docs/TRUENORTH_FORMAT.md).
 * Facts: ../shared/reference/truenorth.md ("Widths (unconfirmed, commonly
 * cited)", the neuron model, the CPE file form). */
#include <inttypes.h>
#include <stdio.h>

#include "ir/error.h"
#include "tn_ranges.h"

#define V_HALF ((int64_t)1 << (TN_V_BITS - 1))
#define THRESHOLD_MAX (((int64_t)1 << TN_THRESHOLD_BITS) - 1)

#define SIGN(k) {k, "sign", -1, 1, TN_RANGE_SIGN, "+-1", "truenorth.md: a sign"}
#define WEIGHT(k) {k, "weight", -TN_WEIGHT_MAX, TN_WEIGHT_MAX, TN_RANGE_INT, "9-bit signed", \
                   "truenorth.md widths: s_k and lambda 9-bit signed (-255..255)"}
#define FLAG(k) {k, "flag", 0, 1, TN_RANGE_BOOL, "boolean", "truenorth.md: a mode bit"}
#define WIDTH "truenorth.md widths"

const tn_range tn_ranges[TN_F_COUNT] = {
    [TN_F_SIGMA0] = SIGN("sigma0"), [TN_F_SIGMA1] = SIGN("sigma1"),
    [TN_F_SIGMA2] = SIGN("sigma2"), [TN_F_SIGMA3] = SIGN("sigma3"),
    [TN_F_S0] = WEIGHT("s0"), [TN_F_S1] = WEIGHT("s1"),
    [TN_F_S2] = WEIGHT("s2"), [TN_F_S3] = WEIGHT("s3"),
    [TN_F_B0] = FLAG("b0"), [TN_F_B1] = FLAG("b1"), [TN_F_B2] = FLAG("b2"), [TN_F_B3] = FLAG("b3"),
    [TN_F_SIGMA_LAMBDA] = SIGN("sigma_lambda"),
    [TN_F_LAMBDA] = WEIGHT("lambda"),
    [TN_F_C_LAMBDA] = FLAG("c_lambda"),
    [TN_F_EPSILON] = FLAG("epsilon"),
    [TN_F_ALPHA] = {"alpha", "threshold", 0, THRESHOLD_MAX, TN_RANGE_INT, "18-bit",
                    WIDTH ": alpha, beta, R 18-bit"},
    [TN_F_BETA] = {"beta", "threshold", 0, THRESHOLD_MAX, TN_RANGE_INT, "18-bit",
                   WIDTH ": alpha, beta, R 18-bit"},
    [TN_F_TM] = {"TM", "mask bits", 0, TN_TM_MAX, TN_RANGE_INT, "0..18", WIDTH ": TM 0..18"},
    [TN_F_GAMMA] = {"gamma", "reset mode", 0, 2, TN_RANGE_INT, "0, 1 or 2",
                    "truenorth.md neuron model: reset gamma=0, 1 (linear), 2 (none)"},
    [TN_F_KAPPA] = FLAG("kappa"),
    [TN_F_SIGMA_VR] = SIGN("sigma_VR"),
    [TN_F_VR] = {"VR", "reset exponent", 0, TN_THRESHOLD_BITS, TN_RANGE_INT, "0..18",
                 WIDTH ": R = sigma_VR * (2^VR - 1) is 18-bit"},
    [TN_F_V] = {"V", "potential", -V_HALF, V_HALF - 1, TN_RANGE_INT, "20-bit signed",
                WIDTH ": V 20-bit signed"},
    [TN_F_CORE_ID] = {"id", "core id", 0, INT64_MAX, TN_RANGE_INT, "64-bit",
                      "TRUENORTH_FORMAT.md: CPE numbers cores from 0; negative means off the model"},
    [TN_F_RNG_SEED] = {"rngSeed", "seed", 0, UINT32_MAX, TN_RANGE_INT, "32-bit unsigned",
                       "CPE files write 4294967295"},
    [TN_F_TIME_SCALE] = {"timeScaleExponent", "exponent", INT32_MIN, INT32_MAX, TN_RANGE_INT,
                         "32-bit", "kept, not used"},
    [TN_F_TYPE_NUMBER] = {"types", "type number", 0, UINT32_MAX, TN_RANGE_INT, "32-bit unsigned",
                          "CPE type names N%08X"},
    [TN_F_DENDRITE] = {"dendrites", "dendrite", 0, TN_NEURONS - 1, TN_RANGE_INT, "0..255",
                       "256 neurons (dendrites) per core"},
    [TN_F_DEST_AXON] = {"destAxons", "destination axon", 0, TN_AXONS - 1, TN_RANGE_INT,
                        "0..255", "truenorth.md: 256 axons per core"},
    [TN_F_DEST_DELAY] = {"destDelays", "destination delay", 1, TN_MAX_DELAY, TN_RANGE_INT,
                         "1..15", "truenorth.md: delay is 1..15 ticks"},
    [TN_F_AXON_TYPE] = {"type", "axon type", 0, TN_AXON_TYPES - 1, TN_RANGE_INT, "S0..S3",
                        "truenorth.md: G_i in {0,1,2,3}"},
};

/* Where each type parameter lives in tn_neuron_type. */
static void *type_field(const tn_neuron_type *t, tn_field f, int *is_bool)
{
    tn_neuron_type *w = (tn_neuron_type *)t;
    *is_bool = tn_ranges[f].kind == TN_RANGE_BOOL;
    if (f <= TN_F_SIGMA3)
        return &w->sigma[f - TN_F_SIGMA0];
    if (f <= TN_F_S3)
        return &w->s[f - TN_F_S0];
    if (f <= TN_F_B3)
        return &w->b[f - TN_F_B0];
    switch (f) {
    case TN_F_SIGMA_LAMBDA: return &w->sigma_lambda;
    case TN_F_LAMBDA: return &w->lambda;
    case TN_F_C_LAMBDA: return &w->c_lambda;
    case TN_F_EPSILON: return &w->epsilon;
    case TN_F_ALPHA: return &w->alpha;
    case TN_F_BETA: return &w->beta;
    case TN_F_TM: return &w->TM;
    case TN_F_GAMMA: return &w->gamma;
    case TN_F_KAPPA: return &w->kappa;
    case TN_F_SIGMA_VR: return &w->sigma_VR;
    case TN_F_VR: return &w->VR;
    default: return &w->V; /* TN_F_V */
    }
}
_Static_assert(sizeof(int) == sizeof(int32_t), "int and int32_t fields are read alike");

int64_t tn_type_get(const tn_neuron_type *t, tn_field f)
{
    int is_bool;
    void *p = type_field(t, f, &is_bool);
    return is_bool ? *(bool *)p : *(int32_t *)p;
}

void tn_type_set(tn_neuron_type *t, tn_field f, int64_t v)
{
    int is_bool;
    void *p = type_field(t, f, &is_bool);
    if (is_bool)
        *(bool *)p = v != 0;
    else
        *(int32_t *)p = (int32_t)v;
}

bool tn_range_ok(tn_field f, int64_t v)
{
    const tn_range *r = &tn_ranges[f];
    return v >= r->lo && v <= r->hi && !(r->kind == TN_RANGE_SIGN && v == 0);
}

void tn_range_why(tn_field f, int64_t v, char *buf, size_t size)
{
    const tn_range *r = &tn_ranges[f];
    if (f < TN_F_TYPE_PARAMS)
        snprintf(buf, size, "parameter \"%s\" = %" PRId64 " is out of range (%s: %" PRId64
                 "..%" PRId64 "%s)", r->key, v, r->width, r->lo, r->hi,
                 r->kind == TN_RANGE_SIGN ? ", not 0" : "");
    else if (f >= TN_F_TYPE_NUMBER && f <= TN_F_DEST_DELAY)
        snprintf(buf, size, "%s %" PRId64 " is out of range %" PRId64 "..%" PRId64 " (neurons.%s)",
                 r->what, v, r->lo, r->hi, r->key);
    else
        snprintf(buf, size, "\"%s\" = %" PRId64 " is out of range %" PRId64 "..%" PRId64, r->key,
                 v, r->lo, r->hi);
}

static int refuse(snnc_err *err, const char *name, const char *where, tn_field f, int64_t v)
{
    char why[160];
    tn_range_why(f, v, why, sizeof why);
    return snnc_fail(err, SNNC_EINVALID, "%s%s%s: %s", name ? name : "", name ? ": " : "", where,
                     why);
}

static int check_core(const tn_model *m, const tn_core *c, const char *name, snnc_err *err)
{
    char where[96];
    snprintf(where, sizeof where, "core %" PRId64, c->id);
    if (!tn_range_ok(TN_F_CORE_ID, c->id))
        return refuse(err, name, where, TN_F_CORE_ID, c->id);
    if (c->crossbar < 0 || c->crossbar >= m->n_crossbars)
        return snnc_fail(err, SNNC_EINVALID, "%s%s%s: crossbar index %d is not one of the %d "
                         "prototypes", name ? name : "", name ? ": " : "", where, c->crossbar,
                         m->n_crossbars);
    for (int j = 0; j < TN_NEURONS; j++) {
        int t = c->type[j];
        if (t < -1 || t >= m->n_types)
            return snnc_fail(err, SNNC_EINVALID, "%s%s%s: neuron %d: type index %d is not one of "
                             "the %d neuron types", name ? name : "", name ? ": " : "", where, j, t,
                             m->n_types);
        if (t < 0)
            continue; /* unused: the values are kept as they are */
        const tn_field fs[] = {TN_F_DENDRITE, TN_F_DEST_AXON, TN_F_DEST_DELAY};
        const int64_t vs[] = {c->dendrite[j], c->dest_axon[j], c->dest_delay[j]};
        for (int k = 0; k < 3; k++)
            if (!tn_range_ok(fs[k], vs[k])) {
                snprintf(where, sizeof where, "core %" PRId64 ": neuron %d", c->id, j);
                return refuse(err, name, where, fs[k], vs[k]);
            }
    }
    return SNNC_OK;
}

int tn_model_check(const tn_model *m, const char *name, snnc_err *err)
{
    if (!m || m->n_crossbars < 0 || m->n_types < 0 || m->n_cores < 0 ||
        (m->n_crossbars && !m->crossbars) || (m->n_types && !m->types) ||
        (m->n_cores && !m->cores))
        return snnc_fail(err, SNNC_EINVALID, "%s%smalformed model (counts and arrays disagree)",
                         name ? name : "", name ? ": " : "");
    char where[160];
    for (int i = 0; i < m->n_crossbars; i++)
        for (int a = 0; a < TN_AXONS; a++)
            if (!tn_range_ok(TN_F_AXON_TYPE, m->crossbars[i].axon_type[a])) {
                snprintf(where, sizeof where, "crossbar prototype '%.63s': row %d",
                         m->crossbars[i].name, a);
                return refuse(err, name, where, TN_F_AXON_TYPE, m->crossbars[i].axon_type[a]);
            }
    for (int i = 0; i < m->n_types; i++)
        for (int f = 0; f < TN_F_TYPE_PARAMS; f++) {
            int64_t v = tn_type_get(&m->types[i], (tn_field)f);
            if (!tn_range_ok((tn_field)f, v)) {
                snprintf(where, sizeof where, "neuron type '%.63s'", m->types[i].name);
                return refuse(err, name, where, (tn_field)f, v);
            }
        }
    for (int k = 0; k < m->n_cores; k++) {
        int rc = check_core(m, &m->cores[k], name, err);
        if (rc)
            return rc;
    }
    return SNNC_OK;
}
