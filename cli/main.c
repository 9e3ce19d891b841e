/* main.c — the snnc command line: dispatches to one subcommand per file
 * (cmd_*.c).  All work is done by libsnnc (include/snnc.h). */
#include <stdio.h>
#include <string.h>

#include "cli.h"

typedef struct {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} command;

static const command commands[] = {
    {"check", snnc_cmd_check, "check a model against a target's constraints (TrueNorth)"},
    {"convert", snnc_cmd_convert, "convert a trained Elman network to a TrueNorth model (OUTDIR)"},
    {"inspect", snnc_cmd_inspect, "describe a model: inputs, outputs, layers, parameters"},
    {"run", snnc_cmd_run, "execute an ONNX model in float32 on .npy / .pb inputs"},
    {"simulate", snnc_cmd_simulate, "simulate a TrueNorth model file, or evaluate a conversion OUTDIR"},
    {"report", snnc_cmd_report, "summarise a conversion OUTDIR: cores, power, energy, latency"},
};

static void print_help(FILE *f)
{
    fprintf(f, "snnc %s — trained recurrent networks to spiking networks for neuromorphic chips\n\n"
               "usage: snnc COMMAND [ARGS]   (snnc COMMAND --help for each)\n\ncommands:\n",
            SNNC_VERSION);
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(f, "  %-10s %s\n  %-10s %s\n\nexit status: 0 success, 1 usage error, 2 invalid or "
               "unsupported input\n",
            "help", "this text, or 'snnc help COMMAND'", "--version", "print the version");
}

int main(int argc, char **argv)
{
    snnc_cli_signals_install(); /* a signal removes the temporaries (cli_cleanup.c) */
    if (argc < 2) {
        print_help(stderr);
        return SNNC_EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "--version") || !strcmp(cmd, "version")) {
        printf("snnc %s\n", SNNC_VERSION);
        return SNNC_EXIT_OK;
    }
    if (snnc_cli_is_help(cmd) || !strcmp(cmd, "help")) {
        if (argc > 2 && strcmp(cmd, "help") == 0) {
            for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
                if (!strcmp(argv[2], commands[i].name)) {
                    char *args[] = {argv[2], "--help", NULL};
                    return commands[i].run(2, args);
                }
            fprintf(stderr, "snnc: no command '%s'\n", argv[2]);
            return SNNC_EXIT_USAGE;
        }
        print_help(stdout);
        return SNNC_EXIT_OK;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (!strcmp(cmd, commands[i].name))
            return commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "snnc: unknown command '%s' (see 'snnc help')\n", cmd);
    return SNNC_EXIT_USAGE;
}
