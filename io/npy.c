/* npy.c — NumPy .npy files (interfaces: include/snnc.h snnc_npy_read /
 * snnc_npy_write, npy.h snnc_npy_read_buffer).
 *
 * Reads format versions 1.0, 2.0 and 3.0; writes 1.0 (2.0 only when the
 * header would not fit), byte-for-byte what numpy 1.24's np.save writes.
 * Reading policy:
 *  - dtypes <f4 <f8 <i4 <i8 |u1 |b1; big-endian ('>') data is byte-swapped;
 *    '|', '=' or no order mark mean native order;
 *  - fortran_order True is accepted and the data transposed into C order;
 *  - any byte after the data is refused (trailing garbage = corrupt file);
 *  - headers over 1 MiB, rank > SNNC_MAX_RANK and element counts over
 *    SNNC_MAX_ELEMENTS are refused (SNNC_EINVALID) before allocating;
 *  - bool bytes other than 0/1 are normalised to 1.
 * Malformed files fail with SNNC_EINVALID, numpy dtypes snnc has no type for
 * (float16, complex, strings, structured ...) with SNNC_EUNSUPPORTED, files
 * that cannot be opened/read/written with SNNC_EIO.  Messages start with the
 * file name.  Sizes are checked against the file before anything is
 * allocated. */
#include "npy.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ir/error.h"
#include "ir/tensor.h"

#define NPY_MAGIC "\x93NUMPY"
#define NPY_MAGIC_LEN 6
#define NPY_MAX_HEADER (1u << 20) /* refuse larger headers (numpy: 10000) */
#define NPY_ALIGN 64              /* numpy's ARRAY_ALIGN */
#define NPY_GROWTH_DIGITS 21      /* numpy's GROWTH_AXIS_MAX_DIGITS */

/* ---------------------------------------------------------------- errors */

