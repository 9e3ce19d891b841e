/* tn_read.c — reads IBM Corelet Programming Environment (CPE) model files
 * into a tn_model (interface: tn_model.h; format: docs/TRUENORTH_FORMAT.md).
 * Comments are blanked out (offsets and lines kept); the top-level object and
 * the type libraries are scanned here so every repeated "core" key counts, and
 * each value is parsed alone by jansson, converted and freed at once.
 * Also here: tn_model_free and tn_model_core_index. */
#include <jansson.h>
#include <limits.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/file.h"
#include "ir/error.h"
#include "tn_model.h"
#include "tn_ranges.h"

/* Largest magnitude accepted inside a compressed-array string: keeps
 * a + k * step and (b - a) / step free of overflow. */
#define TN_ARRAY_VALUE_MAX ((int64_t)1 << 53)

/* What a core names, resolved once the whole file is read (the libraries
 * may come after the cores). */
typedef struct pending {
    char *crossbar;
    uint32_t type_num[TN_NEURONS];
    long line;
} pending;

typedef struct reader {
    const char *name;   /* file name for messages */
    const char *s;      /* the text, comments blanked out */
    size_t len, pos;
    size_t line_off;    /* incremental line counting: line_no is the line of line_off */
    long line_no;
    snnc_err *err;
    char where[256];    /* what is being read, for messages */
    tn_model *m;
    int cap_cores, cap_pend, cap_types, cap_xbars;
    pending *pend;
    bool seen_model, seen_xbars, seen_types;
} reader;

__attribute__((format(printf, 3, 4))) static int fail_code(reader *r, int code, const char *fmt,
                                                           ...)
{
    char reason[sizeof r->err->msg];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reason, sizeof reason, fmt, ap);
    va_end(ap);
    return snnc_fail(r->err, code, "%s: %s%s%s", r->name, r->where, r->where[0] ? ": " : "",
                     reason);
}
#define FAIL(r, ...) fail_code((r), SNNC_EINVALID, __VA_ARGS__)

/* ------------------------------------------------------------ positions */

static long line_at(reader *r, size_t off)
{
    if (off > r->len)
        off = r->len;
    if (off < r->line_off) {
        r->line_off = 0;
        r->line_no = 1;
    }
    const char *p = r->s + r->line_off, *end = r->s + off;
    while (p < end && (p = memchr(p, '\n', (size_t)(end - p))) != NULL) {
        r->line_no++;
        p++;
    }
    r->line_off = off;
    return r->line_no;
}

static long column_at(const reader *r, size_t off)
{
    size_t c = off;
    while (c > 0 && r->s[c - 1] != '\n')
        c--;
    return (long)(off - c) + 1;
}

static void set_where(reader *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void set_where(reader *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->where, sizeof r->where, fmt, ap);
    va_end(ap);
}

/* ------------------------------------------------------------ comments */

/* Blank out C comments outside strings in place, newlines kept. */
static int strip_comments(reader *r, char *c, size_t len)
{
    bool in_str = false;
    for (size_t i = 0; i < len; i++) {
        if (in_str) {
            if (c[i] == '\\')
                i++;
            else if (c[i] == '"')
                in_str = false;
            continue;
        }
        if (c[i] == '"') {
            in_str = true;
        } else if (c[i] == '/' && i + 1 < len && c[i + 1] == '*') {
            size_t start = i;
            c[i] = c[i + 1] = ' ';
            for (i += 2; i < len && !(c[i] == '*' && i + 1 < len && c[i + 1] == '/'); i++)
                if (c[i] != '\n')
                    c[i] = ' ';
            if (i >= len)
                return FAIL(r, "line %ld: unterminated /* comment (truncated file?)",
                            line_at(r, start));
            c[i] = c[i + 1] = ' ';
            i++;
        } else if (c[i] == '/' && i + 1 < len && c[i + 1] == '/') {
            for (; i < len && c[i] != '\n'; i++)
                c[i] = ' ';
        } else if (c[i] == '/' && i + 1 == len) {
            return FAIL(r, "unexpected end of file (truncated?) at line %ld, after '/'",
                        line_at(r, i));
        }
    }
    return SNNC_OK;
}

/* ------------------------------------------------------------ scanner */

static void skip_ws(reader *r)
{
    while (r->pos < r->len) {
        char ch = r->s[r->pos];
        if (ch != ' ' && ch != '\t' && ch != '\n' && ch != '\r')
            break;
        r->pos++;
    }
}

static int peek(const reader *r)
{
    return r->pos < r->len ? (unsigned char)r->s[r->pos] : -1;
}

static const char *found(const reader *r)
{
    static char buf[16];
    int c = peek(r);
    if (c < 0)
        return "end of file";
    if (c >= 0x20 && c < 0x7f)
        snprintf(buf, sizeof buf, "'%c'", c);
    else
        snprintf(buf, sizeof buf, "byte 0x%02x", c);
    return buf;
}

static int expected(reader *r, const char *what)
{
    size_t at = r->pos;
    if (at >= r->len)
        return FAIL(r, "unexpected end of file (truncated?): expected %s", what);
    return FAIL(r, "line %ld, column %ld: expected %s, found %s", line_at(r, at), column_at(r, at),
                what, found(r));
}

