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

int snnc_cli_read_tensor(const char *path, snnc_tensor **out, snnc_err *err)
{
    if (has_suffix(path, ".pb"))
        return snnc_tensor_pb_read(path, out, NULL, err);
    return snnc_npy_read(path, out, err);
}

/* Room left in a file name for a temporary suffix (".tmp-PID-N"). */
#define TMP_SUFFIX_MAX 24

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
    char parent[PATH_MAX];
    int n = slash ? (int)(slash - p) + (slash == p) : 1; /* "/x" -> "/", "x" -> "." */
    if (snprintf(parent, sizeof parent, "%.*s", n, slash ? p : ".") >= (int)sizeof parent)
        return snnc_fail(err, SNNC_EUSAGE, "%s '%s': path too long", flag, path);
    int e = stat(parent, &sb) ? errno : S_ISDIR(sb.st_mode) ? 0 : ENOTDIR;
    if (e)
        return snnc_fail(err, SNNC_EINVALID, "%s '%s': directory '%s': %s", flag, path, parent,
                         strerror(e));
    if (access(parent, W_OK | X_OK))
        return snnc_fail(err, SNNC_EINVALID, "%s '%s': directory '%s' is not writable: %s", flag,
                         path, parent, strerror(errno));
    if (lstat(p, &sb) == 0 && !replace)
        return snnc_fail(err, SNNC_EUSAGE, "'%s' exists (use --force to replace it)", path);
    if (!dir && stat(p, &sb) == 0 && S_ISDIR(sb.st_mode))
        return snnc_fail(err, SNNC_EINVALID, "%s '%s': is a directory (a file is written)", flag,
                         path);
    return SNNC_OK;
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

const char *snnc_cli_outputs_add(snnc_cli_outputs *o, const char *path)
{
    char **f = realloc(o->final_paths, (size_t)(o->n + 1) * sizeof *f);
    if (!f)
        return NULL;
    o->final_paths = f;
    char **t = realloc(o->temp_paths, (size_t)(o->n + 1) * sizeof *t);
    if (!t)
        return NULL;
    o->temp_paths = t;
    size_t len = strlen(path) + 32;
    char *tmp = malloc(len);
    if (!tmp)
        return NULL;
    snprintf(tmp, len, "%s.tmp-%ld-%d", path, (long)getpid(), o->n);
    if (snnc_cli_temp_add(tmp, false, NULL)) { /* removed on a signal */
        free(tmp);
        return NULL;
    }
    o->final_paths[o->n] = strdup(path);
    o->temp_paths[o->n] = tmp;
    return o->temp_paths[o->n++];
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
        if (rename(o->temp_paths[i], o->final_paths[i]) != 0) {
            int e = errno;
            snnc_fail(err, SNNC_EIO, "%s: %s", o->final_paths[i], strerror(e));
            for (int k = 0; k < i; k++)
                unlink(o->final_paths[k]);
            for (int k = i; k < o->n; k++)
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
