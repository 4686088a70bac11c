/* arrivals.h: when jobs arrive.
 *
 *   poisson  open loop: exponential gaps of mean 1/workload.rate, drawn from
 *            the RNG_ARRIVALS stream of the point.
 *   closed   the next job starts when the previous one is done and every
 *            worker is idle (with cluster.cancel each job then sees the
 *            single-job model of doc/theory.md §1); this module only says
 *            so: the workload watches the cluster and starts it.
 *   replay   absolute arrival times read from workload.arrival_file, a CSV
 *            (or one-column) file, read with trace_csv's field rules (quotes,
 *            a byte-order mark); workload.arrival_column picks the column
 *            by header name or 1-based number (default: the first). Times
 *            must be finite, >= 0 and non-decreasing. A file with fewer rows
 *            than jobs ends the run early: the workload counts what arrived.
 *
 * This module does not schedule events: the workload asks for the next time.
 */
#ifndef STRAG_ARRIVALS_H
#define STRAG_ARRIVALS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"
#include "base/params.h"

enum arrival_kind { ARRIVAL_POISSON, ARRIVAL_CLOSED, ARRIVAL_REPLAY };

struct arrivals;

/* Builds the process named by workload.arrival from validated params
 * (arrival_file resolved by params_path). Errors in the replay file read
 * "file:line: ...". */
int arrivals_new(const struct params *p, uint64_t seed, uint64_t point_key,
                 struct arrivals **out, struct error *err);
void arrivals_free(struct arrivals *a);

enum arrival_kind arrivals_kind(const struct arrivals *a);

/* Time of the next arrival given the previous one at `prev` (0 for the
 * first job): poisson and replay only. Returns false when the process has
 * no more arrivals (replay file exhausted). */
bool arrivals_next(struct arrivals *a, double prev, double *t);

/* Replay: how many arrival times the file holds (0 for other kinds). */
size_t arrivals_count(const struct arrivals *a);

#endif
