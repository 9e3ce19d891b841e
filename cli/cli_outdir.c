/* cli_outdir.c — the OUTDIR contract (interface: cli_outdir.h): the
 * manifest of SHA-256 part digests (Nettle) that convert writes and the
 * readers verify, and the field-by-field check of report.json against one
 * schema table, so that no value read back is cast or printed unchecked. */
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <nettle/sha2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../ir/error.h"
#include "cli.h"
#include "cli_outdir.h"

#define MANIFEST "manifest.json"
#define HEX_LEN (2 * SHA256_DIGEST_SIZE)

/* ------------------------------------------------------------ digests */

/* The SHA-256 of a regular file as lowercase hex (hex[HEX_LEN + 1]). */
static int file_digest(const char *path, char *hex, snnc_err *err)
{
    struct stat sb;
    if (lstat(path, &sb))
        return snnc_fail(err, SNNC_EINVALID, "%s: %s", path, strerror(errno));
    if (!S_ISREG(sb.st_mode))
        return snnc_fail(err, SNNC_EINVALID, "%s: not a regular file", path);
    FILE *f = fopen(path, "rb");
    if (!f)
        return snnc_fail(err, SNNC_EINVALID, "%s: %s", path, strerror(errno));
    struct sha256_ctx ctx;
    sha256_init(&ctx);
    unsigned char buf[1 << 16], d[SHA256_DIGEST_SIZE];
    size_t k;
    while ((k = fread(buf, 1, sizeof buf, f)) > 0)
        sha256_update(&ctx, k, buf);
    int bad = ferror(f);
    fclose(f);
    if (bad)
        return snnc_fail(err, SNNC_EIO, "%s: read error", path);
    sha256_digest(&ctx, sizeof d, d);
    for (int i = 0; i < SHA256_DIGEST_SIZE; i++)
        snprintf(hex + 2 * i, 3, "%02x", d[i]);
    return SNNC_OK;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Add the digest of every regular file under dir/rel (rel "" = dir) to parts. */
static int add_tree(const char *dir, const char *rel, json_t *parts, snnc_err *err)
{
    char *path = *rel ? snnc_cli_path_join(dir, rel) : strdup(dir);
    DIR *d = path ? opendir(path) : NULL;
    if (!d) {
        free(path);
        return snnc_fail(err, SNNC_EIO, "%s: cannot list", dir);
    }
    char **names = NULL;
    size_t n = 0;
    struct dirent *e;
    int rc = SNNC_OK;
    while (!rc && (e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..") ||
            (!*rel && (!strcmp(e->d_name, MANIFEST) || !strcmp(e->d_name, SNNC_CLI_TEMP_MARKER))))
            continue;
        char **g = realloc(names, (n + 1) * sizeof *g);
        if (!g || !(g[n] = *rel ? snnc_cli_path_join(rel, e->d_name) : strdup(e->d_name)))
            rc = snnc_fail(err, SNNC_ENOMEM, "out of memory");
        if (g)
            names = g, n += !rc;
    }
    closedir(d);
    if (n)
        qsort(names, n, sizeof *names, cmp_str);
    for (size_t i = 0; !rc && i < n; i++) {
        char *full = snnc_cli_path_join(dir, names[i]), hex[HEX_LEN + 1];
        struct stat sb;
        if (!full)
            rc = snnc_fail(err, SNNC_ENOMEM, "out of memory");
        else if (lstat(full, &sb) == 0 && S_ISDIR(sb.st_mode))
            rc = add_tree(dir, names[i], parts, err);
        else if (!(rc = file_digest(full, hex, err)))
            json_object_set_new(parts, names[i], json_string(hex));
        free(full);
    }
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    free(path);
    return rc;
}

int snnc_outdir_manifest_write(const char *dir, snnc_err *err)
{
    json_t *m = json_pack("{s:s, s:s, s:{}}", "format", "snnc convert OUTDIR", "digest",
                          "sha256", "parts");
    char *path = snnc_cli_path_join(dir, MANIFEST);
    int rc = m && path ? add_tree(dir, "", json_object_get(m, "parts"), err)
                       : snnc_fail(err, SNNC_ENOMEM, "out of memory");
    if (!rc && json_dump_file(m, path, JSON_INDENT(2) | JSON_PRESERVE_ORDER))
        rc = snnc_fail(err, SNNC_EIO, "%s: write error", path);
    json_decref(m);
    free(path);
    return rc;
}

/* A part name: a relative path of plain components (no "..", no "/x"). */
static bool safe_part(const char *s)
{
    if (!*s || *s == '/')
        return false;
    for (const char *p = s; *p;) {
        size_t k = strcspn(p, "/");
        if (k == 0 || (k == 1 && p[0] == '.') || (k == 2 && p[0] == '.' && p[1] == '.'))
            return false;
        p += k + (p[k] == '/');
        if (p[-1] == '/' && !*p)
            return false;
    }
    return true;
}

static bool lower_hex(const char *s)
{
    size_t n = strlen(s);
    return n == HEX_LEN && strspn(s, "0123456789abcdef") == n;
}

/* Check dir's parts against its manifest (*manifest: the manifest, caller decrefs). */
static int verify_parts(const char *dir, json_t **manifest, snnc_err *err)
{
    char *mpath = snnc_cli_path_join(dir, MANIFEST);
    if (!mpath)
        return snnc_fail(err, SNNC_ENOMEM, "out of memory");
    json_error_t je;
    json_t *m = json_load_file(mpath, JSON_REJECT_DUPLICATES, &je);
    const json_t *parts = json_object_get(m, "parts");
    int rc = SNNC_OK;
    if (!m)
        rc = snnc_fail(err, SNNC_EINVALID, "%s: %s (every OUTDIR of snnc convert has one; "
                       "convert again)", mpath, je.text);
    else if (!json_is_object(m) || !json_is_string(json_object_get(m, "digest")) ||
             strcmp(json_string_value(json_object_get(m, "digest")), "sha256"))
        rc = snnc_fail(err, SNNC_EINVALID, "%s: field digest: expected \"sha256\"", mpath);
    else if (!json_is_object(parts))
        rc = snnc_fail(err, SNNC_EINVALID, "%s: field parts: expected an object", mpath);
    const char *required[] = {"report.json", "model.onnx", "truenorth/model.json"};
    for (size_t i = 0; !rc && i < sizeof required / sizeof *required; i++)
        if (!json_object_get(parts, required[i]))
            rc = snnc_fail(err, SNNC_EINVALID, "%s: part '%s' not listed", mpath, required[i]);
    const char *name;
    const json_t *v;
    json_object_foreach((json_t *)parts, name, v) {
        if (rc)
            break;
        char hex[HEX_LEN + 1], *p = NULL;
        if (!safe_part(name))
            rc = snnc_fail(err, SNNC_EINVALID, "%s: part '%s': not a path inside OUTDIR", mpath, name);
        else if (!json_is_string(v) || !lower_hex(json_string_value(v)))
            rc = snnc_fail(err, SNNC_EINVALID, "%s: part '%s': expected %d hexadecimal digits",
                           mpath, name, HEX_LEN);
        else if (!(p = snnc_cli_path_join(dir, name)))
            rc = snnc_fail(err, SNNC_ENOMEM, "out of memory");
        else if ((rc = file_digest(p, hex, err)))
            snnc_err_prefix(err, "part '%s' of %s", name, mpath);
        else if (strcmp(hex, json_string_value(v)))
            rc = snnc_fail(err, SNNC_EINVALID, "%s: SHA-256 differs from the one in %s: the part "
                           "was changed, or comes from another conversion", p, mpath);
        free(p);
    }
    *manifest = m;
    free(mpath);
    return rc;
}

/* ------------------------------------------------------ report.json */

typedef enum { F_OBJ, F_ARR, F_STR, F_WORD, F_BOOL, F_INT, F_NUM } field_kind;

typedef struct field {
    const char *path;  /* "a.b", "a[].b": every element of array a */
    field_kind kind;
    double lo, hi;     /* F_INT, F_NUM: the accepted range */
    const char *words; /* F_WORD: "a|b" */
    bool may_be_null, may_be_absent;
} field;

#define BIG 9007199254740992.0 /* 2^53: integers exact in a double */
#define COUNT(p) {(p), F_INT, 0, BIG, NULL, false, false}
#define SIZE(p) {(p), F_INT, 0, 2147483647.0, NULL, false, false}
#define NONNEG(p) {(p), F_NUM, 0, INFINITY, NULL, false, false}
#define ANYNUM(p) {(p), F_NUM, -BIG, BIG, NULL, false, false}
#define TEXT(p) {(p), F_STR, 0, 0, NULL, false, false}

/* Every field the readers use (cmd_evaluate.c, cmd_report.c). */
static const field report_fields[] = {
    {"target", F_WORD, 0, 0, "truenorth", false, false},
    {"model", F_WORD, 0, 0, "model.onnx", false, false},
    {"calib", F_WORD, 0, 0, "calib.npy", true, false},
    TEXT("input_name"),
    TEXT("output_name"),
    {"constraints", F_OBJ, 0, 0, NULL, false, false},
    {"constraints.weight_levels", F_INT, 2, SNNC_TN_WEIGHT_LEVELS_MAX, NULL, false, false},
    {"constraints.activity_levels", F_INT, 2, SNNC_TN_ACTIVITY_LEVELS_MAX, NULL, false, false},
    {"constraints.fan_in", F_INT, 1, SNNC_TN_FAN_IN_MAX, NULL, false, false},
    {"constraints.fan_in_strategy", F_WORD, 0, 0, "split|prune", false, false},
    {"constraints.rounding", F_WORD, 0, 0, "nearest|stochastic", false, false},
    {"constraints.seed", F_INT, 0, (double)SNNC_SEED_MAX, NULL, false, false},
    {"constraints.percentile", F_NUM, SNNC_PERCENTILE_MIN, 100, NULL, false, false},
    {"constraints.scale", F_WORD, 0, 0, "neuron|layer", false, false},
    {"constraints.compensate", F_BOOL, 0, 0, NULL, false, false},
    {"constraints.prune_rescale", F_BOOL, 0, 0, NULL, false, false},
    {"constraint_method", F_OBJ, 0, 0, NULL, true, true}, /* absent: older report */
    TEXT("constraint_method.chosen"),
    {"constraint_method.candidates", F_ARR, 0, 0, NULL, false, false},
    TEXT("constraint_method.candidates[].method"),
    {"constraint_method.candidates[].kl_percentile", F_NUM, 0, INFINITY, NULL, true, false},
    {"constraint_method.candidates[].agreement_percentile", F_NUM, 0, 1, NULL, true, false},
    {"constraint_method.candidates[].kl", F_NUM, 0, INFINITY, NULL, true, false},
    {"constraint_method.candidates[].agreement", F_NUM, 0, 1, NULL, true, false},
    NONNEG("constraint_method.input_range_factor"),
    /* fine-tuning (absent in reports of older versions: not fine-tuned) */
    {"finetune", F_OBJ, 0, 0, NULL, false, true},
    {"finetune.steps", F_INT, 0, 100000, NULL, false, false},
    {"finetune.seed", F_INT, 0, (double)SNNC_SEED_MAX, NULL, false, false},
    {"finetune.lr", F_NUM, 0, 1, NULL, false, false},
    {"finetune.noise", F_NUM, 0, 4, NULL, false, false},
    {"finetune.batch", F_INT, 1, 2147483647.0, NULL, false, false},
    {"finetune.holdout", F_INT, 2, 2147483647.0, NULL, false, false},
    {"finetune.temperature", F_NUM, 1e-3, 1e3, NULL, false, false},
    {"finetune.labels", F_WORD, 0, 0, "calib_labels.npy", true, false},
    {"finetune.carry", F_BOOL, 0, 0, NULL, false, true},
    {"finetune.label_weight", F_NUM, 0, 100, NULL, false, true},
    {"finetune.carry_agreement", F_OBJ, 0, 0, NULL, false, true},
    {"finetune.carry_agreement.per_window", F_NUM, 0, 1, NULL, false, false},
    {"finetune.carry_agreement.carried", F_NUM, 0, 1, NULL, false, false},
    {"finetune.carry_kept", F_BOOL, 0, 0, NULL, false, true},
    {"finetune.run", F_BOOL, 0, 0, NULL, false, false},
    {"finetune.train_samples", F_INT, 0, BIG, NULL, false, true},
    {"finetune.validation_samples", F_INT, 0, BIG, NULL, false, true},
    {"finetune.validation_loss_before", F_NUM, 0, INFINITY, NULL, false, true},
    {"finetune.validation_loss_after", F_NUM, 0, INFINITY, NULL, false, true},
    {"finetune.best_step", F_INT, 0, 100000, NULL, false, true},
    {"finetune.kept", F_BOOL, 0, 0, NULL, false, true},
    SIZE("cores"),
    NONNEG("power_w"),
    NONNEG("energy_per_sample_j"),
    NONNEG("latency_per_sample_s"),
    COUNT("ticks_per_sample"),
    {"seconds_per_tick", F_NUM, 1e-9, 1, NULL, false, false},
    {"window", F_INT, 1, 15, NULL, false, false},
    {"steps", F_INT, 1, 2147483647.0, NULL, false, false},
    {"violations", F_ARR, 0, 0, NULL, false, false},
    TEXT("violations[].layer"),
    TEXT("violations[].kind"),
    ANYNUM("violations[].value"),
    ANYNUM("violations[].limit"),
    TEXT("violations[].detail"),
    {"layers", F_ARR, 0, 0, NULL, false, false},
    TEXT("layers[].layer"),
    SIZE("layers[].fan_in"),
    SIZE("layers[].fan_in_max_neuron"),
    NONNEG("layers[].weight_rel_error"),
    {"layers[].output_rel_error", F_NUM, -1, INFINITY, NULL, false, false},
    SIZE("layers[].levels_for_1pct"),
    NONNEG("layers[].activity_range"),
    NONNEG("layers[].input_range"),
    SIZE("layers[].fan_in_groups"),
    COUNT("layers[].pruned"),
    {"matching", F_ARR, 0, 0, NULL, false, false},
    TEXT("matching[].population"),
    {"matching[].sign", F_INT, -1, 1, NULL, false, false},
    SIZE("matching[].neurons"),
    {"matching[].residual", F_NUM, 0, INFINITY, NULL, true, false},
    {"mapping", F_OBJ, 0, 0, NULL, false, false},
    SIZE("mapping.cores"),
    COUNT("mapping.neurons"),
    COUNT("mapping.copies"),
    COUNT("mapping.axons"),
    COUNT("mapping.synapses"),
    TEXT("mapping.encoding"),
    {"mapping.per_core", F_ARR, 0, 0, NULL, false, false},
    COUNT("mapping.per_core[].id"),
    TEXT("mapping.per_core[].name"),
    SIZE("mapping.per_core[].axons"),
    SIZE("mapping.per_core[].neurons"),
    SIZE("mapping.per_core[].originals"),
    SIZE("mapping.per_core[].copies"),
    COUNT("mapping.per_core[].synapses"),
    {"power", F_OBJ, 0, 0, NULL, false, false},
    NONNEG("power.static_w"),
    NONNEG("power.dynamic_w"),
    NONNEG("power.total_w"),
    TEXT("power.activity_source"),
    {"power.ideal_stage", F_OBJ, 0, 0, NULL, false, true},
    NONNEG("power.ideal_stage.synaptic_events_per_sample"),
    NONNEG("power.ideal_stage.spikes_per_sample"),
    NONNEG("power.ideal_stage.total_w"),
    NONNEG("power.ideal_stage.energy_j"),
    {"power.constants", F_ARR, 0, 0, NULL, false, false},
    TEXT("power.constants[].name"),
    ANYNUM("power.constants[].value"),
    TEXT("power.constants[].unit"),
    TEXT("power.constants[].source"),
};

static bool is_word(const char *s, const char *words)
{
    size_t n = strlen(s);
    for (const char *w = words; *w;) {
        size_t k = strcspn(w, "|");
        if (k == n && !strncmp(w, s, n))
            return true;
        w += k + (w[k] == '|');
    }
    return false;
}

/* What field f expects, for messages. */
static void expected(const field *f, char *buf, size_t n)
{
    switch (f->kind) {
    case F_OBJ: snprintf(buf, n, "an object"); break;
    case F_ARR: snprintf(buf, n, "an array"); break;
    case F_STR: snprintf(buf, n, "a string"); break;
    case F_WORD: snprintf(buf, n, "one of %s", f->words); break;
    case F_BOOL: snprintf(buf, n, "true or false"); break;
    case F_INT: snprintf(buf, n, "an integer in %.0f..%.0f", f->lo, f->hi); break;
    case F_NUM: snprintf(buf, n, "a number in %.17g..%.17g", f->lo, f->hi); break;
    }
}

static bool value_ok(const json_t *v, const field *f)
{
    if (json_is_null(v))
        return f->may_be_null;
    switch (f->kind) {
    case F_OBJ: return json_is_object(v);
    case F_ARR: return json_is_array(v);
    case F_STR: return json_is_string(v);
    case F_WORD: return json_is_string(v) && is_word(json_string_value(v), f->words);
    case F_BOOL: return json_is_boolean(v);
    case F_INT:
        return json_is_integer(v) && (double)json_integer_value(v) >= f->lo &&
               (double)json_integer_value(v) <= f->hi;
    case F_NUM:
        return json_is_number(v) && isfinite(json_number_value(v)) &&
               json_number_value(v) >= f->lo && json_number_value(v) <= f->hi;
    }
    return false;
}

static int field_fail(const char *file, const char *where, const field *f, const json_t *v,
                      snnc_err *err)
{
    char want[96], *got = v ? json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT) : NULL;
    expected(f, want, sizeof want);
    int rc = snnc_fail(err, SNNC_EINVALID, "%s: field %s: %s%s%s, got %.40s%s", file, where,
                       v ? "expected " : "missing: expected ", want, f->may_be_null ? " or null" : "",
                       got ? got : "nothing", got && strlen(got) > 40 ? "..." : "");
    free(got);
    return rc;
}