static int npy_fail(snnc_err *err, const char *name, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int npy_fail(snnc_err *err, const char *name, int code, const char *fmt, ...)
{
    char text[sizeof err->msg];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    return snnc_fail(err, code, "%s: %s", name, text);
}

static bool host_is_le(void)
{
    const uint16_t one = 1;
    return *(const uint8_t *)&one == 1;
}

/* ---------------------------------------------------------------- source */

/* Bytes come from a FILE or from memory; `total` is the source size when
 * known (regular files, buffers) so sizes can be checked up front. */
typedef struct {
    const char *name;
    snnc_err *err;
    FILE *f;
    const uint8_t *buf;
    size_t pos;
    int64_t total; /* -1 when unknown (pipe, device) */
    int64_t off;   /* bytes consumed */
} npy_src;

/* Reads up to n bytes; *got tells how many.  Fails only on an I/O error. */
static int src_read(npy_src *s, void *dst, size_t n, size_t *got)
{
    if (s->f) {
        *got = n ? fread(dst, 1, n, s->f) : 0;
        if (*got < n && ferror(s->f))
            return npy_fail(s->err, s->name, SNNC_EIO, "read failed: %s", strerror(errno));
    } else {
        size_t left = (size_t)s->total - s->pos;
        *got = n < left ? n : left;
        if (*got)
            memcpy(dst, s->buf + s->pos, *got);
        s->pos += *got;
    }
    s->off += (int64_t)*got;
    return SNNC_OK;
}

/* ---------------------------------------------------------------- header */

typedef struct {
    snnc_dtype dtype;
    bool swap; /* data is in the other byte order than the host's */
    bool fortran;
    int rank;
    int64_t dims[SNNC_MAX_RANK];
} npy_header;

typedef struct {
    const char *p, *start, *end;
    const char *name;
    snnc_err *err;
} hparser;

static int hp_fail(hparser *h, int code, const char *what)
{
    return npy_fail(h->err, h->name, code, "header dict: %s at offset %ld", what,
                    (long)(h->p - h->start));
}

static void hp_skip_ws(hparser *h)
{
    while (h->p < h->end && strchr(" \t\n\r\f\v", *h->p) && *h->p)
        h->p++;
}

static bool hp_peek(hparser *h, char c)
{
    hp_skip_ws(h);
    return h->p < h->end && *h->p == c;
}

static int hp_expect(hparser *h, char c)
{
    if (!hp_peek(h, c)) {
        char what[40];
        snprintf(what, sizeof what, "expected '%c'", c);
        return hp_fail(h, SNNC_EINVALID, what);
    }
    h->p++;
    return SNNC_OK;
}

/* A Python string literal without escapes, quoted with ' or ". */
static int hp_string(hparser *h, char *out, size_t cap)
{
    hp_skip_ws(h);
    if (h->p >= h->end || (*h->p != '\'' && *h->p != '"'))
        return hp_fail(h, SNNC_EINVALID, "expected a quoted string");
    char q = *h->p++;
    size_t n = 0;
    while (h->p < h->end && *h->p != q) {
        if (*h->p == '\\' || *h->p == '\n' || *h->p == '\0')
            return hp_fail(h, SNNC_EINVALID, "unsupported character in a string");
        if (n + 1 >= cap)
            return hp_fail(h, SNNC_EINVALID, "string too long");
        out[n++] = *h->p++;
    }
    if (h->p >= h->end)
        return hp_fail(h, SNNC_EINVALID, "unterminated string");
    h->p++;
    out[n] = '\0';
    return SNNC_OK;
}

static bool is_ident_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

/* Python True / False. */
static int hp_bool(hparser *h, bool *out)
{
    hp_skip_ws(h);
    static const char *const words[2] = {"False", "True"};
    for (int v = 0; v < 2; v++) {
        size_t n = strlen(words[v]);
        if ((size_t)(h->end - h->p) >= n && !memcmp(h->p, words[v], n) &&
            (h->p + n == h->end || !is_ident_char(h->p[n]))) {
            h->p += n;
            *out = v;
            return SNNC_OK;
        }
    }
    return hp_fail(h, SNNC_EINVALID, "fortran_order is not True or False");
}

/* A decimal dimension; Python 2's 'L' suffix is accepted. */
static int hp_dim(hparser *h, int64_t *out)
{
    hp_skip_ws(h);
    bool neg = h->p < h->end && *h->p == '-';
    if (neg)
        h->p++;
    if (h->p >= h->end || *h->p < '0' || *h->p > '9')
        return hp_fail(h, SNNC_EINVALID, "expected a dimension (a non-negative integer)");
    int64_t v = 0;
    while (h->p < h->end && *h->p >= '0' && *h->p <= '9') {
        int d = *h->p++ - '0';
        if (v > (INT64_MAX - d) / 10)
            return hp_fail(h, SNNC_EINVALID, "dimension too large");
        v = v * 10 + d;
    }
    if (neg) {
        char what[80];
        snprintf(what, sizeof what, "negative dimension -%lld", (long long)v);
        return hp_fail(h, SNNC_EINVALID, what);
    }
    if (h->p < h->end && (*h->p == 'L' || *h->p == 'l'))
        h->p++;
    *out = v;
    return SNNC_OK;
}

/* A Python tuple of dimensions: (), (3,), (2, 3), (2, 3,). */
static int hp_shape(hparser *h, npy_header *hd)
{
    int rc = hp_expect(h, '(');
    int commas = 0;
    hd->rank = 0;
    while (rc == SNNC_OK && !hp_peek(h, ')')) {
        int64_t v = 0;
        if ((rc = hp_dim(h, &v)) != SNNC_OK)
            return rc;
        if (hd->rank == SNNC_MAX_RANK) {
            char what[80];
            snprintf(what, sizeof what, "shape has more than %d dimensions", SNNC_MAX_RANK);
            return hp_fail(h, SNNC_EINVALID, what);
        }
        hd->dims[hd->rank++] = v;
        if (!hp_peek(h, ','))
            break;
        h->p++;
        commas++;
    }
    if (rc == SNNC_OK)
        rc = hp_expect(h, ')');
    if (rc == SNNC_OK && hd->rank == 1 && commas == 0)
        rc = hp_fail(h, SNNC_EINVALID, "shape (n) is not a tuple (expected (n,))");
    return rc;
}

/* numpy type strings: [<>|=]? kind size, e.g. '<f4', '|b1', '>i8'. */
static int parse_descr(hparser *h, const char *s, npy_header *hd)
{
    static const struct {
        char kind;
        int size;
        snnc_dtype dtype;
    } table[] = {
        {'f', 4, SNNC_F32}, {'f', 8, SNNC_F64}, {'i', 4, SNNC_I32},
        {'i', 8, SNNC_I64}, {'u', 1, SNNC_U8},  {'b', 1, SNNC_BOOL},
    };
    const char *q = s;
    char order = strchr("<>|=", *q) && *q ? *q++ : '=';
    char kind = *q ? *q++ : '\0';
    int size = 0, digits = 0;
    while (*q >= '0' && *q <= '9' && digits < 4) {
        size = size * 10 + (*q++ - '0');
        digits++;
    }
    bool unit = (kind == 'm' || kind == 'M') && *q == '[' && q[strlen(q) - 1] == ']';
    if (!kind || !strchr("biufcmMOSUVa", kind) || (*q && !unit) ||
        (digits == 0 && !strchr("OSUVa", kind)))
        return npy_fail(h->err, h->name, SNNC_EINVALID, "unknown dtype '%s'", s);
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
        if (table[i].kind == kind && table[i].size == size) {
            hd->dtype = table[i].dtype;
            bool file_le = order == '<' || (order != '>' && host_is_le());
            hd->swap = size > 1 && file_le != host_is_le();
            return SNNC_OK;
        }
    }
    return npy_fail(h->err, h->name, SNNC_EUNSUPPORTED,
                    "dtype '%s' is not supported (snnc reads <f4 <f8 <i4 <i8 |u1 |b1, "
                    "either byte order)",
                    s);
}

