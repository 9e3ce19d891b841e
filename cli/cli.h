/* cli.h — what the snnc subcommands share (cli_util.c): exit codes,
 * error printing, NAME=FILE arguments, tensor files, atomic output files. */
#ifndef SNNC_CLI_H
#define SNNC_CLI_H

#include <stdbool.h>
#include <stdio.h>

#include "snnc.h"

/* Exit status: 0 success, 1 usage error, 2 invalid or unsupported input. */
enum { SNNC_EXIT_OK = 0, SNNC_EXIT_USAGE = 1, SNNC_EXIT_INVALID = 2 };

int snnc_cli_exit(int status);
/* Print "snnc CMD: error: MSG" to stderr and return the exit code. */
int snnc_cli_fail(const char *cmd, const snnc_err *err);
int snnc_cli_usage(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* "NAME=FILE" -> name (NULL when absent) and file, pointing into a copy the
 * caller frees through *buf. */
void snnc_cli_split_binding(const char *arg, char **buf, const char **name, const char **file);

/* Read a tensor from a .npy or a serialized TensorProto (.pb) file. */
int snnc_cli_read_tensor(const char *path, snnc_tensor **out, snnc_err *err);

/* How the output `path` is written (cli_files.c; `dir`: a directory is
 * wanted, as convert's OUTDIR): *target (malloc) is the file to create under
 * a temporary name beside it and rename onto — path itself, or for a
 * symbolic link the file it leads to, so the link stays; *target NULL: path
 * is a FIFO, device or socket, written in place.  Refused, naming the path:
 * a directory (a non-directory when `dir`), a dangling or looping link. */
int snnc_cli_output_target(const char *path, bool dir, char **target, snnc_err *err);
/* A JSON input file (OUTDIR/report.json), read once; NULL: err says why. */
struct json_t *snnc_cli_read_json(const char *path, snnc_err *err);

/* Files written under temporary names and renamed together only when all
 * succeeded, so that a failed command leaves no output behind.  An output
 * written in place (snnc_cli_output_target) has no temporary: its
 * temp_paths entry is NULL and nothing removes it. */
typedef struct snnc_cli_outputs {
    int n;
    char **final_paths;
    char **temp_paths;
} snnc_cli_outputs;
/* The path to write `path` through (registered for commit/abort): a
 * temporary beside it or its link's target, or path itself when written in
 * place.  NULL: err says why. */
const char *snnc_cli_outputs_add(snnc_cli_outputs *o, const char *path, snnc_err *err);
int snnc_cli_outputs_commit(snnc_cli_outputs *o, snnc_err *err);
void snnc_cli_outputs_abort(snnc_cli_outputs *o);
/* An error about data the library got as a tensor (its message starting
 * with `subject`, e.g. "calibration") names the file the command read it
 * from: "FLAG FILE: ...". */
void snnc_cli_err_data_file(snnc_err *err, const char *subject, const char *flag, const char *file);
/* Data files, every value checked (cli_data.c), errors naming FLAG FILE and
 * the first bad element: a batch (input or calibration) is not empty and,
 * for floating-point data, all finite; labels are integers in
 * [0, classes), one per sample (read into *out, caller frees). */
int snnc_cli_check_batch(const snnc_tensor *t, const char *flag, const char *file, snnc_err *err);
int snnc_cli_read_labels(const char *path, int64_t samples, int classes, int64_t **out,
                         snnc_err *err);
/* The same for option FLAG; integers: only int64 and int32 files accepted;
 * samples < 0: any number, into *n (may be NULL). */
int snnc_cli_read_labels_as(const char *flag, const char *path, int64_t samples, int classes,
                            bool integers, int64_t **out, int64_t *n, snnc_err *err);
/* Messages about a temporary file name the file the user asked for. */
void snnc_cli_err_rename(snnc_err *err, const char *tmp, const char *path);

/* An output path checked before any work, named as typed (FLAG 'PATH'): its
 * directory exists, is a directory and is writable; a file (dir false) is
 * not an existing directory nor a name ending in '/'; a directory may end in
 * '/' (*norm, when given: a copy without it, for the caller to free) and,
 * unless replace, must not exist.  SNNC_EUSAGE (exit 1) for a path refused
 * whatever the file system holds ("", "x/" for a file, ".", a name too
 * long) and an existing OUTDIR; SNNC_EINVALID (exit 2, as an input file
 * that cannot be read) for what the file system refuses. */
int snnc_cli_output_check(const char *flag, const char *path, bool dir, bool replace,
                          char **norm, snnc_err *err);

/* Temporaries removed when SIGINT, SIGTERM or SIGHUP ends the command
 * (cli_cleanup.c): registered (a file or a tree; restore: renamed back to
 * that path instead, removed if that fails) and forgotten from the main
 * thread once committed or removed.  snnc_cli_temp_dir makes and registers
 * a directory marked as snnc's; snnc_cli_remove_stale removes the marked
 * DEST.tmp-PID of processes that have ended. */
void snnc_cli_signals_install(void);
int snnc_cli_temp_add(const char *path, bool tree, const char *restore);
void snnc_cli_temp_forget(const char *path);
int snnc_cli_temp_dir(const char *path, snnc_err *err);
void snnc_cli_temp_dir_unmark(const char *path);
/* The marker file in a temporary OUTDIR (not a part of the conversion). */
#define SNNC_CLI_TEMP_MARKER ".snnc-temporary"
void snnc_cli_remove_stale(const char *cmd, const char *dest);

bool snnc_cli_is_help(const char *arg);
/* "DIR/NAME", malloc'd (NULL when out of memory). */
char *snnc_cli_path_join(const char *dir, const char *name);

int snnc_cmd_check(int argc, char **argv);
int snnc_cmd_convert(int argc, char **argv);
int snnc_cmd_inspect(int argc, char **argv);
int snnc_cmd_run(int argc, char **argv);
int snnc_cmd_simulate(int argc, char **argv);
int snnc_cmd_report(int argc, char **argv);
int snnc_cmd_evaluate(int argc, char **argv); /* simulate OUTDIR (cmd_evaluate.c) */

/* Conversion helpers (cmd_convert.c, cmd_report.c): a float32 tensor file
 * (float64 converted), removing a directory tree (cli_cleanup.c, no link
 * followed, async-signal-safe), the readable conversion
 * report of OUTDIR/report.json (full: with the per-layer, matching and
 * per-core tables). */
struct json_t;
int snnc_cli_read_f32(const char *path, snnc_tensor **out, snnc_err *err);
void snnc_cli_remove_tree(const char *path);
void snnc_cli_conversion_report_print(FILE *f, const struct json_t *report, bool full);
/* One line: the constraint stage's method and its candidates (report.json
 * "constraint_method"; nothing when not an object). */
void snnc_cli_method_print(FILE *f, const struct json_t *method);

#endif
