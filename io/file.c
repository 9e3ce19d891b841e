/* file.c — reading an input file whole, once, with a size limit
 * (interface: io/file.h).  One open, then reads until end of file: the
 * size a regular file reports only sizes the first buffer and refuses it
 * early when over the limit; pipes, FIFOs and devices are read the same
 * way, and their bytes checked as they come (/dev/zero fails at once). */
#include "file.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ir/error.h"

/* The kinds of `alive` that the chunk p[0..n) at offset `off` still allows. */
static unsigned check_bytes(unsigned alive, const unsigned char *p, size_t n, size_t off)
{
    if ((alive & SNNC_BYTES_TEXT) && memchr(p, 0, n))
        alive &= ~(unsigned)SNNC_BYTES_TEXT;
    if ((alive & SNNC_BYTES_NPY) && off == 0 && n && p[0] != 0x93)
        alive &= ~(unsigned)SNNC_BYTES_NPY;
    /* a tag is a varint field << 3 | wire type: field 0 and types 6, 7 do not exist */
    if ((alive & SNNC_BYTES_PROTOBUF) && off == 0 && n && (p[0] < 8 || (p[0] & 7) > 5))
        alive &= ~(unsigned)SNNC_BYTES_PROTOBUF;
    return alive;
}

static int wrong_bytes(const char *path, unsigned expect, const unsigned char *buf, size_t n,
                       snnc_err *err)
{
    static const char *const kinds[] = {"a text file", "a .npy file", "a protobuf message"};
    char what[96] = "";
    for (unsigned k = 0; k < 3; k++)
        if (expect & (1u << k))
            snprintf(what + strlen(what), sizeof what - strlen(what), "%s%s", what[0] ? " nor " : "",
                     kinds[k]);
    const unsigned char *nul = memchr(buf, 0, n);
    if (!(expect & SNNC_BYTES_TEXT) || !nul)
        return snnc_fail(err, SNNC_EINVALID, "%s: not %s (byte 0 is 0x%02x)", path, what,
                         n ? buf[0] : 0);
    size_t at = (size_t)(nul - buf), line = 1, col = 1; /* as a text editor counts */
    for (size_t i = 0; i < at; i++)
        buf[i] == '\n' ? (line++, col = 1) : col++;
    if (expect == SNNC_BYTES_TEXT)
        return snnc_fail(err, SNNC_EINVALID, "%s: line %zu, column %zu: a NUL byte (byte %zu): not %s",
                         path, line, col, at, what);
    return snnc_fail(err, SNNC_EINVALID, "%s: line %zu, column %zu: a NUL byte (byte %zu): not %s "
                     "(byte 0 is 0x%02x)", path, line, col, at, what, buf[0]);
}

static int too_large(const char *path, size_t limit, snnc_err *err)
{
    return snnc_fail(err, SNNC_ENOMEM, "%s: larger than %zu bytes (the most snnc reads)", path,
                     limit);
}

/* Reads f to its end into *buf (capacity *cap, grown up to limit + 2). */
static int read_all(FILE *f, const char *path, size_t limit, unsigned expect, char **buf,
                    size_t *cap, size_t *n, snnc_err *err)
{
    unsigned alive = expect;
    for (;;) {
        if (*n + 1 >= *cap) { /* full: at the end, or grow (room for the final NUL) */
            int c = getc(f);
            if (c == EOF)
                break;
            ungetc(c, f);
            if (*n > limit)
                return too_large(path, limit, err);
            size_t nc = *cap <= (limit + 2) / 2 ? *cap * 2 : limit + 2;
            char *nb = realloc(*buf, nc);
            if (!nb)
                return snnc_fail(err, SNNC_ENOMEM, "%s: out of memory (%zu bytes)", path, nc);
            *buf = nb, *cap = nc;
        }
        size_t got = fread(*buf + *n, 1, *cap - 1 - *n, f);
        if (got == 0)
            break;
        if (expect && !(alive = check_bytes(alive, (unsigned char *)*buf + *n, got, *n)))
            return wrong_bytes(path, expect, (unsigned char *)*buf, *n + got, err);
        *n += got;
        if (*n > limit)
            return too_large(path, limit, err);
    }
    if (ferror(f))
        return snnc_fail(err, SNNC_EIO, "%s: cannot read: %s", path, strerror(errno ? errno : EIO));
    return SNNC_OK;
}

int snnc_read_file(const char *path, size_t limit, unsigned expect, void **data, size_t *size,
                   snnc_err *err)
{
    *data = NULL;
    *size = 0;
    FILE *f = fopen(path, "rb");
    if (!f)
        return snnc_fail(err, SNNC_EIO, "%s: cannot open: %s", path, strerror(errno));
    struct stat st;
    size_t cap = 1 << 16, n = 0;
    int rc = SNNC_OK;
    if (fstat(fileno(f), &st) == 0) {
        if (S_ISDIR(st.st_mode))
            rc = snnc_fail(err, SNNC_EIO, "%s: cannot read: %s", path, strerror(EISDIR));
        else if (S_ISREG(st.st_mode) && (uint64_t)st.st_size > limit)
            rc = too_large(path, limit, err);
        else if (S_ISREG(st.st_mode) && st.st_size > 0)
            cap = (size_t)st.st_size + 1; /* a hint: the file may still grow or shrink */
    }
    char *buf = rc ? NULL : malloc(cap);
    if (!rc && !buf)
        rc = snnc_fail(err, SNNC_ENOMEM, "%s: out of memory (%zu bytes)", path, cap);
    if (!rc)
        rc = read_all(f, path, limit, expect, &buf, &cap, &n, err);
    fclose(f);
    if (rc) {
        free(buf);
        return rc;
    }
    buf[n] = '\0';
    *data = buf;
    *size = n;
    return SNNC_OK;
}
