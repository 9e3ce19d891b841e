/* tn_spikes.c — reads input spike files (CSV lines `tick,core,axon`) for the
 * TrueNorth simulator and checks them against the model and the run length
 * (interface: tn_spikes.h; rules: docs/TRUENORTH.md, "Command line").
 * Refused, naming the file, the line and the field: a NUL byte, a
 * malformed line, a negative tick, a core that is not in the model, an axon
 * outside 0..255.  Left out and counted: spikes at ticks the run does not
 * reach, and lines repeating an earlier spike (an axon is active once per
 * tick). */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "importer/importer.h"
#include "io/file.h"
#include "ir/error.h"
#include "tn_ranges.h"
#include "tn_spikes.h"

static const char *const field_name[3] = {"tick", "core", "axon"};

typedef struct rec {
    int64_t tick, core;
    int axon;
    long long line;
} rec;

typedef struct scan {
    const char *name;
    long long line;
    const char *p, *end; /* the rest of the line */
    snnc_err *err;
} scan;

/* Up to 24 bytes of the line from p, quoted, non-printable bytes as \xNN
 * (at most 1 + 24 * 4 + 4 bytes and the NUL). */
#define SHOWN_SIZE 112
static const char *shown(const scan *s, char buf[SHOWN_SIZE])
{
    if (s->p >= s->end)
        return "the end of the line";
    size_t n = 0;
    buf[n++] = '\'';
    for (const char *q = s->p; q < s->end && q < s->p + 24; q++) {
        unsigned char c = (unsigned char)*q;
        int w = c >= 0x20 && c < 0x7f ? snprintf(buf + n, SHOWN_SIZE - n, "%c", c)
                                      : snprintf(buf + n, SHOWN_SIZE - n, "\\x%02x", c);
        n += (size_t)w;
    }
    snprintf(buf + n, SHOWN_SIZE - n, "%s'", s->end - s->p > 24 ? "..." : "");
    return buf;
}

static void skip_blanks(scan *s)
{
    while (s->p < s->end && (*s->p == ' ' || *s->p == '\t'))
        s->p++;
}

/* The integer of field k at s->p, blanks around it skipped. */
static int number(scan *s, int k, int64_t *v)
{
    char buf[SHOWN_SIZE];
    skip_blanks(s);
    const char *start = s->p;
    bool neg = s->p < s->end && *s->p == '-';
    if (s->p < s->end && (*s->p == '-' || *s->p == '+'))
        s->p++;
    if (s->p >= s->end || *s->p < '0' || *s->p > '9') {
        s->p = start;
        return snnc_fail(s->err, SNNC_EINVALID, "%s:%lld: field %d (%s): expected an integer, "
                         "found %s", s->name, s->line, k + 1, field_name[k], shown(s, buf));
    }
    uint64_t x = 0;
    for (; s->p < s->end && *s->p >= '0' && *s->p <= '9'; s->p++) {
        unsigned d = (unsigned)(*s->p - '0');
        if (x > ((uint64_t)INT64_MAX - d) / 10)
            return snnc_fail(s->err, SNNC_EINVALID, "%s:%lld: field %d (%s): %.*s... is too "
                             "large (64-bit integers)", s->name, s->line, k + 1, field_name[k],
                             (int)(s->p - start), start);
        x = x * 10 + d;
    }
    *v = neg ? -(int64_t)x : (int64_t)x;
    skip_blanks(s);
    return SNNC_OK;
}

/* One spike line (neither blank nor a comment) -> r, checked against m. */
static int parse_line(scan *s, const tn_model *m, rec *r)
{
    char buf[SHOWN_SIZE];
    int64_t v[3];
    for (int k = 0; k < 3; k++) {
        int rc = number(s, k, &v[k]);
        if (rc)
            return rc;
        if (k < 2 && (s->p >= s->end || *s->p != ','))
            return snnc_fail(s->err, SNNC_EINVALID, "%s:%lld: expected ',' and field %d (%s) "
                             "after field %d (%s), found %s (lines are 'tick,core,axon')",
                             s->name, s->line, k + 2, field_name[k + 1], k + 1, field_name[k],
                             shown(s, buf));
        s->p += k < 2;
    }
    if (s->p < s->end)
        return snnc_fail(s->err, SNNC_EINVALID, "%s:%lld: after field 3 (axon): unexpected %s "
                         "(lines are 'tick,core,axon')", s->name, s->line, shown(s, buf));
    if (v[0] < 0)
        return snnc_fail(s->err, SNNC_EINVALID, "%s:%lld: field 1 (tick): negative tick %lld",
                         s->name, s->line, (long long)v[0]);
    if (tn_model_core_index(m, v[1]) < 0)
        return snnc_fail(s->err, SNNC_EINVALID, "%s:%lld: field 2 (core): no core with id %lld "
                         "in the model", s->name, s->line, (long long)v[1]);
    if (!tn_range_ok(TN_F_DEST_AXON, v[2]))
        return snnc_fail(s->err, SNNC_EINVALID, "%s:%lld: field 3 (axon): axon %lld is out of "
                         "range 0..%d", s->name, s->line, (long long)v[2], TN_AXONS - 1);
    *r = (rec){v[0], v[1], (int)v[2], s->line};
    return SNNC_OK;
}

