/* trace_stats.h: what is in a (worker, iteration, duration) trace before it
 * is replayed: size, quantiles overall and per worker, how far each
 * iteration's slowest worker is from its median, how persistent stragglers
 * are (lag-1 Spearman rank correlation between consecutive iterations), and
 * a two-state (active/slow) Markov model fitted to it, printable as a ready
 * `[latency]` section of kind markov.
 *
 * Loading goes through trace_csv (columns by header name or 1-based number,
 * --where filters); the statistics work on three numeric columns. Iterations
 * are the distinct iteration values in increasing order, as replay.c numbers
 * them, so "consecutive" means adjacent in that order (the Alibaba traces
 * sample every 10th iteration: their lag 1 is 10 training iterations).
 *
 * Not here: the distribution fits themselves (trace_fit), drawing synthetic
 * traces (latency sources), printing errors (main).
 */
#ifndef STRAG_TRACE_STATS_H
#define STRAG_TRACE_STATS_H

#include <stddef.h>
#include <stdio.h>

#include "base/error.h"
#include "traces/trace_fit.h"

/* Which columns to read and which rows to keep. A NULL column spec takes the
 * first header name present among the defaults: worker: "worker";
 * iteration: "iteration", "time"; value: "duration", "batch_time_norm" (the
 * format `trace gen` writes and the Alibaba PAI format); for the value, a
 * one-column file's only column. */
struct trace_select {
    const char *worker, *iteration, *value;
    const char *const *where; /* "COL=VALUE": keep rows whose COL equals VALUE */
    size_t nwhere;
};

enum trace_need {
    TRACE_NEED_VALUE = 1,
    TRACE_NEED_KEYS = 2, /* worker and iteration columns too */
};

/* A trace's columns as numbers, one entry per kept row. */
struct trace_data {
    char *path;
    size_t n;
    double *worker, *iteration, *value; /* [n]; worker, iteration NULL without KEYS */
    int *lines;                         /* [n] source line of each row */
};

/* Reads `path` and the columns `need` asks for. Worker ids must be
 * non-negative integers, values non-negative. Errors are the reader's
 * "file:line: ..." lines; a --where that keeps no row is "file: no rows
 * with COL=VALUE". */
int trace_data_load(const char *path, const struct trace_select *sel, unsigned need,
                    struct trace_data **out, struct error *err);
void trace_data_free(struct trace_data *d);

/* Spearman rank correlation of a[n] and b[n] (ties get average ranks), or
 * NAN when n < 2 or either side has no spread. */
double trace_spearman(const double *a, const double *b, size_t n);

struct trace_worker_stats {
    double id;
    size_t n;
    double mean, median, p99;
};

/* The two-state model: a worker-iteration is slow when its duration exceeds
 * threshold times that iteration's median. Transition probabilities count
 * pairs of consecutive iterations in which the worker is present in both. */
struct trace_markov {
    double threshold;
    size_t n_active, n_slow;            /* worker-iterations per state */
    size_t transitions[2][2];           /* [from][to], 0 = active, 1 = slow */
    double p_active_to_slow, p_slow_to_active; /* NAN when the from-state never occurs */
    double active_mean, slow_mean;      /* NAN for an empty state */
    /* Each state's durations fitted by the requested kind. A state with too
     * few distinct values for that kind falls back to exp (rate 1/mean);
     * an empty slow state copies the active fit (and p_active_to_slow = 0). */
    struct trace_fit fit[2];
    const char *fit_note[2]; /* NULL, or why the fallback was taken */
};

struct trace_stats {
    size_t rows, workers, iterations;
    size_t duplicates; /* repeated (worker, iteration) rows with the same value, skipped */
    double mean, median, p99; /* over all rows */
    struct trace_worker_stats *worker; /* [workers] in increasing id order */
    /* max/median over the workers present in each iteration, summarised */
    double ratio_mean, ratio_median, ratio_p99, ratio_max;
    double persistence;      /* mean lag-1 Spearman over usable pairs; NAN if none */
    size_t persistence_pairs; /* consecutive pairs with >= 3 common workers and spread */
    struct trace_markov markov;
};

/* Computes everything above; each Markov state's durations are fitted by
 * `state_kind` (one of trace_fit_kinds, or "auto": the kind with the
 * smallest KS distance). Two rows for one (worker, iteration) with
 * different values are an error naming both lines. threshold > 0. */
int trace_stats_compute(const struct trace_data *d, double threshold, const char *state_kind,
                        struct trace_stats **out, struct error *err);
void trace_stats_free(struct trace_stats *s);

/* Writes the statistics as key=value lines (rows=, workers=, iterations=,
 * mean=, ..., worker.<id>.mean=, ..., persistence=, markov.* with
 * markov.transitions=aa,as,sa,ss counts) and then the Markov model as a
 * `[latency]` section of kind markov. */
void trace_stats_write(FILE *f, const struct trace_stats *s);

#endif
