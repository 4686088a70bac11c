/* metrics.h: a named list of numbers, the shape a sweep point's aggregates
 * travel in from the workload to the results database. */
#ifndef STRAG_METRICS_H
#define STRAG_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A metric named METRIC_PARAM_PREFIX "section.key" is not a metric: it is a
 * value a scheme chose while running (nercc's grid-searched lambdas), which
 * the run loop stores in the run's params, and keeps under its "param:" name
 * among the metrics to mark that param as chosen, not configured. */
#define METRIC_PARAM_PREFIX "param:"

struct metric_list {
    size_t n, cap;
    char **names;
    double *values;
};

/* An undefined metric (nothing to average, fewer than two samples for a
 * standard error, a target never reached) has the value metric_undefined():
 * a quiet NaN with a payload that no arithmetic creates, stored as NULL.
 * Any other non-finite value (an overflow's inf, or the NaN of inf - inf,
 * whose payload is 0) is an error of the point: the run loop refuses to
 * write it (metric_list_check). IEEE 754 arithmetic passes a NaN's payload
 * on, so a value computed from an undefined one is undefined too. */
double metric_undefined(void);
bool metric_is_undefined(double x);
/* 0 when every value is finite or undefined; else -1 and *bad = the first
 * offending name. */
int metric_list_check(const struct metric_list *m, const char **bad);

/* Adds or replaces name = value. Returns 0, or -1 when out of memory. */
int metric_list_set(struct metric_list *m, const char *name, double value);
/* The value of name in m: false when m has no such metric (a metric stored
 * as NULL is present, with value NAN). */
bool metric_list_find(const struct metric_list *m, const char *name, double *value);
/* Value of name, or metric_undefined() when it is not there. */
double metric_list_get(const struct metric_list *m, const char *name);
void metric_list_clear(struct metric_list *m); /* frees everything, leaves it empty */

/* One row per job when a run asks for per-job rows (the jobs table). */
struct job_row {
    uint64_t job;
    double arrival, latency;
    int tasks;    /* tasks submitted for the job */
    double extra; /* workload-specific (inference: 1 if correct), NAN if none */
};

/* One row per training iteration (the iterations table). */
struct iteration_row {
    long iteration;
    double sim_time, loss, accuracy; /* accuracy NAN when not measured */
    int waited;
    double residual, grad_rel_err, staleness;
};

/* One decision of a hyperparameter tuner (the tuner table): at the end of
 * the window ending at `iteration`, `key` was set to `value`, for `reason`. */
struct tuner_row {
    long iteration;
    double sim_time, value;
    char key[24];    /* learning_rate, batch, weight_decay, dropout, staleness */
    char reason[64]; /* the rule that fired, "fixed", "random", ... */
};

#endif
