/* dry_run.h: what `stragsim run --dry-run` prints once every point is
 * validated: the number of points, the points (the first --show of them),
 * which are already in the database, and an estimate of memory (memory.h)
 * and time (the run loop's cost of a point, calibrated on the timed runs
 * the database holds). Nothing is run or written; the database is not even created. */
#ifndef STRAG_DRY_RUN_H
#define STRAG_DRY_RUN_H

#include <stdbool.h>
#include <stddef.h>

#include "analysis/results.h"
#include "app/config.h"

struct dry_run_points {
    const struct config *c;
    const size_t *order;   /* the selected points, in running order */
    size_t n;
    char *const *keys;     /* point key of each point of the config */
    const bool *repeated;  /* the same simulation as an earlier selected point */
    const bool *stored;    /* already in the database */
    size_t nstored;
    struct results *db;    /* NULL: the database does not exist yet */
    const char *db_path;
    bool resume;           /* run --resume: stored points are skipped */
    size_t show;           /* list at most this many points; 0: all */
    /* the run loop's own: a point's cost (jobs x iterations x workers) and
     * its label ("[3/8] scheme.k=2 repeat=1") */
    double (*cost)(const struct params *p);
    void (*label)(const struct config *c, const struct params *p, size_t i, int repeat,
                  char *buf, size_t len);
};

/* Prints the plan to stdout. */
int dry_run_print(const struct dry_run_points *pts, struct error *err);

#endif
