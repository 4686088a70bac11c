/* advise.h: `stragsim advise`: which scheme (and which of its parameters) to
 * run, for the workers, workload, model, load and cluster of a config.
 *
 * Three rooms: advise_spec.c reads the [advise] section (objective,
 * constraints, schemes, budget) and expands every scheme's search grid
 * (scheme.h, struct scheme_search_axis) into candidates; advise_search.c
 * runs the successive-halving rounds through the sweep run loop (run.h), so
 * every evaluated point is an ordinary, resumable point of the results
 * database; cmd_advise.c prints the Pareto front and the recommendation and
 * writes the ready-to-run ini.
 *
 * A candidate is evaluated in batches: batch b is repeat b of its point
 * (experiment.repeats = batches), workload.jobs jobs with their own streams.
 * With experiment.common_streams (the default) batch b of every candidate
 * meets the same arrivals, worker slowdowns and queries, so two candidates
 * are compared by the paired differences of their batch metrics.
 */
#ifndef STRAG_ADVISE_H
#define STRAG_ADVISE_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "base/error.h"
#include "base/params.h"

struct config;

/* The [advise] keys (listed by config --list; they never apply to a point,
 * so they change no point key). */
extern const struct config_key advise_keys[];

enum { ADVISE_CONSTRAINTS_MAX = 8, ADVISE_METRICS_MAX = 12, ADVISE_SCHEMES_MAX = 64 };

/* "accuracy >= 0.88": metric, direction and bound. */
struct advise_constraint {
    char metric[32];
    bool at_least; /* >= (else <=) */
    double bound;
};

struct advise_spec {
    char objective[32]; /* a metric, minimised */
    struct advise_constraint constraints[ADVISE_CONSTRAINTS_MAX];
    size_t nconstraints;
    const char *schemes[ADVISE_SCHEMES_MAX]; /* scheme names, registry order unless listed */
    size_t nschemes;
    double budget;       /* seconds of computing this invocation may spend */
    long first_batches;  /* batches of every candidate in the first round */
    long max_batches;    /* no candidate gets more */
    /* The metrics tracked per batch: [0] the objective, then worker_seconds,
     * accuracy where the workload has it, then the constraints' metrics. */
    const char *metrics[ADVISE_METRICS_MAX];
    size_t nmetrics;
    size_t worker_seconds_at, accuracy_at; /* indices into metrics; SIZE_MAX: none */
    long jobs;         /* jobs of one batch: workload.jobs (training: workload.iterations) */
    const char *unit;  /* what jobs counts: "jobs" or "iterations" */
};

/* Reads and checks config c's [advise] section into s. Errors are one line
 * "file:line: advise.KEY: ..." (STRAG_EINPUT). */
int advise_spec_load(const struct config *c, struct advise_spec *s, struct error *err);

/* One candidate: a scheme and values for its grid keys (and, when the
 * config sweeps, one point of that sweep). */
struct advise_candidate {
    char label[256];  /* "kofn scheme.k=5" */
    char **sets;      /* the --set lines that make it */
    size_t nsets;
    /* search state (advise_search.c) */
    bool invalid;          /* refused by its scheme or the workload: never run */
    char why[512];         /* invalid: the error; dropped: the reason */
    int dropped_round;     /* -1: still in */
    size_t batches;        /* batches read so far */
    double *values[ADVISE_METRICS_MAX]; /* values[m][b]: metric m of batch b */
};

/* Every candidate of the spec's schemes: each scheme's grid (its search
 * axes' cartesian product) crossed with the config's sweep points. */
int advise_candidates(const struct config *c, const struct advise_spec *s,
                      struct advise_candidate **out, size_t *n, struct error *err);
void advise_candidates_free(struct advise_candidate *cands, size_t n);

/* The 95% interval of metric m of a candidate over its first `batches`
 * batches (aggregate_ci), and of the paired difference a - b. */
struct ci;
void advise_metric_ci(const struct advise_candidate *a, size_t m, size_t batches, struct ci *out);
void advise_diff_ci(const struct advise_candidate *a, const struct advise_candidate *b, size_t m,
                    size_t batches, struct ci *out);

/* How the search went. */
struct advise_outcome {
    ptrdiff_t best, runner_up; /* candidate indices; -1: none */
    bool separated;            /* the leader's interval beat every other survivor's */
    bool budget_spent, max_batches_reached, stopped;
    bool no_objective; /* not even the leader has the objective in every batch */
    int rounds;
    size_t batches_run;        /* batches evaluated (each once, reused ones included) */
    size_t exhaustive_batches; /* valid candidates x the best's batches */
    char db_path[4096];
};

struct advise_search_options {
    const char *config_path;
    const char *db_path; /* NULL: experiment.db, else results.db (as run) */
    FILE *explain;       /* the rounds, or NULL */
    volatile sig_atomic_t *stop; /* raised by a signal: stop between points */
};

/* Runs the rounds over cands. Returns STRAG_EINPUT for bad input, other
 * nonzero for failures; the outcome says what was found. */
int advise_search(const struct advise_search_options *o, const struct advise_spec *s,
                  struct advise_candidate *cands, size_t n, struct advise_outcome *out,
                  struct error *err);

/* Whether candidate a meets every constraint by its means over `batches`,
 * and whether its 95% intervals confirm it (sure) or refute it (fails). */
struct advise_feasibility {
    bool by_means, sure, fails;
    size_t binding; /* the constraint with the least margin (in its interval widths) */
};
void advise_feasibility(const struct advise_spec *s, const struct advise_candidate *a,
                        size_t batches, struct advise_feasibility *f);

#endif
