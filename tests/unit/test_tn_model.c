/* test_tn_model.c — unit tests of the TrueNorth model-file reader, writer and
 * description (truenorth/tn_read.c, tn_write.c, tn_describe.c) and of the
 * range table they share with the simulator (tn_ranges.c).  Fixtures in
 * tests/unit/data/truenorth/ (README there): the two real CPE files and
 * multi_core.json, hand-designed (expected values derived from make_fixtures.py).
 * Malformed models are built here from a small valid one-core model text. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "truenorth/tn_model.h"
#include "truenorth/tn_ranges.h"
#include "truenorth/tn_sim.h"

#ifndef TN_FIXTURE_DIR
#define TN_FIXTURE_DIR "tests/unit/data/truenorth"
#endif

/* ------------------------------------------------------------ helpers */

static const char *fixture(const char *name)
{
    static char bufs[4][1024];
    static int next;
    char *b = bufs[next++ % 4];
    const char *env = getenv("SNNC_TN_FIXTURES");
    snprintf(b, sizeof bufs[0], "%s/%s", env ? env : TN_FIXTURE_DIR, name);
    return b;
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = malloc((size_t)n + 1);
    if (s && fread(s, 1, (size_t)n, f) != (size_t)n) {
        free(s);
        s = NULL;
    }
    fclose(f);
    if (s) {
        s[n] = '\0';
        if (len)
            *len = (size_t)n;
    }
    return s;
}

/* Replace every occurrence of `from` by `to` (same length) in place. */
static int replace_same(char *s, const char *from, const char *to)
{
    int n = 0;
    size_t l = strlen(from);
    for (char *p = strstr(s, from); p; p = strstr(p + l, from), n++)
        memcpy(p, to, l);
    return n;
}

static char tmp_dir[64];

static const char *tmp_path(const char *name)
{
    static char b[128];
    if (!tmp_dir[0]) {
        snprintf(tmp_dir, sizeof tmp_dir, "/tmp/snnc_tn_XXXXXX");
        if (!mkdtemp(tmp_dir))
            snprintf(tmp_dir, sizeof tmp_dir, "/tmp");
    }
    snprintf(b, sizeof b, "%s/%s", tmp_dir, name);
    return b;
}

static int count_str(const char *s, const char *needle)
{
    int n = 0;
    for (const char *p = strstr(s, needle); p; p = strstr(p + 1, needle))
        n++;
    return n;
}

/* ------------------------------------------------------------ the small valid model */

static const char *const pkeys[] = {"sigma0", "sigma1", "sigma2", "sigma3", "s0", "s1", "s2",
                                    "s3", "b0", "b1", "b2", "b3", "sigma_lambda", "lambda",
                                    "c_lambda", "epsilon", "alpha", "beta", "TM", "gamma",
                                    "kappa", "sigma_VR", "VR", "V"};
static const char *const pvals[] = {"1", "1", "1", "1", "1", "0", "0", "0", "false", "false",
                                    "false", "false", "-1", "0", "false", "true", "1", "0",
                                    "0", "1", "false", "1", "0", "0"};

typedef struct spec {
    const char *pkey, *pval; /* one neuron-type parameter replaced (pval NULL: left out) */
    int rows;                /* rows of the prototype (0: 256) */
    const char *row5;        /* row 5, a whole {"type", "synapses"} object */
    const char *neurons;     /* the core's "neurons" object */
    const char *xname;       /* the prototype the core names */
    const char *tname;       /* the neuron type's name */
    const char *core_head;   /* members before "neurons" (id, rngSeed, ...) */
    const char *more;        /* top-level text after the first core (starts with ',') */
    const char *types_more;  /* more neuron types (starts with ',') */
    const char *xbars_more;  /* more prototypes (starts with ',') */
    const char *header;      /* the "model" value */
} spec;

static const char default_neurons[] =
    "{\"types\":[\"1x256\"],\"destCores\":[\"-1x256\"],\"destAxons\":[\"0:255\"],"
    "\"destDelays\":[\"1x256\"]}";

static char *hexrow(const char *first, int zeros)
{
    static char b[256];
    snprintf(b, sizeof b, "%s", first);
    for (int i = 0; i < zeros; i++)
        strcat(b, " 00");
    return b;
}

static char *build(const spec *sp)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    fprintf(f, "{\n/* a test model */\n\"model\":%s,\n\"crossbarTypes\":[\n{\"name\":\"%s\",\"crossbar\":{\"rows\":[\n",
            sp->header ? sp->header : "{\"coreCount\":1,\"crossbarSize\":256}", "P1");
    int rows = sp->rows ? sp->rows : 256;
    for (int i = 0; i < rows; i++) {
        if (i == 5 && sp->row5)
            fprintf(f, "%s", sp->row5);
        else
            fprintf(f, "{\"type\":\"S%d\",\"synapses\":\"%s\"}", i % 4, hexrow("00", 31));
        fprintf(f, "%s\n", i + 1 < rows ? "," : "");
    }
    fprintf(f, "]}}%s],\n\"neuronTypes\":[{\"name\":\"%s\",\"class\":\"NeuronGeneral\"",
            sp->xbars_more ? sp->xbars_more : "", sp->tname ? sp->tname : "N00000001");
    for (size_t k = 0; k < sizeof pkeys / sizeof pkeys[0]; k++) {
        bool repl = sp->pkey && !strcmp(sp->pkey, pkeys[k]);
        if (repl && !sp->pval)
            continue;
        fprintf(f, ",\"%s\":%s", pkeys[k], repl ? sp->pval : pvals[k]);
    }
    fprintf(f, "}%s],\n/* the core */\n\"core\":{%s\"neurons\":%s,\"crossbar\":{\"name\":\"%s\"}}%s\n}\n",
            sp->types_more ? sp->types_more : "",
            sp->core_head ? sp->core_head : "\"id\":0,\"rngSeed\":5,\"timeScaleExponent\":0,",
            sp->neurons ? sp->neurons : default_neurons, sp->xname ? sp->xname : "P1",
            sp->more ? sp->more : "");
    fclose(f);
    return text;
}

static int load_text(const char *text, tn_model **m, snnc_err *err)
{
    *err = (snnc_err){0};
    return tn_model_read_buffer(text, strlen(text), "t.json", m, err);
}

static tn_model *load_spec(const spec *sp)
{
    char *text = build(sp);
    snnc_err err;
    tn_model *m = NULL;
    int rc = load_text(text, &m, &err);
    if (rc)
        fprintf(stderr, "\n  unexpected refusal: %s\n", err.msg);
    free(text);
    return m;
}

/* The text is refused with `code`, the message starts with the file name
 * and contains both needles (NULL: not checked). */
static void refused_text(const char *text, int code, const char *n1, const char *n2, int line)
{
    snnc_err err;
    tn_model *m = NULL;
    int rc = load_text(text, &m, &err);
    bool ok = rc == code && m == NULL && !strncmp(err.msg, "t.json: ", 8) &&
              (!n1 || strstr(err.msg, n1)) && (!n2 || strstr(err.msg, n2));
    if (!ok)
        fprintf(stderr, "\n  line %d: rc %d (want %d), message: %s\n", line, rc, code, err.msg);
    CU_ASSERT(ok);
    tn_model_free(m);
}

static void refused_spec(const spec *sp, int code, const char *n1, const char *n2, int line)
{
    char *text = build(sp);
    refused_text(text, code, n1, n2, line);
    free(text);
}
#define REFUSED(sp, n1, n2) refused_spec((sp), SNNC_EINVALID, (n1), (n2), __LINE__)
#define REFUSED_TEXT(t, n1, n2) refused_text((t), SNNC_EINVALID, (n1), (n2), __LINE__)

/* write -> read -> equal; returns the written text (caller frees). */
static char *round_trip(const tn_model *m, const char *name)
{
    const char *path = tmp_path(name);
    snnc_err err = {0};
    int rc = tn_model_write(path, m, &err);
    if (rc)
        fprintf(stderr, "\n  write refused: %s\n", err.msg);
    CU_ASSERT_EQUAL_FATAL(rc, SNNC_OK);
    tn_model *back = NULL;
    rc = tn_model_read(path, &back, &err);
    if (rc)
        fprintf(stderr, "\n  reading back refused: %s\n", err.msg);
    CU_ASSERT_EQUAL_FATAL(rc, SNNC_OK);
    char why[256];
    bool same = tn_model_equal(m, back, why, sizeof why);
    if (!same)
        fprintf(stderr, "\n  round trip differs: %s\n", why);
    CU_ASSERT(same);
    tn_model_free(back);
    char *text = slurp(path, NULL);
    unlink(path);
    return text;
}

/* ------------------------------------------------------------ compressed arrays */

