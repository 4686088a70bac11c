/* run.h: the sweep run loop behind `stragsim run`: load the config, validate
 * every point (building its latency source, scheme and arrival process, then
 * freeing them) before the database is even opened, then run each point and
 * write it in one transaction.
 *
 * It prints progress (one line per finished point) to `progress` when that is
 * not NULL, and nothing else: errors go back through struct error.
 *
 * Under MPI (run_mpi.h) every rank calls run_experiment: rank 0 does all of
 * the above and fills the summary; the other ranks only compute the points
 * rank 0 sends them, return 0 and leave reporting to rank 0.
 */
#ifndef STRAG_RUN_H
#define STRAG_RUN_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "base/error.h"

struct run_options {
    const char *config_path;
    const char *db_path;     /* -o; NULL: experiment.db, else "results.db" */
    const char *const *sets; /* --set section.key=value, in order */
    size_t nsets;
    bool resume;             /* skip points already in the database */
    bool dry_run;            /* validate and print the plan (dry_run.h); run and write nothing */
    size_t show;             /* --dry-run: list at most this many points; 0 all */
    bool smoke;              /* --smoke: the caps of smoke.h */
    const char *points;      /* --points LIST (point_select.h); NULL: every point */
    bool reverse;            /* --reverse: the selected points last first */
    FILE *progress;          /* NULL: quiet */
    FILE *warnings;          /* one-line warnings (--quiet keeps them); NULL: none */
    double max_memory;       /* --max-memory in bytes; 0: MemAvailable (memory.h) */
    /* Set asynchronously (a signal handler) to stop after the current point. */
    volatile sig_atomic_t *stop;
};

struct run_summary {
    size_t points;   /* points of the config (those --points selects) */
    size_t skipped;  /* already in the database (--resume) */
    size_t written;  /* run and written now */
    size_t repeated; /* the same point as an earlier one of the sweep (run once) */
    bool stopped;    /* *stop was raised before every point was run */
    bool before_write; /* stopped while validating: nothing was written */
    bool dry_run;      /* the plan was printed; nothing was run or written */
    char db_path[4096];
};

int run_experiment(const struct run_options *o, struct run_summary *summary, struct error *err);

#endif