/* Check field f at `rest` of its path below node (`where`: the path so far). */
static int check_at(const json_t *node, const char *rest, const char *where, const field *f,
                    const char *file, snnc_err *err)
{
    size_t k = strcspn(rest, ".");
    bool each = k > 2 && !strncmp(rest + k - 2, "[]", 2);
    char key[64], here[256];
    snprintf(key, sizeof key, "%.*s", (int)(each ? k - 2 : k), rest);
    snprintf(here, sizeof here, "%s%s%s", where, *where ? "." : "", key);
    const json_t *v = json_object_get(node, key);
    if (!v && f->may_be_absent && !rest[k])
        return SNNC_OK;
    if (!v && !json_is_object(node))
        return SNNC_OK; /* the parent's own entry reports it */
    if (!rest[k])
        return value_ok(v, f) ? SNNC_OK : field_fail(file, here, f, v, err);
    if (!v)
        return SNNC_OK; /* a missing or optional parent: its own entry decides */
    if (!each)
        return check_at(v, rest + k + 1, here, f, file, err);
    size_t i;
    const json_t *e;
    json_array_foreach(v, i, e) {
        char at[300];
        snprintf(at, sizeof at, "%s[%zu]", here, i);
        if (!json_is_object(e)) {
            field whole = {.kind = F_OBJ};
            return field_fail(file, at, &whole, e, err);
        }
        int rc = check_at(e, rest + k + 1, at, f, file, err);
        if (rc)
            return rc;
    }
    return SNNC_OK;
}