static void test_expand_forms(void)
{
    spec sp = {.neurons = "{\"types\":\"1x256\",\"dendrites\":[\"255:-1:0\"],"
                          "\"destCores\":[5,\"-3:-1\",\"10:3:16\",\"22:-1:20\",\"27:-4:19\","
                          "\"-59x3\",\"7\",\"0:2:5\",\"100x236\"],"
                          "\"destAxons\":[\"0:127\",\"255:-1:128\"],"
                          "\"destDelays\":[\"1:15\",\"15:-1:1\",\"2:-1:1\",\"3x224\"]}"};
    tn_model *m = load_spec(&sp);
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    const tn_core *c = &m->cores[0];
    static const int64_t head[] = {5, -3, -2, -1, 10, 13, 16, 22, 21, 20, 27, 23, 19,
                                   -59, -59, -59, 7, 0, 2, 4};
    for (int j = 0; j < 20; j++)
        CU_ASSERT_EQUAL(c->dest_core[j], head[j]);
    for (int j = 20; j < 256; j++)
        CU_ASSERT_EQUAL(c->dest_core[j], 100);
    for (int j = 0; j < 256; j++) {
        CU_ASSERT_EQUAL(c->dest_axon[j], j < 128 ? j : 255 - (j - 128));
        CU_ASSERT_EQUAL(c->dendrite[j], 255 - j);
        CU_ASSERT_EQUAL(c->type[j], 0);
    }
    CU_ASSERT_EQUAL(c->dest_delay[0], 1);
    CU_ASSERT_EQUAL(c->dest_delay[14], 15);
    CU_ASSERT_EQUAL(c->dest_delay[15], 15);
    CU_ASSERT_EQUAL(c->dest_delay[29], 1);
    CU_ASSERT_EQUAL(c->dest_delay[30], 2);
    CU_ASSERT_EQUAL(c->dest_delay[31], 1);
    CU_ASSERT_EQUAL(c->dest_delay[32], 3);
    CU_ASSERT_EQUAL(c->dest_delay[255], 3);
    /* without "dendrites", neuron j's dendrite is j */
    tn_model_free(m);
    spec plain = {0};
    m = load_spec(&plain);
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    CU_ASSERT_EQUAL(m->cores[0].dendrite[0], 0);
    CU_ASSERT_EQUAL(m->cores[0].dendrite[200], 200);
    tn_model_free(m);
}

static void refused_dest_cores(const char *array, const char *n1, const char *n2, int line)
{
    char neurons[512];
    snprintf(neurons, sizeof neurons,
             "{\"types\":[\"1x256\"],\"destCores\":%s,\"destAxons\":[\"0:255\"],"
             "\"destDelays\":[\"1x256\"]}", array);
    spec sp = {.neurons = neurons};
    refused_spec(&sp, SNNC_EINVALID, n1, n2, line);
}
#define REFUSED_DC(a, n1, n2) refused_dest_cores((a), (n1), (n2), __LINE__)

static void test_expand_errors(void)
{
    REFUSED_DC("[\"3:1\",\"0x255\"]", "core 0 (line", "neurons.destCores[0] \"3:1\": empty range");
    REFUSED_DC("[\"0x255\",\"1:0:5\"]", "neurons.destCores[1]", "step 0");
    REFUSED_DC("[\"5:1:1\",\"0x255\"]", "\"5:1:1\"", "empty range");
    REFUSED_DC("[\"1:-1:5\",\"0x255\"]", "\"1:-1:5\"", "empty range");
    REFUSED_DC("[\"1x0\",\"0x256\"]", "\"1x0\"", "at least 1");
    REFUSED_DC("[\"x3\",\"0x253\"]", "\"x3\"", "expected an integer");
    REFUSED_DC("[\"1x-3\",\"0x253\"]", "\"1x-3\"", "malformed repetition");
    REFUSED_DC("[\"1:2:3:4\",\"0x254\"]", "\"1:2:3:4\"", "malformed range");
    REFUSED_DC("[\"1y2\",\"0x255\"]", "\"1y2\"", "malformed element");
    REFUSED_DC("[\" 12\",\"0x255\"]", "\" 12\"", "expected an integer");
    REFUSED_DC("[\"12 \",\"0x255\"]", "\"12 \"", "malformed element");
    REFUSED_DC("[\"\",\"0x256\"]", "neurons.destCores[0]", "expected an integer");
    REFUSED_DC("[\"99999999999999999999\",\"0x255\"]", "neurons.destCores[0]", "expected an integer");
    REFUSED_DC("[1.5,\"0x255\"]", "neurons.destCores[0]", "expected an integer or a string");
    REFUSED_DC("[true,\"0x255\"]", "neurons.destCores[0]", "expected an integer or a string");
    REFUSED_DC("[\"0x255\"]", "\"neurons.destCores\" expands to 255 entries", "expected 256");
    REFUSED_DC("[]", "expands to 0 entries", NULL);
    REFUSED_DC("[\"0x257\"]", "more than 256 entries", "element 0");
    REFUSED_DC("[\"0x255\",1,2]", "more than 256 entries", "element 2");
    REFUSED_DC("[\"1x99999999999999\"]", "more than 256 entries", NULL);
    REFUSED_DC("[\"0:300\"]", "more than 256 entries", NULL);
    REFUSED_DC("{\"a\":1}", "neurons.destCores[0]", "expected an integer or a string");
    /* every required array; the neurons object itself */
    spec sp = {.neurons = "{\"types\":[\"1x256\"],\"destCores\":[\"-1x256\"],\"destAxons\":[\"0:255\"]}"};
    REFUSED(&sp, "core 0", "missing \"neurons.destDelays\"");
    sp.neurons = "{\"destCores\":[\"-1x256\"],\"destAxons\":[\"0:255\"],\"destDelays\":[\"1x256\"]}";
    REFUSED(&sp, "core 0", "missing \"neurons.types\"");
    sp.neurons = "[1,2]";
    REFUSED(&sp, "core 0", "missing object \"neurons\"");
}

/* ------------------------------------------------------------ crossbar rows */

static void test_hex_rows(void)
{
    char row[320];
    /* 0x0A = 0000 1010: neurons 4 and 6; the last byte 01: neuron 255 */
    snprintf(row, sizeof row, "{\"type\":\"S2\",\"synapses\":\"%s 01\"}", hexrow("0A", 30));
    spec sp = {.row5 = row};
    tn_model *m = load_spec(&sp);
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    const tn_crossbar *x = &m->crossbars[0];
    CU_ASSERT_EQUAL(x->axon_type[5], 2);
    CU_ASSERT_EQUAL(x->axon_type[6], 2); /* 6 % 4 */
    CU_ASSERT_EQUAL(x->axon_type[7], 3);
    int n = 0;
    for (int j = 0; j < 256; j++)
        n += tn_synapse(x, 5, j);
    CU_ASSERT_EQUAL(n, 3);
    CU_ASSERT(tn_synapse(x, 5, 4) && tn_synapse(x, 5, 6) && tn_synapse(x, 5, 255));
    CU_ASSERT(!tn_synapse(x, 4, 4) && !tn_synapse(x, 6, 6));
    tn_model_free(m);
    /* lower case, and bytes written without spaces: a0 = neurons 0 and 2;
     * byte 9 = 0x81: neurons 72 and 79 */
    snprintf(row, sizeof row, "{\"type\":\"S0\",\"synapses\":\"a0000000000000000081%s\"}",
             hexrow("", 22));
    sp.row5 = row;
    m = load_spec(&sp);
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    x = &m->crossbars[0];
    n = 0;
    for (int j = 0; j < 256; j++)
        n += tn_synapse(x, 5, j);
    CU_ASSERT_EQUAL(n, 4);
    CU_ASSERT(tn_synapse(x, 5, 0) && tn_synapse(x, 5, 2) && tn_synapse(x, 5, 72) &&
              tn_synapse(x, 5, 79));
    CU_ASSERT_EQUAL(x->axon_type[5], 0);
    tn_model_free(m);

    snprintf(row, sizeof row, "{\"type\":\"S0\",\"synapses\":\"%s\"}", hexrow("GG", 31));
    sp.row5 = row;
    REFUSED(&sp, "crossbar prototype 'P1'", "row 5: \"synapses\": malformed hex: 'G'");
    snprintf(row, sizeof row, "{\"type\":\"S0\",\"synapses\":\"%s\"}", hexrow("8", 31));
    REFUSED(&sp, "row 5", "odd number of digits");
    snprintf(row, sizeof row, "{\"type\":\"S0\",\"synapses\":\"%s\"}", hexrow("80", 30));
    REFUSED(&sp, "row 5", "has 31 bytes, expected 32");
    snprintf(row, sizeof row, "{\"type\":\"S0\",\"synapses\":\"%s\"}", hexrow("80", 32));
    REFUSED(&sp, "row 5", "has 33 bytes, expected 32");
    snprintf(row, sizeof row, "{\"type\":\"S0\",\"synapses\":\"-0 %s\"}", hexrow("00", 30));
    REFUSED(&sp, "row 5", "malformed hex");
    snprintf(row, sizeof row, "{\"type\":\"S4\",\"synapses\":\"%s\"}", hexrow("00", 31));
    REFUSED(&sp, "row 5: axon \"type\" \"S4\"", "\"S0\"..\"S3\"");
    sp.row5 = "{\"type\":\"S1\",\"synapses\":12}";
    REFUSED(&sp, "row 5", "missing string \"synapses\"");
    sp.row5 = "{\"synapses\":\"00\"}";
    REFUSED(&sp, "row 5", "missing axon \"type\"");
    sp.row5 = "[1]";
    REFUSED(&sp, "row 5", "not an object");
    spec rows = {.rows = 255};
    REFUSED(&rows, "crossbar prototype 'P1' (line 5)", "has 255 rows, expected 256");
    rows.rows = 257;
    REFUSED(&rows, "crossbar prototype 'P1'", "has 257 rows");
}

