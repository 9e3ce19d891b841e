/* cli_util.c — exit codes, error messages, NAME=FILE arguments, tensor
 * files, output paths checked before any work and all-or-nothing output
 * files for the subcommands (cli.h). */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../ir/error.h"
#include "cli.h"
#include "importer/importer.h"
#include "io/npy.h"

int snnc_cli_exit(int status)
{
    if (status == SNNC_OK)
        return SNNC_EXIT_OK;
    return status == SNNC_EUSAGE ? SNNC_EXIT_USAGE : SNNC_EXIT_INVALID;
}

int snnc_cli_fail(const char *cmd, const snnc_err *err)
{
    fprintf(stderr, "snnc %s: error: %s\n", cmd, err->msg[0] ? err->msg : "failed");
    return snnc_cli_exit(err->code ? err->code : SNNC_EINVALID);
}

int snnc_cli_usage(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "snnc %s: ", cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n(see 'snnc %s --help')\n", cmd);
    return SNNC_EXIT_USAGE;
}

char *snnc_cli_path_join(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = malloc(n);
    if (p)
        snprintf(p, n, "%s/%s", dir, name);
    return p;
}

bool snnc_cli_is_help(const char *arg) { return !strcmp(arg, "--help") || !strcmp(arg, "-h"); }

void snnc_cli_split_binding(const char *arg, char **buf, const char **name, const char **file)
{
    *buf = strdup(arg);
    char *eq = *buf ? strchr(*buf, '=') : NULL;
    if (eq && eq != *buf) {
        *eq = '\0';
        *name = *buf;
        *file = eq + 1;
    } else {
        *name = NULL;
        *file = *buf ? *buf : arg;
    }
}