/* Parse the one JSON value at r->pos with jansson; r->pos moves past it. */
static int parse_value(reader *r, json_t **out)
{
    json_error_t e;
    size_t rest = r->len - r->pos;
    *out = json_loadb(r->s + r->pos, rest, JSON_DECODE_ANY | JSON_DISABLE_EOF_CHECK, &e);
    if (!*out) {
        size_t rel = e.position > 0 ? (size_t)e.position : 0;
        size_t at = r->pos + (rel < rest ? rel : rest);
        if (rel >= rest)
            return FAIL(r, "unexpected end of file (truncated?) at line %ld: %s", line_at(r, at),
                        e.text);
        return FAIL(r, "line %ld, column %ld: %s", line_at(r, at), column_at(r, at), e.text);
    }
    r->pos += (size_t)e.position;
    return SNNC_OK;
}

/* Scan '[' v, v, ... ']' calling conv on each element as soon as it is parsed. */
typedef int (*elem_fn)(reader *r, json_t *v, int idx, long line);

static int scan_array(reader *r, const char *what, elem_fn conv)
{
    skip_ws(r);
    if (peek(r) != '[') {
        char buf[96];
        snprintf(buf, sizeof buf, "'[' to open the array \"%s\"", what);
        return expected(r, buf);
    }
    r->pos++;
    skip_ws(r);
    if (peek(r) == ']') {
        r->pos++;
        return SNNC_OK;
    }
    for (int i = 0;; i++) {
        if (i == INT_MAX)
            return FAIL(r, "\"%s\" has too many elements", what);
        skip_ws(r);
        long line = line_at(r, r->pos);
        json_t *v;
        int rc = parse_value(r, &v);
        if (rc)
            return rc;
        rc = conv(r, v, i, line);
        json_decref(v);
        r->where[0] = '\0';
        if (rc)
            return rc;
        skip_ws(r);
        if (peek(r) == ',') {
            r->pos++;
        } else if (peek(r) == ']') {
            r->pos++;
            return SNNC_OK;
        } else {
            char buf[96];
            snprintf(buf, sizeof buf, "',' or ']' in the array \"%s\"", what);
            return expected(r, buf);
        }
    }
}

/* ------------------------------------------------------------ growth */

static int grow(reader *r, void **p, int *cap, int n, size_t elem)
{
    if (n < *cap)
        return SNNC_OK;
    if (n >= INT_MAX / 2)
        return fail_code(r, SNNC_ENOMEM, "too many entries");
    int nc = *cap ? *cap * 2 : 8;
    void *q = realloc(*p, (size_t)nc * elem);
    if (!q)
        return fail_code(r, SNNC_ENOMEM, "out of memory");
    *p = q;
    *cap = nc;
    return SNNC_OK;
}

/* ------------------------------------------------------------ small values */

static int get_name(reader *r, const json_t *obj, const char **out)
{
    const json_t *v = json_object_get(obj, "name");
    if (!json_is_string(v))
        return FAIL(r, "missing string \"name\"");
    size_t n = json_string_length(v);
    if (n == 0 || n >= 64)
        return FAIL(r, "\"name\" must have 1 to 63 characters (has %zu)", n);
    *out = json_string_value(v);
    return SNNC_OK;
}

/* An integer member in the range of field f; absent -> unchanged (when allowed). */
static int get_int(reader *r, const json_t *obj, tn_field f, bool required, int64_t *out)
{
    const char *key = tn_ranges[f].key;
    const json_t *v = json_object_get(obj, key);
    if (!v) {
        if (required)
            return FAIL(r, "missing \"%s\"", key);
        return SNNC_OK;
    }
    if (!json_is_integer(v))
        return FAIL(r, "\"%s\" must be an integer", key);
    int64_t x = json_integer_value(v);
    if (!tn_range_ok(f, x)) {
        char why[160];
        tn_range_why(f, x, why, sizeof why);
        return FAIL(r, "%s", why);
    }
    *out = x;
    return SNNC_OK;
}

/* Counts the keys of obj (NULL: none) not in `known` (NULL-terminated), and
 * notes where the first of the model is (`in`: which member, or NULL). */
static void note_unknown(reader *r, const json_t *obj, const char *const *known, const char *in)
{
    const char *key;
    const json_t *val;
    json_object_foreach((json_t *)obj, key, val) {
        const char *const *k = known;
        while (*k && strcmp(*k, key))
            k++;
        if (*k)
            continue;
        if (!r->m->n_unknown_keys)
            snprintf(r->m->first_unknown_key, sizeof r->m->first_unknown_key,
                     "%s%s%s%skey \"%.40s\"", r->where, r->where[0] ? ": " : "", in ? in : "",
                     in ? " " : "", key);
        r->m->n_unknown_keys++;
        (void)val;
    }
}

/* ------------------------------------------------------------ crossbars */

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* "80 00 ... 01": 32 bytes of two hex digits (groups separated by spaces);
 * bit j of the row, most significant bit of byte 0 first, is neuron j. */