/* ------------------------------------------------------------ refusals */

static void refused_param(const char *key, const char *val, const char *n2, int line)
{
    spec sp = {.pkey = key, .pval = val};
    char n1[128];
    snprintf(n1, sizeof n1, "neuron type 'N00000001' (line ");
    refused_spec(&sp, SNNC_EINVALID, n1, n2, line);
}
#define REFUSED_P(k, v, n2) refused_param((k), (v), (n2), __LINE__)

static void accepted_param(const char *key, const char *val, int line)
{
    spec sp = {.pkey = key, .pval = val};
    tn_model *m = load_spec(&sp);
    if (!m)
        fprintf(stderr, "  (line %d: %s = %s)\n", line, key, val);
    CU_ASSERT_PTR_NOT_NULL(m);
    tn_model_free(m);
}
#define ACCEPTED_P(k, v) accepted_param((k), (v), __LINE__)

static void test_parameter_widths(void)
{
    REFUSED_P("s0", "256", "parameter \"s0\" = 256 is out of range (9-bit signed: -255..255)");
    REFUSED_P("s3", "-256", "\"s3\" = -256");
    ACCEPTED_P("s2", "255");
    ACCEPTED_P("s2", "-255");
    REFUSED_P("lambda", "256", "\"lambda\" = 256");
    ACCEPTED_P("lambda", "255");
    REFUSED_P("alpha", "262144", "\"alpha\" = 262144 is out of range (18-bit: 0..262143)");
    REFUSED_P("alpha", "-1", "\"alpha\" = -1");
    ACCEPTED_P("alpha", "262143");
    REFUSED_P("beta", "262144", "\"beta\" = 262144");
    REFUSED_P("TM", "19", "\"TM\" = 19");
    ACCEPTED_P("TM", "18");
    REFUSED_P("gamma", "3", "\"gamma\" = 3");
    ACCEPTED_P("gamma", "2");
    REFUSED_P("VR", "19", "\"VR\" = 19");
    REFUSED_P("VR", "-1", "\"VR\" = -1");
    REFUSED_P("V", "524288", "\"V\" = 524288 is out of range (20-bit signed");
    REFUSED_P("V", "-524289", "\"V\" = -524289");
    ACCEPTED_P("V", "-524288");
    ACCEPTED_P("V", "524287");
    REFUSED_P("sigma0", "0", "\"sigma0\" = 0 is out of range (+-1: -1..1, not 0)");
    REFUSED_P("sigma_VR", "2", "\"sigma_VR\" = 2");
    REFUSED_P("sigma_lambda", "-2", "\"sigma_lambda\" = -2");
    REFUSED_P("b0", "2", "\"b0\" = 2");
    REFUSED_P("kappa", "\"yes\"", "parameter \"kappa\" must be true, false, 0 or 1");
    REFUSED_P("alpha", "1.0", "parameter \"alpha\" must be an integer");
    REFUSED_P("alpha", "true", "parameter \"alpha\" must be an integer");
    REFUSED_P("epsilon", NULL, "missing parameter \"epsilon\"");
    ACCEPTED_P("c_lambda", "1");
    ACCEPTED_P("epsilon", "0");
    /* booleans as 0/1 mean the same as false/true */
    spec sp = {.pkey = "b2", .pval = "1"};
    tn_model *m = load_spec(&sp);
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    CU_ASSERT(m->types[0].b[2] && !m->types[0].b[1]);
    tn_model_free(m);
}

/* One range table: for every neuron-type parameter, at the documented bounds
 * (docs/TRUENORTH_FORMAT.md, written out here, not taken from tn_ranges.c)
 * and one past them, the reader, tn_model_check and the simulator give the
 * same verdict; refusals name the type and the parameter.  (The reader used
 * to accept s_k and lambda down to -255 while the simulator refused them.) */
static void test_one_range_table(void)
{
    static const struct {
        const char *key;
        long long lo, hi;
        bool sign; /* -1 or 1 */
    } doc[] = {
        {"sigma0", -1, 1, true},  {"sigma1", -1, 1, true},   {"sigma2", -1, 1, true},
        {"sigma3", -1, 1, true},  {"s0", -255, 255, false},  {"s1", -255, 255, false},
        {"s2", -255, 255, false}, {"s3", -255, 255, false},  {"b0", 0, 1, false},
        {"b1", 0, 1, false},      {"b2", 0, 1, false},       {"b3", 0, 1, false},
        {"sigma_lambda", -1, 1, true}, {"lambda", -255, 255, false}, {"c_lambda", 0, 1, false},
        {"epsilon", 0, 1, false}, {"alpha", 0, 262143, false}, {"beta", 0, 262143, false},
        {"TM", 0, 18, false},     {"gamma", 0, 2, false},    {"kappa", 0, 1, false},
        {"sigma_VR", -1, 1, true}, {"VR", 0, 18, false},     {"V", -524288, 524287, false},
    };
    CU_ASSERT_EQUAL_FATAL(sizeof doc / sizeof doc[0], TN_F_TYPE_PARAMS);
    spec base = {0};
    tn_model *good = load_spec(&base);
    CU_ASSERT_PTR_NOT_NULL_FATAL(good);
    for (size_t i = 0; i < sizeof doc / sizeof doc[0]; i++) {
        CU_ASSERT_STRING_EQUAL(tn_ranges[i].key, doc[i].key);
        long long vals[] = {doc[i].lo - 1, doc[i].lo, 0, doc[i].hi, doc[i].hi + 1};
        for (int k = 0; k < 5; k++) {
            long long v = vals[k];
            bool want = v >= doc[i].lo && v <= doc[i].hi && !(doc[i].sign && v == 0);
            char val[32], needle[96];
            snprintf(val, sizeof val, "%lld", v);
            snprintf(needle, sizeof needle, "parameter \"%s\" = %lld is out of range", doc[i].key, v);
            spec sp = {.pkey = doc[i].key, .pval = val};
            char *text = build(&sp);
            snnc_err err;
            tn_model *m = NULL;
            bool read_ok = load_text(text, &m, &err) == SNNC_OK;
            free(text);
            if (!read_ok)
                CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, needle));
            tn_model_free(m);
            /* the same value in memory: tn_model_check and the simulator */
            tn_neuron_type saved = good->types[0];
            tn_type_set(&good->types[0], (tn_field)i, v);
            bool stored = tn_type_get(&good->types[0], (tn_field)i) == v; /* bools hold 0/1 */
            snnc_err e2 = {0};
            bool check_ok = tn_model_check(good, "m.json", &e2) == SNNC_OK;
            tn_sim *s = NULL;
            snnc_err e3 = {0};
            bool sim_ok = tn_sim_new(good, 1, &s, &e3) == SNNC_OK;
            tn_sim_free(s);
            good->types[0] = saved;
            if (read_ok != want || (stored && (check_ok != want || sim_ok != want)))
                fprintf(stderr, "\n  %s = %lld: want %d, reader %d, check %d, simulator %d (%s)",
                        doc[i].key, v, want, read_ok, check_ok, sim_ok, e3.msg);
            CU_ASSERT_EQUAL(read_ok, want);
            if (!stored)
                continue;
            CU_ASSERT_EQUAL(check_ok, want);
            CU_ASSERT_EQUAL(sim_ok, want);
            if (!check_ok) {
                CU_ASSERT_PTR_NOT_NULL(strstr(e2.msg, "m.json: neuron type 'N00000001': "));
                CU_ASSERT_PTR_NOT_NULL(strstr(e2.msg, needle));
                CU_ASSERT_PTR_NOT_NULL(strstr(e3.msg, "neuron type 'N00000001': "));
                CU_ASSERT_PTR_NOT_NULL(strstr(e3.msg, needle));
            }
        }
    }
    tn_model_free(good);
}

