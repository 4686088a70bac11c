/* cli.h: what every stragsim subcommand shares about reporting bad usage:
 * one line "stragsim COMMAND: message" on stderr and exit status 2. */
#ifndef STRAG_CLI_H
#define STRAG_CLI_H

#include <stdarg.h>

/* Prints "stragsim <command>: <message>\n" to stderr; returns 2. */
int cli_fail(const char *command, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int cli_vfail(const char *command, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));

/* The error for what getopt_long returned as c (':' a missing value, else
 * an unknown option), for an optstring starting with ':': "OPTION needs a
 * value" or "unknown option 'X' (see stragsim <command> --help)"; returns 2. */
int cli_option_error(const char *command, int c, char **argv);

/* For an option that takes one value: stores value into *slot; when the
 * option was given before, fails with "OPTION given twice ('A' and 'B')"
 * instead (a second value never silently wins). Returns -1 (go on) or 2
 * (printed): a parse loop's `status` takes it as is. */
int cli_once(const char *command, const char *option, const char **slot, const char *value);

#endif