static int parse_hex_row(reader *r, int row_i, const char *s, uint64_t row[TN_NEURONS / 64])
{
    int nbytes = 0;
    const char *p = s;
    for (;;) {
        while (*p == ' ' || *p == '\t')
            p++;
        if (!*p)
            break;
        const char *t = p;
        while (*p && *p != ' ' && *p != '\t')
            p++;
        size_t tl = (size_t)(p - t);
        for (size_t k = 0; k < tl; k++)
            if (hex_digit(t[k]) < 0)
                return FAIL(r, "row %d: \"synapses\": malformed hex: '%.*s' is not a hex digit "
                               "(in \"%.*s\")", row_i, 1, t + k, tl > 16 ? 16 : (int)tl, t);
        if (tl % 2)
            return FAIL(r, "row %d: \"synapses\": malformed hex: group \"%.*s\" has an odd "
                           "number of digits", row_i, tl > 16 ? 16 : (int)tl, t);
        for (size_t k = 0; k < tl; k += 2, nbytes++) {
            if (nbytes >= TN_NEURONS / 8)
                continue; /* counted, reported below */
            unsigned byte = (unsigned)(hex_digit(t[k]) << 4 | hex_digit(t[k + 1]));
            if (!byte)
                continue;
            unsigned rev = 0; /* neuron 8 * nbytes is the most significant bit */
            for (int b = 0; b < 8; b++)
                rev |= ((byte >> b) & 1u) << (7 - b);
            row[nbytes / 8] |= (uint64_t)rev << (8 * (nbytes % 8));
        }
    }
    if (nbytes != TN_NEURONS / 8)
        return FAIL(r, "row %d: \"synapses\" has %d bytes, expected %d (one bit per neuron)",
                    row_i, nbytes, TN_NEURONS / 8);
    return SNNC_OK;
}

static int axon_type(reader *r, int row_i, const json_t *t, uint8_t *out)
{
    if (json_is_string(t)) {
        const char *s = json_string_value(t);
        if ((s[0] == 'S' || s[0] == 's') && s[1] >= '0' && s[1] <= '3' && !s[2]) {
            *out = (uint8_t)(s[1] - '0');
            return SNNC_OK;
        }
        return FAIL(r, "row %d: axon \"type\" \"%.16s\" is not one of \"S0\"..\"S3\"", row_i, s);
    }
    if (json_is_integer(t)) {
        int64_t v = json_integer_value(t);
        char why[160];
        tn_range_why(TN_F_AXON_TYPE, v, why, sizeof why);
        if (!tn_range_ok(TN_F_AXON_TYPE, v))
            return FAIL(r, "row %d: axon %s", row_i, why);
        *out = (uint8_t)v;
        return SNNC_OK;
    }
    return FAIL(r, "row %d: missing axon \"type\" (\"S0\"..\"S3\")", row_i);
}

static int conv_crossbar(reader *r, json_t *v, int idx, long line)
{
    set_where(r, "crossbarTypes[%d] (line %ld)", idx, line);
    if (!json_is_object(v))
        return FAIL(r, "a crossbar prototype must be an object");
    const char *name = NULL;
    int rc = get_name(r, v, &name);
    if (rc)
        return rc;
    set_where(r, "crossbar prototype '%s' (line %ld)", name, line);
    const json_t *xb = json_object_get(v, "crossbar");
    const json_t *rows = json_is_object(xb) ? json_object_get(xb, "rows") : NULL;
    if (!json_is_array(rows))
        return FAIL(r, "missing array \"crossbar\": {\"rows\": [...]}");
    if (json_array_size(rows) != TN_AXONS)
        return FAIL(r, "\"crossbar.rows\" has %zu rows, expected %d (one per axon)",
                    json_array_size(rows), TN_AXONS);
    tn_model *m = r->m;
    if ((rc = grow(r, (void **)&m->crossbars, &r->cap_xbars, m->n_crossbars, sizeof *m->crossbars)))
        return rc;
    tn_crossbar *x = &m->crossbars[m->n_crossbars];
    memset(x, 0, sizeof *x);
    memcpy(x->name, name, strlen(name) + 1);
    for (int i = 0; i < TN_AXONS; i++) {
        const json_t *row = json_array_get(rows, (size_t)i);
        if (!json_is_object(row))
            return FAIL(r, "row %d is not an object {\"type\", \"synapses\"}", i);
        if ((rc = axon_type(r, i, json_object_get(row, "type"), &x->axon_type[i])))
            return rc;
        const json_t *syn = json_object_get(row, "synapses");
        if (!json_is_string(syn))
            return FAIL(r, "row %d: missing string \"synapses\"", i);
        if ((rc = parse_hex_row(r, i, json_string_value(syn), x->row[i])))
            return rc;
    }
    static const char *const proto_keys[] = {"name", "crossbar", NULL},
                             *const xbar_keys[] = {"rows", NULL},
                             *const row_keys[] = {"type", "synapses", NULL};
    note_unknown(r, v, proto_keys, NULL);
    note_unknown(r, xb, xbar_keys, "\"crossbar\":");
    for (int i = 0; i < TN_AXONS; i++)
        note_unknown(r, json_array_get(rows, (size_t)i), row_keys, "a row:");
    m->n_crossbars++;
    return SNNC_OK;
}

/* ------------------------------------------------------------ neuron types */