static int cmp_key(const void *pa, const void *pb) /* tick, core, axon, line */
{
    const rec *a = pa, *b = pb;
    if (a->tick != b->tick)
        return a->tick < b->tick ? -1 : 1;
    if (a->core != b->core)
        return a->core < b->core ? -1 : 1;
    if (a->axon != b->axon)
        return a->axon < b->axon ? -1 : 1;
    return (a->line > b->line) - (a->line < b->line);
}

static int cmp_tick_line(const void *pa, const void *pb)
{
    const rec *a = pa, *b = pb;
    if (a->tick != b->tick)
        return a->tick < b->tick ? -1 : 1;
    return (a->line > b->line) - (a->line < b->line);
}

/* Repeated spikes out (counted), the rest sorted by tick, then line. */
static size_t drop_repeats(rec *v, size_t n, tn_spikes_notes *notes)
{
    if (n < 2)
        return n; /* (and qsort is not given NULL) */
    qsort(v, n, sizeof *v, cmp_key);
    size_t kept = 0;
    for (size_t i = 0; i < n; i++) {
        const rec *prev = kept ? &v[kept - 1] : NULL;
        if (prev && prev->tick == v[i].tick && prev->core == v[i].core && prev->axon == v[i].axon) {
            if (!notes->repeated || v[i].line < notes->repeated_line)
                notes->repeated_line = v[i].line, notes->repeated_of = prev->line;
            notes->repeated++;
            continue;
        }
        v[kept++] = v[i];
    }
    qsort(v, kept, sizeof *v, cmp_tick_line);
    return kept;
}

int tn_spikes_parse(const char *text, size_t len, const char *name, const tn_model *m,
                    int64_t ticks, tn_input_spike **out, size_t *n_out, tn_spikes_notes *notes,
                    snnc_err *err)
{
    *out = NULL, *n_out = 0;
    *notes = (tn_spikes_notes){0};
    rec *v = NULL;
    size_t n = 0, cap = 0;
    int rc = SNNC_OK;
    scan s = {name, 0, text, text, err};
    for (const char *p = text, *end = text + len; !rc && p < end;) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        s.line++;
        s.p = p;
        s.end = nl ? nl : end;
        p = nl ? nl + 1 : end;
        const char *nul = memchr(s.p, '\0', (size_t)(s.end - s.p));
        if (nul) {
            rc = snnc_fail(err, SNNC_EINVALID, "%s:%lld: a NUL byte at column %lld (a spike "
                           "file is text; nothing after it would be read)", name, s.line,
                           (long long)(nul - s.p) + 1);
            break;
        }
        if (s.end > s.p && s.end[-1] == '\r') /* CRLF */
            s.end--;
        skip_blanks(&s);
        if (s.p == s.end || *s.p == '#')
            continue;
        notes->lines++;
        rec r;
        if ((rc = parse_line(&s, m, &r)))
            break;
        if (r.tick >= ticks) {
            if (!notes->late)
                notes->late_line = r.line, notes->late_tick = r.tick;
            notes->late++;
            continue;
        }
        if (n == cap) {
            size_t nc = cap ? 2 * cap : 1024;
            rec *g = realloc(v, nc * sizeof *g);
            if (!g) {
                rc = snnc_fail(err, SNNC_ENOMEM, "%s: out of memory", name);
                break;
            }
            v = g, cap = nc;
        }
        v[n++] = r;
    }
    if (!rc)
        n = drop_repeats(v, n, notes);
    tn_input_spike *in = rc ? NULL : malloc((n + 1) * sizeof *in);
    if (!rc && !in)
        rc = snnc_fail(err, SNNC_ENOMEM, "%s: out of memory", name);
    for (size_t i = 0; !rc && i < n; i++)
        in[i] = (tn_input_spike){v[i].tick, v[i].core, v[i].axon};
    free(v);
    if (rc)
        return rc;
    *out = in, *n_out = n;
    return SNNC_OK;
}

int tn_spikes_read(const char *path, const tn_model *m, int64_t ticks, tn_input_spike **out,
                   size_t *n_out, tn_spikes_notes *notes, snnc_err *err)
{
    void *data = NULL;
    size_t size = 0;
    *out = NULL, *n_out = 0;
    int rc = snnc_read_file(path, SNNC_MAX_FILE_BYTES, SNNC_BYTES_TEXT, &data, &size, err);
    if (!rc)
        rc = tn_spikes_parse(data, size, path, m, ticks, out, n_out, notes, err);
    free(data);
    return rc;
}
