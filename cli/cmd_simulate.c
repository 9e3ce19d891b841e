/* cmd_simulate.c — `snnc simulate` (being written). */
#include <stdio.h>

#include "cli.h"

int snnc_cmd_simulate(int argc, char **argv)
{
    (void)argc, (void)argv;
    fprintf(stderr, "snnc simulate: not yet available\n");
    return SNNC_EXIT_USAGE;
}