/* One parameter of a neuron type, checked against the range table. */
static int set_param(reader *r, tn_neuron_type *t, tn_field f, const json_t *v)
{
    const tn_range *p = &tn_ranges[f];
    int64_t x;
    if (!v)
        return FAIL(r, "missing parameter \"%s\"", p->key);
    if (json_is_boolean(v) && p->kind == TN_RANGE_BOOL)
        x = json_is_true(v);
    else if (json_is_integer(v))
        x = json_integer_value(v);
    else
        return FAIL(r, "parameter \"%s\" must be %s", p->key,
                    p->kind == TN_RANGE_BOOL ? "true, false, 0 or 1" : "an integer");
    if (!tn_range_ok(f, x)) {
        char why[160];
        tn_range_why(f, x, why, sizeof why);
        return FAIL(r, "%s", why);
    }
    tn_type_set(t, f, x);
    return SNNC_OK;
}

static int conv_type(reader *r, json_t *v, int idx, long line)
{
    set_where(r, "neuronTypes[%d] (line %ld)", idx, line);
    if (!json_is_object(v))
        return FAIL(r, "a neuron type must be an object");
    const char *name = NULL;
    int rc = get_name(r, v, &name);
    if (rc)
        return rc;
    set_where(r, "neuron type '%s' (line %ld)", name, line);
    tn_model *m = r->m;
    if ((rc = grow(r, (void **)&m->types, &r->cap_types, m->n_types, sizeof *m->types)))
        return rc;
    tn_neuron_type *t = &m->types[m->n_types];
    memset(t, 0, sizeof *t);
    memcpy(t->name, name, strlen(name) + 1);
    const char *known[TN_F_TYPE_PARAMS + 3] = {"name", "class"};
    for (int f = 0; f < TN_F_TYPE_PARAMS; f++) {
        if ((rc = set_param(r, t, (tn_field)f, json_object_get(v, tn_ranges[f].key))))
            return rc;
        known[f + 2] = tn_ranges[f].key;
    }
    note_unknown(r, v, known, NULL);
    m->n_types++;
    return SNNC_OK;
}

/* ------------------------------------------------------------ compressed arrays */

static bool parse_num(const char **p, bool sign_ok, int64_t *v)
{
    const char *s = *p;
    bool neg = false;
    if (sign_ok && *s == '-') {
        neg = true;
        s++;
    }
    if (*s < '0' || *s > '9')
        return false;
    int64_t x = 0;
    for (; *s >= '0' && *s <= '9'; s++) {
        x = x * 10 + (*s - '0');
        if (x > TN_ARRAY_VALUE_MAX)
            return false;
    }
    *v = neg ? -x : x;
    *p = s;
    return true;
}

/* One string element: "v", "vxn", "a:b" or "a:step:b" -> first, step, count. */
static int parse_run(reader *r, const char *field, size_t i, const char *s, int64_t *first,
                     int64_t *step, int64_t *count)
{
    const char *p = s;
    int64_t a, b, c;
#define BAD(...) FAIL(r, "neurons.%s[%zu] \"%.40s\": " __VA_ARGS__)
    if (!parse_num(&p, true, &a))
        return BAD("expected an integer, \"a:b\", \"a:step:b\" or \"vxn\"", field, i, s);
    *first = a;
    *step = 0;
    *count = 1;
    if (!*p)
        return SNNC_OK;
    if (*p == 'x') {
        p++;
        if (!parse_num(&p, false, &b) || *p)
            return BAD("malformed repetition (\"vxn\": v repeated n times)", field, i, s);
        if (b < 1)
            return BAD("repetition count %lld must be at least 1", field, i, s, (long long)b);
        *count = b;
        return SNNC_OK;
    }
    if (*p != ':')
        return BAD("malformed element", field, i, s);
    p++;
    if (!parse_num(&p, true, &b))
        return BAD("malformed range", field, i, s);
    if (!*p) {
        if (a > b)
            return BAD("empty range (a > b; a descending range is written \"a:-1:b\")", field,
                       i, s);
        *step = 1;
        *count = b - a + 1;
        return SNNC_OK;
    }
    if (*p != ':')
        return BAD("malformed range", field, i, s);
    p++;
    if (!parse_num(&p, true, &c) || *p)
        return BAD("malformed range (\"a:step:b\")", field, i, s);
    if (b == 0)
        return BAD("step 0", field, i, s);
    if ((b > 0 && a > c) || (b < 0 && a < c))
        return BAD("empty range (the step goes away from the end)", field, i, s);
    *step = b;
    *count = (c - a) / b + 1;
    return SNNC_OK;
#undef BAD
}

/* neurons.<field>: a list of integers and strings expanding to exactly 256
 * entries (a lone integer or string counts as a list of one). */
static int expand(reader *r, const json_t *neurons, const char *field, bool required,
                  int64_t out[TN_NEURONS], bool *present)
{
    const json_t *a = json_object_get(neurons, field);
    *present = a != NULL;
    if (!a)
        return required ? FAIL(r, "missing \"neurons.%s\"", field) : SNNC_OK;
    size_t n_el = json_is_array(a) ? json_array_size(a) : 1;
    int64_t total = 0;
    for (size_t i = 0; i < n_el; i++) {
        const json_t *e = json_is_array(a) ? json_array_get(a, i) : a;
        int64_t first = 0, step = 0, count = 1;
        if (json_is_integer(e)) {
            first = json_integer_value(e);
        } else if (json_is_string(e)) {
            int rc = parse_run(r, field, i, json_string_value(e), &first, &step, &count);
            if (rc)
                return rc;
        } else {
            return FAIL(r, "neurons.%s[%zu]: expected an integer or a string such as \"a:b\", "
                           "\"a:step:b\" or \"vxn\"", field, i);
        }
        for (int64_t k = 0; k < count && total + k < TN_NEURONS; k++)
            out[total + k] = first + k * step;
        total += count; /* count <= 2^54, and total stays below 2^63 over any json array */
        if (total > TN_NEURONS)
            return FAIL(r, "\"neurons.%s\" expands to more than %d entries (element %zu)", field,
                        TN_NEURONS, i);
    }
    if (total != TN_NEURONS)
        return FAIL(r, "\"neurons.%s\" expands to %lld entries, expected %d (one per neuron)",
                    field, (long long)total, TN_NEURONS);
    return SNNC_OK;
}

