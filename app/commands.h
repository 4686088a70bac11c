/* commands.h: the stragsim subcommands. Each lives in its own cmd_*.c, takes
 * the arguments after its name (argv[0] is the command name) and returns the
 * process exit status: 0 ok, 1 failed check, 2 bad usage or bad input. */
#ifndef STRAG_COMMANDS_H
#define STRAG_COMMANDS_H

int cmd_run(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_check(int argc, char **argv);
int cmd_train(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_plot(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_trace(int argc, char **argv);
int cmd_config(int argc, char **argv);
int cmd_ls(int argc, char **argv);
int cmd_diff(int argc, char **argv);
int cmd_rm(int argc, char **argv);
int cmd_merge(int argc, char **argv);
int cmd_advise(int argc, char **argv);

#endif
