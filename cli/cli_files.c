/* cli_files.c — how the subcommands reach their files (interface: cli.h):
 * JSON inputs read once through io/file.h, and the rules deciding how an
 * output path is written (README "Output files"): a regular file or a new
 * name through a temporary beside it renamed at the end; through a symbolic
 * link, the file it leads to the same way (the link stays); a FIFO, a device
 * or a socket written in place; a directory or a dangling link refused. */
#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../ir/error.h"
#include "cli.h"
#include "io/file.h"

int snnc_cli_output_target(const char *path, bool dir, char **target, snnc_err *err)
{
    struct stat ls, st;
    *target = NULL;
    if (lstat(path, &ls) != 0) {
        if (errno != ENOENT)
            return snnc_fail(err, SNNC_EIO, "%s: %s", path, strerror(errno));
        *target = strdup(path); /* a new file */
        return *target ? SNNC_OK : snnc_fail(err, SNNC_ENOMEM, "out of memory");
    }
    bool link = S_ISLNK(ls.st_mode);
    if (stat(path, &st) != 0) {
        int e = errno;
        char to[PATH_MAX];
        ssize_t k = link && e == ENOENT ? readlink(path, to, sizeof to - 1) : -1;
        if (k >= 0)
            return snnc_fail(err, SNNC_EIO, "%s: a symbolic link to '%.*s', which does not exist "
                             "(not written through)", path, (int)k, to);
        return snnc_fail(err, SNNC_EIO, "%s: %s", path, strerror(e));
    }
    if (S_ISDIR(st.st_mode) && !dir)
        return snnc_fail(err, SNNC_EIO, "%s: is a directory (expected a file name)", path);
    if (!S_ISDIR(st.st_mode) && dir)
        return snnc_fail(err, SNNC_EIO, "%s: exists and is not a directory", path);
    if (!dir && !S_ISREG(st.st_mode))
        return SNNC_OK; /* FIFO, device, socket: written in place */
    *target = link ? realpath(path, NULL) : strdup(path);
    if (!*target)
        return snnc_fail(err, SNNC_EIO, "%s: %s", path, strerror(errno));
    return SNNC_OK;
}

json_t *snnc_cli_read_json(const char *path, snnc_err *err)
{
    void *text;
    size_t size;
    if (snnc_read_file(path, INT_MAX, SNNC_BYTES_TEXT, &text, &size, err))
        return NULL;
    json_error_t je;
    json_t *j = json_loadb(text, size, 0, &je);
    free(text);
    if (!j)
        snnc_fail(err, SNNC_EINVALID, "%s: %s", path, je.text);
    return j;
}
