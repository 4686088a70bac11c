/* main.c: the stragsim entry point: finds the subcommand in a table and hands
 * it the rest of the arguments. Commands print their own errors and return
 * the exit status (0 ok, 1 failed check, 2 bad usage or bad input); output
 * that could not be written (a full disk, a closed pipe) is exit status 2. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/atomic_file.h"
#include "app/commands.h"
#include "models/layers.h"

#ifndef STRAGSIM_VERSION
#define STRAGSIM_VERSION "unknown"
#endif

static const struct {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} commands[] = {
    {"run", cmd_run, "run a config's sweep into a results database"},
    {"report", cmd_report, "print a table of the runs in a results database"},
    {"check", cmd_check, "compare a results database against a baseline"},
    {"train", cmd_train, "train a model and write its weights"},
    {"eval", cmd_eval, "evaluate trained weights on the test set"},
    {"plot", cmd_plot, "draw a figure from a results database (gnuplot)"},
    {"export", cmd_export, "write a results table as CSV"},
    {"trace", cmd_trace, "summarise, fit or generate latency traces"},
    {"config", cmd_config, "list every config key (config --list)"},
    {"ls", cmd_ls, "list the experiments (and runs) of a results database"},
    {"diff", cmd_diff, "show two results databases side by side"},
    {"rm", cmd_rm, "delete runs (an experiment, or by params) from a database"},
    {"merge", cmd_merge, "combine results databases into one"},
    {"advise", cmd_advise, "search the schemes for the one to run (objective, constraints)"},
};

static void usage(FILE *f)
{
    fputs("usage: stragsim COMMAND [ARGS...]\n"
          "       stragsim help [COMMAND] | --help | --version\n"
          "\n"
          "A discrete-event simulator for straggler-mitigation schemes in distributed\n"
          "machine learning: the computation is real, the time is simulated.\n"
          "\n"
          "Commands:\n",
          f);
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(f, "  %-8s %s\n", commands[i].name, commands[i].summary);
    fputs("\n'stragsim COMMAND --help' (or -h, or 'stragsim help COMMAND') describes a command.\n"
          "Exit status: 0 ok, 1 a failed check, 2 bad usage or bad input.\n",
          f);
}

/* The exit status once standard output is flushed: 2 (and one line) when
 * any of it was lost. */
static int stdout_checked(const char *command, int status)
{
    struct error err;
    if (atomic_stdout_check(command, &err) == 0)
        return status;
    fprintf(stderr, "%s\n", err.msg);
    return 2;
}

/* `stragsim help CMD [SUB]` is `stragsim CMD [SUB] --help` (argv[0] is
 * "help"). */
static int help(int argc, char **argv)
{
    char *args[4] = {argv[1], NULL, NULL, NULL};
    int n = 1;
    if (argc > 3 || (argc == 3 && strcmp(argv[1], "trace") != 0)) {
        fprintf(stderr, "stragsim help: expected a command (and a trace subcommand), got extra "
                        "argument '%s'\n",
                argv[argc - 1]);
        return 2;
    }
    if (argc == 3)
        args[n++] = argv[2];
    args[n++] = "--help";
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(commands[i].name, argv[1]) == 0)
            return stdout_checked(argv[1], commands[i].run(n, args));
    fprintf(stderr, "stragsim help: unknown command '%s' (try stragsim --help)\n", argv[1]);
    return 2;
}

/* STRAGSIM_CONV picks the conv forward of every model (README): auto (the
 * default: the widest direct path this CPU runs), im2col, portable, avx2 or
 * avx512. Returns 0, or -1 after printing what is wrong. */
static int conv_path_from_env(void)
{
    const char *value = getenv("STRAGSIM_CONV");
    enum conv2d_path path;
    if (!value || !*value)
        return 0;
    if (conv2d_path_parse(value, &path)) {
        fprintf(stderr, "STRAGSIM_CONV: '%s' is not one of auto, im2col, portable, avx2, avx512\n",
                value);
        return -1;
    }
    if (!conv2d_path_supported(path)) {
        fprintf(stderr, "STRAGSIM_CONV: this CPU cannot run '%s'\n", value);
        return -1;
    }
    conv2d_path_set_default(path);
    return 0;
}

int main(int argc, char **argv)
{
    if (conv_path_from_env())
        return 2;
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *name = argv[1];
    if (strcmp(name, "help") == 0 && argc > 2)
        return help(argc - 1, argv + 1);
    if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0 || strcmp(name, "help") == 0) {
        usage(stdout);
        return stdout_checked("help", 0);
    }
    if (strcmp(name, "--version") == 0) {
        printf("stragsim %s\n", STRAGSIM_VERSION);
        return stdout_checked("--version", 0);
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(commands[i].name, name) == 0)
            return stdout_checked(name, commands[i].run(argc - 1, argv + 1));
    fprintf(stderr, "stragsim: unknown command '%s' (try stragsim --help)\n", name);
    return 2;
}