static bool has_suffix(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* A name ending in .pb, or a regular file (a .npy whatever its name), tells
 * the format; a FIFO, pipe or device (/dev/stdin) is read once and its
 * first byte tells: the .npy magic or a TensorProto. */
int snnc_cli_read_tensor(const char *path, snnc_tensor **out, snnc_err *err)
{
    struct stat sb;
    if (has_suffix(path, ".pb"))
        return snnc_tensor_pb_read(path, out, NULL, err);
    if (stat(path, &sb) != 0 || S_ISREG(sb.st_mode) || S_ISDIR(sb.st_mode))
        return snnc_npy_read(path, out, err);
    void *data;
    size_t size;
    int rc = snnc_read_file(path, SNNC_MAX_FILE_BYTES, SNNC_BYTES_NPY | SNNC_BYTES_PROTOBUF, &data,
                            &size, err);
    if (!rc)
        rc = !size || ((unsigned char *)data)[0] == 0x93 /* empty: the .npy reader says so */
                 ? snnc_npy_read_buffer(data, size, path, out, err)
                 : snnc_tensor_pb_read_buffer(data, size, path, out, NULL, err);
    free(data);
    return rc;
}

/* Room left in a file name for a temporary suffix (".tmp-PID-N"). */
#define TMP_SUFFIX_MAX 24

/* The directory that will hold `target` exists (and, with `writable`, can
 * take a new file). */
static int check_parent(const char *flag, const char *path, const char *target, bool writable,
                        snnc_err *err)
{
    const char *slash = strrchr(target, '/');
    char parent[PATH_MAX];
    int n = slash ? (int)(slash - target) + (slash == target) : 1; /* "/x" -> "/", "x" -> "." */
    if (snprintf(parent, sizeof parent, "%.*s", n, slash ? target : ".") >= (int)sizeof parent)
        return snnc_fail(err, SNNC_EUSAGE, "%s '%s': path too long", flag, path);
    struct stat sb;
    int e = stat(parent, &sb) ? errno : S_ISDIR(sb.st_mode) ? 0 : ENOTDIR;
    if (e)
        return snnc_fail(err, SNNC_EINVALID, "%s '%s': directory '%s': %s", flag, path, parent,
                         strerror(e));
    if (writable && access(parent, W_OK | X_OK))
        return snnc_fail(err, SNNC_EINVALID, "%s '%s': directory '%s' is not writable: %s", flag,
                         path, parent, strerror(errno));
    return SNNC_OK;
}

static int check_dest(const char *flag, const char *path, const char *p, bool dir, bool replace,
                      snnc_err *err)
{
    const char *slash = strrchr(p, '/'), *base = slash ? slash + 1 : p;
    struct stat sb;
    if (!*base || !strcmp(base, ".") || !strcmp(base, ".."))
        return snnc_fail(err, SNNC_EUSAGE, "%s '%s': not a name for a new %s", flag, path,
                         dir ? "directory" : "file");
    if (strlen(base) > NAME_MAX - TMP_SUFFIX_MAX)
        return snnc_fail(err, SNNC_EUSAGE, "%s '%s': a name longer than %d bytes", flag, path,
                         NAME_MAX - TMP_SUFFIX_MAX);
    if (stat(p, &sb) == 0 && !replace) /* a dangling link is refused below */
        return snnc_fail(err, SNNC_EUSAGE, "'%s' exists (use --force to replace it)", path);
    int rc = check_parent(flag, path, p, false, err);
    char *target = NULL; /* NULL: a FIFO, device or socket, written in place */
    if (!rc && snnc_cli_output_target(p, dir, &target, err)) {
        size_t k = strlen(p); /* "P: why" -> "FLAG 'PATH': why" */
        char why[sizeof err->msg];
        snprintf(why, sizeof why, "%s", strncmp(err->msg, p, k) || err->msg[k] != ':' ? err->msg
                                                                                   : err->msg + k + 2);
        return snnc_fail(err, err->code, "%s '%s': %s", flag, path, why);
    }
    if (rc)
        return rc;
    rc = target ? check_parent(flag, path, target, true, err) : SNNC_OK;
    free(target);
    return rc;
}

int snnc_cli_output_check(const char *flag, const char *path, bool dir, bool replace,
                          char **norm, snnc_err *err)
{
    if (!path || !*path)
        return snnc_fail(err, SNNC_EUSAGE, "%s: an empty path", flag);
    size_t n = strlen(path);
    if (!dir && path[n - 1] == '/')
        return snnc_fail(err, SNNC_EUSAGE, "%s '%s': names a directory (a file is written)", flag,
                         path);
    while (n > 1 && path[n - 1] == '/')
        n--;
    char *p = strndup(path, n);
    if (!p)
        return snnc_fail(err, SNNC_ENOMEM, "out of memory");
    int rc = check_dest(flag, path, p, dir, replace, err);
    if (!rc && norm)
        *norm = p;
    else
        free(p);
    return rc;
}

const char *snnc_cli_outputs_add(snnc_cli_outputs *o, const char *path, snnc_err *err)
{
    char *target = NULL;
    if (snnc_cli_output_target(path, false, &target, err))
        return NULL;
    char *final = target ? target : strdup(path); /* no target: written in place */
    size_t len = target ? strlen(target) + 32 : 0;
    char *tmp = target ? malloc(len) : NULL;
    char **f = realloc(o->final_paths, (size_t)(o->n + 1) * sizeof *f);
    if (f)
        o->final_paths = f;
    char **t = realloc(o->temp_paths, (size_t)(o->n + 1) * sizeof *t);
    if (t)
        o->temp_paths = t;
    if (!final || (target && !tmp) || !f || !t) {
        free(final), free(tmp);
        snnc_fail(err, SNNC_ENOMEM, "out of memory");
        return NULL;
    }
    if (tmp)
        snprintf(tmp, len, "%s.tmp-%ld-%d", target, (long)getpid(), o->n);
    if (tmp && snnc_cli_temp_add(tmp, false, NULL)) { /* removed on a signal */
        free(final), free(tmp);
        snnc_fail(err, SNNC_ENOMEM, "out of memory");
        return NULL;
    }
    o->final_paths[o->n] = final;
    o->temp_paths[o->n++] = tmp;
    return tmp ? tmp : final;
}

static void outputs_free(snnc_cli_outputs *o)
{
    for (int i = 0; i < o->n; i++) {
        snnc_cli_temp_forget(o->temp_paths[i]);
        free(o->final_paths[i]);
        free(o->temp_paths[i]);
    }
    free(o->final_paths);
    free(o->temp_paths);
    memset(o, 0, sizeof *o);
}

int snnc_cli_outputs_commit(snnc_cli_outputs *o, snnc_err *err)
{
    for (int i = 0; i < o->n; i++) {
        if (o->temp_paths[i] && rename(o->temp_paths[i], o->final_paths[i]) != 0) {
            int e = errno;
            snnc_fail(err, SNNC_EIO, "%s: %s", o->final_paths[i], strerror(e));
            for (int k = 0; k < i; k++)
                if (o->temp_paths[k]) /* not what was written in place */
                    unlink(o->final_paths[k]);
            for (int k = i; k < o->n; k++)
                if (o->temp_paths[k])
                    unlink(o->temp_paths[k]);
            outputs_free(o);
            return SNNC_EIO;
        }
    }
    outputs_free(o);
    return SNNC_OK;
}

void snnc_cli_outputs_abort(snnc_cli_outputs *o)
{
    for (int i = 0; i < o->n; i++)
        if (o->temp_paths[i])
            unlink(o->temp_paths[i]);
    outputs_free(o);
}

void snnc_cli_err_data_file(snnc_err *err, const char *subject, const char *flag, const char *file)
{
    if (err && file && strncmp(err->msg, subject, strlen(subject)) == 0)
        snnc_err_prefix(err, "%s %s", flag, file);
}

void snnc_cli_err_rename(snnc_err *err, const char *tmp, const char *path)
{
    char out[sizeof err->msg];
    size_t o = 0, tl = tmp ? strlen(tmp) : 0;
    for (const char *p = err->msg; *p && o + 1 < sizeof out;) {
        if (tl && strncmp(p, tmp, tl) == 0) {
            o += (size_t)snprintf(out + o, sizeof out - o, "%s", path);
            p += tl;
        } else {
            out[o++] = *p++;
        }
    }
    out[o < sizeof out ? o : sizeof out - 1] = '\0';
    memcpy(err->msg, out, sizeof out);
}
