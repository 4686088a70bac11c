/* error.h: the one error type every layer fills and only main prints.
 *
 * A failing function returns a nonzero status (STRAG_EINPUT for bad user
 * input: ini, CSV, IDX, weights, database path; STRAG_EFAIL for anything
 * else) and writes one complete line into err->msg, already in the user-facing
 * form "file:line: what is wrong" (or "file: what is wrong" when there is no
 * line). main prints err->msg and exits 2 for STRAG_EINPUT.
 */
#ifndef STRAG_ERROR_H
#define STRAG_ERROR_H

#include <stddef.h>

enum { STRAG_OK = 0, STRAG_EINPUT = 2, STRAG_EFAIL = 3 };

struct error {
    char msg[1024];
};

/* Formats "file:line: message" (line <= 0 gives "file: message"; file NULL
 * gives just "message"). Returns STRAG_EINPUT so callers can `return error_at(...)`. */
int error_at(struct error *err, const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Same shape, returns STRAG_EFAIL: for internal failures (out of memory, SQLite). */
int error_fail(struct error *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