static int hp_value(hparser *h, const char *key, npy_header *hd)
{
    if (!strcmp(key, "descr")) {
        if (hp_peek(h, '['))
            return npy_fail(h->err, h->name, SNNC_EUNSUPPORTED,
                            "structured dtypes (descr is a list) are not supported");
        char descr[32];
        int rc = hp_string(h, descr, sizeof descr);
        return rc ? rc : parse_descr(h, descr, hd);
    }
    if (!strcmp(key, "fortran_order"))
        return hp_bool(h, &hd->fortran);
    return hp_shape(h, hd);
}

/* The header: a Python dict literal with exactly the keys descr,
 * fortran_order and shape in any order, then only whitespace. */
static int parse_header(const char *text, size_t len, const char *name, snnc_err *err,
                        npy_header *hd)
{
    static const char *const keys[3] = {"descr", "fortran_order", "shape"};
    hparser h = {text, text, text + len, name, err};
    bool seen[3] = {false, false, false};
    int rc = hp_expect(&h, '{');
    while (rc == SNNC_OK && !hp_peek(&h, '}')) {
        char key[32];
        if ((rc = hp_string(&h, key, sizeof key)) != SNNC_OK)
            return rc;
        int k = 0;
        while (k < 3 && strcmp(key, keys[k]))
            k++;
        if (k == 3)
            return npy_fail(err, name, SNNC_EINVALID, "header dict: unexpected key '%s'", key);
        if (seen[k])
            return npy_fail(err, name, SNNC_EINVALID, "header dict: duplicate key '%s'", key);
        seen[k] = true;
        if ((rc = hp_expect(&h, ':')) != SNNC_OK || (rc = hp_value(&h, key, hd)) != SNNC_OK)
            return rc;
        if (!hp_peek(&h, ','))
            break;
        h.p++;
    }
    if (rc == SNNC_OK)
        rc = hp_expect(&h, '}');
    if (rc != SNNC_OK)
        return rc;
    hp_skip_ws(&h);
    if (h.p != h.end)
        return hp_fail(&h, SNNC_EINVALID, "unexpected text after the dict");
    for (int k = 0; k < 3; k++)
        if (!seen[k])
            return npy_fail(err, name, SNNC_EINVALID, "header dict lacks the key '%s'", keys[k]);
    return SNNC_OK;
}

/* ---------------------------------------------------------------- reader */

