/* export.h: a results database's tables as CSV (RFC 4180) for other tools.
 *
 * Each row starts with the run it belongs to: run_id, point_key, repeat and
 * the params that vary across the database's runs (the sweep axes), so a
 * file is self-contained for a group-by in pandas or R. Then:
 *   jobs        job, arrival, latency, tasks, extra         (one row per job)
 *   iterations  iteration, sim_time, loss, accuracy, waited, residual,
 *               grad_rel_err, staleness                     (one row per iteration)
 *   metrics     one column per metric name                  (one row per run)
 * NULL and NaN are empty cells; numbers are written so they read back exactly.
 * Not here: which tables exist (results.c), the report table (report.c).
 */
#ifndef STRAG_EXPORT_H
#define STRAG_EXPORT_H

#include <stdio.h>

#include "analysis/results.h"

/* The table names export_csv accepts: "jobs|iterations|tuner|metrics". */
extern const char export_tables[];

/* A number that reads back to the same double: %.15g when that suffices
 * (it usually does, and reads better), else %.17g; NaN writes nothing (an
 * empty cell). Also plot.c's data files. */
void export_number(FILE *out, double x);

/* Writes `table` of r to out. Errors: unknown table (STRAG_EINPUT
 * "stragsim export: unknown table 'x' (expected jobs|iterations|tuner|metrics)"),
 * a table with no rows ("DB: no jobs rows ..."), SQLite failures. Write
 * errors are left flagged on out (it stops writing at the first): the
 * caller's flush and close report them (base/atomic_file.c). */
int export_csv(struct results *r, const char *table, FILE *out, struct error *err);

#endif
