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

/* Files written under temporary names and renamed together only when all
 * succeeded, so that a failed command leaves no output behind. */
typedef struct snnc_cli_outputs {
    int n;
    char **final_paths;
    char **temp_paths;
} snnc_cli_outputs;
/* A temporary path beside `path` to write to (registered for commit/abort). */
const char *snnc_cli_outputs_add(snnc_cli_outputs *o, const char *path);
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
/* Messages about a temporary file name the file the user asked for. */
void snnc_cli_err_rename(snnc_err *err, const char *tmp, const char *path);

bool snnc_cli_is_help(const char *arg);

int snnc_cmd_check(int argc, char **argv);
int snnc_cmd_convert(int argc, char **argv);
int snnc_cmd_inspect(int argc, char **argv);
int snnc_cmd_run(int argc, char **argv);
int snnc_cmd_simulate(int argc, char **argv);
int snnc_cmd_report(int argc, char **argv);
int snnc_cmd_evaluate(int argc, char **argv); /* simulate OUTDIR (cmd_evaluate.c) */

/* Conversion helpers (cmd_convert.c, cmd_report.c): a float32 tensor file
 * (float64 converted), removing a directory tree, the readable conversion
 * report of OUTDIR/report.json (full: with the per-layer, matching and
 * per-core tables). */
struct json_t;
int snnc_cli_read_f32(const char *path, snnc_tensor **out, snnc_err *err);
void snnc_cli_remove_tree(const char *path);
void snnc_cli_conversion_report_print(FILE *f, const struct json_t *report, bool full);

#endif
