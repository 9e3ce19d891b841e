/* bench_util.h — what the benchmark programs (bench_eval.c, bench_truenorth.c,
 * bench_convert.c)
 * share: "--flag value" option parsing from a table, wall and CPU clocks,
 * the median of a sample, the peak resident set, and a fixed splitmix64
 * random stream (implementation: bench_util.c). */
#ifndef SNNC_BENCH_UTIL_H
#define SNNC_BENCH_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef enum { SNNC_BENCH_LONG, SNNC_BENCH_DOUBLE, SNNC_BENCH_STRING } snnc_bench_kind;

/* One option "--flag value": dst is a long *, double * or const char **;
 * numbers must lie in [lo, hi]; `what` names a string's value in errors. */
typedef struct snnc_bench_opt {
    const char *flag;
    snnc_bench_kind kind;
    void *dst;
    double lo, hi;
    const char *what;
} snnc_bench_opt;

/* Parse argv[1..] as "--flag value" pairs of the table opt[0..n-1].  --help
 * or -h prints usage to stdout and exits 0; an unknown flag, a missing or
 * bad value prints "prog: ..." to stderr (unknown flags also the usage) and
 * returns -1.  Returns 0 on success. */
int snnc_bench_parse(const char *prog, int argc, char **argv, const snnc_bench_opt *opt, size_t n,
                     void (*usage)(FILE *));

double snnc_bench_now(void);         /* monotonic wall clock, seconds */
double snnc_bench_cpu_seconds(void); /* user + system CPU time of the process */
double snnc_bench_peak_rss_mib(void); /* peak resident set in MiB; -1 on failure */
/* The median of v[0..n-1] (n >= 1); sorts v. */
double snnc_bench_median(double *v, int n);

/* splitmix64: a fixed, portable stream, so every run builds the same input. */
uint64_t snnc_bench_rng_next(uint64_t *s);
/* Uniform in [0, 1) with 53 random bits. */
double snnc_bench_uniform01(uint64_t *s);

#endif
