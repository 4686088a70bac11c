/* cli.c: the option table parser of the subcommands (see cli.h). */
#include "app/cli.h"

#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

enum { MAX_OPTIONS = 32, VAL_LONG_ONLY = 256 };

static int cli_vfail(const char *command, bool try_help, const char *fmt, va_list ap)
{
    fprintf(stderr, "stragsim %s: ", command);
    vfprintf(stderr, fmt, ap);
    if (try_help)
        fprintf(stderr, " (try stragsim %s --help)", command);
    fputc('\n', stderr);
    return 2;
}

int cli_fail(const char *command, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    cli_vfail(command, false, fmt, ap);
    va_end(ap);
    return 2;
}

int cli_error(const struct cli_command *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    cli_vfail(cmd->name, cmd->try_help, fmt, ap);
    va_end(ap);
    return 2;
}

int cli_once(const struct cli_command *cmd, const char *label, const char **slot,
             const char *value)
{
    if (*slot)
        return cli_fail(cmd->name, "%s given twice ('%s' and '%s')", label, *slot, value);
    *slot = value;
    return -1;
}

void cli_list_free(struct cli_list *l)
{
    free(l->items);
    *l = (struct cli_list){0};
}

static int list_append(const struct cli_command *cmd, struct cli_list *l, const char *value)
{
    const char **grown = realloc(l->items, (l->n + 1) * sizeof *grown);
    if (!grown)
        return cli_fail(cmd->name, "%s", "out of memory");
    l->items = grown;
    l->items[l->n++] = value;
    return -1;
}

int cli_parse_where(const struct cli_command *cmd, const struct cli_option *opt, char *value)
{
    struct cli_filters *f = opt->to;
    char *eq = strchr(value, '=');
    if (!eq || eq == value)
        return cli_error(cmd, "--%s expects key=value, got '%s'", opt->name, value);
    struct report_filter *grown = realloc(f->items, (f->n + 1) * sizeof *grown);
    if (!grown)
        return cli_error(cmd, "%s", "out of memory");
    *eq = '\0';
    f->items = grown;
    f->items[f->n++] = (struct report_filter){value, eq + 1};
    return -1;
}

/* What entry o does with value (NULL for a flag). */
static int apply(const struct cli_command *cmd, const struct cli_option *o, char *value)
{
    char dashed[64];
    snprintf(dashed, sizeof dashed, "--%s", o->name);
    const char *label = o->label ? o->label : dashed;
    switch (o->kind) {
    case CLI_FLAG:
        *(bool *)o->to = true;
        return -1;
    case CLI_STRING:
        *(const char **)o->to = value;
        return -1;
    case CLI_ONCE:
        return cli_once(cmd, label, o->to, value);
    case CLI_LIST:
        return list_append(cmd, o->to, value);
    case CLI_INT: {
        char *end;
        long v = strtol(value, &end, 10);
        if (end == value || *end || v < o->min || v > o->max) {
            char range[64];
            if (o->range)
                snprintf(range, sizeof range, "%s", o->range);
            else
                snprintf(range, sizeof range, "from %d to %d", o->min, o->max);
            return cli_error(cmd, "%s must be an integer %s, got '%s'", label, range, value);
        }
        *(int *)o->to = (int)v;
        return -1;
    }
    case CLI_CALL:
        return o->call(cmd, o, value);
    }
    return -1;
}

/* getopt_long's error for what it returned as c (':' a missing value, else
 * an unknown option), in the command's wording. */
static int option_error(const struct cli_command *cmd, int c, char **argv)
{
    const char *option = argv[optind - 1];
    if (cmd->try_help)
        return cli_error(cmd, c == ':' ? "option '%s' needs a value" : "unknown option '%s'",
                         option);
    if (c == ':')
        return cli_fail(cmd->name, "%s needs a value", option);
    return cli_fail(cmd->name, "unknown option '%s' (see stragsim %s --help)", option, cmd->name);
}