/* ------------------------------------------------------------ cores */

/* Field f of neuron j: in its range when the neuron is used (type != 0),
 * else any 32-bit integer (kept as it is). */
static int check_neuron_field(reader *r, int j, tn_field f, int64_t v, bool used)
{
    char why[160];
    if (used || f == TN_F_TYPE_NUMBER) {
        if (tn_range_ok(f, v))
            return SNNC_OK;
        tn_range_why(f, v, why, sizeof why);
        return FAIL(r, "neuron %d: %s", j, why);
    }
    if (v >= INT32_MIN && v <= INT32_MAX)
        return SNNC_OK;
    return FAIL(r, "neuron %d (unused): %s %lld is out of range %d..%d (neurons.%s)", j,
                tn_ranges[f].what, (long long)v, INT32_MIN, INT32_MAX, tn_ranges[f].key);
}

static int conv_neurons(reader *r, const json_t *nv, tn_core *c, pending *pd)
{
    if (!json_is_object(nv))
        return FAIL(r, "missing object \"neurons\"");
    int64_t types[TN_NEURONS], dend[TN_NEURONS], dcore[TN_NEURONS], daxon[TN_NEURONS],
        ddelay[TN_NEURONS];
    bool present;
    int rc;
    static const char *const neuron_keys[] = {"types", "dendrites", "destCores", "destAxons",
                                              "destDelays", NULL};
    note_unknown(r, nv, neuron_keys, "\"neurons\":");
    if ((rc = expand(r, nv, "types", true, types, &present)) ||
        (rc = expand(r, nv, "dendrites", false, dend, &present)))
        return rc;
    if (!present)
        for (int j = 0; j < TN_NEURONS; j++)
            dend[j] = j;
    if ((rc = expand(r, nv, "destCores", true, dcore, &present)) ||
        (rc = expand(r, nv, "destAxons", true, daxon, &present)) ||
        (rc = expand(r, nv, "destDelays", true, ddelay, &present)))
        return rc;
    for (int j = 0; j < TN_NEURONS; j++) {
        bool used = types[j] != 0;
        if ((rc = check_neuron_field(r, j, TN_F_TYPE_NUMBER, types[j], used)) ||
            (rc = check_neuron_field(r, j, TN_F_DENDRITE, dend[j], used)) ||
            (rc = check_neuron_field(r, j, TN_F_DEST_AXON, daxon[j], used)) ||
            (rc = check_neuron_field(r, j, TN_F_DEST_DELAY, ddelay[j], used)))
            return rc;
        pd->type_num[j] = (uint32_t)types[j];
        c->type[j] = -1;
        c->dendrite[j] = (int)dend[j];
        c->dest_core[j] = dcore[j];
        c->dest_axon[j] = (int)daxon[j];
        c->dest_delay[j] = (int)ddelay[j];
    }
    return SNNC_OK;
}

static int conv_core(reader *r, json_t *v, long line)
{
    tn_model *m = r->m;
    set_where(r, "core #%d (line %ld)", m->n_cores, line);
    if (!json_is_object(v))
        return FAIL(r, "a core must be an object");
    int64_t id = 0, seed = 0, tse = 0;
    int rc = get_int(r, v, TN_F_CORE_ID, true, &id);
    if (rc)
        return rc;
    set_where(r, "core %lld (line %ld)", (long long)id, line);
    if ((rc = grow(r, (void **)&m->cores, &r->cap_cores, m->n_cores, sizeof *m->cores)))
        return rc;
    if ((rc = grow(r, (void **)&r->pend, &r->cap_pend, m->n_cores, sizeof *r->pend)))
        return rc;
    tn_core *c = &m->cores[m->n_cores];
    pending *pd = &r->pend[m->n_cores];
    memset(c, 0, sizeof *c);
    memset(pd, 0, sizeof *pd);
    m->n_cores++; /* from here on tn_model_free and the pending cleanup see it */
    c->id = id;
    pd->line = line;
    if ((rc = get_int(r, v, TN_F_RNG_SEED, false, &seed)) ||
        (rc = get_int(r, v, TN_F_TIME_SCALE, false, &tse)))
        return rc;
    c->rng_seed = (uint32_t)seed;
    c->time_scale_exponent = (int)tse;
    const json_t *meta = json_object_get(v, "metadata");
    if (meta && !(c->metadata_json = json_dumps(meta, JSON_COMPACT | JSON_ENCODE_ANY)))
        return fail_code(r, SNNC_ENOMEM, "out of memory");
    const json_t *xb = json_object_get(v, "crossbar");
    const json_t *xname = json_is_object(xb) ? json_object_get(xb, "name") : NULL;
    if (!json_is_string(xname)) {
        if (json_is_object(xb) && json_object_get(xb, "rows"))
            return fail_code(r, SNNC_EUNSUPPORTED,
                             "inline crossbars are not supported (write the model with "
                             "useCrossbarPrototypes: the core names a prototype in "
                             "\"crossbar\": {\"name\": ...})");
        return FAIL(r, "missing \"crossbar\": {\"name\": ...} naming a crossbar prototype");
    }
    if (!(pd->crossbar = strdup(json_string_value(xname))))
        return fail_code(r, SNNC_ENOMEM, "out of memory");
    static const char *const core_keys[] = {"metadata", "id", "timeScaleExponent", "rngSeed",
                                            "neurons", "crossbar", NULL},
                             *const xbar_keys[] = {"name", NULL};
    note_unknown(r, v, core_keys, NULL);
    note_unknown(r, xb, xbar_keys, "\"crossbar\":");
    return conv_neurons(r, json_object_get(v, "neurons"), c, pd);
}