static void test_refusals(void)
{
    spec sp = {.xname = "P9"};
    REFUSED(&sp, "core 0 (line ", "crossbar: undefined crossbar prototype 'P9'");
    /* a neuron type that is not defined: type 2 names N00000002 */
    sp = (spec){.neurons = "{\"types\":[\"1x255\",2],\"destCores\":[\"-1x256\"],"
                           "\"destAxons\":[\"0:255\"],\"destDelays\":[\"1x256\"]}"};
    REFUSED(&sp, "core 0", "neuron 255: undefined neuron type 2 (no type named N00000002)");
    sp.neurons = "{\"types\":[\"1x256\"],\"destCores\":[\"-1x256\"],\"destAxons\":[\"1:256\"],"
                 "\"destDelays\":[\"1x256\"]}";
    REFUSED(&sp, "core 0", "neuron 255: destination axon 256 is out of range 0..255 (neurons.destAxons)");
    sp.neurons = "{\"types\":[\"1x256\"],\"destCores\":[\"-1x256\"],\"destAxons\":[-1,\"1:255\"],"
                 "\"destDelays\":[\"1x256\"]}";
    REFUSED(&sp, "core 0", "neuron 0: destination axon -1 is out of range");
    sp.neurons = "{\"types\":[\"1x256\"],\"destCores\":[\"-1x256\"],\"destAxons\":[\"0:255\"],"
                 "\"destDelays\":[\"1x10\",16,\"1x245\"]}";
    REFUSED(&sp, "core 0", "neuron 10: destination delay 16 is out of range 1..15");
    sp.neurons = "{\"types\":[\"1x256\"],\"destCores\":[\"-1x256\"],\"destAxons\":[\"0:255\"],"
                 "\"destDelays\":[0,\"1x255\"]}";
    REFUSED(&sp, "core 0", "neuron 0: destination delay 0 is out of range 1..15");
    sp.neurons = "{\"types\":[\"1x256\"],\"dendrites\":[\"1:256\"],\"destCores\":[\"-1x256\"],"
                 "\"destAxons\":[\"0:255\"],\"destDelays\":[\"1x256\"]}";
    REFUSED(&sp, "core 0", "neuron 255: dendrite 256 is out of range");
    sp.neurons = "{\"types\":[-1,\"1x255\"],\"destCores\":[\"-1x256\"],\"destAxons\":[\"0:255\"],"
                 "\"destDelays\":[\"1x256\"]}";
    REFUSED(&sp, "core 0", "neuron 0: type number -1 is out of range");
    /* unused neurons (type 0) may hold anything in their destination fields */
    sp.neurons = "{\"types\":[\"0x2\",\"1x254\"],\"destCores\":[\"-1x256\"],"
                 "\"destAxons\":[-5,999,\"0:253\"],\"destDelays\":[0,99,\"1x254\"]}";
    tn_model *m = load_spec(&sp);
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    CU_ASSERT_EQUAL(m->cores[0].type[0], -1);
    CU_ASSERT_EQUAL(m->cores[0].type[2], 0);
    CU_ASSERT_EQUAL(m->cores[0].dest_axon[1], 999);
    CU_ASSERT_EQUAL(m->cores[0].dest_delay[1], 99);
    tn_model_free(m);

    /* core ids */
    sp = (spec){.more = ",\"core\":{\"id\":0,\"neurons\":{\"types\":[\"0x256\"],"
                        "\"destCores\":[\"-1x256\"],\"destAxons\":[\"0x256\"],"
                        "\"destDelays\":[\"1x256\"]},\"crossbar\":{\"name\":\"P1\"}}"};
    REFUSED(&sp, "duplicate core id 0 (cores at lines ", NULL);
    sp = (spec){.core_head = "\"id\":-3,"};
    REFUSED(&sp, "core #0 (line ", "\"id\" = -3 is out of range");
    sp = (spec){.core_head = "\"rngSeed\":1,"};
    REFUSED(&sp, "core #0", "missing \"id\"");
    sp = (spec){.core_head = "\"id\":\"4\","};
    REFUSED(&sp, "core #0", "\"id\" must be an integer");
    sp = (spec){.core_head = "\"id\":4,\"rngSeed\":4294967296,"};
    REFUSED(&sp, "core 4 (line ", "\"rngSeed\" = 4294967296 is out of range 0..4294967295");
    sp = (spec){.core_head = "\"id\":4,\"rngSeed\":-1,"};
    REFUSED(&sp, "core 4", "\"rngSeed\" = -1");
    sp = (spec){.core_head = "\"id\":4,\"rngSeed\":4294967295,"};
    m = load_spec(&sp);
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    CU_ASSERT_EQUAL(m->cores[0].rng_seed, 4294967295u);
    CU_ASSERT_EQUAL(m->cores[0].id, 4);
    CU_ASSERT_PTR_NULL(m->cores[0].metadata_json);
    tn_model_free(m);

    /* libraries */
    sp = (spec){.xbars_more = ",{\"name\":\"P1\",\"crossbar\":{\"rows\":[]}}"};
    REFUSED(&sp, "crossbar prototype 'P1' (line", "has 0 rows");
    sp = (spec){.types_more = ",{\"name\":\"N00000001\",\"sigma0\":1}"};
    REFUSED(&sp, "neuron type 'N00000001'", "missing parameter \"sigma1\"");
    char more[2048];
    snprintf(more, sizeof more, ",{\"name\":\"N1\"");
    for (size_t k = 0; k < sizeof pkeys / sizeof pkeys[0]; k++)
        snprintf(more + strlen(more), sizeof more - strlen(more), ",\"%s\":%s", pkeys[k], pvals[k]);
    strcat(more, "}");
    sp = (spec){.types_more = more};
    REFUSED(&sp, "neuron types 'N00000001' and 'N1' both have the number 1", NULL);
    more[11] = '2'; /* "N1" -> "N2": fine */
    m = load_spec(&sp);
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    CU_ASSERT_EQUAL(m->n_types, 2);
    tn_model_free(m);
    more[11] = '1'; /* back to "N1", and the first type named "N1" too */
    sp = (spec){.tname = "N1"};
    sp.types_more = more;
    REFUSED(&sp, "neuron type 'N1' is defined twice", NULL);
    sp = (spec){.tname = ""};
    REFUSED(&sp, "neuronTypes[0] (line", "\"name\" must have 1 to 63 characters (has 0)");
    sp = (spec){.tname = "N0123456789012345678901234567890123456789012345678901234567890123"};
    REFUSED(&sp, "neuronTypes[0]", "(has 65)");

    /* the header and the form of crossbars */
    sp = (spec){.header = "{\"crossbarSize\":512}"};
    refused_spec(&sp, SNNC_EUNSUPPORTED, "\"model\" (line 3)", "crossbarSize must be 256", __LINE__);
    sp = (spec){.header = "[]"};
    REFUSED(&sp, "\"model\" (line 3)", "must be an object");
    sp = (spec){.more = ",\"model\":{}"};
    REFUSED(&sp, "the key \"model\" appears twice", NULL);
    sp = (spec){.more = ",\"core\":{\"id\":3,\"neurons\":{},\"crossbar\":{\"rows\":[]}}"};
    refused_spec(&sp, SNNC_EUNSUPPORTED, "core 3 (line ", "inline crossbars are not supported",
                 __LINE__);
    sp = (spec){.more = ",\"core\":{\"id\":3,\"neurons\":{}}"};
    REFUSED(&sp, "core 3", "missing \"crossbar\": {\"name\": ...}");
    sp = (spec){.more = ",\"core\":[1]"};
    REFUSED(&sp, "core #1", "a core must be an object");
}

