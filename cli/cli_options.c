/* cli_options.c — the subcommands' argument parser (cli_options.h). */
#include <ctype.h>
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

/* A number starts with a sign or a digit: strtoll and strtod would skip
 * white space and take "nan", "inf" and hexadecimal. */
static bool numeral(const char *v, bool real)
{
    const char *d = v + (*v == '-' || *v == '+');
    if (d[0] == '0' && (d[1] == 'x' || d[1] == 'X'))
        return false;
    return isdigit((unsigned char)d[0]) || (real && d[0] == '.' && isdigit((unsigned char)d[1]));
}

static int parse_integer(const char *cmd, const snnc_cli_option *o, const char *v, long long *out)
{
    char *end;
    errno = 0;
    long long n = strtoll(v, &end, 10);
    if (!numeral(v, false) || errno || end == v || *end || n < o->lo || n > o->hi)
        return snnc_cli_usage(cmd, "%s needs an integer in %lld..%lld, not '%s'", o->name, o->lo, o->hi, v);
    *out = n;
    return 0;
}

static int parse_real(const char *cmd, const snnc_cli_option *o, const char *v)
{
    char *end;
    errno = 0;
    double x = strtod(v, &end);
    bool above_lo = o->closed ? x >= (double)o->lo : x > (double)o->lo;
    if (!numeral(v, true) || errno || end == v || *end || !(above_lo && x <= (double)o->hi))
        return snnc_cli_usage(cmd, o->closed ? "%s needs a number in %lld..%lld, not '%s'"
                                             : "%s needs a number in (%lld, %lld], not '%s'",
                              o->name, o->lo, o->hi, v);
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

/* Whether dest was already given a value (aliases share it); records it. */
static bool repeated(const void *dest, const void **given, int *n)
{
    for (int k = 0; k < *n; k++)
        if (given[k] == dest)
            return true;
    if (*n < 64)
        given[(*n)++] = dest;
    return false;
}

int snnc_cli_parse(const char *cmd, const char *usage, int argc, char **argv, const snnc_cli_option *opts,
                   const char **positional, bool *help)
{
    *positional = NULL;
    *help = false;
    const void *given[64]; /* dests of the valued options seen: a second value is refused */
    int n_given = 0;
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
            if (o->kind != SNNC_OPT_CALL && !o->once && repeated(o->dest, given, &n_given))
                return snnc_cli_usage(cmd, "%s given twice (one value is accepted)", a);
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