/* The entry getopt_long's c stands for: its letter, else VAL_LONG_ONLY + its
 * index (see cli_parse); NULL for help and errors. */
static const struct cli_option *option_for(const struct cli_command *cmd, int c)
{
    for (size_t i = 0; cmd->options[i].name; i++) {
        char letter = cmd->options[i].letter;
        if (letter ? letter == c : VAL_LONG_ONLY + (int)i == c)
            return &cmd->options[i];
    }
    return NULL;
}

int cli_parse(const struct cli_command *cmd, int argc, char **argv, int *first)
{
    struct option longopts[MAX_OPTIONS + 2];
    char shortopts[3 * MAX_OPTIONS + 4] = ":h";
    size_t n = 0, len = strlen(shortopts);
    for (const struct cli_option *o = cmd->options; o->name; o++, n++) {
        if (n == MAX_OPTIONS)
            abort(); /* a table longer than MAX_OPTIONS: raise it */
        bool value = o->kind != CLI_FLAG;
        longopts[n] = (struct option){o->name, value ? required_argument : no_argument, NULL,
                                      o->letter ? o->letter : VAL_LONG_ONLY + (int)n};
        if (o->letter) {
            shortopts[len++] = o->letter;
            if (value)
                shortopts[len++] = ':';
        }
    }
    shortopts[len] = '\0';
    longopts[n++] = (struct option){"help", no_argument, NULL, 'h'};
    longopts[n] = (struct option){NULL, 0, NULL, 0};

    int status = -1;
    optind = 0; /* full reset: commands may be called more than once (tests) */
    opterr = 0;
    for (int c; status < 0 && (c = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1;) {
        const struct cli_option *o = option_for(cmd, c);
        if (o) {
            status = apply(cmd, o, optarg);
        } else if (c == 'h') {
            fputs(cmd->usage, stdout);
            if (cmd->usage_more)
                cmd->usage_more(stdout);
            status = 0;
        } else {
            status = option_error(cmd, c, argv);
        }
    }
    *first = optind;
    return status;
}

int cli_one_operand(const struct cli_command *cmd, int argc, char **argv, int first)
{
    if (argc - first == 1)
        return -1;
    if (argc - first == 0)
        return cli_fail(cmd->name, "missing %s (usage: %s)", cmd->operand, cmd->synopsis);
    return cli_fail(cmd->name, "expected one %s, got extra argument '%s'", cmd->operand,
                    argv[first + 1]);
}

int cli_parse_format(const struct cli_command *cmd, const struct cli_option *opt, char *value)
{
    struct cli_format *f = opt->to;
    int status = cli_once(cmd, "--format", &f->given, value);
    if (status >= 0)
        return status;
    if (strcmp(value, "json") != 0 && strcmp(value, "text") != 0)
        return cli_error(cmd, "--format must be text or json, got '%s'", value);
    f->json = strcmp(value, "json") == 0;
    return -1;
}

/* Splits a comma-separated list in place into `items` (grown as needed).
 * Returns -1 on an empty item ("a,,b", "a,", ""), -2 when out of memory. */
static int list_split(char *text, const char ***items, size_t *n)
{
    for (char *item = text;;) {
        char *comma = strchr(item, ',');
        if (comma)
            *comma = '\0';
        if (!*item)
            return -1;
        const char **grown = realloc(*items, (*n + 1) * sizeof *grown);
        if (!grown)
            return -2;
        *items = grown;
        (*items)[(*n)++] = item;
        if (!comma)
            return 0;
        item = comma + 1;
    }
}

int cli_parse_names(const struct cli_command *cmd, const struct cli_option *o, char *value)
{
    struct cli_list *list = o->to;
    char given[512];
    snprintf(given, sizeof given, "%s", value); /* list_split cuts value */
    int rc = list_split(value, &list->items, &list->n);
    if (rc == -1)
        return cli_error(cmd, "--%s needs a comma-separated list of names, got '%s'", o->name,
                         given);
    if (rc == -2)
        return cli_error(cmd, "%s", "out of memory");
    return -1;
}