static void test_syntax_errors(void)
{
    REFUSED_TEXT("", "empty file", NULL);
    REFUSED_TEXT("  \n\t ", "empty file", NULL);
    REFUSED_TEXT("hello", "line 1, column 1: expected '{'", "found 'h'");
    REFUSED_TEXT("[1,2]", "expected '{'", "found '['");
    REFUSED_TEXT("\x01\x02", "expected '{'", "found byte 0x01");
    REFUSED_TEXT("{} junk", "line 1, column 4: unexpected text after the model object", NULL);
    REFUSED_TEXT("{}{}", "unexpected text after the model object", NULL);
    REFUSED_TEXT("{\"core\"}", "expected ':' after a key", NULL);
    REFUSED_TEXT("{core:1}", "expected a key string", "found 'c'");
    REFUSED_TEXT("{\"a\":1,}", "expected a key string", "found '}'");
    REFUSED_TEXT("{\"a\":1 \"b\":2}", "expected ',' or '}' after a top-level value", NULL);
    REFUSED_TEXT("{\n\"model\":{\n\"a\":1,,\n}}", "line 3, column", NULL);
    REFUSED_TEXT("{\"model\":{}", "unexpected end of file (truncated?)", NULL);
    REFUSED_TEXT("{\"model\":{\"a\":", "unexpected end of file (truncated?) at line 1", NULL);
    REFUSED_TEXT("{\"crossbarTypes\":[", "unexpected end of file (truncated?)", NULL);
    REFUSED_TEXT("{\"crossbarTypes\":5}", "expected '[' to open the array \"crossbarTypes\"", NULL);
    REFUSED_TEXT("{\"neuronTypes\":[1 2]}", "neuronTypes[0] (line 1)", "must be an object");
    REFUSED_TEXT("{\"a\":1 /* never closed", "line 1: unterminated /* comment", NULL);
    REFUSED_TEXT("{\"a\":\"x\\u0000y\"}", "line 1", NULL);
    /* accepted: empty model, unknown keys of every kind, comments, // comments */
    tn_model *m = NULL;
    snnc_err err;
    CU_ASSERT_EQUAL(load_text("{}", &m, &err), SNNC_OK);
    CU_ASSERT_EQUAL(m->n_cores, 0);
    tn_model_free(m);
    CU_ASSERT_EQUAL(load_text("/* c */ { // x\n \"a\" : 4 , \"b\":\"/* s */\", \"c\":[true,null],"
                              "\"d\":-1.5 /* } */ }\n", &m, &err), SNNC_OK);
    char note[320];
    CU_ASSERT_EQUAL(m->n_unknown_keys, 4); /* "a", "b", "c", "d": counted for a warning */
    CU_ASSERT(tn_model_skipped_keys(m, note, sizeof note));
    CU_ASSERT_PTR_NOT_NULL(strstr(note, "4 keys unknown to snnc skipped (not used, not written "
                                        "back); the first: line 2: top-level key \"a\""));
    tn_model_free(m);
    /* unknown keys inside a type, a prototype, a row, a core, its neurons and crossbar */
    static const char *const where[][4] = { /* replace, by, then the note names both */
        {"\"class\":\"NeuronGeneral\"", "\"class\":\"NeuronGeneral\",\"lamda\":1",
         "neuron type 'N00000001' (line ", "): key \"lamda\""},
        {"{\"name\":\"P1\",", "{\"name\":\"P1\",\"nam\":2,", "crossbar prototype 'P1' (line ",
         "): key \"nam\""},
        {"\"synapses\":", "\"synapse\":0,\"synapses\":", "crossbar prototype 'P1' (line ",
         "): a row: key \"synapse\""},
        {"\"rngSeed\":5,", "\"rngseed\":5,", "core 0 (line ", "): key \"rngseed\""},
        {"\"destDelays\":", "\"destDelay\":1,\"destDelays\":", "core 0 (line ",
         "): \"neurons\": key \"destDelay\""},
        {"{\"name\":\"P1\"}", "{\"name\":\"P1\",\"row\":[]}", "core 0 (line ",
         "): \"crossbar\": key \"row\""},
    };
    spec plain = {0};
    m = load_spec(&plain);
    CU_ASSERT_EQUAL(m ? m->n_unknown_keys : -1, 0);
    tn_model_free(m);
    for (size_t i = 0; i < sizeof where / sizeof where[0]; i++) {
        char *text = build(&plain), *at = strstr(text, where[i][0]);
        CU_ASSERT_PTR_NOT_NULL_FATAL(at);
        char *t2 = malloc(strlen(text) + strlen(where[i][1]) + 1);
        sprintf(t2, "%.*s%s%s", (int)(at - text), text, where[i][1], at + strlen(where[i][0]));
        m = NULL;
        CU_ASSERT_EQUAL(load_text(t2, &m, &err), SNNC_OK);
        bool ok = m && m->n_unknown_keys == 1 && strstr(m->first_unknown_key, where[i][2]) &&
                  strstr(m->first_unknown_key, where[i][3]);
        if (!ok)
            fprintf(stderr, "\n  unknown key %zu: %d, '%s'", i, m ? m->n_unknown_keys : -1,
                    m ? m->first_unknown_key : err.msg);
        CU_ASSERT(ok);
        tn_model_free(m);
        free(t2);
        free(text);
    }
    /* every truncation of a valid model is refused as truncated, never crashes */
    spec sp = {0};
    char *text = build(&sp);
    size_t len = strlen(text), last = len;
    while (last > 0 && text[last - 1] != '}')
        last--;
    int bad = 0;
    for (size_t cut = 0; cut < last; cut += (cut < 800 || cut + 800 > last) ? 1 : 29) {
        char *t = strndup(text, cut);
        int rc = load_text(t, &m, &err);
        if (rc != SNNC_EINVALID || strncmp(err.msg, "t.json: ", 8) ||
            (cut > 0 && !strstr(err.msg, "truncated"))) {
            if (bad++ < 5)
                fprintf(stderr, "\n  cut at %zu: rc %d: %s\n", cut, rc, err.msg);
        }
        tn_model_free(m);
        free(t);
    }
    CU_ASSERT_EQUAL(bad, 0);
    free(text);
}

/* Random mutations of a valid model: every result is refused with a message
 * naming the file, or accepted and then survives write -> read unchanged. */
static void test_mutations(void)
{
    spec sp = {.neurons = "{\"types\":[1,\"0x3\",\"1:1\",\"1x251\"],\"dendrites\":[\"0:255\"],"
                          "\"destCores\":[\"-1x100\",\"3:2:13\",\"0x150\"],"
                          "\"destAxons\":[\"255:-1:0\"],\"destDelays\":[\"1:15\",\"2x241\"]}",
               .core_head = "\"metadata\":{\"k\":[1,2]},\"id\":0,\"rngSeed\":7,"};
    char *base = build(&sp);
    size_t len = strlen(base);
    static const char interesting[] = "{}[]:,\"0123456789-x/*S \n\\aeN";
    uint64_t state = 12345;
    int accepted = 0, refused = 0, bad = 0;
    for (int it = 0; it < 1500; it++) {
        char *t = malloc(len + 64);
        memcpy(t, base, len + 1);
        size_t n = len;
        for (int k = 0; k < 1 + it % 3; k++) {
            state = state * 6364136223846793005ull + 1442695040888963407ull;
            size_t at = (size_t)(state >> 33) % n;
            int op = (int)(state >> 20) % 3;
            if (op == 0) {
                t[at] = interesting[(state >> 8) % (sizeof interesting - 1)];
            } else if (op == 1 && n > 10) {
                size_t cnt = 1 + (state >> 12) % 8;
                if (at + cnt > n)
                    cnt = n - at;
                memmove(t + at, t + at + cnt, n - at - cnt + 1);
                n -= cnt;
            } else {
                memmove(t + at + 1, t + at, n - at + 1);
                t[at] = interesting[(state >> 8) % (sizeof interesting - 1)];
                n++;
            }
        }
        tn_model *m = NULL;
        snnc_err err = {0};
        int rc = tn_model_read_buffer(t, n, "t.json", &m, &err);
        if (rc == SNNC_OK) {
            accepted++;
            char *w = round_trip(m, "mut.json");
            free(w);
        } else {
            refused++;
            if ((rc != SNNC_EINVALID && rc != SNNC_EUNSUPPORTED) || strncmp(err.msg, "t.json: ", 8)) {
                if (bad++ < 5)
                    fprintf(stderr, "\n  mutation %d: rc %d: %s\n", it, rc, err.msg);
            }
        }
        tn_model_free(m);
        free(t);
    }
    CU_ASSERT_EQUAL(bad, 0);
    CU_ASSERT(accepted > 0 && refused > 0);
    free(base);
}

/* ------------------------------------------------------------ the fixtures */

