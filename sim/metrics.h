/* metrics.h: a named list of numbers, the shape a sweep point's aggregates
 * travel in from the workload to the results database. */
#ifndef STRAG_METRICS_H
#define STRAG_METRICS_H

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

/* Adds or replaces name = value. Returns 0, or -1 when out of memory. */
int metric_list_set(struct metric_list *m, const char *name, double value);
/* Value of name, or NAN. */
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

#endif
