/* bench_util.c — option parsing, clocks, median, peak memory and the
 * splitmix64 stream shared by the benchmarks (interface: bench_util.h). */
#include "bench_util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

/* Parse one number into o->dst; -1 (with a message) when out of range. */
static int parse_value(const char *prog, const snnc_bench_opt *o, const char *s)
{
    char *end = NULL;
    errno = 0;
    if (o->kind == SNNC_BENCH_LONG) {
        long v = s ? strtol(s, &end, 10) : 0;
        if (!s || errno || *end || end == s || v < (long)o->lo || v > (long)o->hi) {
            fprintf(stderr, "%s: %s needs an integer in [%ld, %ld]\n", prog, o->flag, (long)o->lo,
                    (long)o->hi);
            return -1;
        }
        *(long *)o->dst = v;
        return 0;
    }
    double v = s ? strtod(s, &end) : 0;
    if (!s || errno || *end || end == s || !(v >= o->lo && v <= o->hi)) {
        fprintf(stderr, "%s: %s needs a number in [%g, %g]\n", prog, o->flag, o->lo, o->hi);
        return -1;
    }
    *(double *)o->dst = v;
    return 0;
}

int snnc_bench_parse(const char *prog, int argc, char **argv, const snnc_bench_opt *opt, size_t n,
                     void (*usage)(FILE *))
{
    for (int i = 1; i < argc; i += 2) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            exit(0);
        }
        size_t k = 0;
        while (k < n && strcmp(a, opt[k].flag))
            k++;
        if (k == n) {
            fprintf(stderr, "%s: unknown option '%s'\n", prog, a);
            usage(stderr);
            return -1;
        }
        if (opt[k].kind != SNNC_BENCH_STRING) {
            if (parse_value(prog, &opt[k], v))
                return -1;
        } else if (!v) {
            fprintf(stderr, "%s: %s needs %s\n", prog, a, opt[k].what);
            return -1;
        } else {
            *(const char **)opt[k].dst = v;
        }
    }
    return 0;
}

double snnc_bench_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

double snnc_bench_cpu_seconds(void)
{
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru))
        return 0.0;
    return (double)ru.ru_utime.tv_sec + 1e-6 * (double)ru.ru_utime.tv_usec +
           (double)ru.ru_stime.tv_sec + 1e-6 * (double)ru.ru_stime.tv_usec;
}

double snnc_bench_peak_rss_mib(void)
{
    struct rusage ru;
    return getrusage(RUSAGE_SELF, &ru) ? -1.0 : (double)ru.ru_maxrss / 1024.0; /* Linux: KiB */
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double snnc_bench_median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

uint64_t snnc_bench_rng_next(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

double snnc_bench_uniform01(uint64_t *s) { return (double)(snnc_bench_rng_next(s) >> 11) * 0x1.0p-53; }
