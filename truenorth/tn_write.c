/* tn_write.c — writes a tn_model in the form IBM's Corelet Programming
 * Environment writes and NeMo reads (interface: tn_model.h; the format:
 * docs/TRUENORTH_FORMAT.md): comments, the "model" header, crossbarTypes,
 * neuronTypes, then the key "core" repeated once per core with its
 * per-neuron arrays compressed ("vxn" runs, ascending "a:b" / "a:step:b").
 * Also here: tn_model_equal, which compares headers as this writer writes them. */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ir/error.h"
#include "tn_model.h"
#include "tn_ranges.h"

/* Values a compressed-array string may hold (the reader's limit). */
#define TN_ARRAY_VALUE_MAX ((int64_t)1 << 53)

/* The number a core's "types" entry uses for a neuron type: its name is
 * "N" + 1..8 hex digits (CPE writes N%08X); -1 when the name is not of that form. */
static int64_t type_number(const char *name)
{
    size_t n = strnlen(name, 64);
    if (name[0] != 'N' || n < 2 || n > 9)
        return -1;
    int64_t v = 0;
    for (size_t i = 1; i < n; i++) {
        char c = name[i];
        int d = c >= '0' && c <= '9'   ? c - '0'
                : c >= 'a' && c <= 'f' ? c - 'a' + 10
                : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                       : -1;
        if (d < 0)
            return -1;
        v = v * 16 + d;
    }
    return v;
}

/* The "model" header as written: the model's own header (or CPE's usual
 * one) with coreCount set to the number of cores, the keys NeMo requires
 * filled in when absent, and useCrossbarPrototypes true (this writer always
 * uses prototypes). NULL when header_json is not a JSON object. */
static json_t *written_header(const tn_model *m)
{
    json_t *h = m->header_json ? json_loads(m->header_json, 0, NULL) : json_object();
    if (!json_is_object(h)) {
        json_decref(h);
        return NULL;
    }
    json_object_set_new(h, "coreCount", json_integer(m->n_cores));
    if (!json_object_get(h, "neuronclass"))
        json_object_set_new(h, "neuronclass", json_string("NeuronGeneral"));
    if (!json_object_get(h, "crossbarSize"))
        json_object_set_new(h, "crossbarSize", json_integer(TN_NEURONS));
    if (!json_object_get(h, "crossbarclass"))
        json_object_set_new(h, "crossbarclass", json_string("CrossbarBinary"));
    if (!json_object_get(h, "networking"))
        json_object_set_new(h, "networking", json_string("INTRA"));
    json_object_set_new(h, "useCrossbarPrototypes", json_true());
    return h;
}

/* A core's "metadata" as written: NeMo's reader needs coreletClass,
 * coreletId, coreNumber and parentCoreletId, so an object gets those it
 * lacks (values as CPE writes them for a top-level corelet) and a core
 * without metadata gets an object of just these; any other JSON value is
 * written as it is.  k: the core's position in the file. NULL when
 * metadata_json is not JSON. */
static json_t *written_metadata(const tn_core *c, int k)
{
    json_t *md = c->metadata_json ? json_loads(c->metadata_json, JSON_DECODE_ANY, NULL)
                                  : json_object();
    if (!json_is_object(md))
        return md;
    if (!json_object_get(md, "coreletClass"))
        json_object_set_new(md, "coreletClass", json_string("snnc"));
    if (!json_object_get(md, "coreletId"))
        json_object_set_new(md, "coreletId", json_integer(0));
    if (!json_object_get(md, "coreNumber"))
        json_object_set_new(md, "coreNumber", json_integer(k));
    if (!json_object_get(md, "parentCoreletId"))
        json_object_set_new(md, "parentCoreletId", json_pack("[i]", -1));
    return md;
}

/* ------------------------------------------------------------ checks */