/* Magic, version and header length; leaves the source at the header text. */
static int read_preamble(npy_src *s, uint32_t *hlen)
{
    uint8_t pre[12];
    size_t got;
    int rc = src_read(s, pre, 8, &got);
    if (rc)
        return rc;
    if (got == 0)
        return npy_fail(s->err, s->name, SNNC_EINVALID, "empty file");
    if (memcmp(pre, NPY_MAGIC, got < NPY_MAGIC_LEN ? got : NPY_MAGIC_LEN))
        return npy_fail(s->err, s->name, SNNC_EINVALID, "not a .npy file (bad magic)");
    if (got < 8)
        return npy_fail(s->err, s->name, SNNC_EINVALID,
                        "truncated: %zu bytes, shorter than the .npy preamble", got);
    int major = pre[6], minor = pre[7];
    if (minor != 0 || major < 1 || major > 3)
        return npy_fail(s->err, s->name, SNNC_EINVALID,
                        "unknown .npy format version %d.%d (snnc reads 1.0, 2.0, 3.0)", major,
                        minor);
    size_t lensize = major == 1 ? 2 : 4;
    if ((rc = src_read(s, pre + 8, lensize, &got)) != SNNC_OK)
        return rc;
    if (got < lensize)
        return npy_fail(s->err, s->name, SNNC_EINVALID, "truncated header length field");
    *hlen = (uint32_t)pre[8] | (uint32_t)pre[9] << 8;
    if (major > 1)
        *hlen |= (uint32_t)pre[10] << 16 | (uint32_t)pre[11] << 24;
    if (s->total >= 0 && (int64_t)*hlen > s->total - s->off)
        return npy_fail(s->err, s->name, SNNC_EINVALID,
                        "truncated header: header length %u goes beyond the end of the file "
                        "(%lld bytes)",
                        *hlen, (long long)s->total);
    if (*hlen > NPY_MAX_HEADER)
        return npy_fail(s->err, s->name, SNNC_EINVALID,
                        "header length %u exceeds the %u-byte limit", *hlen, NPY_MAX_HEADER);
    return SNNC_OK;
}

static int read_header(npy_src *s, npy_header *hd)
{
    uint32_t hlen = 0;
    int rc = read_preamble(s, &hlen);
    if (rc)
        return rc;
    char *text = malloc(hlen ? hlen : 1);
    if (!text)
        return npy_fail(s->err, s->name, SNNC_ENOMEM, "out of memory for the header");
    size_t got;
    rc = src_read(s, text, hlen, &got);
    if (rc == SNNC_OK && got < hlen)
        rc = npy_fail(s->err, s->name, SNNC_EINVALID, "truncated header (%zu of %u bytes)", got,
                      hlen);
    if (rc == SNNC_OK)
        rc = parse_header(text, hlen, s->name, s->err, hd);
    free(text);
    return rc;
}

static void byteswap(uint8_t *p, int64_t count, size_t es)
{
    for (int64_t i = 0; i < count; i++, p += es)
        for (size_t a = 0, b = es - 1; a < b; a++, b--) {
            uint8_t t = p[a];
            p[a] = p[b];
            p[b] = t;
        }
}

/* dst (C order) <- src (Fortran order), both of shape dims. */
static void fortran_to_c(const uint8_t *src, uint8_t *dst, int rank, const int64_t *dims,
                         int64_t count, size_t es)
{
    int64_t stride[SNNC_MAX_RANK], idx[SNNC_MAX_RANK] = {0}, s = 1, off = 0;
    for (int k = 0; k < rank; k++) {
        stride[k] = s;
        s *= dims[k];
    }
    for (int64_t i = 0; i < count; i++) {
        memcpy(dst + (size_t)i * es, src + (size_t)off * es, es);
        for (int k = rank - 1; k >= 0; k--) {
            if (++idx[k] < dims[k]) {
                off += stride[k];
                break;
            }
            off -= stride[k] * (dims[k] - 1);
            idx[k] = 0;
        }
    }
}

/* Reads the data after the header into a new tensor, refusing short data and
 * trailing bytes. */
