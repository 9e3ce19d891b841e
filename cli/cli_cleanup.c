/* cli_cleanup.c — temporaries that a signal removes (cli.h).
 *
 * Outputs are written under temporary names beside their destination
 * (snnc_cli_outputs_add, convert's OUTDIR.tmp-PID) and registered here while
 * they exist.  SIGINT, SIGTERM and SIGHUP remove every registered temporary
 * with async-signal-safe calls only (unlink, rename, openat, getdents64,
 * unlinkat), then end the process by the same signal, so that the exit
 * status says it (130, 143, 129 in a shell).  A signal ignored when snnc
 * started (nohup, a background job of a script) stays ignored.
 *
 * Threads: a signal sent to the process may land on any thread (OpenBLAS's,
 * the simulator's, the matcher's); the handler passes it on to the main
 * thread, which alone changes the registry, with the signals blocked, so
 * the handler never sees a registry half changed nor runs beside code that
 * writes into a temporary.
 *
 * Stale temporaries: convert's temporary directory holds a marker file
 * naming the host and process; a later convert removes an OUTDIR.tmp-PID
 * beside its own OUTDIR only when the marker names this host and that
 * process, and kill(PID, 0) says it no longer exists (README.md, Command line).
 * Temporary files carry no marker and are never removed as stale. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../ir/error.h"
#include "cli.h"

#define MAX_TEMPS 160  /* run's 64 outputs, convert's directory and more */
#define MAX_DEPTH 128  /* directory levels removed below a tree */
#define MARKER SNNC_CLI_TEMP_MARKER

typedef struct temp {
    char *path;    /* NULL: free slot */
    char *restore; /* on a signal, rename back to this (removed if that fails) */
    bool tree;
} temp;

static temp temps[MAX_TEMPS];
static pid_t main_tid;
static const int signals[] = {SIGINT, SIGTERM, SIGHUP};
#define N_SIGNALS (int)(sizeof signals / sizeof signals[0])

static void signal_set(sigset_t *s)
{
    sigemptyset(s);
    for (int i = 0; i < N_SIGNALS; i++)
        sigaddset(s, signals[i]);
}

/* ------------------------------------------- removal (async-signal-safe) */

struct dirent64_ {
    uint64_t ino;
    int64_t off;
    unsigned short reclen;
    unsigned char type;
    char name[];
};

static void remove_at(int dirfd, const char *name, int depth);

/* Remove everything in the directory open as fd (no link followed). */
static void empty_dir(int fd, int depth)
{
    char buf[1024] __attribute__((aligned(8)));
    bool again = true;
    for (int pass = 0; again && pass < 4; pass++) { /* again: entries may move while removed */
        again = false;
        lseek(fd, 0, SEEK_SET);
        long n;
        while ((n = syscall(SYS_getdents64, fd, buf, sizeof buf)) > 0)
            for (long off = 0; off < n;) {
                struct dirent64_ *d = (struct dirent64_ *)(buf + off);
                off += d->reclen;
                if (strcmp(d->name, ".") && strcmp(d->name, "..")) {
                    remove_at(fd, d->name, depth);
                    again = true;
                }
            }
    }
}

/* Remove name (relative to dirfd), and with depth > 0 a directory tree. */
static void remove_at(int dirfd, const char *name, int depth)
{
    if (unlinkat(dirfd, name, 0) == 0 || (errno != EISDIR && errno != EPERM) || depth <= 0)
        return;
    int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd >= 0) {
        empty_dir(fd, depth - 1);
        close(fd);
    }
    unlinkat(dirfd, name, AT_REMOVEDIR);
}

void snnc_cli_remove_tree(const char *path) { remove_at(AT_FDCWD, path, MAX_DEPTH); }

static void on_signal(int sig)
{
    if ((pid_t)syscall(SYS_gettid) != main_tid) { /* the main thread cleans up */
        syscall(SYS_tgkill, (long)getpid(), (long)main_tid, (long)sig);
        return;
    }
    for (int i = 0; i < MAX_TEMPS; i++) {
        const temp *t = &temps[i];
        if (t->path && !(t->restore && rename(t->path, t->restore) == 0))
            remove_at(AT_FDCWD, t->path, t->tree ? MAX_DEPTH : 0);
    }
    struct sigaction dfl = {.sa_handler = SIG_DFL};
    sigemptyset(&dfl.sa_mask);
    sigaction(sig, &dfl, NULL);
    raise(sig); /* blocked until the handler returns, then ends the process */
}

void snnc_cli_signals_install(void)
{
    main_tid = (pid_t)syscall(SYS_gettid);
    struct sigaction sa = {.sa_handler = on_signal}, old;
    signal_set(&sa.sa_mask);
    for (int i = 0; i < N_SIGNALS; i++)
        if (sigaction(signals[i], NULL, &old) == 0 && old.sa_handler != SIG_IGN)
            sigaction(signals[i], &sa, NULL);
}

/* ------------------------------------------------------------ registry */