static void test_multi_core_fixture(void)
{
    tn_model *m = NULL;
    snnc_err err = {0};
    int rc = tn_model_read(fixture("multi_core.json"), &m, &err);
    if (rc)
        fprintf(stderr, "\n  %s\n", err.msg);
    CU_ASSERT_EQUAL_FATAL(rc, SNNC_OK);
    CU_ASSERT_EQUAL(m->n_cores, 3);
    CU_ASSERT_EQUAL(m->n_types, 3);
    CU_ASSERT_EQUAL(m->n_crossbars, 2);
    /* make_fixtures.py's unknown keys: "extra", "unknownField", "foo", "colour" */
    CU_ASSERT_EQUAL(m->n_unknown_keys, 4);
    CU_ASSERT_PTR_NOT_NULL(strstr(m->first_unknown_key, "top-level key \"extra\""));
    CU_ASSERT_STRING_EQUAL(m->crossbars[0].name, "protA");
    CU_ASSERT_STRING_EQUAL(m->crossbars[1].name, "protB");
    CU_ASSERT_STRING_EQUAL(m->types[0].name, "N00000003");
    CU_ASSERT_STRING_EQUAL(m->types[1].name, "N00000001");
    CU_ASSERT_STRING_EQUAL(m->types[2].name, "N0000000A");
    CU_ASSERT_EQUAL(m->cores[0].id, 7);
    CU_ASSERT_EQUAL(m->cores[1].id, 0);
    CU_ASSERT_EQUAL(m->cores[2].id, 12);
    CU_ASSERT_EQUAL(tn_model_core_index(m, 7), 0);
    CU_ASSERT_EQUAL(tn_model_core_index(m, 0), 1);
    CU_ASSERT_EQUAL(tn_model_core_index(m, 12), 2);
    CU_ASSERT_EQUAL(tn_model_core_index(m, 5), -1);
    CU_ASSERT_EQUAL(tn_model_core_index(m, -1), -1);
    CU_ASSERT_EQUAL(tn_model_core_index(m, -59), -1);

    /* neuron types: every parameter of N00000001 and N0000000A */
    const tn_neuron_type *t1 = &m->types[1], *ta = &m->types[2], *t3 = &m->types[0];
    CU_ASSERT(t1->sigma[0] == -1 && t1->sigma[1] == 1 && t1->s[0] == 1 && t1->s[1] == 1 &&
              t1->s[2] == 0 && !t1->b[0] && t1->sigma_lambda == 1 && t1->lambda == 0 &&
              !t1->c_lambda && !t1->epsilon && t1->alpha == 1 && t1->beta == 0 && t1->TM == 0 &&
              t1->gamma == 0 && t1->kappa && t1->sigma_VR == -1 && t1->VR == 3 && t1->V == -5);
    CU_ASSERT(ta->s[0] == 7 && ta->s[1] == 255 && ta->s[3] == 1 && ta->b[1] && !ta->b[0] &&
              ta->lambda == 255 && ta->c_lambda && ta->alpha == 10 && ta->beta == 524 &&
              ta->TM == 5 && ta->gamma == 2 && ta->kappa && ta->VR == 18 && ta->V == -524288);
    CU_ASSERT(t3->sigma[1] == -1 && t3->sigma[3] == -1 && t3->s[2] == 255 && t3->alpha == 262143 &&
              t3->beta == 100 && t3->epsilon && t3->gamma == 1 && t3->sigma_lambda == -1);

    /* protA: axon i has type i % 4 and reaches neuron i only */
    const tn_crossbar *pa = &m->crossbars[0], *pb = &m->crossbars[1];
    bool diag = true;
    for (int i = 0; i < 256; i++)
        for (int j = 0; j < 256; j++)
            diag = diag && tn_synapse(pa, i, j) == (i == j);
    CU_ASSERT(diag);
    CU_ASSERT(pa->axon_type[0] == 0 && pa->axon_type[1] == 1 && pa->axon_type[255] == 3);
    /* protB: row 0 all, row 1 neurons 4, 6, 255, row 3 neuron 248 */
    int row_bits[4] = {0};
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 256; j++)
            row_bits[i] += tn_synapse(pb, i, j);
    CU_ASSERT(row_bits[0] == 256 && row_bits[1] == 3 && row_bits[2] == 0 && row_bits[3] == 1);
    CU_ASSERT(tn_synapse(pb, 1, 4) && tn_synapse(pb, 1, 6) && tn_synapse(pb, 1, 255));
    CU_ASSERT(tn_synapse(pb, 3, 248));
    CU_ASSERT(pb->axon_type[127] == 3 && pb->axon_type[128] == 1);

    /* core 7: types "1x100","3x100","10x50","0x6" -> indexes 1, 0, 2, -1 */
    const tn_core *c = &m->cores[0];
    CU_ASSERT(c->crossbar == 0 && c->rng_seed == 4294967295u && c->time_scale_exponent == 0);
    CU_ASSERT(c->type[0] == 1 && c->type[99] == 1 && c->type[100] == 0 && c->type[199] == 0 &&
              c->type[200] == 2 && c->type[249] == 2 && c->type[250] == -1 && c->type[255] == -1);
    CU_ASSERT(c->dest_core[0] == 0 && c->dest_core[127] == 0 && c->dest_core[128] == 12 &&
              c->dest_core[249] == 12 && c->dest_core[250] == -1);
    CU_ASSERT(c->dest_axon[127] == 127 && c->dest_axon[128] == 255 && c->dest_axon[255] == 128);
    CU_ASSERT(c->dest_delay[0] == 1 && c->dest_delay[14] == 15 && c->dest_delay[15] == 15 &&
              c->dest_delay[29] == 1 && c->dest_delay[30] == 2 && c->dest_delay[255] == 2);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c->metadata_json);
    CU_ASSERT_PTR_NOT_NULL(strstr(c->metadata_json, "not a /* comment */ \\\"q\\\""));
    CU_ASSERT_PTR_NOT_NULL(strstr(c->metadata_json, "\"layer\":[1,2]"));
    /* core 0: types [1,3,10,"1:2:3","10x251"] */
    c = &m->cores[1];
    CU_ASSERT(c->crossbar == 1 && c->rng_seed == 12345 && c->metadata_json == NULL);
    CU_ASSERT(c->type[0] == 1 && c->type[1] == 0 && c->type[2] == 2 && c->type[3] == 1 &&
              c->type[4] == 0 && c->type[5] == 2 && c->type[255] == 2);
    for (int j = 0; j < 7; j++)
        CU_ASSERT_EQUAL(c->dest_core[j], -59);
    CU_ASSERT(c->dest_core[7] == 874 && c->dest_core[8] == 7 && c->dest_core[9] == 12 &&
              c->dest_core[10] == 17 && c->dest_core[11] == -1 && c->dest_core[255] == -1);
    static const int ax[] = {22, 21, 20, 27, 23, 19, 0};
    for (int j = 0; j < 7; j++)
        CU_ASSERT_EQUAL(c->dest_axon[j], ax[j]);
    CU_ASSERT(c->dest_delay[9] == 15 && c->dest_delay[10] == 1 && c->dest_delay[11] == 2 &&
              c->dest_delay[12] == 3 && c->dest_delay[13] == 4 && c->dest_delay[255] == 4);
    CU_ASSERT(c->dendrite[251] == 251 && c->dendrite[252] == 252);
    /* core 12: nothing used */
    c = &m->cores[2];
    CU_ASSERT(c->type[0] == -1 && c->type[255] == -1 && c->dest_delay[3] == 0);
    CU_ASSERT_STRING_EQUAL(c->metadata_json, "[1,2]");
    tn_model_free(m);
}

static void test_describe(void)
{
    tn_model *m = NULL;
    snnc_err err = {0};
    CU_ASSERT_EQUAL_FATAL(tn_model_read(fixture("multi_core.json"), &m, &err), SNNC_OK);
    char *text = tn_model_describe_json(m, "multi_core.json", &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(text);
    json_t *d = json_loads(text, 0, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
#define I(o, k) json_integer_value(json_object_get((o), (k)))
    CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(d, "format")), "truenorth");
    CU_ASSERT_EQUAL(I(d, "cores"), 3);
    /* core 7: 250 used, core 0: 256, core 12: none */
    CU_ASSERT_EQUAL(I(d, "neurons"), 506);
    /* protA 256 bits (cores 7 and 12), protB 256 + 3 + 1 (core 0) */
    CU_ASSERT_EQUAL(I(d, "synapses"), 772);
    CU_ASSERT_EQUAL(I(d, "neuron_types"), 3);
    CU_ASSERT_EQUAL(I(d, "crossbar_types"), 2);
    /* N0000000A (b1, c_lambda, TM 5): 50 neurons in core 7, 252 in core 0 */
    CU_ASSERT_EQUAL(I(d, "stochastic_neurons"), 302);
    /* core 7 used 0..249: 1..15, 15..1, then 2 x 220; core 0: 15 x 10, 1, 2, 3, 4 x 243 */
    static const int hist[16] = {0, 3, 223, 3, 245, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 12};
    const json_t *h = json_object_get(d, "delays");
    for (int k = 1; k <= 15; k++) {
        char key[4];
        snprintf(key, sizeof key, "%d", k);
        CU_ASSERT_EQUAL(I(h, key), hist[k]);
    }
    /* core 7's used neurons go to cores 0 and 12; core 0's: -59 x 7, 874, 7, 12, 17, -1 x 245 */
    const json_t *dest = json_object_get(d, "destinations");
    CU_ASSERT_EQUAL(I(dest, "internal"), 250 + 2);
    CU_ASSERT_EQUAL(I(dest, "leaving"), 7 + 1 + 1 + 245);
    const json_t *lc = json_object_get(dest, "leaving_cores");
    CU_ASSERT_EQUAL(json_array_size(lc), 4);
    static const int lcs[4] = {-59, -1, 17, 874};
    for (size_t i = 0; i < 4 && i < json_array_size(lc); i++)
        CU_ASSERT_EQUAL(json_integer_value(json_array_get(lc, i)), lcs[i]);
    CU_ASSERT_EQUAL(I(d, "header_core_count"), 3);
    const json_t *pc = json_object_get(d, "per_core");
    CU_ASSERT_EQUAL_FATAL(json_array_size(pc), 3);
    static const int exp[3][4] = {{7, 250, 256, 0}, {0, 256, 260, 254}, {12, 0, 256, 0}};
    for (size_t k = 0; k < 3; k++) {
        const json_t *o = json_array_get(pc, k);
        CU_ASSERT(I(o, "id") == exp[k][0] && I(o, "neurons") == exp[k][1] &&
                  I(o, "synapses") == exp[k][2] && I(o, "leaving") == exp[k][3]);
    }
    CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(json_array_get(pc, 1), "crossbar")),
                           "protB");
#undef I
    json_decref(d);
    free(text);
    tn_model_free(m);
}