static bool good_name(const char *name)
{
    size_t n = strnlen(name, 64);
    if (n == 0 || n >= 64)
        return false;
    json_t *s = json_string(name); /* NULL unless valid UTF-8 */
    json_decref(s);
    return s != NULL;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Names unique (sorted copy of the pointers); what names the list. */
static int unique_names(const char *path, const char **v, int n, const char *what, snnc_err *err)
{
    qsort(v, (size_t)n, sizeof *v, cmp_str);
    for (int i = 1; i < n; i++)
        if (!strcmp(v[i - 1], v[i]))
            return snnc_fail(err, SNNC_EINVALID, "%s: %s '%s' is defined twice", path, what, v[i]);
    return SNNC_OK;
}

static int check_libraries(const char *path, const tn_model *m, int64_t *num, snnc_err *err)
{
    int n = m->n_crossbars > m->n_types ? m->n_crossbars : m->n_types;
    const char **names = malloc(((size_t)n + 1) * sizeof *names);
    if (!names)
        return snnc_fail(err, SNNC_ENOMEM, "%s: out of memory", path);
    int rc = SNNC_OK;
    for (int i = 0; i < m->n_crossbars && !rc; i++) {
        names[i] = m->crossbars[i].name;
        if (!good_name(names[i]))
            rc = snnc_fail(err, SNNC_EINVALID, "%s: crossbar prototype %d: the name must be 1 to "
                           "63 bytes of UTF-8", path, i);
    }
    if (!rc)
        rc = unique_names(path, names, m->n_crossbars, "crossbar prototype", err);
    for (int i = 0; i < m->n_types && !rc; i++) {
        names[i] = m->types[i].name;
        num[i] = type_number(names[i]);
        if (!good_name(names[i]))
            rc = snnc_fail(err, SNNC_EINVALID, "%s: neuron type %d: the name must be 1 to 63 "
                           "bytes of UTF-8", path, i);
    }
    if (!rc)
        rc = unique_names(path, names, m->n_types, "neuron type", err);
    free(names);
    int64_t (*sorted)[2] = rc ? NULL : malloc(((size_t)m->n_types + 1) * sizeof *sorted);
    if (!rc && !sorted)
        return snnc_fail(err, SNNC_ENOMEM, "%s: out of memory", path);
    int n_num = 0;
    for (int i = 0; i < m->n_types && !rc; i++)
        if (num[i] > 0) {
            sorted[n_num][0] = num[i];
            sorted[n_num++][1] = i;
        }
    if (!rc)
        qsort(sorted, (size_t)n_num, sizeof *sorted, cmp_i64); /* by number */
    for (int i = 1; i < n_num && !rc; i++)
        if (sorted[i - 1][0] == sorted[i][0])
            rc = snnc_fail(err, SNNC_EINVALID, "%s: neuron types '%s' and '%s' both have "
                           "the number %lld", path, m->types[sorted[i - 1][1]].name,
                           m->types[sorted[i][1]].name, (long long)sorted[i][0]);
    free(sorted);
    return rc;
}

/* What the writer needs beyond the ranges (tn_model_check): metadata that is
 * JSON, and a number in the name of every type a core uses. */
static int check_core(const char *path, const tn_model *m, const tn_core *c, const int64_t *num,
                      snnc_err *err)
{
    if (c->metadata_json) {
        json_t *md = json_loads(c->metadata_json, JSON_DECODE_ANY, NULL);
        json_decref(md);
        if (!md)
            return snnc_fail(err, SNNC_EINVALID, "%s: core %lld: metadata is not valid JSON",
                             path, (long long)c->id);
    }
    for (int j = 0; j < TN_NEURONS; j++) {
        int t = c->type[j];
        if (t < 0)
            continue;
        if (num[t] <= 0 || num[t] > (int64_t)UINT32_MAX)
            return snnc_fail(err, SNNC_EINVALID, "%s: core %lld: neuron %d uses neuron type '%s', "
                             "whose name does not give its number: cores refer to types by "
                             "number k, the type named N%%08X of k (k >= 1)",
                             path, (long long)c->id, j, m->types[t].name);
    }
    return SNNC_OK;
}

static int check_model(const char *path, const tn_model *m, int64_t *num, snnc_err *err)
{
    int rc = tn_model_check(m, path, err); /* the reader's ranges (tn_ranges.c) */
    if (!rc)
        rc = check_libraries(path, m, num, err);
    for (int k = 0; k < m->n_cores && !rc; k++)
        rc = check_core(path, m, &m->cores[k], num, err);
    if (rc)
        return rc;
    int64_t *ids = malloc(((size_t)m->n_cores + 1) * sizeof *ids);
    if (!ids)
        return snnc_fail(err, SNNC_ENOMEM, "%s: out of memory", path);
    for (int k = 0; k < m->n_cores; k++)
        ids[k] = m->cores[k].id;
    qsort(ids, (size_t)m->n_cores, sizeof *ids, cmp_i64);
    for (int k = 1; k < m->n_cores && !rc; k++)
        if (ids[k - 1] == ids[k])
            rc = snnc_fail(err, SNNC_EINVALID, "%s: duplicate core id %lld", path,
                           (long long)ids[k]);
    free(ids);
    return rc;
}

/* ------------------------------------------------------------ output */

static void put_json(FILE *f, const json_t *v)
{
    char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    fputs(s ? s : "null", f);
    free(s);
}

static void put_str(FILE *f, const char *s)
{
    json_t *v = json_string(s);
    put_json(f, v);
    json_decref(v);
}

static bool small(int64_t x)
{
    return x >= -TN_ARRAY_VALUE_MAX && x <= TN_ARRAY_VALUE_MAX;
}

/* 256 values as CPE compresses them: runs of 3 or more equal values as
 * "vxn", ascending progressions of 3 or more as "a:b" (step 1) or
 * "a:step:b", anything else as plain integers.  Descending progressions
 * are written as plain integers: NeMo's reader reads negative steps as
 * empty ranges. */
static void put_array(FILE *f, const int64_t *v, int n)
{
    fputc('[', f);
    for (int i = 0; i < n;) {
        int run = 1, prog = 1;
        int64_t d = 0;
        if (small(v[i])) {
            while (i + run < n && v[i + run] == v[i])
                run++;
            if (i + 1 < n && small(v[i + 1]) && v[i + 1] > v[i]) {
                d = v[i + 1] - v[i];
                prog = 2;
                while (i + prog < n && small(v[i + prog]) && v[i + prog] - v[i + prog - 1] == d)
                    prog++;
            }
        }
        if (i)
            fputc(',', f);
        if (run >= 3 && run >= prog) {
            fprintf(f, "\"%lldx%d\"", (long long)v[i], run);
            i += run;
        } else if (prog >= 3 && d == 1) {
            fprintf(f, "\"%lld:%lld\"", (long long)v[i], (long long)v[i + prog - 1]);
            i += prog;
        } else if (prog >= 3) {
            fprintf(f, "\"%lld:%lld:%lld\"", (long long)v[i], (long long)d,
                    (long long)v[i + prog - 1]);
            i += prog;
        } else {
            fprintf(f, "%lld", (long long)v[i]);
            i++;
        }
    }
    fputc(']', f);
}

static void put_object_lines(FILE *f, const json_t *obj, const char *indent)
{
    const char *key;
    const json_t *val;
    bool first = true;
    json_object_foreach((json_t *)obj, key, val) {
        fprintf(f, "%s%s", first ? "" : ",\n", indent);
        put_str(f, key);
        fputc(':', f);
        put_json(f, val);
        first = false;
    }
}

static void put_crossbar(FILE *f, const tn_crossbar *x, bool last)
{
    fputs("\t\t{\n\t\t\t\"name\":", f);
    put_str(f, x->name);
    fputs(",\n\t\t\t\"crossbar\":{\n\t\t\t/* Row parameters */\n\t\t\t\"rows\":[\n"
          "\t\t\t\t/* Parameters */\n", f);
    static const char hex[] = "0123456789ABCDEF";
    for (int i = 0; i < TN_AXONS; i++) {
        char line[3 * TN_NEURONS / 8];
        for (int b = 0; b < TN_NEURONS / 8; b++) {
            /* byte b holds neurons 8b..8b+7, neuron 8b in the most significant bit */
            unsigned bits = (unsigned)(x->row[i][b / 8] >> (8 * (b % 8))) & 0xffu, byte = 0;
            for (int k = 0; k < 8; k++)
                byte |= ((bits >> k) & 1u) << (7 - k);
            line[3 * b] = hex[byte >> 4];
            line[3 * b + 1] = hex[byte & 15];
            line[3 * b + 2] = ' ';
        }
        line[sizeof line - 1] = '\0';
        fprintf(f, "\t\t\t\t {\"type\":\"S%d\",\"synapses\":\"%s\"}%s\n", x->axon_type[i], line,
                i + 1 < TN_AXONS ? "," : "");
    }
    fprintf(f, "\t\t\t]\n\t\t}\n\t}%s\n", last ? "" : ",");
}

static void put_type(FILE *f, const tn_neuron_type *t, bool last)
{
#define B(x) ((x) ? "true" : "false")
    fputs("\t\t{\"name\":", f);
    put_str(f, t->name);
    fputs(",\"class\":\"NeuronGeneral\"", f);
    for (int k = 0; k < TN_AXON_TYPES; k++)
        fprintf(f, ",\"sigma%d\":%d", k, t->sigma[k]);
    for (int k = 0; k < TN_AXON_TYPES; k++)
        fprintf(f, ",\"s%d\":%d", k, t->s[k]);
    for (int k = 0; k < TN_AXON_TYPES; k++)
        fprintf(f, ",\"b%d\":%s", k, B(t->b[k]));
    fprintf(f, ",\"sigma_lambda\":%d,\"lambda\":%d,\"c_lambda\":%s,\"epsilon\":%s,\"alpha\":%d,"
               "\"beta\":%d,\"TM\":%d,\"gamma\":%d,\"kappa\":%s,\"sigma_VR\":%d,\"VR\":%d,"
               "\"V\":%d}%s\n",
            t->sigma_lambda, t->lambda, B(t->c_lambda), B(t->epsilon), (int)t->alpha,
            (int)t->beta, t->TM, t->gamma, B(t->kappa), t->sigma_VR, t->VR, (int)t->V,
            last ? "" : ",");
#undef B
}

static void put_core(FILE *f, const tn_model *m, int k, const int64_t *num)
{
    const tn_core *c = &m->cores[k];
    fputs("\t/* Core parameters */\n\t\"core\":{\n", f);
    json_t *md = written_metadata(c, k);
    fputs("\t\t\"metadata\":", f);
    if (json_is_object(md) && json_object_size(md)) {
        fputs("{\n", f);
        put_object_lines(f, md, "\t\t\t");
        fputs("\n\t\t},\n", f);
    } else {
        put_json(f, md);
        fputs(",\n", f);
    }
    json_decref(md);
    fprintf(f, "\t\t\"id\":%lld,\n\t\t\"timeScaleExponent\":%d,\n\t\t\"rngSeed\":%lu,\n",
            (long long)c->id, c->time_scale_exponent, (unsigned long)c->rng_seed);
    fputs("\t\t/* Core neuron connectivity parameters */\n\t\t\"neurons\":{\n"
          "\t\t\t/* Parameters */\n", f);
    int64_t v[TN_NEURONS];
    static const char *const fields[] = {"dendrites", "types", "destCores", "destAxons",
                                         "destDelays"};
    for (int fi = 0; fi < 5; fi++) {
        for (int j = 0; j < TN_NEURONS; j++)
            v[j] = fi == 0   ? c->dendrite[j]
                   : fi == 1 ? (c->type[j] < 0 ? 0 : num[c->type[j]])
                   : fi == 2 ? c->dest_core[j]
                   : fi == 3 ? c->dest_axon[j]
                             : c->dest_delay[j];
        fprintf(f, "\t\t\t\"%s\":", fields[fi]);
        put_array(f, v, TN_NEURONS);
        fputs(fi < 4 ? ",\n" : "\n", f);
    }
    fputs("\t\t},\n\t\t/* Core crossbar parameters */\n\t\t\"crossbar\":{\n\t\t\t\"name\":", f);
    put_str(f, m->crossbars[c->crossbar].name);
    fprintf(f, "\n\t\t}\n\t}%s\n", k + 1 < m->n_cores ? "," : "");
}

static void put_model(FILE *f, const tn_model *m, const json_t *header, const int64_t *num)
{
    fputs("{\n\t/* General model parameters */\n\t\"model\":{\n", f);
    put_object_lines(f, header, "\t\t");
    fputs("\n\t},\n\t/* Crossbar type library */\n\t\"crossbarTypes\":[\n", f);
    for (int i = 0; i < m->n_crossbars; i++)
        put_crossbar(f, &m->crossbars[i], i + 1 == m->n_crossbars);
    fputs("\t],\n\t/* Neuron type library */\n\t\"neuronTypes\":[\n", f);
    for (int i = 0; i < m->n_types; i++)
        put_type(f, &m->types[i], i + 1 == m->n_types);
    fprintf(f, "\t]%s\n", m->n_cores ? "," : "");
    for (int k = 0; k < m->n_cores; k++)
        put_core(f, m, k, num);
    fputs("}\n", f);
}

int tn_model_write(const char *path, const tn_model *m, snnc_err *err)
{
    if (!path || !m)
        return snnc_fail(err, SNNC_EUSAGE, "tn_model_write: no path or model given");
    int64_t *num = malloc(((size_t)(m->n_types > 0 ? m->n_types : 0) + 1) * sizeof *num);
    if (!num)
        return snnc_fail(err, SNNC_ENOMEM, "%s: out of memory", path);
    int rc = check_model(path, m, num, err);
    json_t *header = rc ? NULL : written_header(m);
    if (!rc && !header)
        rc = snnc_fail(err, SNNC_EINVALID, "%s: the model header is not a JSON object", path);
    FILE *f = rc ? NULL : fopen(path, "w");
    if (!rc && !f)
        rc = snnc_fail(err, SNNC_EIO, "%s: cannot create: %s", path, strerror(errno));
    if (f) {
        put_model(f, m, header, num);
        bool bad = ferror(f) != 0;
        int e = errno;
        if (fclose(f) != 0 && !bad) {
            bad = true;
            e = errno;
        }
        if (bad) {
            rc = snnc_fail(err, SNNC_EIO, "%s: cannot write: %s", path, strerror(e));
            remove(path);
        }
    }
    json_decref(header);
    free(num);
    return rc;
}

/* ------------------------------------------------------------ equality */

#define DIFF(...) (snprintf(why, why_size, __VA_ARGS__), false)

static bool same_json(const char *a, const char *b)
{
    if (!a || !b)
        return !a && !b;
    json_t *x = json_loads(a, JSON_DECODE_ANY, NULL), *y = json_loads(b, JSON_DECODE_ANY, NULL);
    bool same = x && y ? json_equal(x, y) : !strcmp(a, b);
    json_decref(x);
    json_decref(y);
    return same;
}

static bool same_type(const tn_neuron_type *a, const tn_neuron_type *b)
{
    bool same = !strncmp(a->name, b->name, sizeof a->name) && a->sigma_lambda == b->sigma_lambda &&
                a->lambda == b->lambda && a->c_lambda == b->c_lambda &&
                a->epsilon == b->epsilon && a->alpha == b->alpha && a->beta == b->beta &&
                a->TM == b->TM && a->gamma == b->gamma && a->kappa == b->kappa &&
                a->sigma_VR == b->sigma_VR && a->VR == b->VR && a->V == b->V;
    for (int k = 0; k < TN_AXON_TYPES; k++)
        same = same && a->sigma[k] == b->sigma[k] && a->s[k] == b->s[k] && a->b[k] == b->b[k];
    return same;
}

static bool same_core(const tn_core *a, const tn_core *b, int k, char *why, size_t why_size)
{
    if (a->id != b->id || a->rng_seed != b->rng_seed ||
        a->time_scale_exponent != b->time_scale_exponent || a->crossbar != b->crossbar)
        return DIFF("core %lld: id, rngSeed, timeScaleExponent or crossbar differ", (long long)a->id);
    for (int j = 0; j < TN_NEURONS; j++)
        if (a->type[j] != b->type[j] || a->dendrite[j] != b->dendrite[j] ||
            a->dest_core[j] != b->dest_core[j] || a->dest_axon[j] != b->dest_axon[j] ||
            a->dest_delay[j] != b->dest_delay[j])
            return DIFF("core %lld: neuron %d differs (type %d/%d, dest %lld/%lld, axon %d/%d, "
                        "delay %d/%d, dendrite %d/%d)", (long long)a->id, j, a->type[j],
                        b->type[j], (long long)a->dest_core[j], (long long)b->dest_core[j],
                        a->dest_axon[j], b->dest_axon[j], a->dest_delay[j], b->dest_delay[j],
                        a->dendrite[j], b->dendrite[j]);
    json_t *ma = written_metadata(a, k), *mb = written_metadata(b, k);
    bool same = ma && mb ? json_equal(ma, mb) : same_json(a->metadata_json, b->metadata_json);
    json_decref(ma);
    json_decref(mb);
    if (!same)
        return DIFF("core %lld: metadata differs", (long long)a->id);
    return true;
}

bool tn_model_equal(const tn_model *a, const tn_model *b, char *why, size_t why_size)
{
    char dummy[8];
    if (!why || !why_size) {
        why = dummy;
        why_size = sizeof dummy;
    }
    why[0] = '\0';
    if (!a || !b)
        return a == b ? true : DIFF("one model is missing");
    if (a->n_crossbars != b->n_crossbars || a->n_types != b->n_types || a->n_cores != b->n_cores)
        return DIFF("counts differ: %d/%d crossbar prototypes, %d/%d neuron types, %d/%d cores",
                    a->n_crossbars, b->n_crossbars, a->n_types, b->n_types, a->n_cores,
                    b->n_cores);
    json_t *ha = written_header(a), *hb = written_header(b);
    bool same_header = ha && hb ? json_equal(ha, hb) : same_json(a->header_json, b->header_json);
    json_decref(ha);
    json_decref(hb);
    if (!same_header)
        return DIFF("the \"model\" headers differ");
    for (int i = 0; i < a->n_crossbars; i++) {
        const tn_crossbar *x = &a->crossbars[i], *y = &b->crossbars[i];
        if (strncmp(x->name, y->name, sizeof x->name) ||
            memcmp(x->axon_type, y->axon_type, sizeof x->axon_type) ||
            memcmp(x->row, y->row, sizeof x->row))
            return DIFF("crossbar prototype %d ('%.63s') differs", i, x->name);
    }
    for (int i = 0; i < a->n_types; i++)
        if (!same_type(&a->types[i], &b->types[i]))
            return DIFF("neuron type %d ('%.63s') differs", i, a->types[i].name);
    for (int k = 0; k < a->n_cores; k++)
        if (!same_core(&a->cores[k], &b->cores[k], k, why, why_size))
            return false;
    return true;
}