static int read_data(npy_src *s, const npy_header *hd, snnc_tensor **out)
{
    char dbuf[200];
    const char *dstr = snnc_dims_str(hd->rank, hd->dims, dbuf, sizeof dbuf);
    int64_t count = snnc_shape_count(hd->rank, hd->dims);
    if (count < 0)
        return npy_fail(s->err, s->name, SNNC_EINVALID, "shape %s has more than %lld elements",
                        dstr, (long long)SNNC_MAX_ELEMENTS);
    size_t es = snnc_dtype_size(hd->dtype);
    int64_t need = count * (int64_t)es;
    const char *tname = snnc_dtype_name(hd->dtype);
    if (s->total >= 0 && s->total - s->off != need) {
        int64_t have = s->total - s->off;
        if (have < need)
            return npy_fail(s->err, s->name, SNNC_EINVALID,
                            "truncated data: %lld bytes present, shape %s of %s needs %lld",
                            (long long)have, dstr, tname, (long long)need);
        return npy_fail(s->err, s->name, SNNC_EINVALID,
                        "%lld trailing bytes after the data of shape %s of %s",
                        (long long)(have - need), dstr, tname);
    }
    snnc_tensor *t = snnc_tensor_new(hd->dtype, hd->rank, hd->dims, s->err);
    if (!t) {
        snnc_err_prefix(s->err, "%s", s->name);
        return s->err ? s->err->code : SNNC_ENOMEM;
    }
    size_t got;
    uint8_t extra;
    int rc = src_read(s, t->data, (size_t)need, &got);
    if (rc == SNNC_OK && got < (size_t)need)
        rc = npy_fail(s->err, s->name, SNNC_EINVALID,
                      "truncated data: %zu bytes present, shape %s of %s needs %lld", got, dstr,
                      tname, (long long)need);
    if (rc == SNNC_OK && (rc = src_read(s, &extra, 1, &got)) == SNNC_OK && got)
        rc = npy_fail(s->err, s->name, SNNC_EINVALID, "trailing bytes after the data");
    if (rc != SNNC_OK) {
        snnc_tensor_free(t);
        return rc;
    }
    *out = t;
    return SNNC_OK;
}

/* Byte order, bool values and Fortran order, in place (may replace *t). */
static int normalise(npy_src *s, const npy_header *hd, snnc_tensor **t)
{
    size_t es = snnc_dtype_size(hd->dtype);
    uint8_t *p = (*t)->data;
    if (hd->swap)
        byteswap(p, (*t)->count, es);
    if (hd->dtype == SNNC_BOOL)
        for (int64_t i = 0; i < (*t)->count; i++)
            p[i] = p[i] != 0;
    if (hd->fortran && hd->rank > 1) {
        snnc_tensor *c = snnc_tensor_new(hd->dtype, hd->rank, hd->dims, s->err);
        if (!c) {
            snnc_err_prefix(s->err, "%s", s->name);
            return s->err ? s->err->code : SNNC_ENOMEM;
        }
        fortran_to_c(p, c->data, hd->rank, hd->dims, c->count, es);
        snnc_tensor_free(*t);
        *t = c;
    }
    return SNNC_OK;
}

static int npy_read(npy_src *s, snnc_tensor **out)
{
    npy_header hd = {0};
    snnc_tensor *t = NULL;
    int rc = read_header(s, &hd);
    if (rc == SNNC_OK)
        rc = read_data(s, &hd, &t);
    if (rc == SNNC_OK)
        rc = normalise(s, &hd, &t);
    if (rc == SNNC_OK)
        *out = t;
    return rc;
}

int snnc_npy_read_buffer(const void *data, size_t size, const char *name, snnc_tensor **out,
                         snnc_err *err)
{
    if (!name)
        name = "<buffer>";
    if (!out || (!data && size))
        return snnc_fail(err, SNNC_EUSAGE, "%s: snnc_npy_read_buffer called without data/output",
                         name);
    *out = NULL;
    npy_src s = {name, err, NULL, data, 0, (int64_t)size, 0};
    return npy_read(&s, out);
}

int snnc_npy_read(const char *path, snnc_tensor **out, snnc_err *err)
{
    if (!path || !out)
        return snnc_fail(err, SNNC_EUSAGE, "snnc_npy_read called without a path/output");
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f)
        return npy_fail(err, path, SNNC_EIO, "cannot open: %s", strerror(errno));
    struct stat st;
    int e = fstat(fileno(f), &st) != 0 ? errno : S_ISDIR(st.st_mode) ? EISDIR : 0;
    if (e) {
        fclose(f);
        return npy_fail(err, path, SNNC_EIO, "cannot read: %s", strerror(e));
    }
    npy_src s = {path, err, f, NULL, 0, S_ISREG(st.st_mode) ? (int64_t)st.st_size : -1, 0};
    int rc = npy_read(&s, out);
    fclose(f);
    return rc;
}

/* ---------------------------------------------------------------- writer */