/* ------------------------------------------------------------ resolution */

typedef struct named {
    const char *name;
    int idx;
} named;

typedef struct numbered {
    int64_t num;
    int idx;
} numbered;

static int cmp_named(const void *a, const void *b)
{
    return strcmp(((const named *)a)->name, ((const named *)b)->name);
}

static int cmp_numbered(const void *a, const void *b)
{
    int64_t x = ((const numbered *)a)->num, y = ((const numbered *)b)->num;
    return x < y ? -1 : x > y;
}

/* The number a neuron type is referred to by: its name "N" + 1..8 hex digits
 * (CPE writes N%08X; NeMo looks types up the same way), else -1. */
static int64_t type_number(const char *name)
{
    if (name[0] != 'N' || !name[1] || strlen(name) > 9)
        return -1;
    int64_t v = 0;
    for (const char *p = name + 1; *p; p++) {
        int d = hex_digit(*p);
        if (d < 0)
            return -1;
        v = v * 16 + d;
    }
    return v;
}

static int sorted_names(reader *r, named **out, int n, const char *what,
                        const char *(*name_of)(const tn_model *, int))
{
    named *v = malloc(((size_t)n + 1) * sizeof *v);
    if (!v)
        return fail_code(r, SNNC_ENOMEM, "out of memory");
    for (int i = 0; i < n; i++)
        v[i] = (named){name_of(r->m, i), i};
    qsort(v, (size_t)n, sizeof *v, cmp_named);
    for (int i = 1; i < n; i++)
        if (!strcmp(v[i - 1].name, v[i].name)) {
            int rc = FAIL(r, "%s '%s' is defined twice", what, v[i].name);
            free(v);
            return rc;
        }
    *out = v;
    return SNNC_OK;
}

static const char *xbar_name(const tn_model *m, int i) { return m->crossbars[i].name; }
static const char *type_name(const tn_model *m, int i) { return m->types[i].name; }

static int resolve_core(reader *r, int k, const named *xb, const numbered *tn, int n_tn)
{
    tn_model *m = r->m;
    tn_core *c = &m->cores[k];
    pending *pd = &r->pend[k];
    set_where(r, "core %lld (line %ld)", (long long)c->id, pd->line);
    named key = {pd->crossbar, 0};
    const named *hit = bsearch(&key, xb, (size_t)m->n_crossbars, sizeof *xb, cmp_named);
    if (!hit)
        return FAIL(r, "crossbar: undefined crossbar prototype '%s'", pd->crossbar);
    c->crossbar = hit->idx;
    for (int j = 0; j < TN_NEURONS; j++) {
        if (pd->type_num[j] == 0) {
            c->type[j] = -1;
            continue;
        }
        numbered nk = {pd->type_num[j], 0};
        const numbered *t = bsearch(&nk, tn, (size_t)n_tn, sizeof *tn, cmp_numbered);
        if (!t)
            return FAIL(r, "neuron %d: undefined neuron type %u (no type named N%08X) "
                           "(neurons.types)", j, pd->type_num[j], pd->type_num[j]);
        c->type[j] = t->idx;
    }
    return SNNC_OK;
}

static int cmp_named_idx(const void *a, const void *b)
{
    const named *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    return c ? c : (x->idx > y->idx) - (x->idx < y->idx);
}

static int cmp_idx(const void *a, const void *b)
{
    const named *x = a, *y = b;
    return (x->idx > y->idx) - (x->idx < y->idx);
}

/* Every core names a defined prototype; otherwise one message naming each
 * missing prototype once, with the first core that names it. */