static int check_report(const json_t *r, const char *file, snnc_err *err)
{
    if (!json_is_object(r))
        return snnc_fail(err, SNNC_EINVALID, "%s: not a JSON object", file);
    for (size_t i = 0; i < sizeof report_fields / sizeof *report_fields; i++) {
        int rc = check_at(r, report_fields[i].path, "", &report_fields[i], file, err);
        if (rc)
            return rc;
    }
    return SNNC_OK;
}

int snnc_outdir_open(const char *dir, json_t **report, snnc_err *err)
{
    *report = NULL;
    struct stat sb;
    if (stat(dir, &sb))
        return snnc_fail(err, SNNC_EINVALID, "%s/report.json: %s", dir, strerror(errno));
    if (!S_ISDIR(sb.st_mode))
        return snnc_fail(err, SNNC_EINVALID, "%s: not a directory (an OUTDIR of snnc convert)", dir);
    json_t *manifest = NULL;
    int rc = verify_parts(dir, &manifest, err);
    char *path = rc ? NULL : snnc_cli_path_join(dir, "report.json");
    json_error_t je;
    if (!rc && !path)
        rc = snnc_fail(err, SNNC_ENOMEM, "out of memory");
    if (!rc && !(*report = json_load_file(path, JSON_REJECT_DUPLICATES, &je)))
        rc = snnc_fail(err, SNNC_EINVALID, "%s: %s", path, je.text);
    if (!rc)
        rc = check_report(*report, path, err);
    if (!rc && json_is_string(json_object_get(json_object_get(*report, "finetune"), "labels")) &&
        !json_object_get(json_object_get(manifest, "parts"), "calib_labels.npy"))
        rc = snnc_fail(err, SNNC_EINVALID, "%s/%s: part 'calib_labels.npy' not listed (report.json "
                       "names it)", dir, MANIFEST);
    if (!rc && json_is_string(json_object_get(*report, "calib")) &&
        !json_object_get(json_object_get(manifest, "parts"), "calib.npy"))
        rc = snnc_fail(err, SNNC_EINVALID, "%s/%s: part 'calib.npy' not listed (report.json "
                       "names it)", dir, MANIFEST);
    json_decref(manifest);
    if (rc) {
        json_decref(*report);
        *report = NULL;
    }
    free(path);
    return rc;
}

