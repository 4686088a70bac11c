/* atomic_file.h: writing an output file so that it is either complete or not
 * there: the bytes go to a temporary name in the same directory (so the
 * rename cannot cross file systems), and only a write, flush and close that
 * all succeeded rename it onto the real name. A failure (disk full, no
 * permission, a killed writer) leaves the old file, if any, untouched and no
 * temporary behind.
 *
 * Two names are written in place, because a rename cannot stand for them:
 * "-" (standard output) and a path that exists and is not a regular file (a
 * device such as /dev/stdout or /dev/full, a FIFO). Their errors are still
 * caught: commit flushes and reports.
 *
 * Not here: what is written (the callers), directories, locking.
 */
#ifndef STRAG_ATOMIC_FILE_H
#define STRAG_ATOMIC_FILE_H

#include <stdbool.h>
#include <stdio.h>

#include "base/error.h"

struct atomic_sink;

struct atomic_file {
    FILE *f;      /* write here */
    char *path;   /* the name the caller asked for */
    char *tmp;    /* the temporary name beside it; NULL when written in place */
    bool to_stdout;
    struct atomic_sink *sink; /* under f: remembers why the first write failed */
};

/* Opens a temporary file beside path (mode 0666 less the umask, as fopen
 * would create it). Error (STRAG_EINPUT): "PATH: cannot write: REASON". */
int atomic_file_open(struct atomic_file *af, const char *path, struct error *err);

/* Flushes and closes the file, then renames it onto its name. Any write that
 * failed since open, or the flush, close or rename failing, is STRAG_EINPUT
 * "PATH: cannot write: REASON" and the temporary is removed. Standard output
 * is left to atomic_stdout_check (a flush here would lose the reason). The
 * atomic_file is finished either way. */
int atomic_file_commit(struct atomic_file *af, struct error *err);

/* The descriptor under af->f, for a child process to write through (the
 * caller writes nothing to af->f meanwhile). */
int atomic_file_fd(const struct atomic_file *af);

/* Gives up: closes and removes the temporary. Safe on a finished or zeroed
 * atomic_file. */
void atomic_file_abort(struct atomic_file *af);

/* Standard output at the end of a command: flushes it and returns an error
 * line when any write to it failed (a full disk, a closed pipe), so a
 * command whose output was lost does not exit 0. Returns 0 or STRAG_EINPUT
 * with "stragsim COMMAND: cannot write standard output: REASON". */
int atomic_stdout_check(const char *command, struct error *err);

#endif