static int check_prototypes(reader *r, const named *xb)
{
    tn_model *m = r->m;
    named *miss = malloc(((size_t)m->n_cores + 1) * sizeof *miss);
    if (!miss)
        return fail_code(r, SNNC_ENOMEM, "out of memory");
    size_t n = 0;
    for (int k = 0; k < m->n_cores; k++) {
        named key = {r->pend[k].crossbar, k};
        if (!bsearch(&key, xb, (size_t)m->n_crossbars, sizeof *xb, cmp_named))
            miss[n++] = key;
    }
    qsort(miss, n, sizeof *miss, cmp_named_idx);
    size_t u = 0;
    for (size_t i = 0; i < n; i++)
        if (!u || strcmp(miss[u - 1].name, miss[i].name))
            miss[u++] = miss[i];
    qsort(miss, u, sizeof *miss, cmp_idx);
    int rc = SNNC_OK;
    if (u == 1) {
        int k = miss[0].idx;
        set_where(r, "core %lld (line %ld)", (long long)m->cores[k].id, r->pend[k].line);
        rc = FAIL(r, "crossbar: undefined crossbar prototype '%s'", miss[0].name);
    } else if (u > 1) {
        char list[700] = "";
        size_t used = 0;
        for (size_t i = 0; i < u && i < 8 && used < sizeof list; i++)
            used += (size_t)snprintf(list + used, sizeof list - used,
                                     "%s'%.63s' (core %lld, line %ld)", i ? ", " : "",
                                     miss[i].name, (long long)m->cores[miss[i].idx].id,
                                     r->pend[miss[i].idx].line);
        rc = FAIL(r, "%zu undefined crossbar prototypes: %s%s", u, list, u > 8 ? ", ..." : "");
    }
    free(miss);
    return rc;
}

static int resolve(reader *r)
{
    tn_model *m = r->m;
    named *xb = NULL, *tnames = NULL;
    numbered *tn = NULL, *ids = NULL;
    int rc;
    r->where[0] = '\0';
    if ((rc = sorted_names(r, &xb, m->n_crossbars, "crossbar prototype", xbar_name)) ||
        (rc = sorted_names(r, &tnames, m->n_types, "neuron type", type_name)))
        goto out;
    tn = malloc(((size_t)m->n_types + 1) * sizeof *tn);
    ids = malloc(((size_t)m->n_cores + 1) * sizeof *ids);
    if (!tn || !ids) {
        rc = fail_code(r, SNNC_ENOMEM, "out of memory");
        goto out;
    }
    int n_tn = 0;
    for (int i = 0; i < m->n_types; i++) {
        int64_t num = type_number(m->types[i].name);
        if (num > 0)
            tn[n_tn++] = (numbered){num, i};
    }
    qsort(tn, (size_t)n_tn, sizeof *tn, cmp_numbered);
    for (int i = 1; i < n_tn; i++)
        if (tn[i - 1].num == tn[i].num) {
            rc = FAIL(r, "neuron types '%s' and '%s' both have the number %lld (a core's "
                         "\"types\" entry k names the type N%%08X of k)",
                      m->types[tn[i - 1].idx].name, m->types[tn[i].idx].name,
                      (long long)tn[i].num);
            goto out;
        }
    if ((rc = check_prototypes(r, xb)))
        goto out;
    for (int k = 0; k < m->n_cores; k++) {
        if ((rc = resolve_core(r, k, xb, tn, n_tn)))
            goto out;
        ids[k] = (numbered){m->cores[k].id, k};
    }
    r->where[0] = '\0';
    qsort(ids, (size_t)m->n_cores, sizeof *ids, cmp_numbered);
    for (int k = 1; k < m->n_cores; k++)
        if (ids[k - 1].num == ids[k].num) {
            int a = ids[k - 1].idx < ids[k].idx ? ids[k - 1].idx : ids[k].idx;
            int b = ids[k - 1].idx < ids[k].idx ? ids[k].idx : ids[k - 1].idx;
            rc = FAIL(r, "duplicate core id %lld (cores at lines %ld and %ld)",
                      (long long)ids[k].num, r->pend[a].line, r->pend[b].line);
            goto out;
        }
out:
    free(xb);
    free(tnames);
    free(tn);
    free(ids);
    return rc;
}

/* ------------------------------------------------------------ top level */

static int top_value(reader *r, const char *key, long line)
{
    bool *seen = !strcmp(key, "model")           ? &r->seen_model
                 : !strcmp(key, "crossbarTypes") ? &r->seen_xbars
                 : !strcmp(key, "neuronTypes")   ? &r->seen_types
                                                 : NULL;
    if (seen && *seen)
        return FAIL(r, "line %ld: the key \"%s\" appears twice", line, key);
    if (seen)
        *seen = true;
    if (!strcmp(key, "crossbarTypes"))
        return scan_array(r, key, conv_crossbar);
    if (!strcmp(key, "neuronTypes"))
        return scan_array(r, key, conv_type);
    json_t *v;
    int rc = parse_value(r, &v);
    if (rc)
        return rc;
    if (!strcmp(key, "core")) {
        rc = conv_core(r, v, line);
    } else if (!strcmp(key, "model")) {
        set_where(r, "\"model\" (line %ld)", line);
        const json_t *xs = json_object_get(v, "crossbarSize");
        if (!json_is_object(v))
            rc = FAIL(r, "must be an object");
        else if (xs && (!json_is_integer(xs) || json_integer_value(xs) != TN_NEURONS))
            rc = fail_code(r, SNNC_EUNSUPPORTED, "crossbarSize must be %d", TN_NEURONS);
        else if (!(r->m->header_json = json_dumps(v, JSON_COMPACT)))
            rc = fail_code(r, SNNC_ENOMEM, "out of memory");
    } else { /* any other key: parsed, skipped, counted */
        if (!r->m->n_unknown_keys)
            snprintf(r->m->first_unknown_key, sizeof r->m->first_unknown_key,
                     "line %ld: top-level key \"%.31s\"", line, key);
        r->m->n_unknown_keys++;
    }
    json_decref(v);
    r->where[0] = '\0';
    return rc;
}

