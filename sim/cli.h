/* cli.h: what every stragsim subcommand shares about reporting bad usage:
 * one line "stragsim COMMAND: message" on stderr and exit status 2. */
#ifndef STRAG_CLI_H
#define STRAG_CLI_H

/* Prints "stragsim <command>: <message>\n" to stderr; returns 2. */
int cli_fail(const char *command, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
