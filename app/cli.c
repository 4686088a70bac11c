/* cli.c: the one-line usage errors of the subcommands (see cli.h). */
#include "app/cli.h"

#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>

int cli_vfail(const char *command, const char *fmt, va_list ap)
{
    fprintf(stderr, "stragsim %s: ", command);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    return 2;
}

int cli_fail(const char *command, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    cli_vfail(command, fmt, ap);
    va_end(ap);
    return 2;
}

int cli_option_error(const char *command, int c, char **argv)
{
    if (c == ':')
        return cli_fail(command, "%s needs a value", argv[optind - 1]);
    return cli_fail(command, "unknown option '%s' (see stragsim %s --help)", argv[optind - 1],
                    command);
}

int cli_once(const char *command, const char *option, const char **slot, const char *value)
{
    if (*slot)
        return cli_fail(command, "%s given twice ('%s' and '%s')", option, *slot, value);
    *slot = value;
    return -1;
}