static const char *descr_of(snnc_dtype d)
{
    bool le = host_is_le();
    switch (d) {
    case SNNC_F32: return le ? "<f4" : ">f4";
    case SNNC_F64: return le ? "<f8" : ">f8";
    case SNNC_I32: return le ? "<i4" : ">i4";
    case SNNC_I64: return le ? "<i8" : ">i8";
    case SNNC_U8: return "|u1";
    case SNNC_BOOL: return "|b1";
    default: return NULL;
    }
}

/* The dict text numpy writes: sorted keys, repr() of the values, then room
 * for growing the first axis in place. */
static size_t format_dict(char *buf, size_t cap, const snnc_tensor *t)
{
    size_t n = (size_t)snprintf(buf, cap, "{'descr': '%s', 'fortran_order': False, 'shape': (",
                                descr_of(t->dtype));
    for (int i = 0; i < t->rank; i++)
        n += (size_t)snprintf(buf + n, cap - n, "%s%lld", i ? ", " : "", (long long)t->dims[i]);
    n += (size_t)snprintf(buf + n, cap - n, "%s), }", t->rank == 1 ? "," : "");
    if (t->rank > 0) {
        int digits = snprintf(NULL, 0, "%lld", (long long)t->dims[0]);
        for (int i = digits; i < NPY_GROWTH_DIGITS; i++)
            buf[n++] = ' ';
    }
    buf[n] = '\0';
    return n;
}

static int check_tensor(const char *path, const snnc_tensor *t, snnc_err *err)
{
    if (!t)
        return npy_fail(err, path, SNNC_EUSAGE, "no tensor to write");
    if (!descr_of(t->dtype))
        return npy_fail(err, path, SNNC_EINVALID, "cannot write a tensor of element type %d",
                        (int)t->dtype);
    if (t->rank < 0 || t->rank > SNNC_MAX_RANK)
        return npy_fail(err, path, SNNC_EINVALID, "cannot write a tensor of rank %d", t->rank);
    int64_t count = snnc_shape_count(t->rank, t->dims);
    if (count < 0 || count != t->count || (count && !t->data))
        return npy_fail(err, path, SNNC_EINVALID,
                        "tensor count %lld or data does not match its shape", (long long)t->count);
    return SNNC_OK;
}

int snnc_npy_write(const char *path, const snnc_tensor *t, snnc_err *err)
{
    if (!path)
        return snnc_fail(err, SNNC_EUSAGE, "snnc_npy_write called without a path");
    int rc = check_tensor(path, t, err);
    if (rc)
        return rc;
    char dict[SNNC_MAX_RANK * 24 + 128 + NPY_ALIGN];
    size_t dlen = format_dict(dict, sizeof dict - NPY_ALIGN, t);
    /* numpy pads with spaces and ends with '\n' so the data starts on a
     * 64-byte boundary (a full 64 bytes of padding when already aligned). */
    int major = 1;
    size_t prefix = 10, hlen = dlen + 1;
    size_t pad = NPY_ALIGN - (prefix + hlen) % NPY_ALIGN;
    if (hlen + pad > 0xffff) {
        major = 2;
        prefix = 12;
        pad = NPY_ALIGN - (prefix + hlen) % NPY_ALIGN;
    }
    uint8_t pre[12];
    uint32_t total = (uint32_t)(hlen + pad);
    memcpy(pre, NPY_MAGIC, NPY_MAGIC_LEN);
    pre[6] = (uint8_t)major;
    pre[7] = 0;
    for (size_t i = 8; i < prefix; i++)
        pre[i] = (uint8_t)(total >> (8 * (i - 8)));
    memset(dict + dlen, ' ', pad);
    dict[dlen + pad] = '\n';

    FILE *f = fopen(path, "wb");
    if (!f)
        return npy_fail(err, path, SNNC_EIO, "cannot open for writing: %s", strerror(errno));
    size_t es = snnc_dtype_size(t->dtype);
    bool ok = fwrite(pre, 1, prefix, f) == prefix &&
              fwrite(dict, 1, dlen + pad + 1, f) == dlen + pad + 1 &&
              (t->count == 0 || fwrite(t->data, es, (size_t)t->count, f) == (size_t)t->count);
    int e = errno;
    if (fclose(f) != 0 && ok) {
        ok = false;
        e = errno;
    }
    if (!ok)
        return npy_fail(err, path, SNNC_EIO, "write failed: %s", strerror(e));
    return SNNC_OK;
}
