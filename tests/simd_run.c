/* simd_run.c — runs a test program with the TrueNorth simulator's dense
 * update at the instruction set SNNC_TN_SIMD asks for (0 SSE2, 1 AVX2, 2
 * AVX-512BW; truenorth/tn_sim.h), so that the suite runs every variant and
 * not only the one this machine picks.  When the CPU (or the build) lacks
 * that level it says so and exits 77 (meson: skipped) instead of letting
 * the simulator run a lower one.
 * usage: SNNC_TN_SIMD=0|1|2 simd_run PROGRAM [ARGS...] */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "truenorth/tn_sim.h"

static const char *const level_names[] = {"SSE2", "AVX2", "AVX-512BW"};

int main(int argc, char **argv)
{
    const char *want = getenv("SNNC_TN_SIMD");
    if (argc < 2 || !want || want[0] < '0' || want[0] > '2' || want[1]) {
        fprintf(stderr, "usage: SNNC_TN_SIMD=0|1|2 %s PROGRAM [ARGS...]\n", argv[0]);
        return 1;
    }
    int level = want[0] - '0', got = tn_sim_simd_level();
    if (got != level) {
        printf("skipped: SNNC_TN_SIMD=%d asks for %s; this CPU and build give %s at most\n", level,
               level_names[level], got >= 0 ? level_names[got] : "no SIMD");
        return 77;
    }
    printf("%s with the TrueNorth simulator's dense update in %s (SNNC_TN_SIMD=%d)\n", argv[1],
           level_names[level], level);
    fflush(stdout);
    execv(argv[1], argv + 1);
    perror(argv[1]);
    return 1;
}
