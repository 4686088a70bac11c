/* cli.c: the one-line usage errors of the subcommands (see cli.h). */
#include "sim/cli.h"

#include <stdarg.h>
#include <stdio.h>

int cli_fail(const char *command, const char *fmt, ...)
{
    fprintf(stderr, "stragsim %s: ", command);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return 2;
}
