/* cli_options.h — one table-driven argument parser for every subcommand
 * (cli_options.c): a command lists its options (name, kind, where the value
 * goes, accepted range or words) and gets back its one positional argument;
 * every usage error is printed the same way, names the option and exits 1. */
#ifndef SNNC_CLI_OPTIONS_H
#define SNNC_CLI_OPTIONS_H

#include <stdbool.h>

typedef enum {
    SNNC_OPT_FLAG,   /* no value; dest: bool *, set true */
    SNNC_OPT_TEXT,   /* dest: const char **, the argument itself */
    SNNC_OPT_INT,    /* dest: int *, an integer in [lo, hi] */
    SNNC_OPT_INT64,  /* dest: long long *, an integer in [lo, hi] */
    SNNC_OPT_REAL,   /* dest: double *, a number in (lo, hi], or [lo, hi] when closed */
    SNNC_OPT_CHOICE, /* dest: int *, the index of the value in `words` */
    SNNC_OPT_CALL    /* call(dest, value): 0, or an exit status it printed */
} snnc_opt_kind;

typedef struct snnc_cli_option {
    const char *name;          /* "--fan-in" */
    snnc_opt_kind kind;
    void *dest;
    long long lo, hi;          /* INT, INT64, REAL */
    bool closed;               /* REAL: lo itself accepted */
    const char *const *words;  /* CHOICE: NULL-terminated accepted values */
    const char *once;          /* TEXT given twice: refused, this says why (NULL: the last one wins) */
    int (*call)(void *dest, const char *value);
} snnc_cli_option;

/* Table entries (an alias is one more entry with the same dest). */
#define SNNC_OPT_FLAG_(n, d) {.name = (n), .kind = SNNC_OPT_FLAG, .dest = (d)}
#define SNNC_OPT_TEXT_(n, d) {.name = (n), .kind = SNNC_OPT_TEXT, .dest = (d)}
#define SNNC_OPT_ONCE_(n, d, why) {.name = (n), .kind = SNNC_OPT_TEXT, .dest = (d), .once = (why)}
#define SNNC_OPT_INT_(n, d, l, h) {.name = (n), .kind = SNNC_OPT_INT, .dest = (d), .lo = (l), .hi = (h)}
#define SNNC_OPT_INT64_(n, d, l, h) {.name = (n), .kind = SNNC_OPT_INT64, .dest = (d), .lo = (l), .hi = (h)}
#define SNNC_OPT_REAL_(n, d, l, h) {.name = (n), .kind = SNNC_OPT_REAL, .dest = (d), .lo = (l), .hi = (h)}
#define SNNC_OPT_REAL_CLOSED_(n, d, l, h) {.name = (n), .kind = SNNC_OPT_REAL, .dest = (d), .lo = (l), .hi = (h), .closed = true}
#define SNNC_OPT_CHOICE_(n, d, w) {.name = (n), .kind = SNNC_OPT_CHOICE, .dest = (d), .words = (w)}
#define SNNC_OPT_CALL_(n, d, f) {.name = (n), .kind = SNNC_OPT_CALL, .dest = (d), .call = (f)}
#define SNNC_OPT_END {.name = NULL}

/* Parse argv[1..argc) against `opts` (ended by an entry with name NULL).
 * The one argument that is not an option goes to *positional (NULL when
 * absent; a second is refused).  -h/--help prints `usage` to stdout, sets
 * *help and stops (the command then exits 0).  A valued option (not CALL)
 * given twice is refused.  Returns 0
 * or the usage exit status, after printing "snnc CMD: ..." to stderr. */
int snnc_cli_parse(const char *cmd, const char *usage, int argc, char **argv, const snnc_cli_option *opts,
                   const char **positional, bool *help);

#endif
