/* error.c: formatting of the one-line error messages (see error.h). */
#include "base/error.h"

#include <stdarg.h>
#include <stdio.h>

int error_at(struct error *err, const char *file, int line, const char *fmt, ...)
{
    if (!err)
        return STRAG_EINPUT;
    size_t n = 0;
    if (file && line > 0)
        n = (size_t)snprintf(err->msg, sizeof err->msg, "%s:%d: ", file, line);
    else if (file)
        n = (size_t)snprintf(err->msg, sizeof err->msg, "%s: ", file);
    if (n >= sizeof err->msg)
        n = sizeof err->msg - 1;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg + n, sizeof err->msg - n, fmt, ap);
    va_end(ap);
    return STRAG_EINPUT;
}

int error_fail(struct error *err, const char *fmt, ...)
{
    if (!err)
        return STRAG_EFAIL;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    return STRAG_EFAIL;
}