static void test_bootcamp(void)
{
    tn_model *m = NULL;
    snnc_err err = {0};
    int rc = tn_model_read(fixture("BootCampExample11.json"), &m, &err);
    if (rc)
        fprintf(stderr, "\n  %s\n", err.msg);
    CU_ASSERT_EQUAL_FATAL(rc, SNNC_OK);
    CU_ASSERT_EQUAL(m->n_cores, 1);
    CU_ASSERT_EQUAL(m->n_types, 1);
    CU_ASSERT_EQUAL(m->n_crossbars, 1);
    const tn_core *c = &m->cores[0];
    CU_ASSERT(c->id == 0 && c->rng_seed == 4294967295u && c->time_scale_exponent == 0 &&
              c->crossbar == 0);
    CU_ASSERT_STRING_EQUAL(m->crossbars[0].name, "coreProt0000001");
    /* the file: "dendrites":["0:255"], "types":["1x256"], "destCores":["-32x256"],
     * "destAxons":["0:255"], "destDelays":["1x256"] */
    bool ok = true;
    for (int j = 0; j < 256; j++)
        ok = ok && c->type[j] == 0 && c->dendrite[j] == j && c->dest_core[j] == -32 &&
             c->dest_axon[j] == j && c->dest_delay[j] == 1;
    CU_ASSERT(ok);
    /* every row is "S0" and row i is the byte 0x80 >> (i % 8) at byte i / 8 */
    ok = true;
    for (int i = 0; i < 256; i++) {
        ok = ok && m->crossbars[0].axon_type[i] == 0;
        for (int j = 0; j < 256; j++)
            ok = ok && tn_synapse(&m->crossbars[0], i, j) == (i == j);
    }
    CU_ASSERT(ok);
    /* N00000001: sigma 1,1,1,1 s 1,0,0,0, sigma_lambda -1, lambda 0, epsilon true,
     * alpha 1, beta 0, TM 0, gamma 1, kappa false, sigma_VR 1, VR 0, V 0 */
    const tn_neuron_type *t = &m->types[0];
    CU_ASSERT_STRING_EQUAL(t->name, "N00000001");
    CU_ASSERT(t->sigma[0] == 1 && t->sigma[3] == 1 && t->s[0] == 1 && t->s[1] == 0 &&
              !t->b[0] && t->sigma_lambda == -1 && t->lambda == 0 && !t->c_lambda &&
              t->epsilon && t->alpha == 1 && t->beta == 0 && t->TM == 0 && t->gamma == 1 &&
              !t->kappa && t->sigma_VR == 1 && t->VR == 0 && t->V == 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(m->header_json, "\"buildKey64\""));
    CU_ASSERT_PTR_NOT_NULL(strstr(c->metadata_json, "\"coreletClass\":\"BootCampCoreletI\""));
    char *text = tn_model_describe_json(m, "b.json", &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(text);
    json_t *d = json_loads(text, 0, NULL);
    CU_ASSERT_EQUAL(json_integer_value(json_object_get(d, "neurons")), 256);
    CU_ASSERT_EQUAL(json_integer_value(json_object_get(d, "synapses")), 256);
    CU_ASSERT_EQUAL(json_integer_value(json_object_get(json_object_get(d, "destinations"),
                                                       "leaving")), 256);
    json_decref(d);
    free(text);
    tn_model_free(m);
}

static void test_th_small(void)
{
    /* as stored: refused, naming the missing prototype */
    tn_model *m = NULL;
    snnc_err err = {0};
    const char *path = fixture("th_small_test.json");
    int rc = tn_model_read(path, &m, &err);
    CU_ASSERT_EQUAL(rc, SNNC_EINVALID);
    CU_ASSERT_PTR_NULL(m);
    CU_ASSERT_EQUAL(strncmp(err.msg, path, strlen(path)), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "undefined crossbar prototypes"));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "'coreProt0004039' (core 4041, line 621)"));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "'coreProt0000001' (core 0, line 594)"));

    /* with its two prototypes renamed to the names its cores use, it loads:
     * "types" k names the type N%08X of k, not the k-th type of the file */
    size_t len;
    char *text = slurp(path, &len);
    CU_ASSERT_PTR_NOT_NULL_FATAL(text);
    CU_ASSERT_EQUAL(replace_same(text, "coreProt0002603", "coreProt0000001"), 1);
    CU_ASSERT_EQUAL(replace_same(text, "coreProt0003847", "coreProt0004039"), 1);
    err = (snnc_err){0};
    rc = tn_model_read_buffer(text, len, "th.json", &m, &err);
    if (rc)
        fprintf(stderr, "\n  %s\n", err.msg);
    CU_ASSERT_EQUAL_FATAL(rc, SNNC_OK);
    CU_ASSERT_EQUAL(m->n_cores, 2);
    CU_ASSERT_EQUAL(m->n_types, 45);
    const tn_core *c = &m->cores[0];
    /* core 0 "types":[25,28,23,22,24,24,12,22,27,33,...]: 25 = N00000019 (lambda 1,
     * sigma_lambda -1), 33 = N00000021 (lambda 7, sigma_lambda 1) */
    CU_ASSERT_STRING_EQUAL(m->types[c->type[0]].name, "N00000019");
    CU_ASSERT_EQUAL(m->types[c->type[0]].lambda, 1);
    CU_ASSERT_EQUAL(m->types[c->type[0]].sigma_lambda, -1);
    CU_ASSERT_STRING_EQUAL(m->types[c->type[9]].name, "N00000021");
    CU_ASSERT_EQUAL(m->types[c->type[9]].lambda, 7);
    /* "destCores":[874,874,"1130x4",874,...], "destAxons":[66,222,210,...] */
    CU_ASSERT(c->dest_core[0] == 874 && c->dest_core[1] == 874 && c->dest_core[2] == 1130 &&
              c->dest_core[5] == 1130 && c->dest_core[6] == 874);
    CU_ASSERT(c->dest_axon[0] == 66 && c->dest_axon[1] == 222 && c->dest_axon[2] == 210);
    CU_ASSERT(c->type[252] == -1 && c->type[255] == -1 && c->type[251] >= 0);
    /* core 4041: "destCores":["-59x7","-60x64",...,"-1x1"],
     * "destAxons":["231:4:255","3:4:255",...,"0x1"] */
    c = &m->cores[1];
    CU_ASSERT_EQUAL(c->id, 4041);
    CU_ASSERT(c->dest_core[0] == -59 && c->dest_core[6] == -59 && c->dest_core[7] == -60 &&
              c->dest_core[255] == -1);
    CU_ASSERT(c->dest_axon[0] == 231 && c->dest_axon[6] == 255 && c->dest_axon[7] == 3 &&
              c->dest_axon[8] == 7);
    CU_ASSERT(c->type[255] == -1 && c->type[254] >= 0);
    char *w = round_trip(m, "th.json");
    free(w);
    tn_model_free(m);
    free(text);
}

/* ------------------------------------------------------------ writer */

static void test_round_trip_files(void)
{
    static const char *const files[] = {"BootCampExample11.json", "multi_core.json"};
    for (int f = 0; f < 2; f++) {
        tn_model *m = NULL;
        snnc_err err = {0};
        CU_ASSERT_EQUAL_FATAL(tn_model_read(fixture(files[f]), &m, &err), SNNC_OK);
        char *w = round_trip(m, "rt.json");
        CU_ASSERT_PTR_NOT_NULL_FATAL(w);
        /* the CPE form: comments, one "core" key per core, compressed arrays,
         * no negative steps (NeMo reads them as empty ranges) */
        CU_ASSERT_EQUAL(count_str(w, "\"core\":{"), m->n_cores);
        CU_ASSERT_EQUAL(count_str(w, "/* Core parameters */"), m->n_cores);
        CU_ASSERT_EQUAL(count_str(w, "\"model\":{"), 1);
        CU_ASSERT_PTR_NULL(strstr(w, ":-1:"));
        CU_ASSERT_EQUAL(count_str(w, "{\"type\":\"S"), 256 * m->n_crossbars);
        if (f == 0) {
            CU_ASSERT_PTR_NOT_NULL(strstr(w, "\"destCores\":[\"-32x256\"]"));
            CU_ASSERT_PTR_NOT_NULL(strstr(w, "\"destAxons\":[\"0:255\"]"));
            CU_ASSERT_PTR_NOT_NULL(strstr(w, "\"types\":[\"1x256\"]"));
            CU_ASSERT_PTR_NOT_NULL(strstr(w, "\"buildKey64\":"));
            CU_ASSERT_PTR_NOT_NULL(strstr(w, "{\"type\":\"S0\",\"synapses\":\"80 00 00"));
        } else {
            CU_ASSERT_PTR_NOT_NULL(strstr(w, "\"types\":[\"1x100\",\"3x100\",\"10x50\",\"0x6\"]"));
            CU_ASSERT_PTR_NOT_NULL(strstr(w, "\"destDelays\":[\"1:15\",15,14,13"));
            CU_ASSERT_PTR_NOT_NULL(strstr(w, "\"destCores\":[\"-59x7\",874,\"7:5:17\",\"-1x245\"]"));
            CU_ASSERT_PTR_NOT_NULL(strstr(w, "\"coreCount\":3"));
            /* NeMo needs the four corelet keys: added to core 0, which has no
             * metadata; core 12's metadata, an array, stays as it is */
            CU_ASSERT_EQUAL(count_str(w, "\"parentCoreletId\":[-1]"), 2);
            CU_ASSERT_PTR_NOT_NULL(strstr(w, "\"coreletClass\":\"X\""));
            CU_ASSERT_PTR_NOT_NULL(strstr(w, "\"metadata\":[1,2],"));
        }
        free(w);
        tn_model_free(m);
    }
}