static int read_top(reader *r)
{
    skip_ws(r);
    if (peek(r) != '{')
        return r->pos >= r->len ? FAIL(r, "empty file: expected a TrueNorth model object")
                                : expected(r, "'{' (a TrueNorth model file is one JSON object)");
    r->pos++;
    skip_ws(r);
    if (peek(r) == '}') {
        r->pos++;
    } else {
        for (;;) {
            skip_ws(r);
            long line = line_at(r, r->pos);
            if (peek(r) != '"')
                return expected(r, "a key string");
            json_t *k;
            int rc = parse_value(r, &k);
            if (rc)
                return rc;
            char key[32];
            snprintf(key, sizeof key, "%s", json_is_string(k) ? json_string_value(k) : "");
            json_decref(k);
            skip_ws(r);
            if (peek(r) != ':')
                return expected(r, "':' after a key");
            r->pos++;
            skip_ws(r);
            if ((rc = top_value(r, key, line)))
                return rc;
            skip_ws(r);
            if (peek(r) == ',') {
                r->pos++;
            } else if (peek(r) == '}') {
                r->pos++;
                break;
            } else {
                return expected(r, "',' or '}' after a top-level value");
            }
        }
    }
    skip_ws(r);
    if (r->pos < r->len)
        return FAIL(r, "line %ld, column %ld: unexpected text after the model object",
                    line_at(r, r->pos), column_at(r, r->pos));
    return SNNC_OK;
}

/* Read a model from text the caller owns and lets this function change
 * (comments are blanked out in place); buf[len] must be writable. */
static int read_owned(char *buf, size_t len, const char *name, tn_model **out, snnc_err *err)
{
    reader r = {.name = name, .err = err, .line_no = 1, .s = buf, .len = len};
    if (len > INT_MAX)
        return snnc_fail(err, SNNC_EUNSUPPORTED, "%s: file too large (%zu bytes; at most %d)",
                         name, len, INT_MAX);
    if (!(r.m = calloc(1, sizeof *r.m)))
        return snnc_fail(err, SNNC_ENOMEM, "%s: out of memory", name);
    buf[len] = '\0';
    const char *nul = memchr(buf, '\0', len); /* anywhere, comments included */
    int rc = nul ? FAIL(&r, "line %ld, column %ld: a NUL byte (a model file is text; the file is "
                            "damaged or not a model)", line_at(&r, (size_t)(nul - buf)),
                        column_at(&r, (size_t)(nul - buf)))
                 : strip_comments(&r, buf, len);
    if (!rc)
        rc = read_top(&r);
    if (!rc)
        rc = resolve(&r);
    for (int k = 0; k < r.m->n_cores && r.pend; k++)
        free(r.pend[k].crossbar);
    free(r.pend);
    if (rc) {
        tn_model_free(r.m);
        return rc;
    }
    *out = r.m;
    return SNNC_OK;
}

int tn_model_read_buffer(const char *text, size_t len, const char *name, tn_model **out,
                         snnc_err *err)
{
    if (out)
        *out = NULL;
    if (!name)
        name = "<buffer>";
    if (!out || (!text && len))
        return snnc_fail(err, SNNC_EUSAGE, "%s: no model text or output given", name);
    if (len > INT_MAX)
        return snnc_fail(err, SNNC_EUNSUPPORTED, "%s: file too large (%zu bytes; at most %d)",
                         name, len, INT_MAX);
    char *copy = malloc(len + 1);
    if (!copy)
        return snnc_fail(err, SNNC_ENOMEM, "%s: out of memory", name);
    if (len)
        memcpy(copy, text, len);
    int rc = read_owned(copy, len, name, out, err);
    free(copy);
    return rc;
}

int tn_model_read(const char *path, tn_model **out, snnc_err *err)
{
    if (out)
        *out = NULL;
    if (!out)
        return snnc_fail(err, SNNC_EUSAGE, "%s: no output given", path);
    void *buf;
    size_t n;
    int rc = snnc_read_file(path, INT_MAX, SNNC_BYTES_TEXT, &buf, &n, err);
    if (!rc)
        rc = read_owned(buf, n, path, out, err);
    free(buf);
    return rc;
}

/* ------------------------------------------------------------ model helpers */

void tn_model_free(tn_model *m)
{
    if (!m)
        return;
    free(m->header_json);
    free(m->crossbars);
    free(m->types);
    for (int k = 0; k < m->n_cores; k++)
        free(m->cores[k].metadata_json);
    free(m->cores);
    free(m);
}

bool tn_model_skipped_keys(const tn_model *m, char *buf, size_t size)
{
    if (!m || m->n_unknown_keys <= 0)
        return false;
    snprintf(buf, size, "%d key%s unknown to snnc skipped (not used, not written back); the "
             "first: %s", m->n_unknown_keys, m->n_unknown_keys == 1 ? "" : "s",
             m->first_unknown_key);
    return true;
}

int tn_model_core_index(const tn_model *m, int64_t id)
{
    if (!m || id < 0)
        return -1;
    /* CPE numbers cores 0..n-1 in file order: try that first. */
    if (id < m->n_cores && m->cores[id].id == id)
        return (int)id;
    for (int k = 0; k < m->n_cores; k++)
        if (m->cores[k].id == id)
            return k;
    return -1;
}