int snnc_cli_temp_add(const char *path, bool tree, const char *restore)
{
    char *p = strdup(path), *r = restore ? strdup(restore) : NULL;
    sigset_t s, old;
    signal_set(&s);
    pthread_sigmask(SIG_BLOCK, &s, &old);
    int i = 0;
    while (i < MAX_TEMPS && temps[i].path)
        i++;
    bool ok = p && (r || !restore) && i < MAX_TEMPS;
    if (ok)
        temps[i] = (temp){p, r, tree};
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (!ok)
        free(p), free(r);
    return ok ? 0 : -1;
}

void snnc_cli_temp_forget(const char *path)
{
    if (!path)
        return; /* an output written in place has no temporary */
    sigset_t s, old;
    signal_set(&s);
    pthread_sigmask(SIG_BLOCK, &s, &old);
    temp gone = {0};
    for (int i = 0; i < MAX_TEMPS && !gone.path; i++)
        if (temps[i].path && !strcmp(temps[i].path, path)) {
            gone = temps[i];
            temps[i] = (temp){0};
        }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    free(gone.path), free(gone.restore);
}

/* ------------------------------------- convert's temporary directories */

static int marker_text(char *buf, size_t n, long pid)
{
    char host[256] = "";
    gethostname(host, sizeof host - 1);
    return snprintf(buf, n, "snnc temporary of process %ld on host %s\n", pid, host);
}

int snnc_cli_temp_dir(const char *path, snnc_err *err)
{
    char text[400], *mk = malloc(strlen(path) + sizeof MARKER + 1);
    int len = marker_text(text, sizeof text, (long)getpid());
    if (!mk || snnc_cli_temp_add(path, true, NULL)) {
        free(mk);
        return snnc_fail(err, SNNC_ENOMEM, "out of memory");
    }
    if (mkdir(path, 0777)) { /* not ours: not removed */
        int e = errno;
        snnc_cli_temp_forget(path);
        free(mk);
        return snnc_fail(err, SNNC_EIO, "%s: %s", path, strerror(e));
    }
    sprintf(mk, "%s/%s", path, MARKER);
    FILE *f = fopen(mk, "wx");
    int rc = f && fwrite(text, 1, (size_t)len, f) == (size_t)len ? SNNC_OK : SNNC_EIO;
    if ((f && fclose(f)) || rc) {
        rc = snnc_fail(err, SNNC_EIO, "%s: %s", mk, f ? "write error" : strerror(errno));
        snnc_cli_remove_tree(path);
        snnc_cli_temp_forget(path);
    }
    free(mk);
    return rc;
}

void snnc_cli_temp_dir_unmark(const char *path)
{
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd >= 0) {
        unlinkat(fd, MARKER, 0);
        close(fd);
    }
}

/* Is dir/name a temporary directory of a convert that has ended? */
static bool is_stale(const char *dir, const char *name, long pid)
{
    char want[400], got[400];
    int len = marker_text(want, sizeof want, pid);
    int fd[3] = {-1, -1, -1}; /* the parent, the directory, the marker */
    ssize_t n = -1;
    if ((fd[0] = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0 &&
        (fd[1] = openat(fd[0], name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) >= 0 &&
        (fd[2] = openat(fd[1], MARKER, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) >= 0)
        n = read(fd[2], got, sizeof got);
    for (int k = 0; k < 3; k++)
        if (fd[k] >= 0)
            close(fd[k]);
    return n == len && !memcmp(got, want, (size_t)len) && kill((pid_t)pid, 0) && errno == ESRCH;
}

void snnc_cli_remove_stale(const char *cmd, const char *dest)
{
    const char *slash = strrchr(dest, '/');
    const char *base = slash ? slash + 1 : dest;
    size_t dl = slash ? (size_t)(slash - dest) + 1 : 0, bl = strlen(base);
    char *dir = malloc(dl + 2);
    if (!dir)
        return;
    memcpy(dir, dl ? dest : ".", dl ? dl : 1);
    dir[dl ? dl : 1] = '\0';
    DIR *d = opendir(dir);
    struct dirent *e;
    while (d && (e = readdir(d))) {
        const char *num = e->d_name + bl + 5;
        if (strncmp(e->d_name, base, bl) || strncmp(e->d_name + bl, ".tmp-", 5) || !*num ||
            strspn(num, "0123456789") != strlen(num) || strlen(num) > 9)
            continue;
        long pid = atol(num);
        if (pid <= 0 || pid == (long)getpid() || !is_stale(dir, e->d_name, pid))
            continue;
        size_t n = dl + strlen(e->d_name) + 1;
        char *p = malloc(n);
        if (p) {
            snprintf(p, n, "%.*s%s", (int)dl, dest, e->d_name);
            fprintf(stderr, "snnc %s: removing '%s', left by snnc process %ld that has ended\n",
                    cmd, p, pid);
            snnc_cli_remove_tree(p);
            free(p);
        }
    }
    if (d)
        closedir(d);
    free(dir);
}