static tn_model *hand_model(void)
{
    tn_model *m = calloc(1, sizeof *m);
    m->n_crossbars = 2;
    m->crossbars = calloc(2, sizeof *m->crossbars);
    m->n_types = 2;
    m->types = calloc(2, sizeof *m->types);
    m->n_cores = 2;
    m->cores = calloc(2, sizeof *m->cores);
    uint64_t s = 99;
    for (int x = 0; x < 2; x++) {
        snprintf(m->crossbars[x].name, 64, "xb%d", x);
        for (int i = 0; i < 256; i++) {
            m->crossbars[x].axon_type[i] = (uint8_t)((i * 7 + x) % 4);
            for (int w = 0; w < 4; w++) {
                s = s * 6364136223846793005ull + 1442695040888963407ull;
                m->crossbars[x].row[i][w] = s & (s >> 7) & (s >> 13); /* ~12 % density */
            }
        }
    }
    for (int t = 0; t < 2; t++) {
        tn_neuron_type *ty = &m->types[t];
        snprintf(ty->name, 64, t ? "N00000005" : "N00000002");
        for (int k = 0; k < 4; k++) {
            ty->sigma[k] = k % 2 ? -1 : 1;
            ty->s[k] = 10 * k + t;
            ty->b[k] = t && k == 2;
        }
        ty->sigma_lambda = -1;
        ty->lambda = 3;
        ty->c_lambda = t;
        ty->alpha = 100 + t;
        ty->beta = 7;
        ty->TM = 2 * t;
        ty->gamma = t;
        ty->kappa = !t;
        ty->sigma_VR = 1;
        ty->VR = 4;
        ty->V = -77;
    }
    for (int k = 0; k < 2; k++) {
        tn_core *c = &m->cores[k];
        c->id = k ? 5 : 1000000;
        c->rng_seed = k ? 1u : 4000000000u;
        c->time_scale_exponent = k;
        c->crossbar = k;
        c->metadata_json = k ? NULL : strdup("{\"layer\":\"lstm.0\",\"copies\":[1,2,3]}");
        for (int j = 0; j < 256; j++) {
            c->type[j] = j % 5 == 4 ? -1 : (j / 3) % 2;
            c->dendrite[j] = j;
            c->dest_core[j] = k ? 1000000 : 7 - 3 * j; /* descending: plain integers */
            c->dest_axon[j] = 255 - j;
            c->dest_delay[j] = 1 + j % 15;
            if (c->type[j] < 0) { /* unused: anything */
                c->dest_core[j] = j == 4 ? INT64_MIN : ((int64_t)1 << 60);
                c->dest_axon[j] = -7;
                c->dest_delay[j] = 0;
                c->dendrite[j] = -1;
            }
        }
    }
    return m;
}

static void test_round_trip_built(void)
{
    tn_model *m = hand_model(); /* header_json NULL: the writer writes CPE's usual header */
    char *w = round_trip(m, "built.json");
    CU_ASSERT_PTR_NOT_NULL_FATAL(w);
    CU_ASSERT_PTR_NOT_NULL(strstr(w, "\"coreCount\":2"));
    CU_ASSERT_PTR_NOT_NULL(strstr(w, "\"useCrossbarPrototypes\":true"));
    CU_ASSERT_PTR_NOT_NULL(strstr(w, "\"destDelays\":[\"1:4\",0,\"6:9\",0,\"11:14\",\"0:4\",0,\"6:9\","));
    CU_ASSERT_PTR_NOT_NULL(strstr(w, "-9223372036854775808"));
    CU_ASSERT_PTR_NULL(strstr(w, ":-3:"));
    free(w);

    /* the writer refuses what it could not write unambiguously */
    snnc_err err = {0};
    const char *path = tmp_path("refused.json");
    snprintf(m->types[1].name, 64, "fast");
    CU_ASSERT_EQUAL(tn_model_write(path, m, &err), SNNC_EINVALID);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "uses neuron type 'fast', whose name does not give its number"));
    CU_ASSERT_EQUAL(access(path, F_OK), -1);
    snprintf(m->types[1].name, 64, "N2");
    err = (snnc_err){0};
    CU_ASSERT_EQUAL(tn_model_write(path, m, &err), SNNC_EINVALID);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "both have the number 2"));
    snprintf(m->types[1].name, 64, "N00000005");
    m->types[0].alpha = 1 << 18;
    err = (snnc_err){0};
    CU_ASSERT_EQUAL(tn_model_write(path, m, &err), SNNC_EINVALID);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "neuron type 'N00000002': parameter \"alpha\" = 262144 is out of range (18-bit: 0..262143)"));
    m->types[0].alpha = 5;
    m->cores[1].crossbar = 2;
    err = (snnc_err){0};
    CU_ASSERT_EQUAL(tn_model_write(path, m, &err), SNNC_EINVALID);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "core 5: crossbar index 2"));
    m->cores[1].crossbar = 1;
    m->cores[1].type[0] = 2;
    err = (snnc_err){0};
    CU_ASSERT_EQUAL(tn_model_write(path, m, &err), SNNC_EINVALID);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "core 5: neuron 0: type index 2"));
    m->cores[1].type[0] = 0;
    m->cores[1].dest_delay[0] = 16;
    err = (snnc_err){0};
    CU_ASSERT_EQUAL(tn_model_write(path, m, &err), SNNC_EINVALID);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "core 5: neuron 0: destination delay 16 is out of range 1..15 (neurons.destDelays)"));
    m->cores[1].dest_delay[0] = 1;
    m->cores[1].id = 1000000;
    err = (snnc_err){0};
    CU_ASSERT_EQUAL(tn_model_write(path, m, &err), SNNC_EINVALID);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "duplicate core id 1000000"));
    m->cores[1].id = 5;
    err = (snnc_err){0};
    CU_ASSERT_EQUAL(tn_model_write("/nonexistent-dir/x.json", m, &err), SNNC_EIO);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "/nonexistent-dir/x.json: cannot create"));
    tn_model_free(m);
}

static void test_equal(void)
{
    tn_model *a = NULL, *b = NULL;
    snnc_err err = {0};
    CU_ASSERT_EQUAL_FATAL(tn_model_read(fixture("multi_core.json"), &a, &err), SNNC_OK);
    CU_ASSERT_EQUAL_FATAL(tn_model_read(fixture("multi_core.json"), &b, &err), SNNC_OK);
    char why[256];
    CU_ASSERT(tn_model_equal(a, b, why, sizeof why));
    b->crossbars[1].row[3][0] ^= 1;
    CU_ASSERT(!tn_model_equal(a, b, why, sizeof why));
    CU_ASSERT_PTR_NOT_NULL(strstr(why, "crossbar prototype 1 ('protB')"));
    b->crossbars[1].row[3][0] ^= 1;
    b->cores[2].dest_delay[4] = 9;
    CU_ASSERT(!tn_model_equal(a, b, why, sizeof why));
    CU_ASSERT_PTR_NOT_NULL(strstr(why, "core 12: neuron 4 differs"));
    b->cores[2].dest_delay[4] = 0;
    b->types[2].V = 0;
    CU_ASSERT(!tn_model_equal(a, b, why, sizeof why));
    CU_ASSERT_PTR_NOT_NULL(strstr(why, "neuron type 2 ('N0000000A')"));
    b->types[2].V = a->types[2].V;
    /* a stale coreCount in the header does not count (the writer rewrites it) */
    free(b->header_json);
    b->header_json = strdup("{\"coreCount\":4042,\"neuronclass\":\"NeuronGeneral\",\"crossbarSize\":256,"
                            "\"crossbarclass\":\"CrossbarBinary\",\"networking\":\"INTRA\","
                            "\"useCrossbarPrototypes\":true}");
    CU_ASSERT(tn_model_equal(a, b, why, sizeof why));
    free(b->cores[0].metadata_json);
    b->cores[0].metadata_json = strdup("{}");
    CU_ASSERT(!tn_model_equal(a, b, why, sizeof why));
    CU_ASSERT_PTR_NOT_NULL(strstr(why, "core 7: metadata differs"));
    tn_model_free(a);
    tn_model_free(b);
}

static void test_read_errors(void)
{
    tn_model *m = NULL;
    snnc_err err = {0};
    CU_ASSERT_EQUAL(tn_model_read("/nonexistent/model.json", &m, &err), SNNC_EIO);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "/nonexistent/model.json: cannot open"));
    err = (snnc_err){0};
    CU_ASSERT_EQUAL(tn_model_read("/tmp", &m, &err), SNNC_EIO);
    CU_ASSERT_PTR_NULL(m);
}

static CU_TestInfo tests[] = {
    {"compressed arrays: every form", test_expand_forms},
    {"compressed arrays: refusals", test_expand_errors},
    {"crossbar rows: hex, bit order, refusals", test_hex_rows},
    {"neuron type parameter widths", test_parameter_widths},
    {"refusals naming what is wrong", test_refusals},
    {"syntax errors and truncation", test_syntax_errors},
    {"random mutations: refused or round trip", test_mutations},
    {"hand-written three-core fixture", test_multi_core_fixture},
    {"describe (inspect --json)", test_describe},
    {"BootCampExample11.json loads", test_bootcamp},
    {"th_small_test.json refused; type numbers", test_th_small},
    {"round trip of the files", test_round_trip_files},
    {"round trip of a built model; writer refusals", test_round_trip_built},
    {"one range table: reader, check and simulator agree", test_one_range_table},
    {"tn_model_equal", test_equal},
    {"file errors", test_read_errors},
    CU_TEST_INFO_NULL,
};

SNNC_TEST_MAIN("tn_model")
