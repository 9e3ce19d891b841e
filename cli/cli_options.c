/* cli_options.c — the subcommands' argument parser (cli_options.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_options.h"

static const snnc_cli_option *find(const snnc_cli_option *opts, const char *arg)
{
    for (; opts->name; opts++)
        if (!strcmp(arg, opts->name))
            return opts;
    return NULL;
}

static int parse_integer(const char *cmd, const snnc_cli_option *o, const char *v, long long *out)
{
    char *end;
    errno = 0;
    long long n = strtoll(v, &end, 10);
    if (errno || end == v || *end || n < o->lo || n > o->hi)
        return snnc_cli_usage(cmd, "%s needs an integer in %lld..%lld, not '%s'", o->name, o->lo, o->hi, v);
    *out = n;
    return 0;
}

static int parse_real(const char *cmd, const snnc_cli_option *o, const char *v)
{
    char *end;
    errno = 0;
    double x = strtod(v, &end);
    if (errno || end == v || *end || !(x > (double)o->lo && x <= (double)o->hi))
        return snnc_cli_usage(cmd, "%s needs a number in (%lld, %lld], not '%s'", o->name, o->lo, o->hi, v);
    *(double *)o->dest = x;
    return 0;
}

static int parse_choice(const char *cmd, const snnc_cli_option *o, const char *v)
{
    for (int k = 0; o->words[k]; k++)
        if (!strcmp(v, o->words[k])) {
            *(int *)o->dest = k;
            return 0;
        }
    char accepted[256] = "";
    for (int k = 0; o->words[k]; k++) {
        strncat(accepted, k ? ", " : "", sizeof accepted - strlen(accepted) - 1);
        strncat(accepted, o->words[k], sizeof accepted - strlen(accepted) - 1);
    }
    return snnc_cli_usage(cmd, "%s: one of %s, not '%s'", o->name, accepted, v);
}

/* The value of option o. */
static int take(const char *cmd, const snnc_cli_option *o, const char *v)
{
    long long n = 0;
    int st;
    switch (o->kind) {
    case SNNC_OPT_TEXT:
        if (o->once && *(const char **)o->dest)
            return snnc_cli_usage(cmd, "%s given twice (%s)", o->name, o->once);
        *(const char **)o->dest = v;
        return 0;
    case SNNC_OPT_INT:
        if ((st = parse_integer(cmd, o, v, &n)) == 0)
            *(int *)o->dest = (int)n;
        return st;
    case SNNC_OPT_INT64:
        return parse_integer(cmd, o, v, (long long *)o->dest);
    case SNNC_OPT_REAL:
        return parse_real(cmd, o, v);
    case SNNC_OPT_CHOICE:
        return parse_choice(cmd, o, v);
    case SNNC_OPT_CALL:
        return o->call(o->dest, v);
    case SNNC_OPT_FLAG:
        break;
    }
    return 0;
}

int snnc_cli_parse(const char *cmd, const char *usage, int argc, char **argv, const snnc_cli_option *opts,
                   const char **positional, bool *help)
{
    *positional = NULL;
    *help = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (snnc_cli_is_help(a)) {
            fputs(usage, stdout);
            *help = true;
            return 0;
        }
        const snnc_cli_option *o = a[0] == '-' && a[1] ? find(opts, a) : NULL;
        if (o && o->kind == SNNC_OPT_FLAG) {
            *(bool *)o->dest = true;
        } else if (o) {
            if (i + 1 >= argc)
                return snnc_cli_usage(cmd, "%s needs a value", a);
            int st = take(cmd, o, argv[++i]);
            if (st)
                return st;
        } else if (a[0] == '-' && a[1]) {
            return snnc_cli_usage(cmd, "unknown option '%s'", a);
        } else if (!*positional) {
            *positional = a;
        } else {
            return snnc_cli_usage(cmd, "unexpected argument '%s'", a);
        }
    }
    return 0;
}