static json_t *num_or_null(double v) { return v >= 0 ? json_real(v) : json_null(); }

json_t *snnc_outdir_method_json(const snnc_constrain_method *m)
{
    json_t *cand = json_array(), *in = json_array();
    for (int k = 0; k < m->n_candidates; k++)
        json_array_append_new(cand, json_pack("{s:s, s:o, s:o, s:o, s:o}", "method", m->name[k], "kl_percentile",
                                              num_or_null(m->kl_percentile[k]), "agreement_percentile",
                                              num_or_null(m->agreement_percentile[k]), "kl",
                                              num_or_null(m->kl[k]), "agreement", num_or_null(m->agreement[k])));
    for (int k = 0; k < m->n_input_candidates; k++)
        json_array_append_new(in, json_pack("{s:f, s:f, s:f}", "factor", (double)m->input_candidates[k], "kl",
                                            m->input_kl[k], "agreement", m->input_agreement[k]));
    return json_pack("{s:s, s:o, s:f, s:o}", "chosen", m->name[m->chosen], "candidates", cand,
                     "input_range_factor", (double)m->input_range_factor, "input_range_candidates", in);
}

void snnc_outdir_constraints(const json_t *r, snnc_constraints *c)
{
    const json_t *o = json_object_get(r, "constraints");
    snnc_constraints_default(c);
    c->weight_levels = (int)json_integer_value(json_object_get(o, "weight_levels"));
    c->activity_levels = (int)json_integer_value(json_object_get(o, "activity_levels"));
    c->fan_in = (int)json_integer_value(json_object_get(o, "fan_in"));
    c->seed = (uint64_t)json_integer_value(json_object_get(o, "seed"));
    c->percentile = json_number_value(json_object_get(o, "percentile"));
    c->fanin = !strcmp(json_string_value(json_object_get(o, "fan_in_strategy")), "prune")
                   ? SNNC_FANIN_PRUNE : SNNC_FANIN_SPLIT;
    c->rounding = !strcmp(json_string_value(json_object_get(o, "rounding")), "stochastic")
                      ? SNNC_ROUND_STOCHASTIC : SNNC_ROUND_NEAREST;
    c->scale = !strcmp(json_string_value(json_object_get(o, "scale")), "layer") ? SNNC_SCALE_LAYER
                                                                                : SNNC_SCALE_NEURON;
    c->compensate = json_is_true(json_object_get(o, "compensate"));
    c->prune_rescale = json_is_true(json_object_get(o, "prune_rescale"));
    c->range_search = json_is_true(json_object_get(o, "range_search")); /* absent: older report */
    const char *tc = json_string_value(json_object_get(o, "tanh_coding")); /* absent: older report, a pair */
    c->tanh_coding = tc && !strcmp(tc, "offset") ? SNNC_TANH_OFFSET : SNNC_TANH_PAIR;
    c->bias_correct = json_is_true(json_object_get(o, "bias_correct"));
    c->per_neuron_ranges = json_is_true(json_object_get(o, "per_neuron_ranges"));
    c->method_search = json_is_true(json_object_get(o, "method_search"));
}

bool snnc_outdir_finetune(const json_t *r, snnc_finetune_opts *ft)
{
    const json_t *o = json_object_get(r, "finetune");
    snnc_finetune_default(ft);
    if (!o)
        return false;
    ft->steps = (int)json_integer_value(json_object_get(o, "steps"));
    ft->seed = (uint64_t)json_integer_value(json_object_get(o, "seed"));
    ft->lr = json_number_value(json_object_get(o, "lr"));
    ft->noise = json_number_value(json_object_get(o, "noise"));
    ft->batch = (int)json_integer_value(json_object_get(o, "batch"));
    ft->holdout = (int)json_integer_value(json_object_get(o, "holdout"));
    ft->temperature = json_number_value(json_object_get(o, "temperature"));
    ft->carry = json_is_true(json_object_get(o, "carry"));
    if (json_is_number(json_object_get(o, "label_weight")))
        ft->label_weight = json_number_value(json_object_get(o, "label_weight"));
    return json_is_string(json_object_get(o, "labels"));
}
