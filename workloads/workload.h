/* workload.h: running one sweep point of a workload; returns its metrics and
 * (on request) its per-job rows. No SQLite here: the run loop stores them.
 *
 * A workload is one `const struct workload_ops` in its own file under
 * workloads/, listed once in workloads/registry.c; the driver finds it by
 * the workload.kind string and never names a concrete workload.
 *
 * `latency`: jobs arrive (poisson / closed / replay), the scheme plans tasks
 * on the cluster, durations come from the latency source; the result is the
 * job latency distribution (metrics jobs, latency_mean, latency_p50,
 * latency_p99, latency_p999, latency_se, worker_seconds, events, plus the
 * scheme's extras). The first workload.warmup jobs are simulated but not
 * counted. Same (params, seed, point_key): same numbers.
 */
#ifndef STRAG_WORKLOAD_H
#define STRAG_WORKLOAD_H

#include <stdint.h>

#include "base/error.h"
#include "base/metrics.h"
#include "base/params.h"

struct workload_output {
    struct metric_list metrics;
    struct job_row *jobs; /* filled when workload.job_rows is true */
    size_t njobs;
    struct iteration_row *iterations; /* training workloads */
    size_t niterations;
    struct tuner_row *tuner; /* training with a tuner: its decisions */
    size_t ntuner;
};

/* A workload.kind, as the driver sees it. */
struct workload_ops {
    const char *name;    /* the workload.kind value */
    const char *summary; /* one line, the heading of its keys in `config --list` */
    unsigned scheme_bit; /* the enum scheme_workload bit of the schemes that serve it */
    const struct config_key *keys; /* workload.* keys only it reads; NULL or NULL-name-terminated */
    /* Bits (enum scheme_workload) of the workloads that read `keys` besides
     * it (the pipeline reads the training workload's data and evaluation
     * keys); 0: none. */
    unsigned keys_shared;
    /* Runs one point: its metrics (and rows) into out. */
    int (*run)(const struct params *p, uint64_t seed, uint64_t point_key,
               struct workload_output *out, struct error *err);
    /* Builds and frees what a run would build before its simulation, beyond
     * the latency source, scheme and arrivals the run loop checks (files
     * opened and read: weights, data), so that every error a run could meet
     * there comes before anything is written. NULL: nothing more. */
    int (*check)(const struct params *p, uint64_t seed, uint64_t point_key, struct error *err);
};

/* The workloads (enum scheme_workload bits) that read w's keys table. */
static inline unsigned workload_keys_scope(const struct workload_ops *w)
{
    return w->scheme_bit | w->keys_shared;
}

/* The registry, NULL-terminated, and lookup by name (NULL: unknown). */
extern const struct workload_ops *const workload_registry[];
const struct workload_ops *workload_find(const char *name);
/* The workload.kind choices: every registered name, joined by '|'. Written
 * once, before main (so that a key table can point at it); read-only after. */
extern char workload_kind_choices[];

void workload_output_free(struct workload_output *out);

int workload_latency_run(const struct params *p, uint64_t seed, uint64_t point_key,
                         struct workload_output *out, struct error *err);

/* The latency workload's job loop with hooks, for workloads that attach
 * computation to the timing (inference). The caller creates the scheme
 * (ops, scheme; it is not freed here) and has checked that it serves its
 * workload. `result` sees every result that reaches the master before the
 * scheme does; `done` sees every finished job (warmup included) before the
 * cluster closes it. Metrics and job rows are those of the latency workload. */
struct scheme_ops;
struct cluster;
struct cluster_result;
struct job_loop_hooks {
    void *ctx;
    const struct scheme_ops *ops;
    void *scheme;
    void (*result)(void *ctx, struct cluster *cl, const struct cluster_result *r);
    void (*done)(void *ctx, struct cluster *cl, uint32_t job, uint64_t index, double latency);
    const double *cost_scale; /* NULL, or every task's cost is multiplied by *cost_scale */
};
int workload_job_loop_run(const struct params *p, uint64_t seed, uint64_t point_key,
                          const struct job_loop_hooks *hooks, struct workload_output *out,
                          struct error *err);

/* `inference`: jobs of K test queries through an inference scheme (coded or
 * exact); the latency metrics above plus accuracy, agreement, rmse,
 * base_accuracy (see inference.c); its check builds the model and weights,
 * the test data and the scheme prepared for inference. */
int workload_inference_run(const struct params *p, uint64_t seed, uint64_t point_key,
                           struct workload_output *out, struct error *err);
/* Threads the inference workload spreads its forward passes over (default
 * 1; `stragsim run --threads`). Speed only: the numbers are the same bits
 * on any count. A process-wide setting, like OpenBLAS's thread count. */
void workload_set_threads(int threads);

/* `training`: iterations of distributed gradient descent through a
 * gradient-coding scheme or the parameter server (see training.c, ssp.c): the latency metrics of
 * the iterations plus iterations, iteration_time_mean, iteration_time_se,
 * final_loss, final_accuracy, time_to_target, grad_rel_err_max and the
 * partition-use metrics, and one iteration_row per iteration; its check
 * builds the data, partitions, scheme, model and buffers. */
int workload_training_run(const struct params *p, uint64_t seed, uint64_t point_key,
                          struct workload_output *out, struct error *err);

#endif
