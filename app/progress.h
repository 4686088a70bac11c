/* progress.h: the progress line `run` and `train` draw on stderr while a
 * sweep runs: points done / total, the point running now, elapsed time and
 * an ETA, redrawn in place ("\r", erase to end of line).
 *
 * Shown only on a terminal and never with --quiet (PROGRESS_AUTO); when off
 * every call is a no-op, so callers never test whether it is shown. Points
 * skipped by --resume count as done but not in the ETA's rate. Calls may
 * come from several worker threads (a mutex serialises them). Redraws are
 * limited to ten a second so a sweep of tiny points is not slowed down.
 */
#ifndef STRAG_PROGRESS_H
#define STRAG_PROGRESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

enum progress_mode {
    PROGRESS_AUTO, /* on when `out` is a terminal */
    PROGRESS_OFF,  /* --quiet */
    PROGRESS_ON,   /* always (tests) */
};

struct progress;

/* NULL only when out of memory (callers may pass NULL to every call). */
struct progress *progress_new(FILE *out, size_t total, enum progress_mode mode);

/* The point now running (a short label such as "3/12 scheme.k=4 repeat 1"). */
void progress_begin(struct progress *p, const char *label);
/* Prints `line` as a line of its own above the bar (a finished epoch's
 * loss, say) and redraws the bar; false (nothing printed) when the bar is
 * off, so the caller prints the line itself. */
bool progress_note(struct progress *p, const char *line);
/* One point finished (counts toward the ETA's rate). */
void progress_done(struct progress *p);
/* One point skipped (already in the database). */
void progress_skip(struct progress *p);
/* Draws the final state and ends the line. */
void progress_finish(struct progress *p);
void progress_free(struct progress *p);

#endif
