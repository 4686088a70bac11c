/* cli.h: the option parsing every stragsim subcommand shares. A command
 * describes its options in a table (struct cli_option); cli_parse reads
 * argv with getopt_long, does what each entry says, handles -h/--help, and
 * reports bad usage as one line "stragsim COMMAND: message" on stderr with
 * exit status 2.
 */
#ifndef STRAG_CLI_H
#define STRAG_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "analysis/report.h"

/* A repeatable option's values, in order (pointers into argv). */
struct cli_list {
    const char **items;
    size_t n;
};
void cli_list_free(struct cli_list *l);

/* --where KEY=VALUE filters (cli_parse_where). */
struct cli_filters {
    struct report_filter *items;
    size_t n;
};

struct cli_command;
struct cli_option;

/* A CLI_CALL option's own rule: takes value (which it may cut in place),
 * returns -1 to go on, else the exit status of an error it printed. */
typedef int (*cli_call_fn)(const struct cli_command *cmd, const struct cli_option *opt,
                           char *value);

enum cli_kind {
    CLI_FLAG,   /* no value: *(bool *)to = true */
    CLI_STRING, /* *(const char **)to = the value; a later one wins */
    CLI_ONCE,   /* the same, but a second one fails: "LABEL given twice ('A' and 'B')" */
    CLI_LIST,   /* the value appended to *(struct cli_list *)to (repeatable) */
    CLI_INT,    /* *(int *)to = an integer in [min, max], else the error
                 * "LABEL must be an integer RANGE, got 'V'" */
    CLI_CALL,   /* call(cmd, opt, value) */
};

struct cli_option {
    const char *name; /* the long name, without "--"; NULL ends the table */
    char letter;      /* the short option, or 0 (not 'h': -h is the help) */
    enum cli_kind kind;
    void *to;           /* where the value goes (see enum cli_kind) */
    const char *label;  /* the option in messages; NULL: "--name" */
    int min, max;       /* CLI_INT: the accepted range */
    const char *range;  /* CLI_INT: the range in words; NULL: "from MIN to MAX" */
    cli_call_fn call;   /* CLI_CALL */
};

struct cli_command {
    const char *name;                 /* "run", "trace stats": "stragsim NAME: ..." */
    const struct cli_option *options; /* -h/--help is added to them */
    const char *usage;                /* -h/--help prints it on stdout, */
    void (*usage_more)(FILE *out);    /* then this, when set */
    const char *operand;              /* cli_one_operand: what it is ("DB") */
    const char *synopsis;             /* and the usage its absence quotes */
    /* run's wording: a usage error of cli_error, CLI_INT or getopt_long
     * ends in "(try stragsim NAME --help)" and a missing value reads
     * "option 'X' needs a value" (the others: "X needs a value", and an
     * unknown option "(see stragsim NAME --help)"). "given twice" and
     * cli_one_operand's errors never carry the hint. */
    bool try_help;
};

/* Parses the options of argv (argv[0] is the command name) as cmd says and
 * sets *first to the index of the first operand. Returns -1 when the command
 * goes on, 0 after printing the help, 2 after printing a usage error. The
 * first error ends the parsing. */
int cli_parse(const struct cli_command *cmd, int argc, char **argv, int *first);

/* Exactly one operand at argv[first]: -1; else prints "missing OPERAND
 * (usage: SYNOPSIS)" or "expected one OPERAND, got extra argument 'X'" and
 * returns 2. */
int cli_one_operand(const struct cli_command *cmd, int argc, char **argv, int first);

/* Prints "stragsim NAME: <message>" (run: with its hint) on stderr; returns 2. */
int cli_error(const struct cli_command *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The same for a command name alone, without a hint. */
int cli_fail(const char *command, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* CLI_ONCE's rule, for a CLI_CALL that also checks the value: stores value
 * into *slot, or fails with "LABEL given twice ('A' and 'B')" (never with
 * run's hint). Returns -1 (go on) or 2 (printed). */
int cli_once(const struct cli_command *cmd, const char *label, const char **slot,
             const char *value);

/* A CLI_CALL rule: "KEY=VALUE" cut at '=' and appended to the struct
 * cli_filters `to`; "LABEL expects key=value, got 'V'" otherwise. */
int cli_parse_where(const struct cli_command *cmd, const struct cli_option *opt, char *value);

/* A CLI_CALL rule: "a,b,c" cut in place and appended to the struct
 * cli_list `to`; "--NAME needs a comma-separated list of names, got 'V'"
 * on an empty item. */
int cli_parse_names(const struct cli_command *cmd, const struct cli_option *opt, char *value);

/* --format text|json (once) of the commands that answer scripts (ls, diff,
 * check): a CLI_CALL rule filling the struct cli_format `to`. */
struct cli_format {
    const char *given;
    bool json;
};
int cli_parse_format(const struct cli_command *cmd, const struct cli_option *opt, char *value);

#endif
