/* point_select.h: which points of a sweep `stragsim run` runs, and in what
 * order (--points LIST, --reverse). Selecting or reordering points changes
 * nothing about a point: its number, key and results are those of the whole
 * run. Does not know what a point is beyond its number.
 */
#ifndef STRAG_POINT_SELECT_H
#define STRAG_POINT_SELECT_H

#include <stdbool.h>
#include <stddef.h>

#include "base/error.h"

/* The 0-based indices of the points to run, in running order, into *order
 * (caller frees) and their count into *n. `list` (NULL: every point, in
 * config order) holds 1-based point numbers and ranges as the progress
 * lines number them, "3", "1,4", "2-5,8", run in the order listed; `reverse`
 * runs the result last first. Errors (STRAG_EINPUT, "stragsim run:
 * --points: ..."): a malformed item, a point beyond `points`, a point
 * listed twice. */
int point_select(const char *list, bool reverse, size_t points, size_t **order, size_t *n,
                 struct error *err);

#endif
